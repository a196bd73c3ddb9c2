/*
 * Which host ecr-renew calls, per partition and switch, and the endpoint
 * URL overrides of the current SDKs.
 */
#include "aws/endpoints.h"
#include "aws/region.h"
#include "aws/settings.h"
#include "test_assert.h"
#include "test_util.h"

#include <stdlib.h>

typedef enum er_code endpoint_fn(const struct aws_settings *s,
                                 const char *region, char **url,
                                 struct er_error *err);

static void expect_url(endpoint_fn *fn, const struct aws_settings *s,
                       const char *region, const char *want)
{
    struct er_error err = {0};
    char *url = NULL;

    if (fn(s, region, &url, &err) != ER_OK)
        fail_msg("endpoint for %s failed: %s", region, err.msg);
    assert_string_equal(url, want);
    free(url);
}

static void expect_refused(endpoint_fn *fn, const struct aws_settings *s,
                           const char *region, const char *want_msg)
{
    struct er_error err = {0};
    char *url = NULL;

    assert_int_equal(fn(s, region, &url, &err), ER_USAGE);
    assert_null(url);
    assert_contains(err.msg, want_msg);
}

static void expect_host(const struct aws_settings *s, const char *region,
                        const char *want)
{
    char *host = aws_ecr_registry_host(s, "123456789012", region);

    assert_string_equal(host, want);
    free(host);
}

static void aws_partition_of__regions__right_partition(void **state)
{
    assert_string_equal(aws_partition_of("us-east-1")->name, "aws");
    assert_string_equal(aws_partition_of("eu-west-1")->name, "aws");
    assert_string_equal(aws_partition_of("cn-north-1")->name, "aws-cn");
    assert_string_equal(aws_partition_of("cn-northwest-1")->dns_suffix,
                        "amazonaws.com.cn");
    assert_string_equal(aws_partition_of("us-gov-west-1")->name, "aws-us-gov");
    assert_string_equal(aws_partition_of("us-iso-east-1")->name, "aws-iso");
    assert_string_equal(aws_partition_of("us-isob-east-1")->name, "aws-iso-b");
    assert_string_equal(aws_partition_of("brand-new-1")->name, "aws");
}

static void aws_ecr_endpoint__each_partition__api_ecr_host(void **state)
{
    struct aws_settings s = {0};

    expect_url(aws_ecr_endpoint, &s, "us-east-1",
               "https://api.ecr.us-east-1.amazonaws.com");
    expect_url(aws_ecr_endpoint, &s, "eu-west-1",
               "https://api.ecr.eu-west-1.amazonaws.com");
    expect_url(aws_ecr_endpoint, &s, "cn-north-1",
               "https://api.ecr.cn-north-1.amazonaws.com.cn");
    expect_url(aws_ecr_endpoint, &s, "cn-northwest-1",
               "https://api.ecr.cn-northwest-1.amazonaws.com.cn");
    expect_url(aws_ecr_endpoint, &s, "us-gov-west-1",
               "https://api.ecr.us-gov-west-1.amazonaws.com");
    expect_url(aws_ecr_endpoint, &s, "us-gov-east-1",
               "https://api.ecr.us-gov-east-1.amazonaws.com");
}

static void aws_sts_endpoint__each_partition__regional_host(void **state)
{
    struct aws_settings s = {0};

    expect_url(aws_sts_endpoint, &s, "us-east-1",
               "https://sts.us-east-1.amazonaws.com");
    expect_url(aws_sts_endpoint, &s, "ap-northeast-1",
               "https://sts.ap-northeast-1.amazonaws.com");
    expect_url(aws_sts_endpoint, &s, "cn-north-1",
               "https://sts.cn-north-1.amazonaws.com.cn");
    expect_url(aws_sts_endpoint, &s, "us-gov-west-1",
               "https://sts.us-gov-west-1.amazonaws.com");
}

