#include "rp_template.h"

#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "rp_config.h"
#include "rp_langid.h"
#include "rp_text.h"
#include "rp_yaml.h"

/* Limits (docs/templates.md). */
#define TPL_MAX_FILE (1u << 20) /* bytes of one template file */
#define TPL_MAX_BODY 65536u     /* bytes of one body */
#define TPL_MAX_SUBJECT 1024u   /* bytes of one subject */
#define TPL_MAX_OPS 1000u       /* compiled operations of one text */
#define TPL_MAX_DEPTH 16        /* nested sections */
#define TPL_MAX_ID 64           /* bytes of an id */

_Static_assert(RP_LANG_JA - RP_LANG_EN + 1 == RP_TEMPLATE_LANGS,
               "template languages follow rp_lang from en to ja");

static const char *const tvar_names[RP_TVAR_COUNT] = {
    "order_id",  "buyer_name",   "seller_name", "marketplace", "subject",
    "next_open", "holiday_name", "holiday_end", "reply_by"};

static const char *const lang_codes[RP_TEMPLATE_LANGS] = {"en", "de", "fr", "it", "es", "ja"};

const char *rp_tvar_name(rp_tvar v)
{
    return ((int)v >= 0 && v < RP_TVAR_COUNT) ? tvar_names[v] : "unknown";
}

int rp_tvar_lookup(const char *name, size_t len)
{
    if (!name)
        return -1;
    for (int i = 0; i < RP_TVAR_COUNT; i++)
        if (strlen(tvar_names[i]) == len && memcmp(tvar_names[i], name, len) == 0)
            return i;
    return -1;
}

/* Index 0..5 of a language code, -1 if it is not one of ours. */
static int lang_index(const char *code)
{
    if (!code)
        return -1;
    for (int i = 0; i < RP_TEMPLATE_LANGS; i++)
        if (strcasecmp(code, lang_codes[i]) == 0)
            return i;
    return -1;
}

/* ---- compiled text ---- */

enum { OP_LIT, OP_VAR, OP_IF, OP_UNLESS };

typedef struct top {
    uint8_t kind;
    uint8_t var;
    uint32_t a; /* OP_LIT: offset into the text; OP_IF/OP_UNLESS: op after the section */
    uint32_t b; /* OP_LIT: length */
} top;

typedef struct ttext {
    char *s; /* the source text (literal runs point into it) */
    top *ops;
    uint32_t nops;
    uint32_t litlen; /* total length of the literal runs */
} ttext;

typedef struct tlang {
    bool present;
    unsigned used; /* bit per rp_tvar */
    ttext subject, body;
} tlang;

struct rp_template {
    char *id;
    char *origin;
    bool counts;
    tlang lang[RP_TEMPLATE_LANGS];
};

struct rp_templates {
    rp_template **v;
    size_t n, cap;
};

static void text_free(ttext *t)
{
    free(t->s);
    free(t->ops);
}

static void template_free(rp_template *tp)
{
    if (!tp)
        return;
    for (int i = 0; i < RP_TEMPLATE_LANGS; i++) {
        text_free(&tp->lang[i].subject);
        text_free(&tp->lang[i].body);
    }
    free(tp->id);
    free(tp->origin);
    free(tp);
}

/* ---- loading context and error positions ---- */

typedef struct tctx {
    yaml_document_t *doc;
    const char *data; /* the file's bytes, for positions inside scalars */
    size_t len;
    size_t bom;   /* bytes of a UTF-8 byte order mark (not counted by libyaml) */
    bool utf8;    /* data is UTF-8: positions inside scalars can be found */
    const char *name;
    rp_error *err;
} tctx;

static rp_status verr(tctx *c, size_t line, size_t col, const char *fmt, va_list ap)
    __attribute__((format(printf, 4, 0)));

static rp_status verr(tctx *c, size_t line, size_t col, const char *fmt, va_list ap)
{
    char msg[240];
    vsnprintf(msg, sizeof msg, fmt, ap);
    return rp_error_set(c->err, RP_ECONFIG, "%s:%zu:%zu: %s", c->name, line, col, msg);
}

