/*
 * The CSV loaders and the spec-string entry point (`mnist:DIR`, `csv:A,B`, …).
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include <stdlib.h>
#include <string.h>

#include "data-priv.h"

splut_status splut_data_parse_csv(splut_ctx *ctx, const void *text, size_t len,
                                  const char *name, const splut_data_opts *opts,
                                  splut_dataset **out)
{
    if (!ctx)
        return SPLUT_E_NULL;
    if (!text || !out)
        return sd_fail(ctx, SPLUT_E_NULL, "splut_data_parse_csv: text and out are required");
    *out = NULL;
    splut_data_opts o;
    sd_table t = {0};
    uint32_t features = 0;
    splut_status st = sd_opts(ctx, opts, &o);
    if (!st && o.flags)
        st = sd_fail(ctx, SPLUT_E_INVALID, "splut_data_parse_csv returns one table: no split "
                                           "or standardisation (use splut_data_load_csv)");
    if (!st)
        st = sd_csv_table(ctx, text, len, name ? name : "(csv)", o.label, &t, &features);
    if (!st)
        st = splut_dataset_create(ctx, t.n, features, t.x, t.y, SPLUT_DATASET_COPY, out);
    sd_table_free(&t);
    return st;
}

splut_status sd_parse_split(splut_ctx *ctx, const sd_format *fmt, const void *text, size_t len,
                            const char *name, const splut_data_opts *opts,
                            splut_dataset **train, splut_dataset **test)
{
    if (!ctx)
        return SPLUT_E_NULL;
    if (!text || !train || !test)
        return sd_fail(ctx, SPLUT_E_NULL, "%s parser: text, train and test are required",
                       fmt->kind);
    *train = *test = NULL;
    splut_data_opts o;
    sd_table all = {0}, tr = {0}, te = {0};
    uint32_t features = 0;
    splut_status st = sd_opts(ctx, opts, &o);
    if (!st)
        st = sd_only_opts(ctx, &o, fmt->kind, SPLUT_DATA_SPLIT_SET);
    if (!st)
        st = fmt->table(ctx, text, len, name ? name : fmt->kind, &all, &features);
    if (!st)
        st = sd_split(ctx, &all, features, o.split, (uint32_t)o.seed, &tr, &te);
    if (!st)
        st = sd_make_pair(ctx, &tr, &te, features, fmt->standardize, train, test);
    sd_table_free(&all);
    sd_table_free(&tr);
    sd_table_free(&te);
    return st;
}

splut_status sd_load_split(splut_ctx *ctx, const sd_format *fmt, const char *path,
                           const splut_data_opts *opts, splut_dataset **train,
                           splut_dataset **test)
{
    if (!ctx)
        return SPLUT_E_NULL;
    if (!path || !train || !test)
        return sd_fail(ctx, SPLUT_E_NULL, "%s loader: path, train and test are required",
                       fmt->kind);
    *train = *test = NULL;
    splut_data_opts o;
    char *text = NULL;
    size_t len = 0;
    splut_status st = sd_opts(ctx, opts, &o);
    if (!st)
        st = sd_read_text(ctx, path, o.max_bytes, &text, &len);
    if (!st)
        st = sd_parse_split(ctx, fmt, text, len, path, &o, train, test);
    free(text);
    return st;
}

/* One CSV file as a table. */
static splut_status csv_file(splut_ctx *ctx, const char *path, const splut_data_opts *o,
                             sd_table *t, uint32_t *features)
{
    char *text = NULL;
    size_t len = 0;
    splut_status st = sd_read_text(ctx, path, o->max_bytes, &text, &len);
    if (!st)
        st = sd_csv_table(ctx, text, len, path, o->label, t, features);
    free(text);
    return st;
}

/* Train and test tables: two files, or one file split with the seeded permutation. */
static splut_status csv_tables(splut_ctx *ctx, const char *train_path, const char *test_path,
                               const splut_data_opts *o, sd_table *tr, sd_table *te,
                               uint32_t *features)
{
    sd_table all = {0};
    splut_status st = csv_file(ctx, train_path, o, test_path ? tr : &all, features);
    if (st || !test_path)
        return st ? st : sd_split(ctx, &all, *features, o->split, (uint32_t)o->seed, tr, te);
    uint32_t nf2 = 0;
    st = csv_file(ctx, test_path, o, te, &nf2);
    if (!st && nf2 != *features)
        st = sd_fail(ctx, SPLUT_E_FORMAT, "%s: %u feature columns, but %s has %u", test_path,
                     nf2, train_path, *features);
    return st;
}

