#include "client.h"
#include "../core/fileio.h"
#include "../core/json_limit.h"
#include "../core/log.h"
#include "../core/loop.h"
#include "../core/strutil.h"
#include "../core/wipe.h"
#include "../core/xalloc.h"
#include "../net/http.h"
#include "exec_plugin.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define KUBE_TOKEN_CAP (64u * 1024)
#define KUBE_EXEC_EARLY_REFRESH 10 /* seconds before expiry */
/* kube-apiserver ends a non-watch request after 60 s itself. */
#define KUBE_REQUEST_TIMEOUT_MS 60000L

struct kube_pending {
    struct kube_client *c;
    struct loop *loop;
    struct kube_pending *next;
    struct kube_call call; /* strings below are copies */
    char *method, *path, *query, *body, *content_type;
    char *url;
    long timeout_ms;
    int max_tries;
    bool (*on_data)(void *ctx, const char *data, size_t n, char *why);
    kube_done_fn *done;
    void *ctx;
    struct http_transfer *transfer; /* in flight, or NULL */
    struct loop_timer *retry_timer; /* waiting, or NULL */
    int tries;
    bool reauthed;
    char why[ER_MSG_MAX];
    struct er_error early; /* a failure before sending, reported later */
    struct kube_response resp;
};

struct kube_client {
    struct kube_target target;
    const struct clock *clock;
    const struct deadline *deadline;
    struct retry_policy retry;
    struct http_settings net;
    struct http_client *http; /* made at the first request */
    struct http_multi *multi; /* made at the first request on a loop */
    struct kube_pending *pending;
    size_t n_pending;
    struct kube_exec_credential exec_cred;
    bool have_exec_cred;
    long connections_before; /* of http clients replaced earlier */
};

struct kube_client *kube_client_new(struct kube_target *target,
                                    const struct clock *clock,
                                    const struct retry_policy *retry)
{
    struct kube_client *c = xcalloc(1, sizeof(*c));

    c->target = *target;
    memset(target, 0, sizeof(*target));
    c->clock = clock;
    c->retry = *retry;
    return c;
}

static void pending_free(struct kube_pending *p);

void kube_client_free(struct kube_client *c)
{
    if (!c)
        return;
    while (c->pending) {
        struct kube_pending *p = c->pending;
        c->pending = p->next;
        loop_cancel(p->loop, p->retry_timer);
        pending_free(p);
    }
    http_multi_free(c->multi); /* aborts transfers without calling back */
    http_client_free(c->http);
    kube_exec_credential_free(&c->exec_cred);
    kube_target_free(&c->target);
    free(c);
}

void kube_client_set_deadline(struct kube_client *c, const struct deadline *d)
{
    c->deadline = d;
}

long kube_client_connections(const struct kube_client *c)
{
    return c->connections_before +
           (c->http ? http_client_connections(c->http) : 0) +
           (c->multi ? http_multi_connections(c->multi) : 0);
}

void kube_response_init(struct kube_response *r)
{
    memset(r, 0, sizeof(*r));
    buf_init(&r->body, KUBE_OBJECT_CAP, BUF_SECRET);
}

void kube_response_free(struct kube_response *r)
{
    buf_free(&r->body);
}

/* TLS identity may come from the exec plugin, so the HTTP client is made
 * (or remade) once the credential is known. */
static void ensure_http(struct kube_client *c, bool identity_changed)
{
    const struct kube_target *t = &c->target;

    if (c->http && !identity_changed)
        return;
    if (c->http) {
        c->connections_before += http_client_connections(c->http);
        http_client_free(c->http);
    }
    c->net = (struct http_settings){
        .ca_file = t->ca_file,
        .ca_pem = t->ca_pem,
        .client_cert_file = t->client_cert_file,
        .client_cert_pem = c->exec_cred.client_cert_pem
                               ? c->exec_cred.client_cert_pem
                               : t->client_cert_pem,
        .client_key_file = t->client_key_file,
        .client_key_pem = c->exec_cred.client_key_pem
                              ? c->exec_cred.client_key_pem
                              : t->client_key_pem,
        .server_name = t->tls_server_name,
        .insecure = t->insecure,
        .proxy = t->proxy_url,
    };
    c->http = http_client_new(&c->net);
}

