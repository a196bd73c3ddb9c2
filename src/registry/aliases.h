/*
 * aliases.h - extra registry names: --registry-host NAME=HOST and
 * ECR_RENEW_REGISTRY_HOSTS ("NAME=HOST,..."). A name (a VPC endpoint, a
 * DNS alias, a mirror) gets the credentials of the configured registry
 * HOST; NAME alone stands for the only registry configured.
 *
 * Pure. Ownership: struct registry_aliases owns its strings.
 */
#ifndef ECR_RENEW_REGISTRY_ALIASES_H
#define ECR_RENEW_REGISTRY_ALIASES_H

#include "../core/err.h"
#include "../core/strutil.h"

#include <stddef.h>

struct registry_alias {
    char *name; /* lower case */
    char *host; /* lower case; "" until resolved, for NAME alone */
};

struct registry_aliases {
    struct registry_alias *items;
    size_t n;
};

/* Adds the comma-separated NAME=HOST (or NAME) pairs of value; what says
 * where they came from ("--registry-host", "ECR_RENEW_REGISTRY_HOSTS").
 * ER_USAGE naming the pair when a name or host is not a host name (an
 * optional :port allowed) or a name is given twice. */
enum er_code registry_aliases_add(struct registry_aliases *a, const char *what,
                                  const char *value,
                                  struct er_error *err) ER_CHECK;

/* The configured host an alias name stands for ("" for NAME alone), or
 * NULL. */
const char *registry_alias_lookup(const struct registry_aliases *a,
                                  const char *name);

void registry_aliases_free(struct registry_aliases *a);

#endif
