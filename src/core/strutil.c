#include "strutil.h"
#include "xalloc.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

bool str_has_prefix(const char *s, const char *prefix)
{
    return strncmp(s, prefix, strlen(prefix)) == 0;
}

bool str_has_suffix(const char *s, const char *suffix)
{
    size_t ls = strlen(s), lx = strlen(suffix);

    return ls >= lx && memcmp(s + ls - lx, suffix, lx) == 0;
}

bool str_eq_ci(const char *a, const char *b)
{
    return strcasecmp(a, b) == 0;
}

const char *str_trim(const char *s, size_t *len)
{
    size_t n;

    while (isspace((unsigned char)*s))
        s++;
    n = strlen(s);
    while (n > 0 && isspace((unsigned char)s[n - 1]))
        n--;
    *len = n;
    return s;
}

void str_rtrim_inplace(char *s)
{
    size_t n = strlen(s);

    while (n > 0 && strchr("\r\n \t", s[n - 1]))
        s[--n] = '\0';
}

bool str_is_true(const char *s)
{
    return s && (str_eq_ci(s, "true") || strcmp(s, "1") == 0 ||
                 str_eq_ci(s, "yes") || str_eq_ci(s, "on"));
}

int str_to_long(const char *s, long min, long max, long *out)
{
    char *end;
    long v;

    if (!s || !*s || isspace((unsigned char)*s))
        return -1;
    errno = 0;
    v = strtol(s, &end, 10);
    if (errno != 0 || *end != '\0' || v < min || v > max)
        return -1;
    *out = v;
    return 0;
}

void str_list_push(struct str_list *l, const char *s)
{
    l->items = xrealloc(l->items, (l->n + 2) * sizeof(*l->items));
    l->items[l->n++] = xstrdup(s);
    l->items[l->n] = NULL;
}

size_t str_list_add_split(struct str_list *l, const char *s, char sep)
{
    const char *start = s;
    size_t blank = 0;

    for (;;) {
        const char *end = strchr(start, sep);
        size_t len = end ? (size_t)(end - start) : strlen(start);
        char *piece = xstrndup(start, len);
        size_t tlen;
        const char *t = str_trim(piece, &tlen);

        if (tlen > 0) {
            char *item = xstrndup(t, tlen);
            str_list_push(l, item);
            free(item);
        } else {
            blank++;
        }
        free(piece);
        if (!end)
            break;
        start = end + 1;
    }
    return blank;
}

bool str_list_contains(const struct str_list *l, const char *s)
{
    for (size_t i = 0; i < l->n; i++) {
        if (strcmp(l->items[i], s) == 0)
            return true;
    }
    return false;
}

void str_list_clear(struct str_list *l)
{
    for (size_t i = 0; i < l->n; i++)
        free(l->items[i]);
    free(l->items);
    l->items = NULL;
    l->n = 0;
}

bool str_has_no_controls(const char *s)
{
    for (; *s; s++) {
        unsigned char ch = (unsigned char)*s;
        if (ch < 0x20 || ch == 0x7f)
            return false;
    }
    return true;
}

/* The length of the UTF-8 sequence at s (at most n bytes), or 0 when it
 * is not well-formed; *cp is set to its code point. */
static size_t utf8_seq(const unsigned char *s, size_t n, unsigned long *cp)
{
    size_t len;
    unsigned long c, min;

    if (s[0] < 0x80) {
        *cp = s[0];
        return 1;
    }
    if ((s[0] & 0xE0) == 0xC0)
        len = 2, c = s[0] & 0x1F, min = 0x80;
    else if ((s[0] & 0xF0) == 0xE0)
        len = 3, c = s[0] & 0x0F, min = 0x800;
    else if ((s[0] & 0xF8) == 0xF0)
        len = 4, c = s[0] & 0x07, min = 0x10000;
    else
        return 0;
    if (len > n)
        return 0;
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xC0) != 0x80)
            return 0;
        c = c << 6 | (s[i] & 0x3F);
    }
    if (c < min || c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF))
        return 0;
    *cp = c;
    return len;
}

bool str_is_utf8(const char *s, size_t n)
{
    const unsigned char *p = (const unsigned char *)s;
    unsigned long cp;

    while (n > 0) {
        size_t len = utf8_seq(p, n, &cp);
        if (len == 0)
            return false;
        p += len;
        n -= len;
    }
    return true;
}

/* The visible form of the character at s (at most n bytes): itself, or
 * an escape. Sets *used to the bytes it stands for; returns the length
 * written to out (at most 7 bytes plus a NUL). */
static size_t visible_piece(const unsigned char *s, size_t n, char out[8],
                            size_t *used)
{
    unsigned long cp;
    size_t len = utf8_seq(s, n, &cp);

    *used = len ? len : 1;
    if (len == 0)
        return (size_t)snprintf(out, 8, "\\x%02x", s[0]);
    if (cp == '\n' || cp == '\r' || cp == '\t')
        return (size_t)snprintf(out, 8, "\\%c",
                                cp == '\n'   ? 'n'
                                : cp == '\r' ? 'r'
                                             : 't');
    if (cp < 0x20 || cp == 0x7f)
        return (size_t)snprintf(out, 8, "\\x%02lx", cp);
    if (cp >= 0x80 && cp <= 0x9f)
        return (size_t)snprintf(out, 8, "\\u%04lx", cp);
    memcpy(out, s, len);
    out[len] = '\0';
    return len;
}

void str_append_visible(struct buf *out, const char *s, size_t n)
{
    const unsigned char *p = (const unsigned char *)s;
    char piece[8];
    size_t used, len;

    while (n > 0) {
        len = visible_piece(p, n, piece, &used);
        buf_must_add(out, piece, len);
        p += used;
        n -= used;
    }
}

char *str_url_redacted(const char *url)
{
    const char *scheme = strstr(url, "://");
    const char *host = scheme ? scheme + 3 : url;
    size_t authority = strcspn(host, "/?#");
    const char *at = NULL;

    for (const char *p = host; p < host + authority; p++) {
        if (*p == '@')
            at = p;
    }
    if (!at)
        return xstrdup(url);
    return xasprintf("%.*s***%s", (int)(host - url), url, at);
}

void str_copy_printable(char *dst, size_t cap, const char *s, size_t n)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t j = 0, used, len;
    char piece[8];

    if (cap == 0)
        return;
    /* Whole characters and whole escapes only: a cut never leaves half
     * of either. */
    while (n > 0) {
        len = visible_piece(p, n, piece, &used);
        if (j + len + 1 > cap)
            break;
        memcpy(dst + j, piece, len);
        j += len;
        p += used;
        n -= used;
    }
    dst[j] = '\0';
}
