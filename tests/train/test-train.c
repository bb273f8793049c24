/*
 * Training engine tests: finite-difference gradient checks for every neuron
 * kind, bit-identical results for any thread count, learning on a synthetic
 * task, and the error paths of splut_trainer_step.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "train-priv.h"

typedef struct layer_spec {
    splut_neuron_kind kind;
    uint32_t width, fan_in, bits, degree, subs, hidden;
} layer_spec;

static splut_model *make_model(splut_ctx *ctx, uint32_t n_in, uint32_t in_bits,
                               const layer_spec *ls, size_t n_layers)
{
    splut_model *m = NULL;
    assert_int_equal(splut_model_create(ctx, n_in, in_bits, &m), SPLUT_OK);
    for (size_t i = 0; i < n_layers; i++) {
        splut_layer_desc d = SPLUT_LAYER_DESC_INIT;
        d.kind = (int32_t)ls[i].kind;
        d.width = ls[i].width;
        d.fan_in = ls[i].fan_in;
        d.out_bits = ls[i].bits;
        d.degree = ls[i].degree;
        d.sub_neurons = ls[i].subs;
        d.hidden = ls[i].hidden;
        assert_int_equal(splut_model_add_layer(m, &d), SPLUT_OK);
    }
    assert_int_equal(splut_model_build(m), SPLUT_OK);
    return m;
}

static uint64_t lcg(uint64_t *s)
{
    *s = *s * 6364136223846793005ull + 1442695040888963407ull;
    return *s >> 33;
}

static float frand(uint64_t *s)
{
    return (float)lcg(s) / 2147483648.0f * 2.0f - 1.0f;
}

static void random_batch(uint64_t seed, size_t n, uint32_t n_in, int classes, float *x,
                         int32_t *y)
{
    uint64_t s = seed;
    for (size_t i = 0; i < n * n_in; i++)
        x[i] = 2.0f * frand(&s);
    for (size_t i = 0; i < n; i++)
        y[i] = (int32_t)(lcg(&s) % (uint64_t)classes);
}

/* Loss at the current parameters (rounding disabled, no update). */
static double loss_at(splut_trainer *t, const float *x, const int32_t *y, size_t n)
{
    double l = 0;
    assert_int_equal(splut_trainer_loss_grad(t, x, y, n, &l, NULL), SPLUT_OK);
    return l;
}

/*
 * Central differences against the analytic gradient, every parameter. With
 * rounding disabled the quantisers are piecewise linear; a perturbation may
 * still cross a clamp or ReLU kink, so a small fraction of mismatches is
 * tolerated, while a wrong formula fails most parameters of its kind.
 */
static void fd_check_mode(const layer_spec *ls, size_t n_layers, uint32_t n_in, int classes,
                          bool frozen_bn)
{
    splut_ctx *ctx;
    assert_int_equal(splut_ctx_create(NULL, &ctx), SPLUT_OK);
    splut_ctx_set_int(ctx, SPLUT_P_THREADS, 1);
    splut_model *m = make_model(ctx, n_in, 3, ls, n_layers);
    splut_trainer *t;
    assert_int_equal(splut_trainer_create(m, &t), SPLUT_OK);
    assert_int_equal(splut__trainer_set_exact_round(t, false), SPLUT_OK);
    /* widen the quantiser ranges so most values sit inside them */
    size_t np = splut_model_num_params(m);
    const size_t n = 24;
    float *x = malloc(n * n_in * sizeof(float));
    int32_t *y = malloc(n * sizeof(int32_t));
    float *g = malloc(np * sizeof(float)), *p = malloc(np * sizeof(float));
    if (frozen_bn) {
        /* running statistics of another batch, so they differ from this one's */
        random_batch(43, n, n_in, classes, x, y);
        assert_int_equal(splut_trainer_calibrate_bn(t, x, n, n), SPLUT_OK);
        assert_int_equal(splut_trainer_set_int(t, SPLUT_P_BN_FROZEN, 1), SPLUT_OK);
    }
    random_batch(42, n, n_in, classes, x, y);
    double l0;
    assert_int_equal(splut_trainer_loss_grad(t, x, y, n, &l0, g), SPLUT_OK);
    assert_int_equal(splut_model_params(m, p, 1), SPLUT_OK);
    size_t bad = 0, checked = 0, nonzero = 0;
    for (size_t i = 0; i < np; i++) {
        float orig = p[i];
        float h = 1e-3f * fmaxf(1.0f, fabsf(orig));
        p[i] = orig + h;
        splut_model_params(m, p, 0);
        double lp = loss_at(t, x, y, n);
        p[i] = orig - h;
        splut_model_params(m, p, 0);
        double lm = loss_at(t, x, y, n);
        p[i] = orig;
        splut_model_params(m, p, 0);
        double fd = (lp - lm) / (2.0 * (double)h);
        double err = fabs(fd - g[i]);
        double tol = 2e-3 + 5e-2 * fmax(fabs(fd), fabs(g[i]));
        checked++;
        nonzero += fabs(g[i]) > 1e-6;
        if (err > tol) {
            bad++;
            print_message("param %zu: analytic %.6g finite-difference %.6g\n", i, g[i], fd);
        }
    }
    print_message("fd check: %zu params, %zu non-zero gradients, %zu mismatches\n", checked,
                  nonzero, bad);
    assert_true(nonzero > checked / 3);
    assert_true(bad * 50 <= checked);
    free(x);
    free(y);
    free(g);
    free(p);
    splut_trainer_destroy(t);
    splut_model_destroy(m);
    splut_ctx_unref(ctx);
}

