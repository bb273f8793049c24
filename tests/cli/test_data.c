/*
 * Copyright 2026 The libsparselut authors
 * SPDX-License-Identifier: Apache-2.0
 *
 * Dataset loaders: IDX parsing, CSV parsing and its errors, seeded split,
 * standardisation, the JSC layout on a generated file, and (when fetched)
 * the real MNIST / Fashion-MNIST files.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "data.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char tmpdir[] = "/tmp/splut-data-XXXXXX";

static void write_text(const char *path, const char *text)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    fputs(text, f);
    assert_int_equal(fclose(f), 0);
}

static void path_in_tmp(char *buf, size_t cap, const char *name)
{
    snprintf(buf, cap, "%s/%s", tmpdir, name);
}

/* ---- IDX ---- */

static size_t idx_image_file(uint8_t *buf, uint32_t n, uint32_t r, uint32_t c)
{
    const uint8_t hdr[16] = {0,        0,        8,         3,        (uint8_t)(n >> 24),
                             (uint8_t)(n >> 16), (uint8_t)(n >> 8), (uint8_t)n, 0,
                             0,        0,        (uint8_t)r, 0,        0,
                             0,        (uint8_t)c};
    memcpy(buf, hdr, 16);
    for (size_t i = 0; i < (size_t)n * r * c; i++)
        buf[16 + i] = (uint8_t)(i * 37 % 256);
    return 16 + (size_t)n * r * c;
}

static void test_idx_images_ok(void **state)
{
    (void)state;
    uint8_t buf[16 + 3 * 4 * 5];
    size_t len = idx_image_file(buf, 3, 4, 5), n;
    float *x;
    uint32_t f;
    char err[200];
    assert_int_equal(cli_idx_images(buf, len, "img", &x, &n, &f, err, sizeof err), 0);
    assert_int_equal(n, 3);
    assert_int_equal(f, 20);
    for (size_t i = 0; i < 60; i++) {
        double want = ((double)buf[16 + i] / 255.0 - 0.1307) / 0.3081;
        assert_true(fabs(x[i] - want) < 1e-5);
    }
    /* Pixel 0 maps to -mean/std; 255 to (1-mean)/std. */
    assert_true(fabs(x[0] - (-0.1307 / 0.3081)) < 1e-6);
    free(x);
}

static void test_idx_errors(void **state)
{
    (void)state;
    uint8_t buf[16 + 2 * 2 * 2 + 1];
    size_t len = idx_image_file(buf, 2, 2, 2), n;
    float *x;
    uint32_t f;
    char err[200];
    /* Truncated anywhere: header or payload. */
    for (size_t cut = 0; cut < len; cut++) {
        assert_int_equal(cli_idx_images(buf, cut, "img", &x, &n, &f, err, sizeof err), -1);
        assert_null(x);
    }
    assert_non_null(strstr(err, "truncated"));
    /* Trailing byte. */
    buf[len] = 0;
    assert_int_equal(cli_idx_images(buf, len + 1, "img", &x, &n, &f, err, sizeof err), -1);
    assert_non_null(strstr(err, "trailing"));
    /* Bad magic, element type, dimension count, zero dimension. */
    buf[0] = 1;
    assert_int_equal(cli_idx_images(buf, len, "img", &x, &n, &f, err, sizeof err), -1);
    assert_non_null(strstr(err, "not an IDX"));
    buf[0] = 0;
    buf[2] = 0x0D;
    assert_int_equal(cli_idx_images(buf, len, "img", &x, &n, &f, err, sizeof err), -1);
    assert_non_null(strstr(err, "type"));
    buf[2] = 8;
    buf[3] = 1;
    assert_int_equal(cli_idx_images(buf, len, "img", &x, &n, &f, err, sizeof err), -1);
    assert_non_null(strstr(err, "dimensions"));
    buf[3] = 3;
    buf[11] = 0;
    assert_int_equal(cli_idx_images(buf, len, "img", &x, &n, &f, err, sizeof err), -1);
    /* Labels: valid and wrong magic. */
    uint8_t lab[8 + 3] = {0, 0, 8, 1, 0, 0, 0, 3, 7, 0, 9};
    int32_t *y;
    assert_int_equal(cli_idx_labels(lab, sizeof lab, "lab", &y, &n, err, sizeof err), 0);
    assert_int_equal(n, 3);
    assert_int_equal(y[0], 7);
    assert_int_equal(y[2], 9);
    free(y);
    assert_int_equal(cli_idx_labels(lab, sizeof lab - 1, "lab", &y, &n, err, sizeof err), -1);
    assert_int_equal(cli_idx_images(lab, sizeof lab, "lab", &x, &n, &f, err, sizeof err), -1);
}

