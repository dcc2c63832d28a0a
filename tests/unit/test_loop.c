/* Loop protection: every reason with a message that triggers it, a normal
 * buyer that passes, sender parsing and glob patterns, the sender key, the
 * throttles on a fake clock, the memory history, the configuration guard,
 * and the raw fixtures in tests/fixtures/loop/ read through the mail reader. */
#include "rp_test.h"

#include <dirent.h>

#include "rp_config.h"
#include "rp_loop.h"
#include "rp_mail.h"

#define FIXDIR RP_FIXTURES "/loop"

static rp_config *config(const char *yaml)
{
    rp_config *c = NULL;
    rp_error err;
    rp_error_clear(&err);
    if (rp_config_parse(yaml, strlen(yaml), "t.yaml", "/tmp", &c, &err) != RP_OK)
        fail_msg("config: %s", err.msg);
    return c;
}

static rp_loop *loop_of(const rp_config *c)
{
    rp_loop *l = NULL;
    rp_error err;
    rp_error_clear(&err);
    if (rp_loop_new(c, &l, &err) != RP_OK)
        fail_msg("rp_loop_new: %s", err.msg);
    return l;
}

/* A message from from (may be NULL) with subject and headers given as
 * name, value pairs ending in NULL. */
static rp_message *msg(const char *from, const char *subject, ...)
{
    rp_message *m = rp_message_new();
    assert_non_null(m);
    assert_int_equal(rp_message_set(&m->from, from), RP_OK);
    assert_int_equal(rp_message_set(&m->subject, subject), RP_OK);
    assert_int_equal(rp_message_set(&m->body, "Hello"), RP_OK);
    va_list ap;
    va_start(ap, subject);
    const char *name;
    while ((name = va_arg(ap, const char *)) != NULL) {
        const char *value = va_arg(ap, const char *);
        assert_int_equal(rp_message_add_header(m, name, value), RP_OK);
    }
    va_end(ap);
    return m;
}

static const char *const buyer =
    "\"Jonas K. - Amazon Marketplace\" <a1b2c3d4e5@marketplace.amazon.de>";

/* A detail may show a configured pattern ("*@amazon.de") but no address:
 * every '@' in it follows a '*'. */
static bool detail_is_clean(const char *d)
{
    for (const char *p = strchr(d, '@'); p; p = strchr(p + 1, '@'))
        if (p == d || p[-1] != '*')
            return false;
    return true;
}

/* the reason for m, and its detail never quotes an address */
static rp_loop_reason check(const rp_loop *l, const rp_message *m, char *detail)
{
    char buf[256];
    char *d = detail ? detail : buf;
    rp_loop_reason r = rp_loop_check(l, m, d, 256);
    if (!detail_is_clean(d))
        fail_msg("detail quotes an address: %s", d);
    if (r == RP_LOOP_NONE && d[0])
        fail_msg("detail without a reason: %s", d);
    if (r != RP_LOOP_NONE && !d[0])
        fail_msg("reason %s without a detail", rp_loop_reason_name(r));
    return r;
}

static void expect(const rp_loop *l, rp_message *m, rp_loop_reason want, const char *detail_part)
{
    char d[256];
    rp_loop_reason got = check(l, m, d);
    if (got != want)
        fail_msg("got %s (%s), want %s", rp_loop_reason_name(got), d, rp_loop_reason_name(want));
    if (detail_part && !strstr(d, detail_part))
        fail_msg("detail \"%s\" lacks \"%s\"", d, detail_part);
    rp_message_free(m);
}

static void test_reason_names(void **st)
{
    (void)st;
    static const char *const want[] = {
        "none",          "null_return_path",       "auto_submitted",   "list",
        "precedence",    "auto_response_suppress", "autoreply_header", "delivery_report",
        "system_sender", "noreply_sender",         "list_sender",      "notification_sender",
        "own_address",   "auto_reply_subject",     "once_per_period",  "hourly_cap"};
    assert_int_equal(sizeof want / sizeof *want, RP_LOOP_REASON_COUNT);
    for (int i = 0; i < RP_LOOP_REASON_COUNT; i++)
        assert_string_equal(rp_loop_reason_name((rp_loop_reason)i), want[i]);
    assert_string_equal(rp_loop_reason_name(RP_LOOP_REASON_COUNT), "unknown");
}

