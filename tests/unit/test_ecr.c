/*
 * ECR GetAuthorizationToken: the request body, and reading the answer
 * into registry host, user, password and expiry.
 */
#include "aws/ecr.h"
#include "core/b64.h"
#include "core/buf.h"
#include "test_assert.h"
#include "test_util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* base64 of "AWS:test-password-not-real" */
#define TOKEN_B64 "QVdTOnRlc3QtcGFzc3dvcmQtbm90LXJlYWw="
#define HOST_USE1 "123456789012.dkr.ecr.us-east-1.amazonaws.com"

#define NOW ((time_t)1767225600)        /* 2026-01-01T00:00:00Z */
#define EXP "\"expiresAt\":1767268800," /* NOW + 12 h */
#define ENTRY(token, endpoint)                                                 \
    "{\"authorizationToken\":\"" token "\"," EXP                               \
    "\"proxyEndpoint\":\"" endpoint "\"}"
#define ANSWER(entries) "{\"authorizationData\":[" entries "]}"

/* Expiry times are compared as doubles: a float has too few digits. */
static void expect_expiry(double got, double want)
{
    double diff = got > want ? got - want : want - got;

    if (diff > 0.0005)
        fail_msg("expires_at %.6f, want %.6f", got, want);
}

static enum er_code parse_for(const char *json, const char *region,
                              char *const *ids, size_t n_ids,
                              struct ecr_tokens *out, struct er_error *err)
{
    struct ecr_expect want = {
        .region = region, .ids = ids, .n_ids = n_ids, .now = NOW};

    return ecr_parse_tokens(json, strlen(json), &want, out, err);
}

static enum er_code parse(const char *json, const char *region,
                          struct ecr_tokens *out, struct er_error *err)
{
    return parse_for(json, region, NULL, 0, out, err);
}

static void parse_ok(const char *json, struct ecr_tokens *out)
{
    struct er_error err = {0};

    if (parse(json, "us-east-1", out, &err) != ER_OK)
        fail_msg("ecr_parse_tokens failed: %s", err.msg);
}

static void parse_fails(const char *json, const char *want_msg)
{
    struct ecr_tokens t = {0};
    struct er_error err = {0};

    assert_int_equal(parse(json, "us-east-1", &t, &err), ER_PARSE);
    assert_int_equal(err.code, ER_PARSE);
    assert_contains(err.msg, want_msg);
    assert_not_contains(err.msg, "test-password");
    assert_int_equal(t.n, 0);
    ecr_tokens_free(&t);
}

static void ecr_request_body__no_ids__empty_object(void **state)
{
    char *body = ecr_request_body(NULL, 0);

    assert_string_equal(body, "{}");
    free(body);
}

static void ecr_request_body__ids__registry_ids_array(void **state)
{
    char *ids[] = {"111111111111", "222222222222"};
    char *body = ecr_request_body(ids, 2);

    assert_string_equal(
        body, "{\"registryIds\":[\"111111111111\",\"222222222222\"]}");
    free(body);
}

static void
ecr_parse_tokens__real_answer__host_user_password_expiry(void **state)
{
    struct ecr_tokens t = {0};

    parse_ok("{\"authorizationData\":[{\"authorizationToken\":\"" TOKEN_B64
             "\",\"expiresAt\":1767268800.123,\"proxyEndpoint\":"
             "\"https://" HOST_USE1 "\"}]}",
             &t);
    assert_int_equal(t.n, 1);
    assert_string_equal(t.items[0].registry_host, HOST_USE1);
    assert_string_equal(t.items[0].account, "123456789012");
    assert_string_equal(t.items[0].region, "us-east-1");
    assert_string_equal(t.items[0].username, "AWS");
    assert_string_equal(t.items[0].password, "test-password-not-real");
    expect_expiry(t.items[0].expires_at, 1767268800.123);
    ecr_tokens_free(&t);
}

