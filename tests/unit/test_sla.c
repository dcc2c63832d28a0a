/* Tests for rp_sla: the figures on a known set of messages in a real queue
 * (window edges, time-left buckets at their edges, overdue, late, the rate,
 * nearest-rank median and p90, no-response-needed, the approval queue, failed
 * replies), the text, JSON and Prometheus renderings, and the alerts: raised
 * once, retried when delivery fails, the rate alert once a day, never a
 * buyer's data. */
#include "rp_test_queue.h"

#include <math.h>
#include <sqlite3.h>
#include <unistd.h>

#include "rp_config.h"
#include "rp_message.h"
#include "rp_queue.h"
#include "rp_sla.h"

#define H 3600
#define D 86400

typedef struct fixture {
    rp_test_queue t;
    rp_config *cfg;
    int64_t now; /* N */
} fixture;

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    assert_non_null(f);
    rp_test_queue_open(&f->t);
    rp_error err;
    assert_int_equal(rp_config_load_default(&f->cfg, &err), RP_OK);
    assert_int_equal(rp_parse_iso8601("2026-11-22T12:00:00Z", &f->now), RP_OK);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    rp_config_free(f->cfg);
    rp_test_queue_close(&f->t);
    free(f);
    return 0;
}

/* What a message's decision holds. */
enum kind {
    K_ANSWER,     /* one drafted answer (counts as a response) */
    K_ACK,        /* one drafted acknowledgement (does not count) */
    K_NO_REPLY,   /* a rule said no reply is needed */
    K_SUPPRESSED  /* loop protection */
};

/* Buyer data that must never show up in figures, logs or alerts. */
#define BUYER_FROM "Olivia Buyer <olivia.buyer@example.com>"
#define BUYER_SUBJECT "Secret subject about my order"
#define BUYER_BODY "secret body text"

static int64_t add_msg(fixture *f, const char *id, const char *marketplace, const char *intent,
                       int64_t received, enum kind k)
{
    rp_message m;
    memset(&m, 0, sizeof m);
    m.id = (char *)id;
    m.source = (char *)"test.jsonl:1";
    m.marketplace = (char *)marketplace;
    m.from = (char *)BUYER_FROM;
    m.subject = (char *)BUYER_SUBJECT;
    m.body = (char *)BUYER_BODY;
    m.received_at = received;
    rp_decision *d = calloc(1, sizeof *d);
    assert_non_null(d);
    d->id = id;
    d->language = "de";
    d->intent = intent;
    d->priority = RP_PRIORITY_NORMAL;
    if (k == K_ANSWER || k == K_ACK) {
        d->nreplies = 1;
        d->replies[0] = (rp_reply){.rule = "test",
                                   .template_id = k == K_ANSWER ? "answer_order_status"
                                                                : "ack_overnight",
                                   .action = RP_ACTION_APPROVE,
                                   .language = "de",
                                   .subject = "Ihre Bestellung",
                                   .body = "Ihr Paket ist unterwegs.",
                                   .counts_as_response = k == K_ANSWER};
    } else {
        d->no_reply = true;
        if (k == K_SUPPRESSED) {
            d->suppressed = "auto_submitted";
            d->suppressed_detail = "Auto-Submitted: auto-replied";
        }
    }
    char key[128];
    rp_queue_message_key(&m, key, sizeof key);
    /* decided (and the replies created) when the message came in */
    rp_queue_add_info info = {.key = key, .now = received, .sla_seconds = 24 * H};
    int64_t inbound = 0;
    bool added = false;
    rp_error err;
    assert_int_equal(rp_queue_add(f->t.q, &m, d, &info, &inbound, &added, &err), RP_OK);
    assert_true(added);
    free(d);
    return inbound;
}

static int64_t scalar(fixture *f, const char *sql, int64_t arg)
{
    sqlite3_stmt *s;
    assert_int_equal(sqlite3_prepare_v2(rp_queue_db(f->t.q), sql, -1, &s, NULL), SQLITE_OK);
    if (sqlite3_bind_parameter_count(s) > 0)
        sqlite3_bind_int64(s, 1, arg);
    assert_int_equal(sqlite3_step(s), SQLITE_ROW);
    int64_t v = sqlite3_column_int64(s, 0);
    sqlite3_finalize(s);
    return v;
}

static int64_t first_reply(fixture *f, int64_t inbound)
{
    return scalar(f, "SELECT id FROM replies WHERE inbound_id = ?1 ORDER BY seq", inbound);
}

/* Approve, claim and finish the message's first reply at time t. */
static void deliver_reply(fixture *f, int64_t inbound, int64_t t, rp_finish how)
{
    int64_t id = first_reply(f, inbound);
    rp_error err;
    assert_int_equal(rp_queue_approve(f->t.q, id, "tester", t, &err), RP_OK);
    rp_qreply r;
    bool got = false;
    assert_int_equal(rp_queue_claim(f->t.q, f->t.owner, "test", t, &r, &got, &err), RP_OK);
    assert_true(got);
    assert_int_equal(r.id, id);
    assert_int_equal(rp_queue_finish(f->t.q, id, how, "test", t, 0, &err), RP_OK);
}

