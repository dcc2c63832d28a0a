/* replyd check — validate configuration, rules and templates, and run the
 * example cases rule files carry, before anything goes live. */
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "rp_daemon.h"
#include "rp_loop.h"
#include "rp_plugin.h"
#include "rp_buf.h"
#include "rp_compliance.h"
#include "rp_config.h"
#include "rp_engine.h"
#include "rp_extract.h"
#include "rp_langid.h"
#include "rp_lexicon.h"
#include "rp_message.h"
#include "rp_rules_yaml.h"
#include "rp_template.h"

static void usage(FILE *out)
{
    fprintf(out,
            "usage: replyd check [--config FILE] [--quiet]\n"
            "\n"
            "Validates the configuration, every rule file (YAML and Lua; errors name\n"
            "file:line:column), every template (text for each marketplace language, known\n"
            "variables, compliance of the rendered text) and the templates rules refer to,\n"
            "then runs the example cases (`tests:`) of the rule files against the whole\n"
            "rule set.\n"
            "\n"
            "Options:\n"
            "  -c, --config FILE   configuration (default: the built-in one)\n"
            "  -q, --quiet         print only problems and the summary\n"
            "  -h, --help          this help\n"
            "\n"
            "Exit status: 0 everything is fine, 1 problems were found, 2 the configuration,\n"
            "a rule file or a template could not be loaded.\n");
}

typedef struct checker {
    rp_engine *eng;
    const rp_config *cfg;
    int quiet;
    size_t errors;
    rp_compliance_ctx cctx;
    bool builtin_calendar; /* the configuration keeps the built-in hours and holidays */
    bool soft;             /* problems are notes: see run_test */
    size_t notes;          /* problems reported as notes */
} checker;

