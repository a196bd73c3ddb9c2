/*
 * fileio.h - reading small files whole, with errors that name the file.
 */
#ifndef ECR_RENEW_CORE_FILEIO_H
#define ECR_RENEW_CORE_FILEIO_H

#include "buf.h"
#include "err.h"

#include <stdbool.h>

/* Appends the file's contents to out (whose cap bounds the size). When
 * missing is not NULL, an absent file is not an error: *missing is set
 * and ER_OK returned. Other failures are ER_CONFIG naming path and
 * reason ("reading /x: Permission denied"). */
enum er_code file_read(const char *path, struct buf *out, bool *missing,
                       struct er_error *err) ER_CHECK;

#endif
