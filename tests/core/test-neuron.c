/*
 * Quantisers, monomial listing and eval-mode inference: an independent
 * per-sample reference evaluation, input validation and thread-count
 * independence.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include "core-test.h"

#include <math.h>

#include "model-priv.h"

/* ------------------------------------------------------------ monomials */

/* combinations_with_replacement(range(F), d) for d = 1..D, concatenated:
 * written as an odometer over non-decreasing tuples, kept apart from the
 * library's parent/key construction. Returns the number of terms. */
static size_t list_terms(uint32_t F, uint32_t D, uint32_t (*terms)[16], uint32_t *deg,
                         size_t cap)
{
    size_t n = 0;
    for (uint32_t d = 1; d <= D; d++) {
        uint32_t t[16] = {0};
        for (;;) {
            if (n < cap) {
                memcpy(terms[n], t, sizeof(t));
                deg[n] = d;
            }
            n++;
            int i = (int)d - 1;
            while (i >= 0 && t[i] == F - 1)
                i--;
            if (i < 0)
                break;
            uint32_t v = t[i] + 1;
            for (uint32_t j = (uint32_t)i; j < d; j++)
                t[j] = v;
        }
    }
    return n;
}

static uint64_t binomial(uint64_t n, uint64_t k)
{
    uint64_t r = 1;
    for (uint64_t i = 1; i <= k; i++)
        r = r * (n - k + i) / i;
    return r;
}

static void test_monomials_order_and_count(void **state)
{
    splut_ctx *ctx = *state;
    static const uint32_t FD[][2] = {{1, 1}, {1, 3}, {2, 2}, {2, 3}, {3, 1}, {3, 3},
                                     {4, 3}, {2, 4}, {3, 4}, {7, 2}, {6, 4}, {4, 6}};
    enum { CAP = 256 };
    static uint32_t terms[CAP][16];
    static uint32_t deg[CAP];
    for (size_t c = 0; c < sizeof(FD) / sizeof(FD[0]); c++) {
        uint32_t F = FD[c][0], D = FD[c][1];
        size_t T = list_terms(F, D, terms, deg, CAP);
        assert_true(T <= CAP);
        assert_int_equal(T, binomial(F + D, D) - 1);
        assert_int_equal(splut__monos_count(F, D), T);
        splut_monos mo;
        memset(&mo, 0, sizeof(mo));
        assert_int_equal(splut__monos_init(ctx, &mo, F, D), SPLUT_OK);
        assert_int_equal(mo.T, T);
        for (size_t t = 0; t < T; t++) {
            /* rebuild term t's variable list through its parent chain */
            uint32_t vars[16];
            uint32_t k = 0;
            int32_t at = (int32_t)t;
            while (at >= 0) {
                assert_true(k < 16);
                assert_true(at < (int32_t)T);
                vars[k++] = mo.var[at];
                at = mo.parent[at];
            }
            assert_int_equal(k, deg[t]);
            for (uint32_t i = 0; i < k; i++)
                assert_int_equal(vars[k - 1 - i], terms[t][i]);
        }
        splut__monos_free(ctx, &mo);
    }
    /* the typical sizes quoted in MODELS.md §1.3 */
    assert_int_equal(splut__monos_count(4, 6), 209);
    assert_int_equal(splut__monos_count(6, 4), 209);
    assert_int_equal(splut__monos_count(2, 4), 14);
    assert_int_equal(splut__monos_count(3, 4), 34);
    assert_int_equal(splut__monos_count(7, 2), 35);
    assert_int_equal(splut__monos_count(2, 3), 9);
    assert_int_equal(splut__monos_count(1, 3), 3);
    assert_int_equal(splut__monos_count(4, 3), 34);
    /* overflow guard: too many terms → 0 */
    assert_int_equal(splut__monos_count(64, 16), 0);
}

/* ------------------------------------------------------------ quantiser */

