/* plugin.h — the versioned C ABI between replyd and its plugins.
 *
 * A plugin is a shared object loaded with dlopen(). It exports one function,
 * RP_PLUGIN_ENTRY ("rp_plugin_v1"), returning a static rp_plugin_info. The
 * host refuses a plugin whose abi differs from RP_PLUGIN_ABI, or whose ops
 * struct is smaller than the host expects. New members are only ever
 * appended to the structs below (and `size` tells the host what a plugin
 * knows about); a change that breaks old plugins bumps RP_PLUGIN_ABI.
 *
 * This header is self-contained: a plugin includes nothing else of replyd's
 * and links nothing of replyd's. Everything the host passes in (options,
 * messages, the host struct) is borrowed for the duration of the call; the
 * plugin copies what it keeps. Everything a plugin hands back is either a
 * static string or written into a buffer the host supplies.
 *
 * Errors come back as return values plus a NUL-terminated text in the
 * caller's buffer. That text may reach logs and the queue, so a plugin never
 * puts a buyer's address, name or message text in it (a remote server's reply
 * is fine after the plugin has cut any address out of it).
 *
 * Threads: the host calls one plugin instance from one thread at a time, but
 * different instances (two IMAP accounts, say) may run on different threads
 * at once: a plugin keeps its state in the instance, not in globals. The
 * host's callbacks may be called from any thread.
 * Signals: a plugin installs no signal handlers.
 */
#ifndef RP_PLUGIN_H
#define RP_PLUGIN_H

#include <stddef.h>
#include <stdint.h>

#define RP_PLUGIN_ABI 1
#define RP_PLUGIN_ENTRY "rp_plugin_v1"

/* Log levels for rp_plugin_host.log. */
#define RP_LOG_ERROR 0
#define RP_LOG_WARN 1
#define RP_LOG_INFO 2
#define RP_LOG_DEBUG 3

/* One option from the configuration, as text: `options: {url: ..., port: 25}`. */
typedef struct rp_plugin_option {
    const char *key;
    const char *value;
} rp_plugin_option;

/* What the host offers a plugin. */
typedef struct rp_plugin_host {
    unsigned abi;     /* RP_PLUGIN_ABI */
    void *ctx;        /* pass back to the callbacks */
    /* Log a line (no trailing newline). The host redacts addresses and
     * phone numbers again before writing, but a plugin should not rely on it. */
    void (*log)(void *ctx, int level, const char *msg);
    /* Directory that relative paths in options are resolved against (the
     * configuration file's), never NULL. */
    const char *base_dir;
    /* 1 when the instance is opened only to check its options (replyd check):
     * check everything that can be checked, but create, connect to and
     * change nothing. */
    int check_only;
    /* Members below were added for sources; a sink may ignore them. Both may
     * be NULL for a sink. */
    /* Sources: remember state (an IMAP folder's UIDVALIDITY and last UID, say)
     * across restarts. The host stores the text durably and hands the last
     * one saved to open() next time. At most 4096 bytes, no buyer data. */
    void (*save_state)(void *ctx, const char *state);
    /* Non-zero once the host is shutting down or reloading: a plugin in a long
     * operation (a slow download, a backoff wait) returns soon. */
    int (*stopping)(void *ctx);
} rp_plugin_host;

/* One reply to deliver. All strings are UTF-8 and NUL-terminated; those
 * marked "may be NULL" may be. */
typedef struct rp_outgoing {
    const char *reply_id;        /* queue id of the reply, e.g. "42" */
    const char *idempotency_key; /* stable for this reply across retries and restarts */
    const char *message_id;      /* "<replyd.…@domain>": deterministic, the same on every try */
    const char *from;            /* the seller's registered sender address */
    const char *from_name;       /* seller name for the From display name; may be NULL */
    const char *to;              /* the buyer's relay alias */
    const char *subject;         /* plain UTF-8, not encoded */
    const char *body;            /* plain UTF-8 text, LF line ends */
    const char *in_reply_to;     /* the buyer message's Message-ID "<…>"; may be NULL */
    const char *references;      /* its References plus its Message-ID, space separated; may be NULL */
    const char *language;        /* "de"; may be NULL */
    const char *marketplace;     /* "amazon.de"; may be NULL */
    const char *order_id;        /* may be NULL */
    const char *template_id;     /* "ack_overnight" */
    const char *inbound_id;      /* the buyer message's id as replyd knows it */
    int64_t date;                /* Unix seconds for the Date header */
    unsigned attempt;            /* 1 on the first try */
    int automatic;               /* 1: sent without a human's approval (an SMTP sink marks
                                  * it Auto-Submitted: auto-replied, RFC 3834) */
    const char *kind;            /* "reply", or "alert" for an SLA alert (no to, no
                                  * threading; subject and body say what is wrong) */
} rp_outgoing;

/* Outcome of one delivery attempt. */
typedef enum rp_send_result {
    RP_SEND_OK = 0,        /* the remote side accepted it */
    RP_SEND_RETRY = 1,     /* not accepted, certainly not delivered: try again later
                            * (connection refused, SMTP 4xx, HTTP 5xx/429) */
    RP_SEND_PERMANENT = 2, /* rejected for good (SMTP 5xx, HTTP 4xx, bad address) */
    RP_SEND_UNKNOWN = 3    /* may or may not have been delivered (connection lost or
                            * timed out after the data went out) */
} rp_send_result;

