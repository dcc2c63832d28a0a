/* webhook.c — the "webhook" sink: each reply is POSTed as a JSON object to one
 * URL, signed with HMAC-SHA256, one attempt per send() call. The host owns
 * retries (backoff, jitter, Retry-After); this plugin only classifies how the
 * attempt ended. Receivers de-duplicate on the Idempotency-Key header, so the
 * sink is RP_SINK_IDEMPOTENT and an attempt whose outcome is unknown may be
 * sent again with the same key. docs/sink-webhook.md describes the options,
 * the request and the result mapping.
 */
#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <glib.h>
#include <inttypes.h>
#include <jansson.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "plugin.h"
#include "plugin_util.h"
#include "webhook_text.h"

#define WH_DEFAULT_TIMEOUT_MS 10000L
#define WH_DEFAULT_CONNECT_TIMEOUT_MS 5000L
#define WH_MAX_TIMEOUT_MS 600000L
#define WH_DEFAULT_PREFIX "X-Replyd-"
#define WH_SECRET_MAX 4096
#define WH_KEY_MAX 512         /* idempotency key, bytes */
#define WH_RESP_KEEP 1024      /* response bytes kept for the detail */
#define WH_RESP_MAX (1L << 20) /* response bytes read before giving up on the rest */
#define WH_DETAIL_BODY 200     /* response bytes shown in the detail */

typedef struct wh_instance {
    CURL *curl;
    int curl_global; /* curl_global_init() succeeded: pair it */
    char *url;
    char *ca_file;
    char *prefix;
    unsigned char *key; /* NULL when unsigned */
    size_t keylen;
    long timeout_ms;
    long connect_timeout_ms;
    /* state of the current attempt */
    const char *req_body;      /* the JSON being sent, and how much of it went */
    size_t req_len;
    size_t req_off;
    int request_sent;          /* some of the request went out on the wire */
    char resp[WH_RESP_KEEP];   /* start of the response body */
    size_t resp_len;
    size_t resp_total;         /* body bytes seen so far */
    long long retry_after;     /* seconds, -1 when the response had none */
    char errbuf[CURL_ERROR_SIZE];
} wh_instance;

static int parse_ms(const char *name, const char *v, long *out, char *err, size_t errsize)
{
    unsigned long long n;
    if (rp_pu_uint(v, 1, WH_MAX_TIMEOUT_MS, &n) != 0)
        return rp_pu_fail(err, errsize, "webhook: %s must be a number of milliseconds in 1..%ld",
                          name, WH_MAX_TIMEOUT_MS);
    *out = (long)n;
    return 0;
}

static int parse_bool(const char *name, const char *v, int *out, char *err, size_t errsize)
{
    if (!strcasecmp(v, "true") || !strcasecmp(v, "yes")) {
        *out = 1;
        return 0;
    }
    if (!strcasecmp(v, "false") || !strcasecmp(v, "no")) {
        *out = 0;
        return 0;
    }
    return rp_pu_fail(err, errsize, "webhook: %s must be true or false", name);
}

static int check_url(const char *url, char *err, size_t errsize)
{
    if (strncasecmp(url, "http://", 7) && strncasecmp(url, "https://", 8))
        return rp_pu_fail(err, errsize, "webhook: url must start with http:// or https://");
    CURLU *u = curl_url();
    if (!u)
        return rp_pu_fail(err, errsize, "webhook: out of memory");
    char *host = NULL;
    CURLUcode uc = curl_url_set(u, CURLUPART_URL, url, 0);
    if (uc == CURLUE_OK)
        uc = curl_url_get(u, CURLUPART_HOST, &host, 0);
    int bad = uc != CURLUE_OK || !host || !*host;
    curl_free(host);
    curl_url_cleanup(u);
    if (bad)
        return rp_pu_fail(err, errsize, "webhook: url is not a valid URL with a host");
    return 0;
}

static void wipe(void *p, size_t n)
{
    if (p && n)
        explicit_bzero(p, n);
}

