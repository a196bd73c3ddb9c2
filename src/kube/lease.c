#include "lease.h"
#include "../core/json_limit.h"
#include "../core/timeutil.h"
#include "../core/xalloc.h"

#include <jansson.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define LEASE_CAP (64 * 1024)

static const char *str_in(json_t *obj, const char *key)
{
    const char *s = json_string_value(json_object_get(obj, key));

    return s ? s : "";
}

enum er_code lease_record_parse(const char *json, size_t len,
                                struct lease_record *out, struct er_error *err)
{
    json_t *root = NULL, *meta, *spec;
    enum er_code rc;

    memset(out, 0, sizeof(*out));
    if (len > LEASE_CAP)
        return er_set(err, ER_PARSE, "the Lease is larger than %d KiB",
                      LEASE_CAP / 1024);
    rc = json_limit_parse(json, len, JSON_LIMIT_BUDGET(len), "the Lease", &root,
                          err);
    if (rc != ER_OK)
        return rc;
    meta = json_object_get(root, "metadata");
    spec = json_object_get(root, "spec");
    if (!json_is_object(meta) || !*str_in(meta, "resourceVersion")) {
        json_decref(root);
        return er_set(
            err, ER_PARSE,
            "the answer is not a Lease (no metadata.resourceVersion)");
    }
    snprintf(out->resource_version, sizeof(out->resource_version), "%s",
             str_in(meta, "resourceVersion"));
    snprintf(out->holder, sizeof(out->holder), "%s",
             str_in(spec, "holderIdentity"));
    snprintf(out->acquire_time, sizeof(out->acquire_time), "%s",
             str_in(spec, "acquireTime"));
    out->duration_s =
        (int)json_integer_value(json_object_get(spec, "leaseDurationSeconds"));
    out->transitions =
        (int)json_integer_value(json_object_get(spec, "leaseTransitions"));
    json_decref(root);
    return ER_OK;
}

void lease_micro_time(long long wall_us, char out[32])
{
    char base[TIME_RFC3339_LEN];

    time_format_rfc3339((time_t)(wall_us / 1000000), base); /* "...:12Z" */
    base[strlen(base) - 1] = '\0';
    snprintf(out, 32, "%s.%06lldZ", base, wall_us % 1000000);
}

void lease_elector_init(struct lease_elector *e, const char *ns,
                        const char *name, const char *identity)
{
    memset(e, 0, sizeof(*e));
    e->ns = xstrdup(ns);
    e->name = xstrdup(name);
    e->identity = xstrdup(identity);
    e->collection =
        xasprintf("/apis/coordination.k8s.io/v1/namespaces/%s/leases", ns);
    e->path = xasprintf("%s/%s", e->collection, name);
    e->duration_ms = LEASE_DURATION_MS;
    e->renew_deadline_ms = LEASE_RENEW_DEADLINE_MS;
    e->retry_ms = LEASE_RETRY_MS;
    e->read_ms = LLONG_MIN;
}

void lease_elector_free(struct lease_elector *e)
{
    free(e->ns);
    free(e->name);
    free(e->identity);
    free(e->collection);
    free(e->path);
    free(e->body);
    memset(e, 0, sizeof(*e));
}

bool lease_leading(const struct lease_elector *e, long long now_ms)
{
    return e->leader && now_ms - e->renewed_ms < e->renew_deadline_ms;
}

/* The whole Lease as we want it: holder (empty to release), our duration,
 * the times and the transitions; rv NULL for a create. */
