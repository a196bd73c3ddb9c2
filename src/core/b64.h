/*
 * b64.h - standard base64 (RFC 4648 section 4, with padding), via OpenSSL.
 */
#ifndef ECR_RENEW_CORE_B64_H
#define ECR_RENEW_CORE_B64_H

#include "buf.h"

#include <stddef.h>

/* Appends the encoding of n bytes at in to out (no line breaks). */
void b64_encode(struct buf *out, const void *in, size_t n);

/* Appends the decoding of n characters at in to out. Rejects anything
 * but the standard alphabet with correct padding; returns 0 or -1. */
int b64_decode(struct buf *out, const char *in, size_t n)
    __attribute__((warn_unused_result));

#endif
