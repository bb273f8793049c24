/*
 * Copyright 2026 The libsparselut authors
 * SPDX-License-Identifier: Apache-2.0
 */
/**
 * @file report-svg.h
 * @brief Inline SVG building blocks of `sparselut report`: scales, axes
 * with ticks and grid, escaped text, colours.
 */
#ifndef SPLUT_TOOLS_REPORT_SVG_H
#define SPLUT_TOOLS_REPORT_SVG_H

#include <stdio.h>

/** Data interval [d0, d1] onto pixel interval [p0, p1], optionally log10. */
typedef struct rs_scale {
    double d0, d1, p0, p1;
    int log;
} rs_scale;

/** @brief Pixel position of data value @p v. */
double rs_map(const rs_scale *s, double v);

/** A plot area: the two scales and the frame in pixels. */
typedef struct rs_plot {
    rs_scale x, y;
    double left, top, right, bottom;
    int x_integer; /**< x ticks at whole numbers only (epochs) */
} rs_plot;

/**
 * @brief Set up a plot of @p w × @p h pixels with margins for tick labels;
 * the data ranges are widened to nice tick values.
 */
void rs_plot_init(rs_plot *p, double w, double h, double x0, double x1, int xlog, double y0,
                  double y1);
/** @brief Grid lines, ticks, tick labels and axis titles (x below, y left). */
void rs_axes(FILE *f, const rs_plot *p, const char *xtitle, const char *ytitle,
             const char *yfmt);
/** @brief Open an `<svg>` of @p w × @p h with an id and an accessible label. */
void rs_open(FILE *f, const char *id, double w, double h, const char *label);
/** @brief Write @p s with &, <, >, " escaped. */
void rs_escape(FILE *f, const char *s);
/** @brief One of ten distinguishable colours (Tableau 10), by index. */
const char *rs_color(size_t i);

#endif
