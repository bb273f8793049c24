/*
 * Model files: versioned, little-endian, checksummed serialisation of a built
 * model (and optionally its trainer's optimiser state). The byte layout is
 * specified in docs/model-format.md; this file is its only implementation.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bytes-priv.h"
#include "fileio-priv.h"
#include "modelio-priv.h"
#include "train-priv.h"

#define ARCH_FIXED 40u      /* ARCH bytes before the layer records */
#define ARCH_FIXED_V1 32u   /* version 1: no learnable-mapping field */
#define ARCH_LAYER 28u      /* bytes per layer record: 7 × u32 */
#define META_SIZE 88u       /* 3 × f64, 3 × i64, 32-byte preset name, f64 τ */
#define META_SIZE_V1 80u    /* version 1: no GroupSum temperature */
#define TRNR_FIXED 152u     /* 10 × f64, 7 × i64, 2 × u32, u64 count */
#define TRNR_SWITCHED 136u  /* offset of the u32 "connectivity switched" flag */
#define PRESET_LEN 32u

/* Sections in the order they must appear. */
enum { S_ARCH, S_CONN, S_PARM, S_STAT, S_META, S_TRNR, S_COUNT };
static const char SECTION_TAGS[S_COUNT][5] = {"ARCH", "CONN", "PARM", "STAT", "META", "TRNR"};

/* The trainer state a file holds (TRNR section). */
#define TRNR_F64 10
#define TRNR_I64 7
typedef struct trainer_image {
    double f[TRNR_F64];  /* the trainer's saved double keys, in key order */
    int64_t i[TRNR_I64]; /* the trainer's saved integer keys, in key order */
    bool conn_switched;
    float *m1, *m2; /* n_params each, context allocator */
} trainer_image;

/* The scalar fields of a trainer section are the trainer keys the parameter
 * table flags SPLUT_PARAM_SAVED, in key order: f64 at 0..47 and 104..135,
 * i64 at 48..103 (docs/model-format.md). */
static const size_t TRNR_F64_AT[TRNR_F64] = {0, 8, 16, 24, 32, 40, 104, 112, 120, 128};

typedef struct trainer_keys {
    splut_param f[TRNR_F64], i[TRNR_I64];
} trainer_keys;

/* The saved keys from the parameter table; fails if the table no longer
 * matches this file layout (a new saved key needs a new file version). */
static splut_status trainer_keys_of(splut_ctx *ctx, trainer_keys *k)
{
    size_t nf = splut__param_saved(SPLUT_OWNER_TRAINER, SPLUT_PARAM_DOUBLE, k->f, TRNR_F64);
    size_t ni = splut__param_saved(SPLUT_OWNER_TRAINER, SPLUT_PARAM_INT, k->i, TRNR_I64);
    if (nf != TRNR_F64 || ni != TRNR_I64)
        return splut__fail(ctx, SPLUT_E_STATE,
                           "internal: %zu double and %zu integer trainer keys are flagged saved, "
                           "the trainer section holds %d and %d",
                           nf, ni, TRNR_F64, TRNR_I64);
    return SPLUT_OK;
}

static void *trainer_field(const splut_trainer *t, splut_param key)
{
    return (char *)t + splut__param_find(key)->offset;
}

static void trainer_image_of(const splut_trainer *t, const trainer_keys *k, trainer_image *im)
{
    memset(im, 0, sizeof(*im));
    for (size_t j = 0; j < TRNR_F64; j++)
        im->f[j] = *(const double *)trainer_field(t, k->f[j]);
    for (size_t j = 0; j < TRNR_I64; j++)
        im->i[j] = *(const int64_t *)trainer_field(t, k->i[j]);
    im->conn_switched = t->conn_switched;
}

/* Scalars only; the moments are handled by the caller. */
static void trainer_image_apply(const trainer_image *im, const trainer_keys *k,
                                splut_trainer *t)
{
    for (size_t j = 0; j < TRNR_F64; j++)
        *(double *)trainer_field(t, k->f[j]) = im->f[j];
    for (size_t j = 0; j < TRNR_I64; j++)
        *(int64_t *)trainer_field(t, k->i[j]) = im->i[j];
    t->conn_switched = im->conn_switched;
}

/* ============================================================== writing */

/* Section header: 4-byte tag, u64 payload length patched by put_section_end(). */
static size_t section_begin(wbuf *w, int sec)
{
    return put_section_begin(w, SECTION_TAGS[sec]);
}

static void section_end(wbuf *w, size_t at)
{
    put_section_end(w, at);
}

static void emit_arch(wbuf *w, const splut_model *m)
{
    size_t at = section_begin(w, S_ARCH);
    put_u32(w, m->n_inputs);
    put_u32(w, m->input_bits);
    put_u32(w, (uint32_t)m->input_mode);
    put_u32(w, (uint32_t)m->n_layers);
    put_u64(w, m->n_params);
    put_u64(w, m->n_state);
    put_u32(w, (uint32_t)m->lut_map);
    put_u32(w, 0); /* reserved */
    for (size_t l = 0; l < m->n_layers; l++) {
        splut_layer_desc d = SPLUT_LAYER_DESC_INIT;
        splut_model_layer(m, l, &d); /* cannot fail: valid index, sized desc */
        put_u32(w, (uint32_t)d.kind);
        put_u32(w, d.width);
        put_u32(w, d.fan_in);
        put_u32(w, d.out_bits);
        put_u32(w, d.degree);
        put_u32(w, d.sub_neurons);
        put_u32(w, d.hidden);
    }
    section_end(w, at);
}

static void emit_floats(wbuf *w, int sec, const float *v, size_t n)
{
    size_t at = section_begin(w, sec);
    for (size_t i = 0; i < n; i++)
        put_f32(w, v[i]);
    section_end(w, at);
}

/* Candidates of the learnable mapping in CONN: none when every input is a
 * candidate of every node (they are implied). */
static size_t stored_candidates(const splut_model *m)
{
    if (!m->map_k || splut__lut_map_shared(m))
        return 0;
    return (size_t)m->layers[0].out * m->layers[0].F * m->map_k;
}