/* A tiny MNIST-like directory (gzip-compressed when gzip exists) via cli_data_load. */
static void test_mnist_dir_gz(void **state)
{
    (void)state;
    if (system("gzip --version >/dev/null 2>&1") != 0)
        skip();
    char dir[300], path[400], cmd[900];
    path_in_tmp(dir, sizeof dir, "mini");
    snprintf(cmd, sizeof cmd, "mkdir -p '%s'", dir);
    assert_int_equal(system(cmd), 0);
    uint8_t img[16 + 4 * 2 * 3]; /* 2 rows of 3: rows and columns must not be mixed up */
    size_t len = idx_image_file(img, 4, 2, 3);
    const uint8_t lab[8 + 4] = {0, 0, 8, 1, 0, 0, 0, 4, 1, 2, 3, 4};
    const char *prefix[2] = {"train", "t10k"};
    for (int k = 0; k < 2; k++) {
        snprintf(path, sizeof path, "%s/%s-images-idx3-ubyte", dir, prefix[k]);
        FILE *f = fopen(path, "wb");
        assert_non_null(f);
        fwrite(img, 1, len, f);
        fclose(f);
        snprintf(path, sizeof path, "%s/%s-labels-idx1-ubyte", dir, prefix[k]);
        f = fopen(path, "wb");
        assert_non_null(f);
        fwrite(lab, 1, sizeof lab, f);
        fclose(f);
    }
    snprintf(cmd, sizeof cmd, "gzip -f '%s'/*-ubyte", dir);
    assert_int_equal(system(cmd), 0);
    char spec[400];
    snprintf(spec, sizeof spec, "mnist:%s", dir);
    cli_data_opts o;
    cli_data_opts_init(&o);
    cli_data d;
    char err[300];
    assert_int_equal(cli_data_load(spec, &o, &d, err, sizeof err), 0);
    assert_int_equal(d.train.n, 4);
    assert_int_equal(d.test.n, 4);
    assert_int_equal(d.features, 6);
    assert_int_equal(d.width, 3);
    assert_int_equal(d.height, 2);
    assert_float_equal(d.background, (0.0 - 0.1307) / 0.3081, 1e-6);
    assert_int_equal(d.classes, 5);
    assert_int_equal(d.test.y[3], 4);
    cli_data_free(&d);
    /* A corrupted .gz is reported with the file name. */
    snprintf(path, sizeof path, "%s/t10k-labels-idx1-ubyte.gz", dir);
    FILE *f = fopen(path, "r+b");
    assert_non_null(f);
    fseek(f, -6, SEEK_END);
    fputc(0x55, f);
    fclose(f);
    assert_int_equal(cli_data_load(spec, &o, &d, err, sizeof err), -1);
    assert_non_null(strstr(err, "t10k-labels-idx1-ubyte.gz"));
    /* Missing directory. */
    assert_int_equal(cli_data_load("mnist:/nonexistent/dir", &o, &d, err, sizeof err), -1);
    assert_non_null(strstr(err, "not found"));
}

/* ---- CSV ---- */

static int parse_csv(const char *text, const char *label, cli_split *s, uint32_t *nf,
                     uint32_t *classes, char *err, size_t cap)
{
    return cli_csv_parse(text, "t.csv", label, s, nf, classes, err, cap);
}

