/* Accuracy on a labelled corpus: by default the development corpus beside the
 * repository (../shared/corpus), else the file named as the first argument,
 * with the intent and language floors (percent) as the next two arguments.
 * Prints per-language language and intent accuracy and fails below the floor
 * (default: intent >= 90 %, language >= 98 %; high_risk >= 90 % always).
 * Skips (exit 77) when the corpus is absent, as the development corpus is in
 * a plain clone. Set RP_CORPUS_VERBOSE=1 to list every miss. */
#include "rp_test.h"

#include <jansson.h>

#include "rp_classify.h"
#include "rp_config.h"
#include "rp_jsonl.h"
#include "rp_model.h"

int main(int argc, char **argv)
{
    const char *path = argc > 1 ? argv[1] : getenv("RP_CORPUS");
    if (!path)
        path = RP_SHARED_CORPUS;
    double intent_floor = argc > 2 ? atof(argv[2]) : 90.0;
    double lang_floor = argc > 3 ? atof(argv[3]) : 98.0;
    FILE *f = fopen(path, "rb");
    if (!f) {
        printf("SKIPPED: development corpus not found at %s\n", path);
        return 77;
    }
    int verbose = getenv("RP_CORPUS_VERBOSE") != NULL;
    rp_config *cfg;
    rp_classifier *clf;
    rp_error err;
    if (rp_config_load_default(&cfg, &err) != RP_OK || rp_model_load(cfg, &clf, &err) != RP_OK) {
        fprintf(stderr, "cannot load the classifier: %s\n", err.msg);
        return 1;
    }
    rp_classify_ctx ctx = {0};
    char line[1 << 16];
    int n = 0, lang_ok = 0, intent_ok = 0, risk_ok = 0;
    int per_n[RP_LANG_COUNT] = {0}, per_lang[RP_LANG_COUNT] = {0}, per_int[RP_LANG_COUNT] = {0};
    int confusion[RP_INTENT_COUNT][RP_INTENT_COUNT] = {{0}};
    while (fgets(line, sizeof line, f)) {
        json_error_t je;
        json_t *o = json_loads(line, 0, &je);
        if (!o)
            continue;
        rp_message *m = NULL;
        if (rp_jsonl_parse(line, strlen(line), "corpus", &m, &err) != RP_OK) {
            fprintf(stderr, "%s: %s\n", json_string_value(json_object_get(o, "id")), err.msg);
            rp_message_free(m);
            json_decref(o);
            n++;
            continue;
        }
        rp_classification c;
        if (rp_classify_text(clf, &ctx, m->subject, m->body, m->marketplace, &c) != RP_OK)
            return 1;
        const char *want_lang = json_string_value(json_object_get(o, "lang"));
        const char *want_int = json_string_value(json_object_get(o, "intent"));
        int want_risk = json_is_true(json_object_get(o, "high_risk"));
        rp_lang wl = rp_lang_from_code(want_lang);
        int wi = rp_intent_from_name(want_int);
        n++;
        per_n[wl]++;
        int lok = c.language == wl, iok = (int)c.intent == wi, rok = c.high_risk == want_risk;
        lang_ok += lok;
        intent_ok += iok;
        risk_ok += rok;
        per_lang[wl] += lok;
        per_int[wl] += iok;
        if (wi >= 0)
            confusion[wi][c.intent]++;
        if (verbose && (!lok || !iok || !rok)) {
            printf("MISS %s: lang %s/%s intent %s/%s risk %d/%d  [", m->id,
                   rp_lang_code(c.language), want_lang, rp_intent_name(c.intent), want_int,
                   c.high_risk, want_risk);
            for (size_t k = 0; k < c.nkeywords; k++)
                printf("%s%s", k ? ", " : "",
                       rp_lexicon_keyword(rp_classifier_lexicon(clf), c.keywords[k])->surface);
            printf("]  scores:");
            for (int k = 0; k < RP_INTENT_COUNT; k++)
                if (c.scores[k] != 0)
                    printf(" %s=%.1f", rp_intent_name((rp_intent)k), c.scores[k]);
            printf("\n");
        }
        rp_message_free(m);
        json_decref(o);
    }
    fclose(f);
    rp_classify_ctx_free(&ctx);
    rp_classifier_free(clf);
    rp_config_free(cfg);
    if (n == 0) {
        fprintf(stderr, "corpus is empty\n");
        return 1;
    }
    printf("corpus: %d messages\n", n);
    for (int l = 1; l < RP_LANG_COUNT; l++)
        if (per_n[l])
            printf("  %s: language %5.1f %%  intent %5.1f %%  (%d)\n", rp_lang_code((rp_lang)l),
                   100.0 * per_lang[l] / per_n[l], 100.0 * per_int[l] / per_n[l], per_n[l]);
    double la = 100.0 * lang_ok / n, ia = 100.0 * intent_ok / n, ra = 100.0 * risk_ok / n;
    printf("  all: language %.1f %%, intent %.1f %%, high_risk %.1f %%\n", la, ia, ra);
    if (verbose) {
        printf("confusion (row = labelled, column = predicted):\n");
        for (int i = 0; i < RP_INTENT_COUNT; i++) {
            printf("  %-18s", rp_intent_name((rp_intent)i));
            for (int j = 0; j < RP_INTENT_COUNT; j++)
                printf(" %2d", confusion[i][j]);
            printf("\n");
        }
    }
    int ok = ia >= intent_floor && la >= lang_floor && ra >= 90.0;
    if (ok)
        printf("accuracy above the floor\n");
    else
        printf("FAILED: accuracy below the floor (intent %.0f %%, language %.0f %%, risk 90 %%)\n",
               intent_floor, lang_floor);
    return ok ? 0 : 1;
}
