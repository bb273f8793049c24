/*
 * Copyright 2026 The libsparselut authors
 * SPDX-License-Identifier: Apache-2.0
 *
 * Dataset loaders of the CLI (see data.h and ../shared/reference/DATASETS.md).
 */
#include "data.h"

#include "inflate.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* MNIST normalisation of the reference (torchvision Normalize). */
#define MNIST_MEAN 0.1307f
#define MNIST_STD 0.3081f
/* Labels above this are treated as a mistake (a feature column chosen as label). */
#define MAX_LABEL 65535

static int set_err(char *err, size_t cap, const char *fmt, ...)
{
    if (err && cap) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, cap, fmt, ap);
        va_end(ap);
    }
    return -1;
}

void cli_data_opts_init(cli_data_opts *o)
{
    memset(o, 0, sizeof *o);
    o->split = 0.2;
    o->seed = 42;
}

static void split_free(cli_split *s)
{
    free(s->x);
    free(s->y);
    memset(s, 0, sizeof *s);
}

void cli_data_free(cli_data *d)
{
    if (!d)
        return;
    split_free(&d->train);
    split_free(&d->test);
    d->features = d->classes = d->width = d->height = 0;
}

/* ---- files ---------------------------------------------------------------- */

int cli_read_file(const char *path, uint8_t **buf, size_t *len, char *err, size_t err_cap)
{
    *buf = NULL;
    *len = 0;
    FILE *f = fopen(path, "rb");
    if (!f)
        return set_err(err, err_cap, "%s: cannot open: %s", path, strerror(errno));
    size_t cap = 1 << 16, n = 0;
    uint8_t *data = malloc(cap);
    while (data) {
        if (n + 1 >= cap) {
            uint8_t *p = cap > ((size_t)1 << 40) ? NULL : realloc(data, cap * 2);
            if (!p) {
                free(data);
                data = NULL;
                break;
            }
            data = p;
            cap *= 2;
        }
        size_t got = fread(data + n, 1, cap - n - 1, f);
        n += got;
        if (got == 0)
            break;
    }
    int bad = ferror(f);
    fclose(f);
    if (!data)
        return set_err(err, err_cap, "%s: out of memory reading the file", path);
    if (bad) {
        free(data);
        return set_err(err, err_cap, "%s: read error", path);
    }
    if (n >= 2 && data[0] == 0x1f && data[1] == 0x8b) {
        uint8_t *out;
        size_t out_len;
        char msg[160];
        int rc = cli_gunzip(data, n, &out, &out_len, msg, sizeof msg);
        free(data);
        if (rc)
            return set_err(err, err_cap, "%s: %s", path, msg);
        uint8_t *p = realloc(out, out_len + 1);
        if (!p) {
            free(out);
            return set_err(err, err_cap, "%s: out of memory", path);
        }
        data = p;
        n = out_len;
    }
    data[n] = 0;
    *buf = data;
    *len = n;
    return 0;
}

/* ---- IDX ------------------------------------------------------------------ */

static uint32_t be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* Check magic, dimensions and exact size; returns the dims in @p dims. */
static int idx_header(const uint8_t *buf, size_t len, const char *name, unsigned want_ndim,
                      uint32_t *dims, char *err, size_t cap)
{
    if (len < 4)
        return set_err(err, cap, "%s: IDX file truncated (%zu bytes, no header)", name, len);
    if (buf[0] != 0 || buf[1] != 0)
        return set_err(err, cap, "%s: not an IDX file (magic %02x%02x%02x%02x)", name, buf[0],
                       buf[1], buf[2], buf[3]);
    if (buf[2] != 0x08)
        return set_err(err, cap, "%s: IDX element type 0x%02x unsupported (need 0x08 ubyte)",
                       name, buf[2]);
    if (buf[3] != want_ndim)
        return set_err(err, cap, "%s: IDX file has %u dimensions, expected %u", name, buf[3],
                       want_ndim);
    size_t header = 4 + 4 * (size_t)want_ndim;
    if (len < header)
        return set_err(err, cap, "%s: IDX header truncated (%zu of %zu bytes)", name, len,
                       header);
    uint64_t total = 1;
    for (unsigned i = 0; i < want_ndim; i++) {
        dims[i] = be32(buf + 4 + 4 * i);
        if (dims[i] == 0)
            return set_err(err, cap, "%s: IDX dimension %u is 0", name, i);
        total *= dims[i];
        if (total > ((uint64_t)1 << 40))
            return set_err(err, cap, "%s: IDX dimensions too large", name);
    }
    if (len - header != total)
        return set_err(err, cap, "%s: IDX payload is %zu bytes, header promises %llu%s", name,
                       len - header, (unsigned long long)total,
                       len - header < total ? " (truncated file)" : " (trailing bytes)");
    return 0;
}

