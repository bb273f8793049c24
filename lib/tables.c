/*
 * Truth-table enumeration and LUT-mode inference.
 *
 * Tables are filled with the one per-neuron evaluation routine of
 * lib/neuron.c (splut__mono_batch, splut__affine_batch, splut__neuralut_batch,
 * splut__sub_codes, splut__adder_batch), so they agree bit for bit with
 * eval-mode inference by construction. The work of all layers is split into
 * (address chunk × neuron group) items run as one parallel loop, each item
 * writing its own disjoint part of the tables, so the result is identical for
 * any thread count. An item computes its chunk's monomials once for its whole
 * neuron group (a layer has only a few groups per chunk, just enough to keep
 * every thread busy; monomials are ~1 % of the time). Also: the row iterator and the binary and text files
 * (docs/tables-format.md).
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include <string.h>

#include "model-priv.h"
#include "modelio-priv.h"
#include "tables-priv.h"

/* Largest address chunk, and the bound on a worker's monomial scratch (floats). */
#define CHUNK_MAX 512u
#define MONO_SCRATCH_FLOATS (1u << 17)
/* Work items per thread to aim for, so dynamic scheduling balances well. */
#define ITEMS_PER_THREAD 8u
/* Work (≈ multiply-adds) each extra thread must have: about 4 ms at one
 * thread. Below that, starting and waking a worker costs more than it saves,
 * and on a loaded machine the pool's final wait for a descheduled worker can
 * cost ten times the whole job (measured: hdr-add2, 2 ms alone, 16 ms on 2
 * threads at load 12 on 2 cores). */
#define WORK_PER_THREAD (32u << 20)
/* Refuse tables whose storage alone exceeds this (1 TiB): certainly a mistake. */
#define TOTAL_BYTES_MAX (1ull << 40)

/* ------------------------------------------------------------ allocation */

splut_status splut__tables_alloc(splut_ctx *ctx, size_t n_layers, splut_tables **out)
{
    *out = NULL;
    splut_tables *t = splut__calloc(ctx, 1, sizeof(*t));
    splut_tlayer *layers = splut__calloc(ctx, n_layers ? n_layers : 1, sizeof(*layers));
    if (!t || !layers) {
        splut__free(ctx, t);
        splut__free(ctx, layers);
        return splut__fail(ctx, SPLUT_E_NOMEM, "out of memory creating tables");
    }
    t->ctx = splut_ctx_ref(ctx);
    t->n_layers = n_layers;
    t->layers = layers;
    *out = t;
    return SPLUT_OK;
}

static void tlayer_sizes(splut_tlayer *TL)
{
    TL->sub_entries = 1ull << ((uint64_t)TL->F * TL->in_bits);
    TL->add_entries =
        TL->kind == SPLUT_NEURON_POLY_ADD ? 1ull << ((uint64_t)TL->A * TL->sub_bits) : 0;
    TL->stride = TL->A * TL->sub_entries + TL->add_entries;
}

splut_status splut__tlayer_alloc(splut_ctx *ctx, splut_tlayer *TL)
{
    tlayer_sizes(TL);
    size_t k = (size_t)TL->A * TL->F;
    TL->conn = splut__calloc(ctx, splut__mul(TL->out, k), sizeof(uint32_t));
    TL->data = splut__alloc(ctx, splut__mul(splut__mul(TL->out, (size_t)TL->stride),
                                            sizeof(uint16_t)));
    if (!TL->conn || !TL->data)
        return splut__fail(ctx, SPLUT_E_NOMEM,
                           "out of memory for %u neurons × %llu table entries", TL->out,
                           (unsigned long long)TL->stride);
    return SPLUT_OK;
}

void splut_tables_destroy(splut_tables *t)
{
    if (!t)
        return;
    splut_ctx *ctx = t->ctx;
    for (size_t l = 0; l < t->n_layers; l++) {
        splut__free(ctx, t->layers[l].conn);
        splut__free(ctx, t->layers[l].data);
    }
    splut__free(ctx, t->layers);
    splut__free(ctx, t);
    splut_ctx_unref(ctx);
}

/* ----------------------------------------------------------- enumeration */

/* Check every layer's table sizes and the total storage; allocates nothing. */
static splut_status check_model_tables(const splut_model *m)
{
    const splut_ctx *ctx = m->ctx;
    uint64_t total = 0;
    for (size_t l = 0; l < m->n_layers; l++) {
        const splut_layer *L = &m->layers[l];
        if (L->kind != SPLUT_NEURON_LINEAR && L->kind != SPLUT_NEURON_POLY &&
            L->kind != SPLUT_NEURON_POLY_ADD && L->kind != SPLUT_NEURON_NEURALUT &&
            L->kind != SPLUT_NEURON_LUT)
            return splut__fail(ctx, SPLUT_E_INVALID,
                               "layer %zu: neuron kind %d cannot be enumerated", l,
                               (int)L->kind);
        bool add = L->kind == SPLUT_NEURON_POLY_ADD;
        splut_status st = splut__check_table_limits(ctx, L->in_bits, L->F, L->A, L->out_bits,
                                                    add);
        if (st != SPLUT_OK)
            return st;
        /* each exponent ≤ 30 (the table limit), A ≤ 16, width < 2^32: no overflow */
        uint64_t per = L->A * (1ull << ((uint64_t)L->F * L->in_bits)) +
                       (add ? 1ull << ((uint64_t)L->A * L->sub_bits) : 0);
        total += per * L->out * sizeof(uint16_t);
        if (total > TOTAL_BYTES_MAX || total > SIZE_MAX / 2)
            return splut__fail(ctx, SPLUT_E_TABLE_TOO_LARGE,
                               "the tables up to layer %zu need more than %llu bytes", l,
                               (unsigned long long)(total > TOTAL_BYTES_MAX ? TOTAL_BYTES_MAX
                                                                            : SIZE_MAX / 2));
    }
    return SPLUT_OK;
}

/* Shape of a tables layer from a model layer (connectivity copied later). */
static void tlayer_from_model(splut_tlayer *TL, const splut_layer *L)
{
    TL->kind = L->kind;
    TL->in = L->in;
    TL->out = L->out;
    TL->F = L->F;
    TL->A = L->A;
    TL->in_bits = L->in_bits;
    TL->out_bits = L->out_bits;
    TL->sub_bits = L->kind == SPLUT_NEURON_POLY_ADD ? L->sub_bits : L->out_bits;
}

/*
 * A pass fills one kind of table of one layer: its sub tables (plain tables
 * for LINEAR/POLY/NEURALUT) or its adder tables. Its `entries` addresses are
 * split in chunks of `chunk`, its neurons in `groups` groups; local item
 * i = (chunk i / groups, group i % groups). Every pass of every layer is
 * independent of the others (an adder table enumerates all sub-code
 * combinations, not the sub tables), so all of them run as one parallel loop
 * with a single synchronisation.
 */
typedef struct enum_pass {
    const splut_eval_ctx *e;
    splut_tlayer *TL;
    bool adder;
    uint64_t entries;
    size_t chunk, n_chunks, groups;
    size_t first_item;        /* global index of the pass's first item */
} enum_pass;

