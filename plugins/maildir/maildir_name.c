/* maildir_name.c — Maildir file names: the cur/ name with its info flags,
 * and the delivery order. See maildir_name.h; no I/O, no allocation, the
 * caller's buffers only.
 */
#include "maildir_name.h"

#include <string.h>

static int rp_maildir_is_letter(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
}

size_t rp_maildir_cur_name(const char *name, char add, char *out, size_t outsize)
{
    if (!name || !out || outsize <= RP_MAILDIR_NAME_MAX)
        return 0;
    size_t base = strcspn(name, ":");
    if (base == 0 || base > RP_MAILDIR_NAME_MAX || memchr(name, '/', base))
        return 0;
    /* which letters are set: 'A'..'Z' then 'a'..'z', ASCII order */
    unsigned char set[128] = {0};
    const char *info = name[base] == ':' ? name + base + 1 : NULL;
    if (info && info[0] == '2' && info[1] == ',') {
        for (const unsigned char *p = (const unsigned char *)info + 2; *p; p++)
            if (rp_maildir_is_letter(*p))
                set[*p] = 1;
    }
    if (rp_maildir_is_letter((unsigned char)add))
        set[(unsigned char)add] = 1;
    size_t nflags = 0;
    for (unsigned c = 0; c < sizeof set; c++)
        nflags += set[c];
    if (base + 3 + nflags > RP_MAILDIR_NAME_MAX) {
        /* too long with every flag: the added one only, if that fits */
        memset(set, 0, sizeof set);
        nflags = 0;
        if (rp_maildir_is_letter((unsigned char)add)) {
            set[(unsigned char)add] = 1;
            nflags = 1;
        }
    }
    memcpy(out, name, base);
    size_t len = base;
    if (base + 3 + nflags <= RP_MAILDIR_NAME_MAX) {
        memcpy(out + len, ":2,", 3);
        len += 3;
        for (unsigned c = 0; c < sizeof set; c++)
            if (set[c])
                out[len++] = (char)c;
    }
    out[len] = '\0';
    return len;
}

int rp_maildir_name_cmp(const char *a, const char *b)
{
    size_t da = strspn(a, "0123456789"), db = strspn(b, "0123456789");
    if (da && db && da != db)
        return da < db ? -1 : 1;
    return strcmp(a, b);
}
