/*
 * Model definition errors, presets (MODELS.md §0 shapes), connectivity and
 * seed reproducibility through the public API.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include "core-test.h"

#include <stdio.h>

static void test_create_args(void **state)
{
    splut_ctx *ctx = *state;
    splut_model *m = (splut_model *)ctx;
    assert_int_equal(splut_model_create(ctx, 0, 2, &m), SPLUT_E_OUT_OF_RANGE);
    assert_null(m);
    assert_int_equal(splut_model_create(ctx, 4, 0, &m), SPLUT_E_OUT_OF_RANGE);
    assert_int_equal(splut_model_create(ctx, 4, 9, &m), SPLUT_E_OUT_OF_RANGE);
    assert_int_equal(splut_model_create(NULL, 4, 2, &m), SPLUT_E_NULL);
    assert_int_equal(splut_model_create(ctx, 4, 2, NULL), SPLUT_E_NULL);
    assert_int_equal(splut_model_create(ctx, 4, 8, &m), SPLUT_OK);
    assert_int_equal(splut_model_num_inputs(m), 4);
    assert_int_equal(splut_model_input_bits(m), 8);
    assert_int_equal(splut_model_num_layers(m), 0);
    assert_int_equal(splut_model_num_outputs(m), 0);
    assert_int_equal(splut_model_num_params(m), 0);
    splut_model_destroy(m);
    splut_model_destroy(NULL);
    assert_int_equal(splut_model_num_inputs(NULL), 0);
    assert_int_equal(splut_model_num_layers(NULL), 0);
    assert_null(splut_model_ctx(NULL));
}

/* add_layer must fail with `want` and leave the model unchanged. */
static void expect_add_fails(splut_model *m, const splut_layer_desc *d, splut_status want)
{
    size_t before = splut_model_num_layers(m);
    assert_int_equal(splut_model_add_layer(m, d), want);
    assert_int_equal(splut_model_num_layers(m), before);
    assert_true(strlen(splut_ctx_last_error(splut_model_ctx(m))) > 0);
}

static void test_layer_errors(void **state)
{
    splut_ctx *ctx = *state;
    splut_model *m = NULL;
    assert_int_equal(splut_model_create(ctx, 6, 2, &m), SPLUT_OK);
    splut_layer_desc d = layer_desc(SPLUT_NEURON_POLY, 0, 2, 2, 2, 0);
    expect_add_fails(m, &d, SPLUT_E_OUT_OF_RANGE); /* zero width */
    d = layer_desc(SPLUT_NEURON_POLY, 4, 0, 2, 2, 0);
    expect_add_fails(m, &d, SPLUT_E_OUT_OF_RANGE); /* zero fan-in */
    d = layer_desc(SPLUT_NEURON_POLY, 4, 2, 0, 2, 0);
    expect_add_fails(m, &d, SPLUT_E_OUT_OF_RANGE); /* zero bits */
    d = layer_desc(SPLUT_NEURON_POLY, 4, 2, 9, 2, 0);
    expect_add_fails(m, &d, SPLUT_E_OUT_OF_RANGE); /* 9 bits */
    d = layer_desc(SPLUT_NEURON_POLY, 4, 2, 2, 0, 0);
    expect_add_fails(m, &d, SPLUT_E_OUT_OF_RANGE); /* degree 0 */
    d = layer_desc(SPLUT_NEURON_POLY, 4, 7, 2, 1, 0);
    expect_add_fails(m, &d, SPLUT_E_FAN_IN); /* F = 7 > 6 inputs */
    d = layer_desc(SPLUT_NEURON_POLY_ADD, 4, 4, 2, 1, 2);
    expect_add_fails(m, &d, SPLUT_E_FAN_IN); /* A·F = 8 > 6 */
    d = layer_desc(SPLUT_NEURON_POLY_ADD, 4, 3, 2, 1, 2);
    assert_int_equal(splut_model_add_layer(m, &d), SPLUT_OK); /* A·F = 6 fits exactly */
    /* the next layer's input width is 4 */
    d = layer_desc(SPLUT_NEURON_LINEAR, 3, 5, 2, 1, 0);
    expect_add_fails(m, &d, SPLUT_E_FAN_IN);
    d = layer_desc((splut_neuron_kind)7, 3, 2, 2, 1, 0);
    expect_add_fails(m, &d, SPLUT_E_INVALID); /* unknown kind */
    d = layer_desc((splut_neuron_kind)-1, 3, 2, 2, 1, 0);
    expect_add_fails(m, &d, SPLUT_E_INVALID);
    d = layer_desc(SPLUT_NEURON_LINEAR, 3, 2, 2, 3, 0);
    expect_add_fails(m, &d, SPLUT_E_INVALID); /* LINEAR takes no degree > 1 */
    d = layer_desc(SPLUT_NEURON_POLY, 3, 2, 2, 2, 2);
    expect_add_fails(m, &d, SPLUT_E_INVALID); /* POLY takes no sub-neurons */
    d = layer_desc(SPLUT_NEURON_LINEAR, 3, 2, 2, 1, 0);
    d.reserved = 1;
    expect_add_fails(m, &d, SPLUT_E_INVALID);
    d = layer_desc(SPLUT_NEURON_LINEAR, 3, 2, 2, 1, 0);
    d.size = sizeof(d) - 4;
    expect_add_fails(m, &d, SPLUT_E_STRUCT_SIZE);
    d.size = 0;
    expect_add_fails(m, &d, SPLUT_E_STRUCT_SIZE); /* larger sizes: tests/core/test-struct.c */
    assert_int_equal(splut_model_add_layer(m, NULL), SPLUT_E_NULL);
    assert_int_equal(splut_model_add_layer(NULL, &d), SPLUT_E_NULL);
    splut_model_destroy(m);
}

