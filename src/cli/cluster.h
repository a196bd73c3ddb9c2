/*
 * cluster.h - the options sync and run share: which cluster
 * (--kubeconfig, --context), which namespaces (--namespace,
 * --exclude-namespace, --namespace-selector), which Secret
 * (--secret-name) and which registries (--region, --registry-id), each
 * with its environment variable, and opening the cluster they name.
 */
#ifndef ECR_RENEW_CLI_CLUSTER_H
#define ECR_RENEW_CLI_CLUSTER_H

#include "../core/deadline.h"
#include "../core/err.h"
#include "../core/strutil.h"
#include "../kube/client.h"
#include "../kube/ns_select.h"
#include "common.h"

#define CLUSTER_DEFAULT_SECRET "ecr-registry-secret"

/* Their ids for getopt_long, after the common ones. */
enum {
    OPT_NAMESPACE = 'n',
    OPT_EXCLUDE_NAMESPACE = OPT_COMMON_END,
    OPT_NAMESPACE_SELECTOR,
    OPT_SECRET_NAME,
    OPT_REGION,
    OPT_REGISTRY_ID,
    OPT_KUBECONFIG,
    OPT_CONTEXT,
    OPT_SERVICE_ACCOUNT,
    OPT_ANNOTATED_SAS,
    OPT_CLUSTER_END,
};

#define CLUSTER_LONG_OPTIONS                                                   \
    {"namespace", required_argument, NULL, OPT_NAMESPACE},                     \
        {"exclude-namespace", required_argument, NULL, OPT_EXCLUDE_NAMESPACE}, \
        {"namespace-selector", required_argument, NULL,                        \
         OPT_NAMESPACE_SELECTOR},                                              \
        {"secret-name", required_argument, NULL, OPT_SECRET_NAME},             \
        {"region", required_argument, NULL, OPT_REGION},                       \
        {"registry-id", required_argument, NULL, OPT_REGISTRY_ID},             \
        {"kubeconfig", required_argument, NULL, OPT_KUBECONFIG},               \
        {"context", required_argument, NULL, OPT_CONTEXT},                     \
        {"service-account", required_argument, NULL, OPT_SERVICE_ACCOUNT},     \
        REGISTRY_LONG_OPTIONS,                                                 \
    {                                                                          \
        "annotated-service-accounts", no_argument, NULL, OPT_ANNOTATED_SAS     \
    }

#define CLUSTER_SELECTION_HELP                                                 \
    "  -n, --namespace NS     namespace or glob (*, ?; * is every one) to\n"   \
    "                         write to; repeat or comma-separate\n"            \
    "                         [ECR_RENEW_NAMESPACES] (default: runtime, or\n"  \
    "                         every one the selector matches)\n"               \
    "  --exclude-namespace GLOB  namespaces to leave out; repeat\n"            \
    "                         [ECR_RENEW_EXCLUDE_NAMESPACES]\n"                \
    "  --namespace-selector SELECTOR  only namespaces with these labels\n"     \
    "                         (a=b, a!=b, a in (x,y), a notin (x), a, !a)\n"   \
    "                         [ECR_RENEW_NAMESPACE_SELECTOR]\n"

#define CLUSTER_OTHER_HELP                                                     \
    "  --secret-name NAME     [ECR_RENEW_SECRET_NAME] (default:\n"             \
    "                         ecr-registry-secret)\n"                          \
    "  --region REGION        AWS region; repeat for several, one token "      \
    "each\n"                                                                   \
    "                         [ECR_RENEW_REGIONS] (default: AWS_REGION, "      \
    "...)\n"                                                                   \
    "  --registry-id ID       12-digit account id; repeat for several\n"       \
    "                         [ECR_RENEW_REGISTRY_IDS] (default: the "         \
    "caller's)\n"                                                              \
    "  --kubeconfig FILE      kubeconfig to use [KUBECONFIG, a ':' list];\n"   \
    "                         without one, in-cluster configuration is used\n" \
    "                         when KUBERNETES_SERVICE_HOST is set, else\n"     \
    "                         ~/.kube/config\n"                                \
    "  --context NAME         kubeconfig context "                             \
    "[ECR_RENEW_CONTEXT]\n" REGISTRY_OPTIONS_HELP                              \
    "  --service-account NAME also add the Secret to this ServiceAccount's\n"  \
    "                         imagePullSecrets in each namespace written;\n"   \
    "                         repeat; * is every one; usually default\n"       \
    "                         [ECR_RENEW_SERVICE_ACCOUNTS] (default: none)\n"  \
    "  --annotated-service-accounts  also every ServiceAccount annotated\n"    \
    "                         ecr-renew/pull-secret: \"true\"\n"               \
    "                         [ECR_RENEW_ANNOTATED_SERVICE_ACCOUNTS=true]\n"

/* What the options say. Zero-initialise; free with cluster_opts_clear. */
struct cluster_opts {
    struct str_list namespaces; /* --namespace: names and globs */
    struct str_list excludes;   /* --exclude-namespace */
    const char *selector;       /* --namespace-selector */
    const char *secret_name;
    struct str_list regions;
    struct str_list ids;
    const char *kubeconfig;
    const char *context;
    struct str_list service_accounts; /* names; "*" means every one */
    bool all_service_accounts;        /* "*" was given */
    bool annotated_service_accounts;
    struct cli_registry_opts reg;  /* --public, --registry-host */
    struct ns_selection selection; /* built by cluster_opts_finish */
};

/* True when ServiceAccounts are to be patched at all. */
bool cluster_patches_accounts(const struct cluster_opts *o);

/* True when the accounts of a namespace must be listed to know which to
 * patch ("*" or the annotation). */
bool cluster_lists_accounts(const struct cluster_opts *o);

/* Takes one of these options: 0 when taken, EXIT_USAGE (said) for a bad
 * value, -1 when opt is not one of them. */
int cluster_opts_take(const char *command, struct cluster_opts *o, int opt,
                      const char *arg);

/* After the options: the environment where no option was given, the
 * defaults, the checks, and the selection. 0 or EXIT_USAGE (said). */
int cluster_opts_finish(const char *command, struct cluster_opts *o);

void cluster_opts_clear(struct cluster_opts *o);

/* Opens the cluster the options name (kubeconfig or in-cluster). The
 * client's blocking requests respect deadline (may be NULL). */
enum er_code cluster_open(const struct cluster_opts *o,
                          const struct deadline *deadline,
                          struct kube_client **out,
                          struct er_error *err) ER_CHECK;

#endif
