/*
 * Model files: round trips of every preset, conformance of the bytes with the
 * specification, file save/load, atomic writes, trainer checkpoints.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <dirent.h>
#include <signal.h>
#include <stdio.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "io-test.h"
#include "modelio-priv.h"
#include "train-priv.h"

static uint8_t *serialize(const splut_model *m, size_t *size)
{
    size_t n = 0;
    assert_int_equal(splut_model_serialize(m, NULL, 0, &n), SPLUT_OK);
    uint8_t *buf = malloc(n);
    assert_non_null(buf);
    size_t again = 0;
    assert_int_equal(splut_model_serialize(m, buf, n, &again), SPLUT_OK);
    assert_int_equal(again, n);
    *size = n;
    return buf;
}

/* Random valid input codes for a model. */
static uint16_t *random_codes(const splut_model *m, size_t n, uint64_t seed)
{
    size_t k = n * splut_model_num_inputs(m);
    uint16_t *c = malloc(k * sizeof(uint16_t));
    splut_rng r;
    splut__rng_seed(&r, seed);
    for (size_t i = 0; i < k; i++)
        c[i] = (uint16_t)splut__rng_below(&r, 1u << splut_model_input_bits(m));
    return c;
}

/* Same architecture, values, connectivity and metadata; same outputs. */
static void assert_models_equal(const splut_model *a, const splut_model *b)
{
    assert_int_equal(a->n_inputs, b->n_inputs);
    assert_int_equal(a->input_bits, b->input_bits);
    assert_int_equal(a->input_mode, b->input_mode);
    assert_int_equal(a->n_layers, b->n_layers);
    assert_int_equal(a->n_params, b->n_params);
    assert_int_equal(a->n_state, b->n_state);
    assert_memory_equal(a->params, b->params, a->n_params * sizeof(float));
    if (a->n_state)
        assert_memory_equal(a->state, b->state, a->n_state * sizeof(float));
    for (size_t l = 0; l < a->n_layers; l++) {
        const splut_layer *x = &a->layers[l], *y = &b->layers[l];
        assert_int_equal(x->kind, y->kind);
        assert_int_equal(x->out, y->out);
        assert_int_equal(x->F, y->F);
        assert_int_equal(x->A, y->A);
        assert_int_equal(x->D, y->D);
        assert_memory_equal(x->conn, y->conn, (size_t)x->out * x->A * x->F * sizeof(uint32_t));
    }
    assert_true(a->recipe_lr == b->recipe_lr);
    assert_true(a->recipe_wd == b->recipe_wd);
    assert_int_equal(a->recipe_batch, b->recipe_batch);
    assert_int_equal(a->recipe_epochs, b->recipe_epochs);
    assert_int_equal(a->epochs_trained, b->epochs_trained);
    assert_true(a->test_accuracy == b->test_accuracy);
    assert_string_equal(a->preset, b->preset);
    size_t n = 97;
    uint16_t *in = random_codes(a, n, 42);
    size_t outs = splut_model_num_outputs(a);
    uint16_t *oa = malloc(n * outs * sizeof(uint16_t)), *ob = malloc(n * outs * sizeof(uint16_t));
    assert_int_equal(splut_model_forward_codes(a, in, n, oa), SPLUT_OK);
    assert_int_equal(splut_model_forward_codes(b, in, n, ob), SPLUT_OK);
    assert_memory_equal(oa, ob, n * outs * sizeof(uint16_t));
    free(in);
    free(oa);
    free(ob);
}

static void test_crc32_known_values(void **state)
{
    (void)state;
    /* The standard check value of CRC-32/IEEE and an empty input. */
    assert_int_equal(splut__crc32(0, "123456789", 9), 0xCBF43926u);
    assert_int_equal(splut__crc32(0, "", 0), 0u);
    /* Chaining equals one call; the table agrees with the bitwise reference. */
    uint8_t buf[1000];
    for (size_t i = 0; i < sizeof(buf); i++)
        buf[i] = (uint8_t)(i * 131u + 7u);
    uint32_t whole = splut__crc32(0, buf, sizeof(buf));
    assert_int_equal(splut__crc32(splut__crc32(0, buf, 333), buf + 333, 667), whole);
    assert_int_equal(whole, ref_crc32(buf, sizeof(buf)));
}

