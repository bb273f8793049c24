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
    size_t n_layers;
    splut_tlayer *layers;
};

/* Allocate an empty tables object with n_layers zeroed layers. */
splut_status splut__tables_alloc(splut_ctx *ctx, size_t n_layers, splut_tables **out);
/* Fill the derived sizes (entries, stride) of a layer from its shape and
 * allocate conn and data; the shape must have been validated. */
splut_status splut__tlayer_alloc(splut_ctx *ctx, splut_tlayer *TL);

/* Atomic file write: data goes to a temporary file next to `path`, which is
 * renamed over `path` on commit and removed on abort. */
typedef struct splut_afile {
    splut_ctx *ctx;
    FILE *fp;
    char *tmp;
    char *path;
    bool failed;          /* a write failed; commit will refuse */
    int err;              /* errno of the failed write */
} splut_afile;

splut_status splut__afile_open(splut_ctx *ctx, const char *path, splut_afile *af);
void splut__afile_write(splut_afile *af, const void *data, size_t len);
void splut__afile_printf(splut_afile *af, const char *fmt, ...) SPLUT_PRINTF(2, 3);
splut_status splut__afile_commit(splut_afile *af);
void splut__afile_abort(splut_afile *af);

/* Create directory `dir` if it does not exist. */
splut_status splut__ensure_dir(const splut_ctx *ctx, const char *dir);
/* dir + "/" + name through the context allocator; NULL on failure. */
char *splut__path_join(splut_ctx *ctx, const char *dir, const char *name);

#endif /* SPARSELUT_TABLES_PRIV_H */
