/*
 * ecr_parse_tokens on arbitrary answers. A token that parses must give a
 * non-empty user and password without NUL bytes, and a host.
 */
#include "aws/ecr.h"
#include "core/wipe.h"

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

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *json = malloc(size ? size : 1);
    struct ecr_tokens t = {0};
    struct er_error err;

    memcpy(json, data, size);
    if (ecr_parse_tokens(json, size, "us-east-1", &t, &err) == ER_OK) {
        for (size_t i = 0; i < t.n; i++)
            if (!t.items[i].username[0] || !t.items[i].password[0] ||
                !t.items[i].registry_host)
                abort();
    }
    ecr_tokens_free(&t);
    free(json);
    return 0;
}
