/* Fuzz the imap source's response parsers (plugins/imap/imap_parse.c): the
 * input is a stream of server bytes, cut into responses the way the plugin
 * does, and every parser runs on every response. Spans must stay inside the
 * response, lengths inside the input, and the UID-set formatter must write a
 * well-formed set of what it claims to cover. The parser file is compiled in
 * here. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../plugins/imap/imap_parse.c"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void inside(rp_imap_span s, const char *r, size_t n)
{
    if (s.n && (s.p < r || s.p > r + n || s.n > (size_t)(r + n - s.p)))
        abort();
}

static int count_cb(void *ctx, uint32_t v)
{
    uint32_t *last = ctx;
    *last = v;
    return v == 7; /* stop early sometimes */
}

static void check_set(const uint32_t *uids, size_t n, size_t outsize)
{
    char out[256];
    size_t k = rp_imap_uid_set(uids, n, out, outsize);
    if (k > n || strlen(out) >= outsize)
        abort();
    if (k == 0 && out[0])
        abort();
    for (const char *p = out; *p; p++)
        if (!((*p >= '0' && *p <= '9') || *p == ':' || *p == ','))
            abort();
    /* every UID covered appears in the set: re-parse and compare */
    size_t idx = 0;
    const char *p = out;
    while (*p && idx < k) {
        char *end;
        unsigned long a = strtoul(p, &end, 10), b = a;
        if (*end == ':')
            b = strtoul(end + 1, &end, 10);
        while (idx < k && uids[idx] >= a && uids[idx] <= b)
            idx++;
        p = *end == ',' ? end + 1 : end;
    }
    if (idx != k)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *buf = (const char *)data;
    size_t pos = 0;
    /* small limits so that the limit paths are reached */
    size_t max_line = 64 + (size & 0xff), max_lit = 4096;
    while (pos < size) {
        size_t rl = 0;
        int r = rp_imap_response_len(buf + pos, size - pos, max_line, max_lit, &rl);
        if (r == RP_IMAP_MALFORMED || r == RP_IMAP_INCOMPLETE)
            break;
        if (r != RP_IMAP_COMPLETE || rl == 0 || rl > size - pos)
            abort();
        const char *resp = buf + pos;
        rp_imap_status st;
        if (rp_imap_parse_status(resp, rl, &st) == 0) {
            inside(st.tag, resp, rl);
            inside(st.code, resp, rl);
            inside(st.text, resp, rl);
            uint32_t v;
            (void)rp_imap_code_number(st.code, "UIDVALIDITY", &v);
            (void)rp_imap_code_number(st.code, "UIDNEXT", &v);
            (void)rp_imap_code_is(st.code, "TRYCREATE");
            if (st.code.n)
                (void)rp_imap_has_capability(st.code.p, st.code.n, "MOVE");
        }
        (void)rp_imap_has_capability(resp, rl, "UIDPLUS");
        uint32_t last = 0, ex;
        (void)rp_imap_parse_search(resp, rl, count_cb, &last);
        (void)rp_imap_parse_numbered(resp, rl, "EXISTS", &ex);
        (void)rp_imap_parse_numbered(resp, rl, "EXPUNGE", &ex);
        rp_imap_fetch f;
        if (rp_imap_parse_fetch(resp, rl, &f) == 0 && f.has_body) {
            inside(f.body, resp, rl);
            char *copy = malloc(f.body.n + 1);
            if (copy) {
                if (f.body.n)
                    memcpy(copy, f.body.p, f.body.n);
                if (rp_imap_unquote(copy, f.body.n) > f.body.n)
                    abort();
                free(copy);
            }
        }
        pos += rl;
    }
    int64_t t;
    (void)rp_imap_parse_date(buf, size, &t);

    /* the input as UIDs, sorted, for the set formatter */
    size_t n = size / 4 < 64 ? size / 4 : 64;
    uint32_t uids[64];
    for (size_t i = 0; i < n; i++) {
        uint32_t v;
        memcpy(&v, data + i * 4, 4);
        uids[i] = v % 50; /* runs and duplicates */
        if (i && uids[i] < uids[i - 1])
            uids[i] = uids[i - 1] + (v & 1);
    }
    check_set(uids, n, 256);
    check_set(uids, n, 1 + (size % 40));

    char name[128], q[64];
    size_t nl = size < sizeof name - 1 ? size : sizeof name - 1;
    memcpy(name, data, nl);
    name[nl] = 0;
    if (rp_imap_quote(name, q, sizeof q) == 0 && (q[0] != '"' || strlen(q) >= sizeof q))
        abort();
    return 0;
}
