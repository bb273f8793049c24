/*
 * Helpers shared by the core unit tests: the counting allocator of
 * tests/common, a log recorder, and small model builders.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#ifndef SPARSELUT_CORE_TEST_H
#define SPARSELUT_CORE_TEST_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "counting-alloc.h"
#include "sparselut/sparselut.h"

/* Fixture: a default context in *state. */
static inline int setup_ctx(void **state)
{
    splut_ctx *ctx = NULL;
    if (splut_ctx_create(NULL, &ctx) != SPLUT_OK)
        return -1;
    *state = ctx;
    return 0;
}

static inline int teardown_ctx(void **state)
{
    splut_ctx_unref(*state);
    return 0;
}

/* Records the last log message. */
typedef struct log_record {
    int calls;
    splut_log_level level;
    splut_status code;
    char msg[600];
} log_record;

static inline void record_log(void *user, splut_log_level level, splut_status code,
                              const char *msg)
{
    log_record *r = user;
    r->calls++;
    r->level = level;
    r->code = code;
    strncpy(r->msg, msg, sizeof(r->msg) - 1);
    r->msg[sizeof(r->msg) - 1] = '\0';
}

static inline splut_layer_desc layer_desc(splut_neuron_kind kind, uint32_t width,
                                          uint32_t fan_in, uint32_t out_bits, uint32_t degree,
                                          uint32_t sub_neurons)
{
    splut_layer_desc d = SPLUT_LAYER_DESC_INIT;
    d.kind = (int32_t)kind;
    d.width = width;
    d.fan_in = fan_in;
    d.out_bits = out_bits;
    d.degree = degree;
    d.sub_neurons = sub_neurons;
    return d;
}

/* A small model mixing all implemented kinds: 12 inputs of 3 bits →
 * POLY_ADD(10, F=2, A=2, D=2, 2 bits) → POLY(8, F=3, D=2, 3 bits) →
 * LINEAR(4, F=3, 2 bits). */
static inline splut_status build_mixed_model(splut_ctx *ctx, splut_model **out)
{
    splut_model *m = NULL;
    splut_status st = splut_model_create(ctx, 12, 3, &m);
    if (st != SPLUT_OK)
        return st;
    splut_layer_desc d[3] = {
        layer_desc(SPLUT_NEURON_POLY_ADD, 10, 2, 2, 2, 2),
        layer_desc(SPLUT_NEURON_POLY, 8, 3, 3, 2, 0),
        layer_desc(SPLUT_NEURON_LINEAR, 4, 3, 2, 1, 0),
    };
    for (int i = 0; i < 3 && st == SPLUT_OK; i++)
        st = splut_model_add_layer(m, &d[i]);
    if (st == SPLUT_OK)
        st = splut_model_build(m);
    if (st != SPLUT_OK) {
        splut_model_destroy(m);
        return st;
    }
    *out = m;
    return SPLUT_OK;
}

/* xorshift64* for test data, independent of the library RNG. */
static inline uint64_t test_rand(uint64_t *s)
{
    *s ^= *s >> 12;
    *s ^= *s << 25;
    *s ^= *s >> 27;
    return *s * 0x2545F4914F6CDD1Dull;
}

/* Uniform float in [-a, a). */
static inline float test_uniform(uint64_t *s, float a)
{
    return (float)((double)(test_rand(s) >> 11) / 9007199254740992.0 * 2.0 - 1.0) * a;
}

/* Overwrite every weight and bias of a built model with random values so that
 * outputs depend on the inputs in a non-trivial way. Quantiser scales and BN
 * parameters stay at their initial values. */
static inline splut_status randomize_params(splut_model *m, uint64_t seed)
{
    size_t np = splut_model_num_params(m);
    float *p = malloc(np * sizeof(float));
    if (!p)
        return SPLUT_E_NOMEM;
    splut_status st = splut_model_params(m, p, 1);
    uint64_t s = seed | 1;
    /* Perturb every value a little: scales stay near their initial values. */
    for (size_t i = 0; st == SPLUT_OK && i < np; i++)
        p[i] += test_uniform(&s, 0.5f);
    if (st == SPLUT_OK)
        st = splut_model_params(m, p, 0);
    free(p);
    return st;
}

#endif /* SPARSELUT_CORE_TEST_H */
