/*
 * Model definition: layers, parameter layout, initialisation, connectivity,
 * model parameters.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "model-priv.h"

splut_status splut_model_create(splut_ctx *ctx, uint32_t n_inputs, uint32_t input_bits,
                                splut_model **out)
{
    if (!out)
        return ctx ? splut__fail(ctx, SPLUT_E_NULL, "splut_model_create: out is NULL")
                   : SPLUT_E_NULL;
    *out = NULL;
    if (!ctx)
        return SPLUT_E_NULL;
    if (n_inputs == 0)
        return splut__fail(ctx, SPLUT_E_OUT_OF_RANGE, "a model needs at least one input");
    if (input_bits < 1 || input_bits > SPLUT_MAX_BITS)
        return splut__fail(ctx, SPLUT_E_OUT_OF_RANGE, "input bits %u not in 1..%u",
                           input_bits, SPLUT_MAX_BITS);
    splut_model *m = splut__calloc(ctx, 1, sizeof(*m));
    if (!m)
        return splut__fail(ctx, SPLUT_E_NOMEM, "out of memory creating a model");
    m->ctx = splut_ctx_ref(ctx);
    m->refcount = 1;
    m->n_inputs = n_inputs;
    m->input_bits = input_bits;
    splut__param_defaults(SPLUT_OWNER_MODEL, m);
    *out = m;
    return SPLUT_OK;
}

static uint32_t layer_in_width(const splut_model *m)
{
    /* thermometer inputs: 2^bits − 1 binary inputs per feature */
    return m->n_layers ? m->layers[m->n_layers - 1].out
                       : m->n_inputs * splut__lut_row_split(m, 0);
}

static uint32_t layer_in_bits(const splut_model *m)
{
    return m->n_layers ? m->layers[m->n_layers - 1].out_bits : m->input_bits;
}

splut_status splut__check_table_limits(const splut_ctx *ctx, uint32_t in_bits, uint32_t F,
                                       uint32_t A, uint32_t out_bits, bool poly_add)
{
    uint64_t lim = (uint64_t)ctx->max_table_log2;
    uint64_t sub = (uint64_t)in_bits * F;
    if (sub > lim)
        return splut__fail(ctx, SPLUT_E_TABLE_TOO_LARGE,
                           "a table of %u inputs of %u bits has 2^%llu entries, above the limit "
                           "2^%llu (SPLUT_P_MAX_TABLE_LOG2)",
                           F, in_bits, (unsigned long long)sub, (unsigned long long)lim);
    if (poly_add) {
        uint64_t add = (uint64_t)A * (out_bits + 1);
        if (add > lim)
            return splut__fail(ctx, SPLUT_E_TABLE_TOO_LARGE,
                               "the adder table of %u sub-neurons of %u bits has 2^%llu "
                               "entries, above the limit 2^%llu",
                               A, out_bits + 1, (unsigned long long)add,
                               (unsigned long long)lim);
    }
    return SPLUT_OK;
}

/* Kind-specific shape rules; fills F, D, A, N of *L. */
static splut_status check_kind(const splut_model *m, const splut_layer_desc *d, splut_layer *L)
{
    const splut_ctx *ctx = m->ctx;
    L->F = d->fan_in;
    L->D = d->degree;
    L->A = 1;
    L->N = 0;
    switch ((splut_neuron_kind)d->kind) {
    case SPLUT_NEURON_LINEAR:
        if (d->degree > 1 || d->sub_neurons > 1 || d->hidden)
            return splut__fail(ctx, SPLUT_E_INVALID,
                               "a LINEAR layer takes no degree, sub-neurons or hidden width");
        L->D = 1;
        return SPLUT_OK;
    case SPLUT_NEURON_POLY:
        if (d->sub_neurons > 1 || d->hidden)
            return splut__fail(ctx, SPLUT_E_INVALID,
                               "a POLY layer takes no sub-neurons or hidden width");
        break;
    case SPLUT_NEURON_POLY_ADD:
        if (d->hidden)
            return splut__fail(ctx, SPLUT_E_INVALID, "a POLY_ADD layer takes no hidden width");
        if (d->sub_neurons < 1 || d->sub_neurons > 16)
            return splut__fail(ctx, SPLUT_E_OUT_OF_RANGE, "sub-neurons %u not in 1..16",
                               d->sub_neurons);
        if (d->out_bits + 1 > SPLUT_MAX_BITS + 1)
            return splut__fail(ctx, SPLUT_E_OUT_OF_RANGE, "output bits too wide");
        L->A = d->sub_neurons;
        break;
    case SPLUT_NEURON_NEURALUT:
        if (d->degree || d->sub_neurons > 1)
            return splut__fail(ctx, SPLUT_E_INVALID,
                               "a NEURALUT layer takes no degree or sub-neurons");
        if (d->hidden < 1 || d->hidden > 256)
            return splut__fail(ctx, SPLUT_E_OUT_OF_RANGE, "NeuraLUT hidden width %u not in 1..256",
                               d->hidden);
        L->N = d->hidden;
        return SPLUT_OK;
    case SPLUT_NEURON_LUT:
        L->D = 0;
        L->N = d->hidden; /* GroupSum classes on the last layer */
        return splut__lut_check_desc(m, d, d->fan_in);
    default:
        return splut__fail(ctx, SPLUT_E_INVALID, "neuron kind %d is not supported",
                           (int)d->kind);
    }
    if (d->degree < 1 || d->degree > 16)
        return splut__fail(ctx, SPLUT_E_OUT_OF_RANGE, "degree %u not in 1..16", d->degree);
    return SPLUT_OK;
}

