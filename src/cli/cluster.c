#include "cluster.h"
#include "../kube/discover.h"
#include "../kube/names.h"

#include <stdlib.h>
#include <string.h>

static const char *env_value(const char *name)
{
    const char *v = getenv(name);

    return v && *v ? v : NULL;
}

int cluster_opts_take(const char *command, struct cluster_opts *o, int opt,
                      const char *arg)
{
    switch (opt) {
    case OPT_NAMESPACE:
        return cli_add_list(command, "--namespace", &o->namespaces, arg);
    case OPT_EXCLUDE_NAMESPACE:
        return cli_add_list(command, "--exclude-namespace", &o->excludes, arg);
    case OPT_NAMESPACE_SELECTOR:
        o->selector = arg;
        return 0;
    case OPT_SECRET_NAME:
        o->secret_name = arg;
        return 0;
    case OPT_REGION:
        return cli_add_list(command, "--region", &o->regions, arg);
    case OPT_REGISTRY_ID:
        return cli_add_list(command, "--registry-id", &o->ids, arg);
    case OPT_KUBECONFIG:
        o->kubeconfig = arg;
        return 0;
    case OPT_CONTEXT:
        o->context = arg;
        return 0;
    case OPT_SERVICE_ACCOUNT:
        return cli_add_list(command, "--service-account", &o->service_accounts,
                            arg);
    case OPT_ANNOTATED_SAS:
        o->annotated_service_accounts = true;
        return 0;
    }
    return cli_registry_option(command, &o->reg, opt, arg);
}

static int finish_selection(const char *command, struct cluster_opts *o)
{
    struct er_error err = {0};
    int status;

    if ((status = cli_default_list(command, &o->namespaces,
                                   "ECR_RENEW_NAMESPACES")) != 0 ||
        (status = cli_default_list(command, &o->excludes,
                                   "ECR_RENEW_EXCLUDE_NAMESPACES")) != 0)
        return status;
    if (!o->selector)
        o->selector = env_value("ECR_RENEW_NAMESPACE_SELECTOR");
    if (ns_selection_init(&o->selection, &o->namespaces, &o->excludes,
                          o->selector, &err) != ER_OK)
        return cli_usage_error(command, "%s", err.msg);
    return 0;
}

static int finish_accounts(const char *command, struct cluster_opts *o)
{
    int status = cli_default_list(command, &o->service_accounts,
                                  "ECR_RENEW_SERVICE_ACCOUNTS");

    if (status != 0)
        return status;
    if (!o->annotated_service_accounts)
        o->annotated_service_accounts =
            str_is_true(getenv("ECR_RENEW_ANNOTATED_SERVICE_ACCOUNTS"));
    for (size_t i = 0; i < o->service_accounts.n; i++) {
        const char *name = o->service_accounts.items[i];
        if (strcmp(name, "*") == 0)
            o->all_service_accounts = true;
        else if (!kube_name_is_subdomain(name))
            return cli_usage_error(command,
                                   "--service-account \"%s\" is not a "
                                   "ServiceAccount name (lower-case letters, "
                                   "digits, '-' and '.') nor *",
                                   name);
    }
    return 0;
}

bool cluster_patches_accounts(const struct cluster_opts *o)
{
    return o->service_accounts.n > 0 || o->annotated_service_accounts;
}

bool cluster_lists_accounts(const struct cluster_opts *o)
{
    return o->all_service_accounts || o->annotated_service_accounts;
}

int cluster_opts_finish(const char *command, struct cluster_opts *o)
{
    int status;

    if ((status = cli_default_list(command, &o->regions,
                                   "ECR_RENEW_REGIONS")) != 0 ||
        (status = cli_default_list(command, &o->ids,
                                   "ECR_RENEW_REGISTRY_IDS")) != 0 ||
        (status = cli_check_registry_ids(command, &o->ids)) != 0)
        return status;
    if (!o->secret_name)
        o->secret_name = env_value("ECR_RENEW_SECRET_NAME");
    if (!o->secret_name)
        o->secret_name = CLUSTER_DEFAULT_SECRET;
    if (!o->context)
        o->context = env_value("ECR_RENEW_CONTEXT");
    if (!kube_name_is_subdomain(o->secret_name))
        return cli_usage_error(command,
                               "secret name \"%s\" is not a valid "
                               "Kubernetes name (lower-case letters, digits, "
                               "'-' and '.')",
                               o->secret_name);
    if ((status = finish_accounts(command, o)) != 0 ||
        (status = cli_finish_registry(command, &o->reg)) != 0)
        return status;
    return finish_selection(command, o);
}

void cluster_opts_clear(struct cluster_opts *o)
{
    ns_selection_free(&o->selection);
    str_list_clear(&o->namespaces);
    str_list_clear(&o->excludes);
    str_list_clear(&o->regions);
    str_list_clear(&o->ids);
    str_list_clear(&o->service_accounts);
    cli_registry_clear(&o->reg);
}

static const char *process_env(const char *name)
{
    return getenv(name);
}

enum er_code cluster_open(const struct cluster_opts *o,
                          const struct deadline *deadline,
                          struct kube_client **out, struct er_error *err)
{
    struct kube_target t;
    enum er_code rc;

    memset(&t, 0, sizeof(t));
    rc = kube_target_discover(o->kubeconfig, o->context, process_env, &t, err);
    if (rc == ER_OK) {
        *out = kube_client_new(&t, clock_system(), &retry_default_policy);
        kube_client_set_deadline(*out, deadline);
    }
    kube_target_free(&t);
    return rc;
}
