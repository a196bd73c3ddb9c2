# The Kubernetes side of ecr-renew: the ServiceAccount the IAM role trusts,
# and then one of two modes.
#
# mode = "cronjob" (the default, the drop-in): the least RBAC `ecr-renew
# sync` needs in each target namespace, the CronJob that keeps the pull
# Secret fresh, and a one-off Job so the Secret exists when `terraform apply`
# returns.
#
# mode = "controller": a Deployment running `ecr-renew run` (controller_replicas
# replicas, leader election always on), the ClusterRole it needs, the Role for
# its Lease, a PodDisruptionBudget, a Service for its metrics and,
# optionally, a ServiceMonitor and a PrometheusRule. Apply waits for the
# Deployment to become ready instead of running the one-off Job.
#
# The objects mirror deploy/kubernetes/base and, for the controller,
# deploy/kubernetes/components/{controller,service-monitor,prometheus-rule,
# service-accounts,heal-pods}; tests/deploy/test_drift.py checks that both say
# the same. The locals, RBAC rules included, are in locals.tf.

resource "kubernetes_namespace_v1" "target" {
  count = var.ecr_create_namespace ? 1 : 0

  metadata {
    name = var.ecr_secret_namespace
  }

  lifecycle {
    # Other tools (Helm, policy engines, Istio...) label and annotate
    # application namespaces; this module must not fight them.
    ignore_changes = [metadata[0].labels, metadata[0].annotations]
  }
}

resource "kubernetes_service_account_v1" "this" {
  metadata {
    name      = local.service_account_name
    namespace = local.job_namespace
    labels    = local.labels
    annotations = {
      "eks.amazonaws.com/role-arn" = var.role_arn
    }
  }

  # Only ecr-renew's pods (the jobs, or the controller) use this account, and
  # they opt in explicitly.
  automount_service_account_token = false
}

# `ecr-renew sync` reads and replaces one Secret by name and creates it when
# it is missing. RBAC cannot limit create by name, so create is a rule of its
# own; get and update only reach the pull Secret. No delete, patch or list
# of Secrets. With service_accounts, the named ServiceAccounts too.
resource "kubernetes_role_v1" "secrets" {
  for_each = toset(local.role_namespaces)

  metadata {
    name      = "ecr-renew-role"
    namespace = each.key
    labels    = local.labels
  }

  rule {
    api_groups = [""]
    resources  = ["secrets"]
    verbs      = ["create"]
  }

  rule {
    api_groups     = [""]
    resources      = ["secrets"]
    resource_names = [var.ecr_secret_name]
    verbs          = ["get", "update"]
  }

  # service_accounts, annotated_service_accounts: get and patch on the named
  # accounts (list too, on all of them, for "*" or the annotation).
  dynamic "rule" {
    for_each = local.sync_account_rules

    content {
      api_groups     = rule.value.api_groups
      resources      = rule.value.resources
      resource_names = length(rule.value.resource_names) > 0 ? rule.value.resource_names : null
      verbs          = rule.value.verbs
    }
  }

  depends_on = [kubernetes_namespace_v1.target]
}

resource "kubernetes_role_binding_v1" "secrets" {
  for_each = toset(local.role_namespaces)

  metadata {
    name      = "ecr-renew-rolebinding"
    namespace = each.key
    labels    = local.labels
  }

  role_ref {
    api_group = "rbac.authorization.k8s.io"
    kind      = "Role"
    name      = kubernetes_role_v1.secrets[each.key].metadata[0].name
  }

  subject {
    kind      = "ServiceAccount"
    name      = kubernetes_service_account_v1.this.metadata[0].name
    namespace = local.job_namespace
  }

  depends_on = [kubernetes_namespace_v1.target]
}

# The CronJob had no count before mode existed; this keeps its state.
moved {
  from = kubernetes_cron_job_v1.renewal
  to   = kubernetes_cron_job_v1.renewal[0]
}

