#include "cli.h"
#include "commands.h"
#include "common.h"
#include "../core/err.h"
#include "../core/log.h"
#include "../core/wipe.h"
#include "../net/http.h"

#include <jansson.h>
#include <sys/resource.h>
#include <stdio.h>
#include <string.h>

static const char main_usage[] =
    "Usage: ecr-renew COMMAND [OPTIONS]\n"
    "\n"
    "Keeps Kubernetes pull secrets for private Amazon ECR registries fresh.\n"
    "\n"
    "Commands:\n"
    "  login          print an ECR password (like aws ecr get-login-password)\n"
    "  sync           write the pull Secret into Kubernetes namespaces\n"
    "  run            keep every selected namespace's pull Secret fresh\n"
    "                 (a controller, with health and metrics)\n"
    "  docker-config  print a .dockerconfigjson for one or more registries\n"
    "  kubelet-credential-provider  the kubelet's image credential provider\n"
    "                 (also as ecr-credential-provider)\n"
    "  docker-credential-helper  a docker credential helper: get, store,\n"
    "                 erase, list, version (also as\n"
    "                 docker-credential-ecr-login)\n"
    "  version        print the version\n"
    "\n"
    "Run 'ecr-renew COMMAND --help' for a command's options.\n"
    "\n"
    "Exit status:\n"
    "  0 success            4 no AWS credentials found\n"
    "  1 internal error     5 AWS refused (access denied, bad signature...)\n"
    "  2 usage error        6 network failure or unreadable answer\n"
    "  3 bad configuration  7 Kubernetes refused (some namespaces failed)\n";

struct command {
    const char *name;
    int (*run)(int argc, char **argv);
};

static const struct command commands[] = {
    {"login", cmd_login},
    {"docker-config", cmd_docker_config},
    {"sync", cmd_sync},
    {"run", cmd_run},
    {"kubelet-credential-provider", cmd_kubelet_credential_provider},
    {"docker-credential-helper", cmd_docker_credential_helper},
};

/* Drop-ins: called by the peers' names, the binary is that command, so
 * a CredentialProviderConfig or a credHelpers entry only changes the
 * path. */
static const struct command aliases[] = {
    {"ecr-credential-provider", cmd_kubelet_credential_provider},
    {"docker-credential-ecr-login", cmd_docker_credential_helper},
};

static const struct command *called_as(const char *argv0)
{
    const char *base = argv0 ? strrchr(argv0, '/') : NULL;

    base = base ? base + 1 : argv0;
    for (size_t i = 0; base && i < sizeof(aliases) / sizeof(aliases[0]); i++) {
        if (strcmp(base, aliases[i].name) == 0)
            return &aliases[i];
    }
    return NULL;
}

static int print_version(void)
{
    printf("ecr-renew %s\n", ECR_RENEW_VERSION);
    printf("libraries: %s jansson/%s\n", http_library_versions(),
           jansson_version_str());
    return EXIT_OK;
}

static int dispatch(int argc, char **argv)
{
    const char *name = argc > 1 ? argv[1] : NULL;
    const struct command *as = called_as(argc > 0 ? argv[0] : NULL);

    if (as)
        return as->run(argc, argv);
    if (!name || strcmp(name, "-h") == 0 || strcmp(name, "--help") == 0 ||
        strcmp(name, "help") == 0) {
        fputs(main_usage, name ? stdout : stderr);
        return name ? EXIT_OK : EXIT_USAGE;
    }
    if (strcmp(name, "--version") == 0 || strcmp(name, "version") == 0)
        return print_version();
    for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
        if (strcmp(name, commands[i].name) == 0)
            return commands[i].run(argc - 1, argv + 1);
    }
    fprintf(stderr,
            "ecr-renew: unknown command \"%s\"\n"
            "Try 'ecr-renew --help'.\n",
            name);
    return EXIT_USAGE;
}

/* A crash must not leave a core file holding keys and passwords. */
static void forbid_core_dumps(void)
{
    struct rlimit none = {0, 0};

    setrlimit(RLIMIT_CORE, &none);
}

int cli_main(int argc, char **argv)
{
    struct er_error err = {0};
    int status;

    forbid_core_dumps();
    wipe_install_allocators();
    log_setup(LOG_TEXT, LOG_INFO, stderr);
    if (cli_log_from_env(&err) != ER_OK)
        return cli_usage_error(NULL, "%s", err.msg);
    http_global_init();
    status = dispatch(argc, argv);
    http_global_cleanup();
    return status;
}
