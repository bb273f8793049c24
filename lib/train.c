/*
 * Quantisation-aware training: forward and backward passes for every neuron
 * kind, train-mode BatchNorm, cross-entropy / BCE losses, AdamW with the
 * cosine-with-warm-restarts schedule.
 *
 * Layout: activations are feature-major ([feature][batch]) so a neuron's
 * inputs are whole rows and every inner loop runs over the batch.
 * Determinism: work is split over neurons (or features); every reduction has
 * a fixed order that does not depend on the thread count. Gradients towards a
 * layer's inputs are first written per (neuron, input slot) and then summed
 * per input feature in neuron order.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include <math.h>
#include <string.h>

#include "train-priv.h"

#define BN_MOMENTUM 0.1f
#define SCALE_MIN (1.0f / 65536.0f)
#define LN2 0.69314718055994530942f
#define LANES 32 /* fixed reduction lanes, see sum8() */

/* Small helpers are forced inline so they take the vector width of the hot
 * clone calling them. */
#if defined(__GNUC__)
#define INLINE static inline __attribute__((always_inline))
#else
#define INLINE static inline
#endif

/* ------------------------------------------------------------- workspace */

/* Per-layer buffers, all [rows][B]. */
typedef struct layer_ws {
    float *zsub;     /* POLY_ADD: out·A pre-quantiser sub-neuron outputs */
    float *ysub;     /* POLY_ADD: out·A quantised sub-neuron values */
    float *xhat;     /* out: BN-normalised */
    float *y;        /* out: BN output (quantiser input) */
    float *h;        /* out: quantised output values */
    float *dh;       /* out: gradient w.r.t. h */
    float *dcontrib; /* out·A·F: gradient towards each input slot */
    float *bn_mean, *bn_var, *inv_std; /* out: batch statistics */
    double *q_part;  /* out·2: per-neuron partial scale gradients (out, sub) */
    uint32_t *inv_start, *inv_list; /* inverse connectivity: input → slots */
    float *efd_coefs; /* LUT layers with F ≤ 6: vectorised EFD coefficients */
} layer_ws;

/* Per-worker scratch. */
typedef struct worker_ws {
    float *mono, *dmono; /* T_max × B */
    float *dz;           /* A_max × B */
    float *z;            /* B */
} worker_ws;

struct splut_train_ws {
    size_t cap_b;
    size_t n_layers;
    float *x;           /* n_in × B: input features, transposed */
    uint8_t *in_bad;    /* n_in: feature column had a non-finite value */
    float *in_xhat, *in_v, *in_g, *in_h, *in_mean, *in_var, *in_inv_std; /* input stage */
    double *in_part;    /* n_in × 3: d bias, d theta partials */
    float *logits, *dlogits; /* out × B */
    float *map_xs;      /* learnable mapping, every input a candidate: ±1, B × in */
    int8_t *map_xs8;    /* learnable mapping, random candidates: ±1 rows, in × B */
    float *grad;        /* n_params */
    layer_ws *L;
    worker_ws *W;
    unsigned n_workers;
    bool exact_round;   /* false only in finite-difference tests */
};

static void free_layer_ws(splut_ctx *ctx, layer_ws *w)
{
    float **fs[] = {&w->zsub, &w->ysub, &w->xhat, &w->y, &w->h, &w->dh, &w->dcontrib,
                    &w->bn_mean, &w->bn_var, &w->inv_std, &w->efd_coefs};
    for (size_t i = 0; i < sizeof(fs) / sizeof(fs[0]); i++) {
        splut__free(ctx, *fs[i]);
        *fs[i] = NULL;
    }
    splut__free(ctx, w->q_part);
    splut__free(ctx, w->inv_start);
    splut__free(ctx, w->inv_list);
    w->q_part = NULL;
    w->inv_start = w->inv_list = NULL;
}

static void free_ws(splut_ctx *ctx, splut_train_ws *ws)
{
    if (!ws)
        return;
    for (size_t l = 0; ws->L && l < ws->n_layers; l++)
        free_layer_ws(ctx, &ws->L[l]);
    for (unsigned i = 0; ws->W && i < ws->n_workers; i++) {
        splut__free(ctx, ws->W[i].mono);
        splut__free(ctx, ws->W[i].dmono);
        splut__free(ctx, ws->W[i].dz);
        splut__free(ctx, ws->W[i].z);
    }
    float *fs[] = {ws->x, ws->in_xhat, ws->in_v, ws->in_g, ws->in_h, ws->in_mean, ws->in_var,
                   ws->in_inv_std, ws->logits, ws->dlogits, ws->grad, ws->map_xs};
    for (size_t i = 0; i < sizeof(fs) / sizeof(fs[0]); i++)
        splut__free(ctx, fs[i]);
    splut__free(ctx, ws->in_part);
    splut__free(ctx, ws->map_xs8);
    splut__free(ctx, ws->in_bad);
    splut__free(ctx, ws->L);
    splut__free(ctx, ws->W);
    splut__free(ctx, ws);
}

static size_t at_least_one(size_t n)
{
    return n ? n : 1;
}

#define ALLOC_F(ptr, count) \
    do { \
        (ptr) = splut__calloc(ctx, at_least_one(count), sizeof(*(ptr))); \
        if (!(ptr)) \
            return false; \
    } while (0)

static bool alloc_layer_ws(splut_ctx *ctx, const splut_layer *L, size_t B, layer_ws *w)
{
    size_t subs = (size_t)L->out * L->A;
    if (L->kind == SPLUT_NEURON_POLY_ADD) {
        ALLOC_F(w->zsub, subs * B);
        ALLOC_F(w->ysub, subs * B);
    }
    ALLOC_F(w->xhat, (size_t)L->out * B);
    ALLOC_F(w->y, (size_t)L->out * B);
    ALLOC_F(w->h, (size_t)L->out * B);
    ALLOC_F(w->dh, (size_t)L->out * B);
    ALLOC_F(w->dcontrib, subs * L->F * B);
    ALLOC_F(w->bn_mean, L->out);
    ALLOC_F(w->bn_var, L->out);
    ALLOC_F(w->inv_std, L->out);
    ALLOC_F(w->q_part, (size_t)L->out * 2);
    ALLOC_F(w->inv_start, (size_t)L->in + 1);
    ALLOC_F(w->inv_list, subs * L->F);
    size_t coefs = L->kind == SPLUT_NEURON_LUT ? splut__lut_efd_coef_count(L->F) : 0;
    if (coefs) {
        ALLOC_F(w->efd_coefs, coefs);
        splut__lut_efd_coefs(L->F, w->efd_coefs);
    }
    return true;
}

static bool alloc_ws_buffers(splut_ctx *ctx, const splut_model *m, size_t B, splut_train_ws *ws)
{
    size_t n_in = m->n_inputs, outs = splut_model_num_outputs(m);
    size_t t_max = 1, a_max = 1;
    ALLOC_F(ws->L, m->n_layers);
    ws->n_layers = m->n_layers;
    for (size_t l = 0; l < m->n_layers; l++) {
        const splut_layer *L = &m->layers[l];
        if (!alloc_layer_ws(ctx, L, B, &ws->L[l]))
            return false;
        if (L->T > t_max)
            t_max = L->T;
        if (L->kind == SPLUT_NEURON_LUT && ((size_t)L->T * L->F + B - 1) / B > t_max)
            t_max = ((size_t)L->T * L->F + B - 1) / B; /* EFD table in the mono scratch */
        if (L->A > a_max)
            a_max = L->A;
    }
    ALLOC_F(ws->W, ws->n_workers);
    for (unsigned i = 0; i < ws->n_workers; i++) {
        ALLOC_F(ws->W[i].mono, t_max * B);
        ALLOC_F(ws->W[i].dmono, t_max * B);
        ALLOC_F(ws->W[i].dz, a_max * B);
        ALLOC_F(ws->W[i].z, B);
    }
    ALLOC_F(ws->x, n_in * B);
    ALLOC_F(ws->in_xhat, n_in * B);
    ALLOC_F(ws->in_v, n_in * B);
    ALLOC_F(ws->in_g, n_in * B);
    ALLOC_F(ws->in_bad, n_in);
    ALLOC_F(ws->in_h, n_in * B);
    ALLOC_F(ws->in_mean, n_in);
    ALLOC_F(ws->in_var, n_in);
    ALLOC_F(ws->in_inv_std, n_in);
    ALLOC_F(ws->in_part, n_in * 2);
    ALLOC_F(ws->logits, outs * B);
    ALLOC_F(ws->dlogits, outs * B);
    ALLOC_F(ws->grad, m->n_params);
    if (m->map_k && splut__lut_map_shared(m))
        ALLOC_F(ws->map_xs, (size_t)m->layers[0].in * B);
    else if (m->map_k) /* a quarter of the bytes to gather per candidate */
        ALLOC_F(ws->map_xs8, (size_t)m->layers[0].in * B);
    return true;
}

