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
    assert_int_equal(parse_ok("1970-01-01T00:00:00Z"), 0);
    assert_int_equal(parse_ok("1999-12-31T23:59:59Z"), 946684799);
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
    static const time_t samples[] = {0, 946684799, 1440938160, 1767229200,
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
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
