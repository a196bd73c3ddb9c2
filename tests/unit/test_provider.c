/*
 * The credential chain: which source applies, what the operator is told
 * when none does, and the cache.
 *
 * Most tests are offline: instance metadata is disabled and no container
 * endpoint is set, so no source touches the network. The refresh tests
 * serve container credentials from a thread on 127.0.0.1 and move a fake
 * clock, so hours of token lifetime pass in milliseconds.
 */
#include "aws/provider.h"
#include "core/log.h"
#include "core/timeutil.h"
#include "core/xalloc.h"
#include "net/http.h"
#include "test_assert.h"
#include "test_util.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define T0 ((time_t)1767225600) /* 2026-01-01T00:00:00Z */
#define ROLE "arn:aws:iam::123456789012:role/ecr-pull"

/* --- fixture: a fake clock, hand-made settings, files, a provider --------- */

struct fixture {
    struct test_clock time;
    struct aws_client client;
    struct aws_settings s;
    struct aws_profile_files files;
    bool files_loaded;
    const char *region;
    struct aws_provider *p;
    struct er_error err;
};

static void fixture_init(struct fixture *f)
{
    memset(f, 0, sizeof(*f));
    test_clock_init(&f->time, T0);
    f->client.clock = &f->time.clock;
    f->client.retry = retry_default_policy;
    f->region = "us-east-1";
    aws_settings_set(&f->s.profile, "default");
    aws_settings_set(&f->s.credentials_file, "/nonexistent/credentials");
    aws_settings_set(&f->s.config_file, "/nonexistent/config");
    f->s.imds_disabled = true;
}

static void fixture_files(struct fixture *f, const char *credentials,
                          const char *config)
{
    static int counter;
    char name[64];
    char *path;

    counter++;
    if (credentials) {
        snprintf(name, sizeof(name), "credentials-%d", counter);
        path = test_write_temp(name, credentials);
        aws_settings_set(&f->s.credentials_file, path);
        free(path);
    }
    if (config) {
        snprintf(name, sizeof(name), "config-%d", counter);
        path = test_write_temp(name, config);
        aws_settings_set(&f->s.config_file, path);
        free(path);
    }
}

static enum er_code fixture_get(struct fixture *f,
                                const struct aws_credentials **out)
{
    if (!f->files_loaded) {
        if (aws_profile_load(&f->s, &f->files, &f->err) != ER_OK)
            fail_msg("aws_profile_load: %s", f->err.msg);
        f->files_loaded = true;
    }
    if (!f->p)
        f->p = aws_provider_new(&f->s, &f->files, &f->client, f->region);
    return aws_provider_get(f->p, out, &f->err);
}

static const struct aws_credentials *fixture_get_ok(struct fixture *f)
{
    const struct aws_credentials *c = NULL;

    if (fixture_get(f, &c) != ER_OK)
        fail_msg("aws_provider_get failed: %s", f->err.msg);
    assert_non_null(c);
    return c;
}

static void fixture_get_fails(struct fixture *f, enum er_code code)
{
    const struct aws_credentials *c = NULL;
    enum er_code rc = fixture_get(f, &c);

    if (rc != code)
        fail_msg("aws_provider_get gave %s, want %s: %s", er_code_name(rc),
                 er_code_name(code), f->err.msg);
    assert_null(c);
    assert_int_equal(f->err.code, code);
}

static void fixture_free(struct fixture *f)
{
    aws_provider_free(f->p);
    if (f->files_loaded)
        aws_profile_free(&f->files);
    aws_settings_free(&f->s);
    http_client_free(f->client.http);
}

/* --- environment ---------------------------------------------------------- */

static void aws_provider_get__env_keys__used(void **state)
{
    struct fixture f;
    const struct aws_credentials *c;

    fixture_init(&f);
    aws_settings_set(&f.s.access_key_id, "AKIDEXAMPLE");
    aws_settings_set(&f.s.secret_access_key, "test-secret");
    aws_settings_set(&f.s.session_token, "test-token");
    c = fixture_get_ok(&f);
    assert_string_equal(c->access_key_id, "AKIDEXAMPLE");
    assert_string_equal(c->secret_access_key, "test-secret");
    assert_string_equal(c->session_token, "test-token");
    assert_int_equal(c->expiration, 0);
    assert_string_equal(c->source, "environment");
    fixture_free(&f);
}