static rp_status errat(tctx *c, size_t line, size_t col, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static rp_status errat(tctx *c, size_t line, size_t col, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    rp_status st = verr(c, line, col, fmt, ap);
    va_end(ap);
    return st;
}

/* Error at the start of node n (1:1 without a node). */
static rp_status nerr(tctx *c, const yaml_node_t *n, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static rp_status nerr(tctx *c, const yaml_node_t *n, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    rp_status st =
        verr(c, n ? n->start_mark.line + 1 : 1, n ? n->start_mark.column + 1 : 1, fmt, ap);
    va_end(ap);
    return st;
}

/* Non-overlapping "{{" in s[0..n), counted the way the compiler meets them. */
static size_t count_opens(const char *s, size_t n)
{
    size_t k = 0;
    for (size_t i = 0; i + 1 < n;) {
        if (s[i] == '{' && s[i + 1] == '{') {
            k++;
            i += 2;
        } else {
            i++;
        }
    }
    return k;
}

/* Byte offset of libyaml's character index (which skips a byte order mark). */
static size_t byte_of_index(const tctx *c, size_t index)
{
    size_t k = 0;
    for (size_t i = c->bom; i < c->len; i++) {
        if (((unsigned char)c->data[i] & 0xC0) != 0x80) {
            if (k == index)
                return i;
            k++;
        }
    }
    return c->len;
}

/* 1-based line and column of the "{{" at offset off of node n's value. The
 * value's "{{" are matched in order with those of the node's source text;
 * when the two differ in number (an escape sequence made one), the position
 * is the start of the node. */
static void locate(const tctx *c, const yaml_node_t *n, const char *val, size_t vlen, size_t off,
                   size_t *line, size_t *col)
{
    *line = n->start_mark.line + 1;
    *col = n->start_mark.column + 1;
    if (!c->utf8 || off > vlen)
        return;
    size_t b0 = byte_of_index(c, n->start_mark.index);
    size_t b1 = byte_of_index(c, n->end_mark.index);
    if (b0 >= b1)
        return;
    const char *src = c->data + b0;
    size_t slen = b1 - b0;
    if (count_opens(src, slen) != count_opens(val, vlen))
        return;
    size_t want = count_opens(val, off), k = 0, hit = slen;
    for (size_t i = 0; i + 1 < slen;) {
        if (src[i] == '{' && src[i + 1] == '{') {
            if (k++ == want) {
                hit = i;
                break;
            }
            i += 2;
        } else {
            i++;
        }
    }
    if (hit == slen)
        return;
    size_t ln = n->start_mark.line, co = n->start_mark.column;
    for (size_t i = 0; i < hit; i++) {
        unsigned char ch = (unsigned char)src[i];
        if (ch == '\n' || (ch == '\r' && src[i + 1] != '\n')) {
            ln++;
            co = 0;
        } else if (ch != '\r' && (ch & 0xC0) != 0x80) {
            co++;
        }
    }
    *line = ln + 1;
    *col = co + 1;
}

/* ---- compiling one text ---- */

typedef struct comp {
    tctx *c;
    const yaml_node_t *node;
    const char *what; /* "de body" */
    const char *val;  /* the node's value (for positions) */
    size_t vlen;
    ttext *t;
    unsigned *used;
    uint32_t cap;
} comp;

static rp_status cerr(comp *k, size_t off, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static rp_status cerr(comp *k, size_t off, const char *fmt, ...)
{
    size_t line, col;
    locate(k->c, k->node, k->val, k->vlen, off, &line, &col);
    char msg[200];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return errat(k->c, line, col, "%s: %s", k->what, msg);
}

static rp_status emit(comp *k, size_t off, uint8_t kind, uint8_t var, uint32_t a, uint32_t b)
{
    ttext *t = k->t;
    if (t->nops == TPL_MAX_OPS)
        return cerr(k, off, "more than %u placeholders, sections and text runs", TPL_MAX_OPS);
    if (t->nops == k->cap) {
        uint32_t nc = k->cap ? k->cap * 2 : 8;
        if (nc > TPL_MAX_OPS)
            nc = TPL_MAX_OPS;
        top *no = realloc(t->ops, nc * sizeof *no);
        if (!no)
            return rp_error_set(k->c->err, RP_ENOMEM, "out of memory");
        t->ops = no;
        k->cap = nc;
    }
    t->ops[t->nops++] = (top){kind, var, a, b};
    if (kind == OP_LIT)
        t->litlen += b;
    return RP_OK;
}

static rp_status emit_lit(comp *k, size_t off, size_t from, size_t to)
{
    if (to <= from)
        return RP_OK;
    return emit(k, off, OP_LIT, 0, (uint32_t)from, (uint32_t)(to - from));
}

static bool is_blank(char ch)
{
    return ch == ' ' || ch == '\t';
}

/* Length of s[0..n) cut to at most 40 bytes on a UTF-8 boundary, for messages. */
static int clip(const char *s, size_t n)
{
    if (n <= 40)
        return (int)n;
    n = 40;
    while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80)
        n--;
    return (int)n;
}

typedef struct open_sec {
    uint32_t op;
    uint8_t var;
    bool inverted;
    size_t off;
} open_sec;

/* Compile t->s (length len, a prefix of the node's value) into ops. */
static rp_status compile(comp *k, size_t len)
{
    const char *s = k->t->s;
    open_sec stk[TPL_MAX_DEPTH];
    int depth = 0;
    size_t pos = 0, lit = 0;
    rp_status st;
    for (;;) {
        const char *o = NULL;
        for (size_t i = pos; i + 1 < len; i++)
            if (s[i] == '{' && s[i + 1] == '{') {
                o = s + i;
                break;
            }
        if (!o)
            break;
        size_t ts = (size_t)(o - s), te = 0;
        bool closed = false;
        for (size_t i = ts + 2; i + 1 < len; i++) {
            if (s[i] == '\n' || (s[i] == '{' && s[i + 1] == '{'))
                break;
            if (s[i] == '}' && s[i + 1] == '}') {
                te = i;
                closed = true;
                break;
            }
        }
        if (!closed)
            return cerr(k, ts, "'{{' without '}}' on the same line");
        /* the tag's inside: blanks, an optional sigil, blanks, a name, blanks */
        size_t a = ts + 2, b = te;
        while (a < b && is_blank(s[a]))
            a++;
        char sigil = 0;
        if (a < b && (s[a] == '#' || s[a] == '^' || s[a] == '/')) {
            sigil = s[a++];
            while (a < b && is_blank(s[a]))
                a++;
        }
        while (b > a && is_blank(s[b - 1]))
            b--;
        if (a == b)
            return cerr(k, ts, "empty tag '%.*s'", clip(s + ts, te + 2 - ts), s + ts);
        int var = rp_tvar_lookup(s + a, b - a);
        if (var < 0)
            return cerr(k, ts, "unknown variable '%.*s'", clip(s + a, b - a), s + a);
        /* a section tag alone on its line takes the whole line with it */
        size_t lit_end = ts, next = te + 2;
        if (sigil) {
            size_t ls = ts;
            while (ls > lit && is_blank(s[ls - 1]))
                ls--;
            size_t le = te + 2;
            while (le < len && is_blank(s[le]))
                le++;
            bool eol = le == len;
            if (le < len && s[le] == '\n') {
                le++;
                eol = true;
            } else if (le + 1 < len && s[le] == '\r' && s[le + 1] == '\n') {
                le += 2;
                eol = true;
            }
            if (eol && (ls == 0 || s[ls - 1] == '\n')) {
                lit_end = ls;
                next = le;
            }
        }
        if ((st = emit_lit(k, ts, lit, lit_end)) != RP_OK)
            return st;
        const char *vn = tvar_names[var];
        if (!sigil) {
            for (int d = 0; d < depth; d++)
                if (stk[d].inverted && stk[d].var == var)
                    return cerr(k, ts, "'{{%s}}' inside '{{^%s}}', where it is never set", vn,
                                vn);
            if ((st = emit(k, ts, OP_VAR, (uint8_t)var, 0, 0)) != RP_OK)
                return st;
            *k->used |= 1u << var;
        } else if (sigil == '/') {
            if (depth == 0)
                return cerr(k, ts, "'{{/%s}}' closes no section", vn);
            open_sec *top_sec = &stk[depth - 1];
            if (top_sec->var != var)
                return cerr(k, ts, "'{{/%s}}' where section '%s' must be closed first", vn,
                            tvar_names[top_sec->var]);
            k->t->ops[top_sec->op].a = k->t->nops;
            depth--;
        } else {
            if (depth == TPL_MAX_DEPTH)
                return cerr(k, ts, "sections nested more than %d deep", TPL_MAX_DEPTH);
            stk[depth] = (open_sec){k->t->nops, (uint8_t)var, sigil == '^', ts};
            if ((st = emit(k, ts, sigil == '^' ? OP_UNLESS : OP_IF, (uint8_t)var, 0, 0)) != RP_OK)
                return st;
            depth++;
            *k->used |= 1u << var;
        }
        pos = lit = next;
    }
    if (depth > 0)
        return cerr(k, stk[depth - 1].off, "section '%s' is not closed",
                    tvar_names[stk[depth - 1].var]);
    return emit_lit(k, len, lit, len);
}

/* Read, check and compile one subject or body. */
static rp_status load_text(tctx *c, const yaml_node_t *n, const char *lang, bool is_subject,
                           ttext *out, unsigned *used)
{
    char what[16];
    snprintf(what, sizeof what, "%s %s", lang, is_subject ? "subject" : "body");
    if (n->type != YAML_SCALAR_NODE)
        return nerr(c, n, "%s must be text", what);
    const char *v = (const char *)n->data.scalar.value;
    size_t vlen = n->data.scalar.length, len = vlen;
    while (len && (v[len - 1] == '\n' || v[len - 1] == '\r'))
        len--;
    size_t max = is_subject ? TPL_MAX_SUBJECT : TPL_MAX_BODY;
    if (len == 0)
        return nerr(c, n, "%s is empty", what);
    if (len > max)
        return nerr(c, n, "%s is longer than %zu bytes", what, max);
    if (memchr(v, '\0', len))
        return nerr(c, n, "%s contains a NUL character", what);
    if (!rp_utf8_valid(v, len))
        return nerr(c, n, "%s is not valid UTF-8", what);
    if (is_subject && (memchr(v, '\n', len) || memchr(v, '\r', len)))
        return nerr(c, n, "%s must be one line", what);
    if (!(out->s = rp_strndup(v, len)))
        return rp_error_set(c->err, RP_ENOMEM, "out of memory");
    comp k = {c, n, what, v, vlen, out, used, 0};
    return compile(&k, len);
}

/* ---- the YAML document ---- */

static rp_status load_lang(tctx *c, tlang *tl, const char *code, yaml_node_t *m)
{
    if (m->type != YAML_MAPPING_NODE)
        return nerr(c, m, "language '%s' must be a mapping with 'subject' and 'body'", code);
    yaml_node_t *subj = NULL, *body = NULL;
    for (yaml_node_pair_t *p = m->data.mapping.pairs.start; p < m->data.mapping.pairs.top; p++) {
        yaml_node_t *k = yaml_document_get_node(c->doc, p->key);
        yaml_node_t *v = yaml_document_get_node(c->doc, p->value);
        const char *ks = rp_yaml_scalar(k);
        yaml_node_t **slot;
        if (ks && strcmp(ks, "subject") == 0)
            slot = &subj;
        else if (ks && strcmp(ks, "body") == 0)
            slot = &body;
        else
            return nerr(c, k, "unknown key in '%s': %.60s (expected subject, body)", code,
                        ks ? ks : "(non-scalar)");
        if (*slot)
            return nerr(c, k, "duplicate key '%s' in '%s'", ks, code);
        *slot = v;
    }
    if (!subj)
        return nerr(c, m, "language '%s' has no 'subject'", code);
    if (!body)
        return nerr(c, m, "language '%s' has no 'body'", code);
    tl->present = true;
    rp_status st = load_text(c, subj, code, true, &tl->subject, &tl->used);
    if (st == RP_OK)
        st = load_text(c, body, code, false, &tl->body, &tl->used);
    return st;
}

static rp_status load_languages(tctx *c, rp_template *tp, yaml_node_t *m)
{
    if (m->type != YAML_MAPPING_NODE || m->data.mapping.pairs.start == m->data.mapping.pairs.top)
        return nerr(c, m, "'languages' must map language codes (en, de, fr, it, es, ja) to "
                          "subject and body");
    for (yaml_node_pair_t *p = m->data.mapping.pairs.start; p < m->data.mapping.pairs.top; p++) {
        yaml_node_t *k = yaml_document_get_node(c->doc, p->key);
        const char *ks = rp_yaml_scalar(k);
        int li = -1;
        for (int i = 0; ks && i < RP_TEMPLATE_LANGS; i++)
            if (strcmp(ks, lang_codes[i]) == 0)
                li = i;
        if (li < 0)
            return nerr(c, k, "unknown language '%.20s' (expected en, de, fr, it, es or ja)",
                        ks ? ks : "(non-scalar)");
        if (tp->lang[li].present)
            return nerr(c, k, "language '%s' appears twice", ks);
        rp_status st = load_lang(c, &tp->lang[li], lang_codes[li],
                                 yaml_document_get_node(c->doc, p->value));
        if (st != RP_OK)
            return st;
    }
    return RP_OK;
}

static bool valid_id(const char *s, size_t len)
{
    if (len == 0 || len > TPL_MAX_ID)
        return false;
    for (size_t i = 0; i < len; i++) {
        char ch = s[i];
        if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
              ch == '_' || ch == '-' || ch == '.'))
            return false;
    }
    return true;
}

