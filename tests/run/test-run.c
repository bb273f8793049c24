/*
 * Copyright 2026 The libsparselut authors
 * SPDX-License-Identifier: Apache-2.0
 *
 * Training runs (lib/run*.c): the epoch order and the parameter average
 * against independent computations, refused inputs, stopping and continuing,
 * checkpoints (exact resume, damaged files) and fault injection at every
 * stage of every checkpoint write (failed and killed).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../core/core-test.h"
#include "bytes-priv.h"
#include "fileio-priv.h"
#include "modelio-priv.h"
#include "run-int.h"

#define N_TRAIN 80
#define N_TEST 24
#define FEATURES 8
#define ARCH_IN 8

static char dir[256];

static void tmp_path(char *buf, size_t cap, const char *name)
{
    snprintf(buf, cap, "%s/%s", dir, name);
}

/* Data whose class is which of three feature sums is largest; feature 7 of
 * row i holds i / 1000, so a sample names its row. */
static splut_dataset *make_data(splut_ctx *ctx, size_t n, uint32_t features, unsigned seed)
{
    float *x = malloc(n * features * sizeof *x);
    int32_t *y = malloc(n * sizeof *y);
    assert_non_null(x);
    assert_non_null(y);
    uint64_t s = seed;
    for (size_t i = 0; i < n; i++) {
        float sum[3] = {0, 0, 0};
        for (uint32_t j = 0; j < features; j++) {
            s = s * 6364136223846793005ull + 1442695040888963407ull;
            x[i * features + j] = (float)((s >> 40) % 2000) / 1000.0f - 1.0f;
            sum[j % 3] += x[i * features + j];
        }
        x[i * features + features - 1] = (float)i / 1000.0f;
        y[i] = sum[0] >= sum[1] && sum[0] >= sum[2] ? 0 : sum[1] >= sum[2] ? 1 : 2;
    }
    splut_dataset *ds = NULL;
    assert_int_equal(splut_dataset_create(ctx, n, features, x, y, SPLUT_DATASET_COPY, &ds), 0);
    free(x);
    free(y);
    return ds;
}

static splut_model *make_model(splut_ctx *ctx, uint32_t outputs)
{
    splut_model *m = NULL;
    assert_int_equal(splut_model_create(ctx, ARCH_IN, 2, &m), 0);
    splut_layer_desc a = SPLUT_LAYER_DESC_INIT, b = SPLUT_LAYER_DESC_INIT;
    a.kind = b.kind = SPLUT_NEURON_POLY;
    a.width = 6;
    b.width = outputs;
    a.fan_in = b.fan_in = 3;
    a.out_bits = b.out_bits = 2;
    a.degree = b.degree = 2;
    assert_int_equal(splut_model_add_layer(m, &a), 0);
    assert_int_equal(splut_model_add_layer(m, &b), 0);
    assert_int_equal(splut_model_build(m), 0);
    return m;
}

/* Everything of one test run; the recipe exercises EMA, keep-best, BN freezing. */
typedef struct fixture {
    splut_ctx *ctx;
    splut_model *m;
    splut_dataset *train, *test;
    splut_run *run;
} fixture;

static void fixture_open(fixture *f, uint64_t epochs)
{
    memset(f, 0, sizeof *f);
    assert_int_equal(splut_ctx_create(NULL, &f->ctx), 0);
    f->m = make_model(f->ctx, 3);
    f->train = make_data(f->ctx, N_TRAIN, FEATURES, 1);
    f->test = make_data(f->ctx, N_TEST, FEATURES, 2);
    assert_int_equal(splut_run_create(f->m, f->train, f->test, &f->run), 0);
    assert_int_equal(splut_run_set_int(f->run, SPLUT_P_RUN_EPOCHS, (int64_t)epochs), 0);
    assert_int_equal(splut_run_set_int(f->run, SPLUT_P_RUN_BATCH, 16), 0);
    assert_int_equal(splut_run_set_int(f->run, SPLUT_P_RUN_RESTART_EPOCHS, 2), 0);
    assert_int_equal(splut_run_set_int(f->run, SPLUT_P_RUN_BN_FREEZE, 1), 0);
    assert_int_equal(splut_run_set_int(f->run, SPLUT_P_RUN_KEEP_BEST, 1), 0);
    assert_int_equal(splut_run_set_double(f->run, SPLUT_P_RUN_EMA, 0.8), 0);
    assert_int_equal(splut_run_set_double(f->run, SPLUT_P_LEARNING_RATE, 0.02), 0);
}

