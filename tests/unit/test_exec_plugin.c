/*
 * Credential plugins: parsing ExecCredential answers, the
 * KUBERNETES_EXEC_INFO document, and running small shell scripts that
 * stand in for "aws eks get-token" (success, failure, missing command,
 * hanging past the time limit).
 */
#include "core/b64.h"
#include "core/buf.h"
#include "core/xalloc.h"
#include "kube/exec_plugin.h"
#include "test_assert.h"
#include "test_util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#define V1 "client.authentication.k8s.io/v1"
#define V1BETA1 "client.authentication.k8s.io/v1beta1"
#define CA_PEM                                                                 \
    "-----BEGIN CERTIFICATE-----\nMIIBca\n-----END CERTIFICATE-----\n"

static enum er_code parse(const char *json, const char *api,
                          struct kube_exec_credential *c, struct er_error *err)
{
    memset(c, 0, sizeof(*c));
    er_clear(err);
    return kube_exec_parse(json, strlen(json), api, c, err);
}

/* --- parsing ----------------------------------------------------------- */

static void kube_exec_parse__token__read(void **state)
{
    struct kube_exec_credential c;
    struct er_error err;

    assert_int_equal(parse("{\"apiVersion\":\"" V1 "\",\"kind\":"
                           "\"ExecCredential\",\"status\":{\"token\":"
                           "\"k8s-aws-v1.abc\"}}",
                           V1, &c, &err),
                     ER_OK);
    assert_string_equal(c.token, "k8s-aws-v1.abc");
    assert_null(c.client_cert_pem);
    assert_null(c.client_key_pem);
    assert_int_equal(c.expiration, 0);
    kube_exec_credential_free(&c);
    assert_null(c.token);
}

static void kube_exec_parse__cert_and_key__read(void **state)
{
    struct kube_exec_credential c;
    struct er_error err;

    assert_int_equal(parse("{\"apiVersion\":\"" V1BETA1 "\",\"kind\":"
                           "\"ExecCredential\",\"spec\":{},\"status\":{"
                           "\"clientCertificateData\":\"CERT\","
                           "\"clientKeyData\":\"KEY\"}}",
                           V1BETA1, &c, &err),
                     ER_OK);
    assert_null(c.token);
    assert_string_equal(c.client_cert_pem, "CERT");
    assert_string_equal(c.client_key_pem, "KEY");
    kube_exec_credential_free(&c);
}

static void kube_exec_parse__expiration__rfc3339(void **state)
{
    struct kube_exec_credential c;
    struct er_error err;

    assert_int_equal(parse("{\"apiVersion\":\"" V1 "\",\"kind\":"
                           "\"ExecCredential\",\"status\":{\"token\":\"t\","
                           "\"expirationTimestamp\":"
                           "\"2026-11-29T05:14:00Z\"}}",
                           V1, &c, &err),
                     ER_OK);
    assert_int_equal(c.expiration, 1795929240);
    kube_exec_credential_free(&c);
    assert_int_equal(parse("{\"apiVersion\":\"" V1 "\",\"kind\":"
                           "\"ExecCredential\",\"status\":{\"token\":\"t\","
                           "\"expirationTimestamp\":\"tomorrow\"}}",
                           V1, &c, &err),
                     ER_PARSE);
    assert_contains(err.msg, "expirationTimestamp");
}

static void kube_exec_parse__wrong_api_version__error(void **state)
{
    struct kube_exec_credential c;
    struct er_error err;

    assert_int_equal(parse("{\"apiVersion\":\"" V1BETA1 "\",\"kind\":"
                           "\"ExecCredential\",\"status\":{\"token\":\"t\"}}",
                           V1, &c, &err),
                     ER_PARSE);
    assert_contains(err.msg, V1BETA1);
    assert_contains(err.msg, "not " V1);
    assert_int_equal(parse("{\"apiVersion\":\"" V1 "\",\"kind\":"
                           "\"Secret\",\"status\":{\"token\":\"t\"}}",
                           V1, &c, &err),
                     ER_PARSE);
    assert_contains(err.msg, "not ExecCredential");
}

