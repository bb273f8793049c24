/*
 * Quantisers, monomials and the one per-neuron evaluation routine that both
 * eval-mode inference and truth-table enumeration use; eval-mode inference.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include <math.h>
#include <string.h>

#include "model-priv.h"

#define SCALE_MIN (1.0f / 65536.0f)

/* ---------------------------------------------------------------- quantiser */

float splut__quant_scale(const splut_model *m, const splut_quant *q)
{
    float s = exp2f(m->params[q->theta]);
    return s > SCALE_MIN ? s : SCALE_MIN;
}

float splut__quant_int_scale(const splut_quant *q)
{
    return q->kind == SPLUT_Q_SIGNED ? (float)(1u << (q->bits - 1)) : (float)((1u << q->bits) - 1);
}

float splut__quant_step(const splut_model *m, const splut_quant *q)
{
    return splut__quant_scale(m, q) / splut__quant_int_scale(q);
}

int32_t splut__quant_min(const splut_quant *q)
{
    return q->kind == SPLUT_Q_SIGNED ? -(int32_t)(1u << (q->bits - 1)) : 0;
}

int32_t splut__quant_max(const splut_quant *q)
{
    return q->kind == SPLUT_Q_SIGNED ? (int32_t)(1u << (q->bits - 1)) - 1
                                     : (int32_t)((1u << q->bits) - 1);
}

int32_t splut__quantize(float x, float scale, float int_scale, int32_t lo, int32_t hi, bool relu)
{
    if (relu && !(x > 0.0f))
        x = 0.0f;
    float v = x / scale * int_scale; /* Brevitas' order of operations */
    if (!(v >= (float)lo))           /* also maps NaN to the low end */
        v = (float)lo;
    if (v > (float)hi)
        v = (float)hi;
    return (int32_t)rintf(v); /* round half to even (default rounding mode) */
}

uint16_t splut__enc(const splut_quant *q, int32_t code)
{
    return (uint16_t)(q->kind == SPLUT_Q_SIGNED ? code + (int32_t)(1u << (q->bits - 1)) : code);
}

int32_t splut__dec(const splut_quant *q, uint16_t enc)
{
    return q->kind == SPLUT_Q_SIGNED ? (int32_t)enc - (int32_t)(1u << (q->bits - 1)) : enc;
}

const splut_quant *splut__layer_in_quant(const splut_model *m, size_t l)
{
    return l == 0 ? &m->in_q : &m->layers[l - 1].out_q;
}

/* ---------------------------------------------------------------- monomials */

uint32_t splut__monos_count(uint32_t F, uint32_t D)
{
    /* C(F+D, D) - 1, computed incrementally with an overflow guard. */
    uint64_t c = 1;
    for (uint32_t i = 1; i <= D; i++) {
        c = c * (F + i) / i;
        if (c > (1u << 20))
            return 0;
    }
    return (uint32_t)(c - 1);
}

/* Advance a non-decreasing tuple over [0, F) to its lexicographic successor;
 * false after the last one. */
static bool next_tuple(uint32_t *t, uint32_t d, uint32_t F)
{
    int32_t i = (int32_t)d - 1;
    while (i >= 0 && t[i] == F - 1)
        i--;
    if (i < 0)
        return false;
    t[i]++;
    for (uint32_t j = (uint32_t)i + 1; j < d; j++)
        t[j] = t[i];
    return true;
}

/* Base-F key of a tuple: lexicographic order of equal-length tuples. */
static uint64_t tuple_key(const uint32_t *t, uint32_t d, uint32_t F)
{
    uint64_t k = 0;
    for (uint32_t i = 0; i < d; i++)
        k = k * F + t[i];
    return k;
}

static int32_t find_key(const uint64_t *keys, uint32_t first, uint32_t count, uint64_t key)
{
    uint32_t lo = 0, hi = count;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (keys[first + mid] < key)
            lo = mid + 1;
        else
            hi = mid;
    }
    return (int32_t)(first + lo);
}

