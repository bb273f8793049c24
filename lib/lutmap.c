/*
 * Learnable mapping of the first LUT layer (differentiable weightless
 * networks, Bacellar et al., ICML 2024): every input slot of every layer-0
 * node chooses its source among candidate input bits by a trained selection
 * weight vector — hard argmax in the forward pass, and in the backward pass
 * ∂L/∂W[slot][c] = ∂L/∂(slot value) · (2·x_c − 1), the slot gradient coming
 * from the node's extended finite difference (docs/lut-nodes.md).
 *
 * Candidates: node n draws F·K distinct inputs, sorted, and slot f takes the
 * f-th run of K of them. Any choice is then a strictly ascending input list,
 * so the chosen sources are always a valid connectivity (distinct, sorted,
 * the form every table, file and circuit of the library uses) and the layer's
 * `conn` simply holds the current argmax. With K = in / F (SPLUT_P_LUT_MAP at
 * least that) and F dividing `in`, every input is a candidate of every node.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include <string.h>

#include "model-priv.h"

uint32_t splut__lut_map_k(const splut_model *m)
{
    if (!m->lut_map || !m->n_layers || m->layers[0].kind != SPLUT_NEURON_LUT)
        return 0;
    const splut_layer *L = &m->layers[0];
    uint64_t most = L->in / L->F;
    return (uint32_t)((uint64_t)m->lut_map < most ? (uint64_t)m->lut_map : most);
}

static size_t cand_count(const splut_model *m)
{
    return (size_t)m->layers[0].out * m->layers[0].F * m->map_k;
}

splut_status splut__lut_map_alloc(splut_model *m)
{
    splut__free(m->ctx, m->map_cand);
    m->map_cand = NULL;
    if (!m->map_k)
        return SPLUT_OK;
    m->map_cand = splut__calloc(m->ctx, cand_count(m), sizeof(uint32_t));
    return m->map_cand ? SPLUT_OK
                       : splut__fail(m->ctx, SPLUT_E_NOMEM, "out of memory for mapping candidates");
}

void splut__lut_map_init(splut_model *m, uint64_t seed, uint32_t *perm)
{
    if (!m->map_k)
        return;
    const splut_layer *L = &m->layers[0];
    uint32_t k = L->F * m->map_k;
    for (uint32_t i = 0; i < L->in; i++) /* the identity: every input, in order */
        perm[i] = i;
    splut_rng r;
    splut__rng_seed(&r, seed ^ 0x6d617070u);
    for (uint32_t n = 0; n < L->out; n++) {
        uint32_t *dst = m->map_cand + (size_t)n * k;
        if (k == L->in) /* every input is a candidate */
            memcpy(dst, perm, k * sizeof(uint32_t));
        else
            splut__draw_inputs(dst, k, L->in, perm, &r);
    }
    float *w = m->params + m->map_w;
    for (size_t i = 0; i < cand_count(m); i++)
        w[i] = (float)splut__rng_uniform(&r);
    splut__lut_map_select(m);
}

void splut__lut_map_select(splut_model *m)
{
    if (!m->map_k)
        return;
    splut_layer *L = &m->layers[0];
    uint32_t K = m->map_k;
    size_t slots = (size_t)L->out * L->F;
    const float *w = m->params + m->map_w;
    for (size_t s = 0; s < slots; s++) {
        const float *ws = w + s * K;
        uint32_t best = 0;
        for (uint32_t c = 1; c < K; c++)
            if (ws[c] > ws[best])
                best = c;
        L->conn[s] = m->map_cand[s * K + best];
    }
}

splut_status splut__lut_map_check(const splut_model *m)
{
    if (!m->map_k)
        return SPLUT_OK;
    const splut_layer *L = &m->layers[0];
    uint32_t K = m->map_k, k = L->F * K;
    for (uint32_t n = 0; n < L->out; n++) {
        const uint32_t *c = m->map_cand + (size_t)n * k;
        for (uint32_t i = 0; i < k; i++)
            if (c[i] >= L->in || (i && c[i] <= c[i - 1]))
                return splut__fail(m->ctx, SPLUT_E_CONNECTIVITY,
                                   "mapping candidates of node %u: entry %u (%u) is not below "
                                   "%u or not above the previous one",
                                   n, i, c[i], L->in);
        for (uint32_t f = 0; f < L->F; f++) {
            uint32_t src = L->conn[(size_t)n * L->F + f];
            bool found = false;
            for (uint32_t j = 0; j < K && !found; j++)
                found = c[f * K + j] == src;
            if (!found)
                return splut__fail(m->ctx, SPLUT_E_CONNECTIVITY,
                                   "layer 0 node %u input %u reads %u, not one of its mapping "
                                   "candidates",
                                   n, f, src);
        }
    }
    return SPLUT_OK;
}

/* Four candidates per pass over the slot gradient: each dot product keeps
 * its own 8-lane accumulators and fixed fold, so blocking changes nothing. */
#define MAP_LANES 8

static float fold8(const float *a)
{
    return ((a[0] + a[1]) + (a[2] + a[3])) + ((a[4] + a[5]) + (a[6] + a[7]));
}

