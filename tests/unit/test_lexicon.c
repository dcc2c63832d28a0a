/* Lexicon loading, overrides, matching semantics and negation, on small
 * lexicons written here (the shipped ones are exercised by test_classify). */
#include "rp_test.h"

#include "rp_buf.h"
#include "rp_classify.h"
#include "rp_lexicon.h"
#include "rp_text.h"

static const char *const DE =
    "language: de\n"
    "intents:\n"
    "  refund_status:\n"
    "    \"rückerstattung\": 3\n"
    "  return_request:\n"
    "    \"rücksend*\": 2\n"
    "    \"zurückschicken\": 2\n"
    "  thanks:\n"
    "    \"danke\": 2\n"
    "    \"danke im voraus\": -2\n"
    "negation:\n"
    "  before: [\"nicht\", \"kein*\"]\n"
    "high_risk:\n"
    "  \"anwalt\": 2\n";

static const char *const JA = "language: ja\n"
                              "intents:\n"
                              "  cancel_order:\n"
                              "    \"キャンセル\": 3\n"
                              "  not_received:\n"
                              "    \"届いていない\": 4\n"
                              "negation:\n"
                              "  after: [\"不要\", \"しないで\"]\n";

static const char *const EN = "language: en\n"
                              "intents:\n"
                              "  refund_status:\n"
                              "    \"refund\": 2\n"
                              "  not_received:\n"
                              "    \"not received\": 4\n"
                              "  wrong_item:\n"
                              "    \"wrong\": 1\n"
                              "negation:\n"
                              "  before: [\"not\", \"don't\", \"no\"]\n";

static rp_lexicon *load(const char *const *docs, size_t n)
{
    rp_lexicon *lx = rp_lexicon_new();
    rp_error err;
    for (size_t i = 0; i < n; i++) {
        rp_error_clear(&err);
        if (rp_lexicon_load_yaml(lx, docs[i], strlen(docs[i]), "t.yaml", &err) != RP_OK)
            fail_msg("load: %s", err.msg);
    }
    assert_int_equal(rp_lexicon_compile(lx, &err), RP_OK);
    return lx;
}

/* The surfaces of keywords found, in order, joined by '|'. */
static char *found(const rp_lexicon *lx, const char *text)
{
    rp_buf f = {0}, out = {0};
    rp_hits h = {0};
    assert_int_equal(rp_text_fold(text, strlen(text), &f), RP_OK);
    assert_int_equal(rp_lexicon_scan(lx, f.data, f.len, &h), RP_OK);
    for (size_t i = 0; i < h.n; i++) {
        if (i)
            rp_buf_append_char(&out, '|');
        rp_buf_append_str(&out, rp_lexicon_keyword(lx, h.v[i].kw)->surface);
    }
    rp_hits_free(&h);
    rp_buf_free(&f);
    char *r = rp_buf_steal(&out);
    return r;
}

#define ASSERT_FOUND(lx, text, want)                                                              \
    do {                                                                                          \
        char *g_ = found(lx, text);                                                               \
        assert_string_equal(g_, want);                                                            \
        free(g_);                                                                                 \
    } while (0)

static void test_spellings(void **st)
{
    (void)st;
    const char *docs[] = {DE};
    rp_lexicon *lx = load(docs, 1);
    ASSERT_FOUND(lx, "Wann kommt meine Rückerstattung?", "rückerstattung");
    ASSERT_FOUND(lx, "wann kommt meine RUCKERSTATTUNG", "rückerstattung");
    ASSERT_FOUND(lx, "wann kommt meine rueckerstattung", "rückerstattung");
    /* prefix keyword */
    ASSERT_FOUND(lx, "Rücksendeetikett bitte", "rücksend*");
    ASSERT_FOUND(lx, "ruecksendung", "rücksend*");
    /* whole words only */
    ASSERT_FOUND(lx, "Dankeschön", "");
    ASSERT_FOUND(lx, "Zurückschickendes", "");
    rp_lexicon_free(lx);
}

static void test_override_and_remove(void **st)
{
    (void)st;
    const char *over = "language: de\nintents:\n  refund_status:\n    \"Rückerstattung\": 0\n"
                       "  thanks:\n    \"danke\": 5\n";
    const char *docs[] = {DE, over};
    rp_lexicon *lx = load(docs, 2);
    ASSERT_FOUND(lx, "Rückerstattung", "");
    ASSERT_FOUND(lx, "danke", "danke");
    for (uint32_t i = 0; i < rp_lexicon_size(lx); i++) {
        const rp_keyword *k = rp_lexicon_keyword(lx, i);
        if (strcmp(k->surface, "danke") == 0)
            assert_true(k->weight == 5.0f);
    }
    rp_lexicon_free(lx);
}

