/*
 * The Secret's bodies and the ownership verdicts: what may be updated,
 * what is taken over, what is refused.
 */
#include "core/b64.h"
#include "core/buf.h"
#include "core/wipe.h"
#include "kube/pull_secret.h"
#include "test_assert.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

static const struct kube_secret_spec spec = {
    "ecr-registry-secret",
    "{\"auths\":{\"1.dkr.ecr.us-east-1.amazonaws.com\":{\"username\":\"AWS\","
    "\"password\":\"pw\",\"auth\":\"QVdTOnB3\"}}}",
    "2026-01-01T12:00:00Z",
    "1.dkr.ecr.us-east-1.amazonaws.com",
    "2026-01-01T00:00:00Z",
};

static json_t *load(const char *text)
{
    json_t *j = json_loads(text, 0, NULL);

    assert_non_null(j);
    return j;
}

static const char *str_at(json_t *root, const char *a, const char *b,
                          const char *c)
{
    json_t *v = json_object_get(root, a);

    if (b)
        v = json_object_get(v, b);
    if (c)
        v = json_object_get(v, c);
    return json_string_value(v);
}

static char *decoded_data(json_t *obj)
{
    const char *enc = str_at(obj, "data", ".dockerconfigjson", NULL);
    struct buf out = BUF_INIT;

    assert_non_null(enc);
    assert_int_equal(b64_decode(&out, enc, strlen(enc)), 0);
    return buf_detach(&out, NULL);
}

static void kube_secret_create_body__has_type_label_annotations_data(void **s)
{
    char *body = kube_secret_create_body(&spec, "runtime");
    json_t *obj = load(body);
    char *doc = decoded_data(obj);

    (void)s;
    assert_string_equal(str_at(obj, "type", NULL, NULL), KUBE_SECRET_TYPE);
    assert_string_equal(str_at(obj, "metadata", "namespace", NULL), "runtime");
    assert_string_equal(
        str_at(obj, "metadata", "labels", KUBE_MANAGED_BY_LABEL), "ecr-renew");
    assert_string_equal(
        str_at(obj, "metadata", "annotations", KUBE_ANNOTATION_EXPIRES),
        "2026-01-01T12:00:00Z");
    assert_string_equal(doc, spec.dockerconfigjson);
    free(doc);
    json_decref(obj);
    wipe_free_str(body);
}

static char *update(const char *existing, enum kube_secret_verdict *v,
                    char *reason, enum er_code want)
{
    struct er_error err = {0};
    char *body = NULL;

    assert_int_equal(kube_secret_update_body(existing, strlen(existing), &spec,
                                             v, &body, reason, 256, &err),
                     want);
    return body;
}

static void kube_secret_update_body__ours__keeps_rv_uid_and_others(void **s)
{
    const char *existing =
        "{\"apiVersion\":\"v1\",\"kind\":\"Secret\",\"type\":"
        "\"" KUBE_SECRET_TYPE
        "\",\"metadata\":{\"name\":\"ecr-registry-secret\",\"uid\":\"u-1\","
        "\"resourceVersion\":\"42\",\"managedFields\":[{}],\"labels\":{"
        "\"app.kubernetes.io/managed-by\":\"ecr-renew\",\"team\":\"a\"},"
        "\"annotations\":{\"note\":\"keep\",\"" KUBE_LAST_APPLIED_ANNOTATION
        "\":\"{old token}\"}},\"data\":{\".dockerconfigjson\":"
        "\"e30=\"},\"stringData\":{\"x\":\"y\"}}";
    enum kube_secret_verdict v;
    char reason[256];
    char *body = update(existing, &v, reason, ER_OK);
    json_t *obj = load(body);
    char *doc = decoded_data(obj);

    (void)s;
    assert_int_equal(v, KUBE_SECRET_OURS);
    assert_string_equal(str_at(obj, "metadata", "resourceVersion", NULL), "42");
    assert_string_equal(str_at(obj, "metadata", "uid", NULL), "u-1");
    assert_string_equal(str_at(obj, "metadata", "labels", "team"), "a");
    assert_string_equal(str_at(obj, "metadata", "annotations", "note"), "keep");
    assert_null(
        str_at(obj, "metadata", "annotations", KUBE_LAST_APPLIED_ANNOTATION));
    assert_null(
        json_object_get(json_object_get(obj, "metadata"), "managedFields"));
    assert_null(json_object_get(obj, "stringData"));
    assert_string_equal(doc, spec.dockerconfigjson);
    free(doc);
    json_decref(obj);
    wipe_free_str(body);
}

