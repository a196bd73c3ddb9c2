/*
 * Label selectors: apimachinery's grammar, its matching rules, and a
 * canonical form that parses back to itself.
 */
#include "core/buf.h"
#include "core/strutil.h"
#include "kube/selector.h"
#include "test_assert.h"
#include "test_util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static struct kube_selector *parse_ok(const char *text)
{
    struct kube_selector *s = NULL;
    struct er_error err;

    er_clear(&err);
    if (kube_selector_parse(text, &s, &err) != ER_OK)
        fail_msg("\"%s\" was refused: %s", text, err.msg);
    return s;
}

/* The canonical form of text, newly allocated. */
static char *canonical(const char *text)
{
    struct kube_selector *s = parse_ok(text);
    char *c = kube_selector_string(s);

    kube_selector_free(s);
    return c;
}

static void expect_canonical(const char *text, const char *want)
{
    char *c = canonical(text);

    if (strcmp(c, want) != 0)
        fail_msg("\"%s\" became \"%s\", not \"%s\"", text, c, want);
    free(c);
}

/* Refused as ER_USAGE with a message containing needle; *out untouched. */
static void expect_error(const char *text, const char *needle)
{
    struct kube_selector *s = (struct kube_selector *)&s;
    struct er_error err;

    er_clear(&err);
    if (kube_selector_parse(text, &s, &err) != ER_USAGE)
        fail_msg("\"%s\" was not refused as a usage error", text);
    assert_ptr_equal(s, (struct kube_selector *)&s);
    assert_contains(err.msg, needle);
    assert_true(str_has_no_controls(err.msg));
}

static void kube_selector_parse__every_operator__canonical(void **state)
{
    static const char *const cases[][2] = {
        {"env", "env"},
        {"!legacy", "!legacy"},
        {"env=prod", "env=prod"},
        {"env==prod", "env=prod"},
        {"env!=prod", "env!=prod"},
        {"env in (prod,staging)", "env in (prod,staging)"},
        {"env notin (staging,prod)", "env notin (prod,staging)"},
        {"env in (b,a,b,a)", "env in (a,b)"},
        {"env in (prod)", "env in (prod)"},
        {"example.com/team=a", "example.com/team=a"},
        {"k8s.io-x/Name_1.x-Y=Val_1.x-Z", "k8s.io-x/Name_1.x-Y=Val_1.x-Z"},
        {"in in (in,notin)", "in in (in,notin)"},
        {"notin notin (notin)", "notin notin (notin)"},
    };

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        expect_canonical(cases[i][0], cases[i][1]);
}

static void kube_selector_parse__empty_values__as_apimachinery(void **state)
{
    expect_canonical("env=", "env=");
    expect_canonical("env==", "env=");
    expect_canonical("env!=", "env!=");
    expect_canonical("env=,team", "env=,team");
    expect_canonical("env in ()", "env in ()");
    expect_canonical("env in (,)", "env in ()");
    expect_canonical("env in (,a)", "env in (,a)");
    expect_canonical("env notin (a,,b,)", "env notin (,a,b)");
}

static void kube_selector_parse__several__sorted_by_key(void **state)
{
    expect_canonical("tier!=cache,env in (staging,prod),!legacy,team",
                     "env in (prod,staging),!legacy,team,tier!=cache");
    expect_canonical("b,a", "a,b");
    expect_canonical("a!=x,a=y,!a,a", "a,!a,a=y,a!=x");
    expect_canonical("a in (y),a in (x)", "a in (x),a in (y)");
    expect_canonical("a,a,a=b,a==b", "a,a=b"); /* repeats said once */
}

static void kube_selector_parse__blanks__are_delimiters(void **state)
{
    expect_canonical(" \t env \t in \t ( prod , staging ) \t, \t team \t",
                     "env in (prod,staging),team");
    expect_canonical("env = prod", "env=prod");
    expect_canonical("env\t==\tprod", "env=prod");
    expect_canonical("env != prod , ! legacy", "env!=prod,!legacy");
    expect_canonical("env in(prod)", "env in (prod)");
    expect_canonical("env notin(a)", "env notin (a)");
    expect_canonical("   ", "");
    expect_canonical("\t", "");
}

