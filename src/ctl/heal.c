#include "heal.h"
#include "../core/log.h"
#include "../core/loop.h"
#include "../core/strmap.h"
#include "../core/xalloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MINUTE_MS 60000LL
/* Pods already deleted (or tried), remembered so none is deleted twice;
 * uids never come back, so the oldest can be forgotten. */
#define DONE_MAX 4096

struct healer {
    struct loop *loop;
    struct kube_client *kc;
    struct event_recorder *events;
    struct metric_family *healed;
    int rate;
    heal_ready_fn *ready;
    void *ctx;
    struct strmap candidates; /* uid -> struct pod_heal_view */
    struct strmap done;       /* uid -> (void *)1 */
    char *done_ring[DONE_MAX];
    size_t done_next;
    long long *deleted_ms; /* a ring of the last rate deletions */
    size_t deleted_n, deleted_next;
    struct pod_heal_view in_flight;
    struct kube_pending *pending;
    char *body;
    struct loop_timer *timer;
};

static void look(void *ctx);

static void remember_done(struct healer *h, const char *uid)
{
    char *old = h->done_ring[h->done_next];

    if (old) {
        strmap_remove(&h->done, old);
        free(old);
    }
    h->done_ring[h->done_next] = xstrdup(uid);
    strmap_put(&h->done, uid, (void *)1);
    h->done_next = (h->done_next + 1) % DONE_MAX;
}

/* Milliseconds until another deletion is allowed; 0 now. */
static long long rate_wait_ms(const struct healer *h)
{
    long long now = loop_now_ms(h->loop), oldest;

    if (h->deleted_n < (size_t)h->rate)
        return 0;
    oldest = h->deleted_ms[h->deleted_next]; /* the next to be replaced */
    return oldest + MINUTE_MS > now ? oldest + MINUTE_MS - now : 0;
}

static void note_deletion(struct healer *h)
{
    h->deleted_ms[h->deleted_next] = loop_now_ms(h->loop);
    h->deleted_next = (h->deleted_next + 1) % (size_t)h->rate;
    if (h->deleted_n < (size_t)h->rate)
        h->deleted_n++;
}

static void schedule(struct healer *h, long long ms)
{
    if (h->timer)
        return;
    h->timer = loop_after(h->loop, ms, look, h);
}

static void healed(struct healer *h, const struct pod_heal_view *p)
{
    struct kube_event_object owner = {p->owner_api_version, p->owner_kind,
                                      p->ns, p->owner_name, NULL};
    char msg[1536];

    metrics_add(h->healed, 1, NULL);
    snprintf(msg, sizeof(msg),
             "deleted pod %s, stuck pulling %s without the pull Secret its "
             "ServiceAccount %s now lists, so that it is created again with "
             "it",
             p->name, p->image, p->account);
    event_record(h->events, &owner, KUBE_EVENT_NORMAL, "PodHealed", msg);
    log_event(LOG_INFO,
              "pod deleted so its owner makes it again with the "
              "pull Secret",
              "namespace", p->ns, "pod", p->name, "owner", p->owner_name,
              "image", p->image, LOG_END);
}

static void answered(void *ctx, enum er_code rc, struct kube_response *r,
                     const struct er_error *err)
{
    struct healer *h = ctx;
    struct pod_heal_view *p = &h->in_flight;
    char msg[600];

    h->pending = NULL;
    free(h->body);
    h->body = NULL;
    if (rc == ER_OK && (r->status == 200 || r->status == 202))
        healed(h, p);
    else if (rc == ER_OK && (r->status == 404 || r->status == 409))
        log_event(LOG_DEBUG, "pod gone or replaced before its deletion",
                  "namespace", p->ns, "pod", p->name, LOG_END);
    else
        log_event(LOG_ERROR, "pod not deleted", "namespace", p->ns, "pod",
                  p->name, "error",
                  rc != ER_OK ? err->msg
                              : kube_response_message(r, msg, sizeof(msg)),
                  "hint",
                  rc == ER_OK && r->status == 403
                      ? "--heal-pods needs list, watch and delete on pods"
                      : "",
                  LOG_END);
    schedule(h, 0);
}

static void delete_pod(struct healer *h, const struct pod_heal_view *p)
{
    char *path = xasprintf("/api/v1/namespaces/%s/pods/%s", p->ns, p->name);
    struct kube_call call = {.method = "DELETE", .path = path};

    h->in_flight = *p;
    h->body = pod_heal_delete_body(p->uid);
    call.body = h->body;
    /* Tried once whatever comes back: never twice for the same pod. */
    remember_done(h, p->uid);
    free(strmap_remove(&h->candidates, p->uid));
    note_deletion(h);
    h->pending = kube_start(h->kc, h->loop, &call, answered, h);
    free(path);
}

/* The first candidate that may go now, within the rate. */
static void look(void *ctx)
{
    struct healer *h = ctx;
    size_t pos = 0;
    const char *uid;
    void *v;
    long long wait;

    h->timer = NULL;
    if (h->pending)
        return; /* its answer looks again */
    while (strmap_next(&h->candidates, &pos, &uid, &v)) {
        struct pod_heal_view *p = v;
        if (!h->ready(h->ctx, p))
            continue;
        if ((wait = rate_wait_ms(h)) > 0) {
            schedule(h, wait);
            return;
        }
        delete_pod(h, p);
        return;
    }
}

struct healer *healer_new(struct loop *loop, struct kube_client *kc,
                          struct event_recorder *events,
                          struct metric_family *healed, int rate_per_minute,
                          heal_ready_fn *ready, void *ctx)
{
    struct healer *h = xcalloc(1, sizeof(*h));

    h->loop = loop;
    h->kc = kc;
    h->events = events;
    h->healed = healed;
    h->rate = rate_per_minute > 0 ? rate_per_minute : HEAL_DEFAULT_RATE;
    h->deleted_ms = xcalloc((size_t)h->rate, sizeof(*h->deleted_ms));
    h->ready = ready;
    h->ctx = ctx;
    return h;
}

void healer_pod(struct healer *h, const struct pod_heal_view *pod)
{
    struct pod_heal_view *copy;

    if (strmap_get(&h->done, pod->uid))
        return;
    copy = strmap_get(&h->candidates, pod->uid);
    if (!copy) {
        copy = xmalloc(sizeof(*copy));
        strmap_put(&h->candidates, pod->uid, copy);
    }
    *copy = *pod;
    healer_kick(h);
}

void healer_forget(struct healer *h, const char *uid)
{
    free(strmap_remove(&h->candidates, uid));
}

void healer_kick(struct healer *h)
{
    if (h && strmap_size(&h->candidates) > 0)
        schedule(h, 0);
}

void healer_cancel(struct healer *h)
{
    if (!h)
        return;
    kube_cancel(h->kc, h->pending);
    h->pending = NULL;
    free(h->body);
    h->body = NULL;
}

void healer_free(struct healer *h)
{
    if (!h)
        return;
    healer_cancel(h);
    loop_cancel(h->loop, h->timer);
    strmap_free_with(&h->candidates, free);
    strmap_free(&h->done);
    for (size_t i = 0; i < DONE_MAX; i++)
        free(h->done_ring[i]);
    free(h->deleted_ms);
    free(h);
}
