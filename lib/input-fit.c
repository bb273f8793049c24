/*
 * The raw fixed-point format that holds a data set: what a sensor or a CSV
 * file would feed the hardware input stage, chosen from the data's range.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include <math.h>

#include "input-priv.h"

/* Smallest and largest feature value over @p n_sets datasets. */
static void data_range(const splut_dataset *const *sets, size_t n_sets, double *lo, double *hi)
{
    *lo = *hi = 0;
    for (size_t k = 0; k < n_sets; k++) {
        const float *x = splut_dataset_features(sets[k]);
        size_t n = splut_dataset_num_samples(sets[k]) * splut_dataset_num_features(sets[k]);
        for (size_t i = 0; i < n; i++) {
            *lo = fmin(*lo, x[i]);
            *hi = fmax(*hi, x[i]);
        }
    }
}

splut_status splut_input_format_fit(const splut_dataset *const *sets, size_t n_sets,
                                    splut_input_format *fmt)
{
    if (!sets || !n_sets || !fmt)
        return SPLUT_E_NULL;
    for (size_t k = 0; k < n_sets; k++)
        if (!sets[k])
            return SPLUT_E_NULL;
    splut_ctx *ctx = splut_dataset_ctx(sets[0]);
    if (fmt->size != sizeof(*fmt))
        return splut__fail(ctx, SPLUT_E_STRUCT_SIZE, "splut_input_format.size is %zu, expected %zu",
                           fmt->size, sizeof(*fmt));
    if (fmt->bits < 1 || fmt->bits > SPLUT__RAW_BITS_MAX)
        return splut__fail(ctx, SPLUT_E_INVALID, "input format: bits must be in 1..24, not %u",
                           fmt->bits);
    double lo, hi;
    data_range(sets, n_sets, &lo, &hi);
    splut_input_format f = *fmt;
    f.map = SPLUT_INFMT_FIXED;
    f.is_signed = lo < 0;
    for (int frac = 30; frac >= 0; frac--) {
        double s = ldexp(1.0, frac);
        if (nearbyint(hi * s) <= splut__raw_max(&f) && nearbyint(lo * s) >= splut__raw_min(&f)) {
            f.frac_bits = (uint32_t)frac;
            *fmt = f;
            return SPLUT_OK;
        }
    }
    return splut__fail(ctx, SPLUT_E_OUT_OF_RANGE,
                       "the data range [%g, %g] does not fit %s %u-bit integers", lo, hi,
                       f.is_signed ? "signed" : "unsigned", f.bits);
}
