/* cli.h — shared pieces of the replyd command-line front end. */
#ifndef RP_CLI_H
#define RP_CLI_H

#define RP_EXIT_OK 0
#define RP_EXIT_PARTIAL 1 /* some messages could not be read */
#define RP_EXIT_USAGE 2   /* usage or configuration error */

#ifndef RP_VERSION
#define RP_VERSION "0.1.0"
#endif

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "rp_buf.h"
#include "rp_config.h"
#include "rp_message.h"

/* The configuration at path, or the built-in one when path is NULL. */
rp_status rp_cli_load_config(const char *path, rp_config **cfg, rp_error *err);
/* After the options of `replyd CMD`: non-zero (the reason on standard
 * error) when an argument is left over. */
int rp_cli_no_args(const char *cmd, int argc, char **argv);
/* After the options of `replyd CMD`: refuse an argument left over (when
 * no_args), then load the configuration. On failure the reason is on standard
 * error ("replyd CMD: ...") and the result is NULL: exit with RP_EXIT_USAGE. */
rp_config *rp_cli_setup(const char *cmd, const char *config_path, int argc, char **argv,
                        bool no_args);
/* The id a message is reported under: its own, else where it came from. */
const char *rp_cli_message_id(const rp_message *m);
/* The error text for a message that could not be read (m may be NULL),
 * naming where it is when its id does not. */
#define RP_CLI_ERROR_MAX (RP_ERROR_MSG_MAX + 600)
void rp_cli_read_error(const rp_message *m, rp_status st, const rp_error *err, char *out,
                       size_t size);
/* Write out to standard output and empty it; non-zero on a write error. */
int rp_cli_flush(rp_buf *out);

/* Open the queue: path, else the configuration's queue.path, else
 * $REPLYD_QUEUE... (path wins, then $REPLYD_QUEUE, then the configuration). */
typedef struct rp_queue rp_queue;
rp_status rp_cli_open_queue(const rp_config *cfg, const char *path, bool read_only,
                            rp_queue **q, rp_error *err);
/* Who is acting: --operator, else $REPLYD_OPERATOR, else the login name. */
const char *rp_cli_operator(const char *given, char *buf, size_t size);
/* Option values: print "replyd CMD: --OPT ..." and return -1 when arg is
 * not an ISO 8601 time / a whole number in min..max. */
int rp_cli_time_arg(const char *cmd, const char *opt, const char *arg, int64_t *out);
int rp_cli_count_arg(const char *cmd, const char *opt, const char *arg, unsigned long min,
                     unsigned long max, unsigned long *out);
/* "2026-11-22 14:03 UTC" */
void rp_cli_format_time(int64_t t, char *buf, size_t size);

/* argv[0] is the command name. Returns an exit status. */
int rp_cmd_classify(int argc, char **argv);
int rp_cmd_process(int argc, char **argv);
int rp_cmd_check(int argc, char **argv);
int rp_cmd_queue(int argc, char **argv);
int rp_cmd_send(int argc, char **argv);
int rp_cmd_stats(int argc, char **argv);
int rp_cmd_export(int argc, char **argv);
int rp_cmd_run(int argc, char **argv);
int rp_cmd_status(int argc, char **argv);

#endif
