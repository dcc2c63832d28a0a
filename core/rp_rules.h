/* rp_rules.h — the rule record and the one execution path all rules share.
 *
 * A rule, whether written in YAML (rp_rules_yaml.c) or Lua (rp_lua.c), is
 * compiled to an rp_rule: a name, a priority, where it was defined, and an
 * eval callback that looks at one message (rp_rule_input, read-only) and
 * either does not match or fills an rp_outcome. rp_ruleset_run() runs the
 * rules in priority order (higher first; ties keep load order); the first
 * match stops the run unless its outcome says continue. A rule whose eval
 * fails is recorded with its name and reason and the run goes on with the
 * next rule: one broken rule never stops the others.
 *
 * Keyword conditions of all rules share one index: a rule registers each
 * folded keyword it tests (rp_ruleset_keyword) and gets an id;
 * rp_ruleset_finish() compiles them into one Aho–Corasick automaton, and
 * rp_ruleset_run() scans the message's folded text once and hands every rule
 * the set of keywords found (rp_rule_input.kw_hits), so fifty rules with
 * keywords cost one pass over the text.
 *
 * Memory: an rp_ruleset owns its rules; an rp_rule owns its name, origin and
 * data (released through free_data). Strings in an outcome are allocated from
 * the rp_arena passed to rp_ruleset_run(), which the caller resets between
 * messages; they stay valid until then.
 */
#ifndef RP_RULES_H
#define RP_RULES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "rp_classify.h"
#include "rp_error.h"
#include "rp_message.h"
#include "rp_schedule.h"

/* ---- arena: per-message strings --------------------------------------- */

typedef struct rp_arena_chunk rp_arena_chunk;
typedef struct rp_arena {
    rp_arena_chunk *head; /* chunks, newest first; kept across resets */
    rp_arena_chunk *cur;
} rp_arena;

/* NULL on ENOMEM. Memory is 8-byte aligned. */
void *rp_arena_alloc(rp_arena *a, size_t n);
char *rp_arena_strndup(rp_arena *a, const char *s, size_t n);
char *rp_arena_strdup(rp_arena *a, const char *s); /* NULL in, NULL out */
void rp_arena_reset(rp_arena *a); /* forget everything, keep the first chunk */
void rp_arena_free(rp_arena *a);

/* ---- what a rule decides ------------------------------------------------ */

typedef enum rp_action {
    RP_ACTION_APPROVE = 0,   /* draft, a human approves before it is sent */
    RP_ACTION_AUTO_SEND = 1, /* sent without approval (if compliance allows) */
} rp_action;

typedef enum rp_priority {
    RP_PRIORITY_LOW = 0,
    RP_PRIORITY_NORMAL = 1,
    RP_PRIORITY_HIGH = 2,
    RP_PRIORITY_URGENT = 3,
} rp_priority;

const char *rp_action_name(rp_action a);
const char *rp_priority_name(rp_priority p);
/* RP_OK or RP_EINVAL for an unknown name. */
rp_status rp_action_parse(const char *s, rp_action *out);
rp_status rp_priority_parse(const char *s, rp_priority *out);

#define RP_MAX_REPLIES 4
#define RP_MAX_TAGS 16

typedef struct rp_reply_req {
    const char *template_id; /* may contain "{intent}", expanded when rendering */
    rp_action action;
} rp_reply_req;

typedef struct rp_outcome {
    rp_reply_req replies[RP_MAX_REPLIES];
    size_t nreplies;
    bool no_reply;     /* the rule says: no reply is needed */
    bool has_priority; /* priority was set */
    rp_priority priority;
    const char *tags[RP_MAX_TAGS];
    size_t ntags;
    bool cont; /* keep running lower-priority rules after this one */
} rp_outcome;

/* ---- what a rule sees ---------------------------------------------------- */

typedef struct rp_rule_input rp_rule_input;
struct rp_rule_input {
    const rp_message *msg;
    const char *language;    /* "de" */
    const char *intent;      /* "order_status" */
    bool high_risk;
    const char *marketplace; /* "amazon.de", never NULL ("" if unknown) */
    const char *folded_body; /* subject + body folded with rp_text_fold, for keywords */
    size_t folded_len;
    const unsigned char *kw_hits; /* bit per keyword id of the rule set: found in
                                   * folded_body; set by rp_ruleset_run() */
    bool first_message;      /* first message of its thread */

