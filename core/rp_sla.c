/* rp_sla.c — SLA figures, their renderings and the alerts, from the queue. */
#include "rp_sla.h"

#include <math.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>

#include "rp_log.h"
#include "rp_message.h"

#define HOUR 3600
#define DAY 86400

static rp_status dberr(sqlite3 *db, rp_error *err, const char *what)
{
    return rp_error_set(err, RP_EIO, "queue: %s: %s", what, sqlite3_errmsg(db));
}

static rp_status prepare(sqlite3 *db, const char *sql, sqlite3_stmt **s, rp_error *err,
                         const char *what)
{
    if (sqlite3_prepare_v2(db, sql, -1, s, NULL) != SQLITE_OK) {
        *s = NULL;
        return dberr(db, err, what);
    }
    return RP_OK;
}

static uint64_t col_count(sqlite3_stmt *s, int i)
{
    sqlite3_int64 v = sqlite3_column_int64(s, i);
    return v > 0 ? (uint64_t)v : 0;
}

uint64_t rp_sla_rank(unsigned p, uint64_t n)
{
    if (n == 0 || p == 0)
        return 0;
    if (p > 100)
        p = 100;
    /* ceil(p * n / 100) without overflow for any realistic n */
    uint64_t whole = n / 100 * p, part = n % 100 * p;
    return whole + (part + 99) / 100;
}

/* The value at 1-based rank `rank` of an ordered query: its last parameter
 * is the offset; with three, ?1 and ?2 are the window (since, now). */
static rp_status value_at(sqlite3 *db, const char *sql, int64_t a, int64_t b, uint64_t rank,
                          int64_t *out, rp_error *err, const char *what)
{
    sqlite3_stmt *s;
    rp_status st = prepare(db, sql, &s, err, what);
    if (st != RP_OK)
        return st;
    int np = sqlite3_bind_parameter_count(s);
    if (np == 3) {
        sqlite3_bind_int64(s, 1, a);
        sqlite3_bind_int64(s, 2, b);
    }
    sqlite3_bind_int64(s, np, (sqlite3_int64)(rank - 1));
    int rc = sqlite3_step(s);
    if (rc == SQLITE_ROW)
        *out = sqlite3_column_int64(s, 0);
    else if (rc == SQLITE_DONE)
        *out = 0; /* rows changed under a caller-held transaction: cannot happen in one */
    else
        st = dberr(db, err, what);
    sqlite3_finalize(s);
    return st;
}

static const char *const sql_counts =
    "SELECT count(*), total(rn),"
    " total(rn AND ans AND NOT lte), total(rn AND ans AND lte),"
    " total(rn AND NOT ans), total(rn AND NOT ans AND lft < 0),"
    " total(rn AND NOT ans AND lft >= 0 AND lft < ?4),"
    " total(rn AND NOT ans AND lft >= ?4 AND lft < ?5),"
    " total(rn AND NOT ans AND lft >= ?5 AND lft < ?6),"
    " total(rn AND NOT ans AND lft >= ?6),"
    " total(rn AND NOT ans AND lft >= 0 AND lft <= ?3),"
    " total(NOT rn), total(NOT rn AND sup),"
    " coalesce(sum(CASE WHEN rn AND ans THEN rt END), 0)"
    " FROM (SELECT response_needed = 1 AS rn,"
    "  coalesce(first_response_at <= ?2, 0) AS ans,"
    "  coalesce(first_response_at > deadline, 0) AS lte,"
    "  max(first_response_at - received_at, 0) AS rt,"
    "  deadline - ?2 AS lft, suppressed IS NOT NULL AS sup"
    "  FROM inbound WHERE received_at > ?1 AND received_at <= ?2)";

static const char *const sql_response_at =
    "SELECT max(first_response_at - received_at, 0) AS rt FROM inbound"
    " WHERE received_at > ?1 AND received_at <= ?2 AND response_needed = 1"
    " AND first_response_at <= ?2 ORDER BY rt LIMIT 1 OFFSET ?3";

static const char *const sql_approval =
    "SELECT count(*), min(created_at) FROM replies WHERE state = 'pending_approval'";

/* ages ascending = created_at descending */
static const char *const sql_approval_at =
    "SELECT created_at FROM replies WHERE state = 'pending_approval'"
    " ORDER BY created_at DESC, id LIMIT 1 OFFSET ?1";

static const char *const sql_failed =
    "SELECT count(*), total(attention IS NOT NULL) FROM replies WHERE state = 'failed'";

static int64_t age(int64_t now, int64_t t)
{
    return now > t ? now - t : 0;
}

