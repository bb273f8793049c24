/*
 * Helpers of the HDL tests: small random models of every neuron kind, vectors,
 * and running the external simulators (tests skip when one is missing).
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#ifndef SPARSELUT_HDL_TEST_H
#define SPARSELUT_HDL_TEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sparselut/sparselut.h"

/* A small model configuration: up to 3 layers. */
typedef struct hdl_cfg {
    const char *name;
    uint32_t n_in, in_bits;
    size_t n_layers;
    struct {
        int32_t kind;
        uint32_t width, fan_in, out_bits, degree, sub;
    } layer[3];
} hdl_cfg;

extern const hdl_cfg hdl_cfgs[];
extern const size_t hdl_n_cfgs;

/* Everything one test case needs; free with hdl_case_free. */
typedef struct hdl_case {
    splut_ctx *ctx;
    splut_model *m;
    splut_tables *t;
    uint16_t *in;     /* n × inputs random codes */
    size_t n;
    char dir[256];    /* a fresh temporary directory */
} hdl_case;

/* Build the model of @p cfg with perturbed parameters (so outputs vary), its
 * tables, @p n random vectors and a temporary directory. Asserts on failure. */
/* Add the layers of @p cfg to an empty model (asserts on failure). */
void hdl_add_layers(splut_model *m, const hdl_cfg *cfg);
void hdl_case_init(hdl_case *c, const hdl_cfg *cfg, size_t n, uint64_t seed);
/* The same with the context's SPLUT_P_INPUT_MODE set (-1: the default). */
void hdl_case_init_mode(hdl_case *c, const hdl_cfg *cfg, size_t n, uint64_t seed,
                        int64_t input_mode);
/* Random layer-0 BatchNorm (every other feature with a negative scale) and
 * input quantiser scale, so the input stage has features rising and falling. */
void hdl_perturb_input(splut_model *m, uint64_t seed);
void hdl_case_free(hdl_case *c);
/* Number of distinct expected output vectors (to check tests are not trivial). */
size_t hdl_distinct_outputs(const hdl_case *c);

/* True when `prog` is on PATH. */
bool hdl_have(const char *prog);

/* Simulators. Each returns the mismatch count parsed from the testbench
 * output (and the vector count through @p vectors), or -1 if it did not run
 * to the end (the log is then in <dir>/sim.log). */
/* HDL_SIM_GXX: the HLS C compiled as C++ (g++ -std=c++11 -Werror). */
typedef enum hdl_sim {
    HDL_SIM_VERILATOR,
    HDL_SIM_ICARUS,
    HDL_SIM_GHDL,
    HDL_SIM_GCC,
    HDL_SIM_GXX
} hdl_sim;
long hdl_simulate(const char *dir, const char *prefix, hdl_sim sim, long *vectors);
/* verilator --lint-only -Wall on the design; returns its exit status. */
int hdl_lint(const char *dir, const char *prefix);

/* Read a whole file (malloc'ed, NUL-terminated); NULL if missing. */
char *hdl_read(const char *path, size_t *len);
bool hdl_write(const char *path, const char *data, size_t len);

#endif
