/* smtp.c — the "smtp" sink: delivers each reply as one e-mail through an
 * SMTP server with libcurl, the message composed with GMime
 * (smtp_compose.c).
 *
 * Options (all text, core/plugin.h; anything else is refused at open):
 *   url                required, smtp://host[:port] or smtps://host[:port]
 *   tls                none | starttls | tls; default starttls for smtp://
 *                      (required, never opportunistic), tls for smtps://
 *   ca_file            CA bundle for the server certificate (relative to
 *                      host->base_dir); the certificate is always verified
 *   username           SMTP AUTH user; needs password_env or password_file
 *   password_env       name of the environment variable holding the password
 *   password_file      file holding the password (relative to base_dir; one
 *                      trailing newline is dropped); refused when group or
 *                      others have any access to it
 *   envelope_from      MAIL FROM address; default: the reply's from
 *   timeout_ms         whole-transaction limit, default 30000
 *   connect_timeout_ms connect limit, default 10000
 *   helo               name to announce in EHLO
 *
 * One instance keeps one curl easy handle, so consecutive sends reuse the
 * connection. After a failed send the next one opens a fresh connection.
 *
 * Outcome: OK when the server accepted the data (detail: its final reply,
 * addresses cut out); RETRY when nothing was delivered for sure (connect,
 * resolve, TLS failures, 4xx replies, a connection lost before the data was
 * complete); PERMANENT for 5xx replies and messages that can never be sent
 * (no recipient, kind "alert", invalid fields); UNKNOWN when the connection
 * was lost or timed out after the whole message was handed over and before
 * the server's final reply.
 *
 * Memory: the instance owns its copies of the options, the curl handle
 * (which holds the password; the plugin's own copy is wiped once handed
 * over) and the GMime format options. It keeps a copy of the host struct's
 * log callback and context, nothing the host lent it otherwise.
 */
#define _GNU_SOURCE /* dladdr, RTLD_NODELETE */
#include <curl/curl.h>
#include <dlfcn.h>
#include <errno.h>
#include <gmime/gmime.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "plugin.h"
#include "plugin_url.h"
#include "plugin_util.h"
#include "smtp_compose.h"

/* What one transaction saw, filled in by the curl callbacks. */
typedef struct rp_smtp_xfer {
    const char *data; /* the message */
    size_t len;
    size_t pos;
    bool eof;             /* the whole message has been handed to libcurl */
    char stage[12];       /* verb of the last command sent: "MAIL", "RCPT", ... */
    char reply[512];      /* last complete reply line (code + text), raw */
    size_t reply_len;
    int reply_code;       /* its code, 0 when none */
    bool reply_after_eof; /* that reply came after the whole message was read */
    char partial[512];    /* a reply line still being assembled */
    size_t partial_len;
    bool quit;            /* QUIT was sent: what follows is not the verdict */
} rp_smtp_xfer;

typedef struct rp_smtp {
    rp_plugin_host host; /* a copy (the host's struct is only borrowed); no base_dir */
    CURL *curl;
    char *url;
    char *envelope_from;
    char *username;
    char *password;
    char *ca_file;
    rp_pu_tls tls;
    long timeout_ms;
    long connect_timeout_ms;
    bool fresh;  /* the next send must not reuse the connection */
    GMimeFormatOptions *fo;
    bool gmime_ready;
    bool curl_ready;
    rp_smtp_xfer x;
    char curl_err[CURL_ERROR_SIZE];
} rp_smtp;

static void rp_smtp_close(void *instance)
{
    rp_smtp *s = instance;
    if (!s)
        return;
    if (s->curl)
        curl_easy_cleanup(s->curl);
    free(s->url);
    free(s->envelope_from);
    free(s->username);
    rp_pu_wipe_free(s->password);
    free(s->ca_file);
    if (s->fo)
        g_mime_format_options_free(s->fo);
    /* GMime counts g_mime_init() calls and frees its tables only when
     * g_mime_shutdown() has been called as often, so this pairs with the
     * g_mime_init() in open and never pulls GMime from under the host (which
     * holds its own initialisation from rp_mail_init until it shuts down).
     * Standing alone, as in the test driver, it leaves nothing behind. */
    if (s->gmime_ready)
        g_mime_shutdown();
    if (s->curl_ready)
        curl_global_cleanup();
    free(s);
}

