/* The decision pipeline: safety rules no rule can override, the fallback
 * draft, language fallback, the buyer's clock across DST, thread detection,
 * loop protection (suppressed machines, throttled acknowledgements) and log
 * redaction. */
#include "rp_test.h"

#include <sys/stat.h>
#include <unistd.h>

#include "rp_engine.h"
#include "rp_mail.h"

static char tmpdir[64];

static void write_file(const char *rel, const char *text)
{
    char path[256];
    snprintf(path, sizeof path, "%s/%s", tmpdir, rel);
    char *slash = strrchr(path, '/');
    *slash = '\0';
    (void)mkdir(path, 0700); /* may exist */
    *slash = '/';
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    assert_int_equal(fputs(text, f) >= 0, 1);
    assert_int_equal(fclose(f), 0);
}

static rp_engine *engine(const char *yaml, rp_config **cfg)
{
    rp_error err;
    rp_error_clear(&err);
    if (rp_config_parse(yaml, strlen(yaml), "t.yaml", tmpdir, cfg, &err) != RP_OK)
        fail_msg("config: %s", err.msg);
    rp_engine *e = NULL;
    if (rp_engine_new(*cfg, &e, &err) != RP_OK)
        fail_msg("engine: %s", err.msg);
    return e;
}

static rp_message *msg(const char *mp, const char *subject, const char *body)
{
    rp_message *m = rp_message_new();
    assert_non_null(m);
    assert_int_equal(rp_message_set(&m->id, "m1"), RP_OK);
    assert_int_equal(rp_message_set(&m->marketplace, mp), RP_OK);
    assert_int_equal(rp_message_set(&m->subject, subject), RP_OK);
    assert_int_equal(rp_message_set(&m->body, body), RP_OK);
    return m;
}

static int64_t at(const char *iso)
{
    int64_t t;
    assert_int_equal(rp_parse_iso8601(iso, &t), RP_OK);
    return t;
}

static bool has_reason(const rp_decision *d, const char *part)
{
    for (size_t i = 0; i < d->nreasons; i++)
        if (strstr(d->reasons[i], part))
            return true;
    return false;
}

static int setup(void **st)
{
    (void)st;
    snprintf(tmpdir, sizeof tmpdir, "/tmp/rp-engine-XXXXXX");
    assert_non_null(mkdtemp(tmpdir));
    rp_mail_init();
    return 0;
}

static int teardown(void **st)
{
    (void)st;
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
    assert_int_equal(system(cmd), 0);
    rp_mail_shutdown();
    return 0;
}

static const char *const order_de =
    "Hallo, ich habe vor einer Woche bestellt und die Sendung ist immer noch nicht da. "
    "Wann kommt mein Paket?";

static void test_high_risk_never_auto_sent(void **st)
{
    (void)st;
    write_file("r1/all.yaml", "rules:\n  - name: send-everything\n    priority: 500\n"
                                 "    then:\n      replies:\n"
                                 "        - {template: ack_overnight, action: auto_send}\n");
    rp_config *cfg;
    rp_engine *e = engine("rules: {builtin: false, paths: [r1]}\n", &cfg);
    rp_message *m = msg("amazon.com", "Terrible",
                        "This is unacceptable. I will open an A-to-z claim and leave a 1-star "
                        "review today.");
    rp_decision d;
    rp_error err;
    assert_int_equal(rp_engine_decide(e, m, at("2026-11-25T02:00:00+01:00"), &d, &err), RP_OK);
    assert_true(d.high_risk);
    assert_int_equal(d.priority, RP_PRIORITY_HIGH);
    assert_int_equal(d.nreplies, 1);
    assert_int_equal(d.replies[0].action, RP_ACTION_APPROVE);
    assert_true(d.approval_needed);
    assert_true(has_reason(&d, "never answered automatically"));
    /* a normal message from the same rule is sent */
    rp_message_free(m);
    m = msg("amazon.de", "Bestellung", order_de);
    assert_int_equal(rp_engine_decide(e, m, at("2026-11-25T02:00:00+01:00"), &d, &err), RP_OK);
    assert_false(d.high_risk);
    assert_int_equal(d.replies[0].action, RP_ACTION_AUTO_SEND);
    assert_false(d.approval_needed);
    rp_message_free(m);
    rp_engine_free(e);
    rp_config_free(cfg);
    /* the seller may switch the guard off */
    e = engine("rules: {builtin: false, paths: [r1]}\n"
               "safety: {never_auto_send_high_risk: false}\n",
               &cfg);
    m = msg("amazon.com", "Terrible", "I will open an A-to-z claim today.");
    assert_int_equal(rp_engine_decide(e, m, at("2026-11-25T02:00:00+01:00"), &d, &err), RP_OK);
    assert_true(d.high_risk);
    assert_int_equal(d.replies[0].action, RP_ACTION_AUTO_SEND);
    rp_message_free(m);
    rp_engine_free(e);
    rp_config_free(cfg);
}

