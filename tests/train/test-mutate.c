/*
 * Connectivity mutation tests: prune and grow keep the neuron function of the
 * remaining inputs (checked against an independent monomial listing), reject
 * bad requests without changing anything, reset optimiser state, and leave a
 * model whose truth tables match eval-mode inference.
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

/* Independent listing of monomials: non-decreasing tuples of degree 1..D in
 * lexicographic order (itertools.combinations_with_replacement). */
typedef struct tuple_list {
    uint32_t n;
    uint32_t deg[512];
    uint8_t v[512][8];
} tuple_list;

static void list_rec(tuple_list *tl, uint32_t F, uint32_t d, uint32_t pos, uint32_t start,
                     uint8_t *cur)
{
    if (pos == d) {
        tl->deg[tl->n] = d;
        memcpy(tl->v[tl->n], cur, d);
        tl->n++;
        return;
    }
    for (uint32_t k = start; k < F; k++) {
        cur[pos] = (uint8_t)k;
        list_rec(tl, F, d, pos + 1, k, cur);
    }
}

static void list_monomials(tuple_list *tl, uint32_t F, uint32_t D)
{
    uint8_t cur[8];
    tl->n = 0;
    for (uint32_t d = 1; d <= D; d++)
        list_rec(tl, F, d, 0, 0, cur);
}

/* z of one sub-neuron from input values `u` of the layer (float, term order). */
static double poly_value(const tuple_list *tl, const float *w, float b, const uint32_t *row,
                         const float *u)
{
    double z = b;
    for (uint32_t t = 0; t < tl->n; t++) {
        double mono = 1.0;
        for (uint32_t i = 0; i < tl->deg[t]; i++)
            mono *= u[row[tl->v[t][i]]];
        z += (double)w[t] * mono;
    }
    return z;
}

static splut_model *poly_model(splut_ctx *ctx, splut_neuron_kind kind, uint32_t F, uint32_t D,
                               uint32_t A)
{
    splut_model *m;
    assert_int_equal(splut_model_create(ctx, 24, 2, &m), SPLUT_OK);
    splut_layer_desc d = SPLUT_LAYER_DESC_INIT;
    d.kind = (int32_t)kind;
    d.width = 5;
    d.fan_in = F;
    d.out_bits = 2;
    d.degree = D;
    d.sub_neurons = kind == SPLUT_NEURON_POLY_ADD ? A : 0;
    assert_int_equal(splut_model_add_layer(m, &d), SPLUT_OK);
    d.kind = SPLUT_NEURON_POLY;
    d.width = 3;
    d.fan_in = 2;
    d.degree = 2;
    d.sub_neurons = 0;
    assert_int_equal(splut_model_add_layer(m, &d), SPLUT_OK);
    assert_int_equal(splut_model_build(m), SPLUT_OK);
    return m;
}

/* The first input in [lo, hi) that none of the k entries of row reads. */
static uint32_t first_unused(const uint32_t *row, uint32_t k, uint32_t lo, uint32_t hi)
{
    for (uint32_t c = lo; c < hi; c++) {
        bool used = false;
        for (uint32_t i = 0; i < k; i++)
            used |= row[i] == c;
        if (!used)
            return c;
    }
    return UINT32_MAX;
}

/* An input index the neuron does not read, above row[slot-1] and below row[slot+1]
 * when possible (so any kind accepts it). */
static uint32_t fresh_input(const uint32_t *row, uint32_t k, uint32_t slot, uint32_t in)
{
    uint32_t lo = slot ? row[slot - 1] + 1 : 0, hi = slot + 1 < k ? row[slot + 1] : in;
    return first_unused(row, k, lo, hi);
}

typedef enum pick { PICK_BETWEEN, PICK_START, PICK_MIDDLE, PICK_END } pick;

/* An input the neuron does not read that, grown into @p slot, must land at
 * position t of its sub-neuron's sorted slice (t = 0, F/2 or F-1); the slot's
 * own position is skipped (UINT32_MAX), so every grow moves the input. */
static uint32_t moving_input(const uint32_t *row, uint32_t k, uint32_t F, uint32_t slot,
                             uint32_t in, pick p)
{
    uint32_t first = slot - slot % F, others[64] = {0}, n = 0;
    for (uint32_t i = first; i < first + F; i++)
        if (i != slot)
            others[n++] = row[i];
    uint32_t t = p == PICK_START ? 0 : p == PICK_END ? F - 1 : F / 2;
    if (t == slot - first)
        return UINT32_MAX;
    uint32_t lo = t ? others[t - 1] + 1 : 0, hi = t < n ? others[t] : in;
    /* the whole row ascends: stay between the neighbouring slices */
    if (first > 0 && lo <= row[first - 1])
        lo = row[first - 1] + 1;
    if (first + F < k && hi > row[first + F])
        hi = row[first + F];
    return first_unused(row, k, lo, hi);
}

