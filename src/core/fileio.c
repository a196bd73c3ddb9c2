#include "fileio.h"
#include "strutil.h"
#include "wipe.h"
#include "xalloc.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define SYMLINK_MAX_HOPS 16

static const char *file_kind(mode_t m)
{
    if (S_ISFIFO(m))
        return "a FIFO (named pipe)";
    if (S_ISDIR(m))
        return "a directory";
    if (S_ISSOCK(m))
        return "a socket";
    if (S_ISBLK(m))
        return "a block device";
    if (S_ISCHR(m))
        return "a character device";
    return "not a regular file";
}

/* Reads until EOF, appending to out; the chunk is wiped since it may
 * have held a key or token. */
static enum er_code read_fd(int fd, const char *what, struct buf *out,
                            struct er_error *err)
{
    char chunk[4096];
    enum er_code rc = ER_OK;
    ssize_t got;

    while ((got = read(fd, chunk, sizeof(chunk))) != 0) {
        if (got < 0 && errno == EINTR)
            continue;
        if (got < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            rc = er_set(err, ER_CONFIG,
                        "reading %s: nothing to read yet (it would block); "
                        "use a regular file",
                        what);
            break;
        }
        if (got < 0) {
            rc =
                er_set(err, ER_CONFIG, "reading %s: %s", what, strerror(errno));
            break;
        }
        if (buf_add(out, chunk, (size_t)got) != BUF_OK) {
            rc = er_set(err, ER_CONFIG, "reading %s: larger than %zu bytes",
                        what, out->cap);
            break;
        }
    }
    wipe_bytes(chunk, sizeof(chunk));
    return rc;
}

enum er_code file_read(const char *path, struct buf *out, bool *missing,
                       struct er_error *err)
{
    struct stat st;
    enum er_code rc;
    int fd;

    if (missing)
        *missing = false;
    fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
    if (fd < 0) {
        if (errno == ENOENT && missing) {
            *missing = true;
            return ER_OK;
        }
        return er_set(err, ER_CONFIG, "reading %s: %s", path, strerror(errno));
    }
    if (fstat(fd, &st) != 0) {
        rc = er_set(err, ER_CONFIG, "reading %s: %s", path, strerror(errno));
    } else if (!S_ISREG(st.st_mode) && !S_ISCHR(st.st_mode)) {
        rc = er_set(err, ER_CONFIG,
                    "reading %s: it is %s, not a regular file; refusing to "
                    "read it",
                    path, file_kind(st.st_mode));
    } else if (S_ISREG(st.st_mode) &&
               (unsigned long long)st.st_size > (unsigned long long)out->cap) {
        rc = er_set(err, ER_CONFIG, "reading %s: larger than %zu bytes", path,
                    out->cap);
    } else {
        rc = read_fd(fd, path, out, err);
    }
    close(fd);
    return rc;
}

enum er_code fd_read_all(int fd, const char *what, struct buf *out,
                         struct er_error *err)
{
    return read_fd(fd, what, out, err);
}

enum er_code file_read_token(const char *path, const char *what, size_t cap,
                             char **token, struct er_error *err)
{
    struct buf b;
    const char *t;
    char *copy;
    size_t n;
    enum er_code rc;

    buf_init(&b, cap, BUF_SECRET);
    rc = file_read(path, &b, NULL, err);
    if (rc != ER_OK) {
        er_wrap(err, "%s", what);
        goto out;
    }
    t = str_trim(buf_str(&b), &n);
    copy = xstrndup(t, n);
    if (n == 0 || memchr(t, '\0', n)) {
        rc = er_set(err, ER_CONFIG, "%s %s is empty", what, path);
    } else if (!str_has_no_controls(copy)) {
        rc = er_set(err, ER_CONFIG,
                    "%s %s holds a control character (a line break inside "
                    "the token?); refusing to send it",
                    what, path);
    }
    if (rc == ER_OK)
        *token = copy;
    else
        wipe_free_str(copy);
out:
    buf_free(&b);
    return rc;
}

int fd_write_all(int fd, const void *data, size_t len)
{
    const char *p = data;

    while (len > 0) {
        ssize_t w = write(fd, p, len);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return -1;
        p += w;
        len -= (size_t)w;
    }
    return 0;
}

/* Follows symbolic links at path to what they finally name (which may
 * not exist yet), so the rename replaces the target, not the link. */
static enum er_code final_target(const char *path, char **out,
                                 struct er_error *err)
{
    char *cur = xstrdup(path), link[PATH_MAX];
    struct stat st;

    for (int hops = 0; lstat(cur, &st) == 0 && S_ISLNK(st.st_mode); hops++) {
        ssize_t n = readlink(cur, link, sizeof(link) - 1);
        char *next, *slash;

        if (hops == SYMLINK_MAX_HOPS || n < 0) {
            enum er_code rc =
                er_set(err, ER_CONFIG, "writing %s: %s", path,
                       n < 0 ? strerror(errno) : "too many symbolic links");
            free(cur);
            return rc;
        }
        link[n] = '\0';
        slash = strrchr(cur, '/');
        if (link[0] == '/' || !slash)
            next = xstrdup(link);
        else
            next = xasprintf("%.*s/%s", (int)(slash - cur), cur, link);
        free(cur);
        cur = next;
    }
    *out = cur;
    return ER_OK;
}

/* Refuses to replace anything but a regular file (or nothing). */
static enum er_code check_replaceable(const char *path, const char *target,
                                      struct er_error *err)
{
    struct stat st;

    if (stat(target, &st) != 0) {
        if (errno == ENOENT)
            return ER_OK;
        return er_set(err, ER_CONFIG, "writing %s: %s", path, strerror(errno));
    }
    if (!S_ISREG(st.st_mode))
        return er_set(err, ER_CONFIG,
                      "writing %s: %s is %s; refusing to replace it with a "
                      "file. Fix: name a regular file",
                      path, target, file_kind(st.st_mode));
    return ER_OK;
}

static enum er_code write_temp(const char *tmp, const void *data, size_t len,
                               struct er_error *err)
{
    int fd =
        open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
    enum er_code rc = ER_OK;

    if (fd < 0)
        return er_set(err, ER_CONFIG, "creating %s: %s", tmp, strerror(errno));
    if (fd_write_all(fd, data, len) != 0 || fsync(fd) != 0) {
        rc = er_set(err, ER_CONFIG, "writing %s: %s", tmp, strerror(errno));
        unlink(tmp);
    }
    close(fd);
    return rc;
}

enum er_code file_write_private(const char *path, const void *data, size_t len,
                                struct er_error *err)
{
    char *target = NULL, *tmp = NULL;
    enum er_code rc;

    if ((rc = final_target(path, &target, err)) != ER_OK ||
        (rc = check_replaceable(path, target, err)) != ER_OK)
        goto out;
    tmp = xasprintf("%s.tmp.%ld", target, (long)getpid());
    if ((rc = write_temp(tmp, data, len, err)) != ER_OK)
        goto out;
    if (rename(tmp, target) != 0) {
        rc = er_set(err, ER_CONFIG, "renaming %s to %s: %s", tmp, target,
                    strerror(errno));
        unlink(tmp);
    }
out:
    free(tmp);
    free(target);
    return rc;
}
