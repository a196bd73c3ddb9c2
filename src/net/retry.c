#include "retry.h"
#include "../core/log.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

static const char *const months[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                     "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};

/* IMF-fixdate, the one form RFC 7231 lets servers send:
 * "Sun, 06 Nov 1994 08:49:37 GMT". */
static int parse_http_date(const char *v, time_t *out)
{
    char wday[4], mon[4], zone[4];
    int day, year, h, m, sec, n = 0;
    struct tm tm = {0};

    if (sscanf(v, "%3s %2d %3s %4d %2d:%2d:%2d %3s%n", wday, &day, mon, &year,
               &h, &m, &sec, zone, &n) != 8 ||
        v[n] != '\0' || strlen(wday) != 3 || wday[2] == ',' ||
        strcmp(zone, "GMT") != 0)
        return -1;
    for (tm.tm_mon = 0; tm.tm_mon < 12; tm.tm_mon++) {
        if (strcmp(mon, months[tm.tm_mon]) == 0)
            break;
    }
    if (tm.tm_mon == 12 || day < 1 || day > 31 || h > 23 || m > 59 ||
        sec > 60 || year < 1970)
        return -1;
    tm.tm_mday = day;
    tm.tm_year = year - 1900;
    tm.tm_hour = h;
    tm.tm_min = m;
    tm.tm_sec = sec;
    *out = timegm(&tm);
    return 0;
}

static long seconds_ms(const char *value)
{
    long secs = 0;

    for (const char *p = value; *p; p++) {
        if (!isdigit((unsigned char)*p))
            return -1;
        if (secs <= RETRY_AFTER_MAX_MS / 1000)
            secs = secs * 10 + (*p - '0');
    }
    return secs > RETRY_AFTER_MAX_MS / 1000 ? RETRY_AFTER_MAX_MS : secs * 1000;
}

long retry_after_header_ms(const char *value, time_t now)
{
    time_t when;
    double ms;

    if (!value || !*value)
        return -1;
    if (isdigit((unsigned char)*value))
        return seconds_ms(value);
    /* "Sun," with the comma: sscanf's %3s stops at it. */
    if (strlen(value) < 5 || value[3] != ',')
        return -1;
    {
        char copy[64];
        snprintf(copy, sizeof(copy), "%.3s%s", value, value + 4);
        if (parse_http_date(copy, &when) != 0)
            return -1;
    }
    ms = ((double)when - (double)now) * 1000;
    if (ms <= 0)
        return 0;
    return ms > (double)RETRY_AFTER_MAX_MS ? RETRY_AFTER_MAX_MS : (long)ms;
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
