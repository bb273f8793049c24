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

int cli_standardize_stats(cli_data *d, double *means, double *sds)
{
    if (d->train.n == 0)
        return 0;
    splut_dataset *nd[2] = {NULL, NULL};
    cli_split *sp[2] = {&d->train, &d->test};
    if (splut_dataset_feature_stats(d->train.ds, means, sds))
        return -1;
    for (int k = 0; k < 2; k++)
        if (sp[k]->n && splut_dataset_standardize(sp[k]->ds, means, sds, &nd[k])) {
            splut_dataset_destroy(nd[0]);
            return -1;
        }
    for (int k = 0; k < 2; k++) {
        if (!nd[k])
            continue;
        splut_dataset_destroy(sp[k]->ds);
        sp[k]->ds = nd[k];
        sp[k]->x = splut_dataset_features(nd[k]);
        sp[k]->y = splut_dataset_labels(nd[k]);
    }
    return 0;
}
