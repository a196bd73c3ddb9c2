#include "pull_auth.h"
#include "../aws/endpoints.h"
#include "../core/buf.h"
#include "../core/strutil.h"
#include "../core/wipe.h"
#include "../core/xalloc.h"
#include "dockercfg.h"

#include <stdlib.h>
#include <string.h>

/* The hosts of every token, and the variants it is also valid under.
 * entries borrow from tokens and from hosts, which owns the names. */
struct host_table {
    struct dockercfg_entry *entries;
    size_t n;
    struct str_list hosts;
};

static void add_entry(struct host_table *t, const struct ecr_token *k,
                      const char *host)
{
    for (size_t i = 0; i < t->hosts.n; i++) {
        if (strcmp(t->hosts.items[i], host) == 0)
            return;
    }
    str_list_push(&t->hosts, host);
    t->entries = xrealloc(t->entries, (t->n + 1) * sizeof(*t->entries));
    t->entries[t->n++] = (struct dockercfg_entry){
        .host = t->hosts.items[t->hosts.n - 1],
        .username = k->username,
        .password = k->password,
    };
}

static void add_variant(struct host_table *t, const struct ecr_token *k,
                        bool fips, bool dualstack)
{
    char *h = aws_ecr_registry_host_of(k->account, k->region, fips, dualstack);

    add_entry(t, k, h);
    free(h);
}

static void build_table(const struct ecr_tokens *tokens,
                        const struct pull_auth_options *opt,
                        struct host_table *t)
{
    for (size_t i = 0; i < tokens->n; i++) {
        const struct ecr_token *k = &tokens->items[i];
        add_entry(t, k, k->registry_host);
        if (!k->account)
            continue;
        if (opt->fips_hosts)
            add_variant(t, k, true, false);
        if (opt->dualstack_hosts)
            add_variant(t, k, opt->fips_hosts, true);
    }
}

static const struct ecr_token *token_for(const struct ecr_tokens *tokens,
                                         const char *host)
{
    for (size_t i = 0; i < tokens->n; i++) {
        if (strcmp(tokens->items[i].registry_host, host) == 0)
            return &tokens->items[i];
    }
    return NULL;
}

/* The only private registry's token, for NAME alone; NULL when there
 * are more or none. */
static const struct ecr_token *sole_private(const struct ecr_tokens *tokens)
{
    const struct ecr_token *found = NULL;

    for (size_t i = 0; i < tokens->n; i++) {
        if (!tokens->items[i].account)
            continue;
        if (found)
            return NULL;
        found = &tokens->items[i];
    }
    return found;
}

static enum er_code add_aliases(const struct ecr_tokens *tokens,
                                const struct registry_aliases *aliases,
                                struct host_table *t, struct er_error *err)
{
    for (size_t i = 0; aliases && i < aliases->n; i++) {
        const struct registry_alias *a = &aliases->items[i];
        const struct ecr_token *k =
            a->host[0] ? token_for(tokens, a->host) : sole_private(tokens);
        if (!k && !a->host[0])
            return er_set(err, ER_USAGE,
                          "--registry-host %s without =HOST stands for the "
                          "only registry, but there are several. Fix: give "
                          "%s=HOST",
                          a->name, a->name);
        if (!k)
            return er_set(err, ER_USAGE,
                          "--registry-host %s=%s: %s is not one of the "
                          "registries configured. Fix: name one of them, or "
                          "add its --region or --registry-id",
                          a->name, a->host, a->host);
        add_entry(t, k, a->name);
    }
    return ER_OK;
}

/* str_list_push moves items when it grows: point the entries again. */
static void repoint(struct host_table *t)
{
    for (size_t i = 0; i < t->n; i++)
        t->entries[i].host = t->hosts.items[i];
}

static time_t earliest_expiry(const struct ecr_tokens *tokens)
{
    double earliest = 0;

    for (size_t i = 0; i < tokens->n; i++) {
        double e = tokens->items[i].expires_at;
        if (earliest == 0 || e < earliest)
            earliest = e;
    }
    return (time_t)earliest;
}

static char *join_hosts(const struct host_table *t)
{
    struct buf b = BUF_INIT;

    for (size_t i = 0; i < t->n; i++)
        buf_must_addf(&b, "%s%s", i ? "," : "", t->entries[i].host);
    return buf_detach(&b, NULL);
}

enum er_code pull_auth_build(const struct ecr_tokens *tokens,
                             const struct pull_auth_options *opt, time_t now,
                             struct pull_auth *out, struct er_error *err)
{
    struct host_table t = {0};
    struct pull_auth a = {0};
    enum er_code rc;

    build_table(tokens, opt, &t);
    rc = add_aliases(tokens, opt->aliases, &t, err);
    repoint(&t);
    if (rc == ER_OK)
        rc = dockercfg_build(t.entries, t.n, &a.dockerconfigjson, err);
    if (rc == ER_OK) {
        a.dockerconfigjson_len = strlen(a.dockerconfigjson);
        a.registries = join_hosts(&t);
        a.n_hosts = t.n;
        a.expires_at = earliest_expiry(tokens);
        time_format_rfc3339(a.expires_at, a.expires_at_text);
        time_format_rfc3339(now, a.renewed_at_text);
        *out = a;
    }
    free(t.entries);
    str_list_clear(&t.hosts);
    return rc;
}

void pull_auth_free(struct pull_auth *a)
{
    wipe_free_str(a->dockerconfigjson);
    free(a->registries);
    memset(a, 0, sizeof(*a));
}
