/* rp_export.c — the audit report of messages and responses, CSV or JSON Lines. */
#include "rp_export.h"

#include <sqlite3.h>
#include <stdbool.h>
#include <string.h>

#include "rp_buf.h"
#include "rp_message.h"

/* The columns, in order: CSV header names and JSON keys. */
enum {
    C_INBOUND_ID,
    C_MESSAGE_ID,
    C_MARKETPLACE,
    C_LANGUAGE,
    C_INTENT,
    C_HIGH_RISK,
    C_RECEIVED_AT,
    C_DEADLINE,
    C_RESPONSE_NEEDED,
    C_NO_RESPONSE_REASON,
    C_SUPPRESSED,
    C_FIRST_RESPONSE_AT,
    C_RESPONSE_SECONDS,
    C_IN_TIME,
    C_REPLIES,
    C_REPLIES_SENT,
    C_TEMPLATES,
    C_COUNT
};

static const char *const col_names[C_COUNT] = {
    "inbound_id",      "message_id",         "marketplace",     "language",
    "intent",          "high_risk",          "received_at",     "deadline",
    "response_needed", "no_response_reason", "suppressed",      "first_response_at",
    "response_seconds", "in_time",           "replies",         "replies_sent",
    "templates"};

int rp_export_format_from_name(const char *name)
{
    if (!name)
        return -1;
    if (strcmp(name, "csv") == 0)
        return RP_EXPORT_CSV;
    if (strcmp(name, "json") == 0 || strcmp(name, "jsonl") == 0)
        return RP_EXPORT_JSONL;
    return -1;
}

/* One field's value: kind says how JSON writes it. */
typedef enum { V_NULL, V_TEXT, V_NUM, V_BOOL, V_LIST } vkind;
typedef struct field {
    vkind kind;
    const char *text; /* V_TEXT; V_NUM and V_BOOL as their text; V_LIST ';'-separated */
} field;

static rp_status csv_field(rp_buf *b, const char *s)
{
    if (!s)
        return RP_OK;
    if (!strpbrk(s, ",\"\r\n"))
        return rp_buf_append_str(b, s);
    rp_status st = rp_buf_append_char(b, '"');
    for (const char *p = s; *p && st == RP_OK; p++) {
        if (*p == '"')
            st = rp_buf_append_char(b, '"');
        if (st == RP_OK)
            st = rp_buf_append_char(b, *p);
    }
    if (st == RP_OK)
        st = rp_buf_append_char(b, '"');
    return st;
}

static rp_status csv_row(rp_buf *b, const field *f)
{
    rp_status st = RP_OK;
    for (int i = 0; i < C_COUNT && st == RP_OK; i++) {
        if (i)
            st = rp_buf_append_char(b, ',');
        if (st == RP_OK && f[i].kind != V_NULL)
            st = csv_field(b, f[i].text);
    }
    if (st == RP_OK)
        st = rp_buf_append_str(b, "\r\n");
    return st;
}

static rp_status json_row(rp_buf *b, const field *f)
{
    rp_status st = rp_buf_append_char(b, '{');
    for (int i = 0; i < C_COUNT && st == RP_OK; i++) {
        st = rp_buf_printf(b, "%s\"%s\":", i ? "," : "", col_names[i]);
        if (st != RP_OK)
            break;
        switch (f[i].kind) {
        case V_NULL:
            st = rp_buf_append_str(b, "null");
            break;
        case V_TEXT:
            st = rp_buf_append_json_string(b, f[i].text, strlen(f[i].text));
            break;
        case V_NUM:
        case V_BOOL:
            st = rp_buf_append_str(b, f[i].text);
            break;
        case V_LIST: {
            st = rp_buf_append_char(b, '[');
            const char *p = f[i].text;
            for (bool first = true; st == RP_OK && *p; first = false) {
                const char *e = strchr(p, ';');
                size_t len = e ? (size_t)(e - p) : strlen(p);
                if (!first)
                    st = rp_buf_append_char(b, ',');
                if (st == RP_OK)
                    st = rp_buf_append_json_string(b, p, len);
                p += len + (e ? 1 : 0);
            }
            if (st == RP_OK)
                st = rp_buf_append_char(b, ']');
            break;
        }
        }
    }
    if (st == RP_OK)
        st = rp_buf_append_str(b, "}\n");
    return st;
}

