/*
 * Run checkpoints: one versioned, checksummed file with everything a resume
 * needs (docs/checkpoint-format.md), written by one atomic replace, so that
 * at any instant the file on disk is either the previous checkpoint or the
 * new one, and each of them resumes to the same final model.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "bytes-priv.h"
#include "fileio-priv.h"
#include "modelio-priv.h"
#include "run-int.h"

#define CKPT_MAGIC "SPLUTRUN"
#define CKPT_VERSION 1u
#define CKPT_HEADER 24u  /* magic, version, flags, file size */
#define CKPT_SECTION 12u /* tag, length */
#define RUNS_SIZE 144u
#define HIST_SIZE 184u   /* one epoch record */

enum { C_RUNS, C_HIST, C_TRNR, C_EMAV, C_EVAL, C_BEST, C_COUNT };
static const char CKPT_TAGS[C_COUNT][5] = {"RUNS", "HIST", "TRNR", "EMAV", "EVAL", "BEST"};

/* The serialised models a checkpoint embeds (context allocator). */
typedef struct ckpt_blobs {
    uint8_t *trainer, *eval, *best;
    size_t trainer_len, eval_len, best_len;
} ckpt_blobs;

/* ============================================================== writing */

static size_t begin_section(wbuf *w, int tag)
{
    return put_section_begin(w, CKPT_TAGS[tag]);
}

static void emit_runs(wbuf *w, const splut_run *r, uint64_t step)
{
    const splut_run_cfg *c = &r->cfg;
    size_t at = begin_section(w, C_RUNS);
    uint64_t u[9] = {r->done,       step,     c->seed,      c->batch,       c->restart_epochs,
                     c->bn_freeze, c->shift, c->keep_best, c->bn_calibrate};
    for (int k = 0; k < 9; k++)
        put_u64(w, u[k]);
    put_f64(w, c->ema);
    put_f64(w, c->alpha);
    put_f64(w, c->temperature);
    put_u64(w, splut_dataset_fingerprint(r->train));
    put_u64(w, r->test ? splut_dataset_fingerprint(r->test) : 0);
    put_u64(w, r->teacher.m ? r->teacher.fingerprint : 0);
    put_u64(w, r->best_epoch);
    put_f64(w, r->best_acc);
    put_u64(w, c->epochs);
    put_section_end(w, at);
}

static void emit_record(wbuf *w, const splut_run_record *e)
{
    put_u64(w, e->epoch);
    double d[5] = {e->loss, e->train_accuracy, e->test_accuracy, e->live_test_accuracy,
                   e->seconds};
    for (int k = 0; k < 5; k++)
        put_f64(w, d[k]);
    put_u32(w, e->n_layers);
    put_u32(w, 0);
    for (int l = 0; l < SPLUT__RUN_CURVE; l++)
        put_u64(w, e->active[l]);
}

static void emit_blob(wbuf *w, int tag, const uint8_t *p, size_t n)
{
    size_t at = begin_section(w, tag);
    put_bytes(w, p, n);
    put_section_end(w, at);
}

static void emit_checkpoint(wbuf *w, const splut_run *r, const ckpt_blobs *b, uint64_t step)
{
    put_bytes(w, CKPT_MAGIC, 8);
    put_u32(w, CKPT_VERSION);
    put_u32(w, 0);
    size_t size_at = w->pos;
    put_u64(w, 0);
    emit_runs(w, r, step);
    size_t at = begin_section(w, C_HIST);
    for (size_t i = 0; i < r->nhist; i++)
        emit_record(w, &r->hist[i]);
    put_section_end(w, at);
    emit_blob(w, C_TRNR, b->trainer, b->trainer_len);
    at = begin_section(w, C_EMAV);
    for (size_t i = 0; i < r->avg.n_params; i++)
        put_f32(w, r->avg.ema[i]);
    put_section_end(w, at);
    emit_blob(w, C_EVAL, b->eval, b->eval_len);
    emit_blob(w, C_BEST, b->best, b->best_len);
    put_patch_u64(w, size_at, (uint64_t)w->pos + 4);
    put_u32(w, w->p ? splut__crc32(0, w->p, w->pos) : 0);
}

