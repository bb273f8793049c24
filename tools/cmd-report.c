/*
 * Copyright 2026 The libsparselut authors
 * SPDX-License-Identifier: Apache-2.0
 *
 * `sparselut report DIR`: one self-contained HTML page (inline SVG, a few
 * lines of script that only check the figures rendered, no network) for a
 * sweep or a single point: accuracy versus LUTs with the Pareto front and
 * the published anchors of the dataset, LUTs per layer, training curves,
 * first-layer input heatmaps for images, and a table of every point; plus a
 * CSV of all points.
 */

#include "cli.h"
#include "report-svg.h"
#include "sweep.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------ published anchors */

/* Published results (reference/RESULTS.md): Vivado post-place-and-route LUTs
 * on xcvu9p, test accuracy in %. */
typedef struct anchor {
    const char *dataset, *label;
    double acc, luts;
} anchor;

static const anchor anchors[] = {
    {"MNIST", "PolyLUT hdr", 96, 70673},
    {"MNIST", "NeuraLUT hdr-5l", 96, 54798},
    {"MNIST", "PolyLUT-Add hdr-add2", 96, 14810},
    {"MNIST", "DWN lg", 98.3, 4082},
    {"MNIST", "FINN SFC-max", 96, 91131},
    {"JSC", "LogicNets jsc-m", 72.1, 15526},
    {"JSC", "LogicNets jsc-l", 73.1, 36415},
    {"JSC", "PolyLUT jsc-m-lite", 72, 12436},
    {"JSC", "PolyLUT jsc-xl", 75, 236541},
    {"JSC", "NeuraLUT jsc-2l", 72, 4684},
    {"JSC", "NeuraLUT jsc-5l", 75, 92357},
    {"JSC", "PolyLUT-Add jsc-m-lite-add2", 72, 895},
    {"JSC", "PolyLUT-Add jsc-xl-add2", 75, 36484},
    {"UNSW-NB15", "PolyLUT-Add nid-add2", 92, 1649},
};

static int contains_ci(const char *s, const char *w)
{
    for (size_t n = strlen(w); s && *s; s++) {
        size_t k = 0;
        while (k < n && s[k] && (s[k] | 32) == (w[k] | 32))
            k++;
        if (k == n)
            return 1;
    }
    return 0;
}

/* The dataset a --data spec names, as the anchors call it; NULL if unknown. */
static const char *dataset_name(const char *data)
{
    if (!data)
        return NULL;
    if (!strncmp(data, "mnist:", 6))
        return "MNIST";
    if (!strncmp(data, "fashion:", 8))
        return "Fashion-MNIST";
    if (!strncmp(data, "jsc:", 4))
        return "JSC";
    if (contains_ci(data, "unsw") || contains_ci(data, "nid"))
        return "UNSW-NB15";
    return NULL;
}

/* ------------------------------------------------------------------ model */

typedef struct rpoint {
    const sj_node *j;
    long index;
    double acc, luts; /* %, LUTs */
    int group, pareto;
    char label[160];
} rpoint;

typedef struct report {
    FILE *f;
    rpoint *p;
    size_t n;          /* finished points */
    size_t missing;    /* not finished */
    const char *groups[10];
    size_t ngroups;
    const char *group_key; /* "section", a setting name, or NULL */
    const char *dataset;
    const char *method; /* hardware.method of the points, NULL when they differ */
    int methods_differ, any_fast;
    const char *vary[32]; /* settings/vars that differ between points */
    int vary_is_var[32];
    size_t nvary;
} report;

static const char *setting(const sj_node *j, const char *key, int is_var)
{
    return sj_str(sj_get(sj_get(j, is_var ? "vars" : "settings"), key), NULL);
}

static int differs(const report *r, const char *key, int is_var)
{
    const char *first = r->n ? setting(r->p[0].j, key, is_var) : NULL;
    for (size_t i = 1; i < r->n; i++) {
        const char *v = setting(r->p[i].j, key, is_var);
        if (!first != !v || (v && strcmp(v, first)))
            return 1;
    }
    return 0;
}

/* A setting that is the same for all points of each section (switch-epoch of
 * a [learned] section) says nothing the section name does not. */
static int section_determined(const report *r, const char *key, int is_var)
{
    for (size_t i = 0; i < r->n; i++)
        for (size_t k = i + 1; k < r->n; k++) {
            const char *si = sj_str(sj_get(r->p[i].j, "section"), "");
            const char *sk = sj_str(sj_get(r->p[k].j, "section"), "");
            const char *vi = setting(r->p[i].j, key, is_var), *vk = setting(r->p[k].j, key, is_var);
            if (!strcmp(si, sk) && (!vi != !vk || (vi && strcmp(vi, vk))))
                return 0;
        }
    return 1;
}

/* Which settings vary: they label the points. An architecture written with
 * placeholders is described by them, so "arch" is left out then. */
