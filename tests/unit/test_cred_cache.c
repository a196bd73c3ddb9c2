/*
 * The docker helper's token cache: the half-life and stale rules on an
 * injected clock, the file's checks (foreign shapes, bad entries, size
 * bound), keying by identity, and the file on disk (modes, atomic
 * replace, the writers' lock).
 */
#include "core/b64.h"
#include "core/wipe.h"
#include "core/xalloc.h"
#include "registry/cred_cache.h"
#include "test_assert.h"
#include "test_util.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define T0 ((time_t)1800000000) /* 2027-01-15 */
#define HOUR 3600
#define HOST "123456789012.dkr.ecr.us-east-1.amazonaws.com"
#define HOST2 "210987654321.dkr.ecr.eu-west-1.amazonaws.com"

static struct cred_cache_entry entry(const char *registry, const char *who,
                                     const char *password, time_t fetched,
                                     time_t lifetime)
{
    struct cred_cache_entry e;

    memset(&e, 0, sizeof(e));
    snprintf(e.registry, sizeof(e.registry), "%s", registry);
    cred_cache_identity_hash(who, e.identity);
    e.username = (char *)"AWS";
    e.password = (char *)password;
    e.fetched_at = fetched;
    e.expires_at = fetched + lifetime;
    return e;
}

static const char *find_pw(const struct cred_cache *c, const char *registry,
                           const char *who)
{
    char id[DIGEST_SHA256_HEX_LEN];
    const struct cred_cache_entry *e;

    cred_cache_identity_hash(who, id);
    e = cred_cache_find(c, registry, id);
    return e ? e->password : NULL;
}

/* --- the rules, on a test clock ------------------------------------------ */

static void
cred_cache_judge__twelve_hours__fresh_stale_then_unusable(void **state)
{
    struct test_clock tc;
    struct cred_cache_entry e = entry(HOST, "key:A", "pw", T0, 12 * HOUR);

    (void)state;
    test_clock_init(&tc, T0);
    assert_int_equal(cred_cache_judge(&e, clock_now(&tc.clock)),
                     CRED_CACHE_FRESH);
    test_clock_advance_ms(&tc, (6 * HOUR - 1) * 1000LL);
    assert_int_equal(cred_cache_judge(&e, clock_now(&tc.clock)),
                     CRED_CACHE_FRESH);
    test_clock_advance_ms(&tc, 1000); /* half its life: refresh */
    assert_int_equal(cred_cache_judge(&e, clock_now(&tc.clock)),
                     CRED_CACHE_STALE);
    /* 10 min + 1 s left: still served if the refresh fails. */
    test_clock_advance_ms(&tc, (6 * HOUR - 601) * 1000LL);
    assert_int_equal(cred_cache_judge(&e, clock_now(&tc.clock)),
                     CRED_CACHE_STALE);
    /* Exactly 10 minutes left: no more. */
    test_clock_advance_ms(&tc, 1000);
    assert_int_equal(cred_cache_judge(&e, clock_now(&tc.clock)),
                     CRED_CACHE_UNUSABLE);
    test_clock_advance_ms(&tc, 600 * 1000LL); /* expired */
    assert_int_equal(cred_cache_judge(&e, clock_now(&tc.clock)),
                     CRED_CACHE_UNUSABLE);
    test_clock_advance_ms(&tc, 24LL * HOUR * 1000);
    assert_int_equal(cred_cache_judge(&e, clock_now(&tc.clock)),
                     CRED_CACHE_UNUSABLE);
}

static void cred_cache_judge__short_life__never_served_after_half(void **state)
{
    /* 15 minutes: at half life 7.5 minutes are left, under the 10. */
    struct cred_cache_entry e = entry(HOST, "key:A", "pw", T0, 15 * 60);

    (void)state;
    assert_int_equal(cred_cache_judge(&e, T0 + 449), CRED_CACHE_FRESH);
    assert_int_equal(cred_cache_judge(&e, T0 + 450), CRED_CACHE_UNUSABLE);
}

/* --- the file's text ------------------------------------------------------ */

