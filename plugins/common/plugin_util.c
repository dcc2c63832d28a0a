/* plugin_util.c — the helpers every replyd plugin compiles in
 * (plugin_util.h says what each does, who owns what and how errors come
 * back). No global state: each call works on what it is given.
 */
#define _GNU_SOURCE /* explicit_bzero */
#include "plugin_util.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static void rp_pu_vmsg(char *buf, size_t size, const char *fmt, va_list ap)
    __attribute__((format(printf, 3, 0)));

static void rp_pu_vmsg(char *buf, size_t size, const char *fmt, va_list ap)
{
    if (!buf || size == 0)
        return;
    if (vsnprintf(buf, size, fmt, ap) < 0)
        buf[0] = 0;
}

void rp_pu_msg(char *buf, size_t size, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    rp_pu_vmsg(buf, size, fmt, ap);
    va_end(ap);
}

int rp_pu_fail(char *buf, size_t size, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    rp_pu_vmsg(buf, size, fmt, ap);
    va_end(ap);
    return -1;
}

void rp_pu_log(const rp_plugin_host *host, int level, const char *fmt, ...)
{
    if (!host || !host->log)
        return;
    char line[1024];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    if (n >= 0)
        host->log(host->ctx, level, line);
}

bool rp_pu_stopping(const rp_plugin_host *host)
{
    return host && host->stopping && host->stopping(host->ctx);
}

/* ---- options ---- */

int rp_pu_options(const char *plugin, const char *const *known, const rp_pu_refusal *refused,
                  const rp_plugin_option *opts, size_t nopts, const char **val, char *err,
                  size_t errsize)
{
    size_t nknown = 0;
    while (known[nknown])
        nknown++;
    for (size_t j = 0; j < nknown; j++)
        val[j] = NULL;
    for (size_t i = 0; i < nopts; i++) {
        const char *k = opts[i].key ? opts[i].key : "";
        size_t which = 0;
        while (which < nknown && strcmp(k, known[which]) != 0)
            which++;
        if (which == nknown) {
            for (const rp_pu_refusal *r = refused; r && r->key; r++)
                if (strcmp(k, r->key) == 0)
                    return rp_pu_fail(err, errsize, "%s: %s", plugin, r->why);
            rp_pu_msg(err, errsize, "%s: unknown option '%s' (known: ", plugin, k);
            for (size_t j = 0; j < nknown; j++) {
                size_t used = err && errsize ? strlen(err) : 0;
                rp_pu_msg(err ? err + used : NULL, errsize - used, "%s%s", known[j],
                          j + 1 < nknown ? ", " : ")");
            }
            return -1;
        }
        if (val[which])
            return rp_pu_fail(err, errsize, "%s: option '%s' given twice", plugin, k);
        val[which] = opts[i].value ? opts[i].value : "";
    }
    return 0;
}

int rp_pu_uint(const char *v, unsigned long long lo, unsigned long long hi,
               unsigned long long *out)
{
    if (!v || v[0] < '0' || v[0] > '9')
        return -1;
    char *end = NULL;
    errno = 0;
    unsigned long long x = strtoull(v, &end, 10);
    if (errno || !end || *end || x < lo || x > hi)
        return -1;
    *out = x;
    return 0;
}

int rp_pu_uint_opt(const char *plugin, const char *key, const char *v, size_t lo, size_t hi,
                   size_t *out, char *err, size_t errsize)
{
    unsigned long long x;
    if (rp_pu_uint(v, lo, hi, &x) != 0)
        return rp_pu_fail(err, errsize, "%s: option '%s' must be a whole number from %zu to %zu",
                          plugin, key, lo, hi);
    *out = (size_t)x;
    return 0;
}

int rp_pu_ms_opt(const char *plugin, const char *key, const char *v, long *out, char *err,
                 size_t errsize)
{
    unsigned long long x;
    if (rp_pu_uint(v, 1, (unsigned long long)RP_PU_MS_MAX, &x) != 0)
        return rp_pu_fail(err, errsize,
                          "%s: option '%s' must be a number of milliseconds (1..%ld)", plugin,
                          key, RP_PU_MS_MAX);
    *out = (long)x;
    return 0;
}

/* ---- strings and paths ---- */

char *rp_pu_strdup(const char *s)
{
    if (!s)
        return NULL;
    size_t n = strlen(s) + 1;
    char *d = malloc(n);
    if (d)
        memcpy(d, s, n);
    return d;
}

char *rp_pu_path(const char *base_dir, const char *path)
{
    if (path[0] == '/' || !base_dir || !base_dir[0])
        return rp_pu_strdup(path);
    size_t need = strlen(base_dir) + 1 + strlen(path) + 1;
    char *out = malloc(need);
    if (out)
        snprintf(out, need, "%s/%s", base_dir, path);
    return out;
}

char *rp_pu_dir(const char *base_dir, const char *path)
{
    char *out = rp_pu_path(base_dir, path);
    if (!out)
        return NULL;
    size_t len = strlen(out);
    while (len > 1 && out[len - 1] == '/')
        out[--len] = '\0';
    return out;
}

