#include "rp_test.h"

#include "plugin.h"
#include "rp_config.h"

static void test_defaults(void **st)
{
    (void)st;
    rp_config *c;
    rp_error err;
    assert_int_equal(rp_config_load_default(&c, &err), RP_OK);
    assert_int_equal(c->limits.max_message_bytes, 16u * 1024 * 1024);
    assert_int_equal(c->limits.max_mime_depth, 20);
    assert_int_equal(c->limits.max_mime_parts, 500);
    assert_true(c->classifier.min_score == 1.0);
    assert_true(c->classifier.subject_weight == 0.5);
    assert_true(c->builtin_lexicons);
    assert_int_equal(c->nlexicons, 0);
    rp_config_free(c);
}

static void test_overlay(void **st)
{
    (void)st;
    const char *y = "limits:\n  max_mime_depth: 5\n"
                    "classifier:\n  min_score: 2.5\n  lexicons: [a.yaml, /abs/b.yaml]\n";
    rp_config *c;
    rp_error err;
    assert_int_equal(rp_config_parse(y, strlen(y), "s.yaml", "/etc/replyd", &c, &err), RP_OK);
    assert_int_equal(c->limits.max_mime_depth, 5);
    assert_int_equal(c->limits.max_mime_parts, 500); /* untouched default */
    assert_true(c->classifier.min_score == 2.5);
    assert_int_equal(c->nlexicons, 2);
    assert_string_equal(c->lexicons[0], "/etc/replyd/a.yaml");
    assert_string_equal(c->lexicons[1], "/abs/b.yaml");
    rp_config_free(c);
    /* an empty document changes nothing */
    assert_int_equal(rp_config_parse("", 0, "e.yaml", NULL, &c, &err), RP_OK);
    rp_config_free(c);
}