/* Pixel value of the transform: ToTensor, then Normalize, in float32. */
static float mnist_value(uint8_t pixel)
{
    float t = (float)pixel / 255.0f;
    return (t - MNIST_MEAN) / MNIST_STD;
}

int cli_idx_images(const uint8_t *buf, size_t len, const char *name, float **x, size_t *n,
                   uint32_t *features, char *err, size_t err_cap)
{
    uint32_t dims[3];
    *x = NULL;
    if (idx_header(buf, len, name, 3, dims, err, err_cap))
        return -1;
    size_t rows = dims[0], feat = (size_t)dims[1] * dims[2];
    if (feat > UINT32_MAX)
        return set_err(err, err_cap, "%s: images too large", name);
    float *out = malloc(rows * feat * sizeof *out);
    if (!out)
        return set_err(err, err_cap, "%s: out of memory for %zu images", name, rows);
    const uint8_t *pix = buf + 16;
    for (size_t i = 0; i < rows * feat; i++)
        out[i] = mnist_value(pix[i]);
    *x = out;
    *n = rows;
    *features = (uint32_t)feat;
    return 0;
}

int cli_idx_labels(const uint8_t *buf, size_t len, const char *name, int32_t **y, size_t *n,
                   char *err, size_t err_cap)
{
    uint32_t dims[1];
    *y = NULL;
    if (idx_header(buf, len, name, 1, dims, err, err_cap))
        return -1;
    int32_t *out = malloc((size_t)dims[0] * sizeof *out);
    if (!out)
        return set_err(err, err_cap, "%s: out of memory", name);
    for (size_t i = 0; i < dims[0]; i++)
        out[i] = buf[8 + i];
    *y = out;
    *n = dims[0];
    return 0;
}

/* Read DIR/BASE, or DIR/BASE.gz when the raw file does not exist. */
static int read_idx_file(const char *dir, const char *base, uint8_t **buf, size_t *len,
                         char *path, size_t path_cap, char *err, size_t cap)
{
    snprintf(path, path_cap, "%s/%s", dir, base);
    FILE *f = fopen(path, "rb");
    if (f)
        fclose(f);
    else
        snprintf(path, path_cap, "%s/%s.gz", dir, base);
    f = fopen(path, "rb");
    if (!f)
        return set_err(err, cap, "%s/%s: not found (neither raw nor .gz); run scripts/fetch-data",
                       dir, base);
    fclose(f);
    return cli_read_file(path, buf, len, err, cap);
}

static int load_idx_split(const char *dir, const char *prefix, cli_split *s, uint32_t *features,
                          uint32_t *width, char *err, size_t cap)
{
    char base[64], path[4096];
    uint8_t *buf;
    size_t len, ni, nl;
    snprintf(base, sizeof base, "%s-images-idx3-ubyte", prefix);
    if (read_idx_file(dir, base, &buf, &len, path, sizeof path, err, cap))
        return -1;
    int rc = cli_idx_images(buf, len, path, &s->x, &ni, features, err, cap);
    if (!rc)
        *width = be32(buf + 12); /* columns; validated by cli_idx_images */
    free(buf);
    if (rc)
        return -1;
    snprintf(base, sizeof base, "%s-labels-idx1-ubyte", prefix);
    if (read_idx_file(dir, base, &buf, &len, path, sizeof path, err, cap))
        return -1;
    rc = cli_idx_labels(buf, len, path, &s->y, &nl, err, cap);
    free(buf);
    if (rc)
        return -1;
    if (ni != nl)
        return set_err(err, cap, "%s: %zu labels for %zu images", path, nl, ni);
    s->n = ni;
    return 0;
}

