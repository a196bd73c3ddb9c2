#include "http.h"
#include "http_internal.h"
#include "../core/strutil.h"
#include "../core/wipe.h"
#include "../core/xalloc.h"

#include <ctype.h>
#include <curl/curl.h>
#include <openssl/ssl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define HTTP_CONNECT_TIMEOUT_MS 10000L
#define HTTP_MAX_RESPONSE_HEADERS 100

struct http_client {
    CURL *curl;
    struct http_settings tls;
    long connections;
};

void http_global_init(void)
{
    curl_global_init(CURL_GLOBAL_DEFAULT);
}

const char *http_library_versions(void)
{
    return curl_version();
}

void http_global_cleanup(void)
{
    curl_global_cleanup();
}

struct http_client *http_client_new(const struct http_settings *tls)
{
    struct http_client *c = xcalloc(1, sizeof(*c));

    c->curl = curl_easy_init();
    if (!c->curl) {
        fprintf(stderr, "ecr-renew: libcurl could not start\n");
        abort();
    }
    if (tls)
        c->tls = *tls;
    return c;
}

void http_client_free(struct http_client *c)
{
    if (!c)
        return;
    curl_easy_cleanup(c->curl);
    free(c);
}

long http_client_connections(const struct http_client *c)
{
    return c->connections;
}

/* A streamed answer goes to its consumer only when it is a success; an
 * error answer (a Status) is collected like any other, to be read. */
static bool streaming(struct http_transfer_state *t)
{
    long status = 0;

    if (!t->on_data)
        return false;
    curl_easy_getinfo(t->curl, CURLINFO_RESPONSE_CODE, &status);
    return status >= 200 && status < 300;
}

static size_t on_body(char *ptr, size_t size, size_t nmemb, void *userdata)
{
    struct http_transfer_state *t = userdata;
    size_t n = size * nmemb;

    if (streaming(t)) {
        if (!t->on_data(t->ctx, ptr, n, t->consumer_error)) {
            t->refusal = "consumer";
            return 0;
        }
        return n;
    }
    /* Returning less than n makes libcurl fail with CURLE_WRITE_ERROR,
     * which is how an oversized answer is refused. */
    if (buf_add(&t->resp->body, ptr, n) != BUF_OK) {
        t->refusal = "body";
        return 0;
    }
    return n;
}

static void add_response_header(struct http_response *resp, const char *line,
                                size_t n)
{
    const char *colon = memchr(line, ':', n);
    const char *v, *end = line + n;
    struct http_response_header *h;

    if (!colon || resp->n_headers >= HTTP_MAX_RESPONSE_HEADERS)
        return;
    for (v = colon + 1; v < end && (*v == ' ' || *v == '\t'); v++)
        ;
    while (end > v && isspace((unsigned char)end[-1]))
        end--;
    resp->headers =
        xrealloc(resp->headers, (resp->n_headers + 1) * sizeof(*resp->headers));
    h = &resp->headers[resp->n_headers++];
    h->name = xstrndup(line, (size_t)(colon - line));
    for (char *p = h->name; *p; p++)
        *p = (char)tolower((unsigned char)*p);
    h->value = xstrndup(v, (size_t)(end - v));
}

static void clear_headers(struct http_response *resp)
{
    for (size_t i = 0; i < resp->n_headers; i++) {
        free(resp->headers[i].name);
        free(resp->headers[i].value);
    }
    free(resp->headers);
    resp->headers = NULL;
    resp->n_headers = 0;
}

/* libcurl calls this for every header line of every response, including
 * interim 100-continue and proxy CONNECT answers: a status line starts a
 * new set, so only the final response's headers remain. */
static size_t on_header(char *ptr, size_t size, size_t nmemb, void *userdata)
{
    struct http_transfer_state *t = userdata;
    size_t n = size * nmemb;

    t->header_bytes += n;
    if (t->header_bytes > HTTP_MAX_HEADER_BYTES) {
        t->refusal = "headers";
        return 0;
    }
    if (n >= 5 && memcmp(ptr, "HTTP/", 5) == 0)
        clear_headers(t->resp);
    else
        add_response_header(t->resp, ptr, n);
    return n;
}

static void set_blob(CURL *curl, CURLoption opt, const char *pem)
{
    struct curl_blob blob = {(void *)pem, strlen(pem), CURL_BLOB_COPY};

    curl_easy_setopt(curl, opt, &blob);
}

/* OpenSSL keeps two 16 KiB record buffers per connection for its life;
 * a controller keeps a dozen connections open, mostly idle. */
static CURLcode lean_tls(CURL *curl, void *ssl_ctx, void *userptr)
{
    (void)curl;
    (void)userptr;
    SSL_CTX_set_mode((SSL_CTX *)ssl_ctx, SSL_MODE_RELEASE_BUFFERS);
    return CURLE_OK;
}

