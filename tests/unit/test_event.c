/*
 * Building core/v1 Events: the POST body's fields and name, Events about
 * cluster-scoped objects in "default", messages cut at a character
 * boundary, and the merge PATCH of a repeat.
 */
#include "kube/event.h"
#include "test_assert.h"
#include "test_util.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#define T0 ((time_t)1767225600) /* 2026-01-01T00:00:00Z */
#define T0_NANOS (UINT64_C(1767225600) * 1000000000u)

static const struct kube_event_object secret = {
    "v1", "Secret", "team-a", "ecr-pull",
    "4f6e7a1c-0d1e-4b7a-9c55-2a3b4c5d6e7f"};
static const struct kube_event_object ns_obj = {"v1", "Namespace", NULL,
                                                "team-a", NULL};

static json_t *parse(const char *text)
{
    json_error_t e;
    json_t *v = json_loads(text, 0, &e);

    if (!v)
        fail_msg("not JSON: %s: %s", e.text, text);
    return v;
}

/* The string at a dotted path ("involvedObject.name"), or NULL. */
static const char *at(json_t *doc, const char *path)
{
    char key[64];
    const char *dot;

    while ((dot = strchr(path, '.'))) {
        snprintf(key, sizeof(key), "%.*s", (int)(dot - path), path);
        doc = json_object_get(doc, key);
        path = dot + 1;
    }
    return json_string_value(json_object_get(doc, path));
}

static struct kube_event event_of(const struct kube_event_object *obj)
{
    return (struct kube_event){.obj = obj,
                               .type = KUBE_EVENT_NORMAL,
                               .reason = "Refreshed",
                               .message =
                                   "token valid until 2026-01-01T12:00:00Z",
                               .instance = "node-1",
                               .first_time = T0,
                               .last_time = T0 + 90,
                               .count = 3};
}

static void kube_event_post_build__secret__fields_as_client_go(void **state)
{
    struct kube_event ev = event_of(&secret);
    struct kube_event_post p;
    json_t *doc;

    (void)state;
    kube_event_post_build(&ev, T0_NANOS + 500000000u, 7, &p);
    assert_string_equal(p.name, "ecr-pull.188672520bc76500");
    assert_string_equal(p.path, "/api/v1/namespaces/team-a/events");
    doc = parse(p.body);
    assert_string_equal(at(doc, "apiVersion"), "v1");
    assert_string_equal(at(doc, "kind"), "Event");
    assert_string_equal(at(doc, "metadata.name"), p.name);
    assert_string_equal(at(doc, "metadata.namespace"), "team-a");
    assert_string_equal(at(doc, "involvedObject.apiVersion"), "v1");
    assert_string_equal(at(doc, "involvedObject.kind"), "Secret");
    assert_string_equal(at(doc, "involvedObject.namespace"), "team-a");
    assert_string_equal(at(doc, "involvedObject.name"), "ecr-pull");
    assert_string_equal(at(doc, "involvedObject.uid"), secret.uid);
    assert_string_equal(at(doc, "reason"), "Refreshed");
    assert_string_equal(at(doc, "message"),
                        "token valid until 2026-01-01T12:00:00Z");
    assert_string_equal(at(doc, "type"), "Normal");
    assert_string_equal(at(doc, "source.component"), "ecr-renew");
    assert_string_equal(at(doc, "source.host"), "node-1");
    assert_string_equal(at(doc, "firstTimestamp"), "2026-01-01T00:00:00Z");
    assert_string_equal(at(doc, "lastTimestamp"), "2026-01-01T00:01:30Z");
    assert_int_equal(json_integer_value(json_object_get(doc, "count")), 3);
    assert_string_equal(at(doc, "reportingComponent"), "ecr-renew");
    assert_string_equal(at(doc, "reportingInstance"), "node-1");
    assert_null(json_object_get(doc, "eventTime"));
    json_decref(doc);
    kube_event_post_free(&p);
}

static void kube_event_post_build__no_uid__uid_left_out(void **state)
{
    struct kube_event_object obj = secret;
    struct kube_event ev = event_of(&obj);
    struct kube_event_post p;
    json_t *doc;

    (void)state;
    obj.uid = NULL;
    kube_event_post_build(&ev, T0_NANOS, 7, &p);
    doc = parse(p.body);
    assert_null(json_object_get(json_object_get(doc, "involvedObject"), "uid"));
    json_decref(doc);
    kube_event_post_free(&p);
}

static void kube_event_post_build__namespace__in_default_without_ns(void **s)
{
    struct kube_event_object empty = ns_obj;
    const struct kube_event_object *objs[] = {&ns_obj, &empty};

    (void)s;
    empty.ns = "";
    for (size_t i = 0; i < 2; i++) {
        struct kube_event ev = event_of(objs[i]);
        struct kube_event_post p;
        json_t *doc, *involved;

        assert_true(kube_event_cluster_scoped(objs[i]));
        assert_string_equal(kube_event_namespace(objs[i]), "default");
        kube_event_post_build(&ev, T0_NANOS, 7, &p);
        assert_string_equal(p.path, "/api/v1/namespaces/default/events");
        assert_string_equal(p.name, "team-a.18867251edfa0000");
        doc = parse(p.body);
        involved = json_object_get(doc, "involvedObject");
        assert_string_equal(at(doc, "metadata.namespace"), "default");
        assert_null(json_object_get(involved, "namespace"));
        assert_string_equal(at(doc, "involvedObject.kind"), "Namespace");
        assert_string_equal(at(doc, "involvedObject.name"), "team-a");
        json_decref(doc);
        kube_event_post_free(&p);
    }
}

