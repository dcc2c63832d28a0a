#include "rp_compliance.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rp_ac.h"
#include "rp_embedded.h"
#include "rp_map.h"
#include "rp_text.h"
#include "rp_yaml.h"

/* How the checks work (docs/compliance.md has the user's view):
 *
 * - Phrases (off_platform, review_incentive, marketing) are matched on the
 *   folded text (rp_text_fold) with one Aho–Corasick automaton over every
 *   language's lists. Word boundaries are checked per hit; a hit is then
 *   mapped back to the original text, for the quote, by counting the letters
 *   and digits the fold keeps.
 * - Everything with a shape (markup, links, e-mail, phones, emoji and
 *   emoticons) is found in one pass over a "skeleton" of the original: the
 *   same bytes, except that full-width ASCII becomes plain ASCII. Each byte
 *   wakes only the scanners that care about it (a table), and each scanner
 *   skips what it has already consumed.
 * Scanners push candidates (check, original byte range); equal quotes of one
 * check are kept once, and at most CAND_MAX distinct ones per check are
 * kept, which is all the output can hold. */

static const char *const check_names[RP_CHECK_COUNT] = {
    "plain_text", "link",      "email", "phone", "off_platform", "review_incentive",
    "marketing",  "emoji",     "length"};

const char *rp_check_name(rp_check c)
{
    return (unsigned)c < RP_CHECK_COUNT ? check_names[c] : "unknown";
}

static const char *const amazon_domains[] = {
    "amazon.com",    "amazon.co.uk", "amazon.de",     "amazon.fr",  "amazon.it",
    "amazon.es",     "amazon.co.jp", "amazon.ca",     "amazon.com.mx", "amazon.nl",
    "amazon.se",     "amazon.pl",    "amazon.com.be", "amazon.com.tr", "amazon.ae",
    "amazon.sa",     "amazon.in",    "amazon.com.au", "amazon.sg",  "amazon.com.br"};

void rp_compliance_opts_default(rp_compliance_opts *o)
{
    memset(o, 0, sizeof *o);
    o->allowed_domains = amazon_domains;
    o->nallowed_domains = sizeof amazon_domains / sizeof amazon_domains[0];
    o->allow_phone = false;
    o->max_subject_chars = 200;
    o->max_body_chars = 4000;
}

/* ---- the compiled checker ------------------------------------------------ */

#define PH_EXCEPT (1u << 15) /* mask bit: an exception phrase */

enum { K_WORD = 0, K_KATA, K_CJK }; /* what a phrase starts / ends with */

typedef struct phrase {
    uint16_t exact;  /* checks for which the phrase must end at a boundary */
    uint16_t prefix; /* checks for which it is a prefix ("coupon*") */
    uint8_t first, last;
} phrase;

struct rp_compliance {
    rp_ac *ac;
    phrase *ph;
    size_t nph;
    char **ctxw; /* phone context stems, ASCII lower-cased */
    size_t nctxw;
    char **allowed; /* lower-case, no leading dot */
    size_t nallowed;
    bool allow_phone;
    size_t max_subject, max_body;
};

/* ---- per-call scratch ---------------------------------------------------- */

#define CAND_MAX (RP_MAX_FINDINGS + 1)
#define ESPAN_MAX 32
#define HITS_MAX 8192

typedef struct cand {
    uint8_t src; /* 0 subject, 1 body */
    uint32_t s, e;
} cand;

typedef struct hit {
    uint32_t ph, s, e;
    uint16_t mask;
} hit;

typedef struct scratch {
    rp_buf skel;
    uint32_t *fw; /* skeleton offsets where a full-width character became ASCII */
    size_t capfw;
    rp_buf tmp;
    hit *hits;
    size_t nhits, caphits;
    cand c[RP_CHECK_COUNT][CAND_MAX];
    uint8_t nc[RP_CHECK_COUNT];
    uint32_t espan[ESPAN_MAX][2];
    size_t nespan;
} scratch;

typedef struct run {
    const rp_compliance *c;
    rp_compliance_ctx *ctx;
    scratch *sc;
    const char *txt[2];
    size_t len[2];
    int src;
    const unsigned char *o; /* the text being scanned */
    size_t on;
    const unsigned char *k; /* its skeleton */
    size_t kn;
    const uint32_t *fw; /* see scratch.fw; each one is 2 bytes shorter than the original */
    size_t nfw;
    bool over;           /* more distinct findings than the output holds */
    rp_status st;
} run;

/* ---- small character helpers -------------------------------------------- */

static inline bool a_alpha(unsigned c)
{
    return ((c | 0x20) >= 'a' && (c | 0x20) <= 'z');
}
static inline bool a_digit(unsigned c)
{
    return c >= '0' && c <= '9';
}
static inline bool a_alnum(unsigned c)
{
    return a_alpha(c) || a_digit(c);
}
static inline unsigned char a_lower(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') ? (unsigned char)(c + 32) : c;
}
static inline bool a_space(unsigned c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

/* Case-insensitive (ASCII) comparison of w with p[0..n). */
static bool ieq(const unsigned char *p, size_t n, const char *w, size_t wl)
{
    if (n < wl)
        return false;
    for (size_t i = 0; i < wl; i++)
        if (a_lower(p[i]) != a_lower((unsigned char)w[i]))
            return false;
    return true;
}

static bool ieq_word(const unsigned char *p, size_t n, const char *w)
{
    size_t wl = strlen(w);
    return n == wl && ieq(p, n, w, wl);
}

static int32_t cp_at(const unsigned char *s, size_t n, size_t i, size_t *len)
{
    int32_t cp;
    size_t l = rp_utf8_next(s + i, n - i, &cp);
    if (len)
        *len = l;
    return cp;
}

/* The code point that ends just before i (-1 for none or invalid). */
static int32_t cp_before(const unsigned char *s, size_t i)
{
    if (i == 0)
        return -1;
    size_t j = i - 1;
    while (j > 0 && i - j < 4 && (s[j] & 0xC0) == 0x80)
        j--;
    int32_t cp;
    size_t l = rp_utf8_next(s + j, i - j, &cp);
    return (j + l == i) ? cp : -1;
}

static bool is_katakana(int32_t cp)
{
    return (cp >= 0x30A1 && cp <= 0x30FA) || (cp >= 0x30FC && cp <= 0x30FF) ||
           (cp >= 0x31F0 && cp <= 0x31FF);
}

static int cp_kind(int32_t cp)
{
    if (is_katakana(cp))
        return K_KATA;
    enum rp_script s = rp_script_of(cp);
    if (s == RP_SCRIPT_KANA || s == RP_SCRIPT_HAN)
        return K_CJK;
    return K_WORD;
}

/* ---- candidates ----------------------------------------------------------- */

static void push(run *r, rp_check chk, size_t s, size_t e)
{
    scratch *sc = r->sc;
    if (e <= s)
        return;
    const char *t = r->txt[r->src];
    for (size_t i = 0; i < sc->nc[chk]; i++) {
        const cand *c = &sc->c[chk][i];
        if (c->e - c->s == e - s && memcmp(r->txt[c->src] + c->s, t + s, e - s) == 0)
            return;
    }
    if (sc->nc[chk] == CAND_MAX) {
        r->over = true;
        return;
    }
    sc->c[chk][sc->nc[chk]++] = (cand){(uint8_t)r->src, (uint32_t)s, (uint32_t)e};
}

/* Skeleton offset → original offset. */
static size_t to_orig(const run *r, size_t x)
{
    size_t lo = 0, hi = r->nfw;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (r->fw[mid] < x)
            lo = mid + 1;
        else
            hi = mid;
    }
    return x + 2 * lo;
}

/* A candidate given in skeleton offsets. */
static void push_k(run *r, rp_check chk, size_t s, size_t e)
{
    if (r->nfw)
        push(r, chk, to_orig(r, s), to_orig(r, e));
    else
        push(r, chk, s, e);
}

/* ---- skeleton ------------------------------------------------------------- */

/* The skeleton: full-width ASCII (U+FF01..U+FF5E, common in Japanese text)
 * becomes ASCII so that the scanners see "０３－１２３４" and "ｉｎｆｏ＠" as
 * digits and letters. Other text is scanned as it is. */
static rp_status build_skel(run *r)
{
    scratch *sc = r->sc;
    const unsigned char *o = r->o;
    size_t n = r->on;
    const unsigned char *p = o;
    r->k = o;
    r->kn = n;
    r->fw = NULL;
    r->nfw = 0;
    while ((p = memchr(p, 0xEF, n - (size_t)(p - o))) != NULL) {
        if (p + 2 < o + n && (p[1] == 0xBC || p[1] == 0xBD) && (p[2] & 0xC0) == 0x80)
            break;
        p++;
    }
    if (!p)
        return RP_OK;
    rp_buf_reset(&sc->skel);
    if (rp_buf_reserve(&sc->skel, n + 1) != RP_OK)
        return RP_ENOMEM;
    char *k = sc->skel.data;
    size_t w = 0, nfw = 0, i = 0;
    while (p) {
        size_t at = (size_t)(p - o);
        int32_t cp = 0xF000 | ((int32_t)(p[1] & 0x3F) << 6) | (p[2] & 0x3F);
        if (cp >= 0xFF01 && cp <= 0xFF5E) {
            memcpy(k + w, o + i, at - i);
            w += at - i;
            if (nfw == sc->capfw) {
                size_t cap = sc->capfw ? sc->capfw * 2 : 64;
                uint32_t *nf = realloc(sc->fw, cap * sizeof *nf);
                if (!nf)
                    return RP_ENOMEM;
                sc->fw = nf;
                sc->capfw = cap;
            }
            sc->fw[nfw++] = (uint32_t)w;
            k[w++] = (char)(cp - 0xFEE0);
            i = at + 3;
        }
        const unsigned char *q = p + 1;
        p = NULL;
        while ((q = memchr(q, 0xEF, n - (size_t)(q - o))) != NULL) {
            if (q + 2 < o + n && (q[1] == 0xBC || q[1] == 0xBD) && (q[2] & 0xC0) == 0x80) {
                p = q;
                break;
            }
            q++;
        }
    }
    memcpy(k + w, o + i, n - i);
    w += n - i;
    k[w] = '\0';
    sc->skel.len = w;
    r->k = (const unsigned char *)k;
    r->kn = w;
    r->fw = sc->fw;
    r->nfw = nfw;
    return RP_OK;
}

/* ---- plain_text ------------------------------------------------------------ */

static const char *const bb_tags[] = {"url", "img", "quote", "color", "size", "code", "center",
                                      "link", "email", "list"};

/* HTML entity at k[i] == '&': its end, or 0. */
static size_t html_entity(const unsigned char *k, size_t n, size_t i)
{
    size_t j = i + 1;
    if (j < n && k[j] == '#') {
        j++;
        bool hex = j < n && (k[j] == 'x' || k[j] == 'X');
        if (hex)
            j++;
        size_t d = j;
        while (j < n && j - d < 8 &&
               (a_digit(k[j]) || (hex && ((k[j] | 0x20) >= 'a' && (k[j] | 0x20) <= 'f'))))
            j++;
        return (j > d && j < n && k[j] == ';') ? j + 1 : 0;
    }
    size_t s = j;
    while (j < n && j - s < 12 && a_alpha(k[j]))
        j++;
    size_t nl = j - s;
    while (j < n && j - s < 14 && a_digit(k[j]))
        j++;
    if (nl >= 2 && j < n && k[j] == ';')
        return j + 1;
    /* the common ones are often written without the semicolon */
    static const char *const bare[] = {"nbsp", "amp", "quot", "lt", "gt", "euro", "apos"};
    if (j == s + nl && (j >= n || !a_alnum(k[j])))
        for (size_t b = 0; b < sizeof bare / sizeof bare[0]; b++)
            if (ieq_word(k + s, nl, bare[b]))
                return j;
    return 0;
}

