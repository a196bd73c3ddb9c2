/*
 * The Secret-write state machine, fed scripted answers: which request
 * follows which answer, and how a namespace ends.
 */
#include "core/wipe.h"
#include "core/log.h"
#include "kube/sync.h"
#include "test_assert.h"
#include "test_util.h"

#include <stdlib.h>
#include <string.h>

static const struct kube_secret_spec spec = {
    .name = "ecr-registry-secret",
    .dockerconfigjson = "{\"auths\":{}}",
    .expires_at = "2026-01-01T12:00:00Z",
    .registries = "123456789012.dkr.ecr.us-east-1.amazonaws.com",
    .renewed_at = "2026-01-01T00:00:00Z",
};

#define PATH "/api/v1/namespaces/team-a/secrets/ecr-registry-secret"
#define COLLECTION "/api/v1/namespaces/team-a/secrets"

#define OURS                                                                   \
    "{\"kind\":\"Secret\",\"apiVersion\":\"v1\",\"metadata\":{\"name\":"       \
    "\"ecr-registry-secret\",\"resourceVersion\":\"7\",\"labels\":{"           \
    "\"app.kubernetes.io/managed-by\":\"ecr-renew\"}},\"type\":"               \
    "\"kubernetes.io/dockerconfigjson\",\"data\":{}}"
#define UNLABELLED                                                             \
    "{\"kind\":\"Secret\",\"metadata\":{\"name\":\"ecr-registry-secret\","     \
    "\"resourceVersion\":\"7\"},\"type\":\"kubernetes.io/dockerconfigjson\"}"
#define OPAQUE                                                                 \
    "{\"kind\":\"Secret\",\"metadata\":{\"name\":\"ecr-registry-secret\","     \
    "\"resourceVersion\":\"7\"},\"type\":\"Opaque\"}"

/* One scripted answer: status, body, and Status fields if not 2xx. */
struct answer {
    long status;
    const char *body;
    const char *reason;
    const char *details_kind;
    const char *content_type;
    const char *message;
};

/* Expects the job to ask for method+path next, then gives it a. */
static void step(struct kube_sync_job *j, const char *method, const char *path,
                 struct answer a)
{
    struct kube_sync_request req;
    struct kube_response r;

    assert_true(kube_sync_job_next(j, &req));
    assert_string_equal(req.method, method);
    assert_string_equal(req.path, path);
    kube_response_init(&r);
    r.status = a.status;
    if (a.body)
        assert_int_equal(buf_adds(&r.body, a.body), BUF_OK);
    snprintf(r.content_type, sizeof(r.content_type), "%s",
             a.content_type ? a.content_type : "application/json");
    snprintf(r.st.reason, sizeof(r.st.reason), "%s", a.reason ? a.reason : "");
    snprintf(r.st.details_kind, sizeof(r.st.details_kind), "%s",
             a.details_kind ? a.details_kind : "");
    snprintf(r.st.message, sizeof(r.st.message), "%s",
             a.message ? a.message : "");
    kube_sync_job_answer(j, &r);
    kube_response_free(&r);
}

static enum er_code finish(struct kube_sync_job *j,
                           struct kube_sync_result *res, struct er_error *err)
{
    struct kube_sync_request req;
    enum er_code rc;

    assert_false(kube_sync_job_next(j, &req));
    rc = kube_sync_job_result(j, res, err);
    kube_sync_job_free(j);
    return rc;
}

static void kube_sync_job__absent__post_creates(void **state)
{
    struct kube_sync_job j;
    struct kube_sync_result res;
    struct er_error err;

    (void)state;
    kube_sync_job_init(&j, &spec, "team-a", false);
    step(&j, "GET", PATH,
         (struct answer){
             .status = 404, .reason = "NotFound", .details_kind = "secrets"});
    step(&j, "POST", COLLECTION, (struct answer){.status = 201, .body = OURS});
    assert_int_equal(finish(&j, &res, &err), ER_OK);
    assert_int_equal(res.outcome, KUBE_SYNC_CREATED);
}

static void kube_sync_job__ours__put_updates(void **state)
{
    struct kube_sync_job j;
    struct kube_sync_result res;
    struct er_error err;

    (void)state;
    kube_sync_job_init(&j, &spec, "team-a", false);
    step(&j, "GET", PATH, (struct answer){.status = 200, .body = OURS});
    step(&j, "PUT", PATH, (struct answer){.status = 200, .body = OURS});
    assert_int_equal(finish(&j, &res, &err), ER_OK);
    assert_int_equal(res.outcome, KUBE_SYNC_UPDATED);
}

