/*
 * Copyright 2026 The libsparselut authors
 * SPDX-License-Identifier: Apache-2.0
 *
 * `sparselut synth`: hardware figures for a model or tables file.
 *   default          out-of-context Yosys synth_xilinx for UltraScale+ (minutes to an hour)
 *   --fast           per-table ABC mapping, the same LUT count in seconds (synth-abc.c)
 *   --target ice40-* Yosys synth_ice40, nextpnr-ice40 place and route with a
 *                    clock constraint, icepack: post-route LCs, Fmax, bitstream
 * Every run reports the exact tool commands and versions.
 */
#include "cli.h"
#include "emit-input.h"
#include "json.h"
#include "synth.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

typedef enum synth_target { TARGET_XCUP = 0, TARGET_HX8K, TARGET_UP5K } synth_target;

typedef struct synth_args {
    const char *model, *tables, *out, *abc, *package;
    const char *input_stage; /* --input-stage (with --model), NULL: none */
    int32_t pipeline;
    uint64_t timeout, threads;
    double freq;
    int json, dont_care, no_reset, fast, pipeline_set, serial, thermo_bits;
    synth_target target;
} synth_args;

static void synth_help(void)
{
    printf("Usage: sparselut synth (--model FILE | --tables FILE) [--out DIR]\n"
           "                       [--pipeline none|layer|sublayer] [--dont-care] [--no-reset]\n"
           "                       [--input-stage F | --thermometer-bits]\n"
           "                       [--fast [--threads N] [--abc PROG]]\n"
           "                       [--target xcup|ice40-hx8k|ice40-up5k [--freq MHZ] [--package P] [--serial]]\n"
           "                       [--timeout SECONDS] [--json]\n\n"
           "Hardware figures for the Verilog that `sparselut emit` writes (prefix splut).\n\n"
           "  default           Yosys synth_xilinx -family xcup -flatten, out of context:\n"
           "                    LUT1..LUT6, FD*, MUXF, depth (minutes to an hour on MNIST nets)\n"
           "  --fast            map every live table output bit with ABC (yosys-abc or\n"
           "                    berkeley-abc) using synth_xilinx's LUT library, in parallel:\n"
           "                    the Yosys LUT/MUXF count in seconds, plus pure LUT6 and LUT4\n"
           "                    mappings with their depth per stage\n"
           "  --target T        xcup (default), ice40-hx8k or ice40-up5k: Yosys synth_ice40\n"
           "                    -nobram, nextpnr-ice40 with a clock constraint, icepack;\n"
           "                    reports post-route logic cells, FFs, Fmax, latency in ns\n"
           "  --freq MHZ        iCE40 clock constraint (default 100)\n"
           "  --package P       iCE40 package (default ct256 for hx8k, sg48 for up5k); a\n"
           "                    design with more ports than the package has pins is wrapped\n"
           "                    in a serial-in/serial-out shell (see docs/hdl.md)\n"
           "  --serial          use the serial shell whatever the pin count\n"
           "  --model FILE      model file;  --tables FILE  tables file (sparselut tables)\n"
           "  --out DIR         keep the Verilog, scripts and logs there (default: a\n"
           "                    temporary directory, removed afterwards)\n"
           "  --pipeline P      register placement (default layer)\n"
           "  --dont-care       emit with unreachable ROM entries as don't-cares\n"
           "  --no-reset        pipeline registers without reset\n"
           "  --input-stage F   with --model: the design takes raw features through the\n"
           "                    layer-0 comparators (F: mnist, sB.F or uB.F, as in emit)\n"
           "  --thermometer-bits  thermometer-input models: the design takes the\n"
           "                    thermometer bits (no decoding or comparators)\n"
           "  --threads N       ABC processes at once for --fast (default 2)\n"
           "  --abc PROG        ABC executable for --fast (default yosys-abc, else berkeley-abc)\n"
           "  --timeout S       give up after S seconds (default 3600)\n"
           "  --json            print one JSON object on stdout\n");
}

static int parse_target(const char *v, synth_target *t)
{
    if (strcmp(v, "xcup") == 0)
        *t = TARGET_XCUP;
    else if (strcmp(v, "ice40-hx8k") == 0)
        *t = TARGET_HX8K;
    else if (strcmp(v, "ice40-up5k") == 0)
        *t = TARGET_UP5K;
    else
        return -1;
    return 0;
}

