/*
 * Copyright 2026 The libsparselut authors
 * SPDX-License-Identifier: Apache-2.0
 *
 * Evaluation models of `sparselut train` (see train-average.h). Training
 * with the reference's AdamW (β1 = 0.5) keeps moving the weights by about
 * the learning rate per step even at the end of a cosine cycle, and the
 * running BatchNorm statistics average only the last few dozen batches; in a
 * quantised network both move eval-mode codes from epoch to epoch. The
 * average smooths the first, calibration removes the second. Neither
 * changes what the optimiser does.
 */
#include "train-average.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int ensure_buffers(cli_average *a, size_t n)
{
    if (a->n_params == n)
        return CLI_EXIT_OK;
    free(a->ema);
    free(a->scratch);
    a->ema = malloc(n * sizeof *a->ema);
    a->scratch = malloc(n * sizeof *a->scratch);
    a->n_params = a->ema && a->scratch ? n : 0;
    if (!a->n_params) {
        cli_err("out of memory for the parameter average");
        return CLI_EXIT_FAIL;
    }
    return CLI_EXIT_OK;
}

int cli_average_update(cli_average *a, splut_model *m)
{
    if (a->decay <= 0)
        return CLI_EXIT_OK;
    size_t n = splut_model_num_params(m);
    int fresh = a->n_params != n;
    if (ensure_buffers(a, n))
        return CLI_EXIT_FAIL;
    splut_status st = splut_model_params(m, fresh ? a->ema : a->scratch, 1);
    if (st)
        return cli_lib_err(splut_model_ctx(m), st, "reading parameters");
    if (fresh)
        return CLI_EXIT_OK;
    float d = (float)a->decay, w = 1.0f - d;
    for (size_t i = 0; i < n; i++)
        a->ema[i] = d * a->ema[i] + w * a->scratch[i];
    return CLI_EXIT_OK;
}

int cli_average_model(cli_average *a, splut_model *m, const cli_split *train, uint64_t batch,
                      int frozen_bn, splut_model **out)
{
    *out = m;
    int averaged = a->decay > 0 && a->n_params == splut_model_num_params(m);
    if (!averaged && !a->calibrate)
        return CLI_EXIT_OK;
    /* a copy, so that the live model keeps training's statistics */
    splut_model_destroy(a->avg);
    a->avg = NULL;
    splut_status st = splut_model_clone(m, &a->avg);
    if (!st && averaged)
        st = splut_model_params(a->avg, a->ema, 0);
    if (st)
        return cli_lib_err(splut_model_ctx(m), st, "building the evaluated model");
    *out = a->avg;
    return frozen_bn ? CLI_EXIT_OK : cli_calibrate_bn(a->avg, train, batch);
}

int cli_average_save(const cli_average *a, splut_model *m, const char *path)
{
    if (a->decay <= 0 || a->n_params != splut_model_num_params(m))
        return CLI_EXIT_OK;
    splut_model *c = NULL;
    splut_status st = splut_model_clone(m, &c);
    if (!st)
        st = splut_model_params(c, a->ema, 0);
    if (!st)
        st = splut_model_save(c, path);
    splut_model_destroy(c);
    if (st) {
        char what[4300];
        snprintf(what, sizeof what, "writing the parameter average '%s'", path);
        return cli_lib_err(splut_model_ctx(m), st, what);
    }
    return CLI_EXIT_OK;
}

int cli_average_load(cli_average *a, splut_ctx *ctx, const char *path)
{
    splut_model *c = NULL;
    splut_status st = splut_model_load(ctx, path, &c);
    if (st) {
        char what[4300];
        snprintf(what, sizeof what, "loading the parameter average '%s'", path);
        return cli_lib_err(ctx, st, what);
    }
    int rc = ensure_buffers(a, splut_model_num_params(c));
    if (!rc && (st = splut_model_params(c, a->ema, 1)) != SPLUT_OK)
        rc = cli_lib_err(ctx, st, "reading the parameter average");
    splut_model_destroy(c);
    return rc;
}

void cli_average_free(cli_average *a)
{
    free(a->ema);
    free(a->scratch);
    splut_model_destroy(a->avg);
    memset(a, 0, sizeof *a);
}
