/* YAML rules: every condition, the outcome, priority order, stop/continue,
 * load errors with file:line:column, and the example-case format. */
#include "rp_test.h"

#include "rp_rules.h"
#include "rp_rules_yaml.h"
#include "rp_text.h"

typedef struct fixture {
    rp_message msg;
    rp_rule_input in;
    rp_buf fold;
    rp_arena arena;
} fixture;

/* A German order question on amazon.de, Tuesday 10:15 in Berlin, open. */
static void input_init(fixture *f, const char *text)
{
    memset(f, 0, sizeof *f);
    f->msg.marketplace = "amazon.de";
    f->msg.body = (char *)text;
    f->in.msg = &f->msg;
    f->in.language = "de";
    f->in.intent = "order_status";
    f->in.marketplace = "amazon.de";
    f->in.first_message = true;
    f->in.team_local = (rp_civil){2026, 11, 24, 10, 15, 0, 1, 3600};
    f->in.buyer_local = (rp_civil){2026, 11, 24, 18, 15, 0, 1, 9 * 3600};
    f->in.sched.open = true;
    f->in.sched.in_hours = true;
    f->in.sched.holiday_end = RP_TIME_UNKNOWN;
    assert_int_equal(rp_text_fold(text, strlen(text), &f->fold), RP_OK);
    f->in.folded_body = f->fold.data;
    f->in.folded_len = f->fold.len;
}

static void fixture_free(fixture *f)
{
    rp_buf_free(&f->fold);
    rp_arena_free(&f->arena);
}

static rp_ruleset *load(const char *yaml)
{
    rp_ruleset *rs = rp_ruleset_new();
    assert_non_null(rs);
    rp_error err;
    rp_error_clear(&err);
    rp_status st = rp_rules_yaml_load(yaml, strlen(yaml), "t.yaml", rs, NULL, &err);
    if (st != RP_OK)
        fail_msg("load failed: %s", err.msg);
    assert_int_equal(rp_ruleset_finish(rs), RP_OK);
    return rs;
}

/* Does a one-rule set with this `when` match the fixture? */
static bool matches(fixture *f, const char *when)
{
    char yaml[2048];
    snprintf(yaml, sizeof yaml, "rules:\n  - name: r\n    when:\n%s    then: {no_reply: true}\n",
             when);
    rp_ruleset *rs = load(yaml);
    rp_rule_result res;
    assert_int_equal(rp_ruleset_run(rs, &f->in, &f->arena, &res), RP_OK);
    assert_int_equal(res.nfailures, 0);
    rp_ruleset_free(rs);
    return res.nmatches == 1;
}