static void fd_check(const layer_spec *ls, size_t n_layers, uint32_t n_in, int classes)
{
    fd_check_mode(ls, n_layers, n_in, classes, false);
}

static void test_fd_linear(void **state)
{
    (void)state;
    layer_spec ls[] = {{SPLUT_NEURON_LINEAR, 6, 3, 3, 1, 0, 0}, {SPLUT_NEURON_LINEAR, 4, 3, 3, 1, 0, 0}};
    fd_check(ls, 2, 8, 4);
}

static void test_fd_poly(void **state)
{
    (void)state;
    layer_spec ls[] = {{SPLUT_NEURON_POLY, 6, 2, 3, 3, 0, 0}, {SPLUT_NEURON_POLY, 4, 3, 3, 2, 0, 0}};
    fd_check(ls, 2, 8, 4);
}

static void test_fd_poly_add(void **state)
{
    (void)state;
    layer_spec ls[] = {{SPLUT_NEURON_POLY_ADD, 6, 2, 3, 3, 2, 0},
                       {SPLUT_NEURON_POLY_ADD, 4, 2, 3, 2, 3, 0}};
    fd_check(ls, 2, 8, 4);
}

static void test_fd_neuralut(void **state)
{
    (void)state;
    layer_spec ls[] = {{SPLUT_NEURON_NEURALUT, 5, 3, 3, 0, 0, 4},
                       {SPLUT_NEURON_NEURALUT, 4, 2, 3, 0, 0, 3}};
    fd_check(ls, 2, 8, 4);
}

/* Frozen BatchNorm (SPLUT_P_BN_FROZEN): every kind, input stage included. */
static void test_fd_frozen_bn(void **state)
{
    (void)state;
    layer_spec lin[] = {{SPLUT_NEURON_LINEAR, 6, 3, 3, 1, 0, 0},
                        {SPLUT_NEURON_LINEAR, 4, 3, 3, 1, 0, 0}};
    layer_spec poly[] = {{SPLUT_NEURON_POLY, 6, 2, 3, 3, 0, 0},
                         {SPLUT_NEURON_POLY, 4, 3, 3, 2, 0, 0}};
    layer_spec add[] = {{SPLUT_NEURON_POLY_ADD, 6, 2, 3, 3, 2, 0},
                        {SPLUT_NEURON_POLY_ADD, 4, 2, 3, 2, 3, 0}};
    layer_spec nl[] = {{SPLUT_NEURON_NEURALUT, 5, 3, 3, 0, 0, 4},
                       {SPLUT_NEURON_NEURALUT, 4, 2, 3, 0, 0, 3}};
    fd_check_mode(lin, 2, 8, 4, true);
    fd_check_mode(poly, 2, 8, 4, true);
    fd_check_mode(add, 2, 8, 4, true);
    fd_check_mode(nl, 2, 8, 4, true);
}

static void test_fd_bce(void **state)
{
    (void)state;
    layer_spec ls[] = {{SPLUT_NEURON_POLY, 5, 2, 3, 2, 0, 0}, {SPLUT_NEURON_POLY_ADD, 1, 2, 3, 2, 2, 0}};
    fd_check(ls, 2, 6, 2);
}

/* Train a few steps; return the serialised trainer state: the model file
 * bytes (every parameter, every BatchNorm statistic, metadata) followed by
 * both AdamW moment vectors. */