static void test_neuralut_layer(void **state)
{
    splut_ctx *ctx = *state;
    splut_model *m = NULL;
    assert_int_equal(splut_model_create(ctx, 6, 2, &m), SPLUT_OK);
    splut_layer_desc d = layer_desc(SPLUT_NEURON_NEURALUT, 3, 2, 2, 0, 0);
    expect_add_fails(m, &d, SPLUT_E_OUT_OF_RANGE); /* hidden width 0 */
    d.hidden = 257;
    expect_add_fails(m, &d, SPLUT_E_OUT_OF_RANGE);
    d.hidden = 8;
    d.degree = 2;
    expect_add_fails(m, &d, SPLUT_E_INVALID); /* NeuraLUT takes no degree */
    d.degree = 0;
    d.sub_neurons = 2;
    expect_add_fails(m, &d, SPLUT_E_INVALID); /* nor sub-neurons */
    d.sub_neurons = 0;
    d.fan_in = 7;
    expect_add_fails(m, &d, SPLUT_E_FAN_IN);
    d.fan_in = 2;
    assert_int_equal(splut_model_add_layer(m, &d), SPLUT_OK);
    assert_int_equal(splut_model_build(m), SPLUT_OK);
    splut_layer_desc got = SPLUT_LAYER_DESC_INIT;
    assert_int_equal(splut_model_layer(m, 0, &got), SPLUT_OK);
    assert_int_equal(got.kind, SPLUT_NEURON_NEURALUT);
    assert_int_equal(got.hidden, 8);
    assert_int_equal(got.degree, 0);
    uint16_t in[6] = {0, 1, 2, 3, 2, 1}, out[3];
    assert_int_equal(splut_model_forward_codes(m, in, 1, out), SPLUT_OK);
    for (int i = 0; i < 3; i++)
        assert_true(out[i] < 4);
    splut_model_destroy(m);
}

static void test_table_limits(void **state)
{
    splut_ctx *ctx = *state;
    assert_int_equal(splut_ctx_set_int(ctx, SPLUT_P_MAX_TABLE_LOG2, 10), SPLUT_OK);
    splut_model *m = NULL;
    assert_int_equal(splut_model_create(ctx, 16, 2, &m), SPLUT_OK);
    /* 2^(2·6) = 2^12 entries > 2^10 */
    splut_layer_desc d = layer_desc(SPLUT_NEURON_POLY, 4, 6, 2, 2, 0);
    expect_add_fails(m, &d, SPLUT_E_TABLE_TOO_LARGE);
    assert_non_null(strstr(splut_ctx_last_error(ctx), "10"));
    /* 2^(2·5) = 2^10 is at the limit: accepted */
    d = layer_desc(SPLUT_NEURON_POLY, 4, 5, 2, 2, 0);
    assert_int_equal(splut_model_add_layer(m, &d), SPLUT_OK);
    splut_model_destroy(m);
    /* PolyLUT-Add adder table: 2^(A·(β+1)) = 2^(3·4) > 2^10 while each
     * sub-neuron table is only 2^(2·2) */
    assert_int_equal(splut_model_create(ctx, 16, 2, &m), SPLUT_OK);
    d = layer_desc(SPLUT_NEURON_POLY_ADD, 4, 2, 3, 1, 3);
    expect_add_fails(m, &d, SPLUT_E_TABLE_TOO_LARGE);
    d = layer_desc(SPLUT_NEURON_POLY_ADD, 4, 2, 3, 1, 2); /* 2^8 */
    assert_int_equal(splut_model_add_layer(m, &d), SPLUT_OK);
    splut_model_destroy(m);
    /* a preset that needs larger tables than the limit */
    assert_int_equal(splut_model_create_preset(ctx, "hdr", &m), SPLUT_E_TABLE_TOO_LARGE);
    assert_null(m);
}

