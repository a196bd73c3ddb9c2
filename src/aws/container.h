/*
 * container.h - container credentials: EKS Pod Identity and ECS.
 *
 * The endpoint is AWS_CONTAINER_CREDENTIALS_FULL_URI, or
 * AWS_CONTAINER_CREDENTIALS_RELATIVE_URI on http://169.254.170.2. Plain
 * HTTP is only allowed to loopback and the two link-local agent
 * addresses, so credentials are never sent in clear over a network. The
 * Authorization header comes from AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE
 * (re-read on every fetch: the agent rotates it) or else
 * AWS_CONTAINER_AUTHORIZATION_TOKEN.
 */
#ifndef ECR_RENEW_AWS_CONTAINER_H
#define ECR_RENEW_AWS_CONTAINER_H

#include "../core/err.h"
#include "aws_call.h"
#include "credentials.h"
#include "settings.h"

#include <stdbool.h>

#define CONTAINER_ECS_HOST "http://169.254.170.2"

/* True when the settings name a container endpoint. */
bool container_configured(const struct aws_settings *s);

/* The endpoint URL, newly allocated, after the scheme/host check. */
enum er_code container_endpoint(const struct aws_settings *s, char **url,
                                struct er_error *err) ER_CHECK;

/* True for hosts plain HTTP may go to (pure; exposed for tests). */
bool container_host_allows_http(const char *host);

enum er_code container_fetch(struct aws_client *c, const struct aws_settings *s,
                             struct aws_credentials *out,
                             struct er_error *err) ER_CHECK;

#endif
