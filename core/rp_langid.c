#include "rp_langid.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "rp_buf.h"
#include "rp_map.h"
#include "rp_text.h"

#define NL RP_LATIN_LANGS
#define LIST_MASS 0.7   /* share of probability given to listed words */
#define ALPHABET 32.0   /* smoothing: size of the character alphabet */
#define TRI_K 0.1       /* add-k smoothing of the trigram model */
#define MAX_TOKENS 80   /* tokens examined per message */
#define PRIOR_BONUS 1.5 /* nats added to the marketplace's language */
#define SCRIPT_SAMPLE 4096 /* bytes looked at to tell scripts apart */
#define EARLY_MARGIN 25.0 /* nats of lead after which more words cannot matter */
#define BOS '\x01'
#define EOS '\x02'

typedef struct { float lp[NL]; } lpvec;

struct rp_langid {
    /* raw counts while loading */
    rp_map words;   /* word → index into wcount */
    double (*wcount)[NL];
    size_t nwords, capwords;
    double total[NL];
    rp_map tri;     /* 3-byte key → index into tcount */
    double (*tcount)[NL];
    size_t ntri, captri;
    rp_map bi;      /* 2-byte context → index into bcount */
    double (*bcount)[NL];
    size_t nbi, capbi;
    /* finished model */
    lpvec *wscore;  /* per word: log P(w|l) */
    lpvec *tscore;  /* per trigram: log P(c3|c1c2, l) */
    lpvec *bunseen; /* per context: log P(unseen c3|c1c2, l) */
    float oov_unseen[NL];
    int finished;
};

static const char *const codes[RP_LANG_COUNT] = {"und", "en", "de", "fr", "it", "es", "ja"};

const char *rp_lang_code(rp_lang l)
{
    return (l >= 0 && l < RP_LANG_COUNT) ? codes[l] : "und";
}

rp_lang rp_lang_from_code(const char *code)
{
    for (int i = 1; i < RP_LANG_COUNT; i++)
        if (code && strcasecmp(code, codes[i]) == 0)
            return (rp_lang)i;
    return RP_LANG_UND;
}

rp_lang rp_lang_of_marketplace(const char *mp)
{
    if (!mp)
        return RP_LANG_UND;
    const char *dot = strrchr(mp, '.');
    if (!dot)
        return RP_LANG_UND;
    const char *tld = dot + 1;
    if (strcasecmp(tld, "de") == 0 || strcasecmp(tld, "at") == 0)
        return RP_LANG_DE;
    if (strcasecmp(tld, "fr") == 0)
        return RP_LANG_FR;
    if (strcasecmp(tld, "it") == 0)
        return RP_LANG_IT;
    if (strcasecmp(tld, "es") == 0 || strcasecmp(tld, "mx") == 0)
        return RP_LANG_ES;
    if (strcasecmp(tld, "jp") == 0)
        return RP_LANG_JA;
    if (strcasecmp(tld, "com") == 0 || strcasecmp(tld, "uk") == 0 || strcasecmp(tld, "ca") == 0 ||
        strcasecmp(tld, "au") == 0 || strcasecmp(tld, "ie") == 0 || strcasecmp(tld, "in") == 0 ||
        strcasecmp(tld, "sg") == 0)
        return RP_LANG_EN;
    return RP_LANG_UND;
}

rp_langid *rp_langid_new(void)
{
    return calloc(1, sizeof(rp_langid));
}

void rp_langid_free(rp_langid *m)
{
    if (!m)
        return;
    rp_map_free(&m->words);
    rp_map_free(&m->tri);
    rp_map_free(&m->bi);
    free(m->wcount);
    free(m->tcount);
    free(m->bcount);
    free(m->wscore);
    free(m->tscore);
    free(m->bunseen);
    free(m);
}

