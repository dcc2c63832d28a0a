#include "rp_test.h"

#include "rp_ac.h"

typedef struct found {
    uint32_t v[64];
    size_t s[64], e[64];
    size_t n;
} found;

static int collect(void *ud, uint32_t value, size_t start, size_t end)
{
    found *f = ud;
    if (f->n < 64) {
        f->v[f->n] = value;
        f->s[f->n] = start;
        f->e[f->n] = end;
        f->n++;
    }
    return 0;
}

static rp_ac *build(const char *const *pats, size_t n)
{
    rp_ac_builder *b = rp_ac_builder_new();
    assert_non_null(b);
    for (size_t i = 0; i < n; i++)
        assert_int_equal(rp_ac_builder_add(b, pats[i], strlen(pats[i]), (uint32_t)i), RP_OK);
    rp_status st;
    rp_ac *ac = rp_ac_build(b, &st);
    assert_non_null(ac);
    assert_int_equal(st, RP_OK);
    return ac;
}

static void test_classic(void **st)
{
    (void)st;
    static const char *const pats[] = {"he", "she", "his", "hers"};
    rp_ac *ac = build(pats, 4);
    found f = {0};
    rp_ac_scan(ac, "ushers", 6, collect, &f);
    /* "she" [1,4), "he" [2,4), "hers" [2,6) */
    assert_int_equal(f.n, 3);
    assert_int_equal(f.v[0], 1);
    assert_int_equal(f.s[0], 1);
    assert_int_equal(f.e[0], 4);
    assert_int_equal(f.v[1], 0);
    assert_int_equal(f.s[1], 2);
    assert_int_equal(f.v[2], 3);
    assert_int_equal(f.e[2], 6);
    rp_ac_free(ac);
}

static void test_overlaps_and_repeats(void **st)
{
    (void)st;
    static const char *const pats[] = {"aa", "a", "aaa"};
    rp_ac *ac = build(pats, 3);
    found f = {0};
    rp_ac_scan(ac, "aaaa", 4, collect, &f);
    /* a x4, aa x3, aaa x2 */
    int counts[3] = {0};
    for (size_t i = 0; i < f.n; i++)
        counts[f.v[i]]++;
    assert_int_equal(counts[1], 4);
    assert_int_equal(counts[0], 3);
    assert_int_equal(counts[2], 2);
    rp_ac_free(ac);
}

static void test_duplicate_and_empty_rejected(void **st)
{
    (void)st;
    rp_ac_builder *b = rp_ac_builder_new();
    assert_int_equal(rp_ac_builder_add(b, "x", 1, 0), RP_OK);
    assert_int_equal(rp_ac_builder_add(b, "x", 1, 1), RP_EINVAL);
    assert_int_equal(rp_ac_builder_add(b, "", 0, 2), RP_EINVAL);
    rp_ac_builder_free(b);
}

static int count_fn(void *ud, uint32_t v, size_t a, size_t e)
{
    (void)v;
    assert_true(e > a);
    (*(size_t *)ud)++;
    return 0;
}

/* Many patterns: every one must be found where planted, and nothing else. */
static void test_many_patterns_against_naive(void **st)
{
    (void)st;
    enum { N = 3000 };
    static char pats[N][12];
    const char *ptrs[N];
    unsigned seed = 12345;
    for (int i = 0; i < N; i++) {
        int len = 3 + (int)(i % 7);
        for (int k = 0; k < len; k++) {
            seed = seed * 1103515245u + 12345u;
            pats[i][k] = (char)('a' + (seed >> 16) % 6);
        }
        pats[i][len] = '\0';
        ptrs[i] = pats[i];
    }
    rp_ac_builder *b = rp_ac_builder_new();
    size_t added = 0;
    for (int i = 0; i < N; i++)
        if (rp_ac_builder_add(b, ptrs[i], strlen(ptrs[i]), (uint32_t)i) == RP_OK)
            added++;
    rp_status s;
    rp_ac *ac = rp_ac_build(b, &s);
    assert_non_null(ac);
    char text[400];
    for (int k = 0; k < 399; k++) {
        seed = seed * 1103515245u + 12345u;
        text[k] = (char)('a' + (seed >> 16) % 6);
    }
    text[399] = '\0';
    /* count matches naively (first occurrence of a duplicated pattern wins) */
    size_t naive = 0;
    for (int i = 0; i < N; i++) {
        int dup = 0;
        for (int j = 0; j < i && !dup; j++)
            dup = strcmp(pats[i], pats[j]) == 0;
        if (dup)
            continue;
        size_t pl = strlen(pats[i]);
        for (size_t p = 0; p + pl <= 399; p++)
            if (memcmp(text + p, pats[i], pl) == 0)
                naive++;
    }
    size_t got = 0;
    rp_ac_scan(ac, text, 399, count_fn, &got);
    assert_int_equal(got, naive);
    rp_ac_free(ac);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_classic),
        cmocka_unit_test(test_overlaps_and_repeats),
        cmocka_unit_test(test_duplicate_and_empty_rejected),
        cmocka_unit_test(test_many_patterns_against_naive),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
