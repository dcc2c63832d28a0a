#include "rp_config.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "rp_yaml.h"

#include "rp_buf.h"
#include "rp_embedded.h"
#include "rp_langid.h"
#include "rp_schedule.h"

rp_status rp_read_file(const char *path, size_t max, char **data, size_t *len, rp_error *err)
{
    *data = NULL;
    *len = 0;
    FILE *f = fopen(path, "rb");
    if (!f)
        return rp_error_set(err, RP_EIO, "%s: %s", path, strerror(errno));
    rp_buf b = {0};
    char chunk[65536];
    size_t n;
    rp_status st = RP_OK;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0) {
        if (b.len + n > max) {
            st = rp_error_set(err, RP_ELIMIT, "%s: larger than %zu bytes", path, max);
            break;
        }
        if (rp_buf_append(&b, chunk, n) != RP_OK) {
            st = rp_error_set(err, RP_ENOMEM, "%s: out of memory", path);
            break;
        }
    }
    if (st == RP_OK && ferror(f))
        st = rp_error_set(err, RP_EIO, "%s: read error", path);
    fclose(f);
    if (st != RP_OK) {
        rp_buf_free(&b);
        return st;
    }
    *len = b.len;
    *data = rp_buf_steal(&b);
    return *data ? RP_OK : rp_error_set(err, RP_ENOMEM, "out of memory");
}

static void free_strv(char **v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(v[i]);
    free(v);
}

static void free_holidays(rp_config *c)
{
    for (size_t i = 0; i < c->nholidays; i++)
        free(c->holidays[i].name);
    free(c->holidays);
    c->holidays = NULL;
    c->nholidays = 0;
}

static void free_sink(rp_sink_cfg *s)
{
    free(s->name);
    free(s->plugin);
    free_strv(s->keys, s->nopts);
    free_strv(s->values, s->nopts);
    memset(s, 0, sizeof *s);
}

static void free_source(rp_source_cfg *s)
{
    free(s->name);
    free(s->plugin);
    free_strv(s->keys, s->nopts);
    free_strv(s->values, s->nopts);
    free(s->marketplace);
}

void rp_config_free(rp_config *c)
{
    if (!c)
        return;
    free(c->path);
    free_strv(c->lexicons, c->nlexicons);
    free(c->seller_name);
    free(c->team_time_zone);
    for (int i = 0; i < 7; i++)
        free(c->hours[i]);
    free_holidays(c);
    free_strv(c->holiday_files, c->nholiday_files);
    for (size_t i = 0; i < c->nmarketplaces; i++) {
        free(c->marketplaces[i].domain);
        free(c->marketplaces[i].language);
        free(c->marketplaces[i].time_zone);
        free(c->marketplaces[i].sender);
    }
    free(c->marketplaces);
    free_strv(c->rule_paths, c->nrule_paths);
    free_strv(c->template_dirs, c->ntemplate_dirs);
    free_strv(c->allowed_domains, c->nallowed_domains);
    free(c->fallback_template);
    free(c->base_dir);
    free(c->queue_path);
    free(c->sink);
    for (size_t i = 0; i < c->nsinks; i++)
        free_sink(&c->sinks[i]);
    free(c->sinks);
    free(c->plugin_dir);
    free_strv(c->notification_senders, c->nnotification_senders);
    free_strv(c->own_addresses, c->nown_addresses);
    free(c->alert_sink);
    for (size_t i = 0; i < c->nsources; i++)
        free_source(&c->sources[i]);
    free(c->sources);
    free(c);
}

const rp_source_cfg *rp_config_source(const rp_config *c, const char *name)
{
    if (!name)
        return NULL;
    for (size_t i = 0; i < c->nsources; i++)
        if (strcmp(c->sources[i].name, name) == 0)
            return &c->sources[i];
    return NULL;
}

const rp_sink_cfg *rp_config_sink(const rp_config *c, const char *name)
{
    if (!name)
        return NULL;
    for (size_t i = 0; i < c->nsinks; i++)
        if (strcmp(c->sinks[i].name, name) == 0)
            return &c->sinks[i];
    return NULL;
}

const rp_marketplace_cfg *rp_config_marketplace(const rp_config *c, const char *domain)
{
    if (!domain)
        return NULL;
    for (size_t i = 0; i < c->nmarketplaces; i++)
        if (strcasecmp(c->marketplaces[i].domain, domain) == 0)
            return &c->marketplaces[i];
    return NULL;
}

typedef struct cctx {
    yaml_document_t *doc;
    const char *name;
    const char *base;
    rp_error *err;
} cctx;

static rp_status cerr(cctx *c, yaml_node_t *n, const char *fmt, const char *a)
    __attribute__((format(printf, 3, 0)));

static rp_status cerr(cctx *c, yaml_node_t *n, const char *fmt, const char *a)
{
    char msg[640];
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
    snprintf(msg, sizeof msg, fmt, a ? a : "");
#pragma GCC diagnostic pop
    return rp_error_set(c->err, RP_ECONFIG, "%s:%zu:%zu: %s", c->name,
                        n ? n->start_mark.line + 1 : 0, n ? n->start_mark.column + 1 : 0, msg);
}


static rp_status get_uint(cctx *c, yaml_node_t *n, unsigned long long lo, unsigned long long hi,
                          unsigned long long *out)
{
    const char *s = rp_yaml_scalar(n);
    char *end;
    if (!s || !*s || *s == '-')
        return cerr(c, n, "expected a whole number%s", NULL);
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || *end || v < lo || v > hi) {
        char range[96];
        snprintf(range, sizeof range, " between %llu and %llu", lo, hi);
        return cerr(c, n, "expected a whole number%s", range);
    }
    *out = v;
    return RP_OK;
}

