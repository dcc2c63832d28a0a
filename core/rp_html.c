#include "rp_html.h"

#include <ctype.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "rp_buf.h"
#include "rp_text.h"

static const struct {
    const char *name;
    uint32_t cp;
} entities[] = {
    {"amp", '&'},     {"lt", '<'},       {"gt", '>'},       {"quot", '"'},    {"apos", '\''},
    {"nbsp", 0xA0},   {"euro", 0x20AC},  {"pound", 0xA3},   {"yen", 0xA5},    {"copy", 0xA9},
    {"reg", 0xAE},    {"trade", 0x2122}, {"deg", 0xB0},     {"laquo", 0xAB},  {"raquo", 0xBB},
    {"hellip", 0x2026}, {"ndash", 0x2013}, {"mdash", 0x2014}, {"lsquo", 0x2018},
    {"rsquo", 0x2019}, {"ldquo", 0x201C}, {"rdquo", 0x201D}, {"bull", 0x2022},
    {"iexcl", 0xA1},  {"iquest", 0xBF},  {"szlig", 0xDF},   {"agrave", 0xE0}, {"aacute", 0xE1},
    {"acirc", 0xE2},  {"atilde", 0xE3},  {"auml", 0xE4},    {"aring", 0xE5},  {"aelig", 0xE6},
    {"ccedil", 0xE7}, {"egrave", 0xE8},  {"eacute", 0xE9},  {"ecirc", 0xEA},  {"euml", 0xEB},
    {"igrave", 0xEC}, {"iacute", 0xED},  {"icirc", 0xEE},   {"iuml", 0xEF},   {"ntilde", 0xF1},
    {"ograve", 0xF2}, {"oacute", 0xF3},  {"ocirc", 0xF4},   {"otilde", 0xF5}, {"ouml", 0xF6},
    {"oslash", 0xF8}, {"ugrave", 0xF9},  {"uacute", 0xFA},  {"ucirc", 0xFB},  {"uuml", 0xFC},
    {"yuml", 0xFF},   {"Agrave", 0xC0},  {"Aacute", 0xC1},  {"Acirc", 0xC2},  {"Auml", 0xC4},
    {"Ccedil", 0xC7}, {"Egrave", 0xC8},  {"Eacute", 0xC9},  {"Ecirc", 0xCA},  {"Iacute", 0xCD},
    {"Ntilde", 0xD1}, {"Oacute", 0xD3},  {"Ouml", 0xD6},    {"Uacute", 0xDA}, {"Uuml", 0xDC},
    {"oelig", 0x153}, {"OElig", 0x152},  {"shy", 0xAD},     {"middot", 0xB7}, {"times", 0xD7},
};

static bool append_cp(rp_buf *b, uint32_t cp)
{
    char e[4];
    if (cp == 0xA0)
        cp = ' ';
    size_t n = rp_utf8_encode(cp > 0x10FFFF ? 0xFFFD : (int32_t)cp, e);
    return rp_buf_append(b, e, n) == RP_OK;
}

/* Parse a character reference at s ('&' already seen at s[-1]); returns bytes consumed after
 * '&', or 0 if it is not one. */
static size_t entity(const char *s, size_t len, uint32_t *cp)
{
    if (len && s[0] == '#') {
        size_t i = 1;
        uint32_t v = 0;
        bool hex = i < len && (s[i] == 'x' || s[i] == 'X');
        if (hex)
            i++;
        size_t start = i;
        while (i < len && i - start < 8 && (hex ? isxdigit((unsigned char)s[i]) : isdigit((unsigned char)s[i]))) {
            int d = isdigit((unsigned char)s[i]) ? s[i] - '0' : (tolower((unsigned char)s[i]) - 'a' + 10);
            v = v * (hex ? 16 : 10) + (uint32_t)d;
            i++;
        }
        if (i == start)
            return 0;
        if (i < len && s[i] == ';')
            i++;
        *cp = v;
        return i;
    }
    size_t i = 0;
    while (i < len && i < 10 && isalnum((unsigned char)s[i]))
        i++;
    if (i == 0)
        return 0;
    for (size_t k = 0; k < sizeof entities / sizeof entities[0]; k++)
        if (strlen(entities[k].name) == i && memcmp(entities[k].name, s, i) == 0) {
            *cp = entities[k].cp;
            return i < len && s[i] == ';' ? i + 1 : i;
        }
    return 0;
}

static bool is_block(const char *name)
{
    static const char *const blocks[] = {"p", "div", "br", "li", "tr", "h1", "h2", "h3", "h4",
                                         "h5", "h6", "table", "ul", "ol", "hr", "section",
                                         "article", "header", "footer", "pre", "dd", "dt", NULL};
    for (int i = 0; blocks[i]; i++)
        if (strcasecmp(name, blocks[i]) == 0)
            return true;
    return false;
}