static void test_conditions(void **st)
{
    (void)st;
    fixture f;
    input_init(&f, "Hallo, wo bleibt meine Bestellung? Die Sendungsnummer fehlt.");
    /* intent */
    assert_true(matches(&f, "      intent: order_status\n"));
    assert_true(matches(&f, "      intent: [cancel_order, order_status]\n"));
    assert_false(matches(&f, "      intent: cancel_order\n"));
    /* language */
    assert_true(matches(&f, "      language: de\n"));
    assert_false(matches(&f, "      language: [fr, it]\n"));
    /* marketplace, case-insensitive */
    assert_true(matches(&f, "      marketplace: Amazon.DE\n"));
    assert_false(matches(&f, "      marketplace: [amazon.fr]\n"));
    /* high_risk */
    assert_true(matches(&f, "      high_risk: false\n"));
    assert_false(matches(&f, "      high_risk: true\n"));
    f.in.high_risk = true;
    assert_true(matches(&f, "      high_risk: true\n"));
    f.in.high_risk = false;
    /* keywords: any, all, plain list = any; folded (ü/ue, case) and whole words */
    assert_true(matches(&f, "      keywords: [lieferung, bestellung]\n"));
    assert_true(matches(&f, "      keywords: {any: [BESTELLUNG]}\n"));
    assert_false(matches(&f, "      keywords: {any: [bestell]}\n"));   /* whole words only */
    assert_true(matches(&f, "      keywords: {any: [\"bestell*\"]}\n")); /* prefix */
    assert_true(matches(&f, "      keywords: {all: [bestellung, sendungsnummer]}\n"));
    assert_false(matches(&f, "      keywords: {all: [bestellung, rechnung]}\n"));
    /* a phrase does not match across a clause break */
    assert_false(matches(&f, "      keywords: [bestellung die]\n"));
    assert_true(matches(&f, "      keywords: [wo bleibt]\n"));
    /* business hours and holidays */
    assert_true(matches(&f, "      business_hours: open\n"));
    assert_false(matches(&f, "      business_hours: closed\n"));
    assert_false(matches(&f, "      holiday: true\n"));
    f.in.sched.open = false;
    f.in.sched.holiday = "Christmas";
    assert_true(matches(&f, "      business_hours: closed\n"));
    assert_true(matches(&f, "      holiday: true\n"));
    f.in.sched.open = true;
    f.in.sched.holiday = NULL;
    /* local time window on the team's clock (10:15), and across midnight */
    assert_true(matches(&f, "      local_time: {from: \"09:00\", to: \"12:00\"}\n"));
    assert_false(matches(&f, "      local_time: {from: \"22:00\", to: \"06:00\"}\n"));
    f.in.team_local.hour = 23;
    assert_true(matches(&f, "      local_time: {from: \"22:00\", to: \"06:00\"}\n"));
    f.in.team_local.hour = 5;
    assert_true(matches(&f, "      local_time: {from: \"22:00\", to: \"06:00\"}\n"));
    f.in.team_local.hour = 6;
    assert_false(matches(&f, "      local_time: {from: \"22:00\", to: \"06:00\"}\n"));
    f.in.team_local.hour = 10;
    /* the buyer's clock (18:15 in Tokyo) */
    assert_true(matches(&f, "      local_time: {from: \"18:00\", to: \"19:00\", clock: buyer}\n"));
    assert_false(matches(&f, "      local_time: {from: \"18:00\", to: \"19:00\"}\n"));
    /* weekday (Tuesday) */
    assert_true(matches(&f, "      weekday: [mon, tue]\n"));
    assert_false(matches(&f, "      weekday: [sat, sun]\n"));
    /* first message of the thread */
    assert_true(matches(&f, "      first_message: true\n"));
    f.in.first_message = false;
    assert_false(matches(&f, "      first_message: true\n"));
    assert_true(matches(&f, "      first_message: false\n"));
    /* order id */
    assert_false(matches(&f, "      has_order_id: true\n"));
    f.msg.order_id = "302-1234567-1234567";
    assert_true(matches(&f, "      has_order_id: true\n"));
    /* not, and every condition together */
    assert_false(matches(&f, "      not: {intent: order_status}\n"));
    assert_true(matches(&f, "      not: {language: fr}\n"));
    assert_true(matches(&f, "      intent: order_status\n      language: de\n"
                            "      business_hours: open\n      keywords: [bestellung]\n"));
    assert_false(matches(&f, "      intent: order_status\n      language: fr\n"));
    fixture_free(&f);
}

static void test_japanese_keywords(void **st)
{
    (void)st;
    fixture f;
    input_init(&f, "注文した商品がまだ届きません。配送状況を教えてください。");
    f.in.language = "ja";
    assert_true(matches(&f, "      keywords: [届きません]\n"));
    assert_true(matches(&f, "      keywords: {all: [配送, 注文]}\n"));
    assert_false(matches(&f, "      keywords: [返品]\n"));
    fixture_free(&f);
}

