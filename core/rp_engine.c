/* rp_engine.c — building the pipeline from a configuration, and deciding. */
#include "rp_engine.h"

#include <dirent.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "rp_classify.h"
#include "rp_datefmt.h"
#include "rp_embedded.h"
#include "rp_langid.h"
#include "rp_lexicon.h"
#include "rp_lua.h"
#include "rp_model.h"
#include "rp_schedule.h"
#include "rp_text.h"
#include "rp_tz.h"

#define RP_RULE_FILE_MAX (4u << 20)

typedef struct market {
    const rp_marketplace_cfg *cfg;
    rp_tz *tz;
} market;

/* Formatted dates repeat: every message of one night announces the same
 * opening time. A few recent results are kept. */
#define RP_DATE_CACHE 16
typedef struct date_memo {
    char lang[8], tz[64];
    int64_t t;
    int style;             /* -1 = empty slot */
    char text[120];
} date_memo;

struct rp_engine {
    const rp_config *cfg;
    rp_classifier *clf;
    rp_classify_ctx cctx;
    rp_templates *tpl;
    rp_compliance *comp;
    rp_compliance_ctx compctx;
    rp_schedule *sched;
    market *markets;
    size_t nmarkets;
    rp_ruleset *rules;
    rp_rule_tests tests;
    size_t nlua;
    rp_datefmt *df;
    rp_arena arena;
    rp_buf fold, tmp, subj, body;
    const char *team_tz_name;
    date_memo dates[RP_DATE_CACHE];
    unsigned next_date;
    rp_loop *loop;
    rp_reply_history *own_history; /* in memory; used unless another is set */
    const rp_reply_history *history;
};

/* ---- building ---------------------------------------------------------------- */

void rp_engine_free(rp_engine *e)
{
    if (!e)
        return;
    rp_classifier_free(e->clf);
    rp_classify_ctx_free(&e->cctx);
    rp_templates_free(e->tpl);
    rp_compliance_free(e->comp);
    rp_compliance_ctx_free(&e->compctx);
    rp_schedule_free(e->sched);
    for (size_t i = 0; i < e->nmarkets; i++)
        rp_tz_free(e->markets[i].tz);
    free(e->markets);
    rp_ruleset_free(e->rules);
    rp_rule_tests_free(&e->tests);
    rp_datefmt_free(e->df);
    rp_arena_free(&e->arena);
    rp_buf_free(&e->fold);
    rp_buf_free(&e->tmp);
    rp_buf_free(&e->subj);
    rp_buf_free(&e->body);
    rp_loop_free(e->loop);
    rp_loop_memory_history_free(e->own_history);
    free(e);
}

static rp_status build_schedule(rp_engine *e, rp_error *err)
{
    const rp_config *cfg = e->cfg;
    const char *zone = cfg->team_time_zone ? cfg->team_time_zone : "UTC";
    rp_tz *tz = NULL;
    rp_status st = rp_tz_open(zone, &tz, err);
    if (st != RP_OK)
        return st;
    if (!(e->sched = rp_schedule_new(tz)))
        return rp_error_set(err, RP_ENOMEM, "out of memory");
    e->team_tz_name = rp_tz_name(rp_schedule_tz(e->sched));
    for (int d = 0; d < 7; d++)
        if (cfg->hours[d] && (st = rp_schedule_set_day(e->sched, d, cfg->hours[d], err)) != RP_OK)
            return st;
    for (size_t i = 0; i < cfg->nholidays; i++) {
        const rp_holiday_cfg *h = &cfg->holidays[i];
        if (!h->yearly) {
            if ((st = rp_schedule_add_holiday(e->sched, h->name, h->first, h->last, err)) != RP_OK)
                return st;
            continue;
        }
        /* yearly: every year replyd may be asked about (--now replays included) */
        for (int32_t y = 2000; y <= 2099; y++) {
            int32_t first = y * 10000 + h->first;
            int32_t last = (h->last >= h->first ? y : y + 1) * 10000 + h->last;
            if (h->first == 229 || h->last == 229) {
                bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
                if (!leap)
                    continue;
            }
            if ((st = rp_schedule_add_holiday(e->sched, h->name, first, last, err)) != RP_OK)
                return st;
        }
    }
    for (size_t i = 0; i < cfg->nholiday_files; i++) {
        char *data;
        size_t len;
        if ((st = rp_read_file(cfg->holiday_files[i], 16u << 20, &data, &len, err)) != RP_OK)
            return st;
        st = rp_schedule_load_ics(e->sched, data, len, cfg->holiday_files[i], err);
        free(data);
        if (st != RP_OK)
            return st;
    }
    return RP_OK;
}

static rp_status build_markets(rp_engine *e, rp_error *err)
{
    const rp_config *cfg = e->cfg;
    e->markets = calloc(cfg->nmarketplaces ? cfg->nmarketplaces : 1, sizeof *e->markets);
    if (!e->markets)
        return rp_error_set(err, RP_ENOMEM, "out of memory");
    for (size_t i = 0; i < cfg->nmarketplaces; i++) {
        const rp_marketplace_cfg *mp = &cfg->marketplaces[i];
        e->markets[i].cfg = mp;
        const char *zone = mp->time_zone ? mp->time_zone : e->team_tz_name;
        rp_status st = rp_tz_open(zone, &e->markets[i].tz, err);
        if (st != RP_OK)
            return st;
        e->nmarkets++;
    }
    return RP_OK;
}

