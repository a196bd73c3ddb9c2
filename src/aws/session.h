/*
 * session.h - everything one run needs to get ECR tokens.
 *
 * Opens the settings, the shared files, one HTTP client (so calls to the
 * same endpoint share a connection), the credential provider and the
 * list of regions, then gets one token per region.
 *
 * Ownership: the session owns all of it; aws_session_close frees it.
 */
#ifndef ECR_RENEW_AWS_SESSION_H
#define ECR_RENEW_AWS_SESSION_H

#include "../core/err.h"
#include "aws_call.h"
#include "ecr.h"
#include "profile.h"
#include "provider.h"
#include "settings.h"

#include <stdbool.h>
#include <stddef.h>

struct aws_session {
    struct aws_settings settings;
    struct aws_profile_files files;
    struct http_client *http;
    struct aws_client client;
    struct aws_provider *provider;
    char **regions;
    size_t n_regions;
};

/* settings is moved into the session (the caller's copy is zeroed).
 * regions may be empty: the default region is resolved then. Every
 * call of the session respects deadline (borrowed; may be NULL). The
 * session must not be moved once open: the provider keeps pointers to
 * its settings, files and client. */
enum er_code aws_session_open(struct aws_session *sess,
                              struct aws_settings *settings,
                              char *const *regions, size_t n_regions,
                              const struct clock *clock,
                              const struct deadline *deadline,
                              struct er_error *err) ER_CHECK;

/* One GetAuthorizationToken per region, appended to out. */
enum er_code aws_session_tokens(struct aws_session *sess, char *const *ids,
                                size_t n_ids, struct ecr_tokens *out,
                                struct er_error *err) ER_CHECK;

/* aws_session_tokens, and with_public ECR Public's token too (ER_USAGE,
 * before any call, when a region's partition has no ECR Public). */
enum er_code aws_session_all_tokens(struct aws_session *sess, char *const *ids,
                                    size_t n_ids, bool with_public,
                                    struct ecr_tokens *out,
                                    struct er_error *err) ER_CHECK;

/* ECR Public's token, appended to out (see ecr_public_get_token). */
enum er_code aws_session_public_token(struct aws_session *sess,
                                      struct ecr_tokens *out,
                                      struct er_error *err) ER_CHECK;

void aws_session_close(struct aws_session *sess);

#endif