static rp_status get_double(cctx *c, yaml_node_t *n, double lo, double hi, double *out)
{
    const char *s = rp_yaml_scalar(n);
    char *end;
    if (!s || !*s)
        return cerr(c, n, "expected a number%s", NULL);
    double v = strtod(s, &end);
    if (*end || !isfinite(v) || v < lo || v > hi)
        return cerr(c, n, "expected a number in range%s", NULL);
    *out = v;
    return RP_OK;
}

static char *resolve(const char *base, const char *p)
{
    if (p[0] == '/' || !base)
        return rp_strdup(p);
    rp_buf b = {0};
    if (rp_buf_printf(&b, "%s/%s", base, p) != RP_OK) {
        rp_buf_free(&b);
        return NULL;
    }
    return rp_buf_steal(&b);
}

static rp_status parse_limits(cctx *c, rp_config *cfg, yaml_node_t *m)
{
    if (m->type != YAML_MAPPING_NODE)
        return cerr(c, m, "'limits' must be a mapping%s", NULL);
    for (yaml_node_pair_t *p = m->data.mapping.pairs.start; p < m->data.mapping.pairs.top; p++) {
        yaml_node_t *k = yaml_document_get_node(c->doc, p->key);
        yaml_node_t *v = yaml_document_get_node(c->doc, p->value);
        const char *ks = rp_yaml_scalar(k);
        unsigned long long u;
        rp_status st;
        if (ks && strcmp(ks, "max_message_bytes") == 0) {
            if ((st = get_uint(c, v, 1024, 1ull << 30, &u)) != RP_OK)
                return st;
            cfg->limits.max_message_bytes = (size_t)u;
        } else if (ks && strcmp(ks, "max_mime_depth") == 0) {
            if ((st = get_uint(c, v, 1, 200, &u)) != RP_OK)
                return st;
            cfg->limits.max_mime_depth = (unsigned)u;
        } else if (ks && strcmp(ks, "max_mime_parts") == 0) {
            if ((st = get_uint(c, v, 1, 100000, &u)) != RP_OK)
                return st;
            cfg->limits.max_mime_parts = (unsigned)u;
        } else {
            return cerr(c, k, "unknown key in 'limits': %s", ks ? ks : "(non-scalar)");
        }
    }
    return RP_OK;
}

static rp_status parse_classifier(cctx *c, rp_config *cfg, yaml_node_t *m)
{
    if (m->type != YAML_MAPPING_NODE)
        return cerr(c, m, "'classifier' must be a mapping%s", NULL);
    for (yaml_node_pair_t *p = m->data.mapping.pairs.start; p < m->data.mapping.pairs.top; p++) {
        yaml_node_t *k = yaml_document_get_node(c->doc, p->key);
        yaml_node_t *v = yaml_document_get_node(c->doc, p->value);
        const char *ks = rp_yaml_scalar(k);
        rp_status st = RP_OK;
        unsigned long long u;
        if (ks && strcmp(ks, "min_score") == 0) {
            st = get_double(c, v, 0.01, 100, &cfg->classifier.min_score);
        } else if (ks && strcmp(ks, "subject_weight") == 0) {
            st = get_double(c, v, 0, 10, &cfg->classifier.subject_weight);
        } else if (ks && strcmp(ks, "negation_window") == 0) {
            st = get_uint(c, v, 0, 20, &u);
            cfg->classifier.negation_window = (int)u;
        } else if (ks && strcmp(ks, "builtin_lexicons") == 0) {
            const char *b = rp_yaml_scalar(v);
            if (b && (strcmp(b, "true") == 0 || strcmp(b, "yes") == 0))
                cfg->builtin_lexicons = true;
            else if (b && (strcmp(b, "false") == 0 || strcmp(b, "no") == 0))
                cfg->builtin_lexicons = false;
            else
                st = cerr(c, v, "'builtin_lexicons' must be true or false%s", NULL);
        } else if (ks && strcmp(ks, "lexicons") == 0) {
            if (v->type == YAML_SCALAR_NODE && !*rp_yaml_scalar(v))
                continue;
            if (v->type != YAML_SEQUENCE_NODE)
                return cerr(c, v, "'lexicons' must be a list of file paths%s", NULL);
            for (yaml_node_item_t *it = v->data.sequence.items.start;
                 it < v->data.sequence.items.top; it++) {
                yaml_node_t *e = yaml_document_get_node(c->doc, *it);
                const char *path = rp_yaml_scalar(e);
                if (!path || !*path)
                    return cerr(c, e, "a lexicon entry must be a file path%s", NULL);
                char **nl = realloc(cfg->lexicons, (cfg->nlexicons + 1) * sizeof *nl);
                if (!nl)
                    return rp_error_set(c->err, RP_ENOMEM, "out of memory");
                cfg->lexicons = nl;
                if (!(nl[cfg->nlexicons] = resolve(c->base, path)))
                    return rp_error_set(c->err, RP_ENOMEM, "out of memory");
                cfg->nlexicons++;
            }
        } else {
            return cerr(c, k, "unknown key in 'classifier': %s", ks ? ks : "(non-scalar)");
        }
        if (st != RP_OK)
            return st;
    }
    return RP_OK;
}


static rp_status get_bool(cctx *c, yaml_node_t *v, const char *key, bool *out)
{
    const char *b = rp_yaml_scalar(v);
    if (b && (strcmp(b, "true") == 0 || strcmp(b, "yes") == 0))
        *out = true;
    else if (b && (strcmp(b, "false") == 0 || strcmp(b, "no") == 0))
        *out = false;
    else
        return cerr(c, v, "'%s' must be true or false", key);
    return RP_OK;
}

/* Replace *dst by a copy of a non-empty scalar. */
static rp_status get_str(cctx *c, yaml_node_t *v, const char *key, char **dst)
{
    const char *s = rp_yaml_scalar(v);
    if (!s || !*s)
        return cerr(c, v, "'%s' must be a non-empty text", key);
    char *d = rp_strdup(s);
    if (!d)
        return rp_error_set(c->err, RP_ENOMEM, "out of memory");
    free(*dst);
    *dst = d;
    return RP_OK;
}

