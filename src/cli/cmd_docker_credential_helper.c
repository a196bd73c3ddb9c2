/*
 * ecr-renew docker-credential-helper, also run as
 * docker-credential-ecr-login: the docker credential-helper protocol
 * (REFERENCE-2 §6) byte for byte, for docker, podman, buildah and
 * skopeo, with a cache (cred_cache.h) that keys on who is asking and
 * never serves an expired token.
 *
 * Docker's client reads only stdout, and knows one failure by its text:
 * every failure of get prints "credentials not found in native keychain"
 * there, so the client goes on without credentials, and the real reason
 * goes to stderr as one log line (and to ECR_RENEW_HELPER_LOG too, when
 * set). Nothing else is ever written to stdout.
 */
#include "commands.h"
#include "../registry/helper_text.h"
#include "common.h"
#include "../aws/imds.h"
#include "../core/fileio.h"
#include "../core/log.h"
#include "../core/timeutil.h"
#include "../core/wipe.h"
#include "../core/xalloc.h"
#include "../net/http.h"
#include "../registry/cred_cache.h"
#include "../registry/node_creds.h"

#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define COMMAND "docker-credential-helper"
#define PEER_NAME "docker-credential-ecr-login"

/* What the reference helper prints (credentials/error.go, ecr.go), each
 * followed by a newline (fmt.Fprintln). */
#define TEXT_NOT_FOUND "credentials not found in native keychain"
#define TEXT_NO_URL "no credentials server URL"
#define TEXT_NOT_IMPLEMENTED "not implemented"

/* bufio.Scanner's longest line: the reference reads no more. */
#define STDIN_CAP (64u * 1024)
#define HELPER_DEFAULT_TIMEOUT_MS 60000
/* How long a get waits for another one that is fetching the same cache. */
#define LOCK_WAIT_MS 30000
/* With a cached token to fall back on, a pull is not held up longer. */
#define STALE_REFRESH_MS 10000

static const char helper_usage[] =
    "Usage: ecr-renew docker-credential-helper get|store|erase|list|version\n"
    "       docker-credential-ecr-login get|store|erase|list|version\n"
    "\n"
    "A docker credential helper for Amazon ECR, a drop-in for\n"
    "docker-credential-ecr-login: link it under that name on PATH and map\n"
    "registries to it in ~/.docker/config.json or containers-auth.json:\n"
    "  {\"credHelpers\": {\"123456789012.dkr.ecr.eu-west-1.amazonaws.com\":\n"
    "                   \"ecr-login\"}}\n"
    "get reads a server URL on stdin and prints its credentials as JSON.\n"
    "The region and account come from the host; the AWS credentials from\n"
    "the usual chain (environment, web identity, profile, container,\n"
    "instance metadata).\n"
    "\n"
    "Environment:\n"
    "  AWS_ECR_CACHE_DIR       cache directory (default ~/.ecr); the cache "
    "is\n"
    "                          ecr-renew-cache.json, keyed by registry and\n"
    "                          AWS identity\n"
    "  AWS_ECR_DISABLE_CACHE   any non-empty value: no cache\n"
    "  AWS_ECR_IGNORE_CREDS_STORAGE=true  store and erase succeed, doing\n"
    "                          nothing\n"
    "  ECR_RENEW_REGISTRY_HOSTS  NAME=HOST,...: extra names for registries\n"
    "  ECR_RENEW_HELPER_LOG    also append messages to this file (0600)\n"
    "  ECR_RENEW_TIMEOUT       give up after this long (default 1m)\n"
    "  ECR_RENEW_LOG_LEVEL, ECR_RENEW_LOG_FORMAT  messages on stderr\n";

/* A protocol answer on stdout: the text and a newline, as Serve's
 * fmt.Fprintln prints its errors. */
static int answer(const char *text, int status)
{
    struct er_error err = {0};

    if (cli_write_stdout(text, "\n", &err) != ER_OK) {
        (void)cli_fail(COMMAND, &err);
        return 1;
    }
    return status;
}

