/*
 * imds.h - the EC2 instance metadata service, IMDSv2 only.
 *
 * Every read carries a session token from PUT /latest/api/token; there
 * is deliberately no fall-back to IMDSv1, whose unauthenticated GETs are
 * what SSRF attacks abuse. Requests time out after one second, as in the
 * SDKs, because off EC2 nothing answers. The session token is fetched
 * again before its six hours end, and once more when a read is refused
 * with 401 (the token expired early), so a process may run for ever.
 */
#ifndef ECR_RENEW_AWS_IMDS_H
#define ECR_RENEW_AWS_IMDS_H

#include "../core/buf.h"
#include "../core/err.h"
#include "aws_call.h"
#include "credentials.h"
#include "settings.h"

#include <stdbool.h>

#define IMDS_DEFAULT_ENDPOINT "http://169.254.169.254"
#define IMDS_TOKEN_TTL_SECONDS 21600
/* Fetch a new session token this long before the old one ends. */
#define IMDS_TOKEN_EARLY_SECONDS 300
/* Metadata answers are small: a token, a role name, some credentials. */
#define IMDS_ANSWER_CAP (16u * 1024)

struct imds {
    struct aws_client *client;           /* borrowed */
    const struct aws_settings *settings; /* borrowed */
    char *token;                         /* secret */
    long long token_expires_ms;          /* on the client's monotonic clock */
};

void imds_init(struct imds *m, struct aws_client *c,
               const struct aws_settings *s);
void imds_free(struct imds *m);

/* GETs a metadata path ("/latest/meta-data/...") into out. ER_NETWORK
 * when nothing answers; otherwise ER_OK with *status set (200, 404...).
 * A refused token request is ER_AWS. */
enum er_code imds_get(struct imds *m, const char *path, struct buf *out,
                      long *status, struct er_error *err) ER_CHECK;

/* Parses the JSON of .../security-credentials/<role> (the container
 * credentials endpoint answers the same shape). Pure. */
enum er_code imds_parse_credentials(const char *json, size_t len,
                                    struct aws_credentials *out,
                                    struct er_error *err) ER_CHECK;

#endif