resource "kubernetes_cron_job_v1" "renewal" {
  count = local.cronjob ? 1 : 0

  metadata {
    name      = "ecr-secret-renewal"
    namespace = local.job_namespace
    labels    = local.labels
  }

  spec {
    schedule                      = var.schedule
    concurrency_policy            = "Forbid"
    starting_deadline_seconds     = var.starting_deadline_seconds
    successful_jobs_history_limit = var.successful_jobs_history_limit
    failed_jobs_history_limit     = var.failed_jobs_history_limit
    suspend                       = var.suspend

    job_template {
      metadata {
        labels = local.labels
      }

      spec {
        backoff_limit           = var.backoff_limit
        active_deadline_seconds = var.active_deadline_seconds

        # Keep this template identical to the one of kubernetes_job_v1.initial
        # below (test_drift.py compares them).
        template {
          metadata {
            labels      = local.pod_labels
            annotations = var.pod_annotations
          }

          spec {
            service_account_name            = kubernetes_service_account_v1.this.metadata[0].name
            automount_service_account_token = true
            restart_policy                  = "Never"
            priority_class_name             = var.priority_class_name
            node_selector                   = var.node_selector

            security_context {
              run_as_non_root = true
              run_as_user     = 65532
              run_as_group    = 65532
              # Makes the projected IRSA token readable by the non-root user.
              fs_group = 65532

              seccomp_profile {
                type = "RuntimeDefault"
              }
            }

            dynamic "image_pull_secrets" {
              for_each = var.image_pull_secrets

              content {
                name = image_pull_secrets.value
              }
            }

            dynamic "toleration" {
              for_each = var.tolerations

              content {
                key                = toleration.value.key
                operator           = toleration.value.operator
                value              = toleration.value.value
                effect             = toleration.value.effect
                toleration_seconds = toleration.value.toleration_seconds == null ? null : tostring(toleration.value.toleration_seconds)
              }
            }

            dynamic "affinity" {
              for_each = length(var.node_affinity.required_terms) + length(var.node_affinity.preferred_terms) > 0 ? [var.node_affinity] : []

              content {
                node_affinity {
                  dynamic "required_during_scheduling_ignored_during_execution" {
                    for_each = length(affinity.value.required_terms) > 0 ? [affinity.value.required_terms] : []

                    content {
                      dynamic "node_selector_term" {
                        for_each = required_during_scheduling_ignored_during_execution.value

                        content {
                          dynamic "match_expressions" {
                            for_each = node_selector_term.value.match_expressions

                            content {
                              key      = match_expressions.value.key
                              operator = match_expressions.value.operator
                              values   = match_expressions.value.values
                            }
                          }
                        }
                      }
                    }
                  }

                  dynamic "preferred_during_scheduling_ignored_during_execution" {
                    for_each = affinity.value.preferred_terms

                    content {
                      weight = preferred_during_scheduling_ignored_during_execution.value.weight

                      preference {
                        dynamic "match_expressions" {
                          for_each = preferred_during_scheduling_ignored_during_execution.value.match_expressions

                          content {
                            key      = match_expressions.value.key
                            operator = match_expressions.value.operator
                            values   = match_expressions.value.values
                          }
                        }
                      }
                    }
                  }
                }
              }
            }

            container {
              name              = "ecr-renew"
              image             = local.image
              image_pull_policy = var.image_pull_policy
              args              = ["sync"]

              env {
                name  = "AWS_REGION"
                value = var.aws_region
              }
              env {
                name  = "ECR_RENEW_REGIONS"
                value = join(",", local.regions)
              }
              env {
                name  = "ECR_RENEW_REGISTRY_IDS"
                value = join(",", var.ecr_registry_ids)
              }
              env {
                name  = "ECR_RENEW_NAMESPACES"
                value = join(",", local.namespaces)
              }
              env {
                name  = "ECR_RENEW_SECRET_NAME"
                value = var.ecr_secret_name
              }
              env {
                name  = "ECR_RENEW_LOG_FORMAT"
                value = var.log_format
              }
              env {
                name  = "ECR_RENEW_LOG_LEVEL"
                value = var.log_level
              }
              # Only when set, so that an installation without them plans no change.
              dynamic "env" {
                for_each = local.sync_account_env

                content {
                  name  = env.key
                  value = env.value
                }
              }

              resources {
                requests = var.resources.requests
                limits   = var.resources.limits
              }

              security_context {
                allow_privilege_escalation = false
                read_only_root_filesystem  = true
                run_as_non_root            = true
                run_as_user                = 65532
                run_as_group               = 65532

                capabilities {
                  drop = ["ALL"]
                }
              }
            }
          }
        }
      }
    }
  }

  lifecycle {
    # sync's rights come from a Role in each namespace, so each must be a
    # name; only the controller (a ClusterRole) can serve globs.
    precondition {
      condition     = alltrue([for ns in concat([var.ecr_secret_namespace], var.ecr_secret_namespaces) : can(regex("^[a-z0-9]([-a-z0-9]*[a-z0-9])?$", ns))])
      error_message = "Globs in ecr_secret_namespaces (such as team-* or *) need mode = \"controller\": in mode cronjob every namespace gets a Role of its own, so each entry must be a namespace name."
    }

    # Only the controller watches pods; sync runs for seconds every 8 hours.
    precondition {
      condition     = !var.heal_pods
      error_message = "heal_pods needs mode = \"controller\": only the controller (ecr-renew run) watches pods and deletes the stuck ones; ecr-renew sync runs for a few seconds every 8 hours."
    }
  }

  depends_on = [kubernetes_role_binding_v1.secrets]
}

