/* Marketplace compliance checks: every check in every language, both sides
 * (a violating text and a realistic clean reply), options, quoting and
 * truncation, and the phrase-list loader's errors. */
#include "rp_test.h"

#include "rp_compliance.h"
#include "rp_text.h"

typedef struct fixture {
    rp_compliance *c;
    rp_compliance_ctx ctx;
} fixture;

static int setup(void **st)
{
    fixture *fx = calloc(1, sizeof *fx);
    rp_error err;
    if (!fx || rp_compliance_new(NULL, &fx->c, &err) != RP_OK) {
        free(fx);
        return -1;
    }
    *st = fx;
    return 0;
}

static int teardown(void **st)
{
    fixture *fx = *st;
    rp_compliance_ctx_free(&fx->ctx);
    rp_compliance_free(fx->c);
    free(fx);
    return 0;
}

/* The check names of the findings, in order, joined by ','. */
static const char *names(const rp_findings *f)
{
    static char buf[512];
    buf[0] = '\0';
    for (size_t i = 0; i < f->n; i++) {
        if (i)
            strcat(buf, ",");
        strcat(buf, rp_check_name(f->items[i].check));
    }
    return buf;
}

static void dump(const char *text, const rp_findings *f)
{
    print_message("text: %s\n", text);
    for (size_t i = 0; i < f->n; i++)
        print_message("  %s: [%s]\n", rp_check_name(f->items[i].check), f->items[i].text);
}

static void check(const rp_compliance *c, rp_compliance_ctx *ctx, const char *subject,
                  const char *body, rp_findings *f)
{
    assert_int_equal(rp_compliance_check(c, ctx, subject, body, f), RP_OK);
    for (size_t i = 0; i < f->n; i++) {
        assert_true(f->items[i].blocking);
        assert_true(strlen(f->items[i].text) < RP_FINDING_TEXT_MAX);
        assert_true(rp_utf8_valid(f->items[i].text, strlen(f->items[i].text)));
    }
}

/* body must give exactly the checks in want ("" for none). */
static void expect(fixture *fx, const char *body, const char *want)
{
    rp_findings f;
    check(fx->c, &fx->ctx, NULL, body, &f);
    if (strcmp(names(&f), want) != 0) {
        dump(body, &f);
        fail_msg("want [%s], got [%s]", want, names(&f));
    }
}

/* body must give one finding of check chk quoting exactly quote. */
static void expect_quote(fixture *fx, const char *body, rp_check chk, const char *quote)
{
    rp_findings f;
    check(fx->c, &fx->ctx, NULL, body, &f);
    for (size_t i = 0; i < f.n; i++)
        if (f.items[i].check == chk && strcmp(f.items[i].text, quote) == 0)
            return;
    dump(body, &f);
    fail_msg("no %s finding quoting [%s]", rp_check_name(chk), quote);
}

typedef struct tcase {
    const char *lang, *text, *want;
} tcase;

static void run_cases(fixture *fx, const tcase *cs, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        print_message("[%s] ", cs[i].lang);
        expect(fx, cs[i].text, cs[i].want);
    }
    print_message("\n");
}

#define RUN(fx, cs) run_cases((fx), (cs), sizeof(cs) / sizeof((cs)[0]))

/* ---- realistic clean replies: nothing at all ---------------------------- */

