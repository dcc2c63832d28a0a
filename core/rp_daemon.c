/* rp_daemon.c — the replyd run loop: source threads, one writer, signals. */
#include "rp_daemon.h"

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <time.h>
#include <unistd.h>

#include "plugin.h"
#include "rp_buf.h"
#include "rp_deliver.h"
#include "rp_engine.h"
#include "rp_intake.h"
#include "rp_jsonl.h"
#include "rp_mail.h"
#include "rp_plugin.h"
#include "rp_runstate.h"
#include "rp_sla.h"

#define SEND_PER_ROUND 50 /* replies sent before intake and signals get a look again */

typedef struct item {
    char *data;
    size_t len;
    unsigned format;
    char *ref;
    uint64_t token;
    int64_t received;
    int outcome; /* RP_ACK_* */
} item;

enum phase { IDLE, READY, DONE };

typedef struct rp_daemon rp_daemon;

typedef struct src {
    rp_daemon *d;
    const rp_source_cfg *cfg;
    void *handle;
    const rp_source_ops *ops;
    void *inst;
    rp_plugin_host host;
    pthread_t thread;
    bool started;
    atomic_int stop;
    /* under d->lock: */
    item *items;
    size_t nitems, cap;
    size_t processed; /* items [0, processed) are committed; set with phase DONE */
    enum phase phase;
    bool finished;    /* the thread has ended */
    char *state;      /* saved by the plugin, not yet in the queue file */
    bool dirty;
    rp_source_status st;
    char last_error[512];
    int last_result;  /* rp_source_result of the last poll/ack */
} src;

typedef struct gen {
    rp_config *cfg;
    rp_engine *eng;
    rp_sinks *sinks;
    rp_deliverer *dlv;
    src *srcs;
    size_t nsrcs;
} gen;

struct rp_daemon {
    const rp_daemon_opts *o;
    rp_log *log;
    rp_queue *q;
    gen *g;
    pthread_mutex_t lock;
    pthread_cond_t cond; /* CLOCK_MONOTONIC */
    int wake[2];         /* source threads → main thread */
    int sigfd;
    bool stopping;
    bool fatal;
    bool failures; /* --once: a source or a delivery failed */
    unsigned seed;
};

/* ---- clocks ------------------------------------------------------------------- */

static int64_t mono_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (int64_t)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

/* The daemon's "now": the system clock, or the clock file (tests). */
static int64_t now_s(rp_daemon *d)
{
    if (!d->o->clock_file)
        return (int64_t)time(NULL);
    char buf[128] = "";
    FILE *f = fopen(d->o->clock_file, "r");
    size_t n = f ? fread(buf, 1, sizeof buf - 1, f) : 0;
    if (f)
        fclose(f);
    buf[n] = '\0';
    while (n && (buf[n - 1] == '\n' || buf[n - 1] == ' ' || buf[n - 1] == '\r'))
        buf[--n] = '\0';
    int64_t t;
    char *end;
    long long v = strtoll(buf, &end, 10);
    if (n && *end == '\0')
        return v;
    if (n && rp_parse_iso8601(buf, &t) == RP_OK)
        return t;
    rp_log_event(d->log, RP_LOG_ERROR, "clock_file_unreadable", "path", d->o->clock_file, NULL);
    return (int64_t)time(NULL);
}

static void wake_main(rp_daemon *d)
{
    char c = 1;
    ssize_t w = write(d->wake[1], &c, 1);
    (void)w; /* a full pipe already wakes the main thread */
}

/* ---- host callbacks for source plugins (any thread) ------------------------------ */

static void src_log(void *ctx, int level, const char *msg)
{
    src *s = ctx;
    rp_log_event(s->d->log, level, "plugin", "source", s->cfg->name, "plugin", s->cfg->plugin,
                 "msg", msg ? msg : "", NULL);
}

static void src_save_state(void *ctx, const char *state)
{
    src *s = ctx;
    char *copy = rp_strdup(state ? state : "");
    pthread_mutex_lock(&s->d->lock);
    if (copy) {
        free(s->state);
        s->state = copy;
        s->dirty = true;
    }
    pthread_mutex_unlock(&s->d->lock);
    if (!copy)
        rp_log_event(s->d->log, RP_LOG_ERROR, "out_of_memory", "source", s->cfg->name, NULL);
}

static int src_stopping(void *ctx)
{
    src *s = ctx;
    return atomic_load(&s->stop);
}

