/*
 * cred_cache.h - the docker credential helper's token cache.
 *
 * A helper runs once per pull, so without a cache every pull would cost
 * an AWS call. The cache is one file, ecr-renew-cache.json, in
 * AWS_ECR_CACHE_DIR or ~/.ecr: never the reference helper's cache.json,
 * whose format it does not share. The directory is made 0700 and must
 * not be writable by anyone else; the file is 0600 and always replaced
 * whole (file_write_private: a temporary file, then rename), so a reader
 * never sees half of it and needs no lock. Writers take an exclusive
 * flock on ecr-renew-cache.json.lock beside it, re-read, and write: two
 * pulls at once never lose each other's entries, and the second one
 * finds the token the first one fetched.
 *
 * An entry is keyed by the registry host and by the caller's identity,
 * so one identity never gets another's token: the access key id for
 * static keys, the role ARN for web identity and assumed roles (whose
 * temporary key ids change every session, which is why keying on them
 * never hits), the endpoint and the holder of the authorization token
 * for container credentials, and the instance's role for instance
 * metadata. Only a SHA-256 of the identity is stored.
 *
 * The password is stored as ECR gave it, as the reference helper does:
 * the file is the user's own, 0600 in a 0700 directory, and anything that
 * could read it could as well run the helper. It is wiped from memory
 * before being freed.
 *
 * A token is fresh until half its life has passed, then refreshed; if
 * the refresh fails it is still served while more than
 * CRED_CACHE_STALE_MIN_LEFT seconds remain, and never once it has
 * expired. A file that is not ours (another shape, another format, too
 * large, not JSON) reads as empty and is replaced at the next write; an
 * entry that fails a check is dropped.
 *
 * The entry functions are pure and take the time; the file functions do
 * the I/O. Ownership: struct cred_cache owns its entries and their
 * strings; cred_cache_free wipes the passwords. struct cred_cache_file
 * owns its paths and the lock's descriptor.
 */
#ifndef ECR_RENEW_REGISTRY_CRED_CACHE_H
#define ECR_RENEW_REGISTRY_CRED_CACHE_H

#include "../aws/settings.h"
#include "../core/buf.h"
#include "../core/clock.h"
#include "../core/digest.h"
#include "../core/err.h"

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#define CRED_CACHE_FILE_NAME "ecr-renew-cache.json"
#define CRED_CACHE_LOCK_NAME "ecr-renew-cache.json.lock"
#define CRED_CACHE_FORMAT "ecr-renew-cache/1"
/* A real entry is about 2.6 KiB: 64 of them fit well within the file's
 * bound, which keeps reading it (on every pull) cheap. */
#define CRED_CACHE_MAX_BYTES (512u * 1024)
#define CRED_CACHE_MAX_ENTRIES 64
#define CRED_CACHE_MAX_PASSWORD (16u * 1024)
/* A token lives 12 hours: an entry claiming more is not a real one. */
#define CRED_CACHE_MAX_LIFETIME (24 * 3600)
/* After a failed refresh, a token is served only while this much of it
 * is left: enough for the pull that asked to finish with it. */
#define CRED_CACHE_STALE_MIN_LEFT (10 * 60)

struct cred_cache_entry {
    char registry[256];                   /* a host, lower case */
    char identity[DIGEST_SHA256_HEX_LEN]; /* cred_cache_identity_hash */
    char *username;                       /* "AWS" */
    char *password;                       /* secret */
    time_t fetched_at;                    /* when it was asked for */
    time_t expires_at;
};

struct cred_cache {
    struct cred_cache_entry *items;
    size_t n;
};

/* --- entries (pure) ------------------------------------------------------ */

enum cred_cache_state {
    CRED_CACHE_FRESH,    /* less than half its life gone: serve it */
    CRED_CACHE_STALE,    /* refresh; serve it if that fails */
    CRED_CACHE_UNUSABLE, /* refresh; fail if that fails */
};

enum cred_cache_state cred_cache_judge(const struct cred_cache_entry *e,
                                       time_t now);

/* Reads a cache file's text into *out (zero-initialised or freed).
 * Returns false, leaving *out empty, when the text is not a cache of
 * this format; entries failing a check (host, identity, password, times,
 * lifetime) are dropped, as are those past CRED_CACHE_MAX_ENTRIES. */
bool cred_cache_parse(const char *text, size_t len, struct cred_cache *out);

/* Appends the file's text (use a BUF_SECRET buffer). The oldest entries
 * are dropped from c first until the text fits CRED_CACHE_MAX_BYTES. */
void cred_cache_format(struct cred_cache *c, struct buf *out);

/* The entry for registry and identity, or NULL. */
const struct cred_cache_entry *cred_cache_find(const struct cred_cache *c,
                                               const char *registry,
                                               const char *identity);

/* Adds a copy of e, replacing the entry with the same key, after
 * dropping the entries expired at now; beyond CRED_CACHE_MAX_ENTRIES the
 * ones fetched longest ago go. */
void cred_cache_put(struct cred_cache *c, const struct cred_cache_entry *e,
                    time_t now);

void cred_cache_free(struct cred_cache *c);

/* --- the caller's identity ----------------------------------------------- */

enum cred_identity {
    CRED_IDENTITY_LOCAL, /* *out says it all */
    CRED_IDENTITY_IMDS,  /* *out is the endpoint: append the role name */
    CRED_IDENTITY_NONE,  /* no source applies, or one is broken: no cache */
};

/* Which identity the provider chain (provider.h) will use, found without
 * calling anyone: the sources are tried in the chain's order and by its
 * rules, reading the shared files and a container token file as needed.
 * Appends a text such as "key:AKID..." or "role:arn:..." to out. */
enum cred_identity cred_cache_identity(const struct aws_settings *s,
                                       struct buf *out);

/* The hash stored in entries. */
void cred_cache_identity_hash(const char *identity,
                              char out[DIGEST_SHA256_HEX_LEN]);

/* --- the file ------------------------------------------------------------ */

struct cred_cache_file {
    char *dir;
    char *path;
    char *lock_path;
    int lock_fd; /* -1 unless locked */
};

/* AWS_ECR_CACHE_DIR (a leading "~/" is the home directory), else
 * <home>/.ecr; NULL when neither is known. Newly allocated. */
char *cred_cache_dir(const char *cache_dir_env, const char *home);

/* Creates dir (0700, parents too) when absent. ER_CONFIG, naming it,
 * when it is not a directory, not ours, or writable by group or others:
 * then the cache is not used. */
enum er_code cred_cache_file_open(struct cred_cache_file *f, const char *dir,
                                  struct er_error *err) ER_CHECK;

/* Reads the file into *out. An absent file is an empty cache (true); an
 * unreadable or foreign one is too, but returns false with the reason in
 * err, for a message. */
bool cred_cache_load(const struct cred_cache_file *f, struct cred_cache *out,
                     struct er_error *err);

/* Takes the writers' lock, waiting up to wait_ms on clock. ER_CONFIG when
 * the lock file cannot be opened or the wait runs out. */
enum er_code cred_cache_lock(struct cred_cache_file *f,
                             const struct clock *clock, long long wait_ms,
                             struct er_error *err) ER_CHECK;

/* Writes c (held lock expected), dropping the oldest entries if needed. */
enum er_code cred_cache_save(const struct cred_cache_file *f,
                             struct cred_cache *c,
                             struct er_error *err) ER_CHECK;

void cred_cache_unlock(struct cred_cache_file *f);

void cred_cache_file_close(struct cred_cache_file *f);

#endif
