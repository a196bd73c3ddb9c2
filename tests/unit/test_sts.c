/*
 * STS: the form bodies we send and the Credentials we read back.
 */
#include "aws/credentials.h"
#include "aws/sts.h"
#include "core/wipe.h"
#include "test_assert.h"
#include "test_util.h"

#include <stdlib.h>
#include <string.h>

#define ROLE "arn:aws:iam::123456789012:role/ecr pull"
#define ROLE_ENC "arn%3Aaws%3Aiam%3A%3A123456789012%3Arole%2Fecr%20pull"

static const char web_identity_answer[] =
    "<AssumeRoleWithWebIdentityResponse "
    "xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\">\n"
    "  <AssumeRoleWithWebIdentityResult>\n"
    "    <Audience>sts.amazonaws.com</Audience>\n"
    "    <AssumedRoleUser>\n"
    "      <AssumedRoleId>AROATESTONLY:ecr-renew</AssumedRoleId>\n"
    "      <Arn>arn:aws:sts::123456789012:assumed-role/ecr-pull/ecr-renew"
    "</Arn>\n"
    "    </AssumedRoleUser>\n"
    "    <Provider>arn:aws:iam::123456789012:oidc-provider/"
    "oidc.eks.us-east-1.amazonaws.com/id/0123456789ABCDEF</Provider>\n"
    "    <Credentials>\n"
    "      <AccessKeyId>ASIATESTONLY</AccessKeyId>\n"
    "      <SecretAccessKey>test-secret-key</SecretAccessKey>\n"
    "      <SessionToken>test-session-token</SessionToken>\n"
    "      <Expiration>2026-01-01T01:00:00Z</Expiration>\n"
    "    </Credentials>\n"
    "    <SubjectFromWebIdentityToken>system:serviceaccount:ops:renewer"
    "</SubjectFromWebIdentityToken>\n"
    "  </AssumeRoleWithWebIdentityResult>\n"
    "  <ResponseMetadata>\n"
    "    <RequestId>ad4156e9-bce1-11e2-82e6-6b6efEXAMPLE</RequestId>\n"
    "  </ResponseMetadata>\n"
    "</AssumeRoleWithWebIdentityResponse>\n";

static void sts_web_identity_body__role_with_space__exact_form(void **state)
{
    struct sts_assume a = {"https://sts.us-east-1.amazonaws.com", "us-east-1",
                           ROLE, NULL, NULL};
    char *body = sts_web_identity_body(&a, "eyJhbGciOi.eyJzdWIiOi.c2lnbmF0");

    assert_string_equal(body, "Action=AssumeRoleWithWebIdentity"
                              "&Version=2011-06-15"
                              "&RoleArn=" ROLE_ENC "&RoleSessionName=ecr-renew"
                              "&DurationSeconds=3600"
                              "&WebIdentityToken=eyJhbGciOi.eyJzdWIiOi."
                              "c2lnbmF0");
    wipe_free_str(body);
}

/* A form decoder reads '+' as a space, so spaces must be %20 and a real
 * '+' must be %2B, or the role ARN and session name arrive changed. */
static void sts_bodies__spaces_and_plus__never_raw_plus(void **state)
{
    struct sts_assume a = {NULL, "us-east-1",
                           "arn:aws:iam::123456789012:role/a+b c",
                           "my session+1", "ext id+x"};
    char *wi = sts_web_identity_body(&a, "tok+en with space");
    char *ar = sts_assume_role_body(&a);

    assert_null(strchr(wi, '+'));
    assert_null(strchr(ar, '+'));
    assert_null(strchr(wi, ' '));
    assert_null(strchr(ar, ' '));
    assert_contains(wi, "RoleArn=arn%3Aaws%3Aiam%3A%3A123456789012%3Arole%2F"
                        "a%2Bb%20c&");
    assert_contains(wi, "RoleSessionName=my%20session%2B1&");
    assert_contains(wi, "WebIdentityToken=tok%2Ben%20with%20space");
    assert_contains(ar, "ExternalId=ext%20id%2Bx");
    wipe_free_str(wi);
    free(ar);
}

static void sts_assume_role_body__with_external_id__exact_form(void **state)
{
    struct sts_assume a = {NULL, "eu-west-1", ROLE, "renewer", "ext-123"};
    char *body = sts_assume_role_body(&a);

    assert_string_equal(body, "Action=AssumeRole&Version=2011-06-15"
                              "&RoleArn=" ROLE_ENC "&RoleSessionName=renewer"
                              "&DurationSeconds=3600&ExternalId=ext-123");
    free(body);
}

static void sts_assume_role_body__no_external_id__not_sent(void **state)
{
    struct sts_assume a = {NULL, "eu-west-1", ROLE, NULL, NULL};
    char *body = sts_assume_role_body(&a);

    assert_not_contains(body, "ExternalId");
    assert_not_contains(body, "WebIdentityToken");
    assert_contains(body, "RoleSessionName=ecr-renew");
    free(body);
}

static void
sts_parse_credentials__web_identity_answer__credentials(void **state)
{
    struct aws_credentials c = {0};
    struct er_error err = {0};

    assert_int_equal(sts_parse_credentials(web_identity_answer,
                                           strlen(web_identity_answer), &c,
                                           &err),
                     ER_OK);
    assert_string_equal(c.access_key_id, "ASIATESTONLY");
    assert_string_equal(c.secret_access_key, "test-secret-key");
    assert_string_equal(c.session_token, "test-session-token");
    assert_int_equal(c.expiration, 1767229200);
    aws_credentials_free(&c);
}

