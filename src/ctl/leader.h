/*
 * leader.h - leader election for run --leader-elect, on the loop: the
 * Lease state machine of kube/lease.h driven by timers and requests.
 *
 * Rounds run every retry period (2 s; a candidate's with jitter up to
 * 1.5 times that, or sooner when the Lease it waits for runs out). Each Lease
 * request may take at most a second and is not retried by the client: the next
 * round is the retry. While leading, a timer fires at the renew deadline, so a
 * leader whose renewals hang or fail stops leading then, not at the next
 * answer.
 *
 * Ownership: the loop and client are borrowed; the strings are copied.
 */
#ifndef ECR_RENEW_CTL_LEADER_H
#define ECR_RENEW_CTL_LEADER_H

#include "../kube/client.h"

#include <stdbool.h>

struct loop;
struct leader;

/* Told when leadership starts or ends (on the loop). */
typedef void leader_change_fn(void *ctx, bool leading);

struct leader *leader_new(struct loop *loop, struct kube_client *kc,
                          const char *ns, const char *name,
                          const char *identity, leader_change_fn *fn,
                          void *ctx);
void leader_free(struct leader *l);

/* Starts the first round. */
void leader_start(struct leader *l);

/* True while this process may write. */
bool leader_leading(const struct leader *l);

/* On shutdown: stops leading at once (fn is told), gives the Lease up
 * if we held it, then calls done (on the loop, never inside this call);
 * at most a second or so. */
void leader_release(struct leader *l, void (*done)(void *ctx), void *ctx);

const char *leader_identity(const struct leader *l);

#endif
