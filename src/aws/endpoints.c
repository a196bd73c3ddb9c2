#include "endpoints.h"
#include "region.h"
#include "../core/strutil.h"
#include "../core/xalloc.h"

#include <string.h>

/* Order matters: the first matching prefix wins ("us-gov-" before "us-"),
 * and the commercial partition, whose prefix matches everything, is last. */
static const struct aws_partition partitions[] = {
    {"cn-", "aws-cn", "amazonaws.com.cn", "api.amazonwebservices.com.cn",
     "on.amazonwebservices.com.cn", false},
    {"us-gov-", "aws-us-gov", "amazonaws.com", "api.aws", "on.aws", false},
    {"us-isob-", "aws-iso-b", "sc2s.sgov.gov", "sc2s.sgov.gov", "sc2s.sgov.gov",
     false},
    {"us-isof-", "aws-iso-f", "csp.hci.ic.gov", "csp.hci.ic.gov",
     "csp.hci.ic.gov", false},
    {"us-iso-", "aws-iso", "c2s.ic.gov", "c2s.ic.gov", "c2s.ic.gov", false},
    {"eu-isoe-", "aws-iso-e", "cloud.adc-e.uk", "cloud.adc-e.uk",
     "cloud.adc-e.uk", false},
    {"eusc-", "aws-eusc", "amazonaws.eu", "amazonaws.eu", "amazonaws.eu",
     false},
    {"", "aws", "amazonaws.com", "api.aws", "on.aws", true},
};

#define N_PARTITIONS (sizeof(partitions) / sizeof(partitions[0]))

/* ECR and STS offer FIPS endpoints only in these regions. */
static const char *const fips_regions[] = {
    "us-east-1", "us-east-2",     "us-west-1",
    "us-west-2", "us-gov-east-1", "us-gov-west-1",
};

const struct aws_partition *aws_partition_of(const char *region)
{
    for (size_t i = 0; i < N_PARTITIONS; i++) {
        if (str_has_prefix(region, partitions[i].region_prefix))
            return &partitions[i];
    }
    return &partitions[N_PARTITIONS - 1];
}

const struct aws_partition *aws_partitions(size_t *n)
{
    *n = N_PARTITIONS;
    return partitions;
}

static bool has_fips(const char *region)
{
    for (size_t i = 0; i < sizeof(fips_regions) / sizeof(fips_regions[0]);
         i++) {
        if (strcmp(region, fips_regions[i]) == 0)
            return true;
    }
    return false;
}

static const char *configured_url(const struct aws_settings *s,
                                  const char *service_url)
{
    if (s->ignore_configured_endpoint_urls)
        return NULL;
    return service_url ? service_url : s->endpoint_url;
}

/* Builds "https://<service>[-fips].<region>.<suffix>" after the checks
 * every service shares. */
static enum er_code build_endpoint(const struct aws_settings *s,
                                   const char *region, const char *service,
                                   const char *label, char **url,
                                   struct er_error *err)
{
    const struct aws_partition *p;

    if (!aws_region_is_valid(region))
        return er_set(err, ER_USAGE, "invalid AWS region \"%s\"", region);
    if (s->use_fips && !has_fips(region))
        return er_set(err, ER_USAGE,
                      "%s has no FIPS endpoint in %s (AWS_USE_FIPS_ENDPOINT "
                      "is set); use a US or GovCloud region or unset it",
                      label, region);
    p = aws_partition_of(region);
    if (s->use_dualstack)
        *url =
            xasprintf("https://%s%s.%s.%s", service, s->use_fips ? "-fips" : "",
                      region, p->dualstack_suffix);
    else
        *url = xasprintf("https://%s%s.%s.%s",
                         strcmp(service, "ecr") == 0 && !s->use_fips ? "api.ecr"
                                                                     : service,
                         s->use_fips ? "-fips" : "", region, p->dns_suffix);
    return ER_OK;
}

enum er_code aws_ecr_endpoint(const struct aws_settings *s, const char *region,
                              char **url, struct er_error *err)
{
    const char *configured = configured_url(s, s->endpoint_url_ecr);

    if (configured) {
        *url = xstrdup(configured);
        return ER_OK;
    }
    return build_endpoint(s, region, "ecr", "ECR", url, err);
}

enum er_code aws_ecr_public_endpoint(const struct aws_settings *s, char **url,
                                     struct er_error *err)
{
    const char *configured = configured_url(s, s->endpoint_url_ecr_public);

    if (configured) {
        *url = xstrdup(configured);
        return ER_OK;
    }
    (void)err;
    /* us-east-1 of the commercial partition, as every peer pins it. */
    if (s->use_dualstack)
        *url = xstrdup("https://ecr-public.us-east-1.api.aws");
    else if (s->use_fips)
        *url = xstrdup("https://api.ecr-public-fips.us-east-1.amazonaws.com");
    else
        *url = xstrdup("https://api.ecr-public.us-east-1.amazonaws.com");
    return ER_OK;
}

enum er_code aws_sts_endpoint(const struct aws_settings *s, const char *region,
                              char **url, struct er_error *err)
{
    const char *configured = configured_url(s, s->endpoint_url_sts);

    if (configured) {
        *url = xstrdup(configured);
        return ER_OK;
    }
    return build_endpoint(s, region, "sts", "STS", url, err);
}

char *aws_ecr_registry_host_of(const char *account, const char *region,
                               bool fips, bool dualstack)
{
    const struct aws_partition *p = aws_partition_of(region);

    if (dualstack)
        return xasprintf("%s.dkr-ecr%s.%s.%s", account, fips ? "-fips" : "",
                         region, p->registry_dualstack_suffix);
    return xasprintf("%s.dkr.ecr%s.%s.%s", account, fips ? "-fips" : "", region,
                     p->dns_suffix);
}

char *aws_ecr_registry_host(const struct aws_settings *s, const char *account,
                            const char *region)
{
    return aws_ecr_registry_host_of(account, region, s->use_fips,
                                    s->use_dualstack);
}
