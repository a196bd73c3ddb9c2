/*
 * ecr_parse_tokens on arbitrary answers. A token that parses must give a
 * non-empty user and a UTF-8 password, a registry host of the asked-for
 * region, and an expiry within a day of now.
 */
#include "aws/ecr.h"
#include "aws/ecr_host.h"
#include "core/strutil.h"
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
    struct ecr_expect want = {.region = "us-east-1", .now = 1767225600};
    struct ecr_tokens t = {0};
    struct ecr_host h;
    struct er_error err;

    memcpy(json, data, size);
    if (ecr_parse_tokens(json, size, &want, &t, &err) == ER_OK) {
        for (size_t i = 0; i < t.n; i++) {
            const struct ecr_token *k = &t.items[i];
            if (!k->username[0] || !k->password[0] ||
                !str_is_utf8(k->password, strlen(k->password)) ||
                !ecr_host_parse(k->registry_host, &h) ||
                strcmp(h.region, "us-east-1") != 0 ||
                k->expires_at <= want.now ||
                k->expires_at > want.now + ECR_MAX_LIFETIME)
                abort();
        }
    }
    ecr_tokens_free(&t);
    free(json);
    return 0;
}
