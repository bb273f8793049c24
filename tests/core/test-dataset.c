/*
 * Datasets: copy versus borrow, validation of rows, image shape, fingerprint,
 * reference counting, allocation failure, rows filled in place, standardisation,
 * the fixed-point format fitted to the data.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include "core-test.h"

#include <math.h>

static float X[6] = {0.5f, -1.0f, 2.0f, 3.0f, 0.0f, 1.5f}; /* 3 rows x 2 */
static int32_t Y[3] = {2, 0, 4};

static splut_ctx *new_ctx(void)
{
    splut_ctx *ctx = NULL;
    assert_int_equal(splut_ctx_create(NULL, &ctx), SPLUT_OK);
    return ctx;
}

static void test_copy_is_independent(void **state)
{
    (void)state;
    splut_ctx *ctx = new_ctx();
    float x[6];
    int32_t y[3];
    memcpy(x, X, sizeof x);
    memcpy(y, Y, sizeof y);
    splut_dataset *ds = NULL;
    assert_int_equal(splut_dataset_create(ctx, 3, 2, x, y, SPLUT_DATASET_COPY, &ds), SPLUT_OK);
    x[0] = 99.0f;
    y[2] = 7;
    assert_true(splut_dataset_features(ds) != x);
    assert_true(splut_dataset_features(ds)[0] == 0.5f);
    assert_int_equal(splut_dataset_labels(ds)[2], 4);
    assert_int_equal(splut_dataset_num_samples(ds), 3);
    assert_int_equal(splut_dataset_num_features(ds), 2);
    assert_int_equal(splut_dataset_num_classes(ds), 5);
    assert_ptr_equal(splut_dataset_ctx(ds), ctx);
    splut_dataset_destroy(ds);
    splut_ctx_unref(ctx);
}

static void test_borrow_shares_memory(void **state)
{
    (void)state;
    splut_ctx *ctx = new_ctx();
    splut_dataset *ds = NULL;
    assert_int_equal(splut_dataset_create(ctx, 3, 2, X, Y, SPLUT_DATASET_BORROW, &ds), SPLUT_OK);
    assert_ptr_equal(splut_dataset_features(ds), X);
    assert_ptr_equal(splut_dataset_labels(ds), Y);
    splut_dataset_destroy(ds);
    splut_ctx_unref(ctx);
}

static void test_rejects_bad_rows(void **state)
{
    (void)state;
    splut_ctx *ctx = new_ctx();
    splut_dataset *ds = (splut_dataset *)&ds; /* must be reset to NULL on failure */
    float x[6];
    int32_t y[3];
    memcpy(x, X, sizeof x);
    memcpy(y, Y, sizeof y);
    x[3] = NAN;
    assert_int_equal(splut_dataset_create(ctx, 3, 2, x, y, 0, &ds), SPLUT_E_NON_FINITE);
    assert_null(ds);
    assert_non_null(strstr(splut_ctx_last_error(ctx), "row 1, column 1"));
    x[3] = INFINITY;
    assert_int_equal(splut_dataset_create(ctx, 3, 2, x, y, 0, &ds), SPLUT_E_NON_FINITE);
    x[3] = 1.0f;
    y[1] = -1;
    assert_int_equal(splut_dataset_create(ctx, 3, 2, x, y, 0, &ds), SPLUT_E_LABEL);
    y[1] = 0;
    assert_int_equal(splut_dataset_create(ctx, 0, 2, x, y, 0, &ds), SPLUT_E_INVALID);
    assert_int_equal(splut_dataset_create(ctx, 3, 0, x, y, 0, &ds), SPLUT_E_INVALID);
    assert_int_equal(splut_dataset_create(ctx, 3, 2, x, y, 2, &ds), SPLUT_E_INVALID);
    assert_int_equal(splut_dataset_create(ctx, SIZE_MAX / 2, 4, x, y, 0, &ds), SPLUT_E_INVALID);
    assert_int_equal(splut_dataset_create(ctx, 3, 2, NULL, y, 0, &ds), SPLUT_E_NULL);
    assert_int_equal(splut_dataset_create(NULL, 3, 2, x, y, 0, &ds), SPLUT_E_NULL);
    splut_ctx_unref(ctx);
}

