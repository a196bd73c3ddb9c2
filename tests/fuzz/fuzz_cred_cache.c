/*
 * cred_cache_parse on arbitrary files: whatever ~/.ecr holds. What it
 * keeps must pass every check the cache relies on, and written back and
 * read again it must come back the same.
 */
#include "core/wipe.h"
#include "registry/cred_cache.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    wipe_install_allocators(); /* as the program does */
    return 0;
}

static void check(const struct cred_cache_entry *e)
{
    if (e->expires_at <= e->fetched_at ||
        e->expires_at - e->fetched_at > CRED_CACHE_MAX_LIFETIME ||
        strlen(e->identity) != 64 || !e->password[0] ||
        strlen(e->password) > CRED_CACHE_MAX_PASSWORD || !e->username[0])
        abort();
    /* Every state is reachable from a kept entry; none crashes. */
    (void)cred_cache_judge(e, e->fetched_at);
    (void)cred_cache_judge(e, e->expires_at);
}

static void same(const struct cred_cache *a, const struct cred_cache *b)
{
    if (a->n != b->n)
        abort();
    for (size_t i = 0; i < a->n; i++) {
        const struct cred_cache_entry *x = &a->items[i], *y = &b->items[i];
        if (strcmp(x->registry, y->registry) ||
            strcmp(x->identity, y->identity) ||
            strcmp(x->password, y->password) ||
            strcmp(x->username, y->username) ||
            x->fetched_at != y->fetched_at || x->expires_at != y->expires_at)
            abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct cred_cache c, back = {0};
    struct buf text;

    if (!cred_cache_parse((const char *)data, size, &c)) {
        if (c.n != 0 || c.items)
            abort(); /* a foreign file reads as empty */
        return 0;
    }
    if (c.n > CRED_CACHE_MAX_ENTRIES)
        abort();
    for (size_t i = 0; i < c.n; i++) {
        check(&c.items[i]);
        if (cred_cache_find(&c, c.items[i].registry, c.items[i].identity) !=
            &c.items[i])
            abort(); /* keys are unique */
    }
    buf_init(&text, 4 * CRED_CACHE_MAX_BYTES, BUF_SECRET);
    cred_cache_format(&c, &text);
    if (text.len > CRED_CACHE_MAX_BYTES ||
        !cred_cache_parse(text.data, text.len, &back))
        abort();
    same(&c, &back);
    buf_free(&text);
    cred_cache_free(&c);
    cred_cache_free(&back);
    return 0;
}