static void find_varying(report *r)
{
    for (int is_var = 1; is_var >= 0; is_var--)
        for (size_t i = 0; i < r->n; i++) {
            const sj_node *o = sj_get(r->p[i].j, is_var ? "vars" : "settings");
            for (size_t k = 0; k < sj_len(o) && r->nvary < 32; k++) {
                const char *key = o->keys[k];
                int seen = 0;
                for (size_t v = 0; v < r->nvary; v++)
                    seen |= r->vary_is_var[v] == is_var && !strcmp(r->vary[v], key);
                if (seen || !differs(r, key, is_var) || !strcmp(key, "data"))
                    continue;
                r->vary_is_var[r->nvary] = is_var;
                r->vary[r->nvary++] = key;
            }
        }
}

/* "784:2 poly:128:F6:D2:b2 poly:10:F6:D2:b2" -> "poly 128-10 F6:D2:b2" when the
 * layers share kind and fields, else the layer tokens without the input. */
static void short_arch(const char *arch, char *buf, size_t cap)
{
    char kind[128] = "", fields[128] = "", widths[256] = "";
    int same = 1;
    size_t nw = 0;
    const char *tok = strchr(arch, ' ');
    while (tok && *tok) {
        while (*tok == ' ')
            tok++;
        size_t len = strcspn(tok, " ");
        char t[128], *c1, *c2;
        snprintf(t, sizeof t, "%.*s", (int)(len < 127 ? len : 127), tok);
        tok += len;
        if (!(c1 = strchr(t, ':')) || !(c2 = strchr(c1 + 1, ':')))
            break;
        *c1 = *c2 = '\0';
        if (!*kind) {
            snprintf(kind, sizeof kind, "%s", t);
            snprintf(fields, sizeof fields, "%s", c2 + 1);
        }
        same &= !strcmp(kind, t) && !strcmp(fields, c2 + 1);
        nw += (size_t)snprintf(widths + nw, nw < sizeof widths ? sizeof widths - nw : 0, "%s%s",
                               nw ? "-" : "", c1 + 1);
    }
    if (same && *kind && nw < sizeof widths)
        snprintf(buf, cap, "%s %s %s", kind, widths, fields);
    else
        snprintf(buf, cap, "%s", strchr(arch, ' ') ? strchr(arch, ' ') + 1 : arch);
}

static void make_label(const report *r, rpoint *p)
{
    size_t n = 0;
    int has_vars = sj_len(sj_get(p->j, "vars")) > 0;
    const char *sec = sj_str(sj_get(p->j, "section"), "");
    if (*sec)
        n += (size_t)snprintf(p->label + n, sizeof p->label - n, "%s", sec);
    for (size_t v = 0; v < r->nvary && n < sizeof p->label; v++) {
        if (*sec && section_determined(r, r->vary[v], r->vary_is_var[v]))
            continue;
        if (!r->vary_is_var[v] && !strcmp(r->vary[v], "arch") && has_vars)
            continue;
        const char *val = setting(p->j, r->vary[v], r->vary_is_var[v]);
        if (!val)
            continue; /* not set for this point (e.g. another section's option) */
        char arch[160];
        if (!r->vary_is_var[v] && !strcmp(r->vary[v], "arch")) {
            short_arch(val, arch, sizeof arch);
            n += (size_t)snprintf(p->label + n, sizeof p->label - n, "%s%s", n ? " " : "", arch);
            continue;
        }
        n += (size_t)snprintf(p->label + n, sizeof p->label - n, "%s%s=%s", n ? " " : "",
                              r->vary[v], val ? val : "-");
    }
}

static void assign_groups(report *r)
{
    int has_sections = 0;
    for (size_t i = 0; i < r->n; i++)
        has_sections |= *sj_str(sj_get(r->p[i].j, "section"), "") != '\0';
    r->group_key = has_sections ? "section" : differs(r, "connectivity", 0) ? "connectivity" : NULL;
    for (size_t i = 0; i < r->n; i++) {
        const char *g = !r->group_key ? "points"
                        : has_sections ? sj_str(sj_get(r->p[i].j, "section"), "")
                                       : setting(r->p[i].j, "connectivity", 0);
        g = g ? g : "random";
        size_t k = 0;
        while (k < r->ngroups && strcmp(r->groups[k], g))
            k++;
        if (k == r->ngroups && r->ngroups < 10)
            r->groups[r->ngroups++] = g;
        r->p[i].group = (int)(k < 10 ? k : 9);
    }
}

/* On the front: no other point has at most as many LUTs and a higher accuracy
 * (or as high with fewer LUTs). */
static void mark_pareto(report *r)
{
    for (size_t i = 0; i < r->n; i++) {
        int dominated = 0;
        for (size_t k = 0; k < r->n && !dominated; k++)
            dominated = k != i && r->p[k].luts <= r->p[i].luts && r->p[k].acc >= r->p[i].acc &&
                        (r->p[k].luts < r->p[i].luts || r->p[k].acc > r->p[i].acc);
        r->p[i].pareto = !dominated;
    }
}

/* The points' estimate methods: one name for the axis, or "mixed". */
static void note_method(report *r, const char *m)
{
    if (r->n == 1)
        r->method = m;
    else if (r->method && strcmp(r->method, m))
        r->method = NULL, r->methods_differ = 1;
    r->any_fast |= !strcmp(m, "abc-fast");
}

/* What the LUT figures are, in words (the axis, the captions). */
static const char *method_words(const report *r)
{
    if (r->methods_differ)
        return "mixed estimates (see the table)";
    if (r->method && !strcmp(r->method, "abc-fast"))
        return "ABC fast count";
    if (r->method && !strcmp(r->method, "cost-model"))
        return "LUT6 cost model";
    return r->method ? r->method : "hardware estimate";
}

