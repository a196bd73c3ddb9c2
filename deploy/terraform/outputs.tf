output "iam_role_arn" {
  description = "ARN of the IRSA role of ecr-renew (null when ecr_secret_enabled is false)."
  value       = one(module.iam[*].role_arn)
}

output "iam_role_name" {
  description = "Name of the IRSA role (eks-ecr-token-renew-<cluster_name>)."
  value       = one(module.iam[*].role_name)
}

output "iam_policy_json" {
  description = "The role's inline permissions policy (ecr-token-renew-policy)."
  value       = one(module.iam[*].policy_json)
}

output "service_account" {
  description = "Namespace and name of the ServiceAccount ecr-renew runs as."
  value       = one(module.kubernetes[*].service_account)
}

output "secret_name" {
  description = "Name of the pull Secret to reference in imagePullSecrets."
  value       = try(module.kubernetes[0].secret_name, null)
}

output "secret_namespaces" {
  description = "Namespaces the pull Secret is kept in."
  value       = try(module.kubernetes[0].namespaces, [])
}

output "cronjob_name" {
  description = "Name of the renewal CronJob in kube-system (null in mode controller)."
  value       = one(module.kubernetes[*].cronjob_name)
}

output "initial_job_name" {
  description = "Name of the one-off Job that wrote the first Secret (null if none)."
  value       = try(module.kubernetes[0].initial_job_name, null)
}

output "deployment_name" {
  description = "Name of the controller's Deployment in kube-system (null in mode cronjob)."
  value       = one(module.kubernetes[*].deployment_name)
}

output "metrics_service" {
  description = "Namespace, name and port of the controller's metrics Service (null in mode cronjob)."
  value       = try(module.kubernetes[0].metrics_service, null)
}
