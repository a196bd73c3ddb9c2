/*
 * The watch-stream splitter: events cut anywhere by the transport, the
 * event shapes of REFERENCE-2 §1.3-1.4, limits, and wiping.
 */
#include "core/strutil.h"
#include "core/wipe.h"
#include "kube/watch.h"
#include "test_assert.h"
#include "test_util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_SEEN 16

/* What the callback saw, copied out since events are borrowed. */
struct seen {
    size_t n;
    enum kube_watch_type type[MAX_SEEN];
    char rv[MAX_SEEN][32];
    char name[MAX_SEEN][64];
    long code[MAX_SEEN];
    char reason[MAX_SEEN][64];
    char message[MAX_SEEN][256];
    bool expired[MAX_SEEN];
    size_t stop_at; /* return ER_KUBE on this event (1-based); 0: never */
};

static enum er_code record(void *ctx, const struct kube_watch_event *ev,
                           struct er_error *err)
{
    struct seen *s = ctx;
    json_t *name =
        json_object_get(json_object_get(ev->object, "metadata"), "name");
    size_t i = s->n++;

    assert_true(i < MAX_SEEN);
    assert_true(json_is_object(ev->object));
    s->type[i] = ev->type;
    snprintf(s->rv[i], sizeof(s->rv[i]), "%s", ev->resource_version);
    snprintf(s->name[i], sizeof(s->name[i]), "%s",
             json_is_string(name) ? json_string_value(name) : "");
    s->code[i] = ev->error_code;
    snprintf(s->reason[i], sizeof(s->reason[i]), "%s", ev->error_reason);
    snprintf(s->message[i], sizeof(s->message[i]), "%s", ev->error_message);
    s->expired[i] = kube_watch_event_is_expired(ev);
    if (s->stop_at == s->n)
        return er_set(err, ER_KUBE, "stopped at event %zu", s->n);
    return ER_OK;
}

static const char added[] =
    "{\"type\":\"ADDED\",\"object\":{\"kind\":\"Namespace\",\"apiVersion\":"
    "\"v1\",\"metadata\":{\"name\":\"team-a\",\"resourceVersion\":\"1390\"},"
    "\"status\":{\"phase\":\"Active\"}}}\n";
static const char modified[] =
    "{\"type\":\"MODIFIED\",\"object\":{\"kind\":\"Namespace\",\"metadata\":"
    "{\"name\":\"team-a\",\"resourceVersion\":\"1402\",\"deletionTimestamp\":"
    "\"2026-11-01T00:00:00Z\"},\"status\":{\"phase\":\"Terminating\"}}}\n";
static const char deleted[] =
    "{\"type\":\"DELETED\",\"object\":{\"kind\":\"Namespace\",\"metadata\":"
    "{\"name\":\"team-a\",\"resourceVersion\":\"1410\"}}}\n";

/* Feeds all of text in one call; fails the test on an error. */
static void feed_ok(struct kube_watch_splitter *w, const char *text, size_t len,
                    struct seen *s)
{
    struct er_error err;

    er_clear(&err);
    if (kube_watch_feed(w, text, len, record, s, &err) != ER_OK)
        fail_msg("feed refused: %s", err.msg);
}

/* Feeds text in one call to a fresh splitter; returns the code. */
static enum er_code feed_fresh(const char *text, size_t max, struct seen *s,
                               struct er_error *err)
{
    struct kube_watch_splitter w;
    enum er_code rc;

    er_clear(err);
    kube_watch_splitter_init(&w, max);
    rc = kube_watch_feed(&w, text, strlen(text), record, s, err);
    assert_int_equal(w.pending.len, 0);
    kube_watch_splitter_free(&w);
    return rc;
}