static void free_split(cli_split *s)
{
    free(s->x);
    free(s->y);
}

static void test_csv_ok(void **state)
{
    (void)state;
    cli_split s;
    uint32_t nf, classes;
    char err[300];
    const char *text = "a, b ,\"lab\",c\r\n1,2,0,3\r\n\r\n-1.5e1,\"4\",2,+6\n";
    assert_int_equal(parse_csv(text, "lab", &s, &nf, &classes, err, sizeof err), 0);
    assert_int_equal(s.n, 2);
    assert_int_equal(nf, 3);
    assert_int_equal(classes, 3);
    const float want[6] = {1, 2, 3, -15, 4, 6};
    for (int i = 0; i < 6; i++)
        assert_true(s.x[i] == want[i]);
    assert_int_equal(s.y[0], 0);
    assert_int_equal(s.y[1], 2);
    free_split(&s);
    /* By index (0-based) and by default (last column). */
    assert_int_equal(parse_csv(text, "0", &s, &nf, &classes, err, sizeof err), -1);
    assert_non_null(strstr(err, "label '-1.5e1'")); /* column 0 holds -15: not a label */
    assert_int_equal(parse_csv("x,y\n0.5,1\n2,0\n", NULL, &s, &nf, &classes, err, sizeof err),
                     0);
    assert_int_equal(nf, 1);
    assert_int_equal(classes, 2);
    assert_true(s.x[1] == 2.0f);
    free_split(&s);
    assert_int_equal(parse_csv("y,x\n1,0.5\n0,2\n", "0", &s, &nf, &classes, err, sizeof err), 0);
    assert_true(s.x[0] == 0.5f && s.y[0] == 1);
    free_split(&s);
}

/* Error message of parsing @p text must contain @p want. */
static void expect_csv_error(const char *text, const char *label, const char *want)
{
    cli_split s;
    uint32_t nf, classes;
    char err[300] = "";
    assert_int_equal(parse_csv(text, label, &s, &nf, &classes, err, sizeof err), -1);
    if (!strstr(err, want))
        fail_msg("message '%s' lacks '%s'", err, want);
}

static void test_csv_errors(void **state)
{
    (void)state;
    expect_csv_error("", NULL, "t.csv: empty file");
    expect_csv_error("\n \n", NULL, "empty file");
    expect_csv_error("a,b\n", NULL, "no data rows");
    expect_csv_error("a,b\n1,2\n3\n", NULL, "t.csv:3:1: ragged row: 1 columns, header has 2");
    expect_csv_error("a,b\n1,2\n3,4,5\n", NULL, "t.csv:3:5: ragged row");
    expect_csv_error("a,b\n1,2\nx1,0\n", NULL, "t.csv:3:1: non-numeric cell 'x1' in column 'a'");
    expect_csv_error("a,b\n1,2\n1.5abc,0\n", NULL, "t.csv:3:1: non-numeric");
    expect_csv_error("a,b\n1,2\n  nan,0\n", NULL, "t.csv:3:3: non-finite value 'nan'");
    expect_csv_error("a,b\n1,2\n-inf,0\n", NULL, "non-finite");
    expect_csv_error("a,b\n1e999,0\n", NULL, "t.csv:2:1: non-finite");
    expect_csv_error("a,b\n1,,\n", NULL, "ragged");
    expect_csv_error("a,b\n,1\n", NULL, "t.csv:2:1: empty cell");
    expect_csv_error("a,b\n1,-1\n", NULL, "t.csv:2:3: label '-1' in column 'b' out of range");
    expect_csv_error("a,b\n1,0.5\n", NULL, "out of range");
    expect_csv_error("a,b\n1,70000\n", NULL, "out of range");
    expect_csv_error("a,b\n1,1\n", "zz", "no column named 'zz'");
    expect_csv_error("a,b\n1,1\n", "2", "index 2 out of range");
    expect_csv_error("a\n1\n", NULL, "at least one feature column");
    expect_csv_error("a,b\n\"1,1\n", NULL, "t.csv:2:1: unterminated quoted cell");
    expect_csv_error("a,b\n\"1\"x,1\n", NULL, "text after a closing quote");
}

