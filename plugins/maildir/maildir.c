/* maildir.c — the "maildir" source: hands over the messages in a Maildir's
 * new/ folder, oldest first, and once the host has stored them moves them to
 * cur/ (flagged seen, or not), or deletes them. docs/source-maildir.md is the
 * user's description.
 *
 * Options (text, core/plugin.h): path (required, the Maildir root with cur/
 * and new/, relative to host->base_dir), after (seen | keep | delete),
 * error_dir (optional folder for unreadable messages), max_bytes (default
 * 25 MiB), scan_limit (names held from one listing, default 10000).
 *
 * How it scales: a poll works through a sorted listing held in the instance
 * (at most scan_limit names, the oldest ones) and lists new/ again only when
 * that is used up, taking the names after the last one of the previous
 * listing. A pass over new/ that way is a sweep; a sweep ends (*more = 0)
 * when a listing was not cut short, and the next poll begins a new one, which
 * also picks up anything handed over but not acknowledged.
 *
 * Disk changes happen in ack() only: renames from new/ to cur/ or error_dir,
 * or unlink. Nothing is saved through host->save_state: what is in new/ is
 * what is still to do.
 *
 * Memory: the instance owns its paths, the listing (strings it allocated),
 * the names handed over in the last poll and one read buffer of at most
 * max_bytes. Errors come back as the plugin ABI says: a return value and one
 * line of text naming files and folders, never message content.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "maildir_name.h"
#include "plugin.h"
#include "plugin_util.h"

#define RP_MAILDIR_DEFAULT_MAX_BYTES (25u * 1024u * 1024u)
#define RP_MAILDIR_DEFAULT_SCAN_LIMIT 10000u

typedef enum { RP_AFTER_SEEN, RP_AFTER_KEEP, RP_AFTER_DELETE } rp_maildir_after;

typedef struct rp_maildir {
    const rp_plugin_host *host;
    char *root;      /* the Maildir, as resolved */
    char *error_dir; /* NULL: unreadable messages go to cur/ flagged F */
    rp_maildir_after after;
    size_t max_bytes;
    size_t scan_limit;
    /* the listing: names in new/, sorted, at most scan_limit (truncated: new/
     * held more names than the listing) */
    rp_pu_names list;
    size_t cursor;
    bool listed; /* a sweep is under way */
    /* names handed over in the last poll; tokens are gen << 32 | index */
    char **handed;
    size_t handed_n, handed_cap;
    uint32_t gen;
    /* the read buffer */
    char *buf;
    size_t buf_cap;
} rp_maildir;

static void rp_maildir_free_list(rp_maildir *m)
{
    rp_pu_names_free(&m->list);
    m->cursor = 0;
    m->listed = false;
}

static void rp_maildir_clear_handed(rp_maildir *m)
{
    for (size_t i = 0; i < m->handed_n; i++)
        free(m->handed[i]);
    m->handed_n = 0;
}

static void rp_maildir_close(void *instance)
{
    rp_maildir *m = instance;
    if (!m)
        return;
    rp_maildir_free_list(m);
    rp_maildir_clear_handed(m);
    free(m->handed);
    free(m->buf);
    free(m->root);
    free(m->error_dir);
    free(m);
}

/* path = root/sub[/name]; 0, or -1 when it does not fit */
static int rp_maildir_path(char *path, size_t size, const char *root, const char *sub,
                           const char *name)
{
    int n = name ? snprintf(path, size, "%s/%s/%s", root, sub, name)
                 : snprintf(path, size, "%s/%s", root, sub);
    return n < 0 || (size_t)n >= size ? -1 : 0;
}

