/*
 * CSV tokenizer and the generic CSV table: header row, quoted or bare cells,
 * LF, CRLF or CR line ends, an optional UTF-8 byte-order mark; every message
 * names file:line:column.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include <errno.h>
#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "data-priv.h"

/* Labels above this are taken for a mistake (a feature column chosen as label). */
#define MAX_LABEL 65535

splut_status sd_csv_init(sd_csv *r, splut_ctx *ctx, const char *text, size_t len,
                         const char *name)
{
    memset(r, 0, sizeof *r);
    r->ctx = ctx;
    r->name = name ? name : "(csv)";
    if (memchr(text, 0, len))
        return sd_fail(ctx, SPLUT_E_FORMAT, "%s: contains NUL bytes (not a text file)", r->name);
    if (len >= 3 && memcmp(text, "\xef\xbb\xbf", 3) == 0) {
        text += 3;
        len -= 3;
    }
    r->p = text;
    r->end = text + len;
    return SPLUT_OK;
}

void sd_csv_free(sd_csv *r)
{
    free(r->cells);
    free(r->store);
    r->cells = NULL;
    r->store = NULL;
}

/* End of the line starting at @p p: the first CR or LF, or the end of the text. */
static const char *line_end(const sd_csv *r, const char *p)
{
    while (p < r->end && *p != '\n' && *p != '\r')
        p++;
    return p;
}

/* Step over one line terminator (CRLF, LF or CR). */
static const char *skip_eol(const sd_csv *r, const char *p)
{
    if (p < r->end && *p == '\r') {
        p++;
        if (p < r->end && *p == '\n')
            p++;
    } else if (p < r->end && *p == '\n') {
        p++;
    }
    return p;
}

static int blank(const char *p, const char *e)
{
    while (p < e && (*p == ' ' || *p == '\t'))
        p++;
    return p == e;
}

static int grow_cells(sd_csv *r)
{
    size_t nc = r->cap_cells ? r->cap_cells * 2 : 32;
    sd_cell *c = realloc(r->cells, nc * sizeof *c);
    if (!c)
        return -1;
    r->cells = c;
    r->cap_cells = nc;
    return 0;
}

/* One quoted cell starting after its opening quote; *q ends after the closing one. */
static splut_status quoted_cell(sd_csv *r, const char *start, const char *end, const char **q,
                                char **out, const sd_cell *c)
{
    const char *s = *q;
    char *o = *out;
    for (;;) {
        if (s >= end)
            return sd_fail(r->ctx, SPLUT_E_FORMAT, "%s:%zu:%zu: unterminated quoted cell",
                           r->name, r->line, c->col);
        if (*s == '"' && s + 1 < end && s[1] == '"') {
            *o++ = '"';
            s += 2;
        } else if (*s == '"') {
            s++;
            break;
        } else {
            *o++ = *s++;
        }
    }
    while (s < end && (*s == ' ' || *s == '\t'))
        s++;
    if (s < end && *s != ',')
        return sd_fail(r->ctx, SPLUT_E_FORMAT, "%s:%zu:%zu: text after a closing quote",
                       r->name, r->line, (size_t)(s - start) + 1);
    *q = s;
    *out = o;
    return SPLUT_OK;
}

/* Split the line [start, end) into cells. */
static splut_status split_line(sd_csv *r, const char *start, const char *end)
{
    size_t linelen = (size_t)(end - start);
    if (linelen + 1 > r->store_cap) {
        char *s = realloc(r->store, linelen + 1);
        if (!s)
            return sd_fail(r->ctx, SPLUT_E_NOMEM, "%s:%zu: out of memory", r->name, r->line);
        r->store = s;
        r->store_cap = linelen + 1;
    }
    r->ncells = 0;
    char *out = r->store;
    const char *q = start;
    for (;;) {
        if (r->ncells == r->cap_cells && grow_cells(r))
            return sd_fail(r->ctx, SPLUT_E_NOMEM, "%s:%zu: out of memory", r->name, r->line);
        while (q < end && (*q == ' ' || *q == '\t'))
            q++;
        sd_cell *c = &r->cells[r->ncells++];
        c->col = (size_t)(q - start) + 1;
        c->text = out;
        if (q < end && *q == '"') {
            q++;
            splut_status st = quoted_cell(r, start, end, &q, &out, c);
            if (st)
                return st;
        } else {
            while (q < end && *q != ',')
                *out++ = *q++;
            while (out > c->text && (out[-1] == ' ' || out[-1] == '\t'))
                out--;
        }
        *out++ = '\0';
        if (q >= end)
            break;
        q++; /* the comma */
    }
    return SPLUT_OK;
}

