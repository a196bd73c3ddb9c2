/*
 * The controller's work: deciding what each namespace needs (its Secret,
 * then its ServiceAccounts) and running the writes, up to max_in_flight
 * at once, each the same state machine sync uses, driven by answers from
 * the loop.
 */
#include "../core/log.h"
#include "../core/loop.h"
#include "../core/xalloc.h"
#include "internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define RETRY_FIRST_MS 1000LL
#define RETRY_CAP_MS (5 * 60 * 1000LL)

/* --- state ---------------------------------------------------------------- */

struct ns_state *ctl_state_of(struct controller *c, const char *name)
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

struct account_state *ctl_account_of(struct ns_state *s, const char *name)
{
    struct account_state *a = strmap_get(&s->accounts, name);

    if (!a) {
        a = xcalloc(1, sizeof(*a));
        a->name = xstrdup(name);
        a->ns = s;
        strmap_put(&s->accounts, name, a);
    }
    return a;
}

static void account_free(void *p)
{
    struct account_state *a = p;

    loop_cancel(a->ns->c->loop, a->retry);
    free(a->name);
    free(a->rv);
    free(a);
}

void ctl_state_free(void *p)
{
    struct ns_state *s = p;

    kube_cancel(s->c->kc, s->pending);
    if (s->job == JOB_SECRET)
        kube_sync_job_free(s->secret_job);
    else if (s->job == JOB_ACCOUNT)
        kube_sa_job_free(s->account_job);
    free(s->secret_job);
    free(s->account_job);
    free(s->foreign_why);
    loop_cancel(s->c->loop, s->retry);
    strmap_free_with(&s->accounts, account_free);
    free(s->name);
    free(s->rv);
    free(s->foreign_reported_rv);
    free(s);
}

bool ctl_everything_known(const struct controller *c)
{
    return c->have_auth && kube_informer_synced(c->ns_inf) &&
           kube_informer_synced(c->secret_inf) &&
           (!c->account_inf || kube_informer_synced(c->account_inf));
}

static long long backoff_ms(int failures)
{
    long long ms = RETRY_FIRST_MS;

    for (int i = 0; i < failures && ms < RETRY_CAP_MS; i++)
        ms *= 2;
    return ms > RETRY_CAP_MS ? RETRY_CAP_MS : ms;
}

bool ctl_may_write(const struct controller *c)
{
    return !c->shutting_down && (!c->leader || leader_leading(c->leader));
}

void ctl_event(struct ns_state *s, const char *type, const char *reason,
               const char *message)
{
    struct kube_event_object secret = {"v1", "Secret", s->name,
                                       s->c->secret_name, NULL};
    struct kube_event_object ns = {"v1", "Namespace", NULL, s->name, NULL};

    event_record(s->c->events, s->secret.present ? &secret : &ns, type, reason,
                 message);
}

/* --- deciding --------------------------------------------------------------
 */

struct reconcile_decision ctl_decide(const struct ns_state *s)
{
    const struct controller *c = s->c;
    struct reconcile_want w = {
        .data_hash = c->want_hash,
        .registries_hash = c->want_registries_hash,
        .expires_at = c->auth.expires_at,
    };

    return reconcile_decide(&s->secret, &w);
}

bool ctl_holds_current(const struct ns_state *s)
{
    enum reconcile_action a = ctl_decide(s).action;

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
    ctl_event(s, KUBE_EVENT_WARNING, "ForeignSecret",
              s->foreign_why ? s->foreign_why : "not ours; left untouched");
    log_event(LOG_WARN, "secret not ours; left untouched", "namespace", s->name,
              "secret", s->c->secret_name, "reason",
              s->foreign_why ? s->foreign_why : "", LOG_END);
}

static bool account_wanted(const struct controller *c,
                           const struct account_state *a)
{
    const struct controller_config *cfg = &c->cfg;

    return cfg->all_service_accounts ||
           (cfg->annotated_service_accounts && a->opted_in) ||
           (cfg->service_accounts &&
            str_list_contains(cfg->service_accounts, a->name));
}

/* The next account of s to patch: only once our Secret is there and
 * valid, never to point an account at a foreign or missing one. */
static struct account_state *account_to_patch(const struct ns_state *s)
{
    size_t pos = 0;
    const char *name;
    void *v;

    if (!s->secret.present || s->secret.verdict != KUBE_SECRET_OURS ||
        !ctl_holds_current(s))
        return NULL;
    while (strmap_next(&s->accounts, &pos, &name, &v)) {
        struct account_state *a = v;
        if (a->exists && !a->lists_secret && !a->retry &&
            account_wanted(s->c, a))
            return a;
    }
    return NULL;
}

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

void ctl_reconcile(struct ns_state *s)
{
    struct reconcile_decision d;

    if (!ctl_everything_known(s->c) || !s->exists ||
        s->verdict != NS_SELECTED || s->job != JOB_NONE)
        return;
    d = ctl_decide(s);
    log_event(LOG_DEBUG, "reconciled", "namespace", s->name, "action",
              reconcile_action_name(d.action), LOG_END);
    if (d.action == RECONCILE_NOTHING) /* known good from now on */
        memcpy(s->secret.good_hash, s->secret.data_hash,
               sizeof(s->secret.good_hash));
    if (d.action == RECONCILE_FOREIGN)
        report_foreign(s);
    if (d.action == RECONCILE_WRITE && !s->retry) {
        s->restoring = d.restore;
        enqueue(s);
    } else if (account_to_patch(s)) {
        enqueue(s);
    }
}

