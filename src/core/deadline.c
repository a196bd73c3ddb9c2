#include "deadline.h"
#include "timeutil.h"

#include <limits.h>

void deadline_start(struct deadline *d, const struct clock *clock,
                    long long total_ms, const char *origin)
{
    d->clock = clock;
    d->total_ms = total_ms;
    d->at_ms = clock_mono_ms(clock) + total_ms;
    d->origin = origin;
}

long long deadline_left_ms(const struct deadline *d)
{
    if (!d || !d->clock)
        return LLONG_MAX;
    return d->at_ms - clock_mono_ms(d->clock);
}

bool deadline_passed(const struct deadline *d)
{
    return deadline_left_ms(d) <= 0;
}

long long deadline_clamp_ms(const struct deadline *d, long long ms)
{
    long long left = deadline_left_ms(d);

    if (left < ms)
        ms = left;
    return ms < 1 ? 1 : ms;
}

enum er_code deadline_error(const struct deadline *d, const char *what,
                            struct er_error *err)
{
    char total[DURATION_LEN];

    duration_format(d ? d->total_ms : 0, total);
    return er_set(err, ER_NETWORK,
                  "%s: the %s deadline (%s) passed before it finished. Fix: "
                  "check that the server answers, or allow more time with "
                  "--timeout",
                  what, total, d && d->origin ? d->origin : "--timeout");
}

enum er_code deadline_sleep(const struct deadline *d, const struct clock *clock,
                            long ms, const char *why, const char *what,
                            struct er_error *err)
{
    long long left = deadline_left_ms(d);
    char asked[DURATION_LEN], rest[DURATION_LEN];

    if (left <= 0)
        return deadline_error(d, what, err);
    if (ms >= left) {
        duration_format(ms, asked);
        duration_format(left, rest);
        return er_set(err, ER_NETWORK,
                      "%s: %s asks to wait %s before trying again, longer "
                      "than the %s left before the deadline (%s); gave up "
                      "at once",
                      what, why, asked, rest,
                      d && d->origin ? d->origin : "--timeout");
    }
    if (ms > 0)
        clock->sleep_ms(clock->ctx, ms);
    return ER_OK;
}
