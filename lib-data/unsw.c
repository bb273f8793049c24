/*
 * UNSW-NB15 partition CSV → binary features, as the FINN / LogicNets NID
 * preprocessing describes it (docs/datasets.md): drop `id` and `attack_cat`;
 * code `proto`, `service`, `state` by their rank among the sorted distinct
 * strings; for every feature column, when its smallest positive value m is
 * below 1 multiply the column by 1/m; give it ceil(log2(max + 1)) bits; clip
 * to [0, 2^32 − 1], round halves up and write the bits most significant first.
 * Ranges come from the file being read (the reference took them from both
 * official partitions together), so the feature count differs from its 593.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "data-priv.h"

/* Distinct strings a categorical column may have (the partitions have at most 133). */
#define MAX_CATEGORIES 4096

/* Distinct strings of one categorical column, in order of first appearance. */
typedef struct strings {
    char **s;
    size_t n, cap;
} strings;

/* The layout: what each column is. */
enum col_role { ROLE_NUMBER, ROLE_CATEGORY, ROLE_LABEL, ROLE_DROP };

typedef struct unsw {
    sd_csv r;
    sd_header h;
    int *role;        /* per column */
    strings *cats;    /* per column (used by ROLE_CATEGORY) */
    sd_rows rows;     /* one double per column: numbers, category ids, the label */
    uint32_t *bits;   /* per column: binary digits of a feature column */
    double *scale;    /* per column: 1/m, or 1 */
    uint32_t features;
} unsw;

static void unsw_free(unsw *u)
{
    for (size_t c = 0; u->cats && c < u->h.n; c++) {
        for (size_t i = 0; i < u->cats[c].n; i++)
            free(u->cats[c].s[i]);
        free(u->cats[c].s);
    }
    free(u->cats);
    free(u->role);
    free(u->bits);
    free(u->scale);
    free(u->rows.v);
    sd_header_free(&u->h);
    sd_csv_free(&u->r);
}

static const char *const categorical[] = {"proto", "service", "state"};
static const char *const dropped[] = {"id", "attack_cat"};

static int named(const char *name, const char *const *list, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(name, list[i]) == 0)
            return 1;
    return 0;
}

static splut_status layout(unsw *u)
{
    sd_header *h = &u->h;
    const char *need[] = {"id", "proto", "service", "state", "attack_cat", "label"};
    for (size_t i = 0; i < sizeof need / sizeof *need; i++)
        if (sd_find_column(h, need[i]) < 0)
            return sd_fail(u->r.ctx, SPLUT_E_FORMAT,
                           "%s:1: UNSW-NB15 column '%s' missing from the header", u->r.name,
                           need[i]);
    u->role = calloc(h->n, sizeof *u->role);
    u->cats = calloc(h->n, sizeof *u->cats);
    u->bits = calloc(h->n, sizeof *u->bits);
    u->scale = calloc(h->n, sizeof *u->scale);
    if (!u->role || !u->cats || !u->bits || !u->scale)
        return sd_fail(u->r.ctx, SPLUT_E_NOMEM, "%s: out of memory", u->r.name);
    for (size_t c = 0; c < h->n; c++)
        u->role[c] = strcmp(h->names[c], "label") == 0 ? ROLE_LABEL
                     : named(h->names[c], dropped, 2)     ? ROLE_DROP
                     : named(h->names[c], categorical, 3) ? ROLE_CATEGORY
                                                          : ROLE_NUMBER;
    u->rows.width = h->n;
    return SPLUT_OK;
}

/* Id of @p text in the column's strings, adding it when new; -1 out of memory,
 * -2 too many distinct strings. */
static double category_id(strings *s, const char *text)
{
    for (size_t i = 0; i < s->n; i++)
        if (strcmp(s->s[i], text) == 0)
            return (double)i;
    if (s->n == MAX_CATEGORIES)
        return -2;
    if (s->n == s->cap) {
        size_t nc = s->cap ? 2 * s->cap : 16;
        char **p = realloc(s->s, nc * sizeof *p);
        if (!p)
            return -1;
        s->s = p;
        s->cap = nc;
    }
    char *copy = malloc(strlen(text) + 1);
    if (!copy)
        return -1;
    strcpy(copy, text);
    s->s[s->n] = copy;
    return (double)s->n++;
}

