/*
 * strutil.h - small string helpers that the standard library lacks.
 */
#ifndef ECR_RENEW_CORE_STRUTIL_H
#define ECR_RENEW_CORE_STRUTIL_H

#include "buf.h"

#include <stdbool.h>
#include <stddef.h>

bool str_has_prefix(const char *s, const char *prefix);
bool str_has_suffix(const char *s, const char *suffix);
bool str_eq_ci(const char *a, const char *b);

/* Returns s with leading and trailing ASCII whitespace skipped; *len is
 * set to the trimmed length. Does not modify s. */
const char *str_trim(const char *s, size_t *len);

/* Trims trailing '\r', '\n', ' ' and '\t' in place. */
void str_rtrim_inplace(char *s);

/* "true"/"1"/"yes"/"on" (any case) are true; everything else false. */
bool str_is_true(const char *s);

/* Strict decimal parse of a whole string into a long within [min, max].
 * Returns 0 on success, -1 on any junk, overflow or range error. */
int str_to_long(const char *s, long min, long max, long *out)
    __attribute__((warn_unused_result));

/* A list of newly allocated strings; items is NULL-terminated when n > 0.
 * Zero-initialise it; str_list_clear frees it. */
struct str_list {
    char **items;
    size_t n;
};

/* Appends a copy of s. */
void str_list_push(struct str_list *l, const char *s);

/* Splits s at sep and appends the trimmed, non-empty pieces. Returns how
 * many pieces were blank, so callers that take names can refuse them. */
size_t str_list_add_split(struct str_list *l, const char *s, char sep);

bool str_list_contains(const struct str_list *l, const char *s);

void str_list_clear(struct str_list *l);

/* Copies up to n bytes of s into dst (capacity cap, always terminated)
 * in the visible form of str_append_visible, so a peer's text cannot
 * forge log lines, yet shows what it held; cut short only between whole
 * characters and escapes. */
void str_copy_printable(char *dst, size_t cap, const char *s, size_t n);

/* True when s holds no control character (U+0000-U+001F, DEL): what a
 * header value, a credential or a token must be, since CR or LF in one
 * would become extra header lines of the request that carries it. */
bool str_has_no_controls(const char *s);

/* True for n bytes of well-formed UTF-8 (no overlong forms, surrogates
 * or code points past U+10FFFF), which is what JSON text must be. */
bool str_is_utf8(const char *s, size_t n);

/* Appends n bytes of s with everything a terminal or log reader could
 * take for structure made visible: control characters as \n, \r, \t or
 * \xNN, C1 controls as \u0080-\u009f, bytes that are not UTF-8 as
 * \xNN. Printable text, the backslash included, is unchanged, so doing
 * it twice changes nothing more. */
void str_append_visible(struct buf *out, const char *s, size_t n);

/* A newly allocated copy of url whose userinfo ("user:password@") is
 * replaced by "***@", for messages: a password in a URL is still a
 * password. */
char *str_url_redacted(const char *url);

#endif
