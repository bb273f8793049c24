/*
 * Context: allocator hooks, log callback, error messages, parameters, version.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "model-priv.h"
#include "run-int.h"
#include "train-priv.h"

unsigned splut_version_number(void)
{
    return SPLUT_VERSION_NUMBER;
}

const char *splut_version_string(void)
{
    return SPLUT_VERSION_STRING;
}

const char *splut_status_str(splut_status status)
{
    switch (status) {
    case SPLUT_OK: return "success";
    case SPLUT_E_NULL: return "required pointer argument is NULL";
    case SPLUT_E_INVALID: return "invalid argument";
    case SPLUT_E_OUT_OF_RANGE: return "value out of range";
    case SPLUT_E_PARAM_TYPE: return "parameter used with the wrong type";
    case SPLUT_E_UNKNOWN_PARAM: return "unknown parameter";
    case SPLUT_E_UNKNOWN_PRESET: return "unknown preset";
    case SPLUT_E_FAN_IN: return "fan-in larger than the layer input";
    case SPLUT_E_TABLE_TOO_LARGE: return "truth table above the size limit";
    case SPLUT_E_NON_FINITE: return "non-finite value in the data";
    case SPLUT_E_INDEX: return "index out of range";
    case SPLUT_E_BUFFER_TOO_SMALL: return "buffer too small";
    case SPLUT_E_LABEL: return "label out of range";
    case SPLUT_E_CONNECTIVITY: return "invalid connectivity";
    case SPLUT_E_STATE: return "call not valid in the current state";
    case SPLUT_E_DIVERGED: return "training diverged (non-finite loss)";
    case SPLUT_E_CANCELLED: return "cancelled by a callback";
    case SPLUT_E_NOMEM: return "out of memory";
    case SPLUT_E_STRUCT_SIZE: return "unknown struct size";
    case SPLUT_E_IO: return "input/output error";
    case SPLUT_E_FORMAT: return "malformed file";
    case SPLUT_E_VERSION: return "unsupported file version";
    case SPLUT_E_CHECKSUM: return "checksum mismatch";
    }
    return "unknown status";
}

/* ------------------------------------------------------------- allocation */

static void *default_alloc(void *user, size_t size, size_t align)
{
    (void)user;
    void *p = NULL;
    if (posix_memalign(&p, align, size ? size : 1) != 0)
        return NULL;
    return p;
}

static void default_free(void *user, void *p)
{
    (void)user;
    free(p);
}

size_t splut__mul(size_t n, size_t size)
{
    if (size && n > SIZE_MAX / size)
        return SIZE_MAX;
    return n * size;
}

void *splut__alloc(splut_ctx *ctx, size_t size)
{
    if (size == SIZE_MAX)
        return NULL;
    return ctx->alloc.alloc(ctx->alloc.user, size, 64);
}

void *splut__calloc(splut_ctx *ctx, size_t n, size_t size)
{
    size_t bytes = splut__mul(n, size);
    void *p = splut__alloc(ctx, bytes);
    if (p)
        memset(p, 0, bytes);
    return p;
}

void splut__free(splut_ctx *ctx, void *p)
{
    if (p)
        ctx->alloc.free(ctx->alloc.user, p);
}

void splut_free(splut_ctx *ctx, void *ptr)
{
    if (ctx)
        splut__free(ctx, ptr);
}

/* ----------------------------------------------------------------- context */

splut_status splut_ctx_create(const splut_allocator *alloc, splut_ctx **out)
{
    if (!out)
        return SPLUT_E_NULL;
    *out = NULL;
    splut_allocator a = {default_alloc, default_free, NULL};
    if (alloc) {
        if (!alloc->alloc || !alloc->free)
            return SPLUT_E_INVALID;
        a = *alloc;
    }
    splut_ctx *ctx = a.alloc(a.user, sizeof(*ctx), 64);
    if (!ctx)
        return SPLUT_E_NOMEM;
    memset(ctx, 0, sizeof(*ctx));
    ctx->alloc = a;
    ctx->log_max = SPLUT_LOG_WARN;
    splut__param_defaults(SPLUT_OWNER_CTX, ctx);
    ctx->refcount = 1;
    if (pthread_mutex_init(&ctx->lock, NULL) != 0) {
        a.free(a.user, ctx);
        return SPLUT_E_NOMEM;
    }
    *out = ctx;
    return SPLUT_OK;
}

