/*
 * Leader election on a Lease, with scripted answers and a simulated
 * clock: who holds it when, and what each round sends.
 */
#include "kube/lease.h"
#include "test_assert.h"
#include "test_util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define WALL_US (1767225600LL * 1000000) /* 2026-01-01T00:00:00Z */
#define PATH                                                                   \
    "/apis/coordination.k8s.io/v1/namespaces/kube-system/leases/ecr-renew"
#define COLLECTION "/apis/coordination.k8s.io/v1/namespaces/kube-system/leases"

static char answer_buf[1024];

static const char *lease_json(const char *rv, const char *holder, int duration,
                              int transitions)
{
    snprintf(answer_buf, sizeof(answer_buf),
             "{\"apiVersion\":\"coordination.k8s.io/v1\",\"kind\":\"Lease\","
             "\"metadata\":{\"name\":\"ecr-renew\",\"namespace\":\"kube-"
             "system\",\"resourceVersion\":\"%s\"},\"spec\":{"
             "\"holderIdentity\":\"%s\",\"leaseDurationSeconds\":%d,"
             "\"acquireTime\":\"2026-01-01T00:00:00.000000Z\","
             "\"renewTime\":\"2026-01-01T00:00:00.000000Z\","
             "\"leaseTransitions\":%d}}",
             rv, holder, duration, transitions);
    return answer_buf;
}

/* Runs one step: expects method and path, answers status and body;
 * returns a copy of the request body (or NULL) for checks. */
static char *step(struct lease_elector *e, long long now_ms, const char *method,
                  const char *path, long status, const char *body)
{
    struct kube_sync_request req;
    struct kube_response r;
    char *sent;

    lease_begin_round(e, now_ms); /* does nothing within a round */
    assert_true(lease_next(e, now_ms, WALL_US + now_ms * 1000, &req));
    assert_string_equal(req.method, method);
    assert_string_equal(req.path, path);
    sent = req.body ? strdup(req.body) : NULL;
    kube_response_init(&r);
    r.status = status;
    if (body)
        assert_int_equal(buf_adds(&r.body, body), BUF_OK);
    snprintf(r.st.reason, sizeof(r.st.reason), "%s",
             status == 409   ? "Conflict"
             : status >= 300 ? "InternalError"
                             : "");
    lease_answer(e, now_ms, &r);
    kube_response_free(&r);
    return sent;
}

static void round_over(struct lease_elector *e, long long now_ms)
{
    struct kube_sync_request req;

    assert_false(lease_next(e, now_ms, WALL_US, &req));
}

static void micro_time__six_digits(void **state)
{
    char out[32];

    (void)state;
    lease_micro_time(WALL_US + 12000000, out);
    assert_string_equal(out, "2026-01-01T00:00:12.000000Z");
    lease_micro_time(WALL_US + 42, out);
    assert_string_equal(out, "2026-01-01T00:00:00.000042Z");
}

static void absent__created_and_led(void **state)
{
    struct lease_elector e;
    char *sent;

    (void)state;
    lease_elector_init(&e, "kube-system", "ecr-renew", "pod-a_1");
    assert_false(lease_leading(&e, 0));
    free(step(&e, 0, "GET", PATH, 404, NULL));
    sent = step(&e, 0, "POST", COLLECTION, 201,
                lease_json("10", "pod-a_1", 15, 0));
    assert_contains(sent, "\"holderIdentity\":\"pod-a_1\"");
    assert_contains(sent, "\"leaseDurationSeconds\":15");
    assert_contains(sent, "\"acquireTime\":\"2026-01-01T00:00:00.000000Z\"");
    assert_contains(sent, "\"renewTime\":\"2026-01-01T00:00:00.000000Z\"");
    assert_not_contains(sent, "resourceVersion");
    free(sent);
    round_over(&e, 0);
    assert_true(lease_leading(&e, 0));
    assert_int_equal(lease_wait_ms(&e, 0, 0.99), LEASE_RETRY_MS);
    lease_elector_free(&e);
}

