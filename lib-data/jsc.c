/*
 * JSC (jet substructure, OpenML CSV layout): the 16 features of MODELS.md §7.2
 * and the class letter; duplicates dropped as pandas drop_duplicates does,
 * seeded 80/20 split, standardised with train statistics.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include <stdlib.h>
#include <string.h>

#include "data-priv.h"

#define JSC_FEATURES 16

static const char *const jsc_features[JSC_FEATURES] = {
    "j_zlogz",        "j_c1_b0_mmdt",   "j_c1_b1_mmdt", "j_c1_b2_mmdt", "j_c2_b1_mmdt",
    "j_c2_b2_mmdt",   "j_d2_b1_mmdt",   "j_d2_b2_mmdt", "j_d2_a1_b1_mmdt",
    "j_d2_a1_b2_mmdt", "j_m2_b1_mmdt",  "j_m2_b2_mmdt", "j_n2_b1_mmdt", "j_n2_b2_mmdt",
    "j_mass_mmdt",    "j_multiplicity"};
/* Class order of the reference one-hot columns j_g, j_q, j_w, j_z, j_t. */
static const char jsc_classes[5] = {'g', 'q', 'w', 'z', 't'};

static int jsc_class(const char *s)
{
    if (s[0] && !s[1])
        for (int k = 0; k < 5; k++)
            if (s[0] == jsc_classes[k])
                return k;
    return -1;
}

static uint64_t hash_row(const double *v, size_t w)
{
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < w; i++) {
        double d = v[i] == 0 ? 0.0 : v[i]; /* -0 and 0 are duplicates (pandas compares values) */
        uint64_t b;
        memcpy(&b, &d, sizeof b);
        h = (h ^ b) * 1099511628211ull;
        h ^= h >> 29;
    }
    return h;
}

static int rows_equal(const double *a, const double *b, size_t w)
{
    for (size_t i = 0; i < w; i++)
        if (a[i] != b[i])
            return 0;
    return 1;
}

/* Keep the first occurrence of every distinct row, in order (pandas drop_duplicates). */
static int drop_duplicates(sd_rows *rs)
{
    size_t cap = 16;
    while (cap < rs->n * 2)
        cap <<= 1;
    size_t *slot = malloc(cap * sizeof *slot);
    if (!slot)
        return -1;
    for (size_t i = 0; i < cap; i++)
        slot[i] = SIZE_MAX;
    size_t kept = 0;
    for (size_t i = 0; i < rs->n; i++) {
        const double *row = rs->v + i * rs->width;
        size_t h = (size_t)hash_row(row, rs->width) & (cap - 1);
        int dup = 0;
        while (slot[h] != SIZE_MAX) {
            if (rows_equal(rs->v + slot[h] * rs->width, row, rs->width)) {
                dup = 1;
                break;
            }
            h = (h + 1) & (cap - 1);
        }
        if (dup)
            continue;
        if (kept != i)
            memmove(rs->v + kept * rs->width, row, rs->width * sizeof *row);
        slot[h] = kept++;
    }
    rs->n = kept;
    free(slot);
    return 0;
}

static splut_status jsc_columns(const sd_csv *r, const sd_header *h, size_t *cols)
{
    for (int f = 0; f < JSC_FEATURES; f++) {
        int c = sd_find_column(h, jsc_features[f]);
        if (c < 0)
            return sd_fail(r->ctx, SPLUT_E_FORMAT, "%s:1: JSC column '%s' missing from the header",
                           r->name, jsc_features[f]);
        cols[f] = (size_t)c;
    }
    int c = sd_find_column(h, "class");
    if (c < 0)
        return sd_fail(r->ctx, SPLUT_E_FORMAT, "%s:1: JSC column 'class' missing from the header",
                       r->name);
    cols[JSC_FEATURES] = (size_t)c;
    return SPLUT_OK;
}

static splut_status jsc_read_rows(sd_csv *r, const sd_header *h, const size_t *cols,
                                  sd_rows *rs)
{
    double row[JSC_FEATURES + 1];
    for (;;) {
        int more = sd_csv_next(r);
        if (more <= 0)
            return (splut_status)more;
        splut_status st = sd_check_width(r, h);
        for (int f = 0; f < JSC_FEATURES && !st; f++)
            st = sd_cell_number(r, &r->cells[cols[f]], jsc_features[f], &row[f]);
        if (st)
            return st;
        const sd_cell *c = &r->cells[cols[JSC_FEATURES]];
        int k = jsc_class(c->text);
        if (k < 0)
            return sd_fail(r->ctx, SPLUT_E_FORMAT,
                           "%s:%zu:%zu: class '%.40s' is not one of g,q,w,z,t", r->name,
                           r->line, c->col, c->text);
        row[JSC_FEATURES] = k;
        if (sd_rows_push(rs, row))
            return sd_fail(r->ctx, SPLUT_E_NOMEM, "%s:%zu: out of memory", r->name, r->line);
    }
}

/* All distinct rows of the file as a table. */
static splut_status jsc_table(splut_ctx *ctx, const char *text, size_t len, const char *name,
                              sd_table *all, uint32_t *features)
{
    *features = JSC_FEATURES;
    sd_csv r;
    sd_header h = {0};
    sd_rows rs = {.width = JSC_FEATURES + 1};
    size_t cols[JSC_FEATURES + 1];
    splut_status st = sd_csv_init(&r, ctx, text, len, name);
    if (!st)
        st = sd_read_header(&r, &h);
    if (!st)
        st = jsc_columns(&r, &h, cols);
    if (!st)
        st = jsc_read_rows(&r, &h, cols, &rs);
    if (!st && rs.n == 0)
        st = sd_fail(ctx, SPLUT_E_FORMAT, "%s: no data rows after the header", r.name);
    if (!st && drop_duplicates(&rs))
        st = sd_fail(ctx, SPLUT_E_NOMEM, "%s: out of memory", r.name);
    if (!st)
        st = sd_table_alloc(ctx, all, rs.n, JSC_FEATURES);
    for (size_t i = 0; !st && i < rs.n; i++) {
        for (int f = 0; f < JSC_FEATURES; f++)
            all->x[i * JSC_FEATURES + f] = (float)rs.v[i * (JSC_FEATURES + 1) + f];
        all->y[i] = (int32_t)rs.v[i * (JSC_FEATURES + 1) + JSC_FEATURES];
    }
    free(rs.v);
    sd_header_free(&h);
    sd_csv_free(&r);
    return st;
}

static const sd_format jsc_format = {"JSC", jsc_table, 1};

splut_status splut_data_parse_jsc(splut_ctx *ctx, const void *text, size_t len,
                                  const char *name, const splut_data_opts *opts,
                                  splut_dataset **train, splut_dataset **test)
{
    return sd_parse_split(ctx, &jsc_format, text, len, name, opts, train, test);
}

splut_status splut_data_load_jsc(splut_ctx *ctx, const char *path, const splut_data_opts *opts,
                                 splut_dataset **train, splut_dataset **test)
{
    return sd_load_split(ctx, &jsc_format, path, opts, train, test);
}