splut_ctx *splut_ctx_ref(splut_ctx *ctx)
{
    if (ctx) {
        pthread_mutex_lock(&ctx->lock);
        ctx->refcount++;
        pthread_mutex_unlock(&ctx->lock);
    }
    return ctx;
}

void splut_ctx_unref(splut_ctx *ctx)
{
    if (!ctx)
        return;
    pthread_mutex_lock(&ctx->lock);
    int left = --ctx->refcount;
    pthread_mutex_unlock(&ctx->lock);
    if (left > 0)
        return;
    pthread_mutex_destroy(&ctx->lock);
    splut_allocator a = ctx->alloc;
    a.free(a.user, ctx);
}

splut_status splut_ctx_set_log(splut_ctx *ctx, splut_log_fn fn, void *user,
                               splut_log_level max_level)
{
    if (!ctx)
        return SPLUT_E_NULL;
    if ((int)max_level < SPLUT_LOG_ERROR || max_level > SPLUT_LOG_DEBUG)
        return splut__fail(ctx, SPLUT_E_OUT_OF_RANGE, "log level %d not in 0..3",
                           (int)max_level);
    ctx->log_fn = fn;
    ctx->log_user = user;
    ctx->log_max = max_level;
    return SPLUT_OK;
}

const char *splut_ctx_last_error(const splut_ctx *ctx)
{
    return ctx ? ctx->err : "";
}

splut_status splut_ctx_copy_last_error(const splut_ctx *cctx, char *buf, size_t cap,
                                       size_t *needed)
{
    if (!cctx || (!buf && cap))
        return SPLUT_E_NULL;
    splut_ctx *ctx = (splut_ctx *)cctx; /* the lock is the one mutable part */
    pthread_mutex_lock(&ctx->lock);
    size_t len = strlen(ctx->err);
    if (cap) {
        size_t n = len < cap ? len : cap - 1;
        memcpy(buf, ctx->err, n);
        buf[n] = '\0';
    }
    pthread_mutex_unlock(&ctx->lock);
    if (needed)
        *needed = len + 1;
    return len < cap ? SPLUT_OK : SPLUT_E_BUFFER_TOO_SMALL;
}

static void emit_log(const splut_ctx *ctx, splut_log_level lvl, splut_status st,
                     const char *msg)
{
    if (ctx->log_fn && lvl <= ctx->log_max)
        ctx->log_fn(ctx->log_user, lvl, st, msg);
}

splut_status splut__fail(const splut_ctx *cctx, splut_status st, const char *fmt, ...)
{
    /* The message buffer is the one mutable part of a context reachable from
     * const handles; the mutex keeps concurrent readers' failures apart. */
    splut_ctx *ctx = (splut_ctx *)cctx;
    if (!ctx)
        return st;
    char msg[SPLUT_ERR_LEN];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    pthread_mutex_lock(&ctx->lock);
    memcpy(ctx->err, msg, sizeof(msg));
    pthread_mutex_unlock(&ctx->lock);
    emit_log(ctx, SPLUT_LOG_ERROR, st, msg);
    return st;
}

splut_status splut_ctx_set_error(splut_ctx *ctx, splut_status status, const char *msg)
{
    if (!ctx)
        return SPLUT_E_NULL;
    return splut__fail(ctx, status, "%s", msg ? msg : "");
}

void splut__log(const splut_ctx *ctx, splut_log_level lvl, const char *fmt, ...)
{
    if (!ctx || !ctx->log_fn || lvl > ctx->log_max)
        return;
    char msg[SPLUT_ERR_LEN];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    emit_log(ctx, lvl, SPLUT_OK, msg);
}

unsigned splut__threads(const splut_ctx *ctx)
{
    if (ctx->threads > 0)
        return (unsigned)ctx->threads;
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    if (n < 1)
        n = 1;
    if (n > 256)
        n = 256;
    return (unsigned)n;
}

/* ------------------------------------------------------ versioned structs */

