/*
 * The kubelet's credential provider protocol: decoding requests as the
 * kubelet writes them (both API versions, any key order) and refusing
 * what it never writes; the response byte for byte, cacheDuration's
 * rounding and the tokens too close to expiry to hand over; and the
 * example CredentialProviderConfig's matchImages against the host
 * parser, both ways.
 */
#include "aws/ecr_host.h"
#include "aws/endpoints.h"
#include "core/buf.h"
#include "core/glob.h"
#include "core/wipe.h"
#include "core/xalloc.h"
#include "kube/credprovider.h"
#include "kube/yaml_doc.h"
#include "test_assert.h"
#include "test_util.h"

#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define V1 "credentialprovider.kubelet.k8s.io/v1"
#define V1BETA1 "credentialprovider.kubelet.k8s.io/v1beta1"
#define HOST "123456789012.dkr.ecr.us-east-1.amazonaws.com"
#define IMAGE HOST "/app:v1"
#define ROLE "arn:aws:iam::123456789012:role/pull-app"
#define NOW ((time_t)1764590400) /* 2025-12-01T12:00:00Z */

static enum er_code parse(const char *json, struct credprovider_request *r,
                          struct er_error *err)
{
    memset(r, 0, sizeof(*r));
    er_clear(err);
    return credprovider_parse_request(json, strlen(json), r, err);
}

/* Parses json, which must be refused with ER_USAGE and a message holding
 * want. */
static void refused(const char *json, const char *want)
{
    struct credprovider_request r;
    struct er_error err;

    if (parse(json, &r, &err) == ER_OK)
        fail_msg("taken: %s", json);
    assert_int_equal(err.code, ER_USAGE);
    assert_contains(err.msg, want);
    assert_null(r.image);
}

/* --- requests ---------------------------------------------------------- */

static void credprovider_parse_request__kubelet_order_v1__image(void **state)
{
    struct credprovider_request r;
    struct er_error err;

    (void)state;
    /* Exactly what the kubelet writes: kind first, and a newline. */
    assert_int_equal(parse("{\"kind\":\"CredentialProviderRequest\","
                           "\"apiVersion\":\"" V1 "\",\"image\":\"" IMAGE
                           "\"}\n",
                           &r, &err),
                     ER_OK);
    assert_string_equal(r.api_version, V1);
    assert_string_equal(r.image, IMAGE);
    assert_null(r.service_account_token);
    assert_null(r.role_arn);
    credprovider_request_free(&r);
    assert_null(r.image);
}

static void
credprovider_parse_request__api_version_first_v1beta1__image(void **state)
{
    struct credprovider_request r;
    struct er_error err;

    (void)state;
    assert_int_equal(parse("{\"image\":\"" IMAGE "\",\"apiVersion\":\"" V1BETA1
                           "\",\"kind\":\"CredentialProviderRequest\"}",
                           &r, &err),
                     ER_OK);
    assert_string_equal(r.api_version, V1BETA1);
    assert_string_equal(r.image, IMAGE);
    credprovider_request_free(&r);
}

static void
credprovider_parse_request__service_account__token_and_role(void **state)
{
    struct credprovider_request r;
    struct er_error err;

    (void)state;
    assert_int_equal(
        parse("{\"kind\":\"CredentialProviderRequest\",\"apiVersion\":\"" V1
              "\",\"image\":\"" IMAGE "\",\"serviceAccountToken\":\"eyJ.a.b\","
              "\"serviceAccountAnnotations\":{\"other\":\"x\","
              "\"eks.amazonaws.com/ecr-role-arn\":\"" ROLE "\"}}",
              &r, &err),
        ER_OK);
    assert_string_equal(r.service_account_token, "eyJ.a.b");
    assert_string_equal(r.role_arn, ROLE);
    credprovider_request_free(&r);
    assert_null(r.service_account_token);
    assert_null(r.role_arn);
}

