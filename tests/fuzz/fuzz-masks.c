/*
 * Fuzz target: splut_model_import_masks on arbitrary CSV text. The input is
 * split at its first form feed (0x0c) into mask_layer_1.csv and
 * mask_layer_2.csv of a fixed two-layer model (8 inputs → 6 POLY_ADD neurons
 * of 2×2 inputs → 3 LINEAR neurons of 3 inputs). An import that succeeds
 * must leave valid connectivity that exports and re-imports to the same
 * inputs; one that fails must leave the model unchanged.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include <stdlib.h>
#include <string.h>

#include "fuzz-common.h"
#include "fuzz.h"

#define ARCH "8:2 add:6:F2:b2:A2 linear:3:F3:b2"
#define MEMORY_CAP ((size_t)64 << 20)

/* Every neuron's inputs, layer by layer, into one array (at most 64 entries). */
static size_t snapshot(const splut_model *m, uint32_t *all)
{
    size_t n = 0;
    for (size_t l = 0; l < splut_model_num_layers(m); l++) {
        splut_layer_desc d = SPLUT_LAYER_DESC_INIT;
        fuzz_check(splut_model_layer(m, l, &d) == SPLUT_OK);
        for (uint32_t j = 0; j < d.width; j++) {
            size_t got = 0;
            fuzz_check(splut_model_get_inputs(m, l, j, all + n, 64 - n, &got) == SPLUT_OK);
            n += got;
        }
    }
    return n;
}

static void check_valid(const splut_model *m, const uint32_t *all, size_t n)
{
    /* 6 neurons × 4 inputs below 8, then 3 × 3 below 6; rows ascending */
    fuzz_check(n == 6 * 4 + 3 * 3);
    for (size_t j = 0; j < 6; j++)
        for (size_t k = 0; k < 4; k++)
            fuzz_check(all[4 * j + k] < 8 && (k == 0 || all[4 * j + k] > all[4 * j + k - 1]));
    for (size_t j = 0; j < 3; j++)
        for (size_t k = 0; k < 3; k++) {
            uint32_t v = all[24 + 3 * j + k];
            fuzz_check(v < 6 && (k == 0 || v > all[24 + 3 * j + k - 1]));
        }
    (void)m;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const uint8_t *ff = memchr(data, '\f', size);
    size_t first = ff ? (size_t)(ff - data) : size;
    fuzz_put_file("mask_layer_1.csv", data, first);
    if (ff)
        fuzz_put_file("mask_layer_2.csv", ff + 1, size - first - 1);
    else
        fuzz_put_file("mask_layer_2.csv", NULL, SIZE_MAX);
    splut_ctx *ctx = fuzz_ctx(MEMORY_CAP);
    splut_model *m = NULL;
    fuzz_check(splut_model_create_arch(ctx, ARCH, &m) == SPLUT_OK);
    uint32_t before[64], after[64], again[64];
    size_t nb = snapshot(m, before);
    splut_status st = splut_model_import_masks(m, fuzz_scratch_dir());
    size_t na = snapshot(m, after);
    if (st != SPLUT_OK) {
        fuzz_check_failure(ctx, st);
        fuzz_check(na == nb && memcmp(before, after, nb * sizeof(uint32_t)) == 0);
    } else {
        check_valid(m, after, na);
        fuzz_check(splut_model_export_masks(m, fuzz_scratch_dir()) == SPLUT_OK);
        splut_model *m2 = NULL;
        fuzz_check(splut_model_create_arch(ctx, ARCH, &m2) == SPLUT_OK);
        fuzz_check(splut_model_import_masks(m2, fuzz_scratch_dir()) == SPLUT_OK);
        fuzz_check(snapshot(m2, again) == na && memcmp(after, again, na * 4) == 0);
        splut_model_destroy(m2);
    }
    splut_model_destroy(m);
    splut_ctx_unref(ctx);
    return 0;
}
