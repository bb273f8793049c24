/*
 * splut_model_create_arch: the architecture-string grammar, its defaults,
 * and the defects of the parser it replaces (issue 26): a trailing ':' read a
 * byte past the string, "784:2xyz" was accepted, a duplicated field silently
 * took the last value.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include "core-test.h"

/* The spec in a heap block of exactly its size, so that ASan and valgrind
 * see any read past its terminating NUL. */
static splut_status create_exact(splut_ctx *ctx, const char *spec, splut_model **m)
{
    size_t n = strlen(spec) + 1;
    char *copy = malloc(n);
    assert_non_null(copy);
    memcpy(copy, spec, n);
    splut_status st = splut_model_create_arch(ctx, copy, m);
    free(copy);
    return st;
}

static void expect_layer(const splut_model *m, size_t l, int32_t kind, uint32_t width,
                         uint32_t fan_in, uint32_t bits)
{
    splut_layer_desc d = SPLUT_LAYER_DESC_INIT;
    assert_int_equal(splut_model_layer(m, l, &d), SPLUT_OK);
    assert_int_equal(d.kind, kind);
    assert_int_equal(d.width, width);
    assert_int_equal(d.fan_in, fan_in);
    assert_int_equal(d.out_bits, bits);
}

static void test_valid_specs_build(void **state)
{
    splut_ctx *ctx = *state;
    splut_model *m = NULL;
    assert_int_equal(create_exact(ctx, "16:2 poly:8:F3:b2:D2 add:4:F2:b2:A3 linear:2:F2:b3", &m),
                     SPLUT_OK);
    assert_int_equal(splut_model_num_inputs(m), 16);
    assert_int_equal(splut_model_input_bits(m), 2);
    assert_int_equal(splut_model_num_layers(m), 3);
    expect_layer(m, 0, SPLUT_NEURON_POLY, 8, 3, 2);
    expect_layer(m, 1, SPLUT_NEURON_POLY_ADD, 4, 2, 2);
    expect_layer(m, 2, SPLUT_NEURON_LINEAR, 2, 2, 3);
    assert_true(splut_model_num_params(m) > 0); /* built */
    int64_t mode = -1;
    assert_int_equal(splut_model_get_int(m, SPLUT_P_INPUT_MODE, &mode), SPLUT_OK);
    assert_int_equal(mode, SPLUT_INPUT_BN_HARDTANH);
    splut_model_destroy(m);

    /* comments, line breaks, relu input, field order free, poly-add alias */
    const char *file = "# a two-layer model\n"
                       "8:3:relu   # unsigned inputs\n"
                       "\tpoly-add:4:b2:F2\r\n"
                       "linear:3:b2:F4 # last\n";
    assert_int_equal(create_exact(ctx, file, &m), SPLUT_OK);
    assert_int_equal(splut_model_get_int(m, SPLUT_P_INPUT_MODE, &mode), SPLUT_OK);
    assert_int_equal(mode, SPLUT_INPUT_RELU);
    expect_layer(m, 0, SPLUT_NEURON_POLY_ADD, 4, 2, 2);
    expect_layer(m, 1, SPLUT_NEURON_LINEAR, 3, 4, 2);
    splut_model_destroy(m);
}

/* Same seed, same string: the same model as the layer-by-layer API. */
static void test_same_model_as_the_layer_api(void **state)
{
    splut_ctx *ctx = *state;
    splut_model *a = NULL, *b = NULL;
    assert_int_equal(create_exact(ctx, "6:2 poly:5:F3:b2:D2 linear:2:F2:b2", &a), SPLUT_OK);
    assert_int_equal(splut_model_create(ctx, 6, 2, &b), SPLUT_OK);
    splut_layer_desc d = SPLUT_LAYER_DESC_INIT;
    d.kind = SPLUT_NEURON_POLY;
    d.width = 5;
    d.fan_in = 3;
    d.out_bits = 2;
    d.degree = 2;
    assert_int_equal(splut_model_add_layer(b, &d), SPLUT_OK);
    d.kind = SPLUT_NEURON_LINEAR;
    d.width = 2;
    d.fan_in = 2;
    d.degree = 1;
    assert_int_equal(splut_model_add_layer(b, &d), SPLUT_OK);
    assert_int_equal(splut_model_build(b), SPLUT_OK);
    size_t na = 0, nb = 0;
    assert_int_equal(splut_model_serialize(a, NULL, 0, &na), SPLUT_OK);
    assert_int_equal(splut_model_serialize(b, NULL, 0, &nb), SPLUT_OK);
    assert_int_equal(na, nb);
    uint8_t *ba = malloc(na), *bb = malloc(nb);
    assert_int_equal(splut_model_serialize(a, ba, na, &na), SPLUT_OK);
    assert_int_equal(splut_model_serialize(b, bb, nb, &nb), SPLUT_OK);
    assert_memory_equal(ba, bb, na);
    free(ba);
    free(bb);
    splut_model_destroy(a);
    splut_model_destroy(b);
}