static void sts_parse_credentials__assume_role_answer__credentials(void **state)
{
    const char *xml =
        "<AssumeRoleResponse xmlns=\"https://sts.amazonaws.com/doc/"
        "2011-06-15/\"><AssumeRoleResult><AssumedRoleUser><Arn>x</Arn>"
        "</AssumedRoleUser><Credentials><AccessKeyId>ASIATESTTWO"
        "</AccessKeyId><SecretAccessKey>s2</SecretAccessKey><SessionToken>"
        "t2</SessionToken><Expiration>2026-01-01T01:00:00.000Z</Expiration>"
        "</Credentials></AssumeRoleResult></AssumeRoleResponse>";
    struct aws_credentials c = {0};
    struct er_error err = {0};

    assert_int_equal(sts_parse_credentials(xml, strlen(xml), &c, &err), ER_OK);
    assert_string_equal(c.access_key_id, "ASIATESTTWO");
    assert_int_equal(c.expiration, 1767229200);
    aws_credentials_free(&c);
}

static void expect_refused(const char *xml, enum er_code code,
                           const char *want_msg)
{
    struct aws_credentials c = {0};
    struct er_error err = {0};

    c.access_key_id = (char *)"untouched";
    assert_int_equal(sts_parse_credentials(xml, strlen(xml), &c, &err), code);
    assert_contains(err.msg, want_msg);
    assert_not_contains(err.msg, "test-secret-key");
    /* Out-parameters are written only on success. */
    assert_string_equal(c.access_key_id, "untouched");
}

static void
sts_parse_credentials__missing_credentials__parse_error(void **state)
{
    expect_refused("<AssumeRoleWithWebIdentityResponse><Result>"
                   "</Result></AssumeRoleWithWebIdentityResponse>",
                   ER_PARSE, "lacks Credentials");
    expect_refused("<ErrorResponse><Error><Code>AccessDenied</Code>"
                   "</Error></ErrorResponse>",
                   ER_PARSE, "lacks Credentials");
    /* Every field is needed: here the session token is missing. */
    expect_refused("<r><Credentials><AccessKeyId>A</AccessKeyId>"
                   "<SecretAccessKey>test-secret-key</SecretAccessKey>"
                   "<Expiration>2026-01-01T01:00:00Z</Expiration>"
                   "</Credentials></r>",
                   ER_PARSE, "lacks Credentials");
    expect_refused("<r><Credentials><AccessKeyId></AccessKeyId>"
                   "<SecretAccessKey>test-secret-key</SecretAccessKey>"
                   "<SessionToken>t</SessionToken>"
                   "<Expiration>2026-01-01T01:00:00Z</Expiration>"
                   "</Credentials></r>",
                   ER_PARSE, "lacks Credentials");
}

static void sts_parse_credentials__bad_expiration__parse_error(void **state)
{
    expect_refused("<r><Credentials><AccessKeyId>A</AccessKeyId>"
                   "<SecretAccessKey>test-secret-key</SecretAccessKey>"
                   "<SessionToken>t</SessionToken>"
                   "<Expiration>tomorrow</Expiration></Credentials></r>",
                   ER_PARSE, "Expiration \"tomorrow\" is not an RFC 3339");
}

static void sts_parse_credentials__smuggled_header__refused(void **state)
{
    expect_refused("<r><Credentials><AccessKeyId>A</AccessKeyId>"
                   "<SecretAccessKey>test-secret-key</SecretAccessKey>"
                   "<SessionToken>t&#13;&#10;X-Injected: 1</SessionToken>"
                   "<Expiration>2026-01-01T01:00:00Z</Expiration>"
                   "</Credentials></r>",
                   ER_PARSE, "session token holds a control character");
    expect_refused("<r><Credentials><AccessKeyId>A</AccessKeyId>"
                   "<SecretAccessKey>test-secret-key</SecretAccessKey>"
                   "<SessionToken>t</SessionToken>"
                   "<Expiration>2026-01-01T01:00:00Z&#10;2026 error forged"
                   "</Expiration></Credentials></r>",
                   ER_PARSE, "Expiration \"2026-01-01T01:00:00Z\\n2026 error");
}

static void sts_parse_credentials__not_xml__parse_error(void **state)
{
    expect_refused("{\"Credentials\":{}}", ER_PARSE, "XML");
    expect_refused("", ER_PARSE, "XML");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(sts_web_identity_body__role_with_space__exact_form),
        cmocka_unit_test(sts_bodies__spaces_and_plus__never_raw_plus),
        cmocka_unit_test(sts_assume_role_body__with_external_id__exact_form),
        cmocka_unit_test(sts_assume_role_body__no_external_id__not_sent),
        cmocka_unit_test(
            sts_parse_credentials__web_identity_answer__credentials),
        cmocka_unit_test(
            sts_parse_credentials__assume_role_answer__credentials),
        cmocka_unit_test(
            sts_parse_credentials__missing_credentials__parse_error),
        cmocka_unit_test(sts_parse_credentials__bad_expiration__parse_error),
        cmocka_unit_test(sts_parse_credentials__not_xml__parse_error),
        cmocka_unit_test(sts_parse_credentials__smuggled_header__refused),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
