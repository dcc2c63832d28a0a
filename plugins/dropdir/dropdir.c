/* dropdir.c — the "dropdir" source: a folder where another program drops
 * JSON Lines files (one buyer message per line). Files are taken in name
 * order, each non-blank line handed over as one RP_ITEM_JSON item, and a file
 * is moved to done/ (or deleted) once every line of it is acknowledged.
 * docs/source-dropdir.md is the user's description.
 *
 * Options (text, core/plugin.h): path (required, relative to
 * host->base_dir), after (move | delete), pattern (comma-separated fnmatch
 * patterns, default "*.jsonl,*.ndjson"), max_line_bytes (default 1 MiB),
 * scan_limit (names held from one listing, default 1000).
 *
 * One file at a time: a poll hands over lines of the current file only and
 * stops at its end; the acknowledgement of its last line finishes it. The
 * file is streamed through a 64 KiB buffer, and a poll goes on at the byte
 * where the previous one stopped. Progress (lines acknowledged, the offset
 * after them, the file's inode and mtime) is saved through host->save_state
 * after each acknowledgement (dropdir_state.h), so a restart skips what was
 * done. Lines handed over but not acknowledged are handed over again by the
 * next poll (it rewinds to the acknowledged offset).
 *
 * Disk changes happen in ack() only, with one exception: a file without a
 * single non-blank line (nothing to acknowledge) is finished by poll().
 * Unreadable lines are recorded while acknowledging in the hidden file
 * .NAME.errors in the folder, which goes to done/ with the file.
 *
 * Memory: the instance owns its paths, the listing, the current file's
 * descriptor and name, a 64 KiB read buffer, one line of at most
 * max_line_bytes and the handed-over line numbers of the last poll. Errors
 * come back as the plugin ABI says: a return value and one line of text that
 * names files and line numbers, never a line's content.
 */
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "dropdir_state.h"
#include "plugin.h"
#include "plugin_util.h"

#define RP_DROPDIR_DEFAULT_MAX_LINE (1024u * 1024u)
#define RP_DROPDIR_DEFAULT_SCAN_LIMIT 1000u
#define RP_DROPDIR_READ_BUF 65536u
#define RP_DROPDIR_OVERLONG_KEEP 4096u /* bytes of an over-long line handed over */
#define RP_DROPDIR_DONE_TRIES 1000

typedef enum { RP_AFTER_MOVE, RP_AFTER_DELETE } rp_dropdir_after;

typedef struct rp_dropdir_pending {
    uint64_t line; /* its line number */
    uint64_t end;  /* the offset after its line end */
    bool acked;
} rp_dropdir_pending;

typedef struct rp_dropdir {
    const rp_plugin_host *host;
    char *root;     /* the folder, as resolved */
    char *done_dir; /* root/done */
    rp_dropdir_after after;
    char *patterns; /* the pattern option, ',' replaced by '\0' */
    size_t npatterns;
    size_t max_line;
    size_t scan_limit;
    /* the state saved last time, until its file is opened */
    rp_dropdir_state saved;
    bool have_saved;
    /* the listing: matching names, sorted, at most scan_limit */
    rp_pu_names list;
    size_t cursor;
    bool listed;
    /* the current file */
    int fd; /* -1: none */
    char *name;
    dev_t dev;
    ino_t ino;
    struct timespec mtime;
    uint64_t size;
    char *rbuf;
    size_t rpos, rlen;
    uint64_t read_off;  /* offset of rbuf[rpos] */
    uint64_t read_line; /* lines read */
    bool eof;
    uint64_t done_line, done_off; /* acknowledged (blank lines before them included) */
    uint64_t errors_last;         /* last line number in .NAME.errors */
    /* the line read last */
    char *line;
    size_t line_len, line_cap;
    uint64_t line_total; /* its real length (more than line_len when over-long) */
    uint64_t line_no, line_end;
    bool line_ready; /* read but not yet handed over */
    /* the lines handed over in the last poll; tokens are gen << 32 | index */
    rp_dropdir_pending *pend;
    size_t pend_n, pend_cap;
    uint32_t gen;
} rp_dropdir;

static void rp_dropdir_save(rp_dropdir *d, const char *text)
{
    if (d->host && d->host->save_state)
        d->host->save_state(d->host->ctx, text);
}

static void rp_dropdir_free_list(rp_dropdir *d)
{
    rp_pu_names_free(&d->list);
    d->cursor = 0;
    d->listed = false;
}

static void rp_dropdir_drop_file(rp_dropdir *d)
{
    if (d->fd >= 0)
        (void)close(d->fd);
    d->fd = -1;
    free(d->name);
    d->name = NULL;
    d->pend_n = 0;
    d->line_ready = false;
}

