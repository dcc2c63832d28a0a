#include "rp_test.h"

#include <dirent.h>
#include <time.h>

#include <lauxlib.h>
#include <lua.h>
#include <lualib.h>

#include "rp_config.h"
#include "rp_lua.h"
#include "rp_rules.h"
#include "rp_text.h"

#if defined(__SANITIZE_ADDRESS__)
#define SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SANITIZED 1
#endif
#endif
#ifndef SANITIZED
#define SANITIZED 0
#endif

/* ---- a message and its context ------------------------------------------ */

typedef struct tctx {
    char lines[32][640];
    int n;
    char rule[RP_ERROR_MSG_MAX];
    char tpl_id[64], tpl_lang[16];
    int tpl_calls;
} tctx;

typedef struct fixture {
    rp_message m;
    rp_header hdr[2];
    rp_rule_input in;
    tctx log;
    rp_arena arena;
} fixture;

static void t_log(const rp_rule_input *in, const char *rule, const char *text)
{
    tctx *t = in->host;
    snprintf(t->rule, sizeof t->rule, "%s", rule);
    if (t->n < 32)
        snprintf(t->lines[t->n++], sizeof t->lines[0], "%s", text);
}

static bool t_has_template(const rp_rule_input *in, const char *id, const char *lang)
{
    tctx *t = in->host;
    t->tpl_calls++;
    snprintf(t->tpl_id, sizeof t->tpl_id, "%s", id);
    snprintf(t->tpl_lang, sizeof t->tpl_lang, "%s", lang ? lang : "(any)");
    return strcmp(id, "answer_x") == 0 && (!lang || strcmp(lang, "de") == 0);
}

static void fx_init(fixture *f)
{
    memset(f, 0, sizeof *f);
    f->m.id = (char *)"m-1";
    f->m.subject = (char *)"Wo ist meine Bestellung?";
    f->m.body = (char *)"hello";
    f->m.marketplace = (char *)"amazon.de";
    f->m.from = (char *)"buyer-alias@marketplace.amazon.de";
    f->m.order_id = (char *)"302-1234567-1234567";
    f->m.received_at = 1795500000;
    f->hdr[0].name = (char *)"X-Order-Count";
    f->hdr[0].value = (char *)"3";
    f->m.headers = f->hdr;
    f->m.nheaders = 1;
    rp_rule_input *in = &f->in;
    in->msg = &f->m;
    in->language = "de";
    in->intent = "order_status";
    in->marketplace = "amazon.de";
    in->first_message = true;
    in->now = 1795507500;
    in->team_tz = "Europe/Berlin";
    in->buyer_tz = "Asia/Tokyo";
    in->team_local = (rp_civil){2026, 11, 24, 9, 5, 0, 1, 3600};
    in->buyer_local = (rp_civil){2026, 11, 24, 17, 5, 0, 1, 32400};
    in->sched.open = true;
    in->sched.in_hours = true;
    in->sched.holiday = NULL;
    in->sched.holiday_end = RP_TIME_UNKNOWN;
    in->sched.next_open = in->now;
    in->has_template = t_has_template;
    in->log = t_log;
    in->host = &f->log;
}

static void fx_free(fixture *f)
{
    rp_arena_free(&f->arena);
}

static rp_rule *load_named(const char *src, const char *name, const rp_lua_limits *lim)
{
    rp_rule *r = NULL;
    rp_error err;
    rp_error_clear(&err);
    rp_status st = rp_lua_rule_load(src, strlen(src), name, lim, &r, &err);
    if (st != RP_OK)
        fail_msg("loading %s failed: %s", name, err.msg);
    assert_non_null(r);
    return r;
}

static rp_rule *load_ok(const char *src)
{
    return load_named(src, "t.lua", NULL);
}

