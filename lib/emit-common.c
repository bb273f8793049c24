/*
 * HDL emission, shared part: options, network shape (stages), text buffers,
 * atomic file output, test vectors and the public entry points.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include <errno.h>
#include <stddef.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>

#include "emit-priv.h"
#include "fileio-priv.h"
#include "tables-priv.h"

/* The context of a tables object: the one private field the emitters read
 * (for allocation and error messages); everything else goes through the
 * public tables API. */
static splut_ctx *tables_ctx(const splut_tables *t)
{
    return t->ctx;
}

/* ------------------------------------------------------------ text buffers */

void splut__buf_init(splut__buf *b, splut_ctx *ctx)
{
    memset(b, 0, sizeof(*b));
    b->ctx = ctx;
}

void splut__buf_free(splut__buf *b)
{
    splut__free(b->ctx, b->p);
    b->p = NULL;
    b->len = b->cap = 0;
}

void splut__buf_reset(splut__buf *b)
{
    b->len = 0;
}

/* Make room for @p extra more bytes plus a terminating NUL. */
static bool buf_reserve(splut__buf *b, size_t extra)
{
    if (b->oom)
        return false;
    if (b->len + extra + 1 <= b->cap)
        return true;
    size_t cap = b->cap ? b->cap : 4096;
    while (cap < b->len + extra + 1) {
        if (cap > SIZE_MAX / 2) {
            b->oom = true;
            return false;
        }
        cap *= 2;
    }
    char *p = splut__alloc(b->ctx, cap);
    if (!p) {
        b->oom = true;
        return false;
    }
    if (b->len)
        memcpy(p, b->p, b->len);
    splut__free(b->ctx, b->p);
    b->p = p;
    b->cap = cap;
    return true;
}

void splut__buf_put(splut__buf *b, const char *s, size_t n)
{
    if (!buf_reserve(b, n))
        return;
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = '\0';
}

void splut__buf_puts(splut__buf *b, const char *s)
{
    splut__buf_put(b, s, strlen(s));
}

void splut__buf_printf(splut__buf *b, const char *fmt, ...)
{
    char small[256];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(small, sizeof(small), fmt, ap);
    va_end(ap);
    if (n < 0) {
        b->oom = true;
        return;
    }
    if ((size_t)n < sizeof(small)) {
        splut__buf_put(b, small, (size_t)n);
        return;
    }
    if (!buf_reserve(b, (size_t)n))
        return;
    va_start(ap, fmt);
    vsnprintf(b->p + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
}

void splut__buf_bin(splut__buf *b, uint32_t v, uint32_t nbits)
{
    if (!buf_reserve(b, nbits))
        return;
    for (uint32_t i = 0; i < nbits; i++)
        b->p[b->len + i] = (char)('0' + ((v >> (nbits - 1 - i)) & 1u));
    b->len += nbits;
    b->p[b->len] = '\0';
}

/* Bit @p k of a bus of fields of @p bits each (field 0 in the LSBs). */
static unsigned bus_bit(const uint32_t *fields, uint32_t bits, size_t k)
{
    return (fields[k / bits] >> (k % bits)) & 1u;
}

void splut__buf_bus_hex(splut__buf *b, const uint32_t *fields, size_t n, uint32_t bits)
{
    static const char hex[] = "0123456789abcdef";
    size_t width = n * bits;
    size_t digits = (width + 3) / 4;
    if (!buf_reserve(b, digits))
        return;
    for (size_t d = 0; d < digits; d++) {
        size_t lsb = (digits - 1 - d) * 4;
        unsigned v = 0;
        for (size_t k = 0; k < 4 && lsb + k < width; k++)
            v |= bus_bit(fields, bits, lsb + k) << k;
        b->p[b->len++] = hex[v];
    }
    b->p[b->len] = '\0';
}

void splut__upper(char *dst, size_t cap, const char *src)
{
    size_t i = 0;
    for (; src[i] && i + 1 < cap; i++)
        dst[i] = (char)(src[i] >= 'a' && src[i] <= 'z' ? src[i] - 'a' + 'A' : src[i]);
    dst[i] = '\0';
}

/* ---------------------------------------------------------------- files */

splut_status splut__buf_write(splut__buf *b, const char *dir, const char *name)
{
    splut_ctx *ctx = b->ctx;
    if (b->oom)
        return splut__fail(ctx, SPLUT_E_NOMEM, "out of memory writing '%s'", name);
    char *path = splut__path_join(ctx, dir, name);
    if (!path)
        return splut__fail(ctx, SPLUT_E_NOMEM, "out of memory writing '%s'", name);
    splut_status st = splut__write_new_file(ctx, path, b->p ? b->p : "", b->len);
    splut__free(ctx, path);
    return st;
}

/* ---------------------------------------------------------- network shape */

static bool prefix_ok(const char *p)
{
    size_t n = strlen(p);
    if (n == 0 || n > SPLUT__PREFIX_MAX || p[n - 1] == '_')
        return false;
    if (!((p[0] >= 'a' && p[0] <= 'z') || (p[0] >= 'A' && p[0] <= 'Z')))
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = p[i];
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                  c == '_';
        /* VHDL forbids "__"; keep one rule for every format. */
        if (!ok || (c == '_' && p[i + 1] == '_'))
            return false;
    }
    return true;
}

/* sizeof(splut_hdl_opts) at each release that changed it: 0.1 (before the
 * input-stage fields) and 0.2. */
static const size_t HDL_OPTS_SIZES[] = {offsetof(splut_hdl_opts, input), sizeof(splut_hdl_opts)};

/* A caller's options as the current struct: an older, smaller struct gets
 * the defaults of the fields it does not have; a newer one with a zero tail
 * is read up to the fields this library knows. */
