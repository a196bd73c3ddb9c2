/*
 * Resolving kubeconfigs as kubectl does: fields, relative paths, base64
 * data, exec plugins, merging, errors that name file and line, and the
 * in-cluster configuration.
 */
#include "core/b64.h"
#include "core/buf.h"
#include "core/xalloc.h"
#include "kube/kubeconfig.h"
#include "test_assert.h"
#include "test_util.h"

#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define CA_PEM                                                                 \
    "-----BEGIN CERTIFICATE-----\nMIIBca\n-----END CERTIFICATE-----\n"
#define CERT_PEM                                                               \
    "-----BEGIN CERTIFICATE-----\nMIIBcert\n-----END CERTIFICATE-----\n"
#define KEY_PEM                                                                \
    "-----BEGIN EC PRIVATE KEY-----\nSECRETKEY\n-----END EC PRIVATE "          \
    "KEY-----\n"

/* A complete kubeconfig whose user part is left to the test. */
#define HEAD                                                                   \
    "apiVersion: v1\n"                    /* 1 */                              \
    "kind: Config\n"                      /* 2 */                              \
    "current-context: dev\n"              /* 3 */                              \
    "clusters:\n"                         /* 4 */                              \
    "- name: dev-cluster\n"               /* 5 */                              \
    "  cluster:\n"                        /* 6 */                              \
    "    server: https://10.0.0.1:6443\n" /* 7 */                              \
    "contexts:\n"                         /* 8 */                              \
    "- name: dev\n"                       /* 9 */                              \
    "  context:\n"                        /* 10 */                             \
    "    cluster: dev-cluster\n"          /* 11 */                             \
    "    user: dev-user\n"                /* 12 */                             \
    "    namespace: runtime\n"            /* 13 */                             \
    "users:\n"                            /* 14 */                             \
    "- name: dev-user\n"                  /* 15 */                             \
    "  user:\n"                           /* 16 */

static enum er_code parse1(const char *text, const char *name, const char *ctx,
                           struct kube_target *t, struct er_error *err)
{
    const char *texts[1] = {text};
    size_t lens[1] = {strlen(text)};
    const char *names[1] = {name};

    memset(t, 0, sizeof(*t));
    er_clear(err);
    return kubeconfig_parse(texts, lens, names, 1, ctx, t, err);
}

static void must_parse(const char *text, const char *name,
                       struct kube_target *t)
{
    struct er_error err;

    if (parse1(text, name, NULL, t, &err) != ER_OK)
        fail_msg("parse failed: %s", err.msg);
}

/* Returns the error message, failing the test unless it is ER_CONFIG. */
static const char *must_fail(const char *text, const char *name,
                             const char *ctx, struct er_error *err)
{
    struct kube_target t;

    if (parse1(text, name, ctx, &t, err) == ER_OK)
        fail_msg("parse succeeded; expected an error");
    assert_int_equal(err->code, ER_CONFIG);
    return err->msg;
}

static char *b64(const char *s)
{
    struct buf b = BUF_INIT;

    b64_encode(&b, s, strlen(s));
    return buf_detach(&b, NULL);
}

static char *with_user(const char *user_lines)
{
    return xasprintf("%s%s", HEAD, user_lines);
}

/* --- fields ------------------------------------------------------------ */

static void kubeconfig_parse__token_user__server_token_namespace(void **state)
{
    char *text = with_user("    token: abc.def\n");
    struct kube_target t;

    must_parse(text, "/home/u/.kube/config", &t);
    assert_string_equal(t.server, "https://10.0.0.1:6443");
    assert_string_equal(t.token, "abc.def");
    assert_null(t.token_file);
    assert_string_equal(t.namespace, "runtime");
    assert_string_equal(t.origin,
                        "kubeconfig /home/u/.kube/config (context dev)");
    assert_false(t.insecure);
    assert_null(t.ca_file);
    assert_null(t.ca_pem);
    assert_null(t.exec);
    kube_target_free(&t);
    free(text);
}

static void kubeconfig_parse__token_file_relative__joined_to_dir(void **state)
{
    char *text = with_user("    token: kept\n"
                           "    tokenFile: tokens/dev\n");
    struct kube_target t;

    must_parse(text, "/home/u/.kube/config", &t);
    assert_string_equal(t.token_file, "/home/u/.kube/tokens/dev");
    /* Both kept; the client prefers the file, as client-go does. */
    assert_string_equal(t.token, "kept");
    kube_target_free(&t);
    free(text);
}

