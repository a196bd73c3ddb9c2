/*
 * node_creds.h - credentials for one image's registry, as a node plugin
 * asks for them: the kubelet's credential provider and a docker
 * credential helper run once per pull and name an image or a host, not
 * a region or an account.
 *
 * The host (after an alias of ECR_RENEW_REGISTRY_HOSTS) says everything:
 * a private registry's account, region, FIPS and dual-stack, so one
 * plugin serves every region and account; ECR Public's host asks ECR
 * Public in us-east-1. A host that is not an ECR host is refused, naming
 * it. With a web identity token (the kubelet's ServiceAccount token) and
 * a role, that role is assumed with it, in the image's region, and
 * nothing else is tried: no silent fall-back to the node's own
 * credentials.
 *
 * An expired token is never returned: the answer's expiry is checked
 * against the clock (ecr.c refuses one that has passed).
 *
 * Ownership: struct node_creds owns its strings; node_creds_free wipes
 * the password.
 */
#ifndef ECR_RENEW_REGISTRY_NODE_CREDS_H
#define ECR_RENEW_REGISTRY_NODE_CREDS_H

#include "../aws/ecr_host.h"
#include "../aws/settings.h"
#include "../core/clock.h"
#include "../core/deadline.h"
#include "../core/err.h"
#include "aliases.h"

#include <time.h>

struct node_request {
    const char *image; /* an image reference, a URL or a host */
    const struct registry_aliases *aliases; /* may be NULL */
    /* Both, or neither: assume role_arn with this token (secret). */
    const char *web_identity_token;
    const char *role_arn;
    const char *session_name; /* default "ecr-renew" */
};

struct node_creds {
    struct ecr_host host; /* the registry the image is on */
    char asked[256];      /* the host as asked for (an alias, maybe) */
    char *username;       /* "AWS" */
    char *password;       /* secret */
    double expires_at;
};

/* Resolves the image's host through the aliases and parses it. ER_USAGE
 * naming the host when it is not an ECR host (nor an alias of one). */
enum er_code node_resolve_host(const struct node_request *req,
                               struct ecr_host *out, char asked[256],
                               struct er_error *err) ER_CHECK;

/* Fetches the token for the image's registry. settings (from the
 * environment) is consumed, as by aws_session_open. */
enum er_code
node_creds_get(const struct node_request *req, struct aws_settings *settings,
               const struct clock *clock, const struct deadline *deadline,
               struct node_creds *out, struct er_error *err) ER_CHECK;

void node_creds_free(struct node_creds *c);

#endif