static void free_blobs(splut_ctx *ctx, ckpt_blobs *b)
{
    splut__free(ctx, b->trainer);
    splut__free(ctx, b->eval);
    splut__free(ctx, b->best);
}

static splut_status serialize_blobs(const splut_run *r, ckpt_blobs *b)
{
    splut_status st = splut__trainer_serialize(r->t, &b->trainer, &b->trainer_len);
    if (st == SPLUT_OK && r->evalm != r->m)
        st = splut__model_serialize_alloc(r->evalm, &b->eval, &b->eval_len);
    if (st == SPLUT_OK && r->best)
        st = splut__model_serialize_alloc(r->best, &b->best, &b->best_len);
    return st;
}

splut_status splut_run_save_checkpoint(const splut_run *r, const char *path)
{
    if (!r)
        return SPLUT_E_NULL;
    if (!path)
        return splut__fail(r->ctx, SPLUT_E_NULL, "splut_run_save_checkpoint: path is NULL");
    if (r->ep.active)
        return splut__fail(r->ctx, SPLUT_E_STATE,
                           "a checkpoint is written between epochs; epoch %llu is unfinished",
                           (unsigned long long)r->ep.epoch);
    int64_t step = 0;
    splut_trainer_get_int(r->t, SPLUT_P_STEP, &step);
    ckpt_blobs b = {0};
    splut_status st = serialize_blobs(r, &b);
    uint8_t *buf = NULL;
    wbuf w = {NULL, 0, 0};
    if (st == SPLUT_OK) {
        emit_checkpoint(&w, r, &b, (uint64_t)step);
        buf = splut__alloc(r->ctx, w.pos);
        if (!buf)
            st = splut__fail(r->ctx, SPLUT_E_NOMEM, "out of memory for a checkpoint (%zu bytes)",
                             w.pos);
    }
    if (st == SPLUT_OK) {
        size_t n = w.pos;
        w = (wbuf){buf, n, 0};
        emit_checkpoint(&w, r, &b, (uint64_t)step);
        st = splut__write_file_atomic(r->ctx, path, buf, n);
    }
    splut__free(r->ctx, buf);
    free_blobs(r->ctx, &b);
    return st;
}

/* ============================================================== reading */

typedef struct span {
    size_t off, len;
} span;

/* Everything a checkpoint holds, decoded and checked, before the run takes it. */
typedef struct ckpt_image {
    splut_run_cfg cfg;
    uint64_t done, step, fp_train, fp_test, fp_teacher, best_epoch;
    double best_acc;
    splut_run_record *hist;
    float *ema, *scratch; /* the average and its work buffer */
    size_t n_ema;
    splut_model *eval, *best;
    span trainer;
} ckpt_image;

static splut_status bad(const splut_ctx *ctx, splut_status st, const char *fmt, const char *a,
                        unsigned long long v)
{
    char msg[256];
    snprintf(msg, sizeof msg, fmt, a, v);
    return splut__fail(ctx, st, "checkpoint: %s", msg);
}

static splut_status check_envelope(splut_ctx *ctx, const uint8_t *p, size_t size)
{
    if (size < CKPT_HEADER + 4)
        return bad(ctx, SPLUT_E_FORMAT, "%s%llu bytes: truncated", "", size);
    if (memcmp(p, CKPT_MAGIC, 8) != 0)
        return splut__fail(ctx, SPLUT_E_FORMAT,
                           "checkpoint: bad magic at offset 0 (not a run checkpoint)");
    if (rd_u64(p, 16) != (uint64_t)size)
        return bad(ctx, SPLUT_E_FORMAT, "%sheader declares %llu bytes (truncated or padded)",
                   "", rd_u64(p, 16));
    if (rd_u32(p, size - 4) != splut__crc32(0, p, size - 4))
        return bad(ctx, SPLUT_E_CHECKSUM, "%sCRC-32 mismatch at offset %llu (file corrupted)",
                   "", size - 4);
    if (rd_u32(p, 8) != CKPT_VERSION)
        return bad(ctx, SPLUT_E_VERSION, "%sformat version %llu is not supported", "",
                   rd_u32(p, 8));
    if (rd_u32(p, 12) != 0)
        return bad(ctx, SPLUT_E_FORMAT, "%sunknown flags 0x%llx", "", rd_u32(p, 12));
    return SPLUT_OK;
}