/* HTML tag or comment at k[i] == '<': its end, or 0. */
static size_t html_tag(const unsigned char *k, size_t n, size_t i)
{
    size_t j = i + 1;
    if (j + 2 < n && k[j] == '!' && k[j + 1] == '-' && k[j + 2] == '-') {
        for (size_t q = j + 3; q + 2 < n && q - i < 300; q++)
            if (k[q] == '-' && k[q + 1] == '-' && k[q + 2] == '>')
                return q + 3;
        return j + 3;
    }
    if (j < n && k[j] == '!') {
        j++;
        if (!(j < n && a_alpha(k[j])))
            return 0;
    } else if (j < n && k[j] == '/') {
        j++;
    }
    if (!(j < n && a_alpha(k[j])))
        return 0;
    while (j < n && j - i < 40 && (a_alnum(k[j]) || k[j] == ':' || k[j] == '-' || k[j] == '_'))
        j++;
    if (j < n && k[j] == '>')
        return j + 1;
    if (j + 1 < n && k[j] == '/' && k[j + 1] == '>')
        return j + 2;
    if (!(j < n && a_space(k[j])))
        return 0;
    for (size_t q = j; q < n && q - i < 400; q++) {
        if (k[q] == '>')
            return q + 1;
        if (k[q] == '<')
            return 0;
    }
    return 0;
}

static size_t line_find(const unsigned char *k, size_t n, size_t from, size_t maxlen,
                        unsigned char ch)
{
    for (size_t q = from; q < n && q - from < maxlen; q++) {
        if (k[q] == ch)
            return q;
        if (k[q] == '\n')
            return 0;
    }
    return 0;
}

/* Markdown [text](url) at k[i] == '[': its end, or 0. */
static size_t md_link(const unsigned char *k, size_t n, size_t i)
{
    size_t cb = line_find(k, n, i + 1, 300, ']');
    if (!cb || cb + 1 >= n || k[cb + 1] != '(')
        return 0;
    size_t cp = line_find(k, n, cb + 2, 600, ')');
    if (!cp || cp == cb + 2 || a_space(k[cb + 2]))
        return 0;
    return cp + 1;
}

/* BBCode tag at k[i] == '[': its end, or 0. */
static size_t bbcode(const unsigned char *k, size_t n, size_t i)
{
    size_t j = i + 1;
    bool close = j < n && k[j] == '/';
    if (close)
        j++;
    size_t s = j;
    while (j < n && j - s < 8 && a_alpha(k[j]))
        j++;
    size_t nl = j - s;
    if (nl == 0)
        return 0;
    bool known = false;
    if (nl == 1)
        known = close && strchr("biusBIUS", k[s]) != NULL;
    else
        for (size_t t = 0; t < sizeof bb_tags / sizeof bb_tags[0]; t++)
            if (ieq_word(k + s, nl, bb_tags[t]))
                known = true;
    if (!known)
        return 0;
    if (j < n && k[j] == ']')
        return j + 1;
    if (!close && j < n && k[j] == '=') {
        size_t q = line_find(k, n, j, 300, ']');
        return q ? q + 1 : 0;
    }
    return 0;
}

/* Markdown **bold** or __bold__ at k[i]: its end, or 0. */
static size_t md_bold(const unsigned char *k, size_t n, size_t i)
{
    unsigned char m = k[i];
    if (!(i + 2 < n && k[i + 1] == m) || a_space(k[i + 2]) || k[i + 2] == m)
        return 0;
    if (m == '_' && i > 0 && a_alnum(k[i - 1]))
        return 0;
    for (size_t q = i + 3; q + 1 < n && q - i < 300; q++) {
        if (k[q] == '\n')
            return 0;
        if (k[q] == m && k[q + 1] == m && !a_space(k[q - 1]))
            return q + 2;
    }
    return 0;
}

/* Markdown headers and code fences at the start of a line (k[i]). */
static void h_line_start(run *r, size_t i)
{
    const unsigned char *k = r->k;
    size_t n = r->kn;
    size_t j = i;
    while (j < n && j - i < 3 && k[j] == ' ')
        j++;
    size_t h = j;
    while (j < n && k[j] == '#' && j - h < 7)
        j++;
    if (j > h && j - h <= 6 && j + 1 < n && k[j] == ' ' && (a_alpha(k[j + 1]) || k[j + 1] >= 0x80)) {
        size_t q = j;
        while (q < n && k[q] != '\n')
            q++;
        push_k(r, RP_CHECK_PLAIN_TEXT, h, q);
    }
    if (j + 2 < n && k[j] == '`' && k[j + 1] == '`' && k[j + 2] == '`')
        push_k(r, RP_CHECK_PLAIN_TEXT, j, j + 3);
}

/* Markup at k[i]: returns where this scanner goes on. */
static size_t h_plain(run *r, size_t i)
{
    const unsigned char *k = r->k;
    size_t n = r->kn;
    size_t e = 0;
    switch (k[i]) {
    case '<': e = html_tag(k, n, i); break;
    case '&': e = html_entity(k, n, i); break;
    case '!':
        if (i + 1 < n && k[i + 1] == '[')
            e = md_link(k, n, i + 1);
        break;
    case '[':
        e = md_link(k, n, i);
        if (!e)
            e = bbcode(k, n, i);
        break;
    case '*': case '_': e = md_bold(k, n, i); break;
    case '`':
        if (i + 2 < n && k[i + 1] == '`' && k[i + 2] == '`')
            e = i + 3;
        break;
    case '\n': h_line_start(r, i + 1); break;
    default: break;
    }
    if (e > i) {
        push_k(r, RP_CHECK_PLAIN_TEXT, i, e);
        return e;
    }
    return i + 1;
}

/* ---- hosts (links and e-mail) -------------------------------------------- */

/* Top-level domains that make a bare "name.tld" a link. Endings that are also
 * file extensions, abbreviations or short words in the six languages are left
 * out (zip, mov, md, py, sh, so, to, is, no, la, ro, mo, ma, na, st, id, ag,
 * kg, ltd, ...): "invoice.pdf", "Sig.ra", "n.ro" are text. */
static const char *const tlds[] = {
    "com", "net", "org", "info", "biz", "io", "co", "app", "dev", "shop", "store", "online",
    "site", "website", "web", "xyz", "top", "club", "live", "tech", "cloud", "blog", "link",
    "eu", "asia", "tv", "cc", "me", "ai", "gg", "uk", "de", "fr", "it", "es", "jp", "ca", "mx",
    "nl", "se", "pl", "be", "tr", "ae", "sa", "in", "au", "sg", "br", "at", "ch", "lu", "ie",
    "dk", "fi", "pt", "cz", "us", "cn", "hk", "tw", "kr", "ru", "nz", "za", "ar", "cl", "gr",
    "hu", "sk", "si", "hr", "bg", "ua", "il", "ph", "my", "th", "vn", "eg", "pk", "amazon"};

static bool tld_known(const unsigned char *p, size_t n)
{
    if (n < 2 || n > 8)
        return false;
    char low[8];
    for (size_t i = 0; i < n; i++)
        low[i] = (char)a_lower(p[i]);
    for (size_t i = 0; i < sizeof tlds / sizeof tlds[0]; i++)
        if (tlds[i][0] == low[0] && tlds[i][1] == low[1] && strncmp(tlds[i], low, n) == 0 &&
            tlds[i][n] == '\0')
            return true;
    return false;
}

/* Spelled-out dots ("example dot com") without brackets are common words in
 * some languages ("un point de vente", "el punto es"), so each word only
 * counts before these endings. */
static const char *const sep_words[] = {"dot", "punkt", "point", "punto"};
static const char *const sep_tlds[4][12] = {
    {"com", "net", "org", "info", "biz", "io", "de", "fr", "es", "jp", "uk", "eu"},
    {"com", "net", "org", "info", "de", "eu", "at", "ch", "shop", NULL},
    {"com", "net", "org", "info", "fr", "eu", "be", "ch", NULL},
    {"com", "net", "org", "info", "it", "eu", NULL}};

static const char *const freemail[] = {
    "gmail", "googlemail", "yahoo", "ymail", "hotmail", "outlook", "live", "msn", "icloud",
    "aol", "gmx", "web", "t-online", "freenet", "posteo", "mail", "protonmail", "proton",
    "orange", "free", "laposte", "sfr", "wanadoo", "libero", "virgilio", "tiscali", "alice",
    "movistar", "telefonica", "docomo", "ezweb", "softbank", "nifty", "biglobe", "ocn", "yandex",
    "qq", "163", "126", "zoho", "tutanota", "mailbox", "arcor", "bluewin"};

#define HOST_MAX 256

typedef struct host {
    size_t s, e;
    size_t first_s, first_e, sld_s, sld_e, tld_s, tld_e;
    unsigned nlabels;
    bool obf;          /* some dot was obfuscated */
    unsigned spelled;  /* bit per unbracketed spelled word used */
    char name[HOST_MAX]; /* lower-case, dots restored; "" when too long */
    size_t nlen;
} host;

static size_t label_end(const unsigned char *k, size_t n, size_t i)
{
    size_t j = i;
    while (j < n && j - i < 63 && (a_alnum(k[j]) || k[j] == '-'))
        j++;
    while (j > i && k[j - 1] == '-')
        j--;
    return j;
}

/* An obfuscated dot at k[j..) ("[.]", " (dot) ", " dot ", ...): its end or 0;
 * *word gets the bit of an unbracketed spelled word. */
static size_t obf_dot(const unsigned char *k, size_t n, size_t j, unsigned *word)
{
    *word = 0;
    size_t p = j;
    bool sp = false;
    if (p < n && k[p] == ' ') {
        p++;
        sp = true;
    }
    if (p < n && (k[p] == '[' || k[p] == '(' || k[p] == '{')) {
        unsigned char close = k[p] == '[' ? ']' : k[p] == '(' ? ')' : '}';
        size_t q = p + 1;
        if (q < n && k[q] == ' ')
            q++;
        if (q < n && k[q] == '.') {
            q++;
        } else {
            size_t w;
            for (w = 0; w < 4; w++) {
                size_t l = strlen(sep_words[w]);
                if (ieq(k + q, n - q, sep_words[w], l) && !(q + l < n && a_alpha(k[q + l]))) {
                    q += l;
                    break;
                }
            }
            if (w == 4)
                return 0;
        }
        if (q < n && k[q] == ' ')
            q++;
        if (q >= n || k[q] != close)
            return 0;
        q++;
        if (q < n && k[q] == ' ')
            q++;
        return q;
    }
    if (!sp || p >= n || ((k[p] | 0x20) != 'd' && (k[p] | 0x20) != 'p'))
        return 0;
    for (size_t w = 0; w < 4; w++) {
        size_t l = strlen(sep_words[w]);
        if (ieq(k + p, n - p, sep_words[w], l) && p + l < n && k[p + l] == ' ') {
            *word = 1u << w;
            return p + l + 1;
        }
    }
    return 0;
}

static void host_append(host *h, const unsigned char *p, size_t l)
{
    if (h->nlen + l + 2 > HOST_MAX) {
        h->nlen = SIZE_MAX;
        return;
    }
    if (h->nlen == SIZE_MAX)
        return;
    if (h->nlen)
        h->name[h->nlen++] = '.';
    for (size_t i = 0; i < l; i++)
        h->name[h->nlen++] = (char)a_lower(p[i]);
    h->name[h->nlen] = '\0';
}

