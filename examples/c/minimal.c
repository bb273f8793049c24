/*
 * Minimal libsparselut program: define a model layer by layer, train it a few
 * steps on synthetic data, enumerate its truth tables, check LUT-mode
 * inference against the model and write Verilog.
 *
 *     minimal [OUTPUT_DIR]      (default: a new directory under /tmp)
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sparselut/sparselut.h>

enum { N = 256, IN = 12, OUT = 3, STEPS = 30 };

/* Report a failed call with the context's message. */
static int failed(splut_ctx *ctx, const char *what, splut_status st)
{
    fprintf(stderr, "minimal: %s: %s: %s\n", what, splut_status_str(st),
            splut_ctx_last_error(ctx));
    return 1;
}

/* Three classes decided by the signs of features 0 and 1. */
static void make_data(float *x, int32_t *label)
{
    uint32_t s = 12345u;
    for (int i = 0; i < N; i++) {
        for (int f = 0; f < IN; f++) {
            s = s * 1664525u + 1013904223u;
            x[i * IN + f] = (float)(s >> 8) / (float)(1u << 24) * 2.0f - 1.0f;
        }
        label[i] = (x[i * IN] > 0.0f) + (x[i * IN + 1] > 0.0f);
    }
}

/* 12 inputs of 2 bits → 16 PolyLUT-Add neurons (A=2, F=2, D=2) → 3 PolyLUT neurons. */
static splut_status define_model(splut_ctx *ctx, splut_model **out)
{
    splut_layer_desc hidden = SPLUT_LAYER_DESC_INIT, last = SPLUT_LAYER_DESC_INIT;
    hidden.kind = SPLUT_NEURON_POLY_ADD;
    hidden.width = 16;
    hidden.fan_in = 2;
    hidden.out_bits = 2;
    hidden.degree = 2;
    hidden.sub_neurons = 2;
    last.kind = SPLUT_NEURON_POLY;
    last.width = OUT;
    last.fan_in = 3;
    last.out_bits = 2;
    last.degree = 2;
    splut_model *m = NULL;
    splut_status st = splut_model_create(ctx, IN, 2, &m);
    if (st == SPLUT_OK)
        st = splut_model_add_layer(m, &hidden);
    if (st == SPLUT_OK)
        st = splut_model_add_layer(m, &last);
    if (st == SPLUT_OK)
        st = splut_model_build(m);
    if (st != SPLUT_OK)
        splut_model_destroy(m);
    else
        *out = m;
    return st;
}

/* Train STEPS full-batch steps; first and last loss through the pointers. */
static splut_status train(splut_model *m, const float *x, const int32_t *label, double *first,
                          double *last)
{
    splut_trainer *t = NULL;
    splut_status st = splut_trainer_create(m, &t);
    if (st == SPLUT_OK)
        st = splut_trainer_set_double(t, SPLUT_P_LEARNING_RATE, 0.05);
    for (int step = 0; st == SPLUT_OK && step < STEPS; step++)
        st = splut_trainer_step(t, x, label, N, step == 0 ? first : last);
    splut_trainer_destroy(t);
    return st;
}

int main(int argc, char **argv)
{
    static float x[N * IN];
    static int32_t label[N];
    static uint16_t codes[N * IN], by_model[N * OUT], by_tables[N * OUT];
    char tmpdir[] = "/tmp/splut-minimal-XXXXXX";
    const char *dir = argc > 1 ? argv[1] : mkdtemp(tmpdir);
    if (!dir) {
        perror("minimal: mkdtemp");
        return 1;
    }

    splut_ctx *ctx = NULL;
    if (splut_ctx_create(NULL, &ctx) != SPLUT_OK)
        return 1;
    splut_status st = splut_ctx_set_int(ctx, SPLUT_P_SEED, 7);
    splut_model *m = NULL;
    if (st == SPLUT_OK)
        st = define_model(ctx, &m);
    if (st != SPLUT_OK) {
        failed(ctx, "define", st);
        splut_ctx_unref(ctx);
        return 1;
    }

    make_data(x, label);
    double first = 0, last = 0;
    splut_tables *tables = NULL;
    uint64_t luts = 0;
    int rc = 0;
    if ((st = train(m, x, label, &first, &last)) != SPLUT_OK)
        rc = failed(ctx, "train", st);
    else if ((st = splut_tables_create(m, &tables)) != SPLUT_OK)
        rc = failed(ctx, "tables", st);
    else if ((st = splut_model_input_codes(m, x, N, codes)) != SPLUT_OK ||
             (st = splut_model_forward_codes(m, codes, N, by_model)) != SPLUT_OK ||
             (st = splut_tables_forward(tables, codes, N, by_tables)) != SPLUT_OK)
        rc = failed(ctx, "inference", st);
    else if ((st = splut_tables_cost(tables, SIZE_MAX, &luts)) != SPLUT_OK ||
             (st = splut_tables_emit(tables, SPLUT_HDL_VERILOG, dir, NULL)) != SPLUT_OK)
        rc = failed(ctx, "emit", st);
    if (rc == 0) {
        int same = memcmp(by_model, by_tables, sizeof(by_model)) == 0;
        printf("loss %.4f -> %.4f after %d steps; LUT inference %s the model; "
               "about %llu LUT6; Verilog in %s\n",
               first, last, STEPS, same ? "matches" : "DOES NOT match",
               (unsigned long long)luts, dir);
        rc = same && last < first ? 0 : 1;
    }
    splut_tables_destroy(tables);
    splut_model_destroy(m);
    splut_ctx_unref(ctx);
    return rc;
}