/* Terms of degree d follow those of degree d-1, each in lexicographic
 * (combinations_with_replacement) order. Term (i_0 ≤ … ≤ i_{d-1}) is its
 * prefix term times x[i_{d-1}]; the prefix is found by its key. */
splut_status splut__monos_init(splut_ctx *ctx, splut_monos *mo, uint32_t F, uint32_t D)
{
    uint32_t T = splut__monos_count(F, D);
    mo->T = T;
    mo->parent = splut__calloc(ctx, T ? T : 1, sizeof(int32_t));
    mo->var = splut__calloc(ctx, T ? T : 1, sizeof(uint16_t));
    uint64_t *keys = splut__calloc(ctx, T ? T : 1, sizeof(uint64_t));
    uint32_t *t = splut__calloc(ctx, (size_t)D + 1, sizeof(uint32_t));
    if (!mo->parent || !mo->var || !keys || !t) {
        splut__free(ctx, keys);
        splut__free(ctx, t);
        splut__monos_free(ctx, mo);
        return SPLUT_E_NOMEM;
    }
    uint32_t n = 0, prev_first = 0, prev_count = 0;
    for (uint32_t d = 1; d <= D; d++) {
        uint32_t first = n;
        memset(t, 0, d * sizeof(uint32_t));
        do {
            keys[n] = tuple_key(t, d, F);
            mo->var[n] = (uint16_t)t[d - 1];
            mo->parent[n] = d == 1 ? -1
                                   : find_key(keys, prev_first, prev_count,
                                              tuple_key(t, d - 1, F));
            n++;
        } while (next_tuple(t, d, F));
        prev_first = first;
        prev_count = n - first;
    }
    splut__free(ctx, keys);
    splut__free(ctx, t);
    return SPLUT_OK;
}

uint32_t splut__mono_vars(const splut_monos *mo, uint32_t t, uint8_t *vars)
{
    uint32_t deg = 0;
    for (int32_t u = (int32_t)t; u >= 0; u = mo->parent[u])
        deg++;
    uint32_t i = deg;
    for (int32_t u = (int32_t)t; u >= 0; u = mo->parent[u])
        vars[--i] = (uint8_t)mo->var[u]; /* largest variable first; callers have F < 256 */
    return deg;
}

int32_t splut__mono_find(const splut_monos *mo, const uint8_t *vars, uint32_t deg)
{
    uint8_t tmp[64];
    for (uint32_t t = 0; t < mo->T; t++) {
        if (splut__mono_vars(mo, t, tmp) == deg && memcmp(tmp, vars, deg) == 0)
            return (int32_t)t;
    }
    return -1;
}

void splut__monos_free(splut_ctx *ctx, splut_monos *mo)
{
    splut__free(ctx, mo->parent);
    splut__free(ctx, mo->var);
    mo->parent = NULL;
    mo->var = NULL;
}
/* ------------------------------------------- the per-neuron evaluation path */

void splut__eval_ctx_init(splut_eval_ctx *e, const splut_model *m, size_t l)
{
    const splut_layer *L = &m->layers[l];
    const splut_quant *iq = splut__layer_in_quant(m, l);
    e->m = m;
    e->L = L;
    float step = splut__quant_step(m, iq);
    for (uint32_t c = 0; c < (1u << iq->bits); c++)
        e->in_vals[c] = (float)splut__dec(iq, (uint16_t)c) * step;
    if (L->kind == SPLUT_NEURON_POLY_ADD) {
        const splut_quant *sq = &L->sub_q;
        e->sub_scale = splut__quant_scale(m, sq);
        e->sub_int_scale = splut__quant_int_scale(sq);
        e->sub_lo = splut__quant_min(sq);
        e->sub_hi = splut__quant_max(sq);
        float sstep = splut__quant_step(m, sq);
        for (uint32_t c = 0; c < (1u << sq->bits); c++)
            e->sub_vals[c] = (float)splut__dec(sq, (uint16_t)c) * sstep;
    }
    e->out_scale = splut__quant_scale(m, &L->out_q);
    e->out_int_scale = splut__quant_int_scale(&L->out_q);
    e->out_lo = splut__quant_min(&L->out_q);
    e->out_hi = splut__quant_max(&L->out_q);
}

