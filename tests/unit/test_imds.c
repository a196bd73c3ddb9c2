/*
 * imds_parse_credentials: the JSON that IMDS, ECS and EKS Pod Identity
 * answer with.
 */
#include "aws/credentials.h"
#include "aws/imds.h"
#include "test_assert.h"
#include "test_util.h"

#include <string.h>

static void parse_ok(const char *json, struct aws_credentials *c)
{
    struct er_error err = {0};

    memset(c, 0, sizeof(*c));
    if (imds_parse_credentials(json, strlen(json), c, &err) != ER_OK)
        fail_msg("imds_parse_credentials failed: %s", err.msg);
}

static void parse_refused(const char *json, enum er_code code,
                          const char *want_msg)
{
    struct aws_credentials c = {0};
    struct er_error err = {0};

    c.access_key_id = (char *)"untouched";
    assert_int_equal(imds_parse_credentials(json, strlen(json), &c, &err),
                     code);
    assert_contains(err.msg, want_msg);
    assert_not_contains(err.msg, "test-secret");
    assert_string_equal(c.access_key_id, "untouched");
}

static void imds_parse_credentials__ec2_shape__credentials(void **state)
{
    struct aws_credentials c;

    parse_ok("{\n"
             "  \"Code\" : \"Success\",\n"
             "  \"LastUpdated\" : \"2026-01-01T00:00:00Z\",\n"
             "  \"Type\" : \"AWS-HMAC\",\n"
             "  \"AccessKeyId\" : \"ASIATESTONLY\",\n"
             "  \"SecretAccessKey\" : \"test-secret\",\n"
             "  \"Token\" : \"test-token\",\n"
             "  \"Expiration\" : \"2026-01-01T06:00:00Z\"\n"
             "}\n",
             &c);
    assert_string_equal(c.access_key_id, "ASIATESTONLY");
    assert_string_equal(c.secret_access_key, "test-secret");
    assert_string_equal(c.session_token, "test-token");
    assert_int_equal(c.expiration, 1767247200);
    aws_credentials_free(&c);
}

/* ECS and EKS Pod Identity answer without Code, with AccountId. */
static void imds_parse_credentials__container_shape__credentials(void **state)
{
    struct aws_credentials c;

    parse_ok("{\"AccessKeyId\":\"ASIATESTONLY\",\"SecretAccessKey\":"
             "\"test-secret\",\"Token\":\"test-token\",\"AccountId\":"
             "\"123456789012\",\"Expiration\":\"2026-01-01T06:00:00+00:00\"}",
             &c);
    assert_string_equal(c.access_key_id, "ASIATESTONLY");
    assert_string_equal(c.session_token, "test-token");
    assert_int_equal(c.expiration, 1767247200);
    aws_credentials_free(&c);
}

static void imds_parse_credentials__unknown_keys__ignored(void **state)
{
    struct aws_credentials c;

    parse_ok("{\"RoleArn\":\"arn:aws:iam::123456789012:role/x\","
             "\"Future\":{\"nested\":[1,2,{\"a\":null}]},\"Code\":\"Success\","
             "\"AccessKeyId\":\"A\",\"SecretAccessKey\":\"test-secret\","
             "\"Token\":\"T\",\"Expiration\":\"2026-01-01T06:00:00Z\","
             "\"Extra\":42}",
             &c);
    assert_string_equal(c.access_key_id, "A");
    aws_credentials_free(&c);
}

static void imds_parse_credentials__no_token__long_term_keys(void **state)
{
    struct aws_credentials c;

    parse_ok("{\"AccessKeyId\":\"A\",\"SecretAccessKey\":\"test-secret\","
             "\"Token\":\"\"}",
             &c);
    assert_null(c.session_token);
    assert_int_equal(c.expiration, 0);
    aws_credentials_free(&c);
}

static void imds_parse_credentials__code_not_success__refused(void **state)
{
    parse_refused("{\"Code\":\"AssumeRoleUnauthorizedAccess\","
                  "\"Message\":\"denied\",\"LastUpdated\":"
                  "\"2026-01-01T00:00:00Z\"}",
                  ER_AWS, "Code \"AssumeRoleUnauthorizedAccess\"");
    /* Keys next to a failure Code are not trusted either. */
    parse_refused("{\"Code\":\"Failure\",\"AccessKeyId\":\"A\","
                  "\"SecretAccessKey\":\"test-secret\"}",
                  ER_AWS, "Failure");
}

static void imds_parse_credentials__missing_keys__refused(void **state)
{
    parse_refused("{\"Code\":\"Success\",\"SecretAccessKey\":\"test-secret\"}",
                  ER_PARSE, "lacks AccessKeyId or SecretAccessKey");
    parse_refused("{\"AccessKeyId\":\"A\"}", ER_PARSE,
                  "lacks AccessKeyId or SecretAccessKey");
    parse_refused("{\"AccessKeyId\":\"\",\"SecretAccessKey\":\"test-secret\"}",
                  ER_PARSE, "lacks");
    parse_refused("{\"AccessKeyId\":7,\"SecretAccessKey\":\"test-secret\"}",
                  ER_PARSE, "lacks");
}

static void imds_parse_credentials__bad_expiration__refused(void **state)
{
    parse_refused("{\"AccessKeyId\":\"A\",\"SecretAccessKey\":\"test-secret\","
                  "\"Expiration\":\"soon\"}",
                  ER_PARSE, "Expiration is not an RFC 3339 time");
    parse_refused("{\"AccessKeyId\":\"A\",\"SecretAccessKey\":\"test-secret\","
                  "\"Expiration\":\"1969-12-31T23:59:59Z\"}",
                  ER_PARSE, "between 2000 and 9999");
}

static void imds_parse_credentials__control_characters__refused(void **s)
{
    parse_refused("{\"AccessKeyId\":\"A\",\"SecretAccessKey\":\"test-secret\","
                  "\"Token\":\"tok\\r\\nX-Injected: 1\"}",
                  ER_PARSE, "session token holds a control character");
    parse_refused("{\"AccessKeyId\":\"A\\n\",\"SecretAccessKey\":"
                  "\"test-secret\"}",
                  ER_PARSE, "access key id holds a control character");
    parse_refused("{\"Code\":\"\\u001b[31mFail\\nforged line\",\"AccessKeyId\":"
                  "\"A\",\"SecretAccessKey\":\"test-secret\"}",
                  ER_AWS, "Code \" [31mFail forged line\"");
}

static void imds_parse_credentials__not_an_object__refused(void **state)
{
    parse_refused("", ER_PARSE, "is empty, not JSON");
    parse_refused("[]", ER_PARSE, "not a JSON object");
    parse_refused("<html>", ER_PARSE, "is not JSON");
    parse_refused("{\"AccessKeyId\":", ER_PARSE, "is not JSON");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(imds_parse_credentials__ec2_shape__credentials),
        cmocka_unit_test(imds_parse_credentials__container_shape__credentials),
        cmocka_unit_test(imds_parse_credentials__unknown_keys__ignored),
        cmocka_unit_test(imds_parse_credentials__no_token__long_term_keys),
        cmocka_unit_test(imds_parse_credentials__code_not_success__refused),
        cmocka_unit_test(imds_parse_credentials__missing_keys__refused),
        cmocka_unit_test(imds_parse_credentials__bad_expiration__refused),
        cmocka_unit_test(imds_parse_credentials__not_an_object__refused),
        cmocka_unit_test(imds_parse_credentials__control_characters__refused),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
