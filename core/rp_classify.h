/* rp_classify.h — language and intent classification of one message.
 *
 * An rp_classifier holds a compiled lexicon and a language model (it owns
 * both once handed over) and is immutable, so many threads may share one.
 * Per-call scratch space lives in an rp_classify_ctx that the caller owns
 * (zero-initialise it, reuse it across messages, rp_classify_ctx_free() at
 * the end): classifying a stream allocates almost nothing per message.
 *
 * Scoring: every keyword of the detected language found in the body adds its
 * weight to its intent once; found in the subject it adds subject_weight times
 * its weight. A keyword preceded by a negation cue of its language (within
 * three words) or, for Japanese, followed by one, does not count. The best
 * intent wins; under min_score the message is 'other'. high_risk is set for
 * complaint_feedback and not_received, and when a high-risk cue of the
 * message's language (or English, whose "chargeback" and "A-to-z" every
 * marketplace uses) is found un-negated.
 */
#ifndef RP_CLASSIFY_H
#define RP_CLASSIFY_H

#include <stdbool.h>
#include <stddef.h>

#include "rp_buf.h"
#include "rp_langid.h"
#include "rp_lexicon.h"

/* Only the start of a long message is read: buyers state their need early,
 * and this keeps time and memory flat for hostile input. */
#define RP_CLASSIFY_MAX_BODY (64u * 1024)
#define RP_CLASSIFY_MAX_SUBJECT 2048u

typedef struct rp_classifier_opts {
    double min_score;      /* default 1.0 */
    double subject_weight; /* default 0.5 */
    int negation_window;   /* words between cue and keyword, default 3 */
} rp_classifier_opts;

void rp_classifier_opts_default(rp_classifier_opts *o);

typedef struct rp_classifier rp_classifier;

/* Takes ownership of lx (compiled) and li (finished), also on failure. */
rp_classifier *rp_classifier_new(rp_lexicon *lx, rp_langid *li, const rp_classifier_opts *o);
void rp_classifier_free(rp_classifier *c);
const rp_lexicon *rp_classifier_lexicon(const rp_classifier *c);

#define RP_MAX_DECIDING 8

typedef struct rp_classification {
    rp_lang language;
    double language_confidence;
    rp_intent intent;
    double confidence;
    bool high_risk;
    double scores[RP_INTENT_COUNT];
    /* keyword ids that decided the intent (then the high-risk cues), best first */
    uint32_t keywords[RP_MAX_DECIDING];
    size_t nkeywords;
} rp_classification;

typedef struct rp_classify_ctx {
    rp_buf fold_body;    /* after a call: the body (first RP_CLASSIFY_MAX_BODY bytes) */
    rp_buf fold_subject; /* and the subject, folded with rp_text_fold(); callers may read */
    rp_hits hits_body;
    rp_hits hits_subject;
    unsigned char *seen; /* per keyword flags */
    size_t seen_cap;
} rp_classify_ctx;

void rp_classify_ctx_free(rp_classify_ctx *ctx);

/* subject and marketplace may be NULL. Errors: RP_ENOMEM. */
rp_status rp_classify_text(const rp_classifier *c, rp_classify_ctx *ctx, const char *subject,
                           const char *body, const char *marketplace, rp_classification *out);

#endif
