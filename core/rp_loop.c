/* rp_loop.c — loop protection: which messages are never answered, and how
 * often one buyer gets automatic replies. Sources for every check are named
 * next to it and in docs/loop-protection.md. */
#include "rp_loop.h"

#include <glib.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "rp_buf.h"
#include "rp_map.h"

#define ADDR_MAX 512 /* longer From values hold no usable address */

static const char *const reason_names[RP_LOOP_REASON_COUNT] = {
    "none",          "null_return_path",       "auto_submitted",   "list",
    "precedence",    "auto_response_suppress", "autoreply_header", "delivery_report",
    "system_sender", "noreply_sender",         "list_sender",      "notification_sender",
    "own_address",   "auto_reply_subject",     "once_per_period",  "hourly_cap",
};

const char *rp_loop_reason_name(rp_loop_reason r)
{
    if ((int)r < 0 || r >= RP_LOOP_REASON_COUNT)
        return "unknown";
    return reason_names[r];
}

struct rp_loop {
    const rp_config *cfg;
    char **own; /* bare, lower-cased: own_addresses, then the marketplaces' senders */
    size_t nown;
};

/* ---- small text helpers ------------------------------------------------------- */

static int lc(int c)
{
    return c >= 'A' && c <= 'Z' ? c + 32 : c;
}

