/*
 * Private interface of the HDL emitters (lib/emit-*.c).
 *
 * The emitters see a network only through the public tables API; emit-common.c
 * gathers its shape once into a splut__net, and every back-end walks the same
 * list of "stages" (one per layer module, two for a PolyLUT-Add layer: the
 * sub-neuron layer and the adder layer) so that all formats agree on module
 * names, bus widths and register placement.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#ifndef SPARSELUT_EMIT_PRIV_H
#define SPARSELUT_EMIT_PRIV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core-priv.h"
#include "input-priv.h"

#define SPLUT__PREFIX_MAX 48u
#define SPLUT__FAN_IN_MAX 32u /* address fields of a table (addresses are < 32 bits) */

/* ------------------------------------------------------------ text buffers */

/* A growing text buffer from the context allocator. Append errors are sticky
 * (oom) and reported once, when the buffer is written out. */
typedef struct splut__buf {
    splut_ctx *ctx;
    char *p;
    size_t len, cap;
    bool oom;
} splut__buf;

void splut__buf_init(splut__buf *b, splut_ctx *ctx);
void splut__buf_free(splut__buf *b);
void splut__buf_reset(splut__buf *b);
void splut__buf_put(splut__buf *b, const char *s, size_t n);
void splut__buf_puts(splut__buf *b, const char *s);
void splut__buf_printf(splut__buf *b, const char *fmt, ...) SPLUT_PRINTF(2, 3);
/* @p nbits binary digits of @p v, most significant first. */
void splut__buf_bin(splut__buf *b, uint32_t v, uint32_t nbits);
/* A bus of @p n fields of @p bits each (field 0 in the LSBs) as hex digits,
 * most significant first, ceil(n·bits/4) digits (each field masked to bits). */
void splut__buf_bus_hex(splut__buf *b, const uint32_t *fields, size_t n, uint32_t bits);

/* @p src in upper case (C macro names), truncated to @p cap − 1 characters. */
void splut__upper(char *dst, size_t cap, const char *src);

/* Write @p b to dir/name, a new file in a staging directory (the emitters
 * write nowhere else: splut__dirstage_*). Reports a pending out-of-memory of
 * the buffer as SPLUT_E_NOMEM. */
splut_status splut__buf_write(splut__buf *b, const char *dir, const char *name);

/* ---------------------------------------------------------- network shape */

typedef enum splut__stage_kind {
    SPLUT__STAGE_PLAIN = 0, /* LINEAR / POLY layer: one table per neuron */
    SPLUT__STAGE_SUB = 1,   /* PolyLUT-Add sub-neuron layer: A tables per neuron */
    SPLUT__STAGE_ADDER = 2  /* PolyLUT-Add adder layer: one adder table per neuron */
} splut__stage_kind;

typedef struct splut__stage {
    splut__stage_kind kind;
    size_t layer;         /* layer index in the tables */
    uint32_t neurons;     /* neurons of the layer */
    uint32_t A;           /* tables per neuron in this stage (sub-neurons; 1 otherwise) */
    uint32_t in_fields;   /* fields on the input bus */
    uint32_t in_bits;     /* bits per input field */
    uint32_t fan_in;      /* address fields per table */
    uint32_t out_bits;    /* bits per table output = per output-bus field */
    bool reg_before;      /* a pipeline register drives this stage's input */
    char name[SPLUT__PREFIX_MAX + 24]; /* module name of the stage */
} splut__stage;

