/*
 * Helpers for the model-file tests: small models, a counting/failing
 * allocator, and an independent encoder of the file format written from
 * docs/model-format.md (it shares no code with lib/modelio.c, so comparing
 * the two checks the library against the specification).
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#ifndef SPLUT_IO_TEST_H
#define SPLUT_IO_TEST_H

#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "model-priv.h"
#include "counting-alloc.h"
#include "ref-crc32.h"

/* ------------------------------------------------------- counting allocator */

/* tests/common's allocator; the io tests call it count_alloc and ca_ctx. */
typedef counting_alloc count_alloc;

static inline splut_ctx *ca_ctx(count_alloc *c)
{
    return counting_ctx(c);
}

/* ------------------------------------------------------------ small models */

/* 6 inputs of 2 bits → 5 neurons → 3 outputs; kind and input mode chosen by the test.
 * Running statistics get random values so that the state section is exercised. */
static inline splut_model *small_model(splut_ctx *ctx, splut_neuron_kind kind, int input_mode,
                                       uint64_t seed)
{
    splut_model *m = NULL;
    if (splut_model_create(ctx, 6, 2, &m) != SPLUT_OK)
        return NULL;
    splut_model_set_int(m, SPLUT_P_INPUT_MODE, input_mode);
    for (int l = 0; l < 2; l++) {
        splut_layer_desc d = SPLUT_LAYER_DESC_INIT;
        d.kind = (int32_t)kind;
        d.width = l == 0 ? 5 : 3;
        d.fan_in = 2;
        d.out_bits = 2;
        d.degree = kind == SPLUT_NEURON_LINEAR ? 1 : kind == SPLUT_NEURON_NEURALUT ? 0 : 2;
        d.sub_neurons = kind == SPLUT_NEURON_POLY_ADD ? 2 : 0;
        d.hidden = kind == SPLUT_NEURON_NEURALUT ? 4 : 0;
        if (splut_model_add_layer(m, &d) != SPLUT_OK) {
            splut_model_destroy(m);
            return NULL;
        }
    }
    if (splut_model_build(m) != SPLUT_OK) {
        splut_model_destroy(m);
        return NULL;
    }
    splut_rng r;
    splut__rng_seed(&r, seed);
    for (size_t i = 0; i < m->n_state; i++)
        m->state[i] = (float)(0.1 + splut__rng_uniform(&r)); /* positive: valid variances */
    for (size_t i = 0; i < m->n_params; i++)
        m->params[i] += (float)(0.01 * splut__rng_normal(&r));
    splut_model_set_int(m, SPLUT_P_EPOCHS_TRAINED, 7);
    splut_model_set_double(m, SPLUT_P_TEST_ACCURACY, 0.625);
    strcpy(m->preset, "tiny");
    return m;
}

/* -------------------------------------------------- independent file encoder */

#define IMG_MAX_LAYERS 16

/* Every field of a file, as plain values a test can corrupt before encoding. */
typedef struct image {
    char magic[8];
    uint32_t version, flags;
    uint32_t n_inputs, input_bits, input_mode, n_layers;
    uint64_t n_params, n_state;          /* counts stored in ARCH */
    uint32_t lut_map;                    /* version 2: SPLUT_P_LUT_MAP (0 in these tests) */
    uint32_t layer[IMG_MAX_LAYERS][7];   /* kind width fan_in out_bits degree subs hidden */
    uint32_t n_records;                  /* layer records written; 0: n_layers (max 16) */
    uint32_t *conn;
    size_t n_conn;
    float *params, *state;
    size_t len_params, len_state;        /* lengths actually written */
    double lr, wd, acc, tau; /* tau: GroupSum temperature, written from version 2 on */
    int64_t batch, epochs, trained;
    uint8_t preset[32];
    /* trainer section, written when flags & 1 */
    double hyper[10];   /* lr wd beta1 beta2 eps lr_min conn_tau conn_l1 conn_temp conn_init */
    int64_t ints[7];    /* restart step connectivity steps/epoch switch_epoch regrow candidates */
    uint32_t switched, reserved;
    uint64_t n_moments;
    float *m1, *m2;
    size_t len_moments;
    size_t extra;                        /* zero bytes appended after the last section */
} image;