static void test_build_state(void **state)
{
    splut_ctx *ctx = *state;
    splut_model *m = NULL;
    assert_int_equal(splut_model_create(ctx, 6, 2, &m), SPLUT_OK);
    assert_int_equal(splut_model_build(m), SPLUT_E_STATE); /* no layers */
    assert_int_equal(splut_model_build(NULL), SPLUT_E_NULL);
    splut_layer_desc d = layer_desc(SPLUT_NEURON_POLY, 5, 3, 2, 2, 0);
    assert_int_equal(splut_model_add_layer(m, &d), SPLUT_OK);
    uint32_t idx[8];
    size_t n = 0;
    assert_int_equal(splut_model_get_inputs(m, 0, 0, idx, 8, &n), SPLUT_E_STATE);
    uint16_t in[6] = {0}, out[5];
    assert_int_equal(splut_model_forward_codes(m, in, 1, out), SPLUT_E_STATE);
    splut_model *c = NULL;
    assert_int_equal(splut_model_clone(m, &c), SPLUT_E_STATE);
    assert_int_equal(splut_model_build(m), SPLUT_OK);
    assert_int_equal(splut_model_build(m), SPLUT_E_STATE); /* twice */
    expect_add_fails(m, &d, SPLUT_E_STATE);                /* add after build */
    assert_int_equal(splut_model_num_outputs(m), 5);
    assert_true(splut_model_num_params(m) > 0);
    splut_layer_desc got = SPLUT_LAYER_DESC_INIT;
    assert_int_equal(splut_model_layer(m, 0, &got), SPLUT_OK);
    assert_int_equal(got.kind, SPLUT_NEURON_POLY);
    assert_int_equal(got.width, 5);
    assert_int_equal(got.fan_in, 3);
    assert_int_equal(got.degree, 2);
    assert_int_equal(splut_model_layer(m, 1, &got), SPLUT_E_INDEX);
    got.size = 3;
    assert_int_equal(splut_model_layer(m, 0, &got), SPLUT_E_STRUCT_SIZE);
    splut_model_destroy(m);
}

/* MODELS.md §0 (and §6.1 for nid-lite), written out independently. */
typedef struct expected_preset {
    const char *name;
    splut_neuron_kind kind;
    uint32_t n_in, b_in, b_h, b_out;
    uint32_t widths[8]; /* 0-terminated */
    uint32_t fan_in[8];
    uint32_t degree, sub_neurons, hidden;
    int epochs, batch;
    double lr;
} expected_preset;