static bool exec_cred_fresh(const struct kube_client *c)
{
    time_t exp = c->exec_cred.expiration;

    return c->have_exec_cred &&
           (exp == 0 || exp - clock_now(c->clock) > KUBE_EXEC_EARLY_REFRESH);
}

static enum er_code refresh_exec(struct kube_client *c, struct er_error *err)
{
    struct kube_exec_credential fresh = {0};
    bool had_cert = c->exec_cred.client_cert_pem != NULL;
    enum er_code rc;

    rc = kube_exec_run(c->target.exec, &c->target, c->deadline, &fresh, err);
    if (rc != ER_OK)
        return er_wrap(err, "credential plugin for %s", c->target.origin);
    kube_exec_credential_free(&c->exec_cred);
    c->exec_cred = fresh;
    c->have_exec_cred = true;
    ensure_http(c, had_cert || fresh.client_cert_pem != NULL);
    return ER_OK;
}

/* The bearer token for one request (newly allocated, secret) or NULL. */
static enum er_code bearer_token(struct kube_client *c, bool force_exec,
                                 char **token, struct er_error *err)
{
    const struct kube_target *t = &c->target;
    enum er_code rc;

    *token = NULL;
    if (t->token_file)
        return file_read_token(t->token_file, "Kubernetes token file",
                               KUBE_TOKEN_CAP, token, err);
    if (t->exec) {
        if ((force_exec || !exec_cred_fresh(c)) &&
            (rc = refresh_exec(c, err)) != ER_OK)
            return rc;
        if (c->exec_cred.token)
            *token = xstrdup(c->exec_cred.token);
        return ER_OK;
    }
    if (t->token)
        *token = xstrdup(t->token);
    return ER_OK;
}

static char *build_url(const char *server, const struct kube_call *call)
{
    size_t n = strlen(server);

    while (n > 0 && server[n - 1] == '/')
        n--;
    return xasprintf("%.*s%s%s%s", (int)n, server, call->path,
                     call->query ? "?" : "", call->query ? call->query : "");
}

static void keep_content_type(struct kube_response *resp,
                              const struct http_response *hr)
{
    const char *ct = http_response_header(hr, "content-type");
    const char *loc = http_response_header(hr, "location");
    char *shown = str_url_redacted(loc ? loc : "");

    str_copy_printable(resp->content_type, sizeof(resp->content_type),
                       ct ? ct : "", ct ? strlen(ct) : 0);
    str_copy_printable(resp->location, sizeof(resp->location), shown,
                       strlen(shown));
    free(shown);
}

const char *kube_response_message(const struct kube_response *r, char *buf,
                                  size_t cap)
{
    size_t n = strlen(r->st.message);

    if (r->status >= 300 && r->status < 400) {
        snprintf(buf, cap,
                 "the API server answered with a redirect%s%s, which "
                 "ecr-renew does not follow; check the kubeconfig's server",
                 r->location[0] ? " to " : "", r->location);
        return buf;
    }
    while (n > 0 && r->st.message[n - 1] == '.')
        n--;
    snprintf(buf, cap, "%.*s", (int)n, n ? r->st.message : "(no message)");
    return buf;
}

