/*
 * Fuzz target: splut_model_deserialize on arbitrary bytes. A file that loads
 * must run (forward_codes), give in-range output codes, and serialise back
 * to exactly the same bytes (the format has one encoding per model).
 * Violations abort, which both libFuzzer and the replay driver report.
 *
 * Each input is tried twice: as is, and with its size field and CRC-32
 * repaired, so that mutations reach the content checks behind the checksum.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include <stdlib.h>
#include <string.h>

#include "fuzz-common.h"
#include "fuzz.h"
#include "sparselut/sparselut.h"

#define MAX_INPUTS 4096u
#define SAMPLES 8u

/* A loaded model must evaluate, with every output code below 2^bits. */
static void exercise(const splut_model *m)
{
    uint32_t in = splut_model_num_inputs(m), outs = splut_model_num_outputs(m);
    if (in > MAX_INPUTS || outs > MAX_INPUTS)
        return; /* valid but too wide to evaluate quickly */
    uint32_t bits = splut_model_input_bits(m);
    uint16_t *codes = malloc((size_t)in * SAMPLES * sizeof(uint16_t));
    uint16_t *out = malloc((size_t)outs * SAMPLES * sizeof(uint16_t));
    fuzz_check(codes && out);
    for (size_t i = 0; i < (size_t)in * SAMPLES; i++)
        codes[i] = (uint16_t)((i * 2654435761u >> 7) & ((1u << bits) - 1u));
    splut_status st = splut_model_forward_codes(m, codes, SAMPLES, out);
    fuzz_check(st == SPLUT_OK || st == SPLUT_E_NOMEM);
    if (st == SPLUT_OK) {
        splut_layer_desc d = SPLUT_LAYER_DESC_INIT;
        fuzz_check(splut_model_layer(m, splut_model_num_layers(m) - 1, &d) == SPLUT_OK);
        for (size_t i = 0; i < (size_t)outs * SAMPLES; i++)
            fuzz_check(out[i] < (1u << d.out_bits));
    }
    free(codes);
    free(out);
}

/* Plain model files (no trainer flag) of the current format version
 * re-serialise to the identical bytes (older versions are rewritten in the
 * current one). */
static void check_canonical(const splut_model *m, const uint8_t *data, size_t size)
{
    if (size < 16 || data[12] != 0 || data[8] != 2 || data[9] || data[10] || data[11])
        return;
    size_t n = 0;
    fuzz_check(splut_model_serialize(m, NULL, 0, &n) == SPLUT_OK);
    fuzz_check(n == size);
    uint8_t *buf = malloc(n);
    fuzz_check(buf != NULL);
    fuzz_check(splut_model_serialize(m, buf, n, &n) == SPLUT_OK);
    fuzz_check(memcmp(buf, data, n) == 0);
    free(buf);
}

static void load_one(const uint8_t *data, size_t size)
{
    splut_ctx *ctx = NULL;
    if (splut_ctx_create(NULL, &ctx) != SPLUT_OK)
        return;
    splut_ctx_set_int(ctx, SPLUT_P_THREADS, 1);
    splut_model *m = NULL;
    splut_status st = splut_model_deserialize(ctx, data, size, &m);
    if (st == SPLUT_OK) {
        fuzz_check(m != NULL);
        exercise(m);
        check_canonical(m, data, size);
        splut_model_destroy(m);
    } else {
        fuzz_check(m == NULL);
        fuzz_check_failure(ctx, st);
    }
    splut_ctx_unref(ctx);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    load_one(data, size);
    if (size < 28)
        return 0;
    uint8_t *fixed = malloc(size);
    fuzz_check(fixed != NULL);
    memcpy(fixed, data, size);
    for (int i = 0; i < 8; i++)
        fixed[16 + i] = (uint8_t)((uint64_t)size >> (8 * i));
    fuzz_repair_crc(fixed, size);
    load_one(fixed, size);
    free(fixed);
    return 0;
}
