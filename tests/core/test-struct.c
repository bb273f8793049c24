/*
 * Size-versioned structs: every known size is accepted, a larger struct from
 * a newer caller is accepted when its unknown tail is zero and refused when
 * it is not, a smaller unknown size is refused (splut__struct_check and the
 * three public structs that use it).
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "core-priv.h"

/* A struct that grew at two releases: 16, then 24 bytes. */
static void test_helper_known_sizes_and_tails(void **state)
{
    (void)state;
    const size_t known[] = {16, 24};
    unsigned char buf[64];
    memset(buf, 0xab, 24); /* the known part may hold anything */
    memset(buf + 24, 0, sizeof(buf) - 24);
    assert_int_equal(splut__struct_check(NULL, "s", buf, 16, known, 2), SPLUT_OK);
    assert_int_equal(splut__struct_check(NULL, "s", buf, 24, known, 2), SPLUT_OK);
    assert_int_equal(splut__struct_check(NULL, "s", buf, 20, known, 2), SPLUT_E_STRUCT_SIZE);
    assert_int_equal(splut__struct_check(NULL, "s", buf, 8, known, 2), SPLUT_E_STRUCT_SIZE);
    assert_int_equal(splut__struct_check(NULL, "s", buf, 0, known, 2), SPLUT_E_STRUCT_SIZE);
    assert_int_equal(splut__struct_check(NULL, "s", buf, 64, known, 2), SPLUT_OK);
    assert_int_equal(splut__struct_check(NULL, "s", buf, 25, known, 2), SPLUT_OK);
    buf[63] = 1; /* a newer field this library cannot honour */
    assert_int_equal(splut__struct_check(NULL, "s", buf, 64, known, 2), SPLUT_E_STRUCT_SIZE);
    assert_int_equal(splut__struct_check(NULL, "s", buf, 63, known, 2), SPLUT_OK);
    /* absurd sizes are refused before the tail is read */
    assert_int_equal(splut__struct_check(NULL, "s", buf, SIZE_MAX, known, 2),
                     SPLUT_E_STRUCT_SIZE);
}

/* Each public struct followed by room for fields of a newer release. */
typedef struct {
    splut_layer_desc d;
    uint64_t newer[4];
} big_layer_desc;
typedef struct {
    splut_table_info i;
    uint64_t newer[4];
} big_table_info;
typedef struct {
    splut_hdl_opts o;
    uint64_t newer[4];
} big_hdl_opts;

static splut_layer_desc linear_layer(void)
{
    splut_layer_desc d = SPLUT_LAYER_DESC_INIT;
    d.kind = SPLUT_NEURON_LINEAR;
    d.width = 2;
    d.fan_in = 2;
    d.out_bits = 2;
    return d;
}

static void test_layer_desc_sizes(void **state)
{
    (void)state;
    splut_ctx *ctx;
    splut_model *m;
    assert_int_equal(splut_ctx_create(NULL, &ctx), SPLUT_OK);
    assert_int_equal(splut_model_create(ctx, 4, 2, &m), SPLUT_OK);
    big_layer_desc b;
    memset(&b, 0, sizeof(b));
    b.d = linear_layer();
    b.d.size = sizeof(b);
    assert_int_equal(splut_model_add_layer(m, &b.d), SPLUT_OK); /* zero tail */
    b.newer[3] = 7;
    assert_int_equal(splut_model_add_layer(m, &b.d), SPLUT_E_STRUCT_SIZE);
    assert_non_null(strstr(splut_ctx_last_error(ctx), "not zero"));
    b.newer[3] = 0;
    b.d.size = sizeof(splut_layer_desc) - 4;
    assert_int_equal(splut_model_add_layer(m, &b.d), SPLUT_E_STRUCT_SIZE);
    assert_int_equal(splut_model_build(m), SPLUT_OK);
    /* reading into a larger struct fills the known part, keeps the zero tail */
    memset(&b, 0, sizeof(b));
    b.d.size = sizeof(b);
    assert_int_equal(splut_model_layer(m, 0, &b.d), SPLUT_OK);
    assert_int_equal(b.d.width, 2);
    assert_int_equal(b.newer[0] | b.newer[1] | b.newer[2] | b.newer[3], 0);
    b.newer[0] = 1;
    assert_int_equal(splut_model_layer(m, 0, &b.d), SPLUT_E_STRUCT_SIZE);
    splut_model_destroy(m);
    splut_ctx_unref(ctx);
}

static void test_table_info_and_hdl_opts_sizes(void **state)
{
    (void)state;
    splut_ctx *ctx;
    splut_model *m;
    splut_tables *t;
    assert_int_equal(splut_ctx_create(NULL, &ctx), SPLUT_OK);
    assert_int_equal(splut_model_create(ctx, 4, 2, &m), SPLUT_OK);
    splut_layer_desc d = linear_layer();
    assert_int_equal(splut_model_add_layer(m, &d), SPLUT_OK);
    assert_int_equal(splut_model_build(m), SPLUT_OK);
    assert_int_equal(splut_tables_create(m, &t), SPLUT_OK);

    big_table_info bi;
    memset(&bi, 0, sizeof(bi));
    bi.i.size = sizeof(bi);
    assert_int_equal(splut_tables_info(t, 0, 0, 0, &bi.i), SPLUT_OK);
    assert_int_equal(bi.i.in_fields, 2);
    bi.newer[2] = 1;
    assert_int_equal(splut_tables_info(t, 0, 0, 0, &bi.i), SPLUT_E_STRUCT_SIZE);
    bi.i.size = sizeof(splut_table_info) - 8;
    assert_int_equal(splut_tables_info(t, 0, 0, 0, &bi.i), SPLUT_E_STRUCT_SIZE);

    big_hdl_opts bo;
    memset(&bo, 0, sizeof(bo));
    splut_hdl_opts o = SPLUT_HDL_OPTS_INIT;
    bo.o = o;
    bo.o.size = sizeof(bo);
    uint32_t cycles = 99;
    assert_int_equal(splut_hdl_latency(t, &bo.o, &cycles), SPLUT_OK);
    assert_int_equal(cycles, 0);
    bo.newer[1] = 1;
    assert_int_equal(splut_hdl_latency(t, &bo.o, &cycles), SPLUT_E_STRUCT_SIZE);
    bo.o.size = sizeof(splut_hdl_opts) - 1;
    assert_int_equal(splut_hdl_latency(t, &bo.o, &cycles), SPLUT_E_STRUCT_SIZE);

    splut_tables_destroy(t);
    splut_model_destroy(m);
    splut_ctx_unref(ctx);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_helper_known_sizes_and_tails),
        cmocka_unit_test(test_layer_desc_sizes),
        cmocka_unit_test(test_table_info_and_hdl_opts_sizes),
    };
    return cmocka_run_group_tests_name("struct", tests, NULL, NULL);
}