/* sizeof(splut_layer_desc) at each release that changed it (0.1). */
static const size_t LAYER_DESC_SIZES[] = {sizeof(splut_layer_desc)};
#define N_LAYER_DESC_SIZES (sizeof(LAYER_DESC_SIZES) / sizeof(LAYER_DESC_SIZES[0]))

splut_status splut_model_add_layer(splut_model *m, const splut_layer_desc *d)
{
    if (!m || !d)
        return m ? splut__fail(m->ctx, SPLUT_E_NULL, "splut_model_add_layer: NULL desc")
                 : SPLUT_E_NULL;
    splut_ctx *ctx = m->ctx;
    splut_status sst = splut__struct_check(ctx, "splut_layer_desc", d, d->size, LAYER_DESC_SIZES,
                                           N_LAYER_DESC_SIZES);
    if (sst != SPLUT_OK)
        return sst;
    if (m->built)
        return splut__fail(ctx, SPLUT_E_STATE, "cannot add layers to a built model");
    if (d->reserved)
        return splut__fail(ctx, SPLUT_E_INVALID, "splut_layer_desc.reserved must be 0");
    if (d->width == 0)
        return splut__fail(ctx, SPLUT_E_OUT_OF_RANGE, "layer %zu has zero width", m->n_layers);
    if (d->out_bits < 1 || d->out_bits > SPLUT_MAX_BITS)
        return splut__fail(ctx, SPLUT_E_OUT_OF_RANGE, "layer %zu: output bits %u not in 1..%u",
                           m->n_layers, d->out_bits, SPLUT_MAX_BITS);
    if (d->fan_in == 0)
        return splut__fail(ctx, SPLUT_E_OUT_OF_RANGE, "layer %zu: fan-in must be at least 1",
                           m->n_layers);
    splut_layer L;
    memset(&L, 0, sizeof(L));
    splut_status st = check_kind(m, d, &L);
    if (st != SPLUT_OK)
        return st;
    L.kind = (splut_neuron_kind)d->kind;
    L.in = layer_in_width(m);
    L.out = d->width;
    L.in_bits = layer_in_bits(m);
    L.out_bits = d->out_bits;
    L.sub_bits = L.kind == SPLUT_NEURON_POLY_ADD ? d->out_bits + 1 : 0;
    if ((uint64_t)L.A * L.F > SPLUT_MAX_FAN_IN)
        return splut__fail(ctx, SPLUT_E_FAN_IN, "layer %zu: %u inputs per neuron, at most %u",
                           m->n_layers, L.A * L.F, SPLUT_MAX_FAN_IN);
    if ((uint64_t)L.A * L.F > L.in)
        return splut__fail(ctx, SPLUT_E_FAN_IN,
                           "layer %zu: %u distinct inputs per neuron but only %u inputs",
                           m->n_layers, L.A * L.F, L.in);
    if (!m->surrogate && L.kind != SPLUT_NEURON_LUT)
        st = splut__check_table_limits(ctx, L.in_bits, L.F, L.A, L.out_bits,
                                       L.kind == SPLUT_NEURON_POLY_ADD);
    if (st != SPLUT_OK)
        return st;
    L.T = L.kind == SPLUT_NEURON_NEURALUT ? splut__nl_count(L.F, L.N)
          : L.kind == SPLUT_NEURON_LUT    ? 1u << L.F
                                          : splut__monos_count(L.F, L.D);
    if (L.T == 0)
        return splut__fail(ctx, SPLUT_E_OUT_OF_RANGE,
                           "layer %zu: fan-in %u and degree %u give too many monomials",
                           m->n_layers, L.F, L.D);
    if (m->n_layers == m->cap_layers) {
        size_t cap = m->cap_layers ? 2 * m->cap_layers : 8;
        splut_layer *nl = splut__calloc(ctx, cap, sizeof(*nl));
        if (!nl)
            return splut__fail(ctx, SPLUT_E_NOMEM, "out of memory adding a layer");
        if (m->n_layers)
            memcpy(nl, m->layers, m->n_layers * sizeof(*nl));
        splut__free(ctx, m->layers);
        m->layers = nl;
        m->cap_layers = cap;
    }
    m->layers[m->n_layers++] = L;
    return SPLUT_OK;
}

