/* Tests for rp_export: the audit report of a small known queue, byte for byte
 * as CSV (RFC 4180 quoting, CRLF, empty fields for what is unknown) and as
 * JSON Lines (types of every field), the range edges, and errors. */
#include "rp_test_queue.h"

#include <jansson.h>
#include <sqlite3.h>
#include <unistd.h>

#include "rp_export.h"
#include "rp_message.h"
#include "rp_queue.h"

#define H 3600

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

static int64_t t_of(const char *iso)
{
    int64_t t;
    assert_int_equal(rp_parse_iso8601(iso, &t), RP_OK);
    return t;
}

enum kind { K_ANSWER, K_ACK_ANSWER, K_SUPPRESSED };

static int64_t add_msg(fixture *f, const char *id, const char *marketplace, const char *language,
                       const char *intent, bool high_risk, const char *received, enum kind k,
                       const char *tpl)
{
    rp_message m;
    memset(&m, 0, sizeof m);
    m.id = (char *)id;
    m.source = (char *)"test.jsonl:1";
    m.marketplace = (char *)marketplace;
    m.from = (char *)"Olivia Buyer <olivia.buyer@example.com>";
    m.subject = (char *)"Secret subject";
    m.body = (char *)"secret body";
    m.received_at = t_of(received);
    rp_decision *d = calloc(1, sizeof *d);
    assert_non_null(d);
    d->id = id;
    d->language = language;
    d->intent = intent;
    d->high_risk = high_risk;
    d->priority = RP_PRIORITY_NORMAL;
    rp_reply answer = {.rule = "test", .template_id = tpl, .action = RP_ACTION_APPROVE,
                       .language = language, .subject = "Re", .body = "Text.",
                       .counts_as_response = true};
    if (k == K_ANSWER) {
        d->nreplies = 1;
        d->replies[0] = answer;
    } else if (k == K_ACK_ANSWER) {
        d->nreplies = 2;
        d->replies[0] = answer;
        d->replies[0].template_id = "ack_overnight";
        d->replies[0].counts_as_response = false;
        d->replies[1] = answer;
    } else {
        d->no_reply = true;
        d->suppressed = "auto_submitted";
        d->suppressed_detail = "Auto-Submitted: auto-replied";
    }
    char key[128];
    rp_queue_message_key(&m, key, sizeof key);
    rp_queue_add_info info = {.key = key, .now = m.received_at, .sla_seconds = 24 * H};
    int64_t inbound = 0;
    bool added = false;
    rp_error err;
    assert_int_equal(rp_queue_add(f->t.q, &m, d, &info, &inbound, &added, &err), RP_OK);
    assert_true(added);
    free(d);
    return inbound;
}

static int64_t reply_id(fixture *f, int64_t inbound, int seq)
{
    sqlite3_stmt *s;
    assert_int_equal(sqlite3_prepare_v2(rp_queue_db(f->t.q),
                                        "SELECT id FROM replies WHERE inbound_id = ?1 AND seq = ?2",
                                        -1, &s, NULL),
                     SQLITE_OK);
    sqlite3_bind_int64(s, 1, inbound);
    sqlite3_bind_int(s, 2, seq);
    assert_int_equal(sqlite3_step(s), SQLITE_ROW);
    int64_t id = sqlite3_column_int64(s, 0);
    sqlite3_finalize(s);
    return id;
}

static void send_at(fixture *f, int64_t id, const char *when)
{
    int64_t t = t_of(when);
    rp_error err;
    assert_int_equal(rp_queue_approve(f->t.q, id, "tester", t, &err), RP_OK);
    rp_qreply r;
    bool got = false;
    assert_int_equal(rp_queue_claim(f->t.q, f->t.owner, "test", t, &r, &got, &err), RP_OK);
    assert_true(got);
    assert_int_equal(r.id, id);
    assert_int_equal(rp_queue_finish(f->t.q, id, RP_FINISH_SENT, "ok", t, 0, &err), RP_OK);
}