/* --- messages: stderr, and the log file when asked for ------------------- */

static ssize_t tee_write(void *cookie, const char *data, size_t n)
{
    int fd = *(int *)cookie;

    /* Both, each in one write: the line stays whole in a shared file. */
    if (fd_write_all(STDERR_FILENO, data, n) != 0)
        return -1;
    if (fd >= 0 && fd_write_all(fd, data, n) != 0)
        return -1;
    return (ssize_t)n;
}

static int open_log_file(const char *path)
{
    int fd = open(path,
                  O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW |
                      O_NONBLOCK,
                  0600);
    struct stat st;

    if (fd < 0 || fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) ||
        (st.st_uid == geteuid() && fchmod(fd, 0600) != 0)) {
        log_event(LOG_WARN, "not logging to ECR_RENEW_HELPER_LOG", "path", path,
                  "error",
                  fd < 0 ? strerror(errno) : "not a regular file of ours",
                  LOG_END);
        if (fd >= 0)
            close(fd);
        return -1;
    }
    return fd;
}

/* The AWS side warns of every retry, but a failed get should leave one
 * line on stderr: unless ECR_RENEW_LOG_LEVEL asks for more, only errors
 * and the helper's own warnings (HELPER_WARN) are shown. */
static bool quiet_by_default;

#define HELPER_WARN(...)                                                       \
    do {                                                                       \
        if (quiet_by_default)                                                  \
            log_setup_level(LOG_WARN);                                         \
        log_event(LOG_WARN, __VA_ARGS__);                                      \
        if (quiet_by_default)                                                  \
            log_setup_level(LOG_ERROR);                                        \
    } while (0)

/* Messages go to stderr, and with ECR_RENEW_HELPER_LOG to that file too.
 * The format stays as the environment set it. */
static FILE *setup_log(int *fd)
{
    static const cookie_io_functions_t tee = {.write = tee_write};
    const char *path = getenv("ECR_RENEW_HELPER_LOG");
    const char *level = getenv("ECR_RENEW_LOG_LEVEL");
    struct er_error err;
    FILE *f = NULL;

    *fd = path && *path ? open_log_file(path) : -1;
    if (*fd >= 0 && (f = fopencookie(fd, "w", tee)) != NULL) {
        log_setup(LOG_TEXT, LOG_INFO, f);
        if (cli_log_from_env(&err) != ER_OK)
            log_event(LOG_WARN, err.msg, LOG_END);
    }
    quiet_by_default = !level || !*level;
    if (quiet_by_default)
        log_setup_level(LOG_ERROR);
    return f;
}

static void close_log(FILE *f, int fd)
{
    if (!f)
        return;
    log_setup(LOG_TEXT, LOG_INFO, stderr);
    fclose(f);
    close(fd);
}

/* --- get: the credentials for one server URL ----------------------------- */

struct lookup {
    const char *url; /* as given, trimmed: echoed as ServerURL */
    struct registry_aliases aliases;
    struct ecr_host host;
    char asked[256];
    struct aws_settings settings; /* consumed by the fetch */
    struct cli_common common;     /* the deadline */
    bool cached;                  /* the cache is on and usable */
    struct cred_cache_file file;
    struct cred_cache cache;
    char identity[DIGEST_SHA256_HEX_LEN];
    char *username; /* the answer */
    char *password; /* secret */
};

static const char *process_env(const char *name)
{
    return getenv(name);
}

static enum er_code resolve(struct lookup *l, struct er_error *err)
{
    const char *hosts = getenv("ECR_RENEW_REGISTRY_HOSTS");
    struct node_request req = {.image = l->url, .aliases = &l->aliases};
    enum er_code rc = ER_OK;

    if (hosts && *hosts)
        rc = registry_aliases_add(&l->aliases, "ECR_RENEW_REGISTRY_HOSTS",
                                  hosts, err);
    if (rc == ER_OK)
        rc = node_resolve_host(&req, &l->host, l->asked, err);
    return rc;
}

