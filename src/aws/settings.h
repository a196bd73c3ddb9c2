/*
 * settings.h - the AWS configuration a run starts from.
 *
 * Everything the AWS SDKs read from the environment is read here, once,
 * into a struct the rest of the AWS side receives. Nothing else calls
 * getenv for AWS settings, so tests build a struct instead of juggling
 * the process environment.
 *
 * Ownership: the struct owns its strings; aws_settings_free wipes the
 * secret ones (keys, session token, container authorization token).
 */
#ifndef ECR_RENEW_AWS_SETTINGS_H
#define ECR_RENEW_AWS_SETTINGS_H

#include <stdbool.h>

struct aws_settings {
    /* Region: AWS_REGION, AWS_DEFAULT_REGION (then profile, IMDS); the
     * --region option is passed to aws_session_open separately. */
    char *region_env;
    char *default_region_env;

    /* Environment credentials */
    char *access_key_id;
    char *secret_access_key; /* secret */
    char *session_token;     /* secret */

    /* Web identity (IRSA) */
    char *role_arn;
    char *web_identity_token_file;
    char *web_identity_token; /* secret: given in memory (the kubelet's
                               * ServiceAccount token), instead of the file */
    char *role_session_name;

    /* Shared files */
    char *profile;          /* AWS_PROFILE, else "default" */
    bool profile_explicit;  /* set by AWS_PROFILE or --profile */
    char *credentials_file; /* AWS_SHARED_CREDENTIALS_FILE or ~/.aws/... */
    char *config_file;      /* AWS_CONFIG_FILE or ~/.aws/config */

    /* Container credentials (EKS Pod Identity, ECS) */
    char *container_full_uri;
    char *container_relative_uri;
    char *container_auth_token; /* secret */
    char *container_auth_token_file;

    /* IMDS */
    char *imds_endpoint; /* AWS_EC2_METADATA_SERVICE_ENDPOINT */
    bool imds_disabled;  /* AWS_EC2_METADATA_DISABLED=true */

    /* Trust: AWS_CA_BUNDLE wins over SSL_CERT_FILE, then SSL_CERT_DIR;
     * without any, the hashed system directory when it exists (lazy),
     * else libcurl's default bundle. */
    char *ca_bundle; /* a PEM file */
    char *ca_dir;    /* a hashed directory */

    /* Endpoints */
    char *endpoint_url;                   /* AWS_ENDPOINT_URL */
    char *endpoint_url_ecr;               /* AWS_ENDPOINT_URL_ECR */
    char *endpoint_url_ecr_public;        /* AWS_ENDPOINT_URL_ECR_PUBLIC */
    char *endpoint_url_sts;               /* AWS_ENDPOINT_URL_STS */
    bool use_fips;                        /* AWS_USE_FIPS_ENDPOINT=true */
    bool use_dualstack;                   /* AWS_USE_DUALSTACK_ENDPOINT=true */
    bool ignore_configured_endpoint_urls; /* AWS_IGNORE_CONFIGURED_... */
};

/* Looks a variable up; returns NULL when unset. getenv fits. */
typedef const char *(*aws_env_lookup)(const char *name);

/* Fills s from the environment through lookup. Empty values count as
 * unset, as in the SDKs. */
void aws_settings_from_env(struct aws_settings *s, aws_env_lookup lookup);

void aws_settings_free(struct aws_settings *s);

/* Replaces *slot with a copy of value (NULL clears it). */
void aws_settings_set(char **slot, const char *value);

#endif