static rp_status build_templates(rp_engine *e, rp_error *err)
{
    if (!(e->tpl = rp_templates_new()))
        return rp_error_set(err, RP_ENOMEM, "out of memory");
    rp_status st;
    if (e->cfg->builtin_templates) {
        for (const rp_embedded_file *f = rp_embedded_files; f->name; f++) {
            if (strncmp(f->name, "templates/", 10) != 0)
                continue;
            if ((st = rp_templates_add(e->tpl, (const char *)f->data, f->len, f->name, err)) !=
                RP_OK)
                return st;
        }
    }
    for (size_t i = 0; i < e->cfg->ntemplate_dirs; i++)
        if ((st = rp_templates_add_dir(e->tpl, e->cfg->template_dirs[i], err)) != RP_OK)
            return st;
    return RP_OK;
}

static rp_status build_compliance(rp_engine *e, rp_error *err)
{
    const rp_config *cfg = e->cfg;
    rp_compliance_opts o;
    rp_compliance_opts_default(&o);
    size_t n = o.nallowed_domains + cfg->nallowed_domains + cfg->nmarketplaces;
    const char **doms = calloc(n ? n : 1, sizeof *doms);
    if (!doms)
        return rp_error_set(err, RP_ENOMEM, "out of memory");
    size_t k = 0;
    for (size_t i = 0; i < o.nallowed_domains; i++)
        doms[k++] = o.allowed_domains[i];
    for (size_t i = 0; i < cfg->nallowed_domains; i++)
        doms[k++] = cfg->allowed_domains[i];
    for (size_t i = 0; i < cfg->nmarketplaces; i++)
        doms[k++] = cfg->marketplaces[i].domain;
    o.allowed_domains = doms;
    o.nallowed_domains = k;
    o.allow_phone = cfg->allow_phone;
    o.max_subject_chars = cfg->max_subject_chars;
    o.max_body_chars = cfg->max_body_chars;
    rp_status st = rp_compliance_new(&o, &e->comp, err);
    free(doms);
    return st;
}

static bool has_suffix(const char *s, const char *suf)
{
    size_t a = strlen(s), b = strlen(suf);
    return a >= b && strcmp(s + a - b, suf) == 0;
}

static rp_status load_rule_text(rp_engine *e, const char *data, size_t len, const char *name,
                                rp_error *err)
{
    if (has_suffix(name, ".lua")) {
        rp_lua_limits lim;
        rp_lua_limits_default(&lim);
        lim.instructions = e->cfg->lua_instructions;
        lim.memory = (size_t)e->cfg->lua_memory;
        rp_rule *r = NULL;
        rp_status st = rp_lua_rule_load(data, len, name, &lim, &r, err);
        if (st != RP_OK)
            return st;
        e->nlua++;
        return rp_ruleset_add(e->rules, r, err);
    }
    return rp_rules_yaml_load(data, len, name, e->rules, &e->tests, err);
}

static rp_status load_rule_file(rp_engine *e, const char *path, rp_error *err)
{
    char *data;
    size_t len;
    rp_status st = rp_read_file(path, RP_RULE_FILE_MAX, &data, &len, err);
    if (st != RP_OK)
        return st;
    st = load_rule_text(e, data, len, path, err);
    free(data);
    return st;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static bool is_rule_file(const char *n)
{
    return n[0] != '.' && (has_suffix(n, ".yaml") || has_suffix(n, ".yml") || has_suffix(n, ".lua"));
}

static rp_status load_rule_path(rp_engine *e, const char *path, rp_error *err)
{
    DIR *d = opendir(path);
    if (!d)
        return load_rule_file(e, path, err); /* a file, or the error names it */
    char **names = NULL;
    size_t n = 0, cap = 0;
    rp_status st = RP_OK;
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        if (!is_rule_file(de->d_name))
            continue;
        if (n == cap) {
            cap = cap ? cap * 2 : 16;
            char **nn = realloc(names, cap * sizeof *nn);
            if (!nn) {
                st = rp_error_set(err, RP_ENOMEM, "out of memory");
                break;
            }
            names = nn;
        }
        rp_buf p = {0};
        size_t pl = strlen(path);
        bool slash = pl && path[pl - 1] == '/';
        if (rp_buf_printf(&p, "%s%s%s", path, slash ? "" : "/", de->d_name) != RP_OK) {
            rp_buf_free(&p);
            st = rp_error_set(err, RP_ENOMEM, "out of memory");
            break;
        }
        names[n++] = rp_buf_steal(&p);
    }
    closedir(d);
    if (st == RP_OK)
        qsort(names, n, sizeof *names, cmp_str); /* load order breaks priority ties */
    for (size_t i = 0; i < n; i++) {
        if (st == RP_OK)
            st = load_rule_file(e, names[i], err);
        free(names[i]);
    }
    free(names);
    return st;
}

static rp_status build_rules(rp_engine *e, rp_error *err)
{
    if (!(e->rules = rp_ruleset_new()))
        return rp_error_set(err, RP_ENOMEM, "out of memory");
    rp_status st;
    if (e->cfg->builtin_rules) {
        for (const rp_embedded_file *f = rp_embedded_files; f->name; f++) {
            if (strncmp(f->name, "rules/", 6) != 0)
                continue;
            if ((st = load_rule_text(e, (const char *)f->data, f->len, f->name, err)) != RP_OK)
                return st;
        }
        for (size_t i = 0; i < e->tests.n; i++)
            e->tests.items[i].builtin = true;
    }
    for (size_t i = 0; i < e->cfg->nrule_paths; i++)
        if ((st = load_rule_path(e, e->cfg->rule_paths[i], err)) != RP_OK)
            return st;
    if (rp_ruleset_finish(e->rules) != RP_OK)
        return rp_error_set(err, RP_ENOMEM, "out of memory");
    return RP_OK;
}

