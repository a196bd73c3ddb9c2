#include "credprovider.h"
#include "../core/json_limit.h"
#include "../core/strutil.h"
#include "../core/timeutil.h"
#include "../core/wipe.h"
#include "../core/xalloc.h"

#include <ctype.h>
#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The longest image reference taken: the distribution spec allows 255
 * bytes of repository name, and a host, a tag or digest come on top. */
#define IMAGE_MAX 4096
/* IAM's limit for a role ARN. */
#define ROLE_ARN_MAX 2048

/* Up to 80 bytes of what a peer sent, in visible form, for messages:
 * kinds, versions and images are names, never secrets. */
static void shown(char out[96], const char *s)
{
    size_t n = s ? strlen(s) : 0, len;

    str_copy_printable(out, 92, s ? s : "", n > 80 ? 80 : n);
    len = strlen(out);
    if (n > 80)
        snprintf(out + len, 96 - len, "...");
}

/* --- the request ------------------------------------------------------- */

static enum er_code check_kind(json_t *root, struct er_error *err)
{
    json_t *v = json_object_get(root, "kind");
    char what[96];

    if (json_is_string(v) &&
        strcmp(json_string_value(v), "CredentialProviderRequest") == 0)
        return ER_OK;
    if (!v)
        return er_set(err, ER_USAGE,
                      "the request has no kind; the kubelet sends kind "
                      "CredentialProviderRequest");
    if (!json_is_string(v))
        return er_set(err, ER_USAGE, "the request's kind is not a string");
    shown(what, json_string_value(v));
    return er_set(err, ER_USAGE,
                  "the request's kind is \"%s\", not "
                  "CredentialProviderRequest",
                  what);
}

static enum er_code check_api_version(json_t *root, const char **out,
                                      struct er_error *err)
{
    const char *api = json_string_value(json_object_get(root, "apiVersion"));
    char what[96];

    if (api && strcmp(api, CREDPROVIDER_API_V1) == 0) {
        *out = CREDPROVIDER_API_V1;
        return ER_OK;
    }
    if (api && strcmp(api, CREDPROVIDER_API_V1BETA1) == 0) {
        *out = CREDPROVIDER_API_V1BETA1;
        return ER_OK;
    }
    shown(what, api);
    return er_set(err, ER_USAGE,
                  "the request's apiVersion is \"%s\", not %s or %s; set "
                  "one of them as the provider's apiVersion in the "
                  "kubelet's CredentialProviderConfig",
                  what, CREDPROVIDER_API_V1, CREDPROVIDER_API_V1BETA1);
}

/* A string field; absent, null and "" leave *out NULL. The value is not
 * quoted in errors: it may be the token. */
static enum er_code string_field(json_t *obj, const char *key, size_t max,
                                 const char *what, char **out,
                                 struct er_error *err)
{
    json_t *v = json_object_get(obj, key);

    if (!v || json_is_null(v))
        return ER_OK;
    if (!json_is_string(v))
        return er_set(err, ER_USAGE, "the request's %s is not a string", what);
    if (json_string_length(v) > max)
        return er_set(err, ER_USAGE,
                      "the request's %s is longer than %zu bytes", what, max);
    if (!str_has_no_controls(json_string_value(v)))
        return er_set(err, ER_USAGE,
                      "the request's %s holds a control character (a line "
                      "break?)",
                      what);
    if (json_string_length(v) > 0)
        *out = xstrndup(json_string_value(v), json_string_length(v));
    return ER_OK;
}

static enum er_code read_role(json_t *root, char **out, struct er_error *err)
{
    json_t *ann = json_object_get(root, "serviceAccountAnnotations");
    enum er_code rc;

    if (!ann || json_is_null(ann))
        return ER_OK;
    if (!json_is_object(ann))
        return er_set(err, ER_USAGE,
                      "the request's serviceAccountAnnotations is not an "
                      "object of strings");
    rc = string_field(ann, CREDPROVIDER_ROLE_ANNOTATION, ROLE_ARN_MAX,
                      "annotation " CREDPROVIDER_ROLE_ANNOTATION, out, err);
    if (rc == ER_OK && *out)
        rc = credprovider_check_role_arn(
            *out,
            "the ServiceAccount's annotation " CREDPROVIDER_ROLE_ANNOTATION,
            err);
    return rc;
}

static enum er_code read_fields(json_t *root, struct credprovider_request *r,
                                struct er_error *err)
{
    enum er_code rc;

    if ((rc = check_kind(root, err)) != ER_OK ||
        (rc = check_api_version(root, &r->api_version, err)) != ER_OK ||
        (rc = string_field(root, "image", IMAGE_MAX, "image", &r->image,
                           err)) != ER_OK ||
        (rc = string_field(root, "serviceAccountToken",
                           CREDPROVIDER_REQUEST_CAP, "serviceAccountToken",
                           &r->service_account_token, err)) != ER_OK ||
        (rc = read_role(root, &r->role_arn, err)) != ER_OK)
        return rc;
    if (!r->image)
        return er_set(err, ER_USAGE,
                      "the request names no image; the kubelet sends the "
                      "image to pull in \"image\"");
    return ER_OK;
}

enum er_code credprovider_parse_request(const char *json, size_t len,
                                        struct credprovider_request *out,
                                        struct er_error *err)
{
    struct credprovider_request r = {NULL, NULL, NULL, NULL};
    json_t *root = NULL;
    enum er_code rc;