static void test_csv_files_and_split(void **state)
{
    (void)state;
    char train[300], test[300], spec[700], err[300];
    path_in_tmp(train, sizeof train, "train.csv");
    path_in_tmp(test, sizeof test, "test.csv");
    /* 25 rows: feature = row index, label = row % 3. */
    char text[2000] = "f,g,label\n";
    for (int i = 0; i < 25; i++) {
        char line[64];
        snprintf(line, sizeof line, "%d,%d,%d\n", i, 2 * i + 1, i % 3);
        strcat(text, line);
    }
    write_text(train, text);
    write_text(test, "f,g,label\n100,7,1\n");
    cli_data_opts o;
    cli_data_opts_init(&o);
    o.label = "label";
    cli_data d;
    snprintf(spec, sizeof spec, "csv:%s,%s", train, test);
    assert_int_equal(cli_data_load(spec, &o, &d, err, sizeof err), 0);
    assert_int_equal(d.train.n, 25);
    assert_int_equal(d.test.n, 1);
    assert_true(d.test.x[0] == 100.0f);
    cli_data_free(&d);
    /* --split with a test file is refused. */
    o.split_set = 1;
    assert_int_equal(cli_data_load(spec, &o, &d, err, sizeof err), -1);
    /* Seeded split: 20% of 25 = 5 test rows, disjoint, covering all rows. */
    snprintf(spec, sizeof spec, "csv:%s", train);
    assert_int_equal(cli_data_load(spec, &o, &d, err, sizeof err), 0);
    assert_int_equal(d.test.n, 5);
    assert_int_equal(d.train.n, 20);
    int seen[25] = {0};
    for (size_t i = 0; i < d.train.n; i++)
        seen[(int)d.train.x[i * 2]]++;
    for (size_t i = 0; i < d.test.n; i++)
        seen[(int)d.test.x[i * 2]]++;
    for (int i = 0; i < 25; i++)
        assert_int_equal(seen[i], 1);
    /* Labels stay attached to their rows. */
    for (size_t i = 0; i < d.train.n; i++)
        assert_int_equal(d.train.y[i], (int)d.train.x[i * 2] % 3);
    float first_test = d.test.x[0];
    cli_data_free(&d);
    /* Same seed → same split; another seed → (here) another split. */
    assert_int_equal(cli_data_load(spec, &o, &d, err, sizeof err), 0);
    assert_true(d.test.x[0] == first_test);
    cli_data_free(&d);
    o.seed = 7;
    o.split = 0.4;
    assert_int_equal(cli_data_load(spec, &o, &d, err, sizeof err), 0);
    assert_int_equal(d.test.n, 10);
    cli_data_free(&d);
    /* Standardisation: train columns get mean 0 and population std 1. */
    o.standardize = 1;
    assert_int_equal(cli_data_load(spec, &o, &d, err, sizeof err), 0);
    for (int f = 0; f < 2; f++) {
        double sum = 0, sq = 0;
        for (size_t i = 0; i < d.train.n; i++)
            sum += d.train.x[i * 2 + f];
        for (size_t i = 0; i < d.train.n; i++)
            sq += pow(d.train.x[i * 2 + f] - sum / (double)d.train.n, 2);
        assert_true(fabs(sum / (double)d.train.n) < 1e-5);
        assert_true(fabs(sqrt(sq / (double)d.train.n) - 1) < 1e-5);
    }
    cli_data_free(&d);
    /* Bad specs and files. */
    assert_int_equal(cli_data_load("csv:", &o, &d, err, sizeof err), -1);
    assert_int_equal(cli_data_load("nope:x", &o, &d, err, sizeof err), -1);
    assert_non_null(strstr(err, "unknown kind"));
    assert_int_equal(cli_data_load("csv:/nonexistent.csv", &o, &d, err, sizeof err), -1);
    assert_non_null(strstr(err, "/nonexistent.csv: cannot open"));
    o.split = 1.5;
    assert_int_equal(cli_data_load(spec, &o, &d, err, sizeof err), -1);
}

