#include "strutil.h"
#include "xalloc.h"

#include <ctype.h>
#include <errno.h>
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

void str_copy_printable(char *dst, size_t cap, const char *s, size_t n)
{
    size_t j = 0, i;

    if (cap == 0)
        return;
    for (i = 0; i < n && j + 1 < cap; i++) {
        unsigned char c = (unsigned char)s[i];
        dst[j++] = (c < 0x20 || c == 0x7f) ? ' ' : (char)c;
    }
    /* Cut short in the middle of a multi-byte character: drop its start. */
    if (i < n && ((unsigned char)s[i] & 0xC0) == 0x80) {
        while (j > 0 && ((unsigned char)dst[j - 1] & 0xC0) == 0x80)
            j--;
        if (j > 0 && (unsigned char)dst[j - 1] >= 0xC0)
            j--;
    }
    dst[j] = '\0';
}
