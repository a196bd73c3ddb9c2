/*
 * Many transfers at once on the loop, through libcurl's multi socket
 * interface: libcurl says which sockets to watch (CURLMOPT_SOCKETFUNCTION)
 * and when to call it back (CURLMOPT_TIMERFUNCTION); the loop watches and
 * times, and hands readiness back with curl_multi_socket_action. Finished
 * transfers are collected with curl_multi_info_read and reported from a
 * zero-delay timer, so a caller never sees its on_done run inside the
 * call that started the transfer, nor inside a libcurl callback.
 *
 * A stream's bytes are kept and handed to on_data from a zero-delay timer
 * too: libcurl refuses to add or remove transfers from inside its own
 * callbacks, and a watch's consumer starts writes as events arrive.
 */
#include "http_internal.h"
#include "../core/loop.h"
#include "../core/wipe.h"
#include "../core/xalloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct http_transfer {
    struct http_multi *m;
    struct http_transfer *next;
    CURL *curl;
    struct http_request req; /* strings below are our copies */
    struct http_header *headers;
    struct curl_slist *header_list, *connect_to;
    char *url, *effective_url, *body, *what;
    struct http_response resp;
    struct http_transfer_state state;
    struct http_transfer_callbacks cb;
    char errbuf[CURL_ERROR_SIZE];
    enum er_code rc; /* once done */
    struct er_error err;
    bool done;
    /* A stream: bytes received and not yet given to the consumer. */
    struct buf stream;
    struct loop_timer *deliver;
    char stop_why[ER_MSG_MAX]; /* the consumer stopped it */
};

/* Stream bytes waiting for the consumer: a few socket reads' worth
 * normally; a stream that outruns its consumer by this much is cut. */
#define STREAM_BACKLOG_CAP (8u << 20)

struct http_multi {
    CURLM *multi;
    struct loop *loop;
    struct http_settings settings;
    struct loop_timer *timer;     /* libcurl's timeout */
    struct loop_timer *report;    /* pending on_done calls */
    struct http_transfer *active; /* a list: there are tens at most */
    size_t n_active;
    long connections;
};

/* --- copying and freeing requests ---------------------------------------- */

static void copy_request(struct http_transfer *t, const struct http_request *r)
{
    t->req = *r;
    t->url = xstrdup(r->url);
    t->req.url = t->url;
    t->what = xstrdup(r->what ? r->what : r->method);
    t->req.what = t->what;
    t->req.deadline = NULL; /* the loop's callers time with timeout_ms */
    if (r->body) {
        t->body = xmalloc(r->body_len + 1);
        memcpy(t->body, r->body, r->body_len);
        t->body[r->body_len] = '\0';
        t->req.body = t->body;
    }
    t->headers = xcalloc(r->n_headers ? r->n_headers : 1, sizeof(*t->headers));
    for (size_t i = 0; i < r->n_headers; i++) {
        t->headers[i].name = xstrdup(r->headers[i].name);
        t->headers[i].value = xstrdup(r->headers[i].value);
    }
    t->req.headers = t->headers;
}

static void transfer_free(struct http_transfer *t)
{
    for (size_t i = 0; i < t->req.n_headers; i++) {
        free((char *)t->headers[i].name);
        wipe_free_str((char *)t->headers[i].value); /* a token, perhaps */
    }
    free(t->headers);
    if (t->body)
        wipe_bytes(t->body, t->req.body_len);
    free(t->body);
    free(t->url);
    free(t->what);
    curl_free(t->effective_url);
    curl_slist_free_all(t->connect_to);
    http__free_headers(t->header_list);
    http_response_free(&t->resp);
    buf_free(&t->stream);
    loop_cancel(t->m->loop, t->deliver);
    if (t->curl)
        curl_easy_cleanup(t->curl);
    free(t);
}

static void unlink_transfer(struct http_multi *m, struct http_transfer *t)
{
    for (struct http_transfer **p = &m->active; *p; p = &(*p)->next) {
        if (*p == t) {
            *p = t->next;
            m->n_active--;
            return;
        }
    }
}

/* --- libcurl's sockets and timer on the loop --------------------------- */

static void drain(struct http_multi *m);

static void on_socket(void *ctx, int fd, int events)
{
    struct http_multi *m = ctx;
    int running, mask = ((events & LOOP_READ) ? CURL_CSELECT_IN : 0) |
                        ((events & LOOP_WRITE) ? CURL_CSELECT_OUT : 0);

    curl_multi_socket_action(m->multi, fd, mask, &running);
    drain(m);
}

