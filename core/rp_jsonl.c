#include "rp_jsonl.h"

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "rp_buf.h"
#include "rp_extract.h"
#include "rp_text.h"

#define CHUNK 65536

struct rp_jsonl_reader {
    FILE *f;
    char *name;
    rp_limits lim;
    char *chunk;
    size_t pos, end; /* unread bytes chunk[pos..end) */
    int eof;
    size_t lineno;
    rp_buf line;
};

rp_jsonl_reader *rp_jsonl_open(FILE *f, const char *name, const rp_limits *lim)
{
    rp_jsonl_reader *r = calloc(1, sizeof *r);
    if (!r)
        return NULL;
    r->f = f;
    r->name = rp_strdup(name ? name : "-");
    r->lim = lim ? *lim : rp_limits_default();
    r->chunk = malloc(CHUNK);
    if (!r->name || !r->chunk) {
        rp_jsonl_close(r);
        return NULL;
    }
    return r;
}

void rp_jsonl_close(rp_jsonl_reader *r)
{
    if (!r)
        return;
    free(r->name);
    free(r->chunk);
    rp_buf_free(&r->line);
    free(r);
}

/* Parse a line whose buffer the function takes over as m->raw (NUL-terminated,
 * len bytes). */
static rp_status parse_take(char *line, size_t len, const char *source, rp_message **out,
                            rp_error *err);

static rp_status fill(rp_jsonl_reader *r)
{
    if (r->eof)
        return RP_EOF;
    r->pos = 0;
    r->end = fread(r->chunk, 1, CHUNK, r->f);
    if (r->end == 0) {
        if (ferror(r->f))
            return RP_EIO;
        r->eof = 1;
        return RP_EOF;
    }
    return RP_OK;
}

/* Read the next line into r->line; *too_long is set if it exceeded the limit
 * (its bytes were discarded). Returns RP_EOF when there are no more lines. */
static rp_status read_line(rp_jsonl_reader *r, int *too_long, size_t *total)
{
    rp_buf_reset(&r->line);
    *too_long = 0;
    *total = 0;
    int got = 0;
    for (;;) {
        if (r->pos == r->end) {
            rp_status st = fill(r);
            if (st == RP_EOF)
                return got ? RP_OK : RP_EOF;
            if (st != RP_OK)
                return st;
        }
        got = 1;
        char *s = r->chunk + r->pos;
        size_t avail = r->end - r->pos;
        char *nl = memchr(s, '\n', avail);
        size_t take = nl ? (size_t)(nl - s) : avail;
        *total += take;
        if (!*too_long) {
            if (r->line.len + take > r->lim.max_message_bytes) {
                *too_long = 1;
                rp_buf_free(&r->line);
            } else if (rp_buf_append(&r->line, s, take) != RP_OK) {
                return RP_ENOMEM;
            }
        }
        r->pos += take + (nl ? 1 : 0);
        if (nl)
            return RP_OK;
    }
}

static int blank(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (s[i] != ' ' && s[i] != '\t' && s[i] != '\r')
            return 0;
    return 1;
}

rp_status rp_jsonl_next(rp_jsonl_reader *r, rp_message **out, rp_error *err)
{
    *out = NULL;
    for (;;) {
        int too_long;
        size_t total;
        rp_status st = read_line(r, &too_long, &total);
        if (st == RP_EOF)
            return RP_EOF;
        if (st == RP_EIO)
            return rp_error_set(err, RP_EIO, "%s: read error: %s", r->name, strerror(errno));
        if (st != RP_OK)
            return rp_error_set(err, st, "%s: %s", r->name, rp_strerror(st));
        r->lineno++;
        char source[512];
        snprintf(source, sizeof source, "%s:%zu", r->name, r->lineno);
        if (too_long) {
            rp_message *m = rp_message_new();
            if (m && (rp_message_set(&m->source, source) || rp_message_set(&m->id, source))) {
                rp_message_free(m);
                m = NULL;
            }
            *out = m;
            return rp_error_set(err, RP_ELIMIT,
                                "message is %zu bytes, over the limit of %zu "
                                "(limits.max_message_bytes)",
                                total, r->lim.max_message_bytes);
        }
        if (blank(r->line.data, r->line.len))
            continue;
        /* a large line is handed over rather than copied; small ones reuse
         * the line buffer */
        if (r->line.len > CHUNK) {
            size_t n = r->line.len;
            char *taken = rp_buf_steal(&r->line);
            if (!taken)
                return rp_error_set(err, RP_ENOMEM, "out of memory");
            return parse_take(taken, n, source, out, err);
        }
        return rp_jsonl_parse(r->line.data, r->line.len, source, out, err);
    }
}