static void aws_provider_get__env_and_profile__env_wins(void **state)
{
    struct fixture f;
    const struct aws_credentials *c;

    fixture_init(&f);
    fixture_files(&f,
                  "[default]\naws_access_key_id = FROMFILE\n"
                  "aws_secret_access_key = file-secret\n",
                  NULL);
    aws_settings_set(&f.s.access_key_id, "FROMENV");
    aws_settings_set(&f.s.secret_access_key, "env-secret");
    c = fixture_get_ok(&f);
    assert_string_equal(c->access_key_id, "FROMENV");
    assert_null(c->session_token);
    fixture_free(&f);
}

static void
aws_provider_get__only_key_id_in_env__names_missing_secret(void **state)
{
    struct fixture f;

    fixture_init(&f);
    aws_settings_set(&f.s.access_key_id, "AKIDEXAMPLE");
    fixture_get_fails(&f, ER_CONFIG);
    assert_contains(f.err.msg, "AWS_ACCESS_KEY_ID is set but "
                               "AWS_SECRET_ACCESS_KEY is not");
    fixture_free(&f);
}

static void
aws_provider_get__only_secret_in_env__names_missing_key_id(void **state)
{
    struct fixture f;

    fixture_init(&f);
    aws_settings_set(&f.s.secret_access_key, "test-secret");
    fixture_get_fails(&f, ER_CONFIG);
    assert_contains(f.err.msg, "AWS_SECRET_ACCESS_KEY is set but "
                               "AWS_ACCESS_KEY_ID is not");
    assert_not_contains(f.err.msg, "test-secret");
    fixture_free(&f);
}

/* --- nothing found -------------------------------------------------------- */

static void
aws_provider_get__no_source__lists_all_five_with_reasons(void **state)
{
    struct fixture f;

    fixture_init(&f);
    fixture_get_fails(&f, ER_NO_CREDS);
    assert_contains(f.err.msg, "no AWS credentials found");
    assert_contains(f.err.msg, "1. environment: AWS_ACCESS_KEY_ID and "
                               "AWS_SECRET_ACCESS_KEY are not set");
    assert_contains(f.err.msg, "2. web identity: AWS_ROLE_ARN and "
                               "AWS_WEB_IDENTITY_TOKEN_FILE are not set");
    assert_contains(f.err.msg, "3. shared files: profile default is in "
                               "neither /nonexistent/credentials nor "
                               "/nonexistent/config");
    assert_contains(f.err.msg, "4. container credentials: "
                               "AWS_CONTAINER_CREDENTIALS_FULL_URI and "
                               "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI are "
                               "not set");
    assert_contains(f.err.msg, "5. instance metadata (IMDSv2): "
                               "AWS_EC2_METADATA_DISABLED is true");
    assert_contains(f.err.msg, "eks.amazonaws.com/role-arn");
    fixture_free(&f);
}

static void
aws_provider_get__half_web_identity__reason_names_missing(void **state)
{
    struct fixture f;

    fixture_init(&f);
    aws_settings_set(&f.s.role_arn, ROLE);
    fixture_get_fails(&f, ER_NO_CREDS);
    assert_contains(f.err.msg, "2. web identity: AWS_ROLE_ARN is set but "
                               "AWS_WEB_IDENTITY_TOKEN_FILE is not");
    fixture_free(&f);
}

static void aws_provider_get__unsupported_profile__reason_says_so(void **state)
{
    struct fixture f;

    fixture_init(&f);
    fixture_files(&f, NULL,
                  "[default]\ncredential_process = /usr/bin/get-creds\n");
    fixture_get_fails(&f, ER_NO_CREDS);
    assert_contains(f.err.msg, "profile default has no credentials that "
                               "ecr-renew can use");
    assert_contains(f.err.msg, "credential_process");
    fixture_free(&f);
}

static void aws_provider_get__named_profile_missing__config_error(void **state)
{
    struct fixture f;

    fixture_init(&f);
    fixture_files(&f,
                  "[default]\naws_access_key_id = A\n"
                  "aws_secret_access_key = s\n",
                  NULL);
    aws_settings_set(&f.s.profile, "prod");
    f.s.profile_explicit = true;
    fixture_get_fails(&f, ER_CONFIG);
    assert_contains(f.err.msg, "AWS_PROFILE: profile prod is in neither");
    fixture_free(&f);
}