/* One attempt; *retry_after_ms is the server's Retry-After, or -1. */
static enum er_code send_once(struct kube_client *c,
                              const struct kube_call *call, const char *url,
                              const char *token, struct kube_response *resp,
                              long *retry_after_ms, struct er_error *err)
{
    struct http_header h[3];
    struct http_response hr = {0};
    char *auth = token ? xasprintf("Bearer %s", token) : NULL;
    size_t n = 0;
    enum er_code rc;

    h[n++] = (struct http_header){"Accept", "application/json"};
    if (call->body)
        h[n++] = (struct http_header){"Content-Type", call->content_type
                                                          ? call->content_type
                                                          : "application/json"};
    if (auth)
        h[n++] = (struct http_header){"Authorization", auth};
    struct http_request req = {
        .method = call->method,
        .url = url,
        .headers = h,
        .n_headers = n,
        .body = call->body,
        .body_len = call->body ? strlen(call->body) : 0,
        .timeout_ms = KUBE_REQUEST_TIMEOUT_MS,
        .deadline = c->deadline,
        .what = "Kubernetes API",
    };
    hr.body = resp->body;
    rc = http_do(c->http, &req, &hr, err);
    resp->body = hr.body;
    resp->status = rc == ER_OK ? hr.status : 0;
    *retry_after_ms = retry_after_header_ms(
        http_response_header(&hr, "retry-after"), clock_now(c->clock));
    keep_content_type(resp, &hr);
    hr.body = (struct buf)BUF_INIT; /* owned by resp */
    http_response_free(&hr);
    wipe_free_str(auth);
    return rc;
}

static bool retryable(long status)
{
    return status == 429 || status >= 500;
}

static enum er_code too_large(const struct kube_call *call,
                              struct er_error *err)
{
    return er_set(err, ER_KUBE,
                  "%s %s: the request body is %zu KiB, more than the %u KiB "
                  "the API server accepts",
                  call->method, call->path, strlen(call->body) / 1024,
                  KUBE_REQUEST_MAX / 1024);
}

enum er_code kube_send(struct kube_client *c, const struct kube_call *call,
                       struct kube_response *resp, struct er_error *err)
{
    char *url = build_url(c->target.server, call), *token = NULL;
    bool reauth = false, reauthed = false;
    enum er_code rc = ER_INTERNAL;
    long retry_after = -1;
    char why[ER_MSG_MAX] = "", what[160];

    snprintf(what, sizeof(what), "%s %s", call->method, call->path);
    resp->body.cap = call->answer_cap ? call->answer_cap : KUBE_OBJECT_CAP;
    if (call->body && strlen(call->body) > KUBE_REQUEST_MAX) {
        free(url);
        return too_large(call, err);
    }
    for (int tries = 0; tries < c->retry.max_attempts; tries++) {
        struct retry_step step = {tries, retry_after,
                                  "retrying Kubernetes request", what, why};
        if (tries > 0 && !reauth &&
            (rc = retry_wait(&c->retry, c->clock, c->deadline, &step, err)) !=
                ER_OK)
            break;
        if ((rc = bearer_token(c, reauth, &token, err)) != ER_OK)
            break;
        reauth = false;
        ensure_http(c, false);
        rc = send_once(c, call, url, token, resp, &retry_after, err);
        wipe_free_str(token);
        token = NULL;
        if (rc == ER_NETWORK) {
            snprintf(why, sizeof(why), "%s", err->msg);
            continue;
        }
        if (rc != ER_OK)
            break; /* an answer too large: asking again would not help */
        /* An exec credential may have been revoked early: fetch a new
         * one once, as client-go does. */
        if (resp->status == 401 && c->target.exec && !reauthed) {
            reauth = reauthed = true;
            continue;
        }
        if (!retryable(resp->status))
            break;
        snprintf(why, sizeof(why), "HTTP %ld", resp->status);
    }
    if (rc == ER_OK && (resp->status < 200 || resp->status >= 300))
        kube_status_parse(resp->status, resp->body.data, resp->body.len,
                          &resp->st);
    free(url);
    return rc;
}

enum er_code kube_request(struct kube_client *c, const char *method,
                          const char *path, const char *body,
                          struct kube_response *resp, struct er_error *err)
{
    struct kube_call call = {.method = method, .path = path, .body = body};

    return kube_send(c, &call, resp, err);
}

/* --- lists ------------------------------------------------------------- */

static char *string_at(json_t *obj, const char *a, const char *b)
{
    const char *s =
        json_string_value(json_object_get(json_object_get(obj, a), b));

    return s && *s ? xstrdup(s) : NULL;
}

