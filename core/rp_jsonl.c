#include "rp_jsonl.h"

#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "rp_buf.h"
#include "rp_extract.h"

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
        return rp_jsonl_parse(r->line.data, r->line.len, source, out, err);
    }
}

static rp_status get_string(json_t *obj, const char *key, char **dst, rp_error *err)
{
    json_t *v = json_object_get(obj, key);
    if (!v || json_is_null(v))
        return RP_OK;
    if (!json_is_string(v))
        return rp_error_set(err, RP_EINVAL, "field \"%s\" must be a string", key);
    char *s = rp_strndup(json_string_value(v), json_string_length(v));
    if (!s)
        return rp_error_set(err, RP_ENOMEM, "out of memory");
    if (memchr(s, '\0', json_string_length(v))) {
        free(s);
        return rp_error_set(err, RP_EINVAL, "field \"%s\" contains a NUL character", key);
    }
    free(*dst);
    *dst = s;
    return RP_OK;
}

static rp_status parse_obj(json_t *root, rp_message *m, rp_error *err)
{
    rp_status st;
    json_t *id = json_object_get(root, "id");
    if (json_is_string(id)) {
        if ((st = get_string(root, "id", &m->id, err)) != RP_OK)
            return st;
    } else if (json_is_integer(id)) {
        char buf[32];
        snprintf(buf, sizeof buf, "%" JSON_INTEGER_FORMAT, json_integer_value(id));
        if (rp_message_set(&m->id, buf) != RP_OK)
            return rp_error_set(err, RP_ENOMEM, "out of memory");
    } else if (id && !json_is_null(id)) {
        return rp_error_set(err, RP_EINVAL, "field \"id\" must be a string or an integer");
    }
    if ((st = get_string(root, "marketplace", &m->marketplace, err)) != RP_OK ||
        (st = get_string(root, "from", &m->from, err)) != RP_OK ||
        (st = get_string(root, "to", &m->to, err)) != RP_OK ||
        (st = get_string(root, "subject", &m->subject, err)) != RP_OK ||
        (st = get_string(root, "order_id", &m->order_id, err)) != RP_OK)
        return st;
    json_t *body = json_object_get(root, "body");
    if (!body || json_is_null(body))
        return rp_error_set(err, RP_EINVAL, "missing required field \"body\"");
    if ((st = get_string(root, "body", &m->full_text, err)) != RP_OK)
        return st;
    json_t *ra = json_object_get(root, "received_at");
    if (json_is_string(ra)) {
        if (rp_parse_iso8601(json_string_value(ra), &m->received_at) != RP_OK)
            return rp_error_set(err, RP_EINVAL,
                                "field \"received_at\" is not an ISO 8601 time (\"%.40s\")",
                                json_string_value(ra));
    } else if (json_is_integer(ra)) {
        m->received_at = (int64_t)json_integer_value(ra);
    } else if (ra && !json_is_null(ra)) {
        return rp_error_set(err, RP_EINVAL,
                            "field \"received_at\" must be an ISO 8601 string or Unix seconds");
    }
    json_t *hd = json_object_get(root, "headers");
    if (hd && !json_is_null(hd)) {
        if (!json_is_object(hd))
            return rp_error_set(err, RP_EINVAL, "field \"headers\" must be an object");
        const char *k;
        json_t *v;
        json_object_foreach(hd, k, v)
        {
            if (json_is_string(v)) {
                if (rp_message_add_header(m, k, json_string_value(v)) != RP_OK)
                    return rp_error_set(err, RP_ENOMEM, "out of memory");
            } else if (json_is_array(v)) {
                size_t i;
                json_t *e;
                json_array_foreach(v, i, e)
                {
                    if (!json_is_string(e))
                        return rp_error_set(err, RP_EINVAL,
                                            "header \"%.60s\" must be a string or strings", k);
                    if (rp_message_add_header(m, k, json_string_value(e)) != RP_OK)
                        return rp_error_set(err, RP_ENOMEM, "out of memory");
                }
            } else {
                return rp_error_set(err, RP_EINVAL, "header \"%.60s\" must be a string", k);
            }
        }
    }
    return RP_OK;
}

rp_status rp_jsonl_parse(const char *line, size_t len, const char *source, rp_message **out,
                         rp_error *err)
{
    *out = NULL;
    rp_message *m = rp_message_new();
    if (!m || rp_message_set(&m->source, source) != RP_OK) {
        rp_message_free(m);
        return rp_error_set(err, RP_ENOMEM, "out of memory");
    }
    *out = m;
    json_error_t je;
    json_t *root = json_loadb(line, len, JSON_REJECT_DUPLICATES, &je);
    rp_status st;
    if (!root) {
        st = rp_error_set(err, RP_EPARSE, "invalid JSON at column %d: %s", je.column, je.text);
    } else if (!json_is_object(root)) {
        st = rp_error_set(err, RP_EPARSE, "a message must be a JSON object");
    } else {
        st = parse_obj(root, m, err);
    }
    json_decref(root);
    if (!m->id && rp_message_set(&m->id, source) != RP_OK)
        return rp_error_set(err, RP_ENOMEM, "out of memory");
    if (st != RP_OK)
        return st;
    m->raw = rp_strndup(line, len);
    if (!m->raw)
        return rp_error_set(err, RP_ENOMEM, "out of memory");
    m->raw_len = len;
    return rp_message_finish(m, err);
}
