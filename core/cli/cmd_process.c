/* replyd process — the whole pipeline into the queue; with --dry-run nothing
 * is stored or sent. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "rp_buf.h"
#include "rp_config.h"
#include "rp_engine.h"
#include "rp_input.h"
#include "rp_intake.h"
#include "rp_queue.h"
#include <time.h>

static void usage(FILE *out)
{
    fprintf(out,
            "usage: replyd process [--dry-run] [--now TIME] [--config FILE] [--queue FILE]\n"
            "                      [--format json|text] [--input-format auto|jsonl|eml]\n"
            "                      [FILE|DIR...]\n"
            "\n"
            "Runs every message through classification, the rules, the templates and the\n"
            "compliance checks, and stores the message and its replies in the queue:\n"
            "automatic replies wait there for 'replyd send', the others for a human\n"
            "('replyd queue'). A message stored before (same marketplace and id, or same\n"
            "bytes) is skipped, so the same input can be processed again safely. One line\n"
            "per message: {\"id\",\"status\":\"stored\"|\"duplicate\"|\"error\",\"inbound\",\n"
            "\"replies\":[{\"id\",\"template\",\"state\"}],\"suppressed\"}, written once stored.\n"
            "\n"
            "With --dry-run, nothing is stored or sent; it prints what replyd would do:\n"
            "  {\"id\",\"language\",\"intent\",\"high_risk\",\"priority\",\"tags\",\"no_reply\",\n"
            "   \"suppressed\",\"suppressed_detail\",\"approval_needed\",\"rule\",\n"
            "   \"replies\":[{\"rule\",\"template\",\"action\",\"language\",\"subject\",\"body\",\n"
            "   \"counts_as_response\",\"compliance\":[...]}],\"reasons\":[...]}\n"
            "Loop protection applies in a dry run too; its throttles count only the\n"
            "messages of this run.\n"
            "\n"
            "Options:\n"
            "  -n, --dry-run            decide and print, store nothing\n"
            "  -q, --queue FILE         the queue (default: queue.path of the configuration)\n"
            "  -t, --now TIME           decide as if every message arrived at TIME (ISO 8601,\n"
            "                           e.g. 2026-11-28T03:00:00+01:00). Default: a dry run\n"
            "                           decides at each message's received time; storing\n"
            "                           decides at the current time (what to do now)\n"
            "  -c, --config FILE        configuration (default: the built-in one)\n"
            "  -f, --format FMT         json (one object per line, default) or text\n"
            "  -i, --input-format FMT   auto (by extension or first byte), jsonl or eml\n"
            "  -h, --help               this help\n"
            "\n"
            "Inputs: .jsonl files, .eml files, Maildir folders, directories of those, or\n"
            "standard input when none is named (or '-').\n"
            "\n"
            "Exit status: 0 all messages decided, 1 some could not be read, 2 usage or\n"
            "configuration error.\n");
}

typedef struct state {
    rp_engine *eng;
    const rp_config *cfg;
    rp_queue *q;        /* NULL in a dry run */
    int64_t now;
    int text;
    rp_buf out;         /* in queue mode: lines of messages not yet committed */
    size_t ok, failed, stored, duplicates, replies, automatic, pending;
    unsigned in_batch;
    struct timespec batch_start;
    int write_error, fatal;
} state;

static void flush_out(state *s)
{
    if (rp_cli_flush(&s->out))
        s->write_error = 1;
}

static int64_t wall_now(void)
{
    return (int64_t)time(NULL);
}

/* Group commit: a batch ends after commit_every messages or a second. Lines
 * about stored messages are written only once their batch is committed. */
static int commit_batch(state *s)
{
    if (!s->q || !s->in_batch)
        return 0;
    rp_error err;
    if (rp_queue_commit(s->q, &err) != RP_OK) {
        fprintf(stderr, "replyd process: %s\n", err.msg);
        s->fatal = 1;
        return 1;
    }
    s->in_batch = 0;
    /* out of the stdio buffer too: a line printed is a message stored */
    flush_out(s);
    if (fflush(stdout) != 0)
        s->write_error = 1;
    return s->write_error;
}

static int batch_due(state *s)
{
    if (s->in_batch >= s->cfg->commit_every)
        return 1;
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (t.tv_sec - s->batch_start.tv_sec) * 1000 +
               (t.tv_nsec - s->batch_start.tv_nsec) / 1000000 >=
           1000;
}