static uint8_t *train_with_threads(int threads, size_t *size)
{
    splut_ctx *ctx;
    assert_int_equal(splut_ctx_create(NULL, &ctx), SPLUT_OK);
    assert_int_equal(splut_ctx_set_int(ctx, SPLUT_P_THREADS, threads), SPLUT_OK);
    assert_int_equal(splut_ctx_set_int(ctx, SPLUT_P_SEED, 99), SPLUT_OK);
    layer_spec ls[] = {{SPLUT_NEURON_POLY_ADD, 48, 3, 2, 2, 2, 0},
                       {SPLUT_NEURON_POLY, 32, 3, 2, 2, 0, 0},
                       {SPLUT_NEURON_LINEAR, 10, 4, 2, 1, 0, 0}};
    splut_model *m = make_model(ctx, 64, 2, ls, 3);
    splut_trainer *t;
    assert_int_equal(splut_trainer_create(m, &t), SPLUT_OK);
    splut_trainer_set_int(t, SPLUT_P_RESTART_PERIOD, 5);
    const size_t n = 37;
    float *x = malloc(n * 64 * sizeof(float));
    int32_t *y = malloc(n * sizeof(int32_t));
    for (int s = 0; s < 4; s++) {
        random_batch(1000 + (uint64_t)s, n, 64, 10, x, y);
        double l;
        assert_int_equal(splut_trainer_step(t, x, y, n, &l), SPLUT_OK);
    }
    size_t nm = 0, moments = 2 * m->n_params * sizeof(float);
    assert_int_equal(splut_model_serialize(m, NULL, 0, &nm), SPLUT_OK);
    uint8_t *bytes = malloc(nm + moments);
    assert_int_equal(splut_model_serialize(m, bytes, nm, &nm), SPLUT_OK);
    memcpy(bytes + nm, t->m1, moments / 2);
    memcpy(bytes + nm + moments / 2, t->m2, moments / 2);
    *size = nm + moments;
    free(x);
    free(y);
    splut_trainer_destroy(t);
    splut_model_destroy(m);
    splut_ctx_unref(ctx);
    return bytes;
}

static void test_thread_count_invariance(void **state)
{
    (void)state;
    size_t n1;
    uint8_t *b1 = train_with_threads(1, &n1);
    int counts[] = {2, 4};
    for (int i = 0; i < 2; i++) {
        size_t n;
        uint8_t *b = train_with_threads(counts[i], &n);
        assert_int_equal(n, n1);
        assert_memory_equal(b, b1, n); /* parameters, BN statistics, moments */
        free(b);
    }
    free(b1);
}

/* Parameters AdamW decays (the reference's groups), read from the layout:
 * input BN gammas, every weight block, BN gammas, the output scale weight. */
static uint8_t *decay_mask(const splut_model *m)
{
    uint8_t *d = calloc(m->n_params, 1);
    assert_non_null(d);
    if (m->input_mode == SPLUT_INPUT_BN_HARDTANH)
        memset(d + m->in_gamma, 1, m->n_inputs);
    for (size_t l = 0; l < m->n_layers; l++) {
        const splut_layer *L = &m->layers[l];
        assert_true(L->kind != SPLUT_NEURON_NEURALUT); /* its hidden biases differ */
        memset(d + L->w, 1, (size_t)L->out * L->A * L->T);
        memset(d + L->bn_gamma, 1, L->out);
        if (L->last)
            d[L->post_weight] = 1;
    }
    return d;
}

/* Two AdamW steps with weight decay, computed here in double from each step's
 * gradient: p ← p·(1 − lr·wd) on decayed parameters, then
 * p ← p − lr/(1−β1^k) · m1 / (sqrt(m2/(1−β2^k)) + ε). */
static void test_adamw_golden_steps(void **state)
{
    (void)state;
    splut_ctx *ctx;
    assert_int_equal(splut_ctx_create(NULL, &ctx), SPLUT_OK);
    assert_int_equal(splut_ctx_set_int(ctx, SPLUT_P_THREADS, 1), SPLUT_OK);
    layer_spec ls[] = {{SPLUT_NEURON_POLY_ADD, 12, 2, 2, 2, 2, 0},
                       {SPLUT_NEURON_LINEAR, 4, 3, 2, 1, 0, 0}};
    splut_model *m = make_model(ctx, 16, 2, ls, 2);
    splut_trainer *t;
    assert_int_equal(splut_trainer_create(m, &t), SPLUT_OK);
    const double lr = 0.01, wd = 0.3, b1 = 0.9, b2 = 0.99, eps = 1e-8;
    assert_int_equal(splut_trainer_set_double(t, SPLUT_P_LEARNING_RATE, lr), SPLUT_OK);
    assert_int_equal(splut_trainer_set_double(t, SPLUT_P_WEIGHT_DECAY, wd), SPLUT_OK);
    assert_int_equal(splut_trainer_set_double(t, SPLUT_P_BETA1, b1), SPLUT_OK);
    assert_int_equal(splut_trainer_set_double(t, SPLUT_P_BETA2, b2), SPLUT_OK);
    assert_int_equal(splut_trainer_set_double(t, SPLUT_P_ADAM_EPS, eps), SPLUT_OK);
    size_t np = m->n_params, decayed = 0;
    uint8_t *decay = decay_mask(m);
    double *p = malloc(np * sizeof(double)), *m1 = calloc(np, sizeof(double)),
           *m2 = calloc(np, sizeof(double));
    for (size_t i = 0; i < np; i++)
        p[i] = m->params[i];
    const size_t n = 24;
    float x[24 * 16];
    int32_t y[24];
    for (int k = 1; k <= 2; k++) {
        random_batch(500 + (uint64_t)k, n, 16, 4, x, y);
        double loss;
        assert_int_equal(splut_trainer_step(t, x, y, n, &loss), SPLUT_OK);
        const float *g = splut__trainer_grad(t);
        double bc1 = 1 - pow(b1, k), bc2 = 1 - pow(b2, k);
        for (size_t i = 0; i < np; i++) {
            if (decay[i])
                p[i] *= 1 - lr * wd;
            m1[i] = b1 * m1[i] + (1 - b1) * g[i];
            m2[i] = b2 * m2[i] + (1 - b2) * (double)g[i] * g[i];
            p[i] -= lr / bc1 * m1[i] / (sqrt(m2[i] / bc2) + eps);
            double tol = 1e-5 * fabs(p[i]) + 1e-6;
            if (fabs(m->params[i] - p[i]) > tol)
                fail_msg("step %d, parameter %zu (decay %d): %.9g, expected %.9g", k, i,
                         decay[i], m->params[i], p[i]);
        }
    }
    /* the decay term is far above the tolerance on many parameters, so a step
     * without it cannot pass */
    for (size_t i = 0; i < np; i++)
        decayed += decay[i] && fabs(p[i]) * lr * wd > 100 * (1e-5 * fabs(p[i]) + 1e-6);
    assert_true(decayed > np / 4);
    free(p);
    free(m1);
    free(m2);
    free(decay);
    splut_trainer_destroy(t);
    splut_model_destroy(m);
    splut_ctx_unref(ctx);
}

