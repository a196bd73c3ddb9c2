#include "discover.h"
#include "../core/xalloc.h"

#include <stdlib.h>
#include <string.h>

static const char *env(kube_env_lookup lookup, const char *name)
{
    const char *v = lookup(name);

    return v && *v ? v : NULL;
}

static enum er_code in_cluster(const char *context, kube_env_lookup lookup,
                               struct kube_target *out, struct er_error *err)
{
    const char *sa_dir = env(lookup, "ECR_RENEW_SERVICEACCOUNT_DIR");

    if (context)
        return er_set(err, ER_USAGE,
                      "--context needs a kubeconfig (none given, running "
                      "in-cluster)");
    return kube_incluster(env(lookup, "KUBERNETES_SERVICE_HOST"),
                          env(lookup, "KUBERNETES_SERVICE_PORT"),
                          sa_dir ? sa_dir : KUBE_SA_DIR_DEFAULT, out, err);
}

enum er_code kube_target_discover(const char *kubeconfig_flag,
                                  const char *context, kube_env_lookup lookup,
                                  struct kube_target *out, struct er_error *err)
{
    const char *paths = kubeconfig_flag && *kubeconfig_flag
                            ? kubeconfig_flag
                            : env(lookup, "KUBECONFIG");
    const char *home = env(lookup, "HOME");
    char *home_config;
    enum er_code rc;

    if (!paths && env(lookup, "KUBERNETES_SERVICE_HOST"))
        return in_cluster(context, lookup, out, err);
    if (paths)
        return kubeconfig_load(paths, context, out, err);
    home_config = xasprintf("%s/.kube/config", home ? home : ".");
    rc = kubeconfig_load(home_config, context, out, err);
    free(home_config);
    return rc;
}
