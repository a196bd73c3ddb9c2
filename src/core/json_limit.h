/*
 * json_limit.h - reading JSON from peers with bounded memory.
 *
 * Every JSON document ecr-renew reads comes from outside (AWS, the API
 * server, a credential plugin, a file), so it is parsed under a memory
 * budget (see wipe.h) sized to what a real document of that kind needs,
 * and errors never quote the text, which may hold secrets.
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

/* The budget for a document of up to cap bytes of typical JSON: real
 * answers, mostly strings, need 1 to 3 times their size as jansson
 * nodes; tiny objects need 30 to 80 times. */
#define JSON_LIMIT_BUDGET(cap) ((size_t)(cap)*4 + 64 * 1024)

#endif
