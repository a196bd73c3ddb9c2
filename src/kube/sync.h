/*
 * sync.h - write the pull Secret into one namespace, with no gap.
 *
 * GET the Secret; if it exists and may be ours (see pull_secret.h), PUT it
 * back changed, carrying its resourceVersion, and on 409 Conflict read
 * it again and retry; if it does not exist, POST it, and on 409
 * AlreadyExists (someone made it meanwhile) go back to the update. The
 * Secret is never deleted, so pods can pull at every moment.
 *
 * A missing namespace is told from the Status of the create (404 with
 * details.kind "namespaces"), which needs no rights on namespaces; with
 * create_namespace it is created and the Secret created again.
 */
#ifndef ECR_RENEW_KUBE_SYNC_H
#define ECR_RENEW_KUBE_SYNC_H

#include "../core/err.h"
#include "client.h"
#include "pull_secret.h"

#include <stdbool.h>

#define KUBE_SYNC_MAX_ROUNDS 5

enum kube_sync_outcome {
    KUBE_SYNC_CREATED,
    KUBE_SYNC_UPDATED,
    KUBE_SYNC_TAKEN_OVER,
};

const char *kube_sync_outcome_name(enum kube_sync_outcome o);

/* Makes spec true in namespace ns. On failure err names the request,
 * the Kubernetes reason and message, and what to do; *reason is set to
 * the Status reason ("Forbidden") or the failure kind. */
enum er_code kube_sync_namespace(struct kube_client *c,
                                 const struct kube_secret_spec *spec,
                                 const char *ns, bool create_namespace,
                                 enum kube_sync_outcome *outcome, char *reason,
                                 size_t reason_cap,
                                 struct er_error *err) ER_CHECK;

#endif