int rp_pu_check_dir(const char *plugin, const char *what, const char *path, char *err,
                    size_t errsize)
{
    const char *w = what ? what : "", *sp = what ? " " : "";
    struct stat st;
    if (stat(path, &st) != 0)
        return rp_pu_fail(err, errsize, "%s: %s%s%s: %s", plugin, w, sp, path, strerror(errno));
    if (!S_ISDIR(st.st_mode))
        return rp_pu_fail(err, errsize, "%s: %s%s%s is not a folder", plugin, w, sp, path);
    if (access(path, R_OK | W_OK | X_OK) != 0)
        return rp_pu_fail(err, errsize, "%s: %s%s%s: %s", plugin, w, sp, path, strerror(errno));
    return 0;
}

/* ---- options of plugins that talk TLS ---- */

int rp_pu_tls_opt(const char *plugin, const char *v, bool implicit_url, const char *tls_scheme,
                  rp_pu_tls *out, char *err, size_t errsize)
{
    if (!v)
        *out = implicit_url ? RP_PU_TLS_IMPLICIT : RP_PU_TLS_STARTTLS;
    else if (strcmp(v, "none") == 0)
        *out = RP_PU_TLS_NONE;
    else if (strcmp(v, "starttls") == 0)
        *out = RP_PU_TLS_STARTTLS;
    else if (strcmp(v, "tls") == 0)
        *out = RP_PU_TLS_IMPLICIT;
    else
        return rp_pu_fail(err, errsize, "%s: option 'tls' must be none, starttls or tls", plugin);
    if (implicit_url && *out != RP_PU_TLS_IMPLICIT)
        return rp_pu_fail(err, errsize, "%s: an %s:// url always uses TLS; tls must be 'tls'",
                          plugin, tls_scheme);
    if (!implicit_url && *out == RP_PU_TLS_IMPLICIT)
        return rp_pu_fail(err, errsize, "%s: tls 'tls' (implicit TLS) needs an %s:// url",
                          plugin, tls_scheme);
    return 0;
}

char *rp_pu_ca_file(const char *plugin, const char *base_dir, const char *v, char *err,
                    size_t errsize)
{
    if (!v[0]) {
        rp_pu_msg(err, errsize, "%s: option 'ca_file' is empty", plugin);
        return NULL;
    }
    char *path = rp_pu_path(base_dir, v);
    if (!path) {
        rp_pu_msg(err, errsize, "%s: out of memory", plugin);
        return NULL;
    }
    if (access(path, R_OK) != 0) {
        rp_pu_msg(err, errsize, "%s: ca_file %s: %s", plugin, path, strerror(errno));
        free(path);
        return NULL;
    }
    return path;
}

/* ---- passwords ---- */

static void rp_pu_wipe_buf(char *buf)
{
    explicit_bzero(buf, RP_PU_PASSWORD_MAX + 2);
    free(buf);
}

/* Reads the password file at path (see rp_pu_password). */
static char *rp_pu_password_file(const char *plugin, const char *path, char *err,
                                 size_t errsize)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
    if (fd < 0) {
        rp_pu_msg(err, errsize, "%s: password_file %s: %s", plugin, path, strerror(errno));
        return NULL;
    }
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        rp_pu_msg(err, errsize, "%s: password_file %s is not a regular file", plugin, path);
        (void)close(fd);
        return NULL;
    }
    if (st.st_mode & (S_IRWXG | S_IRWXO)) {
        rp_pu_msg(err, errsize,
                  "%s: password_file %s is accessible to group or others (mode %03o); "
                  "make it owner-only (chmod 600)",
                  plugin, path, (unsigned)(st.st_mode & 0777));
        (void)close(fd);
        return NULL;
    }
    if (st.st_size > RP_PU_PASSWORD_MAX) {
        rp_pu_msg(err, errsize, "%s: password_file %s is larger than %d bytes", plugin, path,
                  RP_PU_PASSWORD_MAX);
        (void)close(fd);
        return NULL;
    }
    char *buf = calloc(1, RP_PU_PASSWORD_MAX + 2);
    if (!buf) {
        (void)close(fd);
        rp_pu_msg(err, errsize, "%s: out of memory", plugin);
        return NULL;
    }
    size_t len = 0;
    for (;;) {
        ssize_t n = read(fd, buf + len, RP_PU_PASSWORD_MAX + 1 - len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            rp_pu_msg(err, errsize, "%s: password_file %s: %s", plugin, path, strerror(errno));
            (void)close(fd);
            rp_pu_wipe_buf(buf);
            return NULL;
        }
        if (n == 0)
            break;
        len += (size_t)n;
        if (len > RP_PU_PASSWORD_MAX) {
            /* it grew since fstat() */
            rp_pu_msg(err, errsize, "%s: password_file %s is larger than %d bytes", plugin,
                      path, RP_PU_PASSWORD_MAX);
            (void)close(fd);
            rp_pu_wipe_buf(buf);
            return NULL;
        }
    }
    (void)close(fd);
    if (len && buf[len - 1] == '\n')
        buf[--len] = 0;
    if (len && buf[len - 1] == '\r')
        buf[--len] = 0;
    if (len == 0 || memchr(buf, 0, len) || memchr(buf, '\n', len)) {
        rp_pu_msg(err, errsize, "%s: password_file %s must hold one non-empty line", plugin,
                  path);
        rp_pu_wipe_buf(buf);
        return NULL;
    }
    return buf;
}

