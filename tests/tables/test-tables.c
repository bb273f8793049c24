/*
 * Truth tables: sizes against MODELS.md §4.4, table limit, out-of-memory,
 * determinism, queries, iterator, LUT6 cost. Bit-exactness: test-bitexact.c.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include "tables-test.h"

/* ------------------------------------------------------------ entry counts */

/* Totals from MODELS.md §4.4 (entries, bits), written down from the spec. */
typedef struct spec_total {
    const char *preset;
    uint64_t entries, bits;
} spec_total;

static const spec_total SPEC[] = {
    {"jsc-m-lite", 413696, 1241088},    {"jsc-xl", 8552448, 42762240},
    {"hdr", 2727936, 5455872},          {"nid-lite", 4921088, 9842176},
    {"jsc-m-lite-add2", 38784, 129280}, {"jsc-xl-add2", 1767424, 9273344},
    {"hdr-add2", 383616, 1108224},      {"nid-add2", 90432, 252032},
    {"jsc-2l", 151552, 606208},         {"jsc-5l", 3428352, 13713408},
    {"hdr-5l", 2318336, 4636672},
};

static const spec_total *spec_for(const char *name)
{
    for (size_t i = 0; i < sizeof(SPEC) / sizeof(SPEC[0]); i++)
        if (strcmp(SPEC[i].preset, name) == 0)
            return &SPEC[i];
    return NULL;
}

/* Presets outside §4.4 (LogicNets): out·2^(F·b_in) entries per layer, from
 * the public layer descriptions (no adder tables). */
static void expected_from_desc(const splut_model *m, uint64_t *entries, uint64_t *bits)
{
    uint32_t in_bits = splut_model_input_bits(m);
    *entries = *bits = 0;
    for (size_t l = 0; l < splut_model_num_layers(m); l++) {
        splut_layer_desc d = SPLUT_LAYER_DESC_INIT;
        assert_int_equal(splut_model_layer(m, l, &d), SPLUT_OK);
        assert_int_not_equal(d.kind, SPLUT_NEURON_POLY_ADD);
        if (d.kind == SPLUT_NEURON_LUT)
            in_bits = 1; /* binary inputs (thermometer bits for layer 0) */
        uint64_t e = (uint64_t)d.width << (d.fan_in * in_bits);
        *entries += e;
        *bits += e * d.out_bits;
        in_bits = d.out_bits;
    }
}

static void test_entry_counts(void **state)
{
    (void)state;
    splut_ctx *ctx;
    assert_int_equal(splut_ctx_create(NULL, &ctx), SPLUT_OK);
    assert_int_equal(splut_ctx_set_int(ctx, SPLUT_P_THREADS, 2), SPLUT_OK);
    size_t checked_spec = 0;
    for (size_t i = 0; splut_preset_name(i); i++) {
        const char *name = splut_preset_name(i);
        splut_model *m;
        assert_int_equal(splut_model_create_preset(ctx, name, &m), SPLUT_OK);
        splut_tables *t;
        assert_int_equal(splut_tables_create(m, &t), SPLUT_OK);
        uint64_t entries, bits, want_e, want_b;
        assert_int_equal(splut_tables_totals(t, &entries, &bits), SPLUT_OK);
        const spec_total *sp = spec_for(name);
        if (sp) {
            want_e = sp->entries;
            want_b = sp->bits;
            checked_spec++;
        } else {
            expected_from_desc(m, &want_e, &want_b);
        }
        if (entries != want_e || bits != want_b)
            fail_msg("%s: %llu entries / %llu bits, expected %llu / %llu", name,
                     (unsigned long long)entries, (unsigned long long)bits,
                     (unsigned long long)want_e, (unsigned long long)want_b);
        /* the per-table shapes add up to the same total */
        uint64_t sum = 0;
        for (size_t l = 0; l < splut_tables_num_layers(t); l++) {
            uint32_t neurons, subs, width;
            assert_int_equal(splut_tables_layer(t, l, &neurons, &subs, &width), SPLUT_OK);
            for (uint32_t n = 0; n < neurons; n++) {
                uint32_t ntab = subs ? subs : 1;
                for (uint32_t k = 0; k <= ntab; k++) {
                    uint32_t tab = k < ntab ? k : SPLUT_TABLE_ADDER;
                    if (k == ntab && !subs)
                        break;
                    splut_table_info info = SPLUT_TABLE_INFO_INIT;
                    assert_int_equal(splut_tables_info(t, l, n, tab, &info), SPLUT_OK);
                    assert_int_equal(info.entries, 1ull << (info.in_fields * info.in_bits));
                    sum += info.entries;
                }
            }
        }
        assert_int_equal(sum, entries);
        splut_tables_destroy(t);
        splut_model_destroy(m);
    }
    /* every §4.4 configuration the library offers was checked against the spec */
    size_t offered = 0;
    for (size_t k = 0; k < sizeof(SPEC) / sizeof(SPEC[0]); k++)
        for (size_t i = 0; splut_preset_name(i); i++)
            offered += strcmp(splut_preset_name(i), SPEC[k].preset) == 0;
    assert_int_equal(checked_spec, offered);
    assert_true(offered >= 8);
    splut_ctx_unref(ctx);
}