# The first Secret, written from inside the cluster by the same image, pod
# template and identity as the CronJob: nothing but Terraform is needed where
# it runs. Apply waits for the Job and fails if it fails.
resource "kubernetes_job_v1" "initial" {
  count = local.cronjob && var.create_initial_secret ? 1 : 0

  metadata {
    name      = local.initial_job_name
    namespace = local.job_namespace
    labels = merge(local.labels, {
      "app.kubernetes.io/component" = "initial-secret"
    })
  }

  spec {
    backoff_limit           = var.backoff_limit
    active_deadline_seconds = var.active_deadline_seconds

    template {
      metadata {
        labels      = local.pod_labels
        annotations = var.pod_annotations
      }

      spec {
        service_account_name            = kubernetes_service_account_v1.this.metadata[0].name
        automount_service_account_token = true
        restart_policy                  = "Never"
        priority_class_name             = var.priority_class_name
        node_selector                   = var.node_selector

        security_context {
          run_as_non_root = true
          run_as_user     = 65532
          run_as_group    = 65532
          # Makes the projected IRSA token readable by the non-root user.
          fs_group = 65532

          seccomp_profile {
            type = "RuntimeDefault"
          }
        }

        dynamic "image_pull_secrets" {
          for_each = var.image_pull_secrets

          content {
            name = image_pull_secrets.value
          }
        }

        dynamic "toleration" {
          for_each = var.tolerations

          content {
            key                = toleration.value.key
            operator           = toleration.value.operator
            value              = toleration.value.value
            effect             = toleration.value.effect
            toleration_seconds = toleration.value.toleration_seconds == null ? null : tostring(toleration.value.toleration_seconds)
          }
        }

        dynamic "affinity" {
          for_each = length(var.node_affinity.required_terms) + length(var.node_affinity.preferred_terms) > 0 ? [var.node_affinity] : []

          content {
            node_affinity {
              dynamic "required_during_scheduling_ignored_during_execution" {
                for_each = length(affinity.value.required_terms) > 0 ? [affinity.value.required_terms] : []

                content {
                  dynamic "node_selector_term" {
                    for_each = required_during_scheduling_ignored_during_execution.value

                    content {
                      dynamic "match_expressions" {
                        for_each = node_selector_term.value.match_expressions

                        content {
                          key      = match_expressions.value.key
                          operator = match_expressions.value.operator
                          values   = match_expressions.value.values
                        }
                      }
                    }
                  }
                }
              }

              dynamic "preferred_during_scheduling_ignored_during_execution" {
                for_each = affinity.value.preferred_terms

                content {
                  weight = preferred_during_scheduling_ignored_during_execution.value.weight

                  preference {
                    dynamic "match_expressions" {
                      for_each = preferred_during_scheduling_ignored_during_execution.value.match_expressions

                      content {
                        key      = match_expressions.value.key
                        operator = match_expressions.value.operator
                        values   = match_expressions.value.values
                      }
                    }
                  }
                }
              }
            }
          }
        }

        container {
          name              = "ecr-renew"
          image             = local.image
          image_pull_policy = var.image_pull_policy
          args              = ["sync"]

          env {
            name  = "AWS_REGION"
            value = var.aws_region
          }
          env {
            name  = "ECR_RENEW_REGIONS"
            value = join(",", local.regions)
          }
          env {
            name  = "ECR_RENEW_REGISTRY_IDS"
            value = join(",", var.ecr_registry_ids)
          }
          env {
            name  = "ECR_RENEW_NAMESPACES"
            value = join(",", local.namespaces)
          }
          env {
            name  = "ECR_RENEW_SECRET_NAME"
            value = var.ecr_secret_name
          }
          env {
            name  = "ECR_RENEW_LOG_FORMAT"
            value = var.log_format
          }
          env {
            name  = "ECR_RENEW_LOG_LEVEL"
            value = var.log_level
          }
          # Only when set, so that an installation without them plans no change.
          dynamic "env" {
            for_each = local.sync_account_env

            content {
              name  = env.key
              value = env.value
            }
          }

          resources {
            requests = var.resources.requests
            limits   = var.resources.limits
          }

          security_context {
            allow_privilege_escalation = false
            read_only_root_filesystem  = true
            run_as_non_root            = true
            run_as_user                = 65532
            run_as_group               = 65532

            capabilities {
              drop = ["ALL"]
            }
          }
        }
      }
    }
  }

  wait_for_completion = true

  timeouts {
    create = var.initial_secret_timeout
    update = var.initial_secret_timeout
  }

  depends_on = [kubernetes_role_binding_v1.secrets]
}