static void test_image_shape(void **state)
{
    (void)state;
    splut_ctx *ctx = new_ctx();
    splut_dataset *ds = NULL;
    assert_int_equal(splut_dataset_create(ctx, 3, 2, X, Y, 0, &ds), SPLUT_OK);
    uint32_t w = 9, h = 9;
    float bg = 9;
    assert_int_equal(splut_dataset_image(ds, &w, &h, &bg), SPLUT_OK);
    assert_int_equal(w, 0);
    assert_int_equal(h, 0);
    assert_int_equal(splut_dataset_set_image(ds, 3, 1, 0.0f), SPLUT_E_INVALID);
    assert_int_equal(splut_dataset_set_image(ds, 2, 0, 0.0f), SPLUT_E_INVALID);
    assert_int_equal(splut_dataset_set_image(ds, 2, 1, NAN), SPLUT_E_NON_FINITE);
    assert_int_equal(splut_dataset_set_image(ds, 2, 1, -0.25f), SPLUT_OK);
    assert_int_equal(splut_dataset_image(ds, &w, &h, &bg), SPLUT_OK);
    assert_int_equal(w, 2);
    assert_int_equal(h, 1);
    assert_true(bg == -0.25f);
    assert_int_equal(splut_dataset_image(NULL, &w, &h, &bg), SPLUT_E_NULL);
    splut_dataset_destroy(ds);
    splut_ctx_unref(ctx);
}

/* The fingerprint changes with every part of the contents, not with how it is held. */
static void test_fingerprint(void **state)
{
    (void)state;
    splut_ctx *ctx = new_ctx();
    float x[6];
    int32_t y[3];
    memcpy(x, X, sizeof x);
    memcpy(y, Y, sizeof y);
    splut_dataset *a = NULL, *b = NULL, *c = NULL, *d = NULL, *e = NULL;
    assert_int_equal(splut_dataset_create(ctx, 3, 2, X, Y, SPLUT_DATASET_BORROW, &a), SPLUT_OK);
    assert_int_equal(splut_dataset_create(ctx, 3, 2, x, y, SPLUT_DATASET_COPY, &b), SPLUT_OK);
    x[5] = 1.25f;
    assert_int_equal(splut_dataset_create(ctx, 3, 2, x, y, 0, &c), SPLUT_OK);
    x[5] = X[5];
    y[0] = 1;
    assert_int_equal(splut_dataset_create(ctx, 3, 2, x, y, 0, &d), SPLUT_OK);
    /* same bytes, other shape */
    assert_int_equal(splut_dataset_create(ctx, 2, 3, X, Y, 0, &e), SPLUT_OK);
    uint64_t fa = splut_dataset_fingerprint(a);
    assert_true(fa != 0);
    assert_true(fa == splut_dataset_fingerprint(b));
    assert_true(fa != splut_dataset_fingerprint(c));
    assert_true(fa != splut_dataset_fingerprint(d));
    assert_true(fa != splut_dataset_fingerprint(e));
    assert_true(splut_dataset_fingerprint(NULL) == 0);
    splut_dataset *all[] = {a, b, c, d, e};
    for (size_t i = 0; i < 5; i++)
        splut_dataset_destroy(all[i]);
    splut_ctx_unref(ctx);
}

