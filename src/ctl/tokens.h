/*
 * tokens.h - ECR tokens for a long-running command, fetched on a worker
 * thread so that the loop never waits for AWS.
 *
 * The credential chain, STS and ECR calls are blocking code with their
 * own retries; rather than rewrite them for the loop, one worker thread
 * runs them, as ntpd runs its DNS lookups apart. The loop asks for a
 * fetch by writing a byte to a pipe; the worker answers through another
 * pipe the loop watches, and the tokens' ownership moves with the
 * answer. The two share nothing else.
 *
 * Ownership: the worker takes over the session (heap-allocated, opened
 * by the caller, so configuration errors are found before the loop
 * starts) and frees it when it stops.
 */
#ifndef ECR_RENEW_CTL_TOKENS_H
#define ECR_RENEW_CTL_TOKENS_H

#include "../aws/ecr.h"
#include "../aws/session.h"
#include "../core/err.h"
#include "../core/strutil.h"

#include <stdbool.h>
#include <time.h>

struct loop;
struct token_worker;

struct token_result {
    enum er_code rc;
    struct er_error err;      /* when rc is not ER_OK */
    struct ecr_tokens tokens; /* the callback takes them over */
    time_t fetched_at;
};

typedef void token_result_fn(void *ctx, struct token_result *r);

/* Starts the thread. Each fetch is one aws_session_all_tokens for ids
 * (and ECR Public with_public), with its own deadline of
 * fetch_timeout_ms. */
enum er_code token_worker_start(struct loop *loop, struct aws_session *sess,
                                const struct str_list *ids, bool with_public,
                                long long fetch_timeout_ms, token_result_fn *fn,
                                void *ctx, struct token_worker **out,
                                struct er_error *err) ER_CHECK;

/* Asks for a fetch. While one is running, asking again does nothing. */
void token_worker_request(struct token_worker *w);

/* True while a fetch is asked for or running. */
bool token_worker_busy(const struct token_worker *w);

/* Stops the worker. A fetch in progress is abandoned: the thread is let
 * go, so stopping never waits for AWS, and true is returned: the
 * process must then end with _exit, since the thread may still be using
 * libcurl and OpenSSL that exit's cleanup would tear down. */
bool token_worker_stop(struct token_worker *w);

#endif
