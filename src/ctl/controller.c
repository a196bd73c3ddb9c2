/*
 * The controller, top to bottom: per-namespace state; the namespace and
 * Secret informers' callbacks, which update that state and reconcile;
 * the write queue, which runs sync's state machine on the loop; token
 * renewal; health, readiness and metrics.
 */
#include "controller.h"
#include "../core/digest.h"
#include "../core/log.h"
#include "../core/loop.h"
#include "../core/strmap.h"
#include "../core/timeutil.h"
#include "../core/wipe.h"
#include "../core/xalloc.h"
#include "../kube/informer.h"
#include "../kube/sync.h"
#include "metrics.h"
#include "reconcile.h"
#include "schedule.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define WRITE_RETRY_FIRST_MS 1000LL
#define WRITE_RETRY_CAP_MS (5 * 60 * 1000LL)

/* One namespace, as far as its pull Secret is concerned. */
struct ns_state {
    struct controller *c;
    char *name;
    bool exists;               /* seen on the namespace watch */
    enum ns_verdict verdict;   /* selected, excluded... */
    struct secret_view secret; /* from the Secret watch and our writes */
    char *rv;                  /* the Secret's resourceVersion, or NULL */
    char *foreign_reported_rv; /* a foreign Secret is reported once */
    char foreign_why[160];
    bool queued;
    struct kube_sync_job job;
    bool job_running;
    bool restoring;
    struct kube_pending *pending;
    int failures;
    struct loop_timer *retry;
    bool failed; /* the last write failed */
};

struct controller_metrics {
    struct metrics *m;
    struct metric_family *expiry, *writes, *errors, *aws_errors, *namespaces,
        *last_success, *build, *renewals;
};

struct controller {
    struct loop *loop;
    struct kube_client *kc;
    struct controller_config cfg;
    char *secret_name;
    struct token_worker *tokens;
    struct kube_informer *ns_inf, *secret_inf;
    struct strmap ns; /* name -> struct ns_state */
    /* What the Secrets should hold; have_auth once tokens came. */
    struct ecr_tokens current;
    struct pull_auth auth;
    bool have_auth;
    struct kube_secret_spec spec;
    char want_hash[DIGEST_SHA256_HEX_LEN];
    char want_registries_hash[DIGEST_SHA256_HEX_LEN];
    struct renewal renewal;
    struct loop_timer *renew_timer;
    /* The write queue. */
    struct ns_state **queue;
    size_t queue_len, queue_cap;
    int in_flight;
    bool first_pass_done;
    int fatal_status;
    struct controller_metrics mx;
};

static void reconcile(struct ns_state *s);
static void pump(struct controller *c);

/* --- state ---------------------------------------------------------------- */

static struct ns_state *state_of(struct controller *c, const char *name)
{
    struct ns_state *s = strmap_get(&c->ns, name);

    if (!s) {
        s = xcalloc(1, sizeof(*s));
        s->c = c;
        s->name = xstrdup(name);
        s->verdict = NS_NOT_SELECTED;
        strmap_put(&c->ns, name, s);
    }
    return s;
}

static void state_free(void *p)
{
    struct ns_state *s = p;

    if (s->job_running) {
        kube_cancel(s->c->kc, s->pending);
        kube_sync_job_free(&s->job);
    }
    loop_cancel(s->c->loop, s->retry);
    free(s->name);
    free(s->rv);
    free(s->foreign_reported_rv);
    free(s);
}

static bool everything_known(const struct controller *c)
{
    return c->have_auth && kube_informer_synced(c->ns_inf) &&
           kube_informer_synced(c->secret_inf);
}

static void reconcile_all(struct controller *c)
{
    size_t pos = 0;
    const char *name;
    void *v;

    if (!everything_known(c))
        return;
    while (strmap_next(&c->ns, &pos, &name, &v))
        reconcile(v);
    pump(c);
}

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
    s = state_of(c, name);
    s->exists = true;
    s->verdict = ns_selection_judge(c->cfg.selection, obj, &why);
    reconcile(s);
    pump(c);
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
    reconcile_all(ctx);
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
    s = state_of(c, ns);
    s->secret.present = true;
    s->secret.verdict = kube_secret_judge(obj, why, sizeof(why));
    s->secret.expires_at = kube_secret_expires_at(obj);
    hash_data(obj, s->secret.data_hash);
    hash_registries(obj, s->secret.registries_hash);
    free(s->rv);
    s->rv = rv ? xstrdup(rv) : NULL;
    snprintf(s->foreign_why, sizeof(s->foreign_why), "%s", why);
    reconcile(s);
    pump(c);
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
    reconcile(s);
    pump(c);
}

/* --- reconciling and the write queue -------------------------------------- */

static void enqueue(struct ns_state *s)
{
    struct controller *c = s->c;

    if (s->queued)
        return;
    if (c->queue_len == c->queue_cap) {
        c->queue_cap = c->queue_cap ? c->queue_cap * 2 : 64;
        c->queue = xrealloc(c->queue, c->queue_cap * sizeof(*c->queue));
    }
    c->queue[c->queue_len++] = s;
    s->queued = true;
}