splut_status splut__struct_check(const splut_ctx *ctx, const char *name, const void *ptr,
                                 size_t size, const size_t *known, size_t n_known)
{
    for (size_t i = 0; i < n_known; i++)
        if (size == known[i])
            return SPLUT_OK;
    size_t largest = known[n_known - 1];
    if (size < largest)
        return splut__fail(ctx, SPLUT_E_STRUCT_SIZE,
                           "%s.size is %zu, not the size of any release (largest known %zu)",
                           name, size, largest);
    if (size > SPLUT__STRUCT_MAX)
        return splut__fail(ctx, SPLUT_E_STRUCT_SIZE, "%s.size is %zu, above %u", name, size,
                           SPLUT__STRUCT_MAX);
    const unsigned char *tail = (const unsigned char *)ptr + largest;
    for (size_t i = 0; i < size - largest; i++)
        if (tail[i])
            return splut__fail(ctx, SPLUT_E_STRUCT_SIZE,
                               "%s.size is %zu: byte %zu, past the %zu bytes this library "
                               "knows, is not zero (a newer field it cannot honour)",
                               name, size, largest + i, largest);
    return SPLUT_OK;
}

/* -------------------------------------------------------------- parameters */

/* Where a key's value lives: the owner and the offset of an int64_t (I64) or
 * double (F64) field. The sizeof() comparison makes the compiler refuse a
 * field of the wrong type (distinct pointer types), so an integer key can never
 * be wired to a double field or the other way round. */
#define FIELD_AT(T, f, ctype) (offsetof(T, f) + 0 * sizeof((ctype *)0 == &((T *)0)->f))
#define CTX_I64(f) SPLUT_OWNER_CTX, FIELD_AT(struct splut_ctx, f, int64_t)
#define MODEL_I64(f) SPLUT_OWNER_MODEL, FIELD_AT(struct splut_model, f, int64_t)
#define MODEL_F64(f) SPLUT_OWNER_MODEL, FIELD_AT(struct splut_model, f, double)
#define TRAINER_I64(f) SPLUT_OWNER_TRAINER, FIELD_AT(struct splut_trainer, f, int64_t)
#define TRAINER_F64(f) SPLUT_OWNER_TRAINER, FIELD_AT(struct splut_trainer, f, double)
/* The run keeps its counts as uint64_t: the accessors read and write them
 * through int64_t, which C allows (a signed and an unsigned type of the same
 * width may alias), and every run key's bounds lie in [0, 2^53]. */
#define RUN_U64(f) SPLUT_OWNER_RUN, FIELD_AT(struct splut_run, f, uint64_t)
#define RUN_F64(f) SPLUT_OWNER_RUN, FIELD_AT(struct splut_run, f, double)
#define SAVED SPLUT_PARAM_SAVED
#define EXPERIMENTAL SPLUT_PARAM_EXPERIMENTAL

/* Every key, in key order: {key, name, type, min, max, default, min open,
 * owner + field, flags}. Setters, getters, splut_param_info(), defaults and
 * the model/trainer file sections all read this table. SAVED trainer keys are
 * stored in trainer files in key order (docs/model-format.md gives their
 * offsets), so a row gains SAVED only with a new file version.
 *
 * Adding a key: one row here, one enumerator (or, for a research knob, a
 * macro in sparselut-experimental.h and the EXPERIMENTAL flag), and the field
 * in the owner's struct. A new owner (the training run, keys 300-399,
 * SPLUT_OWNER_RUN) defines RUN_I64/RUN_F64 like the macros above and calls
 * splut__param_get_/set_int and _double from its accessors with its own
 * object. */
