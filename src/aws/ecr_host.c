#include "ecr_host.h"
#include "../core/strutil.h"
#include "region.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

bool ecr_host_is_dns_name(const char *s)
{
    size_t n = strlen(s), label = 0;

    if (n == 0 || n > 253 || s[0] == '.' || s[n - 1] == '.')
        return false;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '.') {
            if (label == 0 || s[i - 1] == '-')
                return false;
            label = 0;
        } else if (isalnum(c) || (c == '-' && label > 0)) {
            if (++label > 63)
                return false;
        } else {
            return false;
        }
    }
    return s[n - 1] != '-';
}

/* The host part of s, lower-cased: after any "scheme://", before any
 * port, path, query or fragment. False when it does not fit or is not a
 * DNS name. */
static bool host_part(const char *s, char *out, size_t cap)
{
    const char *start = strstr(s, "://");
    size_t n;

    start = start ? start + 3 : s;
    n = strcspn(start, ":/?#@");
    if (start[n] == '@' || n == 0 || n >= cap)
        return false;
    for (size_t i = 0; i < n; i++)
        out[i] = (char)tolower((unsigned char)start[i]);
    out[n] = '\0';
    return ecr_host_is_dns_name(out);
}

/* "<12 digits>.dkr" then '.' or '-' then "ecr": the fixed front. */
static const char *after_front(const char *h, char account[13])
{
    for (int i = 0; i < 12; i++) {
        if (!isdigit((unsigned char)h[i]))
            return NULL;
    }
    if (strncmp(h + 12, ".dkr", 4) != 0 || (h[16] != '.' && h[16] != '-') ||
        strncmp(h + 17, "ecr", 3) != 0)
        return NULL;
    memcpy(account, h, 12);
    account[12] = '\0';
    return h + 20;
}

static bool parse_private(struct ecr_host *e)
{
    const char *p = after_front(e->host, e->account), *dot;
    const struct aws_partition *part;
    size_t n;

    if (!p)
        return false;
    e->fips = str_has_prefix(p, "-fips.");
    p += e->fips ? 5 : 0;
    if (*p++ != '.' || !(dot = strchr(p, '.')))
        return false;
    n = (size_t)(dot - p);
    if (n == 0 || n >= sizeof(e->region))
        return false;
    memcpy(e->region, p, n);
    e->region[n] = '\0';
    if (!aws_region_is_valid(e->region))
        return false;
    /* The suffix must be the one of the region's own partition. */
    part = aws_partition_of(e->region);
    if (strcmp(dot + 1, part->dns_suffix) == 0)
        e->dualstack = false;
    else if (strcmp(dot + 1, part->registry_dualstack_suffix) == 0)
        e->dualstack = true;
    else
        return false;
    e->partition = part;
    return true;
}

bool ecr_host_parse(const char *s, struct ecr_host *out)
{
    struct ecr_host e;

    memset(&e, 0, sizeof(e));
    if (!s || !host_part(s, e.host, sizeof(e.host)))
        return false;
    if (strcmp(e.host, ECR_PUBLIC_HOST) == 0 ||
        strcmp(e.host, ECR_PUBLIC_DUALSTACK_HOST) == 0) {
        e.is_public = true;
        e.dualstack = strcmp(e.host, ECR_PUBLIC_DUALSTACK_HOST) == 0;
        snprintf(e.region, sizeof(e.region), "%s", ECR_PUBLIC_REGION);
        e.partition = aws_partition_of(ECR_PUBLIC_REGION);
    } else if (!parse_private(&e)) {
        return false;
    }
    *out = e;
    return true;
}
