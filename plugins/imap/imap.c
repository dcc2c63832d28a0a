/* imap.c — the "imap" source: hands the messages of one IMAP folder to the
 * host, oldest first, and marks them \Seen (or moves them) only after the
 * host has committed them.
 *
 * Options (all text, core/plugin.h; anything else is refused at open):
 *   url                required, imap://host[:port]/FOLDER or
 *                      imaps://host[:port]/FOLDER (FOLDER defaults to INBOX)
 *   tls                none | starttls | tls; default starttls for imap://
 *                      (required, never opportunistic), tls for imaps://
 *   ca_file            CA bundle for the server certificate (relative to
 *                      host->base_dir); the certificate is always verified
 *   username           required; password_env or password_file with it
 *   password_env       name of the environment variable holding the password
 *   password_file      file holding the password (owner-only, one line)
 *   after              seen (default): flag \Seen once committed; move: move
 *                      to move_to
 *   move_to            folder for after: move
 *   error_folder       unreadable messages go there; without it they are
 *                      flagged \Seen and logged
 *   batch              messages per FETCH round trip, 1..1000, default 50
 *   timeout_ms         longest wait for the server's next bytes, default 30000
 *   connect_timeout_ms connect limit, default 10000
 *
 * How it talks IMAP: libcurl makes the connection, runs STARTTLS or TLS and
 * logs in (CURLOPT_CONNECT_ONLY), then the plugin sends its commands with
 * curl_easy_send() and reads the answers with curl_easy_recv(), cutting them
 * into responses with imap_parse.c, which knows literals. libcurl's own
 * CURLOPT_CUSTOMREQUEST path cannot carry message bodies: it hands a literal
 * to the header callback line by line only, and a body line that starts with
 * the command's tag ends the command early.
 *
 * Which messages are new is decided by a UID cursor, never by \Seen (a person
 * may read the folder with a mail client): the highest UID such that it and
 * every UID below it that was handed over has been acknowledged. The cursor
 * and the folder's UIDVALIDITY are the saved state ("uidvalidity=V uid=N
 * folder=F"). Acknowledged UIDs above the cursor are remembered in memory so
 * that nothing is handed over twice in one process; handed-over UIDs that
 * were never acknowledged are handed over again on the next poll.
 *
 * Memory: the instance owns its option copies, its password copy (wiped on
 * close), the curl handle, the receive buffer (message bodies handed to the
 * host point into it and stay valid during emit only) and the UID lists. It
 * keeps a copy of the host struct, nothing else the host lent it.
 *
 * Errors: network failures, time-outs and server errors give
 * RP_SOURCE_RETRY, a refused login, a missing folder, a refused certificate
 * and a server without STARTTLS give RP_SOURCE_FATAL; the detail is one line
 * without buyer data. After any failure the connection is dropped and the
 * next call reconnects.
 */
#include <curl/curl.h>
#include <errno.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "imap_parse.h"
#include "plugin.h"
#include "plugin_url.h"
#include "plugin_util.h"

#define RP_IMAP_MAX_LINE (1u << 20)           /* a response line outside literals */
#define RP_IMAP_MAX_LITERAL ((size_t)256 << 20) /* one literal */
#define RP_IMAP_MAX_MESSAGE ((uint64_t)64 << 20) /* larger messages are set aside */
#define RP_IMAP_FETCH_BYTES ((uint64_t)64 << 20) /* bytes asked for in one FETCH */
#define RP_IMAP_CMD_SET 8000                    /* longest UID set in one command */
#define RP_IMAP_FOLDER_MAX 512

typedef enum { RP_AFTER_SEEN, RP_AFTER_MOVE } rp_imap_after;

/* A UID handed over above the cursor. */
typedef struct rp_imap_known {
    uint32_t uid;
    bool acked;
} rp_imap_known;

/* A message found by the size scan. */
typedef struct rp_imap_cand {
    uint32_t uid;
    uint64_t size;
} rp_imap_cand;

/* A fetched message: its body is rbuf[off, off + len). */
typedef struct rp_imap_got {
    uint32_t uid;
    int64_t date;
    size_t off, len;
    bool quoted;
} rp_imap_got;

typedef struct rp_imap {
    rp_plugin_host host; /* a copy; base_dir not kept */
    char *url;           /* scheme://host:port/ */
    char *folder;        /* as configured, for refs, logs and the state */
    char folder_q[RP_IMAP_FOLDER_MAX + 8];
    char *move_to;
    char move_q[RP_IMAP_FOLDER_MAX + 8];
    char *error_folder;
    char error_q[RP_IMAP_FOLDER_MAX + 8];
    char *username;
    char *password;
    char *ca_file;
    rp_pu_tls tls;
    rp_imap_after after;
    unsigned batch;
    long timeout_ms;
    long connect_timeout_ms;
    bool curl_ready;

    CURL *curl;
    bool connected;
    bool selected;
    bool cap_move, cap_uidplus;
    bool warned_nomove;
    unsigned tagno;
    char curl_err[CURL_ERROR_SIZE];

    char *rbuf; /* received bytes; [rstart, rlen) not yet parsed */
    size_t rlen, rcap, rstart;

    uint32_t uidvalidity; /* 0: not known yet */
    uint32_t cursor;
    rp_imap_known *known; /* sorted by uid */
    size_t nknown, cknown;

    /* what the last SELECT said */
    uint32_t sel_uidvalidity;
    uint32_t sel_exists; /* messages in the folder, from EXISTS and EXPUNGE */

    rp_imap_cand *cand;
    size_t ncand, ccand;
    rp_imap_got *got;
    size_t ngot, cgot;
    uint32_t fetch_lo, fetch_hi; /* UID range of the FETCH in flight */
    uint32_t highest;            /* the folder's highest UID, from FETCH * */
} rp_imap;

/* Copies a server's text into out: printable ASCII only, at most 160 bytes.
 * Server texts for the commands sent here hold no message content. */
static void rp_imap_clean(rp_imap_span t, char *out, size_t outsize)
{
    size_t w = 0;
    for (size_t i = 0; i < t.n && w + 1 < outsize && i < 160; i++) {
        unsigned char c = (unsigned char)t.p[i];
        out[w++] = c >= 0x20 && c < 0x7f ? (char)c : '?';
    }
    out[w] = 0;
}

/* ---- connection ---- */

static void rp_imap_drop(rp_imap *m)
{
    if (m->curl) {
        if (m->connected) {
            /* cut the socket first: libcurl's goodbye (LOGOUT) then fails at
             * once instead of waiting on a server that stopped answering */
            curl_socket_t sock = CURL_SOCKET_BAD;
            if (curl_easy_getinfo(m->curl, CURLINFO_ACTIVESOCKET, &sock) == CURLE_OK &&
                sock != CURL_SOCKET_BAD)
                (void)shutdown(sock, SHUT_RDWR);
        }
        curl_easy_cleanup(m->curl);
        m->curl = NULL;
    }
    m->connected = false;
    m->selected = false;
    m->rlen = m->rstart = 0;
}

static int rp_imap_xferinfo(void *clientp, curl_off_t dltotal, curl_off_t dlnow,
                            curl_off_t ultotal, curl_off_t ulnow)
{
    (void)dltotal;
    (void)dlnow;
    (void)ultotal;
    (void)ulnow;
    const rp_imap *m = clientp;
    return rp_pu_stopping(&m->host) ? 1 : 0;
}

