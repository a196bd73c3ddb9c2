/*
 * Container credentials: which endpoint is called, and that plain HTTP
 * only ever goes to loopback or the two link-local agent addresses.
 */
#include "aws/container.h"
#include "aws/settings.h"
#include "test_assert.h"
#include "test_util.h"

#include <stdlib.h>

static void container_host_allows_http__local_agents__allowed(void **state)
{
    static const char *const ok[] = {
        "127.0.0.1",       "127.1.2.3",
        "127.255.255.255", "::1",
        "169.254.170.2",   "169.254.170.23",
        "fd00:ec2::23",    "fd00:ec2:0:0:0:0:0:23",
        "localhost",
    };

    for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++)
        if (!container_host_allows_http(ok[i]))
            fail_msg("plain http to %s should be allowed", ok[i]);
}

static void container_host_allows_http__network_hosts__refused(void **state)
{
    static const char *const no[] = {
        "10.0.0.1",
        "192.168.1.10",
        "169.254.169.254",
        "169.254.170.3",
        "128.0.0.1",
        "example.com",
        "localhost.example.com",
        "127.0.0.1.nip.io",
        "fd00:ec2::24",
        "::2",
        "::ffff:10.0.0.1",
        "0.0.0.0",
        "",
    };

    for (size_t i = 0; i < sizeof(no) / sizeof(no[0]); i++)
        if (container_host_allows_http(no[i]))
            fail_msg("plain http to \"%s\" should be refused", no[i]);
}

static void expect_endpoint(const struct aws_settings *s, const char *want)
{
    struct er_error err = {0};
    char *url = NULL;

    if (container_endpoint(s, &url, &err) != ER_OK)
        fail_msg("container_endpoint failed: %s", err.msg);
    assert_string_equal(url, want);
    free(url);
}

static void expect_refused(const struct aws_settings *s, const char *want_msg)
{
    struct er_error err = {0};
    char *url = NULL;

    if (container_endpoint(s, &url, &err) == ER_OK)
        fail_msg("container_endpoint accepted %s", url);
    assert_null(url);
    assert_contains(err.msg, want_msg);
}

static void container_endpoint__relative_uri__ecs_agent_host(void **state)
{
    struct aws_settings s = {.container_relative_uri = "/v2/credentials/abc"};
    struct aws_settings bare = {.container_relative_uri = "v2/credentials/x"};

    expect_endpoint(&s, "http://169.254.170.2/v2/credentials/abc");
    expect_endpoint(&bare, "http://169.254.170.2/v2/credentials/x");
}

/* A relative URI cannot smuggle in another host. */
static void
container_endpoint__relative_uri_with_at__stays_on_agent(void **state)
{
    struct aws_settings s = {.container_relative_uri = "@evil.example/x"};

    expect_endpoint(&s, "http://169.254.170.2/@evil.example/x");
}

static void container_endpoint__relative_and_full__relative_wins(void **state)
{
    struct aws_settings s = {
        .container_relative_uri = "/v2/credentials/abc",
        .container_full_uri = "https://elsewhere.example/creds",
    };

    expect_endpoint(&s, "http://169.254.170.2/v2/credentials/abc");
}

static void container_endpoint__https_full_uri__any_host(void **state)
{
    struct aws_settings s = {
        .container_full_uri = "https://creds.example.com:8443/v1/credentials",
    };

    expect_endpoint(&s, "https://creds.example.com:8443/v1/credentials");
}

static void container_endpoint__http_full_uri_local__allowed(void **state)
{
    struct aws_settings pod = {.container_full_uri =
                                   "http://169.254.170.23/v1/credentials"};
    struct aws_settings lo = {.container_full_uri =
                                  "http://127.0.0.1:8080/creds"};
    struct aws_settings v6 = {.container_full_uri =
                                  "http://[fd00:ec2::23]/v1/credentials"};
    struct aws_settings name = {.container_full_uri = "http://localhost/c"};

    expect_endpoint(&pod, "http://169.254.170.23/v1/credentials");
    expect_endpoint(&lo, "http://127.0.0.1:8080/creds");
    expect_endpoint(&v6, "http://[fd00:ec2::23]/v1/credentials");
    expect_endpoint(&name, "http://localhost/c");
}

static void container_endpoint__http_full_uri_remote__refused(void **state)
{
    struct aws_settings ip = {.container_full_uri = "http://10.0.0.1/creds"};
    struct aws_settings host = {.container_full_uri =
                                    "http://example.com/creds"};
    struct aws_settings userinfo = {
        .container_full_uri = "http://169.254.170.2@evil.example/creds"};
    struct aws_settings suffix = {.container_full_uri =
                                      "http://127.0.0.1.evil.example/creds"};

    expect_refused(&ip, "use https");
    expect_refused(&host, "plain http is only allowed");
    expect_refused(&userinfo, "use https");
    expect_refused(&suffix, "use https");
}

static void container_endpoint__other_scheme_or_junk__refused(void **state)
{
    struct aws_settings ftp = {.container_full_uri = "ftp://127.0.0.1/creds"};
    struct aws_settings junk = {.container_full_uri = "not a url"};

    expect_refused(&ftp, "use https");
    expect_refused(&junk, "AWS_CONTAINER_CREDENTIALS_FULL_URI");
}

static void container_configured__either_variable__true(void **state)
{
    struct aws_settings none = {0};
    struct aws_settings rel = {.container_relative_uri = "/x"};
    struct aws_settings full = {.container_full_uri = "https://x/"};

    assert_false(container_configured(&none));
    assert_true(container_configured(&rel));
    assert_true(container_configured(&full));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(container_host_allows_http__local_agents__allowed),
        cmocka_unit_test(container_host_allows_http__network_hosts__refused),
        cmocka_unit_test(container_endpoint__relative_uri__ecs_agent_host),
        cmocka_unit_test(
            container_endpoint__relative_uri_with_at__stays_on_agent),
        cmocka_unit_test(container_endpoint__relative_and_full__relative_wins),
        cmocka_unit_test(container_endpoint__https_full_uri__any_host),
        cmocka_unit_test(container_endpoint__http_full_uri_local__allowed),
        cmocka_unit_test(container_endpoint__http_full_uri_remote__refused),
        cmocka_unit_test(container_endpoint__other_scheme_or_junk__refused),
        cmocka_unit_test(container_configured__either_variable__true),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