static splut_status scan(splut_ctx *ctx, const uint8_t *p, size_t size, span *sec)
{
    size_t pos = CKPT_HEADER, end = size - 4;
    for (int s = 0; s < C_COUNT; s++) {
        if (end - pos < CKPT_SECTION || memcmp(p + pos, CKPT_TAGS[s], 4) != 0)
            return bad(ctx, SPLUT_E_FORMAT, "section %s expected at offset %llu",
                       CKPT_TAGS[s], pos);
        uint64_t len = rd_u64(p, pos + 4);
        if (len > end - pos - CKPT_SECTION)
            return bad(ctx, SPLUT_E_FORMAT, "section %s declares %llu bytes, more than remain",
                       CKPT_TAGS[s], len);
        sec[s].off = pos + CKPT_SECTION;
        sec[s].len = (size_t)len;
        pos = sec[s].off + sec[s].len;
    }
    if (pos != end)
        return bad(ctx, SPLUT_E_FORMAT, "%s%llu unexpected bytes after the last section", "",
                   end - pos);
    return SPLUT_OK;
}

/* A run key's value from a file: within the key's bounds. */
static splut_status check_key(splut_ctx *ctx, splut_param key, splut_param_type type, double v)
{
    if (splut__param_check(key, type, v, SPLUT_OWNER_RUN) == SPLUT_OK)
        return SPLUT_OK;
    return splut__fail(ctx, SPLUT_E_FORMAT, "checkpoint: run state field '%s' = %g is out of "
                                            "range", splut_param_name(key), v);
}

static splut_status read_runs(splut_ctx *ctx, const uint8_t *p, span s, ckpt_image *im)
{
    if (s.len != RUNS_SIZE)
        return bad(ctx, SPLUT_E_FORMAT, "section %s has %llu bytes", "RUNS", s.len);
    size_t o = s.off;
    splut_run_cfg *c = &im->cfg;
    uint64_t *u[9] = {&im->done,         &im->step,  &c->seed,      &c->batch,
                      &c->restart_epochs, &c->bn_freeze, &c->shift, &c->keep_best,
                      &c->bn_calibrate};
    for (int k = 0; k < 9; k++)
        *u[k] = rd_u64(p, o + 8 * (size_t)k);
    c->ema = rd_f64(p, o + 72);
    c->alpha = rd_f64(p, o + 80);
    c->temperature = rd_f64(p, o + 88);
    im->fp_train = rd_u64(p, o + 96);
    im->fp_test = rd_u64(p, o + 104);
    im->fp_teacher = rd_u64(p, o + 112);
    im->best_epoch = rd_u64(p, o + 120);
    im->best_acc = rd_f64(p, o + 128);
    c->epochs = rd_u64(p, o + 136);
    const struct {
        splut_param key;
        double v;
    } ints[] = {{SPLUT_P_RUN_EPOCHS_DONE, (double)im->done},
                {SPLUT_P_RUN_SEED, (double)c->seed},
                {SPLUT_P_RUN_BATCH, (double)c->batch},
                {SPLUT_P_RUN_RESTART_EPOCHS, (double)c->restart_epochs},
                {SPLUT_P_RUN_BN_FREEZE, (double)c->bn_freeze},
                {SPLUT_P_RUN_SHIFT, (double)c->shift},
                {SPLUT_P_RUN_KEEP_BEST, (double)c->keep_best},
                {SPLUT_P_RUN_BN_CALIBRATE, (double)c->bn_calibrate},
                {SPLUT_P_RUN_BEST_EPOCH, (double)im->best_epoch}};
    splut_status st = SPLUT_OK;
    for (size_t k = 0; st == SPLUT_OK && k < sizeof ints / sizeof ints[0]; k++)
        st = check_key(ctx, ints[k].key, SPLUT_PARAM_INT, ints[k].v);
    if (st == SPLUT_OK)
        st = check_key(ctx, SPLUT_P_RUN_EMA, SPLUT_PARAM_DOUBLE, c->ema);
    if (st == SPLUT_OK)
        st = check_key(ctx, SPLUT_P_RUN_DISTILL_ALPHA, SPLUT_PARAM_DOUBLE, c->alpha);
    if (st == SPLUT_OK)
        st = check_key(ctx, SPLUT_P_RUN_DISTILL_TEMPERATURE, SPLUT_PARAM_DOUBLE, c->temperature);
    if (st != SPLUT_OK)
        return st;
    if (im->best_epoch > im->done || (im->best_epoch && !c->keep_best))
        return bad(ctx, SPLUT_E_FORMAT, "best epoch %s%llu is not a finished keep-best epoch",
                   "", im->best_epoch);
    if (im->best_epoch && !(im->best_acc >= 0 && im->best_acc <= 1))
        return bad(ctx, SPLUT_E_FORMAT, "best accuracy of epoch %s%llu is not in [0, 1]", "",
                   im->best_epoch);
    return SPLUT_OK;
}

