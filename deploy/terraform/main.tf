# ecr-renew: keeps a kubernetes.io/dockerconfigjson pull Secret for private
# Amazon ECR registries fresh in one or more namespaces of an EKS cluster.
#
# A drop-in for the former aws-cli + kubectl CronJob module: the same
# variables and object names, with the job replaced by `ecr-renew sync`.
# mode = "controller" runs `ecr-renew run` in a Deployment instead.
# The AWS part (modules/iam) and the Kubernetes part (modules/kubernetes)
# can also be used on their own.

module "iam" {
  source = "./modules/iam"
  count  = var.ecr_secret_enabled ? 1 : 0

  cluster_name                  = var.cluster_name
  oidc_provider                 = var.oidc_provider
  ecr_repository_arns           = var.ecr_repository_arns
  iam_role_permissions_boundary = var.iam_role_permissions_boundary
  tags                          = var.tags
}

module "kubernetes" {
  source = "./modules/kubernetes"
  count  = var.ecr_secret_enabled ? 1 : 0

  role_arn   = module.iam[0].role_arn
  aws_region = var.aws_region
  mode       = var.mode

  ecr_secret_namespace  = var.ecr_secret_namespace
  ecr_secret_namespaces = var.ecr_secret_namespaces
  ecr_secret_name       = var.ecr_secret_name
  ecr_create_namespace  = var.ecr_create_namespace
  ecr_extra_regions     = var.ecr_extra_regions
  ecr_registry_ids      = var.ecr_registry_ids

  image_repository   = var.image_repository
  image_tag          = var.image_tag
  image_digest       = var.image_digest
  image_pull_policy  = var.image_pull_policy
  image_pull_secrets = var.image_pull_secrets

  schedule                      = var.schedule
  suspend                       = var.suspend
  starting_deadline_seconds     = var.starting_deadline_seconds
  successful_jobs_history_limit = var.successful_jobs_history_limit
  failed_jobs_history_limit     = var.failed_jobs_history_limit
  backoff_limit                 = var.backoff_limit
  active_deadline_seconds       = var.active_deadline_seconds

  resources           = var.resources
  node_selector       = var.node_selector
  tolerations         = var.tolerations
  node_affinity       = var.node_affinity
  priority_class_name = var.priority_class_name
  pod_annotations     = var.pod_annotations
  pod_labels          = var.pod_labels
  labels              = var.labels

  log_format = var.log_format
  log_level  = var.log_level

  create_initial_secret  = var.create_initial_secret
  initial_secret_timeout = var.initial_secret_timeout

  exclude_namespaces      = var.exclude_namespaces
  namespace_selector      = var.namespace_selector
  listen_port             = var.listen_port
  controller_resources    = var.controller_resources
  service_monitor_enabled = var.service_monitor_enabled
  prometheus_rule_enabled = var.prometheus_rule_enabled
  monitoring_labels       = var.monitoring_labels

  controller_replicas        = var.controller_replicas
  service_accounts           = var.service_accounts
  annotated_service_accounts = var.annotated_service_accounts
  heal_pods                  = var.heal_pods
  heal_rate                  = var.heal_rate
}
