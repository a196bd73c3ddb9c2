#include "reconcile.h"

#include <string.h>

struct reconcile_decision reconcile_decide(const struct secret_view *s,
                                           const struct reconcile_want *w)
{
    struct reconcile_decision d = {RECONCILE_NOTHING, false};
    bool was_good = s->good_hash[0] != '\0';

    if (!s->present) {
        d.action = RECONCILE_WRITE;
        d.restore = was_good; /* deleted after it was good */
    } else if (s->verdict == KUBE_SECRET_FOREIGN) {
        d.action = RECONCILE_FOREIGN;
    } else if (strcmp(s->data_hash, w->data_hash) == 0 &&
               s->expires_at >= w->expires_at) {
        /* Same data, and its annotations say so: fresh. (The same
         * password can come back with a later expiry; the annotation is
         * then brought up to date.) */
        d.action = RECONCILE_NOTHING;
    } else if (s->expires_at > w->expires_at &&
               strcmp(s->registries_hash, w->registries_hash) == 0) {
        /* A later token for the same registries: another copy renewed
         * first. Never replaced by an older one. */
        d.action = RECONCILE_KEEP_NEWER;
    } else {
        d.action = RECONCILE_WRITE;
        /* Our own older token is an update; anything else is drift. */
        d.restore = was_good && strcmp(s->data_hash, s->good_hash) != 0;
    }
    return d;
}

const char *reconcile_action_name(enum reconcile_action a)
{
    switch (a) {
    case RECONCILE_NOTHING:
        return "nothing";
    case RECONCILE_WRITE:
        return "write";
    case RECONCILE_KEEP_NEWER:
        return "keep newer";
    case RECONCILE_FOREIGN:
        return "foreign";
    }
    return "?";
}