static const splut__param_def PARAMS[] = {
    {SPLUT_P_THREADS, "threads", SPLUT_PARAM_INT, 0, 256, 0, false, CTX_I64(threads), 0},
    {SPLUT_P_SEED, "seed", SPLUT_PARAM_INT, 0, 9007199254740992.0, 1, false, CTX_I64(seed), 0},
    {SPLUT_P_MAX_TABLE_LOG2, "max_table_log2", SPLUT_PARAM_INT, 1, 30, 20, false,
     CTX_I64(max_table_log2), 0},
    {SPLUT_P_INPUT_MODE, "input_mode", SPLUT_PARAM_INT, 0, 2, 0, false, MODEL_I64(input_mode),
     SAVED},
    {SPLUT_P_RECIPE_LR, "recipe_lr", SPLUT_PARAM_DOUBLE, 0, 10, 1e-3, true, MODEL_F64(recipe_lr),
     SAVED},
    {SPLUT_P_RECIPE_BATCH, "recipe_batch", SPLUT_PARAM_INT, 1, 1048576, 128, false,
     MODEL_I64(recipe_batch), SAVED},
    {SPLUT_P_RECIPE_EPOCHS, "recipe_epochs", SPLUT_PARAM_INT, 1, 1048576, 100, false,
     MODEL_I64(recipe_epochs), SAVED},
    {SPLUT_P_RECIPE_WD, "recipe_weight_decay", SPLUT_PARAM_DOUBLE, 0, 1, 0, false,
     MODEL_F64(recipe_wd), SAVED},
    {SPLUT_P_EPOCHS_TRAINED, "epochs_trained", SPLUT_PARAM_INT, 0, 2147483648.0, 0, false,
     MODEL_I64(epochs_trained), SAVED},
    {SPLUT_P_TEST_ACCURACY, "test_accuracy", SPLUT_PARAM_DOUBLE, -1, 1, -1, false,
     MODEL_F64(test_accuracy), SAVED},
    /* in model files from format version 2 (version 1 files load with the default) */
    {SPLUT_P_GROUPSUM_TAU, "groupsum_tau", SPLUT_PARAM_DOUBLE, 0, 1e6, 1.0 / 0.3, true,
     MODEL_F64(groupsum_tau), SAVED},
    /* in ARCH (format version 2): it shapes the parameter vector */
    {SPLUT_P_LUT_MAP, "lut_map", SPLUT_PARAM_INT, 0, 1048576, 0, false, MODEL_I64(lut_map),
     SAVED},
    {SPLUT_P_LEARNING_RATE, "learning_rate", SPLUT_PARAM_DOUBLE, 0, 10, 1e-3, true,
     TRAINER_F64(lr), SAVED},
    {SPLUT_P_WEIGHT_DECAY, "weight_decay", SPLUT_PARAM_DOUBLE, 0, 1, 0, false,
     TRAINER_F64(weight_decay), SAVED},
    {SPLUT_P_BETA1, "beta1", SPLUT_PARAM_DOUBLE, 0, 0.999999, 0.5, false, TRAINER_F64(beta1),
     SAVED},
    {SPLUT_P_BETA2, "beta2", SPLUT_PARAM_DOUBLE, 0, 0.999999999, 0.999, false,
     TRAINER_F64(beta2), SAVED},
    {SPLUT_P_ADAM_EPS, "adam_eps", SPLUT_PARAM_DOUBLE, 0, 1, 1e-8, true, TRAINER_F64(eps), SAVED},
    {SPLUT_P_RESTART_PERIOD, "restart_period", SPLUT_PARAM_INT, 0, 1099511627776.0, 0, false,
     TRAINER_I64(restart_period), SAVED},
    {SPLUT_P_LR_MIN, "lr_min", SPLUT_PARAM_DOUBLE, 0, 10, 0, false, TRAINER_F64(lr_min), SAVED},
    {SPLUT_P_STEP, "step", SPLUT_PARAM_INT, 0, 9007199254740992.0, 0, false, TRAINER_I64(step),
     SAVED},
    {SPLUT_P_CONNECTIVITY, "connectivity", SPLUT_PARAM_INT, 0, 2, 0, false,
     TRAINER_I64(conn_mode), SAVED},
    {SPLUT_P_STEPS_PER_EPOCH, "steps_per_epoch", SPLUT_PARAM_INT, 0, 1099511627776.0, 0, false,
     TRAINER_I64(steps_per_epoch), SAVED},
    {SPLUT_P_SWITCH_EPOCH, "switch_epoch", SPLUT_PARAM_INT, 0, 1048576, 20, false,
     TRAINER_I64(switch_epoch), SAVED},
    {SPLUT_P_CONN_TAU, "conn_tau", SPLUT_PARAM_DOUBLE, 0, 1e6, 3, true, TRAINER_F64(conn_tau),
     SAVED},
    {SPLUT_P_CONN_L1, "conn_l1", SPLUT_PARAM_DOUBLE, 0, 1, 1e-4, false, TRAINER_F64(conn_l1),
     SAVED},
    {SPLUT_P_CONN_TEMPERATURE, "conn_temperature", SPLUT_PARAM_DOUBLE, 0, 1, 0, false,
     TRAINER_F64(conn_temperature), SAVED},
    {SPLUT_P_CONN_REGROW, "conn_regrow", SPLUT_PARAM_INT, 0, 1, 0, false,
     TRAINER_I64(conn_regrow), SAVED},
    {SPLUT_P_CONN_CANDIDATES, "conn_candidates", SPLUT_PARAM_INT, 1, 1024, 128, false,
     TRAINER_I64(conn_candidates), SAVED},
    {SPLUT_P_CONN_INIT, "conn_init", SPLUT_PARAM_DOUBLE, 0, 1, 1e-3, true,
     TRAINER_F64(conn_init), SAVED},
    {SPLUT_P_CONN_SWAP, "conn_swap", SPLUT_PARAM_DOUBLE, 0, 1, 0.1, false,
     TRAINER_F64(conn_swap), EXPERIMENTAL},
    {SPLUT_P_CONN_PLATEAU, "conn_plateau", SPLUT_PARAM_DOUBLE, 1, 64, 1, false,
     TRAINER_F64(conn_plateau), EXPERIMENTAL},
    {SPLUT_P_CONN_COVER, "conn_cover", SPLUT_PARAM_INT, 0, 1, 0, false, TRAINER_I64(conn_cover),
     EXPERIMENTAL},
    {SPLUT_P_CONN_EXPLORE, "conn_explore", SPLUT_PARAM_INT, 0, 1, 0, false,
     TRAINER_I64(conn_explore), EXPERIMENTAL},
    {SPLUT_P_CONN_STAGGER, "conn_stagger", SPLUT_PARAM_DOUBLE, 0, 1e6, 0, false,
     TRAINER_F64(conn_stagger), EXPERIMENTAL},
    {SPLUT_P_CONN_WARM, "conn_warm", SPLUT_PARAM_INT, 0, 1, 1, false, TRAINER_I64(conn_warm),
     EXPERIMENTAL},
    {SPLUT_P_BN_FROZEN, "bn_frozen", SPLUT_PARAM_INT, 0, 1, 0, false, TRAINER_I64(bn_frozen),
     EXPERIMENTAL},
    {SPLUT_P_RUN_EPOCHS, "epochs", SPLUT_PARAM_INT, 1, 1048576, 100, false, RUN_U64(cfg.epochs),
     0},
    {SPLUT_P_RUN_BATCH, "batch", SPLUT_PARAM_INT, 2, 1048576, 128, false, RUN_U64(cfg.batch), 0},
    {SPLUT_P_RUN_SEED, "run_seed", SPLUT_PARAM_INT, 0, 9007199254740992.0, 1, false,
     RUN_U64(cfg.seed), 0},
    {SPLUT_P_RUN_RESTART_EPOCHS, "restart_epochs", SPLUT_PARAM_INT, 0, 1048576, 100, false,
     RUN_U64(cfg.restart_epochs), 0},
    {SPLUT_P_RUN_EMA, "ema", SPLUT_PARAM_DOUBLE, 0, 0.999999, 0, false, RUN_F64(cfg.ema), 0},
    {SPLUT_P_RUN_BN_CALIBRATE, "bn_calibrate", SPLUT_PARAM_INT, 0, 1, 0, false,
     RUN_U64(cfg.bn_calibrate), 0},
    {SPLUT_P_RUN_BN_FREEZE, "bn_freeze", SPLUT_PARAM_INT, 0, 4294967295.0, 0, false,
     RUN_U64(cfg.bn_freeze), 0},
    {SPLUT_P_RUN_KEEP_BEST, "keep_best", SPLUT_PARAM_INT, 0, 1, 0, false, RUN_U64(cfg.keep_best),
     0},
    {SPLUT_P_RUN_SHIFT, "augment_shift", SPLUT_PARAM_INT, 0, 8, 0, false, RUN_U64(cfg.shift), 0},
    {SPLUT_P_RUN_DISTILL_ALPHA, "distill_alpha", SPLUT_PARAM_DOUBLE, 0, 1, 0.9, false,
     RUN_F64(cfg.alpha), 0},
    {SPLUT_P_RUN_DISTILL_TEMPERATURE, "distill_temperature", SPLUT_PARAM_DOUBLE, 0, 100, 2, true,
     RUN_F64(cfg.temperature), 0},
    {SPLUT_P_RUN_EPOCHS_DONE, "epochs_done", SPLUT_PARAM_INT, 0, 1048576, 0, false,
     RUN_U64(done), 0},
    {SPLUT_P_RUN_BEST_EPOCH, "best_epoch", SPLUT_PARAM_INT, 0, 1048576, 0, false,
     RUN_U64(best_epoch), 0},
};
#define N_PARAMS (sizeof(PARAMS) / sizeof(PARAMS[0]))