static void emit_conn(wbuf *w, const splut_model *m)
{
    size_t at = section_begin(w, S_CONN);
    for (size_t l = 0; l < m->n_layers; l++) {
        const splut_layer *L = &m->layers[l];
        size_t k = (size_t)L->out * L->A * L->F;
        for (size_t i = 0; i < k; i++)
            put_u32(w, L->conn[i]);
    }
    for (size_t i = 0; i < stored_candidates(m); i++) /* learnable mapping */
        put_u32(w, m->map_cand[i]);
    section_end(w, at);
}

static void emit_meta(wbuf *w, const splut_model *m)
{
    size_t at = section_begin(w, S_META);
    put_f64(w, m->recipe_lr);
    put_f64(w, m->recipe_wd);
    put_i64(w, m->recipe_batch);
    put_i64(w, m->recipe_epochs);
    put_i64(w, m->epochs_trained);
    put_f64(w, m->test_accuracy);
    /* NUL-padded; bytes after the terminator are written as 0 so the same
     * model always gives the same bytes. */
    uint8_t name[PRESET_LEN];
    memset(name, 0, sizeof(name));
    size_t len = strnlen(m->preset, sizeof(m->preset));
    if (len > PRESET_LEN - 1)
        len = PRESET_LEN - 1;
    memcpy(name, m->preset, len);
    put_bytes(w, name, sizeof(name));
    put_f64(w, m->groupsum_tau);
    section_end(w, at);
}

/* Callers have checked the table against the layout (trainer_keys_of). */
static void emit_trainer(wbuf *w, const splut_trainer *t)
{
    trainer_keys keys;
    (void)trainer_keys_of(NULL, &keys);
    trainer_image im;
    trainer_image_of(t, &keys, &im);
    size_t n = t->model->n_params;
    size_t at = section_begin(w, S_TRNR);
    for (size_t k = 0; k < 6; k++) /* offsets 0..47 */
        put_f64(w, im.f[k]);
    for (size_t k = 0; k < TRNR_I64; k++) /* 48..103 */
        put_i64(w, im.i[k]);
    for (size_t k = 6; k < TRNR_F64; k++) /* 104..135 */
        put_f64(w, im.f[k]);
    put_u32(w, im.conn_switched ? 1u : 0u);
    put_u32(w, 0); /* reserved */
    put_u64(w, n);
    for (size_t i = 0; i < n; i++)
        put_f32(w, t->m1 ? t->m1[i] : 0.0f);
    for (size_t i = 0; i < n; i++)
        put_f32(w, t->m2 ? t->m2[i] : 0.0f);
    section_end(w, at);
}

/* The whole file: header, sections, CRC-32 of everything before it. */
static void emit_file(wbuf *w, const splut_model *m, const splut_trainer *t)
{
    put_bytes(w, SPLUT_MODEL_MAGIC, 8);
    put_u32(w, SPLUT_MODEL_FORMAT_VERSION);
    put_u32(w, t ? SPLUT_MODEL_FLAG_TRAINER : 0u);
    size_t size_at = w->pos;
    put_u64(w, 0);
    emit_arch(w, m);
    emit_conn(w, m);
    emit_floats(w, S_PARM, m->params, m->n_params);
    emit_floats(w, S_STAT, m->state, m->n_state);
    emit_meta(w, m);
    if (t)
        emit_trainer(w, t);
    put_patch_u64(w, size_at, (uint64_t)w->pos + 4);
    uint32_t crc = w->p ? splut__crc32(0, w->p, w->pos) : 0;
    put_u32(w, crc);
}

static size_t file_size(const splut_model *m, const splut_trainer *t)
{
    wbuf w = {NULL, 0, 0};
    emit_file(&w, m, t);
    return w.pos;
}

/* Serialise into a buffer from the context allocator. */
static splut_status serialize_alloc(const splut_model *m, const splut_trainer *t, uint8_t **out,
                                    size_t *size)
{
    trainer_keys keys;
    if (t && trainer_keys_of(m->ctx, &keys) != SPLUT_OK)
        return SPLUT_E_STATE;
    size_t n = file_size(m, t);
    uint8_t *buf = splut__alloc(m->ctx, n);
    if (!buf)
        return splut__fail(m->ctx, SPLUT_E_NOMEM, "out of memory serialising a model (%zu bytes)",
                           n);
    wbuf w = {buf, n, 0};
    emit_file(&w, m, t);
    *out = buf;
    *size = n;
    return SPLUT_OK;
}

/* Only built target models have a file form; the phase-1 surrogate network
 * (splut_trainer_model_in_training) bypasses the table limit and is internal. */
static splut_status check_savable(const splut_model *m)
{
    if (!m->built)
        return splut__fail(m->ctx, SPLUT_E_STATE, "only a built model can be saved");
    if (m->surrogate)
        return splut__fail(m->ctx, SPLUT_E_STATE,
                           "the phase-1 surrogate network of learned connectivity cannot be "
                           "saved; save the trainer's model after the switch");
    return SPLUT_OK;
}

splut_status splut_model_serialize(const splut_model *m, void *buf, size_t cap, size_t *needed)
{
    if (!m)
        return SPLUT_E_NULL;
    if (!needed)
        return splut__fail(m->ctx, SPLUT_E_NULL, "splut_model_serialize: needed is NULL");
    splut_status st = check_savable(m);
    if (st != SPLUT_OK)
        return st;
    size_t n = file_size(m, NULL);
    *needed = n;
    if (!buf)
        return SPLUT_OK;
    if (cap < n)
        return splut__fail(m->ctx, SPLUT_E_BUFFER_TOO_SMALL,
                           "serialised model needs %zu bytes, buffer has %zu", n, cap);
    wbuf w = {buf, cap, 0};
    emit_file(&w, m, NULL);
    return SPLUT_OK;
}

/* ============================================================== reading */

/* Where a section's payload lies in the file. */
typedef struct section {
    size_t off, len;
} section;


