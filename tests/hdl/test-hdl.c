/*
 * HDL emission tests. The executable takes a group name so meson can run the
 * groups as separate (parallel, individually timed) tests:
 *   api        argument checks, latency, determinism, prefixes, atomic emission,
 *              vendor scripts
 *   lint       verilator --lint-only -Wall on every model and pipeline
 *   icarus     Icarus Verilog simulation, every model × pipeline
 *   verilator  Verilator simulation (one model, SUBLAYER, with and without input
 *              stage; "verilator-all": every model × pipeline, suite slow: each
 *              Verilator build takes seconds)
 *   ghdl       GHDL (VHDL-2008) simulation, every model × pipeline
 *   hls        the HLS C compiled with gcc -std=c99 and g++ -std=c++11, -Werror, and run
 *   negative   corrupted vectors / table entries must be reported as mismatches
 *   input      the input stage in hardware: exact thresholds, raw-vector simulation
 *   cli        `sparselut emit --verify` (argv[2] = the CLI executable)
 *   synth      `sparselut synth` with Yosys (slow)
 *   synth-fast `sparselut synth --fast` (ABC) against the cost model and Yosys
 *   ice40      `sparselut synth --target ice40-hx8k / ice40-up5k` (Yosys, nextpnr, icepack)
 * Expected outputs come from splut_tables_forward (LUT-mode inference), an
 * implementation independent of the emitters.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "hdl-test.h"

#define N_VECTORS 300

static const int32_t pipes[] = {SPLUT_PIPE_NONE, SPLUT_PIPE_LAYER, SPLUT_PIPE_SUBLAYER};

static splut_hdl_opts opts_for(int32_t pipe, const char *prefix, uint32_t flags)
{
    splut_hdl_opts o = SPLUT_HDL_OPTS_INIT;
    o.pipeline = pipe;
    o.prefix = prefix;
    o.flags = flags;
    return o;
}

/* ------------------------------------------------------------------ api */

static void test_bad_arguments(void **state)
{
    (void)state;
    hdl_case c;
    hdl_case_init(&c, &hdl_cfgs[0], 4, 1);
    splut_hdl_opts o = SPLUT_HDL_OPTS_INIT;
    uint32_t lat = 0;
    assert_int_equal(splut_tables_emit(NULL, SPLUT_HDL_VERILOG, c.dir, NULL), SPLUT_E_NULL);
    assert_int_equal(splut_tables_emit(c.t, SPLUT_HDL_VERILOG, NULL, NULL), SPLUT_E_NULL);
    assert_int_equal(splut_tables_emit(c.t, (splut_hdl_format)7, c.dir, NULL), SPLUT_E_INVALID);
    assert_int_equal(splut_hdl_latency(c.t, NULL, NULL), SPLUT_E_NULL);
    o.size = sizeof(o) - 1;
    assert_int_equal(splut_tables_emit(c.t, SPLUT_HDL_VERILOG, c.dir, &o), SPLUT_E_STRUCT_SIZE);
    o = opts_for(3, NULL, 0);
    assert_int_equal(splut_hdl_latency(c.t, &o, &lat), SPLUT_E_INVALID);
    o = opts_for(SPLUT_PIPE_NONE, NULL, 0x80);
    assert_int_equal(splut_tables_emit(c.t, SPLUT_HDL_VHDL, c.dir, &o), SPLUT_E_INVALID);
    o = opts_for(SPLUT_PIPE_NONE, NULL, 0);
    o.reserved = 1;
    assert_int_equal(splut_tables_emit(c.t, SPLUT_HDL_HLS, c.dir, &o), SPLUT_E_INVALID);
    const char *bad[] = {"", "1abc", "a__b", "ab_", "a-b", "a b",
                         "abcdefghijabcdefghijabcdefghijabcdefghijabcdefghij"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        o = opts_for(SPLUT_PIPE_NONE, bad[i], 0);
        assert_int_equal(splut_tables_emit(c.t, SPLUT_HDL_VERILOG, c.dir, &o), SPLUT_E_INVALID);
        assert_non_null(strstr(splut_ctx_last_error(c.ctx), "prefix"));
    }
    uint16_t bad_code[8] = {0, 0, 0, 4, 0, 0}; /* 4 does not fit 2 bits */
    assert_int_equal(splut_tables_emit_testbench(c.t, SPLUT_HDL_VERILOG, c.dir, NULL, bad_code, 1),
                     SPLUT_E_OUT_OF_RANGE);
    assert_int_equal(splut_tables_emit_testbench(c.t, SPLUT_HDL_VERILOG, c.dir, NULL, c.in, 0),
                     SPLUT_E_INVALID);
    assert_int_equal(splut_tables_emit_testbench(c.t, SPLUT_HDL_VERILOG, c.dir, NULL, NULL, 1),
                     SPLUT_E_NULL);
    hdl_case_free(&c);
}

/* Latency from the configuration alone: one register per layer, plus one per
 * PolyLUT-Add adder stage in SUBLAYER mode. */
static void test_latency(void **state)
{
    (void)state;
    for (size_t k = 0; k < hdl_n_cfgs; k++) {
        const hdl_cfg *cfg = &hdl_cfgs[k];
        uint32_t adders = 0;
        for (size_t l = 0; l < cfg->n_layers; l++)
            adders += cfg->layer[l].kind == SPLUT_NEURON_POLY_ADD;
        hdl_case c;
        hdl_case_init(&c, cfg, 1, 2);
        uint32_t expect[3] = {0, (uint32_t)cfg->n_layers, (uint32_t)cfg->n_layers + adders};
        for (size_t p = 0; p < 3; p++) {
            splut_hdl_opts o = opts_for(pipes[p], NULL, 0);
            uint32_t lat = 99;
            assert_int_equal(splut_hdl_latency(c.t, &o, &lat), SPLUT_OK);
            assert_int_equal(lat, expect[p]);
        }
        hdl_case_free(&c);
    }
}

/* Sorted names of the regular files in dir, one per line. */
static char *dir_listing(const char *dir)
{
    DIR *d = opendir(dir);
    assert_non_null(d);
    char **names = NULL;
    size_t n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        names = realloc(names, (n + 1) * sizeof(*names));
        assert_non_null(names);
        names[n++] = strdup(e->d_name);
    }
    closedir(d);
    for (size_t i = 1; i < n; i++)
        for (size_t j = i; j > 0 && strcmp(names[j - 1], names[j]) > 0; j--) {
            char *t = names[j];
            names[j] = names[j - 1];
            names[j - 1] = t;
        }
    size_t len = 1;
    for (size_t i = 0; i < n; i++)
        len += strlen(names[i]) + 1;
    char *out = calloc(len, 1);
    assert_non_null(out);
    for (size_t i = 0; i < n; i++) {
        strcat(out, names[i]);
        strcat(out, "\n");
        free(names[i]);
    }
    free(names);
    return out;
}

static void assert_same_file(const char *a, const char *b)
{
    size_t la = 0, lb = 0;
    char *x = hdl_read(a, &la), *y = hdl_read(b, &lb);
    assert_non_null(x);
    assert_non_null(y);
    assert_int_equal(la, lb);
    assert_memory_equal(x, y, la);
    free(x);
    free(y);
}

/* Emit twice (into two directories) → identical file sets and bytes. */
static void test_deterministic(void **state)
{
    (void)state;
    hdl_case c;
    hdl_case_init(&c, &hdl_cfgs[5], 50, 3);
    const splut_hdl_format fmts[] = {SPLUT_HDL_VERILOG, SPLUT_HDL_VHDL, SPLUT_HDL_HLS};
    char d1[400], d2[400];
    for (size_t f = 0; f < 3; f++) {
        snprintf(d1, sizeof(d1), "%s/a%zu", c.dir, f);
        snprintf(d2, sizeof(d2), "%s/b%zu", c.dir, f);
        splut_hdl_opts o = opts_for(SPLUT_PIPE_SUBLAYER, "det", 0);
        assert_int_equal(splut_tables_emit(c.t, fmts[f], d1, &o), SPLUT_OK);
        assert_int_equal(splut_tables_emit_testbench(c.t, fmts[f], d1, &o, c.in, c.n), SPLUT_OK);
        assert_int_equal(splut_tables_emit(c.t, fmts[f], d2, &o), SPLUT_OK);
        assert_int_equal(splut_tables_emit_testbench(c.t, fmts[f], d2, &o, c.in, c.n), SPLUT_OK);
        char *l1 = dir_listing(d1), *l2 = dir_listing(d2);
        assert_string_equal(l1, l2);
        assert_true(strlen(l1) > 0);
        for (char *name = strtok(l1, "\n"); name; name = strtok(NULL, "\n")) {
            char a[800], b[800];
            snprintf(a, sizeof(a), "%s/%s", d1, name);
            snprintf(b, sizeof(b), "%s/%s", d2, name);
            assert_same_file(a, b);
            assert_null(strstr(name, ".tmp")); /* no temporaries left behind */
        }
        free(l1);
        free(l2);
    }
    hdl_case_free(&c);
}

/* The HLS source is self-contained: no dynamic memory or pointers to functions. */
static void test_hls_restrictions(void **state)
{
    (void)state;
    hdl_case c;
    hdl_case_init(&c, &hdl_cfgs[3], 10, 4);
    splut_hdl_opts o = opts_for(SPLUT_PIPE_NONE, "k", 0);
    assert_int_equal(splut_tables_emit(c.t, SPLUT_HDL_HLS, c.dir, &o), SPLUT_OK);
    char path[400];
    snprintf(path, sizeof(path), "%s/k.c", c.dir);
    char *src = hdl_read(path, NULL);
    assert_non_null(src);
    assert_null(strstr(src, "malloc"));
    assert_null(strstr(src, "(*"));
    assert_non_null(strstr(src, "static const uint8_t k_l0_n0_s0["));
    assert_non_null(strstr(src, "void k_infer(const uint16_t in[K_N_IN], uint16_t out[K_N_OUT])"));
    assert_non_null(strstr(src, "#pragma HLS PIPELINE"));
    free(src);
    hdl_case_free(&c);
}

/* Two networks with different prefixes elaborate together in one design. */
static void test_two_prefixes(void **state)
{
    (void)state;
    if (!hdl_have("iverilog"))
        skip();
    hdl_case c, d;
    hdl_case_init(&c, &hdl_cfgs[1], 5, 5);
    hdl_case_init(&d, &hdl_cfgs[3], 5, 6);
    splut_hdl_opts oa = opts_for(SPLUT_PIPE_LAYER, "neta", 0);
    splut_hdl_opts ob = opts_for(SPLUT_PIPE_SUBLAYER, "netb", 0);
    assert_int_equal(splut_tables_emit(c.t, SPLUT_HDL_VERILOG, c.dir, &oa), SPLUT_OK);
    assert_int_equal(splut_tables_emit(d.t, SPLUT_HDL_VERILOG, c.dir, &ob), SPLUT_OK);
    char cmd[1024];
    snprintf(cmd, sizeof(cmd),
             "cd '%s' && iverilog -g2005 -o both.vvp -s neta_top -s netb_top "
             "$(cat neta_files.txt) $(cat netb_files.txt) >both.log 2>&1",
             c.dir);
    assert_int_equal(system(cmd), 0);
    hdl_case_free(&d);
    hdl_case_free(&c);
}

/* An allocator that fails once `budget` allocations have been made (when armed)
 * and counts live blocks, to check every allocation failure is reported and
 * nothing leaks. */
typedef struct oom_state {
    long budget, live;
    int armed;
} oom_state;

static void *oom_alloc(void *user, size_t size, size_t align)
{
    oom_state *o = user;
    if (o->armed && o->budget-- <= 0)
        return NULL;
    void *p = NULL;
    if (posix_memalign(&p, align < sizeof(void *) ? sizeof(void *) : align, size ? size : 1))
        return NULL;
    o->live++;
    return p;
}

static void oom_free(void *user, void *p)
{
    oom_state *o = user;
    if (p)
        o->live--;
    free(p);
}

/* The tables of @p cfg in a context with the failing allocator @p al. */
static void oom_tables(const splut_allocator *al, const hdl_cfg *cfg, splut_ctx **ctx,
                       splut_model **m, splut_tables **t)
{
    assert_int_equal(splut_ctx_create(al, ctx), SPLUT_OK);
    assert_int_equal(splut_model_create(*ctx, cfg->n_in, cfg->in_bits, m), SPLUT_OK);
    hdl_add_layers(*m, cfg);
    assert_int_equal(splut_model_build(*m), SPLUT_OK);
    assert_int_equal(splut_tables_create(*m, t), SPLUT_OK);
}

