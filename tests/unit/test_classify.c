/* The shipped classifier (built-in lexicons and language lists) on messages
 * written for this test: languages, intents, negation, high risk. */
#include "rp_test.h"

#include "rp_classify.h"
#include "rp_config.h"
#include "rp_model.h"

static rp_classifier *clf;
static rp_classify_ctx ctx;

static int setup(void **st)
{
    (void)st;
    rp_config *cfg;
    rp_error err;
    if (rp_config_load_default(&cfg, &err) != RP_OK)
        return -1;
    rp_status s = rp_model_load(cfg, &clf, &err);
    rp_config_free(cfg);
    if (s != RP_OK)
        fprintf(stderr, "%s\n", err.msg);
    return s == RP_OK ? 0 : -1;
}

static int teardown(void **st)
{
    (void)st;
    rp_classify_ctx_free(&ctx);
    rp_classifier_free(clf);
    return 0;
}

static rp_classification run(const char *mp, const char *subject, const char *body)
{
    rp_classification c;
    assert_int_equal(rp_classify_text(clf, &ctx, subject, body, mp, &c), RP_OK);
    return c;
}

static void expect_lang(const char *mp, const char *body, const char *want)
{
    rp_classification c = run(mp, NULL, body);
    if (strcmp(rp_lang_code(c.language), want) != 0)
        fail_msg("\"%s\" on %s: language %s, want %s", body, mp ? mp : "-",
                 rp_lang_code(c.language), want);
}

static void expect_intent(const char *mp, const char *body, rp_intent want)
{
    rp_classification c = run(mp, NULL, body);
    if (c.intent != want)
        fail_msg("\"%s\": intent %s, want %s", body, rp_intent_name(c.intent),
                 rp_intent_name(want));
}

static void test_short_messages_language(void **st)
{
    (void)st;
    expect_lang("amazon.de", "wo ist mein paket??", "de");
    expect_lang(NULL, "wo ist mein paket??", "de");
    expect_lang("amazon.it", "Grazie mille!", "it");
    expect_lang("amazon.es", "¿Dónde está mi pedido?", "es");
    expect_lang("amazon.fr", "Où est mon colis ?", "fr");
    expect_lang("amazon.com", "where is my parcel", "en");
    expect_lang("amazon.co.jp", "まだ届きません", "ja");
    expect_lang(NULL, "ｷｬﾝｾﾙお願いします", "ja");
}

static void test_marketplace_is_only_a_prior(void **st)
{
    (void)st;
    expect_lang("amazon.de", "Hello, sorry for writing in English. My parcel has not arrived yet, "
                             "could you check the tracking please?",
                "en");
    expect_lang("amazon.co.jp", "Hi, I would like to return this item, it is too small.", "en");
    expect_lang("amazon.com", "Bonjour, je voudrais retourner cet article, il est trop petit.",
                "fr");
    expect_lang("amazon.fr", "Hallo, ich möchte den Artikel zurückgeben, er ist zu klein.", "de");
    /* missing accents and typos */
    expect_lang(NULL, "hola donde esta mi pedido no ha llegado todavia", "es");
    expect_lang(NULL, "buongiorno non ho ancora ricevuto il pacco grazie", "it");
    expect_lang(NULL, "bonjour je nai toujours pas recu mon colis merci", "fr");
}

static void test_no_language(void **st)
{
    (void)st;
    rp_classification c = run("amazon.de", NULL, "??? 302-1234567-1234567 !!!");
    assert_int_equal(c.language, RP_LANG_UND);
    assert_int_equal(c.intent, RP_INTENT_OTHER);
}