static void send_at(fixture *f, int64_t inbound, int64_t t)
{
    deliver_reply(f, inbound, t, RP_FINISH_SENT);
}

/* The known set, relative to N = 2026-11-22T12:00:00Z, SLA 24 h. Inbound ids
 * of the open ones that alerts name are kept in ids[]. */
enum { I_F, I_G, I_H, I_I, I_L, I_M, I_M2, I_Q, I_W, I_X, I_COUNT };

static void build_set(fixture *f, int64_t *ids)
{
    int64_t n = f->now;
    /* answered: 1 h, 2 h, 10 h, 23 h after receipt (in time), 30 h (late) */
    send_at(f, add_msg(f, "A", "amazon.de", "order_status", n - 48 * H, K_ANSWER), n - 47 * H);
    send_at(f, add_msg(f, "B", "amazon.de", "order_status", n - 47 * H, K_ANSWER), n - 45 * H);
    send_at(f, add_msg(f, "C", "amazon.fr", "order_status", n - 46 * H, K_ANSWER), n - 36 * H);
    send_at(f, add_msg(f, "D", "amazon.fr", "order_status", n - 45 * H, K_ANSWER), n - 22 * H);
    send_at(f, add_msg(f, "E", "amazon.it", "return_request", n - 44 * H, K_ANSWER),
            n - 14 * H);
    /* open */
    ids[I_F] = add_msg(f, "F", "amazon.de", "order_status", n - 40 * H, K_ANSWER); /* overdue */
    ids[I_G] = add_msg(f, "G", "amazon.de", "order_status", n - 20 * H, K_ANSWER); /* 4 h left */
    ids[I_H] = add_msg(f, "H", "amazon.es", "cancel_order", n - 21 * H, K_ANSWER); /* 3 h left */
    ids[I_I] = add_msg(f, "I", "amazon.de", "order_status", n - 12 * H, K_ANSWER); /* 12 h */
    add_msg(f, "J", "amazon.de", "order_status", n - 1 * H, K_ANSWER);             /* 23 h */
    add_msg(f, "K", "amazon.de", "order_status", n, K_ANSWER);                     /* 24 h */
    ids[I_L] = add_msg(f, "L", "amazon.de", "order_status", n - 24 * H, K_ANSWER); /* 0 left */
    /* received exactly 7 days before N: outside the window */
    ids[I_M] = add_msg(f, "M", "amazon.de", "order_status", n - 7 * D, K_ANSWER);
    ids[I_M2] = add_msg(f, "M2", "amazon.de", "order_status", n - 7 * D + 1, K_ANSWER);
    /* received after N: not counted */
    add_msg(f, "P", "amazon.de", "order_status", n + 1 * H, K_ANSWER);
    /* answered only after N: still open (and overdue) as of N */
    ids[I_Q] = add_msg(f, "Q", "amazon.de", "order_status", n - 30 * H, K_ANSWER);
    send_at(f, ids[I_Q], n + 1 * H);
    /* only an acknowledgement was sent: not a response */
    ids[I_W] = add_msg(f, "W", "amazon.de", "order_status", n - 30 * H, K_ACK);
    send_at(f, ids[I_W], n - 29 * H);
    /* deadline passed more than 7 days ago: no alert any more */
    ids[I_X] = add_msg(f, "X", "amazon.de", "order_status", n - 10 * D, K_ANSWER);
    /* no response needed: a rule, loop protection, an operator */
    add_msg(f, "R", "amazon.de", "other", n - 6 * H, K_NO_REPLY);
    add_msg(f, "S", "amazon.de", "other", n - 7 * H, K_SUPPRESSED);
    int64_t t = add_msg(f, "T", "amazon.de", "other", n - 5 * H, K_ANSWER);
    rp_error err;
    assert_int_equal(rp_queue_reject(f->t.q, first_reply(f, t), "tester", "buyer said thanks",
                                     true, n - 4 * H, &err),
                     RP_OK);
}

static void test_rank(void **state)
{
    (void)state;
    assert_int_equal(rp_sla_rank(50, 0), 0);
    assert_int_equal(rp_sla_rank(50, 1), 1);
    assert_int_equal(rp_sla_rank(90, 1), 1);
    assert_int_equal(rp_sla_rank(50, 2), 1);
    assert_int_equal(rp_sla_rank(50, 5), 3);
    assert_int_equal(rp_sla_rank(90, 5), 5);
    assert_int_equal(rp_sla_rank(90, 10), 9);
    assert_int_equal(rp_sla_rank(90, 11), 10);
    assert_int_equal(rp_sla_rank(50, 10), 5);
    assert_int_equal(rp_sla_rank(100, 7), 7);
    assert_int_equal(rp_sla_rank(90, 1000001), 900001);
}