/* Replace a list of strings (paths are resolved against the config's folder). */
static rp_status get_strv(cctx *c, yaml_node_t *v, const char *key, bool paths, char ***dst,
                          size_t *n)
{
    char **out = NULL;
    size_t cnt = 0;
    if (!(v->type == YAML_SCALAR_NODE && rp_yaml_is_empty(v))) {
        if (v->type != YAML_SEQUENCE_NODE)
            return cerr(c, v, "'%s' must be a list", key);
        size_t total = (size_t)(v->data.sequence.items.top - v->data.sequence.items.start);
        out = calloc(total ? total : 1, sizeof *out);
        if (!out)
            return rp_error_set(c->err, RP_ENOMEM, "out of memory");
        for (yaml_node_item_t *it = v->data.sequence.items.start; it < v->data.sequence.items.top;
             it++) {
            yaml_node_t *e = yaml_document_get_node(c->doc, *it);
            const char *s = rp_yaml_scalar(e);
            if (!s || !*s) {
                free_strv(out, cnt);
                return cerr(c, e, "every entry of '%s' must be a non-empty text", key);
            }
            out[cnt] = paths ? resolve(c->base, s) : rp_strdup(s);
            if (!out[cnt]) {
                free_strv(out, cnt);
                return rp_error_set(c->err, RP_ENOMEM, "out of memory");
            }
            cnt++;
        }
    }
    free_strv(*dst, *n);
    *dst = out;
    *n = cnt;
    return RP_OK;
}

