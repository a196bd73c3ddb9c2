#include "pull_secret.h"
#include "../core/b64.h"
#include "../core/buf.h"
#include "../core/json_limit.h"
#include "../core/timeutil.h"
#include "../core/wipe.h"

#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char *dump(json_t *obj)
{
    char *text = json_dumps(obj, JSON_COMPACT | JSON_PRESERVE_ORDER);

    if (!text)
        abort(); /* only on allocation failure */
    return text;
}

static json_t *ensure_object(json_t *parent, const char *key)
{
    json_t *o = json_object_get(parent, key);

    if (!json_is_object(o)) {
        o = json_object();
        json_object_set_new(parent, key, o);
    }
    return o;
}

/* Our label and annotations, added to whatever metadata is there. */
static void mark_ours(json_t *meta, const struct kube_secret_spec *spec)
{
    json_t *labels = ensure_object(meta, "labels");
    json_t *notes = ensure_object(meta, "annotations");

    json_object_set_new(labels, KUBE_MANAGED_BY_LABEL,
                        json_string(KUBE_MANAGED_BY));
    json_object_set_new(notes, KUBE_ANNOTATION_EXPIRES,
                        json_string(spec->expires_at));
    json_object_set_new(notes, KUBE_ANNOTATION_REGISTRIES,
                        json_string(spec->registries));
    json_object_set_new(notes, KUBE_ANNOTATION_RENEWED,
                        json_string(spec->renewed_at));
}

char *kube_secret_data_value(const struct kube_secret_spec *spec)
{
    struct buf enc = BUF_INIT_SECRET;

    b64_encode(&enc, spec->dockerconfigjson, strlen(spec->dockerconfigjson));
    return buf_detach(&enc, NULL);
}

static json_t *data_object(const struct kube_secret_spec *spec)
{
    char *enc = kube_secret_data_value(spec);
    json_t *data = json_object();

    json_object_set_new(data, KUBE_SECRET_KEY, json_string(enc));
    wipe_free_str(enc);
    return data;
}

char *kube_secret_create_body(const struct kube_secret_spec *spec,
                              const char *ns)
{
    json_t *root = json_object(), *meta = json_object();
    char *text;

    json_object_set_new(root, "apiVersion", json_string("v1"));
    json_object_set_new(root, "kind", json_string("Secret"));
    json_object_set_new(meta, "name", json_string(spec->name));
    json_object_set_new(meta, "namespace", json_string(ns));
    mark_ours(meta, spec);
    json_object_set_new(root, "metadata", meta);
    json_object_set_new(root, "type", json_string(KUBE_SECRET_TYPE));
    json_object_set_new(root, "data", data_object(spec));
    text = dump(root);
    json_decref(root);
    return text;
}

enum kube_secret_verdict kube_secret_judge(json_t *obj, char *reason,
                                           size_t cap)
{
    json_t *meta = json_object_get(obj, "metadata");
    json_t *type = json_object_get(obj, "type");
    json_t *owner =
        json_object_get(json_object_get(meta, "labels"), KUBE_MANAGED_BY_LABEL);
    json_t *refs = json_object_get(meta, "ownerReferences");
    const char *t = json_is_string(type) ? json_string_value(type) : "Opaque";

    if (strcmp(t, KUBE_SECRET_TYPE) != 0) {
        snprintf(reason, cap, "it has type %.80s, not " KUBE_SECRET_TYPE, t);
        return KUBE_SECRET_FOREIGN;
    }
    if (json_array_size(refs) > 0) {
        json_t *first = json_array_get(refs, 0);
        snprintf(reason, cap, "it is owned by %.60s %.100s",
                 json_string_value(json_object_get(first, "kind")) ?: "?",
                 json_string_value(json_object_get(first, "name")) ?: "?");
        return KUBE_SECRET_FOREIGN;
    }
    if (json_is_string(owner) &&
        strcmp(json_string_value(owner), KUBE_MANAGED_BY) != 0) {
        snprintf(reason, cap,
                 "it is managed by %.100s (label " KUBE_MANAGED_BY_LABEL ")",
                 json_string_value(owner));
        return KUBE_SECRET_FOREIGN;
    }
    return json_is_string(owner) ? KUBE_SECRET_OURS : KUBE_SECRET_TAKE_OVER;
}

enum er_code kube_secret_spec_check(const struct kube_secret_spec *spec,
                                    struct er_error *err)
{
    size_t n = strlen(spec->dockerconfigjson);

