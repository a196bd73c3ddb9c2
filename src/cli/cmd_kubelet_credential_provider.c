/*
 * ecr-renew kubelet-credential-provider, also run as
 * ecr-credential-provider: the kubelet's image credential provider, a
 * drop-in for cloud-provider-aws's plugin (REFERENCE-2 §5).
 *
 * One request on stdin, one response on stdout and nothing else there:
 * a failure says why on stderr and exits non-zero, and the kubelet then
 * pulls without these credentials. The steps: read the request, pick the
 * role (the ServiceAccount's, only with its token), get the token of the
 * image's registry, answer.
 */
#include "commands.h"
#include "common.h"
#include "../core/buf.h"
#include "../core/fileio.h"
#include "../core/log.h"
#include "../core/wipe.h"
#include "../kube/credprovider.h"
#include "../registry/node_creds.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define COMMAND "kubelet-credential-provider"

/* The kubelet kills a plugin after a minute and says nothing of why; by
 * giving up well before, the reason reaches its log through stderr. */
#define KCP_DEFAULT_TIMEOUT_MS 30000

#define ROLE_ENV "AWS_ECR_ROLE_ARN"

static const char kcp_usage[] =
    "Usage: ecr-renew kubelet-credential-provider [OPTIONS]\n"
    "       ecr-credential-provider [OPTIONS]\n"
    "\n"
    "The kubelet's image credential provider: reads a\n"
    "CredentialProviderRequest (credentialprovider.kubelet.k8s.io/v1 or\n"
    "v1beta1) on stdin and prints the CredentialProviderResponse with the\n"
    "ECR token of the image's registry, cached by the kubelet for half the\n"
    "token's remaining life. The image's host names the account and\n"
    "region, so one provider serves them all; public.ecr.aws and\n"
    "ecr-public.aws.com get ECR Public's token. Installed (or linked) as\n"
    "ecr-credential-provider, it replaces cloud-provider-aws's plugin in an\n"
    "existing CredentialProviderConfig.\n"
    "\n"
    "Credentials: the node's own (environment, web identity, shared files,\n"
    "container or instance metadata). When the request carries a\n"
    "ServiceAccount token (tokenAttributes in the config, kubelet 1.33+),\n"
    "the role of the ServiceAccount's annotation\n"
    "eks.amazonaws.com/ecr-role-arn, else of AWS_ECR_ROLE_ARN, is assumed\n"
    "with that token (session ecr-renew), and nothing else is tried; with\n"
    "no role named, the node's own.\n"
    "\n"
    "Options:\n"
    "  --registry-host NAME=HOST  also answer for NAME (a VPC endpoint or\n"
    "                       DNS alias) with registry HOST's token; repeat\n"
    "                       [ECR_RENEW_REGISTRY_HOSTS=NAME=HOST,...]\n"
    "  --timeout DURATION   give up after this long, all waits included\n"
    "                       (default 30s, under the kubelet's 1m; also\n"
    "                       ECR_RENEW_TIMEOUT)\n"
    "  --log-format FORMAT  text (default) or json, for messages on stderr\n"
    "  --log-level LEVEL    debug, info (default), warn or error\n"
    "  -h, --help           show this help\n"
    "\n"
    "Example config: deploy/kubelet/credential-provider-config.yaml.\n"
    "Exit status: 0 answered; otherwise as 'ecr-renew --help' lists, with\n"
    "nothing on stdout.\n";

struct kcp_opts {
    struct cli_registry_opts registry;
    struct cli_common common;
};

static int parse(int argc, char **argv, struct kcp_opts *o)
{
    static const struct option longopts[] = {
        {"registry-host", required_argument, NULL, OPT_REGISTRY_HOST},
        COMMON_LONG_OPTIONS,
        {NULL, 0, NULL, 0},
    };
    int c, status;

    while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
        status = cli_registry_option(COMMAND, &o->registry, c, optarg);
        if (status == -1)
            status = cli_other_option(COMMAND, c, optarg, &o->common);
        if (status != 0)
            return status;
    }
    if ((status = cli_no_arguments(COMMAND, argc, argv)) != 0 || o->common.help)
        return status;
    if ((status = cli_finish_registry(COMMAND, &o->registry)) != 0)
        return status;
    return cli_start_deadline(COMMAND, &o->common, KCP_DEFAULT_TIMEOUT_MS);
}

static enum er_code read_request(struct credprovider_request *req,
                                 struct er_error *err)
{
    struct buf in;
    enum er_code rc;

