/*
 * Helpers shared by the fuzz targets (fuzz-common.h).
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include "fuzz-common.h"
#include "ref-crc32.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

void fuzz_check(int ok)
{
    if (!ok)
        abort();
}

void fuzz_repair_crc(uint8_t *buf, size_t size)
{
    uint32_t crc = ref_crc32(buf, size - 4);
    for (int i = 0; i < 4; i++)
        buf[size - 4 + i] = (uint8_t)(crc >> (8 * i));
}

static char scratch[256];

/* At exit: the files the targets write, then the directory itself. */
static void remove_scratch(void)
{
    static const char *const names[] = {"input.tbl", "saved.tbl", "mask_layer_1.csv",
                                        "mask_layer_2.csv"};
    char path[512];
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        snprintf(path, sizeof(path), "%s/%s", scratch, names[i]);
        unlink(path);
    }
    rmdir(scratch);
}

const char *fuzz_scratch_dir(void)
{
    if (!scratch[0]) {
        const char *base = getenv("TMPDIR");
        snprintf(scratch, sizeof(scratch), "%s/splut-fuzz-XXXXXX",
                 base && *base ? base : "/tmp");
        fuzz_check(mkdtemp(scratch) != NULL);
        atexit(remove_scratch);
    }
    return scratch;
}

const char *fuzz_put_file(const char *name, const uint8_t *p, size_t n)
{
    static char path[512];
    snprintf(path, sizeof(path), "%s/%s", fuzz_scratch_dir(), name);
    if (n == SIZE_MAX) {
        unlink(path);
        return path;
    }
    FILE *f = fopen(path, "wb");
    fuzz_check(f != NULL);
    fuzz_check(n == 0 || fwrite(p, 1, n, f) == n);
    fuzz_check(fclose(f) == 0);
    return path;
}

/* Capped allocator: a header before each block records its size. */
typedef struct capped {
    size_t live, cap;
} capped;

#define HDR 64 /* keeps the 64-byte alignment the library asks for */

static void *capped_alloc(void *user, size_t size, size_t align)
{
    capped *c = user;
    if (align > HDR || size > c->cap || c->live > c->cap - size)
        return NULL;
    void *p = NULL;
    if (posix_memalign(&p, HDR, size + HDR) != 0)
        return NULL;
    memcpy(p, &size, sizeof(size));
    c->live += size;
    return (char *)p + HDR;
}

static void capped_free(void *user, void *q)
{
    capped *c = user;
    if (!q)
        return;
    char *p = (char *)q - HDR;
    size_t size;
    memcpy(&size, p, sizeof(size));
    c->live -= size;
    free(p);
}

splut_ctx *fuzz_ctx(size_t cap_bytes)
{
    static capped cap; /* one context at a time per process */
    cap.live = 0;
    cap.cap = cap_bytes;
    splut_allocator a = {capped_alloc, capped_free, &cap};
    splut_ctx *ctx = NULL;
    fuzz_check(splut_ctx_create(&a, &ctx) == SPLUT_OK);
    fuzz_check(splut_ctx_set_int(ctx, SPLUT_P_THREADS, 1) == SPLUT_OK);
    return ctx;
}

void fuzz_check_failure(const splut_ctx *ctx, splut_status st)
{
    fuzz_check(st < 0);
    fuzz_check(strcmp(splut_status_str(st), "unknown status") != 0);
    fuzz_check(splut_ctx_last_error(ctx)[0] != '\0');
}
