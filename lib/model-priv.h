/*
 * The in-memory model layout (layers, quantisers, parameters, connectivity)
 * and the neuron kernels, shared by the modules that build, train, evaluate,
 * save and enumerate models. The HDL emitters do not include it: they see
 * truth tables only.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#ifndef SPARSELUT_MODEL_PRIV_H
#define SPARSELUT_MODEL_PRIV_H

#include "core-priv.h"

/* -------------------------------------------------------------------- model */

enum splut_quant_kind {
    SPLUT_Q_RELU = 0,     /* unsigned codes 0..2^b-1, range [0, scale] */
    SPLUT_Q_SIGNED = 1    /* HardTanh / Identity: codes -2^(b-1)..2^(b-1)-1 */
};

/* A Brevitas-style activation quantiser with a learned log2 scale. */
typedef struct splut_quant {
    uint8_t kind;         /* enum splut_quant_kind */
    uint8_t bits;
    size_t theta;         /* offset of the log2-scale parameter in model->params */
} splut_quant;

/* Monomials of degree 1..D over F variables, in combinations_with_replacement
 * order. Term t = parent[t] * x[var[t]]; parent -1 for degree-1 terms. */
typedef struct splut_monos {
    uint32_t T;
    int32_t *parent;
    uint16_t *var; /* highest variable; < SPLUT_MAX_FAN_IN */
} splut_monos;

typedef struct splut_layer {
    splut_neuron_kind kind;
    uint32_t in, out;     /* input width, neurons */
    uint32_t F, D, A, N;  /* fan-in per (sub-)neuron, degree, sub-neurons (1 unless POLY_ADD) */
    uint32_t in_bits;     /* bits of the codes this layer reads */
    uint32_t out_bits;    /* bits of this layer's output codes */
    uint32_t sub_bits;    /* POLY_ADD: out_bits + 1; else 0 */
    uint32_t T;           /* monomials per sub-neuron */
    splut_monos monos;
    uint32_t *conn;       /* out × A·F sorted input indices */
    uint32_t *mutations;  /* out: bumped by every connectivity mutation of the
                           * neuron, so a trainer can reset its optimiser state */
    bool last;
    /* offsets into model->params */
    size_t w;             /* out × A × T */
    size_t b;             /* out × A */
    size_t bn_gamma, bn_beta; /* out each */
    size_t post_bias, post_weight; /* last layer only */
    splut_quant sub_q;    /* POLY_ADD sub-neuron quantiser (b+1 bits, signed, no BN) */
    splut_quant out_q;    /* output quantiser (after BN) */
    /* offsets into model->state */
    size_t run_mean, run_var; /* out each */
} splut_layer;

struct splut_model {
    splut_ctx *ctx;
    int refcount;         /* splut_model_ref/_destroy; guarded by ctx->lock */
    uint32_t n_inputs, input_bits;
    int64_t input_mode;
    size_t n_layers, cap_layers;
    splut_layer *layers;
    bool built;
    bool surrogate;       /* internal phase-1 network: never enumerated, no table limit */
    /* trainable parameters: one flat vector (optimiser, files and tests see it whole) */
    float *params;
    uint8_t *decay;       /* 1 where weight decay applies */
    size_t n_params;
    /* non-trainable state: BatchNorm running statistics */
    float *state;
    size_t n_state;
    /* input stage */
    size_t in_gamma, in_beta, in_bias; /* params: n_inputs, n_inputs, 1 (BN_HARDTANH only) */
    splut_quant in_q;
    size_t in_run_mean, in_run_var;    /* state */
    /* recipe and metadata */
    double recipe_lr, recipe_wd;
    int64_t recipe_batch, recipe_epochs;
    int64_t epochs_trained;
    double test_accuracy;
    char preset[32];
    /* DWN (lutnode.c): GroupSum temperature; thermometer thresholds in state */
    double groupsum_tau;
    size_t thermo;         /* state offset: n_inputs × (2^input_bits − 1), ascending per feature */
    /* learnable mapping of layer 0 (lutmap.c) */
    int64_t lut_map;       /* SPLUT_P_LUT_MAP as set: candidates per input slot, 0 = off */
    uint32_t map_k;        /* in effect: min(lut_map, in / F) for a LUT layer 0, else 0 */
    size_t map_w;          /* params offset (the end of all other parameters): out × F × map_k */
    uint32_t *map_cand;    /* out × F × map_k candidate inputs, strictly ascending per node */
};

