# Only the AWS side: the IRSA role for ecr-renew. Use it when the Kubernetes
# objects come from the manifests in deploy/kubernetes (kustomize, Argo CD,
# Flux...) rather than from Terraform: put the role_arn output into the
# eks.amazonaws.com/role-arn annotation of the overlay.

provider "aws" {
  region = var.aws_region
}

module "ecr_renew_iam" {
  source = "../../modules/iam"

  cluster_name        = var.cluster_name
  oidc_provider       = var.oidc_provider
  ecr_repository_arns = var.ecr_repository_arns
  tags                = var.tags
}
