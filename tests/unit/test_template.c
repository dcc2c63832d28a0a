#include "rp_test.h"

#include <sys/stat.h>
#include <unistd.h>

#include "rp_template.h"

#define LIB RP_FIXTURES "/templates/lib"

/* ---- helpers ---- */

static rp_templates *load_one(const char *yaml, const char *name)
{
    rp_templates *t = rp_templates_new();
    assert_non_null(t);
    rp_error err;
    rp_error_clear(&err);
    rp_status st = rp_templates_add(t, yaml, strlen(yaml), name, &err);
    if (st != RP_OK)
        fail_msg("loading %s: %s", name, err.msg);
    return t;
}

static rp_templates *load_lib(void)
{
    rp_templates *t = rp_templates_new();
    assert_non_null(t);
    rp_error err;
    rp_error_clear(&err);
    if (rp_templates_add_dir(t, LIB, &err) != RP_OK)
        fail_msg("%s", err.msg);
    return t;
}

typedef struct out {
    rp_buf subject, body;
    rp_error err;
} out;

static rp_status render(out *o, const rp_template *tp, const char *lang, const rp_tvars *v)
{
    rp_buf_reset(&o->subject);
    rp_buf_reset(&o->body);
    rp_error_clear(&o->err);
    return rp_template_render(tp, lang, v, &o->subject, &o->body, &o->err);
}

static void out_free(out *o)
{
    rp_buf_free(&o->subject);
    rp_buf_free(&o->body);
}

/* Render and compare; NULL data in a buffer counts as "". */
static void expect(const rp_template *tp, const char *lang, const rp_tvars *v, const char *subject,
                   const char *body)
{
    out o = {0};
    rp_status st = render(&o, tp, lang, v);
    if (st != RP_OK)
        fail_msg("%s/%s: %s", rp_template_id(tp), lang, o.err.msg);
    assert_string_equal(o.subject.data ? o.subject.data : "", subject);
    assert_string_equal(o.body.data ? o.body.data : "", body);
    out_free(&o);
}

static void expect_missing(const rp_template *tp, const char *lang, const rp_tvars *v,
                           const char *var)
{
    out o = {0};
    assert_int_equal(render(&o, tp, lang, v), RP_EINVAL);
    char want[80];
    snprintf(want, sizeof want, "missing variable '%s'", var);
    assert_string_equal(o.err.msg, want);
    out_free(&o);
}

/* One template whose only language en has this subject and body (YAML
 * double-quoted scalars, so escapes work). */
static rp_templates *load_text(const char *subject, const char *body)
{
    rp_buf y = {0};
    assert_int_equal(rp_buf_printf(&y, "languages:\n  en:\n    subject: \"%s\"\n    body: \"%s\"\n",
                                   subject, body),
                     RP_OK);
    rp_templates *t = load_one(y.data, "inline.yaml");
    rp_buf_free(&y);
    return t;
}

/* ---- variables ---- */

static void test_tvar_names(void **st)
{
    (void)st;
    static const char *const names[] = {"order_id",  "buyer_name",   "seller_name",
                                        "marketplace", "subject",    "next_open",
                                        "holiday_name", "holiday_end", "reply_by"};
    assert_int_equal(sizeof names / sizeof names[0], RP_TVAR_COUNT);
    for (int i = 0; i < RP_TVAR_COUNT; i++) {
        assert_string_equal(rp_tvar_name((rp_tvar)i), names[i]);
        assert_int_equal(rp_tvar_lookup(names[i], strlen(names[i])), i);
    }
    assert_int_equal(rp_tvar_lookup("order_idx", 8), RP_TVAR_ORDER_ID); /* length counts */
    assert_int_equal(rp_tvar_lookup("order_idx", 9), -1);
    assert_int_equal(rp_tvar_lookup("ORDER_ID", 8), -1);
    assert_int_equal(rp_tvar_lookup("", 0), -1);
    assert_int_equal(rp_tvar_lookup(NULL, 0), -1);
    assert_string_equal(rp_tvar_name(RP_TVAR_COUNT), "unknown");
}

/* ---- the fixture library ---- */

static void test_library(void **st)
{
    (void)st;
    rp_templates *t = load_lib();
    /* notes.txt and the hidden .draft.yaml (which would not load) are skipped */
    assert_int_equal(rp_templates_count(t), 2);
    assert_string_equal(rp_template_id(rp_templates_at(t, 0)), "ack_overnight");
    assert_string_equal(rp_template_id(rp_templates_at(t, 1)), "order_status");
    assert_null(rp_templates_at(t, 2));
    const rp_template *ack = rp_templates_find(t, "ack_overnight");
    const rp_template *os = rp_templates_find(t, "order_status");
    assert_ptr_equal(ack, rp_templates_at(t, 0));
    assert_null(rp_templates_find(t, "ack"));
    assert_null(rp_templates_find(t, NULL));
    assert_string_equal(rp_template_origin(ack), LIB "/ack_overnight.yaml");
    assert_string_equal(rp_template_origin(os), LIB "/order_status.yaml");
    assert_false(rp_template_counts_as_response(ack));
    assert_true(rp_template_counts_as_response(os));
    static const char *const all[] = {"en", "de", "fr", "it", "es", "ja"};
    for (int i = 0; i < 6; i++)
        assert_true(rp_template_has_lang(ack, all[i]));
    assert_true(rp_template_has_lang(os, "en"));
    assert_true(rp_template_has_lang(os, "de"));
    assert_false(rp_template_has_lang(os, "fr"));
    assert_false(rp_template_has_lang(os, "ja"));
    assert_false(rp_template_has_lang(ack, "nl"));
    assert_false(rp_template_has_lang(ack, NULL));
    rp_templates_free(t);
}

