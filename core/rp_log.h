/* rp_log.h — structured event logs for the daemon (replyd run).
 *
 * One event per line on a stream (standard error), as logfmt
 *   ts=2026-11-22T03:00:01Z level=info event=stored source=amazon-de inbound=42
 * or as a JSON object with the same keys. Every text value goes through
 * rp_redact() first, so an address or phone number that slips into a detail
 * is masked; callers still never pass buyer names, addresses or texts.
 *
 * An rp_log may be used from several threads: each line is formatted and
 * written whole under a lock. rp_log_set() changes format and level (on a
 * reload). Memory: the rp_log owns nothing but itself; the stream is the
 * caller's. Errors writing the stream are counted, not reported per line.
 */
#ifndef RP_LOG_H
#define RP_LOG_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "plugin.h" /* RP_LOG_ERROR .. RP_LOG_DEBUG */
#include "rp_buf.h"
#include "rp_config.h"

typedef struct rp_log rp_log;

/* NULL when out of memory. level: RP_LOG_ERROR..RP_LOG_DEBUG. */
rp_log *rp_log_new(FILE *out, rp_log_format format, int level);
void rp_log_free(rp_log *l);
void rp_log_set(rp_log *l, rp_log_format format, int level);
bool rp_log_enabled(rp_log *l, int level);
/* Lines that could not be written so far. */
unsigned long rp_log_write_errors(rp_log *l);

/* Log an event with key/value pairs, ended by NULL. A key is followed by a
 * const char * value (NULL values are left out), except a key starting with
 * '#', which is followed by an int64_t and written without the '#':
 *   rp_log_event(l, RP_LOG_INFO, "stored", "source", name, "#inbound", (int64_t)id, NULL);
 * A key starting with '!' takes a text replyd composed itself from its own
 * figures (dates, ids, counts — never a remote answer or message data): it is
 * not redacted, so that dates do not read as phone numbers.
 * Keys are plain words; values are quoted as needed. */
void rp_log_event(rp_log *l, int level, const char *event, ...);

/* Log an event whose fields replyd composed as key/value pairs (an SLA
 * alert's figures: ids, marketplaces, intents, times); NULL values are left
 * out. Values of the keys listed in free_text_keys (NULL-terminated; e.g.
 * "error", a remote server's answer) are redacted, the rest written as they
 * are. */
/* Append one logfmt value: bare when it is a plain word, else quoted with
 * \" \\ \n escapes and other control bytes as \xNN. */
rp_status rp_logfmt_value(rp_buf *b, const char *v, size_t n);

void rp_log_fields(rp_log *l, int level, const char *event, const char *const *keys,
                   const char *const *vals, size_t n, const char *const *free_text_keys);

#endif