static void test_out_of_memory(void **state)
{
    (void)state;
    oom_state o = {0, 0, 0};
    splut_allocator al = {oom_alloc, oom_free, &o};
    splut_ctx *ctx = NULL;
    splut_model *m = NULL;
    splut_tables *t = NULL;
    oom_tables(&al, &hdl_cfgs[3], &ctx, &m, &t);
    char tmpl[] = "/tmp/splut-hdl-XXXXXX";
    assert_non_null(mkdtemp(tmpl));
    uint16_t in[8 * 4] = {0};
    const splut_hdl_format fmts[] = {SPLUT_HDL_VERILOG, SPLUT_HDL_VHDL, SPLUT_HDL_HLS};
    for (size_t f = 0; f < 3; f++) {
        splut_hdl_opts opts = opts_for(SPLUT_PIPE_SUBLAYER, "oom", f == 1 ? 0 : SPLUT_HDL_DONT_CARE);
        splut_status st = SPLUT_E_NOMEM;
        for (long budget = 0; st == SPLUT_E_NOMEM && budget < 100000; budget++) {
            long live = o.live;
            o.budget = budget;
            o.armed = 1;
            st = splut_tables_emit(t, fmts[f], tmpl, &opts);
            if (st == SPLUT_OK)
                st = splut_tables_emit_testbench(t, fmts[f], tmpl, &opts, in, 4);
            o.armed = 0;
            assert_int_equal(o.live, live); /* nothing leaked, failed or not */
            if (st != SPLUT_OK)
                assert_int_equal(st, SPLUT_E_NOMEM);
        }
        assert_int_equal(st, SPLUT_OK);
    }
    splut_tables_destroy(t);
    splut_model_destroy(m);
    splut_ctx_unref(ctx);
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpl);
    assert_int_equal(system(cmd), 0);
}

/* ------------------------------------------------------ atomic emission */

/* Every entry of dir (sorted) with its contents: what a reader of the
 * directory sees. */
static char *dir_snapshot(const char *dir)
{
    char *names = dir_listing(dir);
    size_t len = strlen(names) + 1;
    char *out = malloc(len);
    assert_non_null(out);
    memcpy(out, names, len);
    for (char *name = strtok(names, "\n"); name; name = strtok(NULL, "\n")) {
        char path[512];
        snprintf(path, sizeof(path), "%s/%s", dir, name);
        size_t n = 0;
        char *data = hdl_read(path, &n);
        if (!data) { /* a directory */
            data = strdup("<dir>");
            n = 5;
        }
        out = realloc(out, len + strlen(name) + n + 2);
        assert_non_null(out);
        memcpy(out + len - 1, name, strlen(name));
        len += strlen(name);
        out[len - 1] = ':';
        memcpy(out + len, data, n);
        len += n + 1;
        out[len - 1] = '\0';
        free(data);
    }
    free(names);
    return out;
}

/* Entries named "<base of dir>.tmp.*" next to dir: staging leftovers. */
static size_t staging_leftovers(const char *dir)
{
    char parent[256], base[256];
    const char *slash = strrchr(dir, '/');
    snprintf(parent, sizeof(parent), "%.*s", (int)(slash - dir), dir);
    snprintf(base, sizeof(base), "%s.tmp.", slash + 1);
    DIR *d = opendir(parent);
    assert_non_null(d);
    size_t n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL)
        n += strncmp(e->d_name, base, strlen(base)) == 0;
    closedir(d);
    return n;
}

/* Emission into a directory that holds another network's design fails at
 * every allocation in turn: the old files stay byte-identical and no staging
 * directory is left; the final success replaces the old design's files
 * (none of its modules survive) and keeps files of other owners. */
static void test_atomic_emission_oom(void **state)
{
    (void)state;
    hdl_case old;
    hdl_case_init(&old, &hdl_cfgs[5], 4, 7);
    oom_state o = {0, 0, 0};
    splut_allocator al = {oom_alloc, oom_free, &o};
    splut_ctx *ctx = NULL;
    assert_int_equal(splut_ctx_create(&al, &ctx), SPLUT_OK);
    splut_model *m = NULL;
    splut_tables *t = NULL;
    const hdl_cfg *cfg = &hdl_cfgs[0]; /* small: the sweep syncs every file it writes */
    assert_int_equal(splut_model_create(ctx, cfg->n_in, cfg->in_bits, &m), SPLUT_OK);
    hdl_add_layers(m, cfg);
    assert_int_equal(splut_model_build(m), SPLUT_OK);
    assert_int_equal(splut_tables_create(m, &t), SPLUT_OK);
    uint16_t in[8 * 4] = {0};
    const splut_hdl_format fmts[] = {SPLUT_HDL_VERILOG, SPLUT_HDL_VHDL, SPLUT_HDL_HLS};
    for (size_t f = 0; f < 3; f++) {
        splut_hdl_opts opts = opts_for(SPLUT_PIPE_SUBLAYER, "dut", 0);
        assert_int_equal(splut_tables_emit(old.t, fmts[f], old.dir, &opts), SPLUT_OK);
        assert_int_equal(splut_tables_emit_testbench(old.t, fmts[f], old.dir, &opts, old.in, 4),
                         SPLUT_OK);
        char note[300];
        snprintf(note, sizeof(note), "%s/notes.txt", old.dir);
        assert_true(hdl_write(note, "mine\n", 5));
        /* Files that share the prefix but no emitter writes: the model next to
         * its design (examples/ emits hlsdemo.c beside hlsdemo.splut), notes. */
        snprintf(note, sizeof(note), "%s/dut.splut", old.dir);
        assert_true(hdl_write(note, "model\n", 6));
        snprintf(note, sizeof(note), "%s/dut_notes.md", old.dir);
        assert_true(hdl_write(note, "notes\n", 6));
        char *before = dir_snapshot(old.dir);
        splut_status st = SPLUT_E_NOMEM;
        long failures = 0;
        for (long budget = 0; st == SPLUT_E_NOMEM; budget++) {
            o.budget = budget;
            o.armed = 1;
            st = splut_tables_emit(t, fmts[f], old.dir, &opts);
            o.armed = 0;
            assert_int_equal(staging_leftovers(old.dir), 0);
            if (st == SPLUT_OK)
                break;
            assert_int_equal(st, SPLUT_E_NOMEM);
            char *now = dir_snapshot(old.dir);
            assert_string_equal(now, before);
            free(now);
            failures++;
        }
        assert_true(failures > 2); /* the sweep reached the writes */
        /* The new design alone, plus the file of another owner. */
        char *names = dir_listing(old.dir);
        assert_non_null(strstr(names, "notes.txt\n"));
        assert_non_null(strstr(names, "dut.splut\n"));
        assert_non_null(strstr(names, "dut_notes.md\n"));
        assert_null(strstr(names, "dut_l2")); /* the old network's third layer */
        assert_null(strstr(names, "dut_tb")); /* its testbench */
        free(names);
        free(before);
        assert_int_equal(splut_tables_emit_testbench(t, fmts[f], old.dir, &opts, in, 4),
                         SPLUT_OK);
        if (fmts[f] == SPLUT_HDL_HLS)
            assert_int_equal(hdl_simulate(old.dir, "dut", HDL_SIM_GCC, NULL), 0);
    }
    splut_tables_destroy(t);
    splut_model_destroy(m);
    splut_ctx_unref(ctx);
    hdl_case_free(&old);
}

/* A write that fails midway (a directory where a file must go): the error
 * names the cause, the old directory is unchanged, no staging is left. */
static void test_atomic_emission_io(void **state)
{
    (void)state;
    hdl_case c;
    hdl_case_init(&c, &hdl_cfgs[0], 4, 3);
    splut_hdl_opts opts = opts_for(SPLUT_PIPE_LAYER, "dut", 0);
    assert_int_equal(splut_tables_emit(c.t, SPLUT_HDL_VERILOG, c.dir, &opts), SPLUT_OK);
    char blocker[300];
    snprintf(blocker, sizeof(blocker), "%s/dut_top.vhd", c.dir);
    assert_int_equal(mkdir(blocker, 0777), 0);
    char *before = dir_snapshot(c.dir);
    assert_int_equal(splut_tables_emit(c.t, SPLUT_HDL_VHDL, c.dir, &opts), SPLUT_E_IO);
    assert_non_null(strstr(splut_ctx_last_error(c.ctx), "Is a directory"));
    char *after = dir_snapshot(c.dir);
    assert_string_equal(after, before);
    assert_int_equal(staging_leftovers(c.dir), 0);
    free(before);
    free(after);
    assert_int_equal(rmdir(blocker), 0);
    /* A directory that cannot be renamed (".") or a link to one: the files
     * are moved in, the link stays a link, other files stay. */
    char link[300], sub[300], cwd[1024], path[400];
    snprintf(sub, sizeof(sub), "%s/real", c.dir);
    snprintf(link, sizeof(link), "%s/link", c.dir);
    assert_int_equal(mkdir(sub, 0777), 0);
    assert_int_equal(symlink("real", link), 0);
    snprintf(path, sizeof(path), "%s/mine.txt", sub);
    assert_true(hdl_write(path, "x", 1));
    assert_int_equal(splut_tables_emit(c.t, SPLUT_HDL_HLS, link, &opts), SPLUT_OK);
    struct stat sb;
    assert_int_equal(lstat(link, &sb), 0);
    assert_true(S_ISLNK(sb.st_mode));
    snprintf(path, sizeof(path), "%s/dut.c", sub);
    assert_int_equal(stat(path, &sb), 0);
    snprintf(path, sizeof(path), "%s/mine.txt", sub);
    assert_int_equal(stat(path, &sb), 0);
    assert_non_null(getcwd(cwd, sizeof(cwd)));
    assert_int_equal(chdir(sub), 0);
    splut_status st = splut_tables_emit(c.t, SPLUT_HDL_VERILOG, ".", &opts);
    assert_int_equal(chdir(cwd), 0);
    assert_int_equal(st, SPLUT_OK);
    snprintf(path, sizeof(path), "%s/dut_top.v", sub);
    assert_int_equal(stat(path, &sb), 0);
    snprintf(path, sizeof(path), "%s/dut.c", sub);
    assert_true(stat(path, &sb) != 0); /* the prefix's old files are replaced */
    snprintf(path, sizeof(path), "%s/mine.txt", sub);
    assert_int_equal(stat(path, &sb), 0);
    assert_int_equal(staging_leftovers(sub), 0);
    snprintf(path, sizeof(path), "ls -a '%s' | grep -q splut-stage", sub);
    assert_true(system(path) != 0); /* nor inside */
    hdl_case_free(&c);
}

/* ----------------------------------------------------------- simulation */

/* The testbench in dir reports 0 mismatches over n vectors; HLS C is also
 * compiled and run as C++. */
static void assert_simulates(const char *dir, hdl_sim sim, long n)
{
    for (int pass = 0; pass < 2; pass++) {
        if (pass && (sim != HDL_SIM_GCC || !hdl_have("g++")))
            break;
        long vectors = 0;
        long mm = hdl_simulate(dir, "dut", pass ? HDL_SIM_GXX : sim, &vectors);
        if (mm != 0)
            fprintf(stderr, "%ld mismatches%s (dir %s)\n", mm, pass ? " as C++" : "", dir);
        assert_int_equal(mm, 0);
        assert_int_equal(vectors, n);
    }
}

/* Emit design + testbench for every model and pipeline and simulate. */
static void run_matrix(hdl_sim sim, splut_hdl_format fmt, const char *tool, size_t only_cfg,
                       size_t only_pipe)
{
    if (!hdl_have(tool))
        skip();
    for (size_t k = 0; k < hdl_n_cfgs; k++) {
        if (only_cfg != SIZE_MAX && k != only_cfg)
            continue;
        for (size_t p = 0; p < 3; p++) {
            if (only_pipe != SIZE_MAX && p != only_pipe)
                continue;
            hdl_case c;
            hdl_case_init(&c, &hdl_cfgs[k], N_VECTORS, 100 + k);
            /* A constant network would make the comparison meaningless. */
            size_t distinct = hdl_distinct_outputs(&c);
            if (distinct < 3)
                fprintf(stderr, "model %s: only %zu distinct outputs\n", hdl_cfgs[k].name,
                        distinct);
            assert_true(distinct >= 3);
            /* Flags vary with the pipeline so every simulator sees each of them. */
            uint32_t flags = p == 1   ? SPLUT_HDL_FULL_CASE
                             : p == 2 ? SPLUT_HDL_DONT_CARE | SPLUT_HDL_NO_RESET
                                      : 0;
            splut_hdl_opts o = opts_for(pipes[p], "dut", flags);
            assert_int_equal(splut_tables_emit(c.t, fmt, c.dir, &o), SPLUT_OK);
            assert_int_equal(splut_tables_emit_testbench(c.t, fmt, c.dir, &o, c.in, c.n),
                             SPLUT_OK);
            assert_simulates(c.dir, sim, N_VECTORS);
            hdl_case_free(&c);
        }
    }
}