static void test_six_languages(void **st)
{
    (void)st;
    rp_templates *t = load_lib();
    const rp_template *ack = rp_templates_find(t, "ack_overnight");
    static const struct {
        const char *lang, *next_open, *subject, *body, *subject_anon, *body_anon;
    } cases[] = {
        {"en", "Monday, 24 November, 09:00 GMT", "Your order 302-1234567-1234567",
         "Hello Erika Mustermann,\n\nthank you for your message. We are outside our business "
         "hours at the moment and will reply from Monday, 24 November, 09:00 GMT.\n\nKind "
         "regards,\nMuster GmbH",
         "Your message",
         "Hello,\n\nthank you for your message. We are outside our business hours at the moment "
         "and will reply from Monday, 24 November, 09:00 GMT.\n\nKind regards,\nMuster GmbH"},
        {"de", "Montag, 24. November, 09:00 MEZ", "Ihre Bestellung 302-1234567-1234567",
         "Guten Tag Erika Mustermann,\n\nvielen Dank für Ihre Nachricht. Wir sind gerade "
         "außerhalb unserer Geschäftszeiten und antworten Ihnen ab Montag, 24. November, 09:00 "
         "MEZ.\n\nMit freundlichen Grüßen\nMuster GmbH",
         "Ihre Nachricht",
         "Guten Tag,\n\nvielen Dank für Ihre Nachricht. Wir sind gerade außerhalb unserer "
         "Geschäftszeiten und antworten Ihnen ab Montag, 24. November, 09:00 MEZ.\n\nMit "
         "freundlichen Grüßen\nMuster GmbH"},
        {"fr", "lundi 24 novembre, 09:00 HNEC", "Votre commande 302-1234567-1234567",
         "Bonjour Erika Mustermann,\n\nmerci pour votre message. Nous sommes actuellement en "
         "dehors de nos heures d'ouverture et vous répondrons à partir du lundi 24 novembre, "
         "09:00 HNEC.\n\nCordialement,\nMuster GmbH",
         "Votre message",
         "Bonjour,\n\nmerci pour votre message. Nous sommes actuellement en dehors de nos heures "
         "d'ouverture et vous répondrons à partir du lundi 24 novembre, 09:00 HNEC.\n\n"
         "Cordialement,\nMuster GmbH"},
        {"it", "lunedì 24 novembre, 09:00 CET", "Il suo ordine 302-1234567-1234567",
         "Buongiorno Erika Mustermann,\n\ngrazie per il suo messaggio. Al momento siamo fuori "
         "dall'orario di lavoro e le risponderemo a partire da lunedì 24 novembre, 09:00 CET.\n\n"
         "Cordiali saluti,\nMuster GmbH",
         "Il suo messaggio",
         "Buongiorno,\n\ngrazie per il suo messaggio. Al momento siamo fuori dall'orario di lavoro "
         "e le risponderemo a partire da lunedì 24 novembre, 09:00 CET.\n\nCordiali saluti,\n"
         "Muster GmbH"},
        {"es", "lunes, 24 de noviembre, 09:00 CET", "Su pedido 302-1234567-1234567",
         "Hola, Erika Mustermann:\n\ngracias por su mensaje. En este momento estamos fuera de "
         "nuestro horario de atención y le responderemos a partir del lunes, 24 de noviembre, "
         "09:00 CET.\n\nAtentamente,\nMuster GmbH",
         "Su mensaje",
         "Hola:\n\ngracias por su mensaje. En este momento estamos fuera de nuestro horario de "
         "atención y le responderemos a partir del lunes, 24 de noviembre, 09:00 CET.\n\n"
         "Atentamente,\nMuster GmbH"},
        {"ja", "11月24日(月) 9:00 JST", "ご注文 302-1234567-1234567 について",
         "Erika Mustermann 様\n\nお問い合わせいただき、誠にありがとうございます。ただいま営業時間外"
         "のため、11月24日(月) 9:00 JST以降に順次ご返信いたします。\n\n今後ともよろしくお願いいた"
         "します。\nMuster GmbH",
         "お問い合わせについて",
         "お客様\n\nお問い合わせいただき、誠にありがとうございます。ただいま営業時間外のため、11月"
         "24日(月) 9:00 JST以降に順次ご返信いたします。\n\n今後ともよろしくお願いいたします。\n"
         "Muster GmbH"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        rp_tvars v = {{0}};
        v.v[RP_TVAR_ORDER_ID] = "302-1234567-1234567";
        v.v[RP_TVAR_BUYER_NAME] = "Erika Mustermann";
        v.v[RP_TVAR_SELLER_NAME] = "Muster GmbH";
        v.v[RP_TVAR_NEXT_OPEN] = cases[i].next_open;
        expect(ack, cases[i].lang, &v, cases[i].subject, cases[i].body);
        /* no order number, no name: the other branches */
        v.v[RP_TVAR_ORDER_ID] = NULL;
        v.v[RP_TVAR_BUYER_NAME] = NULL;
        expect(ack, cases[i].lang, &v, cases[i].subject_anon, cases[i].body_anon);
        /* an empty value is not set */
        v.v[RP_TVAR_ORDER_ID] = "";
        v.v[RP_TVAR_BUYER_NAME] = "";
        expect(ack, cases[i].lang, &v, cases[i].subject_anon, cases[i].body_anon);
        /* the date is needed in every language */
        v.v[RP_TVAR_NEXT_OPEN] = NULL;
        expect_missing(ack, cases[i].lang, &v, "next_open");
    }
    rp_templates_free(t);
}

/* Section tags alone on a line take the line with them; nested sections. */
static void test_standalone_nested(void **st)
{
    (void)st;
    rp_templates *t = load_lib();
    const rp_template *os = rp_templates_find(t, "order_status");
    rp_tvars v = {{0}};
    v.v[RP_TVAR_SUBJECT] = "Where is my parcel?";
    v.v[RP_TVAR_SELLER_NAME] = "Muster GmbH";
    v.v[RP_TVAR_BUYER_NAME] = "Erika";
    v.v[RP_TVAR_ORDER_ID] = "302-1234567-1234567";
    v.v[RP_TVAR_HOLIDAY_NAME] = "Christmas";
    v.v[RP_TVAR_HOLIDAY_END] = "Monday, 29 December";
    expect(os, "en", &v, "Re: Where is my parcel?",
           "Hello Erika,\n\nwe are checking the status of order 302-1234567-1234567.\n"
           "Because of Christmas our warehouse is closed until Monday, 29 December.\n\n"
           "Best regards,\nMuster GmbH");
    v.v[RP_TVAR_HOLIDAY_NAME] = NULL; /* the inner section goes */
    expect(os, "en", &v, "Re: Where is my parcel?",
           "Hello Erika,\n\nwe are checking the status of order 302-1234567-1234567.\n\n"
           "Best regards,\nMuster GmbH");
    v.v[RP_TVAR_HOLIDAY_NAME] = "Christmas";
    v.v[RP_TVAR_HOLIDAY_END] = NULL; /* inside the section: needed */
    expect_missing(os, "en", &v, "holiday_end");
    v.v[RP_TVAR_ORDER_ID] = NULL; /* outer section skipped: holiday_end no longer needed */
    v.v[RP_TVAR_BUYER_NAME] = NULL;
    expect(os, "en", &v, "Re: Where is my parcel?",
           "Hello,\n\nplease send us your order number so that we can check its status.\n\n"
           "Best regards,\nMuster GmbH");
    /* blanks inside the braces, German */
    v.v[RP_TVAR_BUYER_NAME] = "Erika";
    expect(os, "de", &v, "Re: Where is my parcel?",
           "Hallo Erika,\n\nbitte senden Sie uns Ihre Bestellnummer.\n\nViele Grüße\nMuster GmbH");
    v.v[RP_TVAR_SUBJECT] = NULL;
    expect_missing(os, "de", &v, "subject");
    rp_templates_free(t);
}

static void test_sections(void **st)
{
    (void)st;
    /* four combinations of two nested sections, each with an inverted twin */
    rp_templates *t = load_text("s", "[{{#order_id}}O{{#buyer_name}}B{{buyer_name}}{{/buyer_name}}"
                                     "{{^buyer_name}}-{{/buyer_name}}{{/order_id}}"
                                     "{{^order_id}}none{{#buyer_name}}+B{{/buyer_name}}"
                                     "{{/order_id}}]");
    const rp_template *tp = rp_templates_at(t, 0);
    rp_tvars v = {{0}};
    expect(tp, "en", &v, "s", "[none]");
    v.v[RP_TVAR_BUYER_NAME] = "x";
    expect(tp, "en", &v, "s", "[none+B]");
    v.v[RP_TVAR_ORDER_ID] = "1";
    expect(tp, "en", &v, "s", "[OBx]");
    v.v[RP_TVAR_BUYER_NAME] = "";
    expect(tp, "en", &v, "s", "[O-]");
    expect(tp, "en", NULL, "s", "[none]"); /* no variables at all */
    rp_templates_free(t);

    /* a placeholder guarded by a section of another variable is still needed */
    t = load_text("{{#buyer_name}}{{order_id}}{{/buyer_name}}x", "b");
    tp = rp_templates_at(t, 0);
    rp_tvars w = {{0}};
    expect(tp, "en", &w, "x", "b");
    w.v[RP_TVAR_BUYER_NAME] = "n";
    expect_missing(tp, "en", &w, "order_id");
    w.v[RP_TVAR_ORDER_ID] = "1";
    expect(tp, "en", &w, "1x", "b");
    rp_templates_free(t);

    /* sixteen levels of nesting */
    rp_buf b = {0};
    for (int i = 0; i < 16; i++)
        assert_int_equal(rp_buf_append_str(&b, i % 2 ? "{{#order_id}}" : "{{^buyer_name}}"),
                         RP_OK);
    assert_int_equal(rp_buf_append_str(&b, "deep"), RP_OK);
    for (int i = 15; i >= 0; i--)
        assert_int_equal(rp_buf_append_str(&b, i % 2 ? "{{/order_id}}" : "{{/buyer_name}}"),
                         RP_OK);
    t = load_text("s", b.data);
    rp_buf_free(&b);
    tp = rp_templates_at(t, 0);
    rp_tvars d = {{0}};
    expect(tp, "en", &d, "s", "");
    d.v[RP_TVAR_ORDER_ID] = "1";
    expect(tp, "en", &d, "s", "deep");
    d.v[RP_TVAR_BUYER_NAME] = "n";
    expect(tp, "en", &d, "s", "");
    rp_templates_free(t);
}

static void test_missing_variable(void **st)
{
    (void)st;
    rp_templates *t = load_text("Order {{order_id}}", "Dear {{buyer_name}}, {{seller_name}}");
    const rp_template *tp = rp_templates_at(t, 0);
    rp_tvars v = {{0}};
    v.v[RP_TVAR_BUYER_NAME] = "Erika";
    v.v[RP_TVAR_SELLER_NAME] = "Shop";
    expect_missing(tp, "en", &v, "order_id");
    v.v[RP_TVAR_ORDER_ID] = "";
    expect_missing(tp, "en", &v, "order_id");
    v.v[RP_TVAR_ORDER_ID] = "1";
    v.v[RP_TVAR_SELLER_NAME] = NULL;
    expect_missing(tp, "en", &v, "seller_name");
    expect_missing(tp, "en", NULL, "order_id");
    /* no such language */
    out o = {0};
    assert_int_equal(render(&o, tp, "de", &v), RP_EINVAL);
    assert_string_equal(o.err.msg, "no text in language 'de'");
    assert_int_equal(render(&o, tp, "nl", &v), RP_EINVAL);
    assert_string_equal(o.err.msg, "no text in language 'nl'");
    assert_int_equal(render(&o, tp, NULL, &v), RP_EINVAL);
    out_free(&o);
    rp_templates_free(t);
}

static void test_text_details(void **st)
{
    (void)st;
    /* values are plain text, inserted as they are; the body keeps no final
     * line break; a subject value cannot break the subject line */
    rp_templates *t = load_text("Re: {{subject}}", "{{buyer_name}}\\n\\n\\n");
    const rp_template *tp = rp_templates_at(t, 0);
    rp_tvars v = {{0}};
    v.v[RP_TVAR_SUBJECT] = "a\r\nb\tc {{order_id}}";
    v.v[RP_TVAR_BUYER_NAME] = "<b>&amp; {{x}}\n";
    expect(tp, "en", &v, "Re: a  b c {{order_id}}", "<b>&amp; {{x}}");
    /* rendering appends; trimming never eats what was there before */
    out o = {0};
    assert_int_equal(rp_buf_append_str(&o.subject, "S:"), RP_OK);
    assert_int_equal(rp_buf_append_str(&o.body, "pre\n"), RP_OK);
    v.v[RP_TVAR_BUYER_NAME] = "\n";
    assert_int_equal(rp_template_render(tp, "en", &v, &o.subject, &o.body, &o.err), RP_OK);
    assert_string_equal(o.subject.data, "S:Re: a  b c {{order_id}}");
    assert_string_equal(o.body.data, "pre\n");
    /* subject or body may be left out */
    rp_buf_reset(&o.body);
    assert_int_equal(rp_template_render(tp, "en", &v, NULL, &o.body, &o.err), RP_OK);
    assert_int_equal(o.body.len, 0);
    out_free(&o);
    rp_templates_free(t);

    /* a section that ends the body leaves no line break behind; stray }} is text */
    t = load_text("}} {", "Thanks\\n{{#order_id}}Order {{order_id}}{{/order_id}}");
    tp = rp_templates_at(t, 0);
    rp_tvars w = {{0}};
    expect(tp, "en", &w, "}} {", "Thanks");
    w.v[RP_TVAR_ORDER_ID] = "7";
    expect(tp, "en", &w, "}} {", "Thanks\nOrder 7");
    rp_templates_free(t);

    /* block scalar subject: its line break is trimmed; CRLF text; UTF-8 */
    t = load_one("languages:\r\n  ja:\r\n    subject: |\r\n      ご注文{{order_id}}\r\n"
                 "    body: |\r\n      {{#buyer_name}}\r\n      {{buyer_name}}様\r\n"
                 "      {{/buyer_name}}\r\n      ありがとうございます。\r\n",
                 "crlf.yaml");
    tp = rp_templates_at(t, 0);
    rp_tvars j = {{0}};
    j.v[RP_TVAR_ORDER_ID] = "２４９";
    j.v[RP_TVAR_BUYER_NAME] = "山田";
    expect(tp, "ja", &j, "ご注文２４９", "山田様\nありがとうございます。");
    j.v[RP_TVAR_BUYER_NAME] = NULL;
    expect(tp, "ja", &j, "ご注文２４９", "ありがとうございます。");
    /* default id from the file name; en is not there, so no fallback to it */
    assert_string_equal(rp_template_id(tp), "crlf");
    assert_null(rp_template_pick_lang(tp, "de", "fr"));
    rp_templates_free(t);
}

static void test_fallback(void **st)
{
    (void)st;
    rp_templates *t = load_lib();
    const rp_template *ack = rp_templates_find(t, "ack_overnight");
    const rp_template *os = rp_templates_find(t, "order_status");
    assert_string_equal(rp_template_pick_lang(ack, "ja", "de"), "ja");
    assert_string_equal(rp_template_pick_lang(os, "de", "en"), "de");
    assert_string_equal(rp_template_pick_lang(os, "fr", "de"), "de"); /* marketplace */
    assert_string_equal(rp_template_pick_lang(os, "fr", "it"), "en"); /* then en */
    assert_string_equal(rp_template_pick_lang(os, "fr", NULL), "en");
    assert_string_equal(rp_template_pick_lang(os, NULL, NULL), "en");
    assert_string_equal(rp_template_pick_lang(os, "und", "xx"), "en");
    assert_string_equal(rp_template_pick_lang(os, "DE", NULL), "de");
    rp_templates_free(t);

    rp_templates *j = load_one("languages:\n  ja: {subject: 件名, body: 本文}\n", "jaonly.yaml");
    const rp_template *tp = rp_templates_at(j, 0);
    assert_null(rp_template_pick_lang(tp, "de", "fr"));
    assert_null(rp_template_pick_lang(tp, NULL, NULL));
    assert_string_equal(rp_template_pick_lang(tp, "de", "ja"), "ja");
    rp_templates_free(j);
}

static void test_override(void **st)
{
    (void)st;
    rp_templates *t = load_lib();
    rp_error err;
    rp_error_clear(&err);
    assert_int_equal(rp_templates_add_dir(t, RP_FIXTURES "/templates/override/", &err), RP_OK);
    assert_int_equal(rp_templates_count(t), 2);
    const rp_template *os = rp_templates_find(t, "order_status");
    assert_ptr_equal(os, rp_templates_at(t, 1)); /* keeps its place */
    assert_string_equal(rp_template_origin(os), RP_FIXTURES "/templates/override/zz_mine.yaml");
    assert_false(rp_template_has_lang(os, "de"));
    assert_string_equal(rp_template_pick_lang(os, "de", "de"), "en");
    rp_tvars v = {{0}};
    v.v[RP_TVAR_SELLER_NAME] = "Muster GmbH";
    expect(os, "en", &v, "Your order with Muster GmbH", "Thanks, we are on it. Muster GmbH");

    /* rp_templates_add with an existing id replaces too; a new id is added */
    const char *y = "id: ack_overnight\ncounts_as_response: yes\n"
                    "languages:\n  fr: {subject: Merci, body: \"Merci, {{seller_name}}\"}\n";
    assert_int_equal(rp_templates_add(t, y, strlen(y), "mine/ack.yaml", &err), RP_OK);
    assert_int_equal(rp_templates_count(t), 2);
    const rp_template *ack = rp_templates_find(t, "ack_overnight");
    assert_true(rp_template_counts_as_response(ack));
    assert_false(rp_template_has_lang(ack, "en"));
    assert_string_equal(rp_template_origin(ack), "mine/ack.yaml");
    expect(ack, "fr", &v, "Merci", "Merci, Muster GmbH");
    assert_int_equal(rp_templates_add(t, y, strlen(y), "mine/thanks.yaml", &err), RP_OK);
    assert_int_equal(rp_templates_count(t), 2);
    const char *z = "languages:\n  en: {subject: a, body: b}\n";
    assert_int_equal(rp_templates_add(t, z, strlen(z), "mine/thanks.yaml", &err), RP_OK);
    assert_int_equal(rp_templates_count(t), 3);
    assert_non_null(rp_templates_find(t, "thanks"));
    rp_templates_free(t);
}

static void write_file(const char *dir, const char *name, const char *text)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(text, 1, strlen(text), f), strlen(text));
    assert_int_equal(fclose(f), 0);
}

