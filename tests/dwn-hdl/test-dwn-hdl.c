/*
 * LUT-node (DWN) models downstream: tables files, LUT-mode classification and
 * the emitted hardware (thermometer decoding or comparators, popcount adder
 * trees, argmax) simulated on a whole synthetic dataset.
 *
 * Every expected value comes from the model (splut_model_input_codes,
 * splut_model_forward_codes, splut_model_predict), never from the tables or
 * the emitters: the test reads the expected-output file the library writes
 * for the testbench and checks it against the model, then the simulator
 * checks the design against that file. Ties between classes are frequent
 * (groups of 3 nodes) and counted, so the tie rule is exercised.
 *
 * The executable takes a group name: "api" (files, estimates, bad input),
 * "sim" (Verilator/Icarus, GHDL and the HLS C; each skips when missing) or
 * "cli" (argv[2] = the sparselut executable: emit --verify, tables, synth).
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "hdl-test.h"
#include "ref-crc32.h"

#define N_IN 6u
#define IN_BITS 2u /* T = 3 thermometer levels per feature */
#define LEVELS 3u
#define CLASSES 4u
#define GROUP 3u
#define L1_WIDTH (CLASSES * GROUP)
#define N_SAMPLES 600u

typedef struct dwn_case {
    splut_ctx *ctx;
    splut_model *m;
    splut_tables *t;
    float *x;          /* N_SAMPLES × N_IN features (the floats of `raw`) */
    int32_t *raw;      /* raw 8-bit features: value = raw / 256 */
    uint16_t *codes;   /* the model's input codes */
    int32_t *pred;     /* the model's classes */
    uint16_t *counts;  /* popcount of each class group, from the model's outputs */
    uint32_t classes, group, width, cbits; /* GroupSum head: classes × group = width */
    splut_input_format fmt;
    int32_t thr[N_IN * LEVELS];
    uint16_t thr_codes[N_IN * (LEVELS + 1)];
    uint32_t steps[N_IN];
    char dir[256];
} dwn_case;

static uint64_t lcg(uint64_t *s)
{
    *s = *s * 6364136223846793005ull + 1442695040888963407ull;
    return *s >> 33;
}

/* One or two LUT layers; `groups` GroupSum classes on the last one. */
static splut_model *make_model(splut_ctx *ctx, uint32_t in_bits, uint32_t w0, uint32_t w1,
                               uint32_t groups)
{
    splut_model *m = NULL;
    assert_int_equal(splut_model_create(ctx, N_IN, in_bits, &m), SPLUT_OK);
    assert_int_equal(splut_model_set_int(m, SPLUT_P_INPUT_MODE, SPLUT_INPUT_THERMOMETER),
                     SPLUT_OK);
    splut_layer_desc d = SPLUT_LAYER_DESC_INIT;
    d.kind = SPLUT_NEURON_LUT;
    d.width = w0;
    d.fan_in = 4;
    d.out_bits = 1;
    d.hidden = w1 ? 0 : groups;
    assert_int_equal(splut_model_add_layer(m, &d), SPLUT_OK);
    if (w1) {
        d.width = w1;
        d.fan_in = 3;
        d.hidden = groups;
        assert_int_equal(splut_model_add_layer(m, &d), SPLUT_OK);
    }
    assert_int_equal(splut_model_build(m), SPLUT_OK);
    return m;
}

/* Random entries of both signs, so every node computes some function. */
static void randomize_entries(splut_model *m, uint64_t seed)
{
    size_t n = splut_model_num_params(m);
    float *p = malloc(n * sizeof(float));
    assert_non_null(p);
    for (size_t i = 0; i < n; i++)
        p[i] = (float)lcg(&seed) / 2147483648.0f - 0.5f;
    assert_int_equal(splut_model_params(m, p, 0), SPLUT_OK);
    free(p);
}

/* The model's view of the dataset: codes, output codes, classes, counts. */
static void model_expectations(dwn_case *c)
{
    size_t n = N_SAMPLES;
    uint16_t *out = malloc(n * c->width * sizeof(uint16_t));
    assert_non_null(out);
    assert_int_equal(splut_model_input_codes(c->m, c->x, n, c->codes), SPLUT_OK);
    assert_int_equal(splut_model_predict(c->m, c->x, n, c->pred, out), SPLUT_OK);
    for (size_t i = 0; i < n; i++)
        for (uint32_t k = 0; k < c->classes; k++) {
            uint16_t cnt = 0;
            for (uint32_t g = 0; g < c->group; g++)
                cnt = (uint16_t)(cnt + out[i * c->width + k * c->group + g]);
            c->counts[i * c->classes + k] = cnt;
        }
    free(out);
}

