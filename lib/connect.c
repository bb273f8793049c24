/*
 * Learned connectivity (SparseLUT phase 1): which inputs each neuron reads.
 *
 * Phase 1 trains a surrogate network with the target's widths, bit widths,
 * BatchNorms and quantisers, whose neurons are linear over a candidate set of
 * C inputs (all inputs when the layer is narrow enough, else a random subset
 * rotated every epoch). A polynomial over hundreds of inputs is infeasible;
 * a linear surrogate ranks inputs at a cost comparable to the target network.
 * Each connection has a magnitude θ ≥ 0 and a fixed sign (DEEP R): weight =
 * sign·θ while active, 0 while dormant. After every optimiser step:
 *   θ -= lr·l1; θ += sqrt(2·lr·temperature)·N(0,1); θ ≤ 0 → dormant;
 *   budget K(t) = P + (C − P)·exp(−t/τ), P = min(C, ⌈plateau·F'⌉) (F' = A·F of
 *   the target, t in epochs since layer l's decay began, l·stagger; plateau 1
 *   and stagger 0 by default):
 *   more active than K → drop the weakest; fewer → regrow at most as many as
 *   were dropped this step, chosen by |∂L/∂w| (or at random), θ = init.
 * At the switch epoch each target neuron takes its F' strongest inputs
 * (sorted), the input stage is copied over, and phase 2 trains the target.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "train-priv.h"

typedef struct conn_layer {
    uint32_t C;        /* candidates per neuron */
    uint32_t target;   /* inputs per neuron after the switch (A·F) */
    uint8_t *active;   /* out × C */
    int8_t *sign;      /* out × C */
    uint32_t *n_active; /* out */
    uint32_t *dropped;  /* out: dropped in the current step */
} conn_layer;

struct splut_connect {
    splut_model *sur;
    splut_trainer *tr;
    conn_layer *L;
    size_t n_layers;
};

/* SPLUT_P_CONNECTIVITY 2: phase 1 pre-trains on the model's own inputs,
 * nothing is pruned or regrown, and phase 2 starts from its function. */
static bool keeps_inputs(const splut_trainer *t)
{
    return t->conn_mode == 2;
}

/* Candidates per neuron of a layer: dense up to the cap, never below A·F. */
static uint32_t candidates(const splut_trainer *t, const splut_layer *L)
{
    if (keeps_inputs(t))
        return L->A * L->F;
    uint32_t c = L->in < (uint32_t)t->conn_candidates ? L->in : (uint32_t)t->conn_candidates;
    return c < L->A * L->F ? L->A * L->F : c;
}

static void free_layers(splut_ctx *ctx, splut_connect *c)
{
    for (size_t l = 0; c->L && l < c->n_layers; l++) {
        splut__free(ctx, c->L[l].active);
        splut__free(ctx, c->L[l].sign);
        splut__free(ctx, c->L[l].n_active);
        splut__free(ctx, c->L[l].dropped);
    }
    splut__free(ctx, c->L);
}

void splut__connect_destroy(splut_ctx *ctx, splut_connect *c)
{
    if (!c)
        return;
    splut_trainer_destroy(c->tr);
    splut_model_destroy(c->sur);
    free_layers(ctx, c);
    splut__free(ctx, c);
}

/* Unbuilt surrogate shaped like `shape`: linear layers with width[l] inputs. */
static splut_status define_surrogate(const splut_model *shape, const uint32_t *width,
                                     splut_model **out)
{
    splut_model *s;
    splut_status st = splut_model_create(shape->ctx, shape->n_inputs, shape->input_bits, &s);
    if (st != SPLUT_OK)
        return st;
    s->input_mode = shape->input_mode;
    s->surrogate = true;
    for (size_t l = 0; l < shape->n_layers && st == SPLUT_OK; l++) {
        splut_layer_desc d = SPLUT_LAYER_DESC_INIT;
        d.kind = SPLUT_NEURON_LINEAR;
        d.width = shape->layers[l].out;
        d.fan_in = width[l];
        d.out_bits = shape->layers[l].out_bits;
        st = splut_model_add_layer(s, &d);
    }
    if (st != SPLUT_OK) {
        splut_model_destroy(s);
        return st;
    }
    *out = s;
    return SPLUT_OK;
}

/* A built surrogate shaped like `old` with width[l] candidates per neuron;
 * parameters zero, connectivity unset (the caller fills both). */
static splut_status reshaped_surrogate(const splut_model *old, const uint32_t *width,
                                       splut_model **out)
{
    splut_model *s;
    splut_status st = define_surrogate(old, width, &s);
    if (st != SPLUT_OK)
        return st;
    st = splut__model_alloc_params(s);
    if (st != SPLUT_OK) {
        splut_model_destroy(s);
        return st;
    }
    s->built = true;
    *out = s;
    return SPLUT_OK;
}

/* A layer's parameters besides its weights (bias, BatchNorm, quantiser scale,
 * output scaling of the last layer): same sizes in every surrogate layout. */
typedef struct param_range {
    size_t from, to, n;
} param_range;

static size_t shared_ranges(const splut_layer *A, const splut_layer *B, param_range r[6])
{
    size_t k = 0;
    r[k++] = (param_range){A->b, B->b, A->out};
    r[k++] = (param_range){A->bn_gamma, B->bn_gamma, A->out};
    r[k++] = (param_range){A->bn_beta, B->bn_beta, A->out};
    r[k++] = (param_range){A->out_q.theta, B->out_q.theta, 1};
    if (A->last) {
        r[k++] = (param_range){A->post_bias, B->post_bias, 1};
        r[k++] = (param_range){A->post_weight, B->post_weight, 1};
    }
    return k;
}