/* Every preset: serialize → deserialize → serialize gives identical bytes, and
 * the loaded model computes the same codes. */
static void test_roundtrip_every_preset(void **state)
{
    (void)state;
    splut_ctx *ctx;
    assert_int_equal(splut_ctx_create(NULL, &ctx), SPLUT_OK);
    splut_ctx_set_int(ctx, SPLUT_P_MAX_TABLE_LOG2, 30);
    size_t count = 0;
    for (size_t i = 0; splut_preset_name(i); i++, count++) {
        splut_model *m;
        assert_int_equal(splut_model_create_preset(ctx, splut_preset_name(i), &m), SPLUT_OK);
        splut_rng r;
        splut__rng_seed(&r, 100 + i);
        for (size_t s = 0; s < m->n_state; s++)
            m->state[s] = (float)(0.5 + splut__rng_uniform(&r));
        splut_model_set_double(m, SPLUT_P_TEST_ACCURACY, 0.5 + 0.01 * (double)i);
        splut_model_set_int(m, SPLUT_P_EPOCHS_TRAINED, (int64_t)i);
        size_t n1, n2;
        uint8_t *b1 = serialize(m, &n1);
        splut_model *c;
        assert_int_equal(splut_model_deserialize(ctx, b1, n1, &c), SPLUT_OK);
        uint8_t *b2 = serialize(c, &n2);
        assert_int_equal(n1, n2);
        assert_memory_equal(b1, b2, n1);
        assert_models_equal(m, c);
        assert_string_equal(c->preset, splut_preset_name(i));
        free(b1);
        free(b2);
        splut_model_destroy(c);
        splut_model_destroy(m);
    }
    assert_true(count >= 10);
    splut_ctx_unref(ctx);
}

/* The library's bytes equal those of the test's own encoder of the spec, for
 * every kind and both input modes; the same model always gives the same bytes. */
static void test_bytes_match_specification(void **state)
{
    (void)state;
    splut_ctx *ctx;
    assert_int_equal(splut_ctx_create(NULL, &ctx), SPLUT_OK);
    const splut_neuron_kind kinds[4] = {SPLUT_NEURON_LINEAR, SPLUT_NEURON_POLY,
                                        SPLUT_NEURON_POLY_ADD, SPLUT_NEURON_NEURALUT};
    for (int k = 0; k < 4; k++) {
        for (int mode = 0; mode < 2; mode++) {
            splut_model *m = small_model(ctx, kinds[k], mode, 5u + (uint64_t)k);
            assert_non_null(m);
            size_t n, n2, ne;
            uint8_t *b = serialize(m, &n);
            uint8_t *b2 = serialize(m, &n2);
            assert_int_equal(n, n2);
            assert_memory_equal(b, b2, n);
            image im;
            image_from_model(m, &im);
            uint8_t *e = image_encode(&im, &ne);
            assert_int_equal(n, ne);
            assert_memory_equal(b, e, n);
            image_free(&im);
            free(e);
            free(b);
            free(b2);
            splut_model_destroy(m);
        }
    }
    splut_ctx_unref(ctx);
}