static void kube_selector_parse__syntax_errors__refused(void **state)
{
    static const char *const cases[][2] = {
        {"a,,b", "a requirement is empty (a ',' at either end, or two in a "
                 "row) (at character 3)"},
        {"a,", "a requirement is empty"},
        {",a", "(at character 1)"},
        {" , ", "a requirement is empty"},
        {"a in (b", "the list of values after \"in\" is not closed with ')' "
                    "(at character 8)"},
        {"a notin (b c)",
         "expected ',' or ')' in the list of values after \"notin\", found "
         "\"c\""},
        {"a in (b,(c))", "found \"(\""},
        {"a in b", "\"in\" needs a parenthesised list of values"},
        {"a in", "needs a parenthesised list of values (at character 5)"},
        {"a b", "expected an operator (in, notin, =, == or !=) or ',' after "
                "the key, found \"b\" (at character 3)"},
        {"a=b c", "expected ',' or the end after a requirement, found \"c\""},
        {"a=b=c", "found \"=\""},
        {"a=(b)", "expected a value after the operator, found \"(\""},
        {"a=!b", "found \"!\""},
        {"a>1", "the \">\" operator is not supported"},
        {"a<1", "the \"<\" operator is not supported"},
        {"!a=b", "'!' takes a bare key"},
        {"!a in (b)", "'!' takes a bare key"},
        {"!", "expected a label key after '!', found the end"},
        {"!!a", "expected a label key after '!', found \"!\""},
        {"=a", "expected a label key, found \"=\" (at character 1)"},
        {"(a)", "expected a label key, found \"(\""},
        {"a,b c", "(at character 5)"},
    };

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        expect_error(cases[i][0], cases[i][1]);
}

static void kube_selector_parse__env_in_prod__whole_message(void **state)
{
    struct kube_selector *s = NULL;
    struct er_error err;

    assert_int_equal(kube_selector_parse("env in prod", &s, &err), ER_USAGE);
    assert_string_equal(err.msg, "label selector \"env in prod\": \"in\" needs "
                                 "a parenthesised list of values (at "
                                 "character 8)");
    assert_null(s);
}

static void kube_selector_parse__bad_keys__refused(void **state)
{
    static const char *const cases[][2] = {
        {"-a", "label key \"-a\" is not valid"},
        {"a-", "label key \"a-\" is not valid"},
        {"a.b_c-", "is not valid"},
        {"_a", "is not valid"},
        {"a/", "label key \"a/\" is not valid"},
        {"a/b/c", "label key \"a/b/c\" is not valid"},
        {"/a", "the prefix of label key \"/a\" must be a DNS subdomain"},
        {"Example.com/a", "must be a DNS subdomain"},
        {"ex_ample.com/a", "must be a DNS subdomain"},
        {"-x.com/a", "must be a DNS subdomain"},
        {"a\xc3\xa9=1", "is not valid"},
        {"a\nb", "is not valid"},
        {"a\rb=c", "is not valid"},
    };

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        expect_error(cases[i][0], cases[i][1]);
}

static void kube_selector_parse__key_lengths__limited(void **state)
{
    char name[80], text[400];

    memset(name, 'n', 63);
    name[63] = '\0';
    snprintf(text, sizeof(text), "%s", name);
    kube_selector_free(parse_ok(text));
    snprintf(text, sizeof(text), "example.com/%s", name);
    kube_selector_free(parse_ok(text));
    snprintf(text, sizeof(text), "%sn", name);
    expect_error(text, "is longer than 63 characters");
    snprintf(text, sizeof(text), "example.com/%sn", name);
    expect_error(text, "the name of label key \"example.com/nnn");

    /* A 253-character prefix is a subdomain; 254 is not. */
    memset(text, 'p', 253);
    for (size_t i = 60; i < 253; i += 61)
        text[i] = '.';
    snprintf(text + 253, sizeof(text) - 253, "/a");
    kube_selector_free(parse_ok(text));
    memmove(text + 1, text, strlen(text) + 1);
    expect_error(text, "must be a DNS subdomain");
}

static void kube_selector_parse__bad_values__refused(void **state)
{
    static const char *const cases[][2] = {
        {"a=-b", "label value \"-b\" is not valid"},
        {"a=b-", "label value \"b-\" is not valid"},
        {"a!=.b", "is not valid"},
        {"a=b/c", "label value \"b/c\" is not valid"},
        {"a=b\x01", "letter or digit (at character 3)"},
        {"a in (x,-y)", "label value \"-y\" is not valid"},
        {"a notin (x,y_)", "label value \"y_\""},
        {"a in (x,-y)", "letter or digit (at character 9)"},
    };
    char text[100];

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        expect_error(cases[i][0], cases[i][1]);
    snprintf(text, sizeof(text), "a=%063d", 7);
    kube_selector_free(parse_ok(text));
    snprintf(text, sizeof(text), "a=%064d", 7);
    expect_error(text, "label value \"0000");
    expect_error(text, "is longer than 63 characters (at character 3)");
}

