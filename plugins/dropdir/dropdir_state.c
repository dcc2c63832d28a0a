/* dropdir_state.c — reading and writing the dropdir source's saved progress
 * (dropdir_state.h). Strict: every field, in order, decimal numbers only;
 * anything else is "not understood" and the caller starts afresh.
 */
#include "dropdir_state.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>

/* Reads DIGITS (at most 19) followed by sep at *p; advances *p past sep. */
static int rp_dropdir_num(const char **p, char sep, uint64_t *out)
{
    const char *s = *p;
    uint64_t v = 0;
    size_t n = 0;
    for (; s[n] >= '0' && s[n] <= '9'; n++) {
        if (n >= 19)
            return -1;
        v = v * 10 + (uint64_t)(s[n] - '0');
    }
    if (n == 0 || s[n] != sep)
        return -1;
    *out = v;
    *p = s + n + 1;
    return 0;
}

/* Reads "KEY=DIGITS" followed by sep at *p; advances *p past sep. */
static int rp_dropdir_field(const char **p, const char *key, char sep, uint64_t *out)
{
    size_t kl = strlen(key);
    if (strncmp(*p, key, kl) != 0 || (*p)[kl] != '=')
        return -1;
    *p += kl + 1;
    return rp_dropdir_num(p, sep, out);
}

int rp_dropdir_state_parse(const char *text, rp_dropdir_state *st)
{
    memset(st, 0, sizeof *st);
    if (!text || !text[0])
        return 0;
    const char *p = text;
    uint64_t line, offset, ino, sec, ns;
    if (rp_dropdir_field(&p, "line", ' ', &line) != 0 ||
        rp_dropdir_field(&p, "offset", ' ', &offset) != 0 ||
        rp_dropdir_field(&p, "ino", ' ', &ino) != 0 ||
        rp_dropdir_field(&p, "mtime", '.', &sec) != 0 ||
        rp_dropdir_num(&p, ' ', &ns) != 0 || strncmp(p, "file=", 5) != 0)
        return -1;
    p += 5;
    size_t len = strlen(p);
    if (len == 0 || len >= sizeof st->file || strchr(p, '/') || ns > 999999999u ||
        sec > (uint64_t)INT64_MAX || offset > (uint64_t)INT64_MAX)
        return -1;
    for (size_t i = 0; i < len; i++)
        if ((unsigned char)p[i] < 0x20 || p[i] == 0x7f)
            return -1;
    st->line = line;
    st->offset = offset;
    st->ino = ino;
    st->mtime_s = (int64_t)sec;
    st->mtime_ns = (long)ns;
    memcpy(st->file, p, len + 1);
    return 1;
}

int rp_dropdir_state_format(const rp_dropdir_state *st, char *out, size_t outsize)
{
    int n = snprintf(out, outsize, "line=%llu offset=%llu ino=%llu mtime=%lld.%09ld file=%s",
                     (unsigned long long)st->line, (unsigned long long)st->offset,
                     (unsigned long long)st->ino, (long long)st->mtime_s, st->mtime_ns,
                     st->file);
    return n < 0 || (size_t)n >= outsize ? -1 : 0;
}
