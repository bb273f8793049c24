/*
 * Knowledge distillation of training runs: every training batch is trained
 * towards a mixture of the labels and the output distribution of a trained
 * model (any architecture with the same inputs and outputs), evaluated in eval
 * mode on exactly the inputs the student sees.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include <math.h>

#include "modelio-priv.h"
#include "run-priv.h"

splut_status splut__teacher_set(splut_teacher *t, const splut_model *src,
                                const splut_model *student)
{
    splut_ctx *ctx = splut_model_ctx(student);
    uint32_t in = splut_model_num_inputs(src), out = splut_model_num_outputs(src);
    if (in != splut_model_num_inputs(student) || out != splut_model_num_outputs(student))
        return splut__fail(ctx, SPLUT_E_INVALID,
                           "teacher: %u inputs and %u outputs, the model %u and %u", in, out,
                           splut_model_num_inputs(student), splut_model_num_outputs(student));
    uint8_t *bytes = NULL;
    size_t len = 0;
    splut_status st = splut__model_serialize_alloc(src, &bytes, &len);
    splut_model *copy = NULL;
    if (st == SPLUT_OK) /* the copy lives in the student's context */
        st = splut_model_deserialize(ctx, bytes, len, &copy);
    if (st == SPLUT_OK) {
        splut__teacher_free(t);
        t->m = copy;
        t->fingerprint = splut__fnv1a(SPLUT_FNV1A_BASIS, bytes, len);
    }
    splut__free(splut_model_ctx(src), bytes);
    return st;
}

splut_status splut__teacher_reserve(splut_teacher *t, size_t batch)
{
    if (t->cap >= batch)
        return SPLUT_OK;
    splut_ctx *ctx = splut_model_ctx(t->m);
    size_t outs = splut_model_num_outputs(t->m);
    splut__free(ctx, t->codes);
    splut__free(ctx, t->values);
    splut__free(ctx, t->targets);
    t->codes = splut__calloc(ctx, batch * outs, sizeof *t->codes);
    t->values = splut__calloc(ctx, batch * outs, sizeof *t->values);
    t->targets = splut__calloc(ctx, batch * outs, sizeof *t->targets);
    t->cap = t->codes && t->values && t->targets ? batch : 0;
    return t->cap ? SPLUT_OK
                  : splut__fail(ctx, SPLUT_E_NOMEM, "out of memory for distillation buffers");
}

/* One sample's target row from the teacher's values @p v into @p p. */
static void mix_row(double a, double T, const float *v, int32_t label, uint32_t outs, float *p)
{
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

splut_status splut__teacher_targets(splut_teacher *t, const float *x, const int32_t *y, size_t n,
                                    double alpha, double temperature)
{
    if (n > t->cap)
        return splut__fail(splut_model_ctx(t->m), SPLUT_E_STATE,
                           "distillation batch of %zu above %zu", n, t->cap);
    splut_status st = splut_model_predict(t->m, x, n, NULL, t->codes);
    if (st == SPLUT_OK)
        st = splut_model_output_values(t->m, t->codes, n, t->values);
    if (st != SPLUT_OK)
        return st;
    uint32_t outs = splut_model_num_outputs(t->m);
    for (size_t i = 0; i < n; i++)
        mix_row(alpha, temperature, t->values + i * outs, y[i], outs, t->targets + i * outs);
    return SPLUT_OK;
}

void splut__teacher_free(splut_teacher *t)
{
    if (t->m) {
        splut_ctx *ctx = splut_model_ctx(t->m);
        splut__free(ctx, t->codes);
        splut__free(ctx, t->values);
        splut__free(ctx, t->targets);
        splut_model_destroy(t->m);
    }
    t->m = NULL;
    t->codes = NULL;
    t->values = t->targets = NULL;
    t->cap = 0;
    t->fingerprint = 0;
}

