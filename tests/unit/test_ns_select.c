/*
 * Which namespaces sync and run serve: names, globs, excludes, the label
 * selector, the exclude annotation and namespaces being deleted.
 */
#include "kube/ns_select.h"
#include "test_assert.h"
#include "test_util.h"

#include <stdlib.h>
#include <string.h>

/* Builds a selection from comma lists ("" for none). */
static enum er_code make(struct ns_selection *sel, const char *patterns,
                         const char *excludes, const char *selector,
                         struct er_error *err)
{
    struct str_list p = {0}, e = {0};
    enum er_code rc;

    str_list_add_split(&p, patterns, ',');
    str_list_add_split(&e, excludes, ',');
    rc = ns_selection_init(sel, &p, &e, selector, err);
    str_list_clear(&p);
    str_list_clear(&e);
    return rc;
}

static json_t *ns_obj(const char *json)
{
    json_error_t jerr;
    json_t *v = json_loads(json, 0, &jerr);

    if (!v)
        fail_msg("bad test JSON: %s", jerr.text);
    return v;
}

static enum ns_verdict judge(const struct ns_selection *sel, const char *json,
                             const char **why)
{
    json_t *ns = ns_obj(json);
    enum ns_verdict v = ns_selection_judge(sel, ns, why);

    json_decref(ns);
    return v;
}

static void init__nothing_given__runtime_by_name_no_list(void **state)
{
    struct ns_selection sel;
    struct er_error err = {0};

    (void)state;
    assert_int_equal(make(&sel, "", "", NULL, &err), ER_OK);
    assert_false(ns_selection_needs_list(&sel));
    assert_int_equal(sel.names.n, 1);
    assert_string_equal(sel.names.items[0], "runtime");
    assert_null(ns_selection_query(&sel));
    ns_selection_free(&sel);
}

static void init__selector_alone__every_matching_namespace(void **state)
{
    struct ns_selection sel;
    struct er_error err = {0};
    const char *why;

    (void)state;
    assert_int_equal(make(&sel, "", "", "team=a", &err), ER_OK);
    assert_true(ns_selection_needs_list(&sel));
    assert_int_equal(sel.names.n, 0);
    assert_int_equal(
        judge(&sel,
              "{\"metadata\":{\"name\":\"x\",\"labels\":{\"team\":\"a\"}}}",
              &why),
        NS_SELECTED);
    assert_int_equal(
        judge(&sel, "{\"metadata\":{\"name\":\"runtime\",\"labels\":{}}}",
              &why),
        NS_NOT_SELECTED);
    ns_selection_free(&sel);
}

static void init__exact_names__no_list_needed(void **state)
{
    struct ns_selection sel;
    struct er_error err = {0};

    (void)state;
    assert_int_equal(make(&sel, "runtime,team-a", "team-a", NULL, &err), ER_OK);
    assert_false(ns_selection_needs_list(&sel));
    assert_int_equal(ns_selection_judge_name(&sel, "runtime"), NS_SELECTED);
    assert_int_equal(ns_selection_judge_name(&sel, "team-a"), NS_EXCLUDED);
    assert_int_equal(ns_selection_judge_name(&sel, "other"), NS_NOT_SELECTED);
    ns_selection_free(&sel);
}

static void init__globs__need_list_and_match(void **state)
{
    struct ns_selection sel;
    struct er_error err = {0};

    (void)state;
    assert_int_equal(make(&sel, "team-*,app?", "*-test", NULL, &err), ER_OK);
    assert_true(ns_selection_needs_list(&sel));
    assert_int_equal(ns_selection_judge_name(&sel, "team-a"), NS_SELECTED);
    assert_int_equal(ns_selection_judge_name(&sel, "app1"), NS_SELECTED);
    assert_int_equal(ns_selection_judge_name(&sel, "app12"), NS_NOT_SELECTED);
    assert_int_equal(ns_selection_judge_name(&sel, "team-a-test"), NS_EXCLUDED);
    ns_selection_free(&sel);
}