/* (Re)allocate the workspace for batches up to B; keeps the old one on failure. */
static splut_status ensure_ws(splut_trainer *t, size_t B)
{
    if (t->ws && t->ws->cap_b >= B)
        return SPLUT_OK;
    splut_ctx *ctx = t->model->ctx;
    splut_train_ws *ws = splut__calloc(ctx, 1, sizeof(*ws));
    if (!ws)
        return splut__fail(ctx, SPLUT_E_NOMEM, "out of memory for the training workspace");
    ws->cap_b = B;
    ws->n_workers = splut__pool_size(t->pool);
    ws->exact_round = t->ws ? t->ws->exact_round : true;
    if (!alloc_ws_buffers(ctx, t->model, B, ws)) {
        free_ws(ctx, ws);
        return splut__fail(ctx, SPLUT_E_NOMEM,
                           "out of memory for the training workspace (batch %zu)", B);
    }
    free_ws(ctx, t->ws);
    t->ws = ws;
    return SPLUT_OK;
}

/* ------------------------------------------------------ batch reductions */

/* Fixed-order sums over LANES lanes (four independent vector accumulators, so
 * the adds pipeline) folded in a fixed tree: the result depends only on the
 * data, never on threads or the instruction set. */
INLINE float fold_lanes(const float *acc)
{
    float s8[8];
    for (int k = 0; k < 8; k++)
        s8[k] = (acc[k] + acc[k + 8]) + (acc[k + 16] + acc[k + 24]);
    return ((s8[0] + s8[1]) + (s8[2] + s8[3])) + ((s8[4] + s8[5]) + (s8[6] + s8[7]));
}

INLINE float dot8(const float *a, const float *b, size_t n)
{
    float acc[LANES] = {0};
    size_t p = 0;
    for (; p + LANES <= n; p += LANES)
        for (int k = 0; k < LANES; k++)
            acc[k] += a[p + k] * b[p + k];
    for (; p < n; p++)
        acc[p % LANES] += a[p] * b[p];
    return fold_lanes(acc);
}

/* acc[p % LANES] += a[p], in increasing p. */
INLINE void add_lanes(float *acc, const float *a, size_t n)
{
    size_t p = 0;
    for (; p + LANES <= n; p += LANES)
        for (int k = 0; k < LANES; k++)
            acc[k] += a[p + k];
    for (; p < n; p++)
        acc[p % LANES] += a[p];
}

INLINE float sum8(const float *a, size_t n)
{
    float acc[LANES] = {0};
    add_lanes(acc, a, n);
    return fold_lanes(acc);
}

/* ------------------------------------------------------------- quantiser */

typedef struct qparams {
    float scale, int_scale, step, inv; /* inv = int_scale / scale */
    float lo, hi;
    bool relu, exact_round;
} qparams;

static qparams qparams_of(const splut_model *m, const splut_quant *q, bool exact_round)
{
    qparams p;
    p.scale = splut__quant_scale(m, q);
    p.int_scale = splut__quant_int_scale(q);
    p.step = p.scale / p.int_scale;
    p.inv = p.int_scale / p.scale;
    p.lo = (float)splut__quant_min(q);
    p.hi = (float)splut__quant_max(q);
    p.relu = q->kind == SPLUT_Q_RELU;
    p.exact_round = exact_round;
    return p;
}

/* The row loops below are written with selects and bitwise '&' (no
 * short-circuit branches, no libm min/max calls) so they vectorise. */

/* Clamped quantiser input in integer units; *inside is 1 where the
 * straight-through gradient passes (in range and not cut by the ReLU). */
INLINE float q_clamped_units(float x, float floor_x, float inv, float lo, float hi,
                             float *inside)
{
    float xr = x > floor_x ? x : floor_x;
    float v = xr * inv;
    float c = v < lo ? lo : v;
    c = c > hi ? hi : c;
    *inside = ((v >= lo) & (v <= hi) & (x > floor_x)) ? 1.0f : 0.0f;
    return c;
}

/* Quantised values of a row (float mode). */
INLINE void q_forward_row(const qparams *q, const float *x, float *y, size_t B)
{
    const float lo = q->lo, hi = q->hi, inv = q->inv, step = q->step;
    const float floor_x = q->relu ? 0.0f : -INFINITY;
    float inside;
    if (q->exact_round)
        for (size_t p = 0; p < B; p++)
            y[p] = rintf(q_clamped_units(x[p], floor_x, inv, lo, hi, &inside)) * step;
    else
        for (size_t p = 0; p < B; p++)
            y[p] = q_clamped_units(x[p], floor_x, inv, lo, hi, &inside) * step;
}

/* One element of the straight-through backward: returns its dL/dscale·int_scale
 * term and replaces *g by dL/dx. */
INLINE float q_backward_one(float x, float *g, float floor_x, float inv, float lo, float hi,
                            bool exact)
{
    float inside;
    float c = q_clamped_units(x, floor_x, inv, lo, hi, &inside);
    float code = exact ? rintf(c) : c;
    float v = (x > floor_x ? x : floor_x) * inv;
    float term = *g * (code - inside * v);
    *g *= inside;
    return term;
}

/* Straight-through backward of a row: g[p] becomes dL/dx (zero where the
 * input was clamped or cut by the ReLU); returns dL/dscale of the row, summed
 * in the fixed 32 lanes of sum8(). d(value)/d(scale) is (code - v)/int_scale
 * inside the range and code/int_scale where clamped; ReLU-cut inputs have
 * v = code = 0. The terms go through a small block buffer so both loops are
 * plain element-wise / lane loops that vectorise. */
#define Q_BLOCK 256 /* a multiple of LANES: lane of element p stays p % LANES */

INLINE float q_backward_row(const qparams *q, const float *restrict x, float *restrict g,
                            size_t B)
{
    const float lo = q->lo, hi = q->hi, inv = q->inv;
    const float floor_x = q->relu ? 0.0f : -INFINITY;
    float acc[LANES] = {0};
    float term[Q_BLOCK];
    for (size_t b0 = 0; b0 < B; b0 += Q_BLOCK) {
        size_t n = B - b0 < Q_BLOCK ? B - b0 : Q_BLOCK;
        const float *xb = x + b0;
        float *gb = g + b0;
        if (q->exact_round)
            for (size_t p = 0; p < n; p++)
                term[p] = q_backward_one(xb[p], &gb[p], floor_x, inv, lo, hi, true);
        else
            for (size_t p = 0; p < n; p++)
                term[p] = q_backward_one(xb[p], &gb[p], floor_x, inv, lo, hi, false);
        add_lanes(acc, term, n);
    }
    return fold_lanes(acc) / q->int_scale;
}

/* d scale / d theta, zero where the 2^-16 floor is active. */
static float dscale_dtheta(const splut_model *m, const splut_quant *q)
{
    float s = exp2f(m->params[q->theta]);
    return s > SCALE_MIN ? s * LN2 : 0.0f;
}

/* ------------------------------------------------------------ BatchNorm */

/* Train-mode BN of one row: stores xhat, batch mean/var, 1/std; returns y. */
INLINE void bn_forward_row(const float *x, size_t B, float gamma, float beta, float *xhat,
                           float *y, float *mean, float *var, float *inv_std)
{
    float mu = sum8(x, B) / (float)B;
    float acc = 0.0f;
    for (size_t p = 0; p < B; p++)
        xhat[p] = x[p] - mu;
    acc = dot8(xhat, xhat, B);
    float v = acc / (float)B;
    float is = 1.0f / sqrtf(v + SPLUT_BN_EPS);
    for (size_t p = 0; p < B; p++) {
        xhat[p] *= is;
        y[p] = gamma * xhat[p] + beta;
    }
    *mean = mu;
    *var = v;
    *inv_std = is;
}

/* BN backward of one row: dy in, dx out (may alias dy); returns dgamma/dbeta. */
INLINE void bn_backward_row(const float *xhat, float *dy_dx, size_t B, float gamma,
                            float inv_std, float *dgamma, float *dbeta)
{
    float sdy = sum8(dy_dx, B), sdyx = dot8(dy_dx, xhat, B);
    *dgamma = sdyx;
    *dbeta = sdy;
    float k = gamma * inv_std / (float)B;
    for (size_t p = 0; p < B; p++)
        dy_dx[p] = k * ((float)B * dy_dx[p] - sdy - xhat[p] * sdyx);
}

