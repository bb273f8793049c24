/*
 * HLS example, step 2: a host program that embeds the C kernel emitted by
 * `sparselut emit --format hls --prefix hlsdemo` (hlsdemo.c / hlsdemo.h, made
 * at build time) and runs it on random input vectors. The expected outputs
 * come from the model itself (splut_model_forward_codes on the model file
 * given as argv[1]), not from the tables the kernel was generated from.
 *
 *     hls-host MODEL.splut [VECTORS]
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include <stdio.h>
#include <stdlib.h>

#include <sparselut/sparselut.h>

#include "hlsdemo.h"

/* Compare the kernel with the model on n random vectors; mismatch count, or -1. */
static long run(const splut_model *m, size_t n)
{
    uint16_t *in = malloc(n * HLSDEMO_N_IN * sizeof(*in));
    uint16_t *want = malloc(n * HLSDEMO_N_OUT * sizeof(*want));
    long mismatches = -1;
    if (in && want) {
        uint32_t s = 2024u;
        for (size_t i = 0; i < n * HLSDEMO_N_IN; i++) {
            s = s * 1664525u + 1013904223u;
            in[i] = (uint16_t)((s >> 16) & ((1u << HLSDEMO_IN_BITS) - 1u));
        }
        if (splut_model_forward_codes(m, in, n, want) == SPLUT_OK) {
            mismatches = 0;
            for (size_t v = 0; v < n; v++) {
                uint16_t got[HLSDEMO_N_OUT];
                hlsdemo_infer(in + v * HLSDEMO_N_IN, got);
                for (int o = 0; o < HLSDEMO_N_OUT; o++)
                    mismatches += got[o] != want[v * HLSDEMO_N_OUT + o];
            }
        }
    }
    free(in);
    free(want);
    return mismatches;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: hls-host MODEL.splut [VECTORS]\n");
        return 2;
    }
    size_t n = argc > 2 ? (size_t)strtoul(argv[2], NULL, 10) : 10000;
    splut_ctx *ctx = NULL;
    splut_model *m = NULL;
    if (splut_ctx_create(NULL, &ctx) != SPLUT_OK)
        return 1;
    if (splut_model_load(ctx, argv[1], &m) != SPLUT_OK) {
        fprintf(stderr, "hls-host: %s\n", splut_ctx_last_error(ctx));
        splut_ctx_unref(ctx);
        return 1;
    }
    int shape_ok = splut_model_num_inputs(m) == HLSDEMO_N_IN &&
                   splut_model_num_outputs(m) == HLSDEMO_N_OUT;
    long mismatches = shape_ok && n > 0 ? run(m, n) : -1;
    printf("SPLUT_RESULT vectors=%zu mismatches=%ld (HLS kernel vs model)\n", n, mismatches);
    splut_model_destroy(m);
    splut_ctx_unref(ctx);
    return mismatches == 0 ? 0 : 1;
}