static uint32_t pick_input(const uint32_t *row, uint32_t k, uint32_t F, uint32_t slot,
                           uint32_t in, pick p)
{
    return p == PICK_BETWEEN ? fresh_input(row, k, slot, in)
                             : moving_input(row, k, F, slot, in, p);
}

/* Each sub-neuron's slice stays strictly ascending; returns whether the grown
 * input sits in another slot than the one it replaced. */
static bool check_sorted_and_moved(const uint32_t *row, uint32_t F, uint32_t A, uint32_t slot,
                                   uint32_t input)
{
    for (uint32_t a = 0; a < A; a++)
        for (uint32_t i = 1; i < F; i++)
            assert_true(row[a * F + i - 1] < row[a * F + i]);
    return row[slot] != input;
}

static void check_grow_keeps_function_at(splut_neuron_kind kind, uint32_t F, uint32_t D,
                                         uint32_t A, pick p)
{
    splut_ctx *ctx;
    assert_int_equal(splut_ctx_create(NULL, &ctx), SPLUT_OK);
    splut_model *m = poly_model(ctx, kind, F, D, A);
    const splut_layer *L = &m->layers[0];
    tuple_list tl;
    list_monomials(&tl, F, D);
    assert_int_equal(tl.n, L->T);
    uint32_t k = L->A * F, grown = 0, moved = 0;
    for (uint32_t n = 0; n < L->out; n++) {
        for (uint32_t slot = 0; slot < k; slot++) {
            uint32_t *row = L->conn + (size_t)n * k;
            uint32_t input = pick_input(row, k, F, slot, L->in, p);
            if (input == UINT32_MAX)
                continue;
            uint32_t sub = slot / F, old = row[slot];
            uint32_t before_row[64];
            memcpy(before_row, row, k * sizeof(uint32_t));
            float before_w[512];
            const float *w = m->params + L->w + ((size_t)n * L->A + sub) * L->T;
            float b = m->params[L->b + (size_t)n * L->A + sub];
            memcpy(before_w, w, L->T * sizeof(float));
            if (splut_model_grow_input(m, 0, n, slot, input, 0.75f) != SPLUT_OK)
                fail_msg("kind %d pick %d neuron %u slot %u input %u: %s", (int)kind, (int)p, n,
                         slot, input, splut_ctx_last_error(ctx));
            grown++;
            moved += check_sorted_and_moved(row, F, L->A, slot, input);
            for (int trial = 0; trial < 20; trial++) {
                float u[24];
                for (int i = 0; i < 24; i++)
                    u[i] = (float)((trial * 7 + i * 13) % 17) / 8.0f - 1.0f;
                float u_old0[24];
                memcpy(u_old0, u, sizeof(u));
                u_old0[old] = 0.0f;  /* the old input's terms are gone */
                u_old0[input] = 0.0f; /* the new input was not read before */
                double zb = poly_value(&tl, before_w, b, before_row + sub * F, u_old0);
                double za = poly_value(&tl, w, b, row + sub * F, u) - 0.75 * u[input];
                assert_true(fabs(za - zb) < 1e-4);
            }
        }
    }
    assert_true(grown > 0);
    if (p != PICK_BETWEEN)
        assert_int_equal(moved, grown); /* every grow had to re-sort its slice */
    assert_int_equal(splut_model_validate(m), SPLUT_OK);
    splut_model_destroy(m);
    splut_ctx_unref(ctx);
}

static void check_grow_keeps_function(splut_neuron_kind kind, uint32_t F, uint32_t D, uint32_t A)
{
    check_grow_keeps_function_at(kind, F, D, A, PICK_BETWEEN);
}

/* Grown inputs that belong at the start, in the middle or at the end of the
 * slice: the row is re-sorted and the weights follow their variables. */
static void test_grow_resorts(void **state)
{
    (void)state;
    const pick picks[] = {PICK_START, PICK_MIDDLE, PICK_END};
    for (int i = 0; i < 3; i++) {
        check_grow_keeps_function_at(SPLUT_NEURON_POLY, 3, 3, 1, picks[i]);
        check_grow_keeps_function_at(SPLUT_NEURON_POLY_ADD, 2, 3, 2, picks[i]);
        check_grow_keeps_function_at(SPLUT_NEURON_LINEAR, 4, 1, 1, picks[i]);
    }
}

static void test_grow_poly(void **state)
{
    (void)state;
    check_grow_keeps_function(SPLUT_NEURON_POLY, 3, 3, 1);
}

static void test_grow_linear(void **state)
{
    (void)state;
    check_grow_keeps_function(SPLUT_NEURON_LINEAR, 4, 1, 1);
}

