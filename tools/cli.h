/*
 * Copyright 2026 The libsparselut authors
 * SPDX-License-Identifier: Apache-2.0
 */
/**
 * @file cli.h
 * @brief Shared helpers and the command table of the `sparselut` program.
 *
 * Every subcommand is `int cli_cmd_NAME(int argc, char **argv)` with argv[0]
 * = the command name, returning an exit code: CLI_EXIT_OK, CLI_EXIT_FAIL
 * (a file, data or library failure) or CLI_EXIT_USAGE (bad command line).
 * Commands are registered in the table in sparselut.c.
 */
#ifndef SPLUT_TOOLS_CLI_H
#define SPLUT_TOOLS_CLI_H

#include <sparselut/sparselut.h>

#include "data.h"

#include <stdint.h>

#define CLI_EXIT_OK 0
#define CLI_EXIT_FAIL 1
#define CLI_EXIT_USAGE 2

/** Signature of a subcommand. */
typedef int (*cli_cmd_fn)(int argc, char **argv);

/* Subcommands (one file each). */
int cli_cmd_train(int argc, char **argv);
int cli_cmd_eval(int argc, char **argv);
int cli_cmd_info(int argc, char **argv);
/* further subcommands declare themselves below this line */
int cli_cmd_tables(int argc, char **argv);
int cli_cmd_masks(int argc, char **argv);
int cli_cmd_emit(int argc, char **argv);
int cli_cmd_synth(int argc, char **argv);
int cli_cmd_calibrate(int argc, char **argv);
int cli_cmd_sweep(int argc, char **argv);
int cli_cmd_report(int argc, char **argv);
/**
 * @brief Enumerate @p m's tables and compare LUT-mode with eval-mode output
 * codes on @p n feature rows (tools/cmd-tables.c).
 * @param[out] mismatched samples whose output codes differ in any output
 * @param[out] outputs_compared output codes compared (n × outputs)
 * @returns CLI_EXIT_OK, or CLI_EXIT_FAIL (message printed)
 */
int cli_compare_lut(const splut_model *m, const float *x, size_t n, uint64_t *mismatched,
                    uint64_t *outputs_compared);

#if defined(__GNUC__)
#define CLI_PRINTF(a, b) __attribute__((format(printf, a, b)))
#else
#define CLI_PRINTF(a, b)
#endif

/** @brief Print "sparselut: MSG" on stderr. */
void cli_err(const char *fmt, ...) CLI_PRINTF(1, 2);
/** @brief Print "sparselut CMD: MSG" plus a --help hint; returns CLI_EXIT_USAGE. */
int cli_usage_err(const char *cmd, const char *fmt, ...) CLI_PRINTF(2, 3);
/**
 * @brief Report a failed library call: "sparselut: WHAT: <status>: <detail>";
 * returns CLI_EXIT_FAIL.
 */
int cli_lib_err(const splut_ctx *ctx, splut_status st, const char *what);

/**
 * @brief Match option @p name at argv[*i], as `--name VALUE` or `--name=VALUE`.
 * @returns 1 matched (value in *val, *i advanced past a separate value),
 *          0 not this option, -1 matched but the value is missing
 */
int cli_opt(int argc, char **argv, int *i, const char *name, const char **val);
/** @brief 1 if argv[i] is exactly the flag @p name. */
int cli_flag(char **argv, int i, const char *name);

/** @brief FNV-1a offset basis: the start value of a cli_fnv1a() chain. */
#define CLI_FNV1A_BASIS 1469598103934665603ull
/** @brief Continue the 64-bit FNV-1a hash @p h over @p n bytes at @p p. */
uint64_t cli_fnv1a(uint64_t h, const void *p, size_t n);

/** @brief Parse a decimal unsigned integer in [min, max]; 0 on success, -1 otherwise. */
int cli_parse_u64(const char *s, uint64_t min, uint64_t max, uint64_t *out);
/** @brief Parse a finite double; 0 on success, -1 otherwise. */
int cli_parse_double(const char *s, double *out);
/**
 * @brief Parse @p s as the value of parameter @p key, checked against the
 * library's parameter table (splut_param_info / splut_param_describe): an
 * integer for integer keys, within the key's bounds. 0 on success; otherwise
 * prints a usage error of @p cmd naming @p opt and the range, and returns its
 * exit code. Options that set a parameter key use this instead of restating
 * its bounds.
 */