static void build_set(fixture *f)
{
    int64_t m1 = add_msg(f, "m-1", "amazon.de", "de", "order_status", false,
                         "2026-11-20T10:00:00Z", K_ACK_ANSWER, "answer_order_status");
    /* a comma and quotes in the id; no marketplace, language or intent */
    int64_t m2 = add_msg(f, "m,2 \"x\"", NULL, NULL, NULL, true, "2026-11-19T09:00:00Z",
                         K_ANSWER, "answer_other");
    add_msg(f, "m-3", "amazon.fr", "fr", "other", false, "2026-11-18T00:00:00Z", K_SUPPRESSED,
            NULL);
    int64_t m4 = add_msg(f, "m-4", "amazon.it", "it", "return_request", false,
                         "2026-11-18T08:00:00Z", K_ANSWER, "answer_return_request");
    add_msg(f, "m-5", "amazon.de", "de", "order_status", false, "2026-11-17T23:59:59Z",
            K_ANSWER, "answer_order_status");
    add_msg(f, "m-6", "amazon.de", "de", "order_status", false, "2026-11-21T00:00:00Z",
            K_ANSWER, "answer_order_status");
    add_msg(f, "m-7", "amazon.de", "de", "order_status", false, "2026-11-20T20:00:00Z",
            K_ANSWER, "answer_order_status");
    /* the acknowledgement first (not a response), the answer 2.5 h after receipt */
    send_at(f, reply_id(f, m1, 0), "2026-11-20T10:05:00Z");
    send_at(f, reply_id(f, m1, 1), "2026-11-20T12:30:00Z");
    /* answered a day and an hour after receipt: late */
    send_at(f, reply_id(f, m4, 0), "2026-11-19T09:00:00Z");
    rp_error err;
    assert_int_equal(rp_queue_reject(f->t.q, reply_id(f, m2, 0), "tester",
                                     "said \"thanks\",\nno reply", true,
                                     t_of("2026-11-19T10:00:00Z"), &err),
                     RP_OK);
}

/* The export of [since, until) into a string the caller frees. */
static char *export_str(fixture *f, rp_export_format fmt, const char *since, const char *until,
                        uint64_t *rows)
{
    char *data = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&data, &len);
    assert_non_null(out);
    rp_export_opts o = {.format = fmt, .since = t_of(since), .until = t_of(until)};
    rp_error err;
    rp_status st = rp_export_write(rp_queue_db(f->t.q), &o, out, rows, &err);
    if (st != RP_OK)
        fail_msg("export: %s", err.msg);
    assert_int_equal(fclose(out), 0);
    return data;
}

static const char *const csv_want =
    "inbound_id,message_id,marketplace,language,intent,high_risk,received_at,deadline,"
    "response_needed,no_response_reason,suppressed,first_response_at,response_seconds,in_time,"
    "replies,replies_sent,templates\r\n"
    "3,m-3,amazon.fr,fr,other,false,2026-11-18T00:00:00Z,2026-11-19T00:00:00Z,false,"
    "loop protection,auto_submitted,,,,0,0,\r\n"
    "4,m-4,amazon.it,it,return_request,false,2026-11-18T08:00:00Z,2026-11-19T08:00:00Z,true,,,"
    "2026-11-19T09:00:00Z,90000,false,1,1,answer_return_request\r\n"
    "2,\"m,2 \"\"x\"\"\",,,,true,2026-11-19T09:00:00Z,2026-11-20T09:00:00Z,false,"
    "\"said \"\"thanks\"\",\nno reply\",,,,,1,0,answer_other\r\n"
    "1,m-1,amazon.de,de,order_status,false,2026-11-20T10:00:00Z,2026-11-21T10:00:00Z,true,,,"
    "2026-11-20T12:30:00Z,9000,true,2,2,ack_overnight;answer_order_status\r\n"
    "7,m-7,amazon.de,de,order_status,false,2026-11-20T20:00:00Z,2026-11-21T20:00:00Z,true,,,,,,"
    "1,0,answer_order_status\r\n";

