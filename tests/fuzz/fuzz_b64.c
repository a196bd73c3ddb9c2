/*
 * b64_decode on arbitrary text, and encode-then-decode on arbitrary
 * bytes, which must give the bytes back.
 */
#include "core/b64.h"
#include "core/buf.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = malloc(size ? size : 1);
    struct buf dec = BUF_INIT, enc = BUF_INIT, back = BUF_INIT;

    memcpy(text, data, size);
    if (b64_decode(&dec, text, size) == 0 && dec.len > size / 4 * 3)
        abort();
    b64_encode(&enc, data, size);
    if (b64_decode(&back, buf_str(&enc), enc.len) != 0 || back.len != size ||
        (size && memcmp(back.data, data, size) != 0))
        abort();
    buf_free(&dec);
    buf_free(&enc);
    buf_free(&back);
    free(text);
    return 0;
}