static void kube_sync_job__unlabelled__taken_over(void **state)
{
    struct kube_sync_job j;
    struct kube_sync_result res;
    struct er_error err;

    (void)state;
    kube_sync_job_init(&j, &spec, "team-a", false);
    step(&j, "GET", PATH, (struct answer){.status = 200, .body = UNLABELLED});
    step(&j, "PUT", PATH, (struct answer){.status = 200, .body = OURS});
    assert_int_equal(finish(&j, &res, &err), ER_OK);
    assert_int_equal(res.outcome, KUBE_SYNC_TAKEN_OVER);
}

static void kube_sync_job__put_conflict__reads_again(void **state)
{
    struct kube_sync_job j;
    struct kube_sync_result res;
    struct er_error err;

    (void)state;
    kube_sync_job_init(&j, &spec, "team-a", false);
    step(&j, "GET", PATH, (struct answer){.status = 200, .body = OURS});
    step(&j, "PUT", PATH,
         (struct answer){
             .status = 409, .reason = "Conflict", .details_kind = "secrets"});
    step(&j, "GET", PATH, (struct answer){.status = 200, .body = OURS});
    step(&j, "PUT", PATH, (struct answer){.status = 200, .body = OURS});
    assert_int_equal(finish(&j, &res, &err), ER_OK);
}

static void kube_sync_job__post_already_exists__updates_instead(void **state)
{
    struct kube_sync_job j;
    struct kube_sync_result res;
    struct er_error err;

    (void)state;
    kube_sync_job_init(&j, &spec, "team-a", false);
    step(&j, "GET", PATH,
         (struct answer){
             .status = 404, .reason = "NotFound", .details_kind = "secrets"});
    step(&j, "POST", COLLECTION,
         (struct answer){.status = 409,
                         .reason = "AlreadyExists",
                         .details_kind = "secrets"});
    step(&j, "GET", PATH, (struct answer){.status = 200, .body = OURS});
    step(&j, "PUT", PATH, (struct answer){.status = 200, .body = OURS});
    assert_int_equal(finish(&j, &res, &err), ER_OK);
    assert_int_equal(res.outcome, KUBE_SYNC_UPDATED);
}

static void kube_sync_job__sixth_conflict__gives_up(void **state)
{
    struct kube_sync_job j;
    struct kube_sync_result res;
    struct er_error err;

    (void)state;
    kube_sync_job_init(&j, &spec, "team-a", false);
    for (int i = 0; i < KUBE_SYNC_MAX_ROUNDS; i++) {
        step(&j, "GET", PATH, (struct answer){.status = 200, .body = OURS});
        step(&j, "PUT", PATH,
             (struct answer){.status = 409, .reason = "Conflict"});
    }
    assert_int_equal(finish(&j, &res, &err), ER_KUBE);
    assert_string_equal(res.reason, "Conflict");
    assert_contains(err.msg, "kept changing under us");
}

static void kube_sync_job__foreign__refused_no_write(void **state)
{
    struct kube_sync_job j;
    struct kube_sync_result res;
    struct er_error err;

    (void)state;
    kube_sync_job_init(&j, &spec, "team-a", false);
    step(&j, "GET", PATH, (struct answer){.status = 200, .body = OPAQUE});
    assert_int_equal(finish(&j, &res, &err), ER_KUBE);
    assert_string_equal(res.reason, "NotOurs");
    assert_contains(err.msg, "not ours to overwrite: it has type Opaque");
}

static void kube_sync_job__missing_namespace__creates_it_once(void **state)
{
    struct kube_sync_job j;
    struct kube_sync_result res;
    struct er_error err;

    (void)state;
    kube_sync_job_init(&j, &spec, "team-a", true);
    step(&j, "GET", PATH,
         (struct answer){
             .status = 404, .reason = "NotFound", .details_kind = "secrets"});
    step(&j, "POST", COLLECTION,
         (struct answer){.status = 404,
                         .reason = "NotFound",
                         .details_kind = "namespaces"});
    step(&j, "POST", "/api/v1/namespaces",
         (struct answer){.status = 201, .body = "{}"});
    step(&j, "POST", COLLECTION, (struct answer){.status = 201, .body = OURS});
    assert_int_equal(finish(&j, &res, &err), ER_OK);
    assert_int_equal(res.outcome, KUBE_SYNC_CREATED);
}