/* The model: two layers (24 nodes, then CLASSES groups of GROUP), or with
 * @p wide one layer of 2 groups of 45 nodes (a popcount of several counter
 * stages and a final adder). */
static void case_init_shape(dwn_case *c, uint64_t seed, bool wide)
{
    memset(c, 0, sizeof(*c));
    assert_int_equal(splut_ctx_create(NULL, &c->ctx), SPLUT_OK);
    assert_int_equal(splut_ctx_set_int(c->ctx, SPLUT_P_SEED, (int64_t)seed), SPLUT_OK);
    c->classes = wide ? 2 : CLASSES;
    c->group = wide ? 45 : GROUP;
    c->width = c->classes * c->group;
    c->cbits = wide ? 6 : 2;
    c->m = wide ? make_model(c->ctx, IN_BITS, c->width, 0, c->classes)
                : make_model(c->ctx, IN_BITS, 24, L1_WIDTH, CLASSES);
    randomize_entries(c->m, seed * 31 + 7);
    size_t n = N_SAMPLES;
    c->x = malloc(n * N_IN * sizeof(float));
    c->raw = malloc(n * N_IN * sizeof(int32_t));
    c->codes = malloc(n * N_IN * sizeof(uint16_t));
    c->pred = malloc(n * sizeof(int32_t));
    c->counts = malloc(n * c->classes * sizeof(uint16_t));
    assert_true(c->x && c->raw && c->codes && c->pred && c->counts);
    splut_input_format fmt = SPLUT_INPUT_FORMAT_INIT; /* unsigned Q0.8: value = raw / 256 */
    fmt.frac_bits = 8;
    c->fmt = fmt;
    uint64_t s = seed;
    for (size_t i = 0; i < n * N_IN; i++) {
        c->raw[i] = (int32_t)(lcg(&s) % 256);
        assert_int_equal(splut_input_value(&c->fmt, (uint32_t)(i % N_IN), c->raw[i], &c->x[i]),
                         SPLUT_OK);
    }
    /* distributive thresholds: quantiles of the data, so every level occurs */
    assert_int_equal(splut_model_fit_thermometer(c->m, c->x, n), SPLUT_OK);
    model_expectations(c);
    assert_int_equal(splut_tables_create(c->m, &c->t), SPLUT_OK);
    assert_int_equal(splut_model_input_thresholds(c->m, &c->fmt, c->thr, c->thr_codes, c->steps),
                     SPLUT_OK);
    const char *tmp = getenv("TMPDIR");
    snprintf(c->dir, sizeof(c->dir), "%s/splut-dwnhdl-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    assert_non_null(mkdtemp(c->dir));
}

static void case_init(dwn_case *c, uint64_t seed)
{
    case_init_shape(c, seed, false);
}

static void case_free(dwn_case *c)
{
    if (c->dir[0] && !getenv("SPLUT_KEEP_HDL")) {
        char cmd[400];
        snprintf(cmd, sizeof(cmd), "rm -rf '%s'", c->dir);
        if (system(cmd) != 0)
            fprintf(stderr, "could not remove %s\n", c->dir);
    }
    free(c->x);
    free(c->raw);
    free(c->codes);
    free(c->pred);
    free(c->counts);
    splut_tables_destroy(c->t);
    splut_model_destroy(c->m);
    splut_ctx_unref(c->ctx);
}

/* Samples whose largest count is shared by two classes or more. */
static size_t ties(const dwn_case *c)
{
    size_t n = 0;
    for (size_t i = 0; i < N_SAMPLES; i++) {
        uint16_t best = 0, k = 0;
        for (uint32_t j = 0; j < CLASSES; j++)
            if (c->counts[i * CLASSES + j] > best)
                best = c->counts[i * CLASSES + j];
        for (uint32_t j = 0; j < CLASSES; j++)
            k += c->counts[i * CLASSES + j] == best;
        n += k > 1;
    }
    return n;
}

/* ----------------------------------------------------------------- api */

static void test_tables_file(void **state)
{
    (void)state;
    dwn_case c;
    case_init(&c, 5);
    assert_int_equal(splut_tables_thermometer_levels(c.t), LEVELS);
    assert_int_equal(splut_tables_num_classes(c.t), CLASSES);
    char path[300];
    snprintf(path, sizeof(path), "%s/dwn.tbl", c.dir);
    assert_int_equal(splut_tables_save(c.t, path), SPLUT_OK);
    splut_tables *u = NULL;
    assert_int_equal(splut_tables_load(c.ctx, path, &u), SPLUT_OK);
    assert_int_equal(splut_tables_thermometer_levels(u), LEVELS);
    assert_int_equal(splut_tables_num_classes(u), CLASSES);
    int32_t *pred = malloc(N_SAMPLES * sizeof(int32_t));
    uint16_t *counts = malloc(N_SAMPLES * CLASSES * sizeof(uint16_t));
    assert_int_equal(splut_tables_classify(u, c.codes, N_SAMPLES, pred, counts), SPLUT_OK);
    assert_memory_equal(pred, c.pred, N_SAMPLES * sizeof(int32_t));
    assert_memory_equal(counts, c.counts, N_SAMPLES * CLASSES * sizeof(uint16_t));
    assert_true(ties(&c) > 10);
    splut_tables_destroy(u);
    /* version 2 (thermometer levels, classes after the layer count), and a
     * header whose classes do not split the last layer is refused */
    size_t len = 0;
    char *buf = hdl_read(path, &len);
    assert_non_null(buf);
    uint8_t *b = (uint8_t *)buf;
    assert_int_equal(b[8], 2);
    assert_int_equal(b[24], LEVELS);
    assert_int_equal(b[28], CLASSES);
    b[28] = 5;
    uint32_t crc = ref_crc32(b, len - 4);
    for (int k = 0; k < 4; k++)
        b[len - 4 + k] = (uint8_t)(crc >> (8 * k));
    assert_true(hdl_write(path, buf, len));
    assert_int_equal(splut_tables_load(c.ctx, path, &u), SPLUT_E_FORMAT);
    free(buf);
    free(pred);
    free(counts);
    case_free(&c);
}

/* Tables of other models keep format version 1 (readable by older releases). */
static void test_tables_file_v1(void **state)
{
    (void)state;
    splut_ctx *ctx;
    assert_int_equal(splut_ctx_create(NULL, &ctx), SPLUT_OK);
    splut_model *m = NULL;
    assert_int_equal(splut_model_create(ctx, 4, 2, &m), SPLUT_OK);
    splut_layer_desc d = SPLUT_LAYER_DESC_INIT;
    d.width = 3;
    d.fan_in = 2;
    d.out_bits = 2;
    assert_int_equal(splut_model_add_layer(m, &d), SPLUT_OK);
    assert_int_equal(splut_model_build(m), SPLUT_OK);
    splut_tables *t = NULL;
    assert_int_equal(splut_tables_create(m, &t), SPLUT_OK);
    assert_int_equal(splut_tables_num_classes(t), 0);
    char dir[] = "/tmp/splut-dwnhdl-v1-XXXXXX";
    assert_non_null(mkdtemp(dir));
    char path[300];
    snprintf(path, sizeof(path), "%s/t.tbl", dir);
    assert_int_equal(splut_tables_save(t, path), SPLUT_OK);
    char *buf = hdl_read(path, NULL);
    assert_non_null(buf);
    assert_int_equal(buf[8], 1);
    free(buf);
    splut_tables *u = NULL;
    assert_int_equal(splut_tables_load(ctx, path, &u), SPLUT_OK);
    assert_int_equal(splut_tables_classify(u, (const uint16_t[]){0, 1, 2, 3}, 1,
                                           (int32_t[1]){0}, NULL),
                     SPLUT_E_INVALID); /* no GroupSum head */
    splut_tables_destroy(u);
    remove(path);
    rmdir(dir);
    splut_tables_destroy(t);
    splut_model_destroy(m);
    splut_ctx_unref(ctx);
}

static void input_opts(dwn_case *c, splut_hdl_opts *o)
{
    o->input = &c->fmt;
    o->input_thresholds = c->thr;
    o->input_codes = c->thr_codes;
    o->input_steps = c->steps;
}

/* The estimate's parts, counted by hand for this shape (18 thermometer bits,
 * 24 + 12 nodes, 4 groups of 3). */
static void test_estimate(void **state)
{
    (void)state;
    dwn_case c;
    case_init(&c, 6);
    uint64_t tables = 0, codes = 0, bits = 0, counts = 0, ffs = 0;
    assert_int_equal(splut_tables_cost(c.t, SIZE_MAX, &tables), SPLUT_OK);
    assert_int_equal(tables, 24 + L1_WIDTH); /* one LUT6 per node (F ≤ 6) */
    splut_hdl_opts o = SPLUT_HDL_OPTS_INIT;
    o.flags = SPLUT_HDL_THERMO_BITS | SPLUT_HDL_GROUPSUM_COUNTS;
    assert_int_equal(splut_hdl_estimate(c.t, &o, &counts, &ffs), SPLUT_OK);
    /* popcount of 3: one counter of 3 bits, 2 output bits; no second operand */
    assert_int_equal(counts, tables + CLASSES * 2);
    assert_int_equal(ffs, 0);
    o.flags = SPLUT_HDL_THERMO_BITS;
    assert_int_equal(splut_hdl_estimate(c.t, &o, &bits, NULL), SPLUT_OK);
    /* argmax of 4 classes, 2-bit counts, 2-bit index: 3 nodes × (2 + 2 + 2) − 2 */
    assert_int_equal(bits, counts + 3 * 6 - 2);
    o.flags = 0;
    assert_int_equal(splut_hdl_estimate(c.t, &o, &codes, NULL), SPLUT_OK);
    assert_true(codes > bits); /* code > 0 and code > 2 each take a LUT; code > 1 is a wire */
    assert_true(codes <= bits + 2 * N_IN);
    o.pipeline = SPLUT_PIPE_LAYER;
    assert_int_equal(splut_hdl_estimate(c.t, &o, NULL, &ffs), SPLUT_OK);
    assert_int_equal(ffs, N_IN * LEVELS + 24 + L1_WIDTH);
    o.pipeline = SPLUT_PIPE_SUBLAYER;
    assert_int_equal(splut_hdl_estimate(c.t, &o, NULL, &ffs), SPLUT_OK);
    assert_int_equal(ffs, N_IN * LEVELS + 24 + L1_WIDTH + CLASSES * 2);
    uint32_t lat = 0;
    assert_int_equal(splut_hdl_latency(c.t, &o, &lat), SPLUT_OK);
    assert_int_equal(lat, 4);
    case_free(&c);
}

/* Regression: thermometer bits of one feature that change at the same raw
 * threshold share one comparator in hardware (synthesis merges identical
 * logic), so the estimate counts it once. Data that is 0 in 80 % of the samples
 * puts all three quantile thresholds of every feature at 0: each feature's
 * bits are "raw >= 1", an OR of the 8 raw bits, two LUT6 by hand. */
static void test_estimate_shared_comparators(void **state)
{
    (void)state;
    splut_ctx *ctx = NULL;
    assert_int_equal(splut_ctx_create(NULL, &ctx), SPLUT_OK);
    splut_model *m = make_model(ctx, IN_BITS, L1_WIDTH, 0, CLASSES);
    splut_input_format fmt = SPLUT_INPUT_FORMAT_INIT; /* unsigned Q0.8 */
    fmt.frac_bits = 8;
    float *x = malloc(N_SAMPLES * N_IN * sizeof(float));
    assert_non_null(x);
    for (size_t i = 0; i < N_SAMPLES * N_IN; i++)
        assert_int_equal(splut_input_value(&fmt, (uint32_t)(i % N_IN), i % 5 ? 0 : 255, &x[i]),
                         SPLUT_OK);
    assert_int_equal(splut_model_fit_thermometer(m, x, N_SAMPLES), SPLUT_OK);
    int32_t thr[N_IN * LEVELS];
    uint16_t codes[N_IN * (LEVELS + 1)];
    uint32_t steps[N_IN];
    assert_int_equal(splut_model_input_thresholds(m, &fmt, thr, codes, steps), SPLUT_OK);
    for (uint32_t f = 0; f < N_IN; f++) { /* the premise: one step, at raw 1 */
        assert_int_equal(steps[f], 1);
        assert_int_equal(thr[f * LEVELS], 1);
    }
    splut_tables *t = NULL;
    assert_int_equal(splut_tables_create(m, &t), SPLUT_OK);
    bool bit_used[N_IN * LEVELS] = {false}, feature_used[N_IN] = {false};
    for (uint32_t n = 0; n < L1_WIDTH; n++) {
        const uint32_t *idx = NULL;
        size_t k = 0;
        assert_int_equal(splut_tables_inputs(t, 0, n, &idx, &k), SPLUT_OK);
        for (size_t i = 0; i < k; i++)
            bit_used[idx[i]] = feature_used[idx[i] / LEVELS] = true;
    }
    uint64_t bits_used = 0, features_used = 0;
    for (uint32_t i = 0; i < N_IN * LEVELS; i++)
        bits_used += bit_used[i];
    for (uint32_t f = 0; f < N_IN; f++)
        features_used += feature_used[f];
    assert_true(bits_used > features_used); /* shared comparators exist */
    splut_hdl_opts o = SPLUT_HDL_OPTS_INIT;
    uint64_t port = 0, raw = 0;
    o.flags = SPLUT_HDL_THERMO_BITS;
    assert_int_equal(splut_hdl_estimate(t, &o, &port, NULL), SPLUT_OK);
    o.flags = 0;
    o.input = &fmt;
    o.input_thresholds = thr;
    o.input_codes = codes;
    o.input_steps = steps;
    assert_int_equal(splut_hdl_estimate(t, &o, &raw, NULL), SPLUT_OK);
    assert_int_equal(raw - port, 2 * features_used);
    splut_tables_destroy(t);
    splut_model_destroy(m);
    free(x);
    splut_ctx_unref(ctx);
}

static void test_bad_input(void **state)
{
    (void)state;
    dwn_case c;
    case_init(&c, 7);
    splut_hdl_opts o = SPLUT_HDL_OPTS_INIT;
    o.flags = SPLUT_HDL_THERMO_BITS;
    input_opts(&c, &o); /* raw features and thermometer bits on one port */
    assert_int_equal(splut_tables_emit(c.t, SPLUT_HDL_VERILOG, c.dir, &o), SPLUT_E_INVALID);
    assert_non_null(strstr(splut_ctx_last_error(c.ctx), "exclude"));
    /* a model without GroupSum head or thermometer refuses their flags */
    splut_model *m = make_model(c.ctx, IN_BITS, 8, 0, 0);
    splut_tables *t = NULL;
    assert_int_equal(splut_tables_create(m, &t), SPLUT_OK);
    o = (splut_hdl_opts)SPLUT_HDL_OPTS_INIT;
    o.flags = SPLUT_HDL_GROUPSUM_COUNTS;
    assert_int_equal(splut_tables_emit(t, SPLUT_HDL_VERILOG, c.dir, &o), SPLUT_E_INVALID);
    assert_non_null(strstr(splut_ctx_last_error(c.ctx), "GroupSum"));
    splut_tables_destroy(t);
    splut_model_destroy(m);
    /* 31 thermometer bits per feature do not fit a 16-bit port field */
    m = make_model(c.ctx, 5, 8, 0, 0);
    assert_int_equal(splut_tables_create(m, &t), SPLUT_OK);
    o.flags = SPLUT_HDL_THERMO_BITS;
    assert_int_equal(splut_tables_emit(t, SPLUT_HDL_HLS, c.dir, &o), SPLUT_E_OUT_OF_RANGE);
    splut_tables_destroy(t);
    splut_model_destroy(m);
    case_free(&c);
}

/* Groups above 65,535 nodes (16-bit counts) are refused with a clear error. */
static void test_huge_group(void **state)
{
    (void)state;
    splut_ctx *ctx;
    assert_int_equal(splut_ctx_create(NULL, &ctx), SPLUT_OK);
    splut_model *m = NULL;
    assert_int_equal(splut_model_create(ctx, N_IN, IN_BITS, &m), SPLUT_OK);
    assert_int_equal(splut_model_set_int(m, SPLUT_P_INPUT_MODE, SPLUT_INPUT_THERMOMETER),
                     SPLUT_OK);
    splut_layer_desc d = SPLUT_LAYER_DESC_INIT;
    d.kind = SPLUT_NEURON_LUT;
    d.width = 2 * 65536;
    d.fan_in = 1;
    d.out_bits = 1;
    d.hidden = 2;
    assert_int_equal(splut_model_add_layer(m, &d), SPLUT_OK);
    assert_int_equal(splut_model_build(m), SPLUT_OK);
    splut_tables *t = NULL;
    assert_int_equal(splut_tables_create(m, &t), SPLUT_OK);
    uint32_t lat = 0;
    assert_int_equal(splut_hdl_latency(t, NULL, &lat), SPLUT_E_OUT_OF_RANGE);
    assert_non_null(strstr(splut_ctx_last_error(ctx), "65536 nodes"));
    uint16_t codes[N_IN] = {0};
    int32_t pred = 0;
    assert_int_equal(splut_tables_classify(t, codes, 1, &pred, NULL), SPLUT_E_OUT_OF_RANGE);
    splut_tables_destroy(t);
    splut_model_destroy(m);
    splut_ctx_unref(ctx);
}

/* ----------------------------------------------------------------- sim */

typedef enum port_kind { PORT_CODES, PORT_RAW, PORT_BITS } port_kind;

/* One emitted variant: the design, its testbench, and the expected-output
 * file checked against the model. */
static void emit_variant(dwn_case *c, splut_hdl_format fmt, port_kind port, bool counts,
                         int32_t pipeline, uint32_t extra_flags, const char *prefix)
{
    splut_hdl_opts o = SPLUT_HDL_OPTS_INIT;
    o.prefix = prefix;
    o.pipeline = pipeline;
    o.flags = extra_flags | (port == PORT_BITS ? SPLUT_HDL_THERMO_BITS : 0) |
              (counts ? SPLUT_HDL_GROUPSUM_COUNTS : 0);
    if (port == PORT_RAW)
        input_opts(c, &o);
    assert_int_equal(splut_tables_emit(c->t, fmt, c->dir, &o), SPLUT_OK);
    if (port == PORT_RAW)
        assert_int_equal(splut_tables_emit_testbench_raw(c->t, fmt, c->dir, &o, c->raw, c->codes,
                                                         N_SAMPLES),
                         SPLUT_OK);
    else
        assert_int_equal(splut_tables_emit_testbench(c->t, fmt, c->dir, &o, c->codes, N_SAMPLES),
                         SPLUT_OK);
    /* <prefix>_out.hex: the class (or the 4 two-bit counts) of every sample */
    char path[400];
    snprintf(path, sizeof(path), "%s/%s_out.hex", c->dir, prefix);
    char *text = hdl_read(path, NULL);
    assert_non_null(text);
    char *line = text;
    for (size_t i = 0; i < N_SAMPLES; i++) {
        unsigned long v = strtoul(line, &line, 16);
        unsigned long want = (unsigned long)c->pred[i];
        if (counts) {
            want = 0;
            for (uint32_t k = 0; k < c->classes; k++)
                want |= (unsigned long)c->counts[i * c->classes + k] << (c->cbits * k);
        }
        assert_int_equal(v, want);
    }
    free(text);
}

static void simulate(dwn_case *c, const char *prefix, hdl_sim sim)
{
    long vectors = 0;
    assert_int_equal(hdl_simulate(c->dir, prefix, sim, &vectors), 0);
    assert_int_equal(vectors, N_SAMPLES);
}

static void test_verilog(void **state)
{
    (void)state;
    bool verilator = hdl_have("verilator"), icarus = hdl_have("iverilog");
    if (!verilator && !icarus)
        skip();
    dwn_case c;
    case_init(&c, 11);
    hdl_sim sim = icarus ? HDL_SIM_ICARUS : HDL_SIM_VERILATOR; /* Icarus builds faster */
    static const struct {
        port_kind port;
        bool counts;
        int32_t pipeline;
        uint32_t flags;
        const char *prefix;
    } v[] = {
        {PORT_CODES, false, SPLUT_PIPE_NONE, 0, "codes"},
        {PORT_RAW, false, SPLUT_PIPE_LAYER, SPLUT_HDL_NO_RESET, "raw"},
        {PORT_BITS, false, SPLUT_PIPE_SUBLAYER, 0, "bits"},
        {PORT_RAW, true, SPLUT_PIPE_SUBLAYER, SPLUT_HDL_DONT_CARE, "counts"},
    };
    for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
        emit_variant(&c, SPLUT_HDL_VERILOG, v[i].port, v[i].counts, v[i].pipeline, v[i].flags,
                     v[i].prefix);
        if (verilator)
            assert_int_equal(hdl_lint(c.dir, v[i].prefix), 0);
        simulate(&c, v[i].prefix, sim);
    }
    case_free(&c);
}

