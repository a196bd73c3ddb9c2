/*
 * Which pods --heal-pods deletes: stuck pulling from our registry,
 * without our Secret, owned by a controller. Nothing else.
 */
#include "kube/pod_heal.h"
#include "test_assert.h"
#include "test_util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define HOST "123456789012.dkr.ecr.us-east-1.amazonaws.com"

static struct str_list hosts;

/* A pod: owner kind ("" for none), pull secrets JSON array text, the
 * waiting reason and image of its container. */
static json_t *pod(const char *owner, const char *secrets, const char *reason,
                   const char *image)
{
    char text[2048];
    char owners[256] = "[]";
    json_error_t e;
    json_t *v;

    if (*owner)
        snprintf(owners, sizeof(owners),
                 "[{\"apiVersion\":\"apps/v1\",\"kind\":\"%s\",\"name\":"
                 "\"web-1\",\"uid\":\"o-1\",\"controller\":true}]",
                 owner);
    snprintf(text, sizeof(text),
             "{\"metadata\":{\"name\":\"web-1-abc\",\"namespace\":\"team-a\","
             "\"uid\":\"u-1\",\"ownerReferences\":%s},\"spec\":{"
             "\"serviceAccountName\":\"builder\",\"imagePullSecrets\":%s,"
             "\"containers\":[{\"name\":\"app\",\"image\":\"%s\"}]},"
             "\"status\":{\"phase\":\"Pending\",\"containerStatuses\":[{"
             "\"name\":\"app\",\"image\":\"%s\",\"state\":{\"waiting\":{"
             "\"reason\":\"%s\"}}}]}}",
             owners, secrets, image, image, reason);
    v = json_loads(text, 0, &e);
    if (!v)
        fail_msg("bad test JSON: %s", e.text);
    return v;
}

static bool candidate(json_t *p, struct pod_heal_view *view)
{
    bool yes = pod_heal_inspect(p, "ecr-registry-secret", &hosts, view);

    json_decref(p);
    return yes;
}

static void stuck_on_ours_owned__a_candidate(void **state)
{
    struct pod_heal_view v;

    (void)state;
    assert_true(candidate(
        pod("ReplicaSet", "[]", "ImagePullBackOff", HOST "/app:1"), &v));
    assert_string_equal(v.ns, "team-a");
    assert_string_equal(v.name, "web-1-abc");
    assert_string_equal(v.uid, "u-1");
    assert_string_equal(v.account, "builder");
    assert_string_equal(v.owner_kind, "ReplicaSet");
    assert_string_equal(v.owner_name, "web-1");
    assert_string_equal(v.image, HOST "/app:1");
    assert_true(candidate(pod("StatefulSet", "[{\"name\":\"other\"}]",
                              "ErrImagePull", HOST "/app@sha256:abc"),
                          &v));
    assert_true(
        candidate(pod("DaemonSet", "[]", "ErrImagePull", HOST "/a"), &v));
    assert_true(candidate(pod("Job", "[]", "ErrImagePull", HOST "/a"), &v));
}

static void everything_else__left_alone(void **state)
{
    struct pod_heal_view v;

    (void)state;
    /* A bare pod: nothing would make it again. */
    assert_false(candidate(pod("", "[]", "ImagePullBackOff", HOST "/a"), &v));
    /* An owner that does not re-create it the same way. */
    assert_false(
        candidate(pod("Deployment", "[]", "ImagePullBackOff", HOST "/a"), &v));
    /* It names our Secret already: it heals by itself. */
    assert_false(
        candidate(pod("ReplicaSet", "[{\"name\":\"ecr-registry-secret\"}]",
                      "ImagePullBackOff", HOST "/a"),
                  &v));
    /* Another registry, or Docker Hub. */
    assert_false(candidate(
        pod("ReplicaSet", "[]", "ImagePullBackOff", "ghcr.io/x/y:1"), &v));
    assert_false(
        candidate(pod("ReplicaSet", "[]", "ImagePullBackOff", "nginx:1"), &v));
    /* Not stuck on a pull. */
    assert_false(
        candidate(pod("ReplicaSet", "[]", "CrashLoopBackOff", HOST "/a"), &v));
    assert_false(
        candidate(pod("ReplicaSet", "[]", "ContainerCreating", HOST "/a"), &v));
}

static void being_deleted__left_alone(void **state)
{
    struct pod_heal_view v;
    json_t *p = pod("ReplicaSet", "[]", "ImagePullBackOff", HOST "/a");

    (void)state;
    json_object_set_new(json_object_get(p, "metadata"), "deletionTimestamp",
                        json_string("2026-01-01T00:00:00Z"));
    assert_false(candidate(p, &v));
}

static void image_host__only_real_hosts(void **state)
{
    char h[256];

    (void)state;
    pod_heal_image_host(HOST "/app:1", h, sizeof(h));
    assert_string_equal(h, HOST);
    pod_heal_image_host("localhost:5000/app", h, sizeof(h));
    assert_string_equal(h, "localhost:5000");
    pod_heal_image_host("library/nginx:1", h, sizeof(h));
    assert_string_equal(h, "");
    pod_heal_image_host("nginx", h, sizeof(h));
    assert_string_equal(h, "");
}

static void delete_body__uid_precondition(void **state)
{
    char *b = pod_heal_delete_body("u-1");

    (void)state;
    assert_string_equal(b, "{\"apiVersion\":\"v1\",\"kind\":\"DeleteOptions\","
                           "\"preconditions\":{\"uid\":\"u-1\"}}");
    free(b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(stuck_on_ours_owned__a_candidate),
        cmocka_unit_test(everything_else__left_alone),
        cmocka_unit_test(being_deleted__left_alone),
        cmocka_unit_test(image_host__only_real_hosts),
        cmocka_unit_test(delete_body__uid_precondition),
    };
    int rc;

    str_list_push(&hosts, HOST);
    rc = cmocka_run_group_tests(tests, NULL, NULL);
    str_list_clear(&hosts);
    return rc;
}
