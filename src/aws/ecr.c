#include "ecr.h"
#include "../core/b64.h"
#include "../core/json_limit.h"
#include "../core/strutil.h"
#include "../core/timeutil.h"
#include "../core/wipe.h"
#include "../core/xalloc.h"
#include "ecr_host.h"
#include "endpoints.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#define ECR_TARGET "AmazonEC2ContainerRegistry_V20150921.GetAuthorizationToken"
#define ECR_CONTENT_TYPE "application/x-amz-json-1.1"
#define ECR_PUBLIC_TARGET "SpencerFrontendService.GetAuthorizationToken"

bool ecr_registry_id_is_valid(const char *id)
{
    size_t n = strlen(id);

    if (n != 12)
        return false;
    for (size_t i = 0; i < n; i++) {
        if (id[i] < '0' || id[i] > '9')
            return false;
    }
    return true;
}

char *ecr_request_body(char *const *ids, size_t n)
{
    json_t *root = json_object();
    json_t *list;
    char *text;

    if (n > 0) {
        list = json_array();
        for (size_t i = 0; i < n; i++)
            json_array_append_new(list, json_string(ids[i]));
        json_object_set_new(root, "registryIds", list);
    }
    text = json_dumps(root, JSON_COMPACT);
    json_decref(root);
    if (!text)
        abort(); /* only on allocation failure */
    return text;
}

/* "AWS:<password>" after base64; the user is everything before the
 * first ':' (passwords may contain ':'). */
static enum er_code split_token(const char *b64, struct ecr_token *t,
                                struct er_error *err)
{
    struct buf plain;
    const char *colon;
    enum er_code rc = ER_OK;

    buf_init(&plain, ECR_ANSWER_CAP, BUF_SECRET);
    if (b64_decode(&plain, b64, strlen(b64)) != 0 || plain.len == 0 ||
        memchr(plain.data, '\0', plain.len)) {
        rc = er_set(err, ER_PARSE, "authorizationToken is not valid base64");
        goto out;
    }
    colon = strchr(plain.data, ':');
    if (!colon || colon == plain.data || colon[1] == '\0') {
        rc = er_set(err, ER_PARSE,
                    "authorizationToken is not \"user:password\"");
        goto out;
    }
    /* The password goes into a JSON document, which holds only text. */
    if (!str_is_utf8(plain.data, plain.len)) {
        rc = er_set(err, ER_PARSE,
                    "authorizationToken holds a password that is not UTF-8 "
                    "text, so no .dockerconfigjson can carry it");
        goto out;
    }
    t->username = xstrndup(plain.data, (size_t)(colon - plain.data));
    t->password = xstrdup(colon + 1);
out:
    buf_free(&plain);
    return rc;
}

static bool id_wanted(const struct ecr_expect *want, const char *account)
{
    for (size_t i = 0; i < want->n_ids; i++) {
        if (strcmp(want->ids[i], account) == 0)
            return true;
    }
    return want->n_ids == 0;
}

/* A shortened, printable copy of a peer's text, for messages. */
static void excerpt(char *dst, size_t cap, const char *s)
{
    str_copy_printable(dst, cap, s, strlen(s));
}

/* proxyEndpoint becomes a key of "auths" and an annotation: it must be
 * "https://<registry host>" for an account we asked for, in this region. */
static enum er_code set_host(const char *endpoint,
                             const struct ecr_expect *want, struct ecr_token *t,
                             struct er_error *err)
{
    struct ecr_host h;
    const char *rest;
    char shown[96];

    excerpt(shown, sizeof(shown), endpoint);
    if (!str_has_prefix(endpoint, "https://") ||
        !ecr_host_parse(endpoint, &h) || h.is_public)
        return er_set(err, ER_PARSE,
                      "proxyEndpoint \"%s\" is not https:// and the host of "
                      "an ECR registry",
                      shown);
    rest = endpoint + strlen("https://") + strlen(h.host);
    if (strcmp(rest, "") != 0 && strcmp(rest, "/") != 0)
        return er_set(err, ER_PARSE,
                      "proxyEndpoint \"%s\" is more than a registry host",
                      shown);
    if (strcmp(h.region, want->region) != 0 || !id_wanted(want, h.account))
        return er_set(err, ER_PARSE,
                      "proxyEndpoint \"%s\" names another region or "
                      "account than asked for (%s%s)",
                      shown, want->region,
                      want->n_ids ? ", the given --registry-id" : "");
    t->registry_host = xstrdup(h.host);
    t->account = xstrdup(h.account);
    return ER_OK;
}

static enum er_code set_expiry(json_t *exp, const struct ecr_expect *want,
                               struct ecr_token *t, struct er_error *err)
{
    double e = json_is_number(exp) ? json_number_value(exp) : 0;
    char when[TIME_RFC3339_LEN];

