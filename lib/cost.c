/*
 * Hardware cost estimate: LUT6 count of truth tables.
 *
 * The LogicNets model counts ceil(Y/3 · (2^(X−4) − (−1)^X)) LUT6 for a table
 * of X input and Y output bits: a 2^X-entry ROM built from LUT6 and the F7/F8
 * multiplexers of a slice. Since 2^(X−4) ≡ (−1)^X (mod 3), the bracket is
 * always a multiple of 3 and the count is exact. Below 6 inputs one LUT6 per
 * output bit is the real cost (the formula agrees at X = 5 and 6, but gives 0
 * at X = 4 and negative values below), so Y is used for 1 ≤ X ≤ 6.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include "tables-priv.h"

uint64_t splut_lut6_cost(uint32_t in_bits, uint32_t out_bits)
{
    if (in_bits == 0 || out_bits == 0)
        return 0; /* a constant needs no LUT */
    if (in_bits <= 6)
        return out_bits;
    if (in_bits - 4 >= 64)
        return UINT64_MAX;
    uint64_t pow = 1ull << (in_bits - 4);
    uint64_t per_bit = (in_bits % 2 ? pow + 1 : pow - 1) / 3;
    if (per_bit > UINT64_MAX / out_bits)
        return UINT64_MAX;
    return per_bit * out_bits;
}

static uint64_t sat_add(uint64_t a, uint64_t b)
{
    return a > UINT64_MAX - b ? UINT64_MAX : a + b;
}

static uint64_t sat_mul(uint64_t a, uint64_t b)
{
    return b && a > UINT64_MAX / b ? UINT64_MAX : a * b;
}

/* LUT6 of one neuron of a layer: its sub tables plus its adder table. */
static uint64_t neuron_cost(const splut_tlayer *TL)
{
    uint64_t c = sat_mul(TL->A, splut_lut6_cost(TL->F * TL->in_bits, TL->sub_bits));
    if (TL->kind == SPLUT_NEURON_POLY_ADD)
        c = sat_add(c, splut_lut6_cost(TL->A * TL->sub_bits, TL->out_bits));
    return c;
}

splut_status splut_tables_cost(const splut_tables *t, size_t layer, uint64_t *luts)
{
    if (!t || !luts)
        return t ? splut__fail(t->ctx, SPLUT_E_NULL, "splut_tables_cost: luts is NULL")
                 : SPLUT_E_NULL;
    if (layer != SIZE_MAX && layer >= t->n_layers)
        return splut__fail(t->ctx, SPLUT_E_INDEX, "layer %zu of %zu", layer, t->n_layers);
    uint64_t total = 0;
    for (size_t l = 0; l < t->n_layers; l++)
        if (layer == SIZE_MAX || layer == l)
            total = sat_add(total, sat_mul(t->layers[l].out, neuron_cost(&t->layers[l])));
    *luts = total;
    return SPLUT_OK;
}
