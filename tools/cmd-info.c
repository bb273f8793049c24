/*
 * Copyright 2026 The libsparselut authors
 * SPDX-License-Identifier: Apache-2.0
 *
 * `sparselut info`: architecture, parameter count and truth-table sizes of a
 * model file (table sizes from the layer shapes; nothing is enumerated).
 */
#include "cli.h"
#include "json.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

static const char *kind_name(int32_t kind)
{
    switch (kind) {
    case SPLUT_NEURON_LINEAR: return "linear";
    case SPLUT_NEURON_POLY: return "poly";
    case SPLUT_NEURON_POLY_ADD: return "poly-add";
    case SPLUT_NEURON_NEURALUT: return "neuralut";
    case SPLUT_NEURON_LUT: return "lut";
    default: return "unknown";
    }
}

/* Table entries and bits of one layer of @p width neurons reading @p in_bits codes. */
static void layer_tables(const splut_layer_desc *d, uint32_t in_bits, uint64_t *entries,
                         uint64_t *bits)
{
    uint64_t w = d->width;
    if (d->kind == SPLUT_NEURON_POLY_ADD) {
        /* A sub-tables of (b+1)-bit entries, then one adder over A (b+1)-bit codes. */
        uint64_t sub = (uint64_t)1 << (d->fan_in * in_bits);
        uint64_t add = (uint64_t)1 << (d->sub_neurons * (d->out_bits + 1));
        *entries = w * (d->sub_neurons * sub + add);
        *bits = w * (d->sub_neurons * sub * (d->out_bits + 1) + add * d->out_bits);
    } else {
        uint64_t t = (uint64_t)1 << (d->fan_in * in_bits);
        *entries = w * t;
        *bits = w * t * d->out_bits;
    }
}

static void info_help(void)
{
    printf("Usage: sparselut info --model FILE [--json]\n\n"
           "Show a model file's architecture: inputs and input bits, outputs, trainable\n"
           "parameters, training metadata, and per layer the neuron kind, width, input\n"
           "width, fan-in, degree, sub-neurons, input/output bits and the size of its\n"
           "truth tables (entries and bits; PolyLUT-Add counts sub-neuron and adder tables).\n\n"
           "  --model FILE   model written by 'sparselut train' (or splut_model_save)\n"
           "  --json         print one JSON object on stdout instead of text\n");
}

typedef struct layer_row {
    splut_layer_desc d;
    uint32_t in_width, in_bits;
    uint64_t entries, bits;
} layer_row;

static int read_layer(const splut_model *m, size_t l, uint32_t *in_width, uint32_t *in_bits,
                      layer_row *r)
{
    splut_layer_desc init = SPLUT_LAYER_DESC_INIT;
    r->d = init;
    splut_status st = splut_model_layer(m, l, &r->d);
    if (st)
        return cli_lib_err(splut_model_ctx(m), st, "reading a layer description");
    if (r->d.kind == SPLUT_NEURON_LUT) { /* binary inputs: thermometer bits for layer 0 */
        int64_t mode = 0;
        splut_model_get_int(m, SPLUT_P_INPUT_MODE, &mode);
        if (l == 0 && mode == SPLUT_INPUT_THERMOMETER)
            *in_width *= (1u << *in_bits) - 1u;
        *in_bits = 1;
    }
    r->in_width = *in_width;
    r->in_bits = *in_bits;
    layer_tables(&r->d, *in_bits, &r->entries, &r->bits);
    *in_width = r->d.width;
    *in_bits = r->d.out_bits;
    return 0;
}

