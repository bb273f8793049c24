/*
 * Copyright 2026 The libsparselut authors
 * SPDX-License-Identifier: Apache-2.0
 *
 * The hardware estimate of a sweep point: the one function to change when a
 * better estimator is wanted (a fast ABC LUT count instead of the cost model).
 * Everything downstream (point.json "hardware", the CSV, the Pareto front of
 * the report) reads only what this function returns.
 */
#include "sweep.h"

#include "cli.h"

#include <stdio.h>
#include <string.h>

int sweep_hw_estimate(const sweep_env *e, const char *model, const sj_node *tables,
                      sweep_hw *out)
{
    (void)e; /* an estimator that runs a tool uses e->exe and e->threads */
    memset(out, 0, sizeof *out);
    snprintf(out->method, sizeof out->method, "cost-model");
    const sj_node *luts = sj_get(tables, "luts");
    const sj_node *layers = sj_get(tables, "layers");
    if (!luts || luts->type != SJ_NUM || sj_len(layers) > SWEEP_MAX_LAYERS) {
        cli_err("%s: the tables report has no LUT estimate", model);
        return -1;
    }
    out->luts = (int64_t)luts->num;
    out->layers = sj_len(layers);
    for (size_t l = 0; l < out->layers; l++)
        out->layer_luts[l] = (int64_t)sj_num(sj_get(sj_at(layers, l), "luts"), 0);
    return 0;
}