static void test_clean_replies(void **st)
{
    static const tcase cs[] = {
        {"en", "Hello Jane,\n\nThank you for your message about order 112-1234567-1234567. We are "
               "sorry the lamp arrived damaged. We have issued a full refund of $34.99 today "
               "(15/03/2024); it usually shows on your statement within 3-5 business days. You "
               "do not need to return the item.\n\nThank you for your feedback - it helps us "
               "improve our packaging.\n\nKind regards,\nNorthwind Home", ""},
        {"en", "Hi, your parcel was handed to UPS on 2024-03-12, tracking number "
               "1Z999AA10123456784. Delivery is expected on Thursday between 10:00 and 14:00. If "
               "it has not arrived by 20 March, reply here and we will send a replacement or a "
               "refund, e.g. via Your Orders > Return or replace items. Thanks for the positive "
               "feedback!", ""},
        {"de", "Guten Tag Herr Müller,\n\nvielen Dank für Ihre Nachricht zur Bestellung "
               "302-1234567-1234567. Die Rücksendung ist bei uns am 12.03.2024 eingegangen, die "
               "Erstattung über 49,90 € wurde veranlasst. Sendungsnummer (DHL): "
               "00340434161234567890. Die Gutschrift erfolgt z.B. in 3-5 Werktagen, ca. 10:00 "
               "Uhr. Vielen Dank für Ihr Feedback.\n\nMit freundlichen Grüßen\nMuster GmbH & "
               "Co. KG", ""},
        {"de", "Hallo, wir senden Ihnen kostenlos einen Ersatzartikel (Art.-Nr. AB-1234-567, "
               "Größe 42). Bitte nutzen Sie für die Rückgabe das Etikett unter Meine Bestellungen "
               "auf amazon.de. Sie erhalten außerdem einen Preisnachlass von 10 % als "
               "Entschädigung.", ""},
        {"fr", "Bonjour Madame Dupont,\n\nMerci pour votre message concernant la commande "
               "405-1234567-1234567. Nous avons remboursé 29,90 € le 03/04/2024. Le numéro de "
               "suivi est 6A12345678901 ; le point relais le plus proche est indiqué dans Vos "
               "commandes. Merci pour votre retour, c'est un point important pour nous.\n\nBien "
               "cordialement", ""},
        {"it", "Gentile cliente,\n\nla ringraziamo per il suo messaggio relativo all'ordine "
               "n.ro 402-1234567-1234567. Abbiamo emesso un rimborso di 25,00 € il 12/05/2024; "
               "il prodotto sostitutivo partirà domani (tracking 1234567890). Grazie per il suo "
               "feedback. Il punto è che il corriere ha perso il pacco.\n\nCordiali saluti, "
               "Sig.ra Bianchi", ""},
        {"es", "Hola, Sr. García:\n\nGracias por su mensaje sobre el pedido "
               "171-1234567-1234567. Le hemos enviado un reembolso de 19,99 € el 05-06-2024 y "
               "una sustitución con número de seguimiento ES123456789012. El punto es que el "
               "paquete llegó dañado; gracias por sus comentarios.\n\nUn saludo cordial", ""},
        {"ja", "山田様\n\nこの度はご注文（注文番号：250-1234567-1234567）いただき、誠に"
               "ありがとうございます。2024年3月15日にヤマト運輸にて発送いたしました。お問い"
               "合わせ番号は1234-5678-9012です。¥3,980を返金いたしました。交換品の手配も可能"
               "です。オンラインでの返品手続きはガイドラインをご確認ください。貴重なご意見を"
               "ありがとうございます。\n※返品は30日以内にお願いいたします。", ""},
        {"ja", "〒100-0001 東京都千代田区1-1 サイズ（S・M・L）をご確認ください。セールス"
               "担当より回答いたします。", ""},
    };
    RUN(*st, cs);
}

/* ---- plain_text --------------------------------------------------------- */

static void test_plain_text(void **st)
{
    static const tcase cs[] = {
        {"en", "Hello,<br>your order has shipped.", "plain_text"},
        {"en", "Hello, your order has shipped. If the total is < 50 EUR or 3 * 4 items, the "
               "#1 option is free for R&D. I <3 it.", "emoji"},
        {"de", "Ihre Bestellung wurde <b>heute</b> versandt.", "plain_text,plain_text"},
        {"de", "Ihre Bestellung wurde heute versandt. Müller & Söhne, a > b.", ""},
        {"fr", "Votre colis arrive demain&nbsp;! Merci.", "plain_text"},
        {"fr", "Votre colis arrive demain ! Merci & à bientôt.", ""},
        {"it", "Trova le istruzioni [qui](https://www.amazon.it/gp/help).", "plain_text"},
        {"it", "Trova le istruzioni qui (pagina 2) [nota 1].", ""},
        {"es", "**Importante:** su reembolso ya está en camino.", "plain_text"},
        {"es", "Importante: su reembolso ya está en camino (5 * 2 = 10).", ""},
        {"es", "## Reembolso\nYa está en camino.", "plain_text"},
        {"ja", "<p>ご注文ありがとうございます。</p>", "plain_text,plain_text"},
        {"ja", "ご注文ありがとうございます。※返品は30日以内です。", ""},
        {"en", "See ![photo](http://x.example.com/p.png) &#8364; &amp [url=x]a[/url]",
         "plain_text,plain_text,plain_text,plain_text,plain_text,link"},
    };
    RUN(*st, cs);
    expect_quote(*st, "Dear <customer name>, thanks.", RP_CHECK_PLAIN_TEXT, "<customer name>");
}