static void ecr_parse_tokens__exponent_expiry__read_as_number(void **state)
{
    struct ecr_tokens t = {0};

    parse_ok("{\"authorizationData\":[{\"authorizationToken\":\"" TOKEN_B64
             "\",\"expiresAt\":1.7672688E9,\"proxyEndpoint\":"
             "\"https://" HOST_USE1 "\"}]}",
             &t);
    expect_expiry(t.items[0].expires_at, 1767268800.0);
    ecr_tokens_free(&t);
}

static void ecr_parse_tokens__integer_expiry__read(void **state)
{
    struct ecr_tokens t = {0};

    parse_ok(ANSWER(ENTRY(TOKEN_B64, "https://" HOST_USE1)), &t);
    expect_expiry(t.items[0].expires_at, 1767268800.0);
    ecr_tokens_free(&t);
}

static void ecr_parse_tokens__bad_expiry__refused_not_1970(void **state)
{
    static const char *const bad[] = {
        "",
        "\"expiresAt\":null,",
        "\"expiresAt\":\"tomorrow\",",
        "\"expiresAt\":-1,",
        "\"expiresAt\":0,",
        "\"expiresAt\":1e300,",
        "\"expiresAt\":253402300800,",
    };
    char json[512];

    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        snprintf(json, sizeof(json),
                 "{\"authorizationData\":[{\"authorizationToken\":\"" TOKEN_B64
                 "\",%s\"proxyEndpoint\":\"https://" HOST_USE1 "\"}]}",
                 bad[i]);
        parse_fails(json, "expiresAt is");
    }
}

static void ecr_parse_tokens__expired_or_far_future__refused(void **state)
{
    parse_fails(
        "{\"authorizationData\":[{\"authorizationToken\":\"" TOKEN_B64
        "\",\"expiresAt\":1420070400,\"proxyEndpoint\":\"https://" HOST_USE1
        "\"}]}",
        "the token expired at 2015-01-01T00:00:00Z");
    parse_fails(
        "{\"authorizationData\":[{\"authorizationToken\":\"" TOKEN_B64
        "\",\"expiresAt\":1767916800,\"proxyEndpoint\":\"https://" HOST_USE1
        "\"}]}",
        "more than a day ahead");
}

static void ecr_parse_tokens__password_with_colons__split_at_first(void **state)
{
    struct ecr_tokens t = {0};

    /* base64 of "AWS:pa:ss:wo:rd" */
    parse_ok(ANSWER(ENTRY("QVdTOnBhOnNzOndvOnJk", "https://" HOST_USE1)), &t);
    assert_string_equal(t.items[0].username, "AWS");
    assert_string_equal(t.items[0].password, "pa:ss:wo:rd");
    ecr_tokens_free(&t);
}

static void ecr_parse_tokens__password_not_utf8__refused(void **state)
{
    /* base64 of "AWS:p\xff\xfew" */
    parse_fails(ANSWER(ENTRY("QVdTOnD//nc=", "https://" HOST_USE1)),
                "not UTF-8 text");
}

/* Real tokens are about 2 KB of base64 and their size is not fixed. */
static void ecr_parse_tokens__large_token__decoded_whole(void **state)
{
    struct buf plain = BUF_INIT, json = BUF_INIT;
    struct ecr_tokens t = {0};

    buf_must_adds(&plain, "AWS:");
    for (int i = 0; i < 2400; i++)
        buf_must_addf(&plain, "%c", "abcXYZ019+/="[i % 12]);
    buf_must_adds(&json, "{\"authorizationData\":[{\"authorizationToken\":\"");
    b64_encode(&json, plain.data, plain.len);
    buf_must_adds(&json,
                  "\"," EXP "\"proxyEndpoint\":\"https://" HOST_USE1 "\"}]}");
    parse_ok(buf_str(&json), &t);
    assert_int_equal(strlen(t.items[0].password), 2400);
    assert_string_equal(t.items[0].password, plain.data + 4);
    ecr_tokens_free(&t);
    buf_free(&plain);
    buf_free(&json);
}