static void test_add_dir(void **st)
{
    (void)st;
    char dir[] = "/tmp/rp_template_testXXXXXX";
    assert_non_null(mkdtemp(dir));
    /* same id in two files: name order decides (b after a) */
    write_file(dir, "b.yaml", "id: x\nlanguages: {en: {subject: S, body: from b}}\n");
    write_file(dir, "a.yaml", "id: x\nlanguages: {en: {subject: S, body: from a}}\n");
    write_file(dir, "c.yml", "languages: {en: {subject: S, body: \"{{nope}}\"}}\n");
    write_file(dir, "d.yaml.bak", "languages: {en: {subject: S, body: \"{{nope}}\"}}\n");
    char sub[600];
    snprintf(sub, sizeof sub, "%s/e.yaml", dir);
    assert_int_equal(mkdir(sub, 0700), 0);
    rp_templates *t = rp_templates_new();
    rp_error err;
    rp_error_clear(&err);
    if (rp_templates_add_dir(t, dir, &err) != RP_OK)
        fail_msg("%s", err.msg);
    assert_int_equal(rp_templates_count(t), 1);
    expect(rp_templates_find(t, "x"), "en", NULL, "S", "from b");

    /* a file over 1 MiB */
    rp_buf big = {0};
    assert_int_equal(rp_buf_append_str(&big, "languages: {en: {subject: S, body: B}}\n"), RP_OK);
    while (big.len <= (1u << 20))
        assert_int_equal(rp_buf_append_str(&big, "# padding padding padding padding\n"), RP_OK);
    write_file(dir, "f.yaml", big.data);
    assert_int_equal(rp_templates_add_dir(t, dir, &err), RP_ELIMIT);
    assert_non_null(strstr(err.msg, "f.yaml"));
    assert_int_equal(rp_templates_add(t, big.data, big.len, "big.yaml", &err), RP_ELIMIT);
    assert_string_equal(err.msg, "big.yaml: larger than 1048576 bytes");
    rp_buf_free(&big);
    assert_int_equal(rp_templates_count(t), 1);

    char path[600];
    snprintf(path, sizeof path, "%s/f.yaml", dir);
    assert_int_equal(unlink(path), 0);
    static const char *const files[] = {"a.yaml", "b.yaml", "c.yml", "d.yaml.bak"};
    for (size_t i = 0; i < 4; i++) {
        snprintf(path, sizeof path, "%s/%s", dir, files[i]);
        assert_int_equal(unlink(path), 0);
    }
    assert_int_equal(rmdir(sub), 0);
    assert_int_equal(rmdir(dir), 0);

    /* a bad file: the error names it, and nothing of the directory is added */
    assert_int_equal(rp_templates_add_dir(t, RP_FIXTURES "/templates/bad", &err), RP_ECONFIG);
    assert_string_equal(err.msg, RP_FIXTURES
                        "/templates/bad/b_bad.yaml:7:42: en body: unknown variable 'ship_date'");
    assert_int_equal(rp_templates_count(t), 1);
    assert_null(rp_templates_find(t, "a_good"));

    assert_int_equal(rp_templates_add_dir(t, "/nonexistent/templates", &err), RP_EIO);
    assert_non_null(strstr(err.msg, "/nonexistent/templates: "));
    rp_templates_free(t);
}

