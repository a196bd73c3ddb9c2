#include "aws_call.h"
#include "../core/log.h"
#include "../core/strutil.h"
#include "../core/xalloc.h"
#include "aws_error.h"
#include "sigv4.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define AWS_MAX_HEADERS 10

/* The request as it will go out: our headers plus the signer's. */
struct outgoing {
    struct http_url url;
    char *host_header;
    struct http_header headers[AWS_MAX_HEADERS];
    size_t n_headers;
    struct sigv4_signed sig;
    bool signed_;
};

static void push(struct outgoing *o, const char *name, const char *value)
{
    o->headers[o->n_headers].name = name;
    o->headers[o->n_headers].value = value;
    o->n_headers++;
}

/* Host must be the one sent: with the port when the URL names one. */
static enum er_code prepare(const struct aws_request *req, time_t now,
                            struct outgoing *o, struct er_error *err)
{
    struct sigv4_header sh[AWS_MAX_HEADERS];
    enum er_code rc;

    memset(o, 0, sizeof(*o));
    if ((rc = http_url_parse(req->endpoint, &o->url, err)) != ER_OK)
        return er_wrap(err, "%s endpoint", req->service_label);
    o->host_header = o->url.port ? xasprintf("%s:%s", o->url.host, o->url.port)
                                 : xstrdup(o->url.host);
    push(o, "Host", o->host_header);
    push(o, "Content-Type", req->content_type);
    if (req->target)
        push(o, "X-Amz-Target", req->target);
    if (!req->creds)
        return ER_OK;
    for (size_t i = 0; i < o->n_headers; i++) {
        sh[i].name = o->headers[i].name;
        sh[i].value = o->headers[i].value;
    }
    struct sigv4_request sreq = {
        .method = "POST",
        .path = o->url.path,
        .query = o->url.query,
        .headers = sh,
        .n_headers = o->n_headers,
        .body = req->body,
        .body_len = req->body_len,
    };
    struct sigv4_credentials screds = {
        .access_key_id = req->creds->access_key_id,
        .secret_access_key = req->creds->secret_access_key,
        .session_token = req->creds->session_token,
    };
    struct sigv4_options opt = {
        .region = req->region,
        .service = req->signing_name,
        .when = now,
        .normalize_path = true,
    };
    if ((rc = sigv4_sign(&sreq, &screds, &opt, &o->sig, err)) != ER_OK)
        return rc;
    o->signed_ = true;
    for (size_t i = 0; i < o->sig.n_added; i++)
        push(o, o->sig.added[i].name, o->sig.added[i].value);
    return ER_OK;
}

static void release(struct outgoing *o)
{
    if (o->signed_)
        sigv4_signed_free(&o->sig);
    http_url_free(&o->url);
    free(o->host_header);
}

static enum er_code refusal(const struct aws_request *req, long status,
                            const struct aws_error *e, struct er_error *err)
{
    char action[128];
    const char *hint;
    size_t n = strlen(e->message);

    snprintf(action, sizeof(action), "%s:%s", req->signing_name,
             req->operation);
    hint = aws_error_hint(action, e);

    /* AWS messages often end with a full stop; ours adds its own. */
    while (n > 0 && e->message[n - 1] == '.')
        n--;
    return er_set(err, ER_AWS, "%s %s in %s: %s (HTTP %ld)%s%.*s%s%s",
                  req->service_label, req->operation, req->region, e->code,
                  status, n ? ": " : "", (int)n, e->message,
                  hint ? ". Fix: " : "", hint ? hint : "");
}

/* Judges a non-2xx answer: an ER_AWS refusal, or ER_NETWORK when
 * trying again may help (throttling, 5xx). */
