/*
 * Copyright 2026 The libsparselut authors
 * SPDX-License-Identifier: Apache-2.0
 *
 * `sparselut synth --fast`: a LUT count in seconds instead of the half hour
 * a flattened Yosys synth_xilinx run takes on an MNIST-size network.
 *
 * Every output bit of every table is a logic function of its address bits,
 * so the network can be mapped in small pieces, cut where Yosys' flattened
 * run has registers (ABC maps the logic between them):
 *
 *  1. The tables are those the emitter writes with the same options: with
 *     --dont-care, splut_tables_fill_dont_cares() gives exactly the emitted
 *     ROM contents.
 *  2. Dead logic is removed as Yosys does after flattening: an output bit is
 *     live when a live downstream bit depends on it (the network outputs are
 *     live); constant bits cost nothing.
 *  3. Each live bit becomes a BLIF multiplexer tree over its address bits;
 *     tables are cut into chunks mapped by ABC processes in parallel with
 *     Yosys' synth_xilinx LUT library (LUT1..LUT8, LUT7/LUT8 costing two/four
 *     LUT6) and, for reference, pure LUT6 and LUT4 mappings. A PolyLUT-Add
 *     layer without a register between sub-neurons and adders (mark_joint)
 *     is one network in which the adders read the sub-neuron outputs, mapped
 *     with Yosys' script, in several port orders when small (median count).
 *  4. A LUT7/LUT8 is expanded as Yosys' lut_map.v does (LUT6 per 64-entry
 *     slice plus MUXF7/MUXF8, the top inputs as selects) and constant slices
 *     are dropped (opt_lut_ins), which gives Yosys' LUT count.
 *
 * Depth per stage comes from the pure LUT6 / LUT4 mappings: the deepest
 * sub-neuron output plus the adder behind it (a joint adder's own depth).
 */
#include "synth.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Yosys synth_xilinx's `abc -luts 2:2,3,6:5,10,20`: area per LUT size 1..8. */
static const char xilinx_lut_lib[] = "1 2.00 1.00\n2 2.00 1.00\n3 3.00 1.00\n4 5.00 1.00\n"
                                     "5 5.00 1.00\n6 5.00 1.00\n7 10.00 1.00\n8 20.00 1.00\n";

/* Mapping scripts per chunk: the Yosys-like library, then pure LUT6 and LUT4.
 * A function of at most 8 inputs maps to one library LUT whatever the script,
 * so those chunks get the quick one; wider tables get the script
 * synth_xilinx's `abc` pass runs (Yosys abc.cc, LUT mode). */
#define ABC_NARROW                                                                              \
    "read_lut xilinx.lut; read_blif {}.blif; strash; if; write_blif {}.x.blif; "                \
    "strash; if -K 6; write_blif {}.6.blif; strash; if -K 4; write_blif {}.4.blif"
#define ABC_WIDE                                                                                \
    "read_lut xilinx.lut; read_blif {}.blif; strash; &get -n; &fraig -x; &put; scorr; dc2; "    \
    "dretime; strash; dch -f; if; mfs2; write_blif {}.x.blif; &put; if -K 6; "                 \
    "write_blif {}.6.blif; &put; if -K 4; write_blif {}.4.blif"
#define NARROW_MAX_INPUTS 8

/* Rows of truth table per chunk: about a second of ABC time. */
#define CHUNK_ROWS 250000u
/* ABC's result on a jointly mapped layer (sub-neurons with their adder, the
 * script above) depends on the order of the network's inputs and outputs: by
 * up to ±10 % on a layer of tens of neurons (measured on jsc-m-lite-add2),
 * less on large layers, where it averages out over the neurons. A joint
 * layer of up to CHUNK_ROWS / JOINT_ORDERS rows is mapped in JOINT_ORDERS
 * orders and the median count taken, so the count is ABC's typical result
 * rather than one draw. */
#define JOINT_ORDERS 5u

typedef struct ftable {
    uint32_t layer, neuron, table; /* table: sub-neuron index, SPLUT_TABLE_ADDER or 0 */
    uint32_t k, out_bits;          /* address bits, output bits */
    uint16_t *e;                   /* 2^k entries */
    uint32_t *dep;                 /* dep[b]: address bits output bit b depends on */
    uint32_t live;                 /* live, non-constant output bits */
    uint32_t depth6, depth4;       /* deepest live output bit after mapping */
    uint32_t joint;                /* adder mapped together with its sub-neurons: their
                                      count A (they are the A tables before it); else 0 */
    uint32_t sub_bits;             /* joint: bits of each sub-neuron output */
    int joined;                    /* a sub-neuron table of a joint adder */
    int chained;                   /* reads the previous layer's outputs directly
                                      (no register between: --pipeline none) */
    int internal;                  /* outputs read only inside its ABC network */
    const uint32_t *fields;        /* input-bus fields of the address (field 0 most
                                      significant; not for adders), fan_in of them */
    uint32_t fan_in, in_bits;
} ftable;

typedef struct fnet {
    ftable *t;
    size_t n;
    size_t n_layers;
    uint32_t neurons[SYNTH_MAX_LAYERS], subs[SYNTH_MAX_LAYERS], in_width[SYNTH_MAX_LAYERS];
    uint32_t in_bits[SYNTH_MAX_LAYERS], sub_bits[SYNTH_MAX_LAYERS];
} fnet;

static void fnet_free(fnet *n)
{
    for (size_t i = 0; i < n->n; i++) {
        free(n->t[i].e);
        free(n->t[i].dep);
    }
    free(n->t);
}

/* Index of table (layer, neuron, table) in the flat list: tables are stored
 * layer by layer, neuron by neuron, sub-neurons then adder. */
