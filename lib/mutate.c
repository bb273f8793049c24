/*
 * Connectivity mutation: prune an input, grow (rewire) one with an initial
 * weight, validate. Weights follow their variables when a slice is re-sorted,
 * so a mutated model still evaluates, enumerates and simulates consistently;
 * the per-neuron mutation counter tells a trainer to reset the optimiser state
 * of that neuron.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include <math.h>
#include <string.h>

#include "model-priv.h"

static splut_status locate(const splut_model *m, size_t layer, uint32_t neuron, uint32_t slot)
{
    if (!m->built)
        return splut__fail(m->ctx, SPLUT_E_STATE, "model is not built");
    if (layer >= m->n_layers)
        return splut__fail(m->ctx, SPLUT_E_INDEX, "layer %zu of %zu", layer, m->n_layers);
    const splut_layer *L = &m->layers[layer];
    if (neuron >= L->out)
        return splut__fail(m->ctx, SPLUT_E_INDEX, "neuron %u of %u in layer %zu", neuron, L->out,
                           layer);
    if (slot >= L->A * L->F)
        return splut__fail(m->ctx, SPLUT_E_INDEX, "input slot %u of %u", slot, L->A * L->F);
    return SPLUT_OK;
}

/* Weights of the sub-neuron owning `slot`. */
static float *sub_weights(splut_model *m, const splut_layer *L, uint32_t neuron, uint32_t slot)
{
    return m->params + L->w + ((size_t)neuron * L->A + slot / L->F) * L->T;
}

static bool term_uses(const splut_monos *mo, uint32_t t, uint32_t var)
{
    for (int32_t u = (int32_t)t; u >= 0; u = mo->parent[u])
        if (mo->var[u] == var)
            return true;
    return false;
}

/* NeuraLUT: input f is column f of W1 (first map) and R0 (skip map). */
static void nl_set_column(float *w, const splut_layer *L, uint32_t f, float v)
{
    splut_nl_off o = splut__nl_offsets(L->F, L->N);
    for (uint32_t k = 0; k < L->N; k++) {
        w[o.w1 + (size_t)k * L->F + f] = 0.0f;
        w[o.r0 + (size_t)k * L->F + f] = v;
    }
}

/* NeuraLUT: move columns so column k becomes column perm[k]; `fresh` gets
 * the degree-1-like weight on the skip map. */
static void nl_permute(float *w, const splut_layer *L, const uint8_t *perm, uint8_t fresh,
                       float weight)
{
    splut_nl_off o = splut__nl_offsets(L->F, L->N);
    float tmp[256];
    for (uint32_t k = 0; k < L->N; k++) {
        size_t offs[2] = {o.w1 + (size_t)k * L->F, o.r0 + (size_t)k * L->F};
        for (int m = 0; m < 2; m++) {
            for (uint32_t f = 0; f < L->F; f++)
                tmp[perm[f]] = w[offs[m] + f];
            memcpy(w + offs[m], tmp, L->F * sizeof(float));
        }
    }
    nl_set_column(w, L, fresh, weight);
}

splut_status splut_model_prune_input(splut_model *m, size_t layer, uint32_t neuron,
                                     uint32_t slot)
{
    if (!m)
        return SPLUT_E_NULL;
    splut_status st = locate(m, layer, neuron, slot);
    if (st != SPLUT_OK)
        return st;
    const splut_layer *L = &m->layers[layer];
    float *w = sub_weights(m, L, neuron, slot);
    if (L->kind == SPLUT_NEURON_NEURALUT) {
        nl_set_column(w, L, slot, 0.0f);
        splut__neuron_mutated(m, layer, neuron);
        return SPLUT_OK;
    }
    for (uint32_t t = 0; t < L->T; t++)
        if (term_uses(&L->monos, t, slot % L->F))
            w[t] = 0.0f;
    splut__neuron_mutated(m, layer, neuron);
    return SPLUT_OK;
}

/* Move the weight of every term to the term over the renamed variables:
 * variable k becomes perm[k]. Terms using `fresh` (after renaming) start at 0. */