static int build_model(report *r, const sweep_result *res, size_t nres)
{
    r->p = calloc(nres + 1, sizeof *r->p);
    if (!r->p)
        return cli_err("out of memory"), -1;
    for (size_t i = 0; i < nres; i++) {
        if (!res[i].done) {
            r->missing++;
            continue;
        }
        rpoint *p = &r->p[r->n];
        p->j = &res[i].json;
        p->index = (long)sj_num(sj_get(p->j, "index"), (double)i);
        p->acc = 100 * sj_num(sj_get(sj_get(p->j, "accuracy"), "test"), NAN);
        p->luts = sj_num(sj_get(sj_get(p->j, "hardware"), "luts"), NAN);
        if (!isfinite(p->acc) || !(p->luts > 0)) {
            r->missing++; /* a point.json without the figures to plot */
            continue;
        }
        r->n++;
        if (!r->dataset)
            r->dataset = dataset_name(setting(p->j, "data", 0));
        note_method(r, sj_str(sj_get(sj_get(p->j, "hardware"), "method"), "?"));
    }
    find_varying(r);
    for (size_t i = 0; i < r->n; i++)
        make_label(r, &r->p[i]);
    assign_groups(r);
    mark_pareto(r);
    return 0;
}

/* ---------------------------------------------------------------- figures */

static void legend(FILE *f, const report *r, double x, double y)
{
    for (size_t g = 0; g < r->ngroups && r->group_key; g++, x += 110) {
        fprintf(f, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"5\" fill=\"%s\"/>", x, y, rs_color(g));
        fprintf(f, "<text class=\"leg\" x=\"%.1f\" y=\"%.1f\">", x + 9, y + 4);
        rs_escape(f, r->groups[g]);
        fprintf(f, "</text>");
    }
}

/* Anchor labels are placed in the first of a few rows around the marker
 * where they do not overlap a label already drawn (anchors often share an
 * accuracy, e.g. four MNIST systems at 96 %). */
#define LABEL_ROWS 5
typedef struct label_slots {
    double x0[64], x1[64], y[64];
    size_t n;
} label_slots;

static int slot_free(const label_slots *s, double x0, double x1, double y)
{
    for (size_t i = 0; i < s->n; i++)
        if (fabs(s->y[i] - y) < 11 && x0 < s->x1[i] + 4 && x1 > s->x0[i] - 4)
            return 0;
    return 1;
}

static void place_label(label_slots *s, const rs_plot *pl, double x, double y, const char *text,
                        double *lx, double *ly, int *right)
{
    static const double rows[LABEL_ROWS] = {-8, 18, -20, 30, -32};
    double w = 5.6 * (double)strlen(text);
    *right = x + 9 + w > pl->right;
    double x0 = *right ? x - 9 - w : x + 9, x1 = x0 + w;
    *lx = *right ? x - 9 : x + 9;
    *ly = y + rows[0];
    for (int k = 0; k < LABEL_ROWS; k++)
        if (y + rows[k] > pl->top + 10 && y + rows[k] < pl->bottom - 2 &&
            slot_free(s, x0, x1, y + rows[k])) {
            *ly = y + rows[k];
            break;
        }
    if (s->n < 64) {
        s->x0[s->n] = x0, s->x1[s->n] = x1, s->y[s->n] = *ly;
        s->n++;
    }
}

static void scatter_anchors(FILE *f, const report *r, const rs_plot *pl)
{
    label_slots slots = {.n = 0};
    for (size_t a = 0; a < sizeof anchors / sizeof *anchors; a++) {
        if (!r->dataset || strcmp(anchors[a].dataset, r->dataset))
            continue;
        double x = rs_map(&pl->x, anchors[a].luts), y = rs_map(&pl->y, anchors[a].acc), lx, ly;
        int right;
        place_label(&slots, pl, x, y, anchors[a].label, &lx, &ly, &right);
        fprintf(f, "<g class=\"anchor\"><title>%s: %.1f %% at %.0f LUT (published, post-P&amp;R)"
                   "</title><path d=\"M%.1f %.1fl6 6l-6 6l-6 -6z\"/>",
                anchors[a].label, anchors[a].acc, anchors[a].luts, x, y - 6);
        fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"%s\">%s</text></g>", lx, ly,
                right ? "end" : "start", anchors[a].label);
    }
}

static int by_luts(const void *a, const void *b)
{
    const rpoint *p = *(const rpoint *const *)a, *q = *(const rpoint *const *)b;
    return p->luts < q->luts ? -1 : p->luts > q->luts;
}

/* The front as a staircase: a better point costs more LUTs. */
static void pareto_line(FILE *f, const report *r, const rs_plot *pl)
{
    const rpoint **front = malloc((r->n + 1) * sizeof *front);
    size_t nf = 0;
    for (size_t i = 0; front && i < r->n; i++)
        if (r->p[i].pareto)
            front[nf++] = &r->p[i];
    if (nf > 1) {
        qsort(front, nf, sizeof *front, by_luts);
        fprintf(f, "<path class=\"front\" d=\"M%.1f %.1f", rs_map(&pl->x, front[0]->luts),
                rs_map(&pl->y, front[0]->acc));
        for (size_t k = 1; k < nf; k++)
            fprintf(f, "H%.1fV%.1f", rs_map(&pl->x, front[k]->luts),
                    rs_map(&pl->y, front[k]->acc));
        fprintf(f, "\"/>");
    }
    free(front);
}

