#include "client.h"
#include "../core/fileio.h"
#include "../core/log.h"
#include "../core/wipe.h"
#include "../core/strutil.h"
#include "../core/xalloc.h"
#include "../net/http.h"
#include "exec_plugin.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define KUBE_RESPONSE_CAP (16u * 1024 * 1024)
#define KUBE_TOKEN_CAP (64u * 1024)
#define KUBE_EXEC_EARLY_REFRESH 10 /* seconds before expiry */

struct kube_client {
    struct kube_target target;
    const struct clock *clock;
    struct retry_policy retry;
    struct http_settings net;
    struct http_client *http; /* made at the first request */
    struct kube_exec_credential exec_cred;
    bool have_exec_cred;
    long connections_before; /* of http clients replaced earlier */
    long retry_after_ms;     /* from the last 429/5xx answer, or -1 */
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

void kube_client_free(struct kube_client *c)
{
    if (!c)
        return;
    http_client_free(c->http);
    kube_exec_credential_free(&c->exec_cred);
    kube_target_free(&c->target);
    free(c);
}

long kube_client_connections(const struct kube_client *c)
{
    return c->connections_before +
           (c->http ? http_client_connections(c->http) : 0);
}

void kube_response_init(struct kube_response *r)
{
    memset(r, 0, sizeof(*r));
    buf_init(&r->body, KUBE_RESPONSE_CAP, BUF_SECRET);
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
    memset(&c->net, 0, sizeof(c->net));
    c->net.ca_file = t->ca_file;
    c->net.ca_pem = t->ca_pem;
    c->net.client_cert_file = t->client_cert_file;
    c->net.client_cert_pem = c->exec_cred.client_cert_pem
                                 ? c->exec_cred.client_cert_pem
                                 : t->client_cert_pem;
    c->net.client_key_file = t->client_key_file;
    c->net.client_key_pem = c->exec_cred.client_key_pem
                                ? c->exec_cred.client_key_pem
                                : t->client_key_pem;
    c->net.server_name = t->tls_server_name;
    c->net.insecure = t->insecure;
    c->net.proxy = t->proxy_url;
    c->http = http_client_new(&c->net);
}

static enum er_code read_token_file(const char *path, char **token,
                                    struct er_error *err)
{
    struct buf b;
    const char *t;
    size_t n;
    enum er_code rc;

    buf_init(&b, KUBE_TOKEN_CAP, BUF_SECRET);
    rc = file_read(path, &b, NULL, err);
    if (rc == ER_OK) {
        t = str_trim(buf_str(&b), &n);
        *token = n ? xstrndup(t, n) : NULL;
    } else {
        er_wrap(err, "Kubernetes token file");
    }
    buf_free(&b);
    return rc;
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

    rc = kube_exec_run(c->target.exec, &c->target, &fresh, err);
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
        return read_token_file(t->token_file, token, err);
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

static char *join_url(const char *server, const char *path)
{
    size_t n = strlen(server);

    while (n > 0 && server[n - 1] == '/')
        n--;
    return xasprintf("%.*s%s", (int)n, server, path);
}

static enum er_code send_once(struct kube_client *c, const char *method,
                              const char *url, const char *body,
                              const char *token, struct kube_response *resp,
                              struct er_error *err)
{
    struct http_header h[3];
    struct http_response hr = {0};
    char *auth = token ? xasprintf("Bearer %s", token) : NULL;
    size_t n = 0;
    enum er_code rc;

    h[n++] = (struct http_header){"Accept", "application/json"};
    if (body)
        h[n++] = (struct http_header){"Content-Type", "application/json"};
    if (auth)
        h[n++] = (struct http_header){"Authorization", auth};
    struct http_request req = {
        .method = method,
        .url = url,
        .headers = h,
        .n_headers = n,
        .body = body,
        .body_len = body ? strlen(body) : 0,
        .what = "Kubernetes API",
    };
    hr.body = resp->body;
    rc = http_do(c->http, &req, &hr, err);
    resp->body = hr.body;
    resp->status = rc == ER_OK ? hr.status : 0;
    if (rc == ER_OK && (hr.status == 429 || hr.status >= 500))
        c->retry_after_ms =
            retry_after_header_ms(http_response_header(&hr, "retry-after"));
    hr.body = (struct buf)BUF_INIT; /* owned by resp */
    http_response_free(&hr);
    wipe_free_str(auth);
    return rc;
}

static bool retryable(long status)
{
    return status == 429 || status >= 500;
}

static void wait_before_retry(struct kube_client *c, int tries,
                              const char *method, const char *path,
                              const char *why)
{
    long ms = retry_delay_ms(
        &c->retry, tries, c->clock->random01(c->clock->ctx), c->retry_after_ms);

    log_event(LOG_WARN, "retrying Kubernetes request", "method", method, "path",
              path, "reason", why, LOG_END);
    c->clock->sleep_ms(c->clock->ctx, ms);
}

enum er_code kube_request(struct kube_client *c, const char *method,
                          const char *path, const char *body,
                          struct kube_response *resp, struct er_error *err)
{
    char *url = join_url(c->target.server, path), *token = NULL;
    bool reauth = false, reauthed = false;
    enum er_code rc = ER_INTERNAL;
    char why[96];

    for (int tries = 0; tries < c->retry.max_attempts; tries++) {
        if (tries > 0 && !reauth)
            wait_before_retry(c, tries, method, path, why);
        c->retry_after_ms = -1;
        if ((rc = bearer_token(c, reauth, &token, err)) != ER_OK)
            break;
        reauth = false;
        ensure_http(c, false);
        rc = send_once(c, method, url, body, token, resp, err);
        wipe_free_str(token);
        token = NULL;
        if (rc != ER_OK) {
            snprintf(why, sizeof(why), "connection failed");
            continue;
        }
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
    if (rc == ER_NETWORK)
        er_wrap(err, "%s %s", method, path);
    if (rc == ER_OK && (resp->status < 200 || resp->status >= 300))
        kube_status_parse(resp->status, resp->body.data, resp->body.len,
                          &resp->st);
    free(url);
    return rc;
}