static rp_status load_root(tctx *c, rp_template *tp, yaml_node_t *root)
{
    if (!root || (root->type == YAML_SCALAR_NODE && !*rp_yaml_scalar(root)))
        return nerr(c, NULL, "empty template");
    if (root->type != YAML_MAPPING_NODE)
        return nerr(c, root, "a template is a mapping with 'languages' (and optionally 'id', "
                             "'description', 'counts_as_response')");
    enum { K_ID = 1, K_DESC = 2, K_COUNTS = 4, K_LANGS = 8 };
    unsigned seen = 0;
    yaml_node_t *idnode = NULL, *langs = NULL;
    for (yaml_node_pair_t *p = root->data.mapping.pairs.start; p < root->data.mapping.pairs.top;
         p++) {
        yaml_node_t *k = yaml_document_get_node(c->doc, p->key);
        yaml_node_t *v = yaml_document_get_node(c->doc, p->value);
        const char *ks = rp_yaml_scalar(k);
        unsigned bit;
        if (ks && strcmp(ks, "id") == 0)
            bit = K_ID;
        else if (ks && strcmp(ks, "description") == 0)
            bit = K_DESC;
        else if (ks && strcmp(ks, "counts_as_response") == 0)
            bit = K_COUNTS;
        else if (ks && strcmp(ks, "languages") == 0)
            bit = K_LANGS;
        else
            return nerr(c, k, "unknown key: %.60s", ks ? ks : "(non-scalar)");
        if (seen & bit)
            return nerr(c, k, "duplicate key '%s'", ks);
        seen |= bit;
        if (bit == K_ID) {
            idnode = v;
        } else if (bit == K_DESC) {
            if (v->type != YAML_SCALAR_NODE)
                return nerr(c, v, "'description' must be text");
        } else if (bit == K_COUNTS) {
            const char *b = rp_yaml_scalar(v);
            if (b && (strcmp(b, "true") == 0 || strcmp(b, "yes") == 0))
                tp->counts = true;
            else if (b && (strcmp(b, "false") == 0 || strcmp(b, "no") == 0))
                tp->counts = false;
            else
                return nerr(c, v, "'counts_as_response' must be true or false");
        } else {
            langs = v;
        }
    }
    if (idnode) {
        const char *s = rp_yaml_scalar(idnode);
        if (!s || !valid_id(s, idnode->data.scalar.length))
            return nerr(c, idnode,
                        "'id' must be 1 to %d letters, digits, '_', '-' or '.'", TPL_MAX_ID);
        if (!(tp->id = rp_strdup(s)))
            return rp_error_set(c->err, RP_ENOMEM, "out of memory");
    } else {
        const char *base = strrchr(c->name, '/');
        base = base ? base + 1 : c->name;
        size_t bl = strlen(base);
        if (bl > 5 && strcmp(base + bl - 5, ".yaml") == 0)
            bl -= 5;
        else if (bl > 4 && strcmp(base + bl - 4, ".yml") == 0)
            bl -= 4;
        if (!valid_id(base, bl))
            return nerr(c, root, "the file name does not make a template id; set 'id'");
        if (!(tp->id = rp_strndup(base, bl)))
            return rp_error_set(c->err, RP_ENOMEM, "out of memory");
    }
    if (!langs)
        return nerr(c, root, "missing 'languages'");
    return load_languages(c, tp, langs);
}