static splut_status read_opts(splut_ctx *ctx, const splut_hdl_opts *in, splut_hdl_opts *o)
{
    splut_hdl_opts dflt = SPLUT_HDL_OPTS_INIT;
    *o = dflt;
    if (!in)
        return SPLUT_OK;
    splut_status st = splut__struct_check(ctx, "splut_hdl_opts", in, in->size, HDL_OPTS_SIZES,
                                          sizeof(HDL_OPTS_SIZES) / sizeof(HDL_OPTS_SIZES[0]));
    if (st != SPLUT_OK)
        return st;
    memcpy(o, in, in->size < sizeof(*o) ? in->size : sizeof(*o));
    o->size = sizeof(splut_hdl_opts);
    return SPLUT_OK;
}

static splut_status check_opts(splut_ctx *ctx, const splut_hdl_opts *o)
{
    if (o->reserved)
        return splut__fail(ctx, SPLUT_E_INVALID, "splut_hdl_opts.reserved must be 0, not %u",
                           o->reserved);
    if (o->pipeline < SPLUT_PIPE_NONE || o->pipeline > SPLUT_PIPE_SUBLAYER)
        return splut__fail(ctx, SPLUT_E_INVALID, "unknown pipeline mode %d", (int)o->pipeline);
    if (o->flags & ~(uint32_t)(SPLUT_HDL_FULL_CASE | SPLUT_HDL_DONT_CARE | SPLUT_HDL_NO_RESET |
                               SPLUT_HDL_THERMO_BITS | SPLUT_HDL_GROUPSUM_COUNTS))
        return splut__fail(ctx, SPLUT_E_INVALID, "unknown HDL flags 0x%x", o->flags);
    if (o->prefix && !prefix_ok(o->prefix))
        return splut__fail(ctx, SPLUT_E_INVALID,
                           "prefix '%s' is not a valid module name ([A-Za-z][A-Za-z0-9_]*, "
                           "no '__', no trailing '_', at most %u characters)",
                           o->prefix, SPLUT__PREFIX_MAX);
    return SPLUT_OK;
}

/* The input stage of the options, checked against the network: every
 * feature's thresholds strictly ascending inside the raw range, its codes
 * within the input code width. */
static splut_status input_stage(splut__net *net, const splut_hdl_opts *o)
{
    splut_ctx *ctx = net->ctx;
    const splut_input_format *fmt = o->input;
    if (!o->input_thresholds || !o->input_codes || !o->input_steps)
        return splut__fail(ctx, SPLUT_E_NULL,
                           "splut_hdl_opts: input set but its thresholds, codes or steps are NULL");
    splut_status st = splut__input_format_check(ctx, fmt, net->n_in);
    if (st != SPLUT_OK)
        return st;
    net->input = fmt;
    net->raw_bits = fmt->bits;
    net->raw_signed = fmt->is_signed != 0;
    net->thr_k = (1u << net->in_bits) - 1;
    net->thr = o->input_thresholds;
    net->thr_codes = o->input_codes;
    net->thr_steps = o->input_steps;
    int32_t lo = splut__raw_min(fmt), hi = splut__raw_max(fmt);
    for (uint32_t f = 0; f < net->n_in; f++) {
        uint32_t n = net->thr_steps[f];
        if (n > net->thr_k)
            return splut__fail(ctx, SPLUT_E_INVALID, "input stage: feature %u has %u steps, "
                               "more than %u", f, n, net->thr_k);
        int32_t prev = lo;
        for (uint32_t i = 0; i < n; i++) {
            int32_t t = net->thr[(size_t)f * net->thr_k + i];
            if (t <= prev || t > hi)
                return splut__fail(ctx, SPLUT_E_INVALID,
                                   "input stage: threshold %u of feature %u (%d) is not above "
                                   "the previous one (or the range minimum) and at most %d",
                                   i, f, (int)t, (int)hi);
            prev = t;
        }
        for (uint32_t i = 0; i <= n; i++)
            if (splut__thr_code(net, f, i) >> net->in_bits)
                return splut__fail(ctx, SPLUT_E_INVALID,
                                   "input stage: code %u of feature %u does not fit %u bits",
                                   splut__thr_code(net, f, i), f, net->in_bits);
    }
    return SPLUT_OK;
}

static void stage_name(splut__net *net, splut__stage *s)
{
    snprintf(s->name, sizeof(s->name), "%s_%s%zu", net->prefix,
             s->kind == SPLUT__STAGE_ADDER ? "adder" : "layer", s->layer);
}

/* Add the stage(s) of layer @p l; @p prev_bits is the width of its input codes. */
static splut_status add_layer_stages(splut__net *net, size_t l, uint32_t *k)
{
    uint32_t neurons = 0, A = 0, in_width = 0;
    splut_status st = splut_tables_layer(net->t, l, &neurons, &A, &in_width);
    if (st != SPLUT_OK)
        return st;
    splut_table_info ti = SPLUT_TABLE_INFO_INIT;
    st = splut_tables_info(net->t, l, 0, 0, &ti);
    if (st != SPLUT_OK)
        return st;
    splut__stage *s = &net->stages[(*k)++];
    s->kind = A ? SPLUT__STAGE_SUB : SPLUT__STAGE_PLAIN;
    s->layer = l;
    s->neurons = neurons;
    s->A = A ? A : 1;
    s->in_fields = in_width;
    s->in_bits = ti.in_bits;
    s->fan_in = ti.in_fields;
    s->out_bits = ti.out_bits;
    s->reg_before = net->pipeline != SPLUT_PIPE_NONE;
    stage_name(net, s);
    if (!A)
        return SPLUT_OK;
    splut_table_info ai = SPLUT_TABLE_INFO_INIT;
    st = splut_tables_info(net->t, l, 0, SPLUT_TABLE_ADDER, &ai);
    if (st != SPLUT_OK)
        return st;
    splut__stage *a = &net->stages[(*k)++];
    a->kind = SPLUT__STAGE_ADDER;
    a->layer = l;
    a->neurons = neurons;
    a->A = 1;
    a->in_fields = neurons * A;
    a->in_bits = ai.in_bits;
    a->fan_in = ai.in_fields;
    a->out_bits = ai.out_bits;
    a->reg_before = net->pipeline == SPLUT_PIPE_SUBLAYER;
    stage_name(net, a);
    return SPLUT_OK;
}

