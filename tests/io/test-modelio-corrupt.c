/*
 * Model files under attack: flipped bytes, truncation, wrong magic/version,
 * files with a valid CRC but inconsistent content, allocation failure.
 * Crafted files come from the test's own encoder (io-test.h), never from
 * the library's writer.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <unistd.h>

#include "io-test.h"
#include "train-priv.h"

/* Shared fixture: a counting context and a small POLY_ADD model with a trainer. */
typedef struct fixture {
    count_alloc ca;
    splut_ctx *ctx;
    splut_model *m;
    splut_trainer *t;
} fixture;

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof(*f));
    f->ctx = ca_ctx(&f->ca);
    f->m = small_model(f->ctx, SPLUT_NEURON_POLY_ADD, 0, 21);
    if (!f->m || splut_trainer_create(f->m, &f->t) != SPLUT_OK)
        return -1;
    for (size_t i = 0; i < f->m->n_params; i++) { /* non-trivial optimiser state */
        f->t->m1[i] = 0.001f * (float)i;
        f->t->m2[i] = 0.0001f * (float)i;
    }
    /* Non-default connectivity-learning settings, as after a phase-1 switch. */
    splut_trainer_set_int(f->t, SPLUT_P_CONNECTIVITY, 1);
    splut_trainer_set_int(f->t, SPLUT_P_STEPS_PER_EPOCH, 3);
    splut_trainer_set_int(f->t, SPLUT_P_SWITCH_EPOCH, 2);
    splut_trainer_set_double(f->t, SPLUT_P_CONN_TAU, 1.5);
    f->t->conn_switched = true;
    f->t->step = 12;
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    splut_trainer_destroy(f->t);
    splut_model_destroy(f->m);
    splut_ctx_unref(f->ctx);
    int leaked = f->ca.live != 0;
    free(f);
    return leaked ? -1 : 0;
}

/* The model (and optionally its trainer) as an editable image. */
static void fixture_image(const fixture *f, bool trainer, image *im)
{
    image_from_model(f->m, im);
    if (!trainer)
        return;
    const splut_param dkeys[10] = {SPLUT_P_LEARNING_RATE, SPLUT_P_WEIGHT_DECAY, SPLUT_P_BETA1,
                                   SPLUT_P_BETA2,         SPLUT_P_ADAM_EPS,     SPLUT_P_LR_MIN,
                                   SPLUT_P_CONN_TAU,      SPLUT_P_CONN_L1,
                                   SPLUT_P_CONN_TEMPERATURE, SPLUT_P_CONN_INIT};
    const splut_param ikeys[7] = {SPLUT_P_RESTART_PERIOD, SPLUT_P_STEP,
                                  SPLUT_P_CONNECTIVITY,   SPLUT_P_STEPS_PER_EPOCH,
                                  SPLUT_P_SWITCH_EPOCH,   SPLUT_P_CONN_REGROW,
                                  SPLUT_P_CONN_CANDIDATES};
    for (int i = 0; i < 10; i++)
        assert_int_equal(splut_trainer_get_double(f->t, dkeys[i], &im->hyper[i]), SPLUT_OK);
    for (int i = 0; i < 7; i++)
        assert_int_equal(splut_trainer_get_int(f->t, ikeys[i], &im->ints[i]), SPLUT_OK);
    im->switched = f->t->conn_switched; /* no public accessor */
    im->flags = 1;
    im->n_moments = im->len_moments = f->m->n_params;
    im->m1 = malloc(im->len_moments * sizeof(float) + 4);
    im->m2 = malloc(im->len_moments * sizeof(float) + 4);
    memcpy(im->m1, f->t->m1, im->len_moments * sizeof(float));
    memcpy(im->m2, f->t->m2, im->len_moments * sizeof(float));
}