static void test_fallback_and_failures(void **st)
{
    (void)st;
    write_file("r2/none.yaml", "rules:\n  - name: only-fr\n    when: {language: fr}\n"
                                  "    then: {replies: [\"answer_{intent}\"]}\n");
    write_file("r2/boom.lua", "rule { name = 'boom', priority = 90,\n"
                                 "  on_message = function(msg, ctx) error('kaput') end }\n");
    write_file("r2/send.yaml", "rules:\n  - name: ack-all\n    priority: 80\n"
                                  "    when: {language: en}\n"
                                  "    then: {replies: [{template: ack_overnight, action: auto_send}]}\n");
    rp_config *cfg;
    rp_engine *e = engine("rules: {builtin: false, paths: [r2]}\n", &cfg);
    rp_decision d;
    rp_error err;
    /* German: boom fails, nothing else matches: the fallback draft, for approval */
    rp_message *m = msg("amazon.de", "Bestellung", order_de);
    assert_int_equal(rp_engine_decide(e, m, at("2026-11-24T10:00:00+01:00"), &d, &err), RP_OK);
    assert_null(d.rule);
    assert_true(has_reason(&d, "rule 'boom'"));
    assert_true(has_reason(&d, "kaput"));
    assert_int_equal(d.nreplies, 1);
    assert_string_equal(d.replies[0].template_id, "answer_order_status");
    assert_string_equal(d.replies[0].rule, "(fallback)");
    assert_int_equal(d.replies[0].action, RP_ACTION_APPROVE);
    assert_string_equal(d.replies[0].language, "de");
    assert_true(d.approval_needed);
    rp_message_free(m);
    /* English: ack-all asks for auto_send, but a rule failed: held for approval */
    m = msg("amazon.com", "Order", "Hi, where is my order? It has not shipped yet.");
    assert_int_equal(rp_engine_decide(e, m, at("2026-11-24T10:00:00+01:00"), &d, &err), RP_OK);
    assert_string_equal(d.rule, "ack-all");
    assert_int_equal(d.nreplies, 1);
    assert_int_equal(d.replies[0].action, RP_ACTION_APPROVE);
    assert_true(has_reason(&d, "held for approval: a rule failed"));
    rp_message_free(m);
    rp_engine_free(e);
    rp_config_free(cfg);
}

static void test_language_fallback_and_missing_template(void **st)
{
    (void)st;
    write_file("tpl/en_only.yaml", "languages:\n  en:\n    subject: Hi\n    body: Hello there.\n");
    write_file("r3/r.yaml", "rules:\n  - name: r\n    then:\n      replies: [en_only, nope]\n");
    rp_config *cfg;
    rp_engine *e = engine("rules: {builtin: false, paths: [r3/r.yaml]}\n"
                          "templates: {dirs: [tpl]}\n",
                          &cfg);
    rp_decision d;
    rp_error err;
    rp_message *m = msg("amazon.co.jp", "注文", "注文した商品がまだ届きません。いつ届きますか？");
    assert_int_equal(rp_engine_decide(e, m, at("2026-11-24T10:00:00+01:00"), &d, &err), RP_OK);
    assert_string_equal(d.language, "ja");
    assert_int_equal(d.nreplies, 2);
    assert_string_equal(d.replies[0].language, "en"); /* ja, then the marketplace's ja, then en */
    assert_string_equal(d.replies[0].body, "Hello there.");
    assert_true(has_reason(&d, "has no ja text: en used"));
    assert_null(d.replies[1].body);
    assert_string_equal(d.replies[1].error, "unknown template");
    assert_int_equal(d.replies[1].action, RP_ACTION_APPROVE);
    rp_message_free(m);
    rp_engine_free(e);
    rp_config_free(cfg);
}

