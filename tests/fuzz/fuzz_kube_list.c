/*
 * kube_list_page on arbitrary answers (a page of a namespace or Secret
 * list). Whatever the bytes, parsing stays within its memory budget, and
 * an answer that parses gives items that are JSON values.
 */
#include "core/wipe.h"
#include "kube/client.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    wipe_install_allocators(); /* as the program does */
    return 0;
}

static enum er_code count(void *ctx, json_t *item, struct er_error *err)
{
    (void)err;
    if (item && !json_is_object(item) && !json_is_array(item) &&
        !json_is_string(item) && !json_is_number(item) &&
        !json_is_boolean(item) && !json_is_null(item))
        abort();
    (*(size_t *)ctx)++;
    return ER_OK;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *json = malloc(size ? size : 1);
    char *cont = NULL, *rv = NULL;
    struct er_error err;
    size_t n = 0;

    memcpy(json, data, size); /* no terminator: a read past len is caught */
    if (kube_list_page(json, size, count, &n, &cont, &rv, &err) == ER_OK) {
        free(cont);
        free(rv);
    }
    free(json);
    return 0;
}