/* A host name for EHLO: letters, digits, '-', '.', or an address literal. */
static int rp_smtp_helo_ok(const char *h)
{
    size_t n = strlen(h);
    if (n == 0 || n > 255)
        return 0;
    for (const char *p = h; *p; p++) {
        unsigned char c = (unsigned char)*p;
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '.' || c == '[' || c == ']' || c == ':'))
            return 0;
    }
    return 1;
}

/* Checks the url (scheme, host, port, nothing else) and rebuilds it with the
 * EHLO name as path, which is where libcurl takes it from. */
static char *rp_smtp_build_url(const char *url, const char *helo, bool *smtps, char *err,
                               size_t errsize)
{
    rp_pu_url u;
    if (rp_pu_url_parse("smtp", url, "smtp", "smtps", false, &u, err, errsize) != 0)
        return NULL;
    char *out = NULL;
    *smtps = u.tls;
    if (strcmp(u.path, "") != 0 && strcmp(u.path, "/") != 0) {
        rp_pu_msg(err, errsize,
                  "smtp: option 'url' must not have a path (set the EHLO name with 'helo')");
        goto done;
    }
    size_t need = strlen(u.scheme) + strlen(u.host) + strlen(u.port) + (helo ? strlen(helo) : 0) +
                  16;
    out = malloc(need);
    if (!out) {
        rp_pu_msg(err, errsize, "smtp: out of memory");
        goto done;
    }
    snprintf(out, need, "%s://%s:%s/%s", u.scheme, u.host, u.port, helo ? helo : "");
done:
    rp_pu_url_free(&u);
    return out;
}

/* ---- curl callbacks ---- */

static size_t rp_smtp_read_cb(char *buf, size_t size, size_t nitems, void *userdata)
{
    rp_smtp_xfer *x = userdata;
    size_t room = size * nitems;
    size_t left = x->len - x->pos;
    size_t n = left < room ? left : room;
    if (n)
        memcpy(buf, x->data + x->pos, n);
    x->pos += n;
    /* libcurl knows the size and may not ask again once it has it all */
    if (x->pos >= x->len)
        x->eof = true;
    return n;
}

static size_t rp_smtp_discard_cb(char *ptr, size_t size, size_t nmemb, void *userdata)
{
    (void)ptr;
    (void)userdata;
    return size * nmemb;
}

static void rp_smtp_reply_line(rp_smtp_xfer *x, const char *line, size_t len)
{
    while (len && (line[len - 1] == '\n' || line[len - 1] == '\r'))
        len--;
    /* "250-more" continues a reply, "250 done" ends it */
    if (len < 3 || line[0] < '0' || line[0] > '9' || line[1] < '0' || line[1] > '9' ||
        line[2] < '0' || line[2] > '9')
        return;
    if (len > 3 && line[3] == '-')
        return;
    if (len >= sizeof x->reply)
        len = sizeof x->reply - 1;
    memcpy(x->reply, line, len);
    x->reply[len] = 0;
    x->reply_len = len;
    x->reply_code = (line[0] - '0') * 100 + (line[1] - '0') * 10 + (line[2] - '0');
    x->reply_after_eof = x->eof;
}

static const char *const rp_smtp_verbs[] = {"EHLO", "HELO", "STARTTLS", "AUTH", "MAIL",
                                            "RCPT", "DATA", "RSET", "NOOP"};

/* curl's debug stream is used only to follow the dialogue: the verb of each
 * command sent (never its arguments: they hold addresses and credentials)
 * and the server's reply lines. Nothing of it is logged. */