static void test_permutation_matches_numpy(void **state)
{
    (void)state;
    /* numpy: np.random.RandomState(42).permutation(10) (published in many tutorials). */
    const size_t want[10] = {8, 1, 5, 0, 7, 2, 9, 4, 3, 6};
    size_t *p = cli_permutation(10, 42);
    assert_non_null(p);
    for (int i = 0; i < 10; i++)
        assert_int_equal(p[i], want[i]);
    free(p);
    /* Always a permutation. */
    p = cli_permutation(1000, 5);
    int seen[1000] = {0};
    for (int i = 0; i < 1000; i++)
        seen[p[i]]++;
    for (int i = 0; i < 1000; i++)
        assert_int_equal(seen[i], 1);
    free(p);
}

/* ---- JSC ---- */

static const char *const jsc_names[16] = {
    "j_zlogz",        "j_c1_b0_mmdt",    "j_c1_b1_mmdt", "j_c1_b2_mmdt", "j_c2_b1_mmdt",
    "j_c2_b2_mmdt",   "j_d2_b1_mmdt",    "j_d2_b2_mmdt", "j_d2_a1_b1_mmdt",
    "j_d2_a1_b2_mmdt", "j_m2_b1_mmdt",   "j_m2_b2_mmdt", "j_n2_b1_mmdt", "j_n2_b2_mmdt",
    "j_mass_mmdt",    "j_multiplicity"};

static void test_jsc_layout(void **state)
{
    (void)state;
    /* Columns in reverse order plus an unused one; class column in the middle. */
    size_t cap = 200000, len = 0;
    char *text = malloc(cap);
    assert_non_null(text);
    len += (size_t)snprintf(text + len, cap - len, "extra");
    for (int f = 15; f >= 0; f--) {
        len += (size_t)snprintf(text + len, cap - len, ",%s", jsc_names[f]);
        if (f == 8)
            len += (size_t)snprintf(text + len, cap - len, ",class");
    }
    text[len++] = '\n';
    /* 100 distinct rows + 20 exact duplicates (the extra column differs: ignored). */
    const char letters[5] = {'g', 'q', 'w', 'z', 't'}; /* reference class order */
    for (int r = 0; r < 120; r++) {
        int i = r < 100 ? r : (r - 100) * 3;
        len += (size_t)snprintf(text + len, cap - len, "%d", r);
        for (int f = 15; f >= 0; f--) {
            /* feature 0 = row id, feature 15 = class index, others vary */
            double v = f == 0 ? i : f == 15 ? (double)(i % 5) : (double)((i * (f + 3)) % 17);
            len += (size_t)snprintf(text + len, cap - len, ",%g", v);
            if (f == 8)
                len += (size_t)snprintf(text + len, cap - len, ",%c", letters[i % 5]);
        }
        text[len++] = '\n';
    }
    text[len] = 0;
    cli_data d;
    char err[300];
    assert_int_equal(cli_jsc_parse(text, "jsc.csv", 42, &d, err, sizeof err), 0);
    assert_int_equal(d.features, 16);
    assert_int_equal(d.classes, 5);
    assert_int_equal(d.test.n, 20); /* ceil(0.2 * 100) after dropping 20 duplicates */
    assert_int_equal(d.train.n, 80);
    /* Standardised with train statistics: train mean 0 / std 1 for feature 0. */
    double sum = 0, sq = 0;
    for (size_t i = 0; i < d.train.n; i++)
        sum += d.train.x[i * 16];
    for (size_t i = 0; i < d.train.n; i++)
        sq += pow(d.train.x[i * 16] - sum / 80.0, 2);
    assert_true(fabs(sum / 80.0) < 1e-5);
    assert_true(fabs(sqrt(sq / 80.0) - 1) < 1e-5);
    /* Feature 15 (= class index before scaling, monotone after) agrees with the label. */
    for (size_t i = 0; i < d.train.n; i++)
        for (size_t k = 0; k < d.train.n; k++)
            if (d.train.y[i] < d.train.y[k])
                assert_true(d.train.x[i * 16 + 15] < d.train.x[k * 16 + 15]);
    /* Every row id appears once across the splits: duplicates dropped, nothing lost. */
    float ids[100];
    for (size_t i = 0; i < 80; i++)
        ids[i] = d.train.x[i * 16];
    for (size_t i = 0; i < 20; i++)
        ids[80 + i] = d.test.x[i * 16];
    for (int i = 0; i < 100; i++)
        for (int k = i + 1; k < 100; k++)
            assert_true(ids[i] != ids[k]);
    cli_data_free(&d);
    /* A missing column and a bad class are reported. */
    assert_int_equal(cli_jsc_parse("j_zlogz,class\n1,g\n", "jsc.csv", 42, &d, err, sizeof err),
                     -1);
    assert_non_null(strstr(err, "missing"));
    char *bad = strstr(text, ",g,");
    assert_non_null(bad);
    bad[1] = 'x';
    assert_int_equal(cli_jsc_parse(text, "jsc.csv", 42, &d, err, sizeof err), -1);
    assert_non_null(strstr(err, "class 'x' is not one of"));
    free(text);
}

