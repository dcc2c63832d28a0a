/* smtp_compose.c — message composition for the smtp sink (smtp_compose.h). */
#include "smtp_compose.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* RFC 5322 2.1.1: lines SHOULD stay within 78 characters; RFC 2047 2: an
 * encoded word is at most 75 characters. */
#define RP_SMTP_FOLD 78
#define RP_SMTP_WORD_MAX 75
/* A header token longer than this is never sent as it is (998 is the hard
 * line limit; the rest is room for the header name and folding). */
#define RP_SMTP_TOKEN_MAX 900

static void rp_smtp_err(char *err, size_t errsize, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void rp_smtp_err(char *err, size_t errsize, const char *fmt, ...)
{
    if (!err || errsize == 0)
        return;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(err, errsize, fmt, ap);
    va_end(ap);
    if (n < 0)
        err[0] = 0;
}

static int rp_smtp_is_ascii_printable(const char *s)
{
    for (const unsigned char *p = (const unsigned char *)s; *p; p++)
        if (*p < 0x20 || *p >= 0x7f)
            return 0;
    return 1;
}

int rp_smtp_address_ok(const char *s)
{
    if (!s || !*s)
        return 0;
    size_t len = strlen(s);
    if (len > 254)
        return 0;
    const char *at = NULL;
    for (const char *p = s; *p; p++) {
        unsigned char c = (unsigned char)*p;
        if (c <= 0x20 || c >= 0x7f || strchr("<>()[],;:\\\"", c))
            return 0;
        if (c == '@') {
            if (at)
                return 0;
            at = p;
        }
    }
    return at && at > s && at[1] != 0;
}

/* Header tokens such as message ids: printable ASCII without spaces. */
static int rp_smtp_token_ok(const char *s, size_t len)
{
    if (len == 0 || len > RP_SMTP_TOKEN_MAX)
        return 0;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c <= 0x20 || c >= 0x7f)
            return 0;
    }
    return 1;
}

/* "<...>" with printable ASCII inside and no spaces. */
static int rp_smtp_msgid_ok(const char *s, size_t len)
{
    return rp_smtp_token_ok(s, len) && len >= 3 && s[0] == '<' && s[len - 1] == '>';
}

/* Copies text replacing control characters (CR, LF, TAB, ...) by spaces: a
 * subject or a name is one line. */
static char *rp_smtp_one_line(const char *text)
{
    char *copy = g_strdup(text ? text : "");
    for (unsigned char *p = (unsigned char *)copy; *p; p++)
        if (*p < 0x20 || *p == 0x7f)
            *p = ' ';
    return copy;
}

/* Number of bytes of the UTF-8 sequence starting with lead byte c. */
static size_t rp_smtp_u8len(unsigned char c)
{
    if (c < 0x80)
        return 1;
    if ((c & 0xe0) == 0xc0)
        return 2;
    if ((c & 0xf0) == 0xe0)
        return 3;
    return 4;
}

/* Appends text as RFC 2047 "B" encoded words in UTF-8, each preceded by a
 * space or, when it would not fit on the line, by a fold. *col is the
 * current column and is updated. Words end on character boundaries, so
 * each decodes on its own. text must be valid UTF-8. */
static void rp_smtp_encode_words(GString *out, const char *text, size_t *col)
{
    size_t len = strlen(text), pos = 0;
    while (pos < len) {
        size_t lim = RP_SMTP_FOLD - 1 > *col ? RP_SMTP_FOLD - 1 - *col : 0;
        if (lim > RP_SMTP_WORD_MAX)
            lim = RP_SMTP_WORD_MAX;
        if (lim < 12 + 8) { /* not even one 4-byte character fits: fold */
            g_string_append_c(out, '\n');
            *col = 0;
            lim = RP_SMTP_WORD_MAX;
        }
        size_t maxbytes = (lim - 12) / 4 * 3;
        size_t n = 0;
        while (pos + n < len) {
            size_t cl = rp_smtp_u8len((unsigned char)text[pos + n]);
            if (n + cl > maxbytes)
                break;
            n += cl;
        }
        gchar *b64 = g_base64_encode((const guchar *)text + pos, n);
        g_string_append(out, " =?UTF-8?B?");
        g_string_append(out, b64);
        g_string_append(out, "?=");
        *col += 1 + 12 + strlen(b64);
        g_free(b64);
        pos += n;
    }
}

/* Appends " " + text, folding before spaces so that lines stay within 78
 * columns where the text allows it. Unfolding gives back " " + text. */
