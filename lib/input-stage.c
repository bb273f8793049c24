/*
 * The layer-0 input quantiser on raw fixed-point features: the float a raw
 * value stands for, and the exact per-feature thresholds at which its code
 * changes (bisection over the integer range, evaluating the library's own
 * float path, which is monotone per feature: every operation in it —
 * subtraction of a constant, division and multiplication by a constant,
 * rounding — preserves order, reversing it at most once for a negative
 * BatchNorm scale).
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include <math.h>
#include <string.h>

#include "input-priv.h"
#include "model-priv.h"

int32_t splut__raw_min(const splut_input_format *fmt)
{
    return fmt->is_signed ? -(int32_t)(1u << (fmt->bits - 1)) : 0;
}

int32_t splut__raw_max(const splut_input_format *fmt)
{
    return fmt->is_signed ? (int32_t)(1u << (fmt->bits - 1)) - 1
                          : (int32_t)((1u << fmt->bits) - 1);
}

static splut_status bad_format(const splut_ctx *ctx, const char *what)
{
    return ctx ? splut__fail(ctx, SPLUT_E_INVALID, "input format: %s", what) : SPLUT_E_INVALID;
}

static bool finite_nonzero(double v)
{
    return isfinite(v) && v != 0.0;
}

splut_status splut__input_format_check(const splut_ctx *ctx, const splut_input_format *fmt,
                                       uint32_t n_in)
{
    if (fmt->size != sizeof(splut_input_format))
        return ctx ? splut__fail(ctx, SPLUT_E_STRUCT_SIZE,
                                 "splut_input_format.size is %zu, expected %zu", fmt->size,
                                 sizeof(splut_input_format))
                   : SPLUT_E_STRUCT_SIZE;
    if (fmt->bits < 1 || fmt->bits > SPLUT__RAW_BITS_MAX)
        return bad_format(ctx, "bits must be in 1..24");
    if (fmt->map == SPLUT_INFMT_NORMALIZE) {
        if (!finite_nonzero(fmt->divisor) || !finite_nonzero(fmt->std) || !isfinite(fmt->mean))
            return bad_format(ctx, "divisor and std must be finite and nonzero, mean finite");
        return SPLUT_OK;
    }
    if (fmt->map != SPLUT_INFMT_FIXED)
        return bad_format(ctx, "unknown map");
    if (fmt->frac_bits > 30)
        return bad_format(ctx, "frac_bits must be in 0..30");
    for (uint32_t f = 0; f < n_in; f++)
        if ((fmt->offset && !isfinite(fmt->offset[f])) ||
            (fmt->scale && !finite_nonzero(fmt->scale[f])))
            return bad_format(ctx, "offset must be finite, scale finite and nonzero");
    return SPLUT_OK;
}

/* The float of a raw value (format already checked). */
static float raw_value(const splut_input_format *fmt, uint32_t f, int32_t x)
{
    if (fmt->map == SPLUT_INFMT_NORMALIZE) {
        float t = (float)x / fmt->divisor;
        return (t - fmt->mean) / fmt->std;
    }
    double v = (double)x / (double)(1u << fmt->frac_bits);
    double off = fmt->offset ? fmt->offset[f] : 0.0, sc = fmt->scale ? fmt->scale[f] : 1.0;
    return (float)((v - off) / sc);
}

splut_status splut_input_value(const splut_input_format *fmt, uint32_t feature, int32_t raw,
                               float *value)
{
    if (!fmt || !value)
        return SPLUT_E_NULL;
    if (fmt->size != sizeof(*fmt)) /* before reading any other field */
        return SPLUT_E_STRUCT_SIZE;
    /* Only this feature's offset and scale need to exist. */
    splut_input_format one = *fmt;
    one.offset = fmt->offset ? fmt->offset + feature : NULL;
    one.scale = fmt->scale ? fmt->scale + feature : NULL;
    splut_status st = splut__input_format_check(NULL, &one, 1);
    if (st != SPLUT_OK)
        return st;
    if (raw < splut__raw_min(fmt) || raw > splut__raw_max(fmt))
        return SPLUT_E_OUT_OF_RANGE;
    *value = raw_value(&one, 0, raw);
    return SPLUT_OK;
}

