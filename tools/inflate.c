/*
 * Copyright 2026 The libsparselut authors
 * SPDX-License-Identifier: Apache-2.0
 *
 * DEFLATE / gzip decoder: canonical Huffman decoding bit by bit (the RFC 1951
 * algorithm, written from the RFC). Speed is ample for dataset loading
 * (tens of MB/s) and the code stays small enough to audit.
 */
#include "inflate.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Refuse to inflate beyond this (corrupt or hostile streams). */
#define MAX_OUTPUT ((size_t)1 << 31)
#define MAX_BITS 15
#define MAX_LITLEN 288
#define MAX_DIST 32

typedef struct inflater {
    const uint8_t *in;
    size_t n, pos;
    uint32_t bitbuf;
    unsigned bitcnt;
    uint8_t *out;
    size_t len, cap;
    char *err;
    size_t err_cap;
    int failed;
} inflater;

typedef struct huffman {
    uint16_t count[MAX_BITS + 1]; /* codes of each length */
    uint16_t symbol[MAX_LITLEN];  /* symbols ordered by code */
} huffman;

static void fail(inflater *s, const char *fmt, ...)
{
    if (s->failed)
        return;
    s->failed = 1;
    if (s->err && s->err_cap) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(s->err, s->err_cap, fmt, ap);
        va_end(ap);
    }
}

uint32_t cli_crc32(uint32_t crc, const uint8_t *p, size_t n)
{
    /* Table computed on the fly per call would be slow; a small local table
     * built once per call is fine since callers hash whole buffers. */
    uint32_t table[256];
    for (uint32_t i = 0; i < 256; i++) {
        uint32_t c = i;
        for (int k = 0; k < 8; k++)
            c = (c & 1u) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
        table[i] = c;
    }
    crc = ~crc;
    for (size_t i = 0; i < n; i++)
        crc = table[(crc ^ p[i]) & 0xFFu] ^ (crc >> 8);
    return ~crc;
}

/* Next @p need bits, LSB first; on exhausted input sets failure and returns 0. */
static uint32_t bits(inflater *s, unsigned need)
{
    uint32_t val = s->bitbuf;
    while (s->bitcnt < need) {
        if (s->pos >= s->n) {
            fail(s, "deflate stream truncated at byte %zu", s->pos);
            return 0;
        }
        val |= (uint32_t)s->in[s->pos++] << s->bitcnt;
        s->bitcnt += 8;
    }
    s->bitbuf = (uint32_t)((uint64_t)val >> need);
    s->bitcnt -= need;
    return val & (uint32_t)((1ull << need) - 1u);
}

static int reserve(inflater *s, size_t extra)
{
    if (extra > MAX_OUTPUT - s->len) {
        fail(s, "decompressed data larger than %zu bytes", (size_t)MAX_OUTPUT);
        return -1;
    }
    size_t need = s->len + extra;
    if (need <= s->cap)
        return 0;
    size_t cap = s->cap ? s->cap : 4096;
    while (cap < need)
        cap = cap > MAX_OUTPUT / 2 ? MAX_OUTPUT : cap * 2;
    uint8_t *p = realloc(s->out, cap);
    if (!p) {
        fail(s, "out of memory growing output to %zu bytes", cap);
        return -1;
    }
    s->out = p;
    s->cap = cap;
    return 0;
}

static int stored_block(inflater *s)
{
    s->bitbuf = 0; /* discard bits up to the byte boundary */
    s->bitcnt = 0;
    if (s->n - s->pos < 4) {
        fail(s, "stored block header truncated at byte %zu", s->pos);
        return -1;
    }
    unsigned len = s->in[s->pos] | (unsigned)s->in[s->pos + 1] << 8;
    unsigned nlen = s->in[s->pos + 2] | (unsigned)s->in[s->pos + 3] << 8;
    s->pos += 4;
    if (len != (~nlen & 0xFFFFu)) {
        fail(s, "stored block length %u does not match its complement", len);
        return -1;
    }
    if (s->n - s->pos < len) {
        fail(s, "stored block truncated at byte %zu", s->pos);
        return -1;
    }
    if (reserve(s, len))
        return -1;
    memcpy(s->out + s->len, s->in + s->pos, len);
    s->len += len;
    s->pos += len;
    return 0;
}

