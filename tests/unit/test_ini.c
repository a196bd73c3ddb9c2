/*
 * The INI dialect of ~/.aws/credentials and ~/.aws/config.
 */
#include "aws/ini.h"
#include "test_assert.h"
#include "test_util.h"

#include <string.h>

static struct ini_file *parse_ok(const char *text)
{
    struct ini_file *f = NULL;
    struct er_error err = {0};

    if (ini_parse(text, strlen(text), "test.ini", &f, &err) != ER_OK)
        fail_msg("ini_parse failed: %s", err.msg);
    assert_non_null(f);
    return f;
}

static void parse_fails(const char *text, const char *want_msg)
{
    struct ini_file *f = NULL;
    struct er_error err = {0};

    assert_int_equal(
        ini_parse(text, strlen(text), "/home/u/.aws/config", &f, &err),
        ER_CONFIG);
    assert_null(f);
    assert_int_equal(err.code, ER_CONFIG);
    assert_contains(err.msg, want_msg);
}

static void ini_parse__sections_and_keys__found(void **state)
{
    struct ini_file *f = parse_ok("[default]\n"
                                  "region = us-east-1\n"
                                  "[profile dev]\n"
                                  "region = eu-west-1\n"
                                  "output = json\n");

    assert_string_equal(ini_get(f, "default", "region"), "us-east-1");
    assert_string_equal(ini_get(f, "profile dev", "region"), "eu-west-1");
    assert_string_equal(ini_get(f, "profile dev", "output"), "json");
    assert_null(ini_get(f, "default", "output"));
    assert_null(ini_get(f, "profile prod", "region"));
    assert_true(ini_has_section(f, "profile dev"));
    assert_false(ini_has_section(f, "dev"));
    ini_free(f);
}

static void ini_parse__colon_separator__same_as_equals(void **state)
{
    struct ini_file *f = parse_ok("[a]\n"
                                  "region: us-west-2\n"
                                  "role_arn:arn:aws:iam::123456789012:role/r\n"
                                  "endpoint = https://x.example:8443/p\n");

    assert_string_equal(ini_get(f, "a", "region"), "us-west-2");
    /* The first separator splits; the rest belongs to the value. */
    assert_string_equal(ini_get(f, "a", "role_arn"),
                        "arn:aws:iam::123456789012:role/r");
    assert_string_equal(ini_get(f, "a", "endpoint"),
                        "https://x.example:8443/p");
    ini_free(f);
}

static void ini_parse__value_with_equals__kept_whole(void **state)
{
    struct ini_file *f = parse_ok("[a]\nsecret = ab/cd+ef==\n");

    assert_string_equal(ini_get(f, "a", "secret"), "ab/cd+ef==");
    ini_free(f);
}

static void ini_parse__whitespace_around__trimmed(void **state)
{
    struct ini_file *f = parse_ok("  [ spaced ]  \n"
                                  "\tkey\t=\t value  \t\n"
                                  "empty =\n");

    assert_string_equal(ini_get(f, "spaced", "key"), "value");
    assert_string_equal(ini_get(f, "spaced", "empty"), "");
    ini_free(f);
}

static void ini_parse__keys__case_sensitive(void **state)
{
    struct ini_file *f = parse_ok("[a]\nRegion = x\n");

    assert_null(ini_get(f, "a", "region"));
    assert_string_equal(ini_get(f, "a", "Region"), "x");
    ini_free(f);
}

static void ini_parse__comments_and_blank_lines__ignored(void **state)
{
    struct ini_file *f = parse_ok("# leading comment\n"
                                  "; another\n"
                                  "\n"
                                  "[a]\n"
                                  "   # indented comment\n"
                                  "k = v\n"
                                  "\n"
                                  ";k = overwritten?\n"
                                  "#k = overwritten?\n");

    assert_string_equal(ini_get(f, "a", "k"), "v");
    ini_free(f);
}

static void ini_parse__continuation_line__joins_value(void **state)
{
    struct ini_file *f = parse_ok("[profile dev]\n"
                                  "s3 =\n"
                                  "    max_concurrent_requests = 20\n"
                                  "    addressing_style = path\n"
                                  "region = us-east-1\n");

    assert_string_equal(ini_get(f, "profile dev", "s3"),
                        "\nmax_concurrent_requests = 20\n"
                        "addressing_style = path");
    /* Nested settings do not become keys of the profile. */
    assert_null(ini_get(f, "profile dev", "addressing_style"));
    assert_string_equal(ini_get(f, "profile dev", "region"), "us-east-1");
    ini_free(f);
}

static void ini_parse__indented_keys_same_depth__separate_keys(void **state)
{
    struct ini_file *f = parse_ok("[a]\n"
                                  "  one = 1\n"
                                  "  two = 2\n");

    assert_string_equal(ini_get(f, "a", "one"), "1");
    assert_string_equal(ini_get(f, "a", "two"), "2");
    ini_free(f);
}

static void ini_parse__utf8_bom__skipped(void **state)
{
    struct ini_file *f = parse_ok("\xEF\xBB\xBF[default]\nregion = x\n");

    assert_true(ini_has_section(f, "default"));
    assert_string_equal(ini_get(f, "default", "region"), "x");
    ini_free(f);
}

static void ini_parse__crlf_line_ends__stripped(void **state)
{
    struct ini_file *f = parse_ok("[default]\r\nregion = us-east-2\r\n"
                                  "k=v\r\n");

    assert_string_equal(ini_get(f, "default", "region"), "us-east-2");
    assert_string_equal(ini_get(f, "default", "k"), "v");
    ini_free(f);
}

