/*
 * kube_selector_parse on arbitrary text. Whatever parses must come back
 * from its canonical form as the same selector (the same string, and
 * the same answers), and matching must hold up on a few label sets.
 */
#include "kube/selector.h"

#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

static const char *const label_sets[] = {
    "{}",
    "{\"env\":\"prod\",\"team\":\"a\"}",
    "{\"a\":\"\",\"in\":\"notin\",\"example.com/a\":\"b\",\"k\":\"v\"}",
    "{\"a\":1,\"b\":null,\"c\":[\"x\"]}",
    "[\"not\",\"an\",\"object\"]",
};

#define N_SETS (sizeof(label_sets) / sizeof(label_sets[0]))

static json_t *labels[N_SETS];

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    for (size_t i = 0; i < N_SETS; i++)
        labels[i] = json_loads(label_sets[i], 0, NULL);
    return 0;
}

/* b, parsed from a's canonical form, must be a again. */
static void check_same(const struct kube_selector *a,
                       const struct kube_selector *b, const char *canonical)
{
    char *again = kube_selector_string(b);

    if (strcmp(again, canonical) != 0)
        abort();
    if (kube_selector_is_empty(a) != (canonical[0] == '\0'))
        abort();
    if (kube_selector_matches(a, NULL) != kube_selector_matches(b, NULL))
        abort();
    for (size_t i = 0; i < N_SETS; i++) {
        if (kube_selector_matches(a, labels[i]) !=
            kube_selector_matches(b, labels[i]))
            abort();
    }
    free(again);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = malloc(size + 1);
    struct kube_selector *a = NULL, *b = NULL;
    char *canonical = NULL;
    struct er_error err;

    memcpy(text, data, size);
    text[size] = '\0'; /* a NUL inside simply ends the text early */
    if (kube_selector_parse(text, &a, &err) != ER_OK)
        goto out;
    canonical = kube_selector_string(a);
    if (kube_selector_parse(canonical, &b, &err) != ER_OK)
        abort(); /* the canonical form must parse */
    check_same(a, b, canonical);
out:
    kube_selector_free(a);
    kube_selector_free(b);
    free(canonical);
    free(text);
    return 0;
}
