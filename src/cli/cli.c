#include "cli.h"

#include <stdio.h>

int cli_main(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    printf("ecr-renew %s\n", ECR_RENEW_VERSION);
    return 0;
}
