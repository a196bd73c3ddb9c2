#include "accounts.h"
#include "../core/log.h"
#include "../core/xalloc.h"
#include "../kube/sa_patch.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct listed {
    const struct cluster_opts *o;
    struct str_list names; /* to patch */
};

static enum er_code take_account(void *ctx, json_t *sa, struct er_error *err)
{
    struct listed *l = ctx;
    const char *name = json_string_value(
        json_object_get(json_object_get(sa, "metadata"), "name"));

    (void)err;
    if (!sa) { /* the list started over */
        str_list_clear(&l->names);
        return ER_OK;
    }
    if (!name || kube_sa_lists(sa, l->o->secret_name))
        return ER_OK;
    if (l->o->all_service_accounts ||
        (l->o->annotated_service_accounts && kube_sa_opted_in(sa)) ||
        str_list_contains(&l->o->service_accounts, name))
        str_list_push(&l->names, name);
    return ER_OK;
}

static void failed(struct account_tally *t, const char *ns, const char *name,
                   const char *reason, const struct er_error *err)
{
    t->failed++;
    buf_must_addf(&t->failures, "%s%s/%s (%s)", t->failures.len ? ", " : "", ns,
                  name, reason);
    if (t->worst != ER_KUBE)
        t->worst = err->code;
    log_event(LOG_ERROR, "serviceaccount not patched", "namespace", ns,
              "serviceaccount", name, "reason", reason, "error", err->msg,
              LOG_END);
}

/* Which accounts: listed when "*" or the annotation asks for them (only
 * those lacking the Secret), else the names given. */
static enum er_code targets(struct kube_client *kc,
                            const struct cluster_opts *o, const char *ns,
                            struct listed *l, struct er_error *err)
{
    char *path, *rv = NULL;
    enum er_code rc;

    l->o = o;
    if (!cluster_lists_accounts(o)) {
        for (size_t i = 0; i < o->service_accounts.n; i++)
            str_list_push(&l->names, o->service_accounts.items[i]);
        return ER_OK;
    }
    path = xasprintf("/api/v1/namespaces/%s/serviceaccounts", ns);
    rc = kube_list(kc, path, NULL, take_account, l, &rv, err);
    free(path);
    free(rv);
    if (rc != ER_OK)
        er_wrap(err, "--service-account '*' and --annotated-service-accounts "
                     "need list on serviceaccounts");
    return rc;
}

void accounts_patch_namespace(struct kube_client *kc,
                              const struct cluster_opts *o, const char *ns,
                              struct account_tally *t)
{
    struct listed l = {0};
    struct er_error err = {0};
    struct kube_sa_result res;

    if (targets(kc, o, ns, &l, &err) != ER_OK) {
        failed(t, ns, "*", "ListFailed", &err);
        str_list_clear(&l.names);
        return;
    }
    for (size_t i = 0; i < l.names.n; i++) {
        const char *name = l.names.items[i];
        if (kube_sa_patch(kc, ns, name, o->secret_name, &res, &err) != ER_OK) {
            failed(t, ns, name, res.reason, &err);
            continue;
        }
        if (res.outcome == KUBE_SA_PATCHED)
            t->patched++;
        log_event(res.outcome == KUBE_SA_MISSING ? LOG_WARN : LOG_INFO,
                  res.outcome == KUBE_SA_PATCHED ? "serviceaccount patched"
                                                 : "serviceaccount left as "
                                                   "it is",
                  "namespace", ns, "serviceaccount", name, "secret",
                  o->secret_name, "outcome", kube_sa_outcome_name(res.outcome),
                  LOG_END);
    }
    str_list_clear(&l.names);
}
