/*
 * Copyright 2026 The libsparselut authors
 * SPDX-License-Identifier: Apache-2.0
 *
 * `sparselut tables`: enumerate a model file's truth tables (timing, sizes,
 * LUT6 estimate; optional binary and text export).
 * `sparselut masks`: export or import SparseLUT CSV connectivity masks.
 * cli_compare_lut(): eval-mode vs LUT-mode comparison for `eval --compare-lut`.
 */
#include "cli.h"
#include "json.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* ------------------------------------------------------------------ tables */

static void tables_help(void)
{
    printf("Usage: sparselut tables --model FILE [--out DIR [--text]] [--json] [--threads T]\n\n"
           "Enumerate every neuron of a model file into its truth table (the same\n"
           "per-neuron routine as eval-mode inference, so the tables are bit-exact)\n"
           "and report entries, bits, the LUT6 estimate and the time it took.\n\n"
           "  --model FILE   model written by 'sparselut train' (or splut_model_save)\n"
           "  --out DIR      write DIR/tables.bin (docs/tables-format.md); DIR is created\n"
           "  --text         with --out: also DIR/layer_<l>.txt, every row in binary\n"
           "  --json         print one JSON object on stdout instead of text\n"
           "  --threads T    worker threads, 0 = one per CPU (default 0)\n");
}

typedef struct tables_args {
    const char *model, *out;
    int json, text;
    int64_t threads;
} tables_args;

static int parse_tables_args(int argc, char **argv, tables_args *a)
{
    const char *v;
    for (int i = 1; i < argc; i++) {
        int r;
        uint64_t u;
        if (cli_flag(argv, i, "--help") || cli_flag(argv, i, "-h")) {
            tables_help();
            return -1;
        } else if ((r = cli_opt(argc, argv, &i, "--model", &v)) != 0) {
            if (r < 0)
                return cli_usage_err("tables", "--model needs a file name");
            a->model = v;
        } else if ((r = cli_opt(argc, argv, &i, "--out", &v)) != 0) {
            if (r < 0)
                return cli_usage_err("tables", "--out needs a directory");
            a->out = v;
        } else if ((r = cli_opt(argc, argv, &i, "--threads", &v)) != 0) {
            if (r < 0 || cli_parse_u64(v, 0, 256, &u))
                return cli_usage_err("tables", "--threads needs an integer in [0, 256]");
            a->threads = (int64_t)u;
        } else if (cli_flag(argv, i, "--json")) {
            a->json = 1;
        } else if (cli_flag(argv, i, "--text")) {
            a->text = 1;
        } else {
            return cli_usage_err("tables", "unknown argument '%s'", argv[i]);
        }
    }
    if (!a->model)
        return cli_usage_err("tables", "--model FILE is required");
    if (a->text && !a->out)
        return cli_usage_err("tables", "--text needs --out DIR");
    return 0;
}

/* Per-layer sums over every table of the layer. */
typedef struct layer_sum {
    uint32_t neurons, subs, in_width;
    uint64_t entries, bits, luts;
} layer_sum;

static splut_status sum_layer(const splut_tables *t, size_t l, layer_sum *s)
{
    memset(s, 0, sizeof(*s));
    splut_status st = splut_tables_layer(t, l, &s->neurons, &s->subs, &s->in_width);
    uint32_t ntab = s->subs ? s->subs + 1 : 1;
    for (uint32_t k = 0; st == SPLUT_OK && k < ntab; k++) {
        uint32_t tab = s->subs && k == s->subs ? SPLUT_TABLE_ADDER : k;
        splut_table_info info = SPLUT_TABLE_INFO_INIT;
        st = splut_tables_info(t, l, 0, tab, &info);
        s->entries += (uint64_t)s->neurons * info.entries;
        s->bits += (uint64_t)s->neurons * info.entries * info.out_bits;
    }
    if (st == SPLUT_OK)
        st = splut_tables_cost(t, l, &s->luts);
    return st;
}