static rp_status parse_template(const char *data, size_t len, const char *name,
                                rp_template **out, rp_error *err)
{
    *out = NULL;
    if (len > TPL_MAX_FILE)
        return rp_error_set(err, RP_ELIMIT, "%s: larger than %u bytes", name, TPL_MAX_FILE);
    rp_template *tp = calloc(1, sizeof *tp);
    if (!tp || !(tp->origin = rp_strdup(name))) {
        free(tp);
        return rp_error_set(err, RP_ENOMEM, "out of memory");
    }
    tp->counts = true;
    yaml_document_t doc;
    rp_status st = rp_yaml_load(data, len, name, &doc, err);
    if (st != RP_OK) {
        template_free(tp);
        return st;
    }
    tctx c = {&doc, data, len, 0, true, name, err};
    const unsigned char *u = (const unsigned char *)data;
    if (len >= 3 && u[0] == 0xEF && u[1] == 0xBB && u[2] == 0xBF)
        c.bom = 3;
    else if (len >= 2 && ((u[0] == 0xFF && u[1] == 0xFE) || (u[0] == 0xFE && u[1] == 0xFF)))
        c.utf8 = false; /* UTF-16: libyaml converted it; positions stay at node starts */
    st = load_root(&c, tp, yaml_document_get_root_node(&doc));
    yaml_document_delete(&doc);
    if (st != RP_OK) {
        template_free(tp);
        return st;
    }
    *out = tp;
    return RP_OK;
}

