#include "events.h"
#include "../core/log.h"
#include "../core/loop.h"
#include "../core/strmap.h"
#include "../core/xalloc.h"
#include "../kube/pull_secret.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* One object and reason: what has been recorded, and what was written. */
struct ev_key {
    struct event_recorder *r;
    struct ev_key *newer, *older; /* by last record */
    char *key;                    /* kind/namespace/name/reason */
    char *api_version, *kind, *ns, *name, *uid;
    char *type, *reason, *message; /* the latest record's */
    char *event_name;              /* the Event written to, or NULL */
    long count;                    /* records so far */
    time_t first_time, last_time;
    long long last_write_ms; /* loop time the last write started */
    bool dirty;              /* recorded since the last write started */
    bool warned;             /* a failure was logged, none succeeded since */
    bool posting;            /* the request in flight is a POST */
    bool queued;             /* waiting for a free request slot */
    struct ev_key *q_next;   /* the next key waiting, FIFO */
    struct kube_pending *pending;
    struct loop_timer *timer; /* the next write, once the minute is up */
};

struct event_recorder {
    struct loop *loop;
    struct kube_client *kc;
    char *instance;
    bool enabled;
    bool forbidden_warned;     /* a 403 was logged: others go to debug */
    long long paused_until_ms; /* after a 403: nothing sent before then */
    size_t max_keys;
    size_t in_flight;                /* requests started, not answered */
    struct ev_key *q_first, *q_last; /* keys waiting for a request slot */
    struct strmap keys;
    struct ev_key *newest, *oldest;
    uint64_t last_nanos; /* of the last name made: names never repeat */
    struct event_recorder_stats stats;
};

/* --- keys, most recently recorded first -------------------------------- */

static void unlink_key(struct ev_key *k)
{
    struct event_recorder *r = k->r;

    if (k->newer)
        k->newer->older = k->older;
    else
        r->newest = k->older;
    if (k->older)
        k->older->newer = k->newer;
    else
        r->oldest = k->newer;
    k->newer = k->older = NULL;
}

static void link_newest(struct ev_key *k)
{
    struct event_recorder *r = k->r;

    k->older = r->newest;
    if (r->newest)
        r->newest->newer = k;
    r->newest = k;
    if (!r->oldest)
        r->oldest = k;
}

/* Keys wait here, in order, while EVENT_RECORDER_MAX_IN_FLIGHT requests
 * are out: Events must not crowd out the Secret writes they report. */
static void enqueue(struct ev_key *k)
{
    struct event_recorder *r = k->r;

    if (k->queued)
        return;
    k->queued = true;
    k->q_next = NULL;
    if (r->q_last)
        r->q_last->q_next = k;
    else
        r->q_first = k;
    r->q_last = k;
}

static struct ev_key *dequeue(struct event_recorder *r)
{
    struct ev_key *k = r->q_first;

    if (!k)
        return NULL;
    r->q_first = k->q_next;
    if (!r->q_first)
        r->q_last = NULL;
    k->q_next = NULL;
    k->queued = false;
    return k;
}

static void unqueue(struct ev_key *k)
{
    struct event_recorder *r = k->r;
    struct ev_key *prev = NULL;

    if (!k->queued)
        return;
    for (struct ev_key *q = r->q_first; q != k; q = q->q_next)
        prev = q;
    if (prev)
        prev->q_next = k->q_next;
    else
        r->q_first = k->q_next;
    if (r->q_last == k)
        r->q_last = prev;
    k->q_next = NULL;
    k->queued = false;
}

static void replace(char **field, const char *value)
{
    free(*field);
    *field = value ? xstrdup(value) : NULL;
}

static struct ev_key *key_new(struct event_recorder *r, const char *key,
                              const struct kube_event_object *obj,
                              const char *reason)
{
    struct ev_key *k = xcalloc(1, sizeof(*k));

    k->r = r;
    k->key = xstrdup(key);
    k->api_version = xstrdup(obj->api_version);
    k->kind = xstrdup(obj->kind);
    k->ns = xstrdup(obj->ns ? obj->ns : "");
    k->name = xstrdup(obj->name);
    replace(&k->uid, obj->uid);
    k->reason = xstrdup(reason);
    strmap_put(&r->keys, key, k);
    link_newest(k);
    return k;
}

