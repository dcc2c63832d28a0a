#include "rp_lexicon.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "rp_yaml.h"

#include "rp_ac.h"
#include "rp_buf.h"
#include "rp_map.h"
#include "rp_text.h"

static const char *const intent_names[RP_INTENT_COUNT] = {
    "order_status",     "not_received",   "cancel_order",     "return_request",
    "refund_status",    "damaged_defective", "wrong_item",    "product_question",
    "invoice_request",  "address_change", "complaint_feedback", "thanks",
    "other"};

const char *rp_intent_name(rp_intent i)
{
    return (i >= 0 && i < RP_INTENT_COUNT) ? intent_names[i] : "other";
}

int rp_intent_from_name(const char *name)
{
    for (int i = 0; i < RP_INTENT_COUNT; i++)
        if (strcmp(name, intent_names[i]) == 0)
            return i;
    return -1;
}

typedef struct entry {
    char *surface;
    char *pattern; /* folded matching form */
    float weight;
    uint8_t lang, kind, intent;
    bool cjk;
    bool prefix;
    uint32_t seq;
} entry;

struct rp_lexicon {
    entry *e;
    size_t ne, cape;
    uint32_t seq;
    /* compiled */
    rp_keyword *kw;
    size_t nkw;
    uint32_t *pat_first; /* per pattern: first index into pat_kw */
    uint32_t *pat_count;
    uint32_t *pat_kw;
    rp_ac *ac;
};

rp_lexicon *rp_lexicon_new(void)
{
    return calloc(1, sizeof(rp_lexicon));
}

static void free_compiled(rp_lexicon *lx)
{
    free(lx->kw);
    free(lx->pat_first);
    free(lx->pat_count);
    free(lx->pat_kw);
    rp_ac_free(lx->ac);
    lx->kw = NULL;
    lx->pat_first = lx->pat_count = lx->pat_kw = NULL;
    lx->ac = NULL;
    lx->nkw = 0;
}

void rp_lexicon_free(rp_lexicon *lx)
{
    if (!lx)
        return;
    for (size_t i = 0; i < lx->ne; i++) {
        free(lx->e[i].surface);
        free(lx->e[i].pattern);
    }
    free(lx->e);
    free_compiled(lx);
    free(lx);
}

/* Fold a keyword into its matching pattern. */
static rp_status make_pattern(const char *kw, char **pattern, bool *cjk, bool *prefix)
{
    size_t len = strlen(kw);
    while (len && (kw[len - 1] == ' ' || kw[len - 1] == '\t'))
        len--;
    *prefix = len && kw[len - 1] == '*';
    if (*prefix)
        len--;
    if (!rp_utf8_valid(kw, len))
        return RP_EUTF8;
    rp_buf f = {0};
    rp_status st = rp_text_fold(kw, len, &f);
    if (st != RP_OK) {
        rp_buf_free(&f);
        return st;
    }
    /* punctuation inside a keyword is just a separator */
    size_t w = 0;
    for (size_t r = 0; r < f.len; r++) {
        if (f.data[r] == '\n') {
            r++; /* skip the space after it */
            continue;
        }
        f.data[w++] = f.data[r];
    }
    f.len = w;
    f.data[w] = '\0';
    *cjk = false;
    const unsigned char *p = (const unsigned char *)f.data;
    for (size_t i = 0; i < f.len;) {
        int32_t cp;
        i += rp_utf8_next(p + i, f.len - i, &cp);
        enum rp_script s = rp_script_of(cp);
        if (s == RP_SCRIPT_KANA || s == RP_SCRIPT_HAN)
            *cjk = true;
    }
    size_t s = 0, e = f.len;
    if (*cjk) {
        while (s < e && f.data[s] == ' ')
            s++;
        while (e > s && f.data[e - 1] == ' ')
            e--;
    } else if (*prefix && e > 1 && f.data[e - 1] == ' ') {
        e--;
    }
    bool letters = false;
    for (size_t i = s; i < e; i++)
        if (f.data[i] != ' ')
            letters = true;
    if (!letters) {
        rp_buf_free(&f);
        return RP_EEMPTY;
    }
    *pattern = rp_strndup(f.data + s, e - s);
    rp_buf_free(&f);
    return *pattern ? RP_OK : RP_ENOMEM;
}