static splut_status build_surrogate(const splut_trainer *t, splut_model **out)
{
    const splut_model *m = t->model;
    uint32_t width[256];
    if (m->n_layers > 256)
        return splut__fail(m->ctx, SPLUT_E_INVALID, "learned connectivity: too many layers");
    for (size_t l = 0; l < m->n_layers; l++) {
        width[l] = candidates(t, &m->layers[l]);
        if (width[l] > SPLUT__CONN_MAX_CANDIDATES)
            return splut__fail(m->ctx, SPLUT_E_FAN_IN,
                               "learned connectivity: layer %zu needs %u inputs per neuron, "
                               "at most %d supported",
                               l, width[l], SPLUT__CONN_MAX_CANDIDATES);
    }
    splut_model *s;
    splut_status st = define_surrogate(m, width, &s);
    if (st != SPLUT_OK)
        return st;
    st = splut_model_build(s);
    if (st != SPLUT_OK) {
        splut_model_destroy(s);
        return st;
    }
    *out = s;
    return SPLUT_OK;
}

/* Every candidate starts active with θ = |w0| and the sign of w0. */
static splut_status init_layers(splut_ctx *ctx, splut_connect *c)
{
    const splut_model *s = c->sur;
    c->n_layers = s->n_layers;
    c->L = splut__calloc(ctx, s->n_layers, sizeof(conn_layer));
    if (!c->L)
        return SPLUT_E_NOMEM;
    for (size_t l = 0; l < s->n_layers; l++) {
        const splut_layer *SL = &s->layers[l];
        conn_layer *cl = &c->L[l];
        size_t k = (size_t)SL->out * SL->F;
        cl->C = SL->F;
        cl->active = splut__calloc(ctx, k, 1);
        cl->sign = splut__calloc(ctx, k, 1);
        cl->n_active = splut__calloc(ctx, SL->out, sizeof(uint32_t));
        cl->dropped = splut__calloc(ctx, SL->out, sizeof(uint32_t));
        if (!cl->active || !cl->sign || !cl->n_active || !cl->dropped)
            return SPLUT_E_NOMEM;
        for (size_t i = 0; i < k; i++) {
            cl->active[i] = 1;
            cl->sign[i] = s->params[SL->w + i] < 0.0f ? -1 : 1;
        }
        for (uint32_t n = 0; n < SL->out; n++)
            cl->n_active[n] = cl->C;
    }
    return SPLUT_OK;
}

splut_status splut__connect_create(splut_trainer *t)
{
    splut_ctx *ctx = t->model->ctx;
    if (t->model->layers[0].kind == SPLUT_NEURON_LUT)
        return splut__fail(ctx, SPLUT_E_INVALID,
                           "learned connectivity does not cover LUT (DWN) layers yet");
    splut_connect *c = splut__calloc(ctx, 1, sizeof(*c));
    if (!c)
        return splut__fail(ctx, SPLUT_E_NOMEM, "out of memory for learned connectivity");
    splut_status st = build_surrogate(t, &c->sur);
    if (st == SPLUT_OK)
        st = splut_trainer_create(c->sur, &c->tr);
    if (st == SPLUT_OK && init_layers(ctx, c) != SPLUT_OK)
        st = splut__fail(ctx, SPLUT_E_NOMEM, "out of memory for learned connectivity");
    if (st != SPLUT_OK) {
        splut__connect_destroy(ctx, c);
        return st;
    }
    for (size_t l = 0; l < c->n_layers; l++) {
        const splut_layer *L = &t->model->layers[l];
        c->L[l].target = L->A * L->F;
        if (keeps_inputs(t)) /* both rows are the A·F sorted inputs */
            memcpy(c->sur->layers[l].conn, L->conn,
                   (size_t)L->out * c->L[l].target * sizeof(uint32_t));
    }
    splut__trainer_copy_optimiser(c->tr, t);
    t->connect = c;
    return SPLUT_OK;
}

/* ------------------------------------------------------------ the step */

typedef struct rewire_job {
    splut_trainer *t;
    splut_connect *c;
    size_t l;
    float lr;
    float budget;
    bool swap; /* first step of an epoch: also swap the weakest connections */
} rewire_job;

/* Seed of the noise and random choices of one neuron at one step: a pure
 * function of (seed, step, layer, neuron), so results ignore thread count. */
static void neuron_rng(const splut_trainer *t, size_t l, uint32_t n, splut_rng *r)
{
    uint64_t k = (uint64_t)t->model->ctx->seed * 0x9e3779b97f4a7c15ull;
    k ^= (uint64_t)t->step * 0xbf58476d1ce4e5b9ull;
    k ^= ((uint64_t)l << 32 | n) * 0x94d049bb133111ebull;
    splut__rng_seed(r, k);
}

static void deactivate(splut_connect *c, conn_layer *cl, size_t i, size_t wi)
{
    cl->active[i] = 0;
    splut__trainer_zero_param(c->tr, wi);
}

/* Weakest active candidate of a neuron (smallest θ, lowest slot on ties). */
static uint32_t weakest(const splut_connect *c, const conn_layer *cl, size_t row, size_t w0)
{
    uint32_t best = UINT32_MAX;
    float best_theta = INFINITY;
    for (uint32_t k = 0; k < cl->C; k++) {
        if (!cl->active[row + k])
            continue;
        float theta = cl->sign[row + k] * c->sur->params[w0 + k];
        if (theta < best_theta) {
            best_theta = theta;
            best = k;
        }
    }
    return best;
}

/* Dormant candidate to regrow: largest |gradient| (lowest slot on ties), or
 * uniformly random among the dormant ones. */