typedef struct enum_job {
    enum_pass *passes;
    size_t n_passes, n_items;
    float *fscratch;          /* per worker: F·chunk values, T·chunk monomials, chunk z */
    size_t f_per_worker;
    uint16_t *uscratch;       /* per worker: A·chunk sub codes (adder passes) */
    size_t u_per_worker;
} enum_job;

static void item_range(const enum_pass *ps, size_t item, uint64_t *addr0, size_t *count,
                       uint32_t *n0, uint32_t *n1)
{
    size_t c = item / ps->groups, g = item % ps->groups;
    *addr0 = (uint64_t)c * ps->chunk;
    uint64_t left = ps->entries - *addr0;
    *count = left < ps->chunk ? (size_t)left : ps->chunk;
    uint64_t out = ps->TL->out;
    *n0 = (uint32_t)(out * g / ps->groups);
    *n1 = (uint32_t)(out * (g + 1) / ps->groups);
}

/* Sub tables of a neuron group on one chunk. Polynomial kinds share the
 * chunk's monomials across the group; NeuraLUT has no shared part and uses
 * `mono` as its hidden-layer scratch. */
static void sub_item(const enum_job *j, const enum_pass *ps, size_t item, unsigned worker)
{
    const splut_eval_ctx *e = ps->e;
    const splut_tlayer *TL = ps->TL;
    float *vals = j->fscratch + worker * j->f_per_worker;
    float *mono = vals + (size_t)TL->F * ps->chunk;
    float *z = mono + (size_t)e->L->T * ps->chunk;
    const float *u[64];
    uint32_t mask = (1u << TL->in_bits) - 1;
    uint64_t addr0;
    size_t count;
    uint32_t n0, n1;
    item_range(ps, item, &addr0, &count, &n0, &n1);
    if (TL->kind == SPLUT_NEURON_LUT) { /* the trained entries, binarised */
        for (uint32_t n = n0; n < n1; n++) {
            const float *w = e->m->params + e->L->w + (size_t)n * e->L->T + addr0;
            uint16_t *dst = TL->data + (size_t)n * TL->stride + addr0;
            for (size_t p = 0; p < count; p++)
                dst[p] = w[p] >= 0.0f;
        }
        return;
    }
    /* input f sits in address field F-1-f counted from the LSBs */
    for (uint32_t f = 0; f < TL->F; f++) {
        uint32_t shift = TL->in_bits * (TL->F - 1 - f);
        float *col = vals + (size_t)f * ps->chunk;
        for (size_t p = 0; p < count; p++)
            col[p] = e->in_vals[((addr0 + p) >> shift) & mask];
        u[f] = col;
    }
    if (TL->kind == SPLUT_NEURON_NEURALUT) {
        for (uint32_t n = n0; n < n1; n++) {
            splut__neuralut_batch(e, n, u, count, mono, z);
            splut__sub_codes(e, n, z, count, TL->data + (size_t)n * TL->stride + addr0);
        }
        return;
    }
    splut__mono_batch(e->L, u, count, mono);
    for (uint32_t n = n0; n < n1; n++) {
        uint16_t *base = TL->data + (size_t)n * TL->stride + addr0;
        for (uint32_t a = 0; a < TL->A; a++) {
            splut__affine_batch(e, n, a, mono, count, z);
            splut__sub_codes(e, n, z, count, base + (size_t)a * TL->sub_entries);
        }
    }
}

/* Adder tables of a neuron group on one chunk of adder addresses. */
static void adder_item(const enum_job *j, const enum_pass *ps, size_t item, unsigned worker)
{
    const splut_tlayer *TL = ps->TL;
    uint16_t *cols = j->uscratch + worker * j->u_per_worker;
    const uint16_t *sub[16];
    uint32_t mask = (1u << TL->sub_bits) - 1;
    uint64_t addr0;
    size_t count;
    uint32_t n0, n1;
    item_range(ps, item, &addr0, &count, &n0, &n1);
    /* sub-neuron a sits in adder field A-1-a counted from the LSBs */
    for (uint32_t a = 0; a < TL->A; a++) {
        uint32_t shift = TL->sub_bits * (TL->A - 1 - a);
        uint16_t *col = cols + (size_t)a * ps->chunk;
        for (size_t p = 0; p < count; p++)
            col[p] = (uint16_t)(((addr0 + p) >> shift) & mask);
        sub[a] = col;
    }
    for (uint32_t n = n0; n < n1; n++) {
        uint16_t *dst =
            TL->data + (size_t)n * TL->stride + (size_t)TL->A * TL->sub_entries + addr0;
        splut__adder_batch(ps->e, n, sub, count, dst);
    }
}

static void enum_task(void *arg, size_t begin, size_t end, unsigned worker)
{
    const enum_job *j = arg;
    size_t p = 0;
    for (size_t item = begin; item < end; item++) {
        while (item >= j->passes[p].first_item + j->passes[p].n_chunks * j->passes[p].groups)
            p++;
        const enum_pass *ps = &j->passes[p];
        if (ps->adder)
            adder_item(j, ps, item - ps->first_item, worker);
        else
            sub_item(j, ps, item - ps->first_item, worker);
    }
}

/* Chunk length: a power of two ≤ CHUNK_MAX keeping T·chunk monomials small
 * (NeuraLUT: T = 2NF + 2N² + 5N ≥ the 3N rows of hidden scratch it needs). */
static size_t chunk_for(uint32_t T, uint64_t entries)
{
    size_t c = CHUNK_MAX;
    while (c > 16 && (size_t)T * c > MONO_SCRATCH_FLOATS)
        c /= 2;
    return entries < c ? (size_t)entries : c;
}

/* Split a pass into items: enough neuron groups per chunk that every thread
 * gets several items. */
static void plan_pass(enum_pass *ps, uint64_t entries, size_t chunk, unsigned threads)
{
    ps->entries = entries;
    ps->chunk = chunk;
    ps->n_chunks = (size_t)((entries + chunk - 1) / chunk);
    size_t want = (size_t)threads * ITEMS_PER_THREAD;
    size_t groups = (want + ps->n_chunks - 1) / ps->n_chunks;
    ps->groups = groups < 1 ? 1 : groups > ps->TL->out ? ps->TL->out : groups;
}

/* Passes of every layer, in layer order; returns the number of passes. */
static size_t plan_passes(const splut_model *m, splut_tables *t, const splut_eval_ctx *ectx,
                          unsigned threads, enum_pass *passes)
{
    size_t np = 0, items = 0;
    for (size_t l = 0; l < m->n_layers; l++) {
        splut_tlayer *TL = &t->layers[l];
        for (int adder = 0; adder <= (TL->kind == SPLUT_NEURON_POLY_ADD); adder++) {
            enum_pass *ps = &passes[np++];
            ps->e = &ectx[l];
            ps->TL = TL;
            ps->adder = adder;
            if (adder)
                plan_pass(ps, TL->add_entries,
                          TL->add_entries < CHUNK_MAX ? (size_t)TL->add_entries : CHUNK_MAX,
                          threads);
            else
                plan_pass(ps, TL->sub_entries, chunk_for(m->layers[l].T, TL->sub_entries),
                          threads);
            ps->first_item = items;
            items += ps->n_chunks * ps->groups;
        }
    }
    return np;
}

