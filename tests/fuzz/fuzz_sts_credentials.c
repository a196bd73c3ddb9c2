/*
 * sts_parse_credentials on arbitrary answers.
 */
#include "aws/credentials.h"
#include "aws/sts.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *xml = malloc(size ? size : 1);
    struct aws_credentials c = {0};
    struct er_error err;

    memcpy(xml, data, size);
    if (sts_parse_credentials(xml, size, &c, &err) == ER_OK) {
        if (!c.access_key_id[0] || !c.secret_access_key[0] || !c.session_token)
            abort();
        aws_credentials_free(&c);
    }
    free(xml);
    return 0;
}