static size_t table_index(const fnet *n, size_t layer, uint32_t neuron, uint32_t table)
{
    size_t base = 0;
    for (size_t l = 0; l < layer; l++)
        base += (size_t)n->neurons[l] * (n->subs[l] ? n->subs[l] + 1 : 1);
    uint32_t per = n->subs[layer] ? n->subs[layer] + 1 : 1;
    uint32_t slot = table == SPLUT_TABLE_ADDER ? n->subs[layer] : table;
    return base + (size_t)neuron * per + slot;
}

static int fnet_shape(const splut_tables *t, splut_ctx *ctx, fnet *n)
{
    n->n_layers = splut_tables_num_layers(t);
    if (n->n_layers > SYNTH_MAX_LAYERS) {
        cli_err("more than %d layers", SYNTH_MAX_LAYERS);
        return CLI_EXIT_FAIL;
    }
    size_t total = 0;
    for (size_t l = 0; l < n->n_layers; l++) {
        splut_table_info ti = SPLUT_TABLE_INFO_INIT;
        splut_status st = splut_tables_layer(t, l, &n->neurons[l], &n->subs[l], &n->in_width[l]);
        if (st == SPLUT_OK)
            st = splut_tables_info(t, l, 0, 0, &ti);
        if (st)
            return cli_lib_err(ctx, st, "reading the table shapes");
        n->in_bits[l] = ti.in_bits;
        n->sub_bits[l] = ti.out_bits;
        total += (size_t)n->neurons[l] * (n->subs[l] ? n->subs[l] + 1 : 1);
    }
    n->t = calloc(total ? total : 1, sizeof *n->t);
    if (!n->t) {
        cli_err("out of memory");
        return CLI_EXIT_FAIL;
    }
    n->n = total;
    for (size_t l = 0; l < n->n_layers; l++)
        for (uint32_t j = 0; j < n->neurons[l]; j++)
            for (uint32_t a = 0; a <= n->subs[l]; a++) {
                uint32_t table = a == n->subs[l] && n->subs[l] ? SPLUT_TABLE_ADDER : a;
                if (!n->subs[l] && a > 0)
                    break;
                splut_table_info ti = SPLUT_TABLE_INFO_INIT;
                splut_status st = splut_tables_info(t, l, j, table, &ti);
                if (st)
                    return cli_lib_err(ctx, st, "reading the table shapes");
                ftable *ft = &n->t[table_index(n, l, j, table)];
                ft->layer = (uint32_t)l;
                ft->neuron = j;
                ft->table = table;
                ft->k = ti.in_fields * ti.in_bits;
                ft->out_bits = ti.out_bits;
            }
    return CLI_EXIT_OK;
}

/* ------------------------------------------------------ table entries */

/* Copy every table's entries from @p t (the don't-care filled tables when the
 * design uses SPLUT_HDL_DONT_CARE: the ROM contents of the emitted design). */
static int read_entries(const splut_tables *t, splut_ctx *ctx, fnet *n)
{
    for (size_t i = 0; i < n->n; i++) {
        ftable *ft = &n->t[i];
        const uint16_t *e = NULL;
        splut_status st = splut_tables_data(t, ft->layer, ft->neuron, ft->table, &e);
        if (st)
            return cli_lib_err(ctx, st, "reading the tables");
        size_t len = (size_t)1 << ft->k;
        ft->e = malloc(len * sizeof *ft->e);
        if (!ft->e) {
            cli_err("out of memory");
            return CLI_EXIT_FAIL;
        }
        memcpy(ft->e, e, len * sizeof *ft->e);
    }
    return CLI_EXIT_OK;
}

/* ------------------------------------------------------------- liveness */

static int compute_deps(ftable *ft)
{
    ft->dep = calloc(ft->out_bits ? ft->out_bits : 1, sizeof *ft->dep);
    if (!ft->dep)
        return -1;
    size_t n = (size_t)1 << ft->k;
    for (size_t a = 0; a < n; a++)
        for (uint32_t p = 0; p < ft->k; p++) {
            uint32_t diff = ft->e[a] ^ ft->e[a ^ ((size_t)1 << p)];
            for (uint32_t b = 0; diff && b < ft->out_bits; b++, diff >>= 1)
                if (diff & 1)
                    ft->dep[b] |= 1u << p;
        }
    return 0;
}

/* Mark the live output bits of @p ft from @p want, then add the input-bus
 * bits its live outputs read to @p field_live (field f of the table is
 * @p fields[f], field 0 in the most significant address bits). */
static void propagate(ftable *ft, uint32_t want, const uint32_t *fields, uint32_t fan_in,
                      uint32_t bits, uint32_t *field_live)
{
    uint32_t reads = 0;
    ft->live = 0;
    for (uint32_t b = 0; b < ft->out_bits; b++)
        if ((want >> b & 1) && ft->dep[b]) {
            ft->live |= 1u << b;
            reads |= ft->dep[b];
        }
    for (uint32_t f = 0; f < fan_in; f++) {
        uint32_t shift = (fan_in - 1 - f) * bits;
        field_live[fields[f]] |= (reads >> shift) & ((1u << bits) - 1);
    }
}