const splut__param_def *splut__param_at(size_t i)
{
    return i < N_PARAMS ? &PARAMS[i] : NULL;
}

const splut__param_def *splut__param_find(splut_param key)
{
    for (size_t i = 0; i < N_PARAMS; i++)
        if (PARAMS[i].key == key)
            return &PARAMS[i];
    return NULL;
}

splut_status splut_param_info(splut_param key, splut_param_type *type, double *min,
                              double *max, double *dflt)
{
    const splut__param_def *p = splut__param_find(key);
    if (!p)
        return SPLUT_E_UNKNOWN_PARAM;
    if (type)
        *type = p->type;
    if (min)
        *min = p->min;
    if (max)
        *max = p->max;
    if (dflt)
        *dflt = p->dflt;
    return SPLUT_OK;
}

splut_status splut_param_describe(splut_param key, splut_param_owner *owner, unsigned *flags)
{
    const splut__param_def *p = splut__param_find(key);
    if (!p)
        return SPLUT_E_UNKNOWN_PARAM;
    if (owner)
        *owner = p->owner;
    if (flags)
        *flags = p->flags | (p->min_open ? SPLUT_PARAM_MIN_OPEN : 0u);
    return SPLUT_OK;
}

int splut_param_next(int key)
{
    int next = 0;
    for (size_t i = 0; i < N_PARAMS; i++)
        if ((int)PARAMS[i].key > key && (next == 0 || (int)PARAMS[i].key < next))
            next = (int)PARAMS[i].key;
    return next;
}