static void cred_cache_format__round_trip__same_entries(void **state)
{
    struct cred_cache c = {0}, back = {0};
    struct cred_cache_entry a = entry(HOST, "key:A", "pw-a", T0, 12 * HOUR);
    struct cred_cache_entry b =
        entry(HOST2, "role:arn:aws:iam::1:role/x", "pw-\"b\"\\", T0 + 5, HOUR);
    struct buf text = BUF_INIT_SECRET;

    (void)state;
    cred_cache_put(&c, &a, T0);
    cred_cache_put(&c, &b, T0);
    cred_cache_format(&c, &text);
    assert_contains(buf_str(&text), "\"format\":\"ecr-renew-cache/1\"");
    assert_true(cred_cache_parse(text.data, text.len, &back));
    assert_int_equal(back.n, 2);
    assert_string_equal(find_pw(&back, HOST, "key:A"), "pw-a");
    assert_string_equal(find_pw(&back, HOST2, "role:arn:aws:iam::1:role/x"),
                        "pw-\"b\"\\");
    assert_int_equal(back.items[1].fetched_at, T0 + 5);
    assert_int_equal(back.items[1].expires_at, T0 + 5 + HOUR);
    /* The identity itself is never written, only its hash. */
    assert_not_contains(buf_str(&text), "key:A");
    assert_not_contains(buf_str(&text), "role/x");
    buf_free(&text);
    cred_cache_free(&c);
    cred_cache_free(&back);
}

static void cred_cache_parse__foreign_or_corrupt__empty(void **state)
{
    static const char *const texts[] = {
        "",
        "not json",
        "[]",
        "{\"format\":\"ecr-renew-cache/1\"",
        "{\"format\":\"ecr-renew-cache/2\",\"entries\":[]}",
        "{\"format\":\"ecr-renew-cache/1\",\"entries\":{}}",
        "{\"entries\":[]}",
        /* jansson refuses \u0000: the whole file is foreign. */
        "{\"format\":\"ecr-renew-cache/1\",\"entries\":[{\"password\":"
        "\"a\\u0000b\"}]}",
        /* The reference helper's cache.json. */
        "{\"Registries\":{\"us-east-1-abc-123456789012\":{\"AuthorizationToken"
        "\":\"QVdTOnB3\",\"RequestedAt\":\"2026-01-01T00:00:00Z\",\"ExpiresAt"
        "\":\"2026-01-01T12:00:00Z\",\"ProxyEndpoint\":\"https://x\","
        "\"Service\":\"ecr\"}},\"Version\":\"1.0\"}",
    };
    struct cred_cache c;

    (void)state;
    for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
        assert_false(cred_cache_parse(texts[i], strlen(texts[i]), &c));
        assert_int_equal(c.n, 0);
        assert_null(c.items);
    }
}

#define ID_A "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
#define ID_B "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"

struct raw_entry {
    const char *registry, *identity, *password, *fetched, *expires;
};

static void cred_cache_parse__bad_entries__dropped_others_kept(void **state)
{
    static const struct raw_entry raw[] = {
        {HOST, ID_A, "good", "1800000000", "1800043200"},
        /* a duplicate key: the first one wins */
        {HOST, ID_A, "later", "1800000000", "1800043200"},
        /* not a hash */
        {HOST, "key:AKIA", "pw", "1800000000", "1800043200"},
        {HOST,
         "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
         "pw", "1800000000", "1800043200"},
        /* not a host */
        {"bad host/x", ID_B, "pw", "1800000000", "1800043200"},
        /* a control character; empty */
        {HOST2, ID_B, "p\\nw", "1800000000", "1800043200"},
        {HOST2, ID_B, "", "1800000000", "1800043200"},
        /* times: backwards, too long a life, not integers, absurd */
        {HOST2, ID_B, "pw", "1800043200", "1800000000"},
        {HOST2, ID_B, "pw", "1800000000", "1900000000"},
        {HOST2, ID_B, "pw", "1800000000.5", "1800043200"},
        {HOST2, ID_B, "pw", "\"1800000000\"", "1800043200"},
        {HOST2, ID_B, "pw", "-5", "100"},
    };
    struct buf text = BUF_INIT;
    struct cred_cache c;

    (void)state;
    buf_must_adds(&text, "{\"format\":\"ecr-renew-cache/1\",\"entries\":[");
    for (size_t i = 0; i < sizeof(raw) / sizeof(raw[0]); i++)
        buf_must_addf(&text,
                      "{\"registry\":\"%s\",\"identity\":\"%s\","
                      "\"username\":\"AWS\",\"password\":\"%s\","
                      "\"fetched_at\":%s,\"expires_at\":%s},",
                      raw[i].registry, raw[i].identity, raw[i].password,
                      raw[i].fetched, raw[i].expires);
    buf_must_adds(&text, "42,null,\"x\",[]]}");
    assert_true(cred_cache_parse(text.data, text.len, &c));
    assert_int_equal(c.n, 1);
    assert_string_equal(c.items[0].password, "good");
    assert_string_equal(c.items[0].identity, ID_A);
    cred_cache_free(&c);
    buf_free(&text);
}

