/* rp_rules_yaml.c — YAML rules compiled to rule records. */
#include "rp_rules_yaml.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "rp_buf.h"
#include "rp_langid.h"
#include "rp_lexicon.h"
#include "rp_schedule.h"
#include "rp_text.h"
#include "rp_yaml.h"

#define RP_RULE_MAX_NEST 8

/* one keyword: its id in the rule set's keyword index, which holds it folded
 * like message text: " word " (word boundaries) or a bare substring for
 * Japanese and prefixes */
typedef struct ykw {
    uint32_t id;
} ykw;

typedef struct ycond ycond;
struct ycond {
    uint32_t intents;   /* bit per rp_intent; 0 = any */
    uint32_t langs;     /* bit per rp_lang; 0 = any */
    char **markets;
    size_t nmarkets;
    int high_risk;      /* -1 = any */
    int open;           /* business_hours: open (1) / closed (0) */
    int holiday;
    int first_message;
    int has_order_id;
    int time_from, time_to; /* minutes of the day, -1 = none; to exclusive */
    int clock_buyer;        /* local_time / weekday on the buyer's clock */
    uint32_t weekdays;      /* bit 0 = Monday */
    ykw *any;
    size_t nany;
    ykw *all;
    size_t nall;
    ycond *not_;
};

typedef struct yrule {
    ycond when;
    char *tpl[RP_MAX_REPLIES];
    rp_action act[RP_MAX_REPLIES];
    size_t nreplies;
    char *tags[RP_MAX_TAGS];
    size_t ntags;
    bool no_reply, has_priority, cont;
    rp_priority priority;
} yrule;

static void cond_free(ycond *c)
{
    if (!c)
        return;
    for (size_t i = 0; i < c->nmarkets; i++)
        free(c->markets[i]);
    free(c->markets);
    free(c->any);
    free(c->all);
    if (c->not_) {
        cond_free(c->not_);
        free(c->not_);
    }
}

static void yrule_free(void *p)
{
    yrule *r = p;
    if (!r)
        return;
    cond_free(&r->when);
    for (size_t i = 0; i < r->nreplies; i++)
        free(r->tpl[i]);
    for (size_t i = 0; i < r->ntags; i++)
        free(r->tags[i]);
    free(r);
}

/* ---- evaluation ------------------------------------------------------------ */

/* rp_ruleset_run() scanned the text once for every keyword of the set */
static bool kw_found(const rp_rule_input *in, const ykw *k)
{
    return in->kw_hits && ((in->kw_hits[k->id >> 3] >> (k->id & 7)) & 1);
}

static bool cond_match(const ycond *c, const rp_rule_input *in)
{
    if (c->intents) {
        int i = rp_intent_from_name(in->intent);
        if (i < 0 || !(c->intents & (1u << i)))
            return false;
    }
    if (c->langs) {
        rp_lang l = rp_lang_from_code(in->language);
        if (!(c->langs & (1u << l)))
            return false;
    }
    if (c->nmarkets) {
        bool hit = false;
        for (size_t i = 0; i < c->nmarkets && !hit; i++)
            hit = strcasecmp(c->markets[i], in->marketplace) == 0;
        if (!hit)
            return false;
    }
    if (c->high_risk >= 0 && c->high_risk != (int)in->high_risk)
        return false;
    if (c->open >= 0 && c->open != (int)in->sched.open)
        return false;
    if (c->holiday >= 0 && c->holiday != (in->sched.holiday != NULL))
        return false;
    if (c->first_message >= 0 && c->first_message != (int)in->first_message)
        return false;
    if (c->has_order_id >= 0 &&
        c->has_order_id != (in->msg && in->msg->order_id && in->msg->order_id[0]))
        return false;
    const rp_civil *clk = c->clock_buyer ? &in->buyer_local : &in->team_local;
    if (c->time_from >= 0) {
        int m = clk->hour * 60 + clk->minute;
        bool inside = c->time_from <= c->time_to ? (m >= c->time_from && m < c->time_to)
                                                 : (m >= c->time_from || m < c->time_to);
        if (!inside)
            return false;
    }
    if (c->weekdays && !(c->weekdays & (1u << clk->wday)))
        return false;
    if (c->nany) {
        bool hit = false;
        for (size_t i = 0; i < c->nany && !hit; i++)
            hit = kw_found(in, &c->any[i]);
        if (!hit)
            return false;
    }
    for (size_t i = 0; i < c->nall; i++)
        if (!kw_found(in, &c->all[i]))
            return false;
    if (c->not_ && cond_match(c->not_, in))
        return false;
    return true;
}