static void scatter_range(const report *r, double *x0, double *x1, double *y0, double *y1)
{
    *x0 = INFINITY, *x1 = -INFINITY, *y0 = INFINITY, *y1 = -INFINITY;
    for (size_t i = 0; i < r->n; i++) {
        *x0 = fmin(*x0, r->p[i].luts), *x1 = fmax(*x1, r->p[i].luts);
        *y0 = fmin(*y0, r->p[i].acc), *y1 = fmax(*y1, r->p[i].acc);
    }
    for (size_t a = 0; a < sizeof anchors / sizeof *anchors; a++)
        if (r->dataset && !strcmp(anchors[a].dataset, r->dataset)) {
            *x0 = fmin(*x0, anchors[a].luts), *x1 = fmax(*x1, anchors[a].luts);
            *y0 = fmin(*y0, anchors[a].acc), *y1 = fmax(*y1, anchors[a].acc);
        }
    /* a quarter decade of room on both sides, so no dot sits on the frame */
    *x0 = pow(10, floor(log10(fmax(*x0, 1)) * 4 - 0.6) / 4);
    *x1 = pow(10, ceil(log10(fmax(*x1, 1)) * 4 + 0.6) / 4);
    *y0 = fmax(0, *y0 - 1), *y1 = fmin(100, *y1 + 1);
}

static void scatter(const report *r)
{
    FILE *f = r->f;
    rs_plot pl;
    double x0, x1, y0, y1, w = 640, h = 430;
    scatter_range(r, &x0, &x1, &y0, &y1);
    rs_plot_init(&pl, w, h, x0, x1, 1, y0, y1);
    pl.top += 22; /* room for the legend */
    pl.y.p1 = pl.top;
    rs_open(f, "scatter", w, h, "test accuracy versus LUTs");
    char xlabel[128];
    snprintf(xlabel, sizeof xlabel, "LUTs, %s (log scale)", method_words(r));
    rs_axes(f, &pl, xlabel, "test accuracy (%)", "%g");
    legend(f, r, pl.left + 8, 14);
    fprintf(f, "<g class=\"leg\"><path class=\"front\" d=\"M%.1f 14h22\"/><text x=\"%.1f\" y=\"18\">"
               "Pareto front</text>",
            w - 240, w - 212);
    if (r->dataset)
        fprintf(f, "<path class=\"anchor\" d=\"M%.1f 8l6 6l-6 6l-6 -6z\"/><text x=\"%.1f\" "
                   "y=\"18\">published</text>",
                w - 115, w - 104);
    fprintf(f, "</g>");
    scatter_anchors(f, r, &pl);
    pareto_line(f, r, &pl);
    for (size_t i = 0; i < r->n; i++) {
        const rpoint *p = &r->p[i];
        double x = rs_map(&pl.x, p->luts), y = rs_map(&pl.y, p->acc);
        fprintf(f, "<g class=\"pt%s\"><title>#%ld %s: %.2f %% at %.0f LUT</title>",
                p->pareto ? " onfront" : "", p->index, p->label, p->acc, p->luts);
        fprintf(f, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"%d\" fill=\"%s\"/>", x, y,
                p->pareto ? 7 : 5, rs_color((size_t)p->group));
        fprintf(f, "<text x=\"%.1f\" y=\"%.1f\">%ld</text></g>", x + 8, y + 4, p->index);
    }
    fprintf(f, "</svg>\n");
}

static void layer_bars(const report *r)
{
    FILE *f = r->f;
    double maxl = 1, row = 24, w = 640, h = 50 + row * (double)r->n;
    size_t maxlayers = 0;
    for (size_t i = 0; i < r->n; i++) {
        maxl = fmax(maxl, r->p[i].luts);
        size_t nl = sj_len(sj_get(sj_get(r->p[i].j, "hardware"), "layer_luts"));
        maxlayers = nl > maxlayers ? nl : maxlayers;
    }
    rs_scale xs = {0, maxl * 1.12, 58, w - 16, 0};
    rs_open(f, "layers", w, h, "LUTs per layer of every point");
    for (size_t l = 0; l < maxlayers; l++)
        fprintf(f, "<rect x=\"%.0f\" y=\"6\" width=\"12\" height=\"12\" fill=\"%s\"/><text "
                   "class=\"leg\" x=\"%.0f\" y=\"16\">layer %zu</text>",
                58 + 80.0 * (double)l, rs_color(l + 4), 74 + 80.0 * (double)l, l);
    for (size_t i = 0; i < r->n; i++) {
        const sj_node *ll = sj_get(sj_get(r->p[i].j, "hardware"), "layer_luts");
        const sj_node *tl = sj_get(sj_get(r->p[i].j, "tables"), "layers");
        double y = 30 + row * (double)i, acc = 0;
        fprintf(f, "<text class=\"tick\" x=\"50\" y=\"%.1f\" text-anchor=\"end\">#%ld</text>",
                y + 14, r->p[i].index);
        for (size_t l = 0; l < sj_len(ll); l++) {
            double v = sj_num(sj_at(ll, l), 0);
            double xa = rs_map(&xs, acc), xb = rs_map(&xs, acc + v);
            fprintf(f, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"%s\">"
                       "<title>#%ld layer %zu: %.0f LUT, %.0f table entries</title></rect>",
                    xa, y + 3, fmax(xb - xa, 0.5), row - 6, rs_color(l + 4), r->p[i].index, l, v,
                    sj_num(sj_get(sj_at(tl, l), "entries"), 0));
            acc += v;
        }
        fprintf(f, "<text class=\"tick\" x=\"%.1f\" y=\"%.1f\">%.0f</text>", rs_map(&xs, acc) + 5,
                y + 15, acc);
    }
    fprintf(f, "</svg>\n");
}

