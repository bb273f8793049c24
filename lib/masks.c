/*
 * SparseLUT CSV mask files (docs/masks.md), and the small file helpers the
 * tables module shares: streamed atomic writes, directories.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "model-priv.h"
#include "tables-priv.h"

/* Mask files larger than this are refused before reading (a 784-wide layer of
 * 2^16 neurons with 32 inputs each is about 8 MiB). */
#define MASK_FILE_MAX (256u << 20)

/* ------------------------------------------------------------ mask import */

/* Parser state of one mask file. */
typedef struct mask_parse {
    const splut_model *m;
    size_t layer;
    const char *path;
    const char *p, *end;  /* unread text */
    size_t line;          /* 1-based number of the current line */
} mask_parse;

/* Next line (without '\n' and a trailing '\r'); false at end of text. */
static bool next_line(mask_parse *mp, const char **s, size_t *n)
{
    if (mp->p >= mp->end)
        return false;
    const char *nl = memchr(mp->p, '\n', (size_t)(mp->end - mp->p));
    const char *e = nl ? nl : mp->end;
    *s = mp->p;
    *n = (size_t)(e - mp->p);
    if (*n && (*s)[*n - 1] == '\r')
        (*n)--;
    mp->p = nl ? nl + 1 : mp->end;
    mp->line++;
    return true;
}

static size_t count_fields(const char *s, size_t n)
{
    size_t c = 1;
    for (size_t i = 0; i < n; i++)
        c += s[i] == ',';
    return c;
}

/* Parse field `col` (0-based) of a line into v: decimal digits only, < 2^32. */
static splut_status parse_field(const mask_parse *mp, const char **s, const char *e, size_t col,
                                uint32_t *v)
{
    const char *f = *s;
    uint64_t x = 0;
    size_t digits = 0;
    while (f < e && *f >= '0' && *f <= '9') {
        x = x * 10 + (uint64_t)(*f - '0');
        if (x > UINT32_MAX)
            break;
        f++;
        digits++;
    }
    if (digits == 0 || (f < e && *f != ',')) {
        const char *fe = *s;
        while (fe < e && *fe != ',')
            fe++;
        return splut__fail(mp->m->ctx, SPLUT_E_FORMAT,
                           "%s line %zu column %zu: '%.*s' is not a non-negative integer "
                           "below 2^32",
                           mp->path, mp->line, col + 1, (int)(fe - *s), *s);
    }
    *v = (uint32_t)x;
    *s = f < e ? f + 1 : f;
    return SPLUT_OK;
}

static splut_status parse_header(mask_parse *mp, size_t cols)
{
    const char *s;
    size_t n;
    if (!next_line(mp, &s, &n))
        return splut__fail(mp->m->ctx, SPLUT_E_FORMAT, "%s is empty: expected the header line",
                           mp->path);
    size_t got = count_fields(s, n);
    if (got != cols)
        return splut__fail(mp->m->ctx, SPLUT_E_FORMAT,
                           "%s line 1: header has %zu columns, expected %zu (layer %zu has "
                           "%zu inputs per neuron)",
                           mp->path, got, cols, mp->layer + 1, cols);
    const char *e = s + n;
    for (size_t c = 0; c < cols; c++) {
        uint32_t v;
        splut_status st = parse_field(mp, &s, e, c, &v);
        if (st != SPLUT_OK)
            return st;
        if (v != c)
            return splut__fail(mp->m->ctx, SPLUT_E_FORMAT,
                               "%s line 1 column %zu: header field is %u, expected %zu",
                               mp->path, c + 1, v, c);
    }
    return SPLUT_OK;
}

/* Range, duplicates and order of one parsed row. */
static splut_status check_row(const mask_parse *mp, const uint32_t *row, size_t cols)
{
    uint32_t width = mp->m->layers[mp->layer].in;
    for (size_t c = 0; c < cols; c++) {
        if (row[c] >= width)
            return splut__fail(mp->m->ctx, SPLUT_E_CONNECTIVITY,
                               "%s line %zu column %zu: input index %u is not below the "
                               "layer's input width %u",
                               mp->path, mp->line, c + 1, row[c], width);
        for (size_t b = 0; b < c; b++)
            if (row[b] == row[c])
                return splut__fail(mp->m->ctx, SPLUT_E_CONNECTIVITY,
                                   "%s line %zu column %zu: input index %u repeats column %zu",
                                   mp->path, mp->line, c + 1, row[c], b + 1);
        if (c && row[c] < row[c - 1])
            return splut__fail(mp->m->ctx, SPLUT_E_CONNECTIVITY,
                               "%s line %zu column %zu: input index %u follows %u: a row must "
                               "be sorted ascending",
                               mp->path, mp->line, c + 1, row[c], row[c - 1]);
    }
    return SPLUT_OK;
}

