/*
 * libsparselut — train lookup-table neural networks and turn them into FPGA logic.
 *
 * Copyright 2026 The libsparselut authors
 * SPDX-License-Identifier: Apache-2.0
 */

/**
 * @file sparselut.h
 * @brief The one public header of libsparselut.
 *
 * The pipeline is: define a model (splut_model) → train it step by step
 * (splut_trainer) → mutate its connectivity → enumerate every neuron into a
 * truth table (splut_tables) → run LUT-mode inference or emit HDL.
 *
 * Conventions:
 * - Every fallible call returns a ::splut_status (0 = OK, negative = error);
 *   the detailed message of the last failure is kept in the context
 *   (splut_ctx_last_error()) and sent to the log callback.
 * - Results come back through out-parameters; `*_destroy(NULL)` is a no-op.
 * - Codes: every quantised activation crosses the API as its *encoded* bit
 *   pattern (uint16_t): unsigned quantisers as is, signed ones in offset
 *   binary (code + 2^(bits-1)) — exactly what the hardware carries.
 *
 * Thread safety: there is no global mutable state; a handle may be used by one
 * thread at a time, and different handles concurrently. A `const splut_model *`
 * or `const splut_tables *` may be read by many threads at once while nobody
 * writes to it. Handles of one context share its failure message: read it
 * with splut_ctx_copy_last_error() when they are used on several threads.
 */
#ifndef SPARSELUT_H
#define SPARSELUT_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/** @cond INTERNAL */
#if defined(_WIN32) && !defined(SPLUT_STATIC)
#  ifdef SPLUT_BUILDING_DLL
#    define SPLUT_API __declspec(dllexport)
#  else
#    define SPLUT_API __declspec(dllimport)
#  endif
#elif defined(__GNUC__)
#  define SPLUT_API __attribute__((visibility("default")))
#else
#  define SPLUT_API
#endif
/** @endcond */

/**
 * @defgroup version Version
 * @{
 */
/* SPLUT_VERSION_MAJOR/MINOR/PATCH/NUMBER/STRING and SPLUT_CHECK_VERSION(),
 * generated from the project version. */
#include "sparselut-version.h"

/**
 * @brief Version of the library actually linked, as SPLUT_VERSION_NUMBER.
 * @returns major·10000 + minor·100 + patch of the shared library at run time
 */
SPLUT_API unsigned splut_version_number(void);
/**
 * @brief Version of the library actually linked.
 * @returns a static string such as "0.2.0"; never NULL, never to be freed
 */
SPLUT_API const char *splut_version_string(void);
/** @} */

/**
 * @defgroup errors Status codes
 * @{
 */
/**
 * Result of every fallible call. Values are fixed forever; groups:
 * -1xx argument, -2xx state, -3xx memory, -4xx ABI, -5xx I/O and files.
 */
typedef enum splut_status {
    SPLUT_OK = 0,                   /**< success */
    SPLUT_E_NULL = -100,            /**< a required pointer argument was NULL */
    SPLUT_E_INVALID = -101,         /**< an argument is invalid (details in the message) */
    SPLUT_E_OUT_OF_RANGE = -102,    /**< a value is outside its documented range */
    SPLUT_E_PARAM_TYPE = -103,      /**< parameter set/read with the wrong type */
    SPLUT_E_UNKNOWN_PARAM = -104,   /**< no such parameter key for this object */
    SPLUT_E_UNKNOWN_PRESET = -105,  /**< no preset of that name */
    SPLUT_E_FAN_IN = -106,          /**< fan-in larger than the layer's input width */
    SPLUT_E_TABLE_TOO_LARGE = -107, /**< a truth table would exceed the table limit */
    SPLUT_E_NON_FINITE = -108,      /**< NaN or infinity in the input data */
    SPLUT_E_INDEX = -109,           /**< layer, neuron or input index out of range */
    SPLUT_E_BUFFER_TOO_SMALL = -110,/**< caller buffer too small; needed size returned */
    SPLUT_E_LABEL = -111,           /**< a label is outside [0, classes) */
    SPLUT_E_CONNECTIVITY = -112,    /**< input list not sorted, duplicated or wrong length */
    SPLUT_E_STATE = -200,           /**< call not valid in the object's current state */
    SPLUT_E_DIVERGED = -201,        /**< training produced a non-finite loss or parameter */
    SPLUT_E_CANCELLED = -202,       /**< a callback asked to stop (the run can continue) */
    SPLUT_E_NOMEM = -300,           /**< allocation failed; nothing was changed */
    SPLUT_E_STRUCT_SIZE = -400,     /**< option struct with an unknown size field */
    SPLUT_E_IO = -500,              /**< reading or writing a file failed */
    SPLUT_E_FORMAT = -501,          /**< malformed or inconsistent file content */
    SPLUT_E_VERSION = -502,         /**< file written by an unsupported format version */
    SPLUT_E_CHECKSUM = -503         /**< file checksum mismatch (corruption) */
    /* -504 was SPLUT_E_TOOL in 0.1, never returned: the library runs no
     * external tool (the CLI does and reports its own failures). Not reused. */
} splut_status;

/**
 * @brief Static, human-readable name of a status code.
 * @param status any value, known or not
 * @returns a static string (never NULL, never to be freed); an unknown value
 *          gives a generic "unknown status" text
 */
SPLUT_API const char *splut_status_str(splut_status status);
/** @} */

/**
 * @defgroup ctx Context
 * @brief Allocator, log callback, threads, seed and limits shared by handles.
 * @{
 */
/** Context: allocator, log callback, threads, seed, table limit, last error (refcounted). */
typedef struct splut_ctx splut_ctx;

/** Severity passed to the log callback. */
typedef enum splut_log_level {
    SPLUT_LOG_ERROR = 0, /**< a call failed */
    SPLUT_LOG_WARN = 1,  /**< something suspicious but recoverable */
    SPLUT_LOG_INFO = 2,  /**< progress information */
    SPLUT_LOG_DEBUG = 3  /**< details */
} splut_log_level;

/**
 * Log callback: receives a preformatted message (no trailing newline) and the
 * status of the failure (SPLUT_OK for non-errors). Never called with a va_list.
 */
typedef void (*splut_log_fn)(void *user, splut_log_level level, splut_status code,
                             const char *msg);

/**
 * Custom allocator (zstd customMem style). `alloc` returns memory aligned to
 * at least `align` bytes (a power of two ≤ 64) or NULL; `free` accepts NULL.
 */
typedef struct splut_allocator {
    void *(*alloc)(void *user, size_t size, size_t align); /**< allocate */
    void (*free)(void *user, void *ptr);                   /**< release */
    void *user;                                            /**< passed to both */
} splut_allocator;

/**
 * @brief Create a context.
 * @param[in] alloc allocator hooks, copied; NULL for the C library allocator
 * @param[out] out the new context (refcount 1)
 * @returns SPLUT_OK, SPLUT_E_NULL, SPLUT_E_INVALID (half-filled allocator), SPLUT_E_NOMEM
 */
SPLUT_API splut_status splut_ctx_create(const splut_allocator *alloc, splut_ctx **out);
/**
 * @brief Take a reference to @p ctx (thread-safe).
 * @param ctx the context, or NULL
 * @returns @p ctx (NULL for NULL)
 */
SPLUT_API splut_ctx *splut_ctx_ref(splut_ctx *ctx);
/**
 * @brief Drop a reference (thread-safe); the context is freed with its last reference.
 * Models, tables, datasets and runs each hold one, so it outlives them.
 * @param ctx the context; NULL is a no-op
 */
SPLUT_API void splut_ctx_unref(splut_ctx *ctx);
/**
 * @brief Install a log callback (NULL removes it) and the maximum level passed to it.
 * The callback runs on the thread of the failing call; with handles of @p ctx
 * on several threads it must be thread-safe. Do not change it while they run.
 * @param ctx the context
 * @param fn the callback, or NULL for none
 * @param user passed to @p fn unchanged
 * @param max_level messages above this level are not passed on
 * @returns SPLUT_OK, SPLUT_E_NULL (@p ctx), SPLUT_E_OUT_OF_RANGE (level not in 0..3)
 */
SPLUT_API splut_status splut_ctx_set_log(splut_ctx *ctx, splut_log_fn fn, void *user,
                                         splut_log_level max_level);
/**
 * @brief Message of the last failure recorded on @p ctx.
 * Valid until the next failing call on the context or its handles. The
 * pointer is the context's own buffer: while other threads use handles of
 * the same context, read it with splut_ctx_copy_last_error() instead.
 * @param ctx the context, or NULL
 * @returns the message, "" if none was recorded or @p ctx is NULL; never NULL
 */
SPLUT_API const char *splut_ctx_last_error(const splut_ctx *ctx);

/**
 * @brief Free memory the library allocated and handed to the caller.
 *
 * No call returns library-allocated memory yet (results go into caller-owned
 * buffers); the function is exported since 0.1 and stays, so that calls which
 * will allocate for the caller keep one documented way to release it.
 * @param ctx the context the memory came from; NULL frees nothing
 * @param ptr the memory; NULL is a no-op
 */
SPLUT_API void splut_free(splut_ctx *ctx, void *ptr);
/**
 * @brief Record a failure on @p ctx from outside the library: @p msg becomes
 * splut_ctx_last_error() and goes to the log callback (SPLUT_LOG_ERROR) with
 * @p status. For companion libraries (libsparselut-data) and bindings that
 * fail on the context's behalf, so that callers read every message one way.
 * @param ctx the context; NULL records nothing
 * @param status the failure being reported (returned unchanged)
 * @param msg the message (truncated to 511 bytes); NULL records ""
 * @returns @p status, or SPLUT_E_NULL when @p ctx is NULL
 * @since 0.2
 */
SPLUT_API splut_status splut_ctx_set_error(splut_ctx *ctx, splut_status status, const char *msg);
/** @} */

/**
 * @defgroup params Parameters
 * @brief Every tunable is read and written by enum key (zstd style).
 *
 * Keys are grouped by object: 1–99 context, 100–199 model, 200–299 trainer,
 * 300–399 training run. Each key has one type (integer or double); using the
 * other setter returns SPLUT_E_PARAM_TYPE. Out-of-range values return
 * SPLUT_E_OUT_OF_RANGE and are never clamped; a key of another object returns
 * SPLUT_E_UNKNOWN_PARAM. Key numbers never change. One table inside the
 * library holds every key's name, type, bounds, default, owner and whether
 * files save it; splut_param_info(), splut_param_describe() and
 * splut_param_next() read it, so tools and bindings need not restate bounds.
 *
 * Keys marked experimental (SPLUT_PARAM_EXPERIMENTAL) are research knobs
 * declared in sparselut-experimental.h: their numbers are fixed (files may
 * hold them) but their meaning, bounds and existence are outside the
 * stability promise.
 * @{
 */
/** Parameter keys: 1–99 context, 100–199 model, 200–299 trainer, 300–399 run. */
typedef enum splut_param {
    /* context (1-99) */
    SPLUT_P_THREADS = 1,          /**< int [0,256], default 0 = one per online CPU */
    SPLUT_P_SEED = 2,             /**< int [0,2^53], default 1: seeds connectivity and init */
    SPLUT_P_MAX_TABLE_LOG2 = 3,   /**< int [1,30], default 20: largest table is 2^v entries */
    /* model (100-199) */
    SPLUT_P_INPUT_MODE = 100,     /**< int: ::splut_input_mode, default SPLUT_INPUT_BN_HARDTANH */
    SPLUT_P_RECIPE_LR = 110,      /**< double (0,10], preset learning rate, default 1e-3 */
    SPLUT_P_RECIPE_BATCH = 111,   /**< int [1,2^20], preset batch size, default 128 */
    SPLUT_P_RECIPE_EPOCHS = 112,  /**< int [1,2^20], preset epoch count, default 100 */
    SPLUT_P_RECIPE_WD = 113,      /**< double [0,1], preset weight decay, default 0 */
    SPLUT_P_EPOCHS_TRAINED = 120, /**< int [0,2^31], training metadata, default 0 */
    SPLUT_P_TEST_ACCURACY = 121,  /**< double [-1,1], metadata (-1 = unknown), default -1 */
    SPLUT_P_GROUPSUM_TAU = 130,   /**< double (0,1e6], GroupSum softmax temperature, default
                                       1/0.3; saved in model files (format version 2) */
    SPLUT_P_LUT_MAP = 131,        /**< int [0,2^20], learnable mapping of a first LUT layer:
                                       candidate inputs per node input (0 = off, the default);
                                       set before a trainer exists (docs/lut-nodes.md) */
    /* trainer (200-299) */
    SPLUT_P_LEARNING_RATE = 200,  /**< double (0,10], default = model's SPLUT_P_RECIPE_LR */
    SPLUT_P_WEIGHT_DECAY = 201,   /**< double [0,1], default = model's SPLUT_P_RECIPE_WD */
    SPLUT_P_BETA1 = 202,          /**< double [0,1), default 0.5 */
    SPLUT_P_BETA2 = 203,          /**< double [0,1), default 0.999 */
    SPLUT_P_ADAM_EPS = 204,       /**< double (0,1], default 1e-8 */
    SPLUT_P_RESTART_PERIOD = 205, /**< int [0,2^40] steps per cosine cycle; 0 = constant lr */
    SPLUT_P_LR_MIN = 206,         /**< double [0,10], cosine floor (eta_min), default 0 */
    SPLUT_P_STEP = 207,           /**< int [0,2^53], optimiser steps taken, default 0 */
    /* learned connectivity (trainer, 210-218); see docs/connectivity.md.
     * Keys 219-224 and 230 are experimental (sparselut-experimental.h). */
    SPLUT_P_CONNECTIVITY = 210,   /**< int: ::splut_conn_mode, default SPLUT_CONN_KEEP */
    SPLUT_P_STEPS_PER_EPOCH = 211,/**< int [0,2^40]: steps per epoch (learned schedule), default 0 */
    SPLUT_P_SWITCH_EPOCH = 212,   /**< int [0,2^20]: epoch T of the switch to phase 2, default 20;
                                       the model keeps its initial inputs and weights until then */
    SPLUT_P_CONN_TAU = 213,       /**< double (0,1e6]: budget decay time in epochs, default 3 */
    SPLUT_P_CONN_L1 = 214,        /**< double [0,1]: L1 pressure on magnitudes, default 1e-4 */
    SPLUT_P_CONN_TEMPERATURE = 215,/**< double [0,1]: exploration noise temperature, default 0 */
    SPLUT_P_CONN_REGROW = 216,    /**< int: ::splut_conn_regrow, default SPLUT_REGROW_GRADIENT */
    SPLUT_P_CONN_CANDIDATES = 217,/**< int [1,1024]: candidate inputs per neuron, default 128 */
    SPLUT_P_CONN_INIT = 218,      /**< double (0,1]: magnitude of a regrown connection, 1e-3 */
    /* training run (300-399); see the "Training runs" section and docs/run.md */
    SPLUT_P_RUN_EPOCHS = 300,     /**< int [1,2^20]: epochs of the run (a resumed run
                                       continues up to it); default the model's
                                       SPLUT_P_RECIPE_EPOCHS */
    SPLUT_P_RUN_BATCH = 301,      /**< int [2,2^20]: batch size; default the model's
                                       SPLUT_P_RECIPE_BATCH (at least 2) */
    SPLUT_P_RUN_SEED = 302,       /**< int [0,2^53]: seeds the per-epoch shuffle and the
                                       image shifts; default the context's SPLUT_P_SEED */
    SPLUT_P_RUN_RESTART_EPOCHS = 303, /**< int [0,2^20]: cosine warm restart every R
                                       epochs, 0 = constant learning rate; default 100 */
    SPLUT_P_RUN_EMA = 304,        /**< double [0,0.999999]: evaluate and keep an
                                       exponential moving average of the parameters with
                                       this decay per step (0 = none), calibrated as with
                                       SPLUT_P_RUN_BN_CALIBRATE; default 0 */
    SPLUT_P_RUN_BN_CALIBRATE = 305, /**< int 0/1: before each evaluation, BatchNorm
                                       statistics of the evaluated copy are calibrated on
                                       the training set; default 0 */
    SPLUT_P_RUN_BN_FREEZE = 306,  /**< int [0,2^32-1]: the last K epochs of every cosine
                                       cycle (of the run when R = 0) train with frozen,
                                       calibrated BatchNorm (SPLUT_P_BN_FROZEN); K ≤ R;
                                       default 0 */
    SPLUT_P_RUN_KEEP_BEST = 307,  /**< int 0/1: keep a copy of the evaluated model of the
                                       epoch with the best test accuracy; needs a test set;
                                       default 0 */
    SPLUT_P_RUN_SHIFT = 308,      /**< int [0,8]: shift every training image by a random
                                       offset in [-K,K] pixels per axis, a pure function of
                                       (seed, epoch, position); needs an image dataset
                                       (splut_dataset_set_image()); default 0 */
    SPLUT_P_RUN_DISTILL_ALPHA = 309, /**< double [0,1]: weight of the teacher's
                                       distribution in the targets; default 0.9 */
    SPLUT_P_RUN_DISTILL_TEMPERATURE = 310, /**< double (0,100]: the teacher's logits are
                                       divided by it; default 2 */
    SPLUT_P_RUN_EPOCHS_DONE = 311, /**< int, read only: epochs finished */
    SPLUT_P_RUN_BEST_EPOCH = 312  /**< int, read only: epoch of the kept best model,
                                       0 = none yet */
} splut_param;