static int rp_imap_setup_curl(rp_imap *m, CURL *c)
{
    CURLcode rc = CURLE_OK;
#define RP_SET(opt, val)                                                                   \
    do {                                                                                   \
        if (rc == CURLE_OK)                                                                \
            rc = curl_easy_setopt(c, opt, val);                                            \
    } while (0)
    RP_SET(CURLOPT_URL, m->url);
    RP_SET(CURLOPT_PROTOCOLS_STR, "imap,imaps");
    RP_SET(CURLOPT_CONNECT_ONLY, 1L);
    RP_SET(CURLOPT_NOSIGNAL, 1L);
    RP_SET(CURLOPT_PROXY, ""); /* straight to the server, whatever all_proxy says */
    RP_SET(CURLOPT_ERRORBUFFER, m->curl_err);
    RP_SET(CURLOPT_CONNECTTIMEOUT_MS, m->connect_timeout_ms);
    RP_SET(CURLOPT_TIMEOUT_MS, m->connect_timeout_ms + m->timeout_ms);
    RP_SET(CURLOPT_SERVER_RESPONSE_TIMEOUT, (m->timeout_ms + 999) / 1000);
    RP_SET(CURLOPT_TCP_KEEPALIVE, 1L);
    RP_SET(CURLOPT_SSL_VERIFYPEER, 1L);
    RP_SET(CURLOPT_SSL_VERIFYHOST, 2L);
    RP_SET(CURLOPT_USE_SSL,
           m->tls == RP_PU_TLS_NONE ? (long)CURLUSESSL_NONE : (long)CURLUSESSL_ALL);
    if (m->ca_file)
        RP_SET(CURLOPT_CAINFO, m->ca_file);
    RP_SET(CURLOPT_USERNAME, m->username);
    RP_SET(CURLOPT_PASSWORD, m->password);
    RP_SET(CURLOPT_NOPROGRESS, 0L);
    RP_SET(CURLOPT_XFERINFOFUNCTION, rp_imap_xferinfo);
    RP_SET(CURLOPT_XFERINFODATA, m);
#undef RP_SET
    return rc == CURLE_OK ? 0 : -1;
}

/* Waits until the socket is readable (events POLLIN) or writable (POLLOUT).
 * Returns 0, or -1 with detail on time-out, stop or error. */
static int rp_imap_wait(rp_imap *m, short events, const struct timespec *deadline,
                        char *detail, size_t dsz)
{
    curl_socket_t sock = CURL_SOCKET_BAD;
    if (curl_easy_getinfo(m->curl, CURLINFO_ACTIVESOCKET, &sock) != CURLE_OK ||
        sock == CURL_SOCKET_BAD) {
        rp_pu_msg(detail, dsz, "imap: connection lost");
        return -1;
    }
    for (;;) {
        if (rp_pu_stopping(&m->host)) {
            rp_pu_msg(detail, dsz, "imap: stopping");
            return -1;
        }
        struct timespec now;
        clock_gettime(CLOCK_MONOTONIC, &now);
        long left = (long)(deadline->tv_sec - now.tv_sec) * 1000 +
                    (deadline->tv_nsec - now.tv_nsec) / 1000000;
        if (left <= 0) {
            rp_pu_msg(detail, dsz, "imap: the server did not answer within %ld ms",
                      m->timeout_ms);
            return -1;
        }
        struct pollfd p = {.fd = sock, .events = events};
        int r = poll(&p, 1, (int)(left < 250 ? left : 250));
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            rp_pu_msg(detail, dsz, "imap: poll: %s", strerror(errno));
            return -1;
        }
        if (r > 0)
            return 0;
    }
}

static void rp_imap_deadline(const rp_imap *m, struct timespec *d)
{
    clock_gettime(CLOCK_MONOTONIC, d);
    d->tv_sec += m->timeout_ms / 1000;
    d->tv_nsec += (m->timeout_ms % 1000) * 1000000;
    if (d->tv_nsec >= 1000000000) {
        d->tv_sec++;
        d->tv_nsec -= 1000000000;
    }
}

static int rp_imap_send_all(rp_imap *m, const char *data, size_t len, char *detail, size_t dsz)
{
    struct timespec deadline;
    rp_imap_deadline(m, &deadline);
    size_t off = 0;
    while (off < len) {
        size_t n = 0;
        CURLcode rc = curl_easy_send(m->curl, data + off, len - off, &n);
        if (rc == CURLE_AGAIN) {
            if (rp_imap_wait(m, POLLOUT, &deadline, detail, dsz) != 0)
                return -1;
            continue;
        }
        if (rc != CURLE_OK) {
            rp_pu_msg(detail, dsz, "imap: send: %s", curl_easy_strerror(rc));
            return -1;
        }
        off += n;
    }
    return 0;
}

/* Reads more bytes into rbuf. Returns 0, or -1 with detail. */
static int rp_imap_read_more(rp_imap *m, const struct timespec *deadline, char *detail,
                             size_t dsz)
{
    if (m->rcap - m->rlen < 65536) {
        size_t cap = m->rcap ? m->rcap * 2 : 262144;
        while (cap - m->rlen < 65536)
            cap *= 2;
        char *nb = realloc(m->rbuf, cap);
        if (!nb) {
            rp_pu_msg(detail, dsz, "imap: out of memory");
            return -1;
        }
        m->rbuf = nb;
        m->rcap = cap;
    }
    for (;;) {
        size_t n = 0;
        CURLcode rc = curl_easy_recv(m->curl, m->rbuf + m->rlen, m->rcap - m->rlen, &n);
        if (rc == CURLE_AGAIN) {
            if (rp_imap_wait(m, POLLIN, deadline, detail, dsz) != 0)
                return -1;
            continue;
        }
        if (rc != CURLE_OK) {
            rp_pu_msg(detail, dsz, "imap: receive: %s", curl_easy_strerror(rc));
            return -1;
        }
        if (n == 0) {
            rp_pu_msg(detail, dsz, "imap: the server closed the connection");
            return -1;
        }
        m->rlen += n;
        return 0;
    }
}

/* Called for each untagged response of a command: rbuf[off, off + len). */
typedef int (*rp_imap_untagged_fn)(rp_imap *m, size_t off, size_t len);

/* Outcome of one command */
#define RP_IMAP_IO -1 /* connection trouble: detail says what; the caller drops it */

/* Sends "TAG cmd" and reads until the tagged answer. Returns its status
 * (RP_IMAP_ST_OK/NO/BAD), with the server's text in text (cleaned) and
 * *trycreate set from its response code (TRYCREATE or NONEXISTENT); or
 * RP_IMAP_IO. */
