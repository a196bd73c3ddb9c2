/*
 * common.h - what the commands share: list options, the options every
 * command takes (help, logging, --timeout), the AWS session, usage
 * errors and output.
 */
#ifndef ECR_RENEW_CLI_COMMON_H
#define ECR_RENEW_CLI_COMMON_H

#include "../aws/ecr.h"
#include "../aws/session.h"
#include "../core/deadline.h"
#include "../core/err.h"
#include "../core/strutil.h"
#include "../registry/aliases.h"

#include <getopt.h>
#include <stdbool.h>
#include <stddef.h>

/* Long options every command takes, and their ids for getopt_long. */
enum {
    OPT_LOG_FORMAT = 1000,
    OPT_LOG_LEVEL,
    OPT_TIMEOUT,
    OPT_HELP,
    OPT_PUBLIC,
    OPT_REGISTRY_HOST,
    OPT_COMMON_END,
};

#define COMMON_LONG_OPTIONS                                                    \
    {"log-format", required_argument, NULL, OPT_LOG_FORMAT},                   \
        {"log-level", required_argument, NULL, OPT_LOG_LEVEL},                 \
        {"timeout", required_argument, NULL, OPT_TIMEOUT},                     \
    {                                                                          \
        "help", no_argument, NULL, 'h'                                         \
    }

/* --public and --registry-host, for the commands that write registry
 * credentials (sync, run, docker-config). */
#define REGISTRY_LONG_OPTIONS                                                  \
    {"public", no_argument, NULL, OPT_PUBLIC},                                 \
    {                                                                          \
        "registry-host", required_argument, NULL, OPT_REGISTRY_HOST            \
    }

#define REGISTRY_OPTIONS_HELP                                                  \
    "  --public               also ECR Public's credentials, for\n"            \
    "                         public.ecr.aws (and ecr-public.aws.com when\n"   \
    "                         dual-stack): no anonymous pull limits; the "     \
    "aws\n"                                                                    \
    "                         partition only [ECR_RENEW_PUBLIC=true]\n"        \
    "  --registry-host NAME=HOST  also NAME (a VPC endpoint or DNS alias)\n"   \
    "                         with the credentials of registry HOST; NAME\n"   \
    "                         alone for the only registry; repeat\n"           \
    "                         [ECR_RENEW_REGISTRY_HOSTS=NAME=HOST,...]\n"

struct cli_registry_opts {
    bool public_registry;
    struct registry_aliases aliases;
};

/* Takes --public or --registry-host: 0, EXIT_USAGE (said), or -1 when
 * opt is neither. */
int cli_registry_option(const char *command, struct cli_registry_opts *o,
                        int opt, const char *arg);

/* ECR_RENEW_PUBLIC and ECR_RENEW_REGISTRY_HOSTS where no option was
 * given. 0 or EXIT_USAGE (said). */
int cli_finish_registry(const char *command, struct cli_registry_opts *o);

void cli_registry_clear(struct cli_registry_opts *o);

/* The longest --timeout taken. */
#define CLI_TIMEOUT_MAX_MS (24LL * 3600 * 1000)

/* What the common options set. Zero-initialise it. */
struct cli_common {
    bool help;
    const char *timeout; /* --timeout as given, or NULL */
    struct deadline deadline;
};

/* Handles a common option; returns ER_OK, or ER_USAGE with a message. */
enum er_code cli_common_option(int opt, const char *arg,
                               struct cli_common *common,
                               struct er_error *err) ER_CHECK;

/* For a getopt_long result a command did not take itself: -h/--help, a
 * common option, or an unknown one. Returns 0, or EXIT_USAGE after
 * printing the usage error. */
int cli_other_option(const char *command, int opt, const char *arg,
                     struct cli_common *common);

/* EXIT_USAGE (after saying so) when arguments remain after the options. */
int cli_no_arguments(const char *command, int argc, char **argv);

/* Starts the command's deadline: --timeout, else ECR_RENEW_TIMEOUT, else
 * default_ms, on the system clock. Returns 0, or EXIT_USAGE for a value
 * that is not a Go duration of 1 ms to 24 h. */
int cli_start_deadline(const char *command, struct cli_common *common,
                       long long default_ms);

/* Appends the comma-separated pieces of value (from option or a
 * variable) to l; EXIT_USAGE, after saying so, when one is blank
 * ("--namespace ''", "a,,b"), since a blank would silently mean the
 * default. */
int cli_add_list(const char *command, const char *option, struct str_list *l,
                 const char *value);

/* When l is still empty, takes env_name's value (comma-separated) into
 * it, with cli_add_list's rule. Returns 0 or EXIT_USAGE. */
int cli_default_list(const char *command, struct str_list *l,
                     const char *env_name);

/* EXIT_USAGE unless every registry id is 12 digits: said before any AWS
 * call is made. */
int cli_check_registry_ids(const char *command, const struct str_list *ids);

/* Applies ECR_RENEW_LOG_FORMAT and ECR_RENEW_LOG_LEVEL. */
enum er_code cli_log_from_env(struct er_error *err) ER_CHECK;

/* Logs the error and returns the exit status for err's code. */
int cli_fail(const char *command, const struct er_error *err);

/* Prints a usage error (control characters made visible) with a pointer
 * to --help; command may be NULL before one is known. Returns
 * EXIT_USAGE. */
int cli_usage_error(const char *command, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Opens an AWS session for the given regions (empty: the default) and
 * gets one token per region for the registry ids (empty: the caller's),
 * and with_public ECR Public's, within deadline. sess must be closed with
 * aws_session_close whatever the result. */
enum er_code cli_fetch_tokens(struct aws_session *sess,
                              const struct str_list *regions,
                              const struct str_list *ids, bool with_public,
                              const struct deadline *deadline,
                              struct ecr_tokens *tokens,
                              struct er_error *err) ER_CHECK;

/* Writes text and then suffix to stdout with write(2), bypassing stdio
 * so no copy of a secret lingers in its buffer. */
enum er_code cli_write_stdout(const char *text, const char *suffix,
                              struct er_error *err) ER_CHECK;

#endif