/* Options taking a value; returns 1 consumed, 0 not ours, <0 exit code. */
static int synth_value_opt(int argc, char **argv, int *i, synth_args *a)
{
    const char *v;
    int r;
    if ((r = cli_opt(argc, argv, i, "--model", &v)) != 0)
        return r < 0 ? cli_usage_err("synth", "--model needs a file name") : (a->model = v, 1);
    if ((r = cli_opt(argc, argv, i, "--tables", &v)) != 0)
        return r < 0 ? cli_usage_err("synth", "--tables needs a file name") : (a->tables = v, 1);
    if ((r = cli_opt(argc, argv, i, "--out", &v)) != 0)
        return r < 0 ? cli_usage_err("synth", "--out needs a directory") : (a->out = v, 1);
    if ((r = cli_opt(argc, argv, i, "--abc", &v)) != 0)
        return r < 0 ? cli_usage_err("synth", "--abc needs a program") : (a->abc = v, 1);
    if ((r = cli_opt(argc, argv, i, "--input-stage", &v)) != 0) {
        cli_input_spec spec;
        if (r < 0 || cli_input_spec_parse(v, 12, &spec) || spec.kind == 1)
            return cli_usage_err("synth", "--input-stage must be mnist, sB.F or uB.F");
        a->input_stage = v;
        return 1;
    }
    if ((r = cli_opt(argc, argv, i, "--package", &v)) != 0)
        return r < 0 ? cli_usage_err("synth", "--package needs a name") : (a->package = v, 1);
    if ((r = cli_opt(argc, argv, i, "--pipeline", &v)) != 0) {
        if (r < 0 || cli_parse_pipeline(v, &a->pipeline))
            return cli_usage_err("synth", "--pipeline must be none, layer or sublayer");
        a->pipeline_set = 1;
        return 1;
    }
    if ((r = cli_opt(argc, argv, i, "--target", &v)) != 0) {
        if (r < 0 || parse_target(v, &a->target))
            return cli_usage_err("synth", "--target must be xcup, ice40-hx8k or ice40-up5k");
        return 1;
    }
    if ((r = cli_opt(argc, argv, i, "--timeout", &v)) != 0) {
        if (r < 0 || cli_parse_u64(v, 1, 1000000, &a->timeout))
            return cli_usage_err("synth", "--timeout needs seconds in [1, 1e6]");
        return 1;
    }
    if ((r = cli_opt(argc, argv, i, "--threads", &v)) != 0) {
        if (r < 0 || cli_parse_u64(v, 1, 256, &a->threads))
            return cli_usage_err("synth", "--threads needs a count in [1, 256]");
        return 1;
    }
    if ((r = cli_opt(argc, argv, i, "--freq", &v)) != 0) {
        if (r < 0 || cli_parse_double(v, &a->freq) || !(a->freq >= 1 && a->freq <= 2000))
            return cli_usage_err("synth", "--freq needs MHz in [1, 2000]");
        return 1;
    }
    return 0;
}

static int parse_synth_args(int argc, char **argv, synth_args *a)
{
    for (int i = 1; i < argc; i++) {
        int r;
        if (cli_flag(argv, i, "--help") || cli_flag(argv, i, "-h")) {
            synth_help();
            return -1;
        } else if ((r = synth_value_opt(argc, argv, &i, a)) != 0) {
            if (r != 1)
                return r;
        } else if (cli_flag(argv, i, "--json")) {
            a->json = 1;
        } else if (cli_flag(argv, i, "--dont-care")) {
            a->dont_care = 1;
        } else if (cli_flag(argv, i, "--no-reset")) {
            a->no_reset = 1;
        } else if (cli_flag(argv, i, "--fast")) {
            a->fast = 1;
        } else if (cli_flag(argv, i, "--serial")) {
            a->serial = 1;
        } else if (cli_flag(argv, i, "--thermometer-bits")) {
            a->thermo_bits = 1;
        } else {
            return cli_usage_err("synth", "unknown argument '%s'", argv[i]);
        }
    }
    if (!a->model == !a->tables)
        return cli_usage_err("synth", "exactly one of --model FILE and --tables FILE is required");
    if (a->input_stage && !a->model)
        return cli_usage_err("synth", "--input-stage needs --model (its thresholds come from the "
                                      "model)");
    if (a->fast && a->input_stage)
        return cli_usage_err("synth", "--fast counts truth tables only, not --input-stage");
    if (a->fast && a->target != TARGET_XCUP)
        return cli_usage_err("synth", "--fast counts for xcup only (use it without --target)");
    if (a->target != TARGET_XCUP && a->pipeline == SPLUT_PIPE_NONE)
        return cli_usage_err("synth", "--target %s needs registers (--pipeline layer or sublayer)",
                             a->target == TARGET_HX8K ? "ice40-hx8k" : "ice40-up5k");
    return 0;
}

/* ------------------------------------------------------- Yosys (xcup) */

typedef struct synth_result {
    long lut, ff, muxf, carry, depth;
    double seconds;
    char version[128];
} synth_result;

