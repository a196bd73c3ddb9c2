/*
 * Reading the AWS environment through a lookup function, so the tests
 * never touch the real process environment.
 */
#include "aws/settings.h"
#include "test_assert.h"
#include "test_util.h"

#include <stdlib.h>
#include <string.h>

/* The fake environment: name/value pairs up to a NULL name. */
struct env_var {
    const char *name;
    const char *value;
};

static const struct env_var *fake_env;

static const char *fake_lookup(const char *name)
{
    for (size_t i = 0; fake_env && fake_env[i].name; i++) {
        if (strcmp(fake_env[i].name, name) == 0)
            return fake_env[i].value;
    }
    return NULL;
}

static void read_env(struct aws_settings *s, const struct env_var *env)
{
    fake_env = env;
    aws_settings_from_env(s, fake_lookup);
}

static void aws_settings_from_env__everything_set__copied(void **state)
{
    static const struct env_var env[] = {
        {"AWS_REGION", "eu-west-1"},
        {"AWS_DEFAULT_REGION", "us-east-2"},
        {"AWS_ACCESS_KEY_ID", "AKIDEXAMPLE"},
        {"AWS_SECRET_ACCESS_KEY", "test-secret-not-real"},
        {"AWS_SESSION_TOKEN", "test-session-token"},
        {"AWS_ROLE_ARN", "arn:aws:iam::123456789012:role/r"},
        {"AWS_WEB_IDENTITY_TOKEN_FILE", "/var/run/token"},
        {"AWS_ROLE_SESSION_NAME", "sess"},
        {"AWS_PROFILE", "dev"},
        {"AWS_SHARED_CREDENTIALS_FILE", "/etc/aws/credentials"},
        {"AWS_CONFIG_FILE", "/etc/aws/config"},
        {"AWS_CONTAINER_CREDENTIALS_FULL_URI", "http://169.254.170.23/v1/c"},
        {"AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "/v2/credentials/x"},
        {"AWS_CONTAINER_AUTHORIZATION_TOKEN", "test-auth"},
        {"AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE", "/var/run/auth"},
        {"AWS_EC2_METADATA_SERVICE_ENDPOINT", "http://[fd00:ec2::254]"},
        {"AWS_EC2_METADATA_DISABLED", "true"},
        {"AWS_ENDPOINT_URL", "http://127.0.0.1:4566"},
        {"AWS_ENDPOINT_URL_ECR", "http://127.0.0.1:5000"},
        {"AWS_ENDPOINT_URL_STS", "http://127.0.0.1:5001"},
        {"AWS_USE_FIPS_ENDPOINT", "true"},
        {"AWS_USE_DUALSTACK_ENDPOINT", "TRUE"},
        {"AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", "true"},
        {NULL, NULL},
    };
    struct aws_settings s;

    read_env(&s, env);
    assert_string_equal(s.region_env, "eu-west-1");
    assert_string_equal(s.default_region_env, "us-east-2");
    assert_string_equal(s.access_key_id, "AKIDEXAMPLE");
    assert_string_equal(s.secret_access_key, "test-secret-not-real");
    assert_string_equal(s.session_token, "test-session-token");
    assert_string_equal(s.role_arn, "arn:aws:iam::123456789012:role/r");
    assert_string_equal(s.web_identity_token_file, "/var/run/token");
    assert_string_equal(s.role_session_name, "sess");
    assert_string_equal(s.profile, "dev");
    assert_true(s.profile_explicit);
    assert_string_equal(s.credentials_file, "/etc/aws/credentials");
    assert_string_equal(s.config_file, "/etc/aws/config");
    assert_string_equal(s.container_full_uri, "http://169.254.170.23/v1/c");
    assert_string_equal(s.container_relative_uri, "/v2/credentials/x");
    assert_string_equal(s.container_auth_token, "test-auth");
    assert_string_equal(s.container_auth_token_file, "/var/run/auth");
    assert_string_equal(s.imds_endpoint, "http://[fd00:ec2::254]");
    assert_true(s.imds_disabled);
    assert_string_equal(s.endpoint_url, "http://127.0.0.1:4566");
    assert_string_equal(s.endpoint_url_ecr, "http://127.0.0.1:5000");
    assert_string_equal(s.endpoint_url_sts, "http://127.0.0.1:5001");
    assert_true(s.use_fips);
    assert_true(s.use_dualstack);
    assert_true(s.ignore_configured_endpoint_urls);
    aws_settings_free(&s);
}

static void aws_settings_from_env__nothing_set__defaults(void **state)
{
    static const struct env_var env[] = {
        {"HOME", "/home/runner"},
        {NULL, NULL},
    };
    struct aws_settings s;

    read_env(&s, env);
    assert_string_equal(s.profile, "default");
    assert_false(s.profile_explicit);
    assert_string_equal(s.credentials_file, "/home/runner/.aws/credentials");
    assert_string_equal(s.config_file, "/home/runner/.aws/config");
    assert_null(s.region_env);
    assert_null(s.access_key_id);
    assert_null(s.secret_access_key);
    assert_null(s.role_arn);
    assert_null(s.container_full_uri);
    assert_null(s.imds_endpoint);
    assert_null(s.endpoint_url);
    assert_false(s.imds_disabled);
    assert_false(s.use_fips);
    assert_false(s.use_dualstack);
    assert_false(s.ignore_configured_endpoint_urls);
    aws_settings_free(&s);
}

static void aws_settings_from_env__no_home__files_relative_to_cwd(void **state)
{
    static const struct env_var env[] = {
        {NULL, NULL},
    };
    struct aws_settings s;

    read_env(&s, env);
    assert_string_equal(s.credentials_file, "./.aws/credentials");
    assert_string_equal(s.config_file, "./.aws/config");
    aws_settings_free(&s);
}

/* As in the SDKs, VAR= counts as unset: an empty AWS_PROFILE must not
 * name a profile called "", and empty keys must not count as keys. */
static void aws_settings_from_env__empty_values__treated_as_unset(void **state)
{
    static const struct env_var env[] = {
        {"HOME", ""},
        {"AWS_REGION", ""},
        {"AWS_ACCESS_KEY_ID", ""},
        {"AWS_SECRET_ACCESS_KEY", ""},
        {"AWS_PROFILE", ""},
        {"AWS_SHARED_CREDENTIALS_FILE", ""},
        {"AWS_CONFIG_FILE", ""},
        {"AWS_ROLE_ARN", ""},
        {"AWS_CONTAINER_CREDENTIALS_FULL_URI", ""},
        {"AWS_ENDPOINT_URL", ""},
        {"AWS_ENDPOINT_URL_ECR", ""},
        {"AWS_USE_FIPS_ENDPOINT", ""},
        {"AWS_EC2_METADATA_DISABLED", ""},
        {NULL, NULL},
    };
    struct aws_settings s;

    read_env(&s, env);
    assert_null(s.region_env);
    assert_null(s.access_key_id);
    assert_null(s.secret_access_key);
    assert_string_equal(s.profile, "default");
    assert_false(s.profile_explicit);
    assert_string_equal(s.credentials_file, "./.aws/credentials");
    assert_string_equal(s.config_file, "./.aws/config");
    assert_null(s.role_arn);
    assert_null(s.container_full_uri);
    assert_null(s.endpoint_url);
    assert_null(s.endpoint_url_ecr);
    assert_false(s.use_fips);
    assert_false(s.imds_disabled);
    aws_settings_free(&s);
}

static void aws_settings_from_env__false_spellings__switches_off(void **state)
{
    static const struct env_var env[] = {
        {"AWS_USE_FIPS_ENDPOINT", "false"},
        {"AWS_USE_DUALSTACK_ENDPOINT", "0"},
        {"AWS_EC2_METADATA_DISABLED", "no"},
        {"AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", "off"},
        {NULL, NULL},
    };
    struct aws_settings s;

    read_env(&s, env);
    assert_false(s.use_fips);
    assert_false(s.use_dualstack);
    assert_false(s.imds_disabled);
    assert_false(s.ignore_configured_endpoint_urls);
    aws_settings_free(&s);
}

static void aws_settings_set__values__replaced_or_cleared(void **state)
{
    struct aws_settings s = {0};

    aws_settings_set(&s.region_env, "us-west-1");
    assert_string_equal(s.region_env, "us-west-1");
    aws_settings_set(&s.region_env, "eu-north-1");
    assert_string_equal(s.region_env, "eu-north-1");
    aws_settings_set(&s.region_env, "");
    assert_null(s.region_env);
    aws_settings_set(&s.secret_access_key, "test-secret");
    aws_settings_set(&s.secret_access_key, NULL);
    assert_null(s.secret_access_key);
    aws_settings_free(&s);
}

static void aws_settings_free__twice__safe_and_cleared(void **state)
{
    static const struct env_var env[] = {
        {"AWS_SECRET_ACCESS_KEY", "x"},
        {"AWS_ACCESS_KEY_ID", "y"},
        {NULL, NULL},
    };
    struct aws_settings s;

    read_env(&s, env);
    aws_settings_free(&s);
    assert_null(s.secret_access_key);
    assert_null(s.access_key_id);
    assert_null(s.profile);
    aws_settings_free(&s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(aws_settings_from_env__everything_set__copied),
        cmocka_unit_test(aws_settings_from_env__nothing_set__defaults),
        cmocka_unit_test(aws_settings_from_env__no_home__files_relative_to_cwd),
        cmocka_unit_test(aws_settings_from_env__empty_values__treated_as_unset),
        cmocka_unit_test(aws_settings_from_env__false_spellings__switches_off),
        cmocka_unit_test(aws_settings_set__values__replaced_or_cleared),
        cmocka_unit_test(aws_settings_free__twice__safe_and_cleared),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
