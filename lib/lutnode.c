/*
 * Trainable LUT nodes (differentiable weightless networks, Bacellar et al.,
 * ICML 2024): the node kind's shape rules and evaluation, thermometer input
 * encoding and the GroupSum head. The training passes call in from train.c.
 *
 * A LUT node reads F binary inputs and holds 2^F real entries; its output is
 * 1 where the entry at the address of its inputs is ≥ 0. Addresses put the
 * first (lowest-index) input in the most significant bit, as every table of
 * the library does (docs/bit-conventions.md).
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "model-priv.h"

/* Largest F: 2^F entries per node stay far below any float index issue; the
 * context's table limit normally binds first. */
#define LUT_MAX_F 20u

uint32_t splut__thermo_levels(const splut_model *m)
{
    return (1u << m->input_bits) - 1u;
}

uint32_t splut__lut_row_split(const splut_model *m, size_t l)
{
    return l == 0 && m->input_mode == SPLUT_INPUT_THERMOMETER ? splut__thermo_levels(m) : 1u;
}

uint32_t splut_model_num_classes(const splut_model *m)
{
    if (!m || !m->n_layers)
        return 0;
    uint32_t groups = splut__groupsum_classes(m), outs = m->layers[m->n_layers - 1].out;
    return groups ? groups : outs == 1 ? 2 : outs;
}

uint32_t splut__groupsum_classes(const splut_model *m)
{
    if (!m->n_layers)
        return 0;
    const splut_layer *L = &m->layers[m->n_layers - 1];
    return L->kind == SPLUT_NEURON_LUT ? L->N : 0;
}

splut_status splut__lut_check_desc(const splut_model *m, const splut_layer_desc *d, uint32_t F)
{
    const splut_ctx *ctx = m->ctx;
    if (d->degree || d->sub_neurons > 1)
        return splut__fail(ctx, SPLUT_E_INVALID, "a LUT layer takes no degree or sub-neurons");
    if (d->out_bits != 1)
        return splut__fail(ctx, SPLUT_E_OUT_OF_RANGE,
                           "a LUT layer has 1-bit outputs, not %u", d->out_bits);
    if (d->hidden && d->width % d->hidden)
        return splut__fail(ctx, SPLUT_E_INVALID,
                           "a LUT layer of %u nodes cannot form %u equal GroupSum groups",
                           d->width, d->hidden);
    if (F > LUT_MAX_F || F > (uint64_t)ctx->max_table_log2)
        return splut__fail(ctx, SPLUT_E_TABLE_TOO_LARGE,
                           "a LUT node of %u binary inputs has 2^%u entries, above the limit "
                           "2^%lld (SPLUT_P_MAX_TABLE_LOG2)",
                           F, F, (long long)(ctx->max_table_log2 < LUT_MAX_F
                                                 ? ctx->max_table_log2
                                                 : (int64_t)LUT_MAX_F));
    return SPLUT_OK;
}

/* LUT layers read binary values: layer 0 through the thermometer (or 1-bit
 * input codes), later layers from LUT layers. GroupSum only on the last. */
splut_status splut__lut_prepare(splut_model *m)
{
    bool any = false, all = true;
    for (size_t l = 0; l < m->n_layers; l++) {
        bool lut = m->layers[l].kind == SPLUT_NEURON_LUT;
        any |= lut;
        all &= lut;
        if (lut && m->layers[l].N && l + 1 != m->n_layers)
            return splut__fail(m->ctx, SPLUT_E_INVALID,
                               "layer %zu: only the last LUT layer can have GroupSum groups", l);
    }
    if (m->input_mode == SPLUT_INPUT_THERMOMETER && !all)
        return splut__fail(m->ctx, SPLUT_E_INVALID,
                           "thermometer inputs need a model of LUT layers only");
    if (!any)
        return SPLUT_OK;
    if (!all)
        return splut__fail(m->ctx, SPLUT_E_INVALID,
                           "LUT layers cannot be mixed with other neuron kinds");
    if (m->input_mode != SPLUT_INPUT_THERMOMETER && m->input_bits != 1)
        return splut__fail(m->ctx, SPLUT_E_INVALID,
                           "LUT layers read binary inputs: use 1-bit inputs or thermometer mode");
    splut_layer *L0 = &m->layers[0];
    uint64_t in = (uint64_t)m->n_inputs * splut__lut_row_split(m, 0);
    if (in > UINT32_MAX)
        return splut__fail(m->ctx, SPLUT_E_OUT_OF_RANGE, "too many thermometer inputs");
    L0->in = (uint32_t)in;
    L0->in_bits = 1;
    return SPLUT_OK;
}