static void kubeconfig_parse__client_cert_files__made_absolute(void **state)
{
    char *text = with_user("    client-certificate: certs/dev.crt\n"
                           "    client-key: /etc/keys/dev.key\n");
    struct kube_target t;

    must_parse(text, "/home/u/.kube/config", &t);
    assert_string_equal(t.client_cert_file, "/home/u/.kube/certs/dev.crt");
    assert_string_equal(t.client_key_file, "/etc/keys/dev.key");
    assert_null(t.client_cert_pem);
    assert_null(t.client_key_pem);
    kube_target_free(&t);
    free(text);
}

static void kubeconfig_parse__client_cert_data__decoded(void **state)
{
    char *c = b64(CERT_PEM), *k = b64(KEY_PEM);
    char *user = xasprintf("    client-certificate-data: %s\n"
                           "    client-key-data: %s\n"
                           "    client-key: ignored.key\n",
                           c, k);
    char *text = with_user(user);
    struct kube_target t;

    must_parse(text, "/k/config", &t);
    assert_string_equal(t.client_cert_pem, CERT_PEM);
    assert_string_equal(t.client_key_pem, KEY_PEM);
    /* The -data form wins, so the client sees one source only. */
    assert_null(t.client_key_file);
    kube_target_free(&t);
    free(text);
    free(user);
    free(c);
    free(k);
}

static void kubeconfig_parse__ca_data__decoded(void **state)
{
    char *ca = b64(CA_PEM);
    char *text = xasprintf("clusters:\n"
                           "- name: c\n"
                           "  cluster:\n"
                           "    server: https://k\n"
                           "    certificate-authority: ca.crt\n"
                           "    certificate-authority-data: %s\n"
                           "users:\n- name: u\n"
                           "contexts:\n"
                           "- name: x\n"
                           "  context: {cluster: c, user: u}\n"
                           "current-context: x\n",
                           ca);
    struct kube_target t;

    must_parse(text, "/k/config", &t);
    assert_string_equal(t.ca_pem, CA_PEM);
    assert_null(t.ca_file);
    kube_target_free(&t);
    free(text);
    free(ca);
}

static void kubeconfig_parse__ca_data_wrapped__line_breaks_skipped(void **state)
{
    char *ca = b64(CA_PEM);
    size_t half = strlen(ca) / 2;
    char *text = xasprintf("clusters:\n"
                           "- name: c\n"
                           "  cluster:\n"
                           "    server: https://k\n"
                           "    certificate-authority-data: |\n"
                           "      %.*s\n"
                           "      %s\n"
                           "users: [{name: u}]\n"
                           "contexts: [{name: x, context: {cluster: c, "
                           "user: u}}]\n"
                           "current-context: x\n",
                           (int)half, ca, ca + half);
    struct kube_target t;

    must_parse(text, "/k/config", &t);
    assert_string_equal(t.ca_pem, CA_PEM);
    kube_target_free(&t);
    free(text);
    free(ca);
}

static void kubeconfig_parse__ca_file__relative_joined(void **state)
{
    const char *text = "clusters:\n"
                       "- name: c\n"
                       "  cluster:\n"
                       "    server: https://k\n"
                       "    certificate-authority: pki/ca.crt\n"
                       "users: [{name: u, user: {}}]\n"
                       "contexts: [{name: x, context: {cluster: c, user: "
                       "u}}]\n"
                       "current-context: x\n";
    struct kube_target t;

    must_parse(text, "/etc/kube/admin.conf", &t);
    assert_string_equal(t.ca_file, "/etc/kube/pki/ca.crt");
    /* A user with nothing set is anonymous, not an error. */
    assert_null(t.token);
    assert_null(t.token_file);
    assert_null(t.client_cert_file);
    assert_null(t.exec);
    kube_target_free(&t);
}

static bool insecure_for(const char *value)
{
    char *text = xasprintf("clusters:\n"
                           "- name: c\n"
                           "  cluster:\n"
                           "    server: https://k\n"
                           "    insecure-skip-tls-verify: %s\n"
                           "users: [{name: u}]\n"
                           "contexts: [{name: x, context: {cluster: c, "
                           "user: u}}]\n"
                           "current-context: x\n",
                           value);
    struct kube_target t;
    bool insecure;

    must_parse(text, "/k/config", &t);
    insecure = t.insecure;
    kube_target_free(&t);
    free(text);
    return insecure;
}

static void kubeconfig_parse__insecure__only_when_true(void **state)
{
    assert_true(insecure_for("true"));
    assert_true(insecure_for("True"));
    assert_false(insecure_for("false"));
    assert_false(insecure_for("\"true\""));
    assert_false(insecure_for("yes"));
    assert_false(insecure_for("1"));
    assert_false(insecure_for("~"));
    assert_false(insecure_for("[true]"));
}

