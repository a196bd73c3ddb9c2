/*
 * Adding the pull Secret to a ServiceAccount: the JSON Patch, and the
 * job's path through scripted answers.
 */
#include "core/log.h"
#include "kube/sa_patch.h"
#include "test_assert.h"
#include "test_util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PATH "/api/v1/namespaces/team-a/serviceaccounts/default"
#define SA_NONE                                                                \
    "{\"kind\":\"ServiceAccount\",\"metadata\":{\"name\":\"default\","         \
    "\"resourceVersion\":\"5\"}}"
#define SA_OTHER                                                               \
    "{\"kind\":\"ServiceAccount\",\"metadata\":{\"name\":\"default\","         \
    "\"resourceVersion\":\"6\"},\"imagePullSecrets\":[{\"name\":\"other\"}]}"
#define SA_OURS                                                                \
    "{\"kind\":\"ServiceAccount\",\"metadata\":{\"name\":\"default\","         \
    "\"resourceVersion\":\"7\"},\"imagePullSecrets\":[{\"name\":\"other\"},"   \
    "{\"name\":\"ecr-registry-secret\"}]}"

static json_t *parse(const char *text)
{
    json_error_t e;
    json_t *v = json_loads(text, 0, &e);

    if (!v)
        fail_msg("bad test JSON: %s", e.text);
    return v;
}

static void lists_and_opt_in(void **state)
{
    json_t *none = parse(SA_NONE), *other = parse(SA_OTHER),
           *ours = parse(SA_OURS),
           *opted = parse("{\"metadata\":{\"annotations\":{\"ecr-renew/"
                          "pull-secret\":\"true\"}}}"),
           *no = parse("{\"metadata\":{\"annotations\":{\"ecr-renew/"
                       "pull-secret\":\"yes\"}}}");

    (void)state;
    assert_false(kube_sa_lists(none, "ecr-registry-secret"));
    assert_false(kube_sa_lists(other, "ecr-registry-secret"));
    assert_true(kube_sa_lists(ours, "ecr-registry-secret"));
    assert_true(kube_sa_opted_in(opted));
    assert_false(kube_sa_opted_in(no));
    assert_false(kube_sa_opted_in(none));
    json_decref(none);
    json_decref(other);
    json_decref(ours);
    json_decref(opted);
    json_decref(no);
}

static void patch_body__test_then_add(void **state)
{
    char *with = kube_sa_patch_body("6", true, "ecr-registry-secret");
    char *without = kube_sa_patch_body("5", false, "ecr-registry-secret");

    (void)state;
    assert_string_equal(
        with, "[{\"op\":\"test\",\"path\":\"/metadata/resourceVersion\","
              "\"value\":\"6\"},{\"op\":\"add\",\"path\":\"/imagePullSecrets/"
              "-\",\"value\":{\"name\":\"ecr-registry-secret\"}}]");
    assert_string_equal(
        without,
        "[{\"op\":\"test\",\"path\":\"/metadata/resourceVersion\","
        "\"value\":\"5\"},{\"op\":\"add\",\"path\":\"/imagePullSecrets\","
        "\"value\":[{\"name\":\"ecr-registry-secret\"}]}]");
    free(with);
    free(without);
}

struct answer {
    long status;
    const char *body;
    const char *reason;
};

static void step(struct kube_sa_job *j, const char *method, struct answer a,
                 const char *body_has)
{
    struct kube_sync_request req;
    struct kube_response r;

    assert_true(kube_sa_job_next(j, &req));
    assert_string_equal(req.method, method);
    assert_string_equal(req.path, PATH);
    if (body_has)
        assert_contains(req.body, body_has);
    if (strcmp(method, "PATCH") == 0)
        assert_string_equal(req.content_type, "application/json-patch+json");
    kube_response_init(&r);
    r.status = a.status;
    if (a.body)
        assert_int_equal(buf_adds(&r.body, a.body), BUF_OK);
    snprintf(r.content_type, sizeof(r.content_type), "application/json");
    snprintf(r.st.reason, sizeof(r.st.reason), "%s", a.reason ? a.reason : "");
    kube_sa_job_answer(j, &r);
    kube_response_free(&r);
}

static enum er_code finish(struct kube_sa_job *j, struct kube_sa_result *res,
                           struct er_error *err)
{
    struct kube_sync_request req;
    enum er_code rc;