static int rp_maildir_open(const rp_plugin_host *host, const rp_plugin_option *opts, size_t nopts,
                           const char *state, void **instance, char *err, size_t errsize)
{
    (void)state; /* nothing is saved: new/ is the state */
    static const char *const known[] = {"path",      "after",      "error_dir",
                                        "max_bytes", "scan_limit", NULL};
    const char *val[5];
    *instance = NULL;
    if (rp_pu_options("maildir", known, NULL, opts, nopts, val, err, errsize) != 0)
        return 1;
    const char *path = val[0], *after = val[1], *error_dir = val[2], *max_bytes = val[3],
               *scan_limit = val[4];
    if (!path || !path[0]) {
        rp_pu_msg(err, errsize, "maildir: option 'path' is required (the Maildir folder)");
        return 1;
    }
    rp_maildir_after how = RP_AFTER_SEEN;
    if (after) {
        if (strcmp(after, "seen") == 0)
            how = RP_AFTER_SEEN;
        else if (strcmp(after, "keep") == 0)
            how = RP_AFTER_KEEP;
        else if (strcmp(after, "delete") == 0)
            how = RP_AFTER_DELETE;
        else {
            rp_pu_msg(err, errsize, "maildir: option 'after' must be seen, keep or delete");
            return 1;
        }
    }
    if (error_dir && !error_dir[0]) {
        rp_pu_msg(err, errsize, "maildir: option 'error_dir' is empty");
        return 1;
    }
    size_t maxb = RP_MAILDIR_DEFAULT_MAX_BYTES, limit = RP_MAILDIR_DEFAULT_SCAN_LIMIT;
    if ((max_bytes && rp_pu_uint_opt("maildir", "max_bytes", max_bytes, 1, (size_t)1 << 30,
                                     &maxb, err, errsize) != 0) ||
        (scan_limit && rp_pu_uint_opt("maildir", "scan_limit", scan_limit, 1, 1000000, &limit,
                                      err, errsize) != 0))
        return 1;

    rp_maildir *m = calloc(1, sizeof *m);
    if (!m) {
        rp_pu_msg(err, errsize, "maildir: out of memory");
        return 1;
    }
    m->host = host;
    m->after = how;
    m->max_bytes = maxb;
    m->scan_limit = limit;
    const char *base = host ? host->base_dir : NULL;
    m->root = rp_pu_dir(base, path);
    if (error_dir)
        m->error_dir = rp_pu_dir(base, error_dir);
    if (!m->root || (error_dir && !m->error_dir)) {
        rp_maildir_close(m);
        rp_pu_msg(err, errsize, "maildir: out of memory");
        return 1;
    }
    char p[PATH_MAX];
    static const char *const subs[] = {"new", "cur"};
    for (size_t i = 0; i < 2; i++) {
        if (rp_maildir_path(p, sizeof p, m->root, subs[i], NULL) != 0) {
            rp_pu_msg(err, errsize, "maildir: path is too long");
            rp_maildir_close(m);
            return 1;
        }
        if (rp_pu_check_dir("maildir", NULL, p, err, errsize) != 0) {
            size_t used = strlen(err);
            rp_pu_msg(err + used, errsize - used,
                      " (path must be a Maildir with cur/ and new/)");
            rp_maildir_close(m);
            return 1;
        }
    }
    if (m->error_dir) {
        struct stat st, newst;
        bool missing = stat(m->error_dir, &st) != 0 && errno == ENOENT;
        if (missing && !(host && host->check_only)) {
            if (mkdir(m->error_dir, 0700) != 0 && errno != EEXIST) {
                rp_pu_msg(err, errsize, "maildir: cannot create error_dir %s: %s",
                          m->error_dir, strerror(errno));
                rp_maildir_close(m);
                return 1;
            }
            missing = false;
        }
        if (!missing) {
            if (rp_pu_check_dir("maildir", NULL, m->error_dir, err, errsize) != 0) {
                rp_maildir_close(m);
                return 1;
            }
            if (rp_maildir_path(p, sizeof p, m->root, "new", NULL) != 0 || stat(p, &newst) != 0 ||
                stat(m->error_dir, &st) != 0 || st.st_dev != newst.st_dev) {
                rp_pu_msg(err, errsize,
                          "maildir: error_dir %s must be on the same file system as the "
                          "Maildir (messages are moved by renaming)",
                          m->error_dir);
                rp_maildir_close(m);
                return 1;
            }
        } else {
            /* check only: the folder would be created in an existing one */
            char *parent = strdup(m->error_dir);
            char *slash = parent ? strrchr(parent, '/') : NULL;
            if (slash)
                *(slash == parent ? slash + 1 : slash) = '\0';
            int bad = !parent || access(slash ? parent : ".", W_OK | X_OK) != 0;
            free(parent);
            if (bad) {
                rp_pu_msg(err, errsize, "maildir: cannot create error_dir %s: %s",
                          m->error_dir, strerror(errno ? errno : ENOMEM));
                rp_maildir_close(m);
                return 1;
            }
        }
    }
    *instance = m;
    return 0;
}

/* ---- listing ---------------------------------------------------------------- */

/* Names in new/ that can be messages: not hidden (nor "." and ".."). */
static bool rp_maildir_keep(void *ctx, const char *name)
{
    (void)ctx;
    return name[0] != '.';
}