/* Labels from a fixed rule the network can learn: sign pattern of two features. */
static void test_learns_synthetic_task(void **state)
{
    (void)state;
    splut_ctx *ctx;
    assert_int_equal(splut_ctx_create(NULL, &ctx), SPLUT_OK);
    splut_ctx_set_int(ctx, SPLUT_P_THREADS, 2);
    layer_spec ls[] = {{SPLUT_NEURON_POLY_ADD, 32, 2, 2, 2, 2, 0}, {SPLUT_NEURON_POLY, 4, 4, 3, 2, 0, 0}};
    splut_model *m = make_model(ctx, 8, 2, ls, 2);
    splut_trainer *t;
    assert_int_equal(splut_trainer_create(m, &t), SPLUT_OK);
    splut_trainer_set_double(t, SPLUT_P_LEARNING_RATE, 1e-2);
    const size_t n = 64, test_n = 1024;
    float *x = malloc(test_n * 8 * sizeof(float));
    int32_t *y = malloc(test_n * sizeof(int32_t)), *pred = malloc(test_n * sizeof(int32_t));
    uint64_t s = 7;
    double first = 0, last = 0;
    for (int step = 0; step < 400; step++) {
        for (size_t i = 0; i < n; i++) {
            for (int f = 0; f < 8; f++)
                x[i * 8 + f] = frand(&s);
            y[i] = (x[i * 8 + 1] > 0) * 2 + (x[i * 8 + 5] > 0);
        }
        double l;
        assert_int_equal(splut_trainer_step(t, x, y, n, &l), SPLUT_OK);
        if (step < 20)
            first += l / 20;
        if (step >= 380)
            last += l / 20;
    }
    for (size_t i = 0; i < test_n; i++) {
        for (int f = 0; f < 8; f++)
            x[i * 8 + f] = frand(&s);
        y[i] = (x[i * 8 + 1] > 0) * 2 + (x[i * 8 + 5] > 0);
    }
    assert_int_equal(splut_model_predict(m, x, test_n, pred, NULL), SPLUT_OK);
    size_t ok = 0;
    for (size_t i = 0; i < test_n; i++)
        ok += pred[i] == y[i];
    print_message("loss %.3f -> %.3f, eval accuracy %.3f\n", first, last, (double)ok / test_n);
    assert_true(last < 0.7 * first);
    assert_true(ok > test_n * 6 / 10); /* chance is 0.25 */
    free(x);
    free(y);
    free(pred);
    splut_trainer_destroy(t);
    splut_model_destroy(m);
    splut_ctx_unref(ctx);
}

