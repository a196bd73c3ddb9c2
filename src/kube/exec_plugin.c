/*
 * Running a client.authentication.k8s.io credential plugin the way
 * client-go does: our environment plus the kubeconfig's env entries plus
 * KUBERNETES_EXEC_INFO, stdin from /dev/null, stdout captured, stderr
 * passed through.
 *
 * The plugin runs in its own process group so that a timeout kills what
 * it started too ("aws" forks helpers that would keep stdout open).
 *
 * ECR_RENEW_EXEC_TIMEOUT (whole seconds, 1 to KUBE_EXEC_TIMEOUT_SECONDS)
 * shortens the time limit; the tests use it so that a hanging plugin
 * costs them a second, and an operator may use it to fail faster. It
 * can only shorten the limit.
 */
#include "exec_plugin.h"
#include "../core/b64.h"
#include "../core/buf.h"
#include "../core/fileio.h"
#include "../core/json_limit.h"
#include "../core/wipe.h"
#include "../core/strutil.h"
#include "../core/timeutil.h"
#include "../core/xalloc.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define EXEC_INFO_VAR "KUBERNETES_EXEC_INFO"
#define EXEC_TIMEOUT_VAR "ECR_RENEW_EXEC_TIMEOUT"
#define EXEC_CA_CAP (1024u * 1024)
#define EXEC_POLL_MS 10

extern char **environ;

/* --- KUBERNETES_EXEC_INFO ---------------------------------------------- */

static void set_str(json_t *obj, const char *key, const char *value)
{
    if (value && *value)
        json_object_set_new(obj, key, json_string(value));
}

/* The cluster part of the ExecCredential spec; empty fields are left out
 * as client-go leaves them out. */
static json_t *cluster_info(const struct kube_target *t)
{
    json_t *c = json_object();
    struct buf ca = BUF_INIT;

    set_str(c, "server", t->server);
    set_str(c, "tls-server-name", t->tls_server_name);
    if (t->insecure)
        json_object_set_new(c, "insecure-skip-tls-verify", json_true());
    if (t->ca_pem && *t->ca_pem) {
        b64_encode(&ca, t->ca_pem, strlen(t->ca_pem));
        set_str(c, "certificate-authority-data", buf_str(&ca));
    }
    set_str(c, "proxy-url", t->proxy_url);
    buf_free(&ca);
    return c;
}

