/* rp_input.h — turn command-line inputs into a stream of messages.
 *
 * An input is a file, a directory or "-" (standard input). Files are read by
 * their extension (.jsonl/.ndjson/.json → JSON Lines, .eml → e-mail) or, when
 * that says nothing, by their first byte ('{' → JSON Lines). A Maildir
 * (a directory with cur/ and new/) yields new/ then cur/, each in the order
 * the file system lists it, one entry at a time (memory stays flat however
 * many messages it holds); other directories are walked in name order
 * (their listing is held and sorted), reading .jsonl and .eml files and
 * descending into subdirectories. Hidden files are skipped.
 *
 * Every message, good or bad, is handed to the callback in input order with
 * its status: the callback owns the message (which may be NULL for an error
 * that concerns no message, e.g. an unreadable directory). Returning non-zero
 * from the callback stops the walk.
 */
#ifndef RP_INPUT_H
#define RP_INPUT_H

#include "rp_error.h"
#include "rp_message.h"
#include "rp_reader.h"

typedef enum rp_format { RP_FORMAT_AUTO = 0, RP_FORMAT_JSONL, RP_FORMAT_EML } rp_format;

/* RP_FORMAT_AUTO for unknown names. */
rp_format rp_format_from_name(const char *name, int *ok);

typedef int (*rp_input_fn)(void *ud, rp_message *m, rp_status st, const rp_error *err);

/* Returns RP_OK once every input was walked (individual failures go to the
 * callback), RP_EUSAGE if the callback stopped the walk. */
rp_status rp_input_walk(const char *const *paths, size_t npaths, rp_format fmt,
                        const rp_limits *lim, rp_input_fn fn, void *ud);

#endif
