#include "httpd.h"
#include "../core/loop.h"
#include "../core/strutil.h"
#include "../core/xalloc.h"

#include <arpa/inet.h>
#include <errno.h>
#include <microhttpd.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define HTTPD_CONNECTIONS 32
#define HTTPD_IDLE_SECONDS 10

struct httpd {
    struct loop *loop;
    struct MHD_Daemon *daemon;
    struct loop_timer *timer;
    httpd_handler *handler;
    void *ctx;
    int epoll_fd;
    char address[80];
};

/* --- the listening socket ------------------------------------------------ */

/* "host:port", "[v6]:port" or ":port" into host (NULL: every address)
 * and port. */
static enum er_code split_addr(const char *addr, char *host, size_t cap,
                               long *port, struct er_error *err)
{
    const char *colon = strrchr(addr, ':');
    size_t n;

    if (!colon || str_to_long(colon + 1, 0, 65535, port) != 0)
        return er_set(err, ER_USAGE,
                      "--listen \"%s\" is not [HOST]:PORT (such as :8080 or "
                      "127.0.0.1:9000), nor off",
                      addr);
    n = (size_t)(colon - addr);
    if (n >= 2 && addr[0] == '[' && addr[n - 1] == ']') {
        addr++;
        n -= 2;
    }
    if (n >= cap)
        return er_set(err, ER_USAGE, "--listen \"%s\": host too long", addr);
    memcpy(host, addr, n);
    host[n] = '\0';
    return ER_OK;
}

static int try_bind(const struct addrinfo *ai)
{
    int one = 1, zero = 0;
    int fd =
        socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);

    if (fd < 0)
        return -1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    /* ":port" means every address, IPv4 included. */
    if (ai->ai_family == AF_INET6)
        setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof(zero));
    if (bind(fd, ai->ai_addr, ai->ai_addrlen) != 0 || listen(fd, 16) != 0) {
        int e = errno;
        close(fd);
        errno = e;
        return -1;
    }
    return fd;
}

static enum er_code open_socket(const char *addr, int *out,
                                struct er_error *err)
{
    struct addrinfo hints = {.ai_socktype = SOCK_STREAM,
                             .ai_flags = AI_PASSIVE | AI_NUMERICSERV};
    struct addrinfo *res = NULL;
    char host[64], port_text[8];
    long port;
    enum er_code rc;
    int fd = -1, e = 0, gai;

    if ((rc = split_addr(addr, host, sizeof(host), &port, err)) != ER_OK)
        return rc;
    snprintf(port_text, sizeof(port_text), "%ld", port);
    gai = getaddrinfo(host[0] ? host : NULL, port_text, &hints, &res);
    if (gai != 0)
        return er_set(err, ER_USAGE, "--listen \"%s\": %s", addr,
                      gai_strerror(gai));
    /* Without a host, AI_PASSIVE gives :: before 0.0.0.0 where IPv6 is. */
    for (struct addrinfo *ai = res; ai && fd < 0; ai = ai->ai_next) {
        fd = try_bind(ai);
        e = errno;
    }
    freeaddrinfo(res);
    if (fd < 0)
        return er_set(err, ER_CONFIG, "--listen %s: bind: %s", addr,
                      strerror(e));
    *out = fd;
    return ER_OK;
}

static void name_socket(struct httpd *d, int fd)
{
    struct sockaddr_storage ss;
    socklen_t len = sizeof(ss);
    char host[INET6_ADDRSTRLEN] = "?";
    int port = 0;

    if (getsockname(fd, (struct sockaddr *)&ss, &len) != 0)
        return;
    if (ss.ss_family == AF_INET6) {
        struct sockaddr_in6 *a = (struct sockaddr_in6 *)&ss;
        inet_ntop(AF_INET6, &a->sin6_addr, host, sizeof(host));
        port = ntohs(a->sin6_port);
        snprintf(d->address, sizeof(d->address), "[%s]:%d", host, port);
    } else {
        struct sockaddr_in *a = (struct sockaddr_in *)&ss;
        inet_ntop(AF_INET, &a->sin_addr, host, sizeof(host));
        port = ntohs(a->sin_port);
        snprintf(d->address, sizeof(d->address), "%s:%d", host, port);
    }
}

