/* cli_common.c — pieces every command of the front end shares. */
#include <errno.h>
#include <pwd.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "rp_queue.h"

rp_status rp_cli_load_config(const char *path, rp_config **cfg, rp_error *err)
{
    rp_error_clear(err);
    return path ? rp_config_load_file(path, cfg, err) : rp_config_load_default(cfg, err);
}

const char *rp_cli_message_id(const rp_message *m)
{
    return m && m->id ? m->id : (m && m->source ? m->source : "-");
}

void rp_cli_read_error(const rp_message *m, rp_status st, const rp_error *err, char *out,
                       size_t size)
{
    const char *msg = err && err->msg[0] ? err->msg : rp_strerror(st);
    /* name where the message is when its id does not say it */
    if (m && m->source && strcmp(m->source, rp_cli_message_id(m)) != 0)
        snprintf(out, size, "%.500s: %s", m->source, msg);
    else
        snprintf(out, size, "%s", msg);
}

int rp_cli_flush(rp_buf *out)
{
    int bad = out->len && fwrite(out->data, 1, out->len, stdout) != out->len;
    rp_buf_reset(out);
    return bad;
}

int rp_cli_no_args(const char *cmd, int argc, char **argv)
{
    if (optind >= argc)
        return 0;
    fprintf(stderr, "replyd %s: unexpected argument '%s'\n", cmd, argv[optind]);
    return 1;
}

rp_config *rp_cli_setup(const char *cmd, const char *config_path, int argc, char **argv,
                        bool no_args)
{
    if (no_args && rp_cli_no_args(cmd, argc, argv))
        return NULL;
    rp_error err;
    rp_config *cfg = NULL;
    if (rp_cli_load_config(config_path, &cfg, &err) != RP_OK) {
        fprintf(stderr, "replyd %s: configuration: %s\n", cmd, err.msg);
        return NULL;
    }
    return cfg;
}

rp_status rp_cli_open_queue(const rp_config *cfg, const char *path, bool read_only,
                            rp_queue **q, rp_error *err)
{
    const char *env = getenv("REPLYD_QUEUE");
    const char *p = path ? path : (env && *env) ? env : cfg->queue_path;
    if (!p)
        return rp_error_set(err, RP_ECONFIG, "no queue: set queue.path or use --queue FILE");
    rp_queue_opts o = {.read_only = read_only};
    return rp_queue_open(p, &o, q, err);
}

const char *rp_cli_operator(const char *given, char *buf, size_t size)
{
    const char *env = getenv("REPLYD_OPERATOR");
    const char *who = given && *given ? given : env && *env ? env : NULL;
    if (!who) {
        struct passwd *pw = getpwuid(getuid());
        who = pw && pw->pw_name ? pw->pw_name : getenv("USER");
    }
    snprintf(buf, size, "%s", who && *who ? who : "unknown");
    return buf;
}

void rp_cli_format_time(int64_t t, char *buf, size_t size)
{
    if (t == RP_TIME_UNKNOWN) {
        snprintf(buf, size, "-");
        return;
    }
    time_t tt = (time_t)t;
    struct tm tm;
    if (!gmtime_r(&tt, &tm) || strftime(buf, size, "%Y-%m-%d %H:%M UTC", &tm) == 0)
        snprintf(buf, size, "%lld", (long long)t);
}

int rp_cli_time_arg(const char *cmd, const char *opt, const char *arg, int64_t *out)
{
    if (rp_parse_iso8601(arg, out) == RP_OK)
        return 0;
    fprintf(stderr,
            "replyd %s: --%s '%s' is not an ISO 8601 time such as 2026-11-28T03:00:00+01:00\n",
            cmd, opt, arg);
    return -1;
}

int rp_cli_count_arg(const char *cmd, const char *opt, const char *arg, unsigned long min,
                     unsigned long max, unsigned long *out)
{
    char *end;
    errno = 0;
    unsigned long v = strtoul(arg, &end, 10);
    if (!*arg || *end || arg[0] == '-' || errno || v < min || v > max) {
        fprintf(stderr, "replyd %s: --%s needs a whole number from %lu to %lu, not '%s'\n", cmd,
                opt, min, max, arg);
        return -1;
    }
    *out = v;
    return 0;
}