/* Forgets k: cancels its timer and request, so nothing calls back. */
static void key_free(struct ev_key *k)
{
    struct event_recorder *r = k->r;

    loop_cancel(r->loop, k->timer);
    if (k->pending) {
        kube_cancel(r->kc, k->pending);
        r->in_flight--;
    }
    unqueue(k);
    if (k->dirty)
        r->stats.dropped++;
    strmap_remove(&r->keys, k->key);
    unlink_key(k);
    free(k->key);
    free(k->api_version);
    free(k->kind);
    free(k->ns);
    free(k->name);
    free(k->uid);
    free(k->type);
    free(k->reason);
    free(k->message);
    free(k->event_name);
    free(k);
}

static void forget_beyond(struct event_recorder *r, size_t keep)
{
    while (r->oldest && strmap_size(&r->keys) > keep)
        key_free(r->oldest);
}

/* --- writing ----------------------------------------------------------- */

static void on_answer(void *ctx, enum er_code rc, struct kube_response *resp,
                      const struct er_error *err);

/* Event names need only be unique: whole seconds from the wall clock, a
 * random fraction, and never the same twice from one recorder. */
static uint64_t name_nanos(struct event_recorder *r, time_t now, double rnd)
{
    uint64_t n =
        (uint64_t)(now > 0 ? now : 0) * 1000000000u + (uint64_t)(rnd * 1e9);

    if (n <= r->last_nanos)
        n = r->last_nanos + 1;
    r->last_nanos = n;
    return n;
}

static void start(struct ev_key *k, const char *method, const char *path,
                  const char *body, const char *content_type)
{
    struct kube_call call = {.method = method,
                             .path = path,
                             .body = body,
                             .content_type = content_type};

    k->posting = strcmp(method, "POST") == 0;
    k->pending = kube_start(k->r->kc, k->r->loop, &call, on_answer, k);
    k->r->in_flight++;
}

static void post(struct ev_key *k)
{
    const struct clock *c = loop_clock(k->r->loop);
    struct kube_event_object obj = {k->api_version, k->kind, k->ns, k->name,
                                    k->uid};
    struct kube_event ev = {.obj = &obj,
                            .type = k->type,
                            .reason = k->reason,
                            .message = k->message,
                            .instance = k->r->instance,
                            .first_time = k->first_time,
                            .last_time = k->last_time,
                            .count = k->count};
    uint64_t nanos = name_nanos(k->r, clock_now(c), c->random01(c->ctx));
    uint64_t bits = (uint64_t)(c->random01(c->ctx) * 9007199254740992.0);
    struct kube_event_post p;

    kube_event_post_build(&ev, nanos, bits, &p);
    replace(&k->event_name, p.name);
    start(k, "POST", p.path, p.body, NULL);
    kube_event_post_free(&p);
}

/* The namespace k's Event lives in (k->ns, or "default"). */
static const char *event_ns(const struct ev_key *k)
{
    struct kube_event_object obj = {.ns = k->ns};

    return kube_event_namespace(&obj);
}

static void patch(struct ev_key *k)
{
    struct kube_event_patch p;

    kube_event_patch_build(event_ns(k), k->event_name, k->count, k->message,
                           k->last_time, &p);
    start(k, "PATCH", p.path, p.body, KUBE_MERGE_PATCH);
    kube_event_patch_free(&p);
}

static bool paused(const struct event_recorder *r)
{
    return loop_now_ms(r->loop) < r->paused_until_ms;
}

/* Writes what k holds now, a new Event or an update of the one made, or
 * queues it while every request slot is taken. While paused (missing
 * rights), what k holds is dropped instead. */