static void init__bad_values__usage_error_naming_them(void **state)
{
    struct ns_selection sel;
    struct er_error err = {0};

    (void)state;
    assert_int_equal(make(&sel, "Team_A", "", NULL, &err), ER_USAGE);
    assert_contains(err.msg, "--namespace \"Team_A\"");
    err = (struct er_error){0};
    assert_int_equal(make(&sel, "a", "ba/d", NULL, &err), ER_USAGE);
    assert_contains(err.msg, "--exclude-namespace \"ba/d\"");
    err = (struct er_error){0};
    assert_int_equal(make(&sel, "a", "", "a in (x", &err), ER_USAGE);
    assert_contains(err.msg, "--namespace-selector");
}

static void query__selector__encoded_label_selector(void **state)
{
    struct ns_selection sel;
    struct er_error err = {0};
    char *q;

    (void)state;
    assert_int_equal(make(&sel, "*", "", "env in (prod,dev),!skip", &err),
                     ER_OK);
    q = ns_selection_query(&sel);
    assert_non_null(q);
    assert_contains(q, "labelSelector=");
    assert_not_contains(q, " ");
    assert_not_contains(q, "(");
    free(q);
    ns_selection_free(&sel);
}

static void
judge__annotation_and_terminating__excluded_with_reason(void **state)
{
    struct ns_selection sel;
    struct er_error err = {0};
    const char *why;

    (void)state;
    assert_int_equal(make(&sel, "*", "kube-*", NULL, &err), ER_OK);
    assert_int_equal(judge(&sel,
                           "{\"metadata\":{\"name\":\"a\",\"annotations\":"
                           "{\"ecr-renew/exclude\":\"true\"}}}",
                           &why),
                     NS_EXCLUDED);
    assert_contains(why, "ecr-renew/exclude");
    /* Only "true" excludes. */
    assert_int_equal(judge(&sel,
                           "{\"metadata\":{\"name\":\"a\",\"annotations\":"
                           "{\"ecr-renew/exclude\":\"false\"}}}",
                           &why),
                     NS_SELECTED);
    assert_int_equal(judge(&sel,
                           "{\"metadata\":{\"name\":\"a\"},"
                           "\"status\":{\"phase\":\"Terminating\"}}",
                           &why),
                     NS_TERMINATING);
    assert_int_equal(
        judge(&sel,
              "{\"metadata\":{\"name\":\"a\",\"deletionTimestamp\":"
              "\"2026-01-01T00:00:00Z\"}}",
              &why),
        NS_TERMINATING);
    assert_int_equal(
        judge(&sel, "{\"metadata\":{\"name\":\"kube-system\"}}", &why),
        NS_EXCLUDED);
    assert_contains(why, "--exclude-namespace");
    assert_int_equal(judge(&sel, "{\"metadata\":{}}", &why), NS_NOT_SELECTED);
    ns_selection_free(&sel);
}

static void judge__selector_and_name__both_must_hold(void **state)
{
    struct ns_selection sel;
    struct er_error err = {0};
    const char *why;

    (void)state;
    assert_int_equal(make(&sel, "team-*", "", "tier!=db", &err), ER_OK);
    assert_int_equal(
        judge(&sel, "{\"metadata\":{\"name\":\"team-a\",\"labels\":{}}}", &why),
        NS_SELECTED);
    assert_int_equal(judge(&sel,
                           "{\"metadata\":{\"name\":\"team-a\",\"labels\":"
                           "{\"tier\":\"db\"}}}",
                           &why),
                     NS_NOT_SELECTED);
    assert_int_equal(
        judge(&sel, "{\"metadata\":{\"name\":\"other\",\"labels\":{}}}", &why),
        NS_NOT_SELECTED);
    ns_selection_free(&sel);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(init__nothing_given__runtime_by_name_no_list),
        cmocka_unit_test(init__selector_alone__every_matching_namespace),
        cmocka_unit_test(init__exact_names__no_list_needed),
        cmocka_unit_test(init__globs__need_list_and_match),
        cmocka_unit_test(init__bad_values__usage_error_naming_them),
        cmocka_unit_test(query__selector__encoded_label_selector),
        cmocka_unit_test(
            judge__annotation_and_terminating__excluded_with_reason),
        cmocka_unit_test(judge__selector_and_name__both_must_hold),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