static void ini_parse__no_final_newline__last_line_read(void **state)
{
    struct ini_file *f = parse_ok("[a]\nk = last");

    assert_string_equal(ini_get(f, "a", "k"), "last");
    ini_free(f);
}

static void ini_parse__later_duplicate__wins(void **state)
{
    struct ini_file *f = parse_ok("[a]\n"
                                  "k = first\n"
                                  "[b]\n"
                                  "k = other\n"
                                  "[a]\n"
                                  "k = second\n");

    assert_string_equal(ini_get(f, "a", "k"), "second");
    assert_int_equal(ini_line(f, "a", "k"), 6);
    assert_string_equal(ini_get(f, "b", "k"), "other");
    ini_free(f);
}

static void ini_line__key__reports_its_line(void **state)
{
    struct ini_file *f = parse_ok("# c\n"
                                  "[a]\n"
                                  "\n"
                                  "k = v\n");

    assert_int_equal(ini_line(f, "a", "k"), 4);
    assert_int_equal(ini_line(f, "a", "missing"), 0);
    assert_int_equal(ini_line(f, "nosection", "k"), 0);
    ini_free(f);
}

static void ini_parse__empty_text__no_sections(void **state)
{
    struct ini_file *f = parse_ok("");

    assert_false(ini_has_section(f, "default"));
    assert_null(ini_get(f, "default", "k"));
    ini_free(f);
}

static void ini_get__null_file__null(void **state)
{
    assert_null(ini_get(NULL, "a", "k"));
    assert_int_equal(ini_line(NULL, "a", "k"), 0);
    assert_false(ini_has_section(NULL, "a"));
}

static void
ini_parse__line_without_separator__error_names_file_line(void **state)
{
    parse_fails("[default]\nregion = x\njunk line\n",
                "/home/u/.aws/config:3: expected");
}

static void
ini_parse__setting_before_section__error_names_file_line(void **state)
{
    parse_fails("\n\nregion = x\n", "/home/u/.aws/config:3: setting outside");
}

static void ini_parse__unclosed_section__error_names_file_line(void **state)
{
    parse_fails("[default]\nk = v\n[profile dev\n",
                "/home/u/.aws/config:3: section header without ']'");
}

static void ini_parse__empty_section_name__error(void **state)
{
    parse_fails("[  ]\n", "/home/u/.aws/config:1: empty section name");
}

static void ini_parse__empty_key__error(void **state)
{
    parse_fails("[a]\n = value\n", "/home/u/.aws/config:2: setting without");
}

static void ini_parse__nul_byte__error(void **state)
{
    static const char text[] = "[a]\nk = v\0x\n";
    struct ini_file *f = NULL;
    struct er_error err = {0};

    assert_int_equal(ini_parse(text, sizeof(text) - 1, "creds", &f, &err),
                     ER_CONFIG);
    assert_contains(err.msg, "creds:2: NUL byte");
    assert_null(f);
}

/* Errors go to logs, so they must not quote what may be a secret key. */
static void ini_parse__error__does_not_quote_value(void **state)
{
    struct ini_file *f = NULL;
    struct er_error err = {0};
    const char *text = "[a]\nSECRETVALUE-not-a-real-key\n";

    assert_int_equal(ini_parse(text, strlen(text), "c", &f, &err), ER_CONFIG);
    assert_not_contains(err.msg, "SECRETVALUE");
}

static void ini_parse__length__bounds_the_text(void **state)
{
    const char *text = "[a]\nk = v\n[b]\nk = w\n";
    struct ini_file *f = NULL;
    struct er_error err = {0};

    assert_int_equal(ini_parse(text, 10, "t", &f, &err), ER_OK);
    assert_string_equal(ini_get(f, "a", "k"), "v");
    assert_false(ini_has_section(f, "b"));
    ini_free(f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(ini_parse__sections_and_keys__found),
        cmocka_unit_test(ini_parse__colon_separator__same_as_equals),
        cmocka_unit_test(ini_parse__value_with_equals__kept_whole),
        cmocka_unit_test(ini_parse__whitespace_around__trimmed),
        cmocka_unit_test(ini_parse__keys__case_sensitive),
        cmocka_unit_test(ini_parse__comments_and_blank_lines__ignored),
        cmocka_unit_test(ini_parse__continuation_line__joins_value),
        cmocka_unit_test(ini_parse__indented_keys_same_depth__separate_keys),
        cmocka_unit_test(ini_parse__utf8_bom__skipped),
        cmocka_unit_test(ini_parse__crlf_line_ends__stripped),
        cmocka_unit_test(ini_parse__no_final_newline__last_line_read),
        cmocka_unit_test(ini_parse__later_duplicate__wins),
        cmocka_unit_test(ini_line__key__reports_its_line),
        cmocka_unit_test(ini_parse__empty_text__no_sections),
        cmocka_unit_test(ini_get__null_file__null),
        cmocka_unit_test(
            ini_parse__line_without_separator__error_names_file_line),
        cmocka_unit_test(
            ini_parse__setting_before_section__error_names_file_line),
        cmocka_unit_test(ini_parse__unclosed_section__error_names_file_line),
        cmocka_unit_test(ini_parse__empty_section_name__error),
        cmocka_unit_test(ini_parse__empty_key__error),
        cmocka_unit_test(ini_parse__nul_byte__error),
        cmocka_unit_test(ini_parse__error__does_not_quote_value),
        cmocka_unit_test(ini_parse__length__bounds_the_text),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