static void rp_dropdir_close(void *instance)
{
    rp_dropdir *d = instance;
    if (!d)
        return;
    rp_dropdir_drop_file(d);
    rp_dropdir_free_list(d);
    free(d->pend);
    free(d->line);
    free(d->rbuf);
    free(d->patterns);
    free(d->done_dir);
    free(d->root);
    free(d);
}

/* path = dir/[prefix]name[suffix]; 0, or -1 when it does not fit */
static int rp_dropdir_path(char *path, size_t size, const char *dir, const char *prefix,
                           const char *name, const char *suffix)
{
    int n = snprintf(path, size, "%s/%s%s%s", dir, prefix, name, suffix);
    return n < 0 || (size_t)n >= size ? -1 : 0;
}

/* done/ exists (created when missing unless only checking) on the folder's
 * file system. */
static int rp_dropdir_ensure_done(rp_dropdir *d, bool create, char *err, size_t errsize)
{
    struct stat st, rst;
    if (stat(d->done_dir, &st) != 0) {
        if (errno != ENOENT || !create) {
            if (errno == ENOENT)
                return 0; /* check only: it will be created in the folder */
            rp_pu_msg(err, errsize, "dropdir: %s: %s", d->done_dir, strerror(errno));
            return -1;
        }
        if (mkdir(d->done_dir, 0700) != 0 && errno != EEXIST) {
            rp_pu_msg(err, errsize, "dropdir: cannot create %s: %s", d->done_dir,
                      strerror(errno));
            return -1;
        }
    }
    if (rp_pu_check_dir("dropdir", "folder", d->done_dir, err, errsize) != 0)
        return -1;
    if (stat(d->done_dir, &st) != 0 || stat(d->root, &rst) != 0 || st.st_dev != rst.st_dev) {
        rp_pu_msg(err, errsize,
                  "dropdir: %s must be on the same file system as %s (files are moved by "
                  "renaming)",
                  d->done_dir, d->root);
        return -1;
    }
    return 0;
}

static int rp_dropdir_open(const rp_plugin_host *host, const rp_plugin_option *opts, size_t nopts,
                           const char *state, void **instance, char *err, size_t errsize)
{
    static const char *const known[] = {"path",           "after",      "pattern",
                                        "max_line_bytes", "scan_limit", NULL};
    const char *val[5];
    *instance = NULL;
    if (rp_pu_options("dropdir", known, NULL, opts, nopts, val, err, errsize) != 0)
        return 1;
    const char *path = val[0], *after = val[1], *pattern = val[2], *max_line = val[3],
               *scan_limit = val[4];
    if (!path || !path[0]) {
        rp_pu_msg(err, errsize, "dropdir: option 'path' is required (the drop folder)");
        return 1;
    }
    rp_dropdir_after how = RP_AFTER_MOVE;
    if (after) {
        if (strcmp(after, "move") == 0)
            how = RP_AFTER_MOVE;
        else if (strcmp(after, "delete") == 0)
            how = RP_AFTER_DELETE;
        else {
            rp_pu_msg(err, errsize, "dropdir: option 'after' must be move or delete");
            return 1;
        }
    }
    if (!pattern)
        pattern = "*.jsonl,*.ndjson";
    size_t maxl = RP_DROPDIR_DEFAULT_MAX_LINE, limit = RP_DROPDIR_DEFAULT_SCAN_LIMIT;
    if ((max_line && rp_pu_uint_opt("dropdir", "max_line_bytes", max_line, 64, (size_t)1 << 30,
                                    &maxl, err, errsize) != 0) ||
        (scan_limit && rp_pu_uint_opt("dropdir", "scan_limit", scan_limit, 1, 1000000, &limit,
                                      err, errsize) != 0))
        return 1;

    rp_dropdir *d = calloc(1, sizeof *d);
    if (!d) {
        rp_pu_msg(err, errsize, "dropdir: out of memory");
        return 1;
    }
    d->host = host;
    d->fd = -1;
    d->after = how;
    d->max_line = maxl;
    d->scan_limit = limit;
    d->root = rp_pu_dir(host ? host->base_dir : NULL, path);
    d->done_dir = d->root ? rp_pu_path(d->root, "done") : NULL;
    d->patterns = strdup(pattern);
    if (!d->root || !d->done_dir || !d->patterns) {
        rp_dropdir_close(d);
        rp_pu_msg(err, errsize, "dropdir: out of memory");
        return 1;
    }
    /* the patterns: non-empty, no '/' (names in the folder only) */
    size_t plen = strlen(d->patterns);
    const char *p = d->patterns;
    for (;;) {
        size_t n = strcspn(p, ",");
        if (n == 0 || memchr(p, '/', n)) {
            rp_pu_msg(err, errsize,
                      "dropdir: option 'pattern' must be file name patterns separated by "
                      "commas (\"*.jsonl,*.ndjson\"), without '/' and none empty");
            rp_dropdir_close(d);
            return 1;
        }
        d->npatterns++;
        if (!p[n])
            break;
        p += n + 1;
    }
    for (size_t i = 0; i < plen; i++)
        if (d->patterns[i] == ',')
            d->patterns[i] = '\0';
    int sr = rp_dropdir_state_parse(state, &d->saved);
    if (sr < 0)
        rp_pu_log(d->host, RP_LOG_WARN,
                  "dropdir: saved state not understood; every file starts at line 1");
    d->have_saved = sr > 0;
    if (rp_pu_check_dir("dropdir", "folder", d->root, err, errsize) != 0 ||
        ((how == RP_AFTER_MOVE || (host && host->check_only)) &&
         rp_dropdir_ensure_done(d, !(host && host->check_only) && how == RP_AFTER_MOVE, err,
                                errsize) != 0)) {
        rp_dropdir_close(d);
        return 1;
    }
    d->rbuf = malloc(RP_DROPDIR_READ_BUF);
    if (!d->rbuf) {
        rp_dropdir_close(d);
        rp_pu_msg(err, errsize, "dropdir: out of memory");
        return 1;
    }
    *instance = d;
    return 0;
}