static void test_buyer_clock_across_dst(void **st)
{
    (void)st;
    rp_config *cfg;
    rp_engine *e = engine("", &cfg);
    rp_decision d;
    rp_error err;
    /* Saturday 7 March 2026, 23:00 in Berlin. The team opens Monday 09:00 CET
     * = 08:00 UTC; New York switched to summer time on 8 March: 04:00 EDT. */
    rp_message *m = msg("amazon.com", "Order", "Hi, where is my order? It has not shipped yet.");
    assert_int_equal(rp_engine_decide(e, m, at("2026-03-07T23:00:00+01:00"), &d, &err), RP_OK);
    assert_string_equal(d.rule, "after-hours-acknowledgement");
    assert_string_equal(d.replies[0].template_id, "ack_overnight");
    if (!strstr(d.replies[0].body, "Monday, March 9, 4:00 AM EDT"))
        fail_msg("body: %s", d.replies[0].body);
    /* the same instant for a German buyer: 09:00 MEZ */
    rp_message_free(m);
    m = msg("amazon.de", "Bestellung", order_de);
    assert_int_equal(rp_engine_decide(e, m, at("2026-03-07T23:00:00+01:00"), &d, &err), RP_OK);
    if (!strstr(d.replies[0].body, "Montag, 9. März, 09:00 MEZ"))
        fail_msg("body: %s", d.replies[0].body);
    /* after Europe switched too (29 March): 09:00 MESZ */
    assert_int_equal(rp_engine_decide(e, m, at("2026-04-04T23:00:00+02:00"), &d, &err), RP_OK);
    if (!strstr(d.replies[0].body, "Montag, 6. April, 09:00 MESZ"))
        fail_msg("body: %s", d.replies[0].body);
    rp_message_free(m);
    rp_engine_free(e);
    rp_config_free(cfg);
}

static void test_split_shift_and_first_message(void **st)
{
    (void)st;
    write_file("r4/thread.yaml",
               "rules:\n  - name: follow-up\n    priority: 500\n"
               "    when: {first_message: false}\n    then: {tags: [follow_up], continue: true}\n");
    rp_config *cfg;
    rp_engine *e = engine("rules: {paths: [r4/thread.yaml]}\n", &cfg);
    rp_decision d;
    rp_error err;
    rp_message *m = msg("amazon.de", "Bestellung", order_de);
    /* lunch break of the default split shift (12:30-13:30): closed */
    assert_int_equal(rp_engine_decide(e, m, at("2026-11-24T12:45:00+01:00"), &d, &err), RP_OK);
    assert_string_equal(d.rule, "after-hours-acknowledgement");
    assert_int_equal(d.ntags, 1);
    if (!strstr(d.replies[0].body, "Dienstag, 24. November, 13:30 MEZ"))
        fail_msg("body: %s", d.replies[0].body);
    /* a reply in a thread: tagged as a follow-up */
    assert_int_equal(rp_message_add_header(m, "In-Reply-To", "<a@b>"), RP_OK);
    assert_int_equal(rp_engine_decide(e, m, at("2026-11-24T14:00:00+01:00"), &d, &err), RP_OK);
    /* the tagging rule continued: the rule that decided is reported */
    assert_string_equal(d.rule, "draft-for-approval");
    assert_true(has_reason(&d, "rule 'follow-up' matched"));
    assert_string_equal(d.tags[0], "follow_up");
    assert_string_equal(d.replies[0].template_id, "answer_order_status");
    rp_message_free(m);
    m = msg("amazon.de", "AW: Bestellung", order_de);
    assert_int_equal(rp_engine_decide(e, m, at("2026-11-24T14:00:00+01:00"), &d, &err), RP_OK);
    assert_int_equal(d.ntags, 1);
    assert_string_equal(d.tags[0], "follow_up");
    rp_message_free(m);
    rp_engine_free(e);
    rp_config_free(cfg);
}