static void test_csv(void **state)
{
    fixture *f = *state;
    build_set(f);
    uint64_t rows = 0;
    /* m-3 at the start is in, m-6 at the end is out, m-5 a second early is out */
    char *csv = export_str(f, RP_EXPORT_CSV, "2026-11-18T00:00:00Z", "2026-11-21T00:00:00Z",
                           &rows);
    assert_string_equal(csv, csv_want);
    assert_int_equal(rows, 5);
    assert_null(strstr(csv, "olivia"));
    assert_null(strstr(csv, "ecret"));
    free(csv);
    /* an empty range: the header alone */
    csv = export_str(f, RP_EXPORT_CSV, "2026-11-01T00:00:00Z", "2026-11-01T00:00:00Z", &rows);
    assert_int_equal(rows, 0);
    assert_int_equal(strlen(csv), strchr(csv_want, '\n') - csv_want + 1);
    assert_memory_equal(csv, csv_want, strlen(csv));
    free(csv);
}

static void test_jsonl(void **state)
{
    fixture *f = *state;
    build_set(f);
    uint64_t rows = 0;
    char *out = export_str(f, RP_EXPORT_JSONL, "2026-11-18T00:00:00Z", "2026-11-21T00:00:00Z",
                           &rows);
    assert_int_equal(rows, 5);
    assert_null(strstr(out, "olivia"));
    /* one object per line, every key on every line */
    static const char *const keys[] = {
        "inbound_id",      "message_id",         "marketplace", "language",
        "intent",          "high_risk",          "received_at", "deadline",
        "response_needed", "no_response_reason", "suppressed",  "first_response_at",
        "response_seconds", "in_time",           "replies",     "replies_sent",
        "templates"};
    static const long long want_ids[] = {3, 4, 2, 1, 7};
    char *line = out;
    for (int i = 0; i < 5; i++) {
        char *nl = strchr(line, '\n');
        assert_non_null(nl);
        json_error_t je;
        json_t *o = json_loadb(line, (size_t)(nl - line), 0, &je);
        if (!o)
            fail_msg("line %d: %s", i + 1, je.text);
        assert_true(json_is_object(o));
        assert_int_equal(json_object_size(o), sizeof keys / sizeof keys[0]);
        for (size_t k = 0; k < sizeof keys / sizeof keys[0]; k++)
            assert_non_null(json_object_get(o, keys[k]));
        assert_int_equal(json_integer_value(json_object_get(o, "inbound_id")), want_ids[i]);
        assert_true(json_is_boolean(json_object_get(o, "high_risk")));
        assert_true(json_is_boolean(json_object_get(o, "response_needed")));
        assert_true(json_is_string(json_object_get(o, "received_at")));
        assert_true(json_is_integer(json_object_get(o, "replies")));
        assert_true(json_is_array(json_object_get(o, "templates")));
        json_t *in_time = json_object_get(o, "in_time");
        json_t *secs = json_object_get(o, "response_seconds");
        switch (want_ids[i]) {
        case 3: /* suppressed: nothing answered, no templates */
            assert_true(json_is_null(in_time));
            assert_true(json_is_null(secs));
            assert_int_equal(json_array_size(json_object_get(o, "templates")), 0);
            assert_string_equal(json_string_value(json_object_get(o, "suppressed")),
                                "auto_submitted");
            assert_true(json_is_false(json_object_get(o, "response_needed")));
            break;
        case 4:
            assert_true(json_is_false(in_time));
            assert_int_equal(json_integer_value(secs), 90000);
            break;
        case 2:
            assert_string_equal(json_string_value(json_object_get(o, "message_id")),
                                "m,2 \"x\"");
            assert_true(json_is_null(json_object_get(o, "marketplace")));
            assert_true(json_is_null(json_object_get(o, "intent")));
            assert_true(json_is_true(json_object_get(o, "high_risk")));
            assert_string_equal(json_string_value(json_object_get(o, "no_response_reason")),
                                "said \"thanks\",\nno reply");
            break;
        case 1: {
            assert_true(json_is_true(in_time));
            assert_int_equal(json_integer_value(secs), 9000);
            assert_string_equal(json_string_value(json_object_get(o, "first_response_at")),
                                "2026-11-20T12:30:00Z");
            json_t *t = json_object_get(o, "templates");
            assert_int_equal(json_array_size(t), 2);
            assert_string_equal(json_string_value(json_array_get(t, 0)), "ack_overnight");
            assert_string_equal(json_string_value(json_array_get(t, 1)), "answer_order_status");
            assert_int_equal(json_integer_value(json_object_get(o, "replies_sent")), 2);
            break;
        }
        case 7: /* open */
            assert_true(json_is_null(in_time));
            assert_true(json_is_null(json_object_get(o, "first_response_at")));
            assert_int_equal(json_integer_value(json_object_get(o, "replies_sent")), 0);
            break;
        }
        json_decref(o);
        line = nl + 1;
    }
    assert_int_equal(*line, 0);
    /* the exact text of one line */
    assert_non_null(strstr(out,
                           "{\"inbound_id\":2,\"message_id\":\"m,2 \\\"x\\\"\",\"marketplace\":"
                           "null,\"language\":null,\"intent\":null,\"high_risk\":true,"
                           "\"received_at\":\"2026-11-19T09:00:00Z\",\"deadline\":"
                           "\"2026-11-20T09:00:00Z\",\"response_needed\":false,"
                           "\"no_response_reason\":\"said \\\"thanks\\\",\\nno reply\","
                           "\"suppressed\":null,\"first_response_at\":null,\"response_seconds\":"
                           "null,\"in_time\":null,\"replies\":1,\"replies_sent\":0,"
                           "\"templates\":[\"answer_other\"]}\n"));
    free(out);
}

