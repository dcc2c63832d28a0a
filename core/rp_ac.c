#include "rp_ac.h"

#include <stdlib.h>
#include <string.h>

#define NONE UINT32_MAX

/* Builder: a trie with sibling lists. */
typedef struct bnode {
    uint32_t first_child;
    uint32_t next_sibling;
    uint32_t value;
    uint32_t depth;
    uint8_t byte;
} bnode;

struct rp_ac_builder {
    bnode *n;
    size_t count, cap;
    uint32_t root_child[256];
    size_t nedges;
};

struct rp_ac {
    uint32_t root_next[256]; /* dense transitions of the root; 0 = stay at root */
    uint32_t *edge_off;      /* per state: first edge */
    uint16_t *nedges;        /* per state: number of edges (<= 256) */
    uint8_t *ebyte;          /* edges, sorted by byte within a state */
    uint32_t *enext;
    uint32_t *fail;
    uint32_t *dict;  /* next state on the fail chain that has a value, 0 = none */
    uint32_t *value; /* pattern value ending here, NONE if none */
    uint32_t *depth;
    size_t count;
};

rp_ac_builder *rp_ac_builder_new(void)
{
    rp_ac_builder *b = calloc(1, sizeof *b);
    if (!b)
        return NULL;
    b->cap = 1024;
    b->n = malloc(b->cap * sizeof *b->n);
    if (!b->n) {
        free(b);
        return NULL;
    }
    b->n[0] = (bnode){NONE, NONE, NONE, 0, 0};
    b->count = 1;
    for (int i = 0; i < 256; i++)
        b->root_child[i] = NONE;
    return b;
}

void rp_ac_builder_free(rp_ac_builder *b)
{
    if (!b)
        return;
    free(b->n);
    free(b);
}

static uint32_t bchild(const rp_ac_builder *b, uint32_t node, uint8_t c)
{
    if (node == 0)
        return b->root_child[c];
    for (uint32_t k = b->n[node].first_child; k != NONE; k = b->n[k].next_sibling)
        if (b->n[k].byte == c)
            return k;
    return NONE;
}

rp_status rp_ac_builder_add(rp_ac_builder *b, const char *pat, size_t len, uint32_t value)
{
    if (len == 0 || value == NONE)
        return RP_EINVAL;
    uint32_t cur = 0;
    for (size_t i = 0; i < len; i++) {
        uint8_t c = (uint8_t)pat[i];
        uint32_t nx = bchild(b, cur, c);
        if (nx == NONE) {
            if (b->count >= UINT32_MAX - 1)
                return RP_ENOMEM;
            if (b->count == b->cap) {
                bnode *p = realloc(b->n, b->cap * 2 * sizeof *p);
                if (!p)
                    return RP_ENOMEM;
                b->n = p;
                b->cap *= 2;
            }
            nx = (uint32_t)b->count++;
            b->n[nx] = (bnode){NONE, NONE, NONE, (uint32_t)(i + 1), c};
            if (cur == 0) {
                b->root_child[c] = nx;
            } else {
                b->n[nx].next_sibling = b->n[cur].first_child;
                b->n[cur].first_child = nx;
            }
            b->nedges++;
        }
        cur = nx;
    }
    if (b->n[cur].value != NONE)
        return RP_EINVAL;
    b->n[cur].value = value;
    return RP_OK;
}

void rp_ac_free(rp_ac *ac)
{
    if (!ac)
        return;
    free(ac->edge_off);
    free(ac->nedges);
    free(ac->ebyte);
    free(ac->enext);
    free(ac->fail);
    free(ac->dict);
    free(ac->value);
    free(ac->depth);
    free(ac);
}

size_t rp_ac_states(const rp_ac *ac)
{
    return ac->count;
}

static inline uint32_t step(const rp_ac *ac, uint32_t s, uint8_t c)
{
    for (;;) {
        if (s == 0)
            return ac->root_next[c];
        uint32_t off = ac->edge_off[s];
        uint32_t n = ac->nedges[s];
        const uint8_t *eb = ac->ebyte + off;
        if (n <= 8) {
            for (uint32_t k = 0; k < n; k++)
                if (eb[k] == c)
                    return ac->enext[off + k];
        } else {
            uint32_t lo = 0, hi = n;
            while (lo < hi) {
                uint32_t mid = (lo + hi) / 2;
                if (eb[mid] < c)
                    lo = mid + 1;
                else
                    hi = mid;
            }
            if (lo < n && eb[lo] == c)
                return ac->enext[off + lo];
        }
        s = ac->fail[s];
    }
}