SPLUT_HOT void splut__mono_batch(const splut_layer *L, const float *const *u, size_t count,
                                float *mono)
{
    const splut_monos *mo = &L->monos;
    for (uint32_t t = 0; t < mo->T; t++) {
        const float *x = u[mo->var[t]];
        float *dst = mono + (size_t)t * count;
        if (mo->parent[t] < 0) {
            memcpy(dst, x, count * sizeof(float));
            continue;
        }
        const float *par = mono + (size_t)mo->parent[t] * count;
        for (size_t p = 0; p < count; p++)
            dst[p] = par[p] * x[p];
    }
}

SPLUT_HOT void splut__affine_batch(const splut_eval_ctx *e, uint32_t n, uint32_t sub,
                                  const float *mono, size_t count, float *z)
{
    const splut_layer *L = e->L;
    size_t row = (size_t)n * L->A + sub;
    const float *w = e->m->params + L->w + row * L->T;
    float b = e->m->params[L->b + row];
    size_t p0 = 0;
    for (; p0 + 32 <= count; p0 += 32) {
        float acc[32];
        for (int q = 0; q < 32; q++)
            acc[q] = b;
        for (uint32_t t = 0; t < L->T; t++) {
            const float *mt = mono + (size_t)t * count + p0;
            float wt = w[t];
            for (int q = 0; q < 32; q++)
                acc[q] += wt * mt[q];
        }
        for (int q = 0; q < 32; q++)
            z[p0 + q] = acc[q];
    }
    for (size_t p = p0; p < count; p++)
        z[p] = b;
    for (uint32_t t = 0; t < L->T; t++) {
        const float *mt = mono + (size_t)t * count;
        float wt = w[t];
        for (size_t p = p0; p < count; p++)
            z[p] += wt * mt[p];
    }
}

splut_nl_off splut__nl_offsets(uint32_t F, uint32_t N)
{
    splut_nl_off o;
    size_t at = 0, nf = (size_t)N * F, nn = (size_t)N * N;
    o.w1 = at, at += nf;
    o.b1 = at, at += N;
    o.w2 = at, at += nn;
    o.r0 = at, at += nf;
    o.b2 = at, at += N;
    o.w3 = at, at += nn;
    o.b3 = at, at += N;
    o.w4 = at, at += N;
    o.r1 = at;
    return o;
}

uint32_t splut__nl_count(uint32_t F, uint32_t N)
{
    uint64_t t = 2ull * N * F + 2ull * N * N + 5ull * N;
    return t > (1u << 24) ? 0 : (uint32_t)t;
}

/* dst[p] = bias + Σ_j w[j]·src_j[p] over `k` rows of src (stride count). */
static void affine_rows(float bias, const float *w, const float *const *src, uint32_t k,
                        size_t count, float *dst)
{
    for (size_t p = 0; p < count; p++)
        dst[p] = bias;
    for (uint32_t j = 0; j < k; j++) {
        const float *s = src[j];
        float wj = w[j];
        for (size_t p = 0; p < count; p++)
            dst[p] += wj * s[p];
    }
}

static void relu_row(float *x, size_t count)
{
    for (size_t p = 0; p < count; p++)
        x[p] = x[p] > 0.0f ? x[p] : 0.0f;
}