static void test_outcome_and_order(void **st)
{
    (void)st;
    fixture f;
    input_init(&f, "Wo ist meine Bestellung?");
    const char *y = "rules:\n"
                    "  - name: low\n"
                    "    priority: 5\n"
                    "    then: {replies: [\"answer_{intent}\"]}\n"
                    "  - name: tagger\n"
                    "    priority: 90\n"
                    "    when: {language: de}\n"
                    "    then: {tags: [german, vip], priority: urgent, continue: true}\n"
                    "  - name: night\n"
                    "    priority: 50\n"
                    "    when: {intent: order_status}\n"
                    "    then:\n"
                    "      replies:\n"
                    "        - {template: ack_overnight, action: auto_send}\n"
                    "        - {template: \"answer_{intent}\", action: approve}\n"
                    "  - name: never\n"
                    "    priority: 40\n"
                    "    then: {no_reply: true}\n";
    rp_ruleset *rs = load(y);
    assert_int_equal(rp_ruleset_count(rs), 4);
    assert_string_equal(rp_ruleset_get(rs, 0)->name, "tagger");
    assert_string_equal(rp_ruleset_get(rs, 3)->name, "low");
    assert_int_equal(rp_ruleset_get(rs, 3)->priority, 5);
    assert_string_equal(rp_ruleset_get(rs, 1)->origin, "t.yaml:9:5");
    rp_rule_result res;
    assert_int_equal(rp_ruleset_run(rs, &f.in, &f.arena, &res), RP_OK);
    /* tagger continues, night stops: never and low do not run */
    assert_int_equal(res.nmatches, 2);
    const rp_outcome *o = &res.matches[0].outcome;
    assert_string_equal(res.matches[0].rule->name, "tagger");
    assert_int_equal(o->ntags, 2);
    assert_string_equal(o->tags[1], "vip");
    assert_true(o->has_priority);
    assert_int_equal(o->priority, RP_PRIORITY_URGENT);
    assert_true(o->cont);
    o = &res.matches[1].outcome;
    assert_string_equal(res.matches[1].rule->name, "night");
    assert_int_equal(o->nreplies, 2);
    assert_string_equal(o->replies[0].template_id, "ack_overnight");
    assert_int_equal(o->replies[0].action, RP_ACTION_AUTO_SEND);
    assert_string_equal(o->replies[1].template_id, "answer_{intent}");
    assert_int_equal(o->replies[1].action, RP_ACTION_APPROVE);
    assert_false(o->cont);
    /* the templates a YAML rule refers to, for `replyd check` */
    const char *ids[4];
    assert_int_equal(rp_rules_yaml_templates(rp_ruleset_find(rs, "night"), ids, 4), 2);
    assert_string_equal(ids[0], "ack_overnight");
    /* another intent: night does not match, never does */
    f.in.intent = "cancel_order";
    assert_int_equal(rp_ruleset_run(rs, &f.in, &f.arena, &res), RP_OK);
    assert_int_equal(res.nmatches, 2);
    assert_string_equal(res.matches[1].rule->name, "never");
    assert_true(res.matches[1].outcome.no_reply);
    rp_ruleset_free(rs);
    fixture_free(&f);
}

static rp_status fail_eval(rp_rule *r, const rp_rule_input *in, rp_arena *a, rp_outcome *o,
                           bool *matched, rp_error *err)
{
    (void)r, (void)in, (void)a, (void)o, (void)matched;
    return rp_error_set(err, RP_EINVAL, "instruction budget exceeded");
}

static void test_failing_rule_does_not_stop_others(void **st)
{
    (void)st;
    fixture f;
    input_init(&f, "Wo ist meine Bestellung?");
    rp_ruleset *rs = rp_ruleset_new();
    rp_error err;
    const char *y = "rules:\n  - name: fine\n    then: {replies: [x]}\n";
    assert_int_equal(rp_rules_yaml_load(y, strlen(y), "t.yaml", rs, NULL, &err), RP_OK);
    assert_int_equal(rp_ruleset_add(rs, rp_rule_new("broken", 99, "b.lua", fail_eval, NULL, NULL),
                                    &err),
                     RP_OK);
    /* the same name twice is refused, naming both places */
    assert_int_equal(rp_ruleset_add(rs, rp_rule_new("fine", 1, "c.lua", fail_eval, NULL, NULL),
                                    &err),
                     RP_ECONFIG);
    assert_non_null(strstr(err.msg, "already defined at t.yaml:2:5"));
    assert_int_equal(rp_ruleset_finish(rs), RP_OK);
    rp_rule_result res;
    assert_int_equal(rp_ruleset_run(rs, &f.in, &f.arena, &res), RP_OK);
    assert_int_equal(res.nfailures, 1);
    assert_string_equal(res.failures[0].rule->name, "broken");
    assert_string_equal(res.failures[0].reason, "instruction budget exceeded");
    assert_int_equal(res.nmatches, 1);
    assert_string_equal(res.matches[0].rule->name, "fine");
    rp_ruleset_free(rs);
    fixture_free(&f);
}

static void expect_error(const char *yaml, const char *where, const char *what)
{
    rp_ruleset *rs = rp_ruleset_new();
    rp_error err;
    rp_error_clear(&err);
    rp_rule_tests tests = {0};
    rp_status st = rp_rules_yaml_load(yaml, strlen(yaml), "t.yaml", rs, &tests, &err);
    if (st != RP_ECONFIG || !strstr(err.msg, where) || !strstr(err.msg, what))
        fail_msg("for:\n%s\nexpected ECONFIG '%s' ... '%s', got %d '%s'", yaml, where, what, st,
                 err.msg);
    rp_rule_tests_free(&tests);
    rp_ruleset_free(rs);
}