rp_status rp_lexicon_add(rp_lexicon *lx, rp_lang lang, enum rp_kw_kind kind, rp_intent intent,
                         const char *keyword, double weight, rp_error *err)
{
    if (!isfinite(weight) || weight < -20 || weight > 20)
        return rp_error_set(err, RP_ECONFIG, "weight of \"%s\" must be between -20 and 20",
                            keyword);
    entry en = {0};
    rp_status st = make_pattern(keyword, &en.pattern, &en.cjk, &en.prefix);
    if (st == RP_EUTF8)
        return rp_error_set(err, RP_ECONFIG, "keyword is not valid UTF-8");
    if (st == RP_EEMPTY)
        return rp_error_set(err, RP_ECONFIG, "keyword \"%s\" has no letters or digits", keyword);
    if (st != RP_OK)
        return rp_error_set(err, st, "out of memory");
    en.surface = rp_strdup(keyword);
    if (!en.surface) {
        free(en.pattern);
        return rp_error_set(err, RP_ENOMEM, "out of memory");
    }
    size_t sl = strlen(en.surface);
    while (sl && (en.surface[sl - 1] == ' ' || en.surface[sl - 1] == '\t'))
        en.surface[--sl] = '\0';
    en.weight = (float)weight;
    en.lang = (uint8_t)lang;
    en.kind = (uint8_t)kind;
    en.intent = kind == RP_KW_INTENT ? (uint8_t)intent : 0;
    en.seq = lx->seq++;
    if (lx->ne == lx->cape) {
        size_t nc = lx->cape ? lx->cape * 2 : 256;
        entry *ne = realloc(lx->e, nc * sizeof *ne);
        if (!ne) {
            free(en.pattern);
            free(en.surface);
            return rp_error_set(err, RP_ENOMEM, "out of memory");
        }
        lx->e = ne;
        lx->cape = nc;
    }
    lx->e[lx->ne++] = en;
    return RP_OK;
}

/* ---- YAML loading ---- */

typedef struct yctx {
    yaml_document_t *doc;
    const char *name;
    rp_error *err;
} yctx;

static rp_status yerr(yctx *c, yaml_node_t *n, const char *msg, const char *detail)
{
    return rp_error_set(c->err, RP_ECONFIG, "%s:%zu:%zu: %s%s%s", c->name,
                        n ? n->start_mark.line + 1 : 0, n ? n->start_mark.column + 1 : 0, msg,
                        detail ? " " : "", detail ? detail : "");
}


static rp_status yweight(yctx *c, yaml_node_t *n, double *w)
{
    const char *s = rp_yaml_scalar(n);
    char *end;
    if (!s || !*s)
        return yerr(c, n, "weight must be a number", NULL);
    *w = strtod(s, &end);
    if (*end || !isfinite(*w))
        return yerr(c, n, "weight must be a number, not", s);
    return RP_OK;
}

static rp_status add_at(yctx *c, rp_lexicon *lx, yaml_node_t *at, rp_lang lang,
                        enum rp_kw_kind kind, rp_intent intent, const char *kw, double w)
{
    rp_error sub;
    rp_error_clear(&sub);
    rp_status st = rp_lexicon_add(lx, lang, kind, intent, kw, w, &sub);
    if (st != RP_OK)
        return yerr(c, at, sub.msg, NULL);
    return RP_OK;
}

/* A mapping keyword → weight, or a sequence of keywords (weight 1). */
static rp_status load_kwmap(yctx *c, rp_lexicon *lx, yaml_node_t *n, rp_lang lang,
                            enum rp_kw_kind kind, rp_intent intent)
{
    if (n->type == YAML_MAPPING_NODE) {
        for (yaml_node_pair_t *p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top;
             p++) {
            yaml_node_t *k = yaml_document_get_node(c->doc, p->key);
            yaml_node_t *v = yaml_document_get_node(c->doc, p->value);
            const char *ks = rp_yaml_scalar(k);
            if (!ks)
                return yerr(c, k, "keyword must be a string", NULL);
            double w = 0;
            rp_status st = yweight(c, v, &w);
            if (st == RP_OK)
                st = add_at(c, lx, k, lang, kind, intent, ks, w);
            if (st != RP_OK)
                return st;
        }
        return RP_OK;
    }
    if (n->type == YAML_SEQUENCE_NODE) {
        for (yaml_node_item_t *it = n->data.sequence.items.start; it < n->data.sequence.items.top;
             it++) {
            yaml_node_t *k = yaml_document_get_node(c->doc, *it);
            const char *ks = rp_yaml_scalar(k);
            if (!ks)
                return yerr(c, k, "keyword must be a string", NULL);
            rp_status st = add_at(c, lx, k, lang, kind, intent, ks, 1.0);
            if (st != RP_OK)
                return st;
        }
        return RP_OK;
    }
    if (n->type == YAML_SCALAR_NODE && rp_yaml_scalar(n)[0] == '\0')
        return RP_OK; /* empty value: nothing listed */
    return yerr(c, n, "expected a mapping of keyword: weight or a list of keywords", NULL);
}