static int src_emit(void *ctx, const rp_source_item *it)
{
    src *s = ctx;
    if (atomic_load(&s->stop))
        return 1;
    if (s->nitems == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 64;
        item *n = realloc(s->items, cap * sizeof *n);
        if (!n)
            return 1;
        s->items = n;
        s->cap = cap;
    }
    item *x = &s->items[s->nitems];
    memset(x, 0, sizeof *x);
    x->data = malloc(it->len + 1);
    x->ref = rp_strdup(it->ref ? it->ref : "?");
    if (!x->data || !x->ref) {
        free(x->data);
        free(x->ref);
        return 1;
    }
    memcpy(x->data, it->data, it->len);
    x->data[it->len] = '\0';
    x->len = it->len;
    x->format = it->format;
    x->token = it->token;
    x->received = it->received;
    s->nitems++;
    return 0;
}

/* ---- source threads ---------------------------------------------------------------- */

static void free_items(src *s)
{
    for (size_t i = 0; i < s->nitems; i++) {
        free(s->items[i].data);
        free(s->items[i].ref);
    }
    s->nitems = 0;
}

static const char *result_word(int r)
{
    return r == RP_SOURCE_OK ? "ok" : r == RP_SOURCE_RETRY ? "retry" : "fatal";
}

/* Seconds to wait after `failures` failed polls in a row. */
static int64_t backoff(rp_daemon *d, unsigned failures, bool fatal, unsigned *seed)
{
    double base = fatal ? 60 : 5, max = d->g->cfg->backoff_max_seconds;
    double t = base;
    for (unsigned i = 1; i < failures && t < max; i++)
        t *= 2;
    if (t > max)
        t = max;
    return (int64_t)(t * (0.8 + 0.4 * ((double)rand_r(seed) / RAND_MAX)) + 0.5);
}

static void *src_thread(void *arg)
{
    src *s = arg;
    rp_daemon *d = s->d;
    unsigned batch = d->g->cfg->run_batch;
    unsigned seed = d->seed ^ (unsigned)(uintptr_t)s;
    int64_t next = mono_ms();
    for (;;) {
        pthread_mutex_lock(&d->lock);
        while (!atomic_load(&s->stop) && mono_ms() < next) {
            int64_t at = next;
            struct timespec ts = {.tv_sec = at / 1000, .tv_nsec = (at % 1000) * 1000000};
            pthread_cond_timedwait(&d->cond, &d->lock, &ts);
        }
        pthread_mutex_unlock(&d->lock);
        if (atomic_load(&s->stop))
            break;

        int more = 0;
        char detail[1024] = "";
        rp_source_result r = s->ops->poll(s->inst, batch, src_emit, s, &more, detail,
                                          sizeof detail);
        detail[sizeof detail - 1] = '\0';
        if ((unsigned)r > RP_SOURCE_FATAL)
            r = RP_SOURCE_RETRY;
        int64_t t = now_s(d);
        size_t fetched = s->nitems, committed = 0;
        if (s->nitems) {
            pthread_mutex_lock(&d->lock);
            s->processed = 0;
            s->phase = READY;
            pthread_mutex_unlock(&d->lock);
            wake_main(d);
            pthread_mutex_lock(&d->lock);
            while (s->phase != DONE)
                pthread_cond_wait(&d->cond, &d->lock);
            committed = s->processed;
            s->phase = IDLE;
            pthread_mutex_unlock(&d->lock);
        }
        rp_source_result a = RP_SOURCE_OK;
        char adetail[1024] = "";
        if (committed) {
            uint64_t *tokens = malloc(committed * sizeof *tokens);
            int *outcome = malloc(committed * sizeof *outcome);
            if (tokens && outcome) {
                for (size_t i = 0; i < committed; i++) {
                    tokens[i] = s->items[i].token;
                    outcome[i] = s->items[i].outcome;
                }
                a = s->ops->ack(s->inst, tokens, outcome, committed, adetail, sizeof adetail);
                adetail[sizeof adetail - 1] = '\0';
                if ((unsigned)a > RP_SOURCE_FATAL)
                    a = RP_SOURCE_RETRY;
            } else {
                a = RP_SOURCE_RETRY;
                snprintf(adetail, sizeof adetail, "out of memory");
            }
            free(tokens);
            free(outcome);
        }
        free_items(s);
        bool failed = r != RP_SOURCE_OK || a != RP_SOURCE_OK;
        int worst = r > a ? r : a;
        pthread_mutex_lock(&d->lock);
        s->st.last_poll = t;
        s->st.fetched += (int64_t)fetched;
        s->last_result = worst;
        if (failed) {
            s->st.failures++;
            /* the plugin's reasons, cut to fit (they are one line each) */
            snprintf(s->last_error, sizeof s->last_error, "%.250s%s%.250s",
                     r != RP_SOURCE_OK ? (detail[0] ? detail : "poll failed") : "",
                     r != RP_SOURCE_OK && a != RP_SOURCE_OK ? "; " : "",
                     a != RP_SOURCE_OK ? (adetail[0] ? adetail : "acknowledging failed") : "");
            s->st.last_error_at = t;
        } else {
            s->st.failures = 0;
            s->st.last_ok = t;
        }
        unsigned failures = s->st.failures;
        int64_t wait_s = failed ? backoff(d, failures, worst == RP_SOURCE_FATAL, &seed)
                         : more ? 0
                                : (int64_t)s->cfg->poll_seconds;
        s->st.next_poll = t + wait_s;
        s->dirty = true;
        pthread_mutex_unlock(&d->lock);
        if (failed)
            rp_log_event(d->log, RP_LOG_WARN, "poll_failed", "source", s->cfg->name, "result",
                         result_word(worst), "error", s->last_error, "#failures",
                         (int64_t)failures, "#retry_in", wait_s, NULL);
        else
            rp_log_event(d->log, RP_LOG_DEBUG, "polled", "source", s->cfg->name, "#fetched",
                         (int64_t)fetched, "#acknowledged", (int64_t)committed, "#more",
                         (int64_t)more, NULL);
        wake_main(d); /* status and state to persist */
        if (d->o->once && (failed || !more))
            break;
        next = mono_ms() + wait_s * 1000;
    }
    pthread_mutex_lock(&d->lock);
    s->finished = true;
    pthread_mutex_unlock(&d->lock);
    wake_main(d);
    return NULL;
}