/* The key from a file only its owner may read; trailing line ends trimmed. */
static int read_secret_file(wh_instance *w, const char *base_dir, const char *name, char *err,
                            size_t errsize)
{
    char *path = rp_pu_path(base_dir, name);
    if (!path)
        return rp_pu_fail(err, errsize, "webhook: out of memory");
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
    if (fd < 0) {
        int e = errno;
        rp_pu_msg(err, errsize, "webhook: secret_file %s: %s", path, strerror(e));
        free(path);
        return -1;
    }
    struct stat st;
    int rc = -1;
    unsigned char *buf = NULL;
    if (fstat(fd, &st) != 0) {
        rp_pu_msg(err, errsize, "webhook: secret_file %s: %s", path, strerror(errno));
    } else if (!S_ISREG(st.st_mode)) {
        rp_pu_msg(err, errsize, "webhook: secret_file %s is not a regular file", path);
    } else if (st.st_mode & (S_IRWXG | S_IRWXO)) {
        rp_pu_msg(err, errsize,
                  "webhook: secret_file %s is accessible by group or others (mode %04o); "
                  "it must be readable by its owner only (chmod 600)",
                  path, (unsigned)(st.st_mode & 07777));
    } else if (st.st_size > WH_SECRET_MAX) {
        rp_pu_msg(err, errsize, "webhook: secret_file %s is larger than %d bytes", path,
                  WH_SECRET_MAX);
    } else if (!(buf = malloc(WH_SECRET_MAX + 1))) {
        rp_pu_msg(err, errsize, "webhook: out of memory");
    } else {
        size_t len = 0;
        ssize_t n;
        while (len <= WH_SECRET_MAX &&
               (n = read(fd, buf + len, WH_SECRET_MAX + 1 - len)) != 0) {
            if (n < 0) {
                if (errno == EINTR)
                    continue;
                break;
            }
            len += (size_t)n;
        }
        if (len > WH_SECRET_MAX) {
            rp_pu_msg(err, errsize, "webhook: secret_file %s is larger than %d bytes", path,
                      WH_SECRET_MAX);
        } else if (n < 0) {
            rp_pu_msg(err, errsize, "webhook: secret_file %s: %s", path, strerror(errno));
        } else {
            while (len > 0 && (buf[len - 1] == '\n' || buf[len - 1] == '\r'))
                len--;
            if (len == 0) {
                rp_pu_msg(err, errsize, "webhook: secret_file %s is empty", path);
            } else {
                w->key = buf;
                w->keylen = len;
                buf = NULL;
                rc = 0;
            }
        }
    }
    if (buf) {
        wipe(buf, WH_SECRET_MAX + 1);
        free(buf);
    }
    close(fd);
    free(path);
    return rc;
}

static int read_secret_env(wh_instance *w, const char *var, char *err, size_t errsize)
{
    const char *v = *var ? getenv(var) : NULL;
    if (!v || !*v)
        return rp_pu_fail(err, errsize,
                          "webhook: secret_env: environment variable '%s' is not set or empty",
                          var);
    size_t len = strlen(v);
    if (len > WH_SECRET_MAX)
        return rp_pu_fail(err, errsize, "webhook: secret_env: the key is longer than %d bytes",
                          WH_SECRET_MAX);
    w->key = malloc(len);
    if (!w->key)
        return rp_pu_fail(err, errsize, "webhook: out of memory");
    memcpy(w->key, v, len);
    w->keylen = len;
    return 0;
}

static void wh_close(void *instance)
{
    wh_instance *w = instance;
    if (!w)
        return;
    if (w->curl)
        curl_easy_cleanup(w->curl);
    if (w->curl_global)
        curl_global_cleanup();
    wipe(w->key, w->keylen);
    free(w->key);
    free(w->url);
    free(w->ca_file);
    free(w->prefix);
    free(w);
}

/* --- libcurl callbacks --------------------------------------------------- */

static size_t on_body(char *data, size_t size, size_t nmemb, void *userp)
{
    wh_instance *w = userp;
    size_t n = size * nmemb;
    if (w->resp_len < sizeof w->resp) {
        size_t room = sizeof w->resp - w->resp_len;
        size_t take = n < room ? n : room;
        memcpy(w->resp + w->resp_len, data, take);
        w->resp_len += take;
    }
    w->resp_total += n;
    if (w->resp_total > (size_t)WH_RESP_MAX)
        return 0; /* enough: the status line already decided */
    return n;
}

