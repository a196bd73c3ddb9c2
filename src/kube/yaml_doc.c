#include "yaml_doc.h"
#include "../core/wipe.h"
#include "../core/xalloc.h"

#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#define TAG_STR "tag:yaml.org,2002:str"

struct line_entry {
    const json_t *node;
    int line;
};

struct yaml_doc {
    json_t *root;
    struct line_entry *lines;
    size_t n_lines;
    size_t alloc_lines;
};

/* A mapping or sequence being filled. Its node already hangs in its
 * parent (or is the root), so the frame only borrows it. */
struct frame {
    json_t *node;
    char *anchor; /* registered when the node ends, so no cycle is made */
    char *key;    /* mapping: the key waiting for its value */
};

struct anchor {
    char *name;
    json_t *node; /* a reference of its own: a later duplicate key may
                     drop the node from the tree */
};

struct builder {
    const char *name;
    const char *text;
    size_t len;
    struct yaml_doc *doc;
    struct frame stack[YAML_DOC_MAX_DEPTH];
    size_t depth;
    struct anchor *anchors;
    size_t n_anchors;
    int docs; /* documents started so far; only the first is built */
    size_t nodes;
};

static void add_line(struct yaml_doc *d, const json_t *node, size_t line)
{
    if (d->n_lines == d->alloc_lines) {
        d->alloc_lines = d->alloc_lines ? d->alloc_lines * 2 : 32;
        d->lines = xrealloc(d->lines, d->alloc_lines * sizeof(*d->lines));
    }
    d->lines[d->n_lines].node = node;
    d->lines[d->n_lines].line = line < (size_t)INT_MAX ? (int)line : 0;
    d->n_lines++;
}

static enum er_code fail_at(const struct builder *b, yaml_mark_t mark,
                            struct er_error *err, const char *fmt, ...)
    ER_PRINTF(4, 5);

static enum er_code fail_at(const struct builder *b, yaml_mark_t mark,
                            struct er_error *err, const char *fmt, ...)
{
    char what[256];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(what, sizeof(what), fmt, ap);
    va_end(ap);
    return er_set(err, ER_CONFIG, "%s:%zu:%zu: %s", b->name, mark.line + 1,
                  mark.column + 1, what);
}

static bool is_one_of(const char *s, size_t n, const char *const *words)
{
    for (; *words; words++) {
        if (strlen(*words) == n && memcmp(s, *words, n) == 0)
            return true;
    }
    return false;
}

static json_t *plain_value(const char *s, size_t n)
{
    static const char *const trues[] = {"true", "True", "TRUE", NULL};
    static const char *const falses[] = {"false", "False", "FALSE", NULL};
    static const char *const nulls[] = {"null", "Null", "NULL", "~", NULL};

    if (is_one_of(s, n, trues))
        return json_true();
    if (is_one_of(s, n, falses))
        return json_false();
    if (n == 0 || is_one_of(s, n, nulls))
        return json_null();
    return json_stringn(s, n);
}

static json_t *scalar_value(const yaml_event_t *ev)
{
    const char *s = (const char *)ev->data.scalar.value;
    size_t n = ev->data.scalar.length;
    const char *tag = (const char *)ev->data.scalar.tag;

    if (tag && strcmp(tag, TAG_STR) == 0)
        return json_stringn(s, n);
    if (ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE)
        return plain_value(s, n);
    return json_stringn(s, n);
}

static void register_anchor(struct builder *b, const char *name, json_t *node)
{
    b->anchors = xrealloc(b->anchors, (b->n_anchors + 1) * sizeof(*b->anchors));
    b->anchors[b->n_anchors].name = xstrdup(name);
    b->anchors[b->n_anchors].node = json_incref(node);
    b->n_anchors++;
}

static json_t *find_anchor(const struct builder *b, const char *name)
{
    /* A later anchor of the same name hides the earlier one. */
    for (size_t i = b->n_anchors; i > 0; i--) {
        if (strcmp(b->anchors[i - 1].name, name) == 0)
            return b->anchors[i - 1].node;
    }
    return NULL;
}

static bool wants_key(const struct builder *b)
{
    const struct frame *top = b->depth ? &b->stack[b->depth - 1] : NULL;

    return top && json_is_object(top->node) && !top->key;
}

/* Hangs node (whose reference is handed over) in the open container or
 * makes it the root. */
static enum er_code place(struct builder *b, json_t *node, yaml_mark_t mark,
                          struct er_error *err)
{
    struct frame *top;
    int rc;