/* ---- generations: a configuration and everything built from it -------------------- */

static void report_delivery(void *ud, const char *what, int64_t id, const char *detail)
{
    rp_daemon *d = ud;
    int level = strcmp(what, "sent") == 0 ? RP_LOG_INFO : RP_LOG_WARN;
    rp_log_event(d->log, level, what, "#reply", id, "detail", detail, NULL);
    if (strcmp(what, "failed") == 0 || strcmp(what, "attention") == 0)
        d->failures = true;
}

static void sink_log(void *ctx, int level, const char *msg)
{
    rp_daemon *d = ctx;
    rp_log_event(d->log, level, "plugin", "msg", msg, NULL);
}

static rp_status open_source(const rp_config *cfg, const rp_source_cfg *sc, src *s,
                             const rp_plugin_host *host, const char *state, rp_error *err)
{
    const rp_plugin_info *info;
    rp_error why;
    rp_status st = rp_plugin_load(cfg, sc->plugin, &s->handle, &info, &why);
    if (st != RP_OK)
        return rp_error_set(err, st, "source '%s': %s", sc->name, why.msg);
    if (!info->source || info->source->size < sizeof(rp_source_ops))
        return rp_error_set(err, RP_ECONFIG, "source '%s': plugin '%s' has no source", sc->name,
                            sc->plugin);
    s->ops = info->source;
    rp_plugin_option *opts = calloc(sc->nopts + 1, sizeof *opts);
    if (!opts)
        return rp_error_set(err, RP_ENOMEM, "out of memory");
    for (size_t i = 0; i < sc->nopts; i++) {
        opts[i].key = sc->keys[i];
        opts[i].value = sc->values[i];
    }
    char reason[512] = "";
    int rc = s->ops->open(host, opts, sc->nopts, state, &s->inst, reason, sizeof reason);
    free(opts);
    reason[sizeof reason - 1] = '\0';
    if (rc != 0) {
        s->inst = NULL;
        return rp_error_set(err, RP_ECONFIG, "source '%s' (plugin %s): %s", sc->name, sc->plugin,
                            reason[0] ? reason : "cannot open");
    }
    return RP_OK;
}

static void close_source(src *s)
{
    if (s->inst)
        s->ops->close(s->inst);
    s->inst = NULL;
    if (s->handle)
        dlclose(s->handle);
    s->handle = NULL;
    free_items(s);
    free(s->items);
    s->items = NULL;
    free(s->state);
    s->state = NULL;
}

static void gen_free(gen *g)
{
    if (!g)
        return;
    for (size_t i = 0; i < g->nsrcs; i++)
        close_source(&g->srcs[i]);
    free(g->srcs);
    rp_deliverer_free(g->dlv);
    rp_sinks_free(g->sinks);
    if (g->eng)
        rp_engine_set_history(g->eng, NULL);
    rp_engine_free(g->eng);
    rp_config_free(g->cfg);
    free(g);
}

