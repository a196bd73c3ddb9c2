/*
 * time_parse_iso8601 on arbitrary text (Expiration fields of STS, IMDS
 * and container answers). A time that parses must survive formatting as
 * RFC 3339 and parsing again.
 */
#include "core/timeutil.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *s = malloc(size + 1);
    char again[TIME_RFC3339_LEN];
    time_t t, t2;

    memcpy(s, data, size);
    s[size] = '\0';
    /* Whatever parses is within the sane range, and formats back to the
     * same four-digit shape. */
    if (time_parse_iso8601(s, &t) == 0) {
        if (t < TIME_SANE_MIN || t > TIME_SANE_MAX)
            abort();
        time_format_rfc3339(t, again);
        if (time_parse_iso8601(again, &t2) != 0 || t2 != t)
            abort();
    }
    free(s);
    return 0;
}
