/*
 * Raw fixed-point input formats (the input stage in hardware): validation and
 * range, shared by the threshold computation and the HDL emitters.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#ifndef SPARSELUT_INPUT_PRIV_H
#define SPARSELUT_INPUT_PRIV_H

#include "core-priv.h"

#define SPLUT__RAW_BITS_MAX 24u

/* Check a format for @p n_in features; reports through @p ctx (may be NULL:
 * status only). */
splut_status splut__input_format_check(const splut_ctx *ctx, const splut_input_format *fmt,
                                       uint32_t n_in);
/* Smallest and largest raw value of a (valid) format. */
int32_t splut__raw_min(const splut_input_format *fmt);
int32_t splut__raw_max(const splut_input_format *fmt);

#endif /* SPARSELUT_INPUT_PRIV_H */