/* Build everything from cfg (taking it over); NULL and *err on failure. */
static gen *gen_new(rp_daemon *d, rp_config *cfg, rp_error *err)
{
    gen *g = calloc(1, sizeof *g);
    if (!g) {
        rp_config_free(cfg);
        rp_error_set(err, RP_ENOMEM, "out of memory");
        return NULL;
    }
    g->cfg = cfg;
    rp_status st = rp_engine_new(cfg, &g->eng, err);
    if (st == RP_OK) {
        rp_engine_set_history(g->eng, rp_queue_history(d->q));
        st = rp_sinks_new(cfg, "replyd run", &g->sinks, err);
    }
    if (st == RP_OK) {
        rp_sinks_set_log(g->sinks, sink_log, d);
        if (cfg->sink)
            st = rp_deliverer_new(cfg, d->q, g->sinks, cfg->sink, report_delivery, d, &g->dlv,
                                  err);
    }
    if (st == RP_OK && cfg->alert_sink) {
        rp_sink *k;
        st = rp_sinks_get(g->sinks, cfg->alert_sink, &k, err);
    }
    if (st == RP_OK && !(g->srcs = calloc(cfg->nsources + 1, sizeof *g->srcs)))
        st = rp_error_set(err, RP_ENOMEM, "out of memory");
    for (size_t i = 0; st == RP_OK && i < cfg->nsources; i++) {
        src *s = &g->srcs[i];
        s->d = d;
        s->cfg = &cfg->sources[i];
        s->st.name = s->cfg->name;
        s->st.plugin = s->cfg->plugin;
        s->host = (rp_plugin_host){.abi = RP_PLUGIN_ABI,
                                   .ctx = s,
                                   .log = src_log,
                                   .base_dir = cfg->base_dir ? cfg->base_dir : ".",
                                   .save_state = src_save_state,
                                   .stopping = src_stopping};
        g->nsrcs++;
        char *state = NULL;
        st = rp_runstate_load(d->q, s->cfg->name, &state, err);
        if (st == RP_OK)
            st = open_source(cfg, s->cfg, s, &s->host, state, err);
        free(state);
    }
    if (st != RP_OK) {
        gen_free(g);
        return NULL;
    }
    return g;
}

/* Stop the source threads of g: they finish their poll, get their batch
 * stored (process_ready keeps serving them), acknowledge, and end. */
static void process_ready(rp_daemon *d);
static void persist_status(rp_daemon *d);

static void stop_sources(rp_daemon *d)
{
    gen *g = d->g;
    for (size_t i = 0; i < g->nsrcs; i++)
        atomic_store(&g->srcs[i].stop, 1);
    pthread_mutex_lock(&d->lock);
    pthread_cond_broadcast(&d->cond);
    pthread_mutex_unlock(&d->lock);
    for (;;) {
        bool alive = false;
        pthread_mutex_lock(&d->lock);
        for (size_t i = 0; i < g->nsrcs; i++)
            if (g->srcs[i].started && !g->srcs[i].finished)
                alive = true;
        pthread_mutex_unlock(&d->lock);
        process_ready(d); /* a batch in hand is stored (or handed back) */
        if (!alive)
            break;
        struct pollfd p = {.fd = d->wake[0], .events = POLLIN};
        if (poll(&p, 1, 100) > 0) {
            char buf[256];
            while (read(d->wake[0], buf, sizeof buf) > 0) {
            }
        }
    }
    for (size_t i = 0; i < g->nsrcs; i++)
        if (g->srcs[i].started) {
            pthread_join(g->srcs[i].thread, NULL);
            g->srcs[i].started = false;
        }
    persist_status(d);
}

static bool start_sources(rp_daemon *d, rp_error *err)
{
    gen *g = d->g;
    for (size_t i = 0; i < g->nsrcs; i++) {
        src *s = &g->srcs[i];
        int rc = pthread_create(&s->thread, NULL, src_thread, s);
        if (rc != 0) {
            rp_error_set(err, RP_ENOMEM, "cannot start a thread for source '%s': %s",
                         s->cfg->name, strerror(rc));
            return false;
        }
        s->started = true;
    }
    return true;
}

/* ---- the main thread's work ------------------------------------------------------ */

static bool term_pending(void)
{
    sigset_t p;
    if (sigpending(&p) != 0)
        return false;
    return sigismember(&p, SIGTERM) == 1 || sigismember(&p, SIGINT) == 1;
}

static void persist_status(rp_daemon *d)
{
    gen *g = d->g;
    for (size_t i = 0; i < g->nsrcs; i++) {
        src *s = &g->srcs[i];
        pthread_mutex_lock(&d->lock);
        if (!s->dirty) {
            pthread_mutex_unlock(&d->lock);
            continue;
        }
        rp_source_status x = s->st;
        char *state = s->state;
        char errbuf[512];
        snprintf(errbuf, sizeof errbuf, "%s", s->last_error);
        x.last_error = s->st.last_error_at ? errbuf : NULL;
        s->state = NULL;
        s->dirty = false;
        s->st.fetched = s->st.stored = s->st.unreadable = 0; /* deltas */
        pthread_mutex_unlock(&d->lock);
        x.state = state;
        rp_error err;
        if (rp_runstate_save(d->q, &x, &err) != RP_OK) {
            rp_log_event(d->log, RP_LOG_ERROR, "queue_error", "error", err.msg, NULL);
            d->fatal = true;
        }
        free(state);
    }
}