static rp_status compute(sqlite3 *db, int64_t now, rp_sla_stats *o, rp_error *err)
{
    sqlite3_stmt *s;
    rp_status st = prepare(db, sql_counts, &s, err, "counting messages");
    if (st != RP_OK)
        return st;
    sqlite3_bind_int64(s, 1, o->since);
    sqlite3_bind_int64(s, 2, now);
    sqlite3_bind_int64(s, 3, o->warn_hours_before ? (int64_t)o->warn_hours_before * HOUR : -1);
    sqlite3_bind_int64(s, 4, (int64_t)RP_SLA_BUCKET_1_HOURS * HOUR);
    sqlite3_bind_int64(s, 5, (int64_t)RP_SLA_BUCKET_2_HOURS * HOUR);
    sqlite3_bind_int64(s, 6, (int64_t)RP_SLA_BUCKET_3_HOURS * HOUR);
    int rc = sqlite3_step(s);
    if (rc != SQLITE_ROW) {
        st = dberr(db, err, "counting messages");
        sqlite3_finalize(s);
        return st;
    }
    o->received = col_count(s, 0);
    o->response_needed = col_count(s, 1);
    o->answered_in_time = col_count(s, 2);
    o->answered_late = col_count(s, 3);
    o->open = col_count(s, 4);
    o->overdue = col_count(s, 5);
    o->open_lt_4h = col_count(s, 6);
    o->open_4h_12h = col_count(s, 7);
    o->open_12h_24h = col_count(s, 8);
    o->open_ge_24h = col_count(s, 9);
    o->open_within_warn = col_count(s, 10);
    o->no_response_needed = col_count(s, 11);
    o->suppressed = col_count(s, 12);
    o->response_sum = sqlite3_column_int64(s, 13);
    sqlite3_finalize(s);

    o->late = o->answered_late + o->overdue;
    o->response_count = o->answered_in_time + o->answered_late;
    uint64_t denom = o->response_count + o->overdue;
    o->has_rate = denom > 0;
    o->rate_in_time = denom ? (double)o->answered_in_time / (double)denom : 0.0;
    if (o->response_count) {
        st = value_at(db, sql_response_at, o->since, now, rp_sla_rank(50, o->response_count),
                      &o->response_median, err, "reading response times");
        if (st == RP_OK)
            st = value_at(db, sql_response_at, o->since, now,
                          rp_sla_rank(90, o->response_count), &o->response_p90, err,
                          "reading response times");
        if (st != RP_OK)
            return st;
    }

    if ((st = prepare(db, sql_approval, &s, err, "reading the approval queue")) != RP_OK)
        return st;
    if ((rc = sqlite3_step(s)) != SQLITE_ROW) {
        st = dberr(db, err, "reading the approval queue");
        sqlite3_finalize(s);
        return st;
    }
    o->approval_pending = col_count(s, 0);
    o->approval_oldest_age = o->approval_pending ? age(now, sqlite3_column_int64(s, 1)) : 0;
    sqlite3_finalize(s);
    if (o->approval_pending) {
        int64_t created = now;
        st = value_at(db, sql_approval_at, 0, 0, rp_sla_rank(50, o->approval_pending), &created,
                      err, "reading the approval queue");
        if (st != RP_OK)
            return st;
        o->approval_median_age = age(now, created);
    }

    if ((st = prepare(db, sql_failed, &s, err, "counting failed replies")) != RP_OK)
        return st;
    if ((rc = sqlite3_step(s)) != SQLITE_ROW) {
        st = dberr(db, err, "counting failed replies");
        sqlite3_finalize(s);
        return st;
    }
    o->replies_failed = col_count(s, 0);
    o->replies_attention = col_count(s, 1);
    sqlite3_finalize(s);
    return RP_OK;
}

rp_status rp_sla_compute(sqlite3 *db, int64_t now, unsigned days, const rp_config *cfg,
                         rp_sla_stats *out, rp_error *err)
{
    memset(out, 0, sizeof *out);
    if (days == 0)
        return rp_error_set(err, RP_EUSAGE, "the window must be at least one day");
    out->now = now;
    out->days = days;
    out->since = now - (int64_t)days * DAY;
    out->sla_hours = cfg ? cfg->sla_hours : 24;
    out->warn_hours_before = cfg ? cfg->warn_hours_before : 0;
    out->rate_warn = cfg ? cfg->rate_warn : 0.0;
    bool own_tx = sqlite3_get_autocommit(db) != 0;
    if (own_tx && sqlite3_exec(db, "BEGIN", NULL, NULL, NULL) != SQLITE_OK)
        return dberr(db, err, "starting a read transaction");
    rp_status st = compute(db, now, out, err);
    if (own_tx && sqlite3_exec(db, st == RP_OK ? "COMMIT" : "ROLLBACK", NULL, NULL, NULL) !=
                      SQLITE_OK &&
        st == RP_OK)
        st = dberr(db, err, "ending a read transaction");
    return st;
}

/* ---- rendering ------------------------------------------------------------------ */

/* "2026-11-22 14:03 UTC" */
static void fmt_utc(int64_t t, char *buf, size_t size)
{
    char iso[32];
    rp_format_iso8601(t, iso, sizeof iso);
    snprintf(buf, size, "%.10s %.5s UTC", iso, iso + 11);
}