/* Labels separated by dots (or obfuscated dots) from k[i], which is alnum. */
static unsigned parse_host(const unsigned char *k, size_t n, size_t i, host *h)
{
    memset(h, 0, offsetof(host, name));
    h->name[0] = '\0';
    h->nlen = 0;
    h->s = i;
    size_t p = i;
    for (;;) {
        size_t e = label_end(k, n, p);
        if (e == p)
            break;
        if (h->nlabels == 0) {
            h->first_s = p;
            h->first_e = e;
        }
        h->sld_s = h->tld_s;
        h->sld_e = h->tld_e;
        h->tld_s = p;
        h->tld_e = e;
        h->nlabels++;
        h->e = e;
        host_append(h, k + p, e - p);
        if (h->nlabels >= 40)
            break;
        if (e + 1 < n && k[e] == '.' && a_alnum(k[e + 1])) {
            p = e + 1;
            continue;
        }
        unsigned w;
        size_t q = obf_dot(k, n, e, &w);
        if (q && q < n && a_alnum(k[q])) {
            h->obf = true;
            h->spelled |= w;
            p = q;
            continue;
        }
        break;
    }
    if (h->nlen == SIZE_MAX)
        h->name[0] = '\0';
    return h->nlabels;
}

static bool all_alpha(const unsigned char *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!a_alpha(p[i]))
            return false;
    return n > 0;
}

static bool has_alpha(const unsigned char *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (a_alpha(p[i]))
            return true;
    return false;
}

/* The ending of an obfuscated host: known, and allowed after every spelled
 * word used. */
static bool obf_tld_ok(const unsigned char *k, const host *h)
{
    const unsigned char *t = k + h->tld_s;
    size_t tl = h->tld_e - h->tld_s;
    if (!tld_known(t, tl))
        return false;
    for (size_t w = 0; w < 4; w++) {
        if (!(h->spelled & (1u << w)))
            continue;
        bool ok = false;
        for (size_t j = 0; j < 12 && sep_tlds[w][j]; j++)
            if (ieq_word(t, tl, sep_tlds[w][j]))
                ok = true;
        if (!ok)
            return false;
    }
    return true;
}

static bool domain_allowed(const rp_compliance *c, const char *h, size_t hl)
{
    while (hl && h[hl - 1] == '.')
        hl--;
    if (hl == 0)
        return false;
    for (size_t i = 0; i < c->nallowed; i++) {
        const char *a = c->allowed[i];
        size_t al = strlen(a);
        if (hl == al && memcmp(h, a, al) == 0)
            return true;
        if (hl > al && h[hl - al - 1] == '.' && memcmp(h + hl - al, a, al) == 0)
            return true;
    }
    return false;
}

/* ---- email ----------------------------------------------------------------- */

static bool local_char(unsigned char c)
{
    return a_alnum(c) || c == '.' || c == '_' || c == '%' || c == '+' || c == '-';
}

static bool is_freemail(const unsigned char *p, size_t n)
{
    for (size_t i = 0; i < sizeof freemail / sizeof freemail[0]; i++)
        if (ieq_word(p, n, freemail[i]))
            return true;
    return false;
}

/* "[at]", "(at)", "{@}" with optional inner spaces at k[i]: end or 0. */
static size_t bracket_at(const unsigned char *k, size_t n, size_t i)
{
    unsigned char close = k[i] == '[' ? ']' : k[i] == '(' ? ')' : '}';
    size_t q = i + 1;
    if (q < n && k[q] == ' ')
        q++;
    if (q < n && k[q] == '@')
        q++;
    else if (q + 1 < n && (k[q] | 0x20) == 'a' && (k[q + 1] | 0x20) == 't')
        q += 2;
    else
        return 0;
    if (q < n && k[q] == ' ')
        q++;
    if (q >= n || k[q] != close)
        return 0;
    return q + 1;
}

/* An e-mail address around the trigger at k[i] ('@', a bracket, or the
 * space of " at "): where this scanner goes on. */
static size_t h_email(run *r, size_t i)
{
    const unsigned char *k = r->k;
    size_t n = r->kn;
    unsigned char c = k[i];
    size_t at_s, at_e;
    int kind;
    if (c == '@') {
        at_s = i;
        at_e = i + 1;
        kind = 1;
        if (i > 0 && k[i - 1] == ' ' && i + 1 < n && k[i + 1] == ' ') {
            at_s = i - 1;
            at_e = i + 2;
            kind = 2;
        }
    } else if (c == '[' || c == '(' || c == '{') {
        size_t e = bracket_at(k, n, i);
        if (!e)
            return i + 1;
        at_s = (i > 0 && k[i - 1] == ' ') ? i - 1 : i;
        at_e = (e < n && k[e] == ' ') ? e + 1 : e;
        kind = 2;
    } else if (c == ' ' && i + 3 < n && (k[i + 1] | 0x20) == 'a' && (k[i + 2] | 0x20) == 't' &&
               k[i + 3] == ' ') {
        at_s = i;
        at_e = i + 4;
        kind = 3;
    } else {
        return i + 1;
    }
    size_t ls = at_s;
    while (ls > 0 && at_s - ls < 64 && local_char(k[ls - 1]))
        ls--;
    while (ls < at_s && (k[ls] == '.' || k[ls] == '-'))
        ls++;
    bool local_alnum = false;
    for (size_t q = ls; q < at_s; q++)
        if (a_alnum(k[q]))
            local_alnum = true;
    if (!local_alnum || at_e >= n || !a_alnum(k[at_e]))
        return i + 1;
    host h;
    if (parse_host(k, n, at_e, &h) < 2)
        return i + 1;
    const unsigned char *t = k + h.tld_s;
    size_t tl = h.tld_e - h.tld_s;
    bool ok;
    if (kind == 1 && !h.obf)
        ok = tl >= 2 && all_alpha(t, tl);
    else
        ok = obf_tld_ok(k, &h);
    if (ok && kind == 3 && !h.obf)
        ok = is_freemail(k + h.first_s, h.first_e - h.first_s);
    if (!ok)
        return i + 1;
    push_k(r, RP_CHECK_EMAIL, ls, h.e);
    scratch *sc = r->sc;
    if (sc->nespan < ESPAN_MAX) {
        sc->espan[sc->nespan][0] = (uint32_t)ls;
        sc->espan[sc->nespan][1] = (uint32_t)h.e;
        sc->nespan++;
    }
    return h.e;
}

/* ---- links ----------------------------------------------------------------- */

static bool url_char(unsigned char c)
{
    return c > ' ' && c < 0x7F && !strchr("<>\"'`[]{}|\\^", c);
}

static size_t url_end(const unsigned char *k, size_t n, size_t p)
{
    while (p < n && url_char(k[p]))
        p++;
    while (p > 0 && strchr(".,;:!?)]}", k[p - 1]))
        p--;
    return p;
}

static bool in_email(const run *r, size_t i)
{
    const scratch *sc = r->sc;
    for (size_t s = 0; s < sc->nespan; s++)
        if (sc->espan[s][0] <= i && i < sc->espan[s][1])
            return true;
    return false;
}

/* A link around the trigger at k[i] ('.', ':', or the start of an obfuscated
 * dot); `from` is where this scanner may start. Returns where it goes on. */
static size_t h_link(run *r, size_t i, size_t from)
{
    const unsigned char *k = r->k;
    size_t n = r->kn;
    unsigned char t = k[i];
    if (t == '.') {
        if (!(i > 0 && i + 1 < n && a_alnum(k[i + 1]) && a_alnum(k[i - 1])))
            return i + 1;
    } else if (t == ':') {
        if (!(i + 2 < n && k[i + 1] == '/' && k[i + 2] == '/' && i > 0 && a_alnum(k[i - 1])))
            return i + 1;
    } else {
        /* obfuscated dot: "[.]", "(dot)", " dot ", " punkt ", ... */
        unsigned w;
        size_t j = (t != ' ' && i > 0 && k[i - 1] == ' ') ? i - 1 : i;
        if (!(j > 0 && a_alnum(k[j - 1])))
            return i + 1;
        size_t q = obf_dot(k, n, j, &w);
        if (!q || q >= n || !a_alnum(k[q]))
            return i + 1;
        i = j;
    }
    /* back to the start of the token */
    size_t s = i;
    while (s > from && (a_alnum(k[s - 1]) || k[s - 1] == '-' || k[s - 1] == '.' ||
                        (t == ':' && k[s - 1] == '+')))
        s--;
    while (s < i && !a_alnum(k[s]))
        s++;
    if (s == i || (s > 0 && k[s - 1] == '_') || in_email(r, s)) {
        size_t e = i + 1;
        while (e < n && (a_alnum(k[e]) || k[e] == '.' || k[e] == '-'))
            e++;
        return e;
    }
    if (t == ':') {
        size_t hs = i + 3, e = url_end(k, n, hs);
        if (e <= hs)
            return hs;
        size_t he = hs;
        while (he < e && k[he] != '/' && k[he] != '?' && k[he] != '#')
            he++;
        size_t h0 = hs;
        for (size_t q = hs; q < he; q++)
            if (k[q] == '@')
                h0 = q + 1;
        size_t h1 = he;
        for (size_t q = h0; q < he; q++)
            if (k[q] == ':') {
                h1 = q;
                break;
            }
        char name[HOST_MAX];
        bool allowed = false;
        if (h1 - h0 < HOST_MAX) {
            for (size_t q = h0; q < h1; q++)
                name[q - h0] = (char)a_lower(k[q]);
            allowed = domain_allowed(r->c, name, h1 - h0);
        }
        if (!allowed)
            push_k(r, RP_CHECK_LINK, s, e);
        return e;
    }
    host h;
    parse_host(k, n, s, &h);
    bool link = false;
    if (h.nlabels >= 2 && !(h.e < n && k[h.e] == '@')) {
        const unsigned char *tl_p = k + h.tld_s;
        size_t tl = h.tld_e - h.tld_s;
        if (h.obf) {
            link = obf_tld_ok(k, &h) && has_alpha(k + h.sld_s, h.sld_e - h.sld_s);
        } else if (ieq_word(k + h.first_s, h.first_e - h.first_s, "www")) {
            link = all_alpha(tl_p, tl);
        } else {
            bool lower = true, upper = true;
            for (size_t q = 0; q < tl; q++) {
                if (tl_p[q] >= 'A' && tl_p[q] <= 'Z')
                    lower = false;
                else
                    upper = false;
            }
            link = (lower || upper) && tld_known(tl_p, tl) &&
                   has_alpha(k + h.sld_s, h.sld_e - h.sld_s);
        }
    }
    size_t e = h.e > i ? h.e : i + 1;
    if (link) {
        if (!h.obf && e < n &&
            (k[e] == '/' || k[e] == '?' || k[e] == '#' ||
             (k[e] == ':' && e + 1 < n && a_digit(k[e + 1]))))
            e = url_end(k, n, e);
        if (e < h.e)
            e = h.e;
        if (!domain_allowed(r->c, h.name, strlen(h.name)))
            push_k(r, RP_CHECK_LINK, s, e);
    }
    return e;
}

/* ---- phone ----------------------------------------------------------------- */

#define GROUPS_MAX 24