static void test_json_shape(void **st)
{
    (void)st;
    rp_config *cfg;
    rp_engine *e = engine("", &cfg);
    rp_decision d;
    rp_error err;
    rp_message *m = msg("amazon.fr", "Merci", "Bonjour, colis bien reçu, tout est parfait. Merci !");
    assert_int_equal(rp_engine_decide(e, m, at("2026-11-24T10:00:00+01:00"), &d, &err), RP_OK);
    rp_buf b = {0};
    assert_int_equal(rp_decision_json(&d, &b), RP_OK);
    assert_string_equal(b.data,
                        "{\"id\":\"m1\",\"language\":\"fr\",\"intent\":\"thanks\","
                        "\"high_risk\":false,\"now\":\"2026-11-24T09:00:00Z\","
                        "\"reply_by\":\"2026-11-25T09:00:00Z\",\"priority\":\"normal\","
                        "\"tags\":[\"thanks\"],\"no_reply\":true,\"approval_needed\":false,"
                        "\"suppressed\":null,\"suppressed_detail\":null,\"rule\":\"thanks-no-reply\",\"replies\":[],"
                        "\"reasons\":[\"rule 'thanks-no-reply' matched\"]}");
    rp_buf_free(&b);
    rp_message_free(m);
    rp_engine_free(e);
    rp_config_free(cfg);
}

static rp_status no_last(void *ctx, const char *k, const char *t, int64_t *at)
{
    (void)ctx, (void)k, (void)t;
    *at = RP_TIME_UNKNOWN;
    return RP_OK;
}
static rp_status no_count(void *ctx, const char *k, int64_t since, unsigned *n)
{
    (void)ctx, (void)k, (void)since;
    *n = 0;
    return RP_OK;
}
static rp_status broken_record(void *ctx, const char *k, const char *t, int64_t at)
{
    (void)k, (void)t, (void)at;
    (*(int *)ctx)++;
    return RP_EIO;
}

static const char *const relay_buyer = "\"Jonas K. - Amazon Marketplace\" <a1b2c3d4e5@marketplace.amazon.de>";