/* --------------------------------------------------------- table limit */

static void test_limit_refused_before_alloc(void **state)
{
    (void)state;
    counting_alloc c;
    splut_ctx *ctx = ca_ctx(&c);
    splut_model *m;
    assert_int_equal(splut_model_create_preset(ctx, "jsc-xl", &m), SPLUT_OK);
    /* jsc-xl hidden tables have 2^15 entries, adder-less; lower the limit */
    assert_int_equal(splut_ctx_set_int(ctx, SPLUT_P_MAX_TABLE_LOG2, 14), SPLUT_OK);
    size_t calls = c.calls;
    splut_tables *t = (splut_tables *)&c; /* must be reset to NULL */
    assert_int_equal(splut_tables_create(m, &t), SPLUT_E_TABLE_TOO_LARGE);
    assert_null(t);
    assert_int_equal(c.calls, calls); /* not a single allocation attempt */
    assert_non_null(strstr(splut_ctx_last_error(ctx), "2^15"));
    splut_model_destroy(m);

    /* the adder table limit of PolyLUT-Add: hdr-add2 adder has 2^6 entries */
    assert_int_equal(splut_ctx_set_int(ctx, SPLUT_P_MAX_TABLE_LOG2, 20), SPLUT_OK);
    assert_int_equal(splut_model_create_preset(ctx, "jsc-m-lite-add2", &m), SPLUT_OK);
    assert_int_equal(splut_ctx_set_int(ctx, SPLUT_P_MAX_TABLE_LOG2, 7), SPLUT_OK);
    calls = c.calls;
    assert_int_equal(splut_tables_create(m, &t), SPLUT_E_TABLE_TOO_LARGE);
    assert_int_equal(c.calls, calls);
    assert_non_null(strstr(splut_ctx_last_error(ctx), "adder"));
    /* at the limit exactly (2^8 adder) it works, and allocates no single block
     * larger than the tables of the largest layer plus scratch */
    assert_int_equal(splut_ctx_set_int(ctx, SPLUT_P_MAX_TABLE_LOG2, 8), SPLUT_OK);
    c.max_size = 64u << 10;
    assert_int_equal(splut_tables_create(m, &t), SPLUT_OK);
    assert_int_equal(c.over_cap, 0);
    splut_tables_destroy(t);
    splut_model_destroy(m);
    assert_int_equal(c.live, 0 + 1); /* only the context itself */
    splut_ctx_unref(ctx);
    assert_int_equal(c.live, 0);
}

/* ------------------------------------------------------------ out of memory */