static uint32_t pick_regrowth(const splut_trainer *t, const conn_layer *cl, size_t row,
                              const float *grad, const uint8_t *banned, splut_rng *r)
{
    uint32_t eligible = 0;
    for (uint32_t k = 0; k < cl->C; k++)
        eligible += !cl->active[row + k] && !banned[k];
    if (eligible == 0)
        return UINT32_MAX;
    if (t->conn_regrow == 1) {
        uint64_t pick = splut__rng_below(r, eligible);
        for (uint32_t k = 0; k < cl->C; k++)
            if (!cl->active[row + k] && !banned[k] && pick-- == 0)
                return k;
    }
    uint32_t best = UINT32_MAX;
    float best_g = -1.0f;
    for (uint32_t k = 0; k < cl->C; k++) {
        if (cl->active[row + k] || banned[k])
            continue;
        float g = fabsf(grad[k]);
        if (g > best_g) {
            best_g = g;
            best = k;
        }
    }
    return best;
}

/* Regrow up to `count` dormant, non-banned candidates. Returns how many. */
static uint32_t regrow(const rewire_job *j, conn_layer *cl, size_t row, size_t w0,
                       const float *grad, const uint8_t *banned, uint32_t count, splut_rng *r)
{
    float *W = j->c->sur->params;
    uint32_t grown = 0;
    for (; grown < count; grown++) {
        uint32_t k = pick_regrowth(j->t, cl, row, grad, banned, r);
        if (k == UINT32_MAX)
            break;
        cl->active[row + k] = 1;
        int8_t s = j->t->conn_regrow == 1 ? (splut__rng_next(r) & 1 ? 1 : -1)
                                          : (grad[k] > 0.0f ? -1 : 1); /* descent direction */
        cl->sign[row + k] = s;
        W[w0 + k] = s * (float)j->t->conn_init;
    }
    return grown;
}

static void rewire_neuron(const rewire_job *j, uint32_t n)
{
    splut_connect *c = j->c;
    conn_layer *cl = &c->L[j->l];
    const splut_layer *SL = &c->sur->layers[j->l];
    size_t row = (size_t)n * cl->C, w0 = SL->w + row;
    float *W = c->sur->params;
    const float *grad = splut__trainer_grad(c->tr) + w0;
    splut_rng r;
    neuron_rng(j->t, j->l, n, &r);
    float shrink = j->lr * (float)j->t->conn_l1;
    float noise = sqrtf(2.0f * j->lr * (float)j->t->conn_temperature);
    uint32_t active = 0, dropped = 0;
    for (uint32_t k = 0; k < cl->C; k++) {
        size_t i = row + k, wi = w0 + k;
        if (!cl->active[i]) {
            /* the optimiser moved it: dormant weights stay 0 */
            splut__trainer_zero_param(c->tr, wi);
            continue;
        }
        float theta = cl->sign[i] * W[wi] - shrink;
        if (noise > 0.0f)
            theta += noise * (float)splut__rng_normal(&r);
        if (theta <= 0.0f) {
            deactivate(c, cl, i, wi);
            dropped++;
            continue;
        }
        W[wi] = cl->sign[i] * theta;
        active++;
    }
    uint32_t budget = (uint32_t)ceilf(j->budget);
    if (budget < cl->target)
        budget = cl->target;
    for (; active > budget; active--, dropped++) {
        uint32_t k = weakest(c, cl, row, w0);
        deactivate(c, cl, row + k, w0 + k);
    }
    uint8_t banned[SPLUT__CONN_MAX_CANDIDATES] = {0};
    if (j->swap) {
        /* exploration: the weakest fraction makes room for the dormant inputs
         * the loss pulls on hardest (never the ones just dropped) */
        uint32_t k_swap = (uint32_t)ceil(j->t->conn_swap * active);
        for (uint32_t i = 0; i < k_swap && active > 0; i++, active--, dropped++) {
            uint32_t k = weakest(c, cl, row, w0);
            deactivate(c, cl, row + k, w0 + k);
            banned[k] = 1;
        }
    }
    uint32_t room = budget > active ? budget - active : 0;
    active += regrow(j, cl, row, w0, grad, banned, room < dropped ? room : dropped, &r);
    cl->n_active[n] = active;
    cl->dropped[n] = dropped;
}

static void rewire_task(void *arg, size_t b, size_t e, unsigned worker)
{
    (void)worker;
    for (size_t n = b; n < e; n++)
        rewire_neuron(arg, (uint32_t)n);
}

/* Keep neuron n's candidate row sorted by input; slots are independent
 * (linear, dormant ones are 0), so each carries its state along. */
static void sort_row(splut_connect *c, size_t l, uint32_t n)
{
    conn_layer *cl = &c->L[l];
    uint32_t *row = c->sur->layers[l].conn + (size_t)n * cl->C;
    size_t base = (size_t)n * cl->C, w0 = c->sur->layers[l].w + base;
    for (uint32_t i = 1; i < cl->C; i++)
        for (uint32_t j = i; j > 0 && row[j] < row[j - 1]; j--) {
            uint32_t tr = row[j];
            row[j] = row[j - 1];
            row[j - 1] = tr;
            splut__trainer_swap_params(c->tr, w0 + j, w0 + j - 1);
            uint8_t ta = cl->active[base + j];
            cl->active[base + j] = cl->active[base + j - 1];
            cl->active[base + j - 1] = ta;
            int8_t ts = cl->sign[base + j];
            cl->sign[base + j] = cl->sign[base + j - 1];
            cl->sign[base + j - 1] = ts;
        }
}

static bool capped(const splut_connect *c, size_t l)
{
    return c->L[l].C < c->sur->layers[l].in;
}

/* Capped layers see new inputs: at each epoch start, every dormant candidate
 * is replaced by a random input the neuron does not yet consider. */
