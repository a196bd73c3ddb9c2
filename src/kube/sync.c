#include "sync.h"
#include "../core/log.h"
#include "../core/wipe.h"
#include "../core/xalloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* What one round decided; ROUND_AGAIN starts the GET over. */
enum round {
    ROUND_DONE,
    ROUND_AGAIN,
};

struct sync_job {
    struct kube_client *c;
    const struct kube_secret_spec *spec;
    const char *ns;
    bool create_namespace;
    bool namespace_created;
    char *secret_path;     /* /api/v1/namespaces/<ns>/secrets/<name> */
    char *collection_path; /* /api/v1/namespaces/<ns>/secrets */
    enum kube_sync_outcome outcome;
    char *reason;
    size_t reason_cap;
};

const char *kube_sync_outcome_name(enum kube_sync_outcome o)
{
    switch (o) {
    case KUBE_SYNC_CREATED:
        return "created";
    case KUBE_SYNC_UPDATED:
        return "updated";
    case KUBE_SYNC_TAKEN_OVER:
        return "taken over";
    }
    return "?";
}

static const char *hint_for(const char *method, const struct kube_status *st)
{
    /* RBAC is checked before existence: with rights from a Role in the
     * namespace, a namespace that does not exist answers Forbidden. */
    if (strcmp(st->reason, "Forbidden") == 0 && strcmp(method, "GET") == 0)
        return " Fix: grant get, create and update on secrets in this "
               "namespace to the identity ecr-renew runs as (Role "
               "ecr-renew-role), or the namespace does not exist";
    if (strcmp(st->reason, "Forbidden") == 0)
        return " Fix: grant get, create and update on secrets in this "
               "namespace to the identity ecr-renew runs as (Role "
               "ecr-renew-role)";
    if (strcmp(st->reason, "Unauthorized") == 0)
        return " Fix: the token or certificate was not accepted; check the "
               "kubeconfig user or the service-account token";
    if (strcmp(st->reason, "Invalid") == 0)
        return " Fix: the API server rejected the object; check "
               "--secret-name";
    return "";
}

/* Turns a final non-2xx answer into the namespace's error. */
static enum er_code refused(struct sync_job *j, const char *method,
                            const char *what, const struct kube_response *r,
                            struct er_error *err)
{
    snprintf(j->reason, j->reason_cap, "%s", r->st.reason);
    return er_set(err, r->status >= 500 ? ER_NETWORK : ER_KUBE,
                  "%s %s in %s: %ld %s: %s.%s", method, what, j->ns, r->status,
                  r->st.reason,
                  r->st.message[0] ? r->st.message : "(no message)",
                  hint_for(method, &r->st));
}

static enum er_code request(struct sync_job *j, const char *method,
                            const char *path, const char *body,
                            struct kube_response *r, struct er_error *err)
{
    enum er_code rc = kube_request(j->c, method, path, body, r, err);

    if (rc != ER_OK)
        snprintf(j->reason, j->reason_cap, "%s", er_code_name(rc));
    return rc;
}

static enum er_code make_namespace(struct sync_job *j, struct er_error *err)
{
    char *body = kube_namespace_body(j->ns);
    struct kube_response r;
    enum er_code rc;

    kube_response_init(&r);
    rc = request(j, "POST", "/api/v1/namespaces", body, &r, err);
    if (rc == ER_OK && r.status != 201 && r.status != 409)
        rc = refused(j, "POST", "namespaces", &r, err);
    if (rc == ER_OK) {
        j->namespace_created = true;
        log_event(LOG_INFO, "namespace created", "namespace", j->ns, LOG_END);
    }
    kube_response_free(&r);
    free(body);
    return rc;
}

static enum er_code missing_namespace(struct sync_job *j, enum round *next,
                                      struct er_error *err)
{
    if (j->create_namespace && !j->namespace_created) {
        *next = ROUND_AGAIN;
        return make_namespace(j, err);
    }
    snprintf(j->reason, j->reason_cap, "NamespaceNotFound");
    return er_set(err, ER_KUBE,
                  "namespace %s does not exist. Fix: create "
                  "it, or pass --create-namespace (needs create on "
                  "namespaces)",
                  j->ns);
}

static enum er_code try_create(struct sync_job *j, enum round *next,
                               struct er_error *err)
{
    char *body = kube_secret_create_body(j->spec, j->ns);
    struct kube_response r;
    enum er_code rc;