    assert_false(kube_sa_job_next(j, &req));
    rc = kube_sa_job_result(j, res, err);
    kube_sa_job_free(j);
    return rc;
}

static void job__other_entries__appended_after_them(void **state)
{
    struct kube_sa_job j;
    struct kube_sa_result res;
    struct er_error err;

    (void)state;
    kube_sa_job_init(&j, "team-a", "default", "ecr-registry-secret");
    step(&j, "GET", (struct answer){200, SA_OTHER, NULL}, NULL);
    step(&j, "PATCH", (struct answer){200, SA_OURS, NULL},
         "\"path\":\"/imagePullSecrets/-\"");
    assert_int_equal(finish(&j, &res, &err), ER_OK);
    assert_int_equal(res.outcome, KUBE_SA_PATCHED);
    assert_string_equal(res.resource_version, "7");
}

static void job__already_listed__no_patch(void **state)
{
    struct kube_sa_job j;
    struct kube_sa_result res;
    struct er_error err;

    (void)state;
    kube_sa_job_init(&j, "team-a", "default", "ecr-registry-secret");
    step(&j, "GET", (struct answer){200, SA_OURS, NULL}, NULL);
    assert_int_equal(finish(&j, &res, &err), ER_OK);
    assert_int_equal(res.outcome, KUBE_SA_ALREADY);
}

static void job__changed_between_read_and_patch__read_again(void **state)
{
    struct kube_sa_job j;
    struct kube_sa_result res;
    struct er_error err;

    (void)state;
    kube_sa_job_init_known(&j, "team-a", "default", "ecr-registry-secret", "5",
                           false);
    step(&j, "PATCH", (struct answer){422, NULL, "Invalid"}, "\"value\":\"5\"");
    step(&j, "GET", (struct answer){200, SA_OTHER, NULL}, NULL);
    step(&j, "PATCH", (struct answer){200, SA_OURS, NULL}, "\"value\":\"6\"");
    assert_int_equal(finish(&j, &res, &err), ER_OK);
    assert_int_equal(res.outcome, KUBE_SA_PATCHED);
}

static void job__keeps_changing__gives_up_naming_it(void **state)
{
    struct kube_sa_job j;
    struct kube_sa_result res;
    struct er_error err;

    (void)state;
    kube_sa_job_init(&j, "team-a", "default", "ecr-registry-secret");
    for (int i = 0; i < KUBE_SA_MAX_ROUNDS; i++) {
        step(&j, "GET", (struct answer){200, SA_OTHER, NULL}, NULL);
        step(&j, "PATCH", (struct answer){409, NULL, "Conflict"}, NULL);
    }
    assert_int_equal(finish(&j, &res, &err), ER_KUBE);
    assert_string_equal(res.reason, "Conflict");
    assert_contains(err.msg, "team-a/default kept changing");
}

static void job__missing_and_forbidden(void **state)
{
    struct kube_sa_job j;
    struct kube_sa_result res;
    struct er_error err;

    (void)state;
    kube_sa_job_init(&j, "team-a", "default", "ecr-registry-secret");
    step(&j, "GET", (struct answer){404, NULL, "NotFound"}, NULL);
    assert_int_equal(finish(&j, &res, &err), ER_OK);
    assert_int_equal(res.outcome, KUBE_SA_MISSING);

    kube_sa_job_init(&j, "team-a", "default", "ecr-registry-secret");
    step(&j, "GET", (struct answer){403, NULL, "Forbidden"}, NULL);
    assert_int_equal(finish(&j, &res, &err), ER_KUBE);
    assert_string_equal(res.reason, "Forbidden");
    assert_contains(err.msg, "GET serviceaccount team-a/default: 403");
    assert_contains(err.msg, "get and patch on serviceaccounts");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(lists_and_opt_in),
        cmocka_unit_test(patch_body__test_then_add),
        cmocka_unit_test(job__other_entries__appended_after_them),
        cmocka_unit_test(job__already_listed__no_patch),
        cmocka_unit_test(job__changed_between_read_and_patch__read_again),
        cmocka_unit_test(job__keeps_changing__gives_up_naming_it),
        cmocka_unit_test(job__missing_and_forbidden),
    };

    log_setup(LOG_TEXT, LOG_ERROR, stderr);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
