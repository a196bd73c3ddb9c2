/*
 * internal.h - the controller's state, shared by its two halves:
 * controller.c (the informers' callbacks, tokens, readiness, metrics) and
 * work.c (reconciling and the write queue). Not for other modules.
 *
 * Everything here is changed on the loop only.
 */
#ifndef ECR_RENEW_CTL_INTERNAL_H
#define ECR_RENEW_CTL_INTERNAL_H

#include "../core/digest.h"
#include "../core/strmap.h"
#include "../kube/informer.h"
#include "../kube/sa_patch.h"
#include "../kube/sync.h"
#include "controller.h"
#include "events.h"
#include "heal.h"
#include "leader.h"
#include "metrics.h"
#include "reconcile.h"
#include "schedule.h"

#include <stdbool.h>

/* A ServiceAccount of a namespace, as its watch shows it. */
struct account_state {
    char *name;
    char *rv;
    bool exists;
    bool lists_secret; /* its imagePullSecrets names our Secret */
    bool opted_in;     /* ecr-renew/pull-secret: "true" */
    bool has_list;     /* it has an imagePullSecrets array */
    int failures;
    struct loop_timer *retry;
    struct ns_state *ns;
};

enum job_kind { JOB_NONE, JOB_SECRET, JOB_ACCOUNT };

/* One namespace, as far as its pull Secret and accounts are concerned. */
struct ns_state {
    struct controller *c;
    char *name;
    bool exists;               /* seen on the namespace watch */
    enum ns_verdict verdict;   /* selected, excluded... */
    struct secret_view secret; /* from the Secret watch and our writes */
    char *rv;                  /* the Secret's resourceVersion, or NULL */
    char *foreign_reported_rv; /* a foreign Secret is reported once */
    char *foreign_why;         /* why it is not ours, or NULL */
    struct strmap accounts;    /* name -> struct account_state */
    bool queued;
    /* At most one job at a time per namespace: the Secret first, then its
     * accounts one by one. */
    enum job_kind job;
    /* Allocated while running only: a job's error buffer is KiBs, and
     * there is a state for every namespace. */
    struct kube_sync_job *secret_job;
    struct kube_sa_job *account_job;
    struct account_state *job_account;
    struct kube_pending *pending;
    bool restoring;
    int failures;
    struct loop_timer *retry;
    bool failed; /* the last Secret write failed */
};

struct controller_metrics {
    struct metrics *m;
    struct metric_family *expiry, *writes, *errors, *aws_errors, *namespaces,
        *last_success, *build, *renewals, *accounts, *account_errors, *leader,
        *healed;
};

struct controller {
    struct loop *loop;
    struct kube_client *kc;
    struct controller_config cfg;
    char *secret_name;
    struct token_worker *tokens;
    struct kube_informer *ns_inf, *secret_inf, *account_inf, *pod_inf;
    struct healer *healer; /* NULL without --heal-pods */
    struct str_list hosts; /* our registry hosts, for the healer */
    struct strmap ns;      /* name -> struct ns_state */
    /* What the Secrets should hold; have_auth once tokens came. */
    struct ecr_tokens current;
    struct pull_auth auth;
    bool have_auth;
    struct kube_secret_spec spec;
    char want_hash[DIGEST_SHA256_HEX_LEN];
    char want_registries_hash[DIGEST_SHA256_HEX_LEN];
    struct renewal renewal;
    struct loop_timer *renew_timer;
    /* The write queue. */
    struct ns_state **queue;
    size_t queue_len, queue_cap;
    int in_flight;
    bool first_pass_done;
    int fatal_status;
    struct controller_metrics mx;
    struct leader *leader;         /* NULL without --leader-elect */
    struct event_recorder *events; /* enabled while we may write */
    bool shutting_down;
    struct loop_timer *shutdown_timer;
    void (*shutdown_done)(void *ctx);
    void *shutdown_ctx;
};

/* --- work.c --------------------------------------------------------------- */

/* The state of a namespace, made on first mention. */
struct ns_state *ctl_state_of(struct controller *c, const char *name);
void ctl_state_free(void *p);

/* The state of one of its accounts, made on first mention. */
struct account_state *ctl_account_of(struct ns_state *s, const char *name);

/* True once the lists are complete and tokens are in hand. */
bool ctl_everything_known(const struct controller *c);

/* Decides what s needs and queues it; ctl_pump starts what the queue and
 * the in-flight limit allow. */
void ctl_reconcile(struct ns_state *s);
void ctl_reconcile_all(struct controller *c);
void ctl_pump(struct controller *c);

/* The decision table's view of s against the current tokens. */
struct reconcile_decision ctl_decide(const struct ns_state *s);

/* True when the Secret holds the current tokens, or later ones. */
bool ctl_holds_current(const struct ns_state *s);

/* True while this process may write: it leads, or does not elect. */
bool ctl_may_write(const struct controller *c);

/* Abandons every write in flight (leadership lost, or shutting down). */
void ctl_cancel_jobs(struct controller *c);

/* An Event about the namespace's Secret (or the namespace, when it has
 * none). */
void ctl_event(struct ns_state *s, const char *type, const char *reason,
               const char *message);

#endif
