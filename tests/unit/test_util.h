/*
 * test_util.h - what every unit test includes: cmocka, plus helpers.
 */
#ifndef ECR_RENEW_TEST_UTIL_H
#define ECR_RENEW_TEST_UTIL_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

/* Reads a whole file into a NUL-terminated string; fails the test if it
 * cannot. The caller frees the result. */
char *test_read_file(const char *path);

/* Writes text to a new file under a fresh temporary directory and
 * returns its path (caller frees); the directory is removed at exit. */
char *test_write_temp(const char *name, const char *text);

#endif
