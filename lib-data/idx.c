/*
 * IDX files (MNIST, Fashion-MNIST): ubyte images and labels, raw or gzip.
 * A file is read as far as its own header declares and no further, so a
 * compressed file that would expand beyond its dimensions is refused before
 * the memory is taken.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include <errno.h>
#include <stdio.h>
#include <sys/stat.h>
#include <stdlib.h>
#include <string.h>

#include "data-priv.h"

/* MNIST normalisation of the reference (torchvision Normalize). */
#define MNIST_MEAN 0.1307f
#define MNIST_STD 0.3081f

static uint32_t be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* Magic and dimensions of an IDX header; the payload size it promises in @p total. */
static splut_status idx_dims(splut_ctx *ctx, const uint8_t *buf, size_t len, const char *name,
                             unsigned want_ndim, uint32_t *dims, uint64_t *total)
{
    if (len < 4)
        return sd_fail(ctx, SPLUT_E_FORMAT, "%s: IDX file truncated (%zu bytes, no header)",
                       name, len);
    if (buf[0] != 0 || buf[1] != 0)
        return sd_fail(ctx, SPLUT_E_FORMAT, "%s: not an IDX file (magic %02x%02x%02x%02x)",
                       name, buf[0], buf[1], buf[2], buf[3]);
    if (buf[2] != 0x08)
        return sd_fail(ctx, SPLUT_E_FORMAT,
                       "%s: IDX element type 0x%02x unsupported (need 0x08 ubyte)", name, buf[2]);
    if (buf[3] != want_ndim)
        return sd_fail(ctx, SPLUT_E_FORMAT, "%s: IDX file has %u dimensions, expected %u", name,
                       buf[3], want_ndim);
    size_t header = 4 + 4 * (size_t)want_ndim;
    if (len < header)
        return sd_fail(ctx, SPLUT_E_FORMAT, "%s: IDX header truncated (%zu of %zu bytes)", name,
                       len, header);
    uint64_t t = 1;
    for (unsigned i = 0; i < want_ndim; i++) {
        dims[i] = be32(buf + 4 + 4 * i);
        if (dims[i] == 0)
            return sd_fail(ctx, SPLUT_E_FORMAT, "%s: IDX dimension %u is 0", name, i);
        t *= dims[i];
        if (t > ((uint64_t)1 << 40))
            return sd_fail(ctx, SPLUT_E_FORMAT, "%s: IDX dimensions too large", name);
    }
    *total = t;
    return SPLUT_OK;
}

/* Header plus exact payload size. */
static splut_status idx_header(splut_ctx *ctx, const uint8_t *buf, size_t len, const char *name,
                               unsigned want_ndim, uint32_t *dims)
{
    uint64_t total = 0;
    splut_status st = idx_dims(ctx, buf, len, name, want_ndim, dims, &total);
    if (st)
        return st;
    size_t header = 4 + 4 * (size_t)want_ndim;
    if (len - header != total)
        return sd_fail(ctx, SPLUT_E_FORMAT, "%s: IDX payload is %zu bytes, header promises %llu%s",
                       name, len - header, (unsigned long long)total,
                       len - header < total ? " (truncated file)" : " (trailing bytes)");
    return SPLUT_OK;
}

/* Pixel value of the transform: ToTensor, then Normalize, in float32. */
static float mnist_value(uint8_t pixel)
{
    float t = (float)pixel / 255.0f;
    return (t - MNIST_MEAN) / MNIST_STD;
}

/* Rows of an IDX pair, decoded by fill_rows into the dataset's own arrays. */
typedef struct idx_rows {
    const uint8_t *pixels, *labels;
    size_t n;
    uint32_t features;
} idx_rows;

static splut_status fill_rows(void *user, float *x, int32_t *y)
{
    const idx_rows *r = user;
    for (size_t i = 0; i < r->n * r->features; i++)
        x[i] = mnist_value(r->pixels[i]);
    for (size_t i = 0; i < r->n; i++)
        y[i] = r->labels[i];
    return SPLUT_OK;
}

