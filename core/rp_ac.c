#include "rp_ac.h"

#include <stdbool.h>
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

/* The shallowest states (where the automaton spends most of its time) get a
 * dense, fully resolved transition row over byte classes; deeper states keep
 * sorted sparse edges and fall back along fail links. */
#define DENSE_BUDGET (256u << 10) /* bytes of dense rows at most */

struct rp_ac {
    uint8_t cls[256];        /* byte → class; class 0: bytes in no pattern */
    uint32_t ncls;
    uint32_t ndense;         /* states [0, ndense) have dense rows */
    uint32_t *dense;         /* ndense × ncls */
    uint32_t root_next[256]; /* dense transitions of the root; 0 = stay at root */
    struct ac_state *st;     /* per state: everything, used while building and for output */
    struct ac_hot *hot;      /* per state: what a scan step reads, 12 bytes */
    uint64_t *has_out;       /* bit per state: a pattern ends here or on its fail chain */
    uint8_t *ebyte;          /* edges, sorted by byte within a state */
    uint32_t *enext;
    size_t count;
};

/* The scan's view of a state. Most deep states of a keyword trie have one
 * child, which is kept inline, so a step along a keyword reads one small
 * record instead of a state and two edge arrays. */
struct ac_hot {
    uint32_t fail;
    uint32_t next;   /* the only child when nedges == 1, else the first edge */
    uint16_t nedges;
    uint8_t byte;    /* the only child's byte when nedges == 1 */
    uint8_t pad;
};

struct ac_state {
    uint32_t edge_off; /* first edge */
    uint32_t fail;
    uint32_t dict;     /* next state on the fail chain that has a value, 0 = none */
    uint32_t value;    /* pattern value ending here, NONE if none */
    uint32_t depth;
    uint32_t nedges;   /* <= 256 */
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
    free(ac->st);
    free(ac->hot);
    free(ac->has_out);
    free(ac->ebyte);
    free(ac->enext);
    free(ac->dense);
    free(ac);
}

size_t rp_ac_states(const rp_ac *ac)
{
    return ac->count;
}

