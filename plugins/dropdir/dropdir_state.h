/* dropdir_state.h — the progress the dropdir source saves through
 * host->save_state, as text, and reads back in open().
 *
 * Text: "line=N offset=B ino=I mtime=S.NNNNNNNNN file=NAME", NAME running to
 * the end (a file name may hold spaces). An empty text: no file in progress.
 * No buyer data: a file name, counts and the file's identity.
 *
 * Pure functions, no allocation: the caller owns every buffer.
 */
#ifndef RP_DROPDIR_STATE_H
#define RP_DROPDIR_STATE_H

#include <stddef.h>
#include <stdint.h>

typedef struct rp_dropdir_state {
    uint64_t line;      /* lines of the file done (acknowledged, or blank) */
    uint64_t offset;    /* the byte after the last of them */
    uint64_t ino;       /* the file's inode number */
    int64_t mtime_s;    /* its modification time */
    long mtime_ns;
    char file[256];     /* its name in the folder */
} rp_dropdir_state;

/* Parses text. 1: a file in progress, in *st; 0: none (NULL or empty text);
 * -1: not understood. */
int rp_dropdir_state_parse(const char *text, rp_dropdir_state *st);

/* Writes st as text into out. 0, or -1 when it does not fit. */
int rp_dropdir_state_format(const rp_dropdir_state *st, char *out, size_t outsize);

#endif