static void report_json(const splut_tables *t, const char *model, double secs,
                        unsigned threads)
{
    cli_json j = {.out = stdout};
    uint64_t entries = 0, bits = 0, luts = 0;
    splut_tables_totals(t, &entries, &bits);
    splut_tables_cost(t, SIZE_MAX, &luts);
    cli_json_begin_object(&j, NULL);
    cli_json_string(&j, "model", model);
    cli_json_int(&j, "threads", threads);
    cli_json_int(&j, "entries", (int64_t)entries);
    cli_json_int(&j, "bits", (int64_t)bits);
    cli_json_double(&j, "seconds", secs);
    cli_json_double(&j, "entries_per_second", secs > 0 ? (double)entries / secs : 0);
    cli_json_int(&j, "luts", (int64_t)luts);
    uint64_t design = 0;
    if (splut_hdl_estimate(t, NULL, &design, NULL) == SPLUT_OK)
        cli_json_int(&j, "design_luts", (int64_t)design);
    cli_json_begin_array(&j, "layers");
    for (size_t l = 0; l < splut_tables_num_layers(t); l++) {
        layer_sum s;
        if (sum_layer(t, l, &s) != SPLUT_OK)
            break;
        cli_json_begin_object(&j, NULL);
        cli_json_int(&j, "index", (int64_t)l);
        cli_json_int(&j, "neurons", s.neurons);
        cli_json_int(&j, "sub_neurons", s.subs);
        cli_json_int(&j, "in_width", s.in_width);
        cli_json_int(&j, "entries", (int64_t)s.entries);
        cli_json_int(&j, "bits", (int64_t)s.bits);
        cli_json_int(&j, "luts", (int64_t)s.luts);
        cli_json_end_object(&j);
    }
    cli_json_end_array(&j);
    cli_json_end_object(&j);
    cli_json_finish(&j);
}

static void report_text(const splut_tables *t, const char *model, double secs,
                        unsigned threads)
{
    uint64_t entries = 0, bits = 0, luts = 0;
    splut_tables_totals(t, &entries, &bits);
    splut_tables_cost(t, SIZE_MAX, &luts);
    printf("model:    %s\n", model);
    printf("tables:   %llu entries, %llu bits, enumerated in %.4f s on %u threads "
           "(%.3g entries/s)\n",
           (unsigned long long)entries, (unsigned long long)bits, secs, threads,
           secs > 0 ? (double)entries / secs : 0.0);
    printf("LUT6:     %llu (LogicNets estimate)\n", (unsigned long long)luts);
    uint64_t design = 0; /* + thermometer decoding, GroupSum popcounts and argmax */
    if (splut_hdl_estimate(t, NULL, &design, NULL) == SPLUT_OK && design != luts)
        printf("design:   %llu LUT6 with the input decoding and GroupSum head (`sparselut "
               "emit` defaults)\n",
               (unsigned long long)design);
    printf("\n");
    printf("%5s %7s %3s %6s %12s %13s %10s\n", "layer", "neurons", "A", "in", "entries", "bits",
           "LUT6");
    for (size_t l = 0; l < splut_tables_num_layers(t); l++) {
        layer_sum s;
        if (sum_layer(t, l, &s) != SPLUT_OK)
            return;
        printf("%5zu %7u %3u %6u %12llu %13llu %10llu\n", l, s.neurons, s.subs, s.in_width,
               (unsigned long long)s.entries, (unsigned long long)s.bits,
               (unsigned long long)s.luts);
    }
}

