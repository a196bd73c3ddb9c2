/*
 * json_limit.h - reading JSON from peers with bounded memory.
 *
 * Every JSON document ecr-renew reads comes from outside (AWS, the API
 * server, a credential plugin, a file), so it is parsed only when the
 * most its tree could cost (counted from its text before parsing) is
 * within a budget sized to what a real document of that kind needs, and
 * errors never quote the text, which may hold secrets. Strings taken out
 * of it for messages and logs keep printable text only.
 */
#ifndef ECR_RENEW_CORE_JSON_LIMIT_H
#define ECR_RENEW_CORE_JSON_LIMIT_H

#include "err.h"

#include <jansson.h>
#include <stddef.h>

/* Parses len bytes into *out (the caller's reference). ER_PARSE when the
 * text is not one JSON value ("<what> is not JSON (line 1, column 2)"),
 * or when building it would take more than budget bytes ("<what> is too
 * complex: ..."). */
enum er_code json_limit_parse(const char *text, size_t len, size_t budget,
                              const char *what, json_t **out,
                              struct er_error *err) ER_CHECK;

/* Copies the string v into dst (cap bytes, always terminated), keeping
 * printable text only, so a peer's text cannot forge log lines; "" when
 * v is not a string. */
void json_copy_printable(char *dst, size_t cap, const json_t *v);

/* The budget for a document of up to cap bytes of typical JSON. The
 * bound counts every '{', '[', ',' and ':' as a node of up to 300 bytes,
 * so real answers (mostly strings, a node every 20 bytes or more) cost
 * under 20 times their size by it; tiny objects, 100 to 150 times. */
#define JSON_LIMIT_BUDGET(cap)                                                 \
    ((size_t)(cap) < JSON_LIMIT_MAX_BUDGET / 20 ? (size_t)(cap)*20 + 64 * 1024 \
                                                : JSON_LIMIT_MAX_BUDGET)

/* No document may cost more than this, whatever its kind: with the
 * largest answer read (4 MiB) it keeps a run under 64 MiB. A real page
 * of 500 namespaces, managedFields and all, comes to about 9 MiB. */
#define JSON_LIMIT_MAX_BUDGET ((size_t)24 * 1024 * 1024)

#endif
