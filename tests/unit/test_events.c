/*
 * The Events recorder on a loop with a test clock, against a scripted
 * API server: the first record POSTs, repeats within a minute become one
 * PATCH when the minute is up, an expired Event is made again, a
 * disabled recorder sends nothing, a refusal is logged once and not
 * retried, keys stay bounded, and freeing with a request in flight is
 * clean.
 */
#include "core/log.h"
#include "core/loop.h"
#include "core/xalloc.h"
#include "ctl/events.h"
#include "kube/client.h"
#include "net/http.h"
#include "test_assert.h"
#include "test_util.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define T0 ((time_t)1767225600) /* 2026-01-01T00:00:00Z */
/* The first Event's name: T0 and the test clock's random fraction 0.5. */
#define FIRST_NAME "ecr-pull.188672520bc76500"
#define MAX_SEEN 32

/* What the server answers, in order (0: 201 to a POST, 200 otherwise),
 * and what it was sent. Guarded by the server's lock. */
struct script {
    int status[16];
    int n_status, next;
    char seen[MAX_SEEN][4096];
    int n_seen;
};

static struct script script;

static const char *status_reason(int status)
{
    switch (status) {
    case 403:
        return "Forbidden";
    case 404:
        return "NotFound";
    default:
        return "InternalError";
    }
}

static char *reply(int status)
{
    char body[512];

    if (status < 300)
        snprintf(body, sizeof(body),
                 "{\"kind\":\"Event\",\"apiVersion\":\"v1\","
                 "\"metadata\":{\"name\":\"x\",\"resourceVersion\":\"1\"}}");
    else
        snprintf(body, sizeof(body),
                 "{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"status\":"
                 "\"Failure\",\"message\":\"events is forbidden: User "
                 "\\\"system:serviceaccount:ecr-renew:ecr-renew\\\" cannot "
                 "create resource \\\"events\\\"\",\"reason\":\"%s\","
                 "\"code\":%d}",
                 status_reason(status), status);
    return xasprintf("HTTP/1.1 %d X\r\nContent-Type: application/json\r\n"
                     "Content-Length: %zu\r\nConnection: close\r\n\r\n%s",
                     status, strlen(body), body);
}

static char *answer(struct test_server *s, const char *head)
{
    struct script *sc = s->ctx;
    int status = 0;

    if (sc->n_seen < MAX_SEEN)
        snprintf(sc->seen[sc->n_seen++], sizeof(sc->seen[0]), "%s", head);
    if (sc->next < sc->n_status)
        status = sc->status[sc->next++];
    if (status == 0)
        status = strncmp(head, "POST ", 5) == 0 ? 201 : 200;
    return reply(status);
}

struct fixture {
    struct test_clock tc;
    struct test_server sv;
    struct loop *loop;
    struct kube_client *kc;
    struct event_recorder *r;
};

static const struct retry_policy once = {1, 1, 1};

static const struct kube_event_object secret = {"v1", "Secret", "team-a",
                                                "ecr-pull", "uid-1"};

static void start(struct fixture *f, const int *statuses, int n)
{
    struct kube_target t = {0};

    memset(&script, 0, sizeof(script));
    if (n > 0)
        memcpy(script.status, statuses, sizeof(int) * (size_t)n);
    script.n_status = n;
    test_clock_init(&f->tc, T0);
    test_server_start(&f->sv, answer, &script);
    f->loop = loop_new(&f->tc.clock);
    t.origin = xstrdup("test");
    t.server = xstrdup(test_server_url(&f->sv));
    f->kc = kube_client_new(&t, &f->tc.clock, &once);
    f->r = event_recorder_new(f->loop, f->kc, "node-1");
}

static void stop(struct fixture *f)
{
    event_recorder_free(f->r);
    kube_client_free(f->kc);
    loop_free(f->loop);
    test_server_stop(&f->sv);
}

/* Runs the timers that are due, then until no request is in flight. */
static void settle(struct fixture *f)
{
    struct er_error err;

    assert_int_equal(loop_run_once(f->loop, 0, &err), ER_OK);
    for (int i = 0; i < 1000 && kube_pending_count(f->kc) > 0; i++)
        assert_int_equal(loop_run_once(f->loop, 20, &err), ER_OK);
    assert_int_equal(kube_pending_count(f->kc), 0);
}

