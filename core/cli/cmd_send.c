/* replyd send — deliver the replies that are due, through the configured sink. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "rp_buf.h"
#include "rp_engine.h"
#include "rp_plugin.h"
#include "rp_queue.h"

static void usage(FILE *out)
{
    fprintf(out,
            "usage: replyd send [--config FILE] [--queue FILE] [--sink NAME] [--limit N]\n"
            "                   [--drain [--max-wait SECONDS]]\n"
            "\n"
            "Sends the replies that are due: automatic ones and those a human approved,\n"
            "through the sink named by delivery.sink (or --sink). Each reply is marked\n"
            "'sending' in the queue before anything goes out; a reply whose delivery is\n"
            "uncertain is never sent blindly again over SMTP: it is flagged for a human.\n"
            "Failures that may pass are retried later with exponential backoff and\n"
            "jitter (delivery.retry_base_seconds, retry_max_seconds, max_attempts).\n"
            "Reference: docs/delivery.md.\n"
            "\n"
            "Options:\n"
            "  -s, --sink NAME          send through this sink instead of delivery.sink\n"
            "  -l, --limit N            send at most N replies\n"
            "  -d, --drain              also wait for retries that fall due within\n"
            "                           --max-wait seconds (default 60)\n"
            "  -c, --config FILE        configuration (default: the built-in one)\n"
            "  -q, --queue FILE         the queue (default: queue.path)\n"
            "  -t, --now TIME           run the clock from TIME (ISO 8601) instead of the\n"
            "                           current time: for replays and tests\n"
            "\n"
            "One line per attempt on standard output: sent|retry|failed|attention ID\n"
            "detail. Exit status: 0 nothing failed, 1 some replies failed or need\n"
            "attention, 2 usage, configuration or queue error.\n");
}

typedef struct sender {
    const rp_config *cfg;
    rp_queue *q;
    rp_sinks *sinks;
    rp_sink *sink;
    rp_queue_owner *owner;
    unsigned seed;
    int64_t offset; /* added to the system clock (--now) */
    size_t sent, retried, failed, attention;
} sender;

static int64_t clock_now(const sender *s)
{
    return (int64_t)time(NULL) + s->offset;
}

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

static void print_line(const char *what, int64_t id, const char *detail)
{
    rp_buf b = {0};
    if (rp_redact(detail ? detail : "", &b) == RP_OK && rp_buf_append_char(&b, '\0') == RP_OK)
        printf("%s %lld %s\n", what, (long long)id, b.data);
    else
        printf("%s %lld\n", what, (long long)id);
    rp_buf_free(&b);
    fflush(stdout);
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
    rp_status st = rp_queue_finish(s->q, r->id, how, detail, clock_now(s), retry_at, err);
    if (st != RP_OK)
        return st;
    static const char *const words[] = {"sent", "retry", "failed", "attention"};
    print_line(words[how], r->id, detail);
    switch (how) {
    case RP_FINISH_SENT:
        s->sent++;
        break;
    case RP_FINISH_RETRY:
        s->retried++;
        break;
    case RP_FINISH_FAILED:
        s->failed++;
        break;
    case RP_FINISH_ATTENTION:
        s->attention++;
        break;
    }
    return RP_OK;
}

