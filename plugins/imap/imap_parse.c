/* imap_parse.c — pure parsers for IMAP server responses and the UID-set
 * formatter used by the imap source plugin (see imap_parse.h).
 *
 * Nothing here allocates, logs or keeps state; every read is bounded by the
 * length given. Malformed input makes a function return -1 (or a short
 * count), never read past the end. tests/fuzz/fuzz_imap.c runs all of it on
 * arbitrary bytes.
 */
#include "imap_parse.h"

#include <stdio.h>
#include <string.h>

#define RP_IMAP_MAX_DEPTH 32 /* nesting of parenthesised lists in FETCH */

static int rp_imap_lower(int c)
{
    return c >= 'A' && c <= 'Z' ? c + 32 : c;
}

static int rp_imap_digit(int c)
{
    return c >= '0' && c <= '9';
}

/* case-insensitive: does [p, p+n) start with word, followed by end, SP or
 * one of the stop characters? */
static int rp_imap_word_at(const char *p, size_t n, const char *word, const char *stops)
{
    size_t w = strlen(word);
    if (n < w)
        return 0;
    for (size_t i = 0; i < w; i++)
        if (rp_imap_lower((unsigned char)p[i]) != rp_imap_lower((unsigned char)word[i]))
            return 0;
    if (n == w)
        return 1;
    char c = p[w];
    return c == ' ' || c == '\r' || c == '\n' || (stops && c && strchr(stops, c));
}

/* Reads decimal digits at *pos into a 64-bit value, at most max. Returns 0
 * and advances *pos, or -1 (no digits, overflow, too large). */
static int rp_imap_number(const char *r, size_t n, size_t *pos, uint64_t max, uint64_t *out)
{
    size_t i = *pos;
    uint64_t v = 0;
    if (i >= n || !rp_imap_digit((unsigned char)r[i]))
        return -1;
    while (i < n && rp_imap_digit((unsigned char)r[i])) {
        unsigned d = (unsigned)(r[i] - '0');
        if (v > (max - d) / 10)
            return -1;
        v = v * 10 + d;
        i++;
    }
    *pos = i;
    *out = v;
    return 0;
}

/* Length of the first line without its CR LF. */
static size_t rp_imap_first_line(const char *r, size_t n)
{
    const char *nl = memchr(r, '\n', n);
    size_t e = nl ? (size_t)(nl - r) : n;
    if (e && r[e - 1] == '\r')
        e--;
    return e;
}

/* If the line [0, e) ends in "{N}" or "{N+}", stores N and returns 1; 0
 * when it ends in no literal announcement; -1 when it ends in a '}' that
 * does not announce a readable literal. */
static int rp_imap_literal_at_end(const char *line, size_t e, uint64_t max, uint64_t *out)
{
    if (e == 0 || line[e - 1] != '}')
        return 0;
    size_t i = e - 1; /* at '}' */
    if (i && line[i - 1] == '+')
        i--;
    size_t end_digits = i;
    while (i && rp_imap_digit((unsigned char)line[i - 1]) && end_digits - i < 20)
        i--;
    if (i == end_digits || i == 0 || line[i - 1] != '{')
        return 0; /* "}" that is not "{digits}" is not a literal */
    size_t pos = i;
    uint64_t v;
    if (rp_imap_number(line, end_digits, &pos, max, &v) != 0 || pos != end_digits)
        return -1;
    *out = v;
    return 1;
}

int rp_imap_response_len(const char *buf, size_t len, size_t max_line, size_t max_literal,
                         size_t *out_len)
{
    size_t pos = 0;
    if (!buf || !out_len)
        return RP_IMAP_MALFORMED;
    for (;;) {
        size_t avail = len - pos;
        size_t look = avail < max_line + 2 ? avail : max_line + 2;
        const char *nl = memchr(buf + pos, '\n', look);
        if (!nl)
            return avail > max_line + 1 ? RP_IMAP_MALFORMED : RP_IMAP_INCOMPLETE;
        size_t line_end = (size_t)(nl - buf); /* index of LF */
        size_t e = line_end;
        if (e > pos && buf[e - 1] == '\r')
            e--;
        uint64_t lit = 0;
        int has = rp_imap_literal_at_end(buf + pos, e - pos, (uint64_t)max_literal, &lit);
        if (has < 0)
            return RP_IMAP_MALFORMED;
        if (!has) {
            *out_len = line_end + 1;
            return RP_IMAP_COMPLETE;
        }
        size_t after = line_end + 1;
        if (len - after < lit)
            return RP_IMAP_INCOMPLETE;
        pos = after + (size_t)lit;
    }
}