/* Parse one item into a message; NULL and a reason when it cannot be read. */
static rp_message *read_item(rp_daemon *d, src *s, const item *x, char *why, size_t whysize)
{
    char where[600];
    snprintf(where, sizeof where, "%s:%s", s->cfg->name, x->ref);
    rp_message *m = NULL;
    rp_error err;
    rp_error_clear(&err);
    rp_status st = x->format == RP_ITEM_JSON
                       ? rp_jsonl_parse(x->data, x->len, where, &m, &err)
                       : rp_mail_parse(x->data, x->len, where, &d->g->cfg->limits, &m, &err);
    if (st != RP_OK || !m) {
        snprintf(why, whysize, "%s", err.msg[0] ? err.msg : rp_strerror(st));
        rp_message_free(m);
        return NULL;
    }
    if (!m->marketplace && s->cfg->marketplace &&
        rp_message_set(&m->marketplace, s->cfg->marketplace) != RP_OK) {
        snprintf(why, whysize, "out of memory");
        rp_message_free(m);
        return NULL;
    }
    if (m->received_at == RP_TIME_UNKNOWN && x->received > 0)
        m->received_at = x->received;
    return m;
}

/* Store the batch a source handed over: one transaction. */
static void process_source(rp_daemon *d, src *s)
{
    gen *g = d->g;
    rp_error err;
    size_t done = 0, stored = 0, unreadable = 0;
    bool ok = rp_queue_begin(d->q, &err) == RP_OK;
    int64_t now = now_s(d);
    for (size_t i = 0; ok && i < s->nitems; i++) {
        if (i > 0 && term_pending())
            break; /* the message in hand is finished; the rest is fetched again */
        item *x = &s->items[i];
        char why[RP_ERROR_MSG_MAX + 64] = "";
        rp_message *m = read_item(d, s, x, why, sizeof why);
        if (!m) {
            x->outcome = RP_ACK_UNREADABLE;
            unreadable++;
            rp_log_event(d->log, RP_LOG_ERROR, "unreadable", "source", s->cfg->name, "ref",
                         x->ref, "error", why, NULL);
            if (rp_runstate_unreadable(d->q, s->cfg->name, x->ref, why, now, &err) != RP_OK)
                ok = false;
            else
                done++;
            continue;
        }
        rp_decision dec;
        rp_intake_result r;
        if (rp_intake_store(g->eng, g->cfg, d->q, m, now, &dec, &r, &err) != RP_OK) {
            rp_message_free(m);
            ok = false;
            break;
        }
        x->outcome = RP_ACK_STORED;
        done++;
        if (r.duplicate)
            rp_log_event(d->log, RP_LOG_INFO, "duplicate", "source", s->cfg->name, "ref", x->ref,
                         NULL);
        else {
            stored++;
            rp_log_event(d->log, RP_LOG_INFO, "stored", "source", s->cfg->name, "ref", x->ref,
                         "#inbound", r.inbound, "marketplace", m->marketplace, "language",
                         dec.language, "intent", dec.intent, "#automatic", (int64_t)r.automatic,
                         "#approval", (int64_t)r.pending, "suppressed", dec.suppressed, NULL);
        }
        rp_message_free(m);
    }
    if (ok && rp_queue_commit(d->q, &err) != RP_OK)
        ok = false;
    if (!ok) {
        rp_queue_rollback(d->q);
        rp_log_event(d->log, RP_LOG_ERROR, "queue_error", "source", s->cfg->name, "error",
                     err.msg, NULL);
        d->fatal = true;
        done = stored = unreadable = 0;
    }
    pthread_mutex_lock(&d->lock);
    s->processed = done;
    s->phase = DONE;
    s->st.stored += (int64_t)stored;
    s->st.unreadable += (int64_t)unreadable;
    s->dirty = true;
    pthread_cond_broadcast(&d->cond);
    pthread_mutex_unlock(&d->lock);
}

static void process_ready(rp_daemon *d)
{
    gen *g = d->g;
    for (size_t i = 0; i < g->nsrcs; i++) {
        src *s = &g->srcs[i];
        pthread_mutex_lock(&d->lock);
        bool ready = s->phase == READY;
        pthread_mutex_unlock(&d->lock);
        if (!ready)
            continue;
        if (d->fatal || d->stopping) { /* hand it back unstored: fetched again later */
            pthread_mutex_lock(&d->lock);
            s->processed = 0;
            s->phase = DONE;
            pthread_cond_broadcast(&d->cond);
            pthread_mutex_unlock(&d->lock);
        } else
            process_source(d, s);
    }
}

