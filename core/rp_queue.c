/* rp_queue.c — the durable reply queue in SQLite. */
#include "rp_queue.h"

#include <errno.h>
#include <stdarg.h>
#include <fcntl.h>
#include <glib.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "rp_buf.h"
#include "rp_text.h"

static const char *const state_names[RP_STATE_COUNT] = {
    "pending_approval", "approved", "sending", "sent", "failed", "rejected", "expired"};

const char *rp_reply_state_name(rp_reply_state s)
{
    return (unsigned)s < RP_STATE_COUNT ? state_names[s] : "unknown";
}

int rp_reply_state_from_name(const char *name)
{
    for (int i = 0; name && i < RP_STATE_COUNT; i++)
        if (strcmp(name, state_names[i]) == 0)
            return i;
    return -1;
}

/* ---- schema ------------------------------------------------------------------ */

/* Each entry migrates from version i to i + 1. Never edit a released step:
 * append a new one. */
static const char *const migrations[] = {
    /* 0 -> 1 */
    "CREATE TABLE inbound("
    " id INTEGER PRIMARY KEY,"
    " msg_key TEXT NOT NULL UNIQUE,"
    " msg_id TEXT, source TEXT, marketplace TEXT, language TEXT, intent TEXT,"
    " confidence REAL, high_risk INTEGER NOT NULL DEFAULT 0,"
    " priority TEXT, tags TEXT NOT NULL DEFAULT '[]', rule TEXT, reasons TEXT NOT NULL DEFAULT '[]',"
    " sender_key TEXT,"
    " buyer TEXT, subject TEXT, body TEXT,"
    " in_message_id TEXT, in_references TEXT, order_id TEXT,"
    " received_at INTEGER NOT NULL, deadline INTEGER NOT NULL, decided_at INTEGER NOT NULL,"
    " response_needed INTEGER NOT NULL,"
    " no_response_reason TEXT, suppressed TEXT, suppressed_detail TEXT, throttled TEXT,"
    " first_response_at INTEGER, first_response_reply INTEGER,"
    " purged_at INTEGER);"
    "CREATE INDEX inbound_received ON inbound(received_at);"
    "CREATE INDEX inbound_open ON inbound(deadline)"
    " WHERE response_needed = 1 AND first_response_at IS NULL;"
    "CREATE TABLE replies("
    " id INTEGER PRIMARY KEY,"
    " inbound_id INTEGER NOT NULL REFERENCES inbound(id),"
    " seq INTEGER NOT NULL,"
    " rule TEXT, template TEXT NOT NULL, action TEXT NOT NULL, language TEXT,"
    /* OR, not IN: an IN list makes SQLite build a temporary index on every
     * INSERT and UPDATE of the state */
    " state TEXT NOT NULL CHECK (state = 'pending_approval' OR state = 'approved' OR"
    "  state = 'sending' OR state = 'sent' OR state = 'failed' OR state = 'rejected' OR"
    "  state = 'expired'),"
    " subject TEXT, body TEXT,"
    " counts_as_response INTEGER NOT NULL, compliance TEXT NOT NULL DEFAULT '[]',"
    " sender_key TEXT, automatic INTEGER NOT NULL,"
    " message_id TEXT NOT NULL, idempotency_key TEXT NOT NULL,"
    " sink TEXT, attempts INTEGER NOT NULL DEFAULT 0, next_attempt_at INTEGER NOT NULL DEFAULT 0,"
    " last_error TEXT, attention TEXT, claimed_by TEXT, claimed_at INTEGER,"
    " approved_by TEXT, approved_at INTEGER, sent_at INTEGER, remote_detail TEXT,"
    " created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL,"
    " UNIQUE (inbound_id, seq));"
    "CREATE INDEX replies_due ON replies(next_attempt_at) WHERE state = 'approved';"
    "CREATE INDEX replies_throttle ON replies(sender_key, created_at) WHERE automatic = 1;"
    "CREATE TABLE versions("
    " id INTEGER PRIMARY KEY, reply_id INTEGER NOT NULL, at INTEGER NOT NULL,"
    " actor TEXT NOT NULL, subject TEXT, body TEXT);"
    "CREATE TABLE audit("
    " id INTEGER PRIMARY KEY, at INTEGER NOT NULL, actor TEXT NOT NULL, action TEXT NOT NULL,"
    " reply_id INTEGER, inbound_id INTEGER, from_state TEXT, to_state TEXT, detail TEXT);"
    "CREATE INDEX audit_reply ON audit(reply_id);"
    "CREATE TRIGGER audit_append_only_u BEFORE UPDATE ON audit"
    " BEGIN SELECT RAISE(ABORT, 'the audit trail is append-only'); END;"
    "CREATE TRIGGER audit_append_only_d BEFORE DELETE ON audit"
    " BEGIN SELECT RAISE(ABORT, 'the audit trail is append-only'); END;"
    "CREATE TABLE alerts(kind TEXT NOT NULL, subject TEXT NOT NULL, at INTEGER NOT NULL,"
    " PRIMARY KEY (kind, subject));",
    /* 1 -> 2: replyd run's sources (rp_runstate.h) */
    "CREATE TABLE sources("
    " name TEXT PRIMARY KEY, plugin TEXT NOT NULL, state TEXT,"
    " last_poll INTEGER, last_ok INTEGER, last_error TEXT, last_error_at INTEGER,"
    " failures INTEGER NOT NULL DEFAULT 0, fetched INTEGER NOT NULL DEFAULT 0,"
    " stored INTEGER NOT NULL DEFAULT 0, unreadable INTEGER NOT NULL DEFAULT 0,"
    " next_poll INTEGER);"
    "CREATE TABLE unreadable("
    " id INTEGER PRIMARY KEY, source TEXT NOT NULL, ref TEXT NOT NULL, error TEXT NOT NULL,"
    " at INTEGER NOT NULL);",
};
#define NMIGRATIONS (sizeof migrations / sizeof migrations[0])

/* ---- statements -------------------------------------------------------------- */

enum {
    S_SEEN,
    S_ADD_INBOUND,
    S_ADD_REPLY,
    S_AUDIT,
    S_LAST_AUTO,
    S_COUNT_AUTO,
    S_GET,
    S_DUE,
    S_CLAIM,
    S_STATE,
    S_SET_STATE,
    S_FIRST_RESPONSE,
    S_COUNT
};

static const char *const sql_text[S_COUNT] = {
    [S_SEEN] = "SELECT 1 FROM inbound WHERE msg_key = ?1",
    [S_ADD_INBOUND] =
        "INSERT OR IGNORE INTO inbound(msg_key, msg_id, source, marketplace, language, intent,"
        " confidence, high_risk, priority, tags, rule, reasons, sender_key, buyer, subject, body,"
        " in_message_id, in_references, order_id, received_at, deadline, decided_at,"
        " response_needed, no_response_reason, suppressed, suppressed_detail, throttled)"
        " VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12,?13,?14,?15,?16,?17,?18,?19,?20,?21,?22,"
        "?23,?24,?25,?26,?27)",
    [S_ADD_REPLY] =
        "INSERT INTO replies(inbound_id, seq, rule, template, action, language, state, subject,"
        " body, counts_as_response, compliance, sender_key, automatic, message_id,"
        " idempotency_key, approved_by, approved_at, created_at, updated_at)"
        " VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12,?13,?14,?15,?16,?17,?18,?18)",
    [S_AUDIT] = "INSERT INTO audit(at, actor, action, reply_id, inbound_id, from_state, to_state,"
                " detail) VALUES (?1,?2,?3,?4,?5,?6,?7,?8)",
    [S_LAST_AUTO] = "SELECT max(created_at) FROM replies WHERE sender_key = ?1 AND automatic = 1"
                    " AND template = ?2 AND state NOT IN ('rejected','expired')",
    [S_COUNT_AUTO] = "SELECT count(*) FROM replies WHERE sender_key = ?1 AND automatic = 1"
                     " AND created_at >= ?2 AND state NOT IN ('rejected','expired')",
    [S_GET] = "SELECT r.id, r.inbound_id, r.state, r.rule, r.template, r.action, r.language,"
              " r.subject, r.body, r.counts_as_response, r.compliance, r.sink, r.message_id,"
              " r.idempotency_key, r.attempts, r.next_attempt_at, r.created_at, r.updated_at,"
              " r.sent_at, r.last_error, r.attention, r.approved_by, r.claimed_by,"
              " i.msg_id, i.marketplace, i.intent, i.priority, i.tags, i.buyer, i.subject, i.body,"
              " i.in_message_id, i.in_references, i.order_id, i.received_at, i.deadline,"
              " i.high_risk, r.automatic"
              " FROM replies r JOIN inbound i ON i.id = r.inbound_id WHERE r.id = ?1",
    [S_DUE] = "SELECT id FROM replies WHERE state = 'approved' AND next_attempt_at <= ?1"
              " ORDER BY next_attempt_at, id LIMIT 16",
    [S_CLAIM] = "UPDATE replies SET state = 'sending', claimed_by = ?2, claimed_at = ?3,"
                " sink = ?4, attempts = attempts + 1, updated_at = ?3"
                " WHERE id = ?1 AND state = 'approved' AND next_attempt_at <= ?3",
    [S_STATE] = "SELECT state, inbound_id FROM replies WHERE id = ?1",
    [S_SET_STATE] = "UPDATE replies SET state = ?2, updated_at = ?3 WHERE id = ?1",
    [S_FIRST_RESPONSE] =
        "UPDATE inbound SET first_response_at = ?2, first_response_reply = ?3"
        " WHERE id = ?1 AND first_response_at IS NULL",
};

