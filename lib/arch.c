/*
 * Architecture strings: "IN:BITS[:relu] KIND:WIDTH:F<f>:b<b>[:D<d>][:A<a>][:N<n>] ..."
 * parsed into a built model (grammar in sparselut.h, splut_model_create_arch).
 *
 * Tokens are (pointer, length) views into the caller's string: nothing is
 * copied, nothing is read past a token's end, and every number is plain
 * decimal digits (no sign, no spaces, no trailing characters).
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include <string.h>

#include "model-priv.h"

/* Largest value of a layer field (F, b, D, A, N) the parser passes on; the
 * model checks the real limits and says which one was hit. */
#define ARCH_FIELD_MAX (1u << 20)

typedef struct span {
    const char *p;
    size_t n;
} span;

static bool is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* The next whitespace-separated token at or after *at; '#' starts a comment
 * that runs to the end of the line. Returns false at the end of the string. */
static bool next_token(const char **at, span *tok)
{
    const char *s = *at;
    for (;;) {
        while (is_space(*s))
            s++;
        if (*s != '#')
            break;
        while (*s && *s != '\n')
            s++;
    }
    if (!*s)
        return false;
    tok->p = s;
    while (*s && !is_space(*s) && *s != '#')
        s++;
    tok->n = (size_t)(s - tok->p);
    *at = s;
    return true;
}

/* Split off the part of *rest up to the next ':' (or its end). */
static span next_field(span *rest)
{
    span f = {rest->p, 0};
    while (f.n < rest->n && rest->p[f.n] != ':')
        f.n++;
    size_t used = f.n < rest->n ? f.n + 1 : f.n; /* the ':' too */
    rest->p += used;
    rest->n -= used;
    return f;
}

/* Decimal digits only, value in [lo, hi]. */
static bool parse_uint(span s, uint64_t lo, uint64_t hi, uint64_t *v)
{
    if (s.n == 0 || s.n > 10)
        return false;
    uint64_t x = 0;
    for (size_t i = 0; i < s.n; i++) {
        if (s.p[i] < '0' || s.p[i] > '9')
            return false;
        x = x * 10 + (uint64_t)(s.p[i] - '0');
    }
    *v = x;
    return x >= lo && x <= hi;
}

/* ':' at either end or "::": a field with nothing in it. */
static bool has_empty_field(span s)
{
    if (s.n == 0 || s.p[0] == ':' || s.p[s.n - 1] == ':')
        return true;
    for (size_t i = 1; i < s.n; i++)
        if (s.p[i] == ':' && s.p[i - 1] == ':')
            return true;
    return false;
}

static bool span_is(span s, const char *word)
{
    return strlen(word) == s.n && memcmp(s.p, word, s.n) == 0;
}

static bool layer_kind(span s, int32_t *kind)
{
    static const struct {
        const char *name;
        int32_t kind;
    } kinds[] = {{"linear", SPLUT_NEURON_LINEAR},
                 {"poly", SPLUT_NEURON_POLY},
                 {"add", SPLUT_NEURON_POLY_ADD},
                 {"poly-add", SPLUT_NEURON_POLY_ADD},
                 {"neuralut", SPLUT_NEURON_NEURALUT}};
    for (size_t k = 0; k < sizeof(kinds) / sizeof(kinds[0]); k++)
        if (span_is(s, kinds[k].name)) {
            *kind = kinds[k].kind;
            return true;
        }
    return false;
}

static splut_status bad_token(const splut_ctx *ctx, span tok, const char *why)
{
    return splut__fail(ctx, SPLUT_E_INVALID, "architecture: token '%.*s': %s",
                       tok.n > 200 ? 200 : (int)tok.n, tok.p, why);
}

/* The slot of field letter @p key in @p d, NULL if there is no such field. */
static uint32_t *field_slot(splut_layer_desc *d, char key)
{
    switch (key) {
    case 'F': return &d->fan_in;
    case 'b': return &d->out_bits;
    case 'D': return &d->degree;
    case 'A': return &d->sub_neurons;
    case 'N': return &d->hidden;
    default: return NULL;
    }
}

/* Kind-dependent defaults of the optional fields. */
static void layer_defaults(splut_layer_desc *d)
{
    d->degree = d->kind == SPLUT_NEURON_NEURALUT ? 0 : 1; /* NeuraLUT has no degree */
    d->sub_neurons = d->kind == SPLUT_NEURON_POLY_ADD ? 2 : 0;
    d->hidden = d->kind == SPLUT_NEURON_NEURALUT ? 16 : 0;
}

