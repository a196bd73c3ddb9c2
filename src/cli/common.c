#include "common.h"
#include "../core/fileio.h"
#include "../core/log.h"
#include "../core/timeutil.h"
#include "../core/xalloc.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static enum er_code log_option(int opt, const char *arg, struct er_error *err)
{
    enum log_format fmt;
    enum log_level level;

    if (opt == OPT_LOG_FORMAT) {
        if (log_parse_format(arg, &fmt) != 0)
            return er_set(err, ER_USAGE,
                          "--log-format must be text or json, not \"%s\"", arg);
        log_setup_format(fmt);
        return ER_OK;
    }
    if (log_parse_level(arg, &level) != 0)
        return er_set(err, ER_USAGE,
                      "--log-level must be debug, info, warn or error, not "
                      "\"%s\"",
                      arg);
    log_setup_level(level);
    return ER_OK;
}

enum er_code cli_common_option(int opt, const char *arg,
                               struct cli_common *common, struct er_error *err)
{
    switch (opt) {
    case OPT_LOG_FORMAT:
    case OPT_LOG_LEVEL:
        return log_option(opt, arg, err);
    case OPT_TIMEOUT:
        common->timeout = arg;
        return ER_OK;
    }
    return er_set(err, ER_USAGE, "unknown option");
}

enum er_code cli_log_from_env(struct er_error *err)
{
    const char *fmt = getenv("ECR_RENEW_LOG_FORMAT");
    const char *level = getenv("ECR_RENEW_LOG_LEVEL");

    if (fmt && *fmt && log_option(OPT_LOG_FORMAT, fmt, err) != ER_OK)
        return er_wrap(err, "ECR_RENEW_LOG_FORMAT");
    if (level && *level && log_option(OPT_LOG_LEVEL, level, err) != ER_OK)
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
    struct buf shown = BUF_INIT;
    char *msg;
    va_list ap;

    va_start(ap, fmt);
    msg = xvasprintf(fmt, ap);
    va_end(ap);
    str_append_visible(&shown, msg, strlen(msg));
    if (command && *command)
        fprintf(stderr, "ecr-renew %s: %s\nTry 'ecr-renew %s --help'.\n",
                command, buf_str(&shown), command);
    else
        fprintf(stderr, "ecr-renew: %s\nTry 'ecr-renew --help'.\n",
                buf_str(&shown));
    buf_free(&shown);
    free(msg);
    return EXIT_USAGE;
}

int cli_other_option(const char *command, int opt, const char *arg,
                     struct cli_common *common)
{
    struct er_error err = {0};

    if (opt == 'h') {
        common->help = true;
        return 0;
    }
    if (opt == '?')
        return cli_usage_error(command, "unknown or incomplete option");
    if (cli_common_option(opt, arg, common, &err) != ER_OK)
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

int cli_start_deadline(const char *command, struct cli_common *common,
                       long long default_ms)
{
    const char *env = getenv("ECR_RENEW_TIMEOUT");
    const char *v = common->timeout, *origin = "--timeout";
    long long ms = default_ms;

    if (!v && env && *env) {
        v = env;
        origin = "ECR_RENEW_TIMEOUT";
    }
    if (v && duration_parse(v, CLI_TIMEOUT_MAX_MS, &ms) != 0)
        return cli_usage_error(command,
                               "%s \"%s\" is not a duration from 1ms to 24h "
                               "such as 90s, 5m or 1h30m",
                               origin, v);
    deadline_start(&common->deadline, clock_system(), ms,
                   v ? origin : "the default --timeout");
    return 0;
}

int cli_add_list(const char *command, const char *option, struct str_list *l,
                 const char *value)
{
    if (str_list_add_split(l, value, ',') > 0)
        return cli_usage_error(command,
                               "%s \"%s\" has an empty entry; name every one "
                               "(leave the option out for the default)",
                               option, value);
    return 0;
}

int cli_default_list(const char *command, struct str_list *l,
                     const char *env_name)
{
    const char *v = getenv(env_name);

    if (l->n > 0 || !v || !*v)
        return 0;
    return cli_add_list(command, env_name, l, v);
}

int cli_check_registry_ids(const char *command, const struct str_list *ids)
{
    for (size_t i = 0; i < ids->n; i++) {
        if (!ecr_registry_id_is_valid(ids->items[i]))
            return cli_usage_error(command,
                                   "registry id \"%s\" is not a 12-digit AWS "
                                   "account id",
                                   ids->items[i]);
    }
    return 0;
}

int cli_registry_option(const char *command, struct cli_registry_opts *o,
                        int opt, const char *arg)
{
    struct er_error err = {0};

    if (opt == OPT_PUBLIC) {
        o->public_registry = true;
        return 0;
    }
    if (opt != OPT_REGISTRY_HOST)
        return -1;
    if (registry_aliases_add(&o->aliases, "--registry-host", arg, &err) !=
        ER_OK)
        return cli_usage_error(command, "%s", err.msg);
    return 0;
}

int cli_finish_registry(const char *command, struct cli_registry_opts *o)
{
    const char *v = getenv("ECR_RENEW_REGISTRY_HOSTS");
    struct er_error err = {0};

    if (!o->public_registry)
        o->public_registry = str_is_true(getenv("ECR_RENEW_PUBLIC"));
    if (o->aliases.n == 0 && v && *v &&
        registry_aliases_add(&o->aliases, "ECR_RENEW_REGISTRY_HOSTS", v,
                             &err) != ER_OK)
        return cli_usage_error(command, "%s", err.msg);
    return 0;
}

void cli_registry_clear(struct cli_registry_opts *o)
{
    registry_aliases_free(&o->aliases);
}

static const char *process_env(const char *name)
{
    return getenv(name);
}

enum er_code cli_fetch_tokens(struct aws_session *sess,
                              const struct str_list *regions,
                              const struct str_list *ids, bool with_public,
                              const struct deadline *deadline,
                              struct ecr_tokens *tokens, struct er_error *err)
{
    struct aws_settings settings;
    enum er_code rc;

    aws_settings_from_env(&settings, process_env);
    rc = aws_session_open(sess, &settings, regions->items, regions->n,
                          clock_system(), deadline, err);
    if (rc == ER_OK)
        rc = aws_session_all_tokens(sess, ids->items, ids->n, with_public,
                                    tokens, err);
    return rc;
}

enum er_code cli_write_stdout(const char *text, const char *suffix,
                              struct er_error *err)
{
    fflush(stdout);
    if (fd_write_all(STDOUT_FILENO, text, strlen(text)) != 0 ||
        fd_write_all(STDOUT_FILENO, suffix, strlen(suffix)) != 0)
        return er_set(err, ER_INTERNAL, "writing to stdout: %s",
                      strerror(errno));
    return ER_OK;
}
