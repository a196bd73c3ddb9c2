# IAM role for the ecr-renew job, assumed through IRSA (IAM Roles for
# Service Accounts) by exactly one Kubernetes ServiceAccount.

data "aws_partition" "current" {}

data "aws_caller_identity" "current" {}

locals {
  # The issuer without scheme or trailing slash: the form IAM uses both in
  # the OIDC provider ARN and in the condition keys of the trust policy.
  issuer = trimsuffix(replace(var.oidc_provider, "https://", ""), "/")

  oidc_provider_arn = "arn:${data.aws_partition.current.partition}:iam::${data.aws_caller_identity.current.account_id}:oidc-provider/${local.issuer}"

  service_account_namespace = "kube-system"
  service_account_name      = "ecr-renew-sa"
  service_account_subject   = "system:serviceaccount:${local.service_account_namespace}:${local.service_account_name}"

  role_name = "eks-ecr-token-renew-${var.cluster_name}"

  # The actions the kubelet's pull needs, once it presents the token this
  # role obtained. DescribeRepositories and ListImages (granted by the old
  # module) are not needed to pull and are left out.
  pull_actions = [
    "ecr:BatchCheckLayerAvailability",
    "ecr:BatchGetImage",
    "ecr:GetDownloadUrlForLayer",
  ]
}

data "aws_iam_policy_document" "trust" {
  statement {
    sid     = "EcrRenewServiceAccount"
    effect  = "Allow"
    actions = ["sts:AssumeRoleWithWebIdentity"]

    principals {
      type        = "Federated"
      identifiers = [local.oidc_provider_arn]
    }

    condition {
      test     = "StringEquals"
      variable = "${local.issuer}:sub"
      values   = [local.service_account_subject]
    }

    condition {
      test     = "StringEquals"
      variable = "${local.issuer}:aud"
      values   = [var.oidc_audience]
    }
  }
}

data "aws_iam_policy_document" "permissions" {
  # GetAuthorizationToken cannot be scoped to repositories: IAM only
  # matches it on Resource "*".
  statement {
    sid       = "GetAuthorizationToken"
    effect    = "Allow"
    actions   = ["ecr:GetAuthorizationToken"]
    resources = ["*"]
  }

  # A statement with an empty Resource list is rejected by IAM, so the pull
  # statement only exists when there is something to grant.
  dynamic "statement" {
    for_each = length(var.ecr_repository_arns) > 0 ? [var.ecr_repository_arns] : []

    content {
      sid       = "PullListedRepositories"
      effect    = "Allow"
      actions   = local.pull_actions
      resources = statement.value
    }
  }
}

resource "aws_iam_role" "this" {
  name                 = local.role_name
  description          = "ecr-renew: renews the ECR pull Secret of EKS cluster ${var.cluster_name} (IRSA, ${local.service_account_subject})"
  assume_role_policy   = data.aws_iam_policy_document.trust.json
  permissions_boundary = var.iam_role_permissions_boundary

  tags = merge({ Name = local.role_name }, var.tags)
}

resource "aws_iam_role_policy" "this" {
  name   = "ecr-token-renew-policy"
  role   = aws_iam_role.this.id
  policy = data.aws_iam_policy_document.permissions.json
}
