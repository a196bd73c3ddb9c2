/*
 * lease.h - leader election on a coordination.k8s.io/v1 Lease, as
 * client-go's leaderelection does it (REFERENCE-2 §2).
 *
 * Every retry period a candidate runs one round: the leader renews with a
 * PUT of the Lease it last saw (its resourceVersion the precondition);
 * anyone else GETs it, creates it when absent, and takes it with a PUT
 * when its holder is empty or has not renewed for the holder's own
 * leaseDurationSeconds, measured on our clock (so clock skew between
 * nodes does not matter) from the earliest moment the record can have
 * changed that still leaves its holder's renew deadline a second to
 * spare: our previous read of it, or LEASE_OBSERVE_SLACK_MS before the
 * read that saw it change, whichever is later. client-go counts from the
 * read that saw it, which can come a whole jittered retry period (up to
 * 4.4 s for client-go) after the renewal; counting from the earlier bound, and
 * starting a round the moment the Lease runs out, a standby takes over a dead
 * leader's Lease within about 16.5 s instead of up to 24. A 409
 * means another candidate won the round. A leader whose renewals fail
 * for the renew deadline stops leading at once; on shutdown it releases
 * the Lease (empty holder, duration 1 s) so a standby takes over within a
 * retry period.
 *
 * A state machine with no I/O, on the caller's monotonic milliseconds and
 * wall time: lease_next says which request a round sends, lease_answer
 * takes its answer. Ownership: the elector owns its strings.
 */
#ifndef ECR_RENEW_KUBE_LEASE_H
#define ECR_RENEW_KUBE_LEASE_H

#include "../core/err.h"
#include "client.h"
#include "sync.h"

#include <stdbool.h>
#include <time.h>

/* client-go's defaults for core clients. */
#define LEASE_DURATION_MS 15000LL
#define LEASE_RENEW_DEADLINE_MS 10000LL
#define LEASE_RETRY_MS 2000LL
/* A candidate waits 2-3 s between rounds. client-go's factor is 1.2 (2-4.4
 * s): enough spread for a few replicas either way, but a standby then
 * notices a released Lease up to 4.4 s late, and a hand-over on SIGTERM
 * is meant to take under 5 s. */
#define LEASE_JITTER 0.5
/* Each Lease request may take this long; the client does not retry it. */
#define LEASE_REQUEST_TIMEOUT_MS 1000LL
/* A change seen now happened at most this long ago, as far as a take is
 * concerned. The holder stops leading at most renew deadline + request
 * time after the change (its renewal's answer); we take no sooner than
 * duration - slack after it: a second later. */
#define LEASE_OBSERVE_SLACK_MS                                                 \
    (LEASE_DURATION_MS - LEASE_RENEW_DEADLINE_MS - LEASE_REQUEST_TIMEOUT_MS -  \
     1000LL)

/* A Lease as read: what a round needs from it. */
struct lease_record {
    char holder[256];
    int duration_s;
    char acquire_time[40];
    int transitions;
    char resource_version[64];
};

/* Parses a Lease's JSON; ER_PARSE when it is not one. Pure. */
enum er_code lease_record_parse(const char *json, size_t len,
                                struct lease_record *out,
                                struct er_error *err) ER_CHECK;

/* "2026-01-01T00:00:12.000042Z": MicroTime, exactly six fractional
 * digits, as the API server requires; wall_us is microseconds since 1970.
 * out holds 28 bytes. */
void lease_micro_time(long long wall_us, char out[32]);

enum lease_step {
    LEASE_IDLE,    /* between rounds */
    LEASE_GET,     /* reading the Lease */
    LEASE_CREATE,  /* POST: it did not exist */
    LEASE_TAKE,    /* PUT: taking or renewing it */
    LEASE_RELEASE, /* PUT: giving it up */
    LEASE_DONE,    /* released */
};

struct lease_elector {
    char *ns, *name, *identity;
    char *path, *collection;
    long long duration_ms, renew_deadline_ms, retry_ms;
    enum lease_step step;
    bool leader;
    bool releasing;
    bool have_record; /* observed is a record we read or wrote */
    struct lease_record observed;
    long long observed_ms; /* the earliest it can have changed (see the
                            * top), on our clock */
    long long asked_ms;    /* when this round's request was sent */
    long long read_ms;     /* when the request that last showed us the
                            * record was sent; LLONG_MIN before one */
    long long renewed_ms;  /* our last successful take or renewal */
    char *body;
    struct er_error trouble; /* of the last failed round; ER_OK after one
                              * that went well */
};

void lease_elector_init(struct lease_elector *e, const char *ns,
                        const char *name, const char *identity);
void lease_elector_free(struct lease_elector *e);

/* True while we hold the Lease and its last renewal is within the renew
 * deadline: the only time writes may be made. */
bool lease_leading(const struct lease_elector *e, long long now_ms);

/* Starts a round at now: a renewal, an attempt, or the release. */
void lease_begin_round(struct lease_elector *e, long long now_ms);

/* The request of the round's next step (wall_us, microseconds since 1970,
 * is for the Lease's times);
 * false when the round is over (then wait lease_wait_ms and begin the
 * next) or the Lease was released (step LEASE_DONE). */
bool lease_next(struct lease_elector *e, long long now_ms, long long wall_us,
                struct kube_sync_request *req);

void lease_answer(struct lease_elector *e, long long now_ms,
                  const struct kube_response *r);
void lease_fail(struct lease_elector *e, const struct er_error *err);

/* Milliseconds until the next round: the retry period for a leader, the
 * retry period times 1 + LEASE_JITTER * random01 for a candidate, or less when
 * the Lease it waits for runs out sooner (then exactly until it does). */
long long lease_wait_ms(const struct lease_elector *e, long long now_ms,
                        double random01);

/* Starts a release: the next round gives the Lease up if we hold it. */
void lease_release(struct lease_elector *e);

#endif