static void kube_watch_feed__one_event_per_feed__delivered(void **state)
{
    struct kube_watch_splitter w;
    struct seen s = {0};

    kube_watch_splitter_init(&w, 1024);
    feed_ok(&w, added, strlen(added), &s);
    assert_int_equal(s.n, 1);
    feed_ok(&w, modified, strlen(modified), &s);
    feed_ok(&w, deleted, strlen(deleted), &s);
    assert_int_equal(s.n, 3);
    assert_int_equal(s.type[0], KUBE_WATCH_ADDED);
    assert_int_equal(s.type[1], KUBE_WATCH_MODIFIED);
    assert_int_equal(s.type[2], KUBE_WATCH_DELETED);
    assert_string_equal(s.rv[0], "1390");
    assert_string_equal(s.rv[1], "1402");
    assert_string_equal(s.rv[2], "1410");
    assert_string_equal(s.name[2], "team-a");
    assert_int_equal(s.code[0], 0);
    assert_string_equal(s.reason[0], "");
    assert_false(s.expired[0]);
    assert_int_equal(w.pending.len, 0);
    kube_watch_splitter_free(&w);
}

static char *three_events(void)
{
    size_t n = strlen(added) + strlen(modified) + strlen(deleted) + 1;
    char *all = malloc(n);

    snprintf(all, n, "%s%s%s", added, modified, deleted);
    return all;
}

static void check_three(const struct seen *s)
{
    assert_int_equal(s->n, 3);
    assert_int_equal(s->type[0], KUBE_WATCH_ADDED);
    assert_int_equal(s->type[1], KUBE_WATCH_MODIFIED);
    assert_int_equal(s->type[2], KUBE_WATCH_DELETED);
    assert_string_equal(s->rv[2], "1410");
}

static void kube_watch_feed__one_byte_at_a_time__delivered(void **state)
{
    struct kube_watch_splitter w;
    struct seen s = {0};
    char *all = three_events();
    size_t n = strlen(all);

    kube_watch_splitter_init(&w, 1024);
    for (size_t i = 0; i < n; i++) {
        size_t before = s.n;

        feed_ok(&w, all + i, 1, &s);
        /* An event arrives exactly with its '\n'. */
        assert_int_equal(s.n, before + (all[i] == '\n'));
    }
    check_three(&s);
    assert_int_equal(w.pending.len, 0);
    kube_watch_splitter_free(&w);
    free(all);
}

static void kube_watch_feed__two_events_every_split__delivered(void **state)
{
    char two[1024];
    size_t n;

    n = (size_t)snprintf(two, sizeof(two), "%s%s", added, deleted);
    for (size_t cut = 0; cut <= n; cut++) {
        struct kube_watch_splitter w;
        struct seen s = {0};

        kube_watch_splitter_init(&w, 1024);
        feed_ok(&w, two, cut, &s);
        feed_ok(&w, two + cut, n - cut, &s);
        assert_int_equal(s.n, 2);
        assert_int_equal(s.type[0], KUBE_WATCH_ADDED);
        assert_int_equal(s.type[1], KUBE_WATCH_DELETED);
        assert_string_equal(s.rv[0], "1390");
        assert_string_equal(s.rv[1], "1410");
        assert_int_equal(w.pending.len, 0);
        kube_watch_splitter_free(&w);
    }
}

static void kube_watch_feed__several_in_one_feed__delivered(void **state)
{
    struct kube_watch_splitter w;
    struct seen s = {0};
    char *all = three_events();
    size_t n = strlen(all);

    kube_watch_splitter_init(&w, 1024);
    feed_ok(&w, all, n - 10, &s); /* the third event is cut short */
    assert_int_equal(s.n, 2);
    assert_int_equal(w.pending.len, strlen(deleted) - 10);
    feed_ok(&w, all + n - 10, 10, &s);
    check_three(&s);
    kube_watch_splitter_free(&w);
    free(all);
}

static void kube_watch_feed__crlf_and_blank_lines__tolerated(void **state)
{
    static const char text[] =
        "\n\r\n  \t \n"
        "{\"type\":\"ADDED\",\"object\":{\"metadata\":{\"name\":\"a\"}}}\r\n"
        "\r\n"
        "  {\"type\":\"DELETED\",\"object\":{\"metadata\":{\"name\":\"b\"}}} "
        "\r\n"
        "\n";
    struct seen s = {0};
    struct er_error err;

    assert_int_equal(feed_fresh(text, 1024, &s, &err), ER_OK);
    assert_int_equal(s.n, 2);
    assert_string_equal(s.name[0], "a");
    assert_string_equal(s.name[1], "b");
    assert_string_equal(s.rv[0], ""); /* none in the object */
}

