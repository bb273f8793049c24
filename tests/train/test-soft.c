/*
 * Soft-target training (splut_trainer_step_soft, splut_trainer_loss_grad_soft)
 * and splut_model_output_values: finite-difference gradients of the soft
 * cross-entropy and BCE, one-hot targets reproducing label steps bit for bit,
 * the loss's linearity in the targets, argument errors that change nothing,
 * and output values that agree with the classifier.
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

#define N_IN 8
#define BATCH 20

static splut_model *small_model(splut_ctx *ctx, uint32_t outputs)
{
    splut_model *m = NULL;
    assert_int_equal(splut_model_create(ctx, N_IN, 3, &m), SPLUT_OK);
    splut_layer_desc d = SPLUT_LAYER_DESC_INIT;
    d.kind = SPLUT_NEURON_POLY;
    d.width = 6;
    d.fan_in = 3;
    d.out_bits = 3;
    d.degree = 2;
    assert_int_equal(splut_model_add_layer(m, &d), SPLUT_OK);
    d.kind = SPLUT_NEURON_POLY_ADD;
    d.width = outputs;
    d.fan_in = 2;
    d.sub_neurons = 2;
    assert_int_equal(splut_model_add_layer(m, &d), SPLUT_OK);
    assert_int_equal(splut_model_build(m), SPLUT_OK);
    return m;
}

static uint64_t lcg(uint64_t *s)
{
    *s = *s * 6364136223846793005ull + 1442695040888963407ull;
    return *s >> 33;
}

static float unit(uint64_t *s)
{
    return (float)lcg(s) / 2147483648.0f;
}

static void features(uint64_t seed, float *x)
{
    for (size_t i = 0; i < BATCH * N_IN; i++)
        x[i] = 4.0f * unit(&seed) - 2.0f;
}

/* Random probability rows (one output: probabilities of class 1). */
static void soft_targets(uint64_t seed, uint32_t outputs, float *p)
{
    for (size_t i = 0; i < BATCH; i++) {
        float sum = 0.0f, *row = p + i * outputs;
        for (uint32_t o = 0; o < outputs; o++)
            sum += row[o] = unit(&seed) + 0.05f;
        if (outputs > 1)
            for (uint32_t o = 0; o < outputs; o++)
                row[o] /= sum;
        else
            row[0] = unit(&seed);
    }
}

typedef struct fixture {
    splut_ctx *ctx;
    splut_model *m;
    splut_trainer *t;
} fixture;

static void fixture_open(fixture *f, uint32_t outputs)
{
    assert_int_equal(splut_ctx_create(NULL, &f->ctx), SPLUT_OK);
    splut_ctx_set_int(f->ctx, SPLUT_P_THREADS, 1);
    splut_ctx_set_int(f->ctx, SPLUT_P_SEED, 5);
    f->m = small_model(f->ctx, outputs);
    assert_int_equal(splut_trainer_create(f->m, &f->t), SPLUT_OK);
}

static void fixture_close(fixture *f)
{
    splut_trainer_destroy(f->t);
    splut_model_destroy(f->m);
    splut_ctx_unref(f->ctx);
}

static double soft_loss(splut_trainer *t, const float *x, const float *p)
{
    double l = 0;
    assert_int_equal(splut_trainer_loss_grad_soft(t, x, p, BATCH, &l, NULL), SPLUT_OK);
    return l;
}

/* Central differences of the soft loss against its analytic gradient. */
static void fd_soft(uint32_t outputs)
{
    fixture f;
    fixture_open(&f, outputs);
    assert_int_equal(splut__trainer_set_exact_round(f.t, false), SPLUT_OK);
    size_t np = splut_model_num_params(f.m);
    float x[BATCH * N_IN], p[BATCH * 4];
    features(11, x);
    soft_targets(12, outputs, p);
    float *g = malloc(np * sizeof *g), *w = malloc(np * sizeof *w);
    double l0;
    assert_int_equal(splut_trainer_loss_grad_soft(f.t, x, p, BATCH, &l0, g), SPLUT_OK);
    assert_int_equal(splut_model_params(f.m, w, 1), SPLUT_OK);
    size_t bad = 0, nonzero = 0;
    for (size_t i = 0; i < np; i++) {
        float orig = w[i], h = 1e-3f * fmaxf(1.0f, fabsf(orig));
        w[i] = orig + h;
        splut_model_params(f.m, w, 0);
        double lp = soft_loss(f.t, x, p);
        w[i] = orig - h;
        splut_model_params(f.m, w, 0);
        double lm = soft_loss(f.t, x, p);
        w[i] = orig;
        splut_model_params(f.m, w, 0);
        double fd = (lp - lm) / (2.0 * (double)h);
        nonzero += fabs(g[i]) > 1e-6;
        if (fabs(fd - g[i]) > 2e-3 + 5e-2 * fmax(fabs(fd), fabs(g[i]))) {
            bad++;
            print_message("param %zu: analytic %.6g finite-difference %.6g\n", i, g[i], fd);
        }
    }
    assert_true(nonzero > np / 3);
    assert_true(bad * 50 <= np);
    free(g);
    free(w);
    fixture_close(&f);
}