    kube_response_init(&r);
    *next = ROUND_DONE;
    rc = request(j, "POST", j->collection_path, body, &r, err);
    if (rc != ER_OK)
        goto out;
    if (r.status == 201 || r.status == 200)
        j->outcome = KUBE_SYNC_CREATED;
    else if (r.status == 409)
        *next = ROUND_AGAIN; /* made meanwhile: update it instead */
    else if (r.status == 404 && strcmp(r.st.details_kind, "namespaces") == 0)
        rc = missing_namespace(j, next, err);
    else
        rc = refused(j, "POST", "secrets", &r, err);
out:
    kube_response_free(&r);
    wipe_free_str(body);
    return rc;
}

static enum er_code foreign(struct sync_job *j, const char *why,
                            struct er_error *err)
{
    snprintf(j->reason, j->reason_cap, "NotOurs");
    return er_set(err, ER_KUBE,
                  "secret %s/%s is not ours to overwrite: %s; "
                  "it was left untouched. Fix: delete or rename it, or pass "
                  "another --secret-name",
                  j->ns, j->spec->name, why);
}

static enum er_code try_update(struct sync_job *j,
                               const struct kube_response *got,
                               enum round *next, struct er_error *err)
{
    enum kube_secret_verdict verdict;
    struct kube_response r;
    char why[256], *body = NULL;
    enum er_code rc;

    kube_response_init(&r);
    *next = ROUND_DONE;
    rc = kube_secret_update_body(got->body.data, got->body.len, j->spec,
                                 &verdict, &body, why, sizeof(why), err);
    if (rc == ER_OK && verdict == KUBE_SECRET_FOREIGN)
        rc = foreign(j, why, err);
    if (rc != ER_OK)
        goto out;
    rc = request(j, "PUT", j->secret_path, body, &r, err);
    if (rc != ER_OK)
        goto out;
    if (r.status == 200)
        j->outcome = verdict == KUBE_SECRET_TAKE_OVER ? KUBE_SYNC_TAKEN_OVER
                                                      : KUBE_SYNC_UPDATED;
    else if (r.status == 409 || r.status == 404)
        *next = ROUND_AGAIN; /* changed or deleted meanwhile: read again */
    else
        rc = refused(j, "PUT", "secrets", &r, err);
out:
    kube_response_free(&r);
    wipe_free_str(body);
    return rc;
}

static enum er_code one_round(struct sync_job *j, enum round *next,
                              struct er_error *err)
{
    struct kube_response r;
    enum er_code rc;

    kube_response_init(&r);
    rc = request(j, "GET", j->secret_path, NULL, &r, err);
    if (rc != ER_OK)
        goto out;
    if (r.status == 200)
        rc = try_update(j, &r, next, err);
    else if (r.status == 404)
        rc = try_create(j, next, err);
    else
        rc = refused(j, "GET", "secrets", &r, err);
out:
    kube_response_free(&r);
    return rc;
}

enum er_code kube_sync_namespace(struct kube_client *c,
                                 const struct kube_secret_spec *spec,
                                 const char *ns, bool create_namespace,
                                 enum kube_sync_outcome *outcome, char *reason,
                                 size_t reason_cap, struct er_error *err)
{
    struct sync_job j = {
        .c = c,
        .spec = spec,
        .ns = ns,
        .create_namespace = create_namespace,
        .outcome = KUBE_SYNC_CREATED,
        .reason = reason,
        .reason_cap = reason_cap,
    };
    enum round next = ROUND_AGAIN;
    enum er_code rc = ER_OK;
    int rounds = 0;

    reason[0] = '\0';
    j.collection_path = xasprintf("/api/v1/namespaces/%s/secrets", ns);
    j.secret_path = xasprintf("%s/%s", j.collection_path, spec->name);
    while (rc == ER_OK && next == ROUND_AGAIN) {
        if (rounds++ == KUBE_SYNC_MAX_ROUNDS) {
            snprintf(reason, reason_cap, "Conflict");
            rc = er_set(err, ER_KUBE,
                        "secret %s/%s kept changing under us: "
                        "gave up after %d conflicting writes. Fix: check "
                        "that no other tool writes this Secret",
                        ns, spec->name, KUBE_SYNC_MAX_ROUNDS);
            break;
        }
        if (rounds > 1)
            log_event(LOG_DEBUG, "secret changed meanwhile; reading again",
                      "namespace", ns, LOG_END);
        rc = one_round(&j, &next, err);
    }
    if (rc == ER_OK)
        *outcome = j.outcome;
    free(j.collection_path);
    free(j.secret_path);
    return rc;
}
