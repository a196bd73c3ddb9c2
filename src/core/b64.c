#include "b64.h"
#include "wipe.h"
#include "xalloc.h"

#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>

void b64_encode(struct buf *out, const void *in, size_t n)
{
    size_t enc_len = 4 * ((n + 2) / 3);
    unsigned char *tmp = xmalloc(enc_len + 1);
    int got;

    got = EVP_EncodeBlock(tmp, in, (int)n);
    buf_must_add(out, tmp, (size_t)got);
    /* The input may be a password; its encoding is just as secret. */
    wipe_bytes(tmp, enc_len + 1);
    free(tmp);
}

static int is_b64_char(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
           (c >= '0' && c <= '9') || c == '+' || c == '/';
}

/* EVP_DecodeBlock skips whitespace and accepts padding anywhere, so check
 * the shape first: full quartets, padding only at the very end. */
static int well_formed(const char *in, size_t n, size_t *pad)
{
    size_t i;

    if (n % 4 != 0)
        return 0;
    *pad = 0;
    if (n >= 1 && in[n - 1] == '=')
        (*pad)++;
    if (n >= 2 && in[n - 2] == '=')
        (*pad)++;
    for (i = 0; i < n - *pad; i++) {
        if (!is_b64_char((unsigned char)in[i]))
            return 0;
    }
    return 1;
}

int b64_decode(struct buf *out, const char *in, size_t n)
{
    unsigned char *tmp;
    size_t pad, cap;
    int got, rc = -1;

    if (!well_formed(in, n, &pad))
        return -1;
    if (n == 0)
        return 0;
    cap = n / 4 * 3;
    tmp = xmalloc(cap + 1);
    got = EVP_DecodeBlock(tmp, (const unsigned char *)in, (int)n);
    if (got >= 0 && (size_t)got == cap &&
        buf_add(out, tmp, cap - pad) == BUF_OK)
        rc = 0;
    wipe_bytes(tmp, cap + 1);
    free(tmp);
    return rc;
}
