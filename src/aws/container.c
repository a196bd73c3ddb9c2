#include "container.h"
#include "../core/buf.h"
#include "../core/fileio.h"
#include "../core/wipe.h"
#include "../core/strutil.h"
#include "../core/xalloc.h"
#include "../net/http.h"
#include "imds.h"

#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

#define CONTAINER_TIMEOUT_MS 5000
#define CONTAINER_ATTEMPTS 3
#define CONTAINER_TOKEN_CAP (16u * 1024)

bool container_configured(const struct aws_settings *s)
{
    return s->container_full_uri || s->container_relative_uri;
}

bool container_host_allows_http(const char *host)
{
    struct in_addr v4;
    struct in6_addr v6;
    static const unsigned char loop6[16] = {[15] = 1};

    if (strcmp(host, "localhost") == 0 || strcmp(host, "169.254.170.2") == 0 ||
        strcmp(host, "169.254.170.23") == 0)
        return true;
    if (inet_pton(AF_INET, host, &v4) == 1)
        return (ntohl(v4.s_addr) >> 24) == 127;
    if (inet_pton(AF_INET6, host, &v6) == 1) {
        struct in6_addr eks;
        inet_pton(AF_INET6, "fd00:ec2::23", &eks);
        return memcmp(&v6, loop6, 16) == 0 || memcmp(&v6, &eks, 16) == 0;
    }
    return false;
}

enum er_code container_endpoint(const struct aws_settings *s, char **url,
                                struct er_error *err)
{
    struct http_url u;
    char *candidate;
    enum er_code rc;

    if (s->container_relative_uri)
        candidate = xasprintf("%s%s%s", CONTAINER_ECS_HOST,
                              s->container_relative_uri[0] == '/' ? "" : "/",
                              s->container_relative_uri);
    else
        candidate = xstrdup(s->container_full_uri);
    if ((rc = http_url_parse(candidate, &u, err)) != ER_OK) {
        free(candidate);
        return er_wrap(err, "%s",
                       s->container_relative_uri
                           ? "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI"
                           : "AWS_CONTAINER_CREDENTIALS_FULL_URI");
    }
    if (strcmp(u.scheme, "https") != 0 &&
        !(strcmp(u.scheme, "http") == 0 &&
          container_host_allows_http(u.host))) {
        char *shown = str_url_redacted(candidate);
        rc = er_set(err, ER_USAGE,
                    "container credentials URI %s: plain http is only "
                    "allowed to loopback, 169.254.170.2 and 169.254.170.23; "
                    "use https",
                    shown);
        free(shown);
    }
    http_url_free(&u);
    if (rc != ER_OK)
        free(candidate);
    else
        *url = candidate;
    return rc;
}

/* The token file wins over the variable, and is read fresh each time. */
static enum er_code read_auth_token(const struct aws_settings *s, char **token,
                                    struct er_error *err)
{
    *token = NULL;
    if (s->container_auth_token_file)
        return file_read_token(s->container_auth_token_file,
                               "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE",
                               CONTAINER_TOKEN_CAP, token, err);
    if (!s->container_auth_token)
        return ER_OK;
    if (!str_has_no_controls(s->container_auth_token))
        return er_set(err, ER_CONFIG,
                      "AWS_CONTAINER_AUTHORIZATION_TOKEN holds a control "
                      "character (a line break?); refusing to send it");
    *token = xstrdup(s->container_auth_token);
    return ER_OK;
}

static enum er_code fetch_once(struct aws_client *c, const char *url,
                               const char *token, struct buf *body,
                               long *status, struct er_error *err)
{
    struct http_header h[] = {{"Authorization", token}};
    struct http_request req = {
        .method = "GET",
        .url = url,
        .headers = h,
        .n_headers = token ? 1 : 0,
        .timeout_ms = CONTAINER_TIMEOUT_MS,
        .deadline = c->deadline,
        .what = "container credentials",
    };
    struct http_response resp = {0};
    enum er_code rc;

    buf_init(&resp.body, IMDS_ANSWER_CAP, BUF_SECRET);
    rc = http_do(c->http, &req, &resp, err);
    if (rc == ER_OK) {
        *status = resp.status;
        buf_must_add(body, resp.body.data, resp.body.len);
    }
    http_response_free(&resp);
    return rc;
}

static enum er_code fetch_with_retries(struct aws_client *c, const char *url,
                                       const char *token, struct buf *body,
                                       long *status, struct er_error *err)
{
    enum er_code rc = ER_INTERNAL;

    for (int i = 0; i < CONTAINER_ATTEMPTS; i++) {
        struct retry_step step = {i, -1, "retrying container credentials",
                                  "container credentials",
                                  rc == ER_OK ? "HTTP 5xx" : err->msg};
        if (i > 0 && (rc = retry_wait(&c->retry, c->clock, c->deadline, &step,
                                      err)) != ER_OK)
            break;
        buf_reset(body);
        rc = fetch_once(c, url, token, body, status, err);
        if (rc == ER_OK && *status < 500)
            break;
    }
    return rc;
}

enum er_code container_fetch(struct aws_client *c, const struct aws_settings *s,
                             struct aws_credentials *out, struct er_error *err)
{
    struct buf body = BUF_INIT_SECRET;
    char *url = NULL, *token = NULL;
    long status = 0;
    enum er_code rc;

    if ((rc = container_endpoint(s, &url, err)) != ER_OK ||
        (rc = read_auth_token(s, &token, err)) != ER_OK)
        goto out;
    rc = fetch_with_retries(c, url, token, &body, &status, err);
    if (rc != ER_OK)
        goto out;
    if (status != 200) {
        char excerpt[200], *shown = str_url_redacted(url);
        str_copy_printable(excerpt, sizeof(excerpt), buf_str(&body), body.len);
        rc = er_set(err, ER_AWS,
                    "container credentials endpoint %s: HTTP "
                    "%ld: %s%s",
                    shown, status, excerpt,
                    status == 401 || status == 403
                        ? " (check AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE)"
                        : "");
        free(shown);
        goto out;
    }
    if ((rc = imds_parse_credentials(body.data, body.len, out, err)) != ER_OK) {
        char *shown = str_url_redacted(url);
        er_wrap(err, "container credentials endpoint %s", shown);
        free(shown);
    }
out:
    buf_free(&body);
    wipe_free_str(token);
    free(url);
    return rc;
}