/* ---- the library ---- */

rp_templates *rp_templates_new(void)
{
    return calloc(1, sizeof(rp_templates));
}

void rp_templates_free(rp_templates *t)
{
    if (!t)
        return;
    for (size_t i = 0; i < t->n; i++)
        template_free(t->v[i]);
    free(t->v);
    free(t);
}

static rp_status reserve(rp_templates *t, size_t extra)
{
    if (t->n + extra <= t->cap)
        return RP_OK;
    size_t nc = t->cap ? t->cap : 16;
    while (nc < t->n + extra)
        nc *= 2;
    rp_template **nv = realloc(t->v, nc * sizeof *nv);
    if (!nv)
        return RP_ENOMEM;
    t->v = nv;
    t->cap = nc;
    return RP_OK;
}

static size_t index_of(const rp_templates *t, const char *id)
{
    for (size_t i = 0; i < t->n; i++)
        if (strcmp(t->v[i]->id, id) == 0)
            return i;
    return t->n;
}

/* Room must have been reserved. */
static void put(rp_templates *t, rp_template *tp)
{
    size_t i = index_of(t, tp->id);
    if (i < t->n) {
        template_free(t->v[i]);
        t->v[i] = tp;
    } else {
        t->v[t->n++] = tp;
    }
}

rp_status rp_templates_add(rp_templates *t, const char *data, size_t len, const char *name,
                           rp_error *err)
{
    if (!t || (!data && len) || !name)
        return rp_error_set(err, RP_EUSAGE, "rp_templates_add: invalid arguments");
    if (reserve(t, 1) != RP_OK)
        return rp_error_set(err, RP_ENOMEM, "out of memory");
    rp_template *tp;
    rp_status st = parse_template(data ? data : "", len, name, &tp, err);
    if (st != RP_OK)
        return st;
    put(t, tp);
    return RP_OK;
}