/* Hands out consecutive ranges of the parameter vector. */
static size_t take(size_t *cursor, size_t n)
{
    size_t at = *cursor;
    *cursor += n;
    return at;
}

/* Lay out parameters and state; sizes only (no allocation). */
static void layout(splut_model *m)
{
    size_t p = 0, s = 0;
    if (m->input_mode == SPLUT_INPUT_BN_HARDTANH) {
        m->in_gamma = take(&p, m->n_inputs);
        m->in_beta = take(&p, m->n_inputs);
        m->in_bias = take(&p, 1);
        m->in_run_mean = take(&s, m->n_inputs);
        m->in_run_var = take(&s, m->n_inputs);
        m->in_q.kind = SPLUT_Q_SIGNED;
    } else {
        m->in_q.kind = SPLUT_Q_RELU;
    }
    m->in_q.bits = (uint8_t)m->input_bits;
    m->in_q.theta = take(&p, 1);
    for (size_t l = 0; l < m->n_layers; l++) {
        splut_layer *L = &m->layers[l];
        L->last = l + 1 == m->n_layers;
        L->w = take(&p, (size_t)L->out * L->A * L->T);
        L->b = take(&p, (size_t)L->out * L->A);
        if (L->kind == SPLUT_NEURON_POLY_ADD) {
            L->sub_q.kind = SPLUT_Q_SIGNED;
            L->sub_q.bits = (uint8_t)L->sub_bits;
            L->sub_q.theta = take(&p, 1);
        }
        L->bn_gamma = take(&p, L->out);
        L->bn_beta = take(&p, L->out);
        L->out_q.kind = L->last && L->kind != SPLUT_NEURON_LUT ? SPLUT_Q_SIGNED : SPLUT_Q_RELU;
        L->out_q.bits = (uint8_t)L->out_bits;
        L->out_q.theta = take(&p, 1);
        if (L->last) {
            L->post_bias = take(&p, 1);
            L->post_weight = take(&p, 1);
        }
        L->run_mean = take(&s, L->out);
        L->run_var = take(&s, L->out);
    }
    if (m->input_mode == SPLUT_INPUT_THERMOMETER)
        m->thermo = take(&s, (size_t)m->n_inputs * splut__thermo_levels(m));
    /* last, so that switching the mapping on or off keeps every other offset */
    m->map_k = splut__lut_map_k(m);
    m->map_w = take(&p, m->map_k ? (size_t)m->layers[0].out * m->layers[0].F * m->map_k : 0);
    m->n_params = p;
    m->n_state = s;
}

/* Weight-decay groups as in the reference: no decay for biases, BN shifts and
 * quantiser scales; decay for weights, BN gammas and the output scale weight. */
static void mark_decay(splut_model *m)
{
    memset(m->decay, 0, m->n_params);
    if (m->input_mode == SPLUT_INPUT_BN_HARDTANH)
        memset(m->decay + m->in_gamma, 1, m->n_inputs);
    for (size_t l = 0; l < m->n_layers; l++) {
        splut_layer *L = &m->layers[l];
        memset(m->decay + L->w, 1, (size_t)L->out * L->A * L->T);
        if (L->kind == SPLUT_NEURON_NEURALUT) {
            /* hidden biases live inside each neuron's block: no decay */
            splut_nl_off o = splut__nl_offsets(L->F, L->N);
            for (uint32_t n = 0; n < L->out; n++) {
                uint8_t *dk = m->decay + L->w + (size_t)n * L->T;
                memset(dk + o.b1, 0, L->N);
                memset(dk + o.b2, 0, L->N);
                memset(dk + o.b3, 0, L->N);
            }
        }
        memset(m->decay + L->bn_gamma, 1, L->out);
        if (L->last)
            m->decay[L->post_weight] = 1;
    }
}