static void test_normal_buyer_passes(void **st)
{
    (void)st;
    rp_config *c = config("");
    rp_loop *l = loop_of(c);
    expect(l,
           msg(buyer, "Produktanfrage von Amazon-Kunde Jonas K. (Bestellung: 302-4471920-8815523)",
               "Return-Path", "<0102019a3c5e-000000@eu-west-1.amazonses.com>", "Auto-Submitted",
               "no", "Auto-Submitted", "No (sent by a person)", "X-Mailer", "Amazon",
               "Content-Type", "text/plain; charset=UTF-8", "Precedence", "first-class",
               "X-Auto-Response-Suppress", "DR, RN", "X-Autoreply", "no", NULL),
           RP_LOOP_NONE, NULL);
    /* no sender at all (JSON Lines input may lack it): not a reason by itself */
    expect(l, msg(NULL, "Where is my parcel?", NULL), RP_LOOP_NONE, NULL);
    /* subjects that only look close */
    expect(l, msg(buyer, "Out of stock? When can I order again", NULL), RP_LOOP_NONE, NULL);
    expect(l, msg(buyer, "不在通知が届きました", NULL), RP_LOOP_NONE, NULL);
    expect(l, msg(buyer, "Autoreplying is not what I wanted", NULL), RP_LOOP_NONE, NULL);
    expect(l, msg(buyer, "Re: my automatic reply preferences", NULL), RP_LOOP_NONE, NULL);
    expect(l, msg(buyer, NULL, NULL), RP_LOOP_NONE, NULL);
    /* local parts that merely contain the letters */
    expect(l, msg("casinoreply@example.test", "Hi", NULL), RP_LOOP_NONE, NULL);
    expect(l, msg("owner@example.test", "Hi", NULL), RP_LOOP_NONE, NULL);
    expect(l, msg("postmasters-club@example.test", "Hi", NULL), RP_LOOP_NONE, NULL);
    expect(l, msg("requests@example.test", "Hi", NULL), RP_LOOP_NONE, NULL);
    rp_loop_free(l);
    rp_config_free(c);
}

