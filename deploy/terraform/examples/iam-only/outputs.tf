output "role_arn" {
  description = "Put this into the eks.amazonaws.com/role-arn annotation of ServiceAccount kube-system/ecr-renew-sa."
  value       = module.ecr_renew_iam.role_arn
}

output "role_name" {
  description = "Name of the role."
  value       = module.ecr_renew_iam.role_name
}

output "policy_json" {
  description = "The role's inline permissions policy."
  value       = module.ecr_renew_iam.policy_json
}

output "trust_policy_json" {
  description = "The role's trust policy."
  value       = module.ecr_renew_iam.trust_policy_json
}
