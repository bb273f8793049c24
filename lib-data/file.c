/*
 * Files: open without blocking, refuse what is not a regular file, read raw
 * or gzip data as one stream, and unpack the .csv member of a zip archive.
 * Decompressed data never outgrows what the file declares (gzip trailer, zip
 * member size) nor the caller's limit: bombs are refused before they grow.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "data-priv.h"

#ifdef SPLUT_DATA_HAVE_ZLIB
#include <zlib.h>
#endif

#ifndef O_CLOEXEC
#define O_CLOEXEC 0
#endif

#define IN_BUF (1u << 16)
/* Largest expansion of deflate (RFC 1951): 258 bytes from about 2 bits. */
#define DEFLATE_MAX_RATIO 1032u

struct sd_file {
    splut_ctx *ctx;
    char *path;
    int fd;
    int gz;           /* gzip stream */
    int in_eof;       /* read() returned 0 */
    int z_end;        /* the gzip stream ended */
    uint64_t size;    /* st_size */
    uint64_t declared;
    size_t in_pos, in_len;
#ifdef SPLUT_DATA_HAVE_ZLIB
    z_stream z;
    int z_ready;
#endif
    unsigned char in[IN_BUF];
};

splut_status sd_fail(splut_ctx *ctx, splut_status st, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    splut_ctx_set_error(ctx, st, msg);
    return st;
}

int splut_data_has_zlib(void)
{
#ifdef SPLUT_DATA_HAVE_ZLIB
    return 1;
#else
    return 0;
#endif
}

static const char *file_kind(mode_t mode)
{
    if (S_ISDIR(mode))
        return "a directory";
    if (S_ISFIFO(mode))
        return "a FIFO";
    if (S_ISCHR(mode) || S_ISBLK(mode))
        return "a device";
    if (S_ISSOCK(mode))
        return "a socket";
    return "not a regular file";
}

/* Read more raw bytes into the input buffer (after moving the unread rest down). */
static splut_status refill(sd_file *f)
{
    if (f->in_pos > 0) {
        memmove(f->in, f->in + f->in_pos, f->in_len - f->in_pos);
        f->in_len -= f->in_pos;
        f->in_pos = 0;
    }
    while (!f->in_eof && f->in_len < IN_BUF) {
        ssize_t k = read(f->fd, f->in + f->in_len, IN_BUF - f->in_len);
        if (k < 0 && errno == EINTR)
            continue;
        if (k < 0)
            return sd_fail(f->ctx, SPLUT_E_IO, "%s: read error: %s", f->path, strerror(errno));
        if (k == 0)
            f->in_eof = 1;
        f->in_len += (size_t)k;
        if (k > 0)
            break;
    }
    return SPLUT_OK;
}

#ifdef SPLUT_DATA_HAVE_ZLIB
/* The gzip trailer's ISIZE (uncompressed size mod 2^32), read without moving the stream. */
static splut_status gzip_declared(sd_file *f)
{
    unsigned char t[4];
    if (f->size < 18)
        return sd_fail(f->ctx, SPLUT_E_FORMAT, "%s: truncated gzip file (%llu bytes)", f->path,
                       (unsigned long long)f->size);
    ssize_t k = pread(f->fd, t, 4, (off_t)(f->size - 4));
    if (k != 4)
        return sd_fail(f->ctx, SPLUT_E_IO, "%s: read error: %s", f->path,
                       k < 0 ? strerror(errno) : "short read");
    f->declared = (uint64_t)t[0] | (uint64_t)t[1] << 8 | (uint64_t)t[2] << 16 |
                  (uint64_t)t[3] << 24;
    /* Deflate expands at most 1032:1; a larger claim is a lie, not a reason to allocate. */
    if (f->declared / DEFLATE_MAX_RATIO > f->size)
        return sd_fail(f->ctx, SPLUT_E_FORMAT,
                       "%s: gzip trailer declares %llu bytes, more than %llu compressed bytes "
                       "can hold",
                       f->path, (unsigned long long)f->declared, (unsigned long long)f->size);
    return SPLUT_OK;
}

