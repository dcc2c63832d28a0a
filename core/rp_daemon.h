/* rp_daemon.h — replyd run: sources → queue → sinks, on its own, for days.
 *
 * One thread per configured source polls its plugin (so a slow or failing
 * account never holds up the others) and hands the messages to the main
 * thread, which alone touches the queue and the rules: it stores a batch in
 * one transaction, then lets the source acknowledge exactly the messages
 * that were committed (mark seen, move, rename). Between batches the main
 * thread sends the replies that are due and raises SLA alerts on time.
 *
 * Signals (blocked in every thread, read by the main thread via signalfd):
 *   SIGTERM, SIGINT  finish the message in hand, commit, let the sources
 *                    acknowledge what was committed, exit 0
 *   SIGHUP           reload the configuration file, rules and templates: the
 *                    new set is built completely first; if anything in it
 *                    fails, the error is logged and the old set keeps running
 * A source that fails is retried with exponential backoff (5 s doubling, at
 * most run.backoff_max_seconds; 60 s doubling for errors that need a human).
 *
 * Memory: rp_daemon_run takes ownership of the initial configuration; it
 * borrows the queue and the log. Errors: the return value is an exit status
 * (0 stopped cleanly or --once found no failure, 1 --once saw a source or a
 * delivery fail, 2 the queue failed or the start-up configuration was
 * unusable); reasons go to the log.
 */
#ifndef RP_DAEMON_H
#define RP_DAEMON_H

#include <stdbool.h>

#include "rp_config.h"
#include "rp_log.h"
#include "rp_queue.h"

typedef struct rp_daemon_opts {
    const char *config_path; /* re-read on SIGHUP; NULL = the built-in configuration */
    rp_queue *queue;         /* open and writable */
    rp_log *log;
    bool once;               /* one round: poll every source until it has nothing more,
                              * send what is due, check alerts, exit */
    const char *clock_file;  /* "now" is read from this file (ISO 8601 or Unix seconds)
                              * whenever needed: for tests; NULL = the system clock */
    int log_format, log_level; /* -1 = from the configuration (also after a reload) */
} rp_daemon_opts;

int rp_daemon_run(const rp_daemon_opts *o, rp_config *cfg);

/* Load a configured source's plugin and open it in check-only mode (replyd
 * check): its options are checked, nothing is contacted or changed.
 * RP_ECONFIG names the source and says what is wrong. */
rp_status rp_source_check(const rp_config *cfg, const rp_source_cfg *sc, rp_error *err);

#endif
