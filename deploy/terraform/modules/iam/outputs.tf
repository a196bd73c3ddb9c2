output "role_arn" {
  description = "ARN of the role; the value of the ServiceAccount annotation eks.amazonaws.com/role-arn. Known only once the permissions policy is attached, so a job that depends on it does not start without them."
  value       = aws_iam_role.this.arn

  depends_on = [aws_iam_role_policy.this]
}

output "role_name" {
  description = "Name of the role (eks-ecr-token-renew-<cluster_name>)."
  value       = aws_iam_role.this.name
}

output "policy_name" {
  description = "Name of the role's inline permissions policy."
  value       = aws_iam_role_policy.this.name
}

output "policy_json" {
  description = "The inline permissions policy as attached to the role."
  value       = data.aws_iam_policy_document.permissions.json
}

output "trust_policy_json" {
  description = "The role's trust policy."
  value       = data.aws_iam_policy_document.trust.json
}

output "oidc_provider_arn" {
  description = "ARN of the IAM OIDC provider the trust policy names."
  value       = local.oidc_provider_arn
}

output "service_account" {
  description = "The only Kubernetes ServiceAccount that may assume the role."
  value = {
    namespace = local.service_account_namespace
    name      = local.service_account_name
    subject   = local.service_account_subject
  }
}

output "account_id" {
  description = "AWS account id the role lives in (the default registry of the job)."
  value       = data.aws_caller_identity.current.account_id
}

output "partition" {
  description = "AWS partition (aws, aws-cn, aws-us-gov) the role lives in."
  value       = data.aws_partition.current.partition
}
