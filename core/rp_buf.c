#include "rp_buf.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

rp_status rp_buf_reserve(rp_buf *b, size_t extra)
{
    if (extra > (size_t)-1 - b->len - 1)
        return RP_ENOMEM;
    size_t need = b->len + extra + 1;
    if (need <= b->cap)
        return RP_OK;
    size_t cap = b->cap ? b->cap : 64;
    while (cap < need) {
        if (cap > (size_t)-1 / 2) {
            cap = need;
            break;
        }
        cap *= 2;
    }
    char *p = realloc(b->data, cap);
    if (!p)
        return RP_ENOMEM;
    b->data = p;
    b->cap = cap;
    return RP_OK;
}

rp_status rp_buf_append(rp_buf *b, const void *data, size_t len)
{
    rp_status st = rp_buf_reserve(b, len);
    if (st != RP_OK)
        return st;
    if (len)
        memcpy(b->data + b->len, data, len);
    b->len += len;
    b->data[b->len] = '\0';
    return RP_OK;
}

rp_status rp_buf_append_str(rp_buf *b, const char *s)
{
    return rp_buf_append(b, s, strlen(s));
}

rp_status rp_buf_append_char(rp_buf *b, char c)
{
    if (b->len + 1 < b->cap) {
        b->data[b->len++] = c;
        b->data[b->len] = '\0';
        return RP_OK;
    }
    return rp_buf_append(b, &c, 1);
}

rp_status rp_buf_printf(rp_buf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0)
        return RP_EINVAL;
    rp_status st = rp_buf_reserve(b, (size_t)n);
    if (st != RP_OK)
        return st;
    va_start(ap, fmt);
    n = vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    if (n < 0)
        return RP_EINVAL;
    b->len += (size_t)n;
    return RP_OK;
}

/* bytes a JSON string cannot carry as they are */
static const unsigned char json_escaped[256] = {
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    ['"'] = 1, ['\\'] = 1, [0x7f] = 1};

rp_status rp_buf_append_json_string(rp_buf *b, const char *s, size_t len)
{
    static const char hex[] = "0123456789abcdef";
    /* worst case every byte becomes \u00XX */
    if (len > ((size_t)-1 - 2) / 6)
        return RP_ENOMEM;
    rp_status st = rp_buf_reserve(b, len * 6 + 2);
    if (st != RP_OK)
        return st;
    char *o = b->data + b->len;
    *o++ = '"';
    for (size_t i = 0; i < len; i++) {
        /* copy the run of bytes that need no escape in one go */
        size_t j = i;
        while (j < len && !json_escaped[(unsigned char)s[j]])
            j++;
        if (j > i) {
            memcpy(o, s + i, j - i);
            o += j - i;
            i = j;
            if (i == len)
                break;
        }
        unsigned char c = (unsigned char)s[i];
        switch (c) {
        case '"': *o++ = '\\'; *o++ = '"'; break;
        case '\\': *o++ = '\\'; *o++ = '\\'; break;
        case '\n': *o++ = '\\'; *o++ = 'n'; break;
        case '\r': *o++ = '\\'; *o++ = 'r'; break;
        case '\t': *o++ = '\\'; *o++ = 't'; break;
        default:
            if (c < 0x20 || c == 0x7f) {
                *o++ = '\\'; *o++ = 'u'; *o++ = '0'; *o++ = '0';
                *o++ = hex[c >> 4]; *o++ = hex[c & 15];
            } else {
                *o++ = (char)c;
            }
        }
    }
    *o++ = '"';
    b->len = (size_t)(o - b->data);
    b->data[b->len] = '\0';
    return RP_OK;
}

void rp_buf_reset(rp_buf *b)
{
    b->len = 0;
    if (b->data)
        b->data[0] = '\0';
}

char *rp_buf_steal(rp_buf *b)
{
    if (!b->data && rp_buf_reserve(b, 0) != RP_OK)
        return NULL;
    b->data[b->len] = '\0';
    char *p = b->data;
    b->data = NULL;
    b->len = b->cap = 0;
    return p;
}

void rp_buf_free(rp_buf *b)
{
    free(b->data);
    b->data = NULL;
    b->len = b->cap = 0;
}

char *rp_strndup(const char *s, size_t len)
{
    char *p = malloc(len + 1);
    if (!p)
        return NULL;
    if (len)
        memcpy(p, s, len);
    p[len] = '\0';
    return p;
}

char *rp_strdup(const char *s)
{
    return s ? rp_strndup(s, strlen(s)) : NULL;
}