static void test_errors(void **st)
{
    (void)st;
    static const struct {
        const char *doc, *want;
    } cases[] = {
        {"limits:\n  max_mime_depth: 0\n", "c.yaml:2:19: expected a whole number between 1"},
        {"limits:\n  max_message_bytes: -5\n", "c.yaml:2:22"},
        {"limits:\n  max_mime_dept: 3\n", "unknown key in 'limits': max_mime_dept"},
        {"sellr: x\n", "c.yaml:1:1: unknown key: sellr"},
        {"seller: x\n", "c.yaml:1:9: 'seller' must be a mapping"},
        {"team:\n  time_zone: Europe/Berlln\n", "c.yaml:2:14:"},
        {"team:\n  business_hours:\n    mon: \"9-17\"\n", "c.yaml:3:10:"},
        {"team:\n  business_hours:\n    mond: closed\n", "unknown weekday 'mond'"},
        {"holidays:\n  - name: X\n    from: 2026-02-30\n", "c.yaml:3:11: invalid date"},
        {"holidays:\n  - name: X\n    from: 2026-12-24\n    to: 12-26\n", "both have a year"},
        {"holidays:\n  - name: X\n    from: 2026-12-24\n    to: 2026-12-20\n", "ends before"},
        {"holidays:\n  - from: 2026-12-24\n", "needs 'name' and 'from'"},
        {"marketplaces:\n  amazon.de: {language: pt}\n", "language must be one of"},
        {"marketplaces:\n  amazon.de: {sender: nobody}\n", "sender must be an e-mail address"},
        {"marketplaces:\n  amazon.de: {tz: UTC}\n", "unknown key in a marketplace: tz"},
        {"rules:\n  builtin: 1\n", "'builtin' must be true or false"},
        {"rules:\n  path: [a]\n", "unknown key in 'rules': path"},
        {"compliance:\n  max_body_chars: 5\n", "between 100 and 100000"},
        {"lua:\n  memory_limit: 10\n", "c.yaml:2:17:"},
        {"password: hunter2\n", "secrets never go into the configuration file"},
        {"classifier:\n  min_score: abc\n", "expected a number"},
        {"classifier:\n  builtin_lexicons: maybe\n", "true or false"},
        {"classifier:\n  lexicons: x.yaml\n", "must be a list"},
        {"- a\n- b\n", "must be a mapping"},
        {"limits: [\n", "c.yaml:"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        rp_config *c = NULL;
        rp_error err;
        rp_error_clear(&err);
        assert_int_equal(rp_config_parse(cases[i].doc, strlen(cases[i].doc), "c.yaml", NULL, &c,
                                         &err),
                         RP_ECONFIG);
        assert_null(c);
        if (!strstr(err.msg, cases[i].want))
            fail_msg("case %zu: \"%s\" lacks \"%s\"", i, err.msg, cases[i].want);
    }
}

static void test_seller_settings(void **st)
{
    (void)st;
    rp_config *c;
    rp_error err;
    assert_int_equal(rp_config_load_default(&c, &err), RP_OK);
    assert_string_equal(c->seller_name, "Example Shop");
    assert_string_equal(c->team_time_zone, "Europe/Berlin");
    assert_string_equal(c->hours[0], "09:00-12:30, 13:30-17:30");
    assert_string_equal(c->hours[6], "closed");
    assert_int_equal(c->nholidays, 2);
    assert_true(c->holidays[0].yearly);
    assert_int_equal(c->holidays[0].first, 1224);
    assert_int_equal(c->holidays[1].last, 101); /* New Year wraps */
    const rp_marketplace_cfg *jp = rp_config_marketplace(c, "AMAZON.co.jp");
    assert_non_null(jp);
    assert_string_equal(jp->language, "ja");
    assert_string_equal(jp->time_zone, "Asia/Tokyo");
    assert_null(rp_config_marketplace(c, "ebay.de"));
    assert_true(c->builtin_rules);
    assert_true(c->builtin_templates);
    assert_true(c->never_auto_send_high_risk);
    assert_string_equal(c->fallback_template, "answer_{intent}");
    assert_int_equal(c->max_body_chars, 4000);
    assert_int_equal(c->lua_instructions, 1000000);
    rp_config_free(c);

    const char *y = "seller: {name: Müller Versand}\n"
                    "team:\n  time_zone: Asia/Tokyo\n  business_hours: {sat: \"10:00-14:00\"}\n"
                    "holidays:\n  - {name: Obon, from: 2026-08-13, to: 2026-08-16}\n"
                    "holiday_files: [jp.ics]\n"
                    "marketplaces:\n  amazon.de: {sender: shop-de@example.com}\n"
                    "  amazon.nl: {language: en, time_zone: Europe/Amsterdam}\n"
                    "rules: {builtin: false, paths: [rules, /etc/replyd/vip.lua]}\n"
                    "templates: {dirs: [my-templates]}\n"
                    "compliance: {allow_phone: true, allowed_domains: [example-shop.de]}\n"
                    "safety: {never_auto_send_high_risk: false}\n";
    assert_int_equal(rp_config_parse(y, strlen(y), "s.yaml", "/srv/shop", &c, &err), RP_OK);
    assert_string_equal(c->seller_name, "Müller Versand");
    assert_string_equal(c->team_time_zone, "Asia/Tokyo");
    assert_string_equal(c->hours[5], "10:00-14:00");
    assert_string_equal(c->hours[0], "09:00-12:30, 13:30-17:30"); /* default kept */
    /* the seller's holiday list replaces the default one */
    assert_int_equal(c->nholidays, 1);
    assert_false(c->holidays[0].yearly);
    assert_int_equal(c->holidays[0].first, 20260813);
    assert_int_equal(c->holidays[0].last, 20260816);
    assert_int_equal(c->nholiday_files, 1);
    assert_string_equal(c->holiday_files[0], "/srv/shop/jp.ics");
    /* marketplaces merge by domain */
    const rp_marketplace_cfg *de = rp_config_marketplace(c, "amazon.de");
    assert_string_equal(de->sender, "shop-de@example.com");
    assert_string_equal(de->language, "de");
    assert_string_equal(rp_config_marketplace(c, "amazon.nl")->time_zone, "Europe/Amsterdam");
    assert_false(c->builtin_rules);
    assert_int_equal(c->nrule_paths, 2);
    assert_string_equal(c->rule_paths[0], "/srv/shop/rules");
    assert_string_equal(c->rule_paths[1], "/etc/replyd/vip.lua");
    assert_true(c->builtin_templates);
    assert_string_equal(c->template_dirs[0], "/srv/shop/my-templates");
    assert_true(c->allow_phone);
    assert_string_equal(c->allowed_domains[0], "example-shop.de");
    assert_false(c->never_auto_send_high_risk);
    rp_config_free(c);
}

static void test_missing_file(void **st)
{
    (void)st;
    rp_config *c;
    rp_error err;
    assert_int_equal(rp_config_load_file("/nonexistent/replyd.yaml", &c, &err), RP_EIO);
    assert_non_null(strstr(err.msg, "/nonexistent/replyd.yaml"));
}

static void test_queue_delivery_loop_sla(void **st)
{
    (void)st;
    rp_config *c;
    rp_error err;
    assert_int_equal(rp_config_load_default(&c, &err), RP_OK);
    /* defaults: nothing is sent until a sink is named */
    assert_null(c->sink);
    assert_int_equal(c->nsinks, 0);
    assert_int_equal(c->retention_days, 180);
    assert_int_equal(c->sla_hours, 24);
    assert_int_equal(c->once_per_sender_days, 4);
    assert_true(c->nnotification_senders > 0);
    assert_string_equal(c->queue_path, "replyd-queue.db");
    rp_config_free(c);

    const char *y = "queue: {path: q/queue.db, retention_days: 30, commit_every: 50}\n"
                    "delivery:\n"
                    "  sink: relay\n"
                    "  retry_base_seconds: 5\n"
                    "  sinks:\n"
                    "    relay: {plugin: smtp, options: {url: 'smtp://127.0.0.1:25', port: 25}}\n"
                    "    hook: {plugin: webhook}\n"
                    "loop_protection: {once_per_sender_days: 0, own_addresses: [me@shop.example]}\n"
                    "sla: {hours: 12, rate_warn: 0.95, alert_sink: hook}\n";
    assert_int_equal(rp_config_parse(y, strlen(y), "t.yaml", "/etc/replyd", &c, &err), RP_OK);
    assert_string_equal(c->queue_path, "/etc/replyd/q/queue.db");
    assert_string_equal(c->base_dir, "/etc/replyd");
    assert_int_equal(c->retention_days, 30);
    assert_int_equal(c->commit_every, 50);
    assert_string_equal(c->sink, "relay");
    assert_int_equal(c->retry_base_seconds, 5);
    assert_int_equal(c->retry_max_seconds, 3600); /* default kept */
    assert_int_equal(c->nsinks, 2);
    const rp_sink_cfg *r = rp_config_sink(c, "relay");
    assert_non_null(r);
    assert_string_equal(r->plugin, "smtp");
    assert_int_equal(r->nopts, 2);
    assert_string_equal(r->keys[1], "port");
    assert_string_equal(r->values[1], "25");
    assert_null(rp_config_sink(c, "nope"));
    assert_int_equal(c->once_per_sender_days, 0);
    assert_int_equal(c->nown_addresses, 1);
    assert_int_equal(c->sla_hours, 12);
    assert_true(c->rate_warn > 0.949 && c->rate_warn < 0.951);
    assert_string_equal(c->alert_sink, "hook");
    rp_config_free(c);

    static const struct {
        const char *yaml, *needle;
    } bad[] = {
        {"delivery: {sinks: {a: {plugin: smtp, options: {password: x}}}}\n", "secrets never"},
        {"delivery: {sinks: {a: {options: {url: x}}}}\n", "needs a 'plugin'"},
        {"delivery: {sinks: {a: {plugin: ../evil}}}\n", "plugin name"},
        {"delivery: {max_attempts: 0}\n", "between 1 and 1000"},
        {"queue: {pth: x}\n", "unknown key in 'queue': pth (path, retention_days"},
        {"sla: {rate_warn: 2}\n", "range"},
        {"loop_protection: {own_addresses: x}\n", "must be a list"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        rp_error_clear(&err);
        assert_int_equal(rp_config_parse(bad[i].yaml, strlen(bad[i].yaml), "b.yaml", NULL, &c, &err),
                         RP_ECONFIG);
        if (!strstr(err.msg, bad[i].needle))
            fail_msg("'%s': got '%s'", bad[i].yaml, err.msg);
    }
    /* an empty value clears an optional name */
    const char *clear = "delivery: {sink: relay}\n";
    assert_int_equal(rp_config_parse(clear, strlen(clear), "c.yaml", NULL, &c, &err), RP_OK);
    assert_string_equal(c->sink, "relay");
    rp_config_free(c);
    clear = "delivery: {sink: ''}\n";
    assert_int_equal(rp_config_parse(clear, strlen(clear), "c.yaml", NULL, &c, &err), RP_OK);
    assert_null(c->sink);
    rp_config_free(c);
}

static void test_sources_run_log(void **st)
{
    (void)st;
    rp_config *c;
    rp_error err;
    assert_int_equal(rp_config_load_default(&c, &err), RP_OK);
    assert_int_equal(c->nsources, 0); /* nothing is fetched until a source is named */
    assert_int_equal(c->run_batch, 500);
    assert_int_equal(c->alert_every_seconds, 300);
    assert_int_equal(c->backoff_max_seconds, 900);
    assert_int_equal(c->log_format, RP_LOG_LOGFMT);
    assert_int_equal(c->log_level, RP_LOG_INFO);
    rp_config_free(c);

    const char *y = "sources:\n"
                    "  amazon-de:\n"
                    "    plugin: imap\n"
                    "    marketplace: amazon.de\n"
                    "    poll_seconds: 30\n"
                    "    options: {url: 'imaps://imap.example.com/INBOX', after: move}\n"
                    "  drop: {plugin: dropdir, options: {path: in}}\n"
                    "run: {batch: 20, alert_every_seconds: 60}\n"
                    "log: {format: json, level: debug}\n";
    assert_int_equal(rp_config_parse(y, strlen(y), "t.yaml", "/etc/replyd", &c, &err), RP_OK);
    assert_int_equal(c->nsources, 2);
    const rp_source_cfg *s = rp_config_source(c, "amazon-de");
    assert_non_null(s);
    assert_string_equal(s->plugin, "imap");
    assert_string_equal(s->marketplace, "amazon.de");
    assert_int_equal(s->poll_seconds, 30);
    assert_int_equal(s->nopts, 2);
    assert_string_equal(s->keys[1], "after");
    assert_string_equal(s->values[1], "move");
    s = rp_config_source(c, "drop");
    assert_non_null(s);
    assert_null(s->marketplace);
    assert_int_equal(s->poll_seconds, 60); /* default */
    assert_null(rp_config_source(c, "nope"));
    assert_int_equal(c->run_batch, 20);
    assert_int_equal(c->alert_every_seconds, 60);
    assert_int_equal(c->log_format, RP_LOG_JSON);
    assert_int_equal(c->log_level, RP_LOG_DEBUG);
    rp_config_free(c);

    static const struct {
        const char *yaml, *needle;
    } bad[] = {
        {"sources: {a: {plugin: imap, options: {password: x}}}\n", "secrets never"},
        {"sources: {a: {options: {url: x}}}\n", "source 'a' needs a 'plugin'"},
        {"sources: {a: {plugin: imap, interval: 5}}\n",
         "unknown key in a source: interval (plugin, marketplace, poll_seconds, options)"},
        {"sources: {a: {plugin: imap, poll_seconds: 0}}\n", "between 1 and 86400"},
        {"sources: {'a b': {plugin: imap}}\n", "source names are"},
        {"log: {format: xml}\n", "'format' must be one of: logfmt, json"},
        {"log: {level: verbose}\n", "'level' must be one of: error, warn, info, debug"},
        {"run: {batch: 0}\n", "between 1 and 10000"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        rp_error_clear(&err);
        assert_int_equal(rp_config_parse(bad[i].yaml, strlen(bad[i].yaml), "b.yaml", NULL, &c, &err),
                         RP_ECONFIG);
        if (!strstr(err.msg, bad[i].needle))
            fail_msg("'%s': got '%s'", bad[i].yaml, err.msg);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults),
        cmocka_unit_test(test_overlay),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_seller_settings),
        cmocka_unit_test(test_missing_file),
        cmocka_unit_test(test_queue_delivery_loop_sla),
        cmocka_unit_test(test_sources_run_log),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