static splut_status parse_row(mask_parse *mp, const char *s, size_t n, size_t cols,
                              uint32_t *row)
{
    if (n == 0)
        return splut__fail(mp->m->ctx, SPLUT_E_FORMAT,
                           "%s line %zu is empty: expected the row of neuron %zu", mp->path,
                           mp->line, mp->line - 2);
    size_t got = count_fields(s, n);
    if (got != cols)
        return splut__fail(mp->m->ctx, SPLUT_E_FORMAT,
                           "%s line %zu: %zu columns, expected %zu", mp->path, mp->line, got,
                           cols);
    const char *e = s + n;
    for (size_t c = 0; c < cols; c++) {
        splut_status st = parse_field(mp, &s, e, c, &row[c]);
        if (st != SPLUT_OK)
            return st;
    }
    return check_row(mp, row, cols);
}

/* Parse and validate mask file text of layer `layer` into `conn` (out × cols). */
static splut_status parse_mask(mask_parse *mp, uint32_t *conn)
{
    const splut_layer *L = &mp->m->layers[mp->layer];
    size_t cols = (size_t)L->A * L->F;
    splut_status st = parse_header(mp, cols);
    if (st != SPLUT_OK)
        return st;
    const char *s;
    size_t n;
    for (uint32_t r = 0; r < L->out; r++) {
        if (!next_line(mp, &s, &n))
            return splut__fail(mp->m->ctx, SPLUT_E_FORMAT,
                               "%s has %u neuron rows, expected %u (layer %zu width)", mp->path,
                               r, L->out, mp->layer + 1);
        st = parse_row(mp, s, n, cols, conn + (size_t)r * cols);
        if (st != SPLUT_OK)
            return st;
    }
    while (next_line(mp, &s, &n))
        if (n)
            return splut__fail(mp->m->ctx, SPLUT_E_FORMAT,
                               "%s line %zu: extra row, layer %zu has only %u neurons",
                               mp->path, mp->line, mp->layer + 1, L->out);
    return SPLUT_OK;
}

/* Layer number k of a "mask_layer_<k>.csv" name, 0 if the name is not one. */
static size_t mask_file_number(const char *name)
{
    const char *pre = "mask_layer_";
    size_t np = strlen(pre), n = strlen(name);
    if (n <= np + 4 || strncmp(name, pre, np) != 0 || strcmp(name + n - 4, ".csv") != 0)
        return 0;
    size_t k = 0;
    for (size_t i = np; i < n - 4; i++) {
        if (name[i] < '0' || name[i] > '9' || k > 100000)
            return SIZE_MAX;
        k = k * 10 + (size_t)(name[i] - '0');
    }
    return k == 0 || name[np] == '0' ? SIZE_MAX : k;
}

/* The directory must hold mask_layer_1 … mask_layer_<layers>.csv and no other. */
static splut_status check_mask_names(const splut_model *m, const char *dir)
{
    DIR *d = opendir(dir);
    if (!d)
        return splut__fail(m->ctx, SPLUT_E_IO, "cannot open mask directory '%s': %s", dir,
                           strerror(errno));
    size_t found = 0;
    splut_status st = SPLUT_OK;
    struct dirent *de;
    while (st == SPLUT_OK && (de = readdir(d)) != NULL) {
        size_t k = mask_file_number(de->d_name);
        if (k == 0)
            continue;
        if (k == SIZE_MAX)
            st = splut__fail(m->ctx, SPLUT_E_FORMAT,
                             "%s/%s: not a mask file name (mask_layer_<k>.csv, k from 1 "
                             "without leading zeros)",
                             dir, de->d_name);
        else if (k > m->n_layers)
            st = splut__fail(m->ctx, SPLUT_E_FORMAT,
                             "%s/%s: the model has only %zu layers (mask_layer_1.csv … "
                             "mask_layer_%zu.csv)",
                             dir, de->d_name, m->n_layers, m->n_layers);
        else
            found++;
    }
    closedir(d);
    if (st != SPLUT_OK)
        return st;
    if (found != m->n_layers) {
        /* name the first missing file */
        for (size_t k = 1; k <= m->n_layers; k++) {
            char name[48];
            snprintf(name, sizeof(name), "mask_layer_%zu.csv", k);
            char *path = splut__path_join(m->ctx, dir, name);
            if (!path)
                return splut__fail(m->ctx, SPLUT_E_NOMEM, "out of memory");
            struct stat sb;
            bool there = stat(path, &sb) == 0;
            splut__free(m->ctx, path);
            if (!there)
                return splut__fail(m->ctx, SPLUT_E_FORMAT,
                                   "%s: mask_layer_%zu.csv is missing (%zu mask files found, "
                                   "the model has %zu layers)",
                                   dir, k, found, m->n_layers);
        }
        return splut__fail(m->ctx, SPLUT_E_FORMAT, "%s: %zu mask files for %zu layers", dir,
                           found, m->n_layers);
    }
    return SPLUT_OK;
}

