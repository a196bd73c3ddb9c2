#include "retry.h"

#include <ctype.h>
#include <stdlib.h>

const struct retry_policy retry_default_policy = {5, 200, 20000};

long retry_delay_ms(const struct retry_policy *p, int retry, double random01,
                    long retry_after_ms)
{
    long ceiling = p->base_delay_ms;

    if (retry_after_ms >= 0)
        return retry_after_ms < p->max_delay_ms ? retry_after_ms
                                                : p->max_delay_ms;
    for (int i = 1; i < retry && ceiling < p->max_delay_ms; i++)
        ceiling *= 2;
    if (ceiling > p->max_delay_ms)
        ceiling = p->max_delay_ms;
    if (random01 < 0 || random01 >= 1)
        random01 = 0.5;
    return (long)(random01 * (double)ceiling);
}

long retry_after_header_ms(const char *value)
{
    long secs = 0;

    if (!value || !*value)
        return -1;
    for (const char *p = value; *p; p++) {
        if (!isdigit((unsigned char)*p))
            return -1;
        if (secs > 86400)
            return -1;
        secs = secs * 10 + (*p - '0');
    }
    return secs * 1000;
}