    if (isatty(STDIN_FILENO))
        return er_set(err, ER_USAGE,
                      "standard input is a terminal; the kubelet writes a "
                      "CredentialProviderRequest there (by hand: echo "
                      "'{\"kind\":\"CredentialProviderRequest\",...}' | "
                      "ecr-renew " COMMAND ")");
    buf_init(&in, CREDPROVIDER_REQUEST_CAP, BUF_SECRET);
    rc = fd_read_all(STDIN_FILENO, "standard input", &in, err);
    if (rc == ER_OK)
        rc = credprovider_parse_request(buf_str(&in), in.len, req, err);
    if (rc != ER_OK)
        er_wrap(err, "the kubelet's request");
    buf_free(&in);
    return rc;
}

/* The role to assume with the request's token, and where it was named. */
struct role_choice {
    const char *arn; /* NULL: the node's own credentials */
    const char *origin;
};

/* The ServiceAccount's annotation, else AWS_ECR_ROLE_ARN; none without a
 * token or without either. */
static enum er_code choose_role(const struct credprovider_request *req,
                                struct role_choice *role, struct er_error *err)
{
    const char *env = getenv(ROLE_ENV);

    role->arn = role->origin = NULL;
    if (!req->service_account_token)
        return ER_OK;
    if (req->role_arn) {
        role->arn = req->role_arn;
        role->origin =
            "the ServiceAccount's annotation " CREDPROVIDER_ROLE_ANNOTATION;
        return ER_OK;
    }
    if (!env || !*env)
        return ER_OK;
    if (credprovider_check_role_arn(env, ROLE_ENV, err) != ER_OK)
        return ER_USAGE;
    role->arn = env;
    role->origin = ROLE_ENV;
    return ER_OK;
}

static const char *process_env(const char *name)
{
    return getenv(name);
}

static enum er_code respond(const struct credprovider_request *req,
                            const char *key, const struct node_creds *creds,
                            struct er_error *err)
{
    struct credprovider_response resp = {
        .api_version = req->api_version,
        .key = key,
        .username = creds->username,
        .password = creds->password,
        .expires_at = creds->expires_at,
    };
    char *text = NULL;
    enum er_code rc;

    /* The clock is read again: the token must still have its life now,
     * after the calls, not only when ECR answered. */
    rc = credprovider_build_response(&resp, clock_now(clock_system()), &text,
                                     err);
    if (rc == ER_OK)
        rc = cli_write_stdout(text, "\n", err);
    wipe_free_str(text);
    return rc;
}

static enum er_code answer(const struct kcp_opts *o,
                           const struct credprovider_request *req,
                           const struct role_choice *role, struct er_error *err)
{
    struct node_request nr = {
        .image = req->image,
        .aliases = &o->registry.aliases,
        .web_identity_token = role->arn ? req->service_account_token : NULL,
        .role_arn = role->arn,
        .session_name = "ecr-renew",
    };
    struct aws_settings settings;
    struct node_creds creds;
    char key[256];
    enum er_code rc;

    /* Before any call: an image without a usable host costs nothing. */
    if ((rc = credprovider_image_key(req->image, key, sizeof(key), err)) !=
        ER_OK)
        return rc;
    aws_settings_from_env(&settings, process_env);
    rc = node_creds_get(&nr, &settings, clock_system(), &o->common.deadline,
                        &creds, err);
    if (rc != ER_OK && role->arn)
        er_wrap(err,
                "with role %s (from %s, no fall-back to the node's "
                "credentials)",
                role->arn, role->origin);
    if (rc != ER_OK)
        return rc;
    rc = respond(req, key, &creds, err);
    if (rc == ER_OK)
        log_event(LOG_DEBUG, "answered the kubelet", "image", req->image,
                  "registry", creds.host.host, "role",
                  role->arn ? role->arn : "(the node's credentials)", LOG_END);
    node_creds_free(&creds);
    return rc;
}

int cmd_kubelet_credential_provider(int argc, char **argv)
{
    struct kcp_opts o;
    struct credprovider_request req = {NULL, NULL, NULL, NULL};
    struct er_error err = {0};
    struct role_choice role = {NULL, NULL};
    int status;

    memset(&o, 0, sizeof(o));
    status = parse(argc, argv, &o);
    if (status != 0 || o.common.help) {
        if (o.common.help)
            fputs(kcp_usage, stdout);
        goto out;
    }
    if (read_request(&req, &err) != ER_OK ||
        choose_role(&req, &role, &err) != ER_OK ||
        answer(&o, &req, &role, &err) != ER_OK)
        status = cli_fail(COMMAND, &err);
out:
    credprovider_request_free(&req);
    cli_registry_clear(&o.registry);
    return status;
}
