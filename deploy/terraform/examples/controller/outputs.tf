output "iam_role_arn" {
  description = "ARN of the controller's IRSA role."
  value       = module.ecr_renew.iam_role_arn
}

output "controller" {
  description = "The controller's Deployment and metrics Service."
  value = {
    deployment      = module.ecr_renew.deployment_name
    metrics_service = module.ecr_renew.metrics_service
  }
}
