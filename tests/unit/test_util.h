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

#include "core/clock.h"

/* A clock that moves only when a test moves it: sleeping advances both
 * the wall and the monotonic time, and jitter is always 0.5. */
struct test_clock {
    time_t now;
    long long mono_ms;
    long long wall_carry_ms; /* advanced time not yet a whole second */
    long slept_ms;
    struct clock clock;
};

void test_clock_init(struct test_clock *tc, time_t now);

/* Moves both clocks forward. */
void test_clock_advance_ms(struct test_clock *tc, long long ms);

/* Reads a whole file into a NUL-terminated string; fails the test if it
 * cannot. The caller frees the result. */
char *test_read_file(const char *path);

/* Writes text to a new file under a fresh temporary directory and
 * returns its path (caller frees); the directory is removed at exit. */
char *test_write_temp(const char *name, const char *text);

#endif
