/* Tests for rp_queue: schema and migrations, de-duplication, the reply state
 * machine, the audit trail, claiming by several processes, recovery of
 * interrupted sends, retries, expiry and purging — on a real SQLite file. */
#include "rp_test_queue.h"

#include <sqlite3.h>
#include <unistd.h>

#include "rp_queue.h"

typedef struct fixture {
    rp_test_queue t;
} fixture;

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    assert_non_null(f);
    rp_test_queue_open(&f->t);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    rp_test_queue_close(&f->t);
    free(f);
    return 0;
}

/* A message and a decision with an automatic acknowledgement (does not count
 * as a response) and a drafted answer (counts). */
typedef struct sample {
    rp_message m;
    rp_decision d;
    rp_header h[2];
} sample;

static void make_sample(sample *s, const char *id, const char *from, int64_t received)
{
    memset(s, 0, sizeof *s);
    s->m.id = (char *)id;
    s->m.source = (char *)"test.jsonl:1";
    s->m.marketplace = (char *)"amazon.de";
    s->m.from = (char *)from;
    s->m.subject = (char *)"Wo ist meine Bestellung?";
    s->m.body = (char *)"Hallo, wo bleibt mein Paket?";
    s->m.received_at = received;
    s->h[0].name = (char *)"Message-ID";
    s->h[0].value = (char *)"<abc@marketplace.amazon.de>";
    s->m.headers = s->h;
    s->m.nheaders = 1;
    s->d.id = id;
    s->d.language = "de";
    s->d.intent = "order_status";
    s->d.priority = RP_PRIORITY_NORMAL;
    s->d.nreplies = 2;
    s->d.replies[0] = (rp_reply){.rule = "after-hours", .template_id = "ack_overnight",
                                 .action = RP_ACTION_AUTO_SEND, .language = "de",
                                 .subject = "Eingegangen", .body = "Danke, wir melden uns.",
                                 .counts_as_response = false};
    s->d.replies[1] = (rp_reply){.rule = "after-hours", .template_id = "answer_order_status",
                                 .action = RP_ACTION_APPROVE, .language = "de",
                                 .subject = "Ihre Bestellung", .body = "Ihr Paket ist unterwegs.",
                                 .counts_as_response = true};
}

static int64_t add(rp_queue *q, sample *s, int64_t now, bool *added)
{
    char key[128];
    rp_queue_message_key(&s->m, key, sizeof key);
    rp_queue_add_info info = {.key = key, .now = now, .sla_seconds = 86400,
                              .id_domain = "example.com"};
    int64_t id = 0;
    rp_error err;
    assert_int_equal(rp_queue_add(q, &s->m, &s->d, &info, &id, added, &err), RP_OK);
    return id;
}

