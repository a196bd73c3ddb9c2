#include "clock.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <unistd.h>

/* The system clock's one piece of state: its PRNG. */
struct system_clock_state {
    uint64_t prng;
};

static time_t system_now(void *ctx)
{
    (void)ctx;
    return time(NULL);
}

static long long system_wall_us(void *ctx)
{
    struct timespec ts;

    (void)ctx;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (long long)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static long long system_mono_ms(void *ctx)
{
    struct timespec ts;

    (void)ctx;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void system_sleep_ms(void *ctx, long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};

    (void)ctx;
    if (ms <= 0)
        return;
    while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
        ;
}

/* Jitter only has to keep many jobs from retrying in step; it is not a
 * security value, so a small PRNG seeded from time and pid will do. */
static double system_random01(void *ctx)
{
    struct system_clock_state *st = ctx;
    uint64_t x = st->prng;

    if (x == 0)
        x = ((uint64_t)time(NULL) << 20) ^ (uint64_t)getpid() ^
            0x9e3779b97f4a7c15ULL;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    st->prng = x;
    return (double)(x >> 11) / (double)(1ULL << 53);
}

const struct clock *clock_system(void)
{
    static struct system_clock_state state;
    static const struct clock sys = {
        .now = system_now,
        .wall_us = system_wall_us,
        .mono_ms = system_mono_ms,
        .sleep_ms = system_sleep_ms,
        .random01 = system_random01,
        .ctx = &state,
    };

    return &sys;
}
