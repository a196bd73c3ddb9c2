/*
 * The controller's wiring: the namespace, Secret and ServiceAccount
 * informers' callbacks, which update each namespace's state and
 * reconcile it (work.c does the rest); token renewal; lifetime; health,
 * readiness and metrics.
 */
#include "../core/digest.h"
#include "../core/log.h"
#include "../core/loop.h"
#include "../core/timeutil.h"
#include "../core/wipe.h"
#include "../core/xalloc.h"
#include "internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* --- the namespace informer ---------------------------------------------- */

static void ns_reset(void *ctx)
{
    struct controller *c = ctx;
    size_t pos = 0;
    const char *name;
    void *v;

    while (strmap_next(&c->ns, &pos, &name, &v))
        ((struct ns_state *)v)->exists = false;
}

static void ns_upsert(void *ctx, json_t *obj)
{
    struct controller *c = ctx;
    const char *name = json_string_value(
        json_object_get(json_object_get(obj, "metadata"), "name"));
    const char *why;
    struct ns_state *s;

    if (!name)
        return;
    s = ctl_state_of(c, name);
    s->exists = true;
    s->verdict = ns_selection_judge(c->cfg.selection, obj, &why);
    ctl_reconcile(s);
    ctl_pump(c);
}

static void ns_delete(void *ctx, json_t *obj)
{
    struct controller *c = ctx;
    const char *name = json_string_value(
        json_object_get(json_object_get(obj, "metadata"), "name"));
    struct ns_state *s = name ? strmap_get(&c->ns, name) : NULL;

    /* Gone, or no longer matching the selector: its Secret is left alone
     * (a pod may still pull with it), just no longer refreshed. */
    if (s) {
        s->exists = false;
        s->verdict = NS_NOT_SELECTED;
    }
}

static void synced(void *ctx)
{
    ctl_reconcile_all(ctx);
}

static void trouble(void *ctx, const struct er_error *err)
{
    struct controller *c = ctx;
    const char *reason[] = {err->peer_code[0] ? err->peer_code : "network",
                            NULL};

    metrics_add(c->mx.errors, 1, reason);
}

/* --- the Secret informer ------------------------------------------------- */

static void secret_reset(void *ctx)
{
    struct controller *c = ctx;
    size_t pos = 0;
    const char *name;
    void *v;

    while (strmap_next(&c->ns, &pos, &name, &v))
        ((struct ns_state *)v)->secret.present = false;
}

/* A digest of the Secret's data, so none of its passwords stay in
 * memory. */
static void hash_data(json_t *obj, char out[DIGEST_SHA256_HEX_LEN])
{
    json_t *v = json_object_get(json_object_get(obj, "data"), KUBE_SECRET_KEY);
    const char *s = json_string_value(v);

    digest_sha256_hex(s ? s : "", s ? json_string_length(v) : 0, out);
}

static void hash_registries(json_t *obj, char out[DIGEST_SHA256_HEX_LEN])
{
    const char *s = json_string_value(json_object_get(
        json_object_get(json_object_get(obj, "metadata"), "annotations"),
        KUBE_ANNOTATION_REGISTRIES));

    digest_sha256_hex(s ? s : "", s ? strlen(s) : 0, out);
}

static void secret_upsert(void *ctx, json_t *obj)
{
    struct controller *c = ctx;
    json_t *meta = json_object_get(obj, "metadata");
    const char *ns = json_string_value(json_object_get(meta, "namespace"));
    const char *rv =
        json_string_value(json_object_get(meta, "resourceVersion"));
    struct ns_state *s;
    char why[160];

    if (!ns)
        return;
    s = ctl_state_of(c, ns);
    s->secret.present = true;
    s->secret.verdict = kube_secret_judge(obj, why, sizeof(why));
    s->secret.expires_at = kube_secret_expires_at(obj);
    hash_data(obj, s->secret.data_hash);
    hash_registries(obj, s->secret.registries_hash);
    free(s->rv);
    s->rv = rv ? xstrdup(rv) : NULL;
    free(s->foreign_why);
    s->foreign_why =
        s->secret.verdict == KUBE_SECRET_FOREIGN ? xstrdup(why) : NULL;
    ctl_reconcile(s);
    ctl_pump(c);
}

