/*
 * Helpers of the HDL tests (see hdl-test.h).
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model-priv.h"
#include "hdl-test.h"

#define LIN SPLUT_NEURON_LINEAR
#define POLY SPLUT_NEURON_POLY
#define ADD SPLUT_NEURON_POLY_ADD

/* Every kind, A = 1..3, 1..3-bit codes; the last layer is always signed. */
const hdl_cfg hdl_cfgs[] = {
    {"linear", 6, 2, 2, {{LIN, 5, 3, 2, 1, 0}, {LIN, 3, 2, 3, 1, 0}}},
    {"poly", 6, 2, 2, {{POLY, 5, 2, 2, 2, 0}, {POLY, 3, 3, 2, 2, 0}}},
    {"add1", 6, 2, 2, {{ADD, 4, 2, 2, 2, 1}, {ADD, 3, 2, 2, 2, 1}}},
    {"add2", 8, 2, 2, {{ADD, 5, 2, 2, 2, 2}, {ADD, 3, 2, 3, 1, 2}}},
    {"add3_1bit", 8, 1, 2, {{ADD, 6, 2, 1, 2, 3}, {ADD, 3, 2, 2, 2, 3}}},
    {"mixed_1bit", 8, 1, 3, {{LIN, 6, 3, 1, 1, 0}, {ADD, 4, 2, 2, 2, 2}, {POLY, 3, 3, 1, 2, 0}}},
};
const size_t hdl_n_cfgs = sizeof(hdl_cfgs) / sizeof(hdl_cfgs[0]);

static void fill_normal(float *p, size_t n, double mean, double sd, splut_rng *r)
{
    for (size_t i = 0; i < n; i++)
        p[i] = (float)(mean + sd * splut__rng_normal(r));
}

static void fill_range(float *p, size_t n, double lo, double hi, splut_rng *r)
{
    for (size_t i = 0; i < n; i++)
        p[i] = (float)(lo + (hi - lo) * splut__rng_uniform(r));
}

/* Random weights and BatchNorm statistics wide enough that outputs vary. */
static void perturb(splut_model *m, uint64_t seed)
{
    splut_rng r;
    splut__rng_seed(&r, seed);
    float *P = m->params, *S = m->state;
    for (size_t l = 0; l < m->n_layers; l++) {
        const splut_layer *L = &m->layers[l];
        fill_normal(P + L->w, (size_t)L->out * L->A * L->T, 0.0, 1.0, &r);
        fill_normal(P + L->b, (size_t)L->out * L->A, 0.0, 0.3, &r);
        fill_range(P + L->bn_gamma, L->out, 0.5, 2.0, &r);
        fill_normal(P + L->bn_beta, L->out, 0.3, 0.5, &r);
        fill_normal(S + L->run_mean, L->out, 0.0, 0.3, &r);
        fill_range(S + L->run_var, L->out, 0.3, 1.5, &r);
        P[L->out_q.theta] += (float)(0.5 * splut__rng_normal(&r));
    }
}

void hdl_add_layers(splut_model *m, const hdl_cfg *cfg)
{
    for (size_t l = 0; l < cfg->n_layers; l++) {
        splut_layer_desc d = SPLUT_LAYER_DESC_INIT;
        d.kind = cfg->layer[l].kind;
        d.width = cfg->layer[l].width;
        d.fan_in = cfg->layer[l].fan_in;
        d.out_bits = cfg->layer[l].out_bits;
        d.degree = cfg->layer[l].degree;
        d.sub_neurons = cfg->layer[l].sub;
        assert_int_equal(splut_model_add_layer(m, &d), SPLUT_OK);
    }
}

void hdl_perturb_input(splut_model *m, uint64_t seed)
{
    splut_rng r;
    splut__rng_seed(&r, seed);
    float *P = m->params, *S = m->state;
    if (m->input_mode == SPLUT_INPUT_BN_HARDTANH) {
        /* Every other feature falls with its raw value (negative scale). */
        for (uint32_t f = 0; f < m->n_inputs; f++)
            P[m->in_gamma + f] = (float)((f % 2 ? -1.0 : 1.0) * (0.5 + splut__rng_uniform(&r)));
        fill_normal(P + m->in_beta, m->n_inputs, 0.0, 0.3, &r);
        fill_normal(S + m->in_run_mean, m->n_inputs, 0.0, 0.5, &r);
        fill_range(S + m->in_run_var, m->n_inputs, 0.2, 2.0, &r);
    }
    P[m->in_q.theta] += (float)(0.3 * splut__rng_normal(&r));
}

