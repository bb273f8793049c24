/*
 * Copyright 2026 The libsparselut authors
 * SPDX-License-Identifier: Apache-2.0
 */
/**
 * @file emit-input.h
 * @brief `sparselut emit --input-stage`: the raw input format of the design
 * (docs/hdl.md, "Input stage"), its thresholds, and raw test vectors.
 */
#ifndef SPLUT_TOOLS_EMIT_INPUT_H
#define SPLUT_TOOLS_EMIT_INPUT_H

#include <sparselut/sparselut.h>

#include "data.h"

#include <stddef.h>
#include <stdint.h>

/** A parsed --input-stage value. */
typedef struct cli_input_spec {
    int kind;          /**< 0: mnist pixels, 1: auto from the data, 2: explicit Qm.n */
    uint32_t bits;     /**< raw bits (auto: from --input-bits) */
    uint32_t frac;     /**< explicit: fraction bits */
    int is_signed;     /**< explicit: signed */
} cli_input_spec;

/** @brief Parse `mnist`, `auto`, `sB.F` or `uB.F`; returns 0 or -1. */
int cli_input_spec_parse(const char *v, uint32_t auto_bits, cli_input_spec *out);

/** The input stage of one emission. */
typedef struct cli_input_stage {
    splut_input_format fmt;
    double *offset, *scale; /**< standardisation statistics, or NULL */
    int32_t *thr;
    uint16_t *codes;
    uint32_t *steps;
    uint64_t comparators;   /**< thresholds over all features */
} cli_input_stage;

/**
 * @brief The format of @p spec (for `auto` from the range of the raw data)
 * and its thresholds. @p d is the data as loaded without standardisation
 * (NULL without --data); with @p standardize it is standardised here, and
 * the statistics become the format's per-feature offset and scale.
 * @returns CLI_EXIT_OK or CLI_EXIT_FAIL (message printed)
 */
int cli_input_stage_build(const cli_input_spec *spec, const splut_model *m, cli_data *d,
                          int standardize, cli_input_stage *s);
/** @brief Point the emitter options at the stage. */
void cli_input_stage_opts(const cli_input_stage *s, splut_hdl_opts *o);
/**
 * @brief Raw vectors: each feature of the first @p count rows of @p split
 * mapped to the raw value whose float is nearest (ties to the smaller raw
 * value), or uniform random raw values from @p seed when @p split is NULL;
 * and their codes from the model's float path.
 * @param[out] rounded raw values whose float differs from the data's
 * @param[out] changed of those, the ones whose code differs from the code of
 *             the data's own float
 * @returns CLI_EXIT_OK or CLI_EXIT_FAIL (message printed)
 */
int cli_input_vectors(const cli_input_stage *s, const splut_model *m, const cli_split *split,
                      size_t count, uint64_t seed, int32_t **raw, uint16_t **codes,
                      size_t *rounded, size_t *changed);
/** @brief Free the stage's arrays. */
void cli_input_stage_free(cli_input_stage *s);

#endif