/* Sum the counts of cells whose type starts with @p prefix in Yosys `stat` output. */
static long stat_count(const char *stat, const char *prefix)
{
    long total = 0;
    size_t n = strlen(prefix);
    for (const char *line = stat; line && *line; line = strchr(line, '\n'), line += !!line) {
        const char *p = line;
        while (*p == ' ')
            p++;
        long v;
        char name[64];
        if (strncmp(p, prefix, n) == 0 && sscanf(p, "%63s %ld", name, &v) == 2)
            total += v;
    }
    return total;
}

static int write_text(const char *dir, const char *name, const char *text)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    if (!f || fputs(text, f) < 0) {
        if (f)
            fclose(f);
        cli_err("cannot write '%s'", path);
        return CLI_EXIT_FAIL;
    }
    return fclose(f) == 0 ? CLI_EXIT_OK : CLI_EXIT_FAIL;
}

/* First line of `CMD` (a tool's version) into @p out; "unknown" on failure. */
static void tool_version(const char *dir, const char *cmd, char *out, size_t cap)
{
    char body[256], path[4096];
    snprintf(body, sizeof body, "%s 2>&1 | head -n 1 >tool_version.txt", cmd);
    snprintf(path, sizeof path, "%s/tool_version.txt", dir);
    char *v = cli_run_in_dir(dir, body) == 0 ? cli_read_text(path) : NULL;
    snprintf(out, cap, "%s", v && *v ? v : "unknown");
    out[strcspn(out, "\n")] = '\0';
    free(v);
}

/* synth_read.ys: read_verilog of every file in splut_files.txt (+ @p extra). */
static int write_read_script(const char *dir, const char *extra)
{
    char body[512];
    snprintf(body, sizeof body,
             "{ printf 'read_verilog'; for f in $(cat splut_files.txt) %s; do printf ' %%s' "
             "\"$f\"; done; echo; } >synth_read.ys",
             extra);
    return cli_run_in_dir(dir, body) == 0 ? CLI_EXIT_OK : CLI_EXIT_FAIL;
}

static int run_yosys(const char *dir, uint64_t timeout, synth_result *r)
{
    char body[1024];
    snprintf(body, sizeof body,
             "timeout --foreground %llu yosys -q -l synth.log -s synth.ys >/dev/null 2>&1",
             (unsigned long long)timeout);
    double t0 = cli_now();
    int rc = write_read_script(dir, "");
    if (rc == CLI_EXIT_OK)
        rc = cli_run_in_dir(dir, body);
    r->seconds = cli_now() - t0;
    char path[4096];
    snprintf(path, sizeof path, "%s/synth_stat.txt", dir);
    char *stat = rc == 0 ? cli_read_text(path) : NULL;
    snprintf(path, sizeof path, "%s/synth_ltp.txt", dir);
    char *ltp = rc == 0 ? cli_read_text(path) : NULL;
    const char *len = ltp ? strstr(ltp, "(length=") : NULL;
    if (!stat || !len || sscanf(len, "(length=%ld)", &r->depth) != 1) {
        snprintf(path, sizeof path, "%s/synth.log", dir);
        if (rc == 0)
            cli_err("yosys wrote no statistics; see %s", path);
        else
            cli_tool_failed(WIFEXITED(rc) && WEXITSTATUS(rc) == 124 ? "yosys (timed out)" : "yosys", rc, path);
        free(stat);
        free(ltp);
        return CLI_EXIT_FAIL;
    }
    r->lut = stat_count(stat, "LUT");
    r->ff = stat_count(stat, "FD");
    r->muxf = stat_count(stat, "MUXF");
    r->carry = stat_count(stat, "CARRY");
    free(stat);
    free(ltp);
    return CLI_EXIT_OK;
}

static const char xcup_script[] =
    "# Out-of-context synthesis estimate for UltraScale+ (see docs/hdl.md).\n"
    "script synth_read.ys\n"
    "synth_xilinx -family xcup -top splut_top -flatten -noiopad -noclkbuf\n"
    "tee -q -o synth_stat.txt stat\n"
    "# Depth: longest chain of LUT/MUXF/CARRY cells between flip-flops and ports.\n"
    "delete t:FD*\n"
    "tee -q -o synth_ltp.txt ltp -noff\n";