static splut_status read_hist(splut_ctx *ctx, const uint8_t *p, span s, ckpt_image *im)
{
    if (s.len / HIST_SIZE != im->done || s.len % HIST_SIZE)
        return bad(ctx, SPLUT_E_FORMAT, "section %s has %llu bytes for the epochs done", "HIST",
                   s.len);
    im->hist = splut__calloc(ctx, im->done ? im->done : 1, sizeof *im->hist);
    if (!im->hist)
        return splut__fail(ctx, SPLUT_E_NOMEM, "out of memory for the history");
    for (size_t i = 0; i < im->done; i++) {
        size_t o = s.off + i * HIST_SIZE;
        splut_run_record *e = &im->hist[i];
        *e = (splut_run_record)SPLUT_RUN_RECORD_INIT;
        e->epoch = rd_u64(p, o);
        double *d[5] = {&e->loss, &e->train_accuracy, &e->test_accuracy,
                        &e->live_test_accuracy, &e->seconds};
        for (size_t k = 0; k < 5; k++)
            *d[k] = rd_f64(p, o + 8 + 8 * k);
        e->n_layers = rd_u32(p, o + 48);
        for (size_t l = 0; l < SPLUT__RUN_CURVE; l++)
            e->active[l] = rd_u64(p, o + 56 + 8 * l);
        if (e->epoch != i + 1 || e->n_layers > SPLUT__RUN_CURVE || rd_u32(p, o + 52) != 0)
            return bad(ctx, SPLUT_E_FORMAT, "history record %s%llu is malformed", "", i + 1);
    }
    return SPLUT_OK;
}

/* An embedded model of the run's shape, or NULL for an empty section. */
static splut_status read_model(splut_ctx *ctx, const splut_model *like, const uint8_t *p,
                               span s, const char *what, splut_model **out)
{
    *out = NULL;
    if (!s.len)
        return SPLUT_OK;
    splut_status st = splut_model_deserialize(ctx, p + s.off, s.len, out);
    if (st != SPLUT_OK)
        return splut__fail(ctx, st, "checkpoint: %s model: %s", what, splut_ctx_last_error(ctx));
    if (splut_model_num_params(*out) != splut_model_num_params(like) ||
        splut_model_num_inputs(*out) != splut_model_num_inputs(like) ||
        splut_model_num_outputs(*out) != splut_model_num_outputs(like))
        return splut__fail(ctx, SPLUT_E_FORMAT,
                           "checkpoint: the %s model has another shape than the run's", what);
    return SPLUT_OK;
}