static void
credprovider_parse_request__empty_and_null_optionals__absent(void **state)
{
    struct credprovider_request r;
    struct er_error err;

    (void)state;
    assert_int_equal(
        parse("{\"kind\":\"CredentialProviderRequest\",\"apiVersion\":\"" V1
              "\",\"image\":\"" IMAGE "\",\"serviceAccountToken\":\"\","
              "\"serviceAccountAnnotations\":{\"eks.amazonaws.com/"
              "ecr-role-arn\":\"\"}}",
              &r, &err),
        ER_OK);
    assert_null(r.service_account_token);
    assert_null(r.role_arn);
    credprovider_request_free(&r);
    assert_int_equal(
        parse("{\"kind\":\"CredentialProviderRequest\",\"apiVersion\":\"" V1
              "\",\"image\":\"" IMAGE "\",\"serviceAccountToken\":null,"
              "\"serviceAccountAnnotations\":null}",
              &r, &err),
        ER_OK);
    assert_null(r.service_account_token);
    credprovider_request_free(&r);
}

static void credprovider_parse_request__unknown_fields__ignored(void **state)
{
    struct credprovider_request r;
    struct er_error err;

    (void)state;
    /* A newer kubelet may add fields; they must not break pulls. */
    assert_int_equal(parse("{\"kind\":\"CredentialProviderRequest\","
                           "\"apiVersion\":\"" V1 "\",\"image\":\"" IMAGE
                           "\",\"futureField\":{\"a\":[1,2]}}",
                           &r, &err),
                     ER_OK);
    assert_string_equal(r.image, IMAGE);
    credprovider_request_free(&r);
}

static void
credprovider_parse_request__other_api_version__refused_naming_both(void **s)
{
    (void)s;
    refused("{\"kind\":\"CredentialProviderRequest\",\"apiVersion\":"
            "\"credentialprovider.kubelet.k8s.io/v1alpha1\",\"image\":"
            "\"" IMAGE "\"}",
            "apiVersion is \"credentialprovider.kubelet.k8s.io/v1alpha1\", "
            "not " V1 " or " V1BETA1);
    refused("{\"kind\":\"CredentialProviderRequest\",\"apiVersion\":"
            "\"kubelet.config.k8s.io/v1\",\"image\":\"" IMAGE "\"}",
            "CredentialProviderConfig");
    refused("{\"kind\":\"CredentialProviderRequest\",\"image\":\"" IMAGE "\"}",
            "apiVersion is \"\"");
    refused("{\"kind\":\"CredentialProviderRequest\",\"apiVersion\":1,"
            "\"image\":\"" IMAGE "\"}",
            "apiVersion");
}

static void credprovider_parse_request__wrong_kind__refused(void **state)
{
    (void)state;
    refused("{\"kind\":\"CredentialProviderResponse\",\"apiVersion\":\"" V1
            "\",\"image\":\"" IMAGE "\"}",
            "kind is \"CredentialProviderResponse\", not "
            "CredentialProviderRequest");
    refused("{\"apiVersion\":\"" V1 "\",\"image\":\"" IMAGE "\"}",
            "has no kind");
    refused("{\"kind\":[],\"apiVersion\":\"" V1 "\",\"image\":\"" IMAGE "\"}",
            "kind is not a string");
    /* A control character in a kind is shown, not printed. */
    refused("{\"kind\":\"X\\nY\",\"apiVersion\":\"" V1 "\",\"image\":\"a\"}",
            "\"X\\nY\"");
}

static void credprovider_parse_request__bad_json__refused(void **state)
{
    (void)state;
    refused("", "empty");
    refused("{", "not JSON");
    refused("{\"kind\":\"CredentialProviderRequest\",}", "not JSON");
    refused("{\"kind\":\"CredentialProviderRequest\"} {}", "not JSON");
    refused("[]", "not a CredentialProviderRequest JSON object");
    refused("null", "not JSON"); /* jansson wants an object or array */
    refused("\"" IMAGE "\"", "not JSON");
    /* No NUL in a string: it would cut the image short in C. */
    refused("{\"kind\":\"CredentialProviderRequest\",\"apiVersion\":\"" V1
            "\",\"image\":\"a\\u0000b\"}",
            "not JSON");
}

/* A valid request padded with an unknown field to exactly len bytes. */
static char *padded_request(size_t len)
{
    static const char head[] = "{\"kind\":\"CredentialProviderRequest\","
                               "\"apiVersion\":\"" V1 "\",\"image\":"
                               "\"" IMAGE "\",\"pad\":\"";
    char *s = xmalloc(len + 1);

    memcpy(s, head, sizeof(head) - 1);
    memset(s + sizeof(head) - 1, 'x', len - (sizeof(head) - 1) - 2);
    memcpy(s + len - 2, "\"}", 3);
    return s;
}

