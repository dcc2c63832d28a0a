/* rp_message.h — the message model every stage of the pipeline works on.
 *
 * An rp_message owns all of its strings (NUL-terminated UTF-8, any may be NULL
 * except body once a reader has succeeded). rp_message_free() releases them and
 * the message itself. Readers (rp_jsonl, rp_mail) create messages; the caller
 * owns what they return.
 */
#ifndef RP_MESSAGE_H
#define RP_MESSAGE_H

#include <stddef.h>
#include <stdint.h>

#include "rp_error.h"

#define RP_TIME_UNKNOWN INT64_MIN

typedef struct rp_header {
    char *name;  /* as written, e.g. "Auto-Submitted" */
    char *value; /* unfolded, trimmed, as written: RFC 2047 words are not
                  * decoded (the subject is, in rp_message.subject); 8-bit
                  * text is read as UTF-8, else Windows-1252 */
} rp_header;

typedef struct rp_message {
    char *id;          /* from the input, else Message-ID, else "<source>" */
    char *source;      /* where it came from: "file.jsonl:12" or a path */
    char *marketplace; /* "amazon.de"; from input or the relay address */
    char *from;        /* sender address (a relay alias for marketplaces) */
    char *to;
    char *subject;     /* decoded, may be NULL */
    char *body;        /* the buyer's own words, UTF-8 plain text */
    char *order_id;    /* NNN-NNNNNNN-NNNNNNN, or NULL */
    int64_t received_at; /* Unix seconds UTC, or RP_TIME_UNKNOWN */
    rp_header *headers;
    size_t nheaders;
    char *raw;         /* the message exactly as read */
    size_t raw_len;
} rp_message;

rp_message *rp_message_new(void); /* NULL on ENOMEM */
void rp_message_free(rp_message *m); /* NULL is fine */

/* Add a header (copies both strings). */
rp_status rp_message_add_header(rp_message *m, const char *name, const char *value);

/* First header with this name (case-insensitive), borrowed; NULL if absent. */
const char *rp_message_header(const rp_message *m, const char *name);

/* Replace *field by a copy of value (NULL clears it). */
rp_status rp_message_set(char **field, const char *value);

/* Parse an ISO 8601 / RFC 3339 UTC or offset time ("2026-11-20T23:14:00Z",
 * "2026-11-20T23:14:00+01:00", "2026-11-20 23:14:00") into Unix seconds. */
rp_status rp_parse_iso8601(const char *s, int64_t *out);

/* Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's
 * algorithms), and back; month 1..12. */
int64_t rp_days_from_civil(int64_t y, int m, int d);
void rp_civil_from_days(int64_t days, int *y, int *m, int *d);

/* Format Unix seconds as "YYYY-MM-DDTHH:MM:SSZ" into buf (>= 21 bytes). */
void rp_format_iso8601(int64_t t, char *buf, size_t size);

#endif
