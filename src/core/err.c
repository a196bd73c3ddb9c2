#include "err.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

enum er_code er_set(struct er_error *err, enum er_code code, const char *fmt,
                    ...)
{
    va_list ap;

    if (!err)
        return code;
    err->code = code;
    err->op[0] = err->peer_code[0] = '\0';
    va_start(ap, fmt);
    vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
    va_end(ap);
    return code;
}

enum er_code er_wrap(struct er_error *err, const char *fmt, ...)
{
    char prefix[ER_MSG_MAX];
    char old[ER_MSG_MAX];
    size_t plen, olen;
    va_list ap;

    if (!err)
        return ER_INTERNAL;
    va_start(ap, fmt);
    vsnprintf(prefix, sizeof(prefix), fmt, ap);
    va_end(ap);
    memcpy(old, err->msg, sizeof(old));
    plen = strlen(prefix);
    olen = strnlen(old, sizeof(old) - 1);
    /* Keep as much of both as fits; the message may be cut, never lost. */
    if (plen > sizeof(err->msg) - 3)
        plen = sizeof(err->msg) - 3;
    memcpy(err->msg, prefix, plen);
    memcpy(err->msg + plen, ": ", 2);
    if (olen > sizeof(err->msg) - plen - 3)
        olen = sizeof(err->msg) - plen - 3;
    memcpy(err->msg + plen + 2, old, olen);
    err->msg[plen + 2 + olen] = '\0';
    return err->code;
}

void er_set_peer(struct er_error *err, const char *op, const char *code)
{
    if (!err)
        return;
    snprintf(err->op, sizeof(err->op), "%s", op ? op : "");
    snprintf(err->peer_code, sizeof(err->peer_code), "%s", code ? code : "");
}

void er_clear(struct er_error *err)
{
    if (!err)
        return;
    err->code = ER_OK;
    err->msg[0] = '\0';
    err->op[0] = err->peer_code[0] = '\0';
}

int er_exit_status(enum er_code code)
{
    switch (code) {
    case ER_OK:
        return EXIT_OK;
    case ER_USAGE:
        return EXIT_USAGE;
    case ER_CONFIG:
        return EXIT_CONFIG;
    case ER_NO_CREDS:
        return EXIT_NO_CREDS;
    case ER_AWS:
        return EXIT_AWS_REFUSED;
    case ER_NETWORK:
    case ER_PARSE:
        return EXIT_NETWORK;
    case ER_KUBE:
        return EXIT_KUBE_REFUSED;
    case ER_INTERNAL:
        break;
    }
    return EXIT_FAILURE_INTERNAL;
}

const char *er_code_name(enum er_code code)
{
    static const char *const names[] = {
        [ER_OK] = "ok",
        [ER_INTERNAL] = "internal",
        [ER_USAGE] = "usage",
        [ER_CONFIG] = "config",
        [ER_NO_CREDS] = "credentials",
        [ER_AWS] = "aws",
        [ER_NETWORK] = "network",
        [ER_KUBE] = "kubernetes",
        [ER_PARSE] = "protocol",
    };

    if ((size_t)code < sizeof(names) / sizeof(names[0]) && names[code])
        return names[code];
    return "unknown";
}
