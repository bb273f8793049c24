/*
 * Deterministic CSV and JSC inputs of the bit-identity tests. The golden
 * fingerprints in test-data.c were computed from exactly these inputs by the
 * CLI's former parsers (tools/data.c at ed7ec52), so this file must not change.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#ifndef SPLUT_TEST_GEN_INPUTS_H
#define SPLUT_TEST_GEN_INPUTS_H

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

static uint32_t gen_lcg(uint32_t *s)
{
    *s = *s * 1664525u + 1013904223u;
    return *s >> 8;
}

/* A CSV of @p rows rows: four numeric features written in several notations, label last. */
static char *gen_csv(size_t rows)
{
    size_t cap = 64 + rows * 160, len = 0;
    char *t = malloc(cap);
    uint32_t s = 12345;
    len += (size_t)snprintf(t + len, cap - len, "a,b,c,d,label\n");
    for (size_t i = 0; i < rows; i++) {
        double u = (double)gen_lcg(&s) / 16777216.0 - 0.5;
        int e = (int)(gen_lcg(&s) % 9) - 4;
        /* Drawn in this order (the golden values depend on it), not inside the
         * argument list, whose evaluation order C leaves open. */
        unsigned label = (unsigned)(gen_lcg(&s) % 4);
        int mant = (int)(gen_lcg(&s) % 2000) - 1000;
        len += (size_t)snprintf(t + len, cap - len, "%.9g,%.17g,%de%d,%.3f,%u\n",
                                u * pow(10, e), u / 3.0, mant, e, u * 100, label);
    }
    return t;
}

static const char *const gen_jsc_names[16] = {
    "j_zlogz",        "j_c1_b0_mmdt",    "j_c1_b1_mmdt", "j_c1_b2_mmdt", "j_c2_b1_mmdt",
    "j_c2_b2_mmdt",   "j_d2_b1_mmdt",    "j_d2_b2_mmdt", "j_d2_a1_b1_mmdt",
    "j_d2_a1_b2_mmdt", "j_m2_b1_mmdt",   "j_m2_b2_mmdt", "j_n2_b1_mmdt", "j_n2_b2_mmdt",
    "j_mass_mmdt",    "j_multiplicity"};

/* A JSC file in the OpenML layout: @p rows rows, every 7th a duplicate of an earlier one. */
static char *gen_jsc(size_t rows)
{
    size_t cap = 400 + rows * 300, len = 0;
    char *t = malloc(cap);
    for (int f = 0; f < 16; f++)
        len += (size_t)snprintf(t + len, cap - len, "%s,", gen_jsc_names[f]);
    len += (size_t)snprintf(t + len, cap - len, "class\n");
    for (size_t i = 0; i < rows; i++) {
        uint32_t rs = 5000u + (uint32_t)(i % 7 == 6 ? i - 6 : i);
        for (int f = 0; f < 16; f++) {
            double v = ((double)gen_lcg(&rs) / 16777216.0 - 0.3) * (f + 1);
            len += (size_t)snprintf(t + len, cap - len, "%.8g,", v);
        }
        len += (size_t)snprintf(t + len, cap - len, "%c\n", "gqwzt"[gen_lcg(&rs) % 5]);
    }
    return t;
}

#endif
