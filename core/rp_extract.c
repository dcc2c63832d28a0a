#include "rp_extract.h"

#include <ctype.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "rp_buf.h"
#include "rp_text.h"

size_t rp_normalize_newlines(char *s, size_t len)
{
    char *cr = memchr(s, '\r', len);
    if (!cr)
        return len;
    size_t w = (size_t)(cr - s);
    for (size_t r = w; r < len; r++) {
        if (s[r] == '\r') {
            s[w++] = '\n';
            if (r + 1 < len && s[r + 1] == '\n')
                r++;
        } else {
            s[w++] = s[r];
        }
    }
    if (w < len)
        s[w] = '\0';
    return w;
}

bool rp_find_order_id(const char *t, size_t len, char out[20])
{
    static const int shape[] = {3, 7, 7};
    for (size_t i = 0; i + 19 <= len; i++) {
        if (i > 0 && isdigit((unsigned char)t[i - 1]))
            continue;
        size_t p = i;
        bool ok = true;
        for (int g = 0; g < 3 && ok; g++) {
            for (int k = 0; k < shape[g]; k++, p++)
                if (!isdigit((unsigned char)t[p])) {
                    ok = false;
                    break;
                }
            if (ok && g < 2) {
                if (t[p] != '-')
                    ok = false;
                p++;
            }
        }
        if (ok && (p == len || !isdigit((unsigned char)t[p]))) {
            memcpy(out, t + i, 19);
            out[19] = '\0';
            return true;
        }
    }
    return false;
}

typedef struct line {
    const char *s;
    size_t len;
} line;

static line trim(line l)
{
    while (l.len && (isspace((unsigned char)l.s[0])))
        l.s++, l.len--;
    while (l.len && isspace((unsigned char)l.s[l.len - 1]))
        l.len--;
    return l;
}

/* Does the line contain needle (ASCII case-insensitive for ASCII bytes)? */
static bool contains(line l, const char *needle)
{
    size_t n = strlen(needle);
    if (n == 0 || n > l.len)
        return false;
    unsigned char f = (unsigned char)tolower((unsigned char)needle[0]);
    for (size_t i = 0; i + n <= l.len; i++)
        if ((unsigned char)tolower((unsigned char)l.s[i]) == f &&
            strncasecmp(l.s + i, needle, n) == 0)
            return true;
    return false;
}

static bool starts_with(line l, const char *prefix)
{
    if (!l.len || tolower((unsigned char)l.s[0]) != tolower((unsigned char)prefix[0]))
        return false;
    size_t n = strlen(prefix);
    return l.len >= n && strncasecmp(l.s, prefix, n) == 0;
}

/* "------ Begin message ------": a run of dashes (or similar), some text, a run of dashes. */
static bool framed_marker(line l)
{
    l = trim(l);
    if (l.len < 8)
        return false;
    size_t a = 0, b = 0;
    while (a < l.len && (l.s[a] == '-' || l.s[a] == '=' || l.s[a] == '_'))
        a++;
    while (b < l.len - a && (l.s[l.len - 1 - b] == '-' || l.s[l.len - 1 - b] == '=' ||
                             l.s[l.len - 1 - b] == '_'))
        b++;
    return a >= 3 && b >= 3 && a + b < l.len;
}

/* Lines that start quoted history in the six languages' common mail programs. */
static const char *const attribution_words[] = {
    "wrote", "schrieb", "a écrit", "a ecrit", "ha scritto", "escribió", "escribio",
    "書きました", "のメッセージ", NULL};

static const char *const original_headers[] = {
    "From:", "Von:", "De :", "De:", "Da:", "差出人:", "送信者:", "Gesendet:", NULL};
static const char *const sent_headers[] = {
    "Sent:", "Gesendet:", "Envoyé :", "Envoyé:", "Date :", "Inviato:", "Data:", "Enviado:",
    "Fecha:", "送信日時:", "Date:", "Datum:", NULL};

static const char *const signature_starts[] = {
    "Sent from my", "Get Outlook for", "Von meinem", "Gesendet von meinem", "Envoyé de mon",
    "Envoyé depuis", "Inviato da", "Inviato dal mio", "Enviado desde mi", "Enviado desde",
    "iPhoneから送信", "Androidから送信", "Sent from Yahoo", "Sent from Mail for", NULL};

static bool ends_with_colon(line t)
{
    return (t.len && t.s[t.len - 1] == ':') ||
           (t.len >= 3 && memcmp(t.s + t.len - 3, "\xef\xbc\x9a", 3) == 0);
}

static bool has_attribution_word(line t)
{
    for (int i = 0; attribution_words[i]; i++)
        if (contains(t, attribution_words[i]))
            return true;
    return false;
}

static bool is_attribution(line l, line next)
{
    line t = trim(l);
    if (t.len == 0)
        return false;
    if (ends_with_colon(t) &&
        (has_attribution_word(t) || (memchr(t.s, '@', t.len) && memchr(t.s, '<', t.len))))
        return true;
    /* attribution wrapped over two lines: "On Mon, … Seller <" / "x@y> wrote:" */
    line n = trim(next);
    if (n.len && ends_with_colon(n) && has_attribution_word(n) && !ends_with_colon(t) &&
        (starts_with(t, "On ") || starts_with(t, "Am ") || starts_with(t, "Le ") ||
         starts_with(t, "Il ") || starts_with(t, "El ") || memchr(t.s, '@', t.len)))
        return true;
    return false;
}