struct rp_queue {
    sqlite3 *db;
    char *path;
    sqlite3_stmt *st[S_COUNT];
    int in_tx;
    rp_reply_history hist;
    rp_buf a, b, c;  /* scratch */
    char *row;       /* the strings of the reply rp_queue_get() returned */
    size_t row_cap;
    /* statements of run_sql(), prepared once, keyed by their (static) text */
    struct {
        const char *sql;
        sqlite3_stmt *st;
    } cache[24];
    size_t ncache;
};

struct rp_queue_owner {
    char token[96];
    char *lock_path;
    int fd;
};

static rp_status dberr(rp_queue *q, rp_error *err, const char *what)
{
    return rp_error_set(err, RP_EIO, "queue %s: %s: %s", q->path, what, sqlite3_errmsg(q->db));
}

static rp_status exec(rp_queue *q, const char *sql, rp_error *err)
{
    char *msg = NULL;
    if (sqlite3_exec(q->db, sql, NULL, NULL, &msg) != SQLITE_OK) {
        rp_status st = rp_error_set(err, RP_EIO, "queue %s: %s", q->path,
                                    msg ? msg : sqlite3_errmsg(q->db));
        sqlite3_free(msg);
        return st;
    }
    return RP_OK;
}

static sqlite3_stmt *stmt(rp_queue *q, int which)
{
    sqlite3_stmt *s = q->st[which];
    sqlite3_reset(s);
    sqlite3_clear_bindings(s);
    return s;
}

static int bind_text(sqlite3_stmt *s, int i, const char *v)
{
    return v ? sqlite3_bind_text(s, i, v, -1, SQLITE_STATIC) : sqlite3_bind_null(s, i);
}

static rp_status migrate(rp_queue *q, rp_error *err)
{
    sqlite3_stmt *s;
    if (sqlite3_prepare_v2(q->db, "PRAGMA user_version", -1, &s, NULL) != SQLITE_OK)
        return dberr(q, err, "reading the schema version");
    int version = sqlite3_step(s) == SQLITE_ROW ? sqlite3_column_int(s, 0) : -1;
    sqlite3_finalize(s);
    if (version < 0)
        return dberr(q, err, "reading the schema version");
    if ((size_t)version > NMIGRATIONS)
        return rp_error_set(err, RP_EINVAL,
                            "queue %s has schema version %d; this replyd knows up to %d: use a "
                            "newer replyd",
                            q->path, version, (int)NMIGRATIONS);
    for (size_t v = (size_t)version; v < NMIGRATIONS; v++) {
        char pragma[64];
        snprintf(pragma, sizeof pragma, "PRAGMA user_version = %zu", v + 1);
        rp_status st = exec(q, "BEGIN IMMEDIATE", err);
        if (st != RP_OK)
            return st;
        /* another process may have migrated it meanwhile */
        if (sqlite3_prepare_v2(q->db, "PRAGMA user_version", -1, &s, NULL) != SQLITE_OK) {
            exec(q, "ROLLBACK", NULL);
            return dberr(q, err, "reading the schema version");
        }
        int now_v = sqlite3_step(s) == SQLITE_ROW ? sqlite3_column_int(s, 0) : -1;
        sqlite3_finalize(s);
        if (now_v > (int)v) {
            exec(q, "ROLLBACK", NULL);
            v = (size_t)now_v - 1;
            continue;
        }
        if ((st = exec(q, migrations[v], err)) != RP_OK || (st = exec(q, pragma, err)) != RP_OK ||
            (st = exec(q, "COMMIT", err)) != RP_OK) {
            exec(q, "ROLLBACK", NULL);
            return st;
        }
    }
    return RP_OK;
}

static rp_status hist_last(void *ctx, const char *key, const char *tpl, int64_t *at);
static rp_status hist_count(void *ctx, const char *key, int64_t since, unsigned *n);
static rp_status hist_record(void *ctx, const char *key, const char *tpl, int64_t at);

