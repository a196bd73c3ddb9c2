#include "selector.h"
#include "../core/buf.h"
#include "../core/strutil.h"
#include "../core/xalloc.h"
#include "names.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NAME_MAX_LEN 63 /* the name part of a key, and a value */
#define QUOTE_MAX 64    /* of a key or value quoted in a message */
#define SHOWN_MAX 120   /* of the selector quoted in a message */
#define QUOTED_CAP (4 * SHOWN_MAX + 8) /* for quote()'s output */

/* The order here is the order of requirements with the same key in the
 * canonical form. */
enum op {
    OP_EXISTS,
    OP_NOT_EXISTS,
    OP_EQ, /* "=" and "==" */
    OP_NE,
    OP_IN,
    OP_NOTIN,
};

struct requirement {
    char *key;
    enum op op;
    char **values; /* sorted and distinct; exactly one for OP_EQ, OP_NE */
    size_t n_values;
};

struct kube_selector {
    struct requirement *reqs; /* sorted by compare_requirements */
    size_t n;
};

/* The lexer's tokens, as apimachinery's: a word is any run of bytes that
 * is neither a blank nor one of "=!(),<>", and is checked as a key or a
 * value only once the parser knows which it is ("in" may be either). */
enum tok_kind {
    TOK_END,
    TOK_WORD,
    TOK_NOT,  /* ! */
    TOK_NE,   /* != */
    TOK_EQ,   /* = */
    TOK_EQEQ, /* == */
    TOK_OPEN,
    TOK_CLOSE,
    TOK_COMMA,
    TOK_GT,
    TOK_LT,
};

struct token {
    enum tok_kind kind;
    size_t start; /* byte offset in the text */
    size_t len;
};

struct parser {
    const char *text;
    size_t len;
    size_t pos; /* the first byte not yet read into tok */
    struct token tok;
    struct er_error *err;
};

static bool is_blank(char c)
{
    return c == ' ' || c == '\t';
}

static bool is_special(char c)
{
    return c != '\0' && strchr("=!(),<>", c) != NULL;
}

/* The kind of the symbol at s, which is one or two bytes long. */
static enum tok_kind symbol_kind(const char *s, size_t *len)
{
    *len = 1;
    switch (s[0]) {
    case '!':
    case '=':
        if (s[1] == '=') {
            *len = 2;
            return s[0] == '!' ? TOK_NE : TOK_EQEQ;
        }
        return s[0] == '!' ? TOK_NOT : TOK_EQ;
    case '(':
        return TOK_OPEN;
    case ')':
        return TOK_CLOSE;
    case ',':
        return TOK_COMMA;
    case '>':
        return TOK_GT;
    default:
        return TOK_LT;
    }
}

static void next_token(struct parser *p)
{
    const char *t = p->text;
    size_t i = p->pos, j;

    while (is_blank(t[i]))
        i++;
    p->tok.start = i;
    if (t[i] == '\0') {
        p->tok.kind = TOK_END;
        p->tok.len = 0;
    } else if (is_special(t[i])) {
        p->tok.kind = symbol_kind(t + i, &p->tok.len);
    } else {
        for (j = i; t[j] && !is_blank(t[j]) && !is_special(t[j]); j++)
            ;
        p->tok.kind = TOK_WORD;
        p->tok.len = j - i;
    }
    p->pos = i + p->tok.len;
}

static const char *tok_text(const struct parser *p)
{
    return p->text + p->tok.start;
}

static bool tok_is(const struct parser *p, const char *word)
{
    return p->tok.kind == TOK_WORD && p->tok.len == strlen(word) &&
           memcmp(tok_text(p), word, p->tok.len) == 0;
}

/* n bytes of s in quotes, cut to at most max bytes (between UTF-8
 * characters) and made printable: the text is the user's, and may hold
 * anything. Printable forms take up to 4 bytes per byte. */