static char *lease_body(const struct lease_elector *e, const char *holder,
                        int duration_s, const char *acquire, const char *renew,
                        int transitions, const char *rv)
{
    json_t *meta = json_pack("{s:s, s:s}", "name", e->name, "namespace", e->ns);
    json_t *root;
    char *text;

    if (rv)
        json_object_set_new(meta, "resourceVersion", json_string(rv));
    root = json_pack("{s:s, s:s, s:o, s:{s:s, s:i, s:s, s:s, s:i}}",
                     "apiVersion", "coordination.k8s.io/v1", "kind", "Lease",
                     "metadata", meta, "spec", "holderIdentity", holder,
                     "leaseDurationSeconds", duration_s, "acquireTime", acquire,
                     "renewTime", renew, "leaseTransitions", transitions);
    text = json_dumps(root, JSON_COMPACT);
    json_decref(root);
    if (!text)
        abort(); /* only on allocation failure */
    return text;
}

/* Take, or renew when we hold it already. */
static void take_body(struct lease_elector *e, long long wall_us, bool create)
{
    char now[32];
    bool ours = e->have_record && strcmp(e->observed.holder, e->identity) == 0;

    lease_micro_time(wall_us, now);
    free(e->body);
    e->body = lease_body(
        e, e->identity, (int)(e->duration_ms / 1000),
        ours && e->observed.acquire_time[0] ? e->observed.acquire_time : now,
        now,
        create ? 0
               : (ours ? e->observed.transitions : e->observed.transitions + 1),
        create ? NULL : e->observed.resource_version);
}

static void release_body(struct lease_elector *e, long long wall_us)
{
    char now[32];

    lease_micro_time(wall_us, now);
    free(e->body);
    e->body = lease_body(e, "", 1, now, now, e->observed.transitions,
                         e->observed.resource_version);
}

static void set_request(struct kube_sync_request *req, const char *method,
                        const char *path, const char *body)
{
    *req = (struct kube_sync_request){method, path, body, NULL};
}

void lease_begin_round(struct lease_elector *e, long long now_ms)
{
    if (e->step != LEASE_IDLE)
        return;
    if (e->leader && !lease_leading(e, now_ms))
        e->leader = false; /* the renew deadline passed */
    if (e->releasing && !e->leader)
        e->step = LEASE_DONE;
    else if (e->releasing)
        e->step = LEASE_RELEASE;
    else if (e->leader && e->have_record)
        e->step = LEASE_TAKE; /* the fast path: renew what we hold */
    else
        e->step = LEASE_GET;
}

bool lease_next(struct lease_elector *e, long long now_ms, long long wall_us,
                struct kube_sync_request *req)
{
    e->asked_ms = now_ms;
    switch (e->step) {
    case LEASE_GET:
        set_request(req, "GET", e->path, NULL);
        return true;
    case LEASE_CREATE:
        take_body(e, wall_us, true);
        set_request(req, "POST", e->collection, e->body);
        return true;
    case LEASE_TAKE:
        take_body(e, wall_us, false);
        set_request(req, "PUT", e->path, e->body);
        return true;
    case LEASE_RELEASE:
        release_body(e, wall_us);
        set_request(req, "PUT", e->path, e->body);
        return true;
    case LEASE_IDLE:
    case LEASE_DONE:
        break;
    }
    return false;
}

static void round_failed(struct lease_elector *e, const char *what,
                         const struct kube_response *r)
{
    char msg[400];

    er_set(&e->trouble, ER_KUBE, "%s lease %s/%s: %ld %s: %s", what, e->ns,
           e->name, r->status, r->st.reason,
           kube_response_message(r, msg, sizeof(msg)));
    e->step = e->releasing ? LEASE_DONE : LEASE_IDLE;
}

/* A record read (since is the earliest it can have changed) or written
 * by us (since is now): note when it last changed, on our clock. */
static void observe(struct lease_elector *e, const struct lease_record *rec,
                    long long since_ms)
{
    if (!e->have_record ||
        strcmp(rec->resource_version, e->observed.resource_version) != 0) {
        e->observed = *rec;
        e->observed_ms = since_ms;
    }
    e->have_record = true;
}

/* A change seen by a GET answered at now: after our previous read, and at
 * most the slack before now (see lease.h). */
