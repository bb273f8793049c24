/*
 * Context, status strings, parameters, log callback, last error, allocator hooks.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include "core-test.h"

#include <math.h>
#include <pthread.h>
#include <stdio.h>

/* Every status code of the header, listed independently of lib/ctx.c. */
static const splut_status ALL_STATUS[] = {
    SPLUT_OK,
    SPLUT_E_NULL,
    SPLUT_E_INVALID,
    SPLUT_E_OUT_OF_RANGE,
    SPLUT_E_PARAM_TYPE,
    SPLUT_E_UNKNOWN_PARAM,
    SPLUT_E_UNKNOWN_PRESET,
    SPLUT_E_FAN_IN,
    SPLUT_E_TABLE_TOO_LARGE,
    SPLUT_E_NON_FINITE,
    SPLUT_E_INDEX,
    SPLUT_E_BUFFER_TOO_SMALL,
    SPLUT_E_LABEL,
    SPLUT_E_CONNECTIVITY,
    SPLUT_E_STATE,
    SPLUT_E_DIVERGED,
    SPLUT_E_NOMEM,
    SPLUT_E_STRUCT_SIZE,
    SPLUT_E_IO,
    SPLUT_E_FORMAT,
    SPLUT_E_VERSION,
    SPLUT_E_CHECKSUM,
};
#define N_STATUS (sizeof(ALL_STATUS) / sizeof(ALL_STATUS[0]))

static const splut_param CTX_KEYS[] = {SPLUT_P_THREADS, SPLUT_P_SEED, SPLUT_P_MAX_TABLE_LOG2};
static const splut_param ALL_KEYS[] = {
    SPLUT_P_THREADS,         SPLUT_P_SEED,          SPLUT_P_MAX_TABLE_LOG2,
    SPLUT_P_INPUT_MODE,      SPLUT_P_RECIPE_LR,     SPLUT_P_RECIPE_BATCH,
    SPLUT_P_RECIPE_EPOCHS,   SPLUT_P_RECIPE_WD,     SPLUT_P_EPOCHS_TRAINED,
    SPLUT_P_TEST_ACCURACY,   SPLUT_P_LEARNING_RATE, SPLUT_P_WEIGHT_DECAY,
    SPLUT_P_BETA1,           SPLUT_P_BETA2,         SPLUT_P_ADAM_EPS,
    SPLUT_P_RESTART_PERIOD,  SPLUT_P_LR_MIN,        SPLUT_P_STEP,
};
#define N_KEYS (sizeof(ALL_KEYS) / sizeof(ALL_KEYS[0]))

static void test_version(void **state)
{
    (void)state;
    char buf[32];
    snprintf(buf, sizeof(buf), "%d.%d.%d", SPLUT_VERSION_MAJOR, SPLUT_VERSION_MINOR,
             SPLUT_VERSION_PATCH);
    assert_string_equal(splut_version_string(), buf);
    assert_string_equal(SPLUT_VERSION_STRING, buf);
    assert_int_equal(splut_version_number(),
                     SPLUT_VERSION_MAJOR * 10000 + SPLUT_VERSION_MINOR * 100 + SPLUT_VERSION_PATCH);
    assert_true(SPLUT_CHECK_VERSION(0, 0, 0));
    assert_false(SPLUT_CHECK_VERSION(SPLUT_VERSION_MAJOR + 1, 0, 0));
}

static void test_status_strings_distinct(void **state)
{
    (void)state;
    const char *unknown = splut_status_str((splut_status)-999);
    assert_non_null(unknown);
    for (size_t i = 0; i < N_STATUS; i++) {
        const char *s = splut_status_str(ALL_STATUS[i]);
        assert_non_null(s);
        assert_true(strlen(s) > 0);
        assert_string_not_equal(s, unknown);
        assert_null(strstr(s, "unknown status"));
        for (size_t j = 0; j < i; j++)
            assert_string_not_equal(s, splut_status_str(ALL_STATUS[j]));
    }
    /* Values are fixed forever: spot-check the documented numbering. */
    assert_int_equal(SPLUT_E_NULL, -100);
    assert_int_equal(SPLUT_E_STATE, -200);
    assert_int_equal(SPLUT_E_NOMEM, -300);
    assert_int_equal(SPLUT_E_STRUCT_SIZE, -400);
    assert_int_equal(SPLUT_E_IO, -500);
    assert_non_null(splut_status_str((splut_status)1));
    assert_non_null(splut_status_str((splut_status)-101 - 1000));
}

