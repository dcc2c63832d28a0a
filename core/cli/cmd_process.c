/* replyd process --dry-run — the whole pipeline, nothing stored or sent. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "rp_buf.h"
#include "rp_config.h"
#include "rp_engine.h"
#include "rp_input.h"

static void usage(FILE *out)
{
    fprintf(out,
            "usage: replyd process --dry-run [--now TIME] [--config FILE] [--format json|text]\n"
            "                      [--input-format auto|jsonl|eml] [FILE|DIR...]\n"
            "\n"
            "Runs every message through classification, the rules, the templates and the\n"
            "compliance checks and prints what replyd would do, one decision per message:\n"
            "  {\"id\",\"language\",\"intent\",\"high_risk\",\"priority\",\"tags\",\"no_reply\",\n"
            "   \"approval_needed\",\"rule\",\"replies\":[{\"rule\",\"template\",\"action\",\n"
            "   \"language\",\"subject\",\"body\",\"counts_as_response\",\"compliance\":[...]}],\n"
            "   \"reasons\":[...]}\n"
            "Nothing is stored and nothing is sent.\n"
            "\n"
            "Options:\n"
            "  -n, --dry-run            required: the queue is not part of this version\n"
            "  -t, --now TIME           decide as if every message arrived at TIME (ISO 8601,\n"
            "                           e.g. 2026-11-28T03:00:00+01:00); default: each\n"
            "                           message's received time\n"
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
    int64_t now;
    int text;
    rp_buf out;
    size_t ok, failed;
    int write_error, fatal;
} state;

static void flush_out(state *s)
{
    if (rp_cli_flush(&s->out))
        s->write_error = 1;
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
            if (ws == RP_OK)
                ws = rp_buf_append_str(o, ",\"error\":");
            if (ws == RP_OK)
                ws = rp_buf_append_json_string(o, full, strlen(full));
            if (ws == RP_OK)
                ws = rp_buf_append_str(o, "}\n");
        }
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
    if (o->len >= 1 << 16)
        flush_out(s);
    return s->write_error;
}

int rp_cmd_process(int argc, char **argv)
{
    static const struct option opts[] = {{"dry-run", no_argument, NULL, 'n'},
                                         {"now", required_argument, NULL, 't'},
                                         {"config", required_argument, NULL, 'c'},
                                         {"format", required_argument, NULL, 'f'},
                                         {"input-format", required_argument, NULL, 'i'},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    const char *config_path = NULL;
    rp_format fmt = RP_FORMAT_AUTO;
    int dry = 0, text = 0;
    int64_t now = RP_TIME_UNKNOWN;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "nt:c:f:i:h", opts, NULL)) != -1) {
        switch (c) {
        case 'n':
            dry = 1;
            break;
        case 't':
            if (rp_parse_iso8601(optarg, &now) != RP_OK) {
                fprintf(stderr,
                        "replyd process: --now '%s' is not an ISO 8601 time such as "
                        "2026-11-28T03:00:00+01:00\n",
                        optarg);
                return RP_EXIT_USAGE;
            }
            break;
        case 'c':
            config_path = optarg;
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
    if (!dry) {
        fprintf(stderr, "replyd process: only --dry-run is available: this version has no "
                        "reply queue yet, so nothing could be stored or sent\n");
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
    state s = {.eng = eng, .now = now, .text = text};
    rp_input_walk((const char *const *)argv + optind, (size_t)(argc - optind), fmt, &cfg->limits,
                  on_message, &s);
    flush_out(&s);
    if (fflush(stdout) != 0)
        s.write_error = 1;
    rp_buf_free(&s.out);
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
