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

#include "core-priv.h"

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
    case SPLUT_E_TOOL: return "external tool failed";
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
    ctx->threads = 0;
    ctx->seed = 1;
    ctx->max_table_log2 = 20;
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

/* -------------------------------------------------------------- parameters */

typedef struct param_def {
    splut_param key;
    const char *name;
    splut_param_type type;
    double min, max, dflt;
    bool min_open; /* (min, max] */
} param_def;

static const param_def PARAMS[] = {
    {SPLUT_P_THREADS, "threads", SPLUT_PARAM_INT, 0, 256, 0, false},
    {SPLUT_P_SEED, "seed", SPLUT_PARAM_INT, 0, 9007199254740992.0, 1, false},
    {SPLUT_P_MAX_TABLE_LOG2, "max_table_log2", SPLUT_PARAM_INT, 1, 30, 20, false},
    {SPLUT_P_INPUT_MODE, "input_mode", SPLUT_PARAM_INT, 0, 1, 0, false},
    {SPLUT_P_RECIPE_LR, "recipe_lr", SPLUT_PARAM_DOUBLE, 0, 10, 1e-3, true},
    {SPLUT_P_RECIPE_BATCH, "recipe_batch", SPLUT_PARAM_INT, 1, 1048576, 128, false},
    {SPLUT_P_RECIPE_EPOCHS, "recipe_epochs", SPLUT_PARAM_INT, 1, 1048576, 100, false},
    {SPLUT_P_RECIPE_WD, "recipe_weight_decay", SPLUT_PARAM_DOUBLE, 0, 1, 0, false},
    {SPLUT_P_EPOCHS_TRAINED, "epochs_trained", SPLUT_PARAM_INT, 0, 2147483648.0, 0, false},
    {SPLUT_P_TEST_ACCURACY, "test_accuracy", SPLUT_PARAM_DOUBLE, -1, 1, -1, false},
    {SPLUT_P_LEARNING_RATE, "learning_rate", SPLUT_PARAM_DOUBLE, 0, 10, 1e-3, true},
    {SPLUT_P_WEIGHT_DECAY, "weight_decay", SPLUT_PARAM_DOUBLE, 0, 1, 0, false},
    {SPLUT_P_BETA1, "beta1", SPLUT_PARAM_DOUBLE, 0, 0.999999, 0.5, false},
    {SPLUT_P_BETA2, "beta2", SPLUT_PARAM_DOUBLE, 0, 0.999999999, 0.999, false},
    {SPLUT_P_ADAM_EPS, "adam_eps", SPLUT_PARAM_DOUBLE, 0, 1, 1e-8, true},
    {SPLUT_P_RESTART_PERIOD, "restart_period", SPLUT_PARAM_INT, 0, 1099511627776.0, 0, false},
    {SPLUT_P_LR_MIN, "lr_min", SPLUT_PARAM_DOUBLE, 0, 10, 0, false},
    {SPLUT_P_STEP, "step", SPLUT_PARAM_INT, 0, 9007199254740992.0, 0, false},
    {SPLUT_P_CONNECTIVITY, "connectivity", SPLUT_PARAM_INT, 0, 2, 0, false},
    {SPLUT_P_STEPS_PER_EPOCH, "steps_per_epoch", SPLUT_PARAM_INT, 0, 1099511627776.0, 0, false},
    {SPLUT_P_SWITCH_EPOCH, "switch_epoch", SPLUT_PARAM_INT, 0, 1048576, 20, false},
    {SPLUT_P_CONN_TAU, "conn_tau", SPLUT_PARAM_DOUBLE, 0, 1e6, 3, true},
    {SPLUT_P_CONN_L1, "conn_l1", SPLUT_PARAM_DOUBLE, 0, 1, 1e-4, false},
    {SPLUT_P_CONN_TEMPERATURE, "conn_temperature", SPLUT_PARAM_DOUBLE, 0, 1, 0, false},
    {SPLUT_P_CONN_REGROW, "conn_regrow", SPLUT_PARAM_INT, 0, 1, 0, false},
    {SPLUT_P_CONN_CANDIDATES, "conn_candidates", SPLUT_PARAM_INT, 1, 1024, 128, false},
    {SPLUT_P_CONN_INIT, "conn_init", SPLUT_PARAM_DOUBLE, 0, 1, 1e-3, true},
    {SPLUT_P_CONN_SWAP, "conn_swap", SPLUT_PARAM_DOUBLE, 0, 1, 0.1, false},
    {SPLUT_P_CONN_PLATEAU, "conn_plateau", SPLUT_PARAM_DOUBLE, 1, 64, 1, false},
    {SPLUT_P_CONN_COVER, "conn_cover", SPLUT_PARAM_INT, 0, 1, 0, false},
    {SPLUT_P_CONN_EXPLORE, "conn_explore", SPLUT_PARAM_INT, 0, 1, 0, false},
    {SPLUT_P_CONN_STAGGER, "conn_stagger", SPLUT_PARAM_DOUBLE, 0, 1e6, 0, false},
    {SPLUT_P_CONN_WARM, "conn_warm", SPLUT_PARAM_INT, 0, 1, 1, false},
    {SPLUT_P_BN_FROZEN, "bn_frozen", SPLUT_PARAM_INT, 0, 1, 0, false},
    {SPLUT_P_RUN_EPOCHS, "epochs", SPLUT_PARAM_INT, 1, 1048576, 100, false},
    {SPLUT_P_RUN_BATCH, "batch", SPLUT_PARAM_INT, 2, 1048576, 128, false},
    {SPLUT_P_RUN_SEED, "run_seed", SPLUT_PARAM_INT, 0, 9007199254740992.0, 1, false},
    {SPLUT_P_RUN_RESTART_EPOCHS, "restart_epochs", SPLUT_PARAM_INT, 0, 1048576, 100, false},
    {SPLUT_P_RUN_EMA, "ema", SPLUT_PARAM_DOUBLE, 0, 0.999999, 0, false},
    {SPLUT_P_RUN_BN_CALIBRATE, "bn_calibrate", SPLUT_PARAM_INT, 0, 1, 0, false},
    {SPLUT_P_RUN_BN_FREEZE, "bn_freeze", SPLUT_PARAM_INT, 0, 4294967295.0, 0, false},
    {SPLUT_P_RUN_KEEP_BEST, "keep_best", SPLUT_PARAM_INT, 0, 1, 0, false},
    {SPLUT_P_RUN_SHIFT, "augment_shift", SPLUT_PARAM_INT, 0, 8, 0, false},
    {SPLUT_P_RUN_DISTILL_ALPHA, "distill_alpha", SPLUT_PARAM_DOUBLE, 0, 1, 0.9, false},
    {SPLUT_P_RUN_DISTILL_TEMPERATURE, "distill_temperature", SPLUT_PARAM_DOUBLE, 0, 100, 2, true},
    {SPLUT_P_RUN_EPOCHS_DONE, "epochs_done", SPLUT_PARAM_INT, 0, 1048576, 0, false},
    {SPLUT_P_RUN_BEST_EPOCH, "best_epoch", SPLUT_PARAM_INT, 0, 1048576, 0, false},
};

