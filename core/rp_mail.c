#include "rp_mail.h"

#include <errno.h>
#include <fcntl.h>
#include <gmime/gmime.h>
#include <iconv.h>
#include <ctype.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "rp_buf.h"
#include "rp_extract.h"
#include "rp_html.h"
#include "rp_text.h"

void rp_mail_init(void)
{
    g_mime_init();
}

void rp_mail_shutdown(void)
{
    g_mime_shutdown();
}

/* ---- charsets ---- */

static rp_status iconv_all(const char *to_from, const char *in, size_t len, rp_buf *out,
                           bool *unknown)
{
    iconv_t cd = iconv_open("UTF-8", to_from);
    *unknown = false;
    if (cd == (iconv_t)-1) {
        *unknown = true;
        return RP_ECHARSET;
    }
    rp_buf_reset(out);
    rp_status st = rp_buf_reserve(out, len * 2 + 16);
    char *ip = (char *)in;
    size_t il = len;
    while (st == RP_OK) {
        char *op = out->data + out->len;
        size_t ol = out->cap - out->len - 1;
        size_t r = iconv(cd, il ? &ip : NULL, &il, &op, &ol);
        out->len = (size_t)(op - out->data);
        if (r != (size_t)-1) {
            if (il == 0) {
                /* flush shift state */
                op = out->data + out->len;
                ol = out->cap - out->len - 1;
                if (iconv(cd, NULL, NULL, &op, &ol) == (size_t)-1 && errno == E2BIG) {
                    st = rp_buf_reserve(out, 64);
                    continue;
                }
                out->len = (size_t)(op - out->data);
                break;
            }
            continue;
        }
        if (errno == E2BIG)
            st = rp_buf_reserve(out, il * 2 + 64);
        else
            st = RP_ECHARSET; /* EILSEQ or EINVAL: bytes not valid in this charset */
    }
    iconv_close(cd);
    if (st == RP_OK)
        out->data[out->len] = '\0';
    return st;
}

static bool is_ascii(const char *s, size_t len)
{
    for (size_t i = 0; i < len; i++)
        if ((unsigned char)s[i] >= 0x80)
            return false;
    return true;
}

rp_status rp_charset_to_utf8(const char *charset, const char *in, size_t len, char **out,
                             size_t *outlen, rp_error *err)
{
    const char *cands[4] = {NULL, NULL, NULL, NULL};
    const char *cs = charset && *charset ? charset : NULL;
    bool declared_utf8 = cs && (strcasecmp(cs, "utf-8") == 0 || strcasecmp(cs, "utf8") == 0);
    if (!cs || declared_utf8 || (is_ascii(in, len) && !memchr(in, 0x1b, len)) ||
        strcasecmp(cs, "us-ascii") == 0 || strcasecmp(cs, "ascii") == 0) {
        /* UTF-8 (or nothing declared): must be valid, except that 8-bit text
         * mislabelled as ASCII or unlabelled is read as Windows-1252 */
        size_t bad = rp_utf8_invalid_offset(in, len);
        if (bad == len) {
            *out = rp_strndup(in, len);
            *outlen = len;
            return *out ? RP_OK : rp_error_set(err, RP_ENOMEM, "out of memory");
        }
        if (declared_utf8)
            return rp_error_set(err, RP_EUTF8, "text declared UTF-8 is not valid UTF-8 (byte %zu)",
                                bad);
        if (memchr(in, 0x1b, len))
            cands[0] = "ISO-2022-JP-3";
        else
            cands[0] = "CP1252", cands[1] = "ISO-8859-1";
    } else if (strcasecmp(cs, "iso-2022-jp") == 0 || strcasecmp(cs, "csiso2022jp") == 0) {
        cands[0] = "ISO-2022-JP-3", cands[1] = "ISO-2022-JP-2", cands[2] = "CP50221";
    } else if (strcasecmp(cs, "shift_jis") == 0 || strcasecmp(cs, "shift-jis") == 0 ||
               strcasecmp(cs, "sjis") == 0 || strcasecmp(cs, "x-sjis") == 0 ||
               strcasecmp(cs, "windows-31j") == 0 || strcasecmp(cs, "cp932") == 0) {
        cands[0] = "CP932", cands[1] = "SHIFT_JISX0213";
    } else if (strcasecmp(cs, "euc-jp") == 0 || strcasecmp(cs, "x-euc-jp") == 0) {
        cands[0] = "EUC-JP-MS", cands[1] = "EUC-JP";
    } else if (strcasecmp(cs, "iso-8859-1") == 0 || strcasecmp(cs, "latin1") == 0 ||
               strcasecmp(cs, "iso_8859-1") == 0) {
        /* as browsers and mail clients do, ISO-8859-1 is read as its superset */
        cands[0] = "CP1252", cands[1] = "ISO-8859-1";
    } else {
        cands[0] = g_mime_charset_iconv_name(cs);
        cands[1] = cs;
    }
    rp_buf b = {0};
    bool any_known = false;
    for (int i = 0; i < 4 && cands[i]; i++) {
        bool unknown;
        rp_status st = iconv_all(cands[i], in, len, &b, &unknown);
        if (!unknown)
            any_known = true;
        if (st == RP_OK) {
            *outlen = b.len;
            *out = rp_buf_steal(&b);
            return *out ? RP_OK : rp_error_set(err, RP_ENOMEM, "out of memory");
        }
        if (st == RP_ENOMEM) {
            rp_buf_free(&b);
            return rp_error_set(err, RP_ENOMEM, "out of memory");
        }
    }
    rp_buf_free(&b);
    if (!any_known)
        return rp_error_set(err, RP_ECHARSET, "unknown charset \"%.60s\"", cs ? cs : "");
    return rp_error_set(err, RP_ECHARSET, "text is not valid in its charset \"%.60s\"",
                        cs ? cs : "(undeclared)");
}

/* ---- RFC 2047 ---- */

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Parse one encoded word at s; on success fill charset (<= 63 bytes), the
 * decoded bytes appended to out, and return its length; 0 if not one. */
