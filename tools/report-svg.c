/*
 * Copyright 2026 The libsparselut authors
 * SPDX-License-Identifier: Apache-2.0
 *
 * Scales and axes for the report's SVG figures. Ticks are "nice" numbers
 * (1, 2, 5 × 10^k) so that labels read well; log axes tick at 1, 2, 5 per
 * decade when the range is narrow and at powers of ten otherwise.
 */
#include "report-svg.h"

#include <math.h>
#include <string.h>

#define MARGIN_LEFT 58.0
#define MARGIN_RIGHT 16.0
#define MARGIN_TOP 12.0
#define MARGIN_BOTTOM 44.0

double rs_map(const rs_scale *s, double v)
{
    double d0 = s->d0, d1 = s->d1;
    if (s->log) {
        v = log10(v > 0 ? v : 1e-300);
        d0 = log10(d0);
        d1 = log10(d1);
    }
    double t = d1 > d0 ? (v - d0) / (d1 - d0) : 0.5;
    return s->p0 + t * (s->p1 - s->p0);
}

static double nice_step(double range, int target)
{
    double raw = range / target, mag = pow(10, floor(log10(raw))), f = raw / mag;
    return (f < 1.5 ? 1 : f < 3.5 ? 2 : f < 7.5 ? 5 : 10) * mag;
}

void rs_plot_init(rs_plot *p, double w, double h, double x0, double x1, int xlog, double y0,
                  double y1)
{
    if (!(x1 > x0))
        x0 = xlog ? x0 / 2 : x0 - 1, x1 = xlog ? x1 * 2 : x1 + 1;
    if (!(y1 > y0))
        y0 -= 1, y1 += 1;
    double ys = nice_step(y1 - y0, 5);
    y0 = floor(y0 / ys) * ys;
    y1 = ceil(y1 / ys) * ys;
    if (!xlog) {
        double xs = nice_step(x1 - x0, 6);
        x0 = floor(x0 / xs) * xs;
        x1 = ceil(x1 / xs) * xs;
    }
    p->left = MARGIN_LEFT;
    p->top = MARGIN_TOP;
    p->right = w - MARGIN_RIGHT;
    p->bottom = h - MARGIN_BOTTOM;
    p->x = (rs_scale){x0, x1, p->left, p->right, xlog};
    p->y = (rs_scale){y0, y1, p->bottom, p->top, 0};
}

static void fmt_num(char *buf, size_t cap, double v)
{
    if (fabs(v) >= 1e6)
        snprintf(buf, cap, "%gM", v / 1e6);
    else if (fabs(v) >= 1e4)
        snprintf(buf, cap, "%gk", v / 1e3);
    else
        snprintf(buf, cap, "%g", v);
}

static void x_tick(FILE *f, const rs_plot *p, double v, int label)
{
    double x = rs_map(&p->x, v);
    char buf[32];
    fprintf(f, "<line class=\"%s\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/>",
            label ? "grid" : "grid2", x, p->top, x, p->bottom);
    if (!label)
        return;
    fmt_num(buf, sizeof buf, v);
    fprintf(f, "<text class=\"tick\" x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">%s</text>", x,
            p->bottom + 15, buf);
}

static void x_ticks_log(FILE *f, const rs_plot *p)
{
    double lo = log10(p->x.d0), hi = log10(p->x.d1);
    int narrow = hi - lo < 2.5;
    for (int e = (int)floor(lo); e <= (int)ceil(hi); e++)
        for (int m = 1; m < 10; m++) {
            double v = m * pow(10, e);
            if (v < p->x.d0 * 0.999 || v > p->x.d1 * 1.001)
                continue;
            x_tick(f, p, v, m == 1 || (narrow && (m == 2 || m == 5)));
        }
}

void rs_axes(FILE *f, const rs_plot *p, const char *xtitle, const char *ytitle, const char *yfmt)
{
    double ys = nice_step(p->y.d1 - p->y.d0, 5);
    for (double v = p->y.d0; v <= p->y.d1 + ys * 1e-6; v += ys) {
        double y = rs_map(&p->y, v);
        fprintf(f, "<line class=\"grid\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/>",
                p->left, y, p->right, y);
        fprintf(f, "<text class=\"tick\" x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\">", p->left - 6,
                y + 4);
        fprintf(f, yfmt, v);
        fprintf(f, "</text>");
    }
    if (p->x.log) {
        x_ticks_log(f, p);
    } else {
        double xs = nice_step(p->x.d1 - p->x.d0, 6);
        if (p->x_integer && xs < 1)
            xs = 1;
        for (double v = p->x.d0; v <= p->x.d1 + xs * 1e-6; v += xs)
            x_tick(f, p, v, 1);
    }
    fprintf(f, "<rect class=\"frame\" x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\"/>",
            p->left, p->top, p->right - p->left, p->bottom - p->top);
    fprintf(f, "<text class=\"axis\" x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">",
            (p->left + p->right) / 2, p->bottom + 34);
    rs_escape(f, xtitle);
    fprintf(f, "</text><text class=\"axis\" transform=\"translate(%.1f %.1f) rotate(-90)\" "
               "text-anchor=\"middle\">",
            14.0, (p->top + p->bottom) / 2);
    rs_escape(f, ytitle);
    fprintf(f, "</text>");
}

void rs_open(FILE *f, const char *id, double w, double h, const char *label)
{
    fprintf(f, "<svg id=\"%s\" xmlns=\"http://www.w3.org/2000/svg\" width=\"%.0f\" height=\"%.0f\" "
               "viewBox=\"0 0 %.0f %.0f\" role=\"img\" aria-label=\"",
            id, w, h, w, h);
    rs_escape(f, label);
    fprintf(f, "\">");
}

void rs_escape(FILE *f, const char *s)
{
    for (; s && *s; s++) {
        switch (*s) {
        case '&': fputs("&amp;", f); break;
        case '<': fputs("&lt;", f); break;
        case '>': fputs("&gt;", f); break;
        case '"': fputs("&quot;", f); break;
        default: fputc(*s, f);
        }
    }
}

const char *rs_color(size_t i)
{
    static const char *const c[] = {"#4e79a7", "#f28e2b", "#59a14f", "#e15759", "#b07aa1",
                                    "#76b7b2", "#edc948", "#ff9da7", "#9c755f", "#bab0ac"};
    return c[i % 10];
}