/* Backwards from the network outputs; fills the live-bit counts of @p r. */
static int mark_live(const splut_tables *t, splut_ctx *ctx, fnet *n, int32_t pipeline,
                     synth_fast_result *r)
{
    uint32_t *want = NULL; /* live bits of each output field of the current layer */
    size_t l = n->n_layers;
    want = malloc(n->neurons[l - 1] * sizeof *want);
    if (!want)
        return CLI_EXIT_FAIL;
    for (uint32_t j = 0; j < n->neurons[l - 1]; j++)
        want[j] = UINT32_MAX;
    r->register_bits_live = 0;
    while (l-- > 0) {
        uint32_t A = n->subs[l], fields[64];
        uint32_t *in_live = calloc(n->in_width[l], sizeof *in_live);
        uint32_t *sub_live = calloc((size_t)n->neurons[l] * (A ? A : 1), sizeof *sub_live);
        if (!in_live || !sub_live) {
            free(in_live);
            free(sub_live);
            free(want);
            return CLI_EXIT_FAIL;
        }
        for (uint32_t j = 0; j < n->neurons[l]; j++) {
            const uint32_t *idx;
            size_t cnt;
            splut_status st = splut_tables_inputs(t, l, j, &idx, &cnt);
            if (st) {
                free(in_live);
                free(sub_live);
                free(want);
                return cli_lib_err(ctx, st, "reading the table inputs");
            }
            uint32_t F = (uint32_t)(cnt / (A ? A : 1));
            if (A) {
                ftable *add = &n->t[table_index(n, l, j, SPLUT_TABLE_ADDER)];
                for (uint32_t a = 0; a < A; a++)
                    fields[a] = j * A + a;
                propagate(add, want[j], fields, A, n->sub_bits[l], sub_live);
            }
            for (uint32_t a = 0; a < (A ? A : 1); a++) {
                ftable *ft = &n->t[table_index(n, l, j, a)];
                uint32_t w = A ? sub_live[j * A + a] : want[j];
                propagate(ft, w, idx + (size_t)a * F, F, n->in_bits[l], in_live);
            }
        }
        uint64_t live_in = 0, live_sub = 0;
        for (uint32_t f = 0; f < n->in_width[l]; f++)
            live_in += (uint64_t)__builtin_popcount(in_live[f]);
        for (uint32_t s = 0; A && s < n->neurons[l] * A; s++)
            live_sub += (uint64_t)__builtin_popcount(sub_live[s]);
        r->layers[l].live_in_bits = live_in;
        if (pipeline != SPLUT_PIPE_NONE)
            r->register_bits_live += live_in + (pipeline == SPLUT_PIPE_SUBLAYER ? live_sub : 0);
        free(sub_live);
        free(want);
        want = in_live;
    }
    free(want);
    return CLI_EXIT_OK;
}

/* -------------------------------------------------------------- BLIF out */

/* Output bit b of a table as a reduced, ordered decision diagram of 2:1
 * multiplexers (most significant address bit at the root, identical
 * sub-functions shared), the structure Yosys' memory_map and opt_merge give
 * a ROM: ABC's cut enumeration maps it far better than a sum of minterms. */
typedef struct mux_tree {
    FILE *f;
    size_t id;          /* table id (signal names) */
    const fnet *net;    /* select signal names of joint adders */
    uint32_t b;         /* output bit */
    const uint8_t *v;   /* 2^k bit values */
    size_t *memo_off;   /* open addressing: slice offset + 1, 0 = empty */
    uint32_t *memo_n;   /* slice size (log2) */
    uint64_t *memo_node;
    size_t memo_cap;
    uint64_t nodes;     /* node ids from 2 (0, 1: constants) */
    int used_const[2];
} mux_tree;

static uint64_t slice_hash(const uint8_t *p, size_t n, uint32_t lg)
{
    return cli_fnv1a(CLI_FNV1A_BASIS ^ lg, p, n);
}

/* The table whose output bit @p bit drives address bit @p p of table @p id
 * inside the same ABC network: for a joint adder its sub-neuron (sub-neuron 0
 * in the most significant field), for a chained table the previous layer's
 * output table of the input field; SIZE_MAX for a network input. */
static size_t source_table(const fnet *net, size_t id, uint32_t p, uint32_t *bit)
{
    const ftable *ft = &net->t[id];
    if (ft->joint) {
        *bit = p % ft->sub_bits;
        return id - ft->joint + (ft->joint - 1 - p / ft->sub_bits);
    }
    if (!ft->chained)
        return SIZE_MAX;
    uint32_t x = ft->fields[ft->fan_in - 1 - p / ft->in_bits], prev = ft->layer - 1;
    *bit = p % ft->in_bits;
    return table_index(net, prev, x, net->subs[prev] ? SPLUT_TABLE_ADDER : 0);
}

/* Signal of address bit @p p of table @p id: a network input `t<id>_<p>`, or
 * the output bit of the table driving it, `_k` for one that is constant. */
static void select_name(const fnet *net, size_t id, uint32_t p, char *out, size_t cap)
{
    uint32_t bit = 0;
    size_t src = source_table(net, id, p, &bit);
    if (src == SIZE_MAX)
        snprintf(out, cap, "t%zu_%u", id, p);
    else
        snprintf(out, cap, "t%zu_%c%u", src, net->t[src].live >> bit & 1 ? 'o' : 'k', bit);
}

static uint64_t mux_node(mux_tree *m, size_t off, uint32_t lg)
{
    size_t n = (size_t)1 << lg;
    size_t ones = 0;
    for (size_t i = 0; i < n; i++)
        ones += m->v[off + i];
    if (ones == 0 || ones == n) {
        m->used_const[ones != 0] = 1;
        return ones != 0;
    }
    size_t h = slice_hash(m->v + off, n, lg) & (m->memo_cap - 1);
    for (; m->memo_off[h]; h = (h + 1) & (m->memo_cap - 1))
        if (m->memo_n[h] == lg && memcmp(m->v + m->memo_off[h] - 1, m->v + off, n) == 0)
            return m->memo_node[h];
    uint64_t lo = mux_node(m, off, lg - 1), hi = mux_node(m, off + n / 2, lg - 1);
    uint64_t node = lo;
    if (lo != hi) {
        char sel[48];
        select_name(m->net, m->id, lg - 1, sel, sizeof sel);
        node = m->nodes++;
        fprintf(m->f, ".names %s t%zu_%u_%llu t%zu_%u_%llu t%zu_%u_%llu\n01- 1\n1-1 1\n", sel,
                m->id, m->b, (unsigned long long)lo, m->id, m->b, (unsigned long long)hi, m->id,
                m->b, (unsigned long long)node);
    }
    /* Re-probe: the recursion may have filled the slot found above. */
    h = slice_hash(m->v + off, n, lg) & (m->memo_cap - 1);
    while (m->memo_off[h])
        h = (h + 1) & (m->memo_cap - 1);
    m->memo_off[h] = off + 1;
    m->memo_n[h] = lg;
    m->memo_node[h] = node;
    return node;
}