static void test_header_reasons(void **st)
{
    (void)st;
    rp_config *c = config("");
    rp_loop *l = loop_of(c);
    expect(l, msg(buyer, "x", "Return-Path", "<>", NULL), RP_LOOP_NULL_RETURN_PATH, "<>");
    expect(l, msg(buyer, "x", "Return-Path", " < > ", NULL), RP_LOOP_NULL_RETURN_PATH, NULL);
    expect(l, msg(buyer, "x", "Return-Path", "", NULL), RP_LOOP_NULL_RETURN_PATH, NULL);
    expect(l, msg(buyer, "x", "auto-submitted", "Auto-Replied", NULL), RP_LOOP_AUTO_SUBMITTED,
           "Auto-Submitted: Auto-Replied");
    /* parameters are ignored, and an address in them never reaches the detail */
    expect(l, msg(buyer, "x", "Auto-Submitted", "auto-replied; owner-email=\"a@b.example\"", NULL),
           RP_LOOP_AUTO_SUBMITTED, "Auto-Submitted: auto-replied");
    expect(l, msg(buyer, "x", "Auto-Submitted", "auto-generated (warning-timeout)", NULL),
           RP_LOOP_AUTO_SUBMITTED, "auto-generated");
    expect(l, msg(buyer, "x", "Auto-Submitted", "", NULL), RP_LOOP_AUTO_SUBMITTED, "(empty)");
    /* every occurrence counts: a "no" first does not hide a second */
    expect(l, msg(buyer, "x", "Auto-Submitted", "no", "Auto-Submitted", "auto-notified", NULL),
           RP_LOOP_AUTO_SUBMITTED, "auto-notified");
    static const char *const lists[] = {
        "List-Id",        "List-Unsubscribe", "List-Post",    "List-Help",
        "List-Subscribe", "List-Owner",       "List-Archive", NULL};
    for (int i = 0; lists[i]; i++)
        expect(l, msg(buyer, "x", lists[i], "<mailto:x@lists.example>", NULL), RP_LOOP_LIST,
               lists[i]);
    expect(l, msg(buyer, "x", "list-id", "Shop news <news.example>", NULL), RP_LOOP_LIST, NULL);
    static const char *const prec[] = {"bulk", "JUNK", "list", "auto_reply", NULL};
    for (int i = 0; prec[i]; i++)
        expect(l, msg(buyer, "x", "Precedence", prec[i], NULL), RP_LOOP_PRECEDENCE, "Precedence");
    expect(l, msg(buyer, "x", "X-Precedence", "auto_reply", NULL), RP_LOOP_PRECEDENCE,
           "X-Precedence: auto_reply");
    expect(l, msg(buyer, "x", "X-Auto-Response-Suppress", "OOF", NULL),
           RP_LOOP_AUTO_RESPONSE_SUPPRESS, "OOF");
    expect(l, msg(buyer, "x", "X-Auto-Response-Suppress", "DR,RN,all", NULL),
           RP_LOOP_AUTO_RESPONSE_SUPPRESS, "All");
    expect(l, msg(buyer, "x", "X-Auto-Response-Suppress", "DR, AutoReply", NULL),
           RP_LOOP_AUTO_RESPONSE_SUPPRESS, "AutoReply");
    static const char *const ar[][2] = {{"X-Autoreply", "yes"},
                                        {"X-Autorespond", "Vacation"},
                                        {"X-Autoresponder", "1"},
                                        {"X-AutoReply-From", "shop@example.test"},
                                        {"X-Mail-Autoreply", "yes"},
                                        {"X-Autogenerated", "Reply"},
                                        {"X-FC-MachineGenerated", "true"},
                                        {"X-POST-MessageClass", "9; Autoresponder"},
                                        {"Delivered-To", "Autoresponder"},
                                        {"X-Amazon-Auto-Reply", "true"},
                                        {NULL, NULL}};
    for (int i = 0; ar[i][0]; i++)
        expect(l, msg(buyer, "x", ar[i][0], ar[i][1], NULL), RP_LOOP_AUTOREPLY_HEADER, ar[i][0]);
    /* markers switched off, or values that are not the marker */
    expect(l,
           msg(buyer, "x", "X-Autogenerated", "Forward", "Delivered-To", "orders@example.test",
               "X-FC-MachineGenerated", "false", "X-Autorespond", "no", NULL),
           RP_LOOP_NONE, NULL);
    expect(l,
           msg(buyer, "x", "Content-Type", "multipart/report; report-type=delivery-status", NULL),
           RP_LOOP_DELIVERY_REPORT, "multipart/report");
    expect(l, msg(buyer, "x", "Content-Type", "Message/Delivery-Status", NULL),
           RP_LOOP_DELIVERY_REPORT, "message/delivery-status");
    expect(l, msg(buyer, "x", "Content-Type", "message/disposition-notification", NULL),
           RP_LOOP_DELIVERY_REPORT, NULL);
    expect(l, msg(buyer, "x", "X-Failed-Recipients", "gone@example.test", NULL),
           RP_LOOP_DELIVERY_REPORT, "X-Failed-Recipients");
    expect(l, msg(buyer, "x", "Content-Type", "multipart/mixed; boundary=x", NULL), RP_LOOP_NONE,
           NULL);
    /* header checks come first: the strongest evidence is named */
    expect(l,
           msg("MAILER-DAEMON@mx.example", "Undelivered Mail", "Return-Path", "<>",
               "Auto-Submitted", "auto-replied", "Content-Type", "multipart/report", NULL),
           RP_LOOP_NULL_RETURN_PATH, NULL);
    rp_loop_free(l);
    rp_config_free(c);
}