static void kube_sync_job__missing_namespace__named_without_flag(void **s)
{
    struct kube_sync_job j;
    struct kube_sync_result res;
    struct er_error err;

    (void)s;
    kube_sync_job_init(&j, &spec, "team-a", false);
    step(&j, "GET", PATH,
         (struct answer){
             .status = 404, .reason = "NotFound", .details_kind = "secrets"});
    step(&j, "POST", COLLECTION,
         (struct answer){.status = 404,
                         .reason = "NotFound",
                         .details_kind = "namespaces"});
    assert_int_equal(finish(&j, &res, &err), ER_KUBE);
    assert_string_equal(res.reason, "NamespaceNotFound");
    assert_contains(err.msg, "--create-namespace");
}

static void kube_sync_job__forbidden__reason_and_hint(void **state)
{
    struct kube_sync_job j;
    struct kube_sync_result res;
    struct er_error err;

    (void)state;
    kube_sync_job_init(&j, &spec, "team-a", false);
    step(&j, "GET", PATH,
         (struct answer){
             .status = 403, .reason = "Forbidden", .details_kind = "secrets"});
    assert_int_equal(finish(&j, &res, &err), ER_KUBE);
    assert_string_equal(res.reason, "Forbidden");
    assert_contains(err.msg, "GET secrets in team-a: 403 Forbidden");
    assert_contains(err.msg, "Fix: grant get, create and update");
}

static void kube_sync_job__html_200__says_what_came_back(void **state)
{
    struct kube_sync_job j;
    struct kube_sync_result res;
    struct er_error err;

    (void)state;
    kube_sync_job_init(&j, &spec, "team-a", false);
    step(&j, "GET", PATH,
         (struct answer){.status = 200,
                         .body = "<html><body>Sign in</body></html>",
                         .content_type = "text/html"});
    assert_int_equal(finish(&j, &res, &err), ER_PARSE);
    assert_string_equal(res.reason, "InvalidAnswer");
    assert_contains(err.msg, "HTTP 200, but the API server's answer is not "
                             "JSON");
    assert_contains(err.msg, "Content-Type text/html");
    assert_not_contains(err.msg, "resourceVersion");
}

static void kube_sync_job__network_failure__ends_with_it(void **state)
{
    struct kube_sync_job j;
    struct kube_sync_request req;
    struct kube_sync_result res;
    struct er_error net, err;

    (void)state;
    kube_sync_job_init(&j, &spec, "team-a", false);
    assert_true(kube_sync_job_next(&j, &req));
    er_set(&net, ER_NETWORK, "GET %s: connection refused", PATH);
    kube_sync_job_fail(&j, &net);
    assert_int_equal(finish(&j, &res, &err), ER_NETWORK);
    assert_string_equal(res.reason, "network");
    assert_contains(err.msg, "connection refused");
}

#define NEWER                                                                  \
    "{\"kind\":\"Secret\",\"apiVersion\":\"v1\",\"metadata\":{\"name\":"       \
    "\"ecr-registry-secret\",\"resourceVersion\":\"9\",\"labels\":{"           \
    "\"app.kubernetes.io/managed-by\":\"ecr-renew\"},\"annotations\":{"        \
    "\"ecr-renew/expires-at\":\"2026-01-01T13:00:00Z\",\"ecr-renew/"           \
    "registries\":\"123456789012.dkr.ecr.us-east-1.amazonaws.com\"}},"         \
    "\"type\":\"kubernetes.io/dockerconfigjson\",\"data\":{}}"

static void kube_sync_job__later_token__kept_without_write(void **state)
{
    struct kube_sync_job j;
    struct kube_sync_result res;
    struct er_error err;

    (void)state;
    kube_sync_job_init(&j, &spec, "team-a", false);
    step(&j, "GET", PATH, (struct answer){.status = 200, .body = NEWER});
    assert_int_equal(finish(&j, &res, &err), ER_OK);
    assert_int_equal(res.outcome, KUBE_SYNC_KEPT_NEWER);
}

static void
kube_sync_job__namespace_terminating__skipped_not_failed(void **state)
{
    struct kube_sync_job j;
    struct kube_sync_result res;
    struct er_error err;

    (void)state;
    kube_sync_job_init(&j, &spec, "team-a", false);
    step(&j, "GET", PATH,
         (struct answer){
             .status = 404, .reason = "NotFound", .details_kind = "secrets"});
    step(&j, "POST", COLLECTION,
         (struct answer){.status = 403,
                         .reason = "Forbidden",
                         .details_kind = "secrets",
                         .message = "secrets \"ecr-registry-secret\" is "
                                    "forbidden: unable to create new content "
                                    "in namespace team-a because it is being "
                                    "terminated"});
    assert_int_equal(finish(&j, &res, &err), ER_OK);
    assert_int_equal(res.outcome, KUBE_SYNC_TERMINATING);
}