rp_status rp_queue_open(const char *path, const rp_queue_opts *opts, rp_queue **out,
                        rp_error *err)
{
    *out = NULL;
    rp_queue_opts o = {.busy_ms = 10000};
    if (opts)
        o = *opts;
    if (!o.busy_ms)
        o.busy_ms = 10000;
    rp_queue *q = calloc(1, sizeof *q);
    if (!q || !(q->path = rp_strdup(path))) {
        free(q);
        return rp_error_set(err, RP_ENOMEM, "out of memory");
    }
    int flags = o.read_only ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE;
    if (sqlite3_open_v2(path, &q->db, flags | SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK) {
        rp_status st = q->db ? dberr(q, err, "cannot open")
                             : rp_error_set(err, RP_ENOMEM, "out of memory");
        rp_queue_close(q);
        return st;
    }
    sqlite3_busy_timeout(q->db, (int)o.busy_ms);
    sqlite3_extended_result_codes(q->db, 1);
    rp_status st = RP_OK;
    if (!o.read_only) {
        /* larger pages: fewer, larger writes (a new file only; ignored after) */
        st = exec(q, "PRAGMA page_size = 16384", err);
        if (st == RP_OK)
            st = exec(q, "PRAGMA journal_mode = WAL", err);
        if (st == RP_OK)
            st = exec(q, o.full_sync ? "PRAGMA synchronous = FULL" : "PRAGMA synchronous = NORMAL",
                      err);
        if (st == RP_OK)
            st = migrate(q, err);
    } else {
        sqlite3_stmt *s;
        int v = -1;
        if (sqlite3_prepare_v2(q->db, "PRAGMA user_version", -1, &s, NULL) == SQLITE_OK) {
            if (sqlite3_step(s) == SQLITE_ROW)
                v = sqlite3_column_int(s, 0);
            sqlite3_finalize(s);
        }
        if (v != (int)NMIGRATIONS)
            st = rp_error_set(err, RP_EINVAL, "queue %s: %s", path,
                              v == 0 ? "not a replyd queue (or empty)"
                                     : "schema version differs from this replyd's");
    }
    if (st == RP_OK)
        st = exec(q, "PRAGMA foreign_keys = ON", err);
    /* a page cache of 32 MiB and reads through mmap keep big queues fast;
     * both are upper bounds, not allocations */
    if (st == RP_OK)
        st = exec(q, "PRAGMA cache_size = -32768; PRAGMA wal_autocheckpoint = 10000", err);
    for (int i = 0; st == RP_OK && i < S_COUNT; i++)
        if (sqlite3_prepare_v3(q->db, sql_text[i], -1, SQLITE_PREPARE_PERSISTENT, &q->st[i],
                               NULL) != SQLITE_OK)
            st = dberr(q, err, "preparing a statement");
    if (st != RP_OK) {
        rp_queue_close(q);
        return st;
    }
    q->hist.ctx = q;
    q->hist.last_auto = hist_last;
    q->hist.count_auto_since = hist_count;
    q->hist.record_auto = hist_record;
    *out = q;
    return RP_OK;
}

void rp_queue_close(rp_queue *q)
{
    if (!q)
        return;
    if (q->in_tx)
        rp_queue_rollback(q);
    for (int i = 0; i < S_COUNT; i++)
        sqlite3_finalize(q->st[i]);
    for (size_t i = 0; i < q->ncache; i++)
        sqlite3_finalize(q->cache[i].st);
    sqlite3_close(q->db);
    rp_buf_free(&q->a);
    rp_buf_free(&q->b);
    rp_buf_free(&q->c);
    free(q->row);
    free(q->path);
    free(q);
}

sqlite3 *rp_queue_db(rp_queue *q)
{
    return q->db;
}

const char *rp_queue_path(const rp_queue *q)
{
    return q->path;
}

rp_status rp_queue_begin(rp_queue *q, rp_error *err)
{
    if (q->in_tx)
        return rp_error_set(err, RP_EUSAGE, "queue: a transaction is open already");
    rp_status st = exec(q, "BEGIN IMMEDIATE", err);
    if (st == RP_OK)
        q->in_tx = 1;
    return st;
}

rp_status rp_queue_commit(rp_queue *q, rp_error *err)
{
    if (!q->in_tx)
        return RP_OK;
    rp_status st = exec(q, "COMMIT", err);
    if (st != RP_OK)
        return st;
    q->in_tx = 0;
    return RP_OK;
}

rp_status rp_queue_rollback(rp_queue *q)
{
    for (int i = 0; i < S_COUNT; i++)
        if (q->st[i])
            sqlite3_reset(q->st[i]);
    for (size_t i = 0; i < q->ncache; i++)
        sqlite3_reset(q->cache[i].st);
    rp_status st = exec(q, "ROLLBACK", NULL);
    q->in_tx = 0;
    return st;
}

/* Run fn inside a transaction unless one is open. */
typedef rp_status (*tx_fn)(rp_queue *q, void *ud, rp_error *err);
static rp_status in_tx(rp_queue *q, tx_fn fn, void *ud, rp_error *err)
{
    if (q->in_tx)
        return fn(q, ud, err);
    rp_status st = exec(q, "BEGIN IMMEDIATE", err);
    if (st != RP_OK)
        return st;
    q->in_tx = 1;
    st = fn(q, ud, err);
    if (st == RP_OK)
        st = rp_queue_commit(q, err);
    if (st != RP_OK)
        rp_queue_rollback(q);
    return st;
}

/* ---- keys and hashes ----------------------------------------------------------- */

static void sha256_hex(const void *data, size_t len, char *out, size_t size)
{
    gchar *h = g_compute_checksum_for_data(G_CHECKSUM_SHA256, data, len);
    snprintf(out, size, "%s", h ? h : "");
    g_free(h);
}

void rp_queue_message_key(const rp_message *m, char *out, size_t size)
{
    if (m->id && *m->id && !(m->source && strcmp(m->id, m->source) == 0)) {
        /* long ids are hashed so keys stay short */
        char tmp[600];
        int n = snprintf(tmp, sizeof tmp, "%s|%s", m->marketplace ? m->marketplace : "", m->id);
        if (n > 0 && (size_t)n < sizeof tmp && (size_t)n + 4 < size) {
            snprintf(out, size, "id:%s", tmp);
            return;
        }
        char h[65];
        sha256_hex(tmp, strlen(tmp), h, sizeof h);
        snprintf(out, size, "idh:%s", h);
        return;
    }
    char h[65];
    if (m->raw)
        sha256_hex(m->raw, m->raw_len, h, sizeof h);
    else
        sha256_hex(m->body ? m->body : "", m->body ? strlen(m->body) : 0, h, sizeof h);
    snprintf(out, size, "raw:%s", h);
}

rp_status rp_queue_seen(rp_queue *q, const char *key, bool *seen, rp_error *err)
{
    sqlite3_stmt *s = stmt(q, S_SEEN);
    bind_text(s, 1, key);
    int rc = sqlite3_step(s);
    sqlite3_reset(s);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        return dberr(q, err, "looking a message up");
    *seen = rc == SQLITE_ROW;
    return RP_OK;
}

/* The bare address of "Name <addr>" or "addr", as written, into out; NULL if
 * none. (rp_loop_bare_address() lower-cases it, which suits a bookkeeping key
 * but not the recipient of a reply.) */
static const char *bare_address(const char *s, char *out, size_t size)
{
    if (!s)
        return NULL;
    const char *lt = strrchr(s, '<'), *gt = lt ? strchr(lt, '>') : NULL;
    const char *b = s, *e = s + strlen(s);
    if (lt && gt) {
        b = lt + 1;
        e = gt;
    }
    while (b < e && (*b == ' ' || *b == '\t'))
        b++;
    while (e > b && (e[-1] == ' ' || e[-1] == '\t'))
        e--;
    if (e == b || (size_t)(e - b) >= size || !memchr(b, '@', (size_t)(e - b)))
        return NULL;
    memcpy(out, b, (size_t)(e - b));
    out[e - b] = 0;
    return out;
}

/* ---- enqueue ------------------------------------------------------------------- */

static rp_status audit(rp_queue *q, int64_t at, const char *actor, const char *action,
                       int64_t reply_id, int64_t inbound_id, const char *from, const char *to,
                       const char *detail, rp_error *err)
{
    sqlite3_stmt *s = stmt(q, S_AUDIT);
    sqlite3_bind_int64(s, 1, at);
    bind_text(s, 2, actor);
    bind_text(s, 3, action);
    if (reply_id > 0)
        sqlite3_bind_int64(s, 4, reply_id);
    if (inbound_id > 0)
        sqlite3_bind_int64(s, 5, inbound_id);
    bind_text(s, 6, from);
    bind_text(s, 7, to);
    bind_text(s, 8, detail);
    int rc = sqlite3_step(s);
    sqlite3_reset(s);
    return rc == SQLITE_DONE ? RP_OK : dberr(q, err, "writing the audit trail");
}

static rp_status json_strings(rp_buf *b, const char *const *v, size_t n)
{
    rp_buf_reset(b);
    rp_status st = rp_buf_append_char(b, '[');
    for (size_t i = 0; i < n && st == RP_OK; i++) {
        if (i)
            st = rp_buf_append_char(b, ',');
        if (st == RP_OK)
            st = rp_buf_append_json_string(b, v[i], strlen(v[i]));
    }
    if (st == RP_OK)
        st = rp_buf_append_char(b, ']');
    if (st == RP_OK)
        st = rp_buf_append_char(b, '\0');
    return st;
}

rp_status rp_findings_json(const rp_findings *f, rp_buf *b)
{
    rp_buf_reset(b);
    rp_status st = rp_buf_append_char(b, '[');
    for (size_t i = 0; i < f->n && st == RP_OK; i++) {
        const rp_finding *x = &f->items[i];
        st = rp_buf_printf(b, "%s{\"check\":\"%s\",\"blocking\":%s,\"text\":", i ? "," : "",
                           rp_check_name(x->check), x->blocking ? "true" : "false");
        if (st == RP_OK)
            st = rp_buf_append_json_string(b, x->text, strlen(x->text));
        if (st == RP_OK)
            st = rp_buf_append_char(b, '}');
    }
    if (st == RP_OK)
        st = rp_buf_append_char(b, ']');
    if (st == RP_OK)
        st = rp_buf_append_char(b, '\0');
    return st;
}

rp_status rp_queue_add(rp_queue *q, const rp_message *m, const rp_decision *d,
                       const rp_queue_add_info *info, int64_t *inbound_id, bool *added,
                       rp_error *err)
{
    *added = false;
    *inbound_id = 0;
    rp_status st;
    char addr[320], skey[65] = "";
    const char *reply_to = rp_message_header(m, "Reply-To");
    const char *buyer = bare_address(reply_to, addr, sizeof addr);
    if (!buyer)
        buyer = bare_address(m->from, addr, sizeof addr);
    if (m->from)
        rp_loop_sender_key(m->from, skey);
    int64_t received = m->received_at != RP_TIME_UNKNOWN ? m->received_at : info->now;
    bool response_needed = !d->no_reply && d->nreplies > 0;

    if ((st = json_strings(&q->a, d->tags, d->ntags)) != RP_OK ||
        (st = json_strings(&q->b, d->reasons, d->nreasons)) != RP_OK)
        return rp_error_set(err, st, "out of memory");
    sqlite3_stmt *s = stmt(q, S_ADD_INBOUND);
    bind_text(s, 1, info->key);
    bind_text(s, 2, m->id);
    bind_text(s, 3, m->source);
    bind_text(s, 4, m->marketplace);
    bind_text(s, 5, d->language);
    bind_text(s, 6, d->intent);
    sqlite3_bind_double(s, 7, d->confidence);
    sqlite3_bind_int(s, 8, d->high_risk);
    bind_text(s, 9, rp_priority_name(d->priority));
    bind_text(s, 10, q->a.data);
    bind_text(s, 11, d->rule);
    bind_text(s, 12, q->b.data);
    bind_text(s, 13, skey[0] ? skey : NULL);
    bind_text(s, 14, buyer);
    bind_text(s, 15, m->subject);
    bind_text(s, 16, m->body);
    bind_text(s, 17, rp_message_header(m, "Message-ID"));
    bind_text(s, 18, rp_message_header(m, "References"));
    bind_text(s, 19, m->order_id);
    sqlite3_bind_int64(s, 20, received);
    sqlite3_bind_int64(s, 21, received + info->sla_seconds);
    sqlite3_bind_int64(s, 22, info->now);
    sqlite3_bind_int(s, 23, response_needed);
    bind_text(s, 24, response_needed ? NULL : d->suppressed ? "loop protection" : "no reply needed");
    bind_text(s, 25, d->suppressed);
    bind_text(s, 26, d->suppressed_detail);
    /* automatic replies the throttles dropped while a draft remained */
    const char *throttled = NULL;
    for (size_t i = 0; !d->suppressed && i < d->nreasons && !throttled; i++)
        if (strncmp(d->reasons[i], "loop protection: ", 17) == 0)
            throttled = d->reasons[i] + 17;
    bind_text(s, 27, throttled);
    int rc = sqlite3_step(s);
    sqlite3_reset(s);
    if (rc != SQLITE_DONE)
        return dberr(q, err, "storing a message");
    if (sqlite3_changes(q->db) == 0)
        return RP_OK; /* stored before */
    int64_t iid = sqlite3_last_insert_rowid(q->db);
    *inbound_id = iid;
    *added = true;
    if (d->suppressed &&
        (st = audit(q, info->now, "replyd", "suppressed", 0, iid, NULL, NULL,
                    d->suppressed_detail ? d->suppressed_detail : d->suppressed, err)) != RP_OK)
        return st;

    for (size_t i = 0; i < d->nreplies; i++) {
        const rp_reply *r = &d->replies[i];
        bool automatic = r->action == RP_ACTION_AUTO_SEND;
        char seed[700], h[65], mid[160], idem[80];
        snprintf(seed, sizeof seed, "%s/%zu/%s", info->key, i, r->template_id);
        sha256_hex(seed, strlen(seed), h, sizeof h);
        snprintf(mid, sizeof mid, "<replyd.%.32s@%s>", h, info->id_domain ? info->id_domain : "replyd.invalid");
        snprintf(idem, sizeof idem, "replyd-%.40s", h);
        if ((st = rp_findings_json(&r->compliance, &q->c)) != RP_OK)
            return rp_error_set(err, st, "out of memory");
        const char *state = automatic ? "approved" : "pending_approval";
        s = stmt(q, S_ADD_REPLY);
        sqlite3_bind_int64(s, 1, iid);
        sqlite3_bind_int(s, 2, (int)i);
        bind_text(s, 3, r->rule);
        bind_text(s, 4, r->template_id);
        bind_text(s, 5, rp_action_name(r->action));
        bind_text(s, 6, r->language);
        bind_text(s, 7, state);
        bind_text(s, 8, r->subject);
        bind_text(s, 9, r->body);
        sqlite3_bind_int(s, 10, r->counts_as_response);
        bind_text(s, 11, q->c.data);
        bind_text(s, 12, skey[0] ? skey : NULL);
        sqlite3_bind_int(s, 13, automatic);
        bind_text(s, 14, mid);
        bind_text(s, 15, idem);
        bind_text(s, 16, automatic ? "auto" : NULL);
        if (automatic)
            sqlite3_bind_int64(s, 17, info->now);
        sqlite3_bind_int64(s, 18, info->now);
        rc = sqlite3_step(s);
        sqlite3_reset(s);
        if (rc != SQLITE_DONE)
            return dberr(q, err, "storing a reply");
    }
    return RP_OK;
}

/* ---- throttle history ---------------------------------------------------------- */

static rp_status hist_last(void *ctx, const char *key, const char *tpl, int64_t *at)
{
    rp_queue *q = ctx;
    sqlite3_stmt *s = stmt(q, S_LAST_AUTO);
    bind_text(s, 1, key);
    bind_text(s, 2, tpl);
    int rc = sqlite3_step(s);
    *at = RP_TIME_UNKNOWN;
    if (rc == SQLITE_ROW && sqlite3_column_type(s, 0) != SQLITE_NULL)
        *at = sqlite3_column_int64(s, 0);
    sqlite3_reset(s);
    return rc == SQLITE_ROW || rc == SQLITE_DONE ? RP_OK : RP_EIO;
}

static rp_status hist_count(void *ctx, const char *key, int64_t since, unsigned *n)
{
    rp_queue *q = ctx;
    sqlite3_stmt *s = stmt(q, S_COUNT_AUTO);
    bind_text(s, 1, key);
    sqlite3_bind_int64(s, 2, since);
    int rc = sqlite3_step(s);
    *n = rc == SQLITE_ROW ? (unsigned)sqlite3_column_int(s, 0) : 0;
    sqlite3_reset(s);
    return rc == SQLITE_ROW ? RP_OK : RP_EIO;
}

static rp_status hist_record(void *ctx, const char *key, const char *tpl, int64_t at)
{
    /* the reply row itself is the record, written by rp_queue_add */
    (void)ctx;
    (void)key;
    (void)tpl;
    (void)at;
    return RP_OK;
}

const rp_reply_history *rp_queue_history(rp_queue *q)
{
    return &q->hist;
}

/* ---- reading ------------------------------------------------------------------- */

static const char *col_text(sqlite3_stmt *s, int i)
{
    return (const char *)sqlite3_column_text(s, i);
}

static int64_t col_time(sqlite3_stmt *s, int i)
{
    return sqlite3_column_type(s, i) == SQLITE_NULL ? RP_TIME_UNKNOWN : sqlite3_column_int64(s, i);
}

/* Fill r from a row of the S_GET column layout. */
static void read_reply(sqlite3_stmt *s, rp_qreply *r)
{
    memset(r, 0, sizeof *r);
    r->id = sqlite3_column_int64(s, 0);
    r->inbound_id = sqlite3_column_int64(s, 1);
    int st = rp_reply_state_from_name(col_text(s, 2));
    r->state = st < 0 ? RP_STATE_FAILED : (rp_reply_state)st;
    r->rule = col_text(s, 3);
    r->template_id = col_text(s, 4);
    r->action = col_text(s, 5);
    r->language = col_text(s, 6);
    r->subject = col_text(s, 7);
    r->body = col_text(s, 8);
    r->counts_as_response = sqlite3_column_int(s, 9) != 0;
    r->compliance = col_text(s, 10);
    r->sink = col_text(s, 11);
    r->message_id = col_text(s, 12);
    r->idempotency_key = col_text(s, 13);
    r->attempts = (unsigned)sqlite3_column_int(s, 14);
    r->next_attempt_at = col_time(s, 15);
    r->created_at = col_time(s, 16);
    r->updated_at = col_time(s, 17);
    r->sent_at = col_time(s, 18);
    r->last_error = col_text(s, 19);
    r->attention = col_text(s, 20);
    r->approved_by = col_text(s, 21);
    r->claimed_by = col_text(s, 22);
    r->msg_id = col_text(s, 23);
    r->marketplace = col_text(s, 24);
    r->intent = col_text(s, 25);
    r->priority = col_text(s, 26);
    r->tags = col_text(s, 27);
    r->buyer = col_text(s, 28);
    r->in_subject = col_text(s, 29);
    r->in_body = col_text(s, 30);
    r->in_message_id = col_text(s, 31);
    r->in_references = col_text(s, 32);
    r->order_id = col_text(s, 33);
    r->received_at = col_time(s, 34);
    r->deadline = col_time(s, 35);
    r->high_risk = sqlite3_column_int(s, 36) != 0;
    r->automatic = sqlite3_column_int(s, 37) != 0;
}

rp_status rp_queue_get(rp_queue *q, int64_t id, rp_qreply *out, rp_error *err)
{
    sqlite3_stmt *s = stmt(q, S_GET);
    sqlite3_bind_int64(s, 1, id);
    int rc = sqlite3_step(s);
    if (rc == SQLITE_ROW) {
        /* copy the strings out, so that no read transaction stays open (an
         * open one would make this connection's next write fail with
         * SQLITE_BUSY_SNAPSHOT once another process has written) */
        int ncol = sqlite3_column_count(s);
        size_t need = 0;
        for (int i = 0; i < ncol; i++)
            if (sqlite3_column_type(s, i) == SQLITE_TEXT)
                need += (size_t)sqlite3_column_bytes(s, i) + 1;
        if (need > q->row_cap) {
            char *n = realloc(q->row, need);
            if (!n) {
                sqlite3_reset(s);
                return rp_error_set(err, RP_ENOMEM, "out of memory");
            }
            q->row = n;
            q->row_cap = need;
        }
        read_reply(s, out);
        const char **fields[] = {&out->rule, &out->template_id, &out->action, &out->language,
                                 &out->subject, &out->body, &out->compliance, &out->sink,
                                 &out->message_id, &out->idempotency_key, &out->last_error,
                                 &out->attention, &out->approved_by, &out->claimed_by,
                                 &out->msg_id, &out->marketplace, &out->intent, &out->priority,
                                 &out->tags, &out->buyer, &out->in_subject, &out->in_body,
                                 &out->in_message_id, &out->in_references, &out->order_id};
        char *p = q->row;
        for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++) {
            if (!*fields[i])
                continue;
            size_t l = strlen(*fields[i]) + 1;
            memcpy(p, *fields[i], l);
            *fields[i] = p;
            p += l;
        }
        sqlite3_reset(s);
        return RP_OK;
    }
    sqlite3_reset(s);
    if (rc == SQLITE_DONE)
        return rp_error_set(err, RP_EINVAL, "no reply %lld in the queue", (long long)id);
    return dberr(q, err, "reading a reply");
}