/* Scratch for the largest layer, one slice per worker. */
static splut_status scratch_alloc(const splut_model *m, unsigned workers, enum_job *j)
{
    size_t fmax = 1, umax = 1;
    for (size_t l = 0; l < m->n_layers; l++) {
        const splut_layer *L = &m->layers[l];
        size_t c = chunk_for(L->T, 1ull << ((uint64_t)L->F * L->in_bits));
        size_t f = ((size_t)L->F + L->T + 1) * c;
        if (f > fmax)
            fmax = f;
        if ((size_t)L->A * CHUNK_MAX > umax)
            umax = (size_t)L->A * CHUNK_MAX;
    }
    /* keep worker slices on separate cache lines */
    j->f_per_worker = (fmax + 15) & ~(size_t)15;
    j->u_per_worker = (umax + 31) & ~(size_t)31;
    j->fscratch = splut__alloc(
        m->ctx, splut__mul(splut__mul(workers, j->f_per_worker), sizeof(float)));
    j->uscratch = splut__alloc(
        m->ctx, splut__mul(splut__mul(workers, j->u_per_worker), sizeof(uint16_t)));
    if (!j->fscratch || !j->uscratch)
        return splut__fail(m->ctx, SPLUT_E_NOMEM, "out of memory for enumeration scratch");
    return SPLUT_OK;
}

/* At most one thread per WORK_PER_THREAD of work, so that tiny models are not
 * slowed down by thread start-up (the result does not depend on it). */
static unsigned useful_threads(const splut_tables *t, const splut_model *m, unsigned threads)
{
    uint64_t work = 0;
    for (size_t l = 0; l < t->n_layers; l++) {
        const splut_tlayer *TL = &t->layers[l];
        work += (uint64_t)TL->out * (TL->A * TL->sub_entries * (m->layers[l].T + 16) +
                                     TL->add_entries * (TL->A + 16));
    }
    uint64_t useful = 1 + work / WORK_PER_THREAD;
    return useful < threads ? (unsigned)useful : threads;
}

/* Fill every table of t from m on up to `threads` threads. */
static splut_status enumerate(const splut_model *m, splut_tables *t, unsigned threads)
{
    splut_ctx *ctx = m->ctx;
    enum_job j;
    memset(&j, 0, sizeof(j));
    splut_eval_ctx *ectx = splut__calloc(ctx, m->n_layers, sizeof(splut_eval_ctx));
    j.passes = splut__calloc(ctx, 2 * m->n_layers, sizeof(enum_pass));
    splut_pool *pool = NULL;
    splut_status st = SPLUT_OK;
    threads = useful_threads(t, m, threads);
    if (!ectx || !j.passes)
        st = splut__fail(ctx, SPLUT_E_NOMEM, "out of memory planning the enumeration");
    if (st == SPLUT_OK)
        st = scratch_alloc(m, threads, &j);
    if (st == SPLUT_OK)
        st = splut__pool_create(ctx, threads, &pool);
    if (st == SPLUT_OK) {
        for (size_t l = 0; l < m->n_layers; l++)
            splut__eval_ctx_init(&ectx[l], m, l);
        j.n_passes = plan_passes(m, t, ectx, threads, j.passes);
        const enum_pass *last = &j.passes[j.n_passes - 1];
        j.n_items = last->first_item + last->n_chunks * last->groups;
        splut__pool_run(pool, j.n_items, 1, enum_task, &j);
    }
    splut__pool_destroy(pool);
    splut__free(ctx, j.fscratch);
    splut__free(ctx, j.uscratch);
    splut__free(ctx, j.passes);
    splut__free(ctx, ectx);
    return st;
}

splut_status splut_tables_create(const splut_model *m, splut_tables **out)
{
    if (!m || !out)
        return m ? splut__fail(m->ctx, SPLUT_E_NULL, "splut_tables_create: out is NULL")
                 : SPLUT_E_NULL;
    *out = NULL;
    splut_ctx *ctx = m->ctx;
    if (!m->built)
        return splut__fail(ctx, SPLUT_E_STATE, "tables need a built model");
    splut_status st = check_model_tables(m);
    if (st != SPLUT_OK)
        return st;
    splut_tables *t;
    st = splut__tables_alloc(ctx, m->n_layers, &t);
    if (st != SPLUT_OK)
        return st;
    t->n_inputs = m->n_inputs;
    t->input_bits = m->input_bits;
    t->thermo_levels =
        m->input_mode == SPLUT_INPUT_THERMOMETER ? splut__thermo_levels(m) : 0;
    t->groups = splut__groupsum_classes(m);
    for (size_t l = 0; l < m->n_layers && st == SPLUT_OK; l++) {
        splut_tlayer *TL = &t->layers[l];
        tlayer_from_model(TL, &m->layers[l]);
        st = splut__tlayer_alloc(ctx, TL);
        if (st == SPLUT_OK)
            memcpy(TL->conn, m->layers[l].conn,
                   (size_t)TL->out * TL->A * TL->F * sizeof(uint32_t));
    }
    if (st == SPLUT_OK)
        st = enumerate(m, t, splut__threads(ctx));
    if (st != SPLUT_OK) {
        splut_tables_destroy(t);
        return st;
    }
    *out = t;
    return SPLUT_OK;
}

/* --------------------------------------------------------------- queries */

size_t splut_tables_num_layers(const splut_tables *t)
{
    return t ? t->n_layers : 0;
}

static splut_status check_layer(const splut_tables *t, size_t layer)
{
    if (layer >= t->n_layers)
        return splut__fail(t->ctx, SPLUT_E_INDEX, "layer %zu of %zu", layer, t->n_layers);
    return SPLUT_OK;
}

/* Validate (layer, neuron, table) and return the layer. */
static splut_status check_table(const splut_tables *t, size_t layer, uint32_t neuron,
                                uint32_t table, const splut_tlayer **TLp)
{
    splut_status st = check_layer(t, layer);
    if (st != SPLUT_OK)
        return st;
    const splut_tlayer *TL = &t->layers[layer];
    if (neuron >= TL->out)
        return splut__fail(t->ctx, SPLUT_E_INDEX, "neuron %u of %u in layer %zu", neuron,
                           TL->out, layer);
    bool adder_ok = TL->kind == SPLUT_NEURON_POLY_ADD && table == SPLUT_TABLE_ADDER;
    if (table >= TL->A && !adder_ok)
        return splut__fail(t->ctx, SPLUT_E_INDEX,
                           "layer %zu has no table %u (%u sub-neuron tables%s)", layer, table,
                           TL->A, TL->kind == SPLUT_NEURON_POLY_ADD ? " and an adder" : "");
    *TLp = TL;
    return SPLUT_OK;
}

