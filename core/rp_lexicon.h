/* rp_lexicon.h — multilingual weighted keyword lexicons and their matcher.
 *
 * Lexicons come from YAML files (format: docs/lexicon-format.md): per language,
 * weighted keywords per intent, negation cues and high-risk cues. Files are
 * loaded in order; a later entry for the same language, kind and keyword
 * replaces an earlier one (weight 0 removes it), which is how a seller's
 * files extend or override the built-in ones. rp_lexicon_compile() builds one
 * Aho–Corasick automaton over every keyword of every language, so a scan costs
 * one pass over the text however large the lexicons grow.
 *
 * The lexicon owns everything it holds; after compile it is immutable and may
 * be shared. Errors come back as RP_ECONFIG with "file:line:column: reason".
 */
#ifndef RP_LEXICON_H
#define RP_LEXICON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "rp_error.h"
#include "rp_langid.h"

typedef enum rp_intent {
    RP_INTENT_ORDER_STATUS = 0,
    RP_INTENT_NOT_RECEIVED,
    RP_INTENT_CANCEL_ORDER,
    RP_INTENT_RETURN_REQUEST,
    RP_INTENT_REFUND_STATUS,
    RP_INTENT_DAMAGED_DEFECTIVE,
    RP_INTENT_WRONG_ITEM,
    RP_INTENT_PRODUCT_QUESTION,
    RP_INTENT_INVOICE_REQUEST,
    RP_INTENT_ADDRESS_CHANGE,
    RP_INTENT_COMPLAINT_FEEDBACK,
    RP_INTENT_THANKS,
    RP_INTENT_OTHER,
    RP_INTENT_COUNT
} rp_intent;

const char *rp_intent_name(rp_intent i);
/* -1 if unknown */
int rp_intent_from_name(const char *name);

/* What a keyword signals besides an intent. */
enum rp_kw_kind {
    RP_KW_INTENT = 0,
    RP_KW_NEG_BEFORE, /* negates keywords that follow within a few words */
    RP_KW_NEG_AFTER,  /* negates keywords just before it (Japanese) */
    RP_KW_RISK        /* raises the high-risk flag */
};

typedef struct rp_keyword {
    const char *surface; /* as written in the lexicon, borrowed from the lexicon */
    float weight;
    uint8_t lang;   /* rp_lang */
    uint8_t kind;   /* enum rp_kw_kind */
    uint8_t intent; /* rp_intent when kind == RP_KW_INTENT */
    bool cjk;       /* matched without word boundaries */
} rp_keyword;

typedef struct rp_lexicon rp_lexicon;

rp_lexicon *rp_lexicon_new(void);
void rp_lexicon_free(rp_lexicon *lx);

/* Load one YAML lexicon document; name (e.g. a path) is used in errors. */
rp_status rp_lexicon_load_yaml(rp_lexicon *lx, const char *data, size_t len, const char *name,
                               rp_error *err);
/* Add or override one entry programmatically (intent ignored unless kind is
 * RP_KW_INTENT). */
rp_status rp_lexicon_add(rp_lexicon *lx, rp_lang lang, enum rp_kw_kind kind, rp_intent intent,
                         const char *keyword, double weight, rp_error *err);
rp_status rp_lexicon_compile(rp_lexicon *lx, rp_error *err);

size_t rp_lexicon_size(const rp_lexicon *lx); /* keywords after overrides */
const rp_keyword *rp_lexicon_keyword(const rp_lexicon *lx, uint32_t id);

typedef struct rp_hit {
    uint32_t kw;    /* keyword id */
    uint32_t start; /* byte range in the folded text */
    uint32_t end;
} rp_hit;

typedef struct rp_hits {
    rp_hit *v;
    size_t n, cap;
} rp_hits;

/* Scan folded text (rp_text_fold) and append every keyword occurrence to
 * hits, in order of end position. */
rp_status rp_lexicon_scan(const rp_lexicon *lx, const char *folded, size_t len, rp_hits *hits);
void rp_hits_free(rp_hits *h);

#endif
