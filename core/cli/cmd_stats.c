/* replyd stats — the response-time figures from the queue; --alerts raises
 * the SLA alerts (docs/sla.md). */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "rp_plugin.h"
#include "rp_queue.h"
#include "rp_sla.h"

static void usage(FILE *out)
{
    fprintf(out,
            "usage: replyd stats [--config FILE] [--queue FILE] [--days N] [--now TIME]\n"
            "                    [--text | --json | --prometheus] [--alerts]\n"
            "\n"
            "Shows the marketplace response-time figures for the buyer messages received in\n"
            "the last N days: answered in time, late, open by time left, the share answered\n"
            "in time, median and p90 first-response time, the approval queue and failed\n"
            "replies. Reference: docs/sla.md.\n"
            "\n"
            "Options:\n"
            "  -c, --config FILE   configuration (default: the built-in one)\n"
            "  -q, --queue FILE    queue file (default: $REPLYD_QUEUE, then queue.path)\n"
            "  -d, --days N        window in days (default 7; e.g. 7, 30, 90)\n"
            "      --now TIME      the clock, ISO 8601 (default: now)\n"
            "      --text          a table (the default without --alerts)\n"
            "      --json          one JSON object\n"
            "      --prometheus    Prometheus text exposition format\n"
            "      --alerts        raise the SLA alerts not raised yet (log lines on standard\n"
            "                      error, and sla.alert_sink); prints the figures only when\n"
            "                      --text, --json or --prometheus is given too\n"
            "  -h, --help          this help\n"
            "\n"
            "Exit status: 0 success (raised alerts included), 2 usage, configuration or\n"
            "queue error.\n");
}

typedef struct sink_ctx {
    rp_sinks *sinks;
    const char *name;
} sink_ctx;

static int deliver(void *ud, const rp_outgoing *alert, char *detail, size_t size)
{
    sink_ctx *c = ud;
    rp_sink *k;
    rp_error err;
    rp_error_clear(&err);
    if (rp_sinks_get(c->sinks, c->name, &k, &err) != RP_OK) {
        snprintf(detail, size, "%s", err.msg[0] ? err.msg : "sink not available");
        return 1;
    }
    return rp_sink_send(k, alert, detail, size) == RP_SEND_OK ? 0 : 1;
}

enum { OPT_NOW = 256, OPT_TEXT, OPT_JSON, OPT_PROM, OPT_ALERTS };
enum { OUT_NONE, OUT_TEXT, OUT_JSON, OUT_PROM };

int rp_cmd_stats(int argc, char **argv)
{
    static const struct option opts[] = {{"config", required_argument, NULL, 'c'},
                                         {"queue", required_argument, NULL, 'q'},
                                         {"days", required_argument, NULL, 'd'},
                                         {"now", required_argument, NULL, OPT_NOW},
                                         {"text", no_argument, NULL, OPT_TEXT},
                                         {"json", no_argument, NULL, OPT_JSON},
                                         {"prometheus", no_argument, NULL, OPT_PROM},
                                         {"alerts", no_argument, NULL, OPT_ALERTS},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    const char *config_path = NULL, *queue_path = NULL;
    unsigned days = 7;
    int64_t now = (int64_t)time(NULL);
    int output = OUT_NONE;
    bool alerts = false;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "c:q:d:h", opts, NULL)) != -1) {
        switch (c) {
        case 'c':
            config_path = optarg;
            break;
        case 'q':
            queue_path = optarg;
            break;
        case 'd': {
            unsigned long v;
            if (rp_cli_count_arg("stats", "days", optarg, 1, 36500, &v))
                return RP_EXIT_USAGE;
            days = (unsigned)v;
            break;
        }
        case OPT_NOW:
            if (rp_cli_time_arg("stats", "now", optarg, &now))
                return RP_EXIT_USAGE;
            break;
        case OPT_TEXT:
        case OPT_JSON:
        case OPT_PROM: {
            int want = c == OPT_TEXT ? OUT_TEXT : c == OPT_JSON ? OUT_JSON : OUT_PROM;
            if (output != OUT_NONE && output != want) {
                fprintf(stderr, "replyd stats: choose one of --text, --json, --prometheus\n");
                return RP_EXIT_USAGE;
            }
            output = want;
            break;
        }
        case OPT_ALERTS:
            alerts = true;
            break;
        case 'h':
            usage(stdout);
            return RP_EXIT_OK;
        default:
            usage(stderr);
            return RP_EXIT_USAGE;
        }
    }
    if (rp_cli_no_args("stats", argc, argv))
        return RP_EXIT_USAGE;
    if (output == OUT_NONE && !alerts)
        output = OUT_TEXT;

    rp_config *cfg = rp_cli_setup("stats", config_path, argc, argv, false);
    if (!cfg)
        return RP_EXIT_USAGE;
    rp_error err;
    rp_status st;
    rp_queue *q = NULL;
    /* the alerts table needs a writable queue */
    if ((st = rp_cli_open_queue(cfg, queue_path, !alerts, &q, &err)) != RP_OK) {
        fprintf(stderr, "replyd stats: %s\n", err.msg);
        rp_config_free(cfg);
        return RP_EXIT_USAGE;
    }
    int rc = RP_EXIT_OK;
    if (alerts) {
        sink_ctx sc = {.name = cfg->alert_sink && *cfg->alert_sink ? cfg->alert_sink : NULL};
        if (sc.name && (st = rp_sinks_new(cfg, "replyd stats", &sc.sinks, &err)) != RP_OK) {
            fprintf(stderr, "replyd stats: %s\n", err.msg);
            rc = RP_EXIT_USAGE;
        } else {
            rp_sla_alert_counts counts;
            st = rp_sla_alerts(rp_queue_db(q), now, cfg, sc.name ? deliver : NULL, &sc,
                               rp_sla_log_logfmt, stderr,
                               &counts, &err);
            if (st != RP_OK) {
                fprintf(stderr, "replyd stats: alerts: %s\n", err.msg);
                rc = RP_EXIT_USAGE;
            }
        }
        rp_sinks_free(sc.sinks);
    }
    if (rc == RP_EXIT_OK && output != OUT_NONE) {
        rp_sla_stats s;
        rp_buf out = {0};
        st = rp_sla_compute(rp_queue_db(q), now, days, cfg, &s, &err);
        if (st != RP_OK) {
            fprintf(stderr, "replyd stats: %s\n", err.msg);
            rc = RP_EXIT_USAGE;
        } else {
            st = output == OUT_JSON   ? rp_sla_render_json(&s, &out)
                 : output == OUT_PROM ? rp_sla_render_prometheus(&s, &out)
                                      : rp_sla_render_text(&s, &out);
            if (st != RP_OK) {
                fprintf(stderr, "replyd stats: out of memory\n");
                rc = RP_EXIT_USAGE;
            } else if (rp_cli_flush(&out) || fflush(stdout) != 0) {
                fprintf(stderr, "replyd stats: cannot write output\n");
                rc = RP_EXIT_USAGE;
            }
        }
        rp_buf_free(&out);
    }
    rp_queue_close(q);
    rp_config_free(cfg);
    return rc;
}
