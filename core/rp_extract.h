/* rp_extract.h — finding the buyer's own words in a decoded message body.
 *
 * Marketplace relays frame the buyer's text between marker lines
 * ("------------- Begin message -------------", in each marketplace's
 * language) and wrap it in boilerplate; buyers' mail programs add quoted
 * history ("On … wrote:", "> …", "-----Original Message-----") and
 * signatures ("-- ", "Sent from my iPhone"). rp_extract_buyer_text() keeps the
 * text inside the relay frame, cuts quoted history and signatures, and trims
 * blank lines. The recognised phrases for the six languages are listed in
 * rp_extract.c; they are structural markers, not classifier vocabulary.
 *
 * Output is a new NUL-terminated string the caller frees; NULL on ENOMEM.
 */
#ifndef RP_EXTRACT_H
#define RP_EXTRACT_H

#include <stdbool.h>
#include <stddef.h>

char *rp_extract_buyer_text(const char *text, size_t len);

/* Find the first marketplace order id (NNN-NNNNNNN-NNNNNNN) in text; copies it
 * into out (>= 20 bytes) and returns true when found. */
bool rp_find_order_id(const char *text, size_t len, char out[20]);

/* Normalise line endings (CRLF, CR → LF) in place; returns the new length. */
size_t rp_normalize_newlines(char *s, size_t len);


#include "rp_error.h"
#include "rp_message.h"

/* Fill in what every reader derives from the decoded text of a message: the
 * buyer's words (m->body), and m->order_id when the input gave none (looked
 * for in the subject, then the text). Takes over text (valid UTF-8, readers
 * validate or convert while decoding) and frees it; the raw message keeps
 * everything. Fails with RP_EEMPTY if no words of the buyer's are left. */
rp_status rp_message_finish(rp_message *m, char *text, rp_error *err);

#endif