static void apply_tls(CURL *curl, const struct http_settings *tls)
{
    curl_easy_setopt(curl, CURLOPT_SSL_CTX_FUNCTION, lean_tls);
    if (tls->proxy)
        curl_easy_setopt(curl, CURLOPT_PROXY, tls->proxy);
    /* Each replaces the default trust store rather than adding to it;
     * a directory is read lazily, one certificate per lookup, where a
     * bundle is parsed whole at every handshake. */
    if (tls->ca_dir) {
        curl_easy_setopt(curl, CURLOPT_CAINFO, NULL);
        curl_easy_setopt(curl, CURLOPT_CAPATH, tls->ca_dir);
    }
    if (tls->ca_file) {
        curl_easy_setopt(curl, CURLOPT_CAPATH, NULL);
        curl_easy_setopt(curl, CURLOPT_CAINFO, tls->ca_file);
    }
    if (tls->ca_pem)
        set_blob(curl, CURLOPT_CAINFO_BLOB, tls->ca_pem);
    if (tls->client_cert_file)
        curl_easy_setopt(curl, CURLOPT_SSLCERT, tls->client_cert_file);
    if (tls->client_cert_pem)
        set_blob(curl, CURLOPT_SSLCERT_BLOB, tls->client_cert_pem);
    if (tls->client_key_file)
        curl_easy_setopt(curl, CURLOPT_SSLKEY, tls->client_key_file);
    if (tls->client_key_pem)
        set_blob(curl, CURLOPT_SSLKEY_BLOB, tls->client_key_pem);
    if (tls->client_cert_file || tls->client_cert_pem)
        curl_easy_setopt(curl, CURLOPT_SSLCERTTYPE, "PEM");
    curl_easy_setopt(curl, CURLOPT_SSL_VERIFYPEER, tls->insecure ? 0L : 1L);
    curl_easy_setopt(curl, CURLOPT_SSL_VERIFYHOST, tls->insecure ? 0L : 2L);
}

/* A CR or LF in a value would end the header and start another: the
 * value of a token from a hostile answer could smuggle header lines into
 * a signed request. Sources refuse such values; this is the backstop. */
enum er_code http__check_headers(const struct http_request *req,
                                 const char *what, struct er_error *err)
{
    for (size_t i = 0; i < req->n_headers; i++) {
        if (!str_has_no_controls(req->headers[i].value) ||
            !str_has_no_controls(req->headers[i].name))
            return er_set(err, ER_INTERNAL,
                          "%s: refusing to send header %s, whose value holds "
                          "a control character",
                          what, req->headers[i].name);
    }
    return ER_OK;
}

struct curl_slist *http__build_headers(const struct http_request *req)
{
    struct curl_slist *list = NULL;

    for (size_t i = 0; i < req->n_headers; i++) {
        char *line =
            xasprintf("%s: %s", req->headers[i].name, req->headers[i].value);
        list = curl_slist_append(list, line);
        wipe_free_str(line); /* may carry a session token */
    }
    /* Keep libcurl from adding headers nobody signed or asked for. */
    list = curl_slist_append(list, "Expect:");
    list = curl_slist_append(list, "Accept:");
    return list;
}

/* Wipes the copies libcurl made of our header lines before freeing. */
void http__free_headers(struct curl_slist *list)
{
    for (struct curl_slist *l = list; l; l = l->next)
        wipe_bytes(l->data, strlen(l->data));
    curl_slist_free_all(list);
}

/* tls-server-name: ask libcurl for the server name (so SNI and the
 * certificate check use it) while connecting to the URL's real host. */
enum er_code http__apply_server_name(CURL *curl, const char *url,
                                     const char *server_name,
                                     struct curl_slist **connect_to,
                                     char **effective_url, struct er_error *err)
{
    CURLU *u = curl_url();
    char *host = NULL, *port = NULL, *line;
    enum er_code rc = ER_OK;

    if (curl_url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK ||
        curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK ||
        curl_url_get(u, CURLUPART_PORT, &port, CURLU_DEFAULT_PORT) !=
            CURLUE_OK ||
        curl_url_set(u, CURLUPART_HOST, server_name, 0) != CURLUE_OK ||
        curl_url_get(u, CURLUPART_URL, effective_url, 0) != CURLUE_OK) {
        char *shown = str_url_redacted(url);
        rc = er_set(err, ER_CONFIG, "cannot use tls-server-name %s with %s",
                    server_name, shown);
        free(shown);
        goto out;
    }
    line = xasprintf("%s:%s:%s:%s", server_name, port, host, port);
    *connect_to = curl_slist_append(NULL, line);
    free(line);
    curl_easy_setopt(curl, CURLOPT_CONNECT_TO, *connect_to);
out:
    curl_free(host);
    curl_free(port);
    curl_url_cleanup(u);
    return rc;
}

