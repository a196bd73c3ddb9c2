#include "strmap.h"
#include "xalloc.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static uint64_t hash(const char *s)
{
    uint64_t h = 1469598103934665603ULL; /* FNV-1a */

    for (; *s; s++) {
        h ^= (unsigned char)*s;
        h *= 1099511628211ULL;
    }
    return h;
}

/* The slot holding key, or NULL. */
static struct strmap_slot *find(const struct strmap *m, const char *key)
{
    size_t mask, i;

    if (m->cap == 0)
        return NULL;
    mask = m->cap - 1;
    for (i = hash(key) & mask;; i = (i + 1) & mask) {
        struct strmap_slot *s = &m->slots[i];
        if (!s->key && !s->deleted)
            return NULL;
        if (s->key && strcmp(s->key, key) == 0)
            return s;
    }
}

static void insert_fresh(struct strmap *m, char *key, void *value)
{
    size_t mask = m->cap - 1, i;

    for (i = hash(key) & mask; m->slots[i].key || m->slots[i].deleted;
         i = (i + 1) & mask)
        ;
    m->slots[i] = (struct strmap_slot){key, value, false};
    m->used++;
}

/* Keeps the table under 70% full, tombstones counted. */
static void grow(struct strmap *m)
{
    struct strmap_slot *old = m->slots;
    size_t old_cap = m->cap;

    if ((m->used + m->tombstones + 1) * 10 < m->cap * 7)
        return;
    m->cap = old_cap ? old_cap * 2 : 16;
    if (m->used * 4 < old_cap) /* mostly tombstones: same size suffices */
        m->cap = old_cap;
    m->slots = xcalloc(m->cap, sizeof(*m->slots));
    m->used = 0;
    m->tombstones = 0;
    for (size_t i = 0; i < old_cap; i++) {
        if (old[i].key)
            insert_fresh(m, old[i].key, old[i].value);
    }
    free(old);
}

void *strmap_get(const struct strmap *m, const char *key)
{
    struct strmap_slot *s = find(m, key);

    return s ? s->value : NULL;
}

void *strmap_put(struct strmap *m, const char *key, void *value)
{
    struct strmap_slot *s = find(m, key);
    void *old;

    if (s) {
        old = s->value;
        s->value = value;
        return old;
    }
    grow(m);
    insert_fresh(m, xstrdup(key), value);
    return NULL;
}

void *strmap_remove(struct strmap *m, const char *key)
{
    struct strmap_slot *s = find(m, key);
    void *old;

    if (!s)
        return NULL;
    old = s->value;
    free(s->key);
    *s = (struct strmap_slot){NULL, NULL, true};
    m->used--;
    m->tombstones++;
    return old;
}

size_t strmap_size(const struct strmap *m)
{
    return m->used;
}

bool strmap_next(const struct strmap *m, size_t *pos, const char **key,
                 void **value)
{
    for (; *pos < m->cap; (*pos)++) {
        const struct strmap_slot *s = &m->slots[*pos];
        if (s->key) {
            *key = s->key;
            *value = s->value;
            (*pos)++;
            return true;
        }
    }
    return false;
}

void strmap_free_with(struct strmap *m, void (*free_value)(void *))
{
    for (size_t i = 0; i < m->cap; i++) {
        if (m->slots[i].key && free_value)
            free_value(m->slots[i].value);
        free(m->slots[i].key);
    }
    free(m->slots);
    memset(m, 0, sizeof(*m));
}

void strmap_free(struct strmap *m)
{
    strmap_free_with(m, NULL);
}