/* A reference keeps the dataset (and its context) alive after destroy. */
static void test_refcount_and_nomem(void **state)
{
    (void)state;
    counting_alloc ca;
    splut_allocator al = counting_allocator(&ca);
    splut_ctx *ctx = NULL;
    assert_int_equal(splut_ctx_create(&al, &ctx), SPLUT_OK);
    splut_dataset *ds = NULL;
    assert_int_equal(splut_dataset_create(ctx, 3, 2, X, Y, 0, &ds), SPLUT_OK);
    assert_ptr_equal(splut_dataset_ref(ds), ds);
    assert_null(splut_dataset_ref(NULL));
    splut_dataset_destroy(ds);
    splut_ctx_unref(ctx);
    assert_true(splut_dataset_features(ds)[1] == -1.0f); /* still alive: one reference left */
    splut_dataset_destroy(ds);
    splut_dataset_destroy(NULL);
    assert_int_equal(ca.live, 0);

    for (long k = 0;; k++) {
        assert_int_equal(splut_ctx_create(&al, &ctx), SPLUT_OK);
        counting_fail_at(&ca, k);
        splut_status st = splut_dataset_create(ctx, 3, 2, X, Y, 0, &ds);
        splut_dataset_destroy(ds);
        splut_ctx_unref(ctx);
        assert_int_equal(ca.live, 0);
        if (st == SPLUT_OK)
            break;
        assert_int_equal(st, SPLUT_E_NOMEM);
        assert_true(k < 10);
    }
}

/* Fill callback of the tests: copies X/Y, or plants one defect chosen by @p user. */
typedef struct fill_case {
    int defect; /* 0 none, 1 NaN feature, 2 negative label, 3 the callback fails */
    int calls;
    float *seen_x;
} fill_case;

static splut_status fill_xy(void *user, float *x, int32_t *y)
{
    fill_case *fc = user;
    fc->calls++;
    fc->seen_x = x;
    memcpy(x, X, sizeof X);
    memcpy(y, Y, sizeof Y);
    if (fc->defect == 1)
        x[3] = NAN;
    if (fc->defect == 2)
        y[1] = -1;
    return fc->defect == 3 ? SPLUT_E_IO : SPLUT_OK;
}

static void test_filled_in_place(void **state)
{
    (void)state;
    splut_ctx *ctx = new_ctx();
    fill_case fc = {0};
    splut_dataset *ds = NULL;
    assert_int_equal(splut_dataset_create_filled(ctx, 3, 2, fill_xy, &fc, &ds), SPLUT_OK);
    assert_int_equal(fc.calls, 1);
    assert_ptr_equal(splut_dataset_features(ds), fc.seen_x); /* no second copy */
    assert_memory_equal(splut_dataset_features(ds), X, sizeof X);
    assert_memory_equal(splut_dataset_labels(ds), Y, sizeof Y);
    assert_int_equal(splut_dataset_num_classes(ds), 5);
    splut_dataset *copy = NULL;
    assert_int_equal(splut_dataset_create(ctx, 3, 2, X, Y, 0, &copy), SPLUT_OK);
    assert_true(splut_dataset_fingerprint(ds) == splut_dataset_fingerprint(copy));
    splut_dataset_destroy(copy);
    splut_dataset_destroy(ds);

    static const splut_status want[] = {SPLUT_OK, SPLUT_E_NON_FINITE, SPLUT_E_LABEL, SPLUT_E_IO};
    for (int d = 1; d <= 3; d++) {
        fc.defect = d;
        ds = (splut_dataset *)&fc; /* must be reset to NULL */
        assert_int_equal(splut_dataset_create_filled(ctx, 3, 2, fill_xy, &fc, &ds), want[d]);
        assert_null(ds);
    }
    fc = (fill_case){0};
    assert_int_equal(splut_dataset_create_filled(ctx, 0, 2, fill_xy, &fc, &ds), SPLUT_E_INVALID);
    assert_int_equal(splut_dataset_create_filled(ctx, 3, 2, NULL, &fc, &ds), SPLUT_E_NULL);
    assert_int_equal(splut_dataset_create_filled(ctx, 3, 2, fill_xy, &fc, NULL), SPLUT_E_NULL);
    assert_int_equal(splut_dataset_create_filled(NULL, 3, 2, fill_xy, &fc, &ds), SPLUT_E_NULL);
    assert_int_equal(fc.calls, 0); /* nothing filled for a refused request */
    splut_ctx_unref(ctx);
}