/** Values of SPLUT_P_CONNECTIVITY. */
typedef enum splut_conn_mode {
    SPLUT_CONN_KEEP = 0,    /**< keep the model's connectivity */
    SPLUT_CONN_LEARN = 1,   /**< learn it (prune and regrow until the switch epoch) */
    SPLUT_CONN_PRETRAIN = 2 /**< keep it but pre-train: until the switch epoch a linear
                                 network on the model's own inputs trains, then the model
                                 starts from it (as SPLUT_P_CONN_WARM) */
} splut_conn_mode;

/** Values of SPLUT_P_CONN_REGROW. */
typedef enum splut_conn_regrow {
    SPLUT_REGROW_GRADIENT = 0, /**< regrow the candidates of largest gradient magnitude */
    SPLUT_REGROW_RANDOM = 1    /**< regrow candidates at random */
} splut_conn_regrow;

/** Type of a parameter's value. */
typedef enum splut_param_type {
    SPLUT_PARAM_INT = 0,   /**< use the *_int accessors */
    SPLUT_PARAM_DOUBLE = 1 /**< use the *_double accessors */
} splut_param_type;

/** Object a parameter key belongs to (whose *_set_int / *_set_double accept it). */
typedef enum splut_param_owner {
    SPLUT_OWNER_CTX = 1,     /**< splut_ctx_set_int() and friends */
    SPLUT_OWNER_MODEL = 2,   /**< splut_model_set_int() and friends */
    SPLUT_OWNER_TRAINER = 3, /**< splut_trainer_set_int() and friends */
    SPLUT_OWNER_RUN = 4      /**< the training run object */
} splut_param_owner;

/** splut_param_describe() flag: model or trainer files store the value. */
#define SPLUT_PARAM_SAVED 1u
/** splut_param_describe() flag: research knob outside the stability promise. */
#define SPLUT_PARAM_EXPERIMENTAL 2u
/** splut_param_describe() flag: the minimum itself is excluded, the range is (min, max]. */
#define SPLUT_PARAM_MIN_OPEN 4u

/**
 * @brief Type, bounds and default of a parameter key.
 * Any output pointer may be NULL.
 * @param key any key
 * @param[out] type its value type
 * @param[out] min smallest allowed value (excluded when splut_param_describe() reports
 *             SPLUT_PARAM_MIN_OPEN)
 * @param[out] max largest allowed value
 * @param[out] dflt value a new object starts with
 * @returns SPLUT_OK, SPLUT_E_UNKNOWN_PARAM
 */
SPLUT_API splut_status splut_param_info(splut_param key, splut_param_type *type, double *min,
                                        double *max, double *dflt);
/**
 * @brief Owner object and flags of a parameter key. Any output pointer may be NULL.
 * @param key any key
 * @param[out] owner the object whose accessors accept the key
 * @param[out] flags SPLUT_PARAM_SAVED, SPLUT_PARAM_EXPERIMENTAL, SPLUT_PARAM_MIN_OPEN
 * @returns SPLUT_OK, SPLUT_E_UNKNOWN_PARAM
 * @since 0.2
 */
SPLUT_API splut_status splut_param_describe(splut_param key, splut_param_owner *owner,
                                            unsigned *flags);
/**
 * @brief Enumerate the keys: the smallest known key above @p key.
 * Start with 0; the loop ends when 0 comes back.
 * @param key a key or 0
 * @returns the next key, 0 after the last
 * @since 0.2
 */
SPLUT_API int splut_param_next(int key);
/**
 * @brief Name of a parameter key ("threads", "learning_rate", …).
 * @param key any key
 * @returns a static string, NULL for an unknown key
 */
SPLUT_API const char *splut_param_name(splut_param key);

/**
 * @brief Set an integer context parameter (keys 1–99).
 * @param ctx the context
 * @param key a context key
 * @param value the new value, within the key's bounds
 * @returns SPLUT_OK, SPLUT_E_NULL, SPLUT_E_UNKNOWN_PARAM, SPLUT_E_PARAM_TYPE, SPLUT_E_OUT_OF_RANGE
 */
SPLUT_API splut_status splut_ctx_set_int(splut_ctx *ctx, splut_param key, int64_t value);
/**
 * @brief Read an integer context parameter.
 * @param ctx the context
 * @param key a context key
 * @param[out] value the current value
 * @returns SPLUT_OK, SPLUT_E_NULL, SPLUT_E_UNKNOWN_PARAM, SPLUT_E_PARAM_TYPE
 */
SPLUT_API splut_status splut_ctx_get_int(const splut_ctx *ctx, splut_param key, int64_t *value);
/** @} */

/**
 * @defgroup model Model definition
 * @brief Layers of LUT neurons, their connectivity and their parameters.
 * @{
 */
/** A model: layers, connectivity, parameters and BatchNorm statistics. */
typedef struct splut_model splut_model;

/** Neuron kind of a layer. */
typedef enum splut_neuron_kind {
    SPLUT_NEURON_LINEAR = 0,   /**< LogicNets: sparse dot product (degree 1) */
    SPLUT_NEURON_POLY = 1,     /**< PolyLUT: all monomials of degree 1..D of F inputs */
    SPLUT_NEURON_POLY_ADD = 2, /**< PolyLUT-Add: A polynomial sub-neurons + adder stage */
    SPLUT_NEURON_NEURALUT = 3, /**< NeuraLUT: small MLP with skips (reserved) */
    SPLUT_NEURON_LUT = 4       /**< DWN: a trained 2^F-entry truth table of F binary inputs */
} splut_neuron_kind;

/** How layer 0 turns features into codes (runs in software, before the circuit). */
typedef enum splut_input_mode {
    SPLUT_INPUT_BN_HARDTANH = 0, /**< BatchNorm + scalar bias + signed quantiser (JSC, MNIST) */
    SPLUT_INPUT_RELU = 1,        /**< unsigned ReLU quantiser, no BatchNorm (UNSW) */
    SPLUT_INPUT_THERMOMETER = 2  /**< 2^bits − 1 thresholds per feature (LUT models only) */
} splut_input_mode;

/**
 * Description of one layer (size-versioned: set `size` with SPLUT_LAYER_DESC_INIT).
 * Fields not used by a kind must be 0 (degree of LINEAR may be 0 or 1).
 */
typedef struct splut_layer_desc {
    size_t size;          /**< sizeof(splut_layer_desc) */
    int32_t kind;         /**< ::splut_neuron_kind */
    uint32_t width;       /**< neurons in the layer, ≥ 1 */
    uint32_t fan_in;      /**< F: inputs per neuron (per sub-neuron for POLY_ADD), ≥ 1 */
    uint32_t out_bits;    /**< β of this layer's output codes, 1..8 */
    uint32_t degree;      /**< D for POLY and POLY_ADD, ≥ 1 */
    uint32_t sub_neurons; /**< A for POLY_ADD, ≥ 1 */
    uint32_t hidden;      /**< N for NEURALUT */
    uint32_t reserved;    /**< must be 0 */
} splut_layer_desc;
/** Initialiser for ::splut_layer_desc. */
#define SPLUT_LAYER_DESC_INIT {sizeof(splut_layer_desc), 0, 0, 0, 0, 0, 0, 0, 0}

/**
 * @brief Start an empty model with @p n_inputs features quantised to @p input_bits.
 * Add layers with splut_model_add_layer(), then call splut_model_build().
 * The model keeps a reference to @p ctx.
 * @param ctx the context (its table limit applies to the layers)
 * @param n_inputs number of input features, ≥ 1
 * @param input_bits bits per input code, 1..8
 * @param[out] out the new, unbuilt model (refcount 1); NULL on failure
 * @returns SPLUT_OK, SPLUT_E_NULL, SPLUT_E_OUT_OF_RANGE (zero width, bits not in 1..8),
 *          SPLUT_E_NOMEM
 */
SPLUT_API splut_status splut_model_create(splut_ctx *ctx, uint32_t n_inputs,
                                          uint32_t input_bits, splut_model **out);
/**
 * @brief Append a layer. Its input width is the previous layer's width.
 * @param m a model not yet built
 * @param[in] desc the layer (`size` set with SPLUT_LAYER_DESC_INIT); copied
 * @returns SPLUT_OK, SPLUT_E_NULL, SPLUT_E_STRUCT_SIZE, SPLUT_E_STATE (already built),
 *          SPLUT_E_INVALID (unknown kind, reserved field), SPLUT_E_OUT_OF_RANGE,
 *          SPLUT_E_FAN_IN (F, or A·F, above the input width), SPLUT_E_TABLE_TOO_LARGE,
 *          SPLUT_E_NOMEM
 */
SPLUT_API splut_status splut_model_add_layer(splut_model *m, const splut_layer_desc *desc);
/**
 * @brief Finish the definition: allocate parameters, draw random connectivity and
 * initial weights from the context seed.
 * @param m the model, with at least one layer
 * @returns SPLUT_OK, SPLUT_E_NULL, SPLUT_E_STATE (no layers or already built), SPLUT_E_NOMEM
 */
SPLUT_API splut_status splut_model_build(splut_model *m);
/**
 * @brief Create and build a named preset ("hdr", "hdr-add2", "jsc-xl", …).
 * @param ctx the context (the model keeps a reference)
 * @param[in] name a name listed by splut_preset_name()
 * @param[out] out the built model (refcount 1); NULL on failure
 * @returns SPLUT_OK, SPLUT_E_NULL, SPLUT_E_UNKNOWN_PRESET, SPLUT_E_NOMEM, or any error of
 *          splut_model_add_layer() (e.g. SPLUT_E_TABLE_TOO_LARGE under a small table limit)
 */
SPLUT_API splut_status splut_model_create_preset(splut_ctx *ctx, const char *name,
                                                 splut_model **out);
/**
 * @brief Name of preset number @p index, to enumerate the presets.
 * @param index 0-based
 * @returns a static string, NULL past the last preset
 */
SPLUT_API const char *splut_preset_name(size_t index);
/**
 * @brief Create and build a model from an architecture string.
 *
 * Grammar (tokens separated by spaces, tabs or line breaks; `#` starts a
 * comment that runs to the end of the line, so a file's contents can be
 * passed as is):
 * @code
 * spec   := input layer+
 * input  := IN ":" BITS [":relu"]             IN ≥ 1 features, BITS 1..8 input bits
 * layer  := KIND ":" WIDTH (":" field)*       WIDTH ≥ 1 neurons
 * KIND   := "linear" | "poly" | "add" | "poly-add" | "neuralut"
 * field  := "F" n | "b" n | "D" n | "A" n | "N" n
 * @endcode
 * `F` (fan-in per neuron, per sub-neuron for add) and `b` (output bits) are
 * required; `D` (degree) defaults to 1, `A` (sub-neurons of add) to 2, `N`
 * (hidden units of neuralut) to 16. Numbers are plain decimal digits; each
 * field appears at most once per layer. `:relu` selects the unsigned ReLU
 * input quantiser (SPLUT_INPUT_RELU) instead of BatchNorm + HardTanh. Example,
 * the PolyLUT-Add MNIST model: `"784:2 add:256:F6:b2:D1:A2 add:100:F6:b2:D1:A2
 * add:100:F6:b2:D1:A2 add:100:F6:b2:D1:A2 linear:10:F6:b2"`. The model draws
 * its connectivity and weights from the context seed, as splut_model_build().
 * @param ctx context (the model keeps a reference)
 * @param[in] spec the architecture string
 * @param[out] out the built model; NULL on failure
 * @returns SPLUT_OK, SPLUT_E_NULL, SPLUT_E_INVALID (syntax; the message names the
 *          token), SPLUT_E_NOMEM, or any error of splut_model_add_layer() (e.g.
 *          SPLUT_E_FAN_IN, SPLUT_E_TABLE_TOO_LARGE)
 * @since 0.2
 */
SPLUT_API splut_status splut_model_create_arch(splut_ctx *ctx, const char *spec,
                                               splut_model **out);
/**
 * @brief Drop the caller's reference to a model; NULL is a no-op.
 *
 * Models are reference-counted: splut_model_create() and the other
 * constructors return a model holding one reference, splut_model_ref() takes
 * another, and the memory is freed when the last reference is dropped. A
 * trainer holds its own reference (taken by splut_trainer_create(), dropped by
 * splut_trainer_destroy()), so the model and its trainers may be destroyed in
 * any order. After this call the caller must not use @p m through the handle
 * it just gave up, even if the model lives on inside a trainer. Tables do not
 * refer to their model and need no reference. Thread-safe with respect to
 * splut_model_ref() and other splut_model_destroy() calls on the same model.
 * @param m the model; NULL is a no-op
 */