splut_status splut_data_load_csv(splut_ctx *ctx, const char *train_path, const char *test_path,
                                 const splut_data_opts *opts, splut_dataset **train,
                                 splut_dataset **test)
{
    if (!ctx)
        return SPLUT_E_NULL;
    if (!train_path || !train || !test)
        return sd_fail(ctx, SPLUT_E_NULL,
                       "splut_data_load_csv: train_path, train and test are required");
    *train = *test = NULL;
    splut_data_opts o;
    sd_table tr = {0}, te = {0};
    uint32_t features = 0;
    splut_status st = sd_opts(ctx, opts, &o);
    if (!st && test_path && (o.flags & SPLUT_DATA_SPLIT_SET))
        st = sd_fail(ctx, SPLUT_E_INVALID,
                     "csv: a split fraction cannot be combined with a separate test file");
    if (!st)
        st = csv_tables(ctx, train_path, test_path, &o, &tr, &te, &features);
    if (!st)
        st = sd_make_pair(ctx, &tr, &te, features, (o.flags & SPLUT_DATA_STANDARDIZE) != 0,
                          train, test);
    sd_table_free(&tr);
    sd_table_free(&te);
    return st;
}

/* csv:TRAIN[,TEST] */
static splut_status load_csv_spec(splut_ctx *ctx, const char *files, const splut_data_opts *o,
                                  splut_dataset **train, splut_dataset **test)
{
    const char *comma = strchr(files, ',');
    size_t tlen = comma ? (size_t)(comma - files) : strlen(files);
    if (tlen == 0)
        return sd_fail(ctx, SPLUT_E_INVALID, "csv: bad file name in '%s'", files);
    if (comma && !comma[1])
        return sd_fail(ctx, SPLUT_E_INVALID, "csv: empty test file name in '%s'", files);
    char *train_path = malloc(tlen + 1);
    if (!train_path)
        return sd_fail(ctx, SPLUT_E_NOMEM, "out of memory");
    memcpy(train_path, files, tlen);
    train_path[tlen] = 0;
    splut_status st = splut_data_load_csv(ctx, train_path, comma ? comma + 1 : NULL, o, train,
                                          test);
    free(train_path);
    return st;
}

static int kind_is(const char *spec, size_t kind, const char *name)
{
    return strlen(name) == kind && strncmp(spec, name, kind) == 0;
}

splut_status splut_data_load(splut_ctx *ctx, const char *spec, const splut_data_opts *opts,
                             splut_dataset **train, splut_dataset **test)
{
    if (!ctx)
        return SPLUT_E_NULL;
    if (!spec || !train || !test)
        return sd_fail(ctx, SPLUT_E_NULL, "splut_data_load: spec, train and test are required");
    *train = *test = NULL;
    const char *colon = strchr(spec, ':');
    if (!colon || !colon[1])
        return sd_fail(ctx, SPLUT_E_INVALID,
                       "bad data spec '%s': expected mnist:DIR, fashion:DIR, idx:DIR, "
                       "csv:TRAIN[,TEST], jsc:FILE or unsw:FILE",
                       spec);
    size_t kind = (size_t)(colon - spec);
    const char *arg = colon + 1;
    if (kind_is(spec, kind, "mnist") || kind_is(spec, kind, "fashion") ||
        kind_is(spec, kind, "idx"))
        return splut_data_load_idx(ctx, arg, opts, train, test);
    if (kind_is(spec, kind, "csv"))
        return load_csv_spec(ctx, arg, opts, train, test);
    if (kind_is(spec, kind, "jsc"))
        return splut_data_load_jsc(ctx, arg, opts, train, test);
    if (kind_is(spec, kind, "unsw"))
        return splut_data_load_unsw(ctx, arg, opts, train, test);
    return sd_fail(ctx, SPLUT_E_INVALID,
                   "bad data spec '%s': unknown kind '%.*s' (mnist, fashion, idx, csv, jsc, "
                   "unsw)",
                   spec, (int)(kind > 40 ? 40 : kind), spec);
}
