#include "sync.h"
#include "../core/json_limit.h"
#include "../core/log.h"
#include "../core/wipe.h"
#include "../core/xalloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *kube_sync_outcome_name(enum kube_sync_outcome o)
{
    switch (o) {
    case KUBE_SYNC_CREATED:
        return "created";
    case KUBE_SYNC_UPDATED:
        return "updated";
    case KUBE_SYNC_TAKEN_OVER:
        return "taken over";
    case KUBE_SYNC_KEPT_NEWER:
        return "kept (it holds a later token)";
    case KUBE_SYNC_TERMINATING:
        return "skipped (namespace being deleted)";
    }
    return "?";
}

void kube_sync_job_init(struct kube_sync_job *j,
                        const struct kube_secret_spec *spec, const char *ns,
                        bool create_namespace)
{
    memset(j, 0, sizeof(*j));
    j->spec = spec;
    j->ns = xstrdup(ns);
    j->create_namespace = create_namespace;
    j->state = KUBE_SYNC_GET;
    j->collection_path = xasprintf("/api/v1/namespaces/%s/secrets", ns);
    j->secret_path = xasprintf("%s/%s", j->collection_path, spec->name);
}

void kube_sync_job_init_known(struct kube_sync_job *j,
                              const struct kube_secret_spec *spec,
                              const char *ns, const char *resource_version,
                              enum kube_secret_verdict verdict)
{
    kube_sync_job_init(j, spec, ns, false);
    j->known_rv = xstrdup(resource_version);
    j->verdict = verdict;
    j->state = KUBE_SYNC_PATCH;
}

void kube_sync_job_init_absent(struct kube_sync_job *j,
                               const struct kube_secret_spec *spec,
                               const char *ns)
{
    kube_sync_job_init(j, spec, ns, false);
    j->state = KUBE_SYNC_POST;
}

void kube_sync_job_free(struct kube_sync_job *j)
{
    free(j->known_rv);
    free(j->ns);
    free(j->secret_path);
    free(j->collection_path);
    wipe_free_str(j->body);
    memset(j, 0, sizeof(*j));
}

/* --- ending ------------------------------------------------------------- */

static void finish(struct kube_sync_job *j, enum kube_sync_outcome outcome)
{
    j->state = KUBE_SYNC_DONE;
    j->result.code = ER_OK;
    j->result.outcome = outcome;
}

/* A write's answer is the Secret as stored: keep its version, so a
 * controller knows its own write when the watch shows it. */
static void written(struct kube_sync_job *j, const struct kube_response *r,
                    enum kube_sync_outcome outcome)
{
    json_t *obj = NULL;
    struct er_error ignored;
    const char *rv;

    finish(j, outcome);
    if (json_limit_parse(r->body.data, r->body.len,
                         JSON_LIMIT_BUDGET(r->body.len), "the answer", &obj,
                         &ignored) != ER_OK)
        return;
    rv = json_string_value(
        json_object_get(json_object_get(obj, "metadata"), "resourceVersion"));
    snprintf(j->result.resource_version, sizeof(j->result.resource_version),
             "%s", rv ? rv : "");
    json_decref(obj);
}

static void fail_with(struct kube_sync_job *j, const char *reason)
{
    j->state = KUBE_SYNC_DONE;
    j->result.code = j->err.code;
    snprintf(j->result.reason, sizeof(j->result.reason), "%s", reason);
}

