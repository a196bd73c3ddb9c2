#include "secret.h"
#include "xalloc.h"

#include <jansson.h>
#include <malloc.h>
#include <string.h>

void secret_wipe(void *p, size_t n)
{
    if (p && n)
        explicit_bzero(p, n);
}

void secret_free_str(char *s)
{
    if (!s)
        return;
    secret_wipe(s, strlen(s));
    free(s);
}

void secret_free(void *p)
{
    if (!p)
        return;
    /* malloc_usable_size covers the whole block, including the slack a
     * library's string may not have written; wiping it all is cheap. */
    secret_wipe(p, malloc_usable_size(p));
    free(p);
}

void *secret_lib_malloc(size_t size)
{
    return xmalloc(size);
}

/* realloc would free the old block without wiping it, so grow by hand. */
void *secret_lib_realloc(void *p, size_t size)
{
    void *fresh;
    size_t old;

    if (!p)
        return xmalloc(size);
    old = malloc_usable_size(p);
    fresh = xmalloc(size);
    memcpy(fresh, p, old < size ? old : size);
    secret_free(p);
    return fresh;
}

void secret_install_library_allocators(void)
{
    json_set_alloc_funcs(secret_lib_malloc, secret_free);
}