static int rp_imap_command(rp_imap *m, const char *cmd, rp_imap_untagged_fn fn, char *text,
                           size_t textsize, bool *trycreate, char *detail, size_t dsz)
{
    if (text && textsize)
        text[0] = 0;
    if (trycreate)
        *trycreate = false;
    /* keep what arrived after the last answer (unsolicited responses), drop
     * the rest: bodies handed to the host were only lent for emit */
    if (m->rstart) {
        memmove(m->rbuf, m->rbuf + m->rstart, m->rlen - m->rstart);
        m->rlen -= m->rstart;
        m->rstart = 0;
    }
    char tag[16];
    snprintf(tag, sizeof tag, "R%u", ++m->tagno);
    size_t tl = strlen(tag), cl = strlen(cmd);
    char *line = malloc(tl + cl + 4);
    if (!line) {
        rp_pu_msg(detail, dsz, "imap: out of memory");
        return RP_IMAP_IO;
    }
    memcpy(line, tag, tl);
    line[tl] = ' ';
    memcpy(line + tl + 1, cmd, cl);
    memcpy(line + tl + 1 + cl, "\r\n", 3);
    int sr = rp_imap_send_all(m, line, tl + cl + 3, detail, dsz);
    free(line);
    if (sr != 0)
        return RP_IMAP_IO;
    struct timespec deadline;
    rp_imap_deadline(m, &deadline);
    bool bye = false;
    char byetext[200] = "";
    for (;;) {
        size_t rl = 0;
        int got = m->rlen > m->rstart
                      ? rp_imap_response_len(m->rbuf + m->rstart, m->rlen - m->rstart,
                                             RP_IMAP_MAX_LINE, RP_IMAP_MAX_LITERAL, &rl)
                      : RP_IMAP_INCOMPLETE;
        if (got == RP_IMAP_MALFORMED) {
            rp_pu_msg(detail, dsz, "imap: malformed or oversized response from the server");
            return RP_IMAP_IO;
        }
        if (got == RP_IMAP_INCOMPLETE) {
            if (rp_imap_read_more(m, &deadline, detail, dsz) != 0) {
                if (bye)
                    rp_pu_msg(detail, dsz, "imap: the server closed the connection: %s",
                              byetext);
                return RP_IMAP_IO;
            }
            rp_imap_deadline(m, &deadline); /* progress: the limit counts from here */
            continue;
        }
        size_t off = m->rstart;
        m->rstart += rl;
        rp_imap_status st;
        if (rp_imap_parse_status(m->rbuf + off, rl, &st) != 0)
            continue; /* not a response; ignored */
        if (st.kind == RP_IMAP_TAGGED) {
            if (st.tag.n != tl || memcmp(st.tag.p, tag, tl) != 0)
                continue; /* an answer to something older */
            if (text && textsize)
                rp_imap_clean(st.text, text, textsize);
            if (trycreate)
                *trycreate = rp_imap_code_is(st.code, "TRYCREATE") ||
                             rp_imap_code_is(st.code, "NONEXISTENT");
            if (st.status == RP_IMAP_ST_OK || st.status == RP_IMAP_ST_NO ||
                st.status == RP_IMAP_ST_BAD)
                return st.status;
            rp_pu_msg(detail, dsz, "imap: unexpected answer from the server");
            return RP_IMAP_IO;
        }
        if (st.kind == RP_IMAP_CONTINUATION) {
            rp_pu_msg(detail, dsz, "imap: the server asked for more input unexpectedly");
            return RP_IMAP_IO;
        }
        if (st.status == RP_IMAP_ST_BYE) {
            bye = true;
            rp_imap_clean(st.text, byetext, sizeof byetext);
            continue;
        }
        uint32_t num;
        if (rp_imap_parse_numbered(m->rbuf + off, rl, "EXISTS", &num) == 0)
            m->sel_exists = num;
        else if (rp_imap_parse_numbered(m->rbuf + off, rl, "EXPUNGE", &num) == 0 &&
                 m->sel_exists)
            m->sel_exists--;
        if (fn && fn(m, off, rl) != 0) {
            rp_pu_msg(detail, dsz, "imap: out of memory");
            return RP_IMAP_IO;
        }
    }
}

static int rp_imap_on_capability(rp_imap *m, size_t off, size_t len)
{
    const char *r = m->rbuf + off;
    if (rp_imap_has_capability(r, len, "MOVE") == 1)
        m->cap_move = true;
    if (rp_imap_has_capability(r, len, "UIDPLUS") == 1)
        m->cap_uidplus = true;
    return 0;
}

/* Connects and logs in unless connected. */
static rp_source_result rp_imap_connect(rp_imap *m, char *detail, size_t dsz)
{
    if (m->connected)
        return RP_SOURCE_OK;
    rp_imap_drop(m);
    m->curl = curl_easy_init();
    if (!m->curl) {
        rp_pu_msg(detail, dsz, "imap: libcurl handle could not be created");
        return RP_SOURCE_RETRY;
    }
    if (rp_imap_setup_curl(m, m->curl) != 0) {
        rp_pu_msg(detail, dsz, "imap: libcurl refused a setting");
        rp_imap_drop(m);
        return RP_SOURCE_FATAL;
    }
    m->curl_err[0] = 0;
    CURLcode rc = curl_easy_perform(m->curl);
    if (rc != CURLE_OK) {
        const char *why = m->curl_err[0] ? m->curl_err : curl_easy_strerror(rc);
        rp_source_result res = RP_SOURCE_RETRY;
        switch (rc) {
        case CURLE_LOGIN_DENIED:
            rp_pu_msg(detail, dsz, "imap: login refused by the server (check username and "
                                     "password)");
            res = RP_SOURCE_FATAL;
            break;
        case CURLE_USE_SSL_FAILED:
            rp_pu_msg(detail, dsz, "imap: the server does not offer STARTTLS (tls: starttls)");
            res = RP_SOURCE_FATAL;
            break;
        case CURLE_PEER_FAILED_VERIFICATION:
        case CURLE_SSL_CACERT_BADFILE:
            rp_pu_msg(detail, dsz, "imap: the server certificate was refused: %s", why);
            res = RP_SOURCE_FATAL;
            break;
        case CURLE_ABORTED_BY_CALLBACK:
            rp_pu_msg(detail, dsz, "imap: stopping");
            break;
        default:
            rp_pu_msg(detail, dsz, "imap: connect: %s", why);
            break;
        }
        curl_easy_cleanup(m->curl);
        m->curl = NULL;
        return res;
    }
    m->connected = true;
    m->selected = false;
    m->cap_move = m->cap_uidplus = false;
    int st = rp_imap_command(m, "CAPABILITY", rp_imap_on_capability, NULL, 0, NULL, detail, dsz);
    if (st != RP_IMAP_ST_OK) {
        if (st != RP_IMAP_IO)
            rp_pu_msg(detail, dsz, "imap: CAPABILITY failed");
        rp_imap_drop(m);
        return RP_SOURCE_RETRY;
    }
    return RP_SOURCE_OK;
}

/* ---- state ---- */

static void rp_imap_save(rp_imap *m)
{
    if (!m->host.save_state)
        return;
    char st[RP_IMAP_FOLDER_MAX + 64];
    snprintf(st, sizeof st, "uidvalidity=%u uid=%u folder=%s", (unsigned)m->uidvalidity,
             (unsigned)m->cursor, m->folder);
    m->host.save_state(m->host.ctx, st);
}

static int rp_imap_u32(const char *s, size_t n, uint32_t *out)
{
    uint64_t v = 0;
    if (n == 0 || n > 10)
        return -1;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        v = v * 10 + (uint64_t)(s[i] - '0');
    }
    if (v > UINT32_MAX)
        return -1;
    *out = (uint32_t)v;
    return 0;
}