static void test_grow_poly_add(void **state)
{
    (void)state;
    check_grow_keeps_function(SPLUT_NEURON_POLY_ADD, 2, 3, 2);
}

static void test_prune_zeroes_terms_of_slot(void **state)
{
    (void)state;
    splut_ctx *ctx;
    assert_int_equal(splut_ctx_create(NULL, &ctx), SPLUT_OK);
    splut_model *m = poly_model(ctx, SPLUT_NEURON_POLY_ADD, 3, 2, 2);
    const splut_layer *L = &m->layers[0];
    tuple_list tl;
    list_monomials(&tl, 3, 2);
    size_t np = splut_model_num_params(m);
    float *before = malloc(np * sizeof(float));
    splut_model_params(m, before, 1);
    assert_int_equal(splut_model_prune_input(m, 0, 2, 4), SPLUT_OK); /* sub 1, variable 1 */
    for (size_t i = 0; i < np; i++) {
        size_t w0 = L->w + ((size_t)2 * L->A + 1) * L->T;
        bool in_sub = i >= w0 && i < w0 + L->T;
        bool uses = false;
        if (in_sub)
            for (uint32_t j = 0; j < tl.deg[i - w0]; j++)
                uses |= tl.v[i - w0][j] == 1;
        if (uses)
            assert_true(m->params[i] == 0.0f);
        else
            assert_true(m->params[i] == before[i]);
    }
    free(before);
    splut_model_destroy(m);
    splut_ctx_unref(ctx);
}

static void test_mutation_errors_change_nothing(void **state)
{
    (void)state;
    splut_ctx *ctx;
    assert_int_equal(splut_ctx_create(NULL, &ctx), SPLUT_OK);
    splut_model *m = poly_model(ctx, SPLUT_NEURON_POLY, 3, 2, 1);
    size_t np = splut_model_num_params(m);
    float *before = malloc(np * sizeof(float));
    splut_model_params(m, before, 1);
    uint32_t row[3], after[3];
    size_t n;
    assert_int_equal(splut_model_get_inputs(m, 0, 1, row, 3, &n), SPLUT_OK);
    assert_int_equal(splut_model_grow_input(m, 0, 1, 0, row[1], 1.0f), SPLUT_E_CONNECTIVITY);
    assert_int_equal(splut_model_grow_input(m, 0, 1, 0, 24, 1.0f), SPLUT_E_CONNECTIVITY);
    assert_int_equal(splut_model_grow_input(m, 0, 1, 3, 0, 1.0f), SPLUT_E_INDEX);
    assert_int_equal(splut_model_grow_input(m, 0, 5, 0, 0, 1.0f), SPLUT_E_INDEX);
    assert_int_equal(splut_model_grow_input(m, 2, 0, 0, 0, 1.0f), SPLUT_E_INDEX);
    assert_int_equal(splut_model_grow_input(m, 0, 1, 0, 23, NAN), SPLUT_E_NON_FINITE);
    assert_int_equal(splut_model_prune_input(m, 0, 1, 3), SPLUT_E_INDEX);
    assert_int_equal(splut_model_prune_input(NULL, 0, 1, 0), SPLUT_E_NULL);
    assert_int_equal(splut_model_get_inputs(m, 0, 1, after, 3, &n), SPLUT_OK);
    assert_memory_equal(row, after, sizeof(row));
    float *now = malloc(np * sizeof(float));
    splut_model_params(m, now, 1);
    assert_memory_equal(before, now, np * sizeof(float));
    assert_int_equal(splut_model_validate(m), SPLUT_OK);
    m->layers[0].conn[4] = m->layers[0].conn[3]; /* white-box corruption */
    assert_int_equal(splut_model_validate(m), SPLUT_E_CONNECTIVITY);
    free(before);
    free(now);
    splut_model_destroy(m);
    splut_ctx_unref(ctx);
}

/* After a mutation the neuron's AdamW moments restart: the first moment after
 * the next step is exactly (1 - beta1) · gradient. */