/* Build canonical code tables; rejects over-subscribed sets. Incomplete sets
 * are accepted (a single distance code is legal); unused codes fail in decode. */
static int build(inflater *s, huffman *h, const uint8_t *lengths, unsigned n)
{
    uint16_t offs[MAX_BITS + 1];
    memset(h->count, 0, sizeof h->count);
    for (unsigned i = 0; i < n; i++)
        h->count[lengths[i]]++;
    int left = 1;
    for (unsigned len = 1; len <= MAX_BITS; len++) {
        left = left * 2 - h->count[len];
        if (left < 0) {
            fail(s, "over-subscribed Huffman code");
            return -1;
        }
    }
    offs[1] = 0;
    for (unsigned len = 1; len < MAX_BITS; len++)
        offs[len + 1] = (uint16_t)(offs[len] + h->count[len]);
    for (unsigned i = 0; i < n; i++)
        if (lengths[i])
            h->symbol[offs[lengths[i]]++] = (uint16_t)i;
    return 0;
}

static int decode(inflater *s, const huffman *h)
{
    int code = 0, first = 0, index = 0;
    for (unsigned len = 1; len <= MAX_BITS; len++) {
        code |= (int)bits(s, 1);
        if (s->failed)
            return -1;
        int count = h->count[len];
        if (code - count < first)
            return h->symbol[index + (code - first)];
        index += count;
        first = (first + count) << 1;
        code <<= 1;
    }
    fail(s, "invalid Huffman code near byte %zu", s->pos);
    return -1;
}

static const uint16_t len_base[29] = {3,  4,  5,  6,  7,  8,  9,  10, 11,  13,
                                      15, 17, 19, 23, 27, 31, 35, 43, 51,  59,
                                      67, 83, 99, 115, 131, 163, 195, 227, 258};
static const uint8_t len_extra[29] = {0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2,
                                      2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0};
static const uint16_t dist_base[30] = {1,    2,    3,    4,    5,    7,     9,     13,
                                       17,   25,   33,   49,   65,   97,    129,   193,
                                       257,  385,  513,  769,  1025, 1537,  2049,  3073,
                                       4097, 6145, 8193, 12289, 16385, 24577};
static const uint8_t dist_extra[30] = {0, 0, 0, 0, 1, 1, 2,  2,  3,  3,  4,  4,  5,  5,  6,
                                       6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13};

static int copy_match(inflater *s, unsigned len, unsigned dist)
{
    if (dist > s->len) {
        fail(s, "distance %u reaches before the start of the output", dist);
        return -1;
    }
    if (reserve(s, len))
        return -1;
    uint8_t *dst = s->out + s->len;
    const uint8_t *src = dst - dist;
    for (unsigned i = 0; i < len; i++) /* byte by byte: overlapping copies repeat */
        dst[i] = src[i];
    s->len += len;
    return 0;
}

static int codes(inflater *s, const huffman *lit, const huffman *dist)
{
    for (;;) {
        int sym = decode(s, lit);
        if (sym < 0)
            return -1;
        if (sym < 256) {
            if (reserve(s, 1))
                return -1;
            s->out[s->len++] = (uint8_t)sym;
            continue;
        }
        if (sym == 256)
            return 0;
        sym -= 257;
        if (sym >= 29) {
            fail(s, "invalid length symbol %d", sym + 257);
            return -1;
        }
        unsigned len = len_base[sym] + bits(s, len_extra[sym]);
        int dsym = decode(s, dist);
        if (dsym < 0 || s->failed)
            return -1;
        if (dsym >= 30) {
            fail(s, "invalid distance symbol %d", dsym);
            return -1;
        }
        unsigned d = dist_base[dsym] + bits(s, dist_extra[dsym]);
        if (s->failed || copy_match(s, len, d))
            return -1;
    }
}

static int fixed_block(inflater *s)
{
    uint8_t lengths[MAX_LITLEN];
    huffman lit, dist;
    unsigned i = 0;
    for (; i < 144; i++)
        lengths[i] = 8;
    for (; i < 256; i++)
        lengths[i] = 9;
    for (; i < 280; i++)
        lengths[i] = 7;
    for (; i < 288; i++)
        lengths[i] = 8;
    if (build(s, &lit, lengths, 288))
        return -1;
    for (i = 0; i < 30; i++)
        lengths[i] = 5;
    if (build(s, &dist, lengths, 30))
        return -1;
    return codes(s, &lit, &dist);
}