typedef struct splut__net {
    splut_ctx *ctx;
    const splut_tables *t;
    const char *prefix;
    int32_t pipeline;
    uint32_t flags;
    uint32_t n_in, in_bits, n_out, out_bits;
    size_t n_stages;
    splut__stage *stages;
    uint32_t latency;     /* register stages */
    /* Input stage (splut_hdl_opts::input): raw features of raw_bits bits
     * become codes through per-feature comparators before stage 0. */
    const splut_input_format *input; /* NULL: M0 carries codes */
    uint32_t raw_bits;
    bool raw_signed;
    uint32_t thr_k;                  /* threshold slots per feature: 2^in_bits − 1 */
    const int32_t *thr;              /* n_in × thr_k */
    const uint16_t *thr_codes;       /* n_in × (thr_k + 1) */
    const uint32_t *thr_steps;       /* n_in */
    /* LUT-node (DWN) models (docs/lut-nodes.md). Layer 0 of a thermometer
     * model reads bus bit f·thermo + l = "code of feature f exceeds l". */
    uint32_t thermo;      /* thermometer levels T per feature; 0: none */
    bool thermo_port;     /* SPLUT_HDL_THERMO_BITS: M0 carries the thermometer bits */
    uint32_t classes;     /* GroupSum classes C; 0: M1 carries the last layer's codes */
    uint32_t group;       /* nodes per class group */
    uint32_t count_bits;  /* bits of one popcount (enough for `group`) */
    uint32_t class_bits;  /* bits of the class index (enough for C − 1, at least 1) */
    bool counts_port;     /* SPLUT_HDL_GROUPSUM_COUNTS: M1 carries the counts, no argmax */
    bool reg_popcount;    /* a pipeline register before the popcounts (any pipelining) */
    bool reg_argmax;      /* and one before the argmax (SPLUT_PIPE_SUBLAYER) */
    uint16_t **filled;    /* SPLUT_HDL_DONT_CARE: per stage, every table with its
                             unreachable entries filled (emit-reach.c); else NULL */
} splut__net;

/* Bits per feature on port M0: raw bits with an input stage, the T
 * thermometer bits with SPLUT_HDL_THERMO_BITS, else code bits. */
static inline uint32_t splut__net_port_bits(const splut__net *net)
{
    return net->input ? net->raw_bits : net->thermo_port ? net->thermo : net->in_bits;
}

/* A module <prefix>_input between M0 and stage 0: the comparators of an input
 * stage, or the thermometer decoding of input codes. */
static inline bool splut__net_has_input_unit(const splut__net *net)
{
    return net->input || (net->thermo && !net->thermo_port);
}

/* Width of the bus stage 0 reads (codes, or thermometer bits). */
static inline uint32_t splut__net_stage0_width(const splut__net *net)
{
    return net->thermo ? net->n_in * net->thermo : net->n_in * net->in_bits;
}

/* Width of the last layer's output bus (the GroupSum head's input). */
uint32_t splut__net_last_width(const splut__net *net);

/* How thermometer bit l of feature f follows from the raw value u (offset
 * binary) of an input stage: a constant, u ≥ threshold i, or u < threshold i. */
typedef enum splut__tbit_kind {
    SPLUT__TBIT_ZERO = 0,
    SPLUT__TBIT_ONE = 1,
    SPLUT__TBIT_GE = 2,
    SPLUT__TBIT_LT = 3
} splut__tbit_kind;
splut__tbit_kind splut__thermo_raw_bit(const splut__net *net, uint32_t f, uint32_t l,
                                       uint32_t *thr_index);

/* The popcount of one GroupSum group as a compressor tree: counters (ROMs
 * of k ≤ 6 one-bit inputs giving their sum in bits_for(k) bits, one LUT6 per
 * output bit) reduce the bits of every weight column in stages until each
 * column holds at most two bits, then one carry-propagate adder adds the two
 * remaining operands. (A binary adder tree over single bits costs about three
 * times more LUTs after synthesis: its first levels reduce nothing.) The plan
 * depends only on the group size; leaf i is bit i of the group. */