static int cmp_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static rp_status list_dir(const char *dir, char ***names, size_t *count, rp_error *err)
{
    *names = NULL;
    *count = 0;
    DIR *d = opendir(dir);
    if (!d)
        return rp_error_set(err, RP_EIO, "%s: %s", dir, strerror(errno));
    char **v = NULL;
    size_t n = 0, cap = 0;
    rp_status st = RP_OK;
    for (;;) {
        errno = 0;
        struct dirent *e = readdir(d);
        if (!e) {
            if (errno)
                st = rp_error_set(err, RP_EIO, "%s: %s", dir, strerror(errno));
            break;
        }
        size_t l = strlen(e->d_name);
        if (e->d_name[0] == '.' || l <= 5 || strcmp(e->d_name + l - 5, ".yaml") != 0)
            continue;
        if (n == cap) {
            size_t nc = cap ? cap * 2 : 16;
            char **nv = realloc(v, nc * sizeof *nv);
            if (!nv) {
                st = rp_error_set(err, RP_ENOMEM, "out of memory");
                break;
            }
            v = nv;
            cap = nc;
        }
        if (!(v[n] = rp_strdup(e->d_name))) {
            st = rp_error_set(err, RP_ENOMEM, "out of memory");
            break;
        }
        n++;
    }
    closedir(d);
    if (st != RP_OK) {
        for (size_t i = 0; i < n; i++)
            free(v[i]);
        free(v);
        return st;
    }
    if (n > 1)
        qsort(v, n, sizeof *v, cmp_names);
    *names = v;
    *count = n;
    return RP_OK;
}

