/* rp_deliver.h — sending the replies that are due through a sink.
 *
 * Shared by replyd send and replyd run. A deliverer claims one due reply at a
 * time (rp_queue_claim: marked sending, under this process's lease, committed
 * before any network I/O), hands it to the sink, and records the outcome:
 * sent, retry later (exponential backoff with jitter, at least what the
 * receiver asked with "retry-after=N"), failed, or attention (the outcome is
 * unknown and the sink does not de-duplicate: a human decides). Each outcome
 * is reported through the callback given to rp_deliverer_new.
 *
 * Memory: the deliverer borrows the configuration, queue and sinks (they must
 * outlive it) and owns its queue lease. Errors: RP_ECONFIG (unknown sink),
 * queue errors (RP_EIO...), RP_ENOMEM.
 */
#ifndef RP_DELIVER_H
#define RP_DELIVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "rp_config.h"
#include "rp_plugin.h"
#include "rp_queue.h"

typedef struct rp_deliverer rp_deliverer;

/* what: "sent", "retry", "failed" or "attention"; detail is one line, not yet
 * redacted (the sink's answer). */
typedef void (*rp_deliver_report_fn)(void *ud, const char *what, int64_t reply_id,
                                     const char *detail);

typedef struct rp_deliver_counts {
    size_t sent, retried, failed, attention;
} rp_deliver_counts;

rp_status rp_deliverer_new(const rp_config *cfg, rp_queue *q, rp_sinks *sinks,
                           const char *sink_name, rp_deliver_report_fn report, void *ud,
                           rp_deliverer **out, rp_error *err);
void rp_deliverer_free(rp_deliverer *d);

/* Before sending: replies left 'sending' by a process that died are retried
 * (idempotent sinks) or flagged for a human; acknowledgements older than the
 * SLA are expired unsent. */
rp_status rp_deliver_recover(rp_deliverer *d, int64_t now, unsigned *requeued, unsigned *flagged,
                             unsigned *expired, rp_error *err);

/* Claim the next due reply and deliver it; *got is false when none is due. */
rp_status rp_deliver_next(rp_deliverer *d, int64_t now, bool *got, rp_error *err);

rp_deliver_counts rp_deliver_get_counts(const rp_deliverer *d);

#endif