SPLUT_API void splut_model_destroy(splut_model *m);
/**
 * @brief Deep copy of a built model (parameters, state, connectivity, metadata).
 * @param[in] m a built model
 * @param[out] out the copy (refcount 1, same context); NULL on failure
 * @returns SPLUT_OK, SPLUT_E_NULL, SPLUT_E_STATE (not built), SPLUT_E_NOMEM
 */
SPLUT_API splut_status splut_model_clone(const splut_model *m, splut_model **out);

/**
 * @brief The context a model was created with.
 * @param[in] m the model, or NULL
 * @returns the context (no new reference is taken), NULL for NULL
 */
SPLUT_API splut_ctx *splut_model_ctx(const splut_model *m);
/** @brief Number of input features.
 * @param[in] m the model, or NULL
 * @returns the count, 0 for NULL */
SPLUT_API uint32_t splut_model_num_inputs(const splut_model *m);
/** @brief Bits per input code.
 * @param[in] m the model, or NULL
 * @returns 1..8, 0 for NULL */
SPLUT_API uint32_t splut_model_input_bits(const splut_model *m);
/** @brief Number of layers added so far.
 * @param[in] m the model, or NULL
 * @returns the count, 0 for NULL */
SPLUT_API size_t splut_model_num_layers(const splut_model *m);
/** @brief Number of outputs (width of the last layer).
 * @param[in] m the model, or NULL
 * @returns the count, 0 for NULL or a model without layers */
SPLUT_API uint32_t splut_model_num_outputs(const splut_model *m);
/** @brief Number of trainable scalars (the length of splut_model_params()).
 * @param[in] m the model, or NULL
 * @returns the count, 0 for NULL or before splut_model_build() */
SPLUT_API size_t splut_model_num_params(const splut_model *m);
/**
 * @brief Description of layer @p layer; `desc->size` must be set by the caller.
 * @param[in] m the model (built or not)
 * @param layer 0-based layer index
 * @param[in,out] desc `size` set with SPLUT_LAYER_DESC_INIT; receives the layer
 * @returns SPLUT_OK, SPLUT_E_NULL, SPLUT_E_STRUCT_SIZE, SPLUT_E_INDEX
 */
SPLUT_API splut_status splut_model_layer(const splut_model *m, size_t layer,
                                         splut_layer_desc *desc);

/**
 * @brief Set an integer model parameter (keys 100-199).
 * @param m the model
 * @param key a model key
 * @param value the new value, within the key's bounds
 * @returns SPLUT_OK, SPLUT_E_NULL, SPLUT_E_UNKNOWN_PARAM, SPLUT_E_PARAM_TYPE,
 *          SPLUT_E_OUT_OF_RANGE, SPLUT_E_STATE (SPLUT_P_INPUT_MODE of a built model)
 */
SPLUT_API splut_status splut_model_set_int(splut_model *m, splut_param key, int64_t value);
/**
 * @brief Read an integer model parameter.
 * @param[in] m the model
 * @param key a model key
 * @param[out] value the current value
 * @returns SPLUT_OK, SPLUT_E_NULL, SPLUT_E_UNKNOWN_PARAM, SPLUT_E_PARAM_TYPE
 */
SPLUT_API splut_status splut_model_get_int(const splut_model *m, splut_param key,
                                           int64_t *value);
/**
 * @brief Set a double model parameter (keys 100-199).
 * @param m the model
 * @param key a model key
 * @param value the new value, within the key's bounds (NaN is out of range)
 * @returns SPLUT_OK, SPLUT_E_NULL, SPLUT_E_UNKNOWN_PARAM, SPLUT_E_PARAM_TYPE,
 *          SPLUT_E_OUT_OF_RANGE
 */
SPLUT_API splut_status splut_model_set_double(splut_model *m, splut_param key, double value);
/**
 * @brief Read a double model parameter.
 * @param[in] m the model
 * @param key a model key
 * @param[out] value the current value
 * @returns SPLUT_OK, SPLUT_E_NULL, SPLUT_E_UNKNOWN_PARAM, SPLUT_E_PARAM_TYPE
 */
SPLUT_API splut_status splut_model_get_double(const splut_model *m, splut_param key,
                                              double *value);
/** @} */

/**
 * @defgroup connectivity Connectivity
 * @brief Which inputs each neuron reads: a sorted list of A·F distinct indices.
 * For PolyLUT-Add, sub-neuron a reads list entries a·F … a·F+F−1.
 * @{
 */
/**
 * @brief Copy the input list of neuron @p neuron of layer @p layer.
 * @param[in] m a built model
 * @param layer 0-based layer index
 * @param neuron 0-based neuron index in the layer
 * @param[out] idx buffer of @p cap entries (may be NULL to ask the size)
 * @param cap entries available at @p idx
 * @param[out] n number of entries (A·F), also set when @p idx is NULL or too small
 * @returns SPLUT_OK, SPLUT_E_NULL, SPLUT_E_INDEX, SPLUT_E_STATE, SPLUT_E_BUFFER_TOO_SMALL
 */
SPLUT_API splut_status splut_model_get_inputs(const splut_model *m, size_t layer,
                                              uint32_t neuron, uint32_t *idx, size_t cap,
                                              size_t *n);
/**
 * @brief Replace the input list of a neuron (weights stay as they are).
 * The list must have exactly A·F entries, strictly ascending, each below the
 * layer's input width; otherwise nothing changes.
 * @param m a built model
 * @param layer 0-based layer index
 * @param neuron 0-based neuron index in the layer
 * @param[in] idx the new list
 * @param n its length, A·F
 * @returns SPLUT_OK, SPLUT_E_NULL, SPLUT_E_INDEX, SPLUT_E_STATE, SPLUT_E_CONNECTIVITY
 */
SPLUT_API splut_status splut_model_set_inputs(splut_model *m, size_t layer, uint32_t neuron,
                                              const uint32_t *idx, size_t n);
/**
 * @brief Redraw random connectivity of every layer from @p seed (PolyLUT
 * FeatureMask style: a random permutation prefix per neuron, sorted).
 * @param m a built model
 * @param seed any value; the same seed gives the same connectivity
 * @returns SPLUT_OK, SPLUT_E_NULL, SPLUT_E_STATE, SPLUT_E_NOMEM (nothing changed)
 */
SPLUT_API splut_status splut_model_randomize_connectivity(splut_model *m, uint64_t seed);
/**
 * @brief Prune input @p slot of a neuron: every weight of a monomial that
 * contains it becomes 0 (NEURALUT: its columns of the first and skip maps), so
 * the input no longer influences the neuron (the wire and the table size stay).
 * A trainer resets that neuron's optimiser state.
 * @param m a built model
 * @param layer 0-based layer index
 * @param neuron 0-based neuron index in the layer
 * @param slot position in the neuron's input list, below A·F
 * @returns SPLUT_OK, SPLUT_E_NULL, SPLUT_E_STATE, SPLUT_E_INDEX
 */
SPLUT_API splut_status splut_model_prune_input(splut_model *m, size_t layer, uint32_t neuron,
                                               uint32_t slot);
/**
 * @brief Rewire input @p slot of a neuron to @p input with degree-1 weight
 * @p weight. Monomials of the old input are dropped, the sub-neuron's inputs are
 * re-sorted and every other weight moves with its variables, so the neuron
 * computes the same function of its remaining inputs (NEURALUT: the new input
 * enters through every hidden unit of the skip map with @p weight, its first-map
 * column is 0). The new list must stay
 * strictly ascending across the whole neuron (for POLY_ADD the input must fall
 * between the neighbouring sub-neurons' inputs); otherwise nothing changes.
 * @param m a built model
 * @param layer 0-based layer index
 * @param neuron 0-based neuron index in the layer
 * @param slot position in the neuron's input list, below A·F
 * @param input the new input index, below the layer's input width
 * @param weight the degree-1 weight of the new input, finite
 * @returns SPLUT_OK, SPLUT_E_NULL, SPLUT_E_STATE, SPLUT_E_INDEX, SPLUT_E_CONNECTIVITY
 *          (duplicate, out of range or order), SPLUT_E_NON_FINITE, SPLUT_E_NOMEM
 */
SPLUT_API splut_status splut_model_grow_input(splut_model *m, size_t layer, uint32_t neuron,
                                              uint32_t slot, uint32_t input, float weight);
/**
 * @brief Check every invariant of a built model: connectivity (length, range,
 * strictly ascending) and finite parameters and statistics.
 * @param[in] m the model
 * @returns SPLUT_OK, SPLUT_E_NULL, SPLUT_E_STATE, SPLUT_E_CONNECTIVITY, SPLUT_E_NON_FINITE
 */
SPLUT_API splut_status splut_model_validate(const splut_model *m);
/** @} */

/**
 * @defgroup inference Model inference (eval mode)
 * @{
 */
/**
 * @brief Layer-0 input quantiser (BatchNorm in eval mode, bias, quantiser) in
 * software: the codes that feed the circuit. Reads the model only, so many
 * threads may call it on one model at once.
 * @param[in] m a built model
 * @param[in] x @p n rows of splut_model_num_inputs() floats, row-major
 * @param n number of rows; 0 does nothing (@p x and @p codes may then be NULL)
 * @param[out] codes @p n × inputs encoded codes
 * @returns SPLUT_OK, SPLUT_E_NULL, SPLUT_E_STATE (not built), SPLUT_E_NON_FINITE
 */
SPLUT_API splut_status splut_model_input_codes(const splut_model *m, const float *x, size_t n,
                                               uint16_t *codes);
/**
 * @brief Run the model in eval mode from input codes to output codes.
 * @param[in] m a built model (only read)
 * @param[in] in_codes @p n × inputs encoded codes (each below 2^input_bits)
 * @param n number of samples; 0 does nothing
 * @param[out] out_codes @p n × outputs encoded codes
 * @returns SPLUT_OK, SPLUT_E_NULL, SPLUT_E_STATE, SPLUT_E_OUT_OF_RANGE (bad code), SPLUT_E_NOMEM
 */
SPLUT_API splut_status splut_model_forward_codes(const splut_model *m, const uint16_t *in_codes,
                                                 size_t n, uint16_t *out_codes);
/**
 * @brief Eval-mode prediction from features: class index per sample (argmax of
 * the output values, lowest index on ties; for one output, 1 if its logit > 0),
 * and optionally the output codes.
 * @param[in] m a built model (only read)
 * @param[in] x @p n × inputs features, row-major, finite
 * @param n number of samples; 0 does nothing
 * @param[out] pred @p n class indices (may be NULL)
 * @param[out] out_codes @p n × outputs encoded codes (may be NULL)
 * @returns SPLUT_OK, SPLUT_E_NULL, SPLUT_E_STATE, SPLUT_E_NON_FINITE, SPLUT_E_NOMEM
 */
SPLUT_API splut_status splut_model_predict(const splut_model *m, const float *x, size_t n,
                                           int32_t *pred, uint16_t *out_codes);
/**
 * @brief Class predictions from output codes (same rule as splut_model_predict()).
 * @param[in] m a built model
 * @param[in] out_codes @p n × outputs encoded codes
 * @param n number of samples; 0 does nothing (the buffers may then be NULL)
 * @param[out] pred @p n class indices
 * @returns SPLUT_OK, SPLUT_E_NULL, SPLUT_E_STATE
 */
SPLUT_API splut_status splut_model_classify_codes(const splut_model *m,
                                                  const uint16_t *out_codes, size_t n,
                                                  int32_t *pred);
/**
 * @brief The output values that splut_model_classify_codes() compares: for
 * every output code, its dequantised value through the model's output
 * transform, (value(code) + post_bias) × post_weight. These are the logits
 * the training loss sees, so they turn a trained model's outputs into soft
 * targets for another (knowledge distillation).
 * @param[in] m a built model
 * @param[in] out_codes @p n × outputs encoded codes
 * @param n number of samples; 0 does nothing
 * @param[out] values @p n × outputs floats
 * @returns SPLUT_OK, SPLUT_E_NULL, SPLUT_E_STATE, SPLUT_E_OUT_OF_RANGE (bad code)
 */
SPLUT_API splut_status splut_model_output_values(const splut_model *m, const uint16_t *out_codes,
                                                 size_t n, float *values);
/** @} */

/**
 * @defgroup dataset Datasets
 * @brief Feature rows and class labels, as training runs and loaders exchange them.
 *
 * A dataset is @c n rows of @c features floats (row-major) with one integer
 * label per row. It either copies the caller's arrays or borrows them
 * (::SPLUT_DATASET_BORROW: the caller keeps them alive and unchanged while the
 * dataset exists). Datasets are reference counted: objects that keep a dataset
 * (a training run) take a reference, so splut_dataset_destroy() may be called
 * in any order. A dataset is immutable once created, except for its image
 * shape, and may be read by many threads at once.
 * @{
 */
/** Rows of features with class labels (refcounted, immutable contents). */
typedef struct splut_dataset splut_dataset;

/** Flags of splut_dataset_create(). */
typedef enum splut_dataset_flags {
    SPLUT_DATASET_COPY = 0,  /**< copy @c x and @c y into memory the dataset owns */
    SPLUT_DATASET_BORROW = 1 /**< keep the caller's pointers; they must outlive the dataset */
} splut_dataset_flags;

/**
 * @brief Create a dataset of @p n rows.
 * @param ctx context (a reference is taken)
 * @param n rows, ≥ 1
 * @param features floats per row, ≥ 1
 * @param x n × features finite floats, row-major
 * @param y n labels, each ≥ 0
 * @param flags ::splut_dataset_flags
 * @param[out] out the new dataset (refcount 1)
 * @returns SPLUT_OK, SPLUT_E_NULL, SPLUT_E_INVALID (n or features 0, n × features
 *          too large, unknown flag), SPLUT_E_NON_FINITE (a NaN or infinite feature;
 *          the message names row and column), SPLUT_E_LABEL (a negative label),
 *          SPLUT_E_NOMEM
 * @since 0.2
 */
SPLUT_API splut_status splut_dataset_create(splut_ctx *ctx, size_t n, uint32_t features,
                                            const float *x, const int32_t *y, unsigned flags,
                                            splut_dataset **out);
/**
 * @brief Writes the rows of a new dataset (see splut_dataset_create_filled()).
 * @param user the pointer given to splut_dataset_create_filled()
 * @param x n × features floats to fill, row-major (uninitialised on entry)
 * @param y n labels to fill (uninitialised on entry)
 * @returns SPLUT_OK, or a failure status that splut_dataset_create_filled()
 *          returns unchanged (the callback may set the message with
 *          splut_ctx_set_error())
 */
typedef splut_status (*splut_dataset_fill_fn)(void *user, float *x, int32_t *y);