static void credprovider_parse_request__huge__refused_at_the_cap(void **state)
{
    struct credprovider_request r;
    struct er_error err;
    char *at_cap = padded_request(CREDPROVIDER_REQUEST_CAP);
    char *over = padded_request(CREDPROVIDER_REQUEST_CAP + 1);

    (void)state;
    assert_int_equal(strlen(at_cap), CREDPROVIDER_REQUEST_CAP);
    assert_int_equal(parse(at_cap, &r, &err), ER_OK);
    credprovider_request_free(&r);
    refused(over, "larger than 65536 bytes");
    free(at_cap);
    free(over);
}

static void credprovider_parse_request__deep_nesting__refused(void **state)
{
    char *deep = xmalloc(40001);

    (void)state;
    memset(deep, '[', 40000);
    deep[40000] = '\0';
    refused(deep, "the request");
    free(deep);
}

static void credprovider_parse_request__no_image__refused(void **state)
{
    (void)state;
    refused("{\"kind\":\"CredentialProviderRequest\",\"apiVersion\":\"" V1
            "\"}",
            "names no image");
    refused("{\"kind\":\"CredentialProviderRequest\",\"apiVersion\":\"" V1
            "\",\"image\":\"\"}",
            "names no image");
    refused("{\"kind\":\"CredentialProviderRequest\",\"apiVersion\":\"" V1
            "\",\"image\":null}",
            "names no image");
    refused("{\"kind\":\"CredentialProviderRequest\",\"apiVersion\":\"" V1
            "\",\"image\":[\"" IMAGE "\"]}",
            "image is not a string");
    refused("{\"kind\":\"CredentialProviderRequest\",\"apiVersion\":\"" V1
            "\",\"image\":\"" HOST "/a\\r\\nX: y\"}",
            "image holds a control character");
}

static void credprovider_parse_request__bad_service_account__refused(void **s)
{
    (void)s;
    refused("{\"kind\":\"CredentialProviderRequest\",\"apiVersion\":\"" V1
            "\",\"image\":\"" IMAGE "\",\"serviceAccountToken\":7}",
            "serviceAccountToken is not a string");
    refused("{\"kind\":\"CredentialProviderRequest\",\"apiVersion\":\"" V1
            "\",\"image\":\"" IMAGE "\",\"serviceAccountToken\":\"a\\nb\"}",
            "serviceAccountToken holds a control character");
    refused("{\"kind\":\"CredentialProviderRequest\",\"apiVersion\":\"" V1
            "\",\"image\":\"" IMAGE "\",\"serviceAccountAnnotations\":[]}",
            "serviceAccountAnnotations is not an object");
    refused("{\"kind\":\"CredentialProviderRequest\",\"apiVersion\":\"" V1
            "\",\"image\":\"" IMAGE "\",\"serviceAccountAnnotations\":{"
            "\"eks.amazonaws.com/ecr-role-arn\":true}}",
            "annotation eks.amazonaws.com/ecr-role-arn is not a string");
    refused("{\"kind\":\"CredentialProviderRequest\",\"apiVersion\":\"" V1
            "\",\"image\":\"" IMAGE "\",\"serviceAccountAnnotations\":{"
            "\"eks.amazonaws.com/ecr-role-arn\":\"pull-app\"}}",
            "annotation eks.amazonaws.com/ecr-role-arn is \"pull-app\", "
            "which is not an IAM role ARN");
}

static void credprovider_parse_request__token__never_in_errors(void **state)
{
    struct credprovider_request r;
    struct er_error err;

    (void)state;
    assert_int_not_equal(
        parse("{\"kind\":\"CredentialProviderRequest\",\"apiVersion\":\"" V1
              "\",\"serviceAccountToken\":\"eyJsecret.tok\\t\"}",
              &r, &err),
        ER_OK);
    assert_not_contains(err.msg, "eyJsecret");
}

static void credprovider_check_role_arn__shapes(void **state)
{
    struct er_error err;

    (void)state;
    assert_int_equal(credprovider_check_role_arn(ROLE, "x", &err), ER_OK);
    assert_int_equal(
        credprovider_check_role_arn(
            "arn:aws-cn:iam::123456789012:role/path/to/r", "x", &err),
        ER_OK);
    assert_int_equal(credprovider_check_role_arn(
                         "arn:aws:iam::123456789012:user/u", "X_VAR", &err),
                     ER_USAGE);
    assert_contains(err.msg, "X_VAR is \"arn:aws:iam::123456789012:user/u\"");
    assert_int_equal(credprovider_check_role_arn("", "x", &err), ER_USAGE);
    assert_int_equal(credprovider_check_role_arn(ROLE "\n", "x", &err),
                     ER_USAGE);
    assert_contains(err.msg, "\\n");
}

