#include "event.h"
#include "../core/buf.h"
#include "../core/strutil.h"
#include "../core/timeutil.h"
#include "../core/xalloc.h"
#include "names.h"

#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

bool kube_event_type_ok(const char *type)
{
    return type && (strcmp(type, KUBE_EVENT_NORMAL) == 0 ||
                    strcmp(type, KUBE_EVENT_WARNING) == 0);
}

bool kube_event_cluster_scoped(const struct kube_event_object *obj)
{
    return !obj->ns || !obj->ns[0];
}

const char *kube_event_namespace(const struct kube_event_object *obj)
{
    return kube_event_cluster_scoped(obj) ? "default" : obj->ns;
}

void kube_event_name(const char *object_name, uint64_t unix_nanos,
                     uint64_t random_bits, char out[KUBE_EVENT_NAME_MAX])
{
    int n = snprintf(out, KUBE_EVENT_NAME_MAX, "%s.%016" PRIx64,
                     object_name ? object_name : "", unix_nanos);

    if (n < 0 || n >= KUBE_EVENT_NAME_MAX || !kube_name_is_subdomain(out))
        snprintf(out, KUBE_EVENT_NAME_MAX, "%016" PRIx64 "%016" PRIx64,
                 random_bits, unix_nanos);
}

/* s as a newly allocated UTF-8 string: itself, or its visible form. */
static char *utf8_copy(const char *s)
{
    struct buf b = BUF_INIT;

    if (!s)
        return xstrdup("");
    if (str_is_utf8(s, strlen(s)))
        return xstrdup(s);
    str_append_visible(&b, s, strlen(s));
    return buf_detach(&b, NULL);
}

char *kube_event_clip_message(const char *message)
{
    char *s = utf8_copy(message);
    size_t n = strlen(s);

    if (n > KUBE_EVENT_MESSAGE_MAX) {
        /* Back off to the first byte of the character cut through. */
        n = KUBE_EVENT_MESSAGE_MAX;
        while (n > 0 && ((unsigned char)s[n] & 0xc0) == 0x80)
            n--;
        s[n] = '\0';
    }
    return s;
}

/* A JSON string of s that never fails for want of UTF-8. */
static json_t *text(const char *s)
{
    char *copy = utf8_copy(s);
    json_t *j = json_string(copy);

    free(copy);
    return j;
}

static json_t *timestamp(time_t t)
{
    char out[TIME_RFC3339_LEN];

    time_format_rfc3339(t, out);
    return json_string(out);
}

static json_int_t api_count(long count)
{
    if (count < 1)
        return 1;
    return count > INT32_MAX ? INT32_MAX : (json_int_t)count;
}

static char *dump(json_t *doc)
{
    char *s = doc ? json_dumps(doc, JSON_COMPACT) : NULL;

    json_decref(doc);
    if (!s)
        abort(); /* only on allocation failure: every string is UTF-8 */
    return s;
}

static json_t *involved_object(const struct kube_event_object *obj)
{
    json_t *o = json_object();

    json_object_set_new(o, "apiVersion", text(obj->api_version));
    json_object_set_new(o, "kind", text(obj->kind));
    if (!kube_event_cluster_scoped(obj))
        json_object_set_new(o, "namespace", text(obj->ns));
    json_object_set_new(o, "name", text(obj->name));
    if (obj->uid && obj->uid[0])
        json_object_set_new(o, "uid", text(obj->uid));
    return o;
}

static char *post_body(const struct kube_event *ev, const char *name)
{
    char *msg = kube_event_clip_message(ev->message);
    json_t *doc = json_pack(
        "{s:s, s:s, s:{s:s, s:o}, s:o, s:o, s:s, s:o, s:{s:s, s:o}, s:o, "
        "s:o, s:I, s:s, s:o}",
        "apiVersion", "v1", "kind", "Event", "metadata", "name", name,
        "namespace", text(kube_event_namespace(ev->obj)), "involvedObject",
        involved_object(ev->obj), "reason", text(ev->reason), "message", msg,
        "type", text(ev->type), "source", "component", KUBE_EVENT_COMPONENT,
        "host", text(ev->instance), "firstTimestamp", timestamp(ev->first_time),
        "lastTimestamp", timestamp(ev->last_time), "count",
        api_count(ev->count), "reportingComponent", KUBE_EVENT_COMPONENT,
        "reportingInstance", text(ev->instance));

    free(msg);
    return dump(doc);
}

void kube_event_post_build(const struct kube_event *ev, uint64_t unix_nanos,
                           uint64_t random_bits, struct kube_event_post *out)
{
    char name[KUBE_EVENT_NAME_MAX];

    kube_event_name(ev->obj->name, unix_nanos, random_bits, name);
    out->name = xstrdup(name);
    out->path = xasprintf("/api/v1/namespaces/%s/events",
                          kube_event_namespace(ev->obj));
    out->body = post_body(ev, name);
}

void kube_event_post_free(struct kube_event_post *p)
{
    free(p->name);
    free(p->path);
    free(p->body);
    memset(p, 0, sizeof(*p));
}

void kube_event_patch_build(const char *ns, const char *name, long count,
                            const char *message, time_t last_time,
                            struct kube_event_patch *out)
{
    char *msg = kube_event_clip_message(message);

    out->path = xasprintf("/api/v1/namespaces/%s/events/%s", ns, name);
    out->body =
        dump(json_pack("{s:I, s:s, s:o}", "count", api_count(count), "message",
                       msg, "lastTimestamp", timestamp(last_time)));
    free(msg);
}

void kube_event_patch_free(struct kube_event_patch *p)
{
    free(p->path);
    free(p->body);
    memset(p, 0, sizeof(*p));
}