/* "k0,k1,...": n requirements. */
static char *many_requirements(size_t n)
{
    struct buf b;

    buf_init(&b, BUF_DEFAULT_CAP, BUF_PLAIN);
    for (size_t i = 0; i < n; i++)
        buf_must_addf(&b, "%sk%zu", i ? "," : "", i);
    return buf_detach(&b, NULL);
}

/* "k in (v0,v1,...)": n values. */
static char *many_values(size_t n)
{
    struct buf b;

    buf_init(&b, BUF_DEFAULT_CAP, BUF_PLAIN);
    buf_must_adds(&b, "k in (");
    for (size_t i = 0; i < n; i++)
        buf_must_addf(&b, "%sv%zu", i ? "," : "", i);
    buf_must_adds(&b, ")");
    return buf_detach(&b, NULL);
}

static void kube_selector_parse__counts__limited(void **state)
{
    char *t = many_requirements(64);
    char commas[320];

    kube_selector_free(parse_ok(t));
    free(t);
    t = many_requirements(65);
    expect_error(t, "more than 64 requirements");
    free(t);
    t = many_values(256);
    kube_selector_free(parse_ok(t));
    free(t);
    t = many_values(257);
    expect_error(t, "the list after \"in\" has more than 256 values");
    free(t);
    /* Empty values count as written: "k in (,,,...)". */
    memcpy(commas, "k in (", 6);
    memset(commas + 6, ',', 300);
    memcpy(commas + 306, ")", 2);
    expect_error(commas, "more than 256 values");
}

static void kube_selector_parse__length__limited(void **state)
{
    char *t = malloc(KUBE_SELECTOR_MAX_BYTES + 2);
    char *c;

    /* Blanks, then "a=b": as long as allowed. */
    memset(t, ' ', KUBE_SELECTOR_MAX_BYTES);
    memcpy(t + KUBE_SELECTOR_MAX_BYTES - 3, "a=b", 3);
    t[KUBE_SELECTOR_MAX_BYTES] = '\0';
    c = canonical(t);
    assert_string_equal(c, "a=b");
    free(c);
    t[KUBE_SELECTOR_MAX_BYTES] = ' ';
    t[KUBE_SELECTOR_MAX_BYTES + 1] = '\0';
    expect_error(t, "label selector is too long: more than 4096 bytes");
    free(t);
}

/* 64 requirements "kNN in(...)" of 63 bytes: 4095 bytes, whose canonical
 * form gains a blank in each, so it would not parse back. */
static void kube_selector_parse__canonical_too_long__refused(void **state)
{
    struct buf b;
    char *t;

    buf_init(&b, BUF_DEFAULT_CAP, BUF_PLAIN);
    for (int i = 0; i < 64; i++)
        buf_must_addf(&b, "%sk%02d in(%055d)", i ? "," : "", i, i);
    assert_int_equal(b.len, 4095);
    t = buf_detach(&b, NULL);
    expect_error(t, "its canonical form has 4159 bytes, more than the 4096");
    t[4] = 'n'; /* "k00 nn(": no longer a set */
    expect_error(t, "expected an operator");
    free(t);
}

static void kube_selector_parse__long_text__quoted_cut(void **state)
{
    char text[400];
    struct kube_selector *s = NULL;
    struct er_error err;

    memset(text, 'a', 300);
    snprintf(text + 300, sizeof(text) - 300, " b");
    assert_int_equal(kube_selector_parse(text, &s, &err), ER_USAGE);
    assert_contains(err.msg, "label selector \"aaaa");
    assert_contains(err.msg, "aaa...\": ");
    assert_true(strlen(err.msg) < 500);
}

struct match_case {
    const char *selector;
    const char *labels; /* JSON, or NULL */
    bool want;
};

