/*
 * credentials.h - a set of AWS credentials.
 *
 * Ownership: the struct owns its strings; aws_credentials_free wipes the
 * secret key and the session token before freeing.
 */
#ifndef ECR_RENEW_AWS_CREDENTIALS_H
#define ECR_RENEW_AWS_CREDENTIALS_H

#include "../core/err.h"

#include <time.h>

struct aws_credentials {
    char *access_key_id;
    char *secret_access_key; /* secret */
    char *session_token;     /* secret; NULL for long-term keys */
    time_t expiration;       /* 0: does not expire */
    char source[96];         /* "environment", "web identity (role/x)" */
};

void aws_credentials_free(struct aws_credentials *c);

/* Checks credentials that came from outside (an answer, a file, the
 * environment) before anything is signed or sent with them: an access
 * key id, a secret key and a session token free of control characters
 * (CR or LF would smuggle header lines into every signed request), and
 * an expiry, if any, within the sane range. On failure returns code
 * (ER_PARSE for an answer, ER_CONFIG for the environment or a file),
 * naming from and the field, never a value. */
enum er_code aws_credentials_check(const struct aws_credentials *c,
                                   const char *from, enum er_code code,
                                   struct er_error *err) ER_CHECK;

#endif