/* One output bit of @p ft as a multiplexer tree; 0 or -1 (out of memory). */
static int write_function(FILE *f, const fnet *net, size_t id, uint32_t b)
{
    const ftable *ft = &net->t[id];
    size_t n = (size_t)1 << ft->k;
    mux_tree m = {f, id, net, b, NULL, NULL, NULL, NULL, 16, 2, {0, 0}};
    while (m.memo_cap < 2 * n)
        m.memo_cap *= 2;
    uint8_t *v = malloc(n);
    m.memo_off = calloc(m.memo_cap, sizeof *m.memo_off);
    m.memo_n = malloc(m.memo_cap * sizeof *m.memo_n);
    m.memo_node = malloc(m.memo_cap * sizeof *m.memo_node);
    int rc = v && m.memo_off && m.memo_n && m.memo_node ? 0 : -1;
    if (rc == 0) {
        for (size_t a = 0; a < n; a++)
            v[a] = (uint8_t)(ft->e[a] >> b & 1);
        m.v = v;
        uint64_t root = mux_node(&m, 0, ft->k);
        for (int c = 0; c < 2; c++)
            if (m.used_const[c])
                fprintf(f, ".names t%zu_%u_%d\n%s", id, b, c, c ? "1\n" : "");
        fprintf(f, ".names t%zu_%u_%llu t%zu_o%u\n1 1\n", id, b, (unsigned long long)root, id,
                b);
    }
    free(v);
    free(m.memo_off);
    free(m.memo_n);
    free(m.memo_node);
    return rc;
}

static uint64_t table_rows(const ftable *ft)
{
    uint64_t rows = 0;
    for (uint32_t b = 0; b < ft->out_bits; b++)
        if (ft->live >> b & 1)
            rows += 1ull << __builtin_popcount(ft->dep[b]);
    return rows;
}

/* The constant output bits of a table read inside an ABC network, as
 * constant signals `t<id>_k<b>` for its readers' multiplexer trees (one that
 * nothing reads is harmless: ABC drops it). */
static void write_constant_bits(FILE *f, const ftable *ft, size_t id)
{
    for (uint32_t b = 0; b < ft->out_bits; b++)
        if (!ft->dep[b])
            fprintf(f, ".names t%zu_k%u\n%s", id, b, ft->e[0] >> b & 1 ? "1\n" : "");
}

typedef char port_name[48]; /* "t<size_t>_o<uint32_t>" */

/* The input (@p outputs 0) or output port names of tables [first, last):
 * a joint adder or a chained table reads internal signals. */
static size_t port_names(const fnet *n, size_t first, size_t last, int outputs, port_name *out)
{
    size_t cnt = 0;
    for (size_t i = first; i < last; i++) {
        const ftable *ft = &n->t[i];
        if (!outputs)
            for (uint32_t p = 0; ft->live && !ft->joint && !ft->chained && p < ft->k; p++, cnt++)
                if (out)
                    snprintf(out[cnt], sizeof out[cnt], "t%zu_%u", i, p);
        for (uint32_t b = 0; outputs && !ft->internal && b < ft->out_bits; b++)
            if (ft->live >> b & 1) {
                if (out)
                    snprintf(out[cnt], sizeof out[cnt], "t%zu_o%u", i, b);
                cnt++;
            }
    }
    return cnt;
}

/* Print a port list: in table order for @p order 0, else in a permutation
 * seeded by @p order (Fisher-Yates over a xorshift generator). */
static int print_ports(FILE *f, const char *kw, const fnet *n, size_t first, size_t last,
                       int outputs, unsigned order)
{
    size_t cnt = port_names(n, first, last, outputs, NULL);
    port_name *names = malloc((cnt ? cnt : 1) * sizeof *names);
    size_t *perm = malloc((cnt ? cnt : 1) * sizeof *perm);
    if (!names || !perm) {
        free(names);
        free(perm);
        return -1;
    }
    port_names(n, first, last, outputs, names);
    uint64_t x = 0x9e3779b97f4a7c15ull * (order + 1);
    for (size_t i = 0; i < cnt; i++)
        perm[i] = i;
    for (size_t i = cnt; order && i > 1; i--) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        size_t j = (size_t)(x % i), tmp = perm[i - 1];
        perm[i - 1] = perm[j];
        perm[j] = tmp;
    }
    fprintf(f, "%s", kw);
    for (size_t i = 0; i < cnt; i++)
        fprintf(f, " %s", names[perm[i]]);
    fprintf(f, "\n");
    free(names);
    free(perm);
    return 0;
}