static void thermo_fill_uniform(splut_model *m, double lo, double hi)
{
    uint32_t T = splut__thermo_levels(m);
    for (uint32_t f = 0; f < m->n_inputs; f++)
        for (uint32_t t = 0; t < T; t++)
            m->state[m->thermo + (size_t)f * T + t] =
                (float)(lo + (hi - lo) * (double)(t + 1) / (double)(T + 1));
}

void splut__lut_init(splut_model *m, splut_rng *r)
{
    for (size_t l = 0; l < m->n_layers; l++) {
        const splut_layer *L = &m->layers[l];
        if (L->kind != SPLUT_NEURON_LUT)
            continue;
        float *w = m->params + L->w;
        for (size_t i = 0; i < (size_t)L->out * L->T; i++)
            w[i] = (float)(2.0 * splut__rng_uniform(r) - 1.0);
    }
    if (m->input_mode == SPLUT_INPUT_THERMOMETER)
        thermo_fill_uniform(m, 0.0, 1.0);
}

/* ---------------------------------------------------------- evaluation */

SPLUT_HOT void splut__lut_eval(const splut_model *m, size_t l, uint32_t n,
                               const uint16_t *cur, size_t stride, size_t count, uint16_t *dst)
{
    const splut_layer *L = &m->layers[l];
    const float *w = m->params + L->w + (size_t)n * L->T;
    const uint32_t *idx = L->conn + (size_t)n * L->F;
    uint32_t split = splut__lut_row_split(m, l);
    uint32_t addr[256];
    for (size_t p0 = 0; p0 < count; p0 += 256) {
        size_t k = count - p0 < 256 ? count - p0 : 256;
        memset(addr, 0, sizeof(addr));
        for (uint32_t f = 0; f < L->F; f++) { /* input-major: a vector loop per input */
            const uint16_t *row = cur + (size_t)(idx[f] / split) * stride + p0;
            uint16_t level = (uint16_t)(idx[f] % split);
            for (size_t p = 0; p < k; p++)
                addr[p] = (addr[p] << 1) | (uint32_t)(row[p] > level);
        }
        for (size_t p = 0; p < k; p++)
            dst[p0 + p] = w[addr[p]] >= 0.0f;
    }
}

int32_t splut__groupsum_class(const splut_model *m, const uint16_t *bits)
{
    const splut_layer *L = &m->layers[m->n_layers - 1];
    uint32_t C = L->N, per = L->out / C, best_count = 0;
    int32_t best = 0;
    for (uint32_t c = 0; c < C; c++) {
        uint32_t k = 0;
        for (uint32_t i = 0; i < per; i++)
            k += bits[c * per + i] != 0;
        if (c == 0 || k > best_count) {
            best_count = k;
            best = (int32_t)c;
        }
    }
    return best;
}

/* ----------------------------------------------------------- thermometer */

uint16_t splut__thermo_code(const splut_model *m, uint32_t f, float v)
{
    uint32_t T = splut__thermo_levels(m);
    const float *thr = m->state + m->thermo + (size_t)f * T;
    uint16_t c = 0;
    for (uint32_t t = 0; t < T; t++)
        c += v > thr[t];
    return c;
}

