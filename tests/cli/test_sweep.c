/*
 * Copyright 2026 The libsparselut authors
 * SPDX-License-Identifier: Apache-2.0
 *
 * The sweep file parser and expansion (tools/sweep-spec.c) and the JSON
 * reader (tools/sweep-json.c) of `sparselut sweep` and `sparselut report`.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "sweep.h"

static char err[1024];

static int parse(const char *text, sweep_spec *s)
{
    err[0] = '\0';
    return sweep_spec_parse(text, "t.ini", s, err, sizeof err);
}

/* Point @p k of @p text (which must parse). */
static void point_of(const char *text, size_t k, sweep_point *p)
{
    sweep_spec s;
    assert_int_equal(parse(text, &s), 0);
    assert_int_equal(sweep_point_make(&s, k, p, err, sizeof err), 0);
    /* the point keeps a pointer to its section name: copy what tests need */
    sweep_spec_free(&s);
    p->section = NULL;
}

static uint64_t hash_of(const char *text, size_t k)
{
    sweep_point p;
    point_of(text, k, &p);
    uint64_t h = p.hash;
    sweep_point_free(&p);
    return h;
}

static void test_lists_ranges_quotes(void **state)
{
    (void)state;
    sweep_spec s;
    assert_int_equal(parse("data = \"csv:a.csv,b.csv\"\nseed = 1, 3..5, 10..20/5\n", &s), 0);
    assert_int_equal(s.n_axes, 2);
    assert_int_equal(s.axes[0].n, 1);
    assert_string_equal(s.axes[0].values[0], "csv:a.csv,b.csv");
    const char *want[] = {"1", "3", "4", "5", "10", "15", "20"};
    assert_int_equal(s.axes[1].n, 7);
    for (size_t i = 0; i < 7; i++)
        assert_string_equal(s.axes[1].values[i], want[i]);
    assert_int_equal(s.n_points, 7);
    sweep_spec_free(&s);
}

static void test_cartesian_order(void **state)
{
    (void)state;
    const char *text = "data = d\npreset = a, b\nseed = 1, 2, 3\n";
    sweep_point p;
    point_of(text, 4, &p); /* the last list varies fastest: (b, 2) */
    assert_string_equal(sweep_point_opt(&p, "preset"), "b");
    assert_string_equal(sweep_point_opt(&p, "seed"), "2");
    sweep_point_free(&p);
}

static void test_sections_override(void **state)
{
    (void)state;
    const char *text = "data = d\npreset = hdr\nepochs = 5\nseed = 1, 2\n"
                       "[random]\n[learned]\nconnectivity = learned\nswitch-epoch = 2\n"
                       "epochs = 9\n";
    sweep_spec s;
    assert_int_equal(parse(text, &s), 0);
    assert_int_equal(s.n_sections, 2);
    assert_int_equal(s.n_points, 4);
    sweep_point p;
    assert_int_equal(sweep_point_make(&s, 1, &p, err, sizeof err), 0);
    assert_string_equal(p.section, "random");
    assert_null(sweep_point_opt(&p, "connectivity"));
    assert_string_equal(sweep_point_opt(&p, "epochs"), "5");
    sweep_point_free(&p);
    assert_int_equal(sweep_point_make(&s, 3, &p, err, sizeof err), 0);
    assert_string_equal(p.section, "learned");
    assert_string_equal(sweep_point_opt(&p, "epochs"), "9");
    assert_string_equal(sweep_point_opt(&p, "seed"), "2");
    assert_string_equal(sweep_point_opt(&p, "switch-epoch"), "2");
    sweep_point_free(&p);
    assert_int_not_equal(sweep_point_make(&s, 4, &p, err, sizeof err), 0);
    sweep_spec_free(&s);
}

/* The hash names the settings, not the way they were written. */
static void test_hash_canonical(void **state)
{
    (void)state;
    uint64_t a = hash_of("data = d\narch = 4:2  poly:8:F2:b2\nseed = 1\n", 0);
    uint64_t b = hash_of("# same settings\nseed=1\n  arch =4:2 poly:8:F2:b2 \ndata = d\n", 0);
    uint64_t c = hash_of("[only]\ndata = d\narch = 4:2 poly:8:F2:b2\nseed = 1\n", 0);
    uint64_t d = hash_of("data = d\narch = 4:2 poly:8:F2:b2\nseed = 2\n", 0);
    uint64_t e = hash_of("data = d\narch = 4:2 poly:8:F2:b2\nseed = 1\nkeep-best = no\n", 0);
    uint64_t f = hash_of("data = d\narch = 4:2 poly:8:F2:b2\nseed = 1\nkeep-best = yes\n", 0);
    assert_true(a == b);
    assert_true(a == c);
    assert_true(a == e);
    assert_true(a != d);
    assert_true(a != f);
}

/* `hardware` is a setting of every point: absent means fast, so a point's
 * hash changes with the estimate it records. */
static void test_hardware_setting(void **state)
{
    (void)state;
    const char *base = "data = d\narch = 4:2 poly:8:F2:b2\n";
    char fast[128], model[128], bad[128];
    snprintf(fast, sizeof fast, "%shardware = fast\n", base);
    snprintf(model, sizeof model, "%shardware = model\n", base);
    snprintf(bad, sizeof bad, "%shardware = yosys\n", base);
    assert_true(hash_of(base, 0) == hash_of(fast, 0));
    assert_true(hash_of(base, 0) != hash_of(model, 0));
    sweep_point p;
    point_of(base, 0, &p);
    assert_string_equal(sweep_point_opt(&p, "hardware"), "fast");
    assert_int_equal(p.n_opts, 3);
    assert_true(sweep_is_sweep_setting("hardware"));
    assert_false(sweep_is_sweep_setting("arch"));
    sweep_point_free(&p);
    sweep_spec s;
    assert_int_equal(parse(bad, &s), 0);
    assert_int_not_equal(sweep_point_make(&s, 0, &p, err, sizeof err), 0);
    assert_non_null(strstr(err, "fast or model"));
    sweep_spec_free(&s);
}

