variable "role_arn" {
  description = "ARN of the IAM role the job assumes through IRSA (output role_arn of modules/iam). Written into the eks.amazonaws.com/role-arn annotation of ServiceAccount kube-system/ecr-renew-sa."
  type        = string

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:iam::[0-9]{12}:role/[A-Za-z0-9+=,.@_/-]+$", var.role_arn))
    error_message = "role_arn must be an IAM role ARN: arn:<partition>:iam::<12-digit account>:role/<name>."
  }
}

variable "aws_region" {
  description = "AWS region of the cluster: the job's AWS_REGION (STS endpoint) and the first region whose registries get an entry in the Secret."
  type        = string

  validation {
    condition     = can(regex("^[a-z]{2}(-[a-z]+)+-[0-9]+$", var.aws_region))
    error_message = "aws_region must be an AWS region name such as us-east-1, eu-central-1, cn-north-1 or us-gov-west-1."
  }
}

variable "ecr_secret_namespace" {
  description = "Namespace the pull Secret is written to (created by this module when ecr_create_namespace is true)."
  type        = string
  default     = "runtime"

  validation {
    condition     = can(regex("^[a-z0-9]([-a-z0-9]*[a-z0-9])?$", var.ecr_secret_namespace)) && length(var.ecr_secret_namespace) <= 63
    error_message = "ecr_secret_namespace must be a DNS-1123 label: lower-case letters, digits and '-', starting and ending with a letter or digit, at most 63 characters."
  }
}

variable "ecr_secret_namespaces" {
  description = "More namespaces to write the same Secret to, besides ecr_secret_namespace. They must exist: ecr_create_namespace only creates ecr_secret_namespace. Mode cronjob: names only, each gets its own Role and RoleBinding. Mode controller: globs too (team-*, or * for every namespace), and namespaces created later are served at once."
  type        = list(string)
  default     = []

  validation {
    condition = alltrue([
      for ns in var.ecr_secret_namespaces :
      can(regex("^[a-z0-9*?]([-a-z0-9*?]*[a-z0-9*?])?$", ns)) && length(ns) <= 63
    ])
    error_message = "Each ecr_secret_namespaces entry must be a DNS-1123 label (lower-case letters, digits and '-', at most 63 characters), or with mode = \"controller\" a glob of one ('*' and '?' also allowed)."
  }
}

variable "ecr_secret_name" {
  description = "Name of the kubernetes.io/dockerconfigjson Secret in every target namespace; pods reference it in imagePullSecrets."
  type        = string
  default     = "ecr-registry-secret"

  validation {
    condition     = can(regex("^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$", var.ecr_secret_name)) && length(var.ecr_secret_name) <= 253
    error_message = "ecr_secret_name must be a DNS-1123 subdomain: lower-case letters, digits, '-' and '.', starting and ending with a letter or digit, at most 253 characters."
  }
}

variable "ecr_create_namespace" {
  description = "Create ecr_secret_namespace with Terraform. Labels and annotations added to it later are left alone. Careful: turning this off, or destroying the module, deletes that namespace and everything in it."
  type        = bool
  default     = true
}

variable "ecr_extra_regions" {
  description = "More regions whose registries get an entry in the Secret (one ECR token per region), besides aws_region."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for r in var.ecr_extra_regions : can(regex("^[a-z]{2}(-[a-z]+)+-[0-9]+$", r))])
    error_message = "Each ecr_extra_regions entry must be an AWS region name such as eu-west-1."
  }
}

variable "ecr_registry_ids" {
  description = "12-digit account ids of the registries to put into the Secret (1 to 10). Empty: the account of the IAM role. Other accounts' repository policies must allow the role to pull."
  type        = list(string)
  default     = []

  validation {
    condition     = length(var.ecr_registry_ids) <= 10 && alltrue([for id in var.ecr_registry_ids : can(regex("^[0-9]{12}$", id))])
    error_message = "ecr_registry_ids must hold at most 10 AWS account ids of exactly 12 digits each."
  }
}