static int64_t scalar(rp_queue *q, const char *sql)
{
    sqlite3_stmt *s;
    assert_int_equal(sqlite3_prepare_v2(rp_queue_db(q), sql, -1, &s, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(s), SQLITE_ROW);
    int64_t v = sqlite3_column_int64(s, 0);
    sqlite3_finalize(s);
    return v;
}

static void test_schema_and_versions(void **state)
{
    fixture *f = *state;
    assert_int_equal(scalar(f->t.q, "PRAGMA user_version"), RP_QUEUE_SCHEMA_VERSION);
    assert_int_equal(scalar(f->t.q, "SELECT count(*) FROM sqlite_master WHERE name = 'audit'"), 1);
    char mode[16] = "";
    sqlite3_stmt *s;
    assert_int_equal(sqlite3_prepare_v2(rp_queue_db(f->t.q), "PRAGMA journal_mode", -1, &s, NULL),
                     SQLITE_OK);
    assert_int_equal(sqlite3_step(s), SQLITE_ROW);
    snprintf(mode, sizeof mode, "%s", (const char *)sqlite3_column_text(s, 0));
    sqlite3_finalize(s);
    assert_string_equal(mode, "wal");
    /* reopening a current file changes nothing */
    rp_queue *q2;
    rp_error err;
    assert_int_equal(rp_queue_open(f->t.path, NULL, &q2, &err), RP_OK);
    rp_queue_close(q2);
    /* a file from a newer replyd is refused, not "migrated" */
    assert_int_equal(sqlite3_exec(rp_queue_db(f->t.q), "PRAGMA user_version = 99", NULL, NULL, NULL),
                     SQLITE_OK);
    assert_int_equal(rp_queue_open(f->t.path, NULL, &q2, &err), RP_EINVAL);
    assert_non_null(strstr(err.msg, "newer replyd"));
    assert_int_equal(sqlite3_exec(rp_queue_db(f->t.q), "PRAGMA user_version = 1", NULL, NULL, NULL),
                     SQLITE_OK);
}

static void test_dedupe(void **state)
{
    fixture *f = *state;
    sample s;
    make_sample(&s, "m-1", "Buyer <a1b2@marketplace.amazon.de>", 1000);
    bool added;
    int64_t id = add(f->t.q, &s, 2000, &added);
    assert_true(added);
    assert_true(id > 0);
    char key[128];
    rp_queue_message_key(&s.m, key, sizeof key);
    assert_string_equal(key, "id:amazon.de|m-1");
    bool seen = false;
    rp_error err;
    assert_int_equal(rp_queue_seen(f->t.q, key, &seen, &err), RP_OK);
    assert_true(seen);
    add(f->t.q, &s, 3000, &added);
    assert_false(added);
    assert_int_equal(scalar(f->t.q, "SELECT count(*) FROM inbound"), 1);
    assert_int_equal(scalar(f->t.q, "SELECT count(*) FROM replies"), 2);
    /* the automatic reply starts approved, the draft waits */
    assert_int_equal(scalar(f->t.q, "SELECT count(*) FROM replies WHERE state = 'approved' AND "
                                  "approved_by = 'auto' AND template = 'ack_overnight'"),
                     1);
    assert_int_equal(scalar(f->t.q, "SELECT count(*) FROM replies WHERE state = "
                                  "'pending_approval'"),
                     1);
    /* deadline: received + 24 h; the buyer's address kept for the reply only */
    assert_int_equal(scalar(f->t.q, "SELECT deadline FROM inbound"), 1000 + 86400);
    assert_int_equal(scalar(f->t.q, "SELECT count(*) FROM inbound WHERE buyer = "
                                  "'a1b2@marketplace.amazon.de' AND sender_key NOT LIKE '%@%'"),
                     1);
    /* Message-IDs are deterministic and in the seller's domain */
    assert_int_equal(scalar(f->t.q, "SELECT count(*) FROM replies WHERE message_id LIKE "
                                  "'<replyd.%@example.com>'"),
                     2);
    /* a message without an id is keyed by its bytes */
    sample s2;
    make_sample(&s2, "test.jsonl:1", "x@marketplace.amazon.de", 1000);
    s2.m.raw = (char *)"raw bytes";
    s2.m.raw_len = 9;
    rp_queue_message_key(&s2.m, key, sizeof key);
    assert_int_equal(strncmp(key, "raw:", 4), 0);
    assert_int_equal(strlen(key), 4 + 64);
}

static void test_state_machine(void **state)
{
    fixture *f = *state;
    sample s;
    make_sample(&s, "m-2", "b@marketplace.amazon.de", 1000);
    bool added;
    add(f->t.q, &s, 2000, &added);
    int64_t draft = scalar(f->t.q, "SELECT id FROM replies WHERE state = 'pending_approval'");
    int64_t ack = scalar(f->t.q, "SELECT id FROM replies WHERE state = 'approved'");
    rp_error err;
    /* an approved reply cannot be approved again */
    assert_int_equal(rp_queue_approve(f->t.q, ack, "alice", 3000, &err), RP_EINVAL);
    assert_non_null(strstr(err.msg, "is approved"));
    assert_int_equal(rp_queue_approve(f->t.q, 9999, "alice", 3000, &err), RP_EINVAL);
    /* edit: text replaced, old one kept, state back to waiting, audit says what changed */
    assert_int_equal(rp_queue_edit(f->t.q, draft, "bob", "Ihre Bestellung",
                                   "Ihr Paket kommt morgen.", "[]", 3100, &err),
                     RP_OK);
    assert_int_equal(scalar(f->t.q, "SELECT count(*) FROM versions WHERE body = 'Ihr Paket ist "
                                  "unterwegs.' AND actor = 'bob'"),
                     1);
    assert_int_equal(scalar(f->t.q, "SELECT count(*) FROM audit WHERE action = 'edited' AND actor "
                                  "= 'bob' AND detail LIKE '%body changed%'"),
                     1);
    /* compliance findings block approval until fixed */
    assert_int_equal(rp_queue_edit(f->t.q, draft, "bob", "x", "Mehr auf http://x.example",
                                   "[{\"check\":\"link\",\"blocking\":true,\"text\":\"x\"}]", 3200,
                                   &err),
                     RP_OK);
    assert_int_equal(rp_queue_approve(f->t.q, draft, "alice", 3300, &err), RP_EINVAL);
    assert_non_null(strstr(err.msg, "compliance"));
    assert_int_equal(rp_queue_edit(f->t.q, draft, "bob", "x", "Ihr Paket kommt morgen.", "[]",
                                   3400, &err),
                     RP_OK);
    assert_int_equal(rp_queue_approve(f->t.q, draft, "alice", 3500, &err), RP_OK);
    assert_int_equal(scalar(f->t.q, "SELECT count(*) FROM replies WHERE state = 'approved' AND "
                                  "approved_by = 'alice'"),
                     1);
    /* reject with no response needed leaves the SLA */
    assert_int_equal(rp_queue_reject(f->t.q, draft, "carol", "answered by phone", true, 3600, &err),
                     RP_OK);
    assert_int_equal(scalar(f->t.q, "SELECT response_needed FROM inbound"), 0);
    assert_int_equal(rp_queue_reject(f->t.q, draft, "carol", "again", false, 3700, &err), RP_EINVAL);
    assert_int_equal(rp_queue_edit(f->t.q, draft, "bob", NULL, "late edit", "[]", 3800, &err),
                     RP_EINVAL);
    /* every action is in the audit trail with its operator */
    assert_int_equal(scalar(f->t.q, "SELECT count(*) FROM audit WHERE reply_id = " 
                                  "(SELECT id FROM replies WHERE state = 'rejected')"),
                     5); /* 3 edits, approved, rejected */
}

static void test_audit_append_only(void **state)
{
    fixture *f = *state;
    sample s;
    make_sample(&s, "m-3", "c@marketplace.amazon.de", 1000);
    bool added;
    add(f->t.q, &s, 2000, &added);
    rp_error err;
    int64_t draft = scalar(f->t.q, "SELECT id FROM replies WHERE state = 'pending_approval'");
    assert_int_equal(rp_queue_approve(f->t.q, draft, "alice", 2100, &err), RP_OK);
    assert_int_equal(scalar(f->t.q, "SELECT count(*) FROM audit"), 1);
    sqlite3 *db = rp_queue_db(f->t.q);
    assert_int_not_equal(sqlite3_exec(db, "UPDATE audit SET actor = 'mallory'", NULL, NULL, NULL),
                         SQLITE_OK);
    assert_non_null(strstr(sqlite3_errmsg(db), "append-only"));
    assert_int_not_equal(sqlite3_exec(db, "DELETE FROM audit", NULL, NULL, NULL), SQLITE_OK);
    assert_int_equal(scalar(f->t.q, "SELECT count(*) FROM audit WHERE actor = 'mallory'"), 0);
    assert_int_equal(scalar(f->t.q, "SELECT count(*) FROM audit WHERE actor = 'alice'"), 1);
}

static void test_claim_finish_and_first_response(void **state)
{
    fixture *f = *state;
    sample s;
    make_sample(&s, "m-4", "d@marketplace.amazon.de", 1000);
    bool added;
    int64_t inbound = add(f->t.q, &s, 1000, &added);
    rp_error err;
    rp_queue_owner *o;
    assert_int_equal(rp_queue_owner_new(f->t.q, &o, &err), RP_OK);
    rp_qreply r;
    bool got;
    assert_int_equal(rp_queue_claim(f->t.q, o, "relay", 1100, &r, &got, &err), RP_OK);
    assert_true(got);
    assert_string_equal(r.template_id, "ack_overnight");
    assert_int_equal(r.state, RP_STATE_SENDING);
    assert_int_equal(r.attempts, 1);
    assert_string_equal(r.buyer, "d@marketplace.amazon.de");
    assert_string_equal(r.in_message_id, "<abc@marketplace.amazon.de>");
    int64_t ack = r.id;
    /* the draft is not due: nothing else to claim */
    assert_int_equal(rp_queue_claim(f->t.q, o, "relay", 1100, &r, &got, &err), RP_OK);
    assert_false(got);
    assert_int_equal(rp_queue_finish(f->t.q, ack, RP_FINISH_SENT, "250 ok", 1200, 0, &err), RP_OK);
    /* an acknowledgement is not a response */
    assert_int_equal(scalar(f->t.q, "SELECT first_response_at IS NULL FROM inbound"), 1);
    assert_int_equal(rp_queue_finish(f->t.q, ack, RP_FINISH_SENT, "again", 1200, 0, &err),
                     RP_EINVAL);
    int64_t draft = scalar(f->t.q, "SELECT id FROM replies WHERE state = 'pending_approval'");
    assert_int_equal(rp_queue_approve(f->t.q, draft, "alice", 1300, &err), RP_OK);
    assert_int_equal(rp_queue_claim(f->t.q, o, "relay", 1400, &r, &got, &err), RP_OK);
    assert_true(got);
    assert_int_equal(r.id, draft);
    /* a retry is not due before its time */
    assert_int_equal(rp_queue_finish(f->t.q, draft, RP_FINISH_RETRY, "451 later", 1400, 2000, &err),
                     RP_OK);
    assert_int_equal(rp_queue_claim(f->t.q, o, "relay", 1999, &r, &got, &err), RP_OK);
    assert_false(got);
    assert_int_equal(rp_queue_claim(f->t.q, o, "relay", 2000, &r, &got, &err), RP_OK);
    assert_true(got);
    assert_int_equal(r.attempts, 2);
    assert_int_equal(rp_queue_finish(f->t.q, draft, RP_FINISH_SENT, "250 ok", 2100, 0, &err), RP_OK);
    assert_int_equal(scalar(f->t.q, "SELECT first_response_at FROM inbound"), 2100);
    char sql[100];
    snprintf(sql, sizeof sql, "SELECT first_response_reply FROM inbound WHERE id = %lld",
             (long long)inbound);
    assert_int_equal(scalar(f->t.q, sql), draft);
    rp_queue_owner_free(o);
}

/* Two connections (as two `replyd send` processes) claim from one file:
 * every reply is claimed exactly once. */
static void test_concurrent_claims(void **state)
{
    fixture *f = *state;
    for (int i = 0; i < 40; i++) {
        sample s;
        char id[16];
        snprintf(id, sizeof id, "c-%d", i);
        make_sample(&s, id, "e@marketplace.amazon.de", 1000);
        s.d.nreplies = 1;
        bool added;
        add(f->t.q, &s, 1000, &added);
    }
    rp_queue *q2;
    rp_error err;
    assert_int_equal(rp_queue_open(f->t.path, NULL, &q2, &err), RP_OK);
    rp_queue_owner *o1, *o2;
    assert_int_equal(rp_queue_owner_new(f->t.q, &o1, &err), RP_OK);
    assert_int_equal(rp_queue_owner_new(q2, &o2, &err), RP_OK);
    assert_string_not_equal(rp_queue_owner_token(o1), rp_queue_owner_token(o2));
    int claimed[64] = {0};
    int total = 0;
    for (int round = 0; round < 100; round++) {
        rp_qreply r;
        bool got1, got2;
        assert_int_equal(rp_queue_claim(f->t.q, o1, "relay", 1100, &r, &got1, &err), RP_OK);
        if (got1) {
            assert_true(r.id < 64);
            claimed[r.id]++;
            total++;
        }
        rp_status st2 = rp_queue_claim(q2, o2, "relay", 1100, &r, &got2, &err);
        if (st2 != RP_OK)
            fprintf(stderr, "%s\n", err.msg);
        assert_int_equal(st2, RP_OK);
        if (got2) {
            claimed[r.id]++;
            total++;
        }
        if (!got1 && !got2)
            break;
    }
    assert_int_equal(total, 40);
    for (int i = 0; i < 64; i++)
        assert_true(claimed[i] <= 1);
    rp_queue_owner_free(o1);
    rp_queue_owner_free(o2);
    rp_queue_close(q2);
}

static bool idem_webhook(void *ud, const char *sink)
{
    (void)ud;
    return strcmp(sink, "hook") == 0;
}

static void test_recover_interrupted(void **state)
{
    fixture *f = *state;
    for (int i = 0; i < 3; i++) {
        sample s;
        char id[16];
        snprintf(id, sizeof id, "r-%d", i);
        make_sample(&s, id, "f@marketplace.amazon.de", 1000);
        s.d.nreplies = 1;
        bool added;
        add(f->t.q, &s, 1000, &added);
    }
    rp_error err;
    rp_queue_owner *dead, *alive;
    assert_int_equal(rp_queue_owner_new(f->t.q, &dead, &err), RP_OK);
    assert_int_equal(rp_queue_owner_new(f->t.q, &alive, &err), RP_OK);
    rp_qreply r;
    bool got;
    int64_t smtp_id, hook_id, live_id;
    assert_int_equal(rp_queue_claim(f->t.q, dead, "relay", 1100, &r, &got, &err), RP_OK);
    smtp_id = r.id;
    assert_int_equal(rp_queue_claim(f->t.q, dead, "hook", 1100, &r, &got, &err), RP_OK);
    hook_id = r.id;
    assert_int_equal(rp_queue_claim(f->t.q, alive, "relay", 1100, &r, &got, &err), RP_OK);
    live_id = r.id;
    /* the first sender is gone (its lease released without finishing) */
    rp_queue_owner_free(dead);
    unsigned requeued, flagged;
    assert_int_equal(rp_queue_recover(f->t.q, idem_webhook, NULL, 1200, &requeued, &flagged, &err),
                     RP_OK);
    assert_int_equal(requeued, 1);
    assert_int_equal(flagged, 1);
    char sql[160];
    snprintf(sql, sizeof sql,
             "SELECT count(*) FROM replies WHERE id = %lld AND state = 'failed' AND attention = "
             "'interrupted'",
             (long long)smtp_id);
    assert_int_equal(scalar(f->t.q, sql), 1);
    snprintf(sql, sizeof sql,
             "SELECT count(*) FROM replies WHERE id = %lld AND state = 'approved' AND attempts = 1",
             (long long)hook_id);
    assert_int_equal(scalar(f->t.q, sql), 1);
    /* a live sender's reply is left alone */
    snprintf(sql, sizeof sql, "SELECT count(*) FROM replies WHERE id = %lld AND state = 'sending'",
             (long long)live_id);
    assert_int_equal(scalar(f->t.q, sql), 1);
    /* the same idempotency key on the retry */
    assert_int_equal(rp_queue_claim(f->t.q, alive, "hook", 1300, &r, &got, &err), RP_OK);
    assert_true(got);
    assert_int_equal(r.id, hook_id);
    assert_int_equal(r.attempts, 2);
    /* the flagged reply goes out again only when a human approves it */
    assert_int_equal(rp_queue_approve(f->t.q, smtp_id, "alice", 1400, &err), RP_OK);
    rp_queue_owner_free(alive);
}

static void test_expire_and_purge(void **state)
{
    fixture *f = *state;
    sample old, recent;
    make_sample(&old, "p-1", "g@marketplace.amazon.de", 1000);
    make_sample(&recent, "p-2", "h@marketplace.amazon.de", 200000);
    bool added;
    add(f->t.q, &old, 1000, &added);
    add(f->t.q, &recent, 200000, &added);
    rp_error err;
    unsigned n;
    /* acknowledgements older than a day are pointless: expired; drafts stay */
    assert_int_equal(rp_queue_expire(f->t.q, 200100, 86400, &n, &err), RP_OK);
    assert_int_equal(n, 1);
    assert_int_equal(scalar(f->t.q, "SELECT count(*) FROM replies WHERE state = 'expired' AND "
                                  "template = 'ack_overnight'"),
                     1);
    assert_int_equal(scalar(f->t.q, "SELECT count(*) FROM replies WHERE state = "
                                  "'pending_approval'"),
                     2);
    int64_t audits = scalar(f->t.q, "SELECT count(*) FROM audit");
    assert_int_equal(rp_queue_purge(f->t.q, 100000, 300000, &n, &err), RP_OK);
    assert_int_equal(n, 1);
    assert_int_equal(scalar(f->t.q, "SELECT count(*) FROM inbound WHERE body IS NULL AND buyer IS "
                                  "NULL AND subject IS NULL"),
                     1);
    assert_int_equal(scalar(f->t.q, "SELECT count(*) FROM replies WHERE body IS NULL"), 2);
    assert_int_equal(scalar(f->t.q, "SELECT count(*) FROM inbound WHERE body IS NOT NULL"), 1);
    /* figures and the audit trail stay */
    assert_int_equal(scalar(f->t.q, "SELECT count(*) FROM inbound"), 2);
    assert_int_equal(scalar(f->t.q, "SELECT count(*) FROM audit"), audits + 1);
    /* a purged reply cannot be approved without a new text */
    int64_t purged = scalar(f->t.q, "SELECT id FROM replies WHERE body IS NULL AND state = "
                                  "'pending_approval'");
    assert_int_equal(rp_queue_approve(f->t.q, purged, "alice", 300100, &err), RP_EINVAL);
    /* purging twice purges nothing more */
    assert_int_equal(rp_queue_purge(f->t.q, 100000, 300200, &n, &err), RP_OK);
    assert_int_equal(n, 0);
}

static void test_history(void **state)
{
    fixture *f = *state;
    sample s;
    make_sample(&s, "h-1", "Buyer <k@marketplace.amazon.de>", 1000);
    bool added;
    add(f->t.q, &s, 5000, &added);
    const rp_reply_history *h = rp_queue_history(f->t.q);
    char key[65];
    rp_loop_sender_key("k@marketplace.amazon.de", key);
    int64_t at;
    assert_int_equal(h->last_auto(h->ctx, key, "ack_overnight", &at), RP_OK);
    assert_int_equal(at, 5000);
    assert_int_equal(h->last_auto(h->ctx, key, "answer_order_status", &at), RP_OK);
    assert_int_equal(at, RP_TIME_UNKNOWN); /* drafts are not automatic */
    unsigned n;
    assert_int_equal(h->count_auto_since(h->ctx, key, 4000, &n), RP_OK);
    assert_int_equal(n, 1);
    assert_int_equal(h->count_auto_since(h->ctx, key, 5001, &n), RP_OK);
    assert_int_equal(n, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_schema_and_versions, setup, teardown),
        cmocka_unit_test_setup_teardown(test_dedupe, setup, teardown),
        cmocka_unit_test_setup_teardown(test_state_machine, setup, teardown),
        cmocka_unit_test_setup_teardown(test_audit_append_only, setup, teardown),
        cmocka_unit_test_setup_teardown(test_claim_finish_and_first_response, setup, teardown),
        cmocka_unit_test_setup_teardown(test_concurrent_claims, setup, teardown),
        cmocka_unit_test_setup_teardown(test_recover_interrupted, setup, teardown),
        cmocka_unit_test_setup_teardown(test_expire_and_purge, setup, teardown),
        cmocka_unit_test_setup_teardown(test_history, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
