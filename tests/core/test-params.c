/*
 * The parameter table: every key round-trips through its owner's setter and
 * getter, writes exactly its own field and no other byte of the object, is
 * refused by the other objects, and starts from the table's default.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "train-priv.h"

/* One object of each owner, with the size of its struct. */
typedef struct owners {
    splut_ctx *ctx;
    splut_model *model;   /* not built: SPLUT_P_INPUT_MODE stays settable */
    splut_model *built;   /* the trainer's model */
    splut_trainer *trainer;
} owners;

static void owners_make(owners *o)
{
    memset(o, 0, sizeof(*o));
    assert_int_equal(splut_ctx_create(NULL, &o->ctx), SPLUT_OK);
    assert_int_equal(splut_model_create(o->ctx, 4, 2, &o->model), SPLUT_OK);
    assert_int_equal(splut_model_create(o->ctx, 4, 2, &o->built), SPLUT_OK);
    splut_layer_desc d = SPLUT_LAYER_DESC_INIT;
    d.kind = SPLUT_NEURON_LINEAR;
    d.width = 2;
    d.fan_in = 2;
    d.out_bits = 2;
    assert_int_equal(splut_model_add_layer(o->built, &d), SPLUT_OK);
    assert_int_equal(splut_model_build(o->built), SPLUT_OK);
    assert_int_equal(splut_trainer_create(o->built, &o->trainer), SPLUT_OK);
}

static void owners_free(owners *o)
{
    splut_trainer_destroy(o->trainer);
    splut_model_destroy(o->built);
    splut_model_destroy(o->model);
    splut_ctx_unref(o->ctx);
}

static void *object_of(const owners *o, splut_param_owner owner, size_t *size)
{
    switch (owner) {
    case SPLUT_OWNER_CTX: *size = sizeof(struct splut_ctx); return o->ctx;
    case SPLUT_OWNER_MODEL: *size = sizeof(struct splut_model); return o->model;
    case SPLUT_OWNER_TRAINER: *size = sizeof(struct splut_trainer); return o->trainer;
    default: *size = 0; return NULL;
    }
}

static splut_status set_int(const owners *o, splut_param_owner owner, splut_param k, int64_t v)
{
    switch (owner) {
    case SPLUT_OWNER_CTX: return splut_ctx_set_int(o->ctx, k, v);
    case SPLUT_OWNER_MODEL: return splut_model_set_int(o->model, k, v);
    case SPLUT_OWNER_TRAINER: return splut_trainer_set_int(o->trainer, k, v);
    default: return SPLUT_E_INVALID;
    }
}

static splut_status get_int(const owners *o, splut_param_owner owner, splut_param k, int64_t *v)
{
    switch (owner) {
    case SPLUT_OWNER_CTX: return splut_ctx_get_int(o->ctx, k, v);
    case SPLUT_OWNER_MODEL: return splut_model_get_int(o->model, k, v);
    case SPLUT_OWNER_TRAINER: return splut_trainer_get_int(o->trainer, k, v);
    default: return SPLUT_E_INVALID;
    }
}

static splut_status set_double(const owners *o, splut_param_owner owner, splut_param k, double v)
{
    switch (owner) {
    case SPLUT_OWNER_MODEL: return splut_model_set_double(o->model, k, v);
    case SPLUT_OWNER_TRAINER: return splut_trainer_set_double(o->trainer, k, v);
    default: return SPLUT_E_UNKNOWN_PARAM; /* the context has no double keys */
    }
}

static splut_status get_double(const owners *o, splut_param_owner owner, splut_param k, double *v)
{
    switch (owner) {
    case SPLUT_OWNER_MODEL: return splut_model_get_double(o->model, k, v);
    case SPLUT_OWNER_TRAINER: return splut_trainer_get_double(o->trainer, k, v);
    default: return SPLUT_E_UNKNOWN_PARAM;
    }
}

/* An in-range value different from the current one. */
static double other_value(double now, double min, double max, splut_param_type type)
{
    double v = now != max ? max : min;
    splut_param_type t = type;
    if (t == SPLUT_PARAM_DOUBLE && v == min) /* min may be excluded: use the middle */
        v = min + (max - min) / 2;
    return v;
}

/* Which bytes of the object differ from the snapshot. */
static void assert_only_field_changed(const uint8_t *before, const uint8_t *after, size_t size,
                                      size_t offset, const char *name)
{
    for (size_t i = 0; i < size; i++) {
        bool in_field = i >= offset && i < offset + 8;
        if (!in_field && before[i] != after[i])
            fail_msg("setting '%s' changed byte %zu of its owner, outside its field at %zu",
                     name, i, offset);
    }
    if (memcmp(before + offset, after + offset, 8) == 0)
        fail_msg("setting '%s' left its field unchanged", name);
}

