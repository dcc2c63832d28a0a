/* rp_queue.h — the durable reply queue (SQLite, WAL). Reference: docs/queue.md.
 *
 * One file holds every buyer message replyd has decided on (table inbound),
 * every reply with its state (replies), an append-only audit trail (audit:
 * triggers refuse UPDATE and DELETE), the replies' earlier texts (versions,
 * purged with the bodies), the SLA alerts already raised (alerts), and what
 * replyd run knows of its sources (sources, unreadable: rp_runstate.h). The
 * schema version is PRAGMA user_version; rp_queue_open() migrates older files
 * one step at a time inside a transaction and refuses newer ones.
 *
 * Reply states:
 *   pending_approval -> approved -> sending -> sent | failed
 *   pending_approval -> rejected;  pending_approval | approved -> expired
 *   failed -> approved (a human approves again)
 * Automatic replies start approved (approved_by "auto"). A reply is marked
 * sending, with the claiming process's owner token, in a committed
 * transaction before any network I/O (rp_queue_claim).
 *
 * Durability: WAL with synchronous=NORMAL — a committed transaction survives a
 * crash of the process (not necessarily a power cut before the next
 * checkpoint; synchronous=FULL via rp_queue_open_opts.full_sync does).
 * Several processes may use one file: writers wait up to busy_ms for each
 * other.
 *
 * Memory: an rp_queue owns its connection and statements; rows handed to
 * callbacks or returned in an rp_qreply are valid until the next call on the
 * queue unless stated. Errors: RP_EIO (SQLite failed; the message says what
 * and where), RP_EINVAL (no such reply, or a transition the state machine
 * does not allow — the message says which), RP_ENOMEM.
 */
#ifndef RP_QUEUE_H
#define RP_QUEUE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "rp_engine.h"
#include "rp_error.h"
#include "rp_loop.h"
#include "rp_message.h"

#define RP_QUEUE_SCHEMA_VERSION 2

typedef enum rp_reply_state {
    RP_STATE_PENDING_APPROVAL = 0,
    RP_STATE_APPROVED,
    RP_STATE_SENDING,
    RP_STATE_SENT,
    RP_STATE_FAILED,
    RP_STATE_REJECTED,
    RP_STATE_EXPIRED,
    RP_STATE_COUNT
} rp_reply_state;

const char *rp_reply_state_name(rp_reply_state s); /* "pending_approval" */
/* -1 if unknown. */
int rp_reply_state_from_name(const char *name);

typedef struct rp_queue rp_queue;
typedef struct sqlite3 sqlite3;

typedef struct rp_queue_opts {
    unsigned busy_ms;  /* wait for other writers; default 10000 */
    bool full_sync;    /* synchronous=FULL */
    bool read_only;
} rp_queue_opts;

rp_status rp_queue_open(const char *path, const rp_queue_opts *opts, rp_queue **out,
                        rp_error *err);
void rp_queue_close(rp_queue *q); /* rolls back an open transaction */
sqlite3 *rp_queue_db(rp_queue *q); /* for read-only reports (stats, export) */
const char *rp_queue_path(const rp_queue *q);

/* Explicit transactions, for group commit: rp_queue_add() calls between
 * begin and commit land together. BEGIN IMMEDIATE. */
rp_status rp_queue_begin(rp_queue *q, rp_error *err);
rp_status rp_queue_commit(rp_queue *q, rp_error *err);
rp_status rp_queue_rollback(rp_queue *q);

/* The de-duplication key of a message: its marketplace and id, else a
 * SHA-256 of its raw bytes. out >= 80 bytes. */
void rp_queue_message_key(const rp_message *m, char *out, size_t size);

/* Compliance findings as the JSON array the queue stores:
 * [{"check":"link","blocking":true,"text":"..."}], NUL-terminated in out. */
rp_status rp_findings_json(const rp_findings *f, rp_buf *out);

/* Was this message (by key) stored already? */
rp_status rp_queue_seen(rp_queue *q, const char *key, bool *seen, rp_error *err);

/* Store a message, its decision and its replies. sla_seconds gives the
 * deadline (received + sla). Returns the inbound row id; *added is false
 * (and nothing is written) when the key was stored already. */
typedef struct rp_queue_add_info {
    const char *key;          /* rp_queue_message_key() */
    int64_t now;              /* when replyd decided */
    int64_t sla_seconds;
    const char *id_domain;    /* domain of the replies' Message-IDs; NULL = "replyd.invalid" */
} rp_queue_add_info;
rp_status rp_queue_add(rp_queue *q, const rp_message *m, const rp_decision *d,
                       const rp_queue_add_info *info, int64_t *inbound_id, bool *added,
                       rp_error *err);

/* The history the loop protection throttles read: automatic replies stored
 * in this queue (any state but rejected/expired). Valid while q is. */
const rp_reply_history *rp_queue_history(rp_queue *q);