static splut_status start_gzip(sd_file *f)
{
    splut_status st = gzip_declared(f);
    if (st)
        return st;
    if (inflateInit2(&f->z, 15 + 16) != Z_OK)
        return sd_fail(f->ctx, SPLUT_E_NOMEM, "%s: out of memory starting zlib", f->path);
    f->z_ready = 1;
    f->gz = 1;
    return SPLUT_OK;
}
#else
static splut_status start_gzip(sd_file *f)
{
    return sd_fail(f->ctx, SPLUT_E_IO,
                   "%s: gzip-compressed, but libsparselut-data was built without zlib", f->path);
}
#endif

splut_status sd_open(splut_ctx *ctx, const char *path, sd_file **out)
{
    *out = NULL;
    sd_file *f = calloc(1, sizeof *f);
    char *p = malloc(strlen(path) + 1);
    if (!f || !p) {
        free(f);
        free(p);
        return sd_fail(ctx, SPLUT_E_NOMEM, "%s: out of memory", path);
    }
    strcpy(p, path);
    f->ctx = ctx;
    f->path = p;
    /* O_NONBLOCK: opening a FIFO must not wait for a writer. */
    f->fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    struct stat sb;
    splut_status st = SPLUT_OK;
    if (f->fd < 0)
        st = sd_fail(ctx, SPLUT_E_IO, "%s: cannot open: %s", path, strerror(errno));
    else if (fstat(f->fd, &sb) != 0)
        st = sd_fail(ctx, SPLUT_E_IO, "%s: cannot stat: %s", path, strerror(errno));
    else if (!S_ISREG(sb.st_mode))
        st = sd_fail(ctx, SPLUT_E_IO, "%s: is %s, not a regular file", path,
                     file_kind(sb.st_mode));
    else if (fcntl(f->fd, F_SETFL, fcntl(f->fd, F_GETFL) & ~O_NONBLOCK) != 0)
        st = sd_fail(ctx, SPLUT_E_IO, "%s: %s", path, strerror(errno));
    if (!st) {
        f->size = (uint64_t)sb.st_size;
        f->declared = f->size;
        st = refill(f);
    }
    if (!st && f->in_len >= 2 && f->in[0] == 0x1f && f->in[1] == 0x8b)
        st = start_gzip(f);
    if (st) {
        sd_close(f);
        return st;
    }
    *out = f;
    return SPLUT_OK;
}

void sd_close(sd_file *f)
{
    if (!f)
        return;
#ifdef SPLUT_DATA_HAVE_ZLIB
    if (f->z_ready)
        inflateEnd(&f->z);
#endif
    if (f->fd >= 0)
        close(f->fd);
    free(f->path);
    free(f);
}

uint64_t sd_declared(const sd_file *f)
{
    return f->declared;
}

int sd_is_gzip(const sd_file *f)
{
    return f->gz;
}

static splut_status read_raw(sd_file *f, unsigned char *dst, size_t want, size_t *got)
{
    size_t n = 0;
    while (n < want) {
        if (f->in_pos == f->in_len) {
            if (f->in_eof)
                break;
            splut_status st = refill(f);
            if (st)
                return st;
            continue;
        }
        size_t k = f->in_len - f->in_pos;
        k = k < want - n ? k : want - n;
        memcpy(dst + n, f->in + f->in_pos, k);
        f->in_pos += k;
        n += k;
    }
    *got = n;
    return SPLUT_OK;
}

#ifdef SPLUT_DATA_HAVE_ZLIB
/* After the gzip member ends, the file must end too. RFC 1952 allows further
 * members, but their sizes are declared only at their ends, so they could not be
 * bounded before inflating: concatenated members are refused. */
static splut_status member_end(sd_file *f)
{
    if (f->in_pos == f->in_len && !f->in_eof) {
        splut_status st = refill(f);
        if (st)
            return st;
    }
    if (f->in_pos < f->in_len)
        return sd_fail(f->ctx, SPLUT_E_FORMAT,
                       "%s: data after the end of the gzip stream (concatenated gzip members "
                       "are not supported: recompress as one)",
                       f->path);
    f->z_end = 1;
    return SPLUT_OK;
}