    if (n > KUBE_SECRET_DATA_MAX)
        return er_set(err, ER_KUBE,
                      "the pull Secret would hold %zu KiB of "
                      ".dockerconfigjson, more than the %u KiB the API server "
                      "allows in a Secret: too many registries, or passwords "
                      "far larger than ECR's",
                      n / 1024, KUBE_SECRET_DATA_MAX / 1024);
    return ER_OK;
}

time_t kube_secret_expires_at(json_t *obj)
{
    const char *v = json_string_value(json_object_get(
        json_object_get(json_object_get(obj, "metadata"), "annotations"),
        KUBE_ANNOTATION_EXPIRES));
    time_t t = 0;

    return v && time_parse_iso8601(v, &t) == 0 ? t : 0;
}

bool kube_secret_holds_later(json_t *obj, const struct kube_secret_spec *spec)
{
    const char *regs = json_string_value(json_object_get(
        json_object_get(json_object_get(obj, "metadata"), "annotations"),
        KUBE_ANNOTATION_REGISTRIES));
    time_t theirs = kube_secret_expires_at(obj), ours = 0;

    /* For the same registries only: a copy configured for other ones
     * does not hold what this one would write. */
    return theirs && regs && strcmp(regs, spec->registries) == 0 &&
           time_parse_iso8601(spec->expires_at, &ours) == 0 && theirs > ours;
}

static enum er_code load_secret(const char *existing, size_t len, json_t **out,
                                struct er_error *err)
{
    json_t *obj = NULL, *kind, *meta;
    enum er_code rc;

    rc = json_limit_parse(existing, len, JSON_LIMIT_BUDGET(len),
                          "the API server's answer", &obj, err);
    if (rc != ER_OK)
        return rc;
    kind = json_object_get(obj, "kind");
    meta = json_object_get(obj, "metadata");
    if (!json_is_object(obj) ||
        (kind && (!json_is_string(kind) ||
                  strcmp(json_string_value(kind), "Secret") != 0)))
        rc = er_set(err, ER_PARSE, "the API server's answer is not a Secret");
    else if (!json_is_object(meta) ||
             !json_is_string(json_object_get(meta, "resourceVersion")))
        rc = er_set(err, ER_PARSE,
                    "the API server's Secret has no metadata.resourceVersion");
    if (rc != ER_OK) {
        json_decref(obj);
        return rc;
    }
    *out = obj;
    return ER_OK;
}

enum er_code kube_secret_update_body(const char *existing, size_t len,
                                     const struct kube_secret_spec *spec,
                                     enum kube_secret_verdict *verdict,
                                     char **body, char *reason,
                                     size_t reason_cap, struct er_error *err)
{
    json_t *obj = NULL, *meta;
    enum er_code rc;

    *body = NULL;
    reason[0] = '\0';
    if ((rc = load_secret(existing, len, &obj, err)) != ER_OK)
        return rc;
    meta = json_object_get(obj, "metadata");
    *verdict = kube_secret_judge(obj, reason, reason_cap);
    if (*verdict == KUBE_SECRET_OURS && kube_secret_holds_later(obj, spec))
        *verdict = KUBE_SECRET_NEWER;
    if (*verdict == KUBE_SECRET_OURS || *verdict == KUBE_SECRET_TAKE_OVER) {
        /* Keep the object as it is, with its resourceVersion, and replace
         * only what is ours; managedFields is the server's to compute. */
        json_object_del(meta, "managedFields");
        json_object_del(obj, "stringData");
        /* kubectl apply keeps a copy of the whole object here, old token
         * included; once the data is replaced it only leaks a stale one. */
        json_object_del(json_object_get(meta, "annotations"),
                        KUBE_LAST_APPLIED_ANNOTATION);
        mark_ours(meta, spec);
        json_object_set_new(obj, "data", data_object(spec));
        *body = dump(obj);
    }
    json_decref(obj);
    return ER_OK;
}

char *kube_secret_patch_body(const struct kube_secret_spec *spec,
                             const char *resource_version)
{
    json_t *root = json_object(), *meta = json_object();
    char *text;

    json_object_set_new(meta, "resourceVersion", json_string(resource_version));
    mark_ours(meta, spec);
    json_object_set_new(json_object_get(meta, "annotations"),
                        KUBE_LAST_APPLIED_ANNOTATION, json_null());
    json_object_set_new(root, "metadata", meta);
    json_object_set_new(root, "data", data_object(spec));
    text = dump(root);
    json_decref(root);
    return text;
}

char *kube_namespace_body(const char *ns)
{
    json_t *root = json_pack("{s:s, s:s, s:{s:s}}", "apiVersion", "v1", "kind",
                             "Namespace", "metadata", "name", ns);
    char *text = dump(root);

    json_decref(root);
    return text;
}
