/*
 * Thread pool (every item exactly once, any thread count) and the
 * deterministic RNG (xoshiro256** seeded through splitmix64).
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include "core-test.h"

#include <math.h>
#include <stdatomic.h>

#include "core-priv.h"

typedef struct pool_job {
    uint64_t *value;       /* per item */
    atomic_int *visits;    /* per item */
    unsigned max_worker;   /* pool size */
    atomic_int bad_worker; /* worker id out of range seen */
} pool_job;

static void pool_task(void *arg, size_t begin, size_t end, unsigned worker)
{
    pool_job *j = arg;
    if (worker >= j->max_worker)
        atomic_store(&j->bad_worker, 1);
    for (size_t i = begin; i < end; i++) {
        j->value[i] = (uint64_t)i * i + 1;
        atomic_fetch_add(&j->visits[i], 1);
    }
}

static void test_pool_sum(void **state)
{
    (void)state;
    splut_ctx *ctx = NULL;
    assert_int_equal(splut_ctx_create(NULL, &ctx), SPLUT_OK);
    static const size_t sizes[] = {0, 1, 7, 64, 1000, 12345};
    static const size_t chunks[] = {0, 1, 3, 64, 5000};
    for (unsigned threads = 1; threads <= 4; threads++) {
        splut_pool *p = NULL;
        assert_int_equal(splut__pool_create(ctx, threads, &p), SPLUT_OK);
        assert_int_equal(splut__pool_size(p), threads);
        for (size_t s = 0; s < sizeof(sizes) / sizeof(sizes[0]); s++) {
            for (size_t c = 0; c < sizeof(chunks) / sizeof(chunks[0]); c++) {
                size_t n = sizes[s];
                pool_job j;
                j.value = calloc(n + 1, sizeof(uint64_t));
                j.visits = calloc(n + 1, sizeof(atomic_int));
                assert_non_null(j.value);
                assert_non_null(j.visits);
                j.max_worker = threads;
                atomic_init(&j.bad_worker, 0);
                splut__pool_run(p, n, chunks[c], pool_task, &j);
                uint64_t sum = 0;
                for (size_t i = 0; i < n; i++) {
                    assert_int_equal(atomic_load(&j.visits[i]), 1);
                    sum += j.value[i];
                }
                /* Σ (i² + 1) for i < n = (n-1)n(2n-1)/6 + n */
                uint64_t want = n ? (uint64_t)(n - 1) * n * (2 * n - 1) / 6 + n : 0;
                assert_int_equal(sum, want);
                assert_int_equal(atomic_load(&j.bad_worker), 0);
                free(j.value);
                free(j.visits);
            }
        }
        splut__pool_destroy(p);
    }
    splut__pool_destroy(NULL);
    splut_ctx_unref(ctx);
}

/* Reference splitmix64 and xoshiro256** (Blackman & Vigna), written here. */
static uint64_t ref_splitmix(uint64_t *x)
{
    *x += 0x9e3779b97f4a7c15ull;
    uint64_t z = *x;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static uint64_t ref_rotl(uint64_t v, int k)
{
    return (v << k) | (v >> (64 - k));
}

static uint64_t ref_xoshiro(uint64_t s[4])
{
    uint64_t r = ref_rotl(s[1] * 5, 7) * 9, t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = ref_rotl(s[3], 45);
    return r;
}

static void test_rng_matches_reference(void **state)
{
    (void)state;
    /* the published first output of splitmix64 from state 0 */
    uint64_t x = 0;
    assert_true(ref_splitmix(&x) == 0xe220a8397b1dcdafull);
    static const uint64_t seeds[] = {0, 1, 42, 0x123456789abcdefull, UINT64_MAX};
    for (size_t k = 0; k < 5; k++) {
        splut_rng r;
        splut__rng_seed(&r, seeds[k]);
        uint64_t s[4], sm = seeds[k];
        for (int i = 0; i < 4; i++)
            s[i] = ref_splitmix(&sm);
        for (int i = 0; i < 1000; i++)
            assert_true(splut__rng_next(&r) == ref_xoshiro(s));
    }
}

static void test_rng_reproducible(void **state)
{
    (void)state;
    splut_rng a, b, c;
    splut__rng_seed(&a, 2024);
    splut__rng_seed(&b, 2024);
    splut__rng_seed(&c, 2025);
    int differ = 0;
    for (int i = 0; i < 100; i++) {
        uint64_t va = splut__rng_next(&a);
        assert_true(va == splut__rng_next(&b));
        differ |= va != splut__rng_next(&c);
    }
    assert_true(differ);
    splut__rng_seed(&a, 7);
    splut__rng_seed(&b, 7);
    for (int i = 0; i < 100; i++) {
        assert_true(splut__rng_normal(&a) == splut__rng_normal(&b));
        assert_true(splut__rng_uniform(&a) == splut__rng_uniform(&b));
        assert_true(splut__rng_below(&a, 1000) == splut__rng_below(&b, 1000));
    }
}

static void test_rng_ranges(void **state)
{
    (void)state;
    splut_rng r;
    splut__rng_seed(&r, 99);
    assert_true(splut__rng_below(&r, 0) == 0);
    assert_true(splut__rng_below(&r, 1) == 0);
    enum { BINS = 10, DRAWS = 200000 };
    long count[BINS] = {0};
    for (int i = 0; i < DRAWS; i++) {
        uint64_t v = splut__rng_below(&r, BINS);
        assert_true(v < BINS);
        count[v]++;
    }
    /* chi-square with 9 degrees of freedom: 40 is far beyond p = 1e-5 */
    double chi = 0, e = (double)DRAWS / BINS;
    for (int i = 0; i < BINS; i++)
        chi += (count[i] - e) * (count[i] - e) / e;
    assert_true(chi < 40.0);
    double sum = 0, sq = 0;
    for (int i = 0; i < DRAWS; i++) {
        double u = splut__rng_uniform(&r);
        assert_true(u >= 0.0 && u < 1.0);
        double g = splut__rng_normal(&r);
        assert_true(isfinite(g));
        sum += g;
        sq += g * g;
    }
    double mean = sum / DRAWS, var = sq / DRAWS - mean * mean;
    assert_true(fabs(mean) < 0.02);
    assert_true(fabs(var - 1.0) < 0.03);
    /* huge bound: still below it */
    for (int i = 0; i < 1000; i++)
        assert_true(splut__rng_below(&r, (UINT64_MAX / 3) * 2) < (UINT64_MAX / 3) * 2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pool_sum),
        cmocka_unit_test(test_rng_matches_reference),
        cmocka_unit_test(test_rng_reproducible),
        cmocka_unit_test(test_rng_ranges),
    };
    return cmocka_run_group_tests_name("core-pool-rng", tests, NULL, NULL);
}