static void kube_sync_job__known_version__one_guarded_patch(void **state)
{
    struct kube_sync_job j;
    struct kube_sync_request req;
    struct kube_sync_result res;
    struct er_error err;

    (void)state;
    kube_sync_job_init_known(&j, &spec, "team-a", "7", KUBE_SECRET_OURS);
    assert_true(kube_sync_job_next(&j, &req));
    assert_string_equal(req.method, "PATCH");
    assert_string_equal(req.content_type, "application/merge-patch+json");
    assert_contains(req.body, "\"resourceVersion\":\"7\"");
    assert_contains(req.body, "\".dockerconfigjson\"");
    /* Take the request back: step() asks for it again. */
    kube_sync_job_free(&j);
    kube_sync_job_init_known(&j, &spec, "team-a", "7", KUBE_SECRET_OURS);
    step(&j, "PATCH", PATH, (struct answer){.status = 200, .body = OURS});
    assert_int_equal(finish(&j, &res, &err), ER_OK);
    assert_int_equal(res.outcome, KUBE_SYNC_UPDATED);
    assert_string_equal(res.resource_version, "7");
}

static void kube_sync_job__patch_conflict__judged_afresh(void **state)
{
    struct kube_sync_job j;
    struct kube_sync_result res;
    struct er_error err;

    (void)state;
    kube_sync_job_init_known(&j, &spec, "team-a", "6", KUBE_SECRET_OURS);
    step(&j, "PATCH", PATH,
         (struct answer){
             .status = 409, .reason = "Conflict", .details_kind = "secrets"});
    /* Someone else's Secret now: refused, never written. */
    step(&j, "GET", PATH, (struct answer){.status = 200, .body = OPAQUE});
    assert_int_equal(finish(&j, &res, &err), ER_KUBE);
    assert_string_equal(res.reason, "NotOurs");
}

static void kube_sync_job__patch_gone__created_again(void **state)
{
    struct kube_sync_job j;
    struct kube_sync_result res;
    struct er_error err;

    (void)state;
    kube_sync_job_init_known(&j, &spec, "team-a", "6", KUBE_SECRET_OURS);
    step(&j, "PATCH", PATH,
         (struct answer){
             .status = 404, .reason = "NotFound", .details_kind = "secrets"});
    step(&j, "POST", COLLECTION, (struct answer){.status = 201, .body = OURS});
    assert_int_equal(finish(&j, &res, &err), ER_OK);
    assert_int_equal(res.outcome, KUBE_SYNC_CREATED);
}

static void kube_sync_job__known_absent__post_first(void **state)
{
    struct kube_sync_job j;
    struct kube_sync_result res;
    struct er_error err;

    (void)state;
    kube_sync_job_init_absent(&j, &spec, "team-a");
    step(&j, "POST", COLLECTION,
         (struct answer){.status = 409,
                         .reason = "AlreadyExists",
                         .details_kind = "secrets"});
    step(&j, "GET", PATH, (struct answer){.status = 200, .body = OURS});
    step(&j, "PUT", PATH, (struct answer){.status = 200, .body = OURS});
    assert_int_equal(finish(&j, &res, &err), ER_OK);
    assert_int_equal(res.outcome, KUBE_SYNC_UPDATED);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(kube_sync_job__absent__post_creates),
        cmocka_unit_test(kube_sync_job__ours__put_updates),
        cmocka_unit_test(kube_sync_job__unlabelled__taken_over),
        cmocka_unit_test(kube_sync_job__put_conflict__reads_again),
        cmocka_unit_test(kube_sync_job__post_already_exists__updates_instead),
        cmocka_unit_test(kube_sync_job__sixth_conflict__gives_up),
        cmocka_unit_test(kube_sync_job__foreign__refused_no_write),
        cmocka_unit_test(kube_sync_job__missing_namespace__creates_it_once),
        cmocka_unit_test(kube_sync_job__missing_namespace__named_without_flag),
        cmocka_unit_test(kube_sync_job__forbidden__reason_and_hint),
        cmocka_unit_test(kube_sync_job__html_200__says_what_came_back),
        cmocka_unit_test(kube_sync_job__network_failure__ends_with_it),
        cmocka_unit_test(kube_sync_job__later_token__kept_without_write),
        cmocka_unit_test(
            kube_sync_job__namespace_terminating__skipped_not_failed),
        cmocka_unit_test(kube_sync_job__known_version__one_guarded_patch),
        cmocka_unit_test(kube_sync_job__patch_conflict__judged_afresh),
        cmocka_unit_test(kube_sync_job__patch_gone__created_again),
        cmocka_unit_test(kube_sync_job__known_absent__post_first),
    };
    log_setup(LOG_TEXT, LOG_ERROR, stderr);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
