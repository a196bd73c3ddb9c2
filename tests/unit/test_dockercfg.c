/*
 * The .dockerconfigjson document the kubelet reads.
 */
#include "core/b64.h"
#include "core/buf.h"
#include "core/wipe.h"
#include "registry/dockercfg.h"
#include "test_assert.h"
#include "test_util.h"

#include <jansson.h>
#include <string.h>

#define HOST "123456789012.dkr.ecr.us-east-1.amazonaws.com"

static json_t *load(const char *text)
{
    json_error_t jerr;
    json_t *root = json_loads(text, 0, &jerr);

    if (!root)
        fail_msg("not JSON (%s): %s", jerr.text, text);
    return root;
}

static const char *entry_field(json_t *root, const char *host,
                               const char *field)
{
    json_t *entry = json_object_get(json_object_get(root, "auths"), host);

    return json_string_value(json_object_get(entry, field));
}

/* Decodes an "auth" field and checks it is exactly "user:password". */
static void expect_auth(const char *auth, const char *user, const char *pw)
{
    struct buf dec = BUF_INIT_SECRET, want = BUF_INIT_SECRET;

    assert_non_null(auth);
    assert_int_equal(b64_decode(&dec, auth, strlen(auth)), 0);
    buf_must_addf(&want, "%s:%s", user, pw);
    assert_string_equal(buf_str(&dec), buf_str(&want));
    buf_free(&dec);
    buf_free(&want);
}

static char *build(const struct dockercfg_entry *e, size_t n)
{
    struct er_error err;
    char *doc = NULL;

    if (dockercfg_build(e, n, &doc, &err) != ER_OK)
        fail_msg("dockercfg_build: %s", err.msg);
    return doc;
}

static void dockercfg_build__one_registry__exact_document(void **state)
{
    struct dockercfg_entry e = {HOST, "AWS", "test-password-not-real"};
    char *doc = build(&e, 1);

    assert_string_equal(doc,
                        "{\"auths\":{\"" HOST "\":{"
                        "\"auth\":\"QVdTOnRlc3QtcGFzc3dvcmQtbm90LXJlYWw=\","
                        "\"password\":\"test-password-not-real\","
                        "\"username\":\"AWS\"}}}");
    wipe_free_str(doc);
}

/* Real ECR passwords are around 2 KB; a wrapped base64 "auth" (a newline
 * every 64 or 76 characters) breaks pulls. */
static void dockercfg_build__long_password__auth_not_wrapped(void **state)
{
    char pw[2401];
    struct dockercfg_entry e = {HOST, "AWS", pw};
    char *doc;
    json_t *root;
    const char *auth;

    for (size_t i = 0; i < sizeof(pw) - 1; i++)
        pw[i] = "eyJwYXlsb2FkIjoi+/="[i % 19];
    pw[sizeof(pw) - 1] = '\0';
    doc = build(&e, 1);
    assert_null(strchr(doc, '\n'));
    assert_null(strstr(doc, "\\n"));
    root = load(doc);
    auth = entry_field(root, HOST, "auth");
    assert_int_equal(strlen(auth), 4 * ((4 + 2400 + 2) / 3));
    expect_auth(auth, "AWS", pw);
    assert_string_equal(entry_field(root, HOST, "password"), pw);
    json_decref(root);
    wipe_free_str(doc);
}

static void dockercfg_build__duplicate_host__last_entry_kept(void **state)
{
    struct dockercfg_entry e[] = {
        {HOST, "AWS", "old-password"},
        {"222222222222.dkr.ecr.eu-west-1.amazonaws.com", "AWS", "other"},
        {HOST, "AWS", "new-password"},
    };
    char *doc = build(e, 3);
    json_t *root = load(doc);

    assert_int_equal(json_object_size(json_object_get(root, "auths")), 2);
    assert_string_equal(entry_field(root, HOST, "password"), "new-password");
    expect_auth(entry_field(root, HOST, "auth"), "AWS", "new-password");
    assert_string_equal(
        entry_field(root, "222222222222.dkr.ecr.eu-west-1.amazonaws.com",
                    "password"),
        "other");
    assert_null(strstr(doc, "old-password"));
    json_decref(root);
    wipe_free_str(doc);
}

static void dockercfg_build__json_special_characters__escaped(void **state)
{
    struct dockercfg_entry e = {HOST, "AWS", "p\"w\\d/\t"};
    char *doc = build(&e, 1);
    json_t *root = load(doc);

    assert_string_equal(entry_field(root, HOST, "password"), "p\"w\\d/\t");
    expect_auth(entry_field(root, HOST, "auth"), "AWS", "p\"w\\d/\t");
    json_decref(root);
    wipe_free_str(doc);
}

static void dockercfg_build__no_entries__empty_auths(void **state)
{
    char *doc = build(NULL, 0);

    assert_string_equal(doc, "{\"auths\":{}}");
    wipe_free_str(doc);
}

static void dockercfg_build__password_not_utf8__refused(void **state)
{
    struct dockercfg_entry e = {HOST, "AWS", "bad\xff\xfepassword"};
    struct er_error err;
    char *doc = NULL;

    assert_int_equal(dockercfg_build(&e, 1, &doc, &err), ER_PARSE);
    assert_null(doc);
    assert_contains(err.msg, HOST);
    assert_contains(err.msg, "not UTF-8");
    assert_not_contains(err.msg, "password");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(dockercfg_build__one_registry__exact_document),
        cmocka_unit_test(dockercfg_build__long_password__auth_not_wrapped),
        cmocka_unit_test(dockercfg_build__duplicate_host__last_entry_kept),
        cmocka_unit_test(dockercfg_build__json_special_characters__escaped),
        cmocka_unit_test(dockercfg_build__no_entries__empty_auths),
        cmocka_unit_test(dockercfg_build__password_not_utf8__refused),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