splut_status splut__model_alloc_params(splut_model *m)
{
    splut_ctx *ctx = m->ctx;
    splut_status st = splut__lut_prepare(m);
    if (st != SPLUT_OK)
        return st;
    layout(m);
    for (size_t l = 0; l < m->n_layers; l++) {
        splut_layer *L = &m->layers[l];
        if (!L->conn) {
            L->conn = splut__calloc(ctx, (size_t)L->out * L->A * L->F, sizeof(uint32_t));
            if (!L->conn)
                goto nomem;
        }
        if (!L->mutations) {
            L->mutations = splut__calloc(ctx, L->out, sizeof(uint32_t));
            if (!L->mutations)
                goto nomem;
        }
        if (L->kind != SPLUT_NEURON_NEURALUT && L->kind != SPLUT_NEURON_LUT && !L->monos.parent &&
            splut__monos_init(ctx, &L->monos, L->F, L->D) != SPLUT_OK)
            goto nomem;
    }
    m->params = splut__calloc(ctx, m->n_params, sizeof(float));
    m->decay = splut__calloc(ctx, m->n_params, 1);
    m->state = splut__calloc(ctx, m->n_state ? m->n_state : 1, sizeof(float));
    if (!m->params || !m->decay || !m->state || splut__lut_map_alloc(m) != SPLUT_OK)
        goto nomem;
    mark_decay(m);
    return SPLUT_OK;
nomem:
    return splut__fail(ctx, SPLUT_E_NOMEM, "out of memory allocating model parameters");
}

static void fill_uniform(float *p, size_t n, float bound, splut_rng *r)
{
    for (size_t i = 0; i < n; i++)
        p[i] = (float)((2.0 * splut__rng_uniform(r) - 1.0) * bound);
}

static void fill(float *p, size_t n, float v)
{
    for (size_t i = 0; i < n; i++)
        p[i] = v;
}

/* nn.Linear-style bounds 1/sqrt(fan-in of each map): F for fc1 and res0, N for
 * the others; the merged biases take the bound of the map they follow. */
static void init_neuralut(float *P, const splut_layer *L, splut_rng *r)
{
    splut_nl_off o = splut__nl_offsets(L->F, L->N);
    float bf = 1.0f / sqrtf((float)L->F), bn = 1.0f / sqrtf((float)L->N);
    size_t N = L->N, F = L->F;
    for (uint32_t n = 0; n < L->out; n++) {
        float *w = P + L->w + (size_t)n * L->T;
        fill_uniform(w + o.w1, N * F, bf, r);
        fill_uniform(w + o.b1, N, bf, r);
        fill_uniform(w + o.w2, N * N, bn, r);
        fill_uniform(w + o.r0, N * F, bf, r);
        fill_uniform(w + o.b2, N, bn, r);
        fill_uniform(w + o.w3, N * N, bn, r);
        fill_uniform(w + o.b3, N, bn, r);
        fill_uniform(w + o.w4, N, bn, r);
        fill_uniform(w + o.r1, N, bn, r);
    }
    fill_uniform(P + L->b, L->out, bn, r);
}

void splut__model_init_params(splut_model *m, uint64_t seed)
{
    splut_rng r;
    splut__rng_seed(&r, seed ^ 0x5eed1417u);
    float *P = m->params, *S = m->state;
    if (m->input_mode == SPLUT_INPUT_BN_HARDTANH) {
        fill(P + m->in_gamma, m->n_inputs, 1.0f);
        fill(P + m->in_beta, m->n_inputs, 0.0f);
        P[m->in_bias] = -0.25f;
        fill(S + m->in_run_mean, m->n_inputs, 0.0f);
        fill(S + m->in_run_var, m->n_inputs, 1.0f);
    }
    P[m->in_q.theta] = 0.0f; /* log2(max_val = 1) */
    for (size_t l = 0; l < m->n_layers; l++) {
        splut_layer *L = &m->layers[l];
        /* PolyLUT: weight bound 1/sqrt(T), bias bound 1/sqrt(layer input width);
         * LogicNets' nn.Linear uses the layer input width for both. */
        float wb = L->kind == SPLUT_NEURON_LINEAR ? 1.0f / sqrtf((float)L->in)
                                                   : 1.0f / sqrtf((float)L->T);
        if (L->kind == SPLUT_NEURON_NEURALUT) {
            init_neuralut(P, L, &r);
        } else {
            fill_uniform(P + L->w, (size_t)L->out * L->A * L->T, wb, &r);
            fill_uniform(P + L->b, (size_t)L->out * L->A, 1.0f / sqrtf((float)L->in), &r);
        }
        if (L->kind == SPLUT_NEURON_POLY_ADD)
            P[L->sub_q.theta] = 0.0f; /* QuantIdentity max 1 */
        fill(P + L->bn_gamma, L->out, 1.0f);
        fill(P + L->bn_beta, L->out, 0.0f);
        P[L->out_q.theta] = L->last ? log2f(1.33f) : log2f(1.61f);
        if (L->last) {
            P[L->post_bias] = 0.33f;
            P[L->post_weight] = 1.0f;
        }
        fill(S + L->run_mean, L->out, 0.0f);
        fill(S + L->run_var, L->out, 1.0f);
    }
    splut__lut_init(m, &r);
}

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return (x > y) - (x < y);
}