/* --- web identity: the offline failures ----------------------------------- */

static void
aws_provider_get__web_identity_without_region__asks_for_one(void **state)
{
    struct fixture f;
    char *token = test_write_temp("wi-token", "header.payload.sig\n");

    fixture_init(&f);
    f.region = NULL;
    aws_settings_set(&f.s.role_arn, ROLE);
    aws_settings_set(&f.s.web_identity_token_file, token);
    fixture_get_fails(&f, ER_USAGE);
    assert_contains(f.err.msg, "web identity");
    assert_contains(f.err.msg, "AWS_REGION");
    fixture_free(&f);
    free(token);
}

static void
aws_provider_get__web_identity_token_file_empty__config_error(void **state)
{
    struct fixture f;
    char *token = test_write_temp("wi-empty", " \n");

    fixture_init(&f);
    aws_settings_set(&f.s.role_arn, ROLE);
    aws_settings_set(&f.s.web_identity_token_file, token);
    fixture_get_fails(&f, ER_CONFIG);
    assert_contains(f.err.msg, token);
    assert_contains(f.err.msg, "is empty");
    fixture_free(&f);
    free(token);
}

static void
aws_provider_get__web_identity_token_file_missing__names_file(void **state)
{
    struct fixture f;

    fixture_init(&f);
    aws_settings_set(&f.s.role_arn, ROLE);
    aws_settings_set(&f.s.web_identity_token_file, "/nonexistent/wi-token");
    fixture_get_fails(&f, ER_CONFIG);
    assert_contains(f.err.msg, "/nonexistent/wi-token");
    assert_contains(f.err.msg, "No such file");
    fixture_free(&f);
}

/* --- shared files --------------------------------------------------------- */

static void aws_provider_get__credentials_file_keys__used(void **state)
{
    struct fixture f;
    const struct aws_credentials *c;

    fixture_init(&f);
    fixture_files(&f,
                  "[default]\naws_access_key_id = AKIDDEFAULT\n"
                  "aws_secret_access_key = default-secret\n"
                  "[dev]\naws_access_key_id = AKIDDEV\n"
                  "aws_secret_access_key = dev-secret\n"
                  "aws_session_token = dev-token\n",
                  NULL);
    aws_settings_set(&f.s.profile, "dev");
    f.s.profile_explicit = true;
    c = fixture_get_ok(&f);
    assert_string_equal(c->access_key_id, "AKIDDEV");
    assert_string_equal(c->secret_access_key, "dev-secret");
    assert_string_equal(c->session_token, "dev-token");
    assert_string_equal(c->source, "profile dev");
    fixture_free(&f);
}

static void aws_provider_get__config_file_keys__used(void **state)
{
    struct fixture f;
    const struct aws_credentials *c;

    fixture_init(&f);
    fixture_files(&f, NULL,
                  "[profile ci]\naws_access_key_id = AKIDCI\n"
                  "aws_secret_access_key = ci-secret\n");
    aws_settings_set(&f.s.profile, "ci");
    c = fixture_get_ok(&f);
    assert_string_equal(c->access_key_id, "AKIDCI");
    assert_null(c->session_token);
    fixture_free(&f);
}

static void
aws_provider_get__profile_half_keys__error_with_file_line(void **state)
{
    struct fixture f;
    char want[600];

    fixture_init(&f);
    fixture_files(&f, "[default]\n\naws_access_key_id = AKIDEXAMPLE\n", NULL);
    fixture_get_fails(&f, ER_CONFIG);
    snprintf(want, sizeof(want),
             "%s:3: profile default has "
             "aws_access_key_id but not aws_secret_access_key",
             f.s.credentials_file);
    assert_contains(f.err.msg, want);
    fixture_free(&f);
}

