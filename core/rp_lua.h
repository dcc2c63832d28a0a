/* rp_lua.h — rules written in Lua, run in a sandbox.
 *
 * One Lua file defines one rule: its top-level code calls rule{ name = ...,
 * priority = ..., on_message = function(msg, ctx) ... end } exactly once.
 * rp_lua_rule_load() compiles the file into an rp_rule (rp_rules.h) whose
 * eval calls on_message for a message and turns the returned table into an
 * rp_outcome. The Lua-side API and the sandbox are described in
 * docs/lua-rules.md.
 *
 * Every rule has its own lua_State: rules cannot see each other's state. A
 * state opens only the base, string, table, math and utf8 libraries, minus
 * everything that reaches outside (files, processes, loading code, bytecode,
 * finalizers); its globals are frozen once the file has loaded. Each call of
 * on_message runs under an instruction budget, a wall-clock limit and the
 * rule's memory cap; a call that breaks one fails (RP_ELIMIT), and so does a
 * runtime error or an invalid return value (RP_EINVAL). The message of the
 * rp_error says what happened ("rules/vip.lua:12: instruction budget
 * exceeded (1000000 instructions)"); the caller adds the rule's name. The state stays
 * usable: the next call runs normally. RP_ENOMEM from eval means the process
 * itself ran out of memory, not the rule.
 *
 * Memory: the rp_rule returned by rp_lua_rule_load() owns the lua_State; the
 * caller owns the rule (rp_rule_free(), or hand it to rp_ruleset_add()).
 * Outcome strings are copied into the rp_arena given to eval. A rule is not
 * thread-safe: one thread at a time may evaluate it.
 */
#ifndef RP_LUA_H
#define RP_LUA_H

#include <stddef.h>
#include <stdint.h>

#include "rp_error.h"
#include "rp_rules.h"

typedef struct rp_lua_limits {
    uint64_t instructions; /* per call of on_message (and for loading the file) */
    size_t memory;         /* bytes held by the rule's lua_State, all included */
    uint32_t time_ms;      /* wall-clock limit per call: the backstop for work the
                            * instruction count cannot see (long string compares) */
} rp_lua_limits;

#define RP_LUA_DEFAULT_INSTRUCTIONS 1000000u
#define RP_LUA_DEFAULT_MEMORY (8u * 1024 * 1024)
#define RP_LUA_DEFAULT_TIME_MS 100u

/* 1 000 000 instructions, 8 MiB, 100 ms. */
void rp_lua_limits_default(rp_lua_limits *l);

/* Load a rule file's text. name (the path) appears in errors and becomes the
 * rule's origin. lim may be NULL for the defaults; a field that is 0 takes its
 * default. Errors: RP_ECONFIG "file:line: message" for a syntax error, a
 * runtime error or a limit hit in the top-level code, a missing or second
 * rule{} call, or an invalid rule{} field; RP_ENOMEM. *out is NULL on error. */
rp_status rp_lua_rule_load(const char *src, size_t len, const char *name,
                           const rp_lua_limits *lim, rp_rule **out, rp_error *err);

#endif