SPLUT_HOT void splut__neuralut_batch(const splut_eval_ctx *e, uint32_t n, const float *const *u,
                                     size_t count, float *scratch, float *z)
{
    const splut_layer *L = e->L;
    const uint32_t N = L->N, F = L->F;
    splut_nl_off o = splut__nl_offsets(F, N);
    const float *w = e->m->params + L->w + (size_t)n * L->T;
    float *h1 = scratch, *h2 = scratch + (size_t)N * count, *h3 = h2 + (size_t)N * count;
    const float *rows1[256], *rows2[256];
    for (uint32_t k = 0; k < N; k++) {
        rows1[k] = h1 + (size_t)k * count;
        rows2[k] = h2 + (size_t)k * count;
    }
    for (uint32_t k = 0; k < N; k++) {
        float *d = h1 + (size_t)k * count;
        affine_rows(w[o.b1 + k], w + o.w1 + (size_t)k * F, u, F, count, d);
        relu_row(d, count);
    }
    for (uint32_t k = 0; k < N; k++) {
        float *d = h2 + (size_t)k * count;
        affine_rows(w[o.b2 + k], w + o.w2 + (size_t)k * N, rows1, N, count, d);
        const float *r0 = w + o.r0 + (size_t)k * F;
        for (uint32_t f = 0; f < F; f++)
            for (size_t p = 0; p < count; p++)
                d[p] += r0[f] * u[f][p];
        relu_row(d, count);
    }
    for (uint32_t k = 0; k < N; k++) {
        float *d = h3 + (size_t)k * count;
        affine_rows(w[o.b3 + k], w + o.w3 + (size_t)k * N, rows2, N, count, d);
        relu_row(d, count);
    }
    const float *rows3[256];
    for (uint32_t k = 0; k < N; k++)
        rows3[k] = h3 + (size_t)k * count;
    affine_rows(e->m->params[L->b + n], w + o.w4, rows3, N, count, z);
    for (uint32_t k = 0; k < N; k++)
        for (size_t p = 0; p < count; p++)
            z[p] += w[o.r1 + k] * rows2[k][p];
}

/* BatchNorm (running statistics) then the output quantiser. */
SPLUT_HOT static void finish_batch(const splut_eval_ctx *e, uint32_t n, const float *z, size_t count,
                         uint16_t *out)
{
    const splut_layer *L = e->L;
    const float *P = e->m->params, *S = e->m->state;
    float mean = S[L->run_mean + n], den = sqrtf(S[L->run_var + n] + SPLUT_BN_EPS);
    float gamma = P[L->bn_gamma + n], beta = P[L->bn_beta + n];
    bool relu = L->out_q.kind == SPLUT_Q_RELU;
    float lo = (float)e->out_lo, hi = (float)e->out_hi, sc = e->out_scale, is = e->out_int_scale;
    float floor0 = relu ? 0.0f : -INFINITY;
    int32_t off = L->out_q.kind == SPLUT_Q_SIGNED ? (int32_t)(1u << (L->out_q.bits - 1)) : 0;
    for (size_t p = 0; p < count; p++) {
        float y = (z[p] - mean) / den * gamma + beta;
        y = y > floor0 ? y : (relu ? 0.0f : y);
        float v = y / sc * is;
        v = v >= lo ? v : lo;
        v = v > hi ? hi : v;
        out[p] = (uint16_t)((int32_t)__builtin_rintf(v) + off);
    }
}

void splut__sub_codes(const splut_eval_ctx *e, uint32_t n, const float *z, size_t count,
                      uint16_t *out)
{
    const splut_layer *L = e->L;
    if (L->kind != SPLUT_NEURON_POLY_ADD) {
        finish_batch(e, n, z, count, out);
        return;
    }
    for (size_t p = 0; p < count; p++) {
        int32_t code = splut__quantize(z[p], e->sub_scale, e->sub_int_scale, e->sub_lo,
                                       e->sub_hi, false);
        out[p] = splut__enc(&L->sub_q, code);
    }
}

