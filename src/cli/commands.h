/*
 * commands.h - one entry point per command; each parses its own options
 * (argv[0] is the command name) and returns the exit status.
 */
#ifndef ECR_RENEW_CLI_COMMANDS_H
#define ECR_RENEW_CLI_COMMANDS_H

int cmd_login(int argc, char **argv);
int cmd_docker_config(int argc, char **argv);
int cmd_sync(int argc, char **argv);
int cmd_run(int argc, char **argv);
/* argv[0] is the command's name or the peer's (ecr-credential-provider,
 * docker-credential-ecr-login). */
int cmd_kubelet_credential_provider(int argc, char **argv);
int cmd_docker_credential_helper(int argc, char **argv);

#endif