static void set_method_and_body(CURL *curl, const struct http_request *req)
{
    if (strcmp(req->method, "GET") == 0) {
        curl_easy_setopt(curl, CURLOPT_HTTPGET, 1L);
        return;
    }
    curl_easy_setopt(curl, CURLOPT_POST, 1L);
    curl_easy_setopt(curl, CURLOPT_POSTFIELDS, req->body ? req->body : "");
    curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE,
                     (curl_off_t)(req->body ? req->body_len : 0));
    if (strcmp(req->method, "POST") != 0)
        curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, req->method);
}

/* The request's own limit, shortened to what the deadline leaves. */
static long request_timeout_ms(const struct http_request *req)
{
    long ms = req->timeout_ms > 0 ? req->timeout_ms : HTTP_DEFAULT_TIMEOUT_MS;

    return (long)deadline_clamp_ms(req->deadline, ms);
}

void http__setup_easy(CURL *curl, const struct http_settings *tls,
                      const struct http_request *req,
                      struct http_transfer_state *t, char *errbuf)
{
    long timeout = request_timeout_ms(req);

    curl_easy_reset(curl);
    curl_easy_setopt(curl, CURLOPT_URL, req->url);
    curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(curl, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(curl, CURLOPT_USERAGENT, "ecr-renew/" ECR_RENEW_VERSION);
    curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, errbuf);
    curl_easy_setopt(
        curl, CURLOPT_CONNECTTIMEOUT_MS,
        timeout < HTTP_CONNECT_TIMEOUT_MS ? timeout : HTTP_CONNECT_TIMEOUT_MS);
    curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, timeout);
    /* A stream (a watch) may be quiet for minutes; its end is the
     * server's timeout, and TCP keepalive notices a dead peer. */
    if (!t->on_data) {
        curl_easy_setopt(curl, CURLOPT_LOW_SPEED_LIMIT,
                         HTTP_STALL_BYTES_PER_SECOND);
        curl_easy_setopt(curl, CURLOPT_LOW_SPEED_TIME, HTTP_STALL_SECONDS);
        curl_easy_setopt(curl, CURLOPT_MAXFILESIZE_LARGE,
                         (curl_off_t)t->resp->body.cap);
    }
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(curl, CURLOPT_WRITEDATA, t);
    curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(curl, CURLOPT_HEADERDATA, t);
    curl_easy_setopt(curl, CURLOPT_TCP_KEEPALIVE, 1L);
    /* Over TLS, libcurl copies each request into an upload buffer of its
     * own, 64 KiB by default, kept per handle: 1 MiB for the controller's
     * writes in flight. Our requests are a few KiB; a larger body is sent
     * in 16 KiB pieces, the least libcurl takes. */
    curl_easy_setopt(curl, CURLOPT_UPLOAD_BUFFERSIZE, HTTP_UPLOAD_BUFFER_BYTES);
    t->curl = curl;
    apply_tls(curl, tls);
    set_method_and_body(curl, req);
}

/* Says why a transfer failed, in words an operator can act on. */
enum er_code http__transfer_failed(const struct http_request *req,
                                   const char *what,
                                   const struct http_transfer_state *t,
                                   int code, const char *errbuf,
                                   struct er_error *err)
{
    CURLcode cc = (CURLcode)code;
    char *url = str_url_redacted(req->url);
    const char *detail = errbuf[0] ? errbuf : curl_easy_strerror(cc);
    enum er_code rc;

    if (t->refusal && strcmp(t->refusal, "consumer") == 0)
        rc = er_set(err, ER_NETWORK, "%s %s: %s", what, url,
                    t->consumer_error[0] ? t->consumer_error
                                         : "its reader stopped it");
    else if (t->refusal && strcmp(t->refusal, "body") == 0)
        rc = er_set(err, ER_PARSE,
                    "%s %s: the answer is larger than %zu KiB, more than a "
                    "real one needs; refused it",
                    what, url, t->resp->body.cap / 1024);
    else if (cc == CURLE_FILESIZE_EXCEEDED)
        rc = er_set(err, ER_PARSE,
                    "%s %s: the answer announces more than %zu KiB, more "
                    "than a real one needs; refused it",
                    what, url, t->resp->body.cap / 1024);
    else if (t->refusal || cc == CURLE_OUT_OF_MEMORY)
        rc = er_set(err, ER_PARSE,
                    "%s %s: the answer's headers are larger than %u KiB (or "
                    "one header line is over 100 KiB); refused it",
                    what, url, HTTP_MAX_HEADER_BYTES / 1024);
    else if (cc == CURLE_OPERATION_TIMEDOUT && deadline_passed(req->deadline))
        rc = deadline_error(req->deadline, what, err);
    else if (cc == CURLE_OPERATION_TIMEDOUT)
        rc = er_set(err, ER_NETWORK,
                    "%s %s: %s (no answer in time, or the answer stalled)",
                    what, url, detail);
    else
        rc = er_set(err, ER_NETWORK, "%s %s: %s", what, url, detail);
    free(url);
    return rc;
}

