/*
 * fileio.h - reading small files whole and writing private ones, with
 * errors that name the file and say what to do.
 *
 * Only regular files are read, and character devices (such as
 * /dev/null) up to the buffer's cap. Files are opened non-blocking, so a
 * FIFO, which would block for ever waiting for a writer, is refused at
 * once, as are directories and sockets.
 */
#ifndef ECR_RENEW_CORE_FILEIO_H
#define ECR_RENEW_CORE_FILEIO_H

#include "buf.h"
#include "err.h"

#include <stdbool.h>
#include <stddef.h>

/* Appends the file's contents to out (whose cap bounds the size). When
 * missing is not NULL, an absent file is not an error: *missing is set
 * and ER_OK returned. Other failures are ER_CONFIG naming path and
 * reason ("reading /x: Permission denied"). */
enum er_code file_read(const char *path, struct buf *out, bool *missing,
                       struct er_error *err) ER_CHECK;

/* Appends everything readable from fd until end of file (stdin, a pipe)
 * to out; what names it in errors ("standard input"). */
enum er_code fd_read_all(int fd, const char *what, struct buf *out,
                         struct er_error *err) ER_CHECK;

/* Reads a token or credential file (a bearer token, a web identity or
 * container authorization token): at most cap bytes, surrounding
 * whitespace trimmed. An empty token, or one holding a control character
 * (it would become extra header lines), is ER_CONFIG naming what and the
 * file, never the value. *token is newly allocated; free it with
 * wipe_free_str. */
enum er_code file_read_token(const char *path, const char *what, size_t cap,
                             char **token, struct er_error *err) ER_CHECK;

/* Writes data to path atomically with mode 0600: a temporary file in the
 * same directory, fsync, rename. A symbolic link is followed, so its
 * target is replaced and the link kept; a FIFO, device, socket or
 * directory at the path is refused. */
enum er_code file_write_private(const char *path, const void *data, size_t len,
                                struct er_error *err) ER_CHECK;

/* write(2) until done, through EINTR; -1 with errno on failure. */
int fd_write_all(int fd, const void *data, size_t len);

#endif