static inline void image_free(image *im)
{
    free(im->conn);
    free(im->params);
    free(im->state);
    free(im->m1);
    free(im->m2);
    memset(im, 0, sizeof(*im));
}

/* From a built model, through the public API where one exists. */
static inline void image_from_model(const splut_model *m, image *im)
{
    memset(im, 0, sizeof(*im));
    memcpy(im->magic, "SPLUTMDL", 8);
    im->version = 2;
    im->n_inputs = splut_model_num_inputs(m);
    im->input_bits = splut_model_input_bits(m);
    int64_t v;
    splut_model_get_int(m, SPLUT_P_INPUT_MODE, &v);
    im->input_mode = (uint32_t)v;
    im->n_layers = (uint32_t)splut_model_num_layers(m);
    size_t total_conn = 0;
    for (uint32_t l = 0; l < im->n_layers; l++) {
        splut_layer_desc d = SPLUT_LAYER_DESC_INIT;
        splut_model_layer(m, l, &d);
        uint32_t f[7] = {(uint32_t)d.kind, d.width,       d.fan_in, d.out_bits,
                         d.degree,         d.sub_neurons, d.hidden};
        memcpy(im->layer[l], f, sizeof(f));
        size_t k = 0;
        splut_model_get_inputs(m, l, 0, NULL, 0, &k);
        total_conn += k * d.width;
    }
    im->conn = malloc((total_conn ? total_conn : 1) * sizeof(uint32_t));
    im->n_conn = 0;
    for (uint32_t l = 0; l < im->n_layers; l++) {
        for (uint32_t n = 0; n < im->layer[l][1]; n++) {
            size_t k = 0;
            splut_model_get_inputs(m, l, n, im->conn + im->n_conn, total_conn - im->n_conn, &k);
            im->n_conn += k;
        }
    }
    im->len_params = im->n_params = splut_model_num_params(m);
    im->params = malloc((im->len_params + 1) * sizeof(float));
    splut_model_params((splut_model *)m, im->params, 1);
    im->len_state = im->n_state = m->n_state; /* no public accessor for running stats */
    im->state = malloc((im->len_state + 1) * sizeof(float));
    memcpy(im->state, m->state, im->len_state * sizeof(float));
    splut_model_get_double(m, SPLUT_P_RECIPE_LR, &im->lr);
    splut_model_get_double(m, SPLUT_P_RECIPE_WD, &im->wd);
    splut_model_get_double(m, SPLUT_P_TEST_ACCURACY, &im->acc);
    splut_model_get_double(m, SPLUT_P_GROUPSUM_TAU, &im->tau);
    splut_model_get_int(m, SPLUT_P_RECIPE_BATCH, &im->batch);
    splut_model_get_int(m, SPLUT_P_RECIPE_EPOCHS, &im->epochs);
    splut_model_get_int(m, SPLUT_P_EPOCHS_TRAINED, &im->trained);
    memcpy(im->preset, m->preset, strlen(m->preset));
}


typedef struct obuf {
    uint8_t *p;
    size_t n, cap;
} obuf;

static inline void ob_put(obuf *o, const void *src, size_t n)
{
    if (o->n + n > o->cap) {
        o->cap = 2 * (o->n + n) + 64;
        o->p = realloc(o->p, o->cap);
    }
    memcpy(o->p + o->n, src, n);
    o->n += n;
}

static inline void ob_le(obuf *o, uint64_t v, int bytes)
{
    uint8_t b[8];
    for (int i = 0; i < bytes; i++)
        b[i] = (uint8_t)(v >> (8 * i));
    ob_put(o, b, (size_t)bytes);
}

static inline void ob_f32(obuf *o, float f)
{
    uint32_t u;
    memcpy(&u, &f, 4);
    ob_le(o, u, 4);
}

static inline void ob_f64(obuf *o, double f)
{
    uint64_t u;
    memcpy(&u, &f, 8);
    ob_le(o, u, 8);
}