static bool is_skipped(const char *name)
{
    return strcasecmp(name, "script") == 0 || strcasecmp(name, "style") == 0 ||
           strcasecmp(name, "head") == 0 || strcasecmp(name, "blockquote") == 0 ||
           strcasecmp(name, "title") == 0;
}

char *rp_html_to_text(const char *h, size_t len)
{
    rp_buf out = {0};
    bool ok = rp_buf_reserve(&out, len / 2 + 16) == RP_OK;
    bool space = true;  /* last output was white space */
    int newlines = 2;   /* trailing newlines in output */
    int skip_depth = 0; /* inside script/style/blockquote */
    char skip_tag[16] = "";
    size_t i = 0;
    while (i < len && ok) {
        char c = h[i];
        if (c == '<') {
            /* comment */
            if (i + 3 < len && memcmp(h + i, "<!--", 4) == 0) {
                const char *e = NULL;
                for (size_t k = i + 4; k + 2 < len; k++)
                    if (h[k] == '-' && h[k + 1] == '-' && h[k + 2] == '>') {
                        e = h + k + 3;
                        break;
                    }
                i = e ? (size_t)(e - h) : len;
                continue;
            }
            size_t j = i + 1;
            bool closing = j < len && h[j] == '/';
            if (closing)
                j++;
            char name[16];
            size_t nl = 0;
            while (j < len && (isalnum((unsigned char)h[j])) && nl < sizeof name - 1)
                name[nl++] = (char)tolower((unsigned char)h[j++]);
            name[nl] = '\0';
            if (nl == 0 && !(j < len && (h[j] == '!' || h[j] == '?'))) {
                /* not a tag: literal '<' */
                if (!skip_depth) {
                    ok = rp_buf_append_char(&out, '<') == RP_OK;
                    space = false;
                    newlines = 0;
                }
                i++;
                continue;
            }
            /* find the end of the tag, honouring quoted attribute values */
            char quote = 0;
            while (j < len && (quote || h[j] != '>')) {
                if (quote && h[j] == quote)
                    quote = 0;
                else if (!quote && (h[j] == '"' || h[j] == '\''))
                    quote = h[j];
                j++;
            }
            bool self_closing = j > 0 && j < len && h[j - 1] == '/';
            i = j < len ? j + 1 : len;
            if (skip_depth) {
                if (strcmp(name, skip_tag) == 0) {
                    if (closing)
                        skip_depth--;
                    else if (!self_closing)
                        skip_depth++;
                }
                continue;
            }
            if (!closing && !self_closing && is_skipped(name)) {
                skip_depth = 1;
                memcpy(skip_tag, name, nl + 1);
                continue;
            }
            if (is_block(name) || strcmp(name, "td") == 0) {
                bool line = strcmp(name, "td") != 0;
                if (line && newlines < 2 && out.len) {
                    /* <p> and </div> end a line; two in a row make a paragraph break */
                    while (out.len && out.data[out.len - 1] == ' ')
                        out.len--;
                    ok = rp_buf_append_char(&out, '\n') == RP_OK;
                    newlines++;
                    space = true;
                } else if (!line && !space) {
                    ok = rp_buf_append_char(&out, ' ') == RP_OK;
                    space = true;
                }
            }
            continue;
        }
        if (skip_depth) {
            i++;
            continue;
        }
        if (c == '&') {
            uint32_t cp;
            size_t n = entity(h + i + 1, len - i - 1, &cp);
            if (n) {
                i += n + 1;
                if (cp == 0xA0 || cp == ' ') {
                    if (!space) {
                        ok = rp_buf_append_char(&out, ' ') == RP_OK;
                        space = true;
                    }
                } else {
                    ok = append_cp(&out, cp);
                    space = false;
                    newlines = 0;
                }
                continue;
            }
        }
        if (isspace((unsigned char)c)) {
            if (!space) {
                ok = rp_buf_append_char(&out, ' ') == RP_OK;
                space = true;
            }
            i++;
            continue;
        }
        ok = rp_buf_append_char(&out, c) == RP_OK;
        space = false;
        newlines = 0;
        i++;
    }
    if (!ok) {
        rp_buf_free(&out);
        return NULL;
    }
    while (out.len && (out.data[out.len - 1] == ' ' || out.data[out.len - 1] == '\n'))
        out.len--;
    if (out.data)
        out.data[out.len] = '\0';
    return rp_buf_steal(&out);
}