# --- mode = "controller" ------------------------------------------------------

# What `ecr-renew run` needs, in every namespace, and no more: namespaces list
# and watch (new or newly matching namespaces are served at once; it never
# reads a single namespace, so no get); the pull Secret by name for get, list,
# watch, update and patch (it lists and watches with
# fieldSelector=metadata.name=<name>, which RBAC authorises as a request for
# that name); create, which RBAC cannot limit by name; and events create and
# patch (its Events on the Secrets, their namespaces and its own Pod). No
# delete of Secrets, no namespaces create. It replaces the Roles of mode
# cronjob. The Lease has a Role of its own (leader_election, below).
# service_accounts, annotated_service_accounts and heal_pods add the rules
# of local.controller_extra_rules (locals.tf), only when set.
resource "kubernetes_cluster_role_v1" "controller" {
  count = local.controller ? 1 : 0

  metadata {
    name   = "ecr-renew-controller"
    labels = local.labels
  }

  rule {
    api_groups = [""]
    resources  = ["namespaces"]
    verbs      = ["list", "watch"]
  }

  rule {
    api_groups = [""]
    resources  = ["secrets"]
    verbs      = ["create"]
  }

  rule {
    api_groups     = [""]
    resources      = ["secrets"]
    resource_names = [var.ecr_secret_name]
    verbs          = ["get", "list", "watch", "update", "patch"]
  }

  rule {
    api_groups = [""]
    resources  = ["events"]
    verbs      = ["create", "patch"]
  }

  dynamic "rule" {
    for_each = local.controller_extra_rules

    content {
      api_groups     = rule.value.api_groups
      resources      = rule.value.resources
      resource_names = length(rule.value.resource_names) > 0 ? rule.value.resource_names : null
      verbs          = rule.value.verbs
    }
  }
}

resource "kubernetes_cluster_role_binding_v1" "controller" {
  count = local.controller ? 1 : 0

  metadata {
    name   = "ecr-renew-controller"
    labels = local.labels
  }

  role_ref {
    api_group = "rbac.authorization.k8s.io"
    kind      = "ClusterRole"
    name      = kubernetes_cluster_role_v1.controller[0].metadata[0].name
  }

  subject {
    kind      = "ServiceAccount"
    name      = kubernetes_service_account_v1.this.metadata[0].name
    namespace = local.job_namespace
  }
}

# Leader election on the Lease kube-system/ecr-renew, as client-go's: get
# and update it by name, create it (RBAC cannot limit create by name). In
# the Lease's namespace only.
resource "kubernetes_role_v1" "leader_election" {
  count = local.controller ? 1 : 0

  metadata {
    name      = "ecr-renew-leader-election"
    namespace = local.job_namespace
    labels    = local.labels
  }

  rule {
    api_groups = ["coordination.k8s.io"]
    resources  = ["leases"]
    verbs      = ["create"]
  }

  rule {
    api_groups     = ["coordination.k8s.io"]
    resources      = ["leases"]
    resource_names = [local.lease_name]
    verbs          = ["get", "update"]
  }
}