void http__response_reset(struct http_response *resp)
{
    clear_headers(resp);
    buf_reset(&resp->body);
    resp->status = 0;
}

enum er_code http_do(struct http_client *c, const struct http_request *req,
                     struct http_response *resp, struct er_error *err)
{
    const char *what = req->what ? req->what : req->method;
    struct http_transfer_state t = {.resp = resp};
    struct curl_slist *headers = NULL, *connect_to = NULL;
    char *effective_url = NULL, errbuf[CURL_ERROR_SIZE] = "";
    long new_conns = 0;
    enum er_code rc;
    CURLcode cc;

    http__response_reset(resp);
    if ((rc = http__check_headers(req, what, err)) != ER_OK)
        return rc;
    if (deadline_passed(req->deadline))
        return deadline_error(req->deadline, what, err);
    headers = http__build_headers(req);
    http__setup_easy(c->curl, &c->tls, req, &t, errbuf);
    curl_easy_setopt(c->curl, CURLOPT_HTTPHEADER, headers);
    if (c->tls.server_name) {
        rc = http__apply_server_name(c->curl, req->url, c->tls.server_name,
                                     &connect_to, &effective_url, err);
        if (rc != ER_OK)
            goto out;
        curl_easy_setopt(c->curl, CURLOPT_URL, effective_url);
    }
    cc = curl_easy_perform(c->curl);
    curl_easy_getinfo(c->curl, CURLINFO_NUM_CONNECTS, &new_conns);
    c->connections += new_conns;
    if (cc != CURLE_OK) {
        rc = http__transfer_failed(req, what, &t, cc, errbuf, err);
        goto out;
    }
    curl_easy_getinfo(c->curl, CURLINFO_RESPONSE_CODE, &resp->status);
out:
    /* Drop references to the caller's body and headers before they go. */
    curl_easy_setopt(c->curl, CURLOPT_POSTFIELDS, NULL);
    curl_easy_setopt(c->curl, CURLOPT_HTTPHEADER, NULL);
    curl_easy_setopt(c->curl, CURLOPT_ERRORBUFFER, NULL);
    http__free_headers(headers);
    curl_slist_free_all(connect_to);
    curl_free(effective_url);
    return rc;
}

const char *http_response_header(const struct http_response *resp,
                                 const char *name)
{
    for (size_t i = 0; i < resp->n_headers; i++) {
        if (strcasecmp(resp->headers[i].name, name) == 0)
            return resp->headers[i].value;
    }
    return NULL;
}

void http_response_free(struct http_response *resp)
{
    clear_headers(resp);
    buf_free(&resp->body);
    resp->status = 0;
}

static char *url_part(CURLU *u, CURLUPart part, unsigned flags)
{
    char *raw = NULL, *copy = NULL;

    if (curl_url_get(u, part, &raw, flags) == CURLUE_OK && raw)
        copy = xstrdup(raw);
    curl_free(raw);
    return copy;
}

enum er_code http_url_parse(const char *url, struct http_url *out,
                            struct er_error *err)
{
    CURLU *u = curl_url();
    struct http_url parts = {0};

    if (curl_url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK) {
        char *shown = str_url_redacted(url);
        enum er_code rc = er_set(err, ER_USAGE, "invalid URL: %s", shown);
        free(shown);
        curl_url_cleanup(u);
        return rc;
    }
    parts.scheme = url_part(u, CURLUPART_SCHEME, 0);
    parts.host = url_part(u, CURLUPART_HOST, 0);
    parts.port = url_part(u, CURLUPART_PORT, 0);
    parts.path = url_part(u, CURLUPART_PATH, 0);
    parts.query = url_part(u, CURLUPART_QUERY, 0);
    curl_url_cleanup(u);
    if (!parts.path)
        parts.path = xstrdup("/");
    /* libcurl keeps IPv6 hosts in brackets; callers want the address. */
    if (parts.host && parts.host[0] == '[') {
        size_t n = strlen(parts.host);
        memmove(parts.host, parts.host + 1, n - 1);
        parts.host[n - 2] = '\0';
    }
    *out = parts;
    return ER_OK;
}

void http_url_free(struct http_url *u)
{
    free(u->scheme);
    free(u->host);
    free(u->port);
    free(u->path);
    free(u->query);
    memset(u, 0, sizeof(*u));
}