static void curve(FILE *f, const rs_plot *pl, const sj_node *hist, const char *field,
                  double scale, const char *cls)
{
    fprintf(f, "<path class=\"%s\" d=\"", cls);
    for (size_t e = 0; e < sj_len(hist); e++) {
        const sj_node *h = sj_at(hist, e);
        double v = sj_num(sj_get(h, field), NAN);
        if (isfinite(v))
            fprintf(f, "%c%.1f %.1f", e ? 'L' : 'M', rs_map(&pl->x, sj_num(sj_get(h, "epoch"), 0)),
                    rs_map(&pl->y, v * scale));
    }
    fprintf(f, "\"/>");
}

/* The loss mapped onto the accuracy axis: 0 at the bottom, its maximum at the top. */
static void curve_loss(FILE *f, const rs_plot *pl, const sj_node *hist, double maxloss)
{
    fprintf(f, "<path class=\"loss\" d=\"");
    for (size_t e = 0; e < sj_len(hist) && maxloss > 0; e++) {
        const sj_node *h = sj_at(hist, e);
        double t = sj_num(sj_get(h, "loss"), 0) / maxloss;
        fprintf(f, "%c%.1f %.1f", e ? 'L' : 'M', rs_map(&pl->x, sj_num(sj_get(h, "epoch"), 0)),
                pl->bottom + t * (pl->top - pl->bottom));
    }
    fprintf(f, "\"/>");
}

static void curves_one(const report *r, const rpoint *p, size_t k)
{
    FILE *f = r->f;
    const sj_node *hist = sj_get(p->j, "history");
    double epochs = fmax(1, sj_num(sj_get(p->j, "epochs"), (double)sj_len(hist))), maxloss = 0;
    double lo = 100; /* the lowest accuracy after the first epoch, in tens */
    for (size_t e = 0; e < sj_len(hist); e++) {
        const sj_node *h = sj_at(hist, e);
        maxloss = fmax(maxloss, sj_num(sj_get(h, "loss"), 0));
        if (e > 0 || sj_len(hist) == 1)
            lo = fmin(lo, 100 * fmin(sj_num(sj_get(h, "test_accuracy"), 1),
                                     sj_num(sj_get(h, "train_accuracy"), 1)));
    }
    lo = fmax(0, floor(lo / 10) * 10 - 10);
    rs_plot pl;
    /* one run gets one large panel, a sweep small multiples */
    double w = r->n == 1 ? 900 : 270, h = r->n == 1 ? 320 : 180;
    rs_plot_init(&pl, w, h, epochs > 1 ? 1 : 0, epochs, 0, lo, 100);
    pl.x_integer = 1;
    char id[32];
    snprintf(id, sizeof id, "curve%zu", k);
    fprintf(f, "<figure class=\"small\"><figcaption><b>#%ld</b> ", p->index);
    rs_escape(f, p->label);
    fprintf(f, "</figcaption>");
    rs_open(f, id, w, h, "training curves");
    rs_axes(f, &pl, "epoch", "accuracy (%)", "%g");
    double sw = sj_num(sj_get(p->j, "switch_epoch"), NAN);
    if (isfinite(sw)) {
        double x = rs_map(&pl.x, sw);
        fprintf(f, "<line class=\"switch\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/>"
                   "<text class=\"switchl\" x=\"%.1f\" y=\"%.1f\">switch</text>",
                x, pl.top, x, pl.bottom, x + 3, pl.top + 11);
    }
    /* The loss shares the frame, scaled so its largest value touches the top. */
    curve_loss(f, &pl, hist, maxloss);
    curve(f, &pl, hist, "train_accuracy", 100, "train");
    curve(f, &pl, hist, "test_accuracy", 100, "test");
    fprintf(f, "<text class=\"tick\" x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\">loss max %.3g"
               "</text></svg></figure>\n",
            pl.right - 4, pl.bottom - 6, maxloss);
}

static void heat_color(double t, char *buf)
{
    /* white to a dark blue, perceptually even enough for counts */
    static const double lo[3] = {247, 251, 255}, hi[3] = {8, 48, 107};
    int c[3];
    for (int i = 0; i < 3; i++)
        c[i] = (int)lround(lo[i] + (hi[i] - lo[i]) * pow(t, 0.7));
    sprintf(buf, "#%02x%02x%02x", c[0], c[1], c[2]);
}

