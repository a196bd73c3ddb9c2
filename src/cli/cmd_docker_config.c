/*
 * ecr-renew docker-config: print (or write) a .dockerconfigjson document
 * with one "auths" entry per registry host.
 */
#include "commands.h"
#include "common.h"
#include "../core/fileio.h"
#include "../registry/pull_auth.h"

#define CMD "docker-config"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char docker_config_usage[] =
    "Usage: ecr-renew docker-config [--region REGION]... "
    "[--registry-id ID]...\n"
    "                               [--public] [--registry-host NAME=HOST]...\n"
    "                               [--output FILE]\n"
    "\n"
    "Prints a .dockerconfigjson document holding a fresh ECR password for\n"
    "every registry: one GetAuthorizationToken call per region, one \"auths\"\n"
    "entry per registry host with username, password and auth.\n"
    "\n"
    "Options:\n"
    "  --region REGION      AWS region; repeat or comma-separate for several\n"
    "                       (default: ECR_RENEW_REGIONS, then AWS_REGION, "
    "...)\n"
    "  --registry-id ID     12-digit account id of a registry; repeat for\n"
    "                       several (default: ECR_RENEW_REGISTRY_IDS, else "
    "the\n"
    "                       caller's account)\n" REGISTRY_OPTIONS_HELP
    "  -o, --output FILE    write the document to FILE (mode 0600, replaced\n"
    "                       atomically; a symbolic link is followed and its\n"
    "                       target replaced) instead of stdout\n"
    "  --timeout DURATION   give up after this long, all waits included\n"
    "                       (default 1m; also ECR_RENEW_TIMEOUT)\n"
    "  --log-format FORMAT  text (default) or json, for messages on stderr\n"
    "  --log-level LEVEL    debug, info (default), warn or error\n"
    "  -h, --help           show this help\n";

#define DOCKER_CONFIG_DEFAULT_TIMEOUT_MS 60000

struct docker_config_opts {
    struct str_list regions;
    struct str_list ids;
    struct cli_registry_opts reg;
    const char *output;
    struct cli_common common;
};

static int parse(int argc, char **argv, struct docker_config_opts *o)
{
    static const struct option longopts[] = {
        {"region", required_argument, NULL, 'r'},
        {"registry-id", required_argument, NULL, 'i'},
        {"output", required_argument, NULL, 'o'},
        REGISTRY_LONG_OPTIONS,
        COMMON_LONG_OPTIONS,
        {NULL, 0, NULL, 0},
    };
    int c, status;

    while ((c = getopt_long(argc, argv, "ho:", longopts, NULL)) != -1) {
        status = 0;
        if (c == 'r')
            status = cli_add_list(CMD, "--region", &o->regions, optarg);
        else if (c == 'i')
            status = cli_add_list(CMD, "--registry-id", &o->ids, optarg);
        else if (c == 'o')
            o->output = optarg;
        else if ((status = cli_registry_option(CMD, &o->reg, c, optarg)) < 0)
            status = cli_other_option(CMD, c, optarg, &o->common);
        if (status != 0)
            return status;
    }
    if ((status = cli_no_arguments(CMD, argc, argv)) != 0 || o->common.help)
        return status;
    if ((status = cli_default_list(CMD, &o->regions, "ECR_RENEW_REGIONS")) !=
            0 ||
        (status = cli_default_list(CMD, &o->ids, "ECR_RENEW_REGISTRY_IDS")) !=
            0 ||
        (status = cli_check_registry_ids(CMD, &o->ids)) != 0 ||
        (status = cli_finish_registry(CMD, &o->reg)) != 0)
        return status;
    return cli_start_deadline(CMD, &o->common,
                              DOCKER_CONFIG_DEFAULT_TIMEOUT_MS);
}

static enum er_code emit(const struct aws_session *sess,
                         const struct ecr_tokens *tokens,
                         const struct docker_config_opts *o,
                         struct er_error *err)
{
    struct pull_auth_options opt = {
        .fips_hosts = sess->settings.use_fips,
        .dualstack_hosts = sess->settings.use_dualstack,
        .aliases = &o->reg.aliases,
    };
    const char *output = o->output;
    struct pull_auth auth = {0};
    enum er_code rc;

    rc = pull_auth_build(tokens, &opt, clock_now(clock_system()), &auth, err);
    if (rc == ER_OK && output)
        rc = file_write_private(output, auth.dockerconfigjson,
                                auth.dockerconfigjson_len, err);
    else if (rc == ER_OK)
        rc = cli_write_stdout(auth.dockerconfigjson, "\n", err);
    pull_auth_free(&auth);
    return rc;
}

int cmd_docker_config(int argc, char **argv)
{
    struct docker_config_opts o = {0};
    struct aws_session sess;
    struct ecr_tokens tokens = {0};
    struct er_error err = {0};
    int status = parse(argc, argv, &o);

    memset(&sess, 0, sizeof(sess));
    if (status != 0 || o.common.help) {
        if (o.common.help)
            fputs(docker_config_usage, stdout);
        goto out;
    }
    if (cli_fetch_tokens(&sess, &o.regions, &o.ids, o.reg.public_registry,
                         &o.common.deadline, &tokens, &err) != ER_OK ||
        emit(&sess, &tokens, &o, &err) != ER_OK)
        status = cli_fail(CMD, &err);
out:
    ecr_tokens_free(&tokens);
    aws_session_close(&sess);
    str_list_clear(&o.regions);
    str_list_clear(&o.ids);
    cli_registry_clear(&o.reg);
    return status;
}