/* Write chunk file @p c holding tables [first, last), ports in order @p order. */
static int write_chunk(const char *dir, size_t c, const fnet *n, size_t first, size_t last,
                       unsigned order)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/c%zu.blif", dir, c);
    FILE *f = fopen(path, "w");
    if (!f) {
        cli_err("cannot write '%s'", path);
        return CLI_EXIT_FAIL;
    }
    fprintf(f, ".model c%zu\n", c);
    int rc = print_ports(f, ".inputs", n, first, last, 0, order);
    if (rc == 0)
        rc = print_ports(f, ".outputs", n, first, last, 1, order);
    uint8_t *constants = calloc(n->n ? n->n : 1, 1); /* constant signals written */
    if (!constants)
        rc = -1;
    for (size_t i = first; rc == 0 && i < last; i++)
        for (uint32_t p = 0, bit = 0; n->t[i].live && p < n->t[i].k; p++) {
            size_t src = source_table(n, i, p, &bit);
            if (src != SIZE_MAX && !constants[src]) {
                write_constant_bits(f, &n->t[src], src);
                constants[src] = 1;
            }
        }
    free(constants);
    for (size_t i = first; i < last; i++) {
        for (uint32_t b = 0; rc == 0 && b < n->t[i].out_bits; b++)
            if (n->t[i].live >> b & 1)
                rc = write_function(f, n, i, b);
    }
    fprintf(f, ".end\n");
    if (rc != 0) {
        fclose(f);
        cli_err("out of memory");
        return CLI_EXIT_FAIL;
    }
    if (fclose(f) != 0)
        return CLI_EXIT_FAIL;
    uint32_t k = 0;
    int joint = 0;
    for (size_t i = first; i < last; i++) {
        k = n->t[i].live && n->t[i].k > k ? n->t[i].k : k;
        joint |= n->t[i].live && (n->t[i].joint || n->t[i].chained);
    }
    int wide = k > NARROW_MAX_INPUTS || joint;
    snprintf(path, sizeof path, "%s/%s", dir, wide ? "wide.txt" : "narrow.txt");
    if (!(f = fopen(path, "a")) || fprintf(f, "c%zu\n", c) < 0 || fclose(f) != 0) {
        cli_err("cannot write '%s'", path);
        return CLI_EXIT_FAIL;
    }
    return CLI_EXIT_OK;
}

/* Cut the live tables into chunks of about CHUNK_ROWS truth-table rows (at
 * least 2 per thread so that the processes share the work), never across a
 * layer, a joint layer whole; returns the number of chunk files written (0
 * when no table has a live output), SIZE_MAX on error. A chunk is files
 * c..c+orders[c]−1 (the same network, ports in different orders); @p
 * chunk_of receives each table's chunk c (SIZE_MAX for a table without live
 * output). */
static size_t write_chunks(const char *dir, const fnet *n, unsigned threads, size_t *chunk_of,
                           uint8_t *orders)
{
    uint64_t total = 0;
    for (size_t i = 0; i < n->n; i++)
        total += table_rows(&n->t[i]);
    uint64_t budget = total / (2u * (threads ? threads : 1)) + 1;
    char path[4096];
    for (int w = 0; w < 2; w++) { /* fresh chunk lists */
        snprintf(path, sizeof path, "%s/%s", dir, w ? "wide.txt" : "narrow.txt");
        FILE *f = fopen(path, "w");
        if (!f || fclose(f) != 0)
            return SIZE_MAX;
    }
    if (budget > CHUNK_ROWS)
        budget = CHUNK_ROWS;
    size_t chunks = 0, first = 0;
    uint64_t rows = 0;
    for (size_t i = 0; i < n->n; i++) {
        uint64_t r = table_rows(&n->t[i]);
        rows += r;
        chunk_of[i] = r ? chunks : SIZE_MAX;
        int layer_ends = i + 1 == n->n ||
                         (n->t[i + 1].layer != n->t[i].layer && !n->t[i + 1].chained);
        /* A joint layer (or chained layers) is one ABC network, as a pipeline
         * stage is in Yosys' run (and ABC's result on it then does not depend
         * on --threads). */
        int joint = n->t[i].joined || n->t[i].joint || n->t[i].chained || n->t[i].internal;
        if (rows && (layer_ends || (!joint && rows >= budget))) {
            unsigned k = joint && rows <= CHUNK_ROWS / JOINT_ORDERS ? JOINT_ORDERS : 1;
            orders[chunks] = (uint8_t)k;
            for (unsigned v = 0; v < k; v++)
                if (write_chunk(dir, chunks + v, n, first, i + 1, v) != CLI_EXIT_OK)
                    return SIZE_MAX;
            chunks += k;
            rows = 0;
        }
        if (!rows)
            first = i + 1;
    }
    return chunks;
}

/* ---------------------------------------------------------- BLIF back in */

typedef struct lnode {
    char *out;
    char **in;
    uint32_t k;
    uint32_t level;
} lnode;

typedef struct lnet {
    lnode *v;
    size_t n, cap;
    size_t *hash; /* open addressing over v, index + 1; 0 = empty */
    size_t hcap;
} lnet;

static size_t name_hash(const char *s)
{
    return (size_t)cli_fnv1a(CLI_FNV1A_BASIS, s, strlen(s));
}

static lnode *lnet_find(const lnet *g, const char *name)
{
    if (!g->hcap)
        return NULL;
    for (size_t h = name_hash(name) & (g->hcap - 1);; h = (h + 1) & (g->hcap - 1)) {
        if (!g->hash[h])
            return NULL;
        if (strcmp(g->v[g->hash[h] - 1].out, name) == 0)
            return &g->v[g->hash[h] - 1];
    }
}

static void lnet_free(lnet *g)
{
    for (size_t i = 0; i < g->n; i++) {
        for (uint32_t j = 0; j < g->v[i].k; j++)
            free(g->v[i].in[j]);
        free(g->v[i].in);
        free(g->v[i].out);
    }
    free(g->v);
    free(g->hash);
}