static void cred_cache_put__same_key_replaced_other_identity_kept(void **state)
{
    struct cred_cache c = {0};
    struct cred_cache_entry a1 = entry(HOST, "key:A", "a1", T0, 12 * HOUR);
    struct cred_cache_entry b = entry(HOST, "key:B", "b", T0, 12 * HOUR);
    struct cred_cache_entry a2 =
        entry(HOST, "key:A", "a2", T0 + HOUR, 12 * HOUR);

    (void)state;
    cred_cache_put(&c, &a1, T0);
    cred_cache_put(&c, &b, T0);
    cred_cache_put(&c, &a2, T0 + HOUR);
    assert_int_equal(c.n, 2);
    assert_string_equal(find_pw(&c, HOST, "key:A"), "a2");
    assert_string_equal(find_pw(&c, HOST, "key:B"), "b");
    /* Same registry, another identity: never the other one's token. */
    assert_null(find_pw(&c, HOST, "key:C"));
    assert_null(find_pw(&c, HOST2, "key:A"));
    cred_cache_free(&c);
}

static void cred_cache_put__expired_dropped_and_count_bounded(void **state)
{
    struct cred_cache c = {0};
    struct cred_cache_entry old = entry(HOST, "key:old", "x", T0, HOUR);
    char who[32];

    (void)state;
    cred_cache_put(&c, &old, T0);
    for (int i = 0; i < CRED_CACHE_MAX_ENTRIES + 10; i++) {
        struct cred_cache_entry e;
        snprintf(who, sizeof(who), "key:%d", i);
        e = entry(HOST, who, "pw", T0 + 2 * HOUR + i, 12 * HOUR);
        cred_cache_put(&c, &e, T0 + 2 * HOUR + i);
    }
    assert_int_equal(c.n, CRED_CACHE_MAX_ENTRIES);
    assert_null(find_pw(&c, HOST, "key:old")); /* expired: gone first */
    assert_null(find_pw(&c, HOST, "key:9"));   /* the oldest went next */
    assert_non_null(find_pw(&c, HOST, "key:10"));
    assert_non_null(find_pw(&c, HOST, "key:73"));
    cred_cache_free(&c);
}

static void cred_cache_format__too_large__oldest_dropped_to_fit(void **state)
{
    struct cred_cache c = {0}, back = {0};
    struct buf text;
    char *big = xmalloc(CRED_CACHE_MAX_PASSWORD + 1);
    char who[32];

    (void)state;
    memset(big, 'p', CRED_CACHE_MAX_PASSWORD);
    big[CRED_CACHE_MAX_PASSWORD] = '\0';
    for (int i = 0; i < 40; i++) { /* 40 x 16 KiB > 512 KiB */
        struct cred_cache_entry e;
        snprintf(who, sizeof(who), "key:%d", i);
        e = entry(HOST, who, big, T0 + i, 12 * HOUR);
        cred_cache_put(&c, &e, T0 + i);
    }
    buf_init(&text, 4 * CRED_CACHE_MAX_BYTES, BUF_SECRET);
    cred_cache_format(&c, &text);
    assert_true(text.len <= CRED_CACHE_MAX_BYTES);
    assert_true(c.n < 40 && c.n > 20);
    assert_true(cred_cache_parse(text.data, text.len, &back));
    assert_int_equal(back.n, c.n);
    assert_non_null(find_pw(&back, HOST, "key:39")); /* the newest stay */
    assert_null(find_pw(&back, HOST, "key:0"));
    buf_free(&text);
    free(big);
    cred_cache_free(&c);
    cred_cache_free(&back);
}