static const expected_preset EXPECTED[] = {
    /* name, kind, inputs, b_in, b_h, b_out, widths, fan-ins, D, A, N, epochs, batch, lr */
    {"hdr", SPLUT_NEURON_POLY, 784, 2, 2, 2, {256, 100, 100, 100, 100, 10},
     {6, 6, 6, 6, 6, 6}, 4, 0, 0, 500, 128, 4e-3},
    {"hdr-add2", SPLUT_NEURON_POLY_ADD, 784, 2, 2, 2, {256, 100, 100, 100, 100, 10},
     {4, 4, 4, 4, 4, 4}, 3, 2, 0, 500, 128, 4e-3},
    {"jsc-xl", SPLUT_NEURON_POLY, 16, 7, 5, 5, {128, 64, 64, 64, 5}, {2, 3, 3, 3, 3}, 4, 0, 0,
     500, 1024, 1e-2},
    {"jsc-m-lite", SPLUT_NEURON_POLY, 16, 3, 3, 3, {64, 32, 5}, {4, 4, 4}, 6, 0, 0, 1000, 1024,
     1e-3},
    {"jsc-xl-add2", SPLUT_NEURON_POLY_ADD, 16, 7, 5, 5, {128, 64, 64, 64, 5}, {1, 2, 2, 2, 2}, 3,
     2, 0, 500, 1024, 1e-2},
    {"jsc-m-lite-add2", SPLUT_NEURON_POLY_ADD, 16, 3, 3, 3, {64, 32, 5}, {2, 2, 2}, 3, 2, 0,
     1000, 1024, 1e-3},
    {"nid-add2", SPLUT_NEURON_POLY_ADD, 593, 1, 2, 2, {100, 100, 50, 50, 1}, {6, 3, 3, 3, 7}, 1,
     2, 0, 1000, 1024, 2e-2},
    {"nid-lite", SPLUT_NEURON_POLY, 593, 1, 2, 2, {686, 147, 98, 49, 1}, {7, 7, 7, 7, 7}, 2, 0,
     0, 1000, 1024, 1e-1},
    {"jsc-s", SPLUT_NEURON_LINEAR, 16, 2, 2, 2, {64, 32, 32, 32, 5}, {3, 3, 3, 3, 3}, 1, 0, 0,
     1000, 1024, 1e-3},
    {"jsc-m", SPLUT_NEURON_LINEAR, 16, 3, 3, 3, {64, 32, 32, 32, 5}, {4, 4, 4, 4, 4}, 1, 0, 0,
     1000, 1024, 1e-3},
    {"jsc-l", SPLUT_NEURON_LINEAR, 16, 4, 3, 7, {32, 64, 192, 192, 16, 5}, {3, 4, 4, 4, 4, 5}, 1,
     0, 0, 1000, 1024, 1e-3},
    /* NeuraLUT: no degree, hidden width N */
    {"hdr-5l", SPLUT_NEURON_NEURALUT, 784, 2, 2, 2, {256, 100, 100, 100, 10}, {6, 6, 6, 6, 6}, 0,
     0, 16, 500, 128, 3e-3},
    {"jsc-5l", SPLUT_NEURON_NEURALUT, 16, 7, 4, 4, {128, 128, 128, 64, 5}, {2, 3, 3, 3, 3}, 0, 0,
     16, 1000, 1024, 1e-3},
    {"jsc-2l", SPLUT_NEURON_NEURALUT, 16, 4, 4, 4, {32, 5}, {3, 3}, 0, 0, 8, 1000, 1024, 1e-3},
    {"dwn-mnist", SPLUT_NEURON_LUT, 784, 2, 1, 1, {2000}, {6}, 0, 0, 10, 30, 128, 1e-2},
    {"dwn-mnist-2l", SPLUT_NEURON_LUT, 784, 2, 1, 1, {3000, 1000}, {6, 6}, 0, 0, 10, 30, 128,
     1e-2},
    {"dwn-mnist-map", SPLUT_NEURON_LUT, 784, 2, 1, 1, {2000}, {6}, 0, 0, 10, 30, 128, 1e-2},
    {"dwn-mnist-map-2l", SPLUT_NEURON_LUT, 784, 2, 1, 1, {3000, 1000}, {6, 6}, 0, 0, 10, 60, 128,
     1e-2},
    {"dwn-jsc", SPLUT_NEURON_LUT, 16, 4, 1, 1, {1000}, {6}, 0, 0, 5, 30, 256, 1e-2},
};
#define N_EXPECTED (sizeof(EXPECTED) / sizeof(EXPECTED[0]))

static void check_preset(splut_ctx *ctx, const expected_preset *e)
{
    splut_model *m = NULL;
    splut_status st = splut_model_create_preset(ctx, e->name, &m);
    if (st != SPLUT_OK)
        fail_msg("preset %s: %s (%s)", e->name, splut_status_str(st), splut_ctx_last_error(ctx));
    assert_int_equal(splut_model_num_inputs(m), e->n_in);
    assert_int_equal(splut_model_input_bits(m), e->b_in);
    size_t n_layers = 0;
    while (e->widths[n_layers])
        n_layers++;
    assert_int_equal(splut_model_num_layers(m), n_layers);
    assert_int_equal(splut_model_num_outputs(m), e->widths[n_layers - 1]);
    for (size_t l = 0; l < n_layers; l++) {
        splut_layer_desc d = SPLUT_LAYER_DESC_INIT;
        assert_int_equal(splut_model_layer(m, l, &d), SPLUT_OK);
        assert_int_equal(d.kind, e->kind);
        assert_int_equal(d.width, e->widths[l]);
        assert_int_equal(d.fan_in, e->fan_in[l]);
        assert_int_equal(d.out_bits, l + 1 == n_layers ? e->b_out : e->b_h);
        assert_int_equal(d.degree, e->degree);
        if (e->kind == SPLUT_NEURON_POLY_ADD)
            assert_int_equal(d.sub_neurons, e->sub_neurons);
        /* LUT presets: the GroupSum classes sit on the last layer only */
        int head_only = e->kind == SPLUT_NEURON_LUT && l + 1 < n_layers;
        assert_int_equal(d.hidden, head_only ? 0 : e->hidden);
    }
    int64_t v = 0;
    double lr = 0;
    assert_int_equal(splut_model_get_int(m, SPLUT_P_RECIPE_EPOCHS, &v), SPLUT_OK);
    assert_int_equal(v, e->epochs);
    assert_int_equal(splut_model_get_int(m, SPLUT_P_RECIPE_BATCH, &v), SPLUT_OK);
    assert_int_equal(v, e->batch);
    assert_int_equal(splut_model_get_double(m, SPLUT_P_RECIPE_LR, &lr), SPLUT_OK);
    assert_true(lr > e->lr * 0.999 && lr < e->lr * 1.001);
    assert_true(splut_model_num_params(m) > 0);
    splut_model_destroy(m);
}