static void test_step_errors(void **state)
{
    (void)state;
    splut_ctx *ctx;
    assert_int_equal(splut_ctx_create(NULL, &ctx), SPLUT_OK);
    layer_spec ls[] = {{SPLUT_NEURON_POLY, 4, 2, 2, 2, 0, 0}, {SPLUT_NEURON_POLY, 3, 2, 2, 2, 0, 0}};
    splut_model *m = make_model(ctx, 5, 2, ls, 2);
    splut_trainer *t;
    assert_int_equal(splut_trainer_create(m, &t), SPLUT_OK);
    float x[8 * 5];
    int32_t y[8];
    random_batch(3, 8, 5, 3, x, y);
    size_t np = splut_model_num_params(m);
    float *before = malloc(np * sizeof(float)), *after = malloc(np * sizeof(float));
    splut_model_params(m, before, 1);
    double l;
    assert_int_equal(splut_trainer_step(t, x, y, 1, &l), SPLUT_E_INVALID);
    assert_int_equal(splut_trainer_step(t, NULL, y, 8, &l), SPLUT_E_NULL);
    assert_int_equal(splut_trainer_step(NULL, x, y, 8, &l), SPLUT_E_NULL);
    y[3] = 3;
    assert_int_equal(splut_trainer_step(t, x, y, 8, &l), SPLUT_E_LABEL);
    assert_non_null(strstr(splut_ctx_last_error(ctx), "sample 3"));
    y[3] = -1;
    assert_int_equal(splut_trainer_step(t, x, y, 8, &l), SPLUT_E_LABEL);
    y[3] = 0;
    x[7] = NAN;
    assert_int_equal(splut_trainer_step(t, x, y, 8, &l), SPLUT_E_NON_FINITE);
    x[7] = INFINITY;
    assert_int_equal(splut_trainer_step(t, x, y, 8, &l), SPLUT_E_NON_FINITE);
    x[7] = 0.5f;
    splut_model_params(m, after, 1);
    assert_memory_equal(before, after, np * sizeof(float));
    /* a huge output scale weight makes the loss non-finite: nothing may change */
    const splut_layer *L = &m->layers[1];
    before[L->post_weight] = 3e38f;
    splut_model_params(m, before, 0);
    float *state_before = malloc(m->n_state * sizeof(float));
    memcpy(state_before, m->state, m->n_state * sizeof(float));
    assert_int_equal(splut_trainer_step(t, x, y, 8, &l), SPLUT_E_DIVERGED);
    splut_model_params(m, after, 1);
    assert_memory_equal(before, after, np * sizeof(float));
    assert_memory_equal(state_before, m->state, m->n_state * sizeof(float));
    int64_t step = -1;
    splut_trainer_get_int(t, SPLUT_P_STEP, &step);
    assert_int_equal(step, 0);
    free(state_before);
    free(before);
    free(after);
    splut_trainer_destroy(t);
    splut_model_destroy(m);
    splut_ctx_unref(ctx);
}

static void test_trainer_params(void **state)
{
    (void)state;
    splut_ctx *ctx;
    splut_model *m;
    assert_int_equal(splut_ctx_create(NULL, &ctx), SPLUT_OK);
    assert_int_equal(splut_model_create_preset(ctx, "jsc-m-lite-add2", &m), SPLUT_OK);
    splut_trainer *t;
    assert_int_equal(splut_trainer_create(m, &t), SPLUT_OK);
    double v;
    assert_int_equal(splut_trainer_get_double(t, SPLUT_P_LEARNING_RATE, &v), SPLUT_OK);
    assert_true(v == 1e-3); /* the preset's recipe */
    assert_int_equal(splut_trainer_get_double(t, SPLUT_P_BETA1, &v), SPLUT_OK);
    assert_true(v == 0.5);
    assert_int_equal(splut_trainer_set_double(t, SPLUT_P_LEARNING_RATE, -1), SPLUT_E_OUT_OF_RANGE);
    assert_int_equal(splut_trainer_set_double(t, SPLUT_P_LEARNING_RATE, 0), SPLUT_E_OUT_OF_RANGE);
    assert_int_equal(splut_trainer_get_double(t, SPLUT_P_LEARNING_RATE, &v), SPLUT_OK);
    assert_true(v == 1e-3);
    assert_int_equal(splut_trainer_set_int(t, SPLUT_P_LEARNING_RATE, 1), SPLUT_E_PARAM_TYPE);
    assert_int_equal(splut_trainer_set_int(t, SPLUT_P_THREADS, 1), SPLUT_E_UNKNOWN_PARAM);
    assert_int_equal(splut_trainer_set_int(t, SPLUT_P_RESTART_PERIOD, 100), SPLUT_OK);
    int64_t iv;
    assert_int_equal(splut_trainer_get_int(t, SPLUT_P_RESTART_PERIOD, &iv), SPLUT_OK);
    assert_int_equal(iv, 100);
    splut_trainer_destroy(t);
    splut_model_destroy(m);
    splut_ctx_unref(ctx);
}