static void print_json(const splut_model *m, const char *path)
{
    cli_json j = {.out = stdout};
    int64_t epochs = 0;
    double acc = -1;
    splut_model_get_int(m, SPLUT_P_EPOCHS_TRAINED, &epochs);
    splut_model_get_double(m, SPLUT_P_TEST_ACCURACY, &acc);
    cli_json_begin_object(&j, NULL);
    cli_json_string(&j, "model", path);
    cli_json_int(&j, "inputs", splut_model_num_inputs(m));
    cli_json_int(&j, "input_bits", splut_model_input_bits(m));
    cli_json_int(&j, "outputs", splut_model_num_outputs(m));
    cli_json_int(&j, "params", (int64_t)splut_model_num_params(m));
    cli_json_int(&j, "epochs_trained", epochs);
    cli_json_double(&j, "test_accuracy", acc >= 0 ? acc : NAN); /* null when unknown */
    uint64_t te = 0, tb = 0;
    uint32_t in_width = splut_model_num_inputs(m), in_bits = splut_model_input_bits(m);
    cli_json_begin_array(&j, "layers");
    for (size_t l = 0; l < splut_model_num_layers(m); l++) {
        layer_row r;
        if (read_layer(m, l, &in_width, &in_bits, &r))
            break;
        te += r.entries;
        tb += r.bits;
        cli_json_begin_object(&j, NULL);
        cli_json_int(&j, "index", (int64_t)l);
        cli_json_string(&j, "kind", kind_name(r.d.kind));
        cli_json_int(&j, "width", r.d.width);
        cli_json_int(&j, "in_width", r.in_width);
        cli_json_int(&j, "fan_in", r.d.fan_in);
        cli_json_int(&j, "degree", r.d.degree);
        cli_json_int(&j, "sub_neurons", r.d.sub_neurons);
        cli_json_int(&j, "in_bits", r.in_bits);
        cli_json_int(&j, "out_bits", r.d.out_bits);
        cli_json_int(&j, "table_entries", (int64_t)r.entries);
        cli_json_int(&j, "table_bits", (int64_t)r.bits);
        cli_json_end_object(&j);
    }
    cli_json_end_array(&j);
    cli_json_int(&j, "table_entries", (int64_t)te);
    cli_json_int(&j, "table_bits", (int64_t)tb);
    cli_json_end_object(&j);
    cli_json_finish(&j);
}

static void print_text(const splut_model *m, const char *path)
{
    int64_t epochs = 0;
    double acc = -1;
    splut_model_get_int(m, SPLUT_P_EPOCHS_TRAINED, &epochs);
    splut_model_get_double(m, SPLUT_P_TEST_ACCURACY, &acc);
    printf("model:        %s\n", path);
    printf("inputs:       %u x %u bits\n", splut_model_num_inputs(m), splut_model_input_bits(m));
    printf("outputs:      %u\n", splut_model_num_outputs(m));
    printf("parameters:   %zu\n", splut_model_num_params(m));
    printf("trained:      %lld epochs", (long long)epochs);
    if (acc >= 0)
        printf(", test accuracy %.4f\n", acc);
    else
        printf(", test accuracy unknown\n");
    printf("\n%5s %-9s %6s %6s %4s %3s %3s %5s %15s %15s\n", "layer", "kind", "width", "in",
           "F", "D", "A", "bits", "table entries", "table bits");
    uint64_t te = 0, tb = 0;
    uint32_t in_width = splut_model_num_inputs(m), in_bits = splut_model_input_bits(m);
    for (size_t l = 0; l < splut_model_num_layers(m); l++) {
        layer_row r;
        if (read_layer(m, l, &in_width, &in_bits, &r))
            return;
        te += r.entries;
        tb += r.bits;
        printf("%5zu %-9s %6u %6u %4u %3u %3u %2u>%-2u %15llu %15llu\n", l, kind_name(r.d.kind),
               r.d.width, r.in_width, r.d.fan_in, r.d.degree, r.d.sub_neurons, r.in_bits,
               r.d.out_bits, (unsigned long long)r.entries, (unsigned long long)r.bits);
    }
    printf("%5s %-9s %6s %6s %4s %3s %3s %5s %15llu %15llu\n", "total", "", "", "", "", "", "",
           "", (unsigned long long)te, (unsigned long long)tb);
}

int cli_cmd_info(int argc, char **argv)
{
    const char *model = NULL, *v;
    int json = 0;
    for (int i = 1; i < argc; i++) {
        int r;
        if (cli_flag(argv, i, "--help") || cli_flag(argv, i, "-h")) {
            info_help();
            return CLI_EXIT_OK;
        } else if ((r = cli_opt(argc, argv, &i, "--model", &v)) != 0) {
            if (r < 0)
                return cli_usage_err("info", "--model needs a file name");
            model = v;
        } else if (cli_flag(argv, i, "--json")) {
            json = 1;
        } else {
            return cli_usage_err("info", "unknown argument '%s'", argv[i]);
        }
    }
    if (!model)
        return cli_usage_err("info", "--model FILE is required");
    splut_ctx *ctx = cli_ctx_new(1);
    if (!ctx)
        return CLI_EXIT_FAIL;
    splut_model *m = NULL;
    int rc = cli_load_model(ctx, model, &m); /* a model file or a run checkpoint */
    if (!rc && json)
        print_json(m, model);
    else if (!rc)
        print_text(m, model);
    splut_model_destroy(m);
    splut_ctx_unref(ctx);
    return rc;
}
