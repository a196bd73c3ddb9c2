#include "retry.h"
#include "../core/log.h"

#include <ctype.h>
#include <stdio.h>
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

enum er_code retry_wait(const struct retry_policy *p, const struct clock *c,
                        const struct deadline *d, const struct retry_step *s,
                        struct er_error *err)
{
    long ms =
        retry_delay_ms(p, s->retry, c->random01(c->ctx), s->retry_after_ms);
    char wait[24];

    /* The server's own word counts, not the capped wait: asking for a
     * day when minutes are left means this run cannot succeed. */
    if (s->retry_after_ms >= 0 && s->retry_after_ms >= deadline_left_ms(d))
        return deadline_sleep(d, c, s->retry_after_ms,
                              "the server's Retry-After", s->what, err);
    snprintf(wait, sizeof(wait), "%ld", ms);
    log_event(LOG_WARN, s->log_msg, "what", s->what, "reason", s->why,
              "wait_ms", wait, LOG_END);
    return deadline_sleep(d, c, ms, "backoff", s->what, err);
}