static void test_quantize_round_half_even(void **state)
{
    (void)state;
    /* scale = int_scale = 1: the code is round(x) */
    static const float x[] = {0.5f, 1.5f, 2.5f, 3.5f, -0.5f, -1.5f, -2.5f, 0.49999997f, 2.5000002f};
    static const int32_t want[] = {0, 2, 2, 4, 0, -2, -2, 0, 3};
    for (size_t i = 0; i < sizeof(x) / sizeof(x[0]); i++)
        assert_int_equal(splut__quantize(x[i], 1.0f, 1.0f, -100, 100, false), want[i]);
    /* scaled: x / scale * int_scale = x * 4 for scale 0.5, int_scale 2 */
    assert_int_equal(splut__quantize(0.125f, 0.5f, 2.0f, -8, 7, false), 0);  /* 0.5 → 0 */
    assert_int_equal(splut__quantize(0.375f, 0.5f, 2.0f, -8, 7, false), 2);  /* 1.5 → 2 */
    assert_int_equal(splut__quantize(-0.625f, 0.5f, 2.0f, -8, 7, false), -2); /* -2.5 → -2 */
}

static void test_quantize_clamp_relu(void **state)
{
    (void)state;
    /* signed 2-bit: codes -2..1 */
    assert_int_equal(splut__quantize(100.0f, 1.0f, 2.0f, -2, 1, false), 1);
    assert_int_equal(splut__quantize(-100.0f, 1.0f, 2.0f, -2, 1, false), -2);
    assert_int_equal(splut__quantize(0.74f, 1.0f, 2.0f, -2, 1, false), 1);
    assert_int_equal(splut__quantize(-0.76f, 1.0f, 2.0f, -2, 1, false), -2);
    assert_int_equal(splut__quantize(INFINITY, 1.0f, 2.0f, -2, 1, false), 1);
    assert_int_equal(splut__quantize(-INFINITY, 1.0f, 2.0f, -2, 1, false), -2);
    /* ReLU 2-bit: codes 0..3 */
    assert_int_equal(splut__quantize(-5.0f, 1.0f, 3.0f, 0, 3, true), 0);
    assert_int_equal(splut__quantize(-0.0f, 1.0f, 3.0f, 0, 3, true), 0);
    assert_int_equal(splut__quantize(0.5f, 1.0f, 3.0f, 0, 3, true), 2); /* 1.5 → 2 */
    assert_int_equal(splut__quantize(7.0f, 1.0f, 3.0f, 0, 3, true), 3);
    /* the same value without ReLU goes negative */
    assert_int_equal(splut__quantize(-0.5f, 1.0f, 3.0f, -4, 3, false), -2);
    /* NaN maps to the low end, for either activation */
    assert_int_equal(splut__quantize(NAN, 1.0f, 2.0f, -2, 1, false), -2);
    assert_int_equal(splut__quantize(NAN, 1.0f, 3.0f, 0, 3, true), 0);
}

static void test_quant_encoding_round_trip(void **state)
{
    (void)state;
    for (uint8_t bits = 1; bits <= 8; bits++) {
        splut_quant sq = {SPLUT_Q_SIGNED, bits, 0};
        splut_quant uq = {SPLUT_Q_RELU, bits, 0};
        int32_t half = 1 << (bits - 1);
        assert_int_equal(splut__quant_min(&sq), -half);
        assert_int_equal(splut__quant_max(&sq), half - 1);
        assert_int_equal(splut__quant_min(&uq), 0);
        assert_int_equal(splut__quant_max(&uq), (1 << bits) - 1);
        assert_true(splut__quant_int_scale(&sq) == (float)half);
        assert_true(splut__quant_int_scale(&uq) == (float)((1 << bits) - 1));
        for (int32_t c = -half; c < half; c++) {
            uint16_t e = splut__enc(&sq, c);
            assert_int_equal(e, c + half); /* offset binary */
            assert_true(e < (1u << bits));
            assert_int_equal(splut__dec(&sq, e), c);
        }
        for (int32_t c = 0; c < (1 << bits); c++) {
            assert_int_equal(splut__enc(&uq, c), c);
            assert_int_equal(splut__dec(&uq, (uint16_t)c), c);
        }
    }
}

/* ------------------------------------------------- reference evaluation */

static float ref_scale(const splut_model *m, const splut_quant *q)
{
    float s = exp2f(m->params[q->theta]);
    return s > 1.0f / 65536.0f ? s : 1.0f / 65536.0f;
}

static float ref_int_scale(const splut_quant *q)
{
    return q->kind == SPLUT_Q_SIGNED ? (float)(1 << (q->bits - 1)) : (float)((1 << q->bits) - 1);
}

