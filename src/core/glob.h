/*
 * glob.h - shell-style wildcards for names.
 *
 * "*" matches any run of characters (also none), "?" exactly one
 * character (one byte), and every other character only itself: no
 * brackets and no escapes, since the names matched here (namespaces,
 * DNS-1123 labels) are [a-z0-9-] and cannot hold a '*' or a '?'. Pure.
 */
#ifndef ECR_RENEW_CORE_GLOB_H
#define ECR_RENEW_CORE_GLOB_H

#include <stdbool.h>

/* True when the whole of s matches pattern. Runs in at most
 * O(strlen(pattern) * strlen(s)) steps, never exponential time, so a
 * pattern from a user cannot stall the caller. */
bool glob_match(const char *pattern, const char *s);

/* True when s holds a wildcard ('*' or '?'), i.e. names more than one
 * string. */
bool glob_is_pattern(const char *s);

#endif
