/*
 * test_assert.h - substring asserts that print both sides, for checking
 * error messages without pinning their every word.
 *
 * Include after test_util.h (which brings in cmocka).
 */
#ifndef ECR_RENEW_TEST_ASSERT_H
#define ECR_RENEW_TEST_ASSERT_H

#include "test_util.h"

#include <stdbool.h>
#include <string.h>

static inline void test_check_contains(const char *hay, const char *needle,
                                       bool want, const char *file, int line)
{
    bool found = hay && strstr(hay, needle) != NULL;

    if (found == want)
        return;
    print_error("\"%s\" %s \"%s\"\n", hay ? hay : "(null)",
                want ? "does not contain" : "contains", needle);
    _fail(file, line);
}

#define assert_contains(hay, needle)                                           \
    test_check_contains((hay), (needle), true, __FILE__, __LINE__)
#define assert_not_contains(hay, needle)                                       \
    test_check_contains((hay), (needle), false, __FILE__, __LINE__)

#endif