static void kube_exec_parse__missing_status__error(void **state)
{
    struct kube_exec_credential c;
    struct er_error err;

    assert_int_equal(parse("{\"apiVersion\":\"" V1 "\",\"kind\":"
                           "\"ExecCredential\"}",
                           V1, &c, &err),
                     ER_PARSE);
    assert_contains(err.msg, "no status");
    assert_int_equal(parse("{\"apiVersion\":\"" V1 "\",\"kind\":"
                           "\"ExecCredential\",\"status\":{}}",
                           V1, &c, &err),
                     ER_PARSE);
    assert_contains(err.msg, "neither a token");
    assert_int_equal(parse("{\"apiVersion\":\"" V1 "\",\"kind\":"
                           "\"ExecCredential\",\"status\":{"
                           "\"clientKeyData\":\"SECRETKEY\"}}",
                           V1, &c, &err),
                     ER_PARSE);
    assert_contains(err.msg, "without the other");
    assert_not_contains(err.msg, "SECRETKEY");
    assert_int_equal(parse("{\"apiVersion\":\"" V1 "\",\"kind\":"
                           "\"ExecCredential\",\"status\":{\"token\":7}}",
                           V1, &c, &err),
                     ER_PARSE);
    assert_contains(err.msg, "status.token is not a string");
}

static void kube_exec_parse__garbage__error_without_echo(void **state)
{
    struct kube_exec_credential c;
    struct er_error err;

    assert_int_equal(parse("token SECRET-GARBAGE", V1, &c, &err), ER_PARSE);
    assert_contains(err.msg, "its output is not JSON (line 1");
    assert_not_contains(err.msg, "SECRET");
    assert_int_equal(parse("", V1, &c, &err), ER_PARSE);
    assert_int_equal(parse("[1,2]", V1, &c, &err), ER_PARSE);
    assert_int_equal(parse("{\"status\":{\"token\":\"t\"}", V1, &c, &err),
                     ER_PARSE);
}

/* --- KUBERNETES_EXEC_INFO ---------------------------------------------- */

static void kube_exec_info__without_cluster__minimal(void **state)
{
    struct kube_exec_config cfg = {0};
    struct kube_target t = {0};
    char *info;

    cfg.api_version = V1;
    t.server = "https://k";
    info = kube_exec_info(&cfg, &t);
    assert_string_equal(info, "{\"apiVersion\":\"" V1 "\",\"kind\":"
                              "\"ExecCredential\",\"spec\":{\"interactive\":"
                              "false}}");
    free(info);
}

static void kube_exec_info__provide_cluster_info__cluster_fields(void **state)
{
    struct kube_exec_config cfg = {0};
    struct kube_target t = {0};
    struct buf ca = BUF_INIT;
    char *info, *want;

    cfg.api_version = V1BETA1;
    cfg.provide_cluster_info = true;
    t.server = "https://10.0.0.1";
    t.tls_server_name = "api.internal";
    t.insecure = true;
    t.ca_pem = CA_PEM;
    b64_encode(&ca, CA_PEM, strlen(CA_PEM));
    info = kube_exec_info(&cfg, &t);
    want = xasprintf("{\"apiVersion\":\"" V1BETA1 "\",\"kind\":"
                     "\"ExecCredential\",\"spec\":{\"interactive\":false,"
                     "\"cluster\":{\"server\":\"https://10.0.0.1\","
                     "\"tls-server-name\":\"api.internal\","
                     "\"insecure-skip-tls-verify\":true,"
                     "\"certificate-authority-data\":\"%s\"}}}",
                     buf_str(&ca));
    assert_string_equal(info, want);
    free(info);
    free(want);
    buf_free(&ca);
}

/* --- running ----------------------------------------------------------- */

static char *script(const char *name, const char *body)
{
    char *path = test_write_temp(name, body);

    assert_int_equal(chmod(path, 0700), 0);
    return path;
}