static void test_ctx_create_args(void **state)
{
    (void)state;
    assert_int_equal(splut_ctx_create(NULL, NULL), SPLUT_E_NULL);
    splut_allocator half = {counting_alloc_fn, NULL, NULL};
    splut_ctx *ctx = (splut_ctx *)&half; /* must be reset to NULL on failure */
    assert_int_equal(splut_ctx_create(&half, &ctx), SPLUT_E_INVALID);
    assert_null(ctx);
    splut_ctx_unref(NULL); /* no-op */
    assert_null(splut_ctx_ref(NULL));
}

static void test_ctx_refcount(void **state)
{
    (void)state;
    counting_alloc ca;
    splut_allocator a = counting_allocator(&ca);
    splut_ctx *ctx = NULL;
    assert_int_equal(splut_ctx_create(&a, &ctx), SPLUT_OK);
    assert_ptr_equal(splut_ctx_ref(ctx), ctx);
    splut_ctx_unref(ctx);
    assert_int_equal(ca.live, 1); /* still one reference */
    splut_model *m = NULL;
    assert_int_equal(splut_model_create(ctx, 4, 2, &m), SPLUT_OK);
    assert_ptr_equal(splut_model_ctx(m), ctx);
    splut_ctx_unref(ctx); /* the model keeps the context alive */
    assert_true(ca.live >= 2);
    splut_model_destroy(m);
    assert_int_equal(ca.live, 0);
    assert_int_equal(ca.allocs, ca.frees);
}

static void test_ctx_param_defaults(void **state)
{
    splut_ctx *ctx = *state;
    for (size_t i = 0; i < sizeof(CTX_KEYS) / sizeof(CTX_KEYS[0]); i++) {
        splut_param_type type;
        double lo, hi, dflt;
        assert_int_equal(splut_param_info(CTX_KEYS[i], &type, &lo, &hi, &dflt), SPLUT_OK);
        assert_int_equal(type, SPLUT_PARAM_INT);
        int64_t v = -1;
        assert_int_equal(splut_ctx_get_int(ctx, CTX_KEYS[i], &v), SPLUT_OK);
        assert_true((double)v == dflt);
    }
    /* Documented defaults and bounds (header comments). */
    double lo, hi, dflt;
    assert_int_equal(splut_param_info(SPLUT_P_THREADS, NULL, &lo, &hi, &dflt), SPLUT_OK);
    assert_true(lo == 0 && hi == 256 && dflt == 0);
    assert_int_equal(splut_param_info(SPLUT_P_SEED, NULL, &lo, &hi, &dflt), SPLUT_OK);
    assert_true(lo == 0 && hi == 9007199254740992.0 && dflt == 1);
    assert_int_equal(splut_param_info(SPLUT_P_MAX_TABLE_LOG2, NULL, &lo, &hi, &dflt), SPLUT_OK);
    assert_true(lo == 1 && hi == 30 && dflt == 20);
    /* all outputs optional */
    assert_int_equal(splut_param_info(SPLUT_P_SEED, NULL, NULL, NULL, NULL), SPLUT_OK);
}

