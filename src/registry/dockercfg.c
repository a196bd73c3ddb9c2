#include "dockercfg.h"
#include "../core/b64.h"
#include "../core/buf.h"
#include "../core/wipe.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

/* NULL when a field is not UTF-8, which json_string refuses. */
static json_t *auth_entry(const struct dockercfg_entry *e)
{
    struct buf plain = BUF_INIT_SECRET, enc = BUF_INIT_SECRET;
    json_t *obj = json_object();
    json_t *user = json_string(e->username), *pw = json_string(e->password);

    buf_must_addf(&plain, "%s:%s", e->username, e->password);
    b64_encode(&enc, plain.data, plain.len);
    if (user && pw) {
        json_object_set_new(obj, "username", user);
        json_object_set_new(obj, "password", pw);
        json_object_set_new(obj, "auth", json_string(buf_str(&enc)));
    } else {
        json_decref(user);
        json_decref(pw);
        json_decref(obj);
        obj = NULL;
    }
    buf_free(&plain);
    buf_free(&enc);
    return obj;
}

enum er_code dockercfg_build(const struct dockercfg_entry *entries, size_t n,
                             char **out, struct er_error *err)
{
    json_t *root = json_object(), *auths = json_object(), *entry;
    enum er_code rc = ER_OK;
    char *text;

    json_object_set_new(root, "auths", auths);
    for (size_t i = 0; i < n && rc == ER_OK; i++) {
        entry = auth_entry(&entries[i]);
        if (!entry || json_object_set_new(auths, entries[i].host, entry) != 0)
            rc = er_set(err, ER_PARSE,
                        "the credentials of registry %.100s are not UTF-8 "
                        "text, so no .dockerconfigjson can carry them",
                        entries[i].host);
    }
    if (rc == ER_OK) {
        text = json_dumps(root, JSON_COMPACT | JSON_SORT_KEYS);
        if (!text)
            abort(); /* only on allocation failure */
        *out = text;
    }
    json_decref(root);
    return rc;
}
