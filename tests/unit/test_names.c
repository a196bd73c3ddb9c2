/*
 * The DNS-1123 name rules for namespaces and Secret names.
 */
#include "kube/names.h"
#include "test_assert.h"

static void kube_name_is_label__dns1123_rules(void **s)
{
    (void)s;
    assert_true(kube_name_is_label("runtime"));
    assert_true(kube_name_is_label("team-a1"));
    assert_false(kube_name_is_label("Team"));
    assert_false(kube_name_is_label("-a"));
    assert_false(kube_name_is_label("a-"));
    assert_false(kube_name_is_label("a.b"));
    assert_false(kube_name_is_label(""));
    assert_false(kube_name_is_label(
        "a234567890123456789012345678901234567890123456789012345678901234"));
    assert_true(kube_name_is_subdomain("ecr-registry-secret"));
    assert_true(kube_name_is_subdomain("pull.ecr.example"));
    assert_false(kube_name_is_subdomain("a..b"));
    assert_false(kube_name_is_subdomain(".a"));
    assert_false(kube_name_is_subdomain("bad name"));
    assert_false(kube_name_is_subdomain("a_b"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(kube_name_is_label__dns1123_rules),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