#define SPLUT__PC_ZERO UINT32_MAX /* a constant-0 reference */
typedef struct splut__pc_ref {
    uint32_t node; /* < group: leaf; ≥ group: counter node − group; or SPLUT__PC_ZERO */
    uint32_t bit;  /* bit of the counter's output */
} splut__pc_ref;
typedef struct splut__pc_plan {
    uint32_t group, count_bits;
    uint32_t n_counters;
    uint32_t *k;           /* inputs of each counter (3 … 6) */
    uint32_t *first;       /* index of its first input in `in` */
    splut__pc_ref *in;     /* the counters' inputs, in address order (LSB first) */
    splut__pc_ref *a, *b;  /* the final operands, count_bits columns each */
    bool used[7];          /* which counter widths occur */
} splut__pc_plan;
splut_status splut__pc_plan_build(const splut__net *net, splut__pc_plan *p);
void splut__pc_plan_free(const splut__net *net, splut__pc_plan *p);
/* Reference r of group c's plan in Verilog or VHDL syntax: a bit of M0, bit
 * of counter output p<c>_k<n>, or 0. */
void splut__pc_ref_put(splut__buf *b, const splut__pc_plan *p, uint32_t c, bool vhdl,
                       splut__pc_ref r);
/* LUT6 of one group's popcount: the counters' output bits and the adder. */
uint64_t splut__pc_plan_luts(const splut__pc_plan *p);

/* A balanced binary tree over n leaves (n ≥ 1), nodes in post-order: leaf k
 * is node k (k < n); internal node k ≥ n adds nodes a and b (a holds the
 * lower leaves). `leaves` counts the leaves under a node. The root is node
 * 2n − 2. Used for the popcount adder trees and the argmax. */
typedef struct splut__tree_node {
    uint32_t a, b, leaves;
} splut__tree_node;
/* Fill nodes[0 … 2n−2]; nodes must hold 2n − 1 entries. */
void splut__tree_build(splut__tree_node *nodes, uint32_t n);
/* Number of one bits of v. */
uint32_t splut__ones(uint32_t v);
/* Bits that hold the integers 0 … v. */
uint32_t splut__bits_for(uint32_t v);

/* Threshold i of feature f as an unsigned comparison constant: raw values
 * in offset binary (sign bit flipped) for a signed format, so every back-end
 * compares unsigned numbers. */
static inline uint32_t splut__thr_unsigned(const splut__net *net, uint32_t f, uint32_t i)
{
    uint32_t t = (uint32_t)net->thr[(size_t)f * net->thr_k + i];
    uint32_t mask = net->raw_bits >= 32 ? 0xffffffffu : (1u << net->raw_bits) - 1;
    return (t & mask) ^ (net->raw_signed ? 1u << (net->raw_bits - 1) : 0u);
}

/* Code of feature f above its i-th threshold (i = 0: below the first). */
static inline uint16_t splut__thr_code(const splut__net *net, uint32_t f, uint32_t i)
{
    return net->thr_codes[(size_t)f * (net->thr_k + 1) + i];
}

/* Validate options and gather the stages. */
splut_status splut__net_init(splut__net *net, const splut_tables *t, const splut_hdl_opts *opts);
void splut__net_free(splut__net *net);

static inline uint32_t splut__stage_in_width(const splut__stage *s)
{
    return s->in_fields * s->in_bits;
}
static inline uint32_t splut__stage_out_width(const splut__stage *s)
{
    return s->neurons * s->A * s->out_bits;
}

/* Fill net->filled (SPLUT_HDL_DONT_CARE); free it again. */
splut_status splut__net_fill_dont_cares(splut__net *net);
void splut__net_free_filled(splut__net *net);

/* Table number (for splut_tables_data) of table a of a stage. */
uint32_t splut__stage_table(const splut__stage *s, uint32_t a);
/* Module name of table a of neuron j of a stage, into out (≥ SPLUT__PREFIX_MAX + 40). */
void splut__table_name(const splut__net *net, const splut__stage *s, uint32_t j, uint32_t a,
                       char *out, size_t cap);
/* Input-bus field indices feeding table a of neuron j, in address order
 * (fields[0] = most significant address field); fills s->fan_in entries. */
splut_status splut__table_fields(const splut__net *net, const splut__stage *s, uint32_t j,
                                 uint32_t a, uint32_t *fields);
/* Entries of table a of neuron j (don't-care filled with SPLUT_HDL_DONT_CARE). */
splut_status splut__table_data(const splut__net *net, const splut__stage *s, uint32_t j,
                               uint32_t a, const uint16_t **entries);
