/*
 * libsparselut-data — dataset loaders for libsparselut.
 *
 * Copyright 2026 The libsparselut authors
 * SPDX-License-Identifier: Apache-2.0
 */

/**
 * @file sparselut-data.h
 * @brief Loaders that turn dataset files into ::splut_dataset handles
 * (companion library libsparselut-data, pkg-config `sparselut-data`).
 *
 * Formats: MNIST-style IDX directories (raw or `.gz`), generic CSV tables,
 * the JSC OpenML CSV layout and the UNSW-NB15 partition CSV (plain, `.gz` or
 * `.zip`). Every loader returns a train and a test dataset; docs/datasets.md
 * describes the formats and the preprocessing of each.
 *
 * Conventions are those of sparselut.h: every call returns a ::splut_status
 * and records its message (naming the file and, for text, line:column) on the
 * context (splut_ctx_last_error()). Files are opened without blocking: a
 * directory, FIFO or device given as a file is refused at once. Compressed
 * input never grows past what its own header declares (IDX dimensions, the
 * gzip size trailer, the zip member size) nor past @c max_bytes.
 * Temporary buffers come from the C library allocator; the datasets from the
 * context's allocator. A library built without zlib refuses `.gz` and `.zip`
 * files with SPLUT_E_IO ("built without zlib").
 */
#ifndef SPARSELUT_DATA_H
#define SPARSELUT_DATA_H

#include <stddef.h>
#include <stdint.h>

#include <sparselut/sparselut.h>

