/* replyd run — the daemon: fetch, decide, store, send, alert (rp_daemon.h). */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "rp_daemon.h"
#include "rp_log.h"
#include "rp_queue.h"

static void usage(FILE *out)
{
    fprintf(out,
            "usage: replyd run [--config FILE] [--queue FILE] [--once] [--clock-file FILE]\n"
            "                  [--log-format logfmt|json] [--log-level error|warn|info|debug]\n"
            "\n"
            "Runs replyd on its own: polls every configured source (sources:), stores each\n"
            "message with its decided replies in the queue, and only then lets the source\n"
            "mark it seen or move it; sends the replies that are due (automatic ones and\n"
            "those a human approved) through delivery.sink; raises SLA alerts on time.\n"
            "Logs one event per line on standard error (log.format, log.level); buyer\n"
            "addresses, names and phone numbers never appear. Reference: docs/running.md.\n"
            "\n"
            "Signals: SIGTERM/SIGINT finish the message in hand and exit 0; SIGHUP reloads\n"
            "the configuration, rules and templates (a broken new configuration is logged\n"
            "and the running one kept).\n"
            "\n"
            "Options:\n"
            "  -c, --config FILE        configuration (default: the built-in one)\n"
            "  -q, --queue FILE         the queue (default: $REPLYD_QUEUE, then queue.path)\n"
            "  -1, --once               one round for cron: poll every source until it has\n"
            "                           nothing more, send what is due, check alerts, exit\n"
            "      --clock-file FILE    read the current time from FILE (ISO 8601 or Unix\n"
            "                           seconds) whenever it is needed: for tests and replays\n"
            "      --log-format FMT     logfmt or json (default: log.format)\n"
            "      --log-level LEVEL    error, warn, info or debug (default: log.level)\n"
            "\n"
            "Exit status: 0 stopped cleanly (with --once: nothing failed), 1 with --once: a\n"
            "source or a delivery failed, 2 usage, configuration or queue error.\n");
}

static int word_index(const char *w, const char *const *words)
{
    for (int i = 0; words[i]; i++)
        if (strcmp(w, words[i]) == 0)
            return i;
    return -1;
}

int rp_cmd_run(int argc, char **argv)
{
    enum { OPT_CLOCK = 256, OPT_LOGFMT, OPT_LOGLEVEL };
    static const struct option opts[] = {{"config", required_argument, NULL, 'c'},
                                         {"queue", required_argument, NULL, 'q'},
                                         {"once", no_argument, NULL, '1'},
                                         {"clock-file", required_argument, NULL, OPT_CLOCK},
                                         {"log-format", required_argument, NULL, OPT_LOGFMT},
                                         {"log-level", required_argument, NULL, OPT_LOGLEVEL},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    static const char *const formats[] = {"logfmt", "json", NULL};
    static const char *const levels[] = {"error", "warn", "info", "debug", NULL};
    rp_daemon_opts o = {.log_format = -1, .log_level = -1};
    const char *queue_path = NULL;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "c:q:1h", opts, NULL)) != -1) {
        switch (c) {
        case 'c':
            o.config_path = optarg;
            break;
        case 'q':
            queue_path = optarg;
            break;
        case '1':
            o.once = true;
            break;
        case OPT_CLOCK:
            o.clock_file = optarg;
            break;
        case OPT_LOGFMT:
            if ((o.log_format = word_index(optarg, formats)) < 0) {
                fprintf(stderr, "replyd run: --log-format must be logfmt or json\n");
                return RP_EXIT_USAGE;
            }
            break;
        case OPT_LOGLEVEL:
            if ((o.log_level = word_index(optarg, levels)) < 0) {
                fprintf(stderr, "replyd run: --log-level must be error, warn, info or debug\n");
                return RP_EXIT_USAGE;
            }
            break;
        case 'h':
            usage(stdout);
            return RP_EXIT_OK;
        default:
            usage(stderr);
            return RP_EXIT_USAGE;
        }
    }
    rp_config *cfg = rp_cli_setup("run", o.config_path, argc, argv, true);
    if (!cfg)
        return RP_EXIT_USAGE;
    rp_error err;
    if (rp_cli_open_queue(cfg, queue_path, false, &o.queue, &err) != RP_OK) {
        fprintf(stderr, "replyd run: %s\n", err.msg);
        rp_config_free(cfg);
        return RP_EXIT_USAGE;
    }
    o.log = rp_log_new(stderr,
                       o.log_format >= 0 ? (rp_log_format)o.log_format
                                         : (rp_log_format)cfg->log_format,
                       o.log_level >= 0 ? o.log_level : (int)cfg->log_level);
    if (!o.log) {
        fprintf(stderr, "replyd run: out of memory\n");
        rp_queue_close(o.queue);
        rp_config_free(cfg);
        return RP_EXIT_USAGE;
    }
    /* a peer closing a connection is an error to handle, not a reason to die */
    signal(SIGPIPE, SIG_IGN);
    int rc = rp_daemon_run(&o, cfg); /* takes cfg */
    rp_log_free(o.log);
    rp_queue_close(o.queue);
    return rc;
}
