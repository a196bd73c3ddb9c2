/*
 * common.h - what the commands share: option lists, the AWS session,
 * turning tokens into dockerconfig entries, and usage errors.
 */
#ifndef ECR_RENEW_CLI_COMMON_H
#define ECR_RENEW_CLI_COMMON_H

#include "../aws/ecr.h"
#include "../aws/session.h"
#include "../core/err.h"
#include "../core/strutil.h"
#include "../registry/dockercfg.h"

#include <getopt.h>
#include <stdbool.h>
#include <stddef.h>

/* A repeatable option that also takes comma-separated values. */
void str_list_add(struct str_list *l, const char *value);

/* Long options every command takes, and their ids for getopt_long. */
enum {
    OPT_LOG_FORMAT = 1000,
    OPT_LOG_LEVEL,
    OPT_HELP,
    OPT_COMMON_END,
};

#define COMMON_LONG_OPTIONS                                                    \
    {"log-format", required_argument, NULL, OPT_LOG_FORMAT},                   \
        {"log-level", required_argument, NULL, OPT_LOG_LEVEL},                 \
    {                                                                          \
        "help", no_argument, NULL, 'h'                                         \
    }

/* Handles a common option; returns ER_OK, or ER_USAGE with a message. */
enum er_code cli_common_option(int opt, const char *arg,
                               struct er_error *err) ER_CHECK;

/* For a getopt_long result a command did not take itself: -h/--help, a
 * common option, or an unknown one. Returns 0, or EXIT_USAGE after
 * printing the usage error. */
int cli_other_option(const char *command, int opt, const char *arg, bool *help);

/* EXIT_USAGE (after saying so) when arguments remain after the options. */
int cli_no_arguments(const char *command, int argc, char **argv);

/* Applies ECR_RENEW_LOG_FORMAT and ECR_RENEW_LOG_LEVEL. */
enum er_code cli_log_from_env(struct er_error *err) ER_CHECK;

/* Prints "ecr-renew: <msg>" (through the log) and returns the exit
 * status for err's code. */
int cli_fail(const char *command, const struct er_error *err);

/* Prints a usage error with a pointer to --help; returns EXIT_USAGE. */
int cli_usage_error(const char *command, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Regions and registry ids from options, else ECR_RENEW_REGIONS and
 * ECR_RENEW_REGISTRY_IDS (comma-separated). */
void cli_default_list(struct str_list *l, const char *env_name);

/* Opens an AWS session for the given regions (empty: the default) and
 * gets one token per region for the registry ids (empty: the caller's).
 * sess must be closed with aws_session_close whatever the result. */
enum er_code cli_fetch_tokens(struct aws_session *sess,
                              const struct str_list *regions,
                              const struct str_list *ids,
                              struct ecr_tokens *tokens,
                              struct er_error *err) ER_CHECK;

/* Registry hosts and passwords as dockerconfig entries, one per host
 * (FIPS and dual-stack hosts added when those endpoints are in use).
 * entries borrow from tokens; free the array with free(). */
size_t cli_dockercfg_entries(const struct aws_settings *s,
                             const struct ecr_tokens *tokens,
                             struct dockercfg_entry **entries,
                             char ***extra_hosts, size_t *n_extra);

/* Writes text and then suffix to stdout with write(2), bypassing stdio
 * so no copy of a secret lingers in its buffer. */
enum er_code cli_write_stdout(const char *text, const char *suffix,
                              struct er_error *err) ER_CHECK;

/* Writes data to path atomically (temp file + rename) with mode 0600. */
enum er_code cli_write_private_file(const char *path, const char *data,
                                    size_t len, struct er_error *err) ER_CHECK;

#endif
