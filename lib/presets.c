/*
 * Named presets: the published PolyLUT, PolyLUT-Add and LogicNets
 * configurations (reference/MODELS.md §0 and §6).
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include <stdio.h>
#include <string.h>

#include "model-priv.h"


#define MAXL 8

typedef struct preset {
    const char *name;
    splut_neuron_kind kind;
    uint32_t n_inputs, in_bits, hid_bits, out_bits;
    uint32_t widths[MAXL]; /* 0-terminated */
    uint32_t fan_in[MAXL];
    uint32_t degree, sub_neurons, hidden;
    int input_mode;
    double lr, wd;
    int batch, epochs;
} preset;

#define LN SPLUT_NEURON_LINEAR
#define PL SPLUT_NEURON_POLY
#define PA SPLUT_NEURON_POLY_ADD
#define NL SPLUT_NEURON_NEURALUT
#define BNH SPLUT_INPUT_BN_HARDTANH
#define RLU SPLUT_INPUT_RELU
#define LUT SPLUT_NEURON_LUT
#define THM SPLUT_INPUT_THERMOMETER

static const preset PRESETS[] = {
    /* PolyLUT */
    {"hdr", PL, 784, 2, 2, 2, {256, 100, 100, 100, 100, 10}, {6, 6, 6, 6, 6, 6}, 4, 0, 0, BNH,
     4e-3, 0, 128, 500},
    {"jsc-xl", PL, 16, 7, 5, 5, {128, 64, 64, 64, 5}, {2, 3, 3, 3, 3}, 4, 0, 0, BNH, 1e-2, 0,
     1024, 500},
    {"jsc-m-lite", PL, 16, 3, 3, 3, {64, 32, 5}, {4, 4, 4}, 6, 0, 0, BNH, 1e-3, 0, 1024, 1000},
    {"nid-lite", PL, 593, 1, 2, 2, {686, 147, 98, 49, 1}, {7, 7, 7, 7, 7}, 2, 0, 0, RLU, 1e-1,
     1e-4, 1024, 1000},
    /* PolyLUT-Add */
    {"hdr-add2", PA, 784, 2, 2, 2, {256, 100, 100, 100, 100, 10}, {4, 4, 4, 4, 4, 4}, 3, 2, 0,
     BNH, 4e-3, 0, 128, 500},
    {"jsc-xl-add2", PA, 16, 7, 5, 5, {128, 64, 64, 64, 5}, {1, 2, 2, 2, 2}, 3, 2, 0, BNH, 1e-2,
     0, 1024, 500},
    {"jsc-m-lite-add2", PA, 16, 3, 3, 3, {64, 32, 5}, {2, 2, 2}, 3, 2, 0, BNH, 1e-3, 0, 1024,
     1000},
    {"nid-add2", PA, 593, 1, 2, 2, {100, 100, 50, 50, 1}, {6, 3, 3, 3, 7}, 1, 2, 0, RLU, 2e-2,
     1e-4, 1024, 1000},
    /* NeuraLUT */
    {"hdr-5l", NL, 784, 2, 2, 2, {256, 100, 100, 100, 10}, {6, 6, 6, 6, 6}, 0, 0, 16, BNH, 3e-3,
     0, 128, 500},
    {"jsc-5l", NL, 16, 7, 4, 4, {128, 128, 128, 64, 5}, {2, 3, 3, 3, 3}, 0, 0, 16, BNH, 1e-3, 0,
     1024, 1000},
    {"jsc-2l", NL, 16, 4, 4, 4, {32, 5}, {3, 3}, 0, 0, 8, BNH, 1e-3, 0, 1024, 1000},
    /* LogicNets */
    {"jsc-s", LN, 16, 2, 2, 2, {64, 32, 32, 32, 5}, {3, 3, 3, 3, 3}, 1, 0, 0, BNH, 1e-3, 1e-3,
     1024, 1000},
    {"jsc-m", LN, 16, 3, 3, 3, {64, 32, 32, 32, 5}, {4, 4, 4, 4, 4}, 1, 0, 0, BNH, 1e-3, 1e-3,
     1024, 1000},
    {"jsc-l", LN, 16, 4, 3, 7, {32, 64, 192, 192, 16, 5}, {3, 4, 4, 4, 4, 5}, 1, 0, 0, BNH,
     1e-3, 1e-3, 1024, 1000},
    /* DWN (docs/lut-nodes.md): 3 thermometer levels per pixel, 2000 LUT6 nodes, GroupSum
     * over 10 classes (`hidden`, last layer only); random mapping, our recipe */
    {"dwn-mnist", LUT, 784, 2, 1, 1, {2000}, {6}, 0, 0, 10, THM, 1e-2, 0, 128, 30},
    {"dwn-mnist-2l", LUT, 784, 2, 1, 1, {3000, 1000}, {6, 6}, 0, 0, 10, THM, 1e-2, 0, 128, 30},
    /* with the learnable mapping over every input bit (the paper's), 1 and 2 layers */
    {"dwn-mnist-map", LUT, 784, 2, 1, 1, {2000}, {6}, 0, 0, 10, THM, 1e-2, 0, 128, 30},
    {"dwn-mnist-map-2l", LUT, 784, 2, 1, 1, {3000, 1000}, {6, 6}, 0, 0, 10, THM, 1e-2, 0, 128,
     60},
    /* JSC (ours, after the paper's): 15 thermometer levels per feature (240 bits),
     * 1000 LUT6 nodes with the learnable mapping over every bit, GroupSum over 5 */
    {"dwn-jsc", LUT, 16, 4, 1, 1, {1000}, {6}, 0, 0, 5, THM, 1e-2, 0, 256, 30},
};