/**
 * @brief Create a dataset of @p n rows whose arrays @p fill writes in place.
 *
 * For loaders: the rows are decoded straight into the dataset's own memory,
 * without the second copy that ::SPLUT_DATASET_COPY makes, and without the
 * lifetime duty of ::SPLUT_DATASET_BORROW. @p fill is called once, before the
 * function returns; the rows are then checked as splut_dataset_create() checks
 * them, and the dataset is immutable from then on.
 * @param ctx context (a reference is taken; its allocator provides the arrays)
 * @param n rows, ≥ 1
 * @param features floats per row, ≥ 1
 * @param fill writes every feature and every label
 * @param user passed to @p fill
 * @param[out] out the new dataset (refcount 1), NULL on failure
 * @returns SPLUT_OK, SPLUT_E_NULL, SPLUT_E_INVALID (n or features 0, or too large),
 *          SPLUT_E_NON_FINITE, SPLUT_E_LABEL, SPLUT_E_NOMEM, or the status of a
 *          failing @p fill
 * @since 0.2
 */
SPLUT_API splut_status splut_dataset_create_filled(splut_ctx *ctx, size_t n, uint32_t features,
                                                   splut_dataset_fill_fn fill, void *user,
                                                   splut_dataset **out);
/**
 * @brief Take a reference to @p ds (thread-safe).
 * @param ds the dataset, or NULL
 * @returns @p ds (NULL for NULL)
 * @since 0.2
 */
SPLUT_API splut_dataset *splut_dataset_ref(splut_dataset *ds);
/**
 * @brief Drop a reference (thread-safe); the dataset is freed with its last one.
 * @param ds the dataset; NULL is a no-op
 * @since 0.2
 */
SPLUT_API void splut_dataset_destroy(splut_dataset *ds);
/**
 * @brief The context the dataset was created with.
 * @param[in] ds the dataset, or NULL
 * @returns the context (no new reference is taken), NULL for NULL
 * @since 0.2
 */
SPLUT_API splut_ctx *splut_dataset_ctx(const splut_dataset *ds);
/** @brief Number of rows.
 * @param[in] ds the dataset, or NULL
 * @returns the count, 0 for NULL
 * @since 0.2 */
SPLUT_API size_t splut_dataset_num_samples(const splut_dataset *ds);
/** @brief Floats per row.
 * @param[in] ds the dataset, or NULL
 * @returns the count, 0 for NULL
 * @since 0.2 */
SPLUT_API uint32_t splut_dataset_num_features(const splut_dataset *ds);
/** @brief Number of classes: 1 + the largest label.
 * @param[in] ds the dataset, or NULL
 * @returns the count, 0 for NULL
 * @since 0.2 */
SPLUT_API uint32_t splut_dataset_num_classes(const splut_dataset *ds);
/** @brief The n × features feature matrix, row-major.
 * @param[in] ds the dataset, or NULL
 * @returns the dataset's array (or the borrowed one), valid while @p ds lives; NULL for NULL
 * @since 0.2 */
SPLUT_API const float *splut_dataset_features(const splut_dataset *ds);
/** @brief The n labels.
 * @param[in] ds the dataset, or NULL
 * @returns the dataset's array (or the borrowed one), valid while @p ds lives; NULL for NULL
 * @since 0.2 */
SPLUT_API const int32_t *splut_dataset_labels(const splut_dataset *ds);
/**
 * @brief Declare that each row is a @p width × @p height image (row-major pixels)
 * whose empty pixel has the value @p background; image augmentation needs it.
 * width = height = 0 declares a table (no image). The one change a dataset
 * allows: do not call it while other threads read @p ds.
 * @param ds the dataset
 * @param width pixels per image row, or 0
 * @param height image rows, or 0
 * @param background value of an empty pixel, finite
 * @returns SPLUT_OK, SPLUT_E_NULL, SPLUT_E_INVALID (width·height ≠ features, or only
 *          one side 0), SPLUT_E_NON_FINITE (background)
 * @since 0.2
 */
SPLUT_API splut_status splut_dataset_set_image(splut_dataset *ds, uint32_t width,
                                               uint32_t height, float background);
/**
 * @brief The image shape set by splut_dataset_set_image() (0 × 0 for a table).
 * Any out-pointer may be NULL.
 * @param[in] ds the dataset
 * @param[out] width pixels per image row, 0 for a table
 * @param[out] height image rows, 0 for a table
 * @param[out] background value of an empty pixel
 * @returns SPLUT_OK, SPLUT_E_NULL (@p ds)
 * @since 0.2
 */
SPLUT_API splut_status splut_dataset_image(const splut_dataset *ds, uint32_t *width,
                                           uint32_t *height, float *background);
/**
 * @brief 64-bit FNV-1a fingerprint of the contents (row count, feature count,
 * labels, feature bytes); 0 for NULL. Checkpoints record it so that a resume
 * sees the same data. Not a cryptographic hash.
 * @param[in] ds the dataset, or NULL
 * @returns the fingerprint, 0 for NULL
 * @since 0.2
 */
SPLUT_API uint64_t splut_dataset_fingerprint(const splut_dataset *ds);
/**
 * @brief Per-feature mean and population standard deviation of @p ds.
 *
 * Summed in double, rows in order; a feature whose deviation is 0 gets sd 1,
 * so that it is only centred (scikit-learn's StandardScaler rule, and the
 * `--standardize` option of the data loaders). Use the statistics of the
 * training set for the test set (splut_dataset_standardize()) and for the
 * hardware input stage (splut_input_format::offset and splut_input_format::scale).
 * @param[in] ds the dataset
 * @param[out] mean one value per feature
 * @param[out] sd one value per feature, each > 0
 * @returns SPLUT_OK, SPLUT_E_NULL
 * @since 0.2
 */
SPLUT_API splut_status splut_dataset_feature_stats(const splut_dataset *ds, double *mean,
                                                   double *sd);
/**
 * @brief A new dataset whose feature f is (float)((x − mean[f]) / sd[f]),
 * computed in double and rounded once; labels are copied, the image shape is
 * not (the result is a table).
 * @param[in] ds the dataset
 * @param[in] mean one offset per feature, finite
 * @param[in] sd one scale per feature, finite and nonzero
 * @param[out] out the standardised copy (refcount 1), NULL on failure
 * @returns SPLUT_OK, SPLUT_E_NULL, SPLUT_E_INVALID (a non-finite statistic or a zero sd),
 *          SPLUT_E_NON_FINITE (a result overflows), SPLUT_E_NOMEM
 * @since 0.2
 */
SPLUT_API splut_status splut_dataset_standardize(const splut_dataset *ds, const double *mean,
                                                 const double *sd, splut_dataset **out);
/** @} */

/**
 * @defgroup trainer Training
 * @brief Quantisation-aware training: AdamW, cosine schedule with warm restarts.
 * @{
 */
/** Optimiser state (AdamW moments, schedule, step) for one model. */
typedef struct splut_trainer splut_trainer;

/**
 * @brief Create a trainer for @p m; every step modifies the model. The trainer
 * takes its own reference on @p m (see splut_model_destroy()), so the model
 * lives at least as long as the trainer.
 * @param m a built model
 * @param[out] out the new trainer; NULL on failure
 * @returns SPLUT_OK, SPLUT_E_NULL, SPLUT_E_STATE (model not built), SPLUT_E_NOMEM
 */
SPLUT_API splut_status splut_trainer_create(splut_model *m, splut_trainer **out);
/**
 * @brief Destroy a trainer and drop its reference on its model.
 * @param t the trainer; NULL is a no-op
 */
SPLUT_API void splut_trainer_destroy(splut_trainer *t);
/**
 * @brief Set an integer trainer parameter (keys 200-299).
 * @param t the trainer
 * @param key a trainer key
 * @param value the new value, within the key's bounds
 * @returns SPLUT_OK, SPLUT_E_NULL, SPLUT_E_UNKNOWN_PARAM, SPLUT_E_PARAM_TYPE,
 *          SPLUT_E_OUT_OF_RANGE, SPLUT_E_STATE (a connectivity key 210–224 while
 *          connectivity is being learned)
 */
SPLUT_API splut_status splut_trainer_set_int(splut_trainer *t, splut_param key, int64_t value);
/**
 * @brief Read an integer trainer parameter.
 * @param[in] t the trainer
 * @param key a trainer key
 * @param[out] value the current value
 * @returns SPLUT_OK, SPLUT_E_NULL, SPLUT_E_UNKNOWN_PARAM, SPLUT_E_PARAM_TYPE
 */
SPLUT_API splut_status splut_trainer_get_int(const splut_trainer *t, splut_param key,
                                             int64_t *value);
/**
 * @brief Set a double trainer parameter (keys 200-299).
 * @param t the trainer
 * @param key a trainer key
 * @param value the new value, within the key's bounds (NaN is out of range)
 * @returns SPLUT_OK, SPLUT_E_NULL, SPLUT_E_UNKNOWN_PARAM, SPLUT_E_PARAM_TYPE,
 *          SPLUT_E_OUT_OF_RANGE
 */
SPLUT_API splut_status splut_trainer_set_double(splut_trainer *t, splut_param key,
                                                double value);
/**
 * @brief Read a double trainer parameter.
 * @param[in] t the trainer
 * @param key a trainer key
 * @param[out] value the current value
 * @returns SPLUT_OK, SPLUT_E_NULL, SPLUT_E_UNKNOWN_PARAM, SPLUT_E_PARAM_TYPE
 */
SPLUT_API splut_status splut_trainer_get_double(const splut_trainer *t, splut_param key,
                                                double *value);
/**
 * @brief One optimiser step on a batch (train-mode BatchNorm, straight-through
 * quantisers, cross-entropy for ≥2 outputs or BCE-with-logits for one).
 * During phase 1 of learned connectivity the step trains the surrogate network
 * (splut_trainer_model_in_training()).
 * @param t the trainer
 * @param[in] x @p n × inputs features, row-major, finite
 * @param[in] labels @p n class indices in [0, splut_model_num_classes()) (0/1 for
 *            one output; the GroupSum group for a LUT model)
 * @param n batch size, ≥ 2 (BatchNorm needs a batch)
 * @param[out] loss mean loss of the batch before the update (may be NULL)
 * @returns SPLUT_OK, SPLUT_E_NULL, SPLUT_E_INVALID (n < 2), SPLUT_E_NON_FINITE,
 *          SPLUT_E_LABEL, SPLUT_E_DIVERGED (non-finite loss or gradient: nothing
 *          updated), SPLUT_E_STATE (learned connectivity without
 *          SPLUT_P_STEPS_PER_EPOCH), SPLUT_E_NOMEM
 */
SPLUT_API splut_status splut_trainer_step(splut_trainer *t, const float *x,
                                          const int32_t *labels, size_t n, double *loss);
/**
 * @brief Mean loss and gradient of the batch, without updating anything
 * (running statistics untouched). @p grad receives splut_model_num_params()
 * values in the order of the model's parameter vector; it may be NULL.
 * Used for finite-difference checks. Always on the trainer's model, also
 * during phase 1 of learned connectivity.
 * @param t the trainer
 * @param[in] x @p n × inputs features, row-major, finite
 * @param[in] labels @p n class indices, as for splut_trainer_step()
 * @param n batch size, ≥ 2
 * @param[out] loss mean loss of the batch (may be NULL)
 * @param[out] grad splut_model_num_params() floats (may be NULL)
 * @returns SPLUT_OK, SPLUT_E_NULL, SPLUT_E_INVALID (n < 2), SPLUT_E_NON_FINITE,
 *          SPLUT_E_LABEL, SPLUT_E_DIVERGED (non-finite loss or gradient), SPLUT_E_NOMEM
 */
SPLUT_API splut_status splut_trainer_loss_grad(splut_trainer *t, const float *x,
                                               const int32_t *labels, size_t n, double *loss,
                                               float *grad);
/**
 * @brief One optimiser step towards soft targets: knowledge distillation
 * from a teacher's output distribution, label smoothing, or any other
 * probabilities. The loss is the cross-entropy -Σ_o p_o log softmax(z)_o
 * (one output: binary cross-entropy with target probability p); one-hot
 * targets give exactly the update of splut_trainer_step().
 *
 * Phase 1 of learned connectivity trains its surrogate on labels, so until the
 * switch this returns SPLUT_E_STATE and changes nothing.
 * @param t the trainer
 * @param[in] x @p n × inputs features, row-major, finite
 * @param[in] targets @p n × outputs probabilities, row-major, each in [0, 1]
 *            and each row summing to 1 within 1e-4 (one output: P(class 1))
 * @param n batch size, ≥ 2
 * @param[out] loss mean loss of the batch before the update (may be NULL)
 * @returns SPLUT_OK, SPLUT_E_NULL, SPLUT_E_INVALID (n < 2, or a target that is
 *          not a probability: NaN, out of [0, 1], a row not summing to 1),
 *          SPLUT_E_NON_FINITE, SPLUT_E_STATE, SPLUT_E_DIVERGED, SPLUT_E_NOMEM
 */
SPLUT_API splut_status splut_trainer_step_soft(splut_trainer *t, const float *x,
                                               const float *targets, size_t n, double *loss);
/**
 * @brief Mean soft-target loss and its gradient, without updating anything
 * (the soft counterpart of splut_trainer_loss_grad(); same @p targets rules as
 * splut_trainer_step_soft()). Always on the trainer's model.
 * @param t the trainer
 * @param[in] x @p n × inputs features, row-major, finite
 * @param[in] targets @p n × outputs probabilities, as for splut_trainer_step_soft()
 * @param n batch size, ≥ 2
 * @param[out] loss mean loss of the batch (may be NULL)
 * @param[out] grad splut_model_num_params() floats (may be NULL)
 * @returns SPLUT_OK, SPLUT_E_NULL, SPLUT_E_INVALID (n < 2 or a target that is not a
 *          probability), SPLUT_E_NON_FINITE, SPLUT_E_DIVERGED, SPLUT_E_NOMEM
 */
SPLUT_API splut_status splut_trainer_loss_grad_soft(splut_trainer *t, const float *x,
                                                    const float *targets, size_t n,
                                                    double *loss, float *grad);
/**
 * @brief Replace every BatchNorm running statistic of the trainer's model by
 * its population estimate over @p x: the train-mode forward pass runs on
 * consecutive batches of @p batch samples (a last batch of fewer than 2 is
 * skipped), and each running mean / variance becomes the average over batches
 * of the batch mean / unbiased batch variance (torch.optim.swa_utils.update_bn).
 *
 * The running statistics that training keeps are a moving average over the
 * last few dozen batches; in a quantised network that noise moves eval-mode
 * codes from one epoch to the next. Calibration changes only running
 * statistics: parameters, optimiser state and the rest of the training are
 * untouched (train-mode passes with batch statistics never read running
 * statistics; with SPLUT_P_BN_FROZEN set, later steps train against the new
 * values, which is how frozen statistics are set), and the result is identical
 * for any thread count.
 * @param t the trainer
 * @param[in] x @p n × inputs features, row-major, finite (e.g. the training set)
 * @param n samples, ≥ 2
 * @param batch batch size, ≥ 2 (use the training batch size)
 * @returns SPLUT_OK, SPLUT_E_NULL, SPLUT_E_INVALID, SPLUT_E_NON_FINITE (nothing
 *          changed), SPLUT_E_STATE (learned connectivity still in phase 1),
 *          SPLUT_E_NOMEM
 */
