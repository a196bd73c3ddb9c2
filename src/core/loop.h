/*
 * loop.h - one poll(2) set for everything a long-running command waits
 * on: the sockets libcurl opens, the HTTP listener, a self-pipe for
 * signals, a pipe from a worker thread, and timers on the injected
 * clock's monotonic time (the design of redis's ae.c and OpenBSD ntpd's
 * main loop).
 *
 * Handlers are short and never block. A handler may add or remove
 * watches and timers, including its own; a removed watch or a cancelled
 * timer is not called again, even later in the same round.
 *
 * Ownership: the loop owns its watch and timer records; callers own the
 * descriptors and their ctx. A timer handle is valid until the timer
 * fires or is cancelled.
 */
#ifndef ECR_RENEW_CORE_LOOP_H
#define ECR_RENEW_CORE_LOOP_H

#include "clock.h"
#include "err.h"

#include <stdbool.h>

enum { LOOP_READ = 1, LOOP_WRITE = 2 };

typedef void loop_fd_fn(void *ctx, int fd, int events);
typedef void loop_timer_fn(void *ctx);

struct loop;
struct loop_timer;

struct loop *loop_new(const struct clock *clock);
void loop_free(struct loop *l);

/* Watches fd for events (LOOP_READ, LOOP_WRITE); events 0 stops
 * watching. One watch per descriptor: a second call replaces the first. */
void loop_watch(struct loop *l, int fd, int events, loop_fd_fn *fn, void *ctx);

/* Calls fn(ctx) once, ms milliseconds from now (0: in the next round). */
struct loop_timer *loop_after(struct loop *l, long long ms, loop_timer_fn *fn,
                              void *ctx);

/* Cancels a timer that has not fired; NULL is allowed. */
void loop_cancel(struct loop *l, struct loop_timer *t);

/* Waits for ready descriptors or the next timer, at most max_ms (-1: no
 * limit but the timers), and calls their handlers. ER_INTERNAL if poll
 * fails for another reason than a signal. */
enum er_code loop_run_once(struct loop *l, long long max_ms,
                           struct er_error *err) ER_CHECK;

/* Runs rounds until loop_stop is called. */
enum er_code loop_run(struct loop *l, struct er_error *err) ER_CHECK;

void loop_stop(struct loop *l);
bool loop_stopping(const struct loop *l);

/* The loop clock's monotonic milliseconds. */
long long loop_now_ms(const struct loop *l);

/* The clock the loop runs on, for handlers that need its wall time or
 * its randomness. */
const struct clock *loop_clock(const struct loop *l);

/* How many watches and pending timers there are (for tests and metrics). */
size_t loop_watch_count(const struct loop *l);
size_t loop_timer_count(const struct loop *l);

#endif
