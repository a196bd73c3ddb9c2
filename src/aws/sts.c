#include "sts.h"
#include "../core/buf.h"
#include "../core/wipe.h"
#include "../core/strutil.h"
#include "../core/timeutil.h"
#include "../core/urlenc.h"
#include "../core/xalloc.h"
#include "xml_fields.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define STS_CONTENT_TYPE "application/x-www-form-urlencoded; charset=utf-8"

static void add_param(struct buf *b, const char *key, const char *value)
{
    buf_must_addf(b, "%s%s=", b->len ? "&" : "", key);
    urlenc_append(b, value, strlen(value), false);
}

static void add_common(struct buf *b, const char *action,
                       const struct sts_assume *a)
{
    char duration[16];

    add_param(b, "Action", action);
    add_param(b, "Version", "2011-06-15");
    add_param(b, "RoleArn", a->role_arn);
    add_param(b, "RoleSessionName",
              a->session_name ? a->session_name : STS_DEFAULT_SESSION_NAME);
    snprintf(duration, sizeof(duration), "%d", STS_DURATION_SECONDS);
    add_param(b, "DurationSeconds", duration);
}

char *sts_web_identity_body(const struct sts_assume *a, const char *token)
{
    struct buf b = BUF_INIT_SECRET;

    add_common(&b, "AssumeRoleWithWebIdentity", a);
    add_param(&b, "WebIdentityToken", token);
    return buf_detach(&b, NULL);
}

char *sts_assume_role_body(const struct sts_assume *a)
{
    struct buf b = BUF_INIT;

    add_common(&b, "AssumeRole", a);
    if (a->external_id)
        add_param(&b, "ExternalId", a->external_id);
    return buf_detach(&b, NULL);
}

enum er_code sts_parse_credentials(const char *xml, size_t len,
                                   struct aws_credentials *out,
                                   struct er_error *err)
{
    static const char *const names[] = {"AccessKeyId", "SecretAccessKey",
                                        "SessionToken", "Expiration"};
    char *v[4];
    time_t expiration;
    enum er_code rc;

    if ((rc = xmlf_extract(xml, len, names, 4, v, err)) != ER_OK)
        return rc;
    if (!v[0] || !v[1] || !v[2] || !v[3] || !*v[0] || !*v[1]) {
        rc = er_set(err, ER_PARSE, "answer lacks Credentials");
    } else if (time_parse_iso8601(v[3], &expiration) != 0) {
        char shown[48];
        str_copy_printable(shown, sizeof(shown), v[3], strlen(v[3]));
        rc = er_set(err, ER_PARSE,
                    "Expiration \"%s\" is not an RFC 3339 time between 2000 "
                    "and 9999",
                    shown);
    } else {
        struct aws_credentials c = {
            .access_key_id = v[0],
            .secret_access_key = v[1],
            .session_token = v[2],
            .expiration = expiration,
        };
        v[0] = v[1] = v[2] = NULL;
        rc = aws_credentials_check(&c, "the answer's Credentials", ER_PARSE,
                                   err);
        if (rc == ER_OK)
            *out = c;
        else
            aws_credentials_free(&c);
    }
    for (size_t i = 0; i < 4; i++)
        wipe_free_str(v[i]);
    return rc;
}

static enum er_code send_assume(struct aws_client *c,
                                const struct sts_assume *a,
                                const char *operation, const char *body,
                                const struct aws_credentials *creds,
                                struct aws_credentials *out,
                                struct er_error *err)
{
    struct buf answer;
    struct aws_request req = {
        .service_label = "STS",
        .operation = operation,
        .signing_name = "sts",
        .region = a->region,
        .endpoint = a->endpoint,
        .content_type = STS_CONTENT_TYPE,
        .body = body,
        .body_len = strlen(body),
        .creds = creds,
    };
    enum er_code rc;

    buf_init(&answer, STS_ANSWER_CAP, BUF_SECRET);
    rc = aws_send(c, &req, &answer, err);
    if (rc == ER_OK && (rc = sts_parse_credentials(answer.data, answer.len, out,
                                                   err)) != ER_OK)
        er_wrap(err, "STS %s for %s", operation, a->role_arn);
    buf_free(&answer);
    return rc;
}

enum er_code sts_assume_role_with_web_identity(struct aws_client *c,
                                               const struct sts_assume *a,
                                               const char *token,
                                               struct aws_credentials *out,
                                               struct er_error *err)
{
    char *body = sts_web_identity_body(a, token);
    enum er_code rc =
        send_assume(c, a, "AssumeRoleWithWebIdentity", body, NULL, out, err);

    wipe_free_str(body);
    return rc;
}

enum er_code sts_assume_role(struct aws_client *c, const struct sts_assume *a,
                             const struct aws_credentials *source,
                             struct aws_credentials *out, struct er_error *err)
{
    char *body = sts_assume_role_body(a);
    enum er_code rc = send_assume(c, a, "AssumeRole", body, source, out, err);

    free(body);
    return rc;
}
