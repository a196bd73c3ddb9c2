/*
 * ecr-renew sync: the renewal job. Gets one ECR token per region and
 * writes the pull Secret into every selected namespace, never deleting
 * it.
 */
#include "commands.h"
#include "accounts.h"
#include "cluster.h"
#include "common.h"
#include "../core/log.h"
#include "../core/strutil.h"
#include "../kube/client.h"
#include "../kube/sync.h"
#include "../registry/pull_auth.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A CronJob run: room for a slow API server and a credential plugin. */
#define SYNC_DEFAULT_TIMEOUT_MS (5 * 60 * 1000)

static const char sync_usage[] =
    "Usage: ecr-renew sync [--namespace NS|GLOB]... [--exclude-namespace "
    "GLOB]...\n"
    "                      [--namespace-selector SELECTOR] [--secret-name "
    "NAME]\n"
    "                      [--create-namespace] [--region REGION]...\n"
    "                      [--registry-id ID]... [--kubeconfig FILE]\n"
    "                      [--context NAME] [--service-account NAME]...\n"
    "                      [--annotated-service-accounts] [--timeout "
    "DURATION]\n"
    "\n"
    "Gets a fresh ECR token per region and writes it, in every selected\n"
    "namespace, into a kubernetes.io/dockerconfigjson Secret: created if\n"
    "absent, otherwise updated in place (never deleted, so pods can always\n"
    "pull). A same-named Secret of another type or owned by another tool is\n"
    "left untouched and reported; one holding a later token is kept.\n"
    "\n"
    "Options (environment variable in brackets):\n" CLUSTER_SELECTION_HELP
    "                         Globs and selectors need list on namespaces;\n"
    "                         exact names need no rights on namespaces.\n"
    "  --create-namespace     create missing namespaces (exact names)\n"
    "                         "
    "[ECR_RENEW_CREATE_NAMESPACE=true]\n" CLUSTER_OTHER_HELP
    "  --log-format FORMAT    text or json [ECR_RENEW_LOG_FORMAT]\n"
    "  --log-level LEVEL      debug, info, warn, error [ECR_RENEW_LOG_LEVEL]\n"
    "  --timeout DURATION     give up after this long, all waits included\n"
    "                         [ECR_RENEW_TIMEOUT] (default: 5m)\n"
    "  -h, --help             show this help\n"
    "\n"
    "A namespace found by a glob or selector is skipped when annotated\n"
    "ecr-renew/exclude: \"true\" or being deleted. Exact names are not read\n"
    "(so no rights on namespaces are needed): one being deleted is skipped\n"
    "when the API server says so. In-cluster, the service-account token and CA "
    "are\n"
    "read from /var/run/secrets/kubernetes.io/serviceaccount\n"
    "[ECR_RENEW_SERVICEACCOUNT_DIR]; the token is re-read before every\n"
    "request.\n"
    "\n"
    "With --service-account or --annotated-service-accounts, the Secret is\n"
    "added to those ServiceAccounts' imagePullSecrets (every other entry\n"
    "kept) in each namespace where it was written; that needs get and patch\n"
    "on serviceaccounts, and list too for * or the annotation.\n"
    "\n"
    "Exit status: 0 all namespaces written; 7 some namespace or account\n"
    "refused (see the summary); 2-6 as for the other commands.\n";

struct sync_opts {
    struct cluster_opts cl;
    bool create_namespace;
    struct cli_common common;
};

static int finish_options(struct sync_opts *o)
{
    int status;

    if ((status = cluster_opts_finish("sync", &o->cl)) != 0)
        return status;
    if (!o->create_namespace)
        o->create_namespace = str_is_true(getenv("ECR_RENEW_CREATE_NAMESPACE"));
    return cli_start_deadline("sync", &o->common, SYNC_DEFAULT_TIMEOUT_MS);
}

enum {
    OPT_CREATE_NS = OPT_CLUSTER_END,
};

static const struct option sync_longopts[] = {
    CLUSTER_LONG_OPTIONS,
    {"create-namespace", no_argument, NULL, OPT_CREATE_NS},
    COMMON_LONG_OPTIONS,
    {NULL, 0, NULL, 0},
};

static int parse(int argc, char **argv, struct sync_opts *o)
{
    int c, status;

    while ((c = getopt_long(argc, argv, "hn:", sync_longopts, NULL)) != -1) {
        if (c == OPT_CREATE_NS)
            o->create_namespace = true;
        else if ((status = cluster_opts_take("sync", &o->cl, c, optarg)) > 0)
            return status;
        else if (status < 0 && (status = cli_other_option("sync", c, optarg,
                                                          &o->common)) != 0)
            return status;
    }
    if ((status = cli_no_arguments("sync", argc, argv)) != 0)
        return status;
    return o->common.help ? 0 : finish_options(o);
}

/* --- which namespaces ------------------------------------------------------
 */

struct targets {
    const struct ns_selection *selection;
    struct str_list names;
    size_t excluded;
};

