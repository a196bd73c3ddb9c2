/*
 * Timestamps as AWS sends them (STS Expiration, IMDS Expiration) and as we
 * write them (X-Amz-Date, logs).
 */
#include "core/timeutil.h"
#include "test_assert.h"
#include "test_util.h"

#include <string.h>

static time_t parse_ok(const char *s)
{
    time_t t = 0;

    if (time_parse_iso8601(s, &t) != 0)
        fail_msg("time_parse_iso8601 refused \"%s\"", s);
    return t;
}

static void parse_refused(const char *s)
{
    time_t t = 12345;

    if (time_parse_iso8601(s, &t) != -1)
        fail_msg("time_parse_iso8601 accepted \"%s\"", s);
    assert_int_equal(t, 12345); /* untouched on failure */
}

static void time_parse_iso8601__utc_z__exact_epoch(void **state)
{
    assert_int_equal(parse_ok("2026-01-01T01:00:00Z"), 1767229200);
    assert_int_equal(parse_ok("2015-08-30T12:36:00Z"), 1440938160);
    assert_int_equal(parse_ok("2000-01-01T00:00:00Z"), 946684800);
    assert_int_equal(parse_ok("9999-12-31T23:59:59Z"), 253402300799LL);
}

static void time_parse_iso8601__outside_sane_range__refused(void **state)
{
    parse_refused("1970-01-01T00:00:00Z");
    parse_refused("1999-12-31T23:59:59Z");
    parse_refused("9999-12-31T23:59:59-01:00"); /* year 10000 in UTC */
    parse_refused("0000-01-01T00:00:00Z");
}

static void time_is_sane__numbers__range_and_finite(void **state)
{
    assert_true(time_is_sane(1767268800.123));
    assert_true(time_is_sane(946684800));
    assert_false(time_is_sane(0));
    assert_false(time_is_sane(-1));
    assert_false(time_is_sane(1e300));
    assert_false(time_is_sane(253402300800.0));
    assert_false(time_is_sane(0.0 / 0.0));
}

static long long duration_ok(const char *s)
{
    long long ms = -1;

    if (duration_parse(s, 24LL * 3600 * 1000, &ms) != 0)
        fail_msg("duration_parse refused \"%s\"", s);
    return ms;
}

static void duration_parse__go_forms__milliseconds(void **state)
{
    assert_int_equal(duration_ok("90s"), 90000);
    assert_int_equal(duration_ok("5m"), 300000);
    assert_int_equal(duration_ok("1h30m"), 5400000);
    assert_int_equal(duration_ok("1.5h"), 5400000);
    assert_int_equal(duration_ok("250ms"), 250);
    assert_int_equal(duration_ok("1m0.5s"), 60500);
    assert_int_equal(duration_ok("2000us"), 2);
    assert_int_equal(duration_ok(".5s"), 500);
    assert_int_equal(duration_ok("1s500ms"), 1500);
}

static void duration_parse__junk_or_out_of_range__refused(void **state)
{
    const char *bad[] = {"",     "5",           "s",    "-5s",  "5 s",
                         "5sec", "0s",          "10us", "25h",  "1x",
                         "1.s.", "9999999999h", "0",    "1m-1s"};
    long long ms = 7;

    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        if (duration_parse(bad[i], 24LL * 3600 * 1000, &ms) != -1)
            fail_msg("duration_parse accepted \"%s\"", bad[i]);
    }
    assert_int_equal(ms, 7);
}

static void duration_format__go_style(void **state)
{
    char out[DURATION_LEN];

    duration_format(300000, out);
    assert_string_equal(out, "5m0s");
    duration_format(5400000, out);
    assert_string_equal(out, "1h30m0s");
    duration_format(1500, out);
    assert_string_equal(out, "1.5s");
    duration_format(250, out);
    assert_string_equal(out, "250ms");
    duration_format(86400000, out);
    assert_string_equal(out, "24h0m0s");
    duration_format(61001, out);
    assert_string_equal(out, "1m1.001s");
}

static void time_parse_iso8601__leap_day__accepted(void **state)
{
    assert_int_equal(parse_ok("2024-02-29T23:59:59Z"), 1709251199);
}

static void time_parse_iso8601__fractional_seconds__truncated(void **state)
{
    assert_int_equal(parse_ok("2026-01-01T01:00:00.123Z"), 1767229200);
    assert_int_equal(parse_ok("2026-01-01T01:00:00.999999999Z"), 1767229200);
    assert_int_equal(parse_ok("2026-01-01T01:00:00.5+00:00"), 1767229200);
}

static void time_parse_iso8601__offsets__converted_to_utc(void **state)
{
    assert_int_equal(parse_ok("2026-01-01T01:00:00+00:00"), 1767229200);
    assert_int_equal(parse_ok("2026-01-01T01:00:00-00:00"), 1767229200);
    assert_int_equal(parse_ok("2026-01-01T01:00:00+02:00"), 1767222000);
    assert_int_equal(parse_ok("2026-01-01T01:00:00-05:30"), 1767249000);
    assert_int_equal(parse_ok("2026-01-01T03:00:00.250+02:00"), 1767229200);
}