static splut_status check_thermo_model(const splut_model *m, const char *fn)
{
    if (!m->built)
        return splut__fail(m->ctx, SPLUT_E_STATE, "%s: model is not built", fn);
    if (m->input_mode != SPLUT_INPUT_THERMOMETER)
        return splut__fail(m->ctx, SPLUT_E_STATE, "%s: model is not in thermometer mode", fn);
    return SPLUT_OK;
}

splut_status splut_model_thermometer_uniform(splut_model *m, double lo, double hi)
{
    if (!m)
        return SPLUT_E_NULL;
    splut_status st = check_thermo_model(m, "splut_model_thermometer_uniform");
    if (st != SPLUT_OK)
        return st;
    if (!isfinite(lo) || !isfinite(hi))
        return splut__fail(m->ctx, SPLUT_E_NON_FINITE, "thermometer range is not finite");
    if (!(hi > lo))
        return splut__fail(m->ctx, SPLUT_E_OUT_OF_RANGE,
                           "thermometer range [%g, %g] is empty", lo, hi);
    thermo_fill_uniform(m, lo, hi);
    return SPLUT_OK;
}

static int cmp_float(const void *a, const void *b)
{
    float x = *(const float *)a, y = *(const float *)b;
    return (x > y) - (x < y);
}

splut_status splut_model_fit_thermometer(splut_model *m, const float *x, size_t n)
{
    if (!m || !x)
        return m ? splut__fail(m->ctx, SPLUT_E_NULL, "splut_model_fit_thermometer: x is NULL")
                 : SPLUT_E_NULL;
    splut_status st = check_thermo_model(m, "splut_model_fit_thermometer");
    if (st != SPLUT_OK)
        return st;
    if (n == 0)
        return splut__fail(m->ctx, SPLUT_E_INVALID, "thermometer fit needs at least 1 sample");
    for (size_t i = 0; i < n * m->n_inputs; i++)
        if (!isfinite(x[i]))
            return splut__fail(m->ctx, SPLUT_E_NON_FINITE,
                               "feature %zu of sample %zu is not finite", i % m->n_inputs,
                               i / m->n_inputs);
    float *col = splut__calloc(m->ctx, n, sizeof(float));
    if (!col)
        return splut__fail(m->ctx, SPLUT_E_NOMEM, "out of memory fitting thermometer thresholds");
    uint32_t T = splut__thermo_levels(m);
    for (uint32_t f = 0; f < m->n_inputs; f++) {
        for (size_t i = 0; i < n; i++)
            col[i] = x[i * m->n_inputs + f];
        qsort(col, n, sizeof(float), cmp_float);
        /* nearest-rank quantile (t+1)/(T+1): ascending by construction */
        for (uint32_t t = 0; t < T; t++) {
            size_t k = (size_t)(((double)(t + 1) * (double)n) / (double)(T + 1));
            m->state[m->thermo + (size_t)f * T + t] = col[k < n ? k : n - 1];
        }
    }
    splut__free(m->ctx, col);
    return SPLUT_OK;
}

/* ------------------------------------------------- extended finite difference */

/* The paper's EFD: ∂A/∂x_j at address x = Σ_k (−1)^(1−k_j) · A[k] / (H(k, x, j) + 1),
 * H the Hamming distance of k and x ignoring bit j. Bit j of an address is
 * input j counted from the most significant end (first input = MSB). */
/* Hamming distance of k and x (popcount without relying on a popcnt
 * instruction, which the baseline x86-64 build lacks). */
static uint32_t distance(const uint8_t *pc8, uint32_t y)
{
    return (uint32_t)pc8[y & 255u] + pc8[(y >> 8) & 255u] + pc8[(y >> 16) & 255u];
}