/* "uidvalidity=V uid=N folder=F": restores V and N when F is this folder. */
static void rp_imap_load_state(rp_imap *m, const char *state)
{
    if (!state || !state[0])
        return;
    uint32_t v = 0, u = 0;
    bool hv = false, hu = false;
    const char *folder = NULL;
    const char *p = state;
    while (*p) {
        while (*p == ' ')
            p++;
        if (!*p)
            break;
        if (strncmp(p, "folder=", 7) == 0) {
            folder = p + 7;
            break;
        }
        const char *e = p;
        while (*e && *e != ' ')
            e++;
        if (strncmp(p, "uidvalidity=", 12) == 0 && rp_imap_u32(p + 12, (size_t)(e - p - 12), &v) == 0)
            hv = true;
        else if (strncmp(p, "uid=", 4) == 0 && rp_imap_u32(p + 4, (size_t)(e - p - 4), &u) == 0)
            hu = true;
        p = e;
    }
    if (!hv || !hu) {
        rp_pu_log(&m->host, RP_LOG_WARN, "imap: saved state not understood; starting from UID 1");
        return;
    }
    if (folder) {
        size_t fl = strlen(folder);
        while (fl && (folder[fl - 1] == '\n' || folder[fl - 1] == '\r'))
            fl--;
        if (fl != strlen(m->folder) || memcmp(folder, m->folder, fl) != 0) {
            rp_pu_log(&m->host, RP_LOG_INFO,
                      "imap: saved state is for another folder; starting %s from UID 1",
                      m->folder);
            return;
        }
    }
    m->uidvalidity = v;
    m->cursor = u;
}

/* ---- the known list ---- */