static void test_figures(void **state)
{
    fixture *f = *state;
    int64_t ids[I_COUNT];
    build_set(f, ids);
    rp_sla_stats s;
    rp_error err;
    assert_int_equal(rp_sla_compute(rp_queue_db(f->t.q), f->now, 7, f->cfg, &s, &err), RP_OK);
    assert_int_equal(s.days, 7);
    assert_int_equal(s.since, f->now - 7 * D);
    assert_int_equal(s.received, 18);
    assert_int_equal(s.response_needed, 15);
    assert_int_equal(s.answered_in_time, 4);
    assert_int_equal(s.answered_late, 1);
    assert_int_equal(s.open, 10);
    assert_int_equal(s.overdue, 4); /* F, M2, Q, W */
    assert_int_equal(s.late, 5);
    assert_int_equal(s.open_lt_4h, 2);   /* H (3 h), L (0 left, not yet overdue) */
    assert_int_equal(s.open_4h_12h, 1);  /* G: exactly 4 h left */
    assert_int_equal(s.open_12h_24h, 2); /* I: exactly 12 h, J: 23 h */
    assert_int_equal(s.open_ge_24h, 1);  /* K: received at N, exactly 24 h */
    assert_int_equal(s.open_within_warn, 3); /* G, H, L: <= 4 h */
    assert_int_equal(s.no_response_needed, 3);
    assert_int_equal(s.suppressed, 1);
    assert_true(s.has_rate);
    assert_true(fabs(s.rate_in_time - 4.0 / 9.0) < 1e-12);
    assert_int_equal(s.response_count, 5);
    assert_int_equal(s.response_median, 10 * H); /* rank 3 of 1,2,10,23,30 h */
    assert_int_equal(s.response_p90, 30 * H);    /* rank 5 */
    assert_int_equal(s.response_sum, (1 + 2 + 10 + 23 + 30) * H);
    /* pending: F G H I J K L M M2 P X, created when received; ages at N:
     * 40h 20h 21h 12h 1h 0 24h 7d 7d-1s 0(future) 10d; median rank 6 of 11 */
    assert_int_equal(s.approval_pending, 11);
    assert_int_equal(s.approval_oldest_age, 10 * D);
    assert_int_equal(s.approval_median_age, 21 * H);
    assert_int_equal(s.replies_failed, 0);

    /* one second later: L is overdue, G and I move down a bucket */
    assert_int_equal(rp_sla_compute(rp_queue_db(f->t.q), f->now + 1, 7, f->cfg, &s, &err), RP_OK);
    assert_int_equal(s.open_lt_4h, 2);  /* G (4 h - 1 s), H */
    assert_int_equal(s.open_4h_12h, 1); /* I (12 h - 1 s) */
    assert_int_equal(s.overdue, 4);     /* L in, M2 (received 7 d + 1 s before) out */

    /* a longer window takes M and X in */
    assert_int_equal(rp_sla_compute(rp_queue_db(f->t.q), f->now, 30, f->cfg, &s, &err), RP_OK);
    assert_int_equal(s.received, 20);
    assert_int_equal(s.overdue, 6);
    assert_int_equal(rp_sla_compute(rp_queue_db(f->t.q), f->now, 0, f->cfg, &s, &err), RP_EUSAGE);
}

static void test_median_even_and_ten(void **state)
{
    fixture *f = *state;
    /* ten answers after 1..10 minutes */
    for (int i = 1; i <= 10; i++) {
        char id[16];
        snprintf(id, sizeof id, "n%d", i);
        int64_t r = f->now - 2 * D + i * H;
        send_at(f, add_msg(f, id, "amazon.de", "order_status", r, K_ANSWER), r + i * 60);
    }
    rp_sla_stats s;
    rp_error err;
    assert_int_equal(rp_sla_compute(rp_queue_db(f->t.q), f->now, 7, f->cfg, &s, &err), RP_OK);
    assert_int_equal(s.response_count, 10);
    assert_int_equal(s.response_median, 5 * 60); /* nearest rank: the 5th, not 5.5 */
    assert_int_equal(s.response_p90, 9 * 60);
    assert_int_equal(s.answered_in_time, 10);
    assert_true(s.has_rate && s.rate_in_time == 1.0);
}

static void test_answered_at_the_deadline(void **state)
{
    fixture *f = *state;
    int64_t r = f->now - 3 * D;
    /* exactly at the deadline is in time; one second later is late */
    send_at(f, add_msg(f, "on-time", "amazon.de", "order_status", r, K_ANSWER), r + 24 * H);
    send_at(f, add_msg(f, "late", "amazon.de", "order_status", r + 1, K_ANSWER), r + 24 * H + 2);
    rp_sla_stats s;
    rp_error err;
    assert_int_equal(rp_sla_compute(rp_queue_db(f->t.q), f->now, 7, f->cfg, &s, &err), RP_OK);
    assert_int_equal(s.answered_in_time, 1);
    assert_int_equal(s.answered_late, 1);
    assert_int_equal(s.late, 1);
    assert_true(s.rate_in_time == 0.5);
    assert_int_equal(s.response_median, 24 * H);
    assert_int_equal(s.response_p90, 24 * H + 1);
}

