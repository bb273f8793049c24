/*
 * Copyright 2026 The libsparselut authors
 * SPDX-License-Identifier: Apache-2.0
 *
 * Dataset options and accuracy, shared by `train` and `eval`.
 */
#include "cli.h"

#include <stdio.h>
#include <stdlib.h>

/* Rows per splut_model_predict call: bounds the library's scratch memory. */
#define PREDICT_CHUNK 4096

const char cli_data_help[] =
    "Dataset (--data SPEC):\n"
    "  mnist:DIR        MNIST IDX files (train/t10k-{images-idx3,labels-idx1}-ubyte,\n"
    "                   raw or .gz) from DIR; pixels /255 then (x-0.1307)/0.3081\n"
    "  fashion:DIR      Fashion-MNIST, same layout and transform\n"
    "  csv:TRAIN[,TEST] CSV with a header row and numeric cells; without TEST a seeded\n"
    "                   split is made (--split, default 0.2)\n"
    "  jsc:FILE         jet substructure, OpenML CSV layout (16 named features + class\n"
    "                   g,q,w,z,t -> classes 0..4 in the reference's one-hot order):\n"
    "                   duplicates dropped, 80/20 split, standardised\n"
    "  unsw:FILE        UNSW-NB15 partition CSV (.csv, .csv.gz or .csv.zip): binary\n"
    "                   features as the FINN/LogicNets NID preprocessing, 80/20 split;\n"
    "                   the feature count comes from the file (see docs/datasets.md)\n"
    "  --label NAME|I   CSV label column by header name or 0-based index (default: last);\n"
    "                   labels are integers 0..C-1\n"
    "  --split F        test fraction in (0,1): CSV without a TEST file, JSC, UNSW\n"
    "  --split-seed S   seed of the split permutation (numpy RandomState), default 42\n"
    "  --standardize    CSV: scale features to train mean 0 / std 1\n";

int cli_data_opt(int argc, char **argv, int *i, const char *cmd, const char **spec,
                 cli_data_opts *o)
{
    const char *v;
    int r;
    uint64_t u;
    if ((r = cli_opt(argc, argv, i, "--data", &v)) != 0) {
        if (r < 0)
            return cli_usage_err(cmd, "--data needs a value"), -1;
        *spec = v;
    } else if ((r = cli_opt(argc, argv, i, "--label", &v)) != 0) {
        if (r < 0 || !*v)
            return cli_usage_err(cmd, "--label needs a column name or index"), -1;
        o->label = v;
    } else if ((r = cli_opt(argc, argv, i, "--split", &v)) != 0) {
        if (r < 0 || cli_parse_double(v, &o->split) || !(o->split > 0 && o->split < 1))
            return cli_usage_err(cmd, "--split needs a fraction in (0, 1), got '%s'",
                                 r < 0 ? "" : v), -1;
        o->split_set = 1;
    } else if ((r = cli_opt(argc, argv, i, "--split-seed", &v)) != 0) {
        if (r < 0 || cli_parse_u64(v, 0, UINT32_MAX, &u))
            return cli_usage_err(cmd, "--split-seed needs an integer in [0, 4294967295], got '%s'",
                                 r < 0 ? "" : v), -1;
        o->seed = u;
    } else if (cli_flag(argv, *i, "--standardize")) {
        o->standardize = 1;
    } else {
        return 0;
    }
    return 1;
}

int cli_load_data(const char *spec, const cli_data_opts *o, cli_data *d)
{
    char err[1024];
    if (cli_data_load(spec, o, d, err, sizeof err)) {
        cli_err("%s", err);
        return CLI_EXIT_FAIL;
    }
    return CLI_EXIT_OK;
}

