/*
 * events.h - Kubernetes Events about what the controller does, written
 * on the loop without ever holding up or failing the caller.
 *
 * One Event per object and reason: the key is kind/namespace/name/
 * reason. The first record of a key POSTs a new Event (count 1). Later
 * records are counted and their latest message kept; one merge PATCH of
 * count, message and lastTimestamp goes out when a minute has passed
 * since the key's last write (a loop timer), so a key is written at most
 * once a minute however often it is recorded. A PATCH answered 404 (the
 * Event expired: kube-apiserver's --event-ttl, 1 h by default) creates
 * a new Event with the count so far. A key has at most one request in
 * flight; records meanwhile wait for the next minute.
 *
 * A write that fails (403 for want of create and patch on events, 5xx,
 * the network) is counted and logged once per key at warn level (a 403
 * once for the recorder: missing rights refuse every key), and
 * not retried: only a later record of that key writes again, a minute
 * after the last write at the soonest. (Each write still gets the
 * client's own few retries of 429, 5xx and connection failures.)
 * A 403 for want of rights (not one for a terminating namespace) also
 * pauses the recorder for EVENT_RECORDER_PAUSE_MS: what is recorded or
 * waiting meanwhile is dropped, so a controller without events rights
 * sends one refused request every few minutes, not one per object.
 *
 * At most EVENT_RECORDER_MAX_IN_FLIGHT requests are out at once; keys
 * due beyond that wait their turn in order (their later records merged
 * in), so a burst of Events (a first pass over 1,000 namespaces) never
 * crowds out the Secret writes they report, nor holds more connections.
 *
 * Memory is bounded: at most EVENT_RECORDER_MAX_KEYS keys are kept; a
 * new key beyond that forgets the least recently recorded one (and what
 * it had not written yet).
 *
 * A recorder starts enabled. Disabled (a standby without the leader
 * Lease: the leader reports), it sends nothing, drops records, and
 * forgets its keys.
 *
 * Wall time (timestamps, names) and the minute come from the loop's
 * clock, so tests run it on a test clock.
 *
 * Ownership: the loop and the client are borrowed and must outlive the
 * recorder; instance is copied. The recorder owns its keys, timers and
 * requests, and is used on the loop's thread only.
 */
#ifndef ECR_RENEW_CTL_EVENTS_H
#define ECR_RENEW_CTL_EVENTS_H

#include "../kube/client.h"
#include "../kube/event.h"

#include <stdbool.h>
#include <stddef.h>

#define EVENT_RECORDER_MAX_KEYS 1024
#define EVENT_RECORDER_INTERVAL_MS (60 * 1000)
#define EVENT_RECORDER_MAX_IN_FLIGHT 2
#define EVENT_RECORDER_PAUSE_MS (5 * 60 * 1000)

struct loop;
struct event_recorder;

/* Counters, for tests and metrics. */
struct event_recorder_stats {
    unsigned long created; /* Events POSTed and accepted */
    unsigned long patched; /* PATCHes accepted */
    unsigned long failed;  /* writes refused or not answered */
    unsigned long dropped; /* records never written: disabled, a bad
                              call, or forgotten to stay in bounds */
    size_t keys;           /* object-and-reason keys kept now */
};

/* instance is source.host and reportingInstance (the pod or host name);
 * NULL or "" is KUBE_EVENT_COMPONENT. */
struct event_recorder *event_recorder_new(struct loop *loop,
                                          struct kube_client *kc,
                                          const char *instance);

/* Cancels the timers and the requests in flight: no callback runs after.
 * NULL is allowed. */
void event_recorder_free(struct event_recorder *r);

/* Records that reason happened to obj (all borrowed, copied as needed).
 * type is KUBE_EVENT_NORMAL or KUBE_EVENT_WARNING; obj needs an
 * api_version, a kind and a name, and reason must not be empty: a
 * record without them is logged as a bug and dropped. Never blocks,
 * never fails the caller. */
void event_record(struct event_recorder *r, const struct kube_event_object *obj,
                  const char *type, const char *reason, const char *message);

/* Turned off, the recorder forgets its keys (cancelling what is in
 * flight) and drops records until turned on again. */
void event_recorder_set_enabled(struct event_recorder *r, bool on);

/* Lowers (or raises) the key bound, forgetting the least recently
 * recorded keys beyond it; for tests. At least 1. */
void event_recorder_set_max_keys(struct event_recorder *r, size_t max_keys);

struct event_recorder_stats
event_recorder_get_stats(const struct event_recorder *r);

#endif