static void quote(char *dst, size_t cap, const char *s, size_t n, size_t max)
{
    char shown[4 * SHOWN_MAX + 1];
    size_t m = n;

    if (m > max) {
        m = max;
        while (m > 0 && ((unsigned char)s[m] & 0xC0) == 0x80)
            m--;
    }
    str_copy_printable(shown, sizeof(shown), s, m);
    snprintf(dst, cap, "\"%s%s\"", shown, m < n ? "..." : "");
}

/* The current token as a message shows it. */
static void describe(const struct parser *p, char *dst, size_t cap)
{
    if (p->tok.kind == TOK_END)
        snprintf(dst, cap, "the end of the selector");
    else
        quote(dst, cap, tok_text(p), p->tok.len, QUOTE_MAX);
}

static enum er_code fail(const struct parser *p, size_t at, const char *fmt,
                         ...) ER_PRINTF(3, 4);

/* Every parse error: the selector, what is wrong, and where (counting
 * from 1, as people do). */
static enum er_code fail(const struct parser *p, size_t at, const char *fmt,
                         ...)
{
    char shown[QUOTED_CAP], detail[512];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(detail, sizeof(detail), fmt, ap);
    va_end(ap);
    quote(shown, sizeof(shown), p->text, p->len, SHOWN_MAX);
    return er_set(p->err, ER_USAGE, "label selector %s: %s (at character %zu)",
                  shown, detail, at + 1);
}

static bool is_alnum(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
           (c >= '0' && c <= '9');
}

/* A key's name part or a non-empty value: [A-Za-z0-9_.-], starting and
 * ending alphanumeric (apimachinery's IsQualifiedName and
 * IsValidLabelValue). */
static bool label_chars_ok(const char *s, size_t n)
{
    if (n == 0 || !is_alnum(s[0]) || !is_alnum(s[n - 1]))
        return false;
    for (size_t i = 0; i < n; i++) {
        if (!is_alnum(s[i]) && !strchr("-_.", s[i]))
            return false;
    }
    return true;
}

static bool prefix_ok(const char *s, size_t n)
{
    char *prefix = xstrndup(s, n);
    bool ok = kube_name_is_subdomain(prefix);

    free(prefix);
    return ok;
}

static enum er_code check_key(const struct parser *p)
{
    const char *t = tok_text(p);
    size_t n = p->tok.len, at = p->tok.start;
    const char *slash = memchr(t, '/', n);
    const char *name = slash ? slash + 1 : t;
    size_t name_len = n - (size_t)(name - t);
    char q[QUOTED_CAP];

    quote(q, sizeof(q), t, n, QUOTE_MAX);
    if (slash && !prefix_ok(t, (size_t)(slash - t)))
        return fail(p, at,
                    "the prefix of label key %s must be a DNS subdomain "
                    "(lowercase letters, digits, '-' and '.', at most 253 "
                    "characters)",
                    q);
    if (name_len > NAME_MAX_LEN)
        return fail(p, at,
                    "the name of label key %s is longer than %d characters", q,
                    NAME_MAX_LEN);
    if (!label_chars_ok(name, name_len))
        return fail(p, at,
                    "label key %s is not valid: its name must be letters, "
                    "digits, '-', '_' or '.', starting and ending with a "
                    "letter or digit",
                    q);
    return ER_OK;
}

static enum er_code check_value(const struct parser *p)
{
    char q[QUOTED_CAP];

    quote(q, sizeof(q), tok_text(p), p->tok.len, QUOTE_MAX);
    if (p->tok.len > NAME_MAX_LEN)
        return fail(p, p->tok.start,
                    "label value %s is longer than %d characters", q,
                    NAME_MAX_LEN);
    if (!label_chars_ok(tok_text(p), p->tok.len))
        return fail(p, p->tok.start,
                    "label value %s is not valid: it must be letters, "
                    "digits, '-', '_' or '.', starting and ending with a "
                    "letter or digit",
                    q);
    return ER_OK;
}

static void add_value(struct requirement *r, const char *s, size_t n)
{
    r->values = xrealloc(r->values, (r->n_values + 1) * sizeof(*r->values));
    r->values[r->n_values++] = xstrndup(s, n);
}

