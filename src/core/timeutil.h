/*
 * timeutil.h - UTC timestamps in the formats AWS and Kubernetes use.
 * Pure: no clock is read here; callers pass the time.
 */
#ifndef ECR_RENEW_CORE_TIMEUTIL_H
#define ECR_RENEW_CORE_TIMEUTIL_H

#include <stdbool.h>
#include <time.h>

#define TIME_AMZ_LEN 17     /* "20150830T123600Z" + NUL */
#define TIME_RFC3339_LEN 21 /* "2015-08-30T12:36:00Z" + NUL */
#define DURATION_LEN 48     /* "2562047h47m16.807s" + NUL, with room */

/* The times a peer may tell us: from 2000 to the last second that
 * RFC 3339's four-digit year can write. Anything outside is a lie or a
 * bug, and would print as 1970 or overflow a year field. */
#define TIME_SANE_MIN ((time_t)946684800LL)    /* 2000-01-01T00:00:00Z */
#define TIME_SANE_MAX ((time_t)253402300799LL) /* 9999-12-31T23:59:59Z */

/* "20150830T123600Z" for X-Amz-Date. */
void time_format_amz(time_t t, char out[TIME_AMZ_LEN]);

/* "2015-08-30T12:36:00Z". */
void time_format_rfc3339(time_t t, char out[TIME_RFC3339_LEN]);

/* Parses ISO 8601 / RFC 3339 date-times as AWS sends them:
 * "2026-01-01T01:00:00Z", with optional fractional seconds and a "Z" or
 * "+hh:mm" offset. Returns 0 and sets *out on success, -1 otherwise,
 * also for a time outside [TIME_SANE_MIN, TIME_SANE_MAX]. */
int time_parse_iso8601(const char *s, time_t *out);

/* True for a finite epoch time (seconds, maybe fractional) within
 * [TIME_SANE_MIN, TIME_SANE_MAX]. */
bool time_is_sane(double t);

/* Parses a Go-style duration ("90s", "5m", "1h30m", "1.5h", "250ms"):
 * one or more decimal numbers, each with a unit of h, m, s, ms, us, µs or
 * ns. Returns 0 and sets *ms (rounded down to whole milliseconds) for a
 * duration of at least 1 ms and at most max_ms; -1 otherwise. */
int duration_parse(const char *s, long long max_ms, long long *ms)
    __attribute__((warn_unused_result));

/* Writes ms the way Go prints a time.Duration: "5m0s", "1h30m0s",
 * "1.5s", "250ms". */
void duration_format(long long ms, char out[DURATION_LEN]);

#endif