/* "45 s", "12 min", "3 h 05 min", "2 d 4 h" */
static void fmt_duration(int64_t s, char *buf, size_t size)
{
    long long v = (long long)(s < 0 ? 0 : s);
    if (v < 60)
        snprintf(buf, size, "%lld s", v);
    else if (v < HOUR)
        snprintf(buf, size, "%lld min", v / 60);
    else if (v < DAY)
        snprintf(buf, size, "%lld h %02lld min", v / HOUR, v % HOUR / 60);
    else
        snprintf(buf, size, "%lld d %lld h", v / DAY, v % DAY / HOUR);
}

static rp_status row(rp_buf *b, const char *label, uint64_t n, const char *extra)
{
    return rp_buf_printf(b, "%-34s %6llu%s%s\n", label, (unsigned long long)n,
                         extra && *extra ? "  " : "", extra ? extra : "");
}

rp_status rp_sla_render_text(const rp_sla_stats *s, rp_buf *b)
{
    char from[32], to[32], x[200], d1[32], d2[32];
    fmt_utc(s->since, from, sizeof from);
    fmt_utc(s->now, to, sizeof to);
    rp_status st = rp_buf_printf(b,
                                 "SLA, last %u day%s (%s to %s); deadline %u h after receipt\n",
                                 s->days, s->days == 1 ? "" : "s", from, to, s->sla_hours);
    if (st == RP_OK)
        st = row(b, "Messages received", s->received, NULL);
    if (st == RP_OK) {
        snprintf(x, sizeof x, "(suppressed by loop protection: %llu)",
                 (unsigned long long)s->suppressed);
        st = row(b, "  no response needed", s->no_response_needed, x);
    }
    if (st == RP_OK)
        st = row(b, "  needing a response", s->response_needed, NULL);
    if (st == RP_OK)
        st = row(b, "    answered in time", s->answered_in_time, NULL);
    if (st == RP_OK)
        st = row(b, "    answered late", s->answered_late, NULL);
    if (st == RP_OK) {
        snprintf(x, sizeof x, "(overdue: %llu)", (unsigned long long)s->overdue);
        st = row(b, "    open", s->open, x);
    }
    if (st == RP_OK) {
        if (s->has_rate)
            st = rp_buf_printf(b, "%-34s %5.1f %%  (%llu of %llu answered or overdue; warn below "
                                  "%.1f %%)\n",
                               "Answered in time", s->rate_in_time * 100.0,
                               (unsigned long long)s->answered_in_time,
                               (unsigned long long)(s->response_count + s->overdue),
                               s->rate_warn * 100.0);
        else
            st = rp_buf_printf(b, "%-34s %6s  (nothing answered or overdue yet)\n",
                               "Answered in time", "-");
    }
    if (st == RP_OK)
        st = row(b, "Late (answered late + overdue)", s->late, NULL);
    if (st == RP_OK) {
        if (s->response_count) {
            fmt_duration(s->response_median, d1, sizeof d1);
            fmt_duration(s->response_p90, d2, sizeof d2);
            st = rp_buf_printf(b, "%-34s median %s, p90 %s (%llu answered)\n", "First response",
                               d1, d2, (unsigned long long)s->response_count);
        } else
            st = rp_buf_printf(b, "%-34s %6s\n", "First response", "-");
    }
    if (st == RP_OK)
        st = rp_buf_printf(b,
                           "%-34s overdue %llu, <%dh %llu, %d-%dh %llu, %d-%dh %llu, >=%dh %llu\n",
                           "Open by time left", (unsigned long long)s->overdue,
                           RP_SLA_BUCKET_1_HOURS, (unsigned long long)s->open_lt_4h,
                           RP_SLA_BUCKET_1_HOURS, RP_SLA_BUCKET_2_HOURS,
                           (unsigned long long)s->open_4h_12h, RP_SLA_BUCKET_2_HOURS,
                           RP_SLA_BUCKET_3_HOURS, (unsigned long long)s->open_12h_24h,
                           RP_SLA_BUCKET_3_HOURS, (unsigned long long)s->open_ge_24h);
    if (st == RP_OK) {
        if (s->warn_hours_before) {
            snprintf(x, sizeof x, "  due within %u h (warn threshold)", s->warn_hours_before);
            st = row(b, x, s->open_within_warn, NULL);
        } else
            st = rp_buf_printf(b, "  %-32s %6s\n", "due within the warn threshold", "off");
    }
    if (st == RP_OK) {
        if (s->approval_pending) {
            fmt_duration(s->approval_oldest_age, d1, sizeof d1);
            fmt_duration(s->approval_median_age, d2, sizeof d2);
            snprintf(x, sizeof x, "(oldest %s, median age %s)", d1, d2);
        } else
            x[0] = 0;
        st = row(b, "Replies waiting for approval", s->approval_pending, x);
    }
    if (st == RP_OK) {
        snprintf(x, sizeof x, "(flagged for attention: %llu)",
                 (unsigned long long)s->replies_attention);
        st = row(b, "Replies failed", s->replies_failed, x);
    }
    return st;
}

/* A double in JSON/Prometheus: shortest-ish, never locale-dependent digits
 * beyond what printf gives in the C locale. */
static rp_status put_double(rp_buf *b, double v)
{
    return rp_buf_printf(b, "%.6g", v);
}