/* Images and labels → one dataset (features = rows·cols, an image cols wide). */
static splut_status idx_dataset(splut_ctx *ctx, const uint8_t *img, size_t ilen,
                                const uint8_t *lab, size_t llen, const char *name,
                                splut_dataset **out)
{
    uint32_t di[3], dl[1];
    splut_status st = idx_header(ctx, img, ilen, name, 3, di);
    if (!st)
        st = idx_header(ctx, lab, llen, name, 1, dl);
    if (st)
        return st;
    if (di[0] != dl[0])
        return sd_fail(ctx, SPLUT_E_FORMAT, "%s: %u labels for %u images", name, dl[0], di[0]);
    uint64_t feat = (uint64_t)di[1] * di[2];
    if (feat > UINT32_MAX)
        return sd_fail(ctx, SPLUT_E_FORMAT, "%s: images too large", name);
    idx_rows rows = {img + 16, lab + 8, di[0], (uint32_t)feat};
    st = splut_dataset_create_filled(ctx, rows.n, rows.features, fill_rows, &rows, out);
    if (!st && (st = splut_dataset_set_image(*out, di[2], di[1], mnist_value(0))) != SPLUT_OK) {
        splut_dataset_destroy(*out);
        *out = NULL;
    }
    return st;
}

splut_status splut_data_parse_idx(splut_ctx *ctx, const void *images, size_t images_len,
                                  const void *labels, size_t labels_len, const char *name,
                                  splut_dataset **out)
{
    if (!ctx)
        return SPLUT_E_NULL;
    if (!out || !images || !labels)
        return sd_fail(ctx, SPLUT_E_NULL, "splut_data_parse_idx: images, labels and out are "
                                          "required");
    *out = NULL;
    return idx_dataset(ctx, images, images_len, labels, labels_len, name ? name : "(idx)", out);
}

/* ---- files ---------------------------------------------------------------- */

/* Open DIR/BASE, or DIR/BASE.gz when the raw file does not exist; any other
 * failure (permissions, a loop, a directory) is reported as it is. */
static splut_status open_idx(splut_ctx *ctx, const char *dir, const char *base, char *path,
                             size_t cap, sd_file **f)
{
    struct stat sb;
    snprintf(path, cap, "%s/%s", dir, base);
    if (lstat(path, &sb) == 0 || errno != ENOENT)
        return sd_open(ctx, path, f);
    snprintf(path, cap, "%s/%s.gz", dir, base);
    if (lstat(path, &sb) != 0 && errno == ENOENT)
        return sd_fail(ctx, SPLUT_E_IO,
                       "%s/%s: not found (neither raw nor .gz); run scripts/fetch-data", dir,
                       base);
    return sd_open(ctx, path, f);
}

/* Read one IDX file: the header first, then exactly the payload it declares
 * (checked against the file's own size or gzip trailer before allocating). */