static void write_now(struct ev_key *k)
{
    struct event_recorder *r = k->r;

    if (paused(r)) {
        k->dirty = false;
        r->stats.dropped++;
        return;
    }
    if (r->in_flight >= EVENT_RECORDER_MAX_IN_FLIGHT) {
        k->dirty = true;
        enqueue(k);
        return;
    }
    k->dirty = false;
    k->last_write_ms = loop_now_ms(r->loop);
    if (k->event_name)
        patch(k);
    else
        post(k);
}

/* Starts waiting keys while a request slot is free. */
static void pump(struct event_recorder *r)
{
    struct ev_key *k;

    while (r->in_flight < EVENT_RECORDER_MAX_IN_FLIGHT &&
           (k = dequeue(r)) != NULL)
        write_now(k);
}

static void on_minute(void *ctx)
{
    struct ev_key *k = ctx;

    k->timer = NULL;
    if (k->dirty && !k->pending)
        write_now(k);
}

/* Writes k's records a minute after its last write; one timer at most,
 * none while a request is in flight (its answer schedules). */
static void schedule(struct ev_key *k)
{
    long long wait;

    if (!k->dirty || k->pending || k->timer || k->queued)
        return;
    wait =
        k->last_write_ms + EVENT_RECORDER_INTERVAL_MS - loop_now_ms(k->r->loop);
    k->timer = loop_after(k->r->loop, wait > 0 ? wait : 0, on_minute, k);
}

/* --- answers ----------------------------------------------------------- */

static const char *hint_for(const struct kube_response *resp)
{
    if (resp->status == 403 && !strstr(resp->st.message, "being terminated"))
        return " Fix: grant create and patch on events (API group \"\") to "
               "the identity ecr-renew runs as";
    if (resp->status == 401)
        return " Fix: the token or certificate was not accepted";
    return "";
}

static void describe(const struct ev_key *k, enum er_code rc,
                     const struct kube_response *resp,
                     const struct er_error *err, char *out, size_t cap)
{
    const char *method = k->posting ? "POST" : "PATCH";
    const char *ns = event_ns(k);
    char msg[800];

    if (rc != ER_OK) {
        snprintf(out, cap, "%s events in %s: %s", method, ns, err->msg);
        return;
    }
    snprintf(out, cap, "%s events in %s: %ld %s: %s.%s", method, ns,
             resp->status, resp->st.reason[0] ? resp->st.reason : "HTTP error",
             kube_response_message(resp, msg, sizeof(msg)), hint_for(resp));
}

static void failed(struct ev_key *k, enum er_code rc,
                   const struct kube_response *resp, const struct er_error *err)
{
    char why[ER_MSG_MAX + 128]; /* "POST events in <ns>: " + message */
    char object[512];
    bool forbidden;

    k->r->stats.failed++;
    if (k->posting)
        replace(&k->event_name, NULL); /* not made: the next write POSTs */
    describe(k, rc, resp, err, why, sizeof(why));
    snprintf(object, sizeof(object), "%s %s%s%s", k->kind, k->ns,
             k->ns[0] ? "/" : "", k->name);
    /* Missing rights refuse every key alike: one warning says it. */
    forbidden = rc == ER_OK && resp && resp->status == 403 &&
                !strstr(resp->st.message, "being terminated");
    log_event(k->warned || (forbidden && k->r->forbidden_warned) ? LOG_DEBUG
                                                                 : LOG_WARN,
              "could not record event", "object", object, "reason", k->reason,
              "error", why, LOG_END);
    k->warned = true;
    if (forbidden) {
        /* Every other key would be refused alike: none is sent for a
         * while, and the records meanwhile are dropped. */
        k->r->forbidden_warned = true;
        k->r->paused_until_ms =
            loop_now_ms(k->r->loop) + EVENT_RECORDER_PAUSE_MS;
    }
}

