/*
 * Copyright 2026 The libsparselut authors
 * SPDX-License-Identifier: Apache-2.0
 *
 * Random image shifts of training runs (SPLUT_P_RUN_SHIFT): the translation
 * itself (direction, edges, rows versus columns) and the seeded offsets
 * (range, uniformity, determinism, independence of epoch and position).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "run-priv.h"

#include <string.h>

#define W 5
#define H 3
#define BG (-7.0f)

/* Pixel (x, y) of the test image holds 10*y + x, so every value names its place. */
static void numbered_image(float *img)
{
    for (int y = 0; y < H; y++)
        for (int x = 0; x < W; x++)
            img[y * W + x] = (float)(10 * y + x);
}

static void test_shift_zero_is_copy(void **state)
{
    (void)state;
    float src[W * H], dst[W * H];
    numbered_image(src);
    splut__shift_image(src, dst, W, H, 0, 0, BG);
    assert_memory_equal(src, dst, sizeof src);
}

static void test_shift_right_and_down(void **state)
{
    (void)state;
    float src[W * H], dst[W * H];
    numbered_image(src);
    splut__shift_image(src, dst, W, H, 2, 1, BG);
    /* The first row and the first two columns come from outside. */
    for (int x = 0; x < W; x++)
        assert_true(dst[x] == BG);
    for (int y = 0; y < H; y++)
        assert_true(dst[y * W] == BG && dst[y * W + 1] == BG);
    /* Pixel (2, 1) shows the source's (0, 0), (4, 2) the source's (2, 1). */
    assert_true(dst[1 * W + 2] == 0.0f);
    assert_true(dst[2 * W + 4] == 12.0f);
    assert_true(dst[2 * W + 3] == 11.0f);
}

static void test_shift_left_and_up(void **state)
{
    (void)state;
    float src[W * H], dst[W * H];
    numbered_image(src);
    splut__shift_image(src, dst, W, H, -1, -2, BG);
    /* Only the last row is filled from the source's row 2, moved one left. */
    for (int x = 0; x < W - 1; x++)
        assert_true(dst[0 * W + x] == (float)(20 + x + 1));
    assert_true(dst[0 * W + W - 1] == BG);
    for (int k = W; k < W * H; k++)
        assert_true(dst[k] == BG);
}

static void test_shift_out_of_frame(void **state)
{
    (void)state;
    float src[W * H], dst[W * H];
    numbered_image(src);
    const int moves[4][2] = {{W, 0}, {-W, 0}, {0, H}, {0, -H}};
    for (int m = 0; m < 4; m++) {
        splut__shift_image(src, dst, W, H, moves[m][0], moves[m][1], BG);
        for (int k = 0; k < W * H; k++)
            assert_true(dst[k] == BG);
    }
}

static void test_offsets_range_and_uniform(void **state)
{
    (void)state;
    double max_shift = 0;
    assert_int_equal(splut_param_info(SPLUT_P_RUN_SHIFT, NULL, NULL, &max_shift, NULL), 0);
    assert_true(max_shift == SPLUT__RUN_MAX_SHIFT);
    for (unsigned K = 0; K <= SPLUT__RUN_MAX_SHIFT; K++) {
        enum { SIDE = 2 * SPLUT__RUN_MAX_SHIFT + 1 };
        unsigned span = 2 * K + 1, N = 400 * span * span, count[SIDE][SIDE];
        memset(count, 0, sizeof count);
        for (uint64_t p = 0; p < N; p++) {
            int dx, dy;
            splut__shift_offsets(3, 5, p, K, &dx, &dy);
            assert_true(dx >= -(int)K && dx <= (int)K && dy >= -(int)K && dy <= (int)K);
            count[dx + (int)K][dy + (int)K]++;
        }
        /* Every (dx, dy) pair appears about 400 times (within 25 %: 5 sigma). */
        double expect = 400;
        for (unsigned i = 0; i < span; i++)
            for (unsigned j = 0; j < span; j++)
                assert_true(count[i][j] > 0.75 * expect && count[i][j] < 1.25 * expect);
    }
}

/* Same (seed, epoch, position): same shift; changing any of them changes the sequence. */
static void test_offsets_deterministic(void **state)
{
    (void)state;
    enum { N = 256 };
    int base[N][2], again[2], moved = 0;
    for (uint64_t p = 0; p < N; p++) {
        splut__shift_offsets(1, 2, p, 2, &base[p][0], &base[p][1]);
        splut__shift_offsets(1, 2, p, 2, &again[0], &again[1]);
        assert_int_equal(base[p][0], again[0]);
        assert_int_equal(base[p][1], again[1]);
    }
    const uint64_t other[3][2] = {{2, 2}, {1, 3}, {7, 9}}; /* (seed, epoch) */
    for (int k = 0; k < 3; k++) {
        int same = 0;
        for (uint64_t p = 0; p < N; p++) {
            int dx, dy;
            splut__shift_offsets(other[k][0], other[k][1], p, 2, &dx, &dy);
            same += dx == base[p][0] && dy == base[p][1];
        }
        /* 1 in 25 agree by chance: about 10 of 256 */
        assert_true(same < 30);
    }
    for (uint64_t p = 0; p + 1 < N; p++)
        moved += base[p][0] != base[p + 1][0] || base[p][1] != base[p + 1][1];
    assert_true(moved > N / 2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_shift_zero_is_copy),
        cmocka_unit_test(test_shift_right_and_down),
        cmocka_unit_test(test_shift_left_and_up),
        cmocka_unit_test(test_shift_out_of_frame),
        cmocka_unit_test(test_offsets_range_and_uniform),
        cmocka_unit_test(test_offsets_deterministic),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
