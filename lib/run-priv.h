/*
 * Private interface of training runs (lib/run*.c, lib/augment.c).
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#ifndef SPARSELUT_RUN_PRIV_H
#define SPARSELUT_RUN_PRIV_H

#include "core-priv.h"

#define SPLUT__RUN_MAX_SHIFT 8 /* largest SPLUT_P_RUN_SHIFT (its bound in lib/ctx.c; a test checks) */
#define SPLUT__RUN_CURVE 16    /* layers with a connectivity curve in a record */

/* ---- image shifts (augment.c) ---- */

/* dst(x, y) = src(x - dx, y - dy) of a row-major width x height image; pixels
 * whose source lies outside take @p background. No overlap. */
void splut__shift_image(const float *src, float *dst, uint32_t width, uint32_t height, int dx,
                        int dy, float background);
/* The shift of the sample at @p position of @p epoch: each offset uniform on
 * [-max_shift, max_shift], a pure function of the four numbers. */
void splut__shift_offsets(uint64_t seed, uint64_t epoch, uint64_t position, unsigned max_shift,
                          int *dx, int *dy);

/* ---- the evaluated model: EMA of the parameters, calibrated BN (run-average.c) ---- */

typedef struct splut_run_avg {
    double decay;     /* EMA decay per step; 0 = no average */
    bool calibrate;   /* BatchNorm statistics over the training set before eval */
    float *ema;       /* the average, n_params values (NULL until the first update) */
    float *scratch;   /* live parameters */
    size_t n_params;  /* 0 until the first update */
    splut_model *avg; /* the evaluated copy of the last epoch */
} splut_run_avg;

/* Fold the live parameters of @p m into the average (no-op without EMA); the
 * first call starts it from them. */
splut_status splut__avg_update(splut_run_avg *a, splut_model *m);
/* The model to evaluate after an epoch: @p m itself, or a copy with the
 * average's parameters and/or BatchNorm statistics calibrated on @p train
 * (not with @p frozen_bn: the copy keeps what the epoch trained against). */
splut_status splut__avg_model(splut_run_avg *a, splut_model *m, const splut_dataset *train,
                              uint64_t batch, bool frozen_bn, splut_model **out);
void splut__avg_free(splut_ctx *ctx, splut_run_avg *a);
/* BatchNorm statistics of @p m over the training set (splut_trainer_calibrate_bn). */
splut_status splut__calibrate_bn(splut_model *m, const splut_dataset *train, uint64_t batch);

/* ---- distillation targets (run-distill.c) ---- */

typedef struct splut_teacher {
    splut_model *m;       /* the run's copy; NULL: no distillation */
    uint64_t fingerprint; /* FNV-1a of its serialised bytes */
    uint16_t *codes;      /* batch buffers for @c cap samples */
    float *values, *targets;
    size_t cap;
} splut_teacher;

/* Copy @p src (inputs and outputs must match @p student) and fingerprint it. */
splut_status splut__teacher_set(splut_teacher *t, const splut_model *src,
                                const splut_model *student);
/* Buffers for batches of @p batch samples. */
splut_status splut__teacher_reserve(splut_teacher *t, size_t batch);
/* t->targets = alpha * softmax(teacher logits / T) + (1 - alpha) * one-hot(y),
 * for one output the same with the sigmoid; @p n rows. */
splut_status splut__teacher_targets(splut_teacher *t, const float *x, const int32_t *y, size_t n,
                                    double alpha, double temperature);
void splut__teacher_free(splut_teacher *t);

#endif /* SPARSELUT_RUN_PRIV_H */