rp_status rp_engine_new(const rp_config *cfg, rp_engine **out, rp_error *err)
{
    *out = NULL;
    rp_engine *e = calloc(1, sizeof *e);
    if (!e)
        return rp_error_set(err, RP_ENOMEM, "out of memory");
    e->cfg = cfg;
    for (unsigned i = 0; i < RP_DATE_CACHE; i++)
        e->dates[i].style = -1;
    rp_status st = rp_model_load(cfg, &e->clf, err);
    if (st == RP_OK)
        st = build_schedule(e, err);
    if (st == RP_OK)
        st = build_markets(e, err);
    if (st == RP_OK)
        st = build_templates(e, err);
    if (st == RP_OK)
        st = build_compliance(e, err);
    if (st == RP_OK)
        st = build_rules(e, err);
    if (st == RP_OK && !(e->df = rp_datefmt_new()))
        st = rp_error_set(err, RP_ENOMEM, "out of memory");
    if (st == RP_OK)
        st = rp_loop_new(cfg, &e->loop, err);
    if (st == RP_OK && !(e->own_history = rp_loop_memory_history_new()))
        st = rp_error_set(err, RP_ENOMEM, "out of memory");
    e->history = e->own_history;
    if (st != RP_OK) {
        rp_engine_free(e);
        return st;
    }
    *out = e;
    return RP_OK;
}

void rp_engine_set_history(rp_engine *e, const rp_reply_history *h)
{
    e->history = h ? h : e->own_history;
}

const rp_ruleset *rp_engine_rules(const rp_engine *e)
{
    return e->rules;
}
const rp_templates *rp_engine_templates(const rp_engine *e)
{
    return e->tpl;
}
const rp_rule_tests *rp_engine_tests(const rp_engine *e)
{
    return &e->tests;
}
const rp_compliance *rp_engine_compliance(const rp_engine *e)
{
    return e->comp;
}
const rp_config *rp_engine_config(const rp_engine *e)
{
    return e->cfg;
}
size_t rp_engine_lua_rules(const rp_engine *e)
{
    return e->nlua;
}

/* ---- redaction ---------------------------------------------------------------- */

static bool is_mail_char(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           c == '.' || c == '_' || c == '-' || c == '+' || c == '%' || c >= 0x80;
}

rp_status rp_redact(const char *text, rp_buf *out)
{
    size_t n = strlen(text);
    size_t i = 0;
    while (i < n) {
        unsigned char c = (unsigned char)text[i];
        if (c == '@') {
            /* drop the local part already written, then skip the domain */
            size_t back = 0;
            while (back < out->len && is_mail_char((unsigned char)out->data[out->len - back - 1]))
                back++;
            out->len -= back;
            out->data[out->len] = '\0';
            i++;
            while (i < n && is_mail_char((unsigned char)text[i]))
                i++;
            rp_status st = rp_buf_append_str(out, "<email>");
            if (st != RP_OK)
                return st;
            continue;
        }
        if ((c >= '0' && c <= '9') || (c == '+' && text[i + 1] >= '0' && text[i + 1] <= '9')) {
            /* digits with phone separators; 7+ digits are masked */
            size_t j = i + (c == '+'), digits = 0, end = j;
            while (j < n && ((text[j] >= '0' && text[j] <= '9') || text[j] == ' ' ||
                             text[j] == '-' || text[j] == '/' || text[j] == '.' ||
                             text[j] == '(' || text[j] == ')')) {
                if (text[j] >= '0' && text[j] <= '9') {
                    digits++;
                    end = j + 1;
                }
                j++;
            }
            rp_status st = digits >= 7 ? rp_buf_append_str(out, "<number>")
                                       : rp_buf_append(out, text + i, end - i);
            if (st != RP_OK)
                return st;
            i = end;
            continue;
        }
        rp_status st = rp_buf_append_char(out, (char)c);
        if (st != RP_OK)
            return st;
        i++;
    }
    return RP_OK;
}

/* ---- deciding ------------------------------------------------------------------ */

typedef struct dctx {
    rp_engine *e;
    rp_decision *d;
} dctx;

static bool host_has_template(const rp_rule_input *in, const char *id, const char *lang)
{
    const rp_engine *e = in->host;
    const rp_template *t = rp_templates_find(e->tpl, id);
    return t && (!lang || rp_template_has_lang(t, lang));
}

static void host_log(const rp_rule_input *in, const char *rule, const char *text)
{
    (void)in;
    rp_buf b = {0};
    if (rp_redact(text, &b) == RP_OK)
        fprintf(stderr, "replyd: rule '%s': %s\n", rule, b.data ? b.data : "");
    rp_buf_free(&b);
}

static const market *find_market(const rp_engine *e, const char *domain)
{
    if (!domain)
        return NULL;
    for (size_t i = 0; i < e->nmarkets; i++)
        if (strcasecmp(e->markets[i].cfg->domain, domain) == 0)
            return &e->markets[i];
    return NULL;
}

