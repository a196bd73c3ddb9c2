# The module's locals, among them the RBAC rules that depend on the options
# (tests/deploy evaluates them with `terraform console`, which needs no
# provider).

locals {
  # The job runs here, under this ServiceAccount; the IAM trust policy
  # names exactly system:serviceaccount:kube-system:ecr-renew-sa.
  job_namespace        = "kube-system"
  service_account_name = "ecr-renew-sa"

  namespaces = distinct(concat([var.ecr_secret_namespace], var.ecr_secret_namespaces))

  cronjob    = var.mode == "cronjob"
  controller = var.mode == "controller"
  # The controller's ClusterRole covers every namespace; only sync needs a
  # Role in each.
  role_namespaces = local.cronjob ? local.namespaces : []
  regions         = distinct(concat([var.aws_region], var.ecr_extra_regions))

  image = (var.image_digest != null
    ? "${var.image_repository}@${var.image_digest}"
  : "${var.image_repository}:${var.image_tag}")

  labels = merge(var.labels, {
    "app.kubernetes.io/name"       = "ecr-renew"
    "app.kubernetes.io/managed-by" = "terraform"
  })
  pod_labels = merge(var.pod_labels, local.labels, {
    "app.kubernetes.io/component" = "renewal"
  })

  # The Deployment's selector (immutable) and what the Service and the
  # ServiceMonitor select by: never the renewal Jobs' pods.
  controller_selector = {
    "app.kubernetes.io/name"      = "ecr-renew"
    "app.kubernetes.io/component" = "controller"
  }
  controller_labels     = merge(local.labels, local.controller_selector)
  controller_pod_labels = merge(var.pod_labels, local.labels, local.controller_selector)
  monitoring_labels     = merge(var.monitoring_labels, local.labels)

  # Everything that changes what the one-off Job would write. A change gives
  # the Job a new name, so Terraform replaces it and it runs again; without
  # one the finished Job stays and nothing re-runs.
  # The ServiceAccount settings only when set, so that an installation
  # without them keeps its Job (and its name).
  initial_job_inputs = merge({
    image        = local.image
    namespaces   = local.namespaces
    secret_name  = var.ecr_secret_name
    regions      = local.regions
    registry_ids = var.ecr_registry_ids
    role_arn     = var.role_arn
  }, length(local.sync_account_env) > 0 ? { service_accounts = local.sync_account_env } : {})
  initial_job_name = "ecr-secret-initial-${substr(sha256(jsonencode(local.initial_job_inputs)), 0, 8)}"

  # --- leader election (mode controller) ---------------------------------
  # Always on, whatever controller_replicas: only the holder of the Lease
  # writes, so a Deployment scaled by hand is safe too, and with one replica
  # a rollout hands the Lease over within 3 s (the old pod gives it up on
  # SIGTERM). The Lease is in the pod's own namespace (the downward API sets
  # ECR_RENEW_LEASE_NAMESPACE), where kubernetes_role_v1.leader_election is.
  lease_name = "ecr-renew"

  # --- ServiceAccount patching (service_accounts, annotated_service_accounts)
  patches_accounts = length(var.service_accounts) > 0 || var.annotated_service_accounts
  # Accounts by name only: their rights can be limited by resourceNames.
  accounts_by_name = local.patches_accounts && !var.annotated_service_accounts && !contains(var.service_accounts, "*")
  # run lists and watches the accounts with fieldSelector=metadata.name=NAME
  # only when it patches exactly one by name (RBAC then authorises the list
  # for that name); with several, "*" or the annotation it lists them all.
  controller_account_names = local.accounts_by_name && length(var.service_accounts) == 1 ? var.service_accounts : []

  # The ClusterRole's rules beyond the base ones (namespaces, secrets,
  # events), only for the options that need them. An empty resource_names
  # means every name. Healing watches every account (a stuck pod may run as
  # any), whatever service_accounts says.
  controller_extra_rules = [for r in [
    {
      when           = local.patches_accounts
      resources      = ["serviceaccounts"]
      resource_names = local.controller_account_names
      verbs          = ["get", "list", "watch", "patch"]
    },
    {
      when           = var.heal_pods
      resources      = ["pods"]
      resource_names = []
      verbs          = ["list", "watch", "delete"]
    },
    {
      when           = var.heal_pods
      resources      = ["serviceaccounts"]
      resource_names = []
      verbs          = ["get", "list", "watch"]
    },
  ] : { api_groups = [""], resources = r.resources, resource_names = r.resource_names, verbs = r.verbs } if r.when]

  # Mode cronjob: sync reads and patches the named accounts in each target
  # namespace (by name), and lists them for "*" or the annotation.
  sync_account_rules = [for r in [
    {
      when           = local.patches_accounts
      resources      = ["serviceaccounts"]
      resource_names = local.accounts_by_name ? distinct(var.service_accounts) : []
      verbs          = local.accounts_by_name ? ["get", "patch"] : ["get", "list", "patch"]
    },
  ] : { api_groups = [""], resources = r.resources, resource_names = r.resource_names, verbs = r.verbs } if r.when]
  # sync's variables for them, only when set (an installation without them
  # plans no change to its CronJob).
  sync_account_env = merge(
    length(var.service_accounts) > 0 ? { ECR_RENEW_SERVICE_ACCOUNTS = join(",", var.service_accounts) } : {},
    var.annotated_service_accounts ? { ECR_RENEW_ANNOTATED_SERVICE_ACCOUNTS = "true" } : {},
  )
}
