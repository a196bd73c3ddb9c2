/*
 * SigV4 beyond the official suite: the headers libcurl and proxies add
 * are never signed, a session token is signed, and an ECR-shaped request
 * produces the header set ECR expects.
 */
#include "aws/sigv4.h"
#include "test_assert.h"

#include <string.h>

static const struct sigv4_credentials creds = {
    "AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", NULL};

static void sign(const struct sigv4_header *h, size_t n,
                 const struct sigv4_credentials *c, struct sigv4_signed *out)
{
    struct sigv4_request req = {"POST", "/", NULL, h, n, "{}", 2};
    struct sigv4_options opt = {"us-east-1", "ecr", 1440938160,
                                true,        false, false};
    struct er_error err = {0};

    assert_int_equal(sigv4_sign(&req, c, &opt, out, &err), ER_OK);
}

static void sigv4_sign__hop_by_hop_headers__never_signed(void **state)
{
    const struct sigv4_header h[] = {
        {"Host", "api.ecr.us-east-1.amazonaws.com"},
        {"User-Agent", "ecr-renew/0"},
        {"Connection", "keep-alive"},
        {"Expect", "100-continue"},
        {"Transfer-Encoding", "chunked"},
        {"X-Amzn-Trace-Id", "Root=1-x"},
        {"Proxy-Authorization", "Basic x"},
        {"Authorization", "stale"},
    };
    struct sigv4_signed s;

    (void)state;
    sign(h, sizeof(h) / sizeof(h[0]), &creds, &s);
    assert_contains(sigv4_added_value(&s, "Authorization"),
                    "SignedHeaders=host;x-amz-date, Signature=");
    assert_not_contains(buf_str(&s.canonical_request), "user-agent");
    assert_false(sigv4_header_is_signable("USER-AGENT"));
    assert_true(sigv4_header_is_signable("X-Amz-Target"));
    sigv4_signed_free(&s);
}

static void sigv4_sign__session_token__signs_token_header(void **state)
{
    const struct sigv4_credentials temp = {"ASIAEXAMPLE", "secret",
                                           "FQoGZXIvYXdzEXAMPLETOKEN"};
    const struct sigv4_header h[] = {
        {"Host", "api.ecr.us-east-1.amazonaws.com"}};
    struct sigv4_signed s;

    (void)state;
    sign(h, 1, &temp, &s);
    assert_string_equal(sigv4_added_value(&s, "X-Amz-Security-Token"),
                        "FQoGZXIvYXdzEXAMPLETOKEN");
    assert_contains(sigv4_added_value(&s, "Authorization"),
                    "SignedHeaders=host;x-amz-date;x-amz-security-token,");
    assert_contains(buf_str(&s.canonical_request),
                    "x-amz-security-token:FQoGZXIvYXdzEXAMPLETOKEN\n");
    sigv4_signed_free(&s);
}

static void sigv4_sign__ecr_request__scope_and_signed_headers(void **state)
{
    const struct sigv4_header h[] = {
        {"Host", "api.ecr.us-east-1.amazonaws.com"},
        {"Content-Type", "application/x-amz-json-1.1"},
        {"X-Amz-Target",
         "AmazonEC2ContainerRegistry_V20150921.GetAuthorizationToken"},
    };
    struct sigv4_signed s;

    (void)state;
    sign(h, 3, &creds, &s);
    assert_string_equal(sigv4_added_value(&s, "X-Amz-Date"),
                        "20150830T123600Z");
    assert_contains(sigv4_added_value(&s, "Authorization"),
                    "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/"
                    "us-east-1/ecr/aws4_request, SignedHeaders=content-type;"
                    "host;x-amz-date;x-amz-target, Signature=");
    /* The payload hash is the body's, here SHA-256 of "{}". */
    assert_contains(buf_str(&s.canonical_request),
                    "44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f6"
                    "1caaff8a");
    assert_null(sigv4_added_value(&s, "X-Amz-Security-Token"));
    sigv4_signed_free(&s);
}

static void sigv4_sign__missing_secret__refused(void **state)
{
    const struct sigv4_credentials none = {"AKIDEXAMPLE", "", NULL};
    const struct sigv4_header h[] = {{"Host", "x"}};
    struct sigv4_request req = {"POST", "/", NULL, h, 1, NULL, 0};
    struct sigv4_options opt = {"us-east-1", "ecr", 0, true, false, false};
    struct sigv4_signed s;
    struct er_error err = {0};

    (void)state;
    assert_int_equal(sigv4_sign(&req, &none, &opt, &s, &err), ER_INTERNAL);
    assert_contains(err.msg, "credentials are incomplete");
    sigv4_signed_free(&s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(sigv4_sign__hop_by_hop_headers__never_signed),
        cmocka_unit_test(sigv4_sign__session_token__signs_token_header),
        cmocka_unit_test(sigv4_sign__ecr_request__scope_and_signed_headers),
        cmocka_unit_test(sigv4_sign__missing_secret__refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