static splut_status gather_stages(splut__net *net)
{
    size_t L = splut_tables_num_layers(net->t);
    size_t n = 0;
    for (size_t l = 0; l < L; l++) {
        uint32_t neurons = 0, A = 0, in_width = 0;
        splut_status st = splut_tables_layer(net->t, l, &neurons, &A, &in_width);
        if (st != SPLUT_OK)
            return st;
        n += A ? 2 : 1;
    }
    if (n == 0)
        return splut__fail(net->ctx, SPLUT_E_STATE, "tables have no layers to emit");
    net->stages = splut__calloc(net->ctx, n, sizeof(*net->stages));
    if (!net->stages)
        return splut__fail(net->ctx, SPLUT_E_NOMEM, "out of memory emitting HDL");
    net->n_stages = n;
    uint32_t k = 0;
    for (size_t l = 0; l < L; l++) {
        splut_status st = add_layer_stages(net, l, &k);
        if (st != SPLUT_OK)
            return st;
    }
    net->latency = 0;
    for (size_t i = 0; i < n; i++)
        net->latency += net->stages[i].reg_before;
    net->latency += net->reg_popcount + net->reg_argmax;
    return SPLUT_OK;
}

uint32_t splut__ones(uint32_t v)
{
    uint32_t n = 0;
    for (; v; v &= v - 1)
        n++;
    return n;
}

uint32_t splut__bits_for(uint32_t v)
{
    uint32_t bits = 1;
    while (bits < 32 && (v >> bits))
        bits++;
    return bits;
}

/* Nodes of leaves [lo, hi) from index *next on; returns the subtree's root. */
static uint32_t tree_range(splut__tree_node *nodes, uint32_t lo, uint32_t hi, uint32_t *next)
{
    if (hi - lo == 1) {
        nodes[lo] = (splut__tree_node){lo, lo, 1};
        return lo;
    }
    uint32_t mid = lo + (hi - lo) / 2;
    uint32_t a = tree_range(nodes, lo, mid, next), b = tree_range(nodes, mid, hi, next);
    uint32_t k = (*next)++;
    nodes[k] = (splut__tree_node){a, b, hi - lo};
    return k;
}

void splut__tree_build(splut__tree_node *nodes, uint32_t n)
{
    uint32_t next = n;
    tree_range(nodes, 0, n, &next);
}

splut__tree_node *splut__head_tree_alloc(const splut__net *net)
{
    return splut__calloc(net->ctx, 2 * (size_t)net->classes, sizeof(splut__tree_node));
}

/* ------------------------------------------------ popcount compressor tree */

#define PC_STAGES_MAX 64u
#define PC_COUNTER_MAX 6u

/* Bit columns of one compression stage: column j holds refs of weight 2^j. */
typedef struct pc_columns {
    splut__pc_ref *refs; /* count_bits × cap */
    uint32_t *n;         /* per column */
    uint32_t cap;        /* refs per column at most */
} pc_columns;

static void pc_push(pc_columns *c, uint32_t col, splut__pc_ref r)
{
    c->refs[(size_t)col * c->cap + c->n[col]++] = r;
}

/* One stage: every column of three bits or more goes through counters of up
 * to six bits (a remainder of one or two bits passes through). */
static void pc_stage(splut__pc_plan *p, const pc_columns *cur, pc_columns *nxt)
{
    memset(nxt->n, 0, p->count_bits * sizeof(uint32_t));
    for (uint32_t j = 0; j < p->count_bits; j++) {
        const splut__pc_ref *col = cur->refs + (size_t)j * cur->cap;
        for (uint32_t i = 0; i < cur->n[j]; i += PC_COUNTER_MAX) {
            uint32_t k = cur->n[j] - i < PC_COUNTER_MAX ? cur->n[j] - i : PC_COUNTER_MAX;
            if (k < 3 || cur->n[j] < 3) {
                for (uint32_t t = 0; t < k; t++)
                    pc_push(nxt, j, col[i + t]);
                continue;
            }
            uint32_t id = p->n_counters++, out = splut__bits_for(k);
            p->k[id] = k;
            p->first[id] = id ? p->first[id - 1] + p->k[id - 1] : 0;
            memcpy(p->in + p->first[id], col + i, k * sizeof(splut__pc_ref));
            p->used[k] = true;
            /* the sum of k bits of weight 2^j: its bits have weight ≤ k·2^j,
             * below 2^count_bits (the group's whole sum fits) */
            for (uint32_t t = 0; t < out && j + t < p->count_bits; t++)
                pc_push(nxt, j + t, (splut__pc_ref){p->group + id, t});
        }
    }
}

static bool pc_done(const splut__pc_plan *p, const pc_columns *c)
{
    for (uint32_t j = 0; j < p->count_bits; j++)
        if (c->n[j] > 2)
            return false;
    return true;
}

void splut__pc_plan_free(const splut__net *net, splut__pc_plan *p)
{
    splut__free(net->ctx, p->k);
    splut__free(net->ctx, p->first);
    splut__free(net->ctx, p->in);
    splut__free(net->ctx, p->a);
    splut__free(net->ctx, p->b);
    memset(p, 0, sizeof(*p));
}

