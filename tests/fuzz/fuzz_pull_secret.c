/*
 * kube_secret_update_body on arbitrary bytes: the Secret read back from
 * the API server is judged and rewritten; nothing in it is trusted.
 */
#include "core/wipe.h"
#include "kube/pull_secret.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const struct kube_secret_spec spec = {"s", "{\"auths\":{}}",
                                                 "2026-01-01T00:00:00Z", "h",
                                                 "2026-01-01T00:00:00Z"};
    char *text = malloc(size ? size : 1);
    enum kube_secret_verdict verdict;
    char reason[128], *body = NULL;
    struct er_error err;

    memcpy(text, data, size);
    if (kube_secret_update_body(text, size, &spec, &verdict, &body, reason,
                                sizeof(reason), &err) == ER_OK &&
        verdict != KUBE_SECRET_FOREIGN && !body)
        abort();
    wipe_free_str(body);
    free(text);
    return 0;
}
