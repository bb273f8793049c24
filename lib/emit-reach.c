/*
 * Don't-care filling for the HDL emitters (SPLUT_HDL_DONT_CARE).
 *
 * A table of layer l ≥ 1 reads codes produced by tables upstream. A code that
 * an upstream table outputs for no reachable address can never reach this
 * table, whatever the network input: the entries addressed by it are don't
 * cares. Reachable code sets are propagated stage by stage (exactly, per
 * field; the network inputs take every code), and each unreachable code is
 * given the entry of a reachable "representative" code chosen so that the
 * table depends on as few address bits as possible. Logic synthesis then sees
 * simpler functions, and the design still computes identical outputs for every
 * network input: reachable entries are never changed.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include <string.h>

#include "emit-priv.h"

/* Codes of a field of @p bits bits. */
static uint32_t codes_of(uint32_t bits)
{
    return 1u << bits;
}

static uint32_t popcount(uint32_t v)
{
    uint32_t n = 0;
    for (; v; v &= v - 1)
        n++;
    return n;
}

/* True when the bits in @p mask tell every reachable code apart. */
static bool mask_separates(const uint8_t *reach, uint32_t n_codes, uint32_t mask)
{
    for (uint32_t r = 0; r < n_codes; r++) {
        if (!reach[r])
            continue;
        for (uint32_t q = r + 1; q < n_codes; q++)
            if (reach[q] && (q & mask) == (r & mask))
                return false;
    }
    return true;
}

/* Smallest set of code bits (fewest bits, then lowest mask) separating the
 * reachable codes: the bits the table really needs from this field. */
static uint32_t separating_mask(const uint8_t *reach, uint32_t bits)
{
    uint32_t n_codes = codes_of(bits), best = n_codes - 1;
    for (uint32_t mask = 0; mask < n_codes; mask++)
        if (popcount(mask) < popcount(best) && mask_separates(reach, n_codes, mask))
            best = mask;
    return best;
}

/* map[c]: c itself when reachable, else the reachable code that agrees with c
 * on the separating bits (nearest in Hamming distance, lowest on ties); with
 * no such code, the nearest reachable code overall. */
static void representatives(const uint8_t *reach, uint32_t bits, uint16_t *map)
{
    uint32_t n_codes = codes_of(bits), mask = separating_mask(reach, bits);
    for (uint32_t c = 0; c < n_codes; c++) {
        map[c] = (uint16_t)c;
        if (reach[c])
            continue;
        uint32_t best = n_codes, best_cost = UINT32_MAX;
        for (uint32_t r = 0; r < n_codes; r++) {
            if (!reach[r])
                continue;
            /* agreeing on the separating bits dominates the distance */
            uint32_t cost = popcount((r ^ c) & mask) * (bits + 1) + popcount(r ^ c);
            if (cost < best_cost) {
                best_cost = cost;
                best = r;
            }
        }
        if (best < n_codes)
            map[c] = (uint16_t)best;
    }
}

/* Fill one table: @p maps gives every input-bus field's representative of
 * each code (identity where reachable); @p out_reach receives the codes the
 * table outputs at reachable addresses. */
static void fill_table(const splut__stage *s, const uint32_t *fields, const uint16_t *maps,
                       const uint16_t *e, uint16_t *filled, uint8_t *out_reach)
{
    uint32_t n_codes = codes_of(s->in_bits), F = s->fan_in;
    size_t n = (size_t)1 << (F * s->in_bits);
    uint32_t code_mask = n_codes - 1;
    for (size_t addr = 0; addr < n; addr++) {
        size_t src = 0;
        bool reachable = true;
        for (uint32_t f = 0; f < F; f++) {
            uint32_t shift = (F - 1 - f) * s->in_bits; /* field 0 is most significant */
            uint32_t c = (uint32_t)(addr >> shift) & code_mask;
            uint32_t r = maps[(size_t)fields[f] * n_codes + c];
            reachable &= r == c;
            src |= (size_t)r << shift;
        }
        filled[addr] = e[src];
        if (reachable)
            out_reach[e[addr]] = 1;
    }
}

