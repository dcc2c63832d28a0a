/* rp_runstate.h — what replyd run records about its sources, in the queue file.
 *
 * Per source (table sources): the plugin's saved state (an IMAP folder's
 * UIDVALIDITY and last UID, say), the last poll and the last successful one,
 * the last error and how many polls in a row failed, the next poll planned,
 * and counters (messages fetched, stored, unreadable). Messages that could not
 * be read are listed in table unreadable (where they are, never what they say).
 * replyd run writes, replyd status reads.
 *
 * Memory: strings handed to rp_runstate_list's callback are valid during the
 * call; rp_runstate_load returns a string the caller frees. Errors: RP_EIO
 * (SQLite), RP_ENOMEM.
 */
#ifndef RP_RUNSTATE_H
#define RP_RUNSTATE_H

#include <stdint.h>

#include "rp_error.h"
#include "rp_queue.h"

typedef struct rp_source_status {
    const char *name, *plugin;
    const char *state;       /* saved plugin state; NULL = leave as it is */
    int64_t last_poll;       /* 0 = never / leave */
    int64_t last_ok;
    const char *last_error;  /* NULL = leave (cleared when last_ok is newer) */
    int64_t last_error_at;
    unsigned failures;       /* polls failed in a row */
    int64_t next_poll;
    int64_t fetched, stored, unreadable; /* rp_runstate_save: added to the totals */
} rp_source_status;

/* The state the source saved last, or *state = NULL. */
rp_status rp_runstate_load(rp_queue *q, const char *source, char **state, rp_error *err);

/* Create or update the source's row (inside or outside a transaction). */
rp_status rp_runstate_save(rp_queue *q, const rp_source_status *s, rp_error *err);

/* Record a message that could not be read. */
rp_status rp_runstate_unreadable(rp_queue *q, const char *source, const char *ref,
                                 const char *error, int64_t at, rp_error *err);

/* Every source's row, by name. Returning non-zero from fn stops. */
typedef int (*rp_runstate_fn)(void *ud, const rp_source_status *s);
rp_status rp_runstate_list(rp_queue *q, rp_runstate_fn fn, void *ud, rp_error *err);

/* Unreadable messages recorded since `since`, and the newest one's source,
 * ref and error (copied into the buffers; empty when none). */
rp_status rp_runstate_unreadable_count(rp_queue *q, int64_t since, int64_t *count, char *last,
                                       size_t lastsize, rp_error *err);

#endif
