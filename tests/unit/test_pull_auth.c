/*
 * What a pull Secret holds, built from the tokens: hosts (with their
 * FIPS and dual-stack names when asked), the document, the earliest
 * expiry, and the renewal time from the caller's clock.
 */
#include "core/wipe.h"
#include "core/xalloc.h"
#include "registry/pull_auth.h"
#include "test_assert.h"
#include "test_util.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#define NOW ((time_t)1767225600) /* 2026-01-01T00:00:00Z */

static struct ecr_token token(const char *account, const char *region,
                              double expires)
{
    struct ecr_token t = {
        .registry_host =
            xasprintf("%s.dkr.ecr.%s.amazonaws.com", account, region),
        .account = xstrdup(account),
        .region = xstrdup(region),
        .username = xstrdup("AWS"),
        .password = xstrdup("test-password"),
        .expires_at = expires,
    };
    return t;
}

static void tokens2(struct ecr_tokens *t)
{
    t->items = xcalloc(2, sizeof(*t->items));
    t->items[0] = token("111111111111", "us-east-1", NOW + 43200.5);
    t->items[1] = token("222222222222", "us-east-1", NOW + 40000);
    t->n = 2;
}

static void pull_auth_build__two_registries__hosts_expiry_renewed(void **s)
{
    struct pull_auth_options opt = {0};
    struct ecr_tokens t = {0};
    struct pull_auth a;
    struct er_error err;
    json_t *doc;

    (void)s;
    tokens2(&t);
    assert_int_equal(pull_auth_build(&t, &opt, NOW, &a, &err), ER_OK);
    assert_string_equal(a.registries,
                        "111111111111.dkr.ecr.us-east-1.amazonaws.com,"
                        "222222222222.dkr.ecr.us-east-1.amazonaws.com");
    assert_int_equal(a.expires_at, NOW + 40000);
    assert_string_equal(a.expires_at_text, "2026-01-01T11:06:40Z");
    assert_string_equal(a.renewed_at_text, "2026-01-01T00:00:00Z");
    doc = json_loads(a.dockerconfigjson, 0, NULL);
    assert_int_equal(json_object_size(json_object_get(doc, "auths")), 2);
    assert_int_equal(strlen(a.dockerconfigjson), a.dockerconfigjson_len);
    json_decref(doc);
    pull_auth_free(&a);
    ecr_tokens_free(&t);
}

static void pull_auth_build__fips_and_dualstack__extra_hosts(void **s)
{
    struct pull_auth_options opt = {.fips_hosts = true,
                                    .dualstack_hosts = true};
    struct ecr_tokens t = {0};
    struct pull_auth a;
    struct er_error err;

    (void)s;
    t.items = xcalloc(1, sizeof(*t.items));
    t.items[0] = token("111111111111", "us-east-2", NOW + 43200);
    t.n = 1;
    assert_int_equal(pull_auth_build(&t, &opt, NOW, &a, &err), ER_OK);
    assert_string_equal(a.registries,
                        "111111111111.dkr.ecr.us-east-2.amazonaws.com,"
                        "111111111111.dkr.ecr-fips.us-east-2.amazonaws.com,"
                        "111111111111.dkr-ecr-fips.us-east-2.on.aws");
    pull_auth_free(&a);
    ecr_tokens_free(&t);
}

static void pull_auth_build__password_not_utf8__refused(void **s)
{
    struct pull_auth_options opt = {0};
    struct ecr_tokens t = {0};
    struct pull_auth a = {0};
    struct er_error err;

    (void)s;
    tokens2(&t);
    wipe_free_str(t.items[1].password);
    t.items[1].password = xstrdup("bad\xff");
    assert_int_equal(pull_auth_build(&t, &opt, NOW, &a, &err), ER_PARSE);
    assert_null(a.dockerconfigjson);
    assert_contains(err.msg, "222222222222.dkr.ecr.us-east-1.amazonaws.com");
    ecr_tokens_free(&t);
}

static void pull_auth_build__aliases__same_credentials_under_the_name(void **s)
{
    struct registry_aliases al = {0};
    struct pull_auth_options opt = {.aliases = &al};
    struct ecr_tokens t = {0};
    struct pull_auth a;
    struct er_error err = {0};
    json_t *doc;

    (void)s;
    tokens2(&t);
    assert_int_equal(
        registry_aliases_add(&al, "--registry-host",
                             "Mirror.Example.com:5000=111111111111.dkr.ecr."
                             "us-east-1.amazonaws.com",
                             &err),
        ER_OK);
    assert_int_equal(pull_auth_build(&t, &opt, NOW, &a, &err), ER_OK);
    assert_contains(a.registries, ",mirror.example.com:5000");
    doc = json_loads(a.dockerconfigjson, 0, NULL);
    assert_string_equal(json_string_value(json_object_get(
                            json_object_get(json_object_get(doc, "auths"),
                                            "mirror.example.com:5000"),
                            "password")),
                        "test-password");
    json_decref(doc);
    pull_auth_free(&a);
    registry_aliases_free(&al);

    /* NAME alone: only with exactly one registry. */
    assert_int_equal(
        registry_aliases_add(&al, "--registry-host", "vpce.example", &err),
        ER_OK);
    assert_int_equal(pull_auth_build(&t, &opt, NOW, &a, &err), ER_USAGE);
    assert_contains(err.msg, "stands for the only registry");
    registry_aliases_free(&al);
    /* An alias of a registry that is not configured. */
    assert_int_equal(registry_aliases_add(&al, "--registry-host",
                                          "x.example=333333333333.dkr.ecr."
                                          "us-east-1.amazonaws.com",
                                          &err),
                     ER_OK);
    assert_int_equal(pull_auth_build(&t, &opt, NOW, &a, &err), ER_USAGE);
    assert_contains(err.msg, "not one of the registries configured");
    registry_aliases_free(&al);
    ecr_tokens_free(&t);
}

static void registry_aliases_add__bad_values__usage_errors(void **s)
{
    static const char *const bad[] = {
        "",
        "a,,b",
        "bad host=x.example",
        "x.example=bad host",
        "x.example:99999=y.example",
        "dup.example,dup.example",
    };
    struct registry_aliases al = {0};

    (void)s;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct er_error err = {0};
        if (registry_aliases_add(&al, "--registry-host", bad[i], &err) !=
            ER_USAGE)
            fail_msg("\"%s\" was taken", bad[i]);
        assert_contains(err.msg, "--registry-host");
        registry_aliases_free(&al);
    }
    {
        struct er_error err = {0};
        assert_int_equal(registry_aliases_add(&al, "--registry-host",
                                              "a.example=b.example,c.example",
                                              &err),
                         ER_OK);
        assert_string_equal(registry_alias_lookup(&al, "A.example"),
                            "b.example");
        assert_string_equal(registry_alias_lookup(&al, "c.example"), "");
        assert_null(registry_alias_lookup(&al, "b.example"));
        registry_aliases_free(&al);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(pull_auth_build__two_registries__hosts_expiry_renewed),
        cmocka_unit_test(pull_auth_build__fips_and_dualstack__extra_hosts),
        cmocka_unit_test(pull_auth_build__password_not_utf8__refused),
        cmocka_unit_test(
            pull_auth_build__aliases__same_credentials_under_the_name),
        cmocka_unit_test(registry_aliases_add__bad_values__usage_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
