/*
 * informer.h - one collection, listed then watched for ever, as
 * client-go's reflector does (REFERENCE-2 §1).
 *
 * It lists (paged with limit and continue), reports every item, says
 * when the list is complete, then watches from the list's
 * resourceVersion with bookmarks, reporting each change. A watch that
 * ends normally (the server's timeout) is started again at once from the
 * last version seen; an ERROR event with 410 (the version is too old)
 * starts over with a fresh list; a failure (a dropped connection, 5xx,
 * 403) is retried from the last version after a backoff with jitter
 * (0.8 s doubling to 30 s, reset after two quiet minutes), and reported.
 *
 * Everything happens on the loop; the callbacks run there, one at a
 * time, and may not free the informer.
 *
 * Ownership: the informer borrows the client and the loop; objects passed
 * to callbacks are valid during the call only (take a reference to keep
 * one).
 */
#ifndef ECR_RENEW_KUBE_INFORMER_H
#define ECR_RENEW_KUBE_INFORMER_H

#include "../core/err.h"
#include "client.h"

#include <jansson.h>
#include <stdbool.h>

struct loop;
struct kube_informer;

struct kube_informer_callbacks {
    void (*on_reset)(void *ctx);               /* a fresh list begins */
    void (*on_upsert)(void *ctx, json_t *obj); /* listed, added, changed */
    void (*on_delete)(void *ctx, json_t *obj); /* its last state */
    void (*on_synced)(void *ctx);              /* the list is complete */
    void (*on_trouble)(void *ctx, const struct er_error *err); /* retrying */
    void *ctx;
};

/* path: a collection ("/api/v1/namespaces"); query: selectors, already
 * encoded (may be NULL). what names it in logs ("namespaces"). */
struct kube_informer *
kube_informer_new(struct kube_client *c, struct loop *loop, const char *what,
                  const char *path, const char *query,
                  const struct kube_informer_callbacks *cb);

void kube_informer_start(struct kube_informer *inf);

/* Stops everything in flight; no callback is called after. */
void kube_informer_free(struct kube_informer *inf);

/* True once a list has completed (stays true across watches; false again
 * while a relist after 410 is in progress). */
bool kube_informer_synced(const struct kube_informer *inf);

/* Counters, for metrics and tests. */
struct kube_informer_stats {
    unsigned long lists;    /* lists started */
    unsigned long watches;  /* watches started */
    unsigned long expired;  /* 410s that made it list again */
    unsigned long failures; /* list or watch failures retried */
    unsigned long events;   /* watch events handled */
};

const struct kube_informer_stats *
kube_informer_stats(const struct kube_informer *inf);

#endif
