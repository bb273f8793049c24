/*
 * Fuzz target: splut_tables_load on arbitrary bytes. Tables that load must
 * run (splut_tables_forward, every output code below 2^bits) and save back
 * to exactly the same bytes (the format has one encoding per set of tables).
 *
 * Each input is tried twice: as is, and with its CRC-32 repaired, so that
 * mutations reach the content checks behind the checksum.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz-common.h"
#include "fuzz.h"

#define MAX_WIDTH 4096u
#define SAMPLES 8u
#define MEMORY_CAP ((size_t)256 << 20)

static void exercise(const splut_tables *t)
{
    uint32_t in = 0, in_bits = 0, outs = 0, out_bits = 0;
    fuzz_check(splut_tables_io(t, &in, &in_bits, &outs, &out_bits) == SPLUT_OK);
    fuzz_check(in_bits >= 1 && in_bits <= 8 && out_bits >= 1 && out_bits <= 8);
    if (in > MAX_WIDTH || outs > MAX_WIDTH)
        return;
    uint16_t *codes = malloc((size_t)in * SAMPLES * sizeof(uint16_t) + 1);
    uint16_t *out = malloc((size_t)outs * SAMPLES * sizeof(uint16_t) + 1);
    fuzz_check(codes && out);
    for (size_t i = 0; i < (size_t)in * SAMPLES; i++)
        codes[i] = (uint16_t)((i * 2654435761u >> 7) & ((1u << in_bits) - 1u));
    splut_status st = splut_tables_forward(t, codes, SAMPLES, out);
    fuzz_check(st == SPLUT_OK || st == SPLUT_E_NOMEM);
    for (size_t i = 0; st == SPLUT_OK && i < (size_t)outs * SAMPLES; i++)
        fuzz_check(out[i] < (1u << out_bits));
    free(codes);
    free(out);
}

/* Saved again, the tables are the same bytes. */
static void check_canonical(const splut_tables *t, const uint8_t *data, size_t size)
{
    const char *path = fuzz_put_file("saved.tbl", NULL, SIZE_MAX);
    splut_status st = splut_tables_save(t, path);
    fuzz_check(st == SPLUT_OK || st == SPLUT_E_NOMEM);
    if (st != SPLUT_OK)
        return;
    FILE *f = fopen(path, "rb");
    fuzz_check(f != NULL);
    uint8_t *buf = malloc(size + 1);
    fuzz_check(buf != NULL);
    size_t n = fread(buf, 1, size + 1, f);
    fclose(f);
    fuzz_check(n == size && memcmp(buf, data, size) == 0);
    free(buf);
}

static void load_one(const uint8_t *data, size_t size)
{
    splut_ctx *ctx = fuzz_ctx(MEMORY_CAP);
    const char *path = fuzz_put_file("input.tbl", data, size);
    splut_tables *t = NULL;
    splut_status st = splut_tables_load(ctx, path, &t);
    if (st == SPLUT_OK) {
        fuzz_check(t != NULL);
        exercise(t);
        check_canonical(t, data, size);
        splut_tables_destroy(t);
    } else {
        fuzz_check(t == NULL);
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
    fuzz_repair_crc(fixed, size);
    load_one(fixed, size);
    free(fixed);
    return 0;
}