static rp_status reason(rp_engine *e, rp_decision *d, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static rp_status reason(rp_engine *e, rp_decision *d, const char *fmt, ...)
{
    if (d->nreasons == RP_MAX_REASONS)
        return RP_OK;
    char buf[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    const char *s = rp_arena_strdup(&e->arena, buf);
    if (!s)
        return RP_ENOMEM;
    d->reasons[d->nreasons++] = s;
    return RP_OK;
}

static const char *const reply_prefixes[] = {"re:", "re :", "aw:", "antw:", "r:", "rif:",
                                             "ri:", "rv:", "réf:", "ref:", "sv:", "re：",
                                             "返信:", "返信：", "fw:", "fwd:", "wg:", "tr:",
                                             NULL};

static bool is_first_message(const rp_message *m)
{
    if (rp_message_header(m, "In-Reply-To") || rp_message_header(m, "References"))
        return false;
    const char *s = m->subject;
    if (!s)
        return true;
    while (*s == ' ' || *s == '\t')
        s++;
    for (int i = 0; reply_prefixes[i]; i++)
        if (strncasecmp(s, reply_prefixes[i], strlen(reply_prefixes[i])) == 0)
            return false;
    return true;
}

/* The buyer's name as the marketplace relay writes it: the From display name
 * ("Olivia H. - Amazon Marketplace") or the relay subject ("... from Amazon
 * customer Olivia H. (Order: ...)"). NULL when unknown. */
static const char *buyer_name(rp_engine *e, const rp_message *m)
{
    static const char *const markers[] = {"from Amazon customer ", "von Amazon-Kunde ",
                                          "du client Amazon ", "dal cliente Amazon ",
                                          "del cliente de Amazon ", "Amazonのお客様 ", NULL};
    const char *from = rp_message_header(m, "From");
    if (from) {
        const char *lt = strchr(from, '<');
        const char *dash = strstr(from, " - Amazon");
        if (lt && dash && dash < lt) {
            const char *b = from;
            while (*b == ' ' || *b == '"')
                b++;
            if (dash > b && dash - b < 80)
                return rp_arena_strndup(&e->arena, b, (size_t)(dash - b));
        }
    }
    if (m->subject) {
        for (int i = 0; markers[i]; i++) {
            const char *p = strstr(m->subject, markers[i]);
            if (!p)
                continue;
            p += strlen(markers[i]);
            const char *end = strstr(p, " (");
            const char *sama = strstr(p, " 様");
            if (sama && (!end || sama < end))
                end = sama;
            if (!end)
                end = p + strlen(p);
            while (end > p && end[-1] == ' ')
                end--;
            if (end > p && end - p < 80)
                return rp_arena_strndup(&e->arena, p, (size_t)(end - p));
        }
    }
    return NULL;
}

static const char *fmt_time(rp_engine *e, const char *lang, const char *tz, int64_t t,
                            rp_datefmt_style style)
{
    if (t == RP_TIME_UNKNOWN)
        return NULL;
    for (unsigned i = 0; i < RP_DATE_CACHE; i++) {
        const date_memo *dm = &e->dates[i];
        if (dm->style == (int)style && dm->t == t && strcmp(dm->lang, lang) == 0 &&
            strcmp(dm->tz, tz) == 0)
            return dm->text;
    }
    rp_buf_reset(&e->tmp);
    rp_error err;
    if (rp_datefmt_format(e->df, lang, tz, t, style, &e->tmp, &err) != RP_OK)
        return NULL;
    const char *s = e->tmp.data ? e->tmp.data : "";
    if (e->tmp.len < sizeof e->dates[0].text && strlen(lang) < sizeof e->dates[0].lang &&
        strlen(tz) < sizeof e->dates[0].tz) {
        date_memo *dm = &e->dates[e->next_date++ % RP_DATE_CACHE];
        memcpy(dm->lang, lang, strlen(lang) + 1);
        memcpy(dm->tz, tz, strlen(tz) + 1);
        dm->t = t;
        dm->style = (int)style;
        memcpy(dm->text, s, e->tmp.len + 1);
        return dm->text;
    }
    return rp_arena_strndup(&e->arena, s, e->tmp.len);
}

static const char *expand_intent(rp_engine *e, const char *id, const char *intent)
{
    const char *p = strstr(id, "{intent}");
    if (!p)
        return id;
    rp_buf_reset(&e->tmp);
    if (rp_buf_append(&e->tmp, id, (size_t)(p - id)) != RP_OK ||
        rp_buf_append_str(&e->tmp, intent) != RP_OK || rp_buf_append_str(&e->tmp, p + 8) != RP_OK)
        return NULL;
    return rp_arena_strndup(&e->arena, e->tmp.data, e->tmp.len);
}

typedef struct render_env {
    const char *lang;        /* buyer's */
    const char *market_lang;
    const char *buyer_tz;
    const rp_message *m;
    const rp_sched_state *sched;
    const char *buyer_name;
    int64_t reply_by;
} render_env;

static rp_status add_reply(rp_engine *e, rp_decision *d, const render_env *env, const char *rule,
                           const char *tpl_id, rp_action action, bool forced_approval)
{
    for (size_t i = 0; i < d->nreplies; i++)
        if (strcmp(d->replies[i].template_id, tpl_id) == 0) {
            /* asked twice: keep one, and the safer action */
            if (action == RP_ACTION_APPROVE)
                d->replies[i].action = RP_ACTION_APPROVE;
            return RP_OK;
        }
    if (d->nreplies == RP_MAX_DECISION_REPLIES)
        return reason(e, d, "rule '%s': more than %d replies, '%s' dropped", rule,
                      RP_MAX_DECISION_REPLIES, tpl_id);
    rp_reply *r = &d->replies[d->nreplies++];
    memset(r, 0, sizeof *r);
    r->rule = rule;
    r->template_id = tpl_id;
    r->action = action;
    r->counts_as_response = true;
    const rp_template *t = rp_templates_find(e->tpl, tpl_id);
    if (!t) {
        r->action = RP_ACTION_APPROVE;
        r->error = rp_arena_strdup(&e->arena, "unknown template");
        return reason(e, d, "template '%s' does not exist: a human writes this reply", tpl_id);
    }
    r->counts_as_response = rp_template_counts_as_response(t);
    const char *lang = rp_template_pick_lang(t, env->lang, env->market_lang);
    if (!lang) {
        r->action = RP_ACTION_APPROVE;
        r->error = rp_arena_strdup(&e->arena, "no text in the buyer's language, the "
                                              "marketplace's or English");
        return reason(e, d, "template '%s' has no text in %s, %s or en", tpl_id, env->lang,
                      env->market_lang ? env->market_lang : "-");
    }
    if (strcmp(lang, env->lang) != 0) {
        rp_status st = reason(e, d, "template '%s' has no %s text: %s used", tpl_id, env->lang,
                              lang);
        if (st != RP_OK)
            return st;
    }
    r->language = lang;
    rp_tvars v;
    memset(&v, 0, sizeof v);
    v.v[RP_TVAR_ORDER_ID] = env->m->order_id;
    v.v[RP_TVAR_BUYER_NAME] = env->buyer_name;
    v.v[RP_TVAR_SELLER_NAME] = e->cfg->seller_name;
    v.v[RP_TVAR_MARKETPLACE] = env->m->marketplace;
    v.v[RP_TVAR_SUBJECT] = env->m->subject;
    unsigned used = rp_template_vars_used(t, lang);
    if (used & (1u << RP_TVAR_NEXT_OPEN))
        v.v[RP_TVAR_NEXT_OPEN] =
            fmt_time(e, lang, env->buyer_tz, env->sched->next_open, RP_DATEFMT_DATETIME);
    if (env->sched->holiday) {
        v.v[RP_TVAR_HOLIDAY_NAME] = env->sched->holiday;
        if (used & (1u << RP_TVAR_HOLIDAY_END)) {
            /* the first day the team is back */
            int64_t back = env->sched->next_open != RP_TIME_UNKNOWN ? env->sched->next_open
                                                                    : env->sched->holiday_end;
            v.v[RP_TVAR_HOLIDAY_END] = fmt_time(e, lang, env->buyer_tz, back, RP_DATEFMT_DATE);
        }
    }
    if (used & (1u << RP_TVAR_REPLY_BY))
        v.v[RP_TVAR_REPLY_BY] = fmt_time(e, lang, env->buyer_tz, env->reply_by, RP_DATEFMT_DATETIME);
    rp_buf_reset(&e->subj);
    rp_buf_reset(&e->body);
    rp_error err;
    rp_error_clear(&err);
    rp_status st = rp_template_render(t, lang, &v, &e->subj, &e->body, &err);
    if (st == RP_ENOMEM)
        return st;
    if (st != RP_OK) {
        r->action = RP_ACTION_APPROVE;
        r->error = rp_arena_strdup(&e->arena, err.msg);
        return reason(e, d, "template '%s': %s: a human completes this reply", tpl_id, err.msg);
    }
    r->subject = rp_arena_strndup(&e->arena, e->subj.data ? e->subj.data : "", e->subj.len);
    r->body = rp_arena_strndup(&e->arena, e->body.data ? e->body.data : "", e->body.len);
    if (!r->subject || !r->body)
        return RP_ENOMEM;
    if ((st = rp_compliance_check(e->comp, &e->compctx, r->subject, r->body, &r->compliance)) !=
        RP_OK)
        return st;
    if (rp_findings_blocking(&r->compliance)) {
        for (size_t i = 0; i < r->compliance.n; i++)
            if ((st = reason(e, d, "template '%s' fails compliance: %s \"%s\"", tpl_id,
                             rp_check_name(r->compliance.items[i].check),
                             r->compliance.items[i].text)) != RP_OK)
                return st;
        if (r->action == RP_ACTION_AUTO_SEND) {
            r->action = RP_ACTION_APPROVE;
            if ((st = reason(e, d, "'%s' held for approval: compliance findings", tpl_id)) != RP_OK)
                return st;
        }
    }
    if (r->action == RP_ACTION_AUTO_SEND && forced_approval)
        r->action = RP_ACTION_APPROVE;
    return RP_OK;
}

/* Automatic replies beyond the per-buyer throttles are dropped (a draft for
 * approval is never throttled: a human decides on it); the ones that go are
 * recorded. When nothing is left, the message gets no reply, and says why.
 * A message without a sender address has no key and is not throttled. */
static rp_status throttle(rp_engine *e, const rp_message *m, rp_decision *d)
{
    char key[65];
    rp_loop_sender_key(m->from, key);
    if (!key[0] || !d->nreplies)
        return RP_OK;
    const rp_reply_history *h = e->history;
    const char *first = NULL, *first_detail = NULL;
    size_t kept = 0;
    rp_status st;
    for (size_t i = 0; i < d->nreplies; i++) {
        rp_reply r = d->replies[i];
        if (r.action == RP_ACTION_AUTO_SEND) {
            char why[256];
            rp_status hs;
            rp_loop_reason lr =
                rp_loop_throttle(e->loop, h, key, r.template_id, d->now, why, sizeof why, &hs);
            if (hs == RP_OK && lr != RP_LOOP_NONE) {
                if ((st = reason(e, d, "loop protection: %s (template %s)", why,
                                 r.template_id)) != RP_OK)
                    return st;
                if (!first) {
                    first = rp_loop_reason_name(lr);
                    if (!(first_detail = rp_arena_strdup(&e->arena, why)))
                        return RP_ENOMEM;
                }
                continue; /* dropped */
            }
            if (hs == RP_OK)
                hs = h->record_auto(h->ctx, key, r.template_id, d->now);
            if (hs == RP_ENOMEM)
                return hs;
            if (hs != RP_OK) {
                /* unknown whether the buyer already had it: a human decides */
                r.action = RP_ACTION_APPROVE;
                if ((st = reason(e, d,
                                 "loop protection: the reply history failed (%s): '%s' held "
                                 "for approval",
                                 rp_strerror(hs), r.template_id)) != RP_OK)
                    return st;
            }
        }
        d->replies[kept++] = r;
    }
    d->nreplies = kept;
    for (size_t i = 0; i < d->nreplies; i++)
        if (d->replies[i].action == RP_ACTION_APPROVE)
            d->approval_needed = true;
    if (!kept && first) {
        d->no_reply = true;
        d->suppressed = first;
        d->suppressed_detail = first_detail;
    }
    return RP_OK;
}

static void add_tag(rp_decision *d, const char *tag)
{
    for (size_t i = 0; i < d->ntags; i++)
        if (strcmp(d->tags[i], tag) == 0)
            return;
    if (d->ntags < RP_MAX_TAGS)
        d->tags[d->ntags++] = tag;
}

rp_status rp_engine_decide(rp_engine *e, const rp_message *m, int64_t now, rp_decision *d,
                           rp_error *err)
{
    rp_arena_reset(&e->arena);
    memset(d, 0, sizeof *d);
    d->id = m->id ? m->id : (m->source ? m->source : "-");
    d->priority = RP_PRIORITY_NORMAL;

    rp_classification c;
    rp_status st = rp_classify_text(e->clf, &e->cctx, m->subject, m->body, m->marketplace, &c);
    if (st != RP_OK)
        return rp_error_set(err, st, "classification failed: %s", rp_strerror(st));
    const market *mk = find_market(e, m->marketplace);
    const char *market_lang = mk && mk->cfg->language ? mk->cfg->language : NULL;
    if (!market_lang) {
        rp_lang ml = rp_lang_of_marketplace(m->marketplace);
        market_lang = ml != RP_LANG_UND ? rp_lang_code(ml) : NULL;
    }
    d->language = c.language != RP_LANG_UND ? rp_lang_code(c.language)
                                            : (market_lang ? market_lang : "en");
    d->intent = rp_intent_name(c.intent);
    d->confidence = c.confidence;
    d->high_risk = c.high_risk;
    if (d->high_risk)
        d->priority = RP_PRIORITY_HIGH;

    int64_t received = m->received_at;
    if (now == RP_TIME_UNKNOWN)
        now = received != RP_TIME_UNKNOWN ? received : (int64_t)time(NULL);
    if (received == RP_TIME_UNKNOWN)
        received = now;
    d->now = now;
    d->reply_by = received + 24 * 3600;

    /* machines are not answered: no rule runs, nothing is drafted; the
     * message is still decided (and stored) with the reason */
    char why[256];
    rp_loop_reason lr = rp_loop_check(e->loop, m, why, sizeof why);
    if (lr != RP_LOOP_NONE) {
        d->no_reply = true;
        d->suppressed = rp_loop_reason_name(lr);
        if (!(d->suppressed_detail = rp_arena_strdup(&e->arena, why)) ||
            (st = reason(e, d, "loop protection: %s", why)) != RP_OK)
            return rp_error_set(err, RP_ENOMEM, "out of memory");
        return RP_OK;
    }

    rp_rule_input in;
    memset(&in, 0, sizeof in);
    in.msg = m;
    in.language = d->language;
    in.intent = d->intent;
    in.high_risk = d->high_risk;
    in.marketplace = m->marketplace ? m->marketplace : "";
    in.now = now;
    in.first_message = is_first_message(m);
    in.team_tz = e->team_tz_name;
    rp_tz *btz = mk ? mk->tz : rp_schedule_tz(e->sched);
    in.buyer_tz = rp_tz_name(btz);
    if ((st = rp_tz_civil(rp_schedule_tz(e->sched), now, &in.team_local, err)) != RP_OK ||
        (st = rp_tz_civil(btz, now, &in.buyer_local, err)) != RP_OK ||
        (st = rp_schedule_state(e->sched, now, &in.sched, err)) != RP_OK)
        return st == RP_ENOMEM ? st : rp_error_set(err, st, "clock: %s", err->msg);
    /* keyword conditions read the subject and body folded as the classifier
     * just folded them (rp_classify.h): copied, not folded again */
    rp_buf_reset(&e->fold);
    if ((st = rp_buf_append(&e->fold, e->cctx.fold_subject.data, e->cctx.fold_subject.len)) !=
            RP_OK ||
        (st = rp_buf_append(&e->fold, e->cctx.fold_body.data, e->cctx.fold_body.len)) != RP_OK)
        return rp_error_set(err, st, "out of memory");
    in.folded_body = e->fold.data ? e->fold.data : "";
    in.folded_len = e->fold.len;
    in.has_template = host_has_template;
    in.log = host_log;
    in.host = e;

    rp_rule_result res;
    if ((st = rp_ruleset_run(e->rules, &in, &e->arena, &res)) != RP_OK)
        return rp_error_set(err, st, "out of memory");

    render_env env = {d->language, market_lang, in.buyer_tz, m, &in.sched, buyer_name(e, m),
                      d->reply_by};
    bool forced = res.nfailures > 0;
    bool want_no_reply = false;
#define R(expr)                                                                                \
    do {                                                                                       \
        if ((st = (expr)) != RP_OK)                                                            \
            return rp_error_set(err, st, "out of memory");                                    \
    } while (0)
    if (in.sched.holiday)
        R(reason(e, d, "team on holiday: %s", in.sched.holiday));
    else if (!in.sched.open)
        R(reason(e, d, "outside business hours (%04d-%02d-%02d %02d:%02d %s)",
                 in.team_local.year, in.team_local.month, in.team_local.day, in.team_local.hour,
                 in.team_local.minute, e->team_tz_name));
    for (size_t i = 0; i < res.nfailures; i++) {
        /* a rule's own error text may quote the message: masked like a log line */
        rp_buf_reset(&e->tmp);
        R(rp_redact(res.failures[i].reason, &e->tmp));
        R(reason(e, d, "rule '%s' (%s) failed: %s; the message goes to approval",
                 res.failures[i].rule->name, res.failures[i].rule->origin,
                 e->tmp.data ? e->tmp.data : ""));
    }
    for (size_t i = 0; i < res.nmatches; i++) {
        const rp_rule_match *mt = &res.matches[i];
        const rp_outcome *o = &mt->outcome;
        /* the deciding rule: the one that stopped the run (tagging rules
         * that continue only decide when nothing after them matches) */
        if (!o->cont || !d->rule)
            d->rule = mt->rule->name;
        R(reason(e, d, "rule '%s' matched", mt->rule->name));
        if (o->has_priority && o->priority > d->priority)
            d->priority = o->priority;
        for (size_t t = 0; t < o->ntags; t++)
            add_tag(d, o->tags[t]);
        if (o->no_reply)
            want_no_reply = true;
        for (size_t r = 0; r < o->nreplies; r++) {
            const char *id = expand_intent(e, o->replies[r].template_id, d->intent);
            if (!id)
                return rp_error_set(err, RP_ENOMEM, "out of memory");
            rp_action a = o->replies[r].action;
            if (a == RP_ACTION_AUTO_SEND && d->high_risk && e->cfg->never_auto_send_high_risk) {
                a = RP_ACTION_APPROVE;
                R(reason(e, d, "'%s' held for approval: high-risk messages are never answered "
                               "automatically",
                         id));
            }
            if (a == RP_ACTION_AUTO_SEND && forced)
                R(reason(e, d, "'%s' held for approval: a rule failed", id));
            R(add_reply(e, d, &env, mt->rule->name, id, a, forced));
        }
    }
    bool needs_fallback = d->nreplies == 0 && (forced || !want_no_reply);
    if (needs_fallback) {
        if (!res.nmatches && !forced)
            R(reason(e, d, "no rule matched"));
        const char *fb = e->cfg->fallback_template;
        if (fb) {
            const char *id = expand_intent(e, fb, d->intent);
            if (!id)
                return rp_error_set(err, RP_ENOMEM, "out of memory");
            R(reason(e, d, "drafted '%s' for approval", id));
            R(add_reply(e, d, &env, "(fallback)", id, RP_ACTION_APPROVE, true));
        } else {
            R(reason(e, d, "no fallback template: a human writes the reply"));
        }
    }
    d->no_reply = want_no_reply && d->nreplies == 0;
    for (size_t i = 0; i < d->nreplies; i++)
        if (d->replies[i].action == RP_ACTION_APPROVE)
            d->approval_needed = true;
    if (forced || (d->nreplies == 0 && !d->no_reply))
        d->approval_needed = true;
    R(throttle(e, m, d));
#undef R
    return RP_OK;
}

/* ---- output ---------------------------------------------------------------------- */

static rp_status jstr(rp_buf *o, const char *key, const char *v)
{
    /* the output path: appends, not printf */
    rp_status st = rp_buf_append_str(o, ",\"");
    if (st == RP_OK)
        st = rp_buf_append_str(o, key);
    if (st == RP_OK)
        st = rp_buf_append_str(o, "\":");
    if (st != RP_OK)
        return st;
    if (!v)
        return rp_buf_append_str(o, "null");
    return rp_buf_append_json_string(o, v, strlen(v));
}

rp_status rp_decision_json(const rp_decision *d, rp_buf *o)
{
    char ts[32], rb[32];
    rp_format_iso8601(d->now, ts, sizeof ts);
    rp_format_iso8601(d->reply_by, rb, sizeof rb);
    rp_status st = rp_buf_append_str(o, "{\"id\":");
    if (st == RP_OK)
        st = rp_buf_append_json_string(o, d->id, strlen(d->id));
    if (st == RP_OK)
        st = jstr(o, "language", d->language);
    if (st == RP_OK)
        st = jstr(o, "intent", d->intent);
    if (st == RP_OK)
        st = rp_buf_printf(o, ",\"high_risk\":%s,\"now\":\"%s\",\"reply_by\":\"%s\"",
                           d->high_risk ? "true" : "false", ts, rb);
    if (st == RP_OK)
        st = jstr(o, "priority", rp_priority_name(d->priority));
    if (st == RP_OK)
        st = rp_buf_append_str(o, ",\"tags\":[");
    for (size_t i = 0; i < d->ntags && st == RP_OK; i++) {
        if (i)
            st = rp_buf_append_char(o, ',');
        if (st == RP_OK)
            st = rp_buf_append_json_string(o, d->tags[i], strlen(d->tags[i]));
    }
    if (st == RP_OK)
        st = rp_buf_printf(o, "],\"no_reply\":%s,\"approval_needed\":%s",
                           d->no_reply ? "true" : "false", d->approval_needed ? "true" : "false");
    if (st == RP_OK)
        st = jstr(o, "suppressed", d->suppressed);
    if (st == RP_OK)
        st = jstr(o, "suppressed_detail", d->suppressed_detail);
    if (st == RP_OK)
        st = jstr(o, "rule", d->rule);
    if (st == RP_OK)
        st = rp_buf_append_str(o, ",\"replies\":[");
    for (size_t i = 0; i < d->nreplies && st == RP_OK; i++) {
        const rp_reply *r = &d->replies[i];
        st = rp_buf_append_str(o, i ? ",{\"rule\":" : "{\"rule\":");
        if (st == RP_OK)
            st = rp_buf_append_json_string(o, r->rule, strlen(r->rule));
        if (st == RP_OK)
            st = jstr(o, "template", r->template_id);
        if (st == RP_OK)
            st = jstr(o, "action", rp_action_name(r->action));
        if (st == RP_OK)
            st = jstr(o, "language", r->language);
        if (st == RP_OK)
            st = jstr(o, "subject", r->subject);
        if (st == RP_OK)
            st = jstr(o, "body", r->body);
        if (st == RP_OK)
            st = rp_buf_append_str(o, r->counts_as_response
                                          ? ",\"counts_as_response\":true,\"compliance\":["
                                          : ",\"counts_as_response\":false,\"compliance\":[");
        for (size_t k = 0; k < r->compliance.n && st == RP_OK; k++) {
            const rp_finding *f = &r->compliance.items[k];
            st = rp_buf_printf(o, "%s{\"check\":\"%s\",\"text\":", k ? "," : "",
                               rp_check_name(f->check));
            if (st == RP_OK)
                st = rp_buf_append_json_string(o, f->text, strlen(f->text));
            if (st == RP_OK)
                st = rp_buf_append_char(o, '}');
        }
        if (st == RP_OK)
            st = rp_buf_append_char(o, ']');
        if (st == RP_OK && r->error)
            st = jstr(o, "error", r->error);
        if (st == RP_OK)
            st = rp_buf_append_char(o, '}');
    }
    if (st == RP_OK)
        st = rp_buf_append_str(o, "],\"reasons\":[");
    for (size_t i = 0; i < d->nreasons && st == RP_OK; i++) {
        if (i)
            st = rp_buf_append_char(o, ',');
        if (st == RP_OK)
            st = rp_buf_append_json_string(o, d->reasons[i], strlen(d->reasons[i]));
    }
    if (st == RP_OK)
        st = rp_buf_append_str(o, "]}");
    return st;
}

static rp_status indent(rp_buf *o, const char *prefix, const char *text)
{
    rp_status st = RP_OK;
    const char *p = text;
    while (st == RP_OK) {
        const char *nl = strchr(p, '\n');
        size_t n = nl ? (size_t)(nl - p) : strlen(p);
        st = rp_buf_append_str(o, prefix);
        if (st == RP_OK)
            st = rp_buf_append(o, p, n);
        if (st == RP_OK)
            st = rp_buf_append_char(o, '\n');
        if (!nl)
            break;
        p = nl + 1;
    }
    return st;
}

rp_status rp_decision_text(const rp_decision *d, rp_buf *o)
{
    char ts[32], rb[32];
    rp_format_iso8601(d->now, ts, sizeof ts);
    rp_format_iso8601(d->reply_by, rb, sizeof rb);
    rp_status st = rp_buf_printf(o, "== %s  [%s] %s%s  priority %s  at %s  reply by %s\n", d->id,
                                 d->language, d->intent, d->high_risk ? "  HIGH RISK" : "",
                                 rp_priority_name(d->priority), ts, rb);
    if (st == RP_OK && d->ntags) {
        st = rp_buf_append_str(o, "   tags:");
        for (size_t i = 0; i < d->ntags && st == RP_OK; i++)
            st = rp_buf_printf(o, " %s", d->tags[i]);
        if (st == RP_OK)
            st = rp_buf_append_char(o, '\n');
    }
    if (st == RP_OK && d->suppressed)
        st = rp_buf_printf(o, "   NO REPLY: loop protection (%s): %s\n", d->suppressed,
                           d->suppressed_detail ? d->suppressed_detail : "");
    else if (st == RP_OK && d->no_reply)
        st = rp_buf_append_str(o, "   no reply needed\n");
    for (size_t i = 0; i < d->nreplies && st == RP_OK; i++) {
        const rp_reply *r = &d->replies[i];
        st = rp_buf_printf(o, "-- %s: %s in %s (rule %s)%s\n",
                           r->action == RP_ACTION_AUTO_SEND ? "SEND NOW" : "DRAFT FOR APPROVAL",
                           r->template_id, r->language ? r->language : "-", r->rule,
                           r->counts_as_response ? "" : ", not counted as a response");
        if (st == RP_OK && r->error)
            st = rp_buf_printf(o, "   error: %s\n", r->error);
        if (st == RP_OK && r->subject)
            st = rp_buf_printf(o, "   Subject: %s\n", r->subject);
        if (st == RP_OK && r->body)
            st = indent(o, "   | ", r->body);
        for (size_t k = 0; k < r->compliance.n && st == RP_OK; k++)
            st = rp_buf_printf(o, "   compliance: %s \"%s\"\n",
                               rp_check_name(r->compliance.items[k].check),
                               r->compliance.items[k].text);
    }
    for (size_t i = 0; i < d->nreasons && st == RP_OK; i++)
        st = rp_buf_printf(o, "   why: %s\n", d->reasons[i]);
    if (st == RP_OK)
        st = rp_buf_append_char(o, '\n');
    return st;
}
