#include "tokens.h"
#include "../core/deadline.h"
#include "../core/log.h"
#include "../core/loop.h"
#include "../core/xalloc.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct token_worker {
    struct loop *loop;
    struct aws_session *sess;
    struct str_list ids;
    bool with_public;
    long long fetch_timeout_ms;
    token_result_fn *fn;
    void *ctx;
    pthread_t thread;
    int ask[2];    /* loop -> worker: one byte per fetch, 0 to stop */
    int answer[2]; /* worker -> loop: a struct token_result pointer */
    atomic_bool busy;
    atomic_bool stopping;
};

static struct token_result *fetch(struct token_worker *w)
{
    struct token_result *r = xcalloc(1, sizeof(*r));
    struct deadline d;

    deadline_start(&d, clock_system(), w->fetch_timeout_ms,
                   "the token fetch's limit");
    w->sess->client.deadline = &d;
    r->rc = aws_session_all_tokens(w->sess, w->ids.items, w->ids.n,
                                   w->with_public, &r->tokens, &r->err);
    w->sess->client.deadline = NULL;
    r->fetched_at = clock_now(clock_system());
    return r;
}

static int read_byte(int fd, char *c)
{
    ssize_t n;

    while ((n = read(fd, c, 1)) < 0 && errno == EINTR)
        ;
    return n == 1 ? 0 : -1;
}

static void *run(void *arg)
{
    struct token_worker *w = arg;
    struct token_result *r;
    char c;

    while (read_byte(w->ask[0], &c) == 0 && c != 0) {
        r = fetch(w);
        if (atomic_load(&w->stopping) ||
            write(w->answer[1], &r, sizeof(r)) != (ssize_t)sizeof(r)) {
            ecr_tokens_free(&r->tokens);
            free(r);
            break;
        }
    }
    return NULL;
}

/* On the loop: a result arrived. */
static void on_answer(void *ctx, int fd, int events)
{
    struct token_worker *w = ctx;
    struct token_result *r = NULL;
    ssize_t n = read(fd, &r, sizeof(r));

    (void)events;
    if (n != (ssize_t)sizeof(r))
        return;
    atomic_store(&w->busy, false);
    w->fn(w->ctx, r);
    ecr_tokens_free(&r->tokens); /* whatever the callback left */
    free(r);
}

/* The thread blocks every signal, so SIGTERM and SIGINT reach the loop's
 * thread and never interrupt an AWS call. */
static int start_thread(struct token_worker *w)
{
    sigset_t all, old;
    int e;

    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    e = pthread_create(&w->thread, NULL, run, w);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    return e;
}

static void close_pipes(struct token_worker *w)
{
    for (int i = 0; i < 2; i++) {
        if (w->ask[i] >= 0)
            close(w->ask[i]);
        if (w->answer[i] >= 0)
            close(w->answer[i]);
    }
}

enum er_code token_worker_start(struct loop *loop, struct aws_session *sess,
                                const struct str_list *ids, bool with_public,
                                long long fetch_timeout_ms, token_result_fn *fn,
                                void *ctx, struct token_worker **out,
                                struct er_error *err)
{
    struct token_worker *w = xcalloc(1, sizeof(*w));
    int e = 0;

    w->loop = loop;
    w->sess = sess;
    w->fetch_timeout_ms = fetch_timeout_ms;
    w->with_public = with_public;
    w->fn = fn;
    w->ctx = ctx;
    w->ask[0] = w->ask[1] = w->answer[0] = w->answer[1] = -1;
    for (size_t i = 0; i < ids->n; i++)
        str_list_push(&w->ids, ids->items[i]);
    if (pipe2(w->ask, O_CLOEXEC) != 0 || pipe2(w->answer, O_CLOEXEC) != 0 ||
        (e = start_thread(w)) != 0) {
        enum er_code rc =
            er_set(err, ER_INTERNAL, "starting the AWS worker: %s",
                   strerror(e ? e : errno));
        close_pipes(w);
        str_list_clear(&w->ids);
        free(w);
        return rc;
    }
    loop_watch(loop, w->answer[0], LOOP_READ, on_answer, w);
    *out = w;
    return ER_OK;
}

void token_worker_request(struct token_worker *w)
{
    char c = 1;

    if (atomic_exchange(&w->busy, true))
        return;
    if (write(w->ask[1], &c, 1) != 1)
        log_event(LOG_ERROR, "could not ask the AWS worker for tokens",
                  LOG_END);
}

bool token_worker_busy(const struct token_worker *w)
{
    return atomic_load(&w->busy);
}

bool token_worker_stop(struct token_worker *w)
{
    char c = 0;

    if (!w)
        return false;
    atomic_store(&w->stopping, true);
    loop_watch(w->loop, w->answer[0], 0, NULL, NULL);
    if (write(w->ask[1], &c, 1) != 1 || atomic_load(&w->busy)) {
        /* Mid-fetch: let the thread go; the process is ending. */
        pthread_detach(w->thread);
        return true;
    }
    pthread_join(w->thread, NULL);
    close_pipes(w);
    aws_session_close(w->sess);
    free(w->sess);
    str_list_clear(&w->ids);
    free(w);
    return false;
}