    if (len > CREDPROVIDER_REQUEST_CAP)
        return er_set(err, ER_USAGE,
                      "the request is larger than %u bytes; no "
                      "CredentialProviderRequest is",
                      CREDPROVIDER_REQUEST_CAP);
    rc =
        json_limit_parse(json, len, JSON_LIMIT_BUDGET(CREDPROVIDER_REQUEST_CAP),
                         "the request", &root, err);
    if (rc != ER_OK) {
        if (err) /* the kubelet's input, not a peer's answer */
            err->code = ER_USAGE;
        return ER_USAGE;
    }
    if (!json_is_object(root))
        rc = er_set(err, ER_USAGE,
                    "the request is not a CredentialProviderRequest JSON "
                    "object");
    else
        rc = read_fields(root, &r, err);
    json_decref(root);
    if (rc != ER_OK) {
        credprovider_request_free(&r);
        return rc;
    }
    *out = r;
    return ER_OK;
}

void credprovider_request_free(struct credprovider_request *r)
{
    if (!r)
        return;
    free(r->image);
    wipe_free_str(r->service_account_token);
    free(r->role_arn);
    memset(r, 0, sizeof(*r));
}

enum er_code credprovider_check_role_arn(const char *value, const char *what,
                                         struct er_error *err)
{
    const char *iam = strstr(value, ":iam::");
    char show[96];

    if (str_has_prefix(value, "arn:") && iam && strstr(iam, ":role/") &&
        strlen(value) <= ROLE_ARN_MAX && str_has_no_controls(value))
        return ER_OK;
    shown(show, value);
    return er_set(err, ER_USAGE,
                  "%s is \"%s\", which is not an IAM role ARN "
                  "(arn:aws:iam::<account>:role/<name>)",
                  what, show);
}

/* --- the response ------------------------------------------------------ */

static bool host_port_char(char c)
{
    return isalnum((unsigned char)c) || c == '.' || c == '-' || c == ':';
}

enum er_code credprovider_image_key(const char *image, char *out, size_t cap,
                                    struct er_error *err)
{
    const char *s = image;
    size_t n;
    char show[96];

    if (str_has_prefix(s, "https://"))
        s += 8;
    else if (str_has_prefix(s, "http://"))
        s += 7;
    n = strcspn(s, "/");
    for (size_t i = 0; i < n; i++) {
        if (!host_port_char(s[i]))
            n = 0;
    }
    if (n == 0 || n >= cap || s[0] == ':' || s[0] == '.') {
        shown(show, image);
        return er_set(err, ER_USAGE,
                      "image \"%s\" does not start with a registry "
                      "host[:port]",
                      show);
    }
    memcpy(out, s, n);
    out[n] = '\0';
    return ER_OK;
}

long long credprovider_cache_seconds(double expires_at, time_t now)
{
    long long left;

    /* NaN fails every comparison, so it ends here too. */
    if (!(expires_at >= (double)TIME_SANE_MIN &&
          expires_at <= (double)TIME_SANE_MAX))
        return 0;
    /* Whole seconds, as cloud-provider-aws's expiresAt.Unix() - now. */
    left = (long long)expires_at - (long long)now;
    if (left < CREDPROVIDER_MIN_LIFE_SECONDS)
        return 0;
    return left / 2; /* at least 5: never 0, which means "do not cache" */
}

static enum er_code too_short(const struct credprovider_response *r, time_t now,
                              struct er_error *err)
{
    long long left = (long long)r->expires_at - (long long)now;

    if (!(r->expires_at > (double)now))
        return er_set(err, ER_AWS,
                      "the token for %s has expired (%lld s ago); refusing "
                      "to hand the kubelet an expired token: check this "
                      "node's clock",
                      r->key, -left);
    return er_set(err, ER_AWS,
                  "the token for %s expires in %lld s, under the %d s a "
                  "pull needs; refusing it: check this node's clock",
                  r->key, left, CREDPROVIDER_MIN_LIFE_SECONDS);
}

/* {"username":...,"password":...}, or NULL when either is not UTF-8. */
static json_t *auth_entry(const struct credprovider_response *r)
{
    json_t *user = json_string(r->username), *pw = json_string(r->password);
    json_t *entry = json_object();

    if (user && pw) {
        json_object_set_new(entry, "username", user);
        json_object_set_new(entry, "password", pw);
        return entry;
    }
    json_decref(user);
    json_decref(pw);
    json_decref(entry);
    return NULL;
}

enum er_code credprovider_build_response(const struct credprovider_response *r,
                                         time_t now, char **out,
                                         struct er_error *err)
{
    long long cache = credprovider_cache_seconds(r->expires_at, now);
    json_t *root, *auth, *entry;
    char duration[DURATION_LEN];
    char *text;

    if (strcmp(r->api_version, CREDPROVIDER_API_V1) != 0 &&
        strcmp(r->api_version, CREDPROVIDER_API_V1BETA1) != 0)
        return er_set(err, ER_INTERNAL, "no response for apiVersion %.64s",
                      r->api_version);
    if (cache == 0)
        return too_short(r, now, err);
    if (!(entry = auth_entry(r)))
        return er_set(err, ER_PARSE,
                      "the credentials for %s are not UTF-8 text, so no "
                      "JSON response can carry them",
                      r->key);
    duration_format(cache * 1000, duration);
    root = json_object();
    auth = json_object();
    json_object_set_new(root, "kind",
                        json_string("CredentialProviderResponse"));
    json_object_set_new(root, "apiVersion", json_string(r->api_version));
    json_object_set_new(root, "cacheKeyType", json_string("Registry"));
    json_object_set_new(root, "cacheDuration", json_string(duration));
    json_object_set_new(root, "auth", auth);
    if (json_object_set_new(auth, r->key, entry) != 0) {
        json_decref(root);
        return er_set(err, ER_PARSE, "the auth key is not UTF-8 text");
    }
    text = json_dumps(root, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(root);
    if (!text)
        abort(); /* only on allocation failure */
    *out = text;
    return ER_OK;
}