static void test_fd_soft_softmax(void **state)
{
    (void)state;
    fd_soft(4);
}

static void test_fd_soft_bce(void **state)
{
    (void)state;
    fd_soft(1);
}

/* Train three steps with labels or with their one-hot rows; return the parameters. */
static float *three_steps(int soft, size_t *np)
{
    fixture f;
    fixture_open(&f, 4);
    float x[BATCH * N_IN], p[BATCH * 4];
    int32_t y[BATCH];
    for (int s = 0; s < 3; s++) {
        features(100 + (uint64_t)s, x);
        for (size_t i = 0; i < BATCH; i++) {
            y[i] = (int32_t)((i * 7 + (size_t)s) % 4);
            for (int o = 0; o < 4; o++)
                p[i * 4 + o] = o == y[i] ? 1.0f : 0.0f;
        }
        double l;
        assert_int_equal(soft ? splut_trainer_step_soft(f.t, x, p, BATCH, &l)
                              : splut_trainer_step(f.t, x, y, BATCH, &l),
                         SPLUT_OK);
    }
    *np = splut_model_num_params(f.m) + f.m->n_state;
    float *out = malloc(*np * sizeof *out);
    splut_model_params(f.m, out, 1);
    memcpy(out + splut_model_num_params(f.m), f.m->state, f.m->n_state * sizeof(float));
    fixture_close(&f);
    return out;
}

static void test_one_hot_equals_labels(void **state)
{
    (void)state;
    size_t na, nb;
    float *a = three_steps(0, &na), *b = three_steps(1, &nb);
    assert_int_equal(na, nb);
    assert_memory_equal(a, b, na * sizeof *a);
    free(a);
    free(b);
}

/* Cross-entropy is linear in the targets: a mixture's loss is the mixture of
 * the losses of its classes (computed through the label path). */
static void test_loss_linear_in_targets(void **state)
{
    (void)state;
    fixture f;
    fixture_open(&f, 4);
    float x[BATCH * N_IN], p[BATCH * 4];
    features(7, x);
    const float mix[4] = {0.1f, 0.2f, 0.3f, 0.4f};
    for (size_t i = 0; i < BATCH; i++)
        memcpy(p + i * 4, mix, sizeof mix);
    double want = 0;
    for (int c = 0; c < 4; c++) {
        int32_t y[BATCH];
        for (size_t i = 0; i < BATCH; i++)
            y[i] = c;
        double l;
        assert_int_equal(splut_trainer_loss_grad(f.t, x, y, BATCH, &l, NULL), SPLUT_OK);
        want += mix[c] * l;
    }
    assert_float_equal(soft_loss(f.t, x, p), want, 1e-5 * fabs(want));
    fixture_close(&f);
}

static void test_soft_errors_change_nothing(void **state)
{
    (void)state;
    fixture f;
    fixture_open(&f, 4);
    size_t np = splut_model_num_params(f.m);
    float *before = malloc(np * sizeof *before), *after = malloc(np * sizeof *after);
    splut_model_params(f.m, before, 1);
    float x[BATCH * N_IN], p[BATCH * 4];
    features(3, x);
    const float bad_values[4] = {NAN, -0.1f, 1.5f, INFINITY};
    for (int k = 0; k < 4; k++) {
        soft_targets(4, 4, p);
        p[9 * 4 + 2] = bad_values[k];
        assert_int_equal(splut_trainer_step_soft(f.t, x, p, BATCH, NULL), SPLUT_E_INVALID);
        assert_non_null(strstr(splut_ctx_last_error(f.ctx), "sample 9"));
    }
    soft_targets(4, 4, p);
    p[5 * 4] += 0.01f; /* row 5 sums to 1.01 */
    assert_int_equal(splut_trainer_step_soft(f.t, x, p, BATCH, NULL), SPLUT_E_INVALID);
    assert_non_null(strstr(splut_ctx_last_error(f.ctx), "sum"));
    soft_targets(4, 4, p);
    assert_int_equal(splut_trainer_step_soft(f.t, x, NULL, BATCH, NULL), SPLUT_E_NULL);
    assert_int_equal(splut_trainer_step_soft(f.t, NULL, p, BATCH, NULL), SPLUT_E_NULL);
    assert_int_equal(splut_trainer_step_soft(f.t, x, p, 1, NULL), SPLUT_E_INVALID);
    assert_int_equal(splut_trainer_step_soft(NULL, x, p, BATCH, NULL), SPLUT_E_NULL);
    int64_t step = -1;
    splut_trainer_get_int(f.t, SPLUT_P_STEP, &step);
    assert_int_equal(step, 0);
    splut_model_params(f.m, after, 1);
    assert_memory_equal(before, after, np * sizeof *before);
    /* a valid call still works afterwards */
    assert_int_equal(splut_trainer_step_soft(f.t, x, p, BATCH, NULL), SPLUT_OK);
    free(before);
    free(after);
    fixture_close(&f);
}

