/* rp_lua.c — sandboxed Lua rules (see rp_lua.h and docs/lua-rules.md).
 *
 * Layout: limits (allocator, count hook, charges) — the pattern matcher with
 * a step count — the sandboxed library — msg/ctx userdata — rule{} and
 * freezing the globals — turning the result into an rp_outcome — load/eval.
 */
#define _GNU_SOURCE /* memmem: a linear-time search for plain string.find */
#include "rp_lua.h"

#include <ctype.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <lauxlib.h>
#include <lua.h>
#include <lualib.h>

#include "rp_buf.h"

#define RP_LUA_HOOK_STEP 1000         /* instructions between two limit checks */
#define RP_LUA_SCAN_BYTES (32u << 20) /* bytes one check interval may touch */
#define RP_LUA_LOG_MAX 500            /* bytes of one ctx.log line */
#define RP_LUA_LOG_LINES 20           /* ctx.log lines per call */
#define RP_LUA_MAX_NAME 128
#define RP_LUA_MAX_TEMPLATE 200
#define RP_LUA_MAX_TAG 100
#define RP_LUA_DEFAULT_PRIORITY 50
#define RP_LUA_MIN_PRIORITY 0 /* as for YAML rules */
#define RP_LUA_MAX_PRIORITY 1000

/* ---- the per-rule host ---------------------------------------------------- */

enum { HIT_NONE = 0, HIT_BUDGET, HIT_TIME, HIT_MEMORY };

typedef struct lhost {
    lua_State *L;
    rp_lua_limits lim;
    char *file;                 /* the file name as given */
    char chunkid[LUA_IDSIZE];   /* how Lua names the file in its messages */
    /* the rule */
    char *rule_name;
    int priority;
    int fn_ref, tramp_ref;
    bool loading;
    /* limits of the running call (or of loading) */
    bool armed;
    size_t mem;                 /* bytes held by the state */
    bool cap_refused;           /* the allocator refused a block because of the cap */
    bool sys_oom;               /* malloc itself failed */
    uint64_t used;              /* instructions and charged work */
    int step;                   /* current hook interval */
    int64_t deadline;           /* CLOCK_MONOTONIC ns, 0 = none */
    bool started;               /* deadline set */
    int hit;                    /* first limit hit, HIT_* */
    int hit_line;
    int mem_line;               /* where the cap first refused a block */
    /* the running call */
    const rp_rule_input *in;
    const char *rule;           /* its name, for ctx.log */
    uint64_t gen;               /* userdata made in another call are stale */
    unsigned nlogs;
} lhost;

static int line_at(lua_State *L, int level);

static lhost *host_of(lua_State *L)
{
    return *(lhost **)lua_getextraspace(L);
}