/* ---- robustness: mutated inputs never crash and either parse or report ---- */

static uint32_t lcg(uint32_t *s)
{
    *s = *s * 1664525u + 1013904223u;
    return *s >> 8;
}

static void mutate(char *buf, size_t len, uint32_t *s)
{
    static const char alphabet[] = "0123456789,.-+eE\"\n\r naxgqwzt";
    int edits = 1 + (int)(lcg(s) % 4);
    for (int k = 0; k < edits; k++)
        buf[lcg(s) % len] = alphabet[lcg(s) % (sizeof alphabet - 1)];
}

static void test_mutated_inputs(void **state)
{
    (void)state;
    const char *csv = "a,b,label\n1.5,2,0\n-3,4e2,1\n\"5\",6,2\n7,8,1\n";
    char jsc[2000] = "class";
    for (int f = 0; f < 16; f++) {
        strcat(jsc, ",");
        strcat(jsc, jsc_names[f]);
    }
    strcat(jsc, "\n");
    for (int r = 0; r < 6; r++) {
        char line[200];
        snprintf(line, sizeof line, "%c,%d,1,2,3,4,5,6,7,8,9,10,11,12,13,14,%d\n", "gqwzt"[r % 5],
                 r, r * 3);
        strcat(jsc, line);
    }
    uint32_t seed = 99;
    char buf[2000], err[300];
    int ok = 0, rejected = 0;
    for (int it = 0; it < 3000; it++) {
        const char *src = it % 2 ? csv : jsc;
        size_t len = strlen(src);
        memcpy(buf, src, len + 1);
        mutate(buf, len, &seed);
        int rc;
        if (it % 2) {
            cli_split sp;
            uint32_t nf, classes;
            rc = cli_csv_parse(buf, "m.csv", it % 3 ? NULL : "b", &sp, &nf, &classes, err,
                               sizeof err);
            if (!rc) {
                for (size_t i = 0; i < sp.n * nf; i++)
                    assert_true(isfinite(sp.x[i]));
                free_split(&sp);
            }
        } else {
            cli_data d;
            rc = cli_jsc_parse(buf, "m.csv", 1, &d, err, sizeof err);
            if (!rc)
                cli_data_free(&d);
        }
        if (rc) {
            assert_true(strlen(err) > 0);
            rejected++;
        } else {
            ok++;
        }
    }
    /* Both outcomes occur, so the mutations exercise both paths. */
    assert_true(ok > 0 && rejected > 0);
    /* IDX: random headers and lengths. */
    uint8_t idx[64];
    for (int it = 0; it < 3000; it++) {
        for (size_t i = 0; i < sizeof idx; i++)
            idx[i] = (uint8_t)(i < 16 ? (lcg(&seed) % 4 ? 0 : lcg(&seed)) : lcg(&seed));
        idx[2] = 8;
        idx[3] = (uint8_t)(1 + lcg(&seed) % 3);
        size_t len = lcg(&seed) % sizeof idx, n;
        float *x;
        int32_t *y;
        uint32_t f;
        if (!cli_idx_images(idx, len, "r", &x, &n, &f, err, sizeof err))
            free(x);
        if (!cli_idx_labels(idx, len, "r", &y, &n, err, sizeof err))
            free(y);
    }
}

