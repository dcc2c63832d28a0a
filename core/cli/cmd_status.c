/* replyd status — how replyd run is doing: sources, backlog, approvals waiting,
 * next deadlines, errors. Reads the queue only. */
#include <getopt.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "rp_buf.h"
#include "rp_queue.h"
#include "rp_runstate.h"

static void usage(FILE *out)
{
    fprintf(out,
            "usage: replyd status [--config FILE] [--queue FILE] [--json] [--now TIME]\n"
            "\n"
            "What replyd run is doing, from the queue file: each source's last poll, last\n"
            "success and last error; messages waiting for a first response and how many are\n"
            "overdue; replies waiting for approval (and the oldest); replies due to be sent,\n"
            "failed or needing attention; the next deadlines; unreadable messages in the\n"
            "last 24 hours. Reference: docs/running.md.\n"
            "\n"
            "Options:\n"
            "  -c, --config FILE        configuration (default: the built-in one)\n"
            "  -q, --queue FILE         the queue (default: $REPLYD_QUEUE, then queue.path)\n"
            "  -j, --json               one JSON object instead of text\n"
            "  -t, --now TIME           report as of TIME (ISO 8601) instead of now\n"
            "\n"
            "Exit status: 0 all well, 1 something needs a look (a source failing, overdue\n"
            "messages, failed replies, unreadable messages), 2 usage, configuration or\n"
            "queue error.\n");
}

typedef struct report {
    const rp_config *cfg;
    rp_buf *out;
    int json;
    int64_t now;
    int nsrc;
    int trouble;
    rp_status st;
    const char **seen; /* configured sources listed so far */
    size_t nseen;
} report;

/* "45s", "12m", "3h05m" */
static void span(int64_t d, char *buf, size_t size)
{
    if (d < 120)
        snprintf(buf, size, "%llds", (long long)d);
    else if (d < 7200)
        snprintf(buf, size, "%lldm", (long long)(d / 60));
    else
        snprintf(buf, size, "%lldh%02lldm", (long long)(d / 3600), (long long)(d % 3600 / 60));
}

/* "3h05m ago", "12m from now", "never" */
static void ago(int64_t now, int64_t t, char *buf, size_t size)
{
    if (!t) {
        snprintf(buf, size, "never");
        return;
    }
    char s[32];
    span(now >= t ? now - t : t - now, s, sizeof s);
    snprintf(buf, size, "%s%s", s, now >= t ? " ago" : " from now");
}

static void json_str(report *r, const char *key, const char *v, int first)
{
    if (r->st != RP_OK)
        return;
    r->st = rp_buf_printf(r->out, "%s\"%s\":", first ? "" : ",", key);
    if (r->st == RP_OK)
        r->st = v ? rp_buf_append_json_string(r->out, v, strlen(v)) : rp_buf_append_str(r->out, "null");
}

static void json_int(report *r, const char *key, int64_t v)
{
    if (r->st == RP_OK)
        r->st = rp_buf_printf(r->out, ",\"%s\":%lld", key, (long long)v);
}

static void json_time(report *r, const char *key, int64_t t)
{
    if (r->st != RP_OK)
        return;
    if (!t) {
        r->st = rp_buf_printf(r->out, ",\"%s\":null", key);
        return;
    }
    char iso[32];
    rp_format_iso8601(t, iso, sizeof iso);
    json_str(r, key, iso, 0);
}