enum er_code kube_list_page(const char *json, size_t len, kube_list_item_fn fn,
                            void *ctx, char **next_continue,
                            char **resource_version, struct er_error *err)
{
    json_t *root = NULL, *items, *item;
    enum er_code rc;
    size_t i;

    rc = json_limit_parse(json, len, JSON_LIMIT_BUDGET(KUBE_LIST_PAGE_CAP),
                          "the list answer", &root, err);
    if (rc != ER_OK)
        return rc;
    items = json_object_get(root, "items");
    if (!json_is_array(items) && !json_is_null(items) && items)
        rc = er_set(err, ER_PARSE, "the list answer's items are not a list");
    json_array_foreach(items, i, item)
    {
        if (rc == ER_OK)
            rc = fn(ctx, item, err);
    }
    if (rc == ER_OK) {
        *next_continue = string_at(root, "metadata", "continue");
        *resource_version = string_at(root, "metadata", "resourceVersion");
    }
    json_decref(root);
    return rc;
}

static enum er_code list_refused(const char *path,
                                 const struct kube_response *r,
                                 struct er_error *err)
{
    const char *hint = "";

    if (r->status == 403)
        hint = ". Fix: grant list on this resource to the identity ecr-renew "
               "runs as";
    char msg[800];

    return er_set(err,
                  r->status >= 500 || r->status < 400 ? ER_NETWORK : ER_KUBE,
                  "list %s: %ld %s: %s%s", path, r->status, r->st.reason,
                  kube_response_message(r, msg, sizeof(msg)), hint);
}

/* One page; cont is NULL for the first. *expired is set for a 410. */
static enum er_code list_one(struct kube_client *c, const char *path,
                             const char *query, const char *cont, bool paged,
                             kube_list_item_fn fn, void *ctx, char **next,
                             char **rv, bool *expired, struct er_error *err)
{
    struct kube_response r;
    struct buf q = BUF_INIT;
    struct kube_call call = {
        .method = "GET", .path = path, .answer_cap = KUBE_LIST_PAGE_CAP};
    enum er_code rc;

    if (query && *query)
        buf_must_addf(&q, "%s", query);
    if (paged)
        buf_must_addf(&q, "%slimit=%d", q.len ? "&" : "", KUBE_LIST_PAGE_SIZE);
    if (cont)
        buf_must_addf(&q, "&continue=%s", cont);
    call.query = q.len ? buf_str(&q) : NULL;
    kube_response_init(&r);
    rc = kube_send(c, &call, &r, err);
    if (rc == ER_OK && r.status == 200)
        rc = kube_list_page(r.body.data, r.body.len, fn, ctx, next, rv, err);
    else if (rc == ER_OK)
        rc = list_refused(path, &r, err);
    if (rc == ER_PARSE)
        er_wrap(err, "list %s", path);
    *expired = rc != ER_OK && r.status == 410;
    kube_response_free(&r);
    buf_free(&q);
    return rc;
}

enum er_code kube_list(struct kube_client *c, const char *path,
                       const char *query, kube_list_item_fn fn, void *ctx,
                       char **resource_version, struct er_error *err)
{
    char *cont = NULL, *next = NULL, *rv = NULL;
    bool expired = false;
    enum er_code rc = ER_OK;

    do {
        free(rv);
        rv = NULL;
        rc = list_one(c, path, query, cont, true, fn, ctx, &next, &rv, &expired,
                      err);
        /* An expired continue token: start over, everything at once. */
        if (cont && expired && (rc = fn(ctx, NULL, err)) == ER_OK) {
            free(next);
            next = NULL;
            rc = list_one(c, path, query, NULL, false, fn, ctx, &next, &rv,
                          &expired, err);
            free(next);
            next = NULL;
        }
        free(cont);
        cont = next;
        next = NULL;
    } while (rc == ER_OK && cont);
    free(cont);
    if (rc == ER_OK)
        *resource_version = rv ? rv : xstrdup("");
    else
        free(rv);
    return rc;
}

