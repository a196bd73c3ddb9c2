#include "metrics.h"
#include "../core/buf.h"
#include "../core/xalloc.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct series {
    char **values; /* one per label name */
    double value;
};

struct metric_family {
    char *name;
    char *help;
    enum metric_type type;
    char **labels;
    size_t n_labels;
    struct series *series;
    size_t n_series;
};

struct metrics {
    struct metric_family **families;
    size_t n;
};

struct metrics *metrics_new(void)
{
    return xcalloc(1, sizeof(struct metrics));
}

static void free_series(struct metric_family *f, struct series *s)
{
    for (size_t i = 0; i < f->n_labels; i++)
        free(s->values[i]);
    free(s->values);
}

void metrics_clear(struct metric_family *f)
{
    for (size_t i = 0; i < f->n_series; i++)
        free_series(f, &f->series[i]);
    free(f->series);
    f->series = NULL;
    f->n_series = 0;
}

void metrics_free(struct metrics *m)
{
    if (!m)
        return;
    for (size_t i = 0; i < m->n; i++) {
        struct metric_family *f = m->families[i];
        metrics_clear(f);
        for (size_t j = 0; j < f->n_labels; j++)
            free(f->labels[j]);
        free(f->labels);
        free(f->name);
        free(f->help);
        free(f);
    }
    free(m->families);
    free(m);
}

struct metric_family *metrics_family(struct metrics *m, const char *name,
                                     enum metric_type type, const char *help,
                                     const char *const *label_names)
{
    struct metric_family *f = xcalloc(1, sizeof(*f));

    f->name = xstrdup(name);
    f->help = xstrdup(help);
    f->type = type;
    while (label_names && label_names[f->n_labels])
        f->n_labels++;
    f->labels = xcalloc(f->n_labels + 1, sizeof(*f->labels));
    for (size_t i = 0; i < f->n_labels; i++)
        f->labels[i] = xstrdup(label_names[i]);
    m->families = xrealloc(m->families, (m->n + 1) * sizeof(*m->families));
    m->families[m->n++] = f;
    return f;
}

static bool same(const struct metric_family *f, const struct series *s,
                 const char *const *values)
{
    for (size_t i = 0; i < f->n_labels; i++) {
        if (strcmp(s->values[i], values[i] ? values[i] : "") != 0)
            return false;
    }
    return true;
}

static struct series *find(const struct metric_family *f,
                           const char *const *values)
{
    for (size_t i = 0; i < f->n_series; i++) {
        if (same(f, &f->series[i], values))
            return &f->series[i];
    }
    return NULL;
}

static struct series *find_or_add(struct metric_family *f,
                                  const char *const *values)
{
    struct series *s = find(f, values);

    if (s)
        return s;
    f->series = xrealloc(f->series, (f->n_series + 1) * sizeof(*f->series));
    s = &f->series[f->n_series++];
    s->value = 0;
    s->values = xcalloc(f->n_labels + 1, sizeof(*s->values));
    for (size_t i = 0; i < f->n_labels; i++)
        s->values[i] = xstrdup(values[i] ? values[i] : "");
    return s;
}

void metrics_add(struct metric_family *f, double delta,
                 const char *const *label_values)
{
    find_or_add(f, label_values)->value += delta;
}

void metrics_set(struct metric_family *f, double value,
                 const char *const *label_values)
{
    find_or_add(f, label_values)->value = value;
}

double metrics_get(const struct metric_family *f,
                   const char *const *label_values)
{
    const struct series *s = find(f, label_values);

    return s ? s->value : 0;
}

/* HELP text escapes backslash and newline; label values also '"'. */
static void add_escaped(struct buf *out, const char *s, bool quote)
{
    for (; *s; s++) {
        if (*s == '\\')
            buf_must_adds(out, "\\\\");
        else if (*s == '\n')
            buf_must_adds(out, "\\n");
        else if (quote && *s == '"')
            buf_must_adds(out, "\\\"");
        else
            buf_must_add(out, s, 1);
    }
}

/* Go's float formatting as Prometheus reads it: integers plainly, the
 * rest with enough digits to round-trip. */
static void add_shortest(struct buf *out, double v)
{
    char text[40];

    /* The fewest digits that read back as v: 1796164667.137, not
     * 1796164667.1370001. */
    for (int digits = 15; digits <= 17; digits++) {
        snprintf(text, sizeof(text), "%.*g", digits, v);
        if (strtod(text, NULL) == v)
            break;
    }
    buf_must_adds(out, text);
}

static void add_value(struct buf *out, double v)
{
    if (isnan(v))
        buf_must_adds(out, "NaN");
    else if (isinf(v))
        buf_must_adds(out, v > 0 ? "+Inf" : "-Inf");
    else if (v == floor(v) && fabs(v) < 1e15)
        buf_must_addf(out, "%.0f", v);
    else
        add_shortest(out, v);
}

static void render_series(struct buf *out, const struct metric_family *f,
                          const struct series *s)
{
    buf_must_adds(out, f->name);
    if (f->n_labels) {
        buf_must_adds(out, "{");
        for (size_t i = 0; i < f->n_labels; i++) {
            buf_must_addf(out, "%s%s=\"", i ? "," : "", f->labels[i]);
            add_escaped(out, s->values[i], true);
            buf_must_adds(out, "\"");
        }
        buf_must_adds(out, "}");
    }
    buf_must_adds(out, " ");
    add_value(out, s->value);
    buf_must_adds(out, "\n");
}

char *metrics_render(const struct metrics *m)
{
    struct buf out = BUF_INIT;

    for (size_t i = 0; i < m->n; i++) {
        const struct metric_family *f = m->families[i];
        buf_must_addf(&out, "# HELP %s ", f->name);
        add_escaped(&out, f->help, false);
        buf_must_addf(&out, "\n# TYPE %s %s\n", f->name,
                      f->type == METRIC_COUNTER ? "counter" : "gauge");
        for (size_t j = 0; j < f->n_series; j++)
            render_series(&out, f, &f->series[j]);
    }
    return buf_detach(&out, NULL);
}
