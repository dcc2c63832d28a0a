#include "webhook_text.h"

#include <stdint.h>
#include <string.h>

/* Longest input looked at; the rest counts as cut off. */
#define WH_TEXT_MAX 4096

/* Length of a valid UTF-8 sequence at s (n bytes left), 0 when invalid. */
static size_t utf8_seq(const unsigned char *s, size_t n, uint32_t *cp)
{
    size_t len;
    uint32_t c;
    if (s[0] < 0x80) {
        *cp = s[0];
        return 1;
    } else if (s[0] >= 0xc2 && s[0] <= 0xdf) {
        len = 2;
        c = s[0] & 0x1f;
    } else if (s[0] >= 0xe0 && s[0] <= 0xef) {
        len = 3;
        c = s[0] & 0x0f;
    } else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
        len = 4;
        c = s[0] & 0x07;
    } else {
        return 0;
    }
    if (len > n)
        return 0;
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xc0) != 0x80)
            return 0;
        c = (c << 6) | (s[i] & 0x3f);
    }
    if ((len == 3 && c < 0x800) || (len == 4 && (c < 0x10000 || c > 0x10ffff)) ||
        (c >= 0xd800 && c <= 0xdfff))
        return 0;
    *cp = c;
    return len;
}

/* Code points that must not reach a one-line log: C1 controls, line and
 * paragraph separators, zero-width and bidirectional formatting marks. */
static int invisible(uint32_t c)
{
    return (c >= 0x80 && c <= 0x9f) || (c >= 0x200b && c <= 0x200f) ||
           (c >= 0x2028 && c <= 0x202e) || (c >= 0x2060 && c <= 0x2069) || c == 0xfeff;
}

static int is_alnum(unsigned char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static int local_char(unsigned char c)
{
    return is_alnum(c) || c >= 0x80 || c == '.' || c == '_' || c == '%' || c == '+' ||
           c == '-' || c == '\'';
}

static int domain_char(unsigned char c)
{
    return is_alnum(c) || c >= 0x80 || c == '.' || c == '-';
}

static int lower(unsigned char c)
{
    return c >= 'A' && c <= 'Z' ? c + 32 : c;
}

/* Length of an "at" sign at a[i]: '@' itself or a common escaped form. */
static size_t at_sign(const unsigned char *a, size_t i, size_t n)
{
    static const char *const forms[] = {"@", "%40", "\\u0040", "&#64;", "&#x40;"};
    for (size_t f = 0; f < sizeof forms / sizeof forms[0]; f++) {
        size_t fl = strlen(forms[f]);
        if (i + fl > n)
            continue;
        size_t k = 0;
        while (k < fl && lower(a[i + k]) == (unsigned char)forms[f][k])
            k++;
        if (k == fl)
            return fl;
    }
    return 0;
}

static int word_break(unsigned char c)
{
    return c == ' ' || c == '"' || c == '\'' || c == '<' || c == '>' || c == ',' || c == ';' ||
           c == ':' || c == '(' || c == ')' || c == '[' || c == ']' || c == '{' || c == '}';
}

size_t rp_wh_one_line(const char *in, size_t len, int incomplete, char *out, size_t outsize,
                      size_t maxbytes)
{
    unsigned char a[WH_TEXT_MAX];
    unsigned char red[WH_TEXT_MAX];
    if (!outsize)
        return 0;
    out[0] = 0;
    if (!in)
        return 0;
    if (len > WH_TEXT_MAX) {
        len = WH_TEXT_MAX;
        incomplete = 1;
    }

    /* 1: printable, valid UTF-8, one line */
    const unsigned char *s = (const unsigned char *)in;
    size_t n = 0;
    for (size_t i = 0; i < len;) {
        uint32_t cp = 0;
        size_t l = utf8_seq(s + i, len - i, &cp);
        if (l == 0 && incomplete && len - i < 4 && s[i] >= 0xc2 && s[i] <= 0xf4)
            break; /* a character cut by the end of the capture */
        if (l == 0) {
            a[n++] = '?';
            i++;
        } else if (cp < 0x20 || cp == 0x7f || invisible(cp)) {
            a[n++] = ' ';
            i += l;
        } else {
            memcpy(a + n, s + i, l);
            n += l;
            i += l;
        }
    }
    /* a cut-off text may end in half an address: drop its last word */
    if (incomplete) {
        while (n > 0 && !word_break(a[n - 1]))
            n--;
    }

    /* 2: mark what looks like an e-mail address */
    memset(red, 0, n);
    for (size_t i = 0; i < n;) {
        size_t al = at_sign(a, i, n);
        if (!al) {
            i++;
            continue;
        }
        size_t l = i, r = i + al;
        while (l > 0 && local_char(a[l - 1]))
            l--;
        while (r < n && domain_char(a[r]))
            r++;
        if (l < i && r > i + al) {
            memset(red + l, 1, r - l);
            i = r;
        } else {
            i += al;
        }
    }

    /* 3: emit, collapsing spaces, within the limit */
    size_t limit = outsize - 1 < maxbytes ? outsize - 1 : maxbytes;
    size_t o = 0;
    int space = 0;
    for (size_t i = 0; i < n;) {
        const unsigned char *unit;
        size_t ul;
        if (red[i]) {
            unit = (const unsigned char *)"[address]";
            ul = 9;
            while (i < n && red[i])
                i++;
        } else if (a[i] == ' ') {
            space = 1;
            i++;
            continue;
        } else {
            uint32_t cp;
            ul = utf8_seq(a + i, n - i, &cp);
            if (!ul)
                ul = 1; /* cannot happen: step 1 left only valid UTF-8 */
            unit = a + i;
            i += ul;
        }
        size_t need = ul + (space && o > 0 ? 1 : 0);
        if (o + need > limit)
            break;
        if (space && o > 0)
            out[o++] = ' ';
        memcpy(out + o, unit, ul);
        o += ul;
        space = 0;
    }
    out[o] = 0;
    return o;
}

int rp_wh_header_safe(const char *s, size_t max)
{
    size_t n = 0;
    if (!s || !*s)
        return 0;
    for (; s[n]; n++) {
        unsigned char c = (unsigned char)s[n];
        if (c < 0x21 || c > 0x7e || n >= max)
            return 0;
    }
    return 1;
}

int rp_wh_token(const char *s, size_t max)
{
    size_t n = 0;
    if (!s || !*s)
        return 0;
    for (; s[n]; n++) {
        unsigned char c = (unsigned char)s[n];
        if (n >= max || !(is_alnum(c) || strchr("!#$%&'*+-.^_`|~", c)))
            return 0;
    }
    return 1;
}