/* ---- link --------------------------------------------------------------- */

static void test_link(void **st)
{
    static const tcase cs[] = {
        {"en", "Track it at www.parcel-tracker.com today.", "link"},
        {"en", "Track it in Your Orders, e.g. on the app (v1.2). It costs 9.99, see invoice.pdf.",
         ""},
        {"en", "Download the manual from example dot com or example[.]org.", "link,link"},
        /* "x at y dot com" reads as an address */
        {"en", "Download the manual at example dot com.", "email"},
        {"de", "Weitere Infos unter https://shop.beispiel.de/rueckgabe?id=1.", "link"},
        {"de", "Weitere Infos z.B. unter Meine Bestellungen, u.a. auf amazon.de oder "
               "https://sellercentral.amazon.de/help.", ""},
        {"fr", "Rendez-vous sur exemple.fr pour le formulaire.", "link"},
        {"fr", "Rendez-vous au point de vente, c.-à-d. le point relais (réf. 12.5).", ""},
        {"it", "Visiti esempio punto it per le istruzioni.", "link"},
        {"it", "Gent.mo cliente, ordine n.ro 12, Sig.ra Rossi, P.IVA 01234567890.", ""},
        {"es", "Consulte ejemplo.es/devoluciones para más información.", "link"},
        {"es", "El punto es que el Sr. López pagó 12.50 € (aprox.).", ""},
        {"ja", "詳しくはｅｘａｍｐｌｅ．ｃｏ．ｊｐをご覧ください。", "link"},
        {"ja", "詳しくはAmazon.co.jpの注文履歴をご覧ください。", ""},
    };
    RUN(*st, cs);
    expect_quote(*st, "See http://evil.example/x) now", RP_CHECK_LINK, "http://evil.example/x");
    /* user info does not make a foreign host look like Amazon */
    expect(*st, "https://www.amazon.de@evil.example.com/login", "link,email");
    expect(*st, "amazon.de.evil.com", "link");
    expect(*st, "Find us @shop.example.com", "link");
}

static void test_allowed_domains(void **st)
{
    (void)st;
    static const char *const dom[] = {"example.com", ".Shop.Example.DE"};
    rp_compliance_opts o;
    rp_compliance_opts_default(&o);
    o.allowed_domains = dom;
    o.nallowed_domains = 2;
    rp_compliance *c;
    rp_error err;
    assert_int_equal(rp_compliance_new(&o, &c, &err), RP_OK);
    rp_compliance_ctx ctx = {0};
    rp_findings f;
    check(c, &ctx, NULL,
          "See example.com, https://help.example.com/a and www.shop.example.de; not amazon.de.",
          &f);
    assert_string_equal(names(&f), "link");
    assert_string_equal(f.items[0].text, "amazon.de");
    check(c, &ctx, NULL, "example.com.evil.io", &f);
    assert_string_equal(names(&f), "link");
    rp_compliance_ctx_free(&ctx);
    rp_compliance_free(c);

    static const char *const bad[] = {"exa mple.com"};
    o.allowed_domains = bad;
    o.nallowed_domains = 1;
    assert_int_equal(rp_compliance_new(&o, &c, &err), RP_ECONFIG);
    assert_non_null(strstr(err.msg, "exa mple.com"));
}

/* ---- email -------------------------------------------------------------- */

static void test_email(void **st)
{
    static const tcase cs[] = {
        {"en", "Write to returns@example.com and we will help.", "email"},
        {"en", "We will email you the invoice at the latest by Monday.", ""},
        {"en", "Contact john at gmail dot com or john at gmail.com.", "email,email"},
        {"de", "Schreiben Sie an service(at)beispiel.de für Rückfragen.", "email"},
        {"de", "Wir schreiben Ihnen per E-Mail über Amazon, at home oder im Büro.", ""},
        {"fr", "Écrivez à jean.dupont at gmail dot com pour le suivi.", "email"},
        {"fr", "Nous vous écrirons par e-mail via la messagerie Amazon.", ""},
        {"it", "Scriva a mario.rossi@libero.it per il reso.", "email"},
        {"it", "Le scriveremo tramite la messaggistica di Amazon.", ""},
        {"es", "Escriba a ventas [at] ejemplo [dot] es para devoluciones.", "email"},
        {"es", "Le escribiremos a través de los mensajes de Amazon.", ""},
        {"ja", "ｉｎｆｏ＠ｅｘａｍｐｌｅ．ｃｏ．ｊｐまでお送りください。", "email"},
        {"ja", "Amazonのメッセージ機能からご返信ください。", ""},
        /* the marketplace's relay addresses are addresses too */
        {"en", "Reply to abc123xyz@marketplace.amazon.de.", "email"},
    };
    RUN(*st, cs);
    expect_quote(*st, "Mail: Max.Muster+de@Beispiel.de.", RP_CHECK_EMAIL, "Max.Muster+de@Beispiel.de");
}

