/*
 * Private layout of enumerated truth tables, and the small file helpers
 * (streamed atomic write, directories) shared by the tables and mask modules.
 * CRC-32 comes from lib/modelio-priv.h.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#ifndef SPARSELUT_TABLES_PRIV_H
#define SPARSELUT_TABLES_PRIV_H

#include <stdio.h>

#include "core-priv.h"
#include "fileio-priv.h"

/*
 * One layer of tables. Every neuron owns `stride` consecutive entries of
 * `data`: its A sub tables of `sub_entries` entries each (A = 1 for plain
 * kinds), then, for POLY_ADD only, its adder table of `add_entries` entries.
 */
typedef struct splut_tlayer {
    splut_neuron_kind kind;
    uint32_t in, out;     /* input width, neurons */
    uint32_t F, A;        /* fan-in per (sub-)neuron; sub-neurons (1 unless POLY_ADD) */
    uint32_t in_bits;     /* bits of each input code */
    uint32_t sub_bits;    /* bits of a sub-table entry (out_bits unless POLY_ADD) */
    uint32_t out_bits;    /* bits of the neuron's output code */
    uint64_t sub_entries; /* 2^(F·in_bits) */
    uint64_t add_entries; /* POLY_ADD: 2^(A·sub_bits); else 0 */
    uint64_t stride;      /* entries per neuron */
    uint32_t *conn;       /* out × A·F sorted input indices */
    uint16_t *data;       /* out × stride encoded output codes */
} splut_tlayer;

struct splut_tables {
    splut_ctx *ctx;       /* a reference */
    uint32_t n_inputs, input_bits;
    uint32_t thermo_levels; /* thermometer inputs: levels per feature (layer 0 reads
                             * "code of feature i / T exceeds i % T"); 0 otherwise */
    uint32_t groups;        /* GroupSum head: classes C, the last layer's outputs split
                             * into C equal groups and popcounted; 0: no head */
    size_t n_layers;
    splut_tlayer *layers;
};

/* Allocate an empty tables object with n_layers zeroed layers. */
splut_status splut__tables_alloc(splut_ctx *ctx, size_t n_layers, splut_tables **out);
/* Fill the derived sizes (entries, stride) of a layer from its shape and
 * allocate conn and data; the shape must have been validated. */
splut_status splut__tlayer_alloc(splut_ctx *ctx, splut_tlayer *TL);

#endif /* SPARSELUT_TABLES_PRIV_H */