static void nomem_sweep(const char *preset, unsigned threads)
{
    counting_alloc c;
    splut_ctx *ctx = ca_ctx(&c);
    assert_int_equal(splut_ctx_set_int(ctx, SPLUT_P_THREADS, threads), SPLUT_OK);
    splut_model *m;
    assert_int_equal(splut_model_create_preset(ctx, preset, &m), SPLUT_OK);
    size_t base_live = c.live;
    splut_tables *ref;
    assert_int_equal(splut_tables_create(m, &ref), SPLUT_OK);
    size_t with_ref = c.live, failures = 0;
    for (size_t k = 1;; k++) {
        counting_fail_at(&c, k - 1); /* attempt k, counting from 1 */
        splut_tables *t = NULL;
        splut_status st = splut_tables_create(m, &t);
        counting_disarm(&c);
        if (st == SPLUT_OK) {
            splut_tables_destroy(t);
            break;
        }
        assert_int_equal(st, SPLUT_E_NOMEM);
        assert_null(t);
        assert_int_equal(c.live, with_ref);
        failures++;
        assert_true(k < 10000);
    }
    assert_true(failures > 0);
    splut_tables_destroy(ref);
    assert_int_equal(c.live, base_live);
    /* failing forward allocation leaves nothing behind either */
    assert_int_equal(splut_tables_create(m, &ref), SPLUT_OK);
    uint32_t ni = splut_model_num_inputs(m), no = splut_model_num_outputs(m);
    uint16_t *in = calloc(300 * ni, sizeof(uint16_t)), *out = calloc(300 * no, 2);
    size_t live = c.live;
    for (size_t k = 1;; k++) {
        counting_fail_at(&c, k - 1); /* attempt k, counting from 1 */
        splut_status st = splut_tables_forward(ref, in, 300, out);
        counting_disarm(&c);
        assert_int_equal(c.live, live);
        if (st == SPLUT_OK)
            break;
        assert_int_equal(st, SPLUT_E_NOMEM);
        assert_true(k < 1000);
    }
    free(in);
    free(out);
    splut_tables_destroy(ref);
    splut_model_destroy(m);
    splut_ctx_unref(ctx);
    assert_int_equal(c.live, 0);
}

static void test_nomem(void **state)
{
    (void)state;
    nomem_sweep("jsc-m-lite-add2", 1);
    nomem_sweep("jsc-xl-add2", 3); /* multi-threaded: pool start-up failures too */
    nomem_sweep("jsc-s", 2);
}

/* Every failed creation released everything it had allocated. */
static void test_nomem_no_leak(void **state)
{
    (void)state;
    counting_alloc c;
    splut_ctx *ctx = ca_ctx(&c);
    assert_int_equal(splut_ctx_set_int(ctx, SPLUT_P_THREADS, 2), SPLUT_OK);
    splut_model *m;
    assert_int_equal(splut_model_create_preset(ctx, "jsc-xl-add2", &m), SPLUT_OK);
    size_t base = c.live;
    for (size_t k = 1; k < 200; k++) {
        counting_fail_at(&c, k - 1); /* attempt k, counting from 1 */
        splut_tables *t = NULL;
        splut_status st = splut_tables_create(m, &t);
        counting_disarm(&c);
        if (st == SPLUT_OK) {
            splut_tables_destroy(t);
            break;
        }
        assert_int_equal(st, SPLUT_E_NOMEM);
        assert_int_equal(c.live, base);
    }
    assert_int_equal(c.live, base);
    splut_model_destroy(m);
    splut_ctx_unref(ctx);
}

/* ------------------------------------------------------------ determinism */

static splut_tables *tables_with_threads(const char *preset, int64_t threads)
{
    splut_ctx *ctx;
    assert_int_equal(splut_ctx_create(NULL, &ctx), SPLUT_OK);
    assert_int_equal(splut_ctx_set_int(ctx, SPLUT_P_THREADS, threads), SPLUT_OK);
    splut_model *m;
    assert_int_equal(splut_model_create_preset(ctx, preset, &m), SPLUT_OK);
    perturb_model(m, 99);
    splut_tables *t;
    assert_int_equal(splut_tables_create(m, &t), SPLUT_OK);
    splut_model_destroy(m);
    splut_ctx_unref(ctx); /* the tables keep the context alive */
    return t;
}

