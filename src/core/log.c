#include "log.h"
#include "buf.h"
#include "strutil.h"
#include "timeutil.h"
#include "xalloc.h"

#include <jansson.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static enum log_format log_fmt = LOG_TEXT;
static enum log_level log_min = LOG_INFO;
static FILE *log_out;

static const char *const level_names[] = {"debug", "info", "warn", "error"};

void log_setup(enum log_format format, enum log_level min_level, FILE *out)
{
    log_fmt = format;
    log_min = min_level;
    log_out = out;
}

void log_setup_format(enum log_format format)
{
    log_fmt = format;
}

void log_setup_level(enum log_level min_level)
{
    log_min = min_level;
}

int log_parse_format(const char *s, enum log_format *out)
{
    if (strcmp(s, "text") == 0)
        *out = LOG_TEXT;
    else if (strcmp(s, "json") == 0)
        *out = LOG_JSON;
    else
        return -1;
    return 0;
}

int log_parse_level(const char *s, enum log_level *out)
{
    for (size_t i = 0; i < sizeof(level_names) / sizeof(level_names[0]); i++) {
        if (strcmp(s, level_names[i]) == 0) {
            *out = (enum log_level)i;
            return 0;
        }
    }
    return -1;
}

/* Text from outside (server messages, hosts, names) may hold control
 * characters that would forge log lines or drive a terminal: every
 * message and value is logged with them made visible. */
static char *visible(const char *s)
{
    struct buf b = BUF_INIT;

    str_append_visible(&b, s, strlen(s));
    return buf_detach(&b, NULL);
}

/* Values with spaces, quotes or '=' are quoted so lines stay parseable. */
static void add_text_value(struct buf *line, const char *v)
{
    char *shown = visible(v);

    if (*shown && !strpbrk(shown, " \"=")) {
        buf_must_adds(line, shown);
    } else {
        buf_must_adds(line, "\"");
        for (const char *p = shown; *p; p++) {
            if (*p == '"')
                buf_must_adds(line, "\\\"");
            else
                buf_must_add(line, p, 1);
        }
        buf_must_adds(line, "\"");
    }
    free(shown);
}

static void format_text(struct buf *line, const char *when,
                        enum log_level level, const char *msg, va_list ap)
{
    char *shown = visible(msg);
    const char *k;

    buf_must_addf(line, "%s %s %s", when, level_names[level], shown);
    free(shown);
    while ((k = va_arg(ap, const char *)) != NULL) {
        const char *v = va_arg(ap, const char *);
        buf_must_addf(line, " %s=", k);
        add_text_value(line, v ? v : "");
    }
}

/* The visible form is valid UTF-8, which jansson requires. */
static json_t *json_text(const char *v)
{
    char *shown = visible(v);
    json_t *j = json_string(shown);

    free(shown);
    return j;
}

static void format_json(struct buf *line, const char *when,
                        enum log_level level, const char *msg, va_list ap)
{
    json_t *obj = json_object();
    const char *k;
    char *text;

    json_object_set_new(obj, "time", json_string(when));
    json_object_set_new(obj, "level", json_string(level_names[level]));
    json_object_set_new(obj, "msg", json_text(msg));
    while ((k = va_arg(ap, const char *)) != NULL) {
        const char *v = va_arg(ap, const char *);
        json_object_set_new(obj, k, json_text(v ? v : ""));
    }
    text = json_dumps(obj, JSON_COMPACT | JSON_PRESERVE_ORDER);
    buf_must_adds(line, text ? text : "{}");
    free(text);
    json_decref(obj);
}

static void log_vevent(enum log_level level, const char *msg, va_list ap)
{
    struct buf line = BUF_INIT;
    char when[TIME_RFC3339_LEN];

    if (level < log_min)
        return;
    time_format_rfc3339(time(NULL), when);
    if (log_fmt == LOG_JSON)
        format_json(&line, when, level, msg, ap);
    else
        format_text(&line, when, level, msg, ap);
    buf_must_adds(&line, "\n");
    /* One write per line keeps lines whole when several jobs share a log. */
    fputs(buf_str(&line), log_out ? log_out : stderr);
    fflush(log_out ? log_out : stderr);
    buf_free(&line);
}

void log_event(enum log_level level, const char *msg, ...)
{
    va_list ap;

    va_start(ap, msg);
    log_vevent(level, msg, ap);
    va_end(ap);
}

void log_msgf(enum log_level level, const char *fmt, ...)
{
    va_list ap;
    char *msg;

    if (level < log_min)
        return;
    va_start(ap, fmt);
    msg = xvasprintf(fmt, ap);
    va_end(ap);
    log_event(level, msg, LOG_END);
    free(msg);
}
