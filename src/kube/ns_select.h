/*
 * ns_select.h - which namespaces a command serves.
 *
 * --namespace takes exact names and globs (`*`, `?`; `*` alone is every
 * namespace); --exclude-namespace takes globs; --namespace-selector is a
 * label selector, sent to the server as labelSelector and checked here
 * too, so a watch's view agrees with the list's. A namespace annotated
 * ecr-renew/exclude: "true" is skipped, and so is one being deleted.
 * Without --namespace, a selector alone selects every namespace it
 * matches; with neither, the default is "runtime".
 *
 * Exact names alone need no rights on namespaces (the write itself finds
 * a missing one); globs and selectors need the namespaces listed.
 *
 * Pure. Ownership: struct ns_selection owns its lists and selector.
 */
#ifndef ECR_RENEW_KUBE_NS_SELECT_H
#define ECR_RENEW_KUBE_NS_SELECT_H

#include "../core/err.h"
#include "../core/strutil.h"
#include "selector.h"

#include <jansson.h>
#include <stdbool.h>

#define NS_SELECT_DEFAULT "runtime"
#define NS_EXCLUDE_ANNOTATION "ecr-renew/exclude"

struct ns_selection {
    struct str_list names;          /* exact names */
    struct str_list globs;          /* patterns with * or ? */
    struct str_list excludes;       /* patterns */
    struct kube_selector *selector; /* NULL: none */
};

enum ns_verdict {
    NS_SELECTED,
    NS_NOT_SELECTED, /* not named, not matched */
    NS_EXCLUDED,     /* by --exclude-namespace or the annotation */
    NS_TERMINATING,  /* being deleted */
};

/* Builds the selection from the options (patterns and excludes may be
 * empty, selector NULL or ""). ER_USAGE, naming the value, for a name
 * or glob that cannot match a namespace name, or a bad selector. */
enum er_code ns_selection_init(struct ns_selection *s,
                               const struct str_list *patterns,
                               const struct str_list *excludes,
                               const char *selector,
                               struct er_error *err) ER_CHECK;

void ns_selection_free(struct ns_selection *s);

/* True when namespaces must be listed to know which are selected. */
bool ns_selection_needs_list(const struct ns_selection *s);

/* "labelSelector=<encoded>" for list and watch requests, or NULL;
 * newly allocated. */
char *ns_selection_query(const struct ns_selection *s);

/* The verdict for a namespace object as the API server gives it; *why
 * (static text) says what excluded it. */
enum ns_verdict ns_selection_judge(const struct ns_selection *s, json_t *ns,
                                   const char **why);

/* The verdict from a name alone, for exact names: patterns and excludes,
 * no labels, annotations or phase. */
enum ns_verdict ns_selection_judge_name(const struct ns_selection *s,
                                        const char *name);

#endif
