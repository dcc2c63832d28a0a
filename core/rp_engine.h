/* rp_engine.h — the decision pipeline for one message:
 * classify -> rules -> templates -> compliance -> decision.
 *
 * rp_engine_new() builds everything a configuration names: the classifier,
 * the template library (built-in, then the seller's folders), the compliance
 * checker, the team's schedule (hours, holidays, .ics files), the marketplaces'
 * time zones and the rule set (built-in rules, then the seller's YAML and Lua
 * files). Any error stops it with RP_ECONFIG (or RP_EIO) naming the file, line
 * and column: replyd refuses to run with half a configuration.
 *
 * rp_engine_decide() turns one message into an rp_decision: which rules
 * matched, which replies to send or draft (rendered, in the buyer's language
 * when the template has it), their compliance findings and every reason. It
 * never loses a message: a failing rule, a missing template or variable, or a
 * compliance finding sends the reply to human approval instead of sending it.
 * Loop protection (rp_loop.h) comes first: mail from machines (bounces,
 * auto-replies, lists, notifications, the seller's own) gets no reply at
 * all and no rule runs for it; automatic replies beyond the per-buyer
 * throttles are dropped. Automatic replies are recorded in a reply history:
 * the engine's own, in memory, unless rp_engine_set_history() names another.
 *
 * The engine owns everything it built (rp_engine_free). It is not
 * thread-safe: it holds per-message scratch space and ICU calendars. Strings
 * in an rp_decision belong to the engine and stay valid until the next
 * rp_engine_decide() call.
 */
#ifndef RP_ENGINE_H
#define RP_ENGINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "rp_buf.h"
#include "rp_compliance.h"
#include "rp_config.h"
#include "rp_error.h"
#include "rp_loop.h"
#include "rp_message.h"
#include "rp_rules.h"
#include "rp_rules_yaml.h"
#include "rp_template.h"

#define RP_MAX_DECISION_REPLIES 8
#define RP_MAX_REASONS 24

typedef struct rp_reply {
    const char *rule;        /* rule that asked for it ("(fallback)" when none did) */
    const char *template_id; /* expanded ("answer_order_status") */
    rp_action action;        /* final: after safety and compliance */
    const char *language;    /* language of the text, NULL if nothing rendered */
    const char *subject;     /* NULL if nothing rendered */
    const char *body;
    bool counts_as_response; /* for the marketplace's 24-hour metric */
    rp_findings compliance;
    const char *error;       /* why nothing could be rendered, else NULL */
} rp_reply;

typedef struct rp_decision {
    const char *id;
    const char *language;
    const char *intent;
    double confidence;
    bool high_risk;
    int64_t now;           /* the clock the rules saw */
    int64_t reply_by;      /* received + 24 h */
    rp_priority priority;
    const char *tags[RP_MAX_TAGS];
    size_t ntags;
    bool no_reply;         /* a rule said no reply is needed (and nothing else replies),
                            * or loop protection suppressed every reply */
    bool approval_needed;  /* some reply waits for a human */
    const char *rule;      /* the deciding rule: the matching rule that stopped the run
                            * (else the first match); NULL if none matched */
    const char *suppressed;        /* loop protection's reason (rp_loop_reason_name) when it
                                    * left the message without any reply, else NULL */
    const char *suppressed_detail; /* its one-line detail (never the sender), else NULL */
    rp_reply replies[RP_MAX_DECISION_REPLIES];
    size_t nreplies;
    const char *reasons[RP_MAX_REASONS];
    size_t nreasons;
} rp_decision;

typedef struct rp_engine rp_engine;

rp_status rp_engine_new(const rp_config *cfg, rp_engine **out, rp_error *err);
void rp_engine_free(rp_engine *e);

/* now: the clock to decide at; RP_TIME_UNKNOWN = the message's received_at
 * (or the current time when that is unknown too). Errors: RP_ENOMEM only; a
 * problem with one message or rule lands in the decision's reasons. */
rp_status rp_engine_decide(rp_engine *e, const rp_message *m, int64_t now, rp_decision *d,
                           rp_error *err);

/* The history the throttles read and automatic replies are recorded in
 * (borrowed: it must outlive its use); NULL goes back to the engine's own,
 * kept in memory (what a dry run uses). */
void rp_engine_set_history(rp_engine *e, const rp_reply_history *h);

/* One JSON object on one line (no newline), appended to out. */
rp_status rp_decision_json(const rp_decision *d, rp_buf *out);
/* A human-readable block, appended to out. */
rp_status rp_decision_text(const rp_decision *d, rp_buf *out);

const rp_ruleset *rp_engine_rules(const rp_engine *e);
const rp_templates *rp_engine_templates(const rp_engine *e);
const rp_rule_tests *rp_engine_tests(const rp_engine *e);
const rp_compliance *rp_engine_compliance(const rp_engine *e);
const rp_config *rp_engine_config(const rp_engine *e);
/* Number of Lua rules loaded. */
size_t rp_engine_lua_rules(const rp_engine *e);

/* Write text to out with e-mail addresses and phone-like digit runs masked:
 * what replyd logs about a message never carries buyer contact data. */
rp_status rp_redact(const char *text, rp_buf *out);

#endif