static int rp_smtp_debug_cb(CURL *handle, curl_infotype type, char *data, size_t size,
                            void *userptr)
{
    (void)handle;
    rp_smtp_xfer *x = userptr;
    if (x->quit)
        return 0;
    if (type == CURLINFO_HEADER_OUT) {
        /* libcurl says goodbye on a connection it gives up after an error;
         * the reply to QUIT must not hide the one that caused it */
        if (size >= 4 && memcmp(data, "QUIT", 4) == 0) {
            x->quit = true;
            return 0;
        }
        for (size_t i = 0; i < sizeof rp_smtp_verbs / sizeof rp_smtp_verbs[0]; i++) {
            size_t n = strlen(rp_smtp_verbs[i]);
            if (size >= n && memcmp(data, rp_smtp_verbs[i], n) == 0 &&
                (size == n || data[n] == ' ' || data[n] == '\r' || data[n] == '\n')) {
                memcpy(x->stage, rp_smtp_verbs[i], n + 1);
                break;
            }
        }
    } else if (type == CURLINFO_HEADER_IN) {
        /* may hold several lines or part of one */
        for (size_t i = 0; i < size; i++) {
            char c = data[i];
            if (x->partial_len < sizeof x->partial - 1)
                x->partial[x->partial_len++] = c;
            if (c == '\n') {
                rp_smtp_reply_line(x, x->partial, x->partial_len);
                x->partial_len = 0;
            }
        }
    }
    return 0;
}

/* ---- open ---- */

static int rp_smtp_setup_curl(rp_smtp *s, char *err, size_t errsize)
{
    CURL *c = s->curl;
    CURLcode rc = CURLE_OK;
#define RP_SET(opt, val)                                                                   \
    do {                                                                                   \
        if (rc == CURLE_OK)                                                                \
            rc = curl_easy_setopt(c, opt, val);                                            \
    } while (0)
    RP_SET(CURLOPT_URL, s->url);
    RP_SET(CURLOPT_PROTOCOLS_STR, "smtp,smtps");
    RP_SET(CURLOPT_NOSIGNAL, 1L);
    RP_SET(CURLOPT_PROXY, ""); /* mail goes straight to the server, whatever all_proxy says */
    RP_SET(CURLOPT_UPLOAD, 1L);
    RP_SET(CURLOPT_READFUNCTION, rp_smtp_read_cb);
    RP_SET(CURLOPT_READDATA, &s->x);
    RP_SET(CURLOPT_WRITEFUNCTION, rp_smtp_discard_cb);
    RP_SET(CURLOPT_VERBOSE, 1L);
    RP_SET(CURLOPT_DEBUGFUNCTION, rp_smtp_debug_cb);
    RP_SET(CURLOPT_DEBUGDATA, &s->x);
    RP_SET(CURLOPT_ERRORBUFFER, s->curl_err);
    RP_SET(CURLOPT_TIMEOUT_MS, s->timeout_ms);
    /* libcurl waits for the reply to the end of the data under this limit
     * only (120 s by default), not under CURLOPT_TIMEOUT_MS */
    RP_SET(CURLOPT_SERVER_RESPONSE_TIMEOUT, (s->timeout_ms + 999) / 1000);
    RP_SET(CURLOPT_CONNECTTIMEOUT_MS, s->connect_timeout_ms);
    RP_SET(CURLOPT_MAXCONNECTS, 1L);
    RP_SET(CURLOPT_TCP_KEEPALIVE, 1L);
    RP_SET(CURLOPT_SSL_VERIFYPEER, 1L);
    RP_SET(CURLOPT_SSL_VERIFYHOST, 2L);
    RP_SET(CURLOPT_USE_SSL,
           s->tls == RP_PU_TLS_NONE ? (long)CURLUSESSL_NONE : (long)CURLUSESSL_ALL);
    if (s->ca_file)
        RP_SET(CURLOPT_CAINFO, s->ca_file);
    if (s->username) {
        RP_SET(CURLOPT_USERNAME, s->username);
        RP_SET(CURLOPT_PASSWORD, s->password);
    }
#undef RP_SET
    if (rc != CURLE_OK) {
        rp_pu_msg(err, errsize, "smtp: libcurl refused a setting: %s", curl_easy_strerror(rc));
        return -1;
    }
    return 0;
}