static void advance(struct fixture *f, long long ms)
{
    test_clock_advance_ms(&f->tc, ms);
    settle(f);
}

/* A copy of what the server was sent as request i (head and body). */
static void seen(struct fixture *f, int i, char *out, size_t cap)
{
    pthread_mutex_lock(f->sv.mu);
    assert_true(i < script.n_seen);
    snprintf(out, cap, "%s", script.seen[i]);
    pthread_mutex_unlock(f->sv.mu);
}

static void record(struct fixture *f, const char *message)
{
    event_record(f->r, &secret, KUBE_EVENT_NORMAL, "Refreshed", message);
}

static void event_record__first__posts_count_1(void **state)
{
    struct fixture f;
    char req[4096];

    (void)state;
    start(&f, NULL, 0);
    record(&f, "token valid until 2026-01-01T12:00:00Z");
    assert_int_equal(test_server_requests(&f.sv), 0); /* never inline */
    settle(&f);
    assert_int_equal(test_server_requests(&f.sv), 1);
    seen(&f, 0, req, sizeof(req));
    assert_contains(req, "POST /api/v1/namespaces/team-a/events HTTP/1.1");
    assert_contains(req, "Content-Type: application/json");
    assert_contains(req, "\"name\":\"" FIRST_NAME "\"");
    assert_contains(req, "\"count\":1");
    assert_contains(req, "\"firstTimestamp\":\"2026-01-01T00:00:00Z\"");
    assert_contains(req, "\"reportingInstance\":\"node-1\"");
    assert_int_equal(event_recorder_get_stats(f.r).created, 1);
    assert_int_equal(event_recorder_get_stats(f.r).keys, 1);
    stop(&f);
}

static void event_record__five_more_in_a_minute__one_patch_then(void **state)
{
    struct fixture f;
    char req[4096], msg[32];

    (void)state;
    start(&f, NULL, 0);
    record(&f, "try 1");
    settle(&f);
    for (int i = 2; i <= 6; i++) {
        advance(&f, 10000);
        snprintf(msg, sizeof(msg), "try %d", i);
        record(&f, msg);
        settle(&f);
    }
    advance(&f, 9999); /* 59.999 s after the POST */
    assert_int_equal(test_server_requests(&f.sv), 1);
    advance(&f, 1);
    assert_int_equal(test_server_requests(&f.sv), 2);
    seen(&f, 1, req, sizeof(req));
    assert_contains(req, "PATCH /api/v1/namespaces/team-a/events/" FIRST_NAME
                         " HTTP/1.1");
    assert_contains(req, "Content-Type: application/merge-patch+json");
    assert_contains(req, "{\"count\":6,\"message\":\"try 6\","
                         "\"lastTimestamp\":\"2026-01-01T00:00:50Z\"}");
    advance(&f, 5 * 60 * 1000); /* nothing new: nothing sent */
    assert_int_equal(test_server_requests(&f.sv), 2);
    assert_int_equal(event_recorder_get_stats(f.r).created, 1);
    assert_int_equal(event_recorder_get_stats(f.r).patched, 1);
    assert_int_equal(event_recorder_get_stats(f.r).failed, 0);
    stop(&f);
}

static void event_record__while_posting__waits_for_the_minute(void **state)
{
    struct fixture f;
    char req[4096];

    (void)state;
    start(&f, NULL, 0);
    record(&f, "one");
    record(&f, "two"); /* the POST is still in flight */
    settle(&f);
    assert_int_equal(test_server_requests(&f.sv), 1);
    advance(&f, 60000);
    assert_int_equal(test_server_requests(&f.sv), 2);
    seen(&f, 1, req, sizeof(req));
    assert_contains(req, "\"count\":2,\"message\":\"two\"");
    stop(&f);
}