/* Re-record the last failure with the file position prepended, keeping its status. */
static splut_status rewrap(splut_ctx *ctx, splut_status st, const char *where)
{
    char inner[SPLUT_ERR_LEN];
    snprintf(inner, sizeof(inner), "%s", splut_ctx_last_error(ctx));
    return splut__fail(ctx, st, "model file: %s: %s", where, inner);
}

/* Fixed header and trailer: magic, size, CRC, version, flags (in that order,
 * so that a flipped bit is reported as corruption rather than a version). */
static splut_status check_envelope(splut_ctx *ctx, const uint8_t *p, size_t size,
                                   uint32_t *flags, uint32_t *version_out)
{
    size_t min = SPLUT_MODEL_HEADER_SIZE + 4;
    if (size < min)
        return splut__fail(ctx, SPLUT_E_FORMAT,
                           "model file: %zu bytes, shorter than the %zu-byte minimum (truncated)",
                           size, min);
    if (memcmp(p, SPLUT_MODEL_MAGIC, 8) != 0)
        return splut__fail(ctx, SPLUT_E_FORMAT,
                           "model file: bad magic at offset 0 (not a libsparselut model file)");
    uint64_t declared = rd_u64(p, 16);
    if (declared != (uint64_t)size)
        return splut__fail(ctx, SPLUT_E_FORMAT,
                           "model file: header (offset 16) declares %llu bytes but there are "
                           "%zu (truncated or padded)",
                           (unsigned long long)declared, size);
    uint32_t stored = rd_u32(p, size - 4);
    uint32_t crc = splut__crc32(0, p, size - 4);
    if (stored != crc)
        return splut__fail(ctx, SPLUT_E_CHECKSUM,
                           "model file: CRC-32 at offset %zu is 0x%08x, the content gives 0x%08x "
                           "(file corrupted)",
                           size - 4, stored, crc);
    uint32_t version = rd_u32(p, 8);
    if (version < SPLUT_MODEL_FORMAT_OLDEST || version > SPLUT_MODEL_FORMAT_VERSION)
        return splut__fail(ctx, SPLUT_E_VERSION,
                           "model file: format version %u (offset 8) is not supported; this "
                           "library reads versions %u to %u",
                           version, SPLUT_MODEL_FORMAT_OLDEST, SPLUT_MODEL_FORMAT_VERSION);
    *version_out = version;
    *flags = rd_u32(p, 12);
    if (*flags & ~SPLUT_MODEL_FLAG_TRAINER)
        return splut__fail(ctx, SPLUT_E_FORMAT, "model file: unknown flags 0x%08x at offset 12",
                           *flags);
    return SPLUT_OK;
}

/* Locate the sections, which must appear in order and tile the body exactly. */
static splut_status scan_sections(splut_ctx *ctx, const uint8_t *p, size_t size,
                                  bool has_trainer, section *sec)
{
    size_t pos = SPLUT_MODEL_HEADER_SIZE, end = size - 4;
    int count = has_trainer ? S_COUNT : S_TRNR;
    for (int s = 0; s < count; s++) {
        if (end - pos < SPLUT_MODEL_SECTION_HEADER)
            return splut__fail(ctx, SPLUT_E_FORMAT,
                               "model file: section %s expected at offset %zu, but only %zu "
                               "bytes remain",
                               SECTION_TAGS[s], pos, end - pos);
        if (memcmp(p + pos, SECTION_TAGS[s], 4) != 0)
            return splut__fail(ctx, SPLUT_E_FORMAT,
                               "model file: expected section %s at offset %zu, found tag "
                               "0x%08x",
                               SECTION_TAGS[s], pos, rd_u32(p, pos));
        uint64_t len = rd_u64(p, pos + 4);
        size_t avail = end - pos - SPLUT_MODEL_SECTION_HEADER;
        if (len > avail)
            return splut__fail(ctx, SPLUT_E_FORMAT,
                               "model file: section %s at offset %zu declares %llu bytes, only "
                               "%zu remain",
                               SECTION_TAGS[s], pos, (unsigned long long)len, avail);
        sec[s].off = pos + SPLUT_MODEL_SECTION_HEADER;
        sec[s].len = (size_t)len;
        pos = sec[s].off + sec[s].len;
    }
    if (pos != end)
        return splut__fail(ctx, SPLUT_E_FORMAT,
                           "model file: %zu unexpected bytes after the last section (offset %zu)",
                           end - pos, pos);
    return SPLUT_OK;
}

/* Section length must be exactly count × unit bytes (overflow-free comparison). */
static splut_status expect_len(splut_ctx *ctx, const section *s, int tag, uint64_t count,
                               unsigned unit, uint64_t extra)
{
    bool ok = s->len >= extra && (s->len - extra) % unit == 0 &&
              (uint64_t)((s->len - extra) / unit) == count;
    if (ok)
        return SPLUT_OK;
    return splut__fail(ctx, SPLUT_E_FORMAT,
                       "model file: section %s at offset %zu has %zu bytes, the architecture "
                       "needs %llu × %u + %llu",
                       SECTION_TAGS[tag], s->off - SPLUT_MODEL_SECTION_HEADER, s->len,
                       (unsigned long long)count, unit, (unsigned long long)extra);
}

/* add_layer accepts a few equivalent spellings (degree 0 or 1 for LINEAR,
 * sub-neurons 0 or 1 outside POLY_ADD); a file holds only the one the writer
 * produces, so that every model has exactly one encoding. */
static splut_status check_canonical_layer(const splut_model *m, uint32_t l,
                                          const splut_layer_desc *stored, size_t at)
{
    splut_layer_desc d = SPLUT_LAYER_DESC_INIT;
    splut_model_layer(m, l, &d);
    if (d.degree == stored->degree && d.sub_neurons == stored->sub_neurons)
        return SPLUT_OK;
    return splut__fail(m->ctx, SPLUT_E_FORMAT,
                       "model file: layer %u at offset %zu stores degree %u and sub-neurons %u; "
                       "the canonical form is %u and %u",
                       l, at, stored->degree, stored->sub_neurons, d.degree, d.sub_neurons);
}