/* The body goes through a read callback, not CURLOPT_POSTFIELDS, and cannot
 * be rewound: so libcurl cannot silently send it a second time when a reused
 * connection dies, and each send() is exactly one attempt. */
static size_t on_read(char *buf, size_t size, size_t nitems, void *userp)
{
    wh_instance *w = userp;
    size_t room = size * nitems;
    size_t left = w->req_len - w->req_off;
    size_t n = left < room ? left : room;
    if (n > 0) {
        memcpy(buf, w->req_body + w->req_off, n);
        w->req_off += n;
    }
    return n;
}

static int on_seek(void *userp, curl_off_t offset, int origin)
{
    (void)userp;
    (void)offset;
    (void)origin;
    return CURL_SEEKFUNC_CANTSEEK;
}

static int header_is(const char *line, size_t n, const char *name)
{
    size_t l = strlen(name);
    return n > l && line[l] == ':' && !strncasecmp(line, name, l);
}

static size_t on_header(char *data, size_t size, size_t nmemb, void *userp)
{
    wh_instance *w = userp;
    size_t n = size * nmemb;
    if (n >= 5 && !strncmp(data, "HTTP/", 5)) {
        /* a new response (an interim 1xx or the final one) */
        w->retry_after = -1;
        w->resp_len = 0;
        w->resp_total = 0;
    } else if (header_is(data, n, "Retry-After")) {
        char v[128];
        size_t i = strlen("Retry-After:");
        while (i < n && (data[i] == ' ' || data[i] == '\t'))
            i++;
        size_t e = n;
        while (e > i && (data[e - 1] == '\r' || data[e - 1] == '\n' || data[e - 1] == ' ' ||
                         data[e - 1] == '\t'))
            e--;
        if (e - i > 0 && e - i < sizeof v) {
            memcpy(v, data + i, e - i);
            v[e - i] = 0;
            char *end;
            errno = 0;
            long long secs = strtoll(v, &end, 10);
            if (v[0] >= '0' && v[0] <= '9' && !*end && !errno) {
                w->retry_after = secs;
            } else {
                time_t at = curl_getdate(v, NULL);
                time_t now = time(NULL);
                if (at != (time_t)-1 && now != (time_t)-1)
                    w->retry_after = at > now ? (long long)(at - now) : 0;
            }
        }
    }
    return n;
}

static int on_debug(CURL *h, curl_infotype type, char *data, size_t size, void *userp)
{
    (void)h;
    (void)data;
    wh_instance *w = userp;
    if ((type == CURLINFO_HEADER_OUT || type == CURLINFO_DATA_OUT) && size > 0)
        w->request_sent = 1;
    return 0;
}

/* --- open ------------------------------------------------------------------ */

/* The options every attempt shares. */
static CURLcode apply_options(wh_instance *w)
{
    CURL *c = w->curl;
    CURLcode rc = CURLE_OK;
#define WH_SET(opt, val)                                                                    \
    do {                                                                                    \
        if (rc == CURLE_OK)                                                                 \
            rc = curl_easy_setopt(c, opt, val);                                             \
    } while (0)
    WH_SET(CURLOPT_URL, w->url);
#if LIBCURL_VERSION_NUM >= 0x075500
    WH_SET(CURLOPT_PROTOCOLS_STR, "http,https");
#else
    WH_SET(CURLOPT_PROTOCOLS, (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS));
#endif
    WH_SET(CURLOPT_POST, 1L);
    WH_SET(CURLOPT_FOLLOWLOCATION, 0L);
    WH_SET(CURLOPT_NOSIGNAL, 1L);
    WH_SET(CURLOPT_TIMEOUT_MS, w->timeout_ms);
    WH_SET(CURLOPT_CONNECTTIMEOUT_MS, w->connect_timeout_ms);
    WH_SET(CURLOPT_TCP_KEEPALIVE, 1L);
    WH_SET(CURLOPT_USERAGENT, "replyd");
    WH_SET(CURLOPT_ERRORBUFFER, w->errbuf);
    WH_SET(CURLOPT_WRITEFUNCTION, on_body);
    WH_SET(CURLOPT_WRITEDATA, w);
    WH_SET(CURLOPT_READFUNCTION, on_read);
    WH_SET(CURLOPT_READDATA, w);
    WH_SET(CURLOPT_SEEKFUNCTION, on_seek);
    WH_SET(CURLOPT_SEEKDATA, w);
    WH_SET(CURLOPT_HEADERFUNCTION, on_header);
    WH_SET(CURLOPT_HEADERDATA, w);
    /* the debug callback is how we learn whether the request went out */
    WH_SET(CURLOPT_DEBUGFUNCTION, on_debug);
    WH_SET(CURLOPT_DEBUGDATA, w);
    WH_SET(CURLOPT_VERBOSE, 1L);
    if (w->ca_file)
        WH_SET(CURLOPT_CAINFO, w->ca_file);
#undef WH_SET
    return rc;
}