/* Find or add key in map, growing the parallel counts array. */
static rp_status slot(rp_map *map, double (**arr)[NL], size_t *n, size_t *cap, const char *key,
                      size_t len, uint32_t *idx)
{
    uint32_t v = (uint32_t)*n;
    bool ins;
    rp_status st = rp_map_put(map, key, len, &v, &ins);
    if (st != RP_OK)
        return st;
    if (ins) {
        if (*n == *cap) {
            size_t nc = *cap ? *cap * 2 : 1024;
            double (*na)[NL] = realloc(*arr, nc * sizeof **arr);
            if (!na)
                return RP_ENOMEM;
            *arr = na;
            *cap = nc;
        }
        memset((*arr)[*n], 0, sizeof **arr);
        (*n)++;
    }
    *idx = v;
    return RP_OK;
}

/* "^^word$" for the trigram model into buf; returns its length, 0 if the word
 * is too long to model. */
static size_t pad_word(const char *w, size_t wl, char *buf, size_t size)
{
    if (wl + 3 > size)
        return 0;
    buf[0] = BOS;
    buf[1] = BOS;
    memcpy(buf + 2, w, wl);
    buf[wl + 2] = EOS;
    return wl + 3;
}

static rp_status add_token(rp_langid *m, int li, const char *w, size_t wl, double count)
{
    uint32_t idx;
    rp_status st = slot(&m->words, &m->wcount, &m->nwords, &m->capwords, w, wl, &idx);
    if (st != RP_OK)
        return st;
    m->wcount[idx][li] += count;
    m->total[li] += count;
    /* character trigrams of ^^word$, weighted by log frequency so that the
     * model describes words rather than a handful of function words */
    double tw = log1p(count);
    char padded[256];
    size_t pl = pad_word(w, wl, padded, sizeof padded);
    if (!pl)
        return RP_OK;
    for (size_t i = 0; i + 3 <= pl; i++) {
        st = slot(&m->tri, &m->tcount, &m->ntri, &m->captri, padded + i, 3, &idx);
        if (st != RP_OK)
            return st;
        m->tcount[idx][li] += tw;
        st = slot(&m->bi, &m->bcount, &m->nbi, &m->capbi, padded + i, 2, &idx);
        if (st != RP_OK)
            return st;
        m->bcount[idx][li] += tw;
    }
    return RP_OK;
}

rp_status rp_langid_add_list(rp_langid *m, rp_lang lang, const char *data, size_t len,
                             const char *name, rp_error *err)
{
    if (lang < RP_LANG_EN || lang > RP_LANG_ES)
        return rp_error_set(err, RP_EUSAGE, "%s: language %s has no word list model", name,
                            rp_lang_code(lang));
    if (m->finished)
        return rp_error_set(err, RP_EUSAGE, "%s: model already finished", name);
    int li = lang - RP_LANG_EN;
    rp_buf fold = {0};
    size_t lineno = 0;
    const char *p = data, *end = data + len;
    rp_status st = RP_OK;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *le = nl ? nl : end;
        lineno++;
        const char *line = p;
        p = nl ? nl + 1 : end;
        size_t ll = (size_t)(le - line);
        if (ll && line[ll - 1] == '\r')
            ll--;
        if (ll == 0 || line[0] == '#')
            continue;
        const char *tab = memchr(line, '\t', ll);
        if (!tab) {
            st = rp_error_set(err, RP_ECONFIG, "%s:%zu: expected word<TAB>count", name, lineno);
            break;
        }
        char num[32];
        size_t nlen = (size_t)(line + ll - tab - 1);
        if (nlen == 0 || nlen >= sizeof num) {
            st = rp_error_set(err, RP_ECONFIG, "%s:%zu: bad count", name, lineno);
            break;
        }
        memcpy(num, tab + 1, nlen);
        num[nlen] = '\0';
        char *ep;
        double count = strtod(num, &ep);
        if (*ep || !(count > 0) || !isfinite(count)) {
            st = rp_error_set(err, RP_ECONFIG, "%s:%zu: count must be a positive number", name,
                              lineno);
            break;
        }
        if (!rp_utf8_valid(line, (size_t)(tab - line))) {
            st = rp_error_set(err, RP_ECONFIG, "%s:%zu: word is not valid UTF-8", name, lineno);
            break;
        }
        rp_buf_reset(&fold);
        st = rp_text_fold(line, (size_t)(tab - line), &fold);
        if (st != RP_OK)
            break;
        /* a listed form may fold into several tokens ("l'") */
        const char *t = fold.data, *te = fold.data + fold.len;
        while (t < te && st == RP_OK) {
            while (t < te && *t == ' ')
                t++;
            const char *ws = t;
            while (t < te && *t != ' ')
                t++;
            if (t > ws)
                st = add_token(m, li, ws, (size_t)(t - ws), count);
        }
        if (st != RP_OK)
            break;
    }
    rp_buf_free(&fold);
    if (st == RP_ENOMEM)
        rp_error_set(err, st, "%s: out of memory", name);
    return st;
}

