/*
 * The small string helpers behind settings, flags and lists.
 */
#include "core/strutil.h"
#include "test_assert.h"
#include "test_util.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

static void str_has_prefix__cases__as_expected(void **state)
{
    assert_true(str_has_prefix("us-gov-west-1", "us-gov-"));
    assert_true(str_has_prefix("abc", ""));
    assert_true(str_has_prefix("abc", "abc"));
    assert_false(str_has_prefix("ab", "abc"));
    assert_false(str_has_prefix("us-east-1", "us-gov-"));
    assert_false(str_has_prefix("ABC", "abc"));
}

static void str_has_suffix__cases__as_expected(void **state)
{
    assert_true(str_has_suffix("host.amazonaws.com", ".amazonaws.com"));
    assert_true(str_has_suffix("abc", ""));
    assert_true(str_has_suffix("abc", "abc"));
    assert_false(str_has_suffix("bc", "abc"));
    assert_false(str_has_suffix("host.amazonaws.com.cn", ".amazonaws.com"));
}

static void str_eq_ci__mixed_case__equal(void **state)
{
    assert_true(str_eq_ci("Content-Type", "content-type"));
    assert_true(str_eq_ci("", ""));
    assert_false(str_eq_ci("Content-Type", "Content-Typ"));
}

static void str_trim__surrounding_whitespace__skipped(void **state)
{
    size_t n = 99;
    const char *s = " \t\r\n value with  inner \n\t ";
    const char *t = str_trim(s, &n);

    assert_int_equal(n, strlen("value with  inner"));
    assert_memory_equal(t, "value with  inner", n);
    assert_string_equal(s, " \t\r\n value with  inner \n\t "); /* unchanged */
}

static void str_trim__only_whitespace__empty(void **state)
{
    size_t n = 99;

    str_trim(" \t\n ", &n);
    assert_int_equal(n, 0);
    str_trim("", &n);
    assert_int_equal(n, 0);
}

static void str_rtrim_inplace__trailing_newlines__removed(void **state)
{
    char a[] = "token-value\r\n \t\n";
    char b[] = "  keep leading";
    char c[] = "\n\n";

    str_rtrim_inplace(a);
    str_rtrim_inplace(b);
    str_rtrim_inplace(c);
    assert_string_equal(a, "token-value");
    assert_string_equal(b, "  keep leading");
    assert_string_equal(c, "");
}

static void str_is_true__spellings__recognised(void **state)
{
    static const char *const yes[] = {"true", "TRUE", "True", "1",
                                      "yes",  "YES",  "on",   "On"};
    static const char *const no[] = {"false",  "0",     "no", "off", "",
                                     "truthy", " true", "2",  "y"};

    for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++)
        if (!str_is_true(yes[i]))
            fail_msg("\"%s\" should be true", yes[i]);
    for (size_t i = 0; i < sizeof(no) / sizeof(no[0]); i++)
        if (str_is_true(no[i]))
            fail_msg("\"%s\" should be false", no[i]);
    assert_false(str_is_true(NULL));
}

static void str_to_long__valid__parsed(void **state)
{
    long v = 0;

    assert_int_equal(str_to_long("42", 0, 100, &v), 0);
    assert_int_equal(v, 42);
    assert_int_equal(str_to_long("-7", -10, 10, &v), 0);
    assert_int_equal(v, -7);
    assert_int_equal(str_to_long("0", 0, 0, &v), 0);
    assert_int_equal(v, 0);
    assert_int_equal(str_to_long("9223372036854775807", 0, LONG_MAX, &v), 0);
    assert_true(v == LONG_MAX);
}

static void str_to_long__junk_overflow_range__refused(void **state)
{
    static const char *const junk[] = {
        "",     " 5",  "5 ",  "5x",  "x5",
        "0x10", "1e3", "5.0", "--5", "99999999999999999999"};
    long v = 1234;

    for (size_t i = 0; i < sizeof(junk) / sizeof(junk[0]); i++)
        if (str_to_long(junk[i], LONG_MIN, LONG_MAX, &v) != -1)
            fail_msg("str_to_long accepted \"%s\"", junk[i]);
    assert_int_equal(str_to_long(NULL, 0, 10, &v), -1);
    assert_int_equal(str_to_long("11", 0, 10, &v), -1);
    assert_int_equal(str_to_long("-1", 0, 10, &v), -1);
    assert_int_equal(v, 1234); /* untouched on failure */
}

static void str_list_add_split__commas__trimmed_nonempty_pieces(void **state)
{
    struct str_list l = {NULL, 0};

    assert_int_equal(
        str_list_add_split(&l, " us-east-1, eu-west-1 ,,  , ap-south-1 ", ','),
        2);
    assert_int_equal(l.n, 3);
    assert_string_equal(l.items[0], "us-east-1");
    assert_string_equal(l.items[1], "eu-west-1");
    assert_string_equal(l.items[2], "ap-south-1");
    assert_null(l.items[3]);
    str_list_clear(&l);
}

static void str_list_add_split__twice__appends_to_list(void **state)
{
    struct str_list l = {NULL, 0};

    assert_int_equal(str_list_add_split(&l, "a", ','), 0);
    assert_int_equal(str_list_add_split(&l, "b,c", ','), 0);
    assert_int_equal(l.n, 3);
    assert_string_equal(l.items[0], "a");
    assert_string_equal(l.items[2], "c");
    assert_null(l.items[3]);
    assert_true(str_list_contains(&l, "b"));
    assert_false(str_list_contains(&l, "d"));
    str_list_clear(&l);
}