static void leader__renews_with_put_then_stops_at_the_deadline(void **state)
{
    struct lease_elector e;
    char *sent;

    (void)state;
    lease_elector_init(&e, "kube-system", "ecr-renew", "pod-a_1");
    free(step(&e, 0, "GET", PATH, 404, NULL));
    free(step(&e, 0, "POST", COLLECTION, 201,
              lease_json("10", "pod-a_1", 15, 0)));
    /* The fast path: a PUT of what we hold, no GET. */
    sent = step(&e, 2250, "PUT", PATH, 200, lease_json("11", "pod-a_1", 15, 0));
    assert_contains(sent, "\"resourceVersion\":\"10\"");
    assert_contains(sent, "\"renewTime\":\"2026-01-01T00:00:02.250000Z\"");
    assert_contains(sent, "\"acquireTime\":\"2026-01-01T00:00:00.000000Z\"");
    assert_contains(sent, "\"leaseTransitions\":0");
    free(sent);
    assert_true(lease_leading(&e, 2250));
    /* Then the API server fails every renewal. */
    free(step(&e, 4000, "PUT", PATH, 500, NULL));
    assert_true(lease_leading(&e, 4000));
    free(step(&e, 6000, "PUT", PATH, 500, NULL));
    assert_true(lease_leading(&e, 12249));
    /* 10 s after the last renewal: no longer leading, at once. */
    assert_false(lease_leading(&e, 12250));
    free(step(&e, 12250, "GET", PATH, 500, NULL));
    assert_false(lease_leading(&e, 12250));
    assert_contains(e.trouble.msg, "500");
    lease_elector_free(&e);
}

static void held_by_another__waits_for_its_duration_then_takes(void **state)
{
    struct lease_elector e;
    char *sent;

    (void)state;
    lease_elector_init(&e, "kube-system", "ecr-renew", "pod-b_2");
    free(step(&e, 0, "GET", PATH, 200, lease_json("20", "pod-a_1", 15, 3)));
    round_over(&e, 0);
    assert_false(lease_leading(&e, 0));
    /* Between 2 and 3 s for a candidate. */
    assert_int_equal(lease_wait_ms(&e, 0, 0), LEASE_RETRY_MS);
    assert_int_equal(lease_wait_ms(&e, 0, 1.0), LEASE_RETRY_MS * 15 / 10);
    /* It renews (a new version) 10 s later: changed at 7 s at the
     * earliest (the slack: 3 s before the read), so held until 22 s. */
    free(step(&e, 10000, "GET", PATH, 200, lease_json("21", "pod-a_1", 15, 3)));
    round_over(&e, 10000);
    assert_int_equal(LEASE_OBSERVE_SLACK_MS, 3000);
    /* The next round starts the moment it runs out, not up to 3 s on. */
    assert_int_equal(lease_wait_ms(&e, 20000, 1.0), 2000);
    free(step(&e, 21999, "GET", PATH, 200, lease_json("21", "pod-a_1", 15, 3)));
    round_over(&e, 21999);
    assert_false(lease_leading(&e, 21999));
    assert_int_equal(lease_wait_ms(&e, 21999, 1.0), 1);
    free(step(&e, 22000, "GET", PATH, 200, lease_json("21", "pod-a_1", 15, 3)));
    sent =
        step(&e, 22000, "PUT", PATH, 200, lease_json("22", "pod-b_2", 15, 4));
    assert_contains(sent, "\"holderIdentity\":\"pod-b_2\"");
    assert_contains(sent, "\"leaseTransitions\":4");
    assert_contains(sent, "\"resourceVersion\":\"21\"");
    assert_contains(sent, "\"acquireTime\":\"2026-01-01T00:00:22.000000Z\"");
    free(sent);
    assert_true(lease_leading(&e, 22000));
    lease_elector_free(&e);
}

/* Reads a second apart: the change came after the first of them, so it
 * counts from there, not from 3 s before the second. */
