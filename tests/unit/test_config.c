#include "rp_test.h"

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
        {"seller: x\n", "c.yaml:1:1: unknown key: seller"},
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

static void test_missing_file(void **st)
{
    (void)st;
    rp_config *c;
    rp_error err;
    assert_int_equal(rp_config_load_file("/nonexistent/replyd.yaml", &c, &err), RP_EIO);
    assert_non_null(strstr(err.msg, "/nonexistent/replyd.yaml"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults),
        cmocka_unit_test(test_overlay),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_missing_file),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
