/*
 * Shared helpers of the tables tests: a counting/failing allocator, a small
 * RNG, and a white-box perturbation that makes untrained models produce
 * non-trivial codes.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#ifndef TABLES_TEST_H
#define TABLES_TEST_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model-priv.h"
#include "counting-alloc.h"

/* ---------------------------------------------------------------- allocator */

/* A context on the counting allocator of tests/common (threads as configured). */
static inline splut_ctx *ca_ctx(counting_alloc *c)
{
    splut_allocator a = counting_allocator(c);
    splut_ctx *ctx = NULL;
    assert_int_equal(splut_ctx_create(&a, &ctx), SPLUT_OK);
    return ctx;
}

/* ---------------------------------------------------------------------- RNG */

static inline uint64_t rng_next(uint64_t *s)
{
    /* splitmix64 */
    uint64_t z = (*s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

static inline double rng_unif(uint64_t *s, double lo, double hi)
{
    return lo + (hi - lo) * (double)(rng_next(s) >> 11) / 9007199254740992.0;
}

static inline void random_codes(uint64_t *s, uint16_t *codes, size_t n, uint32_t bits)
{
    for (size_t i = 0; i < n; i++)
        codes[i] = (uint16_t)(rng_next(s) & ((1u << bits) - 1));
}

/* --------------------------------------------------------------- perturbing */

/* BN running statistics, BN affine and quantiser scales away from their
 * initial values, so untrained models give varied codes. */
static inline void perturb_model(splut_model *m, uint64_t seed)
{
    uint64_t s = seed;
    float *P = m->params, *S = m->state;
    P[m->in_q.theta] = (float)rng_unif(&s, -0.7, 0.7);
    for (size_t l = 0; l < m->n_layers; l++) {
        splut_layer *L = &m->layers[l];
        for (uint32_t n = 0; n < L->out; n++) {
            S[L->run_mean + n] = (float)rng_unif(&s, -0.3, 0.3);
            S[L->run_var + n] = (float)rng_unif(&s, 0.05, 0.6);
            P[L->bn_gamma + n] = (float)rng_unif(&s, 0.5, 1.5);
            P[L->bn_beta + n] = (float)rng_unif(&s, -0.2, 0.4);
        }
        P[L->out_q.theta] = (float)rng_unif(&s, -0.5, 0.8);
        if (L->kind == SPLUT_NEURON_POLY_ADD)
            P[L->sub_q.theta] = (float)rng_unif(&s, -1.5, 0.0);
    }
}

#endif /* TABLES_TEST_H */