static void test_empty_queue(void **state)
{
    fixture *f = *state;
    rp_sla_stats s;
    rp_error err;
    assert_int_equal(rp_sla_compute(rp_queue_db(f->t.q), f->now, 7, f->cfg, &s, &err), RP_OK);
    assert_int_equal(s.received, 0);
    assert_false(s.has_rate);
    assert_int_equal(s.response_count, 0);
    assert_int_equal(s.approval_pending, 0);
    assert_int_equal(s.approval_oldest_age, 0);
    rp_buf b = {0};
    assert_int_equal(rp_sla_render_json(&s, &b), RP_OK);
    assert_non_null(strstr(b.data, "\"rate_in_time\":null"));
    assert_non_null(strstr(b.data, "\"median\":null,\"p90\":null,\"sum\":0"));
    rp_buf_reset(&b);
    assert_int_equal(rp_sla_render_prometheus(&s, &b), RP_OK);
    assert_non_null(strstr(b.data, "\nreplyd_sla_rate_in_time NaN\n"));
    assert_non_null(strstr(b.data, "\nreplyd_first_response_seconds{quantile=\"0.5\"} NaN\n"));
    rp_buf_reset(&b);
    assert_int_equal(rp_sla_render_text(&s, &b), RP_OK);
    assert_non_null(strstr(b.data, "(nothing answered or overdue yet)"));
    rp_buf_free(&b);
}

static void test_approval_and_failed(void **state)
{
    fixture *f = *state;
    int64_t n = f->now;
    /* pending replies created 5 h, 1 h and 3 h before N */
    add_msg(f, "p1", "amazon.de", "order_status", n - 5 * H, K_ANSWER);
    add_msg(f, "p2", "amazon.de", "order_status", n - 1 * H, K_ANSWER);
    add_msg(f, "p3", "amazon.de", "order_status", n - 3 * H, K_ANSWER);
    /* failed for good, failed with unknown delivery, failed without a flag */
    int64_t a = add_msg(f, "f1", "amazon.de", "order_status", n - 50 * H, K_ANSWER);
    deliver_reply(f, a, n - 49 * H, RP_FINISH_FAILED);
    int64_t b = add_msg(f, "f2", "amazon.de", "order_status", n - 50 * H, K_ANSWER);
    deliver_reply(f, b, n - 49 * H, RP_FINISH_ATTENTION);
    int64_t c = add_msg(f, "f3", "amazon.de", "order_status", n - 50 * H, K_ANSWER);
    deliver_reply(f, c, n - 49 * H, RP_FINISH_FAILED);
    assert_int_equal(sqlite3_exec(rp_queue_db(f->t.q),
                                  "UPDATE replies SET attention = NULL WHERE inbound_id = 6",
                                  NULL, NULL, NULL),
                     SQLITE_OK);
    assert_int_equal(c, 6);
    rp_sla_stats s;
    rp_error err;
    assert_int_equal(rp_sla_compute(rp_queue_db(f->t.q), n, 7, f->cfg, &s, &err), RP_OK);
    assert_int_equal(s.approval_pending, 3);
    assert_int_equal(s.approval_oldest_age, 5 * H);
    assert_int_equal(s.approval_median_age, 3 * H); /* 1 h, 3 h, 5 h */
    assert_int_equal(s.replies_failed, 3);
    assert_int_equal(s.replies_attention, 2);
    /* a failed reply is no response: f1..f3 are overdue */
    assert_int_equal(s.overdue, 3);
    assert_true(s.has_rate && s.rate_in_time == 0.0);
}

static void test_json_golden(void **state)
{
    fixture *f = *state;
    int64_t ids[I_COUNT];
    build_set(f, ids);
    rp_sla_stats s;
    rp_error err;
    assert_int_equal(rp_sla_compute(rp_queue_db(f->t.q), f->now, 7, f->cfg, &s, &err), RP_OK);
    rp_buf b = {0};
    assert_int_equal(rp_sla_render_json(&s, &b), RP_OK);
    assert_string_equal(
        b.data,
        "{\"now\":\"2026-11-22T12:00:00Z\",\"window\":{\"days\":7,\"since\":\"2026-11-15T12:00:"
        "00Z\",\"until\":\"2026-11-22T12:00:00Z\"},\"sla\":{\"hours\":24,\"warn_hours_before\":4,"
        "\"rate_warn\":0.9},\"messages\":{\"received\":18,\"response_needed\":15,"
        "\"answered_in_time\":4,\"answered_late\":1,\"open\":10,\"overdue\":4,\"late\":5,"
        "\"no_response_needed\":3,\"suppressed\":1},\"open_by_time_left\":{\"overdue\":4,"
        "\"lt_4h\":2,\"4h_to_12h\":1,\"12h_to_24h\":2,\"ge_24h\":1,\"within_warn\":3},"
        "\"rate_in_time\":0.444444,\"first_response_seconds\":{\"count\":5,\"median\":36000,"
        "\"p90\":108000,\"sum\":237600},\"approval\":{\"pending\":11,\"oldest_age_seconds\":"
        "864000,\"median_age_seconds\":75600},\"replies\":{\"failed\":0,\"failed_attention\":0}}"
        "\n");
    rp_buf_reset(&b);
    assert_int_equal(rp_sla_render_text(&s, &b), RP_OK);
    assert_non_null(strstr(b.data, "SLA, last 7 days (2026-11-15 12:00 UTC to 2026-11-22 12:00 "
                                   "UTC); deadline 24 h after receipt\n"));
    assert_non_null(strstr(b.data, "\nMessages received                      18\n"));
    assert_non_null(strstr(b.data, "    open                               10  (overdue: 4)\n"));
    assert_non_null(strstr(b.data, "Answered in time                    44.4 %  (4 of 9 answered "
                                   "or overdue; warn below 90.0 %)\n"));
    assert_non_null(strstr(b.data, "median 10 h 00 min, p90 1 d 6 h (5 answered)\n"));
    assert_non_null(strstr(b.data, "overdue 4, <4h 2, 4-12h 1, 12-24h 2, >=24h 1\n"));
    assert_non_null(strstr(b.data, "  due within 4 h (warn threshold)       3\n"));
    assert_non_null(strstr(b.data, "(oldest 10 d 0 h, median age 21 h 00 min)"));
    /* no buyer data anywhere */
    assert_null(strstr(b.data, "olivia"));
    assert_null(strstr(b.data, "Secret"));
    rp_buf_free(&b);
}

