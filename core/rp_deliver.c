/* rp_deliver.c — claim, send, record the outcome. */
#include "rp_deliver.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "rp_buf.h"
#include "rp_engine.h"
#include "rp_text.h"

struct rp_deliverer {
    const rp_config *cfg;
    rp_queue *q;
    rp_sinks *sinks;
    rp_sink *sink;
    char *sink_name;
    rp_queue_owner *owner;
    unsigned seed;
    rp_deliver_report_fn report;
    void *ud;
    rp_deliver_counts n;
};
typedef rp_deliverer sender;

static bool sink_idempotent(void *ud, const char *name)
{
    sender *s = ud;
    unsigned flags = 0;
    rp_error err;
    if (rp_sinks_flags(s->sinks, name, &flags, &err) != RP_OK)
        return false; /* unknown now: treat as not idempotent (a human looks) */
    return (flags & RP_SINK_IDEMPOTENT) != 0;
}

/* Backoff: base * 2^(attempt-1), at most max, with ±20 % jitter; at least
 * what the receiver asked for ("retry-after=N" at the start of detail). */
static int64_t retry_delay(sender *s, unsigned attempt, const char *detail)
{
    double d = s->cfg->retry_base_seconds;
    for (unsigned i = 1; i < attempt && d < s->cfg->retry_max_seconds; i++)
        d *= 2;
    if (d > s->cfg->retry_max_seconds)
        d = s->cfg->retry_max_seconds;
    double jitter = 0.8 + 0.4 * ((double)rand_r(&s->seed) / RAND_MAX);
    int64_t out = (int64_t)(d * jitter + 0.5);
    if (detail && strncmp(detail, "retry-after=", 12) == 0) {
        long ra = strtol(detail + 12, NULL, 10);
        if (ra > out && ra <= 7 * 86400)
            out = ra;
    }
    return out;
}

static bool has_reply_prefix(const char *s)
{
    static const char *const prefixes[] = {"re:", "aw:", "sv:", "r:", "rif:", "res:", "回复:",
                                           "返信:"};
    for (size_t i = 0; i < sizeof prefixes / sizeof prefixes[0]; i++)
        if (strncasecmp(s, prefixes[i], strlen(prefixes[i])) == 0)
            return true;
    return false;
}