static void heatmap_one(const report *r, const rpoint *p, size_t k)
{
    const sj_node *in = sj_get(p->j, "inputs"), *rd = sj_get(in, "first_layer_readers");
    long w = (long)sj_num(sj_get(in, "image_width"), 0), h = (long)sj_num(sj_get(in, "image_height"), 0);
    if (w <= 0 || h <= 0 || sj_len(rd) != (size_t)(w * h))
        return;
    double side = r->n == 1 ? 224 : 112;
    double cell = fmax(2, floor(side / (double)(w > h ? w : h))), mx = 0;
    for (size_t i = 0; i < sj_len(rd); i++)
        mx = fmax(mx, sj_num(sj_at(rd, i), 0));
    char id[32], col[8];
    snprintf(id, sizeof id, "heat%zu", k);
    fprintf(r->f, "<figure class=\"heat\"><figcaption><b>#%ld</b> max %.0f</figcaption>",
            p->index, mx);
    rs_open(r->f, id, (double)w * cell, (double)h * cell, "first-layer readers per pixel");
    fprintf(r->f, "<rect class=\"hbg\" width=\"%.0f\" height=\"%.0f\"/>", (double)w * cell,
            (double)h * cell);
    for (long y = 0; y < h; y++)
        for (long x = 0; x < w; x++) {
            double v = sj_num(sj_at(rd, (size_t)(y * w + x)), 0);
            if (v <= 0)
                continue;
            heat_color(mx > 0 ? v / mx : 0, col);
            fprintf(r->f, "<rect x=\"%.0f\" y=\"%.0f\" width=\"%.0f\" height=\"%.0f\" "
                          "fill=\"%s\"/>",
                    (double)x * cell, (double)y * cell, cell, cell, col);
        }
    fprintf(r->f, "</svg></figure>\n");
}

/* ------------------------------------------------------------------ table */

/* "524k·262k·41k": a point's table entries per layer, compactly. */
static void layer_entries(FILE *f, const sj_node *j)
{
    const sj_node *layers = sj_get(sj_get(j, "tables"), "layers");
    for (size_t l = 0; l < sj_len(layers); l++) {
        double v = sj_num(sj_get(sj_at(layers, l), "entries"), 0);
        const char *sep = l ? "&middot;" : "";
        if (v >= 1e6)
            fprintf(f, "%s%.1fM", sep, v / 1e6);
        else if (v >= 1e4)
            fprintf(f, "%s%.0fk", sep, v / 1e3);
        else
            fprintf(f, "%s%.0f", sep, v);
    }
}

static void points_table(const report *r)
{
    FILE *f = r->f;
    fprintf(f, "<table><thead><tr><th>#</th><th title=\"on the Pareto front\">&#9733;</th>"
               "<th>settings</th><th>test %%</th><th>best %%</th><th title=\"%s\">LUT</th>%s"
               "<th>entries / layer</th><th>time s</th></tr></thead><tbody>\n",
            method_words(r),
            r->any_fast ? "<th title=\"LUT6 cost model of sparselut tables\">cost model</th>" : "");
    for (size_t i = 0; i < r->n; i++) {
        const rpoint *p = &r->p[i];
        const sj_node *acc = sj_get(p->j, "accuracy");
        fprintf(f, "<tr><td>%ld</td><td>%s</td><td><span class=\"dot\" style=\"background:%s\">"
                   "</span>",
                p->index, p->pareto ? "&#9733;" : "", rs_color((size_t)p->group));
        rs_escape(f, p->label);
        fprintf(f, "</td><td>%.2f</td><td>%.2f <small>(ep %.0f)</small></td><td>%.0f</td>",
                p->acc, 100 * sj_num(sj_get(acc, "best"), NAN),
                sj_num(sj_get(acc, "best_epoch"), 0), p->luts);
        if (r->any_fast)
            fprintf(f, "<td>%.0f</td>",
                    sj_num(sj_get(sj_get(p->j, "hardware"), "cost_model_luts"), NAN));
        fprintf(f, "<td>");
        layer_entries(f, p->j);
        fprintf(f, "</td><td>%.0f</td></tr>\n",
                sj_num(sj_get(sj_get(p->j, "run"), "total_seconds"), 0));
    }
    fprintf(f, "</tbody></table>\n");
}

/* Settings every point shares, listed once above the table. */
static void common_settings(const report *r)
{
    if (!r->n)
        return;
    const sj_node *s = sj_get(r->p[0].j, "settings");
    fprintf(r->f, "<dl class=\"common\">");
    for (size_t k = 0; k < sj_len(s); k++) {
        int varies = 0;
        for (size_t v = 0; v < r->nvary; v++)
            varies |= !r->vary_is_var[v] && !strcmp(r->vary[v], s->keys[k]);
        if (varies)
            continue;
        fprintf(r->f, "<dt>%s</dt><dd>", s->keys[k]);
        rs_escape(r->f, sj_str(&s->kids[k], ""));
        fprintf(r->f, "</dd>");
    }
    fprintf(r->f, "</dl>\n");
}

/* ------------------------------------------------------------------- page */

