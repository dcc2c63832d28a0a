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

/* Many patterns over a wide alphabet: every occurrence must be found, and
 * nothing else, whatever share of the states has dense rows (none, a few,
 * all), so the sparse steps, the fail links and the depth-first layout are
 * all exercised. */
static size_t naive_count(char pats[][16], int n, const char *text, size_t tl)
{
    size_t c = 0;
    for (int i = 0; i < n; i++) {
        int dup = 0;
        for (int j = 0; j < i && !dup; j++)
            dup = strcmp(pats[i], pats[j]) == 0;
        if (dup)
            continue;
        size_t pl = strlen(pats[i]);
        for (size_t p = 0; p + pl <= tl; p++)
            if (memcmp(text + p, pats[i], pl) == 0)
                c++;
    }
    return c;
}

static void test_many_patterns_against_naive(void **st)
{
    (void)st;
    enum { N = 3000 };
    static char pats[N][16];
    unsigned seed = 12345;
    for (int alpha = 4; alpha <= 40; alpha += 36) {
        for (int i = 0; i < N; i++) {
            int len = 2 + (int)(i % 12);
            for (int k = 0; k < len; k++) {
                seed = seed * 1103515245u + 12345u;
                pats[i][k] = (char)('0' + (seed >> 16) % (unsigned)alpha);
            }
            pats[i][len] = '\0';
        }
        char text[2000];
        for (int k = 0; k < 1999; k++) {
            seed = seed * 1103515245u + 12345u;
            text[k] = (char)('0' + (seed >> 16) % (unsigned)alpha);
        }
        text[1999] = '\0';
        size_t want = naive_count(pats, N, text, 1999);
        assert_true(want > 0);
        static const size_t budgets[] = {0, 512, 8192, 1u << 24};
        for (size_t bi = 0; bi < sizeof budgets / sizeof budgets[0]; bi++) {
            rp_ac_builder *b = rp_ac_builder_new();
            for (int i = 0; i < N; i++)
                (void)rp_ac_builder_add(b, pats[i], strlen(pats[i]), (uint32_t)i);
            rp_status s;
            rp_ac *ac = rp_ac_build_sized(b, &s, budgets[bi]);
            assert_non_null(ac);
            size_t got = 0;
            rp_ac_scan(ac, text, 1999, count_fn, &got);
            if (got != want)
                fail_msg("alphabet %d, dense budget %zu: %zu matches, want %zu", alpha,
                         budgets[bi], got, want);
            rp_ac_free(ac);
        }
    }
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