/* Replaces the listing with the scan_limit oldest names after `after`
 * (NULL: all; borrowed, it may be a name of the old listing). */
static rp_source_result rp_maildir_relist(rp_maildir *m, const char *after, char *detail,
                                          size_t detailsize)
{
    char p[PATH_MAX];
    if (rp_maildir_path(p, sizeof p, m->root, "new", NULL) != 0) {
        rp_pu_msg(detail, detailsize, "maildir: path is too long");
        return RP_SOURCE_FATAL;
    }
    rp_pu_names names;
    int r = rp_pu_list(p, after, m->scan_limit, rp_maildir_name_cmp, rp_maildir_keep, NULL,
                       &names);
    if (r != 0) {
        int e = errno;
        rp_pu_msg(detail, detailsize, "maildir: cannot list %s: %s", p, strerror(e));
        return r == -1 && (e == ENOENT || e == ENOTDIR || e == EACCES) ? RP_SOURCE_FATAL
                                                                       : RP_SOURCE_RETRY;
    }
    rp_maildir_free_list(m);
    m->list = names;
    m->listed = true;
    return RP_SOURCE_OK;
}

/* ---- reading ---------------------------------------------------------------- */

typedef enum { RP_READ_OK, RP_READ_SKIP, RP_READ_OVERSIZE, RP_READ_FAIL } rp_read_status;

/* Reads new/NAME into m->buf. SKIP: it vanished or is not a file (skipped
 * silently, resp. with a warning); OVERSIZE: larger than max_bytes, not read;
 * FAIL: detail says why (the poll stops with RETRY). */
static rp_read_status rp_maildir_read(rp_maildir *m, const char *name, size_t *len,
                                      int64_t *mtime, off_t *size, char *detail,
                                      size_t detailsize)
{
    char p[PATH_MAX];
    if (rp_maildir_path(p, sizeof p, m->root, "new", name) != 0) {
        rp_pu_log(m->host, RP_LOG_WARN, "maildir: new/%s: path too long, skipped", name);
        return RP_READ_SKIP;
    }
    int fd = open(p, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
    if (fd < 0) {
        int e = errno;
        if (e == ENOENT)
            return RP_READ_SKIP; /* someone else took it */
        if (e == EACCES || e == ELOOP || e == ENXIO) {
            rp_pu_log(m->host, RP_LOG_WARN, "maildir: cannot read new/%s: %s; skipped", name,
                      strerror(e));
            return RP_READ_SKIP;
        }
        rp_pu_msg(detail, detailsize, "maildir: cannot read new/%s: %s", name, strerror(e));
        return RP_READ_FAIL;
    }
    struct stat st;
    if (fstat(fd, &st) != 0) {
        rp_pu_msg(detail, detailsize, "maildir: cannot read new/%s: %s", name,
                  strerror(errno));
        close(fd);
        return RP_READ_FAIL;
    }
    if (!S_ISREG(st.st_mode)) {
        if (!S_ISDIR(st.st_mode))
            rp_pu_log(m->host, RP_LOG_WARN, "maildir: new/%s is not a file; skipped", name);
        close(fd);
        return RP_READ_SKIP;
    }
    *mtime = (int64_t)st.st_mtime;
    *size = st.st_size;
    if ((uint64_t)st.st_size > m->max_bytes) {
        close(fd);
        return RP_READ_OVERSIZE;
    }
    size_t want = (size_t)st.st_size + 1; /* one more shows a file still growing */
    if (want > m->buf_cap) {
        char *nb = realloc(m->buf, want);
        if (!nb) {
            close(fd);
            rp_pu_msg(detail, detailsize, "maildir: out of memory");
            return RP_READ_FAIL;
        }
        m->buf = nb;
        m->buf_cap = want;
    }
    size_t got = 0;
    for (;;) {
        if (got == m->buf_cap) {
            if (got > m->max_bytes) {
                close(fd);
                *size = (off_t)got;
                return RP_READ_OVERSIZE;
            }
            size_t cap = m->buf_cap * 2 > m->max_bytes + 1 ? m->max_bytes + 1 : m->buf_cap * 2;
            char *nb = realloc(m->buf, cap);
            if (!nb) {
                close(fd);
                rp_pu_msg(detail, detailsize, "maildir: out of memory");
                return RP_READ_FAIL;
            }
            m->buf = nb;
            m->buf_cap = cap;
        }
        ssize_t r = read(fd, m->buf + got, m->buf_cap - got);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            rp_pu_msg(detail, detailsize, "maildir: cannot read new/%s: %s", name,
                      strerror(errno));
            close(fd);
            return RP_READ_FAIL;
        }
        if (r == 0)
            break;
        got += (size_t)r;
    }
    close(fd);
    if (got > m->max_bytes) {
        *size = (off_t)got;
        return RP_READ_OVERSIZE;
    }
    *len = got;
    return RP_READ_OK;
}

