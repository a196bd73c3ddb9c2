/*
 * The text validators on arbitrary bytes: what str_append_visible makes of
 * anything is valid UTF-8 with no control character, so no log line can
 * be forged; str_is_utf8 agrees with jansson; a redacted URL keeps no
 * userinfo.
 */
#include "core/strutil.h"
#include "core/wipe.h"

#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_visible(const char *s, size_t n)
{
    struct buf b = BUF_INIT;

    str_append_visible(&b, s, n);
    if (!str_is_utf8(buf_str(&b), b.len) || !str_has_no_controls(buf_str(&b)))
        abort();
    buf_free(&b);
}

static void check_utf8(const char *s, size_t n)
{
    json_t *j = json_stringn(s, n);

    /* jansson accepts exactly well-formed UTF-8 (NUL included). */
    if ((j != NULL) != str_is_utf8(s, n))
        abort();
    json_decref(j);
}

static void check_redacted(const char *s)
{
    char *r = str_url_redacted(s);
    const char *host = strstr(r, "://");

    host = host ? host + 3 : r;
    if (strchr(s, '@') && strcspn(host, "/?#") > 0 &&
        memchr(host, '@', strcspn(host, "/?#")) &&
        strncmp(host, "***@", 4) != 0)
        abort();
    free(r);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *s = malloc(size + 1);

    memcpy(s, data, size);
    s[size] = '\0';
    check_visible(s, size);
    check_utf8(s, size);
    check_redacted(s);
    free(s);
    return 0;
}