const char *splut_param_name(splut_param key)
{
    const splut__param_def *p = splut__param_find(key);
    return p ? p->name : NULL;
}

splut_status splut__param_check(splut_param key, splut_param_type type, double v,
                                splut_param_owner owner)
{
    const splut__param_def *p = splut__param_find(key);
    if (!p || p->owner != owner)
        return SPLUT_E_UNKNOWN_PARAM;
    if (p->type != type)
        return SPLUT_E_PARAM_TYPE;
    if (isnan(v) || v > p->max || v < p->min || (p->min_open && v <= p->min))
        return SPLUT_E_OUT_OF_RANGE;
    return SPLUT_OK;
}

/* Common message for a rejected parameter access. */
static splut_status param_fail(const splut_ctx *ctx, splut_status st, splut_param key, double v)
{
    const splut__param_def *p = splut__param_find(key);
    switch (st) {
    case SPLUT_E_UNKNOWN_PARAM:
        return splut__fail(ctx, st, "parameter key %d does not belong to this object", (int)key);
    case SPLUT_E_PARAM_TYPE:
        return splut__fail(ctx, st, "parameter '%s' is %s-valued", p->name,
                           p->type == SPLUT_PARAM_INT ? "integer" : "double");
    default:
        return splut__fail(ctx, st, "parameter '%s' = %g outside %c%g, %g]", p->name, v,
                           p->min_open ? '(' : '[', p->min, p->max);
    }
}

/* Check an access; reads (set = false) do not look at the value. Integer
 * bounds are exact integers (≤ 2^53), compared in int64_t so values such as
 * 2^53 + 1, which round to 2^53 as doubles, are still refused. */
