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

/* A fresh temporary directory, made at the first call and removed at
 * exit, shared by the helpers below. */
const char *test_temp_dir(void);

/* The path of name in test_temp_dir() (caller frees); nothing is made. */
char *test_temp_path(const char *name);

/* Writes text to a new file in test_temp_dir() and returns its path
 * (caller frees). */
char *test_write_temp(const char *name, const char *text);

/* A one-thread HTTP/1.1 server on 127.0.0.1 for tests: answer() gets
 * each request's head (request line and headers, NUL-terminated) and
 * returns a whole response, which the server sends and then closes the
 * connection. The counter and the callback run on the server's thread;
 * read them under lock with test_server_requests. */
struct test_server {
    int fd;
    int port;
    void *thread; /* pthread_t, kept opaque for the header */
    void *mu;
    int requests;
    char *(*answer)(struct test_server *s, const char *head);
    void *ctx;
};

void test_server_start(struct test_server *s,
                       char *(*answer)(struct test_server *s, const char *head),
                       void *ctx);
void test_server_stop(struct test_server *s);
int test_server_requests(struct test_server *s);
/* "http://127.0.0.1:<port>" (static storage, per server port). */
const char *test_server_url(struct test_server *s);

#endif