static void kubeconfig_parse__tls_server_name_and_proxy__kept(void **state)
{
    const char *text = "clusters:\n"
                       "- name: c\n"
                       "  cluster:\n"
                       "    server: https://10.1.2.3\n"
                       "    tls-server-name: api.internal\n"
                       "    proxy-url: http://proxy:3128\n"
                       "users: [{name: u}]\n"
                       "contexts: [{name: x, context: {cluster: c, user: "
                       "u}}]\n"
                       "current-context: x\n";
    struct kube_target t;

    must_parse(text, "/k/config", &t);
    assert_string_equal(t.tls_server_name, "api.internal");
    assert_string_equal(t.proxy_url, "http://proxy:3128");
    assert_null(t.namespace);
    kube_target_free(&t);
}

/* --- exec -------------------------------------------------------------- */

static void kubeconfig_parse__exec_v1__all_fields(void **state)
{
    char *text = with_user(
        "    exec:\n"
        "      apiVersion: client.authentication.k8s.io/v1\n"
        "      command: aws\n"
        "      args: [--region, eu-west-1, eks, get-token, --cluster-name, "
        "prod]\n"
        "      env:\n"
        "      - name: AWS_PROFILE\n"
        "        value: prod\n"
        "      - name: EMPTY\n"
        "      interactiveMode: Never\n"
        "      provideClusterInfo: true\n"
        "      installHint: install the AWS CLI\n");
    struct kube_target t;
    struct kube_exec_config *e;

    must_parse(text, "/k/config", &t);
    assert_non_null(e = t.exec);
    assert_string_equal(e->api_version, "client.authentication.k8s.io/v1");
    assert_string_equal(e->command, "aws");
    assert_int_equal(e->args.n, 6);
    assert_string_equal(e->args.items[0], "--region");
    assert_string_equal(e->args.items[5], "prod");
    assert_null(e->args.items[6]);
    assert_int_equal(e->n_env, 2);
    assert_string_equal(e->env[0].name, "AWS_PROFILE");
    assert_string_equal(e->env[0].value, "prod");
    assert_string_equal(e->env[1].name, "EMPTY");
    assert_string_equal(e->env[1].value, "");
    assert_string_equal(e->interactive_mode, "Never");
    assert_true(e->provide_cluster_info);
    assert_string_equal(e->install_hint, "install the AWS CLI");
    kube_target_free(&t);
    free(text);
}

static void kubeconfig_parse__exec_v1beta1__mode_optional(void **state)
{
    char *text =
        with_user("    exec:\n"
                  "      apiVersion: client.authentication.k8s.io/v1beta1\n"
                  "      command: bin/get-token\n");
    struct kube_target t;

    must_parse(text, "/home/u/.kube/config", &t);
    assert_non_null(t.exec);
    assert_null(t.exec->interactive_mode);
    assert_false(t.exec->provide_cluster_info);
    /* A command with a '/' is the kubeconfig's neighbour. */
    assert_string_equal(t.exec->command, "/home/u/.kube/bin/get-token");
    assert_int_equal(t.exec->args.n, 0);
    kube_target_free(&t);
    free(text);
}

/* --- choosing and merging ---------------------------------------------- */

static const char *two_contexts =
    "current-context: a\n"
    "clusters:\n"
    "- {name: ca, cluster: {server: https://a}}\n"
    "- {name: cb, cluster: {server: https://b}}\n"
    "users: [{name: u, user: {token: t}}]\n"
    "contexts:\n"
    "- {name: a, context: {cluster: ca, user: u}}\n"
    "- {name: b, context: {cluster: cb, user: u, namespace: nb}}\n";

static void kubeconfig_parse__context_override__wins(void **state)
{
    struct kube_target t;
    struct er_error err;

    assert_int_equal(parse1(two_contexts, "/k/c", "b", &t, &err), ER_OK);
    assert_string_equal(t.server, "https://b");
    assert_string_equal(t.namespace, "nb");
    assert_string_equal(t.origin, "kubeconfig /k/c (context b)");
    kube_target_free(&t);
    assert_int_equal(parse1(two_contexts, "/k/c", NULL, &t, &err), ER_OK);
    assert_string_equal(t.server, "https://a");
    kube_target_free(&t);
}

static void kubeconfig_parse__two_files__first_wins(void **state)
{
    const char *first = "clusters:\n"
                        "- {name: c, cluster: {server: https://first}}\n"
                        "users:\n"
                        "- {name: u, user: {tokenFile: tok}}\n"
                        "contexts:\n"
                        "- {name: x, context: {cluster: c, user: u, "
                        "namespace: one}}\n";
    const char *second = "current-context: x\n"
                         "clusters:\n"
                         "- {name: c, cluster: {server: https://second}}\n"
                         "- {name: only2, cluster: {server: https://o2}}\n"
                         "users:\n"
                         "- {name: u, user: {token: second}}\n"
                         "contexts:\n"
                         "- {name: x, context: {cluster: only2, user: u}}\n";
    const char *texts[2] = {first, second};
    size_t lens[2] = {strlen(first), strlen(second)};
    const char *names[2] = {"/one/config", "/two/config"};
    struct kube_target t;
    struct er_error err;

    assert_int_equal(kubeconfig_parse(texts, lens, names, 2, NULL, &t, &err),
                     ER_OK);
    /* current-context from the second file, everything else the first. */
    assert_string_equal(t.server, "https://first");
    assert_string_equal(t.namespace, "one");
    assert_string_equal(t.token_file, "/one/tok");
    assert_null(t.token);
    assert_string_equal(t.origin, "kubeconfig /one/config (context x)");
    kube_target_free(&t);
}

