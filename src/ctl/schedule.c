#include "schedule.h"

void renewal_succeeded(struct renewal *r, time_t now, double expires_at,
                       double random01)
{
    double half = (expires_at - (double)now) / 2;

    if (half < 1)
        half = 1;
    r->failures = 0;
    r->expires_at = expires_at;
    r->next_at = now + (time_t)(half - half * SCHEDULE_JITTER * random01);
    if (r->next_at <= now)
        r->next_at = now + 1;
}

long long renewal_failed(struct renewal *r, time_t now, double random01)
{
    long long ms = SCHEDULE_RETRY_FIRST_MS;

    for (int i = 0; i < r->failures && ms < SCHEDULE_RETRY_CAP_MS; i++)
        ms *= 2;
    if (ms > SCHEDULE_RETRY_CAP_MS)
        ms = SCHEDULE_RETRY_CAP_MS;
    /* Jitter below the wait, so the cap holds. */
    ms -= (long long)((double)ms * 0.2 * random01);
    r->failures++;
    r->next_at = now + (time_t)((ms + 999) / 1000);
    return ms;
}

bool renewal_due(const struct renewal *r, time_t now)
{
    return now >= r->next_at;
}

bool renewal_valid(const struct renewal *r, time_t now)
{
    return r->expires_at > (double)now;
}