static int setup_curl(wh_instance *w, char *err, size_t errsize)
{
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
        return rp_pu_fail(err, errsize, "webhook: libcurl could not be initialised");
    w->curl_global = 1;
    w->curl = curl_easy_init();
    if (!w->curl)
        return rp_pu_fail(err, errsize, "webhook: libcurl could not be initialised");
    CURLcode rc = apply_options(w);
    if (rc != CURLE_OK)
        return rp_pu_fail(err, errsize, "webhook: libcurl: %s", curl_easy_strerror(rc));
    return 0;
}

/* Make the handle forget the request's headers before they are freed.
 * Should that fail, the handle is reset (its connections stay in the
 * cache); if even that fails, it is dropped and later sends say so. */
static void detach_request(wh_instance *w)
{
    w->req_body = NULL;
    w->req_len = w->req_off = 0;
    if (curl_easy_setopt(w->curl, CURLOPT_HTTPHEADER, (struct curl_slist *)NULL) == CURLE_OK)
        return;
    curl_easy_reset(w->curl);
    if (apply_options(w) != CURLE_OK) {
        curl_easy_cleanup(w->curl);
        w->curl = NULL;
    }
}

static int wh_open(const rp_plugin_host *host, const rp_plugin_option *opts, size_t nopts,
                   void **instance, char *err, size_t errsize)
{
    static const char *const known[] = {
        "url",        "secret_env", "secret_file",   "unsigned",
        "timeout_ms", "ca_file",    "header_prefix", "connect_timeout_ms", NULL,
    };
    static const rp_pu_refusal refused[] = {
        {"secret", "option 'secret' is not supported: keep the key out of the configuration, in "
                   "secret_env or secret_file"},
        {"headers", "option 'headers' is not supported"},
        {NULL, NULL},
    };
    const char *val[8];
    *instance = NULL;
    if (rp_pu_options("webhook", known, refused, opts, nopts, val, err, errsize) != 0)
        return -1;
    const char *url = val[0], *secret_env = val[1], *secret_file = val[2], *unsig = val[3],
               *timeout = val[4], *ca_file = val[5], *prefix = val[6], *ctimeout = val[7];

    if (!url || !*url)
        return rp_pu_fail(err, errsize, "webhook: option 'url' is required");
    if (check_url(url, err, errsize))
        return -1;
    int is_unsigned = 0;
    if (unsig && parse_bool("unsigned", unsig, &is_unsigned, err, errsize))
        return -1;
    if (secret_env && secret_file)
        return rp_pu_fail(err, errsize, "webhook: give secret_env or secret_file, not both");
    if (is_unsigned && (secret_env || secret_file))
        return rp_pu_fail(err, errsize, "webhook: 'unsigned: true' contradicts %s",
                          secret_env ? "secret_env" : "secret_file");
    if (!is_unsigned && !secret_env && !secret_file)
        return rp_pu_fail(err, errsize,
                          "webhook: a signing key is required: set secret_env or secret_file "
                          "(or 'unsigned: true' to send unsigned requests)");
    long timeout_ms = WH_DEFAULT_TIMEOUT_MS, connect_ms = WH_DEFAULT_CONNECT_TIMEOUT_MS;
    if (timeout && parse_ms("timeout_ms", timeout, &timeout_ms, err, errsize))
        return -1;
    if (ctimeout && parse_ms("connect_timeout_ms", ctimeout, &connect_ms, err, errsize))
        return -1;
    if (!prefix)
        prefix = WH_DEFAULT_PREFIX;
    if (!rp_wh_token(prefix, 64))
        return rp_pu_fail(err, errsize,
                          "webhook: header_prefix must be a header name part such as X-Replyd- "
                          "(letters, digits, '-', at most 64)");

    wh_instance *w = calloc(1, sizeof *w);
    if (!w)
        return rp_pu_fail(err, errsize, "webhook: out of memory");
    w->timeout_ms = timeout_ms;
    w->connect_timeout_ms = connect_ms;
    w->retry_after = -1;
    w->url = rp_pu_strdup(url);
    w->prefix = rp_pu_strdup(prefix);
    if (ca_file)
        w->ca_file = rp_pu_path(host ? host->base_dir : NULL, ca_file);
    if (!w->url || !w->prefix || (ca_file && !w->ca_file)) {
        wh_close(w);
        return rp_pu_fail(err, errsize, "webhook: out of memory");
    }
    if (w->ca_file && access(w->ca_file, R_OK) != 0) {
        rp_pu_msg(err, errsize, "webhook: ca_file %s: %s", w->ca_file, strerror(errno));
        wh_close(w);
        return -1;
    }
    int rc = 0;
    if (secret_file)
        rc = read_secret_file(w, host ? host->base_dir : NULL, secret_file, err, errsize);
    else if (secret_env)
        rc = read_secret_env(w, secret_env, err, errsize);
    if (rc == 0)
        rc = setup_curl(w, err, errsize);
    if (rc != 0) {
        wh_close(w);
        return -1;
    }
    rp_pu_log(host, RP_LOG_DEBUG, "webhook: ready (%s, timeout %ld ms)",
              w->key ? "signed" : "unsigned", w->timeout_ms);
    *instance = w;
    return 0;
}

