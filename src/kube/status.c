#include "status.h"
#include "../core/json_limit.h"
#include "../core/strutil.h"

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

/* Keeps printable text only, so answers cannot forge log lines. */
static void copy_clean(char *dst, size_t cap, json_t *v)
{
    if (json_is_string(v))
        str_copy_printable(dst, cap, json_string_value(v),
                           json_string_length(v));
    else
        dst[0] = '\0';
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
        copy_clean(st->reason, sizeof(st->reason),
                   json_object_get(root, "reason"));
        copy_clean(st->message, sizeof(st->message),
                   json_object_get(root, "message"));
        details = json_object_get(root, "details");
        copy_clean(st->details_kind, sizeof(st->details_kind),
                   json_object_get(details, "kind"));
        copy_clean(st->details_name, sizeof(st->details_name),
                   json_object_get(details, "name"));
        code = json_object_get(root, "code");
        if (json_is_integer(code) && json_integer_value(code) > 0)
            st->code = (long)json_integer_value(code);
    }
    if (!st->reason[0])
        snprintf(st->reason, sizeof(st->reason), "%s", reason_for(http_status));
    json_decref(root);
}
