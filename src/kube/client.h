/*
 * client.h - requests to the Kubernetes API server.
 *
 * One client keeps one HTTP client, so every request of a run goes over
 * one TLS connection. Credentials are applied per request: a tokenFile
 * (the in-cluster bound token) is re-read each time because the kubelet
 * rotates it; an exec plugin's credential is kept until it expires or
 * the server answers 401, then fetched again once.
 *
 * Retries: 429 (honouring Retry-After), 5xx and connection failures,
 * with exponential backoff and jitter, within the client's deadline.
 * Every other answer is returned to the caller, who judges it. Answers
 * are read within a cap sized to what they hold: one object, or one page
 * of a list.
 *
 * Ownership: kube_client_new takes over *target (and zeroes it); the
 * clock, retry policy and deadline are borrowed.
 */
#ifndef ECR_RENEW_KUBE_CLIENT_H
#define ECR_RENEW_KUBE_CLIENT_H

#include "../core/buf.h"
#include "../core/clock.h"
#include "../core/deadline.h"
#include "../core/err.h"
#include "../net/retry.h"
#include "kubeconfig.h"
#include "status.h"

#include <jansson.h>
#include <stddef.h>

/* One object (a Secret is at most 1 MiB of data, 1.4 MiB as base64). */
#define KUBE_OBJECT_CAP (4u * 1024 * 1024)
/* One page of a list (KUBE_LIST_PAGE_SIZE items of a few KiB). */
#define KUBE_LIST_PAGE_CAP (4u * 1024 * 1024)
#define KUBE_LIST_PAGE_SIZE 500
/* kube-apiserver refuses request bodies larger than 3 MiB. */
#define KUBE_REQUEST_MAX (3u * 1024 * 1024)

struct kube_client;

struct kube_response {
    long status;
    struct buf body;       /* may hold Secret data: a BUF_SECRET buffer */
    char content_type[64]; /* as the server said, or "" */
    char location[256];    /* of a redirect (userinfo redacted), or "" */
    struct kube_status st; /* parsed when status is not 2xx */
};

/* What a refusal says, for messages: the Status message (without the
 * full stop messages end with, as ours add one), that it was a redirect,
 * or "(no message)". Returns buf. */
const char *kube_response_message(const struct kube_response *r, char *buf,
                                  size_t cap);

/* One request. */
struct kube_call {
    const char *method;
    const char *path;  /* "/api/v1/namespaces/x/secrets/y" */
    const char *query; /* "limit=500&continue=...", already encoded; or NULL */
    const char *body;  /* JSON, or NULL */
    const char *content_type; /* of body; NULL: application/json */
    size_t answer_cap;        /* 0: KUBE_OBJECT_CAP */
    /* On the loop (kube_start): 0 for the client's defaults. A Lease
     * round, for one, cannot wait out the usual timeout and retries. */
    long timeout_ms;
    int max_tries;
};

struct kube_client *kube_client_new(struct kube_target *target,
                                    const struct clock *clock,
                                    const struct retry_policy *retry);
void kube_client_free(struct kube_client *c);

/* Every later request respects d (borrowed; NULL for none). */
void kube_client_set_deadline(struct kube_client *c, const struct deadline *d);

/* Sends one request (retrying as described). ER_OK whenever the server
 * gave a final answer, whatever its status; ER_NETWORK when it could not
 * be reached or its answer could not be read; ER_CONFIG when credentials
 * could not be obtained. */
enum er_code kube_send(struct kube_client *c, const struct kube_call *call,
                       struct kube_response *resp,
                       struct er_error *err) ER_CHECK;

/* kube_send for the common case. */
enum er_code kube_request(struct kube_client *c, const char *method,
                          const char *path, const char *body,
                          struct kube_response *resp,
                          struct er_error *err) ER_CHECK;

void kube_response_init(struct kube_response *r);
void kube_response_free(struct kube_response *r);

/* Called for every item of a list; return anything but ER_OK to stop.
 * item is NULL when the list starts over: forget the items so far. */
typedef enum er_code (*kube_list_item_fn)(void *ctx, json_t *item,
                                          struct er_error *err);

/* Lists path (a collection, e.g. "/api/v1/namespaces") with query
 * (selectors, already encoded; may be NULL), in pages of
 * KUBE_LIST_PAGE_SIZE with limit and continue, calling fn for each item.
 * A continue token that expired mid-way (410) starts the list over once,
 * without paging, as client-go's pager does. *resource_version (newly
 * allocated) is the list's, to watch from. A refusal is ER_KUBE naming
 * the request and the Status. */
enum er_code kube_list(struct kube_client *c, const char *path,
                       const char *query, kube_list_item_fn fn, void *ctx,
                       char **resource_version, struct er_error *err) ER_CHECK;

/* Pure: one page of a list answer. Calls fn for each item and sets
 * *next_continue (newly allocated, NULL on the last page) and
 * *resource_version (newly allocated). */
enum er_code kube_list_page(const char *json, size_t len, kube_list_item_fn fn,
                            void *ctx, char **next_continue,
                            char **resource_version,
                            struct er_error *err) ER_CHECK;

/* How many connections the client opened (for logs and tests). */
long kube_client_connections(const struct kube_client *c);

/* --- on the loop -------------------------------------------------------
 *
 * The controller sends requests without waiting: each runs on the
 * client's http_multi (made at the first one, on loop) and ends with one
 * call of done, from the loop. Requests are retried like kube_send's
 * (429 honouring Retry-After, 5xx, connection failures; 401 once with a
 * fresh exec credential), the waits being loop timers. A watch is a
 * stream: its events' bytes go to on_data, and it is never retried here
 * (the caller decides how to resume).
 */
struct loop;
struct kube_pending;

typedef void kube_done_fn(void *ctx, enum er_code rc,
                          struct kube_response *resp,
                          const struct er_error *err);

/* done's resp is the client's, valid during the call. */
struct kube_pending *kube_start(struct kube_client *c, struct loop *loop,
                                const struct kube_call *call,
                                kube_done_fn *done, void *ctx);

/* A watch request (GET path?query); on_data gets the stream's bytes and
 * may stop it by returning false with a reason in why. timeout_ms bounds
 * the whole stream, beyond the timeoutSeconds the query asks of the
 * server. */
struct kube_pending *kube_start_watch(
    struct kube_client *c, struct loop *loop, const char *path,
    const char *query, long timeout_ms,
    bool (*on_data)(void *ctx, const char *data, size_t n, char *why),
    kube_done_fn *done, void *ctx);

/* Stops a pending request; done is not called. NULL is allowed. */
void kube_cancel(struct kube_client *c, struct kube_pending *p);

/* Requests in flight or waiting to be retried. */
size_t kube_pending_count(const struct kube_client *c);

#endif