static void test_load_errors(void **st)
{
    (void)st;
    expect_error("rules:\n  - name: a\n    when: {intent: where_is_it}\n    then: {no_reply: true}\n",
                 "t.yaml:3:", "unknown intent 'where_is_it'");
    expect_error("rules:\n  - name: a\n    when:\n      langauge: de\n    then: {no_reply: true}\n",
                 "t.yaml:4:7", "unknown condition 'langauge'");
    expect_error("rules:\n  - name: a\n    then: {replies: [{template: x, action: send}]}\n",
                 "t.yaml:3:", "'action' must be auto_send or approve");
    expect_error("rules:\n  - name: a\n    then: {priority: asap}\n", "t.yaml:3:",
                 "'priority' must be low, normal, high or urgent");
    expect_error("rules:\n  - name: a\n    when: {local_time: {from: \"25:00\", to: \"06:00\"}}\n"
                 "    then: {no_reply: true}\n",
                 "t.yaml:3:", "'from' must be a time HH:MM");
    expect_error("rules:\n  - name: a\n    when: {language: pt}\n    then: {no_reply: true}\n",
                 "t.yaml:3:", "unknown language 'pt'");
    expect_error("rules:\n  - name: a\n    when: {intent: thanks}\n", "t.yaml:2:", "needs 'then'");
    expect_error("rules:\n  - when: {intent: thanks}\n    then: {no_reply: true}\n", "t.yaml:2:",
                 "needs a 'name'");
    expect_error("rules:\n  - name: a\n    then: {no_reply: true, replies: [x]}\n", "t.yaml:3:",
                 "contradict");
    expect_error("rules:\n  - name: a\n    then: {replies: [\"a b\"]}\n", "t.yaml:3:",
                 "may only use");
    expect_error("rules:\n  - name: a\n    then: {replies: [\"x_{language}\"]}\n", "t.yaml:3:",
                 "only placeholder");
    expect_error("rules:\n  - name: a\n    priority: 5000\n    then: {no_reply: true}\n",
                 "t.yaml:3:", "0 to 1000");
    expect_error("rules:\n  - name: a\n    then: {no_reply: true}\n  - name: a\n"
                 "    then: {no_reply: true}\n",
                 "t.yaml:4:", "already defined at t.yaml:2:5");
    expect_error("ruels: []\n", "t.yaml:1:1", "unknown key: ruels");
    expect_error("rules:\n  - name: [\n", "t.yaml:", "");
    expect_error("tests:\n  - name: x\n    now: tomorrow\n    message: {body: hi}\n"
                 "    expect: {rule: a}\n",
                 "t.yaml:3:", "'now' must be an ISO 8601 time");
    expect_error("tests:\n  - name: x\n    message: {subject: hi}\n    expect: {rule: a}\n",
                 "t.yaml:3:", "needs a 'body'");
    expect_error("tests:\n  - name: x\n    message: {body: hi}\n    expect: {actions: [send]}\n",
                 "t.yaml:4:", "unknown action 'send'");
}

static void test_tests_parsed(void **st)
{
    (void)st;
    const char *y = "tests:\n"
                    "  - name: night\n"
                    "    now: \"2026-11-28T23:40:00+01:00\"\n"
                    "    message:\n"
                    "      marketplace: amazon.de\n"
                    "      subject: Bestellung\n"
                    "      body: Wo ist sie?\n"
                    "      headers: {Auto-Submitted: auto-replied}\n"
                    "    expect:\n"
                    "      rule: after-hours\n"
                    "      intent: order_status\n"
                    "      actions: [auto_send, approve]\n"
                    "      templates: [ack_overnight, answer_order_status]\n"
                    "      no_reply: false\n"
                    "  - message: {body: x}\n"
                    "    received_at: 2026-01-01T00:00:00Z\n"
                    "    expect: {actions: []}\n";
    rp_ruleset *rs = rp_ruleset_new();
    rp_rule_tests tests = {0};
    rp_error err;
    rp_status s = rp_rules_yaml_load(y, strlen(y), "t.yaml", rs, &tests, &err);
    /* received_at belongs in the message: the second case is an error */
    assert_int_equal(s, RP_ECONFIG);
    assert_non_null(strstr(err.msg, "unknown key in a test: received_at"));
    assert_int_equal(tests.n, 2);
    const rp_rule_test *t = &tests.items[0];
    assert_string_equal(t->name, "night");
    assert_string_equal(t->origin, "t.yaml:2:5");
    assert_string_equal(t->marketplace, "amazon.de");
    assert_int_equal(t->nheaders, 1);
    assert_string_equal(t->headers[0], "Auto-Submitted");
    assert_string_equal(t->headers[1], "auto-replied");
    assert_string_equal(t->expect_rule, "after-hours");
    assert_true(t->check_actions);
    assert_int_equal(t->nexpect_actions, 2);
    assert_string_equal(t->expect_actions[0], "auto_send");
    assert_int_equal(t->nexpect_templates, 2);
    assert_int_equal(t->expect_no_reply, 0);
    assert_int_equal(t->expect_high_risk, -1);
    rp_rule_tests_free(&tests);
    rp_ruleset_free(rs);
}