/* Eval-mode BN of one row (frozen statistics): the function the model
 * computes at inference, as (x - mean) / sqrt(var + eps) there. */
INLINE void bn_forward_frozen_row(const float *x, size_t B, float gamma, float beta,
                                  float run_mean, float run_var, float *xhat, float *y,
                                  float *inv_std)
{
    float den = sqrtf(run_var + SPLUT_BN_EPS);
    for (size_t p = 0; p < B; p++) {
        xhat[p] = (x[p] - run_mean) / den;
        y[p] = gamma * xhat[p] + beta;
    }
    *inv_std = 1.0f / den;
}

/* Backward of the frozen BN: the statistics are constants, so dx = dy·γ/σ. */
INLINE void bn_backward_frozen_row(const float *xhat, float *dy_dx, size_t B, float gamma,
                                   float inv_std, float *dgamma, float *dbeta)
{
    *dgamma = dot8(dy_dx, xhat, B);
    *dbeta = sum8(dy_dx, B);
    float k = gamma * inv_std;
    for (size_t p = 0; p < B; p++)
        dy_dx[p] *= k;
}

static void bn_update_running(float *rmean, float *rvar, float mean, float var, size_t B)
{
    float unbiased = B > 1 ? var * (float)B / (float)(B - 1) : var;
    *rmean = (1.0f - BN_MOMENTUM) * *rmean + BN_MOMENTUM * mean;
    *rvar = (1.0f - BN_MOMENTUM) * *rvar + BN_MOMENTUM * unbiased;
}

/* --------------------------------------------------------- forward pass */

typedef struct pass {
    splut_trainer *t;
    const splut_model *m;
    splut_train_ws *ws;
    const float *x_rows; /* caller's batch, row-major */
    size_t B;
    size_t l;    /* current layer */
    bool frozen; /* BN normalises with the running statistics (SPLUT_P_BN_FROZEN) */
} pass;

/* Rows of the values a layer reads. */
static const float *layer_input(const pass *ps, size_t l)
{
    return l == 0 ? ps->ws->in_h : ps->ws->L[l - 1].h;
}

SPLUT_HOT static void input_forward_task(void *arg, size_t b, size_t e, unsigned worker)
{
    (void)worker;
    const pass *ps = arg;
    const splut_model *m = ps->m;
    splut_train_ws *ws = ps->ws;
    size_t B = ps->B;
    qparams q = qparams_of(m, &m->in_q, ws->exact_round);
    bool bn = m->input_mode == SPLUT_INPUT_BN_HARDTANH;
    const float *P = m->params;
    for (size_t f = b; f < e; f++) {
        float *x = ws->x + f * B;
        float *v = ws->in_v + f * B, *h = ws->in_h + f * B;
        /* transpose this feature's column and check it is finite */
        float bad = 0.0f;
        for (size_t p = 0; p < B; p++) {
            x[p] = ps->x_rows[p * m->n_inputs + f];
            bad += x[p] - x[p]; /* NaN for NaN or ±Inf, else 0 */
        }
        ws->in_bad[f] = bad != 0.0f || bad != bad;
        if (m->input_mode == SPLUT_INPUT_THERMOMETER) {
            for (size_t p = 0; p < B; p++) /* the code: thresholds exceeded */
                h[p] = (float)splut__thermo_code(m, (uint32_t)f, x[p]);
            continue;
        }
        if (bn) {
            if (ps->frozen)
                bn_forward_frozen_row(x, B, P[m->in_gamma + f], P[m->in_beta + f],
                                      m->state[m->in_run_mean + f], m->state[m->in_run_var + f],
                                      ws->in_xhat + f * B, v, &ws->in_inv_std[f]);
            else
                bn_forward_row(x, B, P[m->in_gamma + f], P[m->in_beta + f], ws->in_xhat + f * B,
                               v, &ws->in_mean[f], &ws->in_var[f], &ws->in_inv_std[f]);
            for (size_t p = 0; p < B; p++)
                v[p] += P[m->in_bias];
        } else {
            memcpy(v, x, B * sizeof(float));
        }
        q_forward_row(&q, v, h, B);
    }
}

/* Inputs of neuron n (sub-neuron a) as rows of the layer input. */
static void neuron_inputs(const pass *ps, const splut_layer *L, uint32_t n, uint32_t a,
                          const float **u)
{
    const float *in = layer_input(ps, ps->l);
    const uint32_t *idx = L->conn + ((size_t)n * L->A + a) * L->F;
    for (uint32_t f = 0; f < L->F; f++)
        u[f] = in + (size_t)idx[f] * ps->B;
}

/* Polynomial (sub-)neuron on whole batch rows: z = b + Σ w_t mono_t. */
static void poly_forward(const pass *ps, const splut_layer *L, uint32_t n, uint32_t a,
                         float *mono, float *z)
{
    const float *u[SPLUT_MAX_FAN_IN];
    neuron_inputs(ps, L, n, a, u);
    splut__mono_batch(L, u, ps->B, mono);
    splut_eval_ctx e;
    e.m = ps->m;
    e.L = L;
    splut__affine_batch(&e, n, a, mono, ps->B, z);
}

/* Pre-activation of a single-function neuron (LINEAR, POLY, NEURALUT). */
static void neuron_forward(const pass *ps, const splut_layer *L, uint32_t n, float *scratch,
                           float *z)
{
    if (L->kind != SPLUT_NEURON_NEURALUT) {
        poly_forward(ps, L, n, 0, scratch, z);
        return;
    }
    const float *u[SPLUT_MAX_FAN_IN];
    neuron_inputs(ps, L, n, 0, u);
    splut_eval_ctx e;
    e.m = ps->m;
    e.L = L;
    splut__neuralut_batch(&e, n, u, ps->B, scratch, z);
}

SPLUT_HOT static void layer_forward_task(void *arg, size_t b, size_t e, unsigned worker)
{
    const pass *ps = arg;
    const splut_model *m = ps->m;
    const splut_layer *L = &m->layers[ps->l];
    layer_ws *w = &ps->ws->L[ps->l];
    worker_ws *W = &ps->ws->W[worker];
    size_t B = ps->B;
    const float *P = m->params;
    qparams qo = qparams_of(m, &L->out_q, ps->ws->exact_round);
    qparams qs = L->kind == SPLUT_NEURON_POLY_ADD ? qparams_of(m, &L->sub_q, ps->ws->exact_round)
                                                  : qo;
    for (size_t n = b; n < e; n++) {
        if (L->kind == SPLUT_NEURON_LUT) {
            splut__lut_train_forward(m, ps->l, (uint32_t)n, layer_input(ps, ps->l), B,
                                     w->h + n * B);
            continue;
        }
        float *z = W->z;
        if (L->kind == SPLUT_NEURON_POLY_ADD) {
            for (size_t p = 0; p < B; p++)
                z[p] = 0.0f;
            for (uint32_t a = 0; a < L->A; a++) {
                float *zs = w->zsub + ((size_t)n * L->A + a) * B;
                float *ys = w->ysub + ((size_t)n * L->A + a) * B;
                poly_forward(ps, L, (uint32_t)n, a, W->mono, zs);
                q_forward_row(&qs, zs, ys, B);
                for (size_t p = 0; p < B; p++)
                    z[p] += ys[p];
            }
            for (size_t p = 0; p < B; p++)
                z[p] /= (float)L->A;
        } else {
            neuron_forward(ps, L, (uint32_t)n, W->mono, z);
        }
        float *y = w->y + n * B, *h = w->h + n * B;
        if (ps->frozen)
            bn_forward_frozen_row(z, B, P[L->bn_gamma + n], P[L->bn_beta + n],
                                  ps->m->state[L->run_mean + n], ps->m->state[L->run_var + n],
                                  w->xhat + n * B, y, &w->inv_std[n]);
        else
            bn_forward_row(z, B, P[L->bn_gamma + n], P[L->bn_beta + n], w->xhat + n * B, y,
                           &w->bn_mean[n], &w->bn_var[n], &w->inv_std[n]);
        q_forward_row(&qo, y, h, B);
    }
}

/* ---------------------------------------------------------------- loss */

/* What a batch is trained towards: class labels, or (when @c soft is set)
 * a probability per output and sample, row-major (n x outputs). */
