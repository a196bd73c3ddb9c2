/*
 * reconcile.h - what to do about one namespace's pull Secret.
 *
 * The controller knows each Secret from the watch (a digest of its data,
 * who owns it, the expiry it announces) and the data it last knew good.
 * From that and the Secret it wants, this decides: nothing (it holds the
 * current tokens), write (it is missing or stale; a "restore" when
 * someone deleted or changed it after it was good), keep (it holds a later
 * token than ours: another copy renewed first), or report (it is not ours).
 * Pure.
 */
#ifndef ECR_RENEW_CTL_RECONCILE_H
#define ECR_RENEW_CTL_RECONCILE_H

#include "../core/digest.h"
#include "../kube/pull_secret.h"

#include <stdbool.h>
#include <time.h>

struct secret_view {
    bool present;
    enum kube_secret_verdict verdict;            /* ours, take over, foreign */
    char data_hash[DIGEST_SHA256_HEX_LEN];       /* of its .dockerconfigjson */
    time_t expires_at;                           /* its annotation, or 0 */
    char registries_hash[DIGEST_SHA256_HEX_LEN]; /* of that annotation */
    /* The data it last held that was known good (written by us, or seen
     * holding the tokens in use), or "": a Secret that leaves that state
     * for anything but a renewal was deleted or changed by someone. */
    char good_hash[DIGEST_SHA256_HEX_LEN];
};

enum reconcile_action {
    RECONCILE_NOTHING,
    RECONCILE_WRITE,
    RECONCILE_KEEP_NEWER,
    RECONCILE_FOREIGN,
};

struct reconcile_decision {
    enum reconcile_action action;
    bool restore; /* a write that puts back what someone removed */
};

/* What the Secret should hold: digests of its data and of its
 * registries annotation, and when its token expires. */
struct reconcile_want {
    const char *data_hash;
    const char *registries_hash;
    time_t expires_at;
};

struct reconcile_decision reconcile_decide(const struct secret_view *s,
                                           const struct reconcile_want *w);

const char *reconcile_action_name(enum reconcile_action a);

#endif