static splut_status row_cell(unsw *u, size_t c, double *v)
{
    const sd_cell *cell = &u->r.cells[c];
    const char *name = u->h.names[c];
    switch (u->role[c]) {
    case ROLE_DROP:
        *v = 0;
        return SPLUT_OK;
    case ROLE_CATEGORY:
        *v = category_id(&u->cats[c], cell->text);
        if (*v == -2)
            return sd_fail(u->r.ctx, SPLUT_E_FORMAT,
                           "%s:%zu:%zu: more than %d distinct values in column '%s'",
                           u->r.name, u->r.line, cell->col, MAX_CATEGORIES, name);
        return *v < 0 ? sd_fail(u->r.ctx, SPLUT_E_NOMEM, "%s: out of memory", u->r.name)
                      : SPLUT_OK;
    default:
        break;
    }
    splut_status st = sd_cell_number(&u->r, cell, name, v);
    if (!st && u->role[c] == ROLE_LABEL && !(*v == 0 || *v == 1))
        st = sd_fail(u->r.ctx, SPLUT_E_LABEL, "%s:%zu:%zu: label '%.40s' is not 0 or 1",
                     u->r.name, u->r.line, cell->col, cell->text);
    if (!st && u->role[c] == ROLE_NUMBER && *v < 0)
        st = sd_fail(u->r.ctx, SPLUT_E_FORMAT,
                     "%s:%zu:%zu: negative value '%.40s' in column '%s'", u->r.name, u->r.line,
                     cell->col, cell->text, name);
    return st;
}

