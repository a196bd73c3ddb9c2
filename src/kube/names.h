/*
 * names.h - the DNS-1123 name rules kube-apiserver applies.
 *
 * Pure. A namespace is a label (63 characters); a Secret, ServiceAccount
 * or Lease name is a subdomain (dot-separated labels, 253 characters).
 */
#ifndef ECR_RENEW_KUBE_NAMES_H
#define ECR_RENEW_KUBE_NAMES_H

#include <stdbool.h>

/* One DNS-1123 label: [a-z0-9-], starting and ending alphanumeric. */
bool kube_name_is_label(const char *s);

/* Dot-separated labels, 253 characters at most. */
bool kube_name_is_subdomain(const char *s);

#endif