void splut__draw_inputs(uint32_t *dst, uint32_t k, uint32_t in, uint32_t *perm, splut_rng *r)
{
    for (uint32_t i = 0; i < in; i++)
        perm[i] = i;
    for (uint32_t i = 0; i < k; i++) {
        uint32_t j = i + (uint32_t)splut__rng_below(r, in - i);
        uint32_t t = perm[i];
        perm[i] = perm[j];
        perm[j] = t;
    }
    memcpy(dst, perm, k * sizeof(uint32_t));
    qsort(dst, k, sizeof(uint32_t), cmp_u32);
}

splut_status splut__model_random_conn(splut_model *m, uint64_t seed)
{
    /* One permutation scratch for every layer, allocated before anything
     * changes: a draw that depended on whether memory was available would
     * break "same seed, same model". */
    uint32_t widest = 1;
    for (size_t l = 0; l < m->n_layers; l++)
        if (m->layers[l].in > widest)
            widest = m->layers[l].in;
    uint32_t *perm = splut__alloc(m->ctx, (size_t)widest * sizeof(uint32_t));
    if (!perm)
        return splut__fail(m->ctx, SPLUT_E_NOMEM, "out of memory drawing connectivity");
    splut_rng r;
    splut__rng_seed(&r, seed ^ 0xc0117ec7u);
    for (size_t l = 0; l < m->n_layers; l++) {
        splut_layer *L = &m->layers[l];
        uint32_t k = L->A * L->F;
        for (uint32_t n = 0; n < L->out; n++)
            splut__draw_inputs(L->conn + (size_t)n * k, k, L->in, perm, &r);
    }
    splut__free(m->ctx, perm);
    return SPLUT_OK;
}

/* Candidates and selection weights of the learnable mapping (if any). */
static splut_status init_lut_map(splut_model *m)
{
    if (!m->map_k)
        return SPLUT_OK;
    uint32_t *perm = splut__alloc(m->ctx, (size_t)m->layers[0].in * sizeof(uint32_t));
    if (!perm)
        return splut__fail(m->ctx, SPLUT_E_NOMEM, "out of memory drawing mapping candidates");
    splut__lut_map_init(m, (uint64_t)m->ctx->seed, perm);
    splut__free(m->ctx, perm);
    return SPLUT_OK;
}

splut_status splut_model_build(splut_model *m)
{
    if (!m)
        return SPLUT_E_NULL;
    if (m->built)
        return splut__fail(m->ctx, SPLUT_E_STATE, "model is already built");
    if (m->n_layers == 0)
        return splut__fail(m->ctx, SPLUT_E_STATE, "model has no layers");
    splut_status st = splut__model_alloc_params(m);
    if (st != SPLUT_OK)
        return st;
    uint64_t seed = (uint64_t)m->ctx->seed;
    st = splut__model_random_conn(m, seed);
    if (st != SPLUT_OK)
        return st;
    splut__model_init_params(m, seed);
    st = init_lut_map(m);
    if (st != SPLUT_OK)
        return st;
    m->built = true;
    return SPLUT_OK;
}

splut_model *splut_model_ref(splut_model *m)
{
    if (m) {
        pthread_mutex_lock(&m->ctx->lock);
        m->refcount++;
        pthread_mutex_unlock(&m->ctx->lock);
    }
    return m;
}

/* Drops one reference: a trainer (or run) still using the model keeps it
 * alive, so the caller may destroy its own handle in any order. */
void splut_model_destroy(splut_model *m)
{
    if (!m)
        return;
    splut_ctx *ctx = m->ctx;
    pthread_mutex_lock(&ctx->lock);
    int left = --m->refcount;
    pthread_mutex_unlock(&ctx->lock);
    if (left > 0)
        return;
    for (size_t l = 0; l < m->n_layers; l++) {
        splut__free(ctx, m->layers[l].conn);
        splut__free(ctx, m->layers[l].mutations);
        splut__monos_free(ctx, &m->layers[l].monos);
    }
    splut__free(ctx, m->layers);
    splut__free(ctx, m->map_cand);
    splut__free(ctx, m->params);
    splut__free(ctx, m->decay);
    splut__free(ctx, m->state);
    splut__free(ctx, m);
    splut_ctx_unref(ctx);
}