/* ARCH: rebuild the definition through the public path, so every shape rule
 * of splut_model_create/splut_model_add_layer applies with its own status. */
static splut_status define_model(splut_ctx *ctx, const uint8_t *p, const section *s,
                                 uint32_t version, splut_model **out, uint64_t *n_params,
                                 uint64_t *n_state)
{
    const uint32_t fixed = version < 2 ? ARCH_FIXED_V1 : ARCH_FIXED;
    if (s->len < fixed)
        return splut__fail(ctx, SPLUT_E_FORMAT,
                           "model file: ARCH section at offset %zu has %zu bytes, needs at least "
                           "%u",
                           s->off, s->len, fixed);
    size_t o = s->off;
    uint32_t n_inputs = rd_u32(p, o), input_bits = rd_u32(p, o + 4);
    uint32_t mode = rd_u32(p, o + 8), n_layers = rd_u32(p, o + 12);
    *n_params = rd_u64(p, o + 16);
    *n_state = rd_u64(p, o + 24);
    if (n_layers == 0)
        return splut__fail(ctx, SPLUT_E_FORMAT,
                           "model file: layer count at offset %zu is 0 (a saved model is built)",
                           o + 12);
    splut_status st = expect_len(ctx, s, S_ARCH, n_layers, ARCH_LAYER, fixed);
    if (st != SPLUT_OK)
        return st;
    uint32_t lut_map = version < 2 ? 0 : rd_u32(p, o + 32);
    if (version >= 2 && rd_u32(p, o + 36) != 0)
        return splut__fail(ctx, SPLUT_E_FORMAT, "model file: reserved field at offset %zu is not 0",
                           o + 36);
    char where[96];
    splut_model *m = NULL;
    st = splut_model_create(ctx, n_inputs, input_bits, &m);
    if (st != SPLUT_OK) {
        snprintf(where, sizeof(where), "input count/bits at offset %zu", o);
        return rewrap(ctx, st, where);
    }
    st = splut_model_set_int(m, SPLUT_P_INPUT_MODE, mode);
    if (st != SPLUT_OK) {
        snprintf(where, sizeof(where), "input mode at offset %zu", o + 8);
        splut_model_destroy(m);
        return rewrap(ctx, st, where);
    }
    st = splut_model_set_int(m, SPLUT_P_LUT_MAP, lut_map);
    if (st != SPLUT_OK) {
        snprintf(where, sizeof(where), "learnable mapping at offset %zu", o + 32);
        splut_model_destroy(m);
        return rewrap(ctx, st, where);
    }
    for (uint32_t l = 0; l < n_layers; l++) {
        size_t r = o + fixed + (size_t)l * ARCH_LAYER;
        splut_layer_desc d = SPLUT_LAYER_DESC_INIT;
        d.kind = (int32_t)rd_u32(p, r);
        d.width = rd_u32(p, r + 4);
        d.fan_in = rd_u32(p, r + 8);
        d.out_bits = rd_u32(p, r + 12);
        d.degree = rd_u32(p, r + 16);
        d.sub_neurons = rd_u32(p, r + 20);
        d.hidden = rd_u32(p, r + 24);
        st = splut_model_add_layer(m, &d);
        if (st != SPLUT_OK) {
            snprintf(where, sizeof(where), "layer %u description at offset %zu", l, r);
            splut_model_destroy(m);
            return rewrap(ctx, st, where);
        }
        st = check_canonical_layer(m, l, &d, r);
        if (st != SPLUT_OK) {
            splut_model_destroy(m);
            return st;
        }
    }
    *out = m;
    return SPLUT_OK;
}

/* Before allocating anything from the header's numbers, make sure the
 * sections that must hold them are really in the file: allocations stay
 * proportional to the file size whatever a hostile header says. */
static splut_status check_sizes(const splut_model *m, const section *sec, uint64_t n_params,
                                uint64_t n_state, uint32_t version)
{
    splut_ctx *ctx = m->ctx;
    /* Stored counts first: from here on they are bounded by the file size, so
     * the sums below cannot overflow. */
    splut_status st = expect_len(ctx, &sec[S_PARM], S_PARM, n_params, 4, 0);
    if (st == SPLUT_OK)
        st = expect_len(ctx, &sec[S_STAT], S_STAT, n_state, 4, 0);
    if (st == SPLUT_OK)
        st = expect_len(ctx, &sec[S_META], S_META, 0, 1, version < 2 ? META_SIZE_V1 : META_SIZE);
    if (st != SPLUT_OK)
        return st;
    uint64_t conn = 0, weights = 0;
    for (size_t l = 0; l < m->n_layers; l++) {
        const splut_layer *L = &m->layers[l];
        conn += (uint64_t)L->out * L->A * L->F;                    /* < 2^41 per layer */
        weights += (uint64_t)L->out * (L->A * (uint64_t)L->T + 2); /* < 2^57 per layer */
        if (conn > sec[S_CONN].len / 4)
            return splut__fail(ctx, SPLUT_E_FORMAT,
                               "model file: section CONN at offset %zu has %zu bytes, too few "
                               "for layer %zu",
                               sec[S_CONN].off - SPLUT_MODEL_SECTION_HEADER, sec[S_CONN].len, l);
        if (weights > n_params)
            return splut__fail(ctx, SPLUT_E_FORMAT,
                               "model file: parameter count %llu (ARCH offset %zu) is too small "
                               "for layer %zu",
                               (unsigned long long)n_params, sec[S_ARCH].off + 16, l);
    }
    /* learnable mapping: its candidates follow the connectivity, unless every
     * input is a candidate (implied) */
    uint64_t mk = splut__lut_map_k(m);
    if (mk * m->layers[0].F != m->layers[0].in)
        conn += (uint64_t)m->layers[0].out * m->layers[0].F * mk;
    if (m->input_mode == SPLUT_INPUT_BN_HARDTANH && 2 * (uint64_t)m->n_inputs > n_state)
        return splut__fail(ctx, SPLUT_E_FORMAT,
                           "model file: state count %llu (ARCH offset %zu) is too small for %u "
                           "inputs",
                           (unsigned long long)n_state, sec[S_ARCH].off + 24, m->n_inputs);
    return expect_len(ctx, &sec[S_CONN], S_CONN, conn, 4, 0);
}

