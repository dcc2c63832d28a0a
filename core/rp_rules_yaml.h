/* rp_rules_yaml.h — seller rules written in YAML (reference: docs/rules.md).
 *
 * A rule file holds `rules:` (each with name, priority, when, then) and
 * optionally `tests:` (a sample message, a clock, and the decision expected
 * from the whole rule set). Each rule compiles to an rp_rule (rp_rules.h) whose
 * eval checks the `when` conditions and returns the `then` outcome, so YAML
 * and Lua rules share one execution path. Everything a compiled rule needs is
 * copied; the YAML text may be freed after loading.
 *
 * Errors are RP_ECONFIG "file:line:column: reason" (unknown keys, unknown
 * intents, languages, actions, priorities, bad times). Loading stops at the
 * first error; rules already added to the set stay there.
 */
#ifndef RP_RULES_YAML_H
#define RP_RULES_YAML_H

#include <stdbool.h>
#include <stddef.h>

#include "rp_error.h"
#include "rp_rules.h"

/* A test case carried by a rule file. All strings are owned by the list. */
typedef struct rp_rule_test {
    char *name;
    char *origin;      /* "rules/night.yaml:40:5" */
    char *now;         /* ISO 8601 clock for the case, or NULL (= received_at) */
    /* the sample message */
    char *marketplace, *from, *subject, *body, *received_at;
    char **headers;    /* name, value, name, value, ... */
    size_t nheaders;   /* pairs */
    /* what is expected; NULL / -1 = not checked */
    char *expect_rule;      /* first matching rule, "" = none */
    char *expect_intent;
    char *expect_language;
    char **expect_actions;  /* "auto_send" / "approve", in reply order */
    size_t nexpect_actions;
    bool check_actions;
    char **expect_templates;
    size_t nexpect_templates;
    bool check_templates;
    int expect_no_reply;    /* -1 unchecked, 0, 1 */
    int expect_high_risk;   /* -1, 0, 1 */
    bool builtin;           /* carried by the built-in rules: written for the
                             * built-in calendar (business hours, holidays) */
} rp_rule_test;

typedef struct rp_rule_tests {
    rp_rule_test *items;
    size_t n;
} rp_rule_tests;

void rp_rule_tests_free(rp_rule_tests *t);

/* Template ids a YAML rule may reply with (as written, "{intent}" included);
 * 0 for rules that are not YAML rules. */
size_t rp_rules_yaml_templates(const rp_rule *r, const char **out, size_t max);

/* Compile every rule of a file into rs and append its tests to tests (may be
 * NULL to skip them). name is used in errors and origins. */
rp_status rp_rules_yaml_load(const char *data, size_t len, const char *name, rp_ruleset *rs,
                             rp_rule_tests *tests, rp_error *err);

#endif