static void kube_watch_feed__bookmark__version_only(void **state)
{
    static const char text[] =
        "{\"type\":\"BOOKMARK\",\"object\":{\"kind\":\"Secret\",\"apiVersion\":"
        "\"v1\",\"metadata\":{\"resourceVersion\":\"12746\","
        "\"creationTimestamp\":null,\"annotations\":{\"k8s.io/"
        "initial-events-end\":\"true\"}},\"data\":null,\"type\":\"\"}}\n";
    struct seen s = {0};
    struct er_error err;

    assert_int_equal(feed_fresh(text, 1024, &s, &err), ER_OK);
    assert_int_equal(s.n, 1);
    assert_int_equal(s.type[0], KUBE_WATCH_BOOKMARK);
    assert_string_equal(s.rv[0], "12746");
    assert_string_equal(s.name[0], "");
    assert_false(s.expired[0]);
}

static void kube_watch_feed__error_410__expired(void **state)
{
    static const char text[] =
        "{\"type\":\"ERROR\",\"object\":{\"kind\":\"Status\",\"apiVersion\":"
        "\"v1\",\"metadata\":{},\"status\":\"Failure\",\"message\":\"too old "
        "resource version: 52869594 (52871049)\",\"reason\":\"Expired\","
        "\"code\":410}}\n"
        "{\"type\":\"ERROR\",\"object\":{\"kind\":\"Status\",\"metadata\":{},"
        "\"status\":\"Failure\",\"message\":\"too old resource version: 1 "
        "(2)\",\"reason\":\"Gone\",\"code\":410}}\n";
    struct seen s = {0};
    struct er_error err;

    assert_int_equal(feed_fresh(text, 1024, &s, &err), ER_OK);
    assert_int_equal(s.n, 2);
    assert_int_equal(s.type[0], KUBE_WATCH_ERROR);
    assert_int_equal(s.code[0], 410);
    assert_string_equal(s.reason[0], "Expired");
    assert_string_equal(s.message[0],
                        "too old resource version: 52869594 (52871049)");
    assert_true(s.expired[0]);
    assert_string_equal(s.rv[0], "");
    assert_int_equal(s.code[1], 410);
    assert_string_equal(s.reason[1], "Gone");
    assert_true(s.expired[1]);
}

static void kube_watch_feed__other_errors__not_expired(void **state)
{
    static const char text[] =
        "{\"type\":\"ERROR\",\"object\":{\"kind\":\"Status\",\"message\":"
        "\"Timeout: Too large resource version: 9, current: 8\\nforged "
        "line\\u001b[31m\",\"reason\":\"Timeout\",\"code\":504}}\n"
        "{\"type\":\"ERROR\",\"object\":{\"reason\":\"Expired\",\"code\":"
        "\"410\"}}\n"
        "{\"type\":\"MODIFIED\",\"object\":{\"code\":410}}\n";
    struct seen s = {0};
    struct er_error err;

    assert_int_equal(feed_fresh(text, 1024, &s, &err), ER_OK);
    assert_int_equal(s.n, 3);
    assert_int_equal(s.code[0], 504);
    assert_string_equal(s.reason[0], "Timeout");
    /* What replaces the controls is strutil's business; that they are
     * gone is ours. */
    assert_contains(s.message[0],
                    "Timeout: Too large resource version: 9, current: 8");
    assert_contains(s.message[0], "forged line");
    assert_true(str_has_no_controls(s.message[0]));
    assert_false(s.expired[0]);
    assert_int_equal(s.code[1], 0); /* a string is not a code */
    assert_false(s.expired[1]);     /* the reason alone is not enough */
    assert_int_equal(s.code[2], 0); /* only ERROR events carry a Status */
    assert_false(s.expired[2]);
}

static void kube_watch_feed__unicode_escapes__decoded(void **state)
{
    static const char text[] =
        "{\"type\":\"ADDED\",\"object\":{\"metadata\":{\"name\":"
        "\"\\u003cb\\u003e \\u0026 \\u2028\\u2029 \\u00e9\"}}}\n";
    struct seen s = {0};
    struct er_error err;

    assert_int_equal(feed_fresh(text, 1024, &s, &err), ER_OK);
    assert_int_equal(s.n, 1);
    assert_string_equal(s.name[0], "<b> & \xe2\x80\xa8\xe2\x80\xa9 \xc3\xa9");
}