splut_status splut_model_clone(const splut_model *m, splut_model **out)
{
    if (!m || !out)
        return m ? splut__fail(m->ctx, SPLUT_E_NULL, "splut_model_clone: out is NULL")
                 : SPLUT_E_NULL;
    *out = NULL;
    if (!m->built)
        return splut__fail(m->ctx, SPLUT_E_STATE, "only a built model can be cloned");
    splut_model *c;
    splut_status st = splut_model_create(m->ctx, m->n_inputs, m->input_bits, &c);
    if (st != SPLUT_OK)
        return st;
    for (size_t l = 0; l < m->n_layers && st == SPLUT_OK; l++) {
        splut_layer_desc d = SPLUT_LAYER_DESC_INIT;
        splut_model_layer(m, l, &d);
        st = splut_model_add_layer(c, &d);
    }
    c->input_mode = m->input_mode;
    c->lut_map = m->lut_map;
    if (st == SPLUT_OK)
        st = splut__model_alloc_params(c);
    if (st != SPLUT_OK) {
        splut_model_destroy(c);
        return st;
    }
    memcpy(c->params, m->params, m->n_params * sizeof(float));
    memcpy(c->state, m->state, m->n_state * sizeof(float));
    if (m->map_k)
        memcpy(c->map_cand, m->map_cand,
               (size_t)m->layers[0].out * m->layers[0].F * m->map_k * sizeof(uint32_t));
    for (size_t l = 0; l < m->n_layers; l++) {
        const splut_layer *L = &m->layers[l];
        memcpy(c->layers[l].conn, L->conn, (size_t)L->out * L->A * L->F * sizeof(uint32_t));
    }
    c->recipe_lr = m->recipe_lr;
    c->recipe_wd = m->recipe_wd;
    c->recipe_batch = m->recipe_batch;
    c->recipe_epochs = m->recipe_epochs;
    c->epochs_trained = m->epochs_trained;
    c->test_accuracy = m->test_accuracy;
    c->groupsum_tau = m->groupsum_tau;
    memcpy(c->preset, m->preset, sizeof(c->preset));
    c->built = true;
    *out = c;
    return SPLUT_OK;
}

/* ------------------------------------------------------------------ queries */

splut_ctx *splut_model_ctx(const splut_model *m)
{
    return m ? m->ctx : NULL;
}

uint32_t splut_model_num_inputs(const splut_model *m)
{
    return m ? m->n_inputs : 0;
}

uint32_t splut_model_input_bits(const splut_model *m)
{
    return m ? m->input_bits : 0;
}

size_t splut_model_num_layers(const splut_model *m)
{
    return m ? m->n_layers : 0;
}

uint32_t splut_model_num_outputs(const splut_model *m)
{
    return m && m->n_layers ? m->layers[m->n_layers - 1].out : 0;
}

size_t splut_model_num_params(const splut_model *m)
{
    return m && m->built ? m->n_params : 0;
}

splut_status splut_model_layer(const splut_model *m, size_t layer, splut_layer_desc *d)
{
    if (!m || !d)
        return m ? splut__fail(m->ctx, SPLUT_E_NULL, "splut_model_layer: desc is NULL")
                 : SPLUT_E_NULL;
    splut_status st = splut__struct_check(m->ctx, "splut_layer_desc", d, d->size,
                                          LAYER_DESC_SIZES, N_LAYER_DESC_SIZES);
    if (st != SPLUT_OK)
        return st;
    if (layer >= m->n_layers)
        return splut__fail(m->ctx, SPLUT_E_INDEX, "layer %zu of %zu", layer, m->n_layers);
    const splut_layer *L = &m->layers[layer];
    d->kind = (int32_t)L->kind;
    d->width = L->out;
    d->fan_in = L->F;
    d->out_bits = L->out_bits;
    d->degree = L->kind == SPLUT_NEURON_LINEAR ? 1 : L->D;
    d->sub_neurons = L->kind == SPLUT_NEURON_POLY_ADD ? L->A : 0;
    d->hidden = L->N;
    d->reserved = 0;
    return SPLUT_OK;
}