static void test_sender_reasons(void **st)
{
    (void)st;
    rp_config *c =
        config("loop_protection:\n  own_addresses: [\"Shop <orders@example-shop.test>\"]\n"
               "marketplaces:\n  amazon.de: {sender: shop-de@example-shop.test}\n");
    rp_loop *l = loop_of(c);
    static const char *const sys[] = {"MAILER-DAEMON@mx.example.test",
                                      "Mail Delivery System <mailer-daemon@mx.example.test>",
                                      "postmaster@example.test",
                                      "Postmaster+bounces@example.test",
                                      "LISTSERV@lists.example.test",
                                      "majordomo@lists.example.test",
                                      "MAILER-DAEMON",
                                      "daemon@example.test",
                                      NULL};
    for (int i = 0; sys[i]; i++)
        expect(l, msg(sys[i], "x", NULL), RP_LOOP_SYSTEM_SENDER, "system");
    expect(l, msg("uucp@example.test", "x", NULL), RP_LOOP_SYSTEM_SENDER, "(uucp)");
    /* the Return-Path says it as well */
    expect(l, msg(buyer, "x", "Return-Path", "<MAILER-DAEMON@mx.example.test>", NULL),
           RP_LOOP_SYSTEM_SENDER, "Return-Path");
    static const char *const noreply[] = {"no-reply@example.test",
                                          "NoReply@example.test",
                                          "no_reply@example.test",
                                          "donotreply@example.test",
                                          "Do-Not-Reply@example.test",
                                          "do_not_reply@example.test",
                                          "Carrier <noreply-orders@tracking.example.test>",
                                          "shop.noreply@example.test",
                                          "orders-no-reply@example.test",
                                          "noreply42@example.test",
                                          "noreply+tag@example.test",
                                          NULL};
    for (int i = 0; noreply[i]; i++)
        expect(l, msg(noreply[i], "x", NULL), RP_LOOP_NOREPLY_SENDER, "no-reply");
    expect(l, msg("sellers-forum-request@lists.example.test", "x", NULL), RP_LOOP_LIST_SENDER,
           "-request");
    expect(l, msg("Owner-Sellers@lists.example.test", "x", NULL), RP_LOOP_LIST_SENDER, "owner-");
    expect(l, msg(buyer, "x", "Return-Path", "<sellers-bounces+x=y@lists.example.test>", NULL),
           RP_LOOP_LIST_SENDER, "Return-Path");
    /* default notification patterns; the buyer's relay alias on the same
     * marketplace does not match them */
    expect(l, msg("seller-notification@amazon.de", "x", NULL), RP_LOOP_NOTIFICATION_SENDER,
           "*@amazon.de");
    expect(l, msg("\"Amazon\" <Payments-Messages@AMAZON.CO.UK>", "x", NULL),
           RP_LOOP_NOTIFICATION_SENDER, "*@amazon.co.uk");
    expect(l, msg("x@eu-west-1.amazonses.com", "x", NULL), RP_LOOP_NOTIFICATION_SENDER,
           "*@*.amazonses.com");
    expect(l, msg("a1b2c3d4e5@marketplace.amazon.de", "x", NULL), RP_LOOP_NONE, NULL);
    expect(l, msg("x@amazonses.com", "x", NULL), RP_LOOP_NONE, NULL);
    /* several '@': the domain is after the last one */
    expect(l, msg("\"a@b\"@amazon.de", "x", NULL), RP_LOOP_NOTIFICATION_SENDER, NULL);
    /* own addresses, and the marketplaces' sender addresses */
    expect(l, msg("ORDERS@example-shop.test", "x", NULL), RP_LOOP_OWN_ADDRESS, "own");
    expect(l, msg("Example Shop <shop-de@Example-Shop.test>", "x", NULL), RP_LOOP_OWN_ADDRESS,
           NULL);
    expect(l, msg("other@example-shop.test", "x", NULL), RP_LOOP_NONE, NULL);
    rp_loop_free(l);
    rp_config_free(c);
}

static void test_subjects(void **st)
{
    (void)st;
    rp_config *c = config("");
    rp_loop *l = loop_of(c);
    static const char *const yes[] = {"Automatic reply: Your order",
                                      "RE: Automatic reply: Your order",
                                      "Out of Office AutoReply: Order 123",
                                      "out of office",
                                      "Autoreply: x",
                                      "Re[2]: Auto-Reply - away",
                                      "AW: Abwesenheitsnotiz: Ihre Bestellung",
                                      "Automatische Antwort: Ihre Nachricht",
                                      "Réponse automatique : Votre commande",
                                      "TR: RE: Absence du bureau",
                                      "R: Risposta automatica: ordine",
                                      "Fuori sede fino al 2 dicembre",
                                      "RV: Respuesta automática: pedido",
                                      "Fuera de la oficina",
                                      "自動返信：ご注文について",
                                      "返信: 自動応答",
                                      "不在通知",
                                      "不在通知（12月1日まで）",
                                      NULL};
    for (int i = 0; yes[i]; i++)
        expect(l, msg(buyer, yes[i], NULL), RP_LOOP_AUTO_REPLY_SUBJECT, "automatic reply");
    /* only at the start (after reply prefixes), and as a whole phrase */
    static const char *const no[] = {"Question about the automatic reply you sent",
                                     "Fwd: my order (was: Automatic reply)",
                                     "Automatically shipped?",
                                     "Abwesenheitsnotizen-Vorlage bestellt",
                                     "不在通知が入っていました",
                                     "Reply: Out-of-stock item",
                                     NULL};
    for (int i = 0; no[i]; i++)
        expect(l, msg(buyer, no[i], NULL), RP_LOOP_NONE, NULL);
    rp_loop_free(l);
    rp_config_free(c);
}

