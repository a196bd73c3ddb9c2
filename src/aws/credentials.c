#include "credentials.h"
#include "../core/wipe.h"

#include <stdlib.h>
#include <string.h>

void aws_credentials_free(struct aws_credentials *c)
{
    free(c->access_key_id);
    wipe_free_str(c->secret_access_key);
    wipe_free_str(c->session_token);
    memset(c, 0, sizeof(*c));
}