static void xcup_report(const synth_args *a, uint32_t latency, uint64_t reg_bits,
                        uint64_t est_luts, const synth_result *r)
{
    if (!a->json) {
        printf("yosys synth_xilinx -family xcup (out of context), %.1f s (%s)\n", r->seconds,
               r->version);
        printf("command (in the work directory): yosys -q -l synth.log -s synth.ys\n");
        printf("LUT %ld  FF %ld  MUXF %ld  CARRY %ld  depth %ld  latency %u cycles\n", r->lut,
               r->ff, r->muxf, r->carry, r->depth, latency);
        printf("register bits in the emitted design: %llu\n", (unsigned long long)reg_bits);
        printf("cost-model estimate: %llu LUT6\n", (unsigned long long)est_luts);
        return;
    }
    cli_json j = {.out = stdout};
    cli_json_begin_object(&j, NULL);
    cli_json_string(&j, "model", a->model ? a->model : a->tables);
    cli_json_string(&j, "tool", "yosys synth_xilinx -family xcup");
    cli_json_string(&j, "version", r->version);
    cli_json_string(&j, "command", "yosys -q -l synth.log -s synth.ys");
    cli_json_bool(&j, "dont_care", a->dont_care);
    cli_json_bool(&j, "no_reset", a->no_reset);
    cli_json_int(&j, "lut", r->lut);
    cli_json_int(&j, "ff", r->ff);
    cli_json_int(&j, "muxf", r->muxf);
    cli_json_int(&j, "carry", r->carry);
    cli_json_int(&j, "depth", r->depth);
    cli_json_int(&j, "latency_cycles", latency);
    cli_json_int(&j, "register_bits", (int64_t)reg_bits);
    cli_json_int(&j, "estimate_lut6", (int64_t)est_luts);
    cli_json_double(&j, "seconds", r->seconds);
    cli_json_end_object(&j);
    cli_json_finish(&j);
}

static int run_xcup(const synth_args *a, const splut_tables *t, const splut_hdl_opts *o,
                    const char *dir, uint32_t latency)
{
    if (!cli_have_program("yosys")) {
        cli_err("yosys not found on PATH");
        return CLI_EXIT_FAIL;
    }
    synth_result r;
    memset(&r, 0, sizeof r);
    int rc = write_text(dir, "synth.ys", xcup_script);
    if (rc == CLI_EXIT_OK)
        rc = run_yosys(dir, a->timeout, &r);
    tool_version(dir, "yosys -V", r.version, sizeof r.version);
    /* the estimate counts the input stage and GroupSum head too */
    uint64_t est_luts = 0, reg_bits = 0;
    if (rc == CLI_EXIT_OK && splut_hdl_estimate(t, o, &est_luts, &reg_bits) != SPLUT_OK)
        reg_bits = synth_register_bits(t, a->pipeline);
    if (rc == CLI_EXIT_OK)
        xcup_report(a, latency, reg_bits, est_luts, &r);
    return rc;
}

/* ------------------------------------------------------------ --fast */

static void fast_report(const synth_args *a, uint32_t latency, const synth_fast_result *r)
{
    if (!a->json) {
        printf("per-table ABC mapping (%s), %zu chunks, %.1f s\n", r->version, r->chunks,
               r->seconds);
        printf("command (in the work directory): %s\n", r->command);
        printf("layer  functions  LUT(xcup)  MUXF7  MUXF8   LUT6  depth6   LUT4  depth4\n");
        for (size_t l = 0; l < r->n_layers; l++) {
            const synth_fast_layer *L = &r->layers[l];
            printf("%5zu  %9llu  %9llu  %5llu  %5llu  %5llu  %6u  %5llu  %6u\n", l,
                   (unsigned long long)L->functions, (unsigned long long)L->lut,
                   (unsigned long long)L->muxf7, (unsigned long long)L->muxf8,
                   (unsigned long long)L->lut6, L->depth6, (unsigned long long)L->lut4,
                   L->depth4);
        }
        printf("total LUT %llu (Yosys synth_xilinx equivalent)  MUXF7 %llu  MUXF8 %llu\n",
               (unsigned long long)r->lut, (unsigned long long)r->muxf7,
               (unsigned long long)r->muxf8);
        printf("pure LUT6 %llu (depth %u)  LUT4 %llu (depth %u)  latency %u cycles\n",
               (unsigned long long)r->lut6, r->depth6, (unsigned long long)r->lut4, r->depth4,
               latency);
        printf("register bits: %llu declared, %llu read by live logic\n",
               (unsigned long long)r->register_bits, (unsigned long long)r->register_bits_live);
        return;
    }
    cli_json j = {.out = stdout};
    cli_json_begin_object(&j, NULL);
    cli_json_string(&j, "model", a->model ? a->model : a->tables);
    cli_json_string(&j, "tool", "abc per-table (synth_xilinx LUT library)");
    cli_json_string(&j, "abc_version", r->version);
    cli_json_string(&j, "command", r->command);
    cli_json_bool(&j, "dont_care", a->dont_care);
    cli_json_bool(&j, "no_reset", a->no_reset);
    cli_json_int(&j, "lut", (int64_t)r->lut);
    cli_json_int(&j, "muxf7", (int64_t)r->muxf7);
    cli_json_int(&j, "muxf8", (int64_t)r->muxf8);
    cli_json_int(&j, "lut6", (int64_t)r->lut6);
    cli_json_int(&j, "lut4", (int64_t)r->lut4);
    cli_json_int(&j, "depth6", r->depth6);
    cli_json_int(&j, "depth4", r->depth4);
    cli_json_int(&j, "register_bits", (int64_t)r->register_bits);
    cli_json_int(&j, "register_bits_live", (int64_t)r->register_bits_live);
    cli_json_int(&j, "latency_cycles", latency);
    cli_json_begin_array(&j, "layers");
    for (size_t l = 0; l < r->n_layers; l++) {
        const synth_fast_layer *L = &r->layers[l];
        cli_json_begin_object(&j, NULL);
        cli_json_int(&j, "functions", (int64_t)L->functions);
        cli_json_int(&j, "lut", (int64_t)L->lut);
        cli_json_int(&j, "muxf7", (int64_t)L->muxf7);
        cli_json_int(&j, "muxf8", (int64_t)L->muxf8);
        cli_json_int(&j, "lut6", (int64_t)L->lut6);
        cli_json_int(&j, "depth6", L->depth6);
        cli_json_int(&j, "lut4", (int64_t)L->lut4);
        cli_json_int(&j, "depth4", L->depth4);
        cli_json_int(&j, "live_in_bits", (int64_t)L->live_in_bits);
        cli_json_end_object(&j);
    }
    cli_json_end_array(&j);
    cli_json_int(&j, "chunks", (int64_t)r->chunks);
    cli_json_double(&j, "seconds", r->seconds);
    cli_json_end_object(&j);
    cli_json_finish(&j);
}