/* ---- phone -------------------------------------------------------------- */

static void test_phone(void **st)
{
    static const tcase cs[] = {
        {"en", "Call us on (212) 555-0199 any time.", "phone"},
        {"en", "Or +44 20 7946 0958 / 020 7946 0958, or 212-555-0199.", "phone,phone,phone"},
        {"en", "Order 111-5519525-8704195, shipped 2024-03-15 at 14:30, $1,299.99, ZIP 02134, "
               "tracking 1Z999AA10123456784 and 420 9999 9999 9999 9999 9999 99.", ""},
        {"en", "Tel. 5550199 and later.", "phone"},
        {"en", "Your reference is 5550199.", ""},
        /* an unusual shape needs a phone word addressed to the buyer before it */
        {"en", "We called the carrier about parcel 12345678.", ""},
        {"de", "Nach einem Anruf bei DHL: Sendung 12345678.", ""},
        {"de", "Rufen Sie uns an unter 12345678.", "phone"},
        {"fr", "Nous avons appelé le transporteur, colis 12345678.", ""},
        {"fr", "Appelez-nous au 12345678.", "phone"},
        {"it", "Abbiamo chiamato il corriere, spedizione 12345678.", ""},
        {"it", "Chiamaci al 3331234567.", "phone"},
        {"es", "Llamamos a la empresa de transporte, envío 12345678.", ""},
        {"es", "Llámenos al 912345678.", "phone"},
        {"ja", "配送業者に電話で確認しました。お問い合わせ番号123456789012", ""},
        {"ja", "お電話番号：0312345678", "phone"},
        {"de", "Rufen Sie uns an: 030/1234567 oder +49 30 1234567.", "phone,phone"},
        {"de", "Bestellung 302-1234567-1234567 vom 12.03.2024, 10115 Berlin, 49,90 €, "
               "Sendungsnummer 00340434161234567890, IBAN DE89 3704 0044 0532 0130 00.", ""},
        {"fr", "Appelez le 01 23 45 67 89 ou le 06.12.34.56.78.", "phone,phone"},
        {"fr", "Commande 405-1234567-1234567 du 03/04/2024, 75001 Paris, 29,90 €.", ""},
        {"it", "Chiamaci al 06 1234 5678 oppure al 333 123 4567.", "phone,phone"},
        {"it", "Ordine 402-1234567-1234567 del 12/05/2024, CAP 00184, 25,00 €.", ""},
        {"es", "Llámenos al 912 345 678 o al +34 612 345 678.", "phone,phone"},
        {"es", "Pedido 171-1234567-1234567 del 05-06-2024, CP 28001, 19,99 €.", ""},
        {"ja", "お電話は03-1234-5678、フリーダイヤル0120-123-456、携帯090-1234-5678まで。",
         "phone,phone,phone"},
        {"ja", "電話：０３－１２３４－５６７８", "phone"},
        {"ja", "〒100-0001、お問い合わせ番号1234-5678-9012、2024/03/15発送、¥3,980。", ""},
    };
    RUN(*st, cs);
}

static void test_allow_phone(void **st)
{
    (void)st;
    rp_compliance_opts o;
    rp_compliance_opts_default(&o);
    o.allow_phone = true;
    rp_compliance *c;
    rp_error err;
    assert_int_equal(rp_compliance_new(&o, &c, &err), RP_OK);
    rp_compliance_ctx ctx = {0};
    rp_findings f;
    check(c, &ctx, NULL, "Call +49 30 1234567 or write to a@example.com.", &f);
    assert_string_equal(names(&f), "email");
    rp_compliance_ctx_free(&ctx);
    rp_compliance_free(c);
}

