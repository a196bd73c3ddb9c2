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

#include <stddef.h>

struct dockercfg_entry {
    const char *host;
    const char *username;
    const char *password;
};

/* Builds the document; a host given twice keeps its last entry. */
char *dockercfg_build(const struct dockercfg_entry *entries, size_t n);

#endif
