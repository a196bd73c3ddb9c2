/*
 * digest.h - SHA-256, via OpenSSL, as lower-case hex.
 */
#ifndef ECR_RENEW_CORE_DIGEST_H
#define ECR_RENEW_CORE_DIGEST_H

#include <stddef.h>

#define DIGEST_SHA256_HEX_LEN 65 /* 64 hex digits and a NUL */

void digest_sha256_hex(const void *data, size_t n,
                       char out[DIGEST_SHA256_HEX_LEN]);

#endif
