# The Kubernetes side of ecr-renew: the ServiceAccount the IAM role trusts,
# the least RBAC `ecr-renew sync` needs in each target namespace, the CronJob
# that keeps the pull Secret fresh, and a one-off Job so the Secret exists
# when `terraform apply` returns.
#
# The objects mirror deploy/kubernetes/base; tests/deploy/test_drift.py
# checks that both say the same.

locals {
  # The job runs here, under this ServiceAccount; the IAM trust policy
  # names exactly system:serviceaccount:kube-system:ecr-renew-sa.
  job_namespace        = "kube-system"
  service_account_name = "ecr-renew-sa"

  namespaces = distinct(concat([var.ecr_secret_namespace], var.ecr_secret_namespaces))
  regions    = distinct(concat([var.aws_region], var.ecr_extra_regions))

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

  # Everything that changes what the one-off Job would write. A change gives
  # the Job a new name, so Terraform replaces it and it runs again; without
  # one the finished Job stays and nothing re-runs.
  initial_job_inputs = {
    image        = local.image
    namespaces   = local.namespaces
    secret_name  = var.ecr_secret_name
    regions      = local.regions
    registry_ids = var.ecr_registry_ids
    role_arn     = var.role_arn
  }
  initial_job_name = "ecr-secret-initial-${substr(sha256(jsonencode(local.initial_job_inputs)), 0, 8)}"
}

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

  # Only the job's pods use this account, and they opt in explicitly.
  automount_service_account_token = false
}

# `ecr-renew sync` reads and replaces one Secret by name and creates it when
# it is missing. RBAC cannot limit create by name, so create is a rule of its
# own; get and update only reach the pull Secret. No delete, patch or list.
resource "kubernetes_role_v1" "secrets" {
  for_each = toset(local.namespaces)

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

  depends_on = [kubernetes_namespace_v1.target]
}

resource "kubernetes_role_binding_v1" "secrets" {
  for_each = toset(local.namespaces)

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

resource "kubernetes_cron_job_v1" "renewal" {
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

  depends_on = [kubernetes_role_binding_v1.secrets]
}

# The first Secret, written from inside the cluster by the same image, pod
# template and identity as the CronJob: nothing but Terraform is needed where
# it runs. Apply waits for the Job and fails if it fails.
resource "kubernetes_job_v1" "initial" {
  count = var.create_initial_secret ? 1 : 0

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