static bool is_alnum(int c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

static bool is_space(int c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* ASCII case-insensitive prefix test; other bytes compare as they are. */
static bool prefix_ci(const char *s, const char *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!s[i] || lc((unsigned char)s[i]) != lc((unsigned char)p[i]))
            return false;
    return true;
}

static bool eq_ci(const char *a, size_t alen, const char *b)
{
    return strlen(b) == alen && prefix_ci(a, b, alen);
}

static bool is_sep(int c)
{
    return c == '-' || c == '_' || c == '.' || c == '+';
}

/* The first token of a header value: up to ';', '(', ',' or white space. */
static const char *first_token(const char *v, size_t *len)
{
    while (is_space((unsigned char)*v))
        v++;
    size_t n = 0;
    while (v[n] && v[n] != ';' && v[n] != '(' && v[n] != ',' && !is_space((unsigned char)v[n]))
        n++;
    *len = n;
    return v;
}

/* A header value shown in a detail: letters, digits and . _ - / only, at most
 * 40 of them, so a value that carries an address never reaches a log line. */
static void safe_token(const char *t, size_t n, char *out, size_t size)
{
    size_t k = 0;
    for (size_t i = 0; i < n && k + 1 < size && k < 40; i++) {
        unsigned char c = (unsigned char)t[i];
        if (!is_alnum(c) && c != '.' && c != '_' && c != '-' && c != '/')
            break;
        out[k++] = (char)c;
    }
    out[k] = '\0';
}

static void say(char *detail, size_t size, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void say(char *detail, size_t size, const char *fmt, ...)
{
    if (!detail || !size)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(detail, size, fmt, ap);
    va_end(ap);
}

/* ---- addresses ------------------------------------------------------------------ */

size_t rp_loop_bare_address(const char *from, char *out, size_t size)
{
    if (size)
        out[0] = '\0';
    if (!from || size < 2)
        return 0;
    const char *b = NULL, *e = NULL;
    /* an angle-addr: the last '<' (a display name may hold one too) */
    const char *lt = strrchr(from, '<');
    if (lt) {
        const char *gt = strchr(lt, '>');
        if (gt) {
            b = lt + 1;
            e = gt;
        }
    }
    if (!b) {
        /* no angle brackets: the word with an '@' in it, else a lone word
         * ("MAILER-DAEMON") */
        const char *p = from, *lone = NULL, *lone_end = NULL;
        size_t words = 0;
        while (*p) {
            while (is_space((unsigned char)*p))
                p++;
            if (!*p)
                break;
            const char *w = p;
            while (*p && !is_space((unsigned char)*p))
                p++;
            words++;
            if (memchr(w, '@', (size_t)(p - w))) {
                b = w;
                e = p;
                break;
            }
            lone = w;
            lone_end = p;
        }
        if (!b && words == 1) {
            b = lone;
            e = lone_end;
        }
        if (!b)
            return 0;
    }
    while (b < e && is_space((unsigned char)*b))
        b++;
    while (e > b && is_space((unsigned char)e[-1]))
        e--;
    size_t n = (size_t)(e - b);
    if (n == 0 || n >= size)
        return 0;
    for (size_t i = 0; i < n; i++)
        out[i] = (char)lc((unsigned char)b[i]);
    out[n] = '\0';
    return n;
}

void rp_loop_sender_key(const char *from, char out[65])
{
    char addr[ADDR_MAX];
    out[0] = '\0';
    size_t n = rp_loop_bare_address(from, addr, sizeof addr);
    if (!n)
        return;
    GChecksum *c = g_checksum_new(G_CHECKSUM_SHA256);
    if (!c)
        return;
    g_checksum_update(c, (const guchar *)addr, (gssize)n);
    const char *hex = g_checksum_get_string(c); /* lower-case hex */
    if (hex && strlen(hex) == 64)
        memcpy(out, hex, 65);
    g_checksum_free(c);
}

bool rp_loop_glob_match(const char *pattern, const char *text)
{
    /* the classic two-pointer match: on a mismatch, the last '*' takes one
     * more character */
    const char *p = pattern, *t = text, *star = NULL, *resume = NULL;
    while (*t) {
        if (*p == '*') {
            star = ++p;
            resume = t;
        } else if (*p && lc((unsigned char)*p) == lc((unsigned char)*t)) {
            p++;
            t++;
        } else if (star) {
            p = star;
            t = ++resume;
        } else {
            return false;
        }
    }
    while (*p == '*')
        p++;
    return *p == '\0';
}

/* The local part (before the last '@') without a "+tag" subaddress. */
static size_t local_part(const char *addr, const char **lp)
{
    const char *at = strrchr(addr, '@');
    size_t n = at ? (size_t)(at - addr) : strlen(addr);
    const char *plus = memchr(addr, '+', n);
    if (plus && plus > addr)
        n = (size_t)(plus - addr);
    *lp = addr;
    return n;
}

/* ---- building -------------------------------------------------------------------- */

void rp_loop_free(rp_loop *l)
{
    if (!l)
        return;
    for (size_t i = 0; i < l->nown; i++)
        free(l->own[i]);
    free(l->own);
    free(l);
}

/* Relay aliases buyers write from: a notification pattern that matches one
 * would silence every buyer of that marketplace. */
static const char *const relay_domains[] = {"amazon.com",    "amazon.ca",     "amazon.com.mx",
                                            "amazon.com.br", "amazon.co.uk",  "amazon.de",
                                            "amazon.fr",     "amazon.it",     "amazon.es",
                                            "amazon.nl",     "amazon.se",     "amazon.pl",
                                            "amazon.com.be", "amazon.com.tr", "amazon.co.jp",
                                            "amazon.com.au", "amazon.sg",     "amazon.ae",
                                            "amazon.sa",     "amazon.in",     NULL};

static rp_status check_pattern(const char *pat, const char *domain, rp_error *err)
{
    char alias[300];
    snprintf(alias, sizeof alias, "q8t2v5m1xk@marketplace.%s", domain);
    if (rp_loop_glob_match(pat, alias))
        return rp_error_set(err, RP_ECONFIG,
                            "loop_protection.notification_senders: '%s' would also match "
                            "buyers' relay addresses (...@marketplace.%s): every buyer "
                            "would go unanswered",
                            pat, domain);
    return RP_OK;
}

static rp_status add_own(rp_loop *l, const char *addr, rp_error *err)
{
    char bare[ADDR_MAX];
    if (!addr || !rp_loop_bare_address(addr, bare, sizeof bare))
        return RP_OK;
    char *c = rp_strdup(bare);
    if (!c)
        return rp_error_set(err, RP_ENOMEM, "out of memory");
    l->own[l->nown++] = c;
    return RP_OK;
}

rp_status rp_loop_new(const rp_config *cfg, rp_loop **out, rp_error *err)
{
    *out = NULL;
    rp_loop *l = calloc(1, sizeof *l);
    if (!l)
        return rp_error_set(err, RP_ENOMEM, "out of memory");
    l->cfg = cfg;
    size_t n = cfg->nown_addresses + cfg->nmarketplaces;
    l->own = calloc(n ? n : 1, sizeof *l->own);
    if (!l->own) {
        rp_loop_free(l);
        return rp_error_set(err, RP_ENOMEM, "out of memory");
    }
    rp_status st = RP_OK;
    for (size_t i = 0; st == RP_OK && i < cfg->nown_addresses; i++)
        st = add_own(l, cfg->own_addresses[i], err);
    for (size_t i = 0; st == RP_OK && i < cfg->nmarketplaces; i++)
        st = add_own(l, cfg->marketplaces[i].sender, err);
    for (size_t i = 0; st == RP_OK && i < cfg->nnotification_senders; i++) {
        const char *pat = cfg->notification_senders[i];
        for (size_t d = 0; st == RP_OK && relay_domains[d]; d++)
            st = check_pattern(pat, relay_domains[d], err);
        for (size_t d = 0; st == RP_OK && d < cfg->nmarketplaces; d++)
            if (cfg->marketplaces[d].domain)
                st = check_pattern(pat, cfg->marketplaces[d].domain, err);
    }
    if (st != RP_OK) {
        rp_loop_free(l);
        return st;
    }
    *out = l;
    return RP_OK;
}

/* ---- header checks ------------------------------------------------------------------ */

static bool name_is(const rp_header *h, const char *name)
{
    return h->name && strcasecmp(h->name, name) == 0;
}

/* Return-Path: <> — RFC 3834 §2: no response may go to a null address;
 * RFC 5321 §4.5.5: bounces are sent with the null reverse path (and RFC 3834
 * asks automatic responders to do the same), which delivery writes as <>. */
static bool null_return_path(const rp_message *m, char *detail, size_t size)
{
    const char *v = rp_message_header(m, "Return-Path");
    if (!v)
        return false;
    for (const char *p = v; *p; p++)
        if (!is_space((unsigned char)*p) && *p != '<' && *p != '>')
            return false;
    say(detail, size, "Return-Path is empty (<>)");
    return true;
}

/* Auto-Submitted — RFC 3834 §5 (the field), §2 (no response to a message
 * whose value is other than "no"); RFC 5230 §4.6. Parameters after ';' and
 * comments are ignored; every occurrence counts. */
static bool auto_submitted(const rp_message *m, char *detail, size_t size)
{
    for (size_t i = 0; i < m->nheaders; i++) {
        if (!name_is(&m->headers[i], "Auto-Submitted"))
            continue;
        size_t n;
        const char *t = first_token(m->headers[i].value ? m->headers[i].value : "", &n);
        if (eq_ci(t, n, "no"))
            continue;
        char tok[48];
        safe_token(t, n, tok, sizeof tok);
        say(detail, size, "Auto-Submitted: %s", tok[0] ? tok : "(empty)");
        return true;
    }
    return false;
}

/* Mailing lists — RFC 2369 (List-Help, -Unsubscribe, -Subscribe, -Post,
 * -Owner, -Archive) and RFC 2919 (List-Id); RFC 5230 §4.6 names exactly these
 * seven. Mailing-List (ezmlm) and X-Mailing-List (SmartList, vger) are the
 * older forms ezmlm-weed(1) also treats as list mail. */
static const char *const list_headers[] = {
    "List-Id",    "List-Unsubscribe", "List-Post",    "List-Help",      "List-Subscribe",
    "List-Owner", "List-Archive",     "Mailing-List", "X-Mailing-List", NULL};

static bool list_header(const rp_message *m, char *detail, size_t size)
{
    for (int k = 0; list_headers[k]; k++)
        if (rp_message_header(m, list_headers[k])) {
            say(detail, size, "%s header: mailing list or newsletter", list_headers[k]);
            return true;
        }
    return false;
}

/* Precedence: bulk | junk | list — RFC 2076 (not standard, but what list
 * servers and vacation programs have set for decades; RFC 3834 §2 lets a
 * responder decline on it); auto_reply is what cPanel/BoxTrapper set, also
 * as X-Precedence. */
static bool precedence(const rp_message *m, char *detail, size_t size)
{
    static const char *const values[] = {"bulk", "junk", "list", "auto_reply", NULL};
    for (size_t i = 0; i < m->nheaders; i++) {
        const rp_header *h = &m->headers[i];
        if (!name_is(h, "Precedence") && !name_is(h, "X-Precedence"))
            continue;
        size_t n;
        const char *t = first_token(h->value ? h->value : "", &n);
        for (int k = 0; values[k]; k++)
            if (eq_ci(t, n, values[k])) {
                say(detail, size, "%s: %s",
                    name_is(h, "Precedence") ? "Precedence" : "X-Precedence", values[k]);
                return true;
            }
    }
    return false;
}

/* X-Auto-Response-Suppress — Microsoft's [MS-OXCMAIL] / [MS-OXOMSG]
 * (PidTagAutoResponseSuppress): the sender asks that no
 * out-of-office (OOF) or other automatic reply (AutoReply) be sent; All
 * includes both. Exchange and many bulk senders set it. Values are a list
 * separated by commas and/or spaces. DR, NDR, RN, NRN only concern delivery
 * and read receipts and do not count. */
static bool auto_response_suppress(const rp_message *m, char *detail, size_t size)
{
    static const char *const values[] = {"OOF", "AutoReply", "All", NULL};
    for (size_t i = 0; i < m->nheaders; i++) {
        const rp_header *h = &m->headers[i];
        if (!name_is(h, "X-Auto-Response-Suppress") || !h->value)
            continue;
        const char *p = h->value;
        while (*p) {
            while (*p == ',' || is_space((unsigned char)*p))
                p++;
            size_t n = 0;
            while (p[n] && p[n] != ',' && !is_space((unsigned char)p[n]))
                n++;
            for (int k = 0; n && values[k]; k++)
                if (eq_ci(p, n, values[k])) {
                    say(detail, size, "X-Auto-Response-Suppress: %s", values[k]);
                    return true;
                }
            p += n;
        }
    }
    return false;
}

/* Auto-responder markers of particular products. Where each comes from
 * (collected in the multi_mail wiki "Detecting autoresponders", ezmlm-weed(1)
 * and Request Tracker's CheckForAutoGenerated):
 *   X-Autoreply: yes           Gmail's vacation responder (with Auto-Submitted)
 *   X-Autorespond              cPanel / BoxTrapper
 *   X-Autoresponder            various responders; GLPI and Canvas check it
 *   X-AutoReply-From,
 *   X-Mail-Autoreply           Domain Technologie Control
 *   X-Autogenerated: Reply     CommuniGate Pro's automatic replies
 *   X-FC-MachineGenerated: true  FirstClass (Request Tracker checks it)
 *   X-POST-MessageClass: 9; Autoresponder  Mailtraq
 *   Delivered-To: Autoresponder  qmail's autoresponder
 *   X-Amazon-Auto-Reply        Amazon's own responders (ezmlm-weed(1))
 * A value of "no", "false" or "0" means the marker is not set. */
typedef struct marker {
    const char *name;
    const char *value; /* NULL: any value; else the first token must be it
                        * (case-insensitive) — or contain it when contains */
    bool contains;
} marker;

static const marker markers[] = {
    {"X-Autoreply", NULL, false},
    {"X-Autorespond", NULL, false},
    {"X-Autoresponder", NULL, false},
    {"X-AutoReply-From", NULL, false},
    {"X-Mail-Autoreply", NULL, false},
    {"X-Autogenerated", "reply", false},
    {"X-FC-MachineGenerated", "true", false},
    {"X-POST-MessageClass", "autoresponder", true},
    {"Delivered-To", "autoresponder", false},
    {"X-Amazon-Auto-Reply", NULL, false},
    {NULL, NULL, false},
};

static bool contains_ci(const char *hay, const char *needle)
{
    size_t n = strlen(needle);
    for (const char *p = hay; *p; p++)
        if (prefix_ci(p, needle, n))
            return true;
    return false;
}

static bool autoreply_header(const rp_message *m, char *detail, size_t size)
{
    for (size_t i = 0; i < m->nheaders; i++) {
        const rp_header *h = &m->headers[i];
        const char *v = h->value ? h->value : "";
        for (const marker *k = markers; k->name; k++) {
            if (!name_is(h, k->name))
                continue;
            size_t n;
            const char *t = first_token(v, &n);
            bool hit;
            if (!k->value)
                hit = !(eq_ci(t, n, "no") || eq_ci(t, n, "false") || eq_ci(t, n, "0"));
            else if (k->contains)
                hit = contains_ci(v, k->value);
            else
                hit = eq_ci(t, n, k->value);
            if (hit) {
                say(detail, size, "auto-responder header %s", k->name);
                return true;
            }
        }
    }
    return false;
}

/* Delivery and read reports: multipart/report (RFC 6522) carrying
 * message/delivery-status (RFC 3464) or message/disposition-notification
 * (RFC 8098), or one of those as the whole message. X-Failed-Recipients is
 * what Exim (and others after it) add to bounces. */
static bool delivery_report(const rp_message *m, char *detail, size_t size)
{
    static const char *const types[] = {"multipart/report", "message/delivery-status",
                                        "message/disposition-notification", NULL};
    const char *ct = rp_message_header(m, "Content-Type");
    if (ct) {
        size_t n;
        const char *t = first_token(ct, &n);
        for (int k = 0; types[k]; k++)
            if (eq_ci(t, n, types[k])) {
                say(detail, size, "Content-Type: %s (a delivery or read report)", types[k]);
                return true;
            }
    }
    if (rp_message_header(m, "X-Failed-Recipients")) {
        say(detail, size, "X-Failed-Recipients header (a bounce)");
        return true;
    }
    return false;
}

/* ---- sender checks ------------------------------------------------------------------ */

/* Local parts of mail systems, list servers and their robots: RFC 5230 §4.6
 * (MAILER-DAEMON, LISTSERV, majordomo), the BSD vacation(1) list (UUCP,
 * MAILER, MAILER-DAEMON, Postmaster), RFC 5321 §4.5.1 (postmaster), Request
 * Tracker (mailer-daemon, postmaster). Compared whole, without a +tag. */
static const char *const system_locals[] = {
    "mailer-daemon", "mailer_daemon", "mailerdaemon", "mail-daemon", "postmaster", "listserv",
    "majordomo",     "mailer",        "daemon",       "uucp",        NULL};

static const char *system_local(const char *addr)
{
    const char *lp;
    size_t n = local_part(addr, &lp);
    for (int k = 0; system_locals[k]; k++)
        if (eq_ci(lp, n, system_locals[k]))
            return system_locals[k];
    return NULL;
}

/* no-reply addresses: the word alone, or starting or ending the local part
 * next to a separator or a digit ("noreply-orders", "shop.noreply",
 * "noreply42"), so that a word merely ending in those letters does not. */
static const char *const noreply_words[] = {
    "no-reply",     "noreply",      "no_reply",  "no.reply",   "donotreply", "do-not-reply",
    "do_not_reply", "do.not.reply", "dontreply", "dont-reply", NULL};

static bool noreply_local(const char *addr)
{
    const char *lp;
    const char *at = strrchr(addr, '@');
    size_t n = at ? (size_t)(at - addr) : strlen(addr);
    lp = addr;
    for (int k = 0; noreply_words[k]; k++) {
        size_t w = strlen(noreply_words[k]);
        if (w > n)
            continue;
        if (prefix_ci(lp, noreply_words[k], w)) {
            if (w == n)
                return true;
            unsigned char c = (unsigned char)lp[w];
            if (is_sep(c) || (c >= '0' && c <= '9'))
                return true;
        }
        if (w < n && prefix_ci(lp + n - w, noreply_words[k], w) &&
            is_sep((unsigned char)lp[n - w - 1]))
            return true;
    }
    return false;
}

/* Mailing-list robots: "owner-*" and "*-request" (RFC 3834 §2, RFC 5230
 * §4.6); "*-bounces" is Mailman's return address for list mail. */
static const char *list_local(const char *addr)
{
    const char *lp;
    size_t n = local_part(addr, &lp);
    if (n > 6 && prefix_ci(lp, "owner-", 6))
        return "owner-";
    if (n > 8 && prefix_ci(lp + n - 8, "-request", 8))
        return "-request";
    if (n > 8 && prefix_ci(lp + n - 8, "-bounces", 8))
        return "-bounces";
    return NULL;
}

/* ---- the subject -------------------------------------------------------------------- */

/* Reply and forward prefixes in the six languages (and a few more that
 * mail programs write), followed by ':' or '：', an optional " [2]" count. */
static const char *const reply_prefixes[] = {"re",  "aw",  "antw", "r",    "rif",  "ri",  "rv",
                                             "réf", "ref", "sv",   "vs",   "fw",   "fwd", "wg",
                                             "tr",  "enc", "i",    "返信", "転送", NULL};

static const char *strip_reply_prefixes(const char *s)
{
    for (;;) {
        while (is_space((unsigned char)*s) || !strncmp(s, "\xe3\x80\x80", 3))
            s += is_space((unsigned char)*s) ? 1 : 3;
        const char *next = NULL;
        for (int k = 0; reply_prefixes[k] && !next; k++) {
            size_t n = strlen(reply_prefixes[k]);
            if (!prefix_ci(s, reply_prefixes[k], n))
                continue;
            const char *q = s + n;
            if (*q == '[' || *q == '(') {
                const char *d = q + 1;
                while (*d >= '0' && *d <= '9')
                    d++;
                if (d > q + 1 && (*d == ']' || *d == ')'))
                    q = d + 1;
            }
            while (*q == ' ')
                q++;
            if (*q == ':')
                next = q + 1;
            else if (!strncmp(q, "\xef\xbc\x9a", 3)) /* '：' */
                next = q + 3;
        }
        if (!next)
            return s;
        s = next;
    }
}

/* Subject openings of out-of-office and automatic replies, as Outlook,
 * Exchange, Lotus Notes, Gmail and common responders write them in English,
 * German, French, Italian, Spanish and Japanese. Conservative on purpose: a
 * buyer's own subject must never start like this. */
static const char *const auto_subjects[] = {
    /* en */
    "automatic reply", "automatic response", "auto-reply", "auto reply", "autoreply",
    "auto-response", "auto response", "autoresponse", "out of office", "out of the office",
    /* de */
    "abwesenheitsnotiz", "abwesenheitsmeldung", "automatische antwort",
    "automatische abwesenheitsnotiz",
    /* fr */
    "réponse automatique", "reponse automatique", "absence du bureau", "absent du bureau",
    "message d'absence", "message d’absence",
    /* it */
    "risposta automatica", "fuori sede", "fuori ufficio",
    /* es */
    "respuesta automática", "respuesta automatica", "fuera de la oficina", "fuera de oficina",
    /* ja */
    "自動返信", "自動応答", "不在通知", NULL};

/* After the phrase: the end, punctuation or a space — never more letters
 * ("不在通知が届きました" is a buyer writing about a missed delivery). */
static bool phrase_ends(const char *p)
{
    unsigned char c = (unsigned char)*p;
    if (!c)
        return true;
    if (c < 0x80)
        return !is_alnum(c);
    static const char *const ok[] = {"\xe3\x80\x80", /* ideographic space */
                                     "\xef\xbc\x9a", /* ： */
                                     "\xef\xbc\x88", /* （ */
                                     "\xe3\x80\x90", /* 【 */
                                     "\xe3\x80\x8c", /* 「 */
                                     "\xe3\x80\x81", /* 、 */
                                     "\xe3\x80\x82", /* 。 */
                                     "\xe2\x80\x93", /* – */
                                     "\xe2\x80\x94", /* — */
                                     NULL};
    for (int k = 0; ok[k]; k++)
        if (!strncmp(p, ok[k], 3))
            return true;
    return false;
}

static const char *auto_subject(const char *subject)
{
    if (!subject)
        return NULL;
    const char *s = strip_reply_prefixes(subject);
    for (int k = 0; auto_subjects[k]; k++) {
        size_t n = strlen(auto_subjects[k]);
        if (prefix_ci(s, auto_subjects[k], n) && phrase_ends(s + n))
            return auto_subjects[k];
    }
    return NULL;
}

/* ---- the check ------------------------------------------------------------------------ */

rp_loop_reason rp_loop_check(const rp_loop *l, const rp_message *m, char *detail, size_t size)
{
    if (detail && size)
        detail[0] = '\0';
    if (null_return_path(m, detail, size))
        return RP_LOOP_NULL_RETURN_PATH;
    if (auto_submitted(m, detail, size))
        return RP_LOOP_AUTO_SUBMITTED;
    if (list_header(m, detail, size))
        return RP_LOOP_LIST;
    if (precedence(m, detail, size))
        return RP_LOOP_PRECEDENCE;
    if (auto_response_suppress(m, detail, size))
        return RP_LOOP_AUTO_RESPONSE_SUPPRESS;
    if (autoreply_header(m, detail, size))
        return RP_LOOP_AUTOREPLY_HEADER;
    if (delivery_report(m, detail, size))
        return RP_LOOP_DELIVERY_REPORT;

    char from[ADDR_MAX], rpath[ADDR_MAX];
    bool has_from = rp_loop_bare_address(m->from, from, sizeof from) > 0;
    bool has_rpath =
        rp_loop_bare_address(rp_message_header(m, "Return-Path"), rpath, sizeof rpath) > 0;
    const char *what;
    if (has_from && (what = system_local(from))) {
        say(detail, size, "sender is a system address (%s)", what);
        return RP_LOOP_SYSTEM_SENDER;
    }
    if (has_rpath && (what = system_local(rpath))) {
        say(detail, size, "Return-Path is a system address (%s)", what);
        return RP_LOOP_SYSTEM_SENDER;
    }
    if (has_from && noreply_local(from)) {
        say(detail, size, "sender is a no-reply address");
        return RP_LOOP_NOREPLY_SENDER;
    }
    if (has_from && (what = list_local(from))) {
        say(detail, size, "sender is a mailing-list address (%s)", what);
        return RP_LOOP_LIST_SENDER;
    }
    if (has_rpath && (what = list_local(rpath))) {
        say(detail, size, "Return-Path is a mailing-list address (%s)", what);
        return RP_LOOP_LIST_SENDER;
    }
    if (has_from) {
        const rp_config *cfg = l->cfg;
        for (size_t i = 0; i < cfg->nnotification_senders; i++)
            if (rp_loop_glob_match(cfg->notification_senders[i], from)) {
                say(detail, size, "sender matches notification pattern %.100s",
                    cfg->notification_senders[i]);
                return RP_LOOP_NOTIFICATION_SENDER;
            }
        for (size_t i = 0; i < l->nown; i++)
            if (strcmp(l->own[i], from) == 0) {
                say(detail, size, "sender is one of the seller's own addresses");
                return RP_LOOP_OWN_ADDRESS;
            }
    }
    const char *phrase = auto_subject(m->subject);
    if (phrase) {
        say(detail, size, "subject starts like an automatic reply (\"%s\")", phrase);
        return RP_LOOP_AUTO_REPLY_SUBJECT;
    }
    return RP_LOOP_NONE;
}

/* ---- throttles ------------------------------------------------------------------------ */

rp_loop_reason rp_loop_throttle(const rp_loop *l, const rp_reply_history *h, const char *sender_key,
                                const char *template_id, int64_t now, char *detail, size_t size,
                                rp_status *st)
{
    *st = RP_OK;
    if (detail && size)
        detail[0] = '\0';
    const rp_config *cfg = l->cfg;
    if (!h || !sender_key || !*sender_key)
        return RP_LOOP_NONE;
    if (cfg->once_per_sender_days) {
        int64_t at = RP_TIME_UNKNOWN;
        if ((*st = h->last_auto(h->ctx, sender_key, template_id, &at)) != RP_OK) {
            say(detail, size, "the reply history cannot be read (%s)", rp_strerror(*st));
            return RP_LOOP_NONE;
        }
        int64_t period = (int64_t)cfg->once_per_sender_days * 86400;
        if (at != RP_TIME_UNKNOWN && now - at < period) {
            if (at > now)
                say(detail, size,
                    "an automatic reply with this template is already recorded for this "
                    "buyer (at a later time); at most one per %u day%s",
                    cfg->once_per_sender_days, cfg->once_per_sender_days == 1 ? "" : "s");
            else
                say(detail, size,
                    "an automatic reply with this template went to this buyer %lld h ago; "
                    "at most one per %u day%s",
                    (long long)((now - at) / 3600), cfg->once_per_sender_days,
                    cfg->once_per_sender_days == 1 ? "" : "s");
            return RP_LOOP_ONCE_PER_PERIOD;
        }
    }
    if (cfg->max_per_sender_per_hour) {
        unsigned n = 0;
        if ((*st = h->count_auto_since(h->ctx, sender_key, now - 3600, &n)) != RP_OK) {
            say(detail, size, "the reply history cannot be read (%s)", rp_strerror(*st));
            return RP_LOOP_NONE;
        }
        if (n >= cfg->max_per_sender_per_hour) {
            say(detail, size,
                "%u automatic replies went to this buyer in the last hour; at most %u", n,
                cfg->max_per_sender_per_hour);
            return RP_LOOP_HOURLY_CAP;
        }
    }
    return RP_LOOP_NONE;
}

/* ---- the history in memory ----------------------------------------------------------- */

typedef struct mh_entry {
    uint32_t tpl;
    int64_t at;
} mh_entry;

typedef struct mh_sender {
    mh_entry *e;
    size_t n, cap;
} mh_sender;

typedef struct mem_history {
    rp_reply_history iface; /* first: the pointer handed out */
    rp_map senders;         /* key -> index into s */
    mh_sender *s;
    size_t ns, cap;
    rp_map tpls; /* template id -> number */
    uint32_t ntpl;
} mem_history;

static const mh_sender *mh_find(const mem_history *mh, const char *key)
{
    uint32_t i;
    if (!rp_map_get(&mh->senders, key, strlen(key), &i))
        return NULL;
    return &mh->s[i];
}

static rp_status mh_last(void *ctx, const char *key, const char *tpl, int64_t *at)
{
    const mem_history *mh = ctx;
    *at = RP_TIME_UNKNOWN;
    const mh_sender *s = mh_find(mh, key);
    uint32_t t;
    if (!s || !rp_map_get(&mh->tpls, tpl, strlen(tpl), &t))
        return RP_OK;
    for (size_t i = 0; i < s->n; i++)
        if (s->e[i].tpl == t && (*at == RP_TIME_UNKNOWN || s->e[i].at > *at))
            *at = s->e[i].at;
    return RP_OK;
}

static rp_status mh_count(void *ctx, const char *key, int64_t since, unsigned *n)
{
    const mem_history *mh = ctx;
    *n = 0;
    const mh_sender *s = mh_find(mh, key);
    if (!s)
        return RP_OK;
    for (size_t i = 0; i < s->n; i++)
        if (s->e[i].at >= since)
            (*n)++;
    return RP_OK;
}

static rp_status mh_record(void *ctx, const char *key, const char *tpl, int64_t at)
{
    mem_history *mh = ctx;
    if (mh->ns == mh->cap) {
        size_t ncap = mh->cap ? mh->cap * 2 : 64;
        mh_sender *ns = realloc(mh->s, ncap * sizeof *ns);
        if (!ns)
            return RP_ENOMEM;
        mh->s = ns;
        mh->cap = ncap;
    }
    uint32_t si = (uint32_t)mh->ns, ti = mh->ntpl;
    bool inserted;
    rp_status st = rp_map_put(&mh->senders, key, strlen(key), &si, &inserted);
    if (st != RP_OK)
        return st;
    if (inserted)
        memset(&mh->s[mh->ns++], 0, sizeof *mh->s);
    if ((st = rp_map_put(&mh->tpls, tpl, strlen(tpl), &ti, &inserted)) != RP_OK)
        return st;
    if (inserted)
        mh->ntpl++;
    mh_sender *s = &mh->s[si];
    if (s->n == s->cap) {
        size_t ncap = s->cap ? s->cap * 2 : 4;
        mh_entry *ne = realloc(s->e, ncap * sizeof *ne);
        if (!ne)
            return RP_ENOMEM;
        s->e = ne;
        s->cap = ncap;
    }
    s->e[s->n].tpl = ti;
    s->e[s->n].at = at;
    s->n++;
    return RP_OK;
}

rp_reply_history *rp_loop_memory_history_new(void)
{
    mem_history *mh = calloc(1, sizeof *mh);
    if (!mh)
        return NULL;
    mh->iface.ctx = mh;
    mh->iface.last_auto = mh_last;
    mh->iface.count_auto_since = mh_count;
    mh->iface.record_auto = mh_record;
    return &mh->iface;
}

void rp_loop_memory_history_free(rp_reply_history *h)
{
    if (!h)
        return;
    mem_history *mh = h->ctx;
    for (size_t i = 0; i < mh->ns; i++)
        free(mh->s[i].e);
    free(mh->s);
    rp_map_free(&mh->senders);
    rp_map_free(&mh->tpls);
    free(mh);
}
