/*
 * Little-endian byte writing and reading shared by the file formats of the
 * library (model files, run checkpoints).
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#ifndef SPARSELUT_BYTES_PRIV_H
#define SPARSELUT_BYTES_PRIV_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* Little-endian byte sink. With p == NULL it only counts, so one emit routine
 * both measures and writes a file (the two can never disagree). */
typedef struct wbuf {
    uint8_t *p;
    size_t cap, pos;
} wbuf;

static inline void put_bytes(wbuf *w, const void *src, size_t n)
{
    /* n == 0 may come with src == NULL (an empty section), which memcpy forbids */
    if (n && w->p && w->pos <= w->cap && n <= w->cap - w->pos)
        memcpy(w->p + w->pos, src, n);
    w->pos += n;
}

static inline void put_u32(wbuf *w, uint32_t v)
{
    uint8_t b[4];
    for (unsigned i = 0; i < 4; i++)
        b[i] = (uint8_t)(v >> (8 * i));
    put_bytes(w, b, 4);
}

static inline void put_u64(wbuf *w, uint64_t v)
{
    uint8_t b[8];
    for (unsigned i = 0; i < 8; i++)
        b[i] = (uint8_t)(v >> (8 * i));
    put_bytes(w, b, 8);
}

static inline void put_i64(wbuf *w, int64_t v)
{
    put_u64(w, (uint64_t)v); /* two's complement */
}

static inline void put_f32(wbuf *w, float v)
{
    uint32_t u;
    memcpy(&u, &v, sizeof(u)); /* IEEE-754 bit pattern, written LE below */
    put_u32(w, u);
}

static inline void put_f64(wbuf *w, double v)
{
    uint64_t u;
    memcpy(&u, &v, sizeof(u));
    put_u64(w, u);
}

static inline void put_patch_u64(wbuf *w, size_t at, uint64_t v)
{
    size_t end = w->pos;
    w->pos = at;
    put_u64(w, v);
    w->pos = end;
}

/* Section header: 4-byte tag, u64 payload length patched by put_section_end(). */
static inline size_t put_section_begin(wbuf *w, const char *tag)
{
    put_bytes(w, tag, 4);
    size_t at = w->pos;
    put_u64(w, 0);
    return at;
}

static inline void put_section_end(wbuf *w, size_t at)
{
    put_patch_u64(w, at, (uint64_t)(w->pos - at - 8));
}

/* Little-endian reads at absolute offsets; callers check lengths first. */
static inline uint32_t rd_u32(const uint8_t *p, size_t at)
{
    uint32_t v = 0;
    for (unsigned i = 0; i < 4; i++)
        v |= (uint32_t)p[at + i] << (8 * i);
    return v;
}

static inline uint64_t rd_u64(const uint8_t *p, size_t at)
{
    uint64_t v = 0;
    for (unsigned i = 0; i < 8; i++)
        v |= (uint64_t)p[at + i] << (8 * i);
    return v;
}

static inline int64_t rd_i64(const uint8_t *p, size_t at)
{
    uint64_t u = rd_u64(p, at);
    int64_t v;
    memcpy(&v, &u, sizeof(v)); /* two's complement without implementation-defined casts */
    return v;
}

static inline float rd_f32(const uint8_t *p, size_t at)
{
    uint32_t u = rd_u32(p, at);
    float v;
    memcpy(&v, &u, sizeof(v));
    return v;
}

static inline double rd_f64(const uint8_t *p, size_t at)
{
    uint64_t u = rd_u64(p, at);
    double v;
    memcpy(&v, &u, sizeof(v));
    return v;
}

#endif /* SPARSELUT_BYTES_PRIV_H */