static void test_presets_shapes(void **state)
{
    splut_ctx *ctx = *state;
    for (size_t i = 0; i < N_EXPECTED; i++)
        check_preset(ctx, &EXPECTED[i]);
    /* every preset the library lists is one of the expected ones */
    size_t n = 0;
    for (const char *name; (name = splut_preset_name(n)) != NULL; n++) {
        int known = 0;
        for (size_t i = 0; i < N_EXPECTED; i++)
            known |= strcmp(name, EXPECTED[i].name) == 0;
        if (!known)
            fail_msg("preset '%s' is not described in MODELS.md §0", name);
    }
    assert_true(n >= N_EXPECTED);
    assert_null(splut_preset_name((size_t)-1));
    splut_model *m = (splut_model *)ctx;
    assert_int_equal(splut_model_create_preset(ctx, "HDR", &m), SPLUT_E_UNKNOWN_PRESET);
    assert_null(m);
    assert_int_equal(splut_model_create_preset(ctx, NULL, &m), SPLUT_E_NULL);
}

static int is_valid_list(const uint32_t *idx, size_t n, uint32_t in_width)
{
    for (size_t i = 0; i < n; i++) {
        if (idx[i] >= in_width)
            return 0;
        if (i && idx[i] <= idx[i - 1])
            return 0;
    }
    return 1;
}

static void test_random_connectivity_valid(void **state)
{
    splut_ctx *ctx = *state;
    static const char *const names[] = {"jsc-xl-add2", "jsc-m", "nid-add2"};
    for (size_t p = 0; p < 3; p++) {
        splut_model *m = NULL;
        assert_int_equal(splut_model_create_preset(ctx, names[p], &m), SPLUT_OK);
        uint32_t in_width = splut_model_num_inputs(m);
        uint32_t idx[64];
        for (size_t l = 0; l < splut_model_num_layers(m); l++) {
            splut_layer_desc d = SPLUT_LAYER_DESC_INIT;
            assert_int_equal(splut_model_layer(m, l, &d), SPLUT_OK);
            size_t k = (size_t)d.fan_in * (d.kind == SPLUT_NEURON_POLY_ADD ? d.sub_neurons : 1);
            /* every input index used at least once across a wide layer is
             * evidence the draw is not stuck on a prefix */
            uint32_t max_seen = 0;
            for (uint32_t n = 0; n < d.width; n++) {
                size_t got = 0;
                assert_int_equal(splut_model_get_inputs(m, l, n, idx, 64, &got), SPLUT_OK);
                assert_int_equal(got, k);
                assert_true(is_valid_list(idx, got, in_width));
                if (idx[got - 1] > max_seen)
                    max_seen = idx[got - 1];
            }
            if (d.width * k >= 4 * in_width)
                assert_true(max_seen >= in_width / 2);
            in_width = d.width;
        }
        splut_model_destroy(m);
    }
}