static void kubeconfig_parse__two_current_contexts__first_wins(void **state)
{
    const char *first = "current-context: a\n";
    const char *texts[2] = {first, two_contexts};
    size_t lens[2] = {strlen(first), strlen(two_contexts)};
    const char *names[2] = {"/one", "/two"};
    struct kube_target t;
    struct er_error err;

    assert_int_equal(kubeconfig_parse(texts, lens, names, 2, NULL, &t, &err),
                     ER_OK);
    assert_string_equal(t.server, "https://a");
    kube_target_free(&t);
}

static void kubeconfig_parse__json__accepted(void **state)
{
    const char *text =
        "{\"apiVersion\":\"v1\",\"kind\":\"Config\","
        "\"current-context\":\"j\","
        "\"clusters\":[{\"name\":\"c\",\"cluster\":{\"server\":"
        "\"https://json\",\"insecure-skip-tls-verify\":true}}],"
        "\"users\":[{\"name\":\"u\",\"user\":{\"token\":\"jt\"}}],"
        "\"contexts\":[{\"name\":\"j\",\"context\":{\"cluster\":\"c\","
        "\"user\":\"u\"}}]}";
    struct kube_target t;

    must_parse(text, "/k/config.json", &t);
    assert_string_equal(t.server, "https://json");
    assert_string_equal(t.token, "jt");
    assert_true(t.insecure);
    kube_target_free(&t);
}

static void kubeconfig_parse__anchors_and_aliases__followed(void **state)
{
    const char *text = "current-context: x\n"
                       "clusters:\n"
                       "- name: c\n"
                       "  cluster: &cl {server: https://shared}\n"
                       "- name: d\n"
                       "  cluster: *cl\n"
                       "users: [{name: u}]\n"
                       "contexts: [{name: x, context: {cluster: d, user: "
                       "u}}]\n";
    struct kube_target t;

    must_parse(text, "/k/config", &t);
    assert_string_equal(t.server, "https://shared");
    kube_target_free(&t);
}

/* The later "clusters" replaces the earlier, which held the anchor; the
 * alias must still find the node (a fuzzer found this). */
static void kubeconfig_parse__alias_to_replaced_key__still_valid(void **state)
{
    const char *text =
        "current-context: x\n"
        "clusters: [{name: c, cluster: &cl {server: https://a}}]\n"
        "clusters:\n"
        "- {name: d, cluster: *cl}\n"
        "users: [{name: u}]\n"
        "contexts: [{name: x, context: {cluster: d, user: "
        "u}}]\n";
    struct kube_target t;

    must_parse(text, "/k/config", &t);
    assert_string_equal(t.server, "https://a");
    kube_target_free(&t);
}

/* --- errors ------------------------------------------------------------ */

static void kubeconfig_parse__syntax_error__file_line_column(void **state)
{
    struct er_error err;
    const char *msg = must_fail("clusters:\n"
                                "- name: c\n"
                                "  cluster: {server: x\n"
                                "users: []\n",
                                "/k/bad", NULL, &err);

    assert_contains(msg, "/k/bad:4:");
    assert_contains(msg, "did not find expected ',' or '}'");
}

static void kubeconfig_parse__bad_indent__file_line_column(void **state)
{
    struct er_error err;
    const char *msg = must_fail("users:\n"
                                "- name: u\n"
                                "  user:\n"
                                "    token: a\n"
                                "   tokenFile: b\n",
                                "/k/bad", NULL, &err);

    assert_contains(msg, "/k/bad:5:4: ");
}

static void kubeconfig_parse__invalid_utf8__file_line(void **state)
{
    struct er_error err;
    const char *msg = must_fail("a: b\nc: \xff\xfe\n", "/k/bin", NULL, &err);

    assert_contains(msg, "/k/bin:2:4: ");
}

static void kubeconfig_parse__no_current_context__suggests_flag(void **state)
{
    struct er_error err;
    const char *msg = must_fail("clusters: []\n", "/k/config", NULL, &err);

    assert_contains(msg, "/k/config");
    assert_contains(msg, "no current-context");
    assert_contains(msg, "--context");
}

