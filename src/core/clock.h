/*
 * clock.h - time, sleep and randomness as inputs.
 *
 * Retry loops and credential caches take a struct clock instead of
 * calling time() and nanosleep() themselves, so tests can simulate hours
 * of token lifetime and backoff in microseconds.
 */
#ifndef ECR_RENEW_CORE_CLOCK_H
#define ECR_RENEW_CORE_CLOCK_H

#include <time.h>

struct clock {
    time_t (*now)(void *ctx);
    void (*sleep_ms)(void *ctx, long ms);
    /* A uniformly distributed number in [0, 1), for backoff jitter. */
    double (*random01)(void *ctx);
    void *ctx;
};

/* The real clock: time(), nanosleep(), and a seeded PRNG. */
const struct clock *clock_system(void);

static inline time_t clock_now(const struct clock *c)
{
    return c->now(c->ctx);
}

#endif