int cli_param_value(const char *cmd, const char *opt, splut_param key, const char *s,
                    double *out);

/**
 * @brief Create a context with @p threads worker threads (0 = one per CPU); on
 * failure prints a message and returns NULL.
 */
splut_ctx *cli_ctx_new(int64_t threads);

/** @brief Monotonic clock in seconds. */
double cli_now(void);

/** Help text of the dataset options shared by train and eval. */
extern const char cli_data_help[];

/**
 * @brief Match a dataset option at argv[*i] (--data, --label, --split,
 * --split-seed, --standardize) and store it.
 * @returns 1 consumed, 0 not a dataset option, -1 bad value (message printed)
 */
int cli_data_opt(int argc, char **argv, int *i, const char *cmd, const char **spec,
                 cli_data_opts *o);
/** @brief Load the dataset; prints the error and returns CLI_EXIT_FAIL on failure. */
int cli_load_data(const char *spec, const cli_data_opts *o, cli_data *d);
/**
 * @brief Check that the data fits the model (feature count, labels below the
 * output count, 0/1 for one output); prints the error, returns an exit code.
 */
int cli_check_fit(const splut_model *m, const cli_data *d);
/* BatchNorm statistics of @p m over @p train (splut_trainer_calibrate_bn). */
int cli_calibrate_bn(splut_model *m, const cli_split *train, uint64_t batch);
/* A model file, with the usual message on failure. */
int cli_load_model(splut_ctx *ctx, const char *path, splut_model **m);
/* Writes a model file (atomically, by the library), with the usual message. */
int cli_save_model(const splut_model *m, const char *path);
/* A model and a dataset that fits it; the caller frees both, also on failure. */
int cli_load_model_data(splut_ctx *ctx, const char *model, const char *spec,
                        const cli_data_opts *o, splut_model **m, cli_data *d);
/**
 * @brief Eval-mode accuracy of @p m on a split (splut_model_predict in chunks).
 * @returns CLI_EXIT_OK or CLI_EXIT_FAIL (message printed)
 */
int cli_accuracy(const splut_model *m, const cli_split *s, uint32_t features, double *acc);

/* ---- running external HDL tools (tools/hdl-run.c; emit --verify, synth) ---- */
/* Append @p s to @p dst single-quoted for the shell; -1 if it does not fit. */
int cli_shell_quote(char *dst, size_t cap, const char *s);
/* True when @p prog is on PATH. */
int cli_have_program(const char *prog);
/* Run "cd DIR && BODY" through the shell (cli_run_shell); the wait status,
 * 0 on success (-1: too long, not started, or already interrupted). */
int cli_run_in_dir(const char *dir, const char *body);
/* A whole text file, NUL-terminated (free()); NULL on error. */
char *cli_read_text(const char *path);
/* SPLUT_HDL_* flags from the --full-case, --dont-care and --no-reset options. */
uint32_t cli_hdl_flags(int full_case, int dont_care, int no_reset);
/* none | layer | sublayer -> SPLUT_PIPE_*; -1 for anything else. */
int cli_parse_pipeline(const char *v, int32_t *p);

/* ---- SIGINT / SIGTERM (tools/cli-signal.c) ---- */
/* Install the program-wide handler (once, in main). */
void cli_signals_install(void);
/* The first SIGINT/SIGTERM received, 0 if none: long operations poll this. */
int cli_signal_received(void);
/* Print "interrupted" (once) and return the exit status 128 + signal. */
int cli_interrupted(void);
/* Run @p cmd with /bin/sh in its own process group; a SIGINT/SIGTERM is
 * forwarded to that group. The wait status (-1: not started). */
int cli_run_shell(const char *cmd);
/* "exited with status N" / "was killed by signal NAME (N)" for a wait status
 * (a shell's 128 + N counts as killed by signal N). */
void cli_describe_status(int status, char *buf, size_t cap);
/* "TOOL <decoded status>; see LOG" unless interrupted; returns CLI_EXIT_FAIL. */
int cli_tool_failed(const char *tool, int status, const char *log);

#endif
