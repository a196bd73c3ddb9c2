/*
 * endpoints.h - which host to call, as the AWS SDKs decide it.
 *
 * Pure. The partition comes from the region's prefix; the host from the
 * partition, FIPS and dual-stack switches; an endpoint URL from the
 * environment (AWS_ENDPOINT_URL_<SERVICE>, then AWS_ENDPOINT_URL) wins
 * over all of them unless AWS_IGNORE_CONFIGURED_ENDPOINT_URLS is set.
 */
#ifndef ECR_RENEW_AWS_ENDPOINTS_H
#define ECR_RENEW_AWS_ENDPOINTS_H

#include "../core/err.h"
#include "settings.h"

#include <stdbool.h>
#include <stddef.h>

struct aws_partition {
    const char *region_prefix;    /* "cn-"; "" for the commercial one */
    const char *name;             /* "aws", "aws-cn", "aws-us-gov", ... */
    const char *dns_suffix;       /* "amazonaws.com", "amazonaws.com.cn", ... */
    const char *dualstack_suffix; /* API hosts: "api.aws", ... */
    const char *registry_dualstack_suffix; /* registry hosts: "on.aws" */
    bool has_ecr_public;                   /* only the commercial one */
};

/* The partition a region belongs to (never NULL; "aws" by default). */
const struct aws_partition *aws_partition_of(const char *region);

/* Every partition, for parsers that start from a host name; *n is set. */
const struct aws_partition *aws_partitions(size_t *n);

/* The ECR API endpoint URL for region, newly allocated. */
enum er_code aws_ecr_endpoint(const struct aws_settings *s, const char *region,
                              char **url, struct er_error *err) ER_CHECK;

/* The regional STS endpoint URL for region, newly allocated. */
/* ECR Public's API: AWS_ENDPOINT_URL_ECR_PUBLIC, else AWS_ENDPOINT_URL,
 * else api.ecr-public.us-east-1.amazonaws.com (FIPS and dual-stack
 * variants as botocore builds them). */
enum er_code aws_ecr_public_endpoint(const struct aws_settings *s, char **url,
                                     struct er_error *err) ER_CHECK;

enum er_code aws_sts_endpoint(const struct aws_settings *s, const char *region,
                              char **url, struct er_error *err) ER_CHECK;

/* The private registry host of an account in a region (what
 * "docker login" names), honouring FIPS and dual-stack. */
char *aws_ecr_registry_host(const struct aws_settings *s, const char *account,
                            const char *region);

/* The same for explicit FIPS and dual-stack choices. */
char *aws_ecr_registry_host_of(const char *account, const char *region,
                               bool fips, bool dualstack);

#endif