static void problem(checker *k, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void problem(checker *k, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs(k->soft ? "note: with this configuration's business hours and holidays, " : "error: ",
          stdout);
    vprintf(fmt, ap);
    fputc('\n', stdout);
    va_end(ap);
    if (k->soft)
        k->notes++;
    else
        k->errors++;
}

/* Do two configurations keep the same calendar (team time zone, business
 * hours, holidays)? */
static bool same_calendar(const rp_config *a, const rp_config *b)
{
    if (strcmp(a->team_time_zone ? a->team_time_zone : "",
               b->team_time_zone ? b->team_time_zone : "") != 0 ||
        a->nholidays != b->nholidays || a->nholiday_files != b->nholiday_files)
        return false;
    for (int i = 0; i < 7; i++)
        if (strcmp(a->hours[i] ? a->hours[i] : "", b->hours[i] ? b->hours[i] : "") != 0)
            return false;
    for (size_t i = 0; i < a->nholidays; i++)
        if (a->holidays[i].first != b->holidays[i].first ||
            a->holidays[i].last != b->holidays[i].last ||
            a->holidays[i].yearly != b->holidays[i].yearly)
            return false;
    return true;
}

/* Languages buyers of the configured marketplaces write in. */
static unsigned market_langs(const rp_config *cfg)
{
    unsigned m = 1u << RP_LANG_EN;
    for (size_t i = 0; i < cfg->nmarketplaces; i++) {
        rp_lang l = rp_lang_from_code(cfg->marketplaces[i].language);
        if (l != RP_LANG_UND)
            m |= 1u << l;
    }
    return m;
}

static void check_templates(checker *k)
{
    const rp_templates *ts = rp_engine_templates(k->eng);
    unsigned langs = market_langs(k->cfg);
    rp_tvars v;
    memset(&v, 0, sizeof v);
    v.v[RP_TVAR_ORDER_ID] = "302-1234567-1234567";
    v.v[RP_TVAR_BUYER_NAME] = "Alex Example";
    v.v[RP_TVAR_SELLER_NAME] = k->cfg->seller_name ? k->cfg->seller_name : "Example Shop";
    v.v[RP_TVAR_MARKETPLACE] = "amazon.de";
    v.v[RP_TVAR_SUBJECT] = "Question about my order";
    v.v[RP_TVAR_NEXT_OPEN] = "Monday, November 30, 9:00 AM";
    v.v[RP_TVAR_HOLIDAY_NAME] = "Christmas";
    v.v[RP_TVAR_HOLIDAY_END] = "Monday, January 4";
    v.v[RP_TVAR_REPLY_BY] = "Tuesday, December 1, 3:00 PM";
    rp_buf subj = {0}, body = {0};
    size_t n = rp_templates_count(ts);
    for (size_t i = 0; i < n; i++) {
        const rp_template *t = rp_templates_at(ts, i);
        const char *id = rp_template_id(t);
        for (rp_lang l = RP_LANG_EN; l < RP_LANG_COUNT; l++) {
            const char *code = rp_lang_code(l);
            if (!rp_template_has_lang(t, code)) {
                if (langs & (1u << l))
                    problem(k, "template '%s' (%s) has no %s text: those buyers would get "
                               "another language",
                            id, rp_template_origin(t), code);
                continue;
            }
            rp_buf_reset(&subj);
            rp_buf_reset(&body);
            rp_error err;
            if (rp_template_render(t, code, &v, &subj, &body, &err) != RP_OK) {
                problem(k, "template '%s' [%s]: %s", id, code, err.msg);
                continue;
            }
            rp_findings f;
            if (rp_compliance_check(rp_engine_compliance(k->eng), &k->cctx, subj.data, body.data,
                                    &f) != RP_OK) {
                problem(k, "out of memory");
                continue;
            }
            for (size_t j = 0; j < f.n; j++)
                problem(k, "template '%s' [%s] (%s): compliance %s: \"%s\"", id, code,
                        rp_template_origin(t), rp_check_name(f.items[j].check), f.items[j].text);
        }
    }
    rp_buf_free(&subj);
    rp_buf_free(&body);
}

static void check_references(checker *k)
{
    const rp_ruleset *rs = rp_engine_rules(k->eng);
    const rp_templates *ts = rp_engine_templates(k->eng);
    for (size_t i = 0; i < rp_ruleset_count(rs); i++) {
        const rp_rule *r = rp_ruleset_get(rs, i);
        const char *ids[RP_MAX_REPLIES];
        size_t n = rp_rules_yaml_templates(r, ids, RP_MAX_REPLIES);
        for (size_t j = 0; j < n; j++) {
            const char *p = strstr(ids[j], "{intent}");
            if (!p) {
                if (!rp_templates_find(ts, ids[j]))
                    problem(k, "rule '%s' (%s) replies with template '%s', which does not exist",
                            r->name, r->origin, ids[j]);
                continue;
            }
            for (int in = 0; in < RP_INTENT_COUNT; in++) {
                char id[256];
                snprintf(id, sizeof id, "%.*s%s%s", (int)(p - ids[j]), ids[j],
                         rp_intent_name((rp_intent)in), p + 8);
                if (!rp_templates_find(ts, id))
                    problem(k, "rule '%s' (%s) replies with '%s', but there is no template '%s'",
                            r->name, r->origin, ids[j], id);
            }
        }
    }
    const char *fb = k->cfg->fallback_template;
    if (fb) {
        const char *p = strstr(fb, "{intent}");
        for (int in = 0; in < RP_INTENT_COUNT; in++) {
            char id[256];
            if (p)
                snprintf(id, sizeof id, "%.*s%s%s", (int)(p - fb), fb,
                         rp_intent_name((rp_intent)in), p + 8);
            else
                snprintf(id, sizeof id, "%s", fb);
            if (!rp_templates_find(ts, id))
                problem(k, "safety.fallback_template '%s': there is no template '%s'", fb, id);
            if (!p)
                break;
        }
    }
}

static int same_list(char *const *want, size_t nwant, const char *const *got, size_t ngot)
{
    if (nwant != ngot)
        return 0;
    for (size_t i = 0; i < nwant; i++)
        if (strcmp(want[i], got[i]) != 0)
            return 0;
    return 1;
}

static void join(rp_buf *b, const char *const *v, size_t n)
{
    rp_buf_reset(b);
    if (rp_buf_append_char(b, '[') != RP_OK)
        return;
    for (size_t i = 0; i < n; i++)
        if (rp_buf_printf(b, "%s%s", i ? ", " : "", v[i]) != RP_OK)
            return;
    if (rp_buf_append_char(b, ']') != RP_OK)
        return;
}

static void run_test_case(checker *k, const rp_rule_test *t);

/* The built-in rules' cases are written for the built-in calendar: with a
 * seller's own business hours or holidays one may rightly come out otherwise,
 * which is reported as a note, not a problem. */
static void run_test(checker *k, const rp_rule_test *t)
{
    k->soft = t->builtin && !k->builtin_calendar;
    run_test_case(k, t);
    k->soft = false;
}

static void run_test_case(checker *k, const rp_rule_test *t)
{
    rp_message *m = rp_message_new();
    if (!m) {
        problem(k, "out of memory");
        return;
    }
    rp_status st = rp_message_set(&m->id, t->name);
    if (st == RP_OK)
        st = rp_message_set(&m->source, t->origin);
    if (st == RP_OK)
        st = rp_message_set(&m->marketplace, t->marketplace);
    if (st == RP_OK)
        st = rp_message_set(&m->from, t->from);
    if (st == RP_OK)
        st = rp_message_set(&m->subject, t->subject);
    for (size_t i = 0; st == RP_OK && i < t->nheaders; i++)
        st = rp_message_add_header(m, t->headers[2 * i], t->headers[2 * i + 1]);
    rp_error ferr;
    if (st == RP_OK) {
        /* the same extraction as for real messages: the buyer's own words,
         * the order id from the text or the subject */
        char *text = rp_strdup(t->body);
        st = text ? rp_message_finish(m, text, &ferr) : RP_ENOMEM;
        if (st != RP_OK && st != RP_ENOMEM) {
            problem(k, "test '%s' (%s): the sample message: %s", t->name, t->origin, ferr.msg);
            rp_message_free(m);
            return;
        }
    }
    int64_t now = RP_TIME_UNKNOWN;
    if (t->received_at && rp_parse_iso8601(t->received_at, &m->received_at) != RP_OK)
        m->received_at = RP_TIME_UNKNOWN;
    if (t->now && rp_parse_iso8601(t->now, &now) != RP_OK)
        now = RP_TIME_UNKNOWN;
    if (st != RP_OK) {
        problem(k, "out of memory");
        rp_message_free(m);
        return;
    }
    if (now == RP_TIME_UNKNOWN && m->received_at == RP_TIME_UNKNOWN) {
        problem(k, "test '%s' (%s): give 'now' or the message's 'received_at'", t->name,
                t->origin);
        rp_message_free(m);
        return;
    }
    rp_error err;
    rp_decision d;
    /* each case starts with no automatic replies behind it */
    rp_reply_history *h = rp_loop_memory_history_new();
    if (!h) {
        problem(k, "out of memory");
        rp_message_free(m);
        return;
    }
    rp_engine_set_history(k->eng, h);
    rp_status ds = rp_engine_decide(k->eng, m, now, &d, &err);
    rp_engine_set_history(k->eng, NULL);
    rp_loop_memory_history_free(h);
    if (ds != RP_OK) {
        problem(k, "test '%s': %s", t->name, err.msg);
        rp_message_free(m);
        return;
    }
    size_t before = k->errors + k->notes;
    rp_buf a = {0}, b = {0};
    if (t->expect_rule) {
        const char *got = d.rule ? d.rule : "";
        if (strcmp(t->expect_rule, got) != 0)
            problem(k, "test '%s' (%s): expected rule '%s', got '%s'", t->name, t->origin,
                    t->expect_rule, d.rule ? d.rule : "(none)");
    }
    if (t->expect_intent && strcmp(t->expect_intent, d.intent) != 0)
        problem(k, "test '%s' (%s): expected intent %s, got %s", t->name, t->origin,
                t->expect_intent, d.intent);
    if (t->expect_language && strcmp(t->expect_language, d.language) != 0)
        problem(k, "test '%s' (%s): expected language %s, got %s", t->name, t->origin,
                t->expect_language, d.language);
    if (t->expect_high_risk >= 0 && t->expect_high_risk != (int)d.high_risk)
        problem(k, "test '%s' (%s): expected high_risk %s", t->name, t->origin,
                t->expect_high_risk ? "true" : "false");
    if (t->expect_no_reply >= 0 && t->expect_no_reply != (int)d.no_reply)
        problem(k, "test '%s' (%s): expected no_reply %s", t->name, t->origin,
                t->expect_no_reply ? "true" : "false");
    const char *acts[RP_MAX_DECISION_REPLIES], *tpls[RP_MAX_DECISION_REPLIES];
    for (size_t i = 0; i < d.nreplies; i++) {
        acts[i] = rp_action_name(d.replies[i].action);
        tpls[i] = d.replies[i].template_id;
    }
    if (t->check_actions &&
        !same_list(t->expect_actions, t->nexpect_actions, acts, d.nreplies)) {
        join(&a, (const char *const *)t->expect_actions, t->nexpect_actions);
        join(&b, acts, d.nreplies);
        problem(k, "test '%s' (%s): expected actions %s, got %s", t->name, t->origin,
                a.data ? a.data : "", b.data ? b.data : "");
    }
    if (t->check_templates &&
        !same_list(t->expect_templates, t->nexpect_templates, tpls, d.nreplies)) {
        join(&a, (const char *const *)t->expect_templates, t->nexpect_templates);
        join(&b, tpls, d.nreplies);
        problem(k, "test '%s' (%s): expected templates %s, got %s", t->name, t->origin,
                a.data ? a.data : "", b.data ? b.data : "");
    }
    if (k->errors + k->notes != before) {
        for (size_t i = 0; i < d.nreasons; i++)
            printf("       why: %s\n", d.reasons[i]);
    } else if (!k->quiet) {
        printf("ok: test '%s'\n", t->name);
    }
    rp_buf_free(&a);
    rp_buf_free(&b);
    rp_message_free(m);
}

/* Every configured sink loads and accepts its options; the names that
 * delivery.sink and sla.alert_sink give exist; every marketplace has a
 * sender address when replies go out by SMTP. */
static void check_delivery(checker *k)
{
    const rp_config *cfg = k->cfg;
    rp_sinks *sinks = NULL;
    rp_error err;
    if (rp_sinks_new(cfg, "replyd check", &sinks, &err) != RP_OK) {
        printf("error: %s\n", err.msg);
        k->errors++;
        return;
    }
    rp_sinks_check_only(sinks);
    for (size_t i = 0; i < cfg->nsinks; i++) {
        rp_sink *sk;
        if (rp_sinks_get(sinks, cfg->sinks[i].name, &sk, &err) != RP_OK) {
            printf("error: %s\n", err.msg);
            k->errors++;
        } else if (!k->quiet)
            printf("ok: sink '%s' (plugin %s)%s\n", cfg->sinks[i].name, cfg->sinks[i].plugin,
                   rp_sink_idempotent(sk) ? ", idempotent" : "");
    }
    const char *names[2] = {cfg->sink, cfg->alert_sink};
    const char *keys[2] = {"delivery.sink", "sla.alert_sink"};
    for (int i = 0; i < 2; i++)
        if (names[i] && !rp_config_sink(cfg, names[i])) {
            printf("error: %s names '%s', which is not in delivery.sinks\n", keys[i], names[i]);
            k->errors++;
        }
    const rp_sink_cfg *main_sink = rp_config_sink(cfg, cfg->sink);
    if (main_sink && strcmp(main_sink->plugin, "smtp") == 0)
        for (size_t i = 0; i < cfg->nmarketplaces; i++)
            if (!cfg->marketplaces[i].sender && !k->quiet)
                printf("note: marketplace %s has no sender address: its replies cannot go out "
                       "by SMTP (marketplaces.%s.sender)\n",
                       cfg->marketplaces[i].domain, cfg->marketplaces[i].domain);
    if (!cfg->sink && !k->quiet)
        printf("note: no delivery.sink: replies are queued, and nothing is sent\n");
    rp_sinks_free(sinks);
}

/* Every configured source loads and accepts its options (nothing is
 * contacted); a source's marketplace is one replyd knows. */
static void check_sources(checker *k)
{
    const rp_config *cfg = k->cfg;
    for (size_t i = 0; i < cfg->nsources; i++) {
        const rp_source_cfg *sc = &cfg->sources[i];
        rp_error err;
        if (rp_source_check(cfg, sc, &err) != RP_OK) {
            printf("error: %s\n", err.msg);
            k->errors++;
            continue;
        }
        if (sc->marketplace && !rp_config_marketplace(cfg, sc->marketplace)) {
            printf("error: source '%s': marketplace '%s' is not in marketplaces\n", sc->name,
                   sc->marketplace);
            k->errors++;
            continue;
        }
        if (!k->quiet)
            printf("ok: source '%s' (plugin %s%s%s), polled every %u s\n", sc->name, sc->plugin,
                   sc->marketplace ? ", " : "", sc->marketplace ? sc->marketplace : "",
                   sc->poll_seconds);
    }
}

int rp_cmd_check(int argc, char **argv)
{
    static const struct option opts[] = {{"config", required_argument, NULL, 'c'},
                                         {"quiet", no_argument, NULL, 'q'},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    const char *config_path = NULL;
    int quiet = 0, c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "c:qh", opts, NULL)) != -1) {
        switch (c) {
        case 'c':
            config_path = optarg;
            break;
        case 'q':
            quiet = 1;
            break;
        case 'h':
            usage(stdout);
            return RP_EXIT_OK;
        default:
            usage(stderr);
            return RP_EXIT_USAGE;
        }
    }
    if (rp_cli_no_args("check", argc, argv))
        return RP_EXIT_USAGE;
    rp_error err;
    rp_config *cfg = NULL;
    rp_status st = rp_cli_load_config(config_path, &cfg, &err);
    if (st != RP_OK) {
        printf("error: configuration: %s\n", err.msg);
        return RP_EXIT_USAGE;
    }
    rp_engine *eng = NULL;
    if ((st = rp_engine_new(cfg, &eng, &err)) != RP_OK) {
        printf("error: %s\n", err.msg);
        rp_config_free(cfg);
        return RP_EXIT_USAGE;
    }
    checker k = {.eng = eng, .cfg = cfg, .quiet = quiet, .builtin_calendar = true};
    rp_config *def = NULL;
    if (rp_config_load_default(&def, &err) == RP_OK) {
        k.builtin_calendar = same_calendar(cfg, def);
        rp_config_free(def);
    }
    const rp_ruleset *rs = rp_engine_rules(eng);
    if (!quiet) {
        printf("ok: configuration %s\n", cfg->path);
        printf("ok: %zu rules (%zu Lua), %zu templates\n", rp_ruleset_count(rs),
               rp_engine_lua_rules(eng), rp_templates_count(rp_engine_templates(eng)));
        for (size_t i = 0; i < rp_ruleset_count(rs); i++) {
            const rp_rule *r = rp_ruleset_get(rs, i);
            printf("   %4d  %-32s %s\n", r->priority, r->name, r->origin);
        }
    }
    check_templates(&k);
    check_references(&k);
    check_delivery(&k);
    check_sources(&k);
    const rp_rule_tests *tests = rp_engine_tests(eng);
    for (size_t i = 0; i < tests->n; i++)
        run_test(&k, &tests->items[i]);
    printf("replyd check: %zu rules, %zu templates, %zu tests, %zu problem%s\n",
           rp_ruleset_count(rs), rp_templates_count(rp_engine_templates(eng)), tests->n, k.errors,
           k.errors == 1 ? "" : "s");
    rp_compliance_ctx_free(&k.cctx);
    rp_engine_free(eng);
    rp_config_free(cfg);
    if (fflush(stdout) != 0)
        return RP_EXIT_USAGE;
    return k.errors ? RP_EXIT_PARTIAL : RP_EXIT_OK;
}