typedef struct numrun {
    size_t s, e;
    bool plus;
    bool paren_first; /* the first group was in parentheses */
    unsigned ng, digits;
    uint8_t glen[GROUPS_MAX];
    uint32_t gs[GROUPS_MAX], ge[GROUPS_MAX]; /* group extents, parentheses included */
    char sep[GROUPS_MAX];    /* separator after group i: ' ', '-', '.', '/' */
    bool spaced[GROUPS_MAX]; /* ... written with spaces around it: " / ", " - " */
    bool paren[GROUPS_MAX];
    bool mixed;              /* separators differ */
    unsigned char first[2];  /* first two digits */
} numrun;

/* A space between digit groups: ' ', or a no-break, narrow, figure or
 * ideographic space. Its length in bytes, or 0. */
static size_t space_len(const unsigned char *k, size_t n, size_t p)
{
    if (p >= n)
        return 0;
    if (k[p] == ' ')
        return 1;
    if (p + 1 < n && k[p] == 0xC2 && k[p + 1] == 0xA0)
        return 2;
    if (p + 2 < n && ((k[p] == 0xE2 && k[p + 1] == 0x80 && (k[p + 2] == 0xAF || k[p + 2] == 0x87)) ||
                      (k[p] == 0xE3 && k[p + 1] == 0x80 && k[p + 2] == 0x80)))
        return 3;
    return 0;
}

/* A separator between digit groups at k[p]: its end, or 0; *ch its kind. */
static size_t num_sep(const unsigned char *k, size_t n, size_t p, char *ch, bool *spaced)
{
    size_t q = p;
    *ch = 0;
    bool pre = false;
    *spaced = false;
    size_t sl = space_len(k, n, q);
    if (sl) {
        q += sl;
        *ch = ' ';
        pre = true;
    }
    bool mark = false;
    if (q < n && (k[q] == '-' || k[q] == '.' || k[q] == '/')) {
        *ch = (char)k[q];
        q++;
        mark = true;
    } else if (q + 2 < n && k[q] == 0xE2 && k[q + 1] == 0x80 &&
               (k[q + 2] == 0x93 || k[q + 2] == 0x90 || k[q + 2] == 0x91)) {
        *ch = '-';
        q += 3;
        mark = true;
    }
    if (mark && (sl = space_len(k, n, q)) != 0) {
        q += sl;
        *spaced = pre;
    }
    return *ch ? q : 0;
}

/* Reads a number-like run from k[i] (digit, '+' or '('). */
static size_t read_numrun(const unsigned char *k, size_t n, size_t i, numrun *nr)
{
    memset(nr, 0, sizeof *nr);
    nr->s = i;
    size_t p = i;
    if (k[p] == '+') {
        nr->plus = true;
        p++;
    }
    char prev_sep = 0;
    for (;;) {
        bool paren = false;
        size_t g = p;
        if (p < n && k[p] == '(') {
            paren = true;
            p++;
        }
        size_t d = p;
        while (p < n && a_digit(k[p]) && p - d < 20)
            p++;
        if (p == d || (paren && !(p < n && k[p] == ')'))) {
            p = g;
            break;
        }
        if (paren)
            p++;
        unsigned gi = nr->ng++;
        nr->glen[gi] = (uint8_t)(p - d - (paren ? 1 : 0));
        nr->gs[gi] = (uint32_t)(gi == 0 ? i : g);
        nr->ge[gi] = (uint32_t)p;
        nr->paren[gi] = paren;
        if (nr->digits == 0) {
            nr->first[0] = k[d];
            nr->first[1] = nr->glen[gi] > 1 ? k[d + 1] : 0;
        } else if (nr->digits == 1) {
            nr->first[1] = k[d];
        }
        if (paren && gi == 0)
            nr->paren_first = true;
        nr->digits += nr->glen[gi];
        nr->e = p;
        if (nr->ng == GROUPS_MAX)
            break;
        char ch;
        bool spaced;
        size_t q = num_sep(k, n, p, &ch, &spaced);
        if (paren && !q && p < n && (a_digit(k[p]) || k[p] == '(')) {
            q = p; /* "(0)30" */
            ch = ' ';
        }
        if (!q || q >= n || !(a_digit(k[q]) || (k[q] == '(' && q + 1 < n && a_digit(k[q + 1])) ||
                              (spaced && k[q] == '+' && q + 1 < n && a_digit(k[q + 1]))))
            break;
        nr->sep[gi] = ch;
        nr->spaced[gi] = spaced;
        if (prev_sep && ch != prev_sep && !spaced)
            nr->mixed = true;
        if (!spaced)
            prev_sep = ch;
        p = q;
    }
    return nr->e;
}

/* Groups [a, b) of nr as a run of their own. */
static void sub_run(const unsigned char *k, const numrun *nr, unsigned a, unsigned b, numrun *out)
{
    memset(out, 0, sizeof *out);
    out->s = nr->gs[a];
    out->e = nr->ge[b - 1];
    out->plus = k[out->s] == '+';
    out->paren_first = nr->paren[a];
    char prev = 0;
    for (unsigned g = a; g < b; g++) {
        unsigned j = out->ng++;
        out->glen[j] = nr->glen[g];
        out->gs[j] = nr->gs[g];
        out->ge[j] = nr->ge[g];
        out->paren[j] = nr->paren[g];
        out->sep[j] = g + 1 < b ? nr->sep[g] : 0;
        if (g + 1 < b) {
            if (prev && nr->sep[g] != prev)
                out->mixed = true;
            prev = nr->sep[g];
        }
        out->digits += nr->glen[g];
    }
    size_t d = out->s;
    while (!a_digit(k[d]))
        d++;
    out->first[0] = k[d];
    out->first[1] = a_digit(k[d + 1]) ? k[d + 1] : 0;
    if (!out->first[1]) {
        size_t q = d + 1;
        while (q < out->e && !a_digit(k[q]))
            q++;
        out->first[1] = q < out->e ? k[q] : 0;
    }
}

static bool shape(const numrun *nr, unsigned ng, const uint8_t *lens)
{
    if (nr->ng != ng)
        return false;
    for (unsigned i = 0; i < ng; i++)
        if (nr->glen[i] != lens[i])
            return false;
    return true;
}

static bool is_date(const numrun *nr)
{
    if (nr->ng != 3 || nr->mixed || nr->plus)
        return false;
    char s = nr->sep[0];
    if (s != '.' && s != '/' && s != '-')
        return false;
    unsigned a = nr->glen[0], b = nr->glen[1], c = nr->glen[2];
    return (a <= 2 && b <= 2 && (c == 2 || c == 4)) || (a == 4 && b <= 2 && c <= 2);
}

typedef enum { PH_NO, PH_WEAK, PH_STRONG } ph_kind;

static ph_kind classify_number(const numrun *nr)
{
    unsigned D = nr->digits;
    if (D < 7 || D > 15)
        return PH_NO;
    static const uint8_t order_id[] = {3, 7, 7};
    if (shape(nr, 3, order_id) || is_date(nr))
        return PH_NO;
    if (nr->plus)
        return D >= 8 ? PH_STRONG : PH_NO;
    unsigned char f0 = nr->first[0], f1 = nr->first[1];
    if (f0 == '0' && f1 == '0') /* 0049 30 1234567 */
        return nr->ng >= 2 && D >= 11 ? PH_STRONG : PH_WEAK;
    if (nr->ng >= 2 && f0 == '0' && nr->glen[0] >= 2 && nr->glen[0] <= 5 && D >= 9 && D <= 12) {
        bool blocks4 = nr->ng >= 3;
        for (unsigned i = 0; i < nr->ng && blocks4; i++)
            if (nr->glen[i] != 4)
                blocks4 = false;
        bool zip4 = nr->ng == 2 && nr->glen[0] == 5 && nr->glen[1] == 4 && nr->sep[0] == '-';
        if (!blocks4 && !zip4)
            return PH_STRONG;
        return PH_WEAK;
    }
    static const uint8_t nanp[] = {3, 3, 4}, nanp1[] = {1, 3, 3, 4};
    if (shape(nr, 3, nanp) && f0 >= '2' && (nr->paren_first || nr->sep[0] != '.' || !nr->mixed))
        return PH_STRONG;
    if (shape(nr, 4, nanp1) && f0 == '1')
        return PH_STRONG;
    static const uint8_t es3[] = {3, 3, 3}, es4[] = {3, 2, 2, 2}, es5[] = {2, 3, 2, 2};
    if ((shape(nr, 3, es3) || shape(nr, 4, es4)) && f0 >= '6' && !nr->mixed && nr->sep[0] != '.')
        return PH_STRONG;
    if (shape(nr, 4, es5) && f0 >= '8' && !nr->mixed && nr->sep[0] != '.')
        return PH_STRONG;
    return D <= 13 ? PH_WEAK : PH_NO;
}

/* A phone context word ("Tel.", "Telefon", "電話") within the few bytes
 * before s on the same line. */
static bool phone_context(const run *r, size_t s)
{
    const unsigned char *k = r->k;
    size_t from = s > 40 ? s - 40 : 0;
    for (size_t q = s; q > from; q--)
        if (k[q - 1] == '\n' || k[q - 1] == '?' || k[q - 1] == '!' ||
            (q >= 3 && k[q - 3] == 0xE3 && k[q - 2] == 0x80 && k[q - 1] == 0x82)) {
            from = q;
            break;
        }
    for (size_t p = from; p < s; p++) {
        bool word_start = p == 0 || (k[p - 1] < 0x80 ? !a_alnum(k[p - 1])
                                                     : rp_script_of(cp_before(k, p)) != RP_SCRIPT_LATIN);
        for (size_t w = 0; w < r->c->nctxw; w++) {
            const char *cw = r->c->ctxw[w];
            bool ascii = (unsigned char)cw[0] < 0x80;
            if (ascii && !word_start)
                continue;
            if (ieq(k + p, s - p, cw, strlen(cw)))
                return true;
        }
    }
    return false;
}

static bool money_near(const unsigned char *k, size_t n, size_t s, size_t e)
{
    size_t p = s;
    if (p > 0 && k[p - 1] == ' ')
        p--;
    if (p > 0 && (k[p - 1] == '$' || k[p - 1] == '#'))
        return true;
    if (p >= 2 && ((k[p - 2] == 0xC2 && (k[p - 1] == 0xA3 || k[p - 1] == 0xA5))))
        return true; /* £ ¥ */
    if (p >= 3 && k[p - 3] == 0xE2 && k[p - 2] == 0x82 && k[p - 1] == 0xAC)
        return true; /* € */
    if (p >= 3 && k[p - 3] == 0xE3 && k[p - 2] == 0x80 && k[p - 1] == 0x92)
        return true; /* 〒 postcode mark */
    size_t q = e;
    if (q < n && k[q] == ' ')
        q++;
    if (q < n && k[q] == '%')
        return true;
    if (q + 2 < n && k[q] == 0xE2 && k[q + 1] == 0x82 && k[q + 2] == 0xAC)
        return true;
    if (q + 2 < n && k[q] == 0xE5 && k[q + 1] == 0x86 && k[q + 2] == 0x86)
        return true; /* 円 */
    if (q + 2 < n && (ieq(k + q, n - q, "eur", 3) || ieq(k + q, n - q, "usd", 3) ||
                      ieq(k + q, n - q, "jpy", 3)))
        return true;
    return false;
}