static void test_serialize_arguments(void **state)
{
    (void)state;
    splut_ctx *ctx;
    assert_int_equal(splut_ctx_create(NULL, &ctx), SPLUT_OK);
    splut_model *m = small_model(ctx, SPLUT_NEURON_POLY, 0, 1);
    size_t n = 0;
    assert_int_equal(splut_model_serialize(NULL, NULL, 0, &n), SPLUT_E_NULL);
    assert_int_equal(splut_model_serialize(m, NULL, 0, NULL), SPLUT_E_NULL);
    assert_int_equal(splut_model_serialize(m, NULL, 0, &n), SPLUT_OK);
    assert_true(n > 28);
    uint8_t *buf = malloc(n);
    size_t need = 0;
    assert_int_equal(splut_model_serialize(m, buf, n - 1, &need), SPLUT_E_BUFFER_TOO_SMALL);
    assert_int_equal(need, n);
    splut_model *out = (splut_model *)buf; /* must be reset to NULL on failure */
    assert_int_equal(splut_model_deserialize(ctx, NULL, n, &out), SPLUT_E_NULL);
    assert_int_equal(splut_model_deserialize(NULL, buf, n, &out), SPLUT_E_NULL);
    assert_int_equal(splut_model_deserialize(ctx, buf, 3, &out), SPLUT_E_FORMAT);
    assert_null(out);
    splut_model *unbuilt;
    assert_int_equal(splut_model_create(ctx, 4, 2, &unbuilt), SPLUT_OK);
    assert_int_equal(splut_model_serialize(unbuilt, NULL, 0, &n), SPLUT_E_STATE);
    assert_int_equal(splut_model_save(unbuilt, "/nonexistent/x"), SPLUT_E_STATE);
    assert_int_equal(splut_model_save(m, NULL), SPLUT_E_NULL);
    assert_int_equal(splut_model_load(ctx, NULL, &out), SPLUT_E_NULL);
    splut_model_destroy(unbuilt);
    free(buf);
    splut_model_destroy(m);
    splut_ctx_unref(ctx);
}

/* ----------------------------------------------------------------- files */

static char tmpdir[256];

static int make_tmpdir(void **state)
{
    (void)state;
    const char *base = getenv("TMPDIR");
    snprintf(tmpdir, sizeof(tmpdir), "%s/splut-io-XXXXXX", base ? base : "/tmp");
    return mkdtemp(tmpdir) ? 0 : -1;
}

/* Remove the test directory and everything in it (one level). */
static int remove_tmpdir(void **state)
{
    (void)state;
    chmod(tmpdir, 0700);
    DIR *d = opendir(tmpdir);
    if (d) {
        struct dirent *e;
        char p[600];
        while ((e = readdir(d)))
            if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) {
                snprintf(p, sizeof(p), "%s/%s", tmpdir, e->d_name);
                chmod(p, 0700);
                rmdir(p);
                unlink(p);
            }
        closedir(d);
    }
    rmdir(tmpdir);
    return 0;
}

static int count_entries(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d)
        return -1;
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)))
        n += strcmp(e->d_name, ".") && strcmp(e->d_name, "..");
    closedir(d);
    return n;
}

static uint8_t *slurp(const char *path, size_t *size)
{
    *size = 0;
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    uint8_t *b = malloc((size_t)n + 1);
    *size = fread(b, 1, (size_t)n, f);
    fclose(f);
    return b;
}

static void test_save_load_file(void **state)
{
    (void)state;
    splut_ctx *ctx;
    assert_int_equal(splut_ctx_create(NULL, &ctx), SPLUT_OK);
    splut_model *m = small_model(ctx, SPLUT_NEURON_POLY_ADD, 0, 3);
    char path[400];
    snprintf(path, sizeof(path), "%s/model.splut", tmpdir);
    assert_int_equal(splut_model_save(m, path), SPLUT_OK);
    size_t n, fn;
    uint8_t *b = serialize(m, &n);
    uint8_t *f = slurp(path, &fn);
    assert_non_null(f);
    assert_int_equal(fn, n);
    assert_memory_equal(b, f, n);
    free(f);
    splut_model *c;
    assert_int_equal(splut_model_load(ctx, path, &c), SPLUT_OK);
    assert_models_equal(m, c);
    /* Saving over an existing file replaces it; no temp files stay behind. */
    splut_model *m2 = small_model(ctx, SPLUT_NEURON_LINEAR, 1, 4);
    assert_int_equal(splut_model_save(m2, path), SPLUT_OK);
    splut_model *c2;
    assert_int_equal(splut_model_load(ctx, path, &c2), SPLUT_OK);
    assert_models_equal(m2, c2);
    assert_int_equal(count_entries(tmpdir), 1);
    /* Missing file and a directory are I/O errors. */
    char missing[400];
    snprintf(missing, sizeof(missing), "%s/none", tmpdir);
    splut_model *x = NULL;
    assert_int_equal(splut_model_load(ctx, missing, &x), SPLUT_E_IO);
    assert_null(x);
    assert_int_equal(splut_model_load(ctx, tmpdir, &x), SPLUT_E_IO);
    assert_non_null(strstr(splut_ctx_last_error(ctx), tmpdir));
    unlink(path);
    free(b);
    splut_model_destroy(c2);
    splut_model_destroy(m2);
    splut_model_destroy(c);
    splut_model_destroy(m);
    splut_ctx_unref(ctx);
}