static void rotate_candidates(splut_trainer *t, splut_connect *c, size_t l)
{
    conn_layer *cl = &c->L[l];
    splut_layer *SL = &c->sur->layers[l];
    if (!capped(c, l))
        return;
    for (uint32_t n = 0; n < SL->out; n++) {
        splut_rng r;
        neuron_rng(t, l + 1000, n, &r);
        uint32_t *row = SL->conn + (size_t)n * cl->C;
        for (uint32_t k = 0; k < cl->C; k++) {
            if (cl->active[(size_t)n * cl->C + k])
                continue;
            for (int tries = 0; tries < 64; tries++) {
                uint32_t cand = (uint32_t)splut__rng_below(&r, SL->in);
                bool used = false;
                for (uint32_t i = 0; i < cl->C && !used; i++)
                    used = row[i] == cand;
                if (!used) {
                    row[k] = cand;
                    break;
                }
            }
        }
        sort_row(c, l, n);
    }
}

/* ------------------------------------------------- dense-gradient candidates */

static void copy_range(splut_model *to, size_t to_at, const splut_model *from, size_t from_at,
                       size_t n)
{
    memcpy(to->params + to_at, from->params + from_at, n * sizeof(float));
}

/* Layer l of the probe: capped layers read every input (slot = input), the
 * others keep their candidate rows; weights, biases, BatchNorm and quantiser
 * parameters are the surrogate's. */
static void fill_probe_layer(const splut_connect *c, splut_model *p, size_t l)
{
    const splut_layer *A = &c->sur->layers[l];
    splut_layer *B = &p->layers[l];
    uint32_t C = c->L[l].C, W = B->F;
    for (uint32_t n = 0; n < A->out; n++)
        for (uint32_t s = 0; s < W; s++)
            B->conn[(size_t)n * W + s] = capped(c, l) ? s : A->conn[(size_t)n * C + s];
    for (uint32_t n = 0; n < A->out; n++)
        for (uint32_t s = 0; s < C; s++) {
            size_t src = (size_t)n * C + s;
            uint32_t dst = capped(c, l) ? A->conn[src] : s;
            p->params[B->w + (size_t)n * W + dst] = c->sur->params[A->w + src];
        }
    param_range r[6];
    for (size_t i = 0, k = shared_ranges(A, B, r); i < k; i++)
        copy_range(p, r[i].to, c->sur, r[i].from, r[i].n);
}

/* The surrogate with its capped layers made dense: one gradient evaluation
 * of it gives ∂L/∂w for every input a neuron could read. */
static splut_status build_probe(const splut_connect *c, splut_model **out)
{
    const splut_model *old = c->sur;
    uint32_t width[256];
    for (size_t l = 0; l < c->n_layers; l++)
        width[l] = capped(c, l) ? old->layers[l].in : c->L[l].C;
    splut_model *p;
    splut_status st = reshaped_surrogate(old, width, &p);
    if (st != SPLUT_OK)
        return st;
    copy_range(p, 0, old, 0, old->in_q.theta + 1); /* the input stage leads both layouts */
    memcpy(p->state, old->state, old->n_state * sizeof(float));
    for (size_t l = 0; l < c->n_layers; l++)
        fill_probe_layer(c, p, l);
    *out = p;
    return SPLUT_OK;
}

/* Refill neuron n's dormant slots with the inputs of largest |∂L/∂w| that it
 * does not read yet (g: the neuron's dense gradient row; mark: in bytes). */
static void refill_row(splut_connect *c, size_t l, uint32_t n, const float *g, uint8_t *mark)
{
    conn_layer *cl = &c->L[l];
    uint32_t in = c->sur->layers[l].in;
    uint32_t *row = c->sur->layers[l].conn + (size_t)n * cl->C;
    memset(mark, 0, in);
    for (uint32_t s = 0; s < cl->C; s++)
        if (cl->active[(size_t)n * cl->C + s])
            mark[row[s]] = 1;
    for (uint32_t s = 0; s < cl->C; s++) {
        if (cl->active[(size_t)n * cl->C + s])
            continue;
        uint32_t best = UINT32_MAX;
        float best_g = -1.0f;
        for (uint32_t i = 0; i < in; i++)
            if (!mark[i] && (best == UINT32_MAX || fabsf(g[i]) > best_g)) {
                best_g = fabsf(g[i]); /* the first unmarked input even if NaN */
                best = i;
            }
        mark[best] = 1; /* C ≤ in: an unmarked input always remains */
        row[s] = best;
    }
    sort_row(c, l, n);
}

/* RigL-style exploration for capped layers: instead of random inputs, each
 * neuron's dormant candidates become the inputs the loss pulls on hardest,
 * measured by one dense gradient evaluation on the current batch. */
static splut_status refresh_candidates(splut_connect *c, const float *x, const int32_t *labels,
                                       size_t n)
{
    splut_ctx *ctx = c->sur->ctx;
    uint32_t widest = 0; /* input width of the widest capped layer */
    for (size_t l = 0; l < c->n_layers; l++)
        if (capped(c, l) && c->sur->layers[l].in > widest)
            widest = c->sur->layers[l].in;
    if (widest == 0)
        return SPLUT_OK;
    splut_model *p = NULL;
    splut_trainer *pt = NULL;
    uint8_t *mark = splut__calloc(ctx, widest, 1);
    splut_status st = mark ? build_probe(c, &p) : SPLUT_E_NOMEM;
    if (st == SPLUT_OK)
        st = splut_trainer_create(p, &pt);
    if (st == SPLUT_OK)
        st = splut_trainer_loss_grad(pt, x, labels, n, NULL, NULL);
    const float *g = st == SPLUT_OK ? splut__trainer_grad(pt) : NULL;
    for (size_t l = 0; l < c->n_layers && g; l++) {
        const splut_layer *PL = &p->layers[l];
        for (uint32_t nr = 0; nr < PL->out && capped(c, l); nr++)
            refill_row(c, l, nr, g + PL->w + (size_t)nr * PL->F, mark);
    }
    if (st == SPLUT_E_NOMEM)
        st = splut__fail(ctx, st, "out of memory exploring candidate inputs");
    splut__free(ctx, mark);
    splut_trainer_destroy(pt);
    splut_model_destroy(p);
    return st;
}