splut_status splut_tables_layer(const splut_tables *t, size_t layer, uint32_t *neurons,
                                uint32_t *sub_neurons, uint32_t *in_width)
{
    if (!t)
        return SPLUT_E_NULL;
    splut_status st = check_layer(t, layer);
    if (st != SPLUT_OK)
        return st;
    const splut_tlayer *TL = &t->layers[layer];
    if (neurons)
        *neurons = TL->out;
    if (sub_neurons)
        *sub_neurons = TL->kind == SPLUT_NEURON_POLY_ADD ? TL->A : 0;
    if (in_width)
        *in_width = TL->in;
    return SPLUT_OK;
}

/* sizeof(splut_table_info) at each release that changed it (0.1). */
static const size_t TABLE_INFO_SIZES[] = {sizeof(splut_table_info)};
#define N_TABLE_INFO_SIZES (sizeof(TABLE_INFO_SIZES) / sizeof(TABLE_INFO_SIZES[0]))

splut_status splut_tables_info(const splut_tables *t, size_t layer, uint32_t neuron,
                               uint32_t table, splut_table_info *info)
{
    if (!t || !info)
        return t ? splut__fail(t->ctx, SPLUT_E_NULL, "splut_tables_info: info is NULL")
                 : SPLUT_E_NULL;
    splut_status st = splut__struct_check(t->ctx, "splut_table_info", info, info->size,
                                          TABLE_INFO_SIZES, N_TABLE_INFO_SIZES);
    if (st != SPLUT_OK)
        return st;
    const splut_tlayer *TL = NULL;
    st = check_table(t, layer, neuron, table, &TL);
    if (st != SPLUT_OK)
        return st;
    bool adder = table == SPLUT_TABLE_ADDER;
    info->in_fields = adder ? TL->A : TL->F;
    info->in_bits = adder ? TL->sub_bits : TL->in_bits;
    info->out_bits = adder ? TL->out_bits : TL->sub_bits;
    info->reserved = 0;
    info->entries = adder ? TL->add_entries : TL->sub_entries;
    return SPLUT_OK;
}

splut_status splut_tables_data(const splut_tables *t, size_t layer, uint32_t neuron,
                               uint32_t table, const uint16_t **entries)
{
    if (!t || !entries)
        return t ? splut__fail(t->ctx, SPLUT_E_NULL, "splut_tables_data: entries is NULL")
                 : SPLUT_E_NULL;
    const splut_tlayer *TL = NULL;
    splut_status st = check_table(t, layer, neuron, table, &TL);
    if (st != SPLUT_OK)
        return st;
    size_t off = table == SPLUT_TABLE_ADDER ? (size_t)TL->A * TL->sub_entries
                                            : (size_t)table * TL->sub_entries;
    *entries = TL->data + (size_t)neuron * TL->stride + off;
    return SPLUT_OK;
}

splut_status splut_tables_inputs(const splut_tables *t, size_t layer, uint32_t neuron,
                                 const uint32_t **idx, size_t *n)
{
    if (!t || !idx || !n)
        return t ? splut__fail(t->ctx, SPLUT_E_NULL, "splut_tables_inputs: NULL output")
                 : SPLUT_E_NULL;
    const splut_tlayer *TL = NULL;
    splut_status st = check_table(t, layer, neuron, 0, &TL);
    if (st != SPLUT_OK)
        return st;
    *n = (size_t)TL->A * TL->F;
    *idx = TL->conn + (size_t)neuron * *n;
    return SPLUT_OK;
}

splut_status splut_tables_totals(const splut_tables *t, uint64_t *entries, uint64_t *bits)
{
    if (!t)
        return SPLUT_E_NULL;
    uint64_t e = 0, b = 0;
    for (size_t l = 0; l < t->n_layers; l++) {
        const splut_tlayer *TL = &t->layers[l];
        e += TL->out * TL->stride;
        b += TL->out * (TL->A * TL->sub_entries * TL->sub_bits + TL->add_entries * TL->out_bits);
    }
    if (entries)
        *entries = e;
    if (bits)
        *bits = b;
    return SPLUT_OK;
}

splut_status splut_tables_io(const splut_tables *t, uint32_t *inputs, uint32_t *input_bits,
                             uint32_t *outputs, uint32_t *output_bits)
{
    if (!t)
        return SPLUT_E_NULL;
    const splut_tlayer *last = t->n_layers ? &t->layers[t->n_layers - 1] : NULL;
    if (inputs)
        *inputs = t->n_inputs;
    if (input_bits)
        *input_bits = t->input_bits;
    if (outputs)
        *outputs = last ? last->out : 0;
    if (output_bits)
        *output_bits = last ? last->out_bits : 0;
    return SPLUT_OK;
}

uint32_t splut_tables_thermometer_levels(const splut_tables *t)
{
    return t ? t->thermo_levels : 0;
}

uint32_t splut_tables_num_classes(const splut_tables *t)
{
    return t ? t->groups : 0;
}

/* -------------------------------------------------------- LUT-mode inference */

/* Samples go through the network in blocks, codes stored feature-major
 * (codes[x·LUT_BLOCK + p]) and each neuron handles the whole block at once, so
 * its tables are fetched into cache once per block rather than per sample. */
#define LUT_BLOCK 64u

typedef struct lut_job {
    const splut_tables *t;
    const uint16_t *in;
    uint16_t *out;
    size_t n;
    uint16_t *scratch;        /* per worker: 2 × width_max × LUT_BLOCK codes */
    size_t width_max;
} lut_job;

/* Output codes of neuron n on `count` samples of the previous layer's codes. */
static void lookup_block(const splut_tlayer *TL, uint32_t n, const uint16_t *cur,
                         size_t count, uint16_t *dst)
{
    const uint32_t *idx = TL->conn + (size_t)n * TL->A * TL->F;
    const uint16_t *tab = TL->data + (size_t)n * TL->stride;
    uint32_t addr[LUT_BLOCK], add_addr[LUT_BLOCK];
    for (size_t p = 0; p < count; p++)
        add_addr[p] = 0;
    for (uint32_t a = 0; a < TL->A; a++) {
        for (size_t p = 0; p < count; p++)
            addr[p] = 0;
        for (uint32_t f = 0; f < TL->F; f++) {
            const uint16_t *col = cur + (size_t)idx[a * TL->F + f] * LUT_BLOCK;
            for (size_t p = 0; p < count; p++)
                addr[p] = (addr[p] << TL->in_bits) | col[p];
        }
        const uint16_t *sub = tab + a * TL->sub_entries;
        if (TL->kind != SPLUT_NEURON_POLY_ADD) {
            for (size_t p = 0; p < count; p++)
                dst[p] = sub[addr[p]];
            return;
        }
        for (size_t p = 0; p < count; p++)
            add_addr[p] = (add_addr[p] << TL->sub_bits) | sub[addr[p]];
    }
    const uint16_t *adder = tab + TL->A * TL->sub_entries;
    for (size_t p = 0; p < count; p++)
        dst[p] = adder[add_addr[p]];
}

