output "namespaces" {
  description = "Namespaces the pull Secret is written to."
  value       = local.namespaces
}

output "secret_name" {
  description = "Name of the pull Secret (use it in imagePullSecrets)."
  value       = var.ecr_secret_name
}

output "service_account" {
  description = "Namespace and name of the ServiceAccount the job runs as."
  value = {
    namespace = kubernetes_service_account_v1.this.metadata[0].namespace
    name      = kubernetes_service_account_v1.this.metadata[0].name
  }
}

output "cronjob_name" {
  description = "Name of the renewal CronJob in kube-system."
  value       = kubernetes_cron_job_v1.renewal.metadata[0].name
}

output "initial_job_name" {
  description = "Name of the one-off Job that wrote the first Secret, or null when create_initial_secret is false."
  value       = try(kubernetes_job_v1.initial[0].metadata[0].name, null)
}

output "image" {
  description = "Container image the jobs run."
  value       = local.image
}
