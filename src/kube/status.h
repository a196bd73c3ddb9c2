/*
 * status.h - Kubernetes Status answers ("kind": "Status").
 *
 * Every API error comes as a Status object with a machine-readable
 * reason (NotFound, Conflict, Forbidden, Invalid...), a message for
 * people, and details naming the object. Pure.
 */
#ifndef ECR_RENEW_KUBE_STATUS_H
#define ECR_RENEW_KUBE_STATUS_H

#include <stddef.h>

struct kube_status {
    long code;             /* Status.code, else the HTTP status */
    char reason[64];       /* "Forbidden"; from the HTTP status if absent */
    char message[768];     /* control characters removed */
    char details_kind[64]; /* "secrets", "namespaces" */
    char details_name[256];
};

/* Fills st from an answer. Never fails: without a readable Status the
 * reason is derived from the HTTP status ("Forbidden" for 403...). */
void kube_status_parse(long http_status, const char *body, size_t len,
                       struct kube_status *st);

#endif