int rp_cmd_send(int argc, char **argv)
{
    static const struct option opts[] = {{"config", required_argument, NULL, 'c'},
                                         {"queue", required_argument, NULL, 'q'},
                                         {"sink", required_argument, NULL, 's'},
                                         {"limit", required_argument, NULL, 'l'},
                                         {"drain", no_argument, NULL, 'd'},
                                         {"max-wait", required_argument, NULL, 'w'},
                                         {"now", required_argument, NULL, 't'},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    const char *config_path = NULL, *queue_path = NULL, *sink_name = NULL;
    long limit = -1, max_wait = 60;
    int drain = 0, c;
    int64_t offset = 0; /* --now: the clock runs from there */
    optind = 1;
    while ((c = getopt_long(argc, argv, "c:q:s:l:dw:t:h", opts, NULL)) != -1) {
        switch (c) {
        case 'c':
            config_path = optarg;
            break;
        case 'q':
            queue_path = optarg;
            break;
        case 's':
            sink_name = optarg;
            break;
        case 'l': {
            unsigned long v;
            if (rp_cli_count_arg("send", "limit", optarg, 1, 100000000, &v))
                return RP_EXIT_USAGE;
            limit = (long)v;
            break;
        }
        case 'd':
            drain = 1;
            break;
        case 'w': {
            unsigned long v;
            if (rp_cli_count_arg("send", "max-wait", optarg, 0, 86400, &v))
                return RP_EXIT_USAGE;
            max_wait = (long)v;
            break;
        }
        case 't': {
            int64_t t;
            if (rp_cli_time_arg("send", "now", optarg, &t))
                return RP_EXIT_USAGE;
            offset = t - (int64_t)time(NULL);
            break;
        }
        case 'h':
            usage(stdout);
            return RP_EXIT_OK;
        default:
            usage(stderr);
            return RP_EXIT_USAGE;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "replyd send: unexpected argument '%s'\n", argv[optind]);
        return RP_EXIT_USAGE;
    }
    rp_error err;
    rp_config *cfg = NULL;
    if (rp_cli_load_config(config_path, &cfg, &err) != RP_OK) {
        fprintf(stderr, "replyd send: configuration: %s\n", err.msg);
        return RP_EXIT_USAGE;
    }
    if (!sink_name)
        sink_name = cfg->sink;
    if (!sink_name) {
        fprintf(stderr, "replyd send: no sink is configured (delivery.sink): nothing is sent "
                        "until one is; see docs/delivery.md\n");
        rp_config_free(cfg);
        return RP_EXIT_USAGE;
    }
    sender s = {.cfg = cfg, .offset = offset, .seed = (unsigned)time(NULL) ^ (unsigned)getpid()};
    int rc = RP_EXIT_USAGE;
    if (rp_cli_open_queue(cfg, queue_path, false, &s.q, &err) != RP_OK ||
        rp_sinks_new(cfg, "replyd send", &s.sinks, &err) != RP_OK ||
        rp_sinks_get(s.sinks, sink_name, &s.sink, &err) != RP_OK ||
        rp_queue_owner_new(s.q, &s.owner, &err) != RP_OK) {
        fprintf(stderr, "replyd send: %s\n", err.msg);
        goto out;
    }
    unsigned requeued = 0, flagged = 0, expired = 0;
    int64_t now = clock_now(&s);
    if (rp_queue_recover(s.q, sink_idempotent, &s, now, &requeued, &flagged, &err) != RP_OK ||
        rp_queue_expire(s.q, now, (int64_t)cfg->sla_hours * 3600, &expired, &err) != RP_OK) {
        fprintf(stderr, "replyd send: %s\n", err.msg);
        goto out;
    }
    if (requeued || flagged)
        fprintf(stderr,
                "replyd send: %u interrupted send%s found: %u will be retried with the same "
                "idempotency key, %u flagged for a human (replyd queue list --attention)\n",
                requeued + flagged, requeued + flagged == 1 ? "" : "s", requeued, flagged);
    if (expired)
        fprintf(stderr, "replyd send: %u acknowledgement%s expired unsent (older than %u h)\n",
                expired, expired == 1 ? "" : "s", cfg->sla_hours);
    int64_t started = clock_now(&s);
    for (;;) {
        if (limit >= 0 && (long)(s.sent + s.retried + s.failed + s.attention) >= limit)
            break;
        rp_qreply r;
        bool got = false;
        now = clock_now(&s);
        if (rp_queue_claim(s.q, s.owner, sink_name, now, &r, &got, &err) != RP_OK) {
            fprintf(stderr, "replyd send: %s\n", err.msg);
            goto out;
        }
        if (got) {
            if (deliver(&s, &r, now, &err) != RP_OK) {
                fprintf(stderr, "replyd send: %s\n", err.msg);
                goto out;
            }
            continue;
        }
        if (!drain)
            break;
        int64_t next;
        if (rp_queue_next_due(s.q, &next, &err) != RP_OK) {
            fprintf(stderr, "replyd send: %s\n", err.msg);
            goto out;
        }
        if (next == RP_TIME_UNKNOWN || next - started > max_wait)
            break;
        int64_t wait = next - clock_now(&s);
        if (wait > 0)
            sleep((unsigned)(wait > 5 ? 5 : wait));
    }
    fprintf(stderr, "replyd send: %zu sent, %zu to retry, %zu failed, %zu need attention\n",
            s.sent, s.retried, s.failed, s.attention);
    rc = s.failed || s.attention ? RP_EXIT_PARTIAL : RP_EXIT_OK;
out:
    rp_queue_owner_free(s.owner);
    rp_sinks_free(s.sinks);
    rp_queue_close(s.q);
    rp_config_free(cfg);
    return rc;
}
