/* The e-mail reader against hostile and tricky input built in the test. */
#include "rp_test.h"

#include "rp_buf.h"
#include "rp_mail.h"

static rp_status parse(const char *data, rp_message **m, rp_error *err)
{
    rp_error_clear(err);
    return rp_mail_parse(data, strlen(data), "test.eml", NULL, m, err);
}

static void test_plain(void **st)
{
    (void)st;
    rp_message *m;
    rp_error err;
    assert_int_equal(parse("From: \"Anna B. - Amazon Marketplace\" <x1@marketplace.amazon.fr>\r\n"
                           "To: shop@example.test\r\n"
                           "Subject: =?UTF-8?Q?O=C3=B9_est_ma_commande_=3F?=\r\n"
                           "Message-ID: <abc@example.test>\r\n"
                           "Date: Fri, 20 Nov 2026 23:14:00 +0100\r\n"
                           "Content-Type: text/plain; charset=utf-8\r\n"
                           "\r\n"
                           "Bonjour, où est ma commande 171-1234567-7654321 ?\r\n",
                           &m, &err),
                     RP_OK);
    assert_string_equal(m->id, "abc@example.test");
    assert_string_equal(m->subject, "Où est ma commande ?");
    assert_string_equal(m->marketplace, "amazon.fr");
    assert_string_equal(m->from, "x1@marketplace.amazon.fr");
    assert_string_equal(m->order_id, "171-1234567-7654321");
    assert_int_equal(m->received_at, 1795212840); /* 2026-11-20T22:14:00Z */
    assert_string_equal(m->body, "Bonjour, où est ma commande 171-1234567-7654321 ?");
    assert_non_null(m->raw);
    assert_string_equal(m->source, "test.eml");
    rp_message_free(m);
}

static void test_unknown_charset_is_error(void **st)
{
    (void)st;
    rp_message *m;
    rp_error err;
    assert_int_equal(parse("Subject: x\n"
                           "Content-Type: text/plain; charset=x-nonsense-7\n\n"
                           "caf\xe9\n",
                           &m, &err),
                     RP_ECHARSET);
    assert_non_null(strstr(err.msg, "x-nonsense-7"));
    assert_non_null(m);
    assert_string_equal(m->id, "test.eml");
    rp_message_free(m);
    /* the same with ASCII-only text is fine */
    assert_int_equal(parse("Subject: x\n"
                           "Content-Type: text/plain; charset=x-nonsense-7\n\n"
                           "cafe\n",
                           &m, &err),
                     RP_OK);
    rp_message_free(m);
}

static void test_invalid_utf8_is_error(void **st)
{
    (void)st;
    rp_message *m;
    rp_error err;
    assert_int_equal(parse("Content-Type: text/plain; charset=utf-8\n\nbad \xff\xfe bytes\n", &m,
                           &err),
                     RP_EUTF8);
    assert_non_null(strstr(err.msg, "UTF-8"));
    rp_message_free(m);
}

static void test_charsets(void **st)
{
    (void)st;
    char *out;
    size_t n;
    rp_error err;
    assert_int_equal(rp_charset_to_utf8("iso-8859-15", "\xa4", 1, &out, &n, &err), RP_OK);
    assert_string_equal(out, "€");
    free(out);
    assert_int_equal(rp_charset_to_utf8("windows-1252", "\x80\x93", 2, &out, &n, &err), RP_OK);
    assert_string_equal(out, "€“");
    free(out);
    /* ISO-8859-1 is read as Windows-1252, as mail clients do */
    assert_int_equal(rp_charset_to_utf8("iso-8859-1", "caf\xe9 \x80", 6, &out, &n, &err), RP_OK);
    assert_string_equal(out, "café €");
    free(out);
    /* ISO-2022-JP with a repeated escape sequence */
    const char jis[] = "\x1b$B$3$s$K$A$O\x1b$B$3\x1b(B!";
    assert_int_equal(rp_charset_to_utf8("ISO-2022-JP", jis, sizeof jis - 1, &out, &n, &err),
                     RP_OK);
    assert_string_equal(out, "こんにちはこ!");
    free(out);
    assert_int_equal(rp_charset_to_utf8("shift_jis", "\x83\x65\x83\x58\x83\x67", 6, &out, &n,
                                        &err),
                     RP_OK);
    assert_string_equal(out, "テスト");
    free(out);
    assert_int_equal(rp_charset_to_utf8("euc-jp", "\xa5\xc6\xa5\xb9\xa5\xc8", 6, &out, &n, &err),
                     RP_OK);
    assert_string_equal(out, "テスト");
    free(out);
    /* truncated multibyte sequence */
    assert_int_equal(rp_charset_to_utf8("shift_jis", "\x83", 1, &out, &n, &err), RP_ECHARSET);
}

static void test_too_large(void **st)
{
    (void)st;
    size_t big = 50u * 1024 * 1024;
    char *data = malloc(big + 1);
    assert_non_null(data);
    memset(data, 'a', big);
    memcpy(data, "Subject: x\n\n", 12);
    data[big] = '\0';
    rp_message *m;
    rp_error err;
    assert_int_equal(rp_mail_parse(data, big, "big.eml", NULL, &m, &err), RP_ELIMIT);
    assert_non_null(strstr(err.msg, "max_message_bytes"));
    rp_message_free(m);
    free(data);
}

