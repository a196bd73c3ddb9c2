#include "informer.h"
#include "../core/buf.h"
#include "../core/log.h"
#include "../core/loop.h"
#include "../core/wipe.h"
#include "../core/xalloc.h"
#include "watch.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* client-go's reflector: backoff 0.8 s doubling to 30 s, jitter 1.0,
 * reset after two minutes without a failure; watches of 5 to 10 minutes. */
#define BACKOFF_BASE_MS 800
#define BACKOFF_CAP_MS 30000
#define BACKOFF_RESET_MS 120000
#define WATCH_MIN_SECONDS 300
#define VERY_SHORT_WATCH_MS 1000
/* Smaller pages than sync's: a page's parse is the controller's largest
 * transient allocation, and a long-running process keeps its peak. */
#define INFORMER_PAGE_SIZE 100

struct kube_informer {
    struct kube_client *c;
    struct loop *loop;
    char *what, *path, *query;
    struct kube_informer_callbacks cb;
    struct kube_pending *pending;
    struct loop_timer *timer;
    char *rv; /* the last version seen: where a watch resumes */
    bool synced;
    bool relist; /* a 410 was seen in the stream */
    char stream_error[ER_MSG_MAX];
    int failures;
    long long last_failure_ms;
    long long watch_started_ms;
    unsigned long watch_events;
    struct kube_watch_splitter splitter;
    struct kube_informer_stats stats;
};

static void list_page(struct kube_informer *inf, const char *cont);
static void start_watch(struct kube_informer *inf);

static void set_rv(struct kube_informer *inf, const char *rv)
{
    if (!rv || !*rv)
        return;
    free(inf->rv);
    inf->rv = xstrdup(rv);
}

/* --- waiting after trouble ------------------------------------------------ */

static void resume(void *ctx)
{
    struct kube_informer *inf = ctx;

    inf->timer = NULL;
    if (inf->rv && inf->synced)
        start_watch(inf);
    else
        list_page(inf, NULL);
}

static void failed(struct kube_informer *inf, const struct er_error *err)
{
    long long now = loop_now_ms(inf->loop), ms = BACKOFF_BASE_MS;
    const struct clock *clock = loop_clock(inf->loop);
    char wait[24];

    if (now - inf->last_failure_ms > BACKOFF_RESET_MS)
        inf->failures = 0;
    inf->last_failure_ms = now;
    for (int i = 0; i < inf->failures && ms < BACKOFF_CAP_MS; i++)
        ms *= 2;
    if (ms > BACKOFF_CAP_MS)
        ms = BACKOFF_CAP_MS;
    ms += (long long)(clock->random01(clock->ctx) * (double)ms);
    inf->failures++;
    inf->stats.failures++;
    snprintf(wait, sizeof(wait), "%lld", ms);
    log_event(LOG_WARN, "list or watch failed; retrying", "resource", inf->what,
              "error", err->msg, "wait_ms", wait, LOG_END);
    if (inf->cb.on_trouble)
        inf->cb.on_trouble(inf->cb.ctx, err);
    inf->timer = loop_after(inf->loop, ms, resume, inf);
}

static void refused(struct kube_informer *inf, const char *verb,
                    const struct kube_response *r)
{
    struct er_error err;

    char msg[800];

    er_set(&err,
           r->status >= 500 || r->status == 429 || r->status < 400 ? ER_NETWORK
                                                                   : ER_KUBE,
           "%s %s: %ld %s: %s%s", verb, inf->what, r->status, r->st.reason,
           kube_response_message(r, msg, sizeof(msg)),
           r->status == 403 ? ". Fix: grant list and watch on it to the "
                              "identity ecr-renew runs as"
                            : "");
    /* The Kubernetes reason, for the caller's metrics. */
    er_set_peer(&err, verb, r->st.reason[0] ? r->st.reason : "HTTP error");
    failed(inf, &err);
}

/* --- listing -------------------------------------------------------------- */

static enum er_code deliver(void *ctx, json_t *item, struct er_error *err)
{
    struct kube_informer *inf = ctx;

    (void)err;
    if (item)
        inf->cb.on_upsert(inf->cb.ctx, item);
    return ER_OK;
}

static void on_page(void *ctx, enum er_code rc, struct kube_response *r,
                    const struct er_error *err)
{
    struct kube_informer *inf = ctx;
    struct er_error perr;
    char *next = NULL, *rv = NULL;

    inf->pending = NULL;
    if (rc != ER_OK) {
        failed(inf, err);
        return;
    }
    if (r->status == 410) { /* a continue token too old: start over */
        inf->stats.expired++;
        list_page(inf, NULL);
        return;
    }
    if (r->status != 200) {
        refused(inf, "list", r);
        return;
    }
    if (kube_list_page(r->body.data, r->body.len, deliver, inf, &next, &rv,
                       &perr) != ER_OK) {
        er_wrap(&perr, "list %s", inf->what);
        failed(inf, &perr);
        return;
    }
    set_rv(inf, rv);
    free(rv);
    if (next) {
        list_page(inf, next);
        free(next);
        return;
    }
    inf->synced = true;
    inf->failures = 0;
    if (inf->cb.on_synced)
        inf->cb.on_synced(inf->cb.ctx);
    start_watch(inf);
}

