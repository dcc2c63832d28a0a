#include "rp_test.h"

#include "rp_jsonl.h"

static rp_status parse(const char *line, rp_message **m, rp_error *err)
{
    rp_error_clear(err);
    return rp_jsonl_parse(line, strlen(line), "in.jsonl:1", m, err);
}

static void test_full_record(void **st)
{
    (void)st;
    rp_message *m;
    rp_error err;
    assert_int_equal(
        parse("{\"id\":\"m-1\",\"marketplace\":\"amazon.de\",\"from\":\"a1@marketplace.amazon.de\","
              "\"to\":\"shop@example.test\",\"subject\":\"Rücksendung\",\"body\":\"Wie kann ich "
              "das zurückschicken?\",\"received_at\":\"2026-11-20T23:14:00+01:00\","
              "\"order_id\":\"302-1111111-2222222\",\"headers\":{\"Auto-Submitted\":\"no\","
              "\"Received\":[\"a\",\"b\"]},\"unknown\":{\"x\":1}}",
              &m, &err),
        RP_OK);
    assert_string_equal(m->id, "m-1");
    assert_string_equal(m->marketplace, "amazon.de");
    assert_string_equal(m->subject, "Rücksendung");
    assert_string_equal(m->body, "Wie kann ich das zurückschicken?");
    assert_string_equal(m->order_id, "302-1111111-2222222");
    assert_int_equal(m->received_at, 1795212840);
    assert_int_equal(m->nheaders, 3);
    assert_string_equal(rp_message_header(m, "auto-submitted"), "no");
    assert_non_null(m->raw);
    rp_message_free(m);
}

static void test_only_body_required(void **st)
{
    (void)st;
    rp_message *m;
    rp_error err;
    assert_int_equal(parse("{\"body\":\"where is order 111-2222222-3333333?\"}", &m, &err), RP_OK);
    assert_string_equal(m->id, "in.jsonl:1"); /* no id: named by its place */
    assert_string_equal(m->order_id, "111-2222222-3333333");
    assert_int_equal(m->received_at, RP_TIME_UNKNOWN);
    rp_message_free(m);
}

static void test_errors_name_the_problem(void **st)
{
    (void)st;
    rp_message *m;
    rp_error err;
    assert_int_equal(parse("{\"id\":\"x\",\"subject\":\"hi\"}", &m, &err), RP_EINVAL);
    assert_non_null(strstr(err.msg, "body"));
    assert_string_equal(m->id, "x");
    rp_message_free(m);
    assert_int_equal(parse("{\"body\":\"truncated", &m, &err), RP_EPARSE);
    assert_non_null(strstr(err.msg, "invalid JSON"));
    rp_message_free(m);
    assert_int_equal(parse("[1,2]", &m, &err), RP_EPARSE);
    rp_message_free(m);
    assert_int_equal(parse("{\"body\":\"x\",\"received_at\":\"yesterday\"}", &m, &err),
                     RP_EINVAL);
    assert_non_null(strstr(err.msg, "received_at"));
    rp_message_free(m);
    assert_int_equal(parse("{\"body\":42}", &m, &err), RP_EINVAL);
    rp_message_free(m);
    assert_int_equal(parse("{\"body\":\"  \\n \"}", &m, &err), RP_EEMPTY);
    rp_message_free(m);
    /* invalid UTF-8 is refused by the JSON parser */
    assert_int_equal(parse("{\"body\":\"caf\xe9\"}", &m, &err), RP_EPARSE);
    rp_message_free(m);
    assert_int_equal(parse("{\"body\":\"a\\u0000b\"}", &m, &err), RP_EINVAL);
    assert_non_null(strstr(err.msg, "NUL"));
    rp_message_free(m);
    /* JSON syntax edge cases */
    assert_int_equal(parse("{\"body\":\"x\"} trailing", &m, &err), RP_EPARSE);
    rp_message_free(m);
    assert_int_equal(parse("{\"body\":\"\\ud800\"}", &m, &err), RP_EPARSE);
    rp_message_free(m);
    assert_int_equal(parse("{\"body\":\"tab\there\"}", &m, &err), RP_EPARSE);
    rp_message_free(m);
    assert_int_equal(parse("{\"x\":[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[["
                           "1]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]],"
                           "\"body\":\"x\"}",
                           &m, &err),
                     RP_EPARSE);
    assert_non_null(strstr(err.msg, "nested"));
    rp_message_free(m);
    /* escapes, surrogate pairs, numbers and literals in unknown fields */
    assert_int_equal(parse("{\"n\":-1.5e3,\"t\":[true,false,null,{}],\"body\":"
                           "\"caf\\u00e9 \\ud83d\\ude00 \\\"q\\\" \\/\"}",
                           &m, &err),
                     RP_OK);
    assert_string_equal(m->body, "café 😀 \"q\" /");
    rp_message_free(m);
    assert_int_equal(parse("{\"id\":12345678901,\"body\":\"x\"}", &m, &err), RP_OK);
    assert_string_equal(m->id, "12345678901");
    rp_message_free(m);
    assert_int_equal(parse("{\"id\":1.5,\"body\":\"x\"}", &m, &err), RP_EINVAL);
    rp_message_free(m);
}

