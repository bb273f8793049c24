/*
 * Tables, the seeded train/test split (numpy's legacy permutation, sklearn's
 * train_test_split), standardisation, options and the datasets handed out.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "data-priv.h"

splut_status sd_opts(splut_ctx *ctx, const splut_data_opts *in, splut_data_opts *out)
{
    const splut_data_opts dflt = SPLUT_DATA_OPTS_INIT;
    *out = dflt;
    out->max_bytes = SPLUT_DATA_MAX_BYTES;
    if (!in)
        return SPLUT_OK;
    if (in->size < sizeof *in)
        return sd_fail(ctx, SPLUT_E_STRUCT_SIZE, "splut_data_opts: size %zu, expected %zu",
                       in->size, sizeof *in);
    /* A newer, larger struct is fine when everything this version does not know is 0. */
    for (size_t i = sizeof *in; i < in->size; i++)
        if (((const unsigned char *)in)[i])
            return sd_fail(ctx, SPLUT_E_STRUCT_SIZE,
                           "splut_data_opts: unknown field set at byte %zu", i);
    *out = *in;
    out->size = sizeof *out;
    if (out->reserved || (out->flags & ~(uint32_t)(SPLUT_DATA_STANDARDIZE |
                                                   SPLUT_DATA_SPLIT_SET)))
        return sd_fail(ctx, SPLUT_E_INVALID, "splut_data_opts: reserved field or unknown flag set");
    if (!(out->split > 0 && out->split < 1))
        return sd_fail(ctx, SPLUT_E_INVALID, "test fraction %g outside (0, 1)", out->split);
    if (out->seed > UINT32_MAX)
        return sd_fail(ctx, SPLUT_E_INVALID, "split seed %llu too large (max 4294967295)",
                       (unsigned long long)out->seed);
    if (!out->max_bytes)
        out->max_bytes = SPLUT_DATA_MAX_BYTES;
    return SPLUT_OK;
}

splut_status sd_only_opts(splut_ctx *ctx, const splut_data_opts *o, const char *kind,
                          uint32_t allowed)
{
    if (o->label)
        return sd_fail(ctx, SPLUT_E_INVALID, "%s data has no label column to choose ('%s')",
                       kind, o->label);
    uint32_t bad = o->flags & ~allowed;
    if (bad & SPLUT_DATA_STANDARDIZE)
        return sd_fail(ctx, SPLUT_E_INVALID, "%s data cannot be standardised: %s", kind,
                       allowed & SPLUT_DATA_SPLIT_SET ? "its features are binary"
                                                      : "pixels have a fixed normalisation");
    if (bad & SPLUT_DATA_SPLIT_SET)
        return sd_fail(ctx, SPLUT_E_INVALID, "%s data has its own test set: no split fraction",
                       kind);
    return SPLUT_OK;
}

void sd_table_free(sd_table *t)
{
    free(t->x);
    free(t->y);
    memset(t, 0, sizeof *t);
}

splut_status sd_table_alloc(splut_ctx *ctx, sd_table *t, size_t n, uint32_t features)
{
    memset(t, 0, sizeof *t);
    size_t rows = n ? n : 1;
    if (features && rows > SIZE_MAX / sizeof(float) / features)
        return sd_fail(ctx, SPLUT_E_NOMEM, "table of %zu x %u floats is too large", n, features);
    t->x = malloc(rows * features * sizeof *t->x);
    t->y = malloc(rows * sizeof *t->y);
    if (!t->x || !t->y) {
        sd_table_free(t);
        return sd_fail(ctx, SPLUT_E_NOMEM, "out of memory for %zu rows of %u features", n,
                       features);
    }
    t->n = n;
    return SPLUT_OK;
}

/* ---- numpy's legacy RandomState permutation ------------------------------- */

/* MT19937 as numpy's legacy RandomState (seeded by init_genrand). */
typedef struct mt19937 {
    uint32_t mt[624];
    int pos;
} mt19937;

static void mt_seed(mt19937 *s, uint32_t seed)
{
    s->mt[0] = seed;
    for (uint32_t i = 1; i < 624; i++)
        s->mt[i] = 1812433253u * (s->mt[i - 1] ^ (s->mt[i - 1] >> 30)) + i;
    s->pos = 624;
}

static uint32_t mt_next(mt19937 *s)
{
    if (s->pos >= 624) {
        for (int i = 0; i < 624; i++) {
            uint32_t y = (s->mt[i] & 0x80000000u) | (s->mt[(i + 1) % 624] & 0x7fffffffu);
            s->mt[i] = s->mt[(i + 397) % 624] ^ (y >> 1) ^ ((y & 1u) ? 0x9908b0dfu : 0u);
        }
        s->pos = 0;
    }
    uint32_t y = s->mt[s->pos++];
    y ^= y >> 11;
    y ^= (y << 7) & 0x9d2c5680u;
    y ^= (y << 15) & 0xefc60000u;
    y ^= y >> 18;
    return y;
}