rp_status rp_queue_list(rp_queue *q, const rp_queue_filter *f, rp_qreply_fn fn, void *ud,
                        rp_error *err)
{
    rp_buf *sql = &q->a;
    rp_buf_reset(sql);
    const char *base = sql_text[S_GET];
    const char *where = strstr(base, " WHERE r.id = ?1");
    rp_status st = rp_buf_append(sql, base, (size_t)(where - base));
    if (st == RP_OK)
        st = rp_buf_append_str(sql, " WHERE 1");
    if (st == RP_OK && f->state >= 0)
        st = rp_buf_append_str(sql, " AND r.state = ?1");
    if (st == RP_OK && f->open_only)
        st = rp_buf_append_str(sql, " AND r.state IN ('pending_approval','approved','sending',"
                                    "'failed')");
    if (st == RP_OK && f->intent)
        st = rp_buf_append_str(sql, " AND i.intent = ?2");
    if (st == RP_OK && f->marketplace)
        st = rp_buf_append_str(sql, " AND i.marketplace = ?3");
    if (st == RP_OK && f->language)
        st = rp_buf_append_str(sql, " AND r.language = ?4");
    if (st == RP_OK && f->template_id)
        st = rp_buf_append_str(sql, " AND r.template = ?5");
    if (st == RP_OK && f->attention_only)
        st = rp_buf_append_str(sql, " AND r.attention IS NOT NULL");
    if (st == RP_OK)
        st = rp_buf_append_str(sql, " ORDER BY i.deadline, r.id");
    if (st == RP_OK && f->limit)
        st = rp_buf_printf(sql, " LIMIT %u", f->limit);
    if (st == RP_OK)
        st = rp_buf_append_char(sql, '\0');
    if (st != RP_OK)
        return rp_error_set(err, st, "out of memory");
    sqlite3_stmt *s;
    if (sqlite3_prepare_v2(q->db, sql->data, -1, &s, NULL) != SQLITE_OK)
        return dberr(q, err, "listing replies");
    if (f->state >= 0)
        sqlite3_bind_text(s, 1, rp_reply_state_name((rp_reply_state)f->state), -1, SQLITE_STATIC);
    bind_text(s, 2, f->intent);
    bind_text(s, 3, f->marketplace);
    bind_text(s, 4, f->language);
    bind_text(s, 5, f->template_id);
    int rc;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        rp_qreply r;
        read_reply(s, &r);
        if (fn(ud, &r))
            break;
    }
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
        st = dberr(q, err, "listing replies");
        sqlite3_finalize(s);
        return st;
    }
    sqlite3_finalize(s);
    return RP_OK;
}

