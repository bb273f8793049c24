/*
 * Training runs: the reference training loop (MODELS.md §6) around a trainer.
 *
 * Per epoch: a seeded shuffle, mini-batches (a final batch of fewer than 2
 * samples is skipped: BatchNorm needs two), optional image shifts and a
 * transform hook, distillation targets, an optimiser step, the parameter
 * average; then evaluation in eval mode on both sets, the history record,
 * keep-best and the checkpoint.
 *
 * Resume is exact because everything an epoch depends on is either in the
 * checkpoint (trainer state, average, history, best) or derived from (seed,
 * epoch): the shuffle and the shifts of epoch e are pure functions of both.
 * A callback that stops the run inside an epoch leaves the epoch's position
 * in the run, and the next call continues from the following step.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include <math.h>
#include <string.h>
#include <time.h>

#include "run-int.h"

/* ------------------------------------------------------------- helpers */

static double now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static uint64_t splitmix64(uint64_t *s)
{
    uint64_t z = (*s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

void splut__epoch_order(size_t *idx, size_t n, uint64_t seed, uint64_t epoch)
{
    uint64_t s = seed ^ 0x5ee71e5ull;
    s = splitmix64(&s) ^ (epoch * 0xD1B54A32D192ED03ull);
    for (size_t i = 0; i < n; i++)
        idx[i] = i;
    for (size_t i = n; i > 1; i--) {
        uint64_t lim = UINT64_MAX - UINT64_MAX % i, v;
        do
            v = splitmix64(&s);
        while (v >= lim);
        size_t j = (size_t)(v % i), t = idx[i - 1];
        idx[i - 1] = idx[j];
        idx[j] = t;
    }
}

uint64_t splut__batches_per_epoch(size_t n, uint64_t batch)
{
    return n / batch + (n % batch >= 2 ? 1 : 0);
}

/* Learned connectivity or pre-training: phase 1 trains a linear surrogate. */
static bool two_phase(const splut_run *r)
{
    int64_t mode = 0;
    splut_trainer_get_int(r->t, SPLUT_P_CONNECTIVITY, &mode);
    return mode != 0;
}

static bool in_phase2(const splut_run *r)
{
    return splut_trainer_model_in_training(r->t) == r->m;
}

/* Labels below the model's outputs (0/1 for one output), features equal to its inputs. */
static splut_status check_fit(const splut_model *m, const splut_dataset *ds, const char *which)
{
    splut_ctx *ctx = splut_model_ctx(m);
    uint32_t inputs = splut_model_num_inputs(m), outputs = splut_model_num_outputs(m);
    if (splut_dataset_num_features(ds) != inputs)
        return splut__fail(ctx, SPLUT_E_INVALID,
                           "the model has %u inputs but the %s set has %u features", inputs,
                           which, splut_dataset_num_features(ds));
    uint32_t limit = outputs == 1 ? 2 : outputs;
    if (splut_dataset_num_classes(ds) > limit)
        return splut__fail(ctx, SPLUT_E_LABEL,
                           "label %u of the %s set out of range for a model with %u output%s "
                           "(labels must be below %u)",
                           splut_dataset_num_classes(ds) - 1, which, outputs,
                           outputs == 1 ? "" : "s", limit);
    return SPLUT_OK;
}

/* ------------------------------------------------------------ lifecycle */

splut_status splut_run_create(splut_model *model, splut_dataset *train, splut_dataset *test,
                              splut_run **out)
{
    if (!model || !out)
        return SPLUT_E_NULL;
    *out = NULL;
    splut_ctx *ctx = splut_model_ctx(model);
    if (!train)
        return splut__fail(ctx, SPLUT_E_NULL, "splut_run_create: train is NULL");
    splut_status st = check_fit(model, train, "training");
    if (st == SPLUT_OK && test)
        st = check_fit(model, test, "test");
    if (st != SPLUT_OK)
        return st;
    splut_run *r = splut__calloc(ctx, 1, sizeof *r);
    if (!r)
        return splut__fail(ctx, SPLUT_E_NOMEM, "out of memory for a run");
    r->ctx = splut_ctx_ref(ctx);
    r->m = model;
    r->train = splut_dataset_ref(train);
    r->test = splut_dataset_ref(test);
    r->evalm = model;
    st = splut_trainer_create(model, &r->t);
    if (st != SPLUT_OK) {
        splut_run_destroy(r);
        return st;
    }
    int64_t batch = 128, epochs = 100;
    splut_model_get_int(model, SPLUT_P_RECIPE_BATCH, &batch);
    splut_model_get_int(model, SPLUT_P_RECIPE_EPOCHS, &epochs);
    r->cfg.epochs = (uint64_t)epochs;
    r->cfg.batch = batch < 2 ? 2 : (uint64_t)batch;
    r->cfg.seed = (uint64_t)ctx->seed;
    r->cfg.restart_epochs = 100;
    r->cfg.alpha = 0.9;
    r->cfg.temperature = 2.0;
    *out = r;
    return SPLUT_OK;
}

void splut_run_destroy(splut_run *r)
{
    if (!r)
        return;
    splut_ctx *ctx = r->ctx;
    splut_trainer_destroy(r->t);
    splut__avg_free(ctx, &r->avg);
    splut__teacher_free(&r->teacher);
    splut_model_destroy(r->best);
    splut_dataset_destroy(r->train);
    splut_dataset_destroy(r->test);
    splut__free(ctx, r->hist);
    splut__free(ctx, r->order);
    splut__free(ctx, r->xb);
    splut__free(ctx, r->yb);
    splut__free(ctx, r->checkpoint);
    splut__free(ctx, r);
    splut_ctx_unref(ctx);
}

/* The switch epoch when none was given: the end of the first cosine cycle
 * when at least one more full cycle follows (a long phase 1 gives better
 * masks, docs/connectivity.md), else the library's default. */
static uint64_t default_switch_epoch(const splut_run *r)
{
    uint64_t R = r->cfg.restart_epochs;
    if (R > 0 && r->cfg.epochs / 2 >= R)
        return R;
    double dflt = 20;
    (void)splut_param_info(SPLUT_P_SWITCH_EPOCH, NULL, NULL, NULL, &dflt);
    return (uint64_t)dflt;
}

/* ----------------------------------------------------------- parameters */

/* Keys the run sets on its trainer itself. */
static bool managed_key(splut_param key)
{
    return key == SPLUT_P_STEP || key == SPLUT_P_STEPS_PER_EPOCH ||
           key == SPLUT_P_RESTART_PERIOD || key == SPLUT_P_BN_FROZEN;
}

static bool trainer_key(splut_param key)
{
    return (int)key >= 200 && (int)key <= 299;
}

static splut_status check_settable(splut_run *r, splut_param key)
{
    if (trainer_key(key) && managed_key(key))
        return splut__fail(r->ctx, SPLUT_E_UNKNOWN_PARAM,
                           "parameter '%s' is managed by the run (see SPLUT_P_RUN_*)",
                           splut_param_name(key));
    if (key == SPLUT_P_RUN_EPOCHS_DONE || key == SPLUT_P_RUN_BEST_EPOCH)
        return splut__fail(r->ctx, SPLUT_E_STATE, "parameter '%s' is read only",
                           splut_param_name(key));
    if (r->started && key != SPLUT_P_RUN_EPOCHS)
        return splut__fail(r->ctx, SPLUT_E_STATE,
                           "parameter '%s' cannot change after the first epoch",
                           splut_param_name(key));
    return SPLUT_OK;
}

/* Run keys live in the parameter table (lib/ctx.c, owner SPLUT_OWNER_RUN);
 * trainer keys the run does not manage go to its trainer. */
splut_status splut_run_set_int(splut_run *r, splut_param key, int64_t value)
{
    if (!r)
        return SPLUT_E_NULL;
    splut_status st = check_settable(r, key);
    if (st == SPLUT_OK && trainer_key(key)) {
        st = splut_trainer_set_int(r->t, key, value);
        if (st == SPLUT_OK && key == SPLUT_P_SWITCH_EPOCH)
            r->switch_set = true;
        return st;
    }
    return st == SPLUT_OK ? splut__param_set_int(r->ctx, SPLUT_OWNER_RUN, r, key, value) : st;
}

splut_status splut_run_get_int(const splut_run *r, splut_param key, int64_t *value)
{
    if (!r || !value)
        return r ? splut__fail(r->ctx, SPLUT_E_NULL, "splut_run_get_int: value is NULL")
                 : SPLUT_E_NULL;
    if (key == SPLUT_P_SWITCH_EPOCH && two_phase(r) && !r->switch_set && !r->started) {
        *value = (int64_t)default_switch_epoch(r); /* what start() will set */
        return SPLUT_OK;
    }
    if (trainer_key(key))
        return splut_trainer_get_int(r->t, key, value);
    return splut__param_get_int(r->ctx, SPLUT_OWNER_RUN, r, key, value);
}

splut_status splut_run_set_double(splut_run *r, splut_param key, double value)
{
    if (!r)
        return SPLUT_E_NULL;
    splut_status st = check_settable(r, key);
    if (st == SPLUT_OK && trainer_key(key))
        return splut_trainer_set_double(r->t, key, value);
    return st == SPLUT_OK ? splut__param_set_double(r->ctx, SPLUT_OWNER_RUN, r, key, value) : st;
}

splut_status splut_run_get_double(const splut_run *r, splut_param key, double *value)
{
    if (!r || !value)
        return r ? splut__fail(r->ctx, SPLUT_E_NULL, "splut_run_get_double: value is NULL")
                 : SPLUT_E_NULL;
    if (trainer_key(key))
        return splut_trainer_get_double(r->t, key, value);
    return splut__param_get_double(r->ctx, SPLUT_OWNER_RUN, r, key, value);
}

static splut_status check_not_started(const splut_run *r, const char *what)
{
    if (r->started)
        return splut__fail(r->ctx, SPLUT_E_STATE, "%s cannot change after the first epoch",
                           what);
    return SPLUT_OK;
}

splut_status splut_run_set_teacher(splut_run *r, const splut_model *teacher)
{
    if (!r)
        return SPLUT_E_NULL;
    splut_status st = check_not_started(r, "the teacher");
    if (st != SPLUT_OK)
        return st;
    if (!teacher) {
        splut__teacher_free(&r->teacher);
        return SPLUT_OK;
    }
    return splut__teacher_set(&r->teacher, teacher, r->m);
}

splut_status splut_run_set_transform(splut_run *r, splut_run_transform_fn fn, void *user)
{
    if (!r)
        return SPLUT_E_NULL;
    splut_status st = check_not_started(r, "the transform hook");
    if (st == SPLUT_OK) {
        r->transform = fn;
        r->transform_user = user;
    }
    return st;
}

splut_status splut_run_set_progress(splut_run *r, splut_run_progress_fn fn, void *user)
{
    if (!r)
        return SPLUT_E_NULL;
    r->progress = fn;
    r->progress_user = user;
    return SPLUT_OK;
}

splut_status splut_run_set_checkpoint(splut_run *r, const char *path)
{
    if (!r)
        return SPLUT_E_NULL;
    char *copy = NULL;
    if (path) {
        size_t n = strlen(path) + 1;
        copy = splut__alloc(r->ctx, n);
        if (!copy)
            return splut__fail(r->ctx, SPLUT_E_NOMEM, "out of memory for the checkpoint path");
        memcpy(copy, path, n);
    }
    splut__free(r->ctx, r->checkpoint);
    r->checkpoint = copy;
    return SPLUT_OK;
}

/* -------------------------------------------------------------- start */

static splut_status check_config(splut_run *r, uint64_t nb)
{
    const splut_run_cfg *c = &r->cfg;
    uint32_t width = 0, height = 0;
    splut_dataset_image(r->train, &width, &height, NULL);
    if (nb == 0)
        return splut__fail(r->ctx, SPLUT_E_INVALID,
                           "the training set has %zu samples: not enough for one batch of at "
                           "least 2", splut_dataset_num_samples(r->train));
    if (c->shift && !width)
        return splut__fail(r->ctx, SPLUT_E_INVALID,
                           "image shifts need an image dataset (splut_dataset_set_image)");
    if (c->restart_epochs && c->bn_freeze > c->restart_epochs)
        return splut__fail(r->ctx, SPLUT_E_INVALID,
                           "bn_freeze %llu is longer than a cosine cycle (restart_epochs %llu)",
                           (unsigned long long)c->bn_freeze,
                           (unsigned long long)c->restart_epochs);
    if (c->keep_best && !r->test)
        return splut__fail(r->ctx, SPLUT_E_INVALID, "keep_best needs a test set");
    if (r->done > c->epochs)
        return splut__fail(r->ctx, SPLUT_E_INVALID,
                           "%llu epochs are done, more than epochs %llu",
                           (unsigned long long)r->done, (unsigned long long)c->epochs);
    int64_t T = 0;
    splut_trainer_get_int(r->t, SPLUT_P_SWITCH_EPOCH, &T);
    if (two_phase(r) && c->epochs <= (uint64_t)T)
        return splut__fail(r->ctx, SPLUT_E_INVALID,
                           "epochs %llu ends before the target network trains: the switch "
                           "epoch is %lld", (unsigned long long)c->epochs, (long long)T);
    return SPLUT_OK;
}

static splut_status alloc_buffers(splut_run *r)
{
    size_t n = splut_dataset_num_samples(r->train), B = (size_t)r->cfg.batch;
    uint32_t nf = splut_dataset_num_features(r->train);
    splut__free(r->ctx, r->order); /* a start that failed before may have left them */
    splut__free(r->ctx, r->xb);
    splut__free(r->ctx, r->yb);
    r->order = splut__calloc(r->ctx, n, sizeof *r->order);
    r->xb = splut__calloc(r->ctx, splut__mul(B, nf), sizeof *r->xb);
    r->yb = splut__calloc(r->ctx, B, sizeof *r->yb);
    if (!r->order || !r->xb || !r->yb)
        return splut__fail(r->ctx, SPLUT_E_NOMEM, "out of memory for batch buffers");
    return r->teacher.m ? splut__teacher_reserve(&r->teacher, B) : SPLUT_OK;
}

/* Before the first epoch of this run object: the schedule in steps, the
 * connectivity timing, the consistency checks and the buffers. */
static splut_status start(splut_run *r)
{
    if (r->started)
        return SPLUT_OK;
    uint64_t nb = splut__batches_per_epoch(splut_dataset_num_samples(r->train), r->cfg.batch);
    splut_status st = SPLUT_OK;
    if (two_phase(r) && !r->switch_set)
        st = splut_trainer_set_int(r->t, SPLUT_P_SWITCH_EPOCH, (int64_t)default_switch_epoch(r));
    if (st == SPLUT_OK)
        st = check_config(r, nb);
    if (st == SPLUT_OK)
        st = splut_trainer_set_int(r->t, SPLUT_P_RESTART_PERIOD,
                                   (int64_t)(r->cfg.restart_epochs * nb));
    if (st == SPLUT_OK && two_phase(r))
        st = splut_trainer_set_int(r->t, SPLUT_P_STEPS_PER_EPOCH, (int64_t)nb);
    if (st == SPLUT_OK)
        st = alloc_buffers(r);
    if (st != SPLUT_OK)
        return st;
    r->avg.decay = r->cfg.ema;
    r->avg.calibrate = r->cfg.bn_calibrate != 0;
    r->batches = nb;
    r->started = true;
    return SPLUT_OK;
}

/* ---------------------------------------------------------- the epoch */

/* SPLUT_P_RUN_BN_FREEZE K: the last K epochs of every cosine cycle (of the run
 * when the rate is constant), in phase 2, train with frozen statistics,
 * calibrated on the training set at the first of them and kept to the last:
 * calibrating again would measure train-mode passes of weights that now fit
 * the frozen statistics, and moved the function away from what was trained
 * (measured: eval-mode training accuracy fell 1.5 points in five epochs). A
 * function of the epoch and the model only, so an interrupted run resumes
 * exactly. */
static bool bn_frozen_epoch(uint64_t K, uint64_t R, uint64_t epochs, uint64_t epoch)
{
    return K && (R ? (epoch - 1) % R >= R - K : epoch + K > epochs);
}

static splut_status set_bn_freeze(splut_run *r, uint64_t epoch)
{
    const splut_run_cfg *c = &r->cfg;
    bool frozen = bn_frozen_epoch(c->bn_freeze, c->restart_epochs, c->epochs, epoch) &&
                  in_phase2(r);
    bool first = epoch == 1 ||
                 !bn_frozen_epoch(c->bn_freeze, c->restart_epochs, c->epochs, epoch - 1);
    splut_status st = SPLUT_OK;
    if (frozen && first)
        st = splut_trainer_calibrate_bn(r->t, splut_dataset_features(r->train),
                                        splut_dataset_num_samples(r->train), (size_t)c->batch);
    if (st == SPLUT_OK)
        st = splut_trainer_set_int(r->t, SPLUT_P_BN_FROZEN, frozen);
    return st;
}

/* The training input of the sample at @p position of @p epoch into @p dst. */
static splut_status copy_sample(splut_run *r, uint64_t epoch, size_t position, size_t row,
                                float *dst)
{
    uint32_t nf = splut_dataset_num_features(r->train);
    const float *src = splut_dataset_features(r->train) + row * nf;
    int32_t label = splut_dataset_labels(r->train)[row];
    if (!r->cfg.shift) {
        memcpy(dst, src, nf * sizeof *dst);
    } else {
        uint32_t w = 0, h = 0;
        float bg = 0;
        splut_dataset_image(r->train, &w, &h, &bg);
        int dx, dy;
        splut__shift_offsets(r->cfg.seed, epoch, position, (unsigned)r->cfg.shift, &dx, &dy);
        splut__shift_image(src, dst, w, h, dx, dy, bg);
    }
    if (r->transform &&
        r->transform(r->transform_user, dst, nf, label, r->cfg.seed, epoch, position))
        return splut__fail(r->ctx, SPLUT_E_CANCELLED,
                           "the transform hook stopped the run at sample %zu of epoch %llu",
                           position, (unsigned long long)epoch);
    return SPLUT_OK;
}

static splut_status report(splut_run *r, splut_progress_kind kind, const splut_run_record *rec)
{
    if (!r->progress)
        return SPLUT_OK;
    double el = r->ep.elapsed + (kind == SPLUT_PROGRESS_STEP ? now_seconds() - r->ep.t_resume : 0);
    double b = (double)r->ep.batch, nb = (double)r->batches;
    double per_batch = b > 0 ? el / b : 0;
    splut_run_progress p = {sizeof p, (int32_t)kind, 0, r->ep.epoch, r->cfg.epochs,
                            r->ep.batch, r->batches,
                            r->ep.seen ? r->ep.sum / (double)r->ep.seen : 0,
                            el > 0 ? (double)r->ep.seen / el : 0, el, r->ep.seen,
                            (nb - b + (double)(r->cfg.epochs - r->ep.epoch) * nb) * per_batch,
                            rec};
    if (r->progress(r->progress_user, &p))
        return splut__fail(r->ctx, SPLUT_E_CANCELLED, "the progress callback stopped the run "
                                                      "in epoch %llu",
                           (unsigned long long)r->ep.epoch);
    return SPLUT_OK;
}

/* The epoch's first moment: order, BatchNorm mode, counters. */
static splut_status begin_epoch(splut_run *r, uint64_t epoch)
{
    splut__epoch_order(r->order, splut_dataset_num_samples(r->train), r->cfg.seed, epoch);
    splut_status st = set_bn_freeze(r, epoch);
    if (st != SPLUT_OK)
        return st;
    memset(&r->ep, 0, sizeof r->ep);
    r->ep.epoch = epoch;
    r->ep.active = true;
    int64_t T = 0;
    splut_trainer_get_int(r->t, SPLUT_P_SWITCH_EPOCH, &T);
    /* phase 1 of a two-phase run (epochs 1..T) trains its surrogate on labels */
    r->ep.distilled = r->teacher.m && !(two_phase(r) && epoch <= (uint64_t)T);
    return SPLUT_OK;
}

static splut_status train_batch(splut_run *r, uint64_t b)
{
    uint64_t B = r->cfg.batch, epoch = r->ep.epoch;
    size_t total = splut_dataset_num_samples(r->train);
    size_t lo = (size_t)(b * B), n = total - lo < B ? total - lo : (size_t)B;
    uint32_t nf = splut_dataset_num_features(r->train);
    const int32_t *y = splut_dataset_labels(r->train);
    splut_status st = SPLUT_OK;
    for (size_t k = 0; k < n && st == SPLUT_OK; k++) {
        size_t row = r->order[lo + k];
        st = copy_sample(r, epoch, lo + k, row, r->xb + k * nf);
        r->yb[k] = y[row];
    }
    double l = 0;
    if (st == SPLUT_OK && r->ep.distilled) {
        st = splut__teacher_targets(&r->teacher, r->xb, r->yb, n, r->cfg.alpha,
                                    r->cfg.temperature);
        if (st == SPLUT_OK)
            st = splut_trainer_step_soft(r->t, r->xb, r->teacher.targets, n, &l);
    } else if (st == SPLUT_OK) {
        st = splut_trainer_step(r->t, r->xb, r->yb, n, &l);
    }
    if (st == SPLUT_OK && in_phase2(r))
        st = splut__avg_update(&r->avg, r->m);
    if (st != SPLUT_OK)
        return st;
    r->ep.sum += l * (double)n;
    r->ep.seen += n;
    r->ep.batch = b + 1;
    return SPLUT_OK;
}

/* The optimiser steps of the current epoch from where it stands. */
static splut_status train_steps(splut_run *r)
{
    r->ep.t_resume = now_seconds();
    splut_status st = SPLUT_OK;
    while (st == SPLUT_OK && r->ep.batch < r->batches) {
        st = train_batch(r, r->ep.batch);
        if (st == SPLUT_OK)
            st = report(r, SPLUT_PROGRESS_STEP, NULL);
    }
    double spent = now_seconds() - r->ep.t_resume;
    r->ep.elapsed += spent;
    r->train_seconds += spent;
    return st;
}

static splut_status accuracy(const splut_model *m, const splut_dataset *ds, double *acc)
{
    enum { CHUNK = 4096 }; /* rows per predict call: bounds the library's scratch */
    *acc = NAN;
    if (!ds)
        return SPLUT_OK;
    size_t n = splut_dataset_num_samples(ds), correct = 0;
    uint32_t nf = splut_dataset_num_features(ds);
    const float *x = splut_dataset_features(ds);
    const int32_t *y = splut_dataset_labels(ds);
    splut_ctx *ctx = splut_model_ctx(m);
    int32_t *pred = splut__calloc(ctx, CHUNK, sizeof *pred);
    if (!pred)
        return splut__fail(ctx, SPLUT_E_NOMEM, "out of memory for predictions");
    splut_status st = SPLUT_OK;
    for (size_t i = 0; i < n && st == SPLUT_OK; i += CHUNK) {
        size_t k = n - i < CHUNK ? n - i : CHUNK;
        st = splut_model_predict(m, x + i * nf, k, pred, NULL);
        for (size_t j = 0; st == SPLUT_OK && j < k; j++)
            correct += pred[j] == y[i + j];
    }
    splut__free(ctx, pred);
    *acc = (double)correct / (double)n;
    return st;
}

static splut_status set_metadata(splut_model *m, uint64_t epochs, double acc)
{
    splut_status st = splut_model_set_int(m, SPLUT_P_EPOCHS_TRAINED, (int64_t)epochs);
    if (st == SPLUT_OK)
        st = splut_model_set_double(m, SPLUT_P_TEST_ACCURACY, isnan(acc) ? -1.0 : acc);
    return st;
}

static void record_connections(const splut_run *r, splut_run_record *e)
{
    size_t nl = splut_model_num_layers(r->m);
    e->n_layers = (uint32_t)(nl < SPLUT__RUN_CURVE ? nl : SPLUT__RUN_CURVE);
    for (size_t l = 0; l < e->n_layers; l++)
        if (splut_trainer_connections(r->t, l, &e->active[l], NULL) != SPLUT_OK)
            e->active[l] = 0;
}

/* Evaluate after the steps: the evaluated model, both accuracies, metadata. */
static splut_status evaluate(splut_run *r, splut_run_record *e)
{
    /* phase 1 of learned connectivity trains a surrogate: measure that */
    const splut_model *live = splut_trainer_model_in_training(r->t);
    int64_t frozen = 0; /* what this epoch trained with (set_bn_freeze) */
    splut_trainer_get_int(r->t, SPLUT_P_BN_FROZEN, &frozen);
    splut_status st = SPLUT_OK;
    if (live == r->m) {
        st = splut__avg_model(&r->avg, r->m, r->train, r->cfg.batch, frozen != 0, &r->evalm);
        live = r->evalm;
    }
    /* both accuracies in eval mode, as the reference's "valid" and test loaders */
    if (st == SPLUT_OK)
        st = accuracy(live, r->train, &e->train_accuracy);
    if (st == SPLUT_OK)
        st = accuracy(live, r->test, &e->test_accuracy);
    e->live_test_accuracy = NAN;
    if (st == SPLUT_OK && live != splut_trainer_model_in_training(r->t))
        st = accuracy(r->m, r->test, &e->live_test_accuracy);
    record_connections(r, e);
    if (st == SPLUT_OK)
        st = set_metadata(r->m, e->epoch, e->test_accuracy);
    if (st == SPLUT_OK && r->evalm != r->m)
        st = set_metadata(r->evalm, e->epoch, e->test_accuracy);
    return st;
}

static splut_status push_record(splut_run *r, const splut_run_record *e)
{
    if (r->nhist == r->cap_hist) {
        size_t cap = r->cap_hist ? 2 * r->cap_hist : 16;
        splut_run_record *h = splut__calloc(r->ctx, cap, sizeof *h);
        if (!h)
            return splut__fail(r->ctx, SPLUT_E_NOMEM, "out of memory for the history");
        if (r->nhist)
            memcpy(h, r->hist, r->nhist * sizeof *h);
        splut__free(r->ctx, r->hist);
        r->hist = h;
        r->cap_hist = cap;
    }
    r->hist[r->nhist++] = *e;
    return SPLUT_OK;
}

static splut_status keep_if_best(splut_run *r, const splut_run_record *e)
{
    if (!in_phase2(r)) /* phase 1: no target model yet */
        return SPLUT_OK;
    if (!r->cfg.keep_best || (r->best_epoch && e->test_accuracy <= r->best_acc))
        return SPLUT_OK;
    splut_model *c = NULL;
    splut_status st = splut_model_clone(r->evalm, &c);
    if (st != SPLUT_OK)
        return st;
    splut_model_destroy(r->best);
    r->best = c;
    r->best_acc = e->test_accuracy;
    r->best_epoch = e->epoch;
    return SPLUT_OK;
}

/* After the steps: evaluation, record, best, checkpoint. */
static splut_status finish_epoch(splut_run *r)
{
    double t0 = now_seconds();
    splut_run_record e = SPLUT_RUN_RECORD_INIT;
    e.epoch = r->ep.epoch;
    e.loss = r->ep.seen ? r->ep.sum / (double)r->ep.seen : 0;
    splut_status st = evaluate(r, &e);
    e.seconds = r->ep.elapsed + now_seconds() - t0;
    if (st == SPLUT_OK)
        st = push_record(r, &e);
    if (st != SPLUT_OK)
        return st;
    r->done = e.epoch;
    r->ep.active = false;
    st = keep_if_best(r, &e);
    if (st == SPLUT_OK && r->checkpoint && in_phase2(r))
        st = splut_run_save_checkpoint(r, r->checkpoint);
    if (st == SPLUT_OK)
        st = report(r, SPLUT_PROGRESS_EPOCH, &r->hist[r->nhist - 1]);
    return st;
}

splut_status splut_run_epoch(splut_run *r)
{
    if (!r)
        return SPLUT_E_NULL;
    splut_status st = start(r);
    if (st != SPLUT_OK)
        return st;
    if (!r->ep.active) {
        if (r->done >= r->cfg.epochs)
            return splut__fail(r->ctx, SPLUT_E_STATE, "all %llu epochs are done",
                               (unsigned long long)r->cfg.epochs);
        st = begin_epoch(r, r->done + 1);
    }
    if (st == SPLUT_OK)
        st = train_steps(r);
    return st == SPLUT_OK ? finish_epoch(r) : st;
}

splut_status splut_run_fit(splut_run *r)
{
    if (!r)
        return SPLUT_E_NULL;
    splut_status st = SPLUT_OK;
    while (st == SPLUT_OK && (r->ep.active || r->done < r->cfg.epochs))
        st = splut_run_epoch(r);
    return st;
}

/* ---------------------------------------------------------- results */

splut_status splut_run_history(const splut_run *r, uint64_t epoch, splut_run_record *rec)
{
    if (!r || !rec)
        return SPLUT_E_NULL;
    if (rec->size != sizeof *rec)
        return splut__fail(r->ctx, SPLUT_E_STRUCT_SIZE,
                           "splut_run_record size %zu, this library knows %zu", rec->size,
                           sizeof *rec);
    if (epoch < 1 || epoch > r->nhist)
        return splut__fail(r->ctx, SPLUT_E_INDEX, "epoch %llu not in 1..%zu",
                           (unsigned long long)epoch, r->nhist);
    *rec = r->hist[epoch - 1];
    return SPLUT_OK;
}

splut_model *splut_run_model(const splut_run *r)
{
    return r ? r->m : NULL;
}

const splut_model *splut_run_evaluated_model(const splut_run *r)
{
    return r && r->done ? r->evalm : NULL;
}

const splut_model *splut_run_best_model(const splut_run *r)
{
    return r ? r->best : NULL;
}

const splut_model *splut_run_final_model(const splut_run *r)
{
    if (!r || !r->done)
        return NULL;
    return r->cfg.keep_best && r->best ? r->best : r->evalm;
}