static void event_record__patch_404__new_event_posted(void **state)
{
    struct fixture f;
    const int statuses[] = {201, 404, 201};
    char req[4096];

    (void)state;
    start(&f, statuses, 3);
    record(&f, "one");
    settle(&f);
    advance(&f, 2 * 3600 * 1000); /* the Event expired meanwhile */
    record(&f, "two");
    settle(&f);
    assert_int_equal(test_server_requests(&f.sv), 3);
    seen(&f, 1, req, sizeof(req));
    assert_contains(req, "PATCH /api/v1/namespaces/team-a/events/" FIRST_NAME);
    seen(&f, 2, req, sizeof(req));
    assert_contains(req, "POST /api/v1/namespaces/team-a/events HTTP/1.1");
    assert_not_contains(req, FIRST_NAME);
    assert_contains(req, "\"message\":\"two\"");
    assert_contains(req, "\"count\":2");
    assert_int_equal(event_recorder_get_stats(f.r).created, 2);
    assert_int_equal(event_recorder_get_stats(f.r).failed, 0);
    /* The new Event is the one updated next. */
    record(&f, "three");
    advance(&f, 60000);
    assert_int_equal(test_server_requests(&f.sv), 4);
    seen(&f, 3, req, sizeof(req));
    assert_contains(req, "PATCH /api/v1/namespaces/team-a/events/ecr-pull.");
    assert_not_contains(req, FIRST_NAME);
    stop(&f);
}

static void event_recorder_set_enabled__off__sends_nothing(void **state)
{
    struct fixture f;

    (void)state;
    start(&f, NULL, 0);
    record(&f, "one");
    settle(&f);
    record(&f, "two"); /* waits for its minute */
    event_recorder_set_enabled(f.r, false);
    for (int i = 0; i < 3; i++)
        record(&f, "standby");
    advance(&f, 5 * 60 * 1000);
    assert_int_equal(test_server_requests(&f.sv), 1);
    assert_int_equal(event_recorder_get_stats(f.r).keys, 0);
    assert_int_equal(event_recorder_get_stats(f.r).dropped, 4);
    /* The leader again: a fresh Event. */
    event_recorder_set_enabled(f.r, true);
    record(&f, "leader");
    settle(&f);
    assert_int_equal(test_server_requests(&f.sv), 2);
    assert_int_equal(event_recorder_get_stats(f.r).created, 2);
    stop(&f);
}

static int count_of(const char *hay, const char *needle)
{
    int n = 0;

    for (const char *p = hay; (p = strstr(p, needle)); p += strlen(needle))
        n++;
    return n;
}

static void event_record__403__logged_once_never_looped(void **state)
{
    struct fixture f;
    const int statuses[] = {403, 403, 403, 403};
    FILE *log = tmpfile();
    char logged[8192];
    size_t n;

    (void)state;
    assert_non_null(log);
    log_setup(LOG_TEXT, LOG_WARN, log);
    start(&f, statuses, 4);
    record(&f, "one");
    settle(&f);
    advance(&f, 10 * 60 * 1000); /* no retry of its own */
    assert_int_equal(test_server_requests(&f.sv), 1);
    record(&f, "two"); /* the minute is up: tried once more */
    settle(&f);
    advance(&f, 10 * 60 * 1000);
    assert_int_equal(test_server_requests(&f.sv), 2);
    assert_int_equal(event_recorder_get_stats(f.r).failed, 2);
    assert_int_equal(event_recorder_get_stats(f.r).created, 0);

    rewind(log);
    n = fread(logged, 1, sizeof(logged) - 1, log);
    logged[n] = '\0';
    assert_int_equal(count_of(logged, "could not record event"), 1);
    assert_contains(logged, "403 Forbidden");
    assert_contains(logged, "create and patch on events");
    assert_contains(logged, "Secret team-a/ecr-pull");
    log_setup(LOG_TEXT, LOG_ERROR, NULL);
    fclose(log);
    stop(&f);
}

/* Without rights every key is refused alike: after one 403, other
 * objects' records are dropped for the pause, then tried again. */
static void event_record__403__other_keys_paused_then_tried(void **state)
{
    struct fixture f;
    const int statuses[] = {403};
    struct kube_event_object other = secret;

    (void)state;
    log_setup(LOG_TEXT, LOG_ERROR, NULL);
    other.ns = "team-b";
    start(&f, statuses, 1);
    record(&f, "one");
    settle(&f);
    event_record(f.r, &other, KUBE_EVENT_NORMAL, "SecretCreated", "b");
    advance(&f, EVENT_RECORDER_PAUSE_MS - 1000);
    assert_int_equal(test_server_requests(&f.sv), 1);
    assert_int_equal(event_recorder_get_stats(f.r).dropped, 1);
    advance(&f, 1000);
    event_record(f.r, &other, KUBE_EVENT_NORMAL, "SecretCreated", "b");
    settle(&f);
    assert_int_equal(test_server_requests(&f.sv), 2);
    assert_int_equal(event_recorder_get_stats(f.r).created, 1);
    stop(&f);
}

