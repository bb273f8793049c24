/*
 * Copyright 2026 The libsparselut authors
 * SPDX-License-Identifier: Apache-2.0
 */
/**
 * @file sweep.h
 * @brief Design-space sweeps: the sweep file, its points, running one point,
 * the hardware estimate and the summary (docs/sweep.md).
 *
 * A sweep file expands into points (the cartesian product of its lists); a
 * point is a complete set of `sparselut train` options and lives in
 * OUT/points/HASH/, HASH being a hash of its canonical settings. A point is
 * finished when its point.json exists (written atomically last).
 */
#ifndef SPLUT_TOOLS_SWEEP_H
#define SPLUT_TOOLS_SWEEP_H

#include "sweep-json.h"

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

/** One `key = value` setting. */
typedef struct sweep_kv {
    char *key, *value;
} sweep_kv;

/** A line of the sweep file: a train option or a {placeholder} and its values. */
typedef struct sweep_axis {
    char *key;     /**< option name without "--", or placeholder name without braces */
    int is_var;    /**< 1 for a {placeholder} */
    char **values; /**< expanded list (ranges unrolled) */
    size_t n;
    unsigned line;
    int section; /**< -1: the common part before any [section] */
} sweep_axis;

/**
 * A parsed sweep file: settings before the first [section] apply to every
 * point; each [section] is one alternative that adds (or overrides) settings.
 * The points are, section after section, the cartesian products of the lists.
 */
typedef struct sweep_spec {
    sweep_axis *axes;
    size_t n_axes;
    char **sections; /**< section names; none = one implicit section */
    size_t n_sections;
    size_t n_points;
} sweep_spec;

/** One point: the train options (sorted by key) and the placeholder values. */
typedef struct sweep_point {
    size_t index;
    const char *section; /**< its [section] name, "" without sections */
    sweep_kv *opts, *vars;
    size_t n_opts, n_vars;
    uint64_t hash;
    char hex[17];
} sweep_point;

/**
 * @brief Parse a sweep file. Messages name the file and line.
 * @returns 0, or -1 with a message in @p err
 */
int sweep_spec_load(const char *path, sweep_spec *s, char *err, size_t err_cap);
/** @brief Parse sweep text (@p name is used in messages). */
int sweep_spec_parse(const char *text, const char *name, sweep_spec *s, char *err,
                     size_t err_cap);
void sweep_spec_free(sweep_spec *s);

/**
 * @brief Point @p index of the sweep: placeholders substituted, flags
 * normalised, options sorted, hash computed.
 * @returns 0, or -1 with a message (an unknown placeholder, out of memory)
 */
int sweep_point_make(const sweep_spec *s, size_t index, sweep_point *p, char *err,
                     size_t err_cap);
void sweep_point_free(sweep_point *p);
/** @brief The value of option @p key of a point, NULL if it is not set. */
const char *sweep_point_opt(const sweep_point *p, const char *key);

/** @brief 1 if @p key is a train option that takes no value (keep-best, …). */
int sweep_is_flag_option(const char *key);
/**
 * @brief 1 if @p key is a setting of the sweep itself (`hardware`), part of
 * the point's settings and hash but not a train option.
 */
int sweep_is_sweep_setting(const char *key);

/* ---------------------------------------------------------------- running */

/** Where and how points run. */
typedef struct sweep_env {
    const char *exe;   /**< absolute path of the sparselut program */
    const char *out;   /**< the sweep's output directory */
    const char *spec;  /**< the sweep file (absolute) */
    unsigned threads;  /**< --threads of each train run (results do not depend on it) */
} sweep_env;

/** @brief "OUT/points/HASH" into @p buf. */
void sweep_point_dir(const sweep_env *e, const sweep_point *p, char *buf, size_t cap);
/** @brief 1 when the point's point.json exists. */
int sweep_point_done(const sweep_env *e, const sweep_point *p);
/**
 * @brief Run one point (train, tables, hardware estimate) and write its
 * point.json last and atomically. Prints progress on stderr.
 * @returns 0 when point.json is written, -1 otherwise (the reason on stderr
 * and in the point's failed.txt)
 */
int sweep_point_run(const sweep_env *e, const sweep_point *p);

/**
 * @brief Make a point of a training run that already happened: copy its
 * model and `train --json` output into the point directory, then tables, the
 * hardware estimate and point.json as for a run point.
 * @returns 0 when point.json is written, -1 otherwise (message printed)
 */
int sweep_point_adopt(const sweep_env *e, const sweep_point *p, const char *train_json,
                      const char *model);

/**
 * @brief Run @p argv (argv[0] a path) with stdout to @p out_path (NULL =
 * inherit) and stderr appended to @p err_path (NULL = inherit); waits.
 * SIGINT/SIGTERM received meanwhile are passed on to the child.
 * @returns the exit status, 128+signal when killed, -1 if it did not start
 */