static void test_errors(void **state)
{
    fixture *f = *state;
    build_set(f);
    rp_error err;
    rp_export_opts o = {.format = RP_EXPORT_CSV, .since = 100, .until = 50};
    assert_int_equal(rp_export_write(rp_queue_db(f->t.q), &o, stdout, NULL, &err), RP_EUSAGE);
    o = (rp_export_opts){.format = (rp_export_format)7, .since = 0, .until = 1};
    assert_int_equal(rp_export_write(rp_queue_db(f->t.q), &o, stdout, NULL, &err), RP_EUSAGE);
    /* a stream that cannot be written */
    FILE *ro = fopen("/dev/null", "r");
    assert_non_null(ro);
    o = (rp_export_opts){.format = RP_EXPORT_JSONL, .since = 0, .until = INT64_MAX};
    uint64_t rows = 99;
    assert_int_equal(rp_export_write(rp_queue_db(f->t.q), &o, ro, &rows, &err), RP_EIO);
    assert_int_equal(rows, 0);
    fclose(ro);
    /* the connection is left without a transaction */
    assert_true(sqlite3_get_autocommit(rp_queue_db(f->t.q)));
    assert_int_equal(rp_export_format_from_name("csv"), RP_EXPORT_CSV);
    assert_int_equal(rp_export_format_from_name("json"), RP_EXPORT_JSONL);
    assert_int_equal(rp_export_format_from_name("jsonl"), RP_EXPORT_JSONL);
    assert_int_equal(rp_export_format_from_name("xml"), -1);
    assert_int_equal(rp_export_format_from_name(NULL), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_csv, setup, teardown),
        cmocka_unit_test_setup_teardown(test_jsonl, setup, teardown),
        cmocka_unit_test_setup_teardown(test_errors, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