rp_status rp_queue_list_suppressed(rp_queue *q, unsigned limit, rp_qinbound_fn fn, void *ud,
                                   rp_error *err)
{
    sqlite3_stmt *s;
    if (sqlite3_prepare_v2(q->db,
                           "SELECT id, msg_id, marketplace, language, intent,"
                           " coalesce(suppressed, 'automatic_reply_throttled'),"
                           " coalesce(suppressed_detail, throttled), received_at, deadline,"
                           " first_response_at, response_needed FROM inbound"
                           " WHERE suppressed IS NOT NULL OR throttled IS NOT NULL"
                           " ORDER BY received_at DESC, id DESC LIMIT ?1",
                           -1, &s, NULL) != SQLITE_OK)
        return dberr(q, err, "listing suppressed messages");
    sqlite3_bind_int64(s, 1, limit ? (sqlite3_int64)limit : -1);
    int rc;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        rp_qinbound m = {
            .id = sqlite3_column_int64(s, 0),
            .msg_id = col_text(s, 1),
            .marketplace = col_text(s, 2),
            .language = col_text(s, 3),
            .intent = col_text(s, 4),
            .suppressed = col_text(s, 5),
            .suppressed_detail = col_text(s, 6),
            .received_at = col_time(s, 7),
            .deadline = col_time(s, 8),
            .first_response_at = col_time(s, 9),
            .response_needed = sqlite3_column_int(s, 10) != 0,
        };
        if (fn(ud, &m))
            break;
    }
    rp_status st = rc == SQLITE_ROW || rc == SQLITE_DONE ? RP_OK
                                                         : dberr(q, err, "listing suppressed");
    sqlite3_finalize(s);
    return st;
}

/* ---- transitions ----------------------------------------------------------------- */

static rp_status get_state(rp_queue *q, int64_t id, rp_reply_state *state, int64_t *inbound,
                           rp_error *err)
{
    sqlite3_stmt *s = stmt(q, S_STATE);
    sqlite3_bind_int64(s, 1, id);
    int rc = sqlite3_step(s);
    if (rc == SQLITE_ROW) {
        int v = rp_reply_state_from_name(col_text(s, 0));
        *state = v < 0 ? RP_STATE_FAILED : (rp_reply_state)v;
        *inbound = sqlite3_column_int64(s, 1);
        sqlite3_reset(s);
        return RP_OK;
    }
    sqlite3_reset(s);
    if (rc == SQLITE_DONE)
        return rp_error_set(err, RP_EINVAL, "no reply %lld in the queue", (long long)id);
    return dberr(q, err, "reading a reply");
}

static rp_status run_sql(rp_queue *q, rp_error *err, const char *what, const char *sql,
                         const char *types, ...);

#define STATES(...) states_mask((const int[]){__VA_ARGS__, -1})
static unsigned states_mask(const int *v)
{
    unsigned m = 0;
    for (; *v >= 0; v++)
        m |= 1u << *v;
    return m;
}

/* The reply's state and message, or RP_EINVAL when its state is not one of
 * `allowed`: "reply 7 is sent: <why>". */
static rp_status get_state_in(rp_queue *q, int64_t id, unsigned allowed, const char *why,
                              rp_reply_state *state, int64_t *inbound, rp_error *err)
{
    rp_status st = get_state(q, id, state, inbound, err);
    if (st == RP_OK && !(allowed & (1u << *state)))
        st = rp_error_set(err, RP_EINVAL, "reply %lld is %s: %s", (long long)id,
                          rp_reply_state_name(*state), why);
    return st;
}