/* Phase 1 of learned connectivity trains on labels: soft steps are refused. */
static void test_soft_refused_in_phase1(void **state)
{
    (void)state;
    fixture f;
    fixture_open(&f, 4);
    assert_int_equal(splut_trainer_set_int(f.t, SPLUT_P_CONNECTIVITY, 1), SPLUT_OK);
    assert_int_equal(splut_trainer_set_int(f.t, SPLUT_P_STEPS_PER_EPOCH, 2), SPLUT_OK);
    assert_int_equal(splut_trainer_set_int(f.t, SPLUT_P_SWITCH_EPOCH, 1), SPLUT_OK);
    float x[BATCH * N_IN], p[BATCH * 4];
    int32_t y[BATCH] = {0};
    features(8, x);
    soft_targets(9, 4, p);
    assert_int_equal(splut_trainer_step_soft(f.t, x, p, BATCH, NULL), SPLUT_E_STATE);
    assert_non_null(strstr(splut_ctx_last_error(f.ctx), "phase 1"));
    for (int s = 0; s < 2; s++) /* the switch epoch: 2 label steps */
        assert_int_equal(splut_trainer_step(f.t, x, y, BATCH, NULL), SPLUT_OK);
    assert_ptr_equal(splut_trainer_model_in_training(f.t), f.m);
    assert_int_equal(splut_trainer_step_soft(f.t, x, p, BATCH, NULL), SPLUT_OK);
    fixture_close(&f);
}

/* Output values: the classifier's argmax, monotone in the code, range-checked. */
static void test_output_values(void **state)
{
    (void)state;
    fixture f;
    fixture_open(&f, 4);
    float x[BATCH * N_IN];
    features(21, x);
    for (int s = 0; s < 5; s++) /* move post-transform and scales off their defaults */
        assert_int_equal(splut_trainer_step(f.t, x, (int32_t[BATCH]){1, 2, 3}, BATCH, NULL),
                         SPLUT_OK);
    uint16_t codes[BATCH * 4];
    int32_t pred[BATCH], pred2[BATCH];
    assert_int_equal(splut_model_predict(f.m, x, BATCH, pred, codes), SPLUT_OK);
    float v[BATCH * 4];
    assert_int_equal(splut_model_output_values(f.m, codes, BATCH, v), SPLUT_OK);
    assert_int_equal(splut_model_classify_codes(f.m, codes, BATCH, pred2), SPLUT_OK);
    for (size_t i = 0; i < BATCH; i++) {
        int32_t best = 0;
        for (int32_t o = 1; o < 4; o++)
            best = v[i * 4 + (size_t)o] > v[i * 4 + (size_t)best] ? o : best;
        assert_int_equal(best, pred[i]);
        assert_int_equal(pred2[i], pred[i]);
    }
    /* every code of an 8-level output gives a distinct, ordered value */
    uint16_t all[8 * 4];
    float vals[8 * 4];
    for (uint16_t c = 0; c < 8; c++)
        for (int o = 0; o < 4; o++)
            all[c * 4 + o] = c;
    assert_int_equal(splut_model_output_values(f.m, all, 8, vals), SPLUT_OK);
    int distinct = 0;
    for (int c = 0; c + 1 < 8; c++)
        distinct += vals[c * 4] != vals[(c + 1) * 4];
    assert_true(distinct >= 6);
    all[3] = 8;
    assert_int_equal(splut_model_output_values(f.m, all, 8, vals), SPLUT_E_OUT_OF_RANGE);
    assert_int_equal(splut_model_output_values(f.m, NULL, 8, vals), SPLUT_E_NULL);
    fixture_close(&f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fd_soft_softmax),
        cmocka_unit_test(test_fd_soft_bce),
        cmocka_unit_test(test_one_hot_equals_labels),
        cmocka_unit_test(test_loss_linear_in_targets),
        cmocka_unit_test(test_soft_errors_change_nothing),
        cmocka_unit_test(test_soft_refused_in_phase1),
        cmocka_unit_test(test_output_values),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