static void test_icarus(void **state)
{
    (void)state;
    run_matrix(HDL_SIM_ICARUS, SPLUT_HDL_VERILOG, "iverilog", SIZE_MAX, SIZE_MAX);
}

static void test_verilator_one(void **state)
{
    (void)state;
    run_matrix(HDL_SIM_VERILATOR, SPLUT_HDL_VERILOG, "verilator", 3, 2);
}

static void test_verilator_all(void **state)
{
    (void)state;
    run_matrix(HDL_SIM_VERILATOR, SPLUT_HDL_VERILOG, "verilator", SIZE_MAX, SIZE_MAX);
}

static void test_ghdl(void **state)
{
    (void)state;
    run_matrix(HDL_SIM_GHDL, SPLUT_HDL_VHDL, "ghdl", SIZE_MAX, SIZE_MAX);
}

static void test_hls(void **state)
{
    (void)state;
    run_matrix(HDL_SIM_GCC, SPLUT_HDL_HLS, "gcc", SIZE_MAX, SIZE_MAX);
}

/* A case of configuration @p k whose vectors are its whole input space
 * (false, nothing initialised, when that is above 2^16 vectors). */
static bool exhaustive_case(size_t k, hdl_case *c)
{
    const hdl_cfg *cfg = &hdl_cfgs[k];
    uint32_t bits = cfg->n_in * cfg->in_bits;
    if (bits > 16)
        return false;
    size_t n = (size_t)1 << bits;
    hdl_case_init(c, cfg, n, 300 + k);
    for (size_t v = 0; v < n; v++)
        for (uint32_t i = 0; i < cfg->n_in; i++)
            c->in[v * cfg->n_in + i] =
                (uint16_t)((v >> (i * cfg->in_bits)) & ((1u << cfg->in_bits) - 1u));
    return true;
}

/* Don't-care filling keeps the outputs of every network input: simulate the
 * HLS C of each small configuration on its whole input space. The filled
 * design must also differ from the plain one for some configuration, or the
 * flag would not be exercised. */
static void test_dont_care_exhaustive(void **state)
{
    (void)state;
    if (!hdl_have("gcc"))
        skip();
    size_t changed = 0, checked = 0;
    for (size_t k = 0; k < hdl_n_cfgs; k++) {
        hdl_case c;
        if (!exhaustive_case(k, &c))
            continue;
        size_t n = c.n;
        char plain_dir[300], path[320];
        snprintf(plain_dir, sizeof plain_dir, "%s/plain", c.dir);
        splut_hdl_opts plain = opts_for(SPLUT_PIPE_NONE, "dut", 0);
        splut_hdl_opts dc = opts_for(SPLUT_PIPE_NONE, "dut", SPLUT_HDL_DONT_CARE);
        assert_int_equal(splut_tables_emit(c.t, SPLUT_HDL_HLS, plain_dir, &plain), SPLUT_OK);
        assert_int_equal(splut_tables_emit(c.t, SPLUT_HDL_HLS, c.dir, &dc), SPLUT_OK);
        assert_int_equal(splut_tables_emit_testbench(c.t, SPLUT_HDL_HLS, c.dir, &dc, c.in, n),
                         SPLUT_OK);
        long vectors = 0;
        assert_int_equal(hdl_simulate(c.dir, "dut", HDL_SIM_GCC, &vectors), 0);
        assert_int_equal(vectors, (long)n);
        /* Identical text means no entry was filled. */
        size_t la = 0, lb = 0;
        snprintf(path, sizeof path, "%s/dut.c", plain_dir);
        char *a = hdl_read(path, &la);
        snprintf(path, sizeof path, "%s/dut.c", c.dir);
        char *b = hdl_read(path, &lb);
        assert_non_null(a);
        assert_non_null(b);
        bool diff = la != lb || memcmp(a, b, la) != 0;
        changed += diff;
        free(a);
        free(b);
        checked++;
        hdl_case_free(&c);
    }
    assert_true(checked >= 3);
    assert_true(changed >= 1);
}

/* ------------------------------------------- splut_tables_fill_dont_cares */

/* Per table (layer, neuron, slot: sub-neurons then the adder), the addresses
 * the network visits over a set of inputs: computed here by walking the
 * tables directly, independently of the library's reachability analysis. */
typedef struct visit_map {
    uint8_t *seen[3][8][4]; /* layer, neuron, slot (hdl_cfgs are this small) */
} visit_map;

static uint32_t table_slot(uint32_t table, uint32_t A)
{
    return table == SPLUT_TABLE_ADDER ? A : table;
}

static uint16_t visit(visit_map *vm, const splut_tables *t, size_t l, uint32_t j,
                      uint32_t table, uint32_t A, uint64_t addr)
{
    splut_table_info ti = SPLUT_TABLE_INFO_INIT;
    const uint16_t *e = NULL;
    assert_int_equal(splut_tables_info(t, l, j, table, &ti), SPLUT_OK);
    assert_int_equal(splut_tables_data(t, l, j, table, &e), SPLUT_OK);
    uint8_t **seen = &vm->seen[l][j][table_slot(table, A)];
    if (!*seen)
        assert_non_null(*seen = calloc(ti.entries, 1));
    (*seen)[addr] = 1;
    return e[addr];
}

/* Forward one input vector through the tables, marking visited addresses;
 * @p out receives the output codes. */
static void walk(visit_map *vm, const splut_tables *t, const uint16_t *in, uint16_t *out)
{
    uint16_t cur[64], next[64], sub[8];
    uint32_t n_in = 0;
    assert_int_equal(splut_tables_io(t, &n_in, NULL, NULL, NULL), SPLUT_OK);
    memcpy(cur, in, n_in * sizeof *cur);
    uint32_t neurons = 0;
    for (size_t l = 0; l < splut_tables_num_layers(t); l++) {
        uint32_t A = 0, width = 0;
        assert_int_equal(splut_tables_layer(t, l, &neurons, &A, &width), SPLUT_OK);
        assert_true(neurons <= 8 && A < 4);
        for (uint32_t j = 0; j < neurons; j++) {
            const uint32_t *idx = NULL;
            size_t cnt = 0;
            splut_table_info ti = SPLUT_TABLE_INFO_INIT;
            assert_int_equal(splut_tables_inputs(t, l, j, &idx, &cnt), SPLUT_OK);
            assert_int_equal(splut_tables_info(t, l, j, 0, &ti), SPLUT_OK);
            for (uint32_t a = 0; a < (A ? A : 1); a++) {
                uint64_t addr = 0;
                for (uint32_t f = 0; f < ti.in_fields; f++) /* field 0 most significant */
                    addr = addr << ti.in_bits | cur[idx[a * ti.in_fields + f]];
                sub[a] = visit(vm, t, l, j, a, A, addr);
            }
            if (A) {
                uint64_t addr = 0;
                for (uint32_t a = 0; a < A; a++)
                    addr = addr << ti.out_bits | sub[a];
                next[j] = visit(vm, t, l, j, SPLUT_TABLE_ADDER, A, addr);
            } else {
                next[j] = sub[0];
            }
        }
        memcpy(cur, next, neurons * sizeof *cur);
    }
    memcpy(out, cur, neurons * sizeof *out);
}

static void visit_free(visit_map *vm)
{
    for (size_t i = 0; i < sizeof vm->seen / sizeof vm->seen[0][0][0]; i++)
        free((&vm->seen[0][0][0])[i]);
}

/* Same shape and connectivity; every visited entry equal; returns the number
 * of entries that differ (all of them at addresses no input visits). */
static size_t compare_filled(const visit_map *vm, const splut_tables *t, const splut_tables *f)
{
    size_t changed = 0;
    assert_int_equal(splut_tables_num_layers(f), splut_tables_num_layers(t));
    for (size_t l = 0; l < splut_tables_num_layers(t); l++) {
        uint32_t n[2][3];
        assert_int_equal(splut_tables_layer(t, l, &n[0][0], &n[0][1], &n[0][2]), SPLUT_OK);
        assert_int_equal(splut_tables_layer(f, l, &n[1][0], &n[1][1], &n[1][2]), SPLUT_OK);
        assert_memory_equal(n[0], n[1], sizeof n[0]);
        uint32_t A = n[0][1];
        for (uint32_t j = 0; j < n[0][0]; j++) {
            const uint32_t *ia = NULL, *ib = NULL;
            size_t ca = 0, cb = 0;
            assert_int_equal(splut_tables_inputs(t, l, j, &ia, &ca), SPLUT_OK);
            assert_int_equal(splut_tables_inputs(f, l, j, &ib, &cb), SPLUT_OK);
            assert_int_equal(ca, cb);
            assert_memory_equal(ia, ib, ca * sizeof *ia);
            for (uint32_t s = 0; s <= A; s++) {
                uint32_t table = s == A ? SPLUT_TABLE_ADDER : s;
                if (s == A && !A)
                    break;
                splut_table_info ta = SPLUT_TABLE_INFO_INIT, tb = SPLUT_TABLE_INFO_INIT;
                const uint16_t *ea = NULL, *eb = NULL;
                assert_int_equal(splut_tables_info(t, l, j, table, &ta), SPLUT_OK);
                assert_int_equal(splut_tables_info(f, l, j, table, &tb), SPLUT_OK);
                assert_memory_equal(&ta, &tb, sizeof ta);
                assert_int_equal(splut_tables_data(t, l, j, table, &ea), SPLUT_OK);
                assert_int_equal(splut_tables_data(f, l, j, table, &eb), SPLUT_OK);
                const uint8_t *seen = vm->seen[l][j][table_slot(table, A)];
                for (uint64_t a = 0; a < ta.entries; a++) {
                    if (seen && seen[a])
                        assert_int_equal(eb[a], ea[a]);
                    changed += eb[a] != ea[a];
                }
            }
        }
    }
    return changed;
}

/* Every file the design lists (<prefix>_files.txt, or the HLS pair) is
 * byte-identical in both directories. */
static void assert_same_design(const char *a, const char *b, splut_hdl_format fmt)
{
    char path[512];
    char *list = NULL;
    if (fmt == SPLUT_HDL_HLS) {
        list = strdup("dut.c\ndut.h\n");
    } else {
        snprintf(path, sizeof path, "%s/dut_files.txt", a);
        list = hdl_read(path, NULL);
    }
    assert_non_null(list);
    size_t files = 0;
    for (char *name = strtok(list, "\n"); name; name = strtok(NULL, "\n"), files++) {
        size_t la = 0, lb = 0;
        snprintf(path, sizeof path, "%s/%s", a, name);
        char *da = hdl_read(path, &la);
        snprintf(path, sizeof path, "%s/%s", b, name);
        char *db = hdl_read(path, &lb);
        assert_non_null(da);
        assert_non_null(db);
        assert_int_equal(la, lb);
        assert_memory_equal(da, db, la);
        free(da);
        free(db);
    }
    assert_true(files >= 2);
    free(list);
}

/* The filled tables keep every entry the network can address (so the same
 * outputs on the whole input space), differ somewhere for some
 * configuration, and emitted without the flag give the very design the
 * original tables give with it. */
