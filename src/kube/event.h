/*
 * event.h - the requests that write a core/v1 Event (REFERENCE-2 §3.1).
 *
 * A new Event is POSTed to /api/v1/namespaces/<ns>/events with the
 * fields client-go's legacy recorder sets: involvedObject, reason,
 * message, type, source, firstTimestamp, lastTimestamp, count and
 * reportingComponent/reportingInstance (the core/v1 spelling of
 * reportingController). A repeat is a JSON merge PATCH of count, message
 * and lastTimestamp on /api/v1/namespaces/<ns>/events/<name>, sent with
 * KUBE_MERGE_PATCH (pull_secret.h) as its content type.
 *
 * Legacy validation wants the Event's namespace to be the object's, and
 * an Event about a cluster-scoped object (a Namespace) in "default" with
 * no involvedObject.namespace. The name is <object name>.<16 hex digits
 * of unix nanoseconds>, as client-go makes it, or random hex when that
 * is not a DNS subdomain.
 *
 * Pure: the caller passes the time and the random bits. Text that is
 * not UTF-8 is written in its visible form (str_append_visible), so a
 * body is always valid JSON.
 *
 * Ownership: struct kube_event and struct kube_event_object are
 * borrowed; what the builders return is the caller's, freed with
 * kube_event_post_free, kube_event_patch_free or free as said.
 */
#ifndef ECR_RENEW_KUBE_EVENT_H
#define ECR_RENEW_KUBE_EVENT_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#define KUBE_EVENT_COMPONENT "ecr-renew"
#define KUBE_EVENT_NORMAL "Normal"
#define KUBE_EVENT_WARNING "Warning"
/* events.k8s.io limits a note to this; core/v1 is kept to it too. */
#define KUBE_EVENT_MESSAGE_MAX 1024
/* A DNS subdomain (253 characters) and its NUL. */
#define KUBE_EVENT_NAME_MAX 254

/* What an Event is about. ns is "" or NULL for a cluster-scoped object;
 * uid may be NULL when it is not known. */
struct kube_event_object {
    const char *api_version, *kind, *ns, *name, *uid;
};

/* One Event as it is to be written. */
struct kube_event {
    const struct kube_event_object *obj;
    const char *type; /* KUBE_EVENT_NORMAL or KUBE_EVENT_WARNING */
    const char *reason;
    const char *message;  /* cut to KUBE_EVENT_MESSAGE_MAX bytes */
    const char *instance; /* source.host and reportingInstance */
    time_t first_time, last_time;
    long count; /* at least 1; at most INT32_MAX, as the API holds it */
};

/* True for "Normal" and "Warning", the only types the API accepts. */
bool kube_event_type_ok(const char *type);

/* True when obj has no namespace. */
bool kube_event_cluster_scoped(const struct kube_event_object *obj);

/* The namespace obj's Events live in: its own, or "default" for a
 * cluster-scoped object. Borrowed from obj, or static. */
const char *kube_event_namespace(const struct kube_event_object *obj);

/* A new Event's metadata.name: "<object_name>.<unix_nanos as %016x>", or
 * 32 hex digits (random_bits, then unix_nanos) when that is not a DNS
 * subdomain (too long, upper case, a colon...). */
void kube_event_name(const char *object_name, uint64_t unix_nanos,
                     uint64_t random_bits, char out[KUBE_EVENT_NAME_MAX]);

/* message as an Event holds it: valid UTF-8 (the visible form when it is
 * not), cut at a character boundary to at most KUBE_EVENT_MESSAGE_MAX
 * bytes. NULL is "". Newly allocated. */
char *kube_event_clip_message(const char *message);

/* The POST that creates an Event. All three newly allocated. */
struct kube_event_post {
    char *name; /* metadata.name */
    char *path; /* /api/v1/namespaces/<ns>/events */
    char *body; /* application/json */
};

/* Builds the POST of ev, named with kube_event_name(ev->obj->name,
 * unix_nanos, random_bits). */
void kube_event_post_build(const struct kube_event *ev, uint64_t unix_nanos,
                           uint64_t random_bits, struct kube_event_post *out);
void kube_event_post_free(struct kube_event_post *p);

/* The PATCH that updates an existing Event. Both newly allocated. */
struct kube_event_patch {
    char *path; /* /api/v1/namespaces/<ns>/events/<name> */
    char *body; /* {"count":..,"message":..,"lastTimestamp":..} */
};

/* Builds the merge PATCH of Event ns/name to count, message (clipped as
 * kube_event_clip_message does) and last_time. */
void kube_event_patch_build(const char *ns, const char *name, long count,
                            const char *message, time_t last_time,
                            struct kube_event_patch *out);
void kube_event_patch_free(struct kube_event_patch *p);

#endif