static void ecr_parse_tokens__several_entries__one_per_registry(void **state)
{
    char *ids[] = {"111111111111", "222222222222"};
    struct ecr_tokens t = {0};
    struct er_error err;

    assert_int_equal(
        parse_for(ANSWER(ENTRY(TOKEN_B64, "https://111111111111.dkr.ecr.us-"
                                          "east-1.amazonaws.com") "," //
                         ENTRY(TOKEN_B64, "https://222222222222.dkr.ecr.us-"
                                          "east-1.amazonaws.com")),
                  "us-east-1", ids, 2, &t, &err),
        ER_OK);
    assert_int_equal(t.n, 2);
    assert_string_equal(t.items[0].account, "111111111111");
    assert_string_equal(t.items[1].account, "222222222222");
    ecr_tokens_free(&t);
}

static void ecr_parse_tokens__account_not_asked_for__refused(void **state)
{
    char *ids[] = {"111111111111"};
    struct ecr_tokens t = {0};
    struct er_error err;

    assert_int_equal(
        parse_for(ANSWER(ENTRY(TOKEN_B64, "https://333333333333.dkr.ecr.us-"
                                          "east-1.amazonaws.com")),
                  "us-east-1", ids, 1, &t, &err),
        ER_PARSE);
    assert_contains(err.msg, "names another region or account");
    assert_int_equal(t.n, 0);
}

static void ecr_parse_tokens__second_region__appended(void **state)
{
    struct ecr_tokens t = {0};
    struct er_error err = {0};

    parse_ok(ANSWER(ENTRY(TOKEN_B64, "https://" HOST_USE1)), &t);
    /* base64 of "AWS:second-password" */
    assert_int_equal(
        parse(ANSWER(ENTRY("QVdTOnNlY29uZC1wYXNzd29yZA==",
                           "https://123456789012.dkr.ecr.eu-west-1.amazonaws."
                           "com")),
              "eu-west-1", &t, &err),
        ER_OK);
    assert_int_equal(t.n, 2);
    assert_string_equal(t.items[0].region, "us-east-1");
    assert_string_equal(t.items[1].region, "eu-west-1");
    assert_string_equal(t.items[1].registry_host,
                        "123456789012.dkr.ecr.eu-west-1.amazonaws.com");
    assert_string_equal(t.items[1].password, "second-password");
    ecr_tokens_free(&t);
}

static void ecr_parse_tokens__endpoint_shapes__only_registry_hosts(void **s)
{
    static const char *const bad[] = {
        "",
        HOST_USE1, /* no scheme */
        "http://" HOST_USE1,
        "https://127.0.0.1:5000/",
        "https://12345678901x.dkr.ecr.us-east-1.amazonaws.com",
        "https://" HOST_USE1 ":443",
        "https://" HOST_USE1 "/v2/",
        "https://user:pw@" HOST_USE1,
        "https://evil.example",
        "https://123456789012.dkr.ecr.eu-west-1.amazonaws.com", /* region */
        "https://123456789012.dkr.ecr.us-east-1.amazonaws.com.cn",
        "https://" HOST_USE1 ",evil.example",
        "https://" HOST_USE1 "\\r\\nX-Injected: 1",
        "https://public.ecr.aws",
    };
    struct ecr_tokens t = {0};
    char json[512];

    (void)s;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        snprintf(json, sizeof(json), ANSWER(ENTRY(TOKEN_B64, "%s")), bad[i]);
        parse_fails(json, "proxyEndpoint");
    }
    parse_ok(ANSWER(ENTRY(TOKEN_B64, "https://" HOST_USE1 "/")), &t);
    assert_string_equal(t.items[0].registry_host, HOST_USE1);
    ecr_tokens_free(&t);
}