static const struct {
    const char *word;
    int status;
} rp_imap_status_words[] = {
    {"OK", RP_IMAP_ST_OK},   {"NO", RP_IMAP_ST_NO},           {"BAD", RP_IMAP_ST_BAD},
    {"BYE", RP_IMAP_ST_BYE}, {"PREAUTH", RP_IMAP_ST_PREAUTH},
};

int rp_imap_parse_status(const char *r, size_t n, rp_imap_status *st)
{
    if (!r || !st)
        return -1;
    memset(st, 0, sizeof *st);
    size_t e = rp_imap_first_line(r, n);
    size_t i = 0;
    if (e == 0)
        return -1;
    if (r[0] == '+') {
        st->kind = RP_IMAP_CONTINUATION;
        i = 1;
        if (i < e && r[i] == ' ')
            i++;
        st->text.p = r + i;
        st->text.n = e - i;
        return 0;
    }
    if (r[0] == '*') {
        if (e < 2 || r[1] != ' ')
            return -1;
        st->kind = RP_IMAP_UNTAGGED;
        i = 2;
    } else {
        while (i < e && r[i] != ' ') {
            unsigned char c = (unsigned char)r[i];
            if (c < 0x21 || c > 0x7e || c == '(' || c == ')' || c == '{' || c == '%' ||
                c == '"' || c == '\\')
                return -1;
            i++;
        }
        if (i == 0 || i >= e)
            return -1;
        st->kind = RP_IMAP_TAGGED;
        st->tag.p = r;
        st->tag.n = i;
        i++;
    }
    for (size_t k = 0; k < sizeof rp_imap_status_words / sizeof rp_imap_status_words[0]; k++) {
        if (rp_imap_word_at(r + i, e - i, rp_imap_status_words[k].word, NULL)) {
            st->status = rp_imap_status_words[k].status;
            i += strlen(rp_imap_status_words[k].word);
            break;
        }
    }
    if (st->status == RP_IMAP_ST_NONE) {
        if (st->kind == RP_IMAP_TAGGED)
            return -1; /* a tagged response always has a status */
        st->text.p = r + i;
        st->text.n = e - i;
        return 0;
    }
    if (i < e && r[i] == ' ')
        i++;
    if (i < e && r[i] == '[') {
        const char *close = memchr(r + i + 1, ']', e - i - 1);
        if (close) {
            st->code.p = r + i + 1;
            st->code.n = (size_t)(close - (r + i + 1));
            i = (size_t)(close - r) + 1;
            if (i < e && r[i] == ' ')
                i++;
        }
    }
    st->text.p = r + i;
    st->text.n = e - i;
    return 0;
}

int rp_imap_code_number(rp_imap_span code, const char *name, uint32_t *out)
{
    if (!code.p || !name || !out || !rp_imap_word_at(code.p, code.n, name, NULL))
        return -1;
    size_t pos = strlen(name);
    if (pos >= code.n || code.p[pos] != ' ')
        return -1;
    pos++;
    uint64_t v;
    if (rp_imap_number(code.p, code.n, &pos, UINT32_MAX, &v) != 0)
        return -1;
    if (pos < code.n && code.p[pos] != ' ')
        return -1;
    *out = (uint32_t)v;
    return 0;
}

int rp_imap_code_is(rp_imap_span code, const char *name)
{
    if (!code.p || !name)
        return 0;
    return rp_imap_word_at(code.p, code.n, name, NULL);
}

int rp_imap_has_capability(const char *r, size_t n, const char *cap)
{
    if (!r || !cap)
        return -1;
    size_t e = rp_imap_first_line(r, n);
    size_t i = 0;
    if (e >= 2 && r[0] == '*' && r[1] == ' ')
        i = 2;
    if (!rp_imap_word_at(r + i, e - i, "CAPABILITY", "]"))
        return -1;
    i += strlen("CAPABILITY");
    size_t cl = strlen(cap);
    while (i < e && r[i] != ']') {
        while (i < e && r[i] == ' ')
            i++;
        size_t s = i;
        while (i < e && r[i] != ' ' && r[i] != ']')
            i++;
        if (i - s == cl) {
            size_t k = 0;
            while (k < cl && rp_imap_lower((unsigned char)r[s + k]) ==
                                 rp_imap_lower((unsigned char)cap[k]))
                k++;
            if (k == cl)
                return 1;
        }
    }
    return 0;
}