void splut__adder_batch(const splut_eval_ctx *e, uint32_t n, const uint16_t *const *sub,
                        size_t count, uint16_t *out)
{
    const splut_layer *L = e->L;
    float a_count = (float)L->A;
    float z[64];
    for (size_t p0 = 0; p0 < count; p0 += 64) {
        size_t k = count - p0 < 64 ? count - p0 : 64;
        for (size_t p = 0; p < k; p++) {
            float sum = 0.0f;
            for (uint32_t a = 0; a < L->A; a++)
                sum += e->sub_vals[sub[a][p0 + p]];
            z[p] = sum / a_count;
        }
        finish_batch(e, n, z, k, out + p0);
    }
}

/* ------------------------------------------------------- eval-mode inference */

static splut_status check_built(const splut_model *m)
{
    if (!m->built)
        return splut__fail(m->ctx, SPLUT_E_STATE, "model is not built");
    return SPLUT_OK;
}

splut_status splut_model_input_codes(const splut_model *m, const float *x, size_t n,
                                     uint16_t *codes)
{
    if (!m || (n && (!x || !codes)))
        return m ? splut__fail(m->ctx, SPLUT_E_NULL, "splut_model_input_codes: NULL buffer")
                 : SPLUT_E_NULL;
    splut_status st = check_built(m);
    if (st != SPLUT_OK)
        return st;
    const float *P = m->params, *S = m->state;
    const splut_quant *q = &m->in_q;
    float scale = splut__quant_scale(m, q), isc = splut__quant_int_scale(q);
    int32_t lo = splut__quant_min(q), hi = splut__quant_max(q);
    bool bn = m->input_mode == SPLUT_INPUT_BN_HARDTANH;
    bool thermo = m->input_mode == SPLUT_INPUT_THERMOMETER;
    for (size_t i = 0; i < n; i++) {
        for (uint32_t f = 0; f < m->n_inputs; f++) {
            float v = x[i * m->n_inputs + f];
            if (!isfinite(v))
                return splut__fail(m->ctx, SPLUT_E_NON_FINITE,
                                   "feature %u of sample %zu is not finite", f, i);
            if (thermo) {
                codes[i * m->n_inputs + f] = splut__thermo_code(m, f, v);
                continue;
            }
            if (bn)
                v = (v - S[m->in_run_mean + f]) / sqrtf(S[m->in_run_var + f] + SPLUT_BN_EPS) *
                        P[m->in_gamma + f] +
                    P[m->in_beta + f] + P[m->in_bias];
            codes[i * m->n_inputs + f] =
                splut__enc(q, splut__quantize(v, scale, isc, lo, hi, !bn));
        }
    }
    return SPLUT_OK;
}

/* Samples run through the network in blocks, codes stored feature-major
 * (block[f][p]) so every neuron sees contiguous columns. */
#define FWD_BLOCK 128

typedef struct fwd_job {
    const splut_model *m;
    const uint16_t *in;
    uint16_t *out;
    size_t n;
    const splut_eval_ctx *ectx; /* one per layer */
    size_t width_max, t_max, k_max;
    /* per worker scratch */
    uint16_t *codes; /* 2 × width_max × FWD_BLOCK */
    uint16_t *subs;  /* 16 × FWD_BLOCK */
    float *vals;     /* k_max × FWD_BLOCK */
    float *mono;     /* t_max × FWD_BLOCK */
    float *z;        /* FWD_BLOCK */
} fwd_job;

typedef struct fwd_scratch {
    uint16_t *cur, *nxt, *subs;
    float *vals, *mono, *z;
} fwd_scratch;