/* ------------------------------------------------------------ compaction */

/* The phase-1 budget of active inputs per neuron of layer l after `epochs`
 * epochs; layer l's decay starts l·stagger epochs late. */
static double budget_at(const splut_trainer *t, const conn_layer *cl, size_t l, double epochs)
{
    double floor_ = ceil(t->conn_plateau * cl->target);
    if (floor_ > cl->C)
        floor_ = cl->C;
    double since = epochs - t->conn_stagger * (double)l;
    return floor_ + (cl->C - floor_) * exp(-(since > 0.0 ? since : 0.0) / t->conn_tau);
}

/* Once the budget has shrunk, most candidates are dormant but still cost a
 * multiply-add each. Every epoch the surrogate is rebuilt with fewer
 * candidates per neuron: the active ones plus the dormant ones with the
 * largest gradients, at least twice the coming budget. */
static uint32_t compact_width(const splut_trainer *t, const conn_layer *cl, size_t l,
                              uint32_t out, double epochs)
{
    double budget = budget_at(t, cl, l, epochs);
    uint32_t want = (uint32_t)ceil(2.0 * budget) + 4;
    for (uint32_t n = 0; n < out; n++)
        if (cl->n_active[n] > want)
            want = cl->n_active[n];
    return want < cl->C ? want : cl->C;
}

/* Slots of neuron n kept in the compacted layer (ascending input order). */
static uint32_t kept_slots(const splut_connect *c, size_t l, uint32_t n, uint32_t width,
                           uint32_t *keep)
{
    const conn_layer *cl = &c->L[l];
    const splut_layer *SL = &c->sur->layers[l];
    size_t row = (size_t)n * cl->C;
    const float *grad = splut__trainer_grad(c->tr) + SL->w + row;
    uint8_t taken[SPLUT__CONN_MAX_CANDIDATES] = {0};
    uint32_t k = 0;
    for (uint32_t s = 0; s < cl->C; s++)
        if (cl->active[row + s]) {
            taken[s] = 1;
            k++;
        }
    while (k < width) {
        uint32_t best = UINT32_MAX;
        float bg = -1.0f;
        for (uint32_t s = 0; s < cl->C; s++)
            if (!taken[s] && fabsf(grad[s]) > bg) {
                bg = fabsf(grad[s]);
                best = s;
            }
        taken[best] = 1;
        k++;
    }
    uint32_t out = 0;
    for (uint32_t s = 0; s < cl->C; s++) /* slots are sorted by input already */
        if (taken[s])
            keep[out++] = s;
    return out;
}

/* Copy one float of the optimiser-visible state (parameter and moments). */
static void copy_param(const splut_connect *o, splut_model *s2, splut_trainer *t2, size_t from,
                       size_t to, size_t n)
{
    copy_range(s2, to, o->sur, from, n);
    splut__trainer_copy_moments(t2, to, o->tr, from, n);
}

static void copy_layer(const splut_connect *o, splut_model *s2, splut_trainer *t2, size_t l,
                       conn_layer *nl, const uint32_t *width)
{
    const splut_layer *A = &o->sur->layers[l];
    splut_layer *B = &s2->layers[l];
    const conn_layer *cl = &o->L[l];
    uint32_t keep[SPLUT__CONN_MAX_CANDIDATES];
    for (uint32_t n = 0; n < A->out; n++) {
        uint32_t k = kept_slots(o, l, n, width[l], keep);
        for (uint32_t i = 0; i < k; i++) {
            size_t src = (size_t)n * cl->C + keep[i], dst = (size_t)n * width[l] + i;
            B->conn[dst] = A->conn[src];
            nl->active[dst] = cl->active[src];
            nl->sign[dst] = cl->sign[src];
            copy_param(o, s2, t2, A->w + src, B->w + dst, 1);
        }
        nl->n_active[n] = cl->n_active[n];
    }
    param_range r[6];
    for (size_t i = 0, k = shared_ranges(A, B, r); i < k; i++)
        copy_param(o, s2, t2, r[i].from, r[i].to, r[i].n);
}

static splut_status alloc_conn_layer(splut_ctx *ctx, conn_layer *nl, uint32_t out, uint32_t C,
                                     uint32_t target)
{
    nl->C = C;
    nl->target = target;
    nl->active = splut__calloc(ctx, (size_t)out * C, 1);
    nl->sign = splut__calloc(ctx, (size_t)out * C, 1);
    nl->n_active = splut__calloc(ctx, out, sizeof(uint32_t));
    nl->dropped = splut__calloc(ctx, out, sizeof(uint32_t));
    return nl->active && nl->sign && nl->n_active && nl->dropped ? SPLUT_OK : SPLUT_E_NOMEM;
}

