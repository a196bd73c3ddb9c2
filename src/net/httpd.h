/*
 * httpd.h - the health and metrics endpoint: a small HTTP server on the
 * loop.
 *
 * libmicrohttpd runs in its external-poll mode: its epoll descriptor is
 * one more watch of the loop and its timeouts one more timer, so it
 * answers whatever else is in progress, and it never starts a thread.
 * Only GET and HEAD are answered; requests are short (a few KiB of
 * headers at most, no bodies) and connections few.
 *
 * Ownership: the handler fills a reply whose body the server frees.
 */
#ifndef ECR_RENEW_NET_HTTPD_H
#define ECR_RENEW_NET_HTTPD_H

#include "../core/err.h"

#include <stddef.h>

struct loop;
struct httpd;

struct httpd_reply {
    int status;               /* 200 */
    const char *content_type; /* static text */
    char *body;               /* newly allocated; freed by the server */
};

/* Called for each GET (or HEAD) with its path (the query cut off). */
typedef void httpd_handler(void *ctx, const char *path,
                           struct httpd_reply *reply);

/* Listens on addr ("[host]:port", ":8080" for every address, port 0 for
 * any free one). ER_USAGE for an address that is not one, ER_CONFIG when
 * it cannot be bound ("--listen :8080: bind: Address in use"). */
enum er_code httpd_start(struct loop *loop, const char *addr,
                         httpd_handler *handler, void *ctx, struct httpd **out,
                         struct er_error *err) ER_CHECK;

void httpd_stop(struct httpd *d);

/* "127.0.0.1:8080", "[::]:8080": where it listens, for the log. */
const char *httpd_address(const struct httpd *d);

#endif