    int64_t now;             /* Unix seconds */
    const char *team_tz;     /* IANA names */
    const char *buyer_tz;    /* the marketplace's zone */
    rp_civil team_local;     /* now, on the team's clock */
    rp_civil buyer_local;    /* now, on the buyer's clock */
    rp_sched_state sched;    /* business hours / holiday state at now */

    /* template lookup: does template id exist (in language lang, or in any
     * language when lang is NULL)? */
    bool (*has_template)(const rp_rule_input *in, const char *id, const char *lang);
    /* a rule's log line; the host redacts buyer data before writing it */
    void (*log)(const rp_rule_input *in, const char *rule, const char *text);
    void *host; /* for the two callbacks */
};

/* ---- the rule record ------------------------------------------------------ */

typedef struct rp_rule rp_rule;

/* Fill *out and set *matched, or leave *matched false. Strings go into arena.
 * An error (RP_EINVAL "instruction budget exceeded", ...) is reported with
 * the rule's name; *out is then ignored. */
typedef rp_status (*rp_rule_eval_fn)(rp_rule *r, const rp_rule_input *in, rp_arena *arena,
                                     rp_outcome *out, bool *matched, rp_error *err);

struct rp_rule {
    char *name;
    int priority;  /* higher runs first; default 50 */
    char *origin;  /* "rules/night.yaml:12:5" or "rules/vip.lua" */
    rp_rule_eval_fn eval;
    void *data;
    void (*free_data)(void *data);
};

/* Allocate a rule with copies of name and origin; NULL on ENOMEM. */
rp_rule *rp_rule_new(const char *name, int priority, const char *origin, rp_rule_eval_fn eval,
                     void *data, void (*free_data)(void *));
void rp_rule_free(rp_rule *r);

/* ---- rule sets ------------------------------------------------------------- */

typedef struct rp_ruleset rp_ruleset;

rp_ruleset *rp_ruleset_new(void);
void rp_ruleset_free(rp_ruleset *rs);
/* Takes ownership of r, also on failure. Names must be unique: a duplicate is
 * RP_ECONFIG naming both origins. */
rp_status rp_ruleset_add(rp_ruleset *rs, rp_rule *r, rp_error *err);
/* Register a keyword (bytes exactly as they must occur in the folded text,
 * e.g. " rechnung ") and get its id; the same bytes get the same id.
 * RP_ENOMEM or RP_EINVAL (empty). */
rp_status rp_ruleset_keyword(rp_ruleset *rs, const char *bytes, size_t len, uint32_t *id);
/* Sort by priority and compile the keyword index; call once after the last
 * add. RP_ENOMEM only. */
rp_status rp_ruleset_finish(rp_ruleset *rs);
size_t rp_ruleset_count(const rp_ruleset *rs);
rp_rule *rp_ruleset_get(const rp_ruleset *rs, size_t i);
rp_rule *rp_ruleset_find(const rp_ruleset *rs, const char *name);

#define RP_MAX_MATCHES 16
#define RP_MAX_RULE_ERRORS 16

typedef struct rp_rule_match {
    const rp_rule *rule;
    rp_outcome outcome;
} rp_rule_match;

typedef struct rp_rule_failure {
    const rp_rule *rule;
    const char *reason; /* in the arena */
} rp_rule_failure;

typedef struct rp_rule_result {
    rp_rule_match matches[RP_MAX_MATCHES];
    size_t nmatches;
    rp_rule_failure failures[RP_MAX_RULE_ERRORS];
    size_t nfailures;
} rp_rule_result;

/* Run every rule in order. Only RP_ENOMEM is returned as an error; a rule's
 * own failure lands in res->failures. Keyword hits are computed from
 * in->folded_body (in->kw_hits is ignored). */
rp_status rp_ruleset_run(const rp_ruleset *rs, const rp_rule_input *in, rp_arena *arena,
                         rp_rule_result *res);

#endif