/* Set min and max (accepted), min-1 and max+1 (rejected, value unchanged). */
static void test_ctx_param_bounds(void **state)
{
    splut_ctx *ctx = *state;
    for (size_t i = 0; i < sizeof(CTX_KEYS) / sizeof(CTX_KEYS[0]); i++) {
        splut_param key = CTX_KEYS[i];
        double lo, hi;
        assert_int_equal(splut_param_info(key, NULL, &lo, &hi, NULL), SPLUT_OK);
        int64_t before, after;
        assert_int_equal(splut_ctx_set_int(ctx, key, (int64_t)lo), SPLUT_OK);
        assert_int_equal(splut_ctx_get_int(ctx, key, &after), SPLUT_OK);
        assert_int_equal(after, (int64_t)lo);
        assert_int_equal(splut_ctx_set_int(ctx, key, (int64_t)hi), SPLUT_OK);
        assert_int_equal(splut_ctx_get_int(ctx, key, &before), SPLUT_OK);
        assert_int_equal(before, (int64_t)hi);
        /* SEED's max + 1 = 2^53 + 1 has its own test below */
        if (key != SPLUT_P_SEED)
            assert_int_equal(splut_ctx_set_int(ctx, key, (int64_t)hi + 1), SPLUT_E_OUT_OF_RANGE);
        assert_int_equal(splut_ctx_set_int(ctx, key, (int64_t)hi + 1000), SPLUT_E_OUT_OF_RANGE);
        assert_int_equal(splut_ctx_get_int(ctx, key, &after), SPLUT_OK);
        assert_int_equal(after, before);
        assert_int_equal(splut_ctx_set_int(ctx, key, (int64_t)lo - 1), SPLUT_E_OUT_OF_RANGE);
        assert_int_equal(splut_ctx_set_int(ctx, key, INT64_MIN), SPLUT_E_OUT_OF_RANGE);
        assert_int_equal(splut_ctx_set_int(ctx, key, INT64_MAX), SPLUT_E_OUT_OF_RANGE);
        assert_int_equal(splut_ctx_get_int(ctx, key, &after), SPLUT_OK);
        assert_int_equal(after, before);
    }
}

static void test_ctx_param_unknown_and_type(void **state)
{
    splut_ctx *ctx = *state;
    int64_t v = 77;
    assert_int_equal(splut_ctx_set_int(ctx, (splut_param)99, 1), SPLUT_E_UNKNOWN_PARAM);
    assert_int_equal(splut_ctx_set_int(ctx, (splut_param)0, 1), SPLUT_E_UNKNOWN_PARAM);
    assert_int_equal(splut_ctx_set_int(ctx, (splut_param)-5, 1), SPLUT_E_UNKNOWN_PARAM);
    /* model and trainer keys do not belong to a context */
    assert_int_equal(splut_ctx_set_int(ctx, SPLUT_P_INPUT_MODE, 0), SPLUT_E_UNKNOWN_PARAM);
    assert_int_equal(splut_ctx_set_int(ctx, SPLUT_P_STEP, 0), SPLUT_E_UNKNOWN_PARAM);
    assert_int_equal(splut_ctx_get_int(ctx, SPLUT_P_LEARNING_RATE, &v), SPLUT_E_UNKNOWN_PARAM);
    assert_int_equal(v, 77);
    assert_int_equal(splut_ctx_get_int(ctx, SPLUT_P_THREADS, NULL), SPLUT_E_NULL);
    assert_int_equal(splut_ctx_set_int(NULL, SPLUT_P_THREADS, 1), SPLUT_E_NULL);
    assert_int_equal(splut_param_info((splut_param)12345, NULL, NULL, NULL, NULL),
                     SPLUT_E_UNKNOWN_PARAM);
}

/* Regression: 2^53 + 1 is not representable as a double and rounds to 2^53,
 * so a range check done in double arithmetic would accept it although it is
 * above the documented maximum 2^53 (fixed by exact integer range checks). */
static void test_ctx_seed_upper_bound_exact(void **state)
{
    splut_ctx *ctx = *state;
    const int64_t two53 = (int64_t)1 << 53;
    assert_int_equal(splut_ctx_set_int(ctx, SPLUT_P_SEED, two53), SPLUT_OK);
    assert_int_equal(splut_ctx_set_int(ctx, SPLUT_P_SEED, two53 + 1), SPLUT_E_OUT_OF_RANGE);
    int64_t v = 0;
    assert_int_equal(splut_ctx_get_int(ctx, SPLUT_P_SEED, &v), SPLUT_OK);
    assert_int_equal(v, two53);
}