static void lut_task(void *arg, size_t begin, size_t end, unsigned worker)
{
    const lut_job *j = arg;
    const splut_tables *t = j->t;
    uint16_t *cur = j->scratch + (size_t)worker * 2 * j->width_max * LUT_BLOCK;
    uint16_t *nxt = cur + j->width_max * LUT_BLOCK;
    uint32_t ins = t->n_inputs, outs = t->layers[t->n_layers - 1].out;
    for (size_t blk = begin; blk < end; blk++) {
        size_t first = blk * LUT_BLOCK;
        size_t count = j->n - first < LUT_BLOCK ? j->n - first : LUT_BLOCK;
        for (size_t p = 0; p < count; p++)
            for (uint32_t x = 0; x < ins; x++)
                cur[(size_t)x * LUT_BLOCK + p] = j->in[(first + p) * ins + x];
        if (t->thermo_levels) { /* thermometer bits: code of feature x exceeds level */
            uint32_t T = t->thermo_levels;
            for (uint32_t x = 0; x < ins; x++)
                for (uint32_t lv = 0; lv < T; lv++)
                    for (size_t p = 0; p < count; p++)
                        nxt[((size_t)x * T + lv) * LUT_BLOCK + p] =
                            cur[(size_t)x * LUT_BLOCK + p] > lv;
            uint16_t *tmp = cur;
            cur = nxt;
            nxt = tmp;
        }
        for (size_t l = 0; l < t->n_layers; l++) {
            const splut_tlayer *TL = &t->layers[l];
            for (uint32_t n = 0; n < TL->out; n++)
                lookup_block(TL, n, cur, count, nxt + (size_t)n * LUT_BLOCK);
            uint16_t *tmp = cur;
            cur = nxt;
            nxt = tmp;
        }
        for (size_t p = 0; p < count; p++)
            for (uint32_t o = 0; o < outs; o++)
                j->out[(first + p) * outs + o] = cur[(size_t)o * LUT_BLOCK + p];
    }
}

splut_status splut_tables_forward(const splut_tables *t, const uint16_t *in_codes, size_t n,
                                  uint16_t *out_codes)
{
    if (!t || (n && (!in_codes || !out_codes)))
        return t ? splut__fail(t->ctx, SPLUT_E_NULL, "splut_tables_forward: NULL buffer")
                 : SPLUT_E_NULL;
    if (n == 0 || t->n_layers == 0)
        return SPLUT_OK;
    uint32_t lim = 1u << t->input_bits;
    for (size_t i = 0; i < n * t->n_inputs; i++)
        if (in_codes[i] >= lim)
            return splut__fail(t->ctx, SPLUT_E_OUT_OF_RANGE,
                               "input code %u of sample %zu, feature %zu is not below 2^%u",
                               in_codes[i], i / t->n_inputs, i % t->n_inputs, t->input_bits);
    lut_job j = {t, in_codes, out_codes, n, NULL, t->n_inputs};
    if (t->thermo_levels)
        j.width_max = (size_t)t->n_inputs * t->thermo_levels;
    for (size_t l = 0; l < t->n_layers; l++)
        if (t->layers[l].out > j.width_max)
            j.width_max = t->layers[l].out;
    unsigned threads = splut__threads(t->ctx);
    /* one thread per block of samples at most, and per ~WORK_PER_THREAD/8
     * table reads (a read costs several multiply-adds' worth of time) */
    uint64_t reads = 0;
    for (size_t l = 0; l < t->n_layers; l++)
        reads += (uint64_t)t->layers[l].out * (t->layers[l].A * (t->layers[l].F + 1) + 1);
    uint64_t useful = 1 + reads * n / (WORK_PER_THREAD / 8);
    size_t blocks = (n + LUT_BLOCK - 1) / LUT_BLOCK;
    if (useful < threads)
        threads = (unsigned)useful;
    if ((size_t)threads > blocks)
        threads = (unsigned)blocks;
    j.scratch = splut__alloc(t->ctx, splut__mul(splut__mul(threads, 2 * j.width_max),
                                                LUT_BLOCK * sizeof(uint16_t)));
    if (!j.scratch)
        return splut__fail(t->ctx, SPLUT_E_NOMEM, "out of memory for LUT inference buffers");
    splut_pool *pool = NULL;
    splut_status st = splut__pool_create(t->ctx, threads, &pool);
    if (st == SPLUT_OK)
        splut__pool_run(pool, blocks, 1, lut_task, &j);
    splut__pool_destroy(pool);
    splut__free(t->ctx, j.scratch);
    return st;
}

/* Popcount of each group and the class with the largest one, ties to the
 * lowest class: the rule of splut_model_classify_codes() for GroupSum. */
static int32_t groupsum_class(const uint16_t *bits, uint32_t classes, uint32_t per,
                              uint16_t *counts)
{
    uint32_t best_count = 0;
    int32_t best = 0;
    for (uint32_t c = 0; c < classes; c++) {
        uint32_t k = 0;
        for (uint32_t i = 0; i < per; i++)
            k += bits[(size_t)c * per + i] != 0;
        if (counts)
            counts[c] = (uint16_t)k;
        if (c == 0 || k > best_count) {
            best_count = k;
            best = (int32_t)c;
        }
    }
    return best;
}

splut_status splut_tables_classify(const splut_tables *t, const uint16_t *in_codes, size_t n,
                                   int32_t *pred, uint16_t *counts)
{
    if (!t || (n && (!in_codes || (!pred && !counts))))
        return t ? splut__fail(t->ctx, SPLUT_E_NULL, "splut_tables_classify: NULL buffer")
                 : SPLUT_E_NULL;
    if (!t->groups)
        return splut__fail(t->ctx, SPLUT_E_INVALID,
                           "splut_tables_classify: the tables have no GroupSum head");
    if (n == 0)
        return SPLUT_OK;
    const splut_tlayer *last = &t->layers[t->n_layers - 1];
    uint32_t per = last->out / t->groups;
    if (per > UINT16_MAX)
        return splut__fail(t->ctx, SPLUT_E_OUT_OF_RANGE,
                           "GroupSum groups of %u nodes: counts above 65535", per);
    uint16_t *out = splut__alloc(t->ctx, splut__mul(n, (size_t)last->out * sizeof(uint16_t)));
    if (!out)
        return splut__fail(t->ctx, SPLUT_E_NOMEM, "out of memory classifying %zu samples", n);
    splut_status st = splut_tables_forward(t, in_codes, n, out);
    for (size_t i = 0; st == SPLUT_OK && i < n; i++) {
        int32_t c = groupsum_class(out + i * last->out, t->groups, per,
                                   counts ? counts + i * t->groups : NULL);
        if (pred)
            pred[i] = c;
    }
    splut__free(t->ctx, out);
    return st;
}

/* -------------------------------------------------------------- iterator */

struct splut_tt_iter {
    splut_ctx *ctx;
    const uint16_t *data;
    uint64_t entries, next;
    uint32_t fields, bits;
};

