#include "rp_classify.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "rp_text.h"

/* A concrete problem at least this share of a complaint's score is the
 * message's primary need. */
#define COMPLAINT_YIELD 0.5

struct rp_classifier {
    rp_lexicon *lx;
    rp_langid *li;
    rp_classifier_opts o;
};

/* Ties go to the intent that costs the seller most when missed. */
static const rp_intent tie_order[RP_INTENT_COUNT] = {
    RP_INTENT_COMPLAINT_FEEDBACK, RP_INTENT_NOT_RECEIVED,  RP_INTENT_DAMAGED_DEFECTIVE,
    RP_INTENT_WRONG_ITEM,         RP_INTENT_REFUND_STATUS, RP_INTENT_RETURN_REQUEST,
    RP_INTENT_CANCEL_ORDER,       RP_INTENT_ADDRESS_CHANGE, RP_INTENT_INVOICE_REQUEST,
    RP_INTENT_ORDER_STATUS,       RP_INTENT_PRODUCT_QUESTION, RP_INTENT_THANKS,
    RP_INTENT_OTHER};

void rp_classifier_opts_default(rp_classifier_opts *o)
{
    o->min_score = 1.0;
    o->subject_weight = 0.5;
    o->negation_window = 3;
}

rp_classifier *rp_classifier_new(rp_lexicon *lx, rp_langid *li, const rp_classifier_opts *o)
{
    rp_classifier *c = calloc(1, sizeof *c);
    if (!c) {
        rp_lexicon_free(lx);
        rp_langid_free(li);
        return NULL;
    }
    c->lx = lx;
    c->li = li;
    if (o)
        c->o = *o;
    else
        rp_classifier_opts_default(&c->o);
    return c;
}

void rp_classifier_free(rp_classifier *c)
{
    if (!c)
        return;
    rp_lexicon_free(c->lx);
    rp_langid_free(c->li);
    free(c);
}

const rp_lexicon *rp_classifier_lexicon(const rp_classifier *c)
{
    return c->lx;
}

void rp_classify_ctx_free(rp_classify_ctx *ctx)
{
    rp_buf_free(&ctx->fold_body);
    rp_buf_free(&ctx->fold_subject);
    rp_hits_free(&ctx->hits_body);
    rp_hits_free(&ctx->hits_subject);
    free(ctx->seen);
    memset(ctx, 0, sizeof *ctx);
}

/* Length of s, at most max bytes, cut at a character boundary. */
static size_t capped(const char *s, size_t max)
{
    if (!s)
        return 0;
    size_t n = strnlen(s, max + 1);
    if (n <= max)
        return n;
    n = max;
    while (n && ((unsigned char)s[n] & 0xC0) == 0x80)
        n--;
    return n;
}

static size_t count_tokens(const char *s, size_t len, size_t stop_at)
{
    size_t n = 0;
    for (size_t i = 1; i < len && n < stop_at; i++)
        if (s[i] == ' ' && s[i - 1] != ' ')
            n++;
    return n;
}

/* Is hit h negated by a cue among hits? */
/* cues[] holds the indexes of the negation cues among hits. */
static bool negated(const rp_classifier *c, const rp_hits *hits, size_t hi, const uint32_t *cues,
                    size_t ncues, const char *text, size_t len)
{
    const rp_hit *h = &hits->v[hi];
    const rp_keyword *k = rp_lexicon_keyword(c->lx, h->kw);
    for (size_t ci = 0; ci < ncues; ci++) {
        const rp_hit *q = &hits->v[cues[ci]];
        const rp_keyword *cue = rp_lexicon_keyword(c->lx, q->kw);
        if (cue->lang != k->lang)
            continue;
        /* a cue inside the keyword ("not received") or overlapping it is part of it */
        bool overlap = q->start < h->end && h->start < q->end;
        if (cue->kind == RP_KW_NEG_BEFORE) {
            if (overlap || q->end > h->start + 1)
                continue;
            size_t cwe = q->end ? q->end - 1 : 0;
            while (cwe < len && text[cwe] != ' ')
                cwe++;
            size_t words = 0;
            bool clause_end = false;
            for (size_t p = cwe + 1; p <= h->start && p < len; p++) {
                if (text[p] == ' ')
                    words++;
                else if (text[p] == '\n')
                    clause_end = true;
            }
            if (clause_end)
                continue;
            if (cwe <= h->start && (int)words <= c->o.negation_window)
                return true;
        } else if (cue->kind == RP_KW_NEG_AFTER) {
            if (overlap || q->start < h->end)
                continue;
            if (q->start - h->end <= 12 && /* about four kana */
                !memchr(text + h->end, '\n', q->start - h->end))
                return true;
        }
    }
    return false;
}