static void test_placeholders(void **state)
{
    (void)state;
    sweep_point p;
    point_of("data = d\narch = 4:2 poly:{W}:F{F}:b2 poly:2:F{F}:b2\n{W} = 8, 16\n{F} = 3\n", 1,
             &p);
    assert_string_equal(sweep_point_opt(&p, "arch"), "4:2 poly:16:F3:b2 poly:2:F3:b2");
    assert_int_equal(p.n_vars, 2);
    assert_string_equal(p.vars[0].key, "W");
    assert_string_equal(p.vars[0].value, "16");
    sweep_point_free(&p);

    sweep_spec s;
    assert_int_equal(parse("data = d\narch = {X}\n", &s), 0);
    assert_int_not_equal(sweep_point_make(&s, 0, &p, err, sizeof err), 0);
    assert_non_null(strstr(err, "{X}"));
    sweep_spec_free(&s);
    assert_int_equal(parse("data = d\npreset = hdr\n{W} = 1, 2\n", &s), 0);
    assert_int_not_equal(sweep_point_make(&s, 0, &p, err, sizeof err), 0);
    assert_non_null(strstr(err, "not used"));
    sweep_spec_free(&s);
}

static void test_flags(void **state)
{
    (void)state;
    sweep_point p;
    point_of("data = d\npreset = hdr\nkeep-best = true\n", 0, &p);
    assert_string_equal(sweep_point_opt(&p, "keep-best"), "yes");
    sweep_point_free(&p);
    sweep_spec s;
    assert_int_equal(parse("data = d\npreset = hdr\npretrain = maybe\n", &s), 0);
    assert_int_not_equal(sweep_point_make(&s, 0, &p, err, sizeof err), 0);
    sweep_spec_free(&s);
}

static void test_errors_name_the_line(void **state)
{
    (void)state;
    static const struct {
        const char *text, *msg;
    } bad[] = {
        {"data = d\nout = x\n", "t.ini:2"},
        {"data = d\nthreads = 4\n", "t.ini:2"},
        {"data = d\nseed = 5..2\n", "bad range"},
        {"data = d\nseed = 1,,2\n", "empty value"},
        {"data = d\nseed = 1\nseed = 2\n", "set twice"},
        {"data = d\n[a]\n[a]\n", "twice"},
        {"data = \"unterminated\n", "unterminated"},
        {"just words\n", "t.ini:1"},
        {"Data = d\n", "lower-case"},
        {"# nothing\n", "no settings"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        sweep_spec s;
        assert_int_not_equal(parse(bad[i].text, &s), 0);
        if (!strstr(err, bad[i].msg))
            fail_msg("case %zu: '%s' does not mention '%s'", i, err, bad[i].msg);
    }
}

static void test_json_values(void **state)
{
    (void)state;
    sj_node n;
    const char *text = "{\"a\": [1, -2.5e1, true, null], \"s\": \"x\\u00e9\\ud83d\\ude00\\n\\\"\","
                       " \"o\": {\"k\": {}}}";
    assert_int_equal(sj_parse(text, &n, err, sizeof err), 0);
    assert_int_equal(sj_len(sj_get(&n, "a")), 4);
    assert_true(sj_num(sj_at(sj_get(&n, "a"), 1), 0) == -25.0);
    assert_int_equal(sj_at(sj_get(&n, "a"), 2)->type, SJ_BOOL);
    assert_true(sj_num(sj_at(sj_get(&n, "a"), 3), 7) == 7); /* null reads as the default */
    assert_string_equal(sj_str(sj_get(&n, "s"), ""), "x\xc3\xa9\xf0\x9f\x98\x80\n\"");
    assert_int_equal(sj_get(sj_get(&n, "o"), "k")->type, SJ_OBJ);
    assert_null(sj_get(&n, "missing"));
    assert_null(sj_at(sj_get(&n, "a"), 4));
    sj_free(&n);
}

static void test_json_errors(void **state)
{
    (void)state;
    static const char *const bad[] = {
        "{\"a\": 1,}", "[1 2]", "\"open", "{\"a\" 1}", "[1] x", "", "-", "\"\\ud800\"",
        "\"\\q\"", "{1: 2}", "\"tab\there\"",
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        sj_node n;
        if (sj_parse(bad[i], &n, err, sizeof err) == 0)
            fail_msg("accepted bad JSON %zu: %s", i, bad[i]);
        assert_non_null(strstr(err, "JSON"));
    }
    char deep[200];
    memset(deep, '[', 100);
    memset(deep + 100, ']', 99);
    deep[199] = '\0';
    sj_node n;
    assert_int_not_equal(sj_parse(deep, &n, err, sizeof err), 0);
    assert_non_null(strstr(err, "deeply"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_lists_ranges_quotes), cmocka_unit_test(test_cartesian_order),
        cmocka_unit_test(test_sections_override),   cmocka_unit_test(test_hash_canonical),
        cmocka_unit_test(test_hardware_setting),
        cmocka_unit_test(test_placeholders),        cmocka_unit_test(test_flags),
        cmocka_unit_test(test_errors_name_the_line), cmocka_unit_test(test_json_values),
        cmocka_unit_test(test_json_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
