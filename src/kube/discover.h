/*
 * discover.h - which cluster, and who we are to it, as client-go decides.
 *
 * The order is client-go's: --kubeconfig, else KUBECONFIG (a ':' list),
 * else in-cluster configuration when KUBERNETES_SERVICE_HOST is set, else
 * ~/.kube/config. The environment is read through a lookup function, so
 * tests pass a table instead of changing the process environment.
 */
#ifndef ECR_RENEW_KUBE_DISCOVER_H
#define ECR_RENEW_KUBE_DISCOVER_H

#include "../core/err.h"
#include "kubeconfig.h"

/* Looks a variable up; NULL when unset. getenv fits. */
typedef const char *(*kube_env_lookup)(const char *name);

/* Fills *out. kubeconfig_flag and context may be NULL. Reads
 * KUBECONFIG, KUBERNETES_SERVICE_HOST, KUBERNETES_SERVICE_PORT,
 * ECR_RENEW_SERVICEACCOUNT_DIR and HOME through lookup. */
enum er_code kube_target_discover(const char *kubeconfig_flag,
                                  const char *context, kube_env_lookup lookup,
                                  struct kube_target *out,
                                  struct er_error *err) ER_CHECK;

#endif