typedef struct contrib {
    uint32_t kw;
    float w;
} contrib;

static void score_hits(const rp_classifier *c, rp_classify_ctx *ctx, const rp_hits *hits,
                       const char *text, size_t len, rp_lang lang, double factor, double *scores,
                       double *risk, contrib *con, size_t *ncon, size_t maxcon)
{
    uint32_t cues[64];
    size_t ncues = 0;
    for (size_t i = 0; i < hits->n && ncues < 64; i++) {
        uint8_t kind = rp_lexicon_keyword(c->lx, hits->v[i].kw)->kind;
        if (kind == RP_KW_NEG_BEFORE || kind == RP_KW_NEG_AFTER)
            cues[ncues++] = (uint32_t)i;
    }
    for (size_t i = 0; i < hits->n; i++) {
        const rp_hit *h = &hits->v[i];
        const rp_keyword *k = rp_lexicon_keyword(c->lx, h->kw);
        if (k->kind == RP_KW_NEG_BEFORE || k->kind == RP_KW_NEG_AFTER)
            continue;
        if (k->kind == RP_KW_INTENT && lang != RP_LANG_UND && k->lang != lang)
            continue;
        /* threats are cued in the buyer's language, or in English loanwords
         * ("chargeback", "A-to-z") that every marketplace uses */
        if (k->kind == RP_KW_RISK && lang != RP_LANG_UND && k->lang != lang &&
            k->lang != RP_LANG_EN)
            continue;
        if (ctx->seen[h->kw])
            continue;
        if (ncues && negated(c, hits, i, cues, ncues, text, len))
            continue;
        ctx->seen[h->kw] = 1;
        if (k->kind == RP_KW_RISK) {
            *risk += k->weight * factor;
        } else {
            scores[k->intent] += k->weight * factor;
        }
        if (*ncon < maxcon)
            con[(*ncon)++] = (contrib){h->kw, (float)(k->weight * factor)};
    }
}

/* Reset the flags score_hits set, touching only the keywords it saw. */
static void clear_seen(rp_classify_ctx *ctx, const rp_hits *hits)
{
    for (size_t i = 0; i < hits->n; i++)
        ctx->seen[hits->v[i].kw] = 0;
}

static int cmp_contrib(const void *a, const void *b)
{
    const contrib *x = a, *y = b;
    return (x->w < y->w) - (x->w > y->w);
}