static void test_addresses_and_patterns(void **st)
{
    (void)st;
    char b[256];
    static const char *const cases[][2] = {
        {"Name <A@B.Example>", "a@b.example"},
        {"a@b.example", "a@b.example"},
        {"  <x@y.example>  ", "x@y.example"},
        {"\"Doe <j@x.example>\" <real@y.example>", "real@y.example"},
        {"\"a@b\"@c.example", "\"a@b\"@c.example"},
        {"x@y.example (Comment)", "x@y.example"},
        {"Mail Delivery System <MAILER-DAEMON@mx.example>", "mailer-daemon@mx.example"},
        {"MAILER-DAEMON", "mailer-daemon"},
        {NULL, NULL}};
    for (int i = 0; cases[i][0]; i++) {
        assert_int_equal(rp_loop_bare_address(cases[i][0], b, sizeof b), strlen(cases[i][1]));
        assert_string_equal(b, cases[i][1]);
    }
    assert_int_equal(rp_loop_bare_address(NULL, b, sizeof b), 0);
    assert_int_equal(rp_loop_bare_address("Mail Delivery System", b, sizeof b), 0);
    assert_string_equal(b, "");
    assert_int_equal(rp_loop_bare_address("Someone <>", b, sizeof b), 0);
    assert_int_equal(rp_loop_bare_address("a@b.example", b, 5), 0); /* does not fit */

    assert_true(rp_loop_glob_match("*@amazon.de", "x@amazon.de"));
    assert_true(rp_loop_glob_match("*@AMAZON.de", "X@amazon.DE"));
    assert_false(rp_loop_glob_match("*@amazon.de", "x@marketplace.amazon.de"));
    assert_false(rp_loop_glob_match("*@amazon.de", "x@amazon.de.evil.example"));
    assert_true(rp_loop_glob_match("*@*.amazonses.com", "a@eu-west-1.amazonses.com"));
    assert_false(rp_loop_glob_match("*@*.amazonses.com", "a@amazonses.com"));
    assert_true(rp_loop_glob_match("*@amazon.de", "a@b@amazon.de"));
    assert_true(rp_loop_glob_match("*", ""));
    assert_true(rp_loop_glob_match("", ""));
    assert_false(rp_loop_glob_match("", "a"));
    assert_true(rp_loop_glob_match("a**b", "ab"));
    assert_true(rp_loop_glob_match("a*b*c", "aXbYbZc"));
    assert_false(rp_loop_glob_match("a*b*c", "aXbYbZ"));
    assert_true(rp_loop_glob_match("shop-*@example.test", "shop-de@example.test"));
    assert_false(rp_loop_glob_match("shop-?@example.test", "shop-d@example.test")); /* no '?' */
}

static void test_sender_key(void **st)
{
    (void)st;
    char k1[65], k2[65], k3[65];
    rp_loop_sender_key("a@b.com", k1);
    /* printf 'a@b.com' | sha256sum */
    assert_string_equal(k1, "fb98d44ad7501a959f3f4f4a3f004fe2d9e581ea6207e218c4b02c08a4d75adf");
    rp_loop_sender_key("Some Body <A@B.COM>", k2);
    assert_string_equal(k1, k2);
    rp_loop_sender_key("c@b.com", k3);
    assert_string_not_equal(k1, k3);
    assert_int_equal(strlen(k3), 64);
    rp_loop_sender_key(NULL, k3);
    assert_string_equal(k3, "");
    rp_loop_sender_key("Mail Delivery System", k3);
    assert_string_equal(k3, "");
}

/* ---- throttles ---------------------------------------------------------------- */

static const int64_t T0 = 1795000000; /* 2026-11-18T... UTC; any fixed instant */