static splut_status read_gzip(sd_file *f, unsigned char *dst, size_t want, size_t *got)
{
    size_t n = 0;
    while (n < want && !f->z_end) {
        if (f->in_pos == f->in_len) {
            if (f->in_eof)
                return sd_fail(f->ctx, SPLUT_E_FORMAT, "%s: truncated gzip stream", f->path);
            splut_status st = refill(f);
            if (st)
                return st;
            continue;
        }
        size_t room = want - n < (1u << 30) ? want - n : (1u << 30);
        f->z.next_in = f->in + f->in_pos;
        f->z.avail_in = (uInt)(f->in_len - f->in_pos);
        f->z.next_out = dst + n;
        f->z.avail_out = (uInt)room;
        int zr = inflate(&f->z, Z_NO_FLUSH);
        f->in_pos = f->in_len - f->z.avail_in;
        n += room - f->z.avail_out;
        if (zr == Z_STREAM_END) {
            splut_status st = member_end(f);
            if (st)
                return st;
        } else if (zr == Z_MEM_ERROR) {
            return sd_fail(f->ctx, SPLUT_E_NOMEM, "%s: out of memory in zlib", f->path);
        } else if (zr != Z_OK && zr != Z_BUF_ERROR) {
            return sd_fail(f->ctx, SPLUT_E_FORMAT, "%s: corrupt gzip data (%s)", f->path,
                           f->z.msg ? f->z.msg : "inflate error");
        }
    }
    *got = n;
    return SPLUT_OK;
}
#endif

splut_status sd_read(sd_file *f, void *dst, size_t want, size_t *got)
{
#ifdef SPLUT_DATA_HAVE_ZLIB
    if (f->gz)
        return read_gzip(f, dst, want, got);
#endif
    return read_raw(f, dst, want, got);
}

/* ---- whole files ---------------------------------------------------------- */

static splut_status too_large(splut_ctx *ctx, const char *path, uint64_t max)
{
    return sd_fail(ctx, SPLUT_E_IO, "%s: larger than the limit of %llu bytes", path,
                   (unsigned long long)max);
}

/* The whole stream: the buffer starts at the declared size and grows only up to
 * @p max (+1 to see that it was passed). */
static splut_status read_stream(sd_file *f, const char *path, uint64_t max, uint8_t **buf,
                                size_t *len)
{
    uint64_t want = sd_declared(f);
    if (want > max)
        return too_large(f->ctx, path, max);
    size_t cap = (size_t)want + 2, n = 0;
    uint8_t *data = malloc(cap);
    for (;;) {
        if (!data)
            return sd_fail(f->ctx, SPLUT_E_NOMEM, "%s: out of memory reading the file", path);
        size_t got;
        splut_status st = sd_read(f, data + n, cap - 1 - n, &got);
        if (st) {
            free(data);
            return st;
        }
        n += got;
        if (n > max) {
            free(data);
            return too_large(f->ctx, path, max);
        }
        if (n < cap - 1)
            break;
        /* More than declared: a growing file, or a gzip stream past its trailer. */
        if (sd_is_gzip(f)) {
            free(data);
            return sd_fail(f->ctx, SPLUT_E_FORMAT,
                           "%s: gzip data longer than its trailer declares (%llu bytes)", path,
                           (unsigned long long)want);
        }
        size_t ncap = cap * 2 > max + 2 ? (size_t)max + 2 : cap * 2;
        uint8_t *p = realloc(data, ncap);
        if (!p)
            free(data);
        data = p;
        cap = ncap;
    }
    if (sd_is_gzip(f) && (n & 0xffffffffu) != want) {
        free(data);
        return sd_fail(f->ctx, SPLUT_E_FORMAT,
                       "%s: gzip data is %zu bytes, its trailer declares %llu", path, n,
                       (unsigned long long)want);
    }
    data[n] = 0;
    *buf = data;
    *len = n;
    return SPLUT_OK;
}

static uint32_t le16(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8;
}

static uint32_t le32(const uint8_t *p)
{
    return le16(p) | le16(p + 2) << 16;
}

/* A zip member to unpack: where its data starts, sizes, method, CRC. */
typedef struct zip_member {
    size_t data, csize;
    uint64_t usize;
    uint32_t method, crc;
} zip_member;

static uint64_t le64(const uint8_t *p)
{
    return (uint64_t)le32(p) | (uint64_t)le32(p + 4) << 32;
}

/* Sizes saturated at 0xffffffff in the central directory come from the zip64
 * extra field (tag 1): uncompressed, compressed, offset, in that order. */
