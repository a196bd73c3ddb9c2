/*
 * sa_patch.h - add the pull Secret to a ServiceAccount's imagePullSecrets,
 * keeping every other entry, in order.
 *
 * imagePullSecrets is an atomic list (REFERENCE-2 §4): a merge or
 * strategic patch of it replaces the whole list. So the entry is appended
 * with a JSON Patch whose first operation tests /metadata/resourceVersion:
 * an account changed between our read and our patch is refused (422, or
 * 409) and read again, never clobbered. An entry is never removed.
 *
 * Like sync.h's job, a state machine with no I/O: next says which request
 * to send, answer takes its answer, and a driver (sync, one request at a
 * time; the controller, on its loop) sends them.
 */
#ifndef ECR_RENEW_KUBE_SA_PATCH_H
#define ECR_RENEW_KUBE_SA_PATCH_H

#include "../core/err.h"
#include "client.h"
#include "sync.h"

#include <jansson.h>
#include <stdbool.h>

#define KUBE_SA_MAX_ROUNDS 5
#define KUBE_SA_OPT_IN_ANNOTATION "ecr-renew/pull-secret"
#define KUBE_JSON_PATCH "application/json-patch+json"

/* True when the account (its JSON) lists secret in imagePullSecrets. */
bool kube_sa_lists(json_t *sa, const char *secret);

/* True when it carries ecr-renew/pull-secret: "true". */
bool kube_sa_opted_in(json_t *sa);

/* The JSON Patch that appends secret to an account at resource_version;
 * has_list says whether it has an imagePullSecrets array (else the array
 * is added). Newly allocated. */
char *kube_sa_patch_body(const char *resource_version, bool has_list,
                         const char *secret);

enum kube_sa_outcome {
    KUBE_SA_PATCHED,
    KUBE_SA_ALREADY, /* it listed the Secret already */
    KUBE_SA_MISSING, /* no such account (yet) */
};

const char *kube_sa_outcome_name(enum kube_sa_outcome o);

struct kube_sa_result {
    enum er_code code;
    enum kube_sa_outcome outcome; /* when code is ER_OK */
    char reason[64];              /* the Kubernetes reason on failure */
    char resource_version[64];    /* after our patch, or "" */
};

enum kube_sa_state { KUBE_SA_GET, KUBE_SA_PATCH, KUBE_SA_DONE };

/* One account's patch. Its insides are the job's own. */
struct kube_sa_job {
    char *ns, *name, *secret;
    char *path;
    enum kube_sa_state state;
    int rounds; /* patches tried */
    char *rv;   /* of the version the next patch tests */
    bool has_list;
    char *body;
    struct kube_sa_result result;
    struct er_error err;
};

/* Reads the account first. */
void kube_sa_job_init(struct kube_sa_job *j, const char *ns, const char *name,
                      const char *secret);

/* An account seen (on a watch) at resource_version, not listing the
 * Secret: patches at once. */
void kube_sa_job_init_known(struct kube_sa_job *j, const char *ns,
                            const char *name, const char *secret,
                            const char *resource_version, bool has_list);

bool kube_sa_job_next(struct kube_sa_job *j, struct kube_sync_request *req);
void kube_sa_job_answer(struct kube_sa_job *j,
                        const struct kube_response *resp);
void kube_sa_job_fail(struct kube_sa_job *j, const struct er_error *err);
enum er_code kube_sa_job_result(const struct kube_sa_job *j,
                                struct kube_sa_result *res,
                                struct er_error *err) ER_CHECK;
void kube_sa_job_free(struct kube_sa_job *j);

/* Runs one job through c, one request at a time. */
enum er_code kube_sa_patch(struct kube_client *c, const char *ns,
                           const char *name, const char *secret,
                           struct kube_sa_result *res,
                           struct er_error *err) ER_CHECK;

#endif
