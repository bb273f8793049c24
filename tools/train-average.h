/*
 * Copyright 2026 The libsparselut authors
 * SPDX-License-Identifier: Apache-2.0
 *
 * What `sparselut train` evaluates and saves: the live model, the live model
 * with BatchNorm statistics calibrated over the training set, or an
 * exponential moving average (EMA) of its parameters, calibrated.
 */
#ifndef SPLUT_TOOLS_TRAIN_AVERAGE_H
#define SPLUT_TOOLS_TRAIN_AVERAGE_H

#include "cli.h"

typedef struct cli_average {
    double decay;     /* EMA decay per step; 0 = no average */
    int calibrate;    /* BatchNorm statistics over the training set before eval */
    float *ema;       /* the average, splut_model_num_params() values */
    size_t n_params;  /* 0 until the first update */
    float *scratch;   /* live parameters */
    splut_model *avg; /* the evaluated copy of the last epoch */
} cli_average;

/* Folds the live parameters of @p m into the average (no-op without EMA). */
int cli_average_update(cli_average *a, splut_model *m);
/* The model to evaluate and save after an epoch: @p m itself, or a copy with
 * the average's parameters and/or calibrated BatchNorm statistics. With
 * @p frozen_bn (an epoch trained with frozen BatchNorm) the copy keeps the
 * statistics of @p m, the ones its parameters were trained against. */
int cli_average_model(cli_average *a, splut_model *m, const cli_split *train, uint64_t batch,
                      int frozen_bn, splut_model **out);
/* The average as a model file next to a checkpoint, and back on resume. */
int cli_average_save(const cli_average *a, splut_model *m, const char *path);
int cli_average_load(cli_average *a, splut_ctx *ctx, const char *path);
void cli_average_free(cli_average *a);

#endif