/* ---- off_platform ------------------------------------------------------- */

static void test_off_platform(void **st)
{
    static const tcase cs[] = {
        {"en", "Message us on WhatsApp and we will sort it out.", "off_platform"},
        {"en", "Add us on LINE for faster help.", "off_platform"},
        {"en", "Please read the first line of the label. ORDER LINE ITEMS are listed online.",
         ""},
        {"en", "You can order directly from us on our website.", "off_platform,off_platform"},
        {"en", "Please reply to this message in your Amazon account.", ""},
        {"de", "Bestellen Sie direkt bei uns, außerhalb von Amazon.", "off_platform,off_platform"},
        {"de", "Die Online-Rücksendung starten Sie in Ihrem Amazon-Konto.", ""},
        {"fr", "Contactez-nous directement en dehors d'Amazon.", "off_platform,off_platform"},
        {"fr", "Vous pouvez nous répondre directement via la messagerie Amazon.", ""},
        {"it", "Può contattarci al di fuori di Amazon su Telegram.", "off_platform,off_platform"},
        {"it", "Può risponderci direttamente tramite i messaggi di Amazon.", ""},
        {"es", "Compre fuera de Amazon en nuestra tienda online.", "off_platform,off_platform"},
        {"es", "Puede respondernos desde sus pedidos de Amazon.", ""},
        {"ja", "LINEでご連絡ください。アマゾン以外でもご購入いただけます。",
         "off_platform,off_platform"},
        {"ja", "オンラインでの返品はガイドラインをご確認ください。生産ラインを確認しました。", ""},
    };
    RUN(*st, cs);
    expect_quote(*st, "Bitte kontaktieren Sie uns AUSSERHALB VON AMAZON.", RP_CHECK_OFF_PLATFORM,
                 "AUSSERHALB VON AMAZON");
}

/* ---- review_incentive --------------------------------------------------- */

static void test_review(void **st)
{
    static const tcase cs[] = {
        {"en", "We would appreciate a 5-star review!", "review_incentive"},
        {"en", "Could you please remove your review? Please don't leave negative feedback.",
         "review_incentive,review_incentive"},
        {"en", "Thank you for your feedback. Thank you for your positive feedback!", ""},
        {"de", "Über eine positive Bewertung mit 5 Sternen freuen wir uns.",
         "review_incentive,review_incentive"},
        {"de", "Vielen Dank für Ihr Feedback und Ihre Bewertung.", ""},
        {"fr", "Laissez-nous une évaluation positive, 5 étoiles !",
         "review_incentive,review_incentive"},
        {"fr", "Merci pour votre retour et votre avis.", ""},
        {"it", "Ci lasci una recensione positiva e le rimborsiamo la spedizione.",
         "review_incentive"},
        {"it", "Grazie per il suo feedback e la sua recensione.", ""},
        /* overlapping phrases are one finding */
        {"es", "Si nos deja una valoración positiva le enviamos un regalo.", "review_incentive"},
        {"es", "Valoración positiva, por favor: 5 estrellas.", "review_incentive,review_incentive"},
        {"es", "Gracias por su opinión y sus comentarios.", ""},
        {"ja", "高評価をお願いします。レビューを削除していただけますか。",
         "review_incentive,review_incentive"},
        {"ja", "貴重なご意見をありがとうございます。レビューは参考にいたします。", ""},
    };
    RUN(*st, cs);
    expect_quote(*st, "Eine POSITIVE BEWERTUNG hilft.", RP_CHECK_REVIEW, "POSITIVE BEWERTUNG");
    expect_quote(*st, "Please leave 5 stars.", RP_CHECK_REVIEW, "5 stars");
    expect_quote(*st, "星５つをお願いします", RP_CHECK_REVIEW, "星５つ");
    /* decomposed accents quote the original bytes */
    expect_quote(*st, "une e\xcc\x81valuation positive", RP_CHECK_REVIEW,
                 "e\xcc\x81valuation positive");
}

/* ---- marketing ---------------------------------------------------------- */

