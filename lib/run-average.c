/*
 * The evaluated model of a training run. Training with the reference's AdamW
 * (β1 = 0.5) keeps moving the weights by about the learning rate per step
 * even at the end of a cosine cycle, and the running BatchNorm statistics
 * average only the last few dozen batches; in a quantised network both move
 * eval-mode codes from epoch to epoch. The average (SPLUT_P_RUN_EMA) smooths
 * the first, calibration (SPLUT_P_RUN_BN_CALIBRATE) removes the second.
 * Neither changes what the optimiser does.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include <string.h>

#include "run-priv.h"

static splut_status ensure_buffers(splut_run_avg *a, splut_ctx *ctx, size_t n)
{
    if (a->n_params == n)
        return SPLUT_OK;
    splut__free(ctx, a->ema);
    splut__free(ctx, a->scratch);
    a->ema = splut__calloc(ctx, n, sizeof *a->ema);
    a->scratch = splut__calloc(ctx, n, sizeof *a->scratch);
    a->n_params = a->ema && a->scratch ? n : 0;
    if (!a->n_params)
        return splut__fail(ctx, SPLUT_E_NOMEM, "out of memory for the parameter average");
    return SPLUT_OK;
}

splut_status splut__avg_update(splut_run_avg *a, splut_model *m)
{
    if (a->decay <= 0)
        return SPLUT_OK;
    size_t n = splut_model_num_params(m);
    bool fresh = a->n_params != n;
    splut_status st = ensure_buffers(a, splut_model_ctx(m), n);
    if (st == SPLUT_OK)
        st = splut_model_params(m, fresh ? a->ema : a->scratch, 1);
    if (st != SPLUT_OK || fresh)
        return st;
    float d = (float)a->decay, w = 1.0f - d;
    for (size_t i = 0; i < n; i++)
        a->ema[i] = d * a->ema[i] + w * a->scratch[i];
    return SPLUT_OK;
}

splut_status splut__avg_model(splut_run_avg *a, splut_model *m, const splut_dataset *train,
                              uint64_t batch, bool frozen_bn, splut_model **out)
{
    *out = m;
    bool averaged = a->decay > 0 && a->n_params == splut_model_num_params(m);
    if (!averaged && !a->calibrate)
        return SPLUT_OK;
    /* a copy, so that the live model keeps training's statistics */
    splut_model_destroy(a->avg);
    a->avg = NULL;
    splut_status st = splut_model_clone(m, &a->avg);
    if (st == SPLUT_OK && averaged)
        st = splut_model_params(a->avg, a->ema, 0);
    if (st != SPLUT_OK)
        return st;
    *out = a->avg;
    return frozen_bn ? SPLUT_OK : splut__calibrate_bn(a->avg, train, batch);
}

void splut__avg_free(splut_ctx *ctx, splut_run_avg *a)
{
    splut__free(ctx, a->ema);
    splut__free(ctx, a->scratch);
    splut_model_destroy(a->avg);
    a->ema = a->scratch = NULL;
    a->avg = NULL;
    a->n_params = 0;
}

splut_status splut__calibrate_bn(splut_model *m, const splut_dataset *train, uint64_t batch)
{
    splut_trainer *t = NULL;
    splut_status st = splut_trainer_create(m, &t);
    if (st == SPLUT_OK)
        st = splut_trainer_calibrate_bn(t, splut_dataset_features(train),
                                        splut_dataset_num_samples(train), (size_t)batch);
    splut_trainer_destroy(t);
    return st;
}