static bool in_list(line l, const char *const *list)
{
    for (int i = 0; list[i]; i++)
        if (starts_with(l, list[i]))
            return true;
    return false;
}

/* First bytes (case-folded) that can begin an entry of the phrase lists:
 * lines starting otherwise skip the lists. Built per call from the lists
 * themselves (a few dozen entries), so it cannot fall out of step. */
typedef struct first_bytes {
    uint64_t bits[4];
} first_bytes;

static void add_firsts(first_bytes *f, const char *const *list)
{
    for (int i = 0; list[i]; i++) {
        unsigned char c = (unsigned char)tolower((unsigned char)list[i][0]);
        f->bits[c >> 6] |= (uint64_t)1 << (c & 63);
    }
}

static bool may_start(const first_bytes *f, line t)
{
    if (!t.len)
        return false;
    unsigned char c = (unsigned char)tolower((unsigned char)t.s[0]);
    return f->bits[c >> 6] >> (c & 63) & 1;
}

/* Line iteration without an index: memory stays flat however many lines. */
typedef struct lines {
    const char *text, *end;
    const char *p; /* start of the next line */
} lines;

static bool next_line(lines *it, line *out)
{
    if (it->p >= it->end)
        return false;
    const char *nl = memchr(it->p, '\n', (size_t)(it->end - it->p));
    const char *le = nl ? nl : it->end;
    size_t ll = (size_t)(le - it->p);
    if (ll && it->p[ll - 1] == '\r')
        ll--;
    *out = (line){it->p, ll};
    it->p = nl ? nl + 1 : it->end;
    return true;
}

char *rp_extract_buyer_text(const char *text, size_t len)
{
    const char *end = text + len;
    /* 1. the relay frame: text between the first two marker lines */
    const char *from = text, *to = end;
    lines it = {text, end, text};
    line l;
    bool open = false;
    while (next_line(&it, &l)) {
        if (!framed_marker(l))
            continue;
        if (!open) {
            open = true;
            from = it.p;
        } else {
            to = l.s;
            break;
        }
    }
    if (open && to == end) /* a single marker line frames nothing */
        from = text;

    /* 2. quoted history and signatures end the buyer's text */
    first_bytes firsts = {{0, 0, 0, 0}};
    add_firsts(&firsts, signature_starts);
    add_firsts(&firsts, original_headers);
    const char *stop = to;
    it = (lines){from, to, from};
    bool first = true;
    while (next_line(&it, &l)) {
        line t = trim(l);
        lines peek = it;
        line next = {"", 0};
        if (!next_line(&peek, &next))
            next = (line){"", 0};
        if ((l.len == 3 && memcmp(l.s, "-- ", 3) == 0) ||
            (l.len == 2 && memcmp(l.s, "--", 2) == 0) || (t.len && !first && framed_marker(t)) ||
            (may_start(&firsts, t) && in_list(t, signature_starts)) || is_attribution(l, next)) {
            stop = l.s;
            break;
        }
        /* an Outlook-style header block: From: … followed by Sent:/Date: */
        if (may_start(&firsts, t) && in_list(t, original_headers)) {
            lines ahead = it;
            line a;
            bool block = false;
            for (int k = 0; k < 4 && next_line(&ahead, &a); k++)
                if (in_list(trim(a), sent_headers))
                    block = true;
            if (block) {
                stop = l.s;
                break;
            }
        }
        first = false;
    }

    /* 3. copy, dropping quoted lines and collapsing blank runs */
    rp_buf out = {0};
    bool ok = rp_buf_reserve(&out, (size_t)(stop - from)) == RP_OK;
    int blank = 0;
    it = (lines){from, stop, from};
    while (ok && next_line(&it, &l)) {
        line t = trim(l);
        if (t.len && t.s[0] == '>')
            continue;
        if (t.len == 0) {
            blank++;
            continue;
        }
        if (out.len)
            ok = rp_buf_append_str(&out, blank ? "\n\n" : "\n") == RP_OK;
        blank = 0;
        /* keep the line as written, without trailing spaces */
        while (l.len && isspace((unsigned char)l.s[l.len - 1]))
            l.len--;
        if (ok)
            ok = rp_buf_append(&out, l.s, l.len) == RP_OK;
    }
    if (!ok) {
        rp_buf_free(&out);
        return NULL;
    }
    return rp_buf_steal(&out);
}

rp_status rp_message_finish(rp_message *m, char *text, rp_error *err)
{
    const char *t = text ? text : "";
    size_t len = strlen(t);
    char *b = rp_extract_buyer_text(t, len);
    if (!b) {
        free(text);
        return rp_error_set(err, RP_ENOMEM, "out of memory");
    }
    free(m->body);
    m->body = b;
    if (!m->order_id) {
        char oid[20];
        if ((m->subject && rp_find_order_id(m->subject, strlen(m->subject), oid)) ||
            rp_find_order_id(t, len, oid)) {
            if (rp_message_set(&m->order_id, oid) != RP_OK) {
                free(text);
                return rp_error_set(err, RP_ENOMEM, "out of memory");
            }
        }
    }
    free(text);
    bool words = false;
    for (const unsigned char *p = (const unsigned char *)b; *p && !words; p++)
        if (*p >= 0x80 || isalnum(*p))
            words = true;
    if (!words)
        return rp_error_set(err, RP_EEMPTY, "empty message: no text from the buyer");
    return RP_OK;
}