/* --- responses --------------------------------------------------------- */

static void credprovider_image_key__host_and_port_as_written(void **state)
{
    static const struct {
        const char *image, *key;
    } cases[] = {
        {IMAGE, HOST},
        {HOST ":443/team/app@sha256:abc", HOST ":443"},
        {HOST, HOST},
        {"public.ecr.aws/nginx/nginx:latest", "public.ecr.aws"},
        {"Mirror.Example:5000/app", "Mirror.Example:5000"},
        {"https://" HOST "/v2/", HOST},
    };
    static const char *const bad[] = {
        "", "/app", ":443/app", "user@" HOST "/app", "a b/app", "[::1]:5000/x",
    };
    char key[256];
    struct er_error err;

    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        assert_int_equal(
            credprovider_image_key(cases[i].image, key, sizeof(key), &err),
            ER_OK);
        assert_string_equal(key, cases[i].key);
    }
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        if (credprovider_image_key(bad[i], key, sizeof(key), &err) == ER_OK)
            fail_msg("\"%s\" gave the key \"%s\"", bad[i], key);
        assert_contains(err.msg, "registry host[:port]");
    }
    assert_int_equal(credprovider_image_key(IMAGE, key, 10, &err), ER_USAGE);
}

static void credprovider_cache_seconds__half_rounded_down(void **state)
{
    static const struct {
        double left;
        long long want;
    } cases[] = {
        {43200.0, 21600}, /* a fresh ECR token: 6h */
        {43199.9, 21599}, /* whole seconds first, as Go's Unix() */
        {21599.0, 10799}, {20.0, 10}, {20.999, 10}, {21.0, 10}, {19.999, 9},
        {10.0, 5}, /* the least handed over */
        {9.999, 0},       {1.0, 0},   {0.5, 0},     {0.0, 0},   {-5.0, 0},
    };

    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        long long got =
            credprovider_cache_seconds((double)NOW + cases[i].left, NOW);
        if (got != cases[i].want)
            fail_msg("%.3f s left: %lld, want %lld", cases[i].left, got,
                     cases[i].want);
    }
    assert_int_equal(credprovider_cache_seconds(NAN, NOW), 0);
    assert_int_equal(credprovider_cache_seconds(INFINITY, NOW), 0);
    assert_int_equal(credprovider_cache_seconds(1e300, NOW), 0);
}

static char *built(const char *api, const char *password, double left,
                   struct er_error *err)
{
    struct credprovider_response r = {api, HOST, "AWS", password, 0};
    char *text = NULL;

    r.expires_at = (double)NOW + left;
    er_clear(err);
    if (credprovider_build_response(&r, NOW, &text, err) != ER_OK)
        return NULL;
    return text;
}

static void credprovider_build_response__v1__exact_bytes(void **state)
{
    struct er_error err;
    char *text = built(V1, "pw", 43200.0, &err);

    (void)state;
    assert_non_null(text);
    assert_string_equal(
        text, "{\"kind\":\"CredentialProviderResponse\",\"apiVersion\":"
              "\"credentialprovider.kubelet.k8s.io/v1\",\"cacheKeyType\":"
              "\"Registry\",\"cacheDuration\":\"6h0m0s\",\"auth\":{"
              "\"123456789012.dkr.ecr.us-east-1.amazonaws.com\":{"
              "\"username\":\"AWS\",\"password\":\"pw\"}}}");
    wipe_free_str(text);
}

