/*
 * sync.h - write the pull Secret into one namespace, with no gap.
 *
 * GET the Secret; if it exists and may be ours (see pull_secret.h), PUT
 * it back changed, carrying its resourceVersion, and on 409 Conflict read
 * it again and retry; if it does not exist, POST it, and on 409
 * AlreadyExists (someone made it meanwhile) go back to the update. The
 * Secret is never deleted, so pods can pull at every moment.
 *
 * A missing namespace is told from the Status of the create (404 with
 * details.kind "namespaces"), which needs no rights on namespaces; with
 * create_namespace it is created and the Secret created again.
 *
 * The logic is a state machine with no I/O: kube_sync_job_next says which
 * request to send, kube_sync_job_answer takes its answer. A driver sends
 * the requests: kube_sync_namespace does it one request at a time, and
 * the controller's event loop does it for many namespaces at once. The
 * unit tests feed it scripted answers.
 */
#ifndef ECR_RENEW_KUBE_SYNC_H
#define ECR_RENEW_KUBE_SYNC_H

#include "../core/err.h"
#include "client.h"
#include "pull_secret.h"

#include <stdbool.h>

#define KUBE_SYNC_MAX_ROUNDS 5

enum kube_sync_outcome {
    KUBE_SYNC_CREATED,
    KUBE_SYNC_UPDATED,
    KUBE_SYNC_TAKEN_OVER,
    KUBE_SYNC_KEPT_NEWER,  /* it holds a later token already: untouched */
    KUBE_SYNC_TERMINATING, /* the namespace is being deleted: skipped */
};

const char *kube_sync_outcome_name(enum kube_sync_outcome o);

/* How one namespace ended. reason is the Status reason ("Forbidden"), or
 * the kind of failure ("NotOurs", "NamespaceNotFound", "network"). */
struct kube_sync_result {
    enum er_code code;
    enum kube_sync_outcome outcome; /* when code is ER_OK */
    char reason[64];
    char resource_version[64]; /* of the Secret as written, or "" */
};

enum kube_sync_state {
    KUBE_SYNC_GET,
    KUBE_SYNC_PUT,
    KUBE_SYNC_PATCH,
    KUBE_SYNC_POST,
    KUBE_SYNC_POST_NAMESPACE,
    KUBE_SYNC_DONE,
};

/* The request to send next. Strings belong to the job and stay valid
 * until the next call on it. */
struct kube_sync_request {
    const char *method;
    const char *path;
    const char *body;         /* secret when it is a Secret; or NULL */
    const char *content_type; /* NULL: application/json */
};

/* One namespace's write. Allocated by the caller; its insides are the
 * job's own (fields public only so that jobs can be embedded). */
struct kube_sync_job {
    const struct kube_secret_spec *spec; /* borrowed */
    char *ns;
    bool create_namespace;
    bool namespace_created;
    enum kube_sync_state state;
    int rounds; /* GETs so far */
    enum kube_secret_verdict verdict;
    char *secret_path;     /* /api/v1/namespaces/<ns>/secrets/<name> */
    char *collection_path; /* /api/v1/namespaces/<ns>/secrets */
    char *body;            /* of the pending request; secret */
    char *known_rv;        /* PATCH from this version first */
    struct kube_sync_result result;
    struct er_error err;
};

void kube_sync_job_init(struct kube_sync_job *j,
                        const struct kube_secret_spec *spec, const char *ns,
                        bool create_namespace);

/* A job for a Secret already seen (on a watch) at resource_version, ours
 * or one to take over: one merge PATCH guarded by that version instead of
 * a GET and a PUT; a Secret changed or gone meanwhile (409, 404) falls
 * back to the GET. */
void kube_sync_job_init_known(struct kube_sync_job *j,
                              const struct kube_secret_spec *spec,
                              const char *ns, const char *resource_version,
                              enum kube_secret_verdict verdict);

/* A job for a Secret known (from a watch) not to exist: a POST first; one
 * made meanwhile (409) falls back to the GET. */
void kube_sync_job_init_absent(struct kube_sync_job *j,
                               const struct kube_secret_spec *spec,
                               const char *ns);

/* Fills *req with the next request; false when the job is done. */
bool kube_sync_job_next(struct kube_sync_job *j, struct kube_sync_request *req);

/* Feeds the final answer to the request next gave. */
void kube_sync_job_answer(struct kube_sync_job *j,
                          const struct kube_response *resp);

/* Ends the job: its request could not be sent or answered (err, e.g. a
 * network failure or a passed deadline). */
void kube_sync_job_fail(struct kube_sync_job *j, const struct er_error *err);

/* After next returned false: the result, and on failure the message
 * naming the request, the Kubernetes reason and what to do. */
enum er_code kube_sync_job_result(const struct kube_sync_job *j,
                                  struct kube_sync_result *res,
                                  struct er_error *err) ER_CHECK;

void kube_sync_job_free(struct kube_sync_job *j);

/* Runs one job to its end through c, one request at a time. */
enum er_code kube_sync_namespace(struct kube_client *c,
                                 const struct kube_secret_spec *spec,
                                 const char *ns, bool create_namespace,
                                 struct kube_sync_result *res,
                                 struct er_error *err) ER_CHECK;

#endif