splut_status splut_tt_iter_create(const splut_tables *t, size_t layer, uint32_t neuron,
                                  uint32_t table, splut_tt_iter **out)
{
    if (!t || !out)
        return t ? splut__fail(t->ctx, SPLUT_E_NULL, "splut_tt_iter_create: out is NULL")
                 : SPLUT_E_NULL;
    *out = NULL;
    splut_table_info info = SPLUT_TABLE_INFO_INIT;
    const uint16_t *data;
    splut_status st = splut_tables_info(t, layer, neuron, table, &info);
    if (st == SPLUT_OK)
        st = splut_tables_data(t, layer, neuron, table, &data);
    if (st != SPLUT_OK)
        return st;
    splut_tt_iter *it = splut__calloc(t->ctx, 1, sizeof(*it));
    if (!it)
        return splut__fail(t->ctx, SPLUT_E_NOMEM, "out of memory creating a table iterator");
    it->ctx = t->ctx;
    it->data = data;
    it->entries = info.entries;
    it->fields = info.in_fields;
    it->bits = info.in_bits;
    *out = it;
    return SPLUT_OK;
}

splut_status splut_tt_iter_next(splut_tt_iter *it, int *has_row, uint64_t *address,
                                uint16_t *inputs, size_t cap, uint16_t *output)
{
    if (!it || !has_row)
        return it ? splut__fail(it->ctx, SPLUT_E_NULL, "splut_tt_iter_next: has_row is NULL")
                  : SPLUT_E_NULL;
    *has_row = 0;
    if (inputs && cap < it->fields)
        return splut__fail(it->ctx, SPLUT_E_BUFFER_TOO_SMALL,
                           "the rows have %u input codes, the buffer holds %zu", it->fields,
                           cap);
    if (it->next >= it->entries)
        return SPLUT_OK;
    uint64_t a = it->next++;
    uint32_t mask = (1u << it->bits) - 1;
    if (inputs)
        for (uint32_t f = 0; f < it->fields; f++)
            inputs[f] = (uint16_t)((a >> (it->bits * (it->fields - 1 - f))) & mask);
    if (address)
        *address = a;
    if (output)
        *output = it->data[a];
    *has_row = 1;
    return SPLUT_OK;
}

void splut_tt_iter_destroy(splut_tt_iter *it)
{
    if (it)
        splut__free(it->ctx, it);
}

/* ----------------------------------------------------------- binary files */

static const char TABLES_MAGIC[8] = {'S', 'P', 'L', 'U', 'T', 'T', 'B', 'L'};
/* Version 1: no input encoding or output head. Version 2 adds the thermometer
 * levels and the GroupSum classes after the layer count; it is written only
 * when one of them is set, so the tables of other models stay readable by
 * older releases. */
#define TABLES_VERSION 1u
#define TABLES_VERSION_DWN 2u
#define LAYER_WORDS 8u

/* Little-endian writer that keeps the running CRC of what it wrote. */
typedef struct le_writer {
    splut_afile af;
    uint32_t crc;
    uint8_t buf[4096];
    size_t used;
} le_writer;

static void le_flush(le_writer *w)
{
    w->crc = splut__crc32(w->crc, w->buf, w->used);
    splut__afile_write(&w->af, w->buf, w->used);
    w->used = 0;
}

static void le_bytes(le_writer *w, const void *p, size_t n)
{
    const uint8_t *b = p;
    for (size_t i = 0; i < n; i++) {
        if (w->used == sizeof(w->buf))
            le_flush(w);
        w->buf[w->used++] = b[i];
    }
}

static void le_u32(le_writer *w, uint32_t v)
{
    uint8_t b[4] = {(uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16), (uint8_t)(v >> 24)};
    le_bytes(w, b, 4);
}

static void le_u16s(le_writer *w, const uint16_t *v, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        uint8_t b[2] = {(uint8_t)v[i], (uint8_t)(v[i] >> 8)};
        le_bytes(w, b, 2);
    }
}

static void write_layer_header(le_writer *w, const splut_tlayer *TL)
{
    uint32_t words[LAYER_WORDS] = {(uint32_t)TL->kind, TL->in,       TL->out,      TL->F,
                                   TL->A,              TL->in_bits,  TL->sub_bits, TL->out_bits};
    for (uint32_t i = 0; i < LAYER_WORDS; i++)
        le_u32(w, words[i]);
}

splut_status splut_tables_save(const splut_tables *t, const char *path)
{
    if (!t || !path)
        return t ? splut__fail(t->ctx, SPLUT_E_NULL, "splut_tables_save: path is NULL")
                 : SPLUT_E_NULL;
    le_writer *w = splut__calloc(t->ctx, 1, sizeof(*w));
    if (!w)
        return splut__fail(t->ctx, SPLUT_E_NOMEM, "out of memory saving tables");
    splut_status st = splut__afile_open(t->ctx, path, &w->af);
    if (st != SPLUT_OK) {
        splut__free(t->ctx, w);
        return st;
    }
    le_bytes(w, TABLES_MAGIC, sizeof(TABLES_MAGIC));
    bool dwn = t->thermo_levels || t->groups;
    le_u32(w, dwn ? TABLES_VERSION_DWN : TABLES_VERSION);
    le_u32(w, t->n_inputs);
    le_u32(w, t->input_bits);
    le_u32(w, (uint32_t)t->n_layers);
    if (dwn) {
        le_u32(w, t->thermo_levels);
        le_u32(w, t->groups);
    }
    for (size_t l = 0; l < t->n_layers; l++)
        write_layer_header(w, &t->layers[l]);
    for (size_t l = 0; l < t->n_layers; l++) {
        const splut_tlayer *TL = &t->layers[l];
        size_t k = (size_t)TL->out * TL->A * TL->F;
        for (size_t i = 0; i < k; i++)
            le_u32(w, TL->conn[i]);
        le_u16s(w, TL->data, (size_t)TL->out * TL->stride);
    }
    le_flush(w);
    uint32_t crc = w->crc;
    uint8_t b[4] = {(uint8_t)crc, (uint8_t)(crc >> 8), (uint8_t)(crc >> 16), (uint8_t)(crc >> 24)};
    splut__afile_write(&w->af, b, 4);
    st = splut__afile_commit(&w->af);
    splut__free(t->ctx, w);
    return st;
}

/* Bounds-checked little-endian reader over a loaded file. */
typedef struct le_reader {
    const uint8_t *p;
    size_t left;
} le_reader;

static bool rd_u32(le_reader *r, uint32_t *v)
{
    if (r->left < 4)
        return false;
    *v = (uint32_t)r->p[0] | (uint32_t)r->p[1] << 8 | (uint32_t)r->p[2] << 16 |
         (uint32_t)r->p[3] << 24;
    r->p += 4;
    r->left -= 4;
    return true;
}

