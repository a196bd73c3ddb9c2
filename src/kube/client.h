/*
 * client.h - requests to the Kubernetes API server.
 *
 * One client keeps one HTTP client, so every request of a run goes over
 * one TLS connection. Credentials are applied per request: a tokenFile
 * (the in-cluster bound token) is re-read each time because the kubelet
 * rotates it; an exec plugin's credential is kept until it expires or
 * the server answers 401, then fetched again once.
 *
 * Retries: 429 (honouring Retry-After), 5xx and connection failures,
 * with exponential backoff and jitter. Every other answer is returned to
 * the caller, who judges it.
 *
 * Ownership: kube_client_new takes over *target (and zeroes it).
 */
#ifndef ECR_RENEW_KUBE_CLIENT_H
#define ECR_RENEW_KUBE_CLIENT_H

#include "../core/buf.h"
#include "../core/clock.h"
#include "../core/err.h"
#include "../net/retry.h"
#include "kubeconfig.h"
#include "status.h"

struct kube_client;

struct kube_response {
    long status;
    struct buf body;       /* may hold Secret data: a BUF_SECRET buffer */
    struct kube_status st; /* parsed when status is not 2xx */
};

struct kube_client *kube_client_new(struct kube_target *target,
                                    const struct clock *clock,
                                    const struct retry_policy *retry);
void kube_client_free(struct kube_client *c);

/* Sends one request (retrying as described). ER_OK whenever the server
 * gave a final answer, whatever its status; ER_NETWORK when it could not
 * be reached; ER_CONFIG when credentials could not be obtained. */
enum er_code kube_request(struct kube_client *c, const char *method,
                          const char *path, const char *body,
                          struct kube_response *resp,
                          struct er_error *err) ER_CHECK;

void kube_response_init(struct kube_response *r);
void kube_response_free(struct kube_response *r);

/* How many connections the client opened (for logs and tests). */
long kube_client_connections(const struct kube_client *c);

#endif