static int run_fast(const synth_args *a, const splut_tables *t, splut_ctx *ctx,
                    const char *dir, uint32_t latency)
{
    const char *abc = a->abc;
    if (!abc)
        abc = cli_have_program("yosys-abc") ? "yosys-abc" : "berkeley-abc";
    if (!cli_have_program(abc)) {
        cli_err("%s not found on PATH (install berkeley-abc or yosys)", abc);
        return CLI_EXIT_FAIL;
    }
    synth_fast_opts o = {dir, abc, cli_hdl_flags(0, a->dont_care, a->no_reset), a->pipeline,
                         (unsigned)a->threads};
    synth_fast_result *r = calloc(1, sizeof *r);
    if (!r)
        return CLI_EXIT_FAIL;
    int rc = synth_fast_count(t, ctx, &o, r);
    if (rc == CLI_EXIT_OK)
        fast_report(a, latency, r);
    free(r);
    return rc;
}

/* ------------------------------------------------------------- iCE40 */

typedef struct ice40_result {
    long lut4, ff, carry, lc_used, lc_avail, io_used;
    double fmax, seconds;
    long bitstream_bytes;
    int serial;
    char commands[2048];
    char yosys_version[128], nextpnr_version[128];
} ice40_result;

/* User I/O pins of the packages we know (more ports than pins: serial shell). */
static long package_pins(const char *package)
{
    static const struct {
        const char *name;
        long pins;
    } known[] = {{"ct256", 206}, {"cb132", 95}, {"cm225", 178}, {"tq144", 107},
                 {"bg121", 93},  {"sg48", 39},  {"uwg30", 21}};
    for (size_t i = 0; i < sizeof known / sizeof known[0]; i++)
        if (strcmp(package, known[i].name) == 0)
            return known[i].pins;
    return 0;
}

/* A serial-in/serial-out shell around splut_top: every input bit comes from
 * a shift register fed by one pin and every output bit is loaded into a
 * shift register read out on one pin, so no logic is optimised away. */
static int write_serial_shell(const char *dir, uint64_t in_w, uint64_t out_w)
{
    char text[2048];
    snprintf(text, sizeof text,
             "// Serial-in/serial-out shell for iCE40 place and route (sparselut synth).\n"
             "module splut_ice40_serial (input wire clk, input wire rst, input wire sin,\n"
             "                           input wire load, output wire sout);\n"
             "    reg [%llu:0] in_sr;\n"
             "    reg [%llu:0] out_sr;\n"
             "    wire [%llu:0] y;\n"
             "    splut_top u (.M0(in_sr), .clk(clk), .rst(rst), .M1(y));\n"
             "    always @(posedge clk) begin\n"
             "        in_sr <= {in_sr, sin};\n"
             "        out_sr <= load ? y : {1'b0, out_sr[%llu:1]};\n"
             "    end\n"
             "    assign sout = out_sr[0];\n"
             "endmodule\n",
             (unsigned long long)in_w - 1, (unsigned long long)out_w - 1,
             (unsigned long long)out_w - 1, (unsigned long long)out_w - 1);
    return write_text(dir, "splut_ice40_serial.v", text);
}