static splut_status read_conn(splut_model *m, const uint8_t *p, const section *s)
{
    size_t o = s->off;
    for (size_t l = 0; l < m->n_layers; l++) {
        splut_layer *L = &m->layers[l];
        size_t k = (size_t)L->A * L->F;
        for (uint32_t n = 0; n < L->out; n++) {
            uint32_t *row = L->conn + (size_t)n * k;
            size_t at = o;
            for (size_t i = 0; i < k; i++, o += 4)
                row[i] = rd_u32(p, o);
            splut_status st = splut__check_inputs(m, l, row, k);
            if (st != SPLUT_OK) {
                char where[96];
                snprintf(where, sizeof(where), "connectivity of neuron %u at offset %zu", n, at);
                return rewrap(m->ctx, st, where);
            }
        }
    }
    size_t nc = stored_candidates(m), at = o;
    for (size_t i = 0; i < nc; i++, o += 4)
        m->map_cand[i] = rd_u32(p, o);
    if (m->map_k && !nc) /* implied: every input, slot f taking the f-th run of K */
        for (size_t i = 0; i < (size_t)m->layers[0].out * m->layers[0].in; i++)
            m->map_cand[i] = (uint32_t)(i % m->layers[0].in);
    splut_status st = splut__lut_map_check(m);
    if (st != SPLUT_OK) {
        char where[96];
        snprintf(where, sizeof(where), "learnable-mapping candidates at offset %zu", at);
        return rewrap(m->ctx, st, where);
    }
    return SPLUT_OK;
}

static splut_status read_floats(splut_ctx *ctx, const uint8_t *p, const section *s, float *dst,
                                size_t n, const char *what)
{
    for (size_t i = 0; i < n; i++) {
        dst[i] = rd_f32(p, s->off + 4 * i);
        if (!isfinite(dst[i]))
            return splut__fail(ctx, SPLUT_E_FORMAT, "model file: %s %zu at offset %zu is not finite",
                               what, i, s->off + 4 * i);
    }
    return SPLUT_OK;
}

static splut_status check_variances(const splut_model *m, size_t first, size_t n,
                                    const section *s)
{
    for (size_t i = first; i < first + n; i++)
        if (m->state[i] < 0.0f)
            return splut__fail(m->ctx, SPLUT_E_FORMAT,
                               "model file: BatchNorm running variance %g at offset %zu is "
                               "negative",
                               (double)m->state[i], s->off + 4 * i);
    return SPLUT_OK;
}

static splut_status read_state(splut_model *m, const uint8_t *p, const section *s)
{
    splut_status st = read_floats(m->ctx, p, s, m->state, m->n_state, "BatchNorm statistic");
    if (st == SPLUT_OK && m->input_mode == SPLUT_INPUT_BN_HARDTANH)
        st = check_variances(m, m->in_run_var, m->n_inputs, s);
    for (size_t l = 0; l < m->n_layers && st == SPLUT_OK; l++)
        st = check_variances(m, m->layers[l].run_var, m->layers[l].out, s);
    return st;
}

/* A stored hyper-parameter must lie in its key's documented range. */
static splut_status check_value(splut_ctx *ctx, splut_param key, splut_param_type type, double v,
                                size_t at)
{
    const splut__param_def *def = splut__param_find(key);
    if (splut__param_check(key, type, v, def->owner) == SPLUT_OK)
        return SPLUT_OK;
    return splut__fail(ctx, SPLUT_E_FORMAT, "model file: %s = %g at offset %zu is out of range",
                       splut_param_name(key), v, at);
}

/* Integers beyond ±2^53 would round when converted for the range check;
 * every integer key's range lies well inside that. */
static splut_status check_int(splut_ctx *ctx, splut_param key, int64_t v, size_t at)
{
    const int64_t exact = (int64_t)1 << 53;
    if (v < -exact || v > exact)
        return splut__fail(ctx, SPLUT_E_FORMAT,
                           "model file: %s = %lld at offset %zu is out of range",
                           splut_param_name(key), (long long)v, at);
    return check_value(ctx, key, SPLUT_PARAM_INT, (double)v, at);
}

static splut_status read_preset(splut_model *m, const uint8_t *p, size_t at)
{
    const uint8_t *name = p + at;
    size_t len = 0;
    while (len < PRESET_LEN && name[len])
        len++;
    for (size_t i = 0; i < PRESET_LEN; i++) {
        bool ok = i < len ? name[i] >= 0x20 && name[i] <= 0x7e : name[i] == 0;
        if (!ok || len == PRESET_LEN)
            return splut__fail(m->ctx, SPLUT_E_FORMAT,
                               "model file: preset name at offset %zu is not NUL-terminated "
                               "printable ASCII padded with zeros (byte %zu)",
                               at, len == PRESET_LEN ? PRESET_LEN - 1 : i);
    }
    memcpy(m->preset, name, len);
    m->preset[len] = '\0';
    return SPLUT_OK;
}

