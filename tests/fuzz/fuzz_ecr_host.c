/*
 * ecr_host_parse on arbitrary text (proxyEndpoint values, and later image
 * references and server URLs). A host that parses must be a DNS name of
 * the region's own partition, and rebuild to itself from its parts.
 */
#include "aws/ecr_host.h"
#include "aws/region.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(const struct ecr_host *h)
{
    char *again;

    if (!ecr_host_is_dns_name(h->host) || !aws_region_is_valid(h->region) ||
        aws_partition_of(h->region) != h->partition)
        abort();
    if (h->is_public)
        return;
    if (strlen(h->account) != 12)
        abort();
    again =
        aws_ecr_registry_host_of(h->account, h->region, h->fips, h->dualstack);
    /* The dkr.ecr / dkr-ecr separator is not kept, the rest is. */
    if (strlen(again) != strlen(h->host) ||
        strcmp(again + 20, h->host + 20) != 0)
        abort();
    free(again);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *s = malloc(size + 1);
    struct ecr_host h;

    memcpy(s, data, size);
    s[size] = '\0';
    if (ecr_host_parse(s, &h))
        check(&h);
    free(s);
    return 0;
}