static enum er_code take_namespace(void *ctx, json_t *ns, struct er_error *err)
{
    struct targets *t = ctx;
    const char *name = json_string_value(
        json_object_get(json_object_get(ns, "metadata"), "name"));
    const char *why;

    (void)err;
    if (!ns) { /* the list started over */
        str_list_clear(&t->names);
        t->excluded = 0;
        return ER_OK;
    }
    switch (ns_selection_judge(t->selection, ns, &why)) {
    case NS_SELECTED:
        str_list_push(&t->names, name);
        break;
    case NS_EXCLUDED:
    case NS_TERMINATING:
        t->excluded++;
        log_event(LOG_INFO, "namespace skipped", "namespace", name, "why", why,
                  LOG_END);
        break;
    case NS_NOT_SELECTED:
        break;
    }
    return ER_OK;
}

/* Exact names need no rights on namespaces: they are the targets, less
 * the excluded ones. Globs and selectors list the namespaces. */
static enum er_code resolve_targets(struct kube_client *kc,
                                    const struct ns_selection *sel,
                                    struct targets *t, struct er_error *err)
{
    char *query, *rv = NULL;
    enum er_code rc;

    t->selection = sel;
    if (!ns_selection_needs_list(sel)) {
        for (size_t i = 0; i < sel->names.n; i++) {
            if (ns_selection_judge_name(sel, sel->names.items[i]) ==
                NS_SELECTED)
                str_list_push(&t->names, sel->names.items[i]);
            else
                t->excluded++;
        }
        return ER_OK;
    }
    query = ns_selection_query(sel);
    rc =
        kube_list(kc, "/api/v1/namespaces", query, take_namespace, t, &rv, err);
    free(query);
    free(rv);
    if (rc != ER_OK)
        er_wrap(err, "--namespace globs and --namespace-selector need list on "
                     "namespaces");
    return rc;
}

/* --- writing ---------------------------------------------------------------
 */

static enum er_code build_auth(const struct aws_session *sess,
                               const struct sync_opts *o,
                               const struct ecr_tokens *tokens,
                               struct pull_auth *auth, struct er_error *err)
{
    struct pull_auth_options opt = {
        .fips_hosts = sess->settings.use_fips,
        .dualstack_hosts = sess->settings.use_dualstack,
        .aliases = &o->cl.reg.aliases,
    };

    return pull_auth_build(tokens, &opt, clock_now(clock_system()), auth, err);
}

struct tally {
    size_t written, failed, kept, skipped;
    struct buf failures; /* "ns (Reason), ..." */
    enum er_code worst;
    struct account_tally accounts;
};

static void failed_one(struct tally *t, const struct kube_secret_spec *spec,
                       const char *ns, const struct kube_sync_result *res,
                       const struct er_error *err)
{
    t->failed++;
    buf_must_addf(&t->failures, "%s%s (%s)", t->failures.len ? ", " : "", ns,
                  res->reason);
    /* Refusals outrank network trouble: both are reported, but a 7 tells
     * the operator that retrying alone will not help. */
    if (t->worst != ER_KUBE)
        t->worst = err->code;
    log_event(LOG_ERROR, "secret not written", "namespace", ns, "secret",
              spec->name, "reason", res->reason, "error", err->msg, LOG_END);
}

static void sync_one(struct kube_client *kc, const struct sync_opts *o,
                     const struct kube_secret_spec *spec, const char *ns,
                     struct tally *t)
{
    struct kube_sync_result res;
    struct er_error err = {0};

    if (kube_sync_namespace(kc, spec, ns, o->create_namespace, &res, &err) !=
        ER_OK) {
        failed_one(t, spec, ns, &res, &err);
        return;
    }
    if (res.outcome == KUBE_SYNC_KEPT_NEWER)
        t->kept++;
    else if (res.outcome == KUBE_SYNC_TERMINATING)
        t->skipped++;
    else
        t->written++;
    log_event(LOG_INFO,
              res.outcome == KUBE_SYNC_TERMINATING ||
                      res.outcome == KUBE_SYNC_KEPT_NEWER
                  ? "secret left as it is"
                  : "secret written",
              "namespace", ns, "secret", spec->name, "outcome",
              kube_sync_outcome_name(res.outcome), "expires_at",
              spec->expires_at, "registries", spec->registries, LOG_END);
    /* Only where the Secret is ours and valid: never to point an account
     * at a foreign or missing one. */
    if (res.outcome != KUBE_SYNC_TERMINATING &&
        cluster_patches_accounts(&o->cl))
        accounts_patch_namespace(kc, &o->cl, ns, &t->accounts);
}

/* Once the deadline has passed, the namespaces not yet tried are named
 * in one line rather than failed one by one. */
