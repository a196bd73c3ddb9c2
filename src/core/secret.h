/*
 * secret.h - keeping credentials out of freed memory.
 *
 * Secret keys, session tokens, web identity tokens and registry passwords
 * are wiped before their memory is returned, so a later heap dump or a
 * use-after-free cannot reveal them. Our own buffers call these directly;
 * secret_install_library_allocators() makes jansson and expat wipe what
 * they free too, since they hold parsed copies of AWS answers.
 */
#ifndef ECR_RENEW_SECRET_H
#define ECR_RENEW_SECRET_H

#include <stddef.h>

/* Overwrites n bytes at p with zeros in a way the compiler keeps. */
void secret_wipe(void *p, size_t n);

/* Wipes a NUL-terminated string and frees it. NULL is allowed. */
void secret_free_str(char *s);

/* Wipes the whole allocation behind p (its usable size) and frees it. */
void secret_free(void *p);

/* Makes jansson wipe every block it frees. Call once at start-up. */
void secret_install_library_allocators(void);

/* Allocation functions for expat's XML_ParserCreate_MM that wipe on free. */
void *secret_lib_malloc(size_t size);
void *secret_lib_realloc(void *p, size_t size);

#endif
