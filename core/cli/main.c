/* replyd — command-line front end. It uses only the public API of the core
 * library; every command lives in its own cmd_*.c file. */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "rp_mail.h"

static void usage(FILE *out)
{
    fprintf(out,
            "usage: replyd COMMAND [OPTIONS] [ARGS]\n"
            "\n"
            "Answers buyer messages for marketplace sellers.\n"
            "\n"
            "Commands:\n"
            "  classify [FILE|DIR...]   detect language and intent of each message\n"
            "  process --dry-run [FILE|DIR...]\n"
            "                           decide and render the replies, store and send nothing\n"
            "  check                    validate configuration, rules and templates; run the\n"
            "                           rule files' example cases\n"
            "\n"
            "Global options:\n"
            "  -h, --help               this help; 'replyd COMMAND --help' for a command\n"
            "  -V, --version            print the version\n"
            "\n"
            "Exit status: 0 success, 1 some messages failed, 2 usage or configuration error.\n");
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return RP_EXIT_USAGE;
    }
    const char *cmd = argv[1];
    if (strcmp(cmd, "-h") == 0 || strcmp(cmd, "--help") == 0 || strcmp(cmd, "help") == 0) {
        usage(stdout);
        return RP_EXIT_OK;
    }
    if (strcmp(cmd, "-V") == 0 || strcmp(cmd, "--version") == 0) {
        printf("replyd %s\n", RP_VERSION);
        return RP_EXIT_OK;
    }
    if (strcmp(cmd, "classify") == 0) {
        rp_mail_init();
        int rc = rp_cmd_classify(argc - 1, argv + 1);
        rp_mail_shutdown();
        return rc;
    }
    if (strcmp(cmd, "process") == 0 || strcmp(cmd, "check") == 0) {
        rp_mail_init();
        int rc = cmd[0] == 'p' ? rp_cmd_process(argc - 1, argv + 1)
                               : rp_cmd_check(argc - 1, argv + 1);
        rp_mail_shutdown();
        return rc;
    }
    fprintf(stderr, "replyd: unknown command '%s'\n", cmd);
    usage(stderr);
    return RP_EXIT_USAGE;
}
