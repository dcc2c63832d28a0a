/* rp_loop.h — loop protection: replyd never answers machines and never floods
 * one buyer (RFC 3834, RFC 5230 §4.5-4.6; reference: docs/loop-protection.md).
 *
 * rp_loop_check() looks at one message (headers, sender, subject) and names
 * the first reason it must not be answered at all: a bounce, an auto-reply, a
 * mailing list, a marketplace notification, the seller's own mail. The
 * detail it writes is one line that never contains the sender's address or
 * name. rp_loop_throttle() limits automatic replies per buyer (one per
 * template and period, a cap per hour) through a reply history the caller
 * supplies; rp_loop_memory_history_new() is one kept in memory, for dry runs.
 * Buyers are only ever stored as rp_loop_sender_key(): a SHA-256 of the
 * lower-cased address, never the address itself.
 *
 * Memory: an rp_loop keeps a pointer to the configuration it was built from
 * (which must outlive it) and copies of the addresses and patterns it
 * compares; rp_loop_free() releases them. A memory history owns its storage;
 * rp_loop_memory_history_free() releases it. Errors: rp_loop_new() returns
 * RP_ENOMEM, or RP_ECONFIG for a notification pattern that would also match
 * buyers' relay addresses; history callbacks report their own rp_status.
 */
#ifndef RP_LOOP_H
#define RP_LOOP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "rp_config.h"
#include "rp_error.h"
#include "rp_message.h"

/* Why a message, or one automatic reply to it, is not sent. The names
 * (rp_loop_reason_name) are stable: they appear in decisions and the queue. */
typedef enum rp_loop_reason {
    RP_LOOP_NONE = 0,
    RP_LOOP_NULL_RETURN_PATH,       /* Return-Path: <> (a bounce or an auto-reply) */
    RP_LOOP_AUTO_SUBMITTED,         /* Auto-Submitted other than "no" */
    RP_LOOP_LIST,                   /* List-Id, List-Unsubscribe, ... */
    RP_LOOP_PRECEDENCE,             /* Precedence: bulk, junk, list, auto_reply */
    RP_LOOP_AUTO_RESPONSE_SUPPRESS, /* X-Auto-Response-Suppress: OOF, AutoReply, All */
    RP_LOOP_AUTOREPLY_HEADER,       /* vendor auto-responder markers (X-Autoreply, ...) */
    RP_LOOP_DELIVERY_REPORT,        /* multipart/report, delivery status, X-Failed-Recipients */
    RP_LOOP_SYSTEM_SENDER,          /* mailer-daemon@, postmaster@, ... */
    RP_LOOP_NOREPLY_SENDER,         /* no-reply@, donotreply@, ... */
    RP_LOOP_LIST_SENDER,            /* *-request@, owner-*@ */
    RP_LOOP_NOTIFICATION_SENDER,    /* loop_protection.notification_senders */
    RP_LOOP_OWN_ADDRESS,            /* the seller's own addresses */
    RP_LOOP_AUTO_REPLY_SUBJECT,     /* "Automatic reply:", "Abwesenheitsnotiz", ... */
    RP_LOOP_ONCE_PER_PERIOD,        /* throttle: same template, same buyer, within days */
    RP_LOOP_HOURLY_CAP,             /* throttle: too many automatic replies this hour */
    RP_LOOP_REASON_COUNT
} rp_loop_reason;

/* "none", "null_return_path", ...; "unknown" for a value out of range. */
const char *rp_loop_reason_name(rp_loop_reason r);

typedef struct rp_loop rp_loop;

rp_status rp_loop_new(const rp_config *cfg, rp_loop **out, rp_error *err);
void rp_loop_free(rp_loop *l); /* NULL is fine */

/* The first reason m must get no reply at all (header checks first, then
 * the sender, then the subject), or RP_LOOP_NONE. detail (may be NULL)
 * receives one line such as "Auto-Submitted: auto-replied" or "sender is a
 * mailer-daemon address"; it never quotes the sender. A message without a
 * sender is not suppressed for that alone. */
rp_loop_reason rp_loop_check(const rp_loop *l, const rp_message *m, char *detail, size_t size);

/* The bare address of a From value ("Name <a@b>" or "a@b"), lower-cased,
 * into out (size bytes); returns its length, 0 when there is none. */
size_t rp_loop_bare_address(const char *from, char *out, size_t size);

/* Lower-case hex SHA-256 of the lower-cased bare address of from; an empty
 * string when from holds no address. */
void rp_loop_sender_key(const char *from, char out[65]);

/* '*' matches any run of characters (none included); everything else
 * matches itself, ASCII letters without regard to case. */
bool rp_loop_glob_match(const char *pattern, const char *text);

/* The record of automatic replies, by sender key and template. Each
 * callback returns RP_OK or its own error. last_auto stores RP_TIME_UNKNOWN
 * when this template never went to this sender automatically. */
typedef struct rp_reply_history {
    void *ctx;
    rp_status (*last_auto)(void *ctx, const char *sender_key, const char *template_id, int64_t *at);
    rp_status (*count_auto_since)(void *ctx, const char *sender_key, int64_t since, unsigned *n);
    rp_status (*record_auto)(void *ctx, const char *sender_key, const char *template_id,
                             int64_t at);
} rp_reply_history;

/* Whether an automatic reply with template_id may go to the sender with
 * this key at now: RP_LOOP_ONCE_PER_PERIOD when one with the same template
 * went less than once_per_sender_days ago (or is recorded later than now),
 * RP_LOOP_HOURLY_CAP when max_per_sender_per_hour went in the hour before
 * now; 0 in the configuration turns either off. It does not record
 * anything: the caller calls h->record_auto once the reply is decided. When
 * the history fails, *st has its status, detail says so and RP_LOOP_NONE is
 * returned: the caller must not send automatically then. */
rp_loop_reason rp_loop_throttle(const rp_loop *l, const rp_reply_history *h, const char *sender_key,
                                const char *template_id, int64_t now, char *detail, size_t size,
                                rp_status *st);

/* A history kept in memory (a hash map by sender key); NULL on ENOMEM. */
rp_reply_history *rp_loop_memory_history_new(void);
void rp_loop_memory_history_free(rp_reply_history *h); /* NULL is fine */

#endif