/* Dequantised value of an encoded code. */
static float ref_value(const splut_model *m, const splut_quant *q, uint16_t enc)
{
    int32_t code = q->kind == SPLUT_Q_SIGNED ? (int32_t)enc - (1 << (q->bits - 1)) : enc;
    return (float)code * (ref_scale(m, q) / ref_int_scale(q));
}

/* Encoded code of a pre-activation value (MODELS.md §2). */
static uint16_t ref_code(const splut_model *m, const splut_quant *q, float x)
{
    bool relu = q->kind == SPLUT_Q_RELU;
    if (relu && x < 0.0f)
        x = 0.0f;
    int32_t lo = relu ? 0 : -(1 << (q->bits - 1));
    int32_t hi = relu ? (1 << q->bits) - 1 : (1 << (q->bits - 1)) - 1;
    float v = x / ref_scale(m, q) * ref_int_scale(q);
    v = v < (float)lo ? (float)lo : v > (float)hi ? (float)hi : v;
    int32_t code = (int32_t)nearbyintf(v);
    return (uint16_t)(relu ? code : code + (1 << (q->bits - 1)));
}

/* Polynomial of one (sub-)neuron on F input values: products taken in tuple
 * order, summed in term order after the bias. */
static float ref_poly(const splut_model *m, const splut_layer *L, size_t row, const float *u)
{
    static uint32_t terms[512][16];
    static uint32_t deg[512];
    size_t T = list_terms(L->F, L->D, terms, deg, 512);
    assert_true(T == L->T && T <= 512);
    const float *w = m->params + L->w + row * L->T;
    float z = m->params[L->b + row];
    for (size_t t = 0; t < T; t++) {
        float p = u[terms[t][0]];
        for (uint32_t i = 1; i < deg[t]; i++)
            p = p * u[terms[t][i]];
        z += w[t] * p;
    }
    return z;
}

static float ref_bn(const splut_model *m, const splut_layer *L, uint32_t n, float z)
{
    const float *P = m->params, *S = m->state;
    return (z - S[L->run_mean + n]) / sqrtf(S[L->run_var + n] + 1e-5f) * P[L->bn_gamma + n] +
           P[L->bn_beta + n];
}

static void ref_forward(const splut_model *m, const uint16_t *in, uint16_t *out)
{
    uint16_t cur[64], nxt[64];
    memcpy(cur, in, m->n_inputs * sizeof(uint16_t));
    for (size_t l = 0; l < m->n_layers; l++) {
        const splut_layer *L = &m->layers[l];
        const splut_quant *iq = l == 0 ? &m->in_q : &m->layers[l - 1].out_q;
        for (uint32_t n = 0; n < L->out; n++) {
            const uint32_t *idx = L->conn + (size_t)n * L->A * L->F;
            float sum = 0.0f, z = 0.0f;
            for (uint32_t a = 0; a < L->A; a++) {
                float u[16];
                for (uint32_t f = 0; f < L->F; f++)
                    u[f] = ref_value(m, iq, cur[idx[a * L->F + f]]);
                z = ref_poly(m, L, (size_t)n * L->A + a, u);
                if (L->kind == SPLUT_NEURON_POLY_ADD)
                    sum += ref_value(m, &L->sub_q, ref_code(m, &L->sub_q, z));
            }
            if (L->kind == SPLUT_NEURON_POLY_ADD)
                z = sum / (float)L->A;
            nxt[n] = ref_code(m, &L->out_q, ref_bn(m, L, n, z));
        }
        memcpy(cur, nxt, L->out * sizeof(uint16_t));
    }
    memcpy(out, cur, splut_model_num_outputs(m) * sizeof(uint16_t));
}

static uint16_t *random_codes(size_t count, uint32_t bits, uint64_t seed)
{
    uint16_t *c = malloc(count * sizeof(uint16_t));
    assert_non_null(c);
    uint64_t s = seed | 1;
    for (size_t i = 0; i < count; i++)
        c[i] = (uint16_t)(test_rand(&s) >> 40) & (uint16_t)((1u << bits) - 1);
    return c;
}