/* A phone number starting at k[i] (digit, '+' or '('): where to go on. */
static size_t h_phone(run *r, size_t i)
{
    const unsigned char *k = r->k;
    size_t n = r->kn;
    unsigned char c = k[i];
    if ((c == '+' || c == '(') && !(i + 1 < n && a_digit(k[i + 1])))
        return i + 1;
    /* part of a longer token: "RE-2024-0012", "1Z999AA1...", "DE89 3704..." */
    if (i > 0 && (a_alnum(k[i - 1]) ||
                  ((k[i - 1] == '-' || k[i - 1] == '_' || k[i - 1] == '/' || k[i - 1] == '#') &&
                   i > 1 && a_alnum(k[i - 2])))) {
        while (i < n && (a_alnum(k[i]) || k[i] == '-' || k[i] == '.' || k[i] == '/'))
            i++;
        return i;
    }
    numrun nr;
    size_t e = read_numrun(k, n, i, &nr);
    if (e <= i)
        return i + 1;
    if (e < n && a_alpha(k[e])) { /* "12345abc" */
        while (e < n && a_alnum(k[e]))
            e++;
        return e;
    }
    ph_kind kind = classify_number(&nr);
    bool split = false;
    for (unsigned g = 0; g + 1 < nr.ng; g++)
        split |= nr.spaced[g];
    if (kind == PH_NO && split) {
        /* "030 1234567 / 0171 1234567": each side on its own */
        unsigned a = 0;
        for (unsigned g = 0; g < nr.ng; g++) {
            if (g + 1 < nr.ng && !nr.spaced[g])
                continue;
            numrun sub;
            sub_run(k, &nr, a, g + 1, &sub);
            ph_kind sk = classify_number(&sub);
            if (sk != PH_NO && money_near(k, n, sub.s, sub.e))
                sk = PH_NO;
            if (sk == PH_WEAK && !phone_context(r, sub.s))
                sk = PH_NO;
            if (sk != PH_NO)
                push_k(r, RP_CHECK_PHONE, sub.s, sub.e);
            a = g + 1;
        }
        return e;
    }
    if (kind != PH_NO && money_near(k, n, i, e))
        kind = PH_NO;
    if (kind == PH_WEAK && !phone_context(r, i))
        kind = PH_NO;
    if (kind != PH_NO)
        push_k(r, RP_CHECK_PHONE, i, e);
    return e;
}

/* ---- LINE and "10% off" ---------------------------------------------------- */

static bool upper_word_at(const unsigned char *k, size_t s, size_t e)
{
    if (e - s < 2)
        return false;
    for (size_t i = s; i < e; i++)
        if (!(k[i] >= 'A' && k[i] <= 'Z'))
            return false;
    return true;
}

/* "LINE" as the messenger: upper case, not inside text written in capitals,
 * or directly followed by "ID", "@" or Japanese. */
static size_t h_line(run *r, size_t i)
{
    const unsigned char *k = r->k;
    size_t n = r->kn;
    if (!(i + 4 <= n && memcmp(k + i, "LINE", 4) == 0))
        return i + 1;
    if (i > 0 && (a_alnum(k[i - 1]) || k[i - 1] == '@'))
        return i + 1;
    size_t e = i + 4;
    if (e < n && a_alnum(k[e]))
        return e;
    size_t q = e;
    if (q < n && k[q] == ' ')
        q++;
    bool flag = false;
    if (q + 1 < n && (k[q] | 0x20) == 'i' && (k[q + 1] | 0x20) == 'd' &&
        !(q + 2 < n && a_alpha(k[q + 2]))) {
        flag = true;
        e = q + 2;
    } else if (q < n && k[q] == '@') {
        flag = true;
    } else if (e < n && k[e] >= 0x80 && cp_kind(cp_at(k, n, e, NULL)) != K_WORD) {
        flag = true;
    } else if (i > 0 && k[i - 1] >= 0x80 && cp_kind(cp_before(k, i)) != K_WORD) {
        flag = true;
    } else if (q < n && a_digit(k[q])) {
        flag = false; /* "LINE 2" */
    } else {
        /* neighbouring words in capitals: a heading or shouting */
        size_t pe = i;
        while (pe > 0 && (k[pe - 1] == ' ' || k[pe - 1] == ':' || k[pe - 1] == '-'))
            pe--;
        size_t ps = pe;
        while (ps > 0 && a_alpha(k[ps - 1]))
            ps--;
        size_t ns = e;
        while (ns < n && (k[ns] == ' ' || k[ns] == ':' || k[ns] == '-'))
            ns++;
        size_t ne = ns;
        while (ne < n && a_alpha(k[ne]))
            ne++;
        flag = !upper_word_at(k, ps, pe) && !upper_word_at(k, ns, ne);
    }
    if (flag)
        push_k(r, RP_CHECK_OFF_PLATFORM, i, e);
    return e;
}

static const char *const pct_words[] = {"off", "rabatt", "discount", "de reduction",
                                        "de réduction", "de remise", "di sconto",
                                        "de descuento", "sconto", "descuento", "remise",
                                        "\xe3\x82\xaa\xe3\x83\x95", /* オフ */
                                        "\xe5\x89\xb2\xe5\xbc\x95", /* 割引 */
                                        "\xe5\xbc\x95\xe3\x81\x8d" /* 引き */};

/* "10% off", "20 % Rabatt", "10%OFF" around the '%' at k[i]. */
static size_t h_pct(run *r, size_t i)
{
    const unsigned char *k = r->k;
    size_t n = r->kn;
    size_t s = i;
    if (s > 0 && k[s - 1] == ' ')
        s--;
    if (!(s > 0 && a_digit(k[s - 1])))
        return i + 1;
    while (s > 0 && a_digit(k[s - 1]))
        s--;
    size_t q = i + 1;
    if (q < n && k[q] == ' ')
        q++;
    for (size_t w = 0; w < sizeof pct_words / sizeof pct_words[0]; w++) {
        size_t l = strlen(pct_words[w]);
        if (ieq(k + q, n - q, pct_words[w], l) && !(q + l < n && a_alpha(k[q + l]))) {
            push_k(r, RP_CHECK_MARKETING, s, q + l);
            return q + l;
        }
    }
    return i + 1;
}

/* ---- emoji ----------------------------------------------------------------- */

static bool emoji_presentation_2600(int32_t cp)
{
    switch (cp) {
    case 0x2614: case 0x2615: case 0x267F: case 0x2693: case 0x26A1: case 0x26AA: case 0x26AB:
    case 0x26BD: case 0x26BE: case 0x26C4: case 0x26C5: case 0x26CE: case 0x26D4: case 0x26EA:
    case 0x26F2: case 0x26F3: case 0x26F5: case 0x26FA: case 0x26FD: case 0x2705: case 0x270A:
    case 0x270B: case 0x2728: case 0x274C: case 0x274E: case 0x2757: case 0x27B0: case 0x27BF:
    /* hearts and faces that show as emoji even without U+FE0F */
    case 0x2764: case 0x263A: case 0x2639:
        return true;
    default:
        return (cp >= 0x2648 && cp <= 0x2653) || (cp >= 0x2753 && cp <= 0x2755) ||
               (cp >= 0x2795 && cp <= 0x2797);
    }
}

static bool emoji_base(int32_t cp)
{
    if (cp >= 0x1F000 && cp <= 0x1FAFF)
        return !(cp >= 0x1F100 && cp <= 0x1F16F); /* enclosed letters and digits are text */
    if (cp >= 0x2600 && cp <= 0x27BF)
        return emoji_presentation_2600(cp);
    switch (cp) {
    case 0x231A: case 0x231B: case 0x23E9: case 0x23EA: case 0x23EB: case 0x23EC: case 0x23F0:
    case 0x23F3: case 0x25FD: case 0x25FE: case 0x2B1B: case 0x2B1C: case 0x2B50: case 0x2B55:
        return true;
    default:
        return false;
    }
}

/* An emoji (sequence) starting at k[i]: where to go on. Works on the
 * skeleton, which keeps every non-ASCII character but full-width ASCII. */
static size_t h_emoji(run *r, size_t i)
{
    const unsigned char *k = r->k;
    size_t n = r->kn;
    size_t l;
    int32_t cp = cp_at(k, n, i, &l);
    size_t j = i + l;
    size_t l2 = 0;
    int32_t next = j < n ? cp_at(k, n, j, &l2) : -1;
    bool emo;
    if (cp < 0x80) { /* keycap: 1️⃣ */
        size_t l3 = 0;
        int32_t n3 = (next == 0xFE0F && j + l2 < n) ? cp_at(k, n, j + l2, &l3) : -1;
        emo = next == 0x20E3 || n3 == 0x20E3;
    } else if (cp == 0xFE0F) {
        /* emoji presentation of whatever precedes: ©️ ™️ 〽️ */
        int32_t b = cp_before(k, i);
        if (b < 0x80 && !(b == '#' || b == '*' || a_digit((unsigned)b)))
            return j;
        emo = true;
        char enc[4];
        i -= rp_utf8_encode(b, enc);
    } else {
        emo = emoji_base(cp) || next == 0xFE0F;
        if (cp == 0x200D)
            emo = false;
    }
    if (!emo)
        return j;
    bool ri = cp >= 0x1F1E6 && cp <= 0x1F1FF;
    while (j < n) {
        size_t m;
        int32_t x = cp_at(k, n, j, &m);
        if (x == 0xFE0F || x == 0xFE0E || x == 0x20E3 || (x >= 0x1F3FB && x <= 0x1F3FF) ||
            (x >= 0xE0020 && x <= 0xE007F)) {
            j += m;
        } else if (x == 0x200D && j + m < n) {
            size_t m2;
            int32_t y = cp_at(k, n, j + m, &m2);
            if (y < 0x80)
                break;
            j += m + m2;
        } else if (ri && x >= 0x1F1E6 && x <= 0x1F1FF) {
            j += m;
            ri = false;
        } else {
            break;
        }
    }
    push_k(r, RP_CHECK_EMOJI, i, j);
    return j;
}

/* Face characters of Japanese kaomoji (the middle dot only counts beside
 * others: "（色・サイズ）" is text). */
static int face_char(int32_t cp)
{
    switch (cp) {
    case 0xB4: case '`': case 0x2200: case 0x25BD: case 0x3C9: case 0x2267: case 0x2266:
    case 0x25D5: case 0x203F: case 0xFF9F: case 0x309C: case 0x2207: case 0x2312: case 0x414:
    case 0x3B5:
        return 2;
    case 0x30FB: case 0xFF65:
        return 1;
    default:
        return 0;
    }
}

static const char *const kao_inner[] = {
    "\xe7\xac\x91", /* 笑 */ "\xe6\xb1\x97", /* 汗 */ "\xe6\xb3\xa3", /* 泣 */
    "\xe6\xb6\x99", /* 涙 */ "T_T", "T.T", ";_;", ">_<", "-_-", "._.", "_ _", "*_*"};

/* (^^) (^_^) (´・ω・`) (笑) ... at k[i] == '(': end or 0. */
static size_t kaomoji(const unsigned char *k, size_t n, size_t i)
{
    size_t q = i + 1, cps = 0, strong = 0, dots = 0, carets = 0, letters = 0, cjk = 0, marks = 0;
    for (; q < n && q - i < 64; cps++) {
        if (k[q] == ')')
            break;
        if (k[q] == '\n' || k[q] == '(')
            return 0;
        size_t l;
        int32_t cp = cp_at(k, n, q, &l);
        int f = face_char(cp);
        if (cp == '^')
            carets++;
        else if (f == 2)
            strong++;
        else if (f == 1)
            dots++;
        else if (cp >= 0 && cp < 0x80 && a_alpha((unsigned)cp))
            letters++;
        else if (cp == '_' || cp == ';')
            marks++;
        else if (cp >= 0x80 && cp_kind(cp) != K_WORD)
            cjk++;
        q += l;
    }
    if (q >= n || k[q] != ')' || cps == 0 || cps > 16)
        return 0;
    for (size_t t = 0; t < sizeof kao_inner / sizeof kao_inner[0]; t++)
        if (ieq_word(k + i + 1, q - i - 1, kao_inner[t]))
            return q + 1;
    if (letters > 2 || cjk > 1)
        return 0;
    if (strong >= 1 || carets >= 2 || (dots >= 2 && marks >= 1))
        return q + 1;
    return 0;
}