static void test_set_inputs(void **state)
{
    splut_ctx *ctx = *state;
    splut_model *m = NULL;
    assert_int_equal(build_mixed_model(ctx, &m), SPLUT_OK);
    /* layer 0: POLY_ADD, A·F = 4 of 12 inputs */
    uint32_t old[4], now[4];
    size_t n = 0;
    assert_int_equal(splut_model_get_inputs(m, 0, 3, old, 4, &n), SPLUT_OK);
    assert_int_equal(n, 4);
    const uint32_t unsorted[4] = {1, 5, 3, 7};
    const uint32_t dup[4] = {1, 3, 3, 7};
    const uint32_t range[4] = {1, 3, 5, 12};
    const uint32_t ok[5] = {0, 2, 9, 11, 11};
    assert_int_equal(splut_model_set_inputs(m, 0, 3, unsorted, 4), SPLUT_E_CONNECTIVITY);
    assert_int_equal(splut_model_set_inputs(m, 0, 3, dup, 4), SPLUT_E_CONNECTIVITY);
    assert_int_equal(splut_model_set_inputs(m, 0, 3, range, 4), SPLUT_E_CONNECTIVITY);
    assert_int_equal(splut_model_set_inputs(m, 0, 3, ok, 3), SPLUT_E_CONNECTIVITY);
    assert_int_equal(splut_model_set_inputs(m, 0, 3, ok, 5), SPLUT_E_CONNECTIVITY);
    assert_int_equal(splut_model_set_inputs(m, 0, 3, ok, 0), SPLUT_E_CONNECTIVITY);
    assert_int_equal(splut_model_set_inputs(m, 0, 3, NULL, 4), SPLUT_E_NULL);
    assert_int_equal(splut_model_set_inputs(m, 3, 0, ok, 4), SPLUT_E_INDEX);
    assert_int_equal(splut_model_set_inputs(m, 0, 10, ok, 4), SPLUT_E_INDEX);
    assert_int_equal(splut_model_get_inputs(m, 0, 3, now, 4, &n), SPLUT_OK);
    assert_memory_equal(old, now, sizeof(old)); /* unchanged by every failure */
    assert_int_equal(splut_model_set_inputs(m, 0, 3, ok, 4), SPLUT_OK);
    assert_int_equal(splut_model_get_inputs(m, 0, 3, now, 4, &n), SPLUT_OK);
    assert_memory_equal(ok, now, sizeof(now));
    /* neighbours untouched */
    uint32_t nb[4];
    assert_int_equal(splut_model_get_inputs(m, 0, 4, nb, 4, &n), SPLUT_OK);
    assert_true(is_valid_list(nb, 4, 12));
    /* layer 2 (LINEAR, F = 3 of 8) */
    const uint32_t l2[3] = {0, 4, 7};
    assert_int_equal(splut_model_set_inputs(m, 2, 0, l2, 3), SPLUT_OK);
    const uint32_t l2bad[3] = {0, 4, 8};
    assert_int_equal(splut_model_set_inputs(m, 2, 0, l2bad, 3), SPLUT_E_CONNECTIVITY);
    splut_model_destroy(m);
}

static void test_get_inputs_buffer(void **state)
{
    splut_ctx *ctx = *state;
    splut_model *m = NULL;
    assert_int_equal(build_mixed_model(ctx, &m), SPLUT_OK);
    size_t n = 0;
    assert_int_equal(splut_model_get_inputs(m, 1, 0, NULL, 0, &n), SPLUT_OK); /* size query */
    assert_int_equal(n, 3);
    uint32_t small[2] = {0xdead, 0xbeef};
    n = 0;
    assert_int_equal(splut_model_get_inputs(m, 1, 0, small, 2, &n), SPLUT_E_BUFFER_TOO_SMALL);
    assert_int_equal(n, 3); /* needed size reported */
    assert_int_equal(small[0], 0xdead);
    assert_int_equal(splut_model_get_inputs(m, 1, 0, small, 2, NULL), SPLUT_E_NULL);
    assert_int_equal(splut_model_get_inputs(m, 1, 8, NULL, 0, &n), SPLUT_E_INDEX);
    assert_int_equal(splut_model_get_inputs(m, 7, 0, NULL, 0, &n), SPLUT_E_INDEX);
    splut_model_destroy(m);
}

/* Dump connectivity and parameters of a model into malloc'd buffers. */
static void snapshot(splut_model *m, uint32_t **conn, size_t *n_conn, float **params)
{
    size_t total = 0;
    for (size_t l = 0; l < splut_model_num_layers(m); l++) {
        splut_layer_desc d = SPLUT_LAYER_DESC_INIT;
        assert_int_equal(splut_model_layer(m, l, &d), SPLUT_OK);
        size_t k = 0;
        assert_int_equal(splut_model_get_inputs(m, l, 0, NULL, 0, &k), SPLUT_OK);
        total += (size_t)d.width * k;
    }
    *conn = malloc(total * sizeof(uint32_t));
    assert_non_null(*conn);
    size_t at = 0;
    for (size_t l = 0; l < splut_model_num_layers(m); l++) {
        splut_layer_desc d = SPLUT_LAYER_DESC_INIT;
        assert_int_equal(splut_model_layer(m, l, &d), SPLUT_OK);
        for (uint32_t n = 0; n < d.width; n++) {
            size_t k = 0;
            assert_int_equal(splut_model_get_inputs(m, l, n, *conn + at, total - at, &k),
                             SPLUT_OK);
            at += k;
        }
    }
    *n_conn = total;
    *params = malloc(splut_model_num_params(m) * sizeof(float));
    assert_non_null(*params);
    assert_int_equal(splut_model_params(m, *params, 1), SPLUT_OK);
}