/* A Prometheus text-format check: every sample line is NAME[{LABELS}] VALUE
 * with a metric name declared by a preceding # TYPE, every # TYPE follows
 * its # HELP, and values are numbers or NaN. Returns the number of samples. */
static int is_name_char(char c, bool first)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == ':' ||
           (!first && c >= '0' && c <= '9');
}

static int prom_check(const char *text)
{
    char family[128] = "", help_for[128] = "";
    int samples = 0;
    const char *p = text;
    while (*p) {
        const char *e = strchr(p, '\n');
        assert_non_null(e); /* every line ends with \n */
        size_t len = (size_t)(e - p);
        char line[512];
        assert_true(len > 0 && len < sizeof line);
        memcpy(line, p, len);
        line[len] = 0;
        if (strncmp(line, "# HELP ", 7) == 0) {
            assert_int_equal(sscanf(line + 7, "%127s", help_for), 1);
            assert_true(strncmp(help_for, "replyd_", 7) == 0);
            assert_true(strlen(line) > 8 + strlen(help_for)); /* has a text */
        } else if (strncmp(line, "# TYPE ", 7) == 0) {
            char type[32];
            assert_int_equal(sscanf(line + 7, "%127s %31s", family, type), 2);
            assert_string_equal(family, help_for);
            assert_true(strcmp(type, "gauge") == 0 || strcmp(type, "summary") == 0 ||
                        strcmp(type, "counter") == 0);
        } else {
            assert_true(line[0] != '#');
            size_t i = 0;
            assert_true(is_name_char(line[0], true));
            while (is_name_char(line[i], false))
                i++;
            char name[128];
            memcpy(name, line, i);
            name[i] = 0;
            size_t fl = strlen(family);
            /* the family's name, or a summary's _sum / _count */
            assert_true(fl > 0 && strncmp(name, family, fl) == 0);
            assert_true(name[fl] == 0 || strcmp(name + fl, "_sum") == 0 ||
                        strcmp(name + fl, "_count") == 0);
            if (line[i] == '{') {
                /* label="value"(,label="value")* } */
                i++;
                for (;;) {
                    assert_true(is_name_char(line[i], true));
                    while (is_name_char(line[i], false))
                        i++;
                    assert_true(line[i] == '=' && line[i + 1] == '"');
                    i += 2;
                    while (line[i] && line[i] != '"') {
                        assert_true(line[i] != '\\' && line[i] != '\n');
                        i++;
                    }
                    assert_true(line[i] == '"');
                    i++;
                    if (line[i] == ',') {
                        i++;
                        continue;
                    }
                    assert_true(line[i] == '}');
                    i++;
                    break;
                }
            }
            assert_true(line[i] == ' ');
            const char *v = line + i + 1;
            if (strcmp(v, "NaN") != 0) {
                char *end;
                strtod(v, &end);
                assert_true(end != v && *end == 0);
            }
            samples++;
        }
        p = e + 1;
    }
    return samples;
}

static void test_prometheus(void **state)
{
    fixture *f = *state;
    int64_t ids[I_COUNT];
    build_set(f, ids);
    rp_sla_stats s;
    rp_error err;
    assert_int_equal(rp_sla_compute(rp_queue_db(f->t.q), f->now, 7, f->cfg, &s, &err), RP_OK);
    rp_buf b = {0};
    assert_int_equal(rp_sla_render_prometheus(&s, &b), RP_OK);
    assert_int_equal(prom_check(b.data), 27);
    static const char *const want[] = {
        "\nreplyd_sla_messages{status=\"answered_in_time\"} 4\n",
        "\nreplyd_sla_messages{status=\"answered_late\"} 1\n",
        "\nreplyd_sla_messages{status=\"open_before_deadline\"} 6\n",
        "\nreplyd_sla_messages{status=\"overdue\"} 4\n",
        "\nreplyd_sla_messages{status=\"no_response_needed\"} 3\n",
        "\nreplyd_sla_rate_in_time 0.444444\n",
        "\nreplyd_first_response_seconds{quantile=\"0.5\"} 36000\n",
        "\nreplyd_first_response_seconds{quantile=\"0.9\"} 108000\n",
        "\nreplyd_first_response_seconds_count 5\n",
        "\nreplyd_open_messages{time_left=\"lt_4h\"} 2\n",
        "\nreplyd_open_messages{time_left=\"4h_to_12h\"} 1\n",
        "\nreplyd_open_messages{time_left=\"overdue\"} 4\n",
        "\nreplyd_approval_pending 11\n",
        "\nreplyd_approval_oldest_age_seconds 864000\n",
        "\nreplyd_sla_warn_seconds 14400\n",
        "# TYPE replyd_first_response_seconds summary\n",
    };
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++)
        if (!strstr(b.data, want[i]))
            fail_msg("missing: %s", want[i]);
    rp_buf_free(&b);
}