static void rp_smtp_fold_text(GString *out, const char *text, size_t *col)
{
    /* segments start at a space: " word", " ", " another" */
    GString *raw = g_string_new(" ");
    g_string_append(raw, text);
    const char *p = raw->str, *end = raw->str + raw->len;
    int first = 1;
    while (p < end) {
        const char *q = p + 1;
        while (q < end && *q != ' ')
            q++;
        size_t seg = (size_t)(q - p);
        if (!first && *col + seg > RP_SMTP_FOLD) {
            g_string_append_c(out, '\n');
            *col = 0;
        }
        g_string_append_len(out, p, (gssize)seg);
        *col += seg;
        first = 0;
        p = q;
    }
    g_string_free(raw, TRUE);
}

/* Appends the space separated tokens of list (already checked), folding
 * between tokens. */
static void rp_smtp_fold_tokens(GString *out, const char *list, size_t *col)
{
    const char *p = list;
    int first = 1;
    while (*p) {
        while (*p == ' ' || *p == '\t')
            p++;
        if (!*p)
            break;
        const char *q = p;
        while (*q && *q != ' ' && *q != '\t')
            q++;
        size_t n = (size_t)(q - p);
        if (!first && *col + 1 + n > RP_SMTP_FOLD) {
            g_string_append_c(out, '\n');
            *col = 0;
        }
        g_string_append_c(out, ' ');
        g_string_append_len(out, p, (gssize)n);
        *col += 1 + n;
        first = 0;
        p = q;
    }
}

/* Longest run of non-space characters. */
static size_t rp_smtp_longest_word(const char *s)
{
    size_t best = 0, cur = 0;
    for (; *s; s++) {
        cur = *s == ' ' ? 0 : cur + 1;
        if (cur > best)
            best = cur;
    }
    return best;
}

/* Unstructured text (the Subject): plain when it is printable ASCII that
 * cannot be mistaken for encoded words and folds within the line limit,
 * RFC 2047 UTF-8 words otherwise. */
static void rp_smtp_unstructured(GString *out, const char *text, size_t col)
{
    if (!*text)
        return;
    if (rp_smtp_is_ascii_printable(text) && !strstr(text, "=?") &&
        rp_smtp_longest_word(text) <= RP_SMTP_TOKEN_MAX)
        rp_smtp_fold_text(out, text, &col);
    else
        rp_smtp_encode_words(out, text, &col);
}

/* A display name followed by the address: a quoted string when printable
 * ASCII, RFC 2047 words otherwise. */
static void rp_smtp_mailbox(GString *out, const char *name, const char *addr, size_t col)
{
    if (name && *name) {
        if (rp_smtp_is_ascii_printable(name) && strlen(name) <= RP_SMTP_TOKEN_MAX) {
            GString *q = g_string_new("\"");
            for (const char *p = name; *p; p++) {
                if (*p == '"' || *p == '\\')
                    g_string_append_c(q, '\\');
                g_string_append_c(q, *p);
            }
            g_string_append_c(q, '"');
            g_string_append_c(out, ' ');
            g_string_append(out, q->str);
            col += 1 + q->len;
            g_string_free(q, TRUE);
        } else {
            rp_smtp_encode_words(out, name, &col);
        }
        size_t alen = strlen(addr) + 2;
        if (col + 1 + alen > RP_SMTP_FOLD) {
            g_string_append_c(out, '\n');
            col = 0;
        }
        g_string_append(out, " <");
        g_string_append(out, addr);
        g_string_append_c(out, '>');
    } else {
        g_string_append_c(out, ' ');
        g_string_append(out, addr);
    }
}

/* Appends a header whose raw value (leading space included, "\n" folds) is
 * written as given. GMime keeps the raw value and writes it with the
 * format's newlines. */
static void rp_smtp_raw_header(GMimeObject *obj, const char *name, const GString *raw)
{
    g_mime_object_append_header(obj, name, "", NULL);
    GMimeHeaderList *list = g_mime_object_get_header_list(obj);
    int n = g_mime_header_list_get_count(list);
    GMimeHeader *h = g_mime_header_list_get_header_at(list, n - 1);
    GString *v = g_string_new(raw->str);
    g_string_append_c(v, '\n');
    g_mime_header_set_raw_value(h, v->str);
    g_string_free(v, TRUE);
}

static void rp_smtp_simple_header(GMimeObject *obj, const char *name, const char *value)
{
    GString *raw = g_string_new(" ");
    g_string_append(raw, value);
    rp_smtp_raw_header(obj, name, raw);
    g_string_free(raw, TRUE);
}

/* The body as the part's content, ending with a line break. Line breaks
 * (LF, CRLF or a lone CR in the input) become LF when crlf is 0: for 7bit
 * and quoted-printable, where the format writes each as CRLF; or CRLF when
 * crlf is 1: base64 encodes the canonical form of text (RFC 2046 4.1.1),
 * whose line breaks are CRLF. */
