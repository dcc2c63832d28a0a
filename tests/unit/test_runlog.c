/* Tests for what replyd run leaves behind: rp_log's event lines (logfmt and
 * JSON quoting, levels, redaction, several threads at once) and rp_runstate
 * (sources' saved state and counters, unreadable messages, the migration of
 * a version-1 queue file). */
#include "rp_test_queue.h"

#include <pthread.h>
#include <sqlite3.h>

#include "rp_log.h"
#include "rp_runstate.h"

static char *logged(rp_log_format fmt, int level, void (*emit)(rp_log *))
{
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    assert_non_null(f);
    rp_log *l = rp_log_new(f, fmt, level);
    assert_non_null(l);
    emit(l);
    assert_int_equal(rp_log_write_errors(l), 0);
    rp_log_free(l);
    assert_int_equal(fclose(f), 0);
    return text;
}

static void emit_mixed(rp_log *l)
{
    rp_log_event(l, RP_LOG_INFO, "stored", "source", "amazon-de", "#inbound", (int64_t)42, "ref",
                 "INBOX uid 7", "detail", "say \"hi\" a=b\\c\nnext", "missing", (const char *)NULL,
                 NULL);
    rp_log_event(l, RP_LOG_DEBUG, "polled", "source", "x", NULL); /* below the level */
    rp_log_event(l, RP_LOG_WARN, "failed", "detail",
                 "550 rejected for buyer k2x9@marketplace.amazon.de, call +49 170 1234567", NULL);
    rp_log_event(l, RP_LOG_WARN, "sla_alert", "!alert", "deadline=2026-11-24T01:00:00Z", NULL);
}

static void test_logfmt(void **st)
{
    (void)st;
    char *t = logged(RP_LOG_LOGFMT, RP_LOG_INFO, emit_mixed);
    char *l1 = t, *l2 = strchr(l1, '\n') + 1, *l3 = strchr(l2, '\n') + 1;
    assert_int_equal(strncmp(l1, "ts=", 3), 0);
    assert_non_null(strstr(l1, " level=info event=stored source=amazon-de inbound=42 "
                               "ref=\"INBOX uid 7\" detail=\"say \\\"hi\\\" a=b\\\\c\\nnext\"\n"));
    assert_null(strstr(l1, "missing"));
    assert_null(strstr(t, "polled"));
    /* addresses and phone numbers are masked, whatever the caller passed */
    assert_non_null(strstr(l2, "level=warn event=failed detail="));
    assert_null(strstr(l2, "k2x9@"));
    assert_null(strstr(l2, "1234567"));
    /* replyd's own figures are kept as they are */
    assert_non_null(strstr(l3, "alert=\"deadline=2026-11-24T01:00:00Z\"\n"));
    free(t);
}

static void test_json(void **st)
{
    (void)st;
    char *t = logged(RP_LOG_JSON, RP_LOG_DEBUG, emit_mixed);
    char *l1 = t;
    assert_int_equal(strncmp(l1, "{\"ts\":\"", 7), 0);
    assert_non_null(strstr(l1, "\"level\":\"info\",\"event\":\"stored\",\"source\":\"amazon-de\","
                               "\"inbound\":42,\"ref\":\"INBOX uid 7\","
                               "\"detail\":\"say \\\"hi\\\" a=b\\\\c\\nnext\"}\n"));
    assert_non_null(strstr(t, "\"event\":\"polled\"")); /* debug is on */
    assert_null(strstr(t, "k2x9@"));
    size_t lines = 0;
    for (const char *p = t; *p; p++)
        lines += *p == '\n';
    assert_int_equal(lines, 4);
    free(t);
}

static void emit_alerts(rp_log *l)
{
    static const char *const free_text[] = {"error", NULL};
    const char *k1[] = {"alert", "inbound", "marketplace", "hours_left", "deadline"};
    const char *v1[] = {"deadline_near", "42", "amazon.de", "3.5", "2026-11-24T01:00:00Z"};
    rp_log_fields(l, RP_LOG_WARN, "sla_alert", k1, v1, 5, free_text);
    const char *k2[] = {"alert", "error", "nothing", "msg"};
    const char *v2[] = {"delivery_failed", "550 no such user k2x9@marketplace.amazon.de \"x\"",
                        NULL, "tried again"};
    rp_log_fields(l, RP_LOG_ERROR, "sla_alert", k2, v2, 4, free_text);
    const char *k3[] = {"alert"};
    const char *v3[] = {"hidden"};
    rp_log_fields(l, RP_LOG_DEBUG, "sla_alert", k3, v3, 1, free_text); /* below the level */
}

