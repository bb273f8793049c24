/*
 * Copyright 2026 The libsparselut authors
 * SPDX-License-Identifier: Apache-2.0
 *
 * `sparselut emit`: write Verilog / VHDL / HLS C for a model file, optionally
 * with test vectors and a testbench, and verify it by simulation (Verilator or
 * Icarus for Verilog, GHDL for VHDL, the C compiler for HLS C).
 *
 * The library never runs external programs; this file does (through the
 * shell, with every path single-quoted).
 */
#include "cli.h"
#include "emit-input.h"
#include "json.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CMD_CAP 8192

/* ------------------------------------------------------------- arguments */

static void emit_help(void)
{
    printf("Usage: sparselut emit --model FILE --format verilog|vhdl|hls --out DIR\n"
           "                      [--pipeline none|layer|sublayer] [--prefix P] [--full-case]\n"
           "                      [--dont-care] [--no-reset] [--input-stage F [--input-bits B]]\n"
           "                      [--thermometer-bits] [--groupsum-counts]\n"
           "                      [--vectors N] [--data SPEC ...] [--seed S]\n"
           "                      [--verify] [--simulator verilator|iverilog] [--json]\n\n"
           "Write the model's truth tables as HDL (docs/hdl.md): one module per table, one\n"
           "per layer, <prefix>_top with ports M0 (input codes), clk, rst, M1 (output codes).\n\n"
           "  --model FILE      model file\n"
           "  --format F        verilog (Verilog-2001), vhdl (VHDL-2008) or hls (C99)\n"
           "  --out DIR         output directory (created if missing)\n"
           "  --pipeline P      none (combinational, default), layer (a register before\n"
           "                    each layer) or sublayer (also before each adder stage)\n"
           "  --prefix P        module name prefix (default splut)\n"
           "  --full-case       list every ROM address (no default item)\n"
           "  --dont-care       fill ROM entries that no network input can reach with\n"
           "                    values that simplify the logic (same outputs for every\n"
           "                    network input; ROMs then differ from the tables there)\n"
           "  --no-reset        pipeline registers without reset (rst port unused)\n"
           "  --input-stage F   the layer-0 quantiser in hardware: M0 takes raw features\n"
           "                    and per-feature comparators make the codes. F: mnist\n"
           "                    (8-bit pixels), sB.F / uB.F (signed / unsigned B-bit\n"
           "                    integers x standing for x / 2^F; with --standardize the\n"
           "                    train mean/std apply on top) or auto (from --data's\n"
           "                    range); see docs/hdl.md, \"Input stage\"\n"
           "  --input-bits B    raw bits per feature for --input-stage auto (default 12)\n"
           "  --thermometer-bits  thermometer-input (LUT-node) models: M0 takes the\n"
           "                    thermometer bits of each feature instead of its code\n"
           "  --groupsum-counts GroupSum models: M1 carries the class popcounts instead\n"
           "                    of the class index (no argmax); see docs/lut-nodes.md\n"
           "  --vectors N       also write N test vectors and a testbench (default 1000\n"
           "                    with --verify): the first N test rows of --data, else\n"
           "                    random input codes (raw values with --input-stage)\n"
           "                    drawn from --seed (default 1)\n"
           "  --verify          run the testbench: Verilator (else Icarus) for Verilog,\n"
           "                    GHDL for VHDL, cc for HLS C; exit 1 on any mismatch\n"
           "  --simulator S     force verilator or iverilog for Verilog\n"
           "  --json            print one JSON object on stdout\n\n%s",
           cli_data_help);
}

typedef struct emit_args {
    const char *model, *out, *prefix, *data, *simulator;
    cli_data_opts dopt;
    splut_hdl_format fmt;
    int fmt_set, verify, json, full_case, dont_care, no_reset, thermo_bits, counts;
    int32_t pipeline;
    uint64_t vectors, seed;
    const char *input_stage; /* --input-stage, NULL: the design takes codes */
    uint64_t input_bits;
} emit_args;