/* ------------------------------------------------------------- thresholds */

/* Bisection state of every feature for one target level. */
typedef struct level_search {
    int64_t *lo, *hi;    /* key(lo) < target ≤ key(hi) while searching */
    int32_t *target;     /* key level sought; INT32_MIN: feature not searching */
    float *row;          /* one sample: the float of each feature's probe */
    uint16_t *codes;     /* its codes */
} level_search;

/* key(x): the code, negated for a feature whose code falls with x, so every
 * feature's key rises. */
static int32_t key_of(uint16_t code, bool falling)
{
    return falling ? -(int32_t)code : (int32_t)code;
}

/* Codes of one sample whose feature f takes raw value x[f]. */
static splut_status eval_row(const splut_model *m, const splut_input_format *fmt,
                             const int64_t *x, level_search *s)
{
    for (uint32_t f = 0; f < m->n_inputs; f++)
        s->row[f] = raw_value(fmt, f, (int32_t)x[f]);
    return splut_model_input_codes(m, s->row, 1, s->codes);
}

/* For every searching feature, the smallest raw x with key(x) ≥ target. */
static splut_status bisect_level(const splut_model *m, const splut_input_format *fmt,
                                 const bool *falling, int64_t *mid, level_search *s)
{
    for (;;) {
        bool any = false;
        for (uint32_t f = 0; f < m->n_inputs; f++) {
            bool open = s->target[f] != INT32_MIN && s->hi[f] - s->lo[f] > 1;
            mid[f] = open ? s->lo[f] + (s->hi[f] - s->lo[f]) / 2 : s->hi[f];
            any |= open;
        }
        if (!any)
            return SPLUT_OK;
        splut_status st = eval_row(m, fmt, mid, s);
        if (st != SPLUT_OK)
            return st;
        for (uint32_t f = 0; f < m->n_inputs; f++) {
            if (s->target[f] == INT32_MIN || s->hi[f] - s->lo[f] <= 1)
                continue;
            if (key_of(s->codes[f], falling[f]) >= s->target[f])
                s->hi[f] = mid[f];
            else
                s->lo[f] = mid[f];
        }
    }
}

typedef struct thr_work {
    int64_t *lo, *hi, *mid, *xmin, *xmax;
    int32_t *target, *key_lo, *key_hi;
    float *row;
    uint16_t *codes, *code_lo, *code_hi;
    bool *falling;
} thr_work;

static void work_free(splut_ctx *ctx, thr_work *w)
{
    void *all[] = {w->lo,     w->hi,     w->mid,  w->xmin,  w->xmax,    w->target, w->key_lo,
                   w->key_hi, w->row,    w->codes, w->code_lo, w->code_hi, w->falling};
    for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++)
        splut__free(ctx, all[i]);
}

static bool work_alloc(splut_ctx *ctx, thr_work *w, uint32_t n)
{
    memset(w, 0, sizeof(*w));
    w->lo = splut__calloc(ctx, n, sizeof(int64_t));
    w->hi = splut__calloc(ctx, n, sizeof(int64_t));
    w->mid = splut__calloc(ctx, n, sizeof(int64_t));
    w->xmin = splut__calloc(ctx, n, sizeof(int64_t));
    w->xmax = splut__calloc(ctx, n, sizeof(int64_t));
    w->target = splut__calloc(ctx, n, sizeof(int32_t));
    w->key_lo = splut__calloc(ctx, n, sizeof(int32_t));
    w->key_hi = splut__calloc(ctx, n, sizeof(int32_t));
    w->row = splut__calloc(ctx, n, sizeof(float));
    w->codes = splut__calloc(ctx, n, sizeof(uint16_t));
    w->code_lo = splut__calloc(ctx, n, sizeof(uint16_t));
    w->code_hi = splut__calloc(ctx, n, sizeof(uint16_t));
    w->falling = splut__calloc(ctx, n, sizeof(bool));
    return w->lo && w->hi && w->mid && w->xmin && w->xmax && w->target && w->key_lo &&
           w->key_hi && w->row && w->codes && w->code_lo && w->code_hi && w->falling;
}