/* One stage: fill its tables into net->filled[stage], and mark the codes
 * each output field can carry in @p out_reach. Representatives are chosen
 * once per input-bus field, since several tables read the same field. */
static splut_status fill_stage(splut__net *net, size_t k, const uint8_t *in_reach,
                               uint8_t *out_reach)
{
    const splut__stage *s = &net->stages[k];
    size_t n = (size_t)1 << (s->fan_in * s->in_bits);
    uint32_t in_codes = codes_of(s->in_bits), out_codes = codes_of(s->out_bits);
    uint32_t fields[SPLUT__FAN_IN_MAX];
    uint16_t *maps = splut__calloc(net->ctx, (size_t)s->in_fields * in_codes, sizeof(uint16_t));
    net->filled[k] = splut__calloc(net->ctx, (size_t)s->neurons * s->A * n, sizeof(uint16_t));
    if (!maps || !net->filled[k]) {
        splut__free(net->ctx, maps);
        return splut__fail(net->ctx, SPLUT_E_NOMEM, "out of memory filling don't-cares");
    }
    for (uint32_t x = 0; x < s->in_fields; x++)
        representatives(in_reach + (size_t)x * in_codes, s->in_bits, maps + (size_t)x * in_codes);
    splut_status st = SPLUT_OK;
    for (uint32_t j = 0; j < s->neurons && st == SPLUT_OK; j++)
        for (uint32_t a = 0; a < s->A && st == SPLUT_OK; a++) {
            const uint16_t *e = NULL;
            st = splut__table_fields(net, s, j, a, fields);
            if (st == SPLUT_OK)
                st = splut_tables_data(net->t, s->layer, j, splut__stage_table(s, a), &e);
            if (st != SPLUT_OK)
                break;
            size_t t = (size_t)j * s->A + a;
            fill_table(s, fields, maps, e, net->filled[k] + t * n, out_reach + t * out_codes);
        }
    splut__free(net->ctx, maps);
    return st;
}

splut_status splut__net_fill_dont_cares(splut__net *net)
{
    net->filled = splut__calloc(net->ctx, net->n_stages, sizeof(*net->filled));
    if (!net->filled)
        return splut__fail(net->ctx, SPLUT_E_NOMEM, "out of memory filling don't-cares");
    for (size_t k = 0; k < net->n_stages; k++)
        if (net->stages[k].fan_in > SPLUT__FAN_IN_MAX)
            return splut__fail(net->ctx, SPLUT_E_OUT_OF_RANGE,
                               "fan-in %u too large for don't-care filling",
                               net->stages[k].fan_in);
    /* The network inputs take every code. */
    const splut__stage *s0 = &net->stages[0];
    size_t in_size = (size_t)s0->in_fields * codes_of(s0->in_bits);
    uint8_t *in_reach = splut__alloc(net->ctx, in_size ? in_size : 1);
    if (!in_reach)
        return splut__fail(net->ctx, SPLUT_E_NOMEM, "out of memory filling don't-cares");
    memset(in_reach, 1, in_size);
    splut_status st = SPLUT_OK;
    for (size_t k = 0; k < net->n_stages && st == SPLUT_OK; k++) {
        const splut__stage *s = &net->stages[k];
        size_t out_size = (size_t)s->neurons * s->A * codes_of(s->out_bits);
        uint8_t *out_reach = splut__calloc(net->ctx, out_size ? out_size : 1, 1);
        if (!out_reach) {
            st = splut__fail(net->ctx, SPLUT_E_NOMEM, "out of memory filling don't-cares");
            break;
        }
        st = fill_stage(net, k, in_reach, out_reach);
        splut__free(net->ctx, in_reach);
        in_reach = out_reach;
    }
    splut__free(net->ctx, in_reach);
    return st;
}

void splut__net_free_filled(splut__net *net)
{
    if (!net->filled)
        return;
    for (size_t k = 0; k < net->n_stages; k++)
        splut__free(net->ctx, net->filled[k]);
    splut__free(net->ctx, net->filled);
    net->filled = NULL;
}