/* One neuron of layer e->L on `count` samples of feature-major codes. */
static void neuron_block(const splut_eval_ctx *e, uint32_t n, const uint16_t *cur,
                         size_t count, const fwd_scratch *s, uint16_t *dst)
{
    const splut_layer *L = e->L;
    if (L->kind == SPLUT_NEURON_LUT) {
        splut__lut_eval(e->m, (size_t)(L - e->m->layers), n, cur, FWD_BLOCK, count, dst);
        return;
    }
    uint32_t k = L->A * L->F;
    const uint32_t *idx = L->conn + (size_t)n * k;
    const float *u[SPLUT_MAX_FAN_IN];
    for (uint32_t i = 0; i < k; i++) {
        const uint16_t *col = cur + (size_t)idx[i] * FWD_BLOCK;
        float *v = s->vals + (size_t)i * FWD_BLOCK;
        for (size_t p = 0; p < count; p++)
            v[p] = e->in_vals[col[p]];
        u[i] = v;
    }
    if (L->kind == SPLUT_NEURON_NEURALUT) {
        splut__neuralut_batch(e, n, u, count, s->mono, s->z);
        splut__sub_codes(e, n, s->z, count, dst);
        return;
    }
    if (L->kind != SPLUT_NEURON_POLY_ADD) {
        splut__mono_batch(L, u, count, s->mono);
        splut__affine_batch(e, n, 0, s->mono, count, s->z);
        splut__sub_codes(e, n, s->z, count, dst);
        return;
    }
    const uint16_t *subp[16];
    for (uint32_t a = 0; a < L->A; a++) {
        uint16_t *sc = s->subs + (size_t)a * FWD_BLOCK;
        splut__mono_batch(L, u + a * L->F, count, s->mono);
        splut__affine_batch(e, n, a, s->mono, count, s->z);
        splut__sub_codes(e, n, s->z, count, sc);
        subp[a] = sc;
    }
    splut__adder_batch(e, n, subp, count, dst);
}

static void forward_block(const fwd_job *j, size_t first, size_t count, fwd_scratch *s)
{
    const splut_model *m = j->m;
    for (size_t p = 0; p < count; p++)
        for (uint32_t f = 0; f < m->n_inputs; f++)
            s->cur[(size_t)f * FWD_BLOCK + p] = j->in[(first + p) * m->n_inputs + f];
    for (size_t l = 0; l < m->n_layers; l++) {
        const splut_layer *L = &m->layers[l];
        for (uint32_t n = 0; n < L->out; n++)
            neuron_block(&j->ectx[l], n, s->cur, count, s, s->nxt + (size_t)n * FWD_BLOCK);
        uint16_t *t = s->cur;
        s->cur = s->nxt;
        s->nxt = t;
    }
    uint32_t outs = m->layers[m->n_layers - 1].out;
    for (size_t p = 0; p < count; p++)
        for (uint32_t o = 0; o < outs; o++)
            j->out[(first + p) * outs + o] = s->cur[(size_t)o * FWD_BLOCK + p];
}

static void forward_task(void *arg, size_t b, size_t e, unsigned worker)
{
    const fwd_job *j = arg;
    fwd_scratch s;
    s.cur = j->codes + (size_t)worker * 2 * j->width_max * FWD_BLOCK;
    s.nxt = s.cur + j->width_max * FWD_BLOCK;
    s.subs = j->subs + (size_t)worker * 16 * FWD_BLOCK;
    s.vals = j->vals + (size_t)worker * j->k_max * FWD_BLOCK;
    s.mono = j->mono + (size_t)worker * j->t_max * FWD_BLOCK;
    s.z = j->z + (size_t)worker * FWD_BLOCK;
    for (size_t blk = b; blk < e; blk++) {
        size_t first = blk * FWD_BLOCK;
        size_t count = j->n - first < FWD_BLOCK ? j->n - first : FWD_BLOCK;
        forward_block(j, first, count, &s);
    }
}

static splut_status check_codes(const splut_model *m, const uint16_t *codes, size_t n)
{
    uint32_t lim = 1u << m->input_bits;
    for (size_t i = 0; i < n * m->n_inputs; i++)
        if (codes[i] >= lim)
            return splut__fail(m->ctx, SPLUT_E_OUT_OF_RANGE,
                               "input code %u of sample %zu, feature %zu is not below 2^%u",
                               codes[i], i / m->n_inputs, i % m->n_inputs, m->input_bits);
    return SPLUT_OK;
}

