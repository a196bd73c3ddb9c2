/*
 * The overall deadline: what is left, clamping timeouts, and waits that
 * would pass it failing at once.
 */
#include "core/deadline.h"
#include "test_assert.h"
#include "test_util.h"

#include <limits.h>

static void deadline_left_ms__moves_with_the_clock(void **state)
{
    struct test_clock tc;
    struct deadline d;

    (void)state;
    test_clock_init(&tc, 1767225600);
    deadline_start(&d, &tc.clock, 60000, "--timeout");
    assert_int_equal(deadline_left_ms(&d), 60000);
    test_clock_advance_ms(&tc, 59999);
    assert_int_equal(deadline_left_ms(&d), 1);
    assert_false(deadline_passed(&d));
    test_clock_advance_ms(&tc, 1);
    assert_true(deadline_passed(&d));
    assert_true(deadline_left_ms(NULL) == LLONG_MAX);
}

static void deadline_clamp_ms__never_longer_than_left(void **state)
{
    struct test_clock tc;
    struct deadline d;

    (void)state;
    test_clock_init(&tc, 1767225600);
    deadline_start(&d, &tc.clock, 5000, "--timeout");
    assert_int_equal(deadline_clamp_ms(&d, 30000), 5000);
    assert_int_equal(deadline_clamp_ms(&d, 1000), 1000);
    test_clock_advance_ms(&tc, 6000);
    assert_int_equal(deadline_clamp_ms(&d, 30000), 1);
    assert_int_equal(deadline_clamp_ms(NULL, 30000), 30000);
}

static void deadline_sleep__longer_than_left__fails_without_sleeping(void **s)
{
    struct test_clock tc;
    struct deadline d;
    struct er_error err;

    (void)s;
    test_clock_init(&tc, 1767225600);
    deadline_start(&d, &tc.clock, 300000, "--timeout");
    assert_int_equal(deadline_sleep(&d, &tc.clock, 86400000,
                                    "the server's Retry-After", "GET /api/v1/x",
                                    &err),
                     ER_NETWORK);
    assert_int_equal(tc.slept_ms, 0);
    assert_contains(err.msg, "GET /api/v1/x: the server's Retry-After asks "
                             "to wait 24h0m0s");
    assert_contains(err.msg, "5m0s left before the deadline (--timeout)");
    assert_int_equal(deadline_sleep(&d, &tc.clock, 2000, "backoff", "x", &err),
                     ER_OK);
    assert_int_equal(tc.slept_ms, 2000);
}

static void deadline_error__says_the_deadline_passed(void **state)
{
    struct test_clock tc;
    struct deadline d;
    struct er_error err;

    (void)state;
    test_clock_init(&tc, 1767225600);
    deadline_start(&d, &tc.clock, 90000, "--timeout");
    test_clock_advance_ms(&tc, 90000);
    assert_int_equal(
        deadline_sleep(&d, &tc.clock, 10, "backoff", "PUT /x", &err),
        ER_NETWORK);
    assert_contains(err.msg, "PUT /x: the 1m30s deadline (--timeout) passed");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(deadline_left_ms__moves_with_the_clock),
        cmocka_unit_test(deadline_clamp_ms__never_longer_than_left),
        cmocka_unit_test(
            deadline_sleep__longer_than_left__fails_without_sleeping),
        cmocka_unit_test(deadline_error__says_the_deadline_passed),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