/* `"key": number` at or after @p from in nextpnr's JSON report; -1 if absent. */
static double report_number(const char *from, const char *key)
{
    char pat[64];
    snprintf(pat, sizeof pat, "\"%s\":", key);
    const char *p = from ? strstr(from, pat) : NULL;
    double v;
    return p && sscanf(p + strlen(pat), " %lf", &v) == 1 ? v : -1;
}

/* Fmax (the one clock's "achieved") and cell utilisation from report.json. */
static void read_report(const char *report, ice40_result *r)
{
    r->fmax = report_number(strstr(report, "\"fmax\""), "achieved");
    const char *lc = strstr(report, "\"ICESTORM_LC\"");
    const char *io = strstr(report, "\"SB_IO\"");
    r->lc_used = (long)report_number(lc, "used");
    r->lc_avail = (long)report_number(lc, "available");
    r->io_used = (long)report_number(io, "used");
}

static int ice40_tools(void)
{
    const char *need[] = {"yosys", "nextpnr-ice40", "icepack"};
    for (size_t i = 0; i < 3; i++)
        if (!cli_have_program(need[i])) {
            cli_err("%s not found on PATH (Debian: yosys nextpnr-ice40 fpga-icestorm)", need[i]);
            return CLI_EXIT_FAIL;
        }
    return CLI_EXIT_OK;
}

/* Which step of yosys && nextpnr-ice40 && icepack stopped the flow: the
 * first whose output (removed before the run) is missing. */
static int ice40_failed(const char *dir, int status)
{
    static const struct {
        const char *output, *tool, *log;
    } steps[] = {{"splut.json", "yosys", "synth.log"},
                 {"splut.asc", "nextpnr-ice40", "pnr.log"},
                 {"splut.bin", "icepack", NULL}};
    size_t i = 0;
    char path[4096];
    for (; i + 1 < sizeof steps / sizeof steps[0]; i++) {
        snprintf(path, sizeof path, "%s/%s", dir, steps[i].output);
        if (access(path, F_OK) != 0)
            break;
    }
    snprintf(path, sizeof path, "%s/%s", dir, steps[i].log ? steps[i].log : "");
    return cli_tool_failed(steps[i].tool, status, steps[i].log ? path : NULL);
}

static int ice40_run_tools(const synth_args *a, const char *dir, const char *top,
                           const char *package, ice40_result *r)
{
    const char *dev = a->target == TARGET_HX8K ? "--hx8k" : "--up5k";
    char body[1536];
    snprintf(r->commands, sizeof r->commands,
             "yosys -q -l synth.log -s synth.ys (script synth_read.ys; synth_ice40 -nobram -top "
             "%s -json splut.json); nextpnr-ice40 %s --package %s --json splut.json --asc "
             "splut.asc --freq %g --timing-allow-fail --pcf-allow-unconstrained --report "
             "report.json; icepack splut.asc splut.bin",
             top, dev, package, a->freq);
    snprintf(body, sizeof body,
             "printf 'script synth_read.ys\\nsynth_ice40 -nobram -top %s -json splut.json\\n"
             "tee -q -o synth_stat.txt stat\\n' >synth.ys && rm -f splut.json splut.asc "
             "splut.bin && timeout --foreground %llu yosys -q -l synth.log -s synth.ys "
             ">/dev/null 2>&1 && timeout --foreground %llu nextpnr-ice40 %s --package %s --json splut.json --asc splut.asc "
             "--freq %g --timing-allow-fail --pcf-allow-unconstrained --report report.json "
             ">pnr.log 2>&1 && icepack splut.asc splut.bin",
             top, (unsigned long long)a->timeout, (unsigned long long)a->timeout, dev, package,
             a->freq);
    double t0 = cli_now();
    int rc = cli_run_in_dir(dir, body);
    r->seconds = cli_now() - t0;
    if (rc != 0)
        return ice40_failed(dir, rc);
    return CLI_EXIT_OK;
}

static int ice40_collect(const char *dir, ice40_result *r)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/synth_stat.txt", dir);
    char *stat_txt = cli_read_text(path);
    snprintf(path, sizeof path, "%s/report.json", dir);
    char *log = cli_read_text(path);
    if (!stat_txt || !log) {
        free(stat_txt);
        free(log);
        cli_err("missing Yosys or nextpnr output in '%s'", dir);
        return CLI_EXIT_FAIL;
    }
    r->lut4 = stat_count(stat_txt, "SB_LUT4");
    r->ff = stat_count(stat_txt, "SB_DFF");
    r->carry = stat_count(stat_txt, "SB_CARRY");
    read_report(log, r);
    free(stat_txt);
    free(log);
    snprintf(path, sizeof path, "%s/splut.bin", dir);
    struct stat st;
    r->bitstream_bytes = stat(path, &st) == 0 ? (long)st.st_size : -1;
    return CLI_EXIT_OK;
}