static void test_param_names(void **state)
{
    (void)state;
    for (size_t i = 0; i < N_KEYS; i++) {
        const char *name = splut_param_name(ALL_KEYS[i]);
        assert_non_null(name);
        assert_true(strlen(name) > 0);
        for (size_t j = 0; j < i; j++)
            assert_string_not_equal(name, splut_param_name(ALL_KEYS[j]));
        splut_param_type type = (splut_param_type)-1;
        double lo = NAN, hi = NAN, dflt = NAN;
        assert_int_equal(splut_param_info(ALL_KEYS[i], &type, &lo, &hi, &dflt), SPLUT_OK);
        assert_true(type == SPLUT_PARAM_INT || type == SPLUT_PARAM_DOUBLE);
        assert_true(lo <= dflt && dflt <= hi);
    }
    assert_string_equal(splut_param_name(SPLUT_P_THREADS), "threads");
    assert_string_equal(splut_param_name(SPLUT_P_LEARNING_RATE), "learning_rate");
    assert_null(splut_param_name((splut_param)4242));
    assert_null(splut_param_name((splut_param)0));
}

static void test_model_params_type_range(void **state)
{
    splut_ctx *ctx = *state;
    splut_model *m = NULL;
    assert_int_equal(splut_model_create(ctx, 8, 2, &m), SPLUT_OK);
    double d = 0;
    int64_t i = 0;
    /* defaults equal splut_param_info's */
    double dflt;
    assert_int_equal(splut_model_get_double(m, SPLUT_P_RECIPE_LR, &d), SPLUT_OK);
    assert_int_equal(splut_param_info(SPLUT_P_RECIPE_LR, NULL, NULL, NULL, &dflt), SPLUT_OK);
    assert_true(d == dflt);
    assert_int_equal(splut_model_get_int(m, SPLUT_P_RECIPE_BATCH, &i), SPLUT_OK);
    assert_int_equal(splut_param_info(SPLUT_P_RECIPE_BATCH, NULL, NULL, NULL, &dflt), SPLUT_OK);
    assert_true((double)i == dflt);
    assert_int_equal(splut_model_get_double(m, SPLUT_P_TEST_ACCURACY, &d), SPLUT_OK);
    assert_true(d == -1.0);
    /* wrong type */
    assert_int_equal(splut_model_set_int(m, SPLUT_P_RECIPE_LR, 1), SPLUT_E_PARAM_TYPE);
    assert_int_equal(splut_model_set_double(m, SPLUT_P_RECIPE_BATCH, 64.0), SPLUT_E_PARAM_TYPE);
    assert_int_equal(splut_model_get_int(m, SPLUT_P_RECIPE_WD, &i), SPLUT_E_PARAM_TYPE);
    assert_int_equal(splut_model_get_double(m, SPLUT_P_INPUT_MODE, &d), SPLUT_E_PARAM_TYPE);
    /* out of range leaves the value unchanged; (0, 10] is open at 0 */
    assert_int_equal(splut_model_set_double(m, SPLUT_P_RECIPE_LR, 0.25), SPLUT_OK);
    assert_int_equal(splut_model_set_double(m, SPLUT_P_RECIPE_LR, 0.0), SPLUT_E_OUT_OF_RANGE);
    assert_int_equal(splut_model_set_double(m, SPLUT_P_RECIPE_LR, 10.5), SPLUT_E_OUT_OF_RANGE);
    assert_int_equal(splut_model_set_double(m, SPLUT_P_RECIPE_LR, NAN), SPLUT_E_OUT_OF_RANGE);
    assert_int_equal(splut_model_set_double(m, SPLUT_P_RECIPE_LR, INFINITY),
                     SPLUT_E_OUT_OF_RANGE);
    assert_int_equal(splut_model_get_double(m, SPLUT_P_RECIPE_LR, &d), SPLUT_OK);
    assert_true(d == 0.25);
    assert_int_equal(splut_model_set_int(m, SPLUT_P_RECIPE_BATCH, 0), SPLUT_E_OUT_OF_RANGE);
    assert_int_equal(splut_model_set_int(m, SPLUT_P_INPUT_MODE, 3), SPLUT_E_OUT_OF_RANGE);
    assert_int_equal(splut_model_get_int(m, SPLUT_P_RECIPE_BATCH, &i), SPLUT_OK);
    assert_int_equal(i, 128);
    /* keys of other objects */
    assert_int_equal(splut_model_set_int(m, SPLUT_P_THREADS, 1), SPLUT_E_UNKNOWN_PARAM);
    assert_int_equal(splut_model_set_double(m, SPLUT_P_LEARNING_RATE, 0.1),
                     SPLUT_E_UNKNOWN_PARAM);
    /* the input mode is fixed once built */
    assert_int_equal(splut_model_set_int(m, SPLUT_P_INPUT_MODE, SPLUT_INPUT_RELU), SPLUT_OK);
    splut_layer_desc ld = layer_desc(SPLUT_NEURON_LINEAR, 2, 2, 2, 1, 0);
    assert_int_equal(splut_model_add_layer(m, &ld), SPLUT_OK);
    assert_int_equal(splut_model_build(m), SPLUT_OK);
    assert_int_equal(splut_model_set_int(m, SPLUT_P_INPUT_MODE, SPLUT_INPUT_BN_HARDTANH),
                     SPLUT_E_STATE);
    assert_int_equal(splut_model_get_int(m, SPLUT_P_INPUT_MODE, &i), SPLUT_OK);
    assert_int_equal(i, SPLUT_INPUT_RELU);
    splut_model_destroy(m);
}