static void test_vhdl(void **state)
{
    (void)state;
    if (!hdl_have("ghdl"))
        skip();
    dwn_case c;
    case_init(&c, 12);
    emit_variant(&c, SPLUT_HDL_VHDL, PORT_RAW, false, SPLUT_PIPE_SUBLAYER, 0, "raw");
    simulate(&c, "raw", HDL_SIM_GHDL);
    emit_variant(&c, SPLUT_HDL_VHDL, PORT_CODES, true, SPLUT_PIPE_NONE, 0, "counts");
    simulate(&c, "counts", HDL_SIM_GHDL);
    emit_variant(&c, SPLUT_HDL_VHDL, PORT_BITS, false, SPLUT_PIPE_LAYER, 0, "bits");
    simulate(&c, "bits", HDL_SIM_GHDL);
    case_free(&c);
}

static void test_hls(void **state)
{
    (void)state;
    if (!hdl_have("gcc"))
        skip();
    dwn_case c;
    case_init(&c, 13);
    emit_variant(&c, SPLUT_HDL_HLS, PORT_RAW, false, SPLUT_PIPE_NONE, 0, "raw");
    simulate(&c, "raw", HDL_SIM_GCC);
    emit_variant(&c, SPLUT_HDL_HLS, PORT_BITS, true, SPLUT_PIPE_NONE, 0, "bits");
    simulate(&c, "bits", HDL_SIM_GCC);
    emit_variant(&c, SPLUT_HDL_HLS, PORT_CODES, false, SPLUT_PIPE_NONE, 0, "codes");
    simulate(&c, "codes", HDL_SIM_GCC);
    if (hdl_have("g++"))
        simulate(&c, "codes", HDL_SIM_GXX);
    case_free(&c);
}

