/* rp_log.c — logfmt / JSON event lines, redacted, one write per line. */
#include "rp_log.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "rp_buf.h"
#include "rp_engine.h"

struct rp_log {
    FILE *out;
    rp_log_format format;
    int level;
    unsigned long write_errors;
    pthread_mutex_t lock;
};

static const char *const level_names[] = {"error", "warn", "info", "debug"};

rp_log *rp_log_new(FILE *out, rp_log_format format, int level)
{
    rp_log *l = calloc(1, sizeof *l);
    if (!l)
        return NULL;
    if (pthread_mutex_init(&l->lock, NULL) != 0) {
        free(l);
        return NULL;
    }
    l->out = out;
    l->format = format;
    l->level = level;
    return l;
}

void rp_log_free(rp_log *l)
{
    if (!l)
        return;
    pthread_mutex_destroy(&l->lock);
    free(l);
}

void rp_log_set(rp_log *l, rp_log_format format, int level)
{
    pthread_mutex_lock(&l->lock);
    l->format = format;
    l->level = level;
    pthread_mutex_unlock(&l->lock);
}

bool rp_log_enabled(rp_log *l, int level)
{
    pthread_mutex_lock(&l->lock);
    bool on = level <= l->level;
    pthread_mutex_unlock(&l->lock);
    return on;
}

unsigned long rp_log_write_errors(rp_log *l)
{
    pthread_mutex_lock(&l->lock);
    unsigned long n = l->write_errors;
    pthread_mutex_unlock(&l->lock);
    return n;
}

rp_status rp_logfmt_value(rp_buf *b, const char *v, size_t n)
{
    bool bare = n > 0;
    for (size_t i = 0; i < n && bare; i++) {
        unsigned char c = (unsigned char)v[i];
        bare = c > ' ' && c != '"' && c != '=' && c != '\\' && c < 0x7f;
    }
    if (bare)
        return rp_buf_append(b, v, n);
    rp_status st = rp_buf_append_char(b, '"');
    for (size_t i = 0; i < n && st == RP_OK; i++) {
        unsigned char c = (unsigned char)v[i];
        if (c == '"' || c == '\\') {
            char esc[2] = {'\\', (char)c};
            st = rp_buf_append(b, esc, 2);
        } else if (c == '\n')
            st = rp_buf_append_str(b, "\\n");
        else if (c < ' ' || c == 0x7f)
            st = rp_buf_printf(b, "\\x%02x", c);
        else
            st = rp_buf_append_char(b, (char)c);
    }
    if (st == RP_OK)
        st = rp_buf_append_char(b, '"');
    return st;
}

static rp_status put(rp_buf *b, rp_log_format f, bool first, const char *key, const char *v,
                     size_t n, bool number)
{
    rp_status st;
    if (f == RP_LOG_JSON) {
        st = rp_buf_printf(b, "%s\"%s\":", first ? "" : ",", key);
        if (st == RP_OK)
            st = number ? rp_buf_append(b, v, n) : rp_buf_append_json_string(b, v, n);
    } else {
        st = rp_buf_printf(b, "%s%s=", first ? "" : " ", key);
        if (st == RP_OK)
            st = rp_logfmt_value(b, v, n);
    }
    return st;
}

/* One field of an event line. */
typedef struct field {
    const char *key;
    const char *val;
    size_t len;
    int kind; /* 0 text (redacted), 1 number, 2 replyd's own text (not redacted) */
} field;

#define MAX_FIELDS 40

static void emit(rp_log *l, int level, const char *event, const field *fs, size_t n)
{
    pthread_mutex_lock(&l->lock);
    rp_log_format f = l->format;
    pthread_mutex_unlock(&l->lock);

    rp_buf b = {0}, red = {0};
    char ts[80];
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    struct tm tm;
    gmtime_r(&now.tv_sec, &tm);
    snprintf(ts, sizeof ts, "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ", tm.tm_year + 1900,
             tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
             (long)(now.tv_nsec / 1000000) % 1000);
    const char *lv = (unsigned)level < 4 ? level_names[level] : "info";
    rp_status st = f == RP_LOG_JSON ? rp_buf_append_char(&b, '{') : RP_OK;
    if (st == RP_OK)
        st = put(&b, f, true, "ts", ts, strlen(ts), false);
    if (st == RP_OK)
        st = put(&b, f, false, "level", lv, strlen(lv), false);
    if (st == RP_OK)
        st = put(&b, f, false, "event", event, strlen(event), false);
    for (size_t i = 0; st == RP_OK && i < n; i++) {
        if (fs[i].kind != 0) {
            st = put(&b, f, false, fs[i].key, fs[i].val, fs[i].len, fs[i].kind == 1);
            continue;
        }
        red.len = 0;
        /* rp_redact wants a NUL-terminated text */
        rp_buf tmp = {0};
        st = rp_buf_append(&tmp, fs[i].val, fs[i].len);
        if (st == RP_OK)
            st = rp_buf_append_char(&tmp, '\0');
        if (st == RP_OK)
            st = rp_redact(tmp.data, &red);
        rp_buf_free(&tmp);
        if (st == RP_OK)
            st = put(&b, f, false, fs[i].key, red.data ? red.data : "", red.len, false);
    }
    if (st == RP_OK && f == RP_LOG_JSON)
        st = rp_buf_append_char(&b, '}');
    if (st == RP_OK)
        st = rp_buf_append_char(&b, '\n');
    pthread_mutex_lock(&l->lock);
    if (st != RP_OK || fwrite(b.data, 1, b.len, l->out) != b.len || fflush(l->out) != 0)
        l->write_errors++;
    pthread_mutex_unlock(&l->lock);
    rp_buf_free(&b);
    rp_buf_free(&red);
}

void rp_log_event(rp_log *l, int level, const char *event, ...)
{
    if (!l || !rp_log_enabled(l, level))
        return;
    field fs[MAX_FIELDS];
    char nums[MAX_FIELDS][24];
    size_t n = 0;
    va_list ap;
    va_start(ap, event);
    for (const char *key; (key = va_arg(ap, const char *)) != NULL;) {
        if (key[0] == '#') {
            int64_t v = va_arg(ap, int64_t);
            if (n == MAX_FIELDS)
                continue;
            int len = snprintf(nums[n], sizeof nums[n], "%lld", (long long)v);
            fs[n] = (field){key + 1, nums[n], (size_t)len, 1};
            n++;
            continue;
        }
        const char *v = va_arg(ap, const char *);
        if (!v || n == MAX_FIELDS)
            continue;
        fs[n] = key[0] == '!' ? (field){key + 1, v, strlen(v), 2} : (field){key, v, strlen(v), 0};
        n++;
    }
    va_end(ap);
    emit(l, level, event, fs, n);
}

void rp_log_fields(rp_log *l, int level, const char *event, const char *const *keys,
                   const char *const *vals, size_t n, const char *const *free_text_keys)
{
    if (!l || !rp_log_enabled(l, level))
        return;
    field fs[MAX_FIELDS];
    size_t m = 0;
    for (size_t i = 0; i < n && m < MAX_FIELDS; i++) {
        if (!keys[i] || !vals[i])
            continue;
        int kind = 2;
        for (size_t j = 0; free_text_keys && free_text_keys[j]; j++)
            if (strcmp(keys[i], free_text_keys[j]) == 0)
                kind = 0;
        fs[m++] = (field){keys[i], vals[i], strlen(vals[i]), kind};
    }
    emit(l, level, event, fs, m);
}
