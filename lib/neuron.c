/*
 * Quantisers, monomials and the one per-neuron evaluation routine that both
 * eval-mode inference and truth-table enumeration use; eval-mode inference.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include <math.h>
#include <string.h>

#include "core-priv.h"

#define BN_EPS 1e-5f
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
    mo->var = splut__calloc(ctx, T ? T : 1, 1);
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
            mo->var[n] = (uint8_t)t[d - 1];
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

/* BatchNorm (running statistics) then the output quantiser. */
static uint16_t finish_neuron(const splut_eval_ctx *e, uint32_t n, float z)
{
    const splut_model *m = e->m;
    const splut_layer *L = e->L;
    const float *P = m->params, *S = m->state;
    float y = (z - S[L->run_mean + n]) / sqrtf(S[L->run_var + n] + BN_EPS) * P[L->bn_gamma + n] +
              P[L->bn_beta + n];
    int32_t code = splut__quantize(y, e->out_scale, e->out_int_scale, e->out_lo, e->out_hi,
                                   L->out_q.kind == SPLUT_Q_RELU);
    return splut__enc(&L->out_q, code);
}

uint16_t splut__eval_sub(const splut_eval_ctx *e, uint32_t n, uint32_t sub,
                         const uint16_t *in_enc, float *mono)
{
    const splut_layer *L = e->L;
    const splut_monos *mo = &L->monos;
    size_t row = (size_t)n * L->A + sub;
    const float *w = e->m->params + L->w + row * L->T;
    float z = e->m->params[L->b + row];
    for (uint32_t t = 0; t < L->T; t++) {
        float x = e->in_vals[in_enc[mo->var[t]]];
        mono[t] = mo->parent[t] < 0 ? x : mono[mo->parent[t]] * x;
        z += w[t] * mono[t];
    }
    if (L->kind != SPLUT_NEURON_POLY_ADD)
        return finish_neuron(e, n, z);
    int32_t code = splut__quantize(z, e->sub_scale, e->sub_int_scale, e->sub_lo, e->sub_hi,
                                   false);
    return splut__enc(&L->sub_q, code);
}

uint16_t splut__eval_adder(const splut_eval_ctx *e, uint32_t n, const uint16_t *sub_enc)
{
    const splut_layer *L = e->L;
    float sum = 0.0f;
    for (uint32_t a = 0; a < L->A; a++)
        sum += e->sub_vals[sub_enc[a]];
    return finish_neuron(e, n, sum / (float)L->A);
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
    for (size_t i = 0; i < n; i++) {
        for (uint32_t f = 0; f < m->n_inputs; f++) {
            float v = x[i * m->n_inputs + f];
            if (!isfinite(v))
                return splut__fail(m->ctx, SPLUT_E_NON_FINITE,
                                   "feature %u of sample %zu is not finite", f, i);
            if (bn)
                v = (v - S[m->in_run_mean + f]) / sqrtf(S[m->in_run_var + f] + BN_EPS) *
                        P[m->in_gamma + f] +
                    P[m->in_beta + f] + P[m->in_bias];
            codes[i * m->n_inputs + f] =
                splut__enc(q, splut__quantize(v, scale, isc, lo, hi, !bn));
        }
    }
    return SPLUT_OK;
}

typedef struct fwd_job {
    const splut_model *m;
    const uint16_t *in;
    uint16_t *out;
    splut_eval_ctx *ectx; /* one per layer */
    uint16_t *scratch;    /* per worker: 2 × max width codes + sub codes */
    float *mono;          /* per worker: max T floats */
    size_t width_max, t_max;
} fwd_job;

static void forward_one(const fwd_job *j, const uint16_t *in, uint16_t *out, uint16_t *buf,
                        float *mono)
{
    const splut_model *m = j->m;
    uint16_t *cur = buf, *nxt = buf + j->width_max;
    uint16_t gathered[512], subs[16];
    memcpy(cur, in, m->n_inputs * sizeof(uint16_t));
    for (size_t l = 0; l < m->n_layers; l++) {
        const splut_layer *L = &m->layers[l];
        const splut_eval_ctx *e = &j->ectx[l];
        uint32_t k = L->A * L->F;
        uint16_t *dst = l + 1 == m->n_layers ? out : nxt;
        for (uint32_t n = 0; n < L->out; n++) {
            const uint32_t *idx = L->conn + (size_t)n * k;
            for (uint32_t i = 0; i < k; i++)
                gathered[i] = cur[idx[i]];
            if (L->kind != SPLUT_NEURON_POLY_ADD) {
                dst[n] = splut__eval_sub(e, n, 0, gathered, mono);
                continue;
            }
            for (uint32_t a = 0; a < L->A; a++)
                subs[a] = splut__eval_sub(e, n, a, gathered + a * L->F, mono);
            dst[n] = splut__eval_adder(e, n, subs);
        }
        uint16_t *t = cur;
        cur = nxt;
        nxt = t;
    }
}

static void forward_task(void *arg, size_t b, size_t e, unsigned worker)
{
    const fwd_job *j = arg;
    const splut_model *m = j->m;
    uint16_t *buf = j->scratch + (size_t)worker * 2 * j->width_max;
    float *mono = j->mono + (size_t)worker * j->t_max;
    uint32_t outs = splut_model_num_outputs(m);
    for (size_t i = b; i < e; i++)
        forward_one(j, j->in + i * m->n_inputs, j->out + i * outs, buf, mono);
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
    fwd_job j = {m, in_codes, out_codes, NULL, NULL, NULL, m->n_inputs, 1};
    for (size_t l = 0; l < m->n_layers; l++) {
        if (m->layers[l].out > j.width_max)
            j.width_max = m->layers[l].out;
        if (m->layers[l].T > j.t_max)
            j.t_max = m->layers[l].T;
    }
    unsigned threads = splut__threads(ctx);
    if ((size_t)threads > n)
        threads = (unsigned)n;
    splut_pool *pool = NULL;
    j.ectx = splut__calloc(ctx, m->n_layers, sizeof(splut_eval_ctx));
    j.scratch = splut__calloc(ctx, (size_t)threads * 2 * j.width_max, sizeof(uint16_t));
    j.mono = splut__calloc(ctx, (size_t)threads * j.t_max, sizeof(float));
    if (!j.ectx || !j.scratch || !j.mono) {
        st = splut__fail(ctx, SPLUT_E_NOMEM, "out of memory for inference buffers");
        goto out;
    }
    for (size_t l = 0; l < m->n_layers; l++)
        splut__eval_ctx_init(&j.ectx[l], m, l);
    st = splut__pool_create(ctx, threads, &pool);
    if (st != SPLUT_OK)
        goto out;
    splut__pool_run(pool, n, 64, forward_task, &j);
out:
    splut__pool_destroy(pool);
    splut__free(ctx, j.ectx);
    splut__free(ctx, j.scratch);
    splut__free(ctx, j.mono);
    return st;
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
    float bias = m->params[L->post_bias], weight = m->params[L->post_weight];
    for (size_t i = 0; i < n; i++) {
        const uint16_t *c = out_codes + i * L->out;
        if (L->out == 1) {
            pred[i] = ((float)splut__dec(&L->out_q, c[0]) * step + bias) * weight > 0.0f;
            continue;
        }
        int32_t best = 0;
        float best_v = -INFINITY;
        for (uint32_t k = 0; k < L->out; k++) {
            float v = ((float)splut__dec(&L->out_q, c[k]) * step + bias) * weight;
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