static void test_log_callback(void **state)
{
    splut_ctx *ctx = *state;
    log_record rec;
    memset(&rec, 0, sizeof(rec));
    assert_int_equal(splut_ctx_set_log(ctx, record_log, &rec, SPLUT_LOG_ERROR), SPLUT_OK);
    assert_int_equal(splut_ctx_set_int(ctx, SPLUT_P_THREADS, 9999), SPLUT_E_OUT_OF_RANGE);
    assert_int_equal(rec.calls, 1);
    assert_int_equal(rec.level, SPLUT_LOG_ERROR);
    assert_int_equal(rec.code, SPLUT_E_OUT_OF_RANGE);
    assert_non_null(strstr(rec.msg, "9999")); /* the message names the offending value */
    assert_string_equal(rec.msg, splut_ctx_last_error(ctx));

    splut_model *m = NULL;
    assert_int_equal(splut_model_create_preset(ctx, "no-such-preset", &m), SPLUT_E_UNKNOWN_PRESET);
    assert_null(m);
    assert_int_equal(rec.calls, 2);
    assert_int_equal(rec.code, SPLUT_E_UNKNOWN_PRESET);
    assert_non_null(strstr(rec.msg, "no-such-preset"));

    /* a bad level is refused and the callback stays installed */
    assert_int_equal(splut_ctx_set_log(ctx, record_log, &rec, (splut_log_level)7),
                     SPLUT_E_OUT_OF_RANGE);
    assert_int_equal(splut_ctx_set_log(NULL, record_log, &rec, SPLUT_LOG_ERROR), SPLUT_E_NULL);
    int calls = rec.calls;
    /* removing the callback stops the calls; the message is still recorded */
    assert_int_equal(splut_ctx_set_log(ctx, NULL, NULL, SPLUT_LOG_DEBUG), SPLUT_OK);
    assert_int_equal(splut_ctx_set_int(ctx, SPLUT_P_MAX_TABLE_LOG2, 31), SPLUT_E_OUT_OF_RANGE);
    assert_int_equal(rec.calls, calls);
    assert_non_null(strstr(splut_ctx_last_error(ctx), "31"));
}

/* splut_ctx_set_error: a companion library's failure reads like the core's. */
static void test_set_error(void **state)
{
    splut_ctx *ctx = *state;
    log_record rec;
    memset(&rec, 0, sizeof(rec));
    assert_int_equal(splut_ctx_set_log(ctx, record_log, &rec, SPLUT_LOG_ERROR), SPLUT_OK);
    assert_int_equal(splut_ctx_set_error(ctx, SPLUT_E_FORMAT, "d.csv:3:7: bad cell"),
                     SPLUT_E_FORMAT);
    assert_string_equal(splut_ctx_last_error(ctx), "d.csv:3:7: bad cell");
    assert_int_equal(rec.calls, 1);
    assert_int_equal(rec.level, SPLUT_LOG_ERROR);
    assert_int_equal(rec.code, SPLUT_E_FORMAT);
    assert_string_equal(rec.msg, "d.csv:3:7: bad cell");
    /* long messages are cut to the buffer, NULL records "" */
    char longmsg[2000];
    memset(longmsg, 'x', sizeof longmsg - 1);
    longmsg[sizeof longmsg - 1] = 0;
    assert_int_equal(splut_ctx_set_error(ctx, SPLUT_E_IO, longmsg), SPLUT_E_IO);
    assert_int_equal(strlen(splut_ctx_last_error(ctx)), 511);
    assert_int_equal(splut_ctx_set_error(ctx, SPLUT_E_IO, NULL), SPLUT_E_IO);
    assert_string_equal(splut_ctx_last_error(ctx), "");
    assert_int_equal(splut_ctx_set_error(NULL, SPLUT_E_IO, "x"), SPLUT_E_NULL);
    assert_int_equal(rec.calls, 3);
}