static int load_mnist(const char *dir, cli_data *d, char *err, size_t cap)
{
    uint32_t f_train = 0, f_test = 0, w_train = 0, w_test = 0;
    if (load_idx_split(dir, "train", &d->train, &f_train, &w_train, err, cap) ||
        load_idx_split(dir, "t10k", &d->test, &f_test, &w_test, err, cap))
        return -1;
    if (f_train != f_test || w_train != w_test)
        return set_err(err, cap, "%s: train images have %u pixels (%u wide), test images %u (%u)",
                       dir, f_train, w_train, f_test, w_test);
    d->features = f_train;
    d->width = w_train;
    d->height = f_train / w_train;
    d->background = mnist_value(0);
    int32_t maxl = 0;
    for (size_t i = 0; i < d->train.n; i++)
        maxl = d->train.y[i] > maxl ? d->train.y[i] : maxl;
    for (size_t i = 0; i < d->test.n; i++)
        maxl = d->test.y[i] > maxl ? d->test.y[i] : maxl;
    d->classes = (uint32_t)maxl + 1;
    return 0;
}

/* ---- CSV tokenizer -------------------------------------------------------- */

typedef struct cell {
    char *text; /* NUL-terminated, unquoted, trimmed */
    size_t col; /* 1-based byte column of the cell start */
} cell;

typedef struct csv_reader {
    const char *p;
    const char *name;
    size_t line; /* line number of the row last read */
    cell *cells;
    size_t ncells, cap_cells;
    char *store; /* backing text of the cells */
    size_t store_cap;
} csv_reader;

static void csv_free(csv_reader *r)
{
    free(r->cells);
    free(r->store);
}

static int line_blank(const char *p)
{
    while (*p == ' ' || *p == '\t' || *p == '\r')
        p++;
    return *p == '\n' || *p == '\0';
}

/* Read the next non-blank line into cells. Returns 1 for a row, 0 at EOF, -1 on error. */
static int csv_next(csv_reader *r, char *err, size_t cap)
{
    while (*r->p && line_blank(r->p)) {
        r->line++;
        r->p += strcspn(r->p, "\n");
        if (*r->p == '\n')
            r->p++;
    }
    if (!*r->p)
        return 0;
    r->line++;
    const char *start = r->p;
    size_t linelen = strcspn(start, "\n");
    if (linelen + 1 > r->store_cap) {
        char *s = realloc(r->store, linelen + 1);
        if (!s)
            return set_err(err, cap, "%s:%zu: out of memory", r->name, r->line);
        r->store = s;
        r->store_cap = linelen + 1;
    }
    r->ncells = 0;
    char *out = r->store;
    const char *q = start, *end = start + linelen;
    for (;;) {
        if (r->ncells == r->cap_cells) {
            size_t nc = r->cap_cells ? r->cap_cells * 2 : 32;
            cell *c = realloc(r->cells, nc * sizeof *c);
            if (!c)
                return set_err(err, cap, "%s:%zu: out of memory", r->name, r->line);
            r->cells = c;
            r->cap_cells = nc;
        }
        while (q < end && (*q == ' ' || *q == '\t'))
            q++;
        cell *c = &r->cells[r->ncells++];
        c->col = (size_t)(q - start) + 1;
        c->text = out;
        if (q < end && *q == '"') {
            q++;
            for (;;) {
                if (q >= end)
                    return set_err(err, cap, "%s:%zu:%zu: unterminated quoted cell", r->name,
                                   r->line, c->col);
                if (*q == '"' && q + 1 < end && q[1] == '"') {
                    *out++ = '"';
                    q += 2;
                } else if (*q == '"') {
                    q++;
                    break;
                } else {
                    *out++ = *q++;
                }
            }
            while (q < end && (*q == ' ' || *q == '\t' || *q == '\r'))
                q++;
            if (q < end && *q != ',')
                return set_err(err, cap, "%s:%zu:%zu: text after a closing quote", r->name,
                               r->line, (size_t)(q - start) + 1);
        } else {
            while (q < end && *q != ',')
                *out++ = *q++;
            while (out > c->text && (out[-1] == ' ' || out[-1] == '\t' || out[-1] == '\r'))
                out--;
        }
        *out++ = '\0';
        if (q >= end)
            break;
        q++; /* the comma */
    }
    r->p = *end ? end + 1 : end;
    return 1;
}

