/* rp_sla.h — the marketplace response-time figures and alerts, read from the
 * queue (reference: docs/sla.md).
 *
 * rp_sla_compute() reads the queue's inbound and replies tables and fills an
 * rp_sla_stats for the messages received in the last `days` days before `now`
 * (as of `now`: a first response recorded after `now` counts as none yet).
 * The rp_sla_render_*() functions append that figure set as a text table, one
 * JSON object or the Prometheus text exposition format. rp_sla_alerts() raises
 * each deadline and rate alert once: a logfmt line on a log stream and, when a
 * delivery callback is given, an rp_outgoing of kind "alert"; the queue's
 * alerts table remembers what was raised. Nothing here ever reads or writes a
 * buyer's address, name, subject or message text.
 *
 * Memory: an rp_sla_stats is plain storage owned by the caller; renderers
 * append to a caller-owned rp_buf. The database connection is borrowed.
 * Errors: RP_EIO (SQLite failed; the message says what), RP_ENOMEM,
 * RP_EUSAGE (days is 0).
 */
#ifndef RP_SLA_H
#define RP_SLA_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "plugin.h"
#include "rp_buf.h"
#include "rp_config.h"
#include "rp_error.h"

typedef struct sqlite3 sqlite3;

/* Edges of the time-left buckets of open messages, in hours. */
#define RP_SLA_BUCKET_1_HOURS 4
#define RP_SLA_BUCKET_2_HOURS 12
#define RP_SLA_BUCKET_3_HOURS 24

/* Deadline alerts look back this far: a message whose deadline passed longer
 * ago raises no new alert (it is in the figures as overdue). Also the window
 * of the rate alert. */
#define RP_SLA_ALERT_DAYS 7

typedef struct rp_sla_stats {
    int64_t now;
    unsigned days;
    int64_t since;              /* window: since < received_at <= now */
    unsigned sla_hours, warn_hours_before;
    double rate_warn;

    /* messages received in the window */
    uint64_t received;          /* all of them */
    uint64_t response_needed;   /* those with response_needed = 1: the figures below */
    uint64_t answered_in_time;  /* first_response_at <= deadline */
    uint64_t answered_late;
    uint64_t open;              /* no response yet, overdue ones included */
    uint64_t overdue;           /* open and now > deadline */
    uint64_t late;              /* answered_late + overdue */
    /* open and not overdue, by time left (deadline - now), half-open buckets */
    uint64_t open_lt_4h, open_4h_12h, open_12h_24h, open_ge_24h;
    uint64_t open_within_warn;  /* open, not overdue, time left <= warn_hours_before */
    uint64_t no_response_needed; /* response_needed = 0 */
    uint64_t suppressed;        /* ...of which loop protection suppressed */

    /* answered_in_time / (answered + overdue); has_rate false when that is 0 */
    bool has_rate;
    double rate_in_time;

    /* first response time (first_response_at - received_at) of the answered
     * ones; nearest-rank percentiles; valid when response_count > 0 */
    uint64_t response_count;
    int64_t response_median, response_p90, response_sum;

    /* the approval queue now (not limited to the window) */
    uint64_t approval_pending;
    int64_t approval_oldest_age, approval_median_age; /* seconds; 0 when none */

    /* replies failed now (not limited to the window) */
    uint64_t replies_failed, replies_attention; /* attention: flagged for a human */
} rp_sla_stats;

/* Nearest-rank percentile index: the 1-based rank of the p-th percentile
 * (0 < p <= 100) among n sorted values, ceil(p * n / 100); 0 when n is 0. */
uint64_t rp_sla_rank(unsigned p, uint64_t n);

/* Read the figures; cfg gives the SLA settings shown with them. Runs in one
 * read transaction (unless the connection has one open) so the figures are
 * one consistent snapshot. */
rp_status rp_sla_compute(sqlite3 *db, int64_t now, unsigned days, const rp_config *cfg,
                         rp_sla_stats *out, rp_error *err);

rp_status rp_sla_render_text(const rp_sla_stats *s, rp_buf *out);
/* One JSON object and a newline; keys documented in docs/sla.md. */
rp_status rp_sla_render_json(const rp_sla_stats *s, rp_buf *out);
/* Prometheus text exposition format (version 0.0.4), metrics prefixed replyd_. */
rp_status rp_sla_render_prometheus(const rp_sla_stats *s, rp_buf *out);

/* Deliver one alert; returns 0 when the sink accepted it, else non-zero with
 * a one-line reason in detail (no buyer data). */
typedef int (*rp_sla_deliver_fn)(void *ud, const rp_outgoing *alert, char *detail,
                                 size_t detail_size);

typedef struct rp_sla_alert_counts {
    unsigned raised;   /* logged (and delivered) and recorded now */
    unsigned failed;   /* delivery failed: not recorded, tried again next run */
} rp_sla_alert_counts;

/* Log one alert: its fields as key/value pairs in order ("alert" first: the
 * kind, then its figures; values borrowed for the call). level is
 * RP_LOG_WARN for an alert, RP_LOG_ERROR for one whose delivery failed (its
 * pairs then include "error", the sink's answer: free text, not replyd's). */
typedef void (*rp_sla_log_fn)(void *ud, int level, const char *const *keys,
                              const char *const *vals, size_t n);

/* An rp_sla_log_fn writing one logfmt line ("level=warn alert=deadline_near
 * inbound=42 ...") to the FILE * given as ud (replyd stats --alerts). */
void rp_sla_log_logfmt(void *ud, int level, const char *const *keys, const char *const *vals,
                       size_t n);

/* Evaluate the alerts at `now` (docs/sla.md): deadline_near, deadline_missed
 * (one per message each) and rate_low (one per UTC day). Each new alert is
 * logged through log (may be NULL) and handed to deliver when that is not
 * NULL; it is recorded in the alerts table once it was delivered (or logged,
 * without deliver). Needs a writable connection. A failed delivery is not an
 * error: it is logged and counted. */
rp_status rp_sla_alerts(sqlite3 *db, int64_t now, const rp_config *cfg, rp_sla_deliver_fn deliver,
                        void *ud, rp_sla_log_fn log, void *log_ud, rp_sla_alert_counts *counts,
                        rp_error *err);

#endif