static void
credprovider_build_response__v1beta1_rounded__exact_bytes(void **state)
{
    struct er_error err;
    char *text = built(V1BETA1, "p\"w\\/x", 21599.9, &err);

    (void)state;
    assert_non_null(text);
    /* 21599 whole seconds left, halved and rounded down: 10799 s. The
     * password's quote and backslash are escaped, '/' is not. */
    assert_string_equal(
        text, "{\"kind\":\"CredentialProviderResponse\",\"apiVersion\":"
              "\"credentialprovider.kubelet.k8s.io/v1beta1\",\"cacheKeyType\":"
              "\"Registry\",\"cacheDuration\":\"2h59m59s\",\"auth\":{"
              "\"123456789012.dkr.ecr.us-east-1.amazonaws.com\":{"
              "\"username\":\"AWS\",\"password\":\"p\\\"w\\\\/x\"}}}");
    wipe_free_str(text);
    text = built(V1, "pw", 20.5, &err);
    assert_contains(text, "\"cacheDuration\":\"10s\"");
    wipe_free_str(text);
    text = built(V1, "pw", 10.0, &err);
    assert_contains(text, "\"cacheDuration\":\"5s\"");
    wipe_free_str(text);
    text = built(V1, "pw", 150.0, &err);
    assert_contains(text, "\"cacheDuration\":\"1m15s\"");
    wipe_free_str(text);
}

static void credprovider_build_response__expired__refused(void **state)
{
    struct er_error err;

    (void)state;
    assert_null(built(V1, "pw", -30.0, &err));
    assert_int_equal(err.code, ER_AWS);
    assert_contains(err.msg, "the token for " HOST " has expired (30 s ago)");
    assert_null(built(V1, "pw", 0.0, &err));
    assert_contains(err.msg, "has expired");
}

static void credprovider_build_response__too_short__refused(void **state)
{
    struct er_error err;

    (void)state;
    assert_null(built(V1, "pw", 1.0, &err));
    assert_int_equal(err.code, ER_AWS);
    assert_contains(err.msg, "expires in 1 s, under the 10 s a pull needs");
    assert_null(built(V1, "pw", 9.9, &err));
    assert_contains(err.msg, "expires in 9 s");
}

static void credprovider_build_response__not_utf8__refused(void **state)
{
    struct er_error err;

    (void)state;
    assert_null(built(V1, "p\xff", 43200.0, &err));
    assert_int_equal(err.code, ER_PARSE);
    assert_contains(err.msg, "not UTF-8");
    assert_null(built("credentialprovider.kubelet.k8s.io/v1alpha1", "pw",
                      43200.0, &err));
    assert_int_equal(err.code, ER_INTERNAL);
}

/* --- the example CredentialProviderConfig ------------------------------- */

/* deploy/kubelet/credential-provider-config.yaml, found from this file's
 * own path (CMake compiles sources by absolute path), else from the
 * working directory. */
static char *config_text(void)
{
    static const char self[] = "tests/unit/test_credprovider.c";
    static const char config[] = "deploy/kubelet/credential-provider-config"
                                 ".yaml";
    const char *file = __FILE__;
    size_t n = strlen(file), k = strlen(self);
    char *path, *text;

    if (n >= k && strcmp(file + n - k, self) == 0)
        path = xasprintf("%.*s%s", (int)(n - k), file, config);
    else
        path = xstrdup(config);
    text = test_read_file(path);
    free(path);
    return text;
}

/* The provider entry of the config, parsed; *doc to free. */
static json_t *provider_of(const char *text, struct yaml_doc **doc)
{
    struct er_error err;
    json_t *root, *providers;

    if (yaml_doc_parse(text, strlen(text), "credential-provider-config.yaml",
                       doc, &err) != ER_OK)
        fail_msg("%s", err.msg);
    root = yaml_doc_root(*doc);
    assert_string_equal(json_string_value(json_object_get(root, "apiVersion")),
                        "kubelet.config.k8s.io/v1");
    assert_string_equal(json_string_value(json_object_get(root, "kind")),
                        "CredentialProviderConfig");
    providers = json_object_get(root, "providers");
    assert_int_equal(json_array_size(providers), 1);
    return json_array_get(providers, 0);
}

/* How the kubelet matches a matchImages pattern to a host (keyring.go
 * URLsMatch): as many labels, each matching as filepath.Match does. The
 * patterns here use only '*', which glob_match reads the same way, and a
 * label holds no '.', so a '*' never spans two. */
static bool kubelet_match(const char *pattern, const char *host)
{
    char *p = xstrdup(pattern), *h = xstrdup(host);
    char *ps = NULL, *hs = NULL;
    char *pl = strtok_r(p, ".", &ps), *hl = strtok_r(h, ".", &hs);
    bool ok = true;

    while (ok && pl && hl) {
        ok = glob_match(pl, hl);
        pl = strtok_r(NULL, ".", &ps);
        hl = strtok_r(NULL, ".", &hs);
    }
    ok = ok && !pl && !hl;
    free(p);
    free(h);
    return ok;
}