static struct reconcile_decision decide(const struct ns_state *s)
{
    const struct controller *c = s->c;
    struct reconcile_want w = {
        .data_hash = c->want_hash,
        .registries_hash = c->want_registries_hash,
        .expires_at = c->auth.expires_at,
    };

    return reconcile_decide(&s->secret, &w);
}

/* True when the Secret holds the current tokens, or later ones. */
static bool holds_current(const struct ns_state *s)
{
    enum reconcile_action a = decide(s).action;

    return a == RECONCILE_NOTHING || a == RECONCILE_KEEP_NEWER;
}

/* Once per version of the object: a warning and a count, no hot loop. */
static void report_foreign(struct ns_state *s)
{
    const char *reason[] = {"Foreign", NULL};
    const char *rv = s->rv ? s->rv : "";

    if (s->foreign_reported_rv && strcmp(s->foreign_reported_rv, rv) == 0)
        return;
    free(s->foreign_reported_rv);
    s->foreign_reported_rv = xstrdup(rv);
    metrics_add(s->c->mx.errors, 1, reason);
    log_event(LOG_WARN, "secret not ours; left untouched", "namespace", s->name,
              "secret", s->c->secret_name, "reason", s->foreign_why, LOG_END);
}

static void reconcile(struct ns_state *s)
{
    struct controller *c = s->c;
    struct reconcile_decision d;

    if (!everything_known(c) || !s->exists || s->verdict != NS_SELECTED ||
        s->job_running || s->retry)
        return;
    d = decide(s);
    log_event(LOG_DEBUG, "reconciled", "namespace", s->name, "action",
              reconcile_action_name(d.action), LOG_END);
    if (d.action == RECONCILE_NOTHING) /* known good from now on */
        memcpy(s->secret.good_hash, s->secret.data_hash,
               sizeof(s->secret.good_hash));
    if (d.action == RECONCILE_FOREIGN)
        report_foreign(s);
    if (d.action != RECONCILE_WRITE)
        return;
    s->restoring = d.restore;
    enqueue(s);
}

static const char *outcome_label(const struct ns_state *s,
                                 enum kube_sync_outcome o)
{
    if (s->restoring && (o == KUBE_SYNC_CREATED || o == KUBE_SYNC_UPDATED))
        return "restored";
    switch (o) {
    case KUBE_SYNC_CREATED:
        return "created";
    case KUBE_SYNC_UPDATED:
        return "updated";
    case KUBE_SYNC_TAKEN_OVER:
        return "taken_over";
    default:
        return NULL;
    }
}

static void retry_write(void *ctx)
{
    struct ns_state *s = ctx;

    s->retry = NULL;
    reconcile(s);
    pump(s->c);
}

static void write_failed(struct ns_state *s, const struct kube_sync_result *r,
                         const struct er_error *err)
{
    const char *reason[] = {r->reason, NULL};
    long long ms = WRITE_RETRY_FIRST_MS;

    for (int i = 0; i < s->failures && ms < WRITE_RETRY_CAP_MS; i++)
        ms *= 2;
    if (ms > WRITE_RETRY_CAP_MS)
        ms = WRITE_RETRY_CAP_MS;
    s->failures++;
    s->failed = true;
    metrics_add(s->c->mx.errors, 1, reason);
    log_event(LOG_ERROR, "secret not written", "namespace", s->name, "secret",
              s->c->secret_name, "reason", r->reason, "error", err->msg,
              LOG_END);
    /* A foreign Secret is reported by the watch, and waits for it to
     * change; anything else is tried again. */
    if (strcmp(r->reason, "NotOurs") != 0)
        s->retry = loop_after(s->c->loop, ms, retry_write, s);
}

static void write_succeeded(struct ns_state *s,
                            const struct kube_sync_result *r)
{
    struct controller *c = s->c;
    const char *label = outcome_label(s, r->outcome);

    s->failures = 0;
    s->failed = false;
    if (label) {
        const char *outcome[] = {label, NULL};
        metrics_add(c->mx.writes, 1, outcome);
        /* What the watch will show soon; known now, so the write is not
         * made again meanwhile. */
        s->secret.present = true;
        s->secret.verdict = KUBE_SECRET_OURS;
        memcpy(s->secret.data_hash, c->want_hash, sizeof(s->secret.data_hash));
        memcpy(s->secret.good_hash, c->want_hash, sizeof(s->secret.good_hash));
        memcpy(s->secret.registries_hash, c->want_registries_hash,
               sizeof(s->secret.registries_hash));
        s->secret.expires_at = c->auth.expires_at;
        free(s->rv);
        s->rv = r->resource_version[0] ? xstrdup(r->resource_version) : NULL;
    }
    log_event(LOG_INFO, "secret written", "namespace", s->name, "secret",
              c->secret_name, "outcome",
              label && strcmp(label, "restored") == 0
                  ? label
                  : kube_sync_outcome_name(r->outcome),
              "expires_at", c->auth.expires_at_text, "registries",
              c->auth.registries, LOG_END);
}