/* Send one claimed reply and record the outcome. */
static rp_status deliver(sender *s, const rp_qreply *r, int64_t now, rp_error *err)
{
    const rp_marketplace_cfg *mk = rp_config_marketplace(s->cfg, r->marketplace);
    char detail[1024] = "";
    rp_finish how;
    int64_t retry_at = 0;
    char idbuf[32];
    snprintf(idbuf, sizeof idbuf, "%lld", (long long)r->id);
    char *subject = NULL, *refs = NULL;
    if (!mk || !mk->sender) {
        snprintf(detail, sizeof detail,
                 "no sender address for marketplace %s: set marketplaces.%s.sender, then "
                 "approve it again",
                 r->marketplace ? r->marketplace : "(none)",
                 r->marketplace ? r->marketplace : "DOMAIN");
        how = RP_FINISH_FAILED;
    } else if (!r->buyer || !r->body) {
        snprintf(detail, sizeof detail, "%s",
                 !r->body ? "the reply has no text" : "the buyer's reply address is unknown "
                                                      "(missing or purged)");
        how = RP_FINISH_FAILED;
    } else {
        /* keep the buyer's thread: "Re: <their subject>" when they gave one */
        const char *subj = r->subject;
        if (r->in_subject && *r->in_subject) {
            size_t n = strlen(r->in_subject) + 5;
            if ((subject = malloc(n)) == NULL)
                return rp_error_set(err, RP_ENOMEM, "out of memory");
            snprintf(subject, n, "%s%s", has_reply_prefix(r->in_subject) ? "" : "Re: ",
                     r->in_subject);
            subj = subject;
        }
        if (r->in_message_id) {
            size_t n = (r->in_references ? strlen(r->in_references) : 0) +
                       strlen(r->in_message_id) + 2;
            if ((refs = malloc(n)) == NULL) {
                free(subject);
                return rp_error_set(err, RP_ENOMEM, "out of memory");
            }
            snprintf(refs, n, "%s%s%s", r->in_references ? r->in_references : "",
                     r->in_references ? " " : "", r->in_message_id);
        }
        rp_outgoing m = {
            .reply_id = idbuf,
            .idempotency_key = r->idempotency_key,
            .message_id = r->message_id,
            .from = mk->sender,
            .from_name = s->cfg->seller_name,
            .to = r->buyer,
            .subject = subj ? subj : "",
            .body = r->body,
            .in_reply_to = r->in_message_id,
            .references = refs,
            .language = r->language,
            .marketplace = r->marketplace,
            .order_id = r->order_id,
            .template_id = r->template_id,
            .inbound_id = r->msg_id,
            .date = now,
            .attempt = r->attempts,
            .automatic = r->approved_by && strcmp(r->approved_by, "auto") == 0,
            .kind = "reply",
        };
        rp_send_result res = rp_sink_send(s->sink, &m, detail, sizeof detail);
        switch (res) {
        case RP_SEND_OK:
            how = RP_FINISH_SENT;
            break;
        case RP_SEND_PERMANENT:
            how = RP_FINISH_FAILED;
            break;
        case RP_SEND_UNKNOWN:
            if (!rp_sink_idempotent(s->sink)) {
                how = RP_FINISH_ATTENTION;
                break;
            }
            /* the receiver de-duplicates, so try again */
            __attribute__((fallthrough));
        case RP_SEND_RETRY:
        default:
            if (r->attempts >= s->cfg->max_attempts) {
                how = res == RP_SEND_UNKNOWN ? RP_FINISH_ATTENTION : RP_FINISH_FAILED;
                size_t l = strlen(detail);
                snprintf(detail + l, sizeof detail - l, " (gave up after %u attempts)",
                         r->attempts);
            } else {
                how = RP_FINISH_RETRY;
                retry_at = now + retry_delay(s, r->attempts, detail);
            }
            break;
        }
    }
    free(subject);
    free(refs);
    rp_status st = rp_queue_finish(s->q, r->id, how, detail, now, retry_at, err);
    if (st != RP_OK)
        return st;
    static const char *const words[] = {"sent", "retry", "failed", "attention"};
    if (s->report)
        s->report(s->ud, words[how], r->id, detail);
    switch (how) {
    case RP_FINISH_SENT:
        s->n.sent++;
        break;
    case RP_FINISH_RETRY:
        s->n.retried++;
        break;
    case RP_FINISH_FAILED:
        s->n.failed++;
        break;
    case RP_FINISH_ATTENTION:
        s->n.attention++;
        break;
    }
    return RP_OK;
}

rp_status rp_deliverer_new(const rp_config *cfg, rp_queue *q, rp_sinks *sinks,
                           const char *sink_name, rp_deliver_report_fn report, void *ud,
                           rp_deliverer **out, rp_error *err)
{
    *out = NULL;
    rp_deliverer *d = calloc(1, sizeof *d);
    if (!d || !(d->sink_name = rp_strdup(sink_name))) {
        free(d);
        return rp_error_set(err, RP_ENOMEM, "out of memory");
    }
    d->cfg = cfg;
    d->q = q;
    d->sinks = sinks;
    d->report = report;
    d->ud = ud;
    d->seed = (unsigned)time(NULL) ^ (unsigned)getpid();
    rp_status st = rp_sinks_get(sinks, sink_name, &d->sink, err);
    if (st == RP_OK)
        st = rp_queue_owner_new(q, &d->owner, err);
    if (st != RP_OK) {
        rp_deliverer_free(d);
        return st;
    }
    *out = d;
    return RP_OK;
}

void rp_deliverer_free(rp_deliverer *d)
{
    if (!d)
        return;
    rp_queue_owner_free(d->owner);
    free(d->sink_name);
    free(d);
}

rp_status rp_deliver_recover(rp_deliverer *d, int64_t now, unsigned *requeued, unsigned *flagged,
                             unsigned *expired, rp_error *err)
{
    *requeued = *flagged = *expired = 0;
    rp_status st = rp_queue_recover(d->q, sink_idempotent, d, now, requeued, flagged, err);
    if (st == RP_OK)
        st = rp_queue_expire(d->q, now, (int64_t)d->cfg->sla_hours * 3600, expired, err);
    return st;
}

rp_status rp_deliver_next(rp_deliverer *d, int64_t now, bool *got, rp_error *err)
{
    rp_qreply r;
    *got = false;
    rp_status st = rp_queue_claim(d->q, d->owner, d->sink_name, now, &r, got, err);
    if (st != RP_OK || !*got)
        return st;
    return deliver(d, &r, now, err);
}

rp_deliver_counts rp_deliver_get_counts(const rp_deliverer *d)
{
    return d->n;
}