static void kubeconfig_parse__empty_file__no_current_context(void **state)
{
    struct er_error err;
    const char *msg = must_fail("", "/k/empty", NULL, &err);

    assert_contains(msg, "no current-context");
}

static void kubeconfig_parse__unknown_context__named(void **state)
{
    struct er_error err;
    const char *msg = must_fail(two_contexts, "/k/c", "nope", &err);

    assert_contains(msg, "context \"nope\"");
    assert_contains(msg, "--context");
    assert_contains(msg, "/k/c");
    msg = must_fail("current-context: gone\n", "/k/d", NULL, &err);
    assert_contains(msg, "current-context \"gone\" is not defined");
}

static void kubeconfig_parse__unknown_cluster__names_context_line(void **state)
{
    struct er_error err;
    const char *msg = must_fail("current-context: x\n"
                                "users: [{name: u}]\n"
                                "contexts:\n"
                                "- name: x\n"
                                "  context:\n"
                                "    cluster: missing\n"
                                "    user: u\n",
                                "/k/config", NULL, &err);

    assert_contains(msg, "/k/config:6: context \"x\"");
    assert_contains(msg, "cluster \"missing\"");
}

static void kubeconfig_parse__unknown_user__names_context_line(void **state)
{
    struct er_error err;
    const char *msg = must_fail("current-context: x\n"
                                "clusters: [{name: c, cluster: {server: s}}]\n"
                                "contexts:\n"
                                "- name: x\n"
                                "  context:\n"
                                "    cluster: c\n"
                                "    user: ghost\n",
                                "/k/config", NULL, &err);

    assert_contains(msg, "/k/config:7: context \"x\"");
    assert_contains(msg, "user \"ghost\"");
}

static void kubeconfig_parse__context_without_user__error(void **state)
{
    struct er_error err;
    const char *msg = must_fail("current-context: x\n"
                                "clusters: [{name: c, cluster: {server: s}}]\n"
                                "contexts:\n"
                                "- name: x\n"
                                "  context: {cluster: c}\n",
                                "/k/config", NULL, &err);

    assert_contains(msg, "/k/config:5: context \"x\": names no user");
}

static void kubeconfig_parse__cluster_without_server__error(void **state)
{
    struct er_error err;
    const char *msg = must_fail("current-context: x\n"
                                "clusters:\n"
                                "- name: c\n"
                                "  cluster:\n"
                                "    tls-server-name: a\n"
                                "users: [{name: u}]\n"
                                "contexts: [{name: x, context: {cluster: c, "
                                "user: u}}]\n",
                                "/k/config", NULL, &err);

    assert_contains(msg, "/k/config:5: cluster \"c\": has no server");
}

static void kubeconfig_parse__bad_base64__names_file_and_field(void **state)
{
    struct er_error err;
    char *text = with_user("    token: SECRET-TOKEN-VALUE\n"
                           "    client-certificate-data: bm90IHBlbQ==\n"
                           "    client-key-data: SECRET*KEY*DATA\n");
    const char *msg = must_fail(text, "/k/config", NULL, &err);

    assert_contains(msg, "/k/config:19: user \"dev-user\"");
    assert_contains(msg, "client-key-data is not valid base64");
    assert_not_contains(msg, "SECRET");
    free(text);
}

static void kubeconfig_parse__ca_data_not_base64__error(void **state)
{
    struct er_error err;
    const char *msg = must_fail("current-context: x\n"
                                "clusters:\n"
                                "- name: c\n"
                                "  cluster:\n"
                                "    server: https://k\n"
                                "    certificate-authority-data: abc\n"
                                "users: [{name: u}]\n"
                                "contexts: [{name: x, context: {cluster: c, "
                                "user: u}}]\n",
                                "/k/config", NULL, &err);

    assert_contains(msg, "/k/config:6: cluster \"c\"");
    assert_contains(msg, "certificate-authority-data is not valid base64");
}

static void kubeconfig_parse__exec_v1alpha1__clear_error(void **state)
{
    struct er_error err;
    char *text =
        with_user("    exec:\n"
                  "      apiVersion: client.authentication.k8s.io/v1alpha1\n"
                  "      command: aws\n");
    const char *msg = must_fail(text, "/k/config", NULL, &err);

    assert_contains(msg, "/k/config:18: user \"dev-user\": exec");
    assert_contains(msg, "v1alpha1 is no longer supported");
    assert_contains(msg, "client.authentication.k8s.io/v1beta1");
    free(text);
}

static void kubeconfig_parse__exec_v1_without_mode__error(void **state)
{
    struct er_error err;
    char *text = with_user("    exec:\n"
                           "      apiVersion: client.authentication.k8s.io/v1\n"
                           "      command: aws\n");
    const char *msg = must_fail(text, "/k/config", NULL, &err);

    assert_contains(msg, "/k/config:18: user \"dev-user\": exec");
    assert_contains(msg, "interactiveMode is required");
    free(text);
}