static void test_mutation_resets_optimiser(void **state)
{
    (void)state;
    splut_ctx *ctx;
    assert_int_equal(splut_ctx_create(NULL, &ctx), SPLUT_OK);
    splut_model *m = poly_model(ctx, SPLUT_NEURON_POLY, 3, 2, 1);
    splut_trainer *t;
    assert_int_equal(splut_trainer_create(m, &t), SPLUT_OK);
    float x[16 * 24];
    int32_t y[16];
    for (int i = 0; i < 16 * 24; i++)
        x[i] = (float)((i * 37) % 23) / 11.0f - 1.0f;
    for (int i = 0; i < 16; i++)
        y[i] = i % 3;
    double l;
    assert_int_equal(splut_trainer_step(t, x, y, 16, &l), SPLUT_OK);
    assert_int_equal(splut_model_prune_input(m, 0, 2, 1), SPLUT_OK);
    size_t np = splut_model_num_params(m);
    float *g = malloc(np * sizeof(float));
    assert_int_equal(splut_trainer_loss_grad(t, x, y, 16, &l, g), SPLUT_OK);
    float *m1_before = malloc(np * sizeof(float));
    memcpy(m1_before, t->m1, np * sizeof(float));
    assert_int_equal(splut_trainer_step(t, x, y, 16, &l), SPLUT_OK);
    const splut_layer *L = &m->layers[0];
    size_t w2 = L->w + 2 * L->T;
    for (uint32_t i = 0; i < L->T; i++)
        assert_true(t->m1[w2 + i] == 0.5f * g[w2 + i]);
    /* an untouched neuron keeps its momentum */
    size_t w3 = L->w + 3 * L->T;
    bool kept = false;
    for (uint32_t i = 0; i < L->T; i++)
        kept |= t->m1[w3 + i] == 0.5f * m1_before[w3 + i] + 0.5f * g[w3 + i] &&
                m1_before[w3 + i] != 0.0f;
    assert_true(kept);
    free(g);
    free(m1_before);
    splut_trainer_destroy(t);
    splut_model_destroy(m);
    splut_ctx_unref(ctx);
}

/* Output codes of a one-layer NeuraLUT model when input `vary` takes every code. */
static bool output_ignores(const splut_model *m, uint32_t vary)
{
    uint16_t in[4 * 24], out[4 * 5];
    for (int c = 0; c < 4; c++)
        for (int i = 0; i < 24; i++)
            in[c * 24 + i] = (uint16_t)(i == (int)vary ? c : (i * 7) % 4);
    assert_int_equal(splut_model_forward_codes(m, in, 4, out), SPLUT_OK);
    for (int c = 1; c < 4; c++)
        if (memcmp(out, out + c * 5, 5 * sizeof(uint16_t)) != 0)
            return false;
    return true;
}

static void test_neuralut_prune_and_grow(void **state)
{
    (void)state;
    splut_ctx *ctx;
    assert_int_equal(splut_ctx_create(NULL, &ctx), SPLUT_OK);
    splut_model *m;
    assert_int_equal(splut_model_create(ctx, 24, 2, &m), SPLUT_OK);
    splut_layer_desc d = SPLUT_LAYER_DESC_INIT;
    d.kind = SPLUT_NEURON_NEURALUT;
    d.width = 5;
    d.fan_in = 3;
    d.out_bits = 3;
    d.hidden = 6;
    assert_int_equal(splut_model_add_layer(m, &d), SPLUT_OK);
    assert_int_equal(splut_model_build(m), SPLUT_OK);
    uint32_t row[3];
    size_t k;
    assert_int_equal(splut_model_get_inputs(m, 0, 0, row, 3, &k), SPLUT_OK);
    /* find a BN scale at which some input of neuron 0 changes the output */
    int influential = -1;
    for (float var = 1.0f; var > 1e-9f && influential < 0; var *= 0.1f) {
        for (uint32_t n = 0; n < 5; n++)
            m->state[m->layers[0].run_var + n] = var;
        for (int s = 0; s < 3 && influential < 0; s++)
            if (!output_ignores(m, row[s]))
                influential = s;
    }
    assert_true(influential >= 0);
    uint32_t victim = row[influential];
    for (uint32_t n = 0; n < 5; n++) {
        uint32_t r[3];
        splut_model_get_inputs(m, 0, n, r, 3, &k);
        for (int s = 0; s < 3; s++)
            if (r[s] == victim)
                assert_int_equal(splut_model_prune_input(m, 0, n, (uint32_t)s), SPLUT_OK);
    }
    assert_true(output_ignores(m, victim));
    uint32_t fresh = fresh_input(row, 3, (uint32_t)influential, 24);
    assert_int_equal(splut_model_grow_input(m, 0, 0, (uint32_t)influential, fresh, 0.0f),
                     SPLUT_OK);
    assert_int_equal(splut_model_validate(m), SPLUT_OK);
    splut_model_destroy(m);
    splut_ctx_unref(ctx);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_grow_poly),
        cmocka_unit_test(test_grow_linear),
        cmocka_unit_test(test_grow_poly_add),
        cmocka_unit_test(test_grow_resorts),
        cmocka_unit_test(test_prune_zeroes_terms_of_slot),
        cmocka_unit_test(test_mutation_errors_change_nothing),
        cmocka_unit_test(test_mutation_resets_optimiser),
        cmocka_unit_test(test_neuralut_prune_and_grow),
    };
    return cmocka_run_group_tests_name("mutate", tests, NULL, NULL);
}
