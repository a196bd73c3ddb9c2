/*
 * aws_error_parse on arbitrary answers. The first line is the
 * x-amzn-ErrorType header, the rest the body. Whatever comes in, the code
 * and message must come out terminated and free of control characters,
 * since they go into logs.
 */
#include "aws/aws_error.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_clean(const char *s, size_t cap)
{
    size_t n = strnlen(s, cap);

    if (n == cap)
        abort(); /* not terminated */
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
            abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const uint8_t *nl = memchr(data, '\n', size);
    size_t hlen = nl ? (size_t)(nl - data) : 0;
    size_t blen = nl ? size - hlen - 1 : size;
    char *header = malloc(hlen + 1);
    char *body = malloc(blen ? blen : 1);
    struct aws_error e;

    memcpy(header, data, hlen);
    header[hlen] = '\0';
    memcpy(body, nl ? nl + 1 : data, blen);
    aws_error_parse(403, nl ? header : NULL, body, blen, &e);
    check_clean(e.code, sizeof(e.code));
    check_clean(e.message, sizeof(e.message));
    (void)aws_error_is_retryable(403, &e);
    (void)aws_error_hint("GetAuthorizationToken", &e);
    free(header);
    free(body);
    return 0;
}
