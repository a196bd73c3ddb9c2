/*
 * SigV4 in the order of the AWS documentation: canonical request, string
 * to sign, signing key, signature, Authorization header.
 */
#include "sigv4.h"
#include "../core/digest.h"
#include "../core/wipe.h"
#include "../core/timeutil.h"
#include "../core/urlenc.h"
#include "../core/xalloc.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define SIGV4_ALGORITHM "AWS4-HMAC-SHA256"

struct canon_header {
    char *name;  /* lower case */
    char *value; /* trimmed, inner whitespace collapsed */
    size_t order;
};

struct query_param {
    char *key; /* encoded */
    char *value;
};

static const char *const unsignable[] = {
    "authorization",
    "connection",
    "expect",
    "keep-alive",
    "proxy-authenticate",
    "proxy-authorization",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
    "user-agent",
    "x-amzn-trace-id",
    "sec-websocket-key",
    "sec-websocket-protocol",
    "sec-websocket-version",
};

bool sigv4_header_is_signable(const char *name)
{
    for (size_t i = 0; i < sizeof(unsignable) / sizeof(unsignable[0]); i++) {
        if (strcasecmp(name, unsignable[i]) == 0)
            return false;
    }
    return true;
}

static void hex_encode(const unsigned char *in, size_t n, char *out)
{
    static const char hex[] = "0123456789abcdef";

    for (size_t i = 0; i < n; i++) {
        out[2 * i] = hex[in[i] >> 4];
        out[2 * i + 1] = hex[in[i] & 15];
    }
    out[2 * n] = '\0';
}

static void sha256_hex(const void *data, size_t n, char out[65])
{
    digest_sha256_hex(data, n, out);
}

static void hmac_sha256(const void *key, size_t key_len, const char *msg,
                        size_t msg_len, unsigned char out[32])
{
    unsigned int len = 32;

    HMAC(EVP_sha256(), key, (int)key_len, (const unsigned char *)msg, msg_len,
         out, &len);
}

/* --- canonical URI ----------------------------------------------------- */

/* "/a/." and "/a/.." name a directory, so they keep a trailing slash. */
static bool ends_with_dot_segment(const char *path)
{
    size_t n = strlen(path);

    return (n >= 2 && strcmp(path + n - 2, "/.") == 0) ||
           (n >= 3 && strcmp(path + n - 3, "/..") == 0);
}

/* Removes "." and ".." segments and empty segments ("//"), keeping a
 * trailing slash, as every AWS service but S3 expects. */
static char *normalize_path(const char *path)
{
    size_t n = strlen(path), nseg = 0;
    char **segs = xcalloc(n + 1, sizeof(*segs));
    struct buf out = BUF_INIT;
    const char *p = path;
    bool trailing =
        n > 0 && (path[n - 1] == '/' || ends_with_dot_segment(path));

    while (*p) {
        const char *end = strchr(p, '/');
        size_t len = end ? (size_t)(end - p) : strlen(p);

        if (len == 2 && p[0] == '.' && p[1] == '.') {
            if (nseg > 0)
                free(segs[--nseg]);
        } else if (len > 0 && !(len == 1 && p[0] == '.')) {
            segs[nseg++] = xstrndup(p, len);
        }
        p = end ? end + 1 : p + len;
    }
    for (size_t i = 0; i < nseg; i++) {
        buf_must_addf(&out, "/%s", segs[i]);
        free(segs[i]);
    }
    if (nseg == 0 || trailing)
        buf_must_adds(&out, "/");
    free(segs);
    return buf_detach(&out, NULL);
}

static void add_canonical_uri(struct buf *cr, const char *path, bool normalize)
{
    char *norm = normalize ? normalize_path(path) : xstrdup(path);

    if (!*norm)
        buf_must_adds(cr, "/");
    urlenc_append(cr, norm, strlen(norm), true);
    buf_must_adds(cr, "\n");
    free(norm);
}

/* --- canonical query --------------------------------------------------- */