static void test_fill_dont_cares(void **state)
{
    (void)state;
    size_t changed = 0, checked = 0;
    for (size_t k = 0; k < hdl_n_cfgs; k++) {
        hdl_case c;
        if (!exhaustive_case(k, &c))
            continue;
        const hdl_cfg *cfg = &hdl_cfgs[k];
        size_t n = c.n;
        uint32_t n_out = 0;
        assert_int_equal(splut_tables_io(c.t, NULL, NULL, &n_out, NULL), SPLUT_OK);
        uint16_t *want = malloc(n * n_out * sizeof *want), *got = malloc(n * n_out * sizeof *got);
        uint16_t walked[64];
        assert_non_null(want);
        assert_non_null(got);
        visit_map vm;
        memset(&vm, 0, sizeof vm);
        assert_int_equal(splut_tables_forward(c.t, c.in, n, want), SPLUT_OK);
        for (size_t v = 0; v < n; v++) { /* the walk is a faithful forward pass */
            walk(&vm, c.t, c.in + v * cfg->n_in, walked);
            assert_memory_equal(walked, want + v * n_out, n_out * sizeof *walked);
        }
        splut_tables *f = NULL;
        assert_int_equal(splut_tables_fill_dont_cares(c.t, &f), SPLUT_OK);
        changed += compare_filled(&vm, c.t, f);
        assert_int_equal(splut_tables_forward(f, c.in, n, got), SPLUT_OK);
        assert_memory_equal(got, want, n * n_out * sizeof *got);
        const splut_hdl_format fmts[] = {SPLUT_HDL_VERILOG, SPLUT_HDL_HLS};
        for (size_t i = 0; i < 2; i++) {
            char dir_t[300], dir_f[300];
            snprintf(dir_t, sizeof dir_t, "%s/t%zu", c.dir, i);
            snprintf(dir_f, sizeof dir_f, "%s/f%zu", c.dir, i);
            splut_hdl_opts dc = opts_for(SPLUT_PIPE_LAYER, "dut", SPLUT_HDL_DONT_CARE);
            splut_hdl_opts plain = opts_for(SPLUT_PIPE_LAYER, "dut", 0);
            assert_int_equal(splut_tables_emit(c.t, fmts[i], dir_t, &dc), SPLUT_OK);
            assert_int_equal(splut_tables_emit(f, fmts[i], dir_f, &plain), SPLUT_OK);
            assert_same_design(dir_t, dir_f, fmts[i]);
        }
        splut_tables_destroy(f);
        visit_free(&vm);
        free(want);
        free(got);
        checked++;
        hdl_case_free(&c);
    }
    assert_true(checked >= 3);
    assert_true(changed >= 1);
}

/* NULL arguments, and every failing allocation reports SPLUT_E_NOMEM,
 * leaks nothing and leaves *out NULL. */
static void test_fill_dont_cares_errors(void **state)
{
    (void)state;
    splut_tables *f = (splut_tables *)&f;
    assert_int_equal(splut_tables_fill_dont_cares(NULL, &f), SPLUT_E_NULL);
    oom_state o = {0, 0, 0};
    splut_allocator al = {oom_alloc, oom_free, &o};
    splut_ctx *ctx = NULL;
    splut_model *m = NULL;
    splut_tables *t = NULL;
    oom_tables(&al, &hdl_cfgs[5], &ctx, &m, &t);
    assert_int_equal(splut_tables_fill_dont_cares(t, NULL), SPLUT_E_NULL);
    splut_status st = SPLUT_E_NOMEM;
    long budget = 0;
    for (; st == SPLUT_E_NOMEM && budget < 100000; budget++) {
        long live = o.live;
        o.budget = budget;
        o.armed = 1;
        st = splut_tables_fill_dont_cares(t, &f);
        o.armed = 0;
        if (st != SPLUT_OK) {
            assert_int_equal(st, SPLUT_E_NOMEM);
            assert_null(f);
            assert_int_equal(o.live, live);
        }
    }
    assert_int_equal(st, SPLUT_OK);
    assert_true(budget > 3); /* the sweep did fail allocations */
    splut_tables_destroy(f);
    splut_tables_destroy(t);
    splut_model_destroy(m);
    splut_ctx_unref(ctx);
}

static void test_lint(void **state)
{
    (void)state;
    if (!hdl_have("verilator"))
        skip();
    for (size_t k = 0; k < hdl_n_cfgs; k++)
        for (size_t p = 0; p < 3; p++)
            for (uint32_t full = 0; full < 2; full++) {
                hdl_case c;
                hdl_case_init(&c, &hdl_cfgs[k], 1, 200 + k);
                /* every flag in one of the two runs */
                uint32_t flags = full ? SPLUT_HDL_FULL_CASE
                                      : SPLUT_HDL_DONT_CARE | SPLUT_HDL_NO_RESET;
                splut_hdl_opts o = opts_for(pipes[p], "lint", flags);
                assert_int_equal(splut_tables_emit(c.t, SPLUT_HDL_VERILOG, c.dir, &o), SPLUT_OK);
                assert_int_equal(hdl_lint(c.dir, "lint"), 0);
                hdl_case_free(&c);
            }
}

/* ------------------------------------------------------ vendor scripts */

/* Runs a generated Tcl script under tclsh with the Vivado / Vitis commands
 * stubbed: each stub checks that the files it is given exist, and the log
 * lists the commands in order. */
static const char tcl_harness[] =
    "set log {}\n"
    "foreach c {open_project set_top open_solution set_part create_clock csim_design\n"
    "           csynth_design cosim_design export_design synth_design opt_design\n"
    "           place_design route_design report_utilization report_timing_summary\n"
    "           get_timing_paths get_clocks} {\n"
    "    proc $c args [list lappend ::log $c]\n"
    "}\n"
    "proc need {f} { if {![file exists $f]} { error \"missing file $f\" } }\n"
    "proc add_files args { need [lindex $args end]; lappend ::log add_files }\n"
    "proc read_verilog {f} { need $f; lappend ::log read_verilog }\n"
    "proc read_vhdl {flag f} { need $f; lappend ::log read_vhdl }\n"
    "proc read_xdc {mode m f} { need $f; lappend ::log read_xdc }\n"
    "proc get_property {name obj} { if {$name eq \"PERIOD\"} { return 2.0 }; return 0.1 }\n"
    "rename exit real_exit\n"
    "proc exit args { lappend ::log exit }\n"
    "set script [lindex $::argv 0]\n"
    "set argv {}\n"
    "source $script\n"
    "puts \"LOG $log\"\n";

static char *run_tcl(const char *dir, const char *script)
{
    char path[400], cmd[900];
    snprintf(path, sizeof(path), "%s/harness.tcl", dir);
    assert_true(hdl_write(path, tcl_harness, strlen(tcl_harness)));
    snprintf(cmd, sizeof(cmd), "cd '%s' && tclsh harness.tcl %s >tcl.log 2>&1", dir, script);
    int rc = system(cmd);
    snprintf(path, sizeof(path), "%s/tcl.log", dir);
    char *log = hdl_read(path, NULL);
    assert_non_null(log);
    if (rc != 0)
        fprintf(stderr, "%s failed:\n%s\n", script, log);
    assert_int_equal(rc, 0);
    return log;
}

static void test_vendor_scripts(void **state)
{
    (void)state;
    if (!hdl_have("tclsh"))
        skip();
    hdl_case c;
    hdl_case_init(&c, &hdl_cfgs[3], 4, 21);
    splut_hdl_opts o = opts_for(SPLUT_PIPE_LAYER, "dut", 0);
    const splut_hdl_format fmts[] = {SPLUT_HDL_VERILOG, SPLUT_HDL_VHDL};
    for (size_t f = 0; f < 2; f++) {
        assert_int_equal(splut_tables_emit(c.t, fmts[f], c.dir, &o), SPLUT_OK);
        char *log = run_tcl(c.dir, "dut_vivado.tcl");
        assert_non_null(strstr(log, f ? "read_vhdl" : "read_verilog"));
        assert_non_null(strstr(log, "read_xdc synth_design opt_design place_design route_design "
                                    "report_utilization report_timing_summary"));
        assert_non_null(strstr(log, "SPLUT_VIVADO part=xcvu9p-flgb2104-2-i period_ns=2.0 "
                                    "wns_ns=0.1 fmax_mhz=526.3"));
        free(log);
    }
    char path[400];
    snprintf(path, sizeof(path), "%s/dut.xdc", c.dir);
    char *xdc = hdl_read(path, NULL);
    assert_non_null(xdc);
    assert_non_null(strstr(xdc, "create_clock -name clk -period 2.000 [get_ports clk]"));
    free(xdc);
    /* Vitis: without and with a testbench (csim and cosim only with one). */
    assert_int_equal(splut_tables_emit(c.t, SPLUT_HDL_HLS, c.dir, &o), SPLUT_OK);
    char *log = run_tcl(c.dir, "dut_hls.tcl");
    assert_non_null(strstr(log, "LOG open_project set_top add_files open_solution set_part "
                                "create_clock csynth_design export_design exit"));
    free(log);
    assert_int_equal(splut_tables_emit_testbench(c.t, SPLUT_HDL_HLS, c.dir, &o, c.in, c.n),
                     SPLUT_OK);
    log = run_tcl(c.dir, "dut_hls.tcl");
    assert_non_null(strstr(log, "add_files add_files add_files add_files open_solution set_part "
                                "create_clock csim_design csynth_design cosim_design"));
    free(log);
    /* The ap_uint ports (C++ under Vitis) with a stand-in for <ap_int.h>
     * that has the operations the top uses: it compiles and computes the
     * same packed outputs. */
    static const char ap_int[] =
        "template <int W> struct ap_uint {\n"
        "    unsigned long long v;\n"
        "    ap_uint() : v(0) {}\n"
        "    ap_uint(unsigned long long x) : v(x) {}\n"
        "    ap_uint operator>>(unsigned s) const { return ap_uint(v >> s); }\n"
        "    ap_uint &operator|=(const ap_uint &o) { v |= o.v; return *this; }\n"
        "    operator unsigned long long() const { return v; }\n"
        "};\n";
    snprintf(path, sizeof(path), "%s/ap_int.h", c.dir);
    assert_true(hdl_write(path, ap_int, strlen(ap_int)));
    if (hdl_have("g++")) {
        char cmd[800];
        snprintf(cmd, sizeof(cmd),
                 "cd '%s' && g++ -x c++ -std=c++11 -Wall -Wextra -Werror -D__VITIS_HLS__ -I. "
                 "-o tb_ap dut_tb.c dut.c >ap.log 2>&1 && ./tb_ap >>ap.log 2>&1 && "
                 "grep -q 'mismatches=0' ap.log",
                 c.dir);
        assert_int_equal(system(cmd), 0);
    }
    hdl_case_free(&c);
}

/* ---------------------------------------------------------- input stage */

/* A model, a raw input format and everything the input stage needs. */
typedef struct input_case {
    hdl_case c;
    splut_input_format fmt;
    double offset[16], scale[16];
    int32_t *thr;
    uint16_t *codes;
    uint32_t *steps;
    uint32_t K;
    int32_t *raw; /* c.n × inputs raw vectors; c.in holds their codes */
} input_case;

/* Code of raw value x of feature f according to the thresholds. */
static uint16_t code_from_thresholds(const input_case *ic, uint32_t f, int32_t x)
{
    uint32_t i = 0;
    while (i < ic->steps[f] && x >= ic->thr[f * ic->K + i])
        i++;
    return ic->codes[f * (ic->K + 1) + i];
}

static int32_t raw_lo(const splut_input_format *f)
{
    return f->is_signed ? -(1 << (f->bits - 1)) : 0;
}

static int32_t raw_hi(const splut_input_format *f)
{
    return f->is_signed ? (1 << (f->bits - 1)) - 1 : (1 << f->bits) - 1;
}

/* The software codes (splut_model_input_codes) of raw vectors. */
static void software_codes(const input_case *ic, const int32_t *raw, size_t n, uint16_t *codes)
{
    uint32_t ni = splut_model_num_inputs(ic->c.m);
    float *x = calloc(n * ni, sizeof(float));
    assert_non_null(x);
    for (size_t i = 0; i < n * ni; i++)
        assert_int_equal(splut_input_value(&ic->fmt, (uint32_t)(i % ni), raw[i], &x[i]), SPLUT_OK);
    assert_int_equal(splut_model_input_codes(ic->c.m, x, n, codes), SPLUT_OK);
    free(x);
}

/* kind 0: MNIST-like unsigned 8-bit pixels (NORMALIZE); 1: signed Q6.4 with
 * per-feature standardisation (FIXED); 2: a ReLU-input model on unsigned
 * Q3.3. Thresholds are checked against the float path on every raw value of
 * every feature, and n raw vectors (a third of them at thresholds) get their
 * software codes. */