/* --- send ------------------------------------------------------------------ */

typedef enum { BUILD_OK, BUILD_NOMEM, BUILD_BAD } build_status;

static build_status put_str(json_t *o, const char *k, const char *v, const char **bad)
{
    if (!v)
        return json_object_set_new(o, k, json_null()) ? BUILD_NOMEM : BUILD_OK;
    if (!g_utf8_validate(v, -1, NULL)) {
        *bad = k;
        return BUILD_BAD;
    }
    return json_object_set_new(o, k, json_string(v)) ? BUILD_NOMEM : BUILD_OK;
}

/* The request body; *body is malloc'd (free()). */
static build_status build_body(const rp_outgoing *m, char **body, const char **bad)
{
    *body = NULL;
    json_t *o = json_object();
    if (!o)
        return BUILD_NOMEM;
    const char *kind = m->kind && *m->kind ? m->kind : "reply";
    struct {
        const char *k, *v;
    } f[] = {
        {"kind", kind},
        {"reply_id", m->reply_id},
        {"idempotency_key", m->idempotency_key},
        {"message_id", m->message_id},
        {"from", m->from},
        {"from_name", m->from_name},
        {"to", m->to},
        {"subject", m->subject},
        {"body", m->body},
        {"in_reply_to", m->in_reply_to},
        {"references", m->references},
        {"language", m->language},
        {"marketplace", m->marketplace},
        {"order_id", m->order_id},
        {"template_id", m->template_id},
        {"inbound_id", m->inbound_id},
    };
    build_status st = BUILD_OK;
    for (size_t i = 0; st == BUILD_OK && i < sizeof f / sizeof f[0]; i++)
        st = put_str(o, f[i].k, f[i].v, bad);
    if (st == BUILD_OK) {
        char date[32];
        struct tm tm;
        time_t t = (time_t)m->date;
        if ((int64_t)t == m->date && gmtime_r(&t, &tm) &&
            strftime(date, sizeof date, "%Y-%m-%dT%H:%M:%SZ", &tm) > 0)
            st = put_str(o, "date", date, bad);
        else
            st = put_str(o, "date", NULL, bad);
    }
    if (st == BUILD_OK && (json_object_set_new(o, "attempt", json_integer(m->attempt)) ||
                           json_object_set_new(o, "automatic", json_boolean(m->automatic))))
        st = BUILD_NOMEM;
    if (st == BUILD_OK) {
        *body = json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS);
        if (!*body)
            st = BUILD_NOMEM;
    }
    json_decref(o);
    return st;
}

