/* rp_ac.h — Aho–Corasick multi-pattern matcher over bytes.
 *
 * All keywords of all lexicons go into one automaton, so scanning a text costs
 * one pass whatever the number of keywords. Build with a builder (patterns are
 * byte strings; each gets the caller's 32-bit value), then rp_ac_build()
 * consumes the builder and returns an immutable matcher that may be shared
 * between threads. rp_ac_free() releases it. Errors: RP_ENOMEM, RP_EINVAL for
 * an empty or duplicate pattern.
 */
#ifndef RP_AC_H
#define RP_AC_H

#include <stddef.h>
#include <stdint.h>

#include "rp_error.h"

typedef struct rp_ac rp_ac;
typedef struct rp_ac_builder rp_ac_builder;

rp_ac_builder *rp_ac_builder_new(void);
void rp_ac_builder_free(rp_ac_builder *b);
rp_status rp_ac_builder_add(rp_ac_builder *b, const char *pat, size_t len, uint32_t value);

/* Consumes b (also on failure). NULL and *st set on failure. */
rp_ac *rp_ac_build(rp_ac_builder *b, rp_status *st);
/* The same with an explicit budget for the dense transition rows of the
 * shallowest states (rp_ac_build uses 256 KiB; tests use 0 and small ones). */
rp_ac *rp_ac_build_sized(rp_ac_builder *b, rp_status *st, size_t dense_bytes);
void rp_ac_free(rp_ac *ac);
size_t rp_ac_states(const rp_ac *ac);

/* Called for every occurrence, in order of end position; [start, end) is the
 * byte range. Return non-zero to stop the scan. */
typedef int (*rp_ac_match_fn)(void *ud, uint32_t value, size_t start, size_t end);
void rp_ac_scan(const rp_ac *ac, const char *text, size_t len, rp_ac_match_fn fn, void *ud);

#endif