splut_status splut__pc_plan_build(const splut__net *net, splut__pc_plan *p)
{
    memset(p, 0, sizeof(*p));
    uint32_t G = net->group, cw = net->count_bits;
    p->group = G;
    p->count_bits = cw;
    /* every counter removes at least one bit, and at least a quarter of its
     * inputs: at most G counters of 4G inputs in all; a column never holds
     * more than the G bits plus their carries */
    size_t cap = (size_t)G + 2 * cw + 2;
    pc_columns col[2];
    for (int i = 0; i < 2; i++) {
        col[i].cap = (uint32_t)cap;
        col[i].refs = splut__calloc(net->ctx, cap * cw, sizeof(splut__pc_ref));
        col[i].n = splut__calloc(net->ctx, cw, sizeof(uint32_t));
    }
    p->k = splut__calloc(net->ctx, G + 1, sizeof(uint32_t));
    p->first = splut__calloc(net->ctx, G + 1, sizeof(uint32_t));
    p->in = splut__calloc(net->ctx, 4 * (size_t)G + 8, sizeof(splut__pc_ref));
    p->a = splut__calloc(net->ctx, cw, sizeof(splut__pc_ref));
    p->b = splut__calloc(net->ctx, cw, sizeof(splut__pc_ref));
    splut_status st = SPLUT_OK;
    if (!col[0].refs || !col[1].refs || !col[0].n || !col[1].n || !p->k || !p->first ||
        !p->in || !p->a || !p->b)
        st = splut__fail(net->ctx, SPLUT_E_NOMEM, "out of memory planning the popcounts");
    uint32_t s = 0;
    for (uint32_t i = 0; st == SPLUT_OK && i < G; i++)
        pc_push(&col[0], 0, (splut__pc_ref){i, 0});
    for (uint32_t stage = 0; st == SPLUT_OK && !pc_done(p, &col[s]); stage++, s ^= 1u) {
        if (stage == PC_STAGES_MAX) /* cannot happen: heights halve every stage */
            st = splut__fail(net->ctx, SPLUT_E_STATE, "popcount plan does not converge");
        else
            pc_stage(p, &col[s], &col[s ^ 1u]);
    }
    for (uint32_t j = 0; st == SPLUT_OK && j < cw; j++) {
        const splut__pc_ref *c = col[s].refs + (size_t)j * cap;
        p->a[j] = col[s].n[j] > 0 ? c[0] : (splut__pc_ref){SPLUT__PC_ZERO, 0};
        p->b[j] = col[s].n[j] > 1 ? c[1] : (splut__pc_ref){SPLUT__PC_ZERO, 0};
    }
    for (int i = 0; i < 2; i++) {
        splut__free(net->ctx, col[i].refs);
        splut__free(net->ctx, col[i].n);
    }
    if (st != SPLUT_OK)
        splut__pc_plan_free(net, p);
    return st;
}

void splut__pc_ref_put(splut__buf *b, const splut__pc_plan *p, uint32_t c, bool vhdl,
                       splut__pc_ref r)
{
    if (r.node == SPLUT__PC_ZERO)
        splut__buf_puts(b, vhdl ? "'0'" : "1'b0");
    else if (r.node < p->group)
        splut__buf_printf(b, vhdl ? "M0(%lu)" : "M0[%lu]", (unsigned long)c * p->group + r.node);
    else
        splut__buf_printf(b, vhdl ? "p%u_k%u(%u)" : "p%u_k%u[%u]", c, r.node - p->group, r.bit);
}

uint64_t splut__pc_plan_luts(const splut__pc_plan *p)
{
    uint64_t luts = 0;
    for (uint32_t c = 0; c < p->n_counters; c++)
        luts += splut__bits_for(p->k[c]);
    bool adder = false; /* a second operand anywhere: one LUT per column of the adder */
    for (uint32_t j = 0; j < p->count_bits; j++)
        adder |= p->b[j].node != SPLUT__PC_ZERO;
    return luts + (adder ? p->count_bits : 0);
}

splut_status splut__emit_head(const splut__net *net, splut__buf *b, const char *dir,
                              const splut__head_units *u)
{
    splut__pc_plan plan;
    splut_status st = splut__pc_plan_build(net, &plan);
    for (uint32_t k = 3; st == SPLUT_OK && k <= PC_COUNTER_MAX; k++)
        if (plan.used[k])
            st = u->counter(net, k, b, dir);
    if (st == SPLUT_OK)
        st = u->popcount(net, &plan, b, dir);
    if (st == SPLUT_OK)
        splut__pc_plan_free(net, &plan);
    if (st != SPLUT_OK || net->counts_port)
        return st;
    splut__tree_node *nd = splut__head_tree_alloc(net);
    if (!nd)
        return splut__fail(net->ctx, SPLUT_E_NOMEM, "out of memory emitting the GroupSum head");
    st = u->argmax(net, nd, b, dir);
    splut__free(net->ctx, nd);
    return st;
}

uint32_t splut__net_last_width(const splut__net *net)
{
    return splut__stage_out_width(&net->stages[net->n_stages - 1]);
}

/* Thermometer bit l of feature f as a function of the raw value: over the
 * intervals between thresholds its value is "code > l", a monotone sequence
 * (the code is monotone in the raw value), so one comparison decides it. */
splut__tbit_kind splut__thermo_raw_bit(const splut__net *net, uint32_t f, uint32_t l,
                                       uint32_t *thr_index)
{
    uint32_t n = net->thr_steps[f];
    bool first = splut__thr_code(net, f, 0) > l;
    *thr_index = 0;
    for (uint32_t k = 1; k <= n; k++)
        if ((splut__thr_code(net, f, k) > l) != first) {
            *thr_index = k - 1;
            return first ? SPLUT__TBIT_LT : SPLUT__TBIT_GE;
        }
    return first ? SPLUT__TBIT_ONE : SPLUT__TBIT_ZERO;
}

/* Every thermometer bit of the input stage must change at most once over the
 * raw range (true of every monotone quantiser; checked, not assumed). */