static void time_parse_iso8601__lower_case_t_and_z__accepted(void **state)
{
    assert_int_equal(parse_ok("2026-01-01t01:00:00z"), 1767229200);
}

static void time_parse_iso8601__junk__refused(void **state)
{
    parse_refused("");
    parse_refused("garbage");
    parse_refused("2026-01-01");
    parse_refused("2026-01-01T01:00:00"); /* no zone */
    parse_refused("2026-01-01T01:00Z");   /* no seconds */
    parse_refused("2026-1-01T01:00:00Z"); /* short month */
    parse_refused("26-01-01T01:00:00Z");
    parse_refused("2026/01/01T01:00:00Z");
    parse_refused("2026-01-01X01:00:00Z");
    parse_refused("2026-01-01T01:00:00Zjunk"); /* trailing text */
    parse_refused("2026-01-01T01:00:00Z ");
    parse_refused(" 2026-01-01T01:00:00Z");
    parse_refused("2026-01-01T01:00:00.Z"); /* empty fraction */
    parse_refused("2026-01-01T01:00:00,5Z");
    parse_refused("2026-01-01T01:00:00+0200"); /* offset without ':' */
    parse_refused("2026-01-01T01:00:00+02");
    parse_refused("2026-01-01T01:00:00+02:00Z");
    parse_refused("2026-01-01T01:00:00UTC");
}

static void time_parse_iso8601__out_of_range_fields__refused(void **state)
{
    parse_refused("2026-00-01T01:00:00Z");
    parse_refused("2026-13-01T01:00:00Z");
    parse_refused("2026-01-00T01:00:00Z");
    parse_refused("2026-01-32T01:00:00Z");
    parse_refused("2026-01-01T24:00:00Z");
    parse_refused("2026-01-01T01:60:00Z");
    parse_refused("2026-01-01T01:00:61Z");
    parse_refused("2026-01-01T01:00:00+24:00");
    parse_refused("2026-01-01T01:00:00+01:60");
}

static void time_format_amz__known_time__sigv4_shape(void **state)
{
    char out[TIME_AMZ_LEN];

    time_format_amz(1440938160, out);
    assert_string_equal(out, "20150830T123600Z");
    time_format_amz(0, out);
    assert_string_equal(out, "19700101T000000Z");
}

static void time_format_rfc3339__known_time__utc_with_z(void **state)
{
    char out[TIME_RFC3339_LEN];

    time_format_rfc3339(1440938160, out);
    assert_string_equal(out, "2015-08-30T12:36:00Z");
    time_format_rfc3339(1709251199, out);
    assert_string_equal(out, "2024-02-29T23:59:59Z");
}

static void time_format_rfc3339__then_parse__round_trips(void **state)
{
    static const time_t samples[] = {946684800, 1440938160, 1767229200,
                                     4102444799};
    char out[TIME_RFC3339_LEN];

    for (size_t i = 0; i < sizeof(samples) / sizeof(samples[0]); i++) {
        time_format_rfc3339(samples[i], out);
        assert_int_equal(strlen(out), TIME_RFC3339_LEN - 1);
        assert_int_equal(parse_ok(out), samples[i]);
    }
}

static void time_parse_iso8601__impossible_dates__refused(void **state)
{
    time_t t;

    (void)state;
    assert_int_equal(time_parse_iso8601("2026-02-31T00:00:00Z", &t), -1);
    assert_int_equal(time_parse_iso8601("2026-04-31T00:00:00Z", &t), -1);
    assert_int_equal(time_parse_iso8601("2028-02-29T00:00:00Z", &t), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(time_parse_iso8601__utc_z__exact_epoch),
        cmocka_unit_test(time_parse_iso8601__leap_day__accepted),
        cmocka_unit_test(time_parse_iso8601__fractional_seconds__truncated),
        cmocka_unit_test(time_parse_iso8601__offsets__converted_to_utc),
        cmocka_unit_test(time_parse_iso8601__lower_case_t_and_z__accepted),
        cmocka_unit_test(time_parse_iso8601__junk__refused),
        cmocka_unit_test(time_parse_iso8601__out_of_range_fields__refused),
        cmocka_unit_test(time_format_amz__known_time__sigv4_shape),
        cmocka_unit_test(time_format_rfc3339__known_time__utc_with_z),
        cmocka_unit_test(time_format_rfc3339__then_parse__round_trips),
        cmocka_unit_test(time_parse_iso8601__impossible_dates__refused),
        cmocka_unit_test(time_parse_iso8601__outside_sane_range__refused),
        cmocka_unit_test(time_is_sane__numbers__range_and_finite),
        cmocka_unit_test(duration_parse__go_forms__milliseconds),
        cmocka_unit_test(duration_parse__junk_or_out_of_range__refused),
        cmocka_unit_test(duration_format__go_style),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
