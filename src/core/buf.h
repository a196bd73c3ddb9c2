/*
 * buf.h - a growable byte buffer with a hard size cap.
 *
 * Invariants: data is NUL-terminated whenever data != NULL, len excludes
 * the terminator, and len + 1 <= alloc <= cap + 1. A buffer that would grow
 * beyond its cap refuses (BUF_TOO_BIG) instead of eating memory: peers are
 * not trusted to send small answers. A buffer made with BUF_SECRET wipes
 * every block it lets go, when growing and when freed.
 *
 * Ownership: the struct is the caller's (usually on the stack); data is
 * owned by the buffer until buf_detach hands it over.
 */
#ifndef ECR_RENEW_CORE_BUF_H
#define ECR_RENEW_CORE_BUF_H

#include <stdbool.h>
#include <stddef.h>

#define BUF_DEFAULT_CAP (8u * 1024 * 1024)

enum buf_flags {
    BUF_PLAIN = 0,
    BUF_SECRET = 1 << 0,
};

enum buf_result {
    BUF_OK = 0,
    BUF_TOO_BIG,
};

struct buf {
    char *data;
    size_t len;
    size_t alloc;
    size_t cap;
    unsigned flags;
};

#define BUF_INIT                                                               \
    {                                                                          \
        NULL, 0, 0, BUF_DEFAULT_CAP, BUF_PLAIN                                 \
    }
#define BUF_INIT_SECRET                                                        \
    {                                                                          \
        NULL, 0, 0, BUF_DEFAULT_CAP, BUF_SECRET                                \
    }

void buf_init(struct buf *b, size_t cap, unsigned flags);

enum buf_result buf_add(struct buf *b, const void *mem, size_t n)
    __attribute__((warn_unused_result));
enum buf_result buf_adds(struct buf *b, const char *s)
    __attribute__((warn_unused_result));
enum buf_result buf_addc(struct buf *b, char c)
    __attribute__((warn_unused_result));
enum buf_result buf_addf(struct buf *b, const char *fmt, ...)
    __attribute__((warn_unused_result, format(printf, 2, 3)));

/* For builders whose sizes we control (no peer input): aborts on cap. */
void buf_must_add(struct buf *b, const void *mem, size_t n);
void buf_must_adds(struct buf *b, const char *s);
void buf_must_addf(struct buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Returns the contents as "" when empty; never NULL. */
const char *buf_str(const struct buf *b);

/* Empties the buffer, keeping (and, if secret, wiping) its memory. */
void buf_reset(struct buf *b);

/* Hands the data to the caller (never NULL) and empties the buffer. */
char *buf_detach(struct buf *b, size_t *len_out);

/* Releases the memory (wiped first if secret). Safe to call twice. */
void buf_free(struct buf *b);

#endif
