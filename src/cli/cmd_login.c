/*
 * ecr-renew login: print an ECR password, a drop-in for
 * "aws ecr get-login-password" (pipe it to "docker login").
 */
#include "commands.h"
#include "common.h"
#include "../core/log.h"

#include <stdio.h>
#include <string.h>

static const char login_usage[] =
    "Usage: ecr-renew login [--region REGION] [--registry-id ID]\n"
    "\n"
    "Prints the password of an ECR authorization token on stdout, like\n"
    "'aws ecr get-login-password':\n"
    "  ecr-renew login --region eu-west-1 | docker login --username AWS \\\n"
    "      --password-stdin 123456789012.dkr.ecr.eu-west-1.amazonaws.com\n"
    "\n"
    "Options:\n"
    "  --region REGION      AWS region (default: ECR_RENEW_REGIONS, "
    "AWS_REGION,\n"
    "                       AWS_DEFAULT_REGION, the profile, instance "
    "metadata)\n"
    "  --registry-id ID     12-digit account id of the registry (default: the\n"
    "                       caller's); also ECR_RENEW_REGISTRY_IDS\n"
    "  --timeout DURATION   give up after this long, all waits included\n"
    "                       (default 1m; also ECR_RENEW_TIMEOUT)\n"
    "  --log-format FORMAT  text (default) or json, for messages on stderr\n"
    "  --log-level LEVEL    debug, info (default), warn or error\n"
    "  -h, --help           show this help\n";

#define LOGIN_DEFAULT_TIMEOUT_MS 60000

struct login_opts {
    struct str_list regions;
    struct str_list ids;
    struct cli_common common;
};

static int parse(int argc, char **argv, struct login_opts *o)
{
    static const struct option longopts[] = {
        {"region", required_argument, NULL, 'r'},
        {"registry-id", required_argument, NULL, 'i'},
        COMMON_LONG_OPTIONS,
        {NULL, 0, NULL, 0},
    };
    int c, status;

    while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
        if (c == 'r')
            status = cli_add_list("login", "--region", &o->regions, optarg);
        else if (c == 'i')
            status = cli_add_list("login", "--registry-id", &o->ids, optarg);
        else
            status = cli_other_option("login", c, optarg, &o->common);
        if (status != 0)
            return status;
    }
    if ((status = cli_no_arguments("login", argc, argv)) != 0 || o->common.help)
        return status;
    if ((status = cli_default_list("login", &o->regions,
                                   "ECR_RENEW_REGIONS")) != 0 ||
        (status = cli_default_list("login", &o->ids,
                                   "ECR_RENEW_REGISTRY_IDS")) != 0 ||
        (status = cli_check_registry_ids("login", &o->ids)) != 0)
        return status;
    if (o->regions.n > 1 || o->ids.n > 1)
        return cli_usage_error("login",
                               "login prints one password: give at "
                               "most one --region and one --registry-id "
                               "(docker-config takes several)");
    return cli_start_deadline("login", &o->common, LOGIN_DEFAULT_TIMEOUT_MS);
}

int cmd_login(int argc, char **argv)
{
    struct login_opts o = {0};
    struct aws_session sess;
    struct ecr_tokens tokens = {0};
    struct er_error err = {0};
    int status = parse(argc, argv, &o);

    memset(&sess, 0, sizeof(sess));
    if (status != 0 || o.common.help) {
        if (o.common.help)
            fputs(login_usage, stdout);
        goto out;
    }
    if (cli_fetch_tokens(&sess, &o.regions, &o.ids, false, &o.common.deadline,
                         &tokens, &err) != ER_OK) {
        status = cli_fail("login", &err);
        goto out;
    }
    /* Exactly what the AWS CLI prints: the password and a newline. */
    if (cli_write_stdout(tokens.items[0].password, "\n", &err) != ER_OK)
        status = cli_fail("login", &err);
out:
    ecr_tokens_free(&tokens);
    aws_session_close(&sess);
    str_list_clear(&o.regions);
    str_list_clear(&o.ids);
    return status;
}