void hdl_case_init(hdl_case *c, const hdl_cfg *cfg, size_t n, uint64_t seed)
{
    hdl_case_init_mode(c, cfg, n, seed, -1);
}

void hdl_case_init_mode(hdl_case *c, const hdl_cfg *cfg, size_t n, uint64_t seed,
                        int64_t input_mode)
{
    memset(c, 0, sizeof(*c));
    assert_int_equal(splut_ctx_create(NULL, &c->ctx), SPLUT_OK);
    assert_int_equal(splut_ctx_set_int(c->ctx, SPLUT_P_SEED, (int64_t)seed), SPLUT_OK);
    assert_int_equal(splut_model_create(c->ctx, cfg->n_in, cfg->in_bits, &c->m), SPLUT_OK);
    if (input_mode >= 0)
        assert_int_equal(splut_model_set_int(c->m, SPLUT_P_INPUT_MODE, input_mode), SPLUT_OK);
    hdl_add_layers(c->m, cfg);
    assert_int_equal(splut_model_build(c->m), SPLUT_OK);
    c->n = n;
    c->in = calloc(n * cfg->n_in, sizeof(uint16_t));
    assert_non_null(c->in);
    splut_rng r;
    splut__rng_seed(&r, seed + 17);
    for (size_t i = 0; i < n * cfg->n_in; i++)
        c->in[i] = (uint16_t)splut__rng_below(&r, 1u << cfg->in_bits);
    /* Narrow deep networks often collapse to a constant under random
     * parameters; draw again until the outputs vary (when n allows it). */
    for (uint64_t attempt = 0; attempt < 200; attempt++) {
        perturb(c->m, seed * 7919u + 1 + attempt * 104729u);
        splut_tables_destroy(c->t);
        c->t = NULL;
        assert_int_equal(splut_tables_create(c->m, &c->t), SPLUT_OK);
        if (n < 20 || hdl_distinct_outputs(c) >= 3)
            break;
    }
    const char *tmp = getenv("TMPDIR");
    snprintf(c->dir, sizeof(c->dir), "%s/splut-hdl-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    assert_non_null(mkdtemp(c->dir));
}

void hdl_case_free(hdl_case *c)
{
    if (c->dir[0] && !getenv("SPLUT_KEEP_HDL")) {
        char cmd[400];
        snprintf(cmd, sizeof(cmd), "rm -rf '%s'", c->dir);
        if (system(cmd) != 0)
            fprintf(stderr, "could not remove %s\n", c->dir);
    }
    free(c->in);
    splut_tables_destroy(c->t);
    splut_model_destroy(c->m);
    splut_ctx_unref(c->ctx);
    memset(c, 0, sizeof(*c));
}

size_t hdl_distinct_outputs(const hdl_case *c)
{
    uint32_t n_out = splut_model_num_outputs(c->m);
    uint16_t *out = calloc(c->n * n_out, sizeof(uint16_t));
    assert_non_null(out);
    assert_int_equal(splut_tables_forward(c->t, c->in, c->n, out), SPLUT_OK);
    size_t distinct = 0;
    for (size_t i = 0; i < c->n; i++) {
        bool seen = false;
        for (size_t k = 0; k < i && !seen; k++)
            seen = memcmp(out + i * n_out, out + k * n_out, n_out * sizeof(uint16_t)) == 0;
        distinct += !seen;
    }
    free(out);
    return distinct;
}

bool hdl_have(const char *prog)
{
    char cmd[256];
    snprintf(cmd, sizeof(cmd), "command -v %s >/dev/null 2>&1", prog);
    return system(cmd) == 0;
}

char *hdl_read(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    size_t cap = 1 << 16, n = 0;
    char *p = malloc(cap + 1);
    size_t got;
    while (p && (got = fread(p + n, 1, cap - n, f)) > 0) {
        n += got;
        if (n == cap) {
            char *q = realloc(p, 2 * cap + 1);
            if (!q) {
                free(p);
                p = NULL;
                break;
            }
            p = q;
            cap *= 2;
        }
    }
    fclose(f);
    if (p)
        p[n] = '\0';
    if (len)
        *len = n;
    return p;
}

bool hdl_write(const char *path, const char *data, size_t len)
{
    FILE *f = fopen(path, "wb");
    if (!f)
        return false;
    bool ok = fwrite(data, 1, len, f) == len;
    return fclose(f) == 0 && ok;
}

static long parse_result(const char *dir, long *vectors)
{
    char path[400];
    snprintf(path, sizeof(path), "%s/sim.log", dir);
    char *log = hdl_read(path, NULL);
    if (!log)
        return -1;
    const char *r = strstr(log, "SPLUT_RESULT vectors=");
    long v = -1, mm = -1;
    if (!r || sscanf(r, "SPLUT_RESULT vectors=%ld mismatches=%ld", &v, &mm) != 2)
        mm = -1;
    if (vectors)
        *vectors = v;
    free(log);
    return mm;
}

long hdl_simulate(const char *dir, const char *p, hdl_sim sim, long *vectors)
{
    char cmd[2048];
    switch (sim) {
    case HDL_SIM_VERILATOR:
        snprintf(cmd, sizeof(cmd),
                 "cd '%s' && verilator --binary --timing -Wno-fatal -Wno-lint -Wno-style "
                 "-MAKEFLAGS 'OPT_FAST=-O0 OPT_SLOW=-O0 OPT_GLOBAL=-O0' -Mdir vobj "
                 "--top-module %s_tb %s_tb.v $(cat %s_files.txt) >sim.log 2>&1 && "
                 "./vobj/V%s_tb >sim.log 2>&1",
                 dir, p, p, p, p);
        break;
    case HDL_SIM_ICARUS:
        snprintf(cmd, sizeof(cmd),
                 "cd '%s' && iverilog -g2005 -o sim.vvp -s %s_tb %s_tb.v $(cat %s_files.txt) "
                 ">sim.log 2>&1 && vvp -n sim.vvp >sim.log 2>&1",
                 dir, p, p, p);
        break;
    case HDL_SIM_GHDL:
        snprintf(cmd, sizeof(cmd),
                 "cd '%s' && mkdir -p ghdl && ghdl -a --std=08 --workdir=ghdl "
                 "$(cat %s_files.txt) %s_tb.vhd >sim.log 2>&1 && "
                 "ghdl -e --std=08 --workdir=ghdl %s_tb >>sim.log 2>&1 && "
                 "ghdl -r --std=08 --workdir=ghdl %s_tb >sim.log 2>&1",
                 dir, p, p, p, p);
        break;
    case HDL_SIM_GCC:
        snprintf(cmd, sizeof(cmd),
                 "cd '%s' && gcc -std=c99 -Wall -Wextra -Werror -pedantic -O1 -o tb_hls "
                 "%s_tb.c %s.c >sim.log 2>&1 && ./tb_hls >sim.log 2>&1",
                 dir, p, p);
        break;
    case HDL_SIM_GXX:
        snprintf(cmd, sizeof(cmd),
                 "cd '%s' && g++ -x c++ -std=c++11 -Wall -Wextra -Werror -pedantic -O1 "
                 "-o tb_hls_cxx %s_tb.c %s.c >sim.log 2>&1 && ./tb_hls_cxx >sim.log 2>&1",
                 dir, p, p);
        break;
    }
    int rc = system(cmd);
    long mm = parse_result(dir, vectors);
    if (mm < 0 || (rc != 0 && mm == 0)) {
        char path[400];
        snprintf(path, sizeof(path), "%s/sim.log", dir);
        char *log = hdl_read(path, NULL);
        fprintf(stderr, "simulation in %s failed (rc %d):\n%.2000s\n", dir, rc, log ? log : "");
        free(log);
        return rc != 0 && mm == 0 ? -1 : mm;
    }
    return mm;
}

int hdl_lint(const char *dir, const char *p)
{
    char cmd[1024];
    snprintf(cmd, sizeof(cmd),
             "cd '%s' && verilator --lint-only -Wall --top-module %s_top $(cat %s_files.txt) "
             ">lint.log 2>&1",
             dir, p, p);
    int rc = system(cmd);
    if (rc != 0) {
        char path[400];
        snprintf(path, sizeof(path), "%s/lint.log", dir);
        char *log = hdl_read(path, NULL);
        fprintf(stderr, "verilator lint in %s failed:\n%.3000s\n", dir, log ? log : "");
        free(log);
    }
    return rc;
}