/* A list starts over from nothing; its first page says so first. */
static void list_page(struct kube_informer *inf, const char *cont)
{
    struct buf q = BUF_INIT;
    struct kube_call call = {
        .method = "GET", .path = inf->path, .answer_cap = KUBE_LIST_PAGE_CAP};

    if (!cont) {
        inf->stats.lists++;
        inf->synced = false;
        if (inf->cb.on_reset)
            inf->cb.on_reset(inf->cb.ctx);
    }
    if (inf->query)
        buf_must_addf(&q, "%s&", inf->query);
    buf_must_addf(&q, "limit=%d", INFORMER_PAGE_SIZE);
    if (cont)
        buf_must_addf(&q, "&continue=%s", cont);
    call.query = buf_str(&q);
    inf->pending = kube_start(inf->c, inf->loop, &call, on_page, inf);
    buf_free(&q);
}

/* --- watching ------------------------------------------------------------- */

static enum er_code on_event(void *ctx, const struct kube_watch_event *ev,
                             struct er_error *err)
{
    struct kube_informer *inf = ctx;

    inf->watch_events++;
    inf->stats.events++;
    if (ev->type == KUBE_WATCH_ERROR) {
        inf->relist = kube_watch_event_is_expired(ev);
        return er_set(err, ER_KUBE, "watch %s: ERROR %ld %s: %s", inf->what,
                      ev->error_code, ev->error_reason, ev->error_message);
    }
    set_rv(inf, ev->resource_version);
    if (ev->type == KUBE_WATCH_ADDED || ev->type == KUBE_WATCH_MODIFIED)
        inf->cb.on_upsert(inf->cb.ctx, ev->object);
    else if (ev->type == KUBE_WATCH_DELETED)
        inf->cb.on_delete(inf->cb.ctx, ev->object);
    return ER_OK;
}

static bool on_stream(void *ctx, const char *data, size_t n, char *why)
{
    struct kube_informer *inf = ctx;
    struct er_error err = {0};

    if (kube_watch_feed(&inf->splitter, data, n, on_event, inf, &err) == ER_OK)
        return true;
    snprintf(inf->stream_error, sizeof(inf->stream_error), "%s", err.msg);
    snprintf(why, ER_MSG_MAX, "%s", err.msg);
    return false;
}

/* A stream that ended: at its timeout (watch again at once), after an
 * ERROR (list again on 410), or broken (back off, then resume). */
static void on_watch_done(void *ctx, enum er_code rc, struct kube_response *r,
                          const struct er_error *err)
{
    struct kube_informer *inf = ctx;
    long long lasted = loop_now_ms(inf->loop) - inf->watch_started_ms;
    struct er_error short_err;

    inf->pending = NULL;
    kube_watch_splitter_free(&inf->splitter);
    if (inf->relist || (rc == ER_OK && r->status == 410)) {
        inf->relist = false;
        inf->stats.expired++;
        log_event(LOG_INFO, "watch expired; listing again", "resource",
                  inf->what, LOG_END);
        list_page(inf, NULL);
    } else if (rc != ER_OK) {
        failed(inf, err);
    } else if (r->status != 200) {
        refused(inf, "watch", r);
    } else if (lasted < VERY_SHORT_WATCH_MS && inf->watch_events == 0) {
        er_set(&short_err, ER_NETWORK,
               "watch %s ended after %lld ms with no event", inf->what, lasted);
        failed(inf, &short_err);
    } else {
        start_watch(inf);
    }
}

static void start_watch(struct kube_informer *inf)
{
    const struct clock *clock = loop_clock(inf->loop);
    int seconds = WATCH_MIN_SECONDS +
                  (int)(clock->random01(clock->ctx) * WATCH_MIN_SECONDS);
    struct buf q = BUF_INIT;

    if (inf->query)
        buf_must_addf(&q, "%s&", inf->query);
    buf_must_addf(&q,
                  "watch=true&allowWatchBookmarks=true&resourceVersion=%s&"
                  "timeoutSeconds=%d",
                  inf->rv ? inf->rv : "", seconds);
    kube_watch_splitter_init(&inf->splitter, KUBE_OBJECT_CAP);
    inf->stream_error[0] = '\0';
    inf->watch_events = 0;
    inf->watch_started_ms = loop_now_ms(inf->loop);
    inf->stats.watches++;
    inf->pending =
        kube_start_watch(inf->c, inf->loop, inf->path, buf_str(&q),
                         (seconds + 30) * 1000L, on_stream, on_watch_done, inf);
    buf_free(&q);
}

/* --- the public face ----------------------------------------------------- */

struct kube_informer *
kube_informer_new(struct kube_client *c, struct loop *loop, const char *what,
                  const char *path, const char *query,
                  const struct kube_informer_callbacks *cb)
{
    struct kube_informer *inf = xcalloc(1, sizeof(*inf));

    inf->c = c;
    inf->loop = loop;
    inf->what = xstrdup(what);
    inf->path = xstrdup(path);
    inf->query = query && *query ? xstrdup(query) : NULL;
    inf->cb = *cb;
    kube_watch_splitter_init(&inf->splitter, KUBE_OBJECT_CAP);
    return inf;
}

void kube_informer_start(struct kube_informer *inf)
{
    list_page(inf, NULL);
}

void kube_informer_free(struct kube_informer *inf)
{
    if (!inf)
        return;
    kube_cancel(inf->c, inf->pending);
    loop_cancel(inf->loop, inf->timer);
    kube_watch_splitter_free(&inf->splitter);
    free(inf->what);
    free(inf->path);
    free(inf->query);
    free(inf->rv);
    free(inf);
}

bool kube_informer_synced(const struct kube_informer *inf)
{
    return inf->synced;
}

const struct kube_informer_stats *
kube_informer_stats(const struct kube_informer *inf)
{
    return &inf->stats;
}