static int rp_smtp_open(const rp_plugin_host *host, const rp_plugin_option *opts, size_t nopts,
                        void **instance, char *err, size_t errsize)
{
    static const char *const known[] = {
        "url", "tls", "ca_file", "username", "password_env", "password_file",
        "envelope_from", "timeout_ms", "connect_timeout_ms", "helo", NULL,
    };
    static const rp_pu_refusal refused[] = {RP_PU_REFUSE_PASSWORD, {NULL, NULL}};
    enum { K_URL, K_TLS, K_CA, K_USER, K_PENV, K_PFILE, K_FROM, K_TMO, K_CTMO, K_HELO, K_N };
    const char *val[K_N];
    *instance = NULL;
    if (rp_pu_options("smtp", known, refused, opts, nopts, val, err, errsize) != 0)
        return 1;
    if (!val[K_URL] || !val[K_URL][0]) {
        rp_pu_msg(err, errsize, "smtp: option 'url' is required (smtp://host:port)");
        return 1;
    }
    if (val[K_HELO] && !rp_smtp_helo_ok(val[K_HELO])) {
        rp_pu_msg(err, errsize, "smtp: option 'helo' must be a host name");
        return 1;
    }
    if (val[K_FROM] && !rp_smtp_address_ok(val[K_FROM])) {
        rp_pu_msg(err, errsize, "smtp: option 'envelope_from' is not a plain ASCII address");
        return 1;
    }
    if (val[K_PENV] && val[K_PFILE]) {
        rp_pu_msg(err, errsize, "smtp: give password_env or password_file, not both");
        return 1;
    }
    if ((val[K_PENV] || val[K_PFILE]) && (!val[K_USER] || !val[K_USER][0])) {
        rp_pu_msg(err, errsize, "smtp: a password needs option 'username'");
        return 1;
    }
    if (val[K_USER] && !val[K_PENV] && !val[K_PFILE]) {
        rp_pu_msg(err, errsize, "smtp: option 'username' needs password_env or password_file");
        return 1;
    }

    rp_smtp *s = calloc(1, sizeof *s);
    if (!s) {
        rp_pu_msg(err, errsize, "smtp: out of memory");
        return 1;
    }
    if (host) {
        s->host = *host;
        s->host.base_dir = NULL;
    }
    s->timeout_ms = 30000;
    s->connect_timeout_ms = 10000;
    if ((val[K_TMO] &&
         rp_pu_ms_opt("smtp", "timeout_ms", val[K_TMO], &s->timeout_ms, err, errsize) != 0) ||
        (val[K_CTMO] && rp_pu_ms_opt("smtp", "connect_timeout_ms", val[K_CTMO],
                                     &s->connect_timeout_ms, err, errsize) != 0)) {
        rp_smtp_close(s);
        return 1;
    }

    bool smtps = false;
    s->url = rp_smtp_build_url(val[K_URL], val[K_HELO], &smtps, err, errsize);
    if (!s->url) {
        rp_smtp_close(s);
        return 1;
    }
    if (rp_pu_tls_opt("smtp", val[K_TLS], smtps, "smtps", &s->tls, err, errsize) != 0) {
        rp_smtp_close(s);
        return 1;
    }

    const char *base = host && host->base_dir ? host->base_dir : ".";
    if (val[K_CA] && !(s->ca_file = rp_pu_ca_file("smtp", base, val[K_CA], err, errsize))) {
        rp_smtp_close(s);
        return 1;
    }
    if (val[K_USER]) {
        s->username = rp_pu_strdup(val[K_USER]);
        s->password = rp_pu_password("smtp", base, val[K_PENV], val[K_PFILE], err, errsize);
        if (!s->password) {
            rp_smtp_close(s);
            return 1;
        }
        if (!s->username || !s->password) {
            rp_pu_msg(err, errsize, "smtp: out of memory");
            rp_smtp_close(s);
            return 1;
        }
        if (s->tls == RP_PU_TLS_NONE)
            rp_pu_log(&s->host, RP_LOG_WARN,
                      "smtp: tls is none: the password crosses the network in clear");
    }
    if (val[K_FROM] && !(s->envelope_from = rp_pu_strdup(val[K_FROM]))) {
        rp_pu_msg(err, errsize, "smtp: out of memory");
        rp_smtp_close(s);
        return 1;
    }

    /* GMime registers GObject types whose code must stay mapped for the
     * life of the process, so this module (and with it GMime) is never
     * unloaded, even when the host dlclose()s it. replyd itself links GMime;
     * this matters where the host does not. */
    Dl_info self;
    if (dladdr((void *)rp_smtp_open, &self) != 0 && self.dli_fname &&
        !dlopen(self.dli_fname, RTLD_NOW | RTLD_NOLOAD | RTLD_NODELETE))
        rp_pu_log(&s->host, RP_LOG_WARN, "smtp: could not pin the plugin in memory");

    /* Counted: paired with curl_global_cleanup() in close. */
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
        rp_pu_msg(err, errsize, "smtp: libcurl initialisation failed");
        rp_smtp_close(s);
        return 1;
    }
    s->curl_ready = true;
    /* Counted as well (see close); harmless when the host initialised GMime
     * already, which replyd does. */
    g_mime_init();
    s->gmime_ready = true;
    s->fo = g_mime_format_options_new();
    g_mime_format_options_set_newline_format(s->fo, GMIME_NEWLINE_FORMAT_DOS);

    s->curl = curl_easy_init();
    if (!s->curl) {
        rp_pu_msg(err, errsize, "smtp: libcurl handle could not be created");
        rp_smtp_close(s);
        return 1;
    }
    if (rp_smtp_setup_curl(s, err, errsize) != 0) {
        rp_smtp_close(s);
        return 1;
    }
    /* libcurl keeps its own copy */
    rp_pu_wipe_free(s->password);
    s->password = NULL;
    *instance = s;
    return 0;
}