typedef struct batch_targets {
    const int32_t *labels;
    const float *soft;
} batch_targets;

/* Target probability of output @p o for sample @p p (one output: of class 1). */
static double target_prob(const batch_targets *y, size_t O, size_t p, size_t o)
{
    if (y->soft)
        return y->soft[p * O + o];
    return O == 1 ? (double)y->labels[p] : (double)(o == (size_t)y->labels[p]);
}

/* Fills dlogits (mean reduction) and returns the mean loss: cross-entropy
 * -sum_o y_o log softmax(z)_o, for one output the binary cross-entropy. */
static double loss_and_dlogits(const pass *ps, const batch_targets *y)
{
    const splut_model *m = ps->m;
    const splut_layer *L = &m->layers[m->n_layers - 1];
    splut_train_ws *ws = ps->ws;
    uint32_t classes = splut__groupsum_classes(m);
    size_t B = ps->B, O = classes ? classes : L->out;
    const float *h = ws->L[m->n_layers - 1].h;
    float pb = m->params[L->post_bias], pw = m->params[L->post_weight];
    if (classes)
        splut__groupsum_logits(m, h, B, ws->logits);
    else
        for (size_t o = 0; o < O; o++)
            for (size_t p = 0; p < B; p++)
                ws->logits[o * B + p] = (h[o * B + p] + pb) * pw;
    double total = 0.0;
    for (size_t p = 0; p < B; p++) {
        if (O == 1) {
            double l = ws->logits[p], t = target_prob(y, 1, p, 0);
            total += (l > 0 ? l : 0) - l * t + log1p(exp(-fabs(l)));
            ws->dlogits[p] = (float)((1.0 / (1.0 + exp(-l)) - t) / (double)B);
            continue;
        }
        double mx = -INFINITY, se = 0.0;
        for (size_t o = 0; o < O; o++)
            mx = fmax(mx, ws->logits[o * B + p]);
        for (size_t o = 0; o < O; o++)
            se += exp(ws->logits[o * B + p] - mx);
        double lse = mx + log(se);
        for (size_t o = 0; o < O; o++) {
            double t = target_prob(y, O, p, o), sm = exp(ws->logits[o * B + p] - lse);
            if (t != 0.0) /* 0 * log 0 counts as 0 */
                total += t * (lse - ws->logits[o * B + p]);
            ws->dlogits[o * B + p] = (float)((sm - t) / (double)B);
        }
    }
    return total / (double)B;
}

/* Backward through the post-transform: dh of the last layer, grads of pb/pw. */
static void post_backward(const pass *ps)
{
    const splut_model *m = ps->m;
    const splut_layer *L = &m->layers[m->n_layers - 1];
    splut_train_ws *ws = ps->ws;
    layer_ws *w = &ws->L[m->n_layers - 1];
    size_t B = ps->B, O = L->out;
    if (splut__groupsum_classes(m)) { /* no post-transform: the counts are the logits */
        splut__groupsum_backward(m, ws->dlogits, B, w->dh);
        return;
    }
    float pb = m->params[L->post_bias], pw = m->params[L->post_weight];
    double gpb = 0.0, gpw = 0.0;
    for (size_t i = 0; i < O * B; i++) {
        float d = ws->dlogits[i];
        w->dh[i] = d * pw;
        gpb += (double)d * pw;
        gpw += (double)d * (w->h[i] + pb);
    }
    ws->grad[L->post_bias] = (float)gpb;
    ws->grad[L->post_weight] = (float)gpw;
}

/* -------------------------------------------------------- backward pass */

/* Backward of one (sub-)neuron polynomial given dz: weight/bias gradients and
 * the per-slot input gradients into w->dcontrib. */
SPLUT_HOT static void poly_backward(const pass *ps, const splut_layer *L, layer_ws *w, worker_ws *W,
                          uint32_t n, uint32_t a, const float *dz)
{
    size_t B = ps->B;
    size_t row = (size_t)n * L->A + a;
    const float *u[SPLUT_MAX_FAN_IN];
    neuron_inputs(ps, L, n, a, u);
    float *mono = W->mono, *dm = W->dmono;
    splut__mono_batch(L, u, B, mono);
    const float *wt = ps->m->params + L->w + row * L->T;
    float *gw = ps->ws->grad + L->w + row * L->T;
    ps->ws->grad[L->b + row] = sum8(dz, B);
    for (uint32_t t = 0; t < L->T; t++) {
        gw[t] = dot8(dz, mono + (size_t)t * B, B);
        float *d = dm + (size_t)t * B;
        for (size_t p = 0; p < B; p++)
            d[p] = dz[p] * wt[t];
    }
    float *du = w->dcontrib + row * L->F * B;
    memset(du, 0, (size_t)L->F * B * sizeof(float));
    const splut_monos *mo = &L->monos;
    for (uint32_t t = L->T; t-- > 0;) {
        const float *d = dm + (size_t)t * B;
        float *duv = du + (size_t)mo->var[t] * B;
        const float *x = u[mo->var[t]];
        if (mo->parent[t] < 0) {
            for (size_t p = 0; p < B; p++)
                duv[p] += d[p];
            continue;
        }
        float *dpar = dm + (size_t)mo->parent[t] * B;
        const float *par = mono + (size_t)mo->parent[t] * B;
        for (size_t p = 0; p < B; p++) {
            dpar[p] += d[p] * x[p];
            duv[p] += d[p] * par[p];
        }
    }
}

INLINE void gather_row(const layer_ws *w, size_t i, size_t B, float *dst);

/* dst_k[p] = Σ_j src_j[p]·M[j][col_k] — a transposed map applied to rows. */
INLINE void rows_times_columns(const float *src, const float *M, uint32_t rows_j, uint32_t stride,
                               uint32_t col, size_t B, float *dst)
{
    for (uint32_t j = 0; j < rows_j; j++) {
        float mj = M[(size_t)j * stride + col];
        const float *s = src + (size_t)j * B;
        for (size_t p = 0; p < B; p++)
            dst[p] += s[p] * mj;
    }
}

INLINE void relu_mask(float *d, const float *h, size_t B)
{
    for (size_t p = 0; p < B; p++)
        d[p] = h[p] > 0.0f ? d[p] : 0.0f;
}

/* NeuraLUT backward: recompute h1..h3, then the chain rule through the four
 * maps and two skips; parameter gradients and per-slot input gradients. */
SPLUT_HOT static void neuralut_backward(const pass *ps, const splut_layer *L, layer_ws *w,
                                        worker_ws *W, uint32_t n, const float *dz)
{
    size_t B = ps->B;
    const uint32_t N = L->N, F = L->F;
    splut_nl_off o = splut__nl_offsets(F, N);
    const float *u[SPLUT_MAX_FAN_IN];
    neuron_inputs(ps, L, n, 0, u);
    float *h1 = W->mono, *h2 = h1 + (size_t)N * B, *h3 = h2 + (size_t)N * B;
    float *d1 = W->dmono, *d2 = d1 + (size_t)N * B, *d3 = d2 + (size_t)N * B, *zt = d3 + (size_t)N * B;
    splut_eval_ctx e;
    e.m = ps->m;
    e.L = L;
    splut__neuralut_batch(&e, n, u, B, h1, zt);
    const float *P = ps->m->params + L->w + (size_t)n * L->T;
    float *G = ps->ws->grad + L->w + (size_t)n * L->T;
    ps->ws->grad[L->b + n] = sum8(dz, B);
    for (uint32_t k = 0; k < N; k++) {
        G[o.w4 + k] = dot8(dz, h3 + (size_t)k * B, B);
        G[o.r1 + k] = dot8(dz, h2 + (size_t)k * B, B);
        float *d = d3 + (size_t)k * B;
        for (size_t p = 0; p < B; p++)
            d[p] = dz[p] * P[o.w4 + k];
        relu_mask(d, h3 + (size_t)k * B, B);
        G[o.b3 + k] = sum8(d, B);
        for (uint32_t j = 0; j < N; j++)
            G[o.w3 + (size_t)k * N + j] = dot8(d, h2 + (size_t)j * B, B);
    }
    for (uint32_t j = 0; j < N; j++) {
        float *d = d2 + (size_t)j * B;
        for (size_t p = 0; p < B; p++)
            d[p] = dz[p] * P[o.r1 + j];
        rows_times_columns(d3, P + o.w3, N, N, j, B, d);
        relu_mask(d, h2 + (size_t)j * B, B);
    }
    for (uint32_t k = 0; k < N; k++) {
        const float *d = d2 + (size_t)k * B;
        G[o.b2 + k] = sum8(d, B);
        for (uint32_t j = 0; j < N; j++)
            G[o.w2 + (size_t)k * N + j] = dot8(d, h1 + (size_t)j * B, B);
        for (uint32_t f = 0; f < F; f++)
            G[o.r0 + (size_t)k * F + f] = dot8(d, u[f], B);
    }
    for (uint32_t j = 0; j < N; j++) {
        float *d = d1 + (size_t)j * B;
        memset(d, 0, B * sizeof(float));
        rows_times_columns(d2, P + o.w2, N, N, j, B, d);
        relu_mask(d, h1 + (size_t)j * B, B);
    }
    for (uint32_t k = 0; k < N; k++) {
        const float *d = d1 + (size_t)k * B;
        G[o.b1 + k] = sum8(d, B);
        for (uint32_t f = 0; f < F; f++)
            G[o.w1 + (size_t)k * F + f] = dot8(d, u[f], B);
    }
    float *du = w->dcontrib + (size_t)n * F * B;
    for (uint32_t f = 0; f < F; f++) {
        float *d = du + (size_t)f * B;
        memset(d, 0, B * sizeof(float));
        rows_times_columns(d1, P + o.w1, N, F, f, B, d);
        rows_times_columns(d2, P + o.r0, N, F, f, B, d);
    }
}

