/*
 * Copyright 2026 The libsparselut authors
 * SPDX-License-Identifier: Apache-2.0
 *
 * The input stage of `sparselut emit`: which raw fixed-point format the
 * design's port takes, its exact thresholds (from the library), and raw test
 * vectors whose expected codes come from the model's float path.
 */
#include "emit-input.h"

#include "cli.h"

#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int cli_input_spec_parse(const char *v, uint32_t auto_bits, cli_input_spec *out)
{
    memset(out, 0, sizeof *out);
    if (strcmp(v, "mnist") == 0) {
        out->bits = 8;
        return 0;
    }
    if (strcmp(v, "auto") == 0) {
        out->kind = 1;
        out->bits = auto_bits;
        return 0;
    }
    unsigned bits = 0, frac = 0;
    char sign = 0, tail = 0;
    if (sscanf(v, "%c%u.%u%c", &sign, &bits, &frac, &tail) != 3 || (sign != 's' && sign != 'u'))
        return -1;
    if (bits < 1 || bits > 24 || frac > 30)
        return -1;
    out->kind = 2;
    out->bits = bits;
    out->frac = frac;
    out->is_signed = sign == 's';
    return 0;
}

static int32_t raw_min(const splut_input_format *f)
{
    return f->is_signed ? -(int32_t)(1u << (f->bits - 1)) : 0;
}

static int32_t raw_max(const splut_input_format *f)
{
    return f->is_signed ? (int32_t)(1u << (f->bits - 1)) - 1 : (int32_t)((1u << f->bits) - 1);
}

/* auto: the library's choice (splut_input_format_fit) over both splits. */
static int auto_format(const cli_data *d, splut_input_format *fmt)
{
    const splut_dataset *sets[2] = {d->train.ds, d->test.ds};
    if (splut_input_format_fit(sets, d->test.ds ? 2 : 1, fmt) == SPLUT_OK)
        return CLI_EXIT_OK;
    cli_err("%s; raise --input-bits", splut_ctx_last_error(splut_dataset_ctx(d->train.ds)));
    return CLI_EXIT_FAIL;
}

static int make_format(const cli_input_spec *spec, cli_data *d, int standardize,
                       cli_input_stage *s)
{
    splut_input_format fmt = SPLUT_INPUT_FORMAT_INIT;
    fmt.bits = spec->bits;
    if (spec->kind == 0) { /* tools/data.c: (v / 255 - 0.1307) / 0.3081 in float32 */
        fmt.map = SPLUT_INFMT_NORMALIZE;
        fmt.divisor = 255.0f;
        fmt.mean = 0.1307f;
        fmt.std = 0.3081f;
        s->fmt = fmt;
        return CLI_EXIT_OK;
    }
    if (spec->kind == 1) {
        if (!d) {
            cli_err("--input-stage auto needs --data (the format follows the data's range)");
            return CLI_EXIT_FAIL;
        }
        if (auto_format(d, &fmt) != CLI_EXIT_OK)
            return CLI_EXIT_FAIL;
    } else {
        fmt.is_signed = spec->is_signed;
        fmt.frac_bits = spec->frac;
    }
    if (d && standardize) {
        s->offset = calloc(d->features, sizeof(double));
        s->scale = calloc(d->features, sizeof(double));
        if (!s->offset || !s->scale) {
            cli_err("out of memory");
            return CLI_EXIT_FAIL;
        }
        if (cli_standardize_stats(d, s->offset, s->scale)) {
            cli_err("standardising the data: %s",
                    splut_ctx_last_error(splut_dataset_ctx(d->train.ds)));
            return CLI_EXIT_FAIL;
        }
        fmt.offset = s->offset;
        fmt.scale = s->scale;
    }
    s->fmt = fmt;
    return CLI_EXIT_OK;
}

int cli_input_stage_build(const cli_input_spec *spec, const splut_model *m, cli_data *d,
                          int standardize, cli_input_stage *s)
{
    memset(s, 0, sizeof *s);
    if (make_format(spec, d, standardize, s) != CLI_EXIT_OK)
        return CLI_EXIT_FAIL;
    uint32_t n = splut_model_num_inputs(m), K = (1u << splut_model_input_bits(m)) - 1;
    s->thr = calloc((size_t)n * K, sizeof(int32_t));
    s->codes = calloc((size_t)n * (K + 1), sizeof(uint16_t));
    s->steps = calloc(n ? n : 1, sizeof(uint32_t));
    if (!s->thr || !s->codes || !s->steps) {
        cli_err("out of memory for the input thresholds");
        return CLI_EXIT_FAIL;
    }
    splut_status st = splut_model_input_thresholds(m, &s->fmt, s->thr, s->codes, s->steps);
    if (st)
        return cli_lib_err(splut_model_ctx(m), st, "computing the input thresholds");
    for (uint32_t f = 0; f < n; f++)
        s->comparators += s->steps[f];
    return CLI_EXIT_OK;
}

