/* rp_error.h — result codes and error detail shared by every replyd module.
 *
 * Every fallible function returns an rp_status (RP_OK on success) and, where a
 * caller needs to know why, fills an rp_error supplied by the caller. The codes
 * are part of the public interface: they are never renumbered, new ones are
 * appended. rp_strerror() never returns NULL. An rp_error is plain storage owned
 * by the caller; nothing in it needs freeing.
 */
#ifndef RP_ERROR_H
#define RP_ERROR_H

#include <stddef.h>

typedef enum rp_status {
    RP_OK = 0,
    RP_ENOMEM = 1,   /* out of memory */
    RP_EIO = 2,      /* reading or writing a file failed */
    RP_EPARSE = 3,   /* input is not well formed (JSON, YAML, MIME) */
    RP_ELIMIT = 4,   /* input exceeds a configured limit (size, depth, parts) */
    RP_ECHARSET = 5, /* unknown charset or bytes not valid in the declared one */
    RP_EUTF8 = 6,    /* text is not valid UTF-8 */
    RP_EEMPTY = 7,   /* the message has no text of the buyer's own */
    RP_ECONFIG = 8,  /* configuration or data file is invalid */
    RP_EUSAGE = 9,   /* the caller used the API or CLI wrongly */
    RP_EOF = 10,     /* end of input (not an error for readers) */
    RP_EINVAL = 11   /* a field has an invalid value */
} rp_status;

#define RP_ERROR_MSG_MAX 320

typedef struct rp_error {
    rp_status code;
    char msg[RP_ERROR_MSG_MAX];
} rp_error;

/* Short English description of a status code; static storage. */
const char *rp_strerror(rp_status code);

/* Set err (may be NULL) to code and a printf-style message; returns code so a
 * caller can write `return rp_error_set(err, RP_EPARSE, "...")`. */
rp_status rp_error_set(rp_error *err, rp_status code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

void rp_error_clear(rp_error *err);

#endif