static void secret_delete(void *ctx, json_t *obj)
{
    struct controller *c = ctx;
    const char *ns = json_string_value(
        json_object_get(json_object_get(obj, "metadata"), "namespace"));
    struct ns_state *s = ns ? strmap_get(&c->ns, ns) : NULL;

    if (!s)
        return;
    s->secret.present = false;
    free(s->rv);
    s->rv = NULL;
    ctl_reconcile(s);
    ctl_pump(c);
}

/* --- the ServiceAccount informer ------------------------------------------ */

static void account_reset(void *ctx)
{
    struct controller *c = ctx;
    size_t pos = 0, apos;
    const char *name;
    void *v, *a;

    while (strmap_next(&c->ns, &pos, &name, &v)) {
        struct ns_state *s = v;
        apos = 0;
        while (strmap_next(&s->accounts, &apos, &name, &a))
            ((struct account_state *)a)->exists = false;
    }
}

static void account_upsert(void *ctx, json_t *obj)
{
    struct controller *c = ctx;
    json_t *meta = json_object_get(obj, "metadata");
    const char *ns = json_string_value(json_object_get(meta, "namespace"));
    const char *name = json_string_value(json_object_get(meta, "name"));
    const char *rv =
        json_string_value(json_object_get(meta, "resourceVersion"));
    struct ns_state *s;
    struct account_state *a;

    if (!ns || !name)
        return;
    s = ctl_state_of(c, ns);
    a = ctl_account_of(s, name);
    a->exists = true;
    free(a->rv);
    a->rv = rv ? xstrdup(rv) : NULL;
    a->lists_secret = kube_sa_lists(obj, c->secret_name);
    a->opted_in = kube_sa_opted_in(obj);
    a->has_list = json_is_array(json_object_get(obj, "imagePullSecrets"));
    ctl_reconcile(s);
    ctl_pump(c);
    healer_kick(c->healer);
}

static void account_delete(void *ctx, json_t *obj)
{
    struct controller *c = ctx;
    json_t *meta = json_object_get(obj, "metadata");
    const char *ns = json_string_value(json_object_get(meta, "namespace"));
    const char *name = json_string_value(json_object_get(meta, "name"));
    struct ns_state *s = ns ? strmap_get(&c->ns, ns) : NULL;
    struct account_state *a = s && name ? strmap_get(&s->accounts, name) : NULL;

    if (a)
        a->exists = false;
}

/* Which accounts to watch: one name alone is watched by name (so RBAC
 * can limit it by resourceNames); anything else, all of them. */
static char *account_query(const struct controller_config *cfg)
{
    if (cfg->all_service_accounts || cfg->annotated_service_accounts ||
        cfg->heal_pods || !cfg->service_accounts ||
        cfg->service_accounts->n != 1)
        return NULL;
    return xasprintf("fieldSelector=metadata.name%%3D%s",
                     cfg->service_accounts->items[0]);
}

/* Accounts are watched to patch them, and to know which pods to heal. */
static bool watches_accounts(const struct controller_config *cfg)
{
    return cfg->annotated_service_accounts || cfg->heal_pods ||
           (cfg->service_accounts && cfg->service_accounts->n > 0);
}

/* --- the pod informer (--heal-pods) -----------------------------------------
 */

static void pod_upsert(void *ctx, json_t *obj)
{
    struct controller *c = ctx;
    struct pod_heal_view v;
    const char *uid = json_string_value(
        json_object_get(json_object_get(obj, "metadata"), "uid"));

    if (pod_heal_inspect(obj, c->secret_name, &c->hosts, &v))
        healer_pod(c->healer, &v);
    else if (uid)
        healer_forget(c->healer, uid);
}

static void pod_delete(void *ctx, json_t *obj)
{
    struct controller *c = ctx;
    const char *uid = json_string_value(
        json_object_get(json_object_get(obj, "metadata"), "uid"));

    if (uid)
        healer_forget(c->healer, uid);
}

/* A candidate may go when we write, its namespace is ours with our valid
 * Secret in it, and its account lists that Secret now. */