/* An example region of every partition, and whether ECR has FIPS
 * endpoints there. A partition added to endpoints.c without one here
 * fails the test, so the config cannot silently miss it. */
static const struct {
    const char *partition, *region;
    bool fips;
} examples[] = {
    {"aws", "us-east-1", true},
    {"aws-us-gov", "us-gov-west-1", true},
    {"aws-cn", "cn-north-1", false},
    {"aws-iso", "us-iso-east-1", false},
    {"aws-iso-b", "us-isob-east-1", false},
    {"aws-iso-e", "eu-isoe-west-1", false},
    {"aws-iso-f", "us-isof-south-1", false},
    {"aws-eusc", "eusc-de-east-1", false},
};
#define N_EXAMPLES (sizeof(examples) / sizeof(examples[0]))

static bool matched_by_any(json_t *patterns, const char *host)
{
    for (size_t i = 0; i < json_array_size(patterns); i++) {
        if (kubelet_match(json_string_value(json_array_get(patterns, i)), host))
            return true;
    }
    return false;
}

/* The pattern with its first '*' as an account and its second as
 * region, a host to try on the parser. */
static char *instance(const char *pattern, const char *region)
{
    const char *stars[2] = {"123456789012", region};
    struct buf out = BUF_INIT;
    int star = 0;

    for (const char *c = pattern; *c; c++) {
        if (*c == '*' && star < 2)
            buf_must_adds(&out, stars[star++]);
        else
            buf_must_add(&out, c, 1);
    }
    return buf_detach(&out, NULL);
}

static bool parser_takes_an_instance(const char *pattern)
{
    struct ecr_host h;
    bool ok = false;

    for (size_t i = 0; i < N_EXAMPLES && !ok; i++) {
        char *host = instance(pattern, examples[i].region);
        ok = ecr_host_parse(host, &h);
        free(host);
    }
    return ok;
}

static void config__fields__as_the_kubelet_needs(void **state)
{
    struct yaml_doc *doc = NULL;
    char *text = config_text();
    json_t *p = provider_of(text, &doc);

    (void)state;
    assert_string_equal(json_string_value(json_object_get(p, "name")),
                        "ecr-credential-provider");
    assert_string_equal(json_string_value(json_object_get(p, "apiVersion")),
                        V1);
    assert_non_null(
        json_string_value(json_object_get(p, "defaultCacheDuration")));
    assert_null(json_object_get(p, "tokenAttributes")); /* commented out */
    yaml_doc_free(doc);
    free(text);
}

static void config__every_pattern__matches_a_host_the_parser_takes(void **s)
{
    struct yaml_doc *doc = NULL;
    char *text = config_text();
    json_t *patterns = json_object_get(provider_of(text, &doc), "matchImages");

    (void)s;
    assert_true(json_array_size(patterns) > 0);
    for (size_t i = 0; i < json_array_size(patterns); i++) {
        const char *pattern = json_string_value(json_array_get(patterns, i));
        assert_non_null(pattern);
        if (!parser_takes_an_instance(pattern))
            fail_msg("matchImages \"%s\" names no host the parser takes",
                     pattern);
    }
    yaml_doc_free(doc);
    free(text);
}

static void check_covered(json_t *patterns, const char *host)
{
    struct ecr_host h;

    if (!ecr_host_parse(host, &h))
        fail_msg("the parser refuses %s", host);
    if (!matched_by_any(patterns, host))
        fail_msg("no matchImages pattern matches %s", host);
}

static void config__every_host_form__matched_by_a_pattern(void **state)
{
    struct yaml_doc *doc = NULL;
    char *text = config_text();
    json_t *patterns = json_object_get(provider_of(text, &doc), "matchImages");
    size_t n;
    const struct aws_partition *parts = aws_partitions(&n);

    (void)state;
    for (size_t i = 0; i < n; i++) {
        size_t e = 0;
        while (e < N_EXAMPLES &&
               strcmp(examples[e].partition, parts[i].name) != 0)
            e++;
        if (e == N_EXAMPLES)
            fail_msg("no example region for partition %s", parts[i].name);
        for (int fips = 0; fips <= (examples[e].fips ? 1 : 0); fips++) {
            for (int dualstack = 0; dualstack <= 1; dualstack++) {
                char *host = aws_ecr_registry_host_of(
                    "123456789012", examples[e].region, fips, dualstack);
                check_covered(patterns, host);
                free(host);
            }
        }
    }
    check_covered(patterns, ECR_PUBLIC_HOST);
    check_covered(patterns, ECR_PUBLIC_DUALSTACK_HOST);
    /* And nothing else: the kubelet must not send us other registries. */
    assert_false(matched_by_any(patterns, "docker.io"));
    assert_false(matched_by_any(patterns, "registry.k8s.io"));
    assert_false(matched_by_any(patterns, "123456789012.dkr.ecr.us-east-1."
                                          "amazonaws.com.evil.example"));
    yaml_doc_free(doc);
    free(text);
}

