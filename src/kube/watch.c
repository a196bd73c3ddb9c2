#include "watch.h"
#include "../core/json_limit.h"

#include <string.h>

static const char *const type_names[] = {
    [KUBE_WATCH_ADDED] = "ADDED",     [KUBE_WATCH_MODIFIED] = "MODIFIED",
    [KUBE_WATCH_DELETED] = "DELETED", [KUBE_WATCH_BOOKMARK] = "BOOKMARK",
    [KUBE_WATCH_ERROR] = "ERROR",
};

#define N_TYPES (sizeof(type_names) / sizeof(type_names[0]))

void kube_watch_splitter_init(struct kube_watch_splitter *w,
                              size_t max_event_bytes)
{
    buf_init(&w->pending, max_event_bytes, BUF_SECRET);
    w->max_event_bytes = max_event_bytes;
}

void kube_watch_splitter_free(struct kube_watch_splitter *w)
{
    buf_free(&w->pending);
}

const char *kube_watch_type_name(enum kube_watch_type type)
{
    return (size_t)type < N_TYPES ? type_names[type] : "?";
}

bool kube_watch_event_is_expired(const struct kube_watch_event *ev)
{
    /* The code, not the reason: servers before 1.18 say "Gone". */
    return ev->type == KUBE_WATCH_ERROR && ev->error_code == 410;
}

static bool type_from_name(const char *name, enum kube_watch_type *out)
{
    for (size_t i = 0; i < N_TYPES; i++) {
        if (strcmp(name, type_names[i]) == 0) {
            *out = (enum kube_watch_type)i;
            return true;
        }
    }
    return false;
}

static void fill_event(json_t *object, struct kube_watch_event *ev)
{
    json_t *metadata = json_object_get(object, "metadata");
    const char *rv =
        json_string_value(json_object_get(metadata, "resourceVersion"));
    json_t *code;

    ev->object = object;
    ev->resource_version = rv ? rv : "";
    ev->error_code = 0;
    ev->error_reason[0] = '\0';
    ev->error_message[0] = '\0';
    if (ev->type != KUBE_WATCH_ERROR)
        return;
    code = json_object_get(object, "code");
    if (json_is_integer(code))
        ev->error_code = (long)json_integer_value(code);
    json_copy_printable(ev->error_reason, sizeof(ev->error_reason),
                        json_object_get(object, "reason"));
    json_copy_printable(ev->error_message, sizeof(ev->error_message),
                        json_object_get(object, "message"));
}

/* Parses one line into *root (the caller's reference, also on failure)
 * and ev. The messages name what is wrong but never quote the line:
 * Secret events carry passwords. */
static enum er_code parse_event(const char *line, size_t len, json_t **root,
                                struct kube_watch_event *ev,
                                struct er_error *err)
{
    json_t *type, *object;
    char shown[32];
    enum er_code rc;

    rc = json_limit_parse(line, len, JSON_LIMIT_BUDGET(len), "a watch event",
                          root, err);
    if (rc != ER_OK)
        return rc;
    if (!json_is_object(*root))
        return er_set(err, ER_PARSE, "a watch event is not a JSON object");
    type = json_object_get(*root, "type");
    if (!json_is_string(type))
        return er_set(err, ER_PARSE, "a watch event has no \"type\" string");
    if (!type_from_name(json_string_value(type), &ev->type)) {
        json_copy_printable(shown, sizeof(shown), type);
        return er_set(err, ER_PARSE, "a watch event has an unknown type \"%s\"",
                      shown);
    }
    object = json_object_get(*root, "object");
    if (!json_is_object(object))
        return er_set(err, ER_PARSE,
                      "a watch event of type %s has no \"object\"",
                      type_names[ev->type]);
    fill_event(object, ev);
    return ER_OK;
}

static bool is_blank(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (s[i] != ' ' && s[i] != '\t' && s[i] != '\r')
            return false;
    }
    return true;
}

/* One complete line, without its '\n'. */
static enum er_code handle_line(const char *line, size_t len,
                                kube_watch_event_fn fn, void *ctx,
                                struct er_error *err)
{
    struct kube_watch_event ev;
    json_t *root = NULL;
    enum er_code rc;

    if (is_blank(line, len))
        return ER_OK;
    if (line[len - 1] == '\r')
        len--; /* CRLF: the JSON parser would take it as a blank anyway */
    rc = parse_event(line, len, &root, &ev, err);
    if (rc == ER_OK)
        rc = fn(ctx, &ev, err);
    json_decref(root);
    return rc;
}

static enum er_code too_big(const struct kube_watch_splitter *w,
                            struct er_error *err)
{
    size_t max = w->max_event_bytes;

    if (max % 1024 == 0)
        return er_set(err, ER_PARSE, "a watch event larger than %zu KiB",
                      max / 1024);
    return er_set(err, ER_PARSE, "a watch event larger than %zu bytes", max);
}

/* The n bytes of data before a '\n' end a line. When nothing is pending
 * the line is read where it is, saving a copy; else it is completed in
 * the buffer, which is wiped once the line has been handled. */
static enum er_code take_line(struct kube_watch_splitter *w, const char *data,
                              size_t n, kube_watch_event_fn fn, void *ctx,
                              struct er_error *err)
{
    enum er_code rc;

    if (w->pending.len == 0)
        return n > w->max_event_bytes ? too_big(w, err)
                                      : handle_line(data, n, fn, ctx, err);
    if (buf_add(&w->pending, data, n) != BUF_OK)
        return too_big(w, err);
    rc = handle_line(w->pending.data, w->pending.len, fn, ctx, err);
    buf_reset(&w->pending);
    return rc;
}

enum er_code kube_watch_feed(struct kube_watch_splitter *w, const char *data,
                             size_t len, kube_watch_event_fn fn, void *ctx,
                             struct er_error *err)
{
    enum er_code rc = ER_OK;

    while (rc == ER_OK && len > 0) {
        const char *nl = memchr(data, '\n', len);
        size_t n = nl ? (size_t)(nl - data) : len;

        if (nl)
            rc = take_line(w, data, n, fn, ctx, err);
        else if (buf_add(&w->pending, data, n) != BUF_OK)
            rc = too_big(w, err); /* refused early: no need to see its end */
        data += nl ? n + 1 : n;
        len -= nl ? n + 1 : n;
    }
    if (rc != ER_OK)
        buf_reset(&w->pending); /* out of step with the stream: drop it */
    return rc;
}
