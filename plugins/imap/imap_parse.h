/* imap_parse.h — pure parsers for IMAP server responses (RFC 3501) as the
 * imap source plugin reads them from the wire, and the UID-set formatter.
 *
 * Every function works on a byte range it is given (never NUL-terminated
 * input), reads nothing outside it, allocates nothing and keeps no state.
 * Spans handed back point into the caller's bytes and live as long as they
 * do. Errors come back as return values; no function logs.
 *
 * A "response" here is one complete server response as it arrives on the
 * wire: a line ending in CRLF, where a line that ends in a literal
 * announcement "{N}" (or "{N+}") goes on after the N literal bytes, until a
 * line ends without one. rp_imap_response_len() finds where one ends; the
 * other parsers take exactly such a range.
 */
#ifndef RP_IMAP_PARSE_H
#define RP_IMAP_PARSE_H

#include <stddef.h>
#include <stdint.h>

typedef struct rp_imap_span {
    const char *p;
    size_t n;
} rp_imap_span;

/* rp_imap_response_len results */
#define RP_IMAP_INCOMPLETE 0 /* more bytes are needed */
#define RP_IMAP_COMPLETE 1   /* *out_len holds the response's length */
#define RP_IMAP_MALFORMED -1 /* a line longer than max_line, a literal larger
                              * than max_literal or an unreadable "{...}" */

/* Finds the end of the response starting at buf. Lines (without literals)
 * may be at most max_line bytes, literals at most max_literal. */
int rp_imap_response_len(const char *buf, size_t len, size_t max_line, size_t max_literal,
                         size_t *out_len);

/* Response kinds */
#define RP_IMAP_UNTAGGED 0 /* "* ..." */
#define RP_IMAP_TAGGED 1   /* "TAG ..." */
#define RP_IMAP_CONTINUATION 2 /* "+ ..." */

/* Status words (RP_IMAP_ST_NONE for untagged data such as "* 3 EXISTS") */
#define RP_IMAP_ST_NONE 0
#define RP_IMAP_ST_OK 1
#define RP_IMAP_ST_NO 2
#define RP_IMAP_ST_BAD 3
#define RP_IMAP_ST_BYE 4
#define RP_IMAP_ST_PREAUTH 5

typedef struct rp_imap_status {
    int kind;          /* RP_IMAP_UNTAGGED / TAGGED / CONTINUATION */
    rp_imap_span tag;  /* TAGGED: the tag */
    int status;        /* RP_IMAP_ST_* */
    rp_imap_span code; /* inside "[...]": "UIDVALIDITY 42"; n == 0 when none */
    rp_imap_span text; /* the human-readable rest of the first line, no CRLF */
} rp_imap_status;

/* Reads the first line of a response: its kind, tag, status word, response
 * code and text. Returns 0, or -1 when it is not a response at all. */
int rp_imap_parse_status(const char *r, size_t n, rp_imap_status *st);

/* A response code "NAME number" (UIDVALIDITY, UIDNEXT): 0 and *out when
 * code is that name followed by a 32-bit number, else -1. */
int rp_imap_code_number(rp_imap_span code, const char *name, uint32_t *out);

/* Whether a code's name is `name` ("TRYCREATE", "NONEXISTENT"): 1 or 0. */
int rp_imap_code_is(rp_imap_span code, const char *name);

/* "* CAPABILITY a b c" or a code "CAPABILITY a b c": 1 when cap is listed
 * (case-insensitive), 0 when not, -1 when r is no capability list. */
int rp_imap_has_capability(const char *r, size_t n, const char *cap);

/* "* SEARCH 1 5 9": calls fn for each number (stops early when fn returns
 * non-zero). Returns the count of numbers read, or -1 when r is not a
 * SEARCH response or holds something other than numbers. */
int rp_imap_parse_search(const char *r, size_t n, int (*fn)(void *ctx, uint32_t num),
                         void *ctx);

/* "* N NAME" with NAME "EXISTS" or "EXPUNGE" (case-insensitive): 0 and
 * *out = N, else -1. */
int rp_imap_parse_numbered(const char *r, size_t n, const char *name, uint32_t *out);

/* One "* N FETCH (...)" response. */
typedef struct rp_imap_fetch {
    uint32_t seq;
    uint32_t uid;        /* 0 when absent */
    int has_size;
    uint64_t size;       /* RFC822.SIZE */
    int has_date;
    int64_t date;        /* INTERNALDATE as Unix seconds */
    int has_body;        /* BODY[] came as a literal or a quoted string */
    int body_quoted;     /* the body is the inside of a quoted string, escapes
                          * (backslash before '"' or '\') still in place */
    rp_imap_span body;
} rp_imap_fetch;

/* Parses a FETCH response; attributes other than UID, RFC822.SIZE,
 * INTERNALDATE and BODY[] are skipped. Returns 0, or -1 when r is not a
 * well-formed FETCH response. */
int rp_imap_parse_fetch(const char *r, size_t n, rp_imap_fetch *f);

/* "22-Nov-2026 15:37:43 +0000" (with or without the leading space of a
 * one-digit day) to Unix seconds: 0 and *out, else -1. */
int rp_imap_parse_date(const char *s, size_t n, int64_t *out);

/* Undoes quoted-string escapes in place; returns the new length. */
size_t rp_imap_unquote(char *s, size_t n);

/* Writes the sorted, de-duplicated UIDs as an IMAP set ("3:7,9,12:13") into
 * out (NUL-terminated). Returns how many UIDs from the start of uids it
 * covered (fewer than n when out is too small; 0 when nothing fits). */
size_t rp_imap_uid_set(const uint32_t *uids, size_t n, char *out, size_t outsize);

/* Writes name as an IMAP quoted string ("INBOX", with '"' and '\'
 * escaped) into out. Returns 0, or -1 when it does not fit or name holds a
 * CR, LF or NUL. */
int rp_imap_quote(const char *name, char *out, size_t outsize);

#endif
