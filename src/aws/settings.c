#include "settings.h"
#include "../core/wipe.h"
#include "../core/strutil.h"
#include "../core/xalloc.h"

#include <dirent.h>
#include <stdlib.h>
#include <string.h>

void aws_settings_set(char **slot, const char *value)
{
    wipe_free_str(*slot);
    *slot = value && *value ? xstrdup(value) : NULL;
}

static char *env_dup(aws_env_lookup lookup, const char *name)
{
    const char *v = lookup(name);

    return v && *v ? xstrdup(v) : NULL;
}

static char *home_file(aws_env_lookup lookup, const char *rel)
{
    const char *home = lookup("HOME");

    return xasprintf("%s/%s", home && *home ? home : ".", rel);
}

static void read_files(struct aws_settings *s, aws_env_lookup lookup)
{
    s->profile = env_dup(lookup, "AWS_PROFILE");
    s->profile_explicit = s->profile != NULL;
    if (!s->profile)
        s->profile = xstrdup("default");
    s->credentials_file = env_dup(lookup, "AWS_SHARED_CREDENTIALS_FILE");
    if (!s->credentials_file)
        s->credentials_file = home_file(lookup, ".aws/credentials");
    s->config_file = env_dup(lookup, "AWS_CONFIG_FILE");
    if (!s->config_file)
        s->config_file = home_file(lookup, ".aws/config");
}

#define SYSTEM_CA_DIR "/etc/ssl/certs"

/* A hashed directory holds <hash>.0 links: the system one is used only
 * when it has been hashed (Debian's has; a bare folder of PEMs would
 * trust nothing). */
static bool hashed_dir(const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    bool found = false;

    if (!d)
        return false;
    while (!found && (e = readdir(d))) {
        size_t n = strlen(e->d_name);
        found = n == 10 && strcmp(e->d_name + 8, ".0") == 0 &&
                strspn(e->d_name, "0123456789abcdef") == 8;
    }
    closedir(d);
    return found;
}

static void read_trust(struct aws_settings *s, aws_env_lookup lookup)
{
    s->ca_bundle = env_dup(lookup, "AWS_CA_BUNDLE");
    if (!s->ca_bundle)
        s->ca_bundle = env_dup(lookup, "SSL_CERT_FILE");
    if (!s->ca_bundle)
        s->ca_dir = env_dup(lookup, "SSL_CERT_DIR");
    if (!s->ca_bundle && !s->ca_dir && hashed_dir(SYSTEM_CA_DIR))
        s->ca_dir = xstrdup(SYSTEM_CA_DIR);
}

static void read_endpoints(struct aws_settings *s, aws_env_lookup lookup)
{
    s->endpoint_url = env_dup(lookup, "AWS_ENDPOINT_URL");
    s->endpoint_url_ecr = env_dup(lookup, "AWS_ENDPOINT_URL_ECR");
    s->endpoint_url_ecr_public = env_dup(lookup, "AWS_ENDPOINT_URL_ECR_PUBLIC");
    s->endpoint_url_sts = env_dup(lookup, "AWS_ENDPOINT_URL_STS");
    s->use_fips = str_is_true(lookup("AWS_USE_FIPS_ENDPOINT"));
    s->use_dualstack = str_is_true(lookup("AWS_USE_DUALSTACK_ENDPOINT"));
    s->ignore_configured_endpoint_urls =
        str_is_true(lookup("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS"));
}

void aws_settings_from_env(struct aws_settings *s, aws_env_lookup lookup)
{
    memset(s, 0, sizeof(*s));
    s->region_env = env_dup(lookup, "AWS_REGION");
    s->default_region_env = env_dup(lookup, "AWS_DEFAULT_REGION");
    s->access_key_id = env_dup(lookup, "AWS_ACCESS_KEY_ID");
    s->secret_access_key = env_dup(lookup, "AWS_SECRET_ACCESS_KEY");
    s->session_token = env_dup(lookup, "AWS_SESSION_TOKEN");
    s->role_arn = env_dup(lookup, "AWS_ROLE_ARN");
    s->web_identity_token_file = env_dup(lookup, "AWS_WEB_IDENTITY_TOKEN_FILE");
    s->role_session_name = env_dup(lookup, "AWS_ROLE_SESSION_NAME");
    read_files(s, lookup);
    s->container_full_uri =
        env_dup(lookup, "AWS_CONTAINER_CREDENTIALS_FULL_URI");
    s->container_relative_uri =
        env_dup(lookup, "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI");
    s->container_auth_token =
        env_dup(lookup, "AWS_CONTAINER_AUTHORIZATION_TOKEN");
    s->container_auth_token_file =
        env_dup(lookup, "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE");
    s->imds_endpoint = env_dup(lookup, "AWS_EC2_METADATA_SERVICE_ENDPOINT");
    s->imds_disabled = str_is_true(lookup("AWS_EC2_METADATA_DISABLED"));
    read_endpoints(s, lookup);
    read_trust(s, lookup);
}

void aws_settings_free(struct aws_settings *s)
{
    char **plain[] = {
        &s->region_env,
        &s->default_region_env,
        &s->access_key_id,
        &s->role_arn,
        &s->web_identity_token_file,
        &s->role_session_name,
        &s->profile,
        &s->credentials_file,
        &s->config_file,
        &s->container_full_uri,
        &s->container_relative_uri,
        &s->container_auth_token_file,
        &s->imds_endpoint,
        &s->endpoint_url,
        &s->endpoint_url_ecr,
        &s->endpoint_url_ecr_public,
        &s->ca_bundle,
        &s->ca_dir,
        &s->endpoint_url_sts,
    };

    for (size_t i = 0; i < sizeof(plain) / sizeof(plain[0]); i++) {
        free(*plain[i]);
        *plain[i] = NULL;
    }
    wipe_free_str(s->secret_access_key);
    wipe_free_str(s->session_token);
    wipe_free_str(s->container_auth_token);
    wipe_free_str(s->web_identity_token);
    s->secret_access_key = s->session_token = s->container_auth_token = NULL;
    s->web_identity_token = NULL;
}