static bool pod_ready(void *ctx, const struct pod_heal_view *p)
{
    struct controller *c = ctx;
    struct ns_state *s = strmap_get(&c->ns, p->ns);
    struct account_state *a = s ? strmap_get(&s->accounts, p->account) : NULL;

    return ctl_may_write(c) && s && s->exists && s->verdict == NS_SELECTED &&
           s->secret.present && s->secret.verdict == KUBE_SECRET_OURS &&
           ctl_holds_current(s) && a && a->exists && a->lists_secret;
}

static void start_healing(struct controller *c)
{
    struct kube_informer_callbacks cb = {NULL, pod_upsert, pod_delete,
                                         NULL, trouble,    c};

    /* Pods stuck pulling are Pending: the rest need not be watched. */
    c->pod_inf = kube_informer_new(c->kc, c->loop, "pods", "/api/v1/pods",
                                   "fieldSelector=status.phase%3DPending", &cb);
    kube_informer_start(c->pod_inf);
}

/* --- tokens --------------------------------------------------------------- */

static void renew_now(void *ctx)
{
    struct controller *c = ctx;

    c->renew_timer = NULL;
    token_worker_request(c->tokens);
}

static void schedule_renewal(struct controller *c, long long ms)
{
    loop_cancel(c->loop, c->renew_timer);
    c->renew_timer = loop_after(c->loop, ms, renew_now, c);
}

static void expiry_metrics(struct controller *c)
{
    metrics_clear(c->mx.expiry);
    for (size_t i = 0; i < c->current.n; i++) {
        const struct ecr_token *t = &c->current.items[i];
        const char *labels[] = {t->region, t->registry_host, NULL};
        metrics_set(c->mx.expiry, t->expires_at, labels);
    }
}

/* New tokens: what every Secret should now hold. */
static enum er_code take_tokens(struct controller *c, struct token_result *r,
                                struct er_error *err)
{
    struct pull_auth auth = {0};
    char *value;
    enum er_code rc;

    rc = pull_auth_build(&r->tokens, &c->cfg.auth, r->fetched_at, &auth, err);
    if (rc != ER_OK)
        return rc;
    pull_auth_free(&c->auth);
    ecr_tokens_free(&c->current);
    c->auth = auth;
    c->current = r->tokens;
    memset(&r->tokens, 0, sizeof(r->tokens));
    c->spec = (struct kube_secret_spec){
        .name = c->secret_name,
        .dockerconfigjson = c->auth.dockerconfigjson,
        .expires_at = c->auth.expires_at_text,
        .registries = c->auth.registries,
        .renewed_at = c->auth.renewed_at_text,
    };
    rc = kube_secret_spec_check(&c->spec, err);
    value = kube_secret_data_value(&c->spec);
    digest_sha256_hex(value, strlen(value), c->want_hash);
    wipe_free_str(value);
    digest_sha256_hex(c->auth.registries, strlen(c->auth.registries),
                      c->want_registries_hash);
    str_list_clear(&c->hosts);
    str_list_add_split(&c->hosts, c->auth.registries, ',');
    c->have_auth = rc == ER_OK;
    return rc;
}

/* An Event on our own Pod, when the downward API named it. */
static void pod_event(struct controller *c, const char *reason,
                      const char *message)
{
    struct kube_event_object pod = {"v1", "Pod", c->cfg.pod_namespace,
                                    c->cfg.pod_name, NULL};

    if (c->cfg.pod_name && c->cfg.pod_namespace)
        event_record(c->events, &pod, KUBE_EVENT_WARNING, reason, message);
}

static void tokens_failed(struct controller *c, const struct er_error *err)
{
    const char *aws[] = {
        err->op[0] ? err->op : "tokens",
        err->peer_code[0] ? err->peer_code : er_code_name(err->code), NULL};
    const char *result[] = {"failure", NULL};
    long long ms;

    metrics_add(c->mx.aws_errors, 1, aws);
    metrics_add(c->mx.renewals, 1, result);
    /* With no tokens ever, a setting the user must fix ends the run. */
    if (!c->have_auth && (err->code == ER_USAGE || err->code == ER_CONFIG ||
                          err->code == ER_NO_CREDS)) {
        log_event(LOG_ERROR, err->msg, "command", "run", "kind",
                  er_code_name(err->code), LOG_END);
        c->fatal_status = er_exit_status(err->code);
        loop_stop(c->loop);
        return;
    }
    ms =
        renewal_failed(&c->renewal, clock_now(loop_clock(c->loop)),
                       loop_clock(c->loop)->random01(loop_clock(c->loop)->ctx));
    log_event(LOG_ERROR, "token renewal failed; keeping the tokens in use",
              "error", err->msg, LOG_END);
    pod_event(c, "TokenRenewalFailed", err->msg);
    schedule_renewal(c, ms);
}