/* The child of a state for byte c among its n sorted edges at off, or NONE. */
static inline uint32_t find_edge(const rp_ac *ac, uint32_t off, uint32_t n, uint8_t c)
{
    const uint8_t *eb = ac->ebyte + off;
    if (n <= 8) {
        for (uint32_t k = 0; k < n; k++)
            if (eb[k] == c)
                return ac->enext[off + k];
        return NONE;
    }
    uint32_t lo = 0, hi = n;
    while (lo < hi) {
        uint32_t mid = (lo + hi) / 2;
        if (eb[mid] < c)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < n && eb[lo] == c ? ac->enext[off + lo] : NONE;
}

static inline uint32_t step(const rp_ac *ac, uint32_t s, uint8_t c)
{
    for (;;) {
        if (s < ac->ndense)
            return ac->dense[(size_t)s * ac->ncls + ac->cls[c]];
        if (s == 0)
            return ac->root_next[c];
        const struct ac_state *as = &ac->st[s];
        uint32_t t = find_edge(ac, as->edge_off, as->nedges, c);
        if (t != NONE)
            return t;
        s = as->fail;
    }
}

static inline uint32_t scan_step(const rp_ac *ac, uint32_t s, uint8_t c)
{
    for (;;) {
        if (s < ac->ndense)
            return ac->dense[(size_t)s * ac->ncls + ac->cls[c]];
        if (s == 0)
            return ac->root_next[c];
        const struct ac_hot *h = &ac->hot[s];
        if (h->nedges == 1) {
            if (h->byte == c)
                return h->next;
        } else {
            uint32_t t = find_edge(ac, h->next, h->nedges, c);
            if (t != NONE)
                return t;
        }
        s = h->fail;
    }
}

/* Renumber the states below the dense rows in depth-first order, so that the
 * states along one keyword lie next to each other in memory: a scan walking a
 * keyword then touches a cache line or two instead of one per byte. The
 * dense states keep their numbers. Returns false on ENOMEM (nothing changed). */
static bool relayout_depth_first(rp_ac *ac, size_t nedges_total)
{
    size_t n = ac->count, k = ac->ndense ? ac->ndense : 1;
    uint32_t *map = malloc(n * sizeof *map);
    uint32_t *stack = malloc(n * sizeof *stack);
    struct ac_state *st2 = malloc(n * sizeof *st2);
    uint8_t *eb2 = malloc((nedges_total + 1) * sizeof *eb2);
    uint32_t *en2 = malloc((nedges_total + 1) * sizeof *en2);
    if (!map || !stack || !st2 || !eb2 || !en2) {
        free(map);
        free(stack);
        free(st2);
        free(eb2);
        free(en2);
        return false;
    }
    for (size_t s = 0; s < k && s < n; s++)
        map[s] = (uint32_t)s;
    /* pre-order walk of the trie; children pushed in reverse byte order so
     * that they come out in byte order */
    uint32_t next_id = (uint32_t)k;
    size_t top = 0;
    for (int c = 255; c >= 0; c--)
        if (ac->root_next[c])
            stack[top++] = ac->root_next[c];
    while (top) {
        uint32_t s = stack[--top];
        if (s >= k)
            map[s] = next_id++;
        const struct ac_state *as = &ac->st[s];
        for (uint32_t e = as->nedges; e-- > 0;)
            stack[top++] = ac->enext[as->edge_off + e];
    }
    /* move the states and their edges into the new order */
    uint32_t *inv = stack; /* reuse: new id -> old id */
    for (size_t s = 0; s < n; s++)
        inv[map[s]] = (uint32_t)s;
    size_t eo = 0;
    for (size_t ns = 0; ns < n; ns++) {
        const struct ac_state *as = &ac->st[inv[ns]];
        struct ac_state *d = &st2[ns];
        *d = *as;
        d->fail = map[as->fail];
        d->dict = as->dict ? map[as->dict] : 0;
        d->edge_off = (uint32_t)eo;
        for (uint32_t e = 0; e < as->nedges; e++) {
            eb2[eo] = ac->ebyte[as->edge_off + e];
            en2[eo] = map[ac->enext[as->edge_off + e]];
            eo++;
        }
    }
    for (int c = 0; c < 256; c++)
        ac->root_next[c] = ac->root_next[c] ? map[ac->root_next[c]] : 0;
    for (size_t i = 0; i < (size_t)ac->ndense * ac->ncls; i++)
        ac->dense[i] = map[ac->dense[i]];
    free(ac->st);
    free(ac->ebyte);
    free(ac->enext);
    ac->st = st2;
    ac->ebyte = eb2;
    ac->enext = en2;
    free(map);
    free(stack);
    return true;
}

rp_ac *rp_ac_build(rp_ac_builder *b, rp_status *st)
{
    return rp_ac_build_sized(b, st, DENSE_BUDGET);
}

rp_ac *rp_ac_build_sized(rp_ac_builder *b, rp_status *st, size_t dense_bytes)
{
    rp_ac *ac = calloc(1, sizeof *ac);
    uint32_t *order = NULL, *newid = NULL;
    size_t n = b->count;
    *st = RP_ENOMEM;
    if (!ac)
        goto fail;
    ac->count = n;
    ac->st = calloc(n, sizeof *ac->st);
    ac->ebyte = malloc((b->nedges + 1) * sizeof *ac->ebyte);
    ac->enext = malloc((b->nedges + 1) * sizeof *ac->enext);
    order = malloc(n * sizeof *order);
    newid = malloc(n * sizeof *newid);
    if (!ac->st || !ac->ebyte || !ac->enext || !order || !newid)
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
        ac->st[s].value = b->n[old].value;
        ac->st[s].depth = b->n[old].depth;
        ac->st[s].edge_off = (uint32_t)eo;
        uint32_t k = 0;
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
        ac->st[s].nedges = k;
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
            off = ac->st[s].edge_off;
            cnt = ac->st[s].nedges;
            for (uint32_t i = 0; i < cnt; i++) {
                tmpb[i] = ac->ebyte[off + i];
                tmpn[i] = ac->enext[off + i];
            }
        }
        for (uint32_t i = 0; i < cnt; i++) {
            uint32_t child = tmpn[i];
            uint32_t f = s == 0 ? 0 : step(ac, ac->st[s].fail, (uint8_t)tmpb[i]);
            ac->st[child].fail = f;
            ac->st[child].dict = ac->st[f].value != NONE ? f : ac->st[f].dict;
        }
    }
    /* byte classes and dense rows for the shallowest states */
    uint8_t used[256] = {0};
    for (int c = 0; c < 256; c++)
        if (ac->root_next[c])
            used[c] = 1;
    for (size_t e = 0; e < eo; e++)
        used[ac->ebyte[e]] = 1;
    uint32_t nused = 0;
    for (int c = 0; c < 256; c++)
        nused += used[c];
    if (nused == 256) {
        ac->ncls = 256;
        for (int c = 0; c < 256; c++)
            ac->cls[c] = (uint8_t)c;
    } else {
        ac->ncls = 1;
        for (int c = 0; c < 256; c++)
            ac->cls[c] = used[c] ? (uint8_t)ac->ncls++ : 0;
    }
    size_t rows = dense_bytes / (ac->ncls * sizeof(uint32_t));
    if (rows > n)
        rows = n;
    ac->dense = malloc(rows * ac->ncls * sizeof *ac->dense);
    if (!ac->dense)
        goto fail;
    for (size_t s = 0; s < rows; s++) {
        uint32_t *row = ac->dense + s * ac->ncls;
        if (s == 0) {
            for (uint32_t k = 0; k < ac->ncls; k++)
                row[k] = 0;
            for (int c = 0; c < 256; c++)
                if (ac->root_next[c])
                    row[ac->cls[c]] = ac->root_next[c];
            continue;
        }
        /* fail[s] < s: its row is complete */
        memcpy(row, ac->dense + (size_t)ac->st[s].fail * ac->ncls, ac->ncls * sizeof *row);
        for (uint32_t k = 0; k < ac->st[s].nedges; k++)
            row[ac->cls[ac->ebyte[ac->st[s].edge_off + k]]] = ac->enext[ac->st[s].edge_off + k];
    }
    ac->ndense = (uint32_t)rows;
    if (!relayout_depth_first(ac, eo))
        goto fail;
    ac->hot = malloc(n * sizeof *ac->hot);
    if (!ac->hot)
        goto fail;
    for (size_t s = 0; s < n; s++) {
        const struct ac_state *as = &ac->st[s];
        struct ac_hot *h = &ac->hot[s];
        h->fail = as->fail;
        h->nedges = (uint16_t)as->nedges;
        h->pad = 0;
        if (as->nedges == 1) {
            h->next = ac->enext[as->edge_off];
            h->byte = ac->ebyte[as->edge_off];
        } else {
            h->next = as->edge_off;
            h->byte = 0;
        }
    }
    ac->has_out = calloc((n + 63) / 64, sizeof *ac->has_out);
    if (!ac->has_out)
        goto fail;
    for (size_t s = 1; s < n; s++)
        if (ac->st[s].value != NONE || ac->st[s].dict)
            ac->has_out[s / 64] |= (uint64_t)1 << (s % 64);
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
        s = scan_step(ac, s, t[i]);
        if (!(ac->has_out[s / 64] >> (s % 64) & 1))
            continue;
        const struct ac_state *as = &ac->st[s];
        uint32_t o = as->value != NONE ? s : as->dict;
        while (o) {
            const struct ac_state *os = &ac->st[o];
            if (fn(ud, os->value, i + 1 - os->depth, i + 1))
                return;
            o = os->dict;
        }
    }
}