static void neuron_backward(const pass *ps, const splut_layer *L, layer_ws *w, worker_ws *W,
                            uint32_t n, const float *dz)
{
    if (L->kind == SPLUT_NEURON_NEURALUT)
        neuralut_backward(ps, L, w, W, n, dz);
    else
        poly_backward(ps, L, w, W, n, 0, dz);
}

SPLUT_HOT static void layer_backward_task(void *arg, size_t b, size_t e, unsigned worker)
{
    const pass *ps = arg;
    const splut_model *m = ps->m;
    const splut_layer *L = &m->layers[ps->l];
    layer_ws *w = &ps->ws->L[ps->l];
    worker_ws *W = &ps->ws->W[worker];
    float *G = ps->ws->grad;
    size_t B = ps->B;
    qparams qo = qparams_of(m, &L->out_q, ps->ws->exact_round);
    qparams qs = L->kind == SPLUT_NEURON_POLY_ADD ? qparams_of(m, &L->sub_q, ps->ws->exact_round)
                                                  : qo;
    for (size_t n = b; n < e; n++) {
        float *dy = W->z; /* dL/dy, then dL/dz after BN backward */
        const float *y = w->y + n * B, *dh = w->dh + n * B;
        double dscale_out = 0.0, dscale_sub = 0.0;
        if (!L->last)
            gather_row(&ps->ws->L[ps->l + 1], n, B, w->dh + n * B);
        if (L->kind == SPLUT_NEURON_LUT) {
            /* thermometer inputs have nothing to train upstream: no EFD there,
             * unless the slot gradients train the learnable mapping */
            bool inputs = ps->l > 0 || m->input_mode != SPLUT_INPUT_THERMOMETER || m->map_k;
            splut__lut_train_backward(m, ps->l, (uint32_t)n, layer_input(ps, ps->l), B, dh,
                                      G + L->w + n * L->T,
                                      inputs ? w->dcontrib + n * L->F * B : NULL, W->mono,
                                      w->efd_coefs);
            w->q_part[2 * n] = w->q_part[2 * n + 1] = 0.0;
            continue;
        }
        memcpy(dy, dh, B * sizeof(float));
        dscale_out = q_backward_row(&qo, y, dy, B);
        float dg, db;
        if (ps->frozen)
            bn_backward_frozen_row(w->xhat + n * B, dy, B, m->params[L->bn_gamma + n],
                                   w->inv_std[n], &dg, &db);
        else
            bn_backward_row(w->xhat + n * B, dy, B, m->params[L->bn_gamma + n], w->inv_std[n],
                            &dg, &db);
        G[L->bn_gamma + n] = dg;
        G[L->bn_beta + n] = db;
        if (L->kind == SPLUT_NEURON_POLY_ADD) {
            float inv_a = 1.0f / (float)L->A;
            for (uint32_t a = 0; a < L->A; a++) {
                const float *zs = w->zsub + ((size_t)n * L->A + a) * B;
                float *dzs = W->dz + (size_t)a * B;
                for (size_t p = 0; p < B; p++)
                    dzs[p] = dy[p] * inv_a;
                dscale_sub += q_backward_row(&qs, zs, dzs, B);
                poly_backward(ps, L, w, W, (uint32_t)n, a, dzs);
            }
        } else {
            neuron_backward(ps, L, w, W, (uint32_t)n, dy);
        }
        w->q_part[2 * n] = dscale_out;
        w->q_part[2 * n + 1] = dscale_sub;
    }
}

/* Inverse connectivity of layer l: for each input, the (neuron, slot) rows
 * reading it, in increasing slot order (a counting sort, so fixed). */
static void build_inverse(const splut_layer *L, layer_ws *w)
{
    size_t slots = (size_t)L->out * L->A * L->F;
    memset(w->inv_start, 0, ((size_t)L->in + 1) * sizeof(uint32_t));
    for (size_t s = 0; s < slots; s++)
        w->inv_start[L->conn[s] + 1]++;
    for (uint32_t i = 0; i < L->in; i++)
        w->inv_start[i + 1] += w->inv_start[i];
    for (size_t s = 0; s < slots; s++) {
        uint32_t i = L->conn[s];
        /* inv_start[i] is used as a cursor and restored below */
        w->inv_list[w->inv_start[i]++] = (uint32_t)s;
    }
    for (uint32_t i = L->in; i > 0; i--)
        w->inv_start[i] = w->inv_start[i - 1];
    w->inv_start[0] = 0;
}

/* dL/d(input row i) of the layer owning `w`: Σ over the slots reading i, in
 * slot order. Runs inside the backward task of the layer below, per neuron. */
INLINE void gather_row(const layer_ws *w, size_t i, size_t B, float *dst)
{
    memset(dst, 0, B * sizeof(float));
    for (uint32_t k = w->inv_start[i]; k < w->inv_start[i + 1]; k++) {
        const float *src = w->dcontrib + (size_t)w->inv_list[k] * B;
        for (size_t p = 0; p < B; p++)
            dst[p] += src[p];
    }
}

/* Learnable mapping, first the layer-0 inputs as ±1 rows (2·x − 1)... */
SPLUT_HOT static void map_inputs_task(void *arg, size_t b, size_t e, unsigned worker)
{
    (void)worker;
    const pass *ps = arg;
    uint32_t split = splut__lut_row_split(ps->m, 0);
    size_t B = ps->B;
    bool transposed = splut__lut_map_shared(ps->m); /* B × in for the matrix product */
    size_t in = ps->m->layers[0].in;
    for (size_t i = b; i < e; i++) {
        const float *row = layer_input(ps, 0) + (i / split) * B;
        float level = (float)(i % split) + 0.5f, *xs = ps->ws->map_xs;
        int8_t *x8 = ps->ws->map_xs8;
        if (transposed)
            for (size_t p = 0; p < B; p++)
                xs[p * in + i] = row[p] > level ? 1.0f : -1.0f;
        else
            for (size_t p = 0; p < B; p++)
                x8[i * B + p] = row[p] > level ? 1 : -1;
    }
}

/* ...then the selection-weight gradients, node by node (each node's block of
 * W is written by one worker, in a fixed order). */
SPLUT_HOT static void map_grad_task(void *arg, size_t b, size_t e, unsigned worker)
{
    (void)worker;
    const pass *ps = arg;
    const splut_model *m = ps->m;
    const splut_layer *L = &m->layers[0];
    size_t B = ps->B, per = (size_t)L->F * m->map_k;
    if (splut__lut_map_shared(m)) {
        splut__lut_map_grad_shared(m, (uint32_t)b, (uint32_t)e, ps->ws->L[0].dcontrib,
                                   ps->ws->map_xs, B, ps->ws->grad + m->map_w);
        return;
    }
    for (size_t n = b; n < e; n++)
        splut__lut_map_grad(m, (uint32_t)n, ps->ws->L[0].dcontrib + n * L->F * B, ps->ws->map_xs8,
                            B, ps->ws->grad + m->map_w + n * per);
}

/* Input stage backward: only its parameters need gradients. in_g holds
 * dL/dh_in (gathered here), in_v the quantiser inputs. */
