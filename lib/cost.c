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
#include "emit-priv.h"
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

/* ------------------------------------------------- whole emitted design */

/* LUT6 of "x ≥ K" (or "x < K") on w-bit unsigned x. Trailing zero bits of K
 * drop out (x ≥ K'·2^z ⇔ x >> z ≥ K'); a single remaining bit is a wire;
 * else a chain of LUT6, the first reading 6 bits and each further one 5 more
 * bits and the previous result. */
static uint64_t compare_cost(uint32_t K, uint32_t w)
{
    if (K == 0)
        return 0;
    while (!(K & 1u)) {
        K >>= 1;
        w--;
    }
    if (w <= 1)
        return 0;
    return w <= 6 ? 1 : 1 + (w - 6 + 4) / 5;
}

/* Which bits of stage 0's input bus some table reads (the rest is removed by
 * synthesis, and so are the comparators that only feed them). */
static splut_status used_inputs(const splut__net *net, uint8_t *used)
{
    const splut__stage *s = &net->stages[0];
    for (uint32_t j = 0; j < s->neurons; j++) {
        const uint32_t *idx = NULL;
        size_t n = 0;
        splut_status st = splut_tables_inputs(net->t, s->layer, j, &idx, &n);
        if (st != SPLUT_OK)
            return st;
        for (size_t i = 0; i < n; i++)
            used[idx[i]] = 1;
    }
    return SPLUT_OK;
}

/* Thermometer bit (f, l): decoded from a code, or one raw comparator. Bits of
 * one feature that change at the same raw threshold (quantile thresholds of a
 * mostly constant feature coincide) share their comparator: synthesis merges
 * the identical logic, so only the first use of threshold i (bit i of
 * shared, room for the 255 thresholds of 8-bit codes) is counted. */
static uint64_t thermo_bit_cost(const splut__net *net, uint32_t f, uint32_t l,
                                uint64_t shared[4])
{
    if (net->thermo_port)
        return 0;
    if (!net->input)
        return compare_cost(l + 1, net->in_bits);
    uint32_t i = 0;
    splut__tbit_kind k = splut__thermo_raw_bit(net, f, l, &i);
    if (k == SPLUT__TBIT_ZERO || k == SPLUT__TBIT_ONE || (shared[i / 64] >> (i % 64) & 1u))
        return 0;
    shared[i / 64] |= 1ull << (i % 64);
    return compare_cost(splut__thr_unsigned(net, f, i), net->raw_bits);
}

/* A code from comparators: the comparators, and one LUT per code bit when
 * more than one comparator decides it. */
static uint64_t feature_code_cost(const splut__net *net, uint32_t f)
{
    uint64_t c = 0;
    for (uint32_t i = 0; i < net->thr_steps[f]; i++)
        c += compare_cost(splut__thr_unsigned(net, f, i), net->raw_bits);
    return c + (net->thr_steps[f] > 1 ? net->in_bits : 0);
}

static splut_status input_cost(const splut__net *net, uint64_t *luts)
{
    *luts = 0;
    if (!net->thermo && !net->input)
        return SPLUT_OK;
    uint32_t w = splut__net_stage0_width(net);
    uint8_t *used = splut__calloc(net->ctx, w, 1);
    if (!used)
        return splut__fail(net->ctx, SPLUT_E_NOMEM, "out of memory estimating the input stage");
    splut_status st = used_inputs(net, used);
    for (uint32_t f = 0; st == SPLUT_OK && f < net->n_in; f++) {
        if (!net->thermo) {
            bool any = false;
            for (uint32_t b = 0; b < net->in_bits; b++)
                any |= used[f * net->in_bits + b] != 0;
            *luts += any ? feature_code_cost(net, f) : 0;
            continue;
        }
        uint64_t shared[4] = {0, 0, 0, 0};
        for (uint32_t l = 0; l < net->thermo; l++)
            if (used[f * net->thermo + l])
                *luts += thermo_bit_cost(net, f, l, shared);
    }
    splut__free(net->ctx, used);
    return st;
}

/* The popcounts (each counter output bit a LUT6, one LUT per bit of the
 * final adder: its carry chain is free) and the argmax tree (a comparator and
 * the count and index multiplexers per node, one LUT per bit each; the root
 * needs no count). */
static splut_status head_cost(const splut__net *net, uint64_t *luts)
{
    *luts = 0;
    if (!net->classes)
        return SPLUT_OK;
    splut__pc_plan plan;
    splut_status st = splut__pc_plan_build(net, &plan);
    if (st != SPLUT_OK)
        return st;
    *luts = splut__pc_plan_luts(&plan) * net->classes;
    splut__pc_plan_free(net, &plan);
    if (!net->counts_port && net->classes > 1)
        *luts += (uint64_t)(net->classes - 1) * (net->count_bits * 2 + net->class_bits) -
                 net->count_bits;
    return SPLUT_OK;
}

static uint64_t register_bits(const splut__net *net)
{
    uint64_t ffs = 0;
    for (size_t i = 0; i < net->n_stages; i++)
        if (net->stages[i].reg_before)
            ffs += splut__stage_in_width(&net->stages[i]);
    if (net->reg_popcount)
        ffs += splut__net_last_width(net);
    if (net->reg_argmax)
        ffs += (uint64_t)net->classes * net->count_bits;
    return ffs;
}

splut_status splut_hdl_estimate(const splut_tables *t, const splut_hdl_opts *opts,
                                uint64_t *luts, uint64_t *ffs)
{
    if (!t)
        return SPLUT_E_NULL;
    splut__net net;
    splut_status st = splut__net_init(&net, t, opts);
    uint64_t tables = 0, in = 0, head = 0;
    if (st == SPLUT_OK)
        st = splut_tables_cost(t, SIZE_MAX, &tables);
    if (st == SPLUT_OK)
        st = input_cost(&net, &in);
    if (st == SPLUT_OK)
        st = head_cost(&net, &head);
    if (st == SPLUT_OK && luts)
        *luts = sat_add(sat_add(tables, in), head);
    if (st == SPLUT_OK && ffs)
        *ffs = register_bits(&net);
    splut__net_free(&net);
    return st;
}