static int cmp_params(const void *a, const void *b)
{
    const struct query_param *x = a, *y = b;
    int c = strcmp(x->key, y->key);

    return c ? c : strcmp(x->value, y->value);
}

/* Each key and value is decoded, then encoded the one way SigV4 accepts,
 * so "%E1%88%B4" and a raw "ሴ" give the same canonical form. */
static char *canonical_component(const char *s, size_t n)
{
    struct buf dec = BUF_INIT, enc = BUF_INIT;

    urldec_append(&dec, s, n);
    urlenc_append(&enc, buf_str(&dec), dec.len, false);
    buf_free(&dec);
    return buf_detach(&enc, NULL);
}

static size_t split_query(const char *q, struct query_param **out)
{
    size_t n = 0, max = 1;
    struct query_param *params;

    for (const char *p = q; *p; p++)
        max += *p == '&';
    params = xcalloc(max, sizeof(*params));
    while (*q) {
        const char *end = strchr(q, '&');
        size_t len = end ? (size_t)(end - q) : strlen(q);
        const char *eq = memchr(q, '=', len);
        size_t klen = eq ? (size_t)(eq - q) : len;

        if (len > 0) {
            params[n].key = canonical_component(q, klen);
            params[n].value =
                eq ? canonical_component(eq + 1, len - klen - 1) : xstrdup("");
            n++;
        }
        q = end ? end + 1 : q + len;
    }
    *out = params;
    return n;
}

static void add_canonical_query(struct buf *cr, const char *query)
{
    struct query_param *params = NULL;
    size_t n = query ? split_query(query, &params) : 0;

    /* qsort must not be given NULL, even with n == 0 (UBSan aborts). */
    if (n > 1)
        qsort(params, n, sizeof(*params), cmp_params);
    for (size_t i = 0; i < n; i++) {
        buf_must_addf(cr, "%s%s=%s", i ? "&" : "", params[i].key,
                      params[i].value);
        free(params[i].key);
        free(params[i].value);
    }
    buf_must_adds(cr, "\n");
    free(params);
}

/* --- canonical headers ------------------------------------------------- */

/* Trims and folds every run of whitespace (spaces, tabs, folded line
 * breaks) into one space, as the suite's get-header-value-* cases show. */
static char *fold_value(const char *v)
{
    struct buf out = BUF_INIT_SECRET;
    bool pending_space = false;

    for (; *v; v++) {
        if (*v == ' ' || *v == '\t' || *v == '\r' || *v == '\n') {
            pending_space = out.len > 0;
            continue;
        }
        if (pending_space)
            buf_must_adds(&out, " ");
        pending_space = false;
        buf_must_add(&out, v, 1);
    }
    return buf_detach(&out, NULL);
}

static char *lower_dup(const char *s)
{
    char *p = xstrdup(s);

    for (char *q = p; *q; q++) {
        if (*q >= 'A' && *q <= 'Z')
            *q = (char)(*q - 'A' + 'a');
    }
    return p;
}

static int cmp_headers(const void *a, const void *b)
{
    const struct canon_header *x = a, *y = b;
    int c = strcmp(x->name, y->name);

    if (c)
        return c;
    return x->order < y->order ? -1 : x->order > y->order;
}

static void push_header(struct canon_header *list, size_t *n, const char *name,
                        const char *value)
{
    list[*n].name = lower_dup(name);
    list[*n].value = fold_value(value);
    list[*n].order = *n;
    (*n)++;
}

/* Collects the signable request headers plus the ones the signer adds,
 * sorted by name with repeated names kept in arrival order. */
static size_t collect_headers(const struct sigv4_request *req,
                              const struct sigv4_signed *out,
                              struct canon_header **list_out)
{
    struct canon_header *list =
        xcalloc(req->n_headers + SIGV4_MAX_ADDED, sizeof(*list));
    size_t n = 0;

