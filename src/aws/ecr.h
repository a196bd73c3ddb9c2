/*
 * ecr.h - ECR GetAuthorizationToken (AWS JSON 1.1).
 *
 * One call per region returns a password that works for every registry
 * the principal may read in that region; with registry ids, one entry
 * per id (cross-account). The answer's base64 token is decoded and split
 * into user and password here.
 *
 * Nothing in the answer is taken on trust, since it ends up as the key
 * and value of a pull Secret: proxyEndpoint must be https:// and the
 * registry host of an asked-for account in the asked-for region and its
 * partition; expiresAt a number in the future, at most ECR_MAX_LIFETIME
 * ahead; the password UTF-8 text, so it survives the JSON document it
 * goes into. The answer is read within ECR_ANSWER_CAP bytes.
 *
 * Ownership: struct ecr_tokens owns everything in it; ecr_tokens_free
 * wipes the passwords.
 */
#ifndef ECR_RENEW_AWS_ECR_H
#define ECR_RENEW_AWS_ECR_H

#include "../core/err.h"
#include "aws_call.h"
#include "settings.h"

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#define ECR_MAX_IDS_PER_CALL 10
/* A real answer is about 3.5 KiB per registry, 10 registries a call. */
#define ECR_ANSWER_CAP (256u * 1024)
/* Tokens live 12 hours, and SigV4 keeps our clock within 15 minutes of
 * AWS's: an expiry further out than this is not a real one. */
#define ECR_MAX_LIFETIME (24 * 3600)

struct ecr_token {
    char *registry_host; /* "123456789012.dkr.ecr.us-east-1.amazonaws.com" */
    char *account;       /* "123456789012", or NULL if the host has none */
    char *region;
    char *username;    /* "AWS" */
    char *password;    /* secret */
    double expires_at; /* epoch seconds, may be fractional */
};

struct ecr_tokens {
    struct ecr_token *items;
    size_t n;
};

/* True for a 12-digit AWS account id. */
bool ecr_registry_id_is_valid(const char *id);

/* The request body: "{}" or {"registryIds":[...]}. Newly allocated. */
char *ecr_request_body(char *const *ids, size_t n);

/* What an answer must match: the call's region and registry ids (none:
 * any account), and the time it was asked at. */
struct ecr_expect {
    const char *region;
    char *const *ids;
    size_t n_ids;
    time_t now;
};

/* Parses an answer, appending to out (only on success). Pure. */
enum er_code ecr_parse_tokens(const char *json, size_t len,
                              const struct ecr_expect *want,
                              struct ecr_tokens *out,
                              struct er_error *err) ER_CHECK;

/* Calls GetAuthorizationToken in region (in batches of 10 ids) and
 * appends the tokens to out. */
enum er_code ecr_get_tokens(struct aws_client *c, const struct aws_settings *s,
                            const struct aws_credentials *creds,
                            const char *region, char *const *ids, size_t n,
                            struct ecr_tokens *out,
                            struct er_error *err) ER_CHECK;

/* ECR Public (REFERENCE-2 §7.1): one token, from us-east-1, valid for
 * public.ecr.aws, and for ecr-public.aws.com when dual-stack (one entry
 * each, account NULL). Pure. */
enum er_code ecr_public_parse_token(const char *json, size_t len, time_t now,
                                    bool dualstack, struct ecr_tokens *out,
                                    struct er_error *err) ER_CHECK;

/* Calls ECR Public's GetAuthorizationToken (signed as ecr-public in
 * us-east-1) and appends its entries to out. Needs
 * ecr-public:GetAuthorizationToken and sts:GetServiceBearerToken. */
enum er_code ecr_public_get_token(struct aws_client *c,
                                  const struct aws_settings *s,
                                  const struct aws_credentials *creds,
                                  struct ecr_tokens *out,
                                  struct er_error *err) ER_CHECK;

void ecr_tokens_free(struct ecr_tokens *t);

#endif