static void test_last_error(void **state)
{
    (void)state;
    splut_ctx *ctx = NULL;
    assert_int_equal(splut_ctx_create(NULL, &ctx), SPLUT_OK);
    assert_string_equal(splut_ctx_last_error(ctx), "");
    assert_non_null(splut_ctx_last_error(NULL));
    splut_model *m = NULL;
    assert_int_equal(splut_model_create(ctx, 0, 2, &m), SPLUT_E_OUT_OF_RANGE);
    const char *e1 = splut_ctx_last_error(ctx);
    assert_true(strlen(e1) > 0);
    char first[600];
    snprintf(first, sizeof(first), "%s", e1);
    assert_int_equal(splut_model_create(ctx, 4, 9, &m), SPLUT_E_OUT_OF_RANGE);
    assert_non_null(strstr(splut_ctx_last_error(ctx), "9"));
    assert_string_not_equal(first, splut_ctx_last_error(ctx));
    /* success leaves the last message alone */
    assert_int_equal(splut_model_create(ctx, 4, 2, &m), SPLUT_OK);
    assert_non_null(strstr(splut_ctx_last_error(ctx), "9"));
    splut_model_destroy(m);
    splut_ctx_unref(ctx);
}

/* A previous failure's text must not survive a SPLUT_E_NULL on a valid
 * handle: each call below sets its own message naming itself. */
static void test_null_out_sets_message(void **state)
{
    splut_ctx *ctx = *state;
    splut_model *m = NULL;
    assert_int_equal(build_mixed_model(ctx, &m), SPLUT_OK);
    splut_trainer *t = NULL;
    assert_int_equal(splut_trainer_create(m, &t), SPLUT_OK);
    typedef struct named_status {
        const char *name;
        splut_status st;
    } named_status;
    named_status calls[7];
    int n = 0;
#define CALL(fn, ...) calls[n++] = (named_status){#fn, fn(__VA_ARGS__)}
    /* each call is preceded by an unrelated failure with a known message */
#define STALE() assert_int_equal(splut_ctx_set_int(ctx, SPLUT_P_THREADS, -77), \
                                 SPLUT_E_OUT_OF_RANGE)
    STALE();
    CALL(splut_ctx_get_int, ctx, SPLUT_P_SEED, NULL);
    assert_null(strstr(splut_ctx_last_error(ctx), "-77"));
    STALE();
    CALL(splut_model_get_int, m, SPLUT_P_RECIPE_BATCH, NULL);
    assert_null(strstr(splut_ctx_last_error(ctx), "-77"));
    STALE();
    CALL(splut_model_get_double, m, SPLUT_P_RECIPE_LR, NULL);
    assert_null(strstr(splut_ctx_last_error(ctx), "-77"));
    STALE();
    CALL(splut_trainer_get_int, t, SPLUT_P_STEP, NULL);
    assert_null(strstr(splut_ctx_last_error(ctx), "-77"));
    STALE();
    CALL(splut_trainer_get_double, t, SPLUT_P_LEARNING_RATE, NULL);
    assert_null(strstr(splut_ctx_last_error(ctx), "-77"));
    STALE();
    CALL(splut_trainer_connections, t, 0, NULL, NULL);
    assert_null(strstr(splut_ctx_last_error(ctx), "-77"));