static rp_status queue_line(state *s, const rp_message *m, const rp_decision *d,
                            const char *status, int64_t inbound)
{
    rp_buf *o = &s->out;
    const char *id = rp_cli_message_id(m);
    rp_status st = rp_buf_append_str(o, "{\"id\":");
    if (st == RP_OK)
        st = rp_buf_append_json_string(o, id, strlen(id));
    if (st == RP_OK)
        st = rp_buf_printf(o, ",\"status\":\"%s\"", status);
    if (st == RP_OK && inbound > 0) {
        st = rp_buf_printf(o, ",\"inbound\":%lld,\"replies\":[", (long long)inbound);
        for (size_t i = 0; d && i < d->nreplies && st == RP_OK; i++)
            st = rp_buf_printf(o, "%s{\"template\":\"%s\",\"state\":\"%s\"}", i ? "," : "",
                               d->replies[i].template_id,
                               d->replies[i].action == RP_ACTION_AUTO_SEND ? "approved"
                                                                           : "pending_approval");
        if (st == RP_OK)
            st = rp_buf_append_char(o, ']');
        if (st == RP_OK && d && d->suppressed)
            st = rp_buf_printf(o, ",\"suppressed\":\"%s\"", d->suppressed);
    }
    if (st == RP_OK)
        st = rp_buf_append_str(o, "}\n");
    return st;
}

static int store(state *s, rp_message *m)
{
    rp_error err;
    rp_error_clear(&err);
    if (!s->in_batch) {
        if (rp_queue_begin(s->q, &err) != RP_OK) {
            fprintf(stderr, "replyd process: %s\n", err.msg);
            s->fatal = 1;
            return 1;
        }
        clock_gettime(CLOCK_MONOTONIC, &s->batch_start);
    }
    s->in_batch++;
    if (s->now != RP_TIME_UNKNOWN)
        m->received_at = s->now;
    int64_t decided = s->now != RP_TIME_UNKNOWN ? s->now : wall_now();
    rp_decision d;
    rp_intake_result r;
    if (rp_intake_store(s->eng, s->cfg, s->q, m, decided, &d, &r, &err) != RP_OK) {
        fprintf(stderr, "replyd process: %s\n", err.msg);
        s->fatal = 1;
        return 1;
    }
    rp_status ws;
    if (r.duplicate) {
        s->duplicates++;
        ws = queue_line(s, m, NULL, "duplicate", 0);
    } else {
        s->ok++;
        s->stored++;
        s->replies += r.replies;
        s->automatic += r.automatic;
        s->pending += r.pending;
        ws = queue_line(s, m, &d, "stored", r.inbound);
    }
    if (ws != RP_OK) {
        fprintf(stderr, "replyd process: out of memory\n");
        s->fatal = 1;
        return 1;
    }
    if (batch_due(s))
        return commit_batch(s);
    return 0;
}

static int on_message(void *ud, rp_message *m, rp_status st, const rp_error *err)
{
    state *s = ud;
    rp_buf *o = &s->out;
    const char *id = rp_cli_message_id(m);
    rp_status ws = RP_OK;
    if (st != RP_OK) {
        s->failed++;
        char full[RP_CLI_ERROR_MAX];
        rp_cli_read_error(m, st, err, full, sizeof full);
        if (s->text) {
            ws = rp_buf_printf(o, "== %s  ERROR: %s\n\n", id, full);
        } else {
            ws = rp_buf_append_str(o, "{\"id\":");
            if (ws == RP_OK)
                ws = rp_buf_append_json_string(o, id, strlen(id));
            if (ws == RP_OK && s->q)
                ws = rp_buf_append_str(o, ",\"status\":\"error\"");
            if (ws == RP_OK)
                ws = rp_buf_append_str(o, ",\"error\":");
            if (ws == RP_OK)
                ws = rp_buf_append_json_string(o, full, strlen(full));
            if (ws == RP_OK)
                ws = rp_buf_append_str(o, "}\n");
        }
    } else if (s->q) {
        int rc = store(s, m);
        rp_message_free(m);
        return rc;
    } else {
        /* --now replays the message as if it had arrived at that time */
        if (s->now != RP_TIME_UNKNOWN)
            m->received_at = s->now;
        rp_decision d;
        rp_error derr;
        rp_error_clear(&derr);
        rp_status ds = rp_engine_decide(s->eng, m, s->now, &d, &derr);
        if (ds != RP_OK) {
            s->fatal = 1;
            fprintf(stderr, "replyd process: %s\n", derr.msg);
            rp_message_free(m);
            return 1;
        }
        s->ok++;
        if (s->text) {
            ws = rp_decision_text(&d, o);
        } else {
            ws = rp_decision_json(&d, o);
            if (ws == RP_OK)
                ws = rp_buf_append_char(o, '\n');
        }
    }
    rp_message_free(m);
    if (ws != RP_OK) {
        fprintf(stderr, "replyd process: out of memory\n");
        s->fatal = 1;
        return 1;
    }
    if (!s->q && o->len >= 1 << 16)
        flush_out(s);
    return s->write_error;
}

