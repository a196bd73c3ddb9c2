#include "cred_cache.h"
#include "../aws/container.h"
#include "../aws/ecr_host.h"
#include "../aws/imds.h"
#include "../aws/profile.h"
#include "../core/b64.h"
#include "../core/fileio.h"
#include "../core/json_limit.h"
#include "../core/strutil.h"
#include "../core/timeutil.h"
#include "../core/wipe.h"
#include "../core/xalloc.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

/* Container authorization tokens are JWTs of a KiB or two. */
#define TOKEN_FILE_CAP (16u * 1024)
#define USERNAME_MAX 64
#define LOCK_POLL_MS 5

/* --- entries ---------------------------------------------------------------
 */

enum cred_cache_state cred_cache_judge(const struct cred_cache_entry *e,
                                       time_t now)
{
    time_t half = e->fetched_at + (e->expires_at - e->fetched_at) / 2;

    if (now >= e->expires_at)
        return CRED_CACHE_UNUSABLE;
    if (now < half)
        return CRED_CACHE_FRESH;
    return e->expires_at - now > CRED_CACHE_STALE_MIN_LEFT
               ? CRED_CACHE_STALE
               : CRED_CACHE_UNUSABLE;
}

static void entry_free(struct cred_cache_entry *e)
{
    free(e->username);
    wipe_free_str(e->password);
    e->username = e->password = NULL;
}

void cred_cache_free(struct cred_cache *c)
{
    for (size_t i = 0; i < c->n; i++)
        entry_free(&c->items[i]);
    free(c->items);
    c->items = NULL;
    c->n = 0;
}

static void entry_copy(struct cred_cache_entry *dst,
                       const struct cred_cache_entry *src)
{
    *dst = *src;
    dst->username = xstrdup(src->username);
    dst->password = xstrdup(src->password);
}

const struct cred_cache_entry *cred_cache_find(const struct cred_cache *c,
                                               const char *registry,
                                               const char *identity)
{
    for (size_t i = 0; i < c->n; i++) {
        if (strcmp(c->items[i].registry, registry) == 0 &&
            strcmp(c->items[i].identity, identity) == 0)
            return &c->items[i];
    }
    return NULL;
}

static void drop_at(struct cred_cache *c, size_t i)
{
    entry_free(&c->items[i]);
    memmove(&c->items[i], &c->items[i + 1],
            (c->n - i - 1) * sizeof(c->items[0]));
    c->n--;
}

static void drop_oldest(struct cred_cache *c)
{
    size_t oldest = 0;

    for (size_t i = 1; i < c->n; i++) {
        if (c->items[i].fetched_at < c->items[oldest].fetched_at)
            oldest = i;
    }
    if (c->n > 0)
        drop_at(c, oldest);
}

void cred_cache_put(struct cred_cache *c, const struct cred_cache_entry *e,
                    time_t now)
{
    for (size_t i = c->n; i-- > 0;) {
        const struct cred_cache_entry *x = &c->items[i];
        if (x->expires_at <= now || (strcmp(x->registry, e->registry) == 0 &&
                                     strcmp(x->identity, e->identity) == 0))
            drop_at(c, i);
    }
    while (c->n >= CRED_CACHE_MAX_ENTRIES)
        drop_oldest(c);
    c->items = xrealloc(c->items, (c->n + 1) * sizeof(c->items[0]));
    entry_copy(&c->items[c->n++], e);
}

/* --- the file's text -------------------------------------------------------
 */

static const char *get_string(json_t *o, const char *key, size_t max)
{
    json_t *v = json_object_get(o, key);
    const char *s = json_is_string(v) ? json_string_value(v) : NULL;
    size_t n = s ? json_string_length(v) : 0;

    /* A NUL inside would make the C string say less than the JSON. */
    if (!s || n == 0 || n > max || strlen(s) != n || !str_has_no_controls(s))
        return NULL;
    return s;
}