/* Build @p m after its layers were added with status @p st: on success *out
 * is the built model, on any failure the model is destroyed (presets and
 * architecture strings end this way). */
splut_status splut__model_finish(splut_model *m, splut_status st, splut_model **out);

/* Quantiser maths (Brevitas semantics). */
float splut__quant_scale(const splut_model *m, const splut_quant *q); /* max(2^θ, 2^-16) */
float splut__quant_step(const splut_model *m, const splut_quant *q);  /* scale / int_scale */
int32_t splut__quant_min(const splut_quant *q);
int32_t splut__quant_max(const splut_quant *q);
float splut__quant_int_scale(const splut_quant *q);
/* Signed code of x: round_half_even(clamp(act(x) / scale * int_scale)). */
int32_t splut__quantize(float x, float scale, float int_scale, int32_t lo, int32_t hi, bool relu);
/* Offset-binary encoding and decoding of a code. */
uint16_t splut__enc(const splut_quant *q, int32_t code);
int32_t splut__dec(const splut_quant *q, uint16_t enc);

/* The quantiser whose codes layer l reads (input quantiser for l = 0). */
const splut_quant *splut__layer_in_quant(const splut_model *m, size_t l);

splut_status splut__monos_init(splut_ctx *ctx, splut_monos *mo, uint32_t F, uint32_t D);
void splut__monos_free(splut_ctx *ctx, splut_monos *mo);
/* C(F+D, D) - 1, or 0 on overflow past 2^20 terms. */
uint32_t splut__monos_count(uint32_t F, uint32_t D);

/*
 * The one per-neuron evaluation routine shared by eval-mode inference and
 * table enumeration, so the two agree bit for bit by construction. It works
 * on batches (`count` input rows at once) so both can run it vectorised:
 *
 *   splut__mono_batch    F input-value columns → T monomial rows (t-major)
 *   splut__affine_batch  z = b + Σ_t w_t·mono_t, summed in t order
 *   splut__sub_codes     z → encoded output code: BN + output quantiser for
 *                        LINEAR/POLY; the (b+1)-bit sub-neuron quantiser for POLY_ADD
 *   splut__adder_batch   POLY_ADD: A encoded sub codes → mean → BN → quantiser
 *
 * splut_eval_ctx caches one layer's scales and the value of each input code.
 */
typedef struct splut_eval_ctx {
    const splut_model *m;
    const splut_layer *L;
    float in_vals[1u << SPLUT_MAX_BITS]; /* dequantised value of each input encoding */
    float sub_vals[1u << (SPLUT_MAX_BITS + 1)]; /* POLY_ADD: value of each sub encoding */
    float sub_scale, sub_int_scale;
    float out_scale, out_int_scale;
    int32_t sub_lo, sub_hi, out_lo, out_hi;
} splut_eval_ctx;

void splut__eval_ctx_init(splut_eval_ctx *e, const splut_model *m, size_t l);
/* u[f] points at `count` values of the neuron's f-th input; mono gets T×count. */
void splut__mono_batch(const splut_layer *L, const float *const *u, size_t count, float *mono);
void splut__affine_batch(const splut_eval_ctx *e, uint32_t n, uint32_t sub, const float *mono,
                         size_t count, float *z);
void splut__sub_codes(const splut_eval_ctx *e, uint32_t n, const float *z, size_t count,
                      uint16_t *out);