static splut_status read_idx(splut_ctx *ctx, const char *dir, const char *base, unsigned ndim,
                             uint64_t max, char *path, size_t cap, uint8_t **buf, size_t *len)
{
    sd_file *f;
    uint8_t head[16];
    uint32_t dims[3];
    uint64_t payload = 0;
    size_t hlen = 4 + 4 * (size_t)ndim, got = 0;
    *buf = NULL;
    splut_status st = open_idx(ctx, dir, base, path, cap, &f);
    if (st)
        return st;
    st = sd_read(f, head, hlen, &got);
    if (!st)
        st = idx_dims(ctx, head, got, path, ndim, dims, &payload);
    uint64_t total = hlen + payload;
    uint64_t declared = sd_declared(f), seen = sd_is_gzip(f) ? total & 0xffffffffu : total;
    if (!st && seen != declared)
        st = sd_fail(ctx, SPLUT_E_FORMAT, "%s: IDX header promises %llu bytes, the file %s %llu%s",
                     path, (unsigned long long)total, sd_is_gzip(f) ? "declares" : "holds",
                     (unsigned long long)declared,
                     !sd_is_gzip(f) && declared < total ? " (truncated file)" : "");
    if (!st && total > max)
        st = sd_fail(ctx, SPLUT_E_IO, "%s: %llu bytes, above the limit of %llu", path,
                     (unsigned long long)total, (unsigned long long)max);
    uint8_t *data = NULL;
    if (!st && !(data = malloc((size_t)total + 1)))
        st = sd_fail(ctx, SPLUT_E_NOMEM, "%s: out of memory for %llu bytes", path,
                     (unsigned long long)total);
    if (!st) {
        memcpy(data, head, hlen);
        /* One byte more than declared: a longer stream is refused, not grown into. */
        st = sd_read(f, data + hlen, (size_t)payload + 1, &got);
        if (!st && got > payload)
            st = sd_fail(ctx, SPLUT_E_FORMAT,
                         "%s: IDX payload is longer than the %llu bytes its header promises "
                         "(trailing bytes)",
                         path, (unsigned long long)payload);
        else if (!st && got < payload)
            st = sd_fail(ctx, SPLUT_E_FORMAT,
                         "%s: IDX payload is %zu bytes, header promises %llu (truncated file)",
                         path, got, (unsigned long long)payload);
    }
    sd_close(f);
    if (st) {
        free(data);
        return st;
    }
    *buf = data;
    *len = (size_t)total;
    return SPLUT_OK;
}

static splut_status load_split(splut_ctx *ctx, const char *dir, const char *prefix,
                               uint64_t max, splut_dataset **out)
{
    char base[64], ipath[4096], lpath[4096];
    uint8_t *img = NULL, *lab = NULL;
    size_t ilen = 0, llen = 0;
    snprintf(base, sizeof base, "%s-images-idx3-ubyte", prefix);
    splut_status st = read_idx(ctx, dir, base, 3, max, ipath, sizeof ipath, &img, &ilen);
    snprintf(base, sizeof base, "%s-labels-idx1-ubyte", prefix);
    if (!st)
        st = read_idx(ctx, dir, base, 1, max, lpath, sizeof lpath, &lab, &llen);
    if (!st)
        st = idx_dataset(ctx, img, ilen, lab, llen, lpath, out);
    free(img);
    free(lab);
    return st;
}

splut_status splut_data_load_idx(splut_ctx *ctx, const char *dir, const splut_data_opts *opts,
                                 splut_dataset **train, splut_dataset **test)
{
    if (!ctx)
        return SPLUT_E_NULL;
    if (!dir || !train || !test)
        return sd_fail(ctx, SPLUT_E_NULL, "splut_data_load_idx: dir, train and test are required");
    *train = *test = NULL;
    splut_data_opts o;
    splut_status st = sd_opts(ctx, opts, &o);
    if (!st)
        st = sd_only_opts(ctx, &o, "IDX", 0);
    if (!st)
        st = load_split(ctx, dir, "train", o.max_bytes, train);
    if (!st)
        st = load_split(ctx, dir, "t10k", o.max_bytes, test);
    uint32_t wtr = 0, wte = 0;
    splut_dataset_image(*train, &wtr, NULL, NULL);
    splut_dataset_image(*test, &wte, NULL, NULL);
    if (!st && (splut_dataset_num_features(*train) != splut_dataset_num_features(*test) ||
                wtr != wte))
        st = sd_fail(ctx, SPLUT_E_FORMAT,
                     "%s: train images have %u pixels (%u wide), test images %u (%u)", dir,
                     splut_dataset_num_features(*train), wtr,
                     splut_dataset_num_features(*test), wte);
    if (st) {
        splut_dataset_destroy(*train);
        splut_dataset_destroy(*test);
        *train = *test = NULL;
    }
    return st;
}