static void kubeconfig_parse__exec_bad_mode__error(void **state)
{
    struct er_error err;
    char *text = with_user("    exec:\n"
                           "      apiVersion: client.authentication.k8s.io/v1\n"
                           "      command: aws\n"
                           "      interactiveMode: Sometimes\n");
    const char *msg = must_fail(text, "/k/config", NULL, &err);

    assert_contains(msg, "/k/config:20:");
    assert_contains(msg, "\"Sometimes\"");
    free(text);
}

static void kubeconfig_parse__exec_without_command__error(void **state)
{
    struct er_error err;
    char *text =
        with_user("    exec:\n"
                  "      apiVersion: client.authentication.k8s.io/v1beta1\n"
                  "      env: [{value: x}]\n");
    const char *msg = must_fail(text, "/k/config", NULL, &err);

    assert_contains(msg, "command is required");
    free(text);
}

static void kubeconfig_parse__exec_env_without_name__error(void **state)
{
    struct er_error err;
    char *text =
        with_user("    exec:\n"
                  "      apiVersion: client.authentication.k8s.io/v1beta1\n"
                  "      command: aws\n"
                  "      env:\n"
                  "      - value: SECRET\n");
    const char *msg = must_fail(text, "/k/config", NULL, &err);

    assert_contains(msg, "/k/config:21: user \"dev-user\": exec: env entry");
    assert_contains(msg, "name is required");
    assert_not_contains(msg, "SECRET");
    free(text);
}

static void kubeconfig_parse__cert_without_key__error(void **state)
{
    struct er_error err;
    char *text = with_user("    client-certificate: c.crt\n");
    const char *msg = must_fail(text, "/k/config", NULL, &err);

    assert_contains(msg, "client-certificate without client-key");
    free(text);
}

static void kubeconfig_parse__auth_provider__refused(void **state)
{
    struct er_error err;
    char *text = with_user("    auth-provider:\n"
                           "      name: gcp\n");
    const char *msg = must_fail(text, "/k/config", NULL, &err);

    assert_contains(msg, "/k/config:18: user \"dev-user\"");
    assert_contains(msg, "auth-provider");
    free(text);
}

static void kubeconfig_parse__duplicate_name_in_file__error(void **state)
{
    struct er_error err;
    const char *msg = must_fail("current-context: x\n"
                                "clusters:\n"
                                "- {name: c, cluster: {server: https://1}}\n"
                                "- {name: c, cluster: {server: https://2}}\n"
                                "users: [{name: u}]\n"
                                "contexts: [{name: x, context: {cluster: c, "
                                "user: u}}]\n",
                                "/k/config", NULL, &err);

    assert_contains(msg, "/k/config:4: cluster \"c\": defined twice (first "
                         "at line 3)");
}

static void kubeconfig_parse__wrong_types__file_line(void **state)
{
    struct er_error err;
    const char *msg;

    msg = must_fail("current-context: x\nclusters: {c: 1}\n"
                    "contexts: [{name: x, context: {cluster: c}}]\n",
                    "/k/a", NULL, &err);
    assert_contains(msg, "/k/a:2: kubeconfig: clusters must be a list");
    msg = must_fail("- just\n- a list\n", "/k/b", NULL, &err);
    assert_contains(msg, "/k/b:1: kubeconfig: not a mapping");
    msg = must_fail("current-context: x\n"
                    "clusters: [{name: c, cluster: {server: [a, b]}}]\n"
                    "users: [{name: u}]\n"
                    "contexts: [{name: x, context: {cluster: c, user: "
                    "u}}]\n",
                    "/k/c", NULL, &err);
    assert_contains(msg, "/k/c:2: cluster \"c\": server must be a string");
    msg = must_fail("current-context: [x]\n", "/k/d", NULL, &err);
    assert_contains(msg, "/k/d:1: kubeconfig: current-context must be a "
                         "string");
}

static void kubeconfig_parse__deep_nesting__refused(void **state)
{
    struct er_error err;
    char text[400];
    const char *msg;

    memset(text, '[', 300);
    text[300] = '\0';
    msg = must_fail(text, "/k/deep", NULL, &err);
    assert_contains(msg, "/k/deep:1:");
    assert_contains(msg, "nested deeper than");
}

/* --- reading files ----------------------------------------------------- */

static char *dir_of(const char *path)
{
    char *copy = xstrdup(path), *dir = xstrdup(dirname(copy));

    free(copy);
    return dir;
}