static void test_fields(void **st)
{
    (void)st;
    char *t = logged(RP_LOG_JSON, RP_LOG_INFO, emit_alerts);
    /* the pairs are fields of their own, and dates stay dates */
    assert_non_null(strstr(t, "\"level\":\"warn\",\"event\":\"sla_alert\",\"alert\":"
                              "\"deadline_near\",\"inbound\":\"42\",\"marketplace\":\"amazon.de\","
                              "\"hours_left\":\"3.5\",\"deadline\":\"2026-11-24T01:00:00Z\"}\n"));
    /* free text is redacted; a NULL value is left out */
    assert_non_null(strstr(t, "\"level\":\"error\",\"event\":\"sla_alert\",\"alert\":"
                              "\"delivery_failed\",\"error\":\"550 no such user "));
    assert_null(strstr(t, "k2x9@"));
    assert_null(strstr(t, "nothing"));
    assert_non_null(strstr(t, "\\\"x\\\"\",\"msg\":\"tried again\"}\n"));
    assert_null(strstr(t, "hidden"));
    free(t);
}

typedef struct writer_arg {
    rp_log *l;
    int id;
} writer_arg;

static void *writer(void *p)
{
    writer_arg *a = p;
    for (int i = 0; i < 500; i++)
        rp_log_event(a->l, RP_LOG_INFO, "tick", "#thread", (int64_t)a->id, "#i", (int64_t)i,
                     "pad", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", NULL);
    return NULL;
}

static void test_threads_whole_lines(void **st)
{
    (void)st;
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    rp_log *l = rp_log_new(f, RP_LOG_LOGFMT, RP_LOG_INFO);
    pthread_t th[4];
    writer_arg args[4];
    for (int i = 0; i < 4; i++) {
        args[i] = (writer_arg){l, i};
        assert_int_equal(pthread_create(&th[i], NULL, writer, &args[i]), 0);
    }
    for (int i = 0; i < 4; i++)
        pthread_join(th[i], NULL);
    rp_log_free(l);
    fclose(f);
    size_t n = 0;
    for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n"), n++) {
        /* every line is whole: starts with ts=, ends with the pad */
        assert_int_equal(strncmp(line, "ts=", 3), 0);
        assert_non_null(strstr(line, " pad=aaaa"));
        assert_int_equal(strlen(strstr(line, " pad=")), 5 + 64);
    }
    assert_int_equal(n, 2000);
    free(text);
}

typedef struct seen {
    int n;
    char names[4][32];
    char states[4][64];
    int64_t fetched[4], stored[4];
    unsigned failures[4];
    char errors[4][64];
} seen;

static int collect(void *ud, const rp_source_status *s)
{
    seen *x = ud;
    snprintf(x->names[x->n], 32, "%s", s->name);
    snprintf(x->states[x->n], 64, "%s", s->state ? s->state : "(null)");
    snprintf(x->errors[x->n], 64, "%s", s->last_error ? s->last_error : "(null)");
    x->fetched[x->n] = s->fetched;
    x->stored[x->n] = s->stored;
    x->failures[x->n] = s->failures;
    x->n++;
    return 0;
}