variable "image_repository" {
  description = "Repository of the ecr-renew container image, without tag or digest (e.g. 123456789012.dkr.ecr.us-east-1.amazonaws.com/ecr-renew). No public image is published yet: build it from this repository and push it where the nodes can pull it."
  type        = string

  validation {
    condition     = var.image_repository != null && can(regex("^[A-Za-z0-9][A-Za-z0-9.-]*(:[0-9]+)?(/[a-z0-9]+([._-]+[a-z0-9]+)*)*$", var.image_repository))
    error_message = "image_repository must be set to an image repository without tag or digest, such as 123456789012.dkr.ecr.us-east-1.amazonaws.com/ecr-renew (ecr-renew has no public image yet)."
  }
}

variable "image_tag" {
  description = "Tag of the ecr-renew image; ignored when image_digest is set."
  type        = string
  default     = "0.1.0"

  validation {
    condition     = can(regex("^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$", var.image_tag))
    error_message = "image_tag must be a valid image tag: letters, digits, '_', '.' and '-', at most 128 characters, not starting with '.' or '-'."
  }
}

variable "image_digest" {
  description = "Digest (sha256:<64 hex>) to pin the image to; when set the image is referenced as <repository>@<digest>."
  type        = string
  default     = null

  validation {
    condition     = var.image_digest == null || can(regex("^sha256:[a-f0-9]{64}$", var.image_digest))
    error_message = "image_digest must be null or sha256: followed by 64 lower-case hex digits."
  }
}

variable "image_pull_policy" {
  description = "Pull policy of the ecr-renew container."
  type        = string
  default     = "IfNotPresent"

  validation {
    condition     = contains(["Always", "IfNotPresent", "Never"], var.image_pull_policy)
    error_message = "image_pull_policy must be Always, IfNotPresent or Never."
  }
}

variable "image_pull_secrets" {
  description = "Names of Secrets in kube-system used to pull the ecr-renew image itself (not needed when the nodes can pull it, e.g. from ECR in the same account)."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for s in var.image_pull_secrets : can(regex("^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$", s))])
    error_message = "Each image_pull_secrets entry must be a Secret name (DNS-1123 subdomain)."
  }
}

variable "schedule" {
  description = "Mode cronjob: cron schedule of the renewal (kube-controller-manager time zone, normally UTC). ECR tokens live 12 hours; the longest gap between runs must be at most 10 hours. Hours may be *, */N with N in 1, 2, 3, 4, 6 or 8 (even gaps), or a list such as 0,8,16; day, month and weekday must be *."
  type        = string
  default     = "0 */8 * * *"

  validation {
    condition = alltrue([
      for f in [regexall("\\S+", var.schedule)] :
      length(f) == 5 && try(can(regex("^[0-9*/,-]+$", f[0])) && f[2] == "*" && f[3] == "*" && f[4] == "*", false)
    ])
    error_message = "schedule must have 5 fields: minute, hour, and * * * (every day), e.g. \"0 */8 * * *\"."
  }

  # "0 */10 * * *" runs at 00:00, 10:00 and 20:00: gaps of 10, 10 and 4 hours.
  # Only step values that divide 24 give even gaps; explicit lists are
  # checked for their longest gap, wrapping around midnight.
  validation {
    condition = alltrue([
      for h in [try(regexall("\\S+", var.schedule)[1], "")] :
      h == "*" || contains(["*/1", "*/2", "*/3", "*/4", "*/6", "*/8"], h) || try(alltrue([
        for hs in [sort(distinct([for x in split(",", h) : format("%02d", tonumber(x))]))] :
        alltrue([for x in hs : tonumber(x) >= 0 && tonumber(x) <= 23]) && max([
          for i, x in hs : (tonumber(hs[(i + 1) % length(hs)]) - tonumber(x) + 23) % 24 + 1
        ]...) <= 10
      ]), false)
    ])
    error_message = "The hour field of schedule must be *, */N with N dividing 24 and at most 8 (*/1, */2, */3, */4, */6, */8: even gaps), or a list of hours 0-23 such as 0,8,16 whose longest gap, over midnight too, is at most 10 hours. */10 is refused because it is not every 10 hours: it runs at 0, 10 and 20 h (gaps 10, 10 and 4)."
  }
}

