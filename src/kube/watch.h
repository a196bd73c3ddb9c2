/*
 * watch.h - splitting a Kubernetes watch answer into events.
 *
 * A watch answer body is one JSON object per line, written by Go's
 * json.Encoder:
 *     {"type":"ADDED","object":{"kind":"Secret",...}}\n
 * The server flushes whenever its queue is empty, so the slices that
 * reach us (already de-chunked by libcurl) end anywhere: in the middle
 * of an event, or after several. The splitter keeps the unfinished line
 * between feeds, and hands over each complete one as a parsed event.
 *
 * Secret events carry registry passwords, so the pending bytes live in
 * a BUF_SECRET buffer, wiped as soon as a line has been handed over.
 * Messages never quote an event. Pure: no I/O.
 */
#ifndef ECR_RENEW_KUBE_WATCH_H
#define ECR_RENEW_KUBE_WATCH_H

#include "../core/buf.h"
#include "../core/err.h"

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

enum kube_watch_type {
    KUBE_WATCH_ADDED,
    KUBE_WATCH_MODIFIED,
    KUBE_WATCH_DELETED,
    KUBE_WATCH_BOOKMARK,
    KUBE_WATCH_ERROR,
};

/* One event, valid only during the callback that receives it: object
 * and resource_version point into the parsed line, freed afterwards.
 * Take a reference (json_incref) to keep the object. */
struct kube_watch_event {
    enum kube_watch_type type;
    json_t *object;               /* a JSON object; borrowed */
    const char *resource_version; /* object.metadata's, or "" */
    /* For ERROR, whose object is a Status; 0 and "" otherwise. */
    long error_code;         /* Status.code: 410 for an expired version */
    char error_reason[64];   /* "Expired", "Gone", "Timeout"... */
    char error_message[256]; /* made printable: no control characters */
};

/* Called for each event; anything but ER_OK stops the feed, which
 * returns that code (with whatever message fn put in err). */
typedef enum er_code (*kube_watch_event_fn)(void *ctx,
                                            const struct kube_watch_event *ev,
                                            struct er_error *err);

/* The caller allocates the struct (on the stack or in the watch's
 * state); the fields are private to watch.c. */
struct kube_watch_splitter {
    struct buf pending;     /* the unfinished line; secret */
    size_t max_event_bytes; /* longest line accepted, without its '\n' */
};

/* Readies w for a new answer body. Lines longer than max_event_bytes
 * (not counting the '\n'; a '\r' before it counts) are refused. */
void kube_watch_splitter_init(struct kube_watch_splitter *w,
                              size_t max_event_bytes);

/* Wipes and frees what w holds; w can then be initialised again. */
void kube_watch_splitter_free(struct kube_watch_splitter *w);

/* Takes the next len bytes of the body and calls fn(ctx, ev, err) for
 * each line they complete, in order; a line that stays unfinished is
 * kept for the next feed. Lines holding only blanks (and a CRLF's '\r')
 * are skipped. ER_PARSE when a line is longer than max_event_bytes
 * ("a watch event larger than N KiB"), is not a JSON object, or lacks a
 * known "type" or an "object"; else what fn returned. After any error
 * the rest of data is not read and w holds nothing: end the watch.
 * Bytes still pending when the body ends are an event cut short, which
 * is lost as it would be with any client. */
enum er_code kube_watch_feed(struct kube_watch_splitter *w, const char *data,
                             size_t len, kube_watch_event_fn fn, void *ctx,
                             struct er_error *err) ER_CHECK;

/* "ADDED", "MODIFIED", "DELETED", "BOOKMARK", "ERROR"; "?" otherwise. */
const char *kube_watch_type_name(enum kube_watch_type type);

/* True for an ERROR event saying that the version watched from is too
 * old (410, whether the reason is "Expired" or, before 1.18, "Gone"):
 * list again, then watch from the list's version. */
bool kube_watch_event_is_expired(const struct kube_watch_event *ev);

#endif
