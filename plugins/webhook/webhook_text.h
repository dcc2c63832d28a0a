/* webhook_text.h — text helpers private to the webhook sink plugin.
 *
 * rp_wh_one_line() turns untrusted bytes from a remote server (a response
 * body, a libcurl error text) into one printable line fit for a log or the
 * queue: control characters become spaces, whitespace runs collapse, invalid
 * UTF-8 becomes '?', anything that looks like an e-mail address becomes
 * "[address]", and the result is cut at a character boundary. The caller owns
 * both buffers; nothing is allocated and nothing can fail.
 */
#ifndef RP_WEBHOOK_TEXT_H
#define RP_WEBHOOK_TEXT_H

#include <stddef.h>

/* Write at most min(maxbytes, outsize - 1) bytes of sanitised text plus a NUL
 * to out (outsize > 0) and return the length written. `incomplete` says that
 * in[0..len) is only the start of a longer text: its last word may be a cut
 * address, so it is dropped. */
size_t rp_wh_one_line(const char *in, size_t len, int incomplete, char *out, size_t outsize,
                      size_t maxbytes);

/* 1 when s is non-empty, at most max bytes, and made only of visible ASCII
 * (0x21..0x7e), so it can go into an HTTP header value as it is. */
int rp_wh_header_safe(const char *s, size_t max);

/* 1 when s is a non-empty HTTP token (RFC 9110 tchar) of at most max bytes. */
int rp_wh_token(const char *s, size_t max);

#endif
