#include "pod_heal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *str_at(json_t *obj, const char *key)
{
    const char *s = json_string_value(json_object_get(obj, key));

    return s ? s : "";
}

void pod_heal_image_host(const char *image, char *out, size_t cap)
{
    const char *slash = strchr(image, '/');
    size_t n;

    out[0] = '\0';
    if (!slash)
        return;
    n = (size_t)(slash - image);
    /* "library/nginx" is a Docker Hub path, not a host: a host has a dot
     * or a port, or is localhost. */
    if (memchr(image, '.', n) == NULL && memchr(image, ':', n) == NULL &&
        !(n == 9 && strncmp(image, "localhost", 9) == 0))
        return;
    snprintf(out, cap, "%.*s", (int)n, image);
}

static bool stuck_reason(const char *reason)
{
    return strcmp(reason, "ErrImagePull") == 0 ||
           strcmp(reason, "ImagePullBackOff") == 0;
}

/* The image of the first container waiting to pull from one of hosts. */
static const char *stuck_image(json_t *statuses, const struct str_list *hosts)
{
    size_t i;
    json_t *st;
    char host[256];

    json_array_foreach(statuses, i, st)
    {
        json_t *waiting =
            json_object_get(json_object_get(st, "state"), "waiting");
        const char *image = str_at(st, "image");
        if (!stuck_reason(str_at(waiting, "reason")))
            continue;
        pod_heal_image_host(image, host, sizeof(host));
        if (host[0] && str_list_contains(hosts, host))
            return image;
    }
    return NULL;
}

static bool lists(json_t *spec, const char *secret)
{
    size_t i;
    json_t *ref;

    json_array_foreach(json_object_get(spec, "imagePullSecrets"), i, ref)
    {
        if (strcmp(str_at(ref, "name"), secret) == 0)
            return true;
    }
    return false;
}

/* The controller owner, when it is one that re-creates its pods. */
static json_t *controller_owner(json_t *meta)
{
    static const char *const kinds[] = {"ReplicaSet", "StatefulSet",
                                        "DaemonSet", "Job", NULL};
    size_t i;
    json_t *ref;

    json_array_foreach(json_object_get(meta, "ownerReferences"), i, ref)
    {
        if (!json_is_true(json_object_get(ref, "controller")))
            continue;
        for (size_t k = 0; kinds[k]; k++) {
            if (strcmp(str_at(ref, "kind"), kinds[k]) == 0)
                return ref;
        }
    }
    return NULL;
}

bool pod_heal_inspect(json_t *pod, const char *secret,
                      const struct str_list *hosts, struct pod_heal_view *out)
{
    json_t *meta = json_object_get(pod, "metadata");
    json_t *spec = json_object_get(pod, "spec");
    json_t *status = json_object_get(pod, "status");
    json_t *owner;
    const char *image, *account;

    memset(out, 0, sizeof(*out));
    if (json_is_string(json_object_get(meta, "deletionTimestamp")) ||
        lists(spec, secret) || !(owner = controller_owner(meta)))
        return false;
    image = stuck_image(json_object_get(status, "containerStatuses"), hosts);
    if (!image)
        image = stuck_image(json_object_get(status, "initContainerStatuses"),
                            hosts);
    if (!image || !*str_at(meta, "uid") || !*str_at(meta, "name"))
        return false;
    account = str_at(spec, "serviceAccountName");
    snprintf(out->ns, sizeof(out->ns), "%s", str_at(meta, "namespace"));
    snprintf(out->name, sizeof(out->name), "%s", str_at(meta, "name"));
    snprintf(out->uid, sizeof(out->uid), "%s", str_at(meta, "uid"));
    snprintf(out->account, sizeof(out->account), "%s",
             *account ? account : "default");
    snprintf(out->owner_kind, sizeof(out->owner_kind), "%s",
             str_at(owner, "kind"));
    snprintf(out->owner_name, sizeof(out->owner_name), "%s",
             str_at(owner, "name"));
    snprintf(out->owner_api_version, sizeof(out->owner_api_version), "%s",
             str_at(owner, "apiVersion"));
    snprintf(out->image, sizeof(out->image), "%s", image);
    return out->ns[0] != '\0';
}

char *pod_heal_delete_body(const char *uid)
{
    json_t *root = json_pack("{s:s, s:s, s:{s:s}}", "apiVersion", "v1", "kind",
                             "DeleteOptions", "preconditions", "uid", uid);
    char *text = json_dumps(root, JSON_COMPACT);

    json_decref(root);
    if (!text)
        abort(); /* only on allocation failure */
    return text;
}
