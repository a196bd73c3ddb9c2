/*
 * Reading AWS error answers in every shape ECR, STS and local fakes send,
 * and the advice an operator gets.
 */
#include "aws/aws_error.h"
#include "core/buf.h"
#include "test_assert.h"
#include "test_util.h"

#include <stdio.h>
#include <string.h>

static void parse(long status, const char *header, const char *body,
                  struct aws_error *e)
{
    aws_error_parse(status, header, body, body ? strlen(body) : 0, e);
}

static void assert_clean(const char *s)
{
    for (const unsigned char *p = (const unsigned char *)s; *p; p++)
        if (*p < 0x20 || *p == 0x7f)
            fail_msg("control character 0x%02x left in \"%s\"", *p, s);
}

static void aws_error_parse__ecr_json__code_and_message(void **state)
{
    struct aws_error e;

    parse(400, "AccessDeniedException",
          "{\"__type\":\"AccessDeniedException\",\"message\":\"User: "
          "arn:aws:sts::123456789012:assumed-role/node/i-0abc is not "
          "authorized to perform: ecr:GetAuthorizationToken on resource: * "
          "because no identity-based policy allows the "
          "ecr:GetAuthorizationToken action\"}",
          &e);
    assert_string_equal(e.code, "AccessDeniedException");
    assert_contains(e.message, "is not authorized to perform: "
                               "ecr:GetAuthorizationToken");
}

static void aws_error_parse__json_type_with_hash__shape_name_only(void **state)
{
    struct aws_error e;

    parse(400, NULL,
          "{\"__type\":\"com.amazonaws.ecr#InvalidParameterException\","
          "\"message\":\"Invalid parameter at 'registryIds'\"}",
          &e);
    assert_string_equal(e.code, "InvalidParameterException");
    assert_string_equal(e.message, "Invalid parameter at 'registryIds'");
}

static void aws_error_parse__json_code_and_capital_message__read(void **state)
{
    struct aws_error e;

    parse(400, NULL,
          "{\"code\":\"ThrottlingException\",\"Message\":\"Rate exceeded\"}",
          &e);
    assert_string_equal(e.code, "ThrottlingException");
    assert_string_equal(e.message, "Rate exceeded");
}

static void aws_error_parse__header_with_http_suffix__code_only(void **state)
{
    struct aws_error e;

    parse(400,
          "UnrecognizedClientException:http://internal.amazon.com/coral/"
          "com.amazon.coral.service/",
          "", &e);
    assert_string_equal(e.code, "UnrecognizedClientException");
    assert_string_equal(e.message, "");
}

static void
aws_error_parse__header_and_json_without_type__both_used(void **state)
{
    struct aws_error e;

    parse(403, "ExpiredTokenException:http://internal.amazon.com/coral/x/",
          "{\"message\":\"The security token included in the request is "
          "expired\"}",
          &e);
    assert_string_equal(e.code, "ExpiredTokenException");
    assert_string_equal(e.message,
                        "The security token included in the request is "
                        "expired");
}

static void aws_error_parse__header_with_hash_prefix__shape_name(void **state)
{
    struct aws_error e;

    parse(400, "aws.protocoltests#ThrottlingException:http://x/", NULL, &e);
    assert_string_equal(e.code, "ThrottlingException");
}

static void
aws_error_parse__sts_xml_error_response__code_and_message(void **state)
{
    struct aws_error e;

    parse(400, NULL,
          "<ErrorResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\">"
          "\n  <Error>\n    <Type>Sender</Type>\n"
          "    <Code>InvalidIdentityToken</Code>\n"
          "    <Message>No OpenIDConnect provider found in your account for "
          "https://oidc.eks.us-east-1.amazonaws.com/id/0123456789ABCDEF"
          "</Message>\n  </Error>\n"
          "  <RequestId>4f6e3a0c-0000-4000-8000-000000000000</RequestId>\n"
          "</ErrorResponse>\n",
          &e);
    assert_string_equal(e.code, "InvalidIdentityToken");
    assert_contains(e.message, "No OpenIDConnect provider found");
}

