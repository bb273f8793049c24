/*
 * Copyright 2026 The libsparselut authors
 * SPDX-License-Identifier: Apache-2.0
 *
 * The hardware estimate of a sweep point: the one function to change when a
 * better estimator is wanted. `hardware = fast` (the default) runs `sparselut
 * synth --fast`, ABC per table with synth_xilinx's LUT library, on the point's
 * model; `hardware = model` keeps the LUT6 cost model of `sparselut tables`.
 * Everything downstream (point.json "hardware", the CSV, the Pareto front of
 * the report) reads only what this function returns.
 */
#include "sweep.h"

#include "cli.h"

#include <stdio.h>
#include <string.h>

static int cost_model(const sj_node *tables, sweep_hw *out, char *err, size_t cap)
{
    const sj_node *luts = sj_get(tables, "luts");
    const sj_node *layers = sj_get(tables, "layers");
    if (!luts || luts->type != SJ_NUM || sj_len(layers) > SWEEP_MAX_LAYERS) {
        snprintf(err, cap, "the tables report has no LUT estimate");
        return -1;
    }
    out->cost_model_luts = (int64_t)luts->num;
    out->layers = sj_len(layers);
    for (size_t l = 0; l < out->layers; l++)
        out->cost_model_layer_luts[l] = (int64_t)sj_num(sj_get(sj_at(layers, l), "luts"), 0);
    return 0;
}

static int64_t num(const sj_node *j, const char *key)
{
    return (int64_t)sj_num(sj_get(j, key), 0);
}

/* The figures of `sparselut synth --fast --json` (tools/cmd-synth.c). */
static int read_fast(const sj_node *j, sweep_hw *out, char *err, size_t cap)
{
    const sj_node *layers = sj_get(j, "layers");
    if (!sj_get(j, "lut") || sj_len(layers) != out->layers) {
        snprintf(err, cap, "synth.json: no LUT count, or %zu layers instead of %zu",
                 sj_len(layers), out->layers);
        return -1;
    }
    out->luts = num(j, "lut");
    for (size_t l = 0; l < out->layers; l++)
        out->layer_luts[l] = num(sj_at(layers, l), "lut");
    out->muxf7 = num(j, "muxf7");
    out->muxf8 = num(j, "muxf8");
    out->lut6 = num(j, "lut6");
    out->depth6 = num(j, "depth6");
    out->register_bits = num(j, "register_bits");
    out->register_bits_live = num(j, "register_bits_live");
    out->latency_cycles = num(j, "latency_cycles");
    snprintf(out->abc_command, sizeof out->abc_command, "%s", sj_str(sj_get(j, "command"), ""));
    snprintf(out->abc_version, sizeof out->abc_version, "%s",
             sj_str(sj_get(j, "abc_version"), ""));
    return 0;
}

static int abc_fast(const sweep_env *e, const char *dir, sweep_hw *out, char *err, size_t cap)
{
    if (!cli_have_program("yosys-abc") && !cli_have_program("berkeley-abc")) {
        snprintf(err, cap, "hardware = fast needs ABC: neither yosys-abc nor berkeley-abc is on "
                           "PATH (install berkeley-abc or yosys, or set hardware = model)");
        return -1;
    }
    char model[4300], json[4300], log[4300];
    snprintf(model, sizeof model, "%s/model.slm", dir);
    snprintf(json, sizeof json, "%s/synth.json", dir);
    snprintf(log, sizeof log, "%s/log.txt", dir);
    char *argv[] = {(char *)e->exe, "synth", "--model", model, "--pipeline", "layer",
                    "--dont-care", "--no-reset", "--fast", "--threads", SWEEP_SYNTH_THREADS,
                    "--json", NULL};
    snprintf(out->command, sizeof out->command,
             "sparselut synth --model model.slm " SWEEP_SYNTH_OPTIONS
             " --fast --threads " SWEEP_SYNTH_THREADS " --json");
    int rc = sweep_spawn_wait(argv, json, log);
    if (rc != 0) {
        snprintf(err, cap, "'sparselut synth --fast' %s %d", rc > 128 ? "was killed by signal"
                                                                    : "exited with",
                 rc > 128 ? rc - 128 : rc);
        return -1;
    }
    sj_node j;
    if (sj_parse_file(json, &j, err, cap))
        return -1;
    rc = read_fast(&j, out, err, cap);
    sj_free(&j);
    return rc;
}

int sweep_hw_estimate(const sweep_env *e, const char *dir, const char *hardware,
                      const sj_node *tables, sweep_hw *out, char *err, size_t err_cap)
{
    memset(out, 0, sizeof *out);
    if (cost_model(tables, out, err, err_cap))
        return -1;
    if (hardware && strcmp(hardware, "model") == 0) {
        snprintf(out->method, sizeof out->method, "cost-model");
        out->luts = out->cost_model_luts;
        memcpy(out->layer_luts, out->cost_model_layer_luts, sizeof out->layer_luts);
        return 0;
    }
    snprintf(out->method, sizeof out->method, "abc-fast");
    return abc_fast(e, dir, out, err, err_cap);
}
