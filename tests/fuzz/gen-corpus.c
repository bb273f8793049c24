/*
 * Writes the seed corpus of fuzz-model-load into a directory: valid small
 * models of every kind and input mode, a trainer checkpoint, and truncated,
 * bit-flipped and crafted (valid-CRC, bad content) variants. Each file is a
 * few hundred bytes to a few KB. Run once and commit the output:
 *   build/tests/fuzz/fuzz-gen-corpus tests/fuzz/corpus
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include <stdio.h>

#include "io-test.h"
#include "train-priv.h"

static const char *dir;

static int put(const char *name, const uint8_t *p, size_t n)
{
    char path[4096];
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(p, 1, n, f) != n) {
        fprintf(stderr, "cannot write %s\n", path);
        if (f)
            fclose(f);
        return 1;
    }
    return fclose(f) != 0;
}

static uint8_t *bytes_of(const splut_model *m, size_t *n)
{
    splut_model_serialize(m, NULL, 0, n);
    uint8_t *b = malloc(*n);
    splut_model_serialize(m, b, *n, n);
    return b;
}

/* Truncations and flips of one valid file. */
static int variants(const char *stem, const uint8_t *good, size_t n)
{
    char name[128];
    int bad = 0;
    const size_t cuts[4] = {20, 40, n / 2, n - 1};
    for (int i = 0; i < 4; i++) {
        snprintf(name, sizeof(name), "%s-cut%zu", stem, cuts[i]);
        bad |= put(name, good, cuts[i]);
    }
    uint8_t *b = malloc(n);
    const size_t flips[4] = {9, 30, n / 2, n - 2};
    for (int i = 0; i < 4; i++) {
        memcpy(b, good, n);
        b[flips[i]] ^= 0x10;
        snprintf(name, sizeof(name), "%s-flip%zu", stem, flips[i]);
        bad |= put(name, b, n);
    }
    free(b);
    return bad;
}

typedef void (*edit_fn)(image *im);
static void e_unsorted(image *im) { uint32_t x = im->conn[0]; im->conn[0] = im->conn[1]; im->conn[1] = x; }
static void e_nan(image *im) { im->params[3] = NAN; }
static void e_zero_width(image *im) { im->layer[1][1] = 0; }
static void e_huge_layers(image *im) { im->n_layers = 0xfffffff0u; }
static void e_huge_params(image *im) { im->n_params = (uint64_t)1 << 40; }
static void e_version(image *im) { im->version = 3; }
static void e_fan_in(image *im) { im->layer[0][2] = 6; }
static void e_big_width(image *im) { im->layer[0][1] = 100000; }

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: %s <corpus-dir>\n", argv[0]);
        return 2;
    }
    dir = argv[1];
    splut_ctx *ctx;
    if (splut_ctx_create(NULL, &ctx) != SPLUT_OK)
        return 1;
    int bad = 0;
    const splut_neuron_kind kinds[4] = {SPLUT_NEURON_LINEAR, SPLUT_NEURON_POLY,
                                        SPLUT_NEURON_POLY_ADD, SPLUT_NEURON_NEURALUT};
    const char *names[4] = {"linear", "poly", "polyadd", "neuralut"};
    for (int k = 0; k < 4; k++) {
        for (int mode = 0; mode < 2; mode++) {
            splut_model *m = small_model(ctx, kinds[k], mode, 7u + (uint64_t)k);
            size_t n;
            uint8_t *b = bytes_of(m, &n);
            char stem[64];
            snprintf(stem, sizeof(stem), "%s-mode%d", names[k], mode);
            bad |= put(stem, b, n);
            if (mode == 0)
                bad |= variants(stem, b, n);
            free(b);
            splut_model_destroy(m);
        }
    }
    /* A trainer checkpoint (also a valid model file). */
    splut_model *m = small_model(ctx, SPLUT_NEURON_POLY_ADD, 0, 3);
    splut_trainer *t;
    if (splut_trainer_create(m, &t) != SPLUT_OK)
        return 1;
    t->step = 4;
    char path[4096];
    snprintf(path, sizeof(path), "%s/trainer", dir);
    bad |= splut_trainer_save(t, path) != SPLUT_OK;
    splut_trainer_destroy(t);
    /* Crafted files: valid CRC, bad content. */
    const struct {
        edit_fn edit;
        const char *name;
    } crafted[] = {
        {e_unsorted, "crafted-unsorted-conn"}, {e_nan, "crafted-nan-param"},
        {e_zero_width, "crafted-zero-width"},  {e_huge_layers, "crafted-huge-layers"},
        {e_huge_params, "crafted-huge-params"}, {e_version, "crafted-version3"},
        {e_fan_in, "crafted-fan-in"},          {e_big_width, "crafted-big-width"},
    };
    for (size_t i = 0; i < sizeof(crafted) / sizeof(crafted[0]); i++) {
        image im;
        image_from_model(m, &im);
        crafted[i].edit(&im);
        size_t n;
        uint8_t *b = image_encode(&im, &n);
        bad |= put(crafted[i].name, b, n);
        free(b);
        image_free(&im);
    }
    splut_model_destroy(m);
    splut_ctx_unref(ctx);
    return bad;
}