static void skip_rest(const struct sync_opts *o, const struct str_list *all,
                      size_t from, struct tally *t)
{
    struct buf names = BUF_INIT;
    struct er_error err;

    for (size_t i = from; i < all->n; i++) {
        buf_must_addf(&names, "%s%s", i > from ? "," : "", all->items[i]);
        buf_must_addf(&t->failures, "%s%s (Timeout)",
                      t->failures.len ? ", " : "", all->items[i]);
    }
    t->failed += all->n - from;
    if (t->worst != ER_KUBE)
        t->worst = ER_NETWORK;
    deadline_error(&o->common.deadline, "sync", &err);
    log_event(LOG_ERROR, "namespaces not tried", "namespaces", buf_str(&names),
              "error", err.msg, LOG_END);
    buf_free(&names);
}

static void log_summary(size_t n, const struct tally *t, size_t excluded)
{
    char c[6][24];

    snprintf(c[0], sizeof(c[0]), "%zu", n);
    snprintf(c[1], sizeof(c[1]), "%zu", t->written);
    snprintf(c[2], sizeof(c[2]), "%zu", t->failed);
    snprintf(c[3], sizeof(c[3]), "%zu", t->kept);
    snprintf(c[4], sizeof(c[4]), "%zu", t->skipped + excluded);
    if (t->failed)
        log_event(LOG_ERROR, "sync finished", "namespaces", c[0], "written",
                  c[1], "failed", c[2], "failures", buf_str(&t->failures),
                  "kept", c[3], "skipped", c[4], LOG_END);
    else
        log_event(LOG_INFO, "sync finished", "namespaces", c[0], "written",
                  c[1], "failed", c[2], "kept", c[3], "skipped", c[4], LOG_END);
}

static void log_accounts(const struct account_tally *a)
{
    char p[24], f[24];

    snprintf(p, sizeof(p), "%zu", a->patched);
    snprintf(f, sizeof(f), "%zu", a->failed);
    if (a->failed)
        log_event(LOG_ERROR, "serviceaccounts finished", "patched", p, "failed",
                  f, "failures", buf_str(&a->failures), LOG_END);
    else
        log_event(LOG_INFO, "serviceaccounts finished", "patched", p, "failed",
                  f, LOG_END);
}

/* Secrets refused outrank accounts refused; both make the exit
 * non-zero. */
static int exit_status(const struct tally *t)
{
    if (t->failed)
        return er_exit_status(t->worst);
    if (t->accounts.failed)
        return er_exit_status(t->accounts.worst);
    return EXIT_OK;
}

static int sync_all(struct kube_client *kc, const struct sync_opts *o,
                    const struct pull_auth *auth, const struct targets *tg)
{
    struct kube_secret_spec spec = {
        .name = o->cl.secret_name,
        .dockerconfigjson = auth->dockerconfigjson,
        .expires_at = auth->expires_at_text,
        .registries = auth->registries,
        .renewed_at = auth->renewed_at_text,
    };
    struct tally t = {.failures = BUF_INIT,
                      .worst = ER_OK,
                      .accounts = {.failures = BUF_INIT, .worst = ER_OK}};
    struct er_error err = {0};
    int status;

    if (kube_secret_spec_check(&spec, &err) != ER_OK)
        return cli_fail("sync", &err);
    for (size_t i = 0; i < tg->names.n; i++) {
        if (deadline_passed(&o->common.deadline)) {
            skip_rest(o, &tg->names, i, &t);
            break;
        }
        sync_one(kc, o, &spec, tg->names.items[i], &t);
    }
    log_summary(tg->names.n, &t, tg->excluded);
    if (cluster_patches_accounts(&o->cl))
        log_accounts(&t.accounts);
    log_msgf(LOG_DEBUG, "Kubernetes connections opened: %ld",
             kube_client_connections(kc));
    status = exit_status(&t);
    buf_free(&t.failures);
    buf_free(&t.accounts.failures);
    return status;
}

int cmd_sync(int argc, char **argv)
{
    struct sync_opts o = {0};
    struct aws_session sess;
    struct ecr_tokens tokens = {0};
    struct pull_auth auth = {0};
    struct targets tg = {0};
    struct kube_client *kc = NULL;
    struct er_error err = {0};
    int status = parse(argc, argv, &o);

    memset(&sess, 0, sizeof(sess));
    if (status != 0 || o.common.help) {
        if (o.common.help)
            fputs(sync_usage, stdout);
        goto out;
    }
    /* Kubernetes settings are checked first: a bad kubeconfig should not
     * cost an AWS call. */
    if (cluster_open(&o.cl, &o.common.deadline, &kc, &err) != ER_OK ||
        resolve_targets(kc, &o.cl.selection, &tg, &err) != ER_OK ||
        cli_fetch_tokens(&sess, &o.cl.regions, &o.cl.ids,
                         o.cl.reg.public_registry, &o.common.deadline, &tokens,
                         &err) != ER_OK ||
        build_auth(&sess, &o, &tokens, &auth, &err) != ER_OK) {
        status = cli_fail("sync", &err);
        goto out;
    }
    status = sync_all(kc, &o, &auth, &tg);
out:
    str_list_clear(&tg.names);
    pull_auth_free(&auth);
    kube_client_free(kc);
    ecr_tokens_free(&tokens);
    aws_session_close(&sess);
    cluster_opts_clear(&o.cl);
    return status;
}