/* Build the compacted surrogate, its trainer and bookkeeping; swap them in. */
static splut_status compact(splut_trainer *t, splut_connect *c, const uint32_t *width)
{
    splut_ctx *ctx = t->model->ctx;
    const splut_model *old = c->sur;
    splut_connect nc = {NULL, NULL, NULL, c->n_layers};
    splut_status st = reshaped_surrogate(old, width, &nc.sur);
    if (st != SPLUT_OK)
        return st;
    st = splut_trainer_create(nc.sur, &nc.tr);
    nc.L = st == SPLUT_OK ? splut__calloc(ctx, c->n_layers, sizeof(conn_layer)) : NULL;
    if (st == SPLUT_OK && !nc.L)
        st = SPLUT_E_NOMEM;
    for (size_t l = 0; l < c->n_layers && st == SPLUT_OK; l++)
        st = alloc_conn_layer(ctx, &nc.L[l], old->layers[l].out, width[l], c->L[l].target);
    if (st != SPLUT_OK) {
        splut_trainer_destroy(nc.tr);
        splut_model_destroy(nc.sur);
        free_layers(ctx, &nc);
        return st == SPLUT_E_NOMEM ? splut__fail(ctx, st, "out of memory compacting the "
                                                          "connectivity surrogate")
                                   : st;
    }
    size_t in_params = old->in_q.theta + 1; /* the input stage leads both layouts */
    copy_param(c, nc.sur, nc.tr, 0, 0, in_params);
    memcpy(nc.sur->state, old->state, old->n_state * sizeof(float));
    for (size_t l = 0; l < c->n_layers; l++)
        copy_layer(c, nc.sur, nc.tr, l, &nc.L[l], width);
    splut__trainer_set_step(nc.tr, splut__trainer_get_step(c->tr));
    splut__trainer_copy_optimiser(nc.tr, c->tr);
    splut_trainer_destroy(c->tr);
    splut_model_destroy(c->sur);
    free_layers(ctx, c);
    *c = nc;
    return SPLUT_OK;
}

/* Compact when some layer would shrink to at most three quarters. */
static splut_status maybe_compact(splut_trainer *t, splut_connect *c)
{
    if (!splut__trainer_grad(c->tr))
        return SPLUT_OK;
    double epochs = (double)t->step / (double)t->steps_per_epoch;
    uint32_t width[256];
    bool worth = false;
    for (size_t l = 0; l < c->n_layers; l++) {
        width[l] = compact_width(t, &c->L[l], l, c->sur->layers[l].out, epochs);
        worth |= width[l] * 4 <= c->L[l].C * 3;
    }
    return worth && c->n_layers <= 256 ? compact(t, c, width) : SPLUT_OK;
}

splut_status splut__connect_step(splut_trainer *t, const float *x, const int32_t *labels,
                                 size_t n, double *loss, double lr)
{
    splut_connect *c = t->connect;
    if (t->step % t->steps_per_epoch == 0 && t->step > 0 && !keeps_inputs(t)) {
        splut_status cst = maybe_compact(t, c);
        if (cst != SPLUT_OK)
            return cst;
        if (t->conn_explore == 1) {
            cst = refresh_candidates(c, x, labels, n);
            if (cst != SPLUT_OK)
                return cst;
        } else {
            for (size_t l = 0; l < c->n_layers; l++)
                rotate_candidates(t, c, l);
        }
    }
    splut__trainer_set_fixed_lr(c->tr, lr); /* the target trainer owns the schedule */
    splut_status st = splut_trainer_step(c->tr, x, labels, n, loss);
    if (st != SPLUT_OK || keeps_inputs(t))
        return st;
    double epochs = (double)(t->step + 1) / (double)t->steps_per_epoch;
    /* exploration at the last step would hand every neuron an untrained input
     * in place of its weakest trained one right before the mask freezes */
    bool swap = (t->step + 1) % t->steps_per_epoch == 0 &&
                t->step + 1 < t->switch_epoch * t->steps_per_epoch;
    for (size_t l = 0; l < c->n_layers; l++) {
        conn_layer *cl = &c->L[l];
        rewire_job j = {t, c, l, (float)lr, (float)budget_at(t, cl, l, epochs), swap};
        splut__pool_run(splut__trainer_pool(c->tr), c->sur->layers[l].out, 8, rewire_task, &j);
    }
    return SPLUT_OK;
}

/* ------------------------------------------------------------ the switch */

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return (x > y) - (x < y);
}

/* Order-preserving map of a magnitude into [0, 1). */
static double squash(float v)
{
    double a = fabs((double)v);
    return a / (1.0 + a);
}

/* Rank of candidate slot s of neuron n: active connections by θ above every
 * dormant one, dormant ones by |∂L/∂w| (0 without gradients). Each group is
 * squashed into its own unit interval: an offset such as 1e30f + θ would round
 * every active θ to the same float. */
static double slot_score(const splut_connect *c, size_t l, uint32_t n, uint32_t s)
{
    const conn_layer *cl = &c->L[l];
    size_t i = (size_t)n * cl->C + s, wi = c->sur->layers[l].w + i;
    if (cl->active[i])
        return 1.0 + squash(c->sur->params[wi]);
    const float *grad = splut__trainer_grad(c->tr);
    return grad ? squash(grad[wi]) : 0.0;
}

/* Candidate slot of neuron n that reads `input`, UINT32_MAX if none. */
static uint32_t find_slot(const splut_connect *c, size_t l, uint32_t n, uint32_t input)
{
    const conn_layer *cl = &c->L[l];
    const uint32_t *row = c->sur->layers[l].conn + (size_t)n * cl->C;
    for (uint32_t s = 0; s < cl->C; s++)
        if (row[s] == input)
            return s;
    return UINT32_MAX;
}

/* The k strongest candidates of a neuron, as sorted input indices. */
static void strongest_inputs(const splut_connect *c, size_t l, uint32_t n, uint32_t k,
                             uint32_t *out)
{
    const conn_layer *cl = &c->L[l];
    const uint32_t *row = c->sur->layers[l].conn + (size_t)n * cl->C;
    uint8_t taken[SPLUT__CONN_MAX_CANDIDATES] = {0};
    for (uint32_t i = 0; i < k; i++) {
        uint32_t best = 0;
        double best_score = -INFINITY;
        for (uint32_t s = 0; s < cl->C; s++) {
            double score = taken[s] ? -INFINITY : slot_score(c, l, n, s);
            if (score > best_score) {
                best_score = score;
                best = s;
            }
        }
        taken[best] = 1;
        out[i] = row[best];
    }
    qsort(out, k, sizeof(uint32_t), cmp_u32);
}

