#include "rp_input.h"

#include <dirent.h>
#include <fcntl.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "rp_buf.h"
#include "rp_jsonl.h"
#include "rp_mail.h"

rp_format rp_format_from_name(const char *name, int *ok)
{
    *ok = 1;
    if (strcmp(name, "auto") == 0)
        return RP_FORMAT_AUTO;
    if (strcmp(name, "jsonl") == 0 || strcmp(name, "json") == 0)
        return RP_FORMAT_JSONL;
    if (strcmp(name, "eml") == 0 || strcmp(name, "mail") == 0)
        return RP_FORMAT_EML;
    *ok = 0;
    return RP_FORMAT_AUTO;
}

static int has_ext(const char *p, const char *ext)
{
    size_t n = strlen(p), e = strlen(ext);
    return n > e && strcasecmp(p + n - e, ext) == 0;
}

static rp_format by_extension(const char *p)
{
    if (has_ext(p, ".jsonl") || has_ext(p, ".ndjson") || has_ext(p, ".json"))
        return RP_FORMAT_JSONL;
    if (has_ext(p, ".eml"))
        return RP_FORMAT_EML;
    return RP_FORMAT_AUTO;
}

typedef struct walker {
    rp_format fmt;
    const rp_limits *lim;
    rp_input_fn fn;
    void *ud;
    int stopped;
} walker;

static void deliver(walker *w, rp_message *m, rp_status st, const rp_error *err)
{
    if (w->stopped) {
        rp_message_free(m);
        return;
    }
    if (w->fn(w->ud, m, st, err))
        w->stopped = 1;
}

static void error_for(walker *w, const char *path, rp_status st, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void error_for(walker *w, const char *path, rp_status st, const char *fmt, ...)
{
    rp_error err;
    char msg[RP_ERROR_MSG_MAX];
    va_list ap;
    va_start(ap, fmt);
    if (vsnprintf(msg, sizeof msg, fmt, ap) < 0)
        msg[0] = '\0';
    va_end(ap);
    rp_error_set(&err, st, "%s", msg);
    rp_message *m = rp_message_new();
    if (m && (rp_message_set(&m->id, path) || rp_message_set(&m->source, path))) {
        rp_message_free(m);
        m = NULL;
    }
    deliver(w, m, st, &err);
}

static void read_jsonl_stream(walker *w, FILE *f, const char *name)
{
    rp_jsonl_reader *r = rp_jsonl_open(f, name, w->lim);
    if (!r) {
        error_for(w, name, RP_ENOMEM, "%s: out of memory", name);
        return;
    }
    while (!w->stopped) {
        rp_message *m = NULL;
        rp_error err;
        rp_error_clear(&err);
        rp_status st = rp_jsonl_next(r, &m, &err);
        if (st == RP_EOF)
            break;
        deliver(w, m, st, &err);
        if (st == RP_EIO || st == RP_ENOMEM)
            break;
    }
    rp_jsonl_close(r);
}

static void read_mail_fileat(walker *w, int dirfd, const char *name, const char *path)
{
    rp_message *m = NULL;
    rp_error err;
    rp_error_clear(&err);
    rp_status st = rp_mail_read_fileat(dirfd, name, path, w->lim, &m, &err);
    if (st != RP_OK && !m) {
        error_for(w, path, st, "%s", err.msg);
        return;
    }
    deliver(w, m, st, &err);
}

static void read_mail_file(walker *w, const char *path)
{
    read_mail_fileat(w, AT_FDCWD, path, path);
}

/* Read the first non-blank byte to tell JSON Lines from mail. */
static rp_format sniff_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return RP_FORMAT_EML; /* the mail reader reports the error */
    int c;
    while ((c = fgetc(f)) != EOF && (c == ' ' || c == '\t' || c == '\r' || c == '\n'))
        ;
    fclose(f);
    return c == '{' ? RP_FORMAT_JSONL : RP_FORMAT_EML;
}

static void walk_path(walker *w, const char *path, int explicit_file, int depth);

static int cmp_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* List a directory's visible entries, sorted by name. */
static char **list_dir(const char *dir, size_t *n, int *err_no)
{
    DIR *d = opendir(dir);
    *n = 0;
    if (!d) {
        *err_no = errno;
        return NULL;
    }
    size_t cap = 16;
    char **v = malloc(cap * sizeof *v);
    struct dirent *de;
    while (v && (de = readdir(d)) != NULL) {
        if (de->d_name[0] == '.')
            continue;
        if (*n == cap) {
            char **nv = realloc(v, cap * 2 * sizeof *nv);
            if (!nv)
                break;
            v = nv;
            cap *= 2;
        }
        if (!(v[*n] = rp_strdup(de->d_name)))
            break;
        (*n)++;
    }
    closedir(d);
    if (!v) {
        *err_no = ENOMEM;
        return NULL;
    }
    qsort(v, *n, sizeof *v, cmp_names);
    return v;
}

static int is_dir(const char *p)
{
    struct stat sb;
    return stat(p, &sb) == 0 && S_ISDIR(sb.st_mode);
}

/* A Maildir folder (new/ or cur/) is read in the order the file system
 * lists it, one entry at a time, so memory stays flat for any number of
 * messages. (Maildir has no order of its own; an IMAP server orders by UID.) */