static void input_case_init(input_case *ic, int kind, size_t n)
{
    memset(ic, 0, sizeof(*ic));
    const hdl_cfg *cfg = &hdl_cfgs[kind == 1 ? 5 : 3];
    hdl_case_init_mode(&ic->c, cfg, n, 50 + (uint64_t)kind, kind == 2 ? SPLUT_INPUT_RELU : -1);
    hdl_perturb_input(ic->c.m, 90 + (uint64_t)kind);
    splut_input_format fmt = SPLUT_INPUT_FORMAT_INIT;
    uint32_t ni = cfg->n_in;
    if (kind == 0) {
        fmt.map = SPLUT_INFMT_NORMALIZE;
        fmt.divisor = 255.0f;
        fmt.mean = 0.1307f;
        fmt.std = 0.3081f;
    } else if (kind == 1) {
        fmt.bits = 10;
        fmt.is_signed = 1;
        fmt.frac_bits = 4;
        for (uint32_t f = 0; f < ni; f++) {
            ic->offset[f] = 0.37 * f - 1.0;
            ic->scale[f] = 2.0 + 0.5 * f;
        }
        fmt.offset = ic->offset;
        fmt.scale = ic->scale;
    } else {
        fmt.bits = 6;
        fmt.frac_bits = 3;
    }
    ic->fmt = fmt;
    ic->K = (1u << cfg->in_bits) - 1;
    ic->thr = calloc(ni * ic->K, sizeof(int32_t));
    ic->codes = calloc(ni * (ic->K + 1), sizeof(uint16_t));
    ic->steps = calloc(ni, sizeof(uint32_t));
    assert_true(ic->thr && ic->codes && ic->steps);
    assert_int_equal(splut_model_input_thresholds(ic->c.m, &ic->fmt, ic->thr, ic->codes,
                                                  ic->steps),
                     SPLUT_OK);
    /* Exhaustive: every raw value of every feature. */
    size_t range = (size_t)(raw_hi(&fmt) - raw_lo(&fmt) + 1);
    int32_t *all = calloc(range * ni, sizeof(int32_t));
    uint16_t *sw = calloc(range * ni, sizeof(uint16_t));
    assert_true(all && sw);
    for (size_t r = 0; r < range; r++)
        for (uint32_t f = 0; f < ni; f++)
            all[r * ni + f] = raw_lo(&fmt) + (int32_t)r;
    software_codes(ic, all, range, sw);
    uint32_t rising = 0, falling = 0, total = 0;
    for (uint32_t f = 0; f < ni; f++) {
        for (size_t r = 0; r < range; r++)
            assert_int_equal(code_from_thresholds(ic, f, all[r * ni + f]), sw[r * ni + f]);
        total += ic->steps[f];
        rising += sw[(range - 1) * ni + f] > sw[f];
        falling += sw[(range - 1) * ni + f] < sw[f];
    }
    assert_true(total >= ni); /* the comparators have work to do */
    assert_true(rising > 0);
    assert_true(kind == 2 || falling > 0);
    free(all);
    free(sw);
    /* Vectors: random, and every third row at a threshold or one below. */
    ic->raw = calloc(n * ni, sizeof(int32_t));
    assert_non_null(ic->raw);
    uint64_t st = 12345 + (uint64_t)kind;
    for (size_t i = 0; i < n * ni; i++) {
        st = st * 6364136223846793005ull + 1442695040888963407ull;
        uint32_t f = (uint32_t)(i % ni), rnd = (uint32_t)(st >> 33);
        ic->raw[i] = raw_lo(&fmt) + (int32_t)(rnd % range);
        if ((i / ni) % 3 == 0 && ic->steps[f])
            ic->raw[i] = ic->thr[f * ic->K + rnd % ic->steps[f]] - (int32_t)(rnd / 7 % 2);
    }
    software_codes(ic, ic->raw, n, ic->c.in);
}

static void input_case_free(input_case *ic)
{
    free(ic->thr);
    free(ic->codes);
    free(ic->steps);
    free(ic->raw);
    hdl_case_free(&ic->c);
}

static splut_hdl_opts input_opts(const input_case *ic, int32_t pipe)
{
    splut_hdl_opts o = opts_for(pipe, "dut", pipe == SPLUT_PIPE_SUBLAYER ? SPLUT_HDL_DONT_CARE : 0);
    o.input = &ic->fmt;
    o.input_thresholds = ic->thr;
    o.input_codes = ic->codes;
    o.input_steps = ic->steps;
    return o;
}

/* Every format × every pipeline in one simulator: 0 mismatches against the
 * software codes' outputs. */
static void run_input_matrix(hdl_sim sim, splut_hdl_format fmt, const char *tool)
{
    if (!hdl_have(tool))
        skip();
    for (int kind = 0; kind < 3; kind++)
        for (size_t p = 0; p < 3; p++) {
            input_case ic;
            input_case_init(&ic, kind, N_VECTORS);
            splut_hdl_opts o = input_opts(&ic, pipes[p]);
            assert_int_equal(splut_tables_emit(ic.c.t, fmt, ic.c.dir, &o), SPLUT_OK);
            assert_int_equal(splut_tables_emit_testbench_raw(ic.c.t, fmt, ic.c.dir, &o, ic.raw,
                                                             ic.c.in, ic.c.n),
                             SPLUT_OK);
            assert_simulates(ic.c.dir, sim, N_VECTORS);
            if (sim == HDL_SIM_ICARUS && hdl_have("verilator"))
                assert_int_equal(hdl_lint(ic.c.dir, "dut"), 0);
            input_case_free(&ic);
        }
}

/* Verilator on one case (its builds take seconds each): signed features,
 * rising and falling, sub-layer pipeline. */
static void test_input_verilator(void **state)
{
    (void)state;
    if (!hdl_have("verilator"))
        skip();
    input_case ic;
    input_case_init(&ic, 1, N_VECTORS);
    splut_hdl_opts o = input_opts(&ic, SPLUT_PIPE_SUBLAYER);
    assert_int_equal(splut_tables_emit(ic.c.t, SPLUT_HDL_VERILOG, ic.c.dir, &o), SPLUT_OK);
    assert_int_equal(splut_tables_emit_testbench_raw(ic.c.t, SPLUT_HDL_VERILOG, ic.c.dir, &o,
                                                     ic.raw, ic.c.in, ic.c.n),
                     SPLUT_OK);
    assert_simulates(ic.c.dir, HDL_SIM_VERILATOR, N_VECTORS);
    input_case_free(&ic);
}

static void test_input_icarus(void **state)
{
    (void)state;
    run_input_matrix(HDL_SIM_ICARUS, SPLUT_HDL_VERILOG, "iverilog");
}

static void test_input_ghdl(void **state)
{
    (void)state;
    run_input_matrix(HDL_SIM_GHDL, SPLUT_HDL_VHDL, "ghdl");
}

static void test_input_hls(void **state)
{
    (void)state;
    run_input_matrix(HDL_SIM_GCC, SPLUT_HDL_HLS, "gcc");
}

/* A wrong comparator constant is caught: the test can fail. */
static void test_input_negative(void **state)
{
    (void)state;
    if (!hdl_have("gcc"))
        skip();
    input_case ic;
    input_case_init(&ic, 0, N_VECTORS);
    uint32_t f = 0;
    while (ic.steps[f] == 0)
        f++;
    ic.thr[f * ic.K] += 1; /* one raw value now gets the lower code */
    splut_hdl_opts o = input_opts(&ic, SPLUT_PIPE_NONE);
    assert_int_equal(splut_tables_emit(ic.c.t, SPLUT_HDL_HLS, ic.c.dir, &o), SPLUT_OK);
    /* every vector at that raw value */
    int32_t t = ic.thr[f * ic.K] - 1;
    for (size_t i = 0; i < ic.c.n; i++)
        ic.raw[i * 8 + f] = t;
    software_codes(&ic, ic.raw, ic.c.n, ic.c.in);
    assert_int_equal(splut_tables_emit_testbench_raw(ic.c.t, SPLUT_HDL_HLS, ic.c.dir, &o, ic.raw,
                                                     ic.c.in, ic.c.n),
                     SPLUT_OK);
    long vectors = 0;
    assert_true(hdl_simulate(ic.c.dir, "dut", HDL_SIM_GCC, &vectors) > 0);
    input_case_free(&ic);
}

/* Argument checks of the input-stage API, old option sizes. */
static void test_input_api(void **state)
{
    (void)state;
    input_case ic;
    input_case_init(&ic, 1, 4);
    splut_hdl_opts o = input_opts(&ic, SPLUT_PIPE_LAYER);
    /* codes for a design with an input stage, raw vectors for one without */
    assert_int_equal(splut_tables_emit_testbench(ic.c.t, SPLUT_HDL_VERILOG, ic.c.dir, &o,
                                                 ic.c.in, 4),
                     SPLUT_E_INVALID);
    splut_hdl_opts plain = opts_for(SPLUT_PIPE_LAYER, "dut", 0);
    assert_int_equal(splut_tables_emit_testbench_raw(ic.c.t, SPLUT_HDL_VERILOG, ic.c.dir, &plain,
                                                     ic.raw, ic.c.in, 4),
                     SPLUT_E_INVALID);
    /* a raw value outside the format */
    ic.raw[0] = 600;
    assert_int_equal(splut_tables_emit_testbench_raw(ic.c.t, SPLUT_HDL_VERILOG, ic.c.dir, &o,
                                                     ic.raw, ic.c.in, 4),
                     SPLUT_E_OUT_OF_RANGE);
    /* a threshold not above the range minimum */
    uint32_t f = 0;
    while (ic.steps[f] < 1)
        f++;
    int32_t keep = ic.thr[f * ic.K];
    ic.thr[f * ic.K] = raw_lo(&ic.fmt);
    assert_int_equal(splut_tables_emit(ic.c.t, SPLUT_HDL_VERILOG, ic.c.dir, &o), SPLUT_E_INVALID);
    ic.thr[f * ic.K] = keep;
    o.input_steps = NULL;
    assert_int_equal(splut_tables_emit(ic.c.t, SPLUT_HDL_VERILOG, ic.c.dir, &o), SPLUT_E_NULL);
    /* the 0.1 struct size (up to `reserved`) is still accepted */
    splut_hdl_opts old = opts_for(SPLUT_PIPE_LAYER, "dut", 0);
    old.size = offsetof(splut_hdl_opts, input);
    uint32_t lat = 0;
    assert_int_equal(splut_hdl_latency(ic.c.t, &old, &lat), SPLUT_OK);
    assert_int_equal(lat, 3);
    old.size = offsetof(splut_hdl_opts, input) + 8;
    assert_int_equal(splut_hdl_latency(ic.c.t, &old, &lat), SPLUT_E_STRUCT_SIZE);
    /* formats */
    splut_input_format bad = ic.fmt;
    float v = 0;
    assert_int_equal(splut_input_value(&bad, 0, 511, &v), SPLUT_OK);
    assert_int_equal(splut_input_value(&bad, 0, 512, &v), SPLUT_E_OUT_OF_RANGE);
    assert_int_equal(splut_input_value(&bad, 0, -513, &v), SPLUT_E_OUT_OF_RANGE);
    bad.bits = 25;
    assert_int_equal(splut_input_value(&bad, 0, 0, &v), SPLUT_E_INVALID);
    assert_int_equal(splut_model_input_thresholds(ic.c.m, &bad, ic.thr, ic.codes, ic.steps),
                     SPLUT_E_INVALID);
    bad = ic.fmt;
    ic.scale[3] = 0.0;
    assert_int_equal(splut_model_input_thresholds(ic.c.m, &bad, ic.thr, ic.codes, ic.steps),
                     SPLUT_E_INVALID);
    bad.size = 8;
    assert_int_equal(splut_input_value(&bad, 0, 0, &v), SPLUT_E_STRUCT_SIZE);
    assert_int_equal(splut_model_input_thresholds(ic.c.m, NULL, ic.thr, ic.codes, ic.steps),
                     SPLUT_E_NULL);
    input_case_free(&ic);
}

/* ------------------------------------------------------------- negative */

static void replace_in_file(const char *path, const char *from, const char *to)
{
    size_t len = 0;
    char *s = hdl_read(path, &len);
    assert_non_null(s);
    char *at = strstr(s, from);
    if (!at)
        fprintf(stderr, "'%s' not found in %s\n", from, path);
    assert_non_null(at);
    assert_int_equal(strlen(from), strlen(to));
    memcpy(at, to, strlen(to));
    assert_true(hdl_write(path, s, len));
    free(s);
}