/* Send what is due, at most `max` replies; returns the number handled. */
static size_t send_due(rp_daemon *d, size_t max)
{
    gen *g = d->g;
    if (!g->dlv || d->fatal)
        return 0;
    size_t n = 0;
    for (; n < max && !term_pending(); n++) {
        bool got = false;
        rp_error err;
        if (rp_deliver_next(g->dlv, now_s(d), &got, &err) != RP_OK) {
            rp_log_event(d->log, RP_LOG_ERROR, "queue_error", "error", err.msg, NULL);
            d->fatal = true;
            break;
        }
        if (!got)
            break;
    }
    return n;
}

static int alert_deliver(void *ud, const rp_outgoing *alert, char *detail, size_t size)
{
    rp_daemon *d = ud;
    rp_sink *k;
    rp_error err;
    rp_error_clear(&err);
    if (rp_sinks_get(d->g->sinks, d->g->cfg->alert_sink, &k, &err) != RP_OK) {
        snprintf(detail, size, "%s", err.msg[0] ? err.msg : "sink not available");
        return 1;
    }
    return rp_sink_send(k, alert, detail, size) == RP_SEND_OK ? 0 : 1;
}

/* An SLA alert as an event: its pairs become the event's fields. */
static void alert_log(void *ud, int level, const char *const *keys, const char *const *vals,
                      size_t n)
{
    rp_daemon *d = ud;
    static const char *const free_text[] = {"error", "msg", NULL}; /* a sink's answer */
    rp_log_fields(d->log, level, "sla_alert", keys, vals, n, free_text);
}

static void check_alerts(rp_daemon *d)
{
    gen *g = d->g;
    int64_t now = now_s(d);
    unsigned expired = 0;
    rp_error err;
    rp_sla_alert_counts counts = {0};
    rp_status st = rp_queue_expire(d->q, now, (int64_t)g->cfg->sla_hours * 3600, &expired, &err);
    if (st == RP_OK)
        st = rp_sla_alerts(rp_queue_db(d->q), now, g->cfg, g->cfg->alert_sink ? alert_deliver : NULL,
                           d, alert_log, d, &counts, &err);
    if (st != RP_OK) {
        rp_log_event(d->log, RP_LOG_ERROR, "queue_error", "error", err.msg, NULL);
        d->fatal = true;
    }
    if (expired)
        rp_log_event(d->log, RP_LOG_INFO, "expired", "#acknowledgements", (int64_t)expired, NULL);
    if (counts.failed)
        rp_log_event(d->log, RP_LOG_WARN, "alert_delivery_failed", "#alerts",
                     (int64_t)counts.failed, NULL);
}

/* queue.retention_days: buyer texts and addresses go, figures stay. */
static void purge_old(rp_daemon *d)
{
    int64_t now = now_s(d);
    unsigned n = 0;
    rp_error err;
    if (rp_queue_purge(d->q, now - (int64_t)d->g->cfg->retention_days * 86400, now, &n, &err) !=
        RP_OK) {
        rp_log_event(d->log, RP_LOG_ERROR, "queue_error", "error", err.msg, NULL);
        d->fatal = true;
        return;
    }
    if (n)
        rp_log_event(d->log, RP_LOG_INFO, "purged", "#messages", (int64_t)n, "#retention_days",
                     (int64_t)d->g->cfg->retention_days, NULL);
}

static void recover_sends(rp_daemon *d)
{
    if (!d->g->dlv)
        return;
    unsigned requeued, flagged, expired;
    rp_error err;
    if (rp_deliver_recover(d->g->dlv, now_s(d), &requeued, &flagged, &expired, &err) != RP_OK) {
        rp_log_event(d->log, RP_LOG_ERROR, "queue_error", "error", err.msg, NULL);
        d->fatal = true;
        return;
    }
    if (requeued || flagged)
        rp_log_event(d->log, RP_LOG_WARN, "interrupted_sends", "#retried", (int64_t)requeued,
                     "#flagged", (int64_t)flagged, NULL);
}

static void apply_log_settings(rp_daemon *d)
{
    const rp_config *c = d->g->cfg;
    rp_log_set(d->log,
               d->o->log_format >= 0 ? (rp_log_format)d->o->log_format
                                     : (rp_log_format)c->log_format,
               d->o->log_level >= 0 ? d->o->log_level : (int)c->log_level);
}

static rp_config *load_config(rp_daemon *d, rp_error *err)
{
    rp_config *c = NULL;
    rp_status st = d->o->config_path ? rp_config_load_file(d->o->config_path, &c, err)
                                     : rp_config_load_default(&c, err);
    return st == RP_OK ? c : NULL;
}