/* Validate one layer header against its predecessor and the table limit. */
static splut_status check_loaded_layer(splut_ctx *ctx, const char *path, size_t l,
                                       const splut_tlayer *TL, uint32_t prev_width,
                                       uint32_t prev_bits)
{
    bool add = TL->kind == SPLUT_NEURON_POLY_ADD;
    if (TL->kind != SPLUT_NEURON_LINEAR && TL->kind != SPLUT_NEURON_POLY &&
        TL->kind != SPLUT_NEURON_NEURALUT && TL->kind != SPLUT_NEURON_LUT && !add)
        return splut__fail(ctx, SPLUT_E_FORMAT, "%s: layer %zu has unknown kind %d", path, l,
                           (int)TL->kind);
    if (TL->in != prev_width || TL->in_bits != prev_bits)
        return splut__fail(ctx, SPLUT_E_FORMAT,
                           "%s: layer %zu reads %u codes of %u bits, the previous stage gives "
                           "%u of %u bits",
                           path, l, TL->in, TL->in_bits, prev_width, prev_bits);
    if (TL->out == 0 || TL->F == 0 || TL->out_bits < 1 || TL->out_bits > SPLUT_MAX_BITS ||
        TL->A < 1 || TL->A > 16 || (!add && TL->A != 1) ||
        TL->sub_bits != TL->out_bits + (add ? 1u : 0u) || (uint64_t)TL->A * TL->F > TL->in)
        return splut__fail(ctx, SPLUT_E_FORMAT,
                           "%s: layer %zu has an inconsistent shape (width %u, F %u, A %u, "
                           "bits %u/%u)",
                           path, l, TL->out, TL->F, TL->A, TL->sub_bits, TL->out_bits);
    return splut__check_table_limits(ctx, TL->in_bits, TL->F, TL->A, TL->out_bits, add);
}

/* The GroupSum head and thermometer inputs exist only on LUT-node layers
 * (lib/lutnode.c): the head splits 1-bit outputs into equal groups. */
static splut_status check_loaded_head(splut_ctx *ctx, const char *path, const splut_tables *t)
{
    bool lut = true;
    for (size_t l = 0; l < t->n_layers; l++)
        lut &= t->layers[l].kind == SPLUT_NEURON_LUT;
    const splut_tlayer *last = &t->layers[t->n_layers - 1];
    if ((t->thermo_levels || t->groups) && !lut)
        return splut__fail(ctx, SPLUT_E_FORMAT,
                           "%s: thermometer inputs or a GroupSum head on non-LUT layers", path);
    if (t->groups && (last->out_bits != 1 || last->out % t->groups))
        return splut__fail(ctx, SPLUT_E_FORMAT,
                           "%s: %u GroupSum classes do not split %u outputs into equal groups",
                           path, t->groups, last->out);
    return SPLUT_OK;
}

/* Header and shapes; fills the layers' shapes and the payload size. */
static splut_status parse_tables_header(splut_ctx *ctx, const char *path, le_reader *r,
                                        splut_tables **out, uint64_t *payload)
{
    uint32_t version, n_inputs, input_bits, n_layers, thermo = 0, groups = 0;
    rd_u32(r, &version);
    if (version != TABLES_VERSION && version != TABLES_VERSION_DWN)
        return splut__fail(ctx, SPLUT_E_VERSION, "%s: tables format version %u, expected %u or %u",
                           path, version, TABLES_VERSION, TABLES_VERSION_DWN);
    if (!rd_u32(r, &n_inputs) || !rd_u32(r, &input_bits) || !rd_u32(r, &n_layers) ||
        n_inputs == 0 || input_bits < 1 || input_bits > SPLUT_MAX_BITS || n_layers == 0 ||
        (version == TABLES_VERSION_DWN && (!rd_u32(r, &thermo) || !rd_u32(r, &groups))) ||
        (uint64_t)n_layers * LAYER_WORDS * 4 > r->left)
        return splut__fail(ctx, SPLUT_E_FORMAT, "%s: bad header (inputs, bits or layers)",
                           path);
    if (thermo && (thermo != (1u << input_bits) - 1 || (uint64_t)n_inputs * thermo > UINT32_MAX))
        return splut__fail(ctx, SPLUT_E_FORMAT,
                           "%s: %u thermometer levels for %u-bit input codes (expected %u)",
                           path, thermo, input_bits, (1u << input_bits) - 1);
    splut_status st = splut__tables_alloc(ctx, n_layers, out);
    if (st != SPLUT_OK)
        return st;
    splut_tables *t = *out;
    t->n_inputs = n_inputs;
    t->input_bits = input_bits;
    t->thermo_levels = thermo;
    t->groups = groups;
    /* layer 0 of a thermometer model reads the T binary levels of each feature */
    uint32_t width = thermo ? n_inputs * thermo : n_inputs, bits = thermo ? 1 : input_bits;
    *payload = 0;
    for (size_t l = 0; l < n_layers && st == SPLUT_OK; l++) {
        splut_tlayer *TL = &t->layers[l];
        uint32_t w[LAYER_WORDS] = {0};
        for (uint32_t i = 0; i < LAYER_WORDS; i++)
            rd_u32(r, &w[i]);
        TL->kind = (splut_neuron_kind)w[0];
        TL->in = w[1];
        TL->out = w[2];
        TL->F = w[3];
        TL->A = w[4];
        TL->in_bits = w[5];
        TL->sub_bits = w[6];
        TL->out_bits = w[7];
        st = check_loaded_layer(ctx, path, l, TL, width, bits);
        if (st != SPLUT_OK)
            break;
        tlayer_sizes(TL);
        *payload += (uint64_t)TL->out * TL->A * TL->F * 4 + (uint64_t)TL->out * TL->stride * 2;
        width = TL->out;
        bits = TL->out_bits;
    }
    if (st == SPLUT_OK)
        st = check_loaded_head(ctx, path, t);
    return st;
}

/* Connectivity and entries of one layer, each validated. */
static splut_status read_layer_payload(splut_ctx *ctx, const char *path, size_t l,
                                       le_reader *r, splut_tlayer *TL)
{
    size_t k = (size_t)TL->A * TL->F;
    for (size_t n = 0; n < TL->out; n++)
        for (size_t i = 0; i < k; i++) {
            uint32_t *v = &TL->conn[n * k + i];
            rd_u32(r, v);
            if (*v >= TL->in || (i && *v <= v[-1]))
                return splut__fail(ctx, SPLUT_E_FORMAT,
                                   "%s: layer %zu neuron %zu: input list not sorted, distinct "
                                   "and below %u",
                                   path, l, n, TL->in);
        }
    for (size_t n = 0; n < TL->out; n++)
        for (uint64_t e = 0; e < TL->stride; e++) {
            uint16_t v = (uint16_t)(r->p[0] | r->p[1] << 8);
            r->p += 2;
            r->left -= 2;
            uint32_t bits = e < TL->A * TL->sub_entries ? TL->sub_bits : TL->out_bits;
            TL->data[n * TL->stride + e] = v;
            if (v >> bits)
                return splut__fail(ctx, SPLUT_E_FORMAT,
                                   "%s: layer %zu neuron %zu entry %llu = %u has more than %u "
                                   "bits",
                                   path, l, n, (unsigned long long)e, v, bits);
        }
    return SPLUT_OK;
}

