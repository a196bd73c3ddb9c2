#include "leader.h"
#include "../core/log.h"
#include "../core/loop.h"
#include "../core/xalloc.h"
#include "../kube/lease.h"

#include <stdlib.h>
#include <string.h>

struct leader {
    struct loop *loop;
    struct kube_client *kc;
    struct lease_elector e;
    leader_change_fn *fn;
    void *ctx;
    bool told_leading; /* what fn was last told */
    struct kube_pending *pending;
    struct loop_timer *round, *deadline, *finish;
    void (*done)(void *ctx);
    void *done_ctx;
    bool logged_trouble;
};

static void schedule_round(struct leader *l);
static void step(struct leader *l);

static void finish_release(void *ctx)
{
    struct leader *l = ctx;

    l->finish = NULL;
    if (l->done)
        l->done(l->done_ctx);
}

/* Tells fn when leadership changed, and keeps the deadline timer. */
static void check_deadline(void *ctx);

static void notice(struct leader *l)
{
    long long now = loop_now_ms(l->loop);
    /* Giving the Lease up is not leading, even before the PUT lands. */
    bool leading = !l->e.releasing && lease_leading(&l->e, now);

    loop_cancel(l->loop, l->deadline);
    l->deadline = NULL;
    if (leading)
        l->deadline =
            loop_after(l->loop, l->e.renewed_ms + l->e.renew_deadline_ms - now,
                       check_deadline, l);
    if (leading == l->told_leading)
        return;
    l->told_leading = leading;
    log_event(leading ? LOG_INFO : LOG_WARN,
              leading ? "became leader" : "stopped leading", "lease", l->e.path,
              "identity", l->e.identity, LOG_END);
    l->fn(l->ctx, leading);
}

static void check_deadline(void *ctx)
{
    struct leader *l = ctx;

    l->deadline = NULL;
    notice(l);
}

static void report_trouble(struct leader *l)
{
    if (l->e.trouble.code == ER_OK) {
        l->logged_trouble = false;
        return;
    }
    /* Once per spell of trouble: rounds come every 2 s. */
    if (!l->logged_trouble)
        log_event(LOG_WARN, "lease round failed; retrying", "error",
                  l->e.trouble.msg, LOG_END);
    l->logged_trouble = true;
}

static void answered(void *ctx, enum er_code rc, struct kube_response *r,
                     const struct er_error *err)
{
    struct leader *l = ctx;
    long long now = loop_now_ms(l->loop);

    l->pending = NULL;
    if (rc == ER_OK)
        lease_answer(&l->e, now, r);
    else
        lease_fail(&l->e, err);
    step(l);
}

static void step(struct leader *l)
{
    struct kube_sync_request req;
    struct kube_call call;

    if (!lease_next(&l->e, loop_now_ms(l->loop),
                    clock_wall_us(loop_clock(l->loop)), &req)) {
        notice(l);
        report_trouble(l);
        if (l->e.step == LEASE_DONE)
            l->finish = loop_after(l->loop, 0, finish_release, l);
        else
            schedule_round(l);
        return;
    }
    call = (struct kube_call){.method = req.method,
                              .path = req.path,
                              .body = req.body,
                              .timeout_ms = LEASE_REQUEST_TIMEOUT_MS,
                              .max_tries = 1};
    l->pending = kube_start(l->kc, l->loop, &call, answered, l);
}

static void begin_round(void *ctx)
{
    struct leader *l = ctx;

    l->round = NULL;
    lease_begin_round(&l->e, loop_now_ms(l->loop));
    notice(l); /* the deadline may have passed between rounds */
    step(l);
}

static void schedule_round(struct leader *l)
{
    const struct clock *c = loop_clock(l->loop);

    l->round = loop_after(
        l->loop,
        lease_wait_ms(&l->e, loop_now_ms(l->loop), c->random01(c->ctx)),
        begin_round, l);
}

struct leader *leader_new(struct loop *loop, struct kube_client *kc,
                          const char *ns, const char *name,
                          const char *identity, leader_change_fn *fn, void *ctx)
{
    struct leader *l = xcalloc(1, sizeof(*l));

    l->loop = loop;
    l->kc = kc;
    l->fn = fn;
    l->ctx = ctx;
    lease_elector_init(&l->e, ns, name, identity);
    return l;
}

void leader_start(struct leader *l)
{
    log_event(LOG_INFO, "leader election", "lease", l->e.path, "identity",
              l->e.identity, LOG_END);
    l->round = loop_after(l->loop, 0, begin_round, l);
}

bool leader_leading(const struct leader *l)
{
    return l->told_leading && lease_leading(&l->e, loop_now_ms(l->loop));
}

void leader_release(struct leader *l, void (*done)(void *ctx), void *ctx)
{
    l->done = done;
    l->done_ctx = ctx;
    lease_release(&l->e);
    if (l->told_leading) {
        l->told_leading = false;
        l->fn(l->ctx, false);
    }
    /* A round in flight is abandoned; the release starts now. */
    kube_cancel(l->kc, l->pending);
    l->pending = NULL;
    loop_cancel(l->loop, l->round);
    l->round = NULL;
    loop_cancel(l->loop, l->deadline);
    l->deadline = NULL;
    l->e.step = LEASE_IDLE;
    l->round = loop_after(l->loop, 0, begin_round, l);
}

const char *leader_identity(const struct leader *l)
{
    return l->e.identity;
}

void leader_free(struct leader *l)
{
    if (!l)
        return;
    kube_cancel(l->kc, l->pending);
    loop_cancel(l->loop, l->round);
    loop_cancel(l->loop, l->deadline);
    loop_cancel(l->loop, l->finish);
    lease_elector_free(&l->e);
    free(l);
}
