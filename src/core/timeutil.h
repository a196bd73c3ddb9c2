/*
 * timeutil.h - UTC timestamps in the formats AWS and Kubernetes use.
 * Pure: no clock is read here; callers pass the time.
 */
#ifndef ECR_RENEW_CORE_TIMEUTIL_H
#define ECR_RENEW_CORE_TIMEUTIL_H

#include <time.h>

#define TIME_AMZ_LEN 17     /* "20150830T123600Z" + NUL */
#define TIME_RFC3339_LEN 21 /* "2015-08-30T12:36:00Z" + NUL */

/* "20150830T123600Z" for X-Amz-Date. */
void time_format_amz(time_t t, char out[TIME_AMZ_LEN]);

/* "2015-08-30T12:36:00Z". */
void time_format_rfc3339(time_t t, char out[TIME_RFC3339_LEN]);

/* Parses ISO 8601 / RFC 3339 date-times as AWS sends them:
 * "2026-01-01T01:00:00Z", with optional fractional seconds and a "Z" or
 * "+hh:mm" offset. Returns 0 and sets *out on success, -1 otherwise. */
int time_parse_iso8601(const char *s, time_t *out);

#endif
