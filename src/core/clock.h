/*
 * clock.h - time, sleep and randomness as inputs.
 *
 * Retry loops, deadlines and credential caches take a struct clock
 * instead of calling time(), clock_gettime() and nanosleep() themselves,
 * so tests can simulate hours of token lifetime and backoff in
 * microseconds.
 */
#ifndef ECR_RENEW_CORE_CLOCK_H
#define ECR_RENEW_CORE_CLOCK_H

#include <time.h>

struct clock {
    time_t (*now)(void *ctx);        /* wall clock, seconds since 1970 */
    long long (*wall_us)(void *ctx); /* the same in microseconds, for the
                                      * MicroTime of a Lease */
    long long (*mono_ms)(void *ctx); /* monotonic milliseconds */
    void (*sleep_ms)(void *ctx, long ms);
    /* A uniformly distributed number in [0, 1), for backoff jitter. */
    double (*random01)(void *ctx);
    void *ctx;
};

/* The real clock: time(), CLOCK_MONOTONIC, nanosleep(), and a PRNG seeded
 * from the time and the process id. */
const struct clock *clock_system(void);

static inline time_t clock_now(const struct clock *c)
{
    return c->now(c->ctx);
}

static inline long long clock_wall_us(const struct clock *c)
{
    return c->wall_us(c->ctx);
}

static inline long long clock_mono_ms(const struct clock *c)
{
    return c->mono_ms(c->ctx);
}

#endif