static enum er_code judge(const struct aws_request *req,
                          const struct http_response *resp, bool *retry,
                          long *retry_after_ms, struct er_error *err)
{
    const char *location = http_response_header(resp, "location");
    struct aws_error e;
    enum er_code rc;

    if (resp->status >= 300 && resp->status < 400) {
        char *where = str_url_redacted(location ? location : "");
        *retry = false;
        rc = er_set(err, ER_NETWORK,
                    "%s %s in %s: the endpoint answered with a redirect (HTTP "
                    "%ld%s%.200s), which ecr-renew does not follow. Fix: point "
                    "the endpoint (AWS_ENDPOINT_URL...) at the service itself",
                    req->service_label, req->operation, req->region,
                    resp->status, location ? " to " : "", where);
        free(where);
        return rc;
    }
    aws_error_parse(resp->status,
                    http_response_header(resp, "x-amzn-errortype"),
                    resp->body.data, resp->body.len, &e);
    *retry = aws_error_is_retryable(resp->status, &e);
    *retry_after_ms = retry_after_header_ms(
        http_response_header(resp, "retry-after"), clock_now(clock_system()));
    rc = refusal(req, resp->status, &e, err);
    er_set_peer(err, req->operation, e.code);
    if (*retry)
        rc = err->code = ER_NETWORK;
    return rc;
}

/* One attempt. *retry is set when another attempt may succeed. */
static enum er_code attempt(struct aws_client *c, const struct aws_request *req,
                            struct http_response *resp, bool *retry,
                            long *retry_after_ms, struct er_error *err)
{
    struct http_request hreq = {0};
    struct outgoing o;
    char what[96];
    enum er_code rc;

    *retry = false;
    *retry_after_ms = -1;
    rc = prepare(req, clock_now(c->clock), &o, err);
    if (rc != ER_OK)
        goto out;
    snprintf(what, sizeof(what), "%s %s", req->service_label, req->operation);
    hreq.method = "POST";
    hreq.url = req->endpoint;
    hreq.headers = o.headers;
    hreq.n_headers = o.n_headers;
    hreq.body = req->body;
    hreq.body_len = req->body_len;
    hreq.deadline = c->deadline;
    hreq.what = what;
    rc = http_do(c->http, &hreq, resp, err);
    if (rc == ER_NETWORK)
        *retry = true;
    else if (rc == ER_OK && (resp->status < 200 || resp->status >= 300))
        rc = judge(req, resp, retry, retry_after_ms, err);
out:
    release(&o);
    return rc;
}

/* The deadline ended the retries: say so, and what the last try met, so
 * the operator (and the metrics) see the AWS error, not only the wait. */
static void cut_short(struct er_error *err, const struct er_error *last)
{
    struct er_error why = *err;

    er_set(err, why.code, "%s; the last try: %s", why.msg, last->msg);
    er_set_peer(err, last->op, last->peer_code);
}

enum er_code aws_send(struct aws_client *c, const struct aws_request *req,
                      struct buf *answer, struct er_error *err)
{
    struct http_response resp = {0};
    enum er_code rc = ER_INTERNAL;
    bool retry = false;
    long retry_after = -1;
    char what[128];
    int tries = 0;

    snprintf(what, sizeof(what), "%s %s in %s", req->service_label,
             req->operation, req->region);
    buf_init(&resp.body, answer->cap, BUF_SECRET);
    while (tries < c->retry.max_attempts) {
        struct retry_step step = {tries, retry_after, "retrying AWS call", what,
                                  err->msg};
        struct er_error last = *err;
        if (tries > 0 && (rc = retry_wait(&c->retry, c->clock, c->deadline,
                                          &step, err)) != ER_OK) {
            cut_short(err, &last);
            retry = false;
            break;
        }
        tries++;
        rc = attempt(c, req, &resp, &retry, &retry_after, err);
        if (rc == ER_OK || !retry)
            break;
    }
    if (rc == ER_OK && buf_add(answer, resp.body.data, resp.body.len) != BUF_OK)
        rc = er_set(err, ER_PARSE, "%s %s: answer too large",
                    req->service_label, req->operation);
    else if (rc != ER_OK && retry && tries > 1)
        er_wrap(err, "after %d attempts", tries);
    if (rc != ER_OK && !err->op[0])
        er_set_peer(err, req->operation, er_code_name(rc));
    http_response_free(&resp);
    return rc;
}