static void ice40_report(const synth_args *a, const char *package, uint32_t latency,
                         uint64_t reg_bits, const ice40_result *r)
{
    const char *dev = a->target == TARGET_HX8K ? "ice40-hx8k" : "ice40-up5k";
    double ns = r->fmax > 0 ? latency * 1000.0 / r->fmax : 0;
    if (!a->json) {
        printf("%s (%s), %s I/O, %.1f s\n", dev, package, r->serial ? "serial shell" : "direct",
               r->seconds);
        printf("commands: %s\n", r->commands);
        printf("versions: %s; %s\n", r->yosys_version, r->nextpnr_version);
        printf("LUT4 %ld  FF %ld  CARRY %ld  (Yosys synth_ice40)\n", r->lut4, r->ff, r->carry);
        printf("post-route logic cells %ld of %ld  Fmax %.2f MHz (constraint %g)\n", r->lc_used,
               r->lc_avail, r->fmax, a->freq);
        printf("latency %u cycles = %.1f ns  bitstream %ld bytes  register bits %llu\n", latency,
               ns, r->bitstream_bytes, (unsigned long long)reg_bits);
        return;
    }
    cli_json j = {.out = stdout};
    cli_json_begin_object(&j, NULL);
    cli_json_string(&j, "model", a->model ? a->model : a->tables);
    cli_json_string(&j, "target", dev);
    cli_json_string(&j, "package", package);
    cli_json_string(&j, "commands", r->commands);
    cli_json_string(&j, "yosys_version", r->yosys_version);
    cli_json_string(&j, "nextpnr_version", r->nextpnr_version);
    cli_json_bool(&j, "serial_shell", r->serial);
    cli_json_bool(&j, "dont_care", a->dont_care);
    cli_json_bool(&j, "no_reset", a->no_reset);
    cli_json_int(&j, "lut4", r->lut4);
    cli_json_int(&j, "ff", r->ff);
    cli_json_int(&j, "carry", r->carry);
    cli_json_int(&j, "lc_used", r->lc_used);
    cli_json_int(&j, "lc_available", r->lc_avail);
    cli_json_int(&j, "io_used", r->io_used);
    cli_json_double(&j, "freq_constraint_mhz", a->freq);
    cli_json_double(&j, "fmax_mhz", r->fmax);
    cli_json_int(&j, "latency_cycles", latency);
    cli_json_double(&j, "latency_ns", ns);
    cli_json_int(&j, "register_bits", (int64_t)reg_bits);
    cli_json_int(&j, "bitstream_bytes", r->bitstream_bytes);
    cli_json_double(&j, "seconds", r->seconds);
    cli_json_end_object(&j);
    cli_json_finish(&j);
}

static int run_ice40(const synth_args *a, const splut_tables *t, const char *dir,
                     uint32_t latency)
{
    int rc = ice40_tools();
    if (rc != CLI_EXIT_OK)
        return rc;
    const char *package = a->package ? a->package : a->target == TARGET_HX8K ? "ct256" : "sg48";
    uint32_t n_in = 0, b_in = 0, n_out = 0, b_out = 0;
    splut_tables_io(t, &n_in, &b_in, &n_out, &b_out);
    uint64_t in_w = (uint64_t)n_in * b_in, out_w = (uint64_t)n_out * b_out;
    ice40_result r;
    memset(&r, 0, sizeof r);
    long pins = package_pins(package);
    r.serial = a->serial || pins == 0 || (long)(in_w + out_w + 2) > pins;
    if (r.serial && out_w < 2) {
        cli_err("the serial shell needs at least 2 output bits");
        return CLI_EXIT_FAIL;
    }
    rc = r.serial ? write_serial_shell(dir, in_w, out_w) : CLI_EXIT_OK;
    if (rc == CLI_EXIT_OK)
        rc = write_read_script(dir, r.serial ? "splut_ice40_serial.v" : "");
    const char *top = r.serial ? "splut_ice40_serial" : "splut_top";
    if (rc == CLI_EXIT_OK)
        rc = ice40_run_tools(a, dir, top, package, &r);
    if (rc == CLI_EXIT_OK)
        rc = ice40_collect(dir, &r);
    tool_version(dir, "yosys -V", r.yosys_version, sizeof r.yosys_version);
    tool_version(dir, "nextpnr-ice40 --version", r.nextpnr_version, sizeof r.nextpnr_version);
    if (rc == CLI_EXIT_OK)
        ice40_report(a, package, latency, synth_register_bits(t, a->pipeline), &r);
    return rc;
}

/* ------------------------------------------------------------- driver */

