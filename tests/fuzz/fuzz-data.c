/*
 * Fuzz targets of libsparselut-data's parsers, one binary per format
 * (FUZZ_CSV, FUZZ_IDX, FUZZ_JSC, FUZZ_UNSW or FUZZ_FILE is defined by the build):
 * arbitrary bytes either parse into datasets that keep the documented
 * invariants (finite features, labels ≥ 0, consistent shapes; UNSW features
 * are 0 or 1) or fail with a known status and a message. Violations abort.
 *
 * IDX inputs are split into an image file and a label file at the offset
 * given by the first two bytes. CSV inputs choose the label column with the
 * first byte (last column, a name, or an index). FUZZ_FILE writes the input to
 * a temporary file and reads it as a file (raw, gzip or zip) with
 * splut_data_read_file() and as a UNSW-NB15 file (zip members included).
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fuzz-common.h"
#include "fuzz.h"
#include "sparselut/sparselut-data.h"

static void check_dataset(const splut_dataset *d, int binary)
{
    size_t n = splut_dataset_num_samples(d);
    uint32_t f = splut_dataset_num_features(d);
    fuzz_check(n > 0 && f > 0);
    const float *x = splut_dataset_features(d);
    const int32_t *y = splut_dataset_labels(d);
    for (size_t i = 0; i < n; i++) {
        fuzz_check(y[i] >= 0 && (uint32_t)y[i] < splut_dataset_num_classes(d));
        for (uint32_t j = 0; j < f; j++)
            fuzz_check(isfinite(x[i * f + j]) && (!binary || x[i * f + j] == 0.0f ||
                                              x[i * f + j] == 1.0f));
    }
}

static void check_failure(splut_ctx *ctx, splut_status st)
{
    fuzz_check(st < 0 && strcmp(splut_status_str(st), "unknown status") != 0);
    fuzz_check(splut_ctx_last_error(ctx)[0] != '\0');
}

#if defined(FUZZ_FILE)
static char temp_file[64];

static void remove_temp_file(void)
{
    unlink(temp_file);
}

/* One temporary file per process, rewritten for every input. */
static const char *temp_path(void)
{
    if (!temp_file[0]) {
        snprintf(temp_file, sizeof temp_file, "/tmp/fuzz-data-file-%ld", (long)getpid());
        atexit(remove_temp_file);
    }
    return temp_file;
}

static splut_status parse_file(splut_ctx *ctx, const uint8_t *data, size_t size,
                               splut_dataset **a, splut_dataset **b)
{
    const char *path = temp_path();
    FILE *f = fopen(path, "wb");
    fuzz_check(f != NULL);
    fuzz_check(fwrite(data, 1, size, f) == size);
    fuzz_check(fclose(f) == 0);
    void *buf = NULL;
    size_t len = 0;
    splut_status st = splut_data_read_file(ctx, path, (uint64_t)1 << 24, &buf, &len);
    fuzz_check(st != SPLUT_OK || (buf != NULL && ((const char *)buf)[len] == 0));
    if (st != SPLUT_OK)
        check_failure(ctx, st);
    splut_data_free(buf);
    splut_data_opts o = SPLUT_DATA_OPTS_INIT;
    o.max_bytes = (uint64_t)1 << 24;
    return splut_data_load_unsw(ctx, path, &o, a, b);
}
#endif

static splut_status parse(splut_ctx *ctx, const uint8_t *data, size_t size,
                          splut_dataset **a, splut_dataset **b)
{
#if defined(FUZZ_CSV)
    static const char *const labels[4] = {NULL, "label", "0", "1"};
    splut_data_opts o = SPLUT_DATA_OPTS_INIT;
    if (size == 0)
        return splut_data_parse_csv(ctx, data, 0, "f.csv", NULL, a);
    o.label = labels[data[0] & 3];
    (void)b;
    return splut_data_parse_csv(ctx, data + 1, size - 1, "f.csv", &o, a);
#elif defined(FUZZ_IDX)
    size_t cut = size >= 2 ? ((size_t)data[0] << 8 | data[1]) : 0;
    const uint8_t *rest = size >= 2 ? data + 2 : data;
    size_t n = size >= 2 ? size - 2 : 0;
    cut = cut < n ? cut : n;
    (void)b;
    return splut_data_parse_idx(ctx, rest, cut, rest + cut, n - cut, "f.idx", a);
#elif defined(FUZZ_JSC)
    return splut_data_parse_jsc(ctx, data, size, "f.csv", NULL, a, b);
#elif defined(FUZZ_UNSW)
    return splut_data_parse_unsw(ctx, data, size, "f.csv", NULL, a, b);
#elif defined(FUZZ_FILE)
    return parse_file(ctx, data, size, a, b);
#else
#error "define FUZZ_CSV, FUZZ_IDX, FUZZ_JSC, FUZZ_UNSW or FUZZ_FILE"
#endif
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    splut_ctx *ctx = NULL;
    if (splut_ctx_create(NULL, &ctx) != SPLUT_OK)
        return 0;
    splut_dataset *a = NULL, *b = NULL;
    splut_status st = parse(ctx, data, size, &a, &b);
#if defined(FUZZ_UNSW) || defined(FUZZ_FILE)
    const int binary = 1;
#else
    const int binary = 0;
#endif
    if (st == SPLUT_OK) {
        fuzz_check(a != NULL);
        check_dataset(a, binary);
        if (b) {
            check_dataset(b, binary);
            fuzz_check(splut_dataset_num_features(a) == splut_dataset_num_features(b));
        }
    } else {
        fuzz_check(a == NULL && b == NULL);
        check_failure(ctx, st);
    }
    splut_dataset_destroy(a);
    splut_dataset_destroy(b);
    splut_ctx_unref(ctx);
    return 0;
}