    if (!json_is_number(exp) || !time_is_sane(e))
        return er_set(err, ER_PARSE,
                      "expiresAt is %s, not a time in seconds since 1970",
                      exp ? "out of range or not a number" : "missing");
    time_format_rfc3339((time_t)e, when);
    if (want->now && e <= (double)want->now)
        return er_set(err, ER_PARSE,
                      "the token expired at %s, before it was received. "
                      "Fix: check this machine's clock",
                      when);
    if (want->now && e > (double)want->now + ECR_MAX_LIFETIME)
        return er_set(err, ER_PARSE,
                      "the token claims to be valid until %s, more than a "
                      "day ahead; ECR tokens live 12 hours",
                      when);
    t->expires_at = e;
    return ER_OK;
}

static void token_free(struct ecr_token *t)
{
    free(t->registry_host);
    free(t->account);
    free(t->region);
    free(t->username);
    wipe_free_str(t->password);
    memset(t, 0, sizeof(*t));
}

static enum er_code parse_entry(json_t *entry, const struct ecr_expect *want,
                                struct ecr_token *t, struct er_error *err)
{
    json_t *tok = json_object_get(entry, "authorizationToken");
    json_t *ep = json_object_get(entry, "proxyEndpoint");
    enum er_code rc;

    memset(t, 0, sizeof(*t));
    if (!json_is_string(tok) || !json_is_string(ep))
        return er_set(err, ER_PARSE,
                      "authorizationData entry lacks "
                      "authorizationToken or proxyEndpoint");
    if ((rc = split_token(json_string_value(tok), t, err)) != ER_OK ||
        (rc = set_host(json_string_value(ep), want, t, err)) != ER_OK ||
        (rc = set_expiry(json_object_get(entry, "expiresAt"), want, t, err)) !=
            ER_OK)
        return rc;
    t->region = xstrdup(want->region);
    return ER_OK;
}

/* All entries are parsed before any is appended: out changes only on
 * success. */
enum er_code ecr_parse_tokens(const char *json, size_t len,
                              const struct ecr_expect *want,
                              struct ecr_tokens *out, struct er_error *err)
{
    json_t *root = NULL, *data;
    struct ecr_tokens parsed = {0};
    enum er_code rc;
    size_t n;

    rc = json_limit_parse(json, len, JSON_LIMIT_BUDGET(ECR_ANSWER_CAP),
                          "the answer", &root, err);
    if (rc != ER_OK)
        return rc;
    data = json_object_get(root, "authorizationData");
    n = json_array_size(data);
    if (!json_is_array(data) || n == 0) {
        rc = er_set(err, ER_PARSE, "answer has no authorizationData");
        goto out;
    }
    parsed.items = xcalloc(n, sizeof(*parsed.items));
    for (size_t i = 0; i < n && rc == ER_OK; i++) {
        rc = parse_entry(json_array_get(data, i), want, &parsed.items[parsed.n],
                         err);
        if (rc != ER_OK)
            token_free(&parsed.items[parsed.n]);
        else
            parsed.n++;
    }
    if (rc == ER_OK) {
        out->items = xrealloc(out->items, (out->n + n) * sizeof(*out->items));
        memcpy(out->items + out->n, parsed.items, n * sizeof(*parsed.items));
        out->n += n;
        parsed.n = 0;
    }
out:
    ecr_tokens_free(&parsed);
    json_decref(root);
    return rc;
}

static enum er_code call_batch(struct aws_client *c, const char *endpoint,
                               const struct aws_credentials *creds,
                               const char *region, char *const *ids, size_t n,
                               struct ecr_tokens *out, struct er_error *err)
{
    char *body = ecr_request_body(ids, n);
    struct ecr_expect want = {
        .region = region,
        .ids = ids,
        .n_ids = n,
        .now = clock_now(c->clock),
    };
    struct buf answer;
    struct aws_request req = {
        .service_label = "ECR",
        .operation = "GetAuthorizationToken",
        .signing_name = "ecr",
        .region = region,
        .endpoint = endpoint,
        .content_type = ECR_CONTENT_TYPE,
        .target = ECR_TARGET,
        .body = body,
        .body_len = strlen(body),
        .creds = creds,
    };
    enum er_code rc;

    buf_init(&answer, ECR_ANSWER_CAP, BUF_SECRET);
    rc = aws_send(c, &req, &answer, err);
    if (rc == ER_OK && (rc = ecr_parse_tokens(answer.data, answer.len, &want,
                                              out, err)) != ER_OK)
        er_wrap(err, "ECR GetAuthorizationToken in %s: refused the answer",
                region);
    buf_free(&answer);
    free(body);
    return rc;
}

