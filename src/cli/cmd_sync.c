/*
 * ecr-renew sync: the renewal job. Gets one ECR token per region and
 * writes the pull Secret into every namespace, never deleting it.
 */
#include "commands.h"
#include "common.h"
#include "../core/log.h"
#include "../core/wipe.h"
#include "../core/strutil.h"
#include "../core/timeutil.h"
#include "../core/xalloc.h"
#include "../kube/client.h"
#include "../kube/kubeconfig.h"
#include "../kube/names.h"
#include "../kube/sync.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SYNC_DEFAULT_NAMESPACE "runtime"
#define SYNC_DEFAULT_SECRET "ecr-registry-secret"

static const char sync_usage[] =
    "Usage: ecr-renew sync [--namespace NS]... [--secret-name NAME]\n"
    "                      [--create-namespace] [--region REGION]...\n"
    "                      [--registry-id ID]... [--kubeconfig FILE]\n"
    "                      [--context NAME] [--log-format text|json]\n"
    "\n"
    "Gets a fresh ECR token per region and writes it, in every namespace,\n"
    "into a kubernetes.io/dockerconfigjson Secret: created if absent,\n"
    "otherwise updated in place (never deleted, so pods can always pull).\n"
    "A same-named Secret of another type or owned by another tool is left\n"
    "untouched and reported.\n"
    "\n"
    "Options (environment variable in brackets):\n"
    "  -n, --namespace NS     namespace to write to; repeat or comma-separate\n"
    "                         [ECR_RENEW_NAMESPACES] (default: runtime)\n"
    "  --secret-name NAME     [ECR_RENEW_SECRET_NAME] (default:\n"
    "                         ecr-registry-secret)\n"
    "  --create-namespace     create missing namespaces\n"
    "                         [ECR_RENEW_CREATE_NAMESPACE=true]\n"
    "  --region REGION        AWS region; repeat for several, one token each\n"
    "                         [ECR_RENEW_REGIONS] (default: AWS_REGION, ...)\n"
    "  --registry-id ID       12-digit account id; repeat for several\n"
    "                         [ECR_RENEW_REGISTRY_IDS] (default: the "
    "caller's)\n"
    "  --kubeconfig FILE      kubeconfig to use [KUBECONFIG, a ':' list];\n"
    "                         without one, in-cluster configuration is used\n"
    "                         when KUBERNETES_SERVICE_HOST is set, else\n"
    "                         ~/.kube/config\n"
    "  --context NAME         kubeconfig context [ECR_RENEW_CONTEXT]\n"
    "  --log-format FORMAT    text or json [ECR_RENEW_LOG_FORMAT]\n"
    "  --log-level LEVEL      debug, info, warn, error [ECR_RENEW_LOG_LEVEL]\n"
    "  -h, --help             show this help\n"
    "\n"
    "In-cluster, the service-account token and CA are read from\n"
    "/var/run/secrets/kubernetes.io/serviceaccount\n"
    "[ECR_RENEW_SERVICEACCOUNT_DIR]; the token is re-read before every\n"
    "request.\n"
    "\n"
    "Exit status: 0 all namespaces written; 7 some namespace refused (see\n"
    "the summary); 2-6 as for the other commands.\n";

struct sync_opts {
    struct str_list namespaces;
    struct str_list regions;
    struct str_list ids;
    const char *secret_name;
    const char *kubeconfig;
    const char *context;
    bool create_namespace;
};

static int finish_options(struct sync_opts *o)
{
    const char *v;

    cli_default_list(&o->namespaces, "ECR_RENEW_NAMESPACES");
    if (o->namespaces.n == 0)
        str_list_add(&o->namespaces, SYNC_DEFAULT_NAMESPACE);
    cli_default_list(&o->regions, "ECR_RENEW_REGIONS");
    cli_default_list(&o->ids, "ECR_RENEW_REGISTRY_IDS");
    if (!o->secret_name && (v = getenv("ECR_RENEW_SECRET_NAME")) && *v)
        o->secret_name = v;
    if (!o->secret_name)
        o->secret_name = SYNC_DEFAULT_SECRET;
    if (!o->context && (v = getenv("ECR_RENEW_CONTEXT")) && *v)
        o->context = v;
    if (!o->create_namespace)
        o->create_namespace = str_is_true(getenv("ECR_RENEW_CREATE_NAMESPACE"));
    if (!kube_name_is_subdomain(o->secret_name))
        return cli_usage_error("sync",
                               "secret name \"%s\" is not a valid "
                               "Kubernetes name (lower-case letters, digits, "
                               "'-' and '.')",
                               o->secret_name);
    for (size_t i = 0; i < o->namespaces.n; i++) {
        if (!kube_name_is_label(o->namespaces.items[i]))
            return cli_usage_error("sync",
                                   "namespace \"%s\" is not a valid "
                                   "Kubernetes namespace name",
                                   o->namespaces.items[i]);
    }
    return 0;
}