static void test_seed_reproducible(void **state)
{
    (void)state;
    splut_model *m[3];
    splut_ctx *ctx[3];
    const int64_t seeds[3] = {42, 42, 43};
    for (int i = 0; i < 3; i++) {
        assert_int_equal(splut_ctx_create(NULL, &ctx[i]), SPLUT_OK);
        assert_int_equal(splut_ctx_set_int(ctx[i], SPLUT_P_SEED, seeds[i]), SPLUT_OK);
        assert_int_equal(splut_ctx_set_int(ctx[i], SPLUT_P_THREADS, i + 1), SPLUT_OK);
        assert_int_equal(splut_model_create_preset(ctx[i], "jsc-m-lite-add2", &m[i]), SPLUT_OK);
    }
    uint32_t *c[3];
    float *p[3];
    size_t nc[3];
    for (int i = 0; i < 3; i++)
        snapshot(m[i], &c[i], &nc[i], &p[i]);
    size_t np = splut_model_num_params(m[0]);
    assert_int_equal(nc[0], nc[1]);
    assert_memory_equal(c[0], c[1], nc[0] * sizeof(uint32_t));
    assert_memory_equal(p[0], p[1], np * sizeof(float));
    assert_memory_not_equal(c[0], c[2], nc[0] * sizeof(uint32_t));
    assert_memory_not_equal(p[0], p[2], np * sizeof(float));
    /* randomize_connectivity: same seed → same lists, whatever the model's history */
    assert_int_equal(splut_model_randomize_connectivity(m[0], 7), SPLUT_OK);
    assert_int_equal(splut_model_randomize_connectivity(m[2], 7), SPLUT_OK);
    uint32_t *c0, *c2;
    float *p0, *p2;
    size_t n0, n2;
    snapshot(m[0], &c0, &n0, &p0);
    snapshot(m[2], &c2, &n2, &p2);
    assert_memory_equal(c0, c2, n0 * sizeof(uint32_t));
    assert_memory_not_equal(c0, c[0], n0 * sizeof(uint32_t));
    free(c0);
    free(c2);
    free(p0);
    free(p2);
    for (int i = 0; i < 3; i++) {
        free(c[i]);
        free(p[i]);
        splut_model_destroy(m[i]);
        splut_ctx_unref(ctx[i]);
    }
}

static void test_clone(void **state)
{
    splut_ctx *ctx = *state;
    splut_model *m = NULL, *c = NULL;
    assert_int_equal(build_mixed_model(ctx, &m), SPLUT_OK);
    assert_int_equal(randomize_params(m, 99), SPLUT_OK);
    const uint32_t l2[3] = {1, 2, 6};
    assert_int_equal(splut_model_set_inputs(m, 2, 1, l2, 3), SPLUT_OK);
    assert_int_equal(splut_model_clone(m, &c), SPLUT_OK);
    uint32_t *cm, *cc;
    float *pm, *pc;
    size_t nm, ncl;
    snapshot(m, &cm, &nm, &pm);
    snapshot(c, &cc, &ncl, &pc);
    assert_int_equal(nm, ncl);
    assert_memory_equal(cm, cc, nm * sizeof(uint32_t));
    assert_memory_equal(pm, pc, splut_model_num_params(m) * sizeof(float));
    free(cm);
    free(cc);
    free(pm);
    free(pc);
    splut_model_destroy(m);
    /* the clone outlives its original */
    uint16_t in[12] = {0}, out[4];
    assert_int_equal(splut_model_forward_codes(c, in, 1, out), SPLUT_OK);
    splut_model_destroy(c);
}

/* ------------------------------------------------- references (issue 26) */

/* An allocator that overwrites every block with 0xDB when it is freed, so a
 * use after free reads garbage (or crashes) even without a sanitizer. */
typedef struct poison_alloc {
    long live;
} poison_alloc;

static void *poison_alloc_fn(void *user, size_t size, size_t align)
{
    (void)align;
    poison_alloc *pa = user;
    size_t *p = NULL; /* 64-byte header keeps the block 64-byte aligned */
    if (posix_memalign((void **)&p, 64, 64 + (size ? size : 1)))
        return NULL;
    p[0] = size;
    pa->live++;
    return (char *)p + 64;
}

