/* rp_text.h — Unicode text helpers: UTF-8 validation and the folding used for
 * keyword matching and language identification.
 *
 * rp_text_fold() turns UTF-8 text into the canonical matching form: NFKC,
 * case folded, Latin accents removed (é→e, ß→ss, œ→oe), every run of
 * characters that are not letters, digits or marks replaced by one space, and
 * a single space at both ends. Clause punctuation (. , ; : ! ? 。 、 and line
 * breaks) becomes " \n " instead, so that phrases and negation stop there. Kana and kanji are kept as they are (after
 * NFKC, so half-width katakana become full width). Invalid UTF-8 bytes count
 * as separators. Output is appended to a caller-owned rp_buf.
 */
#ifndef RP_TEXT_H
#define RP_TEXT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "rp_buf.h"

bool rp_utf8_valid(const char *s, size_t len);

/* Number of characters (code points) in len bytes of UTF-8: the bytes that
 * do not continue a sequence. */
size_t rp_utf8_chars(const char *s, size_t len);

/* Offset of the first invalid byte, or len when the text is valid. */
size_t rp_utf8_invalid_offset(const char *s, size_t len);

rp_status rp_text_fold(const char *s, size_t len, rp_buf *out);

/* Decode one UTF-8 code point at s (len > 0); returns bytes used (>= 1) and
 * stores -1 in *cp for an invalid sequence. */
size_t rp_utf8_next(const unsigned char *s, size_t len, int32_t *cp);

/* Encode a code point as UTF-8 into out (room for 4 bytes); returns the
 * length. Surrogates, 0 and values past U+10FFFF become U+FFFD. */
size_t rp_utf8_encode(int32_t cp, char out[4]);

/* Script of a code point, as far as replyd needs to know. */
enum rp_script { RP_SCRIPT_OTHER, RP_SCRIPT_LATIN, RP_SCRIPT_KANA, RP_SCRIPT_HAN };
enum rp_script rp_script_of(int32_t cp);

#endif