static void test_marketing(void **st)
{
    static const tcase cs[] = {
        {"en", "Use coupon code SAVE10 on your next order.", "marketing,marketing"},
        {"en", "We have issued a refund and will send a replacement.", ""},
        {"en", "Get 10% off and check out our other products!", "marketing,marketing"},
        {"de", "Ihr Gutscheincode: HERBST. Abonnieren Sie unseren Newsletter!",
         "marketing,marketing"},
        {"de", "Wir haben die Erstattung veranlasst; die Gutschrift sehen Sie bald.", ""},
        {"fr", "Profitez du code promo ETE et suivez-nous !", "marketing,marketing"},
        {"fr", "Nous avons effectué le remboursement et envoyé un remplacement.", ""},
        {"it", "Con il codice sconto CIAO ottieni 20% di sconto.", "marketing,marketing"},
        {"it", "Abbiamo emesso il rimborso e spedito la sostituzione.", ""},
        {"es", "Use el código de descuento HOLA, síguenos.", "marketing,marketing"},
        {"es", "Hemos emitido el reembolso y enviado un reemplazo.", ""},
        {"ja", "次回使えるクーポンを差し上げます。セール開催中！", "marketing,marketing,marketing"},
        {"ja", "返金と交換の手続きをいたしました。セールス担当者が対応します。", ""},
    };
    RUN(*st, cs);
    expect_quote(*st, "Get 10% off today", RP_CHECK_MARKETING, "10% off");
}

/* ---- emoji -------------------------------------------------------------- */

static void test_emoji(void **st)
{
    static const tcase cs[] = {
        {"en", "Thanks! \xf0\x9f\x98\x8a", "emoji"},
        {"en", "Thanks! (See note 3.) Time: 10:30. \xc2\xa9 2024 Acme\xe2\x84\xa2 \xc2\xae", ""},
        {"de", "Danke :-) Bis bald ;)", "emoji,emoji"},
        {"de", "Danke: Ihre Bestellung (Nr. 5) ist unterwegs.", ""},
        {"fr", "Merci \xe2\x9d\xa4\xef\xb8\x8f", "emoji"},
        {"fr", "Merci : votre colis (réf. 3) arrive.", ""},
        {"it", "Grazie \xf0\x9f\x91\x8d\xf0\x9f\x8f\xbd", "emoji"},
        {"it", "Grazie; il pacco (n. 2) arriva.", ""},
        {"es", "Gracias \xf0\x9f\x87\xaa\xf0\x9f\x87\xb8 :D", "emoji,emoji"},
        {"es", "Gracias: su pedido (ref. 7) llega.", ""},
        {"ja", "ありがとうございます(^^)（笑）", "emoji,emoji"},
        {"ja", "ありがとうございます。※〒100-0001 ★☆♪ ■□ サイズ（S・M・L）", ""},
    };
    RUN(*st, cs);
    expect_quote(*st, "family \xf0\x9f\x91\xa8\xe2\x80\x8d\xf0\x9f\x91\xa9\xe2\x80\x8d\xf0\x9f\x91\xa7 ok",
                 RP_CHECK_EMOJI,
                 "\xf0\x9f\x91\xa8\xe2\x80\x8d\xf0\x9f\x91\xa9\xe2\x80\x8d\xf0\x9f\x91\xa7");
    expect_quote(*st, "Press 1\xef\xb8\x8f\xe2\x83\xa3 now", RP_CHECK_EMOJI,
                 "1\xef\xb8\x8f\xe2\x83\xa3");
    expect_quote(*st, "\xc2\xa9\xef\xb8\x8f Acme", RP_CHECK_EMOJI, "\xc2\xa9\xef\xb8\x8f");
}

/* ---- length ------------------------------------------------------------- */

static char *repeat(const char *unit, size_t times)
{
    size_t l = strlen(unit);
    char *s = malloc(l * times + 1);
    assert_non_null(s);
    for (size_t i = 0; i < times; i++)
        memcpy(s + i * l, unit, l);
    s[l * times] = '\0';
    return s;
}

