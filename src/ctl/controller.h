/*
 * controller.h - ecr-renew run: every selected namespace's pull Secret,
 * kept fresh for ever.
 *
 * It lists and watches the namespaces and the Secrets of one name (an
 * informer each; a third for ServiceAccounts when they are patched), gets
 * tokens from the AWS worker, and keeps one state per namespace: what the
 * Secret holds (a digest), who owns it, what we last wrote. Whenever something
 * changes, that namespace is reconciled (see reconcile.h) and, when it needs a
 * write, queued; up to max_in_flight writes run at once on the loop, each the
 * same state machine sync uses. Tokens are renewed by their own expiry (see
 * schedule.h), and every Secret rewritten then.
 *
 * The controller owns this state; it is changed only on the loop.
 *
 * Ownership: the loop, client, selection and token worker are borrowed.
 */
#ifndef ECR_RENEW_CTL_CONTROLLER_H
#define ECR_RENEW_CTL_CONTROLLER_H

#include "../core/err.h"
#include "../kube/client.h"
#include "../kube/ns_select.h"
#include "../registry/pull_auth.h"
#include "tokens.h"

#include <stdbool.h>
#include <stddef.h>

/* Each write in flight holds a TLS connection and a libcurl handle, about
 * 200 KiB measured (bench/bench_controller.py); 8 kept the stand-in's
 * write rate at 1,000 namespaces (faster than 16) within the 10 MiB goal. */
#define CONTROLLER_MAX_IN_FLIGHT 8

struct loop;
struct controller;

struct controller_config {
    const struct ns_selection *selection;
    const char *secret_name;
    struct pull_auth_options auth;
    int max_in_flight;
    /* ServiceAccounts to patch (may be NULL): names, "*" for every one,
     * and those annotated ecr-renew/pull-secret: "true". */
    const struct str_list *service_accounts;
    bool all_service_accounts;
    bool annotated_service_accounts;
    /* Leader election: only the holder of the Lease writes. */
    bool leader_elect;
    const char *lease_namespace, *lease_name;
    const char *identity; /* the holder's name; the Events' instance */
    /* --heal-pods: delete pods created before they could pull (heal.h),
     * at most heal_rate a minute. */
    bool heal_pods;
    int heal_rate;
    /* The process's own Pod, for Events about it (NULL: unknown). */
    const char *pod_name, *pod_namespace;
};

struct controller *controller_new(struct loop *loop, struct kube_client *kc,
                                  const struct controller_config *cfg);
void controller_free(struct controller *c);

/* Starts the informers and asks the worker for the first tokens. */
void controller_start(struct controller *c, struct token_worker *tokens);

/* For the worker's answers (token_result_fn). */
void controller_on_tokens(void *ctx, struct token_result *r);

/* Stops writing at once, gives the Lease up if held, then calls done on
 * the loop (within a second or so). */
void controller_shutdown(struct controller *c, void (*done)(void *ctx),
                         void *ctx);

/* A configuration error found at start (the first token fetch said no
 * credentials, or a bad setting): the status to exit with, or 0. */
int controller_fatal_status(const struct controller *c);

/* /healthz, /readyz and /metrics. */
bool controller_ready(const struct controller *c, char *why, size_t cap);
char *controller_metrics(struct controller *c);

#endif