static int lnet_index(lnet *g)
{
    g->hcap = 16;
    while (g->hcap < 2 * g->n)
        g->hcap *= 2;
    g->hash = calloc(g->hcap, sizeof *g->hash);
    if (!g->hash)
        return -1;
    for (size_t i = 0; i < g->n; i++) {
        size_t h = name_hash(g->v[i].out) & (g->hcap - 1);
        while (g->hash[h])
            h = (h + 1) & (g->hcap - 1);
        g->hash[h] = i + 1;
    }
    return 0;
}

/* Level of a node: 1 + its deepest fan-in node (inputs are level 0). */
static uint32_t node_level(lnet *g, lnode *v)
{
    if (v->level != UINT32_MAX)
        return v->level;
    v->level = 0; /* breaks cycles, which a mapped BLIF has none of */
    uint32_t lv = 0;
    for (uint32_t j = 0; j < v->k; j++) {
        lnode *u = lnet_find(g, v->in[j]);
        uint32_t x = u ? node_level(g, u) : 0;
        lv = x > lv ? x : lv;
    }
    v->level = v->k ? lv + 1 : 0;
    return v->level;
}

/* Non-constant 64-entry slices of a LUT of @p k ≤ 8 inputs given by its cover. */
static uint32_t live_slices(uint32_t k, const char *const *rows, size_t n_rows, int offset)
{
    uint64_t tt[4] = {0, 0, 0, 0};
    for (uint32_t m = 0; m < (1u << k); m++) {
        int on = 0;
        for (size_t r = 0; r < n_rows && !on; r++) {
            int match = 1;
            for (uint32_t i = 0; i < k && match; i++)
                match = rows[r][i] == '-' || (uint32_t)(rows[r][i] - '0') == (m >> i & 1);
            on = match;
        }
        if (on != offset)
            tt[m >> 6] |= 1ull << (m & 63);
    }
    uint32_t slices = k <= 6 ? 1 : 1u << (k - 6), live = 0;
    uint64_t mask = k >= 6 ? UINT64_MAX : (1ull << (1u << k)) - 1;
    for (uint32_t q = 0; q < slices; q++)
        live += (tt[q] & mask) != 0 && (tt[q] & mask) != mask;
    return live;
}

typedef struct blif_counts {
    uint64_t lut, muxf7, muxf8, nodes;
} blif_counts;

/* Read a mapped BLIF: its LUT nodes into @p g (when not NULL) and the
 * Yosys-equivalent counts into @p c. */
static int read_mapped(const char *path, lnet *g, blif_counts *c)
{
    char *text = cli_read_text(path);
    if (!text) {
        cli_err("ABC wrote no '%s'", path);
        return CLI_EXIT_FAIL;
    }
    for (char *p = text; (p = strstr(p, "\\\n")) != NULL;)
        p[0] = p[1] = ' ';
    const char *rows[512];
    char *save = NULL;
    char *line = strtok_r(text, "\n", &save);
    while (line) {
        if (strncmp(line, ".names", 6) != 0) {
            line = strtok_r(NULL, "\n", &save);
            continue;
        }
        char *names[40];
        uint32_t cnt = 0;
        for (char *tok = strtok(line + 6, " \t"); tok && cnt < 40; tok = strtok(NULL, " \t"))
            names[cnt++] = tok;
        uint32_t k = cnt ? cnt - 1 : 0;
        size_t n_rows = 0;
        int offset = 0;
        while ((line = strtok_r(NULL, "\n", &save)) != NULL && line[0] != '.') {
            if (n_rows < 512)
                rows[n_rows++] = line;
            offset = line[strlen(line) - 1] == '0';
        }
        if (k >= 1 && k <= 8) {
            uint32_t live = k <= 6 ? 1 : live_slices(k, rows, n_rows, offset);
            c->lut += live;
            c->muxf7 += k == 7 ? 1 : k == 8 ? 2 : 0;
            c->muxf8 += k == 8;
        }
        c->nodes += k >= 1;
        if (g && cnt) {
            if (g->n == g->cap) {
                size_t cap = g->cap ? 2 * g->cap : 1024;
                lnode *v = realloc(g->v, cap * sizeof *v);
                if (!v)
                    break;
                g->v = v;
                g->cap = cap;
            }
            lnode *v = &g->v[g->n++];
            v->k = k;
            v->level = UINT32_MAX;
            v->out = strdup(names[k]);
            v->in = calloc(k ? k : 1, sizeof *v->in);
            for (uint32_t j = 0; v->in && j < k; j++)
                v->in[j] = strdup(names[j]);
        }
    }
    free(text);
    return CLI_EXIT_OK;
}

/* Deepest level of each table's live outputs in mapping @p g. */
static void table_depths(lnet *g, fnet *n, const size_t *chunk_of, size_t c, int lut4)
{
    char name[64];
    for (size_t i = 0; i < n->n; i++) {
        if (chunk_of[i] != c)
            continue;
        uint32_t d = 0;
        for (uint32_t b = 0; b < n->t[i].out_bits; b++) {
            if (!(n->t[i].live >> b & 1))
                continue;
            snprintf(name, sizeof name, "t%zu_o%u", i, b);
            lnode *v = lnet_find(g, name);
            uint32_t x = v ? node_level(g, v) : 0;
            d = x > d ? x : d;
        }
        if (lut4)
            n->t[i].depth4 = d;
        else
            n->t[i].depth6 = d;
    }
}

/* The file of chunk @p c whose LUT count is the median over its orders
 * (lowest order on ties). */