/* Instance metadata has one identity, the instance's role, which takes
 * one call to learn: the call the SDKs make first too. */
static bool imds_role(const struct aws_settings *s, const struct deadline *d,
                      struct buf *id)
{
    struct http_settings tls = {.ca_file = s->ca_bundle, .ca_dir = s->ca_dir};
    struct http_client *http = http_client_new(&tls);
    struct aws_client c = {.http = http,
                           .clock = clock_system(),
                           .deadline = d,
                           .retry = retry_default_policy};
    struct imds m;
    struct buf body = BUF_INIT;
    struct er_error err;
    const char *role = "";
    long status = 0;
    size_t n = 0;

    imds_init(&m, &c, s);
    if (imds_get(&m, "/latest/meta-data/iam/security-credentials/", &body,
                 &status, &err) == ER_OK &&
        status == 200) {
        role = str_trim(buf_str(&body), &n);
        n = strcspn(role, "\n") < n ? strcspn(role, "\n") : n;
    }
    if (n > 0)
        buf_must_addf(id, "|role:%.*s", (int)n, role);
    imds_free(&m);
    buf_free(&body);
    http_client_free(http);
    return n > 0;
}

static const char *home_dir(char *scratch, size_t cap)
{
    const char *home = getenv("HOME");
    struct passwd pw, *found = NULL;

    if (home && *home)
        return home;
    if (getpwuid_r(geteuid(), &pw, scratch, cap, &found) == 0 && found)
        return found->pw_dir;
    return NULL;
}

static void load(struct lookup *l)
{
    struct er_error err;

    cred_cache_free(&l->cache);
    if (!cred_cache_load(&l->file, &l->cache, &err))
        HELPER_WARN("token cache ignored", "error", err.msg, LOG_END);
}

/* The cache is used when it is on, the caller's identity is known and
 * the directory is fit; otherwise every get asks AWS. */
static void open_cache(struct lookup *l)
{
    const char *off = getenv("AWS_ECR_DISABLE_CACHE");
    struct buf id = BUF_INIT_SECRET;
    struct er_error err;
    enum cred_identity kind;
    char scratch[4096], *dir = NULL;

    if (off && *off)
        return;
    kind = cred_cache_identity(&l->settings, &id);
    if (kind == CRED_IDENTITY_IMDS &&
        !imds_role(&l->settings, &l->common.deadline, &id))
        kind = CRED_IDENTITY_NONE;
    if (kind != CRED_IDENTITY_NONE)
        dir = cred_cache_dir(getenv("AWS_ECR_CACHE_DIR"),
                             home_dir(scratch, sizeof(scratch)));
    if (dir && cred_cache_file_open(&l->file, dir, &err) == ER_OK) {
        l->cached = true;
        cred_cache_identity_hash(buf_str(&id), l->identity);
        load(l);
    } else if (dir) {
        HELPER_WARN("token cache not used", "error", err.msg, LOG_END);
    }
    free(dir);
    buf_free(&id);
}

static void take(struct lookup *l, const char *username, const char *password)
{
    free(l->username);
    wipe_free_str(l->password);
    l->username = xstrdup(username);
    l->password = xstrdup(password);
}

static bool serve_fresh(struct lookup *l)
{
    const struct cred_cache_entry *e;

    if (!l->cached)
        return false;
    e = cred_cache_find(&l->cache, l->host.host, l->identity);
    if (!e ||
        cred_cache_judge(e, clock_now(clock_system())) != CRED_CACHE_FRESH)
        return false;
    take(l, e->username, e->password);
    log_event(LOG_DEBUG, "cached token served", "registry", e->registry,
              LOG_END);
    return true;
}

/* Gets that miss at once wait for the first one's fetch, then find its
 * token, instead of all asking AWS. */
