/*
 * Registry host names: every form ECR writes, in every partition, and the
 * look-alikes that are not ECR hosts.
 */
#include "aws/ecr_host.h"
#include "test_assert.h"
#include "test_util.h"

#include <string.h>

static struct ecr_host parsed(const char *s)
{
    struct ecr_host h;

    if (!ecr_host_parse(s, &h))
        fail_msg("\"%s\" was not taken for an ECR host", s);
    return h;
}

static void ecr_host_parse__private_forms__account_region_flags(void **state)
{
    struct ecr_host h;

    (void)state;
    h = parsed("123456789012.dkr.ecr.us-east-1.amazonaws.com");
    assert_string_equal(h.account, "123456789012");
    assert_string_equal(h.region, "us-east-1");
    assert_string_equal(h.partition->name, "aws");
    assert_false(h.fips || h.dualstack || h.is_public);
    h = parsed("123456789012.dkr.ecr-fips.us-gov-west-1.amazonaws.com");
    assert_true(h.fips);
    assert_string_equal(h.partition->name, "aws-us-gov");
    h = parsed("123456789012.dkr-ecr.eu-west-1.on.aws");
    assert_true(h.dualstack);
    assert_false(h.fips);
    h = parsed("123456789012.dkr-ecr-fips.us-east-2.on.aws");
    assert_true(h.dualstack && h.fips);
    h = parsed("123456789012.dkr.ecr.cn-north-1.amazonaws.com.cn");
    assert_string_equal(h.partition->name, "aws-cn");
    h = parsed(
        "123456789012.dkr-ecr.cn-northwest-1.on.amazonwebservices.com.cn");
    assert_true(h.dualstack);
    h = parsed("123456789012.dkr.ecr.eusc-de-east-1.amazonaws.eu");
    assert_string_equal(h.partition->name, "aws-eusc");
    h = parsed("123456789012.dkr.ecr.us-iso-east-1.c2s.ic.gov");
    assert_string_equal(h.partition->name, "aws-iso");
    h = parsed("123456789012.dkr.ecr.us-isob-east-1.sc2s.sgov.gov");
    assert_string_equal(h.partition->name, "aws-iso-b");
    h = parsed("123456789012.dkr.ecr.eu-isoe-west-1.cloud.adc-e.uk");
    assert_string_equal(h.partition->name, "aws-iso-e");
    h = parsed("123456789012.dkr.ecr.us-isof-south-1.csp.hci.ic.gov");
    assert_string_equal(h.partition->name, "aws-iso-f");
}

static void ecr_host_parse__urls_and_images__host_taken(void **state)
{
    struct ecr_host h;

    (void)state;
    h = parsed("https://123456789012.dkr.ecr.us-east-1.amazonaws.com");
    assert_string_equal(h.host, "123456789012.dkr.ecr.us-east-1.amazonaws.com");
    h = parsed("https://123456789012.dkr.ecr.us-east-1.amazonaws.com/v2/");
    h = parsed("123456789012.DKR.ECR.US-EAST-1.AMAZONAWS.COM/app:v1");
    assert_string_equal(h.region, "us-east-1");
    h = parsed("123456789012.dkr.ecr.eu-west-1.amazonaws.com:443/team/app@"
               "sha256:abc");
    assert_string_equal(h.region, "eu-west-1");
}

static void ecr_host_parse__public__us_east_1(void **state)
{
    struct ecr_host h;

    (void)state;
    h = parsed("public.ecr.aws/nginx/nginx:latest");
    assert_true(h.is_public);
    assert_false(h.dualstack);
    assert_string_equal(h.region, "us-east-1");
    assert_string_equal(h.account, "");
    h = parsed("ecr-public.aws.com");
    assert_true(h.is_public && h.dualstack);
}

static void ecr_host_parse__look_alikes__refused(void **state)
{
    static const char *const bad[] = {
        "",
        "docker.io/library/nginx",
        "12345678901.dkr.ecr.us-east-1.amazonaws.com",   /* 11 digits */
        "1234567890123.dkr.ecr.us-east-1.amazonaws.com", /* 13 digits */
        "123456789012.dkr.ecr.us-east-1.amazonaws.com.evil.example",
        "123456789012.dkr.ecr.us-east-1.amazonaws.co",
        "123456789012.dkr.ecr.cn-north-1.amazonaws.com", /* wrong partition */
        "123456789012.dkr.ecr.us-east-1.amazonaws.com.cn",
        "123456789012.dkr.ecr.us-gov-west-1.c2s.ic.gov",
        "123456789012.dkr.ecr..amazonaws.com",
        "123456789012.dkr.ecr.us_east_1.amazonaws.com",
        "user:pw@123456789012.dkr.ecr.us-east-1.amazonaws.com",
        "https://evil.example@123456789012.dkr.ecr.us-east-1.amazonaws.com",
        "123456789012.dkr.ecr.us-east-1.amazonaws.com\r\nX: y",
        "123456789012.dkr.ecr,us-east-1.amazonaws.com",
        "public.ecr.aws.evil.example",
    };
    struct ecr_host h;

    (void)state;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        if (ecr_host_parse(bad[i], &h))
            fail_msg("\"%s\" was taken for an ECR host", bad[i]);
    }
}

static void ecr_host_is_dns_name__shapes(void **state)
{
    (void)state;
    assert_true(ecr_host_is_dns_name("a.example.com"));
    assert_true(ecr_host_is_dns_name("localhost"));
    assert_false(ecr_host_is_dns_name(""));
    assert_false(ecr_host_is_dns_name("a..b"));
    assert_false(ecr_host_is_dns_name("-a.b"));
    assert_false(ecr_host_is_dns_name("a-.b"));
    assert_false(ecr_host_is_dns_name("a b"));
    assert_false(ecr_host_is_dns_name("a,b"));
    assert_false(ecr_host_is_dns_name("a\nb"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(ecr_host_parse__private_forms__account_region_flags),
        cmocka_unit_test(ecr_host_parse__urls_and_images__host_taken),
        cmocka_unit_test(ecr_host_parse__public__us_east_1),
        cmocka_unit_test(ecr_host_parse__look_alikes__refused),
        cmocka_unit_test(ecr_host_is_dns_name__shapes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