/* Groups of 45: three counter stages and the final adder; counts and classes. */
static void test_wide_groups(void **state)
{
    (void)state;
    dwn_case c;
    case_init_shape(&c, 14, true);
    size_t spread = 0; /* the counts must vary for the test to mean anything */
    for (size_t i = 1; i < N_SAMPLES; i++)
        spread += c.counts[i * 2] != c.counts[0];
    assert_true(spread > N_SAMPLES / 2);
    if (hdl_have("gcc")) {
        emit_variant(&c, SPLUT_HDL_HLS, PORT_CODES, true, SPLUT_PIPE_NONE, 0, "hls");
        simulate(&c, "hls", HDL_SIM_GCC);
    }
    if (hdl_have("iverilog") || hdl_have("verilator")) {
        emit_variant(&c, SPLUT_HDL_VERILOG, PORT_RAW, true, SPLUT_PIPE_LAYER, 0, "counts");
        if (hdl_have("verilator"))
            assert_int_equal(hdl_lint(c.dir, "counts"), 0);
        simulate(&c, "counts", hdl_have("iverilog") ? HDL_SIM_ICARUS : HDL_SIM_VERILATOR);
        emit_variant(&c, SPLUT_HDL_VERILOG, PORT_CODES, false, SPLUT_PIPE_SUBLAYER, 0, "cls");
        simulate(&c, "cls", hdl_have("iverilog") ? HDL_SIM_ICARUS : HDL_SIM_VERILATOR);
    }
    if (hdl_have("ghdl")) {
        emit_variant(&c, SPLUT_HDL_VHDL, PORT_BITS, true, SPLUT_PIPE_NONE, 0, "vcounts");
        simulate(&c, "vcounts", HDL_SIM_GHDL);
    }
    case_free(&c);
}