static void test_once_per_period(void **st)
{
    (void)st;
    rp_config *c =
        config("loop_protection: {once_per_sender_days: 4, max_per_sender_per_hour: 0}\n");
    rp_loop *l = loop_of(c);
    rp_reply_history *h = rp_loop_memory_history_new();
    assert_non_null(h);
    char key[65], other[65], d[256];
    rp_loop_sender_key(buyer, key);
    rp_loop_sender_key("z9y8x7w6v5@marketplace.amazon.de", other);
    rp_status s;
    assert_int_equal(rp_loop_throttle(l, h, key, "ack_overnight", T0, d, sizeof d, &s),
                     RP_LOOP_NONE);
    assert_int_equal(s, RP_OK);
    assert_string_equal(d, "");
    assert_int_equal(h->record_auto(h->ctx, key, "ack_overnight", T0), RP_OK);
    /* the same template within 4 days: suppressed */
    assert_int_equal(rp_loop_throttle(l, h, key, "ack_overnight", T0 + 3600, d, sizeof d, &s),
                     RP_LOOP_ONCE_PER_PERIOD);
    assert_int_equal(s, RP_OK);
    assert_non_null(strstr(d, "1 h ago"));
    assert_non_null(strstr(d, "one per 4 days"));
    assert_int_equal(
        rp_loop_throttle(l, h, key, "ack_overnight", T0 + 4 * 86400 - 1, d, sizeof d, &s),
        RP_LOOP_ONCE_PER_PERIOD);
    /* after 4 days: allowed again */
    assert_int_equal(rp_loop_throttle(l, h, key, "ack_overnight", T0 + 4 * 86400, d, sizeof d, &s),
                     RP_LOOP_NONE);
    /* another template, another buyer: allowed */
    assert_int_equal(rp_loop_throttle(l, h, key, "holiday_ooo", T0 + 60, d, sizeof d, &s),
                     RP_LOOP_NONE);
    assert_int_equal(rp_loop_throttle(l, h, other, "ack_overnight", T0 + 60, d, sizeof d, &s),
                     RP_LOOP_NONE);
    /* a replay with an earlier clock than what is recorded: still suppressed */
    assert_int_equal(rp_loop_throttle(l, h, key, "ack_overnight", T0 - 60, d, sizeof d, &s),
                     RP_LOOP_ONCE_PER_PERIOD);
    assert_non_null(strstr(d, "later time"));
    /* no key (no sender): never throttled */
    assert_int_equal(rp_loop_throttle(l, h, "", "ack_overnight", T0 + 1, d, sizeof d, &s),
                     RP_LOOP_NONE);
    rp_loop_memory_history_free(h);
    rp_loop_free(l);
    rp_config_free(c);
}

static void test_hourly_cap(void **st)
{
    (void)st;
    rp_config *c =
        config("loop_protection: {once_per_sender_days: 4, max_per_sender_per_hour: 3}\n");
    rp_loop *l = loop_of(c);
    rp_reply_history *h = rp_loop_memory_history_new();
    assert_non_null(h);
    char key[65], d[256];
    rp_loop_sender_key(buyer, key);
    rp_status s;
    const char *tpl[] = {"t1", "t2", "t3", "t4"};
    for (int i = 0; i < 3; i++) {
        assert_int_equal(rp_loop_throttle(l, h, key, tpl[i], T0 + i * 600, d, sizeof d, &s),
                         RP_LOOP_NONE);
        assert_int_equal(h->record_auto(h->ctx, key, tpl[i], T0 + i * 600), RP_OK);
    }
    /* a fourth automatic reply within the hour of the third: capped */
    assert_int_equal(rp_loop_throttle(l, h, key, tpl[3], T0 + 1800, d, sizeof d, &s),
                     RP_LOOP_HOURLY_CAP);
    assert_non_null(strstr(d, "3 automatic replies"));
    assert_non_null(strstr(d, "at most 3"));
    /* once the first is more than an hour old, two remain: allowed */
    assert_int_equal(rp_loop_throttle(l, h, key, tpl[3], T0 + 3601, d, sizeof d, &s), RP_LOOP_NONE);
    rp_loop_memory_history_free(h);
    rp_loop_free(l);
    rp_config_free(c);

    /* 0 turns both off */
    c = config("loop_protection: {once_per_sender_days: 0, max_per_sender_per_hour: 0}\n");
    l = loop_of(c);
    h = rp_loop_memory_history_new();
    assert_non_null(h);
    for (int i = 0; i < 10; i++) {
        assert_int_equal(rp_loop_throttle(l, h, key, "t1", T0 + i, d, sizeof d, &s), RP_LOOP_NONE);
        assert_int_equal(h->record_auto(h->ctx, key, "t1", T0 + i), RP_OK);
    }
    rp_loop_memory_history_free(h);
    rp_loop_free(l);
    rp_config_free(c);
}

