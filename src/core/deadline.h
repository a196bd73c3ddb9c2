/*
 * deadline.h - the overall time limit of a run (--timeout).
 *
 * Every wait of a command respects one deadline: connecting, a stalled
 * transfer, backoff, a server's Retry-After and a credential plugin. A
 * wait that cannot end before the deadline fails at once, saying what it
 * would have waited for; when the deadline passes, the error says so.
 *
 * Pure apart from the injected clock. A NULL deadline means none.
 */
#ifndef ECR_RENEW_CORE_DEADLINE_H
#define ECR_RENEW_CORE_DEADLINE_H

#include "clock.h"
#include "err.h"

#include <stdbool.h>

struct deadline {
    const struct clock *clock; /* borrowed */
    long long at_ms;           /* on clock's monotonic time */
    long long total_ms;        /* as given, for messages */
    const char *origin;        /* "--timeout", for messages */
};

/* Starts a deadline total_ms from now. */
void deadline_start(struct deadline *d, const struct clock *clock,
                    long long total_ms, const char *origin);

/* Milliseconds left (<= 0 once passed); LLONG_MAX without a deadline. */
long long deadline_left_ms(const struct deadline *d);

bool deadline_passed(const struct deadline *d);

/* ms, shortened to the time left (at least 1 ms, so libcurl never takes
 * 0 for "no limit"). */
long long deadline_clamp_ms(const struct deadline *d, long long ms);

/* The error for a deadline that passed during what ("GET /x"). */
enum er_code deadline_error(const struct deadline *d, const char *what,
                            struct er_error *err);

/* Sleeps ms on clock, unless the deadline would pass first: then
 * ER_NETWORK at once, naming why the wait was asked for ("the server's
 * Retry-After") and what waits ("GET /x"). */
enum er_code deadline_sleep(const struct deadline *d, const struct clock *clock,
                            long ms, const char *why, const char *what,
                            struct er_error *err) ER_CHECK;

#endif
