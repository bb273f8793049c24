/*
 * Copyright 2026 The libsparselut authors
 * SPDX-License-Identifier: Apache-2.0
 *
 * `sparselut calibrate`: replace a model's BatchNorm running statistics by
 * their population estimate over the training split.
 */
#include "cli.h"
#include "json.h"

#include <stdio.h>
#include <string.h>

static void calibrate_help(void)
{
    printf("Usage: sparselut calibrate --model FILE --data SPEC --out FILE [options]\n\n"
           "Replace every BatchNorm running mean and variance of a model by its\n"
           "population estimate over the training split: train-mode forward passes over\n"
           "consecutive batches, averaged over batches (as torch's update_bn). Weights are\n"
           "not changed. Training keeps a moving average over the last few dozen batches,\n"
           "whose noise moves a quantised network's eval-mode codes from epoch to epoch.\n"
           "Prints the test accuracy before and after.\n\n"
           "  --model FILE     model file to read\n"
           "  --out FILE       calibrated model file to write (may equal --model)\n"
           "  --batch B        batch size of the passes (default 128: use the training\n"
           "                   batch size)\n"
           "  --threads T      worker threads, 0 = one per CPU (default 0); the result is\n"
           "                   identical for any T\n"
           "  --json           print {\"accuracy_before\", \"accuracy\", ...} as one JSON object\n\n%s",
           cli_data_help);
}

typedef struct calibrate_args {
    const char *model, *data, *out;
    cli_data_opts dopt;
    int json;
    uint64_t batch;
    int64_t threads;
} calibrate_args;

static int parse_value(int argc, char **argv, int *i, calibrate_args *a)
{
    const char *v;
    uint64_t u;
    int r;
    if ((r = cli_opt(argc, argv, i, "--model", &v)) != 0) {
        if (r < 0)
            return cli_usage_err("calibrate", "--model needs a file name");
        a->model = v;
    } else if ((r = cli_opt(argc, argv, i, "--out", &v)) != 0) {
        if (r < 0)
            return cli_usage_err("calibrate", "--out needs a file name");
        a->out = v;
    } else if ((r = cli_opt(argc, argv, i, "--batch", &v)) != 0) {
        if (r < 0 || cli_parse_u64(v, 2, 1u << 20, &a->batch))
            return cli_usage_err("calibrate", "--batch needs an integer in [2, 1048576]");
    } else if ((r = cli_opt(argc, argv, i, "--threads", &v)) != 0) {
        if (r < 0 || cli_parse_u64(v, 0, 256, &u))
            return cli_usage_err("calibrate", "--threads needs an integer in [0, 256]");
        a->threads = (int64_t)u;
    } else {
        return 0;
    }
    return 1;
}

static int parse_calibrate(int argc, char **argv, calibrate_args *a)
{
    for (int i = 1; i < argc; i++) {
        int r = cli_data_opt(argc, argv, &i, "calibrate", &a->data, &a->dopt);
        if (r < 0)
            return CLI_EXIT_USAGE;
        if (r > 0)
            continue;
        r = parse_value(argc, argv, &i, a);
        if (r == 1)
            continue;
        if (r)
            return r;
        if (cli_flag(argv, i, "--help") || cli_flag(argv, i, "-h")) {
            calibrate_help();
            return -1;
        } else if (cli_flag(argv, i, "--json")) {
            a->json = 1;
        } else {
            return cli_usage_err("calibrate", "unknown argument '%s'", argv[i]);
        }
    }
    if (!a->model)
        return cli_usage_err("calibrate", "--model FILE is required");
    if (!a->data)
        return cli_usage_err("calibrate", "--data SPEC is required");
    if (!a->out)
        return cli_usage_err("calibrate", "--out FILE is required");
    return CLI_EXIT_OK;
}

static void report(const calibrate_args *a, const cli_data *d, double before, double after,
                   double secs)
{
    if (!a->json) {
        printf("test accuracy %.6f before, %.6f after calibration (%zu training samples, "
               "%.2f s) -> %s\n",
               before, after, d->train.n, secs, a->out);
        return;
    }
    cli_json j = {.out = stdout};
    cli_json_begin_object(&j, NULL);
    cli_json_double(&j, "accuracy_before", before);
    cli_json_double(&j, "accuracy", after);
    cli_json_int(&j, "samples", (int64_t)d->test.n);
    cli_json_int(&j, "calibration_samples", (int64_t)d->train.n);
    cli_json_int(&j, "batch", (int64_t)a->batch);
    cli_json_double(&j, "seconds", secs);
    cli_json_string(&j, "out", a->out);
    cli_json_end_object(&j);
    cli_json_finish(&j);
}

int cli_cmd_calibrate(int argc, char **argv)
{
    calibrate_args a = {.batch = 128};
    cli_data_opts_init(&a.dopt);
    int rc = parse_calibrate(argc, argv, &a);
    if (rc)
        return rc < 0 ? CLI_EXIT_OK : rc;
    splut_ctx *ctx = cli_ctx_new(a.threads);
    if (!ctx)
        return CLI_EXIT_FAIL;
    splut_model *m = NULL;
    cli_data d = {0};
    rc = cli_load_model_data(ctx, a.model, a.data, &a.dopt, &m, &d);
    double before = 0, after = 0;
    if (!rc)
        rc = cli_accuracy(m, &d.test, d.features, &before);
    double t0 = cli_now();
    if (!rc)
        rc = cli_calibrate_bn(m, &d.train, a.batch);
    double secs = cli_now() - t0;
    if (!rc)
        rc = cli_accuracy(m, &d.test, d.features, &after);
    if (!rc)
        rc = cli_save_model(m, a.out);
    if (!rc)
        report(&a, &d, before, after, secs);
    cli_data_free(&d);
    splut_model_destroy(m);
    splut_ctx_unref(ctx);
    return rc;
}
