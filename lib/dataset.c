/*
 * Datasets: feature rows with labels, copied or borrowed, reference counted.
 *
 * A dataset is immutable once created (only its image shape can be declared
 * afterwards), so a run, a loader and the caller can share one without copies
 * and without locks; the refcount is atomic for the same reason.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include <math.h>
#include <stdatomic.h>
#include <string.h>

#include "core-priv.h"

struct splut_dataset {
    splut_ctx *ctx;
    atomic_int refcount;
    size_t n;
    uint32_t features, classes;
    const float *x;
    const int32_t *y;
    float *own_x; /* NULL when borrowed */
    int32_t *own_y;
    uint32_t width, height; /* 0 × 0: not an image */
    float background;
};

/* Finite features and non-negative labels; 1 + the largest label in @p classes. */
static splut_status check_rows(splut_ctx *ctx, size_t n, uint32_t features, const float *x,
                               const int32_t *y, uint32_t *classes)
{
    int32_t top = 0;
    for (size_t i = 0; i < n; i++) {
        if (y[i] < 0)
            return splut__fail(ctx, SPLUT_E_LABEL, "dataset row %zu: label %d is negative", i,
                               (int)y[i]);
        if (y[i] > top)
            top = y[i];
        const float *row = x + i * features;
        for (uint32_t j = 0; j < features; j++)
            if (!isfinite(row[j]))
                return splut__fail(ctx, SPLUT_E_NON_FINITE,
                                   "dataset row %zu, column %u: feature is not finite", i, j);
    }
    *classes = (uint32_t)top + 1;
    return SPLUT_OK;
}

/* The dataset's own arrays for its n × features rows. */
static splut_status alloc_rows(splut_dataset *ds)
{
    size_t nx = splut__mul(ds->n, ds->features), bx = splut__mul(nx, sizeof *ds->x);
    size_t by = splut__mul(ds->n, sizeof *ds->y);
    if (bx == SIZE_MAX || by == SIZE_MAX)
        return splut__fail(ds->ctx, SPLUT_E_NOMEM, "dataset of %zu x %u floats is too large",
                           ds->n, ds->features);
    ds->own_x = splut__alloc(ds->ctx, bx);
    ds->own_y = splut__alloc(ds->ctx, by);
    if (!ds->own_x || !ds->own_y)
        return splut__fail(ds->ctx, SPLUT_E_NOMEM, "out of memory for a dataset (%zu bytes)",
                           bx + by);
    ds->x = ds->own_x;
    ds->y = ds->own_y;
    return SPLUT_OK;
}

static splut_status copy_rows(splut_dataset *ds, const float *x, const int32_t *y)
{
    splut_status st = alloc_rows(ds);
    if (st)
        return st;
    memcpy(ds->own_x, x, ds->n * ds->features * sizeof *x);
    memcpy(ds->own_y, y, ds->n * sizeof *y);
    return SPLUT_OK;
}

static void free_dataset(splut_dataset *ds)
{
    splut_ctx *ctx = ds->ctx;
    splut__free(ctx, ds->own_x);
    splut__free(ctx, ds->own_y);
    splut__free(ctx, ds);
    splut_ctx_unref(ctx);
}

/* Checks shared by both constructors; the shell has no rows yet. */
static splut_status new_dataset(splut_ctx *ctx, size_t n, uint32_t features,
                                splut_dataset **out)
{
    *out = NULL;
    if (n == 0 || features == 0)
        return splut__fail(ctx, SPLUT_E_INVALID, "a dataset needs at least one row and column");
    if (splut__mul(splut__mul(n, features), sizeof(float)) == SIZE_MAX)
        return splut__fail(ctx, SPLUT_E_INVALID, "dataset of %zu x %u floats is too large", n,
                           features);
    splut_dataset *ds = splut__calloc(ctx, 1, sizeof *ds);
    if (!ds)
        return splut__fail(ctx, SPLUT_E_NOMEM, "out of memory creating a dataset");
    ds->ctx = splut_ctx_ref(ctx);
    atomic_init(&ds->refcount, 1);
    ds->n = n;
    ds->features = features;
    *out = ds;
    return SPLUT_OK;
}

