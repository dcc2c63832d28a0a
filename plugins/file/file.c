/* file.c — the "file" sink: appends each reply as one JSON object per line
 * to a file (or to standard output), for dry runs, audits and hand-offs to
 * other tools.
 *
 * Options (all text, core/plugin.h):
 *   path   required; the file to append to, relative paths resolved against
 *          host->base_dir; "-" writes to standard output. A new file is
 *          created with mode 0600 (it holds buyer data).
 *   format "json" (the default and the only format).
 *   fsync  "true" or "false" (default): fsync() the file before send()
 *          returns OK.
 *
 * Every rp_outgoing field appears in each line under its own name: strings
 * (null when NULL), date and attempt as integers, automatic as a boolean.
 * A line is written with one write() on a descriptor opened with O_APPEND,
 * so lines of concurrent writers do not interleave on a local file system.
 *
 * Memory: the instance owns its path copy and its descriptor (standard output
 * is borrowed, never closed). Errors come back as the plugin ABI says: a
 * return value and one line of text without buyer data.
 */
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "plugin.h"
#include "plugin_util.h"

typedef struct rp_file_sink {
    char *path;   /* as resolved, for messages */
    int fd;       /* STDOUT_FILENO when path is "-" */
    bool is_stdout;
    bool fsync;
} rp_file_sink;

static void rp_file_close(void *instance)
{
    rp_file_sink *s = instance;
    if (!s)
        return;
    if (!s->is_stdout && s->fd >= 0)
        (void)close(s->fd);
    free(s->path);
    free(s);
}

