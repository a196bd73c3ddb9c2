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

/* Parses a Retry-After header given in seconds ("3"); returns -1 when
 * absent or unusable (HTTP dates are not used by AWS or Kubernetes). */
long retry_after_header_ms(const char *value);

#endif
