/* Fuzz what the sinks make of a remote server's answer (an SMTP reply line,
 * an HTTP response body): one printable line, within bounds, with no e-mail
 * address left in it. The plugins' private helpers are compiled in here. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../plugins/smtp/smtp_compose.c"
#include "../../plugins/webhook/webhook_text.c"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_line(const char *s, size_t n, size_t max)
{
    if (strlen(s) != n || n > max)
        abort();
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c < 0x20 || c == 0x7f)
            abort(); /* one line, no control characters */
    }
    /* no address survives: no "x@y.z" with letters on both sides */
    for (const char *at = strchr(s, '@'); at; at = strchr(at + 1, '@')) {
        int left = at > s && (at[-1] >= 'a' && at[-1] <= 'z');
        const char *r = at + 1;
        int right = 0;
        while ((*r >= 'a' && *r <= 'z') || (*r >= 'A' && *r <= 'Z') || (*r >= '0' && *r <= '9') ||
               *r == '-' || *r == '.') {
            if (*r == '.' && r[1] >= 'a' && r[1] <= 'z')
                right = 1;
            r++;
        }
        if (left && right)
            abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char out[512];
    size_t n = rp_wh_one_line((const char *)data, size, size & 1, out, sizeof out, 200);
    check_line(out, n, 200);
    char red[512];
    rp_smtp_redact((const char *)data, size, red, sizeof red);
    check_line(red, strlen(red), sizeof red - 1);
    char *z = malloc(size + 1); /* the header checks take NUL-terminated text */
    if (!z)
        return 0;
    memcpy(z, data, size);
    z[size] = 0;
    if (rp_wh_header_safe(z, 512) && (strchr(z, ' ') || strchr(z, '\n')))
        abort();
    (void)rp_wh_token(z, 64);
    (void)rp_smtp_address_ok(z);
    free(z);
    return 0;
}