static splut_status read_rows(unsw *u, double *row)
{
    for (;;) {
        int more = sd_csv_next(&u->r);
        if (more <= 0)
            return (splut_status)more;
        splut_status st = sd_check_width(&u->r, &u->h);
        for (size_t c = 0; c < u->h.n && !st; c++)
            st = row_cell(u, c, &row[c]);
        if (!st && sd_rows_push(&u->rows, row))
            st = sd_fail(u->r.ctx, SPLUT_E_NOMEM, "%s:%zu: out of memory", u->r.name,
                         u->r.line);
        if (st)
            return st;
    }
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Category ids (order of appearance) → rank in byte order (sklearn LabelEncoder). */
static splut_status rank_categories(unsw *u, size_t c)
{
    strings *s = &u->cats[c];
    char **sorted = malloc((s->n ? s->n : 1) * sizeof *sorted);
    double *rank = malloc((s->n ? s->n : 1) * sizeof *rank);
    if (!sorted || !rank) {
        free(sorted);
        free(rank);
        return sd_fail(u->r.ctx, SPLUT_E_NOMEM, "%s: out of memory", u->r.name);
    }
    memcpy(sorted, s->s, s->n * sizeof *sorted);
    qsort(sorted, s->n, sizeof *sorted, cmp_str);
    for (size_t i = 0; i < s->n; i++)
        for (size_t k = 0; k < s->n; k++)
            if (sorted[k] == s->s[i])
                rank[i] = (double)k;
    for (size_t i = 0; i < u->rows.n; i++) {
        double *v = &u->rows.v[i * u->rows.width + c];
        *v = rank[(size_t)*v];
    }
    free(sorted);
    free(rank);
    return SPLUT_OK;
}

/* Scale and bit count of one feature column. */
static void column_bits(unsw *u, size_t c)
{
    const sd_rows *rs = &u->rows;
    double m = INFINITY, top = 0;
    for (size_t i = 0; i < rs->n; i++) {
        double v = rs->v[i * rs->width + c];
        if (v > 0 && v < m)
            m = v;
    }
    u->scale[c] = m < 1 ? 1.0 / m : 1.0;
    for (size_t i = 0; i < rs->n; i++) {
        double v = rs->v[i * rs->width + c] * (m < 1 ? u->scale[c] : 1.0);
        top = v > top ? v : top;
    }
    double b = ceil(log2(top + 1.0));
    /* An all-zero column still gets one digit, as numpy's binary_repr(0) is "0". */
    u->bits[c] = b < 1 ? 1u : b > 64 ? 64u : (uint32_t)b;
}

/* Round like MATLAB's uint32 cast of the reference: halves up, clipped to uint32. */
static uint64_t quantise(double v)
{
    if (!(v > 0))
        return 0;
    if (v > 4294967295.0)
        v = 4294967295.0;
    double f = floor(v);
    return (uint64_t)(v - f < 0.5 ? f : ceil(v));
}

static splut_status binarise(unsw *u, sd_table *t)
{
    size_t n = u->rows.n, w = u->rows.width;
    u->features = 0;
    for (size_t c = 0; c < w; c++) {
        if (u->role[c] == ROLE_CATEGORY) {
            splut_status st = rank_categories(u, c);
            if (st)
                return st;
        }
        if (u->role[c] == ROLE_CATEGORY || u->role[c] == ROLE_NUMBER) {
            column_bits(u, c);
            u->features += u->bits[c];
        }
    }
    splut_status st = sd_table_alloc(u->r.ctx, t, n, u->features);
    for (size_t i = 0; !st && i < n; i++) {
        const double *row = u->rows.v + i * w;
        float *dst = t->x + i * u->features;
        for (size_t c = 0; c < w; c++) {
            if (u->role[c] == ROLE_LABEL)
                t->y[i] = (int32_t)row[c];
            if (u->role[c] != ROLE_CATEGORY && u->role[c] != ROLE_NUMBER)
                continue;
            double v = u->scale[c] != 1.0 ? row[c] * u->scale[c] : row[c];
            uint64_t q = quantise(v);
            for (uint32_t b = u->bits[c]; b-- > 0;)
                *dst++ = b < 64 && (q >> b) & 1u ? 1.0f : 0.0f;
        }
    }
    return st;
}

/* All rows of the file, binarised. */
static splut_status unsw_table(splut_ctx *ctx, const char *text, size_t len, const char *name,
                               sd_table *all, uint32_t *features)
{
    unsw u;
    memset(&u, 0, sizeof u);
    double *row = NULL;
    splut_status st = sd_csv_init(&u.r, ctx, text, len, name);
    if (!st)
        st = sd_read_header(&u.r, &u.h);
    if (!st)
        st = layout(&u);
    if (!st && !(row = malloc(u.h.n * sizeof *row)))
        st = sd_fail(ctx, SPLUT_E_NOMEM, "%s: out of memory", u.r.name);
    if (!st)
        st = read_rows(&u, row);
    if (!st && u.rows.n == 0)
        st = sd_fail(ctx, SPLUT_E_FORMAT, "%s: no data rows after the header", u.r.name);
    if (!st)
        st = binarise(&u, all);
    if (!st && u.features == 0)
        st = sd_fail(ctx, SPLUT_E_FORMAT, "%s: no feature columns", u.r.name);
    *features = u.features;
    free(row);
    unsw_free(&u);
    return st;
}

static const sd_format unsw_format = {"UNSW-NB15", unsw_table, 0};

splut_status splut_data_parse_unsw(splut_ctx *ctx, const void *text, size_t len,
                                   const char *name, const splut_data_opts *opts,
                                   splut_dataset **train, splut_dataset **test)
{
    return sd_parse_split(ctx, &unsw_format, text, len, name, opts, train, test);
}

splut_status splut_data_load_unsw(splut_ctx *ctx, const char *path,
                                  const splut_data_opts *opts, splut_dataset **train,
                                  splut_dataset **test)
{
    return sd_load_split(ctx, &unsw_format, path, opts, train, test);
}
