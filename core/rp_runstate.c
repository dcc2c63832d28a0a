/* rp_runstate.c — the sources and unreadable tables of the queue file. */
#include "rp_runstate.h"

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rp_buf.h"

static rp_status db_error(sqlite3 *db, rp_error *err, const char *what)
{
    return rp_error_set(err, RP_EIO, "queue: %s: %s", what, sqlite3_errmsg(db));
}

rp_status rp_runstate_load(rp_queue *q, const char *source, char **state, rp_error *err)
{
    *state = NULL;
    sqlite3 *db = rp_queue_db(q);
    sqlite3_stmt *s;
    if (sqlite3_prepare_v2(db, "SELECT state FROM sources WHERE name = ?1", -1, &s, NULL) !=
        SQLITE_OK)
        return db_error(db, err, "reading a source's state");
    sqlite3_bind_text(s, 1, source, -1, SQLITE_STATIC);
    int rc = sqlite3_step(s);
    rp_status st = RP_OK;
    if (rc == SQLITE_ROW && sqlite3_column_type(s, 0) != SQLITE_NULL) {
        if (!(*state = rp_strdup((const char *)sqlite3_column_text(s, 0))))
            st = rp_error_set(err, RP_ENOMEM, "out of memory");
    } else if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        st = db_error(db, err, "reading a source's state");
    sqlite3_finalize(s);
    return st;
}

rp_status rp_runstate_save(rp_queue *q, const rp_source_status *x, rp_error *err)
{
    sqlite3 *db = rp_queue_db(q);
    sqlite3_stmt *s;
    static const char sql[] =
        "INSERT INTO sources(name, plugin, state, last_poll, last_ok, last_error, last_error_at,"
        " failures, next_poll, fetched, stored, unreadable)"
        " VALUES (?1, ?2, ?3, NULLIF(?4, 0), NULLIF(?5, 0), ?6, NULLIF(?7, 0), ?8, NULLIF(?9, 0),"
        " ?10, ?11, ?12)"
        " ON CONFLICT(name) DO UPDATE SET plugin = excluded.plugin,"
        " state = coalesce(excluded.state, state),"
        " last_poll = coalesce(excluded.last_poll, last_poll),"
        " last_ok = coalesce(excluded.last_ok, last_ok),"
        " last_error = coalesce(excluded.last_error, last_error),"
        " last_error_at = coalesce(excluded.last_error_at, last_error_at),"
        " failures = excluded.failures,"
        " next_poll = coalesce(excluded.next_poll, next_poll),"
        " fetched = fetched + excluded.fetched, stored = stored + excluded.stored,"
        " unreadable = unreadable + excluded.unreadable";
    if (sqlite3_prepare_v2(db, sql, -1, &s, NULL) != SQLITE_OK)
        return db_error(db, err, "saving a source's status");
    sqlite3_bind_text(s, 1, x->name, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 2, x->plugin ? x->plugin : "", -1, SQLITE_STATIC);
    if (x->state)
        sqlite3_bind_text(s, 3, x->state, -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 4, x->last_poll);
    sqlite3_bind_int64(s, 5, x->last_ok);
    if (x->last_error)
        sqlite3_bind_text(s, 6, x->last_error, -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 7, x->last_error_at);
    sqlite3_bind_int64(s, 8, x->failures);
    sqlite3_bind_int64(s, 9, x->next_poll);
    sqlite3_bind_int64(s, 10, x->fetched);
    sqlite3_bind_int64(s, 11, x->stored);
    sqlite3_bind_int64(s, 12, x->unreadable);
    int rc = sqlite3_step(s);
    sqlite3_finalize(s);
    return rc == SQLITE_DONE ? RP_OK : db_error(db, err, "saving a source's status");
}

rp_status rp_runstate_unreadable(rp_queue *q, const char *source, const char *ref,
                                 const char *error, int64_t at, rp_error *err)
{
    sqlite3 *db = rp_queue_db(q);
    sqlite3_stmt *s;
    if (sqlite3_prepare_v2(db,
                           "INSERT INTO unreadable(source, ref, error, at) VALUES (?1, ?2, ?3, ?4)",
                           -1, &s, NULL) != SQLITE_OK)
        return db_error(db, err, "recording an unreadable message");
    sqlite3_bind_text(s, 1, source, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 2, ref ? ref : "", -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 3, error ? error : "", -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 4, at);
    int rc = sqlite3_step(s);
    sqlite3_finalize(s);
    return rc == SQLITE_DONE ? RP_OK : db_error(db, err, "recording an unreadable message");
}

static const char *col(sqlite3_stmt *s, int i)
{
    return (const char *)sqlite3_column_text(s, i);
}

rp_status rp_runstate_list(rp_queue *q, rp_runstate_fn fn, void *ud, rp_error *err)
{
    sqlite3 *db = rp_queue_db(q);
    sqlite3_stmt *s;
    if (sqlite3_prepare_v2(db,
                           "SELECT name, plugin, state, coalesce(last_poll, 0),"
                           " coalesce(last_ok, 0), last_error, coalesce(last_error_at, 0),"
                           " failures, coalesce(next_poll, 0), fetched, stored, unreadable"
                           " FROM sources ORDER BY name",
                           -1, &s, NULL) != SQLITE_OK)
        return db_error(db, err, "listing the sources");
    int rc;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        rp_source_status x = {
            .name = col(s, 0),
            .plugin = col(s, 1),
            .state = col(s, 2),
            .last_poll = sqlite3_column_int64(s, 3),
            .last_ok = sqlite3_column_int64(s, 4),
            .last_error = col(s, 5),
            .last_error_at = sqlite3_column_int64(s, 6),
            .failures = (unsigned)sqlite3_column_int64(s, 7),
            .next_poll = sqlite3_column_int64(s, 8),
            .fetched = sqlite3_column_int64(s, 9),
            .stored = sqlite3_column_int64(s, 10),
            .unreadable = sqlite3_column_int64(s, 11),
        };
        if (fn(ud, &x)) {
            rc = SQLITE_DONE;
            break;
        }
    }
    sqlite3_finalize(s);
    return rc == SQLITE_DONE ? RP_OK : db_error(db, err, "listing the sources");
}

rp_status rp_runstate_unreadable_count(rp_queue *q, int64_t since, int64_t *count, char *last,
                                       size_t lastsize, rp_error *err)
{
    sqlite3 *db = rp_queue_db(q);
    sqlite3_stmt *s;
    *count = 0;
    if (lastsize)
        last[0] = '\0';
    if (sqlite3_prepare_v2(db,
                           "SELECT (SELECT count(*) FROM unreadable WHERE at >= ?1),"
                           " source, ref, error FROM unreadable WHERE at >= ?1"
                           " ORDER BY id DESC LIMIT 1",
                           -1, &s, NULL) != SQLITE_OK)
        return db_error(db, err, "counting unreadable messages");
    sqlite3_bind_int64(s, 1, since);
    int rc = sqlite3_step(s);
    if (rc == SQLITE_ROW) {
        *count = sqlite3_column_int64(s, 0);
        snprintf(last, lastsize, "%s %s: %s", col(s, 1), col(s, 2), col(s, 3));
    }
    sqlite3_finalize(s);
    return rc == SQLITE_ROW || rc == SQLITE_DONE
               ? RP_OK
               : db_error(db, err, "counting unreadable messages");
}
