/*
 * aws_error.h - reading AWS error answers and saying what to do.
 *
 * AWS answers errors as JSON ({"__type": "...#Code", "message": ...},
 * with the x-amzn-ErrorType header) for JSON protocols such as ECR, and
 * as XML (<ErrorResponse><Error><Code>) for query protocols such as STS;
 * some front ends answer XML even for JSON services. Both are read.
 */
#ifndef ECR_RENEW_AWS_AWS_ERROR_H
#define ECR_RENEW_AWS_AWS_ERROR_H

#include <stdbool.h>
#include <stddef.h>

struct aws_error {
    char code[128];    /* "AccessDeniedException", or "HTTP 503" */
    char message[512]; /* the service's message, control chars removed */
};

/* Fills e from an error answer. error_type_header may be NULL. Never
 * fails: with nothing readable, code is "HTTP <status>". */
void aws_error_parse(long status, const char *error_type_header,
                     const char *body, size_t len, struct aws_error *e);

/* True when trying again later may succeed: throttling, 5xx and
 * transient identity-provider trouble. Auth errors are final. */
bool aws_error_is_retryable(long status, const struct aws_error *e);

/* What an operator should do about this error in this operation (as
 * IAM names it: "ecr:GetAuthorizationToken",
 * "sts:AssumeRoleWithWebIdentity"), or NULL when there is nothing
 * specific to say. */
const char *aws_error_hint(const char *operation, const struct aws_error *e);

#endif
