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
            "  check                    validate configuration, rules and templates; run the\n"
            "                           rule files' example cases\n"
            "  process [FILE|DIR...]    decide and store messages and replies in the queue;\n"
            "                           --dry-run prints the decisions and stores nothing\n"
            "  queue list|show|approve|edit|reject|purge\n"
            "                           review and approve the replies waiting in the queue\n"
            "  send                     deliver the replies that are due (SMTP, webhook, file)\n"
            "  stats                    the 24-hour response figures; --alerts warns\n"
            "  export                   the message/response report for audits (CSV, JSON)\n"
            "  run                      the daemon: fetch from the sources (IMAP, Maildir,\n"
            "                           drop folder), store, send, alert; --once for cron\n"
            "  status                   sources, backlog, approvals waiting, deadlines\n"
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
    static const struct {
        const char *name;
        int (*fn)(int, char **);
    } cmds[] = {{"process", rp_cmd_process}, {"check", rp_cmd_check}, {"queue", rp_cmd_queue},
                {"send", rp_cmd_send},       {"stats", rp_cmd_stats}, {"export", rp_cmd_export},
                {"run", rp_cmd_run},         {"status", rp_cmd_status}};
    for (size_t i = 0; i < sizeof cmds / sizeof cmds[0]; i++)
        if (strcmp(cmd, cmds[i].name) == 0) {
            rp_mail_init();
            int rc = cmds[i].fn(argc - 1, argv + 1);
            rp_mail_shutdown();
            return rc;
        }
    fprintf(stderr, "replyd: unknown command '%s'\n", cmd);
    usage(stderr);
    return RP_EXIT_USAGE;
}