static void kubeconfig_load__list__missing_skipped_paths_resolved(void **state)
{
    char *cfg = test_write_temp("load-config",
                                "current-context: x\n"
                                "clusters: [{name: c, cluster: {server: "
                                "https://k, certificate-authority: ca}}]\n"
                                "users: [{name: u}]\n"
                                "contexts: [{name: x, context: {cluster: c, "
                                "user: u}}]\n");
    char *dir = dir_of(cfg);
    char *paths = xasprintf(":%s/does-not-exist:%s:%s", dir, cfg, cfg);
    char *ca = xasprintf("%s/ca", dir);
    struct kube_target t;
    struct er_error err;

    assert_int_equal(kubeconfig_load(paths, NULL, &t, &err), ER_OK);
    assert_string_equal(t.ca_file, ca);
    kube_target_free(&t);
    free(cfg);
    free(dir);
    free(paths);
    free(ca);
}

static void kubeconfig_load__relative_path__made_absolute(void **state)
{
    char *cfg = test_write_temp("rel-config",
                                "current-context: x\n"
                                "clusters: [{name: c, cluster: {server: "
                                "https://k}}]\n"
                                "users: [{name: u, user: {tokenFile: t}}]\n"
                                "contexts: [{name: x, context: {cluster: c, "
                                "user: u}}]\n");
    char *dir = dir_of(cfg), *want = xasprintf("%s/t", dir);
    char cwd[4096];
    struct kube_target t;
    struct er_error err;

    assert_non_null(getcwd(cwd, sizeof(cwd)));
    assert_int_equal(chdir(dir), 0);
    assert_int_equal(kubeconfig_load("rel-config", NULL, &t, &err), ER_OK);
    assert_int_equal(chdir(cwd), 0);
    assert_string_equal(t.token_file, want);
    kube_target_free(&t);
    free(cfg);
    free(dir);
    free(want);
}

static void kubeconfig_load__none_exist__error(void **state)
{
    struct kube_target t;
    struct er_error err;

    assert_int_equal(
        kubeconfig_load("/nonexistent/a:/nonexistent/b", NULL, &t, &err),
        ER_CONFIG);
    assert_contains(err.msg, "no kubeconfig file found");
    assert_contains(err.msg, "/nonexistent/a:/nonexistent/b");
    assert_int_equal(kubeconfig_load("", NULL, &t, &err), ER_CONFIG);
}

static void kubeconfig_load__syntax_error__absolute_file_and_line(void **state)
{
    char *cfg = test_write_temp("broken-config", "a: [\n");
    struct kube_target t;
    struct er_error err;
    char *want;

    assert_int_equal(kubeconfig_load(cfg, NULL, &t, &err), ER_CONFIG);
    want = xasprintf("%s:2:1: ", cfg);
    assert_contains(err.msg, want);
    free(want);
    free(cfg);
}

/* --- in-cluster -------------------------------------------------------- */

static char *sa_dir(void)
{
    char *tok = test_write_temp("token", "eyJhbGciOi.fake\n");
    char *ca = test_write_temp("ca.crt", CA_PEM);
    char *ns = test_write_temp("namespace", "runtime\n");
    char *dir = dir_of(tok);

    free(tok);
    free(ca);
    free(ns);
    return dir;
}

static void kube_incluster__ipv4__target(void **state)
{
    char *dir = sa_dir(), *tok = xasprintf("%s/token", dir);
    char *ca = xasprintf("%s/ca.crt", dir);
    struct kube_target t;
    struct er_error err;

    assert_int_equal(kube_incluster("10.96.0.1", "443", dir, &t, &err), ER_OK);
    assert_string_equal(t.server, "https://10.96.0.1:443");
    assert_string_equal(t.token_file, tok);
    assert_null(t.token); /* re-read per request, never kept */
    assert_string_equal(t.ca_file, ca);
    assert_string_equal(t.namespace, "runtime");
    assert_string_equal(t.origin, "in-cluster");
    kube_target_free(&t);
    free(dir);
    free(tok);
    free(ca);
}

static void kube_incluster__ipv6__bracketed(void **state)
{
    char *dir = sa_dir();
    struct kube_target t;
    struct er_error err;

    assert_int_equal(kube_incluster("fd00:10:96::1", "6443", dir, &t, &err),
                     ER_OK);
    assert_string_equal(t.server, "https://[fd00:10:96::1]:6443");
    kube_target_free(&t);
    free(dir);
}

static void kube_incluster__missing_token__names_file(void **state)
{
    char *dir = sa_dir(), *empty = xasprintf("%s/empty-sa", dir);
    char *want = xasprintf("%s/token", empty);
    struct kube_target t;
    struct er_error err;

    assert_int_equal(mkdir(empty, 0700), 0);
    assert_int_equal(kube_incluster("10.0.0.1", "443", empty, &t, &err),
                     ER_CONFIG);
    assert_contains(err.msg, want);
    assert_contains(err.msg, "No such file");
    free(want);
    want = xasprintf("%s/ca.crt", empty);
    free(test_write_temp("empty-sa/token", "x"));
    assert_int_equal(kube_incluster("10.0.0.1", "443", empty, &t, &err),
                     ER_CONFIG);
    assert_contains(err.msg, want);
    free(dir);
    free(empty);
    free(want);
}

