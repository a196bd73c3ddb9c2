/*
 * imds_parse_credentials on arbitrary answers: instance metadata, ECS
 * and EKS Pod Identity agents all answer with this JSON.
 */
#include "aws/credentials.h"
#include "aws/imds.h"
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
    struct aws_credentials c = {0};
    struct er_error err;

    memcpy(json, data, size);
    if (imds_parse_credentials(json, size, &c, &err) == ER_OK) {
        if (!c.access_key_id[0] || !c.secret_access_key[0])
            abort();
        aws_credentials_free(&c);
    }
    free(json);
    return 0;
}