static splut_status permute_terms(splut_model *m, const splut_layer *L, float *w,
                                  const uint8_t *perm, uint8_t fresh)
{
    float *nw = splut__calloc(m->ctx, L->T, sizeof(float));
    if (!nw)
        return splut__fail(m->ctx, SPLUT_E_NOMEM, "out of memory re-ordering weights");
    uint8_t vars[64];
    for (uint32_t t = 0; t < L->T; t++) {
        uint32_t deg = splut__mono_vars(&L->monos, t, vars);
        bool uses_fresh = false;
        for (uint32_t i = 0; i < deg; i++) {
            vars[i] = perm[vars[i]];
            uses_fresh |= vars[i] == fresh;
        }
        if (uses_fresh)
            continue;
        /* insertion sort: deg is at most the degree */
        for (uint32_t i = 1; i < deg; i++)
            for (uint32_t j = i; j > 0 && vars[j] < vars[j - 1]; j--) {
                uint8_t tmp = vars[j];
                vars[j] = vars[j - 1];
                vars[j - 1] = tmp;
            }
        nw[splut__mono_find(&L->monos, vars, deg)] = w[t];
    }
    memcpy(w, nw, L->T * sizeof(float));
    splut__free(m->ctx, nw);
    return SPLUT_OK;
}

splut_status splut_model_grow_input(splut_model *m, size_t layer, uint32_t neuron,
                                    uint32_t slot, uint32_t input, float weight)
{
    if (!m)
        return SPLUT_E_NULL;
    splut_status st = locate(m, layer, neuron, slot);
    if (st != SPLUT_OK)
        return st;
    if (!isfinite(weight))
        return splut__fail(m->ctx, SPLUT_E_NON_FINITE, "initial weight is not finite");
    const splut_layer *L = &m->layers[layer];
    uint32_t k = L->A * L->F, F = L->F;
    uint32_t *row = L->conn + (size_t)neuron * k;
    uint32_t first = slot - slot % F; /* the sub-neuron's slice */
    uint32_t cand[SPLUT_MAX_FAN_IN];
    memcpy(cand, row, k * sizeof(uint32_t));
    cand[slot] = input;
    /* re-sort the slice, remembering where each old variable went */
    uint8_t order[256];
    for (uint32_t i = 0; i < F; i++)
        order[i] = (uint8_t)i;
    for (uint32_t i = 1; i < F; i++)
        for (uint32_t j = i; j > 0 && cand[first + order[j]] < cand[first + order[j - 1]]; j--) {
            uint8_t tmp = order[j];
            order[j] = order[j - 1];
            order[j - 1] = tmp;
        }
    uint32_t sorted[SPLUT_MAX_FAN_IN];
    memcpy(sorted, cand, k * sizeof(uint32_t));
    uint8_t perm[256];
    for (uint32_t i = 0; i < F; i++) {
        sorted[first + i] = cand[first + order[i]];
        perm[order[i]] = (uint8_t)i;
    }
    st = splut__check_inputs(m, layer, sorted, k);
    if (st != SPLUT_OK)
        return st;
    float *w = sub_weights(m, L, neuron, slot);
    uint8_t fresh = perm[slot - first]; /* terms of the replaced variable vanish with it */
    if (L->kind == SPLUT_NEURON_NEURALUT) {
        nl_permute(w, L, perm, fresh, weight);
    } else {
        st = permute_terms(m, L, w, perm, fresh);
        if (st != SPLUT_OK)
            return st;
        w[fresh] = weight; /* the degree-1 terms come first, in variable order */
    }
    memcpy(row, sorted, k * sizeof(uint32_t));
    splut__neuron_mutated(m, layer, neuron);
    return SPLUT_OK;
}

splut_status splut_model_validate(const splut_model *m)
{
    if (!m)
        return SPLUT_E_NULL;
    if (!m->built)
        return splut__fail(m->ctx, SPLUT_E_STATE, "model is not built");
    for (size_t l = 0; l < m->n_layers; l++) {
        const splut_layer *L = &m->layers[l];
        size_t k = (size_t)L->A * L->F;
        for (uint32_t n = 0; n < L->out; n++) {
            splut_status st = splut__check_inputs(m, l, L->conn + n * k, k);
            if (st != SPLUT_OK)
                return st;
        }
    }
    for (size_t i = 0; i < m->n_params; i++)
        if (!isfinite(m->params[i]))
            return splut__fail(m->ctx, SPLUT_E_NON_FINITE, "parameter %zu is not finite", i);
    for (size_t i = 0; i < m->n_state; i++)
        if (!isfinite(m->state[i]))
            return splut__fail(m->ctx, SPLUT_E_NON_FINITE, "BatchNorm statistic %zu is not finite",
                               i);
    return SPLUT_OK;
}