static int read_code_lengths(inflater *s, uint8_t *lengths, unsigned total)
{
    static const uint8_t order[19] = {16, 17, 18, 0, 8,  7, 9,  6, 10, 5,
                                      11, 4,  12, 3, 13, 2, 14, 1, 15};
    unsigned nlen = bits(s, 4) + 4;
    uint8_t cl[19] = {0};
    for (unsigned i = 0; i < nlen; i++)
        cl[order[i]] = (uint8_t)bits(s, 3);
    huffman lencode;
    if (s->failed || build(s, &lencode, cl, 19))
        return -1;
    unsigned i = 0;
    while (i < total) {
        int sym = decode(s, &lencode);
        if (sym < 0)
            return -1;
        if (sym < 16) {
            lengths[i++] = (uint8_t)sym;
            continue;
        }
        uint8_t val = 0;
        unsigned rep;
        if (sym == 16) {
            if (i == 0) {
                fail(s, "repeat code with no previous length");
                return -1;
            }
            val = lengths[i - 1];
            rep = 3 + bits(s, 2);
        } else if (sym == 17) {
            rep = 3 + bits(s, 3);
        } else {
            rep = 11 + bits(s, 7);
        }
        if (s->failed)
            return -1;
        if (i + rep > total) {
            fail(s, "code lengths overrun the table (%u > %u)", i + rep, total);
            return -1;
        }
        while (rep--)
            lengths[i++] = val;
    }
    return 0;
}

static int dynamic_block(inflater *s)
{
    unsigned nlit = bits(s, 5) + 257;
    unsigned ndist = bits(s, 5) + 1;
    if (s->failed)
        return -1;
    if (nlit > 286 || ndist > 30) {
        fail(s, "bad dynamic block counts (%u literal, %u distance codes)", nlit, ndist);
        return -1;
    }
    uint8_t lengths[MAX_LITLEN + MAX_DIST];
    if (read_code_lengths(s, lengths, nlit + ndist))
        return -1;
    if (lengths[256] == 0) {
        fail(s, "dynamic block without an end-of-block code");
        return -1;
    }
    huffman lit, dist;
    if (build(s, &lit, lengths, nlit) || build(s, &dist, lengths + nlit, ndist))
        return -1;
    return codes(s, &lit, &dist);
}

static int inflate_into(inflater *s)
{
    unsigned last;
    do {
        last = bits(s, 1);
        unsigned type = bits(s, 2);
        if (s->failed)
            return -1;
        int rc;
        if (type == 0)
            rc = stored_block(s);
        else if (type == 1)
            rc = fixed_block(s);
        else if (type == 2)
            rc = dynamic_block(s);
        else {
            fail(s, "invalid block type 3");
            rc = -1;
        }
        if (rc)
            return -1;
    } while (!last);
    s->bitbuf = 0; /* the stream ends at the next byte boundary */
    s->bitcnt = 0;
    return 0;
}

static void init(inflater *s, const uint8_t *in, size_t n, char *err, size_t err_cap)
{
    memset(s, 0, sizeof *s);
    s->in = in;
    s->n = n;
    s->err = err;
    s->err_cap = err_cap;
    if (err && err_cap)
        err[0] = '\0';
}

static int finish(inflater *s, int rc, uint8_t **out, size_t *out_len)
{
    if (rc || s->failed) {
        free(s->out);
        *out = NULL;
        *out_len = 0;
        return -1;
    }
    if (!s->out) /* empty output: still hand back a valid pointer */
        s->out = malloc(1);
    if (!s->out) {
        fail(s, "out of memory");
        return -1;
    }
    *out = s->out;
    *out_len = s->len;
    return 0;
}

int cli_inflate(const uint8_t *in, size_t n, uint8_t **out, size_t *out_len, size_t *used,
                char *err, size_t err_cap)
{
    inflater s;
    init(&s, in, n, err, err_cap);
    int rc = inflate_into(&s);
    if (used)
        *used = s.pos;
    return finish(&s, rc, out, out_len);
}

