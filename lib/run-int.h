/*
 * The training-run object, shared by lib/run.c (the loop) and
 * lib/run-checkpoint.c (its file form).
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#ifndef SPARSELUT_RUN_INT_H
#define SPARSELUT_RUN_INT_H

#include "run-priv.h"

/* Configuration: the SPLUT_P_RUN_* keys. */
typedef struct splut_run_cfg {
    uint64_t epochs, batch, seed, restart_epochs, bn_calibrate, bn_freeze, keep_best, shift;
    double ema, alpha, temperature;
} splut_run_cfg;

/* Position inside the current epoch (a callback may stop it between steps). */
typedef struct splut_run_pos {
    bool active;       /* begun and not finished */
    bool distilled;    /* this epoch trains towards the teacher */
    uint64_t epoch;    /* 1-based */
    uint64_t batch;    /* batches done */
    double sum;        /* loss × samples so far */
    size_t seen;       /* samples so far */
    double elapsed;    /* training seconds of the epoch before t_resume */
    double t_resume;   /* clock when the steps last (re)started */
} splut_run_pos;

struct splut_run {
    splut_ctx *ctx;
    splut_model *m;                /* the caller's model, trained in place */
    splut_dataset *train, *test;   /* references */
    splut_trainer *t;
    splut_run_cfg cfg;
    bool switch_set;               /* SPLUT_P_SWITCH_EPOCH given (or resumed) */
    bool started;                  /* configured for training (start()) */
    splut_teacher teacher;
    splut_run_transform_fn transform;
    void *transform_user;
    splut_run_progress_fn progress;
    void *progress_user;
    char *checkpoint;              /* written after every epoch; NULL = none */
    uint64_t batches;              /* per epoch */
    /* progress of the run */
    uint64_t done;                 /* epochs finished */
    splut_run_pos ep;
    splut_run_record *hist;
    size_t nhist, cap_hist;
    double best_acc;
    uint64_t best_epoch;           /* 0 = none yet */
    splut_model *best;             /* keep-best copy */
    splut_run_avg avg;
    splut_model *evalm;            /* what the last epoch evaluated: m or avg.avg */
    double train_seconds;          /* optimiser time of this object */
    /* batch buffers */
    size_t *order;
    float *xb;
    int32_t *yb;
};

/* Order of the samples in epoch @p epoch: a pure function of (seed, epoch). */
void splut__epoch_order(size_t *idx, size_t n, uint64_t seed, uint64_t epoch);
/* Batches per epoch: a final batch smaller than 2 is skipped (BatchNorm). */
uint64_t splut__batches_per_epoch(size_t n, uint64_t batch);

#endif /* SPARSELUT_RUN_INT_H */