static const char *const sql_rows =
    "SELECT id, msg_id, marketplace, language, intent, high_risk, received_at, deadline,"
    " response_needed, no_response_reason, suppressed, first_response_at"
    " FROM inbound WHERE received_at >= ?1 AND received_at < ?2 ORDER BY received_at, id";

static const char *const sql_replies =
    "SELECT template, state FROM replies WHERE inbound_id = ?1 ORDER BY seq, id";

typedef struct exp_ctx {
    sqlite3 *db;
    sqlite3_stmt *rows, *replies;
    rp_buf line, templates;
    FILE *out;
    rp_export_format format;
    uint64_t n;
} exp_ctx;

static rp_status dberr(sqlite3 *db, rp_error *err, const char *what)
{
    return rp_error_set(err, RP_EIO, "queue: %s: %s", what, sqlite3_errmsg(db));
}

static const char *text_or_null(sqlite3_stmt *s, int i, field *f)
{
    const char *t = (const char *)sqlite3_column_text(s, i);
    f->kind = t ? V_TEXT : V_NULL;
    f->text = t;
    return t;
}

static rp_status one_row(exp_ctx *x, rp_error *err)
{
    sqlite3_stmt *s = x->rows;
    field f[C_COUNT];
    char id[24], recv[32], dl[32], fr[32], secs[24], nrep[24], nsent[24];
    memset(f, 0, sizeof f);
    int64_t inbound = sqlite3_column_int64(s, 0);
    snprintf(id, sizeof id, "%lld", (long long)inbound);
    f[C_INBOUND_ID] = (field){V_NUM, id};
    text_or_null(s, 1, &f[C_MESSAGE_ID]);
    text_or_null(s, 2, &f[C_MARKETPLACE]);
    text_or_null(s, 3, &f[C_LANGUAGE]);
    text_or_null(s, 4, &f[C_INTENT]);
    f[C_HIGH_RISK] = (field){V_BOOL, sqlite3_column_int(s, 5) ? "true" : "false"};
    int64_t received = sqlite3_column_int64(s, 6), deadline = sqlite3_column_int64(s, 7);
    rp_format_iso8601(received, recv, sizeof recv);
    rp_format_iso8601(deadline, dl, sizeof dl);
    f[C_RECEIVED_AT] = (field){V_TEXT, recv};
    f[C_DEADLINE] = (field){V_TEXT, dl};
    f[C_RESPONSE_NEEDED] = (field){V_BOOL, sqlite3_column_int(s, 8) ? "true" : "false"};
    text_or_null(s, 9, &f[C_NO_RESPONSE_REASON]);
    text_or_null(s, 10, &f[C_SUPPRESSED]);
    if (sqlite3_column_type(s, 11) != SQLITE_NULL) {
        int64_t first = sqlite3_column_int64(s, 11);
        rp_format_iso8601(first, fr, sizeof fr);
        snprintf(secs, sizeof secs, "%lld", (long long)(first > received ? first - received : 0));
        f[C_FIRST_RESPONSE_AT] = (field){V_TEXT, fr};
        f[C_RESPONSE_SECONDS] = (field){V_NUM, secs};
        f[C_IN_TIME] = (field){V_BOOL, first <= deadline ? "true" : "false"};
    }

    /* the replies: how many, how many sent, which templates */
    sqlite3_stmt *r = x->replies;
    sqlite3_reset(r);
    sqlite3_bind_int64(r, 1, inbound);
    rp_buf_reset(&x->templates);
    unsigned long long total = 0, sent = 0;
    rp_status st = RP_OK;
    int rc;
    while ((rc = sqlite3_step(r)) == SQLITE_ROW) {
        const char *tpl = (const char *)sqlite3_column_text(r, 0);
        const char *state = (const char *)sqlite3_column_text(r, 1);
        if (total++ && (st = rp_buf_append_char(&x->templates, ';')) != RP_OK)
            break;
        if ((st = rp_buf_append_str(&x->templates, tpl ? tpl : "")) != RP_OK)
            break;
        sent += state && strcmp(state, "sent") == 0;
    }
    if (st == RP_OK && rc != SQLITE_DONE)
        st = dberr(x->db, err, "reading replies");
    else if (st != RP_OK)
        st = rp_error_set(err, st, "out of memory");
    sqlite3_reset(r);
    if (st != RP_OK)
        return st;
    snprintf(nrep, sizeof nrep, "%llu", total);
    snprintf(nsent, sizeof nsent, "%llu", sent);
    f[C_REPLIES] = (field){V_NUM, nrep};
    f[C_REPLIES_SENT] = (field){V_NUM, nsent};
    f[C_TEMPLATES] = (field){V_LIST, x->templates.data ? x->templates.data : ""};

    rp_buf_reset(&x->line);
    st = x->format == RP_EXPORT_CSV ? csv_row(&x->line, f) : json_row(&x->line, f);
    if (st != RP_OK)
        return rp_error_set(err, st, "out of memory");
    if (fwrite(x->line.data, 1, x->line.len, x->out) != x->line.len)
        return rp_error_set(err, RP_EIO, "writing the export failed");
    x->n++;
    return RP_OK;
}