splut_status splut_model_forward_codes(const splut_model *m, const uint16_t *in_codes, size_t n,
                                       uint16_t *out_codes)
{
    if (!m || (n && (!in_codes || !out_codes)))
        return m ? splut__fail(m->ctx, SPLUT_E_NULL, "splut_model_forward_codes: NULL buffer")
                 : SPLUT_E_NULL;
    splut_status st = check_built(m);
    if (st == SPLUT_OK)
        st = check_codes(m, in_codes, n);
    if (st != SPLUT_OK || n == 0)
        return st;
    splut_ctx *ctx = m->ctx;
    fwd_job j;
    memset(&j, 0, sizeof(j));
    j.m = m;
    j.in = in_codes;
    j.out = out_codes;
    j.n = n;
    j.width_max = m->n_inputs;
    j.t_max = 1;
    j.k_max = 1;
    for (size_t l = 0; l < m->n_layers; l++) {
        const splut_layer *L = &m->layers[l];
        if (L->out > j.width_max)
            j.width_max = L->out;
        if (L->T > j.t_max)
            j.t_max = L->T;
        if ((size_t)L->A * L->F > j.k_max)
            j.k_max = (size_t)L->A * L->F;
    }
    size_t blocks = (n + FWD_BLOCK - 1) / FWD_BLOCK;
    unsigned threads = splut__threads(ctx);
    if ((size_t)threads > blocks)
        threads = (unsigned)blocks;
    splut_pool *pool = NULL;
    splut_eval_ctx *ectx = splut__calloc(ctx, m->n_layers, sizeof(splut_eval_ctx));
    j.codes = splut__calloc(ctx, (size_t)threads * 2 * j.width_max * FWD_BLOCK, sizeof(uint16_t));
    j.subs = splut__calloc(ctx, (size_t)threads * 16 * FWD_BLOCK, sizeof(uint16_t));
    j.vals = splut__calloc(ctx, (size_t)threads * j.k_max * FWD_BLOCK, sizeof(float));
    j.mono = splut__calloc(ctx, (size_t)threads * j.t_max * FWD_BLOCK, sizeof(float));
    j.z = splut__calloc(ctx, (size_t)threads * FWD_BLOCK, sizeof(float));
    if (!ectx || !j.codes || !j.subs || !j.vals || !j.mono || !j.z) {
        st = splut__fail(ctx, SPLUT_E_NOMEM, "out of memory for inference buffers");
        goto out;
    }
    for (size_t l = 0; l < m->n_layers; l++)
        splut__eval_ctx_init(&ectx[l], m, l);
    j.ectx = ectx;
    st = splut__pool_create(ctx, threads, &pool);
    if (st != SPLUT_OK)
        goto out;
    splut__pool_run(pool, blocks, 1, forward_task, &j);
out:
    splut__pool_destroy(pool);
    splut__free(ctx, ectx);
    splut__free(ctx, j.codes);
    splut__free(ctx, j.subs);
    splut__free(ctx, j.vals);
    splut__free(ctx, j.mono);
    splut__free(ctx, j.z);
    return st;
}

/* The classifier's value of one output code of the last layer @p L: the
 * dequantised code through the post-transforms (the loss's logit). */
static float output_value(const splut_model *m, const splut_layer *L, float step, uint16_t code)
{
    float bias = m->params[L->post_bias], weight = m->params[L->post_weight];
    return ((float)splut__dec(&L->out_q, code) * step + bias) * weight;
}