splut_status splut_dataset_create(splut_ctx *ctx, size_t n, uint32_t features, const float *x,
                                  const int32_t *y, unsigned flags, splut_dataset **out)
{
    if (!ctx)
        return SPLUT_E_NULL;
    if (!out || !x || !y)
        return splut__fail(ctx, SPLUT_E_NULL, "splut_dataset_create: x, y and out are required");
    *out = NULL;
    if (flags > SPLUT_DATASET_BORROW)
        return splut__fail(ctx, SPLUT_E_INVALID, "unknown dataset flags 0x%x", flags);
    splut_dataset *ds;
    splut_status st = new_dataset(ctx, n, features, &ds);
    if (st)
        return st;
    if ((st = check_rows(ctx, n, features, x, y, &ds->classes)) == SPLUT_OK) {
        ds->x = x;
        ds->y = y;
        if (flags == SPLUT_DATASET_COPY)
            st = copy_rows(ds, x, y);
    }
    if (st) {
        free_dataset(ds);
        return st;
    }
    *out = ds;
    return SPLUT_OK;
}

splut_status splut_dataset_create_filled(splut_ctx *ctx, size_t n, uint32_t features,
                                         splut_dataset_fill_fn fill, void *user,
                                         splut_dataset **out)
{
    if (!ctx)
        return SPLUT_E_NULL;
    if (!out || !fill)
        return splut__fail(ctx, SPLUT_E_NULL,
                           "splut_dataset_create_filled: fill and out are required");
    *out = NULL;
    splut_dataset *ds;
    splut_status st = new_dataset(ctx, n, features, &ds);
    if (st)
        return st;
    if ((st = alloc_rows(ds)) == SPLUT_OK && (st = fill(user, ds->own_x, ds->own_y)) == SPLUT_OK)
        st = check_rows(ctx, n, features, ds->x, ds->y, &ds->classes);
    if (st) {
        free_dataset(ds);
        return st;
    }
    *out = ds;
    return SPLUT_OK;
}

splut_dataset *splut_dataset_ref(splut_dataset *ds)
{
    if (ds)
        atomic_fetch_add(&ds->refcount, 1);
    return ds;
}

void splut_dataset_destroy(splut_dataset *ds)
{
    if (ds && atomic_fetch_sub(&ds->refcount, 1) == 1)
        free_dataset(ds);
}

splut_ctx *splut_dataset_ctx(const splut_dataset *ds)
{
    return ds ? ds->ctx : NULL;
}

size_t splut_dataset_num_samples(const splut_dataset *ds)
{
    return ds ? ds->n : 0;
}

uint32_t splut_dataset_num_features(const splut_dataset *ds)
{
    return ds ? ds->features : 0;
}

uint32_t splut_dataset_num_classes(const splut_dataset *ds)
{
    return ds ? ds->classes : 0;
}

const float *splut_dataset_features(const splut_dataset *ds)
{
    return ds ? ds->x : NULL;
}

const int32_t *splut_dataset_labels(const splut_dataset *ds)
{
    return ds ? ds->y : NULL;
}

splut_status splut_dataset_set_image(splut_dataset *ds, uint32_t width, uint32_t height,
                                     float background)
{
    if (!ds)
        return SPLUT_E_NULL;
    if ((uint64_t)width * height != ds->features && (width || height))
        return splut__fail(ds->ctx, SPLUT_E_INVALID,
                           "image %u x %u does not match %u features per row", width, height,
                           ds->features);
    if (!width != !height)
        return splut__fail(ds->ctx, SPLUT_E_INVALID, "image %u x %u: both sides or neither",
                           width, height);
    if (!isfinite(background))
        return splut__fail(ds->ctx, SPLUT_E_NON_FINITE, "image background is not finite");
    ds->width = width;
    ds->height = height;
    ds->background = background;
    return SPLUT_OK;
}