/* Flip the first character of line @p line (0-based) of a hex vector file. */
static void corrupt_vector(const char *dir, const char *name, size_t line)
{
    char path[800];
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    size_t len = 0;
    char *s = hdl_read(path, &len);
    assert_non_null(s);
    char *p = s;
    for (size_t i = 0; i < line; i++) {
        p = strchr(p, '\n');
        assert_non_null(p);
        p++;
    }
    /* Change the least significant digit: always inside the bus. */
    char *end = strchr(p, '\n');
    assert_non_null(end);
    end[-1] = end[-1] == '0' ? '1' : '0';
    assert_true(hdl_write(path, s, len));
    free(s);
}

static void expect_mismatch(hdl_case *c, splut_hdl_format fmt, hdl_sim sim, int32_t pipe)
{
    splut_hdl_opts o = opts_for(pipe, "neg", 0);
    assert_int_equal(splut_tables_emit(c->t, fmt, c->dir, &o), SPLUT_OK);
    assert_int_equal(splut_tables_emit_testbench(c->t, fmt, c->dir, &o, c->in, c->n), SPLUT_OK);
    assert_int_equal(hdl_simulate(c->dir, "neg", sim, NULL), 0);
    corrupt_vector(c->dir, "neg_out.hex", 7);
    assert_int_equal(hdl_simulate(c->dir, "neg", sim, NULL), 1);
}

static void test_negative_vectors(void **state)
{
    (void)state;
    const struct {
        splut_hdl_format fmt;
        hdl_sim sim;
        const char *tool;
    } runs[] = {{SPLUT_HDL_VERILOG, HDL_SIM_ICARUS, "iverilog"},
                {SPLUT_HDL_VHDL, HDL_SIM_GHDL, "ghdl"},
                {SPLUT_HDL_HLS, HDL_SIM_GCC, "gcc"}};
    size_t ran = 0;
    for (size_t r = 0; r < 3; r++) {
        if (!hdl_have(runs[r].tool))
            continue;
        hdl_case c;
        hdl_case_init(&c, &hdl_cfgs[3], 40, 300 + r);
        expect_mismatch(&c, runs[r].fmt, runs[r].sim, SPLUT_PIPE_SUBLAYER);
        hdl_case_free(&c);
        ran++;
    }
    if (!ran)
        skip();
}

/* One-layer model, full case listing: flip the output of the ROM entry that
 * neuron 0 reads for vector 0; the testbench must see it. */
static void corrupt_table(splut_hdl_format fmt, hdl_sim sim, const char *tool)
{
    if (!hdl_have(tool))
        skip();
    static const hdl_cfg one = {"one", 6, 2, 1, {{SPLUT_NEURON_POLY, 4, 3, 3, 2, 0}}};
    hdl_case c;
    hdl_case_init(&c, &one, 20, 400);
    splut_hdl_opts o = opts_for(SPLUT_PIPE_LAYER, "neg", SPLUT_HDL_FULL_CASE);
    assert_int_equal(splut_tables_emit(c.t, fmt, c.dir, &o), SPLUT_OK);
    assert_int_equal(splut_tables_emit_testbench(c.t, fmt, c.dir, &o, c.in, c.n), SPLUT_OK);
    assert_int_equal(hdl_simulate(c.dir, "neg", sim, NULL), 0);
    const uint32_t *idx = NULL;
    size_t n = 0;
    assert_int_equal(splut_tables_inputs(c.t, 0, 0, &idx, &n), SPLUT_OK);
    assert_int_equal(n, 3);
    uint32_t addr = 0;
    for (size_t f = 0; f < n; f++)
        addr = addr << 2 | c.in[idx[f]];
    const uint16_t *e = NULL;
    assert_int_equal(splut_tables_data(c.t, 0, 0, 0, &e), SPLUT_OK);
    char a[8], v[4], w[4];
    for (int i = 0; i < 6; i++)
        a[i] = (char)('0' + ((addr >> (5 - i)) & 1));
    a[6] = '\0';
    for (int i = 0; i < 3; i++) {
        v[i] = (char)('0' + ((e[addr] >> (2 - i)) & 1));
        w[i] = (char)('0' + (((e[addr] ^ 1u) >> (2 - i)) & 1));
    }
    v[3] = w[3] = '\0';
    char from[64], to[64], path[400];
    if (fmt == SPLUT_HDL_VERILOG) {
        snprintf(from, sizeof(from), "6'b%s: M1r = 3'b%s;", a, v);
        snprintf(to, sizeof(to), "6'b%s: M1r = 3'b%s;", a, w);
        snprintf(path, sizeof(path), "%s/neg_l0_n0.v", c.dir);
    } else {
        snprintf(from, sizeof(from), "when \"%s\" => M1r <= \"%s\";", a, v);
        snprintf(to, sizeof(to), "when \"%s\" => M1r <= \"%s\";", a, w);
        snprintf(path, sizeof(path), "%s/neg_l0_n0.vhd", c.dir);
    }
    replace_in_file(path, from, to);
    long mm = hdl_simulate(c.dir, "neg", sim, NULL);
    assert_true(mm >= 1);
    hdl_case_free(&c);
}

static void test_negative_table_verilog(void **state)
{
    (void)state;
    corrupt_table(SPLUT_HDL_VERILOG, HDL_SIM_ICARUS, "iverilog");
}

static void test_negative_table_vhdl(void **state)
{
    (void)state;
    corrupt_table(SPLUT_HDL_VHDL, HDL_SIM_GHDL, "ghdl");
}

/* ------------------------------------------------------------------ CLI */

static const char *cli_path;

/* Run the CLI with @p args inside c->dir, stdout to out.json; returns its exit status. */
static int run_cli(const hdl_case *c, const char *args)
{
    char cmd[2048];
    snprintf(cmd, sizeof(cmd), "cd '%s' && '%s' %s >out.json 2>err.txt", c->dir, cli_path, args);
    int rc = system(cmd);
    return rc;
}

static char *cli_output(const hdl_case *c)
{
    char path[400];
    snprintf(path, sizeof(path), "%s/out.json", c->dir);
    char *s = hdl_read(path, NULL);
    assert_non_null(s);
    return s;
}

/* `sparselut emit --verify` on a saved model: every format, JSON reports 0 mismatches
 * and the latency the library computes. */
static void test_cli_emit_verify(void **state)
{
    (void)state;
    if (!cli_path || !hdl_have("iverilog") || !hdl_have("ghdl") || !hdl_have("cc"))
        skip();
    hdl_case c;
    hdl_case_init(&c, &hdl_cfgs[3], 50, 500);
    char path[400];
    snprintf(path, sizeof(path), "%s/model.splut", c.dir);
    assert_int_equal(splut_model_save(c.m, path), SPLUT_OK);
    const char *runs[] = {
        "emit --model model.splut --format verilog --out v --pipeline sublayer --verify "
        "--simulator iverilog --vectors 300 --json",
        "emit --model model.splut --format vhdl --out d --pipeline layer --verify --vectors 300 "
        "--json",
        "emit --model model.splut --format hls --out h --verify --vectors 300 --json",
    };
    const int32_t pipe[] = {SPLUT_PIPE_SUBLAYER, SPLUT_PIPE_LAYER, SPLUT_PIPE_NONE};
    for (size_t r = 0; r < 3; r++) {
        assert_int_equal(run_cli(&c, runs[r]), 0);
        char *out = cli_output(&c);
        splut_hdl_opts o = opts_for(pipe[r], NULL, 0);
        uint32_t lat = 0;
        assert_int_equal(splut_hdl_latency(c.t, &o, &lat), SPLUT_OK);
        char want[64];
        snprintf(want, sizeof(want), "\"latency_cycles\":%u", lat);
        assert_non_null(strstr(out, want));
        assert_non_null(strstr(out, "\"vectors_checked\":300"));
        assert_non_null(strstr(out, "\"mismatches\":0"));
        free(out);
    }
    /* Vectors from a dataset: a CSV whose seeded split leaves 20 test rows. */
    snprintf(path, sizeof(path), "%s/data.csv", c.dir);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fprintf(f, "a,b,c,d,e,f,g,h,label\n");
    for (int row = 0; row < 100; row++) {
        for (int k = 0; k < 8; k++)
            fprintf(f, "%.3f,", ((row * 37 + k * 11) % 41) / 10.0 - 2.0);
        fprintf(f, "%d\n", row % 3);
    }
    assert_int_equal(fclose(f), 0);
    assert_int_equal(run_cli(&c, "emit --model model.splut --format hls --out hd --data "
                                 "csv:data.csv --vectors 500 --verify --json"), 0);
    char *out = cli_output(&c);
    assert_non_null(strstr(out, "\"vectors_checked\":20,"));
    assert_non_null(strstr(out, "\"mismatches\":0"));
    free(out);
    /* A wrong expected vector makes the command fail. */
    snprintf(path, sizeof(path), "%s/h", c.dir);
    corrupt_vector(path, "splut_out.hex", 3);
    char cmd[600];
    snprintf(cmd, sizeof(cmd), "cd '%s/h' && cc -std=c99 -o tb splut_tb.c splut.c && "
             "./tb >log.txt", c.dir);
    assert_true(system(cmd) != 0);
    hdl_case_free(&c);
}

/* `emit --input-stage` on CSV data: the format chosen from the data (auto),
 * with and without standardisation, in all three languages, and an explicit
 * format that rounds the data: 0 mismatches against the float path. */
static void test_cli_input_stage(void **state)
{
    (void)state;
    if (!cli_path || !hdl_have("iverilog") || !hdl_have("ghdl") || !hdl_have("cc"))
        skip();
    hdl_case c;
    hdl_case_init(&c, &hdl_cfgs[3], 50, 501);
    hdl_perturb_input(c.m, 77);
    char path[400];
    snprintf(path, sizeof(path), "%s/model.splut", c.dir);
    assert_int_equal(splut_model_save(c.m, path), SPLUT_OK);
    /* Values k/16 − 2 in [−2, 1.75]: exact in binary; auto picks s10.8 (−512 … 448). */
    snprintf(path, sizeof(path), "%s/data.csv", c.dir);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fprintf(f, "a,b,c,d,e,f,g,h,label\n");
    for (int row = 0; row < 400; row++) {
        for (int k = 0; k < 8; k++)
            fprintf(f, "%.4f,", ((row * 37 + k * 11) % 61) / 16.0 - 2.0);
        fprintf(f, "%d\n", row % 3);
    }
    assert_int_equal(fclose(f), 0);
    const char *runs[] = {
        "emit --model model.splut --format verilog --out v --pipeline layer --data csv:data.csv "
        "--input-stage auto --input-bits 10 --verify --simulator iverilog --vectors 80 --json",
        "emit --model model.splut --format vhdl --out d --pipeline sublayer --data csv:data.csv "
        "--standardize --input-stage auto --input-bits 10 --verify --vectors 80 --json",
        "emit --model model.splut --format hls --out h --data csv:data.csv --standardize "
        "--input-stage auto --verify --vectors 80 --json",
        "emit --model model.splut --format hls --out h2 --data csv:data.csv "
        "--input-stage s6.2 --verify --vectors 80 --json",
    };
    for (size_t r = 0; r < 4; r++) {
        assert_int_equal(run_cli(&c, runs[r]), 0);
        char *out = cli_output(&c);
        assert_non_null(strstr(out, "\"vectors_checked\":80,"));
        assert_non_null(strstr(out, "\"mismatches\":0"));
        assert_non_null(strstr(out, "\"input_signed\":1"));
        assert_null(strstr(out, "\"comparators\":0,"));
        if (r < 3) {
            assert_non_null(strstr(out, "\"inputs_rounded\":0,"));
            assert_non_null(strstr(out, r ? "\"input_standardized\":1" : "\"input_frac_bits\":8"));
        } else {
            assert_null(strstr(out, "\"inputs_rounded\":0,")); /* k/16 on a 1/4 grid */
        }
        free(out);
    }
    /* auto without data, and a malformed format, are refused. */
    assert_true(run_cli(&c, "emit --model model.splut --format hls --out x --input-stage auto") != 0);
    assert_true(run_cli(&c, "emit --model model.splut --format hls --out x --input-stage s6") != 0);
    hdl_case_free(&c);
}