/* --- on the loop ------------------------------------------------------- */

static char *dup_or_null(const char *s)
{
    return s ? xstrdup(s) : NULL;
}

static void pending_free(struct kube_pending *p)
{
    free(p->method);
    free(p->path);
    free(p->query);
    wipe_free_str(p->body);
    free(p->content_type);
    free(p->url);
    kube_response_free(&p->resp);
    free(p);
}

static void unlink_pending(struct kube_client *c, struct kube_pending *p)
{
    for (struct kube_pending **q = &c->pending; *q; q = &(*q)->next) {
        if (*q == p) {
            *q = p->next;
            c->n_pending--;
            return;
        }
    }
}

static void end(struct kube_pending *p, enum er_code rc,
                const struct er_error *err)
{
    struct kube_client *c = p->c;

    unlink_pending(c, p);
    if (rc == ER_OK && (p->resp.status < 200 || p->resp.status >= 300))
        kube_status_parse(p->resp.status, p->resp.body.data, p->resp.body.len,
                          &p->resp.st);
    p->done(p->ctx, rc, &p->resp, err);
    pending_free(p);
}

static void send_async(struct kube_pending *p);

static void retry_now(void *ctx)
{
    struct kube_pending *p = ctx;

    p->retry_timer = NULL;
    send_async(p);
}

/* Waits on a loop timer before the next try, or ends the request when
 * the tries are spent (the last answer or failure is reported). */
static void retry_later(struct kube_pending *p, long retry_after_ms,
                        enum er_code rc, const struct er_error *err)
{
    struct kube_client *c = p->c;
    long ms;

    if (p->on_data || p->tries >= p->max_tries) {
        end(p, rc, err);
        return;
    }
    ms = retry_delay_ms(&c->retry, p->tries, c->clock->random01(c->clock->ctx),
                        retry_after_ms);
    log_event(LOG_WARN, "retrying Kubernetes request", "what", p->path,
              "reason", p->why, LOG_END);
    p->retry_timer = loop_after(p->loop, ms, retry_now, p);
}

static void on_http_done(void *ctx, enum er_code rc, struct http_response *hr,
                         const struct er_error *err)
{
    struct kube_pending *p = ctx;
    long retry_after;

    p->transfer = NULL;
    buf_reset(&p->resp.body);
    if (rc == ER_NETWORK) {
        snprintf(p->why, sizeof(p->why), "%s", err->msg);
        retry_later(p, -1, rc, err);
        return;
    }
    if (rc != ER_OK) {
        end(p, rc, err);
        return;
    }
    p->resp.status = hr->status;
    keep_content_type(&p->resp, hr);
    if (buf_add(&p->resp.body, hr->body.data, hr->body.len) != BUF_OK)
        abort(); /* the same cap on both sides */
    retry_after = retry_after_header_ms(http_response_header(hr, "retry-after"),
                                        clock_now(p->c->clock));
    if (hr->status == 401 && p->c->target.exec && !p->reauthed) {
        p->reauthed = true;
        kube_exec_credential_free(&p->c->exec_cred);
        p->c->have_exec_cred = false;
        send_async(p);
    } else if (retryable(hr->status)) {
        snprintf(p->why, sizeof(p->why), "HTTP %ld", hr->status);
        retry_later(p, retry_after, ER_OK, NULL);
    } else {
        end(p, ER_OK, NULL);
    }
}

/* A watch's bytes go to its owner, not to the pending request. */
static bool on_http_data(void *ctx, const char *data, size_t n, char *why)
{
    struct kube_pending *p = ctx;

    return p->on_data(p->ctx, data, n, why);
}

static struct http_multi *multi_of(struct kube_client *c, struct loop *loop)
{
    if (!c->multi) {
        ensure_http(c, false); /* fills c->net */
        c->multi = http_multi_new(loop, &c->net);
    }
    return c->multi;
}

static void end_early(void *ctx)
{
    struct kube_pending *p = ctx;

    p->retry_timer = NULL;
    end(p, p->early.code, &p->early);
}