/* The commented tokenAttributes example, uncommented, is what §5.4 asks
 * for. */
static void config__token_attributes_example__valid(void **state)
{
    char *text = config_text();
    const char *at = strstr(text, "    # tokenAttributes:");
    struct buf doc_text = BUF_INIT;
    struct yaml_doc *doc = NULL;
    json_t *ta;

    (void)state;
    assert_non_null(at);
    buf_must_add(&doc_text, text, (size_t)(at - text));
    for (const char *line = at; *line;) {
        size_t len = strcspn(line, "\n");
        if (strncmp(line, "    # ", 6) == 0 &&
            strncmp(line, "    #   # ", 10) != 0) {
            buf_must_adds(&doc_text, "    ");
            buf_must_add(&doc_text, line + 6, len - 6);
            buf_must_adds(&doc_text, "\n");
        }
        line += len + (line[len] == '\n');
    }
    ta = json_object_get(provider_of(buf_str(&doc_text), &doc),
                         "tokenAttributes");
    assert_string_equal(
        json_string_value(json_object_get(ta, "serviceAccountTokenAudience")),
        "sts.amazonaws.com");
    assert_string_equal(json_string_value(json_object_get(ta, "cacheType")),
                        "ServiceAccount");
    assert_true(json_is_false(json_object_get(ta, "requireServiceAccount")));
    assert_string_equal(
        json_string_value(json_array_get(
            json_object_get(ta, "optionalServiceAccountAnnotationKeys"), 0)),
        CREDPROVIDER_ROLE_ANNOTATION);
    assert_null(json_object_get(ta, "requiredServiceAccountAnnotationKeys"));
    yaml_doc_free(doc);
    buf_free(&doc_text);
    free(text);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(credprovider_parse_request__kubelet_order_v1__image),
        cmocka_unit_test(
            credprovider_parse_request__api_version_first_v1beta1__image),
        cmocka_unit_test(
            credprovider_parse_request__service_account__token_and_role),
        cmocka_unit_test(
            credprovider_parse_request__empty_and_null_optionals__absent),
        cmocka_unit_test(credprovider_parse_request__unknown_fields__ignored),
        cmocka_unit_test(
            credprovider_parse_request__other_api_version__refused_naming_both),
        cmocka_unit_test(credprovider_parse_request__wrong_kind__refused),
        cmocka_unit_test(credprovider_parse_request__bad_json__refused),
        cmocka_unit_test(credprovider_parse_request__huge__refused_at_the_cap),
        cmocka_unit_test(credprovider_parse_request__deep_nesting__refused),
        cmocka_unit_test(credprovider_parse_request__no_image__refused),
        cmocka_unit_test(
            credprovider_parse_request__bad_service_account__refused),
        cmocka_unit_test(credprovider_parse_request__token__never_in_errors),
        cmocka_unit_test(credprovider_check_role_arn__shapes),
        cmocka_unit_test(credprovider_image_key__host_and_port_as_written),
        cmocka_unit_test(credprovider_cache_seconds__half_rounded_down),
        cmocka_unit_test(credprovider_build_response__v1__exact_bytes),
        cmocka_unit_test(
            credprovider_build_response__v1beta1_rounded__exact_bytes),
        cmocka_unit_test(credprovider_build_response__expired__refused),
        cmocka_unit_test(credprovider_build_response__too_short__refused),
        cmocka_unit_test(credprovider_build_response__not_utf8__refused),
        cmocka_unit_test(config__fields__as_the_kubelet_needs),
        cmocka_unit_test(
            config__every_pattern__matches_a_host_the_parser_takes),
        cmocka_unit_test(config__every_host_form__matched_by_a_pattern),
        cmocka_unit_test(config__token_attributes_example__valid),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