/* `sparselut synth` on a tiny model: Yosys reports LUTs, FFs and a depth. */
static void test_cli_synth(void **state)
{
    (void)state;
    if (!cli_path || !hdl_have("yosys"))
        skip();
    hdl_case c;
    hdl_case_init(&c, &hdl_cfgs[0], 50, 501);
    char path[400];
    snprintf(path, sizeof(path), "%s/model.splut", c.dir);
    assert_int_equal(splut_model_save(c.m, path), SPLUT_OK);
    assert_int_equal(run_cli(&c, "synth --model model.splut --out s --pipeline layer --json"), 0);
    char *out = cli_output(&c);
    long lut = -1, ff = -1, depth = -1;
    const char *p = strstr(out, "\"lut\":");
    assert_non_null(p);
    assert_int_equal(sscanf(p, "\"lut\":%ld", &lut), 1);
    p = strstr(out, "\"ff\":");
    assert_non_null(p);
    assert_int_equal(sscanf(p, "\"ff\":%ld", &ff), 1);
    p = strstr(out, "\"depth\":");
    assert_non_null(p);
    assert_int_equal(sscanf(p, "\"depth\":%ld", &depth), 1);
    assert_true(lut > 0);
    assert_true(ff > 0);   /* two register stages */
    assert_true(depth >= 1);
    free(out);
    hdl_case_free(&c);
}

/* A test case whose model is saved as model.splut in its directory. */
static void case_with_model_file(hdl_case *c, const hdl_cfg *cfg, uint64_t seed)
{
    hdl_case_init(c, cfg, 4, seed);
    char path[400];
    snprintf(path, sizeof(path), "%s/model.splut", c->dir);
    assert_int_equal(splut_model_save(c->m, path), SPLUT_OK);
}

/* `"key":N` in a JSON text; -1 when absent. */
static double json_number(const char *out, const char *key)
{
    char pat[64];
    snprintf(pat, sizeof(pat), "\"%s\":", key);
    const char *p = strstr(out, pat);
    double v = -1;
    if (p)
        assert_int_equal(sscanf(p + strlen(pat), "%lf", &v), 1);
    return v;
}

/* `sparselut synth --fast`: every table of the linear model has at most 6
 * address bits, so each live output bit is exactly one LUT (no MUXF), bounded
 * by the cost model's one LUT per output bit of every table; the flip-flops
 * are those the emitted design declares; and with Yosys present the count
 * agrees with the full synth_xilinx run. */
static void test_cli_synth_fast(void **state)
{
    (void)state;
    if (!cli_path || (!hdl_have("yosys-abc") && !hdl_have("berkeley-abc"))) {
        fprintf(stderr, "skipping: no ABC (yosys-abc or berkeley-abc)\n");
        skip();
    }
    hdl_case c;
    case_with_model_file(&c, &hdl_cfgs[0], 601);
    assert_int_equal(run_cli(&c, "synth --model model.splut --fast --no-reset --out f --json"), 0);
    char *out = cli_output(&c);
    uint64_t cost = 0;
    assert_int_equal(splut_tables_cost(c.t, SIZE_MAX, &cost), SPLUT_OK);
    double lut = json_number(out, "lut"), functions = 0;
    for (const char *p = out; (p = strstr(p, "\"functions\":")) != NULL; p++)
        functions += json_number(p, "functions");
    assert_true(functions >= 1);
    assert_true(lut == functions);
    assert_true(lut <= (double)cost);
    assert_true(json_number(out, "muxf7") == 0);
    assert_true(json_number(out, "depth6") >= 1);
    assert_true(json_number(out, "register_bits") == 6 * 2 + 5 * 2);
    assert_true(json_number(out, "register_bits_live") <= 6 * 2 + 5 * 2);
    free(out);
    /* A tables file gives the same count; wrong option mixes are usage errors. */
    char path[400];
    snprintf(path, sizeof(path), "%s/t.bin", c.dir);
    assert_int_equal(splut_tables_save(c.t, path), SPLUT_OK);
    assert_int_equal(run_cli(&c, "synth --tables t.bin --fast --no-reset --json"), 0);
    out = cli_output(&c);
    assert_true(json_number(out, "lut") == lut);
    free(out);
    assert_int_not_equal(run_cli(&c, "synth --tables t.bin --model model.splut --fast"), 0);
    assert_int_not_equal(run_cli(&c, "synth --model model.splut --fast --target ice40-hx8k"), 0);
    assert_int_not_equal(run_cli(&c, "synth --model model.splut --target ice40-up5k "
                                     "--pipeline none"), 0);
    if (hdl_have("yosys")) {
        assert_int_equal(run_cli(&c, "synth --model model.splut --no-reset --out y --json"), 0);
        out = cli_output(&c);
        double ylut = json_number(out, "lut");
        assert_true(ylut > 0);
        assert_true(lut >= ylut - 3 - 0.1 * ylut && lut <= ylut + 3 + 0.1 * ylut);
        free(out);
    }
    hdl_case_free(&c);
}

/* Tables of 10 address bits take the wide ABC script: more LUTs than
 * functions (a 10-input function needs several LUT6), MUXF7/F8, and the count
 * stays within 10 % (±3) of the full Yosys run. */
static void test_cli_synth_fast_wide(void **state)
{
    (void)state;
    if (!cli_path || (!hdl_have("yosys-abc") && !hdl_have("berkeley-abc"))) {
        fprintf(stderr, "skipping: no ABC (yosys-abc or berkeley-abc)\n");
        skip();
    }
    static const hdl_cfg wide = {"wide", 8, 2, 2, {{SPLUT_NEURON_LINEAR, 3, 5, 2, 1, 0}, {SPLUT_NEURON_LINEAR, 2, 3, 2, 1, 0}}};
    hdl_case c;
    case_with_model_file(&c, &wide, 603);
    assert_int_equal(run_cli(&c, "synth --model model.splut --fast --no-reset --out f --json"), 0);
    char *out = cli_output(&c);
    double lut = json_number(out, "lut"), functions = 0;
    for (const char *p = out; (p = strstr(p, "\"functions\":")) != NULL; p++)
        functions += json_number(p, "functions");
    assert_true(functions >= 1);
    assert_true(lut > functions);
    assert_true(json_number(out, "muxf7") > 0);
    free(out);
    char *wide_list = NULL;
    char path[400];
    snprintf(path, sizeof(path), "%s/f/wide.txt", c.dir);
    wide_list = hdl_read(path, NULL);
    assert_non_null(wide_list);
    assert_true(strlen(wide_list) > 0);
    free(wide_list);
    if (hdl_have("yosys")) {
        assert_int_equal(run_cli(&c, "synth --model model.splut --no-reset --out y --json"), 0);
        out = cli_output(&c);
        double ylut = json_number(out, "lut");
        assert_true(lut >= ylut - 3 - 0.1 * ylut && lut <= ylut + 3 + 0.1 * ylut);
        free(out);
    }
    hdl_case_free(&c);
}

/* Lines of a chunk list (f/narrow.txt or f/wide.txt) of a --fast run. */
static size_t chunk_list_lines(const hdl_case *c, const char *name)
{
    char path[400];
    snprintf(path, sizeof(path), "%s/f/%s", c->dir, name);
    char *text = hdl_read(path, NULL);
    assert_non_null(text);
    size_t lines = 0;
    for (const char *p = text; *p; p++)
        lines += *p == '\n';
    free(text);
    return lines;
}

/* Flip-flops the emitted Verilog declares: the WIDTH of every pipeline register. */
static double declared_register_bits(const hdl_case *c, int32_t pipeline)
{
    char dir[300], path[340];
    snprintf(dir, sizeof dir, "%s/v%d", c->dir, (int)pipeline);
    splut_hdl_opts o = opts_for(pipeline, "regs", SPLUT_HDL_NO_RESET);
    assert_int_equal(splut_tables_emit(c->t, SPLUT_HDL_VERILOG, dir, &o), SPLUT_OK);
    snprintf(path, sizeof path, "%s/regs_top.v", dir);
    char *top = hdl_read(path, NULL);
    assert_non_null(top);
    double bits = 0;
    for (const char *p = top; (p = strstr(p, "#(.WIDTH(")) != NULL; p++)
        bits += atof(p + strlen("#(.WIDTH("));
    free(top);
    return bits;
}

/* A BLIF of single-output covers (`.names`), evaluated for one assignment of
 * its inputs; enough for the fast count's unmapped chunks (multiplexers,
 * buffers, constants). */
typedef struct blif_net {
    char **name;   /* node output names */
    char ***in;    /* node input names */
    char ***rows;  /* node cover rows ("01- 1") */
    int *k, *n_rows;
    size_t n;
    int *val;      /* per node: -1 unknown, else the value in this evaluation */
} blif_net;

static void blif_parse(char *text, blif_net *g)
{
    memset(g, 0, sizeof *g);
    size_t cap = 0;
    for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n")) {
        if (strncmp(line, ".names", 6) == 0) {
            if (g->n == cap) {
                cap = cap ? 2 * cap : 256;
                g->name = realloc(g->name, cap * sizeof *g->name);
                g->in = realloc(g->in, cap * sizeof *g->in);
                g->rows = realloc(g->rows, cap * sizeof *g->rows);
                g->k = realloc(g->k, cap * sizeof *g->k);
                g->n_rows = realloc(g->n_rows, cap * sizeof *g->n_rows);
                assert_true(g->name && g->in && g->rows && g->k && g->n_rows);
            }
            char *tok[8];
            int cnt = 0;
            for (char *p = line + 6; *p && cnt < 8;) {
                while (*p == ' ')
                    *p++ = '\0';
                if (!*p)
                    break;
                tok[cnt++] = p;
                while (*p && *p != ' ')
                    p++;
            }
            assert_true(cnt >= 1 && cnt <= 4);
            g->name[g->n] = tok[cnt - 1];
            g->in[g->n] = calloc(4, sizeof(char *));
            g->rows[g->n] = calloc(4, sizeof(char *));
            for (int i = 0; i < cnt - 1; i++)
                g->in[g->n][i] = tok[i];
            g->k[g->n] = cnt - 1;
            g->n_rows[g->n] = 0;
            g->n++;
        } else if (line[0] != '.' && line[0] != '#' && g->n) {
            assert_true(g->n_rows[g->n - 1] < 4);
            g->rows[g->n - 1][g->n_rows[g->n - 1]++] = line;
        }
    }
    g->val = malloc((g->n ? g->n : 1) * sizeof *g->val);
    assert_non_null(g->val);
}

static void blif_free(blif_net *g)
{
    for (size_t i = 0; i < g->n; i++) {
        free(g->in[i]);
        free(g->rows[i]);
    }
    free(g->name);
    free(g->in);
    free(g->rows);
    free(g->k);
    free(g->n_rows);
    free(g->val);
}

/* Value of signal @p sig: a node, else a primary input "t<id>_<p>" whose
 * value is bit p of inputs[id]. */
static int blif_eval(blif_net *g, const char *sig, const uint64_t *inputs)
{
    for (size_t i = 0; i < g->n; i++) {
        if (strcmp(g->name[i], sig) != 0)
            continue;
        if (g->val[i] >= 0)
            return g->val[i];
        int x[3] = {0, 0, 0}, v = 0;
        for (int j = 0; j < g->k[i]; j++)
            x[j] = blif_eval(g, g->in[i][j], inputs);
        for (int r = 0; r < g->n_rows[i] && !v; r++) {
            const char *row = g->rows[i][r];
            int match = 1;
            for (int j = 0; j < g->k[i]; j++)
                match &= row[j] == '-' || row[j] - '0' == x[j];
            v = match && row[g->k[i] ? g->k[i] + 1 : 0] == '1';
        }
        return g->val[i] = v;
    }
    unsigned id = 0, p = 0;
    assert_int_equal(sscanf(sig, "t%u_%u", &id, &p), 2);
    return (int)(inputs[id] >> p & 1);
}

/* The fast count's table ids: layer by layer, neuron by neuron, sub-neurons
 * then the adder (PolyLUT-Add), one table per neuron otherwise. */
typedef struct table_ids {
    size_t n;
    uint32_t layer[64], neuron[64], table[64];
} table_ids;

static void list_tables(const splut_tables *t, table_ids *ids)
{
    ids->n = 0;
    for (size_t l = 0; l < splut_tables_num_layers(t); l++) {
        uint32_t neurons = 0, A = 0;
        assert_int_equal(splut_tables_layer(t, l, &neurons, &A, NULL), SPLUT_OK);
        for (uint32_t j = 0; j < neurons; j++)
            for (uint32_t a = 0; a <= A; a++) {
                if (!A && a)
                    break;
                assert_true(ids->n < 64);
                ids->layer[ids->n] = (uint32_t)l;
                ids->neuron[ids->n] = j;
                ids->table[ids->n++] = a == A && A ? SPLUT_TABLE_ADDER : a;
            }
    }
}

