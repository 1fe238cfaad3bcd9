/* appliance version: prints the version. */
#include <stdio.h>
#include <string.h>

#include "cmd.h"

#ifndef AP_VERSION
#define AP_VERSION "0"
#endif

int ap_cmd_version(struct ap_settings *s, int argc, char **argv)
{
    (void)s;
    if (argc > 1 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
        printf("Usage: appliance version\n");
        return AP_EXIT_OK;
    }
    if (argc > 1)
        return ap_cmd_usage("version", "unexpected argument '%s'", argv[1]);
    printf("appliance %s\n", AP_VERSION);
    return AP_EXIT_OK;
}