    if (b->depth == 0) {
        b->doc->root = node;
        return ER_OK;
    }
    top = &b->stack[b->depth - 1];
    if (json_is_array(top->node)) {
        rc = json_array_append_new(top->node, node);
    } else {
        rc = json_object_set_new(top->node, top->key, node);
        free(top->key);
        top->key = NULL;
    }
    if (rc != 0)
        return fail_at(b, mark, err, "cannot store this value");
    return ER_OK;
}

static enum er_code on_scalar(struct builder *b, const yaml_event_t *ev,
                              struct er_error *err)
{
    const char *s = (const char *)ev->data.scalar.value;
    size_t n = ev->data.scalar.length;
    const char *anchor = (const char *)ev->data.scalar.anchor;
    json_t *node;

    if (memchr(s, '\0', n))
        return fail_at(b, ev->start_mark, err, "NUL character in a scalar");
    if (wants_key(b)) {
        b->stack[b->depth - 1].key = xstrndup(s, n);
        return ER_OK;
    }
    node = scalar_value(ev);
    if (!node)
        return fail_at(b, ev->start_mark, err, "scalar is not valid UTF-8");
    if (json_is_string(node))
        add_line(b->doc, node, ev->start_mark.line + 1);
    if (anchor)
        register_anchor(b, anchor, node);
    return place(b, node, ev->start_mark, err);
}

static enum er_code on_alias(struct builder *b, const yaml_event_t *ev,
                             struct er_error *err)
{
    const char *anchor = (const char *)ev->data.alias.anchor;
    json_t *node = find_anchor(b, anchor);

    if (wants_key(b))
        return fail_at(b, ev->start_mark, err,
                       "an alias cannot be a mapping key");
    if (!node)
        return fail_at(b, ev->start_mark, err,
                       "alias *%s names no complete anchored node", anchor);
    return place(b, json_incref(node), ev->start_mark, err);
}

static enum er_code on_start(struct builder *b, const yaml_event_t *ev,
                             struct er_error *err)
{
    bool map = ev->type == YAML_MAPPING_START_EVENT;
    const yaml_char_t *anchor =
        map ? ev->data.mapping_start.anchor : ev->data.sequence_start.anchor;
    json_t *node;
    enum er_code rc;

    if (wants_key(b))
        return fail_at(b, ev->start_mark, err,
                       "a mapping key must be a scalar");
    if (b->depth == YAML_DOC_MAX_DEPTH)
        return fail_at(b, ev->start_mark, err, "nested deeper than %d levels",
                       YAML_DOC_MAX_DEPTH);
    node = map ? json_object() : json_array();
    if (!node)
        return fail_at(b, ev->start_mark, err, "cannot store this value");
    add_line(b->doc, node, ev->start_mark.line + 1);
    if ((rc = place(b, node, ev->start_mark, err)) != ER_OK)
        return rc;
    b->stack[b->depth].node = node;
    b->stack[b->depth].anchor = anchor ? xstrdup((const char *)anchor) : NULL;
    b->stack[b->depth].key = NULL;
    b->depth++;
    return ER_OK;
}

static enum er_code on_end(struct builder *b)
{
    struct frame *top = &b->stack[--b->depth];

    if (top->anchor)
        register_anchor(b, top->anchor, top->node);
    free(top->anchor);
    free(top->key);
    top->anchor = NULL;
    top->key = NULL;
    return ER_OK;
}

static enum er_code on_event(struct builder *b, const yaml_event_t *ev,
                             struct er_error *err)
{
    if (ev->type == YAML_DOCUMENT_START_EVENT)
        b->docs++;
    if (b->docs != 1)
        return ER_OK;
    if (++b->nodes > YAML_DOC_MAX_NODES)
        return fail_at(b, ev->start_mark, err,
                       "more than %d nodes; no real kubeconfig has that "
                       "many",
                       YAML_DOC_MAX_NODES);
    switch (ev->type) {
    case YAML_SCALAR_EVENT:
        return on_scalar(b, ev, err);
    case YAML_ALIAS_EVENT:
        return on_alias(b, ev, err);
    case YAML_MAPPING_START_EVENT:
    case YAML_SEQUENCE_START_EVENT:
        return on_start(b, ev, err);
    case YAML_MAPPING_END_EVENT:
    case YAML_SEQUENCE_END_EVENT:
        return on_end(b);
    default:
        return ER_OK;
    }
}

/* Reader errors (bad UTF-8, control characters) carry a byte offset
 * rather than a mark; count lines up to it. */