static int on_source(void *ud, const rp_source_status *s)
{
    report *r = ud;
    const rp_source_cfg *sc = rp_config_source(r->cfg, s->name);
    if (sc) {
        const char **n = realloc(r->seen, (r->nseen + 1) * sizeof *n);
        if (!n) {
            r->st = RP_ENOMEM;
            return 1;
        }
        r->seen = n;
        r->seen[r->nseen++] = sc->name;
    }
    bool failing = s->failures > 0;
    if (failing && sc)
        r->trouble = 1;
    if (r->json) {
        if (r->st == RP_OK)
            r->st = rp_buf_append_str(r->out, r->nsrc ? ",{" : "{");
        json_str(r, "name", s->name, 1);
        json_str(r, "plugin", s->plugin, 0);
        if (r->st == RP_OK)
            r->st = rp_buf_printf(r->out, ",\"configured\":%s,\"ok\":%s", sc ? "true" : "false",
                                  failing ? "false" : "true");
        json_time(r, "last_poll", s->last_poll);
        json_time(r, "last_ok", s->last_ok);
        json_str(r, "last_error", s->last_error, 0);
        json_time(r, "last_error_at", s->last_error_at);
        json_int(r, "failures", s->failures);
        json_time(r, "next_poll", s->next_poll);
        json_int(r, "fetched", s->fetched);
        json_int(r, "stored", s->stored);
        json_int(r, "unreadable", s->unreadable);
        if (r->st == RP_OK)
            r->st = rp_buf_append_char(r->out, '}');
    } else if (r->st == RP_OK) {
        char poll[64], ok[64];
        ago(r->now, s->last_poll, poll, sizeof poll);
        ago(r->now, s->last_ok, ok, sizeof ok);
        r->st = rp_buf_printf(r->out,
                              "  %-16s %-8s %s  last poll %s, last success %s; fetched %lld, "
                              "stored %lld, unreadable %lld%s\n",
                              s->name, s->plugin, failing ? "FAILING" : "ok     ", poll, ok,
                              (long long)s->fetched, (long long)s->stored,
                              (long long)s->unreadable, sc ? "" : " (no longer configured)");
        if (r->st == RP_OK && s->last_error && failing) {
            char at[64];
            ago(r->now, s->last_error_at, at, sizeof at);
            r->st = rp_buf_printf(r->out, "  %-16s   %u failure%s in a row, last %s: %s\n", "",
                                  s->failures, s->failures == 1 ? "" : "s", at, s->last_error);
        }
    }
    r->nsrc++;
    return r->st != RP_OK;
}

static int64_t scalar(sqlite3 *db, const char *sql, int64_t a, int64_t *second, rp_status *st)
{
    sqlite3_stmt *s;
    int64_t v = 0;
    if (sqlite3_prepare_v2(db, sql, -1, &s, NULL) != SQLITE_OK) {
        *st = RP_EIO;
        return 0;
    }
    if (sqlite3_bind_parameter_count(s) >= 1)
        sqlite3_bind_int64(s, 1, a);
    if (sqlite3_step(s) == SQLITE_ROW) {
        v = sqlite3_column_int64(s, 0);
        if (second)
            *second = sqlite3_column_int64(s, 1);
    } else
        *st = RP_EIO;
    sqlite3_finalize(s);
    return v;
}