static void test_runstate(void **st)
{
    (void)st;
    rp_test_queue t;
    rp_test_queue_open(&t);
    rp_error err;
    char *state = (char *)1;
    assert_int_equal(rp_runstate_load(t.q, "imap-de", &state, &err), RP_OK);
    assert_null(state); /* never saved */

    rp_source_status s = {.name = "imap-de", .plugin = "imap", .state = "uidvalidity=7 uid=10",
                          .last_poll = 1000, .last_ok = 1000, .next_poll = 1060, .fetched = 3,
                          .stored = 2, .unreadable = 1};
    assert_int_equal(rp_runstate_save(t.q, &s, &err), RP_OK);
    /* a failing poll: the state is left alone (NULL), counters add up */
    rp_source_status f = {.name = "imap-de", .plugin = "imap", .last_poll = 1100,
                          .last_error = "connection refused", .last_error_at = 1100,
                          .failures = 2, .fetched = 1, .stored = 1};
    assert_int_equal(rp_runstate_save(t.q, &f, &err), RP_OK);
    rp_source_status o = {.name = "a-drop", .plugin = "dropdir", .last_poll = 900};
    assert_int_equal(rp_runstate_save(t.q, &o, &err), RP_OK);

    assert_int_equal(rp_runstate_load(t.q, "imap-de", &state, &err), RP_OK);
    assert_string_equal(state, "uidvalidity=7 uid=10");
    free(state);

    seen x = {0};
    assert_int_equal(rp_runstate_list(t.q, collect, &x, &err), RP_OK);
    assert_int_equal(x.n, 2);
    assert_string_equal(x.names[0], "a-drop"); /* by name */
    assert_string_equal(x.states[0], "(null)");
    assert_string_equal(x.names[1], "imap-de");
    assert_int_equal(x.fetched[1], 4);
    assert_int_equal(x.stored[1], 3);
    assert_int_equal(x.failures[1], 2);
    assert_string_equal(x.errors[1], "connection refused");

    assert_int_equal(rp_runstate_unreadable(t.q, "imap-de", "INBOX uid 9", "no body", 2000, &err),
                     RP_OK);
    assert_int_equal(rp_runstate_unreadable(t.q, "a-drop", "x.jsonl:3", "bad JSON", 3000, &err),
                     RP_OK);
    int64_t n;
    char last[200];
    assert_int_equal(rp_runstate_unreadable_count(t.q, 2500, &n, last, sizeof last, &err), RP_OK);
    assert_int_equal(n, 1);
    assert_string_equal(last, "a-drop x.jsonl:3: bad JSON");
    assert_int_equal(rp_runstate_unreadable_count(t.q, 0, &n, last, sizeof last, &err), RP_OK);
    assert_int_equal(n, 2);
    assert_int_equal(rp_runstate_unreadable_count(t.q, 5000, &n, last, sizeof last, &err), RP_OK);
    assert_int_equal(n, 0);
    assert_string_equal(last, "");
    rp_test_queue_close(&t);
}

static void test_migration_from_v1(void **st)
{
    (void)st;
    rp_test_queue t;
    rp_test_queue_open(&t);
    sqlite3 *db = rp_queue_db(t.q);
    /* make it look like a file written before the sources tables existed */
    assert_int_equal(sqlite3_exec(db,
                                  "DROP TABLE sources; DROP TABLE unreadable;"
                                  " PRAGMA user_version = 1;",
                                  NULL, NULL, NULL),
                     SQLITE_OK);
    rp_queue_owner_free(t.owner);
    t.owner = NULL;
    rp_queue_close(t.q);
    rp_error err;
    assert_int_equal(rp_queue_open(t.path, NULL, &t.q, &err), RP_OK);
    assert_int_equal(rp_queue_owner_new(t.q, &t.owner, &err), RP_OK);
    rp_source_status s = {.name = "m", .plugin = "maildir", .state = "x"};
    assert_int_equal(rp_runstate_save(t.q, &s, &err), RP_OK);
    sqlite3_stmt *q;
    assert_int_equal(sqlite3_prepare_v2(rp_queue_db(t.q), "PRAGMA user_version", -1, &q, NULL),
                     SQLITE_OK);
    assert_int_equal(sqlite3_step(q), SQLITE_ROW);
    assert_int_equal(sqlite3_column_int(q, 0), RP_QUEUE_SCHEMA_VERSION);
    sqlite3_finalize(q);
    rp_test_queue_close(&t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_logfmt),
        cmocka_unit_test(test_json),
        cmocka_unit_test(test_fields),
        cmocka_unit_test(test_threads_whole_lines),
        cmocka_unit_test(test_runstate),
        cmocka_unit_test(test_migration_from_v1),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
