/*
 * selector.h - Kubernetes label selectors ("env in (prod,staging),!legacy").
 *
 * The grammar is apimachinery's labels.Parse: requirements joined by
 * ',', each one of
 *     key   !key   key=value   key==value   key!=value
 *     key in (v1,v2)   key notin (v1,v2)
 * with spaces and tabs as delimiters. A key is [prefix "/"] name: the
 * name at most 63 characters of [A-Za-z0-9_.-], starting and ending
 * alphanumeric; the prefix, when given, a DNS-1123 subdomain. A value is
 * at most 63 characters of the same set, or empty. The empty selector
 * selects everything. Unlike labels.Parse, the ">" and "<" operators are
 * refused, and so is "!" before anything but a bare key.
 *
 * Pure. Parsing checks what kube-apiserver would check, so a bad
 * selector from the command line is refused before any request, and the
 * same selector can be applied to objects that a watch delivers.
 */
#ifndef ECR_RENEW_KUBE_SELECTOR_H
#define ECR_RENEW_KUBE_SELECTOR_H

#include "../core/err.h"

#include <jansson.h>
#include <stdbool.h>

/* Limits on what a selector may hold; beyond them parsing refuses. */
#define KUBE_SELECTOR_MAX_BYTES 4096
#define KUBE_SELECTOR_MAX_REQUIREMENTS 64
#define KUBE_SELECTOR_MAX_VALUES 256 /* in one in/notin set */

struct kube_selector;

/* Parses text (NUL-terminated; "" selects everything) into *out, which
 * the caller then owns and frees with kube_selector_free. A bad
 * selector is ER_USAGE, and the message quotes the selector and names
 * the offending part and its position ("label selector \"env in prod\":
 * \"in\" needs a parenthesised list of values (at character 8)"). The
 * text is also refused when it, or its canonical form, is longer than
 * KUBE_SELECTOR_MAX_BYTES. */
enum er_code kube_selector_parse(const char *text, struct kube_selector **out,
                                 struct er_error *err) ER_CHECK;

/* NULL is allowed. */
void kube_selector_free(struct kube_selector *s);

/* True when every requirement holds for labels, a JSON object of string
 * values (metadata.labels; borrowed), or NULL for an object without
 * labels. As in Kubernetes: "!k" needs k absent, a bare "k" needs it
 * present, "k=v" and "in" need it present with a listed value, and
 * "k!=v" and "notin" hold when k is absent or has another value. A
 * label whose value is not a string counts as present with a value
 * that equals no listed one. */
bool kube_selector_matches(const struct kube_selector *s, json_t *labels);

/* The canonical form, newly allocated (the caller frees it): the
 * requirements sorted by key and joined by ',', "==" written as "=",
 * sets as "k in (a,b)" with sorted, distinct values. It is what to send
 * as labelSelector (URL-encoded), it parses back to an equal selector,
 * and two selectors with the same requirements give the same string.
 * "" for the empty selector. */
char *kube_selector_string(const struct kube_selector *s);

/* True when the selector has no requirement, i.e. selects everything. */
bool kube_selector_is_empty(const struct kube_selector *s);

#endif
