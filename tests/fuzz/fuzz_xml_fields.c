/*
 * xmlf_extract and xmlf_root_name on arbitrary bytes: STS answers and
 * XML error documents come from the network.
 */
#include "aws/xml_fields.h"
#include "core/wipe.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *const names[] = {"AccessKeyId",  "SecretAccessKey",
                                        "SessionToken", "Expiration",
                                        "Code",         "Message"};
    char *xml = malloc(size ? size : 1);
    char *values[6];
    struct er_error err;

    memcpy(xml, data, size);
    if (xmlf_extract(xml, size, names, 6, values, &err) == ER_OK) {
        for (size_t i = 0; i < 6; i++)
            wipe_free_str(values[i]);
    }
    free(xmlf_root_name(xml, size));
    free(xml);
    return 0;
}
