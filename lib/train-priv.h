/*
 * Private trainer state, shared with the model-file module (checkpoints).
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#ifndef SPARSELUT_TRAIN_PRIV_H
#define SPARSELUT_TRAIN_PRIV_H

#include "model-priv.h"

typedef struct splut_train_ws splut_train_ws; /* scratch buffers, train.c only */
typedef struct splut_connect splut_connect;   /* learned connectivity, connect.c */

/* Upper bound of SPLUT_P_CONN_CANDIDATES: per-neuron scratch arrays in
 * connect.c are sized by it (784 = a dense MNIST input layer fits). */
#define SPLUT__CONN_MAX_CANDIDATES SPLUT_MAX_FAN_IN

struct splut_trainer {
    splut_model *model;
    /* hyper-parameters (SPLUT_P_* keys 200-299) */
    double lr, weight_decay, beta1, beta2, eps, lr_min;
    int64_t restart_period;
    /* optimiser state: everything a resumed run needs to continue bit-exactly */
    int64_t step;
    float *m1, *m2; /* AdamW first and second moments, model->n_params each */
    uint32_t *seen_mutations; /* per neuron of every layer: model counters last seen */
    /* learned connectivity (keys 210-224) */
    int64_t conn_mode, steps_per_epoch, switch_epoch, conn_regrow, conn_candidates, conn_cover,
        conn_explore, conn_warm;
    double conn_tau, conn_l1, conn_temperature, conn_init, conn_swap, conn_plateau,
        conn_stagger;
    int64_t bn_frozen;      /* SPLUT_P_BN_FROZEN; not part of trainer files */
    splut_connect *connect; /* phase 1 state; NULL otherwise */
    bool conn_switched;
    /* derived, rebuilt on demand */
    splut_pool *pool;
    splut_train_ws *ws;
};

/* Test hook: with exact = false the quantisers skip rounding (the function the
 * straight-through estimator differentiates), so finite differences can check
 * every gradient. */
splut_status splut__trainer_set_exact_round(splut_trainer *t, bool exact);

/* Gradient of the last step (n_params floats), NULL before the first. */
const float *splut__trainer_grad(const splut_trainer *t);

/* The optimiser state of a trainer, for the nested (surrogate) trainer of
 * learned connectivity: AdamW hyper-parameters copied from @p src; a fixed
 * learning rate without restarts (the outer trainer owns the schedule); the
 * step counter; the worker pool; one parameter with its moments set to 0;
 * two parameters swapped with their moments; moments copied between the
 * layouts of two trainers. */
void splut__trainer_copy_optimiser(splut_trainer *dst, const splut_trainer *src);
void splut__trainer_set_fixed_lr(splut_trainer *t, double lr);
void splut__trainer_set_step(splut_trainer *t, int64_t step);
int64_t splut__trainer_get_step(const splut_trainer *t);
splut_pool *splut__trainer_pool(const splut_trainer *t);
void splut__trainer_zero_param(splut_trainer *t, size_t i);
void splut__trainer_swap_params(splut_trainer *t, size_t i, size_t j);
void splut__trainer_copy_moments(splut_trainer *dst, size_t to, const splut_trainer *src,
                                 size_t from, size_t n);

/* Learned connectivity (connect.c). */
splut_status splut__connect_create(splut_trainer *t);
void splut__connect_destroy(splut_ctx *ctx, splut_connect *c);
splut_status splut__connect_step(splut_trainer *t, const float *x, const int32_t *labels,
                                 size_t n, double *loss, double lr);
splut_status splut__connect_switch(splut_trainer *t);

#endif /* SPARSELUT_TRAIN_PRIV_H */