/* Parse a finite number from a cell; messages name file:line:column and column name. */
static int cell_number(const csv_reader *r, const cell *c, const char *colname, double *v,
                       char *err, size_t cap)
{
    char *endp;
    if (!c->text[0])
        return set_err(err, cap, "%s:%zu:%zu: empty cell in column '%s'", r->name, r->line,
                       c->col, colname);
    errno = 0;
    *v = strtod(c->text, &endp);
    if (*endp != '\0' || endp == c->text)
        return set_err(err, cap, "%s:%zu:%zu: non-numeric cell '%.40s' in column '%s'", r->name,
                       r->line, c->col, c->text, colname);
    if (!isfinite(*v))
        return set_err(err, cap, "%s:%zu:%zu: non-finite value '%.40s' in column '%s'",
                       r->name, r->line, c->col, c->text, colname);
    return 0;
}

/* Growable row storage. */
typedef struct rows {
    double *v;
    size_t n, cap, width;
} rows;

static int rows_push(rows *rs, const double *row)
{
    if (rs->n == rs->cap) {
        size_t nc = rs->cap ? rs->cap * 2 : 1024;
        double *p = realloc(rs->v, nc * rs->width * sizeof *p);
        if (!p)
            return -1;
        rs->v = p;
        rs->cap = nc;
    }
    memcpy(rs->v + rs->n * rs->width, row, rs->width * sizeof *row);
    rs->n++;
    return 0;
}

/* Header: names of all columns (copied). */
typedef struct header {
    char **names;
    size_t n;
} header;

static void header_free(header *h)
{
    for (size_t i = 0; i < h->n; i++)
        free(h->names[i]);
    free(h->names);
    h->names = NULL;
    h->n = 0;
}

static int read_header(csv_reader *r, header *h, char *err, size_t cap)
{
    int rc = csv_next(r, err, cap);
    if (rc < 0)
        return -1;
    if (rc == 0)
        return set_err(err, cap, "%s: empty file (no header row)", r->name);
    h->names = calloc(r->ncells, sizeof *h->names);
    if (!h->names)
        return set_err(err, cap, "%s: out of memory", r->name);
    for (size_t i = 0; i < r->ncells; i++) {
        h->names[i] = malloc(strlen(r->cells[i].text) + 1);
        if (!h->names[i]) {
            h->n = i;
            return set_err(err, cap, "%s: out of memory", r->name);
        }
        strcpy(h->names[i], r->cells[i].text);
    }
    h->n = r->ncells;
    return 0;
}

static int find_column(const header *h, const char *name)
{
    for (size_t i = 0; i < h->n; i++)
        if (strcmp(h->names[i], name) == 0)
            return (int)i;
    return -1;
}

/* Resolve --label: a header name first, then a 0-based index; NULL = last column. */
static int label_column(const header *h, const char *label, const char *file, size_t *col,
                        char *err, size_t cap)
{
    if (!label) {
        *col = h->n - 1;
        return 0;
    }
    int byname = find_column(h, label);
    if (byname >= 0) {
        *col = (size_t)byname;
        return 0;
    }
    char *endp;
    errno = 0;
    long idx = strtol(label, &endp, 10);
    if (*label && *endp == '\0' && errno == 0) {
        if (idx < 0 || (size_t)idx >= h->n)
            return set_err(err, cap,
                           "%s: label column index %ld out of range (file has %zu columns)",
                           file, idx, h->n);
        *col = (size_t)idx;
        return 0;
    }
    return set_err(err, cap, "%s: no column named '%s' for the label", file, label);
}

static int check_label(const csv_reader *r, const cell *c, const char *colname, double v,
                       char *err, size_t cap)
{
    if (v < 0 || v != floor(v) || v > MAX_LABEL)
        return set_err(err, cap,
                       "%s:%zu:%zu: label '%.40s' in column '%s' out of range "
                       "(need an integer in [0, %d])",
                       r->name, r->line, c->col, c->text, colname, MAX_LABEL);
    return 0;
}