/* ---- a small JSON reader for the message schema ----
 * Messages are flat objects of strings, so instead of building a generic tree
 * the reader decodes the known fields straight into the message and skips
 * everything else. It accepts exactly RFC 8259 JSON (UTF-8, no trailing
 * garbage, nesting up to JSON_MAX_DEPTH). */

#define JSON_MAX_DEPTH 64

typedef struct jp {
    const char *s;
    size_t len, pos;
    rp_error *err;
    rp_buf tmp;
    char *text; /* the body, for rp_message_finish */
} jp;

static rp_status jerr(jp *j, const char *what)
{
    return rp_error_set(j->err, RP_EPARSE, "invalid JSON at column %zu: %s", j->pos + 1, what);
}

static void ws(jp *j)
{
    while (j->pos < j->len) {
        char c = j->s[j->pos];
        if (c != ' ' && c != '\t' && c != '\n' && c != '\r')
            break;
        j->pos++;
    }
}

static int hex4(const char *p, uint32_t *out)
{
    uint32_t v = 0;
    for (int i = 0; i < 4; i++) {
        char c = p[i];
        v <<= 4;
        if (c >= '0' && c <= '9')
            v |= (uint32_t)(c - '0');
        else if (c >= 'a' && c <= 'f')
            v |= (uint32_t)(c - 'a' + 10);
        else if (c >= 'A' && c <= 'F')
            v |= (uint32_t)(c - 'A' + 10);
        else
            return -1;
    }
    *out = v;
    return 0;
}

static rp_status put_cp(rp_buf *b, uint32_t cp)
{
    char e[4];
    /* \u0000 is a real NUL here (the caller rejects it), not U+FFFD */
    size_t n = cp == 0 ? (e[0] = '\0', 1) : rp_utf8_encode((int32_t)cp, e);
    return rp_buf_append(b, e, n);
}

/* Decode a string at j->pos (on the opening quote) into j->tmp (reset first).
 * *has_nul tells whether it contained \u0000. */