/* ASCII emoticons and kaomoji at k[i]: where to go on. */
static size_t h_emoticon(run *r, size_t i)
{
    const unsigned char *k = r->k;
    size_t n = r->kn;
    unsigned char c = k[i];
    size_t e = 0;
    if (c == ':' || c == ';' || c == '=') {
        unsigned char p = i > 0 ? k[i - 1] : ' ';
        bool pre_ok = a_space(p) || a_alpha(p) || p >= 0x80 || p == '.' || p == '!' || p == '?' ||
                      p == ',';
        if (!pre_ok)
            return i + 1;
        size_t j = i + 1;
        if (j < n && (k[j] == '-' || k[j] == '\'') )
            j++;
        if (j >= n)
            return i + 1;
        unsigned char m = k[j];
        bool mouth = m == ')' || m == '(' || m == 'D' || m == 'P' || m == 'p';
        if (c == ':' && (m == ']' || m == '['))
            mouth = true;
        if (c == '=' && !(m == ')' || m == '(' || m == 'D'))
            mouth = false;
        if (!mouth || (j + 1 < n && a_alnum(k[j + 1])))
            return i + 1;
        e = j + 1;
    } else if (c == '<') {
        bool pre = i == 0 || a_space(k[i - 1]);
        bool post = i + 2 >= n || !(a_alnum(k[i + 2]) || k[i + 2] == '.' || k[i + 2] == ',');
        if (i + 1 < n && k[i + 1] == '3' && pre && post)
            e = i + 2;
    } else if (c == '^') {
        size_t j = i + 1;
        if (j < n && (k[j] == '_' || k[j] == '-' || k[j] == '.' || k[j] == 'o' || k[j] == ' '))
            j++;
        if (j < n && k[j] == '^')
            e = j + 1;
    } else if (c == '(') {
        e = kaomoji(k, n, i);
    }
    if (e > i) {
        push_k(r, RP_CHECK_EMOJI, i, e);
        return e;
    }
    return i + 1;
}

enum { T_PLAIN = 1, T_LINK = 2, T_PHONE = 4, T_LINE = 8, T_PCT = 16, T_EMOTICON = 32,
       T_EMOJI = 64, T_EMAIL = 128 };

/* Which scanners a byte of the skeleton wakes. */
static const uint8_t trig[256] = {
    ['\n'] = T_PLAIN, ['<'] = T_PLAIN | T_EMOTICON, ['&'] = T_PLAIN, ['!'] = T_PLAIN,
    ['['] = T_PLAIN | T_LINK | T_EMAIL, ['*'] = T_PLAIN | T_EMOJI, ['_'] = T_PLAIN,
    ['`'] = T_PLAIN, ['.'] = T_LINK, [':'] = T_LINK | T_EMOTICON,
    ['('] = T_LINK | T_PHONE | T_EMOTICON | T_EMAIL, ['{'] = T_LINK | T_EMAIL, ['@'] = T_EMAIL,
    ['+'] = T_PHONE, ['#'] = T_EMOJI, ['L'] = T_LINE,
    ['%'] = T_PCT, [';'] = T_EMOTICON, ['='] = T_EMOTICON, ['^'] = T_EMOTICON,
    ['0'] = T_PHONE | T_EMOJI, ['1'] = T_PHONE | T_EMOJI, ['2'] = T_PHONE | T_EMOJI,
    ['3'] = T_PHONE | T_EMOJI, ['4'] = T_PHONE | T_EMOJI, ['5'] = T_PHONE | T_EMOJI,
    ['6'] = T_PHONE | T_EMOJI, ['7'] = T_PHONE | T_EMOJI, ['8'] = T_PHONE | T_EMOJI,
    ['9'] = T_PHONE | T_EMOJI, [0xE2] = T_EMOJI, [0xEF] = T_EMOJI, [0xF0] = T_EMOJI};

/* What a space wakes, by the byte after it: " at ", " dot ", " [.] ". */
static const uint8_t trig_space[256] = {
    ['a'] = T_EMAIL, ['A'] = T_EMAIL, ['d'] = T_LINK, ['D'] = T_LINK, ['p'] = T_LINK,
    ['P'] = T_LINK, ['['] = T_LINK, ['('] = T_LINK, ['{'] = T_LINK};

/* Every shape scanner in one pass: each byte wakes the scanners that care
 * about it, and each scanner skips what it has already consumed. */
static void scan_shapes(run *r)
{
    const unsigned char *k = r->k;
    size_t n = r->kn;
    size_t nx_plain = 0, nx_link = 0, nx_phone = 0, nx_line = 0, nx_pct = 0, nx_emo = 0,
           nx_emoji = 0, nx_email = 0;
    bool phone = !r->c->allow_phone;
    r->sc->nespan = 0;
    h_line_start(r, 0);
    for (size_t i = 0; i < n; i++) {
        /* k[n] is the terminating NUL, so k[i + 1] can always be read */
        uint8_t t = trig[k[i]] | (uint8_t)(trig_space[k[i + 1]] & -(uint8_t)(k[i] == ' '));
        if (!t)
            continue;
        if ((t & T_EMAIL) && i >= nx_email)
            nx_email = h_email(r, i);
        if ((t & T_PLAIN) && i >= nx_plain)
            nx_plain = h_plain(r, i);
        if ((t & T_LINK) && i >= nx_link) {
            size_t from = nx_link;
            nx_link = h_link(r, i, from);
        }
        if ((t & T_PHONE) && phone && i >= nx_phone)
            nx_phone = h_phone(r, i);
        if ((t & T_LINE) && i >= nx_line)
            nx_line = h_line(r, i);
        if ((t & T_PCT) && i >= nx_pct)
            nx_pct = h_pct(r, i);
        if ((t & T_EMOTICON) && i >= nx_emo)
            nx_emo = h_emoticon(r, i);
        if ((t & T_EMOJI) && i >= nx_emoji)
            nx_emoji = h_emoji(r, i);
    }
}

/* ---- phrases --------------------------------------------------------------- */

typedef struct hscan {
    run *r;
    const char *f;
    size_t fn;
} hscan;

static int f_kind_before(const char *f, size_t s)
{
    if (s == 0)
        return -1;
    unsigned char b = (unsigned char)f[s - 1];
    if (b == ' ' || b == '\n')
        return -1;
    return cp_kind(cp_before((const unsigned char *)f, s));
}

static int f_kind_at(const char *f, size_t fn, size_t e)
{
    if (e >= fn)
        return -1;
    unsigned char b = (unsigned char)f[e];
    if (b == ' ' || b == '\n')
        return -1;
    return cp_kind(cp_at((const unsigned char *)f, fn, e, NULL));
}

/* Does a phrase that starts (ends) with kind `pk` stop at a neighbour of kind
 * `nk` (-1: separator or text edge)? */
static bool boundary_ok(int pk, int nk)
{
    if (nk < 0)
        return true;
    switch (pk) {
    case K_WORD: return nk != K_WORD;
    case K_KATA: return nk != K_KATA;
    default: return true;
    }
}

static int on_hit(void *ud, uint32_t value, size_t start, size_t end)
{
    hscan *h = ud;
    scratch *sc = h->r->sc;
    const phrase *p = &h->r->c->ph[value];
    if (!boundary_ok(p->first, f_kind_before(h->f, start)))
        return 0;
    uint16_t mask = p->prefix;
    if (boundary_ok(p->last, f_kind_at(h->f, h->fn, end)))
        mask |= p->exact;
    if (!mask)
        return 0;
    /* a prefix hit is quoted to the end of its word */
    if (p->last == K_WORD)
        while (end < h->fn && f_kind_at(h->f, h->fn, end) == K_WORD)
            end += (size_t)1 + ((unsigned char)h->f[end] >= 0x80) +
                   ((unsigned char)h->f[end] >= 0xE0) + ((unsigned char)h->f[end] >= 0xF0);
    if (sc->nhits == sc->caphits) {
        if (sc->caphits >= HITS_MAX)
            return 1;
        size_t cap = sc->caphits ? sc->caphits * 2 : 64;
        hit *nh = realloc(sc->hits, cap * sizeof *nh);
        if (!nh) {
            h->r->st = RP_ENOMEM;
            return 1;
        }
        sc->hits = nh;
        sc->caphits = cap;
    }
    sc->hits[sc->nhits++] = (hit){value, (uint32_t)start, (uint32_t)end, mask};
    return 0;
}

static bool joins_mark(int32_t cp)
{
    return (cp >= 0x0300 && cp <= 0x036F) || cp == 0x3099 || cp == 0x309A || cp == 0xFF9E ||
           cp == 0xFF9F || (cp >= 0x1AB0 && cp <= 0x1AFF) || (cp >= 0x1DC0 && cp <= 0x1DFF) ||
           (cp >= 0x20D0 && cp <= 0x20FF) || (cp >= 0xFE20 && cp <= 0xFE2F);
}

/* One unit of the original as the fold sees it: its length and how many
 * bytes of letters and digits it folds to. */
static size_t o_cluster(run *r, size_t i, size_t *content)
{
    const unsigned char *o = r->o;
    size_t n = r->on;
    unsigned char c = o[i];
    size_t j;
    if (c < 0x80) {
        j = i + 1;
        if (!a_alpha(c)) {
            *content = a_digit(c) ? 1 : 0;
            return 1;
        }
    } else {
        size_t l;
        int32_t cp = cp_at(o, n, i, &l);
        if (cp < 0) {
            *content = 0;
            return 1;
        }
        j = i + l;
        bool mark_next = j + 2 < n && o[j] == 0xE3 && o[j + 1] == 0x82 &&
                         (o[j + 2] == 0x99 || o[j + 2] == 0x9A);
        if (!mark_next && l == 3 &&
            ((cp >= 0x3041 && cp <= 0x3096) || (cp >= 0x30A1 && cp <= 0x30FA) ||
             (cp >= 0x4E00 && cp <= 0x9FFF))) {
            *content = 3;
            return 3;
        }
    }
    while (j < n && o[j] >= 0x80) {
        size_t l;
        int32_t cp = cp_at(o, n, j, &l);
        if (!joins_mark(cp))
            break;
        j += l;
    }
    if (c < 0x80 && j == i + 1) {
        *content = 1;
        return 1;
    }
    rp_buf *t = &r->sc->tmp;
    rp_buf_reset(t);
    if (rp_text_fold((const char *)o + i, j - i, t) != RP_OK) {
        r->st = RP_ENOMEM;
        *content = 0;
        return j - i;
    }
    size_t cnt = 0;
    for (size_t q = 0; q < t->len; q++)
        if (t->data[q] != ' ' && t->data[q] != '\n')
            cnt++;
    *content = cnt;
    return j - i;
}

typedef struct omap {
    size_t fpos, fcnt; /* folded text: letters/digits bytes before fpos */
    size_t opos, ocnt; /* original text: the same before opos */
} omap;

static size_t f_content(const char *f, size_t a, size_t b)
{
    size_t c = 0;
    for (size_t i = a; i < b; i++)
        if (f[i] != ' ' && f[i] != '\n')
            c++;
    return c;
}