static void assert_same_tables(const splut_tables *a, const splut_tables *b)
{
    assert_int_equal(splut_tables_num_layers(a), splut_tables_num_layers(b));
    for (size_t l = 0; l < splut_tables_num_layers(a); l++) {
        uint32_t neurons, subs;
        assert_int_equal(splut_tables_layer(a, l, &neurons, &subs, NULL), SPLUT_OK);
        for (uint32_t n = 0; n < neurons; n++)
            for (uint32_t k = 0; k <= subs; k++) {
                uint32_t tab = subs == 0 ? 0 : k < subs ? k : SPLUT_TABLE_ADDER;
                splut_table_info info = SPLUT_TABLE_INFO_INIT;
                const uint16_t *da, *db;
                assert_int_equal(splut_tables_info(a, l, n, tab, &info), SPLUT_OK);
                assert_int_equal(splut_tables_data(a, l, n, tab, &da), SPLUT_OK);
                assert_int_equal(splut_tables_data(b, l, n, tab, &db), SPLUT_OK);
                assert_memory_equal(da, db, info.entries * sizeof(uint16_t));
            }
    }
}

static void test_determinism(void **state)
{
    (void)state;
    /* big enough that enumeration really uses several threads (small models
     * run on one thread whatever the setting) */
    const char *presets[] = {"hdr", "jsc-xl", "jsc-xl-add2"};
    for (size_t p = 0; p < 3; p++) {
        splut_tables *t1 = tables_with_threads(presets[p], 1);
        splut_tables *t2 = tables_with_threads(presets[p], 2);
        splut_tables *t4 = tables_with_threads(presets[p], 4);
        assert_same_tables(t1, t2);
        assert_same_tables(t1, t4);
        splut_tables_destroy(t1);
        splut_tables_destroy(t2);
        splut_tables_destroy(t4);
    }
}

/* ---------------------------------------------------------- queries, errors */

static void test_queries_and_errors(void **state)
{
    (void)state;
    splut_ctx *ctx;
    assert_int_equal(splut_ctx_create(NULL, &ctx), SPLUT_OK);
    splut_model *m;
    assert_int_equal(splut_model_create_preset(ctx, "jsc-m-lite-add2", &m), SPLUT_OK);
    splut_tables *t;
    assert_int_equal(splut_tables_create(NULL, &t), SPLUT_E_NULL);
    assert_int_equal(splut_tables_create(m, NULL), SPLUT_E_NULL);
    assert_int_equal(splut_tables_create(m, &t), SPLUT_OK);
    uint32_t ni, ib, no, ob;
    assert_int_equal(splut_tables_io(t, &ni, &ib, &no, &ob), SPLUT_OK);
    assert_int_equal(ni, 16);
    assert_int_equal(ib, 3);
    assert_int_equal(no, 5);
    assert_int_equal(ob, 3);
    uint32_t neurons, subs, width;
    assert_int_equal(splut_tables_layer(t, 1, &neurons, &subs, &width), SPLUT_OK);
    assert_int_equal(neurons, 32);
    assert_int_equal(subs, 2);
    assert_int_equal(width, 64);
    assert_int_equal(splut_tables_layer(t, 3, &neurons, &subs, &width), SPLUT_E_INDEX);
    splut_table_info info = SPLUT_TABLE_INFO_INIT;
    assert_int_equal(splut_tables_info(t, 0, 0, 1, &info), SPLUT_OK);
    assert_int_equal(info.in_fields, 2);
    assert_int_equal(info.in_bits, 3);
    assert_int_equal(info.out_bits, 4);
    assert_int_equal(info.entries, 64);
    assert_int_equal(splut_tables_info(t, 0, 0, SPLUT_TABLE_ADDER, &info), SPLUT_OK);
    assert_int_equal(info.in_fields, 2);
    assert_int_equal(info.in_bits, 4);
    assert_int_equal(info.out_bits, 3);
    assert_int_equal(info.entries, 256);
    assert_int_equal(splut_tables_info(t, 0, 0, 2, &info), SPLUT_E_INDEX);
    assert_int_equal(splut_tables_info(t, 0, 64, 0, &info), SPLUT_E_INDEX);
    info.size = 3;
    assert_int_equal(splut_tables_info(t, 0, 0, 0, &info), SPLUT_E_STRUCT_SIZE);
    const uint32_t *idx;
    size_t n;
    assert_int_equal(splut_tables_inputs(t, 2, 4, &idx, &n), SPLUT_OK);
    assert_int_equal(n, 4);
    uint32_t mi[4];
    size_t mn;
    assert_int_equal(splut_model_get_inputs(m, 2, 4, mi, 4, &mn), SPLUT_OK);
    assert_memory_equal(idx, mi, sizeof(mi));
    /* a bad input code is refused and named */
    uint16_t in[16] = {0}, out[5];
    in[7] = 8;
    assert_int_equal(splut_tables_forward(t, in, 1, out), SPLUT_E_OUT_OF_RANGE);
    assert_non_null(strstr(splut_ctx_last_error(ctx), "feature 7"));
    assert_int_equal(splut_tables_forward(t, NULL, 1, out), SPLUT_E_NULL);
    assert_int_equal(splut_tables_forward(t, in, 0, out), SPLUT_OK);
    assert_int_equal(splut_tables_num_layers(NULL), 0);
    splut_tables_destroy(NULL);
    splut_tables_destroy(t);
    splut_model_destroy(m);
    splut_ctx_unref(ctx);
}