/* Position in sel[0..k) of neuron n's weakest input that another neuron
 * reads too (giving it up orphans nothing), UINT32_MAX if none. */
static uint32_t weakest_shared(const splut_connect *c, size_t l, uint32_t n, const uint32_t *sel,
                               uint32_t k, const uint32_t *readers)
{
    uint32_t best = UINT32_MAX;
    double best_score = INFINITY;
    for (uint32_t j = 0; j < k; j++) {
        if (readers[sel[j]] < 2)
            continue;
        uint32_t s = find_slot(c, l, n, sel[j]);
        double score = s == UINT32_MAX ? 0.0 : slot_score(c, l, n, s);
        if (score < best_score) {
            best_score = score;
            best = j;
        }
    }
    return best;
}

/* A hidden neuron that no neuron of the next layer reads is wasted capacity,
 * and phase 1 tends to concentrate on a few strong ones. When the layer makes
 * at least as many connections as it has inputs, each unread input of a
 * hidden layer (l ≥ 1) goes to the neuron that ranks it highest among its
 * candidates, in place of that neuron's weakest input read elsewhere too. */
static splut_status cover_inputs(splut_connect *c, const splut_layer *L, size_t l, uint32_t k,
                                 uint32_t *sel)
{
    if (l == 0 || (uint64_t)L->out * k < L->in)
        return SPLUT_OK;
    splut_ctx *ctx = c->sur->ctx;
    uint32_t *readers = splut__calloc(ctx, L->in, sizeof(uint32_t));
    if (!readers)
        return splut__fail(ctx, SPLUT_E_NOMEM, "out of memory choosing the learned inputs");
    for (size_t i = 0; i < (size_t)L->out * k; i++)
        readers[sel[i]]++;
    for (uint32_t u = 0; u < L->in; u++) {
        if (readers[u])
            continue;
        uint32_t to = UINT32_MAX, at = 0;
        double best = -INFINITY;
        for (uint32_t n = 0; n < L->out; n++) {
            uint32_t s = find_slot(c, l, n, u);
            double score = s == UINT32_MAX ? -INFINITY : slot_score(c, l, n, s);
            if (s == UINT32_MAX || score <= best)
                continue;
            uint32_t j = weakest_shared(c, l, n, sel + (size_t)n * k, k, readers);
            if (j == UINT32_MAX)
                continue;
            best = score;
            to = n;
            at = j;
        }
        if (to == UINT32_MAX)
            continue; /* no neuron considers u: it stays unread */
        uint32_t *row = sel + (size_t)to * k;
        readers[row[at]]--;
        row[at] = u;
        readers[u] = 1;
        qsort(row, k, sizeof(uint32_t), cmp_u32);
    }
    splut__free(ctx, readers);
    return SPLUT_OK;
}

/* Choose and install the inputs of every neuron of target layer l. */
static splut_status switch_layer(splut_trainer *t, size_t l)
{
    splut_connect *c = t->connect;
    splut_model *m = t->model;
    const splut_layer *L = &m->layers[l];
    uint32_t k = L->A * L->F;
    uint32_t *sel = splut__calloc(m->ctx, (size_t)L->out * k, sizeof(uint32_t));
    if (!sel)
        return splut__fail(m->ctx, SPLUT_E_NOMEM, "out of memory choosing the learned inputs");
    for (uint32_t n = 0; n < L->out; n++)
        strongest_inputs(c, l, n, k, sel + (size_t)n * k);
    splut_status st = t->conn_cover ? cover_inputs(c, L, l, k, sel) : SPLUT_OK;
    for (uint32_t n = 0; n < L->out && st == SPLUT_OK; n++)
        st = splut_model_set_inputs(m, l, n, sel + (size_t)n * k, k);
    splut__free(m->ctx, sel);
    return st;
}

/* ------------------------------------------------ warm start of phase 2 */

/* Surrogate weight of the connection input → neuron n of layer l (0 when the
 * neuron never considered the input or the connection is dormant). */
static float surrogate_weight(const splut_connect *c, size_t l, uint32_t n, uint32_t input)
{
    const splut_layer *SL = &c->sur->layers[l];
    uint32_t s = find_slot(c, l, n, input);
    return s == UINT32_MAX ? 0.0f : c->sur->params[SL->w + (size_t)n * SL->T + s];
}

/* NeuraLUT neuron computing b + Σ w·x exactly: the skip map feeds hidden
 * units 0 and 1 with +Σ w·x and −Σ w·x, the output skip takes relu(+) −
 * relu(−); the deep path (w4) starts at 0, so the MLP grows from the linear
 * function. Needs N ≥ 2. */
static void warm_neuralut(const splut_layer *L, float *w, const float *lin)
{
    splut_nl_off o = splut__nl_offsets(L->F, L->N);
    for (uint32_t row = 0; row < 2; row++) {
        float sign = row == 0 ? 1.0f : -1.0f;
        memset(w + o.w2 + (size_t)row * L->N, 0, L->N * sizeof(float));
        w[o.b2 + row] = 0.0f;
        for (uint32_t f = 0; f < L->F; f++)
            w[o.r0 + (size_t)row * L->F + f] = sign * lin[f];
    }
    memset(w + o.w4, 0, L->N * sizeof(float));
    memset(w + o.r1, 0, L->N * sizeof(float));
    w[o.r1] = 1.0f;
    w[o.r1 + 1] = -1.0f;
}

/* Polynomial neuron (A sub-neurons of T terms) whose degree-1 terms are
 * scale·lin and every other term 0. */
