/*
 * Private core of libsparselut: context, errors, allocation, parameters, RNG
 * and thread pool. The in-memory model layout is in model-priv.h, which only
 * the modules that build, train, evaluate, save or enumerate models include
 * (the HDL emitters see truth tables, never weights).
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#ifndef SPARSELUT_CORE_PRIV_H
#define SPARSELUT_CORE_PRIV_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sparselut/sparselut.h"
#include "sparselut/sparselut-experimental.h"

#if defined(__GNUC__)
#define SPLUT_PRINTF(a, b) __attribute__((format(printf, a, b)))
#else
#define SPLUT_PRINTF(a, b)
#endif

/* Hot loops get AVX-512 and AVX2 clones next to the baseline one, picked at
 * load time. Results are identical: floating-point contraction is off (no
 * FMA) and every loop keeps its order of operations, so only the vector width
 * changes (tests/cross/identical-models.sh compares builds byte for byte). */
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) && defined(__linux__)
#define SPLUT_HOT __attribute__((target_clones("avx512f", "avx2", "default")))
#else
#define SPLUT_HOT
#endif

#define SPLUT_MAX_BITS 8u       /* largest activation bit width */
/* Most inputs of one (sub-)neuron the engine evaluates: the linear surrogate
 * of learned connectivity may read a dense MNIST layer (784); table limits
 * keep every enumerable layer far below. */
#define SPLUT_MAX_FAN_IN 1024u
#define SPLUT_ERR_LEN 512
#define SPLUT_BN_EPS 1e-5f      /* BatchNorm epsilon (PyTorch's default) */

/* ------------------------------------------------------------------ context */

struct splut_ctx {
    splut_allocator alloc;
    splut_log_fn log_fn;
    void *log_user;
    splut_log_level log_max;
    int64_t threads;        /* 0 = one per online CPU */
    int64_t seed;
    int64_t max_table_log2;
    int refcount;
    pthread_mutex_t lock;   /* guards err and refcount */
    char err[SPLUT_ERR_LEN];
};

/* Allocation through the context's hooks; 64-byte aligned. NULL on failure. */
void *splut__alloc(splut_ctx *ctx, size_t size);
void *splut__calloc(splut_ctx *ctx, size_t n, size_t size);
void splut__free(splut_ctx *ctx, void *p);
/* n*size with overflow check; SIZE_MAX on overflow. */
size_t splut__mul(size_t n, size_t size);

/* Record a failure: message into ctx, log callback, return the status. */
splut_status splut__fail(const splut_ctx *ctx, splut_status st, const char *fmt, ...)
    SPLUT_PRINTF(3, 4);
void splut__log(const splut_ctx *ctx, splut_log_level lvl, const char *fmt, ...)
    SPLUT_PRINTF(3, 4);
/* Number of worker threads to use for a call. */
unsigned splut__threads(const splut_ctx *ctx);

/* ------------------------------------------------------ versioned structs */

/* Largest struct size a caller may claim; anything above is refused before a
 * byte of the tail is read. */
#define SPLUT__STRUCT_MAX 4096u

/* Check the size field of a size-versioned struct (libxkbcommon's
 * abi-check.h model). @p known lists the struct's sizeof at each release that
 * changed it, ascending. Accepted: any known size (the caller was built
 * against that release), or a size above the largest known one whose tail
 * bytes are all zero (a newer caller leaving the fields this library does not
 * know at their defaults). Anything else fails with SPLUT_E_STRUCT_SIZE,
 * recorded on ctx under @p name. */
splut_status splut__struct_check(const splut_ctx *ctx, const char *name, const void *ptr,
                                 size_t size, const size_t *known, size_t n_known);

/* --------------------------------------------------------------- parameters */

/* One row of the parameter table (ctx.c), the single source of truth for a
 * key: accessors find the owner's field through `offset` (an int64_t for
 * integer keys, a double for double keys), files save the keys flagged
 * SPLUT_PARAM_SAVED, and objects start from `dflt`. */
typedef struct splut__param_def {
    splut_param key;
    const char *name;
    splut_param_type type;
    double min, max, dflt;
    bool min_open;           /* (min, max] */
    splut_param_owner owner;
    size_t offset;           /* of the value in the owner's struct */
    unsigned flags;          /* SPLUT_PARAM_SAVED, SPLUT_PARAM_EXPERIMENTAL */
} splut__param_def;

/* The row of a key, NULL if unknown. */
const splut__param_def *splut__param_find(splut_param key);
/* Row i of the table in key order, NULL past the end. */
const splut__param_def *splut__param_at(size_t i);
/* Validate key/owner/type/range; returns SPLUT_OK or the matching error (no message). */
splut_status splut__param_check(splut_param key, splut_param_type type, double v,
                                splut_param_owner owner);
/* Read or set one parameter of an owner object: the key must belong to
 * @p owner and have the accessor's type; a set value must be in range. The
 * value lives at obj + the row's offset; a failure is recorded on ctx. */
splut_status splut__param_get_int(const splut_ctx *ctx, splut_param_owner owner, const void *obj,
                                  splut_param key, int64_t *value);
splut_status splut__param_set_int(const splut_ctx *ctx, splut_param_owner owner, void *obj,
                                  splut_param key, int64_t value);
splut_status splut__param_get_double(const splut_ctx *ctx, splut_param_owner owner,
                                     const void *obj, splut_param key, double *value);
splut_status splut__param_set_double(const splut_ctx *ctx, splut_param_owner owner, void *obj,
                                     splut_param key, double value);
/* Write every default of @p owner's keys into @p obj. */
void splut__param_defaults(splut_param_owner owner, void *obj);
/* Keys of @p owner and @p type flagged SPLUT_PARAM_SAVED, in key order (the
 * order files store them in); returns how many, writing at most cap. */
size_t splut__param_saved(splut_param_owner owner, splut_param_type type, splut_param *keys,
                          size_t cap);

/* 64-bit FNV-1a: continue hash @p h (start: SPLUT_FNV1A_BASIS) over @p n bytes. */
#define SPLUT_FNV1A_BASIS 1469598103934665603ull
uint64_t splut__fnv1a(uint64_t h, const void *p, size_t n);

/* ---------------------------------------------------------------------- RNG */

typedef struct splut_rng {
    uint64_t s[4];
} splut_rng;

void splut__rng_seed(splut_rng *r, uint64_t seed);
uint64_t splut__rng_next(splut_rng *r);
/* Uniform in [0, n) without modulo bias. */
uint64_t splut__rng_below(splut_rng *r, uint64_t n);
/* Uniform float in [0, 1). */
double splut__rng_uniform(splut_rng *r);
/* Standard normal (Box-Muller, deterministic). */
double splut__rng_normal(splut_rng *r);

/* --------------------------------------------------------------- threadpool */

typedef struct splut_pool splut_pool;
/* fn(arg, begin, end, worker) processes items [begin, end). Work is split in
 * chunks handed out dynamically; callers must make every item's result
 * independent of which worker runs it (that is what keeps results identical for
 * any thread count). */
typedef void (*splut_task_fn)(void *arg, size_t begin, size_t end, unsigned worker);

splut_status splut__pool_create(splut_ctx *ctx, unsigned threads, splut_pool **out);
void splut__pool_destroy(splut_pool *p);
unsigned splut__pool_size(const splut_pool *p);
void splut__pool_run(splut_pool *p, size_t n, size_t chunk, splut_task_fn fn, void *arg);

#endif /* SPARSELUT_CORE_PRIV_H */