rp_status rp_classify_text(const rp_classifier *c, rp_classify_ctx *ctx, const char *subject,
                           const char *body, const char *marketplace, rp_classification *out)
{
    memset(out, 0, sizeof *out);
    rp_buf_reset(&ctx->fold_body);
    rp_buf_reset(&ctx->fold_subject);
    ctx->hits_body.n = 0;
    ctx->hits_subject.n = 0;
    size_t nkw = rp_lexicon_size(c->lx);
    if (ctx->seen_cap < nkw + 1) {
        /* per-keyword flags, all zero between calls (clear_seen) */
        unsigned char *s = calloc(nkw + 1, 1);
        if (!s)
            return RP_ENOMEM;
        free(ctx->seen);
        ctx->seen = s;
        ctx->seen_cap = nkw + 1;
    }
    rp_status st = rp_text_fold(body ? body : "", capped(body, RP_CLASSIFY_MAX_BODY),
                                &ctx->fold_body);
    if (st == RP_OK && subject)
        st = rp_text_fold(subject, capped(subject, RP_CLASSIFY_MAX_SUBJECT), &ctx->fold_subject);
    if (st != RP_OK)
        return st;
    const char *fb = ctx->fold_body.data;
    size_t fbl = ctx->fold_body.len;
    const char *fs = ctx->fold_subject.data ? ctx->fold_subject.data : " ";
    size_t fsl = ctx->fold_subject.data ? ctx->fold_subject.len : 1;

    rp_lang prior = rp_lang_of_marketplace(marketplace);
    rp_langid_result lr = rp_langid_detect(c->li, fb, fbl, prior);
    if (lr.lang == RP_LANG_UND || count_tokens(fb, fbl, 4) < 4) {
        /* very short body: let the subject help */
        rp_buf both = {0};
        if (rp_buf_append(&both, fs, fsl) == RP_OK && rp_buf_append(&both, fb, fbl) == RP_OK) {
            rp_langid_result l2 = rp_langid_detect(c->li, both.data, both.len, prior);
            if (l2.lang != RP_LANG_UND)
                lr = l2;
        }
        rp_buf_free(&both);
    }
    out->language = lr.lang;
    out->language_confidence = lr.confidence;

    if ((st = rp_lexicon_scan(c->lx, fb, fbl, &ctx->hits_body)) != RP_OK ||
        (st = rp_lexicon_scan(c->lx, fs, fsl, &ctx->hits_subject)) != RP_OK)
        return st;

    contrib con[64];
    size_t ncon = 0;
    double risk = 0;
    for (int pass = 0; pass < 2; pass++) {
        /* pass 0: the detected language; pass 1 (only if nothing decided
         * and the language is uncertain): every language at half weight */
        rp_lang lang = pass == 0 ? lr.lang : RP_LANG_UND;
        double f = pass == 0 ? 1.0 : 0.5;
        memset(out->scores, 0, sizeof out->scores);
        ncon = 0;
        risk = 0;
        score_hits(c, ctx, &ctx->hits_body, fb, fbl, lang, f, out->scores, &risk, con, &ncon, 64);
        clear_seen(ctx, &ctx->hits_body);
        score_hits(c, ctx, &ctx->hits_subject, fs, fsl, lang, f * c->o.subject_weight,
                   out->scores, &risk, con, &ncon, 64);
        clear_seen(ctx, &ctx->hits_subject);
        double best = 0;
        for (int i = 0; i < RP_INTENT_COUNT; i++)
            if (out->scores[i] > best)
                best = out->scores[i];
        /* the other languages' keywords are only a fallback when the
         * language itself is in doubt: common words differ in meaning from
         * one language to the next (German "Delle" is a dent, Italian
         * "delle" means "of the") */
        if (best >= c->o.min_score || lr.lang == RP_LANG_UND || lr.confidence >= 0.9)
            break;
    }

    rp_intent win = RP_INTENT_OTHER;
    double s1 = 0, s2 = 0;
    for (int t = 0; t < RP_INTENT_COUNT; t++) {
        rp_intent i = tie_order[t];
        double s = out->scores[i];
        if (s > s1) {
            s2 = s1;
            s1 = s;
            win = i;
        } else if (s > s2) {
            s2 = s;
        }
    }
    /* The label is the buyer's primary need: a threat or an angry tone on top
     * of a concrete problem (broken, wrong, late, refund…) is that problem,
     * flagged high-risk by its cues, not a bare complaint. */
    if (win == RP_INTENT_COMPLAINT_FEEDBACK) {
        rp_intent concrete = RP_INTENT_OTHER;
        double cs = 0;
        for (int t = 0; t < RP_INTENT_COUNT; t++) {
            rp_intent i = tie_order[t];
            if (i == RP_INTENT_COMPLAINT_FEEDBACK || i == RP_INTENT_OTHER ||
                i == RP_INTENT_THANKS || i == RP_INTENT_PRODUCT_QUESTION)
                continue;
            if (out->scores[i] > cs) {
                cs = out->scores[i];
                concrete = i;
            }
        }
        if (concrete != RP_INTENT_OTHER && cs >= 3.0 && cs >= COMPLAINT_YIELD * s1) {
            s2 = s1;
            s1 = cs;
            win = concrete;
        }
    }
    if (s1 < c->o.min_score) {
        win = RP_INTENT_OTHER;
        out->confidence = 0.5 * (1.0 - s1 / c->o.min_score) + 0.2;
    } else {
        out->confidence = (s1 / (s1 + s2)) * (1.0 - exp(-s1 / 2.0));
    }
    out->intent = win;
    out->high_risk = win == RP_INTENT_COMPLAINT_FEEDBACK || win == RP_INTENT_NOT_RECEIVED ||
                     risk >= 1.0;

    /* report what decided: the winning intent's positive keywords, then risk
     * cues; each spelling once */
    qsort(con, ncon, sizeof *con, cmp_contrib);
    for (int phase = 0; phase < 2; phase++) {
        if (phase == 1 && !out->high_risk)
            break;
        for (size_t i = 0; i < ncon && out->nkeywords < RP_MAX_DECIDING; i++) {
            const rp_keyword *k = rp_lexicon_keyword(c->lx, con[i].kw);
            bool take = phase == 0 ? (k->kind == RP_KW_INTENT && k->intent == win &&
                                      s1 >= c->o.min_score && con[i].w > 0)
                                   : k->kind == RP_KW_RISK;
            for (size_t j = 0; take && j < out->nkeywords; j++)
                if (strcmp(rp_lexicon_keyword(c->lx, out->keywords[j])->surface, k->surface) == 0)
                    take = false;
            if (take)
                out->keywords[out->nkeywords++] = con[i].kw;
        }
    }
    return RP_OK;
}
