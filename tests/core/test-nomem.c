/*
 * Allocation failure: fail the Nth allocation, for every N until the call
 * succeeds; each failure must return SPLUT_E_NOMEM cleanly and leak nothing
 * (checked by the counting allocator, and by ASan in the sanitizer build).
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include "core-test.h"

typedef splut_status (*alloc_op)(splut_ctx *ctx, void *arg);

/* Runs `op` with allocation N failing for N = 0, 1, …; `op` must release
 * everything it made before returning. Returns how many N failed. */
static long sweep(alloc_op op, void *arg, int64_t threads)
{
    counting_alloc ca;
    splut_allocator a = counting_allocator(&ca);
    splut_ctx *ctx = NULL;
    assert_int_equal(splut_ctx_create(&a, &ctx), SPLUT_OK);
    assert_int_equal(splut_ctx_set_int(ctx, SPLUT_P_THREADS, threads), SPLUT_OK);
    /* allocations of a clean run bound the sweep */
    counting_disarm(&ca);
    long before = ca.allocs;
    assert_int_equal(op(ctx, arg), SPLUT_OK);
    long total = ca.allocs - before;
    assert_int_equal(ca.live, 1); /* only the context is left */
    long failed = 0;
    for (long n = 0; n < total; n++) {
        counting_fail_at(&ca, n);
        splut_status st = op(ctx, arg);
        counting_disarm(&ca);
        if (st != SPLUT_OK && st != SPLUT_E_NOMEM)
            fail_msg("allocation %ld failing gave %s, not SPLUT_E_NOMEM (%s)", n,
                     splut_status_str(st), splut_ctx_last_error(ctx));
        if (ca.live != 1)
            fail_msg("allocation %ld failing leaked %ld blocks", n, ca.live - 1);
        failed += st == SPLUT_E_NOMEM;
    }
    /* at least the first allocation cannot be worked around */
    assert_true(failed > 0);
    counting_fail_at(&ca, total);
    assert_int_equal(op(ctx, arg), SPLUT_OK);
    splut_ctx_unref(ctx);
    assert_int_equal(ca.live, 0);
    print_message("swept %ld allocations (%ld threads): %ld returned SPLUT_E_NOMEM\n", total,
                  (long)threads, failed);
    return failed;
}

static splut_status op_preset(splut_ctx *ctx, void *arg)
{
    splut_model *m = NULL;
    splut_status st = splut_model_create_preset(ctx, arg, &m);
    if (st == SPLUT_OK && !m)
        return SPLUT_E_INVALID;
    if (st != SPLUT_OK && m)
        return SPLUT_E_INVALID; /* *out must stay NULL on failure */
    splut_model_destroy(m);
    return st;
}

static void test_nomem_presets(void **state)
{
    (void)state;
    static const char *const names[] = {"jsc-m-lite-add2", "jsc-s", "jsc-xl", "jsc-2l"};
    for (size_t i = 0; i < 4; i++)
        sweep(op_preset, (void *)names[i], 1);
}

/* Model definition step by step: the allocations of create, add and build. */
static splut_status op_build(splut_ctx *ctx, void *arg)
{
    (void)arg;
    splut_model *m = NULL;
    splut_status st = splut_model_create(ctx, 10, 2, &m);
    if (st != SPLUT_OK)
        return st;
    /* nine layers: the layer array has to grow */
    for (int l = 0; l < 9 && st == SPLUT_OK; l++) {
        splut_layer_desc d = layer_desc(l % 2 ? SPLUT_NEURON_POLY : SPLUT_NEURON_POLY_ADD, 10,
                                        2, 2, 2, l % 2 ? 0 : 2);
        st = splut_model_add_layer(m, &d);
    }
    if (st == SPLUT_OK)
        st = splut_model_build(m);
    if (st == SPLUT_OK) {
        splut_model *c = NULL;
        st = splut_model_clone(m, &c);
        splut_model_destroy(c);
    }
    splut_model_destroy(m);
    return st;
}

static void test_nomem_build(void **state)
{
    (void)state;
    sweep(op_build, NULL, 1);
}