    for (size_t i = 0; i < req->n_headers; i++) {
        if (sigv4_header_is_signable(req->headers[i].name))
            push_header(list, &n, req->headers[i].name, req->headers[i].value);
    }
    for (size_t i = 0; i < out->n_added; i++)
        push_header(list, &n, out->added[i].name, out->added[i].value);
    qsort(list, n, sizeof(*list), cmp_headers);
    *list_out = list;
    return n;
}

/* Writes "name:v1,v2\n" lines to cr and "a;b;c" to signed_names. */
static void add_canonical_headers(struct buf *cr, struct buf *signed_names,
                                  struct canon_header *list, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        bool repeat = i > 0 && strcmp(list[i].name, list[i - 1].name) == 0;

        if (repeat) {
            buf_must_addf(cr, ",%s", list[i].value);
            continue;
        }
        if (i > 0)
            buf_must_adds(cr, "\n");
        buf_must_addf(cr, "%s:%s", list[i].name, list[i].value);
        buf_must_addf(signed_names, "%s%s", signed_names->len ? ";" : "",
                      list[i].name);
    }
    buf_must_adds(cr, "\n\n");
}

static void free_headers(struct canon_header *list, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(list[i].name);
        wipe_free_str(list[i].value);
    }
    free(list);
}

/* --- signing ----------------------------------------------------------- */

static void add_header(struct sigv4_signed *out, const char *name,
                       const char *value)
{
    out->added[out->n_added].name = name;
    out->added[out->n_added].value = xstrdup(value);
    out->n_added++;
}

static void build_canonical_request(const struct sigv4_request *req,
                                    const struct sigv4_options *opt,
                                    const char *payload_hash,
                                    struct sigv4_signed *out,
                                    struct buf *signed_names)
{
    struct canon_header *list;
    size_t n = collect_headers(req, out, &list);

    buf_must_addf(&out->canonical_request, "%s\n", req->method);
    add_canonical_uri(&out->canonical_request, req->path, opt->normalize_path);
    add_canonical_query(&out->canonical_request, req->query);
    add_canonical_headers(&out->canonical_request, signed_names, list, n);
    buf_must_addf(&out->canonical_request, "%s\n%s", buf_str(signed_names),
                  payload_hash);
    free_headers(list, n);
}

/* kSigning = HMAC(HMAC(HMAC(HMAC("AWS4" + secret, date), region), service),
 * "aws4_request"); every intermediate key is wiped. */
static void derive_signing_key(const char *secret, const char *date,
                               const struct sigv4_options *opt,
                               unsigned char key[32])
{
    char *k_secret = xasprintf("AWS4%s", secret);
    unsigned char k1[32], k2[32], k3[32];

    hmac_sha256(k_secret, strlen(k_secret), date, strlen(date), k1);
    hmac_sha256(k1, 32, opt->region, strlen(opt->region), k2);
    hmac_sha256(k2, 32, opt->service, strlen(opt->service), k3);
    hmac_sha256(k3, 32, "aws4_request", 12, key);
    wipe_free_str(k_secret);
    wipe_bytes(k1, sizeof(k1));
    wipe_bytes(k2, sizeof(k2));
    wipe_bytes(k3, sizeof(k3));
}

static enum er_code check_inputs(const struct sigv4_request *req,
                                 const struct sigv4_credentials *creds,
                                 const struct sigv4_options *opt,
                                 struct er_error *err)
{
    if (!creds->access_key_id || !*creds->access_key_id ||
        !creds->secret_access_key || !*creds->secret_access_key)
        return er_set(err, ER_INTERNAL, "SigV4: credentials are incomplete");
    if (!opt->region || !*opt->region || !opt->service || !*opt->service)
        return er_set(err, ER_INTERNAL, "SigV4: region and service needed");
    if (!req->method || !req->path)
        return er_set(err, ER_INTERNAL, "SigV4: method and path needed");
    return ER_OK;
}