static int load_synth_tables(splut_ctx *ctx, const synth_args *a, splut_tables **t,
                             cli_input_stage *stage)
{
    char what[600];
    splut_status st;
    if (a->tables) {
        st = splut_tables_load(ctx, a->tables, t);
        snprintf(what, sizeof what, "loading tables '%s'", a->tables);
        return st ? cli_lib_err(ctx, st, what) : CLI_EXIT_OK;
    }
    splut_model *m = NULL;
    int rc = cli_load_model(ctx, a->model, &m);
    if (rc != CLI_EXIT_OK)
        return rc;
    if (a->input_stage) { /* the comparator thresholds come from the model */
        cli_input_spec spec;
        cli_input_spec_parse(a->input_stage, 12, &spec);
        rc = cli_input_stage_build(&spec, m, NULL, 0, stage);
    }
    st = rc == CLI_EXIT_OK ? splut_tables_create(m, t) : SPLUT_OK;
    splut_model_destroy(m);
    if (rc != CLI_EXIT_OK)
        return rc;
    return st ? cli_lib_err(ctx, st, "enumerating the truth tables") : CLI_EXIT_OK;
}

static int synth_run(const synth_args *a, const splut_tables *t, splut_ctx *ctx,
                     const cli_input_stage *stage, const char *dir)
{
    splut_hdl_opts o = SPLUT_HDL_OPTS_INIT;
    o.pipeline = a->pipeline;
    o.flags = cli_hdl_flags(0, a->dont_care, a->no_reset) |
              (a->thermo_bits ? SPLUT_HDL_THERMO_BITS : 0);
    if (a->input_stage)
        cli_input_stage_opts(stage, &o);
    if (a->fast && (splut_tables_thermometer_levels(t) || splut_tables_num_classes(t))) {
        cli_err("--fast does not count LUT-node (DWN) models yet: their thermometer decoding, "
                "popcounts and argmax are not truth tables; run without --fast (Yosys), or "
                "see the estimate of `sparselut tables`");
        return CLI_EXIT_FAIL;
    }
    if (a->target != TARGET_XCUP &&
        (a->input_stage || splut_tables_thermometer_levels(t) || splut_tables_num_classes(t))) {
        cli_err("the iCE40 flow takes designs of input codes and output codes only (no "
                "--input-stage, no LUT-node models yet)");
        return CLI_EXIT_FAIL;
    }
    uint32_t latency = 0;
    splut_status st = splut_hdl_latency(t, &o, &latency);
    if (st == SPLUT_OK && !a->fast)
        st = splut_tables_emit(t, SPLUT_HDL_VERILOG, dir, &o);
    if (st)
        return cli_lib_err(ctx, st, a->fast ? "reading the design" : "emitting Verilog");
    if (a->fast)
        return run_fast(a, t, ctx, dir, latency);
    if (a->target != TARGET_XCUP)
        return run_ice40(a, t, dir, latency);
    return run_xcup(a, t, &o, dir, latency);
}

int cli_cmd_synth(int argc, char **argv)
{
    synth_args a;
    memset(&a, 0, sizeof a);
    a.pipeline = SPLUT_PIPE_LAYER;
    a.timeout = 3600;
    a.threads = 2;
    a.freq = 100;
    int rc = parse_synth_args(argc, argv, &a);
    if (rc)
        return rc < 0 ? CLI_EXIT_OK : rc;
    char tmp[] = "/tmp/sparselut-synth-XXXXXX";
    const char *dir = a.out;
    struct stat dst;
    if (!dir) {
        if (!mkdtemp(tmp)) {
            cli_err("cannot create a temporary directory");
            return CLI_EXIT_FAIL;
        }
        dir = tmp;
    } else if (mkdir(dir, 0777) != 0 && (stat(dir, &dst) != 0 || !S_ISDIR(dst.st_mode))) {
        cli_err("cannot create '%s'", dir);
        return CLI_EXIT_FAIL;
    }
    splut_ctx *ctx = cli_ctx_new(0);
    if (!ctx)
        return CLI_EXIT_FAIL;
    splut_tables *t = NULL;
    cli_input_stage stage;
    memset(&stage, 0, sizeof stage);
    rc = load_synth_tables(ctx, &a, &t, &stage);
    if (rc == CLI_EXIT_OK)
        rc = synth_run(&a, t, ctx, &stage, dir);
    cli_input_stage_free(&stage);
    splut_tables_destroy(t);
    splut_ctx_unref(ctx);
    /* The temporary work directory goes on success or interrupt; after a
     * failure it stays, so that the log a message points at exists. */
    if (!a.out && rc != CLI_EXIT_OK && !cli_signal_received()) {
        cli_err("the work directory '%s' is kept for inspection", tmp);
    } else if (!a.out) {
        char cmd[256] = "rm -rf -- ";
        if (cli_shell_quote(cmd, sizeof cmd, tmp) != 0 || system(cmd) != 0)
            cli_err("could not remove '%s'", tmp);
    }
    return rc;
}
