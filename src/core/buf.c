#include "buf.h"
#include "wipe.h"
#include "xalloc.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void buf_init(struct buf *b, size_t cap, unsigned flags)
{
    b->data = NULL;
    b->len = 0;
    b->alloc = 0;
    b->cap = cap;
    b->flags = flags;
}

/* Secret buffers never realloc: realloc may leave a copy in freed memory. */
static void grow_to(struct buf *b, size_t need)
{
    size_t alloc = b->alloc ? b->alloc : 64;
    char *fresh;

    while (alloc < need)
        alloc = alloc * 2 < alloc ? need : alloc * 2;
    if (alloc > b->cap + 1)
        alloc = b->cap + 1;
    if (!(b->flags & BUF_SECRET)) {
        b->data = xrealloc(b->data, alloc);
    } else {
        fresh = xmalloc(alloc);
        if (b->data) {
            memcpy(fresh, b->data, b->len + 1);
            wipe_bytes(b->data, b->alloc);
            free(b->data);
        }
        b->data = fresh;
    }
    b->alloc = alloc;
}

enum buf_result buf_add(struct buf *b, const void *mem, size_t n)
{
    if (n > b->cap || b->len > b->cap - n)
        return BUF_TOO_BIG;
    if (b->len + n + 1 > b->alloc)
        grow_to(b, b->len + n + 1);
    if (n)
        memcpy(b->data + b->len, mem, n);
    b->len += n;
    b->data[b->len] = '\0';
    return BUF_OK;
}

enum buf_result buf_adds(struct buf *b, const char *s)
{
    return buf_add(b, s, strlen(s));
}

enum buf_result buf_addc(struct buf *b, char c)
{
    return buf_add(b, &c, 1);
}

/* The attribute lets the compiler check callers' formats, and keeps clang's
 * -Wformat-nonliteral from refusing the vsnprintf calls below. */
static enum buf_result buf_vaddf(struct buf *b, const char *fmt, va_list ap)
    __attribute__((format(printf, 2, 0)));

static enum buf_result buf_vaddf(struct buf *b, const char *fmt, va_list ap)
{
    va_list copy;
    int n;

    va_copy(copy, ap);
    n = vsnprintf(NULL, 0, fmt, copy);
    va_end(copy);
    if (n < 0)
        return BUF_TOO_BIG;
    if ((size_t)n > b->cap || b->len > b->cap - (size_t)n)
        return BUF_TOO_BIG;
    if (b->len + (size_t)n + 1 > b->alloc)
        grow_to(b, b->len + (size_t)n + 1);
    vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
    b->len += (size_t)n;
    return BUF_OK;
}

enum buf_result buf_addf(struct buf *b, const char *fmt, ...)
{
    va_list ap;
    enum buf_result r;

    va_start(ap, fmt);
    r = buf_vaddf(b, fmt, ap);
    va_end(ap);
    return r;
}

static void cap_exceeded(const struct buf *b)
{
    fprintf(stderr, "ecr-renew: internal buffer cap of %zu bytes exceeded\n",
            b->cap);
    abort();
}

void buf_must_add(struct buf *b, const void *mem, size_t n)
{
    if (buf_add(b, mem, n) != BUF_OK)
        cap_exceeded(b);
}

void buf_must_adds(struct buf *b, const char *s)
{
    buf_must_add(b, s, strlen(s));
}

void buf_must_addf(struct buf *b, const char *fmt, ...)
{
    va_list ap;
    enum buf_result r;

    va_start(ap, fmt);
    r = buf_vaddf(b, fmt, ap);
    va_end(ap);
    if (r != BUF_OK)
        cap_exceeded(b);
}

const char *buf_str(const struct buf *b)
{
    return b->data ? b->data : "";
}

void buf_reset(struct buf *b)
{
    if (!b->data)
        return;
    if (b->flags & BUF_SECRET)
        wipe_bytes(b->data, b->alloc);
    b->len = 0;
    b->data[0] = '\0';
}

char *buf_detach(struct buf *b, size_t *len_out)
{
    char *data = b->data ? b->data : xstrdup("");

    if (len_out)
        *len_out = b->len;
    b->data = NULL;
    b->len = 0;
    b->alloc = 0;
    return data;
}

void buf_free(struct buf *b)
{
    if (b->data && (b->flags & BUF_SECRET))
        wipe_bytes(b->data, b->alloc);
    free(b->data);
    b->data = NULL;
    b->len = 0;
    b->alloc = 0;
}