char *rp_pu_password(const char *plugin, const char *base_dir, const char *env,
                     const char *file, char *err, size_t errsize)
{
    if (env) {
        const char *pw = env[0] ? getenv(env) : NULL;
        if (!pw || !pw[0]) {
            rp_pu_msg(err, errsize,
                      "%s: password_env: environment variable '%s' is not set or empty", plugin,
                      env);
            return NULL;
        }
        char *copy = rp_pu_strdup(pw);
        if (!copy)
            rp_pu_msg(err, errsize, "%s: out of memory", plugin);
        return copy;
    }
    if (!file) {
        rp_pu_msg(err, errsize, "%s: a password needs password_env or password_file", plugin);
        return NULL;
    }
    char *path = rp_pu_path(base_dir, file);
    if (!path) {
        rp_pu_msg(err, errsize, "%s: out of memory", plugin);
        return NULL;
    }
    char *pw = rp_pu_password_file(plugin, path, err, errsize);
    free(path);
    return pw;
}

void rp_pu_wipe_free(char *s)
{
    if (!s)
        return;
    explicit_bzero(s, strlen(s));
    free(s);
}

/* ---- folder listings ----
 * While the folder is read, the names kept form a max-heap by cmp (the
 * largest at h[0], dropped first when a smaller one comes); at the end the
 * heap is sorted in place. */

static void rp_pu_sift_down(char **h, size_t n, size_t i, rp_pu_cmp_fn cmp)
{
    for (;;) {
        size_t l = 2 * i + 1, r = l + 1, big = i;
        if (l < n && cmp(h[l], h[big]) > 0)
            big = l;
        if (r < n && cmp(h[r], h[big]) > 0)
            big = r;
        if (big == i)
            return;
        char *t = h[i];
        h[i] = h[big];
        h[big] = t;
        i = big;
    }
}

static void rp_pu_sift_up(char **h, size_t i, rp_pu_cmp_fn cmp)
{
    while (i > 0) {
        size_t up = (i - 1) / 2;
        if (cmp(h[i], h[up]) <= 0)
            return;
        char *t = h[i];
        h[i] = h[up];
        h[up] = t;
        i = up;
    }
}

int rp_pu_list(const char *dir, const char *after, size_t limit, rp_pu_cmp_fn cmp,
               rp_pu_keep_fn keep, void *ctx, rp_pu_names *out)
{
    out->v = NULL;
    out->n = 0;
    out->truncated = false;
    DIR *d = opendir(dir);
    if (!d)
        return -1;
    char **heap = limit ? malloc(limit * sizeof *heap) : NULL;
    if (!heap) {
        closedir(d);
        errno = ENOMEM;
        return -2;
    }
    size_t n = 0;
    bool truncated = false;
    int rerr = 0;
    for (;;) {
        errno = 0;
        struct dirent *de = readdir(d);
        if (!de) {
            rerr = errno;
            break;
        }
        const char *name = de->d_name;
#ifdef DT_DIR
        if (de->d_type == DT_DIR)
            continue;
#endif
        if ((after && cmp(name, after) <= 0) || (keep && !keep(ctx, name)))
            continue;
        if (n == limit) {
            truncated = true;
            if (cmp(name, heap[0]) >= 0)
                continue;
        }
        char *s = rp_pu_strdup(name);
        if (!s) {
            rerr = ENOMEM;
            break;
        }
        if (n == limit) {
            free(heap[0]);
            heap[0] = s;
            rp_pu_sift_down(heap, n, 0, cmp);
        } else {
            heap[n++] = s;
            rp_pu_sift_up(heap, n - 1, cmp);
        }
    }
    closedir(d);
    if (rerr) {
        for (size_t i = 0; i < n; i++)
            free(heap[i]);
        free(heap);
        errno = rerr;
        return -2;
    }
    for (size_t end = n; end > 1; end--) {
        char *t = heap[0];
        heap[0] = heap[end - 1];
        heap[end - 1] = t;
        rp_pu_sift_down(heap, end - 1, 0, cmp);
    }
    out->v = heap;
    out->n = n;
    out->truncated = truncated;
    return 0;
}

void rp_pu_names_free(rp_pu_names *names)
{
    if (!names)
        return;
    for (size_t i = 0; i < names->n; i++)
        free(names->v[i]);
    free(names->v);
    names->v = NULL;
    names->n = 0;
    names->truncated = false;
}
