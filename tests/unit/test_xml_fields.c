/*
 * Pulling named fields out of STS answers and XML error documents.
 */
#include "aws/xml_fields.h"
#include "core/buf.h"
#include "core/wipe.h"
#include "test_assert.h"
#include "test_util.h"

#include <stdlib.h>
#include <string.h>

static const char sts_answer[] =
    "<AssumeRoleWithWebIdentityResponse "
    "xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\">\n"
    "  <AssumeRoleWithWebIdentityResult>\n"
    "    <SubjectFromWebIdentityToken>system:serviceaccount:ops:renewer"
    "</SubjectFromWebIdentityToken>\n"
    "    <Audience>sts.amazonaws.com</Audience>\n"
    "    <AssumedRoleUser>\n"
    "      <Arn>arn:aws:sts::123456789012:assumed-role/ecr-pull/ecr-renew"
    "</Arn>\n"
    "      <AssumedRoleId>AROATESTONLY:ecr-renew</AssumedRoleId>\n"
    "    </AssumedRoleUser>\n"
    "    <Credentials>\n"
    "      <SessionToken>test-session-token</SessionToken>\n"
    "      <SecretAccessKey>test-secret-key</SecretAccessKey>\n"
    "      <Expiration>2026-01-01T01:00:00Z</Expiration>\n"
    "      <AccessKeyId>ASIATESTONLY</AccessKeyId>\n"
    "    </Credentials>\n"
    "  </AssumeRoleWithWebIdentityResult>\n"
    "  <ResponseMetadata>\n"
    "    <RequestId>c6104cbe-af31-11e0-8154-cbc7ccf896c7</RequestId>\n"
    "  </ResponseMetadata>\n"
    "</AssumeRoleWithWebIdentityResponse>\n";

static void free_values(char **v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        wipe_free_str(v[i]);
}

static enum er_code extract(const char *xml, const char *const *names, size_t n,
                            char **values, struct er_error *err)
{
    return xmlf_extract(xml, strlen(xml), names, n, values, err);
}

static void xmlf_extract__namespaced_sts_answer__all_fields(void **state)
{
    static const char *const names[] = {"AccessKeyId", "SecretAccessKey",
                                        "SessionToken", "Expiration",
                                        "RequestId"};
    char *v[5];
    struct er_error err = {0};

    assert_int_equal(extract(sts_answer, names, 5, v, &err), ER_OK);
    assert_string_equal(v[0], "ASIATESTONLY");
    assert_string_equal(v[1], "test-secret-key");
    assert_string_equal(v[2], "test-session-token");
    assert_string_equal(v[3], "2026-01-01T01:00:00Z");
    assert_string_equal(v[4], "c6104cbe-af31-11e0-8154-cbc7ccf896c7");
    free_values(v, 5);
}

static void
xmlf_extract__prefixed_namespace__matched_by_local_name(void **state)
{
    static const char *const names[] = {"Code"};
    const char *xml = "<s:ErrorResponse xmlns:s=\"urn:x\"><s:Error>"
                      "<s:Code>Throttling</s:Code></s:Error>"
                      "</s:ErrorResponse>";
    char *v[1];
    struct er_error err = {0};

    assert_int_equal(extract(xml, names, 1, v, &err), ER_OK);
    assert_string_equal(v[0], "Throttling");
    free_values(v, 1);
}

static void xmlf_extract__missing_fields__null_not_error(void **state)
{
    static const char *const names[] = {"AccessKeyId", "Nope", "Code"};
    char *v[3];
    struct er_error err = {0};

    assert_int_equal(extract(sts_answer, names, 3, v, &err), ER_OK);
    assert_string_equal(v[0], "ASIATESTONLY");
    assert_null(v[1]);
    assert_null(v[2]);
    free_values(v, 3);
}

static void xmlf_extract__repeated_element__first_wins(void **state)
{
    static const char *const names[] = {"Code"};
    char *v[1];
    struct er_error err = {0};

    assert_int_equal(extract("<r><Code>first</Code><Code>second</Code></r>",
                             names, 1, v, &err),
                     ER_OK);
    assert_string_equal(v[0], "first");
    free_values(v, 1);
}

static void xmlf_extract__entities_and_cdata__decoded(void **state)
{
    static const char *const names[] = {"Message", "Code"};
    char *v[2];
    struct er_error err = {0};

    assert_int_equal(extract("<r><Message>a &amp; b &lt;c&gt; &#65;</Message>"
                             "<Code><![CDATA[x<y]]></Code></r>",
                             names, 2, v, &err),
                     ER_OK);
    assert_string_equal(v[0], "a & b <c> A");
    assert_string_equal(v[1], "x<y");
    free_values(v, 2);
}

static void xmlf_extract__empty_element__empty_string(void **state)
{
    static const char *const names[] = {"Message"};
    char *v[1];
    struct er_error err = {0};

    assert_int_equal(extract("<r><Message/></r>", names, 1, v, &err), ER_OK);
    assert_non_null(v[0]);
    assert_string_equal(v[0], "");
    free_values(v, 1);
}