rp_ac *rp_ac_build(rp_ac_builder *b, rp_status *st)
{
    rp_ac *ac = calloc(1, sizeof *ac);
    uint32_t *order = NULL, *newid = NULL;
    size_t n = b->count;
    *st = RP_ENOMEM;
    if (!ac)
        goto fail;
    ac->count = n;
    ac->edge_off = malloc(n * sizeof *ac->edge_off);
    ac->nedges = malloc(n * sizeof *ac->nedges);
    ac->ebyte = malloc((b->nedges + 1) * sizeof *ac->ebyte);
    ac->enext = malloc((b->nedges + 1) * sizeof *ac->enext);
    ac->fail = calloc(n, sizeof *ac->fail);
    ac->dict = calloc(n, sizeof *ac->dict);
    ac->value = malloc(n * sizeof *ac->value);
    ac->depth = malloc(n * sizeof *ac->depth);
    order = malloc(n * sizeof *order);
    newid = malloc(n * sizeof *newid);
    if (!ac->edge_off || !ac->nedges || !ac->ebyte || !ac->enext || !ac->fail || !ac->dict ||
        !ac->value || !ac->depth || !order || !newid)
        goto fail;

    /* Breadth-first numbering, so a state's fail target always has a smaller id. */
    size_t head = 0, tail = 0;
    order[tail++] = 0;
    newid[0] = 0;
    while (head < tail) {
        uint32_t old = order[head++];
        uint8_t bytes[256];
        uint32_t kids[256];
        int k = 0;
        if (old == 0) {
            for (int c = 0; c < 256; c++)
                if (b->root_child[c] != NONE) {
                    bytes[k] = (uint8_t)c;
                    kids[k++] = b->root_child[c];
                }
        } else {
            for (uint32_t ch = b->n[old].first_child; ch != NONE; ch = b->n[ch].next_sibling) {
                bytes[k] = b->n[ch].byte;
                kids[k++] = ch;
            }
            /* sort children by byte (small lists: insertion sort) */
            for (int i = 1; i < k; i++) {
                uint8_t bb = bytes[i];
                uint32_t kk = kids[i];
                int j = i - 1;
                while (j >= 0 && bytes[j] > bb) {
                    bytes[j + 1] = bytes[j];
                    kids[j + 1] = kids[j];
                    j--;
                }
                bytes[j + 1] = bb;
                kids[j + 1] = kk;
            }
        }
        for (int i = 0; i < k; i++) {
            newid[kids[i]] = (uint32_t)tail;
            order[tail++] = kids[i];
        }
    }
    /* Lay out edges in the new numbering. */
    size_t eo = 0;
    for (size_t s = 0; s < n; s++) {
        uint32_t old = order[s];
        ac->value[s] = b->n[old].value;
        ac->depth[s] = b->n[old].depth;
        ac->edge_off[s] = (uint32_t)eo;
        uint16_t k = 0;
        if (old == 0) {
            for (int c = 0; c < 256; c++) {
                uint32_t ch = b->root_child[c];
                ac->root_next[c] = ch == NONE ? 0 : newid[ch];
            }
        } else {
            size_t start = eo;
            for (uint32_t ch = b->n[old].first_child; ch != NONE; ch = b->n[ch].next_sibling) {
                ac->ebyte[eo] = b->n[ch].byte;
                ac->enext[eo] = newid[ch];
                eo++;
                k++;
            }
            /* sort this state's edges by byte */
            for (size_t i = start + 1; i < eo; i++) {
                uint8_t bb = ac->ebyte[i];
                uint32_t nn = ac->enext[i];
                size_t j = i;
                while (j > start && ac->ebyte[j - 1] > bb) {
                    ac->ebyte[j] = ac->ebyte[j - 1];
                    ac->enext[j] = ac->enext[j - 1];
                    j--;
                }
                ac->ebyte[j] = bb;
                ac->enext[j] = nn;
            }
        }
        ac->nedges[s] = k;
    }
    /* Fail and dictionary links, in BFS order. */
    for (size_t s = 0; s < n; s++) {
        uint32_t off, cnt;
        uint32_t tmpb[256];
        uint32_t tmpn[256];
        if (s == 0) {
            cnt = 0;
            for (int c = 0; c < 256; c++)
                if (ac->root_next[c]) {
                    tmpb[cnt] = (uint32_t)c;
                    tmpn[cnt++] = ac->root_next[c];
                }
        } else {
            off = ac->edge_off[s];
            cnt = ac->nedges[s];
            for (uint32_t i = 0; i < cnt; i++) {
                tmpb[i] = ac->ebyte[off + i];
                tmpn[i] = ac->enext[off + i];
            }
        }
        for (uint32_t i = 0; i < cnt; i++) {
            uint32_t child = tmpn[i];
            uint32_t f = s == 0 ? 0 : step(ac, ac->fail[s], (uint8_t)tmpb[i]);
            ac->fail[child] = f;
            ac->dict[child] = ac->value[f] != NONE ? f : ac->dict[f];
        }
    }
    free(order);
    free(newid);
    rp_ac_builder_free(b);
    *st = RP_OK;
    return ac;
fail:
    free(order);
    free(newid);
    rp_ac_free(ac);
    rp_ac_builder_free(b);
    return NULL;
}

void rp_ac_scan(const rp_ac *ac, const char *text, size_t len, rp_ac_match_fn fn, void *ud)
{
    uint32_t s = 0;
    const uint8_t *t = (const uint8_t *)text;
    for (size_t i = 0; i < len; i++) {
        s = step(ac, s, t[i]);
        if (s == 0)
            continue;
        uint32_t o = ac->value[s] != NONE ? s : ac->dict[s];
        while (o) {
            if (fn(ud, ac->value[o], i + 1 - ac->depth[o], i + 1))
                return;
            o = ac->dict[o];
        }
    }
}