#undef STALE
#undef CALL
    for (int i = 0; i < n; i++)
        if (calls[i].st != SPLUT_E_NULL)
            fail_msg("%s returned %s", calls[i].name, splut_status_str(calls[i].st));
    assert_non_null(strstr(splut_ctx_last_error(ctx), "splut_trainer_connections"));
    splut_trainer_destroy(t);
    splut_model_destroy(m);
}

static void test_copy_last_error(void **state)
{
    splut_ctx *ctx = *state;
    char buf[600];
    size_t need = 0;
    assert_int_equal(splut_ctx_copy_last_error(ctx, buf, sizeof(buf), &need), SPLUT_OK);
    assert_string_equal(buf, "");
    assert_int_equal(need, 1);
    assert_int_equal(splut_ctx_set_int(ctx, SPLUT_P_THREADS, -77), SPLUT_E_OUT_OF_RANGE);
    const char *msg = splut_ctx_last_error(ctx);
    size_t len = strlen(msg);
    assert_true(len > 8);
    assert_int_equal(splut_ctx_copy_last_error(ctx, buf, sizeof(buf), &need), SPLUT_OK);
    assert_string_equal(buf, msg);
    assert_int_equal(need, len + 1);
    /* too small: truncated, terminated, size reported, message untouched */
    memset(buf, 'x', sizeof(buf));
    assert_int_equal(splut_ctx_copy_last_error(ctx, buf, 5, &need), SPLUT_E_BUFFER_TOO_SMALL);
    assert_int_equal(need, len + 1);
    assert_memory_equal(buf, msg, 4);
    assert_int_equal(buf[4], '\0');
    assert_int_equal(buf[5], 'x');
    assert_int_equal(splut_ctx_copy_last_error(ctx, buf, len, NULL), SPLUT_E_BUFFER_TOO_SMALL);
    assert_int_equal(splut_ctx_copy_last_error(ctx, buf, len + 1, NULL), SPLUT_OK);
    assert_string_equal(buf, msg);
    assert_int_equal(splut_ctx_copy_last_error(ctx, NULL, 0, &need), SPLUT_E_BUFFER_TOO_SMALL);
    assert_int_equal(need, len + 1);
    assert_int_equal(splut_ctx_copy_last_error(ctx, NULL, 4, &need), SPLUT_E_NULL);
    assert_int_equal(splut_ctx_copy_last_error(NULL, buf, sizeof(buf), &need), SPLUT_E_NULL);
    assert_string_equal(splut_ctx_last_error(ctx), buf); /* never replaced by the copy */
}

/* Threads fail on their own models of one context, with messages of very
 * different lengths, and read the message back with the copying call: every
 * copy must be one whole message (no mix of two). Run under ThreadSanitizer
 * this also proves the copy and splut__fail never race. */
#define ERR_THREADS 4
#define ERR_ROUNDS 2000

typedef struct err_worker {
    splut_ctx *ctx;
    int which;            /* the failure this thread makes: 0 or 1 */
    char known[2][600];   /* the two possible messages */
    long torn;
} err_worker;

/* Failure 0 is a long out-of-range message, failure 1 a short NULL one. */
static void make_failure(splut_model *m, int which)
{
    if (which == 0)
        splut_model_set_int(m, SPLUT_P_RECIPE_BATCH, -1);
    else
        splut_model_get_int(m, SPLUT_P_RECIPE_BATCH, NULL);
}

static void *err_worker_run(void *arg)
{
    err_worker *w = arg;
    splut_model *m = NULL;
    if (splut_model_create(w->ctx, 4, 2, &m) != SPLUT_OK)
        return NULL;
    char buf[600];
    for (int i = 0; i < ERR_ROUNDS; i++) {
        make_failure(m, w->which);
        splut_ctx_copy_last_error(w->ctx, buf, sizeof(buf), NULL);
        if (strcmp(buf, w->known[0]) && strcmp(buf, w->known[1]))
            w->torn++;
    }
    splut_model_destroy(m);
    return NULL;
}