static size_t rp_imap_known_find(const rp_imap *m, uint32_t uid)
{
    size_t lo = 0, hi = m->nknown;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (m->known[mid].uid < uid)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

static bool rp_imap_known_acked(const rp_imap *m, uint32_t uid)
{
    size_t i = rp_imap_known_find(m, uid);
    return i < m->nknown && m->known[i].uid == uid && m->known[i].acked;
}

static int rp_imap_known_add(rp_imap *m, uint32_t uid, bool acked)
{
    size_t i = rp_imap_known_find(m, uid);
    if (i < m->nknown && m->known[i].uid == uid) {
        m->known[i].acked = m->known[i].acked || acked;
        return 0;
    }
    if (m->nknown == m->cknown) {
        size_t c = m->cknown ? m->cknown * 2 : 256;
        rp_imap_known *nk = realloc(m->known, c * sizeof *nk);
        if (!nk)
            return -1;
        m->known = nk;
        m->cknown = c;
    }
    memmove(m->known + i + 1, m->known + i, (m->nknown - i) * sizeof *m->known);
    m->known[i].uid = uid;
    m->known[i].acked = acked;
    m->nknown++;
    return 0;
}

/* Drops entries handed over but never acknowledged (they are handed over
 * again) and moves the cursor over leading acknowledged ones. */
static void rp_imap_known_settle(rp_imap *m, bool drop_unacked)
{
    size_t w = 0;
    bool leading = true;
    for (size_t i = 0; i < m->nknown; i++) {
        if (m->known[i].uid <= m->cursor)
            continue;
        if (!m->known[i].acked) {
            leading = false;
            if (drop_unacked)
                continue;
        } else if (leading) {
            m->cursor = m->known[i].uid;
            continue;
        }
        m->known[w++] = m->known[i];
    }
    m->nknown = w;
}

/* ---- SELECT ---- */

static int rp_imap_on_select(rp_imap *m, size_t off, size_t len)
{
    const char *r = m->rbuf + off;
    rp_imap_status st;
    uint32_t v;
    if (rp_imap_parse_status(r, len, &st) == 0 && st.status == RP_IMAP_ST_OK && st.code.n) {
        if (rp_imap_code_number(st.code, "UIDVALIDITY", &v) == 0)
            m->sel_uidvalidity = v;
    }
    return 0;
}

/* SELECTs the folder and checks UIDVALIDITY. Done once per connection: a
 * server may read the whole folder for it (Dovecot scans a Maildir's cur/,
 * seconds for 100 000 messages); later polls use NOOP. */
static rp_source_result rp_imap_select(rp_imap *m, char *detail, size_t dsz)
{
    char cmd[RP_IMAP_FOLDER_MAX + 16];
    snprintf(cmd, sizeof cmd, "SELECT %s", m->folder_q);
    m->sel_uidvalidity = m->sel_exists = 0;
    char text[200];
    bool nonexistent = false;
    int st = rp_imap_command(m, cmd, rp_imap_on_select, text, sizeof text, &nonexistent, detail,
                             dsz);
    if (st == RP_IMAP_IO) {
        rp_imap_drop(m);
        return RP_SOURCE_RETRY;
    }
    if (st == RP_IMAP_ST_NO) {
        rp_pu_msg(detail, dsz, "imap: cannot select folder '%s': %s", m->folder, text);
        m->selected = false;
        return RP_SOURCE_FATAL;
    }
    if (st != RP_IMAP_ST_OK) {
        rp_pu_msg(detail, dsz, "imap: SELECT refused: %s", text);
        rp_imap_drop(m);
        return RP_SOURCE_RETRY;
    }
    if (m->sel_uidvalidity == 0) {
        rp_pu_msg(detail, dsz, "imap: the server sent no UIDVALIDITY for '%s'", m->folder);
        rp_imap_drop(m);
        return RP_SOURCE_RETRY;
    }
    m->selected = true;
    if (m->uidvalidity == 0) {
        m->uidvalidity = m->sel_uidvalidity;
    } else if (m->uidvalidity != m->sel_uidvalidity) {
        rp_pu_log(&m->host, RP_LOG_WARN,
                  "imap: UIDVALIDITY of '%s' changed from %u to %u: starting again from "
                  "UID 1 (messages the queue has already are recognised there)",
                  m->folder, (unsigned)m->uidvalidity, (unsigned)m->sel_uidvalidity);
        m->uidvalidity = m->sel_uidvalidity;
        m->cursor = 0;
        m->nknown = 0;
        rp_imap_save(m);
    }
    return RP_SOURCE_OK;
}

/* A NOOP on the selected folder: the server reports new messages
 * (EXISTS) and expunged ones; Dovecot looks at the Maildir again for it. */
static rp_source_result rp_imap_noop(rp_imap *m, char *detail, size_t dsz)
{
    char text[200];
    int st = rp_imap_command(m, "NOOP", NULL, text, sizeof text, NULL, detail, dsz);
    if (st == RP_IMAP_ST_OK)
        return RP_SOURCE_OK;
    if (st != RP_IMAP_IO)
        rp_pu_msg(detail, dsz, "imap: NOOP refused: %s", text);
    rp_imap_drop(m);
    return RP_SOURCE_RETRY;
}

/* Connects and SELECTs, or NOOPs on a kept connection; a kept connection
 * the server dropped meanwhile is replaced once. */
static rp_source_result rp_imap_ready(rp_imap *m, char *detail, size_t dsz)
{
    for (int attempt = 0; attempt < 2; attempt++) {
        bool reused = m->connected;
        rp_source_result r = rp_imap_connect(m, detail, dsz);
        if (r != RP_SOURCE_OK)
            return r;
        r = m->selected ? rp_imap_noop(m, detail, dsz) : rp_imap_select(m, detail, dsz);
        if (r == RP_SOURCE_OK || !reused || m->connected || rp_pu_stopping(&m->host))
            return r;
        rp_pu_log(&m->host, RP_LOG_DEBUG, "imap: kept connection was closed; reconnecting");
    }
    return RP_SOURCE_RETRY;
}

/* ---- setting messages aside / marking them ---- */

static int rp_imap_cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

/* Runs "UID <verb> SET<suffix>" over uids (sorted), in chunks. */
static rp_source_result rp_imap_uid_cmd(rp_imap *m, const char *verb, const char *suffix,
                                        const uint32_t *uids, size_t n, const char *what,
                                        char *detail, size_t dsz)
{
    size_t done = 0;
    char set[RP_IMAP_CMD_SET + 1];
    while (done < n) {
        size_t k = rp_imap_uid_set(uids + done, n - done, set, sizeof set);
        if (k == 0) {
            rp_pu_msg(detail, dsz, "imap: UID set does not fit");
            return RP_SOURCE_RETRY;
        }
        size_t need = strlen(verb) + strlen(set) + strlen(suffix) + 8;
        char *cmd = malloc(need);
        if (!cmd) {
            rp_pu_msg(detail, dsz, "imap: out of memory");
            return RP_SOURCE_RETRY;
        }
        snprintf(cmd, need, "UID %s %s%s", verb, set, suffix);
        char text[200];
        bool trycreate = false;
        int st = rp_imap_command(m, cmd, NULL, text, sizeof text, &trycreate, detail, dsz);
        free(cmd);
        if (st == RP_IMAP_IO) {
            rp_imap_drop(m);
            return RP_SOURCE_RETRY;
        }
        if (st != RP_IMAP_ST_OK) {
            if (trycreate) {
                rp_pu_msg(detail, dsz, "imap: %s: folder does not exist: %s", what, text);
                return RP_SOURCE_FATAL;
            }
            rp_pu_msg(detail, dsz, "imap: %s refused: %s", what, text);
            return RP_SOURCE_RETRY;
        }
        done += k;
    }
    return RP_SOURCE_OK;
}

/* Moves uids to the folder quoted as folder_q: UID MOVE (RFC 6851), or
 * without it COPY, flag \Seen \Deleted and UID EXPUNGE (RFC 4315) when
 * offered; with neither they stay flagged \Deleted in the source folder. */
static rp_source_result rp_imap_move(rp_imap *m, const uint32_t *uids, size_t n,
                                     const char *folder_q, const char *what, char *detail,
                                     size_t dsz)
{
    char suffix[RP_IMAP_FOLDER_MAX + 16];
    snprintf(suffix, sizeof suffix, " %s", folder_q);
    if (m->cap_move)
        return rp_imap_uid_cmd(m, "MOVE", suffix, uids, n, what, detail, dsz);
    rp_source_result r = rp_imap_uid_cmd(m, "COPY", suffix, uids, n, what, detail, dsz);
    if (r == RP_SOURCE_OK)
        r = rp_imap_uid_cmd(m, "STORE", " +FLAGS.SILENT (\\Seen \\Deleted)", uids, n, what,
                            detail, dsz);
    if (r != RP_SOURCE_OK)
        return r;
    if (m->cap_uidplus)
        return rp_imap_uid_cmd(m, "EXPUNGE", "", uids, n, what, detail, dsz);
    if (!m->warned_nomove) {
        m->warned_nomove = true;
        rp_pu_log(&m->host, RP_LOG_WARN,
                  "imap: the server offers neither MOVE nor UIDPLUS: moved messages are "
                  "copied and left flagged \\Deleted in '%s'",
                  m->folder);
    }
    return RP_SOURCE_OK;
}

/* Sets unreadable messages aside: error_folder, or flag \Seen. */
static rp_source_result rp_imap_set_aside(rp_imap *m, const uint32_t *uids, size_t n,
                                          const char *why, char *detail, size_t dsz)
{
    if (n == 0)
        return RP_SOURCE_OK;
    rp_source_result r;
    if (m->error_folder)
        r = rp_imap_move(m, uids, n, m->error_q, "moving to error_folder", detail, dsz);
    else
        r = rp_imap_uid_cmd(m, "STORE", " +FLAGS.SILENT (\\Seen)", uids, n, "STORE \\Seen",
                            detail, dsz);
    if (r != RP_SOURCE_OK)
        return r;
    for (size_t i = 0; i < n; i++)
        rp_pu_log(&m->host, RP_LOG_WARN, "imap: %s uid %u %s; %s", m->folder, (unsigned)uids[i],
                  why,
                  m->error_folder ? "moved to error_folder"
                                  : "flagged \\Seen, not handed over again");
    return RP_SOURCE_OK;
}

/* ---- poll ---- */

static int rp_imap_on_scan(rp_imap *m, size_t off, size_t len)
{
    rp_imap_fetch f;
    if (rp_imap_parse_fetch(m->rbuf + off, len, &f) != 0 || f.uid == 0)
        return 0;
    /* "UID FETCH n:*" answers with the highest UID even when it is below n */
    if (f.uid < m->fetch_lo || f.uid > m->fetch_hi || f.uid <= m->cursor)
        return 0;
    if (m->ncand == m->ccand) {
        size_t c = m->ccand ? m->ccand * 2 : 256;
        rp_imap_cand *nc = realloc(m->cand, c * sizeof *nc);
        if (!nc)
            return -1;
        m->cand = nc;
        m->ccand = c;
    }
    m->cand[m->ncand].uid = f.uid;
    m->cand[m->ncand].size = f.has_size ? f.size : 0;
    m->ncand++;
    return 0;
}

static int rp_imap_on_highest(rp_imap *m, size_t off, size_t len)
{
    rp_imap_fetch f;
    if (rp_imap_parse_fetch(m->rbuf + off, len, &f) == 0 && f.uid > m->highest)
        m->highest = f.uid;
    return 0;
}

static int rp_imap_cmp_cand(const void *a, const void *b)
{
    uint32_t x = ((const rp_imap_cand *)a)->uid, y = ((const rp_imap_cand *)b)->uid;
    return x < y ? -1 : x > y;
}

static int rp_imap_on_body(rp_imap *m, size_t off, size_t len)
{
    rp_imap_fetch f;
    if (rp_imap_parse_fetch(m->rbuf + off, len, &f) != 0 || !f.has_body || f.uid == 0)
        return 0;
    if (f.uid < m->fetch_lo || f.uid > m->fetch_hi)
        return 0;
    if (m->ngot == m->cgot) {
        size_t c = m->cgot ? m->cgot * 2 : 64;
        rp_imap_got *ng = realloc(m->got, c * sizeof *ng);
        if (!ng)
            return -1;
        m->got = ng;
        m->cgot = c;
    }
    rp_imap_got *g = &m->got[m->ngot++];
    g->uid = f.uid;
    g->date = f.has_date ? f.date : 0;
    g->off = (size_t)(f.body.p - m->rbuf);
    g->len = f.body.n;
    g->quoted = f.body_quoted != 0;
    return 0;
}

static int rp_imap_cmp_got(const void *a, const void *b)
{
    uint32_t x = ((const rp_imap_got *)a)->uid, y = ((const rp_imap_got *)b)->uid;
    return x < y ? -1 : x > y;
}

/* Finds up to want+1 UIDs above the cursor that were not acknowledged yet,
 * with their sizes, into m->cand (sorted). *rest is set when UIDs beyond the
 * scanned range may exist. */
static rp_source_result rp_imap_scan(rp_imap *m, size_t want, bool *rest, char *detail,
                                     size_t dsz)
{
    m->ncand = 0;
    *rest = false;
    if (m->sel_exists == 0)
        return RP_SOURCE_OK;
    if (m->cursor == UINT32_MAX)
        return RP_SOURCE_OK;
    /* the highest UID now: the last message's */
    m->fetch_lo = 1;
    m->fetch_hi = UINT32_MAX;
    m->highest = 0;
    char text[200];
    int hs = rp_imap_command(m, "FETCH * (UID)", rp_imap_on_highest, text, sizeof text, NULL,
                             detail, dsz);
    if (hs == RP_IMAP_IO) {
        rp_imap_drop(m);
        return RP_SOURCE_RETRY;
    }
    if (hs != RP_IMAP_ST_OK) {
        rp_pu_msg(detail, dsz, "imap: FETCH refused: %s", text);
        rp_imap_drop(m);
        return RP_SOURCE_RETRY;
    }
    if (m->highest <= m->cursor)
        return RP_SOURCE_OK;
    uint32_t a = m->cursor + 1;
    uint32_t last = m->highest;
    uint64_t window = want * 2 < 64 ? 64 : want * 2 > 4096 ? 4096 : want * 2;
    while (a <= last) {
        uint32_t b = (uint64_t)a + window - 1 >= last ? last : (uint32_t)(a + window - 1);
        char cmd[96];
        snprintf(cmd, sizeof cmd, "UID FETCH %u:%u (UID RFC822.SIZE)", (unsigned)a, (unsigned)b);
        m->fetch_lo = a;
        m->fetch_hi = b;
        size_t before = m->ncand;
        int st = rp_imap_command(m, cmd, rp_imap_on_scan, text, sizeof text, NULL, detail, dsz);
        if (st == RP_IMAP_IO) {
            rp_imap_drop(m);
            return RP_SOURCE_RETRY;
        }
        if (st != RP_IMAP_ST_OK) {
            rp_pu_msg(detail, dsz, "imap: UID FETCH refused: %s", text);
            rp_imap_drop(m);
            return RP_SOURCE_RETRY;
        }
        /* keep those not acknowledged in this process yet */
        size_t w = before;
        for (size_t i = before; i < m->ncand; i++)
            if (!rp_imap_known_acked(m, m->cand[i].uid))
                m->cand[w++] = m->cand[i];
        m->ncand = w;
        if (b >= last)
            break;
        if (m->ncand > want) {
            *rest = true;
            break;
        }
        a = b + 1;
        if (m->ncand == before && window < ((uint64_t)1 << 24))
            window *= 2; /* a gap in the UIDs: look further at once */
        if (rp_pu_stopping(&m->host)) {
            *rest = true;
            break;
        }
    }
    if (m->ncand > 1)
        qsort(m->cand, m->ncand, sizeof *m->cand, rp_imap_cmp_cand);
    size_t w = 0;
    for (size_t i = 0; i < m->ncand; i++)
        if (w == 0 || m->cand[w - 1].uid != m->cand[i].uid)
            m->cand[w++] = m->cand[i];
    m->ncand = w;
    if (m->ncand > want)
        *rest = true;
    return RP_SOURCE_OK;
}

static rp_source_result rp_imap_poll(void *instance, unsigned max, rp_source_emit_fn emit,
                                     void *ctx, int *more, char *detail, size_t dsz)
{
    rp_imap *m = instance;
    if (more)
        *more = 0;
    if (detail && dsz)
        detail[0] = 0;
    if (!m || !emit) {
        rp_pu_msg(detail, dsz, "imap: no instance");
        return RP_SOURCE_FATAL;
    }
    if (max == 0)
        return RP_SOURCE_OK;
    /* handed over last time and not acknowledged: hand them over again */
    rp_imap_known_settle(m, true);
    rp_source_result r = rp_imap_ready(m, detail, dsz);
    if (r != RP_SOURCE_OK)
        return r;
    bool rest = false;
    r = rp_imap_scan(m, max, &rest, detail, dsz);
    if (r != RP_SOURCE_OK)
        return r;

    /* messages too large to fetch are set aside at once */
    uint32_t big[64];
    size_t nbig = 0;
    size_t w = 0;
    for (size_t i = 0; i < m->ncand; i++) {
        if (m->cand[i].size > RP_IMAP_MAX_MESSAGE && nbig < sizeof big / sizeof big[0])
            big[nbig++] = m->cand[i].uid;
        else
            m->cand[w++] = m->cand[i];
    }
    m->ncand = w;
    if (nbig) {
        r = rp_imap_set_aside(m, big, nbig, "is larger than 64 MiB", detail, dsz);
        if (r != RP_SOURCE_OK)
            return r;
        for (size_t i = 0; i < nbig; i++)
            if (rp_imap_known_add(m, big[i], true) != 0) {
                rp_pu_msg(detail, dsz, "imap: out of memory");
                return RP_SOURCE_RETRY;
            }
        rp_imap_known_settle(m, false);
        rp_imap_save(m);
    }

    size_t take = m->ncand < max ? m->ncand : max;
    if (m->ncand > take || rest)
        rest = true;
    size_t done = 0;
    char ref[RP_IMAP_FOLDER_MAX + 32];
    while (done < take) {
        /* one round trip: up to batch messages and about 64 MiB */
        size_t k = 0;
        uint64_t bytes = 0;
        uint32_t ids[1000];
        while (done + k < take && k < m->batch &&
               (k == 0 || bytes + m->cand[done + k].size <= RP_IMAP_FETCH_BYTES)) {
            bytes += m->cand[done + k].size;
            ids[k] = m->cand[done + k].uid;
            k++;
        }
        char set[RP_IMAP_CMD_SET + 1];
        size_t covered = rp_imap_uid_set(ids, k, set, sizeof set);
        if (covered < k)
            k = covered;
        if (k == 0) {
            rp_pu_msg(detail, dsz, "imap: UID set does not fit");
            return RP_SOURCE_RETRY;
        }
        char cmd[RP_IMAP_CMD_SET + 64];
        snprintf(cmd, sizeof cmd, "UID FETCH %s (UID INTERNALDATE BODY.PEEK[])", set);
        m->fetch_lo = ids[0];
        m->fetch_hi = ids[k - 1];
        m->ngot = 0;
        char text[200];
        int st = rp_imap_command(m, cmd, rp_imap_on_body, text, sizeof text, NULL, detail, dsz);
        if (st == RP_IMAP_IO) {
            rp_imap_drop(m);
            return RP_SOURCE_RETRY;
        }
        if (st != RP_IMAP_ST_OK) {
            rp_pu_msg(detail, dsz, "imap: UID FETCH refused: %s", text);
            rp_imap_drop(m);
            return RP_SOURCE_RETRY;
        }
        if (m->ngot > 1)
            qsort(m->got, m->ngot, sizeof *m->got, rp_imap_cmp_got);
        uint32_t prev = 0;
        for (size_t i = 0; i < m->ngot; i++) {
            rp_imap_got *g = &m->got[i];
            if (g->uid == prev || rp_imap_known_acked(m, g->uid))
                continue; /* a server that answered twice */
            prev = g->uid;
            char *body = m->rbuf + g->off;
            size_t len = g->quoted ? rp_imap_unquote(body, g->len) : g->len;
            snprintf(ref, sizeof ref, "%s uid %u", m->folder, (unsigned)g->uid);
            rp_source_item item = {
                .data = body,
                .len = len,
                .format = RP_ITEM_MIME,
                .ref = ref,
                .token = g->uid,
                .received = g->date,
            };
            if (rp_imap_known_add(m, g->uid, false) != 0) {
                rp_pu_msg(detail, dsz, "imap: out of memory");
                return RP_SOURCE_RETRY;
            }
            if (emit(ctx, &item) != 0) {
                if (more)
                    *more = 1;
                return RP_SOURCE_OK;
            }
        }
        done += k;
        if (rp_pu_stopping(&m->host)) {
            rest = true;
            break;
        }
    }
    if (more)
        *more = rest || done < m->ncand ? 1 : 0;
    return RP_SOURCE_OK;
}

/* ---- ack ---- */

static rp_source_result rp_imap_ack(void *instance, const uint64_t *tokens, const int *outcome,
                                    size_t n, char *detail, size_t dsz)
{
    rp_imap *m = instance;
    if (detail && dsz)
        detail[0] = 0;
    if (!m) {
        rp_pu_msg(detail, dsz, "imap: no instance");
        return RP_SOURCE_FATAL;
    }
    if (n == 0)
        return RP_SOURCE_OK;
    if (!tokens || !outcome) {
        rp_pu_msg(detail, dsz, "imap: no tokens");
        return RP_SOURCE_FATAL;
    }
    uint32_t *stored = malloc(n * sizeof *stored);
    uint32_t *bad = malloc(n * sizeof *bad);
    size_t ns = 0, nb = 0;
    if (!stored || !bad) {
        free(stored);
        free(bad);
        rp_pu_msg(detail, dsz, "imap: out of memory");
        return RP_SOURCE_RETRY;
    }
    for (size_t i = 0; i < n; i++) {
        uint64_t t = tokens[i];
        if (t == 0 || t > UINT32_MAX)
            continue;
        uint32_t uid = (uint32_t)t;
        size_t at = rp_imap_known_find(m, uid);
        if (at >= m->nknown || m->known[at].uid != uid || m->known[at].acked)
            continue; /* not handed over by this instance, or done already */
        if (outcome[i] == RP_ACK_UNREADABLE)
            bad[nb++] = uid;
        else
            stored[ns++] = uid;
    }
    if (ns > 1)
        qsort(stored, ns, sizeof *stored, rp_imap_cmp_u32);
    if (nb > 1)
        qsort(bad, nb, sizeof *bad, rp_imap_cmp_u32);
    rp_source_result r = RP_SOURCE_OK;
    if (ns || nb) {
        uint32_t validity = m->uidvalidity;
        if (!m->selected)
            r = rp_imap_ready(m, detail, dsz);
        if (r == RP_SOURCE_OK && m->uidvalidity != validity) {
            /* the folder changed under us: these UIDs mean nothing now */
            rp_pu_msg(detail, dsz, "imap: UIDVALIDITY of '%s' changed before the "
                                     "acknowledgement; messages are handed over again",
                      m->folder);
            r = RP_SOURCE_RETRY;
        }
        if (r == RP_SOURCE_OK && ns) {
            if (m->after == RP_AFTER_MOVE)
                r = rp_imap_move(m, stored, ns, m->move_q, "moving to move_to", detail, dsz);
            else
                r = rp_imap_uid_cmd(m, "STORE", " +FLAGS.SILENT (\\Seen)", stored, ns,
                                    "STORE \\Seen", detail, dsz);
        }
        if (r == RP_SOURCE_OK && nb)
            r = rp_imap_set_aside(m, bad, nb, "could not be read as a message", detail, dsz);
    }
    if (r == RP_SOURCE_OK) {
        for (size_t i = 0; i < ns && r == RP_SOURCE_OK; i++)
            if (rp_imap_known_add(m, stored[i], true) != 0)
                r = RP_SOURCE_RETRY;
        for (size_t i = 0; i < nb && r == RP_SOURCE_OK; i++)
            if (rp_imap_known_add(m, bad[i], true) != 0)
                r = RP_SOURCE_RETRY;
        if (r != RP_SOURCE_OK)
            rp_pu_msg(detail, dsz, "imap: out of memory");
        rp_imap_known_settle(m, false);
        rp_imap_save(m);
    }
    free(stored);
    free(bad);
    return r;
}

/* ---- open / close ---- */

static void rp_imap_close(void *instance)
{
    rp_imap *m = instance;
    if (!m)
        return;
    if (m->curl && m->connected && m->rstart == m->rlen) {
        /* a healthy connection: let libcurl say LOGOUT */
        curl_easy_cleanup(m->curl);
        m->curl = NULL;
        m->connected = false;
    }
    rp_imap_drop(m);
    free(m->url);
    free(m->folder);
    free(m->move_to);
    free(m->error_folder);
    free(m->username);
    rp_pu_wipe_free(m->password);
    free(m->ca_file);
    free(m->rbuf);
    free(m->known);
    free(m->cand);
    free(m->got);
    if (m->curl_ready)
        curl_global_cleanup();
    free(m);
}

/* A folder name: printable ASCII (a non-ASCII name is given in IMAP's
 * modified UTF-7, as the server lists it), at most RP_IMAP_FOLDER_MAX bytes.
 * Quotes it into q. */
static int rp_imap_folder_ok(const char *key, const char *name, char *q, size_t qsize, char *err,
                             size_t errsize)
{
    size_t n = strlen(name);
    if (n == 0 || n > RP_IMAP_FOLDER_MAX) {
        rp_pu_msg(err, errsize, "imap: %s must be a folder name of 1..%d bytes", key,
                  RP_IMAP_FOLDER_MAX);
        return -1;
    }
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)name[i];
        if (c < 0x20 || c > 0x7e) {
            rp_pu_msg(err, errsize,
                      "imap: %s: folder names are printable ASCII; give a non-ASCII name "
                      "in IMAP's modified UTF-7 (as the server lists it)",
                      key);
            return -1;
        }
    }
    if (rp_imap_quote(name, q, qsize) != 0) {
        rp_pu_msg(err, errsize, "imap: %s is too long", key);
        return -1;
    }
    return 0;
}

