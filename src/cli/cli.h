/*
 * cli.h - the command line: global options and command dispatch.
 */
#ifndef ECR_RENEW_CLI_CLI_H
#define ECR_RENEW_CLI_CLI_H

/* Runs ecr-renew with main's arguments; returns the exit status. */
int cli_main(int argc, char **argv);

#endif