void controller_on_tokens(void *ctx, struct token_result *r)
{
    struct controller *c = ctx;
    const struct clock *clock = loop_clock(c->loop);
    const char *result[] = {"success", NULL};
    char next[TIME_RFC3339_LEN];
    struct er_error err = {0};
    time_t now;

    if (r->rc != ER_OK || take_tokens(c, r, &err) != ER_OK) {
        tokens_failed(c, r->rc != ER_OK ? &r->err : &err);
        return;
    }
    now = clock_now(clock);
    metrics_add(c->mx.renewals, 1, result);
    expiry_metrics(c);
    renewal_succeeded(&c->renewal, now, (double)c->auth.expires_at,
                      clock->random01(clock->ctx));
    schedule_renewal(c, ((long long)c->renewal.next_at - now) * 1000);
    time_format_rfc3339(c->renewal.next_at, next);
    log_event(LOG_INFO, "tokens renewed", "expires_at", c->auth.expires_at_text,
              "next_renewal", next, "registries", c->auth.registries, LOG_END);
    /* Which pods are stuck on our hosts is known from now on. */
    if (c->cfg.heal_pods && !c->pod_inf)
        start_healing(c);
    ctl_reconcile_all(c);
}

/* --- lifetime ---------------------------------------------------------------
 */

static void declare_metrics(struct controller_metrics *mx)
{
    mx->m = metrics_new();
    mx->expiry = metrics_family(
        mx->m, "ecr_renew_token_expiry_timestamp_seconds", METRIC_GAUGE,
        "When the ECR token in use for a registry expires, in seconds since "
        "1970.",
        (const char *[]){"region", "registry", NULL});
    mx->writes = metrics_family(
        mx->m, "ecr_renew_secret_writes_total", METRIC_COUNTER,
        "Pull Secrets written, by outcome (created, updated, taken_over, "
        "restored).",
        (const char *[]){"outcome", NULL});
    mx->errors = metrics_family(
        mx->m, "ecr_renew_secret_errors_total", METRIC_COUNTER,
        "Pull Secrets not written, and list or watch failures, by reason.",
        (const char *[]){"reason", NULL});
    mx->aws_errors = metrics_family(
        mx->m, "ecr_renew_aws_errors_total", METRIC_COUNTER,
        "Failed token renewals, by AWS operation and error code.",
        (const char *[]){"operation", "code", NULL});
    mx->renewals = metrics_family(mx->m, "ecr_renew_token_renewals_total",
                                  METRIC_COUNTER, "Token renewals, by result.",
                                  (const char *[]){"result", NULL});
    mx->namespaces = metrics_family(
        mx->m, "ecr_renew_namespaces", METRIC_GAUGE,
        "Namespaces by state: synced, failed, excluded (terminating ones "
        "count as excluded).",
        (const char *[]){"state", NULL});
    mx->last_success = metrics_family(
        mx->m, "ecr_renew_last_success_timestamp_seconds", METRIC_GAUGE,
        "When every selected namespace last held the current tokens, in "
        "seconds since 1970.",
        NULL);
    mx->build = metrics_family(mx->m, "ecr_renew_build_info", METRIC_GAUGE,
                               "The running version.",
                               (const char *[]){"version", NULL});
    mx->accounts = metrics_family(
        mx->m, "ecr_renew_serviceaccount_patches_total", METRIC_COUNTER,
        "ServiceAccounts given the pull Secret in imagePullSecrets.",
        (const char *[]){"outcome", NULL});
    mx->account_errors = metrics_family(
        mx->m, "ecr_renew_serviceaccount_errors_total", METRIC_COUNTER,
        "ServiceAccount patches that failed, by reason.",
        (const char *[]){"reason", NULL});
    mx->leader = metrics_family(
        mx->m, "ecr_renew_leader", METRIC_GAUGE,
        "1 while this process may write (it holds the Lease, or does not "
        "elect), else 0.",
        NULL);
    metrics_set(mx->leader, 1, NULL);
    mx->healed = metrics_family(
        mx->m, "ecr_renew_pods_healed_total", METRIC_COUNTER,
        "Pods deleted by --heal-pods so their owner made them again with the "
        "pull Secret.",
        NULL);
    metrics_set(mx->build, 1, (const char *[]){ECR_RENEW_VERSION, NULL});
    /* 0 until the first success, so "no success for hours" can fire for
     * a controller that never had one. */
    metrics_set(mx->last_success, 0, NULL);
}