static int median_order(const char *dir, size_t c, unsigned orders, size_t *file)
{
    blif_counts bc[JOINT_ORDERS];
    size_t idx[JOINT_ORDERS];
    char path[4096];
    memset(bc, 0, sizeof bc);
    for (unsigned v = 0; v < orders; v++) {
        snprintf(path, sizeof path, "%s/c%zu.x.blif", dir, c + v);
        int rc = read_mapped(path, NULL, &bc[v]);
        if (rc != CLI_EXIT_OK)
            return rc;
        idx[v] = v;
    }
    for (unsigned v = 1; v < orders; v++) /* insertion sort by count, stable */
        for (unsigned w = v; w > 0 && bc[idx[w - 1]].lut > bc[idx[w]].lut; w--) {
            size_t tmp = idx[w];
            idx[w] = idx[w - 1];
            idx[w - 1] = tmp;
        }
    *file = c + idx[orders / 2];
    return CLI_EXIT_OK;
}

/* Read the three mappings of every chunk (its median order) into per-layer counts. */
static int collect(const char *dir, fnet *n, const size_t *chunk_of, const uint8_t *orders,
                   size_t chunks, synth_fast_result *r)
{
    static const char *const kinds[3] = {"x", "6", "4"};
    char path[4096];
    for (size_t c = 0; c < chunks; c += orders[c]) {
        size_t file = c;
        int rc = median_order(dir, c, orders[c], &file);
        if (rc != CLI_EXIT_OK)
            return rc;
        blif_counts bc[3];
        memset(bc, 0, sizeof bc);
        for (int kind = 0; kind < 3; kind++) {
            lnet g;
            memset(&g, 0, sizeof g);
            snprintf(path, sizeof path, "%s/c%zu.%s.blif", dir, file, kinds[kind]);
            rc = read_mapped(path, kind ? &g : NULL, &bc[kind]);
            if (rc == CLI_EXIT_OK && kind && lnet_index(&g) != 0)
                rc = CLI_EXIT_FAIL;
            if (rc == CLI_EXIT_OK && kind)
                table_depths(&g, n, chunk_of, c, kind == 2);
            lnet_free(&g);
            if (rc != CLI_EXIT_OK)
                return rc;
        }
        size_t first = 0;
        while (chunk_of[first] != c)
            first++;
        synth_fast_layer *L = &r->layers[n->t[first].layer];
        L->lut += bc[0].lut;
        L->muxf7 += bc[0].muxf7;
        L->muxf8 += bc[0].muxf8;
        L->lut6 += bc[1].nodes;
        L->lut4 += bc[2].nodes;
    }
    return CLI_EXIT_OK;
}

/* Stage depth: the deepest sub-neuron output plus its neuron's adder. */
static void stage_depths(const fnet *n, synth_fast_result *r)
{
    for (size_t i = 0; i < n->n; i++) {
        const ftable *ft = &n->t[i];
        synth_fast_layer *L = &r->layers[ft->layer];
        L->functions += (uint64_t)__builtin_popcount(ft->live);
        if (ft->table == SPLUT_TABLE_ADDER)
            continue;
        uint32_t d6 = ft->depth6, d4 = ft->depth4;
        if (n->subs[ft->layer]) {
            const ftable *add =
                &n->t[table_index(n, ft->layer, ft->neuron, SPLUT_TABLE_ADDER)];
            /* a joint adder's depth already counts its sub-neurons */
            d6 = add->joint ? add->depth6 : d6 + add->depth6;
            d4 = add->joint ? add->depth4 : d4 + add->depth4;
        }
        L->depth6 = d6 > L->depth6 ? d6 : L->depth6;
        L->depth4 = d4 > L->depth4 ? d4 : L->depth4;
    }
    for (size_t l = 0; l < n->n_layers; l++) {
        const synth_fast_layer *L = &r->layers[l];
        r->lut += L->lut;
        r->muxf7 += L->muxf7;
        r->muxf8 += L->muxf8;
        r->lut6 += L->lut6;
        r->lut4 += L->lut4;
        r->depth6 = L->depth6 > r->depth6 ? L->depth6 : r->depth6;
        r->depth4 = L->depth4 > r->depth4 ? L->depth4 : r->depth4;
    }
}

/* ------------------------------------------------------------ ABC runs */

static int run_abc(const char *dir, const char *abc, unsigned threads,
                   synth_fast_result *r)
{
    char body[sizeof r->command + 256];
    snprintf(r->command, sizeof r->command,
             "xargs -P %u -I{} %s -q \"%s\" <narrow.txt && "
             "xargs -P %u -I{} %s -q \"%s\" <wide.txt",
             threads, abc, ABC_NARROW, threads, abc, ABC_WIDE);
    snprintf(body, sizeof body,
             "%s -c version 2>/dev/null | grep -m1 Berkeley >abc_version.txt; { %s; } >abc.log 2>&1",
             abc, r->command);
    FILE *f;
    char path[4096];
    snprintf(path, sizeof path, "%s/xilinx.lut", dir);
    if (!(f = fopen(path, "w")) || fputs(xilinx_lut_lib, f) < 0 || fclose(f) != 0) {
        cli_err("cannot write '%s'", path);
        return CLI_EXIT_FAIL;
    }
    int rc = cli_run_in_dir(dir, body);
    if (rc != 0) {
        snprintf(path, sizeof path, "%s/abc.log", dir);
        return cli_tool_failed(abc, rc, path);
    }
    snprintf(path, sizeof path, "%s/abc_version.txt", dir);
    char *v = cli_read_text(path);
    snprintf(r->version, sizeof r->version, "%s", v ? v : "unknown");
    r->version[strcspn(r->version, "\n")] = '\0';
    free(v);
    return CLI_EXIT_OK;
}

