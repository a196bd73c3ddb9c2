/*
 * kube_watch_feed on arbitrary bodies, cut in two at a point taken from
 * the first byte. Whatever the bytes, nothing crashes or leaks, and
 * every event delivered has a known type and an object.
 */
#include "core/wipe.h"
#include "kube/watch.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

/* Small enough for the fuzzer to reach the limit. */
#define MAX_EVENT 2048

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    wipe_install_allocators(); /* as the program does */
    return 0;
}

static enum er_code check(void *ctx, const struct kube_watch_event *ev,
                          struct er_error *err)
{
    (void)err;
    if (strcmp(kube_watch_type_name(ev->type), "?") == 0)
        abort();
    if (!json_is_object(ev->object) || !ev->resource_version)
        abort();
    if (ev->type != KUBE_WATCH_ERROR &&
        (ev->error_code || ev->error_reason[0] || ev->error_message[0]))
        abort();
    if (strlen(ev->error_reason) >= sizeof(ev->error_reason) ||
        strlen(ev->error_message) >= sizeof(ev->error_message))
        abort();
    (*(size_t *)ctx)++;
    return ER_OK;
}

/* Feeds a copy of n bytes, so a read past them is caught. */
static enum er_code feed(struct kube_watch_splitter *w, const uint8_t *p,
                         size_t n, size_t *events, struct er_error *err)
{
    char *copy = malloc(n ? n : 1);
    enum er_code rc;

    memcpy(copy, p, n);
    rc = kube_watch_feed(w, copy, n, check, events, err);
    free(copy);
    return rc;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct kube_watch_splitter w;
    struct er_error err;
    size_t events = 0, cut;

    if (size == 0)
        return 0;
    cut = data[0] % size; /* within the size - 1 bytes that follow */
    data++;
    size--;
    kube_watch_splitter_init(&w, MAX_EVENT);
    if (feed(&w, data, cut, &events, &err) == ER_OK &&
        feed(&w, data + cut, size - cut, &events, &err) == ER_OK &&
        w.pending.len > MAX_EVENT)
        abort();
    kube_watch_splitter_free(&w);
    return 0;
}