/* String to sign and signature from the finished canonical request. */
static void compute_signature(const struct sigv4_credentials *creds,
                              const struct sigv4_options *opt,
                              const char *amz_date, const char *date,
                              struct sigv4_signed *out)
{
    unsigned char key[32], sig[32];
    char cr_hash[65];

    sha256_hex(out->canonical_request.data, out->canonical_request.len,
               cr_hash);
    buf_must_addf(&out->string_to_sign, "%s\n%s\n%s/%s/%s/aws4_request\n%s",
                  SIGV4_ALGORITHM, amz_date, date, opt->region, opt->service,
                  cr_hash);
    derive_signing_key(creds->secret_access_key, date, opt, key);
    hmac_sha256(key, sizeof(key), out->string_to_sign.data,
                out->string_to_sign.len, sig);
    wipe_bytes(key, sizeof(key));
    hex_encode(sig, sizeof(sig), out->signature);
}

/* The headers that follow the signature: a token added after signing
 * (listed first, like the signed form) and Authorization. */
static void add_after_signing(const struct sigv4_credentials *creds,
                              const struct sigv4_options *opt, const char *date,
                              const char *signed_names,
                              struct sigv4_signed *out)
{
    if (creds->session_token && *creds->session_token &&
        opt->token_after_signing) {
        memmove(&out->added[1], &out->added[0],
                out->n_added * sizeof(out->added[0]));
        out->added[0].name = "X-Amz-Security-Token";
        out->added[0].value = xstrdup(creds->session_token);
        out->n_added++;
    }
    out->added[out->n_added].name = "Authorization";
    out->added[out->n_added++].value =
        xasprintf("%s Credential=%s/%s/%s/%s/aws4_request, SignedHeaders=%s, "
                  "Signature=%s",
                  SIGV4_ALGORITHM, creds->access_key_id, date, opt->region,
                  opt->service, signed_names, out->signature);
}

enum er_code sigv4_sign(const struct sigv4_request *req,
                        const struct sigv4_credentials *creds,
                        const struct sigv4_options *opt,
                        struct sigv4_signed *out, struct er_error *err)
{
    struct buf signed_names = BUF_INIT;
    char amz_date[TIME_AMZ_LEN], date[9], payload_hash[65];
    bool token = creds->session_token && *creds->session_token;
    enum er_code rc;

    memset(out, 0, sizeof(*out));
    buf_init(&out->canonical_request, BUF_DEFAULT_CAP, BUF_SECRET);
    buf_init(&out->string_to_sign, BUF_DEFAULT_CAP, BUF_PLAIN);
    if ((rc = check_inputs(req, creds, opt, err)) != ER_OK)
        return rc;
    time_format_amz(opt->when, amz_date);
    memcpy(date, amz_date, 8);
    date[8] = '\0';
    sha256_hex(req->body ? req->body : "", req->body ? req->body_len : 0,
               payload_hash);
    if (token && !opt->token_after_signing)
        add_header(out, "X-Amz-Security-Token", creds->session_token);
    add_header(out, "X-Amz-Date", amz_date);
    if (opt->add_content_sha256)
        add_header(out, "x-amz-content-sha256", payload_hash);
    build_canonical_request(req, opt, payload_hash, out, &signed_names);
    compute_signature(creds, opt, amz_date, date, out);
    add_after_signing(creds, opt, date, buf_str(&signed_names), out);
    buf_free(&signed_names);
    return ER_OK;
}

const char *sigv4_added_value(const struct sigv4_signed *s, const char *name)
{
    for (size_t i = 0; i < s->n_added; i++) {
        if (strcasecmp(s->added[i].name, name) == 0)
            return s->added[i].value;
    }
    return NULL;
}

void sigv4_signed_free(struct sigv4_signed *s)
{
    buf_free(&s->canonical_request);
    buf_free(&s->string_to_sign);
    for (size_t i = 0; i < s->n_added; i++)
        wipe_free_str(s->added[i].value);
    s->n_added = 0;
    wipe_bytes(s->signature, sizeof(s->signature));
}
