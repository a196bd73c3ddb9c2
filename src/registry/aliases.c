#include "aliases.h"
#include "../aws/ecr_host.h"
#include "../core/xalloc.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static char *lower_dup(const char *s, size_t n)
{
    char *d = xstrndup(s, n);

    for (char *p = d; *p; p++)
        *p = (char)tolower((unsigned char)*p);
    return d;
}

/* A host name with an optional :port, as a registry key may be. */
static bool registry_name_ok(const char *s)
{
    const char *colon = strrchr(s, ':');
    char host[256];

    if (!colon) {
        return ecr_host_is_dns_name(s);
    }
    if (colon == s || (size_t)(colon - s) >= sizeof(host) || !colon[1] ||
        strspn(colon + 1, "0123456789") != strlen(colon + 1) ||
        strlen(colon + 1) > 5 || strtol(colon + 1, NULL, 10) > 65535)
        return false;
    snprintf(host, sizeof(host), "%.*s", (int)(colon - s), s);
    return ecr_host_is_dns_name(host);
}

static enum er_code add_one(struct registry_aliases *a, const char *what,
                            const char *pair, size_t len, struct er_error *err)
{
    const char *eq = memchr(pair, '=', len);
    char *name = lower_dup(pair, eq ? (size_t)(eq - pair) : len);
    char *host =
        eq ? lower_dup(eq + 1, len - (size_t)(eq - pair) - 1) : xstrdup("");

    if (!registry_name_ok(name) || (eq && !registry_name_ok(host)) ||
        registry_alias_lookup(a, name)) {
        enum er_code rc = er_set(
            err, ER_USAGE,
            "%s \"%.*s\": %s. Fix: give NAME=HOST, where NAME is the extra "
            "registry name and HOST a configured registry host",
            what, (int)len, pair,
            registry_alias_lookup(a, name) ? "that name is given twice"
                                           : "not a registry host name");
        free(name);
        free(host);
        return rc;
    }
    a->items = xrealloc(a->items, (a->n + 1) * sizeof(*a->items));
    a->items[a->n++] = (struct registry_alias){name, host};
    return ER_OK;
}

enum er_code registry_aliases_add(struct registry_aliases *a, const char *what,
                                  const char *value, struct er_error *err)
{
    const char *p = value;
    enum er_code rc = ER_OK;

    if (!*value)
        return er_set(err, ER_USAGE, "%s \"\": an empty entry", what);
    while (rc == ER_OK && *p) {
        size_t len = strcspn(p, ",");
        if (len == 0)
            return er_set(err, ER_USAGE, "%s \"%s\": an empty entry", what,
                          value);
        rc = add_one(a, what, p, len, err);
        p += len;
        if (*p == ',')
            p++;
    }
    return rc;
}

const char *registry_alias_lookup(const struct registry_aliases *a,
                                  const char *name)
{
    for (size_t i = 0; i < a->n; i++) {
        if (strcasecmp(a->items[i].name, name) == 0)
            return a->items[i].host;
    }
    return NULL;
}

void registry_aliases_free(struct registry_aliases *a)
{
    for (size_t i = 0; i < a->n; i++) {
        free(a->items[i].name);
        free(a->items[i].host);
    }
    free(a->items);
    memset(a, 0, sizeof(*a));
}