rp_status rp_sla_render_json(const rp_sla_stats *s, rp_buf *b)
{
    char now[32], since[32];
    rp_format_iso8601(s->now, now, sizeof now);
    rp_format_iso8601(s->since, since, sizeof since);
    typedef unsigned long long ull;
    rp_status st = rp_buf_printf(
        b,
        "{\"now\":\"%s\",\"window\":{\"days\":%u,\"since\":\"%s\",\"until\":\"%s\"},"
        "\"sla\":{\"hours\":%u,\"warn_hours_before\":%u,\"rate_warn\":",
        now, s->days, since, now, s->sla_hours, s->warn_hours_before);
    if (st == RP_OK)
        st = put_double(b, s->rate_warn);
    if (st == RP_OK)
        st = rp_buf_printf(b,
                           "},\"messages\":{\"received\":%llu,\"response_needed\":%llu,"
                           "\"answered_in_time\":%llu,\"answered_late\":%llu,\"open\":%llu,"
                           "\"overdue\":%llu,\"late\":%llu,\"no_response_needed\":%llu,"
                           "\"suppressed\":%llu},",
                           (ull)s->received, (ull)s->response_needed, (ull)s->answered_in_time,
                           (ull)s->answered_late, (ull)s->open, (ull)s->overdue, (ull)s->late,
                           (ull)s->no_response_needed, (ull)s->suppressed);
    if (st == RP_OK)
        st = rp_buf_printf(b,
                           "\"open_by_time_left\":{\"overdue\":%llu,\"lt_4h\":%llu,"
                           "\"4h_to_12h\":%llu,\"12h_to_24h\":%llu,\"ge_24h\":%llu,"
                           "\"within_warn\":%llu},\"rate_in_time\":",
                           (ull)s->overdue, (ull)s->open_lt_4h, (ull)s->open_4h_12h,
                           (ull)s->open_12h_24h, (ull)s->open_ge_24h, (ull)s->open_within_warn);
    if (st == RP_OK)
        st = s->has_rate ? put_double(b, s->rate_in_time) : rp_buf_append_str(b, "null");
    if (st == RP_OK)
        st = rp_buf_printf(b, ",\"first_response_seconds\":{\"count\":%llu,",
                           (ull)s->response_count);
    if (st == RP_OK)
        st = s->response_count
                 ? rp_buf_printf(b, "\"median\":%lld,\"p90\":%lld,\"sum\":%lld}",
                                 (long long)s->response_median, (long long)s->response_p90,
                                 (long long)s->response_sum)
                 : rp_buf_append_str(b, "\"median\":null,\"p90\":null,\"sum\":0}");
    if (st == RP_OK)
        st = rp_buf_printf(b,
                           ",\"approval\":{\"pending\":%llu,\"oldest_age_seconds\":%lld,"
                           "\"median_age_seconds\":%lld},\"replies\":{\"failed\":%llu,"
                           "\"failed_attention\":%llu}}\n",
                           (ull)s->approval_pending, (long long)s->approval_oldest_age,
                           (long long)s->approval_median_age, (ull)s->replies_failed,
                           (ull)s->replies_attention);
    return st;
}

static rp_status prom_head(rp_buf *b, const char *name, const char *type, const char *help)
{
    return rp_buf_printf(b, "# HELP replyd_%s %s\n# TYPE replyd_%s %s\n", name, help, name, type);
}

static rp_status prom_gauge(rp_buf *b, const char *name, const char *help, long long v)
{
    rp_status st = prom_head(b, name, "gauge", help);
    return st == RP_OK ? rp_buf_printf(b, "replyd_%s %lld\n", name, v) : st;
}

static rp_status prom_labelled(rp_buf *b, const char *name, const char *label,
                               const char *const *values, const uint64_t *n, size_t count)
{
    rp_status st = RP_OK;
    for (size_t i = 0; i < count && st == RP_OK; i++)
        st = rp_buf_printf(b, "replyd_%s{%s=\"%s\"} %llu\n", name, label, values[i],
                           (unsigned long long)n[i]);
    return st;
}