void kube_sync_job_fail(struct kube_sync_job *j, const struct er_error *err)
{
    j->err = *err;
    fail_with(j, er_code_name(err->code));
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

/* A write into a namespace being deleted is refused with 403 and this
 * message: the namespace is going, which is not the job's failure. */
static bool terminating(const struct kube_response *r)
{
    return r->status == 403 && strstr(r->st.message, "being terminated");
}

/* A final non-2xx answer ends the job with the namespace's error. */
static void refused(struct kube_sync_job *j, const char *method,
                    const char *what, const struct kube_response *r)
{
    if (terminating(r)) {
        finish(j, KUBE_SYNC_TERMINATING);
        return;
    }
    bool redirect = r->status >= 300 && r->status < 400;
    char msg[800];

    er_set(&j->err, r->status >= 500 || redirect ? ER_NETWORK : ER_KUBE,
           "%s %s in %s: %ld %s: %s.%s", method, what, j->ns, r->status,
           redirect ? "Redirect" : r->st.reason,
           kube_response_message(r, msg, sizeof(msg)),
           hint_for(method, &r->st));
    fail_with(j, redirect ? "Redirect" : r->st.reason);
}

/* A 2xx answer that is not what the API server sends: say what it was. */
static void unreadable(struct kube_sync_job *j, const char *method,
                       const char *what, const struct kube_response *r,
                       struct er_error *why)
{
    er_set(&j->err, ER_PARSE,
           "%s %s in %s: HTTP %ld, but %s (Content-Type %s). Fix: check that "
           "the kubeconfig's server is the API server, not a proxy or web "
           "page",
           method, what, j->ns, r->status, why->msg,
           r->content_type[0] ? r->content_type : "none");
    fail_with(j, "InvalidAnswer");
}

/* --- the steps ------------------------------------------------------------ */

static void again(struct kube_sync_job *j)
{
    if (j->rounds >= KUBE_SYNC_MAX_ROUNDS) {
        er_set(&j->err, ER_KUBE,
               "secret %s/%s kept changing under us: gave up after %d "
               "conflicting writes. Fix: check that no other tool writes this "
               "Secret",
               j->ns, j->spec->name, KUBE_SYNC_MAX_ROUNDS);
        fail_with(j, "Conflict");
        return;
    }
    log_event(LOG_DEBUG, "secret changed meanwhile; reading again", "namespace",
              j->ns, LOG_END);
    j->state = KUBE_SYNC_GET;
}

static void foreign(struct kube_sync_job *j, const char *why)
{
    er_set(&j->err, ER_KUBE,
           "secret %s/%s is not ours to overwrite: %s; it was left "
           "untouched. Fix: delete or rename it, or pass another "
           "--secret-name",
           j->ns, j->spec->name, why);
    fail_with(j, "NotOurs");
}

static void on_get(struct kube_sync_job *j, const struct kube_response *r)
{
    struct er_error why = {0};
    char reason[256];

    if (r->status == 404) {
        j->state = KUBE_SYNC_POST;
        return;
    }
    if (r->status != 200) {
        refused(j, "GET", "secrets", r);
        return;
    }
    wipe_free_str(j->body);
    j->body = NULL;
    if (kube_secret_update_body(r->body.data, r->body.len, j->spec, &j->verdict,
                                &j->body, reason, sizeof(reason),
                                &why) != ER_OK)
        unreadable(j, "GET", "secrets", r, &why);
    else if (j->verdict == KUBE_SECRET_FOREIGN)
        foreign(j, reason);
    else if (j->verdict == KUBE_SECRET_NEWER)
        finish(j, KUBE_SYNC_KEPT_NEWER);
    else
        j->state = KUBE_SYNC_PUT;
}

static void on_put(struct kube_sync_job *j, const struct kube_response *r)
{
    if (r->status == 200 || r->status == 201)
        written(j, r,
                j->verdict == KUBE_SECRET_TAKE_OVER ? KUBE_SYNC_TAKEN_OVER
                                                    : KUBE_SYNC_UPDATED);
    else if (r->status == 409 || r->status == 404)
        again(j); /* changed or deleted meanwhile: read again */
    else
        refused(j, "PUT", "secrets", r);
}

static void on_patch(struct kube_sync_job *j, const struct kube_response *r)
{
    if (r->status == 200 || r->status == 201)
        written(j, r,
                j->verdict == KUBE_SECRET_TAKE_OVER ? KUBE_SYNC_TAKEN_OVER
                                                    : KUBE_SYNC_UPDATED);
    else if (r->status == 404)
        j->state = KUBE_SYNC_POST; /* gone meanwhile: make it again */
    else if (r->status == 409 || r->status == 422)
        j->state = KUBE_SYNC_GET; /* changed meanwhile: judge it afresh */
    else
        refused(j, "PATCH", "secrets", r);
}

static void missing_namespace(struct kube_sync_job *j)
{
    if (j->create_namespace && !j->namespace_created) {
        j->state = KUBE_SYNC_POST_NAMESPACE;
        return;
    }
    er_set(&j->err, ER_KUBE,
           "namespace %s does not exist. Fix: create it, or pass "
           "--create-namespace (needs create on namespaces)",
           j->ns);
    fail_with(j, "NamespaceNotFound");
}

static void on_post(struct kube_sync_job *j, const struct kube_response *r)
{
    if (r->status == 201 || r->status == 200)
        written(j, r, KUBE_SYNC_CREATED);
    else if (r->status == 409)
        again(j); /* made meanwhile: update it instead */
    else if (r->status == 404 && strcmp(r->st.details_kind, "namespaces") == 0)
        missing_namespace(j);
    else
        refused(j, "POST", "secrets", r);
}

static void on_post_namespace(struct kube_sync_job *j,
                              const struct kube_response *r)
{
    if (r->status != 201 && r->status != 200 && r->status != 409) {
        refused(j, "POST", "namespaces", r);
        return;
    }
    j->namespace_created = true;
    log_event(LOG_INFO, "namespace created", "namespace", j->ns, LOG_END);
    j->state = KUBE_SYNC_POST;
}

bool kube_sync_job_next(struct kube_sync_job *j, struct kube_sync_request *req)
{
    switch (j->state) {
    case KUBE_SYNC_GET:
        j->rounds++;
        *req = (struct kube_sync_request){"GET", j->secret_path, NULL, NULL};
        return true;
    case KUBE_SYNC_PUT:
        *req = (struct kube_sync_request){"PUT", j->secret_path, j->body, NULL};
        return true;
    case KUBE_SYNC_PATCH:
        wipe_free_str(j->body);
        j->body = kube_secret_patch_body(j->spec, j->known_rv);
        *req = (struct kube_sync_request){"PATCH", j->secret_path, j->body,
                                          KUBE_MERGE_PATCH};
        return true;
    case KUBE_SYNC_POST:
        wipe_free_str(j->body);
        j->body = kube_secret_create_body(j->spec, j->ns);
        *req = (struct kube_sync_request){"POST", j->collection_path, j->body,
                                          NULL};
        return true;
    case KUBE_SYNC_POST_NAMESPACE:
        wipe_free_str(j->body);
        j->body = kube_namespace_body(j->ns);
        *req = (struct kube_sync_request){"POST", "/api/v1/namespaces", j->body,
                                          NULL};
        return true;
    case KUBE_SYNC_DONE:
        break;
    }
    return false;
}

void kube_sync_job_answer(struct kube_sync_job *j,
                          const struct kube_response *resp)
{
    switch (j->state) {
    case KUBE_SYNC_GET:
        on_get(j, resp);
        break;
    case KUBE_SYNC_PUT:
        on_put(j, resp);
        break;
    case KUBE_SYNC_PATCH:
        on_patch(j, resp);
        break;
    case KUBE_SYNC_POST:
        on_post(j, resp);
        break;
    case KUBE_SYNC_POST_NAMESPACE:
        on_post_namespace(j, resp);
        break;
    case KUBE_SYNC_DONE:
        break;
    }
}

enum er_code kube_sync_job_result(const struct kube_sync_job *j,
                                  struct kube_sync_result *res,
                                  struct er_error *err)
{
    *res = j->result;
    if (j->result.code != ER_OK && err)
        *err = j->err;
    return j->result.code;
}

enum er_code kube_sync_namespace(struct kube_client *c,
                                 const struct kube_secret_spec *spec,
                                 const char *ns, bool create_namespace,
                                 struct kube_sync_result *res,
                                 struct er_error *err)
{
    struct kube_sync_job j;
    struct kube_sync_request req;
    struct kube_response r;
    struct er_error net = {0};
    enum er_code rc;

    kube_sync_job_init(&j, spec, ns, create_namespace);
    while (kube_sync_job_next(&j, &req)) {
        struct kube_call call = {.method = req.method,
                                 .path = req.path,
                                 .body = req.body,
                                 .content_type = req.content_type};
        kube_response_init(&r);
        if (kube_send(c, &call, &r, &net) == ER_OK)
            kube_sync_job_answer(&j, &r);
        else
            kube_sync_job_fail(&j, &net);
        kube_response_free(&r);
    }
    rc = kube_sync_job_result(&j, res, err);
    kube_sync_job_free(&j);
    return rc;
}
