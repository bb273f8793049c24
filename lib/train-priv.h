/*
 * Private trainer state, shared with the model-file module (checkpoints).
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#ifndef SPARSELUT_TRAIN_PRIV_H
#define SPARSELUT_TRAIN_PRIV_H

#include "core-priv.h"

typedef struct splut_train_ws splut_train_ws; /* scratch buffers, train.c only */

struct splut_trainer {
    splut_model *model;
    /* hyper-parameters (SPLUT_P_* keys 200-299) */
    double lr, weight_decay, beta1, beta2, eps, lr_min;
    int64_t restart_period;
    /* optimiser state: everything a resumed run needs to continue bit-exactly */
    int64_t step;
    float *m1, *m2; /* AdamW first and second moments, model->n_params each */
    uint32_t *seen_mutations; /* per neuron of every layer: model counters last seen */
    /* derived, rebuilt on demand */
    splut_pool *pool;
    splut_train_ws *ws;
};

/* Test hook: with exact = false the quantisers skip rounding (the function the
 * straight-through estimator differentiates), so finite differences can check
 * every gradient. */
splut_status splut__trainer_set_exact_round(splut_trainer *t, bool exact);

#endif /* SPARSELUT_TRAIN_PRIV_H */
