/*
 * kube_exec_parse on arbitrary bytes: whatever a credential plugin
 * prints to stdout, which ecr-renew does not control.
 */
#include "kube/exec_plugin.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* Exactly size bytes, no terminator: a read past len is caught. */
    char *text = malloc(size ? size : 1);
    struct kube_exec_credential c;
    struct er_error err;

    memcpy(text, data, size);
    if (kube_exec_parse(text, size, "client.authentication.k8s.io/v1", &c,
                        &err) == ER_OK)
        kube_exec_credential_free(&c);
    free(text);
    return 0;
}