static void test_filled_nomem(void **state)
{
    (void)state;
    counting_alloc ca;
    splut_allocator al = counting_allocator(&ca);
    for (long k = 0;; k++) {
        splut_ctx *ctx = NULL;
        assert_int_equal(splut_ctx_create(&al, &ctx), SPLUT_OK);
        counting_fail_at(&ca, k);
        fill_case fc = {0};
        splut_dataset *ds = NULL;
        splut_status st = splut_dataset_create_filled(ctx, 3, 2, fill_xy, &fc, &ds);
        splut_dataset_destroy(ds);
        splut_ctx_unref(ctx);
        assert_int_equal(ca.live, 0);
        if (st == SPLUT_OK)
            break;
        assert_int_equal(st, SPLUT_E_NOMEM);
        assert_int_equal(fc.calls, 0);
        assert_true(k < 10);
    }
}

/* Column-wise two-pass reference, written independently of the library's loop. */
static void reference_stats(const float *x, size_t n, uint32_t nf, uint32_t f, double *mean,
                            double *sd)
{
    double sum = 0, sq = 0;
    for (size_t i = 0; i < n; i++)
        sum += x[i * nf + f];
    *mean = sum / (double)n;
    for (size_t i = 0; i < n; i++)
        sq += (x[i * nf + f] - *mean) * (x[i * nf + f] - *mean);
    *sd = sq > 0 ? sqrt(sq / (double)n) : 1.0;
}

static void test_standardize(void **state)
{
    (void)state;
    splut_ctx *ctx = new_ctx();
    float x[4 * 3] = {1, 5, -2, 2, 5, 0.5f, 3, 5, 7, 10, 5, -1}; /* column 1 is constant */
    int32_t y[4] = {0, 1, 1, 0};
    splut_dataset *ds = NULL, *st = NULL;
    assert_int_equal(splut_dataset_create(ctx, 4, 3, x, y, SPLUT_DATASET_BORROW, &ds), SPLUT_OK);
    double mean[3], sd[3];
    assert_int_equal(splut_dataset_feature_stats(ds, mean, sd), SPLUT_OK);
    for (uint32_t f = 0; f < 3; f++) {
        double m, s;
        reference_stats(x, 4, 3, f, &m, &s);
        assert_true(mean[f] == m && sd[f] == s);
    }
    assert_true(mean[1] == 5.0 && sd[1] == 1.0); /* only centred */
    assert_int_equal(splut_dataset_standardize(ds, mean, sd, &st), SPLUT_OK);
    for (size_t i = 0; i < 12; i++)
        assert_true(splut_dataset_features(st)[i] == (float)((x[i] - mean[i % 3]) / sd[i % 3]));
    assert_memory_equal(splut_dataset_labels(st), y, sizeof y);
    double m2[3], s2[3];
    assert_int_equal(splut_dataset_feature_stats(st, m2, s2), SPLUT_OK);
    for (uint32_t f = 0; f < 3; f++)
        assert_true(fabs(m2[f]) < 1e-6 && (f == 1 || fabs(s2[f] - 1) < 1e-6));
    splut_dataset_destroy(st);

    sd[2] = 0;
    assert_int_equal(splut_dataset_standardize(ds, mean, sd, &st), SPLUT_E_INVALID);
    assert_null(st);
    sd[2] = 1e-300; /* finite, but the result overflows float */
    assert_int_equal(splut_dataset_standardize(ds, mean, sd, &st), SPLUT_E_NON_FINITE);
    sd[2] = 1;
    mean[0] = NAN;
    assert_int_equal(splut_dataset_standardize(ds, mean, sd, &st), SPLUT_E_INVALID);
    assert_int_equal(splut_dataset_standardize(ds, NULL, sd, &st), SPLUT_E_NULL);
    assert_int_equal(splut_dataset_feature_stats(ds, mean, NULL), SPLUT_E_NULL);
    assert_int_equal(splut_dataset_feature_stats(NULL, mean, sd), SPLUT_E_NULL);
    splut_dataset_destroy(ds);
    splut_ctx_unref(ctx);
}

