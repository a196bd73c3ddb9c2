#include "node_creds.h"
#include "../aws/session.h"
#include "../core/wipe.h"
#include "../core/xalloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The host part of an image reference or URL, lower case, for aliases. */
static void host_of(const char *image, char out[256])
{
    const char *s = image, *end;
    size_t n;

    if (strncmp(s, "https://", 8) == 0)
        s += 8;
    else if (strncmp(s, "http://", 7) == 0)
        s += 7;
    end = s + strcspn(s, "/");
    n = (size_t)(end - s) < 255 ? (size_t)(end - s) : 255;
    for (size_t i = 0; i < n; i++)
        out[i] = (char)(s[i] >= 'A' && s[i] <= 'Z' ? s[i] + 32 : s[i]);
    out[n] = '\0';
}

enum er_code node_resolve_host(const struct node_request *req,
                               struct ecr_host *out, char asked[256],
                               struct er_error *err)
{
    const char *alias = NULL;

    host_of(req->image, asked);
    if (req->aliases)
        alias = registry_alias_lookup(req->aliases, asked);
    if (alias && !*alias)
        return er_set(err, ER_USAGE,
                      "the alias %s (ECR_RENEW_REGISTRY_HOSTS or "
                      "--registry-host) has no =HOST; a node plugin needs "
                      "the registry it stands for",
                      asked);
    if (!ecr_host_parse(alias ? alias : asked, out))
        return er_set(err, ER_USAGE,
                      "%s%s%s is not an Amazon ECR registry host "
                      "(<account>.dkr.ecr.<region>.amazonaws.com, its FIPS, "
                      "dual-stack and other-partition forms, or "
                      "public.ecr.aws); if it is an alias, add NAME=HOST to "
                      "ECR_RENEW_REGISTRY_HOSTS or --registry-host",
                      alias ? alias : asked, alias ? ", the alias of " : "",
                      alias ? asked : "");
    return ER_OK;
}

/* Only the web identity source may answer: the other sources are
 * emptied, so a failed AssumeRoleWithWebIdentity fails the request. */
static void only_web_identity(struct aws_settings *s,
                              const struct node_request *req)
{
    struct aws_settings keep = {0};

    keep.role_arn = xstrdup(req->role_arn);
    keep.web_identity_token = xstrdup(req->web_identity_token);
    keep.role_session_name =
        xstrdup(req->session_name ? req->session_name : "ecr-renew");
    keep.imds_disabled = true;
    /* Where to call, and what to trust, stay as configured. */
    keep.endpoint_url = s->endpoint_url;
    keep.endpoint_url_ecr = s->endpoint_url_ecr;
    keep.endpoint_url_ecr_public = s->endpoint_url_ecr_public;
    keep.endpoint_url_sts = s->endpoint_url_sts;
    keep.ignore_configured_endpoint_urls = s->ignore_configured_endpoint_urls;
    keep.ca_bundle = s->ca_bundle;
    keep.ca_dir = s->ca_dir;
    s->endpoint_url = s->endpoint_url_ecr = s->endpoint_url_ecr_public = NULL;
    s->endpoint_url_sts = s->ca_bundle = s->ca_dir = NULL;
    keep.config_file = xstrdup("/nonexistent/ecr-renew-no-config");
    keep.credentials_file = xstrdup("/nonexistent/ecr-renew-no-credentials");
    keep.profile = xstrdup("default");
    aws_settings_free(s);
    *s = keep;
}

static enum er_code take(const struct ecr_tokens *t, const struct ecr_host *h,
                         struct node_creds *out, struct er_error *err)
{
    for (size_t i = 0; i < t->n; i++) {
        const struct ecr_token *k = &t->items[i];
        if (!h->is_public && (!k->account || strcmp(k->account, h->account)))
            continue;
        out->username = xstrdup(k->username);
        out->password = xstrdup(k->password);
        out->expires_at = k->expires_at;
        return ER_OK;
    }
    return er_set(err, ER_AWS, "ECR answered no token for %s", h->host);
}

enum er_code node_creds_get(const struct node_request *req,
                            struct aws_settings *settings,
                            const struct clock *clock,
                            const struct deadline *deadline,
                            struct node_creds *out, struct er_error *err)
{
    struct aws_session sess;
    struct ecr_tokens tokens = {0};
    char *region, *account;
    enum er_code rc;

    memset(out, 0, sizeof(*out));
    memset(&sess, 0, sizeof(sess));
    if ((rc = node_resolve_host(req, &out->host, out->asked, err)) != ER_OK) {
        aws_settings_free(settings);
        return rc;
    }
    if (req->web_identity_token && req->role_arn)
        only_web_identity(settings, req);
    /* The host says which endpoints: its FIPS and dual-stack forms. */
    settings->use_fips = out->host.fips;
    settings->use_dualstack = out->host.dualstack;
    region = out->host.region;
    account = out->host.account;
    rc = aws_session_open(&sess, settings, &region, 1, clock, deadline, err);
    if (rc == ER_OK && out->host.is_public)
        rc = aws_session_public_token(&sess, &tokens, err);
    else if (rc == ER_OK)
        rc = aws_session_tokens(&sess, &account, 1, &tokens, err);
    if (rc == ER_OK)
        rc = take(&tokens, &out->host, out, err);
    ecr_tokens_free(&tokens);
    aws_session_close(&sess);
    if (rc != ER_OK)
        node_creds_free(out);
    return rc;
}

void node_creds_free(struct node_creds *c)
{
    free(c->username);
    wipe_free_str(c->password);
    c->username = c->password = NULL;
}
