/*
 * JSON from peers is parsed under a memory budget: a small document of
 * tiny objects cannot grow into a huge tree, and errors never quote it.
 */
#include "core/buf.h"
#include "core/json_limit.h"
#include "core/wipe.h"
#include "core/xalloc.h"
#include "test_assert.h"
#include "test_util.h"

#include <stdlib.h>
#include <string.h>

static int setup(void **state)
{
    (void)state;
    wipe_install_allocators();
    return 0;
}

static void json_limit_parse__real_document__parsed(void **state)
{
    const char *doc = "{\"a\":[1,2,{\"b\":\"c\"}]}";
    json_t *root = NULL;
    struct er_error err;

    (void)state;
    assert_int_equal(
        json_limit_parse(doc, strlen(doc), 64 * 1024, "answer", &root, &err),
        ER_OK);
    assert_string_equal(
        json_string_value(json_object_get(
            json_array_get(json_object_get(root, "a"), 2), "b")),
        "c");
    json_decref(root);
}

/* 1 MB of "{}," is ~330,000 objects: hundreds of MB as a tree. */
static void json_limit_parse__tiny_objects__refused_within_budget(void **s)
{
    size_t n = 1000 * 1000, i;
    char *doc = xmalloc(n + 2);
    json_t *root = NULL;
    struct er_error err;

    (void)s;
    doc[0] = '[';
    for (i = 1; i + 3 < n; i += 3)
        memcpy(doc + i, "{},", 3);
    memcpy(doc + i, "{}]", 3);
    doc[i + 3] = '\0';
    assert_int_equal(json_limit_parse(doc, strlen(doc), 4 * 1024 * 1024,
                                      "ECR answer", &root, &err),
                     ER_PARSE);
    assert_null(root);
    assert_contains(err.msg, "ECR answer is too complex");
    free(doc);
}

/* jansson cannot survive an allocation failing in its lexer (it
 * asserts): a document near the budget must be refused before it runs. */
static void json_limit_parse__near_the_budget__refused_not_aborted(void **s)
{
    struct buf doc = BUF_INIT;
    json_t *root = NULL;
    struct er_error err;

    (void)s;
    buf_must_adds(&doc, "[");
    for (int i = 0; i < 1270; i++)
        buf_must_adds(&doc, "{},");
    buf_must_adds(&doc, "1234567890123456789012345678901234567890]");
    assert_int_equal(
        json_limit_parse(doc.data, doc.len, 64 * 1024, "Status", &root, &err),
        ER_PARSE);
    assert_contains(err.msg, "too complex");
    buf_free(&doc);
}

static void json_limit_parse__syntax_error__position_not_text(void **state)
{
    const char *doc = "{\"password\": \"hunter2\" oops}";
    json_t *root = NULL;
    struct er_error err;

    (void)state;
    assert_int_equal(
        json_limit_parse(doc, strlen(doc), 64 * 1024, "Secret", &root, &err),
        ER_PARSE);
    assert_contains(err.msg, "Secret is not JSON (line 1, column");
    assert_not_contains(err.msg, "hunter2");
    assert_int_equal(json_limit_parse("", 0, 1024, "Secret", &root, &err),
                     ER_PARSE);
    assert_contains(err.msg, "empty");
}

static void json_limit_parse__after_budget__allocations_normal(void **s)
{
    json_t *big = json_array();

    (void)s;
    /* The budget of a failed parse must not linger on the thread. */
    for (int i = 0; i < 100000; i++)
        assert_int_equal(json_array_append_new(big, json_object()), 0);
    json_decref(big);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(json_limit_parse__real_document__parsed),
        cmocka_unit_test(json_limit_parse__tiny_objects__refused_within_budget),
        cmocka_unit_test(json_limit_parse__syntax_error__position_not_text),
        cmocka_unit_test(
            json_limit_parse__near_the_budget__refused_not_aborted),
        cmocka_unit_test(json_limit_parse__after_budget__allocations_normal),
    };
    return cmocka_run_group_tests(tests, setup, NULL);
}
