/*
 * ini_parse on arbitrary bytes: ~/.aws/config and credentials files are
 * written by hand and by tools, and nothing guarantees their shape.
 */
#include "aws/ini.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* Exactly size bytes, no terminator: a read past len is caught. */
    char *text = malloc(size ? size : 1);
    struct ini_file *f = NULL;
    struct er_error err;

    memcpy(text, data, size);
    if (ini_parse(text, size, "fuzz", &f, &err) == ER_OK) {
        (void)ini_get(f, "default", "region");
        (void)ini_line(f, "profile dev", "role_arn");
        (void)ini_has_section(f, "default");
        ini_free(f);
    }
    free(text);
    return 0;
}