/* "sha256=<hex>" of HMAC-SHA256(key, timestamp "." body); g_free() it */
static char *sign(const wh_instance *w, const char *ts, const char *body, size_t len)
{
    GHmac *h = g_hmac_new(G_CHECKSUM_SHA256, w->key, w->keylen);
    if (!h)
        return NULL;
    g_hmac_update(h, (const guchar *)ts, (gssize)strlen(ts));
    g_hmac_update(h, (const guchar *)".", 1);
    g_hmac_update(h, (const guchar *)body, (gssize)len);
    char *sig = g_strconcat("sha256=", g_hmac_get_string(h), NULL);
    g_hmac_unref(h);
    return sig;
}

static struct curl_slist *add_header(struct curl_slist *list, int *ok, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static struct curl_slist *add_header(struct curl_slist *list, int *ok, const char *fmt, ...)
{
    if (!*ok)
        return list;
    char line[1024];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= sizeof line) {
        *ok = 0;
        return list;
    }
    struct curl_slist *l = curl_slist_append(list, line);
    if (!l) {
        *ok = 0;
        return list;
    }
    return l;
}

static rp_send_result by_status(long code)
{
    if (code >= 200 && code <= 299)
        return RP_SEND_OK;
    if (code == 408 || code == 425 || code == 429 || (code >= 500 && code <= 599))
        return RP_SEND_RETRY;
    if (code >= 300 && code <= 499)
        return RP_SEND_PERMANENT;
    return RP_SEND_UNKNOWN; /* 1xx as final answer, or not HTTP at all */
}

/* detail for an answered request: ["retry-after=N "]"HTTP 503[: body]" */
static void http_detail(wh_instance *w, long code, rp_send_result r, CURLcode cc, char *detail,
                        size_t detailsize)
{
    char text[WH_DETAIL_BODY + 1];
    rp_wh_one_line(w->resp, w->resp_len, w->resp_total > w->resp_len, text, sizeof text,
                   WH_DETAIL_BODY);
    char ra[40] = "";
    if (r == RP_SEND_RETRY && w->retry_after >= 0)
        snprintf(ra, sizeof ra, "retry-after=%lld ", w->retry_after);
    char tail[96] = "";
    if (cc != CURLE_OK && !(cc == CURLE_WRITE_ERROR && w->resp_total > (size_t)WH_RESP_MAX))
        snprintf(tail, sizeof tail, " (response incomplete: %s)", curl_easy_strerror(cc));
    snprintf(detail, detailsize, "%sHTTP %ld%s%s%s", ra, code, text[0] ? ": " : "", text, tail);
}

static rp_send_result net_detail(wh_instance *w, CURLcode cc, char *detail, size_t detailsize)
{
    char why[CURL_ERROR_SIZE];
    const char *src = w->errbuf[0] ? w->errbuf : curl_easy_strerror(cc);
    if (cc == CURLE_SEND_FAIL_REWIND) /* libcurl wanted to resend on a new connection */
        src = "the server closed the connection without answering";
    rp_wh_one_line(src, strlen(src), 0, why, sizeof why, sizeof why - 1);
    if (!w->request_sent) {
        /* nothing went out: certainly not delivered */
        snprintf(detail, detailsize, "not sent: %s", why);
        return RP_SEND_RETRY;
    }
    if (cc == CURLE_OPERATION_TIMEDOUT)
        snprintf(detail, detailsize, "no answer within %ld ms after the request was sent: %s",
                 w->timeout_ms, why);
    else
        snprintf(detail, detailsize, "connection lost after the request was sent: %s", why);
    return RP_SEND_UNKNOWN;
}