#ifdef __cplusplus
extern "C" {
#endif

/** @cond INTERNAL */
#if defined(_WIN32) && !defined(SPLUT_STATIC)
#  ifdef SPLUT_DATA_BUILDING_DLL
#    define SPLUT_DATA_API __declspec(dllexport)
#  else
#    define SPLUT_DATA_API __declspec(dllimport)
#  endif
#elif defined(__GNUC__)
#  define SPLUT_DATA_API __attribute__((visibility("default")))
#else
#  define SPLUT_DATA_API
#endif
/** @endcond */

/**
 * @defgroup data Dataset loaders (libsparselut-data)
 * @{
 */

/** Flags of ::splut_data_opts. */
typedef enum splut_data_flags {
    /** CSV: standardise every feature with the train mean and population std (std 0 → 1) */
    SPLUT_DATA_STANDARDIZE = 1,
    /** @c split was chosen by the caller: a CSV with a separate test file is then refused */
    SPLUT_DATA_SPLIT_SET = 2
} splut_data_flags;

/** Default limit of one decompressed or read file: 4 GiB. */
#define SPLUT_DATA_MAX_BYTES ((uint64_t)1 << 32)

/**
 * Loader options (size-versioned: start from SPLUT_DATA_OPTS_INIT). A larger
 * struct from newer headers is accepted when its unknown tail is zero.
 */
typedef struct splut_data_opts {
    size_t size;        /**< sizeof(splut_data_opts) */
    const char *label;  /**< CSV label column: header name, else 0-based index; NULL = last */
    double split;       /**< test fraction of a seeded split, in (0, 1); default 0.2 */
    uint64_t seed;      /**< seed of the split permutation, ≤ 2^32−1; default 42 */
    uint32_t flags;     /**< ::splut_data_flags */
    uint32_t reserved;  /**< must be 0 */
    uint64_t max_bytes; /**< largest file (after decompression) to accept; 0 = default */
} splut_data_opts;
/** Initialiser for ::splut_data_opts: last column as label, split 0.2, seed 42. */
#define SPLUT_DATA_OPTS_INIT {sizeof(splut_data_opts), NULL, 0.2, 42, 0, 0, 0}

/**
 * @brief Load the dataset named by a spec string, as `sparselut --data` takes it:
 * `mnist:DIR`, `fashion:DIR`, `idx:DIR`, `csv:TRAIN[,TEST]`, `jsc:FILE` or `unsw:FILE`.
 * @param ctx context (the datasets keep a reference)
 * @param spec the spec string
 * @param opts options, NULL for the defaults
 * @param[out] train the training set (refcount 1)
 * @param[out] test the test set (refcount 1)
 * @returns SPLUT_OK, SPLUT_E_NULL, SPLUT_E_INVALID (bad spec or option), SPLUT_E_STRUCT_SIZE,
 *          SPLUT_E_IO (cannot open or read, not a regular file, too large), SPLUT_E_FORMAT
 *          (malformed content), SPLUT_E_LABEL, SPLUT_E_NOMEM; on failure both outputs are NULL
 */
SPLUT_DATA_API splut_status splut_data_load(splut_ctx *ctx, const char *spec,
                                            const splut_data_opts *opts, splut_dataset **train,
                                            splut_dataset **test);

/**
 * @brief Load an IDX directory (MNIST, Fashion-MNIST): `train-images-idx3-ubyte`,
 * `train-labels-idx1-ubyte`, `t10k-images-idx3-ubyte`, `t10k-labels-idx1-ubyte`,
 * each raw or with `.gz` appended. Pixels become (v/255 − 0.1307)/0.3081 in float;
 * both datasets get the image shape and the background value of pixel 0.
 * @param ctx context
 * @param dir the directory
 * @param opts options (only @c max_bytes is used), NULL for the defaults
 * @param[out] train training set
 * @param[out] test test set
 * @returns as splut_data_load()
 */
SPLUT_DATA_API splut_status splut_data_load_idx(splut_ctx *ctx, const char *dir,
                                                const splut_data_opts *opts,
                                                splut_dataset **train, splut_dataset **test);

/**
 * @brief Load a CSV table: a header row, numeric cells, integer labels in [0, 65535].
 * Without @p test_path the rows are split like sklearn
 * `train_test_split(test_size=split, random_state=seed)`.
 * @param ctx context
 * @param train_path the training (or only) file
 * @param test_path the test file, or NULL for a seeded split
 * @param opts label column, split, seed, SPLUT_DATA_STANDARDIZE; NULL for the defaults
 * @param[out] train training set
 * @param[out] test test set
 * @returns as splut_data_load()
 */
SPLUT_DATA_API splut_status splut_data_load_csv(splut_ctx *ctx, const char *train_path,
                                                const char *test_path,
                                                const splut_data_opts *opts,
                                                splut_dataset **train, splut_dataset **test);

/**
 * @brief Load the JSC OpenML CSV layout: the 16 named features (any column order)
 * and `class` (g,q,w,z,t → 0..4); duplicate rows dropped, seeded split, features
 * standardised with train statistics.
 * @param ctx context
 * @param path the file
 * @param opts split and seed; NULL for the defaults
 * @param[out] train training set
 * @param[out] test test set
 * @returns as splut_data_load()
 */
SPLUT_DATA_API splut_status splut_data_load_jsc(splut_ctx *ctx, const char *path,
                                                const splut_data_opts *opts,
                                                splut_dataset **train, splut_dataset **test);

/**
 * @brief Load a UNSW-NB15 partition CSV (plain, `.gz`, or the first `.csv` member of a
 * `.zip`): columns `id`, `attack_cat` dropped, `proto`, `service`, `state` integer-coded
 * in sorted order, every other column scaled, rounded and written as its binary digits
 * (the FINN/LogicNets NID binarisation, docs/datasets.md); each feature is 0.0 or 1.0.
 * Label = column `label`. Rows are split with the seeded permutation.
 * @param ctx context
 * @param path the file
 * @param opts split and seed; NULL for the defaults
 * @param[out] train training set
 * @param[out] test test set
 * @returns as splut_data_load()
 */
SPLUT_DATA_API splut_status splut_data_load_unsw(splut_ctx *ctx, const char *path,
                                                 const splut_data_opts *opts,
                                                 splut_dataset **train, splut_dataset **test);

/**
 * @brief Parse CSV text in memory into one dataset of all its rows (no split, no
 * standardisation). A UTF-8 byte-order mark is skipped; LF, CRLF and CR end lines.
 * @param ctx context
 * @param text the bytes (need not be NUL-terminated; a NUL byte is an error)
 * @param len their count
 * @param name file name used in messages
 * @param opts the label column (flags must be 0); NULL for the defaults
 * @param[out] out the dataset
 * @returns SPLUT_OK, SPLUT_E_NULL, SPLUT_E_FORMAT, SPLUT_E_LABEL, SPLUT_E_INVALID, SPLUT_E_NOMEM
 */
SPLUT_DATA_API splut_status splut_data_parse_csv(splut_ctx *ctx, const void *text, size_t len,
                                                 const char *name, const splut_data_opts *opts,
                                                 splut_dataset **out);

/**
 * @brief Parse an IDX image file and its label file in memory into one dataset
 * (normalised as splut_data_load_idx(), with the image shape set).
 * @param ctx context
 * @param images the image file's bytes (magic 0x00000803)
 * @param images_len their count
 * @param labels the label file's bytes (magic 0x00000801)
 * @param labels_len their count
 * @param name name used in messages
 * @param[out] out the dataset
 * @returns SPLUT_OK, SPLUT_E_NULL, SPLUT_E_FORMAT, SPLUT_E_NOMEM
 */
SPLUT_DATA_API splut_status splut_data_parse_idx(splut_ctx *ctx, const void *images,
                                                 size_t images_len, const void *labels,
                                                 size_t labels_len, const char *name,
                                                 splut_dataset **out);

/**
 * @brief Parse JSC text in memory (see splut_data_load_jsc()).
 * @param ctx context
 * @param text the bytes
 * @param len their count
 * @param name file name used in messages
 * @param opts split and seed; NULL for the defaults
 * @param[out] train training set
 * @param[out] test test set
 * @returns as splut_data_parse_csv()
 */
SPLUT_DATA_API splut_status splut_data_parse_jsc(splut_ctx *ctx, const void *text, size_t len,
                                                 const char *name, const splut_data_opts *opts,
                                                 splut_dataset **train, splut_dataset **test);

/**
 * @brief Parse UNSW-NB15 CSV text in memory (see splut_data_load_unsw()).
 * @param ctx context
 * @param text the bytes
 * @param len their count
 * @param name file name used in messages
 * @param opts split and seed; NULL for the defaults
 * @param[out] train training set
 * @param[out] test test set
 * @returns as splut_data_parse_csv()
 */
SPLUT_DATA_API splut_status splut_data_parse_unsw(splut_ctx *ctx, const void *text, size_t len,
                                                  const char *name, const splut_data_opts *opts,
                                                  splut_dataset **train, splut_dataset **test);

/**
 * @brief Read a whole regular file; a gzip file (magic 1f 8b) is decompressed and
 * checked (CRC, declared size). The buffer gets a terminating NUL that @p len does
 * not count; release it with splut_data_free().
 * @param ctx context
 * @param path the file
 * @param max_bytes largest accepted size after decompression; 0 = SPLUT_DATA_MAX_BYTES
 * @param[out] buf the contents
 * @param[out] len their length
 * @returns SPLUT_OK, SPLUT_E_NULL, SPLUT_E_IO, SPLUT_E_FORMAT (corrupt gzip), SPLUT_E_NOMEM
 */
SPLUT_DATA_API splut_status splut_data_read_file(splut_ctx *ctx, const char *path,
                                                 uint64_t max_bytes, void **buf, size_t *len);

/**
 * @brief Free a buffer from splut_data_read_file() (C library allocator).
 * @param buf the buffer; NULL is a no-op
 */
SPLUT_DATA_API void splut_data_free(void *buf);

/**
 * @brief Whether this build reads `.gz` and `.zip` files (linked with zlib).
 * @returns 1 with zlib, 0 without (such files are then refused with SPLUT_E_IO)
 */
SPLUT_DATA_API int splut_data_has_zlib(void);
/** @} */

#ifdef __cplusplus
}
#endif

#endif /* SPARSELUT_DATA_H */