static void send_async(struct kube_pending *p)
{
    struct kube_client *c = p->c;
    char *token = NULL, *auth = NULL;
    struct http_header h[3];
    size_t n = 0;

    p->tries++;
    if (bearer_token(c, false, &token, &p->early) != ER_OK) {
        /* Reported from the loop, never from inside kube_start. */
        p->retry_timer = loop_after(p->loop, 0, end_early, p);
        return;
    }
    auth = token ? xasprintf("Bearer %s", token) : NULL;
    h[n++] = (struct http_header){"Accept", "application/json"};
    if (p->body)
        h[n++] = (struct http_header){"Content-Type", p->content_type
                                                          ? p->content_type
                                                          : "application/json"};
    if (auth)
        h[n++] = (struct http_header){"Authorization", auth};
    struct http_request req = {
        .method = p->method,
        .url = p->url,
        .headers = h,
        .n_headers = n,
        .body = p->body,
        .body_len = p->body ? strlen(p->body) : 0,
        .timeout_ms = p->timeout_ms,
        .what = "Kubernetes API",
    };
    struct http_transfer_callbacks cb = {.on_data =
                                             p->on_data ? on_http_data : NULL,
                                         .on_done = on_http_done,
                                         .ctx = p};
    p->transfer =
        http_multi_start(multi_of(c, p->loop), &req, p->resp.body.cap, &cb);
    wipe_free_str(auth);
    wipe_free_str(token);
}

static struct kube_pending *pending_new(struct kube_client *c,
                                        struct loop *loop,
                                        const struct kube_call *call,
                                        kube_done_fn *done, void *ctx)
{
    struct kube_pending *p = xcalloc(1, sizeof(*p));

    p->c = c;
    p->loop = loop;
    p->method = xstrdup(call->method);
    p->path = xstrdup(call->path);
    p->query = dup_or_null(call->query);
    p->body = dup_or_null(call->body);
    p->content_type = dup_or_null(call->content_type);
    p->call = (struct kube_call){.method = p->method,
                                 .path = p->path,
                                 .query = p->query,
                                 .body = p->body,
                                 .content_type = p->content_type};
    p->url = build_url(c->target.server, &p->call);
    p->timeout_ms =
        call->timeout_ms > 0 ? call->timeout_ms : KUBE_REQUEST_TIMEOUT_MS;
    p->max_tries =
        call->max_tries > 0 ? call->max_tries : c->retry.max_attempts;
    p->done = done;
    p->ctx = ctx;
    kube_response_init(&p->resp);
    p->resp.body.cap = call->answer_cap ? call->answer_cap : KUBE_OBJECT_CAP;
    p->next = c->pending;
    c->pending = p;
    c->n_pending++;
    return p;
}

struct kube_pending *kube_start(struct kube_client *c, struct loop *loop,
                                const struct kube_call *call,
                                kube_done_fn *done, void *ctx)
{
    struct kube_pending *p = pending_new(c, loop, call, done, ctx);

    send_async(p);
    return p;
}

struct kube_pending *kube_start_watch(
    struct kube_client *c, struct loop *loop, const char *path,
    const char *query, long timeout_ms,
    bool (*on_data)(void *ctx, const char *data, size_t n, char *why),
    kube_done_fn *done, void *ctx)
{
    struct kube_call call = {.method = "GET", .path = path, .query = query};
    struct kube_pending *p = pending_new(c, loop, &call, done, ctx);

    p->timeout_ms = timeout_ms;
    p->on_data = on_data;
    send_async(p);
    return p;
}

void kube_cancel(struct kube_client *c, struct kube_pending *p)
{
    if (!p)
        return;
    unlink_pending(c, p);
    if (p->transfer)
        http_transfer_cancel(c->multi, p->transfer);
    loop_cancel(p->loop, p->retry_timer);
    pending_free(p);
}

size_t kube_pending_count(const struct kube_client *c)
{
    return c->n_pending;
}
