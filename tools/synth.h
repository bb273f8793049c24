/*
 * Copyright 2026 The libsparselut authors
 * SPDX-License-Identifier: Apache-2.0
 *
 * Hardware counts for `sparselut synth` that run external tools (the CLI's
 * business, never the library's): the fast per-table ABC count
 * (tools/synth-abc.c) and the helpers it shares with tools/cmd-synth.c.
 */
#ifndef SPLUT_TOOLS_SYNTH_H
#define SPLUT_TOOLS_SYNTH_H

#include <stddef.h>
#include <stdint.h>

#include "cli.h"

#define SYNTH_MAX_LAYERS 64

/** Counts of one layer (one pipeline stage with the layer pipeline). */
typedef struct synth_fast_layer {
    uint64_t functions; /**< live, non-constant table output bits mapped */
    uint64_t lut;       /**< Yosys-equivalent LUT1..LUT6 after wide-LUT expansion */
    uint64_t muxf7, muxf8;
    uint64_t lut6, lut4; /**< pure LUT6 / LUT4 mappings (no MUXF) */
    uint32_t depth6;     /**< LUT6 levels of the stage (sub-neuron + adder) */
    uint32_t depth4;     /**< LUT4 levels of the stage */
    uint64_t live_in_bits; /**< input-bus bits some live logic reads */
} synth_fast_layer;

typedef struct synth_fast_result {
    size_t n_layers;
    synth_fast_layer layers[SYNTH_MAX_LAYERS];
    uint64_t lut, muxf7, muxf8, lut6, lut4; /**< sums over the layers */
    uint32_t depth6, depth4;                /**< deepest stage */
    uint64_t register_bits;      /**< flip-flops the emitted design declares */
    uint64_t register_bits_live; /**< of those, the ones live logic reads */
    size_t chunks;
    double seconds;
    char command[1536]; /**< the ABC command lines (run in the work directory) */
    char version[128];  /**< ABC's version line */
} synth_fast_result;

typedef struct synth_fast_opts {
    const char *dir;  /**< working directory (BLIF in and out, ABC log) */
    const char *abc;  /**< ABC executable: yosys-abc or berkeley-abc */
    uint32_t flags;   /**< SPLUT_HDL_* flags the emitted design uses */
    int32_t pipeline; /**< SPLUT_PIPE_* of the emitted design */
    unsigned threads; /**< ABC processes at once */
} synth_fast_opts;

/** Map every live table output bit with ABC and sum; prints errors. */
int synth_fast_count(const splut_tables *t, splut_ctx *ctx, const synth_fast_opts *o,
                     synth_fast_result *r);

/** Flip-flops the emitted design declares for @p pipeline. */
uint64_t synth_register_bits(const splut_tables *t, int32_t pipeline);

#endif
