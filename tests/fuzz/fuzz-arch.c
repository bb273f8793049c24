/*
 * Fuzz target: splut_model_create_arch on arbitrary text (NUL-terminated
 * copy of exactly the input's size, so a read past it is seen by ASan). A
 * model that builds must evaluate; a failure must leave *out NULL and a
 * message. The allocator is capped so that huge widths end in SPLUT_E_NOMEM,
 * and the table limit is small so that every table stays cheap.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include <stdlib.h>
#include <string.h>

#include "fuzz-common.h"
#include "fuzz.h"

#define MEMORY_CAP ((size_t)64 << 20)
#define MAX_WIDTH 1024u

static void exercise(const splut_model *m)
{
    uint32_t in = splut_model_num_inputs(m), outs = splut_model_num_outputs(m);
    fuzz_check(in >= 1 && outs >= 1 && splut_model_num_layers(m) >= 1);
    if (in > MAX_WIDTH || outs > MAX_WIDTH)
        return;
    uint32_t bits = splut_model_input_bits(m);
    uint16_t codes[MAX_WIDTH * 2], out[MAX_WIDTH * 2];
    for (size_t i = 0; i < (size_t)in * 2; i++)
        codes[i] = (uint16_t)((i * 2654435761u >> 7) & ((1u << bits) - 1u));
    splut_status st = splut_model_forward_codes(m, codes, 2, out);
    fuzz_check(st == SPLUT_OK || st == SPLUT_E_NOMEM);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *spec = malloc(size + 1);
    fuzz_check(spec != NULL);
    memcpy(spec, data, size);
    spec[size] = '\0';
    splut_ctx *ctx = fuzz_ctx(MEMORY_CAP);
    fuzz_check(splut_ctx_set_int(ctx, SPLUT_P_MAX_TABLE_LOG2, 12) == SPLUT_OK);
    splut_model *m = (splut_model *)&m;
    splut_status st = splut_model_create_arch(ctx, spec, &m);
    if (st == SPLUT_OK) {
        fuzz_check(m != NULL);
        exercise(m);
        splut_model_destroy(m);
    } else {
        fuzz_check(m == NULL);
        fuzz_check_failure(ctx, st);
    }
    splut_ctx_unref(ctx);
    free(spec);
    return 0;
}