/* ---- listing ---------------------------------------------------------------- */

static bool rp_dropdir_wanted(const rp_dropdir *d, const char *name)
{
    size_t len = strlen(name);
    if (name[0] == '.' || (len >= 4 && strcmp(name + len - 4, ".tmp") == 0))
        return false;
    const char *p = d->patterns;
    for (size_t i = 0; i < d->npatterns; i++, p += strlen(p) + 1)
        if (fnmatch(p, name, FNM_PERIOD) == 0)
            return true;
    return false;
}

static bool rp_dropdir_plain_name(const char *name)
{
    for (const unsigned char *s = (const unsigned char *)name; *s; s++)
        if (*s < 0x20 || *s == 0x7f)
            return false;
    return true;
}

/* rp_pu_list's filter: a matching name without control characters. */
static bool rp_dropdir_keep(void *ctx, const char *name)
{
    const rp_dropdir *d = ctx;
    if (!rp_dropdir_wanted(d, name))
        return false;
    if (!rp_dropdir_plain_name(name)) {
        rp_pu_log(d->host, RP_LOG_DEBUG, "dropdir: a file name with control characters skipped");
        return false;
    }
    return true;
}

/* Replaces the listing with the scan_limit first matching names after
 * `after` (NULL: all; borrowed, it may be a name of the old listing). */
static rp_source_result rp_dropdir_relist(rp_dropdir *d, const char *after, char *detail,
                                          size_t detailsize)
{
    rp_pu_names names;
    int r = rp_pu_list(d->root, after, d->scan_limit, strcmp, rp_dropdir_keep, d, &names);
    if (r != 0) {
        int e = errno;
        rp_pu_msg(detail, detailsize, "dropdir: cannot list %s: %s", d->root, strerror(e));
        return r == -1 && (e == ENOENT || e == ENOTDIR || e == EACCES) ? RP_SOURCE_FATAL
                                                                       : RP_SOURCE_RETRY;
    }
    rp_dropdir_free_list(d);
    d->list = names;
    d->listed = true;
    return RP_SOURCE_OK;
}

/* ---- the current file --------------------------------------------------------- */

/* The last line number in .NAME.errors (0: none or no file). */
static uint64_t rp_dropdir_errors_last(const char *path)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0)
        return 0;
    struct stat st;
    char tail[32];
    ssize_t got = -1;
    if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode)) {
        off_t from = st.st_size > (off_t)sizeof tail ? st.st_size - (off_t)sizeof tail : 0;
        got = pread(fd, tail, sizeof tail, from);
    }
    (void)close(fd);
    if (got <= 0)
        return 0;
    size_t end = (size_t)got;
    while (end > 0 && (tail[end - 1] < '0' || tail[end - 1] > '9'))
        end--;
    size_t start = end;
    while (start > 0 && tail[start - 1] >= '0' && tail[start - 1] <= '9')
        start--;
    uint64_t v = 0;
    for (size_t i = start; i < end && i < start + 19; i++)
        v = v * 10 + (uint64_t)(tail[i] - '0');
    return v;
}