/* Only the leader writes; a standby keeps its caches warm. */
static void leadership_changed(void *ctx, bool leading)
{
    struct controller *c = ctx;

    metrics_set(c->mx.leader, leading ? 1 : 0, NULL);
    event_recorder_set_enabled(c->events, leading);
    if (leading) {
        ctl_reconcile_all(c);
        healer_kick(c->healer);
    } else {
        ctl_cancel_jobs(c);
        healer_cancel(c->healer);
    }
}

struct controller *controller_new(struct loop *loop, struct kube_client *kc,
                                  const struct controller_config *cfg)
{
    struct controller *c = xcalloc(1, sizeof(*c));
    struct kube_informer_callbacks ns_cb = {ns_reset, ns_upsert, ns_delete,
                                            synced,   trouble,   c};
    struct kube_informer_callbacks secret_cb = {
        secret_reset, secret_upsert, secret_delete, synced, trouble, c};
    char *ns_query = ns_selection_query(cfg->selection), *secret_query;

    c->loop = loop;
    c->kc = kc;
    c->cfg = *cfg;
    if (c->cfg.max_in_flight <= 0)
        c->cfg.max_in_flight = CONTROLLER_MAX_IN_FLIGHT;
    c->secret_name = xstrdup(cfg->secret_name);
    declare_metrics(&c->mx);
    /* list and watch limited to one name, so RBAC resourceNames apply. */
    secret_query =
        xasprintf("fieldSelector=metadata.name%%3D%s", cfg->secret_name);
    c->ns_inf = kube_informer_new(kc, loop, "namespaces", "/api/v1/namespaces",
                                  ns_query, &ns_cb);
    c->secret_inf = kube_informer_new(kc, loop, "secrets", "/api/v1/secrets",
                                      secret_query, &secret_cb);
    if (watches_accounts(cfg)) {
        struct kube_informer_callbacks account_cb = {
            account_reset, account_upsert, account_delete, synced, trouble, c};
        char *account_q = account_query(cfg);
        c->account_inf = kube_informer_new(kc, loop, "serviceaccounts",
                                           "/api/v1/serviceaccounts", account_q,
                                           &account_cb);
        free(account_q);
    }
    free(ns_query);
    free(secret_query);
    c->events = event_recorder_new(loop, kc,
                                   cfg->identity ? cfg->identity : "ecr-renew");
    if (cfg->heal_pods)
        c->healer = healer_new(loop, kc, c->events, c->mx.healed,
                               cfg->heal_rate, pod_ready, c);
    if (cfg->leader_elect) {
        c->leader = leader_new(loop, kc, cfg->lease_namespace, cfg->lease_name,
                               cfg->identity, leadership_changed, c);
        event_recorder_set_enabled(c->events, false);
        metrics_set(c->mx.leader, 0, NULL);
    }
    return c;
}

void controller_start(struct controller *c, struct token_worker *tokens)
{
    c->tokens = tokens;
    token_worker_request(tokens);
    kube_informer_start(c->ns_inf);
    kube_informer_start(c->secret_inf);
    if (c->account_inf)
        kube_informer_start(c->account_inf);
    if (c->leader)
        leader_start(c->leader);
}

void controller_free(struct controller *c)
{
    if (!c)
        return;
    loop_cancel(c->loop, c->shutdown_timer);
    leader_free(c->leader);
    kube_informer_free(c->pod_inf);
    healer_free(c->healer);
    str_list_clear(&c->hosts);
    event_recorder_free(c->events);
    kube_informer_free(c->ns_inf);
    kube_informer_free(c->secret_inf);
    kube_informer_free(c->account_inf);
    strmap_free_with(&c->ns, ctl_state_free);
    loop_cancel(c->loop, c->renew_timer);
    free(c->queue);
    pull_auth_free(&c->auth);
    ecr_tokens_free(&c->current);
    metrics_free(c->mx.m);
    free(c->secret_name);
    free(c);
}

