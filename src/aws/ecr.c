#include "ecr.h"
#include "../core/b64.h"
#include "../core/wipe.h"
#include "../core/strutil.h"
#include "../core/xalloc.h"
#include "endpoints.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#define ECR_TARGET "AmazonEC2ContainerRegistry_V20150921.GetAuthorizationToken"
#define ECR_CONTENT_TYPE "application/x-amz-json-1.1"

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
    struct buf plain = BUF_INIT_SECRET;
    const char *colon;
    enum er_code rc = ER_OK;

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
    t->username = xstrndup(plain.data, (size_t)(colon - plain.data));
    t->password = xstrdup(colon + 1);
out:
    buf_free(&plain);
    return rc;
}

/* "https://123456789012.dkr.ecr.us-east-1.amazonaws.com" -> host, and
 * the account when the first label is one. */
static void set_host(const char *endpoint, struct ecr_token *t)
{
    const char *host = strstr(endpoint, "://");
    size_t n, first;

    host = host ? host + 3 : endpoint;
    n = strcspn(host, "/");
    t->registry_host = xstrndup(host, n);
    first = strcspn(t->registry_host, ".");
    if (first == 12) {
        char *acct = xstrndup(t->registry_host, first);
        if (ecr_registry_id_is_valid(acct))
            t->account = acct;
        else
            free(acct);
    }
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

static enum er_code parse_entry(json_t *entry, const char *region,
                                struct ecr_token *t, struct er_error *err)
{
    json_t *tok = json_object_get(entry, "authorizationToken");
    json_t *ep = json_object_get(entry, "proxyEndpoint");
    json_t *exp = json_object_get(entry, "expiresAt");
    enum er_code rc;

    memset(t, 0, sizeof(*t));
    if (!json_is_string(tok) || !json_is_string(ep))
        return er_set(err, ER_PARSE,
                      "authorizationData entry lacks "
                      "authorizationToken or proxyEndpoint");
    if ((rc = split_token(json_string_value(tok), t, err)) != ER_OK)
        return rc;
    set_host(json_string_value(ep), t);
    t->region = xstrdup(region);
    t->expires_at = json_is_number(exp) ? json_number_value(exp) : 0;
    return ER_OK;
}

/* All entries are parsed before any is appended: out changes only on
 * success. */
enum er_code ecr_parse_tokens(const char *json, size_t len, const char *region,
                              struct ecr_tokens *out, struct er_error *err)
{
    json_t *root = json_loadb(json, len, 0, NULL);
    json_t *data = json_object_get(root, "authorizationData");
    struct ecr_tokens parsed = {0};
    enum er_code rc = ER_OK;
    size_t n = json_array_size(data);

    if (!json_is_array(data) || n == 0) {
        rc = er_set(err, ER_PARSE, "answer has no authorizationData");
        goto out;
    }
    parsed.items = xcalloc(n, sizeof(*parsed.items));
    for (size_t i = 0; i < n && rc == ER_OK; i++) {
        rc = parse_entry(json_array_get(data, i), region,
                         &parsed.items[parsed.n], err);
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
    struct buf answer = BUF_INIT_SECRET;
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
    enum er_code rc = aws_send(c, &req, &answer, err);

    if (rc == ER_OK && (rc = ecr_parse_tokens(answer.data, answer.len, region,
                                              out, err)) != ER_OK)
        er_wrap(err, "ECR GetAuthorizationToken in %s", region);
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
        rc =
            call_batch(c, endpoint, creds, region, ids + done, batch, out, err);
        done += batch;
    } while (rc == ER_OK && done < n);
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