uint64_t synth_register_bits(const splut_tables *t, int32_t pipeline)
{
    uint64_t bits = 0;
    if (pipeline == SPLUT_PIPE_NONE)
        return 0;
    for (size_t l = 0; l < splut_tables_num_layers(t); l++) {
        uint32_t neurons = 0, subs = 0, in_width = 0;
        splut_table_info ti = SPLUT_TABLE_INFO_INIT, ai = SPLUT_TABLE_INFO_INIT;
        if (splut_tables_layer(t, l, &neurons, &subs, &in_width) != SPLUT_OK ||
            splut_tables_info(t, l, 0, 0, &ti) != SPLUT_OK)
            return 0;
        bits += (uint64_t)in_width * ti.in_bits;
        if (subs && pipeline == SPLUT_PIPE_SUBLAYER) {
            if (splut_tables_info(t, l, 0, SPLUT_TABLE_ADDER, &ai) != SPLUT_OK)
                return 0;
            bits += (uint64_t)neurons * subs * ai.in_bits;
        }
    }
    return bits;
}

/* What ABC sees together in Yosys' flattened run: an adder with its
 * sub-neurons where no register separates them (every pipeline but
 * sublayer), except in a pipelined first layer, whose input register Yosys
 * moves behind the sub-neuron ROMs (memory_dff merges it into them,
 * memory_map extracts it as a data register); later registers stay where they
 * are, each merged into the ROMs before it as their output register. Without
 * any pipeline the whole network is one netlist: every layer reads the
 * previous one's outputs (chained). */
static int mark_joint(const splut_tables *t, splut_ctx *ctx, fnet *n, int32_t pipeline)
{
    for (size_t i = 0; i < n->n; i++) {
        ftable *ft = &n->t[i];
        uint32_t A = n->subs[ft->layer];
        if (ft->table != SPLUT_TABLE_ADDER) {
            const uint32_t *idx = NULL;
            size_t cnt = 0;
            splut_status st = splut_tables_inputs(t, ft->layer, ft->neuron, &idx, &cnt);
            if (st)
                return cli_lib_err(ctx, st, "reading the table inputs");
            ft->fan_in = (uint32_t)(cnt / (A ? A : 1));
            ft->fields = idx + (size_t)ft->table * ft->fan_in;
            ft->in_bits = n->in_bits[ft->layer];
        }
        int none = pipeline == SPLUT_PIPE_NONE;
        int output = ft->table == SPLUT_TABLE_ADDER || !A; /* drives the layer's output */
        ft->chained = none && ft->layer > 0 && ft->table != SPLUT_TABLE_ADDER;
        ft->internal = none && output && ft->layer + 1 < n->n_layers;
        int joint = A && pipeline != SPLUT_PIPE_SUBLAYER && (none || ft->layer > 0);
        if (!joint)
            continue;
        if (ft->table == SPLUT_TABLE_ADDER) {
            ft->joint = A;
            ft->sub_bits = n->sub_bits[ft->layer];
        } else {
            ft->joined = 1;
            ft->internal = 1;
        }
    }
    return CLI_EXIT_OK;
}

static int load_network(const splut_tables *t, splut_ctx *ctx, const synth_fast_opts *o,
                        fnet *n)
{
    splut_tables *filled = NULL;
    if (o->flags & SPLUT_HDL_DONT_CARE) {
        splut_status st = splut_tables_fill_dont_cares(t, &filled);
        if (st)
            return cli_lib_err(ctx, st, "filling the don't-cares");
    }
    int rc = fnet_shape(t, ctx, n);
    if (rc == CLI_EXIT_OK)
        rc = read_entries(filled ? filled : t, ctx, n);
    if (rc == CLI_EXIT_OK)
        rc = mark_joint(t, ctx, n, o->pipeline);
    splut_tables_destroy(filled);
    for (size_t i = 0; rc == CLI_EXIT_OK && i < n->n; i++)
        if (compute_deps(&n->t[i]) != 0) {
            cli_err("out of memory");
            rc = CLI_EXIT_FAIL;
        }
    return rc;
}

int synth_fast_count(const splut_tables *t, splut_ctx *ctx, const synth_fast_opts *o,
                     synth_fast_result *r)
{
    double t0 = cli_now();
    fnet n;
    memset(&n, 0, sizeof n);
    memset(r, 0, sizeof *r);
    int rc = load_network(t, ctx, o, &n);
    if (rc == CLI_EXIT_OK)
        rc = mark_live(t, ctx, &n, o->pipeline, r);
    size_t *chunk_of = rc == CLI_EXIT_OK ? calloc(n.n ? n.n : 1, sizeof *chunk_of) : NULL;
    uint8_t *orders = rc == CLI_EXIT_OK ? calloc(n.n * JOINT_ORDERS + 1, 1) : NULL;
    if (rc == CLI_EXIT_OK && (!chunk_of || !orders)) {
        cli_err("out of memory");
        rc = CLI_EXIT_FAIL;
    }
    if (rc == CLI_EXIT_OK) {
        r->chunks = write_chunks(o->dir, &n, o->threads, chunk_of, orders);
        if (r->chunks == SIZE_MAX)
            rc = CLI_EXIT_FAIL;
        else if (r->chunks)
            rc = run_abc(o->dir, o->abc, o->threads, r);
        else /* every output constant (an untrained net): no logic, nothing to map */
            snprintf(r->command, sizeof r->command, "none (no live logic)");
    }
    if (rc == CLI_EXIT_OK)
        rc = collect(o->dir, &n, chunk_of, orders, r->chunks, r);
    if (rc == CLI_EXIT_OK) {
        r->n_layers = n.n_layers;
        stage_depths(&n, r);
        r->register_bits = synth_register_bits(t, o->pipeline);
    }
    free(chunk_of);
    free(orders);
    fnet_free(&n);
    r->seconds = cli_now() - t0;
    return rc;
}