/* A burst (a first pass) holds at most EVENT_RECORDER_MAX_IN_FLIGHT
 * requests; the rest wait their turn and are all written. */
static void event_record__burst__bounded_in_flight_all_written(void **state)
{
    struct fixture f;
    char ns[10][16];
    struct kube_event_object obj[10];
    char req[4096];

    (void)state;
    log_setup(LOG_TEXT, LOG_ERROR, NULL);
    start(&f, NULL, 0);
    for (int i = 0; i < 10; i++) {
        snprintf(ns[i], sizeof(ns[i]), "ns-%d", i);
        obj[i] = secret;
        obj[i].ns = ns[i];
        event_record(f.r, &obj[i], KUBE_EVENT_NORMAL, "SecretCreated", "x");
    }
    assert_int_equal(kube_pending_count(f.kc), EVENT_RECORDER_MAX_IN_FLIGHT);
    /* A later record of a waiting key rides along with its first write. */
    event_record(f.r, &obj[9], KUBE_EVENT_NORMAL, "SecretCreated", "y");
    settle(&f);
    assert_int_equal(test_server_requests(&f.sv), 10);
    assert_int_equal(event_recorder_get_stats(f.r).created, 10);
    seen(&f, 9, req, sizeof(req));
    assert_contains(req, "\"count\":2");
    advance(&f, 10 * 60 * 1000);
    assert_int_equal(test_server_requests(&f.sv), 10);
    stop(&f);
}

static void event_record__patch_500__counted_and_patched_later(void **state)
{
    struct fixture f;
    const int statuses[] = {201, 500};
    char req[4096];

    (void)state;
    log_setup(LOG_TEXT, LOG_ERROR, NULL);
    start(&f, statuses, 2);
    record(&f, "one");
    settle(&f);
    record(&f, "two");
    advance(&f, 60000);
    assert_int_equal(event_recorder_get_stats(f.r).failed, 1);
    advance(&f, 10 * 60 * 1000);
    assert_int_equal(test_server_requests(&f.sv), 2);
    record(&f, "three"); /* the Event is still there: updated */
    settle(&f);
    assert_int_equal(test_server_requests(&f.sv), 3);
    seen(&f, 2, req, sizeof(req));
    assert_contains(req, "PATCH /api/v1/namespaces/team-a/events/" FIRST_NAME);
    assert_contains(req, "\"count\":3");
    assert_int_equal(event_recorder_get_stats(f.r).patched, 1);
    log_setup(LOG_TEXT, LOG_INFO, NULL);
    stop(&f);
}

static void event_record__unreachable__failed_not_retried(void **state)
{
    struct fixture f;
    struct kube_target t = {0};
    struct kube_client *down;
    struct er_error err;

    (void)state;
    log_setup(LOG_TEXT, LOG_ERROR, NULL);
    start(&f, NULL, 0);
    event_recorder_free(f.r);
    t.origin = xstrdup("test");
    t.server = xstrdup("http://127.0.0.1:1"); /* nothing listens */
    down = kube_client_new(&t, &f.tc.clock, &once);
    f.r = event_recorder_new(f.loop, down, "node-1");
    record(&f, "one");
    for (int i = 0; i < 1000 && kube_pending_count(down) > 0; i++)
        assert_int_equal(loop_run_once(f.loop, 20, &err), ER_OK);
    assert_int_equal(kube_pending_count(down), 0);
    advance(&f, 10 * 60 * 1000);
    assert_int_equal(kube_pending_count(down), 0);
    assert_int_equal(event_recorder_get_stats(f.r).failed, 1);
    assert_int_equal(event_recorder_get_stats(f.r).created, 0);
    event_recorder_free(f.r);
    f.r = NULL;
    kube_client_free(down);
    log_setup(LOG_TEXT, LOG_INFO, NULL);
    stop(&f);
}

