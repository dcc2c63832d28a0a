/* rp_intake.h — one buyer message into the queue.
 *
 * The step every front end shares (replyd process, replyd run): recognise a
 * message stored before (rp_queue_message_key), else decide on it with the
 * engine (classification, rules, templates, compliance, loop protection) and
 * store the message and its replies. It runs inside the caller's
 * transaction (rp_queue_begin/commit): the caller chooses the batch.
 *
 * Memory: the decision is written into the caller's rp_decision (its strings
 * are the engine's, valid until its next decision); the message stays the
 * caller's. Errors: those of rp_engine_decide and
 * rp_queue_add (RP_EIO, RP_ENOMEM...): the transaction should be rolled back.
 */
#ifndef RP_INTAKE_H
#define RP_INTAKE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "rp_config.h"
#include "rp_engine.h"
#include "rp_queue.h"

typedef struct rp_intake_result {
    bool duplicate;          /* stored before: nothing was decided or stored */
    int64_t inbound;         /* the message's queue id (0 for a duplicate) */
    size_t replies, automatic, pending; /* replies stored, by kind */
} rp_intake_result;

/* Decide at `now` (Unix seconds) into *d and store. */
rp_status rp_intake_store(rp_engine *eng, const rp_config *cfg, rp_queue *q, rp_message *m,
                          int64_t now, rp_decision *d, rp_intake_result *res, rp_error *err);

#endif