static void reload(rp_daemon *d)
{
    rp_error err;
    rp_config *c = load_config(d, &err);
    gen *ng = c ? gen_new(d, c, &err) : NULL;
    if (!ng) {
        rp_log_event(d->log, RP_LOG_ERROR, "reload_failed", "error", err.msg, "keeping",
                     "the running configuration", NULL);
        return;
    }
    const char *oldq = d->g->cfg->queue_path, *newq = ng->cfg->queue_path;
    if ((oldq || newq) && (!oldq || !newq || strcmp(oldq, newq) != 0))
        rp_log_event(d->log, RP_LOG_WARN, "reload_queue_path",
                     "msg", "queue.path changed: it takes effect at the next restart", NULL);
    stop_sources(d);
    gen *old = d->g;
    d->g = ng;
    gen_free(old);
    apply_log_settings(d);
    recover_sends(d);
    if (!start_sources(d, &err)) {
        rp_log_event(d->log, RP_LOG_ERROR, "start_failed", "error", err.msg, NULL);
        d->fatal = true;
        return;
    }
    rp_log_event(d->log, RP_LOG_INFO, "reloaded", "config",
                 d->o->config_path ? d->o->config_path : "(built-in)", "#sources",
                 (int64_t)ng->nsrcs, NULL);
}

static bool all_sources_finished(rp_daemon *d)
{
    bool all = true;
    pthread_mutex_lock(&d->lock);
    for (size_t i = 0; i < d->g->nsrcs; i++)
        if (!d->g->srcs[i].finished || d->g->srcs[i].phase == READY)
            all = false;
    pthread_mutex_unlock(&d->lock);
    return all;
}

static bool any_source_failed(rp_daemon *d)
{
    bool bad = false;
    pthread_mutex_lock(&d->lock);
    for (size_t i = 0; i < d->g->nsrcs; i++)
        if (d->g->srcs[i].last_result != RP_SOURCE_OK)
            bad = true;
    pthread_mutex_unlock(&d->lock);
    return bad;
}

static int main_loop(rp_daemon *d)
{
    int64_t next_alert = mono_ms(), next_purge = mono_ms();
    for (;;) {
        /* 1. signals */
        struct signalfd_siginfo si;
        bool hup = false;
        while (read(d->sigfd, &si, sizeof si) == (ssize_t)sizeof si) {
            if (si.ssi_signo == SIGHUP)
                hup = true;
            else
                d->stopping = true;
        }
        if (d->stopping) {
            rp_log_event(d->log, RP_LOG_INFO, "stopping", NULL);
            break;
        }
        if (hup)
            reload(d);
        /* 2. messages the sources handed over */
        process_ready(d);
        persist_status(d);
        if (d->fatal)
            break;
        /* 3. replies that are due */
        size_t sent = send_due(d, SEND_PER_ROUND);
        /* 4. SLA alerts on time */
        if (!d->o->once && mono_ms() >= next_alert) {
            check_alerts(d);
            next_alert = mono_ms() + (int64_t)d->g->cfg->alert_every_seconds * 1000;
        }
        /* 5. retention, once a day (and at start) */
        if (!d->o->once && mono_ms() >= next_purge) {
            purge_old(d);
            next_purge = mono_ms() + 86400 * 1000;
        }
        if (d->fatal)
            break;
        if (d->o->once && all_sources_finished(d)) {
            while (!d->fatal && !term_pending() && send_due(d, SEND_PER_ROUND) == SEND_PER_ROUND) {
            }
            check_alerts(d);
            persist_status(d);
            break;
        }
        if (sent == SEND_PER_ROUND)
            continue; /* more may be due: look at signals and intake, then go on */
        /* 6. wait for a source, a signal, the next due reply or the next alert check */
        int64_t wait_ms = next_alert - mono_ms();
        if (d->g->dlv) {
            int64_t due;
            rp_error err;
            if (rp_queue_next_due(d->q, &due, &err) == RP_OK && due != RP_TIME_UNKNOWN) {
                int64_t in = (due - now_s(d)) * 1000;
                if (in < wait_ms)
                    wait_ms = in;
            }
        }
        if (d->o->clock_file && wait_ms > 1000)
            wait_ms = 1000; /* a test may move the clock */
        if (wait_ms < 0)
            wait_ms = 0;
        if (wait_ms > 60000)
            wait_ms = 60000;
        struct pollfd p[2] = {{.fd = d->sigfd, .events = POLLIN},
                              {.fd = d->wake[0], .events = POLLIN}};
        int rc = poll(p, 2, (int)wait_ms);
        if (rc < 0 && errno != EINTR) {
            rp_log_event(d->log, RP_LOG_ERROR, "poll_error", "error", strerror(errno), NULL);
            d->fatal = true;
            break;
        }
        if (rc > 0 && (p[1].revents & POLLIN)) {
            char buf[256];
            while (read(d->wake[0], buf, sizeof buf) > 0) {
            }
        }
    }
    stop_sources(d);
    if (d->fatal)
        return 2;
    if (d->o->once && (d->failures || any_source_failed(d)))
        return 1;
    return 0;
}