static rp_status jstring(jp *j, bool *has_nul)
{
    rp_buf_reset(&j->tmp);
    *has_nul = false;
    if (j->pos >= j->len || j->s[j->pos] != '"')
        return jerr(j, "expected a string");
    j->pos++;
    for (;;) {
        /* copy a run of plain bytes at once */
        size_t start = j->pos;
        const unsigned char *u = (const unsigned char *)j->s;
        while (j->pos < j->len) {
            /* eight plain ASCII bytes at a time: none below 0x20, no '"' or
             * '\\', none with the high bit */
            while (j->pos + 8 <= j->len) {
                uint64_t x;
                memcpy(&x, u + j->pos, 8);
                const uint64_t ones = 0x0101010101010101ull, high = 0x8080808080808080ull;
                uint64_t q = x ^ (ones * '"'), b = x ^ (ones * '\\');
                uint64_t special = ((x - ones * 0x20) | ((q - ones) & ~q) | ((b - ones) & ~b) |
                                    x) & high;
                if (special)
                    break;
                j->pos += 8;
            }
            if (j->pos >= j->len)
                break;
            unsigned char c = u[j->pos];
            if (c < 0x80) {
                if (c == '"' || c == '\\' || c < 0x20)
                    break;
                j->pos++;
                continue;
            }
            int32_t cp;
            size_t n = rp_utf8_next(u + j->pos, j->len - j->pos, &cp);
            if (cp < 0)
                return jerr(j, "string is not valid UTF-8");
            j->pos += n;
        }
        if (j->pos > start) {
            if (rp_buf_append(&j->tmp, j->s + start, j->pos - start) != RP_OK)
                return rp_error_set(j->err, RP_ENOMEM, "out of memory");
        }
        if (j->pos >= j->len)
            return jerr(j, "unterminated string");
        char c = j->s[j->pos];
        if (c == '"') {
            j->pos++;
            if (!j->tmp.data && rp_buf_reserve(&j->tmp, 0) != RP_OK)
                return rp_error_set(j->err, RP_ENOMEM, "out of memory");
            j->tmp.data[j->tmp.len] = '\0';
            return RP_OK;
        }
        if ((unsigned char)c < 0x20)
            return jerr(j, "control character in string");
        /* escape */
        if (j->pos + 1 >= j->len)
            return jerr(j, "unterminated string");
        char e = j->s[j->pos + 1];
        j->pos += 2;
        rp_status st = RP_OK;
        switch (e) {
        case '"': st = rp_buf_append_char(&j->tmp, '"'); break;
        case '\\': st = rp_buf_append_char(&j->tmp, '\\'); break;
        case '/': st = rp_buf_append_char(&j->tmp, '/'); break;
        case 'b': st = rp_buf_append_char(&j->tmp, '\b'); break;
        case 'f': st = rp_buf_append_char(&j->tmp, '\f'); break;
        case 'n': st = rp_buf_append_char(&j->tmp, '\n'); break;
        case 'r': st = rp_buf_append_char(&j->tmp, '\r'); break;
        case 't': st = rp_buf_append_char(&j->tmp, '\t'); break;
        case 'u': {
            uint32_t cp, lo;
            if (j->pos + 4 > j->len || hex4(j->s + j->pos, &cp))
                return jerr(j, "bad \\u escape");
            j->pos += 4;
            if (cp >= 0xDC00 && cp <= 0xDFFF)
                return jerr(j, "lone low surrogate in \\u escape");
            if (cp >= 0xD800 && cp <= 0xDBFF) {
                if (j->pos + 6 > j->len || j->s[j->pos] != '\\' || j->s[j->pos + 1] != 'u' ||
                    hex4(j->s + j->pos + 2, &lo) || lo < 0xDC00 || lo > 0xDFFF)
                    return jerr(j, "lone high surrogate in \\u escape");
                j->pos += 6;
                cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
            }
            if (cp == 0)
                *has_nul = true;
            st = put_cp(&j->tmp, cp);
            break;
        }
        default:
            j->pos -= 2;
            return jerr(j, "bad escape in string");
        }
        if (st != RP_OK)
            return rp_error_set(j->err, RP_ENOMEM, "out of memory");
    }
}

/* At an opening bracket: consumes it; returns 0 for an empty container
 * (closing bracket consumed too), 1 when members follow, -1 when there is
 * no opening bracket (nothing consumed). */
static int jopen(jp *j, char open, char close)
{
    ws(j);
    if (j->pos >= j->len || j->s[j->pos] != open)
        return -1;
    j->pos++;
    ws(j);
    if (j->pos < j->len && j->s[j->pos] == close) {
        j->pos++;
        return 0;
    }
    return 1;
}

/* After a member or element: ',' (more follow, returns 1), the closing
 * bracket (done, returns 0), anything else an error (returns -1, err set). */
static int jnext(jp *j, char close, rp_status *st)
{
    ws(j);
    if (j->pos < j->len && j->s[j->pos] == ',') {
        j->pos++;
        return 1;
    }
    if (j->pos < j->len && j->s[j->pos] == close) {
        j->pos++;
        return 0;
    }
    *st = jerr(j, close == '}' ? "expected ',' or '}'" : "expected ',' or ']'");
    return -1;
}

static bool jliteral(jp *j, const char *lit)
{
    size_t n = strlen(lit);
    if (j->len - j->pos >= n && memcmp(j->s + j->pos, lit, n) == 0) {
        j->pos += n;
        return true;
    }
    return false;
}