static void job_step(struct ns_state *s);

static void job_answered(void *ctx, enum er_code rc, struct kube_response *r,
                         const struct er_error *err)
{
    struct ns_state *s = ctx;

    s->pending = NULL;
    if (rc == ER_OK)
        kube_sync_job_answer(&s->job, r);
    else
        kube_sync_job_fail(&s->job, err);
    job_step(s);
}

static void job_finished(struct ns_state *s)
{
    struct controller *c = s->c;
    struct kube_sync_result r;
    struct er_error err = {0};

    if (kube_sync_job_result(&s->job, &r, &err) == ER_OK)
        write_succeeded(s, &r);
    else
        write_failed(s, &r, &err);
    kube_sync_job_free(&s->job);
    s->job_running = false;
    c->in_flight--;
    /* The tokens may have changed while it ran. */
    reconcile(s);
    pump(c);
}

static void job_step(struct ns_state *s)
{
    struct kube_sync_request req;
    struct kube_call call;

    if (!kube_sync_job_next(&s->job, &req)) {
        job_finished(s);
        return;
    }
    call = (struct kube_call){.method = req.method,
                              .path = req.path,
                              .body = req.body,
                              .content_type = req.content_type};
    s->pending = kube_start(s->c->kc, s->c->loop, &call, job_answered, s);
}

static void start_job(struct ns_state *s)
{
    struct controller *c = s->c;

    if (s->secret.present && s->rv && s->secret.verdict != KUBE_SECRET_FOREIGN)
        kube_sync_job_init_known(&s->job, &c->spec, s->name, s->rv,
                                 s->secret.verdict == KUBE_SECRET_TAKE_OVER
                                     ? KUBE_SECRET_TAKE_OVER
                                     : KUBE_SECRET_OURS);
    else if (!s->secret.present)
        kube_sync_job_init_absent(&s->job, &c->spec, s->name);
    else
        kube_sync_job_init(&s->job, &c->spec, s->name, false);
    s->job_running = true;
    c->in_flight++;
    job_step(s);
}

/* True when every selected namespace holds the current tokens (or a
 * later one), with no write failing. */
static bool all_fresh(const struct controller *c)
{
    size_t pos = 0;
    const char *name;
    void *v;

    while (strmap_next(&c->ns, &pos, &name, &v)) {
        const struct ns_state *s = v;
        if (!s->exists || s->verdict != NS_SELECTED)
            continue;
        /* Not ours to fix: reported, and counted as failed. */
        if (s->secret.present && s->secret.verdict == KUBE_SECRET_FOREIGN)
            continue;
        if (s->failed || !holds_current(s))
            return false;
    }
    return true;
}

/* Nothing left to write: the first pass is done, and when all is well
 * that is a success, for the "no success for hours" alert. */
static void drained(struct controller *c)
{
    if (!c->first_pass_done) {
        c->first_pass_done = true;
        log_event(LOG_INFO, "first pass done", LOG_END);
    }
    if (all_fresh(c))
        metrics_set(c->mx.last_success, (double)clock_now(loop_clock(c->loop)),
                    NULL);
}

static void pump(struct controller *c)
{
    size_t taken = 0;

    while (taken < c->queue_len && c->in_flight < c->cfg.max_in_flight) {
        struct ns_state *s = c->queue[taken++];
        s->queued = false;
        if (!s->job_running)
            start_job(s);
    }
    if (taken > 0) {
        memmove(c->queue, c->queue + taken,
                (c->queue_len - taken) * sizeof(*c->queue));
        c->queue_len -= taken;
    }
    if (everything_known(c) && c->queue_len == 0 && c->in_flight == 0)
        drained(c);
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
    c->have_auth = rc == ER_OK;
    return rc;
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
    reconcile_all(c);
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
    metrics_set(mx->build, 1, (const char *[]){ECR_RENEW_VERSION, NULL});
    /* 0 until the first success, so "no success for hours" can fire for
     * a controller that never had one. */
    metrics_set(mx->last_success, 0, NULL);
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
    free(ns_query);
    free(secret_query);
    return c;
}

void controller_start(struct controller *c, struct token_worker *tokens)
{
    c->tokens = tokens;
    token_worker_request(tokens);
    kube_informer_start(c->ns_inf);
    kube_informer_start(c->secret_inf);
}

void controller_free(struct controller *c)
{
    if (!c)
        return;
    kube_informer_free(c->ns_inf);
    kube_informer_free(c->secret_inf);
    strmap_free_with(&c->ns, state_free);
    loop_cancel(c->loop, c->renew_timer);
    free(c->queue);
    pull_auth_free(&c->auth);
    ecr_tokens_free(&c->current);
    metrics_free(c->mx.m);
    free(c->secret_name);
    free(c);
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
        else if (c->have_auth && holds_current(s))
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