static size_t encoded_word(const char *s, char charset[64], rp_buf *out, bool *oom)
{
    if (s[0] != '=' || s[1] != '?')
        return 0;
    const char *cs = s + 2;
    const char *q1 = strchr(cs, '?');
    if (!q1 || q1 == cs || (size_t)(q1 - cs) >= 64)
        return 0;
    char enc = q1[1];
    if (!(enc == 'Q' || enc == 'q' || enc == 'B' || enc == 'b') || q1[2] != '?')
        return 0;
    const char *text = q1 + 3;
    const char *end = strstr(text, "?=");
    if (!end)
        return 0;
    for (const char *p = text; p < end; p++)
        if (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n')
            return 0;
    size_t cl = (size_t)(q1 - cs);
    memcpy(charset, cs, cl);
    charset[cl] = '\0';
    char *star = strchr(charset, '*'); /* RFC 2231 language suffix */
    if (star)
        *star = '\0';
    if (enc == 'Q' || enc == 'q') {
        for (const char *p = text; p < end && !*oom; p++) {
            int h, l;
            if (*p == '_')
                *oom = rp_buf_append_char(out, ' ') != RP_OK;
            else if (*p == '=' && p + 2 < end && (h = hexval(p[1])) >= 0 &&
                     (l = hexval(p[2])) >= 0) {
                *oom = rp_buf_append_char(out, (char)(h * 16 + l)) != RP_OK;
                p += 2;
            } else
                *oom = rp_buf_append_char(out, *p) != RP_OK;
        }
    } else if (rp_buf_reserve(out, (size_t)(end - text)) != RP_OK) {
        *oom = true;
    } else {
        /* GMime's decoder, as for base64 bodies: lenient about junk */
        int state = 0;
        guint32 save = 0;
        out->len += g_mime_encoding_base64_decode_step((const unsigned char *)text,
                                                       (size_t)(end - text),
                                                       (unsigned char *)out->data + out->len,
                                                       &state, &save);
        out->data[out->len] = '\0';
    }
    return (size_t)(end + 2 - s);
}

/* Convert pending bytes in charset to UTF-8 and append; bad bytes → U+FFFD. */
static bool flush_word_bytes(rp_buf *dst, rp_buf *pending, const char *charset)
{
    if (pending->len == 0)
        return true;
    char *u = NULL;
    size_t ul;
    rp_error e;
    bool ok = true;
    if (rp_charset_to_utf8(charset, pending->data, pending->len, &u, &ul, &e) == RP_OK) {
        ok = rp_buf_append(dst, u, ul) == RP_OK;
    } else {
        const unsigned char *p = (const unsigned char *)pending->data;
        for (size_t i = 0; i < pending->len && ok;) {
            int32_t cp;
            size_t n = rp_utf8_next(p + i, pending->len - i, &cp);
            ok = (cp < 0 ? rp_buf_append(dst, "\xEF\xBF\xBD", 3) : rp_buf_append(dst, p + i, n)) ==
                 RP_OK;
            i += n;
        }
    }
    free(u);
    rp_buf_reset(pending);
    return ok;
}

char *rp_rfc2047_decode(const char *raw)
{
    rp_buf out = {0}, pending = {0}, plain = {0};
    char cur[64] = "", cs[64];
    bool oom = false;
    const char *p = raw;
    bool last_was_word = false;
    while (*p && !oom) {
        /* white space between two encoded words is dropped */
        if (last_was_word) {
            const char *q = p;
            while (*q == ' ' || *q == '\t' || *q == '\r' || *q == '\n')
                q++;
            if (q != p && q[0] == '=' && q[1] == '?') {
                rp_buf probe = {0};
                bool poom = false;
                size_t n = encoded_word(q, cs, &probe, &poom);
                rp_buf_free(&probe);
                if (n)
                    p = q;
            }
        }
        size_t before = pending.len;
        size_t n = encoded_word(p, cs, &pending, &oom);
        if (n) {
            if (strcasecmp(cs, cur) != 0 && before > 0) {
                /* a new charset: flush what came before in the old one */
                rp_buf tail = {0};
                oom = oom || rp_buf_append(&tail, pending.data + before, pending.len - before) != RP_OK;
                pending.len = before;
                oom = oom || !flush_word_bytes(&out, &pending, cur);
                oom = oom || rp_buf_append(&pending, tail.data ? tail.data : "", tail.len) != RP_OK;
                rp_buf_free(&tail);
            }
            memcpy(cur, cs, sizeof cur);
            p += n;
            last_was_word = true;
            continue;
        }
        oom = oom || !flush_word_bytes(&out, &pending, cur);
        last_was_word = false;
        /* plain run up to the next encoded word */
        rp_buf_reset(&plain);
        while (*p && !oom && !(p[0] == '=' && p[1] == '?')) {
            if (*p != '\r' && *p != '\n') /* unfold */
                oom = rp_buf_append_char(&plain, *p) != RP_OK;
            p++;
        }
        if (*p && plain.len == 0 && !oom) { /* "=?" that is not an encoded word */
            oom = rp_buf_append(&plain, p, 2) != RP_OK;
            p += 2;
        }
        if (plain.len && !oom) {
            const char *pcs = rp_utf8_valid(plain.data, plain.len) ? "utf-8" : "windows-1252";
            oom = rp_buf_append(&pending, plain.data, plain.len) != RP_OK ||
                  !flush_word_bytes(&out, &pending, pcs);
        }
    }
    if (!oom)
        oom = !flush_word_bytes(&out, &pending, cur);
    rp_buf_free(&pending);
    rp_buf_free(&plain);
    if (oom) {
        rp_buf_free(&out);
        return NULL;
    }
    return rp_buf_steal(&out);
}

/* ---- structure ---- */

/* Count header lines naming a Content-Type: an upper bound for the number of
 * MIME parts (and so for nesting), checked before GMime sees the message. */
static size_t count_content_types(const char *d, size_t len)
{
    size_t n = 0;
    static const char key[] = "content-type";
    const char *p = d, *end = d + len;
    while (p < end) {
        if ((size_t)(end - p) > sizeof key - 1 && (*p == 'c' || *p == 'C') &&
            strncasecmp(p, key, sizeof key - 1) == 0) {
            const char *q = p + sizeof key - 1;
            while (q < end && (*q == ' ' || *q == '\t'))
                q++;
            if (q < end && *q == ':')
                n++;
        }
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        if (!nl)
            break;
        p = nl + 1;
    }
    return n;
}

typedef struct walk {
    const rp_limits *lim;
    unsigned parts;
    GMimeObject *plain;
    GMimeObject *html;
    GMimeMessage *relayed; /* a forwarded message from a marketplace relay */
    unsigned relayed_depth;
    rp_status st;
    rp_error *err;
} walk;

static const char *marketplace_of(const char *addr);
static char *first_address(InternetAddressList *list);

static void visit(walk *w, GMimeObject *obj, unsigned depth)
{
    if (!obj || w->st != RP_OK)
        return;
    if (++w->parts > w->lim->max_mime_parts) {
        w->st = rp_error_set(w->err, RP_ELIMIT,
                             "message has more than %u MIME parts (limits.max_mime_parts)",
                             w->lim->max_mime_parts);
        return;
    }
    if (depth > w->lim->max_mime_depth) {
        w->st = rp_error_set(w->err, RP_ELIMIT,
                             "MIME parts nested deeper than %u (limits.max_mime_depth)",
                             w->lim->max_mime_depth);
        return;
    }
    if (GMIME_IS_MULTIPART(obj)) {
        GMimeMultipart *mp = GMIME_MULTIPART(obj);
        int n = g_mime_multipart_get_count(mp);
        for (int i = 0; i < n && w->st == RP_OK; i++)
            visit(w, g_mime_multipart_get_part(mp, i), depth + 1);
        return;
    }
    if (GMIME_IS_MESSAGE_PART(obj)) {
        GMimeMessage *inner = g_mime_message_part_get_message(GMIME_MESSAGE_PART(obj));
        if (!inner)
            return;
        if (!w->relayed) {
            char *from = first_address(g_mime_message_get_from(inner));
            if (marketplace_of(from)) {
                w->relayed = inner;
                w->relayed_depth = depth + 1;
            }
            free(from);
        }
        visit(w, g_mime_message_get_mime_part(inner), depth + 1);
        return;
    }
    if (!GMIME_IS_PART(obj))
        return;
    const char *disp = g_mime_object_get_disposition(obj);
    if (disp && strcasecmp(disp, "attachment") == 0)
        return;
    GMimeContentType *ct = g_mime_object_get_content_type(obj);
    if (!ct)
        return;
    if (!w->plain && g_mime_content_type_is_type(ct, "text", "plain"))
        w->plain = obj;
    else if (!w->html && g_mime_content_type_is_type(ct, "text", "html"))
        w->html = obj;
}

static rp_status part_text(GMimeObject *obj, char **out, rp_error *err)
{
    GMimeDataWrapper *dw = g_mime_part_get_content(GMIME_PART(obj));
    *out = NULL;
    if (!dw) {
        *out = rp_strdup("");
        return *out ? RP_OK : rp_error_set(err, RP_ENOMEM, "out of memory");
    }
    GMimeStream *ms = g_mime_stream_mem_new();
    if (!ms)
        return rp_error_set(err, RP_ENOMEM, "out of memory");
    if (g_mime_data_wrapper_write_to_stream(dw, ms) == -1) {
        g_object_unref(ms);
        return rp_error_set(err, RP_EPARSE, "cannot decode the text part");
    }
    GByteArray *ba = g_mime_stream_mem_get_byte_array(GMIME_STREAM_MEM(ms));
    GMimeContentType *ct = g_mime_object_get_content_type(obj);
    const char *cs = ct ? g_mime_content_type_get_parameter(ct, "charset") : NULL;
    size_t outlen;
    rp_status st = rp_charset_to_utf8(cs, (const char *)ba->data, ba->len, out, &outlen, err);
    g_object_unref(ms);
    if (st != RP_OK)
        return st;
    if (memchr(*out, '\0', outlen)) {
        free(*out);
        *out = NULL;
        return rp_error_set(err, RP_EPARSE, "text part contains NUL bytes");
    }
    return RP_OK;
}

/* "…@marketplace.amazon.co.uk" → "amazon.co.uk" */
static const char *marketplace_of(const char *addr)
{
    if (!addr)
        return NULL;
    const char *at = strrchr(addr, '@');
    if (!at)
        return NULL;
    const char *dom = at + 1;
    if (strncasecmp(dom, "marketplace.", 12) == 0 && dom[12])
        return dom + 12;
    return NULL;
}

static char *first_address(InternetAddressList *list)
{
    if (!list)
        return NULL;
    int n = internet_address_list_length(list);
    for (int i = 0; i < n; i++) {
        InternetAddress *ia = internet_address_list_get_address(list, i);
        if (INTERNET_ADDRESS_IS_MAILBOX(ia)) {
            const char *a = internet_address_mailbox_get_addr(INTERNET_ADDRESS_MAILBOX(ia));
            if (a && *a)
                return rp_strdup(a);
        }
    }
    return NULL;
}

/* A header's value as UTF-8: unfolded, outer white space trimmed, RFC 2047
 * words decoded when decode is set (the subject) and kept as written
 * otherwise (the fields replyd acts on are ASCII, and decoding costs a
 * charset conversion per word); raw 8-bit text is read as UTF-8, else as
 * Windows-1252. New string; NULL on ENOMEM. */
static char *header_value(const char *raw, bool decode)
{
    if (!raw)
        raw = "";
    char *v;
    size_t n = strlen(raw);
    bool plain = !(decode && strstr(raw, "=?"));
    for (size_t i = 0; plain && i < n; i += 8) {
        uint64_t x = 0;
        memcpy(&x, raw + i, n - i < 8 ? n - i : 8);
        if (x & 0x8080808080808080ull)
            plain = false;
    }
    if (plain) {
        /* unfold: copy the runs between line breaks, without CR or LF */
        v = malloc(n + 1);
        if (!v)
            return NULL;
        size_t w = 0;
        const char *p = raw, *end = raw + n;
        while (p < end) {
            const char *nl = memchr(p, '\n', (size_t)(end - p));
            const char *run_end = nl ? nl : end;
            size_t rl = (size_t)(run_end - p);
            if (!memchr(p, '\r', rl)) {
                memcpy(v + w, p, rl);
                w += rl;
            } else {
                for (const char *q = p; q < run_end; q++)
                    if (*q != '\r')
                        v[w++] = *q;
            }
            p = nl ? nl + 1 : end;
        }
        v[w] = '\0';
    } else if (decode) {
        v = rp_rfc2047_decode(raw);
        if (!v)
            return NULL;
    } else {
        /* 8-bit text: unfold, then read as UTF-8 or Windows-1252 */
        char *u = malloc(n + 1);
        if (!u)
            return NULL;
        size_t w = 0;
        for (size_t r = 0; r < n; r++)
            if (raw[r] != '\r' && raw[r] != '\n')
                u[w++] = raw[r];
        u[w] = '\0';
        if (rp_utf8_valid(u, w)) {
            v = u;
        } else {
            size_t vl;
            rp_error e;
            v = NULL;
            if (rp_charset_to_utf8("windows-1252", u, w, &v, &vl, &e) != RP_OK)
                v = rp_strdup("");
            free(u);
            if (!v)
                return NULL;
        }
    }
    size_t lead = strspn(v, " \t");
    size_t len = strlen(v + lead);
    memmove(v, v + lead, len + 1);
    while (len && (v[len - 1] == ' ' || v[len - 1] == '\t'))
        v[--len] = '\0';
    return v;
}

/* A header field as written: name and raw value (folding kept). */
typedef struct rawhdr {
    const char *name;
    size_t name_len;
    rp_buf value;
} rawhdr;

#define MAX_FAST_HEADERS 96

static bool header_block(const char *d, size_t len, rawhdr *h, size_t *nh, size_t *body);
static rp_status add_headers(rp_message *m, const rawhdr *h, size_t nh);

static rp_status fill_message(GMimeMessage *msg, rp_message *m, const rp_limits *lim,
                              rp_error *err)
{
    const char *mid = g_mime_message_get_message_id(msg);
    if (mid && *mid && rp_message_set(&m->id, mid) != RP_OK)
        return rp_error_set(err, RP_ENOMEM, "out of memory");
    GMimeHeaderList *hl = g_mime_object_get_header_list(GMIME_OBJECT(msg));
    GMimeHeader *sh = hl ? g_mime_header_list_get_header(hl, "Subject") : NULL;
    const char *raw_subject = sh ? g_mime_header_get_raw_value(sh) : NULL;
    if (raw_subject) {
        char *s = header_value(raw_subject, true);
        if (!s)
            return rp_error_set(err, RP_ENOMEM, "out of memory");
        free(m->subject);
        m->subject = s;
    }
    m->from = first_address(g_mime_message_get_from(msg));
    m->to = first_address(g_mime_message_get_to(msg));
    const char *mp = marketplace_of(m->from);
    if (!mp)
        mp = marketplace_of(m->to);
    if (mp && rp_message_set(&m->marketplace, mp) != RP_OK)
        return rp_error_set(err, RP_ENOMEM, "out of memory");
    GDateTime *dt = g_mime_message_get_date(msg);
    if (dt)
        m->received_at = g_date_time_to_unix(dt);
    /* the header list as written (GMime files Content-* fields under the
     * MIME part): from the raw header block, as the fast path reads it */
    rawhdr raw[MAX_FAST_HEADERS];
    size_t nraw = 0, body_at;
    bool plain_block = m->raw && header_block(m->raw, m->raw_len, raw, &nraw, &body_at);
    rp_status hst = plain_block ? add_headers(m, raw, nraw) : RP_OK;
    for (size_t i = 0; i < nraw; i++)
        rp_buf_free(&raw[i].value);
    if (hst != RP_OK)
        return rp_error_set(err, RP_ENOMEM, "out of memory");
    int nh = hl && !plain_block ? g_mime_header_list_get_count(hl) : 0;
    for (int i = 0; i < nh; i++) {
        GMimeHeader *h = g_mime_header_list_get_header_at(hl, i);
        const char *name = g_mime_header_get_name(h);
        /* GMime's decoded value costs a full decode per header; ours only
         * decodes what is encoded */
        char *v = header_value(g_mime_header_get_raw_value(h), false);
        rp_status hs = v ? rp_message_add_header(m, name ? name : "", v) : RP_ENOMEM;
        free(v);
        if (hs != RP_OK)
            return rp_error_set(err, RP_ENOMEM, "out of memory");
    }

    walk w = {lim, 0, NULL, NULL, NULL, 0, RP_OK, err};
    visit(&w, g_mime_message_get_mime_part(msg), 0);
    if (w.st != RP_OK)
        return w.st;
    if (w.relayed) {
        /* a buyer's message forwarded by the seller's staff: the buyer's words
         * are in the relayed message, not in the forwarding note */
        walk iw = {lim, 0, NULL, NULL, NULL, 0, RP_OK, err};
        visit(&iw, g_mime_message_get_mime_part(w.relayed), w.relayed_depth);
        if (iw.st != RP_OK)
            return iw.st;
        if (iw.plain || iw.html) {
            w.plain = iw.plain;
            w.html = iw.html;
        }
        if (!m->marketplace) {
            char *from = first_address(g_mime_message_get_from(w.relayed));
            const char *mp2 = marketplace_of(from);
            rp_status ms = mp2 ? rp_message_set(&m->marketplace, mp2) : RP_OK;
            free(from);
            if (ms != RP_OK)
                return rp_error_set(err, RP_ENOMEM, "out of memory");
        }
    }
    if (!w.plain && !w.html)
        return rp_error_set(err, RP_EEMPTY, "empty message: no text/plain or text/html part");
    char *text = NULL;
    rp_status st = RP_OK;
    if (w.plain) {
        st = part_text(w.plain, &text, err);
        /* an empty text/plain beside an HTML part: take the HTML */
        if (st == RP_OK && w.html && text[strspn(text, " \t\r\n")] == '\0') {
            free(text);
            text = NULL;
            w.plain = NULL;
        }
    }
    if (st == RP_OK && !w.plain) {
        char *html = NULL;
        st = part_text(w.html, &html, err);
        if (st == RP_OK) {
            text = rp_html_to_text(html, strlen(html));
            free(html);
            if (!text)
                st = rp_error_set(err, RP_ENOMEM, "out of memory");
        }
    }
    if (st != RP_OK) {
        free(text);
        return st;
    }
    rp_normalize_newlines(text, strlen(text));
    return rp_message_finish(m, text, err);
}


/* ---- the single-part fast path ----
 * GMime builds a full object model for every message (each header a GObject),
 * which costs several times more than everything else replyd does with a
 * message. Most relayed buyer mails are a single text part, so those are read
 * here directly: header block, Content-Type and transfer encoding, charset.
 * Anything else — multiparts, forwarded messages, attachments, RFC 2231
 * parameters, unusual encodings, malformed header blocks — goes to GMime.
 * tests/unit/test_mail_fixtures.c reads every fixture both ways and requires
 * the same result. */


enum { FAST_OK = 0, FAST_DECLINE = 1, FAST_FAIL = 2 };

static bool ieq(const char *a, size_t alen, const char *b)
{
    size_t bl = strlen(b);
    return alen == bl && strncasecmp(a, b, bl) == 0;
}

/* Content-Type: type/subtype and the charset parameter. Returns false when
 * the value is beyond the fast path (RFC 2231 parameters, odd syntax). */
static bool parse_content_type(const char *v, char *type, size_t tsz, char *charset, size_t csz,
                               char *boundary, size_t bsz)
{
    if (boundary)
        boundary[0] = '\0';
    const char *p = v;
    while (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n')
        p++;
    size_t n = 0;
    while (*p && *p != ';' && *p != ' ' && *p != '\t' && *p != '\r' && *p != '\n' &&
           *p != '(' && n + 1 < tsz)
        type[n++] = (char)tolower((unsigned char)*p++);
    type[n] = '\0';
    charset[0] = '\0';
    while (*p) {
        while (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n')
            p++;
        if (*p == '\0')
            break;
        if (*p != ';')
            return false;
        p++;
        while (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n')
            p++;
        if (*p == '\0')
            break;
        const char *name = p;
        while (*p && *p != '=' && *p != ';' && *p != ' ' && *p != '\t')
            p++;
        size_t nl = (size_t)(p - name);
        if (*p != '=' || memchr(name, '*', nl))
            return false;
        p++;
        char val[128];
        size_t vl = 0;
        if (*p == '"') {
            p++;
            while (*p && *p != '"') {
                if (*p == '\\' && p[1])
                    p++;
                if (vl + 1 < sizeof val)
                    val[vl++] = *p;
                p++;
            }
            if (*p != '"')
                return false;
            p++;
        } else {
            while (*p && *p != ';' && *p != ' ' && *p != '\t' && *p != '\r' && *p != '\n') {
                if (vl + 1 < sizeof val)
                    val[vl++] = *p;
                p++;
            }
        }
        val[vl] = '\0';
        if (ieq(name, nl, "charset")) {
            if (vl + 1 > csz)
                return false;
            memcpy(charset, val, vl + 1);
        } else if (boundary && ieq(name, nl, "boundary")) {
            if (vl == 0 || vl + 1 > bsz || vl + 1 >= sizeof val)
                return false;
            memcpy(boundary, val, vl + 1);
        }
    }
    return true;
}

/* Transfer decoding with GMime's own stateless decoders, so both paths
 * decode alike (lenient about junk, as mail readers must be). */
static rp_status decode_cte(int qp, const char *in, size_t len, rp_buf *out)
{
    rp_status st = rp_buf_reserve(out, len + 4);
    if (st != RP_OK)
        return st;
    int state = 0;
    guint32 save = 0;
    size_t n = qp ? g_mime_encoding_quoted_decode_step((const unsigned char *)in, len,
                                                       (unsigned char *)out->data, &state, &save)
                  : g_mime_encoding_base64_decode_step((const unsigned char *)in, len,
                                                       (unsigned char *)out->data, &state, &save);
    out->len = n;
    out->data[n] = '\0';
    return RP_OK;
}

/* The address of the first mailbox in an address header. */
static char *addr_of(const char *v)
{
    if (!v)
        return NULL;
    const char *lt = NULL, *gt = NULL;
    bool quoted = false;
    int comment = 0;
    for (const char *p = v; *p; p++) {
        if (*p == '\\' && p[1]) {
            p++;
            continue;
        }
        if (comment) {
            comment += *p == '(' ? 1 : *p == ')' ? -1 : 0;
            continue;
        }
        if (*p == '"')
            quoted = !quoted;
        else if (quoted)
            continue;
        else if (*p == '(')
            comment = 1;
        else if (*p == '<' && !lt)
            lt = p + 1;
        else if (*p == '>' && lt && !gt)
            gt = p;
        else if (*p == ',' && !lt)
            break;
    }
    if (lt && gt && gt > lt)
        return rp_strndup(lt, (size_t)(gt - lt));
    /* a bare address: the first word with an '@' */
    const char *p = v;
    while (*p) {
        while (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n' || *p == ',')
            p++;
        const char *w = p;
        while (*p && *p != ' ' && *p != '\t' && *p != '\r' && *p != '\n' && *p != ',' &&
               *p != '(')
            p++;
        if (memchr(w, '@', (size_t)(p - w)))
            return rp_strndup(w, (size_t)(p - w));
        if (*p == '(')
            break;
    }
    return NULL;
}

/* Split the header block into raw fields (folding kept). Returns false when
 * the block is not plain enough to read here (no blank line, a line that is
 * not a field, too many fields); *nh fields are filled either way and must be
 * freed. *body is the offset of the body. */
static bool header_block(const char *d, size_t len, rawhdr *h, size_t *nh, size_t *body)
{
    size_t pos = 0;
    *nh = 0;
    if (len >= 5 && memcmp(d, "From ", 5) == 0)
        return false; /* an mbox separator line: GMime knows */
    while (pos < len) {
        const char *line = d + pos;
        const char *nl = memchr(line, '\n', len - pos);
        size_t ll = nl ? (size_t)(nl - line) : len - pos;
        size_t next = pos + ll + (nl ? 1 : 0);
        size_t cl = ll && line[ll - 1] == '\r' ? ll - 1 : ll;
        if (cl == 0) {
            *body = next;
            return true;
        }
        if (line[0] == ' ' || line[0] == '\t') {
            if (*nh == 0)
                return false;
            if (rp_buf_append(&h[*nh - 1].value, "\n", 1) != RP_OK ||
                rp_buf_append(&h[*nh - 1].value, line, cl) != RP_OK)
                return false;
        } else {
            const char *colon = memchr(line, ':', cl);
            if (!colon || colon == line || *nh == MAX_FAST_HEADERS)
                return false;
            for (const char *q = line; q < colon; q++)
                if ((unsigned char)*q <= 32 || (unsigned char)*q >= 127)
                    return false;
            rawhdr *f = &h[(*nh)++];
            f->name = line;
            f->name_len = (size_t)(colon - line);
            memset(&f->value, 0, sizeof f->value);
            if (rp_buf_append(&f->value, colon + 1, (size_t)(line + cl - colon - 1)) != RP_OK)
                return false;
        }
        pos = next;
    }
    return false;
}

/* Copy raw fields into the message's header list, decoded. */
static rp_status add_headers(rp_message *m, const rawhdr *h, size_t nh)
{
    for (size_t i = 0; i < nh; i++) {
        char name[128];
        size_t n = h[i].name_len < sizeof name - 1 ? h[i].name_len : sizeof name - 1;
        memcpy(name, h[i].name, n);
        name[n] = '\0';
        char *v = header_value(h[i].value.data, false);
        rp_status hs = v ? rp_message_add_header(m, name, v) : RP_ENOMEM;
        free(v);
        if (hs != RP_OK)
            return hs;
    }
    return RP_OK;
}

enum { ENC_RAW, ENC_QP, ENC_B64 };

/* The transfer encoding named by a Content-Transfer-Encoding value, or -1
 * when it is beyond the fast path. */
static int parse_cte(const char *cte)
{
    if (!cte)
        return ENC_RAW;
    const char *p = cte + strspn(cte, " \t\r\n");
    size_t n = strcspn(p, " \t\r\n;(");
    if (p[n + strspn(p + n, " \t\r\n")] != '\0')
        return -1; /* anything after the token: GMime decides */
    if (ieq(p, n, "quoted-printable"))
        return ENC_QP;
    if (ieq(p, n, "base64"))
        return ENC_B64;
    if (ieq(p, n, "7bit") || ieq(p, n, "8bit") || ieq(p, n, "binary") || n == 0)
        return ENC_RAW;
    return -1;
}

/* One part of a simple multipart: its type, charset, encoding and body. */
typedef struct leaf {
    const char *body;
    size_t len;
    char type[64];
    char charset[64];
    int enc;
    bool attachment;
} leaf;

static bool parse_leaf(const char *p, size_t n, leaf *lf)
{
    rawhdr h[MAX_FAST_HEADERS];
    size_t nh = 0, body = 0;
    bool ok = header_block(p, n, h, &nh, &body);
    const char *ctype = NULL, *cte = NULL, *disp = NULL;
    for (size_t i = 0; ok && i < nh; i++) {
        const char *v = h[i].value.data ? h[i].value.data : "";
        const char **slot = ieq(h[i].name, h[i].name_len, "content-type") ? &ctype
                            : ieq(h[i].name, h[i].name_len, "content-transfer-encoding") ? &cte
                            : ieq(h[i].name, h[i].name_len, "content-disposition") ? &disp
                                                                                     : NULL;
        if (slot && *slot)
            ok = false; /* repeated: let GMime decide */
        else if (slot)
            *slot = v;
    }
    if (ok) {
        if (ctype)
            ok = parse_content_type(ctype, lf->type, sizeof lf->type, lf->charset,
                                    sizeof lf->charset, NULL, 0);
        else {
            strcpy(lf->type, "text/plain");
            lf->charset[0] = '\0';
        }
    }
    if (ok && (strncmp(lf->type, "multipart/", 10) == 0 || strncmp(lf->type, "message/", 8) == 0))
        ok = false; /* nested structure: GMime */
    if (ok && (lf->enc = parse_cte(cte)) < 0)
        ok = false;
    if (ok) {
        const char *dp = disp ? disp + strspn(disp, " \t\r\n") : "";
        lf->attachment = strncasecmp(dp, "attachment", 10) == 0;
        lf->body = p + body;
        lf->len = n - body;
    }
    for (size_t i = 0; i < nh; i++)
        rp_buf_free(&h[i].value);
    return ok;
}

#define MAX_FAST_PARTS 16

/* Split a multipart body on its boundary into leaf parts. Returns false when
 * the structure is beyond the fast path (no closing delimiter, nested or odd
 * parts, too many parts). */
static bool split_multipart(const char *b, size_t n, const char *boundary, leaf *parts,
                            size_t *count)
{
    size_t bl = strlen(boundary);
    const char *p = b, *end = b + n, *part = NULL;
    *count = 0;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *le = nl ? nl : end;
        const char *next = nl ? nl + 1 : end;
        size_t ll = (size_t)(le - p);
        if (ll >= 2 + bl && p[0] == '-' && p[1] == '-' && memcmp(p + 2, boundary, bl) == 0) {
            const char *r = p + 2 + bl;
            bool close = le - r >= 2 && r[0] == '-' && r[1] == '-';
            if (close)
                r += 2;
            while (r < le && (*r == ' ' || *r == '\t' || *r == '\r'))
                r++;
            if (r == le) {
                if (part) {
                    /* the line break before a delimiter belongs to it; line
                     * ends that differ from the delimiter's own are left to
                     * GMime, which reads them its own way */
                    const char *pe = p;
                    bool crlf_delim = le > p && le[-1] == '\r';
                    if (pe > part && pe[-1] == '\n')
                        pe--;
                    bool crlf_before = pe > part && pe[-1] == '\r';
                    if (crlf_before)
                        pe--;
                    if (crlf_before != crlf_delim)
                        return false;
                    if (*count == MAX_FAST_PARTS ||
                        !parse_leaf(part, (size_t)(pe - part), &parts[*count]))
                        return false;
                    (*count)++;
                }
                if (close)
                    return *count > 0;
                part = next;
            }
        }
        p = next;
    }
    return false; /* no closing delimiter: GMime copes */
}

static int fast_parse(rp_message *m, const char *d, size_t len, rp_status *st, rp_error *err)
{
    rawhdr h[MAX_FAST_HEADERS];
    size_t nh = 0, pos = 0;
    int rc = FAST_DECLINE;
    if (!header_block(d, len, h, &nh, &pos))
        goto out;
    const char *ctype = NULL, *cte = NULL, *subject = NULL, *from = NULL, *to = NULL,
               *mid = NULL, *date = NULL;
    for (size_t i = 0; i < nh; i++) {
        const char *v = h[i].value.data ? h[i].value.data : "";
        const char **slot = NULL;
        if (ieq(h[i].name, h[i].name_len, "content-type"))
            slot = &ctype;
        else if (ieq(h[i].name, h[i].name_len, "content-transfer-encoding"))
            slot = &cte;
        else if (ieq(h[i].name, h[i].name_len, "subject"))
            slot = &subject;
        else if (ieq(h[i].name, h[i].name_len, "from"))
            slot = &from;
        else if (ieq(h[i].name, h[i].name_len, "to"))
            slot = &to;
        else if (ieq(h[i].name, h[i].name_len, "message-id"))
            slot = &mid;
        else if (ieq(h[i].name, h[i].name_len, "date"))
            slot = &date;
        else if (ieq(h[i].name, h[i].name_len, "content-disposition")) {
            const char *p = v + strspn(v, " \t");
            if (strncasecmp(p, "attachment", 10) == 0)
                goto out;
        }
        if (slot) {
            if (*slot && slot != &to)
                goto out; /* repeated: let GMime decide */
            if (!*slot)
                *slot = v;
        }
    }
    char type[64], charset[64], boundary[128];
    const char *bp = d + pos;
    size_t bl = len - pos;
    leaf parts[MAX_FAST_PARTS];
    size_t nparts = 0;
    const leaf *html_part = NULL;
    if (ctype) {
        if (!parse_content_type(ctype, type, sizeof type, charset, sizeof charset, boundary,
                                sizeof boundary))
            goto out;
    } else {
        strcpy(type, "text/plain");
        charset[0] = '\0';
        boundary[0] = '\0';
    }
    int enc = parse_cte(cte);
    if (enc < 0)
        goto out;
    if ((strcmp(type, "multipart/alternative") == 0 || strcmp(type, "multipart/mixed") == 0) &&
        boundary[0] && enc == ENC_RAW) {
        /* a single level of parts: the text as GMime would pick it (first
         * text/plain that is no attachment, else the first such text/html) */
        if (!split_multipart(bp, bl, boundary, parts, &nparts))
            goto out;
        const leaf *plain = NULL;
        for (size_t i = 0; i < nparts; i++) {
            if (parts[i].attachment)
                continue;
            if (!plain && strcmp(parts[i].type, "text/plain") == 0)
                plain = &parts[i];
            else if (!html_part && strcmp(parts[i].type, "text/html") == 0)
                html_part = &parts[i];
        }
        const leaf *pick = plain ? plain : html_part;
        if (!pick)
            goto out;
        if (pick == html_part)
            html_part = NULL;
        bp = pick->body;
        bl = pick->len;
        memcpy(type, pick->type, sizeof type);
        memcpy(charset, pick->charset, sizeof charset);
        enc = pick->enc;
    } else if (strcmp(type, "text/plain") != 0 && strcmp(type, "text/html") != 0) {
        goto out;
    }

    /* from here on the message is ours */
    rc = FAST_FAIL;
    if (add_headers(m, h, nh) != RP_OK)
        goto oom;
    if (mid) {
        char *v = header_value(mid, false);
        if (!v)
            goto oom;
        char *a = v, *e = v + strlen(v);
        if (*a == '<')
            a++;
        char *gt = strchr(a, '>');
        if (gt)
            e = gt;
        if (e > a) {
            *e = '\0';
            if (rp_message_set(&m->id, a) != RP_OK) {
                free(v);
                goto oom;
            }
        }
        free(v);
    }
    if (subject && !(m->subject = header_value(subject, true)))
        goto oom;
    m->from = addr_of(from);
    m->to = addr_of(to);
    const char *mp = marketplace_of(m->from);
    if (!mp)
        mp = marketplace_of(m->to);
    if (mp && rp_message_set(&m->marketplace, mp) != RP_OK)
        goto oom;
    if (date) {
        GDateTime *dt = g_mime_utils_header_decode_date(date);
        if (dt) {
            m->received_at = g_date_time_to_unix(dt);
            g_date_time_unref(dt);
        }
    }
    rp_buf body = {0};
    rp_status ds = RP_OK;
decode:
    rp_buf_reset(&body);
    if (enc == ENC_QP || enc == ENC_B64)
        ds = decode_cte(enc == ENC_QP, bp, bl, &body);
    else
        ds = rp_buf_append(&body, bp, bl);
    if (ds != RP_OK) {
        rp_buf_free(&body);
        goto oom;
    }
    char *text = NULL;
    size_t tl;
    *st = rp_charset_to_utf8(charset[0] ? charset : NULL, body.data ? body.data : "", body.len,
                             &text, &tl, err);
    rp_buf_free(&body);
    if (*st == RP_OK && memchr(text, '\0', tl)) {
        free(text);
        text = NULL;
        *st = rp_error_set(err, RP_EPARSE, "text part contains NUL bytes");
    }
    /* an empty text/plain beside an HTML part: take the HTML, as the GMime
     * path does */
    if (*st == RP_OK && html_part && text[strspn(text, " \t\r\n")] == '\0') {
        free(text);
        text = NULL;
        bp = html_part->body;
        bl = html_part->len;
        memcpy(type, html_part->type, sizeof type);
        memcpy(charset, html_part->charset, sizeof charset);
        enc = html_part->enc;
        html_part = NULL;
        goto decode;
    }
    if (*st == RP_OK && strcmp(type, "text/html") == 0) {
        char *t2 = rp_html_to_text(text, tl);
        free(text);
        text = t2;
        if (!text)
            *st = rp_error_set(err, RP_ENOMEM, "out of memory");
    }
    if (*st == RP_OK) {
        rp_normalize_newlines(text, strlen(text));
        *st = rp_message_finish(m, text, err);
    }
    rc = FAST_OK;
    goto out;
oom:
    *st = rp_error_set(err, RP_ENOMEM, "out of memory");
    rc = FAST_FAIL;
out:
    for (size_t i = 0; i < nh; i++)
        rp_buf_free(&h[i].value);
    return rc;
}

/* Parse a message whose bytes the function takes over (they become m->raw). */
static rp_status mail_parse_take(char *data, size_t len, const char *source, const rp_limits *lim,
                                 rp_message **out, rp_error *err)
{
    rp_limits dl = rp_limits_default();
    if (!lim)
        lim = &dl;
    *out = NULL;
    rp_message *m = rp_message_new();
    if (!m || rp_message_set(&m->source, source) != RP_OK) {
        rp_message_free(m);
        free(data);
        return rp_error_set(err, RP_ENOMEM, "out of memory");
    }
    *out = m;
    m->raw = data;
    m->raw_len = len;
    rp_status st;
    if (len > lim->max_message_bytes) {
        st = rp_error_set(err, RP_ELIMIT,
                          "message is %zu bytes, over the limit of %zu (limits.max_message_bytes)",
                          len, lim->max_message_bytes);
        goto done;
    }
    if (len == 0) {
        st = rp_error_set(err, RP_EEMPTY, "empty message: the file is empty");
        goto done;
    }
    if (count_content_types(data, len) > lim->max_mime_parts) {
        st = rp_error_set(err, RP_ELIMIT,
                          "message has more than %u MIME parts (limits.max_mime_parts)",
                          lim->max_mime_parts);
        goto done;
    }
    if (lim->mail_fast_path) {
        int fr = fast_parse(m, data, len, &st, err);
        if (fr == FAST_OK || fr == FAST_FAIL)
            goto done;
    }
    /* GMime reads the raw bytes in place: the array borrows m->raw and gives
     * it back before it is freed (the stream does not own the array). */
    GByteArray *ba = g_byte_array_new_take((guint8 *)data, len);
    GMimeStream *stream = g_mime_stream_mem_new();
    GMimeParser *parser = NULL;
    GMimeParserOptions *opts = g_mime_parser_options_new();
    GMimeMessage *msg = NULL;
    /* replacing the array frees the stream's own (it owns it until then);
     * then the stream must not free ours */
    g_mime_stream_mem_set_byte_array(GMIME_STREAM_MEM(stream), ba);
    g_mime_stream_mem_set_owner(GMIME_STREAM_MEM(stream), FALSE);
    parser = g_mime_parser_new_with_stream(stream);
    if (parser && opts) {
        static const char *fallback[] = {"UTF-8", "windows-1252", NULL};
        g_mime_parser_set_persist_stream(parser, TRUE);
        g_mime_parser_options_set_fallback_charsets(opts, fallback);
        g_mime_parser_options_set_rfc2047_compliance_mode(opts, GMIME_RFC_COMPLIANCE_LOOSE);
        g_mime_parser_options_set_address_compliance_mode(opts, GMIME_RFC_COMPLIANCE_LOOSE);
        msg = g_mime_parser_construct_message(parser, opts);
    }
    if (!msg)
        st = rp_error_set(err, RP_EPARSE, "not a MIME message: no header block could be read");
    else
        st = fill_message(msg, m, lim, err);
    if (msg)
        g_object_unref(msg);
    if (opts)
        g_mime_parser_options_free(opts);
    if (parser)
        g_object_unref(parser);
    g_object_unref(stream);
    gsize blen;
    m->raw = (char *)g_byte_array_steal(ba, &blen);
    g_byte_array_unref(ba);
done:
    if (!m->id && rp_message_set(&m->id, source) != RP_OK)
        return rp_error_set(err, RP_ENOMEM, "out of memory");
    return st;
}

rp_status rp_mail_parse(const char *data, size_t len, const char *source, const rp_limits *lim,
                        rp_message **out, rp_error *err)
{
    *out = NULL;
    char *copy = malloc(len + 1);
    if (!copy)
        return rp_error_set(err, RP_ENOMEM, "out of memory");
    memcpy(copy, data, len);
    copy[len] = '\0';
    return mail_parse_take(copy, len, source, lim, out, err);
}

rp_status rp_mail_read_file(const char *path, const rp_limits *lim, rp_message **out,
                            rp_error *err)
{
    return rp_mail_read_fileat(AT_FDCWD, path, path, lim, out, err);
}

rp_status rp_mail_read_fileat(int dirfd, const char *name, const char *path, const rp_limits *lim,
                              rp_message **out, rp_error *err)
{
    rp_limits dl = rp_limits_default();
    if (!lim)
        lim = &dl;
    *out = NULL;
    int fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return rp_error_set(err, RP_EIO, "cannot open: %s", strerror(errno));
    struct stat sb;
    if (fstat(fd, &sb) != 0) {
        int e = errno;
        close(fd);
        return rp_error_set(err, RP_EIO, "cannot stat: %s", strerror(e));
    }
    if (!S_ISREG(sb.st_mode)) {
        close(fd);
        return rp_error_set(err, RP_EIO, "not a regular file");
    }
    if ((uint64_t)sb.st_size > lim->max_message_bytes) {
        close(fd);
        rp_message *m = rp_message_new();
        if (m && (rp_message_set(&m->source, path) || rp_message_set(&m->id, path))) {
            rp_message_free(m);
            m = NULL;
        }
        *out = m;
        return rp_error_set(err, RP_ELIMIT,
                            "message is %lld bytes, over the limit of %zu (limits.max_message_bytes)",
                            (long long)sb.st_size, lim->max_message_bytes);
    }
    size_t size = (size_t)sb.st_size;
    char *buf = malloc(size + 1);
    if (!buf) {
        close(fd);
        return rp_error_set(err, RP_ENOMEM, "out of memory");
    }
    size_t got = 0;
    while (got < size) {
        ssize_t r = read(fd, buf + got, size - got);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break;
        got += (size_t)r;
    }
    close(fd);
    if (got != size) {
        free(buf);
        return rp_error_set(err, RP_EIO, "short read");
    }
    buf[size] = '\0';
    return mail_parse_take(buf, size, path, lim, out, err);
}