static const char *cli_exe;

/* Run `sparselut ARGS` in dir, output to dir/cli.log; returns the exit status
 * and the log (malloc'ed) through @p log. */
static int run_cli(const char *dir, const char *args, char **log)
{
    char cmd[2048];
    snprintf(cmd, sizeof(cmd), "cd '%s' && '%s' %s >cli.log 2>&1", dir, cli_exe, args);
    int rc = system(cmd);
    char path[400];
    snprintf(path, sizeof(path), "%s/cli.log", dir);
    *log = hdl_read(path, NULL);
    assert_non_null(*log);
    return rc == 0 ? 0 : WEXITSTATUS(rc);
}

/* `sparselut ARGS` exits with @p status and prints @p text. */
static void expect_cli(const char *dir, const char *args, int status, const char *text)
{
    char *log = NULL;
    int rc = run_cli(dir, args, &log);
    if (rc != status || !strstr(log, text))
        fprintf(stderr, "sparselut %s: exit %d\n%.2000s\n", args, rc, log);
    assert_int_equal(rc, status);
    assert_non_null(strstr(log, text));
    free(log);
}

static void test_cli(void **state)
{
    (void)state;
    dwn_case c;
    case_init(&c, 21);
    char path[400];
    snprintf(path, sizeof(path), "%s/m.splut", c.dir);
    assert_int_equal(splut_model_save(c.m, path), SPLUT_OK);
    /* tables: the file keeps the head, the report adds the design estimate */
    expect_cli(c.dir, "tables --model m.splut --out tab", 0, "design:");
    snprintf(path, sizeof(path), "%s/tab/tables.bin", c.dir);
    splut_tables *u = NULL;
    assert_int_equal(splut_tables_load(c.ctx, path, &u), SPLUT_OK);
    assert_int_equal(splut_tables_num_classes(u), CLASSES);
    splut_tables_destroy(u);
    /* emit --verify: thermometer bits (Verilog) and raw Q0.8 features (HLS C) */
    if (hdl_have("iverilog") || hdl_have("verilator"))
        expect_cli(c.dir,
                   "emit --model m.splut --format verilog --out hw --thermometer-bits "
                   "--pipeline layer --vectors 300 --verify",
                   0, "300 vectors, 0 mismatches");
    if (hdl_have("cc"))
        expect_cli(c.dir,
                   "emit --model m.splut --format hls --out hls --input-stage u8.8 "
                   "--groupsum-counts --vectors 300 --verify",
                   0, "300 vectors, 0 mismatches");
    /* the per-table ABC count cannot see the head: refused, with the reason */
    expect_cli(c.dir, "synth --model m.splut --fast --out syn", 1, "does not count LUT-node");
    /* raw features and thermometer bits cannot share the port */
    expect_cli(c.dir,
               "emit --model m.splut --format verilog --out hw2 --thermometer-bits "
               "--input-stage mnist",
               1, "exclude");
    case_free(&c);
}

