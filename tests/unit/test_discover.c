/*
 * Which cluster: client-go's order, from a table of variables.
 */
#include "core/xalloc.h"
#include "kube/discover.h"
#include "test_assert.h"
#include "test_util.h"

#include <stdlib.h>
#include <string.h>

static const char *const *vars;

static const char *lookup(const char *name)
{
    for (size_t i = 0; vars[i]; i += 2) {
        if (strcmp(vars[i], name) == 0)
            return vars[i + 1];
    }
    return NULL;
}

static const char KUBECONFIG[] = "apiVersion: v1\n"
                                 "clusters:\n"
                                 "- name: c\n"
                                 "  cluster: {server: https://k.example:6443}\n"
                                 "users:\n"
                                 "- name: u\n"
                                 "  user: {token: t}\n"
                                 "contexts:\n"
                                 "- name: x\n"
                                 "  context: {cluster: c, user: u}\n"
                                 "current-context: x\n";

static void kube_target_discover__kubeconfig_wins_over_in_cluster(void **s)
{
    char *path = test_write_temp("discover-config", KUBECONFIG);
    const char *const table[] = {"KUBECONFIG",
                                 path,
                                 "KUBERNETES_SERVICE_HOST",
                                 "10.0.0.1",
                                 "KUBERNETES_SERVICE_PORT",
                                 "443",
                                 NULL};
    struct kube_target t;
    struct er_error err;

    (void)s;
    vars = table;
    assert_int_equal(kube_target_discover(NULL, NULL, lookup, &t, &err), ER_OK);
    assert_string_equal(t.server, "https://k.example:6443");
    kube_target_free(&t);
    free(path);
}

static void kube_target_discover__service_host__in_cluster(void **s)
{
    const char *const table[] = {"KUBERNETES_SERVICE_HOST",
                                 "10.0.0.1",
                                 "KUBERNETES_SERVICE_PORT",
                                 "443",
                                 "ECR_RENEW_SERVICEACCOUNT_DIR",
                                 "/nonexistent/sa",
                                 NULL};
    struct kube_target t;
    struct er_error err;

    (void)s;
    vars = table;
    /* The folder is missing: in-cluster was chosen, and says so. */
    assert_int_equal(kube_target_discover(NULL, NULL, lookup, &t, &err),
                     ER_CONFIG);
    assert_contains(err.msg, "in-cluster: service-account token "
                             "/nonexistent/sa/token");
    assert_int_equal(kube_target_discover(NULL, "ctx", lookup, &t, &err),
                     ER_USAGE);
    assert_contains(err.msg, "--context needs a kubeconfig");
}

static void kube_target_discover__nothing__home_kubeconfig(void **s)
{
    const char *const table[] = {"HOME", "/nonexistent/home", NULL};
    struct kube_target t;
    struct er_error err;

    (void)s;
    vars = table;
    assert_int_equal(kube_target_discover(NULL, NULL, lookup, &t, &err),
                     ER_CONFIG);
    assert_contains(err.msg, "/nonexistent/home/.kube/config");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(kube_target_discover__kubeconfig_wins_over_in_cluster),
        cmocka_unit_test(kube_target_discover__service_host__in_cluster),
        cmocka_unit_test(kube_target_discover__nothing__home_kubeconfig),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