void cli_input_stage_opts(const cli_input_stage *s, splut_hdl_opts *o)
{
    o->input = &s->fmt;
    o->input_thresholds = s->thr;
    o->input_codes = s->codes;
    o->input_steps = s->steps;
}

void cli_input_stage_free(cli_input_stage *s)
{
    free(s->offset);
    free(s->scale);
    free(s->thr);
    free(s->codes);
    free(s->steps);
    memset(s, 0, sizeof *s);
}

static float value_of(const splut_input_format *fmt, uint32_t f, int32_t x)
{
    float v = 0;
    (void)splut_input_value(fmt, f, x, &v); /* x is in range: cannot fail */
    return v;
}

/* The raw value of feature f whose float is nearest to v (the map is
 * monotone: bisection), ties to the smaller raw value. */
static int32_t nearest_raw(const splut_input_format *fmt, uint32_t f, float v)
{
    int32_t lo = raw_min(fmt), hi = raw_max(fmt);
    bool falling = value_of(fmt, f, hi) < value_of(fmt, f, lo);
    /* smallest x whose float is on v's far side (or at v) */
    int64_t a = lo - 1, b = hi; /* key(a) < v ≤ key(b), with a = lo − 1 as −inf */
    float kb = falling ? -value_of(fmt, f, b) : value_of(fmt, f, b);
    float kv = falling ? -v : v;
    if (kb < kv)
        return falling ? lo : hi; /* beyond the range: clamp */
    while (b - a > 1) {
        int64_t mid = a + (b - a) / 2;
        float km = falling ? -value_of(fmt, f, (int32_t)mid) : value_of(fmt, f, (int32_t)mid);
        if (km >= kv)
            b = mid;
        else
            a = mid;
    }
    if (a < lo)
        return (int32_t)b;
    double da = fabs((double)value_of(fmt, f, (int32_t)a) - v);
    double db = fabs((double)value_of(fmt, f, (int32_t)b) - v);
    return db < da ? (int32_t)b : (int32_t)a;
}

int cli_input_vectors(const cli_input_stage *s, const splut_model *m, const cli_split *split,
                      size_t count, uint64_t seed, int32_t **raw, uint16_t **codes,
                      size_t *rounded, size_t *changed)
{
    uint32_t n = splut_model_num_inputs(m);
    size_t cells = count * n > 0 ? count * n : 1;
    *raw = calloc(cells, sizeof(int32_t));
    *codes = calloc(cells, sizeof(uint16_t));
    float *x = calloc(cells, sizeof(float));
    if (!*raw || !*codes || !x) {
        free(x);
        cli_err("out of memory for %zu vectors", count);
        return CLI_EXIT_FAIL;
    }
    *rounded = 0;
    uint64_t range = (uint64_t)(raw_max(&s->fmt) - raw_min(&s->fmt)) + 1;
    for (size_t i = 0; i < count * n; i++) {
        uint32_t f = (uint32_t)(i % n);
        if (split) {
            (*raw)[i] = nearest_raw(&s->fmt, f, split->x[i]);
        } else {
            seed = seed * 6364136223846793005ull + 1442695040888963407ull;
            (*raw)[i] = raw_min(&s->fmt) + (int32_t)((seed >> 24) % range);
        }
        x[i] = value_of(&s->fmt, f, (*raw)[i]);
        if (split && x[i] != split->x[i])
            (*rounded)++;
    }
    splut_status st = splut_model_input_codes(m, x, count, *codes);
    free(x);
    /* How often the port's grid changes a code: the data's own floats. */
    *changed = 0;
    uint16_t *orig = split && !st ? calloc(cells, sizeof(uint16_t)) : NULL;
    if (split && !st && !orig) {
        cli_err("out of memory for %zu vectors", count);
        return CLI_EXIT_FAIL;
    }
    if (orig)
        st = splut_model_input_codes(m, split->x, count, orig);
    for (size_t i = 0; orig && !st && i < count * n; i++)
        *changed += orig[i] != (*codes)[i];
    free(orig);
    if (st)
        return cli_lib_err(splut_model_ctx(m), st, "computing input codes");
    return CLI_EXIT_OK;
}
