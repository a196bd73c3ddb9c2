/*
 * xalloc.h - allocation that never returns NULL.
 *
 * Running out of memory in a short-lived renewal job has no useful
 * recovery, so these wrappers print one line and abort; the error paths
 * left in the code are the real ones (files, network, peers).
 */
#ifndef ECR_RENEW_CORE_XALLOC_H
#define ECR_RENEW_CORE_XALLOC_H

#include <stdarg.h>
#include <stddef.h>

void *xmalloc(size_t size);
void *xcalloc(size_t nmemb, size_t size);
void *xrealloc(void *ptr, size_t size);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
/* Returns a newly allocated formatted string; the caller frees it. */
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
char *xvasprintf(const char *fmt, va_list ap)
    __attribute__((format(printf, 1, 0)));

#endif