static rp_status yrule_eval(rp_rule *rule, const rp_rule_input *in, rp_arena *arena,
                            rp_outcome *out, bool *matched, rp_error *err)
{
    (void)arena;
    (void)err;
    const yrule *r = rule->data;
    *matched = cond_match(&r->when, in);
    if (!*matched)
        return RP_OK;
    for (size_t i = 0; i < r->nreplies; i++) {
        out->replies[i].template_id = r->tpl[i];
        out->replies[i].action = r->act[i];
    }
    out->nreplies = r->nreplies;
    for (size_t i = 0; i < r->ntags; i++)
        out->tags[i] = r->tags[i];
    out->ntags = r->ntags;
    out->no_reply = r->no_reply;
    out->has_priority = r->has_priority;
    out->priority = r->priority;
    out->cont = r->cont;
    return RP_OK;
}

size_t rp_rules_yaml_templates(const rp_rule *r, const char **out, size_t max)
{
    if (r->eval != yrule_eval)
        return 0;
    const yrule *y = r->data;
    size_t n = 0;
    for (size_t i = 0; i < y->nreplies && n < max; i++)
        out[n++] = y->tpl[i];
    return n;
}

/* ---- loading ------------------------------------------------------------------- */

typedef struct yctx {
    yaml_document_t *doc;
    const char *name;
    rp_error *err;
    rp_ruleset *rs;
} yctx;

