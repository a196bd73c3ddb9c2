variable "aws_region" {
  description = "Region of the EKS cluster."
  type        = string
  default     = "us-east-1"
}

variable "cluster_name" {
  description = "Name of the EKS cluster."
  type        = string
  default     = "example"
}

variable "oidc_provider" {
  description = "OIDC issuer URL of the cluster."
  type        = string
  default     = "https://oidc.eks.us-east-1.amazonaws.com/id/EXAMPLED539D4633E53DE1B71EXAMPLE"
}

variable "ecr_repository_arns" {
  description = "Repositories the pull Secret may pull from."
  type        = list(string)
  default     = []
}

variable "tags" {
  description = "Tags for the role."
  type        = map(string)
  default     = {}
}