static int socket_cb(CURL *easy, curl_socket_t fd, int what, void *userp,
                     void *socketp)
{
    struct http_multi *m = userp;
    int events = 0;

    (void)easy;
    (void)socketp;
    if (what == CURL_POLL_IN || what == CURL_POLL_INOUT)
        events |= LOOP_READ;
    if (what == CURL_POLL_OUT || what == CURL_POLL_INOUT)
        events |= LOOP_WRITE;
    loop_watch(m->loop, fd, what == CURL_POLL_REMOVE ? 0 : events, on_socket,
               m);
    return 0;
}

static void on_timeout(void *ctx)
{
    struct http_multi *m = ctx;
    int running;

    m->timer = NULL;
    curl_multi_socket_action(m->multi, CURL_SOCKET_TIMEOUT, 0, &running);
    drain(m);
}

static int timer_cb(CURLM *multi, long timeout_ms, void *userp)
{
    struct http_multi *m = userp;

    (void)multi;
    loop_cancel(m->loop, m->timer);
    m->timer = NULL;
    if (timeout_ms >= 0)
        m->timer = loop_after(m->loop, timeout_ms, on_timeout, m);
    return 0;
}

/* --- streams ---------------------------------------------------------------
 */

static void schedule_report(struct http_multi *m);

/* Gives the consumer what came; false when it stopped the stream (its
 * reason in t->stop_why). */
static bool give_stream(struct http_transfer *t)
{
    bool go_on = true;

    if (t->stream.len > 0 && !t->stop_why[0]) {
        go_on = t->cb.on_data(t->cb.ctx, t->stream.data, t->stream.len,
                              t->stop_why);
        if (!go_on && !t->stop_why[0])
            snprintf(t->stop_why, sizeof(t->stop_why), "stopped by its reader");
    }
    buf_reset(&t->stream);
    return go_on && !t->stop_why[0];
}

static void stopped(struct http_transfer *t)
{
    t->rc = er_set(&t->err, ER_NETWORK, "%s: %s", t->what, t->stop_why);
}

/* The last bytes of a finished stream go before its on_done. */
static void flush_stream(struct http_transfer *t)
{
    loop_cancel(t->m->loop, t->deliver);
    t->deliver = NULL;
    if (t->cb.on_data && !give_stream(t) && t->rc == ER_OK)
        stopped(t);
}

static void deliver(void *ctx)
{
    struct http_transfer *t = ctx;
    struct http_multi *m = t->m;

    t->deliver = NULL;
    if (t->done || give_stream(t))
        return;
    /* Stopped by its reader: ended now, reported like any other end. */
    curl_multi_remove_handle(m->multi, t->curl);
    t->done = true;
    stopped(t);
    schedule_report(m);
}

/* libcurl's write callback, through http.c: keep, and deliver soon. */
static bool keep_stream(void *ctx, const char *data, size_t n, char *why)
{
    struct http_transfer *t = ctx;

    if (t->stop_why[0])
        return false;
    if (buf_add(&t->stream, data, n) != BUF_OK) {
        snprintf(why, ER_MSG_MAX,
                 "the stream ran more than %u MiB ahead of its reader",
                 STREAM_BACKLOG_CAP >> 20);
        return false;
    }
    if (!t->deliver)
        t->deliver = loop_after(t->m->loop, 0, deliver, t);
    return true;
}

/* --- ending transfers ---------------------------------------------------- */

/* Calls on_done for every finished transfer, each once; a callback may
 * start or cancel transfers, so the list is walked again after each. */
static void report(void *ctx)
{
    struct http_multi *m = ctx;
    struct http_transfer *t;

    m->report = NULL;
    for (;;) {
        for (t = m->active; t && !t->done; t = t->next)
            ;
        if (!t)
            return;
        unlink_transfer(m, t);
        flush_stream(t);
        t->cb.on_done(t->cb.ctx, t->rc, &t->resp, &t->err);
        transfer_free(t);
    }
}

static void schedule_report(struct http_multi *m)
{
    if (!m->report)
        m->report = loop_after(m->loop, 0, report, m);
}

static void finish(struct http_multi *m, struct http_transfer *t, CURLcode cc)
{
    long conns = 0;

    curl_easy_getinfo(t->curl, CURLINFO_NUM_CONNECTS, &conns);
    m->connections += conns;
    if (cc == CURLE_OK) {
        curl_easy_getinfo(t->curl, CURLINFO_RESPONSE_CODE, &t->resp.status);
        t->rc = ER_OK;
    } else {
        t->rc = http__transfer_failed(&t->req, t->what, &t->state, cc,
                                      t->errbuf, &t->err);
    }
    curl_multi_remove_handle(m->multi, t->curl);
    t->done = true;
    schedule_report(m);
}