/* Codes at both ends of the range: direction and key span of each feature. */
static splut_status ends(const splut_model *m, const splut_input_format *fmt, thr_work *w,
                         level_search *s)
{
    uint32_t n = m->n_inputs;
    for (uint32_t f = 0; f < n; f++) {
        w->xmin[f] = splut__raw_min(fmt);
        w->xmax[f] = splut__raw_max(fmt);
    }
    splut_status st = eval_row(m, fmt, w->xmin, s);
    if (st == SPLUT_OK)
        memcpy(w->code_lo, s->codes, n * sizeof(uint16_t));
    if (st == SPLUT_OK)
        st = eval_row(m, fmt, w->xmax, s);
    if (st != SPLUT_OK)
        return st;
    memcpy(w->code_hi, s->codes, n * sizeof(uint16_t));
    for (uint32_t f = 0; f < n; f++) {
        w->falling[f] = w->code_hi[f] < w->code_lo[f];
        w->key_lo[f] = key_of(w->code_lo[f], w->falling[f]);
        w->key_hi[f] = key_of(w->code_hi[f], w->falling[f]);
    }
    return SPLUT_OK;
}

static splut_status thresholds(const splut_model *m, const splut_input_format *fmt, thr_work *w,
                               int32_t *thr, uint16_t *codes, uint32_t *steps)
{
    uint32_t n = m->n_inputs, K = (1u << m->input_bits) - 1;
    level_search s = {w->lo, w->hi, w->target, w->row, w->codes};
    splut_status st = ends(m, fmt, w, &s);
    if (st != SPLUT_OK)
        return st;
    memset(thr, 0, (size_t)n * K * sizeof(int32_t));
    memset(codes, 0, (size_t)n * (K + 1) * sizeof(uint16_t));
    for (uint32_t f = 0; f < n; f++) {
        steps[f] = 0;
        codes[(size_t)f * (K + 1)] = w->code_lo[f];
    }
    /* Level k: every feature whose key rises by at least k over the range. */
    for (uint32_t k = 1; k <= K; k++) {
        bool any = false;
        for (uint32_t f = 0; f < n; f++) {
            bool on = w->key_hi[f] - w->key_lo[f] >= (int32_t)k;
            w->target[f] = on ? w->key_lo[f] + (int32_t)k : INT32_MIN;
            w->lo[f] = w->xmin[f];
            w->hi[f] = w->xmax[f];
            any |= on;
        }
        if (!any)
            break;
        st = bisect_level(m, fmt, w->falling, w->mid, &s);
        if (st != SPLUT_OK)
            return st;
        /* Codes at the found thresholds (a jump over several levels gives
         * one threshold for all of them). */
        st = eval_row(m, fmt, w->hi, &s);
        if (st != SPLUT_OK)
            return st;
        for (uint32_t f = 0; f < n; f++) {
            if (w->target[f] == INT32_MIN)
                continue;
            uint32_t i = steps[f];
            if (i && thr[(size_t)f * K + i - 1] == (int32_t)w->hi[f])
                continue;
            thr[(size_t)f * K + i] = (int32_t)w->hi[f];
            codes[(size_t)f * (K + 1) + i + 1] = s.codes[f];
            steps[f] = i + 1;
        }
    }
    return SPLUT_OK;
}

splut_status splut_model_input_thresholds(const splut_model *m, const splut_input_format *fmt,
                                          int32_t *thr, uint16_t *codes, uint32_t *steps)
{
    if (!m)
        return SPLUT_E_NULL;
    if (!fmt || !thr || !codes || !steps)
        return splut__fail(m->ctx, SPLUT_E_NULL, "splut_model_input_thresholds: NULL argument");
    if (!m->built)
        return splut__fail(m->ctx, SPLUT_E_STATE, "model is not built");
    splut_status st = splut__input_format_check(m->ctx, fmt, m->n_inputs);
    if (st != SPLUT_OK)
        return st;
    thr_work w;
    if (!work_alloc(m->ctx, &w, m->n_inputs ? m->n_inputs : 1)) {
        work_free(m->ctx, &w);
        return splut__fail(m->ctx, SPLUT_E_NOMEM, "out of memory computing input thresholds");
    }
    st = thresholds(m, fmt, &w, thr, codes, steps);
    work_free(m->ctx, &w);
    return st;
}
