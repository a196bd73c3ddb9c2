/*
 * Wildcards for namespace names: "*" and "?" only, in bounded time.
 */
#include "core/glob.h"
#include "test_assert.h"
#include "test_util.h"

#include <stdlib.h>
#include <string.h>

struct glob_case {
    const char *pattern;
    const char *s;
    bool want;
};

static void check_cases(const struct glob_case *c, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (glob_match(c[i].pattern, c[i].s) != c[i].want)
            fail_msg("glob_match(\"%s\", \"%s\") should be %s", c[i].pattern,
                     c[i].s, c[i].want ? "true" : "false");
    }
}

#define CHECK_CASES(c) check_cases((c), sizeof(c) / sizeof((c)[0]))

static void glob_match__no_wildcards__exact_only(void **state)
{
    static const struct glob_case c[] = {
        {"team-a", "team-a", true},
        {"team-a", "team-b", false},
        {"team-a", "team-ab", false},
        {"team-ab", "team-a", false},
        {"", "", true},
        {"", "a", false},
        {"a", "", false},
        {"Team-a", "team-a", false},
    };

    CHECK_CASES(c);
}

static void glob_match__star_alone__matches_everything(void **state)
{
    static const struct glob_case c[] = {
        {"*", "", true},  {"*", "a", true},     {"*", "kube-system", true},
        {"**", "", true}, {"***", "abc", true},
    };

    CHECK_CASES(c);
}

static void glob_match__prefix_suffix_infix_stars__anchored(void **state)
{
    static const struct glob_case c[] = {
        {"team-*", "team-", true},         {"team-*", "team-a", true},
        {"team-*", "team", false},         {"team-*", "my-team-a", false},
        {"*-prod", "web-prod", true},      {"*-prod", "-prod", true},
        {"*-prod", "web-prod-2", false},   {"*-prod", "prod", false},
        {"web-*-prod", "web--prod", true}, {"web-*-prod", "web-x-y-prod", true},
        {"web-*-prod", "web-prod", false}, {"web-*-prod", "web-x-prod-", false},
        {"*prod*", "preprod-1", true},     {"*prod*", "prod", true},
        {"*prod*", "pro-d", false},
    };

    CHECK_CASES(c);
}

static void glob_match__question_mark__exactly_one_character(void **state)
{
    static const struct glob_case c[] = {
        {"team-?", "team-a", true},
        {"team-?", "team-", false},
        {"team-?", "team-ab", false},
        {"?", "", false},
        {"?", "x", true},
        {"??", "x", false},
        {"?*", "x", true},
        {"?*", "", false},
        {"*?", "xyz", true},
        {"a?c", "abc", true},
        {"a?c", "ac", false},
        {"?-?", "a-b", true},
    };

    CHECK_CASES(c);
}

static void glob_match__several_stars__backtracks(void **state)
{
    static const struct glob_case c[] = {
        {"a*b*c", "abc", true},       {"a*b*c", "aXbYc", true},
        {"a*b*c", "abbbcbc", true},   {"a*b*c", "acb", false},
        {"*a*b", "xaxbxab", true},    {"*a*b", "xaxbxa", false},
        {"*?*?*", "ab", true},        {"*?*?*", "a", false},
        {"a*a*a", "aaa", true},       {"a*a*a", "aa", false},
        {"*-*-*", "eu-west-1", true}, {"*-*-*", "eu-west", false},
    };

    CHECK_CASES(c);
}

static void glob_match__literal_star_in_text__matched_by_wildcard(void **state)
{
    /* A '*' or '?' in the text is an ordinary character. */
    assert_true(glob_match("a*", "a*b"));
    assert_true(glob_match("a?b", "a*b"));
    assert_false(glob_match("a", "*"));
}

static void glob_match__pathological__finishes(void **state)
{
    size_t n = 10000;
    char *s = malloc(n + 2);

    memset(s, 'a', n);
    s[n] = '\0';
    assert_false(glob_match("a*a*a*a*a*b", s));
    assert_true(glob_match("a*a*a*a*a*", s));
    assert_false(glob_match("*a*a*a*a*a*a*a*a*a*a*a*a*b", s));
    assert_true(glob_match("*a*a*a*a*a*a*a*a*a*a*a*a*a", s));
    assert_false(glob_match("*?*?*?*?*?*?*?*?*?*?*b", s));
    s[n] = 'b';
    s[n + 1] = '\0';
    assert_true(glob_match("a*a*a*a*a*b", s));
    free(s);
}

static void glob_is_pattern__wildcards__detected(void **state)
{
    assert_true(glob_is_pattern("*"));
    assert_true(glob_is_pattern("team-*"));
    assert_true(glob_is_pattern("team-?"));
    assert_false(glob_is_pattern("team-a"));
    assert_false(glob_is_pattern(""));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(glob_match__no_wildcards__exact_only),
        cmocka_unit_test(glob_match__star_alone__matches_everything),
        cmocka_unit_test(glob_match__prefix_suffix_infix_stars__anchored),
        cmocka_unit_test(glob_match__question_mark__exactly_one_character),
        cmocka_unit_test(glob_match__several_stars__backtracks),
        cmocka_unit_test(glob_match__literal_star_in_text__matched_by_wildcard),
        cmocka_unit_test(glob_match__pathological__finishes),
        cmocka_unit_test(glob_is_pattern__wildcards__detected),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