int rp_imap_parse_search(const char *r, size_t n, int (*fn)(void *ctx, uint32_t num), void *ctx)
{
    if (!r)
        return -1;
    size_t e = rp_imap_first_line(r, n);
    if (e < 2 || r[0] != '*' || r[1] != ' ' || !rp_imap_word_at(r + 2, e - 2, "SEARCH", NULL))
        return -1;
    size_t i = 2 + strlen("SEARCH");
    int count = 0;
    int stopped = 0;
    while (i < e) {
        if (r[i] != ' ')
            return -1;
        while (i < e && r[i] == ' ')
            i++;
        if (i >= e)
            break;
        uint64_t v;
        if (rp_imap_number(r, e, &i, UINT32_MAX, &v) != 0)
            return -1;
        if (i < e && r[i] != ' ')
            return -1;
        if (count < INT32_MAX)
            count++;
        if (!stopped && fn && fn(ctx, (uint32_t)v) != 0)
            stopped = 1;
    }
    return count;
}

int rp_imap_parse_numbered(const char *r, size_t n, const char *name, uint32_t *out)
{
    if (!r || !out || !name)
        return -1;
    size_t e = rp_imap_first_line(r, n);
    if (e < 2 || r[0] != '*' || r[1] != ' ')
        return -1;
    size_t i = 2;
    uint64_t v;
    if (rp_imap_number(r, e, &i, UINT32_MAX, &v) != 0 || i >= e || r[i] != ' ')
        return -1;
    i++;
    if (!rp_imap_word_at(r + i, e - i, name, NULL) || e - i != strlen(name))
        return -1;
    *out = (uint32_t)v;
    return 0;
}

/* ---- FETCH ---- */

/* Reads a string (quoted, literal) or NIL at *pos. *is_nil is set for NIL.
 * Returns 0 or -1. */
static int rp_imap_string(const char *r, size_t n, size_t *pos, rp_imap_span *out, int *quoted,
                          int *is_nil)
{
    size_t i = *pos;
    *quoted = 0;
    *is_nil = 0;
    if (i >= n)
        return -1;
    if (r[i] == '"') {
        size_t s = ++i;
        while (i < n && r[i] != '"') {
            if (r[i] == '\r' || r[i] == '\n')
                return -1;
            if (r[i] == '\\') {
                if (i + 1 >= n)
                    return -1;
                i++;
            }
            i++;
        }
        if (i >= n)
            return -1;
        out->p = r + s;
        out->n = i - s;
        *quoted = 1;
        *pos = i + 1;
        return 0;
    }
    if (r[i] == '{') {
        i++;
        uint64_t v;
        if (rp_imap_number(r, n, &i, (uint64_t)SIZE_MAX, &v) != 0)
            return -1;
        if (i < n && r[i] == '+')
            i++;
        if (i >= n || r[i] != '}')
            return -1;
        i++;
        if (i < n && r[i] == '\r')
            i++;
        if (i >= n || r[i] != '\n')
            return -1;
        i++;
        if (n - i < v)
            return -1;
        out->p = r + i;
        out->n = (size_t)v;
        *pos = i + (size_t)v;
        return 0;
    }
    if (rp_imap_word_at(r + i, n - i, "NIL", ")")) {
        out->p = r + i;
        out->n = 0;
        *is_nil = 1;
        *pos = i + 3;
        return 0;
    }
    return -1;
}

/* Skips one value of any kind (number, atom, string, NIL, list). */
static int rp_imap_skip_value(const char *r, size_t n, size_t *pos, int depth)
{
    size_t i = *pos;
    if (i >= n || depth > RP_IMAP_MAX_DEPTH)
        return -1;
    if (r[i] == '"' || r[i] == '{') {
        rp_imap_span s;
        int q, nil;
        return rp_imap_string(r, n, pos, &s, &q, &nil);
    }
    if (r[i] == '(') {
        i++;
        for (;;) {
            while (i < n && r[i] == ' ')
                i++;
            if (i >= n)
                return -1;
            if (r[i] == ')') {
                *pos = i + 1;
                return 0;
            }
            if (rp_imap_skip_value(r, n, &i, depth + 1) != 0)
                return -1;
        }
    }
    /* atom, number, NIL, flag (\Seen) */
    size_t s = i;
    while (i < n) {
        unsigned char c = (unsigned char)r[i];
        if (c == ' ' || c == '(' || c == ')' || c == '"' || c == '{' || c < 0x20 || c == 0x7f)
            break;
        if (c == '[') { /* BODY[HEADER.FIELDS (A B)] style */
            const char *close = memchr(r + i, ']', n - i);
            if (!close)
                return -1;
            i = (size_t)(close - r);
        }
        i++;
    }
    if (i == s)
        return -1;
    *pos = i;
    return 0;
}