static rp_status load_doc(yctx *c, rp_lexicon *lx, yaml_node_t *root)
{
    if (!root)
        return yerr(c, NULL, "empty document", NULL);
    if (root->type != YAML_MAPPING_NODE)
        return yerr(c, root, "a lexicon is a mapping with language, intents, negation, high_risk",
                    NULL);
    rp_lang lang = RP_LANG_UND;
    yaml_node_t *langnode = NULL;
    for (yaml_node_pair_t *p = root->data.mapping.pairs.start; p < root->data.mapping.pairs.top;
         p++) {
        yaml_node_t *k = yaml_document_get_node(c->doc, p->key);
        const char *ks = rp_yaml_scalar(k);
        if (ks && strcmp(ks, "language") == 0) {
            langnode = yaml_document_get_node(c->doc, p->value);
            const char *ls = rp_yaml_scalar(langnode);
            lang = ls ? rp_lang_from_code(ls) : RP_LANG_UND;
            if (lang == RP_LANG_UND)
                return yerr(c, langnode, "language must be one of en, de, fr, it, es, ja, not",
                            ls ? ls : "(non-scalar)");
        }
    }
    if (!langnode)
        return yerr(c, root, "missing 'language'", NULL);
    for (yaml_node_pair_t *p = root->data.mapping.pairs.start; p < root->data.mapping.pairs.top;
         p++) {
        yaml_node_t *k = yaml_document_get_node(c->doc, p->key);
        yaml_node_t *v = yaml_document_get_node(c->doc, p->value);
        const char *ks = rp_yaml_scalar(k);
        rp_status st = RP_OK;
        if (!ks)
            return yerr(c, k, "keys must be strings", NULL);
        if (strcmp(ks, "language") == 0)
            continue;
        if (strcmp(ks, "intents") == 0) {
            if (v->type == YAML_SCALAR_NODE && !*rp_yaml_scalar(v))
                continue;
            if (v->type != YAML_MAPPING_NODE)
                return yerr(c, v, "'intents' must map intent ids to keywords", NULL);
            for (yaml_node_pair_t *q = v->data.mapping.pairs.start;
                 q < v->data.mapping.pairs.top && st == RP_OK; q++) {
                yaml_node_t *ik = yaml_document_get_node(c->doc, q->key);
                const char *is = rp_yaml_scalar(ik);
                int intent = is ? rp_intent_from_name(is) : -1;
                if (intent < 0)
                    return yerr(c, ik, "unknown intent", is);
                st = load_kwmap(c, lx, yaml_document_get_node(c->doc, q->value), lang,
                                RP_KW_INTENT, (rp_intent)intent);
            }
        } else if (strcmp(ks, "negation") == 0) {
            if (v->type == YAML_SCALAR_NODE && !*rp_yaml_scalar(v))
                continue;
            if (v->type != YAML_MAPPING_NODE)
                return yerr(c, v, "'negation' must have 'before' and/or 'after' lists", NULL);
            for (yaml_node_pair_t *q = v->data.mapping.pairs.start;
                 q < v->data.mapping.pairs.top && st == RP_OK; q++) {
                yaml_node_t *nk = yaml_document_get_node(c->doc, q->key);
                const char *ns = rp_yaml_scalar(nk);
                enum rp_kw_kind kind;
                if (ns && strcmp(ns, "before") == 0)
                    kind = RP_KW_NEG_BEFORE;
                else if (ns && strcmp(ns, "after") == 0)
                    kind = RP_KW_NEG_AFTER;
                else
                    return yerr(c, nk, "negation keys are 'before' and 'after', not",
                                ns ? ns : "(non-scalar)");
                st = load_kwmap(c, lx, yaml_document_get_node(c->doc, q->value), lang, kind, 0);
            }
        } else if (strcmp(ks, "high_risk") == 0) {
            st = load_kwmap(c, lx, v, lang, RP_KW_RISK, 0);
        } else {
            return yerr(c, k, "unknown key", ks);
        }
        if (st != RP_OK)
            return st;
    }
    return RP_OK;
}