/* The value of key @p k through the public getter, as a double. */
static double public_value(const owners *o, const splut__param_def *k)
{
    int64_t i = 0;
    double d = 0;
    if (k->type == SPLUT_PARAM_INT)
        assert_int_equal(get_int(o, k->owner, k->key, &i), SPLUT_OK);
    else
        assert_int_equal(get_double(o, k->owner, k->key, &d), SPLUT_OK);
    return k->type == SPLUT_PARAM_INT ? (double)i : d;
}

/* Every other key of the owner still reads what it read before: two keys
 * sharing a field (the old `default:` branch) show up here. */
static void assert_other_keys_unchanged(const owners *o, const splut__param_def *p,
                                        const double *before)
{
    for (size_t i = 0; splut__param_at(i); i++) {
        const splut__param_def *k = splut__param_at(i);
        if (k == p || k->owner != p->owner)
            continue;
        if (public_value(o, k) != before[i])
            fail_msg("setting '%s' changed '%s'", p->name, k->name);
    }
}

static void roundtrip_key(const owners *o, const splut__param_def *p)
{
    double values[512];
    for (size_t i = 0; splut__param_at(i); i++) {
        assert_true(i < 512);
        const splut__param_def *k = splut__param_at(i);
        values[i] = k->owner == p->owner ? public_value(o, k) : 0;
    }
    size_t size;
    uint8_t *obj = object_of(o, p->owner, &size);
    assert_non_null(obj);
    uint8_t *before = malloc(size);
    assert_non_null(before);
    memcpy(before, obj, size);
    if (p->type == SPLUT_PARAM_INT) {
        int64_t now, got;
        assert_int_equal(get_int(o, p->owner, p->key, &now), SPLUT_OK);
        int64_t v = (int64_t)other_value((double)now, p->min, p->max, p->type);
        assert_int_equal(set_int(o, p->owner, p->key, v), SPLUT_OK);
        assert_only_field_changed(before, obj, size, p->offset, p->name);
        assert_other_keys_unchanged(o, p, values);
        assert_int_equal(get_int(o, p->owner, p->key, &got), SPLUT_OK);
        assert_true(got == v);
        assert_int_equal(set_int(o, p->owner, p->key, now), SPLUT_OK); /* restore */
        double d;
        assert_int_equal(get_double(o, p->owner, p->key, &d),
                         p->owner == SPLUT_OWNER_CTX ? SPLUT_E_UNKNOWN_PARAM
                                                     : SPLUT_E_PARAM_TYPE);
    } else {
        double now, got;
        assert_int_equal(get_double(o, p->owner, p->key, &now), SPLUT_OK);
        double v = other_value(now, p->min, p->max, p->type);
        assert_int_equal(set_double(o, p->owner, p->key, v), SPLUT_OK);
        assert_only_field_changed(before, obj, size, p->offset, p->name);
        assert_other_keys_unchanged(o, p, values);
        assert_int_equal(get_double(o, p->owner, p->key, &got), SPLUT_OK);
        assert_true(got == v);
        assert_int_equal(set_double(o, p->owner, p->key, now), SPLUT_OK);
        int64_t i;
        assert_int_equal(get_int(o, p->owner, p->key, &i), SPLUT_E_PARAM_TYPE);
    }
    assert_memory_equal(before, obj, size); /* the restore put every byte back */
    free(before);
}

/* Every key: its own field only, read back exactly. */
static void test_every_key_roundtrips_its_own_field(void **state)
{
    (void)state;
    owners o;
    owners_make(&o);
    size_t rows = 0;
    for (const splut__param_def *p; (p = splut__param_at(rows)) != NULL; rows++) {
        if (p->owner == SPLUT_OWNER_RUN)
            continue; /* the run object is tested with it */
        roundtrip_key(&o, p);
    }
    assert_true(rows >= 34);
    owners_free(&o);
}

/* A key of one object is refused by every other object's accessors, before
 * anything is written. */
