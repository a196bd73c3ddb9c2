#include "imds.h"
#include "../core/wipe.h"
#include "../core/strutil.h"
#include "../core/timeutil.h"
#include "../core/xalloc.h"
#include "../net/http.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#define IMDS_TIMEOUT_MS 1000
#define IMDS_TOKEN_TTL "21600"

void imds_init(struct imds *m, struct aws_client *c,
               const struct aws_settings *s)
{
    m->client = c;
    m->settings = s;
    m->token = NULL;
}

void imds_free(struct imds *m)
{
    wipe_free_str(m->token);
    m->token = NULL;
}

static char *imds_url(const struct imds *m, const char *path)
{
    const char *base = m->settings->imds_endpoint ? m->settings->imds_endpoint
                                                  : IMDS_DEFAULT_ENDPOINT;
    size_t n = strlen(base);

    while (n > 0 && base[n - 1] == '/')
        n--;
    return xasprintf("%.*s%s", (int)n, base, path);
}

static enum er_code fetch_token(struct imds *m, struct er_error *err)
{
    struct http_header h[] = {
        {"X-aws-ec2-metadata-token-ttl-seconds", IMDS_TOKEN_TTL}};
    struct http_response resp = {0};
    char *url = imds_url(m, "/latest/api/token");
    struct http_request req = {
        .method = "PUT",
        .url = url,
        .headers = h,
        .n_headers = 1,
        .body = "",
        .timeout_ms = IMDS_TIMEOUT_MS,
        .what = "IMDSv2 token",
    };
    enum er_code rc;

    buf_init(&resp.body, 4096, BUF_SECRET);
    rc = http_do(m->client->http, &req, &resp, err);
    if (rc == ER_OK && resp.status != 200)
        rc = er_set(err, ER_AWS,
                    "IMDSv2 token request to %s: HTTP %ld (is the hop limit "
                    "too low for containers? set the instance's "
                    "HttpPutResponseHopLimit to 2)",
                    url, resp.status);
    if (rc == ER_OK) {
        size_t n;
        const char *t = str_trim(buf_str(&resp.body), &n);
        m->token = xstrndup(t, n);
    }
    http_response_free(&resp);
    free(url);
    return rc;
}

enum er_code imds_get(struct imds *m, const char *path, struct buf *out,
                      long *status, struct er_error *err)
{
    struct http_response resp = {0};
    char *url = NULL;
    enum er_code rc = ER_OK;

    if (!m->token && (rc = fetch_token(m, err)) != ER_OK)
        return rc;
    url = imds_url(m, path);
    struct http_header h[] = {{"X-aws-ec2-metadata-token", m->token}};
    struct http_request req = {
        .method = "GET",
        .url = url,
        .headers = h,
        .n_headers = 1,
        .timeout_ms = IMDS_TIMEOUT_MS,
        .what = "instance metadata",
    };
    buf_init(&resp.body, out->cap, BUF_SECRET);
    rc = http_do(m->client->http, &req, &resp, err);
    if (rc == ER_OK) {
        *status = resp.status;
        if (buf_add(out, resp.body.data, resp.body.len) != BUF_OK)
            rc = er_set(err, ER_PARSE, "instance metadata %s: too large", path);
    }
    http_response_free(&resp);
    free(url);
    return rc;
}

static const char *get_str(json_t *o, const char *k)
{
    json_t *v = json_object_get(o, k);
    return json_is_string(v) ? json_string_value(v) : NULL;
}

enum er_code imds_parse_credentials(const char *json, size_t len,
                                    struct aws_credentials *out,
                                    struct er_error *err)
{
    json_t *root = json_loadb(json, len, 0, NULL);
    const char *code = get_str(root, "Code");
    const char *akid = get_str(root, "AccessKeyId");
    const char *secret = get_str(root, "SecretAccessKey");
    const char *token = get_str(root, "Token");
    const char *exp = get_str(root, "Expiration");
    time_t when = 0;
    enum er_code rc = ER_OK;

    if (!json_is_object(root))
        rc = er_set(err, ER_PARSE, "credentials answer is not a JSON object");
    else if (code && strcmp(code, "Success") != 0)
        rc = er_set(err, ER_AWS, "credentials answer has Code \"%s\"", code);
    else if (!akid || !secret || !*akid || !*secret)
        rc = er_set(err, ER_PARSE,
                    "credentials answer lacks AccessKeyId or SecretAccessKey");
    else if (json_object_get(root, "Expiration") && !exp)
        rc = er_set(err, ER_PARSE,
                    "credentials answer has a non-text "
                    "Expiration");
    else if (exp && time_parse_iso8601(exp, &when) != 0)
        rc = er_set(err, ER_PARSE, "Expiration \"%s\" is not a date", exp);
    if (rc == ER_OK) {
        memset(out, 0, sizeof(*out));
        out->access_key_id = xstrdup(akid);
        out->secret_access_key = xstrdup(secret);
        out->session_token = token && *token ? xstrdup(token) : NULL;
        out->expiration = when;
    }
    json_decref(root);
    return rc;
}