/* Maps a range of the folded text back to the original. */
static void map_back(run *r, omap *m, const char *f, size_t fs, size_t fe, size_t *os,
                     size_t *oe)
{
    if (fs < m->fpos) {
        m->fpos = 0;
        m->fcnt = 0;
    }
    m->fcnt += f_content(f, m->fpos, fs);
    m->fpos = fs;
    size_t cs = m->fcnt, ce = cs + f_content(f, fs, fe);
    if (cs < m->ocnt) {
        m->opos = 0;
        m->ocnt = 0;
    }
    /* first unit whose letters reach past cs */
    while (m->opos < r->on) {
        size_t k;
        size_t l = o_cluster(r, m->opos, &k);
        if (m->ocnt + k > cs)
            break;
        m->ocnt += k;
        m->opos += l;
    }
    *os = m->opos;
    size_t p = m->opos, cnt = m->ocnt;
    while (p < r->on && cnt < ce) {
        size_t k;
        p += o_cluster(r, p, &k);
        cnt += k;
    }
    *oe = p;
}

static void scan_phrases(run *r)
{
    const rp_compliance *c = r->c;
    scratch *sc = r->sc;
    rp_buf *fb = &r->ctx->fold;
    if (!c->ac)
        return;
    rp_buf_reset(fb);
    if (rp_text_fold((const char *)r->o, r->on, fb) != RP_OK) {
        r->st = RP_ENOMEM;
        return;
    }
    sc->nhits = 0;
    hscan h = {r, fb->data, fb->len};
    rp_ac_scan(c->ac, fb->data, fb->len, on_hit, &h);
    if (r->st != RP_OK || sc->nhits == 0)
        return;
    /* exceptions cancel the hits inside them */
    for (size_t x = 0; x < sc->nhits; x++) {
        const hit *xh = &sc->hits[x];
        if (!(xh->mask & PH_EXCEPT))
            continue;
        /* hits come in order of their end: the ones inside end at or before
         * this one's end and after its start */
        for (size_t i = x + 1; i < sc->nhits && sc->hits[i].e == xh->e; i++)
            if (!(sc->hits[i].mask & PH_EXCEPT) && sc->hits[i].s >= xh->s)
                sc->hits[i].mask = 0;
        for (size_t i = x; i-- > 0 && sc->hits[i].e > xh->s;)
            if (!(sc->hits[i].mask & PH_EXCEPT) && sc->hits[i].s >= xh->s)
                sc->hits[i].mask = 0;
    }
    static const rp_check phrase_checks[] = {RP_CHECK_OFF_PLATFORM, RP_CHECK_REVIEW,
                                             RP_CHECK_MARKETING};
    for (size_t pc = 0; pc < 3; pc++) {
        rp_check chk = phrase_checks[pc];
        uint16_t bit = (uint16_t)(1u << chk);
        omap m = {0, 0, 0, 0};
        bool open = false;
        size_t cs = 0, ce = 0;
        for (size_t i = 0; i <= sc->nhits && r->st == RP_OK; i++) {
            const hit *ht = i < sc->nhits ? &sc->hits[i] : NULL;
            if (ht && !(ht->mask & bit))
                continue;
            if (ht && open && ht->s < ce) {
                if (ht->s < cs)
                    cs = ht->s;
                if (ht->e > ce)
                    ce = ht->e;
                continue;
            }
            if (open) {
                size_t os, oe;
                map_back(r, &m, fb->data, cs, ce, &os, &oe);
                push(r, chk, os, oe);
            }
            if (ht) {
                open = true;
                cs = ht->s;
                ce = ht->e;
            }
        }
    }
}

/* ---- length ---------------------------------------------------------------- */

static bool blank(const char *s, size_t n)
{
    const unsigned char *p = (const unsigned char *)s;
    for (size_t i = 0; i < n;) {
        size_t l;
        int32_t cp = cp_at(p, n, i, &l);
        bool ws = a_space((unsigned)cp) || cp == 0xA0 || cp == 0x3000 || cp == 0x200B ||
                  cp == 0xFEFF || (cp >= 0x2000 && cp <= 0x200A) || cp == 0x202F || cp == 0x205F;
        if (!ws)
            return false;
        i += l;
    }
    return true;
}

/* ---- output ---------------------------------------------------------------- */

/* Copies s[0..n) into out (cap bytes incl. NUL) as valid UTF-8 on one line:
 * invalid bytes become U+FFFD, control characters spaces; cut on a character
 * boundary. */
static void quote(char *out, size_t cap, const char *s, size_t n)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t w = 0;
    for (size_t i = 0; i < n;) {
        size_t l;
        int32_t cp = cp_at(p, n, i, &l);
        char enc[4];
        size_t el;
        if (cp < 0) {
            el = rp_utf8_encode(0xFFFD, enc);
        } else if (cp < 0x20 || cp == 0x7F) {
            enc[0] = ' ';
            el = 1;
        } else {
            memcpy(enc, s + i, l);
            el = l;
        }
        if (w + el > cap - 1)
            break;
        if (!(enc[0] == ' ' && el == 1 && (w == 0 || out[w - 1] == ' '))) {
            memcpy(out + w, enc, el);
            w += el;
        }
        i += l;
    }
    while (w > 0 && out[w - 1] == ' ')
        w--;
    out[w] = '\0';
}

static void emit(rp_findings *out, rp_check chk, const char *text)
{
    if (out->n == RP_MAX_FINDINGS) {
        out->truncated = true;
        return;
    }
    rp_finding *f = &out->items[out->n++];
    f->check = chk;
    f->blocking = true;
    quote(f->text, sizeof f->text, text, strlen(text));
}

/* ---- the check ------------------------------------------------------------- */

static rp_status scan_text(run *r, int src)
{
    r->src = src;
    r->o = (const unsigned char *)r->txt[src];
    r->on = r->len[src];
    if (r->on == 0)
        return RP_OK;
    if (build_skel(r) != RP_OK)
        return RP_ENOMEM;
    scan_shapes(r);
    scan_phrases(r);
    return r->st;
}

rp_status rp_compliance_check(const rp_compliance *c, rp_compliance_ctx *ctx, const char *subject,
                              const char *body, rp_findings *out)
{
    out->n = 0;
    out->truncated = false;
    if (!ctx->scratch) {
        ctx->scratch = calloc(1, sizeof(scratch));
        if (!ctx->scratch)
            return RP_ENOMEM;
        ctx->scratch_cap = sizeof(scratch);
    }
    scratch *sc = ctx->scratch;
    memset(sc->nc, 0, sizeof sc->nc);
    run r = {.c = c, .ctx = ctx, .sc = sc, .st = RP_OK};
    r.txt[0] = subject ? subject : "";
    r.txt[1] = body ? body : "";
    r.len[0] = strlen(r.txt[0]);
    r.len[1] = strlen(r.txt[1]);
    if (r.len[0] > UINT32_MAX - 1 || r.len[1] > UINT32_MAX - 1)
        return RP_ENOMEM;
    for (int src = 0; src < 2; src++) {
        rp_status st = scan_text(&r, src);
        if (st != RP_OK) {
            out->n = 0;
            return st;
        }
    }
    char buf[RP_FINDING_TEXT_MAX];
    for (int chk = 0; chk < RP_CHECK_COUNT; chk++) {
        for (size_t i = 0; i < sc->nc[chk]; i++) {
            const cand *cd = &sc->c[chk][i];
            if (out->n == RP_MAX_FINDINGS) {
                out->truncated = true;
                break;
            }
            rp_finding *f = &out->items[out->n++];
            f->check = (rp_check)chk;
            f->blocking = true;
            quote(f->text, sizeof f->text, r.txt[cd->src] + cd->s, cd->e - cd->s);
            if (!f->text[0])
                snprintf(f->text, sizeof f->text, "(%s)", check_names[chk]);
        }
    }
    /* a text no longer in bytes than the limit is within it in characters */
    size_t sn = r.len[0] > c->max_subject ? rp_utf8_chars(r.txt[0], r.len[0]) : 0;
    size_t bn = r.len[1] > c->max_body ? rp_utf8_chars(r.txt[1], r.len[1]) : 0;
    if (subject && sn > c->max_subject) {
        snprintf(buf, sizeof buf, "subject: %zu characters, limit %zu", sn, c->max_subject);
        emit(out, RP_CHECK_LENGTH, buf);
    }
    if (bn > c->max_body) {
        snprintf(buf, sizeof buf, "body: %zu characters, limit %zu", bn, c->max_body);
        emit(out, RP_CHECK_LENGTH, buf);
    }
    if (blank(r.txt[1], r.len[1]))
        emit(out, RP_CHECK_LENGTH, "body: empty");
    if (r.over)
        out->truncated = true;
    return RP_OK;
}

void rp_compliance_ctx_free(rp_compliance_ctx *ctx)
{
    if (!ctx)
        return;
    scratch *sc = ctx->scratch;
    if (sc) {
        rp_buf_free(&sc->skel);
        rp_buf_free(&sc->tmp);
        free(sc->fw);
        free(sc->hits);
        free(sc);
    }
    rp_buf_free(&ctx->fold);
    memset(ctx, 0, sizeof *ctx);
}

/* ---- building -------------------------------------------------------------- */

typedef struct bld {
    rp_map pats;
    rp_ac_builder *ab;
    rp_compliance *c;
    size_t capph, capctx;
} bld;

static rp_status add_pattern(bld *b, const char *pat, size_t len, uint16_t mask, bool prefix)
{
    uint32_t idx = (uint32_t)b->c->nph;
    bool ins;
    if (rp_map_put(&b->pats, pat, len, &idx, &ins) != RP_OK)
        return RP_ENOMEM;
    if (ins) {
        if (b->c->nph == b->capph) {
            size_t cap = b->capph ? b->capph * 2 : 256;
            phrase *np = realloc(b->c->ph, cap * sizeof *np);
            if (!np)
                return RP_ENOMEM;
            b->c->ph = np;
            b->capph = cap;
        }
        const unsigned char *p = (const unsigned char *)pat;
        phrase *ph = &b->c->ph[b->c->nph++];
        memset(ph, 0, sizeof *ph);
        ph->first = (uint8_t)cp_kind(cp_at(p, len, 0, NULL));
        ph->last = (uint8_t)cp_kind(cp_before(p, len));
        rp_status st = rp_ac_builder_add(b->ab, pat, len, idx);
        if (st != RP_OK)
            return st;
    }
    phrase *ph = &b->c->ph[idx];
    if (prefix)
        ph->prefix |= mask;
    else
        ph->exact |= mask;
    return RP_OK;
}