static void ecr_parse_tokens__bad_base64__parse_error(void **state)
{
    parse_fails(ANSWER(ENTRY("not base64!", "https://" HOST_USE1)),
                "not valid base64");
    parse_fails(ANSWER(ENTRY("QVdTOnB3\\nQVdTOnB3", "https://" HOST_USE1)),
                "not valid base64");
}

static void ecr_parse_tokens__token_not_user_password__parse_error(void **state)
{
    /* "AWSnocolon", "AWS:", ":pw" */
    parse_fails(ANSWER(ENTRY("QVdTbm9jb2xvbg==", "x")), "user:password");
    parse_fails(ANSWER(ENTRY("QVdTOg==", "x")), "user:password");
    parse_fails(ANSWER(ENTRY("OnB3", "x")), "user:password");
    /* "AWS:a\0b": a NUL would cut the password short. */
    parse_fails(ANSWER(ENTRY("QVdTOmEAYg==", "x")), "authorizationToken");
}

static void ecr_parse_tokens__missing_fields__parse_error(void **state)
{
    parse_fails(
        "{\"authorizationData\":[{\"proxyEndpoint\":\"https://" HOST_USE1
        "\"}]}",
        "lacks authorizationToken or proxyEndpoint");
    parse_fails("{\"authorizationData\":[{\"authorizationToken\":\"" TOKEN_B64
                "\"}]}",
                "lacks authorizationToken or proxyEndpoint");
    parse_fails("{\"authorizationData\":[{\"authorizationToken\":42,"
                "\"proxyEndpoint\":\"x\"}]}",
                "lacks");
    parse_fails("{\"authorizationData\":[]}", "no authorizationData");
    parse_fails("{\"authorizationData\":{}}", "no authorizationData");
    parse_fails("{}", "no authorizationData");
    parse_fails("", "the answer is empty");
    parse_fails("<html>", "the answer is not JSON");
    parse_fails("[{\"authorizationData\":[]}]", "no authorizationData");
}

static void ecr_parse_tokens__second_entry_bad__error_no_leak(void **state)
{
    struct ecr_tokens t = {0};
    struct er_error err = {0};

    /* Out-parameters change only on success: the good first entry is not
     * appended when the second is bad. */
    assert_int_equal(parse(ANSWER(ENTRY(TOKEN_B64, "https://" HOST_USE1) "," //
                                  ENTRY("%%", "x")),
                           "us-east-1", &t, &err),
                     ER_PARSE);
    assert_int_equal(t.n, 0);
    ecr_tokens_free(&t);
    parse_fails(ANSWER(ENTRY(TOKEN_B64, "https://" HOST_USE1) "," //
                       ENTRY("%%%%", "x")),
                "not valid base64");
}

static void ecr_registry_id_is_valid__shapes__twelve_digits_only(void **state)
{
    assert_true(ecr_registry_id_is_valid("123456789012"));
    assert_true(ecr_registry_id_is_valid("000000000000"));
    assert_false(ecr_registry_id_is_valid(""));
    assert_false(ecr_registry_id_is_valid("12345678901"));
    assert_false(ecr_registry_id_is_valid("1234567890123"));
    assert_false(ecr_registry_id_is_valid("12345678901a"));
    assert_false(ecr_registry_id_is_valid(" 23456789012"));
    assert_false(ecr_registry_id_is_valid("-23456789012"));
    assert_false(ecr_registry_id_is_valid("\xef\xbc\x91"
                                          "23456789012"));
}

static void ecr_tokens_free__twice__safe(void **state)
{
    struct ecr_tokens t = {0};

    parse_ok(ANSWER(ENTRY(TOKEN_B64, "https://" HOST_USE1)), &t);
    ecr_tokens_free(&t);
    assert_int_equal(t.n, 0);
    assert_null(t.items);
    ecr_tokens_free(&t);
}