static void aws_provider_get__source_profile_cycle__refused(void **state)
{
    struct fixture f;

    fixture_init(&f);
    fixture_files(&f, NULL,
                  "[profile a]\nrole_arn = " ROLE "\nsource_profile = b\n"
                  "[profile b]\nrole_arn = " ROLE "\nsource_profile = a\n");
    aws_settings_set(&f.s.profile, "a");
    fixture_get_fails(&f, ER_CONFIG);
    assert_contains(f.err.msg, "source_profile chain is longer than");
    assert_contains(f.err.msg, "circular");
    fixture_free(&f);
}

static void
aws_provider_get__source_profile_missing__names_profile(void **state)
{
    struct fixture f;

    fixture_init(&f);
    fixture_files(&f, NULL,
                  "[profile a]\nrole_arn = " ROLE "\nsource_profile = gone\n");
    aws_settings_set(&f.s.profile, "a");
    fixture_get_fails(&f, ER_CONFIG);
    assert_contains(f.err.msg, "profile a: source_profile gone");
    fixture_free(&f);
}

static void aws_provider_get__unknown_credential_source__file_line(void **state)
{
    struct fixture f;
    char want[600];

    fixture_init(&f);
    fixture_files(&f, NULL,
                  "[default]\nregion = us-east-1\nrole_arn = " ROLE "\n"
                  "credential_source = Ec2Instance\n");
    fixture_get_fails(&f, ER_CONFIG);
    snprintf(want, sizeof(want),
             "%s:4: credential_source \"Ec2Instance\" "
             "is not Environment, Ec2InstanceMetadata or EcsContainer",
             f.s.config_file);
    assert_contains(f.err.msg, want);
    fixture_free(&f);
}

static void
aws_provider_get__credential_source_env_empty__no_creds(void **state)
{
    struct fixture f;

    fixture_init(&f);
    fixture_files(&f, NULL,
                  "[default]\nrole_arn = " ROLE "\n"
                  "credential_source = Environment\n");
    fixture_get_fails(&f, ER_NO_CREDS);
    assert_contains(f.err.msg, "credential_source Environment");
    assert_contains(f.err.msg, "AWS_ACCESS_KEY_ID");
    fixture_free(&f);
}

static void aws_provider_get__role_without_source__config_error(void **state)
{
    struct fixture f;

    fixture_init(&f);
    fixture_files(&f, NULL, "[default]\nrole_arn = " ROLE "\n");
    fixture_get_fails(&f, ER_CONFIG);
    assert_contains(f.err.msg, ":2: profile default has role_arn but none of "
                               "source_profile, credential_source or "
                               "web_identity_token_file");
    fixture_free(&f);
}

/* --- cache ---------------------------------------------------------------- */

static void aws_provider_get__second_call__cached_not_refetched(void **state)
{
    struct fixture f;
    const struct aws_credentials *first, *second;

    fixture_init(&f);
    aws_settings_set(&f.s.access_key_id, "AKIDFIRST");
    aws_settings_set(&f.s.secret_access_key, "first-secret");
    first = fixture_get_ok(&f);
    /* A refetch would now see different keys; the cache must not. */
    aws_settings_set(&f.s.access_key_id, "AKIDSECOND");
    aws_settings_set(&f.s.secret_access_key, "second-secret");
    f.time.now += 7 * 24 * 3600; /* long-term keys do not expire */
    second = fixture_get_ok(&f);
    assert_ptr_equal(first, second);
    assert_string_equal(second->access_key_id, "AKIDFIRST");
    assert_string_equal(second->secret_access_key, "first-secret");
    fixture_free(&f);
}

/* --- refresh, against container credentials served on 127.0.0.1 ----------- */

struct server {
    int fd;
    int port;
    pthread_t thread;
    pthread_mutex_t mu;
    int requests;
    int status;
    char body[1024];
};

static void read_request(int c)
{
    char buf[4096];
    size_t have = 0;
    ssize_t got;

    while (have < sizeof(buf) - 1 &&
           (got = recv(c, buf + have, sizeof(buf) - 1 - have, 0)) > 0) {
        have += (size_t)got;
        buf[have] = '\0';
        if (strstr(buf, "\r\n\r\n"))
            break;
    }
}