rp_status rp_templates_add_dir(rp_templates *t, const char *dir, rp_error *err)
{
    if (!t || !dir)
        return rp_error_set(err, RP_EUSAGE, "rp_templates_add_dir: invalid arguments");
    char **names;
    size_t count;
    rp_status st = list_dir(dir, &names, &count, err);
    if (st != RP_OK)
        return st;
    /* load into a scratch library, so that a bad file leaves t as it was */
    rp_templates *tmp = rp_templates_new();
    if (!tmp)
        st = rp_error_set(err, RP_ENOMEM, "out of memory");
    size_t dl = strlen(dir);
    const char *sep = dl && dir[dl - 1] == '/' ? "" : "/";
    for (size_t i = 0; i < count && st == RP_OK; i++) {
        rp_buf path = {0};
        if (rp_buf_printf(&path, "%s%s%s", dir, sep, names[i]) != RP_OK) {
            rp_buf_free(&path);
            st = rp_error_set(err, RP_ENOMEM, "out of memory");
            break;
        }
        struct stat sb;
        if (stat(path.data, &sb) != 0) {
            st = rp_error_set(err, RP_EIO, "%s: %s", path.data, strerror(errno));
        } else if (S_ISREG(sb.st_mode)) {
            char *data;
            size_t len;
            st = rp_read_file(path.data, TPL_MAX_FILE, &data, &len, err);
            if (st == RP_OK) {
                st = rp_templates_add(tmp, data, len, path.data, err);
                free(data);
            }
        }
        rp_buf_free(&path);
    }
    for (size_t i = 0; i < count; i++)
        free(names[i]);
    free(names);
    if (st == RP_OK && reserve(t, tmp->n) != RP_OK)
        st = rp_error_set(err, RP_ENOMEM, "out of memory");
    if (st == RP_OK) {
        for (size_t i = 0; i < tmp->n; i++)
            put(t, tmp->v[i]);
        tmp->n = 0;
    }
    rp_templates_free(tmp);
    return st;
}

size_t rp_templates_count(const rp_templates *t)
{
    return t ? t->n : 0;
}

const rp_template *rp_templates_at(const rp_templates *t, size_t i)
{
    return t && i < t->n ? t->v[i] : NULL;
}

const rp_template *rp_templates_find(const rp_templates *t, const char *id)
{
    if (!t || !id)
        return NULL;
    size_t i = index_of(t, id);
    return i < t->n ? t->v[i] : NULL;
}

const char *rp_template_id(const rp_template *tp)
{
    return tp ? tp->id : NULL;
}

const char *rp_template_origin(const rp_template *tp)
{
    return tp ? tp->origin : NULL;
}

bool rp_template_counts_as_response(const rp_template *tp)
{
    return tp && tp->counts;
}