static void kube_watch_feed__too_large__refused(void **state)
{
    /* 64 bytes exactly, then 65. */
    static const char fits[] = "{\"type\":\"ADDED\",\"object\":{\"metadata\":{"
                               "\"name\":\"abcdefghijklmn\"}}}";
    char line[128];
    struct kube_watch_splitter w;
    struct seen s = {0};
    struct er_error err;

    assert_int_equal(strlen(fits), 64);
    snprintf(line, sizeof(line), "%s\n", fits);
    assert_int_equal(feed_fresh(line, 64, &s, &err), ER_OK);
    snprintf(line, sizeof(line), "%s\r\n", fits); /* the '\r' counts */
    assert_int_equal(feed_fresh(line, 64, &s, &err), ER_PARSE);
    assert_string_equal(err.msg, "a watch event larger than 64 bytes");
    snprintf(line, sizeof(line), " %s\n", fits);
    assert_int_equal(feed_fresh(line, 1024, &s, &err), ER_OK);
    assert_int_equal(s.n, 2);

    /* In pieces, and without an end in sight: refused at once. */
    kube_watch_splitter_init(&w, 64);
    feed_ok(&w, line, 30, &s);
    assert_int_equal(kube_watch_feed(&w, line + 30, 35, record, &s, &err),
                     ER_PARSE);
    assert_string_equal(err.msg, "a watch event larger than 64 bytes");
    assert_int_equal(w.pending.len, 0);
    kube_watch_splitter_free(&w);
    kube_watch_splitter_init(&w, 1024);
    for (int i = 0; i < 1024; i++)
        feed_ok(&w, "x", 1, &s);
    assert_int_equal(kube_watch_feed(&w, "x", 1, record, &s, &err), ER_PARSE);
    assert_string_equal(err.msg, "a watch event larger than 1 KiB");
    kube_watch_splitter_free(&w);
    assert_int_equal(s.n, 2);
}

static void kube_watch_feed__garbage__refused_unquoted(void **state)
{
    static const char *const cases[][2] = {
        {"hunter2 is the password\n", "a watch event is not JSON"},
        {"{\"type\":\"ADDED\",\"object\":{\"password\":\"hunter2\"}\n",
         "a watch event is not JSON"},
        {"{\"type\":\"ADDED\"}{\"hunter2\":1}\n", "a watch event is not JSON"},
        {"[\"hunter2\"]\n", "a watch event is not a JSON object"},
        {"\"hunter2\"\n", "a watch event is not JSON"},
        {"{\"object\":{\"hunter2\":1}}\n",
         "a watch event has no \"type\" string"},
        {"{\"type\":7,\"object\":{}}\n", "has no \"type\" string"},
        {"{\"type\":\"UPSERT\",\"object\":{\"hunter2\":1}}\n",
         "a watch event has an unknown type \"UPSERT\""},
        {"{\"type\":\"added\",\"object\":{}}\n", "unknown type \"added\""},
        {"{\"type\":\"ADDED\",\"hunter2\":1}\n",
         "a watch event of type ADDED has no \"object\""},
        {"{\"type\":\"DELETED\",\"object\":null}\n", "has no \"object\""},
        {"{\"type\":\"ERROR\",\"object\":\"hunter2\"}\n", "has no \"object\""},
        {"\x01\xff\n", "a watch event is not JSON"},
    };

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct seen s = {0};
        struct er_error err;

        if (feed_fresh(cases[i][0], 1024, &s, &err) != ER_PARSE)
            fail_msg("line %zu was not refused", i);
        assert_contains(err.msg, cases[i][1]);
        assert_not_contains(err.msg, "hunter2");
        assert_int_equal(s.n, 0);
    }
}

static void kube_watch_feed__garbage_after_events__stops_there(void **state)
{
    char text[1024];
    struct seen s = {0};
    struct er_error err;

    snprintf(text, sizeof(text), "%snot json\n%s", added, deleted);
    assert_int_equal(feed_fresh(text, 1024, &s, &err), ER_PARSE);
    assert_int_equal(s.n, 1); /* deleted, after the garbage, is not read */
}

