#include "timeutil.h"

#include <ctype.h>
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
    *out = t - offset;
    return 0;
}