void splut__lut_efd_table(const float *entries, uint32_t F, float *G)
{
    uint32_t size = 1u << F;
    float inv[LUT_MAX_F + 1]; /* 1 / (H + 1) */
    uint8_t pc8[256], d[1024];
    for (uint32_t i = 0; i < 256; i++)
        pc8[i] = (uint8_t)((i & 1u) + ((i >> 1) & 1u) + ((i >> 2) & 1u) + ((i >> 3) & 1u) +
                           ((i >> 4) & 1u) + ((i >> 5) & 1u) + ((i >> 6) & 1u) + (i >> 7));
    for (uint32_t h = 0; h <= F; h++)
        inv[h] = 1.0f / (float)(h + 1);
    bool cached = size <= sizeof(d);
    for (uint32_t x = 0; x < size; x++) {
        float *g = G + (size_t)x * F;
        for (uint32_t k = 0; cached && k < size; k++)
            d[k] = (uint8_t)distance(pc8, k ^ x);
        for (uint32_t j = 0; j < F; j++) {
            uint32_t s = F - 1 - j;
            float acc = 0.0f;
            for (uint32_t k = 0; k < size; k++) {
                /* H ignores bit j: the distance minus 1 where k and x differ there */
                uint32_t dk = cached ? d[k] : distance(pc8, k ^ x);
                float v = entries[k] * inv[dk - (((k ^ x) >> s) & 1u)];
                acc += ((k >> s) & 1u) ? v : -v;
            }
            g[j] = acc;
        }
    }
}

/* The same table as splut__lut_efd_table(), F ≤ EFD_FAST_MAX_F, from
 * precomputed coefficients R[(k·F + j)·2^F + x] = (−1)^(1−k_j) / (H(k, x, j) + 1)
 * (splut__lut_efd_coefs). Every G[x][j] is still the sum over k in increasing
 * order of A[k]·(±1/(H+1)), and A·(−c) = −(A·c) exactly in IEEE arithmetic,
 * so the result is bit-identical to the generic loop; but the inner loop runs
 * over (j, x), contiguous and independent, so it vectorises. */
#define EFD_FAST_MAX_F 6u

size_t splut__lut_efd_coef_count(uint32_t F)
{
    return F && F <= EFD_FAST_MAX_F ? (size_t)F << (2 * F) : 0;
}

void splut__lut_efd_coefs(uint32_t F, float *R)
{
    uint32_t size = 1u << F;
    for (uint32_t k = 0; k < size; k++)
        for (uint32_t j = 0; j < F; j++) {
            uint32_t s = F - 1 - j;
            for (uint32_t x = 0; x < size; x++) {
                uint32_t y = k ^ x, h = 0;
                for (uint32_t b = 0; b < F; b++)
                    h += (y >> b) & 1u;
                float c = 1.0f / (float)(h - ((y >> s) & 1u) + 1);
                R[((size_t)k * F + j) * size + x] = ((k >> s) & 1u) ? c : -c;
            }
        }
}

SPLUT_HOT static void efd_table_fast(const float *entries, uint32_t F, const float *R, float *G)
{
    uint32_t size = 1u << F, n = F * size;
    float acc[EFD_FAST_MAX_F << EFD_FAST_MAX_F];
    memset(acc, 0, (size_t)n * sizeof(float));
    for (uint32_t k = 0; k < size; k++) {
        float a = entries[k];
        const float *r = R + (size_t)k * n;
        for (uint32_t i = 0; i < n; i++)
            acc[i] += a * r[i];
    }
    for (uint32_t j = 0; j < F; j++)
        for (uint32_t x = 0; x < size; x++)
            G[(size_t)x * F + j] = acc[(size_t)j * size + x];
}

void splut__lut_efd_table_coefs(const float *entries, uint32_t F, const float *R, float *G)
{
    if (R && splut__lut_efd_coef_count(F))
        efd_table_fast(entries, F, R, G);
    else
        splut__lut_efd_table(entries, F, G);
}

/* ------------------------------------------------------------- training */

/* Addresses of samples [p0, p0 + k) from float rows (binary values, or
 * thermometer counts for layer 0): the bits splut__lut_eval() reads from
 * codes, computed input by input so each input is one vector loop. */