static GMimeDataWrapper *rp_smtp_body(const char *body, int crlf)
{
    size_t len = strlen(body);
    GByteArray *arr = g_byte_array_sized_new((guint)len + len / 16 + 2);
    static const guint8 cr = '\r', lf = '\n';
    for (size_t i = 0; i < len; i++) {
        guint8 c = (guint8)body[i];
        if (c == '\r' && i + 1 < len && body[i + 1] == '\n')
            continue;
        if (c == '\r' || c == '\n') {
            if (crlf)
                g_byte_array_append(arr, &cr, 1);
            g_byte_array_append(arr, &lf, 1);
            continue;
        }
        g_byte_array_append(arr, &c, 1);
    }
    if (arr->len == 0 || arr->data[arr->len - 1] != '\n') {
        if (crlf)
            g_byte_array_append(arr, &cr, 1);
        g_byte_array_append(arr, &lf, 1);
    }
    GMimeStream *ms = g_mime_stream_mem_new_with_byte_array(arr); /* takes arr */
    GMimeDataWrapper *dw = g_mime_data_wrapper_new_with_stream(ms, GMIME_CONTENT_ENCODING_DEFAULT);
    g_object_unref(ms);
    return dw;
}

static int rp_smtp_check(const rp_outgoing *m, char *err, size_t errsize)
{
    if (!m->to || !*m->to) {
        rp_smtp_err(err, errsize, "no recipient address");
        return -1;
    }
    if (!rp_smtp_address_ok(m->to)) {
        rp_smtp_err(err, errsize, "recipient address is not a plain ASCII address");
        return -1;
    }
    if (!rp_smtp_address_ok(m->from)) {
        rp_smtp_err(err, errsize, "sender address missing or not a plain ASCII address");
        return -1;
    }
    if (!m->message_id || !rp_smtp_msgid_ok(m->message_id, strlen(m->message_id))) {
        rp_smtp_err(err, errsize, "message_id missing or not of the form <id@domain>");
        return -1;
    }
    if (m->in_reply_to && *m->in_reply_to &&
        !rp_smtp_msgid_ok(m->in_reply_to, strlen(m->in_reply_to))) {
        rp_smtp_err(err, errsize, "in_reply_to is not of the form <id@domain>");
        return -1;
    }
    if (m->references) {
        for (const char *p = m->references; *p;) {
            while (*p == ' ' || *p == '\t')
                p++;
            const char *q = p;
            while (*q && *q != ' ' && *q != '\t')
                q++;
            if (q > p && !rp_smtp_msgid_ok(p, (size_t)(q - p))) {
                rp_smtp_err(err, errsize, "references holds something other than <id@domain>");
                return -1;
            }
            p = q;
        }
    }
    if (!m->reply_id || !rp_smtp_token_ok(m->reply_id, strlen(m->reply_id))) {
        rp_smtp_err(err, errsize, "reply_id missing or not printable ASCII");
        return -1;
    }
    if (m->date <= 0) {
        rp_smtp_err(err, errsize, "no date");
        return -1;
    }
    const char *texts[][2] = {{"subject", m->subject}, {"from_name", m->from_name},
                              {"body", m->body}};
    for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++) {
        if (texts[i][1] && !g_utf8_validate(texts[i][1], -1, NULL)) {
            rp_smtp_err(err, errsize, "%s is not valid UTF-8", texts[i][0]);
            return -1;
        }
    }
    return 0;
}

