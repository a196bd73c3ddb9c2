#include "dockercfg.h"
#include "../core/b64.h"
#include "../core/buf.h"
#include "../core/wipe.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

static json_t *auth_entry(const struct dockercfg_entry *e)
{
    struct buf plain = BUF_INIT_SECRET, enc = BUF_INIT_SECRET;
    json_t *obj = json_object();

    buf_must_addf(&plain, "%s:%s", e->username, e->password);
    b64_encode(&enc, plain.data, plain.len);
    json_object_set_new(obj, "username", json_string(e->username));
    json_object_set_new(obj, "password", json_string(e->password));
    json_object_set_new(obj, "auth", json_string(buf_str(&enc)));
    buf_free(&plain);
    buf_free(&enc);
    return obj;
}

char *dockercfg_build(const struct dockercfg_entry *entries, size_t n)
{
    json_t *root = json_object(), *auths = json_object();
    char *text;

    for (size_t i = 0; i < n; i++)
        json_object_set_new(auths, entries[i].host, auth_entry(&entries[i]));
    json_object_set_new(root, "auths", auths);
    text = json_dumps(root, JSON_COMPACT | JSON_SORT_KEYS);
    json_decref(root);
    if (!text)
        abort(); /* only on allocation failure */
    return text;
}