static void event_record__beyond_max_keys__oldest_forgotten(void **state)
{
    struct fixture f;
    struct kube_event_object a = secret, b = secret, c = secret;

    (void)state;
    start(&f, NULL, 0);
    a.ns = "a";
    b.ns = "b";
    c.ns = "c";
    event_recorder_set_max_keys(f.r, 2);
    event_record(f.r, &a, KUBE_EVENT_NORMAL, "Refreshed", "a");
    event_record(f.r, &b, KUBE_EVENT_NORMAL, "Refreshed", "b");
    settle(&f);
    event_record(f.r, &a, KUBE_EVENT_NORMAL, "Refreshed", "a again");
    event_record(f.r, &c, KUBE_EVENT_NORMAL, "Refreshed", "c"); /* b goes */
    settle(&f);
    assert_int_equal(event_recorder_get_stats(f.r).keys, 2);
    event_record(f.r, &b, KUBE_EVENT_NORMAL, "Refreshed", "b again");
    settle(&f); /* b is new again: a POST now, not a PATCH later */
    assert_int_equal(test_server_requests(&f.sv), 4);
    assert_int_equal(event_recorder_get_stats(f.r).created, 4);
    /* a was forgotten for b, its pending update with it. */
    assert_int_equal(event_recorder_get_stats(f.r).dropped, 1);
    stop(&f);
}

static void event_record__bad_call__dropped(void **state)
{
    struct fixture f;
    struct kube_event_object nameless = secret;

    (void)state;
    log_setup(LOG_TEXT, LOG_ERROR, NULL);
    start(&f, NULL, 0);
    nameless.name = NULL;
    event_record(f.r, &secret, "Info", "Refreshed", "bad type");
    event_record(f.r, &secret, KUBE_EVENT_NORMAL, "", "no reason");
    event_record(f.r, &nameless, KUBE_EVENT_NORMAL, "Refreshed", "no name");
    event_record(f.r, NULL, KUBE_EVENT_NORMAL, "Refreshed", "no object");
    settle(&f);
    assert_int_equal(test_server_requests(&f.sv), 0);
    assert_int_equal(event_recorder_get_stats(f.r).dropped, 4);
    log_setup(LOG_TEXT, LOG_INFO, NULL);
    stop(&f);
}

static void event_recorder_free__request_in_flight__clean(void **state)
{
    struct fixture f;
    struct er_error err;

    (void)state;
    start(&f, NULL, 0);
    record(&f, "one");
    assert_int_equal(kube_pending_count(f.kc), 1);
    event_recorder_free(f.r);
    f.r = NULL;
    assert_int_equal(kube_pending_count(f.kc), 0);
    for (int i = 0; i < 20; i++)
        assert_int_equal(loop_run_once(f.loop, 5, &err), ER_OK);
    stop(&f);
}

static void event_recorder_free__update_waiting__timer_gone(void **state)
{
    struct fixture f;
    size_t timers;

    (void)state;
    start(&f, NULL, 0);
    record(&f, "one");
    settle(&f);
    timers = loop_timer_count(f.loop);
    record(&f, "two"); /* arms the minute's timer */
    assert_int_equal(loop_timer_count(f.loop), timers + 1);
    event_recorder_free(f.r);
    f.r = NULL;
    assert_int_equal(loop_timer_count(f.loop), timers);
    advance(&f, 120000);
    assert_int_equal(test_server_requests(&f.sv), 1);
    stop(&f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(event_record__first__posts_count_1),
        cmocka_unit_test(event_record__five_more_in_a_minute__one_patch_then),
        cmocka_unit_test(event_record__while_posting__waits_for_the_minute),
        cmocka_unit_test(event_record__patch_404__new_event_posted),
        cmocka_unit_test(event_recorder_set_enabled__off__sends_nothing),
        cmocka_unit_test(event_record__403__logged_once_never_looped),
        cmocka_unit_test(event_record__403__other_keys_paused_then_tried),
        cmocka_unit_test(event_record__burst__bounded_in_flight_all_written),
        cmocka_unit_test(event_record__patch_500__counted_and_patched_later),
        cmocka_unit_test(event_record__unreachable__failed_not_retried),
        cmocka_unit_test(event_record__beyond_max_keys__oldest_forgotten),
        cmocka_unit_test(event_record__bad_call__dropped),
        cmocka_unit_test(event_recorder_free__request_in_flight__clean),
        cmocka_unit_test(event_recorder_free__update_waiting__timer_gone),
    };
    http_global_init();
    return cmocka_run_group_tests(tests, NULL, NULL);
}