static bool get_time(json_t *o, const char *key, time_t *out)
{
    json_t *v = json_object_get(o, key);
    json_int_t t;

    if (!json_is_integer(v))
        return false;
    t = json_integer_value(v);
    if (t < TIME_SANE_MIN || t > TIME_SANE_MAX)
        return false;
    *out = (time_t)t;
    return true;
}

static bool is_hex_digest(const char *s)
{
    return s && strlen(s) == DIGEST_SHA256_HEX_LEN - 1 &&
           strspn(s, "0123456789abcdef") == DIGEST_SHA256_HEX_LEN - 1;
}

/* Fills e from one entry of the file; false when any check fails. */
static bool parse_entry(json_t *o, struct cred_cache_entry *e)
{
    const char *registry = get_string(o, "registry", sizeof(e->registry) - 1);
    const char *identity = get_string(o, "identity", DIGEST_SHA256_HEX_LEN);
    const char *user = get_string(o, "username", USERNAME_MAX);
    const char *pw = get_string(o, "password", CRED_CACHE_MAX_PASSWORD);

    memset(e, 0, sizeof(*e));
    if (!json_is_object(o) || !registry || !ecr_host_is_dns_name(registry) ||
        !is_hex_digest(identity) || !user || !pw ||
        !str_is_utf8(pw, strlen(pw)) ||
        !get_time(o, "fetched_at", &e->fetched_at) ||
        !get_time(o, "expires_at", &e->expires_at) ||
        e->expires_at <= e->fetched_at ||
        e->expires_at - e->fetched_at > CRED_CACHE_MAX_LIFETIME)
        return false;
    snprintf(e->registry, sizeof(e->registry), "%s", registry);
    snprintf(e->identity, sizeof(e->identity), "%s", identity);
    e->username = (char *)user; /* borrowed until copied */
    e->password = (char *)pw;
    return true;
}

static void add_entries(json_t *entries, struct cred_cache *out)
{
    struct cred_cache_entry e;
    size_t i;
    json_t *o;

    json_array_foreach(entries, i, o)
    {
        if (out->n == CRED_CACHE_MAX_ENTRIES)
            break;
        if (!parse_entry(o, &e) || cred_cache_find(out, e.registry, e.identity))
            continue;
        out->items = xrealloc(out->items, (out->n + 1) * sizeof(out->items[0]));
        entry_copy(&out->items[out->n++], &e);
    }
}

bool cred_cache_parse(const char *text, size_t len, struct cred_cache *out)
{
    struct er_error err;
    json_t *root = NULL, *format, *entries;
    bool ours;

    memset(out, 0, sizeof(*out));
    if (len > CRED_CACHE_MAX_BYTES ||
        json_limit_parse(text, len, JSON_LIMIT_BUDGET(len), "the cache", &root,
                         &err) != ER_OK)
        return false;
    format = json_object_get(root, "format");
    entries = json_object_get(root, "entries");
    ours = json_is_object(root) && json_is_string(format) &&
           strcmp(json_string_value(format), CRED_CACHE_FORMAT) == 0 &&
           json_is_array(entries);
    if (ours)
        add_entries(entries, out);
    json_decref(root);
    return ours;
}

static void format_once(const struct cred_cache *c, struct buf *out)
{
    json_t *root = json_object(), *entries = json_array();
    char *text;

    json_object_set_new(root, "format", json_string(CRED_CACHE_FORMAT));
    for (size_t i = 0; i < c->n; i++) {
        const struct cred_cache_entry *e = &c->items[i];
        json_array_append_new(
            entries, json_pack("{s:s, s:s, s:s, s:s, s:I, s:I}", "registry",
                               e->registry, "identity", e->identity, "username",
                               e->username, "password", e->password,
                               "fetched_at", (json_int_t)e->fetched_at,
                               "expires_at", (json_int_t)e->expires_at));
    }
    json_object_set_new(root, "entries", entries);
    text = json_dumps(root, JSON_COMPACT | JSON_PRESERVE_ORDER);
    if (!text)
        abort(); /* jansson fails only when out of memory */
    buf_must_adds(out, text);
    buf_must_adds(out, "\n");
    wipe_free_str(text);
    json_decref(root);
}