/* Reads an attribute name: atom characters, a "[...]" section and an
 * optional "<origin>". */
static int rp_imap_att_name(const char *r, size_t n, size_t *pos, rp_imap_span *name)
{
    size_t i = *pos, s = i;
    while (i < n) {
        unsigned char c = (unsigned char)r[i];
        if (c == '[') {
            const char *close = memchr(r + i, ']', n - i);
            if (!close)
                return -1;
            i = (size_t)(close - r) + 1;
            if (i < n && r[i] == '<') {
                const char *gt = memchr(r + i, '>', n - i);
                if (!gt)
                    return -1;
                i = (size_t)(gt - r) + 1;
            }
            break;
        }
        if (c == ' ' || c == '(' || c == ')' || c == '"' || c == '{' || c < 0x21 || c == 0x7f)
            break;
        i++;
    }
    if (i == s)
        return -1;
    name->p = r + s;
    name->n = i - s;
    *pos = i;
    return 0;
}

static int rp_imap_name_is(rp_imap_span name, const char *want)
{
    size_t w = strlen(want);
    if (name.n != w)
        return 0;
    for (size_t i = 0; i < w; i++)
        if (rp_imap_lower((unsigned char)name.p[i]) != rp_imap_lower((unsigned char)want[i]))
            return 0;
    return 1;
}

int rp_imap_parse_fetch(const char *r, size_t n, rp_imap_fetch *f)
{
    if (!r || !f)
        return -1;
    memset(f, 0, sizeof *f);
    if (n < 2 || r[0] != '*' || r[1] != ' ')
        return -1;
    size_t i = 2;
    uint64_t v;
    if (rp_imap_number(r, n, &i, UINT32_MAX, &v) != 0 || i >= n || r[i] != ' ')
        return -1;
    f->seq = (uint32_t)v;
    i++;
    if (!rp_imap_word_at(r + i, n - i, "FETCH", NULL))
        return -1;
    i += 5;
    if (i + 1 >= n || r[i] != ' ' || r[i + 1] != '(')
        return -1;
    i += 2;
    for (;;) {
        while (i < n && r[i] == ' ')
            i++;
        if (i >= n)
            return -1;
        if (r[i] == ')') {
            i++;
            break;
        }
        rp_imap_span name;
        if (rp_imap_att_name(r, n, &i, &name) != 0 || i >= n || r[i] != ' ')
            return -1;
        i++;
        if (rp_imap_name_is(name, "UID")) {
            if (rp_imap_number(r, n, &i, UINT32_MAX, &v) != 0 || v == 0)
                return -1;
            f->uid = (uint32_t)v;
        } else if (rp_imap_name_is(name, "RFC822.SIZE")) {
            if (rp_imap_number(r, n, &i, UINT64_MAX, &v) != 0)
                return -1;
            f->size = v;
            f->has_size = 1;
        } else if (rp_imap_name_is(name, "INTERNALDATE")) {
            rp_imap_span d;
            int q, nil;
            if (rp_imap_string(r, n, &i, &d, &q, &nil) != 0)
                return -1;
            if (!nil && rp_imap_parse_date(d.p, d.n, &f->date) == 0)
                f->has_date = 1;
        } else if (rp_imap_name_is(name, "BODY[]") || rp_imap_name_is(name, "RFC822") ||
                   rp_imap_name_is(name, "BINARY[]")) {
            rp_imap_span b;
            int q, nil;
            if (rp_imap_string(r, n, &i, &b, &q, &nil) != 0)
                return -1;
            if (!nil) {
                f->body = b;
                f->body_quoted = q;
                f->has_body = 1;
            }
        } else if (rp_imap_skip_value(r, n, &i, 0) != 0) {
            return -1;
        }
    }
    /* only the line end may follow */
    while (i < n && (r[i] == '\r' || r[i] == '\n' || r[i] == ' '))
        i++;
    return i == n ? 0 : -1;
}

/* ---- dates ---- */

/* Days since 1970-01-01 of a proleptic Gregorian date. */
static int64_t rp_imap_days(int64_t y, unsigned m, unsigned d)
{
    y -= m <= 2;
    const int64_t era = (y >= 0 ? y : y - 399) / 400;
    const unsigned yoe = (unsigned)(y - era * 400);
    const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
    const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (int64_t)doe - 719468;
}

