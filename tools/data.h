/*
 * Copyright 2026 The libsparselut authors
 * SPDX-License-Identifier: Apache-2.0
 */
/**
 * @file data.h
 * @brief Dataset loading for the CLI: MNIST/Fashion-MNIST IDX (raw or .gz),
 * generic CSV and the JSC OpenML CSV layout.
 *
 * All loaders return 0 on success or -1 with a message (naming the file and,
 * for text files, line:column) in the caller's error buffer.
 */
#ifndef SPLUT_TOOLS_DATA_H
#define SPLUT_TOOLS_DATA_H

#include <stddef.h>
#include <stdint.h>

/** One split: @c n rows of @c features floats (row-major) and their labels. */
typedef struct cli_split {
    float *x;
    int32_t *y;
    size_t n;
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
 * @brief Load a dataset from a `--data` spec: `mnist:DIR`, `fashion:DIR`,
 * `csv:TRAIN[,TEST]` or `jsc:FILE`.
 */
int cli_data_load(const char *spec, const cli_data_opts *o, cli_data *out, char *err,
                  size_t err_cap);
/** @brief Free a dataset's arrays (safe on a zeroed struct). */
void cli_data_free(cli_data *d);

/**
 * @brief Read a whole file; a gzip stream (magic 1f 8b) is decompressed and
 * checked. The buffer gets a terminating NUL (not counted in @p len).
 */
int cli_read_file(const char *path, uint8_t **buf, size_t *len, char *err, size_t err_cap);

/**
 * @brief Parse an IDX image file (magic 0x00000803, ubyte) into normalised floats:
 * (v/255 − 0.1307)/0.3081, one row of rows·cols per image.
 */
int cli_idx_images(const uint8_t *buf, size_t len, const char *name, float **x, size_t *n,
                   uint32_t *features, char *err, size_t err_cap);
/** @brief Parse an IDX label file (magic 0x00000801, ubyte). */
int cli_idx_labels(const uint8_t *buf, size_t len, const char *name, int32_t **y, size_t *n,
                   char *err, size_t err_cap);

/**
 * @brief Parse a generic CSV table (header row; numeric cells; integer labels ≥ 0)
 * from NUL-terminated @p text. @p name is used in messages.
 * @param[out] features number of feature columns (all but the label column)
 * @param[out] classes 1 + largest label
 */
int cli_csv_parse(const char *text, const char *name, const char *label, cli_split *out,
                  uint32_t *features, uint32_t *classes, char *err, size_t err_cap);

/**
 * @brief Parse the JSC OpenML CSV layout: the 16 named features (MODELS.md §7.2,
 * any column order) and the class column `class` (g,q,w,z,t → 0..4), drop
 * duplicate rows, split 80/20 with cli_permutation(@p seed), standardise with
 * train statistics.
 */
int cli_jsc_parse(const char *text, const char *name, uint64_t seed, cli_data *out, char *err,
                  size_t err_cap);

/**
 * @brief Permutation of 0..n-1 as numpy's legacy `RandomState(seed).permutation(n)`
 * (MT19937, Fisher-Yates from the top, masked rejection sampling).
 * @returns NULL when out of memory (free() the result)
 */
size_t *cli_permutation(size_t n, uint32_t seed);

/**
 * @brief Split @p all into train/test like sklearn `train_test_split(test_size=frac,
 * random_state=seed)`: test = first ceil(frac·n) of the permutation.
 * @p all is consumed (freed) on success and on failure.
 */
int cli_split_rows(cli_split *all, uint32_t features, double frac, uint32_t seed,
                   cli_split *train, cli_split *test, char *err, size_t err_cap);

/** @brief Standardise both splits with the train mean and (population) std; std 0 → 1. */
void cli_standardize(cli_data *d);
/** @brief cli_standardize(), also returning each feature's mean and std
 * (arrays of d->features entries; either may be NULL). */
void cli_standardize_stats(cli_data *d, double *means, double *sds);

#endif