/* --- identity ------------------------------------------------------------- */

static void settings_empty(struct aws_settings *s)
{
    memset(s, 0, sizeof(*s));
    s->profile = xstrdup("default");
    s->config_file = xstrdup("/nonexistent/config");
    s->credentials_file = xstrdup("/nonexistent/credentials");
}

static enum cred_identity identity_of(const struct aws_settings *s, char **text)
{
    struct buf b = BUF_INIT;
    enum cred_identity id = cred_cache_identity(s, &b);

    *text = buf_detach(&b, NULL);
    return id;
}

static void cred_cache_identity__static_keys__access_key_id(void **state)
{
    struct aws_settings s;
    char *text;

    (void)state;
    settings_empty(&s);
    aws_settings_set(&s.access_key_id, "AKIAEXAMPLE1");
    aws_settings_set(&s.secret_access_key, "secret");
    /* The role of web identity is not used: the keys come first. */
    aws_settings_set(&s.role_arn, "arn:aws:iam::1:role/x");
    aws_settings_set(&s.web_identity_token_file, "/t");
    assert_int_equal(identity_of(&s, &text), CRED_IDENTITY_LOCAL);
    assert_string_equal(text, "key:AKIAEXAMPLE1");
    free(text);
    /* One half of a key pair: the chain fails, nothing is keyed. */
    aws_settings_set(&s.secret_access_key, NULL);
    assert_int_equal(identity_of(&s, &text), CRED_IDENTITY_NONE);
    free(text);
    aws_settings_free(&s);
}

static void cred_cache_identity__web_identity__role_not_session(void **state)
{
    struct aws_settings s;
    char *text;

    (void)state;
    settings_empty(&s);
    aws_settings_set(&s.role_arn, "arn:aws:iam::1:role/irsa");
    aws_settings_set(&s.web_identity_token_file, "/var/run/token");
    assert_int_equal(identity_of(&s, &text), CRED_IDENTITY_LOCAL);
    assert_string_equal(text, "role:arn:aws:iam::1:role/irsa");
    free(text);
    aws_settings_free(&s);
}

static void cred_cache_identity__profile__role_arn_or_keys(void **state)
{
    struct aws_settings s;
    char *text;

    (void)state;
    settings_empty(&s);
    free(s.config_file);
    s.config_file =
        test_write_temp("config", "[profile dev]\n"
                                  "role_arn = arn:aws:iam::1:role/dev\n"
                                  "source_profile = base\n"
                                  "[profile base]\n"
                                  "aws_access_key_id = AKIABASE\n"
                                  "aws_secret_access_key = s\n"
                                  "[profile sso]\n"
                                  "sso_session = x\n");
    aws_settings_set(&s.profile, "dev");
    assert_int_equal(identity_of(&s, &text), CRED_IDENTITY_LOCAL);
    assert_string_equal(text, "role:arn:aws:iam::1:role/dev");
    free(text);
    aws_settings_set(&s.profile, "base");
    assert_int_equal(identity_of(&s, &text), CRED_IDENTITY_LOCAL);
    assert_string_equal(text, "key:AKIABASE");
    free(text);
    /* No usable credentials in it: on to instance metadata, as the chain. */
    aws_settings_set(&s.profile, "sso");
    assert_int_equal(identity_of(&s, &text), CRED_IDENTITY_IMDS);
    assert_string_equal(text, "imds:http://169.254.169.254");
    free(text);
    /* A profile asked for by name that does not exist fails the chain. */
    aws_settings_set(&s.profile, "missing");
    s.profile_explicit = true;
    assert_int_equal(identity_of(&s, &text), CRED_IDENTITY_NONE);
    free(text);
    aws_settings_free(&s);
}