void cred_cache_format(struct cred_cache *c, struct buf *out)
{
    size_t start = out->len;

    for (;;) {
        format_once(c, out);
        if (out->len - start <= CRED_CACHE_MAX_BYTES || c->n == 0)
            return;
        /* Too large: wipe what was written, drop the oldest, again. */
        wipe_bytes(out->data + start, out->len - start);
        out->len = start;
        out->data[start] = '\0';
        drop_oldest(c);
    }
}

/* --- identity --------------------------------------------------------------
 */

void cred_cache_identity_hash(const char *identity,
                              char out[DIGEST_SHA256_HEX_LEN])
{
    digest_sha256_hex(identity, strlen(identity), out);
}

static enum cred_identity from_env_keys(const struct aws_settings *s,
                                        struct buf *out)
{
    /* The chain fails on one without the other: nothing to key on. */
    if (!s->access_key_id || !s->secret_access_key)
        return CRED_IDENTITY_NONE;
    buf_must_addf(out, "key:%s", s->access_key_id);
    return CRED_IDENTITY_LOCAL;
}

enum profile_outcome { PROFILE_NOT_APPLICABLE, PROFILE_FOUND, PROFILE_BROKEN };

/* The profile's role or static key, as provider.c resolve_profile
 * chooses: a role_arn wins; keys need both halves. */
static enum profile_outcome profile_of(const struct aws_settings *s,
                                       const struct aws_profile_files *f,
                                       struct buf *out)
{
    const char *role, *akid, *secret;

    if (!aws_profile_exists(f, s->profile))
        return s->profile_explicit ? PROFILE_BROKEN : PROFILE_NOT_APPLICABLE;
    role = aws_profile_get(f, s->profile, "role_arn");
    akid = aws_profile_get(f, s->profile, "aws_access_key_id");
    secret = aws_profile_get(f, s->profile, "aws_secret_access_key");
    if (role) {
        buf_must_addf(out, "role:%s", role);
        return PROFILE_FOUND;
    }
    if (!akid && !secret)
        return PROFILE_NOT_APPLICABLE;
    if (!akid || !*akid || !secret || !*secret)
        return PROFILE_BROKEN;
    buf_must_addf(out, "key:%s", akid);
    return PROFILE_FOUND;
}

static enum profile_outcome from_profile(const struct aws_settings *s,
                                         struct buf *out)
{
    struct aws_profile_files f;
    struct er_error err;
    enum profile_outcome o;

    memset(&f, 0, sizeof(f));
    if (aws_profile_load(s, &f, &err) != ER_OK)
        o = PROFILE_BROKEN; /* the chain will say why */
    else
        o = profile_of(s, &f, out);
    aws_profile_free(&f);
    return o;
}

/* The "iss" and "sub" of a JWT's payload, read without checking its
 * signature (the agent checks it): who the token stands for, which
 * stays the same while the token itself is renewed. */
static bool jwt_subject(const char *token, struct buf *out)
{
    const char *dot1 = strchr(token, '.'), *dot2;
    struct buf b64 = BUF_INIT, payload = BUF_INIT_SECRET;
    struct er_error err;
    json_t *claims = NULL;
    const char *iss = NULL, *sub = NULL;

    dot2 = dot1 ? strchr(dot1 + 1, '.') : NULL;
    if (dot2) {
        for (const char *p = dot1 + 1; p < dot2; p++)
            buf_must_add(&b64, *p == '-' ? "+" : *p == '_' ? "/" : p, 1);
        while (b64.len % 4)
            buf_must_adds(&b64, "=");
    }
    if (dot2 && b64_decode(&payload, buf_str(&b64), b64.len) == 0 &&
        json_limit_parse(payload.data, payload.len,
                         JSON_LIMIT_BUDGET(payload.len), "token", &claims,
                         &err) == ER_OK) {
        iss = get_string(claims, "iss", 512);
        sub = get_string(claims, "sub", 512);
    }
    if (iss && sub)
        buf_must_addf(out, "|jwt:%s|%s", iss, sub);
    json_decref(claims);
    buf_free(&b64);
    buf_free(&payload);
    return iss && sub;
}

