/*
 * pod_heal.h - which pods were created too early to pull: the rules of
 * run --heal-pods, pure.
 *
 * The ServiceAccount admission plugin copies imagePullSecrets into a pod
 * only when the pod is created, and a pod's spec cannot change after
 * (REFERENCE-2 §4.4). A pod created before its account got our Secret
 * waits in ErrImagePull or ImagePullBackOff for ever. Deleting it, when
 * a controller owns it, makes the owner create it again, with the
 * reference this time. A pod is a candidate when:
 *   - a container (or init container) waits in ErrImagePull or
 *     ImagePullBackOff for an image on one of our registry hosts;
 *   - its spec.imagePullSecrets does not name our Secret;
 *   - a controller owns it: a ReplicaSet, StatefulSet, DaemonSet or Job
 *     (never a bare pod: nothing would make it again).
 * Whether its ServiceAccount now lists the Secret is for the caller,
 * which watches the accounts.
 */
#ifndef ECR_RENEW_KUBE_POD_HEAL_H
#define ECR_RENEW_KUBE_POD_HEAL_H

#include "../core/strutil.h"

#include <jansson.h>
#include <stdbool.h>

struct pod_heal_view {
    char ns[64];
    char name[254];
    char uid[64];
    char account[254]; /* spec.serviceAccountName, "default" when unset */
    char owner_kind[32];
    char owner_name[254];
    char owner_api_version[64];
    char image[512]; /* the image it is stuck on */
};

/* True when the pod (its JSON) is a candidate by the rules above, for
 * the Secret secret and the registry hosts hosts; *out then describes
 * it. */
bool pod_heal_inspect(json_t *pod, const char *secret,
                      const struct str_list *hosts, struct pod_heal_view *out);

/* The host of an image reference ("host/path:tag"), in out; "" for one
 * with no host part (Docker Hub). */
void pod_heal_image_host(const char *image, char *out, size_t cap);

/* The DeleteOptions body that deletes this pod and no other: a uid
 * precondition, so a pod re-created under the same name is left alone.
 * Newly allocated. */
char *pod_heal_delete_body(const char *uid);

#endif