SPLUT_API splut_status splut_trainer_calibrate_bn(splut_trainer *t, const float *x, size_t n,
                                                  size_t batch);
/**
 * @brief Active connections of a layer and the candidates they are drawn from.
 * During phase 1 of learned connectivity these shrink towards A·F per neuron;
 * otherwise both equal the layer's fixed A·F·width.
 * @param[in] t the trainer
 * @param layer 0-based layer index
 * @param[out] active active connections of the layer
 * @param[out] candidates candidate connections of the layer (may be NULL)
 * @returns SPLUT_OK, SPLUT_E_NULL (@p t or @p active), SPLUT_E_INDEX
 */
SPLUT_API splut_status splut_trainer_connections(const splut_trainer *t, size_t layer,
                                                 uint64_t *active, uint64_t *candidates);
/**
 * @brief The network the trainer is updating: the phase-1 surrogate (linear
 * neurons over candidate inputs, same widths and quantisers) while learned
 * connectivity is in phase 1, the trainer's model otherwise. Use it to measure
 * accuracy during training; it is owned by the trainer.
 *
 * A step of phase 1 may replace the surrogate by a smaller one (compaction),
 * and the step that reaches the switch epoch frees it (so do
 * splut_trainer_load() and splut_trainer_destroy()); from then on this
 * function returns the trainer's model. Do not keep the result across a call
 * that changes the trainer: ask again after every step. No reference is taken.
 * @param[in] t the trainer, or NULL
 * @returns the surrogate or the trainer's model, NULL for NULL
 */
SPLUT_API const splut_model *splut_trainer_model_in_training(const splut_trainer *t);
/**
 * @brief Read (@p get != 0) or write the model's trainable parameter vector.
 * A write checks every value first and changes nothing on failure.
 * @param m a built model
 * @param[in,out] vals splut_model_num_params() floats
 * @param get nonzero: copy the parameters into @p vals; 0: replace them by @p vals
 * @returns SPLUT_OK, SPLUT_E_NULL, SPLUT_E_STATE (not built), SPLUT_E_NON_FINITE (a
 *          written value is NaN or infinite)
 */
SPLUT_API splut_status splut_model_params(splut_model *m, float *vals, int get);
/** @} */

/* ---------------------------------------------------------------------------------------- */
/**
 * @defgroup lifetimes Shared ownership and thread-safe error messages
 * @brief Model references (trainers and runs hold one) and a last-error copy
 * that is safe while other threads use the same context.
 * @{
 */
/**
 * @brief Take another reference to @p m; returns @p m (NULL for NULL).
 *
 * Every reference is dropped with splut_model_destroy(); the model is freed
 * with its last one. References may be taken and dropped from different
 * threads; the model's contents still follow the one-writer rule.
 * @param m the model, or NULL
 * @returns @p m (NULL for NULL)
 * @since 0.2
 */
SPLUT_API splut_model *splut_model_ref(splut_model *m);
/**
 * @brief Copy the last failure message of @p ctx into @p buf under the
 * context's lock, so that a failure on another thread cannot tear it.
 *
 * The message of a context is shared by every handle of it: with handles used
 * on several threads it is the most recent failure of any of them. This call
 * never records a failure itself (it would replace the message being read).
 * @param[in] ctx the context
 * @param[out] buf receives the message, always NUL-terminated (truncated if
 *             @p cap is too small); may be NULL when @p cap is 0
 * @param[in] cap bytes available at @p buf
 * @param[out] needed if not NULL, receives strlen(message) + 1
 * @returns SPLUT_OK, SPLUT_E_NULL (@p ctx, or @p buf with @p cap > 0),
 *          SPLUT_E_BUFFER_TOO_SMALL (the message was truncated)
 * @since 0.2
 */
SPLUT_API splut_status splut_ctx_copy_last_error(const splut_ctx *ctx, char *buf, size_t cap,
                                                 size_t *needed);
/** @} */

/**
 * @defgroup io Model files
 * @brief Versioned, little-endian, checksummed model files (see docs/model-format.md).
 * @{
 */
/**
 * @brief Write a built model to @p path atomically (temp file + rename).
 * On failure an existing file at @p path is left untouched and no temporary
 * file remains. The same model always gives the same bytes.
 * @param[in] m a built model
 * @param[in] path destination file
 * @returns SPLUT_OK, SPLUT_E_NULL, SPLUT_E_STATE, SPLUT_E_IO, SPLUT_E_NOMEM
 */
SPLUT_API splut_status splut_model_save(const splut_model *m, const char *path);
/**
 * @brief Load a model file, validating every field.
 * Also accepts a file written by splut_trainer_save() (the trainer part is
 * checked and ignored). The message names the offending field and its offset.
 * @param ctx context of the new model (its table limit applies)
 * @param[in] path the file
 * @param[out] out the loaded, built model; NULL on failure
 * @returns SPLUT_OK, SPLUT_E_NULL, SPLUT_E_IO, SPLUT_E_FORMAT, SPLUT_E_VERSION,
 *          SPLUT_E_CHECKSUM, SPLUT_E_TABLE_TOO_LARGE, SPLUT_E_NOMEM; a layer
 *          description that splut_model_add_layer() refuses keeps that call's status
 *          (SPLUT_E_OUT_OF_RANGE, SPLUT_E_INVALID, SPLUT_E_FAN_IN), and invalid
 *          connectivity gives SPLUT_E_CONNECTIVITY
 */
SPLUT_API splut_status splut_model_load(splut_ctx *ctx, const char *path, splut_model **out);
/**
 * @brief Serialise a built model into a caller buffer; @p buf NULL asks the size.
 * @param[in] m a built model
 * @param[out] buf @p cap bytes, or NULL
 * @param cap size of @p buf
 * @param[out] needed the serialised size (also set when the buffer is too small)
 * @returns SPLUT_OK, SPLUT_E_NULL, SPLUT_E_STATE, SPLUT_E_BUFFER_TOO_SMALL
 */
SPLUT_API splut_status splut_model_serialize(const splut_model *m, void *buf, size_t cap,
                                             size_t *needed);
/**
 * @brief Inverse of splut_model_serialize(): a new model from @p size bytes.
 * @param ctx context of the new model (its table limit applies)
 * @param[in] buf the serialised bytes
 * @param size their count
 * @param[out] out the built model; NULL on failure
 * @returns as splut_model_load() (except SPLUT_E_IO)
 */
SPLUT_API splut_status splut_model_deserialize(splut_ctx *ctx, const void *buf, size_t size,
                                               splut_model **out);
/**
 * @brief Save the trainer's optimiser state (moments, step) together with its
 * model, atomically, so that training can resume bit-exactly.
 * The file also holds the trainer parameters 200-218 (including the
 * learned-connectivity schedule), not the phase-1 settings 219-224 nor
 * SPLUT_P_BN_FROZEN, which the caller sets again after loading. During
 * learned-connectivity phase 1 the surrogate network cannot be saved: the
 * call fails with SPLUT_E_STATE.
 * @param[in] t the trainer
 * @param[in] path destination file
 * @returns SPLUT_OK, SPLUT_E_NULL, SPLUT_E_STATE (phase 1), SPLUT_E_IO, SPLUT_E_NOMEM
 */
SPLUT_API splut_status splut_trainer_save(const splut_trainer *t, const char *path);
/**
 * @brief Restore a state written by splut_trainer_save() into a trainer whose
 * model has the same architecture (the model's parameters are replaced too).
 * Replaces the model's parameters, running statistics, connectivity and
 * metadata and the trainer's hyper-parameters, step and moments, all or nothing.
 * @param t the trainer
 * @param[in] path a file written by splut_trainer_save()
 * @returns as splut_model_load(), plus SPLUT_E_INVALID on an architecture mismatch;
 *          SPLUT_E_FORMAT for a file without trainer state
 */
SPLUT_API splut_status splut_trainer_load(splut_trainer *t, const char *path);
/** @} */

/**
 * @defgroup run Training runs
 * @brief Whole training runs: what `sparselut train` does, as a library object.
 *
 * A run trains a model on a training dataset epoch by epoch: a seeded shuffle
 * per epoch (the same order for any thread count), mini-batches (a final batch
 * of fewer than 2 samples is skipped), AdamW with cosine warm restarts given in
 * epochs, optional learned connectivity (trainer keys SPLUT_P_CONNECTIVITY,
 * SPLUT_P_SWITCH_EPOCH, SPLUT_P_CONN_*), an exponential moving average of the
 * parameters, BatchNorm calibration and freezing, distillation from a teacher
 * model, image shifts and a per-sample transform hook, keep-best, per-epoch
 * train/test accuracy and a history of every epoch. Configure it with
 * parameter keys 300–399 and with the trainer keys 200–299, which the run
 * passes to its trainer (except SPLUT_P_STEP, SPLUT_P_STEPS_PER_EPOCH,
 * SPLUT_P_RESTART_PERIOD and SPLUT_P_BN_FROZEN, which the run manages), before
 * the first epoch. Then drive it with splut_run_epoch() or splut_run_fit().
 *
 * Everything is deterministic: the same model, data, seed and keys give the
 * same bytes for any thread count, and a run resumed from its checkpoint
 * (splut_run_resume()) ends with exactly the model of an uninterrupted run.
 * The guide is docs/run.md; the checkpoint format docs/checkpoint-format.md.
 * @{
 */
/** A training run (model, datasets, trainer, schedule, history, checkpoints). */
typedef struct splut_run splut_run;

/** One finished epoch (size-versioned: set `size` with SPLUT_RUN_RECORD_INIT). */
typedef struct splut_run_record {
    size_t size;             /**< sizeof(splut_run_record) */
    uint64_t epoch;          /**< 1-based */
    double loss;             /**< mean training loss of the epoch's steps */
    double train_accuracy;   /**< eval-mode accuracy of the evaluated model, training set */
    double test_accuracy;    /**< the same on the test set (NaN without one) */
    double live_test_accuracy; /**< the live model's test accuracy when the evaluated
                                  model is an average or calibrated copy, else NaN */
    double seconds;          /**< wall time of the epoch (training and evaluation) */
    uint32_t n_layers;       /**< entries of @c active in use (at most 16) */
    uint32_t reserved;       /**< 0 */
    uint64_t active[16];     /**< active connections per layer at the end of the epoch */
} splut_run_record;
/** Initialiser for ::splut_run_record. */
#define SPLUT_RUN_RECORD_INIT {sizeof(splut_run_record), 0, 0, 0, 0, 0, 0, 0, 0, {0}}

/** What a progress report is about. */
typedef enum splut_progress_kind {
    SPLUT_PROGRESS_STEP = 0, /**< an optimiser step of the current epoch finished */
    SPLUT_PROGRESS_EPOCH = 1 /**< an epoch finished (evaluated, recorded, checkpointed) */
} splut_progress_kind;

/** A progress report (size-versioned; the run fills every field). */
typedef struct splut_run_progress {
    size_t size;             /**< sizeof(splut_run_progress) */
    int32_t kind;            /**< ::splut_progress_kind */
    uint32_t reserved;       /**< 0 */
    uint64_t epoch;          /**< current epoch, 1-based */
    uint64_t epochs;         /**< SPLUT_P_RUN_EPOCHS */
    uint64_t batch;          /**< batches done in this epoch */
    uint64_t batches;        /**< batches per epoch */
    double loss;             /**< mean loss of the epoch so far */
    double samples_per_s;    /**< training throughput of this epoch so far */
    double train_seconds;    /**< optimiser wall time of this epoch so far */
    uint64_t samples;        /**< samples stepped in this epoch so far */
    double eta_seconds;      /**< estimated time to the end of the run */
    const splut_run_record *record; /**< SPLUT_PROGRESS_EPOCH: the finished epoch, else NULL */
} splut_run_progress;

/**
 * Progress callback: called after every step and every epoch. Return 0 to
 * continue; any other value stops the run cleanly: the call in progress
 * returns SPLUT_E_CANCELLED and the next splut_run_epoch() or splut_run_fit()
 * continues exactly where it stopped (the result is the same as without the
 * stop).
 */
typedef int (*splut_run_progress_fn)(void *user, const splut_run_progress *p);

/**
 * Per-sample transform hook (augmentation): called for every training sample
 * of every step with the sample's features in @p x (after the built-in image
 * shift), which it may change in place. It must be a pure function of
 * (@p seed, @p epoch, @p position, the sample) for runs to stay deterministic
 * and resumable. Return 0, or nonzero to stop the run (SPLUT_E_CANCELLED).
 * @p position is the sample's place in the epoch's shuffled order.
 */
typedef int (*splut_run_transform_fn)(void *user, float *x, uint32_t features, int32_t label,
                                      uint64_t seed, uint64_t epoch, uint64_t position);

/**
 * @brief Create a run that trains @p model on @p train.
 *
 * The run trains @p model in place and takes a reference to it (through its
 * trainer) and to each dataset, so the caller may drop its own handles in any
 * order; splut_run_destroy() leaves the model as trained so far. Parameters
 * start at their defaults (see the SPLUT_P_RUN_* keys).
 * @param model a built model
 * @param train training set: as many features as the model has inputs, labels
 *        below the outputs (0/1 for one output), at least 2 rows
 * @param test test set with the same features and label range, or NULL
 * @param[out] out the new run
 * @returns SPLUT_OK, SPLUT_E_NULL, SPLUT_E_STATE (model not built),
 *          SPLUT_E_INVALID (feature count differs; the message says which set),
 *          SPLUT_E_LABEL (a label too large for the model), SPLUT_E_NOMEM
 * @since 0.2
 */
SPLUT_API splut_status splut_run_create(splut_model *model, splut_dataset *train,
                                        splut_dataset *test, splut_run **out);
/**
 * @brief Destroy a run and drop its references; the model stays (trained so far)
 * while the caller holds a reference to it.
 * @param run the run; NULL is a no-op
 * @since 0.2
 */
SPLUT_API void splut_run_destroy(splut_run *run);
/**
 * @brief Set an integer run parameter (keys 300–399) or trainer parameter (200–299).
 * @param run the run
 * @param key a run key or a trainer key the run does not manage
 * @param value the new value, within the key's bounds
 * @returns SPLUT_OK, SPLUT_E_NULL, SPLUT_E_UNKNOWN_PARAM (a key of another object,
 *          or one the run manages), SPLUT_E_PARAM_TYPE, SPLUT_E_OUT_OF_RANGE,
 *          SPLUT_E_STATE (after the first epoch, except SPLUT_P_RUN_EPOCHS; or a
 *          read-only key)
 * @since 0.2
 */
SPLUT_API splut_status splut_run_set_int(splut_run *run, splut_param key, int64_t value);
/**
 * @brief Read an integer run or trainer parameter (including the read-only keys).
 * @param[in] run the run
 * @param key a run or trainer key
 * @param[out] value the current value (SPLUT_P_SWITCH_EPOCH before the first
 *             epoch: the switch epoch the run will use)
 * @returns SPLUT_OK, SPLUT_E_NULL, SPLUT_E_UNKNOWN_PARAM, SPLUT_E_PARAM_TYPE
 * @since 0.2
 */