static uint32_t le32(const uint8_t *p)
{
    return p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* Skip a zero-terminated header field; -1 if it runs off the end. */
static int skip_string(inflater *s, const char *what)
{
    while (s->pos < s->n && s->in[s->pos] != 0)
        s->pos++;
    if (s->pos >= s->n) {
        fail(s, "gzip header %s not terminated", what);
        return -1;
    }
    s->pos++;
    return 0;
}

static int gzip_header(inflater *s)
{
    size_t start = s->pos;
    if (s->n - s->pos < 10) {
        fail(s, "gzip header truncated at byte %zu", s->pos);
        return -1;
    }
    const uint8_t *h = s->in + s->pos;
    if (h[0] != 0x1f || h[1] != 0x8b) {
        fail(s, "not a gzip file (bad magic at byte %zu)", s->pos);
        return -1;
    }
    if (h[2] != 8) {
        fail(s, "unsupported gzip compression method %u", h[2]);
        return -1;
    }
    unsigned flg = h[3];
    if (flg & 0xE0u) {
        fail(s, "reserved gzip flag bits set (0x%02x)", flg);
        return -1;
    }
    s->pos += 10;
    if (flg & 4u) { /* FEXTRA */
        if (s->n - s->pos < 2) {
            fail(s, "gzip extra field truncated");
            return -1;
        }
        size_t xlen = s->in[s->pos] | (size_t)s->in[s->pos + 1] << 8;
        s->pos += 2;
        if (s->n - s->pos < xlen) {
            fail(s, "gzip extra field truncated");
            return -1;
        }
        s->pos += xlen;
    }
    if ((flg & 8u) && skip_string(s, "file name"))
        return -1;
    if ((flg & 16u) && skip_string(s, "comment"))
        return -1;
    if (flg & 2u) { /* FHCRC: low 16 bits of the CRC-32 of the header */
        if (s->n - s->pos < 2) {
            fail(s, "gzip header CRC truncated");
            return -1;
        }
        unsigned want = s->in[s->pos] | (unsigned)s->in[s->pos + 1] << 8;
        unsigned got = cli_crc32(0, s->in + start, s->pos - start) & 0xFFFFu;
        if (want != got) {
            fail(s, "gzip header CRC mismatch");
            return -1;
        }
        s->pos += 2;
    }
    return 0;
}

static int gzip_member(inflater *s)
{
    if (gzip_header(s))
        return -1;
    size_t begin = s->len;
    if (inflate_into(s))
        return -1;
    if (s->n - s->pos < 8) {
        fail(s, "gzip trailer truncated (missing CRC-32/size)");
        return -1;
    }
    uint32_t want_crc = le32(s->in + s->pos);
    uint32_t want_size = le32(s->in + s->pos + 4);
    s->pos += 8;
    uint32_t crc = cli_crc32(0, s->out + begin, s->len - begin);
    if (crc != want_crc) {
        fail(s, "gzip CRC-32 mismatch (stored %08x, computed %08x)", (unsigned)want_crc,
             (unsigned)crc);
        return -1;
    }
    if ((uint32_t)(s->len - begin) != want_size) {
        fail(s, "gzip size mismatch (stored %u, decoded %zu)", (unsigned)want_size,
             s->len - begin);
        return -1;
    }
    return 0;
}

int cli_gunzip(const uint8_t *in, size_t n, uint8_t **out, size_t *out_len, char *err,
               size_t err_cap)
{
    inflater s;
    init(&s, in, n, err, err_cap);
    int rc = 0;
    if (n == 0) {
        fail(&s, "empty gzip file");
        rc = -1;
    }
    /* Presize from the last member's ISIZE: a hint only, so it is ignored when
     * DEFLATE could not expand the input that much (max ratio ~1032:1) --
     * corrupt or truncated files must not trigger huge allocations. */
    if (!rc && n >= 18) {
        size_t hint = le32(in + n - 4);
        if (hint > 0 && hint / 1032 <= n && hint < ((size_t)1 << 30) && reserve(&s, hint))
            rc = -1;
    }
    while (!rc && s.pos < n)
        rc = gzip_member(&s);
    return finish(&s, rc, out, out_len);
}