variable "suspend" {
  description = "Mode cronjob: suspend the CronJob (no new runs; the Secret stops being renewed and expires within 12 hours)."
  type        = bool
  default     = false
}

variable "starting_deadline_seconds" {
  description = "Mode cronjob: how late (seconds) a missed run may still start, e.g. after a control-plane outage; later ones are skipped until the next schedule."
  type        = number
  default     = 3600

  validation {
    condition     = var.starting_deadline_seconds >= 10 && floor(var.starting_deadline_seconds) == var.starting_deadline_seconds
    error_message = "starting_deadline_seconds must be a whole number of at least 10 (the CronJob controller checks every 10 seconds)."
  }
}

variable "successful_jobs_history_limit" {
  description = "Mode cronjob: finished successful Jobs the CronJob keeps (for kubectl logs)."
  type        = number
  default     = 3

  validation {
    condition     = var.successful_jobs_history_limit >= 0 && floor(var.successful_jobs_history_limit) == var.successful_jobs_history_limit
    error_message = "successful_jobs_history_limit must be a whole number >= 0."
  }
}

variable "failed_jobs_history_limit" {
  description = "Mode cronjob: failed Jobs the CronJob keeps (for kubectl logs)."
  type        = number
  default     = 3

  validation {
    condition     = var.failed_jobs_history_limit >= 0 && floor(var.failed_jobs_history_limit) == var.failed_jobs_history_limit
    error_message = "failed_jobs_history_limit must be a whole number >= 0."
  }
}

variable "backoff_limit" {
  description = "Mode cronjob: retries (new pods) of a failed run before its Job counts as failed."
  type        = number
  default     = 3

  validation {
    condition     = var.backoff_limit >= 0 && var.backoff_limit <= 20 && floor(var.backoff_limit) == var.backoff_limit
    error_message = "backoff_limit must be a whole number from 0 to 20."
  }
}

variable "active_deadline_seconds" {
  description = "Mode cronjob: upper bound (seconds) on one run including its retries; a hung run is stopped after it."
  type        = number
  default     = 600

  validation {
    condition     = var.active_deadline_seconds >= 30 && floor(var.active_deadline_seconds) == var.active_deadline_seconds
    error_message = "active_deadline_seconds must be a whole number of at least 30."
  }
}

variable "resources" {
  description = "Mode cronjob: CPU and memory requests and limits of the job's container (a short-lived static binary; the defaults are plenty). The controller's are controller_resources."
  type = object({
    requests = optional(map(string), { cpu = "10m", memory = "16Mi" })
    limits   = optional(map(string), { cpu = "100m", memory = "64Mi" })
  })
  default = {
    requests = { cpu = "10m", memory = "16Mi" }
    limits   = { cpu = "100m", memory = "64Mi" }
  }

  validation {
    condition = alltrue([
      for k, v in merge(var.resources.requests, var.resources.limits) :
      contains(["cpu", "memory", "ephemeral-storage"], k) && can(regex("^[0-9]+(\\.[0-9]+)?(m|k|M|G|T|Ki|Mi|Gi|Ti)?$", v))
    ])
    error_message = "resources.requests and resources.limits may only set cpu, memory and ephemeral-storage, to Kubernetes quantities such as 10m, 0.1, 16Mi or 1Gi."
  }
}

variable "node_selector" {
  description = "Node labels the ecr-renew pods (jobs or controller) must match."
  type        = map(string)
  default     = {}
}

variable "tolerations" {
  description = "Tolerations of the ecr-renew pods (jobs or controller)."
  type = list(object({
    key                = optional(string)
    operator           = optional(string, "Equal")
    value              = optional(string)
    effect             = optional(string)
    toleration_seconds = optional(number)
  }))
  default = []

  validation {
    condition = alltrue([
      for t in var.tolerations :
      contains(["Equal", "Exists"], t.operator) && (t.effect == null || contains(["NoSchedule", "PreferNoSchedule", "NoExecute"], coalesce(t.effect, "-")))
    ])
    error_message = "Each toleration needs operator Equal or Exists and, if set, effect NoSchedule, PreferNoSchedule or NoExecute."
  }
}