typedef struct op_args {
    int64_t id, now;
    const char *op, *reason, *subject, *body, *findings;
    bool no_response;
} op_args;

static rp_status do_approve(rp_queue *q, void *ud, rp_error *err)
{
    op_args *a = ud;
    rp_reply_state s;
    int64_t inbound;
    rp_status st = get_state_in(q, a->id, STATES(RP_STATE_PENDING_APPROVAL, RP_STATE_FAILED),
                                "only a reply waiting for approval (or a failed one) can be "
                                "approved",
                                &s, &inbound, err);
    if (st != RP_OK)
        return st;
    /* findings that block: a human must edit first */
    sqlite3_stmt *c;
    if (sqlite3_prepare_v2(q->db,
                           "SELECT compliance, body FROM replies WHERE id = ?1", -1, &c,
                           NULL) != SQLITE_OK)
        return dberr(q, err, "reading a reply");
    sqlite3_bind_int64(c, 1, a->id);
    int blocked = 0, purged = 0;
    if (sqlite3_step(c) == SQLITE_ROW) {
        const char *f = col_text(c, 0);
        blocked = f && strstr(f, "\"blocking\":true") != NULL;
        purged = sqlite3_column_type(c, 1) == SQLITE_NULL;
    }
    sqlite3_finalize(c);
    if (blocked)
        return rp_error_set(err, RP_EINVAL,
                            "reply %lld has compliance findings: edit it first (replyd queue "
                            "edit %lld)",
                            (long long)a->id, (long long)a->id);
    if (purged)
        return rp_error_set(err, RP_EINVAL, "reply %lld has no text (it was purged or never "
                            "rendered): edit it first",
                            (long long)a->id);
    if ((st = run_sql(q, err, "approving",
                      "UPDATE replies SET state = 'approved', approved_by = ?2, approved_at = ?3,"
                      " updated_at = ?3, next_attempt_at = 0, attention = NULL, last_error = NULL"
                      " WHERE id = ?1",
                      "isi", a->id, a->op, a->now)) != RP_OK)
        return st;
    return audit(q, a->now, a->op, "approved", a->id, inbound, rp_reply_state_name(s), "approved",
                 NULL, err);
}

rp_status rp_queue_approve(rp_queue *q, int64_t id, const char *op, int64_t now, rp_error *err)
{
    op_args a = {.id = id, .now = now, .op = op};
    return in_tx(q, do_approve, &a, err);
}

static rp_status do_reject(rp_queue *q, void *ud, rp_error *err)
{
    op_args *a = ud;
    rp_reply_state s;
    int64_t inbound;
    rp_status st = get_state_in(
        q, a->id, STATES(RP_STATE_PENDING_APPROVAL, RP_STATE_APPROVED, RP_STATE_FAILED),
        "it can no longer be rejected", &s, &inbound, err);
    if (st != RP_OK)
        return st;
    if ((st = run_sql(q, err, "rejecting",
                      "UPDATE replies SET state = 'rejected', updated_at = ?2 WHERE id = ?1", "ii",
                      a->id, a->now)) != RP_OK)
        return st;
    if (a->no_response &&
        (st = run_sql(q, err, "marking no response needed",
                      "UPDATE inbound SET response_needed = 0, no_response_reason = ?2"
                      " WHERE id = ?1 AND first_response_at IS NULL",
                      "is", inbound,
                      a->reason ? a->reason : "no response needed")) != RP_OK)
        return st;
    char detail[400];
    snprintf(detail, sizeof detail, "%s%s", a->reason ? a->reason : "",
             a->no_response ? " (no response needed)" : "");
    return audit(q, a->now, a->op, "rejected", a->id, inbound, rp_reply_state_name(s), "rejected",
                 detail, err);
}

rp_status rp_queue_reject(rp_queue *q, int64_t id, const char *op, const char *reason,
                          bool no_response_needed, int64_t now, rp_error *err)
{
    op_args a = {.id = id, .now = now, .op = op, .reason = reason,
                 .no_response = no_response_needed};
    return in_tx(q, do_reject, &a, err);
}

static rp_status do_edit(rp_queue *q, void *ud, rp_error *err)
{
    op_args *a = ud;
    rp_reply_state s;
    int64_t inbound;
    rp_status st = get_state_in(
        q, a->id, STATES(RP_STATE_PENDING_APPROVAL, RP_STATE_APPROVED, RP_STATE_FAILED),
        "it can no longer be edited", &s, &inbound, err);
    if (st != RP_OK)
        return st;
    sqlite3_stmt *c;
    if (sqlite3_prepare_v2(q->db, "SELECT subject, body FROM replies WHERE id = ?1", -1, &c,
                           NULL) != SQLITE_OK)
        return dberr(q, err, "reading a reply");
    sqlite3_bind_int64(c, 1, a->id);
    char detail[600] = "";
    if (sqlite3_step(c) == SQLITE_ROW) {
        const char *os = col_text(c, 0), *ob = col_text(c, 1);
        bool subj_changed = (os == NULL) != (a->subject == NULL) ||
                            (os && a->subject && strcmp(os, a->subject) != 0);
        bool body_changed = (ob == NULL) || strcmp(ob, a->body) != 0;
        char oh[65] = "-", nh[65];
        if (ob)
            sha256_hex(ob, strlen(ob), oh, sizeof oh);
        sha256_hex(a->body, strlen(a->body), nh, sizeof nh);
        snprintf(detail, sizeof detail,
                 "subject %s; body %s (%zu -> %zu characters, sha256 %.12s -> %.12s); "
                 "earlier text kept in versions",
                 subj_changed ? "changed" : "unchanged", body_changed ? "changed" : "unchanged",
                 ob ? rp_utf8_chars(ob, strlen(ob)) : 0, rp_utf8_chars(a->body, strlen(a->body)),
                 oh, nh);
        sqlite3_stmt *v;
        if (sqlite3_prepare_v2(q->db,
                               "INSERT INTO versions(reply_id, at, actor, subject, body)"
                               " VALUES (?1, ?2, ?3, ?4, ?5)",
                               -1, &v, NULL) != SQLITE_OK) {
            sqlite3_finalize(c);
            return dberr(q, err, "keeping the earlier text");
        }
        sqlite3_bind_int64(v, 1, a->id);
        sqlite3_bind_int64(v, 2, a->now);
        bind_text(v, 3, a->op);
        bind_text(v, 4, os);
        bind_text(v, 5, ob);
        int rc = sqlite3_step(v);
        sqlite3_finalize(v);
        if (rc != SQLITE_DONE) {
            sqlite3_finalize(c);
            return dberr(q, err, "keeping the earlier text");
        }
    }
    sqlite3_finalize(c);
    if ((st = run_sql(q, err, "editing",
                      "UPDATE replies SET subject = ?2, body = ?3, compliance = ?4,"
                      " state = 'pending_approval', approved_by = NULL, approved_at = NULL,"
                      " attention = NULL, updated_at = ?5 WHERE id = ?1",
                      "isssi", a->id, a->subject, a->body, a->findings, a->now)) != RP_OK)
        return st;
    return audit(q, a->now, a->op, "edited", a->id, inbound, rp_reply_state_name(s),
                 "pending_approval", detail, err);
}

rp_status rp_queue_edit(rp_queue *q, int64_t id, const char *op, const char *subject,
                        const char *body, const char *findings_json, int64_t now, rp_error *err)
{
    if (!body || !*body)
        return rp_error_set(err, RP_EINVAL, "a reply needs a text");
    op_args a = {.id = id, .now = now, .op = op, .subject = subject, .body = body,
                 .findings = findings_json ? findings_json : "[]"};
    return in_tx(q, do_edit, &a, err);
}

/* Run one statement with arguments typed by `types`: 'i' int64_t, 's' text
 * (NULL binds NULL). *changes gets the number of rows changed when asked.
 * sql must be a string literal: its address keys the statement cache. */
