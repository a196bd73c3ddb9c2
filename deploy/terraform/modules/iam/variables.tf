variable "cluster_name" {
  description = "Name of the EKS cluster. The role is called eks-ecr-token-renew-<cluster_name>, so at most 44 characters (IAM role names stop at 64)."
  type        = string

  validation {
    condition     = can(regex("^[0-9A-Za-z][0-9A-Za-z_-]*$", var.cluster_name)) && length(var.cluster_name) <= 44
    error_message = "cluster_name must start with a letter or digit, contain only letters, digits, '-' and '_', and be at most 44 characters long (the role name eks-ecr-token-renew-<cluster_name> must fit IAM's 64)."
  }
}

variable "oidc_provider" {
  description = "OIDC issuer URL of the cluster (aws eks describe-cluster ... identity.oidc.issuer), with or without https://. The IAM OIDC provider for it must already exist in this account."
  type        = string

  validation {
    condition     = can(regex("^(https://)?[A-Za-z0-9][A-Za-z0-9.-]*(:[0-9]+)?(/[A-Za-z0-9._~%-]+)*/?$", var.oidc_provider))
    error_message = "oidc_provider must be an issuer URL such as https://oidc.eks.us-east-1.amazonaws.com/id/EXAMPLED539D4633E53DE1B71EXAMPLE (the https:// prefix is optional)."
  }
}

variable "oidc_audience" {
  description = "Audience (aud claim) of the projected service-account token that the trust policy requires. The EKS Pod Identity Webhook uses sts.amazonaws.com."
  type        = string
  default     = "sts.amazonaws.com"

  validation {
    condition     = length(trimspace(var.oidc_audience)) > 0
    error_message = "oidc_audience must not be empty."
  }
}

variable "ecr_repository_arns" {
  description = "ECR repository ARNs the pull Secret may pull from: the role gets ecr:BatchGetImage, ecr:GetDownloadUrlForLayer and ecr:BatchCheckLayerAvailability on exactly these. Wildcards are allowed (arn:aws:ecr:us-east-1:123456789012:repository/*). Empty: no pull permission from this policy (repository policies may still grant it)."
  type        = list(string)
  default     = []

  validation {
    condition = alltrue([
      for arn in var.ecr_repository_arns :
      can(regex("^arn:aws(-cn|-us-gov|-iso|-iso-[a-z]|-eusc)?:ecr:([a-z0-9-]+|\\*):([0-9]{12}|\\*):repository/[^[:space:]]+$", arn))
    ])
    error_message = "Each ecr_repository_arns entry must be an ECR repository ARN: arn:<partition>:ecr:<region>:<12-digit account>:repository/<name> (region, account and name may use *)."
  }
}

variable "iam_role_permissions_boundary" {
  description = "ARN of a managed policy to set as the role's permissions boundary, or null for none."
  type        = string
  default     = null

  validation {
    condition     = var.iam_role_permissions_boundary == null || can(regex("^arn:aws[a-z-]*:iam::([0-9]{12}|aws):policy/.+$", var.iam_role_permissions_boundary))
    error_message = "iam_role_permissions_boundary must be null or an IAM policy ARN (arn:<partition>:iam::<account>:policy/<name>)."
  }
}

variable "tags" {
  description = "Tags for the IAM role. Name is added unless given here."
  type        = map(string)
  default     = {}
}
