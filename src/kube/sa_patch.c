#include "sa_patch.h"
#include "../core/json_limit.h"
#include "../core/log.h"
#include "../core/xalloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

bool kube_sa_lists(json_t *sa, const char *secret)
{
    json_t *list = json_object_get(sa, "imagePullSecrets");
    size_t i;
    json_t *ref;

    json_array_foreach(list, i, ref)
    {
        const char *name = json_string_value(json_object_get(ref, "name"));
        if (name && strcmp(name, secret) == 0)
            return true;
    }
    return false;
}

bool kube_sa_opted_in(json_t *sa)
{
    const char *v = json_string_value(json_object_get(
        json_object_get(json_object_get(sa, "metadata"), "annotations"),
        KUBE_SA_OPT_IN_ANNOTATION));

    return v && strcmp(v, "true") == 0;
}

char *kube_sa_patch_body(const char *resource_version, bool has_list,
                         const char *secret)
{
    json_t *ops = json_array(), *ref = json_pack("{s:s}", "name", secret);
    char *text;

    json_array_append_new(ops, json_pack("{s:s, s:s, s:s}", "op", "test",
                                         "path", "/metadata/resourceVersion",
                                         "value", resource_version));
    if (has_list)
        json_array_append_new(ops,
                              json_pack("{s:s, s:s, s:o}", "op", "add", "path",
                                        "/imagePullSecrets/-", "value", ref));
    else
        json_array_append_new(ops, json_pack("{s:s, s:s, s:[o]}", "op", "add",
                                             "path", "/imagePullSecrets",
                                             "value", ref));
    text = json_dumps(ops, JSON_COMPACT);
    json_decref(ops);
    if (!text)
        abort(); /* only on allocation failure */
    return text;
}

const char *kube_sa_outcome_name(enum kube_sa_outcome o)
{
    switch (o) {
    case KUBE_SA_PATCHED:
        return "patched";
    case KUBE_SA_ALREADY:
        return "already listed";
    case KUBE_SA_MISSING:
        return "not found";
    }
    return "?";
}

static void init(struct kube_sa_job *j, const char *ns, const char *name,
                 const char *secret)
{
    memset(j, 0, sizeof(*j));
    j->ns = xstrdup(ns);
    j->name = xstrdup(name);
    j->secret = xstrdup(secret);
    j->path = xasprintf("/api/v1/namespaces/%s/serviceaccounts/%s", ns, name);
    j->state = KUBE_SA_GET;
}

void kube_sa_job_init(struct kube_sa_job *j, const char *ns, const char *name,
                      const char *secret)
{
    init(j, ns, name, secret);
}

void kube_sa_job_init_known(struct kube_sa_job *j, const char *ns,
                            const char *name, const char *secret,
                            const char *resource_version, bool has_list)
{
    init(j, ns, name, secret);
    j->rv = xstrdup(resource_version);
    j->has_list = has_list;
    j->state = KUBE_SA_PATCH;
}

void kube_sa_job_free(struct kube_sa_job *j)
{
    free(j->ns);
    free(j->name);
    free(j->secret);
    free(j->path);
    free(j->rv);
    free(j->body);
    memset(j, 0, sizeof(*j));
}

/* --- endings --------------------------------------------------------------
 */

static void finish(struct kube_sa_job *j, enum kube_sa_outcome outcome)
{
    j->state = KUBE_SA_DONE;
    j->result.code = ER_OK;
    j->result.outcome = outcome;
}

static void fail_with(struct kube_sa_job *j, const char *reason)
{
    j->state = KUBE_SA_DONE;
    j->result.code = j->err.code;
    snprintf(j->result.reason, sizeof(j->result.reason), "%s", reason);
}

void kube_sa_job_fail(struct kube_sa_job *j, const struct er_error *err)
{
    j->err = *err;
    fail_with(j, er_code_name(err->code));
}

static const char *hint_for(const char *method, const char *reason)
{
    if (strcmp(reason, "Forbidden") != 0)
        return "";
    return strcmp(method, "GET") == 0
               ? " Fix: patching ServiceAccounts needs get and patch on "
                 "serviceaccounts (list too for --service-account '*' or "
                 "--annotated-service-accounts, watch too for run)"
               : " Fix: grant patch on serviceaccounts to the identity "
                 "ecr-renew runs as";
}

static void refused(struct kube_sa_job *j, const char *method,
                    const struct kube_response *r)
{
    bool redirect = r->status >= 300 && r->status < 400;
    const char *reason = redirect ? "Redirect" : r->st.reason;
    char msg[800];

    er_set(&j->err, r->status >= 500 || redirect ? ER_NETWORK : ER_KUBE,
           "%s serviceaccount %s/%s: %ld %s: %s.%s", method, j->ns, j->name,
           r->status, reason, kube_response_message(r, msg, sizeof(msg)),
           hint_for(method, reason));
    fail_with(j, reason[0] ? reason : "HTTP error");
}

static void unreadable(struct kube_sa_job *j, const struct kube_response *r,
                       const char *why)
{
    er_set(&j->err, ER_PARSE,
           "GET serviceaccount %s/%s: HTTP %ld, but %s (Content-Type %s)",
           j->ns, j->name, r->status, why,
           r->content_type[0] ? r->content_type : "none");
    fail_with(j, "InvalidAnswer");
}