static int write_outputs(const splut_tables *t, splut_ctx *ctx, const tables_args *a)
{
    char path[4096];
    if (mkdir(a->out, 0777) != 0 && errno != EEXIST) {
        cli_err("cannot create directory '%s': %s", a->out, strerror(errno));
        return CLI_EXIT_FAIL;
    }
    snprintf(path, sizeof path, "%s/tables.bin", a->out);
    splut_status st = splut_tables_save(t, path);
    if (st)
        return cli_lib_err(ctx, st, "writing the tables file");
    if (a->text && (st = splut_tables_write_text(t, a->out)) != SPLUT_OK)
        return cli_lib_err(ctx, st, "writing the text tables");
    return CLI_EXIT_OK;
}

int cli_cmd_tables(int argc, char **argv)
{
    tables_args a = {NULL, NULL, 0, 0, 0};
    int rc = parse_tables_args(argc, argv, &a);
    if (rc)
        return rc < 0 ? CLI_EXIT_OK : rc;
    splut_ctx *ctx = cli_ctx_new(a.threads);
    if (!ctx)
        return CLI_EXIT_FAIL;
    splut_model *m = NULL;
    splut_tables *t = NULL;
    rc = cli_load_model(ctx, a.model, &m); /* a model file or a run checkpoint */
    if (rc)
        goto out;
    int64_t threads = 0;
    splut_ctx_get_int(ctx, SPLUT_P_THREADS, &threads);
    if (threads == 0) /* the library's default: one per online CPU */
        threads = sysconf(_SC_NPROCESSORS_ONLN) > 0 ? sysconf(_SC_NPROCESSORS_ONLN) : 1;
    double t0 = cli_now();
    splut_status st = splut_tables_create(m, &t);
    double secs = cli_now() - t0;
    if (st) {
        rc = cli_lib_err(ctx, st, "enumerating the truth tables");
        goto out;
    }
    if (a.out && (rc = write_outputs(t, ctx, &a)) != CLI_EXIT_OK)
        goto out;
    if (a.json)
        report_json(t, a.model, secs, (unsigned)threads);
    else
        report_text(t, a.model, secs, (unsigned)threads);
out:
    splut_tables_destroy(t);
    splut_model_destroy(m);
    splut_ctx_unref(ctx);
    return rc;
}

/* ------------------------------------------------------------------- masks */

static void masks_help(void)
{
    printf("Usage: sparselut masks --model FILE --export DIR\n"
           "       sparselut masks --model FILE --import DIR --out FILE\n\n"
           "Connectivity masks in the SparseLUT CSV layout (docs/masks.md): one file\n"
           "mask_layer_<k>.csv per layer (k from 1), a header 0,1,...,C-1, then one row\n"
           "of C sorted input indices per neuron.\n\n"
           "  --model FILE   model file to read\n"
           "  --export DIR   write the model's masks into DIR (created if missing)\n"
           "  --import DIR   replace the model's connectivity by the masks in DIR\n"
           "                 (everything is validated first) and save it to --out\n"
           "  --out FILE     where --import writes the updated model\n");
}

typedef struct masks_args {
    const char *model, *export_dir, *import_dir, *out;
} masks_args;

static int parse_masks_args(int argc, char **argv, masks_args *a)
{
    const char *v;
    for (int i = 1; i < argc; i++) {
        int r;
        if (cli_flag(argv, i, "--help") || cli_flag(argv, i, "-h")) {
            masks_help();
            return -1;
        } else if ((r = cli_opt(argc, argv, &i, "--model", &v)) != 0) {
            if (r < 0)
                return cli_usage_err("masks", "--model needs a file name");
            a->model = v;
        } else if ((r = cli_opt(argc, argv, &i, "--export", &v)) != 0) {
            if (r < 0)
                return cli_usage_err("masks", "--export needs a directory");
            a->export_dir = v;
        } else if ((r = cli_opt(argc, argv, &i, "--import", &v)) != 0) {
            if (r < 0)
                return cli_usage_err("masks", "--import needs a directory");
            a->import_dir = v;
        } else if ((r = cli_opt(argc, argv, &i, "--out", &v)) != 0) {
            if (r < 0)
                return cli_usage_err("masks", "--out needs a file name");
            a->out = v;
        } else {
            return cli_usage_err("masks", "unknown argument '%s'", argv[i]);
        }
    }
    if (!a->model)
        return cli_usage_err("masks", "--model FILE is required");
    if (!a->export_dir == !a->import_dir)
        return cli_usage_err("masks", "give exactly one of --export DIR and --import DIR");
    if (a->import_dir && !a->out)
        return cli_usage_err("masks", "--import needs --out FILE for the updated model");
    if (a->export_dir && a->out)
        return cli_usage_err("masks", "--out is only used with --import");
    return 0;
}