/* A write that fails part-way (file size limit, which even root cannot
 * bypass) leaves the old file untouched and no temp file behind. */
static void test_atomic_write_failure_keeps_old_file(void **state)
{
    (void)state;
    splut_ctx *ctx;
    assert_int_equal(splut_ctx_create(NULL, &ctx), SPLUT_OK);
    splut_model *small = small_model(ctx, SPLUT_NEURON_LINEAR, 0, 1);
    splut_model *big;
    assert_int_equal(splut_model_create_preset(ctx, "jsc-s", &big), SPLUT_OK);
    char path[400];
    snprintf(path, sizeof(path), "%s/keep.splut", tmpdir);
    assert_int_equal(splut_model_save(small, path), SPLUT_OK);
    size_t n0 = 0, n1 = 0;
    uint8_t *before = slurp(path, &n0);

    struct rlimit old, lim;
    assert_int_equal(getrlimit(RLIMIT_FSIZE, &old), 0);
    void (*prev)(int) = signal(SIGXFSZ, SIG_IGN);
    lim = old;
    lim.rlim_cur = (rlim_t)n0 + 16; /* the big model does not fit */
    assert_int_equal(setrlimit(RLIMIT_FSIZE, &lim), 0);
    splut_status st = splut_model_save(big, path);
    setrlimit(RLIMIT_FSIZE, &old);
    signal(SIGXFSZ, prev);
    assert_int_equal(st, SPLUT_E_IO);
    assert_non_null(strstr(splut_ctx_last_error(ctx), path));

    uint8_t *after = slurp(path, &n1);
    assert_int_equal(n0, n1);
    assert_memory_equal(before, after, n0);
    assert_int_equal(count_entries(tmpdir), 1);
    unlink(path);
    free(before);
    free(after);
    splut_model_destroy(big);
    splut_model_destroy(small);
    splut_ctx_unref(ctx);
}

/* Target directory not writable (or missing): SPLUT_E_IO, nothing created. */
static void test_atomic_write_unwritable_dir(void **state)
{
    (void)state;
    splut_ctx *ctx;
    assert_int_equal(splut_ctx_create(NULL, &ctx), SPLUT_OK);
    splut_model *m = small_model(ctx, SPLUT_NEURON_POLY, 0, 2);
    char dir[400], path[500];
    snprintf(dir, sizeof(dir), "%s/ro", tmpdir);
    assert_int_equal(mkdir(dir, 0700), 0);
    snprintf(path, sizeof(path), "%s/missing/model.splut", dir);
    assert_int_equal(splut_model_save(m, path), SPLUT_E_IO);
    assert_int_equal(count_entries(dir), 0);
    snprintf(path, sizeof(path), "%s/model.splut", dir);
    assert_int_equal(chmod(dir, 0500), 0);
    if (geteuid() != 0) { /* root ignores directory permissions */
        assert_int_equal(splut_model_save(m, path), SPLUT_E_IO);
        assert_int_equal(count_entries(dir), 0);
    }
    chmod(dir, 0700);
    rmdir(dir);
    splut_model_destroy(m);
    splut_ctx_unref(ctx);
}

