/*
 * Copyright 2026 The libsparselut authors
 * SPDX-License-Identifier: Apache-2.0
 *
 * `sparselut eval`: eval-mode accuracy of a model file on a dataset.
 */
#include "cli.h"
#include "json.h"

#include <stdio.h>
#include <string.h>

static void eval_help(void)
{
    printf("Usage: sparselut eval --model FILE --data SPEC [options]\n\n"
           "Accuracy of a model (eval mode: BatchNorm running statistics, quantised\n"
           "activations) on the dataset's test split, or its train split with --on train.\n"
           "Pass the same dataset options as to 'train' so that CSV splits and\n"
           "standardisation are reproduced.\n\n"
           "  --model FILE     model file\n"
           "  --on test|train  which split to evaluate (default test)\n"
           "  --threads T      worker threads, 0 = one per CPU (default 0)\n"
           "  --compare-lut    also enumerate the truth tables and check that LUT-mode\n"
           "                   inference gives the same output codes as eval mode on\n"
           "                   every sample (exit status 1 on any mismatch)\n"
           "  --json           print {\"accuracy\", \"samples\", ...} as one JSON object\n\n%s",
           cli_data_help);
}

typedef struct eval_args {
    const char *model, *data;
    cli_data_opts dopt;
    int json, on_train, compare_lut;
    int64_t threads;
} eval_args;

static int parse_eval(int argc, char **argv, eval_args *a)
{
    const char *v;
    uint64_t u;
    for (int i = 1; i < argc; i++) {
        int r = cli_data_opt(argc, argv, &i, "eval", &a->data, &a->dopt);
        if (r < 0)
            return CLI_EXIT_USAGE;
        if (r > 0)
            continue;
        if (cli_flag(argv, i, "--help") || cli_flag(argv, i, "-h")) {
            eval_help();
            return -1;
        } else if ((r = cli_opt(argc, argv, &i, "--model", &v)) != 0) {
            if (r < 0)
                return cli_usage_err("eval", "--model needs a file name");
            a->model = v;
        } else if ((r = cli_opt(argc, argv, &i, "--on", &v)) != 0) {
            if (r < 0 || (strcmp(v, "test") != 0 && strcmp(v, "train") != 0))
                return cli_usage_err("eval", "--on needs 'test' or 'train'");
            a->on_train = strcmp(v, "train") == 0;
        } else if ((r = cli_opt(argc, argv, &i, "--threads", &v)) != 0) {
            if (r < 0 || cli_parse_u64(v, 0, 256, &u))
                return cli_usage_err("eval", "--threads needs an integer in [0, 256]");
            a->threads = (int64_t)u;
        } else if (cli_flag(argv, i, "--json")) {
            a->json = 1;
        } else if (cli_flag(argv, i, "--compare-lut")) {
            a->compare_lut = 1;
        } else {
            return cli_usage_err("eval", "unknown argument '%s'", argv[i]);
        }
    }
    if (!a->model)
        return cli_usage_err("eval", "--model FILE is required");
    if (!a->data)
        return cli_usage_err("eval", "--data SPEC is required");
    return CLI_EXIT_OK;
}

int cli_cmd_eval(int argc, char **argv)
{
    eval_args a = {0};
    cli_data_opts_init(&a.dopt);
    int rc = parse_eval(argc, argv, &a);
    if (rc)
        return rc < 0 ? CLI_EXIT_OK : rc;
    splut_ctx *ctx = cli_ctx_new(a.threads);
    if (!ctx)
        return CLI_EXIT_FAIL;
    splut_model *m = NULL;
    cli_data d = {0};
    rc = cli_load_model_data(ctx, a.model, a.data, &a.dopt, &m, &d);
    const cli_split *s = a.on_train ? &d.train : &d.test;
    double acc = 0, t0 = cli_now();
    if (!rc)
        rc = cli_accuracy(m, s, d.features, &acc);
    double secs = cli_now() - t0;
    uint64_t mismatched = 0, compared = 0;
    if (!rc && a.compare_lut)
        rc = cli_compare_lut(m, s->x, s->n, &mismatched, &compared);
    if (!rc && a.json) {
        cli_json j = {.out = stdout};
        cli_json_begin_object(&j, NULL);
        cli_json_double(&j, "accuracy", acc);
        cli_json_int(&j, "samples", (int64_t)s->n);
        cli_json_int(&j, "correct", (int64_t)(acc * (double)s->n + 0.5));
        cli_json_string(&j, "split", a.on_train ? "train" : "test");
        cli_json_double(&j, "seconds", secs);
        if (a.compare_lut) {
            cli_json_int(&j, "lut_outputs_compared", (int64_t)compared);
            cli_json_int(&j, "lut_mismatched_samples", (int64_t)mismatched);
        }
        cli_json_end_object(&j);
        cli_json_finish(&j);
    } else if (!rc) {
        printf("accuracy %.6f (%zu samples, %s split, %.2f s)\n", acc, s->n,
               a.on_train ? "train" : "test", secs);
        if (a.compare_lut)
            printf("LUT mode: %llu output codes compared, %llu samples differ\n",
                   (unsigned long long)compared, (unsigned long long)mismatched);
    }
    if (!rc && mismatched) {
        cli_err("LUT-mode inference differs from eval mode on %llu samples",
                (unsigned long long)mismatched);
        rc = CLI_EXIT_FAIL;
    }
    cli_data_free(&d);
    splut_model_destroy(m);
    splut_ctx_unref(ctx);
    return rc;
}