static splut_status check_thermo_input(const splut__net *net)
{
    for (uint32_t f = 0; f < net->n_in; f++)
        for (uint32_t l = 0; l < net->thermo; l++) {
            uint32_t changes = 0;
            for (uint32_t k = 1; k <= net->thr_steps[f]; k++)
                changes += (splut__thr_code(net, f, k) > l) !=
                           (splut__thr_code(net, f, k - 1) > l);
            if (changes > 1)
                return splut__fail(net->ctx, SPLUT_E_INVALID,
                                   "input stage: thermometer bit %u of feature %u changes %u "
                                   "times over the raw range (the codes are not monotone)",
                                   l, f, changes);
        }
    return SPLUT_OK;
}

/* Largest popcount the GroupSum head handles: 16-bit counts (test vectors and
 * HLS outputs are 16-bit codes); C classes at most 2^16. */
#define GROUP_MAX 65535u
#define CLASSES_MAX 65536u

/* Thermometer inputs and the GroupSum head of LUT-node tables, and the flags
 * that only they accept. */
static splut_status dwn_shape(splut__net *net, const splut_tables *t, uint32_t flags)
{
    splut_ctx *ctx = net->ctx;
    net->thermo = splut_tables_thermometer_levels(t);
    net->classes = splut_tables_num_classes(t);
    if ((flags & SPLUT_HDL_THERMO_BITS) && !net->thermo)
        return splut__fail(ctx, SPLUT_E_INVALID,
                           "SPLUT_HDL_THERMO_BITS needs tables of a thermometer-input model");
    if ((flags & SPLUT_HDL_THERMO_BITS) && net->input)
        return splut__fail(ctx, SPLUT_E_INVALID,
                           "SPLUT_HDL_THERMO_BITS and an input stage exclude each other "
                           "(M0 carries either raw features or thermometer bits)");
    if ((flags & SPLUT_HDL_THERMO_BITS) && net->thermo > 16)
        return splut__fail(ctx, SPLUT_E_OUT_OF_RANGE,
                           "SPLUT_HDL_THERMO_BITS: %u thermometer bits per feature, at most 16",
                           net->thermo);
    if ((flags & SPLUT_HDL_GROUPSUM_COUNTS) && !net->classes)
        return splut__fail(ctx, SPLUT_E_INVALID,
                           "SPLUT_HDL_GROUPSUM_COUNTS needs tables with a GroupSum head");
    net->thermo_port = (flags & SPLUT_HDL_THERMO_BITS) != 0;
    net->counts_port = (flags & SPLUT_HDL_GROUPSUM_COUNTS) != 0;
    if (net->input && net->thermo) {
        splut_status st = check_thermo_input(net);
        if (st != SPLUT_OK)
            return st;
    }
    if (!net->classes)
        return SPLUT_OK;
    net->group = net->n_out / net->classes;
    if (net->classes > CLASSES_MAX || net->group > GROUP_MAX)
        return splut__fail(ctx, SPLUT_E_OUT_OF_RANGE,
                           "GroupSum head of %u classes of %u nodes: at most %u classes of "
                           "%u nodes (16-bit counts)",
                           net->classes, net->group, CLASSES_MAX, GROUP_MAX);
    net->count_bits = splut__bits_for(net->group);
    net->class_bits = splut__bits_for(net->classes - 1);
    net->reg_popcount = net->pipeline != SPLUT_PIPE_NONE;
    net->reg_argmax = net->pipeline == SPLUT_PIPE_SUBLAYER && !net->counts_port;
    /* the port carries the head's result */
    net->n_out = net->counts_port ? net->classes : 1;
    net->out_bits = net->counts_port ? net->count_bits : net->class_bits;
    return SPLUT_OK;
}

splut_status splut__net_init(splut__net *net, const splut_tables *t, const splut_hdl_opts *opts)
{
    memset(net, 0, sizeof(*net));
    if (!t)
        return SPLUT_E_NULL;
    splut_ctx *ctx = tables_ctx(t);
    net->ctx = ctx;
    net->t = t;
    splut_hdl_opts o;
    splut_status st = read_opts(ctx, opts, &o);
    if (st == SPLUT_OK)
        st = check_opts(ctx, &o);
    if (st != SPLUT_OK)
        return st;
    net->prefix = o.prefix ? o.prefix : "splut";
    net->pipeline = o.pipeline;
    net->flags = o.flags;
    st = splut_tables_io(t, &net->n_in, &net->in_bits, &net->n_out, &net->out_bits);
    if (st == SPLUT_OK && o.input)
        st = input_stage(net, &o);
    if (st == SPLUT_OK)
        st = dwn_shape(net, t, o.flags);
    if (st != SPLUT_OK)
        return st;
    st = gather_stages(net);
    if (st == SPLUT_OK && (net->flags & SPLUT_HDL_DONT_CARE))
        st = splut__net_fill_dont_cares(net);
    if (st != SPLUT_OK)
        splut__net_free(net);
    return st;
}

void splut__net_free(splut__net *net)
{
    splut__net_free_filled(net);
    if (net->ctx)
        splut__free(net->ctx, net->stages);
    net->stages = NULL;
    net->n_stages = 0;
}

uint32_t splut__stage_table(const splut__stage *s, uint32_t a)
{
    return s->kind == SPLUT__STAGE_ADDER ? SPLUT_TABLE_ADDER : a;
}

void splut__table_name(const splut__net *net, const splut__stage *s, uint32_t j, uint32_t a,
                       char *out, size_t cap)
{
    switch (s->kind) {
    case SPLUT__STAGE_PLAIN:
        snprintf(out, cap, "%s_l%zu_n%u", net->prefix, s->layer, j);
        break;
    case SPLUT__STAGE_SUB:
        snprintf(out, cap, "%s_l%zu_n%u_s%u", net->prefix, s->layer, j, a);
        break;
    case SPLUT__STAGE_ADDER:
        snprintf(out, cap, "%s_l%zu_n%u_add", net->prefix, s->layer, j);
        break;
    }
}