static void walk_maildir_sub(walker *w, const char *dir)
{
    DIR *d = opendir(dir);
    if (!d) {
        error_for(w, dir, RP_EIO, "cannot read directory: %s", strerror(errno));
        return;
    }
    rp_buf p = {0};
    struct dirent *de;
    while (!w->stopped && (de = readdir(d)) != NULL) {
        if (de->d_name[0] == '.')
            continue;
        rp_buf_reset(&p);
        if (rp_buf_printf(&p, "%s/%s", dir, de->d_name) != RP_OK) {
            error_for(w, dir, RP_ENOMEM, "%s: out of memory", dir);
            break;
        }
        if (de->d_type == DT_DIR || (de->d_type == DT_UNKNOWN && is_dir(p.data)))
            continue;
        /* relative to the open directory: no path walk per message */
        read_mail_fileat(w, dirfd(d), de->d_name, p.data);
    }
    rp_buf_free(&p);
    closedir(d);
}

static void walk_dir(walker *w, const char *dir, int depth, int maildir_sub)
{
    if (maildir_sub) {
        walk_maildir_sub(w, dir);
        return;
    }
    if (depth > 16) {
        error_for(w, dir, RP_ELIMIT, "%s: directories nested too deep", dir);
        return;
    }
    size_t n;
    int e = 0;
    char **names = list_dir(dir, &n, &e);
    if (!names) {
        error_for(w, dir, RP_EIO, "cannot read directory: %s", strerror(e));
        return;
    }
    for (size_t i = 0; i < n && !w->stopped; i++) {
        rp_buf p = {0};
        if (rp_buf_printf(&p, "%s/%s", dir, names[i]) != RP_OK) {
            rp_buf_free(&p);
            error_for(w, dir, RP_ENOMEM, "%s: out of memory", dir);
            break;
        }
        walk_path(w, p.data, 0, depth + 1);
        rp_buf_free(&p);
    }
    for (size_t i = 0; i < n; i++)
        free(names[i]);
    free(names);
}

static void walk_path(walker *w, const char *path, int explicit_file, int depth)
{
    if (strcmp(path, "-") == 0) {
        rp_format f = w->fmt;
        if (f == RP_FORMAT_AUTO) {
            int c;
            while ((c = getc(stdin)) != EOF && (c == ' ' || c == '\t' || c == '\r' || c == '\n'))
                ;
            if (c != EOF && ungetc(c, stdin) == EOF) {
                error_for(w, "-", RP_EIO, "%s", "cannot read standard input");
                return;
            }
            f = c == '{' ? RP_FORMAT_JSONL : RP_FORMAT_EML;
        }
        if (f == RP_FORMAT_JSONL) {
            read_jsonl_stream(w, stdin, "-");
        } else {
            rp_buf b = {0};
            char chunk[65536];
            size_t got;
            int too_big = 0;
            while ((got = fread(chunk, 1, sizeof chunk, stdin)) > 0) {
                if (b.len + got > w->lim->max_message_bytes) {
                    too_big = 1;
                    continue; /* drain */
                }
                if (rp_buf_append(&b, chunk, got) != RP_OK) {
                    rp_buf_free(&b);
                    error_for(w, "-", RP_ENOMEM, "%s", "out of memory");
                    return;
                }
            }
            if (too_big) {
                rp_buf_free(&b);
                error_for(w, "-", RP_ELIMIT, "%s",
                          "message is over the limit (limits.max_message_bytes)");
                return;
            }
            rp_message *m = NULL;
            rp_error err;
            rp_error_clear(&err);
            rp_status st = rp_mail_parse(b.data ? b.data : "", b.len, "-", w->lim, &m, &err);
            rp_buf_free(&b);
            deliver(w, m, st, &err);
        }
        return;
    }
    struct stat sb;
    if (stat(path, &sb) != 0) {
        error_for(w, path, RP_EIO, "cannot open: %s", strerror(errno));
        return;
    }
    if (S_ISDIR(sb.st_mode)) {
        rp_buf cur = {0}, nw = {0};
        int okc = rp_buf_printf(&cur, "%s/cur", path) == RP_OK;
        int okn = rp_buf_printf(&nw, "%s/new", path) == RP_OK;
        if (okc && okn && is_dir(cur.data) && is_dir(nw.data)) {
            walk_dir(w, nw.data, depth, 1);
            walk_dir(w, cur.data, depth, 1);
        } else {
            walk_dir(w, path, depth, 0);
        }
        rp_buf_free(&cur);
        rp_buf_free(&nw);
        return;
    }
    rp_format f = explicit_file && w->fmt != RP_FORMAT_AUTO ? w->fmt : by_extension(path);
    if (f == RP_FORMAT_AUTO) {
        if (!explicit_file)
            return; /* README.md and friends inside a directory */
        f = sniff_file(path);
    }
    if (f == RP_FORMAT_JSONL) {
        FILE *fp = fopen(path, "rb");
        if (!fp) {
            error_for(w, path, RP_EIO, "cannot open: %s", strerror(errno));
            return;
        }
        read_jsonl_stream(w, fp, path);
        fclose(fp);
    } else {
        read_mail_file(w, path);
    }
}

rp_status rp_input_walk(const char *const *paths, size_t npaths, rp_format fmt,
                        const rp_limits *lim, rp_input_fn fn, void *ud)
{
    rp_limits dl = rp_limits_default();
    walker w = {fmt, lim ? lim : &dl, fn, ud, 0};
    static const char *const stdin_only[] = {"-"};
    if (npaths == 0) {
        paths = stdin_only;
        npaths = 1;
    }
    for (size_t i = 0; i < npaths && !w.stopped; i++)
        walk_path(&w, paths[i], 1, 0);
    return w.stopped ? RP_EUSAGE : RP_OK;
}
