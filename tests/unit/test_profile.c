/*
 * The shared credentials and config files read together, as the AWS CLI
 * reads them.
 */
#include "aws/profile.h"
#include "aws/settings.h"
#include "core/xalloc.h"
#include "test_assert.h"
#include "test_util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int file_counter;

/* Writes the two files (NULL: leave that file absent) and loads them. */
static enum er_code load(const char *credentials, const char *config,
                         struct aws_profile_files *out, struct er_error *err)
{
    struct aws_settings s = {0};
    char name[64];
    enum er_code rc;

    file_counter++;
    snprintf(name, sizeof(name), "credentials-%d", file_counter);
    s.credentials_file = credentials ? test_write_temp(name, credentials)
                                     : xasprintf("/nonexistent/%s", name);
    snprintf(name, sizeof(name), "config-%d", file_counter);
    s.config_file = config ? test_write_temp(name, config)
                           : xasprintf("/nonexistent/%s", name);
    rc = aws_profile_load(&s, out, err);
    aws_settings_free(&s);
    return rc;
}

static void load_ok(const char *credentials, const char *config,
                    struct aws_profile_files *out)
{
    struct er_error err = {0};

    if (load(credentials, config, out, &err) != ER_OK)
        fail_msg("aws_profile_load failed: %s", err.msg);
}

static void aws_profile_get__both_files__credentials_file_wins(void **state)
{
    struct aws_profile_files f;

    load_ok("[dev]\naws_access_key_id = FROM_CREDENTIALS\n",
            "[profile dev]\naws_access_key_id = FROM_CONFIG\n"
            "region = eu-central-1\n",
            &f);
    assert_string_equal(aws_profile_get(&f, "dev", "aws_access_key_id"),
                        "FROM_CREDENTIALS");
    /* Keys only the config file has still come from it. */
    assert_string_equal(aws_profile_get(&f, "dev", "region"), "eu-central-1");
    assert_null(aws_profile_get(&f, "dev", "output"));
    aws_profile_free(&f);
}

static void
aws_profile_get__config_named_profile__needs_profile_prefix(void **state)
{
    struct aws_profile_files f;

    load_ok(NULL,
            "[dev]\nregion = wrong\n"
            "[profile prod]\nregion = us-west-2\n",
            &f);
    assert_null(aws_profile_get(&f, "dev", "region"));
    assert_string_equal(aws_profile_get(&f, "prod", "region"), "us-west-2");
    assert_false(aws_profile_exists(&f, "dev"));
    assert_true(aws_profile_exists(&f, "prod"));
    aws_profile_free(&f);
}

static void
aws_profile_get__default_profile__plain_default_section(void **state)
{
    struct aws_profile_files f;

    load_ok(NULL, "[default]\nregion = ap-southeast-2\n", &f);
    assert_string_equal(aws_profile_get(&f, "default", "region"),
                        "ap-southeast-2");
    assert_true(aws_profile_exists(&f, "default"));
    aws_profile_free(&f);
}

static void aws_profile_get__profile_default_section__also_default(void **state)
{
    struct aws_profile_files f;

    load_ok(NULL, "[profile default]\nregion = sa-east-1\n", &f);
    assert_string_equal(aws_profile_get(&f, "default", "region"), "sa-east-1");
    assert_true(aws_profile_exists(&f, "default"));
    aws_profile_free(&f);
}

static void aws_profile_get__credentials_file__bare_profile_names(void **state)
{
    struct aws_profile_files f;

    load_ok("[profile dev]\naws_access_key_id = A\n[ops]\n"
            "aws_access_key_id = B\n",
            NULL, &f);
    /* "[profile x]" has no special meaning in the credentials file. */
    assert_null(aws_profile_get(&f, "dev", "aws_access_key_id"));
    assert_string_equal(aws_profile_get(&f, "ops", "aws_access_key_id"), "B");
    assert_true(aws_profile_exists(&f, "ops"));
    assert_null(f.config);
    aws_profile_free(&f);
}

static void aws_profile_load__files_absent__empty_not_error(void **state)
{
    struct aws_profile_files f;

    load_ok(NULL, NULL, &f);
    assert_null(f.credentials);
    assert_null(f.config);
    assert_null(aws_profile_get(&f, "default", "region"));
    assert_false(aws_profile_exists(&f, "default"));
    assert_non_null(f.credentials_path);
    assert_non_null(f.config_path);
    aws_profile_free(&f);
}

static void
aws_profile_load__malformed_config__error_names_file_line(void **state)
{
    struct aws_profile_files f;
    struct er_error err = {0};

    assert_int_equal(
        load("[default]\nk = v\n", "[default]\nregion\n", &f, &err), ER_CONFIG);
    assert_contains(err.msg, "/config-");
    assert_contains(err.msg, ":2:");
}

static void aws_profile_load__unreadable_file__error_names_file(void **state)
{
    struct aws_settings s = {0};
    struct aws_profile_files f;
    struct er_error err = {0};
    char *dir_path = test_write_temp("placeholder", "");

    /* A directory where the file should be cannot be read. */
    *strrchr(dir_path, '/') = '\0';
    s.credentials_file = xstrdup(dir_path);
    s.config_file = xstrdup("/nonexistent/config");
    assert_int_equal(aws_profile_load(&s, &f, &err), ER_CONFIG);
    assert_contains(err.msg, dir_path);
    aws_settings_free(&s);
    free(dir_path);
}

static void aws_profile_where__each_origin__file_and_line(void **state)
{
    struct aws_profile_files f;
    char where[512], want[512];

    load_ok("[dev]\n\naws_access_key_id = A\n",
            "# comment\n[profile dev]\nregion = x\n"
            "[default]\nregion = y\n",
            &f);
    aws_profile_where(&f, "dev", "aws_access_key_id", where, sizeof(where));
    snprintf(want, sizeof(want), "%s:3", f.credentials_path);
    assert_string_equal(where, want);
    aws_profile_where(&f, "dev", "region", where, sizeof(where));
    snprintf(want, sizeof(want), "%s:3", f.config_path);
    assert_string_equal(where, want);
    aws_profile_where(&f, "default", "region", where, sizeof(where));
    snprintf(want, sizeof(want), "%s:5", f.config_path);
    assert_string_equal(where, want);
    aws_profile_where(&f, "dev", "role_arn", where, sizeof(where));
    assert_string_equal(where, "profile dev");
    aws_profile_free(&f);
}

static void aws_profile_where__small_buffer__truncated_terminated(void **state)
{
    struct aws_profile_files f;
    char where[8];

    load_ok("[dev]\naws_access_key_id = A\n", NULL, &f);
    aws_profile_where(&f, "dev", "aws_access_key_id", where, sizeof(where));
    assert_int_equal(strlen(where), sizeof(where) - 1);
    aws_profile_free(&f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(aws_profile_get__both_files__credentials_file_wins),
        cmocka_unit_test(
            aws_profile_get__config_named_profile__needs_profile_prefix),
        cmocka_unit_test(
            aws_profile_get__default_profile__plain_default_section),
        cmocka_unit_test(
            aws_profile_get__profile_default_section__also_default),
        cmocka_unit_test(aws_profile_get__credentials_file__bare_profile_names),
        cmocka_unit_test(aws_profile_load__files_absent__empty_not_error),
        cmocka_unit_test(
            aws_profile_load__malformed_config__error_names_file_line),
        cmocka_unit_test(aws_profile_load__unreadable_file__error_names_file),
        cmocka_unit_test(aws_profile_where__each_origin__file_and_line),
        cmocka_unit_test(aws_profile_where__small_buffer__truncated_terminated),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
