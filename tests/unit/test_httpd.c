/*
 * The health and metrics endpoint on the loop: it answers GETs through
 * its handler, refuses other methods, and says where it listens; a bad
 * --listen value is a usage error.
 */
#include "core/loop.h"
#include "core/xalloc.h"
#include "net/http.h"
#include "net/httpd.h"
#include "test_assert.h"
#include "test_util.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void handler(void *ctx, const char *path, struct httpd_reply *reply)
{
    (*(int *)ctx)++;
    if (strcmp(path, "/healthz") == 0) {
        reply->status = 200;
        reply->body = xstrdup("ok\n");
    }
}

struct client {
    char url[128];
    char method[8];
    long status;
    char body[64];
};

/* The client runs on its own thread while the test turns the loop. */
static void *fetch(void *arg)
{
    struct client *c = arg;
    struct http_client *h = http_client_new(NULL);
    struct http_request req = {
        .method = c->method, .url = c->url, .timeout_ms = 5000};
    struct http_response resp = {0};
    struct er_error err;

    buf_init(&resp.body, 4096, BUF_PLAIN);
    if (http_do(h, &req, &resp, &err) == ER_OK) {
        c->status = resp.status;
        snprintf(c->body, sizeof(c->body), "%s", buf_str(&resp.body));
    }
    http_response_free(&resp);
    http_client_free(h);
    return NULL;
}

static void ask(struct loop *l, struct httpd *d, const char *method,
                const char *path, struct client *c)
{
    pthread_t t;
    struct er_error err;

    memset(c, 0, sizeof(*c));
    snprintf(c->method, sizeof(c->method), "%s", method);
    snprintf(c->url, sizeof(c->url), "http://%s%s", httpd_address(d), path);
    assert_int_equal(pthread_create(&t, NULL, fetch, c), 0);
    for (int i = 0; i < 100 && c->status == 0; i++)
        assert_int_equal(loop_run_once(l, 20, &err), ER_OK);
    pthread_join(t, NULL);
}

static void httpd__get__handler_answers(void **state)
{
    struct loop *l = loop_new(clock_system());
    struct httpd *d = NULL;
    struct er_error err;
    struct client c;
    int calls = 0;

    (void)state;
    assert_int_equal(httpd_start(l, "127.0.0.1:0", handler, &calls, &d, &err),
                     ER_OK);
    assert_contains(httpd_address(d), "127.0.0.1:");
    ask(l, d, "GET", "/healthz", &c);
    assert_int_equal(c.status, 200);
    assert_string_equal(c.body, "ok\n");
    ask(l, d, "GET", "/nothing?x=1", &c);
    assert_int_equal(c.status, 404);
    ask(l, d, "POST", "/healthz", &c);
    assert_int_equal(c.status, 405);
    assert_int_equal(calls, 2);
    httpd_stop(d);
    loop_free(l);
}

static void httpd_start__bad_address__usage_error(void **state)
{
    struct loop *l = loop_new(clock_system());
    struct httpd *d = NULL;
    struct er_error err;
    int calls = 0;

    (void)state;
    assert_int_equal(httpd_start(l, "8080", handler, &calls, &d, &err),
                     ER_USAGE);
    assert_contains(err.msg, "is not [HOST]:PORT");
    assert_int_equal(httpd_start(l, ":99999", handler, &calls, &d, &err),
                     ER_USAGE);
    assert_int_equal(
        httpd_start(l, "203.0.113.7:8080", handler, &calls, &d, &err),
        ER_CONFIG);
    assert_contains(err.msg, "bind:");
    loop_free(l);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(httpd__get__handler_answers),
        cmocka_unit_test(httpd_start__bad_address__usage_error),
    };
    http_global_init();
    return cmocka_run_group_tests(tests, NULL, NULL);
}
