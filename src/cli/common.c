#include "common.h"
#include "../aws/endpoints.h"
#include "../core/log.h"
#include "../core/strutil.h"
#include "../core/xalloc.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

void str_list_add(struct str_list *l, const char *value)
{
    (void)str_list_add_split(l, value, ',');
}

enum er_code cli_common_option(int opt, const char *arg, struct er_error *err)
{
    enum log_format fmt;
    enum log_level level;

    switch (opt) {
    case OPT_LOG_FORMAT:
        if (log_parse_format(arg, &fmt) != 0)
            return er_set(err, ER_USAGE,
                          "--log-format must be text or json, "
                          "not \"%s\"",
                          arg);
        log_setup_format(fmt);
        return ER_OK;
    case OPT_LOG_LEVEL:
        if (log_parse_level(arg, &level) != 0)
            return er_set(err, ER_USAGE,
                          "--log-level must be debug, info, "
                          "warn or error, not \"%s\"",
                          arg);
        log_setup_level(level);
        return ER_OK;
    }
    return er_set(err, ER_USAGE, "unknown option");
}

enum er_code cli_log_from_env(struct er_error *err)
{
    const char *fmt = getenv("ECR_RENEW_LOG_FORMAT");
    const char *level = getenv("ECR_RENEW_LOG_LEVEL");

    if (fmt && *fmt && cli_common_option(OPT_LOG_FORMAT, fmt, err) != ER_OK)
        return er_wrap(err, "ECR_RENEW_LOG_FORMAT");
    if (level && *level &&
        cli_common_option(OPT_LOG_LEVEL, level, err) != ER_OK)
        return er_wrap(err, "ECR_RENEW_LOG_LEVEL");
    return ER_OK;
}

int cli_fail(const char *command, const struct er_error *err)
{
    log_event(LOG_ERROR, err->msg, "command", command, "kind",
              er_code_name(err->code), LOG_END);
    return er_exit_status(err->code);
}

int cli_usage_error(const char *command, const char *fmt, ...)
{
    va_list ap;

    fprintf(stderr, "ecr-renew %s: ", command);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\nTry 'ecr-renew %s --help'.\n", command);
    return EXIT_USAGE;
}

int cli_other_option(const char *command, int opt, const char *arg, bool *help)
{
    struct er_error err = {0};

    if (opt == 'h') {
        *help = true;
        return 0;
    }
    if (opt == '?')
        return cli_usage_error(command, "unknown or incomplete option");
    if (cli_common_option(opt, arg, &err) != ER_OK)
        return cli_usage_error(command, "%s", err.msg);
    return 0;
}

int cli_no_arguments(const char *command, int argc, char **argv)
{
    if (optind < argc)
        return cli_usage_error(command, "unexpected argument \"%s\"",
                               argv[optind]);
    return 0;
}

void cli_default_list(struct str_list *l, const char *env_name)
{
    const char *v = getenv(env_name);

    if (l->n == 0 && v && *v)
        str_list_add(l, v);
}

static const char *process_env(const char *name)
{
    return getenv(name);
}

enum er_code cli_fetch_tokens(struct aws_session *sess,
                              const struct str_list *regions,
                              const struct str_list *ids,
                              struct ecr_tokens *tokens, struct er_error *err)
{
    struct aws_settings settings;
    enum er_code rc;

    aws_settings_from_env(&settings, process_env);
    rc = aws_session_open(sess, &settings, regions->items, regions->n,
                          clock_system(), err);
    if (rc == ER_OK)
        rc = aws_session_tokens(sess, ids->items, ids->n, tokens, err);
    return rc;
}

size_t cli_dockercfg_entries(const struct aws_settings *s,
                             const struct ecr_tokens *tokens,
                             struct dockercfg_entry **entries,
                             char ***extra_hosts, size_t *n_extra)
{
    size_t n = 0;

    *entries = xcalloc(tokens->n * 2 + 1, sizeof(**entries));
    *extra_hosts = xcalloc(tokens->n + 1, sizeof(**extra_hosts));
    *n_extra = 0;
    for (size_t i = 0; i < tokens->n; i++) {
        const struct ecr_token *t = &tokens->items[i];
        struct dockercfg_entry e = {t->registry_host, t->username, t->password};
        (*entries)[n++] = e;
        /* Image references may name the FIPS or dual-stack registry host;
         * the same password is valid there. */
        if ((s->use_fips || s->use_dualstack) && t->account) {
            char *h = aws_ecr_registry_host(s, t->account, t->region);
            if (strcmp(h, t->registry_host) != 0) {
                (*extra_hosts)[(*n_extra)++] = h;
                e.host = h;
                (*entries)[n++] = e;
            } else {
                free(h);
            }
        }
    }
    return n;
}

static int write_all(int fd, const char *p, size_t n)
{
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return -1;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

enum er_code cli_write_private_file(const char *path, const char *data,
                                    size_t len, struct er_error *err)
{
    char *tmp = xasprintf("%s.tmp.%ld", path, (long)getpid());
    enum er_code rc = ER_OK;
    int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);

    if (fd < 0) {
        rc = er_set(err, ER_CONFIG, "creating %s: %s", tmp, strerror(errno));
        goto out;
    }
    if (write_all(fd, data, len) != 0 || fsync(fd) != 0) {
        rc = er_set(err, ER_CONFIG, "writing %s: %s", tmp, strerror(errno));
        close(fd);
        unlink(tmp);
        goto out;
    }
    close(fd);
    if (rename(tmp, path) != 0) {
        rc = er_set(err, ER_CONFIG, "renaming %s to %s: %s", tmp, path,
                    strerror(errno));
        unlink(tmp);
    }
out:
    free(tmp);
    return rc;
}

enum er_code cli_write_stdout(const char *text, const char *suffix,
                              struct er_error *err)
{
    fflush(stdout);
    if (write_all(STDOUT_FILENO, text, strlen(text)) != 0 ||
        write_all(STDOUT_FILENO, suffix, strlen(suffix)) != 0)
        return er_set(err, ER_INTERNAL, "writing to stdout: %s",
                      strerror(errno));
    return ER_OK;
}