/* Checks what client-go promises a plugin, then answers. */
static const char *good_plugin =
    "#!/bin/sh\n"
    "[ \"$CLUSTER_NAME\" = prod ] || { echo \"env: $CLUSTER_NAME\" >&2; "
    "exit 3; }\n"
    "case \"$KUBERNETES_EXEC_INFO\" in\n"
    "*'\"kind\":\"ExecCredential\"'*'\"interactive\":false'*"
    "'\"server\":\"https://k.example\"'*"
    "'\"certificate-authority-data\":\"'\"$WANT_CA\"'\"'*) ;;\n"
    "*) echo \"info: $KUBERNETES_EXEC_INFO\" >&2; exit 4 ;;\n"
    "esac\n"
    "if read -r line; then echo 'stdin is not empty' >&2; exit 5; fi\n"
    "printf '{\"apiVersion\":\"%s\",\"kind\":\"ExecCredential\","
    "\"status\":{\"token\":\"tok-%s\",\"expirationTimestamp\":"
    "\"2030-01-01T00:00:00Z\"}}' \"$API\" \"$1\"\n";

static void init_cfg(struct kube_exec_config *cfg, struct kube_exec_env env[2],
                     char *command)
{
    memset(cfg, 0, sizeof(*cfg));
    cfg->api_version = V1;
    cfg->command = command;
    cfg->interactive_mode = "Never";
    cfg->install_hint = "install it with: pip install awscli";
    env[0].name = "CLUSTER_NAME";
    env[0].value = "prod";
    env[1].name = "API";
    env[1].value = V1;
    cfg->env = env;
    cfg->n_env = 2;
}

static void kube_exec_run__script__token_env_and_info(void **state)
{
    char *cmd = script("good-plugin", good_plugin);
    char *ca_file = test_write_temp("plugin-ca.crt", CA_PEM);
    char *args[] = {"arg-one", NULL};
    struct kube_exec_env env[2];
    struct kube_exec_config cfg;
    struct kube_target t = {0};
    struct kube_exec_credential c;
    struct buf ca = BUF_INIT;
    struct er_error err;

    b64_encode(&ca, CA_PEM, strlen(CA_PEM));
    setenv("WANT_CA", buf_str(&ca), 1);
    setenv("CLUSTER_NAME", "ours, to be replaced", 1);
    init_cfg(&cfg, env, cmd);
    cfg.args = (struct str_list){args, 1};
    cfg.provide_cluster_info = true;
    t.server = "https://k.example";
    t.ca_file = ca_file; /* read and passed on as data */
    if (kube_exec_run(&cfg, &t, NULL, &c, &err) != ER_OK)
        fail_msg("%s", err.msg);
    assert_string_equal(c.token, "tok-arg-one");
    assert_int_equal(c.expiration, 1893456000);
    kube_exec_credential_free(&c);
    unsetenv("CLUSTER_NAME");
    unsetenv("WANT_CA");
    buf_free(&ca);
    free(cmd);
    free(ca_file);
}

static void kube_exec_run__exit_1__status_and_hint(void **state)
{
    char *cmd = script("failing-plugin", "#!/bin/sh\n"
                                         "echo 'no credentials' >&2\n"
                                         "exit 1\n");
    struct kube_exec_env env[2];
    struct kube_exec_config cfg;
    struct kube_target t = {0};
    struct kube_exec_credential c;
    struct er_error err;

    init_cfg(&cfg, env, cmd);
    assert_int_equal(kube_exec_run(&cfg, &t, NULL, &c, &err), ER_KUBE);
    assert_contains(err.msg, cmd);
    assert_contains(err.msg, "exited with status 1");
    assert_contains(err.msg, "pip install awscli");
    free(cmd);
}

static void kube_exec_run__missing_command__install_hint(void **state)
{
    struct kube_exec_env env[2];
    struct kube_exec_config cfg;
    struct kube_target t = {0};
    struct kube_exec_credential c;
    struct er_error err;

    init_cfg(&cfg, env, "ecr-renew-no-such-plugin");
    assert_int_equal(kube_exec_run(&cfg, &t, NULL, &c, &err), ER_CONFIG);
    assert_contains(err.msg, "ecr-renew-no-such-plugin cannot be run");
    assert_contains(err.msg, "not found in PATH");
    assert_contains(err.msg, "pip install awscli");
    init_cfg(&cfg, env, "/nonexistent/dir/plugin");
    assert_int_equal(kube_exec_run(&cfg, &t, NULL, &c, &err), ER_CONFIG);
    assert_contains(err.msg, "pip install awscli");
}