int rp_imap_parse_date(const char *s, size_t n, int64_t *out)
{
    static const char months[] = "janfebmaraprmayjunjulaugsepoctnovdec";
    static const unsigned mdays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (!s || !out)
        return -1;
    size_t i = 0;
    while (i < n && s[i] == ' ')
        i++;
    uint64_t day, year, hh, mm, ss, zone;
    if (rp_imap_number(s, n, &i, 31, &day) != 0 || day == 0 || i >= n || s[i] != '-')
        return -1;
    i++;
    if (n - i < 4 || s[i + 3] != '-')
        return -1;
    unsigned mon = 0;
    for (unsigned k = 0; k < 12 && !mon; k++)
        if (rp_imap_lower((unsigned char)s[i]) == months[k * 3] &&
            rp_imap_lower((unsigned char)s[i + 1]) == months[k * 3 + 1] &&
            rp_imap_lower((unsigned char)s[i + 2]) == months[k * 3 + 2])
            mon = k + 1;
    if (!mon || day > mdays[mon - 1])
        return -1;
    i += 4;
    size_t y0 = i;
    if (rp_imap_number(s, n, &i, 9999, &year) != 0 || i - y0 != 4 || i >= n || s[i] != ' ')
        return -1;
    i++;
    size_t t0 = i;
    if (rp_imap_number(s, n, &i, 23, &hh) != 0 || i - t0 != 2 || i >= n || s[i] != ':')
        return -1;
    t0 = ++i;
    if (rp_imap_number(s, n, &i, 59, &mm) != 0 || i - t0 != 2 || i >= n || s[i] != ':')
        return -1;
    t0 = ++i;
    if (rp_imap_number(s, n, &i, 60, &ss) != 0 || i - t0 != 2 || i >= n || s[i] != ' ')
        return -1;
    i++;
    if (i >= n || (s[i] != '+' && s[i] != '-'))
        return -1;
    int neg = s[i] == '-';
    t0 = ++i;
    if (rp_imap_number(s, n, &i, 9999, &zone) != 0 || i - t0 != 4 || i != n)
        return -1;
    if (zone % 100 > 59)
        return -1;
    int64_t off = (int64_t)(zone / 100) * 3600 + (int64_t)(zone % 100) * 60;
    int64_t t = rp_imap_days((int64_t)year, mon, (unsigned)day) * 86400 + (int64_t)hh * 3600 +
                (int64_t)mm * 60 + (int64_t)ss;
    *out = neg ? t + off : t - off;
    return 0;
}

size_t rp_imap_unquote(char *s, size_t n)
{
    size_t w = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '\\' && i + 1 < n)
            i++;
        s[w++] = s[i];
    }
    return w;
}

size_t rp_imap_uid_set(const uint32_t *uids, size_t n, char *out, size_t outsize)
{
    size_t used = 0, i = 0;
    if (!out || outsize == 0)
        return 0;
    out[0] = 0;
    while (i < n) {
        size_t j = i;
        while (j + 1 < n && (uids[j + 1] == uids[j] || (uids[j] != UINT32_MAX &&
                                                         uids[j + 1] == uids[j] + 1)))
            j++;
        char piece[32];
        int len;
        if (uids[j] == uids[i])
            len = snprintf(piece, sizeof piece, "%s%u", used ? "," : "", (unsigned)uids[i]);
        else
            len = snprintf(piece, sizeof piece, "%s%u:%u", used ? "," : "", (unsigned)uids[i],
                           (unsigned)uids[j]);
        if (len < 0 || (size_t)len >= outsize - used)
            break;
        memcpy(out + used, piece, (size_t)len + 1);
        used += (size_t)len;
        i = j + 1;
    }
    return i;
}

int rp_imap_quote(const char *name, char *out, size_t outsize)
{
    size_t w = 0;
    if (!name || !out || outsize < 3)
        return -1;
    out[w++] = '"';
    for (const char *p = name; *p; p++) {
        if (*p == '\r' || *p == '\n')
            return -1;
        if (*p == '"' || *p == '\\') {
            if (w + 1 >= outsize)
                return -1;
            out[w++] = '\\';
        }
        if (w + 1 >= outsize)
            return -1;
        out[w++] = *p;
    }
    if (w + 2 > outsize)
        return -1;
    out[w++] = '"';
    out[w] = 0;
    return 0;
}
