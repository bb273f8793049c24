/*
 * Copyright 2026 The libsparselut authors
 * SPDX-License-Identifier: Apache-2.0
 *
 * A training run from C through the public header alone (acceptance test of
 * issue 25): an MNIST-layout directory of raw IDX files, a preset, a teacher
 * model file and NAME=VALUE parameters (any run or trainer key by name).
 *
 * usage: run-client DIR PRESET SEED TEACHER OUT [NAME=VALUE ...]
 */
#include <sparselut/sparselut.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static unsigned char *read_all(const char *dir, const char *name, size_t *len)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    unsigned char *buf = NULL;
    size_t cap = 0, n = 0, got;
    do {
        if (n == cap) {
            cap = cap ? 2 * cap : 1 << 20;
            unsigned char *b = realloc(buf, cap);
            if (!b)
                break;
            buf = b;
        }
        got = fread(buf + n, 1, cap - n, f);
        n += got;
    } while (got > 0);
    fclose(f);
    *len = n;
    return buf;
}

static uint32_t be32(const unsigned char *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* One split (prefix "train" or "t10k") as a dataset, pixels as the CLI's mnist: loader. */
static splut_dataset *load_split(splut_ctx *ctx, const char *dir, const char *prefix)
{
    char name[64];
    size_t ni = 0, nl = 0;
    snprintf(name, sizeof name, "%s-images-idx3-ubyte", prefix);
    unsigned char *img = read_all(dir, name, &ni);
    snprintf(name, sizeof name, "%s-labels-idx1-ubyte", prefix);
    unsigned char *lab = read_all(dir, name, &nl);
    splut_dataset *ds = NULL;
    if (img && lab && ni >= 16 && nl >= 8 && be32(img) == 0x803 && be32(lab) == 0x801) {
        uint32_t n = be32(img + 4), h = be32(img + 8), w = be32(img + 12);
        float *x = malloc((size_t)n * h * w * sizeof *x);
        int32_t *y = malloc((size_t)n * sizeof *y);
        if (x && y && ni == 16 + (size_t)n * h * w && nl == 8 + (size_t)n) {
            for (size_t i = 0; i < (size_t)n * h * w; i++)
                x[i] = ((float)img[16 + i] / 255.0f - 0.1307f) / 0.3081f;
            for (size_t i = 0; i < n; i++)
                y[i] = lab[8 + i];
            if (splut_dataset_create(ctx, n, h * w, x, y, SPLUT_DATASET_COPY, &ds) == SPLUT_OK)
                splut_dataset_set_image(ds, w, h, ((0.0f / 255.0f) - 0.1307f) / 0.3081f);
        }
        free(x);
        free(y);
    }
    free(img);
    free(lab);
    return ds;
}

/* NAME=VALUE on the run, by parameter name. */
static splut_status set_named(splut_run *run, const char *arg)
{
    const char *eq = strchr(arg, '=');
    if (!eq)
        return SPLUT_E_INVALID;
    for (int key = 1; key < 400; key++) {
        const char *name = splut_param_name((splut_param)key);
        if (!name || strlen(name) != (size_t)(eq - arg) || strncmp(name, arg, strlen(name)))
            continue;
        splut_param_type type;
        splut_param_info((splut_param)key, &type, NULL, NULL, NULL);
        double v = strtod(eq + 1, NULL);
        return type == SPLUT_PARAM_INT ? splut_run_set_int(run, (splut_param)key, (int64_t)v)
                                       : splut_run_set_double(run, (splut_param)key, v);
    }
    return SPLUT_E_UNKNOWN_PARAM;
}

int main(int argc, char **argv)
{
    if (argc < 6) {
        fprintf(stderr, "usage: run-client DIR PRESET SEED TEACHER OUT [NAME=VALUE ...]\n");
        return 2;
    }
    splut_ctx *ctx = NULL;
    splut_model *m = NULL, *teacher = NULL;
    splut_run *run = NULL;
    splut_status st = splut_ctx_create(NULL, &ctx);
    if (!st)
        st = splut_ctx_set_int(ctx, SPLUT_P_SEED, strtoll(argv[3], NULL, 10));
    if (!st)
        st = splut_model_create_preset(ctx, argv[2], &m);
    splut_dataset *train = st ? NULL : load_split(ctx, argv[1], "train");
    splut_dataset *test = st ? NULL : load_split(ctx, argv[1], "t10k");
    if (!st && (!train || !test))
        st = SPLUT_E_IO;
    if (!st)
        st = splut_run_create(m, train, test, &run);
    for (int i = 6; i < argc && !st; i++)
        st = set_named(run, argv[i]);
    if (!st && strcmp(argv[4], "-") != 0)
        st = splut_model_load(ctx, argv[4], &teacher);
    if (!st && teacher)
        st = splut_run_set_teacher(run, teacher);
    if (!st)
        st = splut_run_fit(run);
    if (!st)
        st = splut_model_save(splut_run_final_model(run), argv[5]);
    if (st)
        fprintf(stderr, "run-client: %s: %s\n", splut_status_str(st),
                ctx ? splut_ctx_last_error(ctx) : "");
    splut_run_destroy(run);
    splut_dataset_destroy(train);
    splut_dataset_destroy(test);
    splut_model_destroy(teacher);
    splut_model_destroy(m);
    splut_ctx_unref(ctx);
    return st ? 1 : 0;
}