static void test_japanese_substrings(void **st)
{
    (void)st;
    const char *docs[] = {JA};
    rp_lexicon *lx = load(docs, 1);
    ASSERT_FOUND(lx, "注文をｷｬﾝｾﾙしたいです", "キャンセル");
    ASSERT_FOUND(lx, "荷物がまだ届いていないのですが", "届いていない");
    rp_lexicon_free(lx);
}

static void test_errors(void **st)
{
    (void)st;
    static const struct {
        const char *doc, *want;
    } cases[] = {
        {"language: xx\n", "language must be"},
        {"intents: {}\n", "missing 'language'"},
        {"language: en\nintents:\n  shipping:\n    \"a\": 1\n", "t.yaml:3:3: unknown intent"},
        {"language: en\nintents:\n  thanks:\n    \"a\": lots\n", "weight must be a number"},
        {"language: en\nintents:\n  thanks:\n    \"!!\": 1\n", "no letters"},
        {"language: en\nbogus: 1\n", "unknown key"},
        {"language: en\nintents: [\n", "t.yaml:"},
        {"language: en\nintents:\n  thanks:\n    \"a\": 99\n", "between -20 and 20"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        rp_lexicon *lx = rp_lexicon_new();
        rp_error err;
        rp_error_clear(&err);
        assert_int_not_equal(
            rp_lexicon_load_yaml(lx, cases[i].doc, strlen(cases[i].doc), "t.yaml", &err), RP_OK);
        if (!strstr(err.msg, cases[i].want))
            fail_msg("case %zu: \"%s\" lacks \"%s\"", i, err.msg, cases[i].want);
        rp_lexicon_free(lx);
    }
}

/* A classifier over the small lexicons, without a language model: the language
 * is undetermined, so every language's keywords count. */
static void classify(const char *const *docs, size_t n, const char *text, rp_classification *c)
{
    rp_lexicon *lx = load(docs, n);
    rp_classifier *clf = rp_classifier_new(lx, NULL, NULL);
    rp_classify_ctx ctx = {0};
    assert_int_equal(rp_classify_text(clf, &ctx, NULL, text, NULL, c), RP_OK);
    rp_classify_ctx_free(&ctx);
    rp_classifier_free(clf);
}

static void test_negation(void **st)
{
    (void)st;
    const char *docs[] = {EN, DE, JA};
    rp_classification c;
    classify(docs, 3, "Where is my refund?", &c);
    assert_int_equal(c.intent, RP_INTENT_REFUND_STATUS);
    classify(docs, 3, "I don't want a refund, just the wrong one swapped", &c);
    assert_true(c.scores[RP_INTENT_REFUND_STATUS] == 0);
    assert_int_equal(c.intent, RP_INTENT_WRONG_ITEM);
    /* the cue inside "not received" is part of the keyword */
    classify(docs, 3, "Parcel not received yet", &c);
    assert_int_equal(c.intent, RP_INTENT_NOT_RECEIVED);
    assert_true(c.high_risk);
    /* cue too far away: more than three words between */
    classify(docs, 3, "not sure about this but where is the refund", &c);
    assert_int_equal(c.intent, RP_INTENT_REFUND_STATUS);
    classify(docs, 3, "Ich brauche keine Rückerstattung, danke", &c);
    assert_true(c.scores[RP_INTENT_REFUND_STATUS] == 0);
    assert_int_equal(c.intent, RP_INTENT_THANKS);
    /* negative weight cancels */
    classify(docs, 3, "Danke im Voraus", &c);
    assert_int_equal(c.intent, RP_INTENT_OTHER);
    /* Japanese: the cue follows */
    classify(docs, 3, "キャンセルは不要です", &c);
    assert_true(c.scores[RP_INTENT_CANCEL_ORDER] == 0);
    classify(docs, 3, "キャンセルお願いします", &c);
    assert_int_equal(c.intent, RP_INTENT_CANCEL_ORDER);
    /* high-risk cue */
    classify(docs, 3, "Ich schalte meinen Anwalt ein", &c);
    assert_true(c.high_risk);
    assert_int_equal(c.nkeywords, 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_spellings),
        cmocka_unit_test(test_override_and_remove),
        cmocka_unit_test(test_japanese_substrings),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_negation),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
