/*
 * Table entries of tiny models against a straightforward scalar
 * re-computation written here, in double precision, from the spec
 * (MODELS.md §1-§4, DESIGN.md bit-level conventions): dequantised inputs,
 * monomials by pow() in combinations_with_replacement order (NeuraLUT: its
 * three hidden layers and skips), BatchNorm with
 * running statistics, the quantiser as x / scale * int_scale, clamp, round half
 * to even, offset binary. Addresses are decoded with the first input in the
 * most significant field, sub-neuron 0 in the MS field of the adder address.
 * This is the test that fails if eval mode and tables share a bug.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include "tables-test.h"

/* ----------------------------------------------------------- the reference */

typedef struct qref {
    bool is_signed;
    uint32_t bits;
    double scale;
} qref;

static qref quant_of(const splut_model *m, const splut_quant *q)
{
    qref r;
    r.is_signed = q->kind == SPLUT_Q_SIGNED;
    r.bits = q->bits;
    r.scale = fmax(exp2((double)m->params[q->theta]), 1.0 / 65536.0);
    return r;
}

static double int_scale(const qref *q)
{
    return q->is_signed ? ldexp(1.0, (int)q->bits - 1) : ldexp(1.0, (int)q->bits) - 1.0;
}

/* Dequantised value of an encoded code. */
static double dequant(const qref *q, uint32_t enc)
{
    double code = q->is_signed ? (double)enc - ldexp(1.0, (int)q->bits - 1) : (double)enc;
    return code * q->scale / int_scale(q);
}

/* Encoded code of a pre-activation y; *near is set when y lies within a hair
 * of a rounding boundary (float and double may then legitimately differ). */
static uint32_t quant(const qref *q, double y, bool *near)
{
    if (!q->is_signed && y < 0)
        y = 0;
    double v = y / q->scale * int_scale(q);
    double lo = q->is_signed ? -ldexp(1.0, (int)q->bits - 1) : 0.0;
    double hi = q->is_signed ? ldexp(1.0, (int)q->bits - 1) - 1.0 : ldexp(1.0, (int)q->bits) - 1.0;
    if (v > lo - 0.5 && v < hi + 0.5 && fabs(fabs(v - floor(v)) - 0.5) < 1e-4)
        *near = true;
    v = v < lo ? lo : v > hi ? hi : v;
    double code = nearbyint(v); /* default rounding mode: half to even */
    return (uint32_t)(q->is_signed ? code + ldexp(1.0, (int)q->bits - 1) : code);
}

/* Next non-decreasing tuple over [0, F) in lexicographic order. */
static bool next_tuple(uint32_t *t, uint32_t d, uint32_t F)
{
    int i = (int)d - 1;
    while (i >= 0 && t[i] == F - 1)
        i--;
    if (i < 0)
        return false;
    t[i]++;
    for (uint32_t k = (uint32_t)i + 1; k < d; k++)
        t[k] = t[i];
    return true;
}

/* b + Σ_t w_t · Π x^k over the monomials of degree 1..D of F inputs. */
static double poly(const float *w, double b, const double *x, uint32_t F, uint32_t D)
{
    double z = b;
    size_t t = 0;
    for (uint32_t d = 1; d <= D; d++) {
        uint32_t tup[16] = {0};
        do {
            uint32_t mult[32] = {0};
            for (uint32_t k = 0; k < d; k++)
                mult[tup[k]]++;
            double term = 1.0;
            for (uint32_t f = 0; f < F; f++)
                if (mult[f])
                    term *= pow(x[f], (double)mult[f]);
            z += (double)w[t++] * term;
        } while (next_tuple(tup, d, F));
    }
    return z;
}

/* NeuraLUT neuron from the description in core-priv.h: parameters of neuron n
 * at w (row-major matrices [hidden unit][input]), output bias b:
 *   h1 = relu(W1 u + b1); h2 = relu(W2 h1 + R0 u + b2); h3 = relu(W3 h2 + b3)
 *   z  = w4·h3 + r1·h2 + b                                                     */