static void aws_ecr_endpoint__fips_in_us_and_govcloud__fips_host(void **state)
{
    struct aws_settings s = {.use_fips = true};

    expect_url(aws_ecr_endpoint, &s, "us-east-1",
               "https://ecr-fips.us-east-1.amazonaws.com");
    expect_url(aws_ecr_endpoint, &s, "us-west-2",
               "https://ecr-fips.us-west-2.amazonaws.com");
    expect_url(aws_ecr_endpoint, &s, "us-gov-west-1",
               "https://ecr-fips.us-gov-west-1.amazonaws.com");
    expect_url(aws_sts_endpoint, &s, "us-east-2",
               "https://sts-fips.us-east-2.amazonaws.com");
    expect_url(aws_sts_endpoint, &s, "us-gov-east-1",
               "https://sts-fips.us-gov-east-1.amazonaws.com");
}

static void aws_ecr_endpoint__fips_elsewhere__refused_with_advice(void **state)
{
    struct aws_settings s = {.use_fips = true};

    expect_refused(aws_ecr_endpoint, &s, "eu-west-1",
                   "ECR has no FIPS endpoint in eu-west-1");
    expect_refused(aws_ecr_endpoint, &s, "cn-north-1", "AWS_USE_FIPS_ENDPOINT");
    expect_refused(aws_sts_endpoint, &s, "ap-south-1",
                   "STS has no FIPS endpoint in ap-south-1");
}

static void aws_ecr_endpoint__dualstack__api_aws_hosts(void **state)
{
    struct aws_settings s = {.use_dualstack = true};
    struct aws_settings both = {.use_dualstack = true, .use_fips = true};

    expect_url(aws_ecr_endpoint, &s, "us-east-1",
               "https://ecr.us-east-1.api.aws");
    expect_url(aws_ecr_endpoint, &s, "cn-north-1",
               "https://ecr.cn-north-1.api.amazonwebservices.com.cn");
    expect_url(aws_sts_endpoint, &s, "eu-west-1",
               "https://sts.eu-west-1.api.aws");
    expect_url(aws_ecr_endpoint, &both, "us-east-1",
               "https://ecr-fips.us-east-1.api.aws");
}

static void aws_ecr_endpoint__service_url__beats_general_url(void **state)
{
    struct aws_settings s = {
        .endpoint_url = "http://127.0.0.1:4566",
        .endpoint_url_ecr = "http://127.0.0.1:5000/ecr",
    };

    expect_url(aws_ecr_endpoint, &s, "us-east-1", "http://127.0.0.1:5000/ecr");
    /* STS has no service URL here, so the general one applies. */
    expect_url(aws_sts_endpoint, &s, "us-east-1", "http://127.0.0.1:4566");
}

static void aws_sts_endpoint__service_url__used(void **state)
{
    struct aws_settings s = {.endpoint_url_sts = "https://sts.example.test"};

    expect_url(aws_sts_endpoint, &s, "us-east-1", "https://sts.example.test");
    expect_url(aws_ecr_endpoint, &s, "us-east-1",
               "https://api.ecr.us-east-1.amazonaws.com");
}

static void aws_ecr_endpoint__general_url_only__used_for_all(void **state)
{
    struct aws_settings s = {.endpoint_url = "http://localhost:4566"};

    expect_url(aws_ecr_endpoint, &s, "eu-west-3", "http://localhost:4566");
    expect_url(aws_sts_endpoint, &s, "eu-west-3", "http://localhost:4566");
}

static void aws_ecr_endpoint__ignore_configured_urls__built_host(void **state)
{
    struct aws_settings s = {
        .endpoint_url = "http://127.0.0.1:4566",
        .endpoint_url_ecr = "http://127.0.0.1:5000",
        .endpoint_url_sts = "http://127.0.0.1:5001",
        .ignore_configured_endpoint_urls = true,
    };

    expect_url(aws_ecr_endpoint, &s, "us-east-1",
               "https://api.ecr.us-east-1.amazonaws.com");
    expect_url(aws_sts_endpoint, &s, "us-east-1",
               "https://sts.us-east-1.amazonaws.com");
}