/* Local fakes such as moto answer XML even for JSON services. */
static void
aws_error_parse__moto_style_xml_for_ecr__code_and_message(void **state)
{
    struct aws_error e;

    parse(400, NULL,
          "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Response><Errors>"
          "<Error><Code>RepositoryNotFoundException</Code><Message>The "
          "repository with name 'x' does not exist</Message></Error>"
          "</Errors><RequestID>7a62c49f-347e-4fc4-9331-6e8eEXAMPLE"
          "</RequestID></Response>",
          &e);
    assert_string_equal(e.code, "RepositoryNotFoundException");
    assert_contains(e.message, "does not exist");
}

static void aws_error_parse__unreadable_body__http_status(void **state)
{
    struct aws_error e;

    parse(503, NULL, "Service Unavailable", &e);
    assert_string_equal(e.code, "HTTP 503");
    parse(502, NULL, "<html><body><h1>502 Bad Gateway</h1></body></html>", &e);
    assert_string_equal(e.code, "HTTP 502");
    parse(403, NULL, "", &e);
    assert_string_equal(e.code, "HTTP 403");
    parse(500, "", NULL, &e);
    assert_string_equal(e.code, "HTTP 500");
    parse(400, NULL, "[\"array\"]", &e);
    assert_string_equal(e.code, "HTTP 400");
    parse(400, NULL, "{\"__type\":42}", &e);
    assert_string_equal(e.code, "HTTP 400");
}

static void
aws_error_parse__unreadable_body_with_header__header_code(void **state)
{
    struct aws_error e;

    parse(503, "ServiceUnavailableException", "<html>oops", &e);
    assert_string_equal(e.code, "ServiceUnavailableException");
}

static void aws_error_parse__control_characters__stripped(void **state)
{
    struct aws_error e;

    parse(400, NULL,
          "{\"__type\":\"Bad\\nCode\",\"message\":\"line1\\nline2\\r\\t"
          "\\u001b[31mred\\u001b[0m\\u007f end\"}",
          &e);
    assert_clean(e.code);
    assert_clean(e.message);
    assert_contains(e.message, "line1");
    assert_contains(e.message, "line2");
    assert_contains(e.message, "end");
    parse(400, "Evil\r\nX-Injected: 1", NULL, &e);
    assert_clean(e.code);
    parse(400, NULL,
          "<ErrorResponse><Error><Code>C</Code><Message>a&#10;b&#13;c"
          "</Message></Error></ErrorResponse>",
          &e);
    assert_clean(e.message);
    assert_contains(e.message, "a");
    assert_contains(e.message, "c");
}

static void aws_error_parse__huge_message__truncated_terminated(void **state)
{
    struct buf body = BUF_INIT;
    struct aws_error e;

    buf_must_adds(&body, "{\"__type\":\"");
    for (int i = 0; i < 300; i++)
        buf_must_adds(&body, "C");
    buf_must_adds(&body, "\",\"message\":\"");
    for (int i = 0; i < 5000; i++)
        buf_must_adds(&body, "m");
    buf_must_adds(&body, "\"}");
    aws_error_parse(400, NULL, body.data, body.len, &e);
    assert_int_equal(strlen(e.code), sizeof(e.code) - 1);
    assert_int_equal(strlen(e.message), sizeof(e.message) - 1);
    buf_free(&body);
}

static void aws_error_parse__body_length__respected(void **state)
{
    struct aws_error e;
    const char *body = "{\"__type\":\"Throttling\"}GARBAGE";

    aws_error_parse(400, NULL, body, 23, &e);
    assert_string_equal(e.code, "Throttling");
}

static bool retryable(long status, const char *code)
{
    struct aws_error e = {{0}, {0}};

    snprintf(e.code, sizeof(e.code), "%s", code);
    return aws_error_is_retryable(status, &e);
}

static void aws_error_is_retryable__throttling_and_5xx__true(void **state)
{
    assert_true(retryable(400, "ThrottlingException"));
    assert_true(retryable(400, "Throttling"));
    assert_true(retryable(400, "TooManyRequestsException"));
    assert_true(retryable(400, "IDPCommunicationError"));
    assert_true(retryable(429, "HTTP 429"));
    assert_true(retryable(500, "ServerException"));
    assert_true(retryable(502, "HTTP 502"));
    assert_true(retryable(503, "HTTP 503"));
    assert_true(retryable(504, "AccessDeniedException"));
}

