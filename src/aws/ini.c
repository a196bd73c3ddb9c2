#include "ini.h"
#include "../core/wipe.h"
#include "../core/xalloc.h"

#include <stdlib.h>
#include <string.h>

struct ini_entry {
    char *section;
    char *key; /* NULL for a bare section header */
    char *value;
    int line;
    size_t indent; /* columns before the key, to spot continuations */
};

struct ini_file {
    struct ini_entry *entries;
    size_t n;
};

static bool is_blank(char c)
{
    return c == ' ' || c == '\t' || c == '\r';
}

static char *trimmed_dup(const char *s, size_t n)
{
    while (n > 0 && is_blank(*s)) {
        s++;
        n--;
    }
    while (n > 0 && is_blank(s[n - 1]))
        n--;
    return xstrndup(s, n);
}

static void add_entry(struct ini_file *f, const char *section, char *key,
                      char *value, int line, size_t indent)
{
    f->entries = xrealloc(f->entries, (f->n + 1) * sizeof(*f->entries));
    f->entries[f->n].section = xstrdup(section);
    f->entries[f->n].key = key;
    f->entries[f->n].value = value;
    f->entries[f->n].line = line;
    f->entries[f->n].indent = indent;
    f->n++;
}

static enum er_code parse_section(struct ini_file *f, const char *s, size_t n,
                                  char **section, const char *name, int line,
                                  struct er_error *err)
{
    const char *close = memchr(s, ']', n);

    if (!close)
        return er_set(err, ER_CONFIG, "%s:%d: section header without ']'", name,
                      line);
    free(*section);
    *section = trimmed_dup(s + 1, (size_t)(close - s - 1));
    if (!**section)
        return er_set(err, ER_CONFIG, "%s:%d: empty section name", name, line);
    add_entry(f, *section, NULL, NULL, line, 0);
    return ER_OK;
}

static enum er_code parse_pair(struct ini_file *f, const char *s, size_t n,
                               const char *section, const char *name, int line,
                               size_t indent, struct er_error *err)
{
    const char *eq = memchr(s, '=', n), *colon = memchr(s, ':', n);
    char *key;

    if (!eq || (colon && colon < eq))
        eq = colon;
    if (!eq)
        return er_set(err, ER_CONFIG,
                      "%s:%d: expected \"key = value\" or \"[section]\"", name,
                      line);
    if (!section)
        return er_set(err, ER_CONFIG, "%s:%d: setting outside of any [section]",
                      name, line);
    key = trimmed_dup(s, (size_t)(eq - s));
    if (!*key) {
        free(key);
        return er_set(err, ER_CONFIG, "%s:%d: setting without a name", name,
                      line);
    }
    add_entry(f, section, key, trimmed_dup(eq + 1, n - (size_t)(eq - s) - 1),
              line, indent);
    return ER_OK;
}

/* A line indented deeper than the setting before it continues that
 * setting's value, which is how nested settings ("s3 =") are written. */
static bool continues_last(const struct ini_file *f, size_t indent)
{
    const struct ini_entry *last = f->n ? &f->entries[f->n - 1] : NULL;

    return last && last->key && indent > last->indent;
}

static void continue_value(struct ini_file *f, const char *s, size_t n)
{
    struct ini_entry *last = &f->entries[f->n - 1];
    char *piece, *joined;

    piece = trimmed_dup(s, n);
    joined = xasprintf("%s\n%s", last->value, piece);
    wipe_free_str(last->value);
    wipe_free_str(piece);
    last->value = joined;
}

static enum er_code parse_line(struct ini_file *f, const char *s, size_t n,
                               char **section, const char *name, int line,
                               struct er_error *err)
{
    size_t i = 0;

    while (i < n && is_blank(s[i]))
        i++;
    if (i == n || s[i] == '#' || s[i] == ';')
        return ER_OK;
    if (i > 0 && continues_last(f, i)) {
        continue_value(f, s + i, n - i);
        return ER_OK;
    }
    if (s[i] == '[')
        return parse_section(f, s + i, n - i, section, name, line, err);
    return parse_pair(f, s + i, n - i, *section, name, line, i, err);
}

enum er_code ini_parse(const char *text, size_t len, const char *name,
                       struct ini_file **out, struct er_error *err)
{
    struct ini_file *f = xcalloc(1, sizeof(*f));
    char *section = NULL;
    const char *p = text, *end = text + len;
    enum er_code rc = ER_OK;
    int line = 0;

    if (len >= 3 && memcmp(text, "\xEF\xBB\xBF", 3) == 0)
        p += 3; /* editors on Windows add a byte-order mark */
    while (p < end && rc == ER_OK) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);

        line++;
        if (memchr(p, '\0', n))
            rc = er_set(err, ER_CONFIG, "%s:%d: NUL byte", name, line);
        else
            rc = parse_line(f, p, n, &section, name, line, err);
        p += n + (nl ? 1 : 0);
    }
    free(section);
    if (rc != ER_OK) {
        ini_free(f);
        return rc;
    }
    *out = f;
    return ER_OK;
}

static const struct ini_entry *find(const struct ini_file *f,
                                    const char *section, const char *key)
{
    const struct ini_entry *found = NULL;

    for (size_t i = 0; i < f->n; i++) {
        const struct ini_entry *e = &f->entries[i];
        if (e->key && strcmp(e->section, section) == 0 &&
            strcmp(e->key, key) == 0)
            found = e;
    }
    return found;
}

const char *ini_get(const struct ini_file *f, const char *section,
                    const char *key)
{
    const struct ini_entry *e = f ? find(f, section, key) : NULL;

    return e ? e->value : NULL;
}

int ini_line(const struct ini_file *f, const char *section, const char *key)
{
    const struct ini_entry *e = f ? find(f, section, key) : NULL;

    return e ? e->line : 0;
}

bool ini_has_section(const struct ini_file *f, const char *section)
{
    for (size_t i = 0; f && i < f->n; i++) {
        if (strcmp(f->entries[i].section, section) == 0)
            return true;
    }
    return false;
}

void ini_free(struct ini_file *f)
{
    if (!f)
        return;
    for (size_t i = 0; i < f->n; i++) {
        free(f->entries[i].section);
        free(f->entries[i].key);
        wipe_free_str(f->entries[i].value);
    }
    free(f->entries);
    free(f);
}