static char *jwt(const char *claims)
{
    struct buf b = BUF_INIT;
    char *out;

    b64_encode(&b, claims, strlen(claims));
    for (size_t i = 0; i < b.len; i++)
        b.data[i] = b.data[i] == '+' ? '-' : b.data[i] == '/' ? '_' : b.data[i];
    while (b.len && b.data[b.len - 1] == '=')
        b.data[--b.len] = '\0';
    out = xasprintf("eyJhbGciOiJSUzI1NiJ9.%s.c2ln", buf_str(&b));
    buf_free(&b);
    return out;
}

static void cred_cache_identity__container__token_holder_not_token(void **state)
{
    char *t1 =
        jwt("{\"iss\":\"https://oidc.x\",\"sub\":\"system:serviceaccount:"
            "a:app\",\"exp\":1}");
    char *t2 =
        jwt("{\"iss\":\"https://oidc.x\",\"sub\":\"system:serviceaccount:"
            "a:app\",\"exp\":2}");
    char *t3 =
        jwt("{\"iss\":\"https://oidc.x\",\"sub\":\"system:serviceaccount:"
            "b:other\",\"exp\":1}");
    char *path = test_temp_path("pod-identity-token"), *i1, *i2, *i3, *i4;
    struct aws_settings s;
    FILE *f;

    (void)state;
    settings_empty(&s);
    aws_settings_set(&s.container_full_uri, "http://127.0.0.1:9/v1/creds");
    aws_settings_set(&s.container_auth_token_file, path);
    f = fopen(path, "w");
    fputs(t1, f);
    fclose(f);
    assert_int_equal(identity_of(&s, &i1), CRED_IDENTITY_LOCAL);
    assert_string_equal(i1, "container:http://127.0.0.1:9/v1/creds"
                            "|jwt:https://oidc.x|system:serviceaccount:a:app");
    f = fopen(path, "w"); /* the agent rotates the token: same holder */
    fputs(t2, f);
    fclose(f);
    assert_int_equal(identity_of(&s, &i2), CRED_IDENTITY_LOCAL);
    assert_string_equal(i1, i2);
    f = fopen(path, "w"); /* another pod's ServiceAccount, same endpoint */
    fputs(t3, f);
    fclose(f);
    assert_int_equal(identity_of(&s, &i3), CRED_IDENTITY_LOCAL);
    assert_string_not_equal(i1, i3);
    /* A token that is no JWT counts by its hash, never in clear. */
    aws_settings_set(&s.container_auth_token_file, NULL);
    aws_settings_set(&s.container_auth_token, "opaque-ecs-token");
    assert_int_equal(identity_of(&s, &i4), CRED_IDENTITY_LOCAL);
    assert_contains(i4, "|token-sha256:");
    assert_not_contains(i4, "opaque");
    free(i1), free(i2), free(i3), free(i4);
    free(t1), free(t2), free(t3);
    free(path);
    aws_settings_free(&s);
}

static void cred_cache_identity__nothing__imds_or_none(void **state)
{
    struct aws_settings s;
    char *text;

    (void)state;
    settings_empty(&s);
    aws_settings_set(&s.imds_endpoint, "http://127.0.0.1:8");
    assert_int_equal(identity_of(&s, &text), CRED_IDENTITY_IMDS);
    assert_string_equal(text, "imds:http://127.0.0.1:8");
    free(text);
    s.imds_disabled = true;
    assert_int_equal(identity_of(&s, &text), CRED_IDENTITY_NONE);
    free(text);
    aws_settings_free(&s);
}

static void cred_cache_identity_hash__two_users__two_keys(void **state)
{
    char a[DIGEST_SHA256_HEX_LEN], b[DIGEST_SHA256_HEX_LEN];

    (void)state;
    cred_cache_identity_hash("key:AKIAUSERONE", a);
    cred_cache_identity_hash("key:AKIAUSERTWO", b);
    assert_string_not_equal(a, b);
    assert_int_equal(strlen(a), 64);
}

/* --- the file ---------------------------------------------------------------
 */

