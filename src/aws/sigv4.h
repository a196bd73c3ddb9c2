/*
 * sigv4.h - AWS Signature Version 4, header form.
 *
 * Pure: no I/O and no clock; the caller passes the request exactly as it
 * will be sent and the signing time, and gets back the canonical request,
 * the string to sign, the signature and the headers to add. Proven
 * against the official AWS suite by tests/unit/test_sigv4_suite.c.
 *
 * Headers that proxies and libcurl add or rewrite on the way (hop-by-hop
 * headers, User-Agent, Expect, Authorization itself) are never signed, so
 * a signature cannot break in transit. See sigv4_header_is_signable.
 *
 * Ownership: inputs are borrowed. struct sigv4_signed owns its strings;
 * free it with sigv4_signed_free, which wipes them.
 */
#ifndef ECR_RENEW_AWS_SIGV4_H
#define ECR_RENEW_AWS_SIGV4_H

#include "../core/buf.h"
#include "../core/err.h"

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

struct sigv4_header {
    const char *name;
    const char *value;
};

struct sigv4_request {
    const char *method;
    const char *path;  /* raw (not percent-encoded) path: "/" for ECR */
    const char *query; /* text after '?', or NULL */
    const struct sigv4_header *headers; /* as sent, including Host */
    size_t n_headers;
    const void *body;
    size_t body_len;
};

struct sigv4_credentials {
    const char *access_key_id;
    const char *secret_access_key;
    const char *session_token; /* NULL for long-term keys */
};

struct sigv4_options {
    const char *region;
    const char *service;
    time_t when;
    bool normalize_path;      /* RFC 3986 dot-segments, "//"; all but S3 */
    bool add_content_sha256;  /* add and sign x-amz-content-sha256 */
    bool token_after_signing; /* add X-Amz-Security-Token unsigned */
};

#define SIGV4_MAX_ADDED 4

struct sigv4_added_header {
    const char *name; /* static string */
    char *value;
};

struct sigv4_signed {
    struct buf canonical_request;
    struct buf string_to_sign;
    char signature[65];
    /* Headers to append to the request, in this order. */
    struct sigv4_added_header added[SIGV4_MAX_ADDED];
    size_t n_added;
};

enum er_code sigv4_sign(const struct sigv4_request *req,
                        const struct sigv4_credentials *creds,
                        const struct sigv4_options *opt,
                        struct sigv4_signed *out,
                        struct er_error *err) ER_CHECK;

void sigv4_signed_free(struct sigv4_signed *s);

/* False for headers that must not be signed (see above). */
bool sigv4_header_is_signable(const char *name);

/* The value of an added header ("Authorization", ...) or NULL. */
const char *sigv4_added_value(const struct sigv4_signed *s, const char *name);

#endif