/* A failed allocation while saving leaves an existing file as it was. */
static void test_save_nomem_keeps_old_file(void **state)
{
    (void)state;
    count_alloc ca;
    splut_ctx *ctx = ca_ctx(&ca);
    splut_model *m = small_model(ctx, SPLUT_NEURON_POLY, 0, 2);
    splut_model *m2 = small_model(ctx, SPLUT_NEURON_POLY, 0, 9);
    char path[400];
    snprintf(path, sizeof(path), "%s/nomem.splut", tmpdir);
    assert_int_equal(splut_model_save(m, path), SPLUT_OK);
    size_t n0 = 0, n1 = 0;
    uint8_t *before = slurp(path, &n0);
    int failures = 0;
    for (long k = 0;; k++) {
        counting_fail_at(&ca, k);
        splut_status st = splut_model_save(m2, path);
        counting_disarm(&ca);
        if (st == SPLUT_OK)
            break;
        assert_int_equal(st, SPLUT_E_NOMEM);
        uint8_t *after = slurp(path, &n1);
        assert_int_equal(n0, n1);
        assert_memory_equal(before, after, n0);
        free(after);
        assert_int_equal(count_entries(tmpdir), 1);
        failures++;
    }
    assert_true(failures >= 1);
    unlink(path);
    free(before);
    splut_model_destroy(m2);
    splut_model_destroy(m);
    splut_ctx_unref(ctx);
    assert_int_equal(ca.live, 0);
}

/* ---------------------------------------------------------------- trainer */

static void random_batch(const splut_model *m, size_t n, uint64_t seed, float *x, int32_t *y)
{
    splut_rng r;
    splut__rng_seed(&r, seed);
    for (size_t i = 0; i < n * splut_model_num_inputs(m); i++)
        x[i] = (float)splut__rng_normal(&r);
    uint32_t outs = splut_model_num_outputs(m);
    for (size_t i = 0; i < n; i++)
        y[i] = (int32_t)splut__rng_below(&r, outs == 1 ? 2 : outs);
}

/* Save a trainer mid-run, load it into a fresh trainer of a differently
 * initialised model: the next steps are bit-identical to the original's. */
static void test_trainer_resume_bit_exact(void **state)
{
    (void)state;
    const splut_neuron_kind kinds[4] = {SPLUT_NEURON_LINEAR, SPLUT_NEURON_POLY,
                                        SPLUT_NEURON_POLY_ADD, SPLUT_NEURON_NEURALUT};
    for (int k = 0; k < 4; k++) {
        splut_ctx *ctx;
        assert_int_equal(splut_ctx_create(NULL, &ctx), SPLUT_OK);
        splut_model *m = small_model(ctx, kinds[k], 0, 11);
        splut_trainer *t;
        assert_int_equal(splut_trainer_create(m, &t), SPLUT_OK);
        splut_trainer_set_int(t, SPLUT_P_RESTART_PERIOD, 7);
        splut_trainer_set_double(t, SPLUT_P_LEARNING_RATE, 0.02);
        enum { B = 16 };
        float x[B * 6];
        int32_t y[B];
        for (int s = 0; s < 5; s++) {
            random_batch(m, B, 1000u + (uint64_t)s, x, y);
            assert_int_equal(splut_trainer_step(t, x, y, B, NULL), SPLUT_OK);
        }
        char path[400];
        snprintf(path, sizeof(path), "%s/ckpt.splut", tmpdir);
        assert_int_equal(splut_trainer_save(t, path), SPLUT_OK);

        splut_ctx_set_int(ctx, SPLUT_P_SEED, 999); /* different init and wiring */
        splut_model *m2 = small_model(ctx, kinds[k], 0, 77);
        splut_trainer *t2;
        assert_int_equal(splut_trainer_create(m2, &t2), SPLUT_OK);
        /* Rewired before the load: the loaded moments must survive the next step. */
        assert_int_equal(splut_model_randomize_connectivity(m2, 5), SPLUT_OK);
        assert_int_equal(splut_trainer_load(t2, path), SPLUT_OK);
        assert_models_equal(m, m2);
        assert_int_equal(t2->step, 5);
        assert_memory_equal(t->m1, t2->m1, m->n_params * sizeof(float));
        assert_memory_equal(t->m2, t2->m2, m->n_params * sizeof(float));
        for (int s = 5; s < 8; s++) {
            random_batch(m, B, 1000u + (uint64_t)s, x, y);
            double l1, l2;
            assert_int_equal(splut_trainer_step(t, x, y, B, &l1), SPLUT_OK);
            assert_int_equal(splut_trainer_step(t2, x, y, B, &l2), SPLUT_OK);
            assert_true(l1 == l2);
            assert_memory_equal(m->params, m2->params, m->n_params * sizeof(float));
            assert_memory_equal(m->state, m2->state, m->n_state * sizeof(float));
        }
        /* A checkpoint is also a model file. */
        splut_model *c;
        assert_int_equal(splut_model_load(ctx, path, &c), SPLUT_OK);
        assert_int_equal(c->n_params, m->n_params);
        splut_model_destroy(c);
        unlink(path);
        splut_trainer_destroy(t2);
        splut_trainer_destroy(t);
        splut_model_destroy(m2);
        splut_model_destroy(m);
        splut_ctx_unref(ctx);
    }
}