void ctl_reconcile_all(struct controller *c)
{
    size_t pos = 0;
    const char *name;
    void *v;

    if (!ctl_everything_known(c))
        return;
    while (strmap_next(&c->ns, &pos, &name, &v))
        ctl_reconcile(v);
    ctl_pump(c);
}

/* --- Secret writes ----------------------------------------------------------
 */

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

static void retry_secret(void *ctx)
{
    struct ns_state *s = ctx;

    s->retry = NULL;
    ctl_reconcile(s);
    ctl_pump(s->c);
}

static void secret_failed(struct ns_state *s, const struct kube_sync_result *r,
                          const struct er_error *err)
{
    const char *reason[] = {r->reason, NULL};
    long long ms = backoff_ms(s->failures);

    s->failures++;
    s->failed = true;
    metrics_add(s->c->mx.errors, 1, reason);
    ctl_event(s, KUBE_EVENT_WARNING, "SecretWriteFailed", err->msg);
    log_event(LOG_ERROR, "secret not written", "namespace", s->name, "secret",
              s->c->secret_name, "reason", r->reason, "error", err->msg,
              LOG_END);
    /* A foreign Secret is reported by the watch, and waits for it to
     * change; anything else is tried again. */
    if (strcmp(r->reason, "NotOurs") != 0)
        s->retry = loop_after(s->c->loop, ms, retry_secret, s);
}

/* Created, taken over and restored are told as Events; a renewal's
 * update is not (it is routine, and there would be one per namespace
 * every six hours). */
static void written_event(struct ns_state *s, const char *label)
{
    char msg[320];
    const char *reason = NULL;

    if (!label)
        return;
    if (strcmp(label, "created") == 0)
        reason = "SecretCreated";
    else if (strcmp(label, "taken_over") == 0)
        reason = "SecretTakenOver";
    else if (strcmp(label, "restored") == 0)
        reason = "SecretRestored";
    if (!reason)
        return;
    snprintf(msg, sizeof(msg), "%s %s with a token valid until %s for %s",
             strcmp(label, "restored") == 0  ? "restored"
             : strcmp(label, "created") == 0 ? "created"
                                             : "took over",
             s->c->secret_name, s->c->auth.expires_at_text,
             s->c->auth.registries);
    ctl_event(s, KUBE_EVENT_NORMAL, reason, msg);
}

static void secret_written(struct ns_state *s, const struct kube_sync_result *r)
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
    written_event(s, label);
    log_event(LOG_INFO, "secret written", "namespace", s->name, "secret",
              c->secret_name, "outcome",
              label && strcmp(label, "restored") == 0
                  ? label
                  : kube_sync_outcome_name(r->outcome),
              "expires_at", c->auth.expires_at_text, "registries",
              c->auth.registries, LOG_END);
}

static void start_secret_job(struct ns_state *s)
{
    struct controller *c = s->c;

    s->secret_job = xcalloc(1, sizeof(*s->secret_job));
    if (s->secret.present && s->rv && s->secret.verdict != KUBE_SECRET_FOREIGN)
        kube_sync_job_init_known(s->secret_job, &c->spec, s->name, s->rv,
                                 s->secret.verdict == KUBE_SECRET_TAKE_OVER
                                     ? KUBE_SECRET_TAKE_OVER
                                     : KUBE_SECRET_OURS);
    else if (!s->secret.present)
        kube_sync_job_init_absent(s->secret_job, &c->spec, s->name);
    else
        kube_sync_job_init(s->secret_job, &c->spec, s->name, false);
    s->job = JOB_SECRET;
}

static void end_secret_job(struct ns_state *s)
{
    struct kube_sync_result r;
    struct er_error err = {0};

    if (kube_sync_job_result(s->secret_job, &r, &err) == ER_OK) {
        secret_written(s, &r);
        healer_kick(s->c->healer);
    } else {
        secret_failed(s, &r, &err);
    }
    kube_sync_job_free(s->secret_job);
    free(s->secret_job);
    s->secret_job = NULL;
}

/* --- ServiceAccount patches ------------------------------------------------
 */

static void retry_account(void *ctx)
{
    struct account_state *a = ctx;

    a->retry = NULL;
    ctl_reconcile(a->ns);
    ctl_pump(a->ns->c);
}

static void start_account_job(struct ns_state *s, struct account_state *a)
{
    s->account_job = xcalloc(1, sizeof(*s->account_job));
    if (a->rv)
        kube_sa_job_init_known(s->account_job, s->name, a->name,
                               s->c->secret_name, a->rv, a->has_list);
    else
        kube_sa_job_init(s->account_job, s->name, a->name, s->c->secret_name);
    s->job_account = a;
    s->job = JOB_ACCOUNT;
}

