/*
 * aws_call.h - one AWS API call: sign, send, retry, explain.
 *
 * Retries use exponential backoff with full jitter on throttling, 5xx
 * answers and network failures, and never on auth errors (4xx), which
 * would only fail again. A final failure names the service, operation
 * and region, the AWS error code and message, and what to do.
 */
#ifndef ECR_RENEW_AWS_AWS_CALL_H
#define ECR_RENEW_AWS_AWS_CALL_H

#include "../core/buf.h"
#include "../core/clock.h"
#include "../core/deadline.h"
#include "../core/err.h"
#include "../net/http.h"
#include "../net/retry.h"
#include "credentials.h"

#include <stddef.h>

/* Shared by every AWS call of a run. Borrowed pointers. */
struct aws_client {
    struct http_client *http;
    const struct clock *clock;
    const struct deadline *deadline; /* the run's; NULL for none */
    struct retry_policy retry;
};

struct aws_request {
    const char *service_label; /* "ECR", "STS": for messages */
    const char *operation;     /* "GetAuthorizationToken" */
    const char *signing_name;  /* "ecr", "sts" */
    const char *region;
    const char *endpoint; /* base URL */
    const char *content_type;
    const char *target; /* X-Amz-Target, or NULL */
    const char *body;
    size_t body_len;
    const struct aws_credentials *creds; /* NULL: sent unsigned */
};

/* Sends req; on a 2xx answer appends the body to answer (make it a
 * BUF_SECRET buffer: answers carry tokens). ER_AWS for refusals,
 * ER_NETWORK when the service could not be reached. */
enum er_code aws_send(struct aws_client *c, const struct aws_request *req,
                      struct buf *answer, struct er_error *err) ER_CHECK;

#endif