/* ---- alerts ------------------------------------------------------------------ */

typedef struct sent_alert {
    char reply_id[80], key[80], message_id[120], kind[16], subject[200], body[600],
        inbound[24], marketplace[32];
    int64_t date;
} sent_alert;

typedef struct sink_rec {
    bool fail;
    int n;
    sent_alert a[32];
} sink_rec;

static int rec_deliver(void *ud, const rp_outgoing *o, char *detail, size_t size)
{
    sink_rec *r = ud;
    if (r->fail) {
        snprintf(detail, size, "HTTP 503 from the test sink");
        return 1;
    }
    assert_true(r->n < 32);
    sent_alert *s = &r->a[r->n++];
    snprintf(s->reply_id, sizeof s->reply_id, "%s", o->reply_id);
    snprintf(s->key, sizeof s->key, "%s", o->idempotency_key);
    snprintf(s->message_id, sizeof s->message_id, "%s", o->message_id);
    snprintf(s->kind, sizeof s->kind, "%s", o->kind);
    snprintf(s->subject, sizeof s->subject, "%s", o->subject);
    snprintf(s->body, sizeof s->body, "%s", o->body);
    snprintf(s->inbound, sizeof s->inbound, "%s", o->inbound_id ? o->inbound_id : "");
    snprintf(s->marketplace, sizeof s->marketplace, "%s", o->marketplace ? o->marketplace : "");
    s->date = o->date;
    assert_null(o->to);
    assert_null(o->in_reply_to);
    assert_true(o->automatic);
    return 0;
}

typedef struct logcap {
    char *data;
    size_t len;
    FILE *f;
} logcap;

static void log_open(logcap *l)
{
    l->data = NULL;
    l->len = 0;
    l->f = open_memstream(&l->data, &l->len);
    assert_non_null(l->f);
}

static void log_close(logcap *l)
{
    fclose(l->f);
    free(l->data);
}

static int count_lines(const char *s, const char *needle)
{
    int n = 0;
    for (const char *p = s; p && (p = strstr(p, needle)) != NULL; p++)
        n++;
    return n;
}

static void no_buyer_data(const char *s)
{
    assert_null(strstr(s, "olivia"));
    assert_null(strstr(s, "Olivia"));
    assert_null(strstr(s, "Secret"));
    assert_null(strstr(s, "secret"));
    assert_null(strstr(s, "@example.com"));
}