static const char page_style[] =
    "body{font:14px/1.45 system-ui,-apple-system,'Segoe UI',sans-serif;color:#222;margin:0;"
    "background:#f6f7f9}main{max-width:1560px;margin:0 auto;padding:18px 24px}"
    "h1{font-size:22px;margin:0 0 4px}h2{font-size:16px;margin:0 0 8px}"
    ".sub{color:#555;margin:0 0 14px}.card{background:#fff;border:1px solid #dde1e6;"
    "border-radius:6px;padding:14px 16px;margin-bottom:16px}"
    ".row{display:flex;gap:16px;align-items:flex-start;flex-wrap:wrap}.row>.card{flex:1 1 0;"
    "min-width:560px}svg{display:block}svg text{font:11px system-ui,sans-serif;fill:#333}"
    ".grid{stroke:#e6e8eb}.grid2{stroke:#f3f4f6}.frame{fill:none;stroke:#9aa0a6}.tick{fill:#555}"
    ".axis{font-size:12px!important;fill:#222!important}.leg{font-size:12px!important}"
    ".front{fill:none;stroke:#222;stroke-width:1.6;stroke-dasharray:5 3}"
    ".anchor path,path.anchor{fill:#fff;stroke:#777;stroke-width:1.4}"
    ".anchor text{fill:#666;font-style:italic}.pt circle{stroke:#fff;stroke-width:1}"
    ".pt.onfront circle{stroke:#111;stroke-width:2}.pt text{font-weight:600}"
    ".loss{fill:none;stroke:#999;stroke-width:1.3}.train{fill:none;stroke:#4e79a7;"
    "stroke-width:1.5;stroke-dasharray:4 2}.test{fill:none;stroke:#e15759;stroke-width:2}"
    ".switch{stroke:#59a14f;stroke-width:1.4;stroke-dasharray:3 3}.switchl{fill:#59a14f}"
    ".hbg{fill:#fff;stroke:#ccc}figure{margin:0}.smalls,.heats{display:flex;flex-wrap:wrap;"
    "gap:10px}figcaption{font-size:12px;color:#333;max-width:270px;white-space:nowrap;"
    "overflow:hidden;text-overflow:ellipsis}.heat figcaption{max-width:112px}"
    "table{border-collapse:collapse;width:100%;font-size:13px}th,td{padding:3px 7px;"
    "border-bottom:1px solid #eceef1;text-align:right;white-space:nowrap}td:nth-child(3){white-space:normal}th:nth-child(3),td:nth-child(3){"
    "text-align:left}th{background:#f0f2f5;position:sticky;top:0}"
    ".dot{display:inline-block;width:9px;height:9px;border-radius:50%;margin-right:6px}"
    ".common{display:grid;grid-template-columns:max-content 1fr;gap:1px 10px;margin:0 0 10px;"
    "font-size:12px}.common dt{color:#666}.common dd{margin:0;font-family:ui-monospace,monospace}"
    ".key{font-size:12px;color:#555}.key i{display:inline-block;width:18px;height:0;"
    "border-top:2px solid;vertical-align:middle;margin:0 4px 0 10px}";

/* The check a headless browser reads back (tests/cli/report-chromium.sh):
 * body[data-check] becomes "ok" when every figure has a size and content. */
static const char page_script[] =
    "<script>window.onerror=function(m){document.body.dataset.check='error: '+m;};"
    "window.addEventListener('load',function(){if(document.body.dataset.check!=='pending')"
    "return;var s=document.querySelectorAll('svg'),bad=[];for(var i=0;i<s.length;i++){"
    "var b=s[i].getBoundingClientRect();if(!(b.width>0&&b.height>0)||!s[i].firstElementChild)"
    "bad.push(s[i].id);}document.body.dataset.check=bad.length?'error: empty '+bad.join(' ')"
    ":'ok';});</script>\n";

static void page_head(const report *r, const char *title)
{
    FILE *f = r->f;
    fprintf(f, "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
               "<meta name=\"viewport\" content=\"width=device-width\"><title>");
    rs_escape(f, title);
    fprintf(f, "</title><style>%s</style></head>\n<body data-check=\"pending\"><main>\n<h1>",
            page_style);
    rs_escape(f, title);
    fprintf(f, "</h1><p class=\"sub\">%zu point%s finished", r->n, r->n == 1 ? "" : "s");
    if (r->missing)
        fprintf(f, ", <b>%zu not finished</b>", r->missing);
    fprintf(f, " &middot; dataset %s &middot; LUTs: %s &middot; sparselut %s"
               "</p>\n",
            r->dataset ? r->dataset : "(no published anchors)", method_words(r),
            splut_version_string());
}