splut_status splut__table_fields(const splut__net *net, const splut__stage *s, uint32_t j,
                                 uint32_t a, uint32_t *fields)
{
    if (s->kind == SPLUT__STAGE_ADDER) {
        /* Sub-neuron (j, a) sits in field j·A + a of the sub-layer bus; sub 0 is the MS field. */
        for (uint32_t f = 0; f < s->fan_in; f++)
            fields[f] = j * s->fan_in + f;
        return SPLUT_OK;
    }
    const uint32_t *idx = NULL;
    size_t n = 0;
    splut_status st = splut_tables_inputs(net->t, s->layer, j, &idx, &n);
    if (st != SPLUT_OK)
        return st;
    if (n != (size_t)s->A * s->fan_in)
        return splut__fail(net->ctx, SPLUT_E_STATE,
                           "layer %zu neuron %u has %zu inputs, expected %u", s->layer, j, n,
                           s->A * s->fan_in);
    for (uint32_t f = 0; f < s->fan_in; f++)
        fields[f] = idx[a * s->fan_in + f];
    return SPLUT_OK;
}

splut_status splut__table_data(const splut__net *net, const splut__stage *s, uint32_t j,
                               uint32_t a, const uint16_t **entries)
{
    if (net->filled) {
        size_t n = (size_t)1 << (s->fan_in * s->in_bits);
        *entries = net->filled[s - net->stages] + ((size_t)j * s->A + a) * n;
        return SPLUT_OK;
    }
    return splut_tables_data(net->t, s->layer, j, splut__stage_table(s, a), entries);
}

uint16_t splut__table_mode(const uint16_t *entries, size_t n, uint32_t out_bits)
{
    size_t count[1u << (SPLUT_MAX_BITS + 1)] = {0};
    uint32_t vals = 1u << out_bits;
    for (size_t i = 0; i < n; i++)
        if (entries[i] < vals)
            count[entries[i]]++;
    uint16_t best = 0;
    for (uint32_t v = 1; v < vals; v++)
        if (count[v] > count[best])
            best = (uint16_t)v;
    return best;
}

bool splut__stage_has_unused(const splut__net *net, const splut__stage *s)
{
    if (s->kind == SPLUT__STAGE_ADDER)
        return false; /* every sub-neuron output feeds its adder */
    size_t bytes = (s->in_fields + 7) / 8;
    uint8_t *used = splut__calloc(net->ctx, bytes ? bytes : 1, 1);
    if (!used)
        return true; /* the conservative answer only adds a lint waiver */
    for (uint32_t j = 0; j < s->neurons; j++) {
        const uint32_t *idx = NULL;
        size_t n = 0;
        if (splut_tables_inputs(net->t, s->layer, j, &idx, &n) != SPLUT_OK)
            continue;
        for (size_t i = 0; i < n; i++)
            if (idx[i] < s->in_fields)
                used[idx[i] / 8] |= (uint8_t)(1u << (idx[i] % 8));
    }
    bool unused = false;
    for (uint32_t x = 0; x < s->in_fields && !unused; x++)
        unused = !(used[x / 8] & (1u << (x % 8)));
    splut__free(net->ctx, used);
    return unused;
}

splut_status splut__emit_units(const splut__net *net, const splut__hdl_units *u, const char *dir)
{
    splut__buf b;
    splut__buf_init(&b, net->ctx);
    splut_status st = SPLUT_OK;
    for (size_t i = 0; i < net->n_stages && st == SPLUT_OK; i++) {
        const splut__stage *s = &net->stages[i];
        for (uint32_t j = 0; j < s->neurons && st == SPLUT_OK; j++)
            for (uint32_t a = 0; a < s->A && st == SPLUT_OK; a++)
                st = u->table(net, s, j, a, &b, dir);
        if (st == SPLUT_OK)
            st = u->stage(net, s, &b, dir);
    }
    if (st == SPLUT_OK && net->latency)
        st = u->reg(net, &b, dir);
    if (st == SPLUT_OK && splut__net_has_input_unit(net))
        st = u->input(net, &b, dir);
    if (st == SPLUT_OK && net->classes)
        st = u->head(net, &b, dir);
    if (st == SPLUT_OK)
        st = u->top(net, &b, dir);
    splut__buf_free(&b);
    if (st == SPLUT_OK)
        st = splut__emit_file_list(net, dir, u->ext);
    if (st == SPLUT_OK)
        st = splut__emit_vivado(net, dir, u->ext);
    return st;
}

/* <prefix>_files.txt: every source in a valid compilation order. */
static splut_status file_list(const splut__net *net, splut__buf *b, const char *dir,
                              const char *ext)
{
    char name[SPLUT__PREFIX_MAX + 48];
    splut__buf_reset(b);
    if (net->latency)
        splut__buf_printf(b, "%s_reg.%s\n", net->prefix, ext);
    for (size_t i = 0; i < net->n_stages; i++) {
        const splut__stage *s = &net->stages[i];
        for (uint32_t j = 0; j < s->neurons; j++)
            for (uint32_t a = 0; a < s->A; a++) {
                splut__table_name(net, s, j, a, name, sizeof(name));
                splut__buf_printf(b, "%s.%s\n", name, ext);
            }
        splut__buf_printf(b, "%s.%s\n", s->name, ext);
    }
    if (splut__net_has_input_unit(net))
        splut__buf_printf(b, "%s_input.%s\n", net->prefix, ext);
    if (net->classes) {
        splut__pc_plan plan;
        splut_status st = splut__pc_plan_build(net, &plan);
        if (st != SPLUT_OK)
            return st;
        for (uint32_t k = 3; k <= PC_COUNTER_MAX; k++)
            if (plan.used[k])
                splut__buf_printf(b, "%s_count%u.%s\n", net->prefix, k, ext);
        splut__pc_plan_free(net, &plan);
        splut__buf_printf(b, "%s_popcount.%s\n", net->prefix, ext);
    }
    if (net->classes && !net->counts_port)
        splut__buf_printf(b, "%s_argmax.%s\n", net->prefix, ext);
    splut__buf_printf(b, "%s_top.%s\n", net->prefix, ext);
    snprintf(name, sizeof(name), "%s_files.txt", net->prefix);
    return splut__buf_write(b, dir, name);
}

