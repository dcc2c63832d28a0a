/* replyd send — deliver the replies that are due, through the configured sink. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "rp_buf.h"
#include "rp_engine.h"
#include "rp_plugin.h"
#include "rp_deliver.h"
#include "rp_queue.h"

static void usage(FILE *out)
{
    fprintf(out,
            "usage: replyd send [--config FILE] [--queue FILE] [--sink NAME] [--limit N]\n"
            "                   [--drain [--max-wait SECONDS]]\n"
            "\n"
            "Sends the replies that are due: automatic ones and those a human approved,\n"
            "through the sink named by delivery.sink (or --sink). Each reply is marked\n"
            "'sending' in the queue before anything goes out; a reply whose delivery is\n"
            "uncertain is never sent blindly again over SMTP: it is flagged for a human.\n"
            "Failures that may pass are retried later with exponential backoff and\n"
            "jitter (delivery.retry_base_seconds, retry_max_seconds, max_attempts).\n"
            "Reference: docs/delivery.md.\n"
            "\n"
            "Options:\n"
            "  -s, --sink NAME          send through this sink instead of delivery.sink\n"
            "  -l, --limit N            send at most N replies\n"
            "  -d, --drain              also wait for retries that fall due within\n"
            "                           --max-wait seconds (default 60)\n"
            "  -c, --config FILE        configuration (default: the built-in one)\n"
            "  -q, --queue FILE         the queue (default: queue.path)\n"
            "  -t, --now TIME           run the clock from TIME (ISO 8601) instead of the\n"
            "                           current time: for replays and tests\n"
            "\n"
            "One line per attempt on standard output: sent|retry|failed|attention ID\n"
            "detail. Exit status: 0 nothing failed, 1 some replies failed or need\n"
            "attention, 2 usage, configuration or queue error.\n");
}

static int64_t clock_now(int64_t offset)
{
    return (int64_t)time(NULL) + offset;
}

static void print_line(void *ud, const char *what, int64_t id, const char *detail)
{
    (void)ud;
    rp_buf b = {0};
    if (rp_redact(detail ? detail : "", &b) == RP_OK && rp_buf_append_char(&b, '\0') == RP_OK)
        printf("%s %lld %s\n", what, (long long)id, b.data);
    else
        printf("%s %lld\n", what, (long long)id);
    rp_buf_free(&b);
    fflush(stdout);
}

int rp_cmd_send(int argc, char **argv)
{
    static const struct option opts[] = {{"config", required_argument, NULL, 'c'},
                                         {"queue", required_argument, NULL, 'q'},
                                         {"sink", required_argument, NULL, 's'},
                                         {"limit", required_argument, NULL, 'l'},
                                         {"drain", no_argument, NULL, 'd'},
                                         {"max-wait", required_argument, NULL, 'w'},
                                         {"now", required_argument, NULL, 't'},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    const char *config_path = NULL, *queue_path = NULL, *sink_name = NULL;
    long limit = -1, max_wait = 60;
    int drain = 0, c;
    int64_t offset = 0; /* --now: the clock runs from there */
    optind = 1;
    while ((c = getopt_long(argc, argv, "c:q:s:l:dw:t:h", opts, NULL)) != -1) {
        switch (c) {
        case 'c':
            config_path = optarg;
            break;
        case 'q':
            queue_path = optarg;
            break;
        case 's':
            sink_name = optarg;
            break;
        case 'l': {
            unsigned long v;
            if (rp_cli_count_arg("send", "limit", optarg, 1, 100000000, &v))
                return RP_EXIT_USAGE;
            limit = (long)v;
            break;
        }
        case 'd':
            drain = 1;
            break;
        case 'w': {
            unsigned long v;
            if (rp_cli_count_arg("send", "max-wait", optarg, 0, 86400, &v))
                return RP_EXIT_USAGE;
            max_wait = (long)v;
            break;
        }
        case 't': {
            int64_t t;
            if (rp_cli_time_arg("send", "now", optarg, &t))
                return RP_EXIT_USAGE;
            offset = t - (int64_t)time(NULL);
            break;
        }
        case 'h':
            usage(stdout);
            return RP_EXIT_OK;
        default:
            usage(stderr);
            return RP_EXIT_USAGE;
        }
    }
    rp_config *cfg = rp_cli_setup("send", config_path, argc, argv, true);
    if (!cfg)
        return RP_EXIT_USAGE;
    rp_error err;
    if (!sink_name)
        sink_name = cfg->sink;
    if (!sink_name) {
        fprintf(stderr, "replyd send: no sink is configured (delivery.sink): nothing is sent "
                        "until one is; see docs/delivery.md\n");
        rp_config_free(cfg);
        return RP_EXIT_USAGE;
    }
    int rc = RP_EXIT_USAGE;
    rp_queue *q = NULL;
    rp_sinks *sinks = NULL;
    rp_deliverer *d = NULL;
    if (rp_cli_open_queue(cfg, queue_path, false, &q, &err) != RP_OK ||
        rp_sinks_new(cfg, "replyd send", &sinks, &err) != RP_OK ||
        rp_deliverer_new(cfg, q, sinks, sink_name, print_line, NULL, &d, &err) != RP_OK) {
        fprintf(stderr, "replyd send: %s\n", err.msg);
        goto out;
    }
    unsigned requeued = 0, flagged = 0, expired = 0;
    int64_t now = clock_now(offset);
    if (rp_deliver_recover(d, now, &requeued, &flagged, &expired, &err) != RP_OK) {
        fprintf(stderr, "replyd send: %s\n", err.msg);
        goto out;
    }
    if (requeued || flagged)
        fprintf(stderr,
                "replyd send: %u interrupted send%s found: %u will be retried with the same "
                "idempotency key, %u flagged for a human (replyd queue list --attention)\n",
                requeued + flagged, requeued + flagged == 1 ? "" : "s", requeued, flagged);
    if (expired)
        fprintf(stderr, "replyd send: %u acknowledgement%s expired unsent (older than %u h)\n",
                expired, expired == 1 ? "" : "s", cfg->sla_hours);
    int64_t started = clock_now(offset);
    for (long done = 0;; done++) {
        if (limit >= 0 && done >= limit)
            break;
        bool got = false;
        if (rp_deliver_next(d, clock_now(offset), &got, &err) != RP_OK) {
            fprintf(stderr, "replyd send: %s\n", err.msg);
            goto out;
        }
        if (got)
            continue;
        if (!drain)
            break;
        int64_t next;
        if (rp_queue_next_due(q, &next, &err) != RP_OK) {
            fprintf(stderr, "replyd send: %s\n", err.msg);
            goto out;
        }
        if (next == RP_TIME_UNKNOWN || next - started > max_wait)
            break;
        int64_t wait = next - clock_now(offset);
        if (wait > 0)
            sleep((unsigned)(wait > 5 ? 5 : wait));
    }
    rp_deliver_counts n = rp_deliver_get_counts(d);
    fprintf(stderr, "replyd send: %zu sent, %zu to retry, %zu failed, %zu need attention\n",
            n.sent, n.retried, n.failed, n.attention);
    rc = n.failed || n.attention ? RP_EXIT_PARTIAL : RP_EXIT_OK;
out:
    rp_deliverer_free(d);
    rp_sinks_free(sinks);
    rp_queue_close(q);
    rp_config_free(cfg);
    return rc;
}
