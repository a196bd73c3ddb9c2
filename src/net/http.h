/*
 * http.h - the one door to the network (the only user of libcurl).
 *
 * A struct http_client owns one libcurl easy handle, so consecutive
 * requests to the same host reuse one TCP/TLS connection. TLS
 * verification is always on unless settings.insecure is set by the caller,
 * which only happens when a user asks for it explicitly.
 *
 * Proxies follow libcurl's environment rules: HTTPS_PROXY / https_proxy,
 * http_proxy, NO_PROXY / no_proxy.
 *
 * Ownership: http_client_new copies nothing it is given; the strings in
 * struct http_settings must outlive the client. Responses own their memory and
 * are released with http_response_free.
 */
#ifndef ECR_RENEW_NET_HTTP_H
#define ECR_RENEW_NET_HTTP_H

#include "../core/buf.h"
#include "../core/deadline.h"
#include "../core/err.h"

#include <stdbool.h>
#include <stddef.h>

/* How to reach a server: TLS trust and identity, and an optional proxy. */
struct http_settings {
    const char *ca_file;          /* PEM bundle to trust instead of system */
    const char *ca_pem;           /* ...or the PEM text itself */
    const char *ca_dir;           /* ...or a hashed directory (c_rehash) */
    const char *client_cert_file; /* client certificate (PEM) */
    const char *client_cert_pem;
    const char *client_key_file; /* its private key (PEM) */
    const char *client_key_pem;  /* secret */
    const char *server_name;     /* name to verify instead of the URL's */
    bool insecure;               /* skip verification: only on request */
    const char *proxy;           /* proxy URL; NULL: libcurl's env rules */
};

struct http_header {
    const char *name;
    const char *value;
};

struct http_request {
    const char *method;
    const char *url; /* may hold userinfo: messages show it redacted */
    const struct http_header *headers; /* values free of control chars */
    size_t n_headers;
    const char *body;
    size_t body_len;
    long timeout_ms; /* whole request; 0 means HTTP_DEFAULT_TIMEOUT_MS */
    const struct deadline *deadline; /* shortens every timeout; may be NULL */
    const char
        *what; /* names the call in errors: "ECR GetAuthorizationToken" */
};

#define HTTP_DEFAULT_TIMEOUT_MS 30000L
/* A transfer slower than this many bytes a second, for this long, has
 * stalled and is abandoned, whatever time is left: no real answer trickles
 * in a byte at a time. */
#define HTTP_STALL_BYTES_PER_SECOND 10L
#define HTTP_STALL_SECONDS 20L
/* The most response headers a real answer has: a peer sending more is
 * refused rather than buffered. */
#define HTTP_MAX_HEADER_BYTES (64u * 1024)

struct http_response_header {
    char *name; /* lower case */
    char *value;
};

struct http_response {
    long status;
    struct buf body; /* initialise with buf_init (BUF_SECRET if needed) */
    struct http_response_header *headers;
    size_t n_headers;
};

struct http_client;

/* settings may be NULL for system defaults. Never returns NULL. */
struct http_client *http_client_new(const struct http_settings *settings);
void http_client_free(struct http_client *c);

/* Performs one request. Network-level failures (DNS, connect, TLS,
 * timeout, a stalled or dropped connection, a deadline that passed)
 * return ER_NETWORK, and answers larger than resp->body's cap or
 * HTTP_MAX_HEADER_BYTES ER_PARSE (asking again would not help), with a
 * message naming the call and the URL (userinfo redacted); any HTTP status,
 * including 4xx and 5xx, is a success at this level and is left to the caller
 * to judge. A header value holding a control character is never sent
 * (ER_INTERNAL: its source should have refused it). resp->body must be
 * initialised by the caller. */
enum er_code http_do(struct http_client *c, const struct http_request *req,
                     struct http_response *resp, struct er_error *err) ER_CHECK;

/* A response header's value by case-insensitive name, or NULL. */
const char *http_response_header(const struct http_response *resp,
                                 const char *name);

/* Frees headers and body. */
void http_response_free(struct http_response *resp);

/* How many new connections this client opened (for tests and logs). */
long http_client_connections(const struct http_client *c);

struct http_url {
    char *scheme; /* "https" */
    char *host;   /* "api.ecr.us-east-1.amazonaws.com", IPv6 without [] */
    char *port;   /* NULL when the URL has none */
    char *path;   /* "/" when empty */
    char *query;  /* NULL when absent */
};

/* Splits an absolute URL with libcurl's parser. */
enum er_code http_url_parse(const char *url, struct http_url *out,
                            struct er_error *err) ER_CHECK;
void http_url_free(struct http_url *u);

/* --- many requests at once, on the loop --------------------------------
 *
 * A struct http_multi runs transfers on a struct loop: libcurl's sockets
 * and timers are the loop's watches and timers, so nothing blocks and
 * many requests (and long watch streams) are in flight at once, reusing
 * connections between them. Every transfer ends with exactly one call of
 * its on_done, from the loop (never from inside http_multi_start), unless
 * it is cancelled first.
 *
 * Ownership: the multi copies each request (URL, headers, body; the
 * secret ones wiped when freed) and owns the response it hands to
 * on_done for the duration of the call. The loop and the settings'
 * strings are borrowed and must outlive the multi.
 */
struct loop;
struct http_multi;
struct http_transfer;

struct http_transfer_callbacks {
    /* Streaming (a watch): 2xx body bytes as they come, instead of being
     * collected; return false to stop the transfer (on_done then reports
     * ER_NETWORK with *why, which is at most ER_MSG_MAX bytes). NULL for
     * an ordinary request. Must not start or cancel transfers. */
    bool (*on_data)(void *ctx, const char *data, size_t n, char *why);
    /* The outcome: ER_OK with the answer (any status), or the failure. */
    void (*on_done)(void *ctx, enum er_code rc, struct http_response *resp,
                    const struct er_error *err);
    void *ctx;
};

struct http_multi *http_multi_new(struct loop *loop,
                                  const struct http_settings *settings);

/* Aborts what is in flight without calling back, and frees. */
void http_multi_free(struct http_multi *m);

/* Starts req (copied); answers up to body_cap bytes are collected. A bad
 * header value is reported through on_done like any failure. */
struct http_transfer *
http_multi_start(struct http_multi *m, const struct http_request *req,
                 size_t body_cap, const struct http_transfer_callbacks *cb);

/* Stops a transfer that has not ended; its on_done is not called. */
void http_transfer_cancel(struct http_multi *m, struct http_transfer *t);

/* Transfers started and not yet ended. */
size_t http_multi_active(const struct http_multi *m);

/* New connections opened so far. */
long http_multi_connections(const struct http_multi *m);

/* "libcurl/7.88.1 OpenSSL/3.0.x ..." for --version. */
const char *http_library_versions(void);

/* Process-wide setup and teardown of libcurl; call once from main. */
void http_global_init(void);
void http_global_cleanup(void);

#endif
