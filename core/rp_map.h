/* rp_map.h — open-addressing hash map from byte strings to 32-bit values.
 *
 * The map copies keys into its own arena; values are plain integers (callers
 * use them as indexes into their own arrays). rp_map_free() releases
 * everything. Errors: RP_ENOMEM only.
 */
#ifndef RP_MAP_H
#define RP_MAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "rp_error.h"

typedef struct rp_map {
    struct rp_map_slot *slots;
    size_t cap;   /* power of two, 0 before the first insert */
    size_t count;
    char *arena;
    size_t arena_len, arena_cap;
} rp_map;

/* Insert key if absent; *value_inout is the value to store for a new key and
 * receives the stored value either way. *inserted (may be NULL) tells which. */
rp_status rp_map_put(rp_map *m, const char *key, size_t len, uint32_t *value_inout, bool *inserted);
/* Overwrite or insert. */
rp_status rp_map_set(rp_map *m, const char *key, size_t len, uint32_t value);
bool rp_map_get(const rp_map *m, const char *key, size_t len, uint32_t *value);
void rp_map_free(rp_map *m);

#endif
