/*
 * err.h - typed results and error messages.
 *
 * Every fallible function returns an enum er_code marked ER_CHECK, so the
 * compiler refuses to let a caller ignore it, and on failure fills the
 * caller's struct er_error with one line that says what failed, on which
 * object, why, and where useful what to do. The code decides the process
 * exit status; the message is for the operator.
 *
 * Messages never contain secrets: callers format them from names, hosts,
 * status codes and server messages only.
 */
#ifndef ECR_RENEW_CORE_ERR_H
#define ECR_RENEW_CORE_ERR_H

#include <stddef.h>

#define ER_CHECK __attribute__((warn_unused_result))
#define ER_PRINTF(fmt, args) __attribute__((format(printf, fmt, args)))

/* Kinds of failure; each maps to a documented exit status (er_exit_status). */
enum er_code {
    ER_OK = 0,
    ER_INTERNAL, /* a bug or an impossible state */
    ER_USAGE,    /* bad command line or environment value */
    ER_CONFIG,   /* unreadable or invalid configuration file */
    ER_NO_CREDS, /* no AWS credential source applied */
    ER_AWS,      /* AWS answered with a refusal (4xx, bad token...) */
    ER_NETWORK,  /* connection, TLS, timeout, 5xx after retries */
    ER_KUBE,     /* Kubernetes answered with a refusal */
    ER_PARSE,    /* a peer's answer could not be understood */
};

#define ER_MSG_MAX 2048

struct er_error {
    enum er_code code;
    char msg[ER_MSG_MAX];
    /* When a service refused: its operation and its error code
     * ("GetAuthorizationToken", "AccessDeniedException"), for metrics;
     * "" otherwise. er_set clears them, er_wrap keeps them. */
    char op[64];
    char peer_code[64];
};

/* Sets code and message and returns code, so callers write
 * "return er_set(err, ER_CONFIG, "...", ...);". err may be NULL. */
enum er_code er_set(struct er_error *err, enum er_code code, const char *fmt,
                    ...) ER_PRINTF(3, 4);

/* Prefixes the existing message with context ("reading /x: " + old). */
enum er_code er_wrap(struct er_error *err, const char *fmt, ...)
    ER_PRINTF(2, 3);

/* Records which operation a service refused, and with what code. */
void er_set_peer(struct er_error *err, const char *op, const char *code);

/* Clears err to ER_OK with an empty message. */
void er_clear(struct er_error *err);

/* The process exit status documented in the README for a code. */
int er_exit_status(enum er_code code);

/* A short stable name for logs ("network", "aws", ...). */
const char *er_code_name(enum er_code code);

/* Exit statuses, documented in the README and in --help. */
enum {
    EXIT_OK = 0,
    EXIT_FAILURE_INTERNAL = 1,
    EXIT_USAGE = 2,
    EXIT_CONFIG = 3,
    EXIT_NO_CREDS = 4,
    EXIT_AWS_REFUSED = 5,
    EXIT_NETWORK = 6,
    EXIT_KUBE_REFUSED = 7,
};

#endif