static int rp_file_open(const rp_plugin_host *host, const rp_plugin_option *opts, size_t nopts,
                        void **instance, char *err, size_t errsize)
{
    static const char *const known[] = {"path", "format", "fsync", NULL};
    const char *val[3];
    *instance = NULL;
    if (rp_pu_options("file", known, NULL, opts, nopts, val, err, errsize) != 0)
        return 1;
    const char *path = val[0], *format = val[1], *fsync_opt = val[2];
    if (!path || !path[0]) {
        rp_pu_msg(err, errsize, "file: option 'path' is required ('-' for standard output)");
        return 1;
    }
    if (format && strcmp(format, "json") != 0) {
        rp_pu_msg(err, errsize, "file: option 'format': '%s' is not supported (only json)",
                  format);
        return 1;
    }
    bool do_fsync = false;
    if (fsync_opt) {
        if (strcmp(fsync_opt, "true") == 0)
            do_fsync = true;
        else if (strcmp(fsync_opt, "false") != 0) {
            rp_pu_msg(err, errsize, "file: option 'fsync' must be true or false");
            return 1;
        }
    }

    rp_file_sink *s = calloc(1, sizeof *s);
    if (!s) {
        rp_pu_msg(err, errsize, "file: out of memory");
        return 1;
    }
    s->fd = -1;
    s->fsync = do_fsync;
    if (strcmp(path, "-") == 0) {
        s->is_stdout = true;
        s->fd = STDOUT_FILENO;
        s->path = rp_pu_strdup("standard output");
    } else {
        s->path = rp_pu_path(host ? host->base_dir : NULL, path);
    }
    if (!s->path) {
        rp_file_close(s);
        rp_pu_msg(err, errsize, "file: out of memory");
        return 1;
    }
    if (!s->is_stdout && host && host->check_only) {
        /* the file need not exist yet, but its folder must take it */
        char *dir = strdup(s->path);
        char *slash = dir ? strrchr(dir, '/') : NULL;
        if (slash)
            *slash = '\0';
        int ok = dir && access(slash ? (*dir ? dir : "/") : ".", W_OK) == 0 &&
                 (access(s->path, F_OK) != 0 || access(s->path, W_OK) == 0);
        free(dir);
        if (!ok) {
            rp_pu_msg(err, errsize, "file: cannot write %s: %s", s->path, strerror(errno));
            rp_file_close(s);
            return 1;
        }
    } else if (!s->is_stdout) {
        s->fd = open(s->path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
        if (s->fd < 0) {
            rp_pu_msg(err, errsize, "file: cannot open %s: %s", s->path, strerror(errno));
            rp_file_close(s);
            return 1;
        }
        struct stat st;
        if (fstat(s->fd, &st) != 0 || S_ISDIR(st.st_mode)) {
            rp_pu_msg(err, errsize, "file: %s is not a file", s->path);
            rp_file_close(s);
            return 1;
        }
    }
    *instance = s;
    return 0;
}

/* Adds key: string-or-null; 0 on success, -1 when the value is not UTF-8 or
 * memory ran out. */
static int rp_file_put_str(json_t *o, const char *key, const char *value)
{
    json_t *v = value ? json_string(value) : json_null();
    if (!v)
        return -1;
    return json_object_set_new(o, key, v);
}

static json_t *rp_file_record(const rp_outgoing *m, const char **bad)
{
    json_t *o = json_object();
    if (!o)
        return NULL;
    struct {
        const char *key;
        const char *value;
    } strs[] = {
        {"reply_id", m->reply_id},       {"idempotency_key", m->idempotency_key},
        {"message_id", m->message_id},   {"from", m->from},
        {"from_name", m->from_name},     {"to", m->to},
        {"subject", m->subject},         {"body", m->body},
        {"in_reply_to", m->in_reply_to}, {"references", m->references},
        {"language", m->language},       {"marketplace", m->marketplace},
        {"order_id", m->order_id},       {"template_id", m->template_id},
        {"inbound_id", m->inbound_id},   {"kind", m->kind},
    };
    for (size_t i = 0; i < sizeof strs / sizeof strs[0]; i++) {
        if (rp_file_put_str(o, strs[i].key, strs[i].value) != 0) {
            *bad = strs[i].key;
            json_decref(o);
            return NULL;
        }
    }
    if (json_object_set_new(o, "date", json_integer((json_int_t)m->date)) != 0 ||
        json_object_set_new(o, "attempt", json_integer((json_int_t)m->attempt)) != 0 ||
        json_object_set_new(o, "automatic", json_boolean(m->automatic != 0)) != 0) {
        json_decref(o);
        return NULL;
    }
    return o;
}

static rp_send_result rp_file_send(void *instance, const rp_outgoing *msg, char *detail,
                                   size_t detailsize)
{
    rp_file_sink *s = instance;
    if (!s || !msg) {
        rp_pu_msg(detail, detailsize, "file: no instance or message");
        return RP_SEND_PERMANENT;
    }
    const char *bad = NULL;
    json_t *rec = rp_file_record(msg, &bad);
    if (!rec) {
        if (bad)
            rp_pu_msg(detail, detailsize, "file: field '%s' is not valid UTF-8", bad);
        else
            rp_pu_msg(detail, detailsize, "file: out of memory");
        return bad ? RP_SEND_PERMANENT : RP_SEND_RETRY;
    }
    char *text = json_dumps(rec, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(rec);
    if (!text) {
        rp_pu_msg(detail, detailsize, "file: out of memory");
        return RP_SEND_RETRY;
    }
    size_t len = strlen(text);
    char *line = realloc(text, len + 2);
    if (!line) {
        free(text);
        rp_pu_msg(detail, detailsize, "file: out of memory");
        return RP_SEND_RETRY;
    }
    line[len++] = '\n';
    line[len] = 0;

    /* Where the file ended before this line, so that a failed write can be
     * taken back and the file keeps whole lines only. */
    off_t before = -1;
    struct stat st;
    if (!s->is_stdout && fstat(s->fd, &st) == 0 && S_ISREG(st.st_mode))
        before = st.st_size;

    size_t done = 0;
    int werr = 0;
    while (done < len) {
        ssize_t n = write(s->fd, line + done, len - done);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            werr = errno;
            break;
        }
        if (n == 0) {
            werr = EIO;
            break;
        }
        done += (size_t)n;
    }
    free(line);
    if (werr) {
        if (done == 0) {
            rp_pu_msg(detail, detailsize, "file: write to %s failed: %s", s->path,
                      strerror(werr));
            return RP_SEND_RETRY;
        }
        if (before >= 0 && ftruncate(s->fd, before) == 0) {
            rp_pu_msg(detail, detailsize, "file: write to %s failed (%s); partial line removed",
                      s->path, strerror(werr));
            return RP_SEND_RETRY;
        }
        rp_pu_msg(detail, detailsize, "file: write to %s failed after %zu of %zu bytes: %s",
                  s->path, done, len, strerror(werr));
        return RP_SEND_UNKNOWN;
    }
    if (s->fsync && !s->is_stdout && fsync(s->fd) != 0) {
        rp_pu_msg(detail, detailsize, "file: fsync of %s failed: %s", s->path,
                  strerror(errno));
        return RP_SEND_UNKNOWN;
    }
    rp_pu_msg(detail, detailsize, "appended %zu bytes to %s", len, s->path);
    return RP_SEND_OK;
}

static const rp_sink_ops rp_file_ops = {
    .size = sizeof(rp_sink_ops),
    .flags = 0,
    .open = rp_file_open,
    .send = rp_file_send,
    .close = rp_file_close,
};

RP_PU_PLUGIN("file", "appends each reply as a JSON line to a file or standard output",
             &rp_file_ops, NULL);
