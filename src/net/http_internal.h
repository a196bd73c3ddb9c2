/*
 * http_internal.h - what http.c (one request at a time) and
 * http_multi.c (many at once, on the loop) share. Only these two files
 * include libcurl; nothing outside src/net/ includes this header.
 */
#ifndef ECR_RENEW_NET_HTTP_INTERNAL_H
#define ECR_RENEW_NET_HTTP_INTERNAL_H

#include "http.h"

#include <curl/curl.h>
#include <stdbool.h>
#include <stddef.h>

/* One transfer, as libcurl's callbacks see it. */
struct http_transfer_state {
    CURL *curl;
    struct http_response *resp;
    size_t header_bytes;
    const char *refusal; /* why a callback stopped the transfer */
    /* Streaming: 2xx body bytes go here instead of resp->body. */
    bool (*on_data)(void *ctx, const char *data, size_t n, char *why);
    void *ctx;
    char consumer_error[ER_MSG_MAX]; /* why on_data stopped it */
};

/* Sets every option of a transfer: URL, method, body, timeouts (from
 * req and its deadline), stall detection (not for streams), size caps,
 * callbacks, TLS. */
/* libcurl's smallest upload buffer (CURLOPT_UPLOAD_BUFFERSIZE). */
#define HTTP_UPLOAD_BUFFER_BYTES 16384L

void http__setup_easy(CURL *curl, const struct http_settings *tls,
                      const struct http_request *req,
                      struct http_transfer_state *t, char *errbuf);

enum er_code http__check_headers(const struct http_request *req,
                                 const char *what,
                                 struct er_error *err) ER_CHECK;
struct curl_slist *http__build_headers(const struct http_request *req);
void http__free_headers(struct curl_slist *list);

enum er_code http__apply_server_name(CURL *curl, const char *url,
                                     const char *server_name,
                                     struct curl_slist **connect_to,
                                     char **effective_url,
                                     struct er_error *err) ER_CHECK;

/* The message for a failed transfer (code is a CURLcode). */
enum er_code http__transfer_failed(const struct http_request *req,
                                   const char *what,
                                   const struct http_transfer_state *t,
                                   int code, const char *errbuf,
                                   struct er_error *err);

/* Empties a response for another attempt, keeping body's cap and flags. */
void http__response_reset(struct http_response *resp);

#endif
