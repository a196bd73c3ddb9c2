/*
 * Walks every case folder of the official AWS SigV4 suite and checks the
 * header variant byte for byte: canonical request, string to sign,
 * signature and the signed request.
 *
 * Usage: test_sigv4_suite [SUITE_DIR]   (default: ../shared/vectors/...)
 * A missing suite is reported and the test exits 77, which ctest shows as
 * skipped; it never passes silently.
 */
#include "aws/sigv4.h"
#include "core/buf.h"
#include "core/timeutil.h"
#include "core/xalloc.h"
#include "test_util.h"

#include <dirent.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#ifndef SIGV4_SUITE_DEFAULT
#define SIGV4_SUITE_DEFAULT "../shared/vectors/sigv4/aws-signing-test-suite/v4"
#endif

struct suite_case {
    char *dir;
    char *name;
};

/* request.txt: "METHOD target HTTP/1.1", "Name:value" lines (a line that
 * starts with whitespace continues the previous one), a blank line, and
 * the body. header_text keeps the header lines verbatim for rendering. */
struct parsed_request {
    char *request_line;
    char *method;
    char *path;
    char *query;
    struct sigv4_header headers[32];
    size_t n_headers;
    struct buf header_text;
    const char *body;
    size_t body_len;
};

static void parse_request_line(struct parsed_request *r, const char *line)
{
    const char *sp = strchr(line, ' ');
    const char *proto = strstr(line, " HTTP/");
    char *target, *q;

    assert_non_null(sp);
    assert_non_null(proto);
    r->request_line = xstrdup(line);
    r->method = xstrndup(line, (size_t)(sp - line));
    target = xstrndup(sp + 1, (size_t)(proto - sp - 1));
    q = strchr(target, '?');
    r->query = q ? xstrdup(q + 1) : NULL;
    if (q)
        *q = '\0';
    r->path = target;
}

static void add_header_line(struct parsed_request *r, const char *line)
{
    const char *colon;
    char *joined;

    if ((line[0] == ' ' || line[0] == '\t') && r->n_headers > 0) {
        struct sigv4_header *h = &r->headers[r->n_headers - 1];
        joined = xasprintf("%s\n%s", h->value, line);
        free((char *)h->value);
        h->value = joined;
        return;
    }
    colon = strchr(line, ':');
    assert_non_null(colon);
    assert_true(r->n_headers < 32);
    r->headers[r->n_headers].name = xstrndup(line, (size_t)(colon - line));
    r->headers[r->n_headers].value = xstrdup(colon + 1);
    r->n_headers++;
}

static void parse_request(struct parsed_request *r, const char *text)
{
    const char *p = text, *nl;
    bool first = true;

    memset(r, 0, sizeof(*r));
    buf_init(&r->header_text, BUF_DEFAULT_CAP, BUF_PLAIN);
    while ((nl = strchr(p, '\n')) != NULL) {
        char *line = xstrndup(p, (size_t)(nl - p));
        p = nl + 1;
        if (first) {
            parse_request_line(r, line);
            first = false;
        } else if (*line == '\0') {
            free(line);
            break;
        } else {
            add_header_line(r, line);
            buf_must_addf(&r->header_text, "%s\n", line);
        }
        free(line);
    }
    r->body = p;
    r->body_len = strlen(p);
}

static void free_request(struct parsed_request *r)
{
    free(r->request_line);
    free(r->method);
    free(r->path);
    free(r->query);
    for (size_t i = 0; i < r->n_headers; i++) {
        free((char *)r->headers[i].name);
        free((char *)r->headers[i].value);
    }
    buf_free(&r->header_text);
}

static const char *ctx_str(json_t *ctx, const char *key)
{
    json_t *v = json_object_get(ctx, key);
    return json_is_string(v) ? json_string_value(v) : NULL;
}

static void read_options(json_t *ctx, struct sigv4_options *opt,
                         struct sigv4_credentials *creds)
{
    json_t *c = json_object_get(ctx, "credentials");

    assert_int_equal(time_parse_iso8601(ctx_str(ctx, "timestamp"), &opt->when),
                     0);
    opt->region = ctx_str(ctx, "region");
    opt->service = ctx_str(ctx, "service");
    opt->normalize_path = json_is_true(json_object_get(ctx, "normalize"));
    opt->add_content_sha256 = json_is_true(json_object_get(ctx, "sign_body"));
    opt->token_after_signing =
        json_is_true(json_object_get(ctx, "omit_session_token"));
    creds->access_key_id = ctx_str(c, "access_key_id");
    creds->secret_access_key = ctx_str(c, "secret_access_key");
    creds->session_token = ctx_str(c, "token");
}