/* log P(w|l) under the character trigram model, using finished tables. */
static void char_model(const rp_langid *m, const char *w, size_t wl, double out[NL])
{
    char padded[256];
    for (int l = 0; l < NL; l++)
        out[l] = 0;
    size_t pl = pad_word(w, wl, padded, sizeof padded);
    if (!pl) {
        for (int l = 0; l < NL; l++)
            out[l] = (double)m->oov_unseen[l] * 20;
        return;
    }
    for (size_t i = 0; i + 3 <= pl; i++) {
        uint32_t idx;
        if (rp_map_get(&m->tri, padded + i, 3, &idx)) {
            for (int l = 0; l < NL; l++)
                out[l] += m->tscore[idx].lp[l];
        } else if (rp_map_get(&m->bi, padded + i, 2, &idx)) {
            for (int l = 0; l < NL; l++)
                out[l] += m->bunseen[idx].lp[l];
        } else {
            for (int l = 0; l < NL; l++)
                out[l] += m->oov_unseen[l];
        }
    }
}

rp_status rp_langid_finish(rp_langid *m, rp_error *err)
{
    for (int l = 0; l < NL; l++)
        if (m->total[l] <= 0)
            return rp_error_set(err, RP_ECONFIG, "language model: no word list for %s",
                                rp_lang_code((rp_lang)(RP_LANG_EN + l)));
    m->tscore = malloc((m->ntri ? m->ntri : 1) * sizeof *m->tscore);
    m->bunseen = malloc((m->nbi ? m->nbi : 1) * sizeof *m->bunseen);
    m->wscore = malloc((m->nwords ? m->nwords : 1) * sizeof *m->wscore);
    if (!m->tscore || !m->bunseen || !m->wscore)
        return rp_error_set(err, RP_ENOMEM, "language model: out of memory");
    for (int l = 0; l < NL; l++)
        m->oov_unseen[l] = (float)log(1.0 / ALPHABET);
    for (size_t i = 0; i < m->nbi; i++)
        for (int l = 0; l < NL; l++)
            m->bunseen[i].lp[l] = (float)log(TRI_K / (m->bcount[i][l] + TRI_K * ALPHABET));
    /* trigram conditional probabilities need their context's count; the
     * map's arena holds the 3-byte keys in insertion order */
    const char *ta = m->tri.arena;
    for (size_t off = 0; off < m->tri.arena_len; off += 4) { /* 3 key bytes + NUL */
        uint32_t ti, bi;
        if (!rp_map_get(&m->tri, ta + off, 3, &ti) || !rp_map_get(&m->bi, ta + off, 2, &bi))
            return rp_error_set(err, RP_ECONFIG, "language model: inconsistent tables");
        for (int l = 0; l < NL; l++)
            m->tscore[ti].lp[l] =
                (float)log((m->tcount[ti][l] + TRI_K) / (m->bcount[bi][l] + TRI_K * ALPHABET));
    }
    /* listed words: mixture of list frequency and character model */
    const char *a = m->words.arena;
    size_t off = 0;
    while (off < m->words.arena_len) {
        size_t wl = strlen(a + off);
        uint32_t wi;
        if (!rp_map_get(&m->words, a + off, wl, &wi))
            return rp_error_set(err, RP_ECONFIG, "language model: inconsistent tables");
        double cm[NL];
        char_model(m, a + off, wl, cm);
        for (int l = 0; l < NL; l++) {
            double p = LIST_MASS * m->wcount[wi][l] / m->total[l] + (1 - LIST_MASS) * exp(cm[l]);
            m->wscore[wi].lp[l] = (float)log(p);
        }
        off += wl + 1;
    }
    free(m->wcount);
    free(m->tcount);
    free(m->bcount);
    m->wcount = NULL;
    m->tcount = NULL;
    m->bcount = NULL;
    m->finished = 1;
    return RP_OK;
}