static void *serve(void *arg)
{
    struct server *sv = arg;
    char *answer;
    int c;

    while ((c = accept(sv->fd, NULL, NULL)) >= 0) {
        read_request(c);
        pthread_mutex_lock(&sv->mu);
        sv->requests++;
        answer = xasprintf("HTTP/1.1 %d X\r\nContent-Type: application/json"
                           "\r\nContent-Length: %zu\r\nConnection: close"
                           "\r\n\r\n%s",
                           sv->status, strlen(sv->body), sv->body);
        pthread_mutex_unlock(&sv->mu);
        if (write(c, answer, strlen(answer)) < 0)
            perror("test server write");
        free(answer);
        close(c);
    }
    return NULL;
}

static void server_start(struct server *sv)
{
    struct sockaddr_in a = {0};
    socklen_t len = sizeof(a);

    memset(sv, 0, sizeof(*sv));
    pthread_mutex_init(&sv->mu, NULL);
    sv->fd = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(sv->fd >= 0);
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(bind(sv->fd, (struct sockaddr *)&a, sizeof(a)), 0);
    assert_int_equal(listen(sv->fd, 8), 0);
    assert_int_equal(getsockname(sv->fd, (struct sockaddr *)&a, &len), 0);
    sv->port = ntohs(a.sin_port);
    assert_int_equal(pthread_create(&sv->thread, NULL, serve, sv), 0);
}

static void server_stop(struct server *sv)
{
    shutdown(sv->fd, SHUT_RDWR); /* makes accept() return */
    pthread_join(sv->thread, NULL);
    close(sv->fd);
    pthread_mutex_destroy(&sv->mu);
}

static void server_answer(struct server *sv, int status, const char *key,
                          time_t expiration)
{
    char when[TIME_RFC3339_LEN];

    time_format_rfc3339(expiration, when);
    pthread_mutex_lock(&sv->mu);
    sv->status = status;
    if (status == 200)
        snprintf(sv->body, sizeof(sv->body),
                 "{\"AccessKeyId\":\"%s\",\"SecretAccessKey\":"
                 "\"secret-of-%s\",\"Token\":\"token-of-%s\","
                 "\"AccountId\":\"123456789012\",\"Expiration\":\"%s\"}",
                 key, key, key, when);
    else
        snprintf(sv->body, sizeof(sv->body), "{\"message\":\"down\"}");
    pthread_mutex_unlock(&sv->mu);
}

static int server_requests(struct server *sv)
{
    int n;

    pthread_mutex_lock(&sv->mu);
    n = sv->requests;
    pthread_mutex_unlock(&sv->mu);
    return n;
}

static void fixture_container(struct fixture *f, struct server *sv)
{
    char *url = xasprintf("http://127.0.0.1:%d/v1/credentials", sv->port);

    fixture_init(f);
    aws_settings_set(&f->s.container_full_uri, url);
    f->client.http = http_client_new(NULL);
    free(url);
}

static void
aws_provider_get__temporary_creds__refreshed_in_last_5_min(void **state)
{
    struct server sv;
    struct fixture f;
    const struct aws_credentials *c;

    server_start(&sv);
    fixture_container(&f, &sv);
    server_answer(&sv, 200, "ASIAONE", T0 + 3600);
    c = fixture_get_ok(&f);
    assert_string_equal(c->access_key_id, "ASIAONE");
    assert_string_equal(c->source, "container credentials");
    assert_int_equal(c->expiration, T0 + 3600);
    assert_int_equal(server_requests(&sv), 1);

    server_answer(&sv, 200, "ASIATWO", T0 + 7200);
    f.time.now = T0 + 3600 - PROVIDER_REFRESH_WINDOW - 1;
    c = fixture_get_ok(&f);
    assert_string_equal(c->access_key_id, "ASIAONE"); /* still fresh */
    assert_int_equal(server_requests(&sv), 1);

    f.time.now = T0 + 3600 - PROVIDER_REFRESH_WINDOW + 1;
    c = fixture_get_ok(&f);
    assert_string_equal(c->access_key_id, "ASIATWO");
    assert_string_equal(c->secret_access_key, "secret-of-ASIATWO");
    assert_int_equal(c->expiration, T0 + 7200);
    assert_int_equal(server_requests(&sv), 2);
    fixture_free(&f);
    server_stop(&sv);
}

