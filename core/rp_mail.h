/* rp_mail.h — e-mail reader: .eml files and Maildir messages, via GMime.
 *
 * Reads one RFC 5322 message: decodes RFC 2047 headers, quoted-printable and
 * base64, converts the charset (UTF-8, ISO-8859-1/15, Windows-1252,
 * ISO-2022-JP, Shift_JIS, EUC-JP and whatever iconv knows) to UTF-8, picks the
 * text of the message (text/plain preferred; text/html reduced to text
 * otherwise; attachments skipped; forwarded message/rfc822 parts searched),
 * then extracts the buyer's words (rp_extract). The marketplace is derived
 * from an anonymised relay sender (…@marketplace.amazon.de → amazon.de).
 *
 * rp_mail_init() must be called once before use and rp_mail_shutdown() once
 * at the end (GMime keeps process-wide tables). On success *out is a new
 * message the caller frees; on error err says why and *out, if not NULL,
 * carries id/source so the caller can name the message.
 */
#ifndef RP_MAIL_H
#define RP_MAIL_H

#include <stddef.h>

#include "rp_error.h"
#include "rp_message.h"
#include "rp_reader.h"

void rp_mail_init(void);
void rp_mail_shutdown(void);

rp_status rp_mail_parse(const char *data, size_t len, const char *source, const rp_limits *lim,
                        rp_message **out, rp_error *err);
rp_status rp_mail_read_file(const char *path, const rp_limits *lim, rp_message **out,
                            rp_error *err);
/* The same for name relative to the open directory dirfd (as openat(2));
 * path is how the message is named in its source and errors. */
rp_status rp_mail_read_fileat(int dirfd, const char *name, const char *path, const rp_limits *lim,
                              rp_message **out, rp_error *err);

/* Convert bytes in a named charset to UTF-8 (new string, caller frees).
 * RP_ECHARSET for an unknown charset or bytes invalid in it. */
rp_status rp_charset_to_utf8(const char *charset, const char *in, size_t len, char **out,
                             size_t *outlen, rp_error *err);

/* Decode an RFC 2047 header value (raw, possibly folded) to UTF-8 (new
 * string, caller frees; NULL on ENOMEM). Adjacent encoded words in the same
 * charset are joined before conversion, so a multibyte character split
 * between two words survives; unencoded 8-bit text is read as UTF-8, else as
 * Windows-1252; undecodable parts become U+FFFD. Never fails on bad input. */
char *rp_rfc2047_decode(const char *raw);

#endif
