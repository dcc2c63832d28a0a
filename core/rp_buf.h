/* rp_buf.h — growable byte buffer, always NUL-terminated.
 *
 * The buffer owns its storage; rp_buf_free() releases it. Append functions
 * return RP_ENOMEM (and leave the buffer as it was) when memory runs out.
 * rp_buf_steal() hands the storage to the caller (free() it) and resets the
 * buffer. A zero-initialised rp_buf is a valid empty buffer.
 */
#ifndef RP_BUF_H
#define RP_BUF_H

#include <stddef.h>

#include "rp_error.h"

typedef struct rp_buf {
    char *data; /* NULL until the first append */
    size_t len;
    size_t cap;
} rp_buf;

rp_status rp_buf_reserve(rp_buf *b, size_t extra);
rp_status rp_buf_append(rp_buf *b, const void *data, size_t len);
rp_status rp_buf_append_str(rp_buf *b, const char *s);
rp_status rp_buf_append_char(rp_buf *b, char c);
rp_status rp_buf_printf(rp_buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Append s as the contents of a JSON string literal, quotes included. */
rp_status rp_buf_append_json_string(rp_buf *b, const char *s, size_t len);
void rp_buf_reset(rp_buf *b); /* len = 0, keeps storage */
char *rp_buf_steal(rp_buf *b); /* caller frees; never NULL unless ENOMEM */
void rp_buf_free(rp_buf *b);

/* Duplicate len bytes as a NUL-terminated string; NULL on ENOMEM. */
char *rp_strndup(const char *s, size_t len);
char *rp_strdup(const char *s); /* NULL in, NULL out */

#endif