SPLUT_API splut_status splut_run_get_int(const splut_run *run, splut_param key, int64_t *value);
/**
 * @brief Set a double run or trainer parameter.
 * @param run the run
 * @param key a run key or a trainer key the run does not manage
 * @param value the new value, within the key's bounds
 * @returns as splut_run_set_int()
 * @since 0.2
 */
SPLUT_API splut_status splut_run_set_double(splut_run *run, splut_param key, double value);
/**
 * @brief Read a double run or trainer parameter.
 * @param[in] run the run
 * @param key a run or trainer key
 * @param[out] value the current value
 * @returns SPLUT_OK, SPLUT_E_NULL, SPLUT_E_UNKNOWN_PARAM, SPLUT_E_PARAM_TYPE
 * @since 0.2
 */
SPLUT_API splut_status splut_run_get_double(const splut_run *run, splut_param key,
                                            double *value);
/**
 * @brief Distil from @p teacher: every step of phase 2 (every step without
 * learned connectivity) trains towards alpha · softmax(teacher logits / T) +
 * (1 − alpha) · one-hot(label) on exactly the inputs the model sees
 * (SPLUT_P_RUN_DISTILL_ALPHA, SPLUT_P_RUN_DISTILL_TEMPERATURE). The run keeps
 * its own copy of @p teacher and records its fingerprint in checkpoints.
 * @param run the run, before its first epoch
 * @param teacher a built model with the run model's inputs and outputs, or NULL
 *        to train on labels alone
 * @returns SPLUT_OK, SPLUT_E_NULL, SPLUT_E_INVALID (other inputs or outputs),
 *          SPLUT_E_STATE (after the first epoch, or @p teacher not built), SPLUT_E_NOMEM
 * @since 0.2
 */
SPLUT_API splut_status splut_run_set_teacher(splut_run *run, const splut_model *teacher);
/**
 * @brief Install the per-sample transform hook (NULL removes it).
 * @param run the run, before its first epoch
 * @param fn the hook, or NULL
 * @param user passed to @p fn unchanged
 * @returns SPLUT_OK, SPLUT_E_NULL, SPLUT_E_STATE (after the first epoch)
 * @since 0.2
 */
SPLUT_API splut_status splut_run_set_transform(splut_run *run, splut_run_transform_fn fn,
                                               void *user);
/**
 * @brief Install the progress callback (NULL removes it); may be changed at any
 * time. It runs on the thread that calls splut_run_epoch() / splut_run_fit().
 * @param run the run
 * @param fn the callback, or NULL
 * @param user passed to @p fn unchanged
 * @returns SPLUT_OK, SPLUT_E_NULL
 * @since 0.2
 */
SPLUT_API splut_status splut_run_set_progress(splut_run *run, splut_run_progress_fn fn,
                                              void *user);
/**
 * @brief Write a checkpoint to @p path after every epoch from now on (NULL:
 * stop). Epochs of phase 1 of learned connectivity are not checkpointed; the
 * first checkpoint is written at the end of the switch epoch.
 * @param run the run
 * @param[in] path destination file (copied), or NULL
 * @returns SPLUT_OK, SPLUT_E_NULL (@p run), SPLUT_E_NOMEM
 * @since 0.2
 */
SPLUT_API splut_status splut_run_set_checkpoint(splut_run *run, const char *path);
/**
 * @brief Train one epoch: the next one, or the rest of one a callback stopped.
 * Evaluates, records the history, keeps the best model and writes the
 * checkpoint (splut_run_set_checkpoint()).
 * @param run the run
 * @returns SPLUT_OK, SPLUT_E_NULL, SPLUT_E_STATE (all epochs done), SPLUT_E_INVALID
 *          (inconsistent keys, e.g. SPLUT_P_RUN_SHIFT on a dataset without image
 *          shape, a switch epoch not below the epochs, bn-freeze above the cycle,
 *          keep-best without a test set), SPLUT_E_CANCELLED, SPLUT_E_IO (checkpoint),
 *          and every error of splut_trainer_step()
 * @since 0.2
 */
SPLUT_API splut_status splut_run_epoch(splut_run *run);
/**
 * @brief Train the remaining epochs (splut_run_epoch() until SPLUT_P_RUN_EPOCHS).
 * @param run the run
 * @returns as splut_run_epoch(), SPLUT_OK when nothing is left to do
 * @since 0.2
 */
SPLUT_API splut_status splut_run_fit(splut_run *run);
/**
 * @brief Record of epoch @p epoch (1 … SPLUT_P_RUN_EPOCHS_DONE).
 * @param[in] run the run
 * @param epoch 1-based epoch number
 * @param[in,out] rec `size` set by the caller (SPLUT_RUN_RECORD_INIT)
 * @returns SPLUT_OK, SPLUT_E_NULL, SPLUT_E_STRUCT_SIZE, SPLUT_E_INDEX
 * @since 0.2
 */
SPLUT_API splut_status splut_run_history(const splut_run *run, uint64_t epoch,
                                         splut_run_record *rec);
/**
 * @brief The model being trained (the one given to splut_run_create()).
 * @param[in] run the run, or NULL
 * @returns the model (no new reference is taken), NULL for NULL
 * @since 0.2
 */
SPLUT_API splut_model *splut_run_model(const splut_run *run);
/**
 * @brief The model the last epoch evaluated: the live model, or the run's copy
 * with averaged parameters and/or calibrated BatchNorm statistics (owned by
 * the run, valid until the next epoch).
 * @param[in] run the run, or NULL
 * @returns the model, NULL for NULL or before the first epoch
 * @since 0.2
 */
SPLUT_API const splut_model *splut_run_evaluated_model(const splut_run *run);
/**
 * @brief The evaluated model of the best epoch so far (SPLUT_P_RUN_KEEP_BEST),
 * owned by the run (valid until the next epoch or splut_run_resume()).
 * @param[in] run the run, or NULL
 * @returns the model, NULL for NULL, without keep-best or before an epoch of
 *          phase 2 was evaluated
 * @since 0.2
 */
SPLUT_API const splut_model *splut_run_best_model(const splut_run *run);
/**
 * @brief The result of the run: the best model with keep-best (when there is
 * one), else the evaluated model — what `sparselut train --out` writes.
 * Owned by the run (valid until the next epoch).
 * @param[in] run the run, or NULL
 * @returns the model, NULL for NULL or before the first epoch
 * @since 0.2
 */
SPLUT_API const splut_model *splut_run_final_model(const splut_run *run);
/**
 * @brief Write everything a resume needs into one file, atomically: model and
 * optimiser state, run configuration and position, history, the average,
 * the evaluated and best models, and the fingerprints of the data and the
 * teacher (docs/checkpoint-format.md). Only between epochs, and not during
 * phase 1 of learned connectivity.
 * @param[in] run the run
 * @param[in] path destination file
 * @returns SPLUT_OK, SPLUT_E_NULL, SPLUT_E_STATE (inside an epoch, or phase 1),
 *          SPLUT_E_IO, SPLUT_E_NOMEM
 * @since 0.2
 */
SPLUT_API splut_status splut_run_save_checkpoint(const splut_run *run, const char *path);
/**
 * @brief Continue from a checkpoint: a run created with a model of the same
 * architecture, the same datasets and (if the checkpoint's run had one) the
 * same teacher takes over the checkpoint's model, optimiser, configuration
 * (every key except SPLUT_P_RUN_EPOCHS, which may grow), history and models.
 * Nothing changes on failure. Call before the first epoch.
 * @param run the run, before its first epoch
 * @param[in] path a file written by splut_run_save_checkpoint()
 * @returns SPLUT_OK, SPLUT_E_NULL, SPLUT_E_STATE (the run already trained),
 *          SPLUT_E_INVALID (other data, teacher or architecture; more epochs done
 *          than SPLUT_P_RUN_EPOCHS), SPLUT_E_IO, SPLUT_E_FORMAT, SPLUT_E_VERSION,
 *          SPLUT_E_CHECKSUM, SPLUT_E_NOMEM
 * @since 0.2
 */
SPLUT_API splut_status splut_run_resume(splut_run *run, const char *path);
/**
 * @brief The live model stored in a run checkpoint (the model as trained up to the
 * checkpoint's epoch, without its optimiser state), e.g. to evaluate or emit it.
 * @param ctx context of the new model
 * @param[in] path a file written by splut_run_save_checkpoint()
 * @param[out] out the model; NULL on failure
 * @returns SPLUT_OK, SPLUT_E_NULL, SPLUT_E_IO, SPLUT_E_FORMAT, SPLUT_E_VERSION,
 *          SPLUT_E_CHECKSUM, SPLUT_E_NOMEM, and the errors of splut_model_deserialize()
 * @since 0.2
 */
SPLUT_API splut_status splut_run_checkpoint_model(splut_ctx *ctx, const char *path,
                                                  splut_model **out);
/** @} */


/**
 * @defgroup tables Truth tables
 * @brief Every neuron enumerated into its truth table; LUT-mode inference.
 *
 * Addresses concatenate a table's input codes with the first (lowest-index)
 * input in the most significant field; entries are encoded output codes.
 * A POLY_ADD neuron has A sub-neuron tables (index 0..A-1) and one adder table
 * (index SPLUT_TABLE_ADDER) whose address has sub-neuron 0 in the MS field.
 * @{
 */
/** The enumerated truth tables of a model (independent of it once created). */
typedef struct splut_tables splut_tables;

/** Table index of a PolyLUT-Add neuron's adder table. */
#define SPLUT_TABLE_ADDER 0xFFFFu

/** Shape of one table. */
typedef struct splut_table_info {
    size_t size;         /**< sizeof(splut_table_info) */
    uint32_t in_fields;  /**< number of input codes in the address */
    uint32_t in_bits;    /**< bits per input code */
    uint32_t out_bits;   /**< bits per entry */
    uint32_t reserved;   /**< 0 */
    uint64_t entries;    /**< 2^(in_fields·in_bits) */
} splut_table_info;
/** Initialiser for ::splut_table_info. */
#define SPLUT_TABLE_INFO_INIT {sizeof(splut_table_info), 0, 0, 0, 0, 0}

/**
 * @brief Enumerate every table of a built model (multi-threaded, deterministic).
 * Refuses, before allocating anything, tables above the context's table limit.
 * The model may be destroyed afterwards: the tables copy what they need
 * (they keep a reference to the model's context).
 * @param[in] m a built model (only read)
 * @param[out] out the new tables; NULL on failure
 * @returns SPLUT_OK, SPLUT_E_NULL, SPLUT_E_STATE, SPLUT_E_TABLE_TOO_LARGE, SPLUT_E_NOMEM
 */
SPLUT_API splut_status splut_tables_create(const splut_model *m, splut_tables **out);
/**
 * @brief Destroy tables and drop their reference to the context.
 * @param t the tables; NULL is a no-op
 */
SPLUT_API void splut_tables_destroy(splut_tables *t);
/** @brief Number of layers.
 * @param[in] t the tables, or NULL
 * @returns the count, 0 for NULL */
SPLUT_API size_t splut_tables_num_layers(const splut_tables *t);
/**
 * @brief Layer shape: neurons, sub-neurons per neuron (A; 0 for kinds without adder),
 * input width of the layer.
 * @param[in] t the tables
 * @param layer 0-based layer index
 * @param[out] neurons neurons in the layer (may be NULL)
 * @param[out] sub_neurons A for POLY_ADD, else 0 (may be NULL)
 * @param[out] in_width the layer's input width (may be NULL)
 * @returns SPLUT_OK, SPLUT_E_NULL (@p t), SPLUT_E_INDEX
 */
SPLUT_API splut_status splut_tables_layer(const splut_tables *t, size_t layer,
                                          uint32_t *neurons, uint32_t *sub_neurons,
                                          uint32_t *in_width);
/**
 * @brief Shape of table @p table (sub-neuron index, 0 for plain kinds, or
 * SPLUT_TABLE_ADDER) of neuron @p neuron.
 * @param[in] t the tables
 * @param layer 0-based layer index
 * @param neuron 0-based neuron index in the layer
 * @param table sub-neuron index, or SPLUT_TABLE_ADDER
 * @param[in,out] info `size` set by the caller (SPLUT_TABLE_INFO_INIT)
 * @returns SPLUT_OK, SPLUT_E_NULL, SPLUT_E_STRUCT_SIZE, SPLUT_E_INDEX
 */
SPLUT_API splut_status splut_tables_info(const splut_tables *t, size_t layer, uint32_t neuron,
                                         uint32_t table, splut_table_info *info);
/**
 * @brief Pointer to the entries of a table, indexed by address.
 * @param[in] t the tables
 * @param layer 0-based layer index
 * @param neuron 0-based neuron index in the layer
 * @param table sub-neuron index (0 for plain kinds), or SPLUT_TABLE_ADDER
 * @param[out] entries splut_table_info::entries encoded codes, valid while @p t lives
 * @returns SPLUT_OK, SPLUT_E_NULL, SPLUT_E_INDEX
 */
SPLUT_API splut_status splut_tables_data(const splut_tables *t, size_t layer, uint32_t neuron,
                                         uint32_t table, const uint16_t **entries);
/**
 * @brief Input indices of a neuron (A·F entries, sorted), as in the model.
 * @param[in] t the tables
 * @param layer 0-based layer index
 * @param neuron 0-based neuron index in the layer
 * @param[out] idx points into @p t (valid while it lives)
 * @param[out] n number of indices
 * @returns SPLUT_OK, SPLUT_E_NULL, SPLUT_E_INDEX
 */
SPLUT_API splut_status splut_tables_inputs(const splut_tables *t, size_t layer, uint32_t neuron,
                                           const uint32_t **idx, size_t *n);
/**
 * @brief Total table entries and total bits (entries × out bits) over all tables.
 * @param[in] t the tables
 * @param[out] entries the entry count (may be NULL)
 * @param[out] bits the bit count (may be NULL)
 * @returns SPLUT_OK, SPLUT_E_NULL (@p t)
 */
SPLUT_API splut_status splut_tables_totals(const splut_tables *t, uint64_t *entries,
                                           uint64_t *bits);
/**
 * @brief LUT-mode inference: input codes → output codes through the tables alone.
 * Reads the tables only (multi-threaded by the context's SPLUT_P_THREADS).
 * @param[in] t the tables
 * @param[in] in_codes @p n × inputs encoded codes
 * @param n number of samples; 0 does nothing
 * @param[out] out_codes @p n × outputs encoded codes
 * @returns SPLUT_OK, SPLUT_E_NULL, SPLUT_E_OUT_OF_RANGE (bad code), SPLUT_E_NOMEM
 */
SPLUT_API splut_status splut_tables_forward(const splut_tables *t, const uint16_t *in_codes,
                                            size_t n, uint16_t *out_codes);