rp_status rp_sla_render_prometheus(const rp_sla_stats *s, rp_buf *b)
{
    rp_status st = prom_gauge(b, "sla_window_days", "Days the SLA figures cover, up to now.",
                              (long long)s->days);
    if (st == RP_OK)
        st = prom_gauge(b, "sla_hours", "Hours a buyer message may wait for its first response.",
                        (long long)s->sla_hours);
    if (st == RP_OK)
        st = prom_head(b, "sla_messages", "gauge",
                       "Buyer messages received in the window, by SLA status.");
    if (st == RP_OK) {
        static const char *const names[] = {"answered_in_time", "answered_late",
                                            "open_before_deadline", "overdue",
                                            "no_response_needed"};
        uint64_t n[] = {s->answered_in_time, s->answered_late, s->open - s->overdue, s->overdue,
                        s->no_response_needed};
        st = prom_labelled(b, "sla_messages", "status", names, n, 5);
    }
    if (st == RP_OK)
        st = prom_gauge(b, "sla_suppressed_messages",
                        "Messages in the window not answered because of loop protection (part "
                        "of no_response_needed).",
                        (long long)s->suppressed);
    if (st == RP_OK)
        st = prom_gauge(b, "sla_late_messages",
                        "Messages in the window answered late or overdue.", (long long)s->late);
    if (st == RP_OK)
        st = prom_head(b, "sla_rate_in_time", "gauge",
                       "Share answered in time of the messages answered or overdue in the "
                       "window (NaN when there are none).");
    if (st == RP_OK)
        st = rp_buf_append_str(b, "replyd_sla_rate_in_time ");
    if (st == RP_OK)
        st = s->has_rate ? put_double(b, s->rate_in_time) : rp_buf_append_str(b, "NaN");
    if (st == RP_OK)
        st = rp_buf_append_char(b, '\n');
    if (st == RP_OK)
        st = prom_head(b, "sla_rate_warn", "gauge",
                       "The rate_in_time below which replyd stats --alerts warns.");
    if (st == RP_OK)
        st = rp_buf_append_str(b, "replyd_sla_rate_warn ");
    if (st == RP_OK)
        st = put_double(b, s->rate_warn);
    if (st == RP_OK)
        st = rp_buf_append_char(b, '\n');
    if (st == RP_OK)
        st = prom_head(b, "first_response_seconds", "summary",
                       "Seconds from receipt to the first response, messages answered in the "
                       "window (nearest-rank quantiles).");
    if (st == RP_OK) {
        if (s->response_count)
            st = rp_buf_printf(b,
                               "replyd_first_response_seconds{quantile=\"0.5\"} %lld\n"
                               "replyd_first_response_seconds{quantile=\"0.9\"} %lld\n",
                               (long long)s->response_median, (long long)s->response_p90);
        else
            st = rp_buf_append_str(b, "replyd_first_response_seconds{quantile=\"0.5\"} NaN\n"
                                      "replyd_first_response_seconds{quantile=\"0.9\"} NaN\n");
    }
    if (st == RP_OK)
        st = rp_buf_printf(b,
                           "replyd_first_response_seconds_sum %lld\n"
                           "replyd_first_response_seconds_count %llu\n",
                           (long long)s->response_sum, (unsigned long long)s->response_count);
    if (st == RP_OK)
        st = prom_head(b, "open_messages", "gauge",
                       "Messages in the window waiting for a response, by time left before "
                       "the deadline.");
    if (st == RP_OK) {
        static const char *const names[] = {"overdue", "lt_4h", "4h_to_12h", "12h_to_24h",
                                            "ge_24h"};
        uint64_t n[] = {s->overdue, s->open_lt_4h, s->open_4h_12h, s->open_12h_24h,
                        s->open_ge_24h};
        st = prom_labelled(b, "open_messages", "time_left", names, n, 5);
    }
    if (st == RP_OK)
        st = prom_gauge(b, "open_within_warn_messages",
                        "Open messages not overdue whose deadline is at most warn_hours_before "
                        "away.",
                        (long long)s->open_within_warn);
    if (st == RP_OK)
        st = prom_gauge(b, "sla_warn_seconds",
                        "The warn threshold: seconds before the deadline (0 = off).",
                        (long long)s->warn_hours_before * HOUR);
    if (st == RP_OK)
        st = prom_gauge(b, "approval_pending", "Replies waiting for a human's approval.",
                        (long long)s->approval_pending);
    if (st == RP_OK)
        st = prom_gauge(b, "approval_oldest_age_seconds",
                        "Age of the oldest reply waiting for approval (0 when none).",
                        (long long)s->approval_oldest_age);
    if (st == RP_OK)
        st = prom_gauge(b, "approval_median_age_seconds",
                        "Median age of the replies waiting for approval (0 when none).",
                        (long long)s->approval_median_age);
    if (st == RP_OK)
        st = prom_gauge(b, "replies_failed", "Replies that failed for good.",
                        (long long)s->replies_failed);
    if (st == RP_OK)
        st = prom_gauge(b, "replies_attention",
                        "Failed replies flagged for a human (delivery unknown, interrupted).",
                        (long long)s->replies_attention);
    return st;
}

/* ---- alerts ------------------------------------------------------------------------ */

void rp_sla_log_logfmt(void *ud, int level, const char *const *keys, const char *const *vals,
                       size_t n)
{
    FILE *f = ud;
    rp_buf b = {0};
    rp_status st = rp_buf_append_str(&b, level == RP_LOG_ERROR ? "level=error" : "level=warn");
    for (size_t i = 0; st == RP_OK && i < n; i++) {
        st = rp_buf_printf(&b, " %s=", keys[i]);
        if (st == RP_OK)
            st = rp_logfmt_value(&b, vals[i] ? vals[i] : "", vals[i] ? strlen(vals[i]) : 0);
    }
    if (st == RP_OK)
        st = rp_buf_append_char(&b, '\n');
    /* the log is best effort: the alert itself is recorded either way */
    if (st == RP_OK && f && fwrite(b.data, 1, b.len, f) == b.len)
        fflush(f);
    rp_buf_free(&b);
}