/* splut_input_format_fit on one column of values; bits as given. */
static splut_status fit_values(splut_ctx *ctx, const float *v, size_t n, uint32_t bits,
                               splut_input_format *fmt)
{
    int32_t y[8] = {0};
    splut_dataset *ds = NULL;
    assert_true(n <= 8);
    assert_int_equal(splut_dataset_create(ctx, n, 1, v, y, SPLUT_DATASET_COPY, &ds), SPLUT_OK);
    *fmt = (splut_input_format)SPLUT_INPUT_FORMAT_INIT;
    fmt->bits = bits;
    const splut_dataset *sets[1] = {ds};
    splut_status st = splut_input_format_fit(sets, 1, fmt);
    splut_dataset_destroy(ds);
    return st;
}

static void test_input_format_fit(void **state)
{
    (void)state;
    splut_ctx *ctx = new_ctx();
    splut_input_format fmt;
    /* signed: 3.2 * 2^5 = 102.4 fits s8 (<= 127), 3.2 * 2^6 = 204.8 does not */
    assert_int_equal(fit_values(ctx, (const float[]){-1.5f, 3.2f, 0}, 3, 8, &fmt), SPLUT_OK);
    assert_true(fmt.is_signed && fmt.frac_bits == 5 && fmt.map == SPLUT_INFMT_FIXED);
    /* unsigned: 1.0 * 2^7 = 128 fits u8, 2^8 = 256 does not */
    assert_int_equal(fit_values(ctx, (const float[]){0, 1.0f, 0.25f}, 3, 8, &fmt), SPLUT_OK);
    assert_true(!fmt.is_signed && fmt.frac_bits == 7);
    /* rounding to nearest: 0.998 * 256 = 255.49 rounds to 255, which fits u8 */
    assert_int_equal(fit_values(ctx, (const float[]){0.998f}, 1, 8, &fmt), SPLUT_OK);
    assert_int_equal(fmt.frac_bits, 8);
    /* the second set widens the range */
    float a[2] = {0.5f, 1}, b[2] = {-4, 0};
    int32_t y[2] = {0, 0};
    splut_dataset *da = NULL, *db = NULL;
    assert_int_equal(splut_dataset_create(ctx, 2, 1, a, y, 0, &da), SPLUT_OK);
    assert_int_equal(splut_dataset_create(ctx, 2, 1, b, y, 0, &db), SPLUT_OK);
    const splut_dataset *both[2] = {da, db};
    fmt = (splut_input_format)SPLUT_INPUT_FORMAT_INIT;
    assert_int_equal(splut_input_format_fit(both, 2, &fmt), SPLUT_OK);
    assert_true(fmt.is_signed && fmt.frac_bits == 5); /* -4 * 32 = -128 */
    assert_int_equal(splut_input_format_fit(both, 0, &fmt), SPLUT_E_NULL);
    fmt.size = 3;
    assert_int_equal(splut_input_format_fit(both, 2, &fmt), SPLUT_E_STRUCT_SIZE);
    splut_dataset_destroy(da);
    splut_dataset_destroy(db);
    /* 300 needs 9 unsigned bits; 0 or 25 bits are not formats */
    assert_int_equal(fit_values(ctx, (const float[]){300}, 1, 8, &fmt), SPLUT_E_OUT_OF_RANGE);
    assert_non_null(strstr(splut_ctx_last_error(ctx), "does not fit"));
    assert_int_equal(fit_values(ctx, (const float[]){1}, 1, 0, &fmt), SPLUT_E_INVALID);
    assert_int_equal(fit_values(ctx, (const float[]){1}, 1, 25, &fmt), SPLUT_E_INVALID);
    splut_ctx_unref(ctx);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_copy_is_independent),
        cmocka_unit_test(test_borrow_shares_memory),
        cmocka_unit_test(test_rejects_bad_rows),
        cmocka_unit_test(test_image_shape),
        cmocka_unit_test(test_fingerprint),
        cmocka_unit_test(test_refcount_and_nomem),
        cmocka_unit_test(test_filled_in_place),
        cmocka_unit_test(test_filled_nomem),
        cmocka_unit_test(test_standardize),
        cmocka_unit_test(test_input_format_fit),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
