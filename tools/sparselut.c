/*
 * Copyright 2026 The libsparselut authors
 * SPDX-License-Identifier: Apache-2.0
 *
 * `sparselut`: command-line front end, a pure client of the public API.
 * main() dispatches to one function per subcommand; shared helpers live here.
 */
#include "cli.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef struct cli_command {
    const char *name;
    cli_cmd_fn fn;
    const char *summary;
} cli_command;

/* The command table; other subcommands add one line each. */
static const cli_command commands[] = {
    {"train", cli_cmd_train, "train a model on a dataset (checkpoints, resume)"},
    {"eval", cli_cmd_eval, "accuracy of a model file on a dataset's test split"},
    {"calibrate", cli_cmd_calibrate, "BatchNorm statistics over the training set (weights unchanged)"},
    {"info", cli_cmd_info, "architecture, parameters and table sizes of a model file"},
    {"tables", cli_cmd_tables, "enumerate a model's truth tables (sizes, LUT6, export)"},
    {"masks", cli_cmd_masks, "export or import SparseLUT CSV connectivity masks"},
    {"emit", cli_cmd_emit, "write Verilog, VHDL or HLS C (+ testbench) and verify by simulation"},
    {"synth", cli_cmd_synth, "Yosys out-of-context synthesis estimate (LUT, FF, depth)"},
    {"sweep", cli_cmd_sweep, "run a design-space sweep locally or on Slurm (docs/sweep.md)"},
    {"report", cli_cmd_report, "HTML report (accuracy vs LUT, Pareto front) of a sweep or run"},
    /* further commands register here */
};

void cli_err(const char *fmt, ...)
{
    va_list ap;
    fputs("sparselut: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

int cli_usage_err(const char *cmd, const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "sparselut %s: ", cmd);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\nTry 'sparselut %s --help'.\n", cmd);
    return CLI_EXIT_USAGE;
}

int cli_lib_err(const splut_ctx *ctx, splut_status st, const char *what)
{
    const char *detail = ctx ? splut_ctx_last_error(ctx) : "";
    if (detail && *detail)
        cli_err("%s: %s: %s", what, splut_status_str(st), detail);
    else
        cli_err("%s: %s", what, splut_status_str(st));
    return CLI_EXIT_FAIL;
}

int cli_opt(int argc, char **argv, int *i, const char *name, const char **val)
{
    const char *a = argv[*i];
    size_t n = strlen(name);
    if (strncmp(a, name, n) != 0)
        return 0;
    if (a[n] == '=') {
        *val = a + n + 1;
        return 1;
    }
    if (a[n] != '\0')
        return 0;
    if (*i + 1 >= argc)
        return -1;
    *val = argv[++*i];
    return 1;
}

int cli_flag(char **argv, int i, const char *name)
{
    return strcmp(argv[i], name) == 0;
}

int cli_parse_u64(const char *s, uint64_t min, uint64_t max, uint64_t *out)
{
    if (!s || *s < '0' || *s > '9')
        return -1;
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || *end || v < min || v > max)
        return -1;
    *out = (uint64_t)v;
    return 0;
}

int cli_parse_double(const char *s, double *out)
{
    if (!s || !*s)
        return -1;
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || *end || !isfinite(v))
        return -1;
    *out = v;
    return 0;
}

int cli_param_value(const char *cmd, const char *opt, splut_param key, const char *s,
                    double *out)
{
    splut_param_type type;
    double lo, hi;
    unsigned flags = 0;
    if (splut_param_info(key, &type, &lo, &hi, NULL) != SPLUT_OK ||
        splut_param_describe(key, NULL, &flags) != SPLUT_OK)
        return cli_usage_err(cmd, "%s: parameter %d is unknown to this library", opt, (int)key);
    int open_min = (flags & SPLUT_PARAM_MIN_OPEN) != 0;
    double v = 0;
    int bad;
    if (type == SPLUT_PARAM_INT) {
        uint64_t u = 0; /* integer keys are never negative */
        bad = lo < 0 || cli_parse_u64(s, (uint64_t)lo, (uint64_t)hi, &u) != 0;
        v = (double)u;
    } else {
        bad = cli_parse_double(s, &v) != 0 || v > hi || v < lo || (open_min && v <= lo);
    }
    if (bad)
        return cli_usage_err(cmd, "%s needs %s in %c%.15g, %.15g], got '%s'", opt,
                             type == SPLUT_PARAM_INT ? "an integer" : "a number",
                             open_min ? '(' : '[', lo, hi, s);
    *out = v;
    return 0;
}

splut_ctx *cli_ctx_new(int64_t threads)
{
    splut_ctx *ctx = NULL;
    splut_status st = splut_ctx_create(NULL, &ctx);
    if (st) {
        cli_lib_err(NULL, st, "creating the library context");
        return NULL;
    }
    st = splut_ctx_set_int(ctx, SPLUT_P_THREADS, threads);
    if (st) {
        cli_lib_err(ctx, st, "setting the thread count");
        splut_ctx_unref(ctx);
        return NULL;
    }
    return ctx;
}

double cli_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static void usage(FILE *f)
{
    fprintf(f, "Usage: sparselut COMMAND [OPTIONS]\n"
               "       sparselut COMMAND --help\n"
               "       sparselut --version\n\n"
               "Train lookup-table neural networks (LogicNets, PolyLUT, PolyLUT-Add) and turn\n"
               "them into FPGA logic.\n\nCommands:\n");
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        fprintf(f, "  %-8s %s\n", commands[i].name, commands[i].summary);
    fprintf(f, "\nExit status: 0 success, 1 failure (file, data, library), 2 bad usage,\n"
               "130 interrupted by SIGINT, 143 by SIGTERM (no temporary files are left).\n");
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return CLI_EXIT_USAGE;
    }
    const char *cmd = argv[1];
    if (strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0 || strcmp(cmd, "help") == 0) {
        usage(stdout);
        return CLI_EXIT_OK;
    }
    if (strcmp(cmd, "--version") == 0) {
        printf("sparselut %s (library %s)\n", SPLUT_VERSION_STRING, splut_version_string());
        return CLI_EXIT_OK;
    }
    cli_signals_install();
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        if (strcmp(cmd, commands[i].name) == 0) {
            int rc = commands[i].fn(argc - 1, argv + 1);
            /* A command that was signalled finished its current write (or
             * stopped at a poll); none leaves a temporary. */
            return cli_signal_received() ? cli_interrupted() : rc;
        }
    cli_err("unknown command '%s'; try 'sparselut --help'", cmd);
    return CLI_EXIT_USAGE;
}