typedef struct cand {
    int64_t id, received, deadline;
    char *marketplace, *intent;
    bool near_done, missed_done;
} cand;

typedef struct alert_ctx {
    sqlite3 *db;
    int64_t now;
    const rp_config *cfg;
    rp_sla_deliver_fn deliver;
    void *ud;
    rp_sla_log_fn log;
    void *log_ud;
    rp_sla_alert_counts *counts;
    /* the alert's log line as pairs; values borrowed from the caller */
    const char *keys[12], *vals[12];
    size_t npairs;
    rp_buf subject, body;
} alert_ctx;

static void pair(alert_ctx *a, const char *key, const char *val)
{
    if (a->npairs < sizeof a->keys / sizeof a->keys[0]) {
        a->keys[a->npairs] = key;
        a->vals[a->npairs] = val;
        a->npairs++;
    }
}

static rp_status recorded(alert_ctx *a, const char *kind, const char *subject, bool *yes,
                          rp_error *err)
{
    sqlite3_stmt *s;
    rp_status st = prepare(a->db, "SELECT 1 FROM alerts WHERE kind = ?1 AND subject = ?2", &s,
                           err, "reading the alerts");
    if (st != RP_OK)
        return st;
    sqlite3_bind_text(s, 1, kind, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 2, subject, -1, SQLITE_STATIC);
    int rc = sqlite3_step(s);
    if (rc == SQLITE_ROW || rc == SQLITE_DONE)
        *yes = rc == SQLITE_ROW;
    else
        st = dberr(a->db, err, "reading the alerts");
    sqlite3_finalize(s);
    return st;
}

static rp_status record(alert_ctx *a, const char *kind, const char *subject, rp_error *err)
{
    sqlite3_stmt *s;
    rp_status st = prepare(a->db,
                           "INSERT OR IGNORE INTO alerts(kind, subject, at) VALUES (?1, ?2, ?3)",
                           &s, err, "recording an alert");
    if (st != RP_OK)
        return st;
    sqlite3_bind_text(s, 1, kind, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 2, subject, -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 3, a->now);
    if (sqlite3_step(s) != SQLITE_DONE)
        st = dberr(a->db, err, "recording an alert");
    sqlite3_finalize(s);
    return st;
}

static void write_line(alert_ctx *a, int level)
{
    if (a->log && a->npairs)
        a->log(a->log_ud, level, a->keys, a->vals, a->npairs);
}

/* a->keys/vals hold the log line's pairs, subject and body the message.
 * Log, deliver, record. */
static rp_status raise_alert(alert_ctx *a, const char *kind, const char *subject,
                             const char *inbound, const char *marketplace, rp_error *err)
{
    rp_status st = RP_OK;
    write_line(a, RP_LOG_WARN);
    if (a->deliver) {
        char rid[160], mid[200], detail[512] = "";
        snprintf(rid, sizeof rid, "alert-%s-%s", kind, subject);
        snprintf(mid, sizeof mid, "<replyd.alert.%s.%s@replyd.invalid>", kind, subject);
        rp_outgoing o = {
            .reply_id = rid,
            .idempotency_key = rid,
            .message_id = mid,
            .from_name = a->cfg ? a->cfg->seller_name : NULL,
            .subject = a->subject.data,
            .body = a->body.data,
            .marketplace = marketplace,
            .inbound_id = inbound,
            .date = a->now,
            .attempt = 1,
            .automatic = 1,
            .kind = "alert",
        };
        if (a->deliver(a->ud, &o, detail, sizeof detail) != 0) {
            detail[sizeof detail - 1] = 0;
            a->npairs = 0;
            pair(a, "alert", kind);
            pair(a, "subject", subject);
            pair(a, "sink", a->cfg && a->cfg->alert_sink ? a->cfg->alert_sink : "-");
            pair(a, "error", detail[0] ? detail : "delivery failed");
            pair(a, "msg", "alert not delivered; tried again next run");
            write_line(a, RP_LOG_ERROR);
            a->counts->failed++;
            return RP_OK;
        }
    }
    if ((st = record(a, kind, subject, err)) != RP_OK)
        return st;
    a->counts->raised++;
    return RP_OK;
}

/* "31 pending_approval, 32 expired" */
static rp_status reply_list(alert_ctx *a, int64_t inbound, rp_buf *out, rp_error *err)
{
    sqlite3_stmt *s;
    rp_status st = prepare(a->db,
                           "SELECT id, state FROM replies WHERE inbound_id = ?1 ORDER BY seq", &s,
                           err, "reading replies");
    if (st != RP_OK)
        return st;
    sqlite3_bind_int64(s, 1, inbound);
    int rc = SQLITE_DONE, n = 0;
    while (st == RP_OK && (rc = sqlite3_step(s)) == SQLITE_ROW) {
        const char *state = (const char *)sqlite3_column_text(s, 1);
        st = rp_buf_printf(out, "%s%lld %s", n++ ? ", " : "", (long long)sqlite3_column_int64(s, 0),
                           state ? state : "?");
        if (st != RP_OK)
            st = rp_error_set(err, st, "out of memory");
    }
    if (st == RP_OK && rc != SQLITE_DONE)
        st = dberr(a->db, err, "reading replies");
    if (st == RP_OK && n == 0 && (st = rp_buf_append_str(out, "none")) != RP_OK)
        st = rp_error_set(err, st, "out of memory");
    sqlite3_finalize(s);
    return st;
}