int cli_csv_parse(const char *text, const char *name, const char *label, cli_split *out,
                  uint32_t *features, uint32_t *classes, char *err, size_t err_cap)
{
    csv_reader r = {.p = text, .name = name};
    header h = {0};
    rows rs = {0};
    double *row = NULL;
    int rc = -1;
    size_t lcol = 0;
    memset(out, 0, sizeof *out);
    if (read_header(&r, &h, err, err_cap) || label_column(&h, label, name, &lcol, err, err_cap))
        goto done;
    if (h.n < 2) {
        set_err(err, err_cap, "%s:1: need at least one feature column and a label column", name);
        goto done;
    }
    rs.width = h.n;
    row = malloc(h.n * sizeof *row);
    if (!row) {
        set_err(err, err_cap, "%s: out of memory", name);
        goto done;
    }
    for (;;) {
        int more = csv_next(&r, err, err_cap);
        if (more < 0)
            goto done;
        if (!more)
            break;
        if (r.ncells != h.n) {
            set_err(err, err_cap, "%s:%zu:%zu: ragged row: %zu columns, header has %zu", name,
                    r.line, r.cells[r.ncells - 1].col, r.ncells, h.n);
            goto done;
        }
        for (size_t i = 0; i < h.n; i++) {
            if (cell_number(&r, &r.cells[i], h.names[i], &row[i], err, err_cap))
                goto done;
            if (i == lcol && check_label(&r, &r.cells[i], h.names[i], row[i], err, err_cap))
                goto done;
        }
        if (rows_push(&rs, row)) {
            set_err(err, err_cap, "%s:%zu: out of memory", name, r.line);
            goto done;
        }
    }
    if (rs.n == 0) {
        set_err(err, err_cap, "%s: no data rows after the header", name);
        goto done;
    }
    size_t nf = h.n - 1;
    out->x = malloc(rs.n * nf * sizeof *out->x);
    out->y = malloc(rs.n * sizeof *out->y);
    if (!out->x || !out->y) {
        split_free(out);
        set_err(err, err_cap, "%s: out of memory", name);
        goto done;
    }
    int32_t maxl = 0;
    for (size_t i = 0; i < rs.n; i++) {
        const double *src = rs.v + i * h.n;
        float *dst = out->x + i * nf;
        for (size_t c = 0, k = 0; c < h.n; c++) {
            if (c == lcol)
                out->y[i] = (int32_t)src[c];
            else
                dst[k++] = (float)src[c];
        }
        maxl = out->y[i] > maxl ? out->y[i] : maxl;
    }
    out->n = rs.n;
    *features = (uint32_t)nf;
    *classes = (uint32_t)maxl + 1;
    rc = 0;
done:
    free(row);
    free(rs.v);
    header_free(&h);
    csv_free(&r);
    return rc;
}

/* ---- split and standardisation -------------------------------------------- */

/* MT19937 as numpy's legacy RandomState (seeded by init_genrand). */
typedef struct mt19937 {
    uint32_t mt[624];
    int pos;
} mt19937;

static void mt_seed(mt19937 *s, uint32_t seed)
{
    s->mt[0] = seed;
    for (uint32_t i = 1; i < 624; i++)
        s->mt[i] = 1812433253u * (s->mt[i - 1] ^ (s->mt[i - 1] >> 30)) + i;
    s->pos = 624;
}

static uint32_t mt_next(mt19937 *s)
{
    if (s->pos >= 624) {
        for (int i = 0; i < 624; i++) {
            uint32_t y = (s->mt[i] & 0x80000000u) | (s->mt[(i + 1) % 624] & 0x7fffffffu);
            s->mt[i] = s->mt[(i + 397) % 624] ^ (y >> 1) ^ ((y & 1u) ? 0x9908b0dfu : 0u);
        }
        s->pos = 0;
    }
    uint32_t y = s->mt[s->pos++];
    y ^= y >> 11;
    y ^= (y << 7) & 0x9d2c5680u;
    y ^= (y << 15) & 0xefc60000u;
    y ^= y >> 18;
    return y;
}

/* Uniform integer in [0, max] by masked rejection (numpy random_interval). */
static uint64_t mt_interval(mt19937 *s, uint64_t max)
{
    if (max == 0)
        return 0;
    uint64_t mask = max;
    for (unsigned sh = 1; sh < 64; sh <<= 1)
        mask |= mask >> sh;
    uint64_t v;
    if (max <= 0xffffffffu) {
        do
            v = mt_next(s) & mask;
        while (v > max);
    } else {
        do
            v = (((uint64_t)mt_next(s) << 32) | mt_next(s)) & mask;
        while (v > max);
    }
    return v;
}

size_t *cli_permutation(size_t n, uint32_t seed)
{
    size_t *p = malloc((n ? n : 1) * sizeof *p);
    if (!p)
        return NULL;
    mt19937 *s = malloc(sizeof *s);
    if (!s) {
        free(p);
        return NULL;
    }
    mt_seed(s, seed);
    for (size_t i = 0; i < n; i++)
        p[i] = i;
    for (size_t i = n; i-- > 1;) {
        size_t j = (size_t)mt_interval(s, i);
        size_t t = p[i];
        p[i] = p[j];
        p[j] = t;
    }
    free(s);
    return p;
}