static void expect_malformed(const char *xml)
{
    static const char *const names[] = {"Code", "Message"};
    char *v[2] = {(char *)"poison", (char *)"poison"};
    struct er_error err = {0};

    assert_int_equal(xmlf_extract(xml, strlen(xml), names, 2, v, &err),
                     ER_PARSE);
    assert_null(v[0]);
    assert_null(v[1]);
    assert_int_equal(err.code, ER_PARSE);
    assert_contains(err.msg, "XML");
}

static void xmlf_extract__malformed__parse_error_values_null(void **state)
{
    expect_malformed("");
    expect_malformed("not xml at all");
    expect_malformed("<r><Code>x</Message></r>");
    /* The value was complete before the document broke off. */
    expect_malformed("<r><Code>x</Code><Message>y</Message>");
    expect_malformed("<r><Code>x</Code></r><r/>");
    expect_malformed("{\"__type\":\"AccessDenied\"}");
}

static void xmlf_extract__length__bounds_the_input(void **state)
{
    static const char *const names[] = {"Code"};
    const char *xml = "<r><Code>x</Code></r>GARBAGE";
    char *v[1];
    struct er_error err = {0};

    assert_int_equal(xmlf_extract(xml, 21, names, 1, v, &err), ER_OK);
    assert_string_equal(v[0], "x");
    free_values(v, 1);
}

static char *nested(int depth, const char *inner)
{
    struct buf b = BUF_INIT;

    for (int i = 0; i < depth; i++)
        buf_must_adds(&b, "<e>");
    buf_must_adds(&b, inner);
    for (int i = 0; i < depth; i++)
        buf_must_adds(&b, "</e>");
    return buf_detach(&b, NULL);
}

static void xmlf_extract__deep_nesting__refused(void **state)
{
    static const char *const names[] = {"Code"};
    char *v[1];
    struct er_error err = {0};
    char *shallow = nested(20, "<Code>ok</Code>");
    char *deep = nested(5000, "<Code>deep</Code>");

    assert_int_equal(extract(shallow, names, 1, v, &err), ER_OK);
    assert_string_equal(v[0], "ok");
    free_values(v, 1);
    assert_int_equal(extract(deep, names, 1, v, &err), ER_PARSE);
    assert_null(v[0]);
    free(shallow);
    free(deep);
}

static void xmlf_extract__huge_text__refused(void **state)
{
    static const char *const names[] = {"Message"};
    struct buf b = BUF_INIT;
    char *v[1];
    struct er_error err = {0};

    buf_must_adds(&b, "<r><Message>");
    for (int i = 0; i < 100 * 1024; i++)
        buf_must_adds(&b, "x");
    buf_must_adds(&b, "</Message></r>");
    assert_int_equal(xmlf_extract(b.data, b.len, names, 1, v, &err), ER_PARSE);
    assert_null(v[0]);
    buf_free(&b);
}

/* "Billion laughs": nested entities must not expand without bound. */
static void xmlf_extract__entity_bomb__refused(void **state)
{
    static const char *const names[] = {"Code"};
    struct buf b = BUF_INIT;
    char *v[1];
    struct er_error err = {0};

    buf_must_adds(&b, "<?xml version=\"1.0\"?><!DOCTYPE r [\n"
                      "<!ENTITY l0 \"lollollollollollollollollollol\">\n");
    for (int i = 1; i < 10; i++)
        buf_must_addf(&b,
                      "<!ENTITY l%d \"&l%d;&l%d;&l%d;&l%d;&l%d;&l%d;&l%d;"
                      "&l%d;&l%d;&l%d;\">\n",
                      i, i - 1, i - 1, i - 1, i - 1, i - 1, i - 1, i - 1, i - 1,
                      i - 1, i - 1);
    buf_must_adds(&b, "]><r><Code>&l9;</Code></r>");
    assert_int_equal(xmlf_extract(b.data, b.len, names, 1, v, &err), ER_PARSE);
    assert_null(v[0]);
    buf_free(&b);
}

static void xmlf_root_name__documents__local_name_or_null(void **state)
{
    char *root = xmlf_root_name(sts_answer, strlen(sts_answer));

    assert_string_equal(root, "AssumeRoleWithWebIdentityResponse");
    free(root);
    root = xmlf_root_name("<ErrorResponse><Error/></ErrorResponse>", 39);
    assert_string_equal(root, "ErrorResponse");
    free(root);
    assert_null(xmlf_root_name("{}", 2));
    assert_null(xmlf_root_name("", 0));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(xmlf_extract__namespaced_sts_answer__all_fields),
        cmocka_unit_test(
            xmlf_extract__prefixed_namespace__matched_by_local_name),
        cmocka_unit_test(xmlf_extract__missing_fields__null_not_error),
        cmocka_unit_test(xmlf_extract__repeated_element__first_wins),
        cmocka_unit_test(xmlf_extract__entities_and_cdata__decoded),
        cmocka_unit_test(xmlf_extract__empty_element__empty_string),
        cmocka_unit_test(xmlf_extract__malformed__parse_error_values_null),
        cmocka_unit_test(xmlf_extract__length__bounds_the_input),
        cmocka_unit_test(xmlf_extract__deep_nesting__refused),
        cmocka_unit_test(xmlf_extract__huge_text__refused),
        cmocka_unit_test(xmlf_extract__entity_bomb__refused),
        cmocka_unit_test(xmlf_root_name__documents__local_name_or_null),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
