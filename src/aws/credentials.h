/*
 * credentials.h - a set of AWS credentials.
 *
 * Ownership: the struct owns its strings; aws_credentials_free wipes the
 * secret key and the session token before freeing.
 */
#ifndef ECR_RENEW_AWS_CREDENTIALS_H
#define ECR_RENEW_AWS_CREDENTIALS_H

#include <time.h>

struct aws_credentials {
    char *access_key_id;
    char *secret_access_key; /* secret */
    char *session_token;     /* secret; NULL for long-term keys */
    time_t expiration;       /* 0: does not expire */
    char source[96];         /* "environment", "web identity (role/x)" */
};

void aws_credentials_free(struct aws_credentials *c);

#endif