static void fixture_close(fixture *f)
{
    splut_run_destroy(f->run);
    splut_dataset_destroy(f->train);
    splut_dataset_destroy(f->test);
    splut_model_destroy(f->m);
    splut_ctx_unref(f->ctx);
}

/* The serialised final model (malloc'd). */
static uint8_t *final_bytes(const splut_run *run, size_t *n)
{
    const splut_model *m = splut_run_final_model(run);
    assert_non_null(m);
    assert_int_equal(splut_model_serialize(m, NULL, 0, n), 0);
    uint8_t *buf = malloc(*n);
    assert_non_null(buf);
    assert_int_equal(splut_model_serialize(m, buf, *n, n), 0);
    return buf;
}

static uint8_t *reference_bytes(uint64_t epochs, size_t *n)
{
    fixture f;
    fixture_open(&f, epochs);
    assert_int_equal(splut_run_fit(f.run), 0);
    uint8_t *b = final_bytes(f.run, n);
    fixture_close(&f);
    return b;
}

/* ---- the epoch order against an independent Fisher-Yates ----------------- */

static uint64_t ref_splitmix(uint64_t *s)
{
    *s += 0x9E3779B97F4A7C15ull;
    uint64_t z = *s;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

/* The documented order: a splitmix64 stream seeded from (seed, epoch) drives
 * a Fisher-Yates shuffle from the back, rejection-sampled. */
static void ref_order(size_t *idx, size_t n, uint64_t seed, uint64_t epoch)
{
    uint64_t s = seed ^ 0x5ee71e5ull;
    uint64_t first = ref_splitmix(&s);
    s = first ^ (epoch * 0xD1B54A32D192ED03ull);
    for (size_t i = 0; i < n; i++)
        idx[i] = i;
    for (size_t i = n; i > 1; i--) {
        uint64_t lim = UINT64_MAX - UINT64_MAX % i, v;
        do
            v = ref_splitmix(&s);
        while (v >= lim);
        size_t j = (size_t)(v % i), t = idx[i - 1];
        idx[i - 1] = idx[j];
        idx[j] = t;
    }
}

typedef struct seen_rows {
    size_t row[4][N_TRAIN]; /* epoch 1..3 → row of each position */
} seen_rows;

static int record_row(void *user, float *x, uint32_t features, int32_t label, uint64_t seed,
                      uint64_t epoch, uint64_t position)
{
    (void)label;
    (void)seed;
    seen_rows *s = user;
    s->row[epoch][position] = (size_t)lroundf(x[features - 1] * 1000.0f);
    return 0;
}

static void test_epoch_order(void **state)
{
    (void)state;
    size_t a[N_TRAIN], b[N_TRAIN];
    splut__epoch_order(a, N_TRAIN, 7, 1);
    ref_order(b, N_TRAIN, 7, 1);
    assert_memory_equal(a, b, sizeof a);
    splut__epoch_order(b, N_TRAIN, 7, 2); /* another epoch, another order */
    assert_memory_not_equal(a, b, sizeof a);
    splut__epoch_order(b, N_TRAIN, 8, 1); /* another seed, another order */
    assert_memory_not_equal(a, b, sizeof a);
    /* The run feeds position p of epoch e the row order_e[p]. */
    fixture f;
    fixture_open(&f, 3);
    seen_rows *s = calloc(1, sizeof *s);
    assert_non_null(s);
    assert_int_equal(splut_run_set_int(f.run, SPLUT_P_RUN_SEED, 7), 0);
    assert_int_equal(splut_run_set_transform(f.run, record_row, s), 0);
    assert_int_equal(splut_run_fit(f.run), 0);
    for (uint64_t e = 1; e <= 3; e++) {
        ref_order(a, N_TRAIN, 7, e);
        assert_memory_equal(s->row[e], a, sizeof a); /* 80 = 5 batches of 16 */
    }
    free(s);
    fixture_close(&f);
}

/* ---- the parameter average against an independent computation ------------ */

typedef struct ema_check {
    splut_model *m;
    float *ema;
    float *p;
    size_t n, steps;
    double decay;
} ema_check;

static int fold_params(void *user, const splut_run_progress *p)
{
    ema_check *c = user;
    if (p->kind != SPLUT_PROGRESS_STEP)
        return 0;
    assert_int_equal(splut_model_params(c->m, c->p, 1), 0);
    for (size_t i = 0; i < c->n; i++) /* ema ← decay·ema + (1 − decay)·params */
        c->ema[i] = c->steps ? (float)c->decay * c->ema[i] + (1.0f - (float)c->decay) * c->p[i]
                             : c->p[i];
    c->steps++;
    return 0;
}

static void test_ema_formula(void **state)
{
    (void)state;
    fixture f;
    fixture_open(&f, 2);
    ema_check c = {.m = f.m, .n = splut_model_num_params(f.m), .decay = 0.75};
    c.ema = calloc(c.n, sizeof *c.ema);
    c.p = calloc(c.n, sizeof *c.p);
    float *got = calloc(c.n, sizeof *got);
    assert_true(c.ema && c.p && got);
    assert_int_equal(splut_run_set_double(f.run, SPLUT_P_RUN_EMA, c.decay), 0);
    assert_int_equal(splut_run_set_progress(f.run, fold_params, &c), 0);
    assert_int_equal(splut_run_fit(f.run), 0);
    assert_int_equal(c.steps, 10);
    /* the evaluated model carries the average (calibration changes only statistics) */
    assert_int_equal(splut_model_params((splut_model *)splut_run_evaluated_model(f.run), got, 1),
                     0);
    assert_memory_equal(got, c.ema, c.n * sizeof *got);
    assert_memory_not_equal(got, c.p, c.n * sizeof *got); /* not the live parameters */
    free(c.ema);
    free(c.p);
    free(got);
    fixture_close(&f);
}

/* ---- refused inputs -------------------------------------------------------- */

static void test_bad_input(void **state)
{
    (void)state;
    fixture f;
    fixture_open(&f, 2);
    assert_int_equal(splut_run_set_double(f.run, SPLUT_P_RUN_DISTILL_ALPHA, NAN),
                     SPLUT_E_OUT_OF_RANGE);
    assert_int_equal(splut_run_set_double(f.run, SPLUT_P_RUN_DISTILL_TEMPERATURE, 0),
                     SPLUT_E_OUT_OF_RANGE);
    assert_int_equal(splut_run_set_int(f.run, SPLUT_P_RUN_BATCH, 1), SPLUT_E_OUT_OF_RANGE);
    assert_int_equal(splut_run_set_int(f.run, SPLUT_P_STEP, 3), SPLUT_E_UNKNOWN_PARAM);
    assert_int_equal(splut_run_set_int(f.run, SPLUT_P_RUN_EPOCHS_DONE, 3), SPLUT_E_STATE);
    assert_int_equal(splut_run_set_int(f.run, SPLUT_P_SEED, 3), SPLUT_E_UNKNOWN_PARAM);
    assert_int_equal(splut_run_set_double(f.run, SPLUT_P_RUN_SHIFT, 1), SPLUT_E_PARAM_TYPE);
    /* a shift needs an image dataset */
    assert_int_equal(splut_run_set_int(f.run, SPLUT_P_RUN_SHIFT, 1), 0);
    assert_int_equal(splut_run_epoch(f.run), SPLUT_E_INVALID);
    assert_non_null(strstr(splut_ctx_last_error(f.ctx), "image"));
    assert_int_equal(splut_run_set_int(f.run, SPLUT_P_RUN_SHIFT, 0), 0);
    /* a teacher with other outputs */
    splut_model *t4 = make_model(f.ctx, 4);
    assert_int_equal(splut_run_set_teacher(f.run, t4), SPLUT_E_INVALID);
    splut_model_destroy(t4);
    /* a test set with another feature count; labels at or above the outputs */
    splut_dataset *wide = make_data(f.ctx, 10, FEATURES + 1, 3);
    splut_run *r2 = NULL;
    assert_int_equal(splut_run_create(f.m, f.train, wide, &r2), SPLUT_E_INVALID);
    assert_non_null(strstr(splut_ctx_last_error(f.ctx), "test set"));
    splut_model *two = make_model(f.ctx, 2);
    assert_int_equal(splut_run_create(two, f.train, NULL, &r2), SPLUT_E_LABEL);
    assert_null(r2);
    splut_model_destroy(two);
    splut_dataset_destroy(wide);
    /* keep-best needs a test set */
    assert_int_equal(splut_run_create(f.m, f.train, NULL, &r2), 0);
    assert_int_equal(splut_run_set_int(r2, SPLUT_P_RUN_KEEP_BEST, 1), 0);
    assert_int_equal(splut_run_fit(r2), SPLUT_E_INVALID);
    splut_run_destroy(r2);
    /* after the first epoch the configuration is fixed; the epochs may grow */
    assert_int_equal(splut_run_epoch(f.run), 0);
    assert_int_equal(splut_run_set_int(f.run, SPLUT_P_RUN_BATCH, 8), SPLUT_E_STATE);
    assert_int_equal(splut_run_set_int(f.run, SPLUT_P_RUN_EPOCHS, 3), 0);
    splut_run_record rec = {.size = 3};
    assert_int_equal(splut_run_history(f.run, 1, &rec), SPLUT_E_STRUCT_SIZE);
    rec = (splut_run_record)SPLUT_RUN_RECORD_INIT;
    assert_int_equal(splut_run_history(f.run, 2, &rec), SPLUT_E_INDEX);
    assert_int_equal(splut_run_history(f.run, 1, &rec), 0);
    assert_int_equal(rec.epoch, 1);
    fixture_close(&f);
}

/* ---- stop and continue ----------------------------------------------------- */

static int stop_at(void *user, const splut_run_progress *p)
{
    int *countdown = user;
    (void)p;
    return --*countdown == 0;
}

static void test_cancel_and_continue(void **state)
{
    (void)state;
    size_t nref = 0, n = 0;
    uint8_t *ref = reference_bytes(3, &nref);
    fixture f;
    fixture_open(&f, 3);
    int countdown = 8; /* the 2nd step of epoch 2 (5 steps and 1 epoch report per epoch) */
    assert_int_equal(splut_run_set_progress(f.run, stop_at, &countdown), 0);
    assert_int_equal(splut_run_fit(f.run), SPLUT_E_CANCELLED);
    int64_t done = -1;
    assert_int_equal(splut_run_get_int(f.run, SPLUT_P_RUN_EPOCHS_DONE, &done), 0);
    assert_int_equal(done, 1);
    /* inside an epoch there is no checkpoint */
    char path[300];
    tmp_path(path, sizeof path, "mid.ck");
    assert_int_equal(splut_run_save_checkpoint(f.run, path), SPLUT_E_STATE);
    assert_int_equal(splut_run_fit(f.run), 0);
    uint8_t *got = final_bytes(f.run, &n);
    assert_int_equal(n, nref);
    assert_memory_equal(got, ref, n);
    free(got);
    free(ref);
    fixture_close(&f);
}

/* ---- checkpoints ----------------------------------------------------------- */

static void resume_to_end(const char *ck, uint64_t epochs, uint8_t **bytes, size_t *n)
{
    fixture f;
    fixture_open(&f, epochs);
    if (ck && access(ck, F_OK) == 0)
        assert_int_equal(splut_run_resume(f.run, ck), 0);
    assert_int_equal(splut_run_fit(f.run), 0);
    *bytes = final_bytes(f.run, n);
    fixture_close(&f);
}

static void test_resume_exact(void **state)
{
    (void)state;
    size_t nref = 0, n = 0;
    uint8_t *ref = reference_bytes(4, &nref);
    char ck[300];
    tmp_path(ck, sizeof ck, "r.ck");
    remove(ck);
    fixture f;
    fixture_open(&f, 2);
    assert_int_equal(splut_run_set_checkpoint(f.run, ck), 0);
    assert_int_equal(splut_run_fit(f.run), 0);
    /* the live model inside the checkpoint is the run's model */
    splut_model *inside = NULL;
    assert_int_equal(splut_run_checkpoint_model(f.ctx, ck, &inside), 0);
    size_t na = 0, nb = 0;
    assert_int_equal(splut_model_serialize(inside, NULL, 0, &na), 0);
    assert_int_equal(splut_model_serialize(f.m, NULL, 0, &nb), 0);
    uint8_t *a = malloc(na), *b = malloc(nb);
    assert_true(a && b && na == nb);
    assert_int_equal(splut_model_serialize(inside, a, na, &na), 0);
    assert_int_equal(splut_model_serialize(f.m, b, nb, &nb), 0);
    assert_memory_equal(a, b, na);
    free(a);
    free(b);
    splut_model_destroy(inside);
    assert_int_equal(splut_run_checkpoint_model(f.ctx, "/nonexistent/ck", &inside), SPLUT_E_IO);
    assert_null(inside);
    fixture_close(&f);
    uint8_t *got = NULL;
    resume_to_end(ck, 4, &got, &n);
    assert_int_equal(n, nref);
    assert_memory_equal(got, ref, n);
    free(got);
    /* other data is refused */
    fixture_open(&f, 4);
    splut_run_destroy(f.run);
    splut_dataset *other = make_data(f.ctx, N_TRAIN, FEATURES, 9);
    assert_int_equal(splut_run_create(f.m, other, f.test, &f.run), 0);
    assert_int_equal(splut_run_resume(f.run, ck), SPLUT_E_INVALID);
    assert_non_null(strstr(splut_ctx_last_error(f.ctx), "fingerprint"));
    splut_dataset_destroy(other);
    /* fewer epochs than done are refused; a teacher the run did not have too */
    assert_int_equal(splut_run_set_int(f.run, SPLUT_P_RUN_EPOCHS, 1), 0);
    fixture_close(&f);
    fixture_open(&f, 1);
    assert_int_equal(splut_run_resume(f.run, ck), SPLUT_E_INVALID);
    fixture_close(&f);
    fixture_open(&f, 4);
    splut_model *t = make_model(f.ctx, 3);
    assert_int_equal(splut_run_set_teacher(f.run, t), 0);
    assert_int_equal(splut_run_resume(f.run, ck), SPLUT_E_INVALID);
    assert_non_null(strstr(splut_ctx_last_error(f.ctx), "teacher"));
    splut_model_destroy(t);
    fixture_close(&f);
    free(ref);
}

static uint8_t *slurp(const char *path, size_t *n)
{
    FILE *fp = fopen(path, "rb");
    assert_non_null(fp);
    fseek(fp, 0, SEEK_END);
    *n = (size_t)ftell(fp);
    fseek(fp, 0, SEEK_SET);
    uint8_t *b = malloc(*n);
    assert_non_null(b);
    assert_int_equal(fread(b, 1, *n, fp), *n);
    fclose(fp);
    return b;
}

static void spill(const char *path, const uint8_t *b, size_t n)
{
    FILE *fp = fopen(path, "wb");
    assert_non_null(fp);
    assert_int_equal(fwrite(b, 1, n, fp), n);
    fclose(fp);
}

/* Write @p b with a field changed at @p at and a valid CRC: a hand edit. */
static void hand_edit(const char *path, uint8_t *b, size_t n, size_t at, uint64_t v)
{
    wbuf w = {b, n, at};
    put_u64(&w, v);
    w.pos = n - 4;
    put_u32(&w, splut__crc32(0, b, n - 4));
    spill(path, b, n);
}

static splut_status resume_status(const char *path)
{
    fixture f;
    fixture_open(&f, 4);
    splut_status st = splut_run_resume(f.run, path);
    int64_t done = -1;
    splut_run_get_int(f.run, SPLUT_P_RUN_EPOCHS_DONE, &done);
    if (st)
        assert_int_equal(done, 0); /* nothing changed */
    fixture_close(&f);
    return st;
}

static void test_damaged_checkpoint(void **state)
{
    (void)state;
    char ck[300], bad[300];
    tmp_path(ck, sizeof ck, "d.ck");
    tmp_path(bad, sizeof bad, "bad.ck");
    fixture f;
    fixture_open(&f, 2);
    assert_int_equal(splut_run_set_checkpoint(f.run, ck), 0);
    assert_int_equal(splut_run_fit(f.run), 0);
    fixture_close(&f);
    size_t n = 0;
    uint8_t *orig = slurp(ck, &n), *b = malloc(n);
    assert_non_null(b);
    const size_t runs = 24 + 12; /* RUNS payload (docs/checkpoint-format.md) */
    struct {
        size_t at;
        uint64_t v;
        splut_status want;
    } edits[] = {
        {runs + 120, 3, SPLUT_E_FORMAT},              /* best epoch after the last */
        {runs + 120, 0, SPLUT_E_FORMAT},              /* best model without best epoch */
        {runs + 0, 1, SPLUT_E_FORMAT},                /* epochs done vs history */
        {runs + 8, 7, SPLUT_E_FORMAT},                /* step vs the trainer's */
        {runs + 24, 1, SPLUT_E_FORMAT},               /* batch below 2 */
        {runs + 48, 99, SPLUT_E_FORMAT},              /* shift out of range */
        {runs + 80, 0x7ff8000000000000ull, SPLUT_E_FORMAT}, /* NaN alpha */
        {runs + 96, 12345, SPLUT_E_INVALID},          /* other training data */
        {8, 2, SPLUT_E_VERSION},                      /* format version */
    };
    for (size_t k = 0; k < sizeof edits / sizeof edits[0]; k++) {
        memcpy(b, orig, n);
        hand_edit(bad, b, n, edits[k].at, edits[k].v);
        assert_int_equal(resume_status(bad), edits[k].want);
    }
    memcpy(b, orig, n);
    b[n / 2] ^= 0x10; /* a flipped bit */
    spill(bad, b, n);
    assert_int_equal(resume_status(bad), SPLUT_E_CHECKSUM);
    spill(bad, orig, n - 9); /* truncated */
    assert_int_equal(resume_status(bad), SPLUT_E_FORMAT);
    spill(bad, orig, 10);
    assert_int_equal(resume_status(bad), SPLUT_E_FORMAT);
    assert_int_equal(resume_status(ck), 0);
    free(orig);
    free(b);
}

/* ---- fault injection at every stage of every checkpoint write ------------- */

static int calls, fail_at;

static int count_stage(const char *stage)
{
    (void)stage;
    calls++;
    return 0;
}

static int fail_stage(const char *stage)
{
    (void)stage;
    return ++calls == fail_at;
}

static int kill_stage(const char *stage)
{
    (void)stage;
    if (++calls == fail_at)
        _exit(0); /* the process dies here: no cleanup, no further writes */
    return 0;
}

/* The fixture run of @p epochs with a checkpoint at @p ck; its status. */
static splut_status run_with_checkpoint(const char *ck, uint64_t epochs)
{
    fixture f;
    fixture_open(&f, epochs);
    assert_int_equal(splut_run_set_checkpoint(f.run, ck), 0);
    if (access(ck, F_OK) == 0)
        assert_int_equal(splut_run_resume(f.run, ck), 0);
    splut_status st = splut_run_fit(f.run);
    fixture_close(&f);
    return st;
}

static void test_fault_injection(void **state)
{
    (void)state;
    const uint64_t E = 3;
    size_t nref = 0, n = 0;
    uint8_t *ref = reference_bytes(E, &nref);
    char ck[300];
    tmp_path(ck, sizeof ck, "f.ck");
    remove(ck);
    calls = 0;
    splut__fileio_fault = count_stage;
    assert_int_equal(run_with_checkpoint(ck, E), 0);
    splut__fileio_fault = NULL;
    int total = calls;
    assert_int_equal(total, (int)E * 5); /* open, write, sync, rename, dirsync per epoch */
    for (int k = 1; k <= total; k++) {
        for (int kill = 0; kill < 2; kill++) {
            remove(ck);
            calls = 0;
            fail_at = k;
            if (kill) { /* the process dies at the k-th stage */
                fflush(NULL);
                pid_t pid = fork();
                assert_true(pid >= 0);
                if (pid == 0) {
                    splut__fileio_fault = kill_stage;
                    run_with_checkpoint(ck, E);
                    _exit(3); /* not reached: the hook exits first */
                }
                int status = 0;
                assert_int_equal(waitpid(pid, &status, 0), pid);
                assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
            } else { /* the k-th stage fails: the run stops with an I/O error */
                splut__fileio_fault = fail_stage;
                splut_status st = run_with_checkpoint(ck, E);
                splut__fileio_fault = NULL;
                /* a failed directory sync is not an error: the file is in place */
                assert_int_equal(st, k % 5 == 0 ? SPLUT_OK : SPLUT_E_IO);
            }
            /* whatever is on disk resumes to the uninterrupted model */
            uint8_t *got = NULL;
            resume_to_end(ck, E, &got, &n);
            assert_int_equal(n, nref);
            assert_memory_equal(got, ref, n);
            free(got);
        }
    }
    free(ref);
}


/* ---- allocation failure ---------------------------------------------------- */

typedef struct nomem_objs {
    splut_model *m, *t;
    splut_dataset *train, *test;
    splut_run *run;
} nomem_objs;

static void nomem_free(nomem_objs *o)
{
    splut_run_destroy(o->run);
    splut_dataset_destroy(o->train);
    splut_dataset_destroy(o->test);
    splut_model_destroy(o->t);
    splut_model_destroy(o->m);
    memset(o, 0, sizeof *o);
}

/* A distilled, averaged keep-best run of 2 epochs with a checkpoint, then a
 * second run resumed from it for a third: every allocation on @p ctx. */
static splut_status nomem_op(splut_ctx *ctx, const float *x, const int32_t *y, const char *ck)
{
    nomem_objs o = {0};
    splut_layer_desc d = SPLUT_LAYER_DESC_INIT;
    d.kind = SPLUT_NEURON_POLY;
    d.width = 3;
    d.fan_in = 3;
    d.out_bits = 2;
    d.degree = 2;
    splut_status st = SPLUT_OK;
    for (int pass = 0; pass < 2 && st == SPLUT_OK; pass++) {
        st = splut_model_create(ctx, ARCH_IN, 2, &o.m);
        if (st == SPLUT_OK)
            st = splut_model_add_layer(o.m, &d);
        if (st == SPLUT_OK)
            st = splut_model_build(o.m);
        if (st == SPLUT_OK)
            st = splut_model_clone(o.m, &o.t);
        if (st == SPLUT_OK)
            st = splut_dataset_create(ctx, 32, FEATURES, x, y, SPLUT_DATASET_BORROW, &o.train);
        if (st == SPLUT_OK)
            st = splut_dataset_create(ctx, 8, FEATURES, x, y, SPLUT_DATASET_COPY, &o.test);
        if (st == SPLUT_OK)
            st = splut_run_create(o.m, o.train, o.test, &o.run);
        if (st == SPLUT_OK)
            st = splut_run_set_int(o.run, SPLUT_P_RUN_EPOCHS, 2 + pass);
        if (st == SPLUT_OK)
            st = splut_run_set_int(o.run, SPLUT_P_RUN_BATCH, 16);
        if (st == SPLUT_OK)
            st = splut_run_set_int(o.run, SPLUT_P_RUN_KEEP_BEST, 1);
        if (st == SPLUT_OK)
            st = splut_run_set_double(o.run, SPLUT_P_RUN_EMA, 0.5);
        if (st == SPLUT_OK)
            st = splut_run_set_teacher(o.run, o.t);
        if (st == SPLUT_OK && pass == 0)
            st = splut_run_set_checkpoint(o.run, ck);
        if (st == SPLUT_OK && pass == 1)
            st = splut_run_resume(o.run, ck);
        if (st == SPLUT_OK)
            st = splut_run_fit(o.run);
        nomem_free(&o);
    }
    remove(ck);
    return st;
}

static void test_nomem(void **state)
{
    (void)state;
    float x[32 * FEATURES];
    int32_t y[32];
    for (int i = 0; i < 32; i++) {
        for (int j = 0; j < FEATURES; j++)
            x[i * FEATURES + j] = (float)((i * 7 + j * 5) % 11) / 5.0f - 1.0f;
        y[i] = i % 3;
    }
    char ck[300];
    tmp_path(ck, sizeof ck, "nomem.ck");
    counting_alloc ca;
    splut_allocator a = counting_allocator(&ca);
    splut_ctx *ctx = NULL;
    assert_int_equal(splut_ctx_create(&a, &ctx), SPLUT_OK);
    assert_int_equal(splut_ctx_set_int(ctx, SPLUT_P_THREADS, 1), SPLUT_OK);
    counting_disarm(&ca);
    long before = ca.allocs;
    assert_int_equal(nomem_op(ctx, x, y, ck), SPLUT_OK);
    long total = ca.allocs - before, failed = 0;
    assert_int_equal(ca.live, 1); /* only the context */
    for (long n = 0; n < total; n++) {
        counting_fail_at(&ca, n);
        splut_status st = nomem_op(ctx, x, y, ck);
        counting_disarm(&ca);
        if (st != SPLUT_OK && st != SPLUT_E_NOMEM)
            fail_msg("allocation %ld failing gave %s (%s)", n, splut_status_str(st),
                     splut_ctx_last_error(ctx));
        if (ca.live != 1)
            fail_msg("allocation %ld failing leaked %ld blocks", n, ca.live - 1);
        failed += st == SPLUT_E_NOMEM;
    }
    assert_true(failed > 0);
    splut_ctx_unref(ctx);
    assert_int_equal(ca.live, 0);
}

static int setup(void **state)
{
    (void)state;
    snprintf(dir, sizeof dir, "/tmp/splut-run-XXXXXX");
    return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    return system(cmd) == 0 ? 0 : -1;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_epoch_order),
        cmocka_unit_test(test_ema_formula),
        cmocka_unit_test(test_bad_input),
        cmocka_unit_test(test_cancel_and_continue),
        cmocka_unit_test(test_resume_exact),
        cmocka_unit_test(test_damaged_checkpoint),
        cmocka_unit_test(test_fault_injection),
        cmocka_unit_test(test_nomem),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