SPLUT_HOT static void dots4(const float *du, const int8_t *x0, const int8_t *x1,
                            const int8_t *x2, const int8_t *x3, size_t B, float *out)
{
    float a0[MAP_LANES] = {0}, a1[MAP_LANES] = {0}, a2[MAP_LANES] = {0}, a3[MAP_LANES] = {0};
    size_t p = 0;
    for (; p + MAP_LANES <= B; p += MAP_LANES)
        for (int l = 0; l < MAP_LANES; l++) {
            float d = du[p + l];
            a0[l] += d * x0[p + l];
            a1[l] += d * x1[p + l];
            a2[l] += d * x2[p + l];
            a3[l] += d * x3[p + l];
        }
    for (; p < B; p++) {
        a0[p % MAP_LANES] += du[p] * x0[p];
        a1[p % MAP_LANES] += du[p] * x1[p];
        a2[p % MAP_LANES] += du[p] * x2[p];
        a3[p % MAP_LANES] += du[p] * x3[p];
    }
    out[0] = fold8(a0);
    out[1] = fold8(a1);
    out[2] = fold8(a2);
    out[3] = fold8(a3);
}

void splut__lut_map_grad(const splut_model *m, uint32_t n, const float *du, const int8_t *xs,
                         size_t B, float *g)
{
    const splut_layer *L = &m->layers[0];
    uint32_t K = m->map_k;
    const uint32_t *cand = m->map_cand + (size_t)n * L->F * K;
    for (uint32_t f = 0; f < L->F; f++) {
        const float *d = du + (size_t)f * B;
        const uint32_t *c = cand + (size_t)f * K;
        float *gf = g + (size_t)f * K;
        uint32_t j = 0;
        for (; j + 4 <= K; j += 4)
            dots4(d, xs + (size_t)c[j] * B, xs + (size_t)c[j + 1] * B, xs + (size_t)c[j + 2] * B,
                  xs + (size_t)c[j + 3] * B, B, gf + j);
        for (; j < K; j++) { /* the tail through the same kernel: same sums */
            float out[4];
            const int8_t *x = xs + (size_t)c[j] * B;
            dots4(d, x, x, x, x, B, out);
            gf[j] = out[0];
        }
    }
}

bool splut__lut_map_shared(const splut_model *m)
{
    return m->map_k && (size_t)m->map_k * m->layers[0].F == m->layers[0].in;
}

/* Shared candidates (every input, slot f taking inputs [f·K, (f+1)·K)): the
 * gradients of a slot across nodes are one matrix product, du (nodes × B)
 * times xt (B × K), computed in register tiles of MAP_ROWS nodes × MAP_COLS
 * candidates. Every element is summed over p = 0, 1, …, B−1 in order from
 * 0, whatever the tile, so the result does not depend on how nodes are
 * split between workers. */
#define MAP_ROWS 4
#define MAP_COLS 32

SPLUT_HOT static void tile(const float *const *a, uint32_t rows, const float *xt, size_t ld,
                           uint32_t cols, size_t B, float *const *out)
{
    float c[MAP_ROWS][MAP_COLS];
    memset(c, 0, sizeof(c));
    if (rows == MAP_ROWS && cols == MAP_COLS) {
        for (size_t p = 0; p < B; p++) {
            const float *x = xt + p * ld;
            for (int r = 0; r < MAP_ROWS; r++) {
                float v = a[r][p];
                for (int j = 0; j < MAP_COLS; j++)
                    c[r][j] += v * x[j];
            }
        }
    } else {
        for (size_t p = 0; p < B; p++) {
            const float *x = xt + p * ld;
            for (uint32_t r = 0; r < rows; r++)
                for (uint32_t j = 0; j < cols; j++)
                    c[r][j] += a[r][p] * x[j];
        }
    }
    for (uint32_t r = 0; r < rows; r++)
        memcpy(out[r], c[r], cols * sizeof(float));
}

void splut__lut_map_grad_shared(const splut_model *m, uint32_t n0, uint32_t n1, const float *du,
                                const float *xt, size_t B, float *g)
{
    const splut_layer *L = &m->layers[0];
    uint32_t K = m->map_k, F = L->F;
    for (uint32_t n = n0; n < n1; n += MAP_ROWS) {
        uint32_t rows = n1 - n < MAP_ROWS ? n1 - n : MAP_ROWS;
        for (uint32_t f = 0; f < F; f++) {
            const float *a[MAP_ROWS];
            for (uint32_t r = 0; r < rows; r++)
                a[r] = du + ((size_t)(n + r) * F + f) * B;
            for (uint32_t j = 0; j < K; j += MAP_COLS) {
                uint32_t cols = K - j < MAP_COLS ? K - j : MAP_COLS;
                float *out[MAP_ROWS];
                for (uint32_t r = 0; r < rows; r++)
                    out[r] = g + ((size_t)(n + r) * F + f) * K + j;
                tile(a, rows, xt + (size_t)f * K + j, L->in, cols, B, out);
            }
        }
    }
}
