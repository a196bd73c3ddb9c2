/*
 * The docker helper's input and output text on arbitrary stdin: the
 * server URL as the reference reads it (lines joined, TrimSpace), then
 * quoted as Go's encoding/json quotes it. The quoted form must be one
 * JSON string that reads back as the URL (invalid UTF-8 as U+FFFD), with
 * no <, > or & left bare; then the host lookup must not crash.
 */
#include "core/strutil.h"
#include "registry/helper_text.h"
#include "registry/node_creds.h"

#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_quoted(const struct buf *url, const struct buf *q)
{
    json_error_t je;
    json_t *v = json_loadb(q->data, q->len, JSON_DECODE_ANY, &je);

    if (!v || !json_is_string(v) || strpbrk(buf_str(q), "<>&"))
        abort();
    /* Valid UTF-8 reads back byte for byte. */
    if (str_is_utf8(buf_str(url), url->len) &&
        (json_string_length(v) != url->len ||
         memcmp(json_string_value(v), buf_str(url), url->len) != 0))
        abort();
    json_decref(v);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct buf url = BUF_INIT, q = BUF_INIT;
    struct node_request req = {0};
    struct ecr_host host;
    struct er_error err;
    char asked[256];

    if (helper_server_url((const char *)data, size, &url)) {
        if (url.len && (strchr(" \t\r\n\v\f", url.data[0]) ||
                        strchr(" \t\r\n\v\f", url.data[url.len - 1])))
            abort(); /* TrimSpace left white space */
        helper_json_quote(&q, buf_str(&url), url.len);
        check_quoted(&url, &q);
        req.image = buf_str(&url);
        (void)node_resolve_host(&req, &host, asked, &err);
    }
    buf_free(&url);
    buf_free(&q);
    return 0;
}
