#include "credentials.h"
#include "../core/secret.h"
#include "../core/xalloc.h"

#include <stdlib.h>
#include <string.h>

void aws_credentials_free(struct aws_credentials *c)
{
    free(c->access_key_id);
    secret_free_str(c->secret_access_key);
    secret_free_str(c->session_token);
    memset(c, 0, sizeof(*c));
}

void aws_credentials_copy(struct aws_credentials *dst,
                          const struct aws_credentials *src)
{
    memset(dst, 0, sizeof(*dst));
    dst->access_key_id =
        src->access_key_id ? xstrdup(src->access_key_id) : NULL;
    dst->secret_access_key =
        src->secret_access_key ? xstrdup(src->secret_access_key) : NULL;
    dst->session_token =
        src->session_token ? xstrdup(src->session_token) : NULL;
    dst->expiration = src->expiration;
    memcpy(dst->source, src->source, sizeof(dst->source));
}