/* Uniform integer in [0, max] by masked rejection (numpy random_interval). */
static uint64_t mt_interval(mt19937 *s, uint64_t max)
{
    if (max == 0)
        return 0;
    uint64_t mask = max;
    for (unsigned sh = 1; sh < 64; sh <<= 1)
        mask |= mask >> sh;
    uint64_t v;
    if (max <= 0xffffffffu) {
        do
            v = mt_next(s) & mask;
        while (v > max);
    } else {
        do
            v = (((uint64_t)mt_next(s) << 32) | mt_next(s)) & mask;
        while (v > max);
    }
    return v;
}

size_t *sd_permutation(size_t n, uint32_t seed)
{
    size_t *p = malloc((n ? n : 1) * sizeof *p);
    mt19937 *s = malloc(sizeof *s);
    if (!p || !s) {
        free(p);
        free(s);
        return NULL;
    }
    mt_seed(s, seed);
    for (size_t i = 0; i < n; i++)
        p[i] = i;
    for (size_t i = n; i-- > 1;) {
        size_t j = (size_t)mt_interval(s, i);
        size_t t = p[i];
        p[i] = p[j];
        p[j] = t;
    }
    free(s);
    return p;
}

static splut_status take_rows(splut_ctx *ctx, const sd_table *all, uint32_t features,
                              const size_t *idx, size_t n, sd_table *dst)
{
    splut_status st = sd_table_alloc(ctx, dst, n, features);
    if (st)
        return st;
    for (size_t i = 0; i < n; i++) {
        memcpy(dst->x + i * features, all->x + idx[i] * features, features * sizeof *dst->x);
        dst->y[i] = all->y[idx[i]];
    }
    return SPLUT_OK;
}

splut_status sd_split(splut_ctx *ctx, sd_table *all, uint32_t features, double frac,
                      uint32_t seed, sd_table *train, sd_table *test)
{
    memset(train, 0, sizeof *train);
    memset(test, 0, sizeof *test);
    size_t n = all->n;
    size_t ntest = (size_t)ceil(frac * (double)n);
    size_t *perm = NULL;
    splut_status st = SPLUT_OK;
    if (ntest < 1 || ntest >= n)
        st = sd_fail(ctx, SPLUT_E_INVALID,
                     "split %g of %zu rows leaves an empty train or test set", frac, n);
    else if (!(perm = sd_permutation(n, seed)))
        st = sd_fail(ctx, SPLUT_E_NOMEM, "out of memory splitting %zu rows", n);
    if (!st)
        st = take_rows(ctx, all, features, perm, ntest, test);
    if (!st)
        st = take_rows(ctx, all, features, perm + ntest, n - ntest, train);
    if (st)
        sd_table_free(test);
    free(perm);
    sd_table_free(all);
    return st;
}

/* A dataset of @p t: a copy, or standardised with @p mean / @p sd (NULL: no). */
static splut_status table_dataset(splut_ctx *ctx, const sd_table *t, uint32_t features,
                                  const double *mean, const double *sd, splut_dataset **out)
{
    if (!mean)
        return splut_dataset_create(ctx, t->n, features, t->x, t->y, SPLUT_DATASET_COPY, out);
    splut_dataset *view = NULL;
    splut_status st =
        splut_dataset_create(ctx, t->n, features, t->x, t->y, SPLUT_DATASET_BORROW, &view);
    if (!st)
        st = splut_dataset_standardize(view, mean, sd, out);
    splut_dataset_destroy(view);
    return st;
}

/* Train statistics of the core library (splut_dataset_feature_stats()). */
static splut_status train_stats(splut_ctx *ctx, const sd_table *train, uint32_t features,
                                double *mean, double *sd)
{
    splut_dataset *view = NULL;
    splut_status st = splut_dataset_create(ctx, train->n, features, train->x, train->y,
                                           SPLUT_DATASET_BORROW, &view);
    if (!st)
        st = splut_dataset_feature_stats(view, mean, sd);
    splut_dataset_destroy(view);
    return st;
}

splut_status sd_make_pair(splut_ctx *ctx, const sd_table *train, const sd_table *test,
                          uint32_t features, bool standardize, splut_dataset **dtrain,
                          splut_dataset **dtest)
{
    *dtrain = *dtest = NULL;
    double *mean = NULL, *sd = NULL;
    splut_status st = SPLUT_OK;
    if (standardize) {
        mean = malloc(features * sizeof *mean);
        sd = malloc(features * sizeof *sd);
        st = mean && sd ? train_stats(ctx, train, features, mean, sd)
                        : sd_fail(ctx, SPLUT_E_NOMEM, "out of memory standardising");
    }
    if (!st)
        st = table_dataset(ctx, train, features, mean, sd, dtrain);
    if (!st)
        st = table_dataset(ctx, test, features, mean, sd, dtest);
    if (st) {
        splut_dataset_destroy(*dtrain);
        *dtrain = NULL;
    }
    free(mean);
    free(sd);
    return st;
}