static bool lock(struct lookup *l)
{
    long long wait = deadline_left_ms(&l->common.deadline) / 2;
    struct er_error err;

    if (wait > LOCK_WAIT_MS)
        wait = LOCK_WAIT_MS;
    if (cred_cache_lock(&l->file, clock_system(), wait, &err) == ER_OK)
        return true;
    HELPER_WARN("fetching without the token cache", "error", err.msg, LOG_END);
    return false;
}

static void store(struct lookup *l, const struct node_creds *c, time_t asked_at)
{
    struct cred_cache_entry e;
    struct er_error err;

    memset(&e, 0, sizeof(e));
    snprintf(e.registry, sizeof(e.registry), "%s", l->host.host);
    memcpy(e.identity, l->identity, sizeof(e.identity));
    e.username = c->username; /* copied by cred_cache_put */
    e.password = c->password;
    e.fetched_at = asked_at;
    e.expires_at = (time_t)c->expires_at;
    if (e.expires_at <= e.fetched_at ||
        e.expires_at - e.fetched_at > CRED_CACHE_MAX_LIFETIME)
        return;
    cred_cache_put(&l->cache, &e, asked_at);
    if (cred_cache_save(&l->file, &l->cache, &err) != ER_OK)
        HELPER_WARN("token cache not written", "error", err.msg, LOG_END);
}

static enum er_code fetch(struct lookup *l, bool have_fallback, bool locked,
                          struct er_error *err)
{
    struct node_request req = {.image = l->url, .aliases = &l->aliases};
    const struct deadline *d = &l->common.deadline;
    time_t asked_at = clock_now(clock_system());
    struct deadline quick;
    struct node_creds creds;
    enum er_code rc;

    if (have_fallback && deadline_left_ms(d) > STALE_REFRESH_MS) {
        deadline_start(&quick, clock_system(), STALE_REFRESH_MS,
                       "refresh of a cached token");
        d = &quick;
    }
    rc = node_creds_get(&req, &l->settings, clock_system(), d, &creds, err);
    if (rc != ER_OK)
        return rc;
    take(l, creds.username, creds.password);
    if (locked)
        store(l, &creds, asked_at);
    node_creds_free(&creds);
    return ER_OK;
}

/* A copy of the entry to fall back on if the refresh fails, when there
 * is one worth keeping. */
static bool keep_fallback(const struct lookup *l, struct cred_cache_entry *fb)
{
    const struct cred_cache_entry *e =
        cred_cache_find(&l->cache, l->host.host, l->identity);

    if (!e ||
        cred_cache_judge(e, clock_now(clock_system())) != CRED_CACHE_STALE)
        return false;
    *fb = *e;
    fb->username = xstrdup(e->username);
    fb->password = xstrdup(e->password);
    return true;
}

static enum er_code fall_back(struct lookup *l, struct cred_cache_entry *fb,
                              struct er_error *err)
{
    char until[TIME_RFC3339_LEN];

    /* Time passed during the refresh: the rule is checked again. */
    if (cred_cache_judge(fb, clock_now(clock_system())) != CRED_CACHE_STALE)
        return er_wrap(err,
                       "refreshing the cached token of %s (it has 10 "
                       "minutes or less left)",
                       fb->registry);
    time_format_rfc3339(fb->expires_at, until);
    HELPER_WARN("ECR token refresh failed; serving the cached token",
                "registry", fb->registry, "expires", until, "error", err->msg,
                LOG_END);
    take(l, fb->username, fb->password);
    return ER_OK;
}

static enum er_code refresh(struct lookup *l, struct er_error *err)
{
    struct cred_cache_entry fb;
    bool locked = false, have_fallback = false;
    enum er_code rc;