static void test_length(void **st)
{
    fixture *fx = *st;
    rp_findings f;
    char *subj = repeat("a", 201), *ok_subj = repeat("\xe3\x81\x82", 200);
    char *body = repeat("b", 4001), *ja = repeat("\xe3\x81\x82", 1400);
    check(fx->c, &fx->ctx, subj, "Thanks.", &f);
    assert_string_equal(names(&f), "length");
    assert_string_equal(f.items[0].text, "subject: 201 characters, limit 200");
    check(fx->c, &fx->ctx, ok_subj, ja, &f); /* counted in characters, not bytes */
    assert_string_equal(names(&f), "");
    check(fx->c, &fx->ctx, "Re: order", body, &f);
    assert_string_equal(names(&f), "length");
    assert_string_equal(f.items[0].text, "body: 4001 characters, limit 4000");
    check(fx->c, &fx->ctx, "Re: order", " \n\t\xe3\x80\x80\xc2\xa0", &f);
    assert_string_equal(names(&f), "length");
    assert_string_equal(f.items[0].text, "body: empty");
    check(fx->c, &fx->ctx, "Re: order", "", &f);
    assert_string_equal(names(&f), "length");

    rp_compliance_opts o;
    rp_compliance_opts_default(&o);
    o.max_subject_chars = 5;
    o.max_body_chars = 10;
    rp_compliance *c;
    rp_error err;
    assert_int_equal(rp_compliance_new(&o, &c, &err), RP_OK);
    rp_compliance_ctx ctx = {0};
    check(c, &ctx, "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9", "0123456789", &f);
    assert_string_equal(names(&f), "");
    check(c, &ctx, "abcdef", "0123456789a", &f);
    assert_string_equal(names(&f), "length,length");
    rp_compliance_ctx_free(&ctx);
    rp_compliance_free(c);
    free(subj);
    free(ok_subj);
    free(body);
    free(ja);
}

/* ---- quoting, limits, context reuse ------------------------------------- */

static void test_quote_truncation(void **st)
{
    fixture *fx = *st;
    rp_findings f;
    /* a header of two-byte letters: cut on a character boundary */
    char *h = repeat("\xc3\xa9", 80);
    char *text = malloc(strlen(h) + 3);
    assert_non_null(text);
    strcpy(text, "# ");
    strcat(text, h);
    check(fx->c, &fx->ctx, NULL, text, &f);
    assert_string_equal(names(&f), "plain_text");
    size_t l = strlen(f.items[0].text);
    assert_true(l <= RP_FINDING_TEXT_MAX - 1 && l >= RP_FINDING_TEXT_MAX - 3);
    assert_int_equal(l % 2, 0); /* "# " and whole two-byte letters */
    assert_memory_equal(f.items[0].text, text, l);
    /* three-byte letters */
    char *k = repeat("\xe3\x81\x82", 60);
    strcpy(text, "# ");
    char *text2 = malloc(strlen(k) + 3);
    assert_non_null(text2);
    strcpy(text2, "# ");
    strcat(text2, k);
    check(fx->c, &fx->ctx, NULL, text2, &f);
    l = strlen(f.items[0].text);
    assert_true(l <= RP_FINDING_TEXT_MAX - 1);
    assert_int_equal((l - 2) % 3, 0);
    assert_memory_equal(f.items[0].text, text2, l);
    /* invalid bytes never reach a quote */
    check(fx->c, &fx->ctx, NULL, "[a\xff\x01](x)\xc3", &f);
    assert_string_equal(names(&f), "plain_text");
    assert_string_equal(f.items[0].text, "[a\xef\xbf\xbd ](x)");
    free(h);
    free(k);
    free(text);
    free(text2);
}

static void test_many_findings(void **st)
{
    fixture *fx = *st;
    rp_findings f;
    char buf[1024] = "";
    for (int i = 0; i < 20; i++) {
        char one[40];
        snprintf(one, sizeof one, "a%d@example.com ", i);
        strcat(buf, one);
    }
    check(fx->c, &fx->ctx, NULL, buf, &f);
    assert_int_equal(f.n, RP_MAX_FINDINGS);
    assert_true(f.truncated);
    assert_true(rp_findings_blocking(&f));
    for (size_t i = 0; i < f.n; i++)
        assert_int_equal(f.items[i].check, RP_CHECK_EMAIL);
    assert_string_equal(f.items[0].text, "a0@example.com");
    /* the same offence many times is one finding */
    char *e = repeat("\xf0\x9f\x98\x80 :) ", 200);
    check(fx->c, &fx->ctx, NULL, e, &f);
    assert_string_equal(names(&f), "emoji,emoji");
    assert_false(f.truncated);
    free(e);
    /* the context is reused: nothing carries over */
    check(fx->c, &fx->ctx, "Your order", "Thank you, your refund is on its way.", &f);
    assert_int_equal(f.n, 0);
    assert_false(f.truncated);
    assert_false(rp_findings_blocking(&f));
    /* subject and body are both checked */
    check(fx->c, &fx->ctx, "Win a coupon :)", "See www.example.com", &f);
    assert_string_equal(names(&f), "link,marketing,emoji");
}