static char *render_signed(const struct parsed_request *r,
                           const struct sigv4_signed *s)
{
    struct buf out = BUF_INIT;

    buf_must_addf(&out, "%s\n%s", r->request_line, buf_str(&r->header_text));
    for (size_t i = 0; i < s->n_added; i++)
        buf_must_addf(&out, "%s:%s\n", s->added[i].name, s->added[i].value);
    buf_must_adds(&out, "\n");
    buf_must_add(&out, r->body, r->body_len);
    return buf_detach(&out, NULL);
}

static void expect_file(const char *dir, const char *file, const char *got)
{
    char *path = xasprintf("%s/%s", dir, file);
    char *want = test_read_file(path);

    if (strcmp(want, got) != 0)
        fail_msg("%s differs\n--- want\n%s\n--- got\n%s", path, want, got);
    free(want);
    free(path);
}

static void run_case(void **state)
{
    const struct suite_case *sc = *state;
    char *ctx_path = xasprintf("%s/context.json", sc->dir);
    char *req_path = xasprintf("%s/request.txt", sc->dir);
    char *req_text = test_read_file(req_path);
    json_t *ctx = json_load_file(ctx_path, 0, NULL);
    struct sigv4_options opt = {0};
    struct sigv4_credentials creds = {0};
    struct parsed_request r;
    struct sigv4_signed s;
    struct er_error err = {0};
    char *rendered;

    assert_non_null(ctx);
    read_options(ctx, &opt, &creds);
    parse_request(&r, req_text);
    struct sigv4_request req = {r.method,    r.path, r.query,   r.headers,
                                r.n_headers, r.body, r.body_len};
    assert_int_equal(sigv4_sign(&req, &creds, &opt, &s, &err), ER_OK);
    expect_file(sc->dir, "header-canonical-request.txt",
                buf_str(&s.canonical_request));
    expect_file(sc->dir, "header-string-to-sign.txt",
                buf_str(&s.string_to_sign));
    expect_file(sc->dir, "header-signature.txt", s.signature);
    rendered = render_signed(&r, &s);
    expect_file(sc->dir, "header-signed-request.txt", rendered);

    free(rendered);
    sigv4_signed_free(&s);
    free_request(&r);
    json_decref(ctx);
    free(req_text);
    free(req_path);
    free(ctx_path);
}

static int cmp_cases(const void *a, const void *b)
{
    return strcmp(((const struct suite_case *)a)->name,
                  ((const struct suite_case *)b)->name);
}

static size_t list_cases(const char *suite, struct suite_case **out)
{
    DIR *d = opendir(suite);
    struct dirent *de;
    struct suite_case *cases = NULL;
    size_t n = 0;

    if (!d)
        return 0;
    while ((de = readdir(d)) != NULL) {
        char *dir = xasprintf("%s/%s", suite, de->d_name);
        char *ctx = xasprintf("%s/context.json", dir);
        struct stat st;

        if (de->d_name[0] != '.' && stat(ctx, &st) == 0) {
            cases = xrealloc(cases, (n + 1) * sizeof(*cases));
            cases[n].dir = dir;
            cases[n++].name = xstrdup(de->d_name);
        } else {
            free(dir);
        }
        free(ctx);
    }
    closedir(d);
    qsort(cases, n, sizeof(*cases), cmp_cases);
    *out = cases;
    return n;
}

int main(int argc, char **argv)
{
    const char *suite = argc > 1 ? argv[1] : SIGV4_SUITE_DEFAULT;
    struct suite_case *cases = NULL;
    struct CMUnitTest *tests;
    size_t n = list_cases(suite, &cases);
    int failed;

    if (n == 0) {
        printf("SKIP: no SigV4 suite cases in %s (pass the suite folder as "
               "the first argument)\n",
               suite);
        return 77;
    }
    printf("SigV4 suite: %zu cases from %s\n", n, suite);
    tests = xcalloc(n, sizeof(*tests));
    for (size_t i = 0; i < n; i++) {
        tests[i].name = cases[i].name;
        tests[i].test_func = run_case;
        tests[i].initial_state = &cases[i];
    }
    failed = _cmocka_run_group_tests("sigv4_suite", tests, n, NULL, NULL);
    for (size_t i = 0; i < n; i++) {
        free(cases[i].dir);
        free(cases[i].name);
    }
    free(cases);
    free(tests);
    return failed ? 1 : 0;
}