/* ---------------------------------------------------------------- iterator */

static void test_iterator(void **state)
{
    (void)state;
    splut_ctx *ctx;
    assert_int_equal(splut_ctx_create(NULL, &ctx), SPLUT_OK);
    splut_model *m;
    assert_int_equal(splut_model_create_preset(ctx, "jsc-m-lite-add2", &m), SPLUT_OK);
    perturb_model(m, 5);
    splut_tables *t;
    assert_int_equal(splut_tables_create(m, &t), SPLUT_OK);
    const uint32_t tabs[] = {0, 1, SPLUT_TABLE_ADDER};
    for (size_t k = 0; k < 3; k++) {
        splut_table_info info = SPLUT_TABLE_INFO_INIT;
        const uint16_t *data;
        assert_int_equal(splut_tables_info(t, 1, 3, tabs[k], &info), SPLUT_OK);
        assert_int_equal(splut_tables_data(t, 1, 3, tabs[k], &data), SPLUT_OK);
        splut_tt_iter *it;
        assert_int_equal(splut_tt_iter_create(t, 1, 3, tabs[k], &it), SPLUT_OK);
        uint16_t codes[8];
        int has;
        uint64_t addr, rows = 0;
        uint16_t outc;
        assert_int_equal(splut_tt_iter_next(it, &has, &addr, codes, 1, &outc),
                         SPLUT_E_BUFFER_TOO_SMALL);
        for (;;) {
            assert_int_equal(splut_tt_iter_next(it, &has, &addr, codes, 8, &outc), SPLUT_OK);
            if (!has)
                break;
            assert_int_equal(addr, rows);
            /* address = input codes concatenated, first code most significant */
            uint64_t rebuilt = 0;
            for (uint32_t f = 0; f < info.in_fields; f++) {
                assert_true(codes[f] < (1u << info.in_bits));
                rebuilt = rebuilt * (1u << info.in_bits) + codes[f];
            }
            assert_int_equal(rebuilt, addr);
            assert_int_equal(outc, data[addr]);
            rows++;
        }
        assert_int_equal(rows, info.entries);
        assert_int_equal(splut_tt_iter_next(it, &has, NULL, NULL, 0, NULL), SPLUT_OK);
        assert_int_equal(has, 0);
        splut_tt_iter_destroy(it);
    }
    splut_tt_iter *it;
    assert_int_equal(splut_tt_iter_create(t, 1, 32, 0, &it), SPLUT_E_INDEX);
    assert_int_equal(splut_tt_iter_create(t, 0, 0, 2, &it), SPLUT_E_INDEX);
    splut_tt_iter_destroy(NULL);
    splut_tables_destroy(t);
    splut_model_destroy(m);
    splut_ctx_unref(ctx);
}