/* Learned connectivity: saving is refused during phase 1; after the switch a
 * checkpoint restores the schedule (which fixes AdamW's bias correction) so
 * that resuming — even into a trainer that had started phase 1 — is bit-exact. */
static void test_trainer_resume_learned_connectivity(void **state)
{
    (void)state;
    splut_ctx *ctx;
    assert_int_equal(splut_ctx_create(NULL, &ctx), SPLUT_OK);
    splut_model *m = small_model(ctx, SPLUT_NEURON_POLY, 0, 31);
    splut_model *m2 = small_model(ctx, SPLUT_NEURON_POLY, 0, 32);
    splut_trainer *t, *t2;
    assert_int_equal(splut_trainer_create(m, &t), SPLUT_OK);
    assert_int_equal(splut_trainer_create(m2, &t2), SPLUT_OK);
    assert_int_equal(splut_trainer_set_int(t, SPLUT_P_CONNECTIVITY, 1), SPLUT_OK);
    assert_int_equal(splut_trainer_set_int(t, SPLUT_P_STEPS_PER_EPOCH, 2), SPLUT_OK);
    assert_int_equal(splut_trainer_set_int(t, SPLUT_P_SWITCH_EPOCH, 1), SPLUT_OK);
    assert_int_equal(splut_trainer_set_double(t, SPLUT_P_CONN_L1, 2e-3), SPLUT_OK);
    assert_int_equal(splut_trainer_set_int(t2, SPLUT_P_CONNECTIVITY, 1), SPLUT_OK);
    assert_int_equal(splut_trainer_set_int(t2, SPLUT_P_STEPS_PER_EPOCH, 5), SPLUT_OK);
    assert_int_equal(splut_trainer_set_int(t2, SPLUT_P_SWITCH_EPOCH, 3), SPLUT_OK);
    enum { B = 16 };
    float x[B * 6];
    int32_t y[B];
    char path[400];
    snprintf(path, sizeof(path), "%s/learned.ckpt", tmpdir);
    random_batch(m, B, 500, x, y);
    assert_int_equal(splut_trainer_step(t, x, y, B, NULL), SPLUT_OK); /* phase 1 */
    assert_int_equal(splut_trainer_save(t, path), SPLUT_E_STATE);
    const splut_model *sur = splut_trainer_model_in_training(t);
    assert_ptr_not_equal(sur, m);
    size_t need = 0;
    assert_int_equal(splut_model_serialize(sur, NULL, 0, &need), SPLUT_E_STATE);
    assert_int_equal(splut_model_save(sur, path), SPLUT_E_STATE);
    assert_int_equal(splut_trainer_step(t2, x, y, B, NULL), SPLUT_OK); /* t2 in phase 1 too */
    for (int s = 1; s < 5; s++) { /* the switch comes after step 2 */
        random_batch(m, B, 500u + (uint64_t)s, x, y);
        assert_int_equal(splut_trainer_step(t, x, y, B, NULL), SPLUT_OK);
    }
    assert_int_equal(splut_trainer_save(t, path), SPLUT_OK);
    assert_int_equal(splut_trainer_load(t2, path), SPLUT_OK);
    assert_models_equal(m, m2);
    const splut_param ints[4] = {SPLUT_P_STEP, SPLUT_P_CONNECTIVITY, SPLUT_P_STEPS_PER_EPOCH,
                                 SPLUT_P_SWITCH_EPOCH};
    for (int i = 0; i < 4; i++) {
        int64_t a, b;
        splut_trainer_get_int(t, ints[i], &a);
        splut_trainer_get_int(t2, ints[i], &b);
        assert_int_equal(a, b);
    }
    double l1;
    splut_trainer_get_double(t2, SPLUT_P_CONN_L1, &l1);
    assert_true(l1 == 2e-3);
    for (int s = 5; s < 8; s++) {
        random_batch(m, B, 500u + (uint64_t)s, x, y);
        double la, lb;
        assert_int_equal(splut_trainer_step(t, x, y, B, &la), SPLUT_OK);
        assert_int_equal(splut_trainer_step(t2, x, y, B, &lb), SPLUT_OK);
        assert_true(la == lb);
        assert_memory_equal(m->params, m2->params, m->n_params * sizeof(float));
    }
    unlink(path);
    splut_trainer_destroy(t2);
    splut_trainer_destroy(t);
    splut_model_destroy(m2);
    splut_model_destroy(m);
    splut_ctx_unref(ctx);
}