static const tlang *get_lang(const rp_template *tp, const char *lang)
{
    int i = lang_index(lang);
    return tp && i >= 0 && tp->lang[i].present ? &tp->lang[i] : NULL;
}

bool rp_template_has_lang(const rp_template *tp, const char *lang)
{
    return get_lang(tp, lang) != NULL;
}

unsigned rp_template_vars_used(const rp_template *tp, const char *lang)
{
    const tlang *tl = get_lang(tp, lang);
    return tl ? tl->used : 0;
}

const char *rp_template_pick_lang(const rp_template *tp, const char *want,
                                  const char *marketplace_lang)
{
    const char *chain[3] = {want, marketplace_lang, "en"};
    for (int i = 0; i < 3; i++) {
        int li = lang_index(chain[i]);
        if (tp && li >= 0 && tp->lang[li].present)
            return lang_codes[li];
    }
    return NULL;
}

/* ---- rendering ---- */

static bool is_set(const rp_tvars *vars, unsigned var)
{
    return vars && vars->v[var] && vars->v[var][0];
}

/* Append a value to a subject: line breaks and tabs become spaces, so that
 * a value can never split the subject line. */
static rp_status append_one_line(rp_buf *out, const char *v, size_t len)
{
    size_t at = out->len;
    rp_status st = rp_buf_append(out, v, len);
    if (st != RP_OK)
        return st;
    for (char *p = out->data + at, *e = out->data + out->len; p < e; p++)
        if (*p == '\n' || *p == '\r' || *p == '\t')
            *p = ' ';
    return RP_OK;
}

/* rp_buf_append without the call when the room is there (the common case). */
static inline rp_status put_bytes(rp_buf *out, const char *p, size_t n)
{
    if (n < out->cap - out->len) {
        memcpy(out->data + out->len, p, n);
        out->len += n;
        return RP_OK;
    }
    return rp_buf_append(out, p, n);
}

static rp_status render_text(const ttext *t, const rp_tvars *vars, bool one_line, rp_buf *out,
                             rp_error *err)
{
    if (rp_buf_reserve(out, t->litlen) != RP_OK)
        return rp_error_set(err, RP_ENOMEM, "out of memory");
    const top *ops = t->ops;
    uint32_t n = t->nops;
    rp_status st = RP_OK;
    for (uint32_t i = 0; i < n && st == RP_OK;) {
        const top *o = &ops[i];
        switch (o->kind) {
        case OP_LIT:
            st = put_bytes(out, t->s + o->a, o->b);
            i++;
            break;
        case OP_VAR: {
            if (!is_set(vars, o->var)) {
                out->data[out->len] = '\0';
                return rp_error_set(err, RP_EINVAL, "missing variable '%s'", tvar_names[o->var]);
            }
            const char *v = vars->v[o->var];
            st = one_line ? append_one_line(out, v, strlen(v)) : put_bytes(out, v, strlen(v));
            i++;
            break;
        }
        case OP_IF:
            i = is_set(vars, o->var) ? i + 1 : o->a;
            break;
        default: /* OP_UNLESS */
            i = is_set(vars, o->var) ? o->a : i + 1;
            break;
        }
    }
    out->data[out->len] = '\0'; /* put_bytes leaves that to the end */
    return st == RP_OK ? RP_OK : rp_error_set(err, st, "out of memory");
}

rp_status rp_template_render(const rp_template *tp, const char *lang, const rp_tvars *vars,
                             rp_buf *subject, rp_buf *body, rp_error *err)
{
    const tlang *tl = get_lang(tp, lang);
    if (!tl)
        return rp_error_set(err, RP_EINVAL, "no text in language '%.16s'",
                            lang ? lang : "(none)");
    rp_status st;
    if (subject && (st = render_text(&tl->subject, vars, true, subject, err)) != RP_OK)
        return st;
    if (body) {
        size_t start = body->len;
        if ((st = render_text(&tl->body, vars, false, body, err)) != RP_OK)
            return st;
        /* a body never ends with a line break, whatever its last section did */
        while (body->len > start &&
               (body->data[body->len - 1] == '\n' || body->data[body->len - 1] == '\r'))
            body->data[--body->len] = '\0';
    }
    return RP_OK;
}