int rp_smtp_compose(GMimeFormatOptions *fo, const rp_outgoing *m, char **out, size_t *len,
                    char *err, size_t errsize)
{
    *out = NULL;
    *len = 0;
    if (rp_smtp_check(m, err, errsize) != 0)
        return -1;

    GMimeMessage *message = g_mime_message_new(FALSE);
    GMimeObject *obj = GMIME_OBJECT(message);
    GString *raw = g_string_new(NULL);

    char *name = rp_smtp_one_line(m->from_name);
    rp_smtp_mailbox(raw, name, m->from, strlen("From:"));
    g_free(name);
    rp_smtp_raw_header(obj, "From", raw);

    rp_smtp_simple_header(obj, "To", m->to);

    char *subject = rp_smtp_one_line(m->subject);
    g_string_truncate(raw, 0);
    rp_smtp_unstructured(raw, subject, strlen("Subject:"));
    g_free(subject);
    rp_smtp_raw_header(obj, "Subject", raw);

    GDateTime *date = g_date_time_new_from_unix_utc(m->date);
    if (!date) {
        g_string_free(raw, TRUE);
        g_object_unref(message);
        rp_smtp_err(err, errsize, "date out of range");
        return -1;
    }
    g_mime_message_set_date(message, date);
    g_date_time_unref(date);

    rp_smtp_simple_header(obj, "Message-ID", m->message_id);
    if (m->in_reply_to && *m->in_reply_to)
        rp_smtp_simple_header(obj, "In-Reply-To", m->in_reply_to);
    if (m->references && strspn(m->references, " \t") < strlen(m->references)) {
        g_string_truncate(raw, 0);
        size_t col = strlen("References:");
        rp_smtp_fold_tokens(raw, m->references, &col);
        rp_smtp_raw_header(obj, "References", raw);
    }
    if (m->automatic) {
        /* RFC 3834 5.1, and its Microsoft counterpart, so that other
         * responders do not answer this reply */
        rp_smtp_simple_header(obj, "Auto-Submitted", "auto-replied");
        rp_smtp_simple_header(obj, "X-Auto-Response-Suppress", "All");
    }
    rp_smtp_simple_header(obj, "X-Replyd-Reply-Id", m->reply_id);
    rp_smtp_simple_header(obj, "MIME-Version", "1.0");
    g_string_free(raw, TRUE);

    GMimePart *part = g_mime_part_new_with_type("text", "plain");
    g_mime_object_set_content_type_parameter(GMIME_OBJECT(part), "charset", "utf-8");
    const char *body = m->body ? m->body : "";
    GMimeDataWrapper *content = rp_smtp_body(body, 0);
    g_mime_part_set_content(part, content);
    g_object_unref(content);
    /* 7bit for ASCII with lines within 998 octets, otherwise quoted-printable
     * or base64, whichever GMime finds better for this text */
    GMimeContentEncoding enc =
        g_mime_part_get_best_content_encoding(part, GMIME_ENCODING_CONSTRAINT_7BIT);
    if (enc == GMIME_CONTENT_ENCODING_DEFAULT)
        enc = GMIME_CONTENT_ENCODING_7BIT; /* say so, rather than leave it implied */
    if (enc == GMIME_CONTENT_ENCODING_BASE64) {
        content = rp_smtp_body(body, 1);
        g_mime_part_set_content(part, content);
        g_object_unref(content);
    }
    g_mime_part_set_content_encoding(part, enc);
    g_mime_message_set_mime_part(message, GMIME_OBJECT(part));
    g_object_unref(part);

    GByteArray *bytes = g_byte_array_new();
    GMimeStream *stream = g_mime_stream_mem_new_with_byte_array(bytes);
    g_mime_stream_mem_set_owner(GMIME_STREAM_MEM(stream), FALSE);
    ssize_t written = g_mime_object_write_to_stream(obj, fo, stream);
    int flushed = g_mime_stream_flush(stream);
    g_object_unref(stream);
    g_object_unref(message);
    if (written < 0 || flushed != 0) {
        g_byte_array_free(bytes, TRUE);
        rp_smtp_err(err, errsize, "composing the message failed");
        return -1;
    }

    size_t n = bytes->len;
    int need_crlf = n < 2 || bytes->data[n - 2] != '\r' || bytes->data[n - 1] != '\n';
    char *buf = malloc(n + 3);
    if (!buf) {
        g_byte_array_free(bytes, TRUE);
        rp_smtp_err(err, errsize, "out of memory");
        return -1;
    }
    if (n)
        memcpy(buf, bytes->data, n);
    g_byte_array_free(bytes, TRUE);
    if (need_crlf) {
        buf[n++] = '\r';
        buf[n++] = '\n';
    }
    buf[n] = 0;
    *out = buf;
    *len = n;
    return 0;
}

/* ---- replies ---- */

static int rp_smtp_addr_char(unsigned char c)
{
    return c > 0x20 && c != 0x7f && !strchr("<>()[],;:\"'", c);
}

void rp_smtp_redact(const char *in, size_t inlen, char *out, size_t outsize)
{
    if (!out || outsize == 0)
        return;
    size_t o = 0;
    size_t end = 0;
    while (end < inlen && in[end] != '\r' && in[end] != '\n' && in[end] != 0)
        end++;
    size_t i = 0;
    while (i < end && o + 1 < outsize) {
        unsigned char c = (unsigned char)in[i];
        if (rp_smtp_addr_char(c)) {
            /* a word: is it an address? */
            size_t j = i;
            int has_at = 0;
            while (j < end && rp_smtp_addr_char((unsigned char)in[j])) {
                if (in[j] == '@')
                    has_at = 1;
                j++;
            }
            if (has_at) {
                if (o > 0 && out[o - 1] == '<' && j < end && in[j] == '>') {
                    o--;
                    j++;
                }
                const char *rep = "<address>";
                for (const char *r = rep; *r && o + 1 < outsize; r++)
                    out[o++] = *r;
            } else {
                for (size_t k = i; k < j && o + 1 < outsize; k++)
                    out[o++] = in[k];
            }
            i = j;
            continue;
        }
        out[o++] = (char)(c < 0x20 || c == 0x7f ? ' ' : c);
        i++;
    }
    out[o] = 0;
}