static const struct match_case match_cases[] = {
    {"", NULL, true},
    {"", "{}", true},
    {"", "{\"env\":\"prod\"}", true},
    {"env", "{\"env\":\"prod\"}", true},
    {"env", "{\"env\":\"\"}", true},
    {"env", "{\"team\":\"a\"}", false},
    {"env", NULL, false},
    {"!env", "{\"env\":\"prod\"}", false},
    {"!env", "{\"team\":\"a\"}", true},
    {"!env", NULL, true},
    {"env=prod", "{\"env\":\"prod\"}", true},
    {"env=prod", "{\"env\":\"staging\"}", false},
    {"env=prod", "{\"env\":\"Prod\"}", false},
    {"env=prod", "{}", false},
    {"env=", "{\"env\":\"\"}", true},
    {"env=", "{}", false},
    {"env!=prod", "{\"env\":\"prod\"}", false},
    {"env!=prod", "{\"env\":\"staging\"}", true},
    {"env!=prod", "{}", true},
    {"env!=prod", NULL, true},
    {"env in (prod,staging)", "{\"env\":\"staging\"}", true},
    {"env in (prod,staging)", "{\"env\":\"dev\"}", false},
    {"env in (prod,staging)", "{}", false},
    {"env in ()", "{\"env\":\"\"}", true},
    {"env notin (prod,staging)", "{\"env\":\"prod\"}", false},
    {"env notin (prod,staging)", "{\"env\":\"dev\"}", true},
    {"env notin (prod,staging)", "{}", true},
    {"env notin (prod)", NULL, true},
    {"example.com/team=a", "{\"example.com/team\":\"a\"}", true},
    {"example.com/team=a", "{\"team\":\"a\"}", false},
    {"env=prod,team", "{\"env\":\"prod\",\"team\":\"a\"}", true},
    {"env=prod,team", "{\"env\":\"prod\"}", false},
    {"env=prod,!legacy", "{\"env\":\"prod\",\"legacy\":\"1\"}", false},
    {"env in (a),env notin (a)", "{\"env\":\"a\"}", false},
    /* Not a string: present, and equal to no listed value. */
    {"env", "{\"env\":1}", true},
    {"env=1", "{\"env\":1}", false},
    {"env!=1", "{\"env\":1}", true},
    {"env notin (1)", "{\"env\":null}", true},
    /* labels that are not an object hold no label. */
    {"env", "[\"env\"]", false},
    {"!env", "\"env\"", true},
};

static void kube_selector_matches__truth_table(void **state)
{
    for (size_t i = 0; i < sizeof(match_cases) / sizeof(match_cases[0]); i++) {
        const struct match_case *c = &match_cases[i];
        struct kube_selector *s = parse_ok(c->selector);
        json_t *labels = NULL;

        if (c->labels)
            labels = json_loads(c->labels, JSON_DECODE_ANY, NULL);
        assert_true(!c->labels || labels);
        if (kube_selector_matches(s, labels) != c->want)
            fail_msg("\"%s\" on %s should be %s", c->selector,
                     c->labels ? c->labels : "(none)",
                     c->want ? "true" : "false");
        json_decref(labels);
        kube_selector_free(s);
    }
}

static void kube_selector_string__round_trip__stable(void **state)
{
    static const char *const cases[] = {
        "",
        "a",
        " ! a , b == c , d != , e in ( , x , w ) , f notin (z,y,x)",
        "in in (in),notin notin (notin),in=notin",
        "example.com/a.b_c-d=Val.1_2-3,x.y/z",
        "z,y,x,w!=v,w=v,!w,w in (v),w notin (v)",
    };

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char *once = canonical(cases[i]);
        char *twice = canonical(once);

        assert_string_equal(once, twice);
        free(once);
        free(twice);
    }
}

static void kube_selector_is_empty__cases(void **state)
{
    struct kube_selector *s = parse_ok("");

    assert_true(kube_selector_is_empty(s));
    kube_selector_free(s);
    s = parse_ok(" \t ");
    assert_true(kube_selector_is_empty(s));
    kube_selector_free(s);
    s = parse_ok("a");
    assert_false(kube_selector_is_empty(s));
    kube_selector_free(s);
    kube_selector_free(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(kube_selector_parse__every_operator__canonical),
        cmocka_unit_test(kube_selector_parse__empty_values__as_apimachinery),
        cmocka_unit_test(kube_selector_parse__several__sorted_by_key),
        cmocka_unit_test(kube_selector_parse__blanks__are_delimiters),
        cmocka_unit_test(kube_selector_parse__syntax_errors__refused),
        cmocka_unit_test(kube_selector_parse__env_in_prod__whole_message),
        cmocka_unit_test(kube_selector_parse__bad_keys__refused),
        cmocka_unit_test(kube_selector_parse__key_lengths__limited),
        cmocka_unit_test(kube_selector_parse__bad_values__refused),
        cmocka_unit_test(kube_selector_parse__counts__limited),
        cmocka_unit_test(kube_selector_parse__length__limited),
        cmocka_unit_test(kube_selector_parse__canonical_too_long__refused),
        cmocka_unit_test(kube_selector_parse__long_text__quoted_cut),
        cmocka_unit_test(kube_selector_matches__truth_table),
        cmocka_unit_test(kube_selector_string__round_trip__stable),
        cmocka_unit_test(kube_selector_is_empty__cases),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
