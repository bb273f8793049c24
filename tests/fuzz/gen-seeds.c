/*
 * Writes the seed corpora of fuzz-tables-load, fuzz-masks and fuzz-arch
 * (one directory each, given as arguments): valid tables files of small
 * models of every kind, the mask files of the fuzz-masks model, and
 * architecture strings. Run once and commit the output:
 *   build/tests/fuzz/fuzz-gen-seeds tests/fuzz/corpus-tables \
 *       tests/fuzz/corpus-masks tests/fuzz/corpus-arch
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sparselut/sparselut.h"

static const char *const ARCHS[] = {
    "8:2 add:6:F2:b2:A2 linear:3:F3:b2",
    "6:2 poly:5:F3:b2:D2 linear:2:F2:b2",
    "4:3:relu linear:3:F2:b1",
    "# comment\n16:2 poly:8:F2:b2 add:4:F2:b2:A3:D2\nlinear:2:F2:b3\n",
};

static char *slurp(const char *path, size_t *n)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    char *buf = malloc(1 << 20);
    *n = buf ? fread(buf, 1, 1 << 20, f) : 0;
    fclose(f);
    return buf;
}

static int put(const char *dir, const char *name, const void *p, size_t n)
{
    char path[4096];
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    int bad = !f || fwrite(p, 1, n, f) != n;
    if (f)
        bad |= fclose(f) != 0;
    if (bad)
        fprintf(stderr, "cannot write %s\n", path);
    return bad;
}

static int tables_seeds(splut_ctx *ctx, const char *dir)
{
    int bad = 0;
    for (size_t i = 0; i < sizeof(ARCHS) / sizeof(ARCHS[0]); i++) {
        splut_model *m = NULL;
        splut_tables *t = NULL;
        char name[64];
        snprintf(name, sizeof(name), "%s/valid-%zu", dir, i);
        bad |= splut_model_create_arch(ctx, ARCHS[i], &m) != SPLUT_OK ||
               splut_tables_create(m, &t) != SPLUT_OK || splut_tables_save(t, name) != SPLUT_OK;
        splut_tables_destroy(t);
        splut_model_destroy(m);
    }
    return bad;
}

/* The fuzz-masks model's own masks, joined by a form feed. */
static int masks_seeds(splut_ctx *ctx, const char *dir, const char *scratch)
{
    splut_model *m = NULL;
    int bad = splut_model_create_arch(ctx, ARCHS[0], &m) != SPLUT_OK ||
              splut_model_export_masks(m, scratch) != SPLUT_OK;
    splut_model_destroy(m);
    char p1[4096], p2[4096];
    snprintf(p1, sizeof(p1), "%s/mask_layer_1.csv", scratch);
    snprintf(p2, sizeof(p2), "%s/mask_layer_2.csv", scratch);
    size_t n1 = 0, n2 = 0;
    char *a = slurp(p1, &n1), *b = slurp(p2, &n2);
    char *joined = malloc(n1 + n2 + 1);
    if (bad || !a || !b || !joined) {
        free(a), free(b), free(joined);
        return 1;
    }
    memcpy(joined, a, n1);
    joined[n1] = '\f';
    memcpy(joined + n1 + 1, b, n2);
    bad |= put(dir, "valid", joined, n1 + n2 + 1);
    bad |= put(dir, "first-only", a, n1);
    free(a), free(b), free(joined);
    return bad;
}

static int arch_seeds(const char *dir)
{
    int bad = 0;
    for (size_t i = 0; i < sizeof(ARCHS) / sizeof(ARCHS[0]); i++) {
        char name[32];
        snprintf(name, sizeof(name), "valid-%zu", i);
        bad |= put(dir, name, ARCHS[i], strlen(ARCHS[i]));
    }
    const char *bad_ones[] = {"784:2 poly:10:", "784:2xyz poly:10:F6:b2", "8:2 poly:4:F2:b2:F3"};
    for (size_t i = 0; i < 3; i++) {
        char name[32];
        snprintf(name, sizeof(name), "issue-26-%zu", i);
        bad |= put(dir, name, bad_ones[i], strlen(bad_ones[i]));
    }
    return bad;
}

int main(int argc, char **argv)
{
    if (argc != 5) {
        fprintf(stderr, "usage: %s TABLES_DIR MASKS_DIR ARCH_DIR SCRATCH_DIR\n", argv[0]);
        return 2;
    }
    splut_ctx *ctx = NULL;
    if (splut_ctx_create(NULL, &ctx) != SPLUT_OK)
        return 1;
    int bad = tables_seeds(ctx, argv[1]) | masks_seeds(ctx, argv[2], argv[4]) |
              arch_seeds(argv[3]);
    splut_ctx_unref(ctx);
    return bad;
}