static enum er_code reader_error(const yaml_parser_t *p,
                                 const struct builder *b, struct er_error *err)
{
    size_t end = p->problem_offset < b->len ? p->problem_offset : b->len;
    yaml_mark_t mark = {0, 0, 0};

    for (size_t i = 0; i < end; i++) {
        if (b->text[i] == '\n') {
            mark.line++;
            mark.column = 0;
        } else {
            mark.column++;
        }
    }
    return fail_at(b, mark, err, "%s",
                   p->problem ? p->problem : "unreadable text");
}

static enum er_code syntax_error(const yaml_parser_t *p,
                                 const struct builder *b, struct er_error *err)
{
    const char *problem = p->problem ? p->problem : "invalid YAML";

    if (p->error == YAML_READER_ERROR)
        return reader_error(p, b, err);
    if (p->error == YAML_MEMORY_ERROR)
        return er_set(err, ER_INTERNAL, "%s: libyaml ran out of memory",
                      b->name);
    if (p->context)
        return fail_at(b, p->problem_mark, err, "%s (%s at line %zu)", problem,
                       p->context, p->context_mark.line + 1);
    return fail_at(b, p->problem_mark, err, "%s", problem);
}

static void wipe_event(yaml_event_t *ev)
{
    if (ev->type == YAML_SCALAR_EVENT)
        wipe_bytes(ev->data.scalar.value, ev->data.scalar.length);
}

/* libyaml frees its copies of the input without wiping them. */
static void wipe_parser(yaml_parser_t *p)
{
    if (p->buffer.start)
        wipe_bytes(p->buffer.start, (size_t)(p->buffer.end - p->buffer.start));
    if (p->raw_buffer.start)
        wipe_bytes(p->raw_buffer.start,
                   (size_t)(p->raw_buffer.end - p->raw_buffer.start));
}

static enum er_code run(yaml_parser_t *p, struct builder *b,
                        struct er_error *err)
{
    yaml_event_t ev;
    enum er_code rc = ER_OK;
    bool done = false;

    while (rc == ER_OK && !done) {
        if (!yaml_parser_parse(p, &ev))
            return syntax_error(p, b, err);
        done = ev.type == YAML_STREAM_END_EVENT;
        rc = on_event(b, &ev, err);
        wipe_event(&ev);
        yaml_event_delete(&ev);
    }
    return rc;
}

static void builder_free(struct builder *b)
{
    for (size_t i = 0; i < b->depth; i++) {
        free(b->stack[i].anchor);
        free(b->stack[i].key);
    }
    for (size_t i = 0; i < b->n_anchors; i++) {
        free(b->anchors[i].name);
        json_decref(b->anchors[i].node);
    }
    free(b->anchors);
}

enum er_code yaml_doc_parse(const char *text, size_t len, const char *name,
                            struct yaml_doc **out, struct er_error *err)
{
    struct alloc_budget budget;
    struct builder b;
    yaml_parser_t parser;
    enum er_code rc;

    memset(&b, 0, sizeof(b));
    b.name = name;
    b.text = text;
    b.len = len;
    b.doc = xcalloc(1, sizeof(*b.doc));
    if (!yaml_parser_initialize(&parser)) {
        yaml_doc_free(b.doc);
        return er_set(err, ER_INTERNAL, "%s: cannot start libyaml", name);
    }
    yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
    wipe_budget_begin(&budget, YAML_DOC_MAX_BYTES);
    rc = run(&parser, &b, err);
    wipe_budget_end(&budget);
    if (rc != ER_OK && budget.exceeded)
        rc = er_set(err, ER_CONFIG,
                    "%s: too large to read: its tree would take more than "
                    "%u MiB",
                    name, YAML_DOC_MAX_BYTES / (1024 * 1024));
    wipe_parser(&parser);
    yaml_parser_delete(&parser);
    builder_free(&b);
    if (rc != ER_OK) {
        yaml_doc_free(b.doc);
        return rc;
    }
    if (!b.doc->root)
        b.doc->root = json_null();
    *out = b.doc;
    return ER_OK;
}

json_t *yaml_doc_root(const struct yaml_doc *d)
{
    return d->root;
}

int yaml_doc_line(const struct yaml_doc *d, const json_t *node)
{
    /* Newest first: a replaced duplicate key's freed node may share its
     * address with a later one. */
    for (size_t i = d->n_lines; node && i > 0; i--) {
        if (d->lines[i - 1].node == node)
            return d->lines[i - 1].line;
    }
    return 0;
}

void yaml_doc_free(struct yaml_doc *d)
{
    if (!d)
        return;
    json_decref(d->root);
    free(d->lines);
    free(d);
}