static void test_forward_matches_reference(void **state)
{
    splut_ctx *ctx = *state;
    splut_model *m = NULL;
    assert_int_equal(build_mixed_model(ctx, &m), SPLUT_OK);
    assert_int_equal(randomize_params(m, 1234), SPLUT_OK);
    const size_t n = 700;
    uint16_t *in = random_codes(n * 12, 3, 77);
    uint16_t *out = malloc(n * 4 * sizeof(uint16_t));
    assert_non_null(out);
    assert_int_equal(splut_model_forward_codes(m, in, n, out), SPLUT_OK);
    size_t distinct = 0;
    uint16_t first[4];
    for (size_t i = 0; i < n; i++) {
        uint16_t want[4];
        ref_forward(m, in + i * 12, want);
        assert_memory_equal(out + i * 4, want, sizeof(want));
        if (i == 0)
            memcpy(first, want, sizeof(first));
        else
            distinct += memcmp(first, want, sizeof(first)) != 0;
    }
    assert_true(distinct > 0); /* outputs depend on the inputs */
    free(in);
    free(out);
    splut_model_destroy(m);
}

static void test_forward_threads_identical(void **state)
{
    splut_ctx *ctx = *state;
    splut_model *m = NULL;
    assert_int_equal(build_mixed_model(ctx, &m), SPLUT_OK);
    assert_int_equal(randomize_params(m, 555), SPLUT_OK);
    const size_t n = 3001; /* several blocks, and a ragged tail */
    uint16_t *in = random_codes(n * 12, 3, 31337);
    uint16_t *ref = malloc(n * 4 * sizeof(uint16_t));
    uint16_t *out = malloc(n * 4 * sizeof(uint16_t));
    assert_non_null(ref);
    assert_non_null(out);
    assert_int_equal(splut_ctx_set_int(ctx, SPLUT_P_THREADS, 1), SPLUT_OK);
    assert_int_equal(splut_model_forward_codes(m, in, n, ref), SPLUT_OK);
    static const int64_t threads[] = {2, 3, 4, 0};
    for (size_t t = 0; t < 4; t++) {
        memset(out, 0xff, n * 4 * sizeof(uint16_t));
        assert_int_equal(splut_ctx_set_int(ctx, SPLUT_P_THREADS, threads[t]), SPLUT_OK);
        assert_int_equal(splut_model_forward_codes(m, in, n, out), SPLUT_OK);
        assert_memory_equal(ref, out, n * 4 * sizeof(uint16_t));
    }
    /* a sub-range gives the same rows as the whole batch */
    assert_int_equal(splut_model_forward_codes(m, in + 500 * 12, 7, out), SPLUT_OK);
    assert_memory_equal(ref + 500 * 4, out, 7 * 4 * sizeof(uint16_t));
    free(in);
    free(ref);
    free(out);
    splut_model_destroy(m);
}

static void test_forward_rejects_bad_codes(void **state)
{
    splut_ctx *ctx = *state;
    splut_model *m = NULL;
    assert_int_equal(build_mixed_model(ctx, &m), SPLUT_OK);
    uint16_t in[2 * 12] = {0}, out[2 * 4];
    assert_int_equal(splut_model_forward_codes(m, in, 0, out), SPLUT_OK);
    in[12 + 5] = 8; /* 2^3 with 3-bit inputs */
    assert_int_equal(splut_model_forward_codes(m, in, 2, out), SPLUT_E_OUT_OF_RANGE);
    assert_non_null(strstr(splut_ctx_last_error(ctx), "8"));
    in[12 + 5] = 7;
    assert_int_equal(splut_model_forward_codes(m, in, 2, out), SPLUT_OK);
    in[0] = 0xffff;
    assert_int_equal(splut_model_forward_codes(m, in, 2, out), SPLUT_E_OUT_OF_RANGE);
    assert_int_equal(splut_model_forward_codes(m, NULL, 2, out), SPLUT_E_NULL);
    assert_int_equal(splut_model_forward_codes(m, in, 2, NULL), SPLUT_E_NULL);
    assert_int_equal(splut_model_forward_codes(NULL, in, 2, out), SPLUT_E_NULL);
    splut_model_destroy(m);
}

