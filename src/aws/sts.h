/*
 * sts.h - STS AssumeRoleWithWebIdentity and AssumeRole (query API, XML).
 *
 * AssumeRoleWithWebIdentity is sent unsigned, as the SDKs do: the web
 * identity token is the proof. Both go to the regional endpoint.
 */
#ifndef ECR_RENEW_AWS_STS_H
#define ECR_RENEW_AWS_STS_H

#include "../core/err.h"
#include "aws_call.h"
#include "credentials.h"

#define STS_DEFAULT_SESSION_NAME "ecr-renew"
#define STS_DURATION_SECONDS 3600
/* A real answer is about 2 KiB; session tokens can reach 2 KiB too. */
#define STS_ANSWER_CAP (64u * 1024)

struct sts_assume {
    const char *endpoint;
    const char *region;
    const char *role_arn;
    const char *session_name; /* NULL: STS_DEFAULT_SESSION_NAME */
    const char *external_id;  /* AssumeRole only; may be NULL */
};

/* Pure: form bodies (newly allocated; the web identity one is secret). */
char *sts_web_identity_body(const struct sts_assume *a, const char *token);
char *sts_assume_role_body(const struct sts_assume *a);

/* Pure: reads <Credentials> from an answer into out, refusing values
 * with control characters and expiries out of range. */
enum er_code sts_parse_credentials(const char *xml, size_t len,
                                   struct aws_credentials *out,
                                   struct er_error *err) ER_CHECK;

enum er_code sts_assume_role_with_web_identity(struct aws_client *c,
                                               const struct sts_assume *a,
                                               const char *token,
                                               struct aws_credentials *out,
                                               struct er_error *err) ER_CHECK;

enum er_code sts_assume_role(struct aws_client *c, const struct sts_assume *a,
                             const struct aws_credentials *source,
                             struct aws_credentials *out,
                             struct er_error *err) ER_CHECK;

#endif
