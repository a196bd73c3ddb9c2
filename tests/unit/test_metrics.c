/*
 * Prometheus text: HELP and TYPE once per family, series together,
 * escaping of label values and help, values as Prometheus reads them.
 */
#include "ctl/metrics.h"
#include "test_assert.h"
#include "test_util.h"

#include <stdlib.h>

static void metrics_render__counters_and_gauges__exposition(void **state)
{
    struct metrics *m = metrics_new();
    const char *outcome[] = {"outcome", NULL};
    const char *rr[] = {"region", "registry", NULL};
    struct metric_family *w =
        metrics_family(m, "ecr_renew_secret_writes_total", METRIC_COUNTER,
                       "Pull Secrets written.", outcome);
    struct metric_family *e =
        metrics_family(m, "ecr_renew_token_expiry_timestamp_seconds",
                       METRIC_GAUGE, "When the token expires.", rr);
    struct metric_family *b = metrics_family(m, "ecr_renew_build_info",
                                             METRIC_GAUGE, "Version.", NULL);
    char *text;

    (void)state;
    metrics_add(w, 1, (const char *[]){"created"});
    metrics_add(w, 2, (const char *[]){"created"});
    metrics_add(w, 1, (const char *[]){"updated"});
    metrics_set(e, 1767268800.5,
                (const char *[]){"us-east-1", "1.dkr.ecr.us-east-1.x"});
    metrics_set(b, 1, NULL);
    text = metrics_render(m);
    assert_string_equal(
        text, "# HELP ecr_renew_secret_writes_total Pull Secrets written.\n"
              "# TYPE ecr_renew_secret_writes_total counter\n"
              "ecr_renew_secret_writes_total{outcome=\"created\"} 3\n"
              "ecr_renew_secret_writes_total{outcome=\"updated\"} 1\n"
              "# HELP ecr_renew_token_expiry_timestamp_seconds When the token "
              "expires.\n"
              "# TYPE ecr_renew_token_expiry_timestamp_seconds gauge\n"
              "ecr_renew_token_expiry_timestamp_seconds{region=\"us-east-1\","
              "registry=\"1.dkr.ecr.us-east-1.x\"} 1767268800.5\n"
              "# HELP ecr_renew_build_info Version.\n"
              "# TYPE ecr_renew_build_info gauge\n"
              "ecr_renew_build_info 1\n");
    assert_true(metrics_get(w, (const char *[]){"created"}) == 3);
    free(text);
    metrics_clear(e);
    text = metrics_render(m);
    assert_not_contains(text, "us-east-1");
    assert_contains(text, "# TYPE ecr_renew_token_expiry_timestamp_seconds");
    free(text);
    metrics_free(m);
}

static void metrics_render__outside_text__escaped(void **state)
{
    struct metrics *m = metrics_new();
    const char *reason[] = {"reason", NULL};
    struct metric_family *f =
        metrics_family(m, "x_total", METRIC_COUNTER, "a\\b\nc", reason);
    char *text;

    (void)state;
    metrics_add(f, 1, (const char *[]){"q\"uo\\te\nnl"});
    text = metrics_render(m);
    assert_contains(text, "# HELP x_total a\\\\b\\nc\n");
    assert_contains(text, "x_total{reason=\"q\\\"uo\\\\te\\nnl\"} 1\n");
    free(text);
    metrics_free(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(metrics_render__counters_and_gauges__exposition),
        cmocka_unit_test(metrics_render__outside_text__escaped),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
