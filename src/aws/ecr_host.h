/*
 * ecr_host.h - what an ECR registry host name says.
 *
 * Pure. A private registry is <account>.dkr.ecr[-fips].<region>.<suffix>
 * (dual-stack: dkr-ecr and the partition's "on." suffix), the form the
 * kubelet plugin and the docker helper both match:
 *   ^(\d{12})\.dkr[.-]ecr(-fips)?\.([a-z0-9][a-z0-9-_]*)\.(<suffix>)$
 * with the suffixes of every partition (amazonaws.com, amazonaws.com.cn,
 * amazonaws.eu, on.aws, on.amazonwebservices.com.cn, and the ISO ones).
 * ECR Public is public.ecr.aws, or ecr-public.aws.com for dual-stack;
 * its API lives in us-east-1 of the commercial partition.
 *
 * Beyond the pattern, the region must be a region name and the suffix the
 * one of the region's own partition: a host that mixes them (a China
 * region under amazonaws.com) is not an ECR host.
 */
#ifndef ECR_RENEW_AWS_ECR_HOST_H
#define ECR_RENEW_AWS_ECR_HOST_H

#include "endpoints.h"

#include <stdbool.h>
#include <stddef.h>

#define ECR_PUBLIC_HOST "public.ecr.aws"
#define ECR_PUBLIC_DUALSTACK_HOST "ecr-public.aws.com"
#define ECR_PUBLIC_REGION "us-east-1"

struct ecr_host {
    char host[256];   /* lower case, without scheme, port or path */
    char account[13]; /* "" for ECR Public */
    char region[33];
    bool fips;
    bool dualstack;
    bool is_public;
    const struct aws_partition *partition;
};

/* Parses a registry host, or anything that starts with one: a URL
 * ("https://host/v2/"), an image reference ("host/app:v1", "host:443/app").
 * Returns false, leaving *out unspecified, when it names no ECR registry. */
bool ecr_host_parse(const char *s, struct ecr_host *out);

/* True when s is a plausible DNS host name (labels of letters, digits and
 * '-', 253 characters at most), the only thing a registry key may be. */
bool ecr_host_is_dns_name(const char *s);

#endif
