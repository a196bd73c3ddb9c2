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

#endif