static double neuralut(const float *w, double b, const double *u, uint32_t F, uint32_t N)
{
    const float *W1 = w, *b1 = W1 + N * F, *W2 = b1 + N, *R0 = W2 + N * N, *b2 = R0 + N * F;
    const float *W3 = b2 + N, *b3 = W3 + N * N, *w4 = b3 + N, *r1 = w4 + N;
    double h1[64], h2[64], h3[64], z = b;
    for (uint32_t k = 0; k < N; k++) {
        double v = b1[k];
        for (uint32_t f = 0; f < F; f++)
            v += (double)W1[k * F + f] * u[f];
        h1[k] = fmax(v, 0.0);
    }
    for (uint32_t k = 0; k < N; k++) {
        double v = b2[k];
        for (uint32_t j = 0; j < N; j++)
            v += (double)W2[k * N + j] * h1[j];
        for (uint32_t f = 0; f < F; f++)
            v += (double)R0[k * F + f] * u[f];
        h2[k] = fmax(v, 0.0);
    }
    for (uint32_t k = 0; k < N; k++) {
        double v = b3[k];
        for (uint32_t j = 0; j < N; j++)
            v += (double)W3[k * N + j] * h2[j];
        h3[k] = fmax(v, 0.0);
    }
    for (uint32_t k = 0; k < N; k++)
        z += (double)w4[k] * h3[k] + (double)r1[k] * h2[k];
    return z;
}

static double batchnorm(const splut_model *m, const splut_layer *L, uint32_t n, double z)
{
    const float *P = m->params, *S = m->state;
    return (z - S[L->run_mean + n]) / sqrt((double)S[L->run_var + n] + 1e-5) *
               P[L->bn_gamma + n] +
           P[L->bn_beta + n];
}

/* Field f (0 = most significant) of an address of `fields` fields of `bits`. */
static uint32_t field(uint64_t addr, uint32_t f, uint32_t fields, uint32_t bits)
{
    return (uint32_t)(addr >> (bits * (fields - 1 - f))) & ((1u << bits) - 1);
}

typedef struct tally {
    size_t checked, near, wrong;
} tally;

static void expect_entry(tally *t, uint32_t got, uint32_t want, bool near, size_t l, uint32_t n,
                         uint32_t tab, uint64_t addr)
{
    t->checked++;
    if (near) {
        t->near++;
        return;
    }
    if (got != want && t->wrong++ < 5)
        print_error("layer %zu neuron %u table %u address %llu: table %u, reference %u\n", l, n,
                    tab, (unsigned long long)addr, got, want);
}

/* Sub tables (or plain tables) of one neuron. */
static void check_sub_tables(const splut_model *m, const splut_tables *tt, size_t l, uint32_t n,
                             tally *t)
{
    const splut_layer *L = &m->layers[l];
    qref in = quant_of(m, splut__layer_in_quant(m, l));
    qref out = quant_of(m, L->kind == SPLUT_NEURON_POLY_ADD ? &L->sub_q : &L->out_q);
    for (uint32_t a = 0; a < L->A; a++) {
        const uint16_t *data;
        assert_int_equal(splut_tables_data(tt, l, n, a, &data), SPLUT_OK);
        const float *w = m->params + L->w + ((size_t)n * L->A + a) * L->T;
        double b = m->params[L->b + (size_t)n * L->A + a];
        for (uint64_t addr = 0; addr < (1ull << (L->F * L->in_bits)); addr++) {
            double x[32];
            for (uint32_t f = 0; f < L->F; f++)
                x[f] = dequant(&in, field(addr, f, L->F, L->in_bits));
            double z = L->kind == SPLUT_NEURON_NEURALUT ? neuralut(w, b, x, L->F, L->N)
                                                         : poly(w, b, x, L->F, L->D);
            if (L->kind != SPLUT_NEURON_POLY_ADD)
                z = batchnorm(m, L, n, z);
            bool near = false;
            uint32_t want = quant(&out, z, &near);
            expect_entry(t, data[addr], want, near, l, n, a, addr);
        }
    }
}

