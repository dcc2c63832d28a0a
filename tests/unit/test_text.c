#include "rp_test.h"

#include <stdbool.h>

#include <utf8proc.h>

#include "rp_buf.h"
#include "rp_text.h"

static char *fold(const char *s)
{
    rp_buf b = {0};
    assert_int_equal(rp_text_fold(s, strlen(s), &b), RP_OK);
    return rp_buf_steal(&b);
}

#define ASSERT_FOLD(in, want)                                                                      \
    do {                                                                                           \
        char *got_ = fold(in);                                                                     \
        assert_string_equal(got_, want);                                                           \
        free(got_);                                                                                \
    } while (0)

static void test_ascii(void **st)
{
    (void)st;
    ASSERT_FOLD("Where is my ORDER??", " where is my order \n ");
    ASSERT_FOLD("don't", " don t ");
    ASSERT_FOLD("", " ");
    ASSERT_FOLD("  ...  ", " \n ");
    ASSERT_FOLD("No, I do not. Thanks!", " no \n i do not \n thanks \n ");
    ASSERT_FOLD("114-3390217-8843106", " 114 3390217 8843106 ");
}

/* Mail wraps lines at about 72 columns: a line break inside a paragraph is a
 * space (a phrase may continue on the next line); a blank line ends the
 * clause like punctuation does. */
static void test_line_breaks(void **st)
{
    (void)st;
    ASSERT_FOLD("still says preparing\nfor shipment", " still says preparing for shipment ");
    ASSERT_FOLD("preparing\r\nfor shipment", " preparing for shipment ");
    ASSERT_FOLD("I did not\n  receive it", " i did not receive it ");
    ASSERT_FOLD("Hello\n\nnot received", " hello \n not received ");
    ASSERT_FOLD("Hello\r\n \r\nnot received", " hello \n not received ");
    ASSERT_FOLD("the end\n", " the end \n ");
}

static void test_accents_and_case(void **st)
{
    (void)st;
    ASSERT_FOLD("Rückerstattung", " ruckerstattung ");
    ASSERT_FOLD("RÜCKERSTATTUNG", " ruckerstattung ");
    ASSERT_FOLD("Straße", " strasse ");
    ASSERT_FOLD("reçu, déjà", " recu \n deja ");
    ASSERT_FOLD("sœur", " soeur ");
    ASSERT_FOLD("¿Dónde está mi pedido?", " donde esta mi pedido \n ");
    /* decomposed input (e + combining acute) folds like the composed form */
    ASSERT_FOLD("e\xcc\x81t\xc3\xa9", " ete ");
}

static void test_nfkc_and_japanese(void **st)
{
    (void)st;
    /* full-width Latin and digits */
    ASSERT_FOLD("\xef\xbc\xaf\xef\xbd\x92\xef\xbd\x84\xef\xbd\x85\xef\xbd\x92\xef\xbc\x91",
                " order1 ");
    /* half-width katakana ｷｬﾝｾﾙ becomes キャンセル */
    ASSERT_FOLD("ｷｬﾝｾﾙ", " キャンセル ");
    /* voiced kana keep their mark: ガ stays ガ, が stays が */
    ASSERT_FOLD("ｶﾞ", " ガ ");
    ASSERT_FOLD("届いていません。", " 届いていません \n ");
    ASSERT_FOLD("返金は？", " 返金は \n ");
    ASSERT_FOLD("はい、キャンセル", " はい \n キャンセル ");
}

static void test_invalid_utf8_is_separator(void **st)
{
    (void)st;
    ASSERT_FOLD("ab\xff" "cd", " ab cd ");
    ASSERT_FOLD("\xc3", " ");
}

/* The table fast path for accented Latin letters folds exactly like the
 * general path (forced here by a preceding kanji in the same run). */
