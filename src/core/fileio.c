#include "fileio.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

enum er_code file_read(const char *path, struct buf *out, bool *missing,
                       struct er_error *err)
{
    char chunk[4096];
    enum er_code rc = ER_OK;
    ssize_t got;
    int fd;

    if (missing)
        *missing = false;
    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        if (errno == ENOENT && missing) {
            *missing = true;
            return ER_OK;
        }
        return er_set(err, ER_CONFIG, "reading %s: %s", path, strerror(errno));
    }
    while ((got = read(fd, chunk, sizeof(chunk))) != 0) {
        if (got < 0 && errno == EINTR)
            continue;
        if (got < 0) {
            rc =
                er_set(err, ER_CONFIG, "reading %s: %s", path, strerror(errno));
            break;
        }
        if (buf_add(out, chunk, (size_t)got) != BUF_OK) {
            rc = er_set(err, ER_CONFIG, "reading %s: larger than %zu bytes",
                        path, out->cap);
            break;
        }
    }
    /* The chunk may have held a key or token. */
    explicit_bzero(chunk, sizeof(chunk));
    close(fd);
    return rc;
}
