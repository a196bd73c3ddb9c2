/*
 * wipe.h - keeping credentials out of freed memory.
 *
 * Secret keys, session tokens, web identity tokens and registry passwords
 * are wiped before their memory is returned, so a later heap dump or a
 * use-after-free cannot reveal them. Our own buffers call these directly;
 * wipe_install_allocators() makes jansson and expat wipe what
 * they free too, since they hold parsed copies of AWS answers.
 */
#ifndef ECR_RENEW_CORE_WIPE_H
#define ECR_RENEW_CORE_WIPE_H

#include <stdbool.h>
#include <stddef.h>

/* Overwrites n bytes at p with zeros in a way the compiler keeps. */
void wipe_bytes(void *p, size_t n);

/* Wipes a NUL-terminated string and frees it. NULL is allowed. */
void wipe_free_str(char *s);

/* Wipes the whole allocation behind p (its usable size) and frees it. */
void wipe_free(void *p);

/* Makes jansson wipe every block it frees. Call once at start-up. */
void wipe_install_allocators(void);

/* Allocation functions for expat's XML_ParserCreate_MM that wipe on free.
 * While a budget is active they return NULL instead of passing it. */
void *wipe_lib_malloc(size_t size);
void *wipe_lib_realloc(void *p, size_t size);

/* A bound on what the parsing libraries (jansson, expat) may allocate:
 * a small answer can describe a huge tree (15 MB of "[]," is 1 GiB of
 * nodes), and the size cap alone does not stop that. While a budget is
 * active on this thread, every library allocation is counted, and one
 * that would pass the limit fails, which the library reports as an
 * error. Counting is of everything allocated, not what is still held,
 * so it errs on the side of refusing. Budgets do not nest. */
struct alloc_budget {
    size_t limit;
    size_t used;
    bool exceeded;
};

void wipe_budget_begin(struct alloc_budget *b, size_t limit);
void wipe_budget_end(struct alloc_budget *b);

#endif