SPLUT_HOT static void input_backward_task(void *arg, size_t b, size_t e, unsigned worker)
{
    (void)worker;
    const pass *ps = arg;
    const splut_model *m = ps->m;
    splut_train_ws *ws = ps->ws;
    size_t B = ps->B;
    qparams q = qparams_of(m, &m->in_q, ws->exact_round);
    bool bn = m->input_mode == SPLUT_INPUT_BN_HARDTANH;
    float *G = ws->grad;
    for (size_t f = b; f < e; f++) {
        if (m->input_mode == SPLUT_INPUT_THERMOMETER) { /* fixed thresholds */
            ws->in_part[2 * f] = ws->in_part[2 * f + 1] = 0.0;
            continue;
        }
        float *g = ws->in_g + f * B;
        gather_row(&ws->L[0], f, B, g);
        const float *xhat = ws->in_xhat + f * B;
        float dscale = q_backward_row(&q, ws->in_v + f * B, g, B);
        float dbias = sum8(g, B);
        if (bn) {
            G[m->in_gamma + f] = dot8(g, xhat, B);
            G[m->in_beta + f] = sum8(g, B);
        }
        ws->in_part[2 * f] = dbias;
        ws->in_part[2 * f + 1] = dscale;
    }
}

/* ----------------------------------------------------------- orchestration */

static void run(pass *ps, size_t n, size_t chunk, splut_task_fn fn)
{
    splut__pool_run(ps->t->pool, n, chunk, fn, ps);
}

/* Runs the input stage first: it also transposes and checks the features.
 * Returns false (nothing else computed) if any feature is not finite. */
static bool forward(pass *ps)
{
    run(ps, ps->m->n_inputs, 16, input_forward_task);
    for (uint32_t f = 0; f < ps->m->n_inputs; f++)
        if (ps->ws->in_bad[f])
            return false;
    for (ps->l = 0; ps->l < ps->m->n_layers; ps->l++)
        run(ps, ps->m->layers[ps->l].out, 8, layer_forward_task);
    return true;
}

static void backward(pass *ps)
{
    const splut_model *m = ps->m;
    splut_train_ws *ws = ps->ws;
    post_backward(ps);
    for (size_t l = m->n_layers; l-- > 0;) {
        const splut_layer *L = &m->layers[l];
        layer_ws *w = &ws->L[l];
        ps->l = l;
        run(ps, L->out, 8, layer_backward_task);
        double so = 0.0, ss = 0.0;
        for (uint32_t n = 0; n < L->out; n++) {
            so += w->q_part[2 * n];
            ss += w->q_part[2 * n + 1];
        }
        ws->grad[L->out_q.theta] = (float)(so * dscale_dtheta(m, &L->out_q));
        if (L->kind == SPLUT_NEURON_POLY_ADD)
            ws->grad[L->sub_q.theta] = (float)(ss * dscale_dtheta(m, &L->sub_q));
        build_inverse(L, w);
    }
    if (m->map_k) {
        run(ps, m->layers[0].in, 64, map_inputs_task);
        run(ps, m->layers[0].out, 4, map_grad_task);
    }
    run(ps, m->n_inputs, 16, input_backward_task);
    double sb = 0.0, ss = 0.0;
    for (uint32_t f = 0; f < m->n_inputs; f++) {
        sb += ws->in_part[2 * f];
        ss += ws->in_part[2 * f + 1];
    }
    if (m->input_mode == SPLUT_INPUT_BN_HARDTANH)
        ws->grad[m->in_bias] = (float)sb;
    ws->grad[m->in_q.theta] = (float)(ss * dscale_dtheta(m, &m->in_q));
}

static void update_running_stats(splut_model *m, const splut_train_ws *ws, size_t B)
{
    float *S = m->state;
    if (m->input_mode == SPLUT_INPUT_BN_HARDTANH)
        for (uint32_t f = 0; f < m->n_inputs; f++)
            bn_update_running(&S[m->in_run_mean + f], &S[m->in_run_var + f], ws->in_mean[f],
                              ws->in_var[f], B);
    for (size_t l = 0; l < m->n_layers; l++) {
        const splut_layer *L = &m->layers[l];
        for (uint32_t n = 0; n < L->out; n++)
            bn_update_running(&S[L->run_mean + n], &S[L->run_var + n], ws->L[l].bn_mean[n],
                              ws->L[l].bn_var[n], B);
    }
}

/* ------------------------------------------------------------- optimiser */

typedef struct adam_job {
    splut_trainer *t;
    float lr, wd, b1, b2, eps, bc1, bc2_sqrt;
} adam_job;

SPLUT_HOT static void adam_task(void *arg, size_t b, size_t e, unsigned worker)
{
    (void)worker;
    const adam_job *j = arg;
    splut_model *m = j->t->model;
    const float *g = j->t->ws->grad;
    float *P = m->params, *m1 = j->t->m1, *m2 = j->t->m2;
    float step = j->lr / j->bc1;
    for (size_t i = b; i < e; i++) {
        if (m->decay[i])
            P[i] *= 1.0f - j->lr * j->wd;
        m1[i] = j->b1 * m1[i] + (1.0f - j->b1) * g[i];
        m2[i] = j->b2 * m2[i] + (1.0f - j->b2) * g[i] * g[i];
        float denom = sqrtf(m2[i]) / j->bc2_sqrt + j->eps;
        P[i] -= step * m1[i] / denom;
    }
}

/* Learning rate of the current step: cosine annealing with warm restarts. */
static double current_lr(const splut_trainer *t)
{
    if (t->restart_period <= 0)
        return t->lr;
    double tc = (double)(t->step % t->restart_period) / (double)t->restart_period;
    return t->lr_min + (t->lr - t->lr_min) * (1.0 + cos(3.14159265358979323846 * tc)) / 2.0;
}

/* Learned connectivity (1) or pre-training (2): a linear surrogate trains
 * until the switch epoch. */
static bool two_phase(const splut_trainer *t)
{
    return t->conn_mode >= 1;
}

static bool in_phase1(const splut_trainer *t)
{
    return two_phase(t) && !t->conn_switched;
}

/* First optimiser step of the current parameters: a two-phase run starts the
 * target's moments afresh at the switch. */
static int64_t adam_origin(const splut_trainer *t)
{
    return two_phase(t) ? t->switch_epoch * t->steps_per_epoch : 0;
}

static void adam_update(splut_trainer *t)
{
    double k = (double)(t->step - adam_origin(t) + 1);
    adam_job j;
    j.t = t;
    j.lr = (float)current_lr(t);
    j.wd = (float)t->weight_decay;
    j.b1 = (float)t->beta1;
    j.b2 = (float)t->beta2;
    j.eps = (float)t->eps;
    j.bc1 = (float)(1.0 - pow(t->beta1, k));
    j.bc2_sqrt = (float)sqrt(1.0 - pow(t->beta2, k));
    splut__pool_run(t->pool, t->model->n_params, 4096, adam_task, &j);
    t->step++;
}

/* ------------------------------------------------------------ public API */

/* Neurons whose connectivity or weights were mutated since the last step
 * start their optimiser state afresh, as a newly grown connection would. */
static void sync_mutations(splut_trainer *t)
{
    const splut_model *m = t->model;
    uint32_t *seen = t->seen_mutations;
    for (size_t l = 0; l < m->n_layers; l++) {
        const splut_layer *L = &m->layers[l];
        for (uint32_t n = 0; n < L->out; n++, seen++) {
            if (*seen == L->mutations[n])
                continue;
            *seen = L->mutations[n];
            size_t w = L->w + (size_t)n * L->A * L->T, nw = (size_t)L->A * L->T;
            size_t b = L->b + (size_t)n * L->A;
            memset(t->m1 + w, 0, nw * sizeof(float));
            memset(t->m2 + w, 0, nw * sizeof(float));
            memset(t->m1 + b, 0, L->A * sizeof(float));
            memset(t->m2 + b, 0, L->A * sizeof(float));
        }
    }
}