/* sub[a] points at `count` encoded codes of sub-neuron a. */
void splut__adder_batch(const splut_eval_ctx *e, uint32_t n, const uint16_t *const *sub,
                        size_t count, uint16_t *out);

/*
 * NeuraLUT neuron (N hidden units over F inputs), parameters in one block of
 * T = 2NF + 2N² + 5N floats per neuron plus the layer bias b:
 *   h1 = relu(W1 u + b1); h2 = relu(W2 h1 + R0 u + b2); h3 = relu(W3 h2 + b3)
 *   z  = w4·h3 + r1·h2 + b
 * (the reference's two skip biases are merged into b2 and b: same functions).
 * Matrices are row-major [hidden unit][input].
 */
typedef struct splut_nl_off {
    size_t w1, b1, w2, r0, b2, w3, b3, w4, r1;
} splut_nl_off;

splut_nl_off splut__nl_offsets(uint32_t F, uint32_t N);
uint32_t splut__nl_count(uint32_t F, uint32_t N);
/* z of NeuraLUT neuron n on `count` rows; scratch holds 3·N·count floats. */
void splut__neuralut_batch(const splut_eval_ctx *e, uint32_t n, const float *const *u,
                           size_t count, float *scratch, float *z);

/* Table limit check for a layer description; no allocation. */
splut_status splut__check_table_limits(const splut_ctx *ctx, uint32_t in_bits, uint32_t F,
                                       uint32_t A, uint32_t out_bits, bool poly_add);

/* Model internals used by modules further down the pipeline. */
splut_status splut__model_alloc_params(splut_model *m);
void splut__model_init_params(splut_model *m, uint64_t seed);
/* Random sorted connectivity for every layer from a seed; SPLUT_E_NOMEM
 * (nothing changed) when its scratch cannot be allocated. */
splut_status splut__model_random_conn(splut_model *m, uint64_t seed);
splut_status splut__check_inputs(const splut_model *m, size_t l, const uint32_t *idx, size_t n);
/* Mark a neuron's connectivity or weights as changed outside the optimiser. */
void splut__neuron_mutated(splut_model *m, size_t l, uint32_t n);
/* Term index of the sorted variable tuple vars[0..deg-1] (-1 if absent). */
int32_t splut__mono_find(const splut_monos *mo, const uint8_t *vars, uint32_t deg);
/* Variables of term t, ascending, into vars (room for D); returns the degree. */
uint32_t splut__mono_vars(const splut_monos *mo, uint32_t t, uint8_t *vars);

/* ------------------------------------------------ LUT nodes (lutnode.c) */

/* Thermometer thresholds per feature (T = 2^input_bits − 1). */
uint32_t splut__thermo_levels(const splut_model *m);
/* Binary inputs per row of layer l's input: T for layer 0 in thermometer
 * mode (input i is "code of feature i / T exceeds i % T"), else 1. */
uint32_t splut__lut_row_split(const splut_model *m, size_t l);
/* Shape rules of a LUT layer (kind-specific fields, table limit). */
splut_status splut__lut_check_desc(const splut_model *m, const splut_layer_desc *d, uint32_t F);
/* Build-time fixes: layer 0 input width/bits in thermometer mode; model-level rules. */
splut_status splut__lut_prepare(splut_model *m);
/* GroupSum classes of the model (0: no GroupSum head). */
uint32_t splut__groupsum_classes(const splut_model *m);
/* Initial entries (uniform ±1) and thresholds (uniform on [0, 1]). */
void splut__lut_init(splut_model *m, splut_rng *r);
/* One LUT node on `count` samples of feature-major codes (row stride `stride`). */
void splut__lut_eval(const splut_model *m, size_t l, uint32_t n, const uint16_t *cur,
                     size_t stride, size_t count, uint16_t *dst);