static void test_alerts_once(void **state)
{
    fixture *f = *state;
    int64_t ids[I_COUNT];
    build_set(f, ids);
    sqlite3 *db = rp_queue_db(f->t.q);
    rp_error err;
    rp_sla_alert_counts c;
    sink_rec rec = {.fail = true};
    logcap log;

    /* delivery fails: everything is logged, nothing is recorded */
    log_open(&log);
    assert_int_equal(rp_sla_alerts(db, f->now, f->cfg, rec_deliver, &rec, rp_sla_log_logfmt, log.f, &c, &err),
                     RP_OK);
    fflush(log.f);
    assert_int_equal(c.raised, 0);
    assert_int_equal(c.failed, 9);
    assert_int_equal(count_lines(log.data, "level=error alert="), 9);
    assert_non_null(strstr(log.data, "error=\"HTTP 503 from the test sink\""));
    assert_int_equal(scalar(f, "SELECT count(*) FROM alerts", 0), 0);
    log_close(&log);

    /* delivered: 3 near (G 4 h, H 3 h, L 0 h), 5 missed (F M M2 Q W; not X),
     * the rate */
    rec.fail = false;
    log_open(&log);
    assert_int_equal(rp_sla_alerts(db, f->now, f->cfg, rec_deliver, &rec, rp_sla_log_logfmt, log.f, &c, &err),
                     RP_OK);
    fflush(log.f);
    assert_int_equal(c.raised, 9);
    assert_int_equal(c.failed, 0);
    assert_int_equal(rec.n, 9);
    assert_int_equal(count_lines(log.data, "level=warn alert=deadline_near "), 3);
    assert_int_equal(count_lines(log.data, "level=warn alert=deadline_missed "), 5);
    assert_int_equal(count_lines(log.data, "level=warn alert=rate_low "), 1);
    char want[300];
    snprintf(want, sizeof want,
             "level=warn alert=deadline_near inbound=%lld marketplace=amazon.de "
             "intent=order_status hours_left=4.0 deadline=2026-11-22T16:00:00Z\n",
             (long long)ids[I_G]);
    assert_non_null(strstr(log.data, want));
    snprintf(want, sizeof want,
             "level=warn alert=deadline_near inbound=%lld marketplace=amazon.es "
             "intent=cancel_order hours_left=3.0 deadline=2026-11-22T15:00:00Z\n",
             (long long)ids[I_H]);
    assert_non_null(strstr(log.data, want));
    snprintf(want, sizeof want,
             "level=warn alert=deadline_near inbound=%lld marketplace=amazon.de "
             "intent=order_status hours_left=0.0 deadline=2026-11-22T12:00:00Z\n",
             (long long)ids[I_L]);
    assert_non_null(strstr(log.data, want));
    snprintf(want, sizeof want,
             "level=warn alert=deadline_missed inbound=%lld marketplace=amazon.de "
             "intent=order_status hours_left=-16.0 deadline=2026-11-21T20:00:00Z\n",
             (long long)ids[I_F]);
    assert_non_null(strstr(log.data, want));
    assert_non_null(strstr(log.data, "level=warn alert=rate_low date=2026-11-22 "
                                     "rate_in_time=0.444 rate_warn=0.900 days=7 "
                                     "answered_in_time=4 answered_late=1 overdue=4\n"));
    snprintf(want, sizeof want, "inbound=%lld ", (long long)ids[I_X]);
    assert_null(strstr(log.data, want));
    no_buyer_data(log.data);
    /* the first delivered is the earliest deadline: M (missed) */
    snprintf(want, sizeof want, "alert-deadline_missed-%lld", (long long)ids[I_M]);
    assert_string_equal(rec.a[0].reply_id, want);
    assert_string_equal(rec.a[0].key, want);
    snprintf(want, sizeof want, "<replyd.alert.deadline_missed.%lld@replyd.invalid>",
             (long long)ids[I_M]);
    assert_string_equal(rec.a[0].message_id, want);
    assert_string_equal(rec.a[0].kind, "alert");
    assert_int_equal(rec.a[0].date, f->now);
    snprintf(want, sizeof want, "%lld", (long long)ids[I_M]);
    assert_string_equal(rec.a[0].inbound, want);
    assert_string_equal(rec.a[0].marketplace, "amazon.de");
    snprintf(want, sizeof want, "replyd: message %lld (amazon.de, order_status) missed its "
                                "deadline by 144.0 h",
             (long long)ids[I_M]);
    assert_string_equal(rec.a[0].subject, want);
    snprintf(want, sizeof want,
             "alert: deadline_missed\ninbound: %lld\nreplies: %lld pending_approval\n"
             "marketplace: amazon.de\nintent: order_status\nreceived: 2026-11-15T12:00:00Z\n"
             "deadline: 2026-11-16T12:00:00Z\nhours_left: -144.0\n",
             (long long)ids[I_M], (long long)first_reply(f, ids[I_M]));
    assert_string_equal(rec.a[0].body, want);
    sent_alert *rate = &rec.a[8];
    assert_string_equal(rate->reply_id, "alert-rate_low-2026-11-22");
    assert_string_equal(rate->message_id, "<replyd.alert.rate_low.2026-11-22@replyd.invalid>");
    assert_string_equal(rate->inbound, "");
    assert_string_equal(rate->subject, "replyd: 44.4 % answered in time over the last 7 days "
                                       "(warn below 90.0 %)");
    assert_non_null(strstr(rate->body, "rate_in_time: 0.444\n"));
    for (int i = 0; i < rec.n; i++) {
        no_buyer_data(rec.a[i].subject);
        no_buyer_data(rec.a[i].body);
    }
    assert_int_equal(scalar(f, "SELECT count(*) FROM alerts", 0), 9);
    assert_int_equal(scalar(f, "SELECT count(*) FROM alerts WHERE kind = 'rate_low' AND "
                               "subject = '2026-11-22' AND at = ?1",
                            f->now),
                     1);
    log_close(&log);

    /* a second run raises nothing */
    rec.n = 0;
    log_open(&log);
    assert_int_equal(rp_sla_alerts(db, f->now, f->cfg, rec_deliver, &rec, rp_sla_log_logfmt, log.f, &c, &err),
                     RP_OK);
    fflush(log.f);
    assert_int_equal(c.raised, 0);
    assert_int_equal(rec.n, 0);
    assert_int_equal(log.len, 0);
    log_close(&log);

    /* five hours on: G, H, L missed their deadlines (they had near alerts);
     * Q was answered at N + 1 h; the rate alert waits for the next day */
    assert_int_equal(rp_sla_alerts(db, f->now + 5 * H, f->cfg, rec_deliver, &rec, NULL, NULL, &c, &err),
                     RP_OK);
    assert_int_equal(c.raised, 3);
    for (int i = 0; i < 3; i++)
        assert_non_null(strstr(rec.a[i].reply_id, "alert-deadline_missed-"));
    /* the next UTC day: I missed its deadline, and the rate is low again */
    rec.n = 0;
    assert_int_equal(rp_sla_alerts(db, f->now + 13 * H, f->cfg, rec_deliver, &rec, NULL, NULL, &c,
                                   &err),
                     RP_OK);
    assert_int_equal(c.raised, 2);
    snprintf(want, sizeof want, "alert-deadline_missed-%lld", (long long)ids[I_I]);
    assert_string_equal(rec.a[0].reply_id, want);
    assert_string_equal(rec.a[1].reply_id, "alert-rate_low-2026-11-23");
    assert_int_equal(rp_sla_alerts(db, f->now + 14 * H, f->cfg, rec_deliver, &rec, NULL, NULL, &c,
                                   &err),
                     RP_OK);
    assert_int_equal(c.raised, 0);
}

