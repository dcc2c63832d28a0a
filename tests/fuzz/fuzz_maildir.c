/* Fuzz the maildir source's file-name handling (plugins/maildir/maildir_name.c,
 * compiled in here: the plugin links nothing of replyd's). Any name from new/
 * gives a cur/ name that fits NAME_MAX, keeps the unique part, has one
 * ":2," info part with its flags as sorted distinct letters, and is a fixed
 * point (moving it again changes nothing); the delivery order is
 * antisymmetric. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../plugins/maildir/maildir_name.c"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int sign(int x)
{
    return (x > 0) - (x < 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    char add = (char)data[0];
    char *name = malloc(size);
    if (!name)
        return 0;
    memcpy(name, data + 1, size - 1);
    name[size - 1] = '\0'; /* a file name ends at its first NUL */

    char out[RP_MAILDIR_NAME_MAX + 1], again[RP_MAILDIR_NAME_MAX + 1];
    size_t len = rp_maildir_cur_name(name, add, out, sizeof out);
    size_t base = strcspn(name, ":");
    int refused = base == 0 || base > RP_MAILDIR_NAME_MAX || memchr(name, '/', base) != NULL;
    if ((len == 0) != refused)
        abort();
    if (len) {
        if (len != strlen(out) || len > RP_MAILDIR_NAME_MAX || strchr(out, '/') ||
            memcmp(out, name, base) != 0)
            abort();
        const char *info = strchr(out, ':');
        if (info) {
            if (info != out + base || strncmp(info, ":2,", 3) != 0)
                abort();
            for (const char *f = info + 3; *f; f++) {
                int letter = (*f >= 'A' && *f <= 'Z') || (*f >= 'a' && *f <= 'z');
                if (!letter || (f > info + 3 && (unsigned char)f[-1] >= (unsigned char)*f))
                    abort();
            }
            if (((add >= 'A' && add <= 'Z') || (add >= 'a' && add <= 'z')) &&
                !strchr(info + 3, add))
                abort();
        } else if (len != base) {
            abort();
        }
        if (rp_maildir_cur_name(out, add, again, sizeof again) != len || strcmp(out, again) != 0)
            abort();
        /* too small a buffer is refused, never overrun */
        if (rp_maildir_cur_name(name, add, again, RP_MAILDIR_NAME_MAX) != 0)
            abort();
    }

    /* the order: split the name in two at its middle */
    size_t n = strlen(name), half = n / 2;
    char *b = name + half + (half < n);
    char a[RP_MAILDIR_NAME_MAX + 1];
    size_t al = half < RP_MAILDIR_NAME_MAX ? half : RP_MAILDIR_NAME_MAX;
    memcpy(a, name, al);
    a[al] = '\0';
    if (sign(rp_maildir_name_cmp(a, b)) != -sign(rp_maildir_name_cmp(b, a)) ||
        rp_maildir_name_cmp(a, a) != 0)
        abort();
    free(name);
    return 0;
}