static int take_rows(const cli_split *all, uint32_t features, const size_t *idx, size_t n,
                     cli_split *dst)
{
    dst->x = malloc((n ? n : 1) * features * sizeof *dst->x);
    dst->y = malloc((n ? n : 1) * sizeof *dst->y);
    if (!dst->x || !dst->y) {
        split_free(dst);
        return -1;
    }
    for (size_t i = 0; i < n; i++) {
        memcpy(dst->x + i * features, all->x + idx[i] * features, features * sizeof *dst->x);
        dst->y[i] = all->y[idx[i]];
    }
    dst->n = n;
    return 0;
}

int cli_split_rows(cli_split *all, uint32_t features, double frac, uint32_t seed,
                   cli_split *train, cli_split *test, char *err, size_t err_cap)
{
    int rc = -1;
    memset(train, 0, sizeof *train);
    memset(test, 0, sizeof *test);
    size_t n = all->n;
    size_t ntest = (size_t)ceil(frac * (double)n);
    size_t *perm = NULL;
    if (!(frac > 0 && frac < 1)) {
        set_err(err, err_cap, "test fraction %g outside (0, 1)", frac);
        goto done;
    }
    if (ntest < 1 || ntest >= n) {
        set_err(err, err_cap, "split %g of %zu rows leaves an empty train or test set", frac, n);
        goto done;
    }
    perm = cli_permutation(n, seed);
    if (!perm || take_rows(all, features, perm, ntest, test) ||
        take_rows(all, features, perm + ntest, n - ntest, train)) {
        split_free(test);
        set_err(err, err_cap, "out of memory splitting %zu rows", n);
        goto done;
    }
    rc = 0;
done:
    free(perm);
    split_free(all);
    return rc;
}

void cli_standardize(cli_data *d)
{
    cli_standardize_stats(d, NULL, NULL);
}

void cli_standardize_stats(cli_data *d, double *means, double *sds)
{
    uint32_t nf = d->features;
    size_t n = d->train.n;
    if (n == 0)
        return;
    for (uint32_t f = 0; f < nf; f++) {
        double sum = 0, sq = 0;
        for (size_t i = 0; i < n; i++)
            sum += d->train.x[i * nf + f];
        double mean = sum / (double)n;
        for (size_t i = 0; i < n; i++) {
            double dv = d->train.x[i * nf + f] - mean;
            sq += dv * dv;
        }
        double sd = sqrt(sq / (double)n);
        if (!(sd > 0)) /* constant column: as sklearn, scale 1 */
            sd = 1;
        if (means)
            means[f] = mean;
        if (sds)
            sds[f] = sd;
        for (size_t i = 0; i < n; i++)
            d->train.x[i * nf + f] = (float)((d->train.x[i * nf + f] - mean) / sd);
        for (size_t i = 0; i < d->test.n; i++)
            d->test.x[i * nf + f] = (float)((d->test.x[i * nf + f] - mean) / sd);
    }
}

/* ---- JSC ------------------------------------------------------------------ */

static const char *const jsc_features[16] = {
    "j_zlogz",        "j_c1_b0_mmdt",   "j_c1_b1_mmdt", "j_c1_b2_mmdt", "j_c2_b1_mmdt",
    "j_c2_b2_mmdt",   "j_d2_b1_mmdt",   "j_d2_b2_mmdt", "j_d2_a1_b1_mmdt",
    "j_d2_a1_b2_mmdt", "j_m2_b1_mmdt",  "j_m2_b2_mmdt", "j_n2_b1_mmdt", "j_n2_b2_mmdt",
    "j_mass_mmdt",    "j_multiplicity"};
/* Class order of the reference one-hot columns j_g, j_q, j_w, j_z, j_t. */
static const char jsc_classes[5] = {'g', 'q', 'w', 'z', 't'};

static int jsc_class(const char *s)
{
    if (s[0] && !s[1])
        for (int k = 0; k < 5; k++)
            if (s[0] == jsc_classes[k])
                return k;
    return -1;
}

static uint64_t hash_row(const double *v, size_t w)
{
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < w; i++) {
        double d = v[i] == 0 ? 0.0 : v[i]; /* -0 and 0 are duplicates (pandas compares values) */
        uint64_t b;
        memcpy(&b, &d, sizeof b);
        h = (h ^ b) * 1099511628211ull;
        h ^= h >> 29;
    }
    return h;
}