/* loss_grad must not touch running statistics or the optimiser. */
static void test_loss_grad_is_pure(void **state)
{
    (void)state;
    splut_ctx *ctx;
    assert_int_equal(splut_ctx_create(NULL, &ctx), SPLUT_OK);
    layer_spec ls[] = {{SPLUT_NEURON_POLY_ADD, 6, 2, 2, 2, 2, 0}, {SPLUT_NEURON_POLY, 3, 2, 2, 2, 0, 0}};
    splut_model *m = make_model(ctx, 6, 2, ls, 2);
    splut_trainer *t;
    assert_int_equal(splut_trainer_create(m, &t), SPLUT_OK);
    float x[16 * 6];
    int32_t y[16];
    random_batch(5, 16, 6, 3, x, y);
    float *st0 = malloc(m->n_state * sizeof(float));
    memcpy(st0, m->state, m->n_state * sizeof(float));
    double l1, l2;
    assert_int_equal(splut_trainer_loss_grad(t, x, y, 16, &l1, NULL), SPLUT_OK);
    assert_int_equal(splut_trainer_loss_grad(t, x, y, 16, &l2, NULL), SPLUT_OK);
    assert_true(l1 == l2);
    assert_memory_equal(st0, m->state, m->n_state * sizeof(float));
    assert_int_equal(splut_trainer_step(t, x, y, 16, &l2), SPLUT_OK);
    assert_true(l1 == l2);
    assert_memory_not_equal(st0, m->state, m->n_state * sizeof(float));
    free(st0);
    splut_trainer_destroy(t);
    splut_model_destroy(m);
    splut_ctx_unref(ctx);
}

/* ------------------------------------------------ frozen BatchNorm */

static splut_model *calib_model(splut_ctx *ctx);

/* Mean cross-entropy of the eval-mode model's output values. */
static double eval_mode_loss(const splut_model *m, const float *x, const int32_t *y, size_t n)
{
    size_t O = splut_model_num_outputs(m);
    uint16_t *codes = malloc(n * O * sizeof(uint16_t));
    float *v = malloc(n * O * sizeof(float));
    assert_int_equal(splut_model_predict(m, x, n, NULL, codes), SPLUT_OK);
    assert_int_equal(splut_model_output_values(m, codes, n, v), SPLUT_OK);
    double sum = 0.0;
    for (size_t i = 0; i < n; i++) {
        const float *z = v + i * O;
        double mx = z[0], se = 0.0;
        for (size_t o = 1; o < O; o++)
            mx = fmax(mx, z[o]);
        for (size_t o = 0; o < O; o++)
            se += exp(z[o] - mx);
        sum += mx + log(se) - z[y[i]];
    }
    free(codes);
    free(v);
    return sum / (double)n;
}

/* With frozen statistics a training step optimises exactly the eval-mode
 * function, leaves the statistics alone and still updates the parameters. */
static void test_frozen_bn_trains_eval_function(void **state)
{
    (void)state;
    splut_ctx *ctx;
    assert_int_equal(splut_ctx_create(NULL, &ctx), SPLUT_OK);
    splut_model *m = calib_model(ctx);
    splut_trainer *t;
    assert_int_equal(splut_trainer_create(m, &t), SPLUT_OK);
    int64_t v = -1;
    assert_int_equal(splut_trainer_get_int(t, SPLUT_P_BN_FROZEN, &v), SPLUT_OK);
    assert_int_equal(v, 0);
    assert_int_equal(splut_trainer_set_int(t, SPLUT_P_BN_FROZEN, 2), SPLUT_E_OUT_OF_RANGE);
    enum { N = 32 };
    float xa[N * 6], xb[N * 6];
    int32_t ya[N], yb[N];
    random_batch(21, N, 6, 3, xa, ya);
    random_batch(22, N, 6, 3, xb, yb);
    for (int k = 0; k < 3; k++) /* move the parameters away from the initialisation */
        assert_int_equal(splut_trainer_step(t, xa, ya, N, NULL), SPLUT_OK);
    assert_int_equal(splut_trainer_calibrate_bn(t, xa, N, N), SPLUT_OK);
    double expect = eval_mode_loss(m, xb, yb, N), batch_stats = 0.0, frozen = 0.0;
    assert_int_equal(splut_trainer_loss_grad(t, xb, yb, N, &batch_stats, NULL), SPLUT_OK);
    assert_int_equal(splut_trainer_set_int(t, SPLUT_P_BN_FROZEN, 1), SPLUT_OK);
    assert_int_equal(splut_trainer_loss_grad(t, xb, yb, N, &frozen, NULL), SPLUT_OK);
    print_message("eval-mode loss %.9g, frozen %.9g, batch statistics %.9g\n", expect, frozen,
                  batch_stats);
    assert_float_equal(frozen, expect, 1e-6 * fmax(1.0, expect));
    assert_true(fabs(batch_stats - expect) > 1e-4);
    float *s0 = malloc(m->n_state * sizeof(float)), *p0 = malloc(m->n_params * sizeof(float));
    memcpy(s0, m->state, m->n_state * sizeof(float));
    memcpy(p0, m->params, m->n_params * sizeof(float));
    assert_int_equal(splut_trainer_step(t, xb, yb, N, NULL), SPLUT_OK);
    assert_memory_equal(s0, m->state, m->n_state * sizeof(float));
    assert_memory_not_equal(p0, m->params, m->n_params * sizeof(float));
    free(s0);
    free(p0);
    splut_trainer_destroy(t);
    splut_model_destroy(m);
    splut_ctx_unref(ctx);
}