static int parse_format(const char *v, splut_hdl_format *f)
{
    if (strcmp(v, "verilog") == 0)
        *f = SPLUT_HDL_VERILOG;
    else if (strcmp(v, "vhdl") == 0)
        *f = SPLUT_HDL_VHDL;
    else if (strcmp(v, "hls") == 0)
        *f = SPLUT_HDL_HLS;
    else
        return -1;
    return 0;
}

/* Options taking a value; returns 1 consumed, 0 not ours, <0 exit code. */
static int emit_value_opt(int argc, char **argv, int *i, emit_args *a)
{
    const char *v;
    int r;
    if ((r = cli_opt(argc, argv, i, "--model", &v)) != 0)
        return r < 0 ? -cli_usage_err("emit", "--model needs a file name") : (a->model = v, 1);
    if ((r = cli_opt(argc, argv, i, "--out", &v)) != 0)
        return r < 0 ? -cli_usage_err("emit", "--out needs a directory") : (a->out = v, 1);
    if ((r = cli_opt(argc, argv, i, "--prefix", &v)) != 0)
        return r < 0 ? -cli_usage_err("emit", "--prefix needs a name") : (a->prefix = v, 1);
    if ((r = cli_opt(argc, argv, i, "--format", &v)) != 0) {
        if (r < 0 || parse_format(v, &a->fmt))
            return -cli_usage_err("emit", "--format must be verilog, vhdl or hls");
        a->fmt_set = 1;
        return 1;
    }
    if ((r = cli_opt(argc, argv, i, "--pipeline", &v)) != 0) {
        if (r < 0 || cli_parse_pipeline(v, &a->pipeline))
            return -cli_usage_err("emit", "--pipeline must be none, layer or sublayer");
        return 1;
    }
    if ((r = cli_opt(argc, argv, i, "--vectors", &v)) != 0) {
        if (r < 0 || cli_parse_u64(v, 1, 100000000, &a->vectors))
            return -cli_usage_err("emit", "--vectors needs an integer in [1, 1e8]");
        return 1;
    }
    if ((r = cli_opt(argc, argv, i, "--seed", &v)) != 0) {
        if (r < 0 || cli_parse_u64(v, 0, UINT64_MAX, &a->seed))
            return -cli_usage_err("emit", "--seed needs an unsigned integer");
        return 1;
    }
    if ((r = cli_opt(argc, argv, i, "--input-stage", &v)) != 0) {
        cli_input_spec spec;
        if (r < 0 || cli_input_spec_parse(v, 12, &spec))
            return -cli_usage_err("emit", "--input-stage must be mnist, auto, sB.F or uB.F "
                                          "(B in 1..24, F in 0..30)");
        a->input_stage = v;
        return 1;
    }
    if ((r = cli_opt(argc, argv, i, "--input-bits", &v)) != 0) {
        if (r < 0 || cli_parse_u64(v, 1, 24, &a->input_bits))
            return -cli_usage_err("emit", "--input-bits needs an integer in [1, 24]");
        return 1;
    }
    if ((r = cli_opt(argc, argv, i, "--simulator", &v)) != 0) {
        if (r < 0 || (strcmp(v, "verilator") != 0 && strcmp(v, "iverilog") != 0))
            return -cli_usage_err("emit", "--simulator must be verilator or iverilog");
        a->simulator = v;
        return 1;
    }
    return 0;
}

