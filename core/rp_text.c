#include "rp_text.h"

#include <stdlib.h>
#include <string.h>
#include <utf8proc.h>

size_t rp_utf8_next(const unsigned char *s, size_t len, int32_t *cp)
{
    unsigned char c = s[0];
    if (c < 0x80) {
        *cp = c;
        return 1;
    }
    size_t n;
    int32_t v, min;
    if (c >= 0xC2 && c <= 0xDF) {
        n = 2; v = c & 0x1F; min = 0x80;
    } else if (c >= 0xE0 && c <= 0xEF) {
        n = 3; v = c & 0x0F; min = 0x800;
    } else if (c >= 0xF0 && c <= 0xF4) {
        n = 4; v = c & 0x07; min = 0x10000;
    } else {
        *cp = -1;
        return 1;
    }
    if (len < n) {
        *cp = -1;
        return 1;
    }
    for (size_t i = 1; i < n; i++) {
        if ((s[i] & 0xC0) != 0x80) {
            *cp = -1;
            return 1;
        }
        v = (v << 6) | (s[i] & 0x3F);
    }
    if (v < min || v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF)) {
        *cp = -1;
        return 1;
    }
    *cp = v;
    return n;
}

size_t rp_utf8_invalid_offset(const char *s, size_t len)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t i = 0;
    while (i < len) {
        if (p[i] < 0x80) {
            i++;
            continue;
        }
        int32_t cp;
        size_t n = rp_utf8_next(p + i, len - i, &cp);
        if (cp < 0)
            return i;
        i += n;
    }
    return len;
}

bool rp_utf8_valid(const char *s, size_t len)
{
    return rp_utf8_invalid_offset(s, len) == len;
}