/* ------------------------------------------------ BatchNorm calibration */

static splut_model *calib_model(splut_ctx *ctx)
{
    layer_spec ls[] = {{SPLUT_NEURON_POLY_ADD, 6, 2, 2, 2, 2, 0},
                       {SPLUT_NEURON_NEURALUT, 5, 2, 2, 0, 0, 3},
                       {SPLUT_NEURON_POLY, 3, 2, 2, 2, 0, 0}};
    return make_model(ctx, 6, 2, ls, 3);
}

typedef void (*bn_slot_fn)(const splut_model *m, size_t mean_slot, size_t var_slot, void *arg);

/* Every BatchNorm of the model: the input stage's, then each layer's. */
static size_t for_each_bn_slot(const splut_model *m, bn_slot_fn fn, void *arg)
{
    size_t count = 0;
    if (m->input_mode == SPLUT_INPUT_BN_HARDTANH)
        for (uint32_t f = 0; f < m->n_inputs; f++, count++)
            fn(m, m->in_run_mean + f, m->in_run_var + f, arg);
    for (size_t l = 0; l < m->n_layers; l++)
        for (uint32_t n = 0; n < m->layers[l].out; n++, count++)
            fn(m, m->layers[l].run_mean + n, m->layers[l].run_var + n, arg);
    return count;
}

typedef struct implied_stats {
    const float *stepped; /* state after one training step from the initial 0 / 1 */
    size_t checked;
} implied_stats;

/* A step blends running = 0.9·initial + 0.1·batch (initial mean 0, var 1),
 * so the batch statistics it used are recoverable from its result. */
static void check_against_step(const splut_model *m, size_t ms, size_t vs, void *arg)
{
    implied_stats *c = arg;
    double mean = c->stepped[ms] / 0.1, var = (c->stepped[vs] - 0.9) / 0.1;
    assert_float_equal(m->state[ms], mean, 1e-4 * fmax(1.0, fabs(mean)));
    assert_float_equal(m->state[vs], var, 1e-4 * fmax(1.0, fabs(var)));
    c->checked++;
}

/* One batch: calibration gives that batch's mean and unbiased variance, the
 * values a training step blends into its moving average. */
static void test_calibrate_one_batch_matches_step(void **state)
{
    (void)state;
    splut_ctx *ctx;
    assert_int_equal(splut_ctx_create(NULL, &ctx), SPLUT_OK);
    splut_model *a = calib_model(ctx), *b = NULL;
    assert_int_equal(splut_model_clone(a, &b), SPLUT_OK);
    float x[16 * 6];
    int32_t y[16];
    random_batch(11, 16, 6, 3, x, y);
    splut_trainer *ta, *tb;
    assert_int_equal(splut_trainer_create(a, &ta), SPLUT_OK);
    assert_int_equal(splut_trainer_create(b, &tb), SPLUT_OK);
    assert_int_equal(splut_trainer_step(ta, x, y, 16, NULL), SPLUT_OK);
    float *p0 = malloc(b->n_params * sizeof(float));
    memcpy(p0, b->params, b->n_params * sizeof(float));
    assert_int_equal(splut_trainer_calibrate_bn(tb, x, 16, 16), SPLUT_OK);
    implied_stats c = {a->state, 0};
    size_t slots = for_each_bn_slot(b, check_against_step, &c);
    assert_int_equal(c.checked, 6 + 6 + 5 + 3);
    assert_int_equal(slots, c.checked);
    /* parameters are not touched */
    assert_memory_equal(p0, b->params, b->n_params * sizeof(float));
    free(p0);
    splut_trainer_destroy(ta);
    splut_trainer_destroy(tb);
    splut_model_destroy(a);
    splut_model_destroy(b);
    splut_ctx_unref(ctx);
}

static float *calibrated_state(splut_ctx *ctx, const float *x, size_t n, size_t batch)
{
    splut_model *m = calib_model(ctx);
    splut_trainer *t;
    assert_int_equal(splut_trainer_create(m, &t), SPLUT_OK);
    assert_int_equal(splut_trainer_calibrate_bn(t, x, n, batch), SPLUT_OK);
    float *s = malloc(m->n_state * sizeof(float));
    memcpy(s, m->state, m->n_state * sizeof(float));
    splut_trainer_destroy(t);
    splut_model_destroy(m);
    return s;
}

typedef struct batch_average {
    float *per_batch[3];
    size_t checked;
} batch_average;

static void check_batch_average(const splut_model *m, size_t ms, size_t vs, void *arg)
{
    batch_average *c = arg;
    size_t slot[2] = {ms, vs};
    for (int k = 0; k < 2; k++) {
        double avg = 0;
        for (int b = 0; b < 3; b++)
            avg += c->per_batch[b][slot[k]] / 3.0;
        assert_float_equal(m->state[slot[k]], avg, 1e-5 * fmax(1.0, fabs(avg)));
    }
    c->checked++;
}

