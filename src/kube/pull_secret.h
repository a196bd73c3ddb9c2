/*
 * pull_secret.h - the pull Secret ecr-renew writes, and whether it may.
 *
 * Pure: builds request bodies and judges an existing Secret; the I/O is
 * in sync.c.
 *
 * Who owns a same-named Secret:
 *   - type other than kubernetes.io/dockerconfigjson: not ours, refused;
 *   - an app.kubernetes.io/managed-by label other than ecr-renew, or any
 *     ownerReferences (Helm, External Secrets, a controller): refused;
 *   - managed-by ecr-renew: ours, updated;
 *   - no managed-by label (made by the old CronJob's kubectl delete and
 *     create, or by hand): taken over in place and labelled ours.
 * An update keeps everything else in the object (other labels and
 * annotations, uid) and carries its resourceVersion, so a concurrent
 * change makes it fail with 409 instead of being overwritten. The one
 * thing dropped is kubectl's last-applied-configuration annotation, a copy
 * of the object made by "kubectl apply" that would keep the old password.
 */
#ifndef ECR_RENEW_KUBE_PULL_SECRET_H
#define ECR_RENEW_KUBE_PULL_SECRET_H

#include "../core/err.h"

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#define KUBE_SECRET_TYPE "kubernetes.io/dockerconfigjson"
#define KUBE_SECRET_KEY ".dockerconfigjson"
#define KUBE_MANAGED_BY_LABEL "app.kubernetes.io/managed-by"
#define KUBE_MANAGED_BY "ecr-renew"
#define KUBE_ANNOTATION_EXPIRES "ecr-renew/expires-at"
#define KUBE_ANNOTATION_REGISTRIES "ecr-renew/registries"
#define KUBE_ANNOTATION_RENEWED "ecr-renew/renewed-at"
#define KUBE_LAST_APPLIED_ANNOTATION                                           \
    "kubectl.kubernetes.io/last-applied-configuration"
/* kube-apiserver refuses a Secret whose data adds up to more than this. */
#define KUBE_SECRET_DATA_MAX (1024u * 1024)

/* What the Secret should hold. Borrowed strings. */
struct kube_secret_spec {
    const char *name;
    const char *dockerconfigjson; /* secret: the document, not base64 */
    const char *expires_at;       /* RFC 3339, earliest token expiry */
    const char *registries;       /* "host1,host2" */
    const char *renewed_at;       /* RFC 3339 */
};

enum kube_secret_verdict {
    KUBE_SECRET_OURS,
    KUBE_SECRET_TAKE_OVER,
    KUBE_SECRET_FOREIGN, /* refused: see reason */
    KUBE_SECRET_NEWER,   /* ours, holding a later token: kept as it is */
};

/* Who owns an existing Secret object, by the rules above; for a foreign
 * one, reason says why. Pure. */
enum kube_secret_verdict kube_secret_judge(json_t *obj, char *reason,
                                           size_t cap);

/* The ecr-renew/expires-at annotation of a Secret object as epoch
 * seconds, or 0 when it has none that reads as a time. */
time_t kube_secret_expires_at(json_t *obj);

/* True when a Secret object holds a token for the same registries as
 * spec that expires later: another copy renewed first. Pure. */
bool kube_secret_holds_later(json_t *obj, const struct kube_secret_spec *spec);

/* The base64 of the document as the Secret's data holds it, so a Secret
 * seen on a watch can be compared with what would be written. Newly
 * allocated; free with wipe_free_str. */
char *kube_secret_data_value(const struct kube_secret_spec *spec);

/* ER_KUBE when the document is larger than a Secret may hold, saying so
 * before any request is made (and instead of the API server's 422). */
enum er_code kube_secret_spec_check(const struct kube_secret_spec *spec,
                                    struct er_error *err) ER_CHECK;

/* The body of a create (POST) in namespace ns; secret, free with
 * wipe_free_str. */
char *kube_secret_create_body(const struct kube_secret_spec *spec,
                              const char *ns);

/* Judges an existing Secret (the JSON of a GET) and, unless it is
 * foreign or holds a later token than spec (another copy renewed first:
 * KUBE_SECRET_NEWER, never replaced by an older one), builds the update
 * (PUT) body into *body (secret). For a foreign Secret, reason says why
 * ("it has type Opaque"). ER_PARSE when the answer is not JSON, not a
 * Secret, or has no resourceVersion. */
enum er_code kube_secret_update_body(const char *existing, size_t len,
                                     const struct kube_secret_spec *spec,
                                     enum kube_secret_verdict *verdict,
                                     char **body, char *reason,
                                     size_t reason_cap,
                                     struct er_error *err) ER_CHECK;

/* A JSON merge patch that makes a Secret at resource_version (ours, or
 * one to take over) hold spec, keeping everything else; the version is
 * its precondition, so a Secret changed meanwhile is refused (409).
 * Secret; free with wipe_free_str. */
char *kube_secret_patch_body(const struct kube_secret_spec *spec,
                             const char *resource_version);

#define KUBE_MERGE_PATCH "application/merge-patch+json"

/* The body that creates namespace ns. */
char *kube_namespace_body(const char *ns);

#endif
