/* rp_jsonl.h — JSON Lines message reader (schema: docs/input-formats.md).
 *
 * One JSON object per line: {"id","marketplace","from","to","subject","body",
 * "received_at","order_id","headers"}; only "body" is required and unknown
 * fields are ignored. The reader streams: it holds one line at a time, and a
 * line longer than limits.max_message_bytes is skipped without being held.
 *
 * rp_jsonl_next() returns RP_OK with a new message (caller frees), RP_EOF at
 * the end, or an error status with err filled in; on a per-message error it
 * still returns a message carrying id/source (body NULL) so the caller can
 * name it, and the next call reads the next line. RP_EIO means the stream
 * itself failed and reading should stop.
 */
#ifndef RP_JSONL_H
#define RP_JSONL_H

#include <stdio.h>

#include "rp_error.h"
#include "rp_message.h"
#include "rp_reader.h"

typedef struct rp_jsonl_reader rp_jsonl_reader;

/* f is borrowed and must outlive the reader; name appears in sources/errors. */
rp_jsonl_reader *rp_jsonl_open(FILE *f, const char *name, const rp_limits *lim);
rp_status rp_jsonl_next(rp_jsonl_reader *r, rp_message **out, rp_error *err);
void rp_jsonl_close(rp_jsonl_reader *r);

/* Parse one line. On error *out may hold a message with id/source only. */
rp_status rp_jsonl_parse(const char *line, size_t len, const char *source, rp_message **out,
                         rp_error *err);

#endif
