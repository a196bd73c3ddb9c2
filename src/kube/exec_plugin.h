/*
 * exec_plugin.h - client.authentication.k8s.io credential plugins.
 *
 * How EKS kubeconfigs log in ("aws eks get-token"): the plugin is run
 * with KUBERNETES_EXEC_INFO describing the request (never interactive:
 * ecr-renew runs unattended, so stdin is /dev/null and a plugin whose
 * interactiveMode is Always is refused), and prints an ExecCredential
 * whose status holds a token or a client certificate and key, and
 * optionally an expirationTimestamp. The plugin's stderr passes through.
 *
 * Ownership: struct kube_exec_credential owns its strings;
 * kube_exec_credential_free wipes them.
 */
#ifndef ECR_RENEW_KUBE_EXEC_PLUGIN_H
#define ECR_RENEW_KUBE_EXEC_PLUGIN_H

#include "../core/deadline.h"
#include "../core/err.h"
#include "kubeconfig.h"

#include <stddef.h>
#include <time.h>

#define KUBE_EXEC_TIMEOUT_SECONDS 120
#define KUBE_EXEC_OUTPUT_CAP (1024u * 1024)

struct kube_exec_credential {
    char *token; /* secret */
    char *client_cert_pem;
    char *client_key_pem; /* secret */
    time_t expiration;    /* 0: none given */
};

/* Runs the plugin for target t (whose server and CA are passed on when
 * provideClusterInfo is set) and parses what it prints. It is killed,
 * with all it started, when it outlives KUBE_EXEC_TIMEOUT_SECONDS (or
 * ECR_RENEW_EXEC_TIMEOUT) or the deadline (may be NULL). */
enum er_code kube_exec_run(const struct kube_exec_config *cfg,
                           const struct kube_target *t,
                           const struct deadline *deadline,
                           struct kube_exec_credential *out,
                           struct er_error *err) ER_CHECK;

/* Pure: parses a plugin's stdout. The ExecCredential's apiVersion must
 * equal api_version; status must hold a token (free of control
 * characters: it becomes a header) or a certificate and key, and an
 * expirationTimestamp, if any, within the sane range. */
enum er_code kube_exec_parse(const char *json, size_t len,
                             const char *api_version,
                             struct kube_exec_credential *out,
                             struct er_error *err) ER_CHECK;

/* The KUBERNETES_EXEC_INFO document for cfg and t, newly allocated. */
char *kube_exec_info(const struct kube_exec_config *cfg,
                     const struct kube_target *t);

void kube_exec_credential_free(struct kube_exec_credential *c);

#endif