int sd_csv_next(sd_csv *r)
{
    for (;;) {
        if (r->p >= r->end)
            return 0;
        r->line++;
        const char *start = r->p, *end = line_end(r, start);
        r->p = skip_eol(r, end);
        if (blank(start, end))
            continue;
        splut_status st = split_line(r, start, end);
        return st ? (int)st : 1;
    }
}

void sd_header_free(sd_header *h)
{
    for (size_t i = 0; i < h->n; i++)
        free(h->names[i]);
    free(h->names);
    h->names = NULL;
    h->n = 0;
}

splut_status sd_read_header(sd_csv *r, sd_header *h)
{
    int rc = sd_csv_next(r);
    if (rc < 0)
        return (splut_status)rc;
    if (rc == 0)
        return sd_fail(r->ctx, SPLUT_E_FORMAT, "%s: empty file (no header row)", r->name);
    h->names = calloc(r->ncells, sizeof *h->names);
    if (!h->names)
        return sd_fail(r->ctx, SPLUT_E_NOMEM, "%s: out of memory", r->name);
    for (size_t i = 0; i < r->ncells; i++) {
        h->names[i] = malloc(strlen(r->cells[i].text) + 1);
        if (!h->names[i]) {
            h->n = i;
            return sd_fail(r->ctx, SPLUT_E_NOMEM, "%s: out of memory", r->name);
        }
        strcpy(h->names[i], r->cells[i].text);
    }
    h->n = r->ncells;
    return SPLUT_OK;
}

int sd_find_column(const sd_header *h, const char *name)
{
    for (size_t i = 0; i < h->n; i++)
        if (strcmp(h->names[i], name) == 0)
            return (int)i;
    return -1;
}

splut_status sd_cell_number(const sd_csv *r, const sd_cell *c, const char *colname, double *v)
{
    char *endp;
    if (!c->text[0])
        return sd_fail(r->ctx, SPLUT_E_FORMAT, "%s:%zu:%zu: empty cell in column '%s'", r->name,
                       r->line, c->col, colname);
    errno = 0;
    *v = strtod(c->text, &endp);
    if (*endp != '\0' || endp == c->text)
        return sd_fail(r->ctx, SPLUT_E_FORMAT,
                       "%s:%zu:%zu: non-numeric cell '%.40s' in column '%s'", r->name, r->line,
                       c->col, c->text, colname);
    if (!isfinite(*v))
        return sd_fail(r->ctx, SPLUT_E_FORMAT,
                       "%s:%zu:%zu: non-finite value '%.40s' in column '%s'", r->name, r->line,
                       c->col, c->text, colname);
    if (isinf((float)*v))
        return sd_fail(r->ctx, SPLUT_E_FORMAT,
                       "%s:%zu:%zu: value '%.40s' in column '%s' overflows a float "
                       "(largest %g)",
                       r->name, r->line, c->col, c->text, colname, (double)FLT_MAX);
    return SPLUT_OK;
}

splut_status sd_check_width(const sd_csv *r, const sd_header *h)
{
    if (r->ncells == h->n)
        return SPLUT_OK;
    return sd_fail(r->ctx, SPLUT_E_FORMAT, "%s:%zu:%zu: ragged row: %zu columns, header has %zu",
                   r->name, r->line, r->cells[r->ncells - 1].col, r->ncells, h->n);
}

splut_status sd_rows_push(sd_rows *rs, const double *row)
{
    if (rs->n == rs->cap) {
        size_t nc = rs->cap ? rs->cap * 2 : 1024;
        if (nc > SIZE_MAX / sizeof(double) / (rs->width ? rs->width : 1))
            return SPLUT_E_NOMEM;
        double *p = realloc(rs->v, nc * rs->width * sizeof *p);
        if (!p)
            return SPLUT_E_NOMEM;
        rs->v = p;
        rs->cap = nc;
    }
    memcpy(rs->v + rs->n * rs->width, row, rs->width * sizeof *row);
    rs->n++;
    return SPLUT_OK;
}

/* ---- the generic table ---------------------------------------------------- */

