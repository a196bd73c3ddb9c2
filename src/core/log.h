/*
 * log.h - one line per event on stderr, as text or JSON.
 *
 * Events carry a message and key/value fields ending with LOG_END:
 *     log_event(LOG_INFO, "secret updated", "namespace", ns, LOG_END);
 * Text:  2026-11-29T05:00:00Z info secret updated namespace=runtime
 * JSON:  {"time":"...","level":"info","msg":"secret updated",...}
 *
 * Nothing secret is ever passed here: callers log names, hosts, codes and
 * times, never keys, tokens or passwords.
 */
#ifndef ECR_RENEW_CORE_LOG_H
#define ECR_RENEW_CORE_LOG_H

#include <stdio.h>

/* Ends a field list. A typed null: a bare NULL may be an int in varargs. */
#define LOG_END ((const char *)NULL)

enum log_level { LOG_DEBUG, LOG_INFO, LOG_WARN, LOG_ERROR };
enum log_format { LOG_TEXT, LOG_JSON };

/* Chooses the format, the lowest level printed and the stream. */
void log_setup(enum log_format format, enum log_level min_level, FILE *out);

void log_setup_format(enum log_format format);
void log_setup_level(enum log_level min_level);

/* Parses "text"/"json" and "debug"/"info"/"warn"/"error"; 0 on success. */
int log_parse_format(const char *s, enum log_format *out);
int log_parse_level(const char *s, enum log_level *out);

void log_event(enum log_level level, const char *msg, ...)
    __attribute__((sentinel));

/* printf-style message without fields. */
void log_msgf(enum log_level level, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

#endif
