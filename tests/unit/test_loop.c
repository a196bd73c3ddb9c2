/*
 * The event loop: timers fire once, in deadline order, and not when
 * cancelled; descriptors call their handler when ready; handlers may
 * change the watches and timers, their own included.
 */
#include "core/loop.h"
#include "test_assert.h"
#include "test_util.h"

#include <string.h>
#include <unistd.h>

struct log {
    char order[32];
    int n;
};

static void mark(struct log *l, char c)
{
    l->order[l->n++] = c;
    l->order[l->n] = '\0';
}

static void fire_a(void *ctx)
{
    mark(ctx, 'a');
}

static void fire_b(void *ctx)
{
    mark(ctx, 'b');
}

static void fire_c(void *ctx)
{
    mark(ctx, 'c');
}

static void run_rounds(struct loop *l, int n)
{
    struct er_error err;

    for (int i = 0; i < n; i++)
        assert_int_equal(loop_run_once(l, 0, &err), ER_OK);
}

static void loop_after__deadline_order_once_cancel_skipped(void **state)
{
    struct test_clock tc;
    struct log log = {0};
    struct loop *l;
    struct loop_timer *b;

    (void)state;
    test_clock_init(&tc, 1767225600);
    l = loop_new(&tc.clock);
    loop_after(l, 300, fire_c, &log);
    b = loop_after(l, 200, fire_b, &log);
    loop_after(l, 100, fire_a, &log);
    run_rounds(l, 1);
    assert_string_equal(log.order, "");
    test_clock_advance_ms(&tc, 150);
    run_rounds(l, 1);
    assert_string_equal(log.order, "a");
    loop_cancel(l, b);
    test_clock_advance_ms(&tc, 1000);
    run_rounds(l, 3);
    assert_string_equal(log.order, "ac");
    assert_int_equal(loop_timer_count(l), 0);
    loop_free(l);
}

struct rearm {
    struct loop *l;
    int fired;
};

static void rearm_fire(void *ctx)
{
    struct rearm *r = ctx;

    if (++r->fired < 3)
        loop_after(r->l, 0, rearm_fire, r);
}

static void loop_after__handler_rearms__next_round_only(void **state)
{
    struct rearm r = {loop_new(clock_system()), 0};

    (void)state;
    loop_after(r.l, 0, rearm_fire, &r);
    run_rounds(r.l, 1);
    assert_int_equal(r.fired, 1);
    run_rounds(r.l, 2);
    assert_int_equal(r.fired, 3);
    loop_free(r.l);
}

struct reader {
    struct loop *l;
    int reads;
    char got[16];
};

static void on_readable(void *ctx, int fd, int events)
{
    struct reader *r = ctx;
    ssize_t n = read(fd, r->got, sizeof(r->got) - 1);

    assert_true(events & LOOP_READ);
    r->got[n > 0 ? n : 0] = '\0';
    r->reads++;
    loop_watch(r->l, fd, 0, NULL, NULL); /* done with it */
}

static void loop_watch__readable_pipe__handler_called(void **state)
{
    struct reader r = {loop_new(clock_system()), 0, ""};
    struct er_error err;
    int p[2];

    (void)state;
    assert_int_equal(pipe(p), 0);
    loop_watch(r.l, p[0], LOOP_READ, on_readable, &r);
    assert_int_equal(loop_run_once(r.l, 0, &err), ER_OK);
    assert_int_equal(r.reads, 0);
    assert_int_equal(write(p[1], "ping", 4), 4);
    assert_int_equal(loop_run_once(r.l, 1000, &err), ER_OK);
    assert_int_equal(r.reads, 1);
    assert_string_equal(r.got, "ping");
    assert_int_equal(loop_watch_count(r.l), 0);
    close(p[0]);
    close(p[1]);
    loop_free(r.l);
}

static void stop_loop(void *ctx)
{
    loop_stop(ctx);
}

static void loop_run__stop_from_a_timer__returns(void **state)
{
    struct loop *l = loop_new(clock_system());
    struct er_error err;

    (void)state;
    loop_after(l, 10, stop_loop, l);
    assert_int_equal(loop_run(l, &err), ER_OK);
    assert_true(loop_stopping(l));
    loop_free(l);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(loop_after__deadline_order_once_cancel_skipped),
        cmocka_unit_test(loop_after__handler_rearms__next_round_only),
        cmocka_unit_test(loop_watch__readable_pipe__handler_called),
        cmocka_unit_test(loop_run__stop_from_a_timer__returns),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