static void test_alerts_log_only_and_settings(void **state)
{
    fixture *f = *state;
    int64_t n = f->now;
    add_msg(f, "a", "amazon.de", "order_status", n - 22 * H, K_ANSWER); /* 2 h left */
    add_msg(f, "b", "amazon.de", "order_status", n - 30 * H, K_ANSWER); /* overdue */
    sqlite3 *db = rp_queue_db(f->t.q);
    rp_error err;
    rp_sla_alert_counts c;
    /* no near alerts when warn_hours_before is 0; no rate alert when rate_warn is 0 */
    f->cfg->warn_hours_before = 0;
    f->cfg->rate_warn = 0.0;
    logcap log;
    log_open(&log);
    assert_int_equal(rp_sla_alerts(db, n, f->cfg, NULL, NULL, rp_sla_log_logfmt, log.f, &c, &err), RP_OK);
    fflush(log.f);
    assert_int_equal(c.raised, 1);
    assert_int_equal(count_lines(log.data, "alert=deadline_missed inbound=2 "), 1);
    log_close(&log);
    /* without a delivery callback the log line alone raises (and records) it */
    assert_int_equal(scalar(f, "SELECT count(*) FROM alerts WHERE kind = 'deadline_missed'", 0),
                     1);
    f->cfg->warn_hours_before = 4;
    f->cfg->rate_warn = 0.9;
    assert_int_equal(rp_sla_alerts(db, n, f->cfg, NULL, NULL, NULL, NULL, &c, &err), RP_OK);
    assert_int_equal(c.raised, 2); /* a: near; rate 0 of 1 */
    assert_int_equal(scalar(f, "SELECT count(*) FROM alerts", 0), 3);
    /* rate alert needs one answered or overdue message: none in an empty window */
    assert_int_equal(rp_sla_alerts(db, n + 40 * D, f->cfg, NULL, NULL, NULL, NULL, &c, &err), RP_OK);
    assert_int_equal(c.raised, 0);
}

static void test_alerts_need_writable(void **state)
{
    fixture *f = *state;
    add_msg(f, "a", "amazon.de", "order_status", f->now - 30 * H, K_ANSWER);
    rp_queue *ro;
    rp_error err;
    rp_queue_opts o = {.read_only = true};
    assert_int_equal(rp_queue_open(f->t.path, &o, &ro, &err), RP_OK);
    /* figures read fine from a read-only queue */
    rp_sla_stats s;
    assert_int_equal(rp_sla_compute(rp_queue_db(ro), f->now, 7, f->cfg, &s, &err), RP_OK);
    assert_int_equal(s.overdue, 1);
    rp_sla_alert_counts c;
    assert_int_equal(rp_sla_alerts(rp_queue_db(ro), f->now, f->cfg, NULL, NULL, NULL, NULL, &c, &err),
                     RP_EIO);
    assert_non_null(strstr(err.msg, "recording an alert"));
    rp_queue_close(ro);
}

static void test_logfmt_quoting(void **state)
{
    fixture *f = *state;
    /* a marketplace from the input with a space and a quote is quoted */
    add_msg(f, "q", "amazon \"x\"", "order_status", f->now - 30 * H, K_ANSWER);
    logcap log;
    log_open(&log);
    rp_error err;
    rp_sla_alert_counts c;
    f->cfg->rate_warn = 0.0;
    assert_int_equal(rp_sla_alerts(rp_queue_db(f->t.q), f->now, f->cfg, NULL, NULL, rp_sla_log_logfmt, log.f, &c, &err),
                     RP_OK);
    fflush(log.f);
    assert_non_null(strstr(log.data, " marketplace=\"amazon \\\"x\\\"\" intent=order_status "));
    log_close(&log);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rank),
        cmocka_unit_test_setup_teardown(test_figures, setup, teardown),
        cmocka_unit_test_setup_teardown(test_median_even_and_ten, setup, teardown),
        cmocka_unit_test_setup_teardown(test_answered_at_the_deadline, setup, teardown),
        cmocka_unit_test_setup_teardown(test_empty_queue, setup, teardown),
        cmocka_unit_test_setup_teardown(test_approval_and_failed, setup, teardown),
        cmocka_unit_test_setup_teardown(test_json_golden, setup, teardown),
        cmocka_unit_test_setup_teardown(test_prometheus, setup, teardown),
        cmocka_unit_test_setup_teardown(test_alerts_once, setup, teardown),
        cmocka_unit_test_setup_teardown(test_alerts_log_only_and_settings, setup, teardown),
        cmocka_unit_test_setup_teardown(test_alerts_need_writable, setup, teardown),
        cmocka_unit_test_setup_teardown(test_logfmt_quoting, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