/* One reply with what an operator or a sink needs of its message. */
typedef struct rp_qreply {
    int64_t id, inbound_id;
    rp_reply_state state;
    const char *rule, *template_id, *action, *language;
    const char *subject, *body;      /* NULL once purged */
    bool counts_as_response;
    const char *compliance;          /* JSON array of findings */
    const char *sink, *message_id, *idempotency_key;
    unsigned attempts;
    int64_t next_attempt_at, created_at, updated_at, sent_at; /* RP_TIME_UNKNOWN if none */
    const char *last_error, *attention, *approved_by, *claimed_by;
    /* the buyer's message */
    const char *msg_id, *marketplace, *intent, *priority, *tags; /* tags: JSON array */
    const char *buyer;               /* relay alias; NULL once purged */
    const char *in_subject, *in_body;/* NULL once purged */
    const char *in_message_id, *in_references, *order_id;
    int64_t received_at, deadline;
    bool high_risk;
    bool automatic;                  /* created to be sent without approval */
} rp_qreply;

typedef struct rp_queue_filter {
    int state;               /* -1 = any */
    bool open_only;          /* pending_approval, approved, sending or failed */
    const char *intent;      /* NULL = any */
    const char *marketplace;
    const char *language;
    const char *template_id;
    bool attention_only;
    unsigned limit;          /* 0 = no limit */
} rp_queue_filter;

typedef int (*rp_qreply_fn)(void *ud, const rp_qreply *r); /* non-zero stops */
rp_status rp_queue_list(rp_queue *q, const rp_queue_filter *f, rp_qreply_fn fn, void *ud,
                        rp_error *err);
/* The reply in *out (strings owned by q) is valid until the next
 * rp_queue_get() or rp_queue_claim() on q. */
rp_status rp_queue_get(rp_queue *q, int64_t id, rp_qreply *out, rp_error *err);

/* Operator actions; each writes an audit record naming the operator. */
rp_status rp_queue_approve(rp_queue *q, int64_t id, const char *op, int64_t now, rp_error *err);
rp_status rp_queue_reject(rp_queue *q, int64_t id, const char *op, const char *reason,
                          bool no_response_needed, int64_t now, rp_error *err);
/* New text for a reply waiting for approval (or failed). findings_json is the
 * compliance result of the new text; the old text goes to versions; the audit
 * record says what changed. The reply is (again) pending_approval. */
rp_status rp_queue_edit(rp_queue *q, int64_t id, const char *op, const char *subject,
                        const char *body, const char *findings_json, int64_t now,
                        rp_error *err);

/* Sending. An owner token names the claiming process (rp_queue_owner_*). */
typedef struct rp_queue_owner rp_queue_owner;
/* Take a lease for this process: a locked file next to the queue. */
rp_status rp_queue_owner_new(rp_queue *q, rp_queue_owner **out, rp_error *err);
void rp_queue_owner_free(rp_queue_owner *o); /* releases the lease */
const char *rp_queue_owner_token(const rp_queue_owner *o);

/* Replies left `sending` by a process that is gone: with a sink that is
 * idempotent (is_idempotent(sink name) true) they go back to approved, to be
 * sent again with the same idempotency key; otherwise they are failed and
 * flagged for a human (attention "interrupted"). Counts what it did. */
typedef bool (*rp_sink_idempotent_fn)(void *ud, const char *sink);
rp_status rp_queue_recover(rp_queue *q, rp_sink_idempotent_fn is_idempotent, void *ud,
                           int64_t now, unsigned *requeued, unsigned *flagged, rp_error *err);

/* Claim the next reply due at `now` (approved, next_attempt_at <= now) for
 * sink: it is marked sending in its own committed transaction and returned
 * in *out (attempts already counted). *got is false when nothing is due. */
rp_status rp_queue_claim(rp_queue *q, const rp_queue_owner *o, const char *sink, int64_t now,
                         rp_qreply *out, bool *got, rp_error *err);

/* When the next approved reply falls due (RP_TIME_UNKNOWN: none waits). */
rp_status rp_queue_next_due(rp_queue *q, int64_t *at, rp_error *err);

typedef enum rp_finish {
    RP_FINISH_SENT = 0,
    RP_FINISH_RETRY,     /* back to approved, next try at retry_at */
    RP_FINISH_FAILED,    /* for good */
    RP_FINISH_ATTENTION  /* failed, flagged for a human: delivery unknown */
} rp_finish;
rp_status rp_queue_finish(rp_queue *q, int64_t id, rp_finish how, const char *detail,
                          int64_t now, int64_t retry_at, rp_error *err);

/* Acknowledgements (replies that do not count as a response) not sent within
 * max_age seconds of the buyer's message expire. */
rp_status rp_queue_expire(rp_queue *q, int64_t now, int64_t max_age, unsigned *n,
                          rp_error *err);

/* Purge message and reply texts and buyer addresses of messages received
 * before `before`; the rows, their figures and the audit trail stay. */
rp_status rp_queue_purge(rp_queue *q, int64_t before, int64_t now, unsigned *n,
                         rp_error *err);

/* Suppressed messages (loop protection) count toward nothing but are listed. */
typedef struct rp_qinbound {
    int64_t id;
    const char *msg_id, *marketplace, *language, *intent, *suppressed, *suppressed_detail;
    int64_t received_at, deadline, first_response_at;
    bool response_needed;
} rp_qinbound;
typedef int (*rp_qinbound_fn)(void *ud, const rp_qinbound *m);
/* Messages that got no reply because of loop protection, and those whose
 * automatic reply a throttle dropped (suppressed = "automatic_reply_throttled",
 * the detail names the throttle and template; a draft may remain), newest
 * first. */
rp_status rp_queue_list_suppressed(rp_queue *q, unsigned limit, rp_qinbound_fn fn, void *ud,
                                   rp_error *err);

#endif