char *kube_exec_info(const struct kube_exec_config *cfg,
                     const struct kube_target *t)
{
    json_t *root = json_object(), *spec = json_object();
    char *text;

    set_str(root, "apiVersion", cfg->api_version);
    set_str(root, "kind", "ExecCredential");
    /* stdin is /dev/null: ecr-renew never runs with a person at hand. */
    json_object_set_new(spec, "interactive", json_false());
    if (cfg->provide_cluster_info && t)
        json_object_set_new(spec, "cluster", cluster_info(t));
    json_object_set_new(root, "spec", spec);
    text = json_dumps(root, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(root);
    if (!text)
        abort(); /* only an allocation can fail here */
    return text;
}

/* client-go passes the CA's contents, so a CA given as a file is read. */
static enum er_code make_info(const struct kube_exec_config *cfg,
                              const struct kube_target *t, char **out,
                              struct er_error *err)
{
    struct kube_target with_ca;
    struct buf pem;
    enum er_code rc = ER_OK;

    if (!cfg->provide_cluster_info || !t->ca_file || t->ca_pem) {
        *out = kube_exec_info(cfg, t);
        return ER_OK;
    }
    buf_init(&pem, EXEC_CA_CAP, BUF_PLAIN);
    if ((rc = file_read(t->ca_file, &pem, NULL, err)) == ER_OK) {
        with_ca = *t;
        with_ca.ca_pem = pem.data;
        *out = kube_exec_info(cfg, &with_ca);
    }
    buf_free(&pem);
    return rc;
}

/* --- environment ------------------------------------------------------- */

struct env_list {
    char **v;
    size_t n;
    size_t owned_from; /* entries from here on are ours to free */
};

static bool names_var(const char *entry, const char *name)
{
    size_t n = strlen(name);

    return strncmp(entry, name, n) == 0 && entry[n] == '=';
}

/* Variables the plugin gets from the kubeconfig or from us replace ours. */
static bool overridden(const struct kube_exec_config *cfg, const char *entry)
{
    if (names_var(entry, EXEC_INFO_VAR))
        return true;
    for (size_t i = 0; i < cfg->n_env; i++) {
        if (names_var(entry, cfg->env[i].name))
            return true;
    }
    return false;
}

static void make_env(const struct kube_exec_config *cfg, const char *info,
                     struct env_list *e)
{
    size_t ours = 0;

    while (environ && environ[ours])
        ours++;
    e->v = xcalloc(ours + cfg->n_env + 2, sizeof(*e->v));
    e->n = 0;
    for (size_t i = 0; i < ours; i++) {
        if (!overridden(cfg, environ[i]))
            e->v[e->n++] = environ[i];
    }
    e->owned_from = e->n;
    for (size_t i = 0; i < cfg->n_env; i++)
        e->v[e->n++] = xasprintf("%s=%s", cfg->env[i].name, cfg->env[i].value);
    e->v[e->n++] = xasprintf("%s=%s", EXEC_INFO_VAR, info);
}

static void env_free(struct env_list *e)
{
    for (size_t i = e->owned_from; e->v && i < e->n; i++)
        wipe_free_str(e->v[i]);
    free(e->v);
}

/* --- spawning ---------------------------------------------------------- */

static enum er_code not_runnable(const struct kube_exec_config *cfg,
                                 const char *why, struct er_error *err)
{
    return er_set(err, ER_CONFIG, "exec plugin %s cannot be run: %s%s%s",
                  cfg->command, why, cfg->install_hint ? ": " : "",
                  cfg->install_hint ? cfg->install_hint : "");
}

static bool is_executable(const char *path)
{
    struct stat st;

    return stat(path, &st) == 0 && S_ISREG(st.st_mode) &&
           access(path, X_OK) == 0;
}

/* The command is looked up here, as execvp would, rather than left to
 * posix_spawnp: where a failed exec shows only as exit status 127
 * (valgrind, some libcs), the operator would not learn what is wrong. */
static enum er_code find_command(const struct kube_exec_config *cfg, char **out,
                                 struct er_error *err)
{
    const char *path = getenv("PATH");
    struct str_list dirs = {NULL, 0};
    char *candidate;

    *out = NULL;
    if (strchr(cfg->command, '/')) {
        if (!is_executable(cfg->command))
            return not_runnable(cfg, "no such executable file", err);
        *out = xstrdup(cfg->command);
        return ER_OK;
    }
    (void)str_list_add_split(&dirs, path && *path ? path : "/usr/bin:/bin",
                             ':');
    for (size_t i = 0; i < dirs.n && !*out; i++) {
        candidate = xasprintf("%s/%s", dirs.items[i], cfg->command);
        if (is_executable(candidate))
            *out = candidate;
        else
            free(candidate);
    }
    str_list_clear(&dirs);
    if (!*out)
        return not_runnable(cfg, "not found in PATH", err);
    return ER_OK;
}

static void spawn_setup(posix_spawn_file_actions_t *fa, posix_spawnattr_t *attr,
                        int out_fd)
{
    sigset_t none, dflt;

    posix_spawn_file_actions_init(fa);
    /* dup2 first: if our stdin was closed, out_fd may be 0. */
    posix_spawn_file_actions_adddup2(fa, out_fd, STDOUT_FILENO);
    posix_spawn_file_actions_addopen(fa, STDIN_FILENO, "/dev/null", O_RDONLY,
                                     0);
    posix_spawnattr_init(attr);
    sigemptyset(&none);
    sigemptyset(&dflt);
    /* An ignored SIGPIPE would be inherited across exec. */
    sigaddset(&dflt, SIGPIPE);
    posix_spawnattr_setsigmask(attr, &none);
    posix_spawnattr_setsigdefault(attr, &dflt);
    posix_spawnattr_setpgroup(attr, 0);
    posix_spawnattr_setflags(attr, POSIX_SPAWN_SETPGROUP |
                                       POSIX_SPAWN_SETSIGMASK |
                                       POSIX_SPAWN_SETSIGDEF);
}

static char **make_argv(const struct kube_exec_config *cfg)
{
    char **argv = xcalloc(cfg->args.n + 2, sizeof(*argv));

    argv[0] = cfg->command;
    for (size_t i = 0; i < cfg->args.n; i++)
        argv[i + 1] = cfg->args.items[i];
    return argv;
}

static enum er_code spawn(const struct kube_exec_config *cfg, const char *file,
                          char **envp, pid_t *pid, int *out_fd,
                          struct er_error *err)
{
    posix_spawn_file_actions_t fa;
    posix_spawnattr_t attr;
    char **argv;
    int p[2], e;

    if (pipe2(p, O_CLOEXEC) != 0)
        return er_set(err, ER_INTERNAL, "exec plugin %s: pipe: %s",
                      cfg->command, strerror(errno));
    spawn_setup(&fa, &attr, p[1]);
    argv = make_argv(cfg);
    e = posix_spawn(pid, file, &fa, &attr, argv, envp);
    free(argv);
    posix_spawn_file_actions_destroy(&fa);
    posix_spawnattr_destroy(&attr);
    close(p[1]);
    if (e != 0) {
        close(p[0]);
        return not_runnable(cfg, strerror(e), err);
    }
    *out_fd = p[0];
    return ER_OK;
}

/* --- waiting ----------------------------------------------------------- */

static long timeout_seconds(void)
{
    long s;

    if (str_to_long(getenv(EXEC_TIMEOUT_VAR), 1, KUBE_EXEC_TIMEOUT_SECONDS,
                    &s) == 0)
        return s;
    return KUBE_EXEC_TIMEOUT_SECONDS;
}

static long long now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* When the plugin must have finished: its own limit, or sooner when the
 * run's deadline comes first. */
struct exec_limit {
    long long at_ms; /* on now_ms() */
    long long allowed_ms;
    bool by_deadline;
};

static struct exec_limit exec_limit(const struct deadline *d)
{
    long long own = timeout_seconds() * 1000LL, left = deadline_left_ms(d);
    struct exec_limit l = {.allowed_ms = own};

    if (left < own) {
        l.allowed_ms = left > 0 ? left : 0;
        l.by_deadline = true;
    }
    l.at_ms = now_ms() + l.allowed_ms;
    return l;
}

static enum er_code timed_out(const struct kube_exec_config *cfg,
                              const struct exec_limit *l, struct er_error *err)
{
    char took[DURATION_LEN];

    duration_format(l->allowed_ms, took);
    return er_set(err, l->by_deadline ? ER_NETWORK : ER_KUBE,
                  "exec plugin %s did not finish within %s%s; killed it",
                  cfg->command, took,
                  l->by_deadline ? " (what the --timeout deadline left)" : "");
}

/* Reads what is there; *eof is set when the plugin closed stdout. */
static enum er_code read_some(const struct kube_exec_config *cfg, int fd,
                              struct buf *out, bool *eof, struct er_error *err)
{
    char chunk[4096];
    ssize_t got = read(fd, chunk, sizeof(chunk));
    enum er_code rc = ER_OK;

    if (got < 0 && errno != EINTR && errno != EAGAIN)
        rc = er_set(err, ER_INTERNAL, "exec plugin %s: reading stdout: %s",
                    cfg->command, strerror(errno));
    else if (got == 0)
        *eof = true;
    else if (got > 0 && buf_add(out, chunk, (size_t)got) != BUF_OK)
        rc = er_set(err, ER_PARSE, "exec plugin %s printed more than %u bytes",
                    cfg->command, KUBE_EXEC_OUTPUT_CAP);
    /* The chunk held part of a token or key. */
    wipe_bytes(chunk, sizeof(chunk));
    return rc;
}

static enum er_code read_output(const struct kube_exec_config *cfg, int fd,
                                const struct exec_limit *l, struct buf *out,
                                struct er_error *err)
{
    struct pollfd pfd = {fd, POLLIN, 0};
    bool eof = false;
    enum er_code rc = ER_OK;
    long long left;
    int ready;

    while (rc == ER_OK && !eof) {
        if ((left = l->at_ms - now_ms()) <= 0)
            return timed_out(cfg, l, err);
        ready = poll(&pfd, 1, left > 1000 ? 1000 : (int)left);
        if (ready < 0 && errno != EINTR)
            rc = er_set(err, ER_INTERNAL, "exec plugin %s: poll: %s",
                        cfg->command, strerror(errno));
        else if (ready > 0)
            rc = read_some(cfg, fd, out, &eof, err);
    }
    return rc;
}

/* Waits for the plugin to exit; *reaped tells whether it was. */
static enum er_code wait_exit(const struct kube_exec_config *cfg, pid_t pid,
                              const struct exec_limit *l, int *status,
                              bool *reaped, struct er_error *err)
{
    struct timespec pause = {0, EXEC_POLL_MS * 1000000L};
    pid_t got;

    for (;;) {
        got = waitpid(pid, status, WNOHANG);
        if (got == pid) {
            *reaped = true;
            return ER_OK;
        }
        if (got < 0 && errno != EINTR)
            return er_set(err, ER_INTERNAL, "exec plugin %s: waitpid: %s",
                          cfg->command, strerror(errno));
        if (l->at_ms - now_ms() <= 0)
            return timed_out(cfg, l, err);
        nanosleep(&pause, NULL);
    }
}

static enum er_code check_status(const struct kube_exec_config *cfg, int status,
                                 struct er_error *err)
{
    const char *hint = cfg->install_hint;

    if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
        return ER_OK;
    if (WIFEXITED(status))
        return er_set(err, ER_KUBE, "exec plugin %s exited with status %d%s%s",
                      cfg->command, WEXITSTATUS(status), hint ? ": " : "",
                      hint ? hint : "");
    return er_set(err, ER_KUBE, "exec plugin %s was killed by signal %d%s%s",
                  cfg->command, WTERMSIG(status), hint ? ": " : "",
                  hint ? hint : "");
}

/* Collects stdout and the exit status; on any failure the plugin's whole
 * process group is killed so nothing is left running. */
static enum er_code collect(const struct kube_exec_config *cfg, pid_t pid,
                            int fd, const struct deadline *d, struct buf *out,
                            struct er_error *err)
{
    struct exec_limit l = exec_limit(d);
    bool reaped = false;
    int status = 0;
    enum er_code rc;

    rc = read_output(cfg, fd, &l, out, err);
    if (rc == ER_OK)
        rc = wait_exit(cfg, pid, &l, &status, &reaped, err);
    if (!reaped) {
        kill(-pid, SIGKILL);
        while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
            ;
    }
    if (rc == ER_OK)
        rc = check_status(cfg, status, err);
    return rc;
}

static enum er_code refuse_interactive(const struct kube_exec_config *cfg,
                                       struct er_error *err)
{
    if (cfg->interactive_mode && strcmp(cfg->interactive_mode, "Always") == 0)
        return er_set(err, ER_CONFIG,
                      "exec plugin %s wants a terminal (interactiveMode "
                      "Always), but ecr-renew runs unattended",
                      cfg->command);
    return ER_OK;
}

enum er_code kube_exec_run(const struct kube_exec_config *cfg,
                           const struct kube_target *t,
                           const struct deadline *deadline,
                           struct kube_exec_credential *out,
                           struct er_error *err)
{
    struct env_list env = {NULL, 0, 0};
    struct buf output;
    char *info = NULL, *file = NULL;
    pid_t pid;
    int fd = -1;
    enum er_code rc;

    buf_init(&output, KUBE_EXEC_OUTPUT_CAP, BUF_SECRET);
    if ((rc = refuse_interactive(cfg, err)) != ER_OK ||
        (rc = find_command(cfg, &file, err)) != ER_OK ||
        (rc = make_info(cfg, t, &info, err)) != ER_OK)
        goto out;
    make_env(cfg, info, &env);
    if ((rc = spawn(cfg, file, env.v, &pid, &fd, err)) != ER_OK ||
        (rc = collect(cfg, pid, fd, deadline, &output, err)) != ER_OK)
        goto out;
    rc = kube_exec_parse(buf_str(&output), output.len, cfg->api_version, out,
                         err);
    if (rc != ER_OK)
        er_wrap(err, "exec plugin %s", cfg->command);
out:
    if (fd >= 0)
        close(fd);
    env_free(&env);
    free(info);
    free(file);
    buf_free(&output);
    return rc;
}

/* --- parsing ----------------------------------------------------------- */

/* The plugin's words are quoted in messages, but cut short: they are
 * expected to be short names, never credentials. */
static enum er_code check_header(json_t *root, const char *api_version,
                                 struct er_error *err)
{
    const char *kind = json_string_value(json_object_get(root, "kind"));
    const char *api = json_string_value(json_object_get(root, "apiVersion"));

    if (!kind || strcmp(kind, "ExecCredential") != 0)
        return er_set(err, ER_PARSE, "kind is \"%.64s\", not ExecCredential",
                      kind ? kind : "");
    if (!api || strcmp(api, api_version) != 0)
        return er_set(err, ER_PARSE, "apiVersion is \"%.64s\", not %s",
                      api ? api : "", api_version);
    return ER_OK;
}

/* A string field of status; absent, null and "" leave *out NULL. */
static enum er_code status_str(json_t *status, const char *key, char **out,
                               struct er_error *err)
{
    json_t *v = json_object_get(status, key);

    if (!v || json_is_null(v))
        return ER_OK;
    if (!json_is_string(v))
        return er_set(err, ER_PARSE, "status.%s is not a string", key);
    if (json_string_length(v) > 0)
        *out = xstrndup(json_string_value(v), json_string_length(v));
    return ER_OK;
}

static enum er_code status_expiry(json_t *status, time_t *out,
                                  struct er_error *err)
{
    char *s = NULL;
    enum er_code rc = status_str(status, "expirationTimestamp", &s, err);

    if (rc == ER_OK && s && time_parse_iso8601(s, out) != 0)
        rc = er_set(err, ER_PARSE,
                    "status.expirationTimestamp \"%.64s\" is not an RFC 3339 "
                    "time",
                    s);
    free(s);
    return rc;
}

static enum er_code read_status(json_t *status, struct kube_exec_credential *c,
                                struct er_error *err)
{
    enum er_code rc;

    if (!json_is_object(status))
        return er_set(err, ER_PARSE, "ExecCredential has no status");
    if ((rc = status_str(status, "token", &c->token, err)) != ER_OK ||
        (rc = status_str(status, "clientCertificateData", &c->client_cert_pem,
                         err)) != ER_OK ||
        (rc = status_str(status, "clientKeyData", &c->client_key_pem, err)) !=
            ER_OK ||
        (rc = status_expiry(status, &c->expiration, err)) != ER_OK)
        return rc;
    if (!c->client_cert_pem != !c->client_key_pem)
        return er_set(err, ER_PARSE,
                      "status has clientCertificateData or clientKeyData "
                      "without the other");
    if (!c->token && !c->client_cert_pem)
        return er_set(err, ER_PARSE,
                      "status holds neither a token nor a client certificate "
                      "and key");
    if (c->token && !str_has_no_controls(c->token))
        return er_set(err, ER_PARSE,
                      "status.token holds a control character (a line "
                      "break?); refusing to send it");
    return ER_OK;
}

enum er_code kube_exec_parse(const char *json, size_t len,
                             const char *api_version,
                             struct kube_exec_credential *out,
                             struct er_error *err)
{
    struct kube_exec_credential c = {NULL, NULL, NULL, 0};
    json_t *root = NULL;
    enum er_code rc;

    rc = json_limit_parse(json, len, JSON_LIMIT_BUDGET(KUBE_EXEC_OUTPUT_CAP),
                          "its output", &root, err);
    if (rc != ER_OK)
        goto out;
    if (!json_is_object(root)) {
        rc = er_set(err, ER_PARSE,
                    "its output is not an ExecCredential JSON "
                    "object");
        goto out;
    }
    if ((rc = check_header(root, api_version, err)) == ER_OK)
        rc = read_status(json_object_get(root, "status"), &c, err);
out:
    json_decref(root);
    if (rc != ER_OK) {
        kube_exec_credential_free(&c);
        return rc;
    }
    *out = c;
    return ER_OK;
}

void kube_exec_credential_free(struct kube_exec_credential *c)
{
    if (!c)
        return;
    wipe_free_str(c->token);
    free(c->client_cert_pem);
    wipe_free_str(c->client_key_pem);
    memset(c, 0, sizeof(*c));
}
