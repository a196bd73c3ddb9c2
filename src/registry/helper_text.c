#include "helper_text.h"

#include <string.h>

/* Decodes one UTF-8 sequence as Go's utf8.DecodeRune does: its length,
 * or 0 for an invalid one (which Go reads as one RuneError byte). */
static size_t utf8_rune(const unsigned char *s, size_t n, unsigned *cp)
{
    unsigned c = s[0], lo = 0x80, hi = 0xBF;
    size_t len;

    if (c < 0x80) {
        *cp = c;
        return 1;
    }
    if (c >= 0xC2 && c <= 0xDF)
        len = 2;
    else if (c >= 0xE0 && c <= 0xEF)
        len = 3;
    else if (c >= 0xF0 && c <= 0xF4)
        len = 4;
    else
        return 0;
    lo = c == 0xE0 ? 0xA0 : c == 0xF0 ? 0x90 : lo;
    hi = c == 0xED ? 0x9F : c == 0xF4 ? 0x8F : hi;
    if (n < len || s[1] < lo || s[1] > hi)
        return 0;
    *cp = c & (0x7F >> len);
    for (size_t i = 1; i < len; i++) {
        if (i > 1 && (s[i] & 0xC0) != 0x80)
            return 0;
        *cp = (*cp << 6) | (s[i] & 0x3F);
    }
    return len;
}

/* Go's unicode.IsSpace. */
static bool go_is_space(unsigned cp)
{
    return (cp >= '\t' && cp <= '\r') || cp == ' ' || cp == 0x85 ||
           cp == 0xA0 || cp == 0x1680 || (cp >= 0x2000 && cp <= 0x200A) ||
           cp == 0x2028 || cp == 0x2029 || cp == 0x202F || cp == 0x205F ||
           cp == 0x3000;
}

/* strings.TrimSpace: the bounds [*start, *end) of s without the white
 * space at both ends. */
static void go_trim_space(const char *s, size_t *start, size_t *end)
{
    const unsigned char *u = (const unsigned char *)s;
    unsigned cp;
    size_t len;

    while (*start < *end &&
           (len = utf8_rune(u + *start, *end - *start, &cp)) > 0 &&
           go_is_space(cp))
        *start += len;
    while (*end > *start) {
        size_t back = 1;
        while (back < 4 && back < *end - *start &&
               (u[*end - back] & 0xC0) == 0x80)
            back++;
        len = utf8_rune(u + *end - back, back, &cp);
        if (len != back || !go_is_space(cp))
            return;
        *end -= back;
    }
}

/* The server URL as credentials.Get reads it: bufio.Scanner's lines
 * joined (each line end, "\n" or "\r\n", and a last "\r", dropped),
 * then TrimSpace. False for input holding a NUL, which no C string can
 * echo. */
bool helper_server_url(const char *in, size_t n, struct buf *out)
{
    struct buf joined = BUF_INIT;
    size_t start = 0, end;

    if (memchr(in, '\0', n))
        return false;
    for (size_t i = 0; i <= n; i++) {
        if (i < n && in[i] != '\n')
            continue;
        end = i > start && in[i - 1] == '\r' ? i - 1 : i;
        buf_must_add(&joined, in + start, end - start);
        start = i + 1;
    }
    start = 0;
    end = joined.len;
    go_trim_space(buf_str(&joined), &start, &end);
    buf_must_add(out, buf_str(&joined) + start, end - start);
    buf_free(&joined);
    return true;
}

/* A JSON string exactly as Go's encoding/json writes it (HTML escaping
 * on, the default of json.Encoder): <, > and & as \u003c..., \b \f \n
 * \r \t by name, other controls as \u00XX, invalid UTF-8 as \ufffd, and
 * U+2028 and U+2029 escaped. */
void helper_json_quote(struct buf *out, const char *s, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    const unsigned char *u = (const unsigned char *)s;
    unsigned cp;
    size_t len;

    buf_must_adds(out, "\"");
    for (size_t i = 0; i < n; i += len ? len : 1) {
        const char *named = NULL;
        len = utf8_rune(u + i, n - i, &cp);
        if (len > 1 && cp != 0x2028 && cp != 0x2029) {
            buf_must_add(out, s + i, len);
            continue;
        }
        if (len == 1 && cp >= 0x20 && !strchr("\"\\<>&", (int)cp)) {
            buf_must_add(out, s + i, 1);
            continue;
        }
        named = !len         ? "\\ufffd"
                : cp == '"'  ? "\\\""
                : cp == '\\' ? "\\\\"
                : cp == '\b' ? "\\b"
                : cp == '\f' ? "\\f"
                : cp == '\n' ? "\\n"
                : cp == '\r' ? "\\r"
                : cp == '\t' ? "\\t"
                             : NULL;
        if (named)
            buf_must_adds(out, named);
        else
            buf_must_addf(out, "\\u%c%c%c%c", hex[(cp >> 12) & 15],
                          hex[(cp >> 8) & 15], hex[(cp >> 4) & 15],
                          hex[cp & 15]);
    }
    buf_must_adds(out, "\"");
}
