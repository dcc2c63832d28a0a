#include "rp_test.h"

#include "rp_extract.h"
#include "rp_html.h"

static void expect_extract(const char *in, const char *want)
{
    char *got = rp_extract_buyer_text(in, strlen(in));
    assert_non_null(got);
    assert_string_equal(got, want);
    free(got);
}

static void test_relay_frame(void **st)
{
    (void)st;
    expect_extract("Sie haben eine Nachricht erhalten.\n\n"
                   "------------- Beginn der Nachricht -------------\n\n"
                   "Wo ist mein Paket?\n\n"
                   "------------- Ende der Nachricht -------------\n\n"
                   "War diese E-Mail hilfreich?\n",
                   "Wo ist mein Paket?");
}

static void test_quotes_and_signatures(void **st)
{
    (void)st;
    expect_extract("Thanks, it arrived.\n\nOn Mon, 3 Nov 2025, Shop <s@example.test> wrote:\n> Your "
                   "parcel ships today.\n",
                   "Thanks, it arrived.");
    expect_extract("Danke!\n\nAm 03.11.2025 um 10:00 schrieb Shop <s@example.test>:\n> alt\n",
                   "Danke!");
    expect_extract("Merci.\n\nLe lun. 3 nov. 2025 à 10:00, Shop <s@example.test> a écrit :\n> x\n",
                   "Merci.");
    expect_extract("Line one\n> quoted inline\nLine two\n", "Line one\nLine two");
    expect_extract("Hello\n\n-- \nJane\n", "Hello");
    expect_extract("Hola\n\nEnviado desde mi iPhone\n", "Hola");
    expect_extract("お願いします。\n\niPhoneから送信\n", "お願いします。");
    expect_extract("Bitte um Rückruf.\n\n-----Ursprüngliche Nachricht-----\nVon: Shop\nalt\n",
                   "Bitte um Rückruf.");
    expect_extract("Please help.\n\nFrom: Shop <s@example.test>\nSent: Monday\nTo: me\n\nold\n",
                   "Please help.");
    /* an ordinary line ending in a colon is not an attribution */
    expect_extract("I have two questions:\n1. size\n2. colour\n",
                   "I have two questions:\n1. size\n2. colour");
    /* two-line attribution */
    expect_extract("OK\n\nOn Mon, 3 Nov 2025 at 10:00, Shop\n<s@example.test> wrote:\n> x\n", "OK");
}

static void test_blank_lines(void **st)
{
    (void)st;
    expect_extract("\n\n  a  \n\n\n\nb\n\n", "  a\n\nb");
    expect_extract("", "");
}

static void test_order_id(void **st)
{
    (void)st;
    char id[20];
    assert_true(rp_find_order_id("Order: 302-1234567-7654321.", 27, id));
    assert_string_equal(id, "302-1234567-7654321");
    assert_false(rp_find_order_id("1302-1234567-7654321", 20, id));  /* too many digits */
    assert_false(rp_find_order_id("302-1234567-76543210", 20, id));
    assert_false(rp_find_order_id("302-123456-7654321", 18, id));
    const char *t = "ref 12 then (111-0000000-9999999)";
    assert_true(rp_find_order_id(t, strlen(t), id));
    assert_string_equal(id, "111-0000000-9999999");
}

static void test_html(void **st)
{
    (void)st;
    const char *h = "<html><head><title>T</title><style>p{color:red}</style></head><body>"
                    "<p>Bonjour,</p><p>la taille&nbsp;M&eacute;dium ? Prix&#160;: 20&#8364; "
                    "&amp; &#x263A;</p><div>ligne<br>suivante</div>"
                    "<script>alert(1)</script><blockquote>ancien message</blockquote>"
                    "<!-- commentaire --><p>a &lt; b</p></body></html>";
    char *t = rp_html_to_text(h, strlen(h));
    assert_non_null(t);
    assert_string_equal(t, "Bonjour,\n\nla taille Médium ? Prix : 20€ & ☺\n\nligne\nsuivante\n\na < b");
    free(t);
    t = rp_html_to_text("<p unclosed", 11);
    assert_non_null(t);
    free(t);
    t = rp_html_to_text("5 < 6 and <b>bold</b>", 21);
    assert_string_equal(t, "5 < 6 and bold");
    free(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_relay_frame),
        cmocka_unit_test(test_quotes_and_signatures),
        cmocka_unit_test(test_blank_lines),
        cmocka_unit_test(test_order_id),
        cmocka_unit_test(test_html),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