int rp_cmd_process(int argc, char **argv)
{
    static const struct option opts[] = {{"dry-run", no_argument, NULL, 'n'},
                                         {"now", required_argument, NULL, 't'},
                                         {"config", required_argument, NULL, 'c'},
                                         {"queue", required_argument, NULL, 'q'},
                                         {"format", required_argument, NULL, 'f'},
                                         {"input-format", required_argument, NULL, 'i'},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    const char *config_path = NULL, *queue_path = NULL;
    rp_format fmt = RP_FORMAT_AUTO;
    int dry = 0, text = 0;
    int64_t now = RP_TIME_UNKNOWN;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "nt:c:q:f:i:h", opts, NULL)) != -1) {
        switch (c) {
        case 'n':
            dry = 1;
            break;
        case 't':
            if (rp_cli_time_arg("process", "now", optarg, &now))
                return RP_EXIT_USAGE;
            break;
        case 'c':
            config_path = optarg;
            break;
        case 'q':
            queue_path = optarg;
            break;
        case 'f':
            if (strcmp(optarg, "json") == 0 || strcmp(optarg, "jsonl") == 0)
                text = 0;
            else if (strcmp(optarg, "text") == 0)
                text = 1;
            else {
                fprintf(stderr, "replyd process: unknown output format '%s' (json, text)\n",
                        optarg);
                return RP_EXIT_USAGE;
            }
            break;
        case 'i': {
            int ok;
            fmt = rp_format_from_name(optarg, &ok);
            if (!ok) {
                fprintf(stderr, "replyd process: unknown input format '%s' (auto, jsonl, eml)\n",
                        optarg);
                return RP_EXIT_USAGE;
            }
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
    if (!dry && text) {
        fprintf(stderr, "replyd process: --format text is for --dry-run; 'replyd queue list' "
                        "shows what was stored\n");
        return RP_EXIT_USAGE;
    }
    rp_error err;
    rp_config *cfg = NULL;
    rp_status st = rp_cli_load_config(config_path, &cfg, &err);
    if (st != RP_OK) {
        fprintf(stderr, "replyd process: configuration: %s\n", err.msg);
        return RP_EXIT_USAGE;
    }
    rp_engine *eng = NULL;
    if ((st = rp_engine_new(cfg, &eng, &err)) != RP_OK) {
        fprintf(stderr, "replyd process: %s\n", err.msg);
        rp_config_free(cfg);
        return RP_EXIT_USAGE;
    }
    rp_queue *q = NULL;
    if (!dry) {
        if ((st = rp_cli_open_queue(cfg, queue_path, false, &q, &err)) != RP_OK) {
            fprintf(stderr, "replyd process: %s\n", err.msg);
            rp_engine_free(eng);
            rp_config_free(cfg);
            return RP_EXIT_USAGE;
        }
        rp_engine_set_history(eng, rp_queue_history(q));
    }
    state s = {.eng = eng, .cfg = cfg, .q = q, .now = now, .text = text};
    rp_input_walk((const char *const *)argv + optind, (size_t)(argc - optind), fmt, &cfg->limits,
                  on_message, &s);
    if (q && !s.fatal)
        commit_batch(&s);
    if (!q || !s.fatal)
        flush_out(&s);
    if (fflush(stdout) != 0)
        s.write_error = 1;
    if (q && !s.fatal)
        fprintf(stderr,
                "replyd process: %zu stored, %zu seen before, %zu unreadable; %zu replies: %zu "
                "automatic, %zu waiting for approval\n",
                s.stored, s.duplicates, s.failed, s.replies, s.automatic, s.pending);
    rp_buf_free(&s.out);
    rp_engine_set_history(eng, NULL);
    rp_queue_close(q);
    rp_engine_free(eng);
    rp_config_free(cfg);
    if (s.write_error) {
        fprintf(stderr, "replyd process: cannot write output\n");
        return RP_EXIT_USAGE;
    }
    if (s.fatal)
        return RP_EXIT_USAGE;
    return s.failed ? RP_EXIT_PARTIAL : RP_EXIT_OK;
}
