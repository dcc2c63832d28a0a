/* rp_langid.h — language identification for en, de, fr, it, es and ja.
 *
 * Japanese is recognised by its script (kana, or kanji on a Japanese
 * marketplace). The five Latin-script languages are told apart by a small
 * probabilistic model built from word frequency lists (data/langid/<lang>.txt):
 * each word's probability is a mix of its listed frequency and a character
 * trigram model derived from the same lists, so unknown words, typos and
 * missing accents still count. The marketplace's language is a prior, added as
 * a fixed bonus; it never decides on its own against the text.
 *
 * The model is immutable once rp_langid_finish() has run and may be shared.
 * Text passed to rp_langid_detect() must already be folded (rp_text_fold).
 */
#ifndef RP_LANGID_H
#define RP_LANGID_H

#include <stddef.h>

#include "rp_error.h"

typedef enum rp_lang {
    RP_LANG_UND = 0,
    RP_LANG_EN,
    RP_LANG_DE,
    RP_LANG_FR,
    RP_LANG_IT,
    RP_LANG_ES,
    RP_LANG_JA,
    RP_LANG_COUNT
} rp_lang;

#define RP_LATIN_LANGS 5 /* en..es, in enum order from RP_LANG_EN */

const char *rp_lang_code(rp_lang l);       /* "en"; "und" for RP_LANG_UND */
rp_lang rp_lang_from_code(const char *code); /* RP_LANG_UND if unknown */
/* Language a marketplace writes in: "amazon.de" → de, "amazon.co.uk" → en. */
rp_lang rp_lang_of_marketplace(const char *marketplace);

typedef struct rp_langid rp_langid;

rp_langid *rp_langid_new(void);
void rp_langid_free(rp_langid *m);
/* Add a frequency list ("word<TAB>count" lines) for one Latin-script language.
 * name is used in error messages. */
rp_status rp_langid_add_list(rp_langid *m, rp_lang lang, const char *data, size_t len,
                             const char *name, rp_error *err);
rp_status rp_langid_finish(rp_langid *m, rp_error *err);

typedef struct rp_langid_result {
    rp_lang lang;
    double confidence; /* 0..1 */
} rp_langid_result;

rp_langid_result rp_langid_detect(const rp_langid *m, const char *folded, size_t len,
                                  rp_lang prior);

#endif
