/* maildir_name.h — the name a Maildir message takes when it moves from new/
 * to cur/, and the order messages are taken in.
 *
 * Pure functions on strings: no I/O, no allocation. File names come from the
 * Maildir (outside input), so every function accepts any NUL-terminated
 * text; the fuzz target tests/fuzz/fuzz_maildir.c runs them on random input.
 */
#ifndef RP_MAILDIR_NAME_H
#define RP_MAILDIR_NAME_H

#include <stddef.h>

/* Longest file name the plugin writes (POSIX NAME_MAX on the common file
 * systems). */
#define RP_MAILDIR_NAME_MAX 255

/* Writes into out (outsize > RP_MAILDIR_NAME_MAX) the name that the message
 * named name in new/ takes in cur/: its unique part (everything before the
 * first ':'), then ":2," and its flags in ASCII order, each once. The flags
 * are those of an existing "2," info part (letters only; anything else in
 * it is dropped), plus add when add is a letter (0: none). Any other info
 * part (":1,…", garbage) is replaced. When that name would be longer than
 * RP_MAILDIR_NAME_MAX the old flags are dropped (add alone), and when even
 * that is too long the unique part alone is written (a valid Maildir name
 * without info). Applied to its own result it gives the same name. Returns
 * the length written, or 0 when the unique part is empty, longer than
 * RP_MAILDIR_NAME_MAX or holds a '/', or out is too small. */
size_t rp_maildir_cur_name(const char *name, char add, char *out, size_t outsize);

/* Order of names in new/: Maildir names begin with the delivery time in
 * seconds, so a leading run of digits compares as a number (a shorter run
 * first), then the names compare byte by byte. Negative, zero or positive
 * like strcmp(). */
int rp_maildir_name_cmp(const char *a, const char *b);

#endif