/* --label: a header name first, then a 0-based index; NULL = last column. */
static splut_status label_column(const sd_csv *r, const sd_header *h, const char *label,
                                 size_t *col)
{
    if (!label) {
        *col = h->n - 1;
        return SPLUT_OK;
    }
    int byname = sd_find_column(h, label);
    if (byname >= 0) {
        *col = (size_t)byname;
        return SPLUT_OK;
    }
    char *endp;
    errno = 0;
    long idx = strtol(label, &endp, 10);
    if (*label && *endp == '\0' && errno == 0) {
        if (idx < 0 || (size_t)idx >= h->n)
            return sd_fail(r->ctx, SPLUT_E_INVALID,
                           "%s: label column index %ld out of range (file has %zu columns)",
                           r->name, idx, h->n);
        *col = (size_t)idx;
        return SPLUT_OK;
    }
    return sd_fail(r->ctx, SPLUT_E_INVALID, "%s: no column named '%s' for the label", r->name,
                   label);
}

static splut_status check_label(const sd_csv *r, const sd_cell *c, const char *colname,
                                double v)
{
    if (v < 0 || v != floor(v) || v > MAX_LABEL)
        return sd_fail(r->ctx, SPLUT_E_LABEL,
                       "%s:%zu:%zu: label '%.40s' in column '%s' out of range "
                       "(need an integer in [0, %d])",
                       r->name, r->line, c->col, c->text, colname, MAX_LABEL);
    return SPLUT_OK;
}

static splut_status read_rows(sd_csv *r, const sd_header *h, size_t lcol, sd_rows *rs,
                              double *row)
{
    for (;;) {
        int more = sd_csv_next(r);
        if (more <= 0)
            return (splut_status)more;
        splut_status st = sd_check_width(r, h);
        for (size_t i = 0; i < h->n && !st; i++) {
            st = sd_cell_number(r, &r->cells[i], h->names[i], &row[i]);
            if (!st && i == lcol)
                st = check_label(r, &r->cells[i], h->names[i], row[i]);
        }
        if (!st && sd_rows_push(rs, row))
            st = sd_fail(r->ctx, SPLUT_E_NOMEM, "%s:%zu: out of memory", r->name, r->line);
        if (st)
            return st;
    }
}

/* Rows of doubles → float features and int labels (the label column taken out). */
static splut_status to_table(splut_ctx *ctx, const sd_rows *rs, size_t lcol, sd_table *t)
{
    size_t w = rs->width, nf = w - 1;
    splut_status st = sd_table_alloc(ctx, t, rs->n, (uint32_t)nf);
    if (st)
        return st;
    for (size_t i = 0; i < rs->n; i++) {
        const double *src = rs->v + i * w;
        float *dst = t->x + i * nf;
        for (size_t c = 0, k = 0; c < w; c++) {
            if (c == lcol)
                t->y[i] = (int32_t)src[c];
            else
                dst[k++] = (float)src[c];
        }
    }
    return SPLUT_OK;
}

splut_status sd_csv_table(splut_ctx *ctx, const char *text, size_t len, const char *name,
                          const char *label, sd_table *out, uint32_t *features)
{
    sd_csv r;
    sd_header h = {0};
    sd_rows rs = {0};
    double *row = NULL;
    size_t lcol = 0;
    memset(out, 0, sizeof *out);
    splut_status st = sd_csv_init(&r, ctx, text, len, name);
    if (!st)
        st = sd_read_header(&r, &h);
    if (!st)
        st = label_column(&r, &h, label, &lcol);
    if (!st && h.n < 2)
        st = sd_fail(ctx, SPLUT_E_FORMAT,
                     "%s:1: need at least one feature column and a label column", r.name);
    if (!st && h.n - 1 > UINT32_MAX)
        st = sd_fail(ctx, SPLUT_E_FORMAT, "%s:1: too many columns", r.name);
    rs.width = h.n;
    if (!st && !(row = malloc(h.n * sizeof *row)))
        st = sd_fail(ctx, SPLUT_E_NOMEM, "%s: out of memory", r.name);
    if (!st)
        st = read_rows(&r, &h, lcol, &rs, row);
    if (!st && rs.n == 0)
        st = sd_fail(ctx, SPLUT_E_FORMAT, "%s: no data rows after the header", r.name);
    if (!st)
        st = to_table(ctx, &rs, lcol, out);
    if (!st)
        *features = (uint32_t)(h.n - 1);
    free(row);
    free(rs.v);
    sd_header_free(&h);
    sd_csv_free(&r);
    return st;
}