/* The endpoint is the same for every pod of a node (EKS Pod Identity):
 * the authorization token says whose credentials these are. */
static enum cred_identity from_container(const struct aws_settings *s,
                                         struct buf *out)
{
    char *url = NULL, *token = NULL, hash[DIGEST_SHA256_HEX_LEN];
    struct er_error err;
    enum cred_identity id = CRED_IDENTITY_NONE;

    if (container_endpoint(s, &url, &err) != ER_OK)
        goto out;
    if (s->container_auth_token_file) {
        if (file_read_token(s->container_auth_token_file,
                            "container authorization token file",
                            TOKEN_FILE_CAP, &token, &err) != ER_OK)
            goto out;
    } else if (s->container_auth_token) {
        token = xstrdup(s->container_auth_token);
    }
    buf_must_addf(out, "container:%s", url);
    if (token && !jwt_subject(token, out)) {
        cred_cache_identity_hash(token, hash);
        buf_must_addf(out, "|token-sha256:%s", hash);
    }
    id = CRED_IDENTITY_LOCAL;
out:
    free(url);
    wipe_free_str(token);
    return id;
}

enum cred_identity cred_cache_identity(const struct aws_settings *s,
                                       struct buf *out)
{
    if (s->access_key_id || s->secret_access_key)
        return from_env_keys(s, out);
    if (s->role_arn && (s->web_identity_token || s->web_identity_token_file)) {
        buf_must_addf(out, "role:%s", s->role_arn);
        return CRED_IDENTITY_LOCAL;
    }
    switch (from_profile(s, out)) {
    case PROFILE_FOUND:
        return CRED_IDENTITY_LOCAL;
    case PROFILE_BROKEN:
        return CRED_IDENTITY_NONE;
    case PROFILE_NOT_APPLICABLE:
        break;
    }
    if (container_configured(s))
        return from_container(s, out);
    if (s->imds_disabled)
        return CRED_IDENTITY_NONE;
    buf_must_addf(out, "imds:%s",
                  s->imds_endpoint ? s->imds_endpoint : IMDS_DEFAULT_ENDPOINT);
    return CRED_IDENTITY_IMDS;
}

/* --- the file --------------------------------------------------------------
 */

char *cred_cache_dir(const char *cache_dir_env, const char *home)
{
    bool has_home = home && *home;

    if (cache_dir_env && *cache_dir_env) {
        if (strcmp(cache_dir_env, "~") == 0 && has_home)
            return xstrdup(home);
        if (str_has_prefix(cache_dir_env, "~/") && has_home)
            return xasprintf("%s%s", home, cache_dir_env + 1);
        return xstrdup(cache_dir_env);
    }
    return has_home ? xasprintf("%s/.ecr", home) : NULL;
}

/* mkdir -p with mode 0700 for what it creates. */
static enum er_code make_dirs(const char *dir, struct er_error *err)
{
    char *p = xstrdup(dir);
    enum er_code rc = ER_OK;

    for (char *s = p + 1; rc == ER_OK; s++) {
        bool end = *s == '\0';
        if (*s != '/' && !end)
            continue;
        *s = '\0';
        if (mkdir(p, 0700) != 0 && errno != EEXIST)
            rc = er_set(err, ER_CONFIG, "creating the cache directory %s: %s",
                        p, strerror(errno));
        if (end)
            break;
        *s = '/';
    }
    free(p);
    return rc;
}

static enum er_code check_dir(const char *dir, struct er_error *err)
{
    struct stat st;

