/*
 * Copyright 2026 The libsparselut authors
 * SPDX-License-Identifier: Apache-2.0
 */
#include "train-distill.h"

#include "data.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

int cli_teacher_load(cli_teacher *t, splut_ctx *ctx, const char *path,
                     const splut_model *student, size_t batch)
{
    uint8_t *buf = NULL;
    size_t len = 0;
    char err[4400];
    if (cli_read_file(path, &buf, &len, err, sizeof err)) {
        cli_err("--distill: %s", err);
        return CLI_EXIT_FAIL;
    }
    /* Fingerprint and model come from the same bytes: the file is read once. */
    t->fingerprint = cli_fnv1a(CLI_FNV1A_BASIS, buf, len);
    splut_status st = splut_model_deserialize(ctx, buf, len, &t->m);
    free(buf);
    if (st) {
        snprintf(err, sizeof err, "loading the teacher model '%s' (--distill)", path);
        return cli_lib_err(ctx, st, err);
    }
    uint32_t in = splut_model_num_inputs(t->m), out = splut_model_num_outputs(t->m);
    if (in != splut_model_num_inputs(student) || out != splut_model_num_outputs(student)) {
        cli_err("--distill: the teacher '%s' has %u inputs and %u outputs, the model %u and %u",
                path, in, out, splut_model_num_inputs(student),
                splut_model_num_outputs(student));
        return CLI_EXIT_FAIL;
    }
    t->cap = batch;
    t->codes = malloc(batch * out * sizeof *t->codes);
    t->values = malloc(batch * out * sizeof *t->values);
    t->targets = malloc(batch * out * sizeof *t->targets);
    if (!t->codes || !t->values || !t->targets) {
        cli_err("out of memory for distillation buffers");
        return CLI_EXIT_FAIL;
    }
    return CLI_EXIT_OK;
}

/* One sample's target row from the teacher's values @p v (in place into @p p). */
static void mix_row(const cli_teacher *t, const float *v, int32_t label, uint32_t outs, float *p)
{
    double a = t->alpha, T = t->temperature;
    if (outs == 1) {
        double q = 1.0 / (1.0 + exp(-(double)v[0] / T));
        p[0] = (float)(a * q + (1.0 - a) * (double)label);
        return;
    }
    double mx = -INFINITY, sum = 0.0;
    for (uint32_t o = 0; o < outs; o++)
        mx = fmax(mx, (double)v[o] / T);
    for (uint32_t o = 0; o < outs; o++)
        sum += exp((double)v[o] / T - mx);
    for (uint32_t o = 0; o < outs; o++) {
        double q = exp((double)v[o] / T - mx) / sum;
        p[o] = (float)(a * q + (1.0 - a) * (o == (uint32_t)label));
    }
}

int cli_teacher_targets(cli_teacher *t, const float *x, const int32_t *y, size_t n)
{
    if (n > t->cap) {
        cli_err("internal: distillation batch of %zu above %zu", n, t->cap);
        return CLI_EXIT_FAIL;
    }
    splut_status st = splut_model_predict(t->m, x, n, NULL, t->codes);
    if (!st)
        st = splut_model_output_values(t->m, t->codes, n, t->values);
    if (st)
        return cli_lib_err(splut_model_ctx(t->m), st, "evaluating the teacher (--distill)");
    uint32_t outs = splut_model_num_outputs(t->m);
    for (size_t i = 0; i < n; i++)
        mix_row(t, t->values + i * outs, y[i], outs, t->targets + i * outs);
    return CLI_EXIT_OK;
}

void cli_teacher_free(cli_teacher *t)
{
    splut_model_destroy(t->m);
    free(t->codes);
    free(t->values);
    free(t->targets);
    t->m = NULL;
    t->codes = NULL;
    t->values = t->targets = NULL;
}