static void kube_exec_run__bad_output__parse_error(void **state)
{
    char *cmd = script("chatty-plugin", "#!/bin/sh\n"
                                        "echo 'Token: SECRET'\n");
    struct kube_exec_env env[2];
    struct kube_exec_config cfg;
    struct kube_target t = {0};
    struct kube_exec_credential c;
    struct er_error err;

    init_cfg(&cfg, env, cmd);
    assert_int_equal(kube_exec_run(&cfg, &t, NULL, &c, &err), ER_PARSE);
    assert_contains(err.msg, "exec plugin ");
    assert_contains(err.msg, "-plugin: its output is not JSON");
    assert_not_contains(err.msg, ": :");
    assert_not_contains(err.msg, "SECRET");
    free(cmd);
}

static void kube_exec_run__too_much_output__refused(void **state)
{
    char *cmd = script("flood-plugin", "#!/bin/sh\n"
                                       "exec yes\n");
    struct kube_exec_env env[2];
    struct kube_exec_config cfg;
    struct kube_target t = {0};
    struct kube_exec_credential c;
    struct er_error err;

    init_cfg(&cfg, env, cmd);
    assert_int_equal(kube_exec_run(&cfg, &t, NULL, &c, &err), ER_PARSE);
    assert_contains(err.msg, "printed more than");
    free(cmd);
}

/* The limit comes down to a second through ECR_RENEW_EXEC_TIMEOUT; the
 * sleep runs in a child of the script, so killing only the script would
 * leave stdout open and the read waiting. */
static void kube_exec_run__hangs__killed_after_timeout(void **state)
{
    char *cmd = script("hanging-plugin", "#!/bin/sh\n"
                                         "sleep 30\n"
                                         "echo '{}'\n");
    struct kube_exec_env env[2];
    struct kube_exec_config cfg;
    struct kube_target t = {0};
    struct kube_exec_credential c;
    struct er_error err;
    time_t start = time(NULL);

    setenv("ECR_RENEW_EXEC_TIMEOUT", "1", 1);
    init_cfg(&cfg, env, cmd);
    assert_int_equal(kube_exec_run(&cfg, &t, NULL, &c, &err), ER_KUBE);
    unsetenv("ECR_RENEW_EXEC_TIMEOUT");
    assert_contains(err.msg, "did not finish within 1s; killed it");
    assert_true(time(NULL) - start < 10);
    free(cmd);
}

static void kube_exec_run__interactive_always__refused(void **state)
{
    struct kube_exec_env env[2];
    struct kube_exec_config cfg;
    struct kube_target t = {0};
    struct kube_exec_credential c;
    struct er_error err;

    init_cfg(&cfg, env, "/bin/true");
    cfg.interactive_mode = "Always";
    assert_int_equal(kube_exec_run(&cfg, &t, NULL, &c, &err), ER_CONFIG);
    assert_contains(err.msg, "interactiveMode Always");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(kube_exec_parse__token__read),
        cmocka_unit_test(kube_exec_parse__cert_and_key__read),
        cmocka_unit_test(kube_exec_parse__expiration__rfc3339),
        cmocka_unit_test(kube_exec_parse__wrong_api_version__error),
        cmocka_unit_test(kube_exec_parse__missing_status__error),
        cmocka_unit_test(kube_exec_parse__garbage__error_without_echo),
        cmocka_unit_test(kube_exec_info__without_cluster__minimal),
        cmocka_unit_test(kube_exec_info__provide_cluster_info__cluster_fields),
        cmocka_unit_test(kube_exec_run__script__token_env_and_info),
        cmocka_unit_test(kube_exec_run__exit_1__status_and_hint),
        cmocka_unit_test(kube_exec_run__missing_command__install_hint),
        cmocka_unit_test(kube_exec_run__bad_output__parse_error),
        cmocka_unit_test(kube_exec_run__too_much_output__refused),
        cmocka_unit_test(kube_exec_run__hangs__killed_after_timeout),
        cmocka_unit_test(kube_exec_run__interactive_always__refused),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