rp_status rp_lexicon_load_yaml(rp_lexicon *lx, const char *data, size_t len, const char *name,
                               rp_error *err)
{
    yaml_document_t doc;
    rp_status st = rp_yaml_load(data, len, name, &doc, err);
    if (st != RP_OK)
        return st;
    yctx c = {&doc, name, err};
    st = load_doc(&c, lx, yaml_document_get_root_node(&doc));
    yaml_document_delete(&doc);
    return st;
}

/* ---- compile ---- */

static int cmp_entry(const void *a, const void *b)
{
    const entry *x = a, *y = b;
    if (x->lang != y->lang)
        return x->lang - y->lang;
    if (x->kind != y->kind)
        return x->kind - y->kind;
    if (x->intent != y->intent)
        return x->intent - y->intent;
    int c = strcmp(x->pattern, y->pattern);
    if (c)
        return c;
    if (x->prefix != y->prefix)
        return x->prefix - y->prefix;
    return x->seq < y->seq ? -1 : x->seq > y->seq;
}

typedef struct pk {
    uint32_t pat, kw;
} pk;

static int cmp_pk(const void *a, const void *b)
{
    const pk *x = a, *y = b;
    if (x->pat != y->pat)
        return x->pat < y->pat ? -1 : 1;
    return x->kw < y->kw ? -1 : x->kw > y->kw;
}

/* German keywords also match ae/oe/ue spellings of ä/ö/ü. */
static char *umlaut_variant(const char *surface)
{
    rp_buf b = {0};
    bool changed = false;
    for (const char *s = surface; *s; s++) {
        unsigned char c0 = (unsigned char)s[0], c1 = (unsigned char)s[1];
        const char *rep = NULL;
        if (c0 == 0xC3 && c1) {
            switch (c1) {
            case 0xA4: case 0x84: rep = "ae"; break;
            case 0xB6: case 0x96: rep = "oe"; break;
            case 0xBC: case 0x9C: rep = "ue"; break;
            }
        }
        rp_status st;
        if (rep) {
            st = rp_buf_append_str(&b, rep);
            s++;
            changed = true;
        } else {
            st = rp_buf_append_char(&b, (char)c0);
        }
        if (st != RP_OK) {
            rp_buf_free(&b);
            return NULL;
        }
    }
    if (!changed) {
        rp_buf_free(&b);
        return NULL;
    }
    return rp_buf_steal(&b);
}