/* Deserialize and check that a failure leaves no model and no leak. */
static splut_status try_load(fixture *f, const uint8_t *buf, size_t n)
{
    long live = f->ca.live;
    splut_model *out = (splut_model *)f; /* must be reset */
    splut_status st = splut_model_deserialize(f->ctx, buf, n, &out);
    if (st == SPLUT_OK) {
        assert_non_null(out);
        splut_model_destroy(out);
    } else {
        assert_null(out);
        assert_true(strlen(splut_ctx_last_error(f->ctx)) > 0);
    }
    assert_int_equal(f->ca.live, live);
    return st;
}

static uint8_t *lib_bytes(const splut_model *m, size_t *n)
{
    assert_int_equal(splut_model_serialize(m, NULL, 0, n), SPLUT_OK);
    uint8_t *b = malloc(*n);
    assert_int_equal(splut_model_serialize(m, b, *n, n), SPLUT_OK);
    return b;
}

static void test_pristine_files_load(void **state)
{
    fixture *f = *state;
    for (int tr = 0; tr < 2; tr++) {
        image im;
        fixture_image(f, tr, &im);
        size_t n;
        uint8_t *b = image_encode(&im, &n);
        assert_int_equal(try_load(f, b, n), SPLUT_OK);
        free(b);
        image_free(&im);
    }
}

/* Any flipped byte: checksum or format error, never success, never a crash. */
static void test_flipped_byte_anywhere(void **state)
{
    fixture *f = *state;
    for (int tr = 0; tr < 2; tr++) {
        image im;
        fixture_image(f, tr, &im);
        size_t n;
        uint8_t *good = image_encode(&im, &n);
        uint8_t *b = malloc(n);
        const uint8_t masks[3] = {0x01, 0x80, 0xff};
        size_t tried = 0;
        for (size_t off = 0; off < n; off++) {
            for (int k = 0; k < 3; k++) {
                memcpy(b, good, n);
                b[off] ^= masks[k];
                splut_status st = try_load(f, b, n);
                if (st != SPLUT_E_CHECKSUM && st != SPLUT_E_FORMAT)
                    fail_msg("flip 0x%02x at offset %zu gave %s", masks[k], off,
                             splut_status_str(st));
                tried++;
            }
        }
        assert_true(tried == 3 * n);
        free(b);
        free(good);
        image_free(&im);
    }
}

static void test_truncated_at_every_length(void **state)
{
    fixture *f = *state;
    for (int tr = 0; tr < 2; tr++) {
        image im;
        fixture_image(f, tr, &im);
        size_t n;
        uint8_t *good = image_encode(&im, &n);
        for (size_t len = 0; len < n; len++) {
            uint8_t *b = malloc(len ? len : 1); /* exact size: overreads hit ASan */
            memcpy(b, good, len);
            splut_status st = try_load(f, b, len);
            if (st != SPLUT_E_FORMAT)
                fail_msg("truncation to %zu of %zu bytes gave %s", len, n, splut_status_str(st));
            free(b);
        }
        free(good);
        image_free(&im);
    }
}

/* Version 1 files (no GroupSum temperature in META) still load, with τ at
 * its documented default; a version 2 file stores τ, checked against its range. */
static void test_version1_and_tau(void **state)
{
    fixture *f = *state;
    image im;
    fixture_image(f, false, &im);
    im.version = 1;
    im.tau = 123.0; /* not written in version 1 */
    size_t n;
    uint8_t *b = image_encode(&im, &n);
    splut_model *m = NULL;
    assert_int_equal(splut_model_deserialize(f->ctx, b, n, &m), SPLUT_OK);
    double tau = 0.0;
    assert_int_equal(splut_model_get_double(m, SPLUT_P_GROUPSUM_TAU, &tau), SPLUT_OK);
    assert_true(tau == 1.0 / 0.3);
    splut_model_destroy(m);
    free(b);
    im.version = 2;
    im.tau = 2.5;
    b = image_encode(&im, &n);
    assert_int_equal(splut_model_deserialize(f->ctx, b, n, &m), SPLUT_OK);
    assert_int_equal(splut_model_get_double(m, SPLUT_P_GROUPSUM_TAU, &tau), SPLUT_OK);
    assert_true(tau == 2.5);
    splut_model_destroy(m);
    free(b);
    const double bad[3] = {0.0, -1.0, NAN};
    for (int i = 0; i < 3; i++) {
        im.tau = bad[i];
        b = image_encode(&im, &n);
        assert_int_equal(try_load(f, b, n), SPLUT_E_FORMAT);
        assert_non_null(strstr(splut_ctx_last_error(f->ctx), "groupsum_tau"));
        free(b);
    }
    image_free(&im);
}