    memset(&fb, 0, sizeof(fb));
    if (l->cached && (locked = lock(l)))
        load(l); /* another get may have fetched while we waited */
    if (serve_fresh(l)) {
        rc = ER_OK;
        goto out;
    }
    have_fallback = l->cached && keep_fallback(l, &fb);
    rc = fetch(l, have_fallback, locked, err);
    if (rc != ER_OK && have_fallback)
        rc = fall_back(l, &fb, err);
out:
    if (locked)
        cred_cache_unlock(&l->file);
    free(fb.username);
    wipe_free_str(fb.password);
    return rc;
}

static enum er_code lookup_run(struct lookup *l, struct er_error *err)
{
    enum er_code rc;

    if (cli_start_deadline(COMMAND, &l->common, HELPER_DEFAULT_TIMEOUT_MS))
        return er_set(err, ER_USAGE, "ECR_RENEW_TIMEOUT is not a duration");
    if ((rc = resolve(l, err)) != ER_OK)
        return rc;
    aws_settings_from_env(&l->settings, process_env);
    open_cache(l);
    if (serve_fresh(l))
        return ER_OK;
    return refresh(l, err);
}

static void lookup_free(struct lookup *l)
{
    registry_aliases_free(&l->aliases);
    aws_settings_free(&l->settings);
    cred_cache_free(&l->cache);
    if (l->cached)
        cred_cache_file_close(&l->file);
    free(l->username);
    wipe_free_str(l->password);
}

static int print_credentials(const struct lookup *l)
{
    struct buf out = BUF_INIT_SECRET;
    int status;

    buf_must_adds(&out, "{\"ServerURL\":");
    helper_json_quote(&out, l->url, strlen(l->url));
    buf_must_adds(&out, ",\"Username\":");
    helper_json_quote(&out, l->username, strlen(l->username));
    buf_must_adds(&out, ",\"Secret\":");
    helper_json_quote(&out, l->password, strlen(l->password));
    buf_must_adds(&out, "}");
    status = answer(buf_str(&out), EXIT_OK);
    buf_free(&out);
    return status;
}

static enum er_code read_server_url(struct buf *url, struct er_error *err)
{
    struct buf in;
    enum er_code rc;

    buf_init(&in, STDIN_CAP, BUF_PLAIN);
    rc = fd_read_all(STDIN_FILENO, "standard input", &in, err);
    if (rc == ER_OK && !helper_server_url(buf_str(&in), in.len, url))
        rc = er_set(err, ER_USAGE,
                    "the server URL on standard input holds "
                    "a NUL byte");
    buf_free(&in);
    return rc;
}

static int action_get(void)
{
    struct buf url = BUF_INIT;
    struct lookup l;
    struct er_error err = {0};
    int status;

    memset(&l, 0, sizeof(l));
    if (read_server_url(&url, &err) == ER_OK && url.len == 0) {
        status = answer(TEXT_NO_URL, 1);
        goto out;
    }
    l.url = buf_str(&url);
    if (err.code != ER_OK || lookup_run(&l, &err) != ER_OK) {
        (void)cli_fail(COMMAND, &err);
        status = answer(TEXT_NOT_FOUND, 1);
        goto out;
    }
    status = print_credentials(&l);
out:
    lookup_free(&l);
    buf_free(&url);
    return status;
}

/* --- the other actions ------------------------------------------------- */

/* store's input holds a password: read (to spare the writer a broken
 * pipe) and wiped, up to a bound. */
static void discard_stdin(void)
{
    char chunk[4096];
    size_t total = 0;
    ssize_t n;

    while (total < STDIN_CAP * 16 &&
           ((n = read(STDIN_FILENO, chunk, sizeof(chunk))) > 0 ||
            (n < 0 && errno == EINTR)))
        total += n > 0 ? (size_t)n : 0;
    wipe_bytes(chunk, sizeof(chunk));
}

static int action_store_or_erase(void)
{
    const char *ignore = getenv("AWS_ECR_IGNORE_CREDS_STORAGE");

    discard_stdin();
    if (ignore && strcmp(ignore, "true") == 0)
        return EXIT_OK;
    return answer(TEXT_NOT_IMPLEMENTED, 1);
}

