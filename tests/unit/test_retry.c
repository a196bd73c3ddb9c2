/*
 * Backoff with full jitter: how long each retry may wait, the cap, and a
 * server's Retry-After.
 */
#include "net/retry.h"
#include "test_assert.h"
#include "test_util.h"

static const struct retry_policy policy = {5, 200, 20000};

static void retry_default_policy__values__five_tries_200ms_20s(void **state)
{
    assert_int_equal(retry_default_policy.max_attempts, 5);
    assert_int_equal(retry_default_policy.base_delay_ms, 200);
    assert_int_equal(retry_default_policy.max_delay_ms, 20000);
}

/* The ceiling doubles from the base with each retry until the cap: retry 1
 * may wait up to 200 ms, retry 2 up to 400 ms, ... never 20 s or more. */
static void retry_delay_ms__each_retry__within_doubling_ceiling(void **state)
{
    static const long ceiling[] = {0,    200,   400,   800,   1600,  3200,
                                   6400, 12800, 20000, 20000, 20000, 20000};

    for (int r = 1; r < (int)(sizeof(ceiling) / sizeof(ceiling[0])); r++) {
        long lo = retry_delay_ms(&policy, r, 0.0, -1);
        long hi = retry_delay_ms(&policy, r, 0.999, -1);
        assert_int_equal(lo, 0);
        assert_true(hi < ceiling[r]);
        assert_true(hi >= ceiling[r] * 998 / 1000);
    }
}

static void retry_delay_ms__huge_retry_number__capped_no_overflow(void **state)
{
    long d = retry_delay_ms(&policy, 1000000, 0.999, -1);

    assert_true(d >= 19900 && d < 20000);
    assert_int_equal(retry_delay_ms(&policy, 64, 0.0, -1), 0);
}

static void
retry_delay_ms__random_out_of_range__stays_below_ceiling(void **state)
{
    long d1 = retry_delay_ms(&policy, 1, 1.0, -1);
    long d2 = retry_delay_ms(&policy, 1, -0.5, -1);
    long d3 = retry_delay_ms(&policy, 1, 7.0, -1);

    assert_true(d1 >= 0 && d1 < 200);
    assert_true(d2 >= 0 && d2 < 200);
    assert_true(d3 >= 0 && d3 < 200);
}

static void retry_delay_ms__half_random__half_ceiling(void **state)
{
    assert_int_equal(retry_delay_ms(&policy, 1, 0.5, -1), 100);
    assert_int_equal(retry_delay_ms(&policy, 3, 0.5, -1), 400);
}

static void retry_delay_ms__retry_after__honoured_exactly(void **state)
{
    assert_int_equal(retry_delay_ms(&policy, 1, 0.0, 3000), 3000);
    assert_int_equal(retry_delay_ms(&policy, 4, 0.999, 1000), 1000);
    assert_int_equal(retry_delay_ms(&policy, 1, 0.999, 0), 0);
}

static void retry_delay_ms__retry_after_beyond_cap__capped(void **state)
{
    assert_int_equal(retry_delay_ms(&policy, 1, 0.0, 60000), 20000);
    assert_int_equal(retry_delay_ms(&policy, 1, 0.0, 86400000), 20000);
}

#define NOW ((time_t)1767225600) /* Thu, 01 Jan 2026 00:00:00 GMT */

static void retry_after_header_ms__seconds__milliseconds(void **state)
{
    assert_int_equal(retry_after_header_ms("3", NOW), 3000);
    assert_int_equal(retry_after_header_ms("0", NOW), 0);
    assert_int_equal(retry_after_header_ms("120", NOW), 120000);
    assert_int_equal(retry_after_header_ms("007", NOW), 7000);
    /* A huge wait is still a wait: read as the most, never as none. */
    assert_int_equal(retry_after_header_ms("99999999999999999999999999", NOW),
                     RETRY_AFTER_MAX_MS);
}

static void retry_after_header_ms__http_date__from_now(void **state)
{
    assert_int_equal(
        retry_after_header_ms("Thu, 01 Jan 2026 00:00:30 GMT", NOW), 30000);
    assert_int_equal(
        retry_after_header_ms("Wed, 31 Dec 2025 23:00:00 GMT", NOW), 0);
    assert_int_equal(
        retry_after_header_ms("Fri, 31 Dec 9999 23:59:59 GMT", NOW),
        RETRY_AFTER_MAX_MS);
}

static void retry_after_header_ms__unusable__minus_one(void **state)
{
    static const char *const bad[] = {
        "",
        "-1",
        "1.5",
        " 3",
        "3 ",
        "3s",
        "abc",
        "+3",
        "Wed, 21 Oct 2015 07:28:00 UTC",
        "Wed 21 Oct 2015 07:28:00 GMT",
        "Wed, 21 Foo 2015 07:28:00 GMT",
        "Wed, 21 Oct 2015 07:28:00 GMT extra",
    };

    assert_int_equal(retry_after_header_ms(NULL, NOW), -1);
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        if (retry_after_header_ms(bad[i], NOW) != -1)
            fail_msg("Retry-After \"%s\" was accepted", bad[i]);
}

static void retry_wait__retry_after_past_deadline__fails_at_once(void **s)
{
    struct test_clock tc;
    struct deadline d;
    struct er_error err;
    struct retry_step day = {1, 86400000, "retrying", "GET /api/v1/namespaces",
                             "HTTP 429"};
    struct retry_step secs = {1, 3000, "retrying", "GET /api/v1/namespaces",
                              "HTTP 429"};
    struct retry_step backoff = {2, -1, "retrying", "x", "HTTP 500"};

    (void)s;
    test_clock_init(&tc, 1767225600);
    deadline_start(&d, &tc.clock, 300000, "--timeout");
    assert_int_equal(retry_wait(&policy, &tc.clock, &d, &day, &err),
                     ER_NETWORK);
    assert_int_equal(tc.slept_ms, 0);
    assert_contains(err.msg, "Retry-After asks to wait 24h0m0s");
    assert_int_equal(retry_wait(&policy, &tc.clock, &d, &secs, &err), ER_OK);
    assert_int_equal(tc.slept_ms, 3000);
    assert_int_equal(retry_wait(&policy, &tc.clock, &d, &backoff, &err), ER_OK);
    assert_int_equal(tc.slept_ms, 3000 + 200);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(retry_default_policy__values__five_tries_200ms_20s),
        cmocka_unit_test(retry_delay_ms__each_retry__within_doubling_ceiling),
        cmocka_unit_test(retry_delay_ms__huge_retry_number__capped_no_overflow),
        cmocka_unit_test(
            retry_delay_ms__random_out_of_range__stays_below_ceiling),
        cmocka_unit_test(retry_delay_ms__half_random__half_ceiling),
        cmocka_unit_test(retry_delay_ms__retry_after__honoured_exactly),
        cmocka_unit_test(retry_delay_ms__retry_after_beyond_cap__capped),
        cmocka_unit_test(retry_after_header_ms__seconds__milliseconds),
        cmocka_unit_test(retry_after_header_ms__unusable__minus_one),
        cmocka_unit_test(retry_after_header_ms__http_date__from_now),
        cmocka_unit_test(retry_wait__retry_after_past_deadline__fails_at_once),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