static char *nested(int depth, const char *kind)
{
    rp_buf b = {0};
    for (int i = 0; i < depth; i++)
        assert_int_equal(rp_buf_printf(&b, "Content-Type: multipart/%s; boundary=\"b%d\"\n\n--b%d\n",
                                       kind, i, i),
                         RP_OK);
    assert_int_equal(rp_buf_append_str(&b, "Content-Type: text/plain\n\nhello there\n"), RP_OK);
    for (int i = depth - 1; i >= 0; i--)
        assert_int_equal(rp_buf_printf(&b, "--b%d--\n", i), RP_OK);
    return rp_buf_steal(&b);
}

static void test_deep_nesting(void **st)
{
    (void)st;
    rp_message *m;
    rp_error err;
    char *d = nested(10000, "mixed");
    assert_int_equal(parse(d, &m, &err), RP_ELIMIT);
    assert_non_null(strstr(err.msg, "max_mime_parts"));
    rp_message_free(m);
    free(d);
    /* under the parts limit but over the depth limit */
    d = nested(60, "mixed");
    assert_int_equal(parse(d, &m, &err), RP_ELIMIT);
    assert_non_null(strstr(err.msg, "max_mime_depth"));
    rp_message_free(m);
    free(d);
    /* shallow nesting reads fine */
    d = nested(5, "alternative");
    assert_int_equal(parse(d, &m, &err), RP_OK);
    assert_string_equal(m->body, "hello there");
    rp_message_free(m);
    free(d);
}

static void test_broken_mime(void **st)
{
    (void)st;
    rp_message *m;
    rp_error err;
    /* boundary declared but never used: the body is the preamble, no text part */
    rp_status s = parse("Content-Type: multipart/mixed; boundary=zz\n\n", &m, &err);
    assert_int_not_equal(s, RP_OK);
    assert_true(err.msg[0] != '\0');
    rp_message_free(m);
    /* binary garbage */
    char junk[512];
    for (int i = 0; i < 511; i++)
        junk[i] = (char)(i * 37 % 251 + 1);
    junk[511] = '\0';
    s = parse(junk, &m, &err);
    assert_int_not_equal(s, RP_OK);
    rp_message_free(m);
    /* empty input */
    assert_int_equal(parse("", &m, &err), RP_EEMPTY);
    rp_message_free(m);
}

static void expect_2047(const char *raw, const char *want)
{
    char *got = rp_rfc2047_decode(raw);
    assert_non_null(got);
    if (strcmp(got, want) != 0)
        fail_msg("decode(%s) = \"%s\", want \"%s\"", raw, got, want);
    free(got);
}

static void test_rfc2047(void **st)
{
    (void)st;
    expect_2047("plain text", "plain text");
    expect_2047("=?utf-8?q?caf=C3=A9_au_lait?=", "café au lait");
    expect_2047("=?UTF-8?B?w7xiZXI=?= uns", "über uns");
    /* adjacent words: the white space between them goes */
    expect_2047("=?utf-8?q?a?= =?utf-8?q?b?=", "ab");
    expect_2047("=?utf-8?q?a?=\r\n =?utf-8?q?b?=", "ab");
    /* a UTF-8 character split between two words */
    expect_2047("=?UTF-8?B?5pel?= =?UTF-8?B?5pys?=", "日本");
    expect_2047("=?UTF-8?Q?Gr=C3?= =?UTF-8?Q?=B6=C3=9Fe?=", "Größe");
    /* ISO-2022-JP word */
    expect_2047("=?ISO-2022-JP?B?GyRCJUYlOSVIGyhC?=", "テスト");
    /* charset changes between words */
    expect_2047("=?iso-8859-1?q?caf=E9?= =?utf-8?q?_=E2=82=AC?=", "café €");
    /* raw 8-bit text */
    expect_2047("Gr\xc3\xbc\xc3\x9f" "e", "Grüße");
    expect_2047("caf\xe9", "caf\xc3\xa9");
    /* malformed words stay as text; bad bytes become U+FFFD */
    expect_2047("=?utf-8?x?abc?=", "=?utf-8?x?abc?=");
    expect_2047("=?utf-8?q?abc", "=?utf-8?q?abc");
    expect_2047("=?utf-8?b?/w==?=", "\xEF\xBF\xBD");
    expect_2047("", "");
}

int main(void)
{
    rp_mail_init();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_plain),
        cmocka_unit_test(test_unknown_charset_is_error),
        cmocka_unit_test(test_invalid_utf8_is_error),
        cmocka_unit_test(test_charsets),
        cmocka_unit_test(test_too_large),
        cmocka_unit_test(test_deep_nesting),
        cmocka_unit_test(test_broken_mime),
        cmocka_unit_test(test_rfc2047),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    rp_mail_shutdown();
    return rc;
}