int cli_cmd_masks(int argc, char **argv)
{
    masks_args a = {NULL, NULL, NULL, NULL};
    int rc = parse_masks_args(argc, argv, &a);
    if (rc)
        return rc < 0 ? CLI_EXIT_OK : rc;
    splut_ctx *ctx = cli_ctx_new(1);
    if (!ctx)
        return CLI_EXIT_FAIL;
    splut_model *m = NULL;
    char what[600];
    splut_status st = splut_model_load(ctx, a.model, &m);
    if (st) {
        snprintf(what, sizeof what, "loading model '%s'", a.model);
        rc = cli_lib_err(ctx, st, what);
    } else if (a.export_dir) {
        st = splut_model_export_masks(m, a.export_dir);
        snprintf(what, sizeof what, "exporting masks to '%s'", a.export_dir);
        rc = st ? cli_lib_err(ctx, st, what) : CLI_EXIT_OK;
    } else {
        st = splut_model_import_masks(m, a.import_dir);
        snprintf(what, sizeof what, "importing masks from '%s'", a.import_dir);
        if (st == SPLUT_OK) {
            st = splut_model_save(m, a.out);
            snprintf(what, sizeof what, "saving the model to '%s'", a.out);
        }
        rc = st ? cli_lib_err(ctx, st, what) : CLI_EXIT_OK;
    }
    splut_model_destroy(m);
    splut_ctx_unref(ctx);
    return rc;
}

/* ------------------------------------------------------ eval --compare-lut */

int cli_compare_lut(const splut_model *m, const float *x, size_t n, uint64_t *mismatched,
                    uint64_t *outputs_compared)
{
    splut_ctx *ctx = splut_model_ctx(m);
    splut_tables *t = NULL;
    splut_status st = splut_tables_create(m, &t);
    if (st)
        return cli_lib_err(ctx, st, "enumerating the truth tables");
    const size_t block = 4096;
    size_t ni = splut_model_num_inputs(m), no = splut_model_num_outputs(m);
    uint16_t *in = malloc(block * ni * sizeof(uint16_t));
    uint16_t *ev = malloc(block * no * sizeof(uint16_t));
    uint16_t *lut = malloc(block * no * sizeof(uint16_t));
    int rc = CLI_EXIT_OK;
    *mismatched = *outputs_compared = 0;
    if (!in || !ev || !lut) {
        cli_err("out of memory comparing eval and LUT inference");
        rc = CLI_EXIT_FAIL;
    }
    for (size_t i = 0; rc == CLI_EXIT_OK && i < n; i += block) {
        size_t k = n - i < block ? n - i : block;
        st = splut_model_input_codes(m, x + i * ni, k, in);
        if (st == SPLUT_OK)
            st = splut_model_forward_codes(m, in, k, ev);
        if (st == SPLUT_OK)
            st = splut_tables_forward(t, in, k, lut);
        if (st) {
            rc = cli_lib_err(ctx, st, "comparing eval and LUT inference");
            break;
        }
        for (size_t s = 0; s < k; s++)
            *mismatched += memcmp(ev + s * no, lut + s * no, no * sizeof(uint16_t)) != 0;
        *outputs_compared += k * no;
    }
    free(in);
    free(ev);
    free(lut);
    splut_tables_destroy(t);
    return rc;
}