static splut_status read_mask(const splut_model *m, const char *dir, size_t l, uint32_t *conn)
{
    char name[48];
    snprintf(name, sizeof(name), "mask_layer_%zu.csv", l + 1);
    char *path = splut__path_join(m->ctx, dir, name);
    if (!path)
        return splut__fail(m->ctx, SPLUT_E_NOMEM, "out of memory");
    uint8_t *bytes = NULL;
    size_t len = 0;
    splut_status st = splut__read_file(m->ctx, path, MASK_FILE_MAX, &bytes, &len);
    if (st == SPLUT_OK) {
        const char *text = (const char *)bytes;
        mask_parse mp = {m, l, path, text, text + len, 0};
        st = parse_mask(&mp, conn);
        splut__free(m->ctx, bytes);
    }
    splut__free(m->ctx, path);
    return st;
}

splut_status splut_model_import_masks(splut_model *m, const char *dir)
{
    if (!m || !dir)
        return m ? splut__fail(m->ctx, SPLUT_E_NULL, "splut_model_import_masks: dir is NULL")
                 : SPLUT_E_NULL;
    if (!m->built)
        return splut__fail(m->ctx, SPLUT_E_STATE, "masks need a built model");
    splut_status st = check_mask_names(m, dir);
    if (st != SPLUT_OK)
        return st;
    /* stage every layer, apply only when all are valid */
    size_t total = 0;
    for (size_t l = 0; l < m->n_layers; l++)
        total += (size_t)m->layers[l].out * m->layers[l].A * m->layers[l].F;
    uint32_t *stage = splut__alloc(m->ctx, splut__mul(total, sizeof(uint32_t)));
    if (!stage)
        return splut__fail(m->ctx, SPLUT_E_NOMEM, "out of memory importing masks");
    size_t off = 0;
    for (size_t l = 0; l < m->n_layers && st == SPLUT_OK; l++) {
        st = read_mask(m, dir, l, stage + off);
        off += (size_t)m->layers[l].out * m->layers[l].A * m->layers[l].F;
    }
    off = 0;
    for (size_t l = 0; l < m->n_layers && st == SPLUT_OK; l++) {
        const splut_layer *L = &m->layers[l];
        size_t k = (size_t)L->A * L->F;
        for (uint32_t n = 0; n < L->out && st == SPLUT_OK; n++)
            st = splut_model_set_inputs(m, l, n, stage + off + (size_t)n * k, k);
        off += (size_t)L->out * k;
    }
    splut__free(m->ctx, stage);
    return st;
}

/* ------------------------------------------------------------ mask export */

static splut_status write_mask(const splut_model *m, const char *dir, size_t l)
{
    char name[48];
    snprintf(name, sizeof(name), "mask_layer_%zu.csv", l + 1);
    char *path = splut__path_join(m->ctx, dir, name);
    if (!path)
        return splut__fail(m->ctx, SPLUT_E_NOMEM, "out of memory");
    splut_afile af;
    splut_status st = splut__afile_open(m->ctx, path, &af);
    splut__free(m->ctx, path);
    if (st != SPLUT_OK)
        return st;
    const splut_layer *L = &m->layers[l];
    size_t k = (size_t)L->A * L->F;
    for (size_t c = 0; c < k; c++)
        splut__afile_printf(&af, c ? ",%zu" : "%zu", c);
    splut__afile_printf(&af, "\n");
    for (uint32_t n = 0; n < L->out; n++) {
        const uint32_t *row = L->conn + (size_t)n * k;
        for (size_t c = 0; c < k; c++)
            splut__afile_printf(&af, c ? ",%u" : "%u", row[c]);
        splut__afile_printf(&af, "\n");
    }
    return splut__afile_commit(&af);
}

splut_status splut_model_export_masks(const splut_model *m, const char *dir)
{
    if (!m || !dir)
        return m ? splut__fail(m->ctx, SPLUT_E_NULL, "splut_model_export_masks: dir is NULL")
                 : SPLUT_E_NULL;
    if (!m->built)
        return splut__fail(m->ctx, SPLUT_E_STATE, "masks need a built model");
    splut_status st = splut__ensure_dir(m->ctx, dir);
    for (size_t l = 0; l < m->n_layers && st == SPLUT_OK; l++)
        st = write_mask(m, dir, l);
    return st;
}