variable "node_affinity" {
  description = "Node affinity of the ecr-renew pods (jobs or controller): required_terms (any one term must match; the expressions of a term must all match) and preferred_terms (weight 1-100)."
  type = object({
    required_terms = optional(list(object({
      match_expressions = list(object({
        key      = string
        operator = string
        values   = optional(list(string), [])
      }))
    })), [])
    preferred_terms = optional(list(object({
      weight = number
      match_expressions = list(object({
        key      = string
        operator = string
        values   = optional(list(string), [])
      }))
    })), [])
  })
  default = {
    required_terms  = []
    preferred_terms = []
  }

  validation {
    condition = alltrue(flatten([
      [for t in var.node_affinity.required_terms : [for e in t.match_expressions : contains(["In", "NotIn", "Exists", "DoesNotExist", "Gt", "Lt"], e.operator)]],
      [for t in var.node_affinity.preferred_terms : concat([t.weight >= 1 && t.weight <= 100], [for e in t.match_expressions : contains(["In", "NotIn", "Exists", "DoesNotExist", "Gt", "Lt"], e.operator)])],
    ]))
    error_message = "node_affinity operators must be In, NotIn, Exists, DoesNotExist, Gt or Lt, and preferred weights 1 to 100."
  }
}

variable "priority_class_name" {
  description = "PriorityClass of the ecr-renew pods (jobs or controller), or null for the cluster default. Pulls depend on the Secret; system-cluster-critical is a reasonable choice on busy clusters."
  type        = string
  default     = null

  validation {
    condition     = var.priority_class_name == null || can(regex("^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$", var.priority_class_name))
    error_message = "priority_class_name must be null or a PriorityClass name (DNS-1123 subdomain)."
  }
}

variable "pod_annotations" {
  description = "Extra annotations on the ecr-renew pods (jobs or controller)."
  type        = map(string)
  default     = {}
}

variable "pod_labels" {
  description = "Extra labels on the ecr-renew pods (jobs or controller)."
  type        = map(string)
  default     = {}

  validation {
    condition = alltrue([
      for k, v in var.pod_labels :
      can(regex("^([a-z0-9]([-a-z0-9.]*[a-z0-9])?/)?[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$", k)) && can(regex("^([A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?)?$", v)) && length(v) <= 63
    ])
    error_message = "pod_labels keys must be valid label keys ([prefix/]name) and values at most 63 letters, digits, '-', '_' or '.', starting and ending alphanumeric."
  }
}

variable "labels" {
  description = "Extra labels on every Kubernetes object of the module (not on the namespace)."
  type        = map(string)
  default     = {}

  validation {
    condition = alltrue([
      for k, v in var.labels :
      can(regex("^([a-z0-9]([-a-z0-9.]*[a-z0-9])?/)?[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$", k)) && can(regex("^([A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?)?$", v)) && length(v) <= 63
    ])
    error_message = "labels keys must be valid label keys ([prefix/]name) and values at most 63 letters, digits, '-', '_' or '.', starting and ending alphanumeric."
  }
}

variable "log_format" {
  description = "Log format of ecr-renew (ECR_RENEW_LOG_FORMAT): text or json."
  type        = string
  default     = "text"

  validation {
    condition     = contains(["text", "json"], var.log_format)
    error_message = "log_format must be text or json."
  }
}

variable "log_level" {
  description = "Log level of ecr-renew (ECR_RENEW_LOG_LEVEL): debug, info, warn or error."
  type        = string
  default     = "info"

  validation {
    condition     = contains(["debug", "info", "warn", "error"], var.log_level)
    error_message = "log_level must be debug, info, warn or error."
  }
}

variable "create_initial_secret" {
  description = "Make sure the Secret exists when terraform apply returns; apply fails if that does not happen within initial_secret_timeout. Mode cronjob: a one-off Job runs at apply time (and whenever its inputs change). Mode controller: apply waits for the Deployment's rollout (the controller is ready once every selected namespace holds a valid Secret). Needs neither the AWS CLI nor kubectl where Terraform runs."
  type        = bool
  default     = true
}

