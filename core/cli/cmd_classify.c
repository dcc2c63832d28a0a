/* replyd classify — language and intent of each message, as JSON Lines. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "rp_buf.h"
#include "rp_classify.h"
#include "rp_config.h"
#include "rp_input.h"
#include "rp_model.h"

static void usage(FILE *out)
{
    fprintf(out,
            "usage: replyd classify [--config FILE] [--format auto|jsonl|eml] [FILE|DIR...]\n"
            "\n"
            "Reads buyer messages and prints one JSON object per message, in input order:\n"
            "  {\"id\":\"…\",\"language\":\"de\",\"intent\":\"return_request\",\"confidence\":0.83,\n"
            "   \"high_risk\":false,\"keywords\":[\"rücksendung\"]}\n"
            "or, for a message that could not be read, {\"id\":\"…\",\"error\":\"…\"}.\n"
            "\n"
            "Inputs: .jsonl files (one message per line), .eml files, Maildir folders,\n"
            "directories of those, or standard input when no input is named (or '-').\n"
            "\n"
            "Options:\n"
            "  -c, --config FILE   configuration (default: the built-in one)\n"
            "  -f, --format FMT    auto (by extension or first byte), jsonl or eml\n"
            "  -h, --help          this help\n"
            "\n"
            "Exit status: 0 all messages read, 1 some failed, 2 usage or configuration error.\n");
}

typedef struct state {
    const rp_classifier *clf;
    rp_classify_ctx ctx;
    rp_buf out;
    size_t ok, failed;
    int write_error;
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
    rp_status ws = rp_buf_append_str(o, "{\"id\":");
    if (ws == RP_OK)
        ws = rp_buf_append_json_string(o, id, strlen(id));
    if (st != RP_OK) {
        s->failed++;
        char full[RP_CLI_ERROR_MAX];
        rp_cli_read_error(m, st, err, full, sizeof full);
        if (ws == RP_OK)
            ws = rp_buf_append_str(o, ",\"error\":");
        if (ws == RP_OK)
            ws = rp_buf_append_json_string(o, full, strlen(full));
    } else {
        rp_classification c;
        rp_status cs = rp_classify_text(s->clf, &s->ctx, m->subject, m->body, m->marketplace, &c);
        if (cs != RP_OK) {
            s->failed++;
            if (ws == RP_OK)
                ws = rp_buf_printf(o, ",\"error\":\"classification failed: %s\"", rp_strerror(cs));
        } else {
            s->ok++;
            /* confidence in hundredths, written without printf (hot path) */
            int hund = (int)(c.confidence * 100.0 + 0.5);
            if (hund < 0)
                hund = 0;
            if (hund > 100)
                hund = 100;
            char conf[8] = {(char)('0' + hund / 100), '.', (char)('0' + hund / 10 % 10),
                            (char)('0' + hund % 10), 0};
            const char *parts[] = {",\"language\":\"", rp_lang_code(c.language),
                                   "\",\"intent\":\"", rp_intent_name(c.intent),
                                   "\",\"confidence\":", conf, ",\"high_risk\":",
                                   c.high_risk ? "true" : "false", ",\"keywords\":["};
            for (size_t i = 0; i < sizeof parts / sizeof parts[0] && ws == RP_OK; i++)
                ws = rp_buf_append_str(o, parts[i]);
            const rp_lexicon *lx = rp_classifier_lexicon(s->clf);
            for (size_t i = 0; i < c.nkeywords && ws == RP_OK; i++) {
                const char *kw = rp_lexicon_keyword(lx, c.keywords[i])->surface;
                if (i)
                    ws = rp_buf_append_char(o, ',');
                if (ws == RP_OK)
                    ws = rp_buf_append_json_string(o, kw, strlen(kw));
            }
            if (ws == RP_OK)
                ws = rp_buf_append_char(o, ']');
        }
    }
    if (ws == RP_OK)
        ws = rp_buf_append_str(o, "}\n");
    rp_message_free(m);
    if (ws != RP_OK) {
        fprintf(stderr, "replyd classify: out of memory\n");
        return 1;
    }
    if (o->len >= 1 << 16)
        flush_out(s);
    return s->write_error;
}

int rp_cmd_classify(int argc, char **argv)
{
    static const struct option opts[] = {{"config", required_argument, NULL, 'c'},
                                         {"format", required_argument, NULL, 'f'},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    const char *config_path = NULL;
    rp_format fmt = RP_FORMAT_AUTO;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "c:f:h", opts, NULL)) != -1) {
        switch (c) {
        case 'c':
            config_path = optarg;
            break;
        case 'f': {
            int ok;
            fmt = rp_format_from_name(optarg, &ok);
            if (!ok) {
                fprintf(stderr, "replyd classify: unknown format '%s' (auto, jsonl, eml)\n",
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
    rp_error err;
    rp_config *cfg = NULL;
    rp_status st = rp_cli_load_config(config_path, &cfg, &err);
    if (st != RP_OK) {
        fprintf(stderr, "replyd classify: configuration: %s\n", err.msg);
        return RP_EXIT_USAGE;
    }
    rp_classifier *clf = NULL;
    if ((st = rp_model_load(cfg, &clf, &err)) != RP_OK) {
        fprintf(stderr, "replyd classify: %s\n", err.msg);
        rp_config_free(cfg);
        return RP_EXIT_USAGE;
    }
    state s = {.clf = clf};
    rp_input_walk((const char *const *)argv + optind, (size_t)(argc - optind), fmt, &cfg->limits,
                  on_message, &s);
    flush_out(&s);
    if (fflush(stdout) != 0)
        s.write_error = 1;
    rp_buf_free(&s.out);
    rp_classify_ctx_free(&s.ctx);
    rp_classifier_free(clf);
    rp_config_free(cfg);
    if (s.write_error) {
        fprintf(stderr, "replyd classify: cannot write output\n");
        return RP_EXIT_USAGE;
    }
    return s.failed ? RP_EXIT_PARTIAL : RP_EXIT_OK;
}
