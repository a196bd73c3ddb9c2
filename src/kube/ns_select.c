#include "ns_select.h"
#include "../core/buf.h"
#include "../core/glob.h"
#include "../core/urlenc.h"
#include "names.h"

#include <stdlib.h>
#include <string.h>

/* A glob that could match a namespace: [a-z0-9-] and the two wildcards,
 * at most 63 characters. */
static bool glob_ok(const char *g)
{
    size_t n = strlen(g);

    if (n == 0 || n > 63)
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = g[i];
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
              c == '*' || c == '?'))
            return false;
    }
    return true;
}

static enum er_code add_patterns(struct ns_selection *s,
                                 const struct str_list *patterns,
                                 struct er_error *err)
{
    for (size_t i = 0; i < patterns->n; i++) {
        const char *p = patterns->items[i];
        if (glob_is_pattern(p) && glob_ok(p))
            str_list_push(&s->globs, p);
        else if (kube_name_is_label(p))
            str_list_push(&s->names, p);
        else
            return er_set(err, ER_USAGE,
                          "--namespace \"%s\" is neither a namespace name nor "
                          "a glob of one (lower-case letters, digits, '-', "
                          "'*' and '?')",
                          p);
    }
    return ER_OK;
}

enum er_code ns_selection_init(struct ns_selection *s,
                               const struct str_list *patterns,
                               const struct str_list *excludes,
                               const char *selector, struct er_error *err)
{
    enum er_code rc = ER_OK;

    memset(s, 0, sizeof(*s));
    if (selector && *selector &&
        (rc = kube_selector_parse(selector, &s->selector, err)) != ER_OK)
        return er_wrap(err, "--namespace-selector");
    if ((rc = add_patterns(s, patterns, err)) != ER_OK)
        goto out;
    for (size_t i = 0; i < excludes->n && rc == ER_OK; i++) {
        if (!glob_ok(excludes->items[i]))
            rc = er_set(err, ER_USAGE,
                        "--exclude-namespace \"%s\" is not a glob of "
                        "namespace names",
                        excludes->items[i]);
        else
            str_list_push(&s->excludes, excludes->items[i]);
    }
    /* A selector alone means every namespace it matches. */
    if (rc == ER_OK && patterns->n == 0)
        str_list_push(s->selector ? &s->globs : &s->names,
                      s->selector ? "*" : NS_SELECT_DEFAULT);
out:
    if (rc != ER_OK)
        ns_selection_free(s);
    return rc;
}

void ns_selection_free(struct ns_selection *s)
{
    str_list_clear(&s->names);
    str_list_clear(&s->globs);
    str_list_clear(&s->excludes);
    kube_selector_free(s->selector);
    s->selector = NULL;
}

bool ns_selection_needs_list(const struct ns_selection *s)
{
    return s->globs.n > 0 || s->selector != NULL;
}

char *ns_selection_query(const struct ns_selection *s)
{
    struct buf q = BUF_INIT;
    char *text;

    if (!s->selector || kube_selector_is_empty(s->selector))
        return NULL;
    text = kube_selector_string(s->selector);
    buf_must_adds(&q, "labelSelector=");
    urlenc_append(&q, text, strlen(text), false);
    free(text);
    return buf_detach(&q, NULL);
}

static bool any_glob(const struct str_list *l, const char *name)
{
    for (size_t i = 0; i < l->n; i++) {
        if (glob_match(l->items[i], name))
            return true;
    }
    return false;
}

enum ns_verdict ns_selection_judge_name(const struct ns_selection *s,
                                        const char *name)
{
    if (!str_list_contains(&s->names, name) && !any_glob(&s->globs, name))
        return NS_NOT_SELECTED;
    if (any_glob(&s->excludes, name))
        return NS_EXCLUDED;
    return NS_SELECTED;
}

static const char *str_at(json_t *obj, const char *a, const char *b)
{
    return json_string_value(json_object_get(json_object_get(obj, a), b));
}

enum ns_verdict ns_selection_judge(const struct ns_selection *s, json_t *ns,
                                   const char **why)
{
    json_t *meta = json_object_get(ns, "metadata");
    const char *name = json_string_value(json_object_get(meta, "name"));
    const char *phase = str_at(ns, "status", "phase");
    const char *note = str_at(meta, "annotations", NS_EXCLUDE_ANNOTATION);
    enum ns_verdict v;

    *why = "";
    if (!name)
        return NS_NOT_SELECTED;
    v = ns_selection_judge_name(s, name);
    if (v == NS_SELECTED && s->selector &&
        !kube_selector_matches(s->selector, json_object_get(meta, "labels")))
        v = NS_NOT_SELECTED;
    if (v == NS_EXCLUDED)
        *why = "--exclude-namespace";
    if (v != NS_SELECTED)
        return v;
    if (note && strcmp(note, "true") == 0) {
        *why = "annotation " NS_EXCLUDE_ANNOTATION;
        return NS_EXCLUDED;
    }
    if ((phase && strcmp(phase, "Terminating") == 0) ||
        json_is_string(json_object_get(meta, "deletionTimestamp"))) {
        *why = "being deleted";
        return NS_TERMINATING;
    }
    return NS_SELECTED;
}