static int parse_emit_args(int argc, char **argv, emit_args *a)
{
    for (int i = 1; i < argc; i++) {
        int r;
        if (cli_flag(argv, i, "--help") || cli_flag(argv, i, "-h")) {
            emit_help();
            return -1;
        } else if ((r = emit_value_opt(argc, argv, &i, a)) != 0) {
            if (r < 0)
                return -r;
        } else if ((r = cli_data_opt(argc, argv, &i, "emit", &a->data, &a->dopt)) != 0) {
            if (r < 0)
                return CLI_EXIT_USAGE;
        } else if (cli_flag(argv, i, "--verify")) {
            a->verify = 1;
        } else if (cli_flag(argv, i, "--json")) {
            a->json = 1;
        } else if (cli_flag(argv, i, "--full-case")) {
            a->full_case = 1;
        } else if (cli_flag(argv, i, "--dont-care")) {
            a->dont_care = 1;
        } else if (cli_flag(argv, i, "--no-reset")) {
            a->no_reset = 1;
        } else if (cli_flag(argv, i, "--thermometer-bits")) {
            a->thermo_bits = 1;
        } else if (cli_flag(argv, i, "--groupsum-counts")) {
            a->counts = 1;
        } else {
            return cli_usage_err("emit", "unknown argument '%s'", argv[i]);
        }
    }
    if (!a->model || !a->out || !a->fmt_set)
        return cli_usage_err("emit", "--model FILE, --format F and --out DIR are required");
    if (a->simulator && a->fmt != SPLUT_HDL_VERILOG)
        return cli_usage_err("emit", "--simulator applies to --format verilog only");
    if (a->verify && !a->vectors)
        a->vectors = 1000;
    if (a->input_bits && (!a->input_stage || strcmp(a->input_stage, "auto") != 0))
        return cli_usage_err("emit", "--input-bits applies to --input-stage auto only");
    return 0;
}

/* --------------------------------------------------------------- vectors */