static void poison_free_fn(void *user, void *q)
{
    poison_alloc *pa = user;
    if (!q)
        return;
    size_t *p = (size_t *)((char *)q - 64);
    memset(q, 0xDB, p[0]);
    pa->live--;
    free(p);
}

/* A context whose freed memory is poisoned, with a model built in it. */
static splut_ctx *poison_ctx(poison_alloc *pa, splut_allocator *a, splut_model **m)
{
    *pa = (poison_alloc){0};
    *a = (splut_allocator){poison_alloc_fn, poison_free_fn, pa};
    splut_ctx *ctx = NULL;
    assert_int_equal(splut_ctx_create(a, &ctx), SPLUT_OK);
    assert_int_equal(splut_ctx_set_int(ctx, SPLUT_P_THREADS, 1), SPLUT_OK);
    assert_int_equal(build_mixed_model(ctx, m), SPLUT_OK);
    return ctx;
}

/* Two small batches of a 12-input problem for training steps. */
static void toy_batch(float *x, int32_t *y, size_t n, uint32_t classes)
{
    uint64_t s = 7;
    for (size_t i = 0; i < n; i++) {
        for (int f = 0; f < 12; f++)
            x[i * 12 + f] = test_uniform(&s, 1.0f);
        y[i] = (int32_t)(test_rand(&s) % classes);
    }
}

static void test_model_refcount(void **state)
{
    (void)state;
    poison_alloc pa;
    splut_allocator a;
    splut_model *m = NULL;
    splut_ctx *ctx = poison_ctx(&pa, &a, &m);
    long with_model = pa.live;
    assert_null(splut_model_ref(NULL));
    assert_ptr_equal(splut_model_ref(m), m);
    splut_model_destroy(m); /* the second reference keeps it */
    assert_int_equal(pa.live, with_model);
    assert_int_equal(splut_model_num_inputs(m), 12);
    splut_model_destroy(m); /* the last one frees it */
    assert_int_equal(pa.live, 1);
    splut_ctx_unref(ctx);
    assert_int_equal(pa.live, 0);
}

/* splut_model_destroy(m); splut_trainer_destroy(t); was a use after free: the
 * trainer now holds its own reference, so any order is valid. */
static void test_trainer_keeps_model(void **state)
{
    (void)state;
    poison_alloc pa;
    splut_allocator a;
    splut_model *m = NULL;
    splut_ctx *ctx = poison_ctx(&pa, &a, &m);
    splut_trainer *t = NULL;
    assert_int_equal(splut_trainer_create(m, &t), SPLUT_OK);
    splut_model_destroy(m); /* the caller's reference only */
    const splut_model *live = splut_trainer_model_in_training(t);
    assert_ptr_equal(live, m);
    assert_int_equal(splut_model_num_inputs(live), 12);
    assert_int_equal(splut_model_num_outputs(live), 4);
    float x[16 * 12];
    int32_t y[16];
    toy_batch(x, y, 16, 4);
    double loss = 0;
    assert_int_equal(splut_trainer_step(t, x, y, 16, &loss), SPLUT_OK);
    assert_true(loss > 0 && loss < 100);
    splut_trainer_destroy(t); /* frees the model with the last reference */
    assert_int_equal(pa.live, 1);
    splut_ctx_unref(ctx);
    assert_int_equal(pa.live, 0);

    /* the usual order still works, and a failed create leaves no reference */
    ctx = poison_ctx(&pa, &a, &m);
    assert_int_equal(splut_trainer_create(m, NULL), SPLUT_E_NULL);
    assert_int_equal(splut_trainer_create(m, &t), SPLUT_OK);
    splut_trainer_destroy(t);
    assert_int_equal(splut_model_num_inputs(m), 12);
    splut_model_destroy(m);
    splut_ctx_unref(ctx);
    assert_int_equal(pa.live, 0);
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, setup_ctx, teardown_ctx)
    const struct CMUnitTest tests[] = {
        T(test_create_args),
        T(test_layer_errors),
        T(test_neuralut_layer),
        T(test_table_limits),
        T(test_build_state),
        T(test_presets_shapes),
        T(test_random_connectivity_valid),
        T(test_set_inputs),
        T(test_get_inputs_buffer),
        cmocka_unit_test(test_seed_reproducible),
        T(test_clone),
        cmocka_unit_test(test_model_refcount),
        cmocka_unit_test(test_trainer_keeps_model),
    };
#undef T
    return cmocka_run_group_tests_name("core-model", tests, NULL, NULL);
}
