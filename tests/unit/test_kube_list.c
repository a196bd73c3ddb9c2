/*
 * One page of a list answer: items, the continue token, the
 * resourceVersion to watch from, and answers that are not lists.
 */
#include "core/wipe.h"
#include "kube/client.h"
#include "test_assert.h"
#include "test_util.h"

#include <stdlib.h>
#include <string.h>

struct seen {
    char names[8][32];
    int n;
    int restarts;
};

static enum er_code collect(void *ctx, json_t *item, struct er_error *err)
{
    struct seen *s = ctx;
    const char *name;

    (void)err;
    if (!item) {
        s->restarts++;
        s->n = 0;
        return ER_OK;
    }
    name = json_string_value(
        json_object_get(json_object_get(item, "metadata"), "name"));
    snprintf(s->names[s->n++], sizeof(s->names[0]), "%s", name ? name : "?");
    return ER_OK;
}

static enum er_code page(const char *json, struct seen *s, char **cont,
                         char **rv, struct er_error *err)
{
    return kube_list_page(json, strlen(json), collect, s, cont, rv, err);
}

static void kube_list_page__items_continue_rv(void **state)
{
    struct seen s = {0};
    char *cont = NULL, *rv = NULL;
    struct er_error err;

    (void)state;
    assert_int_equal(
        page("{\"kind\":\"NamespaceList\",\"metadata\":{\"resourceVersion\":"
             "\"1387\",\"continue\":\"abc\",\"remainingItemCount\":3},"
             "\"items\":[{\"metadata\":{\"name\":\"a\"}},{\"metadata\":{"
             "\"name\":\"b\"}}]}",
             &s, &cont, &rv, &err),
        ER_OK);
    assert_int_equal(s.n, 2);
    assert_string_equal(s.names[1], "b");
    assert_string_equal(cont, "abc");
    assert_string_equal(rv, "1387");
    free(cont);
    free(rv);
}

static void kube_list_page__last_page__no_continue(void **state)
{
    struct seen s = {0};
    char *cont = NULL, *rv = NULL;
    struct er_error err;

    (void)state;
    assert_int_equal(page("{\"metadata\":{\"resourceVersion\":\"9\","
                          "\"continue\":\"\"},\"items\":[]}",
                          &s, &cont, &rv, &err),
                     ER_OK);
    assert_null(cont);
    assert_string_equal(rv, "9");
    assert_int_equal(s.n, 0);
    free(rv);
}

static void kube_list_page__not_a_list__parse_error(void **state)
{
    struct seen s = {0};
    char *cont = NULL, *rv = NULL;
    struct er_error err;

    (void)state;
    assert_int_equal(page("<html>", &s, &cont, &rv, &err), ER_PARSE);
    assert_contains(err.msg, "the list answer is not JSON");
    assert_int_equal(page("{\"items\":{}}", &s, &cont, &rv, &err), ER_PARSE);
    assert_contains(err.msg, "items are not a list");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(kube_list_page__items_continue_rv),
        cmocka_unit_test(kube_list_page__last_page__no_continue),
        cmocka_unit_test(kube_list_page__not_a_list__parse_error),
    };
    wipe_install_allocators();
    return cmocka_run_group_tests(tests, NULL, NULL);
}