/* -------------------------------------------------------------------- cost */

/* The LogicNets formula evaluated literally in floating point. */
static uint64_t formula(uint32_t x, uint32_t y)
{
    double v = (double)y / 3.0 * (pow(2.0, (double)x - 4.0) - pow(-1.0, (double)x));
    return (uint64_t)ceil(v - 1e-9);
}

static void test_lut6_cost(void **state)
{
    (void)state;
    /* hand-computed: X=7: 2^3+1 = 9 → 3 per bit; X=8: 15 → 5; X=12: 255 → 85 */
    assert_int_equal(splut_lut6_cost(7, 1), 3);
    assert_int_equal(splut_lut6_cost(8, 2), 10);
    assert_int_equal(splut_lut6_cost(12, 2), 170);
    assert_int_equal(splut_lut6_cost(15, 5), 5 * 683); /* 2^11 + 1 = 2049 → 683 */
    assert_int_equal(splut_lut6_cost(6, 3), 3);
    assert_int_equal(splut_lut6_cost(5, 4), 4);
    assert_int_equal(splut_lut6_cost(2, 4), 4);
    assert_int_equal(splut_lut6_cost(0, 4), 0);
    assert_int_equal(splut_lut6_cost(9, 0), 0);
    for (uint32_t x = 5; x <= 40; x++)
        for (uint32_t y = 1; y <= 9; y++)
            assert_int_equal(splut_lut6_cost(x, y), formula(x, y));
    assert_int_equal(splut_lut6_cost(200, 1), UINT64_MAX);

    splut_ctx *ctx;
    assert_int_equal(splut_ctx_create(NULL, &ctx), SPLUT_OK);
    splut_model *m;
    splut_tables *t;
    uint64_t luts, sum = 0;
    /* hdr: 666 neurons, 12 input bits, 2 output bits each */
    assert_int_equal(splut_model_create_preset(ctx, "hdr", &m), SPLUT_OK);
    assert_int_equal(splut_tables_create(m, &t), SPLUT_OK);
    assert_int_equal(splut_tables_cost(t, SIZE_MAX, &luts), SPLUT_OK);
    assert_int_equal(luts, 666u * formula(12, 2));
    for (size_t l = 0; l < 6; l++) {
        uint64_t v;
        assert_int_equal(splut_tables_cost(t, l, &v), SPLUT_OK);
        sum += v;
    }
    assert_int_equal(sum, luts);
    assert_int_equal(splut_tables_cost(t, 6, &luts), SPLUT_E_INDEX);
    splut_tables_destroy(t);
    splut_model_destroy(m);
    /* hdr-add2: per neuron 2 sub tables (8 → 3 bits) and an adder (6 → 2 bits) */
    assert_int_equal(splut_model_create_preset(ctx, "hdr-add2", &m), SPLUT_OK);
    assert_int_equal(splut_tables_create(m, &t), SPLUT_OK);
    assert_int_equal(splut_tables_cost(t, SIZE_MAX, &luts), SPLUT_OK);
    assert_int_equal(luts, 666u * (2 * formula(8, 3) + 2));
    splut_tables_destroy(t);
    splut_model_destroy(m);
    splut_ctx_unref(ctx);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_entry_counts),
        cmocka_unit_test(test_limit_refused_before_alloc),
        cmocka_unit_test(test_nomem),
        cmocka_unit_test(test_nomem_no_leak),
        cmocka_unit_test(test_determinism),
        cmocka_unit_test(test_queries_and_errors),
        cmocka_unit_test(test_iterator),
        cmocka_unit_test(test_lut6_cost),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