enum {
    OPT_SECRET = OPT_COMMON_END,
    OPT_CREATE_NS,
    OPT_KUBECONFIG,
    OPT_CONTEXT,
    OPT_REGION,
    OPT_REGISTRY
};

static const struct option sync_longopts[] = {
    {"namespace", required_argument, NULL, 'n'},
    {"secret-name", required_argument, NULL, OPT_SECRET},
    {"create-namespace", no_argument, NULL, OPT_CREATE_NS},
    {"region", required_argument, NULL, OPT_REGION},
    {"registry-id", required_argument, NULL, OPT_REGISTRY},
    {"kubeconfig", required_argument, NULL, OPT_KUBECONFIG},
    {"context", required_argument, NULL, OPT_CONTEXT},
    COMMON_LONG_OPTIONS,
    {NULL, 0, NULL, 0},
};

/* Records one of sync's own options; false when c is not one of them. */
static bool take_option(struct sync_opts *o, int c, const char *arg)
{
    switch (c) {
    case 'n':
        str_list_add(&o->namespaces, arg);
        return true;
    case OPT_SECRET:
        o->secret_name = arg;
        return true;
    case OPT_CREATE_NS:
        o->create_namespace = true;
        return true;
    case OPT_REGION:
        str_list_add(&o->regions, arg);
        return true;
    case OPT_REGISTRY:
        str_list_add(&o->ids, arg);
        return true;
    case OPT_KUBECONFIG:
        o->kubeconfig = arg;
        return true;
    case OPT_CONTEXT:
        o->context = arg;
        return true;
    }
    return false;
}

static int parse(int argc, char **argv, struct sync_opts *o, bool *help)
{
    int c, status;

    while ((c = getopt_long(argc, argv, "hn:", sync_longopts, NULL)) != -1) {
        if (!take_option(o, c, optarg) &&
            (status = cli_other_option("sync", c, optarg, help)) != 0)
            return status;
    }
    if ((status = cli_no_arguments("sync", argc, argv)) != 0)
        return status;
    return *help ? 0 : finish_options(o);
}

/* --kubeconfig, else KUBECONFIG, else in-cluster when the service host
 * is set, else ~/.kube/config: client-go's order. */
static enum er_code open_kube(const struct sync_opts *o,
                              struct kube_client **out, struct er_error *err)
{
    const char *paths = o->kubeconfig ? o->kubeconfig : getenv("KUBECONFIG");
    const char *host = getenv("KUBERNETES_SERVICE_HOST");
    const char *sa_dir = getenv("ECR_RENEW_SERVICEACCOUNT_DIR");
    struct kube_target t;
    char *home_config = NULL;
    enum er_code rc;

    memset(&t, 0, sizeof(t));
    if ((!paths || !*paths) && host && *host) {
        if (o->context)
            return er_set(err, ER_USAGE,
                          "--context needs a kubeconfig "
                          "(none given, running in-cluster)");
        rc = kube_incluster(host, getenv("KUBERNETES_SERVICE_PORT"),
                            sa_dir && *sa_dir ? sa_dir : KUBE_SA_DIR_DEFAULT,
                            &t, err);
    } else {
        if (!paths || !*paths)
            paths = home_config =
                xasprintf("%s/.kube/config", getenv("HOME") ?: ".");
        rc = kubeconfig_load(paths, o->context, &t, err);
    }
    free(home_config);
    if (rc == ER_OK)
        *out = kube_client_new(&t, clock_system(), &retry_default_policy);
    kube_target_free(&t);
    return rc;
}

/* The Secret's contents and annotations, from the tokens. */
struct secret_content {
    char *doc; /* secret */
    char *registries;
    char expires_at[TIME_RFC3339_LEN];
    char renewed_at[TIME_RFC3339_LEN];
    size_t n_hosts;
};

static void build_content(const struct aws_session *sess,
                          const struct ecr_tokens *tokens,
                          struct secret_content *sc)
{
    struct dockercfg_entry *entries;
    struct buf hosts = BUF_INIT;
    char **extra;
    size_t n_extra, n;
    double earliest = 0;

