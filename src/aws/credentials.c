#include "credentials.h"
#include "../core/strutil.h"
#include "../core/timeutil.h"
#include "../core/wipe.h"

#include <stdlib.h>
#include <string.h>

enum er_code aws_credentials_check(const struct aws_credentials *c,
                                   const char *from, enum er_code code,
                                   struct er_error *err)
{
    const char *bad = NULL;

    if (!c->access_key_id || !*c->access_key_id)
        return er_set(err, code, "%s: the access key id is empty", from);
    if (!str_has_no_controls(c->access_key_id))
        bad = "access key id";
    else if (!c->secret_access_key ||
             !str_has_no_controls(c->secret_access_key))
        bad = "secret access key";
    else if (c->session_token && !str_has_no_controls(c->session_token))
        bad = "session token";
    if (bad)
        return er_set(err, code,
                      "%s: the %s holds a control character (a line break?); "
                      "refusing to use it, as it would add header lines to "
                      "every request signed with it",
                      from, bad);
    if (c->expiration && !time_is_sane((double)c->expiration))
        return er_set(err, code, "%s: the expiry is out of range", from);
    return ER_OK;
}

void aws_credentials_free(struct aws_credentials *c)
{
    free(c->access_key_id);
    wipe_free_str(c->secret_access_key);
    wipe_free_str(c->session_token);
    memset(c, 0, sizeof(*c));
}
