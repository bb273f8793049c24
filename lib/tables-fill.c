/*
 * splut_tables_fill_dont_cares: the tables as the HDL emitters write them with
 * SPLUT_HDL_DONT_CARE, as a tables object of their own.
 *
 * The filling itself is emit-reach.c's (through splut__net_init with the
 * flag), so a tool that reads these tables sees exactly the ROM contents of
 * the emitted design; this file only copies the filled entries into a new
 * tables object of the same shape.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include <string.h>

#include "emit-priv.h"
#include "tables-priv.h"

/* An empty layer of the same shape as @p src (conn copied, data allocated).
 * The shape fields are set one by one, so a field added to splut_tlayer later
 * starts at zero instead of sharing the source's memory. */
static splut_status copy_layer_shape(splut_ctx *ctx, const splut_tlayer *src, splut_tlayer *dst)
{
    dst->kind = src->kind;
    dst->in = src->in;
    dst->out = src->out;
    dst->F = src->F;
    dst->A = src->A;
    dst->in_bits = src->in_bits;
    dst->sub_bits = src->sub_bits;
    dst->out_bits = src->out_bits;
    splut_status st = splut__tlayer_alloc(ctx, dst);
    if (st == SPLUT_OK)
        memcpy(dst->conn, src->conn, (size_t)src->out * src->A * src->F * sizeof(uint32_t));
    return st;
}

/* Copy the filled tables of stage @p s into its layer of @p out: a sub-neuron
 * (or plain) stage fills the first A tables of each neuron, an adder stage
 * the adder table behind them. */
static void copy_stage(const splut__net *net, const splut__stage *s, splut_tables *out)
{
    splut_tlayer *TL = &out->layers[s->layer];
    size_t n = (size_t)1 << (s->fan_in * s->in_bits);
    const uint16_t *filled = net->filled[s - net->stages];
    for (uint32_t j = 0; j < s->neurons; j++) {
        uint16_t *dst = TL->data + (size_t)j * TL->stride;
        if (s->kind == SPLUT__STAGE_ADDER)
            memcpy(dst + (size_t)TL->A * TL->sub_entries, filled + (size_t)j * n,
                   n * sizeof(uint16_t));
        else
            memcpy(dst, filled + (size_t)j * s->A * n, (size_t)s->A * n * sizeof(uint16_t));
    }
}

splut_status splut_tables_fill_dont_cares(const splut_tables *t, splut_tables **out)
{
    if (out)
        *out = NULL;
    if (!t || !out)
        return t ? splut__fail(t->ctx, SPLUT_E_NULL, "splut_tables_fill_dont_cares: out is NULL")
                 : SPLUT_E_NULL;
    splut_hdl_opts opts = SPLUT_HDL_OPTS_INIT;
    opts.flags = SPLUT_HDL_DONT_CARE;
    splut__net net;
    splut_status st = splut__net_init(&net, t, &opts);
    if (st != SPLUT_OK)
        return st;
    splut_tables *f = NULL;
    st = splut__tables_alloc(t->ctx, t->n_layers, &f);
    if (st == SPLUT_OK) {
        f->n_inputs = t->n_inputs;
        f->input_bits = t->input_bits;
        f->thermo_levels = t->thermo_levels;
    }
    for (size_t l = 0; st == SPLUT_OK && l < t->n_layers; l++)
        st = copy_layer_shape(t->ctx, &t->layers[l], &f->layers[l]);
    for (size_t k = 0; st == SPLUT_OK && k < net.n_stages; k++)
        copy_stage(&net, &net.stages[k], f);
    splut__net_free(&net);
    if (st != SPLUT_OK) {
        splut_tables_destroy(f);
        return st;
    }
    *out = f;
    return SPLUT_OK;
}