/* Skip a run of digits; returns how many there were. */
static size_t skip_digits(jp *j)
{
    size_t start = j->pos;
    while (j->pos < j->len && j->s[j->pos] >= '0' && j->s[j->pos] <= '9')
        j->pos++;
    return j->pos - start;
}

/* Parse a JSON number; *is_int tells whether it is a plain integer that fits. */
static rp_status jnumber(jp *j, bool *is_int, long long *ival)
{
    size_t start = j->pos;
    if (j->pos < j->len && j->s[j->pos] == '-')
        j->pos++;
    if (j->pos >= j->len || j->s[j->pos] < '0' || j->s[j->pos] > '9')
        return jerr(j, "invalid value");
    if (j->s[j->pos] == '0')
        j->pos++;
    else
        skip_digits(j);
    *is_int = true;
    if (j->pos < j->len && j->s[j->pos] == '.') {
        *is_int = false;
        j->pos++;
        if (!skip_digits(j))
            return jerr(j, "invalid number");
    }
    if (j->pos < j->len && (j->s[j->pos] == 'e' || j->s[j->pos] == 'E')) {
        *is_int = false;
        j->pos++;
        if (j->pos < j->len && (j->s[j->pos] == '+' || j->s[j->pos] == '-'))
            j->pos++;
        if (!skip_digits(j))
            return jerr(j, "invalid number");
    }
    if (*is_int) {
        char buf[32];
        size_t n = j->pos - start;
        if (n >= sizeof buf) {
            *is_int = false;
            return RP_OK;
        }
        memcpy(buf, j->s + start, n);
        buf[n] = '\0';
        errno = 0;
        *ival = strtoll(buf, NULL, 10);
        if (errno)
            *is_int = false;
    }
    return RP_OK;
}

static rp_status jskip(jp *j, int depth)
{
    if (depth > JSON_MAX_DEPTH)
        return jerr(j, "nested too deeply");
    ws(j);
    if (j->pos >= j->len)
        return jerr(j, "unexpected end of input");
    char c = j->s[j->pos];
    bool nul;
    rp_status st;
    if (c == '"')
        return jstring(j, &nul);
    if (c == '{' || c == '[') {
        char close = c == '{' ? '}' : ']';
        if (jopen(j, c, close) == 0)
            return RP_OK;
        for (;;) {
            if (c == '{') {
                ws(j);
                if ((st = jstring(j, &nul)) != RP_OK)
                    return st;
                ws(j);
                if (j->pos >= j->len || j->s[j->pos] != ':')
                    return jerr(j, "expected ':'");
                j->pos++;
            }
            if ((st = jskip(j, depth + 1)) != RP_OK)
                return st;
            int more = jnext(j, close, &st);
            if (more <= 0)
                return more == 0 ? RP_OK : st;
        }
    }
    if (jliteral(j, "true") || jliteral(j, "false") || jliteral(j, "null"))
        return RP_OK;
    bool is_int;
    long long v;
    return jnumber(j, &is_int, &v);
}

/* Explain a value of the wrong type: a syntax error if it is not JSON at all. */
static rp_status type_error(jp *j, const char *fmt, const char *key)
    __attribute__((format(printf, 2, 0)));

static rp_status type_error(jp *j, const char *fmt, const char *key)
{
    if (j->pos >= j->len)
        return jerr(j, "unexpected end of input");
    char c = j->s[j->pos];
    if (!strchr("\"{[tfn-0123456789", c))
        return jerr(j, "invalid value");
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
    return rp_error_set(j->err, RP_EINVAL, fmt, key);
#pragma GCC diagnostic pop
}

/* A string field: NULL for null, else a copy. */
static rp_status jfield_string(jp *j, const char *key, char **dst)
{
    ws(j);
    if (jliteral(j, "null")) {
        free(*dst);
        *dst = NULL;
        return RP_OK;
    }
    if (j->pos >= j->len || j->s[j->pos] != '"')
        return type_error(j, "field \"%s\" must be a string", key);
    bool nul;
    rp_status st = jstring(j, &nul);
    if (st != RP_OK)
        return st;
    if (nul)
        return rp_error_set(j->err, RP_EINVAL, "field \"%s\" contains a NUL character", key);
    /* a large value is handed over, a small one copied so the buffer is reused */
    char *c = j->tmp.len > 4096 ? rp_buf_steal(&j->tmp) : rp_strndup(j->tmp.data, j->tmp.len);
    if (!c)
        return rp_error_set(j->err, RP_ENOMEM, "out of memory");
    free(*dst);
    *dst = c;
    return RP_OK;
}