static void test_check_names(void **st)
{
    (void)st;
    static const char *const want[] = {"plain_text", "link", "email", "phone", "off_platform",
                                       "review_incentive", "marketing", "emoji", "length"};
    for (int i = 0; i < RP_CHECK_COUNT; i++)
        assert_string_equal(rp_check_name((rp_check)i), want[i]);
    assert_string_equal(rp_check_name(RP_CHECK_COUNT), "unknown");
}

/* ---- the phrase-list format --------------------------------------------- */

static void test_extra_phrases(void **st)
{
    (void)st;
    rp_compliance_opts o;
    rp_compliance_opts_default(&o);
    o.extra_phrases = "language: de\n"
                      "marketing:\n  - acme club*\n"
                      "off_platform: [\"über unsere app\"]\n"
                      "exceptions: []\n"
                      "phone_context: [durchwahl]\n";
    o.extra_phrases_name = "extra.yaml";
    rp_compliance *c;
    rp_error err;
    assert_int_equal(rp_compliance_new(&o, &c, &err), RP_OK);
    rp_compliance_ctx ctx = {0};
    rp_findings f;
    check(c, &ctx, NULL, "Werden Sie Mitglied im ACME Clubhaus, bestellen Sie ueber unsere App.",
          &f);
    assert_string_equal(names(&f), "off_platform,marketing");
    assert_string_equal(f.items[0].text, "ueber unsere App");
    assert_string_equal(f.items[1].text, "ACME Clubhaus");
    check(c, &ctx, NULL, "Durchwahl 5550199.", &f);
    assert_string_equal(names(&f), "phone");
    rp_compliance_ctx_free(&ctx);
    rp_compliance_free(c);

    static const struct {
        const char *doc, *want;
    } bad[] = {
        {"language: xx\n", "extra.yaml:1:11: language must be one of"},
        {"marketing: [a]\n", "extra.yaml:1:1: missing 'language'"},
        {"language: en\nads: [a]\n", "extra.yaml:2:1: unknown key: ads"},
        {"language: en\nmarketing: coupon\n", "extra.yaml:2:12: 'marketing' must be a list"},
        {"language: en\nmarketing:\n  - [a]\n", "extra.yaml:3:5: a phrase must be a string"},
        {"language: en\nmarketing:\n  - \"*\"\n", "extra.yaml:3:5: phrase \"*\" has no letters"},
        {"language: en\nmarketing: [a\n", "extra.yaml:"},
        {"- a\n", "extra.yaml:1:1: a compliance list is a mapping"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        o.extra_phrases = bad[i].doc;
        rp_error_clear(&err);
        assert_int_equal(rp_compliance_new(&o, &c, &err), RP_ECONFIG);
        if (strncmp(err.msg, bad[i].want, strlen(bad[i].want)) != 0)
            fail_msg("doc %zu: want \"%s...\", got \"%s\"", i, bad[i].want, err.msg);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_clean_replies, setup, teardown),
        cmocka_unit_test_setup_teardown(test_plain_text, setup, teardown),
        cmocka_unit_test_setup_teardown(test_link, setup, teardown),
        cmocka_unit_test(test_allowed_domains),
        cmocka_unit_test_setup_teardown(test_email, setup, teardown),
        cmocka_unit_test_setup_teardown(test_phone, setup, teardown),
        cmocka_unit_test(test_allow_phone),
        cmocka_unit_test_setup_teardown(test_off_platform, setup, teardown),
        cmocka_unit_test_setup_teardown(test_review, setup, teardown),
        cmocka_unit_test_setup_teardown(test_marketing, setup, teardown),
        cmocka_unit_test_setup_teardown(test_emoji, setup, teardown),
        cmocka_unit_test_setup_teardown(test_length, setup, teardown),
        cmocka_unit_test_setup_teardown(test_quote_truncation, setup, teardown),
        cmocka_unit_test_setup_teardown(test_many_findings, setup, teardown),
        cmocka_unit_test(test_check_names),
        cmocka_unit_test(test_extra_phrases),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