int cli_load_model(splut_ctx *ctx, const char *path, splut_model **m)
{
    splut_status st = splut_model_load(ctx, path, m);
    if (st == SPLUT_E_FORMAT && splut_run_checkpoint_model(ctx, path, m) == SPLUT_OK)
        return CLI_EXIT_OK; /* a run checkpoint: its live model */
    if (st == SPLUT_E_FORMAT) /* the model file's message, not the checkpoint's */
        st = splut_model_load(ctx, path, m);
    if (!st)
        return CLI_EXIT_OK;
    char what[600];
    snprintf(what, sizeof what, "loading model '%s'", path);
    return cli_lib_err(ctx, st, what);
}

int cli_save_model(const splut_model *m, const char *path)
{
    splut_status st = splut_model_save(m, path);
    if (!st)
        return CLI_EXIT_OK;
    char what[600];
    snprintf(what, sizeof what, "writing model '%s'", path);
    return cli_lib_err(splut_model_ctx(m), st, what);
}

int cli_load_model_data(splut_ctx *ctx, const char *model, const char *spec,
                        const cli_data_opts *o, splut_model **m, cli_data *d)
{
    int rc = cli_load_model(ctx, model, m);
    if (!rc)
        rc = cli_load_data(spec, o, d);
    if (!rc)
        rc = cli_check_fit(*m, d);
    return rc;
}

int cli_calibrate_bn(splut_model *m, const cli_split *train, uint64_t batch)
{
    splut_trainer *t = NULL;
    splut_status st = splut_trainer_create(m, &t);
    if (!st)
        st = splut_trainer_calibrate_bn(t, train->x, train->n, (size_t)batch);
    splut_trainer_destroy(t);
    return st ? cli_lib_err(splut_model_ctx(m), st, "calibrating BatchNorm statistics")
              : CLI_EXIT_OK;
}

static int max_label(const cli_split *s, int32_t *mx)
{
    for (size_t i = 0; i < s->n; i++)
        if (s->y[i] > *mx)
            *mx = s->y[i];
    return 0;
}

int cli_check_fit(const splut_model *m, const cli_data *d)
{
    uint32_t inputs = splut_model_num_inputs(m), outputs = splut_model_num_outputs(m);
    if (inputs != d->features) {
        cli_err("the model has %u inputs but the dataset has %u features", inputs, d->features);
        return CLI_EXIT_FAIL;
    }
    int32_t mx = 0;
    max_label(&d->train, &mx);
    max_label(&d->test, &mx);
    uint32_t limit = outputs == 1 ? 2 : outputs;
    if ((uint32_t)mx >= limit) {
        cli_err("label %d out of range for a model with %u output%s (labels must be below %u)",
                mx, outputs, outputs == 1 ? "" : "s", limit);
        return CLI_EXIT_FAIL;
    }
    return CLI_EXIT_OK;
}

int cli_accuracy(const splut_model *m, const cli_split *s, uint32_t features, double *acc)
{
    *acc = 0;
    if (s->n == 0)
        return CLI_EXIT_OK;
    int32_t *pred = malloc(PREDICT_CHUNK * sizeof *pred);
    if (!pred) {
        cli_err("out of memory");
        return CLI_EXIT_FAIL;
    }
    size_t correct = 0;
    for (size_t i = 0; i < s->n; i += PREDICT_CHUNK) {
        size_t n = s->n - i < PREDICT_CHUNK ? s->n - i : PREDICT_CHUNK;
        splut_status st = splut_model_predict(m, s->x + i * features, n, pred, NULL);
        if (st) {
            free(pred);
            return cli_lib_err(splut_model_ctx(m), st, "predicting");
        }
        for (size_t k = 0; k < n; k++)
            correct += pred[k] == s->y[i + k];
    }
    free(pred);
    *acc = (double)correct / (double)s->n;
    return CLI_EXIT_OK;
}

uint64_t cli_fnv1a(uint64_t h, const void *p, size_t n)
{
    const unsigned char *b = p;
    for (size_t i = 0; i < n; i++)
        h = (h ^ b[i]) * 1099511628211ull;
    return h;
}
