/*
 * retry.h - when to try again, and how long to wait first.
 *
 * Exponential backoff with full jitter (the scheme AWS recommends): the
 * wait before retry n (1 = the first retry) is uniform in
 * [0, min(cap, base * 2^(n-1))). A server's
 * Retry-After, when given, is honoured instead, up to the cap. Pure: the
 * caller supplies the random number and does the sleeping.
 */
#ifndef ECR_RENEW_NET_RETRY_H
#define ECR_RENEW_NET_RETRY_H

#include "../core/clock.h"
#include "../core/deadline.h"
#include "../core/err.h"

#include <time.h>

struct retry_policy {
    int max_attempts; /* total tries, including the first */
    long base_delay_ms;
    long max_delay_ms;
};

/* The default for AWS and Kubernetes calls: 5 tries, 200 ms base, 20 s cap. */
extern const struct retry_policy retry_default_policy;

/* Milliseconds to wait before retry number `retry` (1 = first retry).
 * random01 is in [0, 1); retry_after_ms < 0 means the server gave none. */
long retry_delay_ms(const struct retry_policy *p, int retry, double random01,
                    long retry_after_ms);

/* The longest wait a Retry-After is read as: asking for more is asking
 * for longer than any deadline, and saying so is enough. */
#define RETRY_AFTER_MAX_MS (30L * 24 * 3600 * 1000)

/* Parses a Retry-After header, in seconds ("3") or as an HTTP date
 * ("Wed, 21 Oct 2015 07:28:00 GMT", counted from now); returns the wait
 * in ms, at most RETRY_AFTER_MAX_MS (a date in the past is 0), or -1
 * when absent or unreadable. */
long retry_after_header_ms(const char *value, time_t now);

/* One wait between attempts. */
struct retry_step {
    int retry;           /* 1 = the first retry */
    long retry_after_ms; /* the server's Retry-After, or -1 */
    const char *log_msg; /* "retrying AWS call" */
    const char *what;    /* "GET /api/v1/...": for the log and errors */
    const char *why;     /* "HTTP 429" */
};

/* Waits before a retry on clock, as retry_delay_ms says, logging what and
 * why. A server's Retry-After longer than the time the deadline leaves
 * fails at once (ER_NETWORK, naming what the server asked for), as does
 * any wait once the deadline has passed. */
enum er_code retry_wait(const struct retry_policy *p, const struct clock *c,
                        const struct deadline *d, const struct retry_step *s,
                        struct er_error *err) ER_CHECK;

#endif
