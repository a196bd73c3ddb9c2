/*
 * imds_parse_credentials: the JSON that IMDS, ECS and EKS Pod Identity
 * answer with.
 */
#include "aws/credentials.h"
#include "aws/imds.h"
#include "core/xalloc.h"
#include "net/http.h"
#include "test_assert.h"
#include "test_util.h"

#include <stdio.h>
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
                  ER_AWS, "Code \"\\x1b[31mFail\\nforged line\"");
}

static void imds_parse_credentials__not_an_object__refused(void **state)
{
    parse_refused("", ER_PARSE, "is empty, not JSON");
    parse_refused("[]", ER_PARSE, "not a JSON object");
    parse_refused("<html>", ER_PARSE, "is not JSON");
    parse_refused("{\"AccessKeyId\":", ER_PARSE, "is not JSON");
}

/* --- the session token over time, against a local stand-in ----------- */

struct imds_script {
    int tokens;      /* PUT /latest/api/token seen */
    int refuse_next; /* answer the next GET 401 */
};

static char *imds_answer(struct test_server *sv, const char *head)
{
    struct imds_script *sc = sv->ctx;
    char token[32];

    if (strncmp(head, "PUT /latest/api/token", 21) == 0) {
        snprintf(token, sizeof(token), "token-%d", ++sc->tokens);
        return xasprintf("HTTP/1.1 200 OK\r\nContent-Length: %zu\r\n"
                         "Connection: close\r\n\r\n%s",
                         strlen(token), token);
    }
    if (sc->refuse_next) {
        sc->refuse_next = 0;
        return xstrdup("HTTP/1.1 401 Unauthorized\r\nContent-Length: 0\r\n"
                       "Connection: close\r\n\r\n");
    }
    return xstrdup("HTTP/1.1 200 OK\r\nContent-Length: 9\r\n"
                   "Connection: close\r\n\r\nus-east-1");
}

struct imds_fixture {
    struct test_server sv;
    struct imds_script script;
    struct test_clock tc;
    struct aws_settings s;
    struct aws_client client;
    struct imds m;
};

static void imds_fixture_start(struct imds_fixture *f)
{
    memset(f, 0, sizeof(*f));
    test_server_start(&f->sv, imds_answer, &f->script);
    test_clock_init(&f->tc, 1767225600);
    aws_settings_set(&f->s.imds_endpoint, test_server_url(&f->sv));
    f->client.http = http_client_new(NULL);
    f->client.clock = &f->tc.clock;
    f->client.retry = retry_default_policy;
    imds_init(&f->m, &f->client, &f->s);
}

static void imds_fixture_stop(struct imds_fixture *f)
{
    imds_free(&f->m);
    http_client_free(f->client.http);
    aws_settings_free(&f->s);
    test_server_stop(&f->sv);
}

static void get_region(struct imds_fixture *f)
{
    struct buf body = BUF_INIT;
    struct er_error err;
    long status = 0;

    if (imds_get(&f->m, "/latest/meta-data/placement/region", &body, &status,
                 &err) != ER_OK)
        fail_msg("imds_get: %s", err.msg);
    assert_int_equal(status, 200);
    assert_string_equal(buf_str(&body), "us-east-1");
    buf_free(&body);
}

static void imds_get__token_reused_then_refreshed_before_ttl(void **state)
{
    struct imds_fixture f;

    (void)state;
    imds_fixture_start(&f);
    get_region(&f);
    get_region(&f);
    assert_int_equal(f.script.tokens, 1);
    /* Five hours on, the six-hour token is still good... */
    test_clock_advance_ms(&f.tc, 5LL * 3600 * 1000);
    get_region(&f);
    assert_int_equal(f.script.tokens, 1);
    /* ...but within five minutes of its end a new one is fetched. */
    test_clock_advance_ms(&f.tc, 56LL * 60 * 1000);
    get_region(&f);
    assert_int_equal(f.script.tokens, 2);
    imds_fixture_stop(&f);
}

static void imds_get__401__fetches_a_token_once_more(void **state)
{
    struct imds_fixture f;

    (void)state;
    imds_fixture_start(&f);
    get_region(&f);
    f.script.refuse_next = 1;
    get_region(&f);
    assert_int_equal(f.script.tokens, 2);
    imds_fixture_stop(&f);
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
        cmocka_unit_test(imds_get__token_reused_then_refreshed_before_ttl),
        cmocka_unit_test(imds_get__401__fetches_a_token_once_more),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
