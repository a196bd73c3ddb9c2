/*
 * kube_status_parse: Status answers as kube-apiserver writes them, and
 * answers that are not Status objects at all (a proxy's HTML page).
 */
#include "kube/status.h"
#include "test_assert.h"

#include <stdio.h>
#include <string.h>

static void parse(long http, const char *body, struct kube_status *st)
{
    kube_status_parse(http, body, strlen(body), st);
}

static void kube_status_parse__forbidden__reads_reason_message_details(void **s)
{
    struct kube_status st;

    (void)s;
    parse(403,
          "{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"metadata\":{},"
          "\"status\":\"Failure\",\"message\":\"secrets \\\"x\\\" is "
          "forbidden: User \\\"u\\\" cannot get resource\","
          "\"reason\":\"Forbidden\",\"details\":{\"name\":\"x\","
          "\"kind\":\"secrets\"},\"code\":403}",
          &st);
    assert_int_equal(st.code, 403);
    assert_string_equal(st.reason, "Forbidden");
    assert_contains(st.message, "cannot get resource");
    assert_string_equal(st.details_kind, "secrets");
    assert_string_equal(st.details_name, "x");
}

static void
kube_status_parse__missing_namespace__details_kind_namespaces(void **s)
{
    struct kube_status st;

    (void)s;
    parse(404,
          "{\"kind\":\"Status\",\"status\":\"Failure\",\"message\":"
          "\"namespaces \\\"nope\\\" not found\",\"reason\":\"NotFound\","
          "\"details\":{\"name\":\"nope\",\"kind\":\"namespaces\"},"
          "\"code\":404}",
          &st);
    assert_string_equal(st.reason, "NotFound");
    assert_string_equal(st.details_kind, "namespaces");
    assert_string_equal(st.details_name, "nope");
}

static void kube_status_parse__html_from_a_proxy__reason_from_http(void **s)
{
    struct kube_status st;

    (void)s;
    parse(502, "<html><body>Bad Gateway</body></html>", &st);
    assert_int_equal(st.code, 502);
    assert_string_equal(st.reason, "InternalError");
    assert_string_equal(st.message, "");
    parse(429, "", &st);
    assert_string_equal(st.reason, "TooManyRequests");
    parse(409, "{\"kind\":\"Secret\"}", &st);
    assert_string_equal(st.reason, "Conflict");
}

static void kube_status_parse__control_characters__made_visible(void **s)
{
    struct kube_status st;

    (void)s;
    parse(422,
          "{\"kind\":\"Status\",\"reason\":\"Invalid\",\"message\":"
          "\"line1\\nline2\\u001b[31m\",\"code\":422}",
          &st);
    assert_string_equal(st.message, "line1\\nline2\\x1b[31m");
}

static void kube_status_parse__long_message__truncated_not_overflowed(void **s)
{
    char msg[3001], body[4096];
    struct kube_status st;

    (void)s;
    memset(msg, 'm', sizeof(msg) - 1);
    msg[sizeof(msg) - 1] = '\0';
    snprintf(body, sizeof(body),
             "{\"kind\":\"Status\",\"message\":\"%s\",\"code\":500}", msg);
    parse(500, body, &st);
    assert_int_equal(strlen(st.message), sizeof(st.message) - 1);
    assert_string_equal(st.reason, "InternalError");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(
            kube_status_parse__forbidden__reads_reason_message_details),
        cmocka_unit_test(
            kube_status_parse__missing_namespace__details_kind_namespaces),
        cmocka_unit_test(
            kube_status_parse__html_from_a_proxy__reason_from_http),
        cmocka_unit_test(kube_status_parse__control_characters__made_visible),
        cmocka_unit_test(
            kube_status_parse__long_message__truncated_not_overflowed),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
