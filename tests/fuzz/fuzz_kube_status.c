/*
 * kube_status_parse on arbitrary bytes: error answers come from the API
 * server, or from whatever proxy or load balancer stands before it.
 */
#include "kube/status.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = malloc(size ? size : 1);
    struct kube_status st;

    memcpy(text, data, size);
    kube_status_parse(size % 2 ? 403 : 500, text, size, &st);
    /* Every field stays a terminated string of printable text. */
    if (strlen(st.reason) >= sizeof(st.reason) ||
        strlen(st.message) >= sizeof(st.message) || strchr(st.message, '\n'))
        abort();
    free(text);
    return 0;
}
