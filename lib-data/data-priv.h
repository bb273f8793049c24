/*
 * Internals of libsparselut-data: messages, files, the CSV tokenizer, row
 * storage, the seeded split and the construction of datasets.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#ifndef SPLUT_DATA_PRIV_H
#define SPLUT_DATA_PRIV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sparselut/sparselut-data.h"

#if defined(__GNUC__)
#  define SD_PRINTF(a, b) __attribute__((format(printf, a, b)))
#else
#  define SD_PRINTF(a, b)
#endif

/* Record a formatted failure on @p ctx (splut_ctx_set_error); returns @p st. */
splut_status sd_fail(splut_ctx *ctx, splut_status st, const char *fmt, ...) SD_PRINTF(3, 4);

/* Options checked and completed with the defaults (NULL → SPLUT_DATA_OPTS_INIT). */
splut_status sd_opts(splut_ctx *ctx, const splut_data_opts *in, splut_data_opts *out);

/* SPLUT_E_INVALID when @p o sets a label or a flag outside @p allowed for data of @p kind. */
splut_status sd_only_opts(splut_ctx *ctx, const splut_data_opts *o, const char *kind,
                          uint32_t allowed);

/* ---- files (file.c) ---- */

/* A regular file opened for sequential reading, gunzipped when it starts with 1f 8b. */
typedef struct sd_file sd_file;

/* Open @p path without blocking; refuse anything but a regular file. */
splut_status sd_open(splut_ctx *ctx, const char *path, sd_file **out);
/* Up to @p want bytes into @p dst; *got < want only at the end of the data. */
splut_status sd_read(sd_file *f, void *dst, size_t want, size_t *got);
/* Bytes the file declares it holds after decompression (st_size, or the gzip
 * trailer's ISIZE, which is the size modulo 2^32). */
uint64_t sd_declared(const sd_file *f);
int sd_is_gzip(const sd_file *f);
void sd_close(sd_file *f);

/* Whole file (raw, gzip, or the first .csv member of a zip) plus a NUL, at most
 * @p max bytes; free() the result. */
splut_status sd_read_all(splut_ctx *ctx, const char *path, uint64_t max, uint8_t **buf,
                         size_t *len);
/* A text file: as sd_read_all(), refusing NUL bytes. */
splut_status sd_read_text(splut_ctx *ctx, const char *path, uint64_t max, char **text,
                          size_t *len);

/* ---- CSV tokenizer (csv.c) ---- */

typedef struct sd_cell {
    char *text; /* NUL-terminated, unquoted, trimmed */
    size_t col; /* 1-based byte column of the cell start */
} sd_cell;

typedef struct sd_csv {
    splut_ctx *ctx;
    const char *p, *end;
    const char *name;
    size_t line; /* line number of the row last read */
    sd_cell *cells;
    size_t ncells, cap_cells;
    char *store; /* backing text of the cells */
    size_t store_cap;
} sd_csv;

/* Header: names of all columns (copied). */
typedef struct sd_header {
    char **names;
    size_t n;
} sd_header;

/* Growable rows of doubles. */
typedef struct sd_rows {
    double *v;
    size_t n, cap, width;
} sd_rows;

/* Start reading @p len bytes (a UTF-8 byte-order mark is skipped); NUL bytes are refused. */
splut_status sd_csv_init(sd_csv *r, splut_ctx *ctx, const char *text, size_t len,
                         const char *name);
void sd_csv_free(sd_csv *r);
/* Next non-blank line into r->cells: 1 for a row, 0 at the end, <0 a status. */
int sd_csv_next(sd_csv *r);
splut_status sd_read_header(sd_csv *r, sd_header *h);
void sd_header_free(sd_header *h);
int sd_find_column(const sd_header *h, const char *name);
/* A finite number that fits a float; messages name file:line:column and the column. */
splut_status sd_cell_number(const sd_csv *r, const sd_cell *c, const char *colname, double *v);
/* "ragged row" unless the row has the header's column count. */
splut_status sd_check_width(const sd_csv *r, const sd_header *h);
splut_status sd_rows_push(sd_rows *rs, const double *row);

/* ---- tables (csv.c, split.c) ---- */

/* A table being built: n rows of features floats and labels (malloc'ed). */
typedef struct sd_table {
    float *x;
    int32_t *y;
    size_t n;
} sd_table;

/* The whole CSV text as one table; @p features gets the feature count. */
splut_status sd_csv_table(splut_ctx *ctx, const char *text, size_t len, const char *name,
                          const char *label, sd_table *out, uint32_t *features);

/* ---- datasets, split, standardisation (split.c) ---- */

void sd_table_free(sd_table *t);
splut_status sd_table_alloc(splut_ctx *ctx, sd_table *t, size_t n, uint32_t features);
/* Permutation of 0..n-1 as numpy's legacy RandomState(seed).permutation(n). */
size_t *sd_permutation(size_t n, uint32_t seed);
/* sklearn train_test_split(test_size=frac, random_state=seed); @p all is freed. */
splut_status sd_split(splut_ctx *ctx, sd_table *all, uint32_t features, double frac,
                      uint32_t seed, sd_table *train, sd_table *test);
/* Datasets (copies) of both tables, standardised with the train mean and
 * population std (splut_dataset_feature_stats()) when asked; on failure both
 * outputs are NULL. */
splut_status sd_make_pair(splut_ctx *ctx, const sd_table *train, const sd_table *test,
                          uint32_t features, bool standardize, splut_dataset **dtrain,
                          splut_dataset **dtest);

/* ---- one-file formats with a seeded split (load.c) ---- */

/* All rows of a text file of some format as one table. */
typedef splut_status (*sd_table_fn)(splut_ctx *ctx, const char *text, size_t len,
                                    const char *name, sd_table *all, uint32_t *features);

typedef struct sd_format {
    const char *kind;   /* name in messages: "JSC" */
    sd_table_fn table;  /* the parser */
    int standardize;    /* standardise with train statistics after the split */
} sd_format;

/* Parse, split with the options' seed and fraction, (standardise), make datasets. */
splut_status sd_parse_split(splut_ctx *ctx, const sd_format *fmt, const void *text, size_t len,
                            const char *name, const splut_data_opts *opts,
                            splut_dataset **train, splut_dataset **test);
/* The same from a file (raw, .gz or .zip). */
splut_status sd_load_split(splut_ctx *ctx, const sd_format *fmt, const char *path,
                           const splut_data_opts *opts, splut_dataset **train,
                           splut_dataset **test);

#endif /* SPLUT_DATA_PRIV_H */
