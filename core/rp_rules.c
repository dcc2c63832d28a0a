/* rp_rules.c — rule records, rule sets and the one execution path. */
#include "rp_rules.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "rp_ac.h"
#include "rp_buf.h"
#include "rp_map.h"

/* ---- arena ------------------------------------------------------------------ */

struct rp_arena_chunk {
    rp_arena_chunk *next;
    size_t cap, used;
    _Alignas(8) unsigned char data[];
};

#define RP_ARENA_CHUNK 16384u

void *rp_arena_alloc(rp_arena *a, size_t n)
{
    n = (n + 7u) & ~(size_t)7u;
    if (n == 0)
        n = 8;
    rp_arena_chunk *c = a->cur;
    while (c && c->cap - c->used < n)
        c = c->next; /* chunks after cur are free again since the last reset */
    if (!c) {
        size_t cap = n > RP_ARENA_CHUNK ? n : RP_ARENA_CHUNK;
        c = malloc(sizeof *c + cap);
        if (!c)
            return NULL;
        c->cap = cap;
        c->used = 0;
        /* insert after cur so that reset can walk from head */
        if (a->cur) {
            c->next = a->cur->next;
            a->cur->next = c;
        } else {
            c->next = a->head;
            a->head = c;
        }
    }
    a->cur = c;
    void *p = c->data + c->used;
    c->used += n;
    return p;
}

char *rp_arena_strndup(rp_arena *a, const char *s, size_t n)
{
    char *p = rp_arena_alloc(a, n + 1);
    if (!p)
        return NULL;
    memcpy(p, s, n);
    p[n] = '\0';
    return p;
}

char *rp_arena_strdup(rp_arena *a, const char *s)
{
    return s ? rp_arena_strndup(a, s, strlen(s)) : NULL;
}

void rp_arena_reset(rp_arena *a)
{
    for (rp_arena_chunk *c = a->head; c; c = c->next)
        c->used = 0;
    a->cur = a->head;
}

void rp_arena_free(rp_arena *a)
{
    rp_arena_chunk *c = a->head;
    while (c) {
        rp_arena_chunk *n = c->next;
        free(c);
        c = n;
    }
    a->head = a->cur = NULL;
}

/* ---- names ---------------------------------------------------------------- */

static const char *const action_names[] = {"approve", "auto_send"};
static const char *const priority_names[] = {"low", "normal", "high", "urgent"};

const char *rp_action_name(rp_action a)
{
    return (unsigned)a < 2 ? action_names[a] : "?";
}

const char *rp_priority_name(rp_priority p)
{
    return (unsigned)p < 4 ? priority_names[p] : "?";
}

rp_status rp_action_parse(const char *s, rp_action *out)
{
    for (unsigned i = 0; s && i < 2; i++)
        if (strcmp(s, action_names[i]) == 0) {
            *out = (rp_action)i;
            return RP_OK;
        }
    return RP_EINVAL;
}

rp_status rp_priority_parse(const char *s, rp_priority *out)
{
    for (unsigned i = 0; s && i < 4; i++)
        if (strcmp(s, priority_names[i]) == 0) {
            *out = (rp_priority)i;
            return RP_OK;
        }
    return RP_EINVAL;
}

/* ---- rules ------------------------------------------------------------------ */

rp_rule *rp_rule_new(const char *name, int priority, const char *origin, rp_rule_eval_fn eval,
                     void *data, void (*free_data)(void *))
{
    rp_rule *r = calloc(1, sizeof *r);
    if (!r)
        return NULL;
    r->name = rp_strdup(name);
    r->origin = rp_strdup(origin ? origin : "");
    if (!r->name || !r->origin) {
        free(r->name);
        free(r->origin);
        free(r);
        return NULL;
    }
    r->priority = priority;
    r->eval = eval;
    r->data = data;
    r->free_data = free_data;
    return r;
}

void rp_rule_free(rp_rule *r)
{
    if (!r)
        return;
    if (r->free_data)
        r->free_data(r->data);
    free(r->name);
    free(r->origin);
    free(r);
}

struct rp_ruleset {
    rp_rule **rules;
    size_t n, cap;
    rp_map kw_ids;        /* keyword bytes -> id */
    rp_ac_builder *kw_b;  /* until finish */
    rp_ac *kw;            /* after finish, NULL when no rule has keywords */
    uint32_t nkw;
};

rp_ruleset *rp_ruleset_new(void)
{
    return calloc(1, sizeof(rp_ruleset));
}

void rp_ruleset_free(rp_ruleset *rs)
{
    if (!rs)
        return;
    for (size_t i = 0; i < rs->n; i++)
        rp_rule_free(rs->rules[i]);
    free(rs->rules);
    rp_map_free(&rs->kw_ids);
    rp_ac_builder_free(rs->kw_b);
    rp_ac_free(rs->kw);
    free(rs);
}

