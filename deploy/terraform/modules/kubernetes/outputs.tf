output "namespaces" {
  description = "Namespaces the pull Secret is written to."
  value       = local.namespaces
}

output "secret_name" {
  description = "Name of the pull Secret (use it in imagePullSecrets)."
  value       = var.ecr_secret_name
}

output "service_account" {
  description = "Namespace and name of the ServiceAccount ecr-renew runs as."
  value = {
    namespace = kubernetes_service_account_v1.this.metadata[0].namespace
    name      = kubernetes_service_account_v1.this.metadata[0].name
  }
}

output "cronjob_name" {
  description = "Name of the renewal CronJob in kube-system, or null in mode controller."
  value       = try(kubernetes_cron_job_v1.renewal[0].metadata[0].name, null)
}

output "initial_job_name" {
  description = "Name of the one-off Job that wrote the first Secret, or null when create_initial_secret is false."
  value       = try(kubernetes_job_v1.initial[0].metadata[0].name, null)
}

output "image" {
  description = "Container image the jobs run."
  value       = local.image
}

output "deployment_name" {
  description = "Name of the controller's Deployment in kube-system, or null in mode cronjob."
  value       = try(kubernetes_deployment_v1.controller[0].metadata[0].name, null)
}

output "metrics_service" {
  description = "Namespace, name and port of the controller's metrics Service, or null in mode cronjob."
  value = try({
    namespace = kubernetes_service_v1.metrics[0].metadata[0].namespace
    name      = kubernetes_service_v1.metrics[0].metadata[0].name
    port      = var.listen_port
  }, null)
}