static rp_send_result wh_send(void *instance, const rp_outgoing *msg, char *detail,
                              size_t detailsize)
{
    wh_instance *w = instance;
    if (detailsize)
        detail[0] = 0;
    if (!w || !msg) {
        rp_pu_msg(detail, detailsize, "webhook: no instance or no message");
        return RP_SEND_PERMANENT;
    }
    if (!w->curl) {
        rp_pu_msg(detail, detailsize, "webhook: the libcurl handle is unusable; restart replyd");
        return RP_SEND_RETRY;
    }
    if (!rp_wh_header_safe(msg->idempotency_key, WH_KEY_MAX)) {
        rp_pu_msg(detail, detailsize,
                  "webhook: the idempotency key is missing or not header-safe (visible ASCII, at "
                  "most %d bytes)",
                  WH_KEY_MAX);
        return RP_SEND_PERMANENT;
    }
    char *body = NULL;
    const char *bad = NULL;
    build_status bs = build_body(msg, &body, &bad);
    if (bs == BUILD_BAD) {
        rp_pu_msg(detail, detailsize, "webhook: field '%s' is not valid UTF-8", bad);
        return RP_SEND_PERMANENT;
    }
    if (bs != BUILD_OK) {
        rp_pu_msg(detail, detailsize, "webhook: out of memory building the request");
        return RP_SEND_RETRY;
    }
    size_t body_len = strlen(body);

    char ts[32];
    time_t now = time(NULL);
    snprintf(ts, sizeof ts, "%lld", (long long)now);
    char *sig = NULL;
    if (w->key && !(sig = sign(w, ts, body, body_len))) {
        free(body);
        rp_pu_msg(detail, detailsize, "webhook: could not compute the signature");
        return RP_SEND_RETRY;
    }

    int ok = 1;
    struct curl_slist *hdr = NULL;
    hdr = add_header(hdr, &ok, "Content-Type: application/json; charset=utf-8");
    hdr = add_header(hdr, &ok, "Idempotency-Key: %s", msg->idempotency_key);
    hdr = add_header(hdr, &ok, "%sTimestamp: %s", w->prefix, ts);
    if (sig)
        hdr = add_header(hdr, &ok, "%sSignature: %s", w->prefix, sig);
    hdr = add_header(hdr, &ok, "%sAttempt: %u", w->prefix, msg->attempt);
    hdr = add_header(hdr, &ok, "Expect:");
    g_free(sig);
    if (!ok) {
        curl_slist_free_all(hdr);
        free(body);
        rp_pu_msg(detail, detailsize, "webhook: out of memory building the request");
        return RP_SEND_RETRY;
    }

    w->req_body = body;
    w->req_len = body_len;
    w->req_off = 0;
    w->request_sent = 0;
    w->resp_len = 0;
    w->resp_total = 0;
    w->retry_after = -1;
    w->errbuf[0] = 0;
    CURLcode cc = curl_easy_setopt(w->curl, CURLOPT_HTTPHEADER, hdr);
    if (cc == CURLE_OK)
        cc = curl_easy_setopt(w->curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)body_len);
    rp_send_result r;
    if (cc != CURLE_OK) {
        rp_pu_msg(detail, detailsize, "webhook: libcurl: %s", curl_easy_strerror(cc));
        r = RP_SEND_RETRY;
    } else {
        cc = curl_easy_perform(w->curl);
        long code = 0;
        if (curl_easy_getinfo(w->curl, CURLINFO_RESPONSE_CODE, &code) != CURLE_OK)
            code = 0;
        if (code >= 200) {
            r = by_status(code);
            http_detail(w, code, r, cc, detail, detailsize);
        } else if (cc == CURLE_OK) {
            r = RP_SEND_UNKNOWN;
            rp_pu_msg(detail, detailsize, "webhook: the server gave no HTTP status");
        } else {
            r = net_detail(w, cc, detail, detailsize);
        }
    }
    detach_request(w);
    curl_slist_free_all(hdr);
    free(body);
    return r;
}

static const rp_sink_ops wh_ops = {
    .size = sizeof(rp_sink_ops),
    .flags = RP_SINK_IDEMPOTENT,
    .open = wh_open,
    .send = wh_send,
    .close = wh_close,
};

RP_PU_PLUGIN("webhook", "POST each reply as signed JSON to an HTTP(S) endpoint", &wh_ops, NULL);