splut_status splut_model_params(splut_model *m, float *vals, int get)
{
    if (!m || !vals)
        return m ? splut__fail(m->ctx, SPLUT_E_NULL, "splut_model_params: vals is NULL")
                 : SPLUT_E_NULL;
    if (!m->built)
        return splut__fail(m->ctx, SPLUT_E_STATE, "model is not built");
    if (get) {
        memcpy(vals, m->params, m->n_params * sizeof(float));
        return SPLUT_OK;
    }
    for (size_t i = 0; i < m->n_params; i++)
        if (!isfinite(vals[i]))
            return splut__fail(m->ctx, SPLUT_E_NON_FINITE, "parameter %zu is not finite", i);
    memcpy(m->params, vals, m->n_params * sizeof(float));
    splut__lut_map_select(m); /* layer 0 reads the argmax of the new selection weights */
    return SPLUT_OK;
}

/* --------------------------------------------------------------- parameters */

/* SPLUT_P_LUT_MAP on a built model: the selection weights sit at the end of
 * the parameters, so the other parameters keep their offsets and values; the
 * candidates and weights are drawn afresh from the context seed. Refused
 * while a trainer or run holds the model (its optimiser state has the old
 * size). All or nothing. */
static splut_status change_lut_map(splut_model *m, int64_t value)
{
    splut_ctx *ctx = m->ctx;
    pthread_mutex_lock(&ctx->lock);
    int refs = m->refcount;
    pthread_mutex_unlock(&ctx->lock);
    if (refs > 1)
        return splut__fail(ctx, SPLUT_E_STATE,
                           "set SPLUT_P_LUT_MAP before creating a trainer or run for the model");
    int64_t old = m->lut_map;
    m->lut_map = value;
    uint32_t k = splut__lut_map_k(m);
    m->lut_map = old;
    const splut_layer *L = &m->layers[0];
    size_t keep = m->map_w, n = keep + (k ? (size_t)L->out * L->F * k : 0);
    float *params = splut__calloc(ctx, n, sizeof(float));
    uint8_t *decay = splut__calloc(ctx, n, 1);
    uint32_t *cand = k ? splut__calloc(ctx, (size_t)L->out * L->F * k, sizeof(uint32_t)) : NULL;
    uint32_t *perm = splut__alloc(ctx, (size_t)L->in * sizeof(uint32_t));
    if (!params || !decay || (k && !cand) || !perm) {
        splut__free(ctx, params);
        splut__free(ctx, decay);
        splut__free(ctx, cand);
        splut__free(ctx, perm);
        return splut__fail(ctx, SPLUT_E_NOMEM, "out of memory resizing the mapping weights");
    }
    memcpy(params, m->params, keep * sizeof(float));
    memcpy(decay, m->decay, keep);
    splut__free(ctx, m->params);
    splut__free(ctx, m->decay);
    splut__free(ctx, m->map_cand);
    m->params = params;
    m->decay = decay;
    m->map_cand = cand;
    m->n_params = n;
    m->lut_map = value;
    m->map_k = k;
    splut__lut_map_init(m, (uint64_t)ctx->seed, perm);
    splut__free(ctx, perm);
    return SPLUT_OK;
}

/* Every key maps to its field through the parameter table (ctx.c); a key of
 * another object is refused there, so no write can land in the wrong field. */
splut_status splut_model_set_int(splut_model *m, splut_param key, int64_t value)
{
    if (!m)
        return SPLUT_E_NULL;
    /* a key or value error is reported first, as for every other key */
    bool valid =
        splut__param_check(key, SPLUT_PARAM_INT, (double)value, SPLUT_OWNER_MODEL) == SPLUT_OK;
    if (valid && key == SPLUT_P_INPUT_MODE && m->built)
        return splut__fail(m->ctx, SPLUT_E_STATE, "input mode is fixed once the model is built");
    if (valid && key == SPLUT_P_LUT_MAP && m->built)
        return change_lut_map(m, value);
    return splut__param_set_int(m->ctx, SPLUT_OWNER_MODEL, m, key, value);
}

splut_status splut_model_get_int(const splut_model *m, splut_param key, int64_t *value)
{
    if (!m || !value)
        return m ? splut__fail(m->ctx, SPLUT_E_NULL, "splut_model_get_int: value is NULL")
                 : SPLUT_E_NULL;
    return splut__param_get_int(m->ctx, SPLUT_OWNER_MODEL, m, key, value);
}

splut_status splut_model_set_double(splut_model *m, splut_param key, double value)
{
    if (!m)
        return SPLUT_E_NULL;
    return splut__param_set_double(m->ctx, SPLUT_OWNER_MODEL, m, key, value);
}

splut_status splut_model_get_double(const splut_model *m, splut_param key, double *value)
{
    if (!m || !value)
        return m ? splut__fail(m->ctx, SPLUT_E_NULL, "splut_model_get_double: value is NULL")
                 : SPLUT_E_NULL;
    return splut__param_get_double(m->ctx, SPLUT_OWNER_MODEL, m, key, value);
}