static void
kube_secret_update_body__unlabelled__taken_over_and_labelled(void **s)
{
    const char *existing =
        "{\"type\":\"" KUBE_SECRET_TYPE "\",\"metadata\":{\"name\":\"n\","
        "\"resourceVersion\":\"7\"},\"data\":{\".dockerconfigjson\":\"e30=\"}}";
    enum kube_secret_verdict v;
    char reason[256];
    char *body = update(existing, &v, reason, ER_OK);
    json_t *obj = load(body);

    (void)s;
    assert_int_equal(v, KUBE_SECRET_TAKE_OVER);
    assert_string_equal(
        str_at(obj, "metadata", "labels", KUBE_MANAGED_BY_LABEL), "ecr-renew");
    json_decref(obj);
    wipe_free_str(body);
}

static void expect_foreign(const char *existing, const char *why)
{
    enum kube_secret_verdict v;
    char reason[256];
    char *body = update(existing, &v, reason, ER_OK);

    assert_int_equal(v, KUBE_SECRET_FOREIGN);
    assert_null(body);
    assert_contains(reason, why);
}

static void kube_secret_update_body__not_ours__refused_with_reason(void **s)
{
    (void)s;
    expect_foreign("{\"type\":\"Opaque\",\"metadata\":{\"resourceVersion\":"
                   "\"1\"}}",
                   "it has type Opaque");
    expect_foreign("{\"metadata\":{\"resourceVersion\":\"1\"}}",
                   "it has type Opaque");
    expect_foreign("{\"type\":\"" KUBE_SECRET_TYPE "\",\"metadata\":{"
                   "\"resourceVersion\":\"1\",\"labels\":{"
                   "\"app.kubernetes.io/managed-by\":\"Helm\"}}}",
                   "managed by Helm");
    expect_foreign("{\"type\":\"" KUBE_SECRET_TYPE "\",\"metadata\":{"
                   "\"resourceVersion\":\"1\",\"ownerReferences\":[{\"kind\":"
                   "\"ExternalSecret\",\"name\":\"ecr\"}]}}",
                   "owned by ExternalSecret ecr");
}

static void kube_secret_update_body__not_a_secret__parse_error(void **s)
{
    enum kube_secret_verdict v;
    char reason[256];

    (void)s;
    assert_null(update("[]", &v, reason, ER_PARSE));
    assert_null(update("{\"metadata\":{}}", &v, reason, ER_PARSE));
    assert_null(update("not json", &v, reason, ER_PARSE));
}

static void kube_namespace_body__names_the_namespace(void **s)
{
    char *body = kube_namespace_body("team-a");
    json_t *obj = load(body);

    (void)s;
    assert_string_equal(str_at(obj, "kind", NULL, NULL), "Namespace");
    assert_string_equal(str_at(obj, "metadata", "name", NULL), "team-a");
    json_decref(obj);
    free(body);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(
            kube_secret_create_body__has_type_label_annotations_data),
        cmocka_unit_test(
            kube_secret_update_body__ours__keeps_rv_uid_and_others),
        cmocka_unit_test(
            kube_secret_update_body__unlabelled__taken_over_and_labelled),
        cmocka_unit_test(
            kube_secret_update_body__not_ours__refused_with_reason),
        cmocka_unit_test(kube_secret_update_body__not_a_secret__parse_error),
        cmocka_unit_test(kube_namespace_body__names_the_namespace),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