/* --- the steps ------------------------------------------------------------
 */

static void on_get(struct kube_sa_job *j, const struct kube_response *r)
{
    struct er_error perr = {0};
    json_t *sa = NULL;
    const char *rv;

    if (r->status == 404) {
        finish(j, KUBE_SA_MISSING);
        return;
    }
    if (r->status != 200) {
        refused(j, "GET", r);
        return;
    }
    if (json_limit_parse(r->body.data, r->body.len,
                         JSON_LIMIT_BUDGET(r->body.len), "the answer", &sa,
                         &perr) != ER_OK) {
        unreadable(j, r, perr.msg);
        return;
    }
    rv = json_string_value(
        json_object_get(json_object_get(sa, "metadata"), "resourceVersion"));
    if (!rv || !*rv) {
        unreadable(j, r, "it has no metadata.resourceVersion");
    } else if (kube_sa_lists(sa, j->secret)) {
        snprintf(j->result.resource_version, sizeof(j->result.resource_version),
                 "%s", rv);
        finish(j, KUBE_SA_ALREADY);
    } else {
        free(j->rv);
        j->rv = xstrdup(rv);
        j->has_list = json_is_array(json_object_get(sa, "imagePullSecrets"));
        j->state = KUBE_SA_PATCH;
    }
    json_decref(sa);
}

static void keep_version(struct kube_sa_job *j, const struct kube_response *r)
{
    json_t *sa = NULL;
    struct er_error ignored;
    const char *rv;

    if (json_limit_parse(r->body.data, r->body.len,
                         JSON_LIMIT_BUDGET(r->body.len), "the answer", &sa,
                         &ignored) != ER_OK)
        return;
    rv = json_string_value(
        json_object_get(json_object_get(sa, "metadata"), "resourceVersion"));
    snprintf(j->result.resource_version, sizeof(j->result.resource_version),
             "%s", rv ? rv : "");
    json_decref(sa);
}

static void on_patch(struct kube_sa_job *j, const struct kube_response *r)
{
    if (r->status == 200) {
        keep_version(j, r);
        finish(j, KUBE_SA_PATCHED);
    } else if (r->status == 404) {
        finish(j, KUBE_SA_MISSING);
    } else if (r->status == 422 || r->status == 409) {
        /* Changed since we read it: the test failed. Read it again. */
        if (j->rounds >= KUBE_SA_MAX_ROUNDS) {
            er_set(&j->err, ER_KUBE,
                   "serviceaccount %s/%s kept changing under us: gave up "
                   "after %d patches. Fix: check what else writes it",
                   j->ns, j->name, KUBE_SA_MAX_ROUNDS);
            fail_with(j, "Conflict");
            return;
        }
        log_event(LOG_DEBUG, "serviceaccount changed meanwhile; reading again",
                  "namespace", j->ns, "serviceaccount", j->name, LOG_END);
        j->state = KUBE_SA_GET;
    } else {
        refused(j, "PATCH", r);
    }
}

bool kube_sa_job_next(struct kube_sa_job *j, struct kube_sync_request *req)
{
    switch (j->state) {
    case KUBE_SA_GET:
        *req = (struct kube_sync_request){"GET", j->path, NULL, NULL};
        return true;
    case KUBE_SA_PATCH:
        j->rounds++;
        free(j->body);
        j->body = kube_sa_patch_body(j->rv, j->has_list, j->secret);
        *req = (struct kube_sync_request){"PATCH", j->path, j->body,
                                          KUBE_JSON_PATCH};
        return true;
    case KUBE_SA_DONE:
        break;
    }
    return false;
}

void kube_sa_job_answer(struct kube_sa_job *j, const struct kube_response *r)
{
    if (j->state == KUBE_SA_GET)
        on_get(j, r);
    else if (j->state == KUBE_SA_PATCH)
        on_patch(j, r);
}

enum er_code kube_sa_job_result(const struct kube_sa_job *j,
                                struct kube_sa_result *res,
                                struct er_error *err)
{
    *res = j->result;
    if (j->result.code != ER_OK)
        *err = j->err;
    return j->result.code;
}

enum er_code kube_sa_patch(struct kube_client *c, const char *ns,
                           const char *name, const char *secret,
                           struct kube_sa_result *res, struct er_error *err)
{
    struct kube_sa_job j;
    struct kube_sync_request req;
    struct kube_response r;
    struct er_error net;
    enum er_code rc;

    kube_sa_job_init(&j, ns, name, secret);
    while (kube_sa_job_next(&j, &req)) {
        struct kube_call call = {.method = req.method,
                                 .path = req.path,
                                 .body = req.body,
                                 .content_type = req.content_type};
        kube_response_init(&r);
        if (kube_send(c, &call, &r, &net) == ER_OK)
            kube_sa_job_answer(&j, &r);
        else
            kube_sa_job_fail(&j, &net);
        kube_response_free(&r);
    }
    rc = kube_sa_job_result(&j, res, err);
    kube_sa_job_free(&j);
    return rc;
}
