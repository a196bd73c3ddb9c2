/*
 * dockercfg.h - the .dockerconfigjson document.
 *
 *   {"auths":{"<host>":{"username":"AWS","password":"<pw>",
 *                       "auth":"<base64 of AWS:pw>"}}}
 *
 * Keys are bare registry hosts, which the kubelet, containerd, CRI-O and
 * Docker all match. Pure. The result holds passwords: the caller frees
 * it with wipe_free_str.
 */
#ifndef ECR_RENEW_REGISTRY_DOCKERCFG_H
#define ECR_RENEW_REGISTRY_DOCKERCFG_H

#include "../core/err.h"

#include <stddef.h>

struct dockercfg_entry {
    const char *host;
    const char *username;
    const char *password;
};

/* Builds the document into *out; a host given twice keeps its last
 * entry. ER_PARSE, naming the host, when a value is not UTF-8 text and so
 * cannot be written as JSON: it would otherwise vanish from the
 * document. */
enum er_code dockercfg_build(const struct dockercfg_entry *entries, size_t n,
                             char **out, struct er_error *err) ER_CHECK;

#endif