resource "kubernetes_role_binding_v1" "leader_election" {
  count = local.controller ? 1 : 0

  metadata {
    name      = "ecr-renew-leader-election"
    namespace = local.job_namespace
    labels    = local.labels
  }

  role_ref {
    api_group = "rbac.authorization.k8s.io"
    kind      = "Role"
    name      = kubernetes_role_v1.leader_election[0].metadata[0].name
  }

  subject {
    kind      = "ServiceAccount"
    name      = kubernetes_service_account_v1.this.metadata[0].name
    namespace = local.job_namespace
  }
}

# controller_replicas pods (2 by default) with leader election: only the
# holder of the Lease writes, a standby takes over within about 17 s of its
# death and within 3 s of its SIGTERM. They prefer different nodes, and the
# PodDisruptionBudget lets a drain take one at a time. A rollout starts a new
# pod first and stops an old one once the new one is ready, so a controller
# is serving throughout. With create_initial_secret, apply waits for the
# rollout, which is done only when every replica is ready: a standby once its
# lists and tokens are in, the leader once every selected namespace holds a
# valid Secret, which is what the one-off Job guarantees in mode cronjob.
resource "kubernetes_deployment_v1" "controller" {
  count = local.controller ? 1 : 0

  metadata {
    name      = "ecr-renew"
    namespace = local.job_namespace
    labels    = local.controller_labels
  }

  spec {
    replicas = var.controller_replicas

    selector {
      match_labels = local.controller_selector
    }

    strategy {
      type = "RollingUpdate"

      rolling_update {
        max_surge       = "1"
        max_unavailable = "0"
      }
    }

    template {
      metadata {
        labels      = local.controller_pod_labels
        annotations = var.pod_annotations
      }

      spec {
        service_account_name = kubernetes_service_account_v1.this.metadata[0].name
        # The controller talks to the API server with this account's token.
        automount_service_account_token = true
        # Service links would put ECR_RENEW_METRICS_* variables (from the
        # ecr-renew-metrics Service) into the environment the program reads.
        enable_service_links = false
        # It exits within 2 seconds of SIGTERM.
        termination_grace_period_seconds = 10
        priority_class_name              = var.priority_class_name
        node_selector                    = var.node_selector

        security_context {
          run_as_non_root = true
          run_as_user     = 65532
          run_as_group    = 65532
          # Makes the projected IRSA token readable by the non-root user.
          fs_group = 65532

          seccomp_profile {
            type = "RuntimeDefault"
          }
        }

        dynamic "image_pull_secrets" {
          for_each = var.image_pull_secrets

          content {
            name = image_pull_secrets.value
          }
        }

        dynamic "toleration" {
          for_each = var.tolerations

          content {
            key                = toleration.value.key
            operator           = toleration.value.operator
            value              = toleration.value.value
            effect             = toleration.value.effect
            toleration_seconds = toleration.value.toleration_seconds == null ? null : tostring(toleration.value.toleration_seconds)
          }
        }

        affinity {
          # node_affinity as for the jobs.
          dynamic "node_affinity" {
            for_each = length(var.node_affinity.required_terms) + length(var.node_affinity.preferred_terms) > 0 ? [var.node_affinity] : []

            content {
              dynamic "required_during_scheduling_ignored_during_execution" {
                for_each = length(node_affinity.value.required_terms) > 0 ? [node_affinity.value.required_terms] : []

                content {
                  dynamic "node_selector_term" {
                    for_each = required_during_scheduling_ignored_during_execution.value

                    content {
                      dynamic "match_expressions" {
                        for_each = node_selector_term.value.match_expressions

                        content {
                          key      = match_expressions.value.key
                          operator = match_expressions.value.operator
                          values   = match_expressions.value.values
                        }
                      }
                    }
                  }
                }
              }

              dynamic "preferred_during_scheduling_ignored_during_execution" {
                for_each = node_affinity.value.preferred_terms

                content {
                  weight = preferred_during_scheduling_ignored_during_execution.value.weight

                  preference {
                    dynamic "match_expressions" {
                      for_each = preferred_during_scheduling_ignored_during_execution.value.match_expressions

                      content {
                        key      = match_expressions.value.key
                        operator = match_expressions.value.operator
                        values   = match_expressions.value.values
                      }
                    }
                  }
                }
              }
            }
          }

          # The replicas on different nodes when the cluster has them, so
          # losing a node leaves a standby. Preferred, not required: a
          # one-node cluster, or a rollout's extra pod, still gets scheduled.
          pod_anti_affinity {
            preferred_during_scheduling_ignored_during_execution {
              weight = 100

              pod_affinity_term {
                topology_key = "kubernetes.io/hostname"

                label_selector {
                  match_labels = local.controller_selector
                }
              }
            }
          }
        }

        container {
          name              = "ecr-renew"
          image             = local.image
          image_pull_policy = var.image_pull_policy
          args              = ["run"]

          port {
            name           = "http"
            container_port = var.listen_port
            protocol       = "TCP"
          }

          env {
            name  = "AWS_REGION"
            value = var.aws_region
          }
          env {
            name  = "ECR_RENEW_REGIONS"
            value = join(",", local.regions)
          }
          env {
            name  = "ECR_RENEW_REGISTRY_IDS"
            value = join(",", var.ecr_registry_ids)
          }
          env {
            name  = "ECR_RENEW_NAMESPACES"
            value = join(",", local.namespaces)
          }
          env {
            name  = "ECR_RENEW_EXCLUDE_NAMESPACES"
            value = join(",", var.exclude_namespaces)
          }
          env {
            name  = "ECR_RENEW_NAMESPACE_SELECTOR"
            value = var.namespace_selector
          }
          env {
            name  = "ECR_RENEW_SECRET_NAME"
            value = var.ecr_secret_name
          }
          env {
            name  = "ECR_RENEW_LISTEN"
            value = ":${var.listen_port}"
          }
          env {
            name  = "ECR_RENEW_LOG_FORMAT"
            value = var.log_format
          }
          env {
            name  = "ECR_RENEW_LOG_LEVEL"
            value = var.log_level
          }
          # Only the holder of the Lease writes (Secrets, ServiceAccounts,
          # Events, pod deletions); the others stand by.
          env {
            name  = "ECR_RENEW_LEADER_ELECT"
            value = "true"
          }
          env {
            name  = "ECR_RENEW_LEASE_NAME"
            value = local.lease_name
          }
          # The pod's own namespace, where the Role for the Lease is.
          env {
            name = "ECR_RENEW_LEASE_NAMESPACE"

            value_from {
              field_ref {
                api_version = "v1"
                field_path  = "metadata.namespace"
              }
            }
          }
          # The identity in the Lease (plus a random suffix), and the Pod
          # that TokenRenewalFailed Events are recorded on.
          env {
            name = "POD_NAME"

            value_from {
              field_ref {
                api_version = "v1"
                field_path  = "metadata.name"
              }
            }
          }
          env {
            name = "POD_NAMESPACE"

            value_from {
              field_ref {
                api_version = "v1"
                field_path  = "metadata.namespace"
              }
            }
          }
          env {
            name  = "ECR_RENEW_SERVICE_ACCOUNTS"
            value = join(",", var.service_accounts)
          }
          env {
            name  = "ECR_RENEW_ANNOTATED_SERVICE_ACCOUNTS"
            value = tostring(var.annotated_service_accounts)
          }
          env {
            name  = "ECR_RENEW_HEAL_PODS"
            value = tostring(var.heal_pods)
          }
          env {
            name  = "ECR_RENEW_HEAL_RATE"
            value = tostring(var.heal_rate)
          }

          liveness_probe {
            http_get {
              path = "/healthz"
              port = "http"
            }

            period_seconds    = 10
            timeout_seconds   = 3
            failure_threshold = 3
          }

          # The leader is ready once the first full pass is done and every
          # selected namespace holds a valid Secret; a standby once its
          # lists and tokens are in.
          readiness_probe {
            http_get {
              path = "/readyz"
              port = "http"
            }

            period_seconds    = 5
            timeout_seconds   = 3
            failure_threshold = 3
          }

          resources {
            requests = var.controller_resources.requests
            limits   = var.controller_resources.limits
          }

          security_context {
            allow_privilege_escalation = false
            read_only_root_filesystem  = true
            run_as_non_root            = true
            run_as_user                = 65532
            run_as_group               = 65532

            capabilities {
              drop = ["ALL"]
            }
          }
        }
      }
    }
  }

  wait_for_rollout = var.create_initial_secret

  timeouts {
    create = var.initial_secret_timeout
    update = var.initial_secret_timeout
  }

  depends_on = [kubernetes_cluster_role_binding_v1.controller, kubernetes_role_binding_v1.leader_election]
}

