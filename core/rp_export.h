/* rp_export.h — the message/response report for audits (reference:
 * docs/sla.md, "Export").
 *
 * rp_export_write() writes one row per buyer message received in a time range:
 * ids, marketplace, language, intent, the SLA times, whether and when it was
 * answered, and the templates its replies used, as CSV (RFC 4180: header
 * row, CRLF line ends, fields quoted when they hold a comma, a quote, CR or
 * LF) or as JSON Lines (one object per line). It never writes a buyer's
 * address, name, subject or message text. Rows are streamed from SQLite to
 * the stream: memory use does not grow with the number of rows.
 *
 * Memory: the connection and the stream are borrowed. Errors: RP_EIO (SQLite
 * failed, or writing the stream failed), RP_ENOMEM, RP_EUSAGE (bad range).
 */
#ifndef RP_EXPORT_H
#define RP_EXPORT_H

#include <stdint.h>
#include <stdio.h>

#include "rp_error.h"

typedef struct sqlite3 sqlite3;

typedef enum rp_export_format { RP_EXPORT_CSV = 0, RP_EXPORT_JSONL } rp_export_format;

/* "csv" / "json" (also "jsonl"); returns -1 for anything else. */
int rp_export_format_from_name(const char *name);

typedef struct rp_export_opts {
    rp_export_format format;
    int64_t since, until; /* messages with since <= received_at < until */
} rp_export_opts;

/* Write the header (CSV) and the rows, oldest message first; *rows (may be
 * NULL) gets the number of messages written. One read transaction (unless
 * the connection has one open). */
rp_status rp_export_write(sqlite3 *db, const rp_export_opts *o, FILE *out, uint64_t *rows,
                          rp_error *err);

#endif
