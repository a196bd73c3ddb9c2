#include "json_limit.h"
#include "wipe.h"

#include <string.h>

enum er_code json_limit_parse(const char *text, size_t len, size_t budget,
                              const char *what, json_t **out,
                              struct er_error *err)
{
    struct alloc_budget b;
    json_error_t je;
    json_t *root;

    wipe_budget_begin(&b, budget);
    root = json_loadb(text ? text : "", len, 0, &je);
    wipe_budget_end(&b);
    if (root) {
        *out = root;
        return ER_OK;
    }
    /* je.text may quote the input, which may hold secrets: not shown. */
    if (b.exceeded)
        return er_set(err, ER_PARSE,
                      "%s is too complex to read: building it would take "
                      "more than %zu KiB of memory (a real one needs far "
                      "less)",
                      what, budget / 1024);
    if (len == 0)
        return er_set(err, ER_PARSE, "%s is empty, not JSON", what);
    if (strstr(je.text, "depth"))
        return er_set(err, ER_PARSE,
                      "%s is nested more than %d levels deep; no real one is",
                      what, JSON_PARSER_MAX_DEPTH);
    return er_set(err, ER_PARSE, "%s is not JSON (line %d, column %d)", what,
                  je.line, je.column);
}