/* Folds a phrase into its pattern (and its ae/oe/ue form for German). */
static rp_status add_phrase(bld *b, const char *text, uint16_t mask, bool german, rp_error *sub)
{
    size_t len = strlen(text);
    while (len && (text[len - 1] == ' ' || text[len - 1] == '\t'))
        len--;
    bool prefix = len && text[len - 1] == '*';
    if (prefix)
        len--;
    if (!rp_utf8_valid(text, len))
        return rp_error_set(sub, RP_ECONFIG, "phrase is not valid UTF-8");
    rp_buf f = {0}, v = {0};
    rp_status st = rp_text_fold(text, len, &f);
    if (st == RP_OK && german) {
        /* ä ö ü also written ae oe ue */
        for (size_t i = 0; i < len && st == RP_OK; i++) {
            unsigned char c0 = (unsigned char)text[i], c1 = i + 1 < len ? (unsigned char)text[i + 1] : 0;
            const char *rep = NULL;
            if (c0 == 0xC3) {
                switch (c1) {
                case 0xA4: case 0x84: rep = "ae"; break;
                case 0xB6: case 0x96: rep = "oe"; break;
                case 0xBC: case 0x9C: rep = "ue"; break;
                default: break;
                }
            }
            if (rep) {
                st = rp_buf_append_str(&v, rep);
                i++;
            } else {
                st = rp_buf_append_char(&v, (char)c0);
            }
        }
        if (st == RP_OK && v.len) {
            rp_buf vf = {0};
            st = rp_text_fold(v.data, v.len, &vf);
            rp_buf_free(&v);
            v = vf;
        }
    }
    rp_buf *forms[2] = {&f, &v};
    bool any = false;
    for (int fi = 0; fi < 2 && st == RP_OK; fi++) {
        rp_buf *x = forms[fi];
        if (!x->data)
            continue;
        /* clause marks inside a phrase are plain separators */
        size_t w = 0;
        for (size_t r = 0; r < x->len; r++) {
            if (x->data[r] == '\n') {
                r++;
                continue;
            }
            x->data[w++] = x->data[r];
        }
        size_t s = 0;
        while (s < w && x->data[s] == ' ')
            s++;
        while (w > s && x->data[w - 1] == ' ')
            w--;
        if (w == s)
            continue;
        if (fi == 1 && w - s == f.len && memcmp(x->data + s, f.data, w - s) == 0)
            continue;
        st = add_pattern(b, x->data + s, w - s, mask, prefix);
        if (fi == 0) {
            /* keep the trimmed primary form for the comparison above */
            memmove(f.data, f.data + s, w - s);
            f.len = w - s;
        }
        any = true;
    }
    rp_buf_free(&f);
    rp_buf_free(&v);
    if (st == RP_ENOMEM)
        return rp_error_set(sub, RP_ENOMEM, "out of memory");
    if (st != RP_OK)
        return rp_error_set(sub, RP_ECONFIG, "phrase \"%s\": %s", text, rp_strerror(st));
    if (!any)
        return rp_error_set(sub, RP_ECONFIG, "phrase \"%s\" has no letters or digits", text);
    return RP_OK;
}

static rp_status add_ctxword(bld *b, const char *w, rp_error *sub)
{
    size_t len = strlen(w);
    if (len == 0 || len > 40 || !rp_utf8_valid(w, len))
        return rp_error_set(sub, RP_ECONFIG, "phone context word must be 1 to 40 bytes of UTF-8");
    rp_compliance *c = b->c;
    if (c->nctxw == b->capctx) {
        size_t cap = b->capctx ? b->capctx * 2 : 32;
        char **nw = realloc(c->ctxw, cap * sizeof *nw);
        if (!nw)
            return rp_error_set(sub, RP_ENOMEM, "out of memory");
        c->ctxw = nw;
        b->capctx = cap;
    }
    char *s = rp_strdup(w);
    if (!s)
        return rp_error_set(sub, RP_ENOMEM, "out of memory");
    for (char *p = s; *p; p++)
        *p = (char)a_lower((unsigned char)*p);
    c->ctxw[c->nctxw++] = s;
    return RP_OK;
}

static rp_status yerr(rp_error *err, const char *name, const yaml_node_t *n, const char *msg)
{
    return rp_error_set(err, RP_ECONFIG, "%s:%zu:%zu: %s", name, n ? n->start_mark.line + 1 : 1,
                        n ? n->start_mark.column + 1 : 1, msg);
}

static const char *const langs[] = {"en", "de", "fr", "it", "es", "ja"};

static rp_status load_doc(bld *b, const char *data, size_t len, const char *name, rp_error *err)
{
    yaml_document_t doc;
    rp_status st = rp_yaml_load(data, len, name, &doc, err);
    if (st != RP_OK)
        return st;
    yaml_node_t *root = yaml_document_get_root_node(&doc);
    char msg[RP_ERROR_MSG_MAX];
    const char *lang = NULL;
    if (!root || root->type != YAML_MAPPING_NODE) {
        st = yerr(err, name, root,
                  "a compliance list is a mapping with language, off_platform, review_incentive, "
                  "marketing, exceptions, phone_context");
        goto out;
    }
    for (yaml_node_pair_t *p = root->data.mapping.pairs.start; p < root->data.mapping.pairs.top;
         p++) {
        const char *ks = rp_yaml_scalar(yaml_document_get_node(&doc, p->key));
        yaml_node_t *v = yaml_document_get_node(&doc, p->value);
        if (ks && strcmp(ks, "language") == 0) {
            lang = rp_yaml_scalar(v);
            bool ok = false;
            for (size_t i = 0; lang && i < sizeof langs / sizeof langs[0]; i++)
                if (strcmp(lang, langs[i]) == 0)
                    ok = true;
            if (!ok) {
                st = yerr(err, name, v, "language must be one of en, de, fr, it, es, ja");
                goto out;
            }
        }
    }
    if (!lang) {
        st = yerr(err, name, root, "missing 'language'");
        goto out;
    }
    bool german = strcmp(lang, "de") == 0;
    for (yaml_node_pair_t *p = root->data.mapping.pairs.start; p < root->data.mapping.pairs.top;
         p++) {
        yaml_node_t *k = yaml_document_get_node(&doc, p->key);
        yaml_node_t *v = yaml_document_get_node(&doc, p->value);
        const char *ks = rp_yaml_scalar(k);
        if (!ks) {
            st = yerr(err, name, k, "keys must be strings");
            goto out;
        }
        if (strcmp(ks, "language") == 0)
            continue;
        int what; /* check, 100 exceptions, 101 phone context */
        if (strcmp(ks, "off_platform") == 0)
            what = RP_CHECK_OFF_PLATFORM;
        else if (strcmp(ks, "review_incentive") == 0)
            what = RP_CHECK_REVIEW;
        else if (strcmp(ks, "marketing") == 0)
            what = RP_CHECK_MARKETING;
        else if (strcmp(ks, "exceptions") == 0)
            what = 100;
        else if (strcmp(ks, "phone_context") == 0)
            what = 101;
        else {
            snprintf(msg, sizeof msg, "unknown key: %.200s", ks);
            st = yerr(err, name, k, msg);
            goto out;
        }
        if (rp_yaml_is_empty(v))
            continue;
        if (v->type != YAML_SEQUENCE_NODE) {
            snprintf(msg, sizeof msg, "'%s' must be a list of phrases", ks);
            st = yerr(err, name, v, msg);
            goto out;
        }
        for (yaml_node_item_t *it = v->data.sequence.items.start; it < v->data.sequence.items.top;
             it++) {
            yaml_node_t *item = yaml_document_get_node(&doc, *it);
            const char *s = rp_yaml_scalar(item);
            if (!s) {
                st = yerr(err, name, item, "a phrase must be a string");
                goto out;
            }
            rp_error sub;
            rp_error_clear(&sub);
            if (what == 101)
                st = add_ctxword(b, s, &sub);
            else
                st = add_phrase(b, s, what == 100 ? (uint16_t)PH_EXCEPT : (uint16_t)(1u << what),
                                german, &sub);
            if (st != RP_OK) {
                if (st == RP_ENOMEM)
                    rp_error_set(err, RP_ENOMEM, "out of memory");
                else
                    yerr(err, name, item, sub.msg);
                goto out;
            }
        }
    }
out:
    yaml_document_delete(&doc);
    return st;
}

void rp_compliance_free(rp_compliance *c)
{
    if (!c)
        return;
    rp_ac_free(c->ac);
    free(c->ph);
    for (size_t i = 0; i < c->nctxw; i++)
        free(c->ctxw[i]);
    free(c->ctxw);
    for (size_t i = 0; i < c->nallowed; i++)
        free(c->allowed[i]);
    free(c->allowed);
    free(c);
}

static rp_status copy_domains(rp_compliance *c, const rp_compliance_opts *o, rp_error *err)
{
    if (o->nallowed_domains == 0)
        return RP_OK;
    c->allowed = calloc(o->nallowed_domains, sizeof *c->allowed);
    if (!c->allowed)
        return rp_error_set(err, RP_ENOMEM, "out of memory");
    for (size_t i = 0; i < o->nallowed_domains; i++) {
        const char *d = o->allowed_domains[i];
        if (!d)
            return rp_error_set(err, RP_ECONFIG, "allowed domain %zu is missing", i + 1);
        while (*d == '.')
            d++;
        size_t l = strlen(d);
        while (l && d[l - 1] == '.')
            l--;
        bool ok = l > 0 && l < HOST_MAX;
        for (size_t j = 0; j < l && ok; j++)
            ok = a_alnum((unsigned char)d[j]) || d[j] == '.' || d[j] == '-';
        if (!ok)
            return rp_error_set(err, RP_ECONFIG,
                                "allowed domain \"%.100s\" is not a domain name (letters, "
                                "digits, '-' and '.')",
                                o->allowed_domains[i]);
        char *s = rp_strndup(d, l);
        if (!s)
            return rp_error_set(err, RP_ENOMEM, "out of memory");
        for (char *p = s; *p; p++)
            *p = (char)a_lower((unsigned char)*p);
        c->allowed[c->nallowed++] = s;
    }
    return RP_OK;
}

rp_status rp_compliance_new(const rp_compliance_opts *opts, rp_compliance **out, rp_error *err)
{
    *out = NULL;
    rp_compliance_opts def;
    rp_compliance_opts_default(&def);
    const rp_compliance_opts *o = opts ? opts : &def;
    rp_compliance *c = calloc(1, sizeof *c);
    bld b = {.c = c};
    rp_status st;
    if (!c)
        return rp_error_set(err, RP_ENOMEM, "out of memory");
    c->allow_phone = o->allow_phone;
    c->max_subject = o->max_subject_chars ? o->max_subject_chars : def.max_subject_chars;
    c->max_body = o->max_body_chars ? o->max_body_chars : def.max_body_chars;
    if ((st = copy_domains(c, o, err)) != RP_OK)
        goto fail;
    b.ab = rp_ac_builder_new();
    if (!b.ab) {
        st = rp_error_set(err, RP_ENOMEM, "out of memory");
        goto fail;
    }
    for (size_t i = 0; i < sizeof langs / sizeof langs[0]; i++) {
        char name[64];
        snprintf(name, sizeof name, "compliance/%s.yaml", langs[i]);
        const rp_embedded_file *f = rp_embedded_find(name);
        if (!f) {
            st = rp_error_set(err, RP_ECONFIG, "built-in data %s is missing", name);
            goto fail;
        }
        if ((st = load_doc(&b, (const char *)f->data, f->len, name, err)) != RP_OK)
            goto fail;
    }
    if (o->extra_phrases) {
        const char *name = o->extra_phrases_name ? o->extra_phrases_name : "extra phrases";
        if ((st = load_doc(&b, o->extra_phrases, strlen(o->extra_phrases), name, err)) != RP_OK)
            goto fail;
    }
    if (c->nph) {
        rp_status ast;
        c->ac = rp_ac_build(b.ab, &ast);
        b.ab = NULL;
        if (!c->ac) {
            st = rp_error_set(err, ast, "compiling compliance phrases: %s", rp_strerror(ast));
            goto fail;
        }
    }
    rp_ac_builder_free(b.ab);
    rp_map_free(&b.pats);
    *out = c;
    return RP_OK;
fail:
    rp_ac_builder_free(b.ab);
    rp_map_free(&b.pats);
    rp_compliance_free(c);
    return st;
}