/* Adder table of one POLY_ADD neuron: mean of the sub values, BN, quantiser. */
static void check_adder_table(const splut_model *m, const splut_tables *tt, size_t l,
                              uint32_t n, tally *t)
{
    const splut_layer *L = &m->layers[l];
    qref sub = quant_of(m, &L->sub_q), out = quant_of(m, &L->out_q);
    const uint16_t *data;
    assert_int_equal(splut_tables_data(tt, l, n, SPLUT_TABLE_ADDER, &data), SPLUT_OK);
    for (uint64_t addr = 0; addr < (1ull << (L->A * L->sub_bits)); addr++) {
        double sum = 0;
        for (uint32_t a = 0; a < L->A; a++)
            sum += dequant(&sub, field(addr, a, L->A, L->sub_bits));
        bool near = false;
        uint32_t want = quant(&out, batchnorm(m, L, n, sum / L->A), &near);
        expect_entry(t, data[addr], want, near, l, n, SPLUT_TABLE_ADDER, addr);
    }
}

static void check_model(splut_model *m)
{
    perturb_model(m, 2024);
    splut_tables *tt;
    assert_int_equal(splut_tables_create(m, &tt), SPLUT_OK);
    tally t = {0, 0, 0};
    for (size_t l = 0; l < m->n_layers; l++)
        for (uint32_t n = 0; n < m->layers[l].out; n++) {
            check_sub_tables(m, tt, l, n, &t);
            if (m->layers[l].kind == SPLUT_NEURON_POLY_ADD)
                check_adder_table(m, tt, l, n, &t);
        }
    print_message("%zu entries checked, %zu skipped at a rounding boundary, %zu wrong\n",
                  t.checked, t.near, t.wrong);
    assert_int_equal(t.wrong, 0);
    assert_true(t.near * 100 <= t.checked);
    splut_tables_destroy(tt);
}

/* ---------------------------------------------------------------- models */

static splut_model *tiny(splut_ctx *ctx, uint32_t inputs, uint32_t bits, int64_t mode,
                         const splut_layer_desc *layers, size_t n)
{
    splut_model *m;
    assert_int_equal(splut_model_create(ctx, inputs, bits, &m), SPLUT_OK);
    assert_int_equal(splut_model_set_int(m, SPLUT_P_INPUT_MODE, mode), SPLUT_OK);
    for (size_t l = 0; l < n; l++)
        assert_int_equal(splut_model_add_layer(m, &layers[l]), SPLUT_OK);
    assert_int_equal(splut_model_build(m), SPLUT_OK);
    return m;
}

static splut_layer_desc desc(splut_neuron_kind kind, uint32_t width, uint32_t F, uint32_t bits,
                             uint32_t D, uint32_t A)
{
    splut_layer_desc d = SPLUT_LAYER_DESC_INIT;
    d.kind = (int32_t)kind;
    d.width = width;
    d.fan_in = F;
    d.out_bits = bits;
    if (kind == SPLUT_NEURON_NEURALUT)
        d.hidden = D; /* D carries N for NeuraLUT */
    else
        d.degree = D;
    d.sub_neurons = A;
    return d;
}

