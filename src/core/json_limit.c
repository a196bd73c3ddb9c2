#include "json_limit.h"
#include "strutil.h"

#include <stdbool.h>
#include <string.h>

/* What jansson may allocate for a document, from one pass over its text:
 * at most one node (or object member) per '{', '[', ',' and ':' outside
 * strings, each at most JSON_NODE_COST bytes, and the text's bytes a few
 * times over (copies of strings, and the lexer's buffer as it doubles).
 * Measured on jansson 2.14: an empty object costs 260 bytes, an object
 * member 200, a number 70, a string's byte under 5. */
#define JSON_NODE_COST 300
#define JSON_BYTE_COST 6

static size_t worst_case(const char *text, size_t len)
{
    size_t nodes = 1;
    bool in_string = false, escaped = false;

    for (size_t i = 0; i < len; i++) {
        char c = text[i];
        if (in_string) {
            if (escaped)
                escaped = false;
            else if (c == '\\')
                escaped = true;
            else if (c == '"')
                in_string = false;
        } else if (c == '"') {
            in_string = true;
        } else if (c == '{' || c == '[' || c == ',' || c == ':') {
            nodes++;
        }
    }
    return nodes * JSON_NODE_COST + len * JSON_BYTE_COST;
}

/* The bound is checked before jansson runs rather than enforced on its
 * allocations: jansson 2.14's lexer does not survive an allocation that
 * fails (it asserts), so it must never be made to fail one. */
enum er_code json_limit_parse(const char *text, size_t len, size_t budget,
                              const char *what, json_t **out,
                              struct er_error *err)
{
    json_error_t je;
    json_t *root;

    if (len > 0 && worst_case(text, len) > budget)
        return er_set(err, ER_PARSE,
                      "%s is too complex to read: building it could take "
                      "more than %zu KiB of memory (a real one needs far "
                      "less)",
                      what, budget / 1024);
    root = json_loadb(text ? text : "", len, 0, &je);
    if (root) {
        *out = root;
        return ER_OK;
    }
    /* je.text may quote the input, which may hold secrets: not shown. */
    if (len == 0)
        return er_set(err, ER_PARSE, "%s is empty, not JSON", what);
    if (strstr(je.text, "depth"))
        return er_set(err, ER_PARSE,
                      "%s is nested more than %d levels deep; no real one is",
                      what, JSON_PARSER_MAX_DEPTH);
    return er_set(err, ER_PARSE, "%s is not JSON (line %d, column %d)", what,
                  je.line, je.column);
}

void json_copy_printable(char *dst, size_t cap, const json_t *v)
{
    if (json_is_string(v))
        str_copy_printable(dst, cap, json_string_value(v),
                           json_string_length(v));
    else
        dst[0] = '\0';
}