variable "initial_secret_timeout" {
  description = "How long terraform apply waits for the one-off Job, or in mode controller for the Deployment's rollout (Terraform duration such as 5m)."
  type        = string
  default     = "5m"

  validation {
    condition     = can(regex("^([0-9]+h)?([0-9]+m)?([0-9]+s)?$", var.initial_secret_timeout)) && length(var.initial_secret_timeout) > 0
    error_message = "initial_secret_timeout must be a duration such as 90s, 5m or 1h."
  }
}

variable "mode" {
  description = "How the Secret is kept fresh. \"cronjob\": a CronJob runs ecr-renew sync on schedule, with a Role per namespace (the drop-in for the old module). \"controller\": a Deployment runs ecr-renew run, which serves new and matching namespaces at once, repairs deleted or edited Secrets, renews by the token's expiry and serves health and Prometheus metrics, with one ClusterRole instead of the Roles (docs/operators-guide.md#controller)."
  type        = string
  default     = "cronjob"

  validation {
    condition     = contains(["cronjob", "controller"], var.mode)
    error_message = "mode must be \"cronjob\" or \"controller\"."
  }
}

variable "exclude_namespaces" {
  description = "Mode controller: namespaces (names or globs such as kube-*) never to write the Secret to, even when they match ecr_secret_namespaces or namespace_selector (ECR_RENEW_EXCLUDE_NAMESPACES). A namespace annotated ecr-renew/exclude: \"true\" is skipped as well."
  type        = list(string)
  default     = []

  validation {
    condition = alltrue([
      for ns in var.exclude_namespaces :
      can(regex("^[a-z0-9*?]([-a-z0-9*?]*[a-z0-9*?])?$", ns)) && length(ns) <= 63
    ])
    error_message = "Each exclude_namespaces entry must be a namespace name or a glob of one: lower-case letters, digits, '-', '*' and '?', at most 63 characters."
  }
}

variable "namespace_selector" {
  description = "Mode controller: a Kubernetes label selector the namespaces must match as well (ECR_RENEW_NAMESPACE_SELECTOR), e.g. \"ecr-renew=enabled\" or \"env in (prod,staging),!legacy\". Empty: no selector. To select by labels alone, set ecr_secret_namespaces = [\"*\"]."
  type        = string
  default     = ""

  validation {
    condition     = can(regex("^[-A-Za-z0-9_./=!(), ]*$", var.namespace_selector)) && length(var.namespace_selector) <= 1024
    error_message = "namespace_selector must be a label selector such as \"team=payments\" or \"env in (prod,staging),!legacy\": label keys and values, = == != in notin ( ) , ! and spaces, at most 1024 characters."
  }
}

variable "listen_port" {
  description = "Mode controller: port of /healthz, /readyz and /metrics (ECR_RENEW_LISTEN), the container port named http and the port of Service ecr-renew-metrics."
  type        = number
  default     = 8080

  validation {
    condition     = var.listen_port >= 1024 && var.listen_port <= 65535 && floor(var.listen_port) == var.listen_port
    error_message = "listen_port must be a whole number from 1024 to 65535 (the container runs as a non-root user without capabilities)."
  }
}

variable "controller_resources" {
  description = "Mode controller: CPU and memory requests and limits of the controller's container (a long-running static binary: about 12 MiB resident with 1,000 namespaces, see the README benchmark)."
  type = object({
    requests = optional(map(string), { cpu = "10m", memory = "32Mi" })
    limits   = optional(map(string), { cpu = "200m", memory = "64Mi" })
  })
  default = {
    requests = { cpu = "10m", memory = "32Mi" }
    limits   = { cpu = "200m", memory = "64Mi" }
  }

  validation {
    condition = alltrue([
      for k, v in merge(var.controller_resources.requests, var.controller_resources.limits) :
      contains(["cpu", "memory", "ephemeral-storage"], k) && can(regex("^[0-9]+(\\.[0-9]+)?(m|k|M|G|T|Ki|Mi|Gi|Ti)?$", v))
    ])
    error_message = "controller_resources.requests and controller_resources.limits may only set cpu, memory and ephemeral-storage, to Kubernetes quantities such as 10m, 0.1, 32Mi or 1Gi."
  }
}

