/*
 * accounts.h - sync's ServiceAccount patching: in a namespace whose
 * Secret was just written, add it to the imagePullSecrets of the accounts
 * the options name (--service-account, "*", --annotated-service-accounts),
 * one request at a time. The controller does the same on its loop.
 */
#ifndef ECR_RENEW_CLI_ACCOUNTS_H
#define ECR_RENEW_CLI_ACCOUNTS_H

#include "../core/buf.h"
#include "../core/err.h"
#include "../kube/client.h"
#include "cluster.h"

#include <stddef.h>

struct account_tally {
    size_t patched, failed;
    struct buf failures; /* "ns/name (Reason), ..." */
    enum er_code worst;  /* of the failures */
};

/* Patches the accounts of ns that need it, logging each. Failures are
 * counted in t, never fatal to the other namespaces. */
void accounts_patch_namespace(struct kube_client *kc,
                              const struct cluster_opts *o, const char *ns,
                              struct account_tally *t);

#endif