static void row_addresses(const splut_model *m, size_t l, const uint32_t *idx,
                          const float *rows, size_t B, size_t p0, size_t k, uint32_t *addr)
{
    const splut_layer *L = &m->layers[l];
    uint32_t split = splut__lut_row_split(m, l);
    memset(addr, 0, k * sizeof(uint32_t));
    for (uint32_t f = 0; f < L->F; f++) {
        const float *row = rows + (size_t)(idx[f] / split) * B + p0;
        float level = (float)(idx[f] % split) + 0.5f;
        for (size_t p = 0; p < k; p++)
            addr[p] = (addr[p] << 1) | (uint32_t)(row[p] > level);
    }
}

#define ADDR_BLOCK 256

SPLUT_HOT void splut__lut_train_forward(const splut_model *m, size_t l, uint32_t n,
                                        const float *rows, size_t B, float *h)
{
    const splut_layer *L = &m->layers[l];
    const uint32_t *idx = L->conn + (size_t)n * L->F;
    const float *w = m->params + L->w + (size_t)n * L->T;
    uint32_t addr[ADDR_BLOCK];
    for (size_t p0 = 0; p0 < B; p0 += ADDR_BLOCK) {
        size_t k = B - p0 < ADDR_BLOCK ? B - p0 : ADDR_BLOCK;
        row_addresses(m, l, idx, rows, B, p0, k, addr);
        for (size_t p = 0; p < k; p++)
            h[p0 + p] = w[addr[p]] >= 0.0f ? 1.0f : 0.0f;
    }
}

/* Straight-through to the entry that was read; EFD towards the inputs. */
SPLUT_HOT void splut__lut_train_backward(const splut_model *m, size_t l, uint32_t n,
                                         const float *rows, size_t B, const float *dh,
                                         float *gw, float *du, float *G, const float *coefs)
{
    const splut_layer *L = &m->layers[l];
    const uint32_t F = L->F;
    const uint32_t *idx = L->conn + (size_t)n * F;
    memset(gw, 0, L->T * sizeof(float));
    if (du) {
        splut__lut_efd_table_coefs(m->params + L->w + (size_t)n * L->T, F, coefs, G);
        memset(du, 0, (size_t)F * B * sizeof(float));
    }
    uint32_t addr[ADDR_BLOCK];
    for (size_t p0 = 0; p0 < B; p0 += ADDR_BLOCK) {
        size_t k = B - p0 < ADDR_BLOCK ? B - p0 : ADDR_BLOCK;
        row_addresses(m, l, idx, rows, B, p0, k, addr);
        for (size_t p = 0; p < k; p++) /* in sample order: a fixed sum per entry */
            gw[addr[p]] += dh[p0 + p];
        if (du)
            for (uint32_t j = 0; j < F; j++)
                for (size_t p = 0; p < k; p++)
                    du[(size_t)j * B + p0 + p] = dh[p0 + p] * G[(size_t)addr[p] * F + j];
    }
}

void splut__groupsum_logits(const splut_model *m, const float *h, size_t B, float *logits)
{
    const splut_layer *L = &m->layers[m->n_layers - 1];
    uint32_t C = L->N, per = L->out / C;
    float inv_tau = (float)(1.0 / m->groupsum_tau);
    for (uint32_t c = 0; c < C; c++) {
        float *z = logits + (size_t)c * B;
        memset(z, 0, B * sizeof(float));
        for (uint32_t i = 0; i < per; i++) {
            const float *hi = h + ((size_t)c * per + i) * B;
            for (size_t p = 0; p < B; p++)
                z[p] += hi[p];
        }
        for (size_t p = 0; p < B; p++)
            z[p] *= inv_tau;
    }
}

void splut__groupsum_backward(const splut_model *m, const float *dlogits, size_t B, float *dh)
{
    const splut_layer *L = &m->layers[m->n_layers - 1];
    uint32_t C = L->N, per = L->out / C;
    float inv_tau = (float)(1.0 / m->groupsum_tau);
    for (uint32_t node = 0; node < L->out; node++) {
        const float *d = dlogits + (size_t)(node / per) * B;
        for (size_t p = 0; p < B; p++)
            dh[(size_t)node * B + p] = d[p] * inv_tau;
    }
}