static rp_status jheaders(jp *j, rp_message *m)
{
    ws(j);
    if (jliteral(j, "null"))
        return RP_OK;
    int members = jopen(j, '{', '}');
    if (members < 0)
        return type_error(j, "field \"%s\" must be an object", "headers");
    if (members == 0)
        return RP_OK;
    for (;;) {
        bool nul;
        ws(j);
        rp_status st = jstring(j, &nul);
        if (st != RP_OK)
            return st;
        char *name = rp_strndup(j->tmp.data, j->tmp.len);
        if (!name)
            return rp_error_set(j->err, RP_ENOMEM, "out of memory");
        ws(j);
        if (j->pos >= j->len || j->s[j->pos] != ':') {
            free(name);
            return jerr(j, "expected ':'");
        }
        j->pos++;
        ws(j);
        bool array = j->pos < j->len && j->s[j->pos] == '[';
        if (array) {
            j->pos++;
            ws(j);
            if (j->pos < j->len && j->s[j->pos] == ']') {
                j->pos++;
                goto next;
            }
        }
        for (;;) {
            ws(j);
            if (j->pos >= j->len || j->s[j->pos] != '"') {
                st = type_error(j, "header \"%.60s\" must be a string or strings", name);
                break;
            }
            if ((st = jstring(j, &nul)) != RP_OK)
                break;
            if (nul || memchr(j->tmp.data, '\0', j->tmp.len)) {
                st = rp_error_set(j->err, RP_EINVAL, "header \"%.60s\" contains a NUL", name);
                break;
            }
            if (rp_message_add_header(m, name, j->tmp.data) != RP_OK) {
                st = rp_error_set(j->err, RP_ENOMEM, "out of memory");
                break;
            }
            if (!array || jnext(j, ']', &st) <= 0)
                break;
        }
        if (st != RP_OK) {
            free(name);
            return st;
        }
    next:
        free(name);
        int more = jnext(j, '}', &st);
        if (more <= 0)
            return more == 0 ? RP_OK : st;
    }
}

/* id and received_at: a string or an integer. */
static rp_status jstring_or_int(jp *j, const char *key, char **s, bool *is_int, long long *iv,
                                bool *present)
{
    ws(j);
    *present = false;
    *is_int = false;
    if (jliteral(j, "null"))
        return RP_OK;
    *present = true;
    if (j->pos < j->len && j->s[j->pos] == '"')
        return jfield_string(j, key, s);
    if (j->pos < j->len && (j->s[j->pos] == '-' || (j->s[j->pos] >= '0' && j->s[j->pos] <= '9'))) {
        rp_status st = jnumber(j, is_int, iv);
        if (st == RP_OK && !*is_int)
            return rp_error_set(j->err, RP_EINVAL, "field \"%s\" must be a string or an integer",
                                key);
        return st;
    }
    return type_error(j, "field \"%s\" must be a string or an integer", key);
}

