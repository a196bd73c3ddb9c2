/*
 * urlenc.h - RFC 3986 percent-encoding as SigV4 and form bodies need it:
 * every byte but A-Z a-z 0-9 - . _ ~ becomes %XX with upper-case hex.
 * Pure and allocation-free apart from the output buffer.
 */
#ifndef ECR_RENEW_CORE_URLENC_H
#define ECR_RENEW_CORE_URLENC_H

#include "buf.h"

#include <stdbool.h>
#include <stddef.h>

/* Appends the encoding of n bytes at s; '/' is kept when keep_slash. */
void urlenc_append(struct buf *out, const char *s, size_t n, bool keep_slash);

/* Appends the decoding of n bytes at s ("%41" -> "A"; '+' stays '+').
 * Malformed escapes are copied as they are. */
void urldec_append(struct buf *out, const char *s, size_t n);

#endif
