/*
 * Random image shifts of training runs (SPLUT_P_RUN_SHIFT).
 *
 * A LUT network's wiring is fixed, so shifting the training images by a pixel
 * or two asks every neuron to read a feature from a slightly different place:
 * a regulariser that costs nothing in hardware. The shift of a sample is a pure
 * function of (seed, epoch, position in the epoch), so runs stay deterministic
 * for any thread count and resume exactly.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include "run-priv.h"

void splut__shift_image(const float *src, float *dst, uint32_t width, uint32_t height, int dx,
                        int dy, float background)
{
    for (uint32_t y = 0; y < height; y++) {
        int64_t sy = (int64_t)y - dy;
        for (uint32_t x = 0; x < width; x++) {
            int64_t sx = (int64_t)x - dx;
            int inside = sy >= 0 && sy < height && sx >= 0 && sx < width;
            dst[(size_t)y * width + x] =
                inside ? src[(size_t)sy * width + (size_t)sx] : background;
        }
    }
}

/* A stateless mix of the three coordinates (splitmix64's finaliser). */
static uint64_t mix(uint64_t z)
{
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

void splut__shift_offsets(uint64_t seed, uint64_t epoch, uint64_t position, unsigned max_shift,
                          int *dx, int *dy)
{
    uint64_t h = mix(seed ^ 0xa06e47ull);
    h = mix(h ^ (epoch * 0x9E3779B97F4A7C15ull));
    h = mix(h ^ (position * 0xD1B54A32D192ED03ull));
    uint64_t span = 2u * (uint64_t)max_shift + 1;
    /* two 32-bit halves; the modulo bias is below 2^-28 for span <= 17 */
    *dx = (int)((h & 0xffffffffu) % span) - (int)max_shift;
    *dy = (int)((h >> 32) % span) - (int)max_shift;
}