static int zip64_sizes(const uint8_t *extra, size_t len, zip_member *m, size_t *loc)
{
    int need = m->usize == 0xffffffffu || m->csize == 0xffffffffu || *loc == 0xffffffffu;
    while (need && len >= 4) {
        size_t tag = le16(extra), sz = le16(extra + 2);
        if (sz > len - 4)
            return -1;
        if (tag == 1) {
            const uint8_t *p = extra + 4, *e = p + sz;
            if (m->usize == 0xffffffffu) {
                if (e - p < 8)
                    return -1;
                m->usize = le64(p);
                p += 8;
            }
            if (m->csize == 0xffffffffu) {
                if (e - p < 8 || le64(p) > SIZE_MAX)
                    return -1;
                m->csize = (size_t)le64(p);
                p += 8;
            }
            if (*loc == 0xffffffffu) {
                if (e - p < 8 || le64(p) > SIZE_MAX)
                    return -1;
                *loc = (size_t)le64(p);
            }
            return 0;
        }
        extra += 4 + sz;
        len -= 4 + sz;
    }
    return need ? -1 : 0;
}

/* The first member whose name ends in ".csv" (else the first member), from the
 * central directory, checked against its local header. */
static splut_status zip_find(splut_ctx *ctx, const char *path, const uint8_t *z, size_t n,
                             zip_member *m)
{
    size_t eocd = SIZE_MAX;
    for (size_t i = n >= 22 ? n - 22 : 0; n >= 22; i--) {
        if (le32(z + i) == 0x06054b50u) {
            eocd = i;
            break;
        }
        if (i == 0 || n - i > 22 + 65535)
            break;
    }
    if (eocd == SIZE_MAX)
        return sd_fail(ctx, SPLUT_E_FORMAT, "%s: not a zip archive (no end record)", path);
    size_t entries = le16(z + eocd + 10), cd = le32(z + eocd + 16), first = SIZE_MAX;
    size_t c = SIZE_MAX;
    for (size_t e = 0, p = cd; e < entries && c == SIZE_MAX; e++) {
        if (p > eocd || eocd - p < 46 || le32(z + p) != 0x02014b50u)
            return sd_fail(ctx, SPLUT_E_FORMAT, "%s: corrupt zip central directory", path);
        size_t nl = le16(z + p + 28), next = p + 46 + nl + le16(z + p + 30) + le16(z + p + 32);
        if (next > eocd)
            return sd_fail(ctx, SPLUT_E_FORMAT, "%s: corrupt zip central directory", path);
        if (nl >= 4 && memcmp(z + p + 46 + nl - 4, ".csv", 4) == 0)
            c = p;
        if (first == SIZE_MAX)
            first = p;
        p = next;
    }
    if (c == SIZE_MAX)
        c = first;
    if (c == SIZE_MAX)
        return sd_fail(ctx, SPLUT_E_FORMAT, "%s: empty zip archive", path);
    m->method = le16(z + c + 10);
    m->crc = le32(z + c + 16);
    m->csize = le32(z + c + 20);
    m->usize = le32(z + c + 24);
    size_t loc = le32(z + c + 42);
    if (zip64_sizes(z + c + 46 + le16(z + c + 28), le16(z + c + 30), m, &loc))
        return sd_fail(ctx, SPLUT_E_FORMAT, "%s: corrupt zip64 size field", path);
    if (m->csize > n)
        return sd_fail(ctx, SPLUT_E_FORMAT, "%s: zip member runs past the end of the file",
                       path);
    if (loc > n || n - loc < 30 || le32(z + loc) != 0x04034b50u)
        return sd_fail(ctx, SPLUT_E_FORMAT, "%s: corrupt zip local header", path);
    m->data = loc + 30 + le16(z + loc + 26) + le16(z + loc + 28);
    if (m->data > n || n - m->data < m->csize)
        return sd_fail(ctx, SPLUT_E_FORMAT, "%s: zip member runs past the end of the file",
                       path);
    if (le16(z + c + 8) & 1u)
        return sd_fail(ctx, SPLUT_E_FORMAT, "%s: encrypted zip members are not supported", path);
    return SPLUT_OK;
}