static long long changed_since(const struct lease_elector *e, long long now_ms)
{
    long long since = now_ms - LEASE_OBSERVE_SLACK_MS;

    if (e->read_ms > since)
        since = e->read_ms;
    return since;
}

static void on_get(struct lease_elector *e, long long now_ms,
                   const struct kube_response *r)
{
    struct lease_record rec;
    struct er_error perr = {0};
    bool held;

    if (r->status == 404) {
        e->step = LEASE_CREATE;
        return;
    }
    if (r->status != 200) {
        round_failed(e, "GET", r);
        return;
    }
    if (lease_record_parse(r->body.data, r->body.len, &rec, &perr) != ER_OK) {
        er_set(&e->trouble, ER_PARSE, "GET lease %s/%s: %s", e->ns, e->name,
               perr.msg);
        e->step = LEASE_IDLE;
        return;
    }
    observe(e, &rec, changed_since(e, now_ms));
    e->read_ms = e->asked_ms;
    held = rec.holder[0] && strcmp(rec.holder, e->identity) != 0 &&
           e->observed_ms + (long long)rec.duration_s * 1000 > now_ms;
    if (held) {
        e->leader = false; /* someone else holds it, validly */
        e->step = LEASE_IDLE;
        er_clear(&e->trouble);
    } else {
        e->step = LEASE_TAKE;
    }
}

static void on_written(struct lease_elector *e, long long now_ms,
                       const struct kube_response *r)
{
    struct lease_record rec;
    struct er_error perr = {0};

    if (lease_record_parse(r->body.data, r->body.len, &rec, &perr) != ER_OK) {
        /* It landed, but we cannot tell its version: read it next time. */
        e->have_record = false;
    } else {
        observe(e, &rec, now_ms);
        e->read_ms = e->asked_ms; /* a later change comes after this write */
    }
    e->leader = true;
    e->renewed_ms = now_ms;
    er_clear(&e->trouble);
    e->step = LEASE_IDLE;
}

void lease_answer(struct lease_elector *e, long long now_ms,
                  const struct kube_response *r)
{
    bool ok = r->status == 200 || r->status == 201;

    switch (e->step) {
    case LEASE_GET:
        on_get(e, now_ms, r);
        break;
    case LEASE_CREATE:
    case LEASE_TAKE:
        if (ok)
            on_written(e, now_ms, r);
        else if (r->status == 409 && e->step == LEASE_TAKE && e->leader)
            e->step = LEASE_GET; /* the fast path failed: read it */
        else if (r->status == 409)
            e->step = LEASE_IDLE; /* another candidate won this round */
        else
            round_failed(e, e->step == LEASE_CREATE ? "POST" : "PUT", r);
        break;
    case LEASE_RELEASE:
        if (!ok)
            round_failed(e, "PUT", r);
        e->leader = false;
        e->step = LEASE_DONE;
        break;
    case LEASE_IDLE:
    case LEASE_DONE:
        break;
    }
}

void lease_fail(struct lease_elector *e, const struct er_error *err)
{
    e->trouble = *err;
    e->step = e->releasing ? LEASE_DONE : LEASE_IDLE;
    if (e->releasing)
        e->leader = false;
}

long long lease_wait_ms(const struct lease_elector *e, long long now_ms,
                        double random01)
{
    long long wait, expires;

    if (e->leader)
        return e->retry_ms;
    wait = e->retry_ms + (long long)(LEASE_JITTER * random01 * e->retry_ms);
    if (!e->have_record || !e->observed.holder[0])
        return wait;
    /* Only a Lease that runs out later: one that ran out already was
     * taken, or the round failed and waits its retry period. */
    expires = e->observed_ms + (long long)e->observed.duration_s * 1000;
    if (expires > now_ms && expires - now_ms < wait)
        wait = expires - now_ms;
    return wait;
}

void lease_release(struct lease_elector *e)
{
    e->releasing = true;
}