typedef struct fwd_arg {
    splut_model *m; /* built with a different context */
    const uint16_t *in;
    size_t n;
} fwd_arg;

/* The model lives in the sweeping context: create it there once per call. */
static splut_status op_forward(splut_ctx *ctx, void *arg)
{
    const fwd_arg *fa = arg;
    splut_model *m = NULL;
    splut_status st = build_mixed_model(ctx, &m);
    if (st != SPLUT_OK)
        return st;
    uint16_t *out = malloc(fa->n * 4 * sizeof(uint16_t));
    if (!out) {
        splut_model_destroy(m);
        return SPLUT_E_INVALID;
    }
    st = splut_model_forward_codes(m, fa->in, fa->n, out);
    if (st == SPLUT_OK) {
        float x[12 * 3] = {0};
        int32_t pred[3];
        st = splut_model_predict(m, x, 3, pred, NULL);
    }
    free(out);
    splut_model_destroy(m);
    return st;
}

static void test_nomem_forward(void **state)
{
    (void)state;
    const size_t n = 600;
    uint16_t *in = calloc(n * 12, sizeof(uint16_t));
    assert_non_null(in);
    fwd_arg fa = {NULL, in, n};
    sweep(op_forward, &fa, 1);
    sweep(op_forward, &fa, 3); /* worker threads and their arguments too */
    free(in);
}

/* Training: trainer creation and a few steps, with learned connectivity
 * (surrogate, its trainer, compaction, the switch) when arg says so. The
 * model's handle is dropped right after the trainer is made: the trainer's
 * reference must keep it alive and free it on every path. */
typedef struct train_arg {
    int learned;
} train_arg;

static splut_status configure_learned(splut_trainer *t)
{
    splut_status st = splut_trainer_set_int(t, SPLUT_P_CONNECTIVITY, 1);
    if (st == SPLUT_OK)
        st = splut_trainer_set_int(t, SPLUT_P_STEPS_PER_EPOCH, 1);
    if (st == SPLUT_OK)
        st = splut_trainer_set_int(t, SPLUT_P_SWITCH_EPOCH, 3);
    if (st == SPLUT_OK)
        st = splut_trainer_set_int(t, SPLUT_P_CONN_CANDIDATES, 6);
    return st;
}

static splut_status op_train(splut_ctx *ctx, void *arg)
{
    const train_arg *ta = arg;
    splut_model *m = NULL;
    splut_status st = build_mixed_model(ctx, &m);
    if (st != SPLUT_OK)
        return st;
    splut_trainer *t = NULL;
    st = splut_trainer_create(m, &t);
    splut_model_destroy(m);
    if (st != SPLUT_OK)
        return t ? SPLUT_E_INVALID : st; /* *out must stay NULL on failure */
    if (ta->learned)
        st = configure_learned(t);
    float x[8 * 12];
    int32_t y[8];
    uint64_t s = 3;
    for (int step = 0; step < 5 && st == SPLUT_OK; step++) {
        for (size_t i = 0; i < 8 * 12; i++)
            x[i] = test_uniform(&s, 1.0f);
        for (size_t i = 0; i < 8; i++)
            y[i] = (int32_t)(test_rand(&s) % 4);
        double loss;
        st = splut_trainer_step(t, x, y, 8, &loss);
        /* phase 1 trains the surrogate, the switch (epoch 3) the model */
        int on_model = splut_trainer_model_in_training(t) == m;
        if (st == SPLUT_OK && ta->learned && on_model != (step >= 2))
            st = SPLUT_E_INVALID;
    }
    splut_trainer_destroy(t);
    return st;
}

static void test_nomem_train(void **state)
{
    (void)state;
    train_arg plain = {0}, learned = {1};
    sweep(op_train, &plain, 1);
    sweep(op_train, &plain, 2);
    sweep(op_train, &learned, 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_nomem_presets),
        cmocka_unit_test(test_nomem_build),
        cmocka_unit_test(test_nomem_forward),
        cmocka_unit_test(test_nomem_train),
    };
    return cmocka_run_group_tests_name("core-nomem", tests, NULL, NULL);
}
