#include "status.h"
#include "../core/json_limit.h"

#include <jansson.h>
#include <stdio.h>
#include <string.h>

static const struct {
    long code;
    const char *reason;
} reasons[] = {
    {400, "BadRequest"},
    {401, "Unauthorized"},
    {403, "Forbidden"},
    {404, "NotFound"},
    {405, "MethodNotAllowed"},
    {406, "NotAcceptable"},
    {409, "Conflict"},
    {410, "Expired"},
    {413, "RequestEntityTooLarge"},
    {415, "UnsupportedMediaType"},
    {422, "Invalid"},
    {429, "TooManyRequests"},
    {500, "InternalError"},
    {503, "ServiceUnavailable"},
    {504, "Timeout"},
};

static const char *reason_for(long http_status)
{
    for (size_t i = 0; i < sizeof(reasons) / sizeof(reasons[0]); i++) {
        if (reasons[i].code == http_status)
            return reasons[i].reason;
    }
    return http_status >= 500 ? "InternalError" : "Unknown";
}

void kube_status_parse(long http_status, const char *body, size_t len,
                       struct kube_status *st)
{
    json_t *root = NULL, *kind, *details, *code;
    struct er_error ignored;

    /* A Status is small; an answer too big or too odd to be one is not. */
    if (len && json_limit_parse(body, len, JSON_LIMIT_BUDGET(64 * 1024),
                                "Status", &root, &ignored) != ER_OK)
        root = NULL;
    kind = json_object_get(root, "kind");
    memset(st, 0, sizeof(*st));
    st->code = http_status;
    if (json_is_string(kind) &&
        strcmp(json_string_value(kind), "Status") == 0) {
        json_copy_printable(st->reason, sizeof(st->reason),
                            json_object_get(root, "reason"));
        json_copy_printable(st->message, sizeof(st->message),
                            json_object_get(root, "message"));
        details = json_object_get(root, "details");
        json_copy_printable(st->details_kind, sizeof(st->details_kind),
                            json_object_get(details, "kind"));
        json_copy_printable(st->details_name, sizeof(st->details_name),
                            json_object_get(details, "name"));
        code = json_object_get(root, "code");
        if (json_is_integer(code) && json_integer_value(code) > 0)
            st->code = (long)json_integer_value(code);
    }
    if (!st->reason[0])
        snprintf(st->reason, sizeof(st->reason), "%s", reason_for(http_status));
    json_decref(root);
}
