#include "loop.h"
#include "xalloc.h"

#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>

struct watch {
    int fd;
    int events;
    loop_fd_fn *fn;
    void *ctx;
};

struct loop_timer {
    long long at_ms;
    unsigned long long seq; /* equal deadlines fire in the order made */
    loop_timer_fn *fn;
    void *ctx;
    bool cancelled;
};

struct loop {
    const struct clock *clock;
    struct watch *watches;
    size_t n_watches, cap_watches;
    struct loop_timer **timers; /* unordered: there are few */
    size_t n_timers, cap_timers;
    unsigned long long next_seq;
    bool stopping;
};

struct loop *loop_new(const struct clock *clock)
{
    struct loop *l = xcalloc(1, sizeof(*l));

    l->clock = clock;
    return l;
}

void loop_free(struct loop *l)
{
    if (!l)
        return;
    for (size_t i = 0; i < l->n_timers; i++)
        free(l->timers[i]);
    free(l->timers);
    free(l->watches);
    free(l);
}

long long loop_now_ms(const struct loop *l)
{
    return clock_mono_ms(l->clock);
}

const struct clock *loop_clock(const struct loop *l)
{
    return l->clock;
}

size_t loop_watch_count(const struct loop *l)
{
    return l->n_watches;
}

size_t loop_timer_count(const struct loop *l)
{
    size_t n = 0;

    for (size_t i = 0; i < l->n_timers; i++)
        n += !l->timers[i]->cancelled;
    return n;
}

static struct watch *find_watch(struct loop *l, int fd)
{
    for (size_t i = 0; i < l->n_watches; i++) {
        if (l->watches[i].fd == fd)
            return &l->watches[i];
    }
    return NULL;
}

void loop_watch(struct loop *l, int fd, int events, loop_fd_fn *fn, void *ctx)
{
    struct watch *w = find_watch(l, fd);

    if (events == 0) {
        if (w)
            *w = l->watches[--l->n_watches];
        return;
    }
    if (!w) {
        if (l->n_watches == l->cap_watches) {
            l->cap_watches = l->cap_watches ? l->cap_watches * 2 : 8;
            l->watches =
                xrealloc(l->watches, l->cap_watches * sizeof(*l->watches));
        }
        w = &l->watches[l->n_watches++];
    }
    *w = (struct watch){fd, events, fn, ctx};
}

struct loop_timer *loop_after(struct loop *l, long long ms, loop_timer_fn *fn,
                              void *ctx)
{
    struct loop_timer *t = xcalloc(1, sizeof(*t));

    t->at_ms = loop_now_ms(l) + (ms > 0 ? ms : 0);
    t->seq = l->next_seq++;
    t->fn = fn;
    t->ctx = ctx;
    if (l->n_timers == l->cap_timers) {
        l->cap_timers = l->cap_timers ? l->cap_timers * 2 : 8;
        l->timers = xrealloc(l->timers, l->cap_timers * sizeof(*l->timers));
    }
    l->timers[l->n_timers++] = t;
    return t;
}

void loop_cancel(struct loop *l, struct loop_timer *t)
{
    (void)l;
    if (t)
        t->cancelled = true; /* freed by the next sweep */
}

void loop_stop(struct loop *l)
{
    l->stopping = true;
}

bool loop_stopping(const struct loop *l)
{
    return l->stopping;
}

/* Drops cancelled timers; returns the earliest deadline, or LLONG_MAX. */
static long long sweep_timers(struct loop *l)
{
    long long next = LLONG_MAX;
    size_t kept = 0;

    for (size_t i = 0; i < l->n_timers; i++) {
        struct loop_timer *t = l->timers[i];
        if (t->cancelled) {
            free(t);
            continue;
        }
        if (t->at_ms < next)
            next = t->at_ms;
        l->timers[kept++] = t;
    }
    l->n_timers = kept;
    return next;
}

/* The due timer made first, or NULL. */
static struct loop_timer *next_due(struct loop *l, long long now)
{
    struct loop_timer *best = NULL;

    for (size_t i = 0; i < l->n_timers; i++) {
        struct loop_timer *t = l->timers[i];
        if (!t->cancelled && t->at_ms <= now &&
            (!best || t->at_ms < best->at_ms ||
             (t->at_ms == best->at_ms && t->seq < best->seq)))
            best = t;
    }
    return best;
}

/* Fires the timers due now, oldest first. Timers made by handlers wait
 * for the next round, so a handler that re-arms itself cannot starve
 * the descriptors. */
static void fire_timers(struct loop *l)
{
    long long now = loop_now_ms(l);
    unsigned long long limit = l->next_seq;
    struct loop_timer *t;

    while ((t = next_due(l, now)) && t->seq < limit) {
        t->cancelled = true; /* fires once; freed by the sweep */
        t->fn(t->ctx);
    }
}

static int poll_timeout(struct loop *l, long long next_timer, long long max_ms)
{
    long long wait = max_ms < 0 ? LLONG_MAX : max_ms;

    if (next_timer != LLONG_MAX) {
        long long until = next_timer - loop_now_ms(l);
        if (until < wait)
            wait = until < 0 ? 0 : until;
    }
    if (wait == LLONG_MAX)
        return -1;
    return wait > INT_MAX ? INT_MAX : (int)wait;
}

static short poll_events(int events)
{
    return (short)(((events & LOOP_READ) ? POLLIN : 0) |
                   ((events & LOOP_WRITE) ? POLLOUT : 0));
}

static int loop_events(short revents)
{
    int ev = 0;

    if (revents & (POLLIN | POLLHUP | POLLERR | POLLNVAL))
        ev |= LOOP_READ;
    if (revents & (POLLOUT | POLLERR))
        ev |= LOOP_WRITE;
    return ev;
}

/* Calls the handlers of ready descriptors. A handler may change the
 * watch list, so each ready one is looked up again before its call. */
static void dispatch(struct loop *l, const struct pollfd *p, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        struct watch *w;
        int ev = loop_events(p[i].revents);

        if (!ev || !(w = find_watch(l, p[i].fd)))
            continue;
        w->fn(w->ctx, p[i].fd, ev & (w->events | LOOP_READ));
    }
}

enum er_code loop_run_once(struct loop *l, long long max_ms,
                           struct er_error *err)
{
    long long next = sweep_timers(l);
    size_t n = l->n_watches;
    struct pollfd *p = xcalloc(n ? n : 1, sizeof(*p));
    int ready;

    for (size_t i = 0; i < n; i++)
        p[i] = (struct pollfd){l->watches[i].fd,
                               poll_events(l->watches[i].events), 0};
    ready = poll(p, n, poll_timeout(l, next, max_ms));
    if (ready < 0 && errno != EINTR) {
        free(p);
        return er_set(err, ER_INTERNAL, "poll: %s", strerror(errno));
    }
    if (ready > 0)
        dispatch(l, p, n);
    free(p);
    fire_timers(l);
    return ER_OK;
}

enum er_code loop_run(struct loop *l, struct er_error *err)
{
    enum er_code rc = ER_OK;

    while (rc == ER_OK && !l->stopping)
        rc = loop_run_once(l, -1, err);
    return rc;
}