splut_status splut_trainer_create(splut_model *m, splut_trainer **out)
{
    if (!m || !out)
        return m ? splut__fail(m->ctx, SPLUT_E_NULL, "splut_trainer_create: out is NULL")
                 : SPLUT_E_NULL;
    *out = NULL;
    splut_ctx *ctx = m->ctx;
    if (!m->built)
        return splut__fail(ctx, SPLUT_E_STATE, "the model must be built before training");
    splut_trainer *t = splut__calloc(ctx, 1, sizeof(*t));
    if (!t)
        return splut__fail(ctx, SPLUT_E_NOMEM, "out of memory creating a trainer");
    t->model = splut_model_ref(m);
    splut__param_defaults(SPLUT_OWNER_TRAINER, t);
    t->lr = m->recipe_lr; /* the model's recipe overrides the table's defaults */
    t->weight_decay = m->recipe_wd;
    t->m1 = splut__calloc(ctx, m->n_params, sizeof(float));
    t->m2 = splut__calloc(ctx, m->n_params, sizeof(float));
    size_t neurons = 0;
    for (size_t l = 0; l < m->n_layers; l++)
        neurons += m->layers[l].out;
    t->seen_mutations = splut__calloc(ctx, neurons, sizeof(uint32_t));
    splut_status st = SPLUT_OK;
    if (!t->m1 || !t->m2 || !t->seen_mutations)
        st = splut__fail(ctx, SPLUT_E_NOMEM, "out of memory for optimiser state");
    if (st == SPLUT_OK) {
        sync_mutations(t);
        st = splut__pool_create(ctx, splut__threads(ctx), &t->pool);
    }
    if (st != SPLUT_OK) {
        splut_trainer_destroy(t);
        return st;
    }
    *out = t;
    return SPLUT_OK;
}

void splut_trainer_destroy(splut_trainer *t)
{
    if (!t)
        return;
    splut_model *m = t->model;
    splut_ctx *ctx = m->ctx;
    splut__connect_destroy(ctx, t->connect);
    free_ws(ctx, t->ws);
    splut__pool_destroy(t->pool);
    splut__free(ctx, t->m1);
    splut__free(ctx, t->m2);
    splut__free(ctx, t->seen_mutations);
    splut__free(ctx, t);
    splut_model_destroy(m); /* the trainer's reference; may free the model */
}

/* Soft targets: finite probabilities in [0, 1], each row summing to 1. */
static splut_status check_soft(const splut_model *m, const float *soft, size_t n)
{
    uint32_t outs = splut_model_num_outputs(m);
    for (size_t i = 0; i < n; i++) {
        double sum = 0.0;
        for (uint32_t o = 0; o < outs; o++) {
            float v = soft[i * outs + o];
            if (!(v >= 0.0f && v <= 1.0f)) /* also NaN */
                return splut__fail(m->ctx, SPLUT_E_INVALID,
                                   "target %u of sample %zu is %g, not a probability", o, i,
                                   (double)v);
            sum += v;
        }
        if (outs > 1 && fabs(sum - 1.0) > 1e-4)
            return splut__fail(m->ctx, SPLUT_E_INVALID,
                               "the targets of sample %zu sum to %.6g, not 1", i, sum);
    }
    return SPLUT_OK;
}

static splut_status check_batch(const splut_trainer *t, const float *x, const batch_targets *y,
                                size_t n)
{
    const splut_model *m = t->model;
    if (!x || (!y->labels && !y->soft))
        return splut__fail(m->ctx, SPLUT_E_NULL, "training batch: NULL features or targets");
    if (n < 2)
        return splut__fail(m->ctx, SPLUT_E_INVALID,
                           "a training batch needs at least 2 samples (BatchNorm), got %zu", n);
    if (y->soft)
        return check_soft(m, y->soft, n);
    const int32_t *labels = y->labels;
    int32_t classes = (int32_t)splut_model_num_classes(m);
    for (size_t i = 0; i < n; i++)
        if (labels[i] < 0 || labels[i] >= classes)
            return splut__fail(m->ctx, SPLUT_E_LABEL, "label %d of sample %zu not in [0, %d)",
                               labels[i], i, classes);
    return SPLUT_OK;
}

/* x - x is 0 for finite values and NaN otherwise; summing keeps it vectorised. */
static bool all_finite(const float *v, size_t n)
{
    float acc = 0.0f;
    for (size_t i = 0; i < n; i++)
        acc += v[i] - v[i];
    return acc == 0.0f;
}

/* Error path only: name the first non-finite feature. */
static splut_status fail_non_finite(const splut_model *m, const float *x, size_t n)
{
    for (size_t i = 0; i < n * m->n_inputs; i++)
        if (!isfinite(x[i]))
            return splut__fail(m->ctx, SPLUT_E_NON_FINITE,
                               "feature %zu of sample %zu is not finite", i % m->n_inputs,
                               i / m->n_inputs);
    return splut__fail(m->ctx, SPLUT_E_NON_FINITE, "non-finite feature");
}

/* Forward + backward into ws->grad; returns the loss through *loss. */
static splut_status compute(splut_trainer *t, const float *x, const batch_targets *y, size_t n,
                            double *loss)
{
    splut_status st = check_batch(t, x, y, n);
    if (st == SPLUT_OK)
        st = ensure_ws(t, n);
    if (st != SPLUT_OK)
        return st;
    splut_model *m = t->model;
    splut_train_ws *ws = t->ws;
    pass ps = {t, m, ws, x, n, 0, t->bn_frozen != 0};
    if (!forward(&ps))
        return fail_non_finite(m, x, n);
    *loss = loss_and_dlogits(&ps, y);
    if (!isfinite(*loss))
        return splut__fail(m->ctx, SPLUT_E_DIVERGED, "loss is not finite (%g)", *loss);
    memset(ws->grad, 0, m->n_params * sizeof(float));
    backward(&ps);
    if (!all_finite(ws->grad, m->n_params))
        return splut__fail(m->ctx, SPLUT_E_DIVERGED, "a gradient is not finite");
    return SPLUT_OK;
}

/* Phase 1 of learned connectivity: the step goes to the surrogate network;
 * the last phase-1 step hands the learned inputs to the model. */
static splut_status learned_step(splut_trainer *t, const float *x, const int32_t *labels,
                                 size_t n, double *loss)
{
    splut_status st = t->connect ? SPLUT_OK : splut__connect_create(t);
    double l = 0.0;
    if (st == SPLUT_OK)
        st = splut__connect_step(t, x, labels, n, &l, current_lr(t));
    if (st != SPLUT_OK)
        return st;
    t->step++;
    if (loss)
        *loss = l;
    return t->step >= adam_origin(t) ? splut__connect_switch(t) : SPLUT_OK;
}

/* The update of a batch once phase 1 (if any) is over. */
static splut_status model_step(splut_trainer *t, const float *x, const batch_targets *y, size_t n,
                               double *loss)
{
    double l = 0.0;
    splut_status st = compute(t, x, y, n, &l);
    if (st != SPLUT_OK)
        return st;
    sync_mutations(t);
    if (!t->bn_frozen)
        update_running_stats(t->model, t->ws, n);
    adam_update(t);
    splut__lut_map_select(t->model); /* layer 0 reads the new argmax sources */
    if (loss)
        *loss = l;
    return SPLUT_OK;
}

splut_status splut_trainer_step(splut_trainer *t, const float *x, const int32_t *labels,
                                size_t n, double *loss)
{
    if (!t)
        return SPLUT_E_NULL;
    if (in_phase1(t)) {
        if (t->steps_per_epoch <= 0)
            return splut__fail(t->model->ctx, SPLUT_E_STATE,
                               "learned connectivity needs SPLUT_P_STEPS_PER_EPOCH (its "
                               "schedule counts epochs)");
        if (t->step < adam_origin(t))
            return learned_step(t, x, labels, n, loss);
        t->conn_switched = true; /* resumed after the switch, or switch epoch 0 */
    }
    const batch_targets y = {.labels = labels};
    return model_step(t, x, &y, n, loss);
}

splut_status splut_trainer_step_soft(splut_trainer *t, const float *x, const float *targets,
                                     size_t n, double *loss)
{
    if (!t)
        return SPLUT_E_NULL;
    if (in_phase1(t) && t->step < adam_origin(t))
        return splut__fail(t->model->ctx, SPLUT_E_STATE,
                           "soft targets: phase 1 of learned connectivity trains on labels");
    if (in_phase1(t))
        t->conn_switched = true;
    const batch_targets y = {.soft = targets};
    return model_step(t, x, &y, n, loss);
}

/* ------------------------------------------------- BatchNorm calibration */

/* Adds one batch's statistics to sums laid out like the model's state: the
 * mean at each running-mean slot, the unbiased variance at each running-var
 * slot (what bn_update_running would blend in). */
