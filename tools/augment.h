/*
 * Copyright 2026 The libsparselut authors
 * SPDX-License-Identifier: Apache-2.0
 */
/**
 * @file augment.h
 * @brief Training-set augmentation of the command line: random image shifts.
 *
 * A LUT network's wiring is fixed, so shifting the training images by a pixel
 * or two asks every neuron to read a feature from a slightly different place:
 * a regulariser that costs nothing in hardware. The shift of a sample is a pure
 * function of (seed, epoch, position in the epoch), so runs stay deterministic
 * for any thread count and resume exactly.
 */
#ifndef SPLUT_TOOLS_AUGMENT_H
#define SPLUT_TOOLS_AUGMENT_H

#include <stdint.h>

/** Largest accepted shift in pixels (either axis). */
#define CLI_MAX_SHIFT 8

/**
 * @brief Copy a row-major @p width x @p height image translated by (@p dx, @p dy).
 *
 * dst(x, y) = src(x - dx, y - dy); pixels whose source lies outside the image
 * take @p background. @p src and @p dst must not overlap.
 */
void cli_shift_image(const float *src, float *dst, uint32_t width, uint32_t height, int dx, int dy,
                     float background);

/**
 * @brief The shift of the sample at @p position of epoch @p epoch.
 *
 * Each of *@p dx and *@p dy is uniform on [-@p max_shift, @p max_shift] and a
 * pure function of (@p seed, @p epoch, @p position).
 */
void cli_shift_offsets(uint64_t seed, uint64_t epoch, uint64_t position, unsigned max_shift,
                       int *dx, int *dy);

#endif