static void test_intents_each_language(void **st)
{
    (void)st;
    expect_intent("amazon.com", "Please cancel my order, I ordered it by mistake.",
                  RP_INTENT_CANCEL_ORDER);
    expect_intent("amazon.de", "Ich möchte die Bestellung stornieren, bitte.",
                  RP_INTENT_CANCEL_ORDER);
    expect_intent("amazon.fr", "Bonjour, je voudrais une facture avec TVA pour ma société.",
                  RP_INTENT_INVOICE_REQUEST);
    expect_intent("amazon.it", "Il prodotto è arrivato rotto, il vetro è crepato.",
                  RP_INTENT_DAMAGED_DEFECTIVE);
    expect_intent("amazon.es", "Me ha llegado la talla equivocada, pedí una M y recibí una XL.",
                  RP_INTENT_WRONG_ITEM);
    expect_intent("amazon.co.jp", "注文した商品を返品したいのですが、手続きを教えてください。",
                  RP_INTENT_RETURN_REQUEST);
    expect_intent("amazon.com", "Thank you so much, the replacement arrived and works great!",
                  RP_INTENT_THANKS);
    expect_intent("amazon.de", "Können Sie die Lieferadresse noch ändern? Ich bin umgezogen.",
                  RP_INTENT_ADDRESS_CHANGE);
}

static void test_spellings_fold_together(void **st)
{
    (void)st;
    rp_classification a = run("amazon.de", NULL, "Wann bekomme ich meine Rückerstattung?");
    rp_classification b = run("amazon.de", NULL, "Wann bekomme ich meine Rueckerstattung?");
    rp_classification c = run("amazon.de", NULL, "wann bekomme ich meine ruckerstattung");
    assert_int_equal(a.intent, RP_INTENT_REFUND_STATUS);
    assert_int_equal(b.intent, a.intent);
    assert_int_equal(c.intent, a.intent);
}

static void test_negated_refund(void **st)
{
    (void)st;
    rp_classification c =
        run("amazon.com", NULL, "I don't want a refund, please just send me the right colour.");
    assert_int_not_equal(c.intent, RP_INTENT_REFUND_STATUS);
    assert_int_not_equal(c.intent, RP_INTENT_RETURN_REQUEST);
}

static void test_high_risk(void **st)
{
    (void)st;
    rp_classification c = run("amazon.com", NULL,
                              "The blender stopped working after two days. If this is not fixed "
                              "I will leave a 1-star review and open an A-to-z claim.");
    assert_true(c.high_risk);
    assert_true(c.nkeywords > 0);
    c = run("amazon.com", NULL, "Could you tell me if this lid fits the 24 cm pan?");
    assert_false(c.high_risk);
    assert_int_equal(c.intent, RP_INTENT_PRODUCT_QUESTION);
    c = run("amazon.de", NULL, "Laut Sendungsverfolgung zugestellt, aber das Paket ist nicht da.");
    assert_int_equal(c.intent, RP_INTENT_NOT_RECEIVED);
    assert_true(c.high_risk);
}

static void test_keywords_explain(void **st)
{
    (void)st;
    rp_classification c = run("amazon.com", NULL, "Where is my refund? I sent the item back.");
    assert_true(c.nkeywords >= 1);
    const rp_lexicon *lx = rp_classifier_lexicon(clf);
    for (size_t i = 0; i < c.nkeywords; i++) {
        const rp_keyword *k = rp_lexicon_keyword(lx, c.keywords[i]);
        assert_true(k->kind == RP_KW_RISK || k->intent == c.intent);
        assert_true(k->weight > 0);
    }
    assert_true(c.confidence > 0 && c.confidence <= 1);
}

/* Only the first 64 KiB are read: a keyword after that does not count. */
static void test_long_body_is_capped(void **st)
{
    (void)st;
    size_t n = 200 * 1024;
    char *body = malloc(n + 64);
    assert_non_null(body);
    strcpy(body, "Please cancel my order. ");
    size_t len = strlen(body);
    while (len + 5 < n) {
        memcpy(body + len, "bla ", 4);
        len += 4;
    }
    strcpy(body + len, " I want a refund, where is my refund?");
    rp_classification c = run("amazon.com", NULL, body);
    assert_int_equal(c.intent, RP_INTENT_CANCEL_ORDER);
    assert_true(c.scores[RP_INTENT_REFUND_STATUS] == 0);
    free(body);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_short_messages_language),
        cmocka_unit_test(test_marketplace_is_only_a_prior),
        cmocka_unit_test(test_no_language),
        cmocka_unit_test(test_intents_each_language),
        cmocka_unit_test(test_spellings_fold_together),
        cmocka_unit_test(test_negated_refund),
        cmocka_unit_test(test_high_risk),
        cmocka_unit_test(test_keywords_explain),
        cmocka_unit_test(test_long_body_is_capped),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