/* Version 1 files predate the saved GroupSum temperature: its default. */
static splut_status read_meta(splut_model *m, const uint8_t *p, const section *s,
                              uint32_t version)
{
    splut_ctx *ctx = m->ctx;
    size_t o = s->off;
    double lr = rd_f64(p, o), wd = rd_f64(p, o + 8), acc = rd_f64(p, o + 40);
    double tau = version < 2 ? splut__param_find(SPLUT_P_GROUPSUM_TAU)->dflt : rd_f64(p, o + 80);
    int64_t batch = rd_i64(p, o + 16), epochs = rd_i64(p, o + 24), trained = rd_i64(p, o + 32);
    splut_status st = check_value(ctx, SPLUT_P_RECIPE_LR, SPLUT_PARAM_DOUBLE, lr, o);
    if (st == SPLUT_OK)
        st = check_value(ctx, SPLUT_P_RECIPE_WD, SPLUT_PARAM_DOUBLE, wd, o + 8);
    if (st == SPLUT_OK)
        st = check_int(ctx, SPLUT_P_RECIPE_BATCH, batch, o + 16);
    if (st == SPLUT_OK)
        st = check_int(ctx, SPLUT_P_RECIPE_EPOCHS, epochs, o + 24);
    if (st == SPLUT_OK)
        st = check_int(ctx, SPLUT_P_EPOCHS_TRAINED, trained, o + 32);
    if (st == SPLUT_OK)
        st = check_value(ctx, SPLUT_P_TEST_ACCURACY, SPLUT_PARAM_DOUBLE, acc, o + 40);
    if (st == SPLUT_OK)
        st = read_preset(m, p, o + 48);
    if (st == SPLUT_OK)
        st = check_value(ctx, SPLUT_P_GROUPSUM_TAU, SPLUT_PARAM_DOUBLE, tau, o + 80);
    if (st != SPLUT_OK)
        return st;
    m->groupsum_tau = tau;
    m->recipe_lr = lr;
    m->recipe_wd = wd;
    m->recipe_batch = batch;
    m->recipe_epochs = epochs;
    m->epochs_trained = trained;
    m->test_accuracy = acc;
    return SPLUT_OK;
}

static void trainer_image_free(splut_ctx *ctx, trainer_image *ti)
{
    splut__free(ctx, ti->m1);
    splut__free(ctx, ti->m2);
    ti->m1 = ti->m2 = NULL;
}

/* TRNR scalars: each within its key's range; the switch flag 0 or 1. */
static splut_status read_trainer_hyper(splut_ctx *ctx, const uint8_t *p, size_t o,
                                       trainer_image *t)
{
    trainer_keys keys;
    splut_status st = trainer_keys_of(ctx, &keys);
    for (size_t k = 0; k < TRNR_F64 && st == SPLUT_OK; k++) {
        t->f[k] = rd_f64(p, o + TRNR_F64_AT[k]);
        st = check_value(ctx, keys.f[k], SPLUT_PARAM_DOUBLE, t->f[k], o + TRNR_F64_AT[k]);
    }
    for (size_t k = 0; k < TRNR_I64 && st == SPLUT_OK; k++) {
        size_t at = o + 48 + 8 * k;
        t->i[k] = rd_i64(p, at);
        st = check_int(ctx, keys.i[k], t->i[k], at);
    }
    if (st != SPLUT_OK)
        return st;
    uint32_t sw = rd_u32(p, o + TRNR_SWITCHED), reserved = rd_u32(p, o + TRNR_SWITCHED + 4);
    if (sw > 1 || reserved)
        return splut__fail(ctx, SPLUT_E_FORMAT,
                           "model file: connectivity-switched flag %u / reserved %u at offset "
                           "%zu must be 0 or 1 / 0",
                           sw, reserved, o + TRNR_SWITCHED);
    t->conn_switched = sw == 1;
    return SPLUT_OK;
}

/* AdamW moments: finite, second moments non-negative. */
static splut_status check_moments(splut_ctx *ctx, const uint8_t *p, size_t m1_at, size_t m2_at,
                                  size_t n)
{
    for (size_t i = 0; i < n; i++) {
        float a = rd_f32(p, m1_at + 4 * i), b = rd_f32(p, m2_at + 4 * i);
        if (!isfinite(a))
            return splut__fail(ctx, SPLUT_E_FORMAT,
                               "model file: first moment %zu at offset %zu is not finite", i,
                               m1_at + 4 * i);
        if (!isfinite(b) || b < 0.0f)
            return splut__fail(ctx, SPLUT_E_FORMAT,
                               "model file: second moment %zu at offset %zu is negative or not "
                               "finite",
                               i, m2_at + 4 * i);
    }
    return SPLUT_OK;
}

/* TRNR: validated always; copied into *ti only when the caller wants it. */
static splut_status read_trainer(const splut_model *m, const uint8_t *p, const section *s,
                                 trainer_image *ti)
{
    splut_ctx *ctx = m->ctx;
    if (s->len < TRNR_FIXED)
        return splut__fail(ctx, SPLUT_E_FORMAT,
                           "model file: TRNR section at offset %zu has %zu bytes, needs at least "
                           "%u",
                           s->off, s->len, TRNR_FIXED);
    size_t o = s->off;
    uint64_t n = rd_u64(p, o + TRNR_FIXED - 8);
    if (n != m->n_params)
        return splut__fail(ctx, SPLUT_E_FORMAT,
                           "model file: trainer moment count %llu at offset %zu differs from the "
                           "model's %zu parameters",
                           (unsigned long long)n, o + TRNR_FIXED - 8, m->n_params);
    trainer_image t;
    memset(&t, 0, sizeof(t));
    size_t m1_at = o + TRNR_FIXED, m2_at = m1_at + 4 * (size_t)n;
    splut_status st = expect_len(ctx, s, S_TRNR, n, 8, TRNR_FIXED);
    if (st == SPLUT_OK)
        st = read_trainer_hyper(ctx, p, o, &t);
    if (st == SPLUT_OK)
        st = check_moments(ctx, p, m1_at, m2_at, (size_t)n);
    if (st != SPLUT_OK || !ti)
        return st;
    t.m1 = splut__calloc(ctx, n ? n : 1, sizeof(float));
    t.m2 = splut__calloc(ctx, n ? n : 1, sizeof(float));
    if (!t.m1 || !t.m2) {
        trainer_image_free(ctx, &t);
        return splut__fail(ctx, SPLUT_E_NOMEM, "out of memory reading trainer moments");
    }
    for (size_t i = 0; i < n; i++) {
        t.m1[i] = rd_f32(p, m1_at + 4 * i);
        t.m2[i] = rd_f32(p, m2_at + 4 * i);
    }
    *ti = t;
    return SPLUT_OK;
}