static void test_non_finite_rejected(void **state)
{
    splut_ctx *ctx = *state;
    splut_model *m = NULL;
    assert_int_equal(build_mixed_model(ctx, &m), SPLUT_OK);
    float x[3 * 12];
    for (size_t i = 0; i < 3 * 12; i++)
        x[i] = 0.1f * (float)i - 1.0f;
    uint16_t codes[3 * 12];
    int32_t pred[3];
    assert_int_equal(splut_model_input_codes(m, x, 3, codes), SPLUT_OK);
    assert_int_equal(splut_model_predict(m, x, 3, pred, NULL), SPLUT_OK);
    static const float bad[] = {NAN, INFINITY, -INFINITY};
    for (size_t b = 0; b < 3; b++) {
        float y[3 * 12];
        memcpy(y, x, sizeof(y));
        y[2 * 12 + 11] = bad[b]; /* last feature of the last sample */
        assert_int_equal(splut_model_input_codes(m, y, 3, codes), SPLUT_E_NON_FINITE);
        assert_int_equal(splut_model_predict(m, y, 3, pred, NULL), SPLUT_E_NON_FINITE);
        uint16_t oc[3 * 4];
        assert_int_equal(splut_model_predict(m, y, 3, NULL, oc), SPLUT_E_NON_FINITE);
    }
    splut_model_destroy(m);
}

/* Input stage against MODELS.md §1.1 / §2 written out here. */
static void test_input_codes_reference(void **state)
{
    splut_ctx *ctx = *state;
    for (int mode = 0; mode < 2; mode++) {
        splut_model *m = NULL;
        assert_int_equal(splut_model_create(ctx, 5, 3, &m), SPLUT_OK);
        assert_int_equal(splut_model_set_int(m, SPLUT_P_INPUT_MODE, mode), SPLUT_OK);
        splut_layer_desc d = layer_desc(SPLUT_NEURON_LINEAR, 2, 2, 2, 1, 0);
        assert_int_equal(splut_model_add_layer(m, &d), SPLUT_OK);
        assert_int_equal(splut_model_build(m), SPLUT_OK);
        assert_int_equal(randomize_params(m, 9 + (uint64_t)mode), SPLUT_OK);
        enum { N = 400 };
        float x[N * 5];
        uint64_t s = 4242;
        for (size_t i = 0; i < N * 5; i++)
            x[i] = test_uniform(&s, 2.0f);
        x[0] = 0.0f;
        uint16_t codes[N * 5];
        assert_int_equal(splut_model_input_codes(m, x, N, codes), SPLUT_OK);
        const float *P = m->params, *S = m->state;
        for (size_t i = 0; i < N; i++) {
            for (uint32_t f = 0; f < 5; f++) {
                float v = x[i * 5 + f];
                if (mode == SPLUT_INPUT_BN_HARDTANH)
                    v = (v - S[m->in_run_mean + f]) / sqrtf(S[m->in_run_var + f] + 1e-5f) *
                            P[m->in_gamma + f] +
                        P[m->in_beta + f] + P[m->in_bias];
                assert_int_equal(codes[i * 5 + f], ref_code(m, &m->in_q, v));
            }
        }
        splut_model_destroy(m);
    }
}

/* classify: argmax of the decoded output values, lowest index on ties. */
static void test_classify_codes(void **state)
{
    splut_ctx *ctx = *state;
    splut_model *m = NULL;
    assert_int_equal(build_mixed_model(ctx, &m), SPLUT_OK); /* 4 outputs of 2 bits */
    enum { N = 256 };
    uint16_t oc[N * 4];
    for (size_t i = 0; i < N; i++)
        for (size_t k = 0; k < 4; k++)
            oc[i * 4 + k] = (uint16_t)((i >> (2 * k)) & 3); /* every combination */
    int32_t pred[N];
    assert_int_equal(splut_model_classify_codes(m, oc, N, pred), SPLUT_OK);
    for (size_t i = 0; i < N; i++) {
        int32_t best = 0;
        for (int32_t k = 1; k < 4; k++)
            if (oc[i * 4 + k] > oc[i * 4 + best])
                best = k;
        assert_int_equal(pred[i], best);
    }
    assert_int_equal(splut_model_classify_codes(m, oc, N, NULL), SPLUT_E_NULL);
    splut_model_destroy(m);
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, setup_ctx, teardown_ctx)
    const struct CMUnitTest tests[] = {
        T(test_monomials_order_and_count),
        cmocka_unit_test(test_quantize_round_half_even),
        cmocka_unit_test(test_quantize_clamp_relu),
        cmocka_unit_test(test_quant_encoding_round_trip),
        T(test_forward_matches_reference),
        T(test_forward_threads_identical),
        T(test_forward_rejects_bad_codes),
        T(test_non_finite_rejected),
        T(test_input_codes_reference),
        T(test_classify_codes),
    };
#undef T
    return cmocka_run_group_tests_name("core-neuron", tests, NULL, NULL);
}
