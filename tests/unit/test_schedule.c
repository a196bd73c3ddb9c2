/*
 * Renewal by the tokens' own expiry, over simulated days: half-life with
 * jitter, backoff after failures, and the old tokens kept meanwhile.
 */
#include "ctl/schedule.h"
#include "test_assert.h"
#include "test_util.h"

#define T0 ((time_t)1767225600) /* 2026-01-01T00:00:00Z */
#define HOUR 3600

static void renewal_succeeded__half_the_remaining_life(void **state)
{
    struct renewal r = {0};

    (void)state;
    assert_true(renewal_due(&r, T0)); /* nothing yet: at once */
    renewal_succeeded(&r, T0, T0 + 12 * HOUR, 0.0);
    assert_int_equal(r.next_at, T0 + 6 * HOUR);
    assert_false(renewal_due(&r, T0 + 6 * HOUR - 1));
    assert_true(renewal_due(&r, T0 + 6 * HOUR));
    /* Jitter only makes it earlier, by at most 5 % of the half-life. */
    renewal_succeeded(&r, T0, T0 + 12 * HOUR, 0.999);
    assert_true(r.next_at < T0 + 6 * HOUR);
    assert_true(r.next_at >= T0 + 6 * HOUR - 6 * HOUR / 20);
}

static void renewal_succeeded__short_tokens__renewed_at_half(void **state)
{
    struct renewal r = {0};

    (void)state;
    renewal_succeeded(&r, T0, T0 + 20, 0.0); /* a 20 s test token */
    assert_int_equal(r.next_at, T0 + 10);
    renewal_succeeded(&r, T0, T0 + 1, 0.0);
    assert_int_equal(r.next_at, T0 + 1);
}

static void renewal_failed__backoff_doubles_to_five_minutes(void **state)
{
    struct renewal r = {0};
    long long waits[12];

    (void)state;
    renewal_succeeded(&r, T0, T0 + 12 * HOUR, 0.0);
    for (int i = 0; i < 12; i++)
        waits[i] = renewal_failed(&r, T0 + 6 * HOUR, 0.0);
    assert_int_equal(waits[0], 5000);
    assert_int_equal(waits[1], 10000);
    assert_int_equal(waits[2], 20000);
    assert_int_equal(waits[6], 300000);
    assert_int_equal(waits[11], 300000);
    assert_int_equal(r.failures, 12);
    /* The old tokens still count as valid until they expire. */
    assert_true(renewal_valid(&r, T0 + 12 * HOUR - 1));
    assert_false(renewal_valid(&r, T0 + 12 * HOUR));
    renewal_succeeded(&r, T0 + 7 * HOUR, T0 + 19 * HOUR, 0.0);
    assert_int_equal(r.failures, 0);
}

/* A day and a half of renewals, one fetch failing for an hour: the
 * tokens in use never lapse. */
static void renewal__simulated_days__never_lapses(void **state)
{
    struct renewal r = {0};
    time_t now = T0;
    int fetches = 0;

    (void)state;
    while (now < T0 + 36 * HOUR) {
        if (renewal_due(&r, now)) {
            bool outage = now >= T0 + 12 * HOUR && now < T0 + 13 * HOUR;
            if (outage) {
                renewal_failed(&r, now, 0.5);
            } else {
                renewal_succeeded(&r, now, (double)(now + 12 * HOUR), 0.5);
                fetches++;
            }
        }
        if (now > T0)
            assert_true(renewal_valid(&r, now));
        now += 1;
    }
    assert_true(fetches >= 6 && fetches <= 8);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(renewal_succeeded__half_the_remaining_life),
        cmocka_unit_test(renewal_succeeded__short_tokens__renewed_at_half),
        cmocka_unit_test(renewal_failed__backoff_doubles_to_five_minutes),
        cmocka_unit_test(renewal__simulated_days__never_lapses),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