splut_status splut_model_output_values(const splut_model *m, const uint16_t *out_codes, size_t n,
                                       float *values)
{
    if (!m || (n && (!out_codes || !values)))
        return m ? splut__fail(m->ctx, SPLUT_E_NULL, "splut_model_output_values: NULL buffer")
                 : SPLUT_E_NULL;
    splut_status st = check_built(m);
    if (st != SPLUT_OK)
        return st;
    const splut_layer *L = &m->layers[m->n_layers - 1];
    uint32_t levels = 1u << L->out_q.bits;
    for (size_t i = 0; i < n * L->out; i++)
        if (out_codes[i] >= levels)
            return splut__fail(m->ctx, SPLUT_E_OUT_OF_RANGE,
                               "output code %u of sample %zu is not below %u", out_codes[i],
                               i / L->out, levels);
    float step = splut__quant_step(m, &L->out_q);
    for (size_t i = 0; i < n * L->out; i++)
        values[i] = L->kind == SPLUT_NEURON_LUT ? (float)out_codes[i]
                                                : output_value(m, L, step, out_codes[i]);
    return SPLUT_OK;
}

splut_status splut_model_classify_codes(const splut_model *m, const uint16_t *out_codes,
                                        size_t n, int32_t *pred)
{
    if (!m || (n && (!out_codes || !pred)))
        return m ? splut__fail(m->ctx, SPLUT_E_NULL, "splut_model_classify_codes: NULL buffer")
                 : SPLUT_E_NULL;
    splut_status st = check_built(m);
    if (st != SPLUT_OK)
        return st;
    const splut_layer *L = &m->layers[m->n_layers - 1];
    float step = splut__quant_step(m, &L->out_q);
    for (size_t i = 0; i < n; i++) {
        const uint16_t *c = out_codes + i * L->out;
        if (splut__groupsum_classes(m)) {
            pred[i] = splut__groupsum_class(m, c);
            continue;
        }
        if (L->out == 1) {
            pred[i] = output_value(m, L, step, c[0]) > 0.0f;
            continue;
        }
        int32_t best = 0;
        float best_v = -INFINITY;
        for (uint32_t k = 0; k < L->out; k++) {
            float v = output_value(m, L, step, c[k]);
            if (v > best_v) {
                best_v = v;
                best = (int32_t)k;
            }
        }
        pred[i] = best;
    }
    return SPLUT_OK;
}

splut_status splut_model_predict(const splut_model *m, const float *x, size_t n, int32_t *pred,
                                 uint16_t *out_codes)
{
    if (!m || (n && !x))
        return m ? splut__fail(m->ctx, SPLUT_E_NULL, "splut_model_predict: x is NULL")
                 : SPLUT_E_NULL;
    splut_status st = check_built(m);
    if (st != SPLUT_OK)
        return st;
    /* Blocks bound the code buffers whatever n is. */
    const size_t block = 4096;
    size_t in_w = m->n_inputs, out_w = splut_model_num_outputs(m);
    size_t bs = n < block ? n : block;
    uint16_t *ic = splut__calloc(m->ctx, bs * in_w + 1, sizeof(uint16_t));
    uint16_t *oc = splut__calloc(m->ctx, bs * out_w + 1, sizeof(uint16_t));
    if (!ic || !oc) {
        st = splut__fail(m->ctx, SPLUT_E_NOMEM, "out of memory for prediction buffers");
        goto out;
    }
    for (size_t i = 0; i < n && st == SPLUT_OK; i += bs) {
        size_t k = n - i < bs ? n - i : bs;
        st = splut_model_input_codes(m, x + i * in_w, k, ic);
        if (st == SPLUT_OK)
            st = splut_model_forward_codes(m, ic, k, oc);
        if (st == SPLUT_OK && pred)
            st = splut_model_classify_codes(m, oc, k, pred + i);
        if (st == SPLUT_OK && out_codes)
            memcpy(out_codes + i * out_w, oc, k * out_w * sizeof(uint16_t));
    }
out:
    splut__free(m->ctx, ic);
    splut__free(m->ctx, oc);
    return st;
}