static void test_wrong_version_and_magic(void **state)
{
    fixture *f = *state;
    image im;
    fixture_image(f, false, &im);
    const uint32_t versions[3] = {0, 3, 0xffffffffu};
    for (int i = 0; i < 3; i++) {
        im.version = versions[i];
        size_t n;
        uint8_t *b = image_encode(&im, &n);
        assert_int_equal(try_load(f, b, n), SPLUT_E_VERSION);
        assert_non_null(strstr(splut_ctx_last_error(f->ctx), "version"));
        free(b);
    }
    im.version = 2;
    memcpy(im.magic, "SPLUTMDX", 8);
    size_t n;
    uint8_t *b = image_encode(&im, &n);
    assert_int_equal(try_load(f, b, n), SPLUT_E_FORMAT);
    assert_non_null(strstr(splut_ctx_last_error(f->ctx), "magic"));
    free(b);
    image_free(&im);
}

/* One crafted case: edit the image, encode with a valid CRC, expect a status. */
typedef void (*edit_fn)(const fixture *f, image *im);

static void expect_crafted(fixture *f, bool trainer, edit_fn edit, splut_status want,
                           const char *name)
{
    image im;
    fixture_image(f, trainer, &im);
    edit(f, &im);
    size_t n;
    uint8_t *b = image_encode(&im, &n);
    f->ca.largest = 0;
    splut_status st = try_load(f, b, n);
    if (st != want)
        fail_msg("%s: got %s, want %s (%s)", name, splut_status_str(st), splut_status_str(want),
                 splut_ctx_last_error(f->ctx));
    if (!strstr(splut_ctx_last_error(f->ctx), "offset"))
        fail_msg("%s: message does not name an offset: %s", name, splut_ctx_last_error(f->ctx));
    /* Hostile counts never turn into large allocations. */
    if (f->ca.largest > 64 * 1024)
        fail_msg("%s: allocated %zu bytes for a %zu-byte file", name, f->ca.largest, n);
    free(b);
    image_free(&im);
}

#define EDIT(name, body)                                     \
    static void name(const fixture *f, image *im)            \
    {                                                        \
        (void)f;                                             \
        body;                                                \
    }

