#include "clock.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <unistd.h>

static time_t system_now(void *ctx)
{
    (void)ctx;
    return time(NULL);
}

static void system_sleep_ms(void *ctx, long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};

    (void)ctx;
    while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
        ;
}

/* Jitter only has to keep many jobs from retrying in step; it is not a
 * security value, so a small PRNG seeded from time and pid will do. */
static double system_random01(void *ctx)
{
    static uint64_t state;

    (void)ctx;
    if (state == 0)
        state = ((uint64_t)time(NULL) << 20) ^ (uint64_t)getpid() ^
                0x9e3779b97f4a7c15ULL;
    state ^= state << 13;
    state ^= state >> 7;
    state ^= state << 17;
    return (double)(state >> 11) / (double)(1ULL << 53);
}

const struct clock *clock_system(void)
{
    static const struct clock sys = {system_now, system_sleep_ms,
                                     system_random01, NULL};
    return &sys;
}