static int set_flags(int fd)
{
    int fl = fcntl(fd, F_GETFL);
    return fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0 || fcntl(fd, F_SETFD, FD_CLOEXEC) < 0;
}

int rp_daemon_run(const rp_daemon_opts *o, rp_config *cfg)
{
    rp_daemon dd = {.o = o, .log = o->log, .q = o->queue, .sigfd = -1, .wake = {-1, -1}};
    rp_daemon *d = &dd;
    d->seed = (unsigned)time(NULL) ^ (unsigned)getpid();
    int rc = 2;
    bool locked = false, condok = false;
    sigset_t mask, old;
    sigemptyset(&mask);
    sigaddset(&mask, SIGTERM);
    sigaddset(&mask, SIGINT);
    sigaddset(&mask, SIGHUP);
    /* blocked before any thread starts, so every thread inherits it */
    if (pthread_sigmask(SIG_BLOCK, &mask, &old) != 0) {
        rp_config_free(cfg);
        return 2;
    }
    pthread_condattr_t ca;
    if (pthread_mutex_init(&d->lock, NULL) == 0) {
        locked = true;
        if (pthread_condattr_init(&ca) == 0) {
            condok = pthread_condattr_setclock(&ca, CLOCK_MONOTONIC) == 0 &&
                     pthread_cond_init(&d->cond, &ca) == 0;
            pthread_condattr_destroy(&ca);
        }
    }
    if (!locked || !condok || pipe(d->wake) != 0 || set_flags(d->wake[0]) ||
        set_flags(d->wake[1]) ||
        (d->sigfd = signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC)) < 0) {
        rp_log_event(d->log, RP_LOG_ERROR, "start_failed", "error", strerror(errno), NULL);
        rp_config_free(cfg);
        goto out;
    }
    rp_error err;
    if (!(d->g = gen_new(d, cfg, &err))) {
        rp_log_event(d->log, RP_LOG_ERROR, "start_failed", "error", err.msg, NULL);
        goto out;
    }
    apply_log_settings(d);
    if (!d->g->dlv)
        rp_log_event(d->log, RP_LOG_WARN, "no_sink",
                     "msg", "delivery.sink is not set: replies are stored, none is sent", NULL);
    if (!d->g->nsrcs)
        rp_log_event(d->log, RP_LOG_WARN, "no_sources",
                     "msg", "no sources are configured: nothing is fetched", NULL);
    recover_sends(d);
    rp_log_event(d->log, RP_LOG_INFO, "started", "config",
                 o->config_path ? o->config_path : "(built-in)", "queue", rp_queue_path(d->q),
                 "#sources", (int64_t)d->g->nsrcs, "sink", d->g->cfg->sink, "mode",
                 o->once ? "once" : "daemon", NULL);
    if (!start_sources(d, &err)) {
        rp_log_event(d->log, RP_LOG_ERROR, "start_failed", "error", err.msg, NULL);
        stop_sources(d);
        goto out;
    }
    rc = main_loop(d);
    rp_log_event(d->log, rc == 2 ? RP_LOG_ERROR : RP_LOG_INFO, "stopped", "#status", (int64_t)rc,
                 NULL);
out:
    gen_free(d->g);
    if (d->sigfd >= 0)
        close(d->sigfd);
    if (d->wake[0] >= 0) {
        close(d->wake[0]);
        close(d->wake[1]);
    }
    if (condok)
        pthread_cond_destroy(&d->cond);
    if (locked)
        pthread_mutex_destroy(&d->lock);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    return rc;
}

static void check_log(void *ctx, int level, const char *msg)
{
    const src *s = ctx;
    rp_buf b = {0};
    if (level <= RP_LOG_WARN && rp_redact(msg ? msg : "", &b) == RP_OK &&
        rp_buf_append_char(&b, '\0') == RP_OK)
        fprintf(stderr, "source '%s': %s\n", s->cfg->name, b.data);
    rp_buf_free(&b);
}

static void check_save_state(void *ctx, const char *state)
{
    (void)ctx;
    (void)state; /* nothing is saved while checking */
}

static int check_stopping(void *ctx)
{
    (void)ctx;
    return 0;
}

rp_status rp_source_check(const rp_config *cfg, const rp_source_cfg *sc, rp_error *err)
{
    src s;
    memset(&s, 0, sizeof s);
    s.cfg = sc;
    rp_plugin_host host = {.abi = RP_PLUGIN_ABI,
                           .ctx = &s,
                           .log = check_log,
                           .base_dir = cfg->base_dir ? cfg->base_dir : ".",
                           .check_only = 1,
                           .save_state = check_save_state,
                           .stopping = check_stopping};
    rp_status st = open_source(cfg, sc, &s, &host, NULL, err);
    close_source(&s);
    return st;
}