/* ------------------------------------------------------------- connectivity */

static splut_status check_neuron(const splut_model *m, size_t layer, uint32_t neuron)
{
    if (!m->built)
        return splut__fail(m->ctx, SPLUT_E_STATE, "model is not built");
    if (layer >= m->n_layers)
        return splut__fail(m->ctx, SPLUT_E_INDEX, "layer %zu of %zu", layer, m->n_layers);
    if (neuron >= m->layers[layer].out)
        return splut__fail(m->ctx, SPLUT_E_INDEX, "neuron %u of %u in layer %zu", neuron,
                           m->layers[layer].out, layer);
    return SPLUT_OK;
}

splut_status splut__check_inputs(const splut_model *m, size_t l, const uint32_t *idx, size_t n)
{
    const splut_layer *L = &m->layers[l];
    size_t k = (size_t)L->A * L->F;
    if (n != k)
        return splut__fail(m->ctx, SPLUT_E_CONNECTIVITY,
                           "layer %zu needs %zu inputs per neuron, got %zu", l, k, n);
    for (size_t i = 0; i < n; i++) {
        if (idx[i] >= L->in)
            return splut__fail(m->ctx, SPLUT_E_CONNECTIVITY,
                               "layer %zu: input index %u not below the input width %u", l,
                               idx[i], L->in);
        if (i && idx[i] <= idx[i - 1])
            return splut__fail(m->ctx, SPLUT_E_CONNECTIVITY,
                               "layer %zu: input list not strictly ascending at position %zu "
                               "(%u after %u)",
                               l, i, idx[i], idx[i - 1]);
    }
    return SPLUT_OK;
}

splut_status splut_model_get_inputs(const splut_model *m, size_t layer, uint32_t neuron,
                                    uint32_t *idx, size_t cap, size_t *n)
{
    if (!m || !n)
        return m ? splut__fail(m->ctx, SPLUT_E_NULL, "splut_model_get_inputs: n is NULL")
                 : SPLUT_E_NULL;
    splut_status st = check_neuron(m, layer, neuron);
    if (st != SPLUT_OK)
        return st;
    const splut_layer *L = &m->layers[layer];
    size_t k = (size_t)L->A * L->F;
    *n = k;
    if (!idx)
        return SPLUT_OK;
    if (cap < k)
        return splut__fail(m->ctx, SPLUT_E_BUFFER_TOO_SMALL, "need room for %zu indices", k);
    memcpy(idx, L->conn + (size_t)neuron * k, k * sizeof(uint32_t));
    return SPLUT_OK;
}

/* Layer 0 of a model with the learnable mapping reads the argmax of its
 * selection weights: its inputs are not set by hand. */
static splut_status mapped_inputs(const splut_model *m)
{
    return splut__fail(m->ctx, SPLUT_E_STATE,
                       "layer 0 reads its inputs through the learnable mapping "
                       "(SPLUT_P_LUT_MAP); set it to 0 first");
}

splut_status splut_model_set_inputs(splut_model *m, size_t layer, uint32_t neuron,
                                    const uint32_t *idx, size_t n)
{
    if (!m || !idx)
        return m ? splut__fail(m->ctx, SPLUT_E_NULL, "splut_model_set_inputs: idx is NULL")
                 : SPLUT_E_NULL;
    splut_status st = check_neuron(m, layer, neuron);
    if (st == SPLUT_OK)
        st = splut__check_inputs(m, layer, idx, n);
    if (st == SPLUT_OK && layer == 0 && m->map_k)
        st = mapped_inputs(m);
    if (st != SPLUT_OK)
        return st;
    memcpy(m->layers[layer].conn + (size_t)neuron * n, idx, n * sizeof(uint32_t));
    splut__neuron_mutated(m, layer, neuron);
    return SPLUT_OK;
}

splut_status splut_model_randomize_connectivity(splut_model *m, uint64_t seed)
{
    if (!m)
        return SPLUT_E_NULL;
    if (!m->built)
        return splut__fail(m->ctx, SPLUT_E_STATE, "model is not built");
    if (m->map_k)
        return mapped_inputs(m);
    splut_status st = splut__model_random_conn(m, seed);
    if (st != SPLUT_OK)
        return st;
    for (size_t l = 0; l < m->n_layers; l++)
        for (uint32_t n = 0; n < m->layers[l].out; n++)
            splut__neuron_mutated(m, l, n);
    return SPLUT_OK;
}

void splut__neuron_mutated(splut_model *m, size_t l, uint32_t n)
{
    m->layers[l].mutations[n]++;
}