static void aws_error_is_retryable__auth_and_client_errors__false(void **state)
{
    assert_false(retryable(400, "AccessDeniedException"));
    assert_false(retryable(403, "AccessDenied"));
    assert_false(retryable(400, "InvalidIdentityToken"));
    assert_false(retryable(400, "ExpiredTokenException"));
    assert_false(retryable(403, "InvalidSignatureException"));
    assert_false(retryable(400, "UnrecognizedClientException"));
    assert_false(retryable(400, "InvalidParameterException"));
    assert_false(retryable(404, "HTTP 404"));
    assert_false(retryable(403, "HTTP 403"));
}

static const char *hint(const char *operation, const char *code)
{
    struct aws_error e = {{0}, {0}};

    snprintf(e.code, sizeof(e.code), "%s", code);
    return aws_error_hint(operation, &e);
}

static void
aws_error_hint__ecr_access_denied__names_action_and_resource(void **state)
{
    const char *h = hint("ecr:GetAuthorizationToken", "AccessDeniedException");

    assert_contains(h, "ecr:GetAuthorizationToken");
    assert_contains(h, "Resource \"*\"");
    h = hint("ecr:GetAuthorizationToken", "AccessDenied");
    assert_contains(h, "ecr:GetAuthorizationToken");
    assert_contains(h, "Resource \"*\"");
}

static void
aws_error_hint__web_identity_denied__points_at_trust_policy(void **state)
{
    const char *h = hint("sts:AssumeRoleWithWebIdentity", "AccessDenied");

    assert_contains(h, "trust policy");
    assert_contains(h, "system:serviceaccount:");
    assert_not_contains(h, "ecr:GetAuthorizationToken");
}

static void aws_error_hint__other_codes__specific_or_null(void **state)
{
    assert_contains(
        hint("sts:AssumeRoleWithWebIdentity", "InvalidIdentityToken"),
        "OIDC provider");
    assert_contains(
        hint("ecr:GetAuthorizationToken", "InvalidSignatureException"),
        "secret access key");
    assert_contains(
        hint("ecr:GetAuthorizationToken", "InvalidParameterException"),
        "12-digit");
    assert_contains(hint("sts:AssumeRole", "AccessDenied"), "sts:AssumeRole");
    assert_non_null(hint("SomethingElse", "AccessDeniedException"));
    assert_contains(
        hint("ecr-public:GetAuthorizationToken", "AccessDeniedException"),
        "sts:GetServiceBearerToken");
    assert_null(hint("ecr:GetAuthorizationToken", "ThrottlingException"));
    assert_null(hint("ecr:GetAuthorizationToken", "HTTP 503"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(aws_error_parse__ecr_json__code_and_message),
        cmocka_unit_test(aws_error_parse__json_type_with_hash__shape_name_only),
        cmocka_unit_test(aws_error_parse__json_code_and_capital_message__read),
        cmocka_unit_test(aws_error_parse__header_with_http_suffix__code_only),
        cmocka_unit_test(
            aws_error_parse__header_and_json_without_type__both_used),
        cmocka_unit_test(aws_error_parse__header_with_hash_prefix__shape_name),
        cmocka_unit_test(
            aws_error_parse__sts_xml_error_response__code_and_message),
        cmocka_unit_test(
            aws_error_parse__moto_style_xml_for_ecr__code_and_message),
        cmocka_unit_test(aws_error_parse__unreadable_body__http_status),
        cmocka_unit_test(
            aws_error_parse__unreadable_body_with_header__header_code),
        cmocka_unit_test(aws_error_parse__control_characters__stripped),
        cmocka_unit_test(aws_error_parse__huge_message__truncated_terminated),
        cmocka_unit_test(aws_error_parse__body_length__respected),
        cmocka_unit_test(aws_error_is_retryable__throttling_and_5xx__true),
        cmocka_unit_test(aws_error_is_retryable__auth_and_client_errors__false),
        cmocka_unit_test(
            aws_error_hint__ecr_access_denied__names_action_and_resource),
        cmocka_unit_test(
            aws_error_hint__web_identity_denied__points_at_trust_policy),
        cmocka_unit_test(aws_error_hint__other_codes__specific_or_null),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