static void test_too_many_matches(void **st)
{
    (void)st;
    fixture f;
    input_init(&f, "Wo ist meine Bestellung?");
    rp_buf y = {0};
    assert_int_equal(rp_buf_append_str(&y, "rules:\n"), RP_OK);
    for (int i = 0; i < RP_MAX_MATCHES + 2; i++)
        assert_int_equal(rp_buf_printf(&y, "  - name: t%02d\n    priority: %d\n"
                                           "    then: {tags: [t%02d], continue: true}\n",
                                       i, 500 - i, i),
                         RP_OK);
    assert_int_equal(rp_buf_append_str(&y, "  - name: last\n    priority: 1\n"
                                           "    then: {replies: [x]}\n"),
                     RP_OK);
    rp_ruleset *rs = load(y.data);
    rp_rule_result res;
    assert_int_equal(rp_ruleset_run(rs, &f.in, &f.arena, &res), RP_OK);
    assert_int_equal(res.nmatches, RP_MAX_MATCHES);
    /* the rules that did not fit are reported, the deciding one included */
    assert_int_equal(res.nfailures, 3);
    assert_string_equal(res.failures[2].rule->name, "last");
    assert_non_null(strstr(res.failures[0].reason, "not applied"));
    rp_ruleset_free(rs);
    rp_buf_free(&y);
    fixture_free(&f);
}

static void test_arena(void **st)
{
    (void)st;
    rp_arena a = {0};
    char *s1 = rp_arena_strdup(&a, "hello");
    assert_string_equal(s1, "hello");
    /* a large block gets its own chunk; earlier strings stay valid */
    char *big = rp_arena_alloc(&a, 100000);
    assert_non_null(big);
    memset(big, 'x', 100000);
    assert_string_equal(s1, "hello");
    assert_int_equal(((uintptr_t)rp_arena_alloc(&a, 3)) % 8, 0);
    rp_arena_reset(&a);
    char *s2 = rp_arena_strndup(&a, "abcdef", 3);
    assert_string_equal(s2, "abc");
    assert_ptr_equal(s2, s1); /* memory is reused after a reset */
    assert_null(rp_arena_strdup(&a, NULL));
    rp_arena_free(&a);
}

static void test_names(void **st)
{
    (void)st;
    rp_action a;
    rp_priority p;
    assert_int_equal(rp_action_parse("auto_send", &a), RP_OK);
    assert_int_equal(a, RP_ACTION_AUTO_SEND);
    assert_int_equal(rp_action_parse("Auto_Send", &a), RP_EINVAL);
    assert_int_equal(rp_priority_parse("urgent", &p), RP_OK);
    assert_int_equal(p, RP_PRIORITY_URGENT);
    assert_string_equal(rp_priority_name(RP_PRIORITY_LOW), "low");
    assert_string_equal(rp_action_name(RP_ACTION_APPROVE), "approve");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_conditions),
        cmocka_unit_test(test_japanese_keywords),
        cmocka_unit_test(test_outcome_and_order),
        cmocka_unit_test(test_failing_rule_does_not_stop_others),
        cmocka_unit_test(test_load_errors),
        cmocka_unit_test(test_tests_parsed),
        cmocka_unit_test(test_too_many_matches),
        cmocka_unit_test(test_arena),
        cmocka_unit_test(test_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