enum er_code ecr_get_tokens(struct aws_client *c, const struct aws_settings *s,
                            const struct aws_credentials *creds,
                            const char *region, char *const *ids, size_t n,
                            struct ecr_tokens *out, struct er_error *err)
{
    char *endpoint = NULL;
    enum er_code rc;
    size_t done = 0;

    for (size_t i = 0; i < n; i++) {
        if (!ecr_registry_id_is_valid(ids[i]))
            return er_set(err, ER_USAGE,
                          "registry id \"%s\" is not a 12-digit AWS account "
                          "id",
                          ids[i]);
    }
    if ((rc = aws_ecr_endpoint(s, region, &endpoint, err)) != ER_OK)
        return rc;
    do {
        size_t batch =
            n - done < ECR_MAX_IDS_PER_CALL ? n - done : ECR_MAX_IDS_PER_CALL;
        /* No ids means one call for the caller's own registry. */
        rc = call_batch(c, endpoint, creds, region, n ? ids + done : NULL,
                        batch, out, err);
        done += batch;
    } while (rc == ER_OK && done < n);
    free(endpoint);
    return rc;
}

/* ECR Public answers one object, with no proxyEndpoint: the host is
 * known (public.ecr.aws, and ecr-public.aws.com when dual-stack). */
enum er_code ecr_public_parse_token(const char *json, size_t len, time_t now,
                                    bool dualstack, struct ecr_tokens *out,
                                    struct er_error *err)
{
    struct ecr_expect want = {.region = ECR_PUBLIC_REGION, .now = now};
    json_t *root = NULL, *data;
    struct ecr_token t = {0};
    size_t n = dualstack ? 2 : 1;
    enum er_code rc;

    rc = json_limit_parse(json, len, JSON_LIMIT_BUDGET(ECR_ANSWER_CAP),
                          "the answer", &root, err);
    if (rc != ER_OK)
        return rc;
    data = json_object_get(root, "authorizationData");
    if (!json_is_object(data) ||
        !json_is_string(json_object_get(data, "authorizationToken"))) {
        rc = er_set(err, ER_PARSE,
                    "answer has no authorizationData.authorizationToken");
        goto out;
    }
    if ((rc = split_token(
             json_string_value(json_object_get(data, "authorizationToken")), &t,
             err)) != ER_OK ||
        (rc = set_expiry(json_object_get(data, "expiresAt"), &want, &t, err)) !=
            ER_OK)
        goto out;
    out->items = xrealloc(out->items, (out->n + n) * sizeof(*out->items));
    for (size_t i = 0; i < n; i++) {
        struct ecr_token *e = &out->items[out->n++];
        *e = (struct ecr_token){
            .registry_host =
                xstrdup(i ? ECR_PUBLIC_DUALSTACK_HOST : ECR_PUBLIC_HOST),
            .region = xstrdup(ECR_PUBLIC_REGION),
            .username = xstrdup(t.username),
            .password = xstrdup(t.password),
            .expires_at = t.expires_at,
        };
    }
out:
    token_free(&t);
    json_decref(root);
    return rc;
}

enum er_code ecr_public_get_token(struct aws_client *c,
                                  const struct aws_settings *s,
                                  const struct aws_credentials *creds,
                                  struct ecr_tokens *out, struct er_error *err)
{
    char *endpoint = NULL;
    struct buf answer;
    enum er_code rc;

    if ((rc = aws_ecr_public_endpoint(s, &endpoint, err)) != ER_OK)
        return rc;
    struct aws_request req = {
        .service_label = "ECR Public",
        .operation = "GetAuthorizationToken",
        .signing_name = "ecr-public",
        .region = ECR_PUBLIC_REGION,
        .endpoint = endpoint,
        .content_type = ECR_CONTENT_TYPE,
        .target = ECR_PUBLIC_TARGET,
        .body = "{}",
        .body_len = 2,
        .creds = creds,
    };
    buf_init(&answer, ECR_ANSWER_CAP, BUF_SECRET);
    rc = aws_send(c, &req, &answer, err);
    if (rc == ER_OK && (rc = ecr_public_parse_token(
                            answer.data, answer.len, clock_now(c->clock),
                            s->use_dualstack, out, err)) != ER_OK)
        er_wrap(err,
                "ECR Public GetAuthorizationToken in %s: refused the "
                "answer",
                ECR_PUBLIC_REGION);
    buf_free(&answer);
    free(endpoint);
    return rc;
}

void ecr_tokens_free(struct ecr_tokens *t)
{
    for (size_t i = 0; i < t->n; i++)
        token_free(&t->items[i]);
    free(t->items);
    t->items = NULL;
    t->n = 0;
}