static void test_loop_protection_suppresses(void **st)
{
    (void)st;
    rp_config *cfg;
    rp_engine *e = engine("", &cfg);
    rp_decision d;
    rp_error err;
    /* a buyer's out-of-office through the relay, at night: no acknowledgement,
     * no draft, no rule */
    rp_message *m = msg("amazon.de", "Bestellung", order_de);
    assert_int_equal(rp_message_set(&m->from, relay_buyer), RP_OK);
    assert_int_equal(rp_message_add_header(m, "Auto-Submitted", "auto-replied"), RP_OK);
    assert_int_equal(rp_engine_decide(e, m, at("2026-11-24T23:00:00+01:00"), &d, &err), RP_OK);
    assert_int_equal(d.nreplies, 0);
    assert_true(d.no_reply);
    assert_false(d.approval_needed);
    assert_null(d.rule);
    assert_int_equal(d.ntags, 0);
    assert_string_equal(d.suppressed, "auto_submitted");
    assert_string_equal(d.suppressed_detail, "Auto-Submitted: auto-replied");
    assert_true(has_reason(&d, "loop protection: Auto-Submitted: auto-replied"));
    assert_string_equal(d.language, "de"); /* still classified, for the queue */
    rp_buf b = {0};
    assert_int_equal(rp_decision_json(&d, &b), RP_OK);
    if (!strstr(b.data, "\"no_reply\":true,\"approval_needed\":false,\"suppressed\":"
                        "\"auto_submitted\",\"suppressed_detail\":\"Auto-Submitted: "
                        "auto-replied\",\"rule\":null,\"replies\":[]"))
        fail_msg("json: %s", b.data);
    rp_buf_reset(&b);
    assert_int_equal(rp_decision_text(&d, &b), RP_OK);
    if (!strstr(b.data, "NO REPLY: loop protection (auto_submitted): Auto-Submitted: auto-replied"))
        fail_msg("text: %s", b.data);
    if (strstr(b.data, "a1b2c3d4e5"))
        fail_msg("text names the sender: %s", b.data);
    rp_buf_free(&b);
    rp_message_free(m);
    /* a marketplace notification, even during business hours */
    m = msg("amazon.de", "Verkauft, jetzt versenden", "Bitte versenden Sie die Bestellung.");
    assert_int_equal(rp_message_set(&m->from, "seller-notification@amazon.de"), RP_OK);
    assert_int_equal(rp_engine_decide(e, m, at("2026-11-24T10:00:00+01:00"), &d, &err), RP_OK);
    assert_int_equal(d.nreplies, 0);
    assert_string_equal(d.suppressed, "notification_sender");
    rp_message_free(m);
    /* the buyer's own message afterwards is answered as usual */
    m = msg("amazon.de", "Bestellung", order_de);
    assert_int_equal(rp_message_set(&m->from, relay_buyer), RP_OK);
    assert_int_equal(rp_message_add_header(m, "Auto-Submitted", "no"), RP_OK);
    assert_int_equal(rp_engine_decide(e, m, at("2026-11-24T23:00:00+01:00"), &d, &err), RP_OK);
    assert_null(d.suppressed);
    assert_int_equal(d.nreplies, 2);
    assert_int_equal(d.replies[0].action, RP_ACTION_AUTO_SEND);
    rp_message_free(m);
    rp_engine_free(e);
    rp_config_free(cfg);
}

