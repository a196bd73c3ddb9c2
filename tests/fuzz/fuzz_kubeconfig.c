/*
 * kubeconfig_parse on arbitrary bytes as one kubeconfig file: YAML or
 * JSON written by hand, by cloud CLIs and by templating tools, all of it
 * walked through libyaml and then the kubeconfig rules.
 */
#include "kube/exec_plugin.h"
#include "kube/kubeconfig.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* Exactly size bytes, no terminator: a read past len is caught. */
    char *text = malloc(size ? size : 1);
    const char *texts[1] = {text};
    const char *names[1] = {"/fuzz/config"};
    struct kube_target t;
    struct er_error err;
    char *info;

    memcpy(text, data, size);
    if (kubeconfig_parse(texts, &size, names, 1, NULL, &t, &err) == ER_OK) {
        if (t.exec) {
            info = kube_exec_info(t.exec, &t);
            free(info);
        }
        kube_target_free(&t);
    }
    free(text);
    return 0;
}