static void test_foreign_keys_are_refused(void **state)
{
    (void)state;
    owners o;
    owners_make(&o);
    const splut_param_owner all[] = {SPLUT_OWNER_CTX, SPLUT_OWNER_MODEL, SPLUT_OWNER_TRAINER};
    for (size_t i = 0; splut__param_at(i); i++) {
        const splut__param_def *p = splut__param_at(i);
        for (size_t k = 0; k < 3; k++) {
            if (all[k] == p->owner)
                continue;
            size_t size;
            uint8_t *obj = object_of(&o, all[k], &size);
            uint8_t *before = malloc(size);
            assert_non_null(before);
            memcpy(before, obj, size);
            int64_t iv = (int64_t)p->dflt;
            double dv = p->dflt;
            splut_status st = p->type == SPLUT_PARAM_INT ? set_int(&o, all[k], p->key, iv)
                                                         : set_double(&o, all[k], p->key, dv);
            assert_int_equal(st, SPLUT_E_UNKNOWN_PARAM);
            /* the refusal writes the context's message, nothing before it */
            size_t kept = all[k] == SPLUT_OWNER_CTX ? offsetof(struct splut_ctx, refcount) : size;
            assert_int_equal(memcmp(before, obj, kept), 0);
            free(before);
        }
    }
    /* keys nobody owns */
    const int unknown[] = {0, 4, 99, 101, 199, 208, 225, 299, 999, -1};
    for (size_t i = 0; i < sizeof(unknown) / sizeof(unknown[0]); i++) {
        int64_t v = 0;
        assert_int_equal(splut_ctx_set_int(o.ctx, (splut_param)unknown[i], 0),
                         SPLUT_E_UNKNOWN_PARAM);
        assert_int_equal(splut_model_set_int(o.model, (splut_param)unknown[i], 0),
                         SPLUT_E_UNKNOWN_PARAM);
        assert_int_equal(splut_trainer_get_int(o.trainer, (splut_param)unknown[i], &v),
                         SPLUT_E_UNKNOWN_PARAM);
    }
    owners_free(&o);
}

/* New objects start from the table's defaults. */
static void test_new_objects_hold_the_defaults(void **state)
{
    (void)state;
    owners o;
    owners_make(&o);
    for (size_t i = 0; splut__param_at(i); i++) {
        const splut__param_def *p = splut__param_at(i);
        if (p->owner == SPLUT_OWNER_RUN)
            continue;
        if (p->type == SPLUT_PARAM_INT) {
            int64_t v;
            assert_int_equal(get_int(&o, p->owner, p->key, &v), SPLUT_OK);
            if (v != (int64_t)p->dflt)
                fail_msg("'%s' starts at %lld, the table says %g", p->name, (long long)v,
                         p->dflt);
        } else {
            double v;
            assert_int_equal(get_double(&o, p->owner, p->key, &v), SPLUT_OK);
            if (v != p->dflt)
                fail_msg("'%s' starts at %g, the table says %g", p->name, v, p->dflt);
        }
    }
    owners_free(&o);
}

/* The public views of the table: enumeration, names, describe, info. */
static void test_public_table_views(void **state)
{
    (void)state;
    size_t n = 0, experimental = 0;
    int prev = 0;
    for (int k = splut_param_next(0); k != 0; k = splut_param_next(k)) {
        assert_true(k > prev);
        prev = k;
        const splut__param_def *p = splut__param_find((splut_param)k);
        assert_non_null(p);
        assert_string_equal(splut_param_name((splut_param)k), p->name);
        splut_param_owner owner = 0;
        unsigned flags = 99;
        assert_int_equal(splut_param_describe((splut_param)k, &owner, &flags), SPLUT_OK);
        assert_int_equal(owner, p->owner);
        assert_int_equal(flags, p->flags | (p->min_open ? SPLUT_PARAM_MIN_OPEN : 0u));
        int lo = owner == SPLUT_OWNER_CTX ? 1 : (int)owner * 100 - 100;
        assert_true(k >= lo && k <= lo + 99 - (owner == SPLUT_OWNER_CTX));
        experimental += (flags & SPLUT_PARAM_EXPERIMENTAL) != 0;
        assert_false((flags & SPLUT_PARAM_SAVED) && (flags & SPLUT_PARAM_EXPERIMENTAL));
        n++;
    }
    size_t rows = 0;
    while (splut__param_at(rows))
        rows++;
    assert_int_equal(n, rows);
    /* the seven research knobs of sparselut-experimental.h */
    assert_int_equal(experimental, 7);
    const splut_param knobs[] = {SPLUT_P_CONN_SWAP,    SPLUT_P_CONN_PLATEAU, SPLUT_P_CONN_COVER,
                                 SPLUT_P_CONN_EXPLORE, SPLUT_P_CONN_STAGGER, SPLUT_P_CONN_WARM,
                                 SPLUT_P_BN_FROZEN};
    for (size_t i = 0; i < 7; i++) {
        unsigned flags = 0;
        assert_int_equal(splut_param_describe(knobs[i], NULL, &flags), SPLUT_OK);
        assert_true(flags & SPLUT_PARAM_EXPERIMENTAL);
    }
    assert_int_equal(splut_param_describe((splut_param)4, NULL, NULL), SPLUT_E_UNKNOWN_PARAM);
    assert_int_equal(splut_param_next(1 << 30), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_key_roundtrips_its_own_field),
        cmocka_unit_test(test_foreign_keys_are_refused),
        cmocka_unit_test(test_new_objects_hold_the_defaults),
        cmocka_unit_test(test_public_table_views),
    };
    return cmocka_run_group_tests_name("params", tests, NULL, NULL);
}