/* ---- real data (when scripts/fetch-data has run) ---- */

static int cache_dir(char *buf, size_t cap, const char *name)
{
    const char *root = getenv("SPLUT_SOURCE_ROOT");
    if (!root)
        return -1;
    snprintf(buf, cap, "%s/.cache/%s", root, name);
    return access(buf, R_OK) == 0 ? 0 : -1;
}

static void test_real_mnist(void **state)
{
    (void)state;
    char dir[600], spec[700], err[300];
    if (cache_dir(dir, sizeof dir, "mnist"))
        skip();
    snprintf(spec, sizeof spec, "mnist:%s", dir);
    cli_data_opts o;
    cli_data_opts_init(&o);
    cli_data d;
    assert_int_equal(cli_data_load(spec, &o, &d, err, sizeof err), 0);
    assert_int_equal(d.train.n, 60000);
    assert_int_equal(d.test.n, 10000);
    assert_int_equal(d.features, 784);
    assert_int_equal(d.classes, 10);
    assert_int_equal(d.train.y[0], 5); /* the well-known first MNIST labels */
    assert_int_equal(d.test.y[0], 7);
    cli_data_free(&d);
}

static void test_real_fashion_gz_equals_raw(void **state)
{
    (void)state;
    char dir[600], gzdir[400], cmd[1500], spec[700], err[300];
    if (cache_dir(dir, sizeof dir, "fashion"))
        skip();
    snprintf(cmd, sizeof cmd, "%s/train-images-idx3-ubyte.gz", dir);
    if (access(cmd, R_OK) != 0)
        skip();
    /* A directory holding only the .gz files forces the gzip path. */
    path_in_tmp(gzdir, sizeof gzdir, "fgz");
    snprintf(cmd, sizeof cmd, "mkdir -p '%s' && ln -sf '%s'/*.gz '%s'/", gzdir, dir, gzdir);
    assert_int_equal(system(cmd), 0);
    cli_data_opts o;
    cli_data_opts_init(&o);
    cli_data raw, gz;
    snprintf(spec, sizeof spec, "fashion:%s", dir);
    assert_int_equal(cli_data_load(spec, &o, &raw, err, sizeof err), 0);
    snprintf(spec, sizeof spec, "fashion:%s", gzdir);
    assert_int_equal(cli_data_load(spec, &o, &gz, err, sizeof err), 0);
    assert_int_equal(raw.train.n, 60000);
    assert_int_equal(gz.train.n, 60000);
    assert_int_equal(gz.test.n, 10000);
    assert_memory_equal(raw.train.x, gz.train.x, 60000 * 784 * sizeof(float));
    assert_memory_equal(raw.test.y, gz.test.y, 10000 * sizeof(int32_t));
    cli_data_free(&raw);
    cli_data_free(&gz);
}

static int setup(void **state)
{
    (void)state;
    return mkdtemp(tmpdir) ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
    return system(cmd) == 0 ? 0 : -1;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_idx_images_ok),
        cmocka_unit_test(test_idx_errors),
        cmocka_unit_test(test_mnist_dir_gz),
        cmocka_unit_test(test_csv_ok),
        cmocka_unit_test(test_csv_errors),
        cmocka_unit_test(test_csv_files_and_split),
        cmocka_unit_test(test_permutation_matches_numpy),
        cmocka_unit_test(test_jsc_layout),
        cmocka_unit_test(test_mutated_inputs),
        cmocka_unit_test(test_real_mnist),
        cmocka_unit_test(test_real_fashion_gz_equals_raw),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
