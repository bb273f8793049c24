/*
 * Bit-exactness: LUT-mode inference through the enumerated tables equals
 * eval-mode inference (splut_model_forward_codes) on thousands of random
 * input codes, for every layer prefix of a perturbed, untrained preset.
 * Usage: test-tables-bitexact PRESET (one meson test per preset), or no
 * argument for the coverage check that every preset has its test.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include "tables-test.h"

/* ----------------------------------------------------------- bit-exactness */

/* Eval-mode and LUT-mode outputs of the first `depth` layers agree on random
 * codes; returns how many distinct output codes were seen. (Truncating the
 * layer count is a white-box way to compare hidden layers directly.) */
static unsigned bitexact_prefix(splut_model *m, size_t depth, size_t samples, uint64_t seed,
                                const char *preset)
{
    size_t full = m->n_layers;
    m->n_layers = depth;
    splut_tables *t;
    assert_int_equal(splut_tables_create(m, &t), SPLUT_OK);
    uint32_t ni = splut_model_num_inputs(m), no = splut_model_num_outputs(m);
    uint16_t *in = malloc(samples * ni * sizeof(uint16_t));
    uint16_t *a = malloc(samples * no * sizeof(uint16_t));
    uint16_t *b = malloc(samples * no * sizeof(uint16_t));
    assert_non_null(in);
    assert_non_null(a);
    assert_non_null(b);
    uint64_t s = seed;
    random_codes(&s, in, samples * ni, splut_model_input_bits(m));
    assert_int_equal(splut_model_forward_codes(m, in, samples, a), SPLUT_OK);
    m->n_layers = full;
    assert_int_equal(splut_tables_forward(t, in, samples, b), SPLUT_OK);
    size_t mismatches = 0, first = SIZE_MAX;
    uint32_t seen[16] = {0};
    unsigned distinct = 0;
    for (size_t i = 0; i < samples * no; i++) {
        if (a[i] != b[i] && mismatches++ == 0)
            first = i;
        if (!(seen[a[i] & 15] & 1u << (a[i] >> 4 & 31))) {
            seen[a[i] & 15] |= 1u << (a[i] >> 4 & 31);
            distinct++;
        }
    }
    if (mismatches)
        fail_msg("%s, %zu layers: %zu of %zu output codes differ (first: sample %zu output "
                 "%zu: eval %u, LUT %u)",
                 preset, depth, mismatches, samples * no, first / no, first % no, a[first],
                 b[first]);
    free(in);
    free(a);
    free(b);
    splut_tables_destroy(t);
    return distinct;
}

/* Bit-exactness of every layer prefix of a perturbed preset, then of the whole
 * model with the model destroyed before the LUT-mode run (tables own their data). */
static void check_bitexact(const char *preset, size_t samples, uint64_t seed)
{
    splut_ctx *ctx;
    assert_int_equal(splut_ctx_create(NULL, &ctx), SPLUT_OK);
    assert_int_equal(splut_ctx_set_int(ctx, SPLUT_P_THREADS, 2), SPLUT_OK);
    assert_int_equal(splut_ctx_set_int(ctx, SPLUT_P_SEED, (int64_t)seed), SPLUT_OK);
    splut_model *m;
    assert_int_equal(splut_model_create_preset(ctx, preset, &m), SPLUT_OK);
    perturb_model(m, seed * 7919u + 1);
    for (size_t depth = 1; depth < m->n_layers; depth++) {
        unsigned distinct = bitexact_prefix(m, depth, samples, seed + depth, preset);
        /* hidden codes must vary, or the comparison exercises nothing */
        if (distinct < 2)
            fail_msg("%s, %zu layers: every hidden code is the same", preset, depth);
    }
    uint32_t ni = splut_model_num_inputs(m), no = splut_model_num_outputs(m);
    splut_tables *t;
    assert_int_equal(splut_tables_create(m, &t), SPLUT_OK);
    uint16_t *in = malloc(samples * ni * sizeof(uint16_t));
    uint16_t *a = malloc(samples * no * sizeof(uint16_t));
    uint16_t *b = malloc(samples * no * sizeof(uint16_t));
    uint64_t s = seed;
    random_codes(&s, in, samples * ni, splut_model_input_bits(m));
    assert_int_equal(splut_model_forward_codes(m, in, samples, a), SPLUT_OK);
    splut_model_destroy(m);
    assert_int_equal(splut_tables_forward(t, in, samples, b), SPLUT_OK);
    assert_memory_equal(a, b, samples * no * sizeof(uint16_t));
    free(in);
    free(a);
    free(b);
    splut_tables_destroy(t);
    splut_ctx_unref(ctx);
}

/* The presets with a meson test of their own (tests/tables/meson.build). */
static const char *COVERED[] = {"hdr",        "hdr-add2",        "jsc-xl",   "jsc-xl-add2",
                                "jsc-m-lite", "jsc-m-lite-add2", "nid-lite", "nid-add2",
                                "jsc-s",      "jsc-m",           "jsc-l",    "hdr-5l",
                                "jsc-5l",     "jsc-2l",          "dwn-mnist",
                                "dwn-mnist-2l", "dwn-mnist-map",   "dwn-mnist-map-2l",
                                "dwn-jsc"};

static void test_bitexact_covers_presets(void **state)
{
    (void)state;
    for (size_t i = 0; splut_preset_name(i); i++) {
        bool found = false;
        for (size_t k = 0; k < sizeof(COVERED) / sizeof(COVERED[0]); k++)
            found |= strcmp(COVERED[k], splut_preset_name(i)) == 0;
        if (!found)
            fail_msg("preset %s has no bit-exactness test", splut_preset_name(i));
    }
}

static void test_bitexact(void **state)
{
    const char *preset = *state;
    /* hdr and nid-lite have the largest tables and widest layers; the big
     * NeuraLUT presets cost ~800 MACs per entry, so they get one seed */
    size_t n = strcmp(preset, "hdr") == 0 || strcmp(preset, "nid-lite") == 0 ? 3000 : 4000;
    bool heavy = strcmp(preset, "hdr-5l") == 0 || strcmp(preset, "jsc-5l") == 0;
    check_bitexact(preset, n, 11);
    if (!heavy)
        check_bitexact(preset, n / 2, 12);
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        const struct CMUnitTest tests[] = {cmocka_unit_test(test_bitexact_covers_presets)};
        return cmocka_run_group_tests(tests, NULL, NULL);
    }
    const struct CMUnitTest tests[] = {cmocka_unit_test_prestate(test_bitexact, argv[1])};
    return cmocka_run_group_tests_name(argv[1], tests, NULL, NULL);
}
