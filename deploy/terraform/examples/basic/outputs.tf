output "iam_role_arn" {
  description = "ARN of the job's IRSA role."
  value       = module.ecr_renew.iam_role_arn
}

output "secret" {
  description = "Where the pull Secret is kept."
  value = {
    name       = module.ecr_renew.secret_name
    namespaces = module.ecr_renew.secret_namespaces
  }
}
