/*
 * helper_text.h - the docker credential-helper protocol's text forms, as
 * the reference helper's Go code reads and writes them (REFERENCE-2 §6):
 * the server URL of a get (bufio.Scanner's lines joined, then
 * strings.TrimSpace) and JSON strings as encoding/json quotes them.
 *
 * Pure; fuzzed by tests/fuzz/fuzz_helper_input.c.
 */
#ifndef ECR_RENEW_REGISTRY_HELPER_TEXT_H
#define ECR_RENEW_REGISTRY_HELPER_TEXT_H

#include "../core/buf.h"

#include <stdbool.h>
#include <stddef.h>

/* Appends the server URL that get's n bytes of stdin name to out. False
 * for input holding a NUL, which no C string can echo. */
bool helper_server_url(const char *in, size_t n, struct buf *out);

/* Appends s as Go's json.Encoder writes a string (HTML escaping on):
 * <, > and & as \u003c..., \b \f \n \r \t by name, other controls as
 * \u00XX, invalid UTF-8 as \ufffd, U+2028 and U+2029 escaped. */
void helper_json_quote(struct buf *out, const char *s, size_t n);

#endif