static void test_vars_used(void **st)
{
    (void)st;
    rp_templates *t = load_lib();
    const rp_template *os = rp_templates_find(t, "order_status");
    assert_int_equal(rp_template_vars_used(os, "en"),
                     1u << RP_TVAR_SUBJECT | 1u << RP_TVAR_BUYER_NAME | 1u << RP_TVAR_ORDER_ID |
                         1u << RP_TVAR_HOLIDAY_NAME | 1u << RP_TVAR_HOLIDAY_END |
                         1u << RP_TVAR_SELLER_NAME);
    assert_int_equal(rp_template_vars_used(os, "de"),
                     1u << RP_TVAR_SUBJECT | 1u << RP_TVAR_BUYER_NAME | 1u << RP_TVAR_ORDER_ID |
                         1u << RP_TVAR_SELLER_NAME);
    assert_int_equal(rp_template_vars_used(os, "fr"), 0);
    assert_int_equal(rp_template_vars_used(os, "xx"), 0);
    rp_templates_free(t);
    /* a section alone counts as a use */
    t = load_text("{{#reply_by}}x{{/reply_by}}", "{{^marketplace}}y{{/marketplace}}");
    assert_int_equal(rp_template_vars_used(rp_templates_at(t, 0), "en"),
                     1u << RP_TVAR_REPLY_BY | 1u << RP_TVAR_MARKETPLACE);
    rp_templates_free(t);
}