static int compare_strings(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Each cached registry that still has an unexpired token, with and
 * without https:// as the reference lists them, keys sorted as Go's
 * encoding/json sorts a map's. */
static void list_keys(const struct cred_cache *c, struct str_list *keys)
{
    time_t now = clock_now(clock_system());

    for (size_t i = 0; i < c->n; i++) {
        char *url;
        if (c->items[i].expires_at <= now)
            continue;
        url = xasprintf("https://%s", c->items[i].registry);
        str_list_push(keys, url);
        str_list_push(keys, c->items[i].registry);
        free(url);
    }
    if (keys->n > 1)
        qsort(keys->items, keys->n, sizeof(keys->items[0]), compare_strings);
}

static void read_cache(struct cred_cache *c)
{
    const char *off = getenv("AWS_ECR_DISABLE_CACHE");
    struct cred_cache_file f;
    struct er_error err;
    char scratch[4096];
    char *dir = NULL;

    if (!off || !*off)
        dir = cred_cache_dir(getenv("AWS_ECR_CACHE_DIR"),
                             home_dir(scratch, sizeof(scratch)));
    if (dir && cred_cache_file_open(&f, dir, &err) == ER_OK) {
        if (!cred_cache_load(&f, c, &err))
            HELPER_WARN("token cache ignored", "error", err.msg, LOG_END);
        cred_cache_file_close(&f);
    }
    free(dir);
}

static int action_list(void)
{
    struct cred_cache c = {0};
    struct str_list keys = {0};
    struct buf out = BUF_INIT;
    int status;

    read_cache(&c);
    list_keys(&c, &keys);
    buf_must_adds(&out, "{");
    for (size_t i = 0; i < keys.n; i++) {
        if (i > 0 && strcmp(keys.items[i], keys.items[i - 1]) == 0)
            continue;
        if (out.len > 1)
            buf_must_adds(&out, ",");
        helper_json_quote(&out, keys.items[i], strlen(keys.items[i]));
        buf_must_adds(&out, ":\"AWS\"");
    }
    buf_must_adds(&out, "}");
    status = answer(buf_str(&out), EXIT_OK);
    buf_free(&out);
    str_list_clear(&keys);
    cred_cache_free(&c);
    return status;
}

/* "<Name> (<Package>) <Version>", the form of credentials.PrintVersion. */
static int action_version(void)
{
    return answer(PEER_NAME " (ecr-renew) " ECR_RENEW_VERSION, EXIT_OK);
}

static int run_action(const char *action)
{
    char *unknown;
    int status;

    if (strcmp(action, "get") == 0)
        return action_get();
    if (strcmp(action, "store") == 0 || strcmp(action, "erase") == 0)
        return action_store_or_erase();
    if (strcmp(action, "list") == 0)
        return action_list();
    if (strcmp(action, "version") == 0)
        return action_version();
    unknown = xasprintf("Unknown credential action `%s`", action);
    status = answer(unknown, 1);
    free(unknown);
    return status;
}

int cmd_docker_credential_helper(int argc, char **argv)
{
    const char *base = argc > 0 ? strrchr(argv[0], '/') : NULL;
    const char *name = "ecr-renew " COMMAND;
    char *usage;
    FILE *log = NULL;
    int log_fd = -1, status;

    if (argc > 0 && strcmp(base ? base + 1 : argv[0], PEER_NAME) == 0)
        name = PEER_NAME;
    if (argc == 2 && (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help"))) {
        fputs(helper_usage, stdout);
        return EXIT_OK;
    }
    if (argc == 2 && (!strcmp(argv[1], "-v") || !strcmp(argv[1], "--version")))
        return action_version();
    if (argc != 2) {
        usage = xasprintf("Usage: %s <store|get|erase|list|version>", name);
        status = answer(usage, 1);
        free(usage);
        return status;
    }
    log = setup_log(&log_fd);
    status = run_action(argv[1]);
    close_log(log, log_fd);
    return status;
}
