#include "wipe.h"
#include "xalloc.h"

#include <jansson.h>
#include <malloc.h>
#include <string.h>

void wipe_bytes(void *p, size_t n)
{
    if (p && n)
        explicit_bzero(p, n);
}

void wipe_free_str(char *s)
{
    if (!s)
        return;
    wipe_bytes(s, strlen(s));
    free(s);
}

void wipe_free(void *p)
{
    if (!p)
        return;
    /* malloc_usable_size covers the whole block, including the slack a
     * library's string may not have written; wiping it all is cheap. */
    wipe_bytes(p, malloc_usable_size(p));
    free(p);
}

static _Thread_local struct alloc_budget *active_budget;

void wipe_budget_begin(struct alloc_budget *b, size_t limit)
{
    b->limit = limit;
    b->used = 0;
    b->exceeded = false;
    active_budget = b;
}

void wipe_budget_end(struct alloc_budget *b)
{
    if (active_budget == b)
        active_budget = NULL;
}

/* Malloc keeps a header with every block: count it too. */
static bool within_budget(size_t size)
{
    struct alloc_budget *b = active_budget;
    size_t cost = size + 16;

    if (!b)
        return true;
    if (cost < size || b->used > b->limit || cost > b->limit - b->used) {
        b->exceeded = true;
        return false;
    }
    b->used += cost;
    return true;
}

void *wipe_lib_malloc(size_t size)
{
    if (!within_budget(size))
        return NULL;
    return xmalloc(size);
}

/* realloc would free the old block without wiping it, so grow by hand. */
void *wipe_lib_realloc(void *p, size_t size)
{
    void *fresh;
    size_t old;

    if (!within_budget(size))
        return NULL;
    if (!p)
        return xmalloc(size);
    old = malloc_usable_size(p);
    fresh = xmalloc(size);
    memcpy(fresh, p, old < size ? old : size);
    wipe_free(p);
    return fresh;
}

void wipe_install_allocators(void)
{
    json_set_alloc_funcs(wipe_lib_malloc, wipe_free);
}