static void warm_poly(const splut_layer *L, float *w, const float *lin, float scale)
{
    memset(w, 0, (size_t)L->A * L->T * sizeof(float));
    for (uint32_t a = 0; a < L->A; a++)
        for (uint32_t f = 0; f < L->F; f++) /* degree-1 terms come first */
            w[(size_t)a * L->T + f] = scale * lin[a * L->F + f];
}

/* Neuron n of target layer l computes the surrogate neuron restricted to its
 * chosen inputs: degree-1 terms take the surrogate weights, every other term
 * starts at 0. A PolyLUT-Add neuron additionally folds the surrogate's
 * BatchNorm normalisation into its sub-neurons, so each sub-neuron sum has a
 * scale its (b+1)-bit quantiser (initial range about ±1) can carry; its own
 * BatchNorm statistics then make the adder's mean undo the fold. */
static void warm_neuron(splut_trainer *t, size_t l, uint32_t n)
{
    const splut_model *s = t->connect->sur;
    splut_model *m = t->model;
    const splut_layer *SL = &s->layers[l], *L = &m->layers[l];
    const uint32_t *row = L->conn + (size_t)n * L->A * L->F;
    float lin[SPLUT_MAX_FAN_IN];
    for (uint32_t j = 0; j < L->A * L->F; j++)
        lin[j] = surrogate_weight(t->connect, l, n, row[j]);
    float *w = m->params + L->w + (size_t)n * L->A * L->T;
    float bias = s->params[SL->b + n], mean = s->state[SL->run_mean + n],
          var = s->state[SL->run_var + n];
    if (L->kind == SPLUT_NEURON_NEURALUT) {
        warm_neuralut(L, w, lin);
    } else if (L->A == 1) {
        warm_poly(L, w, lin, 1.0f);
    } else {
        float k = 1.0f / sqrtf(var + SPLUT_BN_EPS);
        warm_poly(L, w, lin, k);
        for (uint32_t a = 0; a < L->A; a++)
            m->params[L->b + (size_t)n * L->A + a] = k * (bias - mean) / (float)L->A;
        mean = 0.0f;
        var = fmaxf(1.0f / (float)(L->A * L->A) - SPLUT_BN_EPS, 0.0f);
    }
    if (L->A == 1) /* else set per sub-neuron above */
        m->params[L->b + n] = bias;
    m->state[L->run_mean + n] = mean;
    m->state[L->run_var + n] = var;
    m->params[L->bn_gamma + n] = s->params[SL->bn_gamma + n];
    m->params[L->bn_beta + n] = s->params[SL->bn_beta + n];
}

/* Layers whose neuron kind can start as the surrogate's linear function. */
static bool warm_capable(const splut_layer *L)
{
    return L->kind != SPLUT_NEURON_NEURALUT || L->N >= 2;
}

/* Phase 2 starts from the surrogate's function on the chosen inputs: the
 * target's accuracy at the switch is (up to the PolyLUT-Add sub-neuron
 * rounding) the surrogate's, instead of chance. */
static void warm_start(splut_trainer *t)
{
    const splut_model *s = t->connect->sur;
    splut_model *m = t->model;
    for (size_t l = 0; l < m->n_layers; l++) {
        const splut_layer *SL = &s->layers[l], *L = &m->layers[l];
        if (!warm_capable(L))
            continue;
        for (uint32_t n = 0; n < L->out; n++)
            warm_neuron(t, l, n);
        m->params[L->out_q.theta] = s->params[SL->out_q.theta];
        if (L->last) {
            m->params[L->post_bias] = s->params[SL->post_bias];
            m->params[L->post_weight] = s->params[SL->post_weight];
        }
    }
}

splut_status splut__connect_switch(splut_trainer *t)
{
    splut_connect *c = t->connect;
    splut_model *m = t->model;
    for (size_t l = 0; l < m->n_layers; l++) {
        splut_status st = keeps_inputs(t) ? SPLUT_OK : switch_layer(t, l);
        if (st != SPLUT_OK)
            return st;
    }
    if (t->conn_warm || keeps_inputs(t))
        warm_start(t);
    /* the input stage has the same layout in both models: keep what it learned */
    const splut_model *s = c->sur;
    size_t in_params = m->in_q.theta + 1;
    memcpy(m->params, s->params, in_params * sizeof(float));
    if (m->input_mode == SPLUT_INPUT_BN_HARDTANH)
        memcpy(m->state, s->state, 2 * (size_t)m->n_inputs * sizeof(float));
    splut__connect_destroy(m->ctx, c);
    t->connect = NULL;
    t->conn_switched = true;
    return SPLUT_OK;
}

splut_status splut_trainer_connections(const splut_trainer *t, size_t layer, uint64_t *active,
                                       uint64_t *candidates_out)
{
    if (!t || !active)
        return t ? splut__fail(t->model->ctx, SPLUT_E_NULL,
                               "splut_trainer_connections: active is NULL")
                 : SPLUT_E_NULL;
    const splut_model *m = t->model;
    if (layer >= m->n_layers)
        return splut__fail(m->ctx, SPLUT_E_INDEX, "layer %zu of %zu", layer, m->n_layers);
    const splut_layer *L = &m->layers[layer];
    uint64_t fixed = (uint64_t)L->out * L->A * L->F;
    if (!t->connect) {
        *active = fixed;
        if (candidates_out)
            *candidates_out = fixed;
        return SPLUT_OK;
    }
    const conn_layer *cl = &t->connect->L[layer];
    uint64_t sum = 0;
    for (uint32_t n = 0; n < L->out; n++)
        sum += cl->n_active[n];
    *active = sum;
    if (candidates_out)
        *candidates_out = (uint64_t)L->out * cl->C;
    return SPLUT_OK;
}

const splut_model *splut_trainer_model_in_training(const splut_trainer *t)
{
    if (!t)
        return NULL;
    return t->connect ? t->connect->sur : t->model;
}
