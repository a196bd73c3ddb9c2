/*
 * Many transfers at once on the loop: each ends with one on_done, a
 * stream's body reaches its consumer as it comes, a consumer can stop
 * it, a cancelled transfer never calls back, and a bad header is
 * refused through on_done rather than sent.
 */
#include "core/loop.h"
#include "core/xalloc.h"
#include "net/http.h"
#include "test_assert.h"
#include "test_util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char *answer(struct test_server *s, const char *head)
{
    (void)s;
    if (strstr(head, "GET /stream"))
        return xstrdup("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n"
                       "Connection: close\r\n\r\n"
                       "6\r\nline1\n\r\n7\r\nline2\nl\r\n5\r\nine3\n\r\n"
                       "0\r\n\r\n");
    if (strstr(head, "GET /missing"))
        return xstrdup("HTTP/1.1 404 Not Found\r\nContent-Length: 7\r\n"
                       "Connection: close\r\n\r\nmissing");
    return xstrdup("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n"
                   "Connection: close\r\n\r\nhello");
}

struct outcome {
    int calls;
    enum er_code rc;
    long status;
    char body[256];
    char err[ER_MSG_MAX];
    char streamed[256];
    int chunks;
    bool stop_after_first;
};

static void on_done(void *ctx, enum er_code rc, struct http_response *resp,
                    const struct er_error *err)
{
    struct outcome *o = ctx;

    o->calls++;
    o->rc = rc;
    o->status = resp->status;
    snprintf(o->body, sizeof(o->body), "%s", buf_str(&resp->body));
    snprintf(o->err, sizeof(o->err), "%s", rc == ER_OK ? "" : err->msg);
}

static bool on_data(void *ctx, const char *data, size_t n, char *why)
{
    struct outcome *o = ctx;
    size_t have = strlen(o->streamed);

    o->chunks++;
    snprintf(o->streamed + have, sizeof(o->streamed) - have, "%.*s", (int)n,
             data);
    if (o->stop_after_first) {
        snprintf(why, ER_MSG_MAX, "the reader had enough");
        return false;
    }
    return true;
}

struct fixture {
    struct test_server sv;
    struct loop *loop;
    struct http_multi *m;
};

static void start(struct fixture *f)
{
    test_server_start(&f->sv, answer, NULL);
    f->loop = loop_new(clock_system());
    f->m = http_multi_new(f->loop, NULL);
}

static void stop(struct fixture *f)
{
    http_multi_free(f->m);
    loop_free(f->loop);
    test_server_stop(&f->sv);
}

static void run_until_idle(struct fixture *f)
{
    struct er_error err;

    for (int i = 0; i < 2000 && http_multi_active(f->m) > 0; i++)
        assert_int_equal(loop_run_once(f->loop, 50, &err), ER_OK);
    assert_int_equal(http_multi_active(f->m), 0);
}

static struct http_transfer *get(struct fixture *f, const char *path,
                                 struct outcome *o, bool stream)
{
    char url[128];
    struct http_request req = {
        .method = "GET", .url = url, .timeout_ms = 5000, .what = "test"};
    struct http_transfer_callbacks cb = {
        .on_data = stream ? on_data : NULL, .on_done = on_done, .ctx = o};

    snprintf(url, sizeof(url), "%s%s", test_server_url(&f->sv), path);
    return http_multi_start(f->m, &req, 4096, &cb);
}

static void http_multi__three_at_once__each_done_once(void **state)
{
    struct fixture f;
    struct outcome a = {0}, b = {0}, c = {0};

    (void)state;
    start(&f);
    get(&f, "/one", &a, false);
    get(&f, "/two", &b, false);
    get(&f, "/missing", &c, false);
    assert_int_equal(http_multi_active(f.m), 3);
    assert_int_equal(a.calls + b.calls + c.calls, 0); /* never inline */
    run_until_idle(&f);
    assert_int_equal(a.calls, 1);
    assert_int_equal(b.calls, 1);
    assert_int_equal(c.calls, 1);
    assert_string_equal(a.body, "hello");
    assert_int_equal(c.status, 404);
    assert_string_equal(c.body, "missing");
    assert_int_equal(test_server_requests(&f.sv), 3);
    stop(&f);
}

static void http_multi__stream__bytes_to_consumer_not_body(void **state)
{
    struct fixture f;
    struct outcome o = {0};

    (void)state;
    start(&f);
    get(&f, "/stream", &o, true);
    run_until_idle(&f);
    assert_int_equal(o.calls, 1);
    assert_int_equal(o.rc, ER_OK);
    assert_string_equal(o.streamed, "line1\nline2\nline3\n");
    assert_string_equal(o.body, "");
    stop(&f);
}

static void http_multi__consumer_stops__reason_reported(void **state)
{
    struct fixture f;
    struct outcome o = {.stop_after_first = true};

    (void)state;
    start(&f);
    get(&f, "/stream", &o, true);
    run_until_idle(&f);
    assert_int_equal(o.calls, 1);
    assert_int_equal(o.rc, ER_NETWORK);
    assert_contains(o.err, "the reader had enough");
    stop(&f);
}

static void http_multi__cancelled__never_calls_back(void **state)
{
    struct fixture f;
    struct outcome a = {0}, b = {0};
    struct http_transfer *t;

    (void)state;
    start(&f);
    t = get(&f, "/one", &a, false);
    get(&f, "/two", &b, false);
    http_transfer_cancel(f.m, t);
    run_until_idle(&f);
    assert_int_equal(a.calls, 0);
    assert_int_equal(b.calls, 1);
    stop(&f);
}

static void http_multi__smuggled_header__refused_through_on_done(void **s)
{
    struct fixture f;
    struct outcome o = {0};
    struct http_header h[] = {{"Authorization", "Bearer x\r\nX-Evil: 1"}};
    struct http_request req = {.method = "GET",
                               .headers = h,
                               .n_headers = 1,
                               .timeout_ms = 5000,
                               .what = "test"};
    struct http_transfer_callbacks cb = {.on_done = on_done, .ctx = &o};
    char url[128];

    (void)s;
    start(&f);
    snprintf(url, sizeof(url), "%s/one", test_server_url(&f.sv));
    req.url = url;
    http_multi_start(f.m, &req, 4096, &cb);
    assert_int_equal(o.calls, 0);
    run_until_idle(&f);
    assert_int_equal(o.calls, 1);
    assert_int_equal(o.rc, ER_INTERNAL);
    assert_contains(o.err, "refusing to send header Authorization");
    assert_int_equal(test_server_requests(&f.sv), 0);
    stop(&f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(http_multi__three_at_once__each_done_once),
        cmocka_unit_test(http_multi__stream__bytes_to_consumer_not_body),
        cmocka_unit_test(http_multi__consumer_stops__reason_reported),
        cmocka_unit_test(http_multi__cancelled__never_calls_back),
        cmocka_unit_test(http_multi__smuggled_header__refused_through_on_done),
    };
    http_global_init();
    return cmocka_run_group_tests(tests, NULL, NULL);
}