/* ---- errors ---- */

#define HEAD "languages:\n  en:\n    subject: Hi\n"

static void test_errors(void **st)
{
    (void)st;
    static const struct {
        const char *doc, *name, *want;
    } cases[] = {
        /* placeholders: position inside the scalar */
        {HEAD "    body: \"Hello {{ordr_id}}\"\n", "t.yaml",
         "t.yaml:4:18: en body: unknown variable 'ordr_id'"},
        {"languages:\n  de:\n    subject: Hallo\n    body: |\n      Zeile eins\n"
         "      {{#order_id}}Bestellung {{order_id}}\n",
         "t.yaml", "t.yaml:6:7: de body: section 'order_id' is not closed"},
        {"languages:\n  en:\n"
         "    subject: \"{{#order_id}}{{#buyer_name}}x{{/order_id}}{{/buyer_name}}\"\n"
         "    body: b\n",
         "t.yaml",
         "t.yaml:3:44: en subject: '{{/order_id}}' where section 'buyer_name' must be closed "
         "first"},
        {HEAD "    body: x {{/order_id}}\n", "t.yaml",
         "t.yaml:4:13: en body: '{{/order_id}}' closes no section"},
        {HEAD "    body: Hello {{buyer_name\n", "t.yaml",
         "t.yaml:4:17: en body: '{{' without '}}' on the same line"},
        {HEAD "    body: |\n      Hello\n        {{order_id\n      }}\n", "t.yaml",
         "t.yaml:6:9: en body: '{{' without '}}' on the same line"},
        {HEAD "    body: a{{ }}\n", "t.yaml", "t.yaml:4:12: en body: empty tag '{{ }}'"},
        {HEAD "    body: a{{#}}\n", "t.yaml", "t.yaml:4:12: en body: empty tag '{{#}}'"},
        {HEAD "    body: \"{{{order_id}}}\"\n", "t.yaml",
         "t.yaml:4:12: en body: unknown variable '{order_id'"},
        {HEAD "    body: \"{{^order_id}}{{ order_id }}{{/order_id}}\"\n", "t.yaml",
         "t.yaml:4:25: en body: '{{order_id}}' inside '{{^order_id}}', where it is never set"},
        /* Japanese: columns count characters */
        {"languages:\n  ja:\n    subject: 件名\n    body: \"ご注文 {{注文番号}}\"\n", "t.yaml",
         "t.yaml:4:16: ja body: unknown variable '注文番号'"},
        /* a long name is cut on a character boundary in the message */
        {"languages:\n  ja:\n    subject: 件名\n    body: \"{{ありがとうございますありがとうございます}}\"\n",
         "t.yaml", "t.yaml:4:12: ja body: unknown variable 'ありがとうございますありが'"},
        /* a byte order mark is not a column */
        {"\xEF\xBB\xBF" HEAD "    body: x {{nope}}\n", "t.yaml",
         "t.yaml:4:13: en body: unknown variable 'nope'"},
        /* CRLF lines */
        {"languages:\r\n  en:\r\n    subject: Hi\r\n    body: |\r\n      a\r\n      b {{bad}}\r\n",
         "t.yaml", "t.yaml:6:9: en body: unknown variable 'bad'"},
        /* folded block */
        {HEAD "    body: >\n      one\n      two {{bad}}\n", "t.yaml",
         "t.yaml:6:11: en body: unknown variable 'bad'"},
        /* an escape made the "{{": the position is the start of the scalar */
        {HEAD "    body: \"\\x7b{order}}\"\n", "t.yaml",
         "t.yaml:4:11: en body: unknown variable 'order'"},
        /* texts */
        {"languages:\n  en:\n    subject: \"a\\nb\"\n    body: b\n", "t.yaml",
         "t.yaml:3:14: en subject must be one line"},
        {"languages:\n  en:\n    subject: |\n      a\n      b\n    body: b\n", "t.yaml",
         "t.yaml:3:14: en subject must be one line"},
        {HEAD "    body: \"\"\n", "t.yaml", "t.yaml:4:11: en body is empty"},
        {HEAD "    body:\n", "t.yaml", "t.yaml:4:10: en body is empty"},
        {HEAD "    body: \"\\n\\n\"\n", "t.yaml", "t.yaml:4:11: en body is empty"},
        {HEAD "    body: [a]\n", "t.yaml", "t.yaml:4:11: en body must be text"},
        {HEAD "    body: \"a\\0b\"\n", "t.yaml", "t.yaml:4:11: en body contains a NUL character"},
        /* structure */
        {"title: x\n" HEAD "    body: b\n", "t.yaml", "t.yaml:1:1: unknown key: title"},
        {"languages:\n  nl: {subject: a, body: b}\n", "t.yaml",
         "t.yaml:2:3: unknown language 'nl' (expected en, de, fr, it, es or ja)"},
        {"languages:\n  EN: {subject: a, body: b}\n", "t.yaml",
         "t.yaml:2:3: unknown language 'EN'"},
        {"languages:\n  en: {subject: a, body: b, footer: c}\n", "t.yaml",
         "t.yaml:2:29: unknown key in 'en': footer (expected subject, body)"},
        {"languages:\n  en: {subject: a}\n", "t.yaml", "t.yaml:2:7: language 'en' has no 'body'"},
        {"languages:\n  en: {body: a}\n", "t.yaml", "t.yaml:2:7: language 'en' has no 'subject'"},
        {"languages:\n  en: hello\n", "t.yaml",
         "t.yaml:2:7: language 'en' must be a mapping with 'subject' and 'body'"},
        {"languages:\n  en: {subject: a, body: b, subject: c}\n", "t.yaml",
         "t.yaml:2:29: duplicate key 'subject' in 'en'"},
        {"languages:\n  en: {subject: a, body: b}\n  en: {subject: a, body: b}\n", "t.yaml",
         "t.yaml:3:3: language 'en' appears twice"},
        {"languages: {}\n", "t.yaml", "t.yaml:1:12: 'languages' must map language codes"},
        {"languages: [en]\n", "t.yaml", "t.yaml:1:12: 'languages' must map language codes"},
        {"id: x\n", "t.yaml", "t.yaml:1:1: missing 'languages'"},
        {HEAD "    body: b\nlanguages: {}\n", "t.yaml", "t.yaml:5:1: duplicate key 'languages'"},
        {"counts_as_response: maybe\n" HEAD "    body: b\n", "t.yaml",
         "t.yaml:1:21: 'counts_as_response' must be true or false"},
        {"description: [a]\n" HEAD "    body: b\n", "t.yaml",
         "t.yaml:1:14: 'description' must be text"},
        {"id: \"has space\"\n" HEAD "    body: b\n", "t.yaml",
         "t.yaml:1:5: 'id' must be 1 to 64 letters, digits, '_', '-' or '.'"},
        {"id: [a]\n" HEAD "    body: b\n", "t.yaml", "t.yaml:1:5: 'id' must be"},
        {HEAD "    body: b\n", "my templates/bad name.yaml",
         "my templates/bad name.yaml:1:1: the file name does not make a template id; set 'id'"},
        {"", "t.yaml", "t.yaml:1:1: empty template"},
        {"# nothing here\n", "t.yaml", "t.yaml:1:1: empty template"},
        {"- a\n", "t.yaml", "t.yaml:1:1: a template is a mapping"},
        {"languages: [\n", "t.yaml", "t.yaml:2:1: "},
        {"languages:\n  en: {subject: a, body: \xff}\n", "t.yaml", "t.yaml:"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        rp_templates *t = rp_templates_new();
        rp_error err;
        rp_error_clear(&err);
        rp_status got =
            rp_templates_add(t, cases[i].doc, strlen(cases[i].doc), cases[i].name, &err);
        if (got != RP_ECONFIG)
            fail_msg("case %zu: status %d (%s)", i, got, err.msg);
        if (strncmp(err.msg, cases[i].want, strlen(cases[i].want)) != 0)
            fail_msg("case %zu: \"%s\" does not start with \"%s\"", i, err.msg, cases[i].want);
        assert_int_equal(rp_templates_count(t), 0);
        rp_templates_free(t);
    }
}

/* ---- limits ---- */

static rp_status try_body(const char *body_line, rp_error *err)
{
    rp_buf y = {0};
    assert_int_equal(rp_buf_printf(&y, HEAD "    body: |\n      %s\n", body_line), RP_OK);
    rp_templates *t = rp_templates_new();
    rp_status st = rp_templates_add(t, y.data, y.len, "big.yaml", err);
    rp_buf_free(&y);
    assert_int_equal(rp_templates_count(t), st == RP_OK ? 1 : 0);
    rp_templates_free(t);
    return st;
}

static char *repeat(const char *s, size_t times, const char *tail)
{
    rp_buf b = {0};
    for (size_t i = 0; i < times; i++)
        assert_int_equal(rp_buf_append_str(&b, s), RP_OK);
    assert_int_equal(rp_buf_append_str(&b, tail), RP_OK);
    return rp_buf_steal(&b);
}

static void test_limits(void **st)
{
    (void)st;
    rp_error err;
    /* body: 64 KiB */
    char *s = repeat("a", 65536, "");
    assert_int_equal(try_body(s, &err), RP_OK);
    free(s);
    s = repeat("a", 65537, "");
    assert_int_equal(try_body(s, &err), RP_ECONFIG);
    assert_string_equal(err.msg, "big.yaml:4:11: en body is longer than 65536 bytes");
    free(s);
    /* 1000 operations */
    s = repeat("{{seller_name}}", 1000, "");
    assert_int_equal(try_body(s, &err), RP_OK);
    free(s);
    s = repeat("x{{seller_name}}", 500, "");
    assert_int_equal(try_body(s, &err), RP_OK);
    free(s);
    s = repeat("{{seller_name}}", 1001, "");
    assert_int_equal(try_body(s, &err), RP_ECONFIG);
    assert_string_equal(err.msg,
                        "big.yaml:5:15007: en body: more than 1000 placeholders, sections and text "
                        "runs");
    free(s);
    s = repeat("x{{seller_name}}", 500, "x");
    assert_int_equal(try_body(s, &err), RP_ECONFIG);
    assert_non_null(strstr(err.msg, "more than 1000"));
    free(s);
    /* seventeen levels of nesting */
    rp_buf b = {0};
    for (int i = 0; i < 17; i++)
        assert_int_equal(rp_buf_append_str(&b, "{{#order_id}}"), RP_OK);
    for (int i = 0; i < 17; i++)
        assert_int_equal(rp_buf_append_str(&b, "{{/order_id}}"), RP_OK);
    assert_int_equal(try_body(b.data, &err), RP_ECONFIG);
    assert_string_equal(err.msg, "big.yaml:5:215: en body: sections nested more than 16 deep");
    rp_buf_free(&b);
    /* subject: 1 KiB */
    rp_buf y = {0};
    s = repeat("s", 1024, "");
    assert_int_equal(rp_buf_printf(&y, "languages:\n  en:\n    subject: %s\n    body: b\n", s),
                     RP_OK);
    free(s);
    rp_templates *t = load_one(y.data, "subj.yaml");
    rp_templates_free(t);
    rp_buf_reset(&y);
    s = repeat("s", 1025, "");
    assert_int_equal(rp_buf_printf(&y, "languages:\n  en:\n    subject: %s\n    body: b\n", s),
                     RP_OK);
    free(s);
    t = rp_templates_new();
    assert_int_equal(rp_templates_add(t, y.data, y.len, "subj.yaml", &err), RP_ECONFIG);
    assert_string_equal(err.msg, "subj.yaml:3:14: en subject is longer than 1024 bytes");
    rp_templates_free(t);
    rp_buf_free(&y);
    /* an id of 64 bytes is fine, 65 is not */
    s = repeat("i", 64, "\n" HEAD "    body: b\n");
    rp_buf z = {0};
    assert_int_equal(rp_buf_printf(&z, "id: %s", s), RP_OK);
    t = load_one(z.data, "id.yaml");
    rp_templates_free(t);
    free(s);
    rp_buf_reset(&z);
    s = repeat("i", 65, "\n" HEAD "    body: b\n");
    assert_int_equal(rp_buf_printf(&z, "id: %s", s), RP_OK);
    t = rp_templates_new();
    assert_int_equal(rp_templates_add(t, z.data, z.len, "id.yaml", &err), RP_ECONFIG);
    assert_non_null(strstr(err.msg, "id.yaml:1:5: 'id' must be"));
    rp_templates_free(t);
    rp_buf_free(&z);
    free(s);
}

static void test_usage(void **st)
{
    (void)st;
    rp_error err;
    rp_templates *t = rp_templates_new();
    assert_int_equal(rp_templates_add(t, NULL, 4, "x.yaml", &err), RP_EUSAGE);
    assert_int_equal(rp_templates_add(t, "languages: {}", 13, NULL, &err), RP_EUSAGE);
    assert_int_equal(rp_templates_add(NULL, "x", 1, "x.yaml", &err), RP_EUSAGE);
    assert_int_equal(rp_templates_add_dir(t, NULL, &err), RP_EUSAGE);
    assert_int_equal(rp_templates_count(NULL), 0);
    assert_null(rp_templates_at(NULL, 0));
    assert_null(rp_templates_find(NULL, "x"));
    assert_null(rp_template_pick_lang(NULL, "en", "en"));
    assert_false(rp_template_has_lang(NULL, "en"));
    assert_null(rp_template_id(NULL));
    assert_null(rp_template_origin(NULL));
    assert_false(rp_template_counts_as_response(NULL));
    assert_int_equal(rp_template_vars_used(NULL, "en"), 0);
    rp_templates_free(t);
    rp_templates_free(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_tvar_names),     cmocka_unit_test(test_library),
        cmocka_unit_test(test_six_languages),  cmocka_unit_test(test_standalone_nested),
        cmocka_unit_test(test_sections),       cmocka_unit_test(test_missing_variable),
        cmocka_unit_test(test_text_details),   cmocka_unit_test(test_fallback),
        cmocka_unit_test(test_override),       cmocka_unit_test(test_add_dir),
        cmocka_unit_test(test_vars_used),      cmocka_unit_test(test_errors),
        cmocka_unit_test(test_limits),         cmocka_unit_test(test_usage),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