static int64_t now_ns(void)
{
    struct timespec ts;
    if (clock_gettime(CLOCK_MONOTONIC, &ts) != 0)
        return 0;
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* ---- memory ---------------------------------------------------------------- */

static void *lalloc(void *ud, void *ptr, size_t osize, size_t nsize)
{
    lhost *h = ud;
    size_t old = ptr ? osize : 0;
    if (nsize == 0) {
        free(ptr);
        h->mem -= old;
        return NULL;
    }
    if (nsize > old) {
        size_t grow = nsize - old;
        /* once a call has hit the cap it gets nothing more until it returns,
         * so a script that catches the error cannot go on allocating */
        if ((h->armed && h->hit == HIT_MEMORY) || grow > h->lim.memory - h->mem) {
            if (h->armed && !h->cap_refused && h->L) {
                /* reading the call stack allocates nothing; the innermost
                 * Lua function is where the script asked for memory */
                for (int level = 0; level < 3 && !h->mem_line; level++)
                    h->mem_line = line_at(h->L, level);
            }
            h->cap_refused = true;
            return NULL;
        }
    }
    void *p = realloc(ptr, nsize);
    if (!p) {
        if (nsize <= old) { /* Lua assumes shrinking never fails: keep the block */
            h->mem = h->mem - old + nsize;
            return ptr;
        }
        h->sys_oom = true;
        return NULL;
    }
    h->mem = h->mem - old + nsize;
    return p;
}

/* ---- instruction budget, time limit ------------------------------------------ */

static void lhook(lua_State *L, lua_Debug *ar);

static int line_at(lua_State *L, int level)
{
    lua_Debug ar;
    if (lua_getstack(L, level, &ar) && lua_getinfo(L, "l", &ar) && ar.currentline > 0)
        return ar.currentline;
    return 0;
}

/* Next hook interval: at most RP_LUA_HOOK_STEP instructions, no more than the
 * budget has left, and fewer when the state holds much memory — one
 * instruction can compare or scan every byte the state has, and the time
 * limit is only checked in the hook. */
static void set_step(lua_State *L, lhost *h)
{
    uint64_t step = RP_LUA_HOOK_STEP;
    if (h->hit) {
        step = 1; /* keep raising at every instruction until the call returns */
    } else {
        uint64_t left = h->lim.instructions > h->used ? h->lim.instructions - h->used : 1;
        uint64_t by_mem = h->mem ? RP_LUA_SCAN_BYTES / h->mem : step;
        if (left < step)
            step = left;
        if (by_mem < step)
            step = by_mem;
        if (step == 0)
            step = 1;
    }
    h->step = (int)step;
    lua_sethook(L, lhook, LUA_MASKCOUNT, (int)step);
}

/* Past the time limit? The clock starts at the first check: a call too
 * short to reach one (1000 instructions, 4096 pattern steps) never reads it. */
static bool past_deadline(lhost *h)
{
    if (!h->lim.time_ms)
        return false;
    int64_t now = now_ns();
    if (!h->started) {
        h->started = true;
        h->deadline = now + (int64_t)h->lim.time_ms * 1000000;
        return false;
    }
    return now >= h->deadline;
}

static const char *hit_text(int hit)
{
    switch (hit) {
    case HIT_BUDGET: return "instruction budget exceeded";
    case HIT_TIME: return "time limit exceeded";
    case HIT_MEMORY: return "memory limit exceeded";
    default: return "limit exceeded";
    }
}

static void set_hit(lhost *h, int hit, int line)
{
    if (h->hit == HIT_NONE) {
        h->hit = hit;
        h->hit_line = line;
    }
}

/* Raise the error of the limit already hit; never returns. */
static int raise_hit(lua_State *L, lhost *h)
{
    set_step(L, h);
    lua_pushstring(L, hit_text(h->hit));
    return lua_error(L);
}

/* Add work to the budget; raise when a limit is (or was) hit. level: the
 * stack level whose line is reported. */
static void charge_at(lua_State *L, uint64_t units, bool check_time, int level)
{
    lhost *h = host_of(L);
    if (!h->armed)
        return;
    h->used += units;
    if (!h->hit && h->used >= h->lim.instructions)
        set_hit(h, HIT_BUDGET, line_at(L, level));
    if (!h->hit && check_time && past_deadline(h))
        set_hit(h, HIT_TIME, line_at(L, level));
    if (h->hit)
        raise_hit(L, h);
}

static void charge(lua_State *L, uint64_t units)
{
    charge_at(L, units, false, 1);
}

static void lhook(lua_State *L, lua_Debug *ar)
{
    (void)ar;
    lhost *h = host_of(L);
    if (!h->armed)
        return;
    h->used += (uint64_t)h->step;
    if (!h->hit && h->used >= h->lim.instructions)
        set_hit(h, HIT_BUDGET, line_at(L, 0));
    if (!h->hit && past_deadline(h))
        set_hit(h, HIT_TIME, line_at(L, 0));
    if (h->hit)
        raise_hit(L, h);
    set_step(L, h);
}

static void arm(lhost *h)
{
    h->used = 0;
    h->hit = HIT_NONE;
    h->hit_line = 0;
    h->mem_line = 0;
    h->cap_refused = false;
    h->sys_oom = false;
    h->started = false; /* the clock is read when the first check comes */
    h->deadline = 0;
    h->armed = true;
    set_step(h->L, h);
}

static void disarm(lhost *h)
{
    h->armed = false;
    lua_sethook(h->L, NULL, 0, 0);
}

/* After a protected call inside the script (pcall, xpcall): a limit that was
 * hit, or memory that ran out, is raised again — scripts cannot swallow it. */
static void after_pcall(lua_State *L, lhost *h, int status)
{
    if (!h->armed)
        return;
    if (status == LUA_ERRMEM) {
        if (h->cap_refused)
            set_hit(h, HIT_MEMORY, h->mem_line ? h->mem_line : line_at(L, 1));
        else
            h->sys_oom = true;
    }
    if (h->hit || h->sys_oom)
        lua_error(L); /* the error object is on top */
}

/* ---- patterns -------------------------------------------------------------- */

/* Lua's pattern functions run in C where the count hook cannot fire, and a
 * backtracking pattern can take exponential time (("a"):rep(1e5):find(".-.-.-b")).
 * This matcher implements the same pattern language (Lua 5.4 manual §6.4.1,
 * same results and error messages) and counts its steps against the
 * instruction budget, checking the time limit as it goes. */

#define PM_MAXCAPTURES 32
#define PM_MAXDEPTH 200
#define PM_CAP_UNFINISHED (-1)
#define PM_CAP_POSITION (-2)
#define PM_ESC '%'
#define PM_SPECIALS "^$*+?.([%-"
#define PM_CHARGE_EVERY 4096u

typedef struct pm_state {
    const char *src_init, *src_end, *p_end;
    lua_State *L;
    int level, depth;
    uint32_t steps;
    struct {
        const char *init;
        ptrdiff_t len;
    } capture[PM_MAXCAPTURES];
    signed char ftab[256]; /* byte -> matches the first item (pm_first_ok); -1 unknown */
} pm_state;

static void pm_flush(pm_state *ms)
{
    uint32_t n = ms->steps;
    ms->steps = 0;
    charge_at(ms->L, n, true, 1);
}

static inline void pm_step(pm_state *ms)
{
    if (++ms->steps >= PM_CHARGE_EVERY)
        pm_flush(ms);
}

static void pm_init(pm_state *ms, lua_State *L, const char *s, size_t ls, const char *p,
                    size_t lp)
{
    ms->L = L;
    ms->src_init = s;
    ms->src_end = s + ls;
    ms->p_end = p + lp;
    ms->level = 0;
    ms->depth = PM_MAXDEPTH;
    ms->steps = 0;
    memset(ms->ftab, -1, sizeof ms->ftab);
}

static const char *pm_match(pm_state *ms, const char *s, const char *p);

/* End of the single-character class starting at p. */
static const char *pm_class_end(pm_state *ms, const char *p)
{
    char c = *p++;
    if (c == PM_ESC) {
        if (p >= ms->p_end)
            luaL_error(ms->L, "malformed pattern (ends with '%%')");
        return p + 1;
    }
    if (c == '[') {
        if (*p == '^')
            p++;
        do { /* the first character of a set may be ']' */
            if (p >= ms->p_end)
                luaL_error(ms->L, "malformed pattern (missing ']')");
            c = *p++;
            if (c == PM_ESC && p < ms->p_end)
                p++;
        } while (*p != ']');
        return p + 1;
    }
    return p;
}

static bool pm_class(int c, int cl)
{
    bool r;
    switch (tolower(cl)) {
    case 'a': r = isalpha(c); break;
    case 'c': r = iscntrl(c); break;
    case 'd': r = isdigit(c); break;
    case 'g': r = isgraph(c); break;
    case 'l': r = islower(c); break;
    case 'p': r = ispunct(c); break;
    case 's': r = isspace(c); break;
    case 'u': r = isupper(c); break;
    case 'w': r = isalnum(c); break;
    case 'x': r = isxdigit(c); break;
    default: return cl == c;
    }
    return isupper(cl) ? !r : r;
}

/* p is the '[' of a set, ec its closing ']'. */
static bool pm_set(int c, const char *p, const char *ec)
{
    bool in = true;
    if (p[1] == '^') {
        in = false;
        p++;
    }
    while (++p < ec) {
        if (*p == PM_ESC) {
            p++;
            if (pm_class(c, (unsigned char)*p))
                return in;
        } else if (p[1] == '-' && p + 2 < ec) {
            if ((unsigned char)p[0] <= c && c <= (unsigned char)p[2])
                return in;
            p += 2;
        } else if ((unsigned char)*p == c) {
            return in;
        }
    }
    return !in;
}

static bool pm_single(pm_state *ms, const char *s, const char *p, const char *ep)
{
    if (s >= ms->src_end)
        return false;
    int c = (unsigned char)*s;
    switch (*p) {
    case '.': return true;
    case PM_ESC: return pm_class(c, (unsigned char)p[1]);
    case '[': return pm_set(c, p, ep - 1);
    default: return (unsigned char)*p == c;
    }
}

/* Does byte c match the single-character item [p, ep)? */
static bool pm_item_has(int c, const char *p, const char *ep)
{
    switch (*p) {
    case '.': return true;
    case PM_ESC: return pm_class(c, (unsigned char)p[1]);
    case '[': return pm_set(c, p, ep - 1);
    default: return (unsigned char)*p == c;
    }
}

/* pm_single for the pattern's first item [p, first), through a table filled
 * once per byte value seen. */
static inline bool pm_first_ok(pm_state *ms, const char *s, const char *p, const char *first)
{
    if (s >= ms->src_end)
        return false;
    unsigned char c = (unsigned char)*s;
    if (ms->ftab[c] < 0)
        ms->ftab[c] = pm_item_has(c, p, first);
    return ms->ftab[c] != 0;
}

static const char *pm_balance(pm_state *ms, const char *s, const char *p)
{
    if (p >= ms->p_end - 1)
        luaL_error(ms->L, "malformed pattern (missing arguments to '%%b')");
    if (s >= ms->src_end || *s != *p)
        return NULL;
    char open = p[0], close = p[1];
    int depth = 1;
    while (++s < ms->src_end) {
        pm_step(ms);
        if (*s == close) {
            if (--depth == 0)
                return s + 1;
        } else if (*s == open) {
            depth++;
        }
    }
    return NULL;
}

static const char *pm_max_expand(pm_state *ms, const char *s, const char *p, const char *ep)
{
    ptrdiff_t i = 0;
    while (pm_single(ms, s + i, p, ep)) {
        i++;
        pm_step(ms);
    }
    for (; i >= 0; i--) { /* longest first */
        const char *r = pm_match(ms, s + i, ep + 1);
        if (r)
            return r;
    }
    return NULL;
}

static const char *pm_min_expand(pm_state *ms, const char *s, const char *p, const char *ep)
{
    for (;;) {
        const char *r = pm_match(ms, s, ep + 1);
        if (r)
            return r;
        if (!pm_single(ms, s, p, ep))
            return NULL;
        s++;
    }
}

static const char *pm_open_capture(pm_state *ms, const char *s, const char *p, ptrdiff_t what)
{
    if (ms->level >= PM_MAXCAPTURES)
        luaL_error(ms->L, "too many captures");
    ms->capture[ms->level].init = s;
    ms->capture[ms->level].len = what;
    ms->level++;
    const char *r = pm_match(ms, s, p);
    if (!r)
        ms->level--;
    return r;
}

static const char *pm_close_capture(pm_state *ms, const char *s, const char *p)
{
    int l = ms->level - 1;
    while (l >= 0 && ms->capture[l].len != PM_CAP_UNFINISHED)
        l--;
    if (l < 0)
        luaL_error(ms->L, "invalid pattern capture");
    ms->capture[l].len = s - ms->capture[l].init;
    const char *r = pm_match(ms, s, p);
    if (!r)
        ms->capture[l].len = PM_CAP_UNFINISHED;
    return r;
}

/* %1 .. %9 inside a pattern: the text of an earlier capture again. */
static const char *pm_backref(pm_state *ms, const char *s, int digit)
{
    int l = digit - '1';
    if (l < 0 || l >= ms->level || ms->capture[l].len == PM_CAP_UNFINISHED)
        luaL_error(ms->L, "invalid capture index %%%d", l + 1);
    ptrdiff_t len = ms->capture[l].len;
    if (len < 0) /* a position capture is no text */
        return NULL;
    ms->steps += (uint32_t)(len / 64);
    if (ms->src_end - s >= len && memcmp(ms->capture[l].init, s, (size_t)len) == 0)
        return s + len;
    return NULL;
}

static const char *pm_match(pm_state *ms, const char *s, const char *p)
{
    if (ms->depth-- == 0)
        luaL_error(ms->L, "pattern too complex");
    while (p != ms->p_end) {
        pm_step(ms); /* one step per pattern item */
        switch (*p) {
        case '(':
            if (p[1] == ')')
                s = pm_open_capture(ms, s, p + 2, PM_CAP_POSITION);
            else
                s = pm_open_capture(ms, s, p + 1, PM_CAP_UNFINISHED);
            goto done;
        case ')':
            s = pm_close_capture(ms, s, p + 1);
            goto done;
        case '$':
            if (p + 1 == ms->p_end) {
                if (s != ms->src_end)
                    s = NULL;
                goto done;
            }
            break; /* an ordinary character */
        case PM_ESC:
            if (p[1] == 'b') {
                s = pm_balance(ms, s, p + 2);
                if (!s)
                    goto done;
                p += 4;
                continue;
            }
            if (p[1] == 'f') {
                p += 2;
                if (*p != '[')
                    luaL_error(ms->L, "missing '[' after '%%f' in pattern");
                const char *ep = pm_class_end(ms, p);
                int prev = s == ms->src_init ? '\0' : (unsigned char)s[-1];
                int cur = s < ms->src_end ? (unsigned char)*s : '\0';
                if (!pm_set(prev, p, ep - 1) && pm_set(cur, p, ep - 1)) {
                    p = ep;
                    continue;
                }
                s = NULL;
                goto done;
            }
            if (isdigit((unsigned char)p[1])) {
                s = pm_backref(ms, s, (unsigned char)p[1]);
                if (!s)
                    goto done;
                p += 2;
                continue;
            }
            break;
        default:
            break;
        }
        /* a single-character class, maybe with a quantifier */
        const char *ep = pm_class_end(ms, p);
        char q = ep < ms->p_end ? *ep : '\0';
        if (!pm_single(ms, s, p, ep)) {
            if (q == '*' || q == '?' || q == '-') {
                p = ep + 1;
                continue;
            }
            s = NULL;
            goto done;
        }
        switch (q) {
        case '?': {
            const char *r = pm_match(ms, s + 1, ep + 1);
            if (r) {
                s = r;
                goto done;
            }
            p = ep + 1;
            continue;
        }
        case '+': s = pm_max_expand(ms, s + 1, p, ep); goto done;
        case '*': s = pm_max_expand(ms, s, p, ep); goto done;
        case '-': s = pm_min_expand(ms, s, p, ep); goto done;
        default:
            s++;
            p = ep;
            continue;
        }
    }
done:
    ms->depth++;
    return s;
}

/* Push capture i (the whole match s..e when there are no captures). */
static void pm_push_capture(pm_state *ms, int i, const char *s, const char *e)
{
    if (i >= ms->level) {
        if (i != 0)
            luaL_error(ms->L, "invalid capture index %%%d", i + 1);
        lua_pushlstring(ms->L, s, (size_t)(e - s));
        return;
    }
    ptrdiff_t l = ms->capture[i].len;
    if (l == PM_CAP_UNFINISHED)
        luaL_error(ms->L, "unfinished capture");
    if (l == PM_CAP_POSITION)
        lua_pushinteger(ms->L, (lua_Integer)(ms->capture[i].init - ms->src_init) + 1);
    else
        lua_pushlstring(ms->L, ms->capture[i].init, (size_t)l);
}

static int pm_push_captures(pm_state *ms, const char *s, const char *e)
{
    int n = (ms->level == 0 && s) ? 1 : ms->level;
    luaL_checkstack(ms->L, n, "too many captures");
    for (int i = 0; i < n; i++)
        pm_push_capture(ms, i, s, e);
    return n;
}

/* A 1-based start position as string.find reads it. */
static size_t pm_start(lua_Integer pos, size_t len)
{
    if (pos > 0)
        return (size_t)pos;
    if (pos == 0 || pos < -(lua_Integer)len)
        return 1;
    return len + (size_t)pos + 1;
}

static bool pm_has_specials(const char *p, size_t lp)
{
    for (size_t i = 0; i < lp; i++)
        if (p[i] && strchr(PM_SPECIALS, p[i]))
            return true;
    return false;
}

/* When a pattern starts with one mandatory single-character item (a literal,
 * '.', %x or a [set], not followed by '*', '-' or '?'), no match can begin
 * where that item fails, so the scanning loops test it before calling
 * pm_match: a cheap filter with the same results. Returns the end of that
 * item, or NULL when the pattern starts any other way. */
static const char *pm_first_item(pm_state *ms, const char *p)
{
    if (p >= ms->p_end)
        return NULL;
    switch (*p) {
    case '(': case ')': case '$': case '^':
        return NULL;
    case PM_ESC:
        if (p + 1 < ms->p_end && (p[1] == 'b' || p[1] == 'f' || isdigit((unsigned char)p[1])))
            return NULL;
        break;
    default:
        break;
    }
    const char *ep = pm_class_end(ms, p);
    if (ep < ms->p_end && (*ep == '*' || *ep == '-' || *ep == '?'))
        return NULL;
    return ep;
}

static int pm_find_aux(lua_State *L, bool find)
{
    size_t ls, lp;
    const char *s = luaL_checklstring(L, 1, &ls);
    const char *p = luaL_checklstring(L, 2, &lp);
    size_t init = pm_start(luaL_optinteger(L, 3, 1), ls) - 1;
    if (init > ls) {
        lua_pushnil(L);
        return 1;
    }
    if (find && (lua_toboolean(L, 4) || !pm_has_specials(p, lp))) {
        /* plain search: memmem is linear */
        charge(L, (ls - init + lp) / 64 + 1);
        const char *hit = memmem(s + init, ls - init, p, lp);
        if (!hit) {
            lua_pushnil(L);
            return 1;
        }
        lua_pushinteger(L, (lua_Integer)(hit - s) + 1);
        lua_pushinteger(L, (lua_Integer)(hit - s) + (lua_Integer)lp);
        return 2;
    }
    pm_state ms;
    pm_init(&ms, L, s, ls, p, lp);
    bool anchor = *p == '^';
    if (anchor)
        p++;
    const char *s1 = s + init;
    const char *first = anchor ? NULL : pm_first_item(&ms, p);
    do {
        if (first && !pm_first_ok(&ms, s1, p, first)) {
            pm_step(&ms);
            continue;
        }
        ms.level = 0;
        ms.depth = PM_MAXDEPTH;
        const char *e = pm_match(&ms, s1, p);
        if (e) {
            pm_flush(&ms);
            if (find) {
                lua_pushinteger(L, (lua_Integer)(s1 - s) + 1);
                lua_pushinteger(L, (lua_Integer)(e - s));
                return pm_push_captures(&ms, NULL, NULL) + 2;
            }
            return pm_push_captures(&ms, s1, e);
        }
    } while (s1++ < ms.src_end && !anchor);
    pm_flush(&ms);
    lua_pushnil(L);
    return 1;
}

static int sb_find(lua_State *L)
{
    return pm_find_aux(L, true);
}

static int sb_match(lua_State *L)
{
    return pm_find_aux(L, false);
}

typedef struct pm_gmatch {
    uint32_t kind;
    const char *src, *p, *lastmatch, *first;
    bool first_known;
    pm_state ms;
} pm_gmatch;

#define UD_GMATCH 0x72704704u

static int pm_gmatch_next(lua_State *L)
{
    pm_gmatch *gm = lua_touserdata(L, lua_upvalueindex(3));
    gm->ms.L = L;
    for (const char *src = gm->src; src <= gm->ms.src_end; src++) {
        if (!gm->first_known) { /* where pm_match would first parse the pattern */
            gm->first = pm_first_item(&gm->ms, gm->p);
            gm->first_known = true;
        }
        if (gm->first && !pm_first_ok(&gm->ms, src, gm->p, gm->first)) {
            pm_step(&gm->ms);
            continue;
        }
        gm->ms.level = 0;
        gm->ms.depth = PM_MAXDEPTH;
        const char *e = pm_match(&gm->ms, src, gm->p);
        if (e && e != gm->lastmatch) {
            gm->src = gm->lastmatch = e;
            pm_flush(&gm->ms);
            return pm_push_captures(&gm->ms, src, e);
        }
    }
    pm_flush(&gm->ms);
    return 0;
}

static int sb_gmatch(lua_State *L)
{
    size_t ls, lp;
    const char *s = luaL_checklstring(L, 1, &ls);
    const char *p = luaL_checklstring(L, 2, &lp);
    size_t init = pm_start(luaL_optinteger(L, 3, 1), ls) - 1;
    lua_settop(L, 2); /* the strings stay alive as upvalues */
    pm_gmatch *gm = lua_newuserdatauv(L, sizeof *gm, 0);
    if (init > ls)
        init = ls + 1;
    gm->kind = UD_GMATCH;
    pm_init(&gm->ms, L, s, ls, p, lp);
    gm->src = s + init;
    gm->p = p;
    gm->lastmatch = NULL;
    gm->first = NULL;
    gm->first_known = false;
    lua_pushcclosure(L, pm_gmatch_next, 3);
    return 1;
}

static void pm_add_string(pm_state *ms, luaL_Buffer *b, const char *s, const char *e)
{
    lua_State *L = ms->L;
    size_t l;
    const char *r = lua_tolstring(L, 3, &l);
    const char *end = r + l;
    while (r < end) {
        const char *pct = memchr(r, PM_ESC, (size_t)(end - r));
        if (!pct) {
            luaL_addlstring(b, r, (size_t)(end - r));
            break;
        }
        luaL_addlstring(b, r, (size_t)(pct - r));
        int d = (unsigned char)pct[1]; /* the terminating NUL when '%' ends it */
        if (d == PM_ESC) {
            luaL_addchar(b, PM_ESC);
        } else if (d == '0') {
            luaL_addlstring(b, s, (size_t)(e - s));
        } else if (isdigit(d)) {
            pm_push_capture(ms, d - '1', s, e);
            luaL_addvalue(b); /* a position capture is added as a number */
        } else {
            luaL_error(L, "invalid use of '%c' in replacement string", PM_ESC);
        }
        r = pct + 2;
    }
}

static bool pm_add_value(pm_state *ms, luaL_Buffer *b, const char *s, const char *e, int tr)
{
    lua_State *L = ms->L;
    if (tr == LUA_TFUNCTION) {
        lua_pushvalue(L, 3);
        int n = pm_push_captures(ms, s, e);
        lua_call(L, n, 1);
    } else if (tr == LUA_TTABLE) {
        pm_push_capture(ms, 0, s, e);
        lua_gettable(L, 3);
    } else {
        pm_add_string(ms, b, s, e);
        return true;
    }
    if (!lua_toboolean(L, -1)) { /* nil or false: keep the original text */
        lua_pop(L, 1);
        luaL_addlstring(b, s, (size_t)(e - s));
        return false;
    }
    if (!lua_isstring(L, -1))
        luaL_error(L, "invalid replacement value (a %s)", luaL_typename(L, -1));
    luaL_addvalue(b);
    return true;
}

static int sb_gsub(lua_State *L)
{
    size_t srcl, lp;
    const char *src = luaL_checklstring(L, 1, &srcl);
    const char *p = luaL_checklstring(L, 2, &lp);
    const char *lastmatch = NULL;
    int tr = lua_type(L, 3);
    lua_Integer max_s = luaL_optinteger(L, 4, (lua_Integer)srcl + 1);
    bool anchor = *p == '^';
    lua_Integer n = 0;
    bool changed = false;
    luaL_argexpected(L, tr == LUA_TNUMBER || tr == LUA_TSTRING || tr == LUA_TFUNCTION ||
                            tr == LUA_TTABLE,
                     3, "string/function/table");
    luaL_Buffer b;
    luaL_buffinit(L, &b);
    pm_state ms;
    pm_init(&ms, L, src, srcl, p, lp);
    if (anchor)
        p++;
    /* parsed only when the loop below runs: that is where pm_match would
     * first parse it (and report a malformed pattern) */
    const char *first = !anchor && max_s > 0 ? pm_first_item(&ms, p) : NULL;
    if (first == ms.p_end && tr == LUA_TSTRING) {
        /* one single-character item and a replacement without captures: every
         * match is one byte, so the substitution is one pass */
        size_t rl;
        const char *r = lua_tolstring(L, 3, &rl);
        if (!memchr(r, PM_ESC, rl)) {
            while (n < max_s && src < ms.src_end) {
                pm_step(&ms);
                if (pm_first_ok(&ms, src, p, first)) {
                    luaL_addlstring(&b, r, rl);
                    n++;
                    changed = true;
                } else {
                    luaL_addchar(&b, *src);
                }
                src++;
            }
            goto done;
        }
    }
    while (n < max_s) {
        if (first && !pm_first_ok(&ms, src, p, first)) {
            pm_step(&ms);
            if (src >= ms.src_end)
                break;
            luaL_addchar(&b, *src++);
            continue;
        }
        ms.level = 0;
        ms.depth = PM_MAXDEPTH;
        const char *e = pm_match(&ms, src, p);
        if (e && e != lastmatch) {
            n++;
            changed = pm_add_value(&ms, &b, src, e, tr) || changed;
            src = lastmatch = e;
        } else if (src < ms.src_end) {
            luaL_addchar(&b, *src++);
        } else {
            break;
        }
        if (anchor)
            break;
    }
done:
    pm_flush(&ms);
    if (!changed) {
        lua_pushvalue(L, 1);
    } else {
        luaL_addlstring(&b, src, (size_t)(ms.src_end - src));
        luaL_pushresult(&b);
    }
    lua_pushinteger(L, n);
    return 2;
}

/* ---- the rest of the guarded library ----------------------------------------- */

/* string.rep: Lua's own loops once per copy, forever for rep("", 2^62). This
 * one fills the result by doubling, checks the memory cap before it starts
 * and charges one unit per 64 bytes. */
static int sb_rep(lua_State *L)
{
    size_t l, lsep;
    const char *s = luaL_checklstring(L, 1, &l);
    lua_Integer n = luaL_checkinteger(L, 2);
    const char *sep = luaL_optlstring(L, 3, "", &lsep);
    if (n <= 0 || (l == 0 && lsep == 0) || (n == 1 && l == 0)) {
        lua_pushliteral(L, "");
        return 1;
    }
    size_t unit = l + lsep;
    if (unit < l || (uint64_t)n > ((uint64_t)LUA_MAXINTEGER < SIZE_MAX ? (uint64_t)LUA_MAXINTEGER
                                                                      : (uint64_t)SIZE_MAX) /
                                      unit)
        return luaL_error(L, "resulting string too large");
    size_t total = (size_t)n * unit - lsep;
    lhost *h = host_of(L);
    if (h->armed && total > h->lim.memory - h->mem) {
        set_hit(h, HIT_MEMORY, line_at(L, 1));
        return raise_hit(L, h);
    }
    charge(L, total / 64 + 1);
    luaL_Buffer b;
    char *out = luaL_buffinitsize(L, &b, total);
    memcpy(out, s, l);
    size_t filled = l;
    if (n > 1) {
        memcpy(out + l, sep, lsep);
        filled = unit;
    }
    while (filled < total) { /* filled is a whole number of units until the last copy */
        size_t k = filled < total - filled ? filled : total - filled;
        memcpy(out + filled, out, k);
        filled += k;
    }
    luaL_pushresultsize(&b, total);
    return 1;
}

/* Wrappers that charge the loops of library functions, then run the
 * original (upvalue 1, a C function without upvalues) in their own frame, so
 * that its error messages name the function and the line as before. */
static int call_original(lua_State *L)
{
    lua_CFunction f = lua_tocfunction(L, lua_upvalueindex(1));
    return f(L);
}

static bool arg_int(lua_State *L, int idx, lua_Integer *v)
{
    int ok = 0;
    lua_Integer x = lua_tointegerx(L, idx, &ok);
    if (ok)
        *v = x;
    return ok != 0;
}

static lua_Integer table_len(lua_State *L, int idx)
{
    if (lua_type(L, idx) != LUA_TTABLE)
        return 0; /* the original reports the error */
    return luaL_len(L, idx);
}

static uint64_t span(lua_Integer from, lua_Integer to)
{
    return to >= from ? (uint64_t)to - (uint64_t)from + 1 : 0;
}

static int w_insert(lua_State *L)
{
    lua_Integer pos;
    if (lua_gettop(L) == 3 && arg_int(L, 2, &pos))
        charge(L, span(pos, table_len(L, 1) + 1));
    return call_original(L);
}

static int w_remove(lua_State *L)
{
    lua_Integer pos;
    if (lua_gettop(L) >= 2 && arg_int(L, 2, &pos))
        charge(L, span(pos, table_len(L, 1)));
    return call_original(L);
}

static int w_move(lua_State *L)
{
    lua_Integer f, e;
    if (arg_int(L, 2, &f) && arg_int(L, 3, &e))
        charge(L, span(f, e));
    return call_original(L);
}

static int w_sort(lua_State *L)
{
    lua_Integer len = table_len(L, 1);
    uint64_t n = len > 0 ? (uint64_t)len : 0;
    uint64_t lg = 1;
    while (lg < 64 && ((uint64_t)1 << lg) < n)
        lg++;
    charge(L, n > UINT64_MAX / lg ? UINT64_MAX / 2 : n * lg);
    return call_original(L);
}

/* concat(t, sep, i, j) and unpack(t, i, j): first index at arg, last after */
static int w_range(lua_State *L, int arg)
{
    lua_Integer i = 1, j = 0;
    if (lua_isnoneornil(L, arg) || arg_int(L, arg, &i)) {
        if (lua_isnoneornil(L, arg + 1))
            j = table_len(L, 1);
        else if (!arg_int(L, arg + 1, &j))
            j = 0;
        charge(L, span(i, j));
    }
    return call_original(L);
}

static int w_concat(lua_State *L)
{
    return w_range(L, 3);
}

static int w_unpack(lua_State *L)
{
    return w_range(L, 2);
}

/* string.byte(s, i, j) and utf8.codepoint(s, i, j) push one value per byte */
static int w_bytes(lua_State *L)
{
    size_t l = 0;
    if (lua_type(L, 1) == LUA_TSTRING) {
        (void)lua_tolstring(L, 1, &l);
        lua_Integer i = 1, j;
        if (!lua_isnoneornil(L, 2) && !arg_int(L, 2, &i))
            i = 1;
        j = i;
        if (!lua_isnoneornil(L, 3) && !arg_int(L, 3, &j))
            j = i;
        size_t a = pm_start(i, l), z = j < 0 ? pm_start(j, l) : (size_t)j;
        if (z > l)
            z = l;
        charge(L, z >= a ? z - a + 1 : 0);
    }
    return call_original(L);
}

static int sb_rawset(lua_State *L)
{
    luaL_checktype(L, 1, LUA_TTABLE);
    luaL_checkany(L, 2);
    luaL_checkany(L, 3);
    lua_pushglobaltable(L);
    bool global = lua_rawequal(L, 1, -1);
    lua_pop(L, 1);
    if (global)
        return luaL_error(L, "rawset on the global table is not allowed");
    lua_settop(L, 3);
    lua_rawset(L, 1);
    return 1;
}

/* setmetatable without __gc: finalizers run with hooks off (no budget) and
 * at times no call controls. */
static int sb_setmetatable(lua_State *L)
{
    int t = lua_type(L, 2);
    luaL_checktype(L, 1, LUA_TTABLE);
    luaL_argexpected(L, t == LUA_TNIL || t == LUA_TTABLE, 2, "nil or table");
    if (t == LUA_TTABLE) {
        lua_pushliteral(L, "__gc");
        int gc = lua_rawget(L, 2);
        lua_pop(L, 1);
        if (gc != LUA_TNIL)
            return luaL_error(L, "__gc metamethods are not allowed in rules");
    }
    if (luaL_getmetafield(L, 1, "__metatable") != LUA_TNIL)
        return luaL_error(L, "cannot change a protected metatable");
    lua_settop(L, 2);
    lua_setmetatable(L, 1);
    return 1;
}

static int sb_pcall(lua_State *L)
{
    luaL_checkany(L, 1);
    int st = lua_pcall(L, lua_gettop(L) - 1, LUA_MULTRET, 0);
    after_pcall(L, host_of(L), st);
    luaL_checkstack(L, 1, "too many results");
    lua_pushboolean(L, st == LUA_OK);
    lua_insert(L, 1);
    return lua_gettop(L);
}

/* The message handler of xpcall runs where the error was raised. An error
 * raised by the count hook is raised inside the hook, where Lua runs no
 * hooks: a script handler would run there without any budget. So the
 * script's handler (upvalue 1) only sees errors of its own script. */
static int sb_msgh(lua_State *L)
{
    lhost *h = host_of(L);
    if (h->hit || h->sys_oom)
        return 1; /* a limit's error, as it is */
    lua_pushvalue(L, lua_upvalueindex(1));
    lua_insert(L, 1);
    lua_call(L, lua_gettop(L) - 1, 1);
    return 1;
}

static int sb_xpcall(lua_State *L)
{
    int n = lua_gettop(L);
    luaL_checktype(L, 2, LUA_TFUNCTION);
    /* f, msgh, args -> guarded msgh, f, args */
    lua_pushvalue(L, 2);
    lua_pushcclosure(L, sb_msgh, 1);
    lua_pushvalue(L, 1);
    lua_replace(L, 2);
    lua_replace(L, 1);
    int st = lua_pcall(L, n - 2, LUA_MULTRET, 1);
    after_pcall(L, host_of(L), st);
    luaL_checkstack(L, 1, "too many results");
    lua_pushboolean(L, st == LUA_OK);
    lua_replace(L, 1);
    return lua_gettop(L);
}

static int sb_undeclared(lua_State *L)
{
    if (lua_type(L, 2) == LUA_TSTRING)
        return luaL_error(L, "undeclared global '%s'", lua_tostring(L, 2));
    return luaL_error(L, "undeclared global (a %s key)", luaL_typename(L, 2));
}

static int sb_assign(lua_State *L)
{
    if (lua_type(L, 2) == LUA_TSTRING)
        return luaL_error(L, "assignment to global '%s'", lua_tostring(L, 2));
    return luaL_error(L, "assignment to global (a %s key)", luaL_typename(L, 2));
}

/* ---- msg and ctx ------------------------------------------------------------- */

/* All full userdata a script can reach start with this header. */
typedef struct lud {
    uint32_t kind;
    uint32_t which; /* views: 0 team, 1 buyer */
    uint64_t gen;
} lud;

#define UD_MSG 0x72704701u
#define UD_CTX 0x72704702u
#define UD_VIEW 0x72704703u

enum { MSG_CACHE_SUBJECT = 1, MSG_CACHE_BODY = 2, MSG_NCACHE = 2 };
enum { CTX_TEAM = 1, CTX_BUYER = 2, CTX_NVIEWS = 2 };

typedef struct fname {
    const char *s;
    unsigned char len, id;
} fname;

#define FN(str, id) {str, (unsigned char)(sizeof(str) - 1), id}

static int field_id(const fname *t, size_t n, lua_State *L, int idx)
{
    if (lua_type(L, idx) != LUA_TSTRING)
        return -1;
    size_t kl;
    const char *k = lua_tolstring(L, idx, &kl);
    for (size_t i = 0; i < n; i++)
        if (t[i].len == kl && memcmp(t[i].s, k, kl) == 0)
            return t[i].id;
    return -1;
}

static int no_field(lua_State *L, const char *what)
{
    if (lua_type(L, 2) == LUA_TSTRING)
        return luaL_error(L, "%s has no field '%s'", what, lua_tostring(L, 2));
    return luaL_error(L, "%s has no field of type %s", what, luaL_typename(L, 2));
}

static const lud *ud_check(lua_State *L, int idx, uint32_t kind)
{
    if (lua_type(L, idx) != LUA_TUSERDATA || lua_rawlen(L, idx) < sizeof(lud))
        return NULL;
    const lud *u = lua_touserdata(L, idx);
    return u->kind == kind ? u : NULL;
}

static const rp_rule_input *ud_input(lua_State *L, const lud *u, const char *what)
{
    lhost *h = host_of(L);
    if (!h->in || u->gen != h->gen)
        luaL_error(L, "%s is only valid during the on_message call that received it", what);
    return h->in;
}

static void push_str(lua_State *L, const char *s)
{
    if (s)
        lua_pushstring(L, s);
    else
        lua_pushnil(L);
}

static void push_time(lua_State *L, int64_t t)
{
    if (t == RP_TIME_UNKNOWN)
        lua_pushnil(L);
    else
        lua_pushinteger(L, (lua_Integer)t);
}

/* A long string field is pushed once per call, then read from a user value. */
static void push_cached(lua_State *L, int slot, const char *s)
{
    if (lua_getiuservalue(L, 1, slot) == LUA_TSTRING || !s)
        return; /* nil when s is NULL */
    lua_pop(L, 1);
    lua_pushstring(L, s);
    lua_pushvalue(L, -1);
    lua_setiuservalue(L, 1, slot);
}

enum {
    M_ID, M_SUBJECT, M_BODY, M_LANGUAGE, M_INTENT, M_HIGH_RISK, M_MARKETPLACE, M_ORDER_ID,
    M_FROM, M_RECEIVED_AT, M_FIRST_MESSAGE, M_HEADER
};

static const fname msg_fields[] = {
    FN("intent", M_INTENT),       FN("language", M_LANGUAGE),
    FN("marketplace", M_MARKETPLACE), FN("high_risk", M_HIGH_RISK),
    FN("subject", M_SUBJECT),     FN("body", M_BODY),
    FN("order_id", M_ORDER_ID),   FN("first_message", M_FIRST_MESSAGE),
    FN("id", M_ID),               FN("from", M_FROM),
    FN("received_at", M_RECEIVED_AT), FN("header", M_HEADER),
};

static int msg_header(lua_State *L)
{
    const lud *u = ud_check(L, 1, UD_MSG);
    if (!u)
        return luaL_error(L, "msg:header(name) must be called with ':'");
    const rp_rule_input *in = ud_input(L, u, "msg");
    const char *name = luaL_checkstring(L, 2);
    push_str(L, in->msg ? rp_message_header(in->msg, name) : NULL);
    return 1;
}

static int msg_index(lua_State *L)
{
    const rp_rule_input *in = ud_input(L, lua_touserdata(L, 1), "msg");
    const rp_message *m = in->msg;
    switch (field_id(msg_fields, sizeof msg_fields / sizeof msg_fields[0], L, 2)) {
    case M_ID: push_str(L, m ? m->id : NULL); break;
    case M_SUBJECT: push_cached(L, MSG_CACHE_SUBJECT, m ? m->subject : NULL); break;
    case M_BODY: push_cached(L, MSG_CACHE_BODY, m ? m->body : NULL); break;
    case M_LANGUAGE: push_str(L, in->language); break;
    case M_INTENT: push_str(L, in->intent); break;
    case M_HIGH_RISK: lua_pushboolean(L, in->high_risk); break;
    case M_MARKETPLACE: push_str(L, in->marketplace); break;
    case M_ORDER_ID: push_str(L, m ? m->order_id : NULL); break;
    case M_FROM: push_str(L, m ? m->from : NULL); break;
    case M_RECEIVED_AT: push_time(L, m ? m->received_at : RP_TIME_UNKNOWN); break;
    case M_FIRST_MESSAGE: lua_pushboolean(L, in->first_message); break;
    case M_HEADER: lua_pushcfunction(L, msg_header); break;
    default: return no_field(L, "msg");
    }
    return 1;
}

static int msg_newindex(lua_State *L)
{
    return luaL_error(L, "msg is read-only");
}

enum { V_TZ, V_YEAR, V_MONTH, V_DAY, V_HOUR, V_MINUTE, V_WDAY, V_DATE, V_TIME };

static const fname view_fields[] = {
    FN("hour", V_HOUR), FN("wday", V_WDAY),   FN("date", V_DATE),     FN("time", V_TIME),
    FN("minute", V_MINUTE), FN("day", V_DAY), FN("month", V_MONTH), FN("year", V_YEAR),
    FN("tz", V_TZ),
};

static int view_index(lua_State *L)
{
    const lud *u = lua_touserdata(L, 1);
    const rp_rule_input *in = ud_input(L, u, u->which ? "ctx.buyer" : "ctx.team");
    const rp_civil *c = u->which ? &in->buyer_local : &in->team_local;
    char buf[32];
    switch (field_id(view_fields, sizeof view_fields / sizeof view_fields[0], L, 2)) {
    case V_TZ: push_str(L, u->which ? in->buyer_tz : in->team_tz); break;
    case V_YEAR: lua_pushinteger(L, c->year); break;
    case V_MONTH: lua_pushinteger(L, c->month); break;
    case V_DAY: lua_pushinteger(L, c->day); break;
    case V_HOUR: lua_pushinteger(L, c->hour); break;
    case V_MINUTE: lua_pushinteger(L, c->minute); break;
    case V_WDAY: lua_pushinteger(L, c->wday + 1); break;
    case V_DATE:
        snprintf(buf, sizeof buf, "%04d-%02d-%02d", c->year, c->month, c->day);
        lua_pushstring(L, buf);
        break;
    case V_TIME:
        snprintf(buf, sizeof buf, "%02d:%02d", c->hour, c->minute);
        lua_pushstring(L, buf);
        break;
    default: return no_field(L, u->which ? "ctx.buyer" : "ctx.team");
    }
    return 1;
}

static int view_newindex(lua_State *L)
{
    const lud *u = lua_touserdata(L, 1);
    return luaL_error(L, "%s is read-only", u->which ? "ctx.buyer" : "ctx.team");
}

/* ctx.f(...) and ctx:f(...) both work: a leading ctx is skipped. */
static int ctx_args(lua_State *L, const char *fn)
{
    lhost *h = host_of(L);
    const lud *u = ud_check(L, 1, UD_CTX);
    if (u)
        ud_input(L, u, "ctx");
    else if (!h->in)
        luaL_error(L, "ctx.%s is only valid during an on_message call", fn);
    return u ? 2 : 1;
}

static int ctx_log(lua_State *L)
{
    int a = ctx_args(L, "log");
    lhost *h = host_of(L);
    size_t n;
    const char *s = luaL_checklstring(L, a, &n);
    if (h->nlogs > RP_LUA_LOG_LINES)
        return 0;
    char buf[RP_LUA_LOG_MAX + 64];
    if (h->nlogs++ == RP_LUA_LOG_LINES) {
        snprintf(buf, sizeof buf, "(more than %d log lines in one call: the rest are dropped)",
                 RP_LUA_LOG_LINES);
    } else {
        size_t m = strnlen(s, n < RP_LUA_LOG_MAX ? n : RP_LUA_LOG_MAX);
        if (m < n) /* cut: not inside a UTF-8 sequence */
            while (m > 0 && ((unsigned char)s[m] & 0xC0) == 0x80)
                m--;
        memcpy(buf, s, m);
        strcpy(buf + m, m < n ? "..." : "");
    }
    if (h->in->log)
        h->in->log(h->in, h->rule, buf);
    return 0;
}

static int ctx_has_template(lua_State *L)
{
    int a = ctx_args(L, "has_template");
    lhost *h = host_of(L);
    const char *id = luaL_checkstring(L, a);
    const char *lang = luaL_optstring(L, a + 1, NULL);
    lua_pushboolean(L, h->in->has_template ? h->in->has_template(h->in, id, lang) : false);
    return 1;
}

enum {
    C_NOW, C_TEAM, C_BUYER, C_OPEN, C_IN_HOURS, C_HOLIDAY, C_HOLIDAY_END, C_NEXT_OPEN,
    C_HAS_TEMPLATE, C_LOG
};

static const fname ctx_fields[] = {
    FN("now", C_NOW),         FN("team", C_TEAM),
    FN("buyer", C_BUYER),     FN("open", C_OPEN),
    FN("in_hours", C_IN_HOURS), FN("holiday", C_HOLIDAY),
    FN("holiday_end", C_HOLIDAY_END), FN("next_open", C_NEXT_OPEN),
    FN("has_template", C_HAS_TEMPLATE), FN("log", C_LOG),
};

/* upvalue 1: the metatable of views */
static int ctx_index(lua_State *L)
{
    const lud *u = lua_touserdata(L, 1);
    const rp_rule_input *in = ud_input(L, u, "ctx");
    int id = field_id(ctx_fields, sizeof ctx_fields / sizeof ctx_fields[0], L, 2);
    switch (id) {
    case C_NOW: lua_pushinteger(L, (lua_Integer)in->now); break;
    case C_TEAM:
    case C_BUYER: {
        int slot = id == C_TEAM ? CTX_TEAM : CTX_BUYER;
        if (lua_getiuservalue(L, 1, slot) == LUA_TUSERDATA)
            return 1;
        lua_pop(L, 1);
        lud *v = lua_newuserdatauv(L, sizeof *v, 0);
        v->kind = UD_VIEW;
        v->which = id == C_TEAM ? 0 : 1;
        v->gen = u->gen;
        lua_pushvalue(L, lua_upvalueindex(1));
        lua_setmetatable(L, -2);
        lua_pushvalue(L, -1);
        lua_setiuservalue(L, 1, slot);
        break;
    }
    case C_OPEN: lua_pushboolean(L, in->sched.open); break;
    case C_IN_HOURS: lua_pushboolean(L, in->sched.in_hours); break;
    case C_HOLIDAY: push_str(L, in->sched.holiday); break;
    case C_HOLIDAY_END:
        push_time(L, in->sched.holiday ? in->sched.holiday_end : RP_TIME_UNKNOWN);
        break;
    case C_NEXT_OPEN: push_time(L, in->sched.next_open); break;
    case C_HAS_TEMPLATE: lua_pushcfunction(L, ctx_has_template); break;
    case C_LOG: lua_pushcfunction(L, ctx_log); break;
    default: return no_field(L, "ctx");
    }
    return 1;
}

static int ctx_newindex(lua_State *L)
{
    return luaL_error(L, "ctx is read-only");
}

/* upvalues: msg metatable, ctx metatable, on_message */
static int tramp(lua_State *L)
{
    lhost *h = host_of(L);
    lud *m = lua_newuserdatauv(L, sizeof *m, MSG_NCACHE);
    m->kind = UD_MSG;
    m->which = 0;
    m->gen = h->gen;
    lua_pushvalue(L, lua_upvalueindex(1));
    lua_setmetatable(L, -2);
    lud *c = lua_newuserdatauv(L, sizeof *c, CTX_NVIEWS);
    c->kind = UD_CTX;
    c->which = 0;
    c->gen = h->gen;
    lua_pushvalue(L, lua_upvalueindex(2));
    lua_setmetatable(L, -2);
    lua_pushvalue(L, lua_upvalueindex(3));
    lua_insert(L, -3);
    lua_call(L, 2, 1);
    return 1;
}

/* ---- setting up a state ------------------------------------------------------ */

static void new_metatable(lua_State *L, lua_CFunction index, int nup, lua_CFunction newindex)
{
    /* the nup upvalues of index are on the stack */
    lua_pushcclosure(L, index, nup);
    lua_createtable(L, 0, 3);
    lua_insert(L, -2);
    lua_setfield(L, -2, "__index");
    lua_pushcfunction(L, newindex);
    lua_setfield(L, -2, "__newindex");
    lua_pushboolean(L, 0);
    lua_setfield(L, -2, "__metatable");
}

static void wrap(lua_State *L, const char *name, lua_CFunction w)
{
    lua_getfield(L, -1, name);
    lua_pushcclosure(L, w, 1);
    lua_setfield(L, -2, name);
}

static int sb_rule(lua_State *L);

static int sb_setup(lua_State *L)
{
    static const struct {
        const char *name;
        lua_CFunction open;
    } libs[] = {
        {LUA_GNAME, luaopen_base},        {LUA_STRLIBNAME, luaopen_string},
        {LUA_TABLIBNAME, luaopen_table},  {LUA_MATHLIBNAME, luaopen_math},
        {LUA_UTF8LIBNAME, luaopen_utf8},
    };
    for (size_t i = 0; i < sizeof libs / sizeof libs[0]; i++) {
        luaL_requiref(L, libs[i].name, libs[i].open, 1);
        lua_pop(L, 1);
    }
    lua_pushglobaltable(L);
    static const char *const removed[] = {"dofile", "loadfile", "load", "require",
                                          "collectgarbage", "print", "warn"};
    for (size_t i = 0; i < sizeof removed / sizeof removed[0]; i++) {
        lua_pushnil(L);
        lua_setfield(L, -2, removed[i]);
    }
    lua_pushcfunction(L, sb_rawset);
    lua_setfield(L, -2, "rawset");
    lua_pushcfunction(L, sb_setmetatable);
    lua_setfield(L, -2, "setmetatable");
    lua_pushcfunction(L, sb_pcall);
    lua_setfield(L, -2, "pcall");
    lua_pushcfunction(L, sb_xpcall);
    lua_setfield(L, -2, "xpcall");
    lua_pushcfunction(L, sb_rule);
    lua_setfield(L, -2, "rule");

    /* string: the same table is the __index of the string metatable */
    lua_getfield(L, -1, LUA_STRLIBNAME);
    static const luaL_Reg str[] = {{"find", sb_find}, {"match", sb_match},
                                   {"gmatch", sb_gmatch}, {"gsub", sb_gsub},
                                   {"rep", sb_rep},     {NULL, NULL}};
    luaL_setfuncs(L, str, 0);
    lua_pushnil(L);
    lua_setfield(L, -2, "dump");
    wrap(L, "byte", w_bytes);
    lua_pop(L, 1);
    lua_pushliteral(L, "");
    if (lua_getmetatable(L, -1)) {
        lua_pushboolean(L, 0);
        lua_setfield(L, -2, "__metatable");
        lua_pop(L, 1);
    }
    lua_pop(L, 1);

    lua_getfield(L, -1, LUA_TABLIBNAME);
    wrap(L, "insert", w_insert);
    wrap(L, "remove", w_remove);
    wrap(L, "move", w_move);
    wrap(L, "sort", w_sort);
    wrap(L, "concat", w_concat);
    wrap(L, "unpack", w_unpack);
    lua_pop(L, 1);
    lua_getfield(L, -1, LUA_UTF8LIBNAME);
    wrap(L, "codepoint", w_bytes);
    lua_pop(L, 1);

    /* while the file loads: reading an undeclared global is an error */
    lua_createtable(L, 0, 2);
    lua_pushcfunction(L, sb_undeclared);
    lua_setfield(L, -2, "__index");
    lua_pushboolean(L, 0);
    lua_setfield(L, -2, "__metatable");
    lua_setmetatable(L, -2);
    lua_pop(L, 1);

    /* metatables of msg, ctx and the team/buyer views */
    new_metatable(L, msg_index, 0, msg_newindex);
    lua_setfield(L, LUA_REGISTRYINDEX, "rp.msg");
    new_metatable(L, view_index, 0, view_newindex);
    new_metatable(L, ctx_index, 1, ctx_newindex);
    lua_setfield(L, LUA_REGISTRYINDEX, "rp.ctx");
    return 0;
}

static bool has_ctrl(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
            return true;
    return false;
}

static int sb_rule(lua_State *L)
{
    lhost *h = host_of(L);
    if (!h->loading)
        return luaL_error(L, "rule{} can only be called while the file loads");
    if (h->fn_ref != LUA_NOREF)
        return luaL_error(L, "rule{} called twice: one file defines one rule");
    luaL_checktype(L, 1, LUA_TTABLE);
    lua_settop(L, 1);
    lua_pushnil(L);
    while (lua_next(L, 1)) {
        lua_pop(L, 1);
        if (lua_type(L, -1) != LUA_TSTRING)
            return luaL_error(L, "rule{}: unexpected %s key (fields: name, priority, on_message)",
                              luaL_typename(L, -1));
        const char *k = lua_tostring(L, -1);
        if (strcmp(k, "name") != 0 && strcmp(k, "priority") != 0 && strcmp(k, "on_message") != 0)
            return luaL_error(L, "rule{}: unknown field '%s' (fields: name, priority, on_message)",
                              k);
    }
    lua_getfield(L, 1, "name");
    size_t nl;
    const char *name = lua_type(L, -1) == LUA_TSTRING ? lua_tolstring(L, -1, &nl) : NULL;
    if (!name)
        return luaL_error(L, "rule{}: name must be a string");
    if (nl == 0 || nl > RP_LUA_MAX_NAME || has_ctrl(name, nl))
        return luaL_error(L, "rule{}: name must be 1 to %d characters without control characters",
                          RP_LUA_MAX_NAME);
    lua_getfield(L, 1, "priority");
    int priority = RP_LUA_DEFAULT_PRIORITY;
    if (!lua_isnil(L, -1)) {
        lua_Integer pr;
        if (lua_type(L, -1) != LUA_TNUMBER || !arg_int(L, -1, &pr))
            return luaL_error(L, "rule{}: priority must be an integer");
        if (pr < RP_LUA_MIN_PRIORITY || pr > RP_LUA_MAX_PRIORITY)
            return luaL_error(L, "rule{}: priority must be between %d and %d",
                              RP_LUA_MIN_PRIORITY, RP_LUA_MAX_PRIORITY);
        priority = (int)pr;
    }
    lua_getfield(L, 1, "on_message");
    if (lua_type(L, -1) != LUA_TFUNCTION)
        return luaL_error(L, "rule{}: on_message must be a function(msg, ctx)");
    char *copy = rp_strndup(name, nl);
    if (!copy) {
        h->sys_oom = true;
        return luaL_error(L, "out of memory");
    }
    h->fn_ref = luaL_ref(L, LUA_REGISTRYINDEX);
    free(h->rule_name);
    h->rule_name = copy;
    h->priority = priority;
    return 0;
}

/* After loading: move every global into a hidden table and leave _G empty,
 * reading through to it; any assignment to _G then meets __newindex. The
 * hidden table errors on undeclared names; both metatables are protected. */
static int sb_freeze(lua_State *L)
{
    lhost *h = host_of(L);
    lua_pushglobaltable(L); /* 1 */
    lua_newtable(L);        /* 2 */
    lua_pushnil(L);
    while (lua_next(L, 1)) {
        lua_pushvalue(L, -2);
        lua_insert(L, -2);
        lua_rawset(L, 2);
        lua_pushvalue(L, -1);
        lua_pushnil(L);
        lua_rawset(L, 1); /* clearing fields while traversing is allowed */
    }
    lua_createtable(L, 0, 2);
    lua_pushcfunction(L, sb_undeclared);
    lua_setfield(L, -2, "__index");
    lua_pushboolean(L, 0);
    lua_setfield(L, -2, "__metatable");
    lua_setmetatable(L, 2);
    lua_createtable(L, 0, 3);
    lua_pushvalue(L, 2);
    lua_setfield(L, -2, "__index");
    lua_pushcfunction(L, sb_assign);
    lua_setfield(L, -2, "__newindex");
    lua_pushboolean(L, 0);
    lua_setfield(L, -2, "__metatable");
    lua_setmetatable(L, 1);

    lua_getfield(L, LUA_REGISTRYINDEX, "rp.msg");
    lua_getfield(L, LUA_REGISTRYINDEX, "rp.ctx");
    lua_rawgeti(L, LUA_REGISTRYINDEX, h->fn_ref);
    lua_pushcclosure(L, tramp, 3);
    h->tramp_ref = luaL_ref(L, LUA_REGISTRYINDEX);
    return 0;
}

/* ---- errors ---------------------------------------------------------------------- */

/* The message of a failed protected call, with Lua's name of the file
 * replaced by the full name, or "file: " added. */
static void error_text(lhost *h, lua_State *L, char *buf, size_t size)
{
    const char *m;
    switch (lua_type(L, -1)) {
    case LUA_TSTRING:
    case LUA_TNUMBER: m = lua_tostring(L, -1); break;
    case LUA_TNIL: m = "error (nil)"; break;
    default: /* no __tostring: it would run script code outside the limits */
        snprintf(buf, size, "%s: error object is a %s value", h->file,
                 luaL_typename(L, -1));
        return;
    }
    size_t cl = strlen(h->chunkid);
    if (cl && strncmp(m, h->chunkid, cl) == 0 && m[cl] == ':')
        snprintf(buf, size, "%s%s", h->file, m + cl);
    else if (strncmp(m, h->file, strlen(h->file)) == 0)
        snprintf(buf, size, "%s", m);
    else
        snprintf(buf, size, "%s: %s", h->file, m);
}

/* A failed load or call: which limit, the process out of memory, or the
 * script's own error. when: "" for calls, " while loading" for the file. */
static rp_status failure(lhost *h, int status, rp_status code, const char *when, rp_error *err)
{
    lua_State *L = h->L;
    if (status == LUA_ERRMEM && h->cap_refused)
        set_hit(h, HIT_MEMORY, h->mem_line);
    if (!h->hit && (h->sys_oom || status == LUA_ERRMEM))
        return rp_error_set(err, RP_ENOMEM, "%s: out of memory", h->file);
    char where[32] = "";
    if (h->hit_line > 0)
        snprintf(where, sizeof where, ":%d", h->hit_line);
    switch (h->hit) {
    case HIT_BUDGET:
        return rp_error_set(err, code == RP_ECONFIG ? code : RP_ELIMIT,
                            "%s%s: instruction budget exceeded%s (%llu instructions)", h->file,
                            where, when, (unsigned long long)h->lim.instructions);
    case HIT_TIME:
        return rp_error_set(err, code == RP_ECONFIG ? code : RP_ELIMIT,
                            "%s%s: time limit exceeded%s (%u ms)", h->file, where, when,
                            (unsigned)h->lim.time_ms);
    case HIT_MEMORY:
        return rp_error_set(err, code == RP_ECONFIG ? code : RP_ELIMIT,
                            "%s%s: memory limit exceeded%s (%zu bytes)", h->file, where, when,
                            h->lim.memory);
    default: break;
    }
    char buf[RP_ERROR_MSG_MAX];
    if (lua_gettop(L) > 0)
        error_text(h, L, buf, sizeof buf);
    else
        snprintf(buf, sizeof buf, "%s: error", h->file);
    return rp_error_set(err, code, "%s", buf);
}

/* ---- the result ------------------------------------------------------------------- */

static rp_status bad(lhost *h, rp_error *err, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static rp_status bad(lhost *h, rp_error *err, const char *fmt, ...)
{
    char buf[RP_ERROR_MSG_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    return rp_error_set(err, RP_EINVAL, "%s: on_message result: %s", h->file, buf);
}

/* Is the table at idx a list 1..n with no other keys? n <= max. */
static int list_len(lua_State *L, int idx, size_t max, size_t *n)
{
    size_t len = lua_rawlen(L, idx), count = 0;
    if (len > max) {
        *n = len;
        return 1; /* too long */
    }
    lua_pushnil(L);
    while (lua_next(L, idx)) {
        lua_pop(L, 1);
        lua_Integer k;
        if (lua_type(L, -1) != LUA_TNUMBER || !lua_isinteger(L, -1) || !arg_int(L, -1, &k) ||
            k < 1 || (size_t)k > len || ++count > len) {
            lua_pop(L, 1);
            return -1;
        }
    }
    *n = len;
    return count == len ? 0 : -1;
}

#define KEY_IS(k, kl, lit) ((kl) == sizeof(lit) - 1 && memcmp((k), (lit), (kl)) == 0)

/* The string at -1, 1..max bytes without NUL, copied into the arena. what
 * and i name it in errors: "tags[2]", "replies[1].template". */
static rp_status arena_text(lhost *h, lua_State *L, rp_arena *arena, size_t max,
                            const char *what, size_t i, const char *field, const char **out,
                            rp_error *err)
{
    size_t n = 0;
    const char *s = lua_type(L, -1) == LUA_TSTRING ? lua_tolstring(L, -1, &n) : NULL;
    if (!s)
        return bad(h, err, "%s[%zu]%s must be a string (got %s)", what, i, field,
                   luaL_typename(L, -1));
    if (n == 0 || n > max || memchr(s, '\0', n))
        return bad(h, err, "%s[%zu]%s must be 1 to %zu bytes without NUL", what, i, field, max);
    *out = rp_arena_strndup(arena, s, n);
    return *out ? RP_OK : rp_error_set(err, RP_ENOMEM, "out of memory");
}

static rp_status conv_reply(lhost *h, lua_State *L, size_t i, rp_arena *arena, rp_reply_req *r,
                            rp_error *err)
{
    if (!lua_istable(L, -1))
        return bad(h, err, "replies[%zu] must be a table {template = ..., action = ...} (got %s)",
                   i, luaL_typename(L, -1));
    int t = lua_gettop(L);
    r->template_id = NULL;
    r->action = RP_ACTION_APPROVE;
    lua_pushnil(L);
    while (lua_next(L, t)) {
        size_t kl = 0;
        const char *k = lua_type(L, -2) == LUA_TSTRING ? lua_tolstring(L, -2, &kl) : NULL;
        rp_status st = RP_OK;
        if (k && KEY_IS(k, kl, "template")) {
            st = arena_text(h, L, arena, RP_LUA_MAX_TEMPLATE, "replies", i, ".template",
                            &r->template_id, err);
        } else if (k && KEY_IS(k, kl, "action")) {
            const char *a = lua_type(L, -1) == LUA_TSTRING ? lua_tostring(L, -1) : NULL;
            if (!a || rp_action_parse(a, &r->action) != RP_OK)
                st = bad(h, err, "replies[%zu].action must be \"approve\" or \"auto_send\"", i);
        } else if (k) {
            st = bad(h, err, "replies[%zu]: unknown key '%s' (expected template, action)", i, k);
        } else {
            st = bad(h, err, "replies[%zu]: keys must be strings (got a %s key)", i,
                     luaL_typename(L, -2));
        }
        lua_pop(L, 1);
        if (st != RP_OK) {
            lua_pop(L, 1);
            return st;
        }
    }
    if (!r->template_id)
        return bad(h, err, "replies[%zu]: template is required", i);
    return RP_OK;
}

static rp_status conv_replies(lhost *h, lua_State *L, rp_arena *arena, rp_outcome *out,
                              rp_error *err)
{
    size_t n;
    int t = lua_gettop(L);
    int l = lua_istable(L, t) ? list_len(L, t, RP_MAX_REPLIES, &n) : -1;
    if (l < 0)
        return bad(h, err, "replies must be a list of {template = ..., action = ...} tables");
    if (l > 0)
        return bad(h, err, "too many replies (%zu; at most %d)", n, RP_MAX_REPLIES);
    for (size_t i = 0; i < n; i++) {
        lua_rawgeti(L, t, (lua_Integer)i + 1);
        rp_status st = conv_reply(h, L, i + 1, arena, &out->replies[i], err);
        lua_pop(L, 1);
        if (st != RP_OK)
            return st;
    }
    out->nreplies = n;
    return RP_OK;
}

static rp_status conv_tags(lhost *h, lua_State *L, rp_arena *arena, rp_outcome *out,
                           rp_error *err)
{
    size_t n;
    int t = lua_gettop(L);
    int l = lua_istable(L, t) ? list_len(L, t, RP_MAX_TAGS, &n) : -1;
    if (l < 0)
        return bad(h, err, "tags must be a list of strings");
    if (l > 0)
        return bad(h, err, "too many tags (%zu; at most %d)", n, RP_MAX_TAGS);
    for (size_t i = 0; i < n; i++) {
        lua_rawgeti(L, t, (lua_Integer)i + 1);
        rp_status st = arena_text(h, L, arena, RP_LUA_MAX_TAG, "tags", i + 1, "", &out->tags[i],
                                  err);
        lua_pop(L, 1);
        if (st != RP_OK)
            return st;
    }
    out->ntags = n;
    return RP_OK;
}

static rp_status conv_bool(lhost *h, lua_State *L, const char *what, bool *out, rp_error *err)
{
    if (lua_type(L, -1) != LUA_TBOOLEAN)
        return bad(h, err, "%s must be true or false (got %s)", what, luaL_typename(L, -1));
    *out = lua_toboolean(L, -1);
    return RP_OK;
}

static rp_status outcome_from(lhost *h, lua_State *L, rp_arena *arena, rp_outcome *out,
                              bool *matched, rp_error *err)
{
    int t = lua_gettop(L);
    int type = lua_type(L, t);
    if (type == LUA_TNIL || (type == LUA_TBOOLEAN && !lua_toboolean(L, t)))
        return RP_OK;
    if (type != LUA_TTABLE)
        return bad(h, err, "on_message must return a table, nil or false (got %s)",
                   luaL_typename(L, t));
    if (!lua_checkstack(L, 8))
        return rp_error_set(err, RP_ELIMIT, "%s: memory limit exceeded (%zu bytes)", h->file,
                            h->lim.memory);
    lua_pushnil(L);
    while (lua_next(L, t)) {
        size_t kl = 0;
        const char *k = lua_type(L, -2) == LUA_TSTRING ? lua_tolstring(L, -2, &kl) : NULL;
        rp_status st;
        if (k && KEY_IS(k, kl, "replies")) {
            st = conv_replies(h, L, arena, out, err);
        } else if (k && KEY_IS(k, kl, "tags")) {
            st = conv_tags(h, L, arena, out, err);
        } else if (k && KEY_IS(k, kl, "no_reply")) {
            st = conv_bool(h, L, "no_reply", &out->no_reply, err);
        } else if (k && KEY_IS(k, kl, "continue")) {
            st = conv_bool(h, L, "continue", &out->cont, err);
        } else if (k && KEY_IS(k, kl, "priority")) {
            const char *p = lua_type(L, -1) == LUA_TSTRING ? lua_tostring(L, -1) : NULL;
            st = p && rp_priority_parse(p, &out->priority) == RP_OK
                     ? RP_OK
                     : bad(h, err, "priority must be \"low\", \"normal\", \"high\" or \"urgent\"");
            out->has_priority = st == RP_OK;
        } else if (k) {
            st = bad(h, err,
                     "unknown key '%s' (expected replies, no_reply, priority, tags, continue)", k);
        } else {
            st = bad(h, err, "keys must be strings (got a %s key)", luaL_typename(L, -2));
        }
        lua_pop(L, 1);
        if (st != RP_OK) {
            lua_pop(L, 1);
            return st;
        }
    }
    if (out->no_reply && out->nreplies > 0)
        return bad(h, err, "no_reply = true and replies cannot go together");
    *matched = true;
    return RP_OK;
}

/* ---- load and eval ---------------------------------------------------------------- */

static void host_free(void *p)
{
    lhost *h = p;
    if (!h)
        return;
    if (h->L) {
        disarm(h);
        lua_close(h->L);
    }
    free(h->rule_name);
    free(h->file);
    free(h);
}

static rp_status lua_rule_eval(rp_rule *r, const rp_rule_input *in, rp_arena *arena,
                               rp_outcome *out, bool *matched, rp_error *err)
{
    lhost *h = r->data;
    lua_State *L = h->L;
    *matched = false;
    memset(out, 0, sizeof *out);
    lua_settop(L, 0);
    h->in = in;
    h->rule = r->name;
    h->nlogs = 0;
    h->gen++;
    arm(h);
    lua_rawgeti(L, LUA_REGISTRYINDEX, h->tramp_ref);
    int st = lua_pcall(L, 0, 1, 0);
    disarm(h);
    h->in = NULL;
    h->gen++; /* msg, ctx and views of this call are stale from now on */
    rp_status rs;
    if (st != LUA_OK || h->hit || h->sys_oom)
        rs = failure(h, st, RP_EINVAL, "", err);
    else
        rs = outcome_from(h, L, arena, out, matched, err);
    lua_settop(L, 0);
    if (rs != RP_OK) {
        *matched = false;
        lua_gc(L, LUA_GCCOLLECT); /* give the next call the memory back */
    }
    return rs;
}

void rp_lua_limits_default(rp_lua_limits *l)
{
    l->instructions = RP_LUA_DEFAULT_INSTRUCTIONS;
    l->memory = RP_LUA_DEFAULT_MEMORY;
    l->time_ms = RP_LUA_DEFAULT_TIME_MS;
}

rp_status rp_lua_rule_load(const char *src, size_t len, const char *name,
                           const rp_lua_limits *lim, rp_rule **out, rp_error *err)
{
    *out = NULL;
    if (!name)
        name = "(lua rule)";
    lhost *h = calloc(1, sizeof *h);
    if (!h)
        return rp_error_set(err, RP_ENOMEM, "out of memory");
    rp_lua_limits_default(&h->lim);
    if (lim) {
        if (lim->instructions)
            h->lim.instructions = lim->instructions;
        if (lim->memory)
            h->lim.memory = lim->memory;
        if (lim->time_ms)
            h->lim.time_ms = lim->time_ms;
    }
    h->fn_ref = h->tramp_ref = LUA_NOREF;
    h->file = rp_strdup(name);
    size_t nl = strlen(name);
    char *chunkname = malloc(nl + 2);
    if (!h->file || !chunkname) {
        free(chunkname);
        host_free(h);
        return rp_error_set(err, RP_ENOMEM, "out of memory");
    }
    chunkname[0] = '=';
    memcpy(chunkname + 1, name, nl + 1);

    rp_status rs = RP_OK;
    h->L = lua_newstate(lalloc, h);
    if (!h->L) {
        rs = h->sys_oom ? rp_error_set(err, RP_ENOMEM, "out of memory")
                        : rp_error_set(err, RP_ECONFIG,
                                       "%s: memory limit (%zu bytes) too small for Lua", name,
                                       h->lim.memory);
        goto out;
    }
    lua_State *L = h->L;
    *(lhost **)lua_getextraspace(L) = h;
    arm(h); /* the top-level code runs under the same limits as a call */
    lua_pushcfunction(L, sb_setup);
    int st = lua_pcall(L, 0, 0, 0);
    if (st == LUA_OK) { /* how Lua names this file in messages */
        st = luaL_loadbufferx(L, "", 0, chunkname, "t");
        if (st == LUA_OK) {
            lua_Debug ar;
            if (lua_getinfo(L, ">S", &ar))
                snprintf(h->chunkid, sizeof h->chunkid, "%s", ar.short_src);
        }
    }
    if (st == LUA_OK)
        st = luaL_loadbufferx(L, src, len, chunkname, "t");
    if (st == LUA_OK) {
        h->loading = true;
        st = lua_pcall(L, 0, 0, 0);
        h->loading = false;
    }
    if (st != LUA_OK || h->hit || h->sys_oom) {
        rs = failure(h, st, RP_ECONFIG, " while loading", err);
        goto out;
    }
    if (h->fn_ref == LUA_NOREF) {
        rs = rp_error_set(err, RP_ECONFIG,
                          "%s: no rule defined (the file must call rule{ name = ..., "
                          "on_message = function(msg, ctx) ... end })",
                          name);
        goto out;
    }
    lua_pushcfunction(L, sb_freeze);
    st = lua_pcall(L, 0, 0, 0);
    if (st != LUA_OK || h->hit || h->sys_oom) {
        rs = failure(h, st, RP_ECONFIG, " while loading", err);
        goto out;
    }
    disarm(h);
    lua_settop(L, 0);
    lua_gc(L, LUA_GCCOLLECT);
    rp_rule *r = rp_rule_new(h->rule_name, h->priority, name, lua_rule_eval, h, host_free);
    if (!r) {
        rs = rp_error_set(err, RP_ENOMEM, "out of memory");
        goto out;
    }
    free(chunkname);
    *out = r;
    return RP_OK;
out:
    free(chunkname);
    host_free(h);
    return rs;
}
