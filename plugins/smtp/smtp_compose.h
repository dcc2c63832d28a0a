/* smtp_compose.h — private to the smtp sink: turns an rp_outgoing into the
 * bytes of an RFC 5322 message (GMime 3 does the MIME part, the Date header
 * and the serialisation; the From display name and the Subject are RFC 2047
 * encoded here so that no encoded word is longer than 75 characters), and
 * cuts e-mail addresses out of server replies.
 *
 * Memory: rp_smtp_compose hands back a malloc'd buffer the caller frees.
 * Errors: -1 and a reason in the caller's buffer (never buyer data); the
 * reason always means "this message can never be sent as it is".
 *
 * GMime must be initialised (g_mime_init) by the caller.
 */
#ifndef RP_SMTP_COMPOSE_H
#define RP_SMTP_COMPOSE_H

#include <gmime/gmime.h>
#include <stddef.h>

#include "plugin.h"

/* Composes msg into *out (malloc'd, NUL-terminated, *len bytes without the
 * NUL): CRLF line ends, ends with CRLF, no line longer than 998 octets.
 * fo must have the DOS newline format. The same msg always gives the same
 * bytes. */
int rp_smtp_compose(GMimeFormatOptions *fo, const rp_outgoing *msg, char **out, size_t *len,
                    char *err, size_t errsize);

/* Copies the first line of in (up to CR or LF) to out, replacing every
 * e-mail address (with its angle brackets, if any) by "<address>" and control
 * characters by spaces. Always NUL-terminates when outsize > 0. */
void rp_smtp_redact(const char *in, size_t inlen, char *out, size_t outsize);

/* 1 when s is usable as an SMTP envelope or header address: non-empty, at
 * most 254 octets, one '@' with text on both sides, no whitespace, control
 * characters or any of <>()[],;:\" . */
int rp_smtp_address_ok(const char *s);

#endif
