/*
 * strmap.h - a hash map from strings to pointers.
 *
 * Open addressing with linear probing; keys are copied; values are the
 * caller's (the map never frees them: free them while iterating before
 * strmap_free, or use strmap_free_with). Iteration order is unspecified.
 * Pure.
 */
#ifndef ECR_RENEW_CORE_STRMAP_H
#define ECR_RENEW_CORE_STRMAP_H

#include <stdbool.h>
#include <stddef.h>

struct strmap_slot {
    char *key; /* NULL: empty */
    void *value;
    bool deleted;
};

struct strmap {
    struct strmap_slot *slots;
    size_t cap;  /* a power of two, or 0 */
    size_t used; /* live keys */
    size_t tombstones;
};

#define STRMAP_INIT                                                            \
    {                                                                          \
        NULL, 0, 0, 0                                                          \
    }

/* The value for key, or NULL. */
void *strmap_get(const struct strmap *m, const char *key);

/* Sets key to value; returns the value it replaced, or NULL. */
void *strmap_put(struct strmap *m, const char *key, void *value);

/* Removes key; returns its value, or NULL. */
void *strmap_remove(struct strmap *m, const char *key);

size_t strmap_size(const struct strmap *m);

/* Iteration: for (size_t i = 0; strmap_next(m, &i, &k, &v);) { ... }.
 * The map must not be changed while iterating, except by removing the
 * key just returned. */
bool strmap_next(const struct strmap *m, size_t *pos, const char **key,
                 void **value);

/* Frees the map, calling free_value on every value (it may be NULL). */
void strmap_free_with(struct strmap *m, void (*free_value)(void *));
void strmap_free(struct strmap *m);

#endif
