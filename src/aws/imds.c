#include "imds.h"
#include "../core/json_limit.h"
#include "../core/wipe.h"
#include "../core/strutil.h"
#include "../core/timeutil.h"
#include "../core/xalloc.h"
#include "../net/http.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define IMDS_TIMEOUT_MS 1000

void imds_init(struct imds *m, struct aws_client *c,
               const struct aws_settings *s)
{
    m->client = c;
    m->settings = s;
    m->token = NULL;
    m->token_expires_ms = 0;
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

static enum er_code keep_token(struct imds *m, const struct buf *body,
                               struct er_error *err)
{
    size_t n;
    const char *t = str_trim(buf_str(body), &n);
    char *token = xstrndup(t, n);

    if (n == 0 || !str_has_no_controls(token)) {
        wipe_free_str(token);
        return er_set(err, ER_PARSE,
                      "IMDSv2 token request: the answer is %s, not a token",
                      n ? "text with control characters" : "empty");
    }
    wipe_free_str(m->token);
    m->token = token;
    m->token_expires_ms =
        clock_mono_ms(m->client->clock) +
        (IMDS_TOKEN_TTL_SECONDS - IMDS_TOKEN_EARLY_SECONDS) * 1000LL;
    return ER_OK;
}

static enum er_code fetch_token(struct imds *m, struct er_error *err)
{
    char ttl[16];
    struct http_header h[] = {{"X-aws-ec2-metadata-token-ttl-seconds", ttl}};
    struct http_response resp = {0};
    char *url = imds_url(m, "/latest/api/token");
    struct http_request req = {
        .method = "PUT",
        .url = url,
        .headers = h,
        .n_headers = 1,
        .body = "",
        .timeout_ms = IMDS_TIMEOUT_MS,
        .deadline = m->client->deadline,
        .what = "IMDSv2 token",
    };
    enum er_code rc;

    snprintf(ttl, sizeof(ttl), "%d", IMDS_TOKEN_TTL_SECONDS);
    buf_init(&resp.body, IMDS_ANSWER_CAP, BUF_SECRET);
    rc = http_do(m->client->http, &req, &resp, err);
    if (rc == ER_OK && resp.status != 200)
        rc = er_set(err, ER_AWS,
                    "IMDSv2 token request to %s: HTTP %ld (IMDSv2 must be "
                    "enabled on the instance)",
                    url, resp.status);
    else if (rc == ER_NETWORK)
        /* In a container, a hop limit of 1 drops the answer on the way. */
        er_wrap(err, "IMDSv2 token request (if this runs in a container on "
                     "EC2, set the instance's HttpPutResponseHopLimit to 2)");
    if (rc == ER_OK)
        rc = keep_token(m, &resp.body, err);
    http_response_free(&resp);
    free(url);
    return rc;
}

static bool token_fresh(const struct imds *m)
{
    return m->token && clock_mono_ms(m->client->clock) < m->token_expires_ms;
}

static enum er_code get_once(struct imds *m, const char *path,
                             struct http_response *resp, struct er_error *err)
{
    char *url = imds_url(m, path);
    struct http_header h[] = {{"X-aws-ec2-metadata-token", m->token}};
    struct http_request req = {
        .method = "GET",
        .url = url,
        .headers = h,
        .n_headers = 1,
        .timeout_ms = IMDS_TIMEOUT_MS,
        .deadline = m->client->deadline,
        .what = "instance metadata",
    };
    enum er_code rc = http_do(m->client->http, &req, resp, err);

    free(url);
    return rc;
}

enum er_code imds_get(struct imds *m, const char *path, struct buf *out,
                      long *status, struct er_error *err)
{
    struct http_response resp = {0};
    enum er_code rc = ER_OK;

    if (!token_fresh(m) && (rc = fetch_token(m, err)) != ER_OK)
        return rc;
    buf_init(&resp.body,
             out->cap < IMDS_ANSWER_CAP ? out->cap : IMDS_ANSWER_CAP,
             BUF_SECRET);
    rc = get_once(m, path, &resp, err);
    /* A token can end early (the service restarted): get one more. */
    if (rc == ER_OK && resp.status == 401 &&
        (rc = fetch_token(m, err)) == ER_OK)
        rc = get_once(m, path, &resp, err);
    if (rc == ER_OK) {
        *status = resp.status;
        if (buf_add(out, resp.body.data, resp.body.len) != BUF_OK)
            rc = er_set(err, ER_PARSE, "instance metadata %s: too large", path);
    }
    http_response_free(&resp);
    return rc;
}

static const char *get_str(json_t *o, const char *k)
{
    json_t *v = json_object_get(o, k);
    return json_is_string(v) ? json_string_value(v) : NULL;
}

static enum er_code shown_code(const char *code, struct er_error *err)
{
    char shown[64];

    str_copy_printable(shown, sizeof(shown), code, strlen(code));
    return er_set(err, ER_AWS, "credentials answer has Code \"%s\"", shown);
}

static enum er_code parse_fields(json_t *root, struct aws_credentials *out,
                                 struct er_error *err)
{
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
        rc = shown_code(code, err);
    else if (!akid || !secret || !*akid || !*secret)
        rc = er_set(err, ER_PARSE,
                    "credentials answer lacks AccessKeyId or SecretAccessKey");
    else if (json_object_get(root, "Expiration") && !exp)
        rc = er_set(err, ER_PARSE,
                    "credentials answer has a non-text "
                    "Expiration");
    else if (exp && time_parse_iso8601(exp, &when) != 0)
        rc = er_set(err, ER_PARSE,
                    "Expiration is not an RFC 3339 time between 2000 and "
                    "9999");
    if (rc == ER_OK) {
        struct aws_credentials c = {
            .access_key_id = xstrdup(akid),
            .secret_access_key = xstrdup(secret),
            .session_token = token && *token ? xstrdup(token) : NULL,
            .expiration = when,
        };
        rc = aws_credentials_check(&c, "credentials answer", ER_PARSE, err);
        if (rc == ER_OK)
            *out = c;
        else
            aws_credentials_free(&c);
    }
    return rc;
}

enum er_code imds_parse_credentials(const char *json, size_t len,
                                    struct aws_credentials *out,
                                    struct er_error *err)
{
    json_t *root = NULL;
    enum er_code rc =
        json_limit_parse(json, len, JSON_LIMIT_BUDGET(IMDS_ANSWER_CAP),
                         "credentials answer", &root, err);

    if (rc != ER_OK)
        return rc;
    rc = parse_fields(root, out, err);
    json_decref(root);
    return rc;
}