/* Most common entry of a table (smallest value on ties): the ROM's default. */
uint16_t splut__table_mode(const uint16_t *entries, size_t n, uint32_t out_bits);
/* True when some input-bus field feeds no table of the stage. */
bool splut__stage_has_unused(const splut__net *net, const splut__stage *s);

/* ------------------------------------------------------------- back-ends */

/* The units of the GroupSum head: the counter ROMs of k inputs
 * (<prefix>_count<k>), the popcounts and the argmax. */
typedef struct splut__head_units {
    splut_status (*counter)(const splut__net *net, uint32_t k, splut__buf *b, const char *dir);
    splut_status (*popcount)(const splut__net *net, const splut__pc_plan *p, splut__buf *b,
                             const char *dir);
    splut_status (*argmax)(const splut__net *net, splut__tree_node *nd, splut__buf *b,
                           const char *dir);
} splut__head_units;
/* The GroupSum head: counters, popcounts, then (unless counts_port) the argmax. */
splut_status splut__emit_head(const splut__net *net, splut__buf *b, const char *dir,
                              const splut__head_units *u);
/* Scratch for the argmax tree over the classes (NULL: out of memory). */
splut__tree_node *splut__head_tree_alloc(const splut__net *net);

/* <prefix>_files.txt: every source file (extension @p ext) in compilation order. */
splut_status splut__emit_file_list(const splut__net *net, const char *dir, const char *ext);

/* A module-per-file HDL back-end (Verilog, VHDL): how to write each kind of
 * unit. splut__emit_units walks the network in compilation order. */
typedef struct splut__hdl_units {
    splut_status (*table)(const splut__net *net, const splut__stage *s, uint32_t j, uint32_t a,
                          splut__buf *b, const char *dir);
    splut_status (*stage)(const splut__net *net, const splut__stage *s, splut__buf *b,
                          const char *dir);
    splut_status (*reg)(const splut__net *net, splut__buf *b, const char *dir);
    splut_status (*top)(const splut__net *net, splut__buf *b, const char *dir);
    /* the input stage <prefix>_input (splut__net_has_input_unit) */
    splut_status (*input)(const splut__net *net, splut__buf *b, const char *dir);
    /* the GroupSum head <prefix>_popcount and <prefix>_argmax (net->classes) */
    splut_status (*head)(const splut__net *net, splut__buf *b, const char *dir);
    const char *ext; /* source file extension for <prefix>_files.txt */
} splut__hdl_units;

/* Every table, then each stage, the register (if pipelined), the input
 * stage (if any) and the top level, then the file list. */
splut_status splut__emit_units(const splut__net *net, const splut__hdl_units *u, const char *dir);

/* Vendor-ready outputs (emit-vendor.c): the packed-bus HLS top (types and
 * declaration for <prefix>.h, definition for <prefix>.c), the Vitis HLS
 * script, and the Vivado out-of-context script with its XDC. */
void splut__hls_top_types(const splut__net *net, splut__buf *b);
void splut__hls_top_decl(const splut__net *net, splut__buf *b);
void splut__hls_top_def(const splut__net *net, splut__buf *b);
splut_status splut__emit_vitis_tcl(const splut__net *net, splut__buf *b, const char *dir);
splut_status splut__emit_vivado(const splut__net *net, const char *dir, const char *ext);

splut_status splut__emit_verilog(const splut__net *net, const char *dir);
splut_status splut__emit_vhdl(const splut__net *net, const char *dir);
splut_status splut__emit_hls(const splut__net *net, const char *dir);
/* Testbenches read <prefix>_in.hex / <prefix>_out.hex of n vectors. */
splut_status splut__emit_verilog_tb(const splut__net *net, const char *dir, size_t n);
splut_status splut__emit_vhdl_tb(const splut__net *net, const char *dir, size_t n);
splut_status splut__emit_hls_tb(const splut__net *net, const char *dir, size_t n);

#endif /* SPARSELUT_EMIT_PRIV_H */