static void test_latin_fast_path_matches_general(void **st)
{
    (void)st;
    for (int32_t cp = 0xC0; cp < 0x280; cp++) {
        char in1[8], in2[12];
        char enc[4] = {(char)(0xC0 | (cp >> 6)), (char)(0x80 | (cp & 0x3F)), 0, 0};
        snprintf(in1, sizeof in1, "%s", enc);
        snprintf(in2, sizeof in2, "\xe6\x97\xa5%s", enc); /* 日 + letter */
        char *a = fold(in1);
        char *b = fold(in2);
        /* b is " 日<fold> " or " 日 <fold> " */
        const char *rest = b + 4;
        if (*rest == ' ' && a[1] != ' ')
            rest++;
        if (strcmp(a + 1, rest) != 0 && !(strcmp(a, " ") == 0))
            fail_msg("U+%04X: fast \"%s\" general \"%s\"", (unsigned)cp, a, b);
        free(a);
        free(b);
    }
}

/* General punctuation, kana and kanji, which take fast paths, fold exactly
 * like the general path
 * (forced by a preceding full-width letter in the same run). */
static void test_kana_fast_path_matches_general(void **st)
{
    (void)st;
    static const int32_t ranges[][2] = {{0x2000, 0x2070}, {0x3000, 0x3100}, {0x4E00, 0x4E40},
                                        {0x9FC0, 0xA000}, {0xFF00, 0xFF66}};
    for (size_t r = 0; r < sizeof ranges / sizeof ranges[0]; r++)
        for (int32_t cp = ranges[r][0]; cp < ranges[r][1]; cp++) {
            utf8proc_category_t cat = utf8proc_category(cp);
            if (cat == UTF8PROC_CATEGORY_MN || cat == UTF8PROC_CATEGORY_MC ||
                cat == UTF8PROC_CATEGORY_ME)
                continue; /* combining marks attach to whatever precedes them */
            char enc[4] = {(char)(0xE0 | (cp >> 12)), (char)(0x80 | ((cp >> 6) & 0x3F)),
                           (char)(0x80 | (cp & 0x3F)), 0};
            char in2[16];
            snprintf(in2, sizeof in2, "\xef\xbc\xa1%s", enc); /* Ａ + character */
            char *a = fold(enc);
            char *b = fold(in2);
            /* b is " a<fold> " (or " a <fold> ") */
            const char *rest = b + 2;
            if (*rest == ' ' && a[1] != ' ')
                rest++;
            bool same = strcmp(a, " ") == 0 ? strcmp(b, " a ") == 0 : strcmp(a + 1, rest) == 0;
            if (!same)
                fail_msg("U+%04X: fast \"%s\" general \"%s\"", (unsigned)cp, a, b);
            free(a);
            free(b);
        }
    /* a kana followed by a combining sound mark composes */
    char *g = fold("\xe3\x81\x8b\xe3\x82\x99"); /* か + ゙ */
    assert_string_equal(g, " が ");
    free(g);
}

static void test_utf8_valid(void **st)
{
    (void)st;
    assert_true(rp_utf8_valid("héllo", strlen("héllo")));
    assert_false(rp_utf8_valid("\xc0\xaf", 2));          /* overlong */
    assert_false(rp_utf8_valid("\xed\xa0\x80", 3));      /* surrogate */
    assert_false(rp_utf8_valid("\xf4\x90\x80\x80", 4));  /* > U+10FFFF */
    assert_int_equal(rp_utf8_invalid_offset("ab\xe3\x81", 4), 2);
    assert_true(rp_utf8_valid("日本語", strlen("日本語")));
}

static void test_script(void **st)
{
    (void)st;
    assert_int_equal(rp_script_of(0x3042), RP_SCRIPT_KANA); /* あ */
    assert_int_equal(rp_script_of(0x30AB), RP_SCRIPT_KANA); /* カ */
    assert_int_equal(rp_script_of(0x65E5), RP_SCRIPT_HAN);  /* 日 */
    assert_int_equal(rp_script_of('a'), RP_SCRIPT_LATIN);
    assert_int_equal(rp_script_of(0xE9), RP_SCRIPT_LATIN);
    assert_int_equal(rp_script_of('1'), RP_SCRIPT_OTHER);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ascii),
        cmocka_unit_test(test_line_breaks),
        cmocka_unit_test(test_accents_and_case),
        cmocka_unit_test(test_nfkc_and_japanese),
        cmocka_unit_test(test_invalid_utf8_is_separator),
        cmocka_unit_test(test_latin_fast_path_matches_general),
        cmocka_unit_test(test_kana_fast_path_matches_general),
        cmocka_unit_test(test_utf8_valid),
        cmocka_unit_test(test_script),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