static rp_status yerr(yctx *c, const yaml_node_t *n, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static rp_status yerr(yctx *c, const yaml_node_t *n, const char *fmt, ...)
{
    char msg[240];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return rp_error_set(c->err, RP_ECONFIG, "%s:%zu:%zu: %s", c->name,
                        n ? n->start_mark.line + 1 : 0, n ? n->start_mark.column + 1 : 0, msg);
}

static rp_status enomem(yctx *c)
{
    return rp_error_set(c->err, RP_ENOMEM, "out of memory");
}

static yaml_node_t *node(yctx *c, int id)
{
    return yaml_document_get_node(c->doc, id);
}

/* Calls fn for a scalar or for every scalar of a sequence. */
typedef rp_status (*each_fn)(yctx *c, yaml_node_t *n, const char *s, void *ud);

static rp_status each_scalar(yctx *c, yaml_node_t *v, const char *key, each_fn fn, void *ud)
{
    if (v->type == YAML_SCALAR_NODE)
        return fn(c, v, rp_yaml_scalar(v), ud);
    if (v->type != YAML_SEQUENCE_NODE)
        return yerr(c, v, "'%s' must be a value or a list of values", key);
    for (yaml_node_item_t *it = v->data.sequence.items.start; it < v->data.sequence.items.top;
         it++) {
        yaml_node_t *e = node(c, *it);
        if (!e || e->type != YAML_SCALAR_NODE)
            return yerr(c, e, "'%s' must list plain values", key);
        rp_status st = fn(c, e, rp_yaml_scalar(e), ud);
        if (st != RP_OK)
            return st;
    }
    return RP_OK;
}

static rp_status add_intent(yctx *c, yaml_node_t *n, const char *s, void *ud)
{
    int i = rp_intent_from_name(s);
    if (i < 0)
        return yerr(c, n, "unknown intent '%s'", s);
    *(uint32_t *)ud |= 1u << i;
    return RP_OK;
}

static rp_status add_lang(yctx *c, yaml_node_t *n, const char *s, void *ud)
{
    rp_lang l = rp_lang_from_code(s);
    if (l == RP_LANG_UND)
        return yerr(c, n, "unknown language '%s' (en, de, fr, it, es, ja)", s);
    *(uint32_t *)ud |= 1u << l;
    return RP_OK;
}

static rp_status add_weekday(yctx *c, yaml_node_t *n, const char *s, void *ud)
{
    int d = rp_weekday_parse(s);
    if (d < 0)
        return yerr(c, n, "unknown weekday '%s' (mon .. sun)", s);
    *(uint32_t *)ud |= 1u << d;
    return RP_OK;
}

static rp_status push_str(char ***v, size_t *n, const char *s)
{
    char **nv = realloc(*v, (*n + 1) * sizeof *nv);
    if (!nv)
        return RP_ENOMEM;
    *v = nv;
    if (!(nv[*n] = rp_strdup(s)))
        return RP_ENOMEM;
    (*n)++;
    return RP_OK;
}

static rp_status add_market(yctx *c, yaml_node_t *n, const char *s, void *ud)
{
    ycond *cd = ud;
    if (!s || !strchr(s, '.'))
        return yerr(c, n, "a marketplace is a domain such as amazon.de, not '%s'", s ? s : "");
    return push_str(&cd->markets, &cd->nmarkets, s) == RP_OK ? RP_OK : enomem(c);
}

typedef struct kwlist {
    ykw **v;
    size_t *n;
} kwlist;

static rp_status add_kw(yctx *c, yaml_node_t *n, const char *s, void *ud)
{
    kwlist *l = ud;
    size_t len = s ? strlen(s) : 0;
    bool prefix = len > 1 && s[len - 1] == '*';
    if (prefix)
        len--;
    rp_buf f = {0};
    if (len == 0)
        return yerr(c, n, "empty keyword");
    if (rp_text_fold(s, len, &f) != RP_OK) {
        rp_buf_free(&f);
        return enomem(c);
    }
    /* f is " word word " (or " 注文 "); Japanese matches as a substring */
    const char *b = f.data;
    size_t fl = f.len;
    while (fl && b[0] == ' ')
        b++, fl--;
    while (fl && b[fl - 1] == ' ')
        fl--;
    if (fl == 0 || memchr(b, '\n', fl)) {
        rp_buf_free(&f);
        return yerr(c, n, "keyword '%s' has no letters or spans a clause", s);
    }
    int32_t cp = 0;
    rp_utf8_next((const unsigned char *)b, fl, &cp);
    enum rp_script sc = rp_script_of(cp);
    bool cjk = sc != RP_SCRIPT_LATIN && sc != RP_SCRIPT_OTHER;
    rp_buf k = {0};
    rp_status st = RP_OK;
    if (!cjk)
        st = rp_buf_append_char(&k, ' ');
    if (st == RP_OK)
        st = rp_buf_append(&k, b, fl);
    if (st == RP_OK && !cjk && !prefix)
        st = rp_buf_append_char(&k, ' ');
    rp_buf_free(&f);
    ykw *nv = st == RP_OK ? realloc(*l->v, (*l->n + 1) * sizeof *nv) : NULL;
    if (!nv) {
        rp_buf_free(&k);
        return enomem(c);
    }
    *l->v = nv;
    st = rp_ruleset_keyword(c->rs, k.data, k.len, &nv[*l->n].id);
    rp_buf_free(&k);
    if (st != RP_OK)
        return enomem(c);
    (*l->n)++;
    return RP_OK;
}

static rp_status get_bool(yctx *c, yaml_node_t *v, const char *key, int *out)
{
    const char *s = rp_yaml_scalar(v);
    if (s && (strcmp(s, "true") == 0 || strcmp(s, "yes") == 0))
        *out = 1;
    else if (s && (strcmp(s, "false") == 0 || strcmp(s, "no") == 0))
        *out = 0;
    else
        return yerr(c, v, "'%s' must be true or false", key);
    return RP_OK;
}

static int parse_hhmm(const char *s)
{
    if (!s || strlen(s) != 5 || s[2] != ':')
        return -1;
    for (int i = 0; i < 5; i++)
        if (i != 2 && (s[i] < '0' || s[i] > '9'))
            return -1;
    int h = (s[0] - '0') * 10 + (s[1] - '0'), m = (s[3] - '0') * 10 + (s[4] - '0');
    if (h > 24 || m > 59 || (h == 24 && m))
        return -1;
    return h * 60 + m;
}

static rp_status parse_when(yctx *c, yaml_node_t *m, ycond *cd, int depth);

static void cond_init(ycond *cd)
{
    memset(cd, 0, sizeof *cd);
    cd->high_risk = cd->open = cd->holiday = cd->first_message = cd->has_order_id = -1;
    cd->time_from = cd->time_to = -1;
}

static rp_status parse_local_time(yctx *c, yaml_node_t *v, ycond *cd)
{
    if (v->type != YAML_MAPPING_NODE)
        return yerr(c, v, "'local_time' must be a mapping {from: \"22:00\", to: \"06:00\"}");
    bool have_from = false, have_to = false;
    for (yaml_node_pair_t *p = v->data.mapping.pairs.start; p < v->data.mapping.pairs.top; p++) {
        yaml_node_t *k = node(c, p->key), *val = node(c, p->value);
        const char *ks = rp_yaml_scalar(k), *vs = rp_yaml_scalar(val);
        if (ks && (strcmp(ks, "from") == 0 || strcmp(ks, "to") == 0)) {
            int t = parse_hhmm(vs);
            if (t < 0)
                return yerr(c, val, "'%s' must be a time HH:MM", ks);
            if (ks[0] == 'f') {
                cd->time_from = t;
                have_from = true;
            } else {
                cd->time_to = t;
                have_to = true;
            }
        } else if (ks && strcmp(ks, "clock") == 0) {
            if (vs && strcmp(vs, "team") == 0)
                cd->clock_buyer = 0;
            else if (vs && strcmp(vs, "buyer") == 0)
                cd->clock_buyer = 1;
            else
                return yerr(c, val, "'clock' must be team or buyer");
        } else {
            return yerr(c, k, "unknown key in 'local_time': %s (from, to, clock)",
                        ks ? ks : "(non-scalar)");
        }
    }
    if (!have_from || !have_to)
        return yerr(c, v, "'local_time' needs both 'from' and 'to'");
    if (cd->time_from == cd->time_to)
        return yerr(c, v, "'local_time' from and to are equal: the window would be empty");
    return RP_OK;
}

static rp_status parse_when(yctx *c, yaml_node_t *m, ycond *cd, int depth)
{
    if (depth > RP_RULE_MAX_NEST)
        return yerr(c, m, "'not' nested too deeply");
    if (m->type == YAML_SCALAR_NODE && rp_yaml_is_empty(m))
        return RP_OK; /* `when:` with nothing: always */
    if (m->type != YAML_MAPPING_NODE)
        return yerr(c, m, "'when' must be a mapping of conditions");
    for (yaml_node_pair_t *p = m->data.mapping.pairs.start; p < m->data.mapping.pairs.top; p++) {
        yaml_node_t *k = node(c, p->key), *v = node(c, p->value);
        const char *ks = rp_yaml_scalar(k);
        rp_status st;
        if (!ks)
            return yerr(c, k, "condition names must be plain text");
        if (strcmp(ks, "intent") == 0)
            st = each_scalar(c, v, ks, add_intent, &cd->intents);
        else if (strcmp(ks, "language") == 0)
            st = each_scalar(c, v, ks, add_lang, &cd->langs);
        else if (strcmp(ks, "marketplace") == 0)
            st = each_scalar(c, v, ks, add_market, cd);
        else if (strcmp(ks, "high_risk") == 0)
            st = get_bool(c, v, ks, &cd->high_risk);
        else if (strcmp(ks, "holiday") == 0)
            st = get_bool(c, v, ks, &cd->holiday);
        else if (strcmp(ks, "first_message") == 0)
            st = get_bool(c, v, ks, &cd->first_message);
        else if (strcmp(ks, "has_order_id") == 0)
            st = get_bool(c, v, ks, &cd->has_order_id);
        else if (strcmp(ks, "business_hours") == 0) {
            const char *s = rp_yaml_scalar(v);
            if (s && strcmp(s, "open") == 0)
                cd->open = 1;
            else if (s && strcmp(s, "closed") == 0)
                cd->open = 0;
            else
                return yerr(c, v, "'business_hours' must be open or closed");
            st = RP_OK;
        } else if (strcmp(ks, "local_time") == 0)
            st = parse_local_time(c, v, cd);
        else if (strcmp(ks, "weekday") == 0)
            st = each_scalar(c, v, ks, add_weekday, &cd->weekdays);
        else if (strcmp(ks, "keywords") == 0) {
            kwlist any = {&cd->any, &cd->nany}, all = {&cd->all, &cd->nall};
            if (v->type != YAML_MAPPING_NODE) {
                st = each_scalar(c, v, ks, add_kw, &any); /* a plain list means any */
            } else {
                st = RP_OK;
                for (yaml_node_pair_t *q = v->data.mapping.pairs.start;
                     q < v->data.mapping.pairs.top && st == RP_OK; q++) {
                    yaml_node_t *kk = node(c, q->key), *kv = node(c, q->value);
                    const char *kks = rp_yaml_scalar(kk);
                    if (kks && strcmp(kks, "any") == 0)
                        st = each_scalar(c, kv, "any", add_kw, &any);
                    else if (kks && strcmp(kks, "all") == 0)
                        st = each_scalar(c, kv, "all", add_kw, &all);
                    else
                        st = yerr(c, kk, "unknown key in 'keywords': %s (any, all)",
                                  kks ? kks : "(non-scalar)");
                }
            }
        } else if (strcmp(ks, "not") == 0) {
            if (cd->not_)
                return yerr(c, k, "'not' given twice");
            cd->not_ = malloc(sizeof *cd->not_);
            if (!cd->not_)
                return enomem(c);
            cond_init(cd->not_);
            st = parse_when(c, v, cd->not_, depth + 1);
        } else
            return yerr(c, k,
                        "unknown condition '%s' (intent, language, marketplace, high_risk, "
                        "keywords, business_hours, holiday, local_time, weekday, "
                        "first_message, has_order_id, not)",
                        ks);
        if (st != RP_OK)
            return st;
    }
    return RP_OK;
}

static rp_status check_template_id(yctx *c, yaml_node_t *n, const char *s)
{
    if (!s || !*s)
        return yerr(c, n, "a reply needs a template id");
    for (const char *p = s; *p; p++) {
        unsigned char ch = (unsigned char)*p;
        if (!(ch == '_' || ch == '-' || ch == '.' || ch == '{' || ch == '}' ||
              (ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z')))
            return yerr(c, n, "template id '%s' may only use letters, digits, _ - . and {intent}",
                        s);
    }
    const char *b = strchr(s, '{');
    if (b && strncmp(b, "{intent}", 8) != 0)
        return yerr(c, n, "the only placeholder in a template id is {intent}");
    return RP_OK;
}

static rp_status parse_reply(yctx *c, yaml_node_t *v, yrule *r)
{
    if (r->nreplies == RP_MAX_REPLIES)
        return yerr(c, v, "at most %d replies per rule", RP_MAX_REPLIES);
    const char *tpl = NULL;
    rp_action act = RP_ACTION_APPROVE;
    if (v->type == YAML_SCALAR_NODE) {
        tpl = rp_yaml_scalar(v); /* "- ack_overnight": a draft for approval */
    } else if (v->type == YAML_MAPPING_NODE) {
        for (yaml_node_pair_t *p = v->data.mapping.pairs.start; p < v->data.mapping.pairs.top;
             p++) {
            yaml_node_t *k = node(c, p->key), *val = node(c, p->value);
            const char *ks = rp_yaml_scalar(k), *vs = rp_yaml_scalar(val);
            if (ks && strcmp(ks, "template") == 0)
                tpl = vs;
            else if (ks && strcmp(ks, "action") == 0) {
                if (!vs || rp_action_parse(vs, &act) != RP_OK)
                    return yerr(c, val, "'action' must be auto_send or approve");
            } else
                return yerr(c, k, "unknown key in a reply: %s (template, action)",
                            ks ? ks : "(non-scalar)");
        }
    } else {
        return yerr(c, v, "a reply is {template: ID, action: auto_send|approve}");
    }
    rp_status st = check_template_id(c, v, tpl);
    if (st != RP_OK)
        return st;
    if (!(r->tpl[r->nreplies] = rp_strdup(tpl)))
        return enomem(c);
    r->act[r->nreplies++] = act;
    return RP_OK;
}

static rp_status add_tag(yctx *c, yaml_node_t *n, const char *s, void *ud)
{
    yrule *r = ud;
    if (!s || !*s)
        return yerr(c, n, "empty tag");
    if (r->ntags == RP_MAX_TAGS)
        return yerr(c, n, "at most %d tags per rule", RP_MAX_TAGS);
    return (r->tags[r->ntags++] = rp_strdup(s)) ? RP_OK : enomem(c);
}

static rp_status parse_then(yctx *c, yaml_node_t *m, yrule *r)
{
    if (m->type != YAML_MAPPING_NODE)
        return yerr(c, m, "'then' must be a mapping (replies, no_reply, priority, tags, continue)");
    for (yaml_node_pair_t *p = m->data.mapping.pairs.start; p < m->data.mapping.pairs.top; p++) {
        yaml_node_t *k = node(c, p->key), *v = node(c, p->value);
        const char *ks = rp_yaml_scalar(k);
        rp_status st = RP_OK;
        int b;
        if (ks && strcmp(ks, "replies") == 0) {
            if (v->type != YAML_SEQUENCE_NODE)
                return yerr(c, v, "'replies' must be a list");
            for (yaml_node_item_t *it = v->data.sequence.items.start;
                 it < v->data.sequence.items.top && st == RP_OK; it++)
                st = parse_reply(c, node(c, *it), r);
        } else if (ks && strcmp(ks, "no_reply") == 0) {
            if ((st = get_bool(c, v, ks, &b)) == RP_OK)
                r->no_reply = b;
        } else if (ks && strcmp(ks, "continue") == 0) {
            if ((st = get_bool(c, v, ks, &b)) == RP_OK)
                r->cont = b;
        } else if (ks && strcmp(ks, "priority") == 0) {
            const char *s = rp_yaml_scalar(v);
            if (!s || rp_priority_parse(s, &r->priority) != RP_OK)
                return yerr(c, v, "'priority' must be low, normal, high or urgent");
            r->has_priority = true;
        } else if (ks && strcmp(ks, "tags") == 0) {
            st = each_scalar(c, v, ks, add_tag, r);
        } else {
            return yerr(c, k, "unknown key in 'then': %s (replies, no_reply, priority, tags, "
                              "continue)",
                        ks ? ks : "(non-scalar)");
        }
        if (st != RP_OK)
            return st;
    }
    if (r->no_reply && r->nreplies)
        return yerr(c, m, "'no_reply' and 'replies' contradict each other");
    return RP_OK;
}

static rp_status parse_rule(yctx *c, yaml_node_t *m, rp_ruleset *rs)
{
    if (m->type != YAML_MAPPING_NODE)
        return yerr(c, m, "a rule is a mapping with name, priority, when, then");
    yrule *r = calloc(1, sizeof *r);
    if (!r)
        return enomem(c);
    cond_init(&r->when);
    const char *name = NULL;
    long prio = 50;
    bool have_then = false;
    rp_status st = RP_OK;
    for (yaml_node_pair_t *p = m->data.mapping.pairs.start;
         p < m->data.mapping.pairs.top && st == RP_OK; p++) {
        yaml_node_t *k = node(c, p->key), *v = node(c, p->value);
        const char *ks = rp_yaml_scalar(k);
        if (ks && strcmp(ks, "name") == 0) {
            name = rp_yaml_scalar(v);
            if (!name || !*name)
                st = yerr(c, v, "'name' must be a non-empty text");
        } else if (ks && strcmp(ks, "priority") == 0) {
            const char *s = rp_yaml_scalar(v);
            char *end = NULL;
            errno = 0;
            prio = s ? strtol(s, &end, 10) : 0;
            if (!s || !*s || *end || errno || prio < 0 || prio > 1000)
                st = yerr(c, v, "'priority' must be a whole number from 0 to 1000");
        } else if (ks && strcmp(ks, "when") == 0) {
            st = parse_when(c, v, &r->when, 0);
        } else if (ks && strcmp(ks, "then") == 0) {
            st = parse_then(c, v, r);
            have_then = true;
        } else if (ks && strcmp(ks, "description") == 0) {
            /* free text for people */
        } else {
            st = yerr(c, k, "unknown key in a rule: %s (name, description, priority, when, then)",
                      ks ? ks : "(non-scalar)");
        }
    }
    if (st == RP_OK && !name)
        st = yerr(c, m, "a rule needs a 'name'");
    if (st == RP_OK && !have_then)
        st = yerr(c, m, "rule '%s' needs 'then'", name);
    if (st != RP_OK) {
        yrule_free(r);
        return st;
    }
    char origin[512];
    snprintf(origin, sizeof origin, "%s:%zu:%zu", c->name, m->start_mark.line + 1,
             m->start_mark.column + 1);
    rp_rule *rule = rp_rule_new(name, (int)prio, origin, yrule_eval, r, yrule_free);
    if (!rule) {
        yrule_free(r);
        return enomem(c);
    }
    return rp_ruleset_add(rs, rule, c->err);
}

/* ---- tests ------------------------------------------------------------------------ */

static void test_free(rp_rule_test *t)
{
    free(t->name);
    free(t->origin);
    free(t->now);
    free(t->marketplace);
    free(t->from);
    free(t->subject);
    free(t->body);
    free(t->received_at);
    for (size_t i = 0; i < t->nheaders * 2; i++)
        free(t->headers[i]);
    free(t->headers);
    free(t->expect_rule);
    free(t->expect_intent);
    free(t->expect_language);
    for (size_t i = 0; i < t->nexpect_actions; i++)
        free(t->expect_actions[i]);
    free(t->expect_actions);
    for (size_t i = 0; i < t->nexpect_templates; i++)
        free(t->expect_templates[i]);
    free(t->expect_templates);
}

void rp_rule_tests_free(rp_rule_tests *t)
{
    if (!t)
        return;
    for (size_t i = 0; i < t->n; i++)
        test_free(&t->items[i]);
    free(t->items);
    t->items = NULL;
    t->n = 0;
}

static rp_status set_str(yctx *c, yaml_node_t *v, const char *key, char **dst)
{
    const char *s = rp_yaml_scalar(v);
    if (!s)
        return yerr(c, v, "'%s' must be text", key);
    free(*dst);
    return (*dst = rp_strdup(s)) ? RP_OK : enomem(c);
}

typedef struct strv {
    char ***v;
    size_t *n;
} strv;

static rp_status add_str(yctx *c, yaml_node_t *n, const char *s, void *ud)
{
    (void)n;
    strv *l = ud;
    return push_str(l->v, l->n, s ? s : "") == RP_OK ? RP_OK : enomem(c);
}

static rp_status parse_test_message(yctx *c, yaml_node_t *m, rp_rule_test *t)
{
    if (m->type != YAML_MAPPING_NODE)
        return yerr(c, m, "'message' must be a mapping (marketplace, from, subject, body, "
                          "received_at, headers)");
    for (yaml_node_pair_t *p = m->data.mapping.pairs.start; p < m->data.mapping.pairs.top; p++) {
        yaml_node_t *k = node(c, p->key), *v = node(c, p->value);
        const char *ks = rp_yaml_scalar(k);
        rp_status st;
        if (ks && strcmp(ks, "marketplace") == 0)
            st = set_str(c, v, ks, &t->marketplace);
        else if (ks && strcmp(ks, "from") == 0)
            st = set_str(c, v, ks, &t->from);
        else if (ks && strcmp(ks, "subject") == 0)
            st = set_str(c, v, ks, &t->subject);
        else if (ks && strcmp(ks, "body") == 0)
            st = set_str(c, v, ks, &t->body);
        else if (ks && strcmp(ks, "received_at") == 0) {
            int64_t ts;
            if ((st = set_str(c, v, ks, &t->received_at)) == RP_OK &&
                rp_parse_iso8601(t->received_at, &ts) != RP_OK)
                st = yerr(c, v, "'received_at' must be an ISO 8601 time");
        } else if (ks && strcmp(ks, "headers") == 0) {
            if (v->type != YAML_MAPPING_NODE)
                return yerr(c, v, "'headers' must be a mapping of header names to values");
            st = RP_OK;
            for (yaml_node_pair_t *q = v->data.mapping.pairs.start;
                 q < v->data.mapping.pairs.top && st == RP_OK; q++) {
                const char *hn = rp_yaml_scalar(node(c, q->key));
                const char *hv = rp_yaml_scalar(node(c, q->value));
                if (!hn || !hv)
                    return yerr(c, node(c, q->key), "header names and values must be text");
                size_t two = t->nheaders * 2;
                if (push_str(&t->headers, &two, hn) != RP_OK ||
                    push_str(&t->headers, &two, hv) != RP_OK)
                    return enomem(c);
                t->nheaders++;
            }
        } else
            return yerr(c, k, "unknown key in a test message: %s", ks ? ks : "(non-scalar)");
        if (st != RP_OK)
            return st;
    }
    if (!t->body)
        return yerr(c, m, "a test message needs a 'body'");
    return RP_OK;
}

static rp_status parse_expect(yctx *c, yaml_node_t *m, rp_rule_test *t)
{
    if (m->type != YAML_MAPPING_NODE)
        return yerr(c, m, "'expect' must be a mapping (rule, actions, templates, no_reply, "
                          "intent, language, high_risk)");
    for (yaml_node_pair_t *p = m->data.mapping.pairs.start; p < m->data.mapping.pairs.top; p++) {
        yaml_node_t *k = node(c, p->key), *v = node(c, p->value);
        const char *ks = rp_yaml_scalar(k);
        rp_status st;
        if (ks && strcmp(ks, "rule") == 0)
            st = set_str(c, v, ks, &t->expect_rule);
        else if (ks && strcmp(ks, "intent") == 0) {
            st = set_str(c, v, ks, &t->expect_intent);
            if (st == RP_OK && rp_intent_from_name(t->expect_intent) < 0)
                st = yerr(c, v, "unknown intent '%s'", t->expect_intent);
        } else if (ks && strcmp(ks, "language") == 0)
            st = set_str(c, v, ks, &t->expect_language);
        else if (ks && strcmp(ks, "actions") == 0) {
            strv l = {&t->expect_actions, &t->nexpect_actions};
            t->check_actions = true;
            st = rp_yaml_is_empty(v) ? RP_OK : each_scalar(c, v, ks, add_str, &l);
            for (size_t i = 0; st == RP_OK && i < t->nexpect_actions; i++) {
                rp_action a;
                if (rp_action_parse(t->expect_actions[i], &a) != RP_OK)
                    st = yerr(c, v, "unknown action '%s' (auto_send, approve)",
                              t->expect_actions[i]);
            }
        } else if (ks && strcmp(ks, "templates") == 0) {
            strv l = {&t->expect_templates, &t->nexpect_templates};
            t->check_templates = true;
            st = rp_yaml_is_empty(v) ? RP_OK : each_scalar(c, v, ks, add_str, &l);
        } else if (ks && strcmp(ks, "no_reply") == 0)
            st = get_bool(c, v, ks, &t->expect_no_reply);
        else if (ks && strcmp(ks, "high_risk") == 0)
            st = get_bool(c, v, ks, &t->expect_high_risk);
        else
            return yerr(c, k, "unknown key in 'expect': %s", ks ? ks : "(non-scalar)");
        if (st != RP_OK)
            return st;
    }
    return RP_OK;
}

static rp_status parse_test(yctx *c, yaml_node_t *m, rp_rule_tests *tests)
{
    if (m->type != YAML_MAPPING_NODE)
        return yerr(c, m, "a test is a mapping with name, now, message, expect");
    rp_rule_test *nv = realloc(tests->items, (tests->n + 1) * sizeof *nv);
    if (!nv)
        return enomem(c);
    tests->items = nv;
    rp_rule_test *t = &nv[tests->n++];
    memset(t, 0, sizeof *t);
    t->expect_no_reply = t->expect_high_risk = -1;
    char origin[512];
    snprintf(origin, sizeof origin, "%s:%zu:%zu", c->name, m->start_mark.line + 1,
             m->start_mark.column + 1);
    if (!(t->origin = rp_strdup(origin)))
        return enomem(c);
    bool have_msg = false, have_expect = false;
    for (yaml_node_pair_t *p = m->data.mapping.pairs.start; p < m->data.mapping.pairs.top; p++) {
        yaml_node_t *k = node(c, p->key), *v = node(c, p->value);
        const char *ks = rp_yaml_scalar(k);
        rp_status st;
        if (ks && strcmp(ks, "name") == 0)
            st = set_str(c, v, ks, &t->name);
        else if (ks && strcmp(ks, "now") == 0) {
            int64_t ts;
            if ((st = set_str(c, v, ks, &t->now)) == RP_OK &&
                rp_parse_iso8601(t->now, &ts) != RP_OK)
                st = yerr(c, v, "'now' must be an ISO 8601 time such as 2026-11-24T03:00:00+01:00");
        } else if (ks && strcmp(ks, "message") == 0) {
            st = parse_test_message(c, v, t);
            have_msg = true;
        } else if (ks && strcmp(ks, "expect") == 0) {
            st = parse_expect(c, v, t);
            have_expect = true;
        } else
            return yerr(c, k, "unknown key in a test: %s (name, now, message, expect)",
                        ks ? ks : "(non-scalar)");
        if (st != RP_OK)
            return st;
    }
    if (!have_msg || !have_expect)
        return yerr(c, m, "a test needs 'message' and 'expect'");
    if (!t->name && !(t->name = rp_strdup(origin)))
        return enomem(c);
    return RP_OK;
}

rp_status rp_rules_yaml_load(const char *data, size_t len, const char *name, rp_ruleset *rs,
                             rp_rule_tests *tests, rp_error *err)
{
    yaml_document_t doc;
    rp_status st = rp_yaml_load(data, len, name, &doc, err);
    if (st != RP_OK)
        return st;
    yctx c = {&doc, name, err, rs};
    yaml_node_t *root = yaml_document_get_root_node(&doc);
    if (!root || (root->type == YAML_SCALAR_NODE && rp_yaml_is_empty(root))) {
        yaml_document_delete(&doc);
        return RP_OK;
    }
    if (root->type != YAML_MAPPING_NODE) {
        st = yerr(&c, root, "a rule file is a mapping with 'rules' (and optionally 'tests')");
        yaml_document_delete(&doc);
        return st;
    }
    for (yaml_node_pair_t *p = root->data.mapping.pairs.start;
         p < root->data.mapping.pairs.top && st == RP_OK; p++) {
        yaml_node_t *k = node(&c, p->key), *v = node(&c, p->value);
        const char *ks = rp_yaml_scalar(k);
        bool is_rules = ks && strcmp(ks, "rules") == 0, is_tests = ks && strcmp(ks, "tests") == 0;
        if (!is_rules && !is_tests) {
            st = yerr(&c, k, "unknown key: %s (rules, tests)", ks ? ks : "(non-scalar)");
            break;
        }
        if (v->type == YAML_SCALAR_NODE && rp_yaml_is_empty(v))
            continue;
        if (v->type != YAML_SEQUENCE_NODE) {
            st = yerr(&c, v, "'%s' must be a list", ks);
            break;
        }
        for (yaml_node_item_t *it = v->data.sequence.items.start;
             it < v->data.sequence.items.top && st == RP_OK; it++) {
            yaml_node_t *e = node(&c, *it);
            if (is_rules)
                st = parse_rule(&c, e, rs);
            else if (tests)
                st = parse_test(&c, e, tests);
        }
    }
    yaml_document_delete(&doc);
    return st;
}