static rp_status run_sqlv(rp_queue *q, rp_error *err, const char *what, const char *sql,
                          int *changes, const char *types, va_list ap)
{
    sqlite3_stmt *s = NULL;
    bool cached = false;
    for (size_t i = 0; i < q->ncache && !s; i++)
        if (q->cache[i].sql == sql) {
            s = q->cache[i].st;
            cached = true;
        }
    if (!s) {
        if (sqlite3_prepare_v3(q->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &s, NULL) != SQLITE_OK)
            return dberr(q, err, what);
        if (q->ncache < sizeof q->cache / sizeof q->cache[0]) {
            q->cache[q->ncache].sql = sql;
            q->cache[q->ncache++].st = s;
            cached = true;
        }
    }
    for (int i = 0; types[i]; i++) {
        if (types[i] == 'i')
            sqlite3_bind_int64(s, i + 1, va_arg(ap, int64_t));
        else
            bind_text(s, i + 1, va_arg(ap, const char *));
    }
    int rc = sqlite3_step(s);
    if (cached) {
        sqlite3_reset(s);
        sqlite3_clear_bindings(s);
    } else
        sqlite3_finalize(s);
    if (rc != SQLITE_DONE && rc != SQLITE_ROW)
        return dberr(q, err, what);
    if (changes)
        *changes = sqlite3_changes(q->db);
    return RP_OK;
}

static rp_status run_sql(rp_queue *q, rp_error *err, const char *what, const char *sql,
                         const char *types, ...)
{
    va_list ap;
    va_start(ap, types);
    rp_status st = run_sqlv(q, err, what, sql, NULL, types, ap);
    va_end(ap);
    return st;
}

static rp_status run_sql_n(rp_queue *q, rp_error *err, const char *what, int *changes,
                           const char *sql, const char *types, ...)
{
    va_list ap;
    va_start(ap, types);
    rp_status st = run_sqlv(q, err, what, sql, changes, types, ap);
    va_end(ap);
    return st;
}

/* ---- sending ------------------------------------------------------------------- */

rp_status rp_queue_owner_new(rp_queue *q, rp_queue_owner **out, rp_error *err)
{
    *out = NULL;
    rp_queue_owner *o = calloc(1, sizeof *o);
    if (!o)
        return rp_error_set(err, RP_ENOMEM, "out of memory");
    o->fd = -1;
    char host[64] = "host";
    if (gethostname(host, sizeof host - 1) != 0)
        snprintf(host, sizeof host, "host");
    host[sizeof host - 1] = 0;
    for (char *p = host; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
              *p == '-' || *p == '.'))
            *p = '_';
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    snprintf(o->token, sizeof o->token, "%.40s-%ld-%lld%06ld", host, (long)getpid(),
             (long long)ts.tv_sec, ts.tv_nsec / 1000);
    size_t len = strlen(q->path) + strlen(o->token) + 32;
    o->lock_path = malloc(len);
    if (!o->lock_path) {
        free(o);
        return rp_error_set(err, RP_ENOMEM, "out of memory");
    }
    snprintf(o->lock_path, len, "%s.senders", q->path);
    if (mkdir(o->lock_path, 0700) != 0 && errno != EEXIST) {
        rp_status st = rp_error_set(err, RP_EIO, "cannot create %s: %s", o->lock_path,
                                    strerror(errno));
        rp_queue_owner_free(o);
        return st;
    }
    snprintf(o->lock_path, len, "%s.senders/%s.lock", q->path, o->token);
    o->fd = open(o->lock_path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (o->fd < 0 || flock(o->fd, LOCK_EX | LOCK_NB) != 0) {
        rp_status st = rp_error_set(err, RP_EIO, "cannot lock %s: %s", o->lock_path,
                                    strerror(errno));
        rp_queue_owner_free(o);
        return st;
    }
    *out = o;
    return RP_OK;
}

void rp_queue_owner_free(rp_queue_owner *o)
{
    if (!o)
        return;
    if (o->fd >= 0) {
        if (unlink(o->lock_path) != 0) {
            /* nothing to do: a stale lock file is detected as stale */
        }
        close(o->fd);
    }
    free(o->lock_path);
    free(o);
}

const char *rp_queue_owner_token(const rp_queue_owner *o)
{
    return o->token;
}

/* Is the process that holds this owner token still alive? It holds an
 * exclusive lock on its lease file for as long as it runs. */
static bool owner_alive(const rp_queue *q, const char *token)
{
    if (!token || strchr(token, '/'))
        return false;
    size_t len = strlen(q->path) + strlen(token) + 32;
    char *p = malloc(len);
    if (!p)
        return true; /* cannot tell: assume alive, touch nothing */
    snprintf(p, len, "%s.senders/%s.lock", q->path, token);
    int fd = open(p, O_RDWR | O_CLOEXEC);
    bool alive = false;
    if (fd >= 0) {
        if (flock(fd, LOCK_EX | LOCK_NB) != 0)
            alive = errno == EWOULDBLOCK;
        else if (unlink(p) != 0) {
            /* someone else removed it */
        }
        close(fd);
    }
    free(p);
    return alive;
}

typedef struct recover_args {
    rp_sink_idempotent_fn idem;
    void *ud;
    int64_t now;
    unsigned requeued, flagged;
} recover_args;

static rp_status do_recover(rp_queue *q, void *ud, rp_error *err)
{
    recover_args *a = ud;
    sqlite3_stmt *s;
    if (sqlite3_prepare_v2(q->db,
                           "SELECT id, inbound_id, claimed_by, sink FROM replies"
                           " WHERE state = 'sending' ORDER BY id",
                           -1, &s, NULL) != SQLITE_OK)
        return dberr(q, err, "finding interrupted sends");
    rp_status st = RP_OK;
    int rc;
    while (st == RP_OK && (rc = sqlite3_step(s)) == SQLITE_ROW) {
        int64_t id = sqlite3_column_int64(s, 0), inbound = sqlite3_column_int64(s, 1);
        const char *owner = col_text(s, 2), *sink = col_text(s, 3);
        if (owner_alive(q, owner))
            continue;
        bool idem = sink && a->idem && a->idem(a->ud, sink);
        if (idem) {
            st = run_sql(q, err, "re-queueing an interrupted send",
                         "UPDATE replies SET state = 'approved', claimed_by = NULL,"
                         " updated_at = ?2, next_attempt_at = ?2 WHERE id = ?1",
                         "ii", id, a->now);
            if (st == RP_OK)
                st = audit(q, a->now, "replyd", "recovered", id, inbound, "sending", "approved",
                           "interrupted send retried with the same idempotency key", err);
            a->requeued++;
        } else {
            st = run_sql(q, err, "flagging an interrupted send",
                         "UPDATE replies SET state = 'failed', claimed_by = NULL, updated_at = ?2,"
                         " attention = 'interrupted', last_error = 'interrupted while sending: "
                         "it may or may not have been delivered; check the buyer''s thread, then "
                         "approve it again or reject it' WHERE id = ?1",
                         "ii", id, a->now);
            if (st == RP_OK)
                st = audit(q, a->now, "replyd", "interrupted", id, inbound, "sending", "failed",
                           "the sending process stopped during delivery; flagged for a human",
                           err);
            a->flagged++;
        }
    }
    if (st == RP_OK && rc != SQLITE_DONE && rc != SQLITE_ROW)
        st = dberr(q, err, "finding interrupted sends");
    sqlite3_finalize(s);
    return st;
}

rp_status rp_queue_recover(rp_queue *q, rp_sink_idempotent_fn is_idempotent, void *ud,
                           int64_t now, unsigned *requeued, unsigned *flagged, rp_error *err)
{
    recover_args a = {.idem = is_idempotent, .ud = ud, .now = now};
    rp_status st = in_tx(q, do_recover, &a, err);
    if (requeued)
        *requeued = st == RP_OK ? a.requeued : 0;
    if (flagged)
        *flagged = st == RP_OK ? a.flagged : 0;
    return st;
}