static void kube_incluster__no_service_env__error(void **state)
{
    struct kube_target t;
    struct er_error err;

    assert_int_equal(kube_incluster(NULL, "443", "/x", &t, &err), ER_CONFIG);
    assert_contains(err.msg, "KUBERNETES_SERVICE_HOST");
    assert_int_equal(kube_incluster("10.0.0.1", "https", "/x", &t, &err),
                     ER_CONFIG);
    assert_contains(err.msg, "not a port number");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(kubeconfig_parse__token_user__server_token_namespace),
        cmocka_unit_test(kubeconfig_parse__token_file_relative__joined_to_dir),
        cmocka_unit_test(kubeconfig_parse__client_cert_files__made_absolute),
        cmocka_unit_test(kubeconfig_parse__client_cert_data__decoded),
        cmocka_unit_test(kubeconfig_parse__ca_data__decoded),
        cmocka_unit_test(
            kubeconfig_parse__ca_data_wrapped__line_breaks_skipped),
        cmocka_unit_test(kubeconfig_parse__ca_file__relative_joined),
        cmocka_unit_test(kubeconfig_parse__insecure__only_when_true),
        cmocka_unit_test(kubeconfig_parse__tls_server_name_and_proxy__kept),
        cmocka_unit_test(kubeconfig_parse__exec_v1__all_fields),
        cmocka_unit_test(kubeconfig_parse__exec_v1beta1__mode_optional),
        cmocka_unit_test(kubeconfig_parse__context_override__wins),
        cmocka_unit_test(kubeconfig_parse__two_files__first_wins),
        cmocka_unit_test(kubeconfig_parse__two_current_contexts__first_wins),
        cmocka_unit_test(kubeconfig_parse__json__accepted),
        cmocka_unit_test(kubeconfig_parse__anchors_and_aliases__followed),
        cmocka_unit_test(kubeconfig_parse__alias_to_replaced_key__still_valid),
        cmocka_unit_test(kubeconfig_parse__syntax_error__file_line_column),
        cmocka_unit_test(kubeconfig_parse__bad_indent__file_line_column),
        cmocka_unit_test(kubeconfig_parse__invalid_utf8__file_line),
        cmocka_unit_test(kubeconfig_parse__no_current_context__suggests_flag),
        cmocka_unit_test(kubeconfig_parse__empty_file__no_current_context),
        cmocka_unit_test(kubeconfig_parse__unknown_context__named),
        cmocka_unit_test(kubeconfig_parse__unknown_cluster__names_context_line),
        cmocka_unit_test(kubeconfig_parse__unknown_user__names_context_line),
        cmocka_unit_test(kubeconfig_parse__context_without_user__error),
        cmocka_unit_test(kubeconfig_parse__cluster_without_server__error),
        cmocka_unit_test(kubeconfig_parse__bad_base64__names_file_and_field),
        cmocka_unit_test(kubeconfig_parse__ca_data_not_base64__error),
        cmocka_unit_test(kubeconfig_parse__exec_v1alpha1__clear_error),
        cmocka_unit_test(kubeconfig_parse__exec_v1_without_mode__error),
        cmocka_unit_test(kubeconfig_parse__exec_bad_mode__error),
        cmocka_unit_test(kubeconfig_parse__exec_without_command__error),
        cmocka_unit_test(kubeconfig_parse__exec_env_without_name__error),
        cmocka_unit_test(kubeconfig_parse__cert_without_key__error),
        cmocka_unit_test(kubeconfig_parse__auth_provider__refused),
        cmocka_unit_test(kubeconfig_parse__duplicate_name_in_file__error),
        cmocka_unit_test(kubeconfig_parse__wrong_types__file_line),
        cmocka_unit_test(kubeconfig_parse__deep_nesting__refused),
        cmocka_unit_test(kubeconfig_load__list__missing_skipped_paths_resolved),
        cmocka_unit_test(kubeconfig_load__relative_path__made_absolute),
        cmocka_unit_test(kubeconfig_load__none_exist__error),
        cmocka_unit_test(kubeconfig_load__syntax_error__absolute_file_and_line),
        cmocka_unit_test(kube_incluster__ipv4__target),
        cmocka_unit_test(kube_incluster__ipv6__bracketed),
        cmocka_unit_test(kube_incluster__missing_token__names_file),
        cmocka_unit_test(kube_incluster__no_service_env__error),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