static void cred_cache_dir__env_home_or_none(void **state)
{
    char *d;

    (void)state;
    d = cred_cache_dir("~/cache/ecr", "/home/u");
    assert_string_equal(d, "/home/u/cache/ecr");
    free(d);
    d = cred_cache_dir("/var/cache/x", "/home/u");
    assert_string_equal(d, "/var/cache/x");
    free(d);
    d = cred_cache_dir("", "/home/u");
    assert_string_equal(d, "/home/u/.ecr");
    free(d);
    assert_null(cred_cache_dir(NULL, NULL));
}

static mode_t mode_of(const char *path)
{
    struct stat st;

    assert_int_equal(stat(path, &st), 0);
    return st.st_mode & 07777;
}

static void cred_cache_file_open__new_dir__0700_parents_too(void **state)
{
    char *d = test_temp_path("home/.cache/ecr"),
         *parent = test_temp_path("home/.cache");
    struct cred_cache_file f;
    struct er_error err;

    (void)state;
    umask(022);
    assert_int_equal(cred_cache_file_open(&f, d, &err), ER_OK);
    assert_int_equal(mode_of(d), 0700);
    assert_int_equal(mode_of(parent), 0700);
    assert_contains(f.path, "/ecr-renew-cache.json");
    cred_cache_file_close(&f);
    free(d);
    free(parent);
}

static void cred_cache_file_open__writable_by_others__refused(void **state)
{
    char *d = test_temp_path("shared"), *file = test_temp_path("a-file");
    struct cred_cache_file f;
    struct er_error err;
    FILE *fp;

    (void)state;
    assert_int_equal(mkdir(d, 0700), 0);
    assert_int_equal(chmod(d, 0777), 0);
    assert_int_equal(cred_cache_file_open(&f, d, &err), ER_CONFIG);
    assert_contains(err.msg, "writable by others");
    assert_int_equal(mode_of(d), 0777); /* not ours to change */
    fp = fopen(file, "w");
    fclose(fp);
    assert_int_equal(cred_cache_file_open(&f, file, &err), ER_CONFIG);
    assert_contains(err.msg, "not a directory");
    free(d);
    free(file);
}

static void cred_cache_save__file_0600_replaced_atomically(void **state)
{
    char *d = test_temp_path("atomic");
    struct cred_cache_file f;
    struct cred_cache c = {0}, back = {0};
    struct cred_cache_entry a = entry(HOST, "key:A", "first", T0, 12 * HOUR);
    struct cred_cache_entry b = entry(HOST, "key:A", "second", T0, 12 * HOUR);
    struct er_error err;
    struct stat before, after;
    char old[64] = {0};
    int fd;

    (void)state;
    assert_int_equal(cred_cache_file_open(&f, d, &err), ER_OK);
    cred_cache_put(&c, &a, T0);
    assert_int_equal(cred_cache_save(&f, &c, &err), ER_OK);
    assert_int_equal(mode_of(f.path), 0600);
    assert_int_equal(stat(f.path, &before), 0);
    fd = open(f.path, O_RDONLY); /* a reader in the middle of it */
    assert_true(fd >= 0);
    cred_cache_put(&c, &b, T0);
    assert_int_equal(cred_cache_save(&f, &c, &err), ER_OK);
    assert_int_equal(stat(f.path, &after), 0);
    /* A new file took the name; the reader still has the whole old one. */
    assert_true(before.st_ino != after.st_ino);
    assert_true(read(fd, old, sizeof(old) - 1) > 0);
    assert_contains(old, "{\"format\":\"ecr-renew-cache/1\"");
    close(fd);
    assert_int_equal(mode_of(f.path), 0600);
    assert_true(cred_cache_load(&f, &back, &err));
    assert_string_equal(find_pw(&back, HOST, "key:A"), "second");
    cred_cache_free(&c);
    cred_cache_free(&back);
    cred_cache_file_close(&f);
    free(d);
}

static void put_text(const char *path, const char *text)
{
    FILE *fp = fopen(path, "w");

    assert_non_null(fp);
    fputs(text, fp);
    fclose(fp);
}