static void test_loop_protection_throttles(void **st)
{
    (void)st;
    rp_config *cfg;
    rp_engine *e = engine("", &cfg);
    rp_decision d;
    rp_error err;
    rp_message *m = msg("amazon.de", "Bestellung", order_de);
    assert_int_equal(rp_message_set(&m->from, relay_buyer), RP_OK);
    /* first message at night: acknowledgement + draft */
    assert_int_equal(rp_engine_decide(e, m, at("2026-11-24T23:00:00+01:00"), &d, &err), RP_OK);
    assert_int_equal(d.nreplies, 2);
    assert_string_equal(d.replies[0].template_id, "ack_overnight");
    assert_int_equal(d.replies[0].action, RP_ACTION_AUTO_SEND);
    /* the same buyer 40 minutes later: the acknowledgement is dropped, the
     * draft stays */
    assert_int_equal(rp_engine_decide(e, m, at("2026-11-24T23:40:00+01:00"), &d, &err), RP_OK);
    assert_int_equal(d.nreplies, 1);
    assert_string_equal(d.replies[0].template_id, "answer_order_status");
    assert_int_equal(d.replies[0].action, RP_ACTION_APPROVE);
    assert_true(d.approval_needed);
    assert_false(d.no_reply);
    assert_null(d.suppressed);
    assert_true(has_reason(&d, "(template ack_overnight)"));
    assert_true(has_reason(&d, "loop protection: an automatic reply with this template"));
    /* the same address written differently is the same buyer */
    assert_int_equal(rp_message_set(&m->from, "A1B2C3D4E5@marketplace.amazon.de"), RP_OK);
    assert_int_equal(rp_engine_decide(e, m, at("2026-11-25T01:00:00+01:00"), &d, &err), RP_OK);
    assert_int_equal(d.nreplies, 1);
    /* another buyer is acknowledged */
    assert_int_equal(rp_message_set(&m->from, "z9y8x7w6v5@marketplace.amazon.de"), RP_OK);
    assert_int_equal(rp_engine_decide(e, m, at("2026-11-24T23:45:00+01:00"), &d, &err), RP_OK);
    assert_int_equal(d.nreplies, 2);
    /* and the first one again after 4 days */
    assert_int_equal(rp_message_set(&m->from, relay_buyer), RP_OK);
    assert_int_equal(rp_engine_decide(e, m, at("2026-11-28T23:00:00+01:00"), &d, &err), RP_OK);
    assert_int_equal(d.nreplies, 2);
    assert_int_equal(d.replies[0].action, RP_ACTION_AUTO_SEND);
    /* no sender: no key, never throttled */
    rp_message_free(m);
    m = msg("amazon.de", "Bestellung", order_de);
    for (int i = 0; i < 2; i++) {
        assert_int_equal(rp_engine_decide(e, m, at("2026-11-24T23:00:00+01:00"), &d, &err), RP_OK);
        assert_int_equal(d.nreplies, 2);
    }
    rp_message_free(m);
    rp_engine_free(e);
    rp_config_free(cfg);

    /* a rule that only sends automatically: the second time nothing is left,
     * and the decision says why */
    write_file("r5/ack.yaml", "rules:\n  - name: ack-only\n    priority: 500\n"
                              "    then:\n      replies:\n"
                              "        - {template: ack_overnight, action: auto_send}\n");
    e = engine("rules: {builtin: false, paths: [r5]}\n", &cfg);
    m = msg("amazon.de", "Bestellung", order_de);
    assert_int_equal(rp_message_set(&m->from, relay_buyer), RP_OK);
    assert_int_equal(rp_engine_decide(e, m, at("2026-11-24T23:00:00+01:00"), &d, &err), RP_OK);
    assert_int_equal(d.nreplies, 1);
    assert_int_equal(rp_engine_decide(e, m, at("2026-11-24T23:10:00+01:00"), &d, &err), RP_OK);
    assert_int_equal(d.nreplies, 0);
    assert_true(d.no_reply);
    assert_false(d.approval_needed);
    assert_string_equal(d.suppressed, "once_per_period");
    assert_non_null(strstr(d.suppressed_detail, "one per 4 days"));
    assert_string_equal(d.rule, "ack-only");
    /* a history that cannot record: the reply waits for a human */
    int calls = 0;
    rp_reply_history broken = {&calls, no_last, no_count, broken_record};
    rp_engine_set_history(e, &broken);
    assert_int_equal(rp_engine_decide(e, m, at("2026-11-24T23:20:00+01:00"), &d, &err), RP_OK);
    assert_int_equal(calls, 1);
    assert_int_equal(d.nreplies, 1);
    assert_int_equal(d.replies[0].action, RP_ACTION_APPROVE);
    assert_true(d.approval_needed);
    assert_true(has_reason(&d, "reply history failed"));
    /* back to the engine's own history, which remembers the first reply */
    rp_engine_set_history(e, NULL);
    assert_int_equal(rp_engine_decide(e, m, at("2026-11-24T23:30:00+01:00"), &d, &err), RP_OK);
    assert_string_equal(d.suppressed, "once_per_period");
    rp_message_free(m);
    rp_engine_free(e);
    rp_config_free(cfg);
}

static void test_redact(void **st)
{
    (void)st;
    rp_buf b = {0};
    assert_int_equal(rp_redact("buyer k7m3x8q2vn@marketplace.amazon.com called +49 30 1234567 "
                               "about order 3 items",
                               &b),
                     RP_OK);
    assert_string_equal(b.data, "buyer <email> called <number> about order 3 items");
    rp_buf_free(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_high_risk_never_auto_sent),
        cmocka_unit_test(test_fallback_and_failures),
        cmocka_unit_test(test_language_fallback_and_missing_template),
        cmocka_unit_test(test_buyer_clock_across_dst),
        cmocka_unit_test(test_split_shift_and_first_message),
        cmocka_unit_test(test_json_shape),
        cmocka_unit_test(test_loop_protection_suppresses),
        cmocka_unit_test(test_loop_protection_throttles),
        cmocka_unit_test(test_redact),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