/* Everything after the envelope: sections into a new, built model. */
static splut_status parse_body(splut_ctx *ctx, const uint8_t *p, const section *sec,
                               uint32_t version, bool has_trainer, splut_model **out,
                               trainer_image *ti)
{
    uint64_t n_params = 0, n_state = 0;
    splut_model *m = NULL;
    splut_status st = define_model(ctx, p, &sec[S_ARCH], version, &m, &n_params, &n_state);
    if (st != SPLUT_OK)
        return st;
    st = check_sizes(m, sec, n_params, n_state, version);
    if (st == SPLUT_OK)
        st = splut__model_alloc_params(m);
    if (st == SPLUT_OK && (m->n_params != n_params || m->n_state != n_state))
        st = splut__fail(ctx, SPLUT_E_FORMAT,
                         "model file: ARCH (offset %zu) stores %llu parameters and %llu state "
                         "values, the architecture has %zu and %zu",
                         sec[S_ARCH].off + 16, (unsigned long long)n_params,
                         (unsigned long long)n_state, m->n_params, m->n_state);
    if (st == SPLUT_OK)
        st = read_conn(m, p, &sec[S_CONN]);
    if (st == SPLUT_OK)
        st = read_floats(ctx, p, &sec[S_PARM], m->params, m->n_params, "parameter");
    if (st == SPLUT_OK)
        st = read_state(m, p, &sec[S_STAT]);
    if (st == SPLUT_OK)
        st = read_meta(m, p, &sec[S_META], version);
    if (st == SPLUT_OK && has_trainer)
        st = read_trainer(m, p, &sec[S_TRNR], ti);
    if (st != SPLUT_OK) {
        splut_model_destroy(m);
        return st;
    }
    m->built = true;
    *out = m;
    return SPLUT_OK;
}

/* Validate and decode a whole file. With ti != NULL the file must carry
 * trainer state, which is returned in *ti (caller frees). */
static splut_status parse(splut_ctx *ctx, const uint8_t *p, size_t size, splut_model **out,
                          trainer_image *ti)
{
    uint32_t flags = 0, version = 0;
    splut_status st = check_envelope(ctx, p, size, &flags, &version);
    if (st != SPLUT_OK)
        return st;
    bool has_trainer = (flags & SPLUT_MODEL_FLAG_TRAINER) != 0;
    if (ti && !has_trainer)
        return splut__fail(ctx, SPLUT_E_FORMAT,
                           "model file: no trainer state (flags at offset 12 are 0x%08x); it was "
                           "written by splut_model_save, not splut_trainer_save",
                           flags);
    section sec[S_COUNT];
    memset(sec, 0, sizeof(sec));
    st = scan_sections(ctx, p, size, has_trainer, sec);
    if (st != SPLUT_OK)
        return st;
    return parse_body(ctx, p, sec, version, has_trainer, out, ti);
}

splut_status splut_model_deserialize(splut_ctx *ctx, const void *buf, size_t size,
                                     splut_model **out)
{
    if (!ctx)
        return SPLUT_E_NULL;
    if (!out || !buf)
        return splut__fail(ctx, SPLUT_E_NULL, "splut_model_deserialize: %s is NULL",
                           out ? "buf" : "out");
    *out = NULL;
    return parse(ctx, buf, size, out, NULL);
}

/* ============================================================ public */

static splut_status save(const splut_model *m, const splut_trainer *t, const char *path)
{
    uint8_t *buf = NULL;
    size_t n = 0;
    splut_status st = serialize_alloc(m, t, &buf, &n);
    if (st != SPLUT_OK)
        return st;
    st = splut__write_file_atomic(m->ctx, path, buf, n);
    splut__free(m->ctx, buf);
    return st;
}

splut_status splut_model_save(const splut_model *m, const char *path)
{
    if (!m)
        return SPLUT_E_NULL;
    if (!path)
        return splut__fail(m->ctx, SPLUT_E_NULL, "splut_model_save: path is NULL");
    splut_status st = check_savable(m);
    return st == SPLUT_OK ? save(m, NULL, path) : st;
}

/* Load and decode a file; prefixes failures with the path. */
static splut_status load(splut_ctx *ctx, const char *path, splut_model **out, trainer_image *ti)
{
    uint8_t *buf = NULL;
    size_t n = 0;
    splut_status st = splut__read_file(ctx, path, UINT64_MAX, &buf, &n);
    if (st != SPLUT_OK)
        return st;
    st = parse(ctx, buf, n, out, ti);
    splut__free(ctx, buf);
    if (st != SPLUT_OK && st != SPLUT_E_NOMEM) {
        char where[SPLUT_ERR_LEN];
        snprintf(where, sizeof(where), "'%s'", path);
        char inner[SPLUT_ERR_LEN];
        snprintf(inner, sizeof(inner), "%s", splut_ctx_last_error(ctx));
        return splut__fail(ctx, st, "%s: %s", where, inner);
    }
    return st;
}

splut_status splut_model_load(splut_ctx *ctx, const char *path, splut_model **out)
{
    if (!ctx)
        return SPLUT_E_NULL;
    if (!path || !out)
        return splut__fail(ctx, SPLUT_E_NULL, "splut_model_load: %s is NULL",
                           path ? "out" : "path");
    *out = NULL;
    return load(ctx, path, out, NULL);
}

splut_status splut_trainer_save(const splut_trainer *t, const char *path)
{
    if (!t)
        return SPLUT_E_NULL;
    if (!path)
        return splut__fail(t->model->ctx, SPLUT_E_NULL, "splut_trainer_save: path is NULL");
    if (t->connect)
        return splut__fail(t->model->ctx, SPLUT_E_STATE,
                           "phase 1 of learned connectivity cannot be checkpointed yet; "
                           "checkpoints resume from the switch epoch on");
    return save(t->model, t, path);
}