    n = cli_dockercfg_entries(&sess->settings, tokens, &entries, &extra,
                              &n_extra);
    sc->doc = dockercfg_build(entries, n);
    for (size_t i = 0; i < n; i++)
        buf_must_addf(&hosts, "%s%s", i ? "," : "", entries[i].host);
    for (size_t i = 0; i < tokens->n; i++) {
        double e = tokens->items[i].expires_at;
        if (e > 0 && (earliest == 0 || e < earliest))
            earliest = e;
    }
    time_format_rfc3339((time_t)earliest, sc->expires_at);
    time_format_rfc3339(time(NULL), sc->renewed_at);
    sc->registries = buf_detach(&hosts, NULL);
    sc->n_hosts = n;
    for (size_t i = 0; i < n_extra; i++)
        free(extra[i]);
    free(extra);
    free(entries);
}

static void free_content(struct secret_content *sc)
{
    wipe_free_str(sc->doc);
    free(sc->registries);
}

struct tally {
    size_t written, failed;
    struct buf failures; /* "ns (Reason), ..." */
    enum er_code worst;
};

static void sync_one(struct kube_client *kc, const struct sync_opts *o,
                     const struct kube_secret_spec *spec, const char *ns,
                     struct tally *t)
{
    enum kube_sync_outcome outcome;
    struct er_error err = {0};
    char reason[64];

    if (kube_sync_namespace(kc, spec, ns, o->create_namespace, &outcome, reason,
                            sizeof(reason), &err) == ER_OK) {
        t->written++;
        log_event(LOG_INFO, "secret written", "namespace", ns, "secret",
                  spec->name, "outcome", kube_sync_outcome_name(outcome),
                  "expires_at", spec->expires_at, "registries",
                  spec->registries, LOG_END);
        return;
    }
    t->failed++;
    buf_must_addf(&t->failures, "%s%s (%s)", t->failures.len ? ", " : "", ns,
                  reason);
    /* Refusals outrank network trouble: both are reported, but a 7 tells
     * the operator that retrying alone will not help. */
    if (t->worst != ER_KUBE)
        t->worst = err.code;
    log_event(LOG_ERROR, "secret not written", "namespace", ns, "secret",
              spec->name, "reason", reason, "error", err.msg, LOG_END);
}

static int sync_all(struct kube_client *kc, const struct sync_opts *o,
                    const struct secret_content *sc)
{
    struct kube_secret_spec spec = {o->secret_name, sc->doc, sc->expires_at,
                                    sc->registries, sc->renewed_at};
    struct tally t = {0, 0, BUF_INIT, ER_OK};
    char counts[3][24];
    int status;

    for (size_t i = 0; i < o->namespaces.n; i++)
        sync_one(kc, o, &spec, o->namespaces.items[i], &t);
    snprintf(counts[0], sizeof(counts[0]), "%zu", o->namespaces.n);
    snprintf(counts[1], sizeof(counts[1]), "%zu", t.written);
    snprintf(counts[2], sizeof(counts[2]), "%zu", t.failed);
    log_event(t.failed ? LOG_ERROR : LOG_INFO, "sync finished", "namespaces",
              counts[0], "written", counts[1], "failed", counts[2],
              t.failed ? "failures" : LOG_END, buf_str(&t.failures), LOG_END);
    log_msgf(LOG_DEBUG, "Kubernetes connections opened: %ld",
             kube_client_connections(kc));
    status = t.failed ? er_exit_status(t.worst) : EXIT_OK;
    buf_free(&t.failures);
    return status;
}

int cmd_sync(int argc, char **argv)
{
    struct sync_opts o = {0};
    struct aws_session sess;
    struct ecr_tokens tokens = {0};
    struct secret_content sc = {0};
    struct kube_client *kc = NULL;
    struct er_error err = {0};
    bool help = false;
    int status = parse(argc, argv, &o, &help);

    memset(&sess, 0, sizeof(sess));
    if (status != 0 || help) {
        if (help)
            fputs(sync_usage, stdout);
        goto out;
    }
    /* Kubernetes settings are checked first: a bad kubeconfig should not
     * cost an AWS call. */
    if (open_kube(&o, &kc, &err) != ER_OK ||
        cli_fetch_tokens(&sess, &o.regions, &o.ids, &tokens, &err) != ER_OK) {
        status = cli_fail("sync", &err);
        goto out;
    }
    build_content(&sess, &tokens, &sc);
    status = sync_all(kc, &o, &sc);
out:
    free_content(&sc);
    kube_client_free(kc);
    ecr_tokens_free(&tokens);
    aws_session_close(&sess);
    str_list_clear(&o.namespaces);
    str_list_clear(&o.regions);
    str_list_clear(&o.ids);
    return status;
}