static void page_body(const report *r)
{
    FILE *f = r->f;
    if (!r->n) {
        fprintf(f, "<section class=\"card\"><h2>No finished points yet</h2><p>Run the sweep "
                   "(or wait for its jobs) and write the report again.</p></section>\n</main>"
                   "%s</body></html>\n",
                page_script);
        return;
    }
    fprintf(f, "<div class=\"row\"><section class=\"card\"><h2>Accuracy versus LUTs</h2>");
    scatter(r);
    fprintf(f, "<p class=\"key\">Dots: sweep points (number = point, outlined = on the Pareto "
               "front), LUTs from the %s. Diamonds: published results of the same "
               "dataset (reference/RESULTS.md, Vivado post-place-and-route on xcvu9p).</p>"
               "</section>\n<section class=\"card\"><h2>Points</h2>",
            method_words(r));
    common_settings(r);
    points_table(r);
    fprintf(f, "</section></div>\n<div class=\"row\"><section class=\"card\"><h2>LUTs per layer"
               "</h2>");
    layer_bars(r);
    fprintf(f, "</section>\n");
    int images = 0;
    for (size_t i = 0; i < r->n; i++)
        images |= sj_get(sj_get(r->p[i].j, "inputs"), "image_width") != NULL;
    if (images) {
        fprintf(f, "<section class=\"card\"><h2>First-layer neurons reading each pixel</h2>"
                   "<div class=\"heats\">");
        for (size_t i = 0; i < r->n; i++)
            heatmap_one(r, &r->p[i], i);
        fprintf(f, "</div><p class=\"key\">White: no first-layer neuron reads the pixel; darkest:"
                   " the most-read pixel of that point.</p></section>\n");
    }
    fprintf(f, "</div>\n<section class=\"card\"><h2>Training curves</h2><p class=\"key\">"
               "<i style=\"border-color:#e15759\"></i>test accuracy<i style=\"border-color:"
               "#4e79a7;border-top-style:dashed\"></i>train accuracy<i style=\"border-color:#999"
               "\"></i>loss (scaled to its maximum)<i style=\"border-color:#59a14f;"
               "border-top-style:dashed\"></i>switch epoch of learned connectivity</p>"
               "<div class=\"smalls\">");
    for (size_t i = 0; i < r->n; i++)
        curves_one(r, &r->p[i], i);
    fprintf(f, "</div></section>\n</main>%s</body></html>\n", page_script);
}

int sweep_report_write(const char *dir, const char *html, const char *csv, const char *title)
{
    sweep_result *res = NULL;
    size_t nres = 0;
    if (sweep_results_read(dir, &res, &nres))
        return -1;
    int rc = csv ? sweep_write_csv(res, nres, csv) : 0;
    report r = {0};
    char *text = NULL, name[600];
    size_t len = 0;
    if (!rc)
        rc = build_model(&r, res, nres);
    if (!rc && !(r.f = open_memstream(&text, &len)))
        rc = (cli_err("out of memory"), -1);
    if (!rc) {
        const char *base = strrchr(dir, '/');
        base = base && base[1] ? base + 1 : dir;
        snprintf(name, sizeof name, "sparselut report: %s", title ? title : base);
        page_head(&r, name);
        page_body(&r);
        int bad = ferror(r.f);
        fclose(r.f);
        rc = bad || !text ? -1 : sweep_write_atomic(html, text, len);
    }
    free(text);
    free(r.p);
    sweep_results_free(res, nres);
    return rc;
}

/* ---------------------------------------------------------------- command */

static void report_help(void)
{
    printf("Usage: sparselut report DIR [--out FILE.html] [--csv FILE.csv] [--title TEXT]\n\n"
           "Write one self-contained HTML page (inline SVG, no network) about a sweep\n"
           "directory (from 'sparselut sweep') or one point directory: accuracy versus\n"
           "LUTs with the Pareto front and the published results of the dataset, LUTs per\n"
           "layer, first-layer input heatmaps for images, training curves, and a table of\n"
           "every point; and a CSV with one row per point.\n\n"
           "  --out FILE    the HTML file (default DIR/report.html)\n"
           "  --csv FILE    the CSV file (default DIR/summary.csv)\n"
           "  --title TEXT  page title (default: the directory name)\n");
}

int cli_cmd_report(int argc, char **argv)
{
    const char *dir = NULL, *out = NULL, *csv = NULL, *title = NULL, *v;
    for (int i = 1; i < argc; i++) {
        int r;
        if (cli_flag(argv, i, "--help") || cli_flag(argv, i, "-h")) {
            report_help();
            return CLI_EXIT_OK;
        } else if ((r = cli_opt(argc, argv, &i, "--out", &v)) != 0) {
            if (r < 0)
                return cli_usage_err("report", "--out needs a file name");
            out = v;
        } else if ((r = cli_opt(argc, argv, &i, "--csv", &v)) != 0) {
            if (r < 0)
                return cli_usage_err("report", "--csv needs a file name");
            csv = v;
        } else if ((r = cli_opt(argc, argv, &i, "--title", &v)) != 0) {
            if (r < 0)
                return cli_usage_err("report", "--title needs a value");
            title = v;
        } else if (argv[i][0] == '-' || dir) {
            return cli_usage_err("report", "unexpected argument '%s'", argv[i]);
        } else {
            dir = argv[i];
        }
    }
    if (!dir)
        return cli_usage_err("report", "a sweep or point directory is required");
    char html_path[4300], csv_path[4300];
    snprintf(html_path, sizeof html_path, "%s/report.html", dir);
    snprintf(csv_path, sizeof csv_path, "%s/summary.csv", dir);
    if (sweep_report_write(dir, out ? out : html_path, csv ? csv : csv_path, title))
        return CLI_EXIT_FAIL;
    fprintf(stderr, "sparselut report: %s, %s\n", out ? out : html_path, csv ? csv : csv_path);
    return CLI_EXIT_OK;
}