static rp_status run(rp_rule *r, fixture *f, rp_outcome *out, bool *matched, rp_error *err)
{
    memset(out, 0, sizeof *out);
    rp_arena_reset(&f->arena);
    rp_error_clear(err);
    *matched = true; /* eval must set it */
    return r->eval(r, &f->in, &f->arena, out, matched, err);
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static char *read_text(const char *path, size_t *len)
{
    char *data;
    rp_error err;
    if (rp_read_file(path, 1 << 20, &data, len, &err) != RP_OK)
        fail_msg("%s", err.msg);
    return data;
}

/* ---- loading ---------------------------------------------------------------- */

static void test_load_ok(void **st)
{
    (void)st;
    rp_rule *r = load_ok("-- a rule\n"
                         "local LIMIT = 3\n"
                         "function helper(x) return x + LIMIT end\n"
                         "rule { name = 'vip-complaints', priority = 90,\n"
                         "       on_message = function(msg, ctx) return nil end }\n");
    assert_string_equal(r->name, "vip-complaints");
    assert_int_equal(r->priority, 90);
    assert_string_equal(r->origin, "t.lua");
    rp_rule_free(r);

    r = load_ok("rule { name = 'plain', on_message = function() end }");
    assert_int_equal(r->priority, 50);
    rp_rule_free(r);

    /* globals defined while loading are readable later, helpers callable */
    r = load_ok("LIMIT = 2\nfunction twice(x) return x * LIMIT end\n"
                "rule { name = 'g', on_message = function(msg)\n"
                "  return { tags = { tostring(twice(21)) } } end }\n");
    fixture f;
    fx_init(&f);
    rp_outcome out;
    bool matched;
    rp_error err;
    assert_int_equal(run(r, &f, &out, &matched, &err), RP_OK);
    assert_true(matched);
    assert_int_equal(out.ntags, 1);
    assert_string_equal(out.tags[0], "42");
    rp_rule_free(r);
    fx_free(&f);
}

static void test_load_errors(void **st)
{
    (void)st;
    static const struct {
        const char *src, *want;
    } cases[] = {
        {"rule { name = 'x', on_message = function() end", "t.lua:1: '}' expected"},
        {"\n\nerror('top level')\n", "t.lua:3: top level"},
        {"local x = 1", "t.lua: no rule defined"},
        {"rule { name = 'a', on_message = function() end }\n"
         "rule { name = 'b', on_message = function() end }",
         "t.lua:2: rule{} called twice"},
        {"rule { on_message = function() end }", "t.lua:1: rule{}: name must be a string"},
        {"rule { name = '', on_message = function() end }", "name must be 1 to 128"},
        {"rule { name = 'a\\nb', on_message = function() end }", "without control characters"},
        {"rule { name = 'a', priority = 1.5, on_message = function() end }",
         "priority must be an integer"},
        {"rule { name = 'a', priority = '9', on_message = function() end }",
         "priority must be an integer"},
        {"rule { name = 'a', priority = 5000, on_message = function() end }",
         "priority must be between 0 and 1000"},
        {"rule { name = 'a' }", "on_message must be a function"},
        {"rule { name = 'a', on_message = function() end, when = 1 }",
         "t.lua:1: rule{}: unknown field 'when'"},
        {"rule 'a'", "bad argument #1 to 'rule' (table expected, got string)"},
        {"local y = undefined_at_load", "t.lua:1: undeclared global 'undefined_at_load'"},
        {"setmetatable(_G, nil)", "cannot change a protected metatable"},
        {"os.exit(1)", "undeclared global 'os'"},
        {"\x1bLua\x54\x00", "t.lua: attempt to load a binary chunk"},
        {"\n\nwhile true do end", "t.lua:3: instruction budget exceeded while loading"},
        {"local s = string.rep('x', 1e8)", "memory limit exceeded while loading"},
        /* many live strings: large ones, so that the memory limit (8 MiB) is
         * reached in a few hundred steps, long before the load's time limit
         * even on a loaded machine under ASan */
        {"local t = {} for i = 1, 1e6 do t[i] = ('x'):rep(100000) .. i end",
         "memory limit exceeded while loading"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        rp_rule *r = (rp_rule *)&r;
        rp_error err;
        rp_error_clear(&err);
        rp_status s = rp_lua_rule_load(cases[i].src, strlen(cases[i].src) +
                                           (cases[i].src[0] == '\x1b' ? 2 : 0),
                                       "t.lua", NULL, &r, &err);
        if (s != RP_ECONFIG)
            fail_msg("case %zu: status %d (%s)", i, s, err.msg);
        assert_null(r);
        if (!strstr(err.msg, cases[i].want) || strncmp(err.msg, "t.lua", 5) != 0)
            fail_msg("case %zu: \"%s\" lacks \"%s\"", i, err.msg, cases[i].want);
    }

    /* deep nesting in the source is a syntax error, not a crash */
    rp_buf b = {0};
    for (int i = 0; i < 5000; i++)
        assert_int_equal(rp_buf_append_char(&b, '('), RP_OK);
    assert_int_equal(rp_buf_append_str(&b, "1"), RP_OK);
    for (int i = 0; i < 5000; i++)
        assert_int_equal(rp_buf_append_char(&b, ')'), RP_OK);
    rp_rule *r = NULL;
    rp_error err;
    assert_int_equal(rp_lua_rule_load(b.data, b.len, "deep.lua", NULL, &r, &err), RP_ECONFIG);
    assert_non_null(strstr(err.msg, "deep.lua"));
    assert_non_null(strstr(err.msg, "stack overflow"));
    rp_buf_free(&b);

    /* a long path still starts the message in full */
    const char *longname = "/srv/replyd/sellers/a-very-long-seller-name/rules/lua/"
                           "weekend-complaint-escalation.lua";
    assert_int_equal(rp_lua_rule_load("rule {", 6, longname, NULL, &r, &err), RP_ECONFIG);
    if (strncmp(err.msg, longname, strlen(longname)) != 0 || strncmp(err.msg + strlen(longname), ":1:", 3) != 0)
        fail_msg("long name: %s", err.msg);
}

static int dump_writer(lua_State *L, const void *p, size_t sz, void *ud)
{
    (void)L;
    return rp_buf_append(ud, p, sz) == RP_OK ? 0 : 1;
}

static void test_bytecode_rejected(void **st)
{
    (void)st;
    /* real precompiled bytecode of a valid rule */
    lua_State *L = luaL_newstate();
    assert_non_null(L);
    const char *src = "rule { name = 'bc', on_message = function() end }";
    assert_int_equal(luaL_loadstring(L, src), LUA_OK);
    rp_buf b = {0};
    assert_int_equal(lua_dump(L, dump_writer, &b, 0), 0);
    lua_close(L);
    assert_true(b.len > 4 && memcmp(b.data, "\x1bLua", 4) == 0);
    rp_rule *r = NULL;
    rp_error err;
    assert_int_equal(rp_lua_rule_load(b.data, b.len, "bc.lua", NULL, &r, &err), RP_ECONFIG);
    assert_null(r);
    assert_non_null(strstr(err.msg, "bc.lua: attempt to load a binary chunk"));
    rp_buf_free(&b);
}

/* ---- the result --------------------------------------------------------------- */

static void test_outcome_fields(void **st)
{
    (void)st;
    fixture f;
    fx_init(&f);
    rp_outcome out;
    bool matched;
    rp_error err;
    rp_rule *r = load_ok(
        "rule { name = 'all', on_message = function(msg, ctx)\n"
        "  if msg.body == 'none' then return nil end\n"
        "  if msg.body == 'false' then return false end\n"
        "  if msg.body == 'noreply' then return { no_reply = true } end\n"
        "  if msg.body == 'empty' then return {} end\n"
        "  if msg.body ~= 'all' then return { priority = msg.body } end\n"
        "  return { replies = { { template = 'answer_complaint_feedback', action = 'approve' },\n"
        "                       { template = 'ack_overnight', action = 'auto_send' },\n"
        "                       { template = 'answer_{intent}' } },\n"
        "           priority = 'urgent', tags = { 'vip', 'weekend' },\n"
        "           continue = true, no_reply = false }\n"
        "end }\n");
    f.m.body = (char *)"all";
    assert_int_equal(run(r, &f, &out, &matched, &err), RP_OK);
    assert_true(matched);
    assert_int_equal(out.nreplies, 3);
    assert_string_equal(out.replies[0].template_id, "answer_complaint_feedback");
    assert_int_equal(out.replies[0].action, RP_ACTION_APPROVE);
    assert_string_equal(out.replies[1].template_id, "ack_overnight");
    assert_int_equal(out.replies[1].action, RP_ACTION_AUTO_SEND);
    assert_string_equal(out.replies[2].template_id, "answer_{intent}");
    assert_int_equal(out.replies[2].action, RP_ACTION_APPROVE);
    assert_true(out.has_priority);
    assert_int_equal(out.priority, RP_PRIORITY_URGENT);
    assert_int_equal(out.ntags, 2);
    assert_string_equal(out.tags[0], "vip");
    assert_string_equal(out.tags[1], "weekend");
    assert_true(out.cont);
    assert_false(out.no_reply);

    static const char *const prios[] = {"low", "normal", "high", "urgent"};
    for (int i = 0; i < 4; i++) {
        f.m.body = (char *)prios[i];
        assert_int_equal(run(r, &f, &out, &matched, &err), RP_OK);
        assert_true(matched);
        assert_true(out.has_priority);
        assert_int_equal(out.priority, (rp_priority)i);
        assert_int_equal(out.nreplies, 0);
    }

    f.m.body = (char *)"noreply";
    assert_int_equal(run(r, &f, &out, &matched, &err), RP_OK);
    assert_true(matched);
    assert_true(out.no_reply);
    assert_false(out.has_priority);
    assert_false(out.cont);

    f.m.body = (char *)"empty";
    assert_int_equal(run(r, &f, &out, &matched, &err), RP_OK);
    assert_true(matched);
    assert_int_equal(out.nreplies + out.ntags, 0);

    f.m.body = (char *)"none";
    assert_int_equal(run(r, &f, &out, &matched, &err), RP_OK);
    assert_false(matched);
    f.m.body = (char *)"false";
    assert_int_equal(run(r, &f, &out, &matched, &err), RP_OK);
    assert_false(matched);
    rp_rule_free(r);
    fx_free(&f);
}

static void test_outcome_invalid(void **st)
{
    (void)st;
    static const struct {
        const char *ret, *want;
    } cases[] = {
        {"true", "must return a table, nil or false (got boolean)"},
        {"42", "(got number)"},
        {"'x'", "(got string)"},
        {"function() end", "(got function)"},
        {"{ foo = 1 }", "unknown key 'foo'"},
        {"{ [1] = 'x' }", "keys must be strings (got a number key)"},
        {"{ replies = 'answer_x' }", "replies must be a list"},
        {"{ replies = { template = 'a' } }", "replies must be a list"},
        {"{ replies = { 'answer_x' } }", "replies[1] must be a table"},
        {"{ replies = { {} } }", "replies[1]: template is required"},
        {"{ replies = { { template = 5 } } }", "replies[1].template must be a string (got number)"},
        {"{ replies = { { template = '' } } }", "replies[1].template must be 1 to 200 bytes"},
        {"{ replies = { { template = 'a\\0b' } } }", "without NUL"},
        {"{ replies = { { template = 'a', action = 'send' } } }",
         "replies[1].action must be \"approve\" or \"auto_send\""},
        {"{ replies = { { template = 'a', action = true } } }", "replies[1].action must be"},
        {"{ replies = { { template = 'a' }, { template = 'b', when = 1 } } }",
         "replies[2]: unknown key 'when'"},
        {"{ replies = { {template='a'}, {template='a'}, {template='a'}, {template='a'},"
         " {template='a'} } }",
         "too many replies (5; at most 4)"},
        {"{ priority = 'asap' }", "priority must be"},
        {"{ priority = 3 }", "priority must be"},
        {"{ tags = 'vip' }", "tags must be a list of strings"},
        {"{ tags = { 1 } }", "tags[1] must be a string (got number)"},
        {"{ tags = { 'a', nil, 'b' } }", "tags must be a list"},
        {"{ tags = { 'a', x = 'b' } }", "tags must be a list"},
        {"{ tags = { string.rep('t', 101) } }", "tags[1] must be 1 to 100 bytes"},
        {"{ tags = { '1','2','3','4','5','6','7','8','9','10','11','12','13','14','15','16',"
         "'17' } }",
         "too many tags (17; at most 16)"},
        {"{ no_reply = 'yes' }", "no_reply must be true or false (got string)"},
        {"{ continue = 1 }", "continue must be true or false (got number)"},
        {"{ no_reply = true, replies = { { template = 'a' } } }",
         "no_reply = true and replies cannot go together"},
    };
    fixture f;
    fx_init(&f);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char src[512];
        snprintf(src, sizeof src,
                 "rule { name = 'bad', on_message = function(msg, ctx)\n"
                 "  if msg.body == 'ok' then return { tags = { 'ok' } } end\n"
                 "  return %s end }\n",
                 cases[i].ret);
        rp_rule *r = load_ok(src);
        rp_outcome out;
        bool matched;
        rp_error err;
        f.m.body = (char *)"bad";
        rp_status s = run(r, &f, &out, &matched, &err);
        if (s != RP_EINVAL)
            fail_msg("case %zu: status %d (%s)", i, s, err.msg);
        assert_false(matched);
        if (!strstr(err.msg, cases[i].want) ||
            strncmp(err.msg, "t.lua: on_message result: ", 26) != 0)
            fail_msg("case %zu: \"%s\" lacks \"%s\"", i, err.msg, cases[i].want);
        f.m.body = (char *)"ok";
        assert_int_equal(run(r, &f, &out, &matched, &err), RP_OK);
        assert_true(matched);
        assert_string_equal(out.tags[0], "ok");
        rp_rule_free(r);
    }
    fx_free(&f);
}

/* ---- msg and ctx ---------------------------------------------------------------- */

static const char fields_src[] =
    "local function s(v) return tostring(v) end\n"
    "rule { name = 'fields', on_message = function(msg, ctx)\n"
    "  ctx.log(table.concat({ s(msg.id), s(msg.subject), s(msg.body), s(msg.language),\n"
    "    s(msg.intent), s(msg.high_risk), s(msg.marketplace), s(msg.order_id), s(msg.from),\n"
    "    s(msg.received_at), s(msg.first_message), s(msg:header('x-order-count')),\n"
    "    s(msg:header('Missing')) }, '|'))\n"
    "  local t, b = ctx.team, ctx.buyer\n"
    "  ctx.log(table.concat({ s(ctx.now), s(t.tz), s(t.year), s(t.month), s(t.day), s(t.hour),\n"
    "    s(t.minute), s(t.wday), t.date, t.time, s(b.tz), b.date, b.time, s(b.wday),\n"
    "    s(ctx.open), s(ctx.in_hours), s(ctx.holiday), s(ctx.holiday_end), s(ctx.next_open) },\n"
    "    '|'))\n"
    "  ctx.log(table.concat({ s(ctx.has_template('answer_x')),\n"
    "    s(ctx.has_template('answer_x', 'fr')), s(ctx:has_template('answer_x', 'de')),\n"
    "    s(ctx.team == ctx.team), s(msg.body == msg.body) }, '|'))\n"
    "  ctx:log('colon form')\n"
    "end }\n";

static void test_msg_ctx_fields(void **st)
{
    (void)st;
    fixture f;
    fx_init(&f);
    rp_rule *r = load_ok(fields_src);
    rp_outcome out;
    bool matched;
    rp_error err;
    assert_int_equal(run(r, &f, &out, &matched, &err), RP_OK);
    assert_false(matched);
    assert_int_equal(f.log.n, 4);
    assert_string_equal(f.log.rule, "fields");
    assert_string_equal(f.log.lines[0],
                        "m-1|Wo ist meine Bestellung?|hello|de|order_status|false|amazon.de|"
                        "302-1234567-1234567|buyer-alias@marketplace.amazon.de|1795500000|true|3|"
                        "nil");
    assert_string_equal(f.log.lines[1], "1795507500|Europe/Berlin|2026|11|24|9|5|2|2026-11-24|"
                                        "09:05|Asia/Tokyo|2026-11-24|17:05|2|true|true|nil|nil|"
                                        "1795507500");
    assert_string_equal(f.log.lines[2], "true|false|true|true|true");
    assert_string_equal(f.log.tpl_id, "answer_x");
    assert_string_equal(f.log.tpl_lang, "de");
    assert_int_equal(f.log.tpl_calls, 3);
    assert_string_equal(f.log.lines[3], "colon form");

    /* absent values are nil; a holiday; Sunday is 7 */
    f.m.subject = NULL;
    f.m.order_id = NULL;
    f.m.received_at = RP_TIME_UNKNOWN;
    f.m.nheaders = 0;
    f.in.high_risk = true;
    f.in.first_message = false;
    f.in.team_local.wday = 6;
    f.in.sched.open = false;
    f.in.sched.in_hours = false;
    f.in.sched.holiday = "Weihnachten";
    f.in.sched.holiday_end = 1798758000;
    f.in.sched.next_open = RP_TIME_UNKNOWN;
    f.log.n = 0;
    assert_int_equal(run(r, &f, &out, &matched, &err), RP_OK);
    assert_int_equal(f.log.n, 4);
    assert_string_equal(f.log.lines[0], "m-1|nil|hello|de|order_status|true|amazon.de|nil|"
                                        "buyer-alias@marketplace.amazon.de|nil|false|nil|nil");
    assert_non_null(strstr(f.log.lines[1], "|7|2026-11-24|09:05|Asia/Tokyo|"));
    assert_non_null(strstr(f.log.lines[1], "|false|false|Weihnachten|1798758000|nil"));
    rp_rule_free(r);

    /* a host without callbacks */
    f.in.has_template = NULL;
    f.in.log = NULL;
    f.in.msg = NULL;
    r = load_ok("rule { name = 'n', on_message = function(msg, ctx) ctx.log('x')\n"
                "  return { tags = { tostring(ctx.has_template('a')), tostring(msg.subject),\n"
                "                    tostring(msg:header('x')), msg.marketplace } } end }");
    assert_int_equal(run(r, &f, &out, &matched, &err), RP_OK);
    assert_int_equal(out.ntags, 4);
    assert_string_equal(out.tags[0], "false");
    assert_string_equal(out.tags[1], "nil");
    assert_string_equal(out.tags[2], "nil");
    assert_string_equal(out.tags[3], "amazon.de");
    rp_rule_free(r);
    fx_free(&f);
}

static void test_log_limits(void **st)
{
    (void)st;
    fixture f;
    fx_init(&f);
    rp_rule *r = load_ok("rule { name = 'l', on_message = function(msg, ctx)\n"
                         "  ctx.log(string.rep('\\u{e9}', 400))\n"   /* 800 bytes */
                         "  ctx.log('a\\0b')\n"
                         "  ctx.log(42)\n"
                         "  for i = 1, 30 do ctx.log('line ' .. i) end\n"
                         "end }");
    rp_outcome out;
    bool matched;
    rp_error err;
    assert_int_equal(run(r, &f, &out, &matched, &err), RP_OK);
    assert_int_equal(f.log.n, 21); /* 20 lines and a notice */
    size_t n = strlen(f.log.lines[0]);
    assert_true(n <= 503 && n >= 497);
    assert_true(rp_utf8_valid(f.log.lines[0], n));
    assert_string_equal(f.log.lines[0] + n - 3, "...");
    assert_string_equal(f.log.lines[1], "a..."); /* cut at the NUL */
    assert_string_equal(f.log.lines[2], "42");
    assert_string_equal(f.log.lines[19], "line 17");
    assert_non_null(strstr(f.log.lines[20], "dropped"));
    /* the count starts again with the next call */
    f.log.n = 0;
    assert_int_equal(run(r, &f, &out, &matched, &err), RP_OK);
    assert_int_equal(f.log.n, 21);
    rp_rule_free(r);

    r = load_ok("rule { name = 'l', on_message = function(msg, ctx) ctx.log({}) end }");
    assert_int_equal(run(r, &f, &out, &matched, &err), RP_EINVAL);
    assert_non_null(strstr(err.msg, "bad argument #1 to 'log' (string expected, got table)"));
    rp_rule_free(r);
    fx_free(&f);
}

static void test_stale_msg(void **st)
{
    (void)st;
    fixture f;
    fx_init(&f);
    rp_rule *r = load_ok(
        "local saved\n"
        "rule { name = 'stale', on_message = function(msg, ctx)\n"
        "  local b = msg.body\n"
        "  if b == 'keep' then\n"
        "    saved = { msg = msg, ctx = ctx, team = ctx.team, log = ctx.log, hdr = msg.header }\n"
        "    return nil\n"
        "  end\n"
        "  if b == 'msg' then return { tags = { saved.msg.subject } } end\n"
        "  if b == 'header' then return { tags = { saved.msg:header('x') } } end\n"
        "  if b == 'hdr' then return { tags = { saved.hdr(saved.msg, 'x') } } end\n"
        "  if b == 'ctx' then return { tags = { tostring(saved.ctx.now) } } end\n"
        "  if b == 'team' then return { tags = { saved.team.date } } end\n"
        "  if b == 'log' then saved.log('a kept log function logs for the current call')\n"
        "    return { tags = { 'logged' } } end\n"
        "  if b == 'ctxlog' then saved.ctx:log('x') end\n"
        "  return { tags = { msg.subject } }\n"
        "end }\n");
    rp_outcome out;
    bool matched;
    rp_error err;
    f.m.body = (char *)"keep";
    assert_int_equal(run(r, &f, &out, &matched, &err), RP_OK);
    static const struct {
        const char *body, *want;
    } cases[] = {
        {"msg", "t.lua:8: msg is only valid during the on_message call that received it"},
        {"header", "msg is only valid during"},
        {"hdr", "msg is only valid during"},
        {"ctx", "ctx is only valid during"},
        {"team", "ctx.team is only valid during"},
        {"ctxlog", "ctx is only valid during"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        f.m.body = (char *)cases[i].body;
        rp_status s = run(r, &f, &out, &matched, &err);
        if (s != RP_EINVAL || !strstr(err.msg, cases[i].want))
            fail_msg("case %s: %d %s", cases[i].body, s, err.msg);
        f.m.body = (char *)"fresh";
        assert_int_equal(run(r, &f, &out, &matched, &err), RP_OK);
        assert_string_equal(out.tags[0], "Wo ist meine Bestellung?");
    }
    f.m.body = (char *)"log";
    f.log.n = 0;
    assert_int_equal(run(r, &f, &out, &matched, &err), RP_OK);
    assert_int_equal(f.log.n, 1);
    rp_rule_free(r);
    fx_free(&f);
}

/* ---- the sandbox ------------------------------------------------------------------- */

typedef struct escape {
    const char *code;
    rp_status status;
    const char *want; /* in the error, or the first tag when status is RP_OK */
} escape;

static const escape escapes[] = {
    /* no way out of the process */
    {"return io.open('/etc/passwd')", RP_EINVAL, "t.lua:3: undeclared global 'io'"},
    {"return os.execute('true')", RP_EINVAL, "undeclared global 'os'"},
    {"return package.loaded", RP_EINVAL, "undeclared global 'package'"},
    {"return debug.getinfo(1)", RP_EINVAL, "undeclared global 'debug'"},
    {"return require('os')", RP_EINVAL, "undeclared global 'require'"},
    {"return dofile('/etc/passwd')", RP_EINVAL, "undeclared global 'dofile'"},
    {"return loadfile('/etc/passwd')", RP_EINVAL, "undeclared global 'loadfile'"},
    {"return load('return 1')", RP_EINVAL, "undeclared global 'load'"},
    {"return string.dump(function() end)", RP_EINVAL, "attempt to call a nil value (field 'dump')"},
    {"print('x')", RP_EINVAL, "undeclared global 'print'"},
    {"collectgarbage()", RP_EINVAL, "undeclared global 'collectgarbage'"},
    {"warn('x')", RP_EINVAL, "undeclared global 'warn'"},
    {"return coroutine.wrap(function() end)", RP_EINVAL, "undeclared global 'coroutine'"},
    /* frozen globals */
    {"return utf8.char(72) .. undefined_name", RP_EINVAL, "undeclared global 'undefined_name'"},
    {"counter = 1", RP_EINVAL, "t.lua:3: assignment to global 'counter'"},
    {"string = nil", RP_EINVAL, "assignment to global 'string'"},
    {"rule = nil", RP_EINVAL, "assignment to global 'rule'"},
    {"_G.x = 1", RP_EINVAL, "assignment to global 'x'"},
    {"_G[1] = 1", RP_EINVAL, "assignment to global (a number key)"},
    {"table.insert(_G, 1)", RP_EINVAL, "assignment to global (a number key)"},
    {"rawset(_G, 'x', 1)", RP_EINVAL, "rawset on the global table is not allowed"},
    {"setmetatable(_G, nil)", RP_EINVAL, "cannot change a protected metatable"},
    {"setmetatable(_G, {})", RP_EINVAL, "cannot change a protected metatable"},
    {"return { tags = { tostring(getmetatable(_G)), tostring(next(_G)) } }", RP_OK, "false"},
    {"return { tags = { tostring(rawget(_G, 'string')) } }", RP_OK, "nil"},
    {"return getmetatable('').__index", RP_EINVAL, "attempt to index a boolean value"},
    {"setmetatable({}, { __gc = function() while true do end end })", RP_EINVAL,
     "__gc metamethods are not allowed"},
    {"rule { name = 'x', on_message = function() end }", RP_EINVAL,
     "rule{} can only be called while the file loads"},
    /* __gc added after setmetatable never makes a finalizer (checked again
     * when the state closes at the end of the test) */
    {"local mt = {} local t = setmetatable({}, mt)\n"
     "mt.__gc = function() while true do end end return { tags = { 'no finalizer' } }",
     RP_OK, "no finalizer"},
    {"setmetatable({}, { __gc = true })", RP_EINVAL, "__gc metamethods are not allowed"},
    /* the result is read raw: no metamethods run */
    {"return setmetatable({ tags = { 'raw' } }, { __index = function() while true do end end,\n"
     "  __pairs = function() error('pairs') end })",
     RP_OK, "raw"},
    {"local _ENV <const> = { tostring = tostring, x = 'const env' }\n"
     "return { tags = { tostring(x) } }",
     RP_OK, "const env"},
    {"local _ENV = { y = 'own env' } return { tags = { y } }", RP_OK, "own env"},
    /* msg and ctx are read-only */
    {"msg.subject = 'x'", RP_EINVAL, "t.lua:3: msg is read-only"},
    {"msg.new = 'x'", RP_EINVAL, "msg is read-only"},
    {"rawset(msg, 'subject', 'x')", RP_EINVAL, "bad argument #1 to 'rawset' (table expected"},
    {"setmetatable(msg, {})", RP_EINVAL, "bad argument #1 to 'setmetatable' (table expected"},
    {"return { tags = { tostring(getmetatable(msg)), tostring(getmetatable(ctx.team)) } }",
     RP_OK, "false"},
    {"ctx.now = 0", RP_EINVAL, "ctx is read-only"},
    {"ctx.team.hour = 0", RP_EINVAL, "ctx.team is read-only"},
    {"ctx.buyer.hour = 0", RP_EINVAL, "ctx.buyer is read-only"},
    {"return msg.nosuchfield", RP_EINVAL, "msg has no field 'nosuchfield'"},
    {"return msg[1]", RP_EINVAL, "msg has no field of type number"},
    {"return ctx.nosuch", RP_EINVAL, "ctx has no field 'nosuch'"},
    {"return ctx.team.second", RP_EINVAL, "ctx.team has no field 'second'"},
    {"return msg.header('From')", RP_EINVAL, "msg:header(name) must be called with ':'"},
    {"for k in pairs(msg) do end", RP_EINVAL, "bad argument #1 to 'for iterator' (table expected"},
    /* errors */
    {"error('boom')", RP_EINVAL, "t.lua:3: boom"},
    {"error({})", RP_EINVAL, "t.lua: error object is a table value"},
    {"error(setmetatable({}, { __tostring = function() while true do end end }))", RP_EINVAL,
     "error object is a table value"},
    {"local ok, e = pcall(error, 'caught') return { tags = { e, tostring(ok) } }", RP_OK,
     "caught"},
    {"local ok, e = xpcall(error, function(m) return 'handled ' .. m end, 'x')\n"
     "return { tags = { e } }",
     RP_OK, "handled x"},
    /* instruction budget */
    {"while true do end", RP_ELIMIT, "t.lua:3: instruction budget exceeded (1000000 instructions)"},
    {"while true do pcall(function() while true do end end) end", RP_ELIMIT,
     "instruction budget exceeded"},
    {"local ok = pcall(function() while true do end end) return { tags = { 'caught' } }",
     RP_ELIMIT, "instruction budget exceeded"},
    {"xpcall(function() while true do end end, function() while true do end end)\n"
     "while true do end",
     RP_ELIMIT, "instruction budget exceeded"},
    {"do local x <close> = setmetatable({}, { __close = function() while true do end end })\n"
     "while true do end end",
     RP_ELIMIT, "instruction budget exceeded"},
    {"local function f() return f() end return f()", RP_ELIMIT, "instruction budget exceeded"},
    /* memory */
    {"local s = string.rep('x', 1e8) return { tags = { #s } }", RP_ELIMIT,
     "t.lua:3: memory limit exceeded (8388608 bytes)"},
    {"local s = string.rep(string.rep('x', 1000), 20000)", RP_ELIMIT, "memory limit exceeded"},
    {"local s = 'x' while true do s = s .. s end", RP_ELIMIT, "memory limit exceeded"},
    {"local t = {} for i = 1, 1000 do t[i] = string.rep('x', 1000) end\n"
     "return { tags = { #table.concat(t, string.rep('y', 100000)) } }",
     RP_ELIMIT, "memory limit exceeded"},
    {"local t = {} for i = 1, 1e6 do t[i] = ('x'):rep(1000) .. i end", RP_ELIMIT,
     "memory limit exceeded"},
    {"local ok = pcall(string.rep, 'x', 1e8) while true do end", RP_ELIMIT,
     "memory limit exceeded"},
    {"local ok = pcall(function() local t = {} for i = 1, 1e6 do t[i] = ('x'):rep(1000) .. i end"
     " end) return { tags = { 'survived' } }",
     RP_ELIMIT, "memory limit exceeded"},
    {"return { tags = { tostring(#string.rep('', 1e18)), tostring(#string.rep('ab', 3, ',')) } }",
     RP_OK, "0"},
    /* recursion: Lua and C stacks */
    {"local t = setmetatable({}, { __index = function(t, k) return t[k] end }) return t.x",
     RP_EINVAL, "stack overflow"},
    {"local function g(s) return (s:gsub('.', g)) end return g('ab')", RP_EINVAL,
     "stack overflow"},
    {"local function f() return pcall(f) end return { tags = { tostring(f()) } }", RP_OK, "true"},
    /* work done in C */
    {"local s = string.rep('a', 100000) return { tags = { tostring(s:find('.-.-.-.-.-b')) } }",
     RP_ELIMIT, "instruction budget exceeded"},
    {"local s = string.rep('a', 100000)\n"
     "while true do pcall(string.find, s, '.-.-.-.-.-b') end",
     RP_ELIMIT, "instruction budget exceeded"},
    {"local s = string.rep('a', 5000)\n"
     "return { tags = { tostring(select(2, s:gsub('(a*)(a*)(a*)b', '%3%2%1'))) } }",
     RP_ELIMIT, "instruction budget exceeded"},
    {"local s = string.rep('a', 5000) .. 'b'\n"
     "return { tags = { tostring(select(2, s:gsub('(a*)(a*)(a*)b', '%3%2%1'))) } }",
     RP_OK, "1"},
    {"for w in string.rep('a', 100000):gmatch('.-.-.-b') do end", RP_ELIMIT,
     "instruction budget exceeded"},
    {"local s, p = string.rep('a', 100000), string.rep('a', 50000) .. '.b'\n"
     "return { tags = { tostring(s:find(p)) } }",
     RP_ELIMIT, "instruction budget exceeded"},
    {"local s, p = string.rep('a', 100000), string.rep('a', 50000) .. 'b'\n"
     "return { tags = { tostring(s:find(p)) } }",
     RP_OK, "nil"},
    {"table.insert(nil, 1)", RP_EINVAL,
     "t.lua:3: bad argument #1 to 'insert' (table expected, got nil)"},
    {"return ('x'):rep()", RP_EINVAL, "t.lua:3: bad argument #1 to 'rep' (number expected"},
    {"return { tags = { table.concat({ 'a', 'b' }, ','), tostring(#table.pack(1, 2)) } }",
     RP_OK, "a,b"},
    {"table.move({}, 1, 1e12, 1)", RP_ELIMIT, "instruction budget exceeded"},
    {"table.remove(setmetatable({}, { __len = function() return 1e12 end }), 1)", RP_ELIMIT,
     "instruction budget exceeded"},
    {"table.insert(setmetatable({}, { __len = function() return 1e12 end }), 1, 'x')",
     RP_ELIMIT, "instruction budget exceeded"},
    {"return table.unpack({}, 1, 1e8)", RP_ELIMIT, "instruction budget exceeded"},
    {"return string.byte(string.rep('x', 2000000), 1, -1)", RP_ELIMIT,
     "instruction budget exceeded"},
    {"local a = string.rep('x', 3000000) local b = a:sub(1) local n = 0\n"
     "for i = 1, 1e9 do if a == b then n = n + 1 end end",
     RP_ELIMIT, "time limit exceeded ("},
};

static void test_escapes(void **st)
{
    (void)st;
    fixture f;
    fx_init(&f);
    for (size_t i = 0; i < sizeof escapes / sizeof escapes[0]; i++) {
        const escape *e = &escapes[i];
        char src[1024];
        snprintf(src, sizeof src,
                 "rule { name = 't', on_message = function(msg, ctx)\n"
                 "  if msg.body == 'ok' then return { tags = { 'ok' } } end\n"
                 "  %s\n"
                 "end }\n",
                 e->code);
        /* default limits, but a time limit that slow machines and sanitizers
         * do not reach before the instruction or memory limits */
        rp_lua_limits lim;
        rp_lua_limits_default(&lim);
        lim.time_ms = SANITIZED ? 3000 : 500;
        rp_rule *r = load_named(src, "t.lua", &lim);
        rp_outcome out;
        bool matched;
        rp_error err;
        for (int round = 0; round < 2; round++) { /* the same failure twice in a row */
            f.m.body = (char *)"escape";
            double t0 = now_s();
            rp_status s = run(r, &f, &out, &matched, &err);
            double dt = now_s() - t0;
            if (s != e->status)
                fail_msg("escape %zu (%s): status %d, %s", i, e->code, s, err.msg);
            if (s == RP_OK) {
                assert_true(matched);
                if (out.ntags < 1 || strcmp(out.tags[0], e->want) != 0)
                    fail_msg("escape %zu: first tag %s", i, out.ntags ? out.tags[0] : "(none)");
            } else {
                assert_false(matched);
                if (!strstr(err.msg, e->want))
                    fail_msg("escape %zu (%s): \"%s\" lacks \"%s\"", i, e->code, err.msg,
                             e->want);
            }
            if (dt > (SANITIZED ? 10.0 : 1.5))
                fail_msg("escape %zu (%s) took %.2f s", i, e->code, dt);
            /* the state is usable again at once */
            f.m.body = (char *)"ok";
            s = run(r, &f, &out, &matched, &err);
            if (s != RP_OK || !matched || strcmp(out.tags[0], "ok") != 0)
                fail_msg("escape %zu: the next call failed: %d %s", i, s, err.msg);
        }
        rp_rule_free(r);
    }
    fx_free(&f);
}

static void test_custom_limits(void **st)
{
    (void)st;
    fixture f;
    fx_init(&f);
    const char *src = "rule { name = 'loop', on_message = function(msg, ctx)\n"
                      "  local n = tonumber(msg.body)\n"
                      "  local x = 0 for i = 1, n do x = x + i end\n"
                      "  if n > 1000 then local t = {} for i = 1, n do t[i] = {} end end\n"
                      "  return { tags = { tostring(x) } } end }";
    rp_lua_limits lim;
    rp_lua_limits_default(&lim);
    assert_int_equal(lim.instructions, 1000000);
    assert_int_equal(lim.memory, 8u << 20);
    assert_int_equal(lim.time_ms, 100);
    lim.instructions = 20000;
    lim.memory = 1u << 20;
    rp_rule *r = load_named(src, "loop.lua", &lim);
    rp_outcome out;
    bool matched;
    rp_error err;
    f.m.body = (char *)"1000"; /* about 4 000 instructions */
    assert_int_equal(run(r, &f, &out, &matched, &err), RP_OK);
    assert_string_equal(out.tags[0], "500500");
    f.m.body = (char *)"10000";
    assert_int_equal(run(r, &f, &out, &matched, &err), RP_ELIMIT);
    assert_non_null(strstr(err.msg, "loop.lua:3: instruction budget exceeded (20000 instructions)"));
    rp_rule_free(r);

    lim.instructions = 0; /* 0: the default */
    r = load_named(src, "loop.lua", &lim);
    f.m.body = (char *)"100000"; /* 100 000 tables do not fit in 1 MiB */
    assert_int_equal(run(r, &f, &out, &matched, &err), RP_ELIMIT);
    assert_non_null(strstr(err.msg, "loop.lua:4: memory limit exceeded (1048576 bytes)"));
    f.m.body = (char *)"1000";
    assert_int_equal(run(r, &f, &out, &matched, &err), RP_OK);
    rp_rule_free(r);

    /* a memory limit too small for the libraries */
    lim.memory = 4096;
    r = (rp_rule *)&r;
    assert_int_equal(rp_lua_rule_load(src, strlen(src), "tiny.lua", &lim, &r, &err), RP_ECONFIG);
    assert_null(r);
    assert_non_null(strstr(err.msg, "tiny.lua"));
    assert_non_null(strstr(err.msg, "memory"));

    /* the time limit */
    rp_lua_limits_default(&lim);
    lim.time_ms = 20;
    lim.instructions = 1000000000;
    r = load_named("rule { name = 'slow', on_message = function() while true do end end }",
                   "slow.lua", &lim);
    double t0 = now_s();
    assert_int_equal(run(r, &f, &out, &matched, &err), RP_ELIMIT);
    double dt = now_s() - t0;
    assert_non_null(strstr(err.msg, "slow.lua:1: time limit exceeded (20 ms)"));
    assert_true(dt >= 0.019 && dt < (SANITIZED ? 2.0 : 0.5));
    rp_rule_free(r);
    fx_free(&f);
}

static void test_isolation(void **st)
{
    (void)st;
    size_t la, lb;
    char *a = read_text(RP_FIXTURES "/lua/isolation_a.lua", &la);
    char *b = read_text(RP_FIXTURES "/lua/isolation_b.lua", &lb);
    rp_rule *ra = NULL, *rb = NULL;
    rp_error err;
    assert_int_equal(rp_lua_rule_load(a, la, "isolation_a.lua", NULL, &ra, &err), RP_OK);
    assert_int_equal(rp_lua_rule_load(b, lb, "isolation_b.lua", NULL, &rb, &err), RP_OK);
    fixture f;
    fx_init(&f);
    rp_outcome out;
    bool matched;
    for (int i = 1; i <= 3; i++) {
        assert_int_equal(run(ra, &f, &out, &matched, &err), RP_OK);
        assert_int_equal(out.ntags, 4);
        assert_string_equal(out.tags[0], "from rule a");
        assert_string_equal(out.tags[1], "HI!");
        assert_string_equal(out.tags[2], "3");
        char n[8];
        snprintf(n, sizeof n, "%d", i);
        assert_string_equal(out.tags[3], n);

        assert_int_equal(run(rb, &f, &out, &matched, &err), RP_OK);
        assert_int_equal(out.ntags, 4);
        assert_string_equal(out.tags[0], "no-secret");
        assert_string_equal(out.tags[1], "no-shout");
        assert_string_equal(out.tags[2], "no-method");
        assert_string_equal(out.tags[3], "true");
    }
    f.m.body = (char *)"read";
    assert_int_equal(run(rb, &f, &out, &matched, &err), RP_EINVAL);
    assert_non_null(strstr(err.msg, "undeclared global 'secret'"));
    rp_rule_free(ra);
    rp_rule_free(rb);
    free(a);
    free(b);
    fx_free(&f);
}

static void test_ruleset(void **st)
{
    (void)st;
    rp_ruleset *rs = rp_ruleset_new();
    assert_non_null(rs);
    rp_error err;
    assert_int_equal(
        rp_ruleset_add(rs,
                       load_named("rule { name = 'broken', priority = 90,\n"
                                  "  on_message = function(msg) error('boom') end }",
                                  "broken.lua", NULL),
                       &err),
        RP_OK);
    assert_int_equal(
        rp_ruleset_add(rs,
                       load_named("rule { name = 'looping', priority = 80,\n"
                                  "  on_message = function(msg) while true do end end }",
                                  "looping.lua", NULL),
                       &err),
        RP_OK);
    assert_int_equal(
        rp_ruleset_add(rs,
                       load_named("rule { name = 'good', priority = 10, on_message =\n"
                                  "  function(msg) return { tags = { 'good' } } end }",
                                  "good.lua", NULL),
                       &err),
        RP_OK);
    /* a second rule of the same name is refused by the rule set */
    assert_int_equal(
        rp_ruleset_add(rs,
                       load_named("rule { name = 'good', on_message = function() end }",
                                  "again.lua", NULL),
                       &err),
        RP_ECONFIG);
    assert_non_null(strstr(err.msg, "good.lua"));
    assert_int_equal(rp_ruleset_finish(rs), RP_OK);
    fixture f;
    fx_init(&f);
    rp_rule_result res;
    for (int round = 0; round < 3; round++) {
        rp_arena_reset(&f.arena);
        assert_int_equal(rp_ruleset_run(rs, &f.in, &f.arena, &res), RP_OK);
        assert_int_equal(res.nmatches, 1);
        assert_string_equal(res.matches[0].rule->name, "good");
        assert_string_equal(res.matches[0].outcome.tags[0], "good");
        assert_int_equal(res.nfailures, 2);
        assert_string_equal(res.failures[0].rule->name, "broken");
        assert_non_null(strstr(res.failures[0].reason, "broken.lua:2: boom"));
        assert_string_equal(res.failures[1].rule->name, "looping");
        assert_non_null(strstr(res.failures[1].reason, "instruction budget exceeded"));
    }
    rp_ruleset_free(rs);
    fx_free(&f);
}

/* ---- the examples --------------------------------------------------------------- */

static rp_rule *load_example(const char *file)
{
    char path[512];
    snprintf(path, sizeof path, "%s/rules/examples/%s", RP_SOURCE_DIR, file);
    size_t len;
    char *src = read_text(path, &len);
    rp_rule *r = NULL;
    rp_error err;
    if (rp_lua_rule_load(src, len, path, NULL, &r, &err) != RP_OK)
        fail_msg("%s", err.msg);
    free(src);
    return r;
}

static void test_examples_load(void **st)
{
    (void)st;
    DIR *d = opendir(RP_SOURCE_DIR "/rules/examples");
    assert_non_null(d);
    int n = 0;
    struct dirent *de;
    while ((de = readdir(d))) {
        size_t l = strlen(de->d_name);
        if (l < 5 || strcmp(de->d_name + l - 4, ".lua") != 0)
            continue;
        rp_rule *r = load_example(de->d_name);
        assert_true(r->priority >= 0 && r->priority <= 1000);
        rp_rule_free(r);
        n++;
    }
    closedir(d);
    assert_true(n >= 2);
}

static void test_example_behaviour(void **st)
{
    (void)st;
    fixture f;
    fx_init(&f);
    rp_outcome out;
    bool matched;
    rp_error err;

    rp_rule *r = load_example("vip_buyers.lua");
    assert_int_equal(run(r, &f, &out, &matched, &err), RP_OK);
    assert_false(matched);
    f.m.from = (char *)"7X2KQ9M4V8WZ1B5@marketplace.amazon.de";
    f.in.first_message = false;
    assert_int_equal(run(r, &f, &out, &matched, &err), RP_OK);
    assert_true(matched);
    assert_true(out.cont);
    assert_int_equal(out.priority, RP_PRIORITY_HIGH);
    assert_int_equal(out.ntags, 2);
    assert_string_equal(out.tags[0], "vip");
    f.m.from = NULL;
    assert_int_equal(run(r, &f, &out, &matched, &err), RP_OK);
    assert_false(matched);
    rp_rule_free(r);

    r = load_example("weekend_complaints.lua");
    f.in.intent = "complaint_feedback";
    assert_int_equal(run(r, &f, &out, &matched, &err), RP_OK); /* a Tuesday */
    assert_false(matched);
    f.in.team_local.wday = 5; /* Saturday */
    f.log.n = 0;
    assert_int_equal(run(r, &f, &out, &matched, &err), RP_OK);
    assert_true(matched);
    assert_int_equal(out.priority, RP_PRIORITY_URGENT);
    assert_int_equal(out.nreplies, 1);
    assert_string_equal(out.replies[0].template_id, "answer_complaint_feedback");
    assert_int_equal(out.replies[0].action, RP_ACTION_APPROVE);
    assert_string_equal(out.tags[1], "weekend");
    assert_int_equal(f.log.n, 1);
    assert_string_equal(f.log.lines[0], "complaint on amazon.de at 2026-11-24 09:05 (weekend)");
    f.in.team_local.wday = 2;
    f.in.sched.holiday = "Buß- und Bettag";
    assert_int_equal(run(r, &f, &out, &matched, &err), RP_OK);
    assert_true(matched);
    assert_string_equal(out.tags[1], "holiday");
    f.in.intent = "order_status";
    assert_int_equal(run(r, &f, &out, &matched, &err), RP_OK);
    assert_false(matched);
    rp_rule_free(r);

    fx_free(&f);
    fx_init(&f);
    r = load_example("japan_business_hours.lua");
    assert_int_equal(run(r, &f, &out, &matched, &err), RP_OK); /* amazon.de */
    assert_false(matched);
    f.in.marketplace = "amazon.co.jp";
    f.in.language = "ja";
    f.in.sched.open = false;
    f.in.buyer_local.hour = 10; /* Tuesday 10:00 in Tokyo */
    assert_int_equal(run(r, &f, &out, &matched, &err), RP_OK);
    assert_true(matched); /* has_template says no for ja in this fixture */
    assert_int_equal(out.nreplies, 1);
    assert_string_equal(out.tags[0], "japan_quiet_hours");
    assert_string_equal(f.log.tpl_id, "ack_overnight");
    assert_string_equal(f.log.tpl_lang, "ja");
    f.in.language = "de"; /* a German message on amazon.co.jp: not this rule's */
    assert_int_equal(run(r, &f, &out, &matched, &err), RP_OK);
    assert_false(matched);
    rp_rule_free(r);
    fx_free(&f);
}

static bool always_template(const rp_rule_input *in, const char *id, const char *lang)
{
    (void)in;
    (void)id;
    (void)lang;
    return true;
}

static void test_example_japan_hours(void **st)
{
    (void)st;
    fixture f;
    fx_init(&f);
    f.in.has_template = always_template;
    f.in.marketplace = "amazon.co.jp";
    f.in.language = "ja";
    f.in.sched.open = false;
    rp_rule *r = load_example("japan_business_hours.lua");
    rp_outcome out;
    bool matched;
    rp_error err;
    f.in.buyer_local.hour = 10;
    assert_int_equal(run(r, &f, &out, &matched, &err), RP_OK);
    assert_true(matched);
    assert_int_equal(out.nreplies, 2);
    assert_string_equal(out.replies[0].template_id, "ack_overnight");
    assert_int_equal(out.replies[0].action, RP_ACTION_AUTO_SEND);
    assert_string_equal(out.replies[1].template_id, "answer_{intent}");
    assert_int_equal(out.replies[1].action, RP_ACTION_APPROVE);
    f.in.buyer_local.hour = 22; /* night in Japan: nothing automatic */
    assert_int_equal(run(r, &f, &out, &matched, &err), RP_OK);
    assert_true(matched);
    assert_int_equal(out.nreplies, 1);
    assert_int_equal(out.replies[0].action, RP_ACTION_APPROVE);
    f.in.buyer_local.hour = 10;
    f.in.buyer_local.wday = 6; /* Sunday */
    assert_int_equal(run(r, &f, &out, &matched, &err), RP_OK);
    assert_int_equal(out.nreplies, 1);
    f.in.buyer_local.wday = 1;
    f.in.sched.open = true; /* the team is at work: default rules */
    assert_int_equal(run(r, &f, &out, &matched, &err), RP_OK);
    assert_false(matched);
    f.in.sched.open = false;
    f.in.high_risk = true;
    assert_int_equal(run(r, &f, &out, &matched, &err), RP_OK);
    assert_false(matched);
    rp_rule_free(r);
    fx_free(&f);
}

/* ---- patterns against the reference implementation -------------------------------- */

static const char ref_driver[] =
    "function rule(t) RULE = t end\n"
    "function RUN(s, p)\n"
    "  local out\n"
    "  RULE.on_message({ subject = s, body = p }, { log = function(t) out = t end })\n"
    "  return out\n"
    "end\n";

static void ref_run(lua_State *L, const char *s, const char *p, char *buf, size_t size)
{
    lua_getglobal(L, "RUN");
    lua_pushstring(L, s);
    lua_pushstring(L, p);
    if (lua_pcall(L, 2, 1, 0) != LUA_OK)
        fail_msg("reference: %s", lua_tostring(L, -1));
    snprintf(buf, size, "%s", lua_tostring(L, -1));
    lua_pop(L, 1);
}

static uint32_t rng_next(uint32_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 17;
    *s ^= *s << 5;
    return *s;
}

static void test_patterns_match_reference(void **st)
{
    (void)st;
    size_t len;
    char *src = read_text(RP_FIXTURES "/lua/pattern_diff.lua", &len);
    rp_rule *r = NULL;
    rp_error err;
    if (rp_lua_rule_load(src, len, "pattern_diff.lua", NULL, &r, &err) != RP_OK)
        fail_msg("%s", err.msg);
    lua_State *L = luaL_newstate();
    assert_non_null(L);
    luaL_openlibs(L);
    assert_int_equal(luaL_dostring(L, ref_driver), LUA_OK);
    assert_int_equal(luaL_loadbufferx(L, src, len, "=pattern_diff.lua", "t"), LUA_OK);
    assert_int_equal(lua_pcall(L, 0, 0, 0), LUA_OK);

    static const char *const fixed[][2] = {
        {"hello world", "o"},        {"hello world", "(o)(r)"},   {"hello", "l+"},
        {"hello", "l*"},             {"hello", "l-"},             {"hello", "l?"},
        {"hello", "^h"},             {"hello", "o$"},             {"hello", "^(h)(.-)(o)$"},
        {"a.b", "."},                {"a.b", "%."},               {"THE (quick) fox", "%((%a+)%)"},
        {"f(a(b)c)d", "%b()"},       {"THE (quick) fox", "%f[%a]%a+"}, {"key = value", "(%w+)%s*=%s*(%w+)"},
        {"abcabc", "(abc)%1"},       {"", ""},                    {"abc", ""},
        {"abc", "()"},               {"abc", "()b()"},            {"a]b", "[]]"},
        {"a-b", "[a-]"},             {"a^b", "[%^]"},             {"x", "[^%a]"},
        {"hello", "%"},              {"hello", "[a"},             {"hello", "%b"},
        {"hello", "%f"},             {"hello", "%1"},             {"hello", "(l"},
        {"hello", "l)"},             {"hello", "(l))"},           {"aaa", "a-b"},
        {"abc", "[%a-z]"},           {"2024-11-24", "(%d+)-(%d+)-(%d+)"},
        {"302-1234567-1234567", "^%d%d%d%-%d%d%d%d%d%d%d%-%d%d%d%d%d%d%d$"},
        {"Bestellung 123", "%s(%d+)$"}, {"a,b,,c", "([^,]*)"},    {"caf\xc3\xa9", "[\x80-\xff]+"},
        {"a\0b", "%z"},              {"x$y", "$y"},               {"x^y", "x^"},
    };
    char want[700], got[700];
    rp_outcome out;
    bool matched;
    fixture f;
    fx_init(&f);
    size_t cases = 0;
    for (size_t i = 0; i < sizeof fixed / sizeof fixed[0]; i++) {
        f.m.subject = (char *)fixed[i][0];
        f.m.body = (char *)fixed[i][1];
        f.log.n = 0;
        assert_int_equal(run(r, &f, &out, &matched, &err), RP_OK);
        assert_int_equal(f.log.n, 1);
        ref_run(L, fixed[i][0], fixed[i][1], want, sizeof want);
        if (strcmp(want, f.log.lines[0]) != 0)
            fail_msg("find(%s, %s):\n lua: %s\n ours: %s", fixed[i][0], fixed[i][1], want,
                     f.log.lines[0]);
        cases++;
    }

    static const char *const pieces[] = {
        "a", "b", "c", ".", "%a", "%d", "%s", "%w", "%A", "%p", "[ab]", "[^a]", "[a-c]",
        "[%d_]", "*", "+", "-", "?", "(", ")", "()", "%1", "%2", "^", "$", "%b()", "%f[%w]",
        "%f[%W]", "%", "[", "]", "%%", "1", " ", "%x", "%u", "[%]]",
    };
    static const char alphabet[] = "ab1 ()c_aB";
    uint32_t seed = 0x2545F491u;
    char subject[16], pattern[64];
    for (int n = 0; n < 4000; n++) {
        size_t sl = rng_next(&seed) % 12;
        for (size_t i = 0; i < sl; i++)
            subject[i] = alphabet[rng_next(&seed) % (sizeof alphabet - 1)];
        subject[sl] = '\0';
        size_t np = 1 + rng_next(&seed) % 6;
        pattern[0] = '\0';
        for (size_t i = 0; i < np; i++)
            strcat(pattern, pieces[rng_next(&seed) % (sizeof pieces / sizeof pieces[0])]);
        f.m.subject = subject;
        f.m.body = pattern;
        f.log.n = 0;
        rp_status s = run(r, &f, &out, &matched, &err);
        if (s != RP_OK)
            fail_msg("find(\"%s\", \"%s\"): %s", subject, pattern, err.msg);
        assert_int_equal(f.log.n, 1);
        ref_run(L, subject, pattern, want, sizeof want);
        snprintf(got, sizeof got, "%s", f.log.lines[0]);
        if (strcmp(want, got) != 0)
            fail_msg("find(\"%s\", \"%s\"):\n lua: %s\n ours: %s", subject, pattern, want, got);
        cases++;
    }
    print_message("%zu pattern cases agree with the reference\n", cases);
    lua_close(L);
    rp_rule_free(r);
    free(src);
    fx_free(&f);
}

/* ---- speed ---------------------------------------------------------------------------- */

static void test_speed(void **st)
{
    (void)st;
    fixture f;
    fx_init(&f);
    rp_rule *r = load_ok(
        "rule { name = 'vip-complaints', priority = 90, on_message = function(msg, ctx)\n"
        "  if msg.intent ~= 'complaint_feedback' then return nil end\n"
        "  if ctx.team.wday < 6 and msg.marketplace ~= 'amazon.de' then return nil end\n"
        "  return { replies = { { template = 'answer_complaint_feedback' } },\n"
        "           priority = 'urgent', tags = { 'vip' } }\n"
        "end }");
    rp_outcome out;
    bool matched;
    rp_error err;
    const int n = SANITIZED ? 20000 : 300000;
    double res[2];
    for (int k = 0; k < 2; k++) {
        f.in.intent = k ? "complaint_feedback" : "order_status";
        double t0 = now_s();
        for (int i = 0; i < n; i++) {
            rp_arena_reset(&f.arena);
            rp_status s = r->eval(r, &f.in, &f.arena, &out, &matched, &err);
            if (s != RP_OK || matched != (k == 1))
                fail_msg("call %d: %d %s", i, s, err.msg);
        }
        res[k] = (now_s() - t0) / n * 1e6;
    }
    print_message("Lua rule: %.2f us/call without a match, %.2f us/call with a match%s\n",
                  res[0], res[1], SANITIZED ? " (sanitizers on)" : "");
    if (!SANITIZED) {
        assert_true(res[0] < 10.0);
        assert_true(res[1] < 20.0);
    }
    rp_rule_free(r);
    fx_free(&f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_load_ok),
        cmocka_unit_test(test_load_errors),
        cmocka_unit_test(test_bytecode_rejected),
        cmocka_unit_test(test_outcome_fields),
        cmocka_unit_test(test_outcome_invalid),
        cmocka_unit_test(test_msg_ctx_fields),
        cmocka_unit_test(test_log_limits),
        cmocka_unit_test(test_stale_msg),
        cmocka_unit_test(test_escapes),
        cmocka_unit_test(test_custom_limits),
        cmocka_unit_test(test_isolation),
        cmocka_unit_test(test_ruleset),
        cmocka_unit_test(test_examples_load),
        cmocka_unit_test(test_example_behaviour),
        cmocka_unit_test(test_example_japan_hours),
        cmocka_unit_test(test_patterns_match_reference),
        cmocka_unit_test(test_speed),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