int main(int argc, char **argv)
{
    const char *group = argc > 1 ? argv[1] : "api";
    const struct CMUnitTest api[] = {
        cmocka_unit_test(test_tables_file), cmocka_unit_test(test_tables_file_v1),
        cmocka_unit_test(test_estimate),    cmocka_unit_test(test_bad_input),
        cmocka_unit_test(test_estimate_shared_comparators),
        cmocka_unit_test(test_huge_group),
    };
    const struct CMUnitTest sim[] = {cmocka_unit_test(test_verilog), cmocka_unit_test(test_vhdl),
                                     cmocka_unit_test(test_hls),
                                     cmocka_unit_test(test_wide_groups)};
    const struct CMUnitTest cli[] = {cmocka_unit_test(test_cli)};
    if (strcmp(group, "cli") == 0 && argc > 2) {
        /* meson passes it relative to the build directory; the commands cd elsewhere */
        static char exe[4096];
        cli_exe = argv[2];
        if (argv[2][0] != '/' && getcwd(exe, sizeof(exe) / 2)) {
            strcat(exe, "/");
            strncat(exe, argv[2], sizeof(exe) / 2 - 2);
            cli_exe = exe;
        }
        return cmocka_run_group_tests(cli, NULL, NULL);
    }
    if (strcmp(group, "sim") == 0)
        return cmocka_run_group_tests(sim, NULL, NULL);
    return cmocka_run_group_tests(api, NULL, NULL);
}