static void test_poly_and_linear(void **state)
{
    (void)state;
    splut_ctx *ctx;
    assert_int_equal(splut_ctx_create(NULL, &ctx), SPLUT_OK);
    /* signed 2-bit inputs; POLY (F 2, D 3) → ReLU 3 bits; LINEAR (F 3) → signed 2 bits */
    splut_layer_desc a[] = {desc(SPLUT_NEURON_POLY, 4, 2, 3, 3, 0),
                            desc(SPLUT_NEURON_LINEAR, 3, 3, 2, 1, 0)};
    splut_model *m = tiny(ctx, 5, 2, SPLUT_INPUT_BN_HARDTANH, a, 2);
    check_model(m);
    splut_model_destroy(m);
    /* unsigned 3-bit ReLU inputs, F 3 D 2, then POLY F 2 D 4 */
    splut_layer_desc b[] = {desc(SPLUT_NEURON_POLY, 3, 3, 2, 2, 0),
                            desc(SPLUT_NEURON_POLY, 2, 2, 3, 4, 0)};
    m = tiny(ctx, 6, 3, SPLUT_INPUT_RELU, b, 2);
    check_model(m);
    splut_model_destroy(m);
    splut_ctx_unref(ctx);
}

static void test_poly_add(void **state)
{
    (void)state;
    splut_ctx *ctx;
    assert_int_equal(splut_ctx_create(NULL, &ctx), SPLUT_OK);
    /* A = 2 (F 2, D 2) then A = 3 (F 1, D 2): adder addresses of 2 and 3 fields */
    splut_layer_desc a[] = {desc(SPLUT_NEURON_POLY_ADD, 4, 2, 2, 2, 2),
                            desc(SPLUT_NEURON_POLY_ADD, 2, 1, 3, 2, 3)};
    splut_model *m = tiny(ctx, 6, 2, SPLUT_INPUT_BN_HARDTANH, a, 2);
    check_model(m);
    splut_model_destroy(m);
    splut_ctx_unref(ctx);
}

static void test_neuralut(void **state)
{
    (void)state;
    splut_ctx *ctx;
    assert_int_equal(splut_ctx_create(NULL, &ctx), SPLUT_OK);
    /* N = 4 over F = 2 signed 2-bit inputs, then N = 3 over F = 3 ReLU 3-bit codes */
    splut_layer_desc a[] = {desc(SPLUT_NEURON_NEURALUT, 4, 2, 3, 4, 0),
                            desc(SPLUT_NEURON_NEURALUT, 2, 3, 2, 3, 0)};
    splut_model *m = tiny(ctx, 5, 2, SPLUT_INPUT_BN_HARDTANH, a, 2);
    check_model(m);
    splut_model_destroy(m);
    splut_ctx_unref(ctx);
}

/* A hand-made neuron that reads only its FIRST input: its table must depend
 * only on the most significant address field. */
static void test_first_input_is_msb(void **state)
{
    (void)state;
    splut_ctx *ctx;
    assert_int_equal(splut_ctx_create(NULL, &ctx), SPLUT_OK);
    splut_layer_desc a[] = {desc(SPLUT_NEURON_LINEAR, 1, 3, 2, 1, 0)};
    splut_model *m = tiny(ctx, 3, 2, SPLUT_INPUT_BN_HARDTANH, a, 1);
    const splut_layer *L = &m->layers[0];
    m->params[L->w + 0] = 1.0f; /* x0 */
    m->params[L->w + 1] = 0.0f;
    m->params[L->w + 2] = 0.0f;
    m->params[L->b] = 0.0f;
    m->params[L->out_q.theta] = 0.0f; /* scale 1 */
    m->params[m->in_q.theta] = 0.0f;
    splut_tables *t;
    assert_int_equal(splut_tables_create(m, &t), SPLUT_OK);
    const uint16_t *d;
    assert_int_equal(splut_tables_data(t, 0, 0, 0, &d), SPLUT_OK);
    for (uint32_t addr = 0; addr < 64; addr++) {
        /* input values {-1, -0.5, 0, 0.5}·1 → output code = input code */
        uint32_t msb_field = addr >> 4;
        assert_int_equal(d[addr], msb_field);
    }
    splut_tables_destroy(t);
    splut_model_destroy(m);
    splut_ctx_unref(ctx);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_poly_and_linear),
        cmocka_unit_test(test_poly_add),
        cmocka_unit_test(test_neuralut),
        cmocka_unit_test(test_first_input_is_msb),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
