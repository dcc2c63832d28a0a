#include "rp_map.h"

#include <stdlib.h>
#include <string.h>

struct rp_map_slot {
    uint32_t hash;
    uint32_t len;
    size_t key; /* offset into arena + 1; 0 = empty */
    uint32_t value;
};

static uint32_t hash_bytes(const char *k, size_t len)
{
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < len; i++) {
        h ^= (uint8_t)k[i];
        h *= 16777619u;
    }
    return h ? h : 1;
}

static rp_status grow(rp_map *m)
{
    size_t ncap = m->cap ? m->cap * 2 : 64;
    struct rp_map_slot *ns = calloc(ncap, sizeof *ns);
    if (!ns)
        return RP_ENOMEM;
    for (size_t i = 0; i < m->cap; i++) {
        struct rp_map_slot *s = &m->slots[i];
        if (!s->key)
            continue;
        size_t j = s->hash & (ncap - 1);
        while (ns[j].key)
            j = (j + 1) & (ncap - 1);
        ns[j] = *s;
    }
    free(m->slots);
    m->slots = ns;
    m->cap = ncap;
    return RP_OK;
}

static struct rp_map_slot *find(const rp_map *m, const char *key, size_t len, uint32_t h)
{
    size_t j = h & (m->cap - 1);
    for (;;) {
        struct rp_map_slot *s = &m->slots[j];
        if (!s->key)
            return s;
        if (s->hash == h && s->len == len && memcmp(m->arena + s->key - 1, key, len) == 0)
            return s;
        j = (j + 1) & (m->cap - 1);
    }
}

rp_status rp_map_put(rp_map *m, const char *key, size_t len, uint32_t *value_inout, bool *inserted)
{
    if (len > UINT32_MAX)
        return RP_ENOMEM;
    if ((m->count + 1) * 4 >= m->cap * 3) {
        rp_status st = grow(m);
        if (st != RP_OK)
            return st;
    }
    uint32_t h = hash_bytes(key, len);
    struct rp_map_slot *s = find(m, key, len, h);
    if (s->key) {
        *value_inout = s->value;
        if (inserted)
            *inserted = false;
        return RP_OK;
    }
    if (m->arena_len + len + 1 > m->arena_cap) {
        size_t ncap = m->arena_cap ? m->arena_cap * 2 : 4096;
        while (ncap < m->arena_len + len + 1)
            ncap *= 2;
        char *na = realloc(m->arena, ncap);
        if (!na)
            return RP_ENOMEM;
        m->arena = na;
        m->arena_cap = ncap;
    }
    memcpy(m->arena + m->arena_len, key, len);
    m->arena[m->arena_len + len] = '\0';
    s->key = m->arena_len + 1;
    s->len = (uint32_t)len;
    s->hash = h;
    s->value = *value_inout;
    m->arena_len += len + 1;
    m->count++;
    if (inserted)
        *inserted = true;
    return RP_OK;
}

rp_status rp_map_set(rp_map *m, const char *key, size_t len, uint32_t value)
{
    uint32_t v = value;
    bool ins;
    rp_status st = rp_map_put(m, key, len, &v, &ins);
    if (st == RP_OK && !ins) {
        struct rp_map_slot *s = find(m, key, len, hash_bytes(key, len));
        s->value = value;
    }
    return st;
}

bool rp_map_get(const rp_map *m, const char *key, size_t len, uint32_t *value)
{
    if (!m->cap)
        return false;
    struct rp_map_slot *s = find(m, key, len, hash_bytes(key, len));
    if (!s->key)
        return false;
    *value = s->value;
    return true;
}

void rp_map_free(rp_map *m)
{
    free(m->slots);
    free(m->arena);
    memset(m, 0, sizeof *m);
}