static void
aws_provider_get__refresh_fails_while_valid__cached_and_warned(void **state)
{
    struct server sv;
    struct fixture f;
    const struct aws_credentials *c;
    FILE *log = tmpfile();
    char logged[4096] = "";
    size_t n;

    assert_non_null(log);
    log_setup(LOG_TEXT, LOG_DEBUG, log);
    server_start(&sv);
    fixture_container(&f, &sv);
    server_answer(&sv, 200, "ASIAONE", T0 + 3600);
    fixture_get_ok(&f);
    server_answer(&sv, 503, NULL, 0);
    f.time.now = T0 + 3600 - 60; /* in the window, still valid */
    c = fixture_get_ok(&f);
    assert_string_equal(c->access_key_id, "ASIAONE");
    assert_true(server_requests(&sv) > 1);

    rewind(log);
    n = fread(logged, 1, sizeof(logged) - 1, log);
    logged[n] = '\0';
    assert_contains(logged, "credential refresh failed");
    assert_contains(logged, "valid_until=2026-01-01T01:00:00Z");
    assert_not_contains(logged, "secret-of-");
    assert_not_contains(logged, "token-of-");
    log_setup(LOG_TEXT, LOG_INFO, NULL);
    fclose(log);
    fixture_free(&f);
    server_stop(&sv);
}

static void aws_provider_get__refresh_fails_after_expiry__error(void **state)
{
    struct server sv;
    struct fixture f;

    log_setup(LOG_TEXT, LOG_ERROR, NULL);
    server_start(&sv);
    fixture_container(&f, &sv);
    server_answer(&sv, 200, "ASIAONE", T0 + 3600);
    fixture_get_ok(&f);
    server_answer(&sv, 503, NULL, 0);
    f.time.now = T0 + 3600 + 1;
    fixture_get_fails(&f, ER_AWS);
    assert_contains(f.err.msg, "container credentials");
    assert_contains(f.err.msg, "HTTP 503");
    log_setup(LOG_TEXT, LOG_INFO, NULL);
    fixture_free(&f);
    server_stop(&sv);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(aws_provider_get__env_keys__used),
        cmocka_unit_test(aws_provider_get__env_and_profile__env_wins),
        cmocka_unit_test(
            aws_provider_get__only_key_id_in_env__names_missing_secret),
        cmocka_unit_test(
            aws_provider_get__only_secret_in_env__names_missing_key_id),
        cmocka_unit_test(
            aws_provider_get__no_source__lists_all_five_with_reasons),
        cmocka_unit_test(
            aws_provider_get__half_web_identity__reason_names_missing),
        cmocka_unit_test(aws_provider_get__unsupported_profile__reason_says_so),
        cmocka_unit_test(aws_provider_get__named_profile_missing__config_error),
        cmocka_unit_test(
            aws_provider_get__web_identity_without_region__asks_for_one),
        cmocka_unit_test(
            aws_provider_get__web_identity_token_file_empty__config_error),
        cmocka_unit_test(
            aws_provider_get__web_identity_token_file_missing__names_file),
        cmocka_unit_test(aws_provider_get__credentials_file_keys__used),
        cmocka_unit_test(aws_provider_get__config_file_keys__used),
        cmocka_unit_test(
            aws_provider_get__profile_half_keys__error_with_file_line),
        cmocka_unit_test(aws_provider_get__source_profile_cycle__refused),
        cmocka_unit_test(
            aws_provider_get__source_profile_missing__names_profile),
        cmocka_unit_test(
            aws_provider_get__unknown_credential_source__file_line),
        cmocka_unit_test(
            aws_provider_get__credential_source_env_empty__no_creds),
        cmocka_unit_test(aws_provider_get__role_without_source__config_error),
        cmocka_unit_test(aws_provider_get__second_call__cached_not_refetched),
        cmocka_unit_test(
            aws_provider_get__temporary_creds__refreshed_in_last_5_min),
        cmocka_unit_test(
            aws_provider_get__refresh_fails_while_valid__cached_and_warned),
        cmocka_unit_test(aws_provider_get__refresh_fails_after_expiry__error),
    };
    int failed;

    /* The refresh tests talk to 127.0.0.1; no proxy may intercept. */
    setenv("NO_PROXY", "*", 1);
    http_global_init();
    failed = cmocka_run_group_tests(tests, NULL, NULL);
    http_global_cleanup();
    return failed;
}