rp_status rp_queue_claim(rp_queue *q, const rp_queue_owner *o, const char *sink, int64_t now,
                         rp_qreply *out, bool *got, rp_error *err)
{
    *got = false;
    if (q->in_tx)
        return rp_error_set(err, RP_EUSAGE, "queue: claim inside a transaction");
    for (;;) {
        /* candidates first, without a write lock */
        int64_t ids[16];
        int n = 0;
        sqlite3_stmt *s = stmt(q, S_DUE);
        sqlite3_bind_int64(s, 1, now);
        int rc;
        while (n < 16 && (rc = sqlite3_step(s)) == SQLITE_ROW)
            ids[n++] = sqlite3_column_int64(s, 0);
        if (n < 16 && rc != SQLITE_DONE) {
            sqlite3_reset(s);
            return dberr(q, err, "finding replies to send");
        }
        sqlite3_reset(s);
        if (n == 0)
            return RP_OK;
        for (int i = 0; i < n; i++) {
            rp_status st = exec(q, "BEGIN IMMEDIATE", err);
            if (st != RP_OK)
                return st;
            q->in_tx = 1;
            s = stmt(q, S_CLAIM);
            sqlite3_bind_int64(s, 1, ids[i]);
            bind_text(s, 2, o->token);
            sqlite3_bind_int64(s, 3, now);
            bind_text(s, 4, sink);
            rc = sqlite3_step(s);
            sqlite3_reset(s);
            if (rc != SQLITE_DONE) {
                st = dberr(q, err, "claiming a reply");
                rp_queue_rollback(q);
                return st;
            }
            if (sqlite3_changes(q->db) == 0) {
                /* another sender took it */
                rp_queue_rollback(q);
                continue;
            }
            if ((st = audit(q, now, o->token, "sending", ids[i], 0, "approved", "sending", sink,
                            err)) != RP_OK ||
                (st = rp_queue_commit(q, err)) != RP_OK) {
                rp_queue_rollback(q);
                return st;
            }
            if ((st = rp_queue_get(q, ids[i], out, err)) != RP_OK)
                return st;
            *got = true;
            return RP_OK;
        }
    }
}

rp_status rp_queue_next_due(rp_queue *q, int64_t *at, rp_error *err)
{
    *at = RP_TIME_UNKNOWN;
    sqlite3_stmt *s;
    if (sqlite3_prepare_v2(q->db,
                           "SELECT min(next_attempt_at) FROM replies WHERE state = 'approved'", -1,
                           &s, NULL) != SQLITE_OK)
        return dberr(q, err, "finding the next retry");
    int rc = sqlite3_step(s);
    if (rc == SQLITE_ROW)
        *at = col_time(s, 0);
    sqlite3_finalize(s);
    return rc == SQLITE_ROW ? RP_OK : dberr(q, err, "finding the next retry");
}

typedef struct finish_args {
    int64_t id, now, retry_at;
    rp_finish how;
    const char *detail;
} finish_args;

static rp_status do_finish(rp_queue *q, void *ud, rp_error *err)
{
    finish_args *a = ud;
    rp_reply_state s;
    int64_t inbound;
    rp_status st = get_state_in(q, a->id, STATES(RP_STATE_SENDING),
                                "only a reply being sent can be finished", &s, &inbound, err);
    if (st != RP_OK)
        return st;
    const char *to = "sent";
    switch (a->how) {
    case RP_FINISH_SENT:
        st = run_sql(q, err, "marking a reply sent",
                     "UPDATE replies SET state = 'sent', sent_at = ?2, updated_at = ?2,"
                     " last_error = NULL, claimed_by = NULL, remote_detail = ?3 WHERE id = ?1",
                     "iis", a->id, a->now, a->detail);
        if (st == RP_OK)
            st = run_sql(q, err, "recording the first response",
                         "UPDATE inbound SET first_response_at = ?2, first_response_reply = ?3"
                         " WHERE id = ?1 AND first_response_at IS NULL AND EXISTS (SELECT 1 FROM"
                         " replies WHERE id = ?3 AND counts_as_response = 1)",
                         "iii", inbound, a->now, a->id);
        break;
    case RP_FINISH_RETRY:
        to = "approved";
        st = run_sql(q, err, "scheduling a retry",
                     "UPDATE replies SET state = 'approved', next_attempt_at = ?3, updated_at = ?2,"
                     " last_error = ?4, claimed_by = NULL WHERE id = ?1",
                     "iiis", a->id, a->now, a->retry_at, a->detail);
        break;
    case RP_FINISH_FAILED:
    case RP_FINISH_ATTENTION:
        to = "failed";
        st = run_sql(q, err, "marking a reply failed",
                     "UPDATE replies SET state = 'failed', updated_at = ?2, last_error = ?3,"
                     " attention = ?4, claimed_by = NULL WHERE id = ?1",
                     "iiss", a->id, a->now, a->detail,
                     a->how == RP_FINISH_ATTENTION ? "delivery_unknown" : "failed");
        break;
    }
    if (st != RP_OK)
        return st;
    static const char *const actions[] = {"sent", "retry", "failed", "delivery_unknown"};
    return audit(q, a->now, "replyd", actions[a->how], a->id, inbound, "sending", to, a->detail,
                 err);
}

rp_status rp_queue_finish(rp_queue *q, int64_t id, rp_finish how, const char *detail,
                          int64_t now, int64_t retry_at, rp_error *err)
{
    finish_args a = {.id = id, .now = now, .retry_at = retry_at, .how = how, .detail = detail};
    return in_tx(q, do_finish, &a, err);
}

typedef struct sweep_args {
    int64_t now, limit;
    unsigned n;
} sweep_args;

static rp_status do_expire(rp_queue *q, void *ud, rp_error *err)
{
    sweep_args *a = ud;
    int changes = 0;
    rp_status st = run_sql(q, err, "auditing expiry",
                           "INSERT INTO audit(at, actor, action, reply_id, inbound_id, from_state,"
                           " to_state, detail) SELECT ?1, 'replyd', 'expired', r.id, r.inbound_id,"
                           " r.state, 'expired', 'acknowledgement not sent in time' FROM replies r"
                           " JOIN inbound i ON i.id = r.inbound_id WHERE r.state IN"
                           " ('pending_approval','approved') AND r.counts_as_response = 0"
                           " AND i.received_at < ?2",
                           "ii", a->now, a->limit);
    if (st == RP_OK)
        st = run_sql_n(q, err, "expiring acknowledgements", &changes,
                       "UPDATE replies SET state = 'expired', updated_at = ?1 WHERE state IN"
                       " ('pending_approval','approved') AND counts_as_response = 0 AND"
                       " inbound_id IN (SELECT id FROM inbound WHERE received_at < ?2)",
                       "ii", a->now, a->limit);
    a->n = (unsigned)changes;
    return st;
}

rp_status rp_queue_expire(rp_queue *q, int64_t now, int64_t max_age, unsigned *n, rp_error *err)
{
    sweep_args a = {.now = now, .limit = now - max_age};
    rp_status st = in_tx(q, do_expire, &a, err);
    if (n)
        *n = st == RP_OK ? a.n : 0;
    return st;
}

static rp_status do_purge(rp_queue *q, void *ud, rp_error *err)
{
    sweep_args *a = ud;
    int changes = 0;
    rp_status st = run_sql_n(q, err, "purging messages", &changes,
                             "UPDATE inbound SET buyer = NULL, subject = NULL, body = NULL,"
                             " in_references = NULL, purged_at = ?1"
                             " WHERE received_at < ?2 AND purged_at IS NULL",
                             "ii", a->now, a->limit);
    a->n = (unsigned)changes;
    if (st == RP_OK)
        st = run_sql(q, err, "purging replies",
                     "UPDATE replies SET subject = NULL, body = NULL WHERE inbound_id IN"
                     " (SELECT id FROM inbound WHERE purged_at = ?1) AND body IS NOT NULL",
                     "i", a->now);
    if (st == RP_OK)
        st = run_sql(q, err, "purging earlier texts",
                     "DELETE FROM versions WHERE reply_id IN (SELECT r.id FROM replies r JOIN"
                     " inbound i ON i.id = r.inbound_id WHERE i.purged_at IS NOT NULL)",
                     "");
    if (st == RP_OK && a->n) {
        char detail[120];
        snprintf(detail, sizeof detail, "texts of %u messages received before %lld purged", a->n,
                 (long long)a->limit);
        st = audit(q, a->now, "replyd", "purged", 0, 0, NULL, NULL, detail, err);
    }
    return st;
}

rp_status rp_queue_purge(rp_queue *q, int64_t before, int64_t now, unsigned *n, rp_error *err)
{
    sweep_args a = {.now = now, .limit = before};
    rp_status st = in_tx(q, do_purge, &a, err);
    if (n)
        *n = st == RP_OK ? a.n : 0;
    return st;
}