/* Thermometer code of one feature value. */
uint16_t splut__thermo_code(const splut_model *m, uint32_t f, float v);
/* EFD input-gradient table of one node: G[a·F + j] = ∂out/∂x_j at address a. */
void splut__lut_efd_table(const float *entries, uint32_t F, float *G);
/* Coefficient count of the vectorised EFD for fan-in F (0: F too large, use
 * the generic loop), the coefficients, and the table from them (bit-identical
 * to splut__lut_efd_table; R NULL or F too large falls back to it). */
size_t splut__lut_efd_coef_count(uint32_t F);
void splut__lut_efd_coefs(uint32_t F, float *R);
void splut__lut_efd_table_coefs(const float *entries, uint32_t F, const float *R, float *G);
/* GroupSum class of one sample's last-layer bits: argmax of the group
 * popcounts, ties to the lowest class. */
int32_t splut__groupsum_class(const splut_model *m, const uint16_t *bits);
/* Training (rows are [input][B] floats: bits, or thermometer counts for layer 0). */
void splut__lut_train_forward(const splut_model *m, size_t l, uint32_t n, const float *rows,
                              size_t B, float *h);
/* gw: the node's 2^F entry gradients; du (F × B, NULL to skip): input
 * gradients by the EFD; G: scratch of 2^F × F floats; coefs: the layer's
 * splut__lut_efd_coefs (NULL: generic EFD loop). */
void splut__lut_train_backward(const splut_model *m, size_t l, uint32_t n, const float *rows,
                               size_t B, const float *dh, float *gw, float *du, float *G,
                               const float *coefs);
/* ------------------------------- learnable mapping of layer 0 (lutmap.c) */

/* Sorted prefix of a random permutation of [0, in): k distinct inputs
 * (model.c, as random connectivity draws them); perm is scratch of size in. */
void splut__draw_inputs(uint32_t *dst, uint32_t k, uint32_t in, uint32_t *perm, splut_rng *r);

/* Candidates per slot in effect for the model's current shape and key. */
uint32_t splut__lut_map_k(const splut_model *m);
/* Allocate map_cand for the laid-out model (map_k set by the layout). */
splut_status splut__lut_map_alloc(splut_model *m);
/* Draw the candidates and the selection weights from @p seed; conn = argmax.
 * perm: scratch of layer 0's input width (allocated by the caller first, so
 * that no draw depends on memory being available). */
void splut__lut_map_init(splut_model *m, uint64_t seed, uint32_t *perm);
/* Layer-0 connectivity from the selection weights: per slot the candidate of
 * the largest weight, ties to the lowest candidate. */
void splut__lut_map_select(splut_model *m);
/* Files: candidates in range and ascending, connectivity among them. */
splut_status splut__lut_map_check(const splut_model *m);
/* Selection-weight gradients of node n: g[(f·K + c)] = Σ_p du_f[p] · xs[cand][p],
 * du: F × B slot gradients, xs: the ±1 rows (int8) of every layer-0 input. */
void splut__lut_map_grad(const splut_model *m, uint32_t n, const float *du, const int8_t *xs,
                         size_t B, float *g);

/* Every input a candidate (map_k · F = input width, slot f reads inputs
 * [f·K, (f+1)·K) of every node): the gradients of nodes [n0, n1) as one
 * blocked matrix product; du: all nodes' F × B slot gradients, xt: the ±1
 * inputs transposed (B × input width), g: all nodes' selection gradients. */
bool splut__lut_map_shared(const splut_model *m);
void splut__lut_map_grad_shared(const splut_model *m, uint32_t n0, uint32_t n1, const float *du,
                                const float *xt, size_t B, float *g);

/* GroupSum: logits[c][p] = popcount of group c / τ, and its backward. */
void splut__groupsum_logits(const splut_model *m, const float *h, size_t B, float *logits);
void splut__groupsum_backward(const splut_model *m, const float *dlogits, size_t B, float *dh);

#endif /* SPARSELUT_MODEL_PRIV_H */