static const param_def *find_param(splut_param key)
{
    for (size_t i = 0; i < sizeof(PARAMS) / sizeof(PARAMS[0]); i++)
        if (PARAMS[i].key == key)
            return &PARAMS[i];
    return NULL;
}

splut_status splut_param_info(splut_param key, splut_param_type *type, double *min,
                              double *max, double *dflt)
{
    const param_def *p = find_param(key);
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

const char *splut_param_name(splut_param key)
{
    const param_def *p = find_param(key);
    return p ? p->name : NULL;
}

splut_status splut__param_check(splut_param key, splut_param_type type, double v, int lo_key,
                                int hi_key)
{
    const param_def *p = find_param(key);
    if (!p || (int)key < lo_key || (int)key > hi_key)
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
    const param_def *p = find_param(key);
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

/* Integer bounds are exact integers (≤ 2^53); compare in int64_t so values
 * such as 2^53 + 1, which round to 2^53 as doubles, are still refused. */
static bool int_in_range(splut_param key, int64_t v)
{
    const param_def *p = find_param(key);
    return v >= (int64_t)p->min && v <= (int64_t)p->max;
}

splut_status splut__param_access(const splut_ctx *ctx, splut_param key, splut_param_type type,
                                 double v, int64_t iv, bool set, int lo_key, int hi_key)
{
    splut_status st = splut__param_check(key, type, v, lo_key, hi_key);
    if (st == SPLUT_OK && set && type == SPLUT_PARAM_INT && !int_in_range(key, iv))
        st = SPLUT_E_OUT_OF_RANGE;
    if (st == SPLUT_E_OUT_OF_RANGE && !set)
        st = SPLUT_OK; /* reads do not look at the value */
    return st == SPLUT_OK ? SPLUT_OK : param_fail(ctx, st, key, v);
}

splut_status splut_ctx_set_int(splut_ctx *ctx, splut_param key, int64_t value)
{
    if (!ctx)
        return SPLUT_E_NULL;
    splut_status st =
        splut__param_access(ctx, key, SPLUT_PARAM_INT, (double)value, value, true, 1, 99);
    if (st != SPLUT_OK)
        return st;
    switch (key) {
    case SPLUT_P_THREADS: ctx->threads = value; break;
    case SPLUT_P_SEED: ctx->seed = value; break;
    default: ctx->max_table_log2 = value; break;
    }
    return SPLUT_OK;
}

splut_status splut_ctx_get_int(const splut_ctx *ctx, splut_param key, int64_t *value)
{
    if (!ctx || !value)
        return SPLUT_E_NULL;
    splut_status st = splut__param_access(ctx, key, SPLUT_PARAM_INT, 0, 0, false, 1, 99);
    if (st != SPLUT_OK)
        return st;
    switch (key) {
    case SPLUT_P_THREADS: *value = ctx->threads; break;
    case SPLUT_P_SEED: *value = ctx->seed; break;
    default: *value = ctx->max_table_log2; break;
    }
    return SPLUT_OK;
}