int rp_cmd_status(int argc, char **argv)
{
    static const struct option opts[] = {{"config", required_argument, NULL, 'c'},
                                         {"queue", required_argument, NULL, 'q'},
                                         {"json", no_argument, NULL, 'j'},
                                         {"now", required_argument, NULL, 't'},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    const char *config_path = NULL, *queue_path = NULL;
    int json = 0, c;
    int64_t now = (int64_t)time(NULL);
    optind = 1;
    while ((c = getopt_long(argc, argv, "c:q:jt:h", opts, NULL)) != -1) {
        switch (c) {
        case 'c':
            config_path = optarg;
            break;
        case 'q':
            queue_path = optarg;
            break;
        case 'j':
            json = 1;
            break;
        case 't':
            if (rp_cli_time_arg("status", "now", optarg, &now))
                return RP_EXIT_USAGE;
            break;
        case 'h':
            usage(stdout);
            return RP_EXIT_OK;
        default:
            usage(stderr);
            return RP_EXIT_USAGE;
        }
    }
    rp_config *cfg = rp_cli_setup("status", config_path, argc, argv, true);
    if (!cfg)
        return RP_EXIT_USAGE;
    rp_error err;
    rp_queue *q = NULL;
    if (rp_cli_open_queue(cfg, queue_path, true, &q, &err) != RP_OK) {
        fprintf(stderr, "replyd status: %s\n", err.msg);
        rp_config_free(cfg);
        return RP_EXIT_USAGE;
    }
    sqlite3 *db = rp_queue_db(q);
    rp_buf out = {0};
    report r = {.cfg = cfg, .out = &out, .json = json, .now = now, .st = RP_OK};
    rp_status qst = RP_OK;
    int64_t overdue = 0, oldest_pending = 0, failed_at = 0;
    int64_t open = scalar(db,
                          "SELECT count(*), coalesce(sum(deadline < ?1), 0) FROM inbound"
                          " WHERE response_needed = 1 AND first_response_at IS NULL",
                          now, &overdue, &qst);
    int64_t pending = scalar(db,
                             "SELECT count(*), coalesce(min(created_at), 0) FROM replies"
                             " WHERE state = 'pending_approval'",
                             0, &oldest_pending, &qst);
    int64_t due = scalar(db, "SELECT count(*) FROM replies WHERE state = 'approved'", 0, NULL,
                         &qst);
    int64_t failed = scalar(db,
                            "SELECT count(*), coalesce(max(updated_at), 0) FROM replies"
                            " WHERE state = 'failed'",
                            0, &failed_at, &qst);
    int64_t attention = scalar(db,
                               "SELECT count(*) FROM replies WHERE attention IS NOT NULL"
                               " AND state = 'failed'",
                               0, NULL, &qst);
    int64_t unreadable = 0;
    char last_unreadable[1024] = "";
    if (qst == RP_OK &&
        rp_runstate_unreadable_count(q, now - 86400, &unreadable, last_unreadable,
                                     sizeof last_unreadable, &err) != RP_OK)
        qst = RP_EIO;
    if (qst != RP_OK) {
        fprintf(stderr, "replyd status: reading the queue: %s\n", sqlite3_errmsg(db));
        rp_queue_close(q);
        rp_config_free(cfg);
        return RP_EXIT_USAGE;
    }
    if (overdue || failed || unreadable)
        r.trouble = 1;

    char nowiso[32];
    rp_format_iso8601(now, nowiso, sizeof nowiso);
    if (json) {
        r.st = rp_buf_append_char(&out, '{');
        json_str(&r, "now", nowiso, 1);
        json_str(&r, "queue", rp_queue_path(q), 0);
        if (r.st == RP_OK)
            r.st = rp_buf_append_str(&out, ",\"sources\":[");
    } else
        r.st = rp_buf_printf(&out, "replyd status at %s (queue %s)\n\nSources:\n", nowiso,
                             rp_queue_path(q));
    if (r.st == RP_OK && rp_runstate_list(q, on_source, &r, &err) != RP_OK) {
        fprintf(stderr, "replyd status: %s\n", err.msg);
        r.st = RP_EIO;
    }
    /* configured but never polled */
    for (size_t i = 0; r.st == RP_OK && i < cfg->nsources; i++) {
        bool listed = false;
        for (size_t j = 0; j < r.nseen; j++)
            if (strcmp(r.seen[j], cfg->sources[i].name) == 0)
                listed = true;
        if (listed)
            continue;
        rp_source_status s = {.name = cfg->sources[i].name, .plugin = cfg->sources[i].plugin};
        on_source(&r, &s);
    }
    if (r.st == RP_OK && !json && r.nsrc == 0)
        r.st = rp_buf_append_str(&out, "  (none configured or polled yet)\n");

    /* next deadlines */
    sqlite3_stmt *s = NULL;
    if (r.st == RP_OK &&
        sqlite3_prepare_v2(db,
                           "SELECT id, coalesce(marketplace, ''), coalesce(language, ''),"
                           " coalesce(intent, ''), deadline FROM inbound"
                           " WHERE response_needed = 1 AND first_response_at IS NULL"
                           " ORDER BY deadline LIMIT 5",
                           -1, &s, NULL) != SQLITE_OK)
        r.st = RP_EIO;
    if (r.st == RP_OK) {
        if (json) {
            r.st = rp_buf_printf(&out,
                                 "],\"backlog\":{\"open\":%lld,\"overdue\":%lld},"
                                 "\"approvals\":{\"waiting\":%lld,\"oldest\":",
                                 (long long)open, (long long)overdue, (long long)pending);
            if (r.st == RP_OK) {
                if (oldest_pending) {
                    rp_format_iso8601(oldest_pending, nowiso, sizeof nowiso);
                    r.st = rp_buf_printf(&out, "\"%s\"", nowiso);
                } else
                    r.st = rp_buf_append_str(&out, "null");
            }
            if (r.st == RP_OK)
                r.st = rp_buf_printf(&out,
                                     "},\"replies\":{\"due\":%lld,\"failed\":%lld,"
                                     "\"attention\":%lld},\"next_deadlines\":[",
                                     (long long)due, (long long)failed, (long long)attention);
        } else {
            char old[64];
            ago(now, oldest_pending, old, sizeof old);
            r.st = rp_buf_printf(&out,
                                 "\nBacklog: %lld message%s waiting for a first response, %lld "
                                 "overdue\nApprovals waiting: %lld%s%s%s\nReplies: %lld due to "
                                 "be sent, %lld failed (%lld need attention)\n\nNext "
                                 "deadlines:\n",
                                 (long long)open, open == 1 ? "" : "s", (long long)overdue,
                                 (long long)pending, pending ? " (oldest drafted " : "",
                                 pending ? old : "", pending ? ")" : "", (long long)due,
                                 (long long)failed, (long long)attention);
        }
        int n = 0;
        while (r.st == RP_OK && sqlite3_step(s) == SQLITE_ROW) {
            int64_t id = sqlite3_column_int64(s, 0), dl = sqlite3_column_int64(s, 4);
            const char *mk = (const char *)sqlite3_column_text(s, 1);
            const char *lang = (const char *)sqlite3_column_text(s, 2);
            const char *intent = (const char *)sqlite3_column_text(s, 3);
            char iso[32], left[48];
            rp_format_iso8601(dl, iso, sizeof iso);
            if (json) {
                r.st = rp_buf_printf(&out, "%s{\"inbound\":%lld", n ? "," : "", (long long)id);
                json_str(&r, "marketplace", mk, 0);
                json_str(&r, "language", lang, 0);
                json_str(&r, "intent", intent, 0);
                json_str(&r, "deadline", iso, 0);
                json_int(&r, "seconds_left", dl - now);
                if (r.st == RP_OK)
                    r.st = rp_buf_append_char(&out, '}');
            } else {
                span(dl >= now ? dl - now : now - dl, left, sizeof left);
                r.st = rp_buf_printf(&out, "  message %-6lld %-14s %-3s %-22s due %s (%s%s)\n",
                                     (long long)id, mk, lang, intent, iso,
                                     dl >= now ? "in " : "OVERDUE by ", left);
            }
            n++;
        }
        if (r.st == RP_OK && !json && n == 0)
            r.st = rp_buf_append_str(&out, "  (none open)\n");
    }
    sqlite3_finalize(s);
    if (r.st == RP_OK) {
        if (json) {
            r.st = rp_buf_printf(&out, "],\"unreadable_24h\":%lld", (long long)unreadable);
            json_str(&r, "last_unreadable", unreadable ? last_unreadable : NULL, 0);
            if (r.st == RP_OK)
                r.st = rp_buf_printf(&out, ",\"ok\":%s}\n", r.trouble ? "false" : "true");
        } else {
            r.st = rp_buf_printf(&out, "\nUnreadable messages in the last 24 hours: %lld%s%s\n",
                                 (long long)unreadable, unreadable ? " (last: " : "",
                                 unreadable ? last_unreadable : "");
            if (r.st == RP_OK && unreadable)
                r.st = rp_buf_append_str(&out, ")\n");
        }
    }
    int rc = r.trouble ? RP_EXIT_PARTIAL : RP_EXIT_OK;
    if (r.st != RP_OK) {
        fprintf(stderr, "replyd status: cannot build the report\n");
        rc = RP_EXIT_USAGE;
    } else if (rp_cli_flush(&out) || fflush(stdout) != 0) {
        fprintf(stderr, "replyd status: cannot write output\n");
        rc = RP_EXIT_USAGE;
    }
    rp_buf_free(&out);
    free(r.seen);
    rp_queue_close(q);
    rp_config_free(cfg);
    return rc;
}