variable "service_monitor_enabled" {
  description = "Mode controller: create a ServiceMonitor (monitoring.coreos.com/v1) so the Prometheus operator scrapes the controller. The operator's CRDs must be installed before terraform plan."
  type        = bool
  default     = false
}

variable "prometheus_rule_enabled" {
  description = "Mode controller: create a PrometheusRule (monitoring.coreos.com/v1) with ecr-renew's alerts (docs/operators-guide.md#alerts). The operator's CRDs must be installed before terraform plan."
  type        = bool
  default     = false
}

variable "monitoring_labels" {
  description = "Mode controller: extra labels on the ServiceMonitor and the PrometheusRule, for the selectors of your Prometheus (kube-prometheus-stack: release = \"<its release name>\")."
  type        = map(string)
  default     = {}

  validation {
    condition = alltrue([
      for k, v in var.monitoring_labels :
      can(regex("^([a-z0-9]([-a-z0-9.]*[a-z0-9])?/)?[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$", k)) && can(regex("^([A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?)?$", v)) && length(v) <= 63
    ])
    error_message = "monitoring_labels keys must be valid label keys ([prefix/]name) and values at most 63 letters, digits, '-', '_' or '.', starting and ending alphanumeric."
  }
}

variable "controller_replicas" {
  description = "Mode controller: replicas of the controller's Deployment. Leader election is always on: only the holder of the Lease kube-system/ecr-renew writes, the others keep their caches warm and take over within about 17 s of its death (within 3 s of its SIGTERM). 2 (the default) survives a node's loss or drain with a standby ready; a PodDisruptionBudget lets evictions take one at a time."
  type        = number
  default     = 2

  validation {
    condition     = var.controller_replicas >= 1 && var.controller_replicas <= 10 && floor(var.controller_replicas) == var.controller_replicas
    error_message = "controller_replicas must be a whole number from 1 to 10 (only one replica writes; the others stand by)."
  }
}

variable "service_accounts" {
  description = "Also add the pull Secret to the imagePullSecrets of these ServiceAccounts in every namespace that gets it (ECR_RENEW_SERVICE_ACCOUNTS), every other entry kept; \"*\" is every account, [\"default\"] the usual choice. Empty: none. Only pods created afterwards get it (see heal_pods). Adds get and patch on serviceaccounts (mode controller: list and watch too, limited by resourceNames to the name when exactly one is given; mode cronjob: in each namespace's Role, list too for \"*\")."
  type        = list(string)
  default     = []

  validation {
    condition = alltrue([
      for n in var.service_accounts :
      n == "*" || (can(regex("^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$", n)) && length(n) <= 253)
    ])
    error_message = "Each service_accounts entry must be a ServiceAccount name (a DNS-1123 subdomain: lower-case letters, digits, '-' and '.', at most 253 characters) or \"*\" for every account."
  }
}

variable "annotated_service_accounts" {
  description = "Also add the pull Secret to every ServiceAccount annotated ecr-renew/pull-secret: \"true\" in the namespaces that get it (ECR_RENEW_ANNOTATED_SERVICE_ACCOUNTS). Needs the rights of service_accounts = [\"*\"]: get, list and patch on every account (and watch in mode controller)."
  type        = bool
  default     = false
}

variable "heal_pods" {
  description = "Mode controller only: delete, once, a pod that waits in ErrImagePull or ImagePullBackOff for an image on one of the Secret's registry hosts, whose spec.imagePullSecrets lacks the Secret while its ServiceAccount now lists it, and that a ReplicaSet, StatefulSet, DaemonSet or Job owns, so its owner makes it again with the Secret (ECR_RENEW_HEAL_PODS). Never a bare pod, never twice the same pod, at most heal_rate a minute. Adds list, watch and delete on pods and get, list and watch on serviceaccounts, in every namespace."
  type        = bool
  default     = false
}

variable "heal_rate" {
  description = "Mode controller, with heal_pods: at most this many pod deletions a minute (ECR_RENEW_HEAL_RATE, 1-600)."
  type        = number
  default     = 10

  validation {
    condition     = var.heal_rate >= 1 && var.heal_rate <= 600 && floor(var.heal_rate) == var.heal_rate
    error_message = "heal_rate must be a whole number of pods a minute from 1 to 600."
  }
}