static rp_status failing_last(void *ctx, const char *k, const char *t, int64_t *at)
{
    (void)ctx, (void)k, (void)t;
    *at = RP_TIME_UNKNOWN;
    return RP_EIO;
}
static rp_status failing_count(void *ctx, const char *k, int64_t since, unsigned *n)
{
    (void)ctx, (void)k, (void)since;
    *n = 0;
    return RP_EIO;
}
static rp_status failing_record(void *ctx, const char *k, const char *t, int64_t at)
{
    (void)ctx, (void)k, (void)t, (void)at;
    return RP_EIO;
}

static void test_history_failure(void **st)
{
    (void)st;
    rp_config *c = config("");
    rp_loop *l = loop_of(c);
    rp_reply_history bad = {NULL, failing_last, failing_count, failing_record};
    char key[65], d[256];
    rp_loop_sender_key(buyer, key);
    rp_status s;
    assert_int_equal(rp_loop_throttle(l, &bad, key, "t", T0, d, sizeof d, &s), RP_LOOP_NONE);
    assert_int_equal(s, RP_EIO);
    assert_non_null(strstr(d, "cannot be read"));
    rp_loop_free(l);
    rp_config_free(c);
}

static void test_memory_history(void **st)
{
    (void)st;
    rp_reply_history *h = rp_loop_memory_history_new();
    assert_non_null(h);
    int64_t at;
    unsigned n;
    assert_int_equal(h->last_auto(h->ctx, "k1", "t", &at), RP_OK);
    assert_true(at == RP_TIME_UNKNOWN);
    assert_int_equal(h->count_auto_since(h->ctx, "k1", 0, &n), RP_OK);
    assert_int_equal(n, 0);
    /* out of order: the latest time is the last one */
    assert_int_equal(h->record_auto(h->ctx, "k1", "t", 500), RP_OK);
    assert_int_equal(h->record_auto(h->ctx, "k1", "t", 900), RP_OK);
    assert_int_equal(h->record_auto(h->ctx, "k1", "t", 700), RP_OK);
    assert_int_equal(h->record_auto(h->ctx, "k1", "u", 1000), RP_OK);
    assert_int_equal(h->last_auto(h->ctx, "k1", "t", &at), RP_OK);
    assert_true(at == 900);
    assert_int_equal(h->last_auto(h->ctx, "k1", "u", &at), RP_OK);
    assert_true(at == 1000);
    assert_int_equal(h->last_auto(h->ctx, "k1", "never", &at), RP_OK);
    assert_true(at == RP_TIME_UNKNOWN);
    assert_int_equal(h->count_auto_since(h->ctx, "k1", 700, &n), RP_OK);
    assert_int_equal(n, 3);
    /* senders are apart; many of them, many entries */
    assert_int_equal(h->last_auto(h->ctx, "k2", "t", &at), RP_OK);
    assert_true(at == RP_TIME_UNKNOWN);
    for (int i = 0; i < 500; i++) {
        char k[32];
        snprintf(k, sizeof k, "sender-%d", i % 150);
        assert_int_equal(h->record_auto(h->ctx, k, i % 2 ? "a" : "b", i), RP_OK);
    }
    assert_int_equal(h->count_auto_since(h->ctx, "sender-7", 0, &n), RP_OK);
    assert_int_equal(n, 4); /* 7, 157, 307, 457 */
    assert_int_equal(h->last_auto(h->ctx, "sender-7", "a", &at), RP_OK);
    assert_true(at == 457);
    assert_int_equal(h->last_auto(h->ctx, "k1", "t", &at), RP_OK);
    assert_true(at == 900);
    rp_loop_memory_history_free(h);
    rp_loop_memory_history_free(NULL);
}

