/*
 * schedule.h - when a long-running command renews its ECR tokens.
 *
 * By the tokens' own expiry, not a fixed interval: once half of their
 * remaining life has passed, a little earlier by jitter (up to 5 % of
 * that life) so that several copies do not renew in step. A failed
 * renewal is retried after 5 s, doubling to at most 5 minutes, with
 * jitter; the tokens in use stay until new ones arrive.
 *
 * Pure: the caller passes the time and the random number, so tests run a
 * day of renewals in microseconds.
 */
#ifndef ECR_RENEW_CTL_SCHEDULE_H
#define ECR_RENEW_CTL_SCHEDULE_H

#include <stdbool.h>
#include <time.h>

#define SCHEDULE_RETRY_FIRST_MS 5000LL
#define SCHEDULE_RETRY_CAP_MS (5 * 60 * 1000LL)
#define SCHEDULE_JITTER 0.05

struct renewal {
    time_t next_at;    /* renew at or after this time; 0: now */
    int failures;      /* in a row */
    double expires_at; /* of the tokens in use; 0: none */
};

/* Tokens fetched at now that expire at expires_at (the earliest of the
 * set). */
void renewal_succeeded(struct renewal *r, time_t now, double expires_at,
                       double random01);

/* A fetch failed at now: the next try. Returns the wait in ms. */
long long renewal_failed(struct renewal *r, time_t now, double random01);

bool renewal_due(const struct renewal *r, time_t now);

/* True while the tokens in use are valid. */
bool renewal_valid(const struct renewal *r, time_t now);

#endif
