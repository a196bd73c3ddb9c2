/*
 * ecr-renew docker-config: print (or write) a .dockerconfigjson document
 * with one "auths" entry per registry host.
 */
#include "commands.h"
#include "common.h"
#include "../core/wipe.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char docker_config_usage[] =
    "Usage: ecr-renew docker-config [--region REGION]... "
    "[--registry-id ID]...\n"
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
    "                       caller's account)\n"
    "  -o, --output FILE    write the document to FILE (mode 0600, replaced\n"
    "                       atomically) instead of stdout\n"
    "  --log-format FORMAT  text (default) or json, for messages on stderr\n"
    "  --log-level LEVEL    debug, info (default), warn or error\n"
    "  -h, --help           show this help\n";

struct docker_config_opts {
    struct str_list regions;
    struct str_list ids;
    const char *output;
};

static int parse(int argc, char **argv, struct docker_config_opts *o,
                 bool *help)
{
    static const struct option longopts[] = {
        {"region", required_argument, NULL, 'r'},
        {"registry-id", required_argument, NULL, 'i'},
        {"output", required_argument, NULL, 'o'},
        COMMON_LONG_OPTIONS,
        {NULL, 0, NULL, 0},
    };
    int c, status;

    while ((c = getopt_long(argc, argv, "ho:", longopts, NULL)) != -1) {
        if (c == 'r')
            str_list_add(&o->regions, optarg);
        else if (c == 'i')
            str_list_add(&o->ids, optarg);
        else if (c == 'o')
            o->output = optarg;
        else if ((status =
                      cli_other_option("docker-config", c, optarg, help)) != 0)
            return status;
    }
    if ((status = cli_no_arguments("docker-config", argc, argv)) != 0)
        return status;
    cli_default_list(&o->regions, "ECR_RENEW_REGIONS");
    cli_default_list(&o->ids, "ECR_RENEW_REGISTRY_IDS");
    return 0;
}

static enum er_code emit(const struct aws_session *sess,
                         const struct ecr_tokens *tokens, const char *output,
                         struct er_error *err)
{
    struct dockercfg_entry *entries;
    char **extra;
    size_t n_extra;
    size_t n = cli_dockercfg_entries(&sess->settings, tokens, &entries, &extra,
                                     &n_extra);
    char *doc = dockercfg_build(entries, n);
    enum er_code rc;

    if (output) {
        rc = cli_write_private_file(output, doc, strlen(doc), err);
    } else {
        rc = cli_write_stdout(doc, "\n", err);
    }
    wipe_free_str(doc);
    for (size_t i = 0; i < n_extra; i++)
        free(extra[i]);
    free(extra);
    free(entries);
    return rc;
}

int cmd_docker_config(int argc, char **argv)
{
    struct docker_config_opts o = {0};
    struct aws_session sess;
    struct ecr_tokens tokens = {0};
    struct er_error err = {0};
    bool help = false;
    int status = parse(argc, argv, &o, &help);

    memset(&sess, 0, sizeof(sess));
    if (status != 0 || help) {
        if (help)
            fputs(docker_config_usage, stdout);
        goto out;
    }
    if (cli_fetch_tokens(&sess, &o.regions, &o.ids, &tokens, &err) != ER_OK ||
        emit(&sess, &tokens, o.output, &err) != ER_OK)
        status = cli_fail("docker-config", &err);
out:
    ecr_tokens_free(&tokens);
    aws_session_close(&sess);
    str_list_clear(&o.regions);
    str_list_clear(&o.ids);
    return status;
}