static void on_answer(void *ctx, enum er_code rc, struct kube_response *resp,
                      const struct er_error *err)
{
    struct ev_key *k = ctx;
    struct event_recorder *r = k->r;
    bool ok = rc == ER_OK && resp->status >= 200 && resp->status < 300;

    k->pending = NULL;
    r->in_flight--;
    if (ok && k->posting) {
        k->r->stats.created++;
        k->warned = false;
    } else if (ok) {
        k->r->stats.patched++;
        k->warned = false;
    } else if (rc == ER_OK && !k->posting && resp->status == 404) {
        /* Expired (or deleted): the same update, as a new Event. */
        replace(&k->event_name, NULL);
        post(k);
        return;
    } else {
        failed(k, rc, resp, err);
    }
    schedule(k);
    pump(r);
}

/* --- the recorder ------------------------------------------------------ */

struct event_recorder *event_recorder_new(struct loop *loop,
                                          struct kube_client *kc,
                                          const char *instance)
{
    struct event_recorder *r = xcalloc(1, sizeof(*r));

    r->loop = loop;
    r->kc = kc;
    r->instance =
        xstrdup(instance && instance[0] ? instance : KUBE_EVENT_COMPONENT);
    r->enabled = true;
    r->max_keys = EVENT_RECORDER_MAX_KEYS;
    r->keys = (struct strmap)STRMAP_INIT;
    return r;
}

void event_recorder_free(struct event_recorder *r)
{
    if (!r)
        return;
    forget_beyond(r, 0);
    strmap_free(&r->keys);
    free(r->instance);
    free(r);
}

static bool well_formed(const struct kube_event_object *obj, const char *type,
                        const char *reason)
{
    return obj && obj->api_version && obj->api_version[0] && obj->kind &&
           obj->kind[0] && obj->name && obj->name[0] && reason && reason[0] &&
           kube_event_type_ok(type);
}

/* A record of a key already written: counted, and written when due. */
static void again(struct ev_key *k, const char *type, const char *message,
                  time_t now)
{
    k->count++;
    k->last_time = now;
    replace(&k->type, type);
    free(k->message);
    k->message = kube_event_clip_message(message);
    k->dirty = true;
    unlink_key(k);
    link_newest(k);
    schedule(k);
}

static void first(struct event_recorder *r, const char *key,
                  const struct kube_event_object *obj, const char *type,
                  const char *reason, const char *message, time_t now)
{
    struct ev_key *k;

    forget_beyond(r, r->max_keys - 1);
    k = key_new(r, key, obj, reason);
    k->type = xstrdup(type);
    k->message = kube_event_clip_message(message);
    k->count = 1;
    k->first_time = k->last_time = now;
    write_now(k);
}

void event_record(struct event_recorder *r, const struct kube_event_object *obj,
                  const char *type, const char *reason, const char *message)
{
    time_t now = clock_now(loop_clock(r->loop));
    struct ev_key *k;
    char *key;

    if (!r->enabled || paused(r)) {
        r->stats.dropped++;
        return;
    }
    if (!well_formed(obj, type, reason)) {
        log_event(LOG_WARN,
                  "event dropped: no object, reason or valid type "
                  "(a bug)",
                  "reason", reason ? reason : "", LOG_END);
        r->stats.dropped++;
        return;
    }
    key = xasprintf("%s/%s/%s/%s", obj->kind, obj->ns ? obj->ns : "", obj->name,
                    reason);
    k = strmap_get(&r->keys, key);
    if (k)
        again(k, type, message, now);
    else
        first(r, key, obj, type, reason, message, now);
    free(key);
    /* Forgetting a key in flight to stay in bounds frees its slot. */
    pump(r);
}

void event_recorder_set_enabled(struct event_recorder *r, bool on)
{
    if (!on)
        forget_beyond(r, 0);
    r->enabled = on;
}

void event_recorder_set_max_keys(struct event_recorder *r, size_t max_keys)
{
    r->max_keys = max_keys > 0 ? max_keys : 1;
    forget_beyond(r, r->max_keys);
}

struct event_recorder_stats
event_recorder_get_stats(const struct event_recorder *r)
{
    struct event_recorder_stats s = r->stats;

    s.keys = strmap_size(&r->keys);
    return s;
}
