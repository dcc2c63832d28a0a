#include "rp_test.h"

#include "rp_buf.h"
#include "rp_map.h"

static void test_buf_append_and_steal(void **st)
{
    (void)st;
    rp_buf b = {0};
    for (int i = 0; i < 1000; i++)
        assert_int_equal(rp_buf_append_str(&b, "ab"), RP_OK);
    assert_int_equal(b.len, 2000);
    assert_int_equal(strlen(b.data), 2000);
    assert_int_equal(rp_buf_printf(&b, "%d-%s", 42, "x"), RP_OK);
    assert_string_equal(b.data + 2000, "42-x");
    rp_buf_reset(&b);
    assert_int_equal(b.len, 0);
    assert_string_equal(b.data, "");
    char *s = rp_buf_steal(&b);
    assert_string_equal(s, "");
    assert_null(b.data);
    free(s);
    /* stealing an untouched buffer gives an empty string */
    s = rp_buf_steal(&b);
    assert_non_null(s);
    assert_string_equal(s, "");
    free(s);
}

static void test_json_escaping(void **st)
{
    (void)st;
    rp_buf b = {0};
    const char in[] = "a\"b\\c\nd\te\x01" "f\x7f" "gé日";
    assert_int_equal(rp_buf_append_json_string(&b, in, sizeof in - 1), RP_OK);
    assert_string_equal(b.data, "\"a\\\"b\\\\c\\nd\\te\\u0001f\\u007fgé日\"");
    rp_buf_free(&b);
}

static void test_map(void **st)
{
    (void)st;
    rp_map m = {0};
    char key[32];
    uint32_t v;
    bool ins;
    for (uint32_t i = 0; i < 5000; i++) {
        int n = snprintf(key, sizeof key, "key-%u", i);
        v = i * 3;
        assert_int_equal(rp_map_put(&m, key, (size_t)n, &v, &ins), RP_OK);
        assert_true(ins);
    }
    /* putting again returns the stored value and inserts nothing */
    v = 99;
    assert_int_equal(rp_map_put(&m, "key-7", 5, &v, &ins), RP_OK);
    assert_false(ins);
    assert_int_equal(v, 21);
    for (uint32_t i = 0; i < 5000; i++) {
        int n = snprintf(key, sizeof key, "key-%u", i);
        assert_true(rp_map_get(&m, key, (size_t)n, &v));
        assert_int_equal(v, i * 3);
    }
    assert_false(rp_map_get(&m, "key-5000", 8, &v));
    assert_false(rp_map_get(&m, "key", 3, &v)); /* a prefix is another key */
    assert_int_equal(rp_map_set(&m, "key-1", 5, 7), RP_OK);
    assert_true(rp_map_get(&m, "key-1", 5, &v));
    assert_int_equal(v, 7);
    /* keys are byte strings: embedded NULs count */
    assert_int_equal(rp_map_set(&m, "a\0b", 3, 1), RP_OK);
    assert_false(rp_map_get(&m, "a", 1, &v));
    assert_true(rp_map_get(&m, "a\0b", 3, &v));
    rp_map_free(&m);
    assert_false(rp_map_get(&m, "key-1", 5, &v));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_buf_append_and_steal),
        cmocka_unit_test(test_json_escaping),
        cmocka_unit_test(test_map),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