/* move_to or error_folder: a folder name other than the url's, quoted into q
 * and copied into *out. */
static int rp_imap_other_folder(const rp_imap *m, const char *key, const char *name, char *q,
                                size_t qsize, char **out, char *err, size_t errsize)
{
    if (rp_imap_folder_ok(key, name, q, qsize, err, errsize) != 0)
        return -1;
    if (strcmp(name, m->folder) == 0)
        return rp_pu_fail(err, errsize, "imap: %s must differ from the url's folder", key);
    if (!(*out = rp_pu_strdup(name)))
        return rp_pu_fail(err, errsize, "imap: out of memory");
    return 0;
}

/* Checks the url and splits it into "scheme://host:port/" and the folder. */
static int rp_imap_parse_url(rp_imap *m, const char *url, bool *imaps, char *err, size_t errsize)
{
    rp_pu_url u;
    if (rp_pu_url_parse("imap", url, "imap", "imaps", true, &u, err, errsize) != 0)
        return -1;
    int rc = -1;
    *imaps = u.tls;
    const char *folder = u.path[0] == '/' ? u.path + 1 : u.path;
    if (!folder[0])
        folder = "INBOX";
    if (strchr(folder, ';')) {
        rp_pu_msg(err, errsize,
                  "imap: option 'url' path must be just the folder (no ;UID= or other "
                  "IMAP URL parts)");
        goto done;
    }
    if (rp_imap_folder_ok("the url's folder", folder, m->folder_q, sizeof m->folder_q, err,
                          errsize) != 0)
        goto done;
    m->folder = rp_pu_strdup(folder);
    size_t need = strlen(u.scheme) + strlen(u.host) + strlen(u.port) + 8;
    m->url = malloc(need);
    if (!m->folder || !m->url) {
        rp_pu_msg(err, errsize, "imap: out of memory");
        goto done;
    }
    snprintf(m->url, need, "%s://%s:%s/", u.scheme, u.host, u.port);
    rc = 0;
done:
    rp_pu_url_free(&u);
    return rc;
}