EDIT(huge_layer_count, im->n_layers = 0xffffffffu)
EDIT(one_layer_too_many, im->n_layers = 3; im->n_records = 2)
EDIT(zero_layers, im->n_layers = 0)
EDIT(huge_width, im->layer[0][1] = 0x7fffffffu)
EDIT(huge_param_count, im->n_params = (uint64_t)1 << 62)
EDIT(huge_state_count, im->n_state = (uint64_t)1 << 61)
EDIT(param_count_off_by_one, im->n_params += 1; im->params[im->len_params++] = 0.5f)
EDIT(state_count_off_by_one, im->n_state -= 1; im->len_state -= 1)
EDIT(conn_too_short, im->n_conn -= 1)
EDIT(conn_unsorted, uint32_t x = im->conn[0]; im->conn[0] = im->conn[1]; im->conn[1] = x)
EDIT(conn_duplicate, im->conn[1] = im->conn[0])
EDIT(conn_out_of_range, im->conn[3] = 6) /* layer 0 reads 6 inputs: 0..5 */
EDIT(param_nan, im->params[5] = NAN)
EDIT(param_inf, im->params[im->len_params - 1] = -INFINITY)
EDIT(state_nan, im->state[0] = NAN)
EDIT(negative_variance, im->state[f->m->layers[1].run_var] = -1.0f)
EDIT(zero_width, im->layer[1][1] = 0)
EDIT(zero_fan_in, im->layer[0][2] = 0)
EDIT(unknown_kind, im->layer[0][0] = 7)
EDIT(fan_in_above_width, im->layer[0][2] = 4) /* A·F = 8 > 6 inputs */
EDIT(bits_too_wide, im->layer[0][3] = 9)
EDIT(zero_inputs, im->n_inputs = 0)
EDIT(input_bits_zero, im->input_bits = 0)
EDIT(bad_input_mode, im->input_mode = 5)
EDIT(lr_zero, im->lr = 0.0)
EDIT(lr_nan, im->lr = NAN)
EDIT(batch_zero, im->batch = 0)
EDIT(trained_negative, im->trained = -1)
EDIT(accuracy_above_one, im->acc = 1.5)
EDIT(preset_unterminated, memset(im->preset, 'a', 32))
EDIT(preset_garbage_after_nul, im->preset[30] = 'x')
EDIT(preset_control_char, im->preset[0] = '\n')
EDIT(unknown_flag, im->flags |= 2u)
EDIT(trailing_bytes, im->extra = 8)
EDIT(moment_count_mismatch, im->n_moments -= 1; im->len_moments -= 1)
EDIT(moment_nan, im->m1[2] = NAN)
EDIT(second_moment_negative, im->m2[1] = -1e-3f)
EDIT(beta1_one, im->hyper[2] = 1.0)
EDIT(step_negative, im->ints[1] = -5)
EDIT(eps_zero, im->hyper[4] = 0.0)
EDIT(step_rounds_into_range, im->ints[1] = ((int64_t)1 << 53) + 1) /* (double) would round to 2^53 */
EDIT(epochs_huge, im->epochs = INT64_MAX)
EDIT(connectivity_mode_three, im->ints[2] = 3) /* 0..2 are valid */
EDIT(candidates_zero, im->ints[6] = 0)
EDIT(conn_tau_nan, im->hyper[6] = NAN)
EDIT(switched_two, im->switched = 2)
EDIT(trainer_reserved, im->reserved = 1)