/**
 * @brief Number of input features / bits per input code / outputs / bits per output.
 * @param[in] t the tables
 * @param[out] inputs number of input features (may be NULL)
 * @param[out] input_bits bits per input code (may be NULL)
 * @param[out] outputs number of outputs (may be NULL)
 * @param[out] output_bits bits per output code (may be NULL)
 * @returns SPLUT_OK, SPLUT_E_NULL (@p t)
 */
SPLUT_API splut_status splut_tables_io(const splut_tables *t, uint32_t *inputs,
                                       uint32_t *input_bits, uint32_t *outputs,
                                       uint32_t *output_bits);
/** @} */

/* ---- further sections (mask files, cost model, HDL emission) go below ---- */

/**
 * @defgroup tables_extra Truth-table rows, files and cost
 * @brief Row iteration, binary and text export of truth tables, SparseLUT mask
 * files, and the LUT6 hardware cost estimate. File formats: docs/tables-format.md
 * and docs/masks.md.
 * @{
 */
/** Pull iterator over the rows of one truth table, in address order. */
typedef struct splut_tt_iter splut_tt_iter;

/**
 * @brief Start iterating over table @p table (sub-neuron index, 0 for plain
 * kinds, or SPLUT_TABLE_ADDER) of neuron @p neuron of layer @p layer.
 * The tables must outlive the iterator.
 * @param[in] t the tables
 * @param layer 0-based layer index
 * @param neuron 0-based neuron index in the layer
 * @param table sub-neuron index, or SPLUT_TABLE_ADDER
 * @param[out] out the new iterator
 * @returns SPLUT_OK, SPLUT_E_NULL, SPLUT_E_INDEX, SPLUT_E_NOMEM
 */
SPLUT_API splut_status splut_tt_iter_create(const splut_tables *t, size_t layer,
                                            uint32_t neuron, uint32_t table,
                                            splut_tt_iter **out);
/**
 * @brief Produce the next row: its address, its input codes (first input =
 * most significant address field) and its output code.
 * @param it the iterator
 * @param[out] has_row 1 when a row was produced, 0 after the last row
 * @param[out] address the row's address (may be NULL)
 * @param[out] inputs @p cap codes; receives splut_table_info::in_fields codes (may be NULL)
 * @param cap capacity of @p inputs
 * @param[out] output the encoded output code (may be NULL)
 * @returns SPLUT_OK, SPLUT_E_NULL (@p it or @p has_row), SPLUT_E_BUFFER_TOO_SMALL
 */
SPLUT_API splut_status splut_tt_iter_next(splut_tt_iter *it, int *has_row, uint64_t *address,
                                          uint16_t *inputs, size_t cap, uint16_t *output);
/** @brief Destroy an iterator; NULL is a no-op. @param it the iterator */
SPLUT_API void splut_tt_iter_destroy(splut_tt_iter *it);

/**
 * @brief Write the tables to @p path in the versioned binary format with a
 * CRC-32 (docs/tables-format.md), atomically (temporary file + rename).
 * @param[in] t the tables
 * @param[in] path destination file
 * @returns SPLUT_OK, SPLUT_E_NULL, SPLUT_E_INVALID (tables of a thermometer-input
 *          model: the format cannot hold them), SPLUT_E_IO, SPLUT_E_NOMEM
 */
SPLUT_API splut_status splut_tables_save(const splut_tables *t, const char *path);
/**
 * @brief Read tables written by splut_tables_save(), validating every field.
 * @param ctx context of the tables (its table limit applies; a reference is taken)
 * @param[in] path the file
 * @param[out] out the tables (destroy with splut_tables_destroy())
 * @returns SPLUT_OK, SPLUT_E_NULL, SPLUT_E_IO, SPLUT_E_FORMAT, SPLUT_E_VERSION,
 *          SPLUT_E_CHECKSUM, SPLUT_E_TABLE_TOO_LARGE, SPLUT_E_NOMEM
 */
SPLUT_API splut_status splut_tables_load(splut_ctx *ctx, const char *path, splut_tables **out);
/**
 * @brief Write a human-readable form: one file `layer_<l>.txt` per layer
 * (l from 0) in @p dir (created if missing), listing each neuron's inputs and
 * every row as `address inputs -> output` in binary. Each file is written atomically.
 * @param[in] t the tables
 * @param[in] dir output directory
 * @returns SPLUT_OK, SPLUT_E_NULL, SPLUT_E_IO, SPLUT_E_NOMEM
 */
SPLUT_API splut_status splut_tables_write_text(const splut_tables *t, const char *dir);

/**
 * @brief Replace the connectivity of every layer by the SparseLUT CSV mask
 * files `mask_layer_<k>.csv` (k = 1 … layers) in @p dir (docs/masks.md).
 * Every file is validated (names, header, columns, rows, integer syntax,
 * range, duplicates, order) before the model changes; on error the model is
 * unchanged and the message names the file, line and column.
 * @param m a built model
 * @param[in] dir directory holding the mask files
 * @returns SPLUT_OK, SPLUT_E_NULL, SPLUT_E_STATE (not built), SPLUT_E_IO,
 *          SPLUT_E_FORMAT, SPLUT_E_CONNECTIVITY, SPLUT_E_NOMEM
 */
SPLUT_API splut_status splut_model_import_masks(splut_model *m, const char *dir);
/**
 * @brief Write the connectivity as SparseLUT CSV mask files into @p dir
 * (created if missing), each file atomically.
 * @param[in] m a built model
 * @param[in] dir output directory
 * @returns SPLUT_OK, SPLUT_E_NULL, SPLUT_E_STATE (not built), SPLUT_E_IO, SPLUT_E_NOMEM
 */
SPLUT_API splut_status splut_model_export_masks(const splut_model *m, const char *dir);

/**
 * @brief LUT6 count of one table with @p in_bits address bits and @p out_bits
 * output bits: ceil(Y/3 · (2^(X−4) − (−1)^X)) for X > 6 (the LogicNets
 * estimate, X = @p in_bits, Y = @p out_bits); Y for 1 ≤ X ≤ 6 (one LUT6 per
 * output bit, where the formula also gives Y at X = 5, 6); 0 for X = 0 or Y = 0.
 * @param in_bits address bits of the table
 * @param out_bits bits per entry
 * @returns the LUT6 count, saturated at UINT64_MAX
 */
SPLUT_API uint64_t splut_lut6_cost(uint32_t in_bits, uint32_t out_bits);
/**
 * @brief Estimated LUT6 count of layer @p layer (SIZE_MAX: the whole model),
 * summing splut_lut6_cost() over every table (sub-neuron and adder tables).
 * @param[in] t the tables
 * @param layer 0-based layer index, or SIZE_MAX for the whole model
 * @param[out] luts the estimate (saturated at UINT64_MAX)
 * @returns SPLUT_OK, SPLUT_E_NULL, SPLUT_E_INDEX
 */
SPLUT_API splut_status splut_tables_cost(const splut_tables *t, size_t layer, uint64_t *luts);
/** @} */

/**
 * @defgroup hdl HDL emission
 * @brief Verilog-2001, VHDL-2008 and HLS C from enumerated truth tables,
 * with self-checking testbenches (see docs/hdl.md).
 *
 * The emitters read only the tables (never model weights). Every module is one
 * table (a ROM as a case statement), one module per layer wires neurons by
 * their input indices (bus field x at bits [x·b+b−1 : x·b], first input in the
 * most significant address field), and `<prefix>_top` has ports M0 (input
 * codes), clk, rst (synchronous, active high) and M1 (output codes).
 * Output is deterministic: the same tables and options give identical bytes.
 * @{
 */
/** Target language of splut_tables_emit(). */
typedef enum splut_hdl_format {
    SPLUT_HDL_VERILOG = 0, /**< Verilog-2001, one module per file (`.v`) */
    SPLUT_HDL_VHDL = 1,    /**< VHDL-2008, one entity per file (`.vhd`) */
    SPLUT_HDL_HLS = 2      /**< self-contained C99 `<prefix>.c` + `<prefix>.h` */
} splut_hdl_format;

/** Where pipeline registers go (each register stage adds one cycle of latency). */
typedef enum splut_hdl_pipeline {
    SPLUT_PIPE_NONE = 0,    /**< purely combinational; latency 0 */
    SPLUT_PIPE_LAYER = 1,   /**< a register before each layer (PolyLUT-Add strategy 2) */
    SPLUT_PIPE_SUBLAYER = 2 /**< also before each adder stage (PolyLUT-Add strategy 1) */
} splut_hdl_pipeline;

/** Flag: list every address of every ROM (no `default` for the most common value). */
#define SPLUT_HDL_FULL_CASE 0x1u
/**
 * Flag: treat table entries that no network input can reach as don't-cares.
 * A code that an upstream table outputs at none of its reachable addresses
 * never arrives at a downstream table; the entries it addresses are given the
 * value of a reachable neighbour chosen so the table depends on fewer address
 * bits, which lets logic synthesis use fewer LUTs. The design computes
 * identical output codes for every network input (reachable entries are never
 * changed), but its ROMs differ from splut_tables_data() at unreachable
 * addresses. Emit the testbench with the same options.
 */
#define SPLUT_HDL_DONT_CARE 0x2u
/**
 * Flag: pipeline registers without reset. The `rst` port stays (unused) so
 * the interface does not change; outputs are undefined until the pipeline has
 * filled (latency cycles after the first input), identical afterwards. Data-path
 * registers rarely need a reset, and a reset in front of a ROM costs logic in
 * some flows (Yosys merges it into the ROM: see docs/hdl.md).
 */
#define SPLUT_HDL_NO_RESET 0x4u

struct splut_input_format;

/**
 * Options of the HDL emitters (size-versioned: start from SPLUT_HDL_OPTS_INIT).
 * Callers built against an older header pass the older, smaller size (the
 * struct up to `reserved`); the fields they do not know take their defaults.
 */
typedef struct splut_hdl_opts {
    size_t size;        /**< sizeof(splut_hdl_opts) */
    const char *prefix; /**< module/file name prefix, NULL → "splut"; [A-Za-z][A-Za-z0-9_]*,
                             no "__", no trailing '_', at most 48 characters */
    int32_t pipeline;   /**< ::splut_hdl_pipeline */
    uint32_t flags;     /**< SPLUT_HDL_* flags */
    uint32_t reserved;  /**< must be 0 */
    /** Input stage in hardware (@ref hdl_input): NULL → port M0 carries input
     * codes; else M0 carries raw fixed-point features of this format and the
     * design begins with the layer-0 quantiser as threshold comparators. The
     * three arrays below come from splut_model_input_thresholds() for the same
     * format. */
    const struct splut_input_format *input;
    const int32_t *input_thresholds; /**< n_in × (2^b − 1) thresholds (b = input bits) */
    const uint16_t *input_codes;     /**< n_in × 2^b codes */
    const uint32_t *input_steps;     /**< n_in step counts */
} splut_hdl_opts;
/** Initialiser for ::splut_hdl_opts: prefix "splut", no pipelining, no flags,
 * no input stage. */
#define SPLUT_HDL_OPTS_INIT                                                                      \
    {sizeof(splut_hdl_opts), NULL, SPLUT_PIPE_NONE, 0, 0, NULL, NULL, NULL, NULL}

/**
 * @brief Write the design for @p t into directory @p dir (created if missing).
 *
 * The output is atomic as a whole: every file is written into a staging
 * directory next to @p dir, which then replaces @p dir (an existing directory
 * keeps the files that are not the design's: the design owns every file named
 * `<prefix>_*` or `<prefix>.*`); on failure @p dir is left as it was and no
 * staging directory remains (docs/hdl.md). Verilog and VHDL also get
 * `<prefix>_files.txt`, the source list in compilation order, and a Vivado
 * out-of-context script with its constraints (`<prefix>_vivado.tcl`,
 * `<prefix>.xdc`); HLS C gets the packed-port top `<prefix>_top` and a Vitis
 * HLS script (`<prefix>_hls.tcl`). The vendor scripts are untested here.
 * @param[in] t enumerated tables
 * @param fmt ::splut_hdl_format
 * @param[in] dir output directory
 * @param[in] opts options, NULL for the defaults
 * @returns SPLUT_OK, SPLUT_E_NULL, SPLUT_E_INVALID (unknown format or pipeline, bad prefix,
 *          reserved field or unknown flag set), SPLUT_E_STRUCT_SIZE, SPLUT_E_IO, SPLUT_E_NOMEM
 */
SPLUT_API splut_status splut_tables_emit(const splut_tables *t, splut_hdl_format fmt,
                                         const char *dir, const splut_hdl_opts *opts);

/**
 * @brief Write test vectors and a self-checking testbench for the design that
 * splut_tables_emit() writes with the same options.
 *
 * Files: `<prefix>_in.hex` (one packed input bus per line, hex, most significant
 * digit first), `<prefix>_out.hex` (expected output bus from
 * splut_tables_forward(), or splut_tables_classify() for a GroupSum head), and `<prefix>_tb.v` / `<prefix>_tb.vhd` (a testbench
 * that streams one vector per clock, accounts for the pipeline latency) or
 * `<prefix>_tb.c` (a C driver for the HLS function). Each prints one line
 * `SPLUT_RESULT vectors=<n> mismatches=<m>`; the C driver exits non-zero on
 * mismatches.
 * @param[in] t enumerated tables
 * @param fmt ::splut_hdl_format of the design the testbench drives
 * @param[in] dir output directory (created if missing)
 * @param[in] opts the options the design was emitted with, NULL for the defaults
 * @param[in] in_codes @p n × inputs encoded input codes
 * @param n number of vectors, 1 … 2^31−1
 * @returns as splut_tables_emit(), plus SPLUT_E_OUT_OF_RANGE (a code too wide for its
 *          field); SPLUT_E_INVALID when @p opts has an input stage (use
 *          splut_tables_emit_testbench_raw())
 */
SPLUT_API splut_status splut_tables_emit_testbench(const splut_tables *t, splut_hdl_format fmt,
                                                   const char *dir, const splut_hdl_opts *opts,
                                                   const uint16_t *in_codes, size_t n);

/**
 * @brief Latency in clock cycles of the emitted top level: the number of clock
 * edges between applying an input and reading its output (0 without pipelining).
 * @param[in] t enumerated tables
 * @param[in] opts options (the pipeline mode, and ::SPLUT_HDL_GROUPSUM_COUNTS for a
 *            GroupSum head), NULL for the defaults
 * @param[out] cycles latency
 * @returns SPLUT_OK, SPLUT_E_NULL, SPLUT_E_INVALID, SPLUT_E_STRUCT_SIZE
 */
SPLUT_API splut_status splut_hdl_latency(const splut_tables *t, const splut_hdl_opts *opts,
                                         uint32_t *cycles);