size_t rp_utf8_encode(int32_t cp, char e[4])
{
    if (cp <= 0 || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
        cp = 0xFFFD;
    if (cp < 0x80) {
        e[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        e[0] = (char)(0xC0 | (cp >> 6));
        e[1] = (char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        e[0] = (char)(0xE0 | (cp >> 12));
        e[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        e[2] = (char)(0x80 | (cp & 0x3F));
        return 3;
    }
    e[0] = (char)(0xF0 | (cp >> 18));
    e[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
    e[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
    e[3] = (char)(0x80 | (cp & 0x3F));
    return 4;
}

enum rp_script rp_script_of(int32_t cp)
{
    if ((cp >= 'a' && cp <= 'z') || (cp >= 'A' && cp <= 'Z') || (cp >= 0xC0 && cp <= 0x24F && cp != 0xD7 && cp != 0xF7) ||
        (cp >= 0x1E00 && cp <= 0x1EFF))
        return RP_SCRIPT_LATIN;
    if ((cp >= 0x3041 && cp <= 0x30FF) || (cp >= 0x31F0 && cp <= 0x31FF) || (cp >= 0xFF66 && cp <= 0xFF9F))
        return RP_SCRIPT_KANA;
    if ((cp >= 0x4E00 && cp <= 0x9FFF) || (cp >= 0x3400 && cp <= 0x4DBF) || (cp >= 0xF900 && cp <= 0xFAFF) ||
        cp == 0x3005)
        return RP_SCRIPT_HAN;
    return RP_SCRIPT_OTHER;
}

/* ASCII folding: letters lowered, digits kept, clause punctuation '\n',
 * everything else ' '. */
static const char ascii_fold[129] =
    "          \n  \n                  "
    " \n          \n \n 0123456789\n\n   \n"
    " abcdefghijklmnopqrstuvwxyz     "
    " abcdefghijklmnopqrstuvwxyz     ";

/* Folded forms of the Latin letters U+00C0..U+024F that fold to plain ASCII
 * (casefold, NFKD, marks removed): the fast path of rp_text_fold. Generated
 * from the Unicode data; "" means "take the general path". */
static const char latin_fold[0x190][3] = {
    "a", "a", "a", "a", "a", "a", "ae", "c", "e", "e", "e", "e", "i", "i", "i", "i", "d", "n",
    "o", "o", "o", "o", "o", "", "o", "u", "u", "u", "u", "y", "th", "ss", "a", "a", "a", "a",
    "a", "a", "ae", "c", "e", "e", "e", "e", "i", "i", "i", "i", "d", "n", "o", "o", "o", "o",
    "o", "", "o", "u", "u", "u", "u", "y", "th", "y", "a", "a", "a", "a", "a", "a", "c", "c",
    "c", "c", "c", "c", "c", "c", "d", "d", "d", "d", "e", "e", "e", "e", "e", "e", "e", "e",
    "e", "e", "g", "g", "g", "g", "g", "g", "g", "g", "h", "h", "", "", "i", "i", "i", "i",
    "i", "i", "i", "i", "i", "i", "ij", "ij", "j", "j", "k", "k", "", "l", "l", "l", "l", "l",
    "l", "", "", "l", "l", "n", "n", "n", "n", "n", "n", "", "", "", "o", "o", "o", "o", "o",
    "o", "oe", "oe", "r", "r", "r", "r", "r", "r", "s", "s", "s", "s", "s", "s", "s", "s",
    "t", "t", "t", "t", "", "", "u", "u", "u", "u", "u", "u", "u", "u", "u", "u", "u", "u",
    "w", "w", "y", "y", "y", "z", "z", "z", "z", "z", "z", "s", "", "", "", "", "", "", "",
    "", "", "", "", "", "", "", "", "", "", "", "", "", "", "", "", "", "", "", "", "", "",
    "", "", "", "o", "o", "", "", "", "", "", "", "", "", "", "", "", "", "", "u", "u", "",
    "", "", "", "", "", "", "", "", "", "", "", "", "", "", "", "", "", "", "dz", "dz", "dz",
    "lj", "lj", "lj", "nj", "nj", "nj", "a", "a", "i", "i", "o", "o", "u", "u", "u", "u", "u",
    "u", "u", "u", "u", "u", "", "a", "a", "a", "a", "ae", "ae", "", "", "g", "g", "k", "k",
    "o", "o", "o", "o", "", "", "j", "dz", "dz", "dz", "g", "g", "", "", "n", "n", "a", "a",
    "ae", "ae", "o", "o", "a", "a", "a", "a", "e", "e", "e", "e", "i", "i", "i", "i", "o",
    "o", "o", "o", "r", "r", "r", "r", "u", "u", "u", "u", "s", "s", "t", "t", "", "", "h",
    "h", "", "", "", "", "", "", "a", "a", "e", "e", "o", "o", "o", "o", "o", "o", "o", "o",
    "y", "y", "", "", "", "", "", "", "", "", "", "", "", "", "", "", "", "", "", "", "", "",
    "", "", "", "", "", "", "", "",
};

/* A growable array of code points with a small inline store. */
typedef struct cpvec {
    int32_t *v;
    size_t n, cap;
    int32_t inline_store[256];
} cpvec;

static int cpvec_push(cpvec *c, const int32_t *src, size_t n)
{
    if (c->n + n > c->cap) {
        size_t cap = c->cap * 2;
        while (cap < c->n + n)
            cap *= 2;
        int32_t *p;
        if (c->v == c->inline_store) {
            p = malloc(cap * sizeof *p);
            if (p)
                memcpy(p, c->v, c->n * sizeof *p);
        } else {
            p = realloc(c->v, cap * sizeof *p);
        }
        if (!p)
            return -1;
        c->v = p;
        c->cap = cap;
    }
    memcpy(c->v + c->n, src, n * sizeof *src);
    c->n += n;
    return 0;
}

static bool is_latin_base(int32_t cp)
{
    return cp < 0x370 || (cp >= 0x1E00 && cp <= 0x1EFF);
}

/* Letters with no Unicode decomposition that readers still treat as a base
 * letter plus something (French œ, Danish ø, Polish ł). */
static const char *latin_special(int32_t cp)
{
    switch (cp) {
    case 0x0153: return "oe";
    case 0x00E6: return "ae";
    case 0x00F8: return "o";
    case 0x0142: return "l";
    case 0x0111: return "d";
    case 0x0131: return "i";
    case 0x00F0: return "d";
    case 0x00FE: return "th";
    default: return NULL;
    }
}

typedef struct fold_state {
    rp_buf *out;
    bool last_space;
    bool last_boundary;
    bool prev_latin;
} fold_state;

static rp_status emit_space(fold_state *st)
{
    if (st->last_space)
        return RP_OK;
    st->last_space = true;
    return rp_buf_append_char(st->out, ' ');
}

/* Clause punctuation ends a phrase: it becomes " \n " so that phrases never
 * match across it and negation never reaches over it. */
static bool is_boundary(int32_t cp)
{
    switch (cp) {
    case '.': case ',': case ';': case ':': case '!': case '?': case '\n': case '\r':
    case 0x3001: case 0x3002: case 0xFF61: case 0xFF64: case 0x2026:
        return true;
    default:
        return false;
    }
}

static rp_status emit_boundary(fold_state *st)
{
    if (st->last_boundary)
        return RP_OK;
    rp_status rc = st->last_space ? RP_OK : rp_buf_append_char(st->out, ' ');
    if (rc == RP_OK)
        rc = rp_buf_append(st->out, "\n ", 2);
    st->last_space = true;
    st->last_boundary = true;
    return rc;
}

static rp_status emit_cp(fold_state *st, int32_t cp)
{
    utf8proc_uint8_t enc[4];
    utf8proc_ssize_t n = utf8proc_encode_char(cp, enc);
    if (n <= 0)
        return RP_OK;
    st->last_space = false;
    st->last_boundary = false;
    return rp_buf_append(st->out, enc, (size_t)n);
}

static rp_status fold_run(fold_state *st, const unsigned char *s, size_t len)
{
    cpvec cv = {.v = NULL, .n = 0, .cap = 256};
    cv.v = cv.inline_store;
    rp_status rc = RP_OK;
    int boundclass = UTF8PROC_BOUNDCLASS_START;
    size_t i = 0;
    while (i < len) {
        int32_t cp;
        size_t n = rp_utf8_next(s + i, len - i, &cp);
        i += n;
        int32_t tmp[32];
        if (cp < 0) {
            tmp[0] = ' ';
            if (cpvec_push(&cv, tmp, 1)) {
                rc = RP_ENOMEM;
                goto out;
            }
            continue;
        }
        utf8proc_ssize_t k = utf8proc_decompose_char(
            cp, tmp, 32, UTF8PROC_COMPAT | UTF8PROC_CASEFOLD | UTF8PROC_DECOMPOSE, &boundclass);
        if (k < 0 || k > 32) {
            tmp[0] = cp;
            k = 1;
        }
        if (cpvec_push(&cv, tmp, (size_t)k)) {
            rc = RP_ENOMEM;
            goto out;
        }
    }
    /* drop combining marks that sit on a Latin letter */
    size_t w = 0;
    bool prev_latin = st->prev_latin;
    for (size_t r = 0; r < cv.n; r++) {
        int32_t cp = cv.v[r];
        utf8proc_category_t cat = utf8proc_category(cp);
        bool mark = cat == UTF8PROC_CATEGORY_MN || cat == UTF8PROC_CATEGORY_ME;
        if (mark && prev_latin)
            continue;
        if (!mark)
            prev_latin = is_latin_base(cp) && cp != ' ';
        cv.v[w++] = cp;
    }
    cv.n = w;
    utf8proc_ssize_t m = cv.n ? utf8proc_normalize_utf32(cv.v, (utf8proc_ssize_t)cv.n,
                                                         UTF8PROC_COMPOSE | UTF8PROC_STABLE)
                              : 0;
    if (m < 0)
        m = (utf8proc_ssize_t)cv.n;
    for (utf8proc_ssize_t r = 0; r < m && rc == RP_OK; r++) {
        int32_t cp = cv.v[r];
        if (cp < 0x80) {
            if ((cp >= 'a' && cp <= 'z') || (cp >= '0' && cp <= '9'))
                rc = emit_cp(st, cp);
            else if (cp >= 'A' && cp <= 'Z')
                rc = emit_cp(st, cp + 32);
            else if (is_boundary(cp))
                rc = emit_boundary(st);
            else
                rc = emit_space(st);
            continue;
        }
        const char *sp = latin_special(cp);
        if (sp) {
            st->last_space = false;
            st->last_boundary = false;
            rc = rp_buf_append_str(st->out, sp);
            continue;
        }
        if (is_boundary(cp)) {
            rc = emit_boundary(st);
            continue;
        }
        utf8proc_category_t cat = utf8proc_category(cp);
        switch (cat) {
        case UTF8PROC_CATEGORY_LU: case UTF8PROC_CATEGORY_LL: case UTF8PROC_CATEGORY_LT:
        case UTF8PROC_CATEGORY_LM: case UTF8PROC_CATEGORY_LO: case UTF8PROC_CATEGORY_ND:
        case UTF8PROC_CATEGORY_NL: case UTF8PROC_CATEGORY_NO: case UTF8PROC_CATEGORY_MN:
        case UTF8PROC_CATEGORY_MC: case UTF8PROC_CATEGORY_ME:
            rc = emit_cp(st, cp);
            break;
        default:
            rc = emit_space(st);
        }
    }
    st->prev_latin = prev_latin;
out:
    if (cv.v != cv.inline_store)
        free(cv.v);
    return rc;
}

/* At a line break p[i] (CR or LF): does only white space stand between it
 * and the next line break (a blank line), or does the text end here? */
static bool blank_line_follows(const unsigned char *p, size_t i, size_t len)
{
    size_t j = i + 1;
    if (p[i] == '\r' && j < len && p[j] == '\n')
        j++; /* CRLF is one line break */
    for (; j < len; j++) {
        if (p[j] == '\n' || p[j] == '\r')
            return true;
        if (p[j] != ' ' && p[j] != '\t')
            return false;
    }
    return true;
}

rp_status rp_text_fold(const char *s, size_t len, rp_buf *out)
{
    fold_state st = {.out = out, .last_space = false, .last_boundary = false, .prev_latin = false};
    rp_status rc = rp_buf_reserve(out, len + 2);
    if (rc != RP_OK)
        return rc;
    rc = emit_space(&st);
    const unsigned char *p = (const unsigned char *)s;
    size_t i = 0;
    while (i < len && rc == RP_OK) {
        unsigned char c = p[i];
        if (c < 0x80) {
            char f = ascii_fold[c];
            if (f > ' ') {
                st.last_space = st.last_boundary = false;
                out->data[out->len++] = f;
                st.prev_latin = f >= 'a';
            } else if (f == '\n' && (c == '\n' || c == '\r') && !blank_line_follows(p, i, len)) {
                /* a line break inside a paragraph is how mail wraps its lines
                 * ("preparing\nfor shipment"): a space; a blank line, like
                 * clause punctuation, ends the clause */
                if (!st.last_space) {
                    st.last_space = true;
                    out->data[out->len++] = ' ';
                }
                st.prev_latin = false;
            } else if (f == '\n') {
                out->data[out->len] = '\0';
                rc = emit_boundary(&st);
                if (rc == RP_OK)
                    rc = rp_buf_reserve(out, len - i + 2);
                st.prev_latin = false;
            } else {
                if (!st.last_space) {
                    st.last_space = true;
                    out->data[out->len++] = ' ';
                }
                st.prev_latin = false;
            }
            i++;
            continue;
        }
        /* common accented Latin letters: straight from the table */
        if (c >= 0xC3 && c <= 0xC9 && i + 1 < len && (p[i + 1] & 0xC0) == 0x80) {
            int32_t cp = ((int32_t)(c & 0x1F) << 6) | (p[i + 1] & 0x3F);
            const char *f = cp < 0x250 ? latin_fold[cp - 0xC0] : "";
            if (f[0]) {
                out->data[out->len++] = f[0];
                if (f[1])
                    out->data[out->len++] = f[1];
                st.last_space = st.last_boundary = false;
                st.prev_latin = true;
                i += 2;
                continue;
            }
        }
        /* general punctuation (U+2000..U+206F: dashes, curly quotes, bullets,
         * spaces) holds no letters: a separator, or a clause break for the
         * dot leaders and doubled marks */
        if (c == 0xE2 && i + 2 < len && (p[i + 1] == 0x80 || p[i + 1] == 0x81) &&
            (p[i + 2] & 0xC0) == 0x80) {
            int32_t cp = 0x2000 | ((int32_t)(p[i + 1] & 0x3F) << 6) | (p[i + 2] & 0x3F);
            if (cp < 0x2070 && cp != 0x2017 && cp != 0x203E) { /* those two fold to marks */
                out->data[out->len] = '\0';
                bool brk = cp == 0x2024 || cp == 0x2025 || cp == 0x2026 || cp == 0x203C ||
                           (cp >= 0x2047 && cp <= 0x2049);
                rc = brk ? emit_boundary(&st) : emit_space(&st);
                if (rc == RP_OK)
                    rc = rp_buf_reserve(out, len - i + 2);
                st.prev_latin = false;
                i += 3;
                continue;
            }
        }
        /* kana and kanji are already in folded form: copied as they are,
         * unless a combining sound mark follows */
        if (c >= 0xE3 && c <= 0xE9 && i + 2 < len && (p[i + 1] & 0xC0) == 0x80 &&
            (p[i + 2] & 0xC0) == 0x80) {
            int32_t cp = ((int32_t)(c & 0x0F) << 12) | ((int32_t)(p[i + 1] & 0x3F) << 6) |
                         (p[i + 2] & 0x3F);
            bool mark_next = i + 5 < len && p[i + 3] == 0xE3 && p[i + 4] == 0x82 &&
                             (p[i + 5] == 0x99 || p[i + 5] == 0x9A);
            if (!mark_next && ((cp >= 0x3041 && cp <= 0x3096) || cp == 0x309D || cp == 0x309E ||
                               (cp >= 0x30A1 && cp <= 0x30FA) || (cp >= 0x30FC && cp <= 0x30FE) ||
                               (cp >= 0x4E00 && cp <= 0x9FFF))) {
                memcpy(out->data + out->len, p + i, 3);
                out->len += 3;
                st.last_space = st.last_boundary = false;
                st.prev_latin = false;
                i += 3;
                continue;
            }
        }
        /* full-width ASCII (common in Japanese text) is ASCII under NFKC */
        if (c == 0xEF && i + 2 < len && (p[i + 1] == 0xBC || p[i + 1] == 0xBD) &&
            (p[i + 2] & 0xC0) == 0x80) {
            int32_t cp = 0xF000 | ((int32_t)(p[i + 1] & 0x3F) << 6) | (p[i + 2] & 0x3F);
            if (cp >= 0xFF01 && cp <= 0xFF5E) {
                char f = ascii_fold[cp - 0xFEE0];
                out->data[out->len] = '\0';
                if (f > ' ') {
                    rc = emit_cp(&st, (unsigned char)f);
                    st.prev_latin = f >= 'a';
                } else {
                    rc = f == '\n' ? emit_boundary(&st) : emit_space(&st);
                    st.prev_latin = false;
                }
                if (rc == RP_OK)
                    rc = rp_buf_reserve(out, len - i + 2);
                i += 3;
                continue;
            }
        }
        /* Japanese punctuation: 、。 end a clause, brackets and the like separate */
        if (c == 0xE3 && i + 2 < len && p[i + 1] == 0x80 && (p[i + 2] & 0xC0) == 0x80) {
            int32_t cp = 0x3000 | (p[i + 2] & 0x3F);
            if (cp <= 0x3002 || (cp >= 0x3008 && cp <= 0x3011) || (cp >= 0x3014 && cp <= 0x301F)) {
                out->data[out->len] = '\0';
                rc = (cp == 0x3001 || cp == 0x3002) ? emit_boundary(&st) : emit_space(&st);
                if (rc == RP_OK)
                    rc = rp_buf_reserve(out, len - i + 2);
                st.prev_latin = false;
                i += 3;
                continue;
            }
        }
        /* anything else: the general path, one character at a time with the
         * marks and sound marks that compose with it */
        size_t j = i;
        int32_t cp0;
        j += rp_utf8_next(p + j, len - j, &cp0);
        while (j < len && p[j] >= 0x80) {
            int32_t cp;
            size_t k = rp_utf8_next(p + j, len - j, &cp);
            bool joins = (cp >= 0x0300 && cp <= 0x036F) || cp == 0x3099 || cp == 0x309A ||
                         cp == 0xFF9E || cp == 0xFF9F || (cp >= 0x1AB0 && cp <= 0x1AFF) ||
                         (cp >= 0x1DC0 && cp <= 0x1DFF) || (cp >= 0x20D0 && cp <= 0x20FF) ||
                         (cp >= 0xFE20 && cp <= 0xFE2F);
            if (!joins)
                break;
            j += k;
        }
        out->data[out->len] = '\0';
        rc = fold_run(&st, p + i, j - i);
        if (rc == RP_OK)
            rc = rp_buf_reserve(out, len - j + 2);
        i = j;
    }
    if (rc == RP_OK)
        rc = emit_space(&st);
    if (rc == RP_OK)
        out->data[out->len] = '\0';
    return rc;
}

size_t rp_utf8_chars(const char *s, size_t len)
{
    size_t n = 0;
    for (size_t i = 0; i < len; i++)
        n += ((unsigned char)s[i] & 0xC0) != 0x80;
    return n;
}
