/*
 * HLS example, step 1: a tiny model (8 inputs of 2 bits → 6 PolyLUT-Add
 * neurons → 3 PolyLUT neurons) trained a few steps on synthetic data and
 * saved to the file named by argv[1]. `sparselut emit --format hls` turns it
 * into C; host.c runs that C.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include <stdio.h>

#include <sparselut/sparselut.h>

enum { N = 128, IN = 8 };

static splut_status add(splut_model *m, int32_t kind, uint32_t width, uint32_t fan_in,
                        uint32_t sub_neurons)
{
    splut_layer_desc d = SPLUT_LAYER_DESC_INIT;
    d.kind = kind;
    d.width = width;
    d.fan_in = fan_in;
    d.out_bits = 2;
    d.degree = 2;
    d.sub_neurons = sub_neurons;
    return splut_model_add_layer(m, &d);
}

static splut_status build_and_train(splut_ctx *ctx, const char *path)
{
    static float x[N * IN];
    static int32_t label[N];
    uint32_t s = 99u;
    for (int i = 0; i < N; i++) {
        for (int f = 0; f < IN; f++) {
            s = s * 1664525u + 1013904223u;
            x[i * IN + f] = (float)(s >> 8) / (float)(1u << 24) * 2.0f - 1.0f;
        }
        label[i] = (x[i * IN + 2] > 0.0f) + (x[i * IN + 5] > 0.0f);
    }
    splut_model *m = NULL;
    splut_trainer *t = NULL;
    splut_status st = splut_model_create(ctx, IN, 2, &m);
    if (st == SPLUT_OK)
        st = add(m, SPLUT_NEURON_POLY_ADD, 6, 2, 2);
    if (st == SPLUT_OK)
        st = add(m, SPLUT_NEURON_POLY, 3, 3, 0);
    if (st == SPLUT_OK)
        st = splut_model_build(m);
    if (st == SPLUT_OK)
        st = splut_trainer_create(m, &t);
    for (int step = 0; st == SPLUT_OK && step < 10; step++)
        st = splut_trainer_step(t, x, label, N, NULL);
    splut_trainer_destroy(t);
    if (st == SPLUT_OK)
        st = splut_model_save(m, path);
    splut_model_destroy(m);
    return st;
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: make-model OUTPUT.splut\n");
        return 2;
    }
    splut_ctx *ctx = NULL;
    if (splut_ctx_create(NULL, &ctx) != SPLUT_OK)
        return 1;
    splut_status st = build_and_train(ctx, argv[1]);
    if (st != SPLUT_OK)
        fprintf(stderr, "make-model: %s: %s\n", splut_status_str(st), splut_ctx_last_error(ctx));
    splut_ctx_unref(ctx);
    return st == SPLUT_OK ? 0 : 1;
}