static void kube_watch_feed__callback_stops__code_returned(void **state)
{
    struct kube_watch_splitter w;
    struct seen s = {0};
    struct er_error err;
    char *all = three_events();

    s.stop_at = 2;
    kube_watch_splitter_init(&w, 1024);
    assert_int_equal(
        kube_watch_feed(&w, all, strlen(all) - 5, record, &s, &err), ER_KUBE);
    assert_string_equal(err.msg, "stopped at event 2");
    assert_int_equal(s.n, 2);
    assert_int_equal(w.pending.len, 0); /* the rest is dropped */
    kube_watch_splitter_free(&w);
    free(all);
}

static bool holds(const struct buf *b, const char *needle)
{
    return b->data && memmem(b->data, b->alloc, needle, strlen(needle));
}

static void kube_watch_feed__consumed_bytes__wiped(void **state)
{
    static const char secret[] =
        "{\"type\":\"ADDED\",\"object\":{\"kind\":\"Secret\",\"data\":{"
        "\".dockerconfigjson\":\"c2VjcmV0LXBhc3N3b3Jk\"}}}\n";
    struct kube_watch_splitter w;
    struct seen s = {0};

    kube_watch_splitter_init(&w, 1024);
    assert_true(w.pending.flags & BUF_SECRET);
    feed_ok(&w, secret, 90, &s);
    assert_true(holds(&w.pending, "c2VjcmV0")); /* pending: still needed */
    feed_ok(&w, secret + 90, strlen(secret) - 90, &s);
    assert_int_equal(s.n, 1);
    assert_int_equal(w.pending.len, 0);
    assert_false(holds(&w.pending, "c2VjcmV0"));
    assert_false(holds(&w.pending, "dockerconfigjson"));
    kube_watch_splitter_free(&w);
    assert_null(w.pending.data);
}

static void kube_watch_feed__nothing__fine(void **state)
{
    struct kube_watch_splitter w;
    struct seen s = {0};

    kube_watch_splitter_init(&w, 1024);
    feed_ok(&w, NULL, 0, &s);
    feed_ok(&w, "", 0, &s);
    assert_int_equal(s.n, 0);
    kube_watch_splitter_free(&w);
    kube_watch_splitter_free(&w); /* twice is harmless */
}

static void kube_watch_type_name__every_type(void **state)
{
    assert_string_equal(kube_watch_type_name(KUBE_WATCH_ADDED), "ADDED");
    assert_string_equal(kube_watch_type_name(KUBE_WATCH_MODIFIED), "MODIFIED");
    assert_string_equal(kube_watch_type_name(KUBE_WATCH_DELETED), "DELETED");
    assert_string_equal(kube_watch_type_name(KUBE_WATCH_BOOKMARK), "BOOKMARK");
    assert_string_equal(kube_watch_type_name(KUBE_WATCH_ERROR), "ERROR");
    assert_string_equal(kube_watch_type_name((enum kube_watch_type)99), "?");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(kube_watch_feed__one_event_per_feed__delivered),
        cmocka_unit_test(kube_watch_feed__one_byte_at_a_time__delivered),
        cmocka_unit_test(kube_watch_feed__two_events_every_split__delivered),
        cmocka_unit_test(kube_watch_feed__several_in_one_feed__delivered),
        cmocka_unit_test(kube_watch_feed__crlf_and_blank_lines__tolerated),
        cmocka_unit_test(kube_watch_feed__bookmark__version_only),
        cmocka_unit_test(kube_watch_feed__error_410__expired),
        cmocka_unit_test(kube_watch_feed__other_errors__not_expired),
        cmocka_unit_test(kube_watch_feed__unicode_escapes__decoded),
        cmocka_unit_test(kube_watch_feed__too_large__refused),
        cmocka_unit_test(kube_watch_feed__garbage__refused_unquoted),
        cmocka_unit_test(kube_watch_feed__garbage_after_events__stops_there),
        cmocka_unit_test(kube_watch_feed__callback_stops__code_returned),
        cmocka_unit_test(kube_watch_feed__consumed_bytes__wiped),
        cmocka_unit_test(kube_watch_feed__nothing__fine),
        cmocka_unit_test(kube_watch_type_name__every_type),
    };

    wipe_install_allocators(); /* as the program does */
    return cmocka_run_group_tests(tests, NULL, NULL);
}