static void shutdown_done(void *ctx)
{
    struct controller *c = ctx;
    void (*done)(void *) = c->shutdown_done;

    c->shutdown_done = NULL;
    loop_cancel(c->loop, c->shutdown_timer);
    c->shutdown_timer = NULL;
    if (done)
        done(c->shutdown_ctx);
}

void controller_shutdown(struct controller *c, void (*done)(void *ctx),
                         void *ctx)
{
    if (c->shutting_down)
        return;
    c->shutting_down = true;
    c->shutdown_done = done;
    c->shutdown_ctx = ctx;
    ctl_cancel_jobs(c);
    healer_cancel(c->healer);
    event_recorder_set_enabled(c->events, false);
    /* The release is one request of at most a second; this bounds it
     * whatever happens. */
    if (c->leader)
        c->shutdown_timer = loop_after(c->loop, 1500, shutdown_done, c);
    if (c->leader)
        leader_release(c->leader, shutdown_done, c);
    else
        c->shutdown_timer = loop_after(c->loop, 0, shutdown_done, c);
}

int controller_fatal_status(const struct controller *c)
{
    return c->fatal_status;
}

/* --- health, readiness, metrics ------------------------------------------- */

/* Selected namespaces without a valid Secret we could have written. */
static size_t missing(const struct controller *c, time_t now, const char **one)
{
    size_t pos = 0, n = 0;
    const char *name;
    void *v;

    while (strmap_next(&c->ns, &pos, &name, &v)) {
        const struct ns_state *s = v;
        bool refused = s->failed || s->secret.verdict == KUBE_SECRET_FOREIGN;
        if (!s->exists || s->verdict != NS_SELECTED || refused)
            continue;
        if (!s->secret.present || s->secret.expires_at <= now) {
            *one = s->name;
            n++;
        }
    }
    return n;
}

bool controller_ready(const struct controller *c, char *why, size_t cap)
{
    time_t now = clock_now(loop_clock(c->loop));
    const char *one = "";
    size_t n;

    if (c->leader && !leader_leading(c->leader)) {
        /* A standby is ready once it could take over at once. */
        bool warm = ctl_everything_known(c) && renewal_valid(&c->renewal, now);
        snprintf(why, cap, "%s",
                 warm ? "standby: caches synced, tokens valid"
                      : "standby: the lists or tokens are not in yet");
        return warm;
    }
    if (!c->first_pass_done) {
        snprintf(why, cap, "the first pass is not done");
        return false;
    }
    if (!renewal_valid(&c->renewal, now)) {
        snprintf(why, cap, "the tokens in use have expired");
        return false;
    }
    if ((n = missing(c, now, &one)) > 0) {
        snprintf(why, cap, "%zu selected namespaces lack a valid Secret (%s)",
                 n, one);
        return false;
    }
    snprintf(why, cap, "ok");
    return true;
}

static void count_namespaces(struct controller *c)
{
    double synced = 0, failed = 0, excluded = 0;
    size_t pos = 0;
    const char *name;
    void *v;

    while (strmap_next(&c->ns, &pos, &name, &v)) {
        const struct ns_state *s = v;
        if (!s->exists)
            continue;
        if (s->verdict == NS_EXCLUDED || s->verdict == NS_TERMINATING)
            excluded++;
        else if (s->verdict != NS_SELECTED)
            continue;
        else if (s->failed || s->secret.verdict == KUBE_SECRET_FOREIGN)
            failed++;
        else if (c->have_auth && ctl_holds_current(s))
            synced++;
    }
    metrics_set(c->mx.namespaces, synced, (const char *[]){"synced", NULL});
    metrics_set(c->mx.namespaces, failed, (const char *[]){"failed", NULL});
    metrics_set(c->mx.namespaces, excluded, (const char *[]){"excluded", NULL});
}

char *controller_metrics(struct controller *c)
{
    count_namespaces(c);
    return metrics_render(c->mx.m);
}