/* Output code of table @p id when each table whose address is a network
 * input takes bits of inputs[id] as its address: an adder reads its
 * sub-neurons; with @p chained, tables after layer 0 read the previous
 * layer's outputs (as without pipeline registers), else their own inputs. */
static uint16_t table_value(const splut_tables *t, const table_ids *ids, size_t id,
                            const uint64_t *inputs, int chained)
{
    uint32_t l = ids->layer[id], j = ids->neuron[id], tb = ids->table[id];
    splut_table_info ti = SPLUT_TABLE_INFO_INIT;
    const uint16_t *e = NULL;
    assert_int_equal(splut_tables_info(t, l, j, tb, &ti), SPLUT_OK);
    assert_int_equal(splut_tables_data(t, l, j, tb, &e), SPLUT_OK);
    uint64_t addr = 0;
    if (tb == SPLUT_TABLE_ADDER) { /* sub-neuron 0 most significant */
        for (uint32_t a = 0; a < ti.in_fields; a++)
            addr = addr << ti.in_bits |
                   table_value(t, ids, id - ti.in_fields + a, inputs, chained);
    } else if (l > 0 && chained) {
        const uint32_t *idx = NULL;
        size_t cnt = 0;
        uint32_t prev_neurons = 0, prev_A = 0;
        assert_int_equal(splut_tables_inputs(t, l, j, &idx, &cnt), SPLUT_OK);
        assert_int_equal(splut_tables_layer(t, l - 1, &prev_neurons, &prev_A, NULL), SPLUT_OK);
        for (uint32_t f = 0; f < ti.in_fields; f++) {
            uint32_t x = idx[tb * ti.in_fields + f];
            size_t src = 0; /* the output table of neuron x of layer l − 1 */
            while (ids->layer[src] != l - 1 || ids->neuron[src] != x ||
                   ids->table[src] != (prev_A ? SPLUT_TABLE_ADDER : 0u))
                src++;
            addr = addr << ti.in_bits | table_value(t, ids, src, inputs, chained);
        }
    } else {
        addr = inputs[id] & (ti.entries - 1);
    }
    return e[addr];
}

/* Every output "t<id>_o<b>" of the unmapped chunk file @p path is bit b of
 * table id's output composed as table_value() does, on random inputs. */
static void check_chunk_function(const char *path, const splut_tables *t, int chained)
{
    char *text = hdl_read(path, NULL);
    assert_non_null(text);
    char *outs = strstr(text, ".outputs ");
    assert_non_null(outs);
    char *outs_end = strchr(outs, '\n');
    *outs_end = '\0';
    char *out_list = strdup(outs + strlen(".outputs "));
    memmove(text, outs_end + 1, strlen(outs_end + 1) + 1); /* drop the port lines */
    blif_net g;
    blif_parse(text, &g);
    table_ids ids;
    list_tables(t, &ids);
    uint64_t inputs[64];
    size_t checked = 0;
    uint64_t rng = 12345;
    for (int v = 0; v < 100; v++) {
        for (size_t i = 0; i < 64; i++) {
            rng = rng * 6364136223846793005ull + 1442695040888963407ull;
            inputs[i] = rng >> 11;
        }
        for (size_t i = 0; i < g.n; i++)
            g.val[i] = -1;
        char *list = strdup(out_list), *save = NULL;
        for (char *o = strtok_r(list, " ", &save); o; o = strtok_r(NULL, " ", &save)) {
            unsigned id = 0, b = 0;
            assert_int_equal(sscanf(o, "t%u_o%u", &id, &b), 2);
            assert_true(id < ids.n);
            assert_int_equal(blif_eval(&g, o, inputs),
                             table_value(t, &ids, id, inputs, chained) >> b & 1);
            checked++;
        }
        free(list);
    }
    assert_true(checked >= 100);
    free(out_list);
    blif_free(&g);
    free(text);
}

/* PolyLUT-Add: where no register separates a layer's sub-neurons from its
 * adders (the layer pipeline, after the first layer) they are mapped as one
 * network in 5 port orders (the median count is taken), which the chunk list
 * shows; with the sub-layer pipeline every table is mapped alone. The
 * register bits are those the emitted Verilog declares. (No
 * comparison with Yosys here: on tables this small, 4-input sub-neurons,
 * Yosys merges logic across tables far more than on real networks, e.g. 38
 * LUTs against the fast count's 55; docs/hdl.md.) */
static void test_cli_synth_fast_joint(void **state)
{
    (void)state;
    if (!cli_path || (!hdl_have("yosys-abc") && !hdl_have("berkeley-abc"))) {
        fprintf(stderr, "skipping: no ABC (yosys-abc or berkeley-abc)\n");
        skip();
    }
    hdl_case c;
    case_with_model_file(&c, &hdl_cfgs[3], 604);
    assert_int_equal(run_cli(&c, "synth --model model.splut --fast --no-reset --pipeline sublayer "
                                 "--out f --json"), 0);
    char *out = cli_output(&c);
    assert_true(json_number(out, "lut") > 0);
    assert_true(json_number(out, "register_bits") ==
                declared_register_bits(&c, SPLUT_PIPE_SUBLAYER));
    free(out);
    assert_int_equal(chunk_list_lines(&c, "wide.txt"), 0);
    assert_int_equal(run_cli(&c, "synth --model model.splut --fast --no-reset --out f --json"), 0);
    out = cli_output(&c);
    assert_true(json_number(out, "lut") > 0);
    assert_true(json_number(out, "depth6") >= 1);
    assert_true(json_number(out, "register_bits") == declared_register_bits(&c, SPLUT_PIPE_LAYER));
    free(out);
    assert_int_equal(chunk_list_lines(&c, "wide.txt"), 5); /* layer 1 in 5 port orders */
    /* the joint network computes each adder over its sub-neurons */
    char path[400];
    snprintf(path, sizeof(path), "%s/f/wide.txt", c.dir);
    char *wide = hdl_read(path, NULL);
    assert_non_null(wide);
    wide[strcspn(wide, "\n")] = '\0';
    snprintf(path, sizeof(path), "%s/f/%s.blif", c.dir, wide);
    free(wide);
    check_chunk_function(path, c.t, 0);
    /* without pipeline registers the whole network is one ABC network */
    assert_int_equal(run_cli(&c, "synth --model model.splut --fast --no-reset --pipeline none "
                                 "--out f --json"), 0);
    out = cli_output(&c);
    assert_true(json_number(out, "register_bits") == 0);
    free(out);
    assert_int_equal(chunk_list_lines(&c, "narrow.txt"), 0);
    assert_int_equal(chunk_list_lines(&c, "wide.txt"), 5);
    snprintf(path, sizeof(path), "%s/f/c0.blif", c.dir);
    check_chunk_function(path, c.t, 1);
    hdl_case_free(&c);
}

/* `sparselut synth --target ice40-*`: place and route of a PolyLUT-Add model
 * gives logic cells, flip-flops, an Fmax, the latency in ns and a bitstream;
 * the up5k run goes through the serial shell. */
static void test_cli_synth_ice40(void **state)
{
    (void)state;
    if (!cli_path || !hdl_have("yosys") || !hdl_have("nextpnr-ice40") || !hdl_have("icepack")) {
        fprintf(stderr, "skipping: yosys, nextpnr-ice40 or icepack (fpga-icestorm) missing\n");
        skip();
    }
    hdl_case c;
    case_with_model_file(&c, &hdl_cfgs[3], 602);
    const char *runs[2] = {"synth --model model.splut --target ice40-hx8k --out h --json",
                           "synth --model model.splut --target ice40-up5k --serial --freq 50 "
                           "--out u --json"};
    for (int r = 0; r < 2; r++) {
        assert_int_equal(run_cli(&c, runs[r]), 0);
        char *out = cli_output(&c);
        double fmax = json_number(out, "fmax_mhz"), lat = json_number(out, "latency_cycles");
        assert_true(json_number(out, "lut4") > 0);
        assert_true(json_number(out, "ff") > 0);
        assert_true(json_number(out, "lc_used") >= json_number(out, "lut4"));
        assert_true(fmax > 1);
        assert_true(lat == 2);
        assert_true(fabs(json_number(out, "latency_ns") - lat * 1000 / fmax) < 1e-6 * lat * 1000);
        assert_true(json_number(out, "bitstream_bytes") > 1000);
        assert_non_null(strstr(out, r ? "\"serial_shell\":true" : "\"serial_shell\":false"));
        free(out);
    }
    hdl_case_free(&c);
}

int main(int argc, char **argv)
{
    /* meson passes the CLI relative to the build directory; the tests cd elsewhere. */
    static char cli_abs[4096];
    if (argc > 2 && argv[2][0] == '/') {
        cli_path = argv[2];
    } else if (argc > 2 && getcwd(cli_abs, sizeof(cli_abs) / 2)) {
        strcat(cli_abs, "/");
        strncat(cli_abs, argv[2], sizeof(cli_abs) / 2 - 2);
        cli_path = cli_abs;
    }
    const char *group = argc > 1 ? argv[1] : "api";
    const struct CMUnitTest api[] = {
        cmocka_unit_test(test_bad_arguments), cmocka_unit_test(test_latency),
        cmocka_unit_test(test_deterministic), cmocka_unit_test(test_hls_restrictions),
        cmocka_unit_test(test_two_prefixes), cmocka_unit_test(test_out_of_memory),
        cmocka_unit_test(test_atomic_emission_oom), cmocka_unit_test(test_atomic_emission_io),
        cmocka_unit_test(test_vendor_scripts), cmocka_unit_test(test_fill_dont_cares),
        cmocka_unit_test(test_fill_dont_cares_errors),
    };
    const struct CMUnitTest lint[] = {cmocka_unit_test(test_lint)};
    const struct CMUnitTest icarus[] = {cmocka_unit_test(test_icarus)};
    const struct CMUnitTest verilator[] = {cmocka_unit_test(test_verilator_one),
                                           cmocka_unit_test(test_input_verilator)};
    const struct CMUnitTest verilator_all[] = {cmocka_unit_test(test_verilator_all)};
    const struct CMUnitTest ghdl[] = {cmocka_unit_test(test_ghdl)};
    const struct CMUnitTest hls[] = {cmocka_unit_test(test_hls),
                                     cmocka_unit_test(test_dont_care_exhaustive)};
    const struct CMUnitTest input[] = {
        cmocka_unit_test(test_input_api),    cmocka_unit_test(test_input_icarus),
        cmocka_unit_test(test_input_ghdl),   cmocka_unit_test(test_input_hls),
        cmocka_unit_test(test_input_negative),
    };
    const struct CMUnitTest negative[] = {
        cmocka_unit_test(test_negative_vectors),
        cmocka_unit_test(test_negative_table_verilog),
        cmocka_unit_test(test_negative_table_vhdl),
    };
#define RUN(name, arr)                                                                          \
    if (strcmp(group, name) == 0)                                                               \
    return cmocka_run_group_tests_name(name, arr, NULL, NULL)
    RUN("api", api);
    RUN("lint", lint);
    RUN("icarus", icarus);
    RUN("verilator", verilator);
    RUN("verilator-all", verilator_all);
    RUN("ghdl", ghdl);
    RUN("hls", hls);
    RUN("negative", negative);
    RUN("input", input);
    const struct CMUnitTest cli[] = {cmocka_unit_test(test_cli_emit_verify),
                                     cmocka_unit_test(test_cli_input_stage)};
    const struct CMUnitTest synth[] = {cmocka_unit_test(test_cli_synth)};
    RUN("cli", cli);
    RUN("synth", synth);
    const struct CMUnitTest synth_fast[] = {cmocka_unit_test(test_cli_synth_fast),
                                             cmocka_unit_test(test_cli_synth_fast_wide),
                                             cmocka_unit_test(test_cli_synth_fast_joint)};
    const struct CMUnitTest ice40[] = {cmocka_unit_test(test_cli_synth_ice40)};
    RUN("synth-fast", synth_fast);
    RUN("ice40", ice40);
#undef RUN
    fprintf(stderr, "unknown test group '%s'\n", group);
    return 2;
}