static void test_config_guard(void **st)
{
    (void)st;
    static const char *const bad[] = {"*",       "*amazon.de", "*@*", "*@marketplace.amazon.*",
                                      "*.co.jp", NULL};
    for (int i = 0; bad[i]; i++) {
        char y[200];
        snprintf(y, sizeof y, "loop_protection:\n  notification_senders: [\"%s\"]\n", bad[i]);
        rp_config *c = config(y);
        rp_loop *l = NULL;
        rp_error err;
        rp_error_clear(&err);
        assert_int_equal(rp_loop_new(c, &l, &err), RP_ECONFIG);
        assert_null(l);
        if (!strstr(err.msg, "relay addresses") || !strstr(err.msg, bad[i]))
            fail_msg("error for %s: %s", bad[i], err.msg);
        rp_config_free(c);
    }
    /* a seller's own marketplace domain is guarded too */
    rp_config *c = config("marketplaces:\n  shop.example: {language: en}\n"
                          "loop_protection:\n  notification_senders: [\"*shop.example\"]\n");
    rp_loop *l = NULL;
    rp_error err;
    assert_int_equal(rp_loop_new(c, &l, &err), RP_ECONFIG);
    rp_config_free(c);
    c = config(
        "loop_protection:\n  notification_senders: [\"*@amazon.de\", \"*@*.amazonses.com\"]\n");
    l = loop_of(c);
    rp_loop_free(l);
    rp_loop_free(NULL);
    rp_config_free(c);
}

/* ---- the raw fixtures ----------------------------------------------------------- */

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void test_fixtures(void **st)
{
    (void)st;
    rp_mail_init();
    rp_config *c = config("loop_protection:\n  own_addresses: [orders@example-shop.test]\n");
    rp_loop *l = loop_of(c);
    DIR *dir = opendir(FIXDIR);
    assert_non_null(dir);
    char *names[64];
    size_t n = 0;
    struct dirent *de;
    while ((de = readdir(dir)) != NULL) {
        size_t len = strlen(de->d_name);
        if (len > 4 && strcmp(de->d_name + len - 4, ".eml") == 0 && n < 64)
            names[n++] = strdup(de->d_name);
    }
    closedir(dir);
    qsort(names, n, sizeof *names, cmp_str);
    bool seen[RP_LOOP_REASON_COUNT] = {false};
    int failures = 0;
    for (size_t i = 0; i < n; i++) {
        char path[512], want[64];
        snprintf(path, sizeof path, "%s/%s", FIXDIR, names[i]);
        size_t wl = strcspn(names[i], "-.");
        snprintf(want, sizeof want, "%.*s", (int)wl, names[i]);
        if (strcmp(want, "normal") == 0)
            snprintf(want, sizeof want, "none");
        rp_message *m = NULL;
        rp_error err;
        rp_error_clear(&err);
        if (rp_mail_read_file(path, NULL, &m, &err) != RP_OK) {
            fprintf(stderr, "%s: %s\n", names[i], err.msg);
            failures++;
            rp_message_free(m);
            continue;
        }
        char d[256];
        rp_loop_reason r = rp_loop_check(l, m, d, sizeof d);
        if (strcmp(rp_loop_reason_name(r), want) != 0) {
            fprintf(stderr, "%s: got %s (%s), want %s\n", names[i], rp_loop_reason_name(r), d,
                    want);
            failures++;
        }
        if (!detail_is_clean(d)) {
            fprintf(stderr, "%s: detail quotes an address: %s\n", names[i], d);
            failures++;
        }
        seen[r] = true;
        rp_message_free(m);
    }
    for (size_t i = 0; i < n; i++)
        free(names[i]);
    /* one fixture at least for every reason a message can have */
    for (int r = 0; r <= RP_LOOP_AUTO_REPLY_SUBJECT; r++)
        if (!seen[r]) {
            fprintf(stderr, "no fixture for %s\n", rp_loop_reason_name((rp_loop_reason)r));
            failures++;
        }
    rp_loop_free(l);
    rp_config_free(c);
    rp_mail_shutdown();
    assert_int_equal(failures, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_reason_names),   cmocka_unit_test(test_normal_buyer_passes),
        cmocka_unit_test(test_header_reasons), cmocka_unit_test(test_sender_reasons),
        cmocka_unit_test(test_subjects),       cmocka_unit_test(test_addresses_and_patterns),
        cmocka_unit_test(test_sender_key),     cmocka_unit_test(test_once_per_period),
        cmocka_unit_test(test_hourly_cap),     cmocka_unit_test(test_history_failure),
        cmocka_unit_test(test_memory_history), cmocka_unit_test(test_config_guard),
        cmocka_unit_test(test_fixtures),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
