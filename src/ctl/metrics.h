/*
 * metrics.h - counters and gauges, rendered as Prometheus text (format
 * 0.0.4: HELP and TYPE once per family, samples of a family together,
 * label values and help text escaped, a newline after the last line).
 *
 * Pure. Series are few (regions, registries, outcomes, reasons), so they
 * are kept in plain arrays. Names and label names are the program's own
 * constants; label values may come from outside and are escaped.
 *
 * Ownership: struct metrics owns its families and series; the family
 * handles it returns stay valid until metrics_free.
 */
#ifndef ECR_RENEW_CTL_METRICS_H
#define ECR_RENEW_CTL_METRICS_H

#include <stddef.h>

enum metric_type { METRIC_COUNTER, METRIC_GAUGE };

struct metrics;
struct metric_family;

struct metrics *metrics_new(void);
void metrics_free(struct metrics *m);

/* Declares a family; label_names is NULL-terminated (may be empty). */
struct metric_family *metrics_family(struct metrics *m, const char *name,
                                     enum metric_type type, const char *help,
                                     const char *const *label_names);

/* Adds delta to the series with these label values (one per label name),
 * creating it at 0. */
void metrics_add(struct metric_family *f, double delta,
                 const char *const *label_values);

/* Sets the series' value. */
void metrics_set(struct metric_family *f, double value,
                 const char *const *label_values);

/* The series' value, or 0 when it does not exist. */
double metrics_get(const struct metric_family *f,
                   const char *const *label_values);

/* Drops every series of the family (e.g. expiry gauges of tokens that
 * are gone). */
void metrics_clear(struct metric_family *f);

/* The exposition text, newly allocated. */
char *metrics_render(const struct metrics *m);

#endif
