/* replyd export — the message/response report for audits, CSV or JSON Lines
 * (docs/sla.md, "Export"). */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "rp_export.h"
#include "rp_queue.h"

static void usage(FILE *out)
{
    fprintf(out,
            "usage: replyd export [--config FILE] [--queue FILE] [--format csv|json]\n"
            "                     [--days N | --since TIME [--until TIME]] [--output FILE]\n"
            "                     [--now TIME]\n"
            "\n"
            "Writes one row per buyer message: ids, marketplace, language, intent, received,\n"
            "deadline, first response, whether it was in time, the replies and the\n"
            "templates they used. No buyer address, name, subject or text. Reference:\n"
            "docs/sla.md.\n"
            "\n"
            "Options:\n"
            "  -c, --config FILE   configuration (default: the built-in one)\n"
            "  -q, --queue FILE    queue file (default: $REPLYD_QUEUE, then queue.path)\n"
            "  -f, --format FMT    csv (RFC 4180, the default) or json (JSON Lines)\n"
            "  -d, --days N        messages received in the last N days up to --now\n"
            "                      (the default: 7)\n"
            "      --since TIME    messages received at or after TIME (ISO 8601)\n"
            "      --until TIME    ...and before TIME (default: up to --now, included)\n"
            "  -o, --output FILE   write to FILE (replaced when complete) instead of\n"
            "                      standard output\n"
            "      --now TIME      the clock, ISO 8601 (default: now)\n"
            "  -h, --help          this help\n"
            "\n"
            "Exit status: 0 success, 2 usage, configuration, queue or write error.\n");
}

enum { OPT_SINCE = 256, OPT_UNTIL, OPT_NOW };

static int write_to_file(rp_queue *q, const rp_export_opts *o, const char *path, uint64_t *rows,
                         rp_error *err)
{
    size_t len = strlen(path) + 32;
    char *tmp = malloc(len);
    if (!tmp) {
        rp_error_set(err, RP_ENOMEM, "out of memory");
        return 1;
    }
    snprintf(tmp, len, "%s.tmp.%ld", path, (long)getpid());
    FILE *f = fopen(tmp, "w");
    if (!f) {
        rp_error_set(err, RP_EIO, "cannot create %s", tmp);
        free(tmp);
        return 1;
    }
    rp_status st = rp_export_write(rp_queue_db(q), o, f, rows, err);
    if (fclose(f) != 0 && st == RP_OK)
        st = rp_error_set(err, RP_EIO, "writing %s failed", tmp);
    if (st == RP_OK && rename(tmp, path) != 0)
        st = rp_error_set(err, RP_EIO, "cannot replace %s", path);
    if (st != RP_OK && unlink(tmp) != 0) {
        /* nothing more to do: the error says what failed */
    }
    free(tmp);
    return st != RP_OK;
}

int rp_cmd_export(int argc, char **argv)
{
    static const struct option opts[] = {{"config", required_argument, NULL, 'c'},
                                         {"queue", required_argument, NULL, 'q'},
                                         {"format", required_argument, NULL, 'f'},
                                         {"days", required_argument, NULL, 'd'},
                                         {"since", required_argument, NULL, OPT_SINCE},
                                         {"until", required_argument, NULL, OPT_UNTIL},
                                         {"output", required_argument, NULL, 'o'},
                                         {"now", required_argument, NULL, OPT_NOW},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    const char *config_path = NULL, *queue_path = NULL, *output = NULL;
    rp_export_opts o = {.format = RP_EXPORT_CSV};
    unsigned days = 0;
    bool has_since = false, has_until = false;
    int64_t since = 0, until = 0, now = (int64_t)time(NULL);
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "c:q:f:d:o:h", opts, NULL)) != -1) {
        switch (c) {
        case 'c':
            config_path = optarg;
            break;
        case 'q':
            queue_path = optarg;
            break;
        case 'f': {
            int f = rp_export_format_from_name(optarg);
            if (f < 0) {
                fprintf(stderr, "replyd export: unknown format '%s' (csv, json)\n", optarg);
                return RP_EXIT_USAGE;
            }
            o.format = (rp_export_format)f;
            break;
        }
        case 'd': {
            unsigned long v;
            if (rp_cli_count_arg("export", "days", optarg, 1, 36500, &v))
                return RP_EXIT_USAGE;
            days = (unsigned)v;
            break;
        }
        case OPT_SINCE:
        case OPT_UNTIL:
        case OPT_NOW: {
            int64_t t;
            if (rp_cli_time_arg("export",
                                c == OPT_SINCE ? "since" : c == OPT_UNTIL ? "until" : "now",
                                optarg, &t))
                return RP_EXIT_USAGE;
            if (c == OPT_SINCE) {
                since = t;
                has_since = true;
            } else if (c == OPT_UNTIL) {
                until = t;
                has_until = true;
            } else
                now = t;
            break;
        }
        case 'o':
            output = optarg;
            break;
        case 'h':
            usage(stdout);
            return RP_EXIT_OK;
        default:
            usage(stderr);
            return RP_EXIT_USAGE;
        }
    }
    if (rp_cli_no_args("export", argc, argv))
        return RP_EXIT_USAGE;
    if (days && (has_since || has_until)) {
        fprintf(stderr, "replyd export: use either --days or --since/--until\n");
        return RP_EXIT_USAGE;
    }
    if (has_until && !has_since) {
        fprintf(stderr, "replyd export: --until needs --since\n");
        return RP_EXIT_USAGE;
    }
    if (has_since) {
        o.since = since;
        o.until = has_until ? until : now + 1;
        if (o.since > o.until) {
            fprintf(stderr, "replyd export: --until is before --since\n");
            return RP_EXIT_USAGE;
        }
    } else {
        /* the same window as replyd stats --days: (now - N days, now] */
        o.since = now - (int64_t)(days ? days : 7) * 86400 + 1;
        o.until = now + 1;
    }

    rp_config *cfg = rp_cli_setup("export", config_path, argc, argv, false);
    if (!cfg)
        return RP_EXIT_USAGE;
    rp_error err;
    rp_status st;
    rp_queue *q = NULL;
    if ((st = rp_cli_open_queue(cfg, queue_path, true, &q, &err)) != RP_OK) {
        fprintf(stderr, "replyd export: %s\n", err.msg);
        rp_config_free(cfg);
        return RP_EXIT_USAGE;
    }
    int rc = RP_EXIT_OK;
    uint64_t rows = 0;
    if (output && strcmp(output, "-") != 0) {
        if (write_to_file(q, &o, output, &rows, &err)) {
            fprintf(stderr, "replyd export: %s\n", err.msg);
            rc = RP_EXIT_USAGE;
        } else
            fprintf(stderr, "replyd export: %llu message%s written to %s\n",
                    (unsigned long long)rows, rows == 1 ? "" : "s", output);
    } else if ((st = rp_export_write(rp_queue_db(q), &o, stdout, &rows, &err)) != RP_OK) {
        fprintf(stderr, "replyd export: %s\n", err.msg);
        rc = RP_EXIT_USAGE;
    }
    rp_queue_close(q);
    rp_config_free(cfg);
    return rc;
}