rp_status rp_ruleset_keyword(rp_ruleset *rs, const char *bytes, size_t len, uint32_t *id)
{
    if (len == 0)
        return RP_EINVAL;
    if (rs->kw)
        return RP_EINVAL; /* finished */
    if (!rs->kw_b && !(rs->kw_b = rp_ac_builder_new()))
        return RP_ENOMEM;
    uint32_t v = rs->nkw;
    bool inserted = false;
    rp_status st = rp_map_put(&rs->kw_ids, bytes, len, &v, &inserted);
    if (st != RP_OK)
        return st;
    if (inserted) {
        if ((st = rp_ac_builder_add(rs->kw_b, bytes, len, v)) != RP_OK)
            return st;
        rs->nkw++;
    }
    *id = v;
    return RP_OK;
}

rp_rule *rp_ruleset_find(const rp_ruleset *rs, const char *name)
{
    for (size_t i = 0; i < rs->n; i++)
        if (strcmp(rs->rules[i]->name, name) == 0)
            return rs->rules[i];
    return NULL;
}

rp_status rp_ruleset_add(rp_ruleset *rs, rp_rule *r, rp_error *err)
{
    const rp_rule *dup = rp_ruleset_find(rs, r->name);
    if (dup) {
        rp_status st = rp_error_set(err, RP_ECONFIG, "%s: rule '%s' is already defined at %s",
                                    r->origin, r->name, dup->origin);
        rp_rule_free(r);
        return st;
    }
    if (rs->n == rs->cap) {
        size_t cap = rs->cap ? rs->cap * 2 : 16;
        rp_rule **p = realloc(rs->rules, cap * sizeof *p);
        if (!p) {
            rp_rule_free(r);
            return rp_error_set(err, RP_ENOMEM, "out of memory");
        }
        rs->rules = p;
        rs->cap = cap;
    }
    rs->rules[rs->n++] = r;
    return RP_OK;
}

rp_status rp_ruleset_finish(rp_ruleset *rs)
{
    /* stable insertion sort: rule sets are small and load order breaks ties */
    for (size_t i = 1; i < rs->n; i++) {
        rp_rule *r = rs->rules[i];
        size_t j = i;
        while (j > 0 && rs->rules[j - 1]->priority < r->priority) {
            rs->rules[j] = rs->rules[j - 1];
            j--;
        }
        rs->rules[j] = r;
    }
    if (rs->kw_b && !rs->kw) {
        rp_status st = RP_OK;
        rs->kw = rp_ac_build(rs->kw_b, &st); /* consumes the builder */
        rs->kw_b = NULL;
        if (!rs->kw)
            return st;
    }
    return RP_OK;
}

static int on_kw(void *ud, uint32_t value, size_t start, size_t end)
{
    (void)start;
    (void)end;
    unsigned char *bits = ud;
    bits[value >> 3] |= (unsigned char)(1u << (value & 7));
    return 0;
}

size_t rp_ruleset_count(const rp_ruleset *rs)
{
    return rs->n;
}

rp_rule *rp_ruleset_get(const rp_ruleset *rs, size_t i)
{
    return i < rs->n ? rs->rules[i] : NULL;
}

rp_status rp_ruleset_run(const rp_ruleset *rs, const rp_rule_input *in, rp_arena *arena,
                         rp_rule_result *res)
{
    res->nmatches = 0;
    res->nfailures = 0;
    rp_rule_input local = *in;
    local.kw_hits = NULL;
    if (rs->kw) {
        unsigned char *bits = rp_arena_alloc(arena, (rs->nkw + 7) / 8);
        if (!bits)
            return RP_ENOMEM;
        memset(bits, 0, (rs->nkw + 7) / 8);
        if (in->folded_body)
            rp_ac_scan(rs->kw, in->folded_body, in->folded_len, on_kw, bits);
        local.kw_hits = bits;
    }
    in = &local;
    for (size_t i = 0; i < rs->n; i++) {
        rp_rule *r = rs->rules[i];
        rp_outcome out;
        memset(&out, 0, sizeof out);
        bool matched = false;
        rp_error err;
        rp_error_clear(&err);
        rp_status st = r->eval(r, in, arena, &out, &matched, &err);
        if (st == RP_ENOMEM)
            return st;
        if (st != RP_OK) {
            if (res->nfailures < RP_MAX_RULE_ERRORS) {
                rp_rule_failure *f = &res->failures[res->nfailures++];
                f->rule = r;
                f->reason = rp_arena_strdup(arena, err.msg[0] ? err.msg : rp_strerror(st));
                if (!f->reason)
                    return RP_ENOMEM;
            }
            continue;
        }
        if (!matched)
            continue;
        if (res->nmatches < RP_MAX_MATCHES) {
            res->matches[res->nmatches].rule = r;
            res->matches[res->nmatches].outcome = out;
            res->nmatches++;
        } else if (res->nfailures < RP_MAX_RULE_ERRORS) {
            /* never dropped silently: reported like a failure, so the message
             * goes to a human */
            rp_rule_failure *f = &res->failures[res->nfailures++];
            f->rule = r;
            f->reason = "more rules matched than one decision holds (16); this one was not applied";
        }
        if (!out.cont)
            break;
    }
    return RP_OK;
}