typedef enum { RP_START_OK, RP_START_SKIP, RP_START_FAIL } rp_start_status;

/* Opens NAME as the current file, going on after the saved progress when it
 * is the same file. */
static rp_start_status rp_dropdir_start(rp_dropdir *d, const char *name, char *detail,
                                        size_t detailsize)
{
    char p[PATH_MAX], ep[PATH_MAX];
    if (rp_dropdir_path(p, sizeof p, d->root, "", name, "") != 0 ||
        rp_dropdir_path(ep, sizeof ep, d->root, ".", name, ".errors") != 0) {
        rp_pu_log(d->host, RP_LOG_WARN, "dropdir: %s: path too long, skipped", name);
        return RP_START_SKIP;
    }
    int fd = open(p, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
    if (fd < 0) {
        int e = errno;
        if (e == ENOENT)
            return RP_START_SKIP; /* taken away since the listing */
        if (e == EACCES || e == ELOOP || e == ENXIO) {
            rp_pu_log(d->host, RP_LOG_WARN, "dropdir: cannot read %s: %s; skipped", name,
                      strerror(e));
            return RP_START_SKIP;
        }
        rp_pu_msg(detail, detailsize, "dropdir: cannot read %s: %s", name, strerror(e));
        return RP_START_FAIL;
    }
    struct stat st;
    if (fstat(fd, &st) != 0) {
        rp_pu_msg(detail, detailsize, "dropdir: cannot read %s: %s", name, strerror(errno));
        (void)close(fd);
        return RP_START_FAIL;
    }
    if (!S_ISREG(st.st_mode)) {
        if (!S_ISDIR(st.st_mode))
            rp_pu_log(d->host, RP_LOG_WARN, "dropdir: %s is not a file; skipped", name);
        (void)close(fd);
        return RP_START_SKIP;
    }
    char *copy = strdup(name);
    if (!copy) {
        (void)close(fd);
        rp_pu_msg(detail, detailsize, "dropdir: out of memory");
        return RP_START_FAIL;
    }
    d->fd = fd;
    d->name = copy;
    d->dev = st.st_dev;
    d->ino = st.st_ino;
    d->mtime = st.st_mtim;
    d->size = (uint64_t)st.st_size;
    d->rpos = d->rlen = 0;
    d->read_off = d->read_line = d->done_off = d->done_line = 0;
    d->eof = d->line_ready = false;
    d->pend_n = 0;
    d->errors_last = 0;
    bool resume = false;
    if (d->have_saved && strcmp(d->saved.file, name) == 0) {
        d->have_saved = false;
        if (d->saved.ino == (uint64_t)st.st_ino && d->saved.mtime_s == (int64_t)st.st_mtim.tv_sec &&
            d->saved.mtime_ns == st.st_mtim.tv_nsec && d->saved.offset <= d->size) {
            if (lseek(fd, (off_t)d->saved.offset, SEEK_SET) < 0) {
                rp_pu_msg(detail, detailsize, "dropdir: cannot seek in %s: %s", name,
                          strerror(errno));
                rp_dropdir_drop_file(d);
                return RP_START_FAIL;
            }
            d->read_off = d->done_off = d->saved.offset;
            d->read_line = d->done_line = d->saved.line;
            resume = true;
            rp_pu_log(d->host, RP_LOG_INFO, "dropdir: %s: going on after line %llu", name,
                      (unsigned long long)d->saved.line);
        } else {
            rp_pu_log(d->host, RP_LOG_INFO,
                      "dropdir: %s changed since the saved state; starting at line 1", name);
        }
    }
    if (resume)
        d->errors_last = rp_dropdir_errors_last(ep);
    else if (unlink(ep) != 0 && errno != ENOENT)
        rp_pu_log(d->host, RP_LOG_WARN, "dropdir: cannot remove the old .%s.errors: %s", name,
                  strerror(errno));
    return RP_START_OK;
}

/* Reads the next line into d->line. 1: a line; 0: end of file; -1: error
 * (detail set). */
static int rp_dropdir_read_line(rp_dropdir *d, char *detail, size_t detailsize)
{
    d->line_len = 0;
    d->line_total = 0;
    bool any = false;
    for (;;) {
        if (d->rpos == d->rlen) {
            if (d->eof)
                break;
            ssize_t r = read(d->fd, d->rbuf, RP_DROPDIR_READ_BUF);
            if (r < 0 && errno == EINTR)
                continue;
            if (r < 0) {
                rp_pu_msg(detail, detailsize, "dropdir: cannot read %s: %s", d->name,
                          strerror(errno));
                return -1;
            }
            d->rpos = 0;
            d->rlen = (size_t)r;
            if (r == 0) {
                d->eof = true;
                break;
            }
        }
        const char *s = d->rbuf + d->rpos;
        size_t avail = d->rlen - d->rpos;
        const char *nl = memchr(s, '\n', avail);
        size_t chunk = nl ? (size_t)(nl - s) : avail;
        any = true;
        size_t room = d->max_line > d->line_len ? d->max_line - d->line_len : 0;
        size_t take = chunk < room ? chunk : room;
        if (take) {
            if (d->line_len + take > d->line_cap) {
                size_t cap = d->line_cap ? d->line_cap : 4096;
                while (cap < d->line_len + take)
                    cap *= 2;
                if (cap > d->max_line)
                    cap = d->max_line;
                char *nb = realloc(d->line, cap);
                if (!nb) {
                    rp_pu_msg(detail, detailsize, "dropdir: out of memory");
                    return -1;
                }
                d->line = nb;
                d->line_cap = cap;
            }
            memcpy(d->line + d->line_len, s, take);
            d->line_len += take;
        }
        d->line_total += chunk;
        d->rpos += chunk;
        d->read_off += chunk;
        if (nl) {
            d->rpos++;
            d->read_off++;
            break;
        }
    }
    if (!any)
        return 0;
    d->line_no = ++d->read_line;
    d->line_end = d->read_off;
    return 1;
}

static bool rp_dropdir_blank(const rp_dropdir *d)
{
    if (d->line_total != d->line_len)
        return false;
    for (size_t i = 0; i < d->line_len; i++)
        if (d->line[i] != ' ' && d->line[i] != '\t' && d->line[i] != '\r')
            return false;
    return true;
}

/* Makes the next non-blank line ready. 1: ready; 0: end of file; -1: error. */
static int rp_dropdir_next(rp_dropdir *d, char *detail, size_t detailsize)
{
    if (d->line_ready)
        return 1;
    for (;;) {
        int r = rp_dropdir_read_line(d, detail, detailsize);
        if (r <= 0)
            return r;
        if (!rp_dropdir_blank(d)) {
            d->line_ready = true;
            return 1;
        }
    }
}

/* Moves the current file (and its .errors) to done/, or deletes it, then
 * forgets it and clears the saved state. 0, or -1 with detail set (the file
 * stays current and finishing is tried again). */
static int rp_dropdir_finish(rp_dropdir *d, char *detail, size_t detailsize)
{
    char src[PATH_MAX], esrc[PATH_MAX], dst[PATH_MAX];
    if (rp_dropdir_path(src, sizeof src, d->root, "", d->name, "") != 0 ||
        rp_dropdir_path(esrc, sizeof esrc, d->root, ".", d->name, ".errors") != 0) {
        rp_pu_msg(detail, detailsize, "dropdir: path too long for %s", d->name);
        return -1;
    }
    struct stat st;
    bool errors = lstat(esrc, &st) == 0;
    if (d->after == RP_AFTER_DELETE && !errors) {
        if (unlink(src) != 0 && errno != ENOENT) {
            rp_pu_msg(detail, detailsize, "dropdir: cannot delete %s: %s", d->name,
                      strerror(errno));
            return -1;
        }
        rp_pu_log(d->host, RP_LOG_INFO, "dropdir: %s done (%llu lines), deleted", d->name,
                  (unsigned long long)d->read_line);
    } else {
        if (rp_dropdir_ensure_done(d, true, detail, detailsize) != 0)
            return -1;
        /* done/NAME, or done/NAME.2, .3 … when that is taken: never replace a
         * file done before */
        bool moved = false;
        for (int i = 1; i <= RP_DROPDIR_DONE_TRIES && !moved; i++) {
            char suffix[16] = "";
            if (i > 1)
                snprintf(suffix, sizeof suffix, ".%d", i);
            if (rp_dropdir_path(dst, sizeof dst, d->done_dir, "", d->name, suffix) != 0) {
                rp_pu_msg(detail, detailsize, "dropdir: path too long in %s", d->done_dir);
                return -1;
            }
            if (link(src, dst) == 0) {
                moved = true;
                break;
            }
            int e = errno;
            if (e == EEXIST) {
                struct stat ds;
                /* a crash between link and unlink: it is there already */
                if (stat(dst, &ds) == 0 && ds.st_dev == d->dev && ds.st_ino == d->ino)
                    moved = true;
                continue;
            }
            if (e == ENOENT && lstat(src, &st) != 0) {
                moved = true; /* taken away: nothing left to move */
                dst[0] = '\0';
                break;
            }
            if (e == EPERM || e == ENOTSUP || e == EOPNOTSUPP || e == EMLINK) {
                /* no hard links here: rename, after looking that dst is free */
                if (lstat(dst, &st) == 0)
                    continue;
                if (rename(src, dst) == 0) {
                    moved = true;
                    break;
                }
                e = errno;
            }
            rp_pu_msg(detail, detailsize, "dropdir: cannot move %s to %s: %s", d->name,
                      d->done_dir, strerror(e));
            return -1;
        }
        if (!moved) {
            rp_pu_msg(detail, detailsize, "dropdir: cannot move %s: %d names taken in %s",
                      d->name, RP_DROPDIR_DONE_TRIES, d->done_dir);
            return -1;
        }
        if (unlink(src) != 0 && errno != ENOENT) {
            rp_pu_msg(detail, detailsize, "dropdir: cannot remove %s after moving it: %s",
                      d->name, strerror(errno));
            return -1;
        }
        if (errors && dst[0]) {
            char edst[PATH_MAX];
            size_t dl = strlen(dst);
            if (dl + sizeof ".errors" > sizeof edst) {
                rp_pu_msg(detail, detailsize, "dropdir: path too long in %s", d->done_dir);
                return -1;
            }
            memcpy(edst, dst, dl);
            memcpy(edst + dl, ".errors", sizeof ".errors");
            if (rename(esrc, edst) != 0 && errno != ENOENT) {
                rp_pu_msg(detail, detailsize, "dropdir: cannot move .%s.errors to %s: %s",
                          d->name, d->done_dir, strerror(errno));
                return -1;
            }
        }
        rp_pu_log(d->host, RP_LOG_INFO, "dropdir: %s done (%llu lines), moved to %s%s", d->name,
                  (unsigned long long)d->read_line, d->done_dir,
                  errors ? ", with a list of unreadable lines" : "");
    }
    rp_dropdir_drop_file(d);
    rp_dropdir_save(d, "");
    return 0;
}

static bool rp_dropdir_files_left(const rp_dropdir *d)
{
    /* not listed yet: a file begun before a restart came first */
    return !d->listed || d->cursor < d->list.n || d->list.truncated;
}

/* The next file to work on, made current. 1: there is one; 0: none left in
 * this sweep (*more stays 0); -1: failure, detail set, *result says which. */
static int rp_dropdir_pick(rp_dropdir *d, rp_source_result *result, char *detail,
                           size_t detailsize)
{
    for (;;) {
        if (rp_pu_stopping(d->host))
            return 0;
        /* a file begun before a restart first */
        if (d->have_saved && rp_dropdir_wanted(d, d->saved.file)) {
            rp_start_status s = rp_dropdir_start(d, d->saved.file, detail, detailsize);
            d->have_saved = false;
            if (s == RP_START_OK)
                return 1;
            if (s == RP_START_FAIL) {
                *result = RP_SOURCE_RETRY;
                return -1;
            }
        }
        if (!d->listed || (d->cursor == d->list.n && d->list.truncated)) {
            const char *after = d->listed && d->list.n ? d->list.v[d->list.n - 1] : NULL;
            rp_source_result r = rp_dropdir_relist(d, after, detail, detailsize);
            if (r != RP_SOURCE_OK) {
                *result = r;
                return -1;
            }
        }
        if (d->cursor == d->list.n) {
            rp_dropdir_free_list(d); /* sweep done; the next poll lists again */
            return 0;
        }
        const char *name = d->list.v[d->cursor++];
        rp_start_status s = rp_dropdir_start(d, name, detail, detailsize);
        if (s == RP_START_OK)
            return 1;
        if (s == RP_START_FAIL) {
            d->cursor--;
            *result = RP_SOURCE_RETRY;
            return -1;
        }
    }
}

static rp_source_result rp_dropdir_poll(void *instance, unsigned max, rp_source_emit_fn emit,
                                        void *ctx, int *more, char *detail, size_t detailsize)
{
    rp_dropdir *d = instance;
    *more = 0;
    if (detail && detailsize)
        detail[0] = '\0';
    if (!d || !emit) {
        rp_pu_msg(detail, detailsize, "dropdir: no instance");
        return RP_SOURCE_FATAL;
    }
    struct stat rst;
    if (stat(d->root, &rst) != 0 || !S_ISDIR(rst.st_mode)) {
        rp_pu_msg(detail, detailsize, "dropdir: folder %s is missing or not a folder",
                  d->root);
        return RP_SOURCE_FATAL;
    }
    /* lines handed over last time but not acknowledged come again */
    bool rewind = false;
    for (size_t i = 0; i < d->pend_n; i++)
        rewind |= !d->pend[i].acked;
    d->pend_n = 0;
    d->gen++;
    if (rewind && d->fd >= 0) {
        if (lseek(d->fd, (off_t)d->done_off, SEEK_SET) < 0) {
            rp_pu_msg(detail, detailsize, "dropdir: cannot seek in %s: %s", d->name,
                      strerror(errno));
            return RP_SOURCE_RETRY;
        }
        d->read_off = d->done_off;
        d->read_line = d->done_line;
        d->rpos = d->rlen = 0;
        d->eof = d->line_ready = false;
    }
    if (max == 0) {
        *more = 1;
        return RP_SOURCE_OK;
    }
    if (d->pend_cap < max) {
        rp_dropdir_pending *np = realloc(d->pend, (size_t)max * sizeof *np);
        if (!np) {
            rp_pu_msg(detail, detailsize, "dropdir: out of memory");
            return RP_SOURCE_RETRY;
        }
        d->pend = np;
        d->pend_cap = max;
    }
    unsigned emitted = 0;
    for (;;) {
        if (d->fd < 0) {
            rp_source_result res = RP_SOURCE_OK;
            int pr = rp_dropdir_pick(d, &res, detail, detailsize);
            if (pr < 0) {
                *more = 1;
                return res;
            }
            if (pr == 0)
                return RP_SOURCE_OK;
        }
        if (emitted == max || (rp_pu_stopping(d->host))) {
            /* look one line ahead to tell whether more is waiting */
            int r = rp_dropdir_next(d, detail, detailsize);
            if (r < 0)
                return RP_SOURCE_RETRY;
            *more = r > 0 || rp_dropdir_files_left(d);
            return RP_SOURCE_OK;
        }
        int r = rp_dropdir_next(d, detail, detailsize);
        if (r < 0) {
            *more = 1;
            return RP_SOURCE_RETRY;
        }
        if (r == 0) {
            if (emitted > 0) {
                /* the acknowledgement finishes this file; the next poll
                 * takes the next one */
                *more = rp_dropdir_files_left(d);
                return RP_SOURCE_OK;
            }
            /* nothing of it awaits an acknowledgement (blank lines only, or
             * all acknowledged before a failure to finish it) */
            d->done_line = d->read_line;
            d->done_off = d->read_off;
            if (rp_dropdir_finish(d, detail, detailsize) != 0) {
                *more = 1;
                return RP_SOURCE_RETRY;
            }
            continue;
        }
        char ref[300];
        snprintf(ref, sizeof ref, "%s:%llu", d->name, (unsigned long long)d->line_no);
        rp_source_item it = {.data = d->line,
                             .len = d->line_len,
                             .format = RP_ITEM_JSON,
                             .ref = ref,
                             .token = ((uint64_t)d->gen << 32) | d->pend_n,
                             .received = (int64_t)d->mtime.tv_sec};
        char *marked = NULL;
        if (d->line_total > d->line_len) {
            /* over-long: a control character first, so that no JSON parser
             * takes it for a message, then the reason and the first bytes */
            size_t keep = d->line_len < RP_DROPDIR_OVERLONG_KEEP ? d->line_len
                                                                 : RP_DROPDIR_OVERLONG_KEEP;
            size_t cap = keep + 256;
            marked = malloc(cap);
            if (!marked) {
                rp_pu_msg(detail, detailsize, "dropdir: out of memory");
                *more = 1;
                return RP_SOURCE_RETRY;
            }
            int n = snprintf(marked, cap,
                             "\001replyd dropdir: line %s is %llu bytes, over max_line_bytes "
                             "(%zu)\001",
                             ref, (unsigned long long)d->line_total, d->max_line);
            size_t head = n < 0 ? 0 : (size_t)n < cap ? (size_t)n : cap - 1;
            size_t room = cap - head;
            if (keep > room)
                keep = room;
            memcpy(marked + head, d->line, keep);
            it.data = marked;
            it.len = head + keep;
            rp_pu_log(d->host, RP_LOG_WARN,
                      "dropdir: %s is %llu bytes, over max_line_bytes (%zu): handed over "
                      "marked unreadable",
                      ref, (unsigned long long)d->line_total, d->max_line);
        }
        int stop = emit(ctx, &it);
        free(marked);
        if (stop) {
            *more = 1;
            return RP_SOURCE_OK; /* the line stays ready for the next poll */
        }
        d->pend[d->pend_n].line = d->line_no;
        d->pend[d->pend_n].end = d->line_end;
        d->pend[d->pend_n].acked = false;
        d->pend_n++;
        d->line_ready = false;
        emitted++;
    }
}

/* Appends line to .NAME.errors (once: numbers only grow). 0, or -1. */
static int rp_dropdir_note_error(rp_dropdir *d, uint64_t line, char *detail, size_t detailsize)
{
    if (line <= d->errors_last)
        return 0;
    char p[PATH_MAX];
    if (rp_dropdir_path(p, sizeof p, d->root, ".", d->name, ".errors") != 0) {
        rp_pu_msg(detail, detailsize, "dropdir: path too long for .%s.errors", d->name);
        return -1;
    }
    int fd = open(p, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0) {
        rp_pu_msg(detail, detailsize, "dropdir: cannot write .%s.errors: %s", d->name,
                  strerror(errno));
        return -1;
    }
    char buf[32];
    int n = snprintf(buf, sizeof buf, "%llu\n", (unsigned long long)line);
    ssize_t w = n > 0 ? write(fd, buf, (size_t)n) : -1;
    int e = errno;
    if (close(fd) != 0 && w == n) {
        w = -1;
        e = errno;
    }
    if (w != n) {
        rp_pu_msg(detail, detailsize, "dropdir: cannot write .%s.errors: %s", d->name,
                  strerror(w < 0 ? e : EIO));
        return -1;
    }
    d->errors_last = line;
    return 0;
}

static rp_source_result rp_dropdir_ack(void *instance, const uint64_t *tokens, const int *outcome,
                                       size_t n, char *detail, size_t detailsize)
{
    rp_dropdir *d = instance;
    if (detail && detailsize)
        detail[0] = '\0';
    if (!d) {
        rp_pu_msg(detail, detailsize, "dropdir: no instance");
        return RP_SOURCE_FATAL;
    }
    if (d->fd < 0)
        return RP_SOURCE_OK; /* nothing handed over */
    rp_source_result res = RP_SOURCE_OK;
    for (size_t i = 0; i < n; i++) {
        uint64_t t = tokens[i];
        size_t idx = (size_t)(t & 0xffffffffu);
        if ((uint32_t)(t >> 32) != d->gen || idx >= d->pend_n) {
            rp_pu_log(d->host, RP_LOG_DEBUG,
                      "dropdir: acknowledgement of an unknown token ignored");
            continue;
        }
        rp_dropdir_pending *pe = &d->pend[idx];
        if (pe->acked)
            continue;
        if (outcome && outcome[i] != RP_ACK_STORED) {
            rp_pu_log(d->host, RP_LOG_WARN, "dropdir: %s:%llu unreadable", d->name,
                      (unsigned long long)pe->line);
            if (rp_dropdir_note_error(d, pe->line, detail, detailsize) != 0) {
                res = RP_SOURCE_RETRY; /* not acknowledged: it comes again */
                break;
            }
        }
        pe->acked = true;
    }
    /* progress: the acknowledged lines from the first on */
    size_t k = 0;
    while (k < d->pend_n && d->pend[k].acked)
        k++;
    if (k > 0 && d->pend[k - 1].end > d->done_off) {
        d->done_line = d->pend[k - 1].line;
        d->done_off = d->pend[k - 1].end;
        rp_dropdir_state st = {.line = d->done_line,
                               .offset = d->done_off,
                               .ino = (uint64_t)d->ino,
                               .mtime_s = (int64_t)d->mtime.tv_sec,
                               .mtime_ns = d->mtime.tv_nsec};
        size_t nl = strlen(d->name);
        if (nl < sizeof st.file) {
            memcpy(st.file, d->name, nl + 1);
            char text[512];
            if (rp_dropdir_state_format(&st, text, sizeof text) == 0)
                rp_dropdir_save(d, text);
        }
    }
    if (res == RP_SOURCE_OK && k == d->pend_n && d->eof && !d->line_ready &&
        d->rpos == d->rlen) {
        d->pend_n = 0;
        if (rp_dropdir_finish(d, detail, detailsize) != 0)
            return RP_SOURCE_RETRY; /* finished by the next poll */
    }
    return res;
}

static const rp_source_ops rp_dropdir_ops = {
    .size = sizeof(rp_source_ops),
    .flags = 0,
    .open = rp_dropdir_open,
    .poll = rp_dropdir_poll,
    .ack = rp_dropdir_ack,
    .close = rp_dropdir_close,
};

RP_PU_PLUGIN("dropdir", "reads JSON Lines files dropped into a folder, one message per line",
             NULL, &rp_dropdir_ops);
