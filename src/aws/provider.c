#include "provider.h"
#include "../core/buf.h"
#include "../core/fileio.h"
#include "../core/log.h"
#include "../core/wipe.h"
#include "../core/strutil.h"
#include "../core/timeutil.h"
#include "../core/xalloc.h"
#include "container.h"
#include "endpoints.h"
#include "imds.h"
#include "sts.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PROFILE_MAX_DEPTH 4
#define WEB_TOKEN_CAP (64u * 1024)

struct outcome {
    bool applies;
    char why_not[400];
};

struct aws_provider {
    const struct aws_settings *s;
    const struct aws_profile_files *files;
    struct aws_client *c;
    const char *region;
    struct imds imds;
    struct aws_credentials cached;
    bool have;
    int source; /* index into sources[] once one applied, else -1 */
};

typedef enum er_code source_fn(struct aws_provider *p,
                               struct aws_credentials *out, struct outcome *o,
                               struct er_error *err);

static void not_applicable(struct outcome *o, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void not_applicable(struct outcome *o, const char *fmt, ...)
{
    va_list ap;

    o->applies = false;
    va_start(ap, fmt);
    vsnprintf(o->why_not, sizeof(o->why_not), fmt, ap);
    va_end(ap);
}

/* --- web identity (shared by the environment and profile forms) ------- */

static enum er_code web_identity(struct aws_provider *p, const char *role_arn,
                                 const char *token_file, const char *token_text,
                                 const char *session_name,
                                 struct aws_credentials *out,
                                 struct er_error *err)
{
    struct sts_assume a = {
        .region = p->region,
        .role_arn = role_arn,
        .session_name = session_name,
    };
    char *endpoint = NULL, *token = NULL;
    enum er_code rc;

    if (!p->region)
        return er_set(err, ER_USAGE,
                      "web identity needs a region for the regional STS "
                      "endpoint: pass --region or set AWS_REGION");
    /* The token file is re-read on every refresh: kubelet rotates it. */
    if (token_text)
        token = xstrdup(token_text);
    else if ((rc = file_read_token(token_file, "web identity token file",
                                   WEB_TOKEN_CAP, &token, err)) != ER_OK)
        goto out;
    if ((rc = aws_sts_endpoint(p->s, p->region, &endpoint, err)) != ER_OK)
        goto out;
    a.endpoint = endpoint;
    rc = sts_assume_role_with_web_identity(p->c, &a, token, out, err);
    if (rc == ER_OK)
        snprintf(out->source, sizeof(out->source), "web identity (%s)",
                 role_arn);
out:
    wipe_free_str(token);
    free(endpoint);
    return rc;
}

/* --- environment ------------------------------------------------------- */

static enum er_code from_env(struct aws_provider *p,
                             struct aws_credentials *out, struct outcome *o,
                             struct er_error *err)
{
    const struct aws_settings *s = p->s;

    if (!s->access_key_id && !s->secret_access_key) {
        not_applicable(o, "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY are "
                          "not set");
        return ER_OK;
    }
    if (!s->access_key_id || !s->secret_access_key)
        return er_set(
            err, ER_CONFIG, "%s is set but %s is not",
            s->access_key_id ? "AWS_ACCESS_KEY_ID" : "AWS_SECRET_ACCESS_KEY",
            s->access_key_id ? "AWS_SECRET_ACCESS_KEY" : "AWS_ACCESS_KEY_ID");
    memset(out, 0, sizeof(*out));
    out->access_key_id = xstrdup(s->access_key_id);
    out->secret_access_key = xstrdup(s->secret_access_key);
    if (s->session_token)
        out->session_token = xstrdup(s->session_token);
    snprintf(out->source, sizeof(out->source), "environment");
    o->applies = true;
    return ER_OK;
}

static enum er_code from_web_identity_env(struct aws_provider *p,
                                          struct aws_credentials *out,
                                          struct outcome *o,
                                          struct er_error *err)
{
    const struct aws_settings *s = p->s;

    if (s->role_arn && s->web_identity_token) {
        o->applies = true;
        return web_identity(p, s->role_arn, NULL, s->web_identity_token,
                            s->role_session_name, out, err);
    }
    if (!s->role_arn || !s->web_identity_token_file) {
        not_applicable(o, "%s",
                       s->role_arn ? "AWS_ROLE_ARN is set but "
                                     "AWS_WEB_IDENTITY_TOKEN_FILE is not"
                       : s->web_identity_token_file
                           ? "AWS_WEB_IDENTITY_TOKEN_FILE is set but "
                             "AWS_ROLE_ARN is not"
                           : "AWS_ROLE_ARN and AWS_WEB_IDENTITY_TOKEN_FILE "
                             "are not set");
        return ER_OK;
    }
    o->applies = true;
    return web_identity(p, s->role_arn, s->web_identity_token_file, NULL,
                        s->role_session_name, out, err);
}

/* --- container and instance metadata ---------------------------------- */

static enum er_code from_container(struct aws_provider *p,
                                   struct aws_credentials *out,
                                   struct outcome *o, struct er_error *err)
{
    enum er_code rc;

    if (!container_configured(p->s)) {
        not_applicable(o, "AWS_CONTAINER_CREDENTIALS_FULL_URI and "
                          "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI are not "
                          "set");
        return ER_OK;
    }
    o->applies = true;
    rc = container_fetch(p->c, p->s, out, err);
    if (rc == ER_OK)
        snprintf(out->source, sizeof(out->source), "container credentials");
    return rc;
}

static enum er_code imds_role(struct aws_provider *p, char **role,
                              struct outcome *o, struct er_error *err)
{
    struct buf body = BUF_INIT;
    long status = 0;
    size_t n;
    const char *r;
    enum er_code rc;

    rc = imds_get(&p->imds, "/latest/meta-data/iam/security-credentials/",
                  &body, &status, err);
    if (rc == ER_NETWORK) {
        not_applicable(o, "no instance metadata service answered (%s)",
                       err->msg);
        rc = ER_OK;
    } else if (rc == ER_OK && status == 404) {
        not_applicable(o, "the instance has no IAM role attached");
    } else if (rc == ER_OK && status != 200) {
        rc = er_set(err, ER_AWS, "instance metadata: role list: HTTP %ld",
                    status);
    } else if (rc == ER_OK) {
        r = str_trim(buf_str(&body), &n);
        n = strcspn(r, "\n");
        *role = xstrndup(r, n);
        o->applies = n > 0;
        if (!o->applies)
            not_applicable(o, "the instance has no IAM role attached");
    }
    buf_free(&body);
    return rc;
}

static enum er_code from_imds(struct aws_provider *p,
                              struct aws_credentials *out, struct outcome *o,
                              struct er_error *err)
{
    struct buf body = BUF_INIT_SECRET;
    char *role = NULL, *path = NULL;
    long status = 0;
    enum er_code rc;

    if (p->s->imds_disabled) {
        not_applicable(o, "AWS_EC2_METADATA_DISABLED is true");
        return ER_OK;
    }
    rc = imds_role(p, &role, o, err);
    if (rc != ER_OK || !o->applies)
        goto out;
    path = xasprintf("/latest/meta-data/iam/security-credentials/%s", role);
    rc = imds_get(&p->imds, path, &body, &status, err);
    if (rc == ER_OK && status != 200)
        rc = er_set(err, ER_AWS,
                    "instance metadata: credentials of role %s: "
                    "HTTP %ld",
                    role, status);
    if (rc == ER_OK)
        rc = imds_parse_credentials(body.data, body.len, out, err);
    if (rc == ER_OK)
        snprintf(out->source, sizeof(out->source),
                 "instance metadata (role %s)", role);
out:
    buf_free(&body);
    free(role);
    free(path);
    return rc;
}

/* --- shared files -------------------------------------------------------- */

static enum er_code resolve_profile(struct aws_provider *p, const char *name,
                                    int depth, struct aws_credentials *out,
                                    struct outcome *o, struct er_error *err);

static const char *pget(struct aws_provider *p, const char *profile,
                        const char *key)
{
    return aws_profile_get(p->files, profile, key);
}

static enum er_code static_keys(struct aws_provider *p, const char *name,
                                struct aws_credentials *out,
                                struct er_error *err)
{
    const char *akid = pget(p, name, "aws_access_key_id");
    const char *secret = pget(p, name, "aws_secret_access_key");
    const char *token = pget(p, name, "aws_session_token");
    char where[512];

    if (!secret || !*secret || !akid || !*akid) {
        aws_profile_where(p->files, name,
                          akid ? "aws_access_key_id" : "aws_secret_access_key",
                          where, sizeof(where));
        return er_set(err, ER_CONFIG, "%s: profile %s has %s but not %s", where,
                      name,
                      akid ? "aws_access_key_id" : "aws_secret_access_key",
                      akid ? "aws_secret_access_key" : "aws_access_key_id");
    }
    memset(out, 0, sizeof(*out));
    out->access_key_id = xstrdup(akid);
    out->secret_access_key = xstrdup(secret);
    out->session_token = token && *token ? xstrdup(token) : NULL;
    snprintf(out->source, sizeof(out->source), "profile %s", name);
    return ER_OK;
}

/* credential_source names where a role's source credentials come from
 * when there is no source_profile (used on EC2 and in containers). */
static enum er_code credential_source(struct aws_provider *p, const char *name,
                                      const char *kind,
                                      struct aws_credentials *out,
                                      struct er_error *err)
{
    struct outcome o = {0};
    enum er_code rc;
    char where[512];

    if (strcmp(kind, "Environment") == 0)
        rc = from_env(p, out, &o, err);
    else if (strcmp(kind, "Ec2InstanceMetadata") == 0)
        rc = from_imds(p, out, &o, err);
    else if (strcmp(kind, "EcsContainer") == 0)
        rc = from_container(p, out, &o, err);
    else {
        aws_profile_where(p->files, name, "credential_source", where,
                          sizeof(where));
        return er_set(err, ER_CONFIG,
                      "%s: credential_source \"%s\" is not Environment, "
                      "Ec2InstanceMetadata or EcsContainer",
                      where, kind);
    }
    if (rc == ER_OK && !o.applies)
        rc = er_set(err, ER_NO_CREDS, "profile %s: credential_source %s: %s",
                    name, kind, o.why_not);
    return rc;
}

static enum er_code source_credentials(struct aws_provider *p, const char *name,
                                       int depth, struct aws_credentials *out,
                                       struct er_error *err)
{
    const char *source = pget(p, name, "source_profile");
    const char *kind = pget(p, name, "credential_source");
    struct outcome o = {0};
    char where[512];
    enum er_code rc;

    if (source && strcmp(source, name) == 0)
        return static_keys(p, name, out, err);
    if (source) {
        rc = resolve_profile(p, source, depth + 1, out, &o, err);
        if (rc == ER_OK && !o.applies)
            rc = er_set(err, ER_CONFIG, "profile %s: source_profile %s: %s",
                        name, source, o.why_not);
        return rc;
    }
    if (kind)
        return credential_source(p, name, kind, out, err);
    aws_profile_where(p->files, name, "role_arn", where, sizeof(where));
    return er_set(err, ER_CONFIG,
                  "%s: profile %s has role_arn but none of source_profile, "
                  "credential_source or web_identity_token_file",
                  where, name);
}

static enum er_code assume_profile_role(struct aws_provider *p,
                                        const char *name, int depth,
                                        struct aws_credentials *out,
                                        struct er_error *err)
{
    const char *role = pget(p, name, "role_arn");
    const char *token_file = pget(p, name, "web_identity_token_file");
    struct sts_assume a = {
        .region = p->region,
        .role_arn = role,
        .session_name = pget(p, name, "role_session_name"),
        .external_id = pget(p, name, "external_id"),
    };
    struct aws_credentials source = {0};
    char *endpoint = NULL;
    enum er_code rc;

    if (token_file)
        return web_identity(p, role, token_file, NULL, a.session_name, out,
                            err);
    if ((rc = source_credentials(p, name, depth, &source, err)) != ER_OK)
        return rc;
    if ((rc = aws_credentials_check(&source, "source credentials", ER_CONFIG,
                                    err)) != ER_OK)
        er_wrap(err, "profile %s", name);
    else if (!p->region)
        rc = er_set(err, ER_USAGE,
                    "profile %s: assuming %s needs a region: "
                    "pass --region or set AWS_REGION",
                    name, role);
    else if ((rc = aws_sts_endpoint(p->s, p->region, &endpoint, err)) ==
             ER_OK) {
        a.endpoint = endpoint;
        rc = sts_assume_role(p->c, &a, &source, out, err);
    }
    if (rc == ER_OK)
        snprintf(out->source, sizeof(out->source), "profile %s (%s)", name,
                 role);
    aws_credentials_free(&source);
    free(endpoint);
    return rc;
}

static enum er_code resolve_profile(struct aws_provider *p, const char *name,
                                    int depth, struct aws_credentials *out,
                                    struct outcome *o, struct er_error *err)
{
    if (depth > PROFILE_MAX_DEPTH)
        return er_set(err, ER_CONFIG,
                      "profile %s: source_profile chain is "
                      "longer than %d or circular",
                      name, PROFILE_MAX_DEPTH);
    if (!aws_profile_exists(p->files, name)) {
        not_applicable(o, "profile %s is in neither %s nor %s", name,
                       p->files->credentials_path, p->files->config_path);
        return ER_OK;
    }
    o->applies = true;
    if (pget(p, name, "role_arn"))
        return assume_profile_role(p, name, depth, out, err);
    if (pget(p, name, "aws_access_key_id") ||
        pget(p, name, "aws_secret_access_key"))
        return static_keys(p, name, out, err);
    not_applicable(o, "profile %s has no credentials%s", name,
                   pget(p, name, "credential_process") ||
                           pget(p, name, "sso_session") ||
                           pget(p, name, "sso_start_url")
                       ? " that ecr-renew can use (credential_process and "
                         "SSO are not supported)"
                       : "");
    return ER_OK;
}

static enum er_code from_profile(struct aws_provider *p,
                                 struct aws_credentials *out, struct outcome *o,
                                 struct er_error *err)
{
    enum er_code rc = resolve_profile(p, p->s->profile, 0, out, o, err);

    /* A profile asked for by name must exist; the default one may not. */
    if (rc == ER_OK && !o->applies && p->s->profile_explicit &&
        !aws_profile_exists(p->files, p->s->profile))
        return er_set(err, ER_CONFIG, "AWS_PROFILE: %s", o->why_not);
    return rc;
}

/* --- the chain ----------------------------------------------------------- */

static const struct {
    const char *name;
    source_fn *fn;
} sources[] = {
    {"environment", from_env},
    {"web identity", from_web_identity_env},
    {"shared files", from_profile},
    {"container credentials", from_container},
    {"instance metadata (IMDSv2)", from_imds},
};

#define N_SOURCES ((int)(sizeof(sources) / sizeof(sources[0])))

struct aws_provider *aws_provider_new(const struct aws_settings *s,
                                      const struct aws_profile_files *files,
                                      struct aws_client *c, const char *region)
{
    struct aws_provider *p = xcalloc(1, sizeof(*p));

    p->s = s;
    p->files = files;
    p->c = c;
    p->region = region;
    p->source = -1;
    imds_init(&p->imds, c, s);
    return p;
}

void aws_provider_free(struct aws_provider *p)
{
    if (!p)
        return;
    aws_credentials_free(&p->cached);
    imds_free(&p->imds);
    free(p);
}

static enum er_code nothing_found(const struct outcome *o, struct er_error *err)
{
    struct buf msg = BUF_INIT;
    enum er_code rc;

    buf_must_adds(&msg, "no AWS credentials found. Tried, in order:");
    for (int i = 0; i < N_SOURCES; i++)
        buf_must_addf(&msg, " %d. %s: %s;", i + 1, sources[i].name,
                      o[i].why_not);
    buf_must_adds(&msg, " On EKS, annotate the ServiceAccount with "
                        "eks.amazonaws.com/role-arn (IRSA) or add a Pod "
                        "Identity association");
    rc = er_set(err, ER_NO_CREDS, "%s", buf_str(&msg));
    buf_free(&msg);
    return rc;
}

static bool source_is_local(int source)
{
    return strcmp(sources[source].name, "environment") == 0 ||
           strcmp(sources[source].name, "shared files") == 0;
}

/* Whatever a source handed over is checked before it signs anything,
 * and is of no use once expired. */
static enum er_code check_fetched(struct aws_provider *p,
                                  struct aws_credentials *c, int source,
                                  struct er_error *err)
{
    char what[160], until[TIME_RFC3339_LEN];
    enum er_code rc;

    snprintf(what, sizeof(what), "%s credentials", sources[source].name);
    /* The environment and the files are the user's to fix; the rest came
     * in an answer. */
    rc = aws_credentials_check(
        c, what, source_is_local(source) ? ER_CONFIG : ER_PARSE, err);
    if (rc == ER_OK && c->expiration &&
        c->expiration <= clock_now(p->c->clock)) {
        time_format_rfc3339(c->expiration, until);
        rc = er_set(err, ER_AWS,
                    "%s expired at %s, before they could be used. Fix: check "
                    "this machine's clock",
                    what, until);
    }
    if (rc != ER_OK)
        aws_credentials_free(c);
    return rc;
}

static enum er_code run_chain(struct aws_provider *p,
                              struct aws_credentials *out, struct er_error *err)
{
    struct outcome o[N_SOURCES];
    enum er_code rc;

    memset(o, 0, sizeof(o));
    for (int i = 0; i < N_SOURCES; i++) {
        rc = sources[i].fn(p, out, &o[i], err);
        if (rc != ER_OK)
            return er_wrap(err, "%s credentials", sources[i].name);
        if (o[i].applies) {
            p->source = i;
            return check_fetched(p, out, i, err);
        }
    }
    return nothing_found(o, err);
}

/* Once a source applied, refreshes go back to it alone. */
static enum er_code fetch(struct aws_provider *p, struct aws_credentials *out,
                          struct er_error *err)
{
    struct outcome o = {0};
    enum er_code rc;

    if (p->source < 0)
        return run_chain(p, out, err);
    rc = sources[p->source].fn(p, out, &o, err);
    if (rc == ER_OK && !o.applies)
        rc = er_set(err, ER_NO_CREDS, "%s credentials: %s",
                    sources[p->source].name, o.why_not);
    else if (rc != ER_OK)
        er_wrap(err, "%s credentials", sources[p->source].name);
    else
        rc = check_fetched(p, out, p->source, err);
    return rc;
}

static bool fresh_enough(const struct aws_credentials *c, time_t now)
{
    return c->expiration == 0 || c->expiration - now > PROVIDER_REFRESH_WINDOW;
}

enum er_code aws_provider_get(struct aws_provider *p,
                              const struct aws_credentials **out,
                              struct er_error *err)
{
    struct aws_credentials fresh = {0};
    time_t now = clock_now(p->c->clock);
    char until[TIME_RFC3339_LEN];
    enum er_code rc;

    if (p->have && fresh_enough(&p->cached, now)) {
        *out = &p->cached;
        return ER_OK;
    }
    rc = fetch(p, &fresh, err);
    if (rc == ER_OK) {
        aws_credentials_free(&p->cached);
        p->cached = fresh;
        p->have = true;
        log_event(LOG_DEBUG, "AWS credentials obtained", "source",
                  p->cached.source, LOG_END);
    } else if (p->have && p->cached.expiration > now) {
        time_format_rfc3339(p->cached.expiration, until);
        log_event(LOG_WARN,
                  "credential refresh failed; using cached "
                  "credentials",
                  "valid_until", until, "error", err->msg, LOG_END);
        rc = ER_OK;
    }
    if (rc == ER_OK)
        *out = &p->cached;
    return rc;
}