/* Section = tag, u64 length, payload. */
static inline void ob_section(obuf *o, const char *tag, const obuf *payload)
{
    ob_put(o, tag, 4);
    ob_le(o, payload->n, 8);
    if (payload->n)
        ob_put(o, payload->p, payload->n);
}

/* Encode an image as docs/model-format.md describes; caller frees. */
static inline uint8_t *image_encode(const image *im, size_t *size)
{
    obuf o = {0}, s = {0};
    ob_put(&o, im->magic, 8);
    ob_le(&o, im->version, 4);
    ob_le(&o, im->flags, 4);
    ob_le(&o, 0, 8); /* size, patched below */
    uint32_t hdr[4] = {im->n_inputs, im->input_bits, im->input_mode, im->n_layers};
    for (int i = 0; i < 4; i++)
        ob_le(&s, hdr[i], 4);
    ob_le(&s, im->n_params, 8);
    ob_le(&s, im->n_state, 8);
    if (im->version >= 2) { /* learnable mapping (SPLUT_P_LUT_MAP), reserved */
        ob_le(&s, im->lut_map, 4);
        ob_le(&s, 0, 4);
    }
    uint32_t nl = im->n_records ? im->n_records : im->n_layers;
    nl = nl < IMG_MAX_LAYERS ? nl : IMG_MAX_LAYERS;
    for (uint32_t l = 0; l < nl; l++)
        for (int f = 0; f < 7; f++)
            ob_le(&s, im->layer[l][f], 4);
    ob_section(&o, "ARCH", &s);
    s.n = 0;
    for (size_t i = 0; i < im->n_conn; i++)
        ob_le(&s, im->conn[i], 4);
    ob_section(&o, "CONN", &s);
    s.n = 0;
    for (size_t i = 0; i < im->len_params; i++)
        ob_f32(&s, im->params[i]);
    ob_section(&o, "PARM", &s);
    s.n = 0;
    for (size_t i = 0; i < im->len_state; i++)
        ob_f32(&s, im->state[i]);
    ob_section(&o, "STAT", &s);
    s.n = 0;
    ob_f64(&s, im->lr);
    ob_f64(&s, im->wd);
    ob_le(&s, (uint64_t)im->batch, 8);
    ob_le(&s, (uint64_t)im->epochs, 8);
    ob_le(&s, (uint64_t)im->trained, 8);
    ob_f64(&s, im->acc);
    ob_put(&s, im->preset, 32);
    if (im->version >= 2)
        ob_f64(&s, im->tau);
    ob_section(&o, "META", &s);
    if (im->flags & 1u) {
        s.n = 0;
        for (int i = 0; i < 6; i++)
            ob_f64(&s, im->hyper[i]);
        for (int i = 0; i < 7; i++)
            ob_le(&s, (uint64_t)im->ints[i], 8);
        for (int i = 6; i < 10; i++)
            ob_f64(&s, im->hyper[i]);
        ob_le(&s, im->switched, 4);
        ob_le(&s, im->reserved, 4);
        ob_le(&s, im->n_moments, 8);
        for (size_t i = 0; i < im->len_moments; i++)
            ob_f32(&s, im->m1[i]);
        for (size_t i = 0; i < im->len_moments; i++)
            ob_f32(&s, im->m2[i]);
        ob_section(&o, "TRNR", &s);
    }
    for (size_t i = 0; i < im->extra; i++)
        ob_le(&o, 0, 1);
    uint64_t total = o.n + 4;
    for (int i = 0; i < 8; i++)
        o.p[16 + i] = (uint8_t)(total >> (8 * i));
    ob_le(&o, ref_crc32(o.p, o.n), 4);
    free(s.p);
    *size = o.n;
    return o.p;
}

/* Recompute the trailing CRC after a test edited bytes in place. */
static inline void refresh_crc(uint8_t *p, size_t size)
{
    uint32_t c = ref_crc32(p, size - 4);
    for (int i = 0; i < 4; i++)
        p[size - 4 + i] = (uint8_t)(c >> (8 * i));
}

#endif /* SPLUT_IO_TEST_H */
