/*
 * credprovider_parse_request on arbitrary bytes: whatever arrives on the
 * plugin's stdin. A request that parses has one of the two API versions
 * and an image free of control characters; its image's key and a
 * response built from it (the token as password) are then checked too:
 * the response is one JSON object of exactly the five fields the kubelet
 * knows, or a refusal, never something in between.
 */
#include "core/wipe.h"
#include "kube/credprovider.h"

#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

#define NOW ((time_t)1764590400)

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    wipe_install_allocators(); /* as the program does */
    return 0;
}

static void check_response(const char *text, const char *api)
{
    json_t *root = json_loads(text, 0, NULL);
    const char *got = json_string_value(json_object_get(root, "apiVersion"));

    if (!root || json_object_size(root) != 5 || !got || strcmp(got, api) ||
        json_object_size(json_object_get(root, "auth")) != 1)
        abort();
    json_decref(root);
}

static void respond(const struct credprovider_request *r)
{
    struct credprovider_response resp = {r->api_version, NULL, "AWS", NULL,
                                         (double)NOW + 43200};
    struct er_error err;
    char key[256], *text = NULL;

    if (credprovider_image_key(r->image, key, sizeof(key), &err) != ER_OK)
        return;
    resp.key = key;
    resp.password =
        r->service_account_token ? r->service_account_token : "password";
    if (credprovider_build_response(&resp, NOW, &text, &err) != ER_OK)
        abort(); /* a UTF-8 token and a host key always fit */
    check_response(text, r->api_version);
    wipe_free_str(text);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* Exactly size bytes, no terminator: a read past len is caught. */
    char *text = malloc(size ? size : 1);
    struct credprovider_request r;
    struct er_error err;

    memcpy(text, data, size);
    if (credprovider_parse_request(text, size, &r, &err) == ER_OK) {
        if (strcmp(r.api_version, CREDPROVIDER_API_V1) != 0 &&
            strcmp(r.api_version, CREDPROVIDER_API_V1BETA1) != 0)
            abort();
        if (!r.image || !*r.image || strpbrk(r.image, "\r\n\t"))
            abort();
        respond(&r);
        credprovider_request_free(&r);
    } else if (err.code != ER_USAGE) {
        abort(); /* every refusal of a request is the caller's to fix */
    }
    free(text);
    return 0;
}