static rp_status parse_obj(jp *j, rp_message *m)
{
    rp_status st;
    bool body_seen = false;
    char *received = NULL;
    bool received_int = false, received_present = false;
    long long received_iv = 0;
    int members = jopen(j, '{', '}');
    if (members < 0)
        return rp_error_set(j->err, RP_EPARSE, "a message must be a JSON object");
    if (members == 0)
        goto end;
    for (;;) {
        bool nul;
        ws(j);
        if ((st = jstring(j, &nul)) != RP_OK)
            goto fail;
        char key[16];
        size_t kl = j->tmp.len < sizeof key - 1 ? j->tmp.len : sizeof key - 1;
        memcpy(key, j->tmp.data, kl);
        key[kl] = '\0';
        if (j->tmp.len != kl || nul)
            key[0] = '\0'; /* long or odd keys are unknown fields */
        ws(j);
        if (j->pos >= j->len || j->s[j->pos] != ':') {
            st = jerr(j, "expected ':'");
            goto fail;
        }
        j->pos++;
        if (strcmp(key, "id") == 0) {
            bool is_int, present;
            long long iv;
            if ((st = jstring_or_int(j, "id", &m->id, &is_int, &iv, &present)) != RP_OK)
                goto fail;
            if (present && is_int) {
                char buf[32];
                snprintf(buf, sizeof buf, "%lld", iv);
                if (rp_message_set(&m->id, buf) != RP_OK) {
                    st = rp_error_set(j->err, RP_ENOMEM, "out of memory");
                    goto fail;
                }
            }
        } else if (strcmp(key, "marketplace") == 0) {
            st = jfield_string(j, key, &m->marketplace);
        } else if (strcmp(key, "from") == 0) {
            st = jfield_string(j, key, &m->from);
        } else if (strcmp(key, "to") == 0) {
            st = jfield_string(j, key, &m->to);
        } else if (strcmp(key, "subject") == 0) {
            st = jfield_string(j, key, &m->subject);
        } else if (strcmp(key, "order_id") == 0) {
            st = jfield_string(j, key, &m->order_id);
        } else if (strcmp(key, "body") == 0) {
            ws(j);
            if (jliteral(j, "null")) {
                body_seen = false;
                free(j->text);
                j->text = NULL;
                st = RP_OK;
            } else {
                st = jfield_string(j, key, &j->text);
                body_seen = st == RP_OK;
            }
        } else if (strcmp(key, "received_at") == 0) {
            st = jstring_or_int(j, key, &received, &received_int, &received_iv,
                                &received_present);
        } else if (strcmp(key, "headers") == 0) {
            st = jheaders(j, m);
        } else {
            st = jskip(j, 1);
        }
        if (st != RP_OK)
            goto fail;
        int more = jnext(j, '}', &st);
        if (more < 0)
            goto fail;
        if (more == 0)
            break;
    }
end:
    ws(j);
    if (j->pos != j->len) {
        st = jerr(j, "unexpected text after the object");
        goto fail;
    }
    if (!body_seen) {
        st = rp_error_set(j->err, RP_EINVAL, "missing required field \"body\"");
        goto fail;
    }
    if (received_present) {
        if (received_int) {
            m->received_at = (int64_t)received_iv;
        } else if (rp_parse_iso8601(received, &m->received_at) != RP_OK) {
            st = rp_error_set(j->err, RP_EINVAL,
                              "field \"received_at\" is not an ISO 8601 time (\"%.40s\")", received);
            goto fail;
        }
    }
    free(received);
    return RP_OK;
fail:
    free(received);
    return st;
}

rp_status rp_jsonl_parse(const char *line, size_t len, const char *source, rp_message **out,
                         rp_error *err)
{
    *out = NULL;
    char *copy = rp_strndup(line, len);
    if (!copy)
        return rp_error_set(err, RP_ENOMEM, "out of memory");
    return parse_take(copy, len, source, out, err);
}

static rp_status parse_take(char *line, size_t len, const char *source, rp_message **out,
                            rp_error *err)
{
    *out = NULL;
    rp_message *m = rp_message_new();
    if (!m || rp_message_set(&m->source, source) != RP_OK) {
        rp_message_free(m);
        free(line);
        return rp_error_set(err, RP_ENOMEM, "out of memory");
    }
    *out = m;
    m->raw = line;
    m->raw_len = len;
    jp j = {line, len, 0, err, {0}, NULL};
    rp_status st = parse_obj(&j, m);
    rp_buf_free(&j.tmp);
    if (!m->id && rp_message_set(&m->id, source) != RP_OK)
        return rp_error_set(err, RP_ENOMEM, "out of memory");
    if (st != RP_OK) {
        free(j.text);
        return st;
    }
    return rp_message_finish(m, j.text, err);
}