static void
cred_cache_load__corrupt_or_oversized__empty_then_replaced(void **state)
{
    char *d = test_temp_path("corrupt");
    struct cred_cache_file f;
    struct cred_cache c = {0};
    struct cred_cache_entry a = entry(HOST, "key:A", "pw", T0, 12 * HOUR);
    struct er_error err;
    char *big;

    (void)state;
    assert_int_equal(cred_cache_file_open(&f, d, &err), ER_OK);
    assert_true(cred_cache_load(&f, &c, &err)); /* absent: empty */
    assert_int_equal(c.n, 0);
    put_text(f.path, "{\"Registries\":{},\"Version\":\"1.0\"}");
    assert_false(cred_cache_load(&f, &c, &err));
    assert_contains(err.msg, "not an ecr-renew cache");
    assert_int_equal(c.n, 0);
    big = xcalloc(1, CRED_CACHE_MAX_BYTES + 2);
    memset(big, ' ', CRED_CACHE_MAX_BYTES + 1);
    put_text(f.path, big);
    assert_false(cred_cache_load(&f, &c, &err));
    assert_int_equal(c.n, 0);
    cred_cache_put(&c, &a, T0);
    assert_int_equal(cred_cache_save(&f, &c, &err), ER_OK);
    cred_cache_free(&c);
    assert_true(cred_cache_load(&f, &c, &err));
    assert_int_equal(c.n, 1);
    cred_cache_free(&c);
    cred_cache_file_close(&f);
    free(big);
    free(d);
}

static void cred_cache_lock__held__waits_then_gives_up(void **state)
{
    char *d = test_temp_path("locked");
    struct cred_cache_file first, second;
    struct test_clock tc;
    struct er_error err;

    (void)state;
    test_clock_init(&tc, T0);
    assert_int_equal(cred_cache_file_open(&first, d, &err), ER_OK);
    assert_int_equal(cred_cache_file_open(&second, d, &err), ER_OK);
    assert_int_equal(cred_cache_lock(&first, &tc.clock, 100, &err), ER_OK);
    assert_int_equal(mode_of(first.lock_path), 0600);
    assert_int_equal(cred_cache_lock(&second, &tc.clock, 100, &err), ER_CONFIG);
    assert_contains(err.msg, "still held by another process");
    assert_true(tc.slept_ms >= 100 && tc.slept_ms < 200);
    cred_cache_unlock(&first);
    assert_int_equal(cred_cache_lock(&second, &tc.clock, 100, &err), ER_OK);
    cred_cache_file_close(&first);
    cred_cache_file_close(&second);
    free(d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(
            cred_cache_judge__twelve_hours__fresh_stale_then_unusable),
        cmocka_unit_test(cred_cache_judge__short_life__never_served_after_half),
        cmocka_unit_test(cred_cache_format__round_trip__same_entries),
        cmocka_unit_test(cred_cache_parse__foreign_or_corrupt__empty),
        cmocka_unit_test(cred_cache_parse__bad_entries__dropped_others_kept),
        cmocka_unit_test(cred_cache_put__same_key_replaced_other_identity_kept),
        cmocka_unit_test(cred_cache_put__expired_dropped_and_count_bounded),
        cmocka_unit_test(cred_cache_format__too_large__oldest_dropped_to_fit),
        cmocka_unit_test(cred_cache_identity__static_keys__access_key_id),
        cmocka_unit_test(cred_cache_identity__web_identity__role_not_session),
        cmocka_unit_test(cred_cache_identity__profile__role_arn_or_keys),
        cmocka_unit_test(
            cred_cache_identity__container__token_holder_not_token),
        cmocka_unit_test(cred_cache_identity__nothing__imds_or_none),
        cmocka_unit_test(cred_cache_identity_hash__two_users__two_keys),
        cmocka_unit_test(cred_cache_dir__env_home_or_none),
        cmocka_unit_test(cred_cache_file_open__new_dir__0700_parents_too),
        cmocka_unit_test(cred_cache_file_open__writable_by_others__refused),
        cmocka_unit_test(cred_cache_save__file_0600_replaced_atomically),
        cmocka_unit_test(
            cred_cache_load__corrupt_or_oversized__empty_then_replaced),
        cmocka_unit_test(cred_cache_lock__held__waits_then_gives_up),
    };
    wipe_install_allocators();
    return cmocka_run_group_tests(tests, NULL, NULL);
}