static rp_source_result rp_maildir_poll(void *instance, unsigned max, rp_source_emit_fn emit,
                                        void *ctx, int *more, char *detail, size_t detailsize)
{
    rp_maildir *m = instance;
    *more = 0;
    if (detail && detailsize)
        detail[0] = '\0';
    if (!m || !emit) {
        rp_pu_msg(detail, detailsize, "maildir: no instance");
        return RP_SOURCE_FATAL;
    }
    rp_maildir_clear_handed(m);
    m->gen++;
    if (max == 0) {
        *more = 1;
        return RP_SOURCE_OK;
    }
    if (m->handed_cap < max) {
        char **nh = realloc(m->handed, (size_t)max * sizeof *nh);
        if (!nh) {
            rp_pu_msg(detail, detailsize, "maildir: out of memory");
            return RP_SOURCE_RETRY;
        }
        m->handed = nh;
        m->handed_cap = max;
    }
    if (!m->listed) {
        /* a new sweep: cur/ must still be there to move messages into */
        char p[PATH_MAX];
        struct stat st;
        if (rp_maildir_path(p, sizeof p, m->root, "cur", NULL) != 0 || stat(p, &st) != 0 ||
            !S_ISDIR(st.st_mode)) {
            rp_pu_msg(detail, detailsize, "maildir: %s/cur is missing or not a folder",
                      m->root);
            return RP_SOURCE_FATAL;
        }
        rp_source_result r = rp_maildir_relist(m, NULL, detail, detailsize);
        if (r != RP_SOURCE_OK)
            return r;
    }
    unsigned emitted = 0;
    for (;;) {
        if (m->cursor == m->list.n) {
            if (!m->list.truncated) {
                rp_maildir_free_list(m); /* sweep done; the next poll starts over */
                return RP_SOURCE_OK;
            }
            if (emitted == max) {
                *more = 1;
                return RP_SOURCE_OK;
            }
            rp_source_result r =
                rp_maildir_relist(m, m->list.n ? m->list.v[m->list.n - 1] : NULL, detail,
                                  detailsize);
            if (r != RP_SOURCE_OK)
                return r;
            continue;
        }
        if (emitted == max) {
            *more = 1;
            return RP_SOURCE_OK;
        }
        if (rp_pu_stopping(m->host)) {
            *more = 1;
            return RP_SOURCE_OK;
        }
        const char *name = m->list.v[m->cursor];
        size_t len = 0;
        int64_t mtime = 0;
        off_t size = 0;
        rp_read_status rs = rp_maildir_read(m, name, &len, &mtime, &size, detail, detailsize);
        if (rs == RP_READ_SKIP) {
            m->cursor++;
            continue;
        }
        if (rs == RP_READ_FAIL) {
            *more = 1;
            return RP_SOURCE_RETRY;
        }
        if (rs == RP_READ_OVERSIZE) {
            rp_pu_log(m->host, RP_LOG_WARN,
                      "maildir: new/%s is %lld bytes, over max_bytes (%zu): handed over "
                      "empty, to be reported unreadable",
                      name, (long long)size, m->max_bytes);
            len = 0;
        }
        char ref[RP_MAILDIR_NAME_MAX + 8];
        snprintf(ref, sizeof ref, "new/%s", name);
        char *copy = strdup(name);
        if (!copy) {
            rp_pu_msg(detail, detailsize, "maildir: out of memory");
            *more = 1;
            return RP_SOURCE_RETRY;
        }
        rp_source_item it = {.data = len ? m->buf : "",
                             .len = len,
                             .format = RP_ITEM_MIME,
                             .ref = ref,
                             .token = ((uint64_t)m->gen << 32) | m->handed_n,
                             .received = mtime};
        if (emit(ctx, &it) != 0) {
            free(copy);
            *more = 1;
            return RP_SOURCE_OK; /* shutting down; this one comes again */
        }
        m->handed[m->handed_n++] = copy;
        m->cursor++;
        emitted++;
    }
}