#define N_PRESETS (sizeof(PRESETS) / sizeof(PRESETS[0]))

/* Presets with the learnable mapping of the first LUT layer (SPLUT_P_LUT_MAP):
 * candidates per node input; every other preset keeps the random mapping. */
static const struct {
    const char *name;
    uint32_t lut_map;
} LUT_MAPS[] = {{"dwn-mnist-map", 392}, {"dwn-mnist-map-2l", 392}, {"dwn-jsc", 40}};

static uint32_t preset_lut_map(const char *name)
{
    for (size_t i = 0; i < sizeof(LUT_MAPS) / sizeof(LUT_MAPS[0]); i++)
        if (strcmp(LUT_MAPS[i].name, name) == 0)
            return LUT_MAPS[i].lut_map;
    return 0;
}

const char *splut_preset_name(size_t index)
{
    return index < N_PRESETS ? PRESETS[index].name : NULL;
}

static splut_status add_preset_layers(splut_model *m, const preset *p)
{
    size_t n = 0;
    while (n < MAXL && p->widths[n])
        n++;
    for (size_t l = 0; l < n; l++) {
        splut_layer_desc d = SPLUT_LAYER_DESC_INIT;
        d.kind = (int32_t)p->kind;
        d.width = p->widths[l];
        d.fan_in = p->fan_in[l];
        d.out_bits = l + 1 == n ? p->out_bits : p->hid_bits;
        d.degree = p->degree;
        d.sub_neurons = p->sub_neurons;
        /* LUT layers: `hidden` is the GroupSum head, on the last layer only */
        d.hidden = p->kind == SPLUT_NEURON_LUT && l + 1 < n ? 0 : p->hidden;
        splut_status st = splut_model_add_layer(m, &d);
        if (st != SPLUT_OK)
            return st;
    }
    return SPLUT_OK;
}

splut_status splut_model_create_preset(splut_ctx *ctx, const char *name, splut_model **out)
{
    if (!ctx || !name || !out)
        return ctx ? splut__fail(ctx, SPLUT_E_NULL, "splut_model_create_preset: NULL argument")
                   : SPLUT_E_NULL;
    *out = NULL;
    const preset *p = NULL;
    for (size_t i = 0; i < N_PRESETS; i++)
        if (strcmp(PRESETS[i].name, name) == 0)
            p = &PRESETS[i];
    if (!p)
        return splut__fail(ctx, SPLUT_E_UNKNOWN_PRESET, "unknown preset '%s'", name);
    splut_model *m;
    splut_status st = splut_model_create(ctx, p->n_inputs, p->in_bits, &m);
    if (st != SPLUT_OK)
        return st;
    m->input_mode = p->input_mode;
    m->recipe_lr = p->lr;
    m->recipe_wd = p->wd;
    m->recipe_batch = p->batch;
    m->recipe_epochs = p->epochs;
    snprintf(m->preset, sizeof(m->preset), "%s", p->name);
    m->lut_map = preset_lut_map(p->name);
    st = add_preset_layers(m, p);
    return splut__model_finish(m, st, out);
}

splut_status splut__model_finish(splut_model *m, splut_status st, splut_model **out)
{
    if (st == SPLUT_OK)
        st = splut_model_build(m);
    if (st != SPLUT_OK) {
        splut_model_destroy(m);
        return st;
    }
    *out = m;
    return SPLUT_OK;
}
