#include "test_util.h"
#include "core/xalloc.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

char *test_read_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    char *data;
    long n;

    if (!f)
        fail_msg("cannot open %s", path);
    fseek(f, 0, SEEK_END);
    n = ftell(f);
    fseek(f, 0, SEEK_SET);
    data = xmalloc((size_t)n + 1);
    if (fread(data, 1, (size_t)n, f) != (size_t)n)
        fail_msg("cannot read %s", path);
    data[n] = '\0';
    fclose(f);
    return data;
}

static char temp_dir[64];

static void remove_temp_dir(void)
{
    char *cmd = xasprintf("rm -rf '%s'", temp_dir);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", temp_dir);
    free(cmd);
}

const char *test_temp_dir(void)
{
    if (!temp_dir[0]) {
        snprintf(temp_dir, sizeof(temp_dir), "/tmp/ecr-renew-test.XXXXXX");
        if (!mkdtemp(temp_dir))
            fail_msg("mkdtemp failed");
        atexit(remove_temp_dir);
    }
    return temp_dir;
}

char *test_temp_path(const char *name)
{
    return xasprintf("%s/%s", test_temp_dir(), name);
}

char *test_write_temp(const char *name, const char *text)
{
    char *path = test_temp_path(name);
    FILE *f;

    f = fopen(path, "wb");
    if (!f)
        fail_msg("cannot create %s", path);
    fputs(text, f);
    fclose(f);
    return path;
}

static time_t tc_now(void *ctx)
{
    return ((struct test_clock *)ctx)->now;
}

static long long tc_mono(void *ctx)
{
    return ((struct test_clock *)ctx)->mono_ms;
}

static void tc_sleep(void *ctx, long ms)
{
    struct test_clock *tc = ctx;

    tc->slept_ms += ms;
    test_clock_advance_ms(tc, ms);
}

static double tc_random(void *ctx)
{
    (void)ctx;
    return 0.5;
}

static long long tc_wall_us(void *ctx)
{
    struct test_clock *tc = ctx;

    return (long long)tc->now * 1000000 + tc->wall_carry_ms * 1000;
}

void test_clock_init(struct test_clock *tc, time_t now)
{
    memset(tc, 0, sizeof(*tc));
    tc->now = now;
    tc->mono_ms = 1000000;
    tc->clock = (struct clock){
        .now = tc_now,
        .wall_us = tc_wall_us,
        .mono_ms = tc_mono,
        .sleep_ms = tc_sleep,
        .random01 = tc_random,
        .ctx = tc,
    };
}

void test_clock_advance_ms(struct test_clock *tc, long long ms)
{
    tc->mono_ms += ms;
    tc->wall_carry_ms += ms;
    tc->now += (time_t)(tc->wall_carry_ms / 1000);
    tc->wall_carry_ms %= 1000;
}

/* Reads up to the blank line that ends the head; bodies are ignored
 * (tests send none, or small ones the next read would swallow). */
static char *read_head(int c)
{
    char buf[16384];
    size_t n = 0;
    ssize_t got;

    while (n + 1 < sizeof(buf) &&
           (got = read(c, buf + n, sizeof(buf) - 1 - n)) > 0) {
        n += (size_t)got;
        buf[n] = '\0';
        if (strstr(buf, "\r\n\r\n"))
            break;
    }
    buf[n] = '\0';
    return xstrdup(buf);
}

static void *test_serve(void *arg)
{
    struct test_server *s = arg;
    int c;

    while ((c = accept(s->fd, NULL, NULL)) >= 0) {
        char *head = read_head(c), *answer;

        pthread_mutex_lock(s->mu);
        s->requests++;
        answer = s->answer(s, head);
        pthread_mutex_unlock(s->mu);
        if (write(c, answer, strlen(answer)) < 0)
            perror("test server write");
        free(answer);
        free(head);
        close(c);
    }
    return NULL;
}

void test_server_start(struct test_server *s,
                       char *(*answer)(struct test_server *s, const char *head),
                       void *ctx)
{
    struct sockaddr_in a = {0};
    socklen_t len = sizeof(a);

    memset(s, 0, sizeof(*s));
    s->answer = answer;
    s->ctx = ctx;
    s->mu = xcalloc(1, sizeof(pthread_mutex_t));
    s->thread = xcalloc(1, sizeof(pthread_t));
    pthread_mutex_init(s->mu, NULL);
    s->fd = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(s->fd >= 0);
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(bind(s->fd, (struct sockaddr *)&a, sizeof(a)), 0);
    assert_int_equal(listen(s->fd, 16), 0);
    assert_int_equal(getsockname(s->fd, (struct sockaddr *)&a, &len), 0);
    s->port = ntohs(a.sin_port);
    assert_int_equal(pthread_create(s->thread, NULL, test_serve, s), 0);
}

void test_server_stop(struct test_server *s)
{
    shutdown(s->fd, SHUT_RDWR); /* makes accept() return */
    pthread_join(*(pthread_t *)s->thread, NULL);
    close(s->fd);
    pthread_mutex_destroy(s->mu);
    free(s->mu);
    free(s->thread);
}

int test_server_requests(struct test_server *s)
{
    int n;

    pthread_mutex_lock(s->mu);
    n = s->requests;
    pthread_mutex_unlock(s->mu);
    return n;
}

const char *test_server_url(struct test_server *s)
{
    static char url[64];

    snprintf(url, sizeof(url), "http://127.0.0.1:%d", s->port);
    return url;
}