static int rows_equal(const double *a, const double *b, size_t w)
{
    for (size_t i = 0; i < w; i++)
        if (a[i] != b[i])
            return 0;
    return 1;
}

/* Keep the first occurrence of every distinct row, in order (pandas drop_duplicates). */
static int drop_duplicates(rows *rs)
{
    size_t cap = 16;
    while (cap < rs->n * 2)
        cap <<= 1;
    size_t *slot = malloc(cap * sizeof *slot);
    if (!slot)
        return -1;
    for (size_t i = 0; i < cap; i++)
        slot[i] = SIZE_MAX;
    size_t kept = 0;
    for (size_t i = 0; i < rs->n; i++) {
        const double *row = rs->v + i * rs->width;
        size_t h = (size_t)hash_row(row, rs->width) & (cap - 1);
        int dup = 0;
        while (slot[h] != SIZE_MAX) {
            if (rows_equal(rs->v + slot[h] * rs->width, row, rs->width)) {
                dup = 1;
                break;
            }
            h = (h + 1) & (cap - 1);
        }
        if (dup)
            continue;
        if (kept != i)
            memmove(rs->v + kept * rs->width, row, rs->width * sizeof *row);
        slot[h] = kept++;
    }
    rs->n = kept;
    free(slot);
    return 0;
}

static int jsc_columns(const header *h, const char *name, size_t *cols, char *err, size_t cap)
{
    for (int f = 0; f < 16; f++) {
        int c = find_column(h, jsc_features[f]);
        if (c < 0)
            return set_err(err, cap, "%s:1: JSC column '%s' missing from the header", name,
                           jsc_features[f]);
        cols[f] = (size_t)c;
    }
    int c = find_column(h, "class");
    if (c < 0)
        return set_err(err, cap, "%s:1: JSC column 'class' missing from the header", name);
    cols[16] = (size_t)c;
    return 0;
}

static int jsc_read_rows(csv_reader *r, const header *h, const size_t *cols, rows *rs, char *err,
                         size_t cap)
{
    double row[17];
    for (;;) {
        int more = csv_next(r, err, cap);
        if (more <= 0)
            return more;
        if (r->ncells != h->n)
            return set_err(err, cap, "%s:%zu:%zu: ragged row: %zu columns, header has %zu",
                           r->name, r->line, r->cells[r->ncells - 1].col, r->ncells, h->n);
        for (int f = 0; f < 16; f++)
            if (cell_number(r, &r->cells[cols[f]], jsc_features[f], &row[f], err, cap))
                return -1;
        const cell *c = &r->cells[cols[16]];
        int k = jsc_class(c->text);
        if (k < 0)
            return set_err(err, cap, "%s:%zu:%zu: class '%.40s' is not one of g,q,w,z,t",
                           r->name, r->line, c->col, c->text);
        row[16] = k;
        if (rows_push(rs, row))
            return set_err(err, cap, "%s:%zu: out of memory", r->name, r->line);
    }
}

int cli_jsc_parse(const char *text, const char *name, uint64_t seed, cli_data *out, char *err,
                  size_t err_cap)
{
    csv_reader r = {.p = text, .name = name};
    header h = {0};
    rows rs = {.width = 17};
    size_t cols[17];
    cli_split all = {0};
    int rc = -1;
    memset(out, 0, sizeof *out);
    if (read_header(&r, &h, err, err_cap) || jsc_columns(&h, name, cols, err, err_cap) ||
        jsc_read_rows(&r, &h, cols, &rs, err, err_cap))
        goto done;
    if (rs.n == 0) {
        set_err(err, err_cap, "%s: no data rows after the header", name);
        goto done;
    }
    if (drop_duplicates(&rs)) {
        set_err(err, err_cap, "%s: out of memory", name);
        goto done;
    }
    all.x = malloc(rs.n * 16 * sizeof *all.x);
    all.y = malloc(rs.n * sizeof *all.y);
    if (!all.x || !all.y) {
        split_free(&all);
        set_err(err, err_cap, "%s: out of memory", name);
        goto done;
    }
    for (size_t i = 0; i < rs.n; i++) {
        for (int f = 0; f < 16; f++)
            all.x[i * 16 + f] = (float)rs.v[i * 17 + f];
        all.y[i] = (int32_t)rs.v[i * 17 + 16];
    }
    all.n = rs.n;
    out->features = 16;
    out->classes = 5;
    if (cli_split_rows(&all, 16, 0.2, (uint32_t)seed, &out->train, &out->test, err, err_cap))
        goto done;
    cli_standardize(out);
    rc = 0;
done:
    free(rs.v);
    header_free(&h);
    csv_free(&r);
    return rc;
}