#define PUBLIC_ANSWER(exp)                                                     \
    "{\"authorizationData\":{\"authorizationToken\":\"" TOKEN_B64 "\","        \
    "\"expiresAt\":" exp "}}"

static void ecr_public_parse_token__object__one_host_or_two(void **state)
{
    const char *json = PUBLIC_ANSWER("1.7672688001E9");
    struct ecr_tokens t = {0};
    struct er_error err = {0};

    (void)state;
    assert_int_equal(
        ecr_public_parse_token(json, strlen(json), NOW, false, &t, &err),
        ER_OK);
    assert_int_equal(t.n, 1);
    assert_string_equal(t.items[0].registry_host, "public.ecr.aws");
    assert_null(t.items[0].account);
    assert_string_equal(t.items[0].region, "us-east-1");
    assert_string_equal(t.items[0].username, "AWS");
    assert_string_equal(t.items[0].password, "test-password-not-real");
    expect_expiry(t.items[0].expires_at, 1767268800.1);
    assert_int_equal(
        ecr_public_parse_token(json, strlen(json), NOW, true, &t, &err), ER_OK);
    assert_int_equal(t.n, 3);
    assert_string_equal(t.items[2].registry_host, "ecr-public.aws.com");
    ecr_tokens_free(&t);
}

static void ecr_public_parse_token__bad_answers__refused(void **state)
{
    static const char *const bad[] = {
        "{\"authorizationData\":[{\"authorizationToken\":\"" TOKEN_B64
        "\",\"expiresAt\":1767268800}]}",
        PUBLIC_ANSWER("1"),
        PUBLIC_ANSWER("\"soon\""),
        "{\"authorizationData\":{\"expiresAt\":1767268800}}",
        "<html></html>",
    };
    struct ecr_tokens t = {0};

    (void)state;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct er_error err = {0};
        assert_int_equal(ecr_public_parse_token(bad[i], strlen(bad[i]), NOW,
                                                false, &t, &err),
                         ER_PARSE);
        assert_not_contains(err.msg, "test-password");
        assert_int_equal(t.n, 0);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(ecr_request_body__no_ids__empty_object),
        cmocka_unit_test(ecr_request_body__ids__registry_ids_array),
        cmocka_unit_test(
            ecr_parse_tokens__real_answer__host_user_password_expiry),
        cmocka_unit_test(ecr_parse_tokens__exponent_expiry__read_as_number),
        cmocka_unit_test(ecr_parse_tokens__integer_expiry__read),
        cmocka_unit_test(ecr_parse_tokens__bad_expiry__refused_not_1970),
        cmocka_unit_test(ecr_parse_tokens__expired_or_far_future__refused),
        cmocka_unit_test(ecr_parse_tokens__password_not_utf8__refused),
        cmocka_unit_test(ecr_parse_tokens__account_not_asked_for__refused),
        cmocka_unit_test(
            ecr_parse_tokens__password_with_colons__split_at_first),
        cmocka_unit_test(ecr_parse_tokens__large_token__decoded_whole),
        cmocka_unit_test(ecr_parse_tokens__several_entries__one_per_registry),
        cmocka_unit_test(ecr_parse_tokens__second_region__appended),
        cmocka_unit_test(
            ecr_parse_tokens__endpoint_shapes__only_registry_hosts),
        cmocka_unit_test(ecr_parse_tokens__bad_base64__parse_error),
        cmocka_unit_test(
            ecr_parse_tokens__token_not_user_password__parse_error),
        cmocka_unit_test(ecr_parse_tokens__missing_fields__parse_error),
        cmocka_unit_test(ecr_parse_tokens__second_entry_bad__error_no_leak),
        cmocka_unit_test(ecr_registry_id_is_valid__shapes__twelve_digits_only),
        cmocka_unit_test(ecr_tokens_free__twice__safe),
        cmocka_unit_test(ecr_public_parse_token__object__one_host_or_two),
        cmocka_unit_test(ecr_public_parse_token__bad_answers__refused),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