/* Takes the current token as the value when it is a word; nothing (the
 * end, ',' or ')') is the empty value, as in apimachinery. */
static enum er_code take_value(struct parser *p, struct requirement *r)
{
    enum er_code rc;

    if (p->tok.kind != TOK_WORD) {
        add_value(r, "", 0);
        return ER_OK;
    }
    rc = check_value(p);
    if (rc == ER_OK) {
        add_value(r, tok_text(p), p->tok.len);
        next_token(p);
    }
    return rc;
}

/* After "=", "==" or "!=": one value, maybe empty. */
static enum er_code parse_exact_value(struct parser *p, struct requirement *r)
{
    char found[QUOTED_CAP];

    next_token(p);
    if (p->tok.kind == TOK_WORD || p->tok.kind == TOK_END ||
        p->tok.kind == TOK_COMMA)
        return take_value(p, r);
    describe(p, found, sizeof(found));
    return fail(p, p->tok.start,
                "expected a value after the operator, found %s", found);
}

static int compare_strings(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Sorts the values and drops repeats: a set is a set. */
static void normalise_values(struct requirement *r)
{
    size_t kept = 0;

    qsort(r->values, r->n_values, sizeof(*r->values), compare_strings);
    for (size_t i = 0; i < r->n_values; i++) {
        if (kept > 0 && strcmp(r->values[kept - 1], r->values[i]) == 0)
            free(r->values[i]);
        else
            r->values[kept++] = r->values[i];
    }
    r->n_values = kept;
}

/* The values of a set, after "(": "a,b)", or ")" alone for the one empty
 * value. Values are counted as written, so a list of commas is refused
 * like any other long list. */
static enum er_code parse_value_list(struct parser *p, struct requirement *r,
                                     const char *op)
{
    char found[QUOTED_CAP];
    enum er_code rc;

    for (size_t listed = 0;; listed++) {
        if (listed == KUBE_SELECTOR_MAX_VALUES)
            return fail(p, p->tok.start,
                        "the list after \"%s\" has more than %d values", op,
                        KUBE_SELECTOR_MAX_VALUES);
        rc = take_value(p, r);
        if (rc != ER_OK)
            return rc;
        if (p->tok.kind == TOK_CLOSE)
            break;
        if (p->tok.kind == TOK_END)
            return fail(p, p->tok.start,
                        "the list of values after \"%s\" is not closed "
                        "with ')'",
                        op);
        if (p->tok.kind != TOK_COMMA) {
            describe(p, found, sizeof(found));
            return fail(p, p->tok.start,
                        "expected ',' or ')' in the list of values after "
                        "\"%s\", found %s",
                        op, found);
        }
        next_token(p);
    }
    next_token(p);
    normalise_values(r);
    return ER_OK;
}

/* After "in" or "notin": "(v1,v2)". */
static enum er_code parse_set(struct parser *p, struct requirement *r)
{
    const char *op = r->op == OP_IN ? "in" : "notin";

    next_token(p);
    if (p->tok.kind != TOK_OPEN)
        return fail(p, p->tok.start,
                    "\"%s\" needs a parenthesised list of values", op);
    next_token(p);
    return parse_value_list(p, r, op);
}

/* What follows a key that is neither the end nor ','. */
static enum er_code parse_restriction(struct parser *p, struct requirement *r)
{
    char found[QUOTED_CAP];

    describe(p, found, sizeof(found));
    if (p->tok.kind == TOK_EQ || p->tok.kind == TOK_EQEQ) {
        r->op = OP_EQ;
        return parse_exact_value(p, r);
    }
    if (p->tok.kind == TOK_NE) {
        r->op = OP_NE;
        return parse_exact_value(p, r);
    }
    if (tok_is(p, "in") || tok_is(p, "notin")) {
        r->op = tok_is(p, "in") ? OP_IN : OP_NOTIN;
        return parse_set(p, r);
    }
    if (p->tok.kind == TOK_GT || p->tok.kind == TOK_LT)
        return fail(p, p->tok.start,
                    "the %s operator is not supported (use in, notin, =, "
                    "== or !=)",
                    found);
    return fail(p, p->tok.start,
                "expected an operator (in, notin, =, == or !=) or ',' after "
                "the key, found %s",
                found);
}

static enum er_code parse_requirement(struct parser *p, struct requirement *r)
{
    bool negated = p->tok.kind == TOK_NOT;
    char found[QUOTED_CAP];
    enum er_code rc;

    if (p->tok.kind == TOK_COMMA || p->tok.kind == TOK_END)
        return fail(p, p->tok.start,
                    "a requirement is empty (a ',' at either end, or two in "
                    "a row)");
    if (negated)
        next_token(p);
    describe(p, found, sizeof(found));
    if (p->tok.kind != TOK_WORD)
        return fail(p, p->tok.start, "expected a label key%s, found %s",
                    negated ? " after '!'" : "", found);
    rc = check_key(p);
    if (rc != ER_OK)
        return rc;
    r->key = xstrndup(tok_text(p), p->tok.len);
    next_token(p);
    if (p->tok.kind == TOK_END || p->tok.kind == TOK_COMMA) {
        r->op = negated ? OP_NOT_EXISTS : OP_EXISTS;
        return ER_OK;
    }
    if (negated)
        return fail(p, p->tok.start,
                    "'!' takes a bare key (\"!%s\" means the label is "
                    "absent); write \"%s!=value\" to exclude a value",
                    r->key, r->key);
    return parse_restriction(p, r);
}

static enum er_code parse_requirements(struct parser *p,
                                       struct kube_selector *s)
{
    char found[QUOTED_CAP];
    enum er_code rc;

    next_token(p);
    if (p->tok.kind == TOK_END)
        return ER_OK; /* nothing, or only blanks: everything */
    for (;;) {
        if (s->n == KUBE_SELECTOR_MAX_REQUIREMENTS)
            return fail(p, p->tok.start, "more than %d requirements",
                        KUBE_SELECTOR_MAX_REQUIREMENTS);
        s->reqs = xrealloc(s->reqs, (s->n + 1) * sizeof(*s->reqs));
        memset(&s->reqs[s->n], 0, sizeof(*s->reqs));
        rc = parse_requirement(p, &s->reqs[s->n++]);
        if (rc != ER_OK || p->tok.kind == TOK_END)
            return rc;
        if (p->tok.kind != TOK_COMMA) {
            describe(p, found, sizeof(found));
            return fail(p, p->tok.start,
                        "expected ',' or the end after a requirement, "
                        "found %s",
                        found);
        }
        next_token(p);
    }
}

static void clear_requirement(struct requirement *r)
{
    for (size_t i = 0; i < r->n_values; i++)
        free(r->values[i]);
    free(r->values);
    free(r->key);
}

/* By key, then operator, then values: a total order on what a
 * requirement means, so equal selectors sort alike. */
static int compare_requirements(const void *a, const void *b)
{
    const struct requirement *x = a, *y = b;
    int c = strcmp(x->key, y->key);

    if (c != 0)
        return c;
    if (x->op != y->op)
        return x->op < y->op ? -1 : 1;
    for (size_t i = 0; i < x->n_values && i < y->n_values; i++) {
        c = strcmp(x->values[i], y->values[i]);
        if (c != 0)
            return c;
    }
    return (x->n_values > y->n_values) - (x->n_values < y->n_values);
}

/* Sorts the requirements and drops repeats, for the canonical form. */
static void normalise(struct kube_selector *s)
{
    size_t kept = 0;

    if (s->n == 0)
        return;
    qsort(s->reqs, s->n, sizeof(*s->reqs), compare_requirements);
    for (size_t i = 0; i < s->n; i++) {
        if (kept > 0 &&
            compare_requirements(&s->reqs[kept - 1], &s->reqs[i]) == 0)
            clear_requirement(&s->reqs[i]);
        else
            s->reqs[kept++] = s->reqs[i];
    }
    s->n = kept;
}

/* The canonical form can be a little longer than the text ("k in(v)"
 * gains a blank); it must fit the limit too, or it would not parse. */
static enum er_code check_canonical(const struct kube_selector *s,
                                    struct er_error *err)
{
    char *canonical = kube_selector_string(s);
    size_t len = strlen(canonical);

    free(canonical);
    if (len > KUBE_SELECTOR_MAX_BYTES)
        return er_set(err, ER_USAGE,
                      "label selector is too long: its canonical form has "
                      "%zu bytes, more than the %d allowed",
                      len, KUBE_SELECTOR_MAX_BYTES);
    return ER_OK;
}

enum er_code kube_selector_parse(const char *text, struct kube_selector **out,
                                 struct er_error *err)
{
    struct kube_selector *s = xcalloc(1, sizeof(*s));
    size_t len = strnlen(text, KUBE_SELECTOR_MAX_BYTES + 1);
    struct parser p = {text, len, 0, {TOK_END, 0, 0}, err};
    enum er_code rc;

    if (len > KUBE_SELECTOR_MAX_BYTES) {
        rc = er_set(err, ER_USAGE,
                    "label selector is too long: more than %d bytes",
                    KUBE_SELECTOR_MAX_BYTES);
        goto out;
    }
    rc = parse_requirements(&p, s);
    if (rc != ER_OK)
        goto out;
    normalise(s);
    rc = check_canonical(s, err);
out:
    if (rc == ER_OK)
        *out = s;
    else
        kube_selector_free(s);
    return rc;
}

void kube_selector_free(struct kube_selector *s)
{
    if (!s)
        return;
    for (size_t i = 0; i < s->n; i++)
        clear_requirement(&s->reqs[i]);
    free(s->reqs);
    free(s);
}

static bool has_value(const struct requirement *r, const char *v, size_t n)
{
    for (size_t i = 0; i < r->n_values; i++) {
        if (strlen(r->values[i]) == n && memcmp(r->values[i], v, n) == 0)
            return true;
    }
    return false;
}

static bool requirement_matches(const struct requirement *r, json_t *labels)
{
    json_t *v = json_object_get(labels, r->key);
    const char *str = json_string_value(v); /* NULL unless a string */
    size_t n = json_string_length(v);

    switch (r->op) {
    case OP_EXISTS:
        return v != NULL;
    case OP_NOT_EXISTS:
        return v == NULL;
    case OP_EQ:
    case OP_IN:
        return str && has_value(r, str, n);
    case OP_NE:
    case OP_NOTIN:
        return !str || !has_value(r, str, n);
    }
    return false;
}

bool kube_selector_matches(const struct kube_selector *s, json_t *labels)
{
    for (size_t i = 0; i < s->n; i++) {
        if (!requirement_matches(&s->reqs[i], labels))
            return false;
    }
    return true;
}

static void add_requirement(struct buf *b, const struct requirement *r)
{
    static const char *const ops[] = {
        [OP_EXISTS] = "", [OP_NOT_EXISTS] = "", [OP_EQ] = "=",
        [OP_NE] = "!=",   [OP_IN] = " in (",    [OP_NOTIN] = " notin (",
    };

    buf_must_addf(b, "%s%s%s", r->op == OP_NOT_EXISTS ? "!" : "", r->key,
                  ops[r->op]);
    for (size_t i = 0; i < r->n_values; i++)
        buf_must_addf(b, "%s%s", i > 0 ? "," : "", r->values[i]);
    if (r->op == OP_IN || r->op == OP_NOTIN)
        buf_must_adds(b, ")");
}

char *kube_selector_string(const struct kube_selector *s)
{
    struct buf b;

    buf_init(&b, BUF_DEFAULT_CAP, BUF_PLAIN);
    for (size_t i = 0; i < s->n; i++) {
        if (i > 0)
            buf_must_adds(&b, ",");
        add_requirement(&b, &s->reqs[i]);
    }
    return buf_detach(&b, NULL);
}

bool kube_selector_is_empty(const struct kube_selector *s)
{
    return s->n == 0;
}