# A drain (or any eviction) takes at most one controller pod at a time.
# maxUnavailable rather than minAvailable = 1: with one replica (or one pod
# stuck Pending) minAvailable = 1 would block every drain for ever, while
# maxUnavailable = 1 still lets the last pod go; a few minutes without the
# controller cost nothing, the Secrets stay valid for hours.
resource "kubernetes_pod_disruption_budget_v1" "controller" {
  count = local.controller ? 1 : 0

  metadata {
    name      = "ecr-renew"
    namespace = local.job_namespace
    labels    = local.controller_labels
  }

  spec {
    max_unavailable = "1"

    selector {
      match_labels = local.controller_selector
    }
  }
}

# For Prometheus. Not-ready pods are published too, so a controller that
# cannot write its Secrets (and is therefore not ready) is still scraped.
resource "kubernetes_service_v1" "metrics" {
  count = local.controller ? 1 : 0

  metadata {
    name      = "ecr-renew-metrics"
    namespace = local.job_namespace
    labels    = local.controller_labels
  }

  spec {
    type                        = "ClusterIP"
    selector                    = local.controller_selector
    publish_not_ready_addresses = true

    port {
      name        = "http-metrics"
      port        = var.listen_port
      target_port = "http"
      protocol    = "TCP"
    }
  }
}