static void end_account_job(struct ns_state *s)
{
    struct account_state *a = s->job_account;
    struct controller *c = s->c;
    struct kube_sa_result r;
    struct er_error err = {0};

    if (kube_sa_job_result(s->account_job, &r, &err) == ER_OK) {
        const char *outcome[] = {kube_sa_outcome_name(r.outcome), NULL};
        a->failures = 0;
        /* Known now; the watch confirms it. A missing one waits for its
         * watch to show it again. */
        a->lists_secret = r.outcome != KUBE_SA_MISSING;
        a->exists = r.outcome != KUBE_SA_MISSING;
        if (r.outcome == KUBE_SA_PATCHED) {
            healer_kick(c->healer);
            metrics_add(c->mx.accounts, 1, outcome);
            log_event(LOG_INFO, "serviceaccount patched", "namespace", s->name,
                      "serviceaccount", a->name, "secret", c->secret_name,
                      LOG_END);
        }
    } else {
        const char *reason[] = {r.reason, NULL};
        metrics_add(c->mx.account_errors, 1, reason);
        log_event(LOG_ERROR, "serviceaccount not patched", "namespace", s->name,
                  "serviceaccount", a->name, "reason", r.reason, "error",
                  err.msg, LOG_END);
        a->retry =
            loop_after(c->loop, backoff_ms(a->failures++), retry_account, a);
    }
    kube_sa_job_free(s->account_job);
    free(s->account_job);
    s->account_job = NULL;
    s->job_account = NULL;
}

/* --- driving jobs on the loop ----------------------------------------------
 */

static void job_step(struct ns_state *s);

static void job_answered(void *ctx, enum er_code rc, struct kube_response *r,
                         const struct er_error *err)
{
    struct ns_state *s = ctx;

    s->pending = NULL;
    if (s->job == JOB_SECRET && rc == ER_OK)
        kube_sync_job_answer(s->secret_job, r);
    else if (s->job == JOB_SECRET)
        kube_sync_job_fail(s->secret_job, err);
    else if (rc == ER_OK)
        kube_sa_job_answer(s->account_job, r);
    else
        kube_sa_job_fail(s->account_job, err);
    job_step(s);
}

static void job_finished(struct ns_state *s)
{
    struct controller *c = s->c;

    if (s->job == JOB_SECRET)
        end_secret_job(s);
    else
        end_account_job(s);
    s->job = JOB_NONE;
    c->in_flight--;
    /* The tokens may have changed while it ran; accounts may be next. */
    ctl_reconcile(s);
    ctl_pump(c);
}

static void job_step(struct ns_state *s)
{
    struct kube_sync_request req;
    struct kube_call call;
    bool more = s->job == JOB_SECRET ? kube_sync_job_next(s->secret_job, &req)
                                     : kube_sa_job_next(s->account_job, &req);

    if (!more) {
        job_finished(s);
        return;
    }
    call = (struct kube_call){.method = req.method,
                              .path = req.path,
                              .body = req.body,
                              .content_type = req.content_type};
    s->pending = kube_start(s->c->kc, s->c->loop, &call, job_answered, s);
}

/* The Secret first; its accounts once it is there. */
static bool start_job(struct ns_state *s)
{
    struct account_state *a;

    if (ctl_decide(s).action == RECONCILE_WRITE && !s->retry)
        start_secret_job(s);
    else if ((a = account_to_patch(s)))
        start_account_job(s, a);
    else
        return false;
    s->c->in_flight++;
    job_step(s);
    return true;
}

/* --- the queue --------------------------------------------------------------
 */

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
        if (s->failed || !ctl_holds_current(s))
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

void ctl_pump(struct controller *c)
{
    size_t taken = 0;

    while (taken < c->queue_len && c->in_flight < c->cfg.max_in_flight &&
           ctl_may_write(c)) {
        struct ns_state *s = c->queue[taken++];
        s->queued = false;
        if (s->job == JOB_NONE && s->exists && s->verdict == NS_SELECTED)
            start_job(s);
    }
    if (taken > 0) {
        memmove(c->queue, c->queue + taken,
                (c->queue_len - taken) * sizeof(*c->queue));
        c->queue_len -= taken;
    }
    if (ctl_everything_known(c) && c->queue_len == 0 && c->in_flight == 0 &&
        ctl_may_write(c))
        drained(c);
}

static void cancel_job(struct ns_state *s)
{
    kube_cancel(s->c->kc, s->pending);
    s->pending = NULL;
    if (s->job == JOB_SECRET) {
        kube_sync_job_free(s->secret_job);
        free(s->secret_job);
        s->secret_job = NULL;
    } else {
        kube_sa_job_free(s->account_job);
        free(s->account_job);
        s->account_job = NULL;
        s->job_account = NULL;
    }
    s->job = JOB_NONE;
    s->c->in_flight--;
}

void ctl_cancel_jobs(struct controller *c)
{
    size_t pos = 0;
    const char *name;
    void *v;

    while (strmap_next(&c->ns, &pos, &name, &v)) {
        struct ns_state *s = v;
        if (s->job != JOB_NONE)
            cancel_job(s);
    }
}