static void drain(struct http_multi *m)
{
    CURLMsg *msg;
    int left;

    while ((msg = curl_multi_info_read(m->multi, &left))) {
        struct http_transfer *t = NULL;
        if (msg->msg != CURLMSG_DONE)
            continue;
        curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&t);
        if (t)
            finish(m, t, msg->data.result);
    }
}

/* --- the public face ----------------------------------------------------- */

struct http_multi *http_multi_new(struct loop *loop,
                                  const struct http_settings *settings)
{
    struct http_multi *m = xcalloc(1, sizeof(*m));

    m->multi = curl_multi_init();
    if (!m->multi)
        abort(); /* only on allocation failure */
    m->loop = loop;
    if (settings)
        m->settings = *settings;
    curl_multi_setopt(m->multi, CURLMOPT_SOCKETFUNCTION, socket_cb);
    curl_multi_setopt(m->multi, CURLMOPT_SOCKETDATA, m);
    curl_multi_setopt(m->multi, CURLMOPT_TIMERFUNCTION, timer_cb);
    curl_multi_setopt(m->multi, CURLMOPT_TIMERDATA, m);
    return m;
}

void http_multi_free(struct http_multi *m)
{
    if (!m)
        return;
    while (m->active) {
        struct http_transfer *t = m->active;
        m->active = t->next;
        if (!t->done)
            curl_multi_remove_handle(m->multi, t->curl);
        transfer_free(t);
    }
    loop_cancel(m->loop, m->timer);
    loop_cancel(m->loop, m->report);
    curl_multi_cleanup(m->multi);
    free(m);
}

/* A transfer that fails before it starts still ends through on_done. */
static struct http_transfer *fail_early(struct http_multi *m,
                                        struct http_transfer *t)
{
    t->done = true;
    t->next = m->active;
    m->active = t;
    m->n_active++;
    schedule_report(m);
    return t;
}

static enum er_code prepare(struct http_multi *m, struct http_transfer *t)
{
    enum er_code rc;

    if ((rc = http__check_headers(&t->req, t->what, &t->err)) != ER_OK)
        return rc;
    t->curl = curl_easy_init();
    if (!t->curl)
        abort(); /* only on allocation failure */
    t->header_list = http__build_headers(&t->req);
    http__setup_easy(t->curl, &m->settings, &t->req, &t->state, t->errbuf);
    curl_easy_setopt(t->curl, CURLOPT_HTTPHEADER, t->header_list);
    curl_easy_setopt(t->curl, CURLOPT_PRIVATE, (char *)t);
    if (m->settings.server_name &&
        (rc = http__apply_server_name(t->curl, t->url, m->settings.server_name,
                                      &t->connect_to, &t->effective_url,
                                      &t->err)) != ER_OK)
        return rc;
    if (t->effective_url)
        curl_easy_setopt(t->curl, CURLOPT_URL, t->effective_url);
    return ER_OK;
}

struct http_transfer *http_multi_start(struct http_multi *m,
                                       const struct http_request *req,
                                       size_t body_cap,
                                       const struct http_transfer_callbacks *cb)
{
    struct http_transfer *t = xcalloc(1, sizeof(*t));

    t->m = m;
    t->cb = *cb;
    copy_request(t, req);
    buf_init(&t->resp.body, body_cap, BUF_SECRET);
    t->state.resp = &t->resp;
    buf_init(&t->stream, STREAM_BACKLOG_CAP, BUF_SECRET);
    t->state.on_data = cb->on_data ? keep_stream : NULL;
    t->state.ctx = t;
    if ((t->rc = prepare(m, t)) != ER_OK)
        return fail_early(m, t);
    t->next = m->active;
    m->active = t;
    m->n_active++;
    curl_multi_add_handle(m->multi, t->curl);
    return t;
}

void http_transfer_cancel(struct http_multi *m, struct http_transfer *t)
{
    if (!t)
        return;
    unlink_transfer(m, t);
    if (!t->done)
        curl_multi_remove_handle(m->multi, t->curl);
    transfer_free(t);
}

size_t http_multi_active(const struct http_multi *m)
{
    return m->n_active;
}

long http_multi_connections(const struct http_multi *m)
{
    return m->connections;
}