static void held_by_another__counted_from_our_previous_read(void **state)
{
    struct lease_elector e;

    (void)state;
    lease_elector_init(&e, "kube-system", "ecr-renew", "pod-b_2");
    free(step(&e, 10000, "GET", PATH, 200, lease_json("21", "pod-a_1", 15, 3)));
    round_over(&e, 10000);
    free(step(&e, 11000, "GET", PATH, 200, lease_json("22", "pod-a_1", 15, 3)));
    round_over(&e, 11000);
    free(step(&e, 24999, "GET", PATH, 200, lease_json("22", "pod-a_1", 15, 3)));
    round_over(&e, 24999); /* still held: 10 s + 15 s */
    assert_false(lease_leading(&e, 24999));
    /* A Lease that ran out already does not shorten the wait: the round
     * that saw it took it, or failed and waits its retry period. */
    assert_int_equal(lease_wait_ms(&e, 26000, 0), LEASE_RETRY_MS);
    free(step(&e, 25000, "GET", PATH, 200, lease_json("22", "pod-a_1", 15, 3)));
    free(step(&e, 25000, "PUT", PATH, 200, lease_json("23", "pod-b_2", 15, 4)));
    assert_true(lease_leading(&e, 25000));
    lease_elector_free(&e);
}

static void released__taken_at_once(void **state)
{
    struct lease_elector e;

    (void)state;
    lease_elector_init(&e, "kube-system", "ecr-renew", "pod-b_2");
    free(step(&e, 0, "GET", PATH, 200, lease_json("30", "", 1, 5)));
    free(step(&e, 0, "PUT", PATH, 200, lease_json("31", "pod-b_2", 15, 6)));
    assert_true(lease_leading(&e, 0));
    lease_elector_free(&e);
}

static void conflict__lost_the_round(void **state)
{
    struct lease_elector e;

    (void)state;
    lease_elector_init(&e, "kube-system", "ecr-renew", "pod-b_2");
    free(step(&e, 0, "GET", PATH, 404, NULL));
    free(step(&e, 0, "POST", COLLECTION, 409, NULL));
    round_over(&e, 0);
    assert_false(lease_leading(&e, 0));
    free(step(&e, 0, "GET", PATH, 200, lease_json("40", "", 1, 0)));
    free(step(&e, 0, "PUT", PATH, 409, NULL));
    round_over(&e, 0);
    assert_false(lease_leading(&e, 0));
    lease_elector_free(&e);
}

static void release__empty_holder_one_second(void **state)
{
    struct lease_elector e;
    struct kube_sync_request req;
    char *sent;

    (void)state;
    lease_elector_init(&e, "kube-system", "ecr-renew", "pod-a_1");
    free(step(&e, 0, "GET", PATH, 404, NULL));
    free(step(&e, 0, "POST", COLLECTION, 201,
              lease_json("10", "pod-a_1", 15, 0)));
    lease_release(&e);
    sent = step(&e, 1000, "PUT", PATH, 200, lease_json("11", "", 1, 0));
    assert_contains(sent, "\"holderIdentity\":\"\"");
    assert_contains(sent, "\"leaseDurationSeconds\":1");
    assert_contains(sent, "\"resourceVersion\":\"10\"");
    free(sent);
    assert_false(lease_leading(&e, 1000));
    lease_begin_round(&e, 1000);
    assert_false(lease_next(&e, 1000, WALL_US, &req));
    /* A standby that is told to release has nothing to give up. */
    lease_elector_free(&e);
    lease_elector_init(&e, "kube-system", "ecr-renew", "pod-b_2");
    lease_release(&e);
    lease_begin_round(&e, 0);
    assert_false(lease_next(&e, 0, WALL_US, &req));
    assert_int_equal(e.step, LEASE_DONE);
    lease_elector_free(&e);
}

static void record_parse__refuses_what_is_not_a_lease(void **state)
{
    struct lease_record rec;
    struct er_error err = {0};

    (void)state;
    assert_int_equal(lease_record_parse("{}", 2, &rec, &err), ER_PARSE);
    assert_contains(err.msg, "not a Lease");
    assert_int_equal(lease_record_parse("<html>", 6, &rec, &err), ER_PARSE);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(micro_time__six_digits),
        cmocka_unit_test(absent__created_and_led),
        cmocka_unit_test(leader__renews_with_put_then_stops_at_the_deadline),
        cmocka_unit_test(held_by_another__waits_for_its_duration_then_takes),
        cmocka_unit_test(held_by_another__counted_from_our_previous_read),
        cmocka_unit_test(released__taken_at_once),
        cmocka_unit_test(conflict__lost_the_round),
        cmocka_unit_test(release__empty_holder_one_second),
        cmocka_unit_test(record_parse__refuses_what_is_not_a_lease),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