static rp_status deadline_alert(alert_ctx *a, const cand *c, bool missed, rp_error *err)
{
    const char *kind = missed ? "deadline_missed" : "deadline_near";
    char subject[32], hours[32], deadline[32], received[32];
    snprintf(subject, sizeof subject, "%lld", (long long)c->id);
    snprintf(hours, sizeof hours, "%.1f", (double)(c->deadline - a->now) / HOUR);
    if (strcmp(hours, "-0.0") == 0)
        snprintf(hours, sizeof hours, "0.0");
    rp_format_iso8601(c->deadline, deadline, sizeof deadline);
    rp_format_iso8601(c->received, received, sizeof received);
    const char *mp = c->marketplace ? c->marketplace : "-";
    const char *intent = c->intent ? c->intent : "-";

    rp_buf_reset(&a->subject);
    rp_buf_reset(&a->body);
    a->npairs = 0;
    pair(a, "alert", kind);
    pair(a, "inbound", subject);
    pair(a, "marketplace", mp);
    pair(a, "intent", intent);
    pair(a, "hours_left", hours);
    pair(a, "deadline", deadline);
    double h = (double)(c->deadline - a->now) / HOUR;
    rp_status st = missed ? rp_buf_printf(&a->subject,
                                          "replyd: message %s (%s, %s) missed its deadline by "
                                          "%.1f h",
                                          subject, mp, intent, -h)
                          : rp_buf_printf(&a->subject,
                                          "replyd: message %s (%s, %s) is due in %s h", subject,
                                          mp, intent, hours);
    if (st == RP_OK)
        st = rp_buf_printf(&a->body, "alert: %s\ninbound: %s\nreplies: ", kind, subject);
    if (st != RP_OK)
        return rp_error_set(err, st, "out of memory");
    if ((st = reply_list(a, c->id, &a->body, err)) != RP_OK)
        return st;
    if ((st = rp_buf_append_str(&a->body, "\nmarketplace: ")) == RP_OK &&
        (st = rp_buf_append_str(&a->body, mp)) == RP_OK &&
        (st = rp_buf_append_str(&a->body, "\nintent: ")) == RP_OK &&
        (st = rp_buf_append_str(&a->body, intent)) == RP_OK)
        st = rp_buf_printf(&a->body, "\nreceived: %s\ndeadline: %s\nhours_left: %s\n", received,
                           deadline, hours);
    if (st != RP_OK)
        return rp_error_set(err, st, "out of memory");
    return raise_alert(a, kind, subject, subject, c->marketplace, err);
}

static void free_cands(cand *v, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(v[i].marketplace);
        free(v[i].intent);
    }
    free(v);
}

/* Open messages due within the warn threshold or overdue since the look-back,
 * with whether each alert was raised already. */
static rp_status collect(alert_ctx *a, cand **out, size_t *count, rp_error *err)
{
    *out = NULL;
    *count = 0;
    sqlite3_stmt *s;
    rp_status st = prepare(
        a->db,
        "SELECT i.id, i.received_at, i.deadline, i.marketplace, i.intent,"
        " EXISTS (SELECT 1 FROM alerts WHERE kind = 'deadline_near'"
        "  AND subject = CAST(i.id AS TEXT)),"
        " EXISTS (SELECT 1 FROM alerts WHERE kind = 'deadline_missed'"
        "  AND subject = CAST(i.id AS TEXT))"
        " FROM inbound i WHERE i.received_at > ?3 AND i.received_at <= ?1"
        " AND i.response_needed = 1"
        " AND (i.first_response_at IS NULL OR i.first_response_at > ?1)"
        " AND i.deadline > ?1 - ?4 AND (i.deadline < ?1 OR i.deadline - ?1 <= ?2)"
        " ORDER BY i.deadline, i.id",
        &s, err, "finding messages near their deadline");
    if (st != RP_OK)
        return st;
    int64_t lookback = (int64_t)RP_SLA_ALERT_DAYS * DAY;
    sqlite3_bind_int64(s, 1, a->now);
    /* warn 0: no deadline_near alerts (-1 matches nothing not yet overdue) */
    sqlite3_bind_int64(s, 2,
                       a->cfg && a->cfg->warn_hours_before
                           ? (int64_t)a->cfg->warn_hours_before * HOUR
                           : -1);
    /* deadlines are at most 720 h after receipt (sla.hours) */
    sqlite3_bind_int64(s, 3, a->now - lookback - 720 * (int64_t)HOUR);
    sqlite3_bind_int64(s, 4, lookback);
    cand *v = NULL;
    size_t n = 0, cap = 0;
    int rc;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        if (n == cap) {
            size_t nc = cap ? cap * 2 : 16;
            cand *nv = realloc(v, nc * sizeof *nv);
            if (!nv) {
                st = rp_error_set(err, RP_ENOMEM, "out of memory");
                break;
            }
            v = nv;
            cap = nc;
        }
        cand *c = &v[n];
        memset(c, 0, sizeof *c);
        c->id = sqlite3_column_int64(s, 0);
        c->received = sqlite3_column_int64(s, 1);
        c->deadline = sqlite3_column_int64(s, 2);
        const char *mp = (const char *)sqlite3_column_text(s, 3);
        const char *in = (const char *)sqlite3_column_text(s, 4);
        c->marketplace = mp ? rp_strdup(mp) : NULL;
        c->intent = in ? rp_strdup(in) : NULL;
        c->near_done = sqlite3_column_int(s, 5) != 0;
        c->missed_done = sqlite3_column_int(s, 6) != 0;
        n++;
        if ((mp && !c->marketplace) || (in && !c->intent)) {
            st = rp_error_set(err, RP_ENOMEM, "out of memory");
            break;
        }
    }
    if (st == RP_OK && rc != SQLITE_DONE)
        st = dberr(a->db, err, "finding messages near their deadline");
    sqlite3_finalize(s);
    if (st != RP_OK) {
        free_cands(v, n);
        return st;
    }
    *out = v;
    *count = n;
    return RP_OK;
}