static void
str_list_add_split__nothing_but_separators__counts_blanks(void **state)
{
    struct str_list l = {NULL, 0};

    assert_int_equal(str_list_add_split(&l, " , ,", ','), 3);
    assert_int_equal(str_list_add_split(&l, "", ','), 1);
    assert_int_equal(l.n, 0);
    str_list_clear(&l);
}

static void str_copy_printable__controls_and_utf8_cut__clean(void **state)
{
    char out[8];

    (void)state;
    str_copy_printable(out, sizeof(out), "a\nb\x1b", 4);
    assert_string_equal(out, "a\\nb"); /* "\x1b" would not fit whole */
    /* "abcde" + U+00E9 (2 bytes) + "z": cut inside the character. */
    str_copy_printable(out, 7, "abcde\xc3\xa9z", 8);
    assert_string_equal(out, "abcde");
    str_copy_printable(out, sizeof(out), "abcde\xc3\xa9z", 8);
    assert_string_equal(out, "abcde\xc3\xa9");
}

static void str_has_no_controls__cr_lf_tab_del__refused(void **state)
{
    assert_true(str_has_no_controls("Bearer abc.def-ghi_=+/"));
    assert_true(str_has_no_controls(""));
    assert_true(str_has_no_controls("caf\xc3\xa9"));
    assert_false(str_has_no_controls("tok\r\nX-Injected: 1"));
    assert_false(str_has_no_controls("tok\n"));
    assert_false(str_has_no_controls("a\tb"));
    assert_false(str_has_no_controls("a\x7f"));
    assert_false(str_has_no_controls("\x1b[31m"));
}

static void str_is_utf8__well_formed_only(void **state)
{
    assert_true(str_is_utf8("plain", 5));
    assert_true(str_is_utf8("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80", 14));
    assert_false(str_is_utf8("\xff", 1));
    assert_false(str_is_utf8("\xc3", 1));             /* cut short */
    assert_false(str_is_utf8("\xc0\xaf", 2));         /* overlong '/' */
    assert_false(str_is_utf8("\xed\xa0\x80", 3));     /* surrogate */
    assert_false(str_is_utf8("\xf4\x90\x80\x80", 4)); /* past U+10FFFF */
    assert_false(str_is_utf8("a\x80"
                             "b",
                             3));
}

static char *visible(const char *s, size_t n)
{
    struct buf b = BUF_INIT;

    str_append_visible(&b, s, n);
    return buf_detach(&b, NULL);
}

static void str_append_visible__controls_escapes_bad_bytes__shown(void **state)
{
    const char *raw = "a\nb\rc\td\x1b[31m\x7f\\e";
    char *v = visible(raw, strlen(raw));

    assert_string_equal(v, "a\\nb\\rc\\td\\x1b[31m\\x7f\\e");
    free(v);
    v = visible("caf\xc3\xa9 \xff \xc2\x9b", 10);
    assert_string_equal(v, "caf\xc3\xa9 \\xff \\u009b");
    free(v);
    v = visible("nul\0here", 8);
    assert_string_equal(v, "nul\\x00here");
    free(v);
}

static void str_url_redacted__userinfo__hidden(void **state)
{
    char *r;

    r = str_url_redacted("https://admin:s3cret@k.example:6443/api?x=1");
    assert_string_equal(r, "https://***@k.example:6443/api?x=1");
    free(r);
    r = str_url_redacted("http://u@127.0.0.1/v1/credentials");
    assert_string_equal(r, "http://***@127.0.0.1/v1/credentials");
    free(r);
    r = str_url_redacted("https://k.example/a@b");
    assert_string_equal(r, "https://k.example/a@b");
    free(r);
    r = str_url_redacted("https://a:b@c@host/");
    assert_string_equal(r, "https://***@host/");
    free(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(str_has_no_controls__cr_lf_tab_del__refused),
        cmocka_unit_test(str_is_utf8__well_formed_only),
        cmocka_unit_test(str_append_visible__controls_escapes_bad_bytes__shown),
        cmocka_unit_test(str_url_redacted__userinfo__hidden),
        cmocka_unit_test(str_has_prefix__cases__as_expected),
        cmocka_unit_test(str_has_suffix__cases__as_expected),
        cmocka_unit_test(str_eq_ci__mixed_case__equal),
        cmocka_unit_test(str_trim__surrounding_whitespace__skipped),
        cmocka_unit_test(str_trim__only_whitespace__empty),
        cmocka_unit_test(str_rtrim_inplace__trailing_newlines__removed),
        cmocka_unit_test(str_is_true__spellings__recognised),
        cmocka_unit_test(str_to_long__valid__parsed),
        cmocka_unit_test(str_to_long__junk_overflow_range__refused),
        cmocka_unit_test(str_list_add_split__commas__trimmed_nonempty_pieces),
        cmocka_unit_test(str_list_add_split__twice__appends_to_list),
        cmocka_unit_test(str_copy_printable__controls_and_utf8_cut__clean),
        cmocka_unit_test(
            str_list_add_split__nothing_but_separators__counts_blanks),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