static void aws_ecr_endpoint__invalid_region__refused(void **state)
{
    struct aws_settings s = {0};

    expect_refused(aws_ecr_endpoint, &s, "", "invalid AWS region");
    expect_refused(aws_ecr_endpoint, &s, "US-EAST-1", "invalid AWS region");
    expect_refused(aws_ecr_endpoint, &s, "us-east-1.evil.com",
                   "invalid AWS region \"us-east-1.evil.com\"");
    expect_refused(aws_sts_endpoint, &s, "us-east-1/x", "invalid AWS region");
    expect_refused(aws_sts_endpoint, &s, "us east", "invalid AWS region");
}

static void aws_region_is_valid__shapes__as_expected(void **state)
{
    assert_true(aws_region_is_valid("us-east-1"));
    assert_true(aws_region_is_valid("us-gov-west-1"));
    assert_true(aws_region_is_valid("ap-southeast-7"));
    assert_false(aws_region_is_valid(""));
    assert_false(aws_region_is_valid("1us-east"));
    assert_false(aws_region_is_valid("-us-east-1"));
    assert_false(aws_region_is_valid("us-east-"));
    assert_false(aws_region_is_valid("us_east_1"));
    assert_false(aws_region_is_valid("us-east-1:443"));
    assert_false(aws_region_is_valid("a-very-long-region-name-that-goes-on"));
}

static void aws_ecr_registry_host__each_partition__dkr_host(void **state)
{
    struct aws_settings s = {0};

    expect_host(&s, "us-east-1",
                "123456789012.dkr.ecr.us-east-1.amazonaws.com");
    expect_host(&s, "cn-north-1",
                "123456789012.dkr.ecr.cn-north-1.amazonaws.com.cn");
    expect_host(&s, "us-gov-west-1",
                "123456789012.dkr.ecr.us-gov-west-1.amazonaws.com");
}

static void
aws_ecr_registry_host__fips_and_dualstack__switch_hosts(void **state)
{
    struct aws_settings fips = {.use_fips = true};
    struct aws_settings dual = {.use_dualstack = true};
    struct aws_settings both = {.use_fips = true, .use_dualstack = true};

    expect_host(&fips, "us-east-1",
                "123456789012.dkr.ecr-fips.us-east-1.amazonaws.com");
    expect_host(&fips, "us-gov-east-1",
                "123456789012.dkr.ecr-fips.us-gov-east-1.amazonaws.com");
    expect_host(&dual, "eu-west-1", "123456789012.dkr-ecr.eu-west-1.on.aws");
    expect_host(&dual, "cn-north-1",
                "123456789012.dkr-ecr.cn-north-1.on.amazonwebservices.com.cn");
    expect_host(&both, "us-west-2",
                "123456789012.dkr-ecr-fips.us-west-2.on.aws");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(aws_partition_of__regions__right_partition),
        cmocka_unit_test(aws_ecr_endpoint__each_partition__api_ecr_host),
        cmocka_unit_test(aws_sts_endpoint__each_partition__regional_host),
        cmocka_unit_test(aws_ecr_endpoint__fips_in_us_and_govcloud__fips_host),
        cmocka_unit_test(aws_ecr_endpoint__fips_elsewhere__refused_with_advice),
        cmocka_unit_test(aws_ecr_endpoint__dualstack__api_aws_hosts),
        cmocka_unit_test(aws_ecr_endpoint__service_url__beats_general_url),
        cmocka_unit_test(aws_sts_endpoint__service_url__used),
        cmocka_unit_test(aws_ecr_endpoint__general_url_only__used_for_all),
        cmocka_unit_test(aws_ecr_endpoint__ignore_configured_urls__built_host),
        cmocka_unit_test(aws_ecr_endpoint__invalid_region__refused),
        cmocka_unit_test(aws_region_is_valid__shapes__as_expected),
        cmocka_unit_test(aws_ecr_registry_host__each_partition__dkr_host),
        cmocka_unit_test(
            aws_ecr_registry_host__fips_and_dualstack__switch_hosts),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