static void test_crafted_valid_crc(void **state)
{
    fixture *f = *state;
    static const struct {
        edit_fn edit;
        bool trainer;
        splut_status want;
        const char *name;
    } cases[] = {
#define CASE(fn, tr, st) {fn, tr, st, #fn}
        CASE(huge_layer_count, false, SPLUT_E_FORMAT),
        CASE(one_layer_too_many, false, SPLUT_E_FORMAT),
        CASE(zero_layers, false, SPLUT_E_FORMAT),
        CASE(huge_width, false, SPLUT_E_FORMAT),
        CASE(huge_param_count, false, SPLUT_E_FORMAT),
        CASE(huge_state_count, false, SPLUT_E_FORMAT),
        CASE(param_count_off_by_one, false, SPLUT_E_FORMAT),
        CASE(state_count_off_by_one, false, SPLUT_E_FORMAT),
        CASE(conn_too_short, false, SPLUT_E_FORMAT),
        CASE(conn_unsorted, false, SPLUT_E_CONNECTIVITY),
        CASE(conn_duplicate, false, SPLUT_E_CONNECTIVITY),
        CASE(conn_out_of_range, false, SPLUT_E_CONNECTIVITY),
        CASE(param_nan, false, SPLUT_E_FORMAT),
        CASE(param_inf, false, SPLUT_E_FORMAT),
        CASE(state_nan, false, SPLUT_E_FORMAT),
        CASE(negative_variance, false, SPLUT_E_FORMAT),
        /* shape errors keep splut_model_create/add_layer's own status */
        CASE(zero_width, false, SPLUT_E_OUT_OF_RANGE),
        CASE(zero_fan_in, false, SPLUT_E_OUT_OF_RANGE),
        CASE(unknown_kind, false, SPLUT_E_INVALID),
        CASE(fan_in_above_width, false, SPLUT_E_FAN_IN),
        CASE(bits_too_wide, false, SPLUT_E_OUT_OF_RANGE),
        CASE(zero_inputs, false, SPLUT_E_OUT_OF_RANGE),
        CASE(input_bits_zero, false, SPLUT_E_OUT_OF_RANGE),
        CASE(bad_input_mode, false, SPLUT_E_OUT_OF_RANGE),
        CASE(lr_zero, false, SPLUT_E_FORMAT),
        CASE(lr_nan, false, SPLUT_E_FORMAT),
        CASE(batch_zero, false, SPLUT_E_FORMAT),
        CASE(trained_negative, false, SPLUT_E_FORMAT),
        CASE(accuracy_above_one, false, SPLUT_E_FORMAT),
        CASE(preset_unterminated, false, SPLUT_E_FORMAT),
        CASE(preset_garbage_after_nul, false, SPLUT_E_FORMAT),
        CASE(preset_control_char, false, SPLUT_E_FORMAT),
        CASE(unknown_flag, false, SPLUT_E_FORMAT),
        CASE(trailing_bytes, false, SPLUT_E_FORMAT),
        CASE(moment_count_mismatch, true, SPLUT_E_FORMAT),
        CASE(moment_nan, true, SPLUT_E_FORMAT),
        CASE(second_moment_negative, true, SPLUT_E_FORMAT),
        CASE(beta1_one, true, SPLUT_E_FORMAT),
        CASE(step_negative, true, SPLUT_E_FORMAT),
        CASE(eps_zero, true, SPLUT_E_FORMAT),
        CASE(step_rounds_into_range, true, SPLUT_E_FORMAT),
        CASE(epochs_huge, false, SPLUT_E_FORMAT),
        CASE(connectivity_mode_three, true, SPLUT_E_FORMAT),
        CASE(candidates_zero, true, SPLUT_E_FORMAT),
        CASE(conn_tau_nan, true, SPLUT_E_FORMAT),
        CASE(switched_two, true, SPLUT_E_FORMAT),
        CASE(trainer_reserved, true, SPLUT_E_FORMAT),
#undef CASE
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        expect_crafted(f, cases[i].trainer, cases[i].edit, cases[i].want, cases[i].name);
}

/* Raw edits of the section framing (tag, length, flag without section). */
static void test_crafted_framing(void **state)
{
    fixture *f = *state;
    size_t n;
    uint8_t *good = lib_bytes(f->m, &n);
    uint8_t *b = malloc(n);
    /* ARCH tag at 24, its length at 28. */
    memcpy(b, good, n);
    b[27] = 'X';
    refresh_crc(b, n);
    assert_int_equal(try_load(f, b, n), SPLUT_E_FORMAT);
    const uint64_t lens[3] = {(uint64_t)1 << 63, n, 1};
    for (int i = 0; i < 3; i++) {
        memcpy(b, good, n);
        for (int k = 0; k < 8; k++)
            b[28 + k] = (uint8_t)(lens[i] >> (8 * k));
        refresh_crc(b, n);
        assert_int_equal(try_load(f, b, n), SPLUT_E_FORMAT);
    }
    memcpy(b, good, n);
    b[12] = 1; /* trainer flag but no TRNR section */
    refresh_crc(b, n);
    assert_int_equal(try_load(f, b, n), SPLUT_E_FORMAT);
    /* Declared size differs from the data: truncated or padded. */
    memcpy(b, good, n);
    b[16] ^= 4;
    refresh_crc(b, n);
    assert_int_equal(try_load(f, b, n), SPLUT_E_FORMAT);
    free(b);
    free(good);
}

/* Equivalent spellings add_layer accepts (LINEAR degree 0, POLY sub-neurons 1)
 * are refused in a file: each model has exactly one encoding. */
static void test_non_canonical_layer(void **state)
{
    fixture *f = *state;
    const splut_neuron_kind kinds[2] = {SPLUT_NEURON_LINEAR, SPLUT_NEURON_POLY};
    for (int k = 0; k < 2; k++) {
        splut_model *m = small_model(f->ctx, kinds[k], 0, 4);
        image im;
        image_from_model(m, &im);
        size_t n;
        uint8_t *b = image_encode(&im, &n);
        assert_int_equal(try_load(f, b, n), SPLUT_OK);
        free(b);
        if (kinds[k] == SPLUT_NEURON_LINEAR)
            im.layer[1][4] = 0; /* degree */
        else
            im.layer[0][5] = 1; /* sub-neurons */
        b = image_encode(&im, &n);
        assert_int_equal(try_load(f, b, n), SPLUT_E_FORMAT);
        assert_non_null(strstr(splut_ctx_last_error(f->ctx), "canonical"));
        free(b);
        image_free(&im);
        splut_model_destroy(m);
    }
}

/* A context with a smaller table limit refuses the file's layers. */
static void test_table_limit_of_loading_context(void **state)
{
    fixture *f = *state;
    size_t n;
    uint8_t *b = lib_bytes(f->m, &n);
    count_alloc ca;
    splut_ctx *small = ca_ctx(&ca);
    /* 2-bit inputs × fan-in 2 = 2^4 entries; the adder has 2 × 3 bits = 2^6. */
    assert_int_equal(splut_ctx_set_int(small, SPLUT_P_MAX_TABLE_LOG2, 5), SPLUT_OK);
    splut_model *out = NULL;
    assert_int_equal(splut_model_deserialize(small, b, n, &out), SPLUT_E_TABLE_TOO_LARGE);
    assert_null(out);
    assert_non_null(strstr(splut_ctx_last_error(small), "offset"));
    assert_int_equal(splut_ctx_set_int(small, SPLUT_P_MAX_TABLE_LOG2, 6), SPLUT_OK);
    assert_int_equal(splut_model_deserialize(small, b, n, &out), SPLUT_OK);
    splut_model_destroy(out);
    splut_ctx_unref(small);
    assert_int_equal(ca.live, 0);
    free(b);
}

/* Fail every allocation in turn: SPLUT_E_NOMEM each time, nothing leaks,
 * and the loop ends in a success. Covers deserialize, load and trainer load. */
static void test_allocation_failure_while_loading(void **state)
{
    fixture *f = *state;
    char path[64];
    snprintf(path, sizeof(path), "/tmp/splut-nomem-%ld.ckpt", (long)getpid());
    assert_int_equal(splut_trainer_save(f->t, path), SPLUT_OK);
    size_t n;
    uint8_t *b = lib_bytes(f->m, &n);
    for (int api = 0; api < 3; api++) {
        int failures = 0;
        for (long k = 0;; k++) {
            long live = f->ca.live;
            splut_model *out = NULL;
            counting_fail_at(&f->ca, k);
            splut_status st = api == 0   ? splut_model_deserialize(f->ctx, b, n, &out)
                              : api == 1 ? splut_model_load(f->ctx, path, &out)
                                         : splut_trainer_load(f->t, path);
            counting_disarm(&f->ca);
            splut_model_destroy(out);
            assert_int_equal(f->ca.live, live);
            if (st == SPLUT_OK)
                break;
            if (st != SPLUT_E_NOMEM)
                fail_msg("api %d, failing allocation %ld: %s", api, k, splut_status_str(st));
            failures++;
        }
        assert_true(failures >= 3);
    }
    unlink(path);
    free(b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_pristine_files_load, setup, teardown),
        cmocka_unit_test_setup_teardown(test_flipped_byte_anywhere, setup, teardown),
        cmocka_unit_test_setup_teardown(test_truncated_at_every_length, setup, teardown),
        cmocka_unit_test_setup_teardown(test_wrong_version_and_magic, setup, teardown),
        cmocka_unit_test_setup_teardown(test_version1_and_tau, setup, teardown),
        cmocka_unit_test_setup_teardown(test_crafted_valid_crc, setup, teardown),
        cmocka_unit_test_setup_teardown(test_crafted_framing, setup, teardown),
        cmocka_unit_test_setup_teardown(test_non_canonical_layer, setup, teardown),
        cmocka_unit_test_setup_teardown(test_table_limit_of_loading_context, setup, teardown),
        cmocka_unit_test_setup_teardown(test_allocation_failure_while_loading, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
