/*
 * heal.h - run --heal-pods: deleting, once, the pods that were created
 * before their ServiceAccount had the pull Secret, so their owner makes
 * them again with it (the rules are in kube/pod_heal.h).
 *
 * The controller reports candidates as its pod watch shows them and asks
 * the healer to look again whenever an account or a Secret changes; the
 * healer deletes a candidate once the controller says it may (we lead,
 * our Secret is in the namespace, the pod's account lists it). Never
 * twice for the same pod (by uid; the delete carries a uid
 * precondition), at most rate_per_minute deletions in any minute, one at
 * a time; each is logged and told as a PodHealed Event on the owner.
 *
 * Ownership: the loop, client, recorder and metric family are borrowed.
 */
#ifndef ECR_RENEW_CTL_HEAL_H
#define ECR_RENEW_CTL_HEAL_H

#include "../kube/client.h"
#include "../kube/pod_heal.h"
#include "events.h"
#include "metrics.h"

#include <stdbool.h>

#define HEAL_DEFAULT_RATE 10
#define HEAL_MAX_RATE 600

struct loop;
struct healer;

/* True when the pod may be deleted now. */
typedef bool heal_ready_fn(void *ctx, const struct pod_heal_view *pod);

struct healer *healer_new(struct loop *loop, struct kube_client *kc,
                          struct event_recorder *events,
                          struct metric_family *healed, int rate_per_minute,
                          heal_ready_fn *ready, void *ctx);
void healer_free(struct healer *h);

/* A candidate as the watch shows it (again); or no longer one. */
void healer_pod(struct healer *h, const struct pod_heal_view *pod);
void healer_forget(struct healer *h, const char *uid);

/* Something changed: look at the candidates again (soon, on the loop). */
void healer_kick(struct healer *h);

/* Drops what is in flight (leadership lost, shutting down). */
void healer_cancel(struct healer *h);

#endif
