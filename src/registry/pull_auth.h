/*
 * pull_auth.h - what a pull Secret (or a docker config) holds.
 *
 * From the tokens of one run: the .dockerconfigjson document with one
 * "auths" entry per registry host (plus the FIPS and dual-stack host
 * names of each registry when those endpoints are in use, since image
 * references may name them and the same password is valid there), the
 * hosts for the ecr-renew/registries annotation, the earliest expiry and
 * the time of renewal, taken from the caller's clock. Pure.
 *
 * Shared by sync, run, docker-config and the node modes, so all of them
 * write the same document.
 *
 * Ownership: struct pull_auth owns its strings; pull_auth_free wipes the
 * document, which holds passwords.
 */
#ifndef ECR_RENEW_REGISTRY_PULL_AUTH_H
#define ECR_RENEW_REGISTRY_PULL_AUTH_H

#include "../aws/ecr.h"
#include "../core/err.h"
#include "../core/timeutil.h"
#include "aliases.h"

#include <stdbool.h>
#include <time.h>

struct pull_auth_options {
    bool fips_hosts;      /* also <acct>.dkr.ecr-fips.<region>... */
    bool dualstack_hosts; /* also <acct>.dkr-ecr.<region>.on.aws */
    /* Extra names with the credentials of a token's host (resolved, see
     * aliases.h); may be NULL. */
    const struct registry_aliases *aliases;
};

struct pull_auth {
    char *dockerconfigjson; /* secret: the document, not base64 */
    size_t dockerconfigjson_len;
    char *registries; /* "host1,host2", the annotation */
    size_t n_hosts;
    time_t expires_at; /* the earliest token expiry */
    char expires_at_text[TIME_RFC3339_LEN];
    char renewed_at_text[TIME_RFC3339_LEN];
};

/* Builds *out from tokens (at least one) at time now. ER_PARSE when a
 * password cannot go into JSON; ER_USAGE when an alias names a host no
 * token is for. */
enum er_code pull_auth_build(const struct ecr_tokens *tokens,
                             const struct pull_auth_options *opt, time_t now,
                             struct pull_auth *out,
                             struct er_error *err) ER_CHECK;

void pull_auth_free(struct pull_auth *a);

#endif