static splut_status parse_tables(splut_ctx *ctx, const char *path, const uint8_t *buf,
                                 size_t len, splut_tables **out)
{
    size_t min = sizeof(TABLES_MAGIC) + 4 * 4 + 4; /* version 1; version 2 is longer */
    if (len < min || memcmp(buf, TABLES_MAGIC, sizeof(TABLES_MAGIC)) != 0)
        return splut__fail(ctx, SPLUT_E_FORMAT, "%s is not a libsparselut tables file", path);
    le_reader r = {buf + sizeof(TABLES_MAGIC), len - sizeof(TABLES_MAGIC) - 4};
    uint32_t version = (uint32_t)r.p[0] | (uint32_t)r.p[1] << 8 | (uint32_t)r.p[2] << 16 |
                       (uint32_t)r.p[3] << 24;
    le_reader tail = {buf + len - 4, 4};
    uint32_t stored;
    rd_u32(&tail, &stored);
    if ((version == TABLES_VERSION || version == TABLES_VERSION_DWN) &&
        splut__crc32(0, buf, len - 4) != stored)
        return splut__fail(ctx, SPLUT_E_CHECKSUM, "%s: CRC-32 mismatch (file corrupted)", path);
    uint64_t payload = 0;
    splut_status st = parse_tables_header(ctx, path, &r, out, &payload);
    if (st == SPLUT_OK && payload != r.left)
        st = splut__fail(ctx, SPLUT_E_FORMAT, "%s: %zu payload bytes, the shapes need %llu",
                         path, r.left, (unsigned long long)payload);
    for (size_t l = 0; st == SPLUT_OK && l < (*out)->n_layers; l++) {
        splut_tlayer *TL = &(*out)->layers[l];
        st = splut__tlayer_alloc(ctx, TL);
        if (st == SPLUT_OK)
            st = read_layer_payload(ctx, path, l, &r, TL);
    }
    if (st != SPLUT_OK) {
        splut_tables_destroy(*out);
        *out = NULL;
    }
    return st;
}

splut_status splut_tables_load(splut_ctx *ctx, const char *path, splut_tables **out)
{
    if (!ctx || !path || !out)
        return ctx ? splut__fail(ctx, SPLUT_E_NULL, "splut_tables_load: NULL argument")
                   : SPLUT_E_NULL;
    *out = NULL;
    uint8_t *buf = NULL;
    size_t len = 0;
    splut_status st = splut__read_file(ctx, path, UINT64_MAX, &buf, &len);
    if (st != SPLUT_OK)
        return st;
    st = parse_tables(ctx, path, buf, len, out);
    splut__free(ctx, buf);
    return st;
}

/* ------------------------------------------------------------- text form */

/* `bits` binary digits of v, most significant first, NUL-terminated. */
static void to_binary(char *dst, uint64_t v, uint32_t bits)
{
    for (uint32_t i = 0; i < bits; i++)
        dst[i] = (char)('0' + ((v >> (bits - 1 - i)) & 1));
    dst[bits] = '\0';
}

static void write_rows(splut_afile *af, const uint16_t *tab, uint64_t entries, uint32_t fields,
                       uint32_t bits, uint32_t out_bits)
{
    char addr[64], code[16];
    uint32_t mask = (1u << bits) - 1;
    for (uint64_t a = 0; a < entries; a++) {
        to_binary(addr, a, fields * bits);
        splut__afile_printf(af, "%s ", addr);
        for (uint32_t f = 0; f < fields; f++) {
            to_binary(code, (a >> (bits * (fields - 1 - f))) & mask, bits);
            splut__afile_printf(af, "%s ", code);
        }
        to_binary(code, tab[a], out_bits);
        splut__afile_printf(af, "-> %s\n", code);
    }
}

static const char *kind_name(splut_neuron_kind k)
{
    switch (k) {
    case SPLUT_NEURON_LINEAR: return "linear";
    case SPLUT_NEURON_POLY: return "poly";
    case SPLUT_NEURON_POLY_ADD: return "poly_add";
    case SPLUT_NEURON_LUT: return "lut";
    default: return "neuralut";
    }
}

static void write_text_neuron(splut_afile *af, const splut_tlayer *TL, uint32_t n)
{
    const uint32_t *idx = TL->conn + (size_t)n * TL->A * TL->F;
    const uint16_t *tab = TL->data + (size_t)n * TL->stride;
    splut__afile_printf(af, "neuron %u inputs", n);
    for (uint32_t i = 0; i < TL->A * TL->F; i++)
        splut__afile_printf(af, " %u", idx[i]);
    splut__afile_printf(af, "\n");
    for (uint32_t a = 0; a < TL->A; a++) {
        if (TL->kind == SPLUT_NEURON_POLY_ADD) {
            splut__afile_printf(af, "table %u inputs", a);
            for (uint32_t f = 0; f < TL->F; f++)
                splut__afile_printf(af, " %u", idx[a * TL->F + f]);
            splut__afile_printf(af, "\n");
        }
        write_rows(af, tab + a * TL->sub_entries, TL->sub_entries, TL->F, TL->in_bits,
                   TL->sub_bits);
    }
    if (TL->kind == SPLUT_NEURON_POLY_ADD) {
        splut__afile_printf(af, "table adder inputs sub-neurons 0..%u\n", TL->A - 1);
        write_rows(af, tab + TL->A * TL->sub_entries, TL->add_entries, TL->A, TL->sub_bits,
                   TL->out_bits);
    }
}

static splut_status write_text_layer(const splut_tables *t, const char *dir, size_t l)
{
    char name[48];
    snprintf(name, sizeof(name), "layer_%zu.txt", l);
    char *path = splut__path_join(t->ctx, dir, name);
    if (!path)
        return splut__fail(t->ctx, SPLUT_E_NOMEM, "out of memory");
    splut_afile af;
    splut_status st = splut__afile_open(t->ctx, path, &af);
    splut__free(t->ctx, path);
    if (st != SPLUT_OK)
        return st;
    const splut_tlayer *TL = &t->layers[l];
    splut__afile_printf(&af,
                        "# libsparselut truth tables, layer %zu: kind %s, %u neurons, %u inputs "
                        "of %u bits per table, %u sub-neurons, %u output bits\n",
                        l, kind_name(TL->kind), TL->out, TL->F, TL->in_bits, TL->A,
                        TL->out_bits);
    if (l == 0 && t->thermo_levels)
        splut__afile_printf(&af,
                            "# thermometer inputs: %u levels per feature; input i is \"the "
                            "code of feature i / %u exceeds i %% %u\"\n",
                            t->thermo_levels, t->thermo_levels, t->thermo_levels);
    if (l + 1 == t->n_layers && t->groups)
        splut__afile_printf(&af,
                            "# GroupSum head: %u classes, each the popcount of %u consecutive "
                            "neurons; the class is the largest count, ties to the lowest\n",
                            t->groups, TL->out / t->groups);
    splut__afile_printf(&af, "# rows: address input-codes -> output-code, in binary; the "
                             "first input is the most significant address field\n");
    for (uint32_t n = 0; n < TL->out; n++)
        write_text_neuron(&af, TL, n);
    return splut__afile_commit(&af);
}

splut_status splut_tables_write_text(const splut_tables *t, const char *dir)
{
    if (!t || !dir)
        return t ? splut__fail(t->ctx, SPLUT_E_NULL, "splut_tables_write_text: dir is NULL")
                 : SPLUT_E_NULL;
    splut_status st = splut__ensure_dir(t->ctx, dir);
    for (size_t l = 0; l < t->n_layers && st == SPLUT_OK; l++)
        st = write_text_layer(t, dir, l);
    return st;
}
