/*
 * Copyright 2026 The libsparselut authors
 * SPDX-License-Identifier: Apache-2.0
 */
/**
 * @file data.h
 * @brief The CLI's view of a dataset: train and test splits as plain arrays,
 * filled from libsparselut-data's loaders (sparselut-data.h), which own the
 * memory through their splut_dataset handles.
 */
#ifndef SPLUT_TOOLS_DATA_H
#define SPLUT_TOOLS_DATA_H

#include <stddef.h>
#include <stdint.h>

#include "sparselut/sparselut-data.h"

/** One split: @c n rows of @c features floats (row-major) and their labels. */
typedef struct cli_split {
    const float *x;
    const int32_t *y;
    size_t n;
    splut_dataset *ds; /**< owner of x and y */
} cli_split;

/** A dataset: train and test splits with the same feature count. */
typedef struct cli_data {
    cli_split train, test;
    uint32_t features;
    uint32_t classes; /**< 1 + the largest label seen in either split */
    /** Image datasets (IDX): rows are width x height images; 0 for tables (CSV). */
    uint32_t width, height;
    float background; /**< images: the value of a black (0) pixel after the transform */
} cli_data;

/** How to load a dataset (see cli_data_load()). */
typedef struct cli_data_opts {
    const char *label; /**< CSV label column: header name or 0-based index; NULL = last */
    double split;      /**< test fraction for a seeded split (CSV without a test file) */
    int split_set;     /**< nonzero when @c split was given */
    int standardize;   /**< CSV: standardise features with train mean/std */
    uint64_t seed;     /**< seed of the split permutation */
} cli_data_opts;

/** Default options: label = last column, split 0.2 (if needed), seed 42. */
void cli_data_opts_init(cli_data_opts *o);

/**
 * @brief Load a dataset from a `--data` spec (splut_data_load()): `mnist:DIR`,
 * `fashion:DIR`, `csv:TRAIN[,TEST]`, `jsc:FILE` or `unsw:FILE`.
 * @returns 0, or -1 with the loader's message in @p err
 */
int cli_data_load(const char *spec, const cli_data_opts *o, cli_data *out, char *err,
                  size_t err_cap);
/** @brief Release a dataset (safe on a zeroed struct). */
void cli_data_free(cli_data *d);

/**
 * @brief Read a whole regular file (splut_data_read_file(): gzip decompressed,
 * FIFOs and directories refused) into a malloc'ed buffer with a terminating NUL
 * that @p len does not count.
 */
int cli_read_file(const char *path, uint8_t **buf, size_t *len, char *err, size_t err_cap);

/**
 * @brief Standardise both splits with the train mean and population std (std 0 → 1)
 * of splut_dataset_feature_stats(), as libsparselut-data's `SPLUT_DATA_STANDARDIZE`
 * does, and return each feature's mean and std (arrays of d->features entries).
 * The splits get new datasets holding the standardised rows.
 * @returns 0, or -1 with the message on the datasets' context (d is unchanged)
 */
int cli_standardize_stats(cli_data *d, double *means, double *sds);

#endif
