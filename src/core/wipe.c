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

void *wipe_lib_malloc(size_t size)
{
    return xmalloc(size);
}

/* realloc would free the old block without wiping it, so grow by hand. */
void *wipe_lib_realloc(void *p, size_t size)
{
    void *fresh;
    size_t old;

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