static uint64_t next_random(uint64_t *s)
{
    /* splitmix64: a fixed, documented generator so vectors are reproducible. */
    uint64_t z = (*s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

/* Input codes: from the dataset's test split (first rows) or random. */
static int make_vectors(const splut_model *m, const emit_args *a, uint16_t **codes, size_t *n)
{
    uint32_t in = splut_model_num_inputs(m), bits = splut_model_input_bits(m);
    size_t count = (size_t)a->vectors;
    cli_data d;
    memset(&d, 0, sizeof d);
    if (a->data) {
        int rc = cli_load_data(a->data, &a->dopt, &d);
        if (rc == CLI_EXIT_OK && d.features != in) {
            cli_err("the data has %u features, the model %u inputs", d.features, in);
            rc = CLI_EXIT_FAIL;
        }
        if (rc != CLI_EXIT_OK) {
            cli_data_free(&d);
            return rc;
        }
        const cli_split *s = d.test.n ? &d.test : &d.train;
        if (count > s->n)
            count = s->n;
        *codes = calloc(count * in, sizeof(uint16_t));
        splut_status st = *codes ? splut_model_input_codes(m, s->x, count, *codes) : SPLUT_E_NOMEM;
        cli_data_free(&d);
        if (st != SPLUT_OK)
            return cli_lib_err(splut_model_ctx(m), st, "computing input codes");
    } else {
        *codes = calloc(count * in, sizeof(uint16_t));
        if (!*codes) {
            cli_err("out of memory for %zu vectors", count);
            return CLI_EXIT_FAIL;
        }
        uint64_t s = a->seed;
        for (size_t i = 0; i < count * in; i++)
            (*codes)[i] = (uint16_t)(next_random(&s) >> (64 - bits));
    }
    *n = count;
    return CLI_EXIT_OK;
}

/* ------------------------------------------------------------- simulate */

static const char *pick_simulator(const emit_args *a)
{
    if (a->fmt == SPLUT_HDL_VHDL)
        return cli_have_program("ghdl") ? "ghdl" : NULL;
    if (a->fmt == SPLUT_HDL_HLS)
        return cli_have_program("cc") ? "cc" : NULL;
    if (a->simulator)
        return cli_have_program(a->simulator) ? a->simulator : NULL;
    if (cli_have_program("verilator"))
        return "verilator";
    return cli_have_program("iverilog") ? "iverilog" : NULL;
}

/* Shell commands (run inside the output directory) that build and run the
 * testbench, its output going to sim.log. */
static void sim_command(const char *sim, const char *p, char *cmd, size_t cap)
{
    if (strcmp(sim, "verilator") == 0)
        snprintf(cmd, cap,
                 "verilator --binary --timing -Wno-fatal -Wno-lint -Wno-style -Mdir obj_verilator "
                 "--top-module %s_tb %s_tb.v $(cat %s_files.txt) >sim.log 2>&1 && "
                 "./obj_verilator/V%s_tb >sim.log 2>&1",
                 p, p, p, p);
    else if (strcmp(sim, "iverilog") == 0)
        snprintf(cmd, cap,
                 "iverilog -g2005 -o %s_tb.vvp -s %s_tb %s_tb.v $(cat %s_files.txt) >sim.log 2>&1 "
                 "&& vvp -n %s_tb.vvp >sim.log 2>&1",
                 p, p, p, p, p);
    else if (strcmp(sim, "ghdl") == 0)
        snprintf(cmd, cap,
                 "mkdir -p ghdl_work && ghdl -a --std=08 --workdir=ghdl_work $(cat %s_files.txt) "
                 "%s_tb.vhd >sim.log 2>&1 && ghdl -e --std=08 --workdir=ghdl_work %s_tb >>sim.log "
                 "2>&1 && ghdl -r --std=08 --workdir=ghdl_work %s_tb >sim.log 2>&1",
                 p, p, p, p);
    else
        snprintf(cmd, cap,
                 "cc -std=c99 -O2 -o %s_tb_hls %s_tb.c %s.c >sim.log 2>&1 && ./%s_tb_hls "
                 ">sim.log 2>&1",
                 p, p, p, p);
}

typedef struct sim_result {
    const char *simulator;
    long vectors, mismatches; /* -1 if the run did not finish */
    double seconds;
} sim_result;

static int simulate(const char *dir, const char *prefix, const char *sim, sim_result *r)
{
    char cmd[CMD_CAP];
    sim_command(sim, prefix, cmd, sizeof cmd);
    r->simulator = sim;
    r->vectors = r->mismatches = -1;
    double t0 = cli_now();
    int rc = cli_run_in_dir(dir, cmd);
    r->seconds = cli_now() - t0;
    char path[4096];
    snprintf(path, sizeof path, "%s/sim.log", dir);
    char *log = cli_read_text(path);
    const char *res = log ? strstr(log, "SPLUT_RESULT vectors=") : NULL;
    if (!res || sscanf(res, "SPLUT_RESULT vectors=%ld mismatches=%ld", &r->vectors,
                       &r->mismatches) != 2) {
        if (rc == 0)
            cli_err("%s printed no result; see %s", sim, path);
        else
            cli_tool_failed(sim, rc, path);
        free(log);
        r->vectors = r->mismatches = -1;
        return CLI_EXIT_FAIL;
    }
    free(log);
    return CLI_EXIT_OK;
}

/* ------------------------------------------------------------------ emit */

/* Input stage of one emission, for the report. */
typedef struct input_report {
    const cli_input_stage *stage; /* NULL: no input stage */
    size_t rounded;               /* data values that are not exactly a raw value */
    size_t changed;               /* codes that the rounding changed */
} input_report;

static void emit_report(const emit_args *a, uint32_t latency, double emit_secs, size_t n,
                        const sim_result *r, const input_report *in)
{
    static const char *const fmt_names[] = {"verilog", "vhdl", "hls"};
    static const char *const pipe_names[] = {"none", "layer", "sublayer"};
    if (!a->json) {
        printf("wrote %s (%s, pipeline %s, latency %u cycles) in %.3f s\n", a->out,
               fmt_names[a->fmt], pipe_names[a->pipeline], latency, emit_secs);
        if (n)
            printf("vectors: %zu (%s)\n", n, a->data ? a->data : "random codes");
        if (in->stage)
            printf("input:   %s%u.%u raw features, %llu comparators, %zu data values rounded "
                   "(%zu codes changed)\n",
                   in->stage->fmt.is_signed ? "s" : "u", in->stage->fmt.bits,
                   in->stage->fmt.frac_bits, (unsigned long long)in->stage->comparators,
                   in->rounded, in->changed);
        if (r->simulator)
            printf("verify:  %s, %ld vectors, %ld mismatches, %.2f s\n", r->simulator,
                   r->vectors, r->mismatches, r->seconds);
        return;
    }
    cli_json j = {.out = stdout};
    cli_json_begin_object(&j, NULL);
    cli_json_string(&j, "model", a->model);
    cli_json_string(&j, "format", fmt_names[a->fmt]);
    cli_json_string(&j, "out", a->out);
    cli_json_string(&j, "pipeline", pipe_names[a->pipeline]);
    cli_json_int(&j, "latency_cycles", latency);
    cli_json_double(&j, "emit_seconds", emit_secs);
    cli_json_int(&j, "vectors", (int64_t)n);
    if (in->stage) {
        const splut_input_format *f = &in->stage->fmt;
        cli_json_string(&j, "input_stage", a->input_stage);
        cli_json_int(&j, "input_bits", f->bits);
        cli_json_int(&j, "input_signed", f->is_signed != 0);
        if (f->map == SPLUT_INFMT_FIXED)
            cli_json_int(&j, "input_frac_bits", f->frac_bits);
        cli_json_int(&j, "input_standardized", f->offset != NULL);
        cli_json_int(&j, "comparators", (int64_t)in->stage->comparators);
        cli_json_int(&j, "inputs_rounded", (int64_t)in->rounded);
        cli_json_int(&j, "input_codes_changed", (int64_t)in->changed);
    }
    if (r->simulator) {
        cli_json_string(&j, "simulator", r->simulator);
        cli_json_int(&j, "vectors_checked", r->vectors);
        cli_json_int(&j, "mismatches", r->mismatches);
        cli_json_double(&j, "seconds", r->seconds);
    }
    cli_json_end_object(&j);
    cli_json_finish(&j);
}

static int emit_and_verify(const emit_args *a, const splut_model *m, const splut_tables *t,
                           const splut_hdl_opts *op, const cli_data *d, input_report *in);

/* The input stage (and the data it is chosen from, standardised as in
 * training, kept in @p d for the vectors). */
static int prepare_input_stage(const emit_args *a, const splut_model *m, cli_data *d,
                               cli_input_stage *s)
{
    cli_input_spec spec;
    cli_input_spec_parse(a->input_stage, a->input_bits ? (uint32_t)a->input_bits : 12, &spec);
    int rc = CLI_EXIT_OK;
    if (a->data) {
        cli_data_opts raw_opts = a->dopt;
        raw_opts.standardize = 0; /* the stage standardises: it needs the statistics */
        rc = cli_load_data(a->data, &raw_opts, d);
        if (rc == CLI_EXIT_OK && d->features != splut_model_num_inputs(m)) {
            cli_err("the data has %u features, the model %u inputs", d->features,
                    splut_model_num_inputs(m));
            rc = CLI_EXIT_FAIL;
        }
    }
    if (rc == CLI_EXIT_OK)
        rc = cli_input_stage_build(&spec, m, a->data ? d : NULL, a->dopt.standardize, s);
    return rc;
}

/* Raw vectors for a design with an input stage, and its testbench. */
static int input_testbench(const emit_args *a, const splut_model *m, const splut_tables *t,
                           const splut_hdl_opts *o, const cli_data *d, const cli_input_stage *s,
                           size_t *n, input_report *in)
{
    const cli_split *split = NULL;
    size_t count = (size_t)a->vectors;
    if (a->data) {
        split = d->test.n ? &d->test : &d->train;
        if (count > split->n)
            count = split->n;
    }
    int32_t *raw = NULL;
    uint16_t *codes = NULL;
    int rc = cli_input_vectors(s, m, split, count, a->seed, &raw, &codes, &in->rounded,
                               &in->changed);
    splut_status st;
    if (rc == CLI_EXIT_OK &&
        (st = splut_tables_emit_testbench_raw(t, a->fmt, a->out, o, raw, codes, count)) != 0)
        rc = cli_lib_err(splut_model_ctx(m), st, "writing the testbench");
    free(raw);
    free(codes);
    *n = count;
    return rc;
}

static int emit_run(const emit_args *a, const splut_model *m, const splut_tables *t)
{
    splut_hdl_opts o = SPLUT_HDL_OPTS_INIT;
    o.prefix = a->prefix;
    o.pipeline = a->pipeline;
    o.flags = cli_hdl_flags(a->full_case, a->dont_care, a->no_reset) |
              (a->thermo_bits ? SPLUT_HDL_THERMO_BITS : 0) |
              (a->counts ? SPLUT_HDL_GROUPSUM_COUNTS : 0);
    cli_data d;
    memset(&d, 0, sizeof d);
    cli_input_stage stage;
    memset(&stage, 0, sizeof stage);
    input_report in = {NULL, 0, 0};
    if (a->input_stage) {
        int rc = prepare_input_stage(a, m, &d, &stage);
        if (rc != CLI_EXIT_OK) {
            cli_data_free(&d);
            cli_input_stage_free(&stage);
            return rc;
        }
        cli_input_stage_opts(&stage, &o);
        in.stage = &stage;
    }
    int rc = emit_and_verify(a, m, t, &o, &d, &in);
    cli_data_free(&d);
    cli_input_stage_free(&stage);
    return rc;
}

static int emit_and_verify(const emit_args *a, const splut_model *m, const splut_tables *t,
                           const splut_hdl_opts *op, const cli_data *d, input_report *in)
{
    splut_ctx *ctx = splut_model_ctx(m);
    splut_hdl_opts o = *op;
    uint32_t latency = 0;
    splut_status st = splut_hdl_latency(t, &o, &latency);
    if (st)
        return cli_lib_err(ctx, st, "HDL options");
    double t0 = cli_now();
    st = splut_tables_emit(t, a->fmt, a->out, &o);
    double emit_secs = cli_now() - t0;
    if (st)
        return cli_lib_err(ctx, st, "emitting HDL");
    uint16_t *codes = NULL;
    size_t n = 0;
    sim_result r = {NULL, -1, -1, 0};
    int rc = CLI_EXIT_OK;
    if (a->vectors && in->stage) {
        rc = input_testbench(a, m, t, &o, d, in->stage, &n, in);
    } else if (a->vectors) {
        rc = make_vectors(m, a, &codes, &n);
        if (rc == CLI_EXIT_OK &&
            (st = splut_tables_emit_testbench(t, a->fmt, a->out, &o, codes, n)) != SPLUT_OK)
            rc = cli_lib_err(ctx, st, "writing the testbench");
    }
    free(codes);
    if (rc == CLI_EXIT_OK && a->verify) {
        const char *sim = pick_simulator(a);
        if (!sim) {
            cli_err("no simulator found for this format (need verilator or iverilog, ghdl, cc)");
            return CLI_EXIT_FAIL;
        }
        rc = simulate(a->out, a->prefix ? a->prefix : "splut", sim, &r);
    }
    if (rc == CLI_EXIT_OK)
        emit_report(a, latency, emit_secs, n, &r, in);
    if (rc == CLI_EXIT_OK && r.mismatches > 0) {
        cli_err("%ld of %ld vectors mismatched", r.mismatches, r.vectors);
        rc = CLI_EXIT_FAIL;
    }
    return rc;
}

/* Load the model and enumerate its tables; prints errors. */
static int load_tables(splut_ctx *ctx, const char *path, splut_model **m, splut_tables **t)
{
    int rc = cli_load_model(ctx, path, m); /* a model file or a run checkpoint */
    if (rc)
        return rc;
    splut_status st = splut_tables_create(*m, t);
    if (st)
        return cli_lib_err(ctx, st, "enumerating the truth tables");
    return CLI_EXIT_OK;
}

int cli_cmd_emit(int argc, char **argv)
{
    emit_args a;
    memset(&a, 0, sizeof a);
    cli_data_opts_init(&a.dopt);
    a.seed = 1;
    int rc = parse_emit_args(argc, argv, &a);
    if (rc)
        return rc < 0 ? CLI_EXIT_OK : rc;
    splut_ctx *ctx = cli_ctx_new(0);
    if (!ctx)
        return CLI_EXIT_FAIL;
    splut_model *m = NULL;
    splut_tables *t = NULL;
    rc = load_tables(ctx, a.model, &m, &t);
    if (rc == CLI_EXIT_OK)
        rc = emit_run(&a, m, t);
    splut_tables_destroy(t);
    splut_model_destroy(m);
    splut_ctx_unref(ctx);
    return rc;
}