static splut_status param_access(const splut_ctx *ctx, splut_param_owner owner, splut_param key,
                                 splut_param_type type, double v, int64_t iv, bool set)
{
    splut_status st = splut__param_check(key, type, v, owner);
    if (st == SPLUT_OK && set && type == SPLUT_PARAM_INT) {
        const splut__param_def *p = splut__param_find(key);
        if (iv < (int64_t)p->min || iv > (int64_t)p->max)
            st = SPLUT_E_OUT_OF_RANGE;
    }
    if (st == SPLUT_E_OUT_OF_RANGE && !set)
        st = SPLUT_OK;
    return st == SPLUT_OK ? SPLUT_OK : param_fail(ctx, st, key, v);
}

/* The value of a row in its owner object. */
static const void *field_in(const void *obj, splut_param key)
{
    return (const char *)obj + splut__param_find(key)->offset;
}

static void *field_of(void *obj, splut_param key)
{
    return (char *)obj + splut__param_find(key)->offset;
}

/* Both value types are 8 bytes: one copy routine serves them. */
static splut_status param_get(const splut_ctx *ctx, splut_param_owner owner, const void *obj,
                              splut_param key, splut_param_type type, void *value)
{
    splut_status st = param_access(ctx, owner, key, type, 0, 0, false);
    if (st == SPLUT_OK)
        memcpy(value, field_in(obj, key), 8);
    return st;
}

static splut_status param_set(const splut_ctx *ctx, splut_param_owner owner, void *obj,
                              splut_param key, splut_param_type type, double v, int64_t iv,
                              const void *value)
{
    splut_status st = param_access(ctx, owner, key, type, v, iv, true);
    if (st == SPLUT_OK)
        memcpy(field_of(obj, key), value, 8);
    return st;
}

splut_status splut__param_get_int(const splut_ctx *ctx, splut_param_owner owner, const void *obj,
                                  splut_param key, int64_t *value)
{
    return param_get(ctx, owner, obj, key, SPLUT_PARAM_INT, value);
}

splut_status splut__param_set_int(const splut_ctx *ctx, splut_param_owner owner, void *obj,
                                  splut_param key, int64_t value)
{
    return param_set(ctx, owner, obj, key, SPLUT_PARAM_INT, (double)value, value, &value);
}

splut_status splut__param_get_double(const splut_ctx *ctx, splut_param_owner owner,
                                     const void *obj, splut_param key, double *value)
{
    return param_get(ctx, owner, obj, key, SPLUT_PARAM_DOUBLE, value);
}

splut_status splut__param_set_double(const splut_ctx *ctx, splut_param_owner owner, void *obj,
                                     splut_param key, double value)
{
    return param_set(ctx, owner, obj, key, SPLUT_PARAM_DOUBLE, value, 0, &value);
}

void splut__param_defaults(splut_param_owner owner, void *obj)
{
    for (size_t i = 0; i < N_PARAMS; i++) {
        const splut__param_def *p = &PARAMS[i];
        if (p->owner != owner)
            continue;
        if (p->type == SPLUT_PARAM_INT) {
            int64_t v = (int64_t)p->dflt;
            memcpy((char *)obj + p->offset, &v, sizeof(v));
        } else {
            memcpy((char *)obj + p->offset, &p->dflt, sizeof(p->dflt));
        }
    }
}

size_t splut__param_saved(splut_param_owner owner, splut_param_type type, splut_param *keys,
                          size_t cap)
{
    size_t n = 0;
    for (size_t i = 0; i < N_PARAMS; i++) {
        const splut__param_def *p = &PARAMS[i];
        if (p->owner != owner || p->type != type || !(p->flags & SPLUT_PARAM_SAVED))
            continue;
        if (n < cap)
            keys[n] = p->key;
        n++;
    }
    return n;
}

splut_status splut_ctx_set_int(splut_ctx *ctx, splut_param key, int64_t value)
{
    if (!ctx)
        return SPLUT_E_NULL;
    return splut__param_set_int(ctx, SPLUT_OWNER_CTX, ctx, key, value);
}

splut_status splut_ctx_get_int(const splut_ctx *ctx, splut_param key, int64_t *value)
{
    if (!ctx || !value)
        return ctx ? splut__fail(ctx, SPLUT_E_NULL, "splut_ctx_get_int: value is NULL")
                   : SPLUT_E_NULL;
    return splut__param_get_int(ctx, SPLUT_OWNER_CTX, ctx, key, value);
}