static rp_status rate_alert(alert_ctx *a, rp_error *err)
{
    rp_sla_stats s;
    rp_status st = rp_sla_compute(a->db, a->now, RP_SLA_ALERT_DAYS, a->cfg, &s, err);
    if (st != RP_OK)
        return st;
    if (!s.has_rate || !(s.rate_in_time < s.rate_warn))
        return RP_OK;
    char date[32];
    rp_format_iso8601(a->now, date, sizeof date);
    date[10] = 0;
    bool done = false;
    if ((st = recorded(a, "rate_low", date, &done, err)) != RP_OK || done)
        return st;
    char rate[32], warn[32];
    snprintf(rate, sizeof rate, "%.3f", s.rate_in_time);
    snprintf(warn, sizeof warn, "%.3f", s.rate_warn);
    char days[24], in_time[24], late[24], overdue[24];
    snprintf(days, sizeof days, "%u", s.days);
    snprintf(in_time, sizeof in_time, "%llu", (unsigned long long)s.answered_in_time);
    snprintf(late, sizeof late, "%llu", (unsigned long long)s.answered_late);
    snprintf(overdue, sizeof overdue, "%llu", (unsigned long long)s.overdue);
    rp_buf_reset(&a->subject);
    rp_buf_reset(&a->body);
    a->npairs = 0;
    pair(a, "alert", "rate_low");
    pair(a, "date", date);
    pair(a, "rate_in_time", rate);
    pair(a, "rate_warn", warn);
    pair(a, "days", days);
    pair(a, "answered_in_time", in_time);
    pair(a, "answered_late", late);
    pair(a, "overdue", overdue);
    st = rp_buf_printf(&a->subject,
                           "replyd: %.1f %% answered in time over the last %u days (warn below "
                           "%.1f %%)",
                           s.rate_in_time * 100.0, s.days, s.rate_warn * 100.0);
    if (st == RP_OK)
        st = rp_buf_printf(&a->body,
                           "alert: rate_low\ndate: %s\nwindow_days: %u\nrate_in_time: %s\n"
                           "rate_warn: %s\nanswered_in_time: %llu\nanswered_late: %llu\n"
                           "overdue: %llu\nopen: %llu\n",
                           date, s.days, rate, warn, (unsigned long long)s.answered_in_time,
                           (unsigned long long)s.answered_late, (unsigned long long)s.overdue,
                           (unsigned long long)s.open);
    if (st != RP_OK)
        return rp_error_set(err, st, "out of memory");
    return raise_alert(a, "rate_low", date, NULL, NULL, err);
}

rp_status rp_sla_alerts(sqlite3 *db, int64_t now, const rp_config *cfg, rp_sla_deliver_fn deliver,
                        void *ud, rp_sla_log_fn log, void *log_ud, rp_sla_alert_counts *counts,
                        rp_error *err)
{
    rp_sla_alert_counts local = {0};
    if (!counts)
        counts = &local;
    memset(counts, 0, sizeof *counts);
    alert_ctx a = {.db = db, .now = now, .cfg = cfg, .deliver = deliver, .ud = ud, .log = log,
                   .log_ud = log_ud, .counts = counts};
    cand *v;
    size_t n;
    rp_status st = collect(&a, &v, &n, err);
    for (size_t i = 0; st == RP_OK && i < n; i++) {
        bool missed = now > v[i].deadline;
        if (missed ? v[i].missed_done : v[i].near_done)
            continue;
        st = deadline_alert(&a, &v[i], missed, err);
    }
    free_cands(v, n);
    if (st == RP_OK)
        st = rate_alert(&a, err);
    rp_buf_free(&a.subject);
    rp_buf_free(&a.body);
    return st;
}