int sweep_spawn_wait(char *const argv[], const char *out_path, const char *err_path);

/** @brief Pass SIGINT/SIGTERM on to the tracked children (and remember it). */
void sweep_signals_install(void);
/** @brief The signal received since sweep_signals_install(), 0 if none. */
int sweep_stop_requested(void);
/** @brief Start @p argv like sweep_spawn_wait() without waiting; -1 on failure. */
pid_t sweep_spawn(char *const argv[], const char *out_path, const char *err_path);
/** @brief Wait for a child of sweep_spawn(); its exit status as sweep_spawn_wait(). */
int sweep_wait(pid_t pid);
/** @brief Add (@p on = 1) or remove a child that signals are passed on to. */
void sweep_track_child(pid_t pid, int on);

/**
 * @brief Write @p len bytes to @p path atomically (unique temporary, fsync,
 * rename, fsync of the directory). @returns 0 or -1 (message printed)
 */
int sweep_write_atomic(const char *path, const char *data, size_t len);

/* --------------------------------------------------------- hardware estimate */

/** Maximum layers recorded per point. */
#define SWEEP_MAX_LAYERS 64

/** The hardware estimate of one model. */
typedef struct sweep_hw {
    char method[32];      /**< "abc-fast" (`hardware = fast`) or "cost-model" */
    int64_t luts;         /**< total LUTs by that method */
    int64_t layer_luts[SWEEP_MAX_LAYERS];
    size_t layers;
    int64_t cost_model_luts; /**< the LUT6 cost model of `sparselut tables`, always */
    int64_t cost_model_layer_luts[SWEEP_MAX_LAYERS];
    /* abc-fast only (method "abc-fast"): */
    int64_t muxf7, muxf8, lut6, depth6, register_bits, register_bits_live, latency_cycles;
    char command[256];      /**< the `sparselut synth` command, model relative to the point */
    char abc_command[1600]; /**< the ABC command lines synth ran (in its work directory) */
    char abc_version[128];
} sweep_hw;

/** The options of the emitted design whose LUTs `hardware = fast` counts. */
#define SWEEP_SYNTH_OPTIONS "--pipeline layer --dont-care --no-reset"
/**
 * ABC processes of the fast count, fixed: synth cuts the tables into chunks
 * per process, so a count that followed the sweep's --threads could differ.
 */
#define SWEEP_SYNTH_THREADS "2"

/**
 * @brief THE one place that turns a trained model into the hardware figure
 * used by sweeps and reports. @p hardware is the point's `hardware` setting:
 * "fast" runs `sparselut synth --fast` (ABC, Yosys-equivalent LUT count) on
 * DIR/model.slm, its JSON in DIR/synth.json and its stderr appended to
 * DIR/log.txt; "model" uses the LUT6 cost model of `sparselut tables --json`
 * (@p tables, that command's parsed output), which is recorded either way.
 * @returns 0, or -1 with the reason in @p err
 */
int sweep_hw_estimate(const sweep_env *e, const char *dir, const char *hardware,
                      const sj_node *tables, sweep_hw *out, char *err, size_t err_cap);

/* ---------------------------------------------------------------- results */

/** A finished (or missing) point as read back for summaries and reports. */
typedef struct sweep_result {
    char dir[4096];   /**< the point directory */
    int done;         /**< point.json read */
    int failed;       /**< failed.txt present (and no point.json) */
    sj_node json;     /**< point.json (SJ_NULL when not done) */
} sweep_result;

/**
 * @brief Read every point directory below @p dir (a sweep output directory
 * or a single point directory) in name order.
 * @returns 0 (possibly zero results) or -1 (message printed)
 */
int sweep_results_read(const char *dir, sweep_result **out, size_t *n);
void sweep_results_free(sweep_result *r, size_t n);
/** @brief Write the CSV of all points (one row each, settings as columns). */
int sweep_write_csv(const sweep_result *r, size_t n, const char *path);

/**
 * @brief Write the HTML report (and the CSV) of a sweep or point directory
 * (tools/cmd-report.c). @p title NULL = the directory name.
 * @returns 0 or -1 (message printed)
 */
int sweep_report_write(const char *dir, const char *html, const char *csv, const char *title);

/**
 * @brief Submit the unfinished points as a Slurm job array plus a dependent
 * collection job (tools/sweep-slurm.c); prints the sbatch commands on stdout.
 * @param throttle the array's limit of running tasks, 0 = none
 * @param wait wait for the collection job (sbatch --wait) and return its status
 * @param dry_run print the commands only
 * @returns a CLI exit status
 */
int sweep_slurm_submit(const sweep_env *e, const sweep_point *points, size_t n,
                       const char *sbatch_args, uint64_t throttle, int wait, int dry_run);

#endif
