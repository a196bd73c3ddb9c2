variable "ecr_secret_enabled" {
  description = "Create anything at all. Every resource of the module is gated by it, so false plans to nothing."
  type        = bool
  default     = false
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

variable "ecr_repository_arns" {
  description = "ECR repository ARNs the pull Secret may pull from: the role gets ecr:BatchGetImage, ecr:GetDownloadUrlForLayer and ecr:BatchCheckLayerAvailability on exactly these. Wildcards are allowed (arn:aws:ecr:us-east-1:123456789012:repository/*). Empty: no pull permission from this policy (repository policies may still grant it)."
  type        = list(string)
  default     = []

  validation {
    condition = alltrue([
      for arn in var.ecr_repository_arns :
      can(regex("^arn:aws(-cn|-us-gov|-iso|-iso-[a-z]|-eusc)?:ecr:([a-z0-9-]+|\\*):([0-9]{12}|\\*):repository/[^[:space:]]+$", arn))
    ])
    error_message = "Each ecr_repository_arns entry must be an ECR repository ARN: arn:<partition>:ecr:<region>:<12-digit account>:repository/<name> (region, account and name may use *)."
  }
}

variable "cluster_name" {
  description = "Name of the EKS cluster. The role is called eks-ecr-token-renew-<cluster_name>, so at most 44 characters (IAM role names stop at 64)."
  type        = string

  validation {
    condition     = can(regex("^[0-9A-Za-z][0-9A-Za-z_-]*$", var.cluster_name)) && length(var.cluster_name) <= 44
    error_message = "cluster_name must start with a letter or digit, contain only letters, digits, '-' and '_', and be at most 44 characters long (the role name eks-ecr-token-renew-<cluster_name> must fit IAM's 64)."
  }
}

variable "oidc_provider" {
  description = "OIDC issuer URL of the cluster (aws eks describe-cluster ... identity.oidc.issuer), with or without https://. The IAM OIDC provider for it must already exist in this account."
  type        = string

  validation {
    condition     = can(regex("^(https://)?[A-Za-z0-9][A-Za-z0-9.-]*(:[0-9]+)?(/[A-Za-z0-9._~%-]+)*/?$", var.oidc_provider))
    error_message = "oidc_provider must be an issuer URL such as https://oidc.eks.us-east-1.amazonaws.com/id/EXAMPLED539D4633E53DE1B71EXAMPLE (the https:// prefix is optional)."
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

variable "ecr_secret_namespaces" {
  description = "More namespaces to write the same Secret to, besides ecr_secret_namespace. They must exist: ecr_create_namespace only creates ecr_secret_namespace. Each gets its own Role and RoleBinding."
  type        = list(string)
  default     = []

  validation {
    condition = alltrue([
      for ns in var.ecr_secret_namespaces :
      can(regex("^[a-z0-9]([-a-z0-9]*[a-z0-9])?$", ns)) && length(ns) <= 63
    ])
    error_message = "Each ecr_secret_namespaces entry must be a DNS-1123 label (lower-case letters, digits and '-', at most 63 characters)."
  }
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
  description = "Repository of the ecr-renew container image, without tag or digest (e.g. 123456789012.dkr.ecr.us-east-1.amazonaws.com/ecr-renew). Required when ecr_secret_enabled is true: no public image is published yet, build it from this repository and push it where the nodes can pull it."
  type        = string
  default     = null

  validation {
    condition     = var.image_repository == null || can(regex("^[A-Za-z0-9][A-Za-z0-9.-]*(:[0-9]+)?(/[a-z0-9]+([._-]+[a-z0-9]+)*)*$", var.image_repository))
    error_message = "image_repository must be an image repository without tag or digest, such as 123456789012.dkr.ecr.us-east-1.amazonaws.com/ecr-renew."
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
  description = "Cron schedule of the renewal (controller time zone, normally UTC). ECR tokens live 12 hours; the longest gap between runs must be at most 10 hours. Hours may be *, */N with N in 1, 2, 3, 4, 6 or 8 (even gaps), or a list such as 0,8,16; day, month and weekday must be *."
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
  description = "Suspend the CronJob (no new runs; the Secret stops being renewed and expires within 12 hours)."
  type        = bool
  default     = false
}

variable "starting_deadline_seconds" {
  description = "How late (seconds) a missed run may still start, e.g. after a control-plane outage; later ones are skipped until the next schedule."
  type        = number
  default     = 3600

  validation {
    condition     = var.starting_deadline_seconds >= 10 && floor(var.starting_deadline_seconds) == var.starting_deadline_seconds
    error_message = "starting_deadline_seconds must be a whole number of at least 10 (the CronJob controller checks every 10 seconds)."
  }
}

variable "successful_jobs_history_limit" {
  description = "Finished successful Jobs the CronJob keeps (for kubectl logs)."
  type        = number
  default     = 3

  validation {
    condition     = var.successful_jobs_history_limit >= 0 && floor(var.successful_jobs_history_limit) == var.successful_jobs_history_limit
    error_message = "successful_jobs_history_limit must be a whole number >= 0."
  }
}

variable "failed_jobs_history_limit" {
  description = "Failed Jobs the CronJob keeps (for kubectl logs)."
  type        = number
  default     = 3

  validation {
    condition     = var.failed_jobs_history_limit >= 0 && floor(var.failed_jobs_history_limit) == var.failed_jobs_history_limit
    error_message = "failed_jobs_history_limit must be a whole number >= 0."
  }
}

variable "backoff_limit" {
  description = "Retries (new pods) of a failed run before its Job counts as failed."
  type        = number
  default     = 3

  validation {
    condition     = var.backoff_limit >= 0 && var.backoff_limit <= 20 && floor(var.backoff_limit) == var.backoff_limit
    error_message = "backoff_limit must be a whole number from 0 to 20."
  }
}

variable "active_deadline_seconds" {
  description = "Upper bound (seconds) on one run including its retries; a hung run is stopped after it."
  type        = number
  default     = 600

  validation {
    condition     = var.active_deadline_seconds >= 30 && floor(var.active_deadline_seconds) == var.active_deadline_seconds
    error_message = "active_deadline_seconds must be a whole number of at least 30."
  }
}

variable "resources" {
  description = "CPU and memory requests and limits of the container (a short-lived static binary; the defaults are plenty)."
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
  description = "Node labels the job's pods must match."
  type        = map(string)
  default     = {}
}

variable "tolerations" {
  description = "Tolerations of the job's pods."
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
  description = "Node affinity of the job's pods: required_terms (any one term must match; the expressions of a term must all match) and preferred_terms (weight 1-100)."
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
  description = "PriorityClass of the job's pods, or null for the cluster default. Pulls depend on the Secret; system-cluster-critical is a reasonable choice on busy clusters."
  type        = string
  default     = null

  validation {
    condition     = var.priority_class_name == null || can(regex("^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$", var.priority_class_name))
    error_message = "priority_class_name must be null or a PriorityClass name (DNS-1123 subdomain)."
  }
}

variable "pod_annotations" {
  description = "Extra annotations on the job's pods."
  type        = map(string)
  default     = {}
}

variable "pod_labels" {
  description = "Extra labels on the job's pods."
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
  description = "Log format of the job (ECR_RENEW_LOG_FORMAT): text or json."
  type        = string
  default     = "text"

  validation {
    condition     = contains(["text", "json"], var.log_format)
    error_message = "log_format must be text or json."
  }
}

variable "log_level" {
  description = "Log level of the job (ECR_RENEW_LOG_LEVEL): debug, info, warn or error."
  type        = string
  default     = "info"

  validation {
    condition     = contains(["debug", "info", "warn", "error"], var.log_level)
    error_message = "log_level must be debug, info, warn or error."
  }
}

variable "create_initial_secret" {
  description = "Run a one-off Job at apply time (and whenever its inputs change) so the Secret exists when terraform apply returns; apply fails if it does not succeed within initial_secret_timeout. Needs neither the AWS CLI nor kubectl where Terraform runs."
  type        = bool
  default     = true
}

variable "initial_secret_timeout" {
  description = "How long terraform apply waits for the one-off Job (Terraform duration such as 5m)."
  type        = string
  default     = "5m"

  validation {
    condition     = can(regex("^([0-9]+h)?([0-9]+m)?([0-9]+s)?$", var.initial_secret_timeout)) && length(var.initial_secret_timeout) > 0
    error_message = "initial_secret_timeout must be a duration such as 90s, 5m or 1h."
  }
}

variable "iam_role_permissions_boundary" {
  description = "ARN of a managed policy to set as the role's permissions boundary, or null for none."
  type        = string
  default     = null

  validation {
    condition     = var.iam_role_permissions_boundary == null || can(regex("^arn:aws[a-z-]*:iam::([0-9]{12}|aws):policy/.+$", var.iam_role_permissions_boundary))
    error_message = "iam_role_permissions_boundary must be null or an IAM policy ARN (arn:<partition>:iam::<account>:policy/<name>)."
  }
}

variable "tags" {
  description = "Tags for the AWS resources (the IAM role). Name is added unless given here."
  type        = map(string)
  default     = {}
}