static splut_status read_ema(splut_ctx *ctx, size_t n_params, const uint8_t *p, span s,
                             ckpt_image *im)
{
    if (s.len % 4 || (s.len && s.len / 4 != n_params))
        return bad(ctx, SPLUT_E_FORMAT, "section %s has %llu bytes", "EMAV", s.len);
    im->n_ema = s.len / 4;
    if (!im->n_ema)
        return SPLUT_OK;
    im->ema = splut__calloc(ctx, im->n_ema, sizeof *im->ema);
    im->scratch = splut__calloc(ctx, im->n_ema, sizeof *im->scratch);
    if (!im->ema || !im->scratch)
        return splut__fail(ctx, SPLUT_E_NOMEM, "out of memory for the parameter average");
    for (size_t i = 0; i < im->n_ema; i++) {
        im->ema[i] = rd_f32(p, s.off + 4 * i);
        if (!isfinite(im->ema[i]))
            return bad(ctx, SPLUT_E_FORMAT, "%sparameter average value %llu is not finite", "",
                       i);
    }
    return SPLUT_OK;
}

static void image_free(splut_ctx *ctx, ckpt_image *im)
{
    splut__free(ctx, im->hist);
    splut__free(ctx, im->ema);
    splut__free(ctx, im->scratch);
    splut_model_destroy(im->eval);
    splut_model_destroy(im->best);
}

static splut_status decode(const splut_run *r, const uint8_t *p, size_t size, ckpt_image *im)
{
    splut_ctx *ctx = r->ctx;
    span sec[C_COUNT];
    splut_status st = check_envelope(ctx, p, size);
    if (st == SPLUT_OK)
        st = scan(ctx, p, size, sec);
    if (st == SPLUT_OK)
        st = read_runs(ctx, p, sec[C_RUNS], im);
    if (st == SPLUT_OK)
        st = read_hist(ctx, p, sec[C_HIST], im);
    if (st == SPLUT_OK)
        st = read_ema(ctx, splut_model_num_params(r->m), p, sec[C_EMAV], im);
    if (st == SPLUT_OK)
        st = read_model(ctx, r->m, p, sec[C_EVAL], "evaluated", &im->eval);
    if (st == SPLUT_OK)
        st = read_model(ctx, r->m, p, sec[C_BEST], "best", &im->best);
    if (st == SPLUT_OK && !im->best != !im->best_epoch)
        st = bad(ctx, SPLUT_E_FORMAT, "the best model and best epoch %s%llu disagree", "",
                 im->best_epoch);
    im->trainer = sec[C_TRNR];
    return st;
}

/* The run being resumed must see the same data and teacher, and not have more done. */
static splut_status check_match(const splut_run *r, const ckpt_image *im)
{
    if (im->fp_train != splut_dataset_fingerprint(r->train) ||
        im->fp_test != (r->test ? splut_dataset_fingerprint(r->test) : 0))
        return splut__fail(r->ctx, SPLUT_E_INVALID,
                           "checkpoint: the dataset differs from the one the run was trained on "
                           "(fingerprint mismatch)");
    if (im->fp_teacher != (r->teacher.m ? r->teacher.fingerprint : 0))
        return splut__fail(r->ctx, SPLUT_E_INVALID,
                           im->fp_teacher ? "checkpoint: the run was distilled from another "
                                            "teacher; set the same one to resume it"
                                          : "checkpoint: the run was not distilled, but a "
                                            "teacher is set");
    if (im->done > r->cfg.epochs)
        return splut__fail(r->ctx, SPLUT_E_INVALID,
                           "checkpoint: %llu epochs are done, more than epochs %llu",
                           (unsigned long long)im->done, (unsigned long long)r->cfg.epochs);
    return SPLUT_OK;
}

/* Restore the trainer on a copy first: the run's trainer changes only when
 * the embedded file is known to load and to agree with the run state. */
static splut_status check_trainer(const splut_run *r, const uint8_t *p, const ckpt_image *im)
{
    splut_model *copy = NULL;
    splut_trainer *t = NULL;
    splut_status st = splut_model_clone(r->m, &copy);
    if (st == SPLUT_OK)
        st = splut_trainer_create(copy, &t);
    if (st == SPLUT_OK)
        st = splut__trainer_restore(t, p + im->trainer.off, im->trainer.len);
    int64_t step = -1;
    if (st == SPLUT_OK)
        splut_trainer_get_int(t, SPLUT_P_STEP, &step);
    if (st == SPLUT_OK && (uint64_t)step != im->step)
        st = splut__fail(r->ctx, SPLUT_E_FORMAT,
                         "checkpoint: the trainer is at step %lld, the run state says %llu",
                         (long long)step, (unsigned long long)im->step);
    splut_trainer_destroy(t);
    splut_model_destroy(copy);
    return st;
}