static void test_stream_continues_after_errors(void **st)
{
    (void)st;
    const char data[] = "{\"id\":\"a\",\"body\":\"one\"}\n"
                        "\n"
                        "{\"id\":\"b\",\"body\":\n"
                        "{\"id\":\"c\",\"body\":\"" /* long line follows */;
    char *buf = malloc(sizeof data + 5000 + 64);
    assert_non_null(buf);
    strcpy(buf, data);
    size_t n = strlen(buf);
    memset(buf + n, 'x', 5000);
    n += 5000;
    strcpy(buf + n, "\"}\n{\"id\":\"d\",\"body\":\"last\"}");
    n += strlen(buf + n);
    FILE *f = fmemopen(buf, n, "rb");
    assert_non_null(f);
    rp_limits lim = rp_limits_default();
    lim.max_message_bytes = 1024;
    rp_jsonl_reader *r = rp_jsonl_open(f, "s.jsonl", &lim);
    rp_message *m;
    rp_error err;
    assert_int_equal(rp_jsonl_next(r, &m, &err), RP_OK);
    assert_string_equal(m->id, "a");
    rp_message_free(m);
    assert_int_equal(rp_jsonl_next(r, &m, &err), RP_EPARSE);
    assert_string_equal(m->source, "s.jsonl:3");
    rp_message_free(m);
    assert_int_equal(rp_jsonl_next(r, &m, &err), RP_ELIMIT);
    assert_non_null(strstr(err.msg, "max_message_bytes"));
    assert_string_equal(m->id, "s.jsonl:4");
    rp_message_free(m);
    assert_int_equal(rp_jsonl_next(r, &m, &err), RP_OK); /* last line has no newline */
    assert_string_equal(m->id, "d");
    rp_message_free(m);
    assert_int_equal(rp_jsonl_next(r, &m, &err), RP_EOF);
    rp_jsonl_close(r);
    fclose(f);
    free(buf);
}

static void test_iso8601(void **st)
{
    (void)st;
    int64_t t;
    assert_int_equal(rp_parse_iso8601("1970-01-01T00:00:00Z", &t), RP_OK);
    assert_int_equal(t, 0);
    assert_int_equal(rp_parse_iso8601("2024-02-29T12:00:00.250Z", &t), RP_OK);
    assert_int_equal(t, 1709208000);
    assert_int_equal(rp_parse_iso8601("2026-11-20 23:14", &t), RP_OK);
    assert_int_equal(rp_parse_iso8601("2023-02-29T00:00:00Z", &t), RP_EINVAL);
    assert_int_equal(rp_parse_iso8601("2026-13-01T00:00:00Z", &t), RP_EINVAL);
    assert_int_equal(rp_parse_iso8601("2026-11-20T23:14:00+0530", &t), RP_OK);
    char buf[32];
    rp_format_iso8601(1709208000, buf, sizeof buf);
    assert_string_equal(buf, "2024-02-29T12:00:00Z");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_full_record),
        cmocka_unit_test(test_only_body_required),
        cmocka_unit_test(test_errors_name_the_problem),
        cmocka_unit_test(test_stream_continues_after_errors),
        cmocka_unit_test(test_iso8601),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