/* ---- --data dispatch ------------------------------------------------------ */

static int load_text(const char *path, uint8_t **buf, char *err, size_t cap)
{
    size_t len;
    if (cli_read_file(path, buf, &len, err, cap))
        return -1;
    if (strlen((const char *)*buf) != len) {
        free(*buf);
        *buf = NULL;
        return set_err(err, cap, "%s: contains NUL bytes (not a text CSV file)", path);
    }
    return 0;
}

static int load_csv(const char *files, const cli_data_opts *o, cli_data *d, char *err,
                    size_t cap)
{
    char train_path[4096];
    const char *comma = strchr(files, ',');
    size_t tlen = comma ? (size_t)(comma - files) : strlen(files);
    if (tlen == 0 || tlen >= sizeof train_path)
        return set_err(err, cap, "csv: bad file name in '%s'", files);
    memcpy(train_path, files, tlen);
    train_path[tlen] = 0;
    const char *test_path = comma ? comma + 1 : NULL;
    if (test_path && !*test_path)
        return set_err(err, cap, "csv: empty test file name in '%s'", files);
    if (test_path && o->split_set)
        return set_err(err, cap, "csv: --split cannot be combined with a separate test file");
    uint8_t *text;
    uint32_t nf, classes;
    if (load_text(train_path, &text, err, cap))
        return -1;
    cli_split all;
    int rc = cli_csv_parse((const char *)text, train_path, o->label, &all, &nf, &classes, err,
                           cap);
    free(text);
    if (rc)
        return -1;
    d->features = nf;
    d->classes = classes;
    if (!test_path)
        return cli_split_rows(&all, nf, o->split, (uint32_t)o->seed, &d->train, &d->test, err,
                              cap);
    d->train = all;
    if (load_text(test_path, &text, err, cap))
        return -1;
    uint32_t nf2, classes2;
    rc = cli_csv_parse((const char *)text, test_path, o->label, &d->test, &nf2, &classes2, err,
                       cap);
    free(text);
    if (rc)
        return -1;
    if (nf2 != nf)
        return set_err(err, cap, "%s: %u feature columns, but %s has %u", test_path, nf2,
                       train_path, nf);
    d->classes = classes2 > classes ? classes2 : classes;
    return 0;
}

int cli_data_load(const char *spec, const cli_data_opts *o, cli_data *out, char *err,
                  size_t err_cap)
{
    memset(out, 0, sizeof *out);
    const char *colon = strchr(spec, ':');
    if (!colon || !colon[1])
        return set_err(err, err_cap,
                       "bad --data '%s': expected mnist:DIR, fashion:DIR, csv:TRAIN[,TEST] "
                       "or jsc:FILE",
                       spec);
    if (o->seed > UINT32_MAX)
        return set_err(err, err_cap, "split seed %llu too large (max 4294967295)",
                       (unsigned long long)o->seed);
    size_t kind = (size_t)(colon - spec);
    const char *arg = colon + 1;
    int rc;
    if ((kind == 5 && strncmp(spec, "mnist", 5) == 0) ||
        (kind == 7 && strncmp(spec, "fashion", 7) == 0)) {
        rc = load_mnist(arg, out, err, err_cap);
    } else if (kind == 3 && strncmp(spec, "csv", 3) == 0) {
        rc = load_csv(arg, o, out, err, err_cap);
        if (!rc && o->standardize)
            cli_standardize(out);
    } else if (kind == 3 && strncmp(spec, "jsc", 3) == 0) {
        uint8_t *text;
        rc = load_text(arg, &text, err, err_cap);
        if (!rc) {
            rc = cli_jsc_parse((const char *)text, arg, o->seed, out, err, err_cap);
            free(text);
        }
    } else {
        rc = set_err(err, err_cap,
                     "bad --data '%s': unknown kind '%.*s' (mnist, fashion, csv, jsc)",
                     spec, (int)kind, spec);
    }
    if (rc)
        cli_data_free(out);
    return rc;
}
