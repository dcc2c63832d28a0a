/* rp_reader.h — limits shared by every message reader.
 *
 * Limits protect replyd from hostile or broken input: a message over a limit
 * is rejected with RP_ELIMIT and a message naming the limit, and the next
 * message is read as usual. Defaults are safe for marketplace mail (which
 * allows attachments of a few MB).
 */
#ifndef RP_READER_H
#define RP_READER_H

#include <stddef.h>

typedef struct rp_limits {
    size_t max_message_bytes; /* whole message as read; default 16 MiB */
    unsigned max_mime_depth;  /* nesting of multiparts / message/rfc822; default 20 */
    unsigned max_mime_parts;  /* MIME parts in one message; default 500 */
    int mail_fast_path;       /* read single-part mail without GMime; default 1 */
} rp_limits;

#define RP_DEFAULT_MAX_MESSAGE_BYTES (16u * 1024 * 1024)
#define RP_DEFAULT_MAX_MIME_DEPTH 20u
#define RP_DEFAULT_MAX_MIME_PARTS 500u

static inline rp_limits rp_limits_default(void)
{
    rp_limits l = {RP_DEFAULT_MAX_MESSAGE_BYTES, RP_DEFAULT_MAX_MIME_DEPTH,
                   RP_DEFAULT_MAX_MIME_PARTS, 1};
    return l;
}

#endif