/* ---- acknowledging ---------------------------------------------------------- */

/* Moves or deletes new/NAME as outcome says. 0, or -1 with detail set. */
static int rp_maildir_settle(rp_maildir *m, const char *name, int outcome, char *detail,
                             size_t detailsize)
{
    char from[PATH_MAX], to[PATH_MAX];
    if (rp_maildir_path(from, sizeof from, m->root, "new", name) != 0) {
        rp_pu_msg(detail, detailsize, "maildir: path too long for new/%s", name);
        return -1;
    }
    int rc;
    const char *what;
    if (outcome != RP_ACK_STORED && m->error_dir) {
        int n = snprintf(to, sizeof to, "%s/%s", m->error_dir, name);
        if (n < 0 || (size_t)n >= sizeof to) {
            rp_pu_msg(detail, detailsize, "maildir: path too long in error_dir");
            return -1;
        }
        what = "move";
        rc = rename(from, to);
        if (rc == 0)
            rp_pu_log(m->host, RP_LOG_WARN, "maildir: new/%s unreadable, moved to %s", name,
                      m->error_dir);
    } else if (outcome == RP_ACK_STORED && m->after == RP_AFTER_DELETE) {
        what = "delete";
        to[0] = '\0';
        rc = unlink(from);
    } else {
        /* unreadable without error_dir: cur/ flagged F, not S, whatever
         * `after` says (never deleted) */
        char add = outcome != RP_ACK_STORED ? 'F' : m->after == RP_AFTER_SEEN ? 'S' : 0;
        char cur[RP_MAILDIR_NAME_MAX + 1];
        if (rp_maildir_cur_name(name, add, cur, sizeof cur) == 0 ||
            rp_maildir_path(to, sizeof to, m->root, "cur", cur) != 0) {
            rp_pu_msg(detail, detailsize, "maildir: no cur/ name for new/%s", name);
            return -1;
        }
        what = "move";
        rc = rename(from, to);
        if (rc == 0 && outcome != RP_ACK_STORED)
            rp_pu_log(m->host, RP_LOG_WARN, "maildir: new/%s unreadable, moved to cur/%s", name,
                      cur);
    }
    if (rc != 0 && errno != ENOENT) {
        rp_pu_msg(detail, detailsize, "maildir: cannot %s new/%s%s%s: %s", what, name,
                  to[0] ? " to " : "", to, strerror(errno));
        return -1;
    }
    return 0;
}

static rp_source_result rp_maildir_ack(void *instance, const uint64_t *tokens, const int *outcome,
                                       size_t n, char *detail, size_t detailsize)
{
    rp_maildir *m = instance;
    if (detail && detailsize)
        detail[0] = '\0';
    if (!m) {
        rp_pu_msg(detail, detailsize, "maildir: no instance");
        return RP_SOURCE_FATAL;
    }
    size_t failed = 0;
    char first[512] = "";
    for (size_t i = 0; i < n; i++) {
        uint64_t t = tokens[i];
        size_t idx = (size_t)(t & 0xffffffffu);
        if ((uint32_t)(t >> 32) != m->gen || idx >= m->handed_n || !m->handed[idx]) {
            rp_pu_log(m->host, RP_LOG_DEBUG,
                      "maildir: acknowledgement of an unknown token ignored");
            continue;
        }
        char one[512];
        if (rp_maildir_settle(m, m->handed[idx], outcome ? outcome[i] : RP_ACK_STORED, one,
                              sizeof one) != 0) {
            if (!failed++)
                memcpy(first, one, sizeof first);
        }
        free(m->handed[idx]);
        m->handed[idx] = NULL;
    }
    if (failed) {
        if (failed == 1)
            rp_pu_msg(detail, detailsize, "%s", first);
        else
            rp_pu_msg(detail, detailsize, "%s (and %zu more)", first, failed - 1);
        return RP_SOURCE_RETRY; /* those stay in new/ and come again next sweep */
    }
    return RP_SOURCE_OK;
}

static const rp_source_ops rp_maildir_ops = {
    .size = sizeof(rp_source_ops),
    .flags = 0,
    .open = rp_maildir_open,
    .poll = rp_maildir_poll,
    .ack = rp_maildir_ack,
    .close = rp_maildir_close,
};

RP_PU_PLUGIN("maildir", "reads new messages from a Maildir and moves them to cur/ once stored",
             NULL, &rp_maildir_ops);
