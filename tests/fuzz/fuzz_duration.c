/*
 * duration_parse on arbitrary text (--timeout, ECR_RENEW_TIMEOUT). A
 * duration that parses is within range, and its Go form parses back to
 * the same milliseconds.
 */
#include "core/timeutil.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_MS (24LL * 3600 * 1000)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *s = malloc(size + 1), again[DURATION_LEN];
    long long ms, ms2;

    memcpy(s, data, size);
    s[size] = '\0';
    if (duration_parse(s, MAX_MS, &ms) == 0) {
        if (ms < 1 || ms > MAX_MS)
            abort();
        duration_format(ms, again);
        if (duration_parse(again, MAX_MS, &ms2) != 0 || ms2 != ms)
            abort();
    }
    free(s);
    return 0;
}