/* Same definition: input shape and mode, and every layer description. */
static splut_status same_arch(const splut_model *a, const splut_model *b)
{
    if (a->n_inputs != b->n_inputs || a->input_bits != b->input_bits ||
        a->input_mode != b->input_mode || a->n_layers != b->n_layers || a->map_k != b->map_k)
        return splut__fail(a->ctx, SPLUT_E_INVALID,
                           "trainer file: the file's model (%u inputs × %u bits, mode %lld, %zu "
                           "layers) differs from the trainer's (%u × %u bits, mode %lld, %zu)",
                           b->n_inputs, b->input_bits, (long long)b->input_mode, b->n_layers,
                           a->n_inputs, a->input_bits, (long long)a->input_mode, a->n_layers);
    for (size_t l = 0; l < a->n_layers; l++) {
        const splut_layer *x = &a->layers[l], *y = &b->layers[l];
        if (x->kind != y->kind || x->out != y->out || x->F != y->F || x->D != y->D ||
            x->A != y->A || x->N != y->N || x->out_bits != y->out_bits)
            return splut__fail(a->ctx, SPLUT_E_INVALID,
                               "trainer file: layer %zu differs from the trainer's model", l);
    }
    return SPLUT_OK;
}

/* Replace the live model's values with the loaded ones (same architecture). */
static void adopt_model(splut_model *dst, const splut_model *src)
{
    memcpy(dst->params, src->params, src->n_params * sizeof(float));
    memcpy(dst->state, src->state, src->n_state * sizeof(float));
    for (size_t l = 0; l < src->n_layers; l++) {
        const splut_layer *L = &src->layers[l];
        memcpy(dst->layers[l].conn, L->conn, (size_t)L->out * L->A * L->F * sizeof(uint32_t));
    }
    if (src->map_k)
        memcpy(dst->map_cand, src->map_cand,
               (size_t)src->layers[0].out * src->layers[0].F * src->map_k * sizeof(uint32_t));
    dst->recipe_lr = src->recipe_lr;
    dst->recipe_wd = src->recipe_wd;
    dst->recipe_batch = src->recipe_batch;
    dst->recipe_epochs = src->recipe_epochs;
    dst->epochs_trained = src->epochs_trained;
    dst->test_accuracy = src->test_accuracy;
    dst->groupsum_tau = src->groupsum_tau;
    memcpy(dst->preset, src->preset, sizeof(dst->preset));
}

/* The loaded moments belong to the loaded connectivity: make sure the next
 * step does not reset them for neurons mutated before the load. */
static void mark_mutations_seen(splut_trainer *t)
{
    const splut_model *m = t->model;
    uint32_t *seen = t->seen_mutations;
    if (!seen)
        return;
    for (size_t l = 0; l < m->n_layers; l++) {
        const splut_layer *L = &m->layers[l];
        if (L->mutations)
            memcpy(seen, L->mutations, L->out * sizeof(uint32_t));
        seen += L->out;
    }
}

/* Take over a parsed trainer file (model @p m, trainer image @p ti): all or
 * nothing. Frees neither. */
static splut_status trainer_adopt(splut_trainer *t, const splut_model *m, trainer_image *ti)
{
    splut_model *live = t->model;
    splut_ctx *ctx = live->ctx;
    splut_status st = same_arch(live, m);
    if (st != SPLUT_OK)
        return st;
    /* Nothing below can fail: the trainer changes completely or not at all. */
    adopt_model(live, m);
    if (t->m1 && t->m2) {
        memcpy(t->m1, ti->m1, live->n_params * sizeof(float));
        memcpy(t->m2, ti->m2, live->n_params * sizeof(float));
    } else { /* moments not allocated yet: hand over the loaded ones */
        splut__free(ctx, t->m1);
        splut__free(ctx, t->m2);
        t->m1 = ti->m1;
        t->m2 = ti->m2;
        ti->m1 = ti->m2 = NULL;
    }
    trainer_keys keys; /* checked against the layout when the file was read */
    (void)trainer_keys_of(ctx, &keys);
    trainer_image_apply(ti, &keys, t);
    /* A file never holds phase-1 state (splut_trainer_save refuses it): a
     * phase the live trainer was in is abandoned; the next step restarts
     * it if the loaded step still lies before the switch. */
    splut__connect_destroy(ctx, t->connect);
    t->connect = NULL;
    mark_mutations_seen(t);
    return SPLUT_OK;
}

splut_status splut_trainer_load(splut_trainer *t, const char *path)
{
    if (!t)
        return SPLUT_E_NULL;
    splut_ctx *ctx = t->model->ctx;
    if (!path)
        return splut__fail(ctx, SPLUT_E_NULL, "splut_trainer_load: path is NULL");
    splut_model *m = NULL;
    trainer_image ti;
    memset(&ti, 0, sizeof(ti));
    splut_status st = load(ctx, path, &m, &ti);
    if (st == SPLUT_OK)
        st = trainer_adopt(t, m, &ti);
    trainer_image_free(ctx, &ti);
    splut_model_destroy(m);
    return st;
}

/* ============================================================ private */

splut_status splut__trainer_serialize(const splut_trainer *t, uint8_t **out, size_t *size)
{
    if (t->connect)
        return splut__fail(t->model->ctx, SPLUT_E_STATE,
                           "phase 1 of learned connectivity cannot be checkpointed; "
                           "checkpoints resume from the switch epoch on");
    return serialize_alloc(t->model, t, out, size);
}

splut_status splut__model_serialize_alloc(const splut_model *m, uint8_t **out, size_t *size)
{
    splut_status st = check_savable(m);
    return st == SPLUT_OK ? serialize_alloc(m, NULL, out, size) : st;
}

splut_status splut__trainer_restore(splut_trainer *t, const uint8_t *buf, size_t size)
{
    splut_ctx *ctx = t->model->ctx;
    splut_model *m = NULL;
    trainer_image ti;
    memset(&ti, 0, sizeof(ti));
    splut_status st = parse(ctx, buf, size, &m, &ti);
    if (st == SPLUT_OK)
        st = trainer_adopt(t, m, &ti);
    trainer_image_free(ctx, &ti);
    splut_model_destroy(m);
    return st;
}