splut_status splut_dataset_image(const splut_dataset *ds, uint32_t *width, uint32_t *height,
                                 float *background)
{
    if (!ds)
        return SPLUT_E_NULL;
    if (width)
        *width = ds->width;
    if (height)
        *height = ds->height;
    if (background)
        *background = ds->background;
    return SPLUT_OK;
}

uint64_t splut__fnv1a(uint64_t h, const void *p, size_t n)
{
    const unsigned char *b = p;
    for (size_t i = 0; i < n; i++)
        h = (h ^ b[i]) * 1099511628211ull;
    return h;
}

uint64_t splut_dataset_fingerprint(const splut_dataset *ds)
{
    if (!ds)
        return 0;
    uint64_t n = ds->n, f = ds->features;
    uint64_t h = splut__fnv1a(1469598103934665603ull, &n, sizeof n);
    h = splut__fnv1a(h, &f, sizeof f);
    h = splut__fnv1a(h, ds->y, ds->n * sizeof *ds->y);
    return splut__fnv1a(h, ds->x, ds->n * ds->features * sizeof *ds->x);
}

/* ------------------------------------------------------ standardisation */

splut_status splut_dataset_feature_stats(const splut_dataset *ds, double *mean, double *sd)
{
    if (!ds)
        return SPLUT_E_NULL;
    if (!mean || !sd)
        return splut__fail(ds->ctx, SPLUT_E_NULL,
                           "splut_dataset_feature_stats: mean and sd are required");
    uint32_t nf = ds->features;
    /* Row by row (the memory order); every feature still sums its rows in order. */
    for (uint32_t f = 0; f < nf; f++)
        mean[f] = sd[f] = 0;
    for (size_t i = 0; i < ds->n; i++)
        for (uint32_t f = 0; f < nf; f++)
            mean[f] += ds->x[i * nf + f];
    for (uint32_t f = 0; f < nf; f++)
        mean[f] /= (double)ds->n;
    for (size_t i = 0; i < ds->n; i++)
        for (uint32_t f = 0; f < nf; f++) {
            double d = ds->x[i * nf + f] - mean[f];
            sd[f] += d * d;
        }
    for (uint32_t f = 0; f < nf; f++) {
        sd[f] = sqrt(sd[f] / (double)ds->n);
        if (!(sd[f] > 0)) /* a constant column is only centred (scikit-learn's rule) */
            sd[f] = 1;
    }
    return SPLUT_OK;
}

typedef struct standardize_job {
    const splut_dataset *src;
    const double *mean, *sd;
} standardize_job;

static splut_status fill_standardized(void *user, float *x, int32_t *y)
{
    const standardize_job *j = user;
    uint32_t nf = j->src->features;
    for (size_t i = 0; i < j->src->n; i++)
        for (uint32_t f = 0; f < nf; f++)
            x[i * nf + f] = (float)((j->src->x[i * nf + f] - j->mean[f]) / j->sd[f]);
    memcpy(y, j->src->y, j->src->n * sizeof *y);
    return SPLUT_OK;
}

splut_status splut_dataset_standardize(const splut_dataset *ds, const double *mean,
                                       const double *sd, splut_dataset **out)
{
    if (!ds)
        return SPLUT_E_NULL;
    if (!mean || !sd || !out)
        return splut__fail(ds->ctx, SPLUT_E_NULL,
                           "splut_dataset_standardize: mean, sd and out are required");
    *out = NULL;
    for (uint32_t f = 0; f < ds->features; f++)
        if (!isfinite(mean[f]) || !isfinite(sd[f]) || sd[f] == 0)
            return splut__fail(ds->ctx, SPLUT_E_INVALID,
                               "feature %u: mean %g, sd %g (finite, sd nonzero required)", f,
                               mean[f], sd[f]);
    standardize_job job = {ds, mean, sd};
    return splut_dataset_create_filled(ds->ctx, ds->n, ds->features, fill_standardized, &job,
                                       out);
}