static void test_last_error_threads(void **state)
{
    splut_ctx *ctx = *state;
    char msg[2][600];
    splut_model *m = NULL;
    assert_int_equal(splut_model_create(ctx, 4, 2, &m), SPLUT_OK);
    for (int k = 0; k < 2; k++) {
        make_failure(m, k);
        snprintf(msg[k], sizeof(msg[k]), "%s", splut_ctx_last_error(ctx));
    }
    splut_model_destroy(m);
    print_message("messages: \"%s\" / \"%s\"\n", msg[0], msg[1]);
    assert_true(strlen(msg[0]) > strlen(msg[1]) + 10);
    err_worker w[ERR_THREADS];
    pthread_t tid[ERR_THREADS];
    for (int i = 0; i < ERR_THREADS; i++) {
        w[i] = (err_worker){ctx, i % 2, {""}, 0};
        memcpy(w[i].known, msg, sizeof(msg));
        assert_int_equal(pthread_create(&tid[i], NULL, err_worker_run, &w[i]), 0);
    }
    for (int i = 0; i < ERR_THREADS; i++) {
        pthread_join(tid[i], NULL);
        assert_int_equal(w[i].torn, 0);
    }
}

static void test_allocator_hooks_used(void **state)
{
    (void)state;
    counting_alloc ca;
    splut_allocator a = counting_allocator(&ca);
    splut_ctx *ctx = NULL;
    assert_int_equal(splut_ctx_create(&a, &ctx), SPLUT_OK);
    assert_int_equal(ca.allocs, 1); /* the context itself */
    splut_model *m = NULL;
    assert_int_equal(build_mixed_model(ctx, &m), SPLUT_OK);
    assert_true(ca.allocs > 5);
    long before = ca.allocs;
    uint16_t in[12 * 3] = {0}, out[4 * 3];
    assert_int_equal(splut_model_forward_codes(m, in, 3, out), SPLUT_OK);
    assert_true(ca.allocs > before); /* inference buffers come from the hooks too */
    splut_model_destroy(m);
    splut_ctx_unref(ctx);
    assert_int_equal(ca.live, 0);
    assert_int_equal(ca.allocs, ca.frees);
    /* splut_free goes through the hooks and accepts NULL */
    assert_int_equal(splut_ctx_create(&a, &ctx), SPLUT_OK);
    splut_free(ctx, NULL);
    splut_free(NULL, NULL);
    splut_ctx_unref(ctx);
    assert_int_equal(ca.live, 0);
}

static void test_ctx_create_nomem(void **state)
{
    (void)state;
    counting_alloc ca;
    splut_allocator a = counting_allocator(&ca);
    counting_fail_at(&ca, 0);
    splut_ctx *ctx = (splut_ctx *)&ca;
    assert_int_equal(splut_ctx_create(&a, &ctx), SPLUT_E_NOMEM);
    assert_null(ctx);
    assert_int_equal(ca.live, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_version),
        cmocka_unit_test(test_status_strings_distinct),
        cmocka_unit_test(test_ctx_create_args),
        cmocka_unit_test(test_ctx_refcount),
        cmocka_unit_test_setup_teardown(test_ctx_param_defaults, setup_ctx, teardown_ctx),
        cmocka_unit_test_setup_teardown(test_ctx_param_bounds, setup_ctx, teardown_ctx),
        cmocka_unit_test_setup_teardown(test_ctx_param_unknown_and_type, setup_ctx,
                                        teardown_ctx),
        cmocka_unit_test_setup_teardown(test_ctx_seed_upper_bound_exact, setup_ctx,
                                        teardown_ctx),
        cmocka_unit_test(test_param_names),
        cmocka_unit_test_setup_teardown(test_model_params_type_range, setup_ctx, teardown_ctx),
        cmocka_unit_test_setup_teardown(test_log_callback, setup_ctx, teardown_ctx),
        cmocka_unit_test_setup_teardown(test_set_error, setup_ctx, teardown_ctx),
        cmocka_unit_test(test_last_error),
        cmocka_unit_test_setup_teardown(test_null_out_sets_message, setup_ctx, teardown_ctx),
        cmocka_unit_test_setup_teardown(test_copy_last_error, setup_ctx, teardown_ctx),
        cmocka_unit_test_setup_teardown(test_last_error_threads, setup_ctx, teardown_ctx),
        cmocka_unit_test(test_allocator_hooks_used),
        cmocka_unit_test(test_ctx_create_nomem),
    };
    return cmocka_run_group_tests_name("core-ctx", tests, NULL, NULL);
}