static splut_status zip_inflate(splut_ctx *ctx, const char *path, const uint8_t *src,
                                const zip_member *m, uint8_t *dst)
{
#ifdef SPLUT_DATA_HAVE_ZLIB
    if (m->method == 0) {
        if (m->csize != m->usize)
            return sd_fail(ctx, SPLUT_E_FORMAT, "%s: stored zip member sizes differ", path);
        memcpy(dst, src, m->csize);
    } else {
        z_stream z;
        memset(&z, 0, sizeof z);
        if (inflateInit2(&z, -15) != Z_OK)
            return sd_fail(ctx, SPLUT_E_NOMEM, "%s: out of memory starting zlib", path);
        z.next_in = (unsigned char *)(uintptr_t)src;
        z.avail_in = (uInt)m->csize;
        z.next_out = dst;
        z.avail_out = (uInt)m->usize + 1; /* one spare byte: output past usize is an error */
        int zr = inflate(&z, Z_FINISH);
        uint64_t out = z.total_out;
        inflateEnd(&z);
        if (zr != Z_STREAM_END || out != m->usize)
            return sd_fail(ctx, SPLUT_E_FORMAT,
                           "%s: corrupt zip member (%s; %llu bytes, %llu declared)", path,
                           zr == Z_STREAM_END ? "size" : zr == Z_BUF_ERROR ? "truncated or larger "
                                                                            "than declared"
                                                                          : "inflate error",
                           (unsigned long long)out, (unsigned long long)m->usize);
    }
    if (crc32(0L, dst, (uInt)m->usize) != m->crc)
        return sd_fail(ctx, SPLUT_E_FORMAT, "%s: zip member CRC mismatch", path);
    return SPLUT_OK;
#else
    (void)src;
    (void)m;
    (void)dst;
    return sd_fail(ctx, SPLUT_E_IO, "%s: a zip archive, but libsparselut-data was built "
                                    "without zlib", path);
#endif
}

static splut_status unzip(splut_ctx *ctx, const char *path, uint64_t max, uint8_t *zip,
                          size_t n, uint8_t **buf, size_t *len)
{
    zip_member m;
    splut_status st = zip_find(ctx, path, zip, n, &m);
    if (st)
        return st;
    if (m.method != 0 && m.method != 8)
        return sd_fail(ctx, SPLUT_E_FORMAT, "%s: zip method %u unsupported (stored or deflate)",
                       path, m.method);
    if (m.usize > max)
        return too_large(ctx, path, max);
    uint8_t *out = malloc((size_t)m.usize + 2);
    if (!out)
        return sd_fail(ctx, SPLUT_E_NOMEM, "%s: out of memory for %llu bytes", path,
                       (unsigned long long)m.usize);
    st = zip_inflate(ctx, path, zip + m.data, &m, out);
    if (st) {
        free(out);
        return st;
    }
    out[m.usize] = 0;
    *buf = out;
    *len = (size_t)m.usize;
    return SPLUT_OK;
}

splut_status sd_read_all(splut_ctx *ctx, const char *path, uint64_t max, uint8_t **buf,
                         size_t *len)
{
    *buf = NULL;
    *len = 0;
    sd_file *f;
    splut_status st = sd_open(ctx, path, &f);
    if (st)
        return st;
    uint8_t *data;
    size_t n;
    st = read_stream(f, path, max, &data, &n);
    sd_close(f);
    if (st)
        return st;
    if (n >= 4 && le32(data) == 0x04034b50u) {
        st = unzip(ctx, path, max, data, n, buf, len);
        free(data);
        return st;
    }
    *buf = data;
    *len = n;
    return SPLUT_OK;
}

splut_status sd_read_text(splut_ctx *ctx, const char *path, uint64_t max, char **text,
                          size_t *len)
{
    uint8_t *buf;
    splut_status st = sd_read_all(ctx, path, max, &buf, len);
    if (st)
        return st;
    if (memchr(buf, 0, *len)) {
        free(buf);
        return sd_fail(ctx, SPLUT_E_FORMAT, "%s: contains NUL bytes (not a text file)", path);
    }
    *text = (char *)buf;
    return SPLUT_OK;
}

splut_status splut_data_read_file(splut_ctx *ctx, const char *path, uint64_t max_bytes,
                                  void **buf, size_t *len)
{
    if (!ctx)
        return SPLUT_E_NULL;
    if (!path || !buf || !len)
        return sd_fail(ctx, SPLUT_E_NULL, "splut_data_read_file: path, buf and len are required");
    *buf = NULL;
    *len = 0;
    uint8_t *data;
    sd_file *f;
    splut_status st = sd_open(ctx, path, &f);
    if (st)
        return st;
    st = read_stream(f, path, max_bytes ? max_bytes : SPLUT_DATA_MAX_BYTES, &data, len);
    sd_close(f);
    if (!st)
        *buf = data;
    return st;
}

void splut_data_free(void *buf)
{
    free(buf);
}