#define FOR_PAIRS(m, k, v)                                                                     \
    for (yaml_node_pair_t *p_##k = (m)->data.mapping.pairs.start;                              \
         p_##k < (m)->data.mapping.pairs.top &&                                                \
         ((k) = yaml_document_get_node(c->doc, p_##k->key),                                   \
         (v) = yaml_document_get_node(c->doc, p_##k->value), 1);                              \
         p_##k++)

static rp_status need_map(cctx *c, yaml_node_t *m, const char *key)
{
    if (!m || m->type != YAML_MAPPING_NODE)
        return cerr(c, m, "'%s' must be a mapping", key);
    return RP_OK;
}

static rp_status check_zone(cctx *c, yaml_node_t *v)
{
    rp_tz *tz = NULL;
    rp_error e;
    if (rp_tz_open(rp_yaml_scalar(v), &tz, &e) != RP_OK)
        return cerr(c, v, "%s", e.msg);
    rp_tz_free(tz);
    return RP_OK;
}

static rp_status parse_team(cctx *c, rp_config *cfg, yaml_node_t *m)
{
    rp_status st = need_map(c, m, "team");
    yaml_node_t *k, *v;
    if (st != RP_OK)
        return st;
    FOR_PAIRS(m, k, v)
    {
        const char *ks = rp_yaml_scalar(k);
        if (ks && strcmp(ks, "time_zone") == 0) {
            if ((st = get_str(c, v, "time_zone", &cfg->team_time_zone)) == RP_OK)
                st = check_zone(c, v);
        } else if (ks && strcmp(ks, "business_hours") == 0) {
            if ((st = need_map(c, v, "business_hours")) != RP_OK)
                return st;
            yaml_node_t *dk, *dv;
            FOR_PAIRS(v, dk, dv)
            {
                const char *day = rp_yaml_scalar(dk);
                int wd = day ? rp_weekday_parse(day) : -1;
                if (wd < 0)
                    return cerr(c, dk, "unknown weekday '%s' (mon, tue, ... sun)",
                                day ? day : "(non-scalar)");
                const char *spec = rp_yaml_scalar(dv);
                if (!spec)
                    return cerr(c, dv, "hours must be text like \"09:00-17:00\" or closed%s", "");
                /* validate now, so the error points at the line */
                rp_tz *utc = NULL;
                rp_error e;
                rp_status vs = rp_tz_open("UTC", &utc, &e);
                if (vs != RP_OK)
                    return rp_error_set(c->err, vs, "%s", e.msg);
                rp_schedule *tmp = rp_schedule_new(utc);
                vs = tmp ? rp_schedule_set_day(tmp, wd, spec, &e) : RP_ENOMEM;
                rp_schedule_free(tmp);
                if (vs == RP_ENOMEM)
                    return rp_error_set(c->err, RP_ENOMEM, "out of memory");
                if (vs != RP_OK)
                    return cerr(c, dv, "%s", e.msg);
                char *copy = rp_strdup(spec);
                if (!copy)
                    return rp_error_set(c->err, RP_ENOMEM, "out of memory");
                free(cfg->hours[wd]);
                cfg->hours[wd] = copy;
            }
        } else {
            st = cerr(c, k, "unknown key in 'team': %s", ks ? ks : "(non-scalar)");
        }
        if (st != RP_OK)
            return st;
    }
    return RP_OK;
}

/* "2026-12-24" (that date) or "12-24" (every year). */
static rp_status get_holiday_date(cctx *c, yaml_node_t *v, int32_t *out, bool *yearly)
{
    const char *s = rp_yaml_scalar(v);
    rp_error e;
    if (s && strlen(s) == 5 && s[2] == '-') {
        char full[16];
        snprintf(full, sizeof full, "2000-%s", s); /* a leap year, so 02-29 is valid */
        int32_t ymd;
        if (rp_date_parse(full, &ymd, &e) != RP_OK)
            return cerr(c, v, "invalid date '%s' (YYYY-MM-DD, or MM-DD for every year)", s);
        *out = ymd % 10000;
        *yearly = true;
        return RP_OK;
    }
    if (!s || rp_date_parse(s, out, &e) != RP_OK)
        return cerr(c, v, "invalid date '%s' (YYYY-MM-DD, or MM-DD for every year)",
                    s ? s : "(non-scalar)");
    *yearly = false;
    return RP_OK;
}

static rp_status parse_holidays(cctx *c, rp_config *cfg, yaml_node_t *v)
{
    free_holidays(cfg); /* a seller's list replaces the default one */
    if (v->type == YAML_SCALAR_NODE && rp_yaml_is_empty(v))
        return RP_OK;
    if (v->type != YAML_SEQUENCE_NODE)
        return cerr(c, v, "'holidays' must be a list of {name, from, to}%s", "");
    size_t total = (size_t)(v->data.sequence.items.top - v->data.sequence.items.start);
    cfg->holidays = calloc(total ? total : 1, sizeof *cfg->holidays);
    if (!cfg->holidays)
        return rp_error_set(c->err, RP_ENOMEM, "out of memory");
    for (yaml_node_item_t *it = v->data.sequence.items.start; it < v->data.sequence.items.top;
         it++) {
        yaml_node_t *e = yaml_document_get_node(c->doc, *it);
        rp_status st = need_map(c, e, "holidays entry");
        if (st != RP_OK)
            return st;
        rp_holiday_cfg *h = &cfg->holidays[cfg->nholidays++];
        memset(h, 0, sizeof *h);
        bool have_from = false, have_to = false, y1 = false, y2 = false;
        yaml_node_t *k, *hv;
        FOR_PAIRS(e, k, hv)
        {
            const char *ks = rp_yaml_scalar(k);
            if (ks && strcmp(ks, "name") == 0)
                st = get_str(c, hv, "name", &h->name);
            else if (ks && strcmp(ks, "from") == 0) {
                st = get_holiday_date(c, hv, &h->first, &y1);
                have_from = true;
            } else if (ks && strcmp(ks, "to") == 0) {
                st = get_holiday_date(c, hv, &h->last, &y2);
                have_to = true;
            } else
                st = cerr(c, k, "unknown key in a holiday: %s (name, from, to)",
                          ks ? ks : "(non-scalar)");
            if (st != RP_OK)
                return st;
        }
        if (!h->name || !have_from)
            return cerr(c, e, "a holiday needs 'name' and 'from'%s", "");
        if (!have_to) {
            h->last = h->first;
            y2 = y1;
        }
        if (y1 != y2)
            return cerr(c, e, "'from' and 'to' must both have a year or both be MM-DD%s", "");
        h->yearly = y1;
        if (!h->yearly && h->last < h->first)
            return cerr(c, e, "holiday '%s' ends before it starts", h->name);
    }
    return RP_OK;
}

static rp_status parse_marketplaces(cctx *c, rp_config *cfg, yaml_node_t *m)
{
    rp_status st = need_map(c, m, "marketplaces");
    yaml_node_t *k, *v;
    if (st != RP_OK)
        return st;
    FOR_PAIRS(m, k, v)
    {
        const char *dom = rp_yaml_scalar(k);
        if (!dom || !*dom || !strchr(dom, '.'))
            return cerr(c, k, "a marketplace is named by its domain, e.g. amazon.de%s", "");
        if ((st = need_map(c, v, dom)) != RP_OK)
            return st;
        rp_marketplace_cfg *mp = (rp_marketplace_cfg *)rp_config_marketplace(cfg, dom);
        if (!mp) {
            rp_marketplace_cfg *n = realloc(cfg->marketplaces, (cfg->nmarketplaces + 1) * sizeof *n);
            if (!n)
                return rp_error_set(c->err, RP_ENOMEM, "out of memory");
            cfg->marketplaces = n;
            mp = &n[cfg->nmarketplaces];
            memset(mp, 0, sizeof *mp);
            if (!(mp->domain = rp_strdup(dom)))
                return rp_error_set(c->err, RP_ENOMEM, "out of memory");
            cfg->nmarketplaces++;
        }
        yaml_node_t *fk, *fv;
        FOR_PAIRS(v, fk, fv)
        {
            const char *ks = rp_yaml_scalar(fk);
            if (ks && strcmp(ks, "language") == 0) {
                const char *l = rp_yaml_scalar(fv);
                if (!l || rp_lang_from_code(l) == RP_LANG_UND)
                    return cerr(c, fv, "language must be one of en, de, fr, it, es, ja%s", "");
                st = get_str(c, fv, "language", &mp->language);
            } else if (ks && strcmp(ks, "time_zone") == 0) {
                if ((st = get_str(c, fv, "time_zone", &mp->time_zone)) == RP_OK)
                    st = check_zone(c, fv);
            } else if (ks && strcmp(ks, "sender") == 0) {
                const char *a = rp_yaml_scalar(fv);
                if (!a || !strchr(a, '@'))
                    return cerr(c, fv, "sender must be an e-mail address%s", "");
                st = get_str(c, fv, "sender", &mp->sender);
            } else {
                st = cerr(c, fk, "unknown key in a marketplace: %s (language, time_zone, sender)",
                          ks ? ks : "(non-scalar)");
            }
            if (st != RP_OK)
                return st;
        }
    }
    return RP_OK;
}

static rp_status parse_library(cctx *c, yaml_node_t *m, const char *section, const char *list_key,
                               bool *builtin, char ***list, size_t *n)
{
    rp_status st = need_map(c, m, section);
    yaml_node_t *k, *v;
    if (st != RP_OK)
        return st;
    FOR_PAIRS(m, k, v)
    {
        const char *ks = rp_yaml_scalar(k);
        if (ks && strcmp(ks, "builtin") == 0)
            st = get_bool(c, v, "builtin", builtin);
        else if (ks && strcmp(ks, list_key) == 0)
            st = get_strv(c, v, list_key, true, list, n);
        else {
            char msg[96];
            snprintf(msg, sizeof msg, "unknown key in '%s': %s (builtin, %s)", section,
                     ks ? ks : "(non-scalar)", list_key);
            st = cerr(c, k, "%s", msg);
        }
        if (st != RP_OK)
            return st;
    }
    return RP_OK;
}

static bool is_secret_key(const char *ks)
{
    return ks && (strcmp(ks, "password") == 0 || strcmp(ks, "secret") == 0 ||
                  strcmp(ks, "api_key") == 0 || strcmp(ks, "token") == 0);
}

/* A plugin entry of delivery.sinks or sources: plugin + options, and for a
 * source its marketplace and poll interval (src non-NULL). */
static rp_status parse_plugin_entry(cctx *c, const char *what, const char *name, yaml_node_t *m,
                                    char **plugin, char ***okeys, char ***ovalues, size_t *nopts,
                                    rp_source_cfg *src)
{
    rp_status st = need_map(c, m, name);
    yaml_node_t *k, *v;
    if (st != RP_OK)
        return st;
    FOR_PAIRS(m, k, v)
    {
        const char *ks = rp_yaml_scalar(k);
        if (ks && strcmp(ks, "plugin") == 0) {
            const char *s = rp_yaml_scalar(v);
            if (!s || !*s || strspn(s, "abcdefghijklmnopqrstuvwxyz0123456789_-") != strlen(s))
                return cerr(c, v, "'plugin' must be a plugin name such as %s",
                            src ? "imap, maildir or dropdir" : "smtp, webhook or file");
            if ((st = get_str(c, v, "plugin", plugin)) != RP_OK)
                return st;
        } else if (ks && strcmp(ks, "options") == 0) {
            if (v->type == YAML_SCALAR_NODE && rp_yaml_is_empty(v))
                continue;
            if ((st = need_map(c, v, "options")) != RP_OK)
                return st;
            size_t total = (size_t)(v->data.mapping.pairs.top - v->data.mapping.pairs.start);
            char **keys = calloc(total + 1, sizeof *keys), **vals = calloc(total + 1, sizeof *vals);
            if (!keys || !vals) {
                free(keys);
                free(vals);
                return rp_error_set(c->err, RP_ENOMEM, "out of memory");
            }
            free_strv(*okeys, *nopts);
            free_strv(*ovalues, *nopts);
            *okeys = keys;
            *ovalues = vals;
            *nopts = 0;
            yaml_node_t *ok, *ov;
            FOR_PAIRS(v, ok, ov)
            {
                const char *oks = rp_yaml_scalar(ok), *ovs = rp_yaml_scalar(ov);
                if (!oks || !*oks)
                    return cerr(c, ok, "option names must be texts%s", NULL);
                if (is_secret_key(oks))
                    return cerr(c, ok, "secrets never go into the configuration file ('%s'): "
                                       "use the plugin's *_env or *_file option", oks);
                if (!ovs)
                    return cerr(c, ov, "option '%s' must be a single value", oks);
                keys[*nopts] = rp_strdup(oks);
                vals[*nopts] = rp_strdup(ovs);
                (*nopts)++;
                if (!keys[*nopts - 1] || !vals[*nopts - 1])
                    return rp_error_set(c->err, RP_ENOMEM, "out of memory");
            }
        } else if (src && ks && strcmp(ks, "marketplace") == 0) {
            if (v->type == YAML_SCALAR_NODE && rp_yaml_is_empty(v)) {
                free(src->marketplace);
                src->marketplace = NULL;
            } else if ((st = get_str(c, v, "marketplace", &src->marketplace)) != RP_OK)
                return st;
        } else if (src && ks && strcmp(ks, "poll_seconds") == 0) {
            unsigned long long u;
            if ((st = get_uint(c, v, 1, 86400, &u)) != RP_OK)
                return st;
            src->poll_seconds = (unsigned)u;
        } else {
            char msg[300];
            snprintf(msg, sizeof msg, "unknown key in a %s: %s (%s)", src ? "source" : "sink",
                     ks ? ks : "(non-scalar)",
                     src ? "plugin, marketplace, poll_seconds, options" : "plugin, options");
            return cerr(c, k, "%s", msg);
        }
    }
    if (!*plugin)
        return cerr(c, m, "%s needs a 'plugin'", what);
    return RP_OK;
}

static rp_status parse_sink(cctx *c, rp_sink_cfg *out, yaml_node_t *m)
{
    char what[300];
    snprintf(what, sizeof what, "sink '%s'", out->name);
    return parse_plugin_entry(c, what, out->name, m, &out->plugin, &out->keys, &out->values,
                              &out->nopts, NULL);
}

static rp_status parse_sources(cctx *c, rp_config *cfg, yaml_node_t *m)
{
    if (m->type == YAML_SCALAR_NODE && rp_yaml_is_empty(m))
        return RP_OK;
    rp_status st = need_map(c, m, "sources");
    yaml_node_t *k, *v;
    if (st != RP_OK)
        return st;
    FOR_PAIRS(m, k, v)
    {
        const char *ks = rp_yaml_scalar(k);
        if (!ks || !*ks || strspn(ks, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                      "0123456789_.-") != strlen(ks) || strlen(ks) > 64)
            return cerr(c, k, "source names are 1 to 64 letters, digits, '.', '_' or '-'%s",
                        NULL);
        rp_source_cfg *s = NULL;
        for (size_t i = 0; i < cfg->nsources; i++)
            if (strcmp(cfg->sources[i].name, ks) == 0)
                s = &cfg->sources[i];
        if (s) {
            char *name = s->name;
            s->name = NULL;
            free_source(s);
            memset(s, 0, sizeof *s);
            s->name = name;
        } else {
            rp_source_cfg *n = realloc(cfg->sources, (cfg->nsources + 1) * sizeof *n);
            if (!n)
                return rp_error_set(c->err, RP_ENOMEM, "out of memory");
            cfg->sources = n;
            s = &n[cfg->nsources];
            memset(s, 0, sizeof *s);
            if (!(s->name = rp_strdup(ks)))
                return rp_error_set(c->err, RP_ENOMEM, "out of memory");
            cfg->nsources++;
        }
        s->poll_seconds = 60;
        char what[300];
        snprintf(what, sizeof what, "source '%s'", ks);
        if ((st = parse_plugin_entry(c, what, ks, v, &s->plugin, &s->keys, &s->values, &s->nopts,
                                     s)) != RP_OK)
            return st;
    }
    return RP_OK;
}

static rp_status parse_sinks(cctx *c, rp_config *cfg, yaml_node_t *m)
{
    if (m->type == YAML_SCALAR_NODE && rp_yaml_is_empty(m))
        return RP_OK;
    rp_status st = need_map(c, m, "sinks");
    yaml_node_t *k, *v;
    if (st != RP_OK)
        return st;
    FOR_PAIRS(m, k, v)
    {
        const char *ks = rp_yaml_scalar(k);
        if (!ks || !*ks)
            return cerr(c, k, "sink names must be texts%s", NULL);
        rp_sink_cfg *s = NULL;
        for (size_t i = 0; i < cfg->nsinks; i++)
            if (strcmp(cfg->sinks[i].name, ks) == 0)
                s = &cfg->sinks[i]; /* a seller's sink of the same name replaces it */
        if (s) {
            char *name = s->name;
            s->name = NULL;
            free_sink(s);
            s->name = name;
        } else {
            rp_sink_cfg *n = realloc(cfg->sinks, (cfg->nsinks + 1) * sizeof *n);
            if (!n)
                return rp_error_set(c->err, RP_ENOMEM, "out of memory");
            cfg->sinks = n;
            s = &n[cfg->nsinks];
            memset(s, 0, sizeof *s);
            if (!(s->name = rp_strdup(ks)))
                return rp_error_set(c->err, RP_ENOMEM, "out of memory");
            cfg->nsinks++;
        }
        if ((st = parse_sink(c, s, v)) != RP_OK)
            return st;
    }
    return RP_OK;
}


/* The sections whose keys are plain values are described by a table. */
typedef enum field_kind {
    F_UINT,   /* unsigned, lo..hi */
    F_U64,    /* unsigned long long, lo..hi */
    F_BOOL,   /* bool */
    F_STR,    /* non-empty text */
    F_RATIO,  /* double, 0..1 */
    F_PATH,   /* file or folder, resolved against the configuration's folder */
    F_OPT_PATH, /* the same, "" clears it */
    F_OPT_NAME, /* a name, "" clears it */
    F_LIST,   /* list of texts; count at count_off */
    F_SINKS,  /* delivery.sinks */
    F_CHOICE  /* one of the words in choices, stored as its index (unsigned) */
} field_kind;

typedef struct field {
    const char *key;
    field_kind kind;
    unsigned long long lo, hi;
    size_t off, count_off;
    const char *const *choices; /* F_CHOICE: NULL-terminated */
} field;

#define FIELD(k, kind, lo, hi, member) {k, kind, lo, hi, offsetof(rp_config, member), 0, NULL}
#define LIST(k, member, count)                                                                    \
    {k, F_LIST, 0, 0, offsetof(rp_config, member), offsetof(rp_config, count), NULL}
#define CHOICE(k, member, words) {k, F_CHOICE, 0, 0, offsetof(rp_config, member), 0, words}

static const field seller_fields[] = {
    FIELD("name", F_STR, 0, 0, seller_name),
};
static const field compliance_fields[] = {
    LIST("allowed_domains", allowed_domains, nallowed_domains),
    FIELD("allow_phone", F_BOOL, 0, 0, allow_phone),
    FIELD("max_subject_chars", F_UINT, 10, 10000, max_subject_chars),
    FIELD("max_body_chars", F_UINT, 100, 100000, max_body_chars),
};
static const field lua_fields[] = {
    FIELD("instruction_limit", F_U64, 1000, 1000000000ull, lua_instructions),
    FIELD("memory_limit", F_U64, 65536, 1ull << 32, lua_memory),
};
static const field safety_fields[] = {
    FIELD("never_auto_send_high_risk", F_BOOL, 0, 0, never_auto_send_high_risk),
    FIELD("fallback_template", F_STR, 0, 0, fallback_template),
};
static const field queue_fields[] = {
    FIELD("path", F_PATH, 0, 0, queue_path),
    FIELD("retention_days", F_UINT, 1, 36500, retention_days),
    FIELD("commit_every", F_UINT, 1, 100000, commit_every),
};
static const field delivery_fields[] = {
    FIELD("sink", F_OPT_NAME, 0, 0, sink),
    FIELD("sinks", F_SINKS, 0, 0, sinks),
    FIELD("plugin_dir", F_OPT_PATH, 0, 0, plugin_dir),
    FIELD("max_attempts", F_UINT, 1, 1000, max_attempts),
    FIELD("retry_base_seconds", F_UINT, 0, 86400, retry_base_seconds),
    FIELD("retry_max_seconds", F_UINT, 0, 7 * 86400, retry_max_seconds),
};
static const field loop_fields[] = {
    FIELD("once_per_sender_days", F_UINT, 0, 365, once_per_sender_days),
    FIELD("max_per_sender_per_hour", F_UINT, 0, 1000, max_per_sender_per_hour),
    LIST("notification_senders", notification_senders, nnotification_senders),
    LIST("own_addresses", own_addresses, nown_addresses),
};
static const field sla_fields[] = {
    FIELD("hours", F_UINT, 1, 720, sla_hours),
    FIELD("warn_hours_before", F_UINT, 0, 720, warn_hours_before),
    FIELD("rate_warn", F_RATIO, 0, 0, rate_warn),
    FIELD("alert_sink", F_OPT_NAME, 0, 0, alert_sink),
};

static const field run_fields[] = {
    FIELD("batch", F_UINT, 1, 10000, run_batch),
    FIELD("alert_every_seconds", F_UINT, 10, 86400, alert_every_seconds),
    FIELD("backoff_max_seconds", F_UINT, 10, 86400, backoff_max_seconds),
};
/* the order of rp_log_format and of RP_LOG_* in plugin.h */
static const char *const log_formats[] = {"logfmt", "json", NULL};
static const char *const log_levels[] = {"error", "warn", "info", "debug", NULL};
static const field log_fields[] = {
    CHOICE("format", log_format, log_formats),
    CHOICE("level", log_level, log_levels),
};

static rp_status parse_field(cctx *c, rp_config *cfg, const field *f, yaml_node_t *v)
{
    char *base = (char *)cfg;
    unsigned long long u;
    rp_status st;
    bool empty = v->type == YAML_SCALAR_NODE && rp_yaml_is_empty(v);
    switch (f->kind) {
    case F_UINT:
        if ((st = get_uint(c, v, f->lo, f->hi, &u)) == RP_OK)
            *(unsigned *)(base + f->off) = (unsigned)u;
        return st;
    case F_U64:
        return get_uint(c, v, f->lo, f->hi, (unsigned long long *)(base + f->off));
    case F_BOOL:
        return get_bool(c, v, f->key, (bool *)(base + f->off));
    case F_STR:
        return get_str(c, v, f->key, (char **)(base + f->off));
    case F_RATIO:
        return get_double(c, v, 0.0, 1.0, (double *)(base + f->off));
    case F_OPT_NAME:
    case F_OPT_PATH:
        if (empty) {
            char **dst = (char **)(base + f->off);
            free(*dst);
            *dst = NULL;
            return RP_OK;
        }
        if (f->kind == F_OPT_NAME)
            return get_str(c, v, f->key, (char **)(base + f->off));
        __attribute__((fallthrough));
    case F_PATH: {
        const char *s = rp_yaml_scalar(v);
        if (!s || !*s)
            return cerr(c, v, "'%s' must be a non-empty text", f->key);
        char *r = resolve(c->base, s);
        if (!r)
            return rp_error_set(c->err, RP_ENOMEM, "out of memory");
        char **dst = (char **)(base + f->off);
        free(*dst);
        *dst = r;
        return RP_OK;
    }
    case F_LIST:
        return get_strv(c, v, f->key, false, (char ***)(base + f->off),
                        (size_t *)(base + f->count_off));
    case F_SINKS:
        return parse_sinks(c, cfg, v);
    case F_CHOICE: {
        const char *w = rp_yaml_scalar(v);
        char known[200] = "";
        for (unsigned i = 0; f->choices[i]; i++) {
            if (w && strcmp(w, f->choices[i]) == 0) {
                *(unsigned *)(base + f->off) = i;
                return RP_OK;
            }
            size_t l = strlen(known);
            snprintf(known + l, sizeof known - l, "%s%s", i ? ", " : "", f->choices[i]);
        }
        char what[300];
        snprintf(what, sizeof what, "'%s' must be one of: %s", f->key, known);
        return cerr(c, v, "%s", what);
    }
    }
    return RP_OK;
}

static rp_status parse_fields(cctx *c, rp_config *cfg, yaml_node_t *m, const char *section,
                              const field *fields, size_t n)
{
    rp_status st = need_map(c, m, section);
    yaml_node_t *k, *v;
    if (st != RP_OK)
        return st;
    FOR_PAIRS(m, k, v)
    {
        const char *ks = rp_yaml_scalar(k);
        const field *f = NULL;
        for (size_t i = 0; ks && i < n && !f; i++)
            if (strcmp(ks, fields[i].key) == 0)
                f = &fields[i];
        if (!f) {
            char known[400] = "";
            for (size_t i = 0; i < n; i++) {
                size_t l = strlen(known);
                snprintf(known + l, sizeof known - l, "%s%s", i ? ", " : "", fields[i].key);
            }
            char what[600];
            snprintf(what, sizeof what, "unknown key in '%s': %s (%s)", section,
                     ks ? ks : "(non-scalar)", known);
            return cerr(c, k, "%s", what);
        }
        if ((st = parse_field(c, cfg, f, v)) != RP_OK)
            return st;
    }
    return RP_OK;
}

#define PARSE_FIELDS(c, cfg, v, section, table)                                                   \
    parse_fields(c, cfg, v, section, table, sizeof table / sizeof table[0])

static rp_status parse_root(cctx *c, rp_config *cfg, yaml_node_t *root)
{
    if (!root)
        return RP_OK; /* an empty file changes nothing */
    if (root->type == YAML_SCALAR_NODE && !*rp_yaml_scalar(root))
        return RP_OK;
    if (root->type != YAML_MAPPING_NODE)
        return cerr(c, root, "the configuration must be a mapping%s", NULL);
    for (yaml_node_pair_t *p = root->data.mapping.pairs.start; p < root->data.mapping.pairs.top;
         p++) {
        yaml_node_t *k = yaml_document_get_node(c->doc, p->key);
        yaml_node_t *v = yaml_document_get_node(c->doc, p->value);
        const char *ks = rp_yaml_scalar(k);
        rp_status st;
        if (ks && strcmp(ks, "limits") == 0)
            st = parse_limits(c, cfg, v);
        else if (ks && strcmp(ks, "classifier") == 0)
            st = parse_classifier(c, cfg, v);
        else if (ks && strcmp(ks, "seller") == 0)
            st = PARSE_FIELDS(c, cfg, v, "seller", seller_fields);
        else if (ks && strcmp(ks, "team") == 0)
            st = parse_team(c, cfg, v);
        else if (ks && strcmp(ks, "holidays") == 0)
            st = parse_holidays(c, cfg, v);
        else if (ks && strcmp(ks, "holiday_files") == 0)
            st = get_strv(c, v, "holiday_files", true, &cfg->holiday_files, &cfg->nholiday_files);
        else if (ks && strcmp(ks, "marketplaces") == 0)
            st = parse_marketplaces(c, cfg, v);
        else if (ks && strcmp(ks, "rules") == 0)
            st = parse_library(c, v, "rules", "paths", &cfg->builtin_rules, &cfg->rule_paths,
                               &cfg->nrule_paths);
        else if (ks && strcmp(ks, "templates") == 0)
            st = parse_library(c, v, "templates", "dirs", &cfg->builtin_templates,
                               &cfg->template_dirs, &cfg->ntemplate_dirs);
        else if (ks && strcmp(ks, "compliance") == 0)
            st = PARSE_FIELDS(c, cfg, v, "compliance", compliance_fields);
        else if (ks && strcmp(ks, "lua") == 0)
            st = PARSE_FIELDS(c, cfg, v, "lua", lua_fields);
        else if (ks && strcmp(ks, "safety") == 0)
            st = PARSE_FIELDS(c, cfg, v, "safety", safety_fields);
        else if (ks && strcmp(ks, "queue") == 0)
            st = PARSE_FIELDS(c, cfg, v, "queue", queue_fields);
        else if (ks && strcmp(ks, "delivery") == 0)
            st = PARSE_FIELDS(c, cfg, v, "delivery", delivery_fields);
        else if (ks && strcmp(ks, "loop_protection") == 0)
            st = PARSE_FIELDS(c, cfg, v, "loop_protection", loop_fields);
        else if (ks && strcmp(ks, "sla") == 0)
            st = PARSE_FIELDS(c, cfg, v, "sla", sla_fields);
        else if (ks && strcmp(ks, "sources") == 0)
            st = parse_sources(c, cfg, v);
        else if (ks && strcmp(ks, "run") == 0)
            st = PARSE_FIELDS(c, cfg, v, "run", run_fields);
        else if (ks && strcmp(ks, "log") == 0)
            st = PARSE_FIELDS(c, cfg, v, "log", log_fields);
        else if (is_secret_key(ks))
            st = cerr(c, k, "secrets never go into the configuration file ('%s'): use an "
                      "environment variable or a secret file", ks);
        else
            st = cerr(c, k, "unknown key: %s", ks ? ks : "(non-scalar)");
        if (st != RP_OK)
            return st;
    }
    return RP_OK;
}

static rp_status parse_into(rp_config *cfg, const char *data, size_t len, const char *name,
                            const char *base, rp_error *err)
{
    yaml_document_t doc;
    rp_status st = rp_yaml_load(data, len, name, &doc, err);
    if (st != RP_OK)
        return st;
    cctx c = {&doc, name, base, err};
    st = parse_root(&c, cfg, yaml_document_get_root_node(&doc));
    yaml_document_delete(&doc);
    return st;
}

static rp_config *new_defaults(void)
{
    rp_config *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    c->limits = rp_limits_default();
    c->builtin_lexicons = true;
    rp_classifier_opts_default(&c->classifier);
    c->builtin_rules = true;
    c->builtin_templates = true;
    c->max_subject_chars = 200;
    c->max_body_chars = 4000;
    c->lua_instructions = 1000000;
    c->lua_memory = 8u << 20;
    c->never_auto_send_high_risk = true;
    c->retention_days = 180;
    c->commit_every = 500;
    c->max_attempts = 8;
    c->retry_base_seconds = 60;
    c->retry_max_seconds = 3600;
    c->once_per_sender_days = 4;
    c->max_per_sender_per_hour = 3;
    c->sla_hours = 24;
    c->warn_hours_before = 4;
    c->rate_warn = 0.90;
    c->run_batch = 500;
    c->alert_every_seconds = 300;
    c->backoff_max_seconds = 900;
    c->log_format = RP_LOG_LOGFMT;
    c->log_level = 2; /* RP_LOG_INFO */
    return c;
}

rp_status rp_config_parse(const char *data, size_t len, const char *name, const char *base_dir,
                          rp_config **out, rp_error *err)
{
    *out = NULL;
    rp_config *cfg = new_defaults();
    if (!cfg || !(cfg->path = rp_strdup(name)) ||
        !(cfg->base_dir = rp_strdup(base_dir ? base_dir : "."))) {
        rp_config_free(cfg);
        return rp_error_set(err, RP_ENOMEM, "out of memory");
    }
    const rp_embedded_file *def = rp_embedded_find("replyd.default.yaml");
    rp_status st = RP_OK;
    if (def)
        st = parse_into(cfg, (const char *)def->data, def->len, "(built-in)", NULL, err);
    if (st == RP_OK && data)
        st = parse_into(cfg, data, len, name, base_dir, err);
    if (st != RP_OK) {
        rp_config_free(cfg);
        return st;
    }
    *out = cfg;
    return RP_OK;
}

rp_status rp_config_load_default(rp_config **out, rp_error *err)
{
    return rp_config_parse(NULL, 0, "(built-in)", NULL, out, err);
}

rp_status rp_config_load_file(const char *path, rp_config **out, rp_error *err)
{
    char *data;
    size_t len;
    rp_status st = rp_read_file(path, 4u << 20, &data, &len, err);
    if (st != RP_OK)
        return st;
    char *base = rp_strdup(path);
    if (!base) {
        free(data);
        return rp_error_set(err, RP_ENOMEM, "out of memory");
    }
    char *slash = strrchr(base, '/');
    if (slash)
        *slash = '\0';
    else
        strcpy(base, ".");
    st = rp_config_parse(data, len, path, base, out, err);
    free(base);
    free(data);
    return st;
}