    if (stat(dir, &st) != 0)
        return er_set(err, ER_CONFIG, "cache directory %s: %s", dir,
                      strerror(errno));
    if (!S_ISDIR(st.st_mode))
        return er_set(err, ER_CONFIG, "cache directory %s is not a directory",
                      dir);
    if (st.st_uid != geteuid() || (st.st_mode & 022) != 0)
        return er_set(err, ER_CONFIG,
                      "cache directory %s is %s; the cache is not used. Fix: "
                      "chmod 700 it, or set AWS_ECR_CACHE_DIR to a directory "
                      "of your own",
                      dir,
                      st.st_uid != geteuid() ? "not owned by this user"
                                             : "writable by others");
    return ER_OK;
}

enum er_code cred_cache_file_open(struct cred_cache_file *f, const char *dir,
                                  struct er_error *err)
{
    enum er_code rc;

    memset(f, 0, sizeof(*f));
    f->lock_fd = -1;
    if ((rc = make_dirs(dir, err)) != ER_OK ||
        (rc = check_dir(dir, err)) != ER_OK)
        return rc;
    f->dir = xstrdup(dir);
    f->path = xasprintf("%s/%s", dir, CRED_CACHE_FILE_NAME);
    f->lock_path = xasprintf("%s/%s", dir, CRED_CACHE_LOCK_NAME);
    return ER_OK;
}

bool cred_cache_load(const struct cred_cache_file *f, struct cred_cache *out,
                     struct er_error *err)
{
    struct buf text;
    bool missing = false, ok;

    memset(out, 0, sizeof(*out));
    buf_init(&text, CRED_CACHE_MAX_BYTES, BUF_SECRET);
    ok = file_read(f->path, &text, &missing, err) == ER_OK;
    if (ok && !missing && !cred_cache_parse(text.data, text.len, out)) {
        ok = false;
        er_set(err, ER_CONFIG,
               "%s is not an ecr-renew cache (%s); it will "
               "be replaced",
               f->path, CRED_CACHE_FORMAT);
    }
    buf_free(&text);
    return ok;
}

enum er_code cred_cache_lock(struct cred_cache_file *f,
                             const struct clock *clock, long long wait_ms,
                             struct er_error *err)
{
    long long start = clock_mono_ms(clock);
    int fd =
        open(f->lock_path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);

    if (fd < 0)
        return er_set(err, ER_CONFIG, "opening %s: %s", f->lock_path,
                      strerror(errno));
    while (flock(fd, LOCK_EX | LOCK_NB) != 0) {
        int e = errno;
        if ((e != EWOULDBLOCK && e != EINTR) ||
            clock_mono_ms(clock) - start >= wait_ms) {
            enum er_code rc = er_set(
                err, ER_CONFIG, "locking %s: %s", f->lock_path,
                e == EWOULDBLOCK || e == EINTR ? "still held by another process"
                                               : strerror(e));
            close(fd);
            return rc;
        }
        clock->sleep_ms(clock->ctx, LOCK_POLL_MS);
    }
    f->lock_fd = fd;
    return ER_OK;
}

enum er_code cred_cache_save(const struct cred_cache_file *f,
                             struct cred_cache *c, struct er_error *err)
{
    struct buf text;
    enum er_code rc;

    buf_init(&text, (size_t)CRED_CACHE_MAX_BYTES * 4, BUF_SECRET);
    cred_cache_format(c, &text);
    rc = file_write_private(f->path, text.data, text.len, err);
    buf_free(&text);
    return rc;
}

void cred_cache_unlock(struct cred_cache_file *f)
{
    if (f->lock_fd >= 0)
        close(f->lock_fd); /* closing releases the flock */
    f->lock_fd = -1;
}

void cred_cache_file_close(struct cred_cache_file *f)
{
    cred_cache_unlock(f);
    free(f->dir);
    free(f->path);
    free(f->lock_path);
    memset(f, 0, sizeof(*f));
    f->lock_fd = -1;
}