splut_status splut__emit_file_list(const splut__net *net, const char *dir, const char *ext)
{
    splut__buf b;
    splut__buf_init(&b, net->ctx);
    splut_status st = file_list(net, &b, dir, ext);
    splut__buf_free(&b);
    return st;
}

/* ----------------------------------------------------------- entry points */

/* A design owns the files named "<prefix>_*.EXT" or "<prefix>.EXT" with an
 * extension the emitters write: a new emission with the same prefix replaces
 * all of them, so no module of an earlier network survives next to the new
 * ones, while other files that share the prefix (the model "<prefix>.splut",
 * a user's notes) are left alone. */
static bool owned_by_prefix(const char *name, const void *user)
{
    static const char *const exts[] = {"v", "sv", "vhd", "vhdl", "c", "h", "cpp", "hpp",
                                       "xdc", "tcl", "hex", "txt"};
    const char *prefix = user;
    size_t n = strlen(prefix);
    if (strncmp(name, prefix, n) != 0 || (name[n] != '_' && name[n] != '.'))
        return false;
    const char *dot = strrchr(name + n, '.');
    for (size_t i = 0; dot && i < sizeof(exts) / sizeof(exts[0]); i++)
        if (strcmp(dot + 1, exts[i]) == 0)
            return true;
    return false;
}

splut_status splut_tables_emit(const splut_tables *t, splut_hdl_format fmt, const char *dir,
                               const splut_hdl_opts *opts)
{
    if (!t)
        return SPLUT_E_NULL;
    splut_ctx *ctx = tables_ctx(t);
    if (!dir)
        return splut__fail(ctx, SPLUT_E_NULL, "splut_tables_emit: dir is NULL");
    if (fmt != SPLUT_HDL_VERILOG && fmt != SPLUT_HDL_VHDL && fmt != SPLUT_HDL_HLS)
        return splut__fail(ctx, SPLUT_E_INVALID, "unknown HDL format %d", (int)fmt);
    splut__net net;
    splut_status st = splut__net_init(&net, t, opts);
    splut_dirstage ds = {0};
    if (st == SPLUT_OK)
        st = splut__dirstage_open(ctx, dir, &ds);
    if (st == SPLUT_OK) {
        if (fmt == SPLUT_HDL_VERILOG)
            st = splut__emit_verilog(&net, ds.tmp);
        else if (fmt == SPLUT_HDL_VHDL)
            st = splut__emit_vhdl(&net, ds.tmp);
        else
            st = splut__emit_hls(&net, ds.tmp);
    }
    if (st == SPLUT_OK)
        st = splut__dirstage_commit(&ds, owned_by_prefix, net.prefix);
    else
        splut__dirstage_abort(&ds);
    splut__net_free(&net);
    return st;
}

static splut_status check_codes(const splut__net *net, const uint16_t *in, size_t n)
{
    for (size_t i = 0; i < n * net->n_in; i++)
        if (in[i] >> net->in_bits)
            return splut__fail(net->ctx, SPLUT_E_OUT_OF_RANGE,
                               "input code %u of vector %zu, feature %zu, does not fit %u bits",
                               in[i], i / net->n_in, i % net->n_in, net->in_bits);
    return SPLUT_OK;
}

static splut_status check_raw(const splut__net *net, const int32_t *raw, size_t n)
{
    int32_t lo = splut__raw_min(net->input), hi = splut__raw_max(net->input);
    for (size_t i = 0; i < n * net->n_in; i++)
        if (raw[i] < lo || raw[i] > hi)
            return splut__fail(net->ctx, SPLUT_E_OUT_OF_RANGE,
                               "raw input %d of vector %zu, feature %zu, is outside %d..%d",
                               (int)raw[i], i / net->n_in, i % net->n_in, (int)lo, (int)hi);
    return SPLUT_OK;
}

/* One line per vector: the bus of its n fields, from codes or raw values
 * (two's complement, masked to bits). */
static splut_status write_bus_file(const splut__net *net, const char *dir, const char *suffix,
                                   const uint16_t *codes, const int32_t *raw, size_t rows,
                                   uint32_t n, uint32_t bits)
{
    uint32_t *row = splut__calloc(net->ctx, n ? n : 1, sizeof(uint32_t));
    if (!row)
        return splut__fail(net->ctx, SPLUT_E_NOMEM, "out of memory writing test vectors");
    uint32_t mask = bits >= 32 ? 0xffffffffu : (1u << bits) - 1;
    splut__buf b;
    splut__buf_init(&b, net->ctx);
    for (size_t i = 0; i < rows; i++) {
        for (uint32_t f = 0; f < n; f++)
            row[f] = (raw ? (uint32_t)raw[i * n + f] : codes[i * n + f]) & mask;
        splut__buf_bus_hex(&b, row, n, bits);
        splut__buf_puts(&b, "\n");
    }
    char name[SPLUT__PREFIX_MAX + 16];
    snprintf(name, sizeof(name), "%s_%s.hex", net->prefix, suffix);
    splut_status st = splut__buf_write(&b, dir, name);
    splut__buf_free(&b);
    splut__free(net->ctx, row);
    return st;
}

/* The port M1 of every vector: the last layer's codes, or the GroupSum
 * head's class index or counts. */
static splut_status expected_outputs(const splut__net *net, const uint16_t *in, size_t n,
                                     uint16_t *out)
{
    if (!net->classes)
        return splut_tables_forward(net->t, in, n, out);
    if (net->counts_port)
        return splut_tables_classify(net->t, in, n, NULL, out);
    int32_t *pred = splut__calloc(net->ctx, n, sizeof(int32_t));
    if (!pred)
        return splut__fail(net->ctx, SPLUT_E_NOMEM, "out of memory for %zu expected vectors", n);
    splut_status st = splut_tables_classify(net->t, in, n, pred, NULL);
    for (size_t i = 0; st == SPLUT_OK && i < n; i++)
        out[i] = (uint16_t)pred[i];
    splut__free(net->ctx, pred);
    return st;
}