rp_status rp_lexicon_compile(rp_lexicon *lx, rp_error *err)
{
    free_compiled(lx);
    qsort(lx->e, lx->ne, sizeof *lx->e, cmp_entry);
    lx->kw = calloc(lx->ne ? lx->ne : 1, sizeof *lx->kw);
    size_t cap_pk = lx->ne * 2 + 1;
    pk *pks = malloc(cap_pk * sizeof *pks);
    rp_map pats = {0};
    rp_ac_builder *ab = rp_ac_builder_new();
    char **variants = calloc(lx->ne ? lx->ne : 1, sizeof *variants);
    size_t npk = 0, npat = 0;
    rp_status st = RP_ENOMEM;
    if (!lx->kw || !pks || !ab || !variants)
        goto fail;
    for (size_t i = 0; i < lx->ne; i++) {
        entry *e = &lx->e[i];
        /* a later entry with the same key overrides this one */
        if (i + 1 < lx->ne) {
            entry *n = &lx->e[i + 1];
            if (n->lang == e->lang && n->kind == e->kind && n->intent == e->intent &&
                n->prefix == e->prefix && strcmp(n->pattern, e->pattern) == 0)
                continue;
        }
        if (e->weight == 0)
            continue;
        uint32_t id = (uint32_t)lx->nkw++;
        lx->kw[id] = (rp_keyword){e->surface, e->weight, e->lang, e->kind, e->intent, e->cjk};
        char *forms[2] = {e->pattern, NULL};
        if (e->lang == RP_LANG_DE && !e->cjk) {
            char *v = umlaut_variant(e->surface);
            if (v) {
                char *vp = NULL;
                bool cjk, prefix;
                rp_status vs = make_pattern(v, &vp, &cjk, &prefix);
                free(v);
                if (vs == RP_ENOMEM)
                    goto fail;
                if (vs == RP_OK) {
                    variants[i] = vp;
                    forms[1] = vp;
                }
            }
        }
        for (int f = 0; f < 2 && forms[f]; f++) {
            uint32_t pidx = (uint32_t)npat;
            bool ins;
            if (rp_map_put(&pats, forms[f], strlen(forms[f]), &pidx, &ins) != RP_OK)
                goto fail;
            if (ins) {
                npat++;
                if (rp_ac_builder_add(ab, forms[f], strlen(forms[f]), pidx) != RP_OK)
                    goto fail;
            }
            pks[npk++] = (pk){pidx, id};
        }
    }
    qsort(pks, npk, sizeof *pks, cmp_pk);
    lx->pat_first = calloc(npat + 1, sizeof *lx->pat_first);
    lx->pat_count = calloc(npat + 1, sizeof *lx->pat_count);
    lx->pat_kw = malloc((npk + 1) * sizeof *lx->pat_kw);
    if (!lx->pat_first || !lx->pat_count || !lx->pat_kw)
        goto fail;
    size_t w = 0;
    for (size_t i = 0; i < npk; i++) {
        if (i > 0 && pks[i].pat == pks[i - 1].pat && pks[i].kw == pks[i - 1].kw)
            continue; /* a variant equal to the primary form */
        if (lx->pat_count[pks[i].pat] == 0)
            lx->pat_first[pks[i].pat] = (uint32_t)w;
        lx->pat_count[pks[i].pat]++;
        lx->pat_kw[w++] = pks[i].kw;
    }
    rp_status ast;
    lx->ac = rp_ac_build(ab, &ast);
    ab = NULL;
    if (!lx->ac) {
        st = ast;
        goto fail;
    }
    st = RP_OK;
fail:
    for (size_t i = 0; i < lx->ne; i++)
        free(variants[i]);
    free(variants);
    free(pks);
    rp_map_free(&pats);
    rp_ac_builder_free(ab);
    if (st != RP_OK) {
        free_compiled(lx);
        return rp_error_set(err, st, "compiling lexicon: %s", rp_strerror(st));
    }
    return RP_OK;
}

size_t rp_lexicon_size(const rp_lexicon *lx)
{
    return lx->nkw;
}

const rp_keyword *rp_lexicon_keyword(const rp_lexicon *lx, uint32_t id)
{
    return id < lx->nkw ? &lx->kw[id] : NULL;
}

typedef struct scan_ctx {
    const rp_lexicon *lx;
    rp_hits *hits;
    rp_status st;
} scan_ctx;

static int on_match(void *ud, uint32_t pat, size_t start, size_t end)
{
    scan_ctx *c = ud;
    uint32_t n = c->lx->pat_count[pat];
    const uint32_t *kws = c->lx->pat_kw + c->lx->pat_first[pat];
    if (c->hits->n + n > c->hits->cap) {
        size_t nc = c->hits->cap ? c->hits->cap * 2 : 64;
        while (nc < c->hits->n + n)
            nc *= 2;
        rp_hit *nv = realloc(c->hits->v, nc * sizeof *nv);
        if (!nv) {
            c->st = RP_ENOMEM;
            return 1;
        }
        c->hits->v = nv;
        c->hits->cap = nc;
    }
    for (uint32_t i = 0; i < n; i++)
        c->hits->v[c->hits->n++] = (rp_hit){kws[i], (uint32_t)start, (uint32_t)end};
    return 0;
}

rp_status rp_lexicon_scan(const rp_lexicon *lx, const char *folded, size_t len, rp_hits *hits)
{
    if (!lx->ac)
        return RP_EUSAGE;
    if (len > UINT32_MAX)
        len = UINT32_MAX;
    scan_ctx c = {lx, hits, RP_OK};
    rp_ac_scan(lx->ac, folded, len, on_match, &c);
    return c.st;
}

void rp_hits_free(rp_hits *h)
{
    free(h->v);
    h->v = NULL;
    h->n = h->cap = 0;
}
