variable "aws_region" {
  description = "Region of the EKS cluster."
  type        = string
  default     = "us-east-1"
}

variable "cluster_name" {
  description = "Name of an existing EKS cluster with an IAM OIDC provider."
  type        = string
  default     = "example"
}

variable "ecr_repository_arns" {
  description = "Repositories the pods of the target namespaces pull from."
  type        = list(string)
  default     = ["arn:aws:ecr:us-east-1:123456789012:repository/*"]
}

variable "image_repository" {
  description = "Where the ecr-renew image was pushed."
  type        = string
  default     = "123456789012.dkr.ecr.us-east-1.amazonaws.com/ecr-renew"
}

variable "image_tag" {
  description = "Tag of the ecr-renew image (one with the run command)."
  type        = string
  default     = "0.1.0"
}