rp_langid_result rp_langid_detect(const rp_langid *m, const char *text, size_t len, rp_lang prior)
{
    rp_langid_result r = {RP_LANG_UND, 0.0};
    size_t kana = 0, han = 0, latin = 0;
    const unsigned char *p = (const unsigned char *)text;
    size_t script_len = len < SCRIPT_SAMPLE ? len : SCRIPT_SAMPLE;
    for (size_t i = 0; i < script_len;) {
        if (p[i] < 0x80) {
            if (p[i] >= 'a' && p[i] <= 'z')
                latin++;
            i++;
            continue;
        }
        int32_t cp;
        i += rp_utf8_next(p + i, script_len - i, &cp);
        switch (rp_script_of(cp)) {
        case RP_SCRIPT_KANA: kana++; break;
        case RP_SCRIPT_HAN: han++; break;
        case RP_SCRIPT_LATIN: latin++; break;
        default: break;
        }
    }
    size_t cjk = kana + han;
    if (cjk && (kana > 0 || prior == RP_LANG_JA) && cjk * 4 >= latin) {
        r.lang = RP_LANG_JA;
        r.confidence = kana ? 0.99 : 0.7;
        return r;
    }
    if (latin == 0 || !m || !m->finished)
        return r;

    double score[NL] = {0};
    size_t ntok = 0;
    const char *t = text, *te = text + len;
    while (t < te && ntok < MAX_TOKENS) {
        while (t < te && *t == ' ')
            t++;
        const char *ws = t;
        bool has_letter = false;
        while (t < te && *t != ' ') {
            if ((unsigned char)*t >= 'a' || (unsigned char)*t >= 0x80)
                has_letter = true;
            t++;
        }
        if (t == ws || !has_letter)
            continue;
        size_t wl = (size_t)(t - ws);
        uint32_t wi;
        if (rp_map_get(&m->words, ws, wl, &wi)) {
            for (int l = 0; l < NL; l++)
                score[l] += m->wscore[wi].lp[l];
        } else {
            double cm[NL];
            char_model(m, ws, wl, cm);
            for (int l = 0; l < NL; l++)
                score[l] += log(1 - LIST_MASS) + cm[l];
        }
        ntok++;
        /* stop early once one language is far ahead */
        if ((ntok & 7) == 0) {
            double b1 = score[0], b2 = -1e300;
            for (int l = 1; l < NL; l++) {
                if (score[l] > b1) {
                    b2 = b1;
                    b1 = score[l];
                } else if (score[l] > b2) {
                    b2 = score[l];
                }
            }
            if (b1 - b2 > EARLY_MARGIN)
                break;
        }
    }
    if (ntok == 0)
        return r;
    if (prior >= RP_LANG_EN && prior <= RP_LANG_ES)
        score[prior - RP_LANG_EN] += PRIOR_BONUS;
    int best = 0;
    for (int l = 1; l < NL; l++)
        if (score[l] > score[best])
            best = l;
    double z = 0;
    for (int l = 0; l < NL; l++)
        z += exp(score[l] - score[best]);
    r.lang = (rp_lang)(RP_LANG_EN + best);
    r.confidence = 1.0 / z;
    return r;
}