static void kube_event_name__not_a_subdomain__random_hex(void **state)
{
    char out[KUBE_EVENT_NAME_MAX], long_name[260];

    (void)state;
    kube_event_name("ecr-pull", 0x18a7c2f3b4d5e6f7u, 0xabcdefu, out);
    assert_string_equal(out, "ecr-pull.18a7c2f3b4d5e6f7");
    kube_event_name("system:controller", 1, 0xabcdefu, out);
    assert_string_equal(out, "0000000000abcdef0000000000000001");
    kube_event_name("Upper", 1, 2, out);
    assert_string_equal(out, "00000000000000020000000000000001");
    /* 237 + 17 = 254 characters: one too many for a subdomain (made of
     * labels of 49 characters, as names.c holds labels to 63). */
    for (size_t i = 0; i < 237; i++)
        long_name[i] = i % 50 == 49 ? '.' : 'a';
    long_name[237] = '\0';
    kube_event_name(long_name, 1, 2, out);
    assert_string_equal(out, "00000000000000020000000000000001");
    long_name[236] = '\0'; /* 253: fits */
    kube_event_name(long_name, 1, 2, out);
    assert_int_equal(strlen(out), 253);
}

static void kube_event_type_ok__normal_and_warning_only(void **state)
{
    (void)state;
    assert_true(kube_event_type_ok("Normal"));
    assert_true(kube_event_type_ok("Warning"));
    assert_false(kube_event_type_ok("normal"));
    assert_false(kube_event_type_ok("Error"));
    assert_false(kube_event_type_ok(NULL));
}

static void kube_event_clip_message__long__cut_at_character(void **state)
{
    char msg[1100], *out;

    (void)state;
    /* 1023 ASCII bytes, then "é" (2 bytes) across the 1024 limit. */
    memset(msg, 'x', 1023);
    memcpy(msg + 1023, "\xc3\xa9tail", 7);
    out = kube_event_clip_message(msg);
    assert_int_equal(strlen(out), 1023);
    free(out);
    /* A 3-byte character ending exactly at 1024 is kept whole. */
    memset(msg, 'x', 1021);
    memcpy(msg + 1021, "\xe2\x82\xac!", 5);
    out = kube_event_clip_message(msg);
    assert_int_equal(strlen(out), 1024);
    assert_memory_equal(out + 1021, "\xe2\x82\xac", 3);
    free(out);
    out = kube_event_clip_message("short");
    assert_string_equal(out, "short");
    free(out);
    out = kube_event_clip_message(NULL);
    assert_string_equal(out, "");
    free(out);
}

static void kube_event_clip_message__not_utf8__visible_form(void **state)
{
    char *out = kube_event_clip_message("bad \xff byte");

    (void)state;
    assert_string_equal(out, "bad \\xff byte");
    free(out);
}

static void kube_event_post_build__long_message__body_holds_1024(void **s)
{
    struct kube_event ev = event_of(&secret);
    struct kube_event_post p;
    char msg[3000];
    json_t *doc;

    (void)s;
    memset(msg, 'm', sizeof(msg) - 1);
    msg[sizeof(msg) - 1] = '\0';
    ev.message = msg;
    kube_event_post_build(&ev, T0_NANOS, 7, &p);
    doc = parse(p.body);
    assert_int_equal(strlen(at(doc, "message")), KUBE_EVENT_MESSAGE_MAX);
    json_decref(doc);
    kube_event_post_free(&p);
}

static void kube_event_patch_build__count_message_last_time(void **state)
{
    struct kube_event_patch p;
    json_t *doc;

    (void)state;
    kube_event_patch_build("team-a", "ecr-pull.188672520bc76500", 6,
                           "sixth time", T0 + 61, &p);
    assert_string_equal(
        p.path, "/api/v1/namespaces/team-a/events/ecr-pull.188672520bc76500");
    assert_string_equal(p.body, "{\"count\":6,\"message\":\"sixth time\","
                                "\"lastTimestamp\":\"2026-01-01T00:01:01Z\"}");
    doc = parse(p.body);
    assert_int_equal(json_object_size(doc), 3);
    json_decref(doc);
    kube_event_patch_free(&p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(kube_event_post_build__secret__fields_as_client_go),
        cmocka_unit_test(kube_event_post_build__no_uid__uid_left_out),
        cmocka_unit_test(
            kube_event_post_build__namespace__in_default_without_ns),
        cmocka_unit_test(kube_event_name__not_a_subdomain__random_hex),
        cmocka_unit_test(kube_event_type_ok__normal_and_warning_only),
        cmocka_unit_test(kube_event_clip_message__long__cut_at_character),
        cmocka_unit_test(kube_event_clip_message__not_utf8__visible_form),
        cmocka_unit_test(kube_event_post_build__long_message__body_holds_1024),
        cmocka_unit_test(kube_event_patch_build__count_message_last_time),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
