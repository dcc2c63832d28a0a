/* rp_embedded.h — data files compiled into the binary.
 *
 * The build embeds data/ (default configuration, lexicons, language lists)
 * so that replyd runs without an installed data directory. The table is
 * read-only static data; names are the paths below data/, e.g.
 * "lexicons/de.yaml". Each entry's bytes are followed by a NUL.
 */
#ifndef RP_EMBEDDED_H
#define RP_EMBEDDED_H

#include <stddef.h>

typedef struct rp_embedded_file {
    const char *name;
    const unsigned char *data;
    size_t len;
} rp_embedded_file;

extern const rp_embedded_file rp_embedded_files[]; /* ends with a NULL name */

/* NULL if there is no such file. */
const rp_embedded_file *rp_embedded_find(const char *name);

#endif