/* ---- don't-care filled tables (the ROM contents of SPLUT_HDL_DONT_CARE) ---- */
/**
 * @brief A copy of @p t with every unreachable entry filled exactly as the
 * emitters fill it with ::SPLUT_HDL_DONT_CARE: the tables of the design that
 * splut_tables_emit() writes with that flag, for tools that read tables
 * rather than HDL (logic synthesis, cost estimates).
 *
 * Reachable entries are those a network input can address (network inputs
 * take every code; a table's reachable outputs are its entries at reachable
 * addresses); they are copied unchanged, so splut_tables_forward() gives the
 * same outputs on both for every input. Each unreachable code of a field is
 * replaced by a reachable representative (the reachable code agreeing with it
 * on the fewest code bits that tell the reachable codes apart, nearest in
 * Hamming distance), and an entry at an unreachable address takes the entry
 * of its representative address. Emitting the result without the flag gives
 * the same ROMs as emitting @p t with it. Deterministic; the new tables share
 * nothing with @p t.
 * @param[in] t enumerated tables
 * @param[out] out the filled tables (destroy with splut_tables_destroy()); NULL on error
 * @returns SPLUT_OK, SPLUT_E_NULL, SPLUT_E_INVALID (thermometer-input tables,
 *          which the emitters do not handle yet), SPLUT_E_STATE (no layers),
 *          SPLUT_E_OUT_OF_RANGE (a table of more than 32 address fields), SPLUT_E_NOMEM
 */
SPLUT_API splut_status splut_tables_fill_dont_cares(const splut_tables *t, splut_tables **out);
/** @} */

/**
 * @defgroup hdl_input Input stage in hardware
 * @brief The layer-0 input quantiser (BatchNorm + HardTanh or ReLU quantiser)
 * as per-feature threshold comparators on raw fixed-point features (see
 * docs/hdl.md, "Input stage").
 *
 * A raw feature is an integer x of splut_input_format::bits bits (two's
 * complement when signed); the format says which float the model reads for
 * it. splut_model_input_thresholds() evaluates the library's own float path
 * (splut_model_input_codes()) to find, for every feature, the raw values at
 * which the code changes, so comparators built from them are bit-exact with
 * the software for every raw input (ties round as the float path does: half
 * to even). The emitters receive the thresholds through ::splut_hdl_opts;
 * they never read the model.
 * @{
 */
/** How a raw fixed-point feature maps to the float the model reads. */
typedef enum splut_input_map {
    /** value = (float)(((double)x / 2^frac_bits − offset[f]) / scale[f]), in double,
     * rounded once to float: signed or unsigned Qm.n, optionally standardised
     * per feature (offset = mean, scale = standard deviation, as `--standardize`) */
    SPLUT_INFMT_FIXED = 0,
    /** value = ((float)x / divisor − mean) / std, every operation in float32
     * (torchvision ToTensor + Normalize; MNIST: 255, 0.1307, 0.3081) */
    SPLUT_INFMT_NORMALIZE = 1
} splut_input_map;

/** A raw fixed-point input format (size-versioned: start from SPLUT_INPUT_FORMAT_INIT). */
typedef struct splut_input_format {
    size_t size;          /**< sizeof(splut_input_format) */
    uint32_t bits;        /**< width of one raw feature, 1 … 24 */
    int32_t is_signed;    /**< nonzero: two's complement, else unsigned */
    int32_t map;          /**< ::splut_input_map */
    uint32_t frac_bits;   /**< FIXED: fraction bits n of Qm.n, 0 … 30 */
    const double *offset; /**< FIXED: per-feature offset (NULL → 0), finite */
    const double *scale;  /**< FIXED: per-feature scale (NULL → 1), finite, nonzero */
    float divisor;        /**< NORMALIZE: finite, nonzero */
    float mean;           /**< NORMALIZE: finite */
    float std;            /**< NORMALIZE: finite, nonzero */
} splut_input_format;
/** Initialiser for ::splut_input_format: unsigned 8-bit integers, value = x. */
#define SPLUT_INPUT_FORMAT_INIT                                                                  \
    {sizeof(splut_input_format), 8, 0, SPLUT_INFMT_FIXED, 0, NULL, NULL, 1.0f, 0.0f, 1.0f}

/**
 * @brief The float the model reads for raw value @p raw of feature @p feature.
 * @param[in] fmt the format
 * @param feature feature index (selects offset/scale of a FIXED format)
 * @param raw the raw integer, within the format's range
 * @param[out] value the float
 * @returns SPLUT_OK, SPLUT_E_NULL, SPLUT_E_STRUCT_SIZE, SPLUT_E_INVALID (bad format),
 *          SPLUT_E_OUT_OF_RANGE (@p raw outside the format)
 * @since 0.2
 */
SPLUT_API splut_status splut_input_value(const splut_input_format *fmt, uint32_t feature,
                                         int32_t raw, float *value);
/**
 * @brief Choose the fixed-point format that holds every feature value of the
 * given datasets in splut_input_format::bits bits.
 *
 * The format is signed when a value is negative, and takes the most fraction
 * bits n (0 … 30) for which every value v rounds (to nearest, ties to even)
 * to an integer v·2^n within the range: the finest grid on which the raw data
 * still fit. `sparselut emit --input-stage auto` uses it. Pass the datasets
 * as the hardware will see them (not standardised: standardisation is the
 * format's offset / scale).
 * @param[in] sets datasets (e.g. train and test)
 * @param n_sets how many, ≥ 1
 * @param[in,out] fmt in: size and bits (1 … 24); out: map FIXED, is_signed and
 *                frac_bits set; offset and scale are left as they were
 * @returns SPLUT_OK, SPLUT_E_NULL, SPLUT_E_STRUCT_SIZE, SPLUT_E_INVALID (bits),
 *          SPLUT_E_OUT_OF_RANGE (the range needs more bits even with n = 0)
 * @since 0.2
 */
SPLUT_API splut_status splut_input_format_fit(const splut_dataset *const *sets, size_t n_sets,
                                              splut_input_format *fmt);

/**
 * @brief Per-feature thresholds of the layer-0 quantiser on raw inputs of
 * format @p fmt, computed exactly from the model's float path.
 *
 * For feature f, the code as a function of the raw input x is a step function
 * (monotone: the float path is). With K = 2^b − 1 (b = input bits),
 * `steps[f]` ≤ K is its number of steps, `thresholds[f·K + i]` (i < steps[f],
 * strictly ascending) the smallest raw value whose code differs from that of
 * x − 1, and `codes[f·(K+1) + i]` the code on [threshold i−1, threshold i)
 * (i = 0: from the smallest raw value): code(x) = codes[f·(K+1) + #{i : x ≥
 * thresholds[f·K + i]}]. Each threshold is found by bisection over the
 * integer range of the format, evaluating splut_model_input_codes() on the
 * floats of splut_input_value().
 * @param[in] m a built model
 * @param[in] fmt raw input format
 * @param[out] thresholds n_in × K raw values (unused slots set to 0)
 * @param[out] codes n_in × (K + 1) encoded codes (unused slots set to 0)
 * @param[out] steps n_in step counts
 * @returns SPLUT_OK, SPLUT_E_NULL, SPLUT_E_STATE, SPLUT_E_STRUCT_SIZE, SPLUT_E_INVALID,
 *          SPLUT_E_NON_FINITE (a raw value maps to inf), SPLUT_E_NOMEM
 * @since 0.2
 */
SPLUT_API splut_status splut_model_input_thresholds(const splut_model *m,
                                                    const splut_input_format *fmt,
                                                    int32_t *thresholds, uint16_t *codes,
                                                    uint32_t *steps);

/**
 * @brief Test vectors of raw features and a self-checking testbench for a
 * design emitted with an input stage (splut_hdl_opts::input set): as
 * splut_tables_emit_testbench(), but `<prefix>_in.hex` packs the raw features
 * (splut_input_format::bits bits each, two's complement) and the expected
 * outputs come from @p in_codes, the codes the software gives for them
 * (splut_model_input_codes() of the splut_input_value() floats) — so the
 * simulation compares the hardware comparators with the float path itself.
 * @param[in] t enumerated tables
 * @param fmt ::splut_hdl_format of the design
 * @param[in] dir output directory (created if missing)
 * @param[in] opts the options the design was emitted with (input stage set)
 * @param[in] raw @p n × inputs raw features, each within the input format
 * @param[in] in_codes @p n × inputs input codes for the same samples
 * @param n number of vectors, 1 … 2^31−1
 * @returns as splut_tables_emit_testbench(), plus SPLUT_E_INVALID (no input stage in @p opts)
 * @since 0.2
 */
SPLUT_API splut_status splut_tables_emit_testbench_raw(const splut_tables *t,
                                                       splut_hdl_format fmt, const char *dir,
                                                       const splut_hdl_opts *opts,
                                                       const int32_t *raw,
                                                       const uint16_t *in_codes, size_t n);
/** @} */

/**
 * @defgroup lutnodes Trainable LUT nodes (DWN)
 * Differentiable weightless networks (Bacellar et al., ICML 2024): layers of
 * ::SPLUT_NEURON_LUT nodes over binary inputs, thermometer-encoded features
 * (::SPLUT_INPUT_THERMOMETER) and a GroupSum head. See docs/lut-nodes.md.
 * @{
 */
/**
 * Set the thermometer thresholds of a ::SPLUT_INPUT_THERMOMETER model from data
 * ("distributive" encoding): threshold t of feature f is the (t+1)/(T+1)
 * quantile of that feature over the @p n samples (T = 2^input_bits − 1).
 * @param m built model in thermometer mode
 * @param[in] x @p n × inputs features, all finite
 * @param n number of samples, at least 1
 * @returns SPLUT_OK; SPLUT_E_NULL; SPLUT_E_STATE (not built or not thermometer mode);
 *          SPLUT_E_INVALID (n = 0); SPLUT_E_NON_FINITE; SPLUT_E_NOMEM
 * @since 0.2
 */
SPLUT_API splut_status splut_model_fit_thermometer(splut_model *m, const float *x, size_t n);
/**
 * Set uniform thermometer thresholds: threshold t of every feature is
 * lo + (hi − lo)·(t+1)/(T+1) (the default after splut_model_build() is lo = 0, hi = 1).
 * @param m built model in thermometer mode
 * @param lo lower end of the range, finite
 * @param hi upper end of the range, finite and above @p lo
 * @returns SPLUT_OK; SPLUT_E_NULL; SPLUT_E_STATE; SPLUT_E_NON_FINITE; SPLUT_E_OUT_OF_RANGE (hi ≤ lo)
 * @since 0.2
 */
SPLUT_API splut_status splut_model_thermometer_uniform(splut_model *m, double lo, double hi);
/**
 * Number of classes splut_model_classify_codes() chooses from (labels must be below it):
 * the GroupSum groups of a LUT model, 2 for a single output, else the number of outputs.
 * @param[in] m model (NULL gives 0)
 * @returns the class count, 0 for NULL or a model without layers
 * @since 0.2
 */
SPLUT_API uint32_t splut_model_num_classes(const splut_model *m);
/** @} */

/**
 * @defgroup lutnode_hdl LUT-node (DWN) tables and hardware
 * @brief Tables, LUT-mode classification and HDL of ::SPLUT_NEURON_LUT models:
 * thermometer inputs, GroupSum popcounts and argmax (docs/lut-nodes.md,
 * "Downstream"; docs/hdl.md, "LUT-node models").
 *
 * The emitted design of a GroupSum model outputs the class index on M1
 * (ceil(log2 C) bits, at least 1): one popcount per class group (a
 * compressor tree of counter ROMs and one adder), then an argmax whose ties
 * go to the lowest class, exactly as splut_model_classify_codes(). A thermometer model's port M0 takes input codes
 * (decoded to the thermometer bits "code > level" in hardware), raw features
 * (splut_hdl_opts::input: one comparator per thermometer bit) or, with
 * ::SPLUT_HDL_THERMO_BITS, the thermometer bits themselves.
 * @{
 */
/** Flag (thermometer-input tables): port M0 carries the T thermometer bits of
 * each feature (bit l of field f = code of f > l, T = 2^input_bits − 1 ≤ 16)
 * instead of input codes; the testbench converts its codes accordingly. */
#define SPLUT_HDL_THERMO_BITS 0x8u
/** Flag (GroupSum tables): port M1 carries the C popcounts (field c = count of
 * class c, just wide enough for a group) instead of the class index; no argmax. */
#define SPLUT_HDL_GROUPSUM_COUNTS 0x10u
/**
 * Thermometer levels T per input feature of tables enumerated from a
 * ::SPLUT_INPUT_THERMOMETER model (layer 0 reads bit f·T + l = "code of feature
 * f exceeds l"), 0 for other tables.
 * @param[in] t tables (NULL gives 0)
 * @returns T or 0
 */
SPLUT_API uint32_t splut_tables_thermometer_levels(const splut_tables *t);
/**
 * GroupSum classes C of tables enumerated from a LUT-node model whose last
 * layer has a GroupSum head (saved with the tables), 0 otherwise.
 * @param[in] t tables (NULL gives 0)
 * @returns C or 0
 */
SPLUT_API uint32_t splut_tables_num_classes(const splut_tables *t);
/**
 * @brief LUT-mode classification of GroupSum tables: splut_tables_forward(),
 * the popcount of each class group, and the class with the largest count
 * (ties to the lowest), identical to splut_model_classify_codes() of the model.
 * @param[in] t tables with a GroupSum head
 * @param[in] in_codes @p n × inputs input codes
 * @param n number of samples
 * @param[out] pred @p n class indices (may be NULL if @p counts is not)
 * @param[out] counts @p n × C popcounts (may be NULL)
 * @returns SPLUT_OK, SPLUT_E_NULL, SPLUT_E_INVALID (no GroupSum head),
 *          SPLUT_E_OUT_OF_RANGE (bad code, or groups above 65535 nodes), SPLUT_E_NOMEM
 */
SPLUT_API splut_status splut_tables_classify(const splut_tables *t, const uint16_t *in_codes,
                                             size_t n, int32_t *pred, uint16_t *counts);
/**
 * @brief Instant hardware estimate of the design splut_tables_emit() writes
 * with @p opts: LUT6 of the truth tables (splut_tables_cost()), of the input
 * stage (comparators on raw inputs, thermometer decoding of codes) and of the
 * GroupSum head (popcounts, argmax), and the flip-flops of its
 * pipeline registers. The cost model is in docs/tables-format.md.
 * @param[in] t enumerated tables
 * @param[in] opts the emission options, NULL for the defaults
 * @param[out] luts LUT6 estimate (may be NULL)
 * @param[out] ffs register bits the design declares (may be NULL)
 * @returns SPLUT_OK, and the errors of splut_tables_emit() for bad options
 */
SPLUT_API splut_status splut_hdl_estimate(const splut_tables *t, const splut_hdl_opts *opts,
                                          uint64_t *luts, uint64_t *ffs);
/** @} */

#ifdef __cplusplus
}
#endif

/* Research-stage keys and calls, outside the stability promise: define
 * SPLUT_ENABLE_EXPERIMENTAL before including this header, or include
 * sparselut-experimental.h. */
#ifdef SPLUT_ENABLE_EXPERIMENTAL
#include "sparselut-experimental.h"
#endif

#endif /* SPARSELUT_H */