/* --- answering ------------------------------------------------------------ */

static enum MHD_Result queue(struct MHD_Connection *c, int status,
                             const char *type, const char *body)
{
    struct MHD_Response *r = MHD_create_response_from_buffer(
        strlen(body), (void *)body, MHD_RESPMEM_MUST_COPY);
    enum MHD_Result ok;

    MHD_add_response_header(r, "Content-Type", type);
    MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
    MHD_add_response_header(r, "Cache-Control", "no-store");
    ok = MHD_queue_response(c, (unsigned)status, r);
    MHD_destroy_response(r);
    return ok;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c,
                                  const char *url, const char *method,
                                  const char *version, const char *upload,
                                  size_t *upload_size, void **state)
{
    struct httpd *d = cls;
    struct httpd_reply reply = {404, "text/plain; charset=utf-8", NULL};
    enum MHD_Result ok;

    (void)version;
    (void)upload;
    (void)state;
    if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0)
        return queue(c, 405, "text/plain; charset=utf-8",
                     "method not allowed\n");
    if (*upload_size != 0) {
        *upload_size = 0;
        return MHD_YES;
    }
    d->handler(d->ctx, url, &reply);
    ok = queue(c, reply.status, reply.content_type,
               reply.body ? reply.body : "not found\n");
    free(reply.body);
    return ok;
}

/* --- on the loop --------------------------------------------------------- */

static void run_daemon(struct httpd *d);

static void on_timer(void *ctx)
{
    struct httpd *d = ctx;

    d->timer = NULL;
    run_daemon(d);
}

static void on_ready(void *ctx, int fd, int events)
{
    (void)fd;
    (void)events;
    run_daemon(ctx);
}

/* Does what is ready, then asks libmicrohttpd when it next wants to run
 * (an idle connection to close). */
static void run_daemon(struct httpd *d)
{
    MHD_UNSIGNED_LONG_LONG ms;

    MHD_run(d->daemon);
    loop_cancel(d->loop, d->timer);
    d->timer = NULL;
    if (MHD_get_timeout(d->daemon, &ms) == MHD_YES)
        d->timer = loop_after(d->loop, (long long)ms, on_timer, d);
}

enum er_code httpd_start(struct loop *loop, const char *addr,
                         httpd_handler *handler, void *ctx, struct httpd **out,
                         struct er_error *err)
{
    struct httpd *d;
    const union MHD_DaemonInfo *info;
    enum er_code rc;
    int fd = -1;

    if ((rc = open_socket(addr, &fd, err)) != ER_OK)
        return rc;
    d = xcalloc(1, sizeof(*d));
    d->loop = loop;
    d->handler = handler;
    d->ctx = ctx;
    name_socket(d, fd);
    d->daemon = MHD_start_daemon(
        MHD_USE_EPOLL, 0, NULL, NULL, on_request, d, MHD_OPTION_LISTEN_SOCKET,
        fd, MHD_OPTION_CONNECTION_LIMIT, (unsigned)HTTPD_CONNECTIONS,
        MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)HTTPD_IDLE_SECONDS,
        MHD_OPTION_END);
    info = d->daemon ? MHD_get_daemon_info(d->daemon, MHD_DAEMON_INFO_EPOLL_FD)
                     : NULL;
    if (!info) {
        if (d->daemon)
            MHD_stop_daemon(d->daemon);
        close(fd);
        free(d);
        return er_set(err, ER_INTERNAL,
                      "--listen %s: the HTTP server did not "
                      "start",
                      addr);
    }
    d->epoll_fd = info->epoll_fd;
    loop_watch(loop, d->epoll_fd, LOOP_READ, on_ready, d);
    run_daemon(d);
    *out = d;
    return ER_OK;
}

void httpd_stop(struct httpd *d)
{
    if (!d)
        return;
    loop_watch(d->loop, d->epoll_fd, 0, NULL, NULL);
    loop_cancel(d->loop, d->timer);
    MHD_stop_daemon(d->daemon); /* closes the listening socket too */
    free(d);
}

const char *httpd_address(const struct httpd *d)
{
    return d->address;
}
