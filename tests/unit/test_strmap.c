/*
 * The string map: put, get, replace, remove, iterate, grow through many
 * keys and many removals.
 */
#include "core/strmap.h"
#include "test_assert.h"
#include "test_util.h"

#include <stdio.h>
#include <stdlib.h>

static void strmap__put_get_replace_remove(void **state)
{
    struct strmap m = STRMAP_INIT;
    int a = 1, b = 2;

    (void)state;
    assert_null(strmap_get(&m, "x"));
    assert_null(strmap_put(&m, "x", &a));
    assert_ptr_equal(strmap_get(&m, "x"), &a);
    assert_ptr_equal(strmap_put(&m, "x", &b), &a);
    assert_int_equal(strmap_size(&m), 1);
    assert_ptr_equal(strmap_remove(&m, "x"), &b);
    assert_null(strmap_get(&m, "x"));
    assert_null(strmap_remove(&m, "x"));
    assert_int_equal(strmap_size(&m), 0);
    strmap_free(&m);
}

static void strmap__many_keys_and_removals__all_found(void **state)
{
    struct strmap m = STRMAP_INIT;
    char key[32];
    size_t pos = 0, seen = 0;
    const char *k;
    void *v;

    (void)state;
    for (long i = 0; i < 5000; i++) {
        snprintf(key, sizeof(key), "ns-%ld", i);
        strmap_put(&m, key, (void *)(i + 1));
    }
    for (long i = 0; i < 5000; i += 2) {
        snprintf(key, sizeof(key), "ns-%ld", i);
        assert_ptr_equal(strmap_remove(&m, key), (void *)(i + 1));
    }
    for (long i = 0; i < 5000; i++) {
        snprintf(key, sizeof(key), "ns-%ld", i);
        if (i % 2)
            assert_ptr_equal(strmap_get(&m, key), (void *)(i + 1));
        else
            assert_null(strmap_get(&m, key));
    }
    while (strmap_next(&m, &pos, &k, &v))
        seen++;
    assert_int_equal(seen, 2500);
    assert_int_equal(strmap_size(&m), 2500);
    strmap_free(&m);
}

static void strmap__churn__does_not_fill_with_tombstones(void **state)
{
    struct strmap m = STRMAP_INIT;
    char key[32];

    (void)state;
    for (long i = 0; i < 100000; i++) {
        snprintf(key, sizeof(key), "k%ld", i);
        strmap_put(&m, key, &m);
        strmap_remove(&m, key);
    }
    assert_true(m.cap <= 64);
    strmap_free(&m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(strmap__put_get_replace_remove),
        cmocka_unit_test(strmap__many_keys_and_removals__all_found),
        cmocka_unit_test(strmap__churn__does_not_fill_with_tombstones),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