/* Sink flags. */
#define RP_SINK_IDEMPOTENT 1u /* the receiver de-duplicates on idempotency_key, so
                               * a reply whose outcome is unknown may be sent again */

typedef struct rp_sink_ops {
    size_t size;        /* sizeof(rp_sink_ops) as the plugin was built */
    unsigned flags;     /* RP_SINK_* */
    /* Create an instance from its options. Unknown or invalid options are an
     * error: return non-zero with a reason in err (errsize >= 256). */
    int (*open)(const rp_plugin_host *host, const rp_plugin_option *opts, size_t nopts,
                void **instance, char *err, size_t errsize);
    /* Deliver one reply. detail (detailsize >= 512) receives the remote side's
     * answer or the reason for failure, one line, no buyer data. An instance
     * may keep a connection open between calls. */
    rp_send_result (*send)(void *instance, const rp_outgoing *msg, char *detail,
                           size_t detailsize);
    /* Release the instance (closing connections). NULL-safe. */
    void (*close)(void *instance);
} rp_sink_ops;

/* ---- sources ----------------------------------------------------------------
 *
 * A source fetches buyer messages (an IMAP folder, a Maildir, a drop folder of
 * JSON Lines files) and hands them to the host one at a time. The host stores
 * each in the queue and, once the queue has committed it, acknowledges it:
 * only then does the source mark it seen, move it or rename it. A crash
 * between the two makes the source hand the message over again, and the
 * queue recognises it (same Message-ID / same bytes): nothing lost, nothing
 * handled twice. */

/* rp_source_item.format */
#define RP_ITEM_MIME 0 /* an RFC 5322 message as received */
#define RP_ITEM_JSON 1 /* one JSON object in replyd's JSON Lines format */

typedef struct rp_source_item {
    const char *data;  /* the bytes; need not be NUL-terminated */
    size_t len;
    unsigned format;   /* RP_ITEM_* */
    const char *ref;   /* where it is, for logs and errors: "INBOX uid 4711",
                        * "new/1732…" — no buyer data */
    uint64_t token;    /* the plugin's own handle, given back in ack() */
    int64_t received;  /* when the source got it (IMAP INTERNALDATE, file
                        * mtime), Unix seconds; 0 when unknown */
} rp_source_item;

/* ack() outcome per item */
#define RP_ACK_STORED 0     /* committed to the queue (or there already) */
#define RP_ACK_UNREADABLE 1 /* could not be read as a message: the source sets
                             * it aside (an error folder, say) or at least
                             * never hands it over again */

/* Outcome of poll() and ack(). */
typedef enum rp_source_result {
    RP_SOURCE_OK = 0,
    RP_SOURCE_RETRY = 1, /* failed for now (network, server busy): the host
                          * backs off and calls again later */
    RP_SOURCE_FATAL = 2  /* will not work without a human (login refused,
                          * folder missing): the host backs off longer and
                          * reports it in `replyd status` */
} rp_source_result;

/* Called by poll() for each message. The item is borrowed for the call.
 * Returns 0 to go on, non-zero to stop (the host is shutting down): poll()
 * then returns at once. An item handed over is acknowledged only if the host
 * returned 0 for it. */
typedef int (*rp_source_emit_fn)(void *ctx, const rp_source_item *item);

typedef struct rp_source_ops {
    size_t size;    /* sizeof(rp_source_ops) as the plugin was built */
    unsigned flags; /* none yet: 0 */
    /* Create an instance from its options and the state it last saved (NULL
     * the first time). Unknown or invalid options are an error: return
     * non-zero with a reason in err (errsize >= 256). With host->check_only,
     * check the options and connect to nothing. */
    int (*open)(const rp_plugin_host *host, const rp_plugin_option *opts, size_t nopts,
                const char *state, void **instance, char *err, size_t errsize);
    /* Hand over up to max messages not yet acknowledged, oldest first, through
     * emit. *more is set to 1 when more are waiting (the host calls again
     * soon), else 0. detail (detailsize >= 512) gets the reason for a failure,
     * one line, no buyer data. Messages handed over before a failure still
     * count: the host stores and acknowledges them. */
    rp_source_result (*poll)(void *instance, unsigned max, rp_source_emit_fn emit, void *ctx,
                             int *more, char *detail, size_t detailsize);
    /* The host has committed these items (tokens from this instance's last
     * poll, in the order handed over; outcome[i] is RP_ACK_*): mark them seen,
     * move or rename them, then save the new state through host->save_state.
     * A failure here is retried by handing the messages over again. */
    rp_source_result (*ack)(void *instance, const uint64_t *tokens, const int *outcome, size_t n,
                            char *detail, size_t detailsize);
    /* Release the instance (closing connections). NULL-safe. */
    void (*close)(void *instance);
} rp_source_ops;

typedef struct rp_plugin_info {
    unsigned abi;                /* RP_PLUGIN_ABI */
    const char *name;            /* "smtp" */
    const char *description;     /* one line */
    const rp_sink_ops *sink;     /* NULL when the plugin has no sink */
    const rp_source_ops *source; /* NULL when the plugin has no source */
} rp_plugin_info;

typedef const rp_plugin_info *(*rp_plugin_entry_fn)(void);

/* A plugin defines its entry point with this, so that it stays exported when
 * the plugin is built with hidden visibility:
 *   RP_PLUGIN_EXPORT const rp_plugin_info *rp_plugin_v1(void) { return &info; } */
#define RP_PLUGIN_EXPORT __attribute__((visibility("default")))

#endif