# The Prometheus operator's kinds. kubernetes_manifest reads their schema
# from the cluster during plan, so the CRDs must exist before then.
resource "kubernetes_manifest" "service_monitor" {
  count = local.controller && var.service_monitor_enabled ? 1 : 0

  manifest = {
    apiVersion = "monitoring.coreos.com/v1"
    kind       = "ServiceMonitor"
    metadata = {
      name      = "ecr-renew"
      namespace = local.job_namespace
      labels    = local.monitoring_labels
    }
    spec = {
      selector = {
        matchLabels = local.controller_selector
      }
      namespaceSelector = {
        matchNames = [local.job_namespace]
      }
      endpoints = [{
        port     = "http-metrics"
        path     = "/metrics"
        interval = "30s"
      }]
    }
  }

  depends_on = [kubernetes_service_v1.metrics]
}

# Keep these rules identical to
# deploy/kubernetes/components/prometheus-rule/prometheusrule.yaml
# (tests/deploy/test_drift.py compares them; test_manifests.py runs promtool
# on them). What to do when each fires: docs/operators-guide.md#alerts.
resource "kubernetes_manifest" "prometheus_rule" {
  count = local.controller && var.prometheus_rule_enabled ? 1 : 0

  manifest = {
    apiVersion = "monitoring.coreos.com/v1"
    kind       = "PrometheusRule"
    metadata = {
      name      = "ecr-renew"
      namespace = local.job_namespace
      labels    = local.monitoring_labels
    }
    spec = {
      groups = [{
        name = "ecr-renew"
        rules = [
          {
            alert = "EcrRenewTokenExpiringSoon"
            expr  = "max by (region, registry) (ecr_renew_token_expiry_timestamp_seconds) - time() < 2 * 3600"
            "for" = "5m"
            labels = {
              severity = "critical"
            }
            annotations = {
              summary     = "The ECR token in the pull Secrets for {{ $labels.registry }} expires in {{ $value | humanizeDuration }}."
              description = "ecr-renew renews a token when half of its 12-hour life has passed, so less than 2 hours left means renewals have failed for about 4 hours; when the token expires, pulls from {{ $labels.registry }} fail in every namespace. Check the controller's log (kubectl -n kube-system logs deploy/ecr-renew) and ecr_renew_aws_errors_total for the failing AWS operation and code: IRSA (the ServiceAccount annotation, the role's trust policy, the OIDC provider), the role's ecr:GetAuthorizationToken permission, and whether STS and ECR in {{ $labels.region }} can be reached."
            }
          },
          {
            alert = "EcrRenewNoRecentSuccess"
            expr  = "time() - ecr_renew_last_success_timestamp_seconds > 9 * 3600"
            "for" = "15m"
            labels = {
              severity = "warning"
            }
            annotations = {
              summary     = "ecr-renew has not completed a successful pass for {{ $value | humanizeDuration }}."
              description = "No pass of the controller has succeeded for more than 9 hours (or none since the pod started); the tokens in the Secrets are at most 12 hours valid. Check the controller's log (kubectl -n kube-system logs deploy/ecr-renew), its readiness (/readyz), and the ecr_renew_aws_errors_total and ecr_renew_secret_errors_total counters for the cause."
            }
          },
          {
            alert = "EcrRenewSecretErrors"
            expr  = "sum by (reason) (increase(ecr_renew_secret_errors_total[15m])) > 0"
            "for" = "30m"
            labels = {
              severity = "warning"
            }
            annotations = {
              summary     = "ecr-renew keeps failing to write pull Secrets ({{ $labels.reason }})."
              description = "Writes of the pull Secret have failed with reason {{ $labels.reason }} in every 15-minute window for the last 30 minutes. Forbidden: the ClusterRole or its binding is missing, or the Secret name differs from its resourceNames, or an admission policy refuses the write. Foreign: a Secret of that name belongs to someone else (another type, owner references, or managed by another tool) and is left alone; rename one of them. NotFound: the namespace is gone or going. Invalid, Conflict, network: see the controller's log (kubectl -n kube-system logs deploy/ecr-renew), which names the namespace of each failure."
            }
          },
          {
            alert = "EcrRenewAwsErrors"
            expr  = "sum by (operation, code) (increase(ecr_renew_aws_errors_total[15m])) > 0"
            "for" = "30m"
            labels = {
              severity = "warning"
            }
            annotations = {
              summary     = "ecr-renew keeps getting AWS errors: {{ $labels.operation }} {{ $labels.code }}."
              description = "{{ $labels.operation }} has failed with {{ $labels.code }} in every 15-minute window for the last 30 minutes. The Secrets keep their current token until it expires (see EcrRenewTokenExpiringSoon). AccessDenied or InvalidIdentityToken on AssumeRoleWithWebIdentity: the role's trust policy or the cluster's OIDC provider; AccessDenied on GetAuthorizationToken: the role's policy, a permissions boundary or an SCP; network or throttling codes: the route to STS and ECR (proxy, DNS, VPC endpoints)."
            }
          },
          {
            alert = "EcrRenewNamespacesFailing"
            expr  = "ecr_renew_namespaces{state=\"failed\"} > 0"
            "for" = "15m"
            labels = {
              severity = "warning"
            }
            annotations = {
              summary     = "{{ $value }} selected namespaces have no valid pull Secret from ecr-renew."
              description = "The controller could not write the pull Secret into {{ $value }} of the namespaces it selects, for 15 minutes; pods there that name the Secret cannot pull. The controller's log (kubectl -n kube-system logs deploy/ecr-renew) names each namespace and the reason; see EcrRenewSecretErrors for what each reason means."
            }
          },
          {
            alert = "EcrRenewDown"
            expr  = "absent(up{job=\"ecr-renew-metrics\", namespace=\"kube-system\"} == 1)"
            "for" = "15m"
            labels = {
              severity = "critical"
            }
            annotations = {
              summary     = "The ecr-renew controller has not been scraped for 15 minutes."
              description = "No ecr-renew-metrics target in kube-system is up. While the controller is down nothing renews the pull Secrets (they stay valid for at most 12 hours after their last renewal), new namespaces get none, and the other ecr-renew alerts cannot fire. Check kubectl -n kube-system get deploy,pods -l app.kubernetes.io/name=ecr-renew (image pull errors, CrashLoopBackOff, a configuration error in the log), and that the ServiceMonitor and the ecr-renew-metrics Service exist."
            }
          },
        ]
      }]
    }
  }
}