/* Write <prefix>_in.hex (the port bus: raw values with an input stage, else
 * the codes) and <prefix>_out.hex (expected, from LUT-mode inference on the
 * codes). */
static splut_status write_vectors(const splut__net *net, const char *dir, const int32_t *raw,
                                  const uint16_t *in, size_t n)
{
    splut_ctx *ctx = net->ctx;
    splut_status st = check_codes(net, in, n);
    if (st == SPLUT_OK && raw)
        st = check_raw(net, raw, n);
    if (st != SPLUT_OK)
        return st;
    uint16_t *out = splut__calloc(ctx, n, (size_t)net->n_out * sizeof(uint16_t));
    uint16_t *port = net->thermo_port ? splut__calloc(ctx, n, net->n_in * sizeof(uint16_t)) : NULL;
    if (!out || (net->thermo_port && !port)) {
        splut__free(ctx, out);
        splut__free(ctx, port);
        return splut__fail(ctx, SPLUT_E_NOMEM, "out of memory for %zu expected vectors", n);
    }
    st = expected_outputs(net, in, n, out);
    /* thermometer bits on the port: code c sets its c lowest bits */
    for (size_t i = 0; port && i < n * net->n_in; i++)
        port[i] = (uint16_t)((1u << in[i]) - 1);
    if (st == SPLUT_OK)
        st = write_bus_file(net, dir, "in", port ? port : in, raw, n, net->n_in,
                            splut__net_port_bits(net));
    splut__free(ctx, port);
    if (st == SPLUT_OK)
        st = write_bus_file(net, dir, "out", out, NULL, n, net->n_out, net->out_bits);
    splut__free(ctx, out);
    return st;
}

/* Both testbench entry points: @p raw is NULL for a design without input stage. */
static splut_status emit_testbench(const splut_tables *t, splut_hdl_format fmt, const char *dir,
                                   const splut_hdl_opts *opts, const int32_t *raw,
                                   const uint16_t *in_codes, size_t n)
{
    splut_ctx *ctx = tables_ctx(t);
    if (fmt != SPLUT_HDL_VERILOG && fmt != SPLUT_HDL_VHDL && fmt != SPLUT_HDL_HLS)
        return splut__fail(ctx, SPLUT_E_INVALID, "unknown HDL format %d", (int)fmt);
    if (n == 0 || n > (size_t)INT32_MAX)
        return splut__fail(ctx, SPLUT_E_INVALID, "vector count %zu not in 1..2^31-1", n);
    splut__net net;
    splut_status st = splut__net_init(&net, t, opts);
    if (st == SPLUT_OK && !net.input != !raw)
        st = splut__fail(ctx, SPLUT_E_INVALID,
                         raw ? "raw test vectors need a design with an input stage (opts->input)"
                             : "a design with an input stage takes raw test vectors "
                               "(splut_tables_emit_testbench_raw)");
    splut_dirstage ds = {0};
    if (st == SPLUT_OK)
        st = splut__dirstage_open(ctx, dir, &ds);
    if (st == SPLUT_OK)
        st = write_vectors(&net, ds.tmp, raw, in_codes, n);
    if (st == SPLUT_OK) {
        if (fmt == SPLUT_HDL_VERILOG)
            st = splut__emit_verilog_tb(&net, ds.tmp, n);
        else if (fmt == SPLUT_HDL_VHDL)
            st = splut__emit_vhdl_tb(&net, ds.tmp, n);
        else
            st = splut__emit_hls_tb(&net, ds.tmp, n);
    }
    /* The testbench joins the design already in dir: only its own files change. */
    if (st == SPLUT_OK)
        st = splut__dirstage_commit(&ds, NULL, NULL);
    else
        splut__dirstage_abort(&ds);
    splut__net_free(&net);
    return st;
}

splut_status splut_tables_emit_testbench(const splut_tables *t, splut_hdl_format fmt,
                                         const char *dir, const splut_hdl_opts *opts,
                                         const uint16_t *in_codes, size_t n)
{
    if (!t)
        return SPLUT_E_NULL;
    if (!dir || !in_codes)
        return splut__fail(tables_ctx(t), SPLUT_E_NULL, "splut_tables_emit_testbench: %s is NULL",
                           dir ? "in_codes" : "dir");
    return emit_testbench(t, fmt, dir, opts, NULL, in_codes, n);
}

splut_status splut_tables_emit_testbench_raw(const splut_tables *t, splut_hdl_format fmt,
                                             const char *dir, const splut_hdl_opts *opts,
                                             const int32_t *raw, const uint16_t *in_codes,
                                             size_t n)
{
    if (!t)
        return SPLUT_E_NULL;
    if (!dir || !raw || !in_codes)
        return splut__fail(tables_ctx(t), SPLUT_E_NULL,
                           "splut_tables_emit_testbench_raw: %s is NULL",
                           !dir ? "dir" : !raw ? "raw" : "in_codes");
    return emit_testbench(t, fmt, dir, opts, raw, in_codes, n);
}

splut_status splut_hdl_latency(const splut_tables *t, const splut_hdl_opts *opts,
                               uint32_t *cycles)
{
    if (!t)
        return SPLUT_E_NULL;
    if (!cycles)
        return splut__fail(tables_ctx(t), SPLUT_E_NULL, "splut_hdl_latency: cycles is NULL");
    splut__net net;
    splut_status st = splut__net_init(&net, t, opts);
    if (st == SPLUT_OK)
        *cycles = net.latency;
    splut__net_free(&net);
    return st;
}