static int rp_imap_open(const rp_plugin_host *host, const rp_plugin_option *opts, size_t nopts,
                        const char *state, void **instance, char *err, size_t errsize)
{
    static const char *const known[] = {
        "url",    "tls",     "ca_file",      "username", "password_env", "password_file",
        "after",  "move_to", "error_folder", "batch",    "timeout_ms",   "connect_timeout_ms",
        NULL,
    };
    static const rp_pu_refusal refused[] = {RP_PU_REFUSE_PASSWORD, {NULL, NULL}};
    enum { K_URL, K_TLS, K_CA, K_USER, K_PENV, K_PFILE, K_AFTER, K_MOVE, K_ERR, K_BATCH, K_TMO,
           K_CTMO, K_N };
    const char *val[K_N];
    if (!instance) {
        rp_pu_msg(err, errsize, "imap: no instance pointer");
        return 1;
    }
    *instance = NULL;
    if (rp_pu_options("imap", known, refused, opts, nopts, val, err, errsize) != 0)
        return 1;
    if (!val[K_URL] || !val[K_URL][0]) {
        rp_pu_msg(err, errsize, "imap: option 'url' is required (imap://host:port/FOLDER)");
        return 1;
    }
    if (!val[K_USER] || !val[K_USER][0]) {
        rp_pu_msg(err, errsize, "imap: option 'username' is required");
        return 1;
    }
    if (val[K_PENV] && val[K_PFILE]) {
        rp_pu_msg(err, errsize, "imap: give password_env or password_file, not both");
        return 1;
    }
    if (!val[K_PENV] && !val[K_PFILE]) {
        rp_pu_msg(err, errsize, "imap: option 'username' needs password_env or password_file");
        return 1;
    }

    rp_imap *m = calloc(1, sizeof *m);
    if (!m) {
        rp_pu_msg(err, errsize, "imap: out of memory");
        return 1;
    }
    if (host) {
        m->host = *host;
        m->host.base_dir = NULL;
    }
    m->timeout_ms = 30000;
    m->connect_timeout_ms = 10000;
    m->batch = 50;
    if ((val[K_TMO] &&
         rp_pu_ms_opt("imap", "timeout_ms", val[K_TMO], &m->timeout_ms, err, errsize) != 0) ||
        (val[K_CTMO] && rp_pu_ms_opt("imap", "connect_timeout_ms", val[K_CTMO],
                                     &m->connect_timeout_ms, err, errsize) != 0))
        goto fail;
    unsigned long long batch;
    if (val[K_BATCH]) {
        if (rp_pu_uint(val[K_BATCH], 1, 1000, &batch) != 0) {
            rp_pu_msg(err, errsize, "imap: option 'batch' must be a number from 1 to 1000");
            goto fail;
        }
        m->batch = (unsigned)batch;
    }

    bool imaps = false;
    if (rp_imap_parse_url(m, val[K_URL], &imaps, err, errsize) != 0)
        goto fail;
    if (rp_pu_tls_opt("imap", val[K_TLS], imaps, "imaps", &m->tls, err, errsize) != 0)
        goto fail;

    if (!val[K_AFTER] || strcmp(val[K_AFTER], "seen") == 0)
        m->after = RP_AFTER_SEEN;
    else if (strcmp(val[K_AFTER], "move") == 0)
        m->after = RP_AFTER_MOVE;
    else {
        rp_pu_msg(err, errsize, "imap: option 'after' must be seen or move");
        goto fail;
    }
    if (m->after == RP_AFTER_MOVE && !val[K_MOVE]) {
        rp_pu_msg(err, errsize, "imap: after: move needs option 'move_to'");
        goto fail;
    }
    if (m->after != RP_AFTER_MOVE && val[K_MOVE]) {
        rp_pu_msg(err, errsize, "imap: option 'move_to' is only used with after: move");
        goto fail;
    }
    if ((val[K_MOVE] && rp_imap_other_folder(m, "move_to", val[K_MOVE], m->move_q,
                                             sizeof m->move_q, &m->move_to, err, errsize) != 0) ||
        (val[K_ERR] && rp_imap_other_folder(m, "error_folder", val[K_ERR], m->error_q,
                                            sizeof m->error_q, &m->error_folder, err,
                                            errsize) != 0))
        goto fail;

    const char *base = host && host->base_dir ? host->base_dir : ".";
    if (val[K_CA] && !(m->ca_file = rp_pu_ca_file("imap", base, val[K_CA], err, errsize)))
        goto fail;
    if (!(m->username = rp_pu_strdup(val[K_USER])))
        goto oom;
    if (!(m->password = rp_pu_password("imap", base, val[K_PENV], val[K_PFILE], err, errsize)))
        goto fail;
    if (m->tls == RP_PU_TLS_NONE && !(host && host->check_only))
        rp_pu_log(&m->host, RP_LOG_WARN,
                  "imap: tls is none: the password crosses the network in clear");

    rp_imap_load_state(m, state);

    /* Counted: paired with curl_global_cleanup() in close. */
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
        rp_pu_msg(err, errsize, "imap: libcurl initialisation failed");
        goto fail;
    }
    m->curl_ready = true;
    /* With check_only nothing is connected: the handle is made on the
     * first poll. */
    *instance = m;
    return 0;
oom:
    rp_pu_msg(err, errsize, "imap: out of memory");
fail:
    rp_imap_close(m);
    return 1;
}

static const rp_source_ops rp_imap_ops = {
    .size = sizeof(rp_source_ops),
    .flags = 0,
    .open = rp_imap_open,
    .poll = rp_imap_poll,
    .ack = rp_imap_ack,
    .close = rp_imap_close,
};

RP_PU_PLUGIN("imap", "fetches buyer messages from an IMAP folder", NULL, &rp_imap_ops);
