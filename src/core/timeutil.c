#include "timeutil.h"

#include <ctype.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

void time_format_amz(time_t t, char out[TIME_AMZ_LEN])
{
    struct tm tm;

    gmtime_r(&t, &tm);
    strftime(out, TIME_AMZ_LEN, "%Y%m%dT%H%M%SZ", &tm);
}

void time_format_rfc3339(time_t t, char out[TIME_RFC3339_LEN])
{
    struct tm tm;

    gmtime_r(&t, &tm);
    strftime(out, TIME_RFC3339_LEN, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* Reads exactly n digits; returns -1 if any is missing. */
static int read_digits(const char **p, int n)
{
    int v = 0;

    for (int i = 0; i < n; i++, (*p)++) {
        if (!isdigit((unsigned char)**p))
            return -1;
        v = v * 10 + (**p - '0');
    }
    return v;
}

static int expect(const char **p, char c)
{
    if (**p != c)
        return -1;
    (*p)++;
    return 0;
}

static int parse_offset(const char *p, long *offset)
{
    int sign, hh, mm;

    if ((*p == 'Z' || *p == 'z') && p[1] == '\0') {
        *offset = 0;
        return 0;
    }
    if (*p != '+' && *p != '-')
        return -1;
    sign = *p == '-' ? -1 : 1;
    p++;
    if ((hh = read_digits(&p, 2)) < 0 || expect(&p, ':') < 0 ||
        (mm = read_digits(&p, 2)) < 0 || *p != '\0' || hh > 23 || mm > 59)
        return -1;
    *offset = sign * (hh * 3600L + mm * 60L);
    return 0;
}

int time_parse_iso8601(const char *s, time_t *out)
{
    struct tm tm, check;
    const char *p = s;
    long offset;
    time_t t;
    int y, mo, d, h, mi, se;

    memset(&tm, 0, sizeof(tm));
    if ((y = read_digits(&p, 4)) < 0 || expect(&p, '-') < 0 ||
        (mo = read_digits(&p, 2)) < 0 || expect(&p, '-') < 0 ||
        (d = read_digits(&p, 2)) < 0 || (*p != 'T' && *p != 't') ||
        (p++, (h = read_digits(&p, 2)) < 0) || expect(&p, ':') < 0 ||
        (mi = read_digits(&p, 2)) < 0 || expect(&p, ':') < 0 ||
        (se = read_digits(&p, 2)) < 0)
        return -1;
    if (*p == '.') {
        p++;
        if (!isdigit((unsigned char)*p))
            return -1;
        while (isdigit((unsigned char)*p))
            p++;
    }
    if (parse_offset(p, &offset) < 0 || mo < 1 || mo > 12 || d < 1 || d > 31 ||
        h > 23 || mi > 59 || se > 60)
        return -1;
    tm.tm_year = y - 1900;
    tm.tm_mon = mo - 1;
    tm.tm_mday = d;
    tm.tm_hour = h;
    tm.tm_min = mi;
    tm.tm_sec = se;
    t = timegm(&tm);
    /* timegm normalises 31 February into March; refuse such dates. */
    if (!gmtime_r(&t, &check) || check.tm_mday != d || check.tm_mon != mo - 1)
        return -1;
    t -= offset;
    if (t < TIME_SANE_MIN || t > TIME_SANE_MAX)
        return -1;
    *out = t;
    return 0;
}

bool time_is_sane(double t)
{
    return isfinite(t) && t >= (double)TIME_SANE_MIN &&
           t <= (double)TIME_SANE_MAX;
}

/* Nanoseconds per unit; the longest spelling first so "ms" is not "m". */
static const struct {
    const char *name;
    long long ns;
} duration_units[] = {
    {"ns", 1LL},
    {"us", 1000LL},
    {"\xc2\xb5s", 1000LL},
    {"ms", 1000000LL},
    {"s", 1000000000LL},
    {"m", 60000000000LL},
    {"h", 3600000000000LL},
};

static int read_unit(const char **p, long long *ns)
{
    for (size_t i = 0; i < sizeof(duration_units) / sizeof(duration_units[0]);
         i++) {
        size_t n = strlen(duration_units[i].name);
        if (strncmp(*p, duration_units[i].name, n) == 0 &&
            !isalpha((unsigned char)(*p)[n])) {
            *p += n;
            *ns = duration_units[i].ns;
            return 0;
        }
    }
    return -1;
}

/* Whole nanoseconds are counted exactly, so a duration printed by
 * duration_format reads back the same. Digits past the ninth after the
 * point cannot add a nanosecond to any unit but hours and are dropped;
 * a number too large for the range is refused. */
#define DURATION_MAX_NS (100LL * 3600 * 1000000000LL)

/* One "<number><unit>" term, in nanoseconds. */
static int read_term(const char **p, long long *ns)
{
    long long whole = 0, frac = 0, scale = 1, unit;
    bool digits = false;

    for (; isdigit((unsigned char)**p); (*p)++, digits = true) {
        if (whole > DURATION_MAX_NS)
            return -1;
        whole = whole * 10 + (**p - '0');
    }
    if (**p == '.') {
        for ((*p)++; isdigit((unsigned char)**p); (*p)++, digits = true) {
            if (scale < 1000000000LL) {
                frac = frac * 10 + (**p - '0');
                scale *= 10;
            }
        }
    }
    if (!digits || read_unit(p, &unit) != 0 || whole > DURATION_MAX_NS / unit)
        return -1;
    *ns = whole * unit + (long long)((__int128)frac * unit / scale);
    return 0;
}

int duration_parse(const char *s, long long max_ms, long long *ms)
{
    const char *p = s;
    long long total = 0, term;

    if (!s || !*s)
        return -1;
    while (*p) {
        if (read_term(&p, &term) != 0)
            return -1;
        total += term;
        if (total / 1000000 > max_ms)
            return -1;
    }
    if (total < 1000000)
        return -1;
    *ms = total / 1000000;
    return 0;
}

void duration_format(long long ms, char out[DURATION_LEN])
{
    long long h = ms / 3600000, m = ms / 60000 % 60, s = ms / 1000 % 60;
    long long frac = ms % 1000;
    char secs[16];
    int n;

    if (ms < 1000) {
        snprintf(out, DURATION_LEN, "%lldms", ms < 0 ? 0 : ms);
        return;
    }
    n = snprintf(secs, sizeof(secs), frac ? "%lld.%03lld" : "%lld", s, frac);
    while (frac && n > 0 && secs[n - 1] == '0')
        secs[--n] = '\0';
    if (h)
        snprintf(out, DURATION_LEN, "%lldh%lldm%ss", h, m, secs);
    else if (m)
        snprintf(out, DURATION_LEN, "%lldm%ss", m, secs);
    else
        snprintf(out, DURATION_LEN, "%ss", secs);
}