/* Several batches: every batch counts once, a last batch of one is skipped,
 * and the thread count does not change a bit. */
static void test_calibrate_averages_batches(void **state)
{
    (void)state;
    splut_ctx *ctx;
    assert_int_equal(splut_ctx_create(NULL, &ctx), SPLUT_OK);
    splut_ctx_set_int(ctx, SPLUT_P_THREADS, 1);
    float x[49 * 6];
    int32_t y[49];
    random_batch(12, 49, 6, 3, x, y);
    batch_average c = {{NULL}, 0};
    for (int b = 0; b < 3; b++)
        c.per_batch[b] = calibrated_state(ctx, x + b * 16 * 6, 16, 16);
    splut_model *m = calib_model(ctx);
    splut_trainer *t;
    assert_int_equal(splut_trainer_create(m, &t), SPLUT_OK);
    assert_int_equal(splut_trainer_calibrate_bn(t, x, 49, 16), SPLUT_OK);
    for_each_bn_slot(m, check_batch_average, &c);
    assert_true(c.checked > 0);
    float *s48 = calibrated_state(ctx, x, 48, 16);
    assert_memory_equal(s48, m->state, m->n_state * sizeof(float));
    splut_ctx_set_int(ctx, SPLUT_P_THREADS, 2);
    float *s2 = calibrated_state(ctx, x, 49, 16);
    assert_memory_equal(s2, m->state, m->n_state * sizeof(float));
    for (int b = 0; b < 3; b++)
        free(c.per_batch[b]);
    free(s48);
    free(s2);
    splut_trainer_destroy(t);
    splut_model_destroy(m);
    splut_ctx_unref(ctx);
}

/* Bad input is refused and changes nothing. */
static void test_calibrate_errors(void **state)
{
    (void)state;
    splut_ctx *ctx;
    assert_int_equal(splut_ctx_create(NULL, &ctx), SPLUT_OK);
    splut_model *m = calib_model(ctx);
    splut_trainer *t;
    assert_int_equal(splut_trainer_create(m, &t), SPLUT_OK);
    float x[40 * 6];
    int32_t y[40];
    random_batch(13, 40, 6, 3, x, y);
    float *s0 = malloc(m->n_state * sizeof(float));
    memcpy(s0, m->state, m->n_state * sizeof(float));
    assert_int_equal(splut_trainer_calibrate_bn(NULL, x, 40, 16), SPLUT_E_NULL);
    assert_int_equal(splut_trainer_calibrate_bn(t, NULL, 40, 16), SPLUT_E_NULL);
    assert_int_equal(splut_trainer_calibrate_bn(t, x, 40, 1), SPLUT_E_INVALID);
    assert_int_equal(splut_trainer_calibrate_bn(t, x, 1, 16), SPLUT_E_INVALID);
    x[35 * 6 + 2] = NAN; /* in the last batch: the earlier ones must not have been stored */
    assert_int_equal(splut_trainer_calibrate_bn(t, x, 40, 16), SPLUT_E_NON_FINITE);
    assert_non_null(strstr(splut_ctx_last_error(ctx), "not finite"));
    assert_memory_equal(s0, m->state, m->n_state * sizeof(float));
    x[35 * 6 + 2] = 0.5f;
    assert_int_equal(splut_trainer_set_int(t, SPLUT_P_CONNECTIVITY, 1), SPLUT_OK);
    assert_int_equal(splut_trainer_calibrate_bn(t, x, 40, 16), SPLUT_E_STATE);
    assert_memory_equal(s0, m->state, m->n_state * sizeof(float));
    free(s0);
    splut_trainer_destroy(t);
    splut_model_destroy(m);
    splut_ctx_unref(ctx);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fd_linear),
        cmocka_unit_test(test_fd_poly),
        cmocka_unit_test(test_fd_poly_add),
        cmocka_unit_test(test_fd_neuralut),
        cmocka_unit_test(test_fd_frozen_bn),
        cmocka_unit_test(test_fd_bce),
        cmocka_unit_test(test_frozen_bn_trains_eval_function),
        cmocka_unit_test(test_thread_count_invariance),
        cmocka_unit_test(test_adamw_golden_steps),
        cmocka_unit_test(test_learns_synthetic_task),
        cmocka_unit_test(test_step_errors),
        cmocka_unit_test(test_trainer_params),
        cmocka_unit_test(test_loss_grad_is_pure),
        cmocka_unit_test(test_calibrate_one_batch_matches_step),
        cmocka_unit_test(test_calibrate_averages_batches),
        cmocka_unit_test(test_calibrate_errors),
    };
    return cmocka_run_group_tests_name("train", tests, NULL, NULL);
}
