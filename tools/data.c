/*
 * Copyright 2026 The libsparselut authors
 * SPDX-License-Identifier: Apache-2.0
 *
 * The CLI's datasets, loaded by libsparselut-data (see data.h).
 */
#include "data.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void cli_data_opts_init(cli_data_opts *o)
{
    memset(o, 0, sizeof *o);
    o->split = 0.2;
    o->seed = 42;
}

static void split_from(cli_split *s, splut_dataset *ds)
{
    s->ds = ds;
    s->x = splut_dataset_features(ds);
    s->y = splut_dataset_labels(ds);
    s->n = splut_dataset_num_samples(ds);
}

static void fill(cli_data *d, splut_dataset *train, splut_dataset *test)
{
    split_from(&d->train, train);
    split_from(&d->test, test);
    d->features = splut_dataset_num_features(train);
    uint32_t ctr = splut_dataset_num_classes(train), cte = splut_dataset_num_classes(test);
    d->classes = ctr > cte ? ctr : cte;
    splut_dataset_image(train, &d->width, &d->height, &d->background);
}

int cli_data_load(const char *spec, const cli_data_opts *o, cli_data *out, char *err,
                  size_t err_cap)
{
    memset(out, 0, sizeof *out);
    splut_ctx *ctx;
    if (splut_ctx_create(NULL, &ctx)) {
        snprintf(err, err_cap, "out of memory");
        return -1;
    }
    splut_data_opts so = SPLUT_DATA_OPTS_INIT;
    so.label = o->label;
    so.split = o->split;
    so.seed = o->seed;
    so.flags = (o->standardize ? SPLUT_DATA_STANDARDIZE : 0u) |
               (o->split_set ? SPLUT_DATA_SPLIT_SET : 0u);
    splut_dataset *train, *test;
    splut_status st = splut_data_load(ctx, spec, &so, &train, &test);
    if (st)
        snprintf(err, err_cap, "%s", splut_ctx_last_error(ctx));
    else
        fill(out, train, test);
    splut_ctx_unref(ctx); /* the datasets keep their own references */
    return st ? -1 : 0;
}

void cli_data_free(cli_data *d)
{
    if (!d)
        return;
    splut_dataset_destroy(d->train.ds);
    splut_dataset_destroy(d->test.ds);
    memset(d, 0, sizeof *d);
}

int cli_read_file(const char *path, uint8_t **buf, size_t *len, char *err, size_t err_cap)
{
    *buf = NULL;
    *len = 0;
    splut_ctx *ctx;
    if (splut_ctx_create(NULL, &ctx)) {
        snprintf(err, err_cap, "%s: out of memory", path);
        return -1;
    }
    void *data;
    size_t n;
    splut_status st = splut_data_read_file(ctx, path, 0, &data, &n);
    if (st) {
        snprintf(err, err_cap, "%s", splut_ctx_last_error(ctx));
        splut_ctx_unref(ctx);
        return -1;
    }
    splut_ctx_unref(ctx);
    /* The callers own malloc'ed memory (some realloc it). */
    uint8_t *copy = malloc(n + 1);
    if (copy)
        memcpy(copy, data, n + 1);
    splut_data_free(data);
    if (!copy) {
        snprintf(err, err_cap, "%s: out of memory", path);
        return -1;
    }
    *buf = copy;
    *len = n;
    return 0;
}

/* Feature f's train mean and population std (std 0 → 1, as sklearn). */
static void feature_stats(const cli_split *train, uint32_t nf, uint32_t f, double *mean,
                          double *sd)
{
    size_t n = train->n;
    double sum = 0, sq = 0;
    for (size_t i = 0; i < n; i++)
        sum += train->x[i * nf + f];
    *mean = sum / (double)n;
    for (size_t i = 0; i < n; i++) {
        double dv = train->x[i * nf + f] - *mean;
        sq += dv * dv;
    }
    *sd = sqrt(sq / (double)n);
    if (!(*sd > 0))
        *sd = 1;
}

/* A copy of @p s standardised with @p mean / @p sd, as a new dataset. */
static splut_dataset *standardized_split(const cli_split *s, uint32_t nf, const double *mean,
                                         const double *sd)
{
    float *x = malloc(s->n * nf * sizeof *x + 1);
    if (!x)
        return NULL;
    for (size_t i = 0; i < s->n; i++)
        for (uint32_t f = 0; f < nf; f++)
            x[i * nf + f] = (float)((s->x[i * nf + f] - mean[f]) / sd[f]);
    splut_dataset *ds = NULL;
    splut_dataset_create(splut_dataset_ctx(s->ds), s->n, nf, x, s->y, SPLUT_DATASET_COPY, &ds);
    free(x);
    return ds;
}

int cli_standardize_stats(cli_data *d, double *means, double *sds)
{
    uint32_t nf = d->features;
    if (d->train.n == 0)
        return 0;
    double *mean = calloc(nf, sizeof *mean), *sd = calloc(nf, sizeof *sd);
    splut_dataset *tr = NULL, *te = NULL;
    int rc = -1;
    if (mean && sd) {
        for (uint32_t f = 0; f < nf; f++)
            feature_stats(&d->train, nf, f, &mean[f], &sd[f]);
        tr = standardized_split(&d->train, nf, mean, sd);
        te = d->test.n ? standardized_split(&d->test, nf, mean, sd) : NULL;
    }
    if (tr && (te || !d->test.n)) {
        cli_split *sp[2] = {&d->train, &d->test};
        splut_dataset *nd[2] = {tr, te};
        for (int k = 0; k < 2; k++) {
            if (!nd[k])
                continue;
            splut_dataset_destroy(sp[k]->ds);
            sp[k]->ds = nd[k];
            sp[k]->x = splut_dataset_features(nd[k]);
            sp[k]->y = splut_dataset_labels(nd[k]);
        }
        if (means)
            memcpy(means, mean, nf * sizeof *mean);
        if (sds)
            memcpy(sds, sd, nf * sizeof *sd);
        tr = te = NULL;
        rc = 0;
    }
    splut_dataset_destroy(tr);
    splut_dataset_destroy(te);
    free(mean);
    free(sd);
    return rc;
}