/* Take over a checked image; nothing here can fail. */
static void adopt(splut_run *r, ckpt_image *im)
{
    uint64_t epochs = r->cfg.epochs;
    r->cfg = im->cfg;
    r->cfg.epochs = epochs;
    r->switch_set = true;
    r->done = im->done;
    splut__free(r->ctx, r->hist);
    r->hist = im->hist;
    r->nhist = r->cap_hist = im->done;
    im->hist = NULL;
    if (!r->nhist) /* the allocation of an empty history is kept for reuse */
        r->cap_hist = 1;
    r->best_epoch = im->best_epoch;
    r->best_acc = im->best_epoch ? im->best_acc : 0;
    splut_model_destroy(r->best);
    r->best = im->best;
    im->best = NULL;
    splut__avg_free(r->ctx, &r->avg);
    r->avg.ema = im->ema;
    r->avg.scratch = im->scratch;
    r->avg.n_params = im->n_ema;
    im->ema = im->scratch = NULL;
    r->avg.avg = im->eval;
    r->evalm = im->eval ? im->eval : r->m;
    im->eval = NULL;
}

splut_status splut_run_resume(splut_run *r, const char *path)
{
    if (!r)
        return SPLUT_E_NULL;
    if (!path)
        return splut__fail(r->ctx, SPLUT_E_NULL, "splut_run_resume: path is NULL");
    if (r->started)
        return splut__fail(r->ctx, SPLUT_E_STATE, "resume a run before its first epoch");
    uint8_t *buf = NULL;
    size_t n = 0;
    splut_status st = splut__read_file(r->ctx, path, UINT64_MAX, &buf, &n);
    if (st != SPLUT_OK)
        return st;
    ckpt_image im;
    memset(&im, 0, sizeof im);
    st = decode(r, buf, n, &im);
    if (st == SPLUT_OK)
        st = check_match(r, &im);
    if (st == SPLUT_OK)
        st = check_trainer(r, buf, &im);
    if (st == SPLUT_OK) /* the same bytes as check_trainer: cannot fail but for memory */
        st = splut__trainer_restore(r->t, buf + im.trainer.off, im.trainer.len);
    if (st == SPLUT_OK)
        adopt(r, &im);
    image_free(r->ctx, &im);
    splut__free(r->ctx, buf);
    if (st != SPLUT_OK && st != SPLUT_E_NOMEM) {
        char inner[SPLUT_ERR_LEN];
        snprintf(inner, sizeof inner, "%s", splut_ctx_last_error(r->ctx));
        return splut__fail(r->ctx, st, "'%s': %s", path, inner);
    }
    return st;
}

splut_status splut_run_checkpoint_model(splut_ctx *ctx, const char *path, splut_model **out)
{
    if (!ctx)
        return SPLUT_E_NULL;
    if (!path || !out)
        return splut__fail(ctx, SPLUT_E_NULL, "splut_run_checkpoint_model: %s is NULL",
                           path ? "out" : "path");
    *out = NULL;
    uint8_t *buf = NULL;
    size_t n = 0;
    splut_status st = splut__read_file(ctx, path, UINT64_MAX, &buf, &n);
    if (st != SPLUT_OK)
        return st;
    span sec[C_COUNT];
    st = check_envelope(ctx, buf, n);
    if (st == SPLUT_OK)
        st = scan(ctx, buf, n, sec);
    if (st == SPLUT_OK)
        st = splut_model_deserialize(ctx, buf + sec[C_TRNR].off, sec[C_TRNR].len, out);
    splut__free(ctx, buf);
    if (st != SPLUT_OK && st != SPLUT_E_NOMEM) {
        char inner[SPLUT_ERR_LEN];
        snprintf(inner, sizeof inner, "%s", splut_ctx_last_error(ctx));
        return splut__fail(ctx, st, "'%s': %s", path, inner);
    }
    return st;
}