static void expect_invalid(splut_ctx *ctx, const char *spec, splut_status want)
{
    splut_model *m = (splut_model *)&m; /* must come back NULL */
    splut_status st = create_exact(ctx, spec, &m);
    if (st != want)
        fail_msg("'%s' gave %d (%s), expected %d", spec, (int)st, splut_ctx_last_error(ctx),
                 (int)want);
    assert_null(m);
}

/* Issue 26: each of these was accepted or read out of bounds. */
static void test_issue_26_defects(void **state)
{
    splut_ctx *ctx = *state;
    expect_invalid(ctx, "784:2 poly:10:", SPLUT_E_INVALID);     /* read past the NUL */
    expect_invalid(ctx, "784:2xyz poly:10:F6:b2", SPLUT_E_INVALID); /* trailing junk */
    expect_invalid(ctx, "8:2 poly:4:F2:b2:F3", SPLUT_E_INVALID); /* F twice */
    assert_non_null(strstr(splut_ctx_last_error(ctx), "twice"));
    expect_invalid(ctx, "8:2 poly:4:F2:b2:b2", SPLUT_E_INVALID); /* even with equal values */
}

static void test_malformed_specs(void **state)
{
    splut_ctx *ctx = *state;
    const char *bad[] = {
        "", "   # only a comment\n", "8:2", "8:2 ", "8", "8:", ":2 poly:2:F2:b2",
        "0:2 linear:2:F2:b2", "8:0 linear:2:F2:b2", "8:9 linear:2:F2:b2", "8:2:RELU linear:2:F2:b2",
        "8:2:relu: linear:2:F2:b2", "8::2 linear:2:F2:b2", "+8:2 linear:2:F2:b2",
        "8:2 linear", "8:2 linear:", "8:2 linear:0:F2:b2", "8:2 linear:-2:F2:b2",
        "8:2 linear:2", "8:2 linear:2:F2", "8:2 linear:2:b2", "8:2 linear:2:F:b2",
        "8:2 linear:2:F+2:b2", "8:2 linear:2:F2:b2:", "8:2 linear:2::F2:b2",
        "8:2 linear:2:F2:b2:X1", "8:2 linear:2:f2:b2", "8:2 lin:2:F2:b2",
        "8:2 linear:2:F2:b2x", "8:2 linear:99999999999:F2:b2", "8:2 linear:2:F2:b9999999",
        "8:2 linear:2:F2:b2 8:2",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        expect_invalid(ctx, bad[i], SPLUT_E_INVALID);
    /* syntax fine, the model refuses: its own status comes through */
    expect_invalid(ctx, "4:2 linear:2:F5:b2", SPLUT_E_FAN_IN);
    expect_invalid(ctx, "8:2 linear:2:F2:b9", SPLUT_E_OUT_OF_RANGE);
    splut_model *m = NULL;
    assert_int_equal(splut_model_create_arch(ctx, NULL, &m), SPLUT_E_NULL);
    assert_int_equal(splut_model_create_arch(NULL, "8:2 linear:2:F2:b2", &m), SPLUT_E_NULL);
    assert_int_equal(splut_model_create_arch(ctx, "8:2 linear:2:F2:b2", NULL), SPLUT_E_NULL);
}

/* Every failure releases what it allocated, out of memory included. */
static void test_no_leak_on_any_failure(void **state)
{
    (void)state;
    counting_alloc ca;
    splut_allocator a = counting_allocator(&ca);
    splut_ctx *ctx = NULL;
    assert_int_equal(splut_ctx_create(&a, &ctx), SPLUT_OK);
    long base = ca.live;
    expect_invalid(ctx, "8:2 poly:4:F2:b2 linear:2:F2:b2:D1:D1", SPLUT_E_INVALID);
    assert_int_equal(ca.live, base);
    for (long k = 0;; k++) {
        counting_fail_at(&ca, k);
        splut_model *m = NULL;
        splut_status st = splut_model_create_arch(ctx, "8:2 poly:4:F2:b2:D2 linear:2:F2:b2", &m);
        counting_disarm(&ca);
        if (st == SPLUT_OK) {
            splut_model_destroy(m);
            break;
        }
        assert_int_equal(st, SPLUT_E_NOMEM);
        assert_null(m);
        assert_int_equal(ca.live, base);
    }
    splut_ctx_unref(ctx);
    assert_int_equal(ca.live, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_valid_specs_build),
        cmocka_unit_test(test_same_model_as_the_layer_api),
        cmocka_unit_test(test_issue_26_defects),
        cmocka_unit_test(test_malformed_specs),
        cmocka_unit_test(test_no_leak_on_any_failure),
    };
    return cmocka_run_group_tests_name("arch", tests, setup_ctx, teardown_ctx);
}