/* ---- send ---- */

static const char *rp_smtp_stage_name(const rp_smtp_xfer *x)
{
    if (x->eof)
        return "end of data";
    if (!x->stage[0])
        return "connect";
    return x->stage;
}

/* Whether a failed transaction ran into a connection the server had closed
 * or was closing while it sat in libcurl's cache: it was reused (no new
 * connection made), the message data had not started, and the server said
 * 421 or nothing at all. */
static bool rp_smtp_stale(CURLcode rc, const rp_smtp_xfer *x, long fresh_conns)
{
    if (fresh_conns != 0 || x->eof || x->pos > 0)
        return false;
    if (x->reply_code == 421)
        return true;
    return x->reply_code == 0 &&
           (rc == CURLE_SEND_ERROR || rc == CURLE_RECV_ERROR || rc == CURLE_GOT_NOTHING);
}

static rp_send_result rp_smtp_send(void *instance, const rp_outgoing *msg, char *detail,
                                   size_t detailsize)
{
    rp_smtp *s = instance;
    if (!s || !msg) {
        rp_pu_msg(detail, detailsize, "smtp: no instance or message");
        return RP_SEND_PERMANENT;
    }
    if (msg->kind && strcmp(msg->kind, "reply") != 0) {
        rp_pu_msg(detail, detailsize,
                  "smtp: kind '%s' is not delivered by e-mail (route alerts to another sink)",
                  strcmp(msg->kind, "alert") == 0 ? "alert" : "unknown");
        return RP_SEND_PERMANENT;
    }
    if (!msg->to || !msg->to[0]) {
        rp_pu_msg(detail, detailsize, "smtp: the reply has no recipient");
        return RP_SEND_PERMANENT;
    }
    char *data = NULL;
    size_t len = 0;
    char why[256];
    if (rp_smtp_compose(s->fo, msg, &data, &len, why, sizeof why) != 0) {
        rp_pu_msg(detail, detailsize, "smtp: %s", why);
        return RP_SEND_PERMANENT;
    }
    const char *from = s->envelope_from ? s->envelope_from : msg->from;
    char *mail_from = g_strdup_printf("<%s>", from);
    char *rcpt = g_strdup_printf("<%s>", msg->to);
    struct curl_slist *rcpts = curl_slist_append(NULL, rcpt);
    g_free(rcpt);
    if (!rcpts) {
        g_free(mail_from);
        free(data);
        rp_pu_msg(detail, detailsize, "smtp: out of memory");
        return RP_SEND_RETRY;
    }

    CURLcode rc = curl_easy_setopt(s->curl, CURLOPT_MAIL_FROM, mail_from);
    if (rc == CURLE_OK)
        rc = curl_easy_setopt(s->curl, CURLOPT_MAIL_RCPT, rcpts);
    if (rc == CURLE_OK)
        rc = curl_easy_setopt(s->curl, CURLOPT_INFILESIZE_LARGE, (curl_off_t)len);
    g_free(mail_from);
    memset(&s->x, 0, sizeof s->x);
    s->curl_err[0] = 0;
    for (int attempt = 0; rc == CURLE_OK && attempt < 2; attempt++) {
        memset(&s->x, 0, sizeof s->x);
        s->x.data = data;
        s->x.len = len;
        s->curl_err[0] = 0;
        rc = curl_easy_setopt(s->curl, CURLOPT_FRESH_CONNECT, s->fresh ? 1L : 0L);
        if (rc == CURLE_OK)
            rc = curl_easy_perform(s->curl);
        long fresh_conns = 0;
        if (curl_easy_getinfo(s->curl, CURLINFO_NUM_CONNECTS, &fresh_conns) != CURLE_OK)
            fresh_conns = 1;
        if (rc == CURLE_OK || attempt == 1 || !rp_smtp_stale(rc, &s->x, fresh_conns))
            break;
        rc = CURLE_OK;
        /* A kept connection the server had given up (421, or closed under
         * us) before any of the message went out: nothing was delivered, so
         * try once more on a new connection. */
        s->fresh = true;
        rp_pu_log(&s->host, RP_LOG_DEBUG,
                  "smtp: kept connection was closed by the server; reconnecting");
    }
    /* the list must not outlive the call it was set for */
    (void)curl_easy_setopt(s->curl, CURLOPT_MAIL_RCPT, (struct curl_slist *)NULL);
    curl_slist_free_all(rcpts);
    free(data);
    s->x.data = NULL;

    char reply[512];
    rp_smtp_redact(s->x.reply, s->x.reply_len, reply, sizeof reply);
    if (rc == CURLE_OK) {
        s->fresh = false;
        rp_pu_msg(detail, detailsize, "%s", reply[0] ? reply : "accepted");
        return RP_SEND_OK;
    }

    /* Whatever went wrong, the next transaction starts on a new connection:
     * libcurl closes one that failed, and this makes sure of it. */
    s->fresh = true;
    char cerr[CURL_ERROR_SIZE];
    rp_smtp_redact(s->curl_err[0] ? s->curl_err : curl_easy_strerror(rc),
                   s->curl_err[0] ? strlen(s->curl_err) : strlen(curl_easy_strerror(rc)), cerr,
                   sizeof cerr);
    const char *stage = rp_smtp_stage_name(&s->x);
    int code = s->x.reply_code;
    rp_send_result res;
    if (s->x.eof && !s->x.reply_after_eof) {
        /* the whole message went to curl, and no verdict came back */
        res = RP_SEND_UNKNOWN;
    } else if (code >= 400 && code < 500) {
        res = RP_SEND_RETRY;
    } else if (code >= 500 && code < 600) {
        res = RP_SEND_PERMANENT;
    } else if (s->x.eof) {
        /* a reply after the data that is neither 2xx nor an error code */
        res = RP_SEND_UNKNOWN;
    } else {
        /* connect, resolve, TLS, a dropped connection or a timeout before
         * the message was complete: nothing was delivered */
        res = RP_SEND_RETRY;
    }
    if (code >= 400 && (res == RP_SEND_RETRY || res == RP_SEND_PERMANENT))
        rp_pu_msg(detail, detailsize, "%s: %s", stage, reply);
    else
        rp_pu_msg(detail, detailsize, "%s: %s", stage, cerr);
    return res;
}

static const rp_sink_ops rp_smtp_ops = {
    .size = sizeof(rp_sink_ops),
    .flags = 0,
    .open = rp_smtp_open,
    .send = rp_smtp_send,
    .close = rp_smtp_close,
};

RP_PU_PLUGIN("smtp", "delivers replies as e-mail through an SMTP server", &rp_smtp_ops, NULL);