static void add_batch_stats(const splut_model *m, const splut_train_ws *ws, size_t B,
                            double *sum)
{
    double unbias = (double)B / (double)(B - 1);
    if (m->input_mode == SPLUT_INPUT_BN_HARDTANH)
        for (uint32_t f = 0; f < m->n_inputs; f++) {
            sum[m->in_run_mean + f] += ws->in_mean[f];
            sum[m->in_run_var + f] += ws->in_var[f] * unbias;
        }
    for (size_t l = 0; l < m->n_layers; l++) {
        const splut_layer *L = &m->layers[l];
        for (uint32_t n = 0; n < L->out; n++) {
            sum[L->run_mean + n] += ws->L[l].bn_mean[n];
            sum[L->run_var + n] += ws->L[l].bn_var[n] * unbias;
        }
    }
}

/* Every batch counts once (the cumulative average of torch's update_bn). */
static void store_mean_stats(splut_model *m, const double *sum, size_t batches)
{
    float *S = m->state;
    if (m->input_mode == SPLUT_INPUT_BN_HARDTANH)
        for (uint32_t f = 0; f < m->n_inputs; f++) {
            S[m->in_run_mean + f] = (float)(sum[m->in_run_mean + f] / (double)batches);
            S[m->in_run_var + f] = (float)(sum[m->in_run_var + f] / (double)batches);
        }
    for (size_t l = 0; l < m->n_layers; l++) {
        const splut_layer *L = &m->layers[l];
        for (uint32_t n = 0; n < L->out; n++) {
            S[L->run_mean + n] = (float)(sum[L->run_mean + n] / (double)batches);
            S[L->run_var + n] = (float)(sum[L->run_var + n] / (double)batches);
        }
    }
}

static splut_status check_calibration(const splut_trainer *t, const float *x, size_t n,
                                      size_t batch)
{
    splut_ctx *ctx = t->model->ctx;
    if (!x)
        return splut__fail(ctx, SPLUT_E_NULL, "BatchNorm calibration: NULL features");
    if (batch < 2 || n < 2)
        return splut__fail(ctx, SPLUT_E_INVALID,
                           "BatchNorm calibration needs batches of at least 2 samples "
                           "(got %zu samples, batch %zu)",
                           n, batch);
    if (in_phase1(t))
        return splut__fail(ctx, SPLUT_E_STATE,
                           "BatchNorm calibration: the model is not trained yet (learned "
                           "connectivity is in phase 1)");
    return SPLUT_OK;
}

splut_status splut_trainer_calibrate_bn(splut_trainer *t, const float *x, size_t n,
                                        size_t batch)
{
    if (!t)
        return SPLUT_E_NULL;
    splut_status st = check_calibration(t, x, n, batch);
    if (st == SPLUT_OK)
        st = ensure_ws(t, batch < n ? batch : n);
    if (st != SPLUT_OK)
        return st;
    splut_model *m = t->model;
    double *sum = splut__calloc(m->ctx, m->n_state, sizeof(double));
    if (!sum)
        return splut__fail(m->ctx, SPLUT_E_NOMEM, "out of memory for BatchNorm calibration");
    size_t batches = 0;
    for (size_t i = 0; i + 2 <= n; i += batch, batches++) {
        size_t B = n - i < batch ? n - i : batch;
        pass ps = {t, m, t->ws, x + i * m->n_inputs, B, 0, false};
        if (!forward(&ps)) {
            splut__free(m->ctx, sum);
            return fail_non_finite(m, x + i * m->n_inputs, B);
        }
        add_batch_stats(m, t->ws, B, sum);
    }
    store_mean_stats(m, sum, batches);
    splut__free(m->ctx, sum);
    return SPLUT_OK;
}

/* Loss and gradient into the caller's buffers, nothing updated. */
static splut_status loss_grad(splut_trainer *t, const float *x, const batch_targets *y, size_t n,
                              double *loss, float *grad)
{
    if (!t)
        return SPLUT_E_NULL;
    double l = 0.0;
    splut_status st = compute(t, x, y, n, &l);
    if (st != SPLUT_OK)
        return st;
    if (grad)
        memcpy(grad, t->ws->grad, t->model->n_params * sizeof(float));
    if (loss)
        *loss = l;
    return SPLUT_OK;
}

splut_status splut_trainer_loss_grad(splut_trainer *t, const float *x, const int32_t *labels,
                                     size_t n, double *loss, float *grad)
{
    const batch_targets y = {.labels = labels};
    return loss_grad(t, x, &y, n, loss, grad);
}

splut_status splut_trainer_loss_grad_soft(splut_trainer *t, const float *x, const float *targets,
                                          size_t n, double *loss, float *grad)
{
    const batch_targets y = {.soft = targets};
    return loss_grad(t, x, &y, n, loss, grad);
}

/* ---- the nested trainer of learned connectivity (connect.c) uses these, so
 * that the optimiser's state stays this module's business ---- */

void splut__trainer_copy_optimiser(splut_trainer *dst, const splut_trainer *src)
{
    dst->beta1 = src->beta1;
    dst->beta2 = src->beta2;
    dst->eps = src->eps;
    dst->weight_decay = src->weight_decay;
}

void splut__trainer_set_fixed_lr(splut_trainer *t, double lr)
{
    t->lr = lr;
    t->restart_period = 0;
}

void splut__trainer_set_step(splut_trainer *t, int64_t step)
{
    t->step = step;
}

int64_t splut__trainer_get_step(const splut_trainer *t)
{
    return t->step;
}

splut_pool *splut__trainer_pool(const splut_trainer *t)
{
    return t->pool;
}

void splut__trainer_zero_param(splut_trainer *t, size_t i)
{
    t->model->params[i] = 0.0f;
    t->m1[i] = t->m2[i] = 0.0f;
}

void splut__trainer_swap_params(splut_trainer *t, size_t i, size_t j)
{
    float *arrays[] = {t->model->params, t->m1, t->m2};
    for (int a = 0; a < 3; a++) {
        float tmp = arrays[a][i];
        arrays[a][i] = arrays[a][j];
        arrays[a][j] = tmp;
    }
}

void splut__trainer_copy_moments(splut_trainer *dst, size_t to, const splut_trainer *src,
                                 size_t from, size_t n)
{
    memcpy(dst->m1 + to, src->m1 + from, n * sizeof(float));
    memcpy(dst->m2 + to, src->m2 + from, n * sizeof(float));
}

const float *splut__trainer_grad(const splut_trainer *t)
{
    return t->ws ? t->ws->grad : NULL;
}

splut_status splut__trainer_set_exact_round(splut_trainer *t, bool exact)
{
    splut_status st = ensure_ws(t, 2);
    if (st == SPLUT_OK)
        t->ws->exact_round = exact;
    return st;
}

/* ------------------------------------------------------------ parameters */

/* Every key maps to its field through the parameter table (ctx.c); a key of
 * another object is refused there, so no write can land in the wrong field. */
splut_status splut_trainer_set_double(splut_trainer *t, splut_param key, double value)
{
    if (!t)
        return SPLUT_E_NULL;
    return splut__param_set_double(t->model->ctx, SPLUT_OWNER_TRAINER, t, key, value);
}

splut_status splut_trainer_get_double(const splut_trainer *t, splut_param key, double *value)
{
    if (!t || !value)
        return t ? splut__fail(t->model->ctx, SPLUT_E_NULL,
                               "splut_trainer_get_double: value is NULL")
                 : SPLUT_E_NULL;
    return splut__param_get_double(t->model->ctx, SPLUT_OWNER_TRAINER, t, key, value);
}

/* Learned connectivity reads its integer keys once, when it starts. */
static bool fixed_while_learning(splut_param key)
{
    return key >= SPLUT_P_CONNECTIVITY && key <= SPLUT_P_CONN_WARM;
}

splut_status splut_trainer_set_int(splut_trainer *t, splut_param key, int64_t value)
{
    if (!t)
        return SPLUT_E_NULL;
    splut_ctx *ctx = t->model->ctx;
    /* a key or value error is reported first, as for every other key */
    bool valid = splut__param_check(key, SPLUT_PARAM_INT, (double)value, SPLUT_OWNER_TRAINER) ==
                 SPLUT_OK;
    if (valid && t->connect && fixed_while_learning(key))
        return splut__fail(ctx, SPLUT_E_STATE,
                           "connectivity parameters are fixed while connectivity is being learned");
    return splut__param_set_int(ctx, SPLUT_OWNER_TRAINER, t, key, value);
}

splut_status splut_trainer_get_int(const splut_trainer *t, splut_param key, int64_t *value)
{
    if (!t || !value)
        return t ? splut__fail(t->model->ctx, SPLUT_E_NULL, "splut_trainer_get_int: value is NULL")
                 : SPLUT_E_NULL;
    return splut__param_get_int(t->model->ctx, SPLUT_OWNER_TRAINER, t, key, value);
}