/* "KIND:WIDTH:F6:b2[:D4][:A2][:N16]": each field at most once, F and b required. */
static splut_status parse_layer(const splut_ctx *ctx, span tok, splut_layer_desc *d)
{
    if (has_empty_field(tok))
        return bad_token(ctx, tok, "empty field (':' at an end, or '::')");
    span rest = tok;
    if (!layer_kind(next_field(&rest), &d->kind))
        return bad_token(ctx, tok, "a layer starts with linear:, poly:, add:, poly-add: or "
                                   "neuralut:");
    uint64_t width;
    if (!parse_uint(next_field(&rest), 1, UINT32_MAX, &width))
        return bad_token(ctx, tok, "the layer width after the kind must be 1..2^32-1");
    d->width = (uint32_t)width;
    layer_defaults(d);
    const char *letters = "FbDAN";
    unsigned seen = 0; /* bit i: letters[i] given */
    while (rest.n > 0) {
        span f = next_field(&rest); /* not empty: checked above */
        uint32_t *slot = field_slot(d, f.p[0]);
        if (!slot)
            return bad_token(ctx, tok, "each field after the width is one of F<fan-in>, "
                                       "b<bits>, D<degree>, A<sub-neurons>, N<hidden>");
        unsigned bit = 1u << (strchr(letters, f.p[0]) - letters);
        if (seen & bit)
            return bad_token(ctx, tok, "a field is given twice");
        seen |= bit;
        uint64_t v;
        span digits = {f.p + 1, f.n - 1};
        if (!parse_uint(digits, 0, ARCH_FIELD_MAX, &v))
            return bad_token(ctx, tok, "a field letter is followed by a decimal number "
                                       "up to 2^20");
        *slot = (uint32_t)v;
    }
    if ((seen & 3u) != 3u)
        return bad_token(ctx, tok, "a layer needs F<fan-in> and b<bits>");
    return SPLUT_OK;
}

/* "IN:BITS" or "IN:BITS:relu". */
static splut_status parse_input(const splut_ctx *ctx, span tok, uint32_t *in, uint32_t *bits,
                                bool *relu)
{
    span rest = tok;
    uint64_t n = 0, b = 0;
    bool ok = !has_empty_field(tok) && parse_uint(next_field(&rest), 1, UINT32_MAX, &n) &&
              parse_uint(next_field(&rest), 1, SPLUT_MAX_BITS, &b);
    *relu = false;
    if (ok && rest.n > 0)
        ok = *relu = span_is(rest, "relu");
    if (!ok)
        return bad_token(ctx, tok, "the first token is IN:BITS or IN:BITS:relu (IN >= 1 "
                                   "input features, BITS 1..8)");
    *in = (uint32_t)n;
    *bits = (uint32_t)b;
    return SPLUT_OK;
}

static splut_status add_layers(splut_model *m, const char *at)
{
    span tok;
    size_t layers = 0;
    while (next_token(&at, &tok)) {
        splut_layer_desc d = SPLUT_LAYER_DESC_INIT;
        splut_status st = parse_layer(m->ctx, tok, &d);
        if (st == SPLUT_OK)
            st = splut_model_add_layer(m, &d);
        if (st != SPLUT_OK)
            return st;
        layers++;
    }
    if (!layers)
        return splut__fail(m->ctx, SPLUT_E_INVALID, "architecture: no layer after the input");
    return SPLUT_OK;
}

splut_status splut_model_create_arch(splut_ctx *ctx, const char *spec, splut_model **out)
{
    if (!out)
        return SPLUT_E_NULL;
    *out = NULL;
    if (!ctx)
        return SPLUT_E_NULL;
    if (!spec)
        return splut__fail(ctx, SPLUT_E_NULL, "splut_model_create_arch: spec is NULL");
    const char *at = spec;
    span tok;
    if (!next_token(&at, &tok))
        return splut__fail(ctx, SPLUT_E_INVALID, "architecture: empty string");
    uint32_t in = 0, bits = 0;
    bool relu;
    splut_status st = parse_input(ctx, tok, &in, &bits, &relu);
    if (st != SPLUT_OK)
        return st;
    splut_model *m = NULL;
    st = splut_model_create(ctx, in, bits, &m);
    if (st == SPLUT_OK && relu)
        st = splut_model_set_int(m, SPLUT_P_INPUT_MODE, SPLUT_INPUT_RELU);
    if (st == SPLUT_OK)
        st = add_layers(m, at);
    return m ? splut__model_finish(m, st, out) : st;
}