static rp_status run(exp_ctx *x, const rp_export_opts *o, rp_error *err)
{
    if (sqlite3_prepare_v2(x->db, sql_rows, -1, &x->rows, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(x->db, sql_replies, -1, &x->replies, NULL) != SQLITE_OK)
        return dberr(x->db, err, "preparing the export");
    if (o->format == RP_EXPORT_CSV) {
        rp_status st = RP_OK;
        for (int i = 0; i < C_COUNT && st == RP_OK; i++)
            st = rp_buf_printf(&x->line, "%s%s", i ? "," : "", col_names[i]);
        if (st == RP_OK)
            st = rp_buf_append_str(&x->line, "\r\n");
        if (st != RP_OK)
            return rp_error_set(err, st, "out of memory");
        if (fwrite(x->line.data, 1, x->line.len, x->out) != x->line.len)
            return rp_error_set(err, RP_EIO, "writing the export failed");
    }
    sqlite3_bind_int64(x->rows, 1, o->since);
    sqlite3_bind_int64(x->rows, 2, o->until);
    int rc;
    while ((rc = sqlite3_step(x->rows)) == SQLITE_ROW) {
        rp_status st = one_row(x, err);
        if (st != RP_OK)
            return st;
    }
    if (rc != SQLITE_DONE)
        return dberr(x->db, err, "reading messages");
    if (fflush(x->out) != 0 || ferror(x->out))
        return rp_error_set(err, RP_EIO, "writing the export failed");
    return RP_OK;
}

rp_status rp_export_write(sqlite3 *db, const rp_export_opts *o, FILE *out, uint64_t *rows,
                          rp_error *err)
{
    if (rows)
        *rows = 0;
    if (o->format != RP_EXPORT_CSV && o->format != RP_EXPORT_JSONL)
        return rp_error_set(err, RP_EUSAGE, "unknown export format");
    if (o->since > o->until)
        return rp_error_set(err, RP_EUSAGE, "the export range ends before it starts");
    exp_ctx x = {.db = db, .out = out, .format = o->format};
    bool own_tx = sqlite3_get_autocommit(db) != 0;
    if (own_tx && sqlite3_exec(db, "BEGIN", NULL, NULL, NULL) != SQLITE_OK)
        return dberr(db, err, "starting a read transaction");
    rp_status st = run(&x, o, err);
    sqlite3_finalize(x.rows);
    sqlite3_finalize(x.replies);
    if (own_tx && sqlite3_exec(db, st == RP_OK ? "COMMIT" : "ROLLBACK", NULL, NULL, NULL) !=
                      SQLITE_OK &&
        st == RP_OK)
        st = dberr(db, err, "ending a read transaction");
    rp_buf_free(&x.line);
    rp_buf_free(&x.templates);
    if (rows)
        *rows = x.n;
    return st;
}