/* Architecture mismatch → SPLUT_E_INVALID; a plain model file → SPLUT_E_FORMAT;
 * in both cases the trainer and its model are unchanged. */
static void test_trainer_load_refusals(void **state)
{
    (void)state;
    splut_ctx *ctx;
    assert_int_equal(splut_ctx_create(NULL, &ctx), SPLUT_OK);
    splut_model *m = small_model(ctx, SPLUT_NEURON_POLY, 0, 1);
    splut_model *other = small_model(ctx, SPLUT_NEURON_LINEAR, 0, 1);
    splut_trainer *t, *to;
    assert_int_equal(splut_trainer_create(m, &t), SPLUT_OK);
    assert_int_equal(splut_trainer_create(other, &to), SPLUT_OK);
    char ck[400], plain[400];
    snprintf(ck, sizeof(ck), "%s/other.ckpt", tmpdir);
    snprintf(plain, sizeof(plain), "%s/plain.splut", tmpdir);
    assert_int_equal(splut_trainer_save(to, ck), SPLUT_OK);
    assert_int_equal(splut_model_save(m, plain), SPLUT_OK);
    size_t n0 = 0, n1 = 0;
    uint8_t *before = serialize(m, &n0);
    t->step = 3;
    assert_int_equal(splut_trainer_load(t, ck), SPLUT_E_INVALID);
    assert_int_equal(splut_trainer_load(t, plain), SPLUT_E_FORMAT);
    assert_int_equal(splut_trainer_load(t, NULL), SPLUT_E_NULL);
    assert_int_equal(splut_trainer_load(NULL, ck), SPLUT_E_NULL);
    assert_int_equal(splut_trainer_save(NULL, ck), SPLUT_E_NULL);
    uint8_t *after = serialize(m, &n1);
    assert_int_equal(n0, n1);
    assert_memory_equal(before, after, n0);
    assert_int_equal(t->step, 3);
    unlink(ck);
    unlink(plain);
    free(before);
    free(after);
    splut_trainer_destroy(to);
    splut_trainer_destroy(t);
    splut_model_destroy(other);
    splut_model_destroy(m);
    splut_ctx_unref(ctx);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_crc32_known_values),
        cmocka_unit_test(test_roundtrip_every_preset),
        cmocka_unit_test(test_bytes_match_specification),
        cmocka_unit_test(test_serialize_arguments),
        cmocka_unit_test(test_save_load_file),
        cmocka_unit_test(test_atomic_write_failure_keeps_old_file),
        cmocka_unit_test(test_atomic_write_unwritable_dir),
        cmocka_unit_test(test_save_nomem_keeps_old_file),
        cmocka_unit_test(test_trainer_resume_bit_exact),
        cmocka_unit_test(test_trainer_resume_learned_connectivity),
        cmocka_unit_test(test_trainer_load_refusals),
    };
    return cmocka_run_group_tests(tests, make_tmpdir, remove_tmpdir);
}
