/*
 * libsparselut-data: IDX, CSV, JSC and UNSW-NB15 loaders, the seeded split,
 * bit-identity with the CLI's former parsers, and the issue-26 file defects
 * (byte-order mark, CR line ends, float overflow, FIFOs, directories,
 * unreadable files, gzip bombs).
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "data-priv.h"
#include "gen-inputs.h"

static char tmpdir[] = "/tmp/splut-data-XXXXXX";
static splut_ctx *ctx;

static void write_bytes(const char *path, const void *data, size_t n)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(data, 1, n, f), n);
    assert_int_equal(fclose(f), 0);
}

static void write_text(const char *path, const char *text)
{
    write_bytes(path, text, strlen(text));
}

static void in_tmp(char *buf, size_t cap, const char *name)
{
    snprintf(buf, cap, "%s/%s", tmpdir, name);
}

static const char *last_error(void)
{
    return splut_ctx_last_error(ctx);
}

static void expect_error(splut_status got, splut_status want, const char *text)
{
    if (got != want)
        fail_msg("status %d (%s), expected %d; message '%s'", got, splut_status_str(got), want,
                 last_error());
    if (!strstr(last_error(), text))
        fail_msg("message '%s' lacks '%s'", last_error(), text);
}

static void destroy2(splut_dataset *a, splut_dataset *b)
{
    splut_dataset_destroy(a);
    splut_dataset_destroy(b);
}

/* ---- IDX ---- */

static size_t idx_image_file(uint8_t *buf, uint32_t n, uint32_t r, uint32_t c)
{
    const uint8_t hdr[16] = {0, 0, 8, 3, (uint8_t)(n >> 24), (uint8_t)(n >> 16), (uint8_t)(n >> 8),
                             (uint8_t)n, 0, 0, 0, (uint8_t)r, 0, 0, 0, (uint8_t)c};
    memcpy(buf, hdr, 16);
    for (size_t i = 0; i < (size_t)n * r * c; i++)
        buf[16 + i] = (uint8_t)(i * 37 % 256);
    return 16 + (size_t)n * r * c;
}

static void test_idx_parse_ok(void **state)
{
    (void)state;
    uint8_t img[16 + 3 * 4 * 5];
    const uint8_t lab[8 + 3] = {0, 0, 8, 1, 0, 0, 0, 3, 7, 0, 9};
    size_t len = idx_image_file(img, 3, 4, 5);
    splut_dataset *d;
    assert_int_equal(splut_data_parse_idx(ctx, img, len, lab, sizeof lab, "img", &d), SPLUT_OK);
    assert_int_equal(splut_dataset_num_samples(d), 3);
    assert_int_equal(splut_dataset_num_features(d), 20);
    const float *x = splut_dataset_features(d);
    for (size_t i = 0; i < 60; i++) {
        double want = ((double)img[16 + i] / 255.0 - 0.1307) / 0.3081;
        assert_true(fabs(x[i] - want) < 1e-5);
    }
    uint32_t w, h;
    float bg;
    assert_int_equal(splut_dataset_image(d, &w, &h, &bg), SPLUT_OK);
    assert_int_equal(w, 5);
    assert_int_equal(h, 4);
    assert_true(fabs(bg - (-0.1307 / 0.3081)) < 1e-6);
    assert_int_equal(splut_dataset_labels(d)[2], 9);
    splut_dataset_destroy(d);
}

static void test_idx_parse_errors(void **state)
{
    (void)state;
    uint8_t buf[16 + 2 * 2 * 2 + 1];
    const uint8_t lab[8 + 2] = {0, 0, 8, 1, 0, 0, 0, 2, 1, 2};
    size_t len = idx_image_file(buf, 2, 2, 2);
    splut_dataset *d = (splut_dataset *)1;
    for (size_t cut = 0; cut < len; cut++) {
        assert_int_equal(splut_data_parse_idx(ctx, buf, cut, lab, sizeof lab, "img", &d),
                         SPLUT_E_FORMAT);
        assert_null(d);
    }
    assert_non_null(strstr(last_error(), "truncated"));
    buf[len] = 0;
    expect_error(splut_data_parse_idx(ctx, buf, len + 1, lab, sizeof lab, "img", &d),
                 SPLUT_E_FORMAT, "trailing");
    buf[0] = 1;
    expect_error(splut_data_parse_idx(ctx, buf, len, lab, sizeof lab, "img", &d),
                 SPLUT_E_FORMAT, "not an IDX");
    buf[0] = 0;
    buf[2] = 0x0D;
    expect_error(splut_data_parse_idx(ctx, buf, len, lab, sizeof lab, "img", &d),
                 SPLUT_E_FORMAT, "type");
    buf[2] = 8;
    buf[3] = 1;
    expect_error(splut_data_parse_idx(ctx, buf, len, lab, sizeof lab, "img", &d),
                 SPLUT_E_FORMAT, "dimensions");
    buf[3] = 3;
    expect_error(splut_data_parse_idx(ctx, buf, len, lab, sizeof lab - 1, "img", &d),
                 SPLUT_E_FORMAT, "truncated");
    const uint8_t lab3[8 + 3] = {0, 0, 8, 1, 0, 0, 0, 3, 1, 2, 3};
    expect_error(splut_data_parse_idx(ctx, buf, len, lab3, sizeof lab3, "img", &d),
                 SPLUT_E_FORMAT, "3 labels for 2 images");
    buf[11] = 0;
    expect_error(splut_data_parse_idx(ctx, buf, len, lab, sizeof lab, "img", &d),
                 SPLUT_E_FORMAT, "dimension 1 is 0");
}

static void make_idx_dir(const char *dir, int gz)
{
    char path[400], cmd[900];
    snprintf(cmd, sizeof cmd, "mkdir -p '%s'", dir);
    assert_int_equal(system(cmd), 0);
    uint8_t img[16 + 4 * 2 * 3]; /* 2 rows of 3: rows and columns must not be mixed up */
    size_t len = idx_image_file(img, 4, 2, 3);
    const uint8_t lab[8 + 4] = {0, 0, 8, 1, 0, 0, 0, 4, 1, 2, 3, 4};
    const char *prefix[2] = {"train", "t10k"};
    for (int k = 0; k < 2; k++) {
        snprintf(path, sizeof path, "%s/%s-images-idx3-ubyte", dir, prefix[k]);
        write_bytes(path, img, len);
        snprintf(path, sizeof path, "%s/%s-labels-idx1-ubyte", dir, prefix[k]);
        write_bytes(path, lab, sizeof lab);
    }
    if (gz) {
        snprintf(cmd, sizeof cmd, "gzip -f '%s'/*-ubyte", dir);
        assert_int_equal(system(cmd), 0);
    }
}

static void test_idx_dir_gz(void **state)
{
    (void)state;
    if (system("gzip --version >/dev/null 2>&1") != 0 || !splut_data_has_zlib())
        skip();
    char dir[300], path[400], spec[400];
    in_tmp(dir, sizeof dir, "mini");
    make_idx_dir(dir, 1);
    snprintf(spec, sizeof spec, "mnist:%s", dir);
    splut_dataset *tr, *te;
    assert_int_equal(splut_data_load(ctx, spec, NULL, &tr, &te), SPLUT_OK);
    assert_int_equal(splut_dataset_num_samples(tr), 4);
    assert_int_equal(splut_dataset_num_samples(te), 4);
    assert_int_equal(splut_dataset_num_features(tr), 6);
    uint32_t w, h;
    assert_int_equal(splut_dataset_image(te, &w, &h, NULL), SPLUT_OK);
    assert_int_equal(w, 3);
    assert_int_equal(h, 2);
    assert_int_equal(splut_dataset_num_classes(tr), 5);
    assert_int_equal(splut_dataset_labels(te)[3], 4);
    destroy2(tr, te);
    /* mnist has no label column and a fixed normalisation (issue 26). */
    splut_data_opts o = SPLUT_DATA_OPTS_INIT;
    o.label = "3";
    expect_error(splut_data_load(ctx, spec, &o, &tr, &te), SPLUT_E_INVALID, "no label column");
    o.label = NULL;
    o.flags = SPLUT_DATA_STANDARDIZE;
    expect_error(splut_data_load(ctx, spec, &o, &tr, &te), SPLUT_E_INVALID, "standardised");
    /* A corrupted .gz is reported with the file name. */
    snprintf(path, sizeof path, "%s/t10k-labels-idx1-ubyte.gz", dir);
    FILE *f = fopen(path, "r+b");
    assert_non_null(f);
    fseek(f, -6, SEEK_END);
    fputc(0x55, f);
    fclose(f);
    assert_int_not_equal(splut_data_load(ctx, spec, NULL, &tr, &te), SPLUT_OK);
    assert_null(tr);
    assert_null(te);
    assert_non_null(strstr(last_error(), "t10k-labels-idx1-ubyte.gz"));
    expect_error(splut_data_load(ctx, "mnist:/nonexistent/dir", NULL, &tr, &te), SPLUT_E_IO,
                 "not found");
}

/* ---- CSV ---- */

static splut_status parse_csv(const char *text, const char *label, splut_dataset **d)
{
    splut_data_opts o = SPLUT_DATA_OPTS_INIT;
    o.label = label;
    return splut_data_parse_csv(ctx, text, strlen(text), "t.csv", &o, d);
}

static void test_csv_ok(void **state)
{
    (void)state;
    splut_dataset *d;
    const char *text = "a, b ,\"lab\",c\r\n1,2,0,3\r\n\r\n-1.5e1,\"4\",2,+6\n";
    assert_int_equal(parse_csv(text, "lab", &d), SPLUT_OK);
    assert_int_equal(splut_dataset_num_samples(d), 2);
    assert_int_equal(splut_dataset_num_features(d), 3);
    assert_int_equal(splut_dataset_num_classes(d), 3);
    const float want[6] = {1, 2, 3, -15, 4, 6};
    for (int i = 0; i < 6; i++)
        assert_true(splut_dataset_features(d)[i] == want[i]);
    assert_int_equal(splut_dataset_labels(d)[0], 0);
    assert_int_equal(splut_dataset_labels(d)[1], 2);
    splut_dataset_destroy(d);
    expect_error(parse_csv(text, "0", &d), SPLUT_E_LABEL, "label '-1.5e1'");
    assert_int_equal(parse_csv("x,y\n0.5,1\n2,0\n", NULL, &d), SPLUT_OK);
    assert_int_equal(splut_dataset_num_features(d), 1);
    assert_true(splut_dataset_features(d)[1] == 2.0f);
    splut_dataset_destroy(d);
    assert_int_equal(parse_csv("y,x\n1,0.5\n0,2\n", "0", &d), SPLUT_OK);
    assert_true(splut_dataset_features(d)[0] == 0.5f && splut_dataset_labels(d)[0] == 1);
    splut_dataset_destroy(d);
}

static void expect_csv_error(const char *text, const char *label, const char *want)
{
    splut_dataset *d = NULL;
    assert_int_not_equal(parse_csv(text, label, &d), SPLUT_OK);
    assert_null(d);
    if (!strstr(last_error(), want))
        fail_msg("message '%s' lacks '%s'", last_error(), want);
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
    splut_dataset *d = NULL;
    expect_error(splut_data_parse_csv(ctx, "a,b\n1\0,1\n", 9, "t.csv", NULL, &d), SPLUT_E_FORMAT,
                 "NUL bytes");
    splut_data_opts o = SPLUT_DATA_OPTS_INIT;
    o.flags = SPLUT_DATA_STANDARDIZE;
    expect_error(splut_data_parse_csv(ctx, "a,b\n1,1\n", 8, "t.csv", &o, &d), SPLUT_E_INVALID,
                 "no split or standardisation");
}

/* Issue 26: a UTF-8 byte-order mark is not part of the first column's name. */
static void test_csv_bom(void **state)
{
    (void)state;
    splut_dataset *d;
    assert_int_equal(parse_csv("\xef\xbb\xbf" "y,x\n1,0.5\n0,2\n", "y", &d), SPLUT_OK);
    assert_int_equal(splut_dataset_labels(d)[0], 1);
    assert_true(splut_dataset_features(d)[1] == 2.0f);
    splut_dataset_destroy(d);
    /* ... and a BOM anywhere else is text, not skipped. */
    expect_csv_error("y,x\n\xef\xbb\xbf" "1,0.5\n", "y", "t.csv:2:1: non-numeric");
}

/* Issue 26: CR-only and CRLF line ends give the rows (and the right line numbers). */
static void test_csv_line_ends(void **state)
{
    (void)state;
    const char *texts[3] = {"a,b\r1,0\r2,1\r\r3,1\r", "a,b\r\n1,0\r\n2,1\r\n\r\n3,1",
                            "a,b\n1,0\n2,1\n\n3,1\n"};
    for (int k = 0; k < 3; k++) {
        splut_dataset *d;
        assert_int_equal(parse_csv(texts[k], NULL, &d), SPLUT_OK);
        assert_int_equal(splut_dataset_num_samples(d), 3);
        assert_true(splut_dataset_features(d)[2] == 3.0f);
        assert_int_equal(splut_dataset_labels(d)[2], 1);
        splut_dataset_destroy(d);
    }
    expect_csv_error("a,b\r1,0\r\rx,1\r", NULL, "t.csv:4:1: non-numeric");
    expect_csv_error("a,b\r\n1,0\r\n\r\nx,1\r\n", NULL, "t.csv:4:1: non-numeric");
}

/* Issue 26: a value beyond the float range is reported where it is. */
static void test_csv_float_overflow(void **state)
{
    (void)state;
    expect_csv_error("a,b\n1,0\n2, 1e300\n", "a", "t.csv:3:4: value '1e300' in column 'b' "
                                                  "overflows a float");
    expect_csv_error("a,b\n-1e39,0\n", NULL, "t.csv:2:1: value '-1e39'");
    splut_dataset *d;
    assert_int_equal(parse_csv("a,b\n3.4e38,0\n", NULL, &d), SPLUT_OK);
    splut_dataset_destroy(d);
}

static void test_csv_files_and_split(void **state)
{
    (void)state;
    char train[300], test[300], spec[700];
    in_tmp(train, sizeof train, "train.csv");
    in_tmp(test, sizeof test, "test.csv");
    char text[2000] = "f,g,label\n";
    for (int i = 0; i < 25; i++) {
        char line[64];
        snprintf(line, sizeof line, "%d,%d,%d\n", i, 2 * i + 1, i % 3);
        strcat(text, line);
    }
    write_text(train, text);
    write_text(test, "f,g,label\n100,7,1\n");
    splut_data_opts o = SPLUT_DATA_OPTS_INIT;
    o.label = "label";
    splut_dataset *tr, *te;
    snprintf(spec, sizeof spec, "csv:%s,%s", train, test);
    assert_int_equal(splut_data_load(ctx, spec, &o, &tr, &te), SPLUT_OK);
    assert_int_equal(splut_dataset_num_samples(tr), 25);
    assert_int_equal(splut_dataset_num_samples(te), 1);
    assert_true(splut_dataset_features(te)[0] == 100.0f);
    destroy2(tr, te);
    o.flags = SPLUT_DATA_SPLIT_SET;
    expect_error(splut_data_load(ctx, spec, &o, &tr, &te), SPLUT_E_INVALID, "separate test");
    snprintf(spec, sizeof spec, "csv:%s", train);
    assert_int_equal(splut_data_load(ctx, spec, &o, &tr, &te), SPLUT_OK);
    assert_int_equal(splut_dataset_num_samples(te), 5);
    assert_int_equal(splut_dataset_num_samples(tr), 20);
    int seen[25] = {0};
    const float *xt = splut_dataset_features(tr), *xe = splut_dataset_features(te);
    for (size_t i = 0; i < 20; i++) {
        seen[(int)xt[i * 2]]++;
        assert_int_equal(splut_dataset_labels(tr)[i], (int)xt[i * 2] % 3);
    }
    for (size_t i = 0; i < 5; i++)
        seen[(int)xe[i * 2]]++;
    for (int i = 0; i < 25; i++)
        assert_int_equal(seen[i], 1);
    float first_test = xe[0];
    destroy2(tr, te);
    assert_int_equal(splut_data_load(ctx, spec, &o, &tr, &te), SPLUT_OK);
    assert_true(splut_dataset_features(te)[0] == first_test);
    destroy2(tr, te);
    o.seed = 7;
    o.split = 0.4;
    assert_int_equal(splut_data_load(ctx, spec, &o, &tr, &te), SPLUT_OK);
    assert_int_equal(splut_dataset_num_samples(te), 10);
    destroy2(tr, te);
    o.flags |= SPLUT_DATA_STANDARDIZE;
    assert_int_equal(splut_data_load(ctx, spec, &o, &tr, &te), SPLUT_OK);
    xt = splut_dataset_features(tr);
    size_t n = splut_dataset_num_samples(tr);
    for (int f = 0; f < 2; f++) {
        double sum = 0, sq = 0;
        for (size_t i = 0; i < n; i++)
            sum += xt[i * 2 + f];
        for (size_t i = 0; i < n; i++)
            sq += pow(xt[i * 2 + f] - sum / (double)n, 2);
        assert_true(fabs(sum / (double)n) < 1e-5);
        assert_true(fabs(sqrt(sq / (double)n) - 1) < 1e-5);
    }
    destroy2(tr, te);
    expect_error(splut_data_load(ctx, "csv:", &o, &tr, &te), SPLUT_E_INVALID, "bad data spec");
    expect_error(splut_data_load(ctx, "nope:x", &o, &tr, &te), SPLUT_E_INVALID, "unknown kind");
    expect_error(splut_data_load(ctx, "csv:/nonexistent.csv", &o, &tr, &te), SPLUT_E_IO,
                 "/nonexistent.csv: cannot open: No such file");
    o.split = 1.5;
    expect_error(splut_data_load(ctx, spec, &o, &tr, &te), SPLUT_E_INVALID, "outside (0, 1)");
    o.split = 0.2;
    o.seed = (uint64_t)1 << 32;
    expect_error(splut_data_load(ctx, spec, &o, &tr, &te), SPLUT_E_INVALID, "seed");
}

static void test_permutation_matches_numpy(void **state)
{
    (void)state;
    /* numpy: np.random.RandomState(42).permutation(10) (published in many tutorials). */
    const size_t want[10] = {8, 1, 5, 0, 7, 2, 9, 4, 3, 6};
    size_t *p = sd_permutation(10, 42);
    assert_non_null(p);
    for (int i = 0; i < 10; i++)
        assert_int_equal(p[i], want[i]);
    free(p);
    p = sd_permutation(1000, 5);
    int seen[1000] = {0};
    for (int i = 0; i < 1000; i++)
        seen[p[i]]++;
    for (int i = 0; i < 1000; i++)
        assert_int_equal(seen[i], 1);
    free(p);
}

static void test_opts_struct(void **state)
{
    (void)state;
    struct {
        splut_data_opts o;
        uint64_t tail;
    } big = {SPLUT_DATA_OPTS_INIT, 0};
    big.o.size = sizeof big;
    splut_data_opts out;
    assert_int_equal(sd_opts(ctx, &big.o, &out), SPLUT_OK);
    big.tail = 1;
    expect_error(sd_opts(ctx, &big.o, &out), SPLUT_E_STRUCT_SIZE, "unknown field");
    splut_data_opts small = SPLUT_DATA_OPTS_INIT;
    small.size = 8;
    expect_error(sd_opts(ctx, &small, &out), SPLUT_E_STRUCT_SIZE, "size 8");
    small.size = sizeof small;
    small.reserved = 1;
    expect_error(sd_opts(ctx, &small, &out), SPLUT_E_INVALID, "reserved");
}

/* ---- JSC ---- */

static void test_jsc_layout(void **state)
{
    (void)state;
    size_t cap = 200000, len = 0;
    char *text = malloc(cap);
    assert_non_null(text);
    len += (size_t)snprintf(text + len, cap - len, "extra");
    for (int f = 15; f >= 0; f--) {
        len += (size_t)snprintf(text + len, cap - len, ",%s", gen_jsc_names[f]);
        if (f == 8)
            len += (size_t)snprintf(text + len, cap - len, ",class");
    }
    text[len++] = '\n';
    const char letters[5] = {'g', 'q', 'w', 'z', 't'};
    for (int r = 0; r < 120; r++) {
        int i = r < 100 ? r : (r - 100) * 3;
        len += (size_t)snprintf(text + len, cap - len, "%d", r);
        for (int f = 15; f >= 0; f--) {
            double v = f == 0 ? i : f == 15 ? (double)(i % 5) : (double)((i * (f + 3)) % 17);
            len += (size_t)snprintf(text + len, cap - len, ",%g", v);
            if (f == 8)
                len += (size_t)snprintf(text + len, cap - len, ",%c", letters[i % 5]);
        }
        text[len++] = '\n';
    }
    text[len] = 0;
    splut_dataset *tr, *te;
    assert_int_equal(splut_data_parse_jsc(ctx, text, len, "jsc.csv", NULL, &tr, &te), SPLUT_OK);
    assert_int_equal(splut_dataset_num_features(tr), 16);
    assert_int_equal(splut_dataset_num_samples(te), 20);
    assert_int_equal(splut_dataset_num_samples(tr), 80);
    const float *x = splut_dataset_features(tr);
    const int32_t *y = splut_dataset_labels(tr);
    double sum = 0, sq = 0;
    for (size_t i = 0; i < 80; i++)
        sum += x[i * 16];
    for (size_t i = 0; i < 80; i++)
        sq += pow(x[i * 16] - sum / 80.0, 2);
    assert_true(fabs(sum / 80.0) < 1e-5);
    assert_true(fabs(sqrt(sq / 80.0) - 1) < 1e-5);
    for (size_t i = 0; i < 80; i++)
        for (size_t k = 0; k < 80; k++)
            if (y[i] < y[k])
                assert_true(x[i * 16 + 15] < x[k * 16 + 15]);
    float ids[100];
    for (size_t i = 0; i < 80; i++)
        ids[i] = x[i * 16];
    for (size_t i = 0; i < 20; i++)
        ids[80 + i] = splut_dataset_features(te)[i * 16];
    for (int i = 0; i < 100; i++)
        for (int k = i + 1; k < 100; k++)
            assert_true(ids[i] != ids[k]);
    destroy2(tr, te);
    const char *missing = "j_zlogz,class\n1,g\n";
    expect_error(splut_data_parse_jsc(ctx, missing, strlen(missing), "jsc.csv", NULL, &tr, &te),
                 SPLUT_E_FORMAT, "missing");
    char *bad = strstr(text, ",g,");
    assert_non_null(bad);
    bad[1] = 'x';
    expect_error(splut_data_parse_jsc(ctx, text, len, "jsc.csv", NULL, &tr, &te), SPLUT_E_FORMAT,
                 "class 'x' is not one of");
    free(text);
}

/* ---- bit identity with the CLI's former parsers (tools/data.c at ed7ec52) ---- */

typedef struct golden {
    const char *what;
    size_t ntrain, ntest;
    uint64_t train, test;
} golden;

static void check_golden(const golden *g, splut_dataset *tr, splut_dataset *te)
{
    if (splut_dataset_num_samples(tr) != g->ntrain ||
        splut_dataset_fingerprint(tr) != g->train ||
        (te && (splut_dataset_num_samples(te) != g->ntest ||
                splut_dataset_fingerprint(te) != g->test)))
        fail_msg("%s: not bit-identical to the former parser", g->what);
    destroy2(tr, te);
}

static void test_golden_csv_jsc(void **state)
{
    (void)state;
    static const golden g[] = {
        {"csv all rows", 500, 0, 0xd93f10086e6df41ull, 0},
        {"csv seeded split", 400, 100, 0xb1626f739341a421ull, 0xc94dd4d378f50403ull},
        {"csv standardised", 350, 150, 0xfc0704004c07bd49ull, 0x66d9a04ea3521f4full},
        {"jsc seed 42", 480, 120, 0xcfaad4f78656e054ull, 0x5d9b9be7dd455f63ull},
        {"jsc seed 3", 480, 120, 0xab2a3f88447c3c8full, 0x87ef23cf9c3699e6ull},
    };
    char path[300], spec[400];
    char *csv = gen_csv(500), *jsc = gen_jsc(700);
    assert_non_null(csv);
    assert_non_null(jsc);
    in_tmp(path, sizeof path, "g.csv");
    write_text(path, csv);
    splut_dataset *tr, *te;
    assert_int_equal(splut_data_parse_csv(ctx, csv, strlen(csv), "g.csv", NULL, &tr), SPLUT_OK);
    check_golden(&g[0], tr, NULL);
    snprintf(spec, sizeof spec, "csv:%s", path);
    assert_int_equal(splut_data_load(ctx, spec, NULL, &tr, &te), SPLUT_OK);
    check_golden(&g[1], tr, te);
    splut_data_opts o = SPLUT_DATA_OPTS_INIT;
    o.flags = SPLUT_DATA_STANDARDIZE;
    o.seed = 7;
    o.split = 0.3;
    o.label = "label";
    assert_int_equal(splut_data_load(ctx, spec, &o, &tr, &te), SPLUT_OK);
    check_golden(&g[2], tr, te);
    assert_int_equal(splut_data_parse_jsc(ctx, jsc, strlen(jsc), "j.csv", NULL, &tr, &te),
                     SPLUT_OK);
    check_golden(&g[3], tr, te);
    o = (splut_data_opts)SPLUT_DATA_OPTS_INIT;
    o.seed = 3;
    assert_int_equal(splut_data_parse_jsc(ctx, jsc, strlen(jsc), "j.csv", &o, &tr, &te),
                     SPLUT_OK);
    check_golden(&g[4], tr, te);
    free(csv);
    free(jsc);
}

/* The fetched data: $SPLUT_SOURCE_ROOT/.cache/NAME or ../data/NAME beside the tree. */
static int data_dir(char *buf, size_t cap, const char *name)
{
    const char *root = getenv("SPLUT_SOURCE_ROOT");
    if (!root)
        return -1;
    snprintf(buf, cap, "%s/.cache/%s/train-labels-idx1-ubyte", root, name);
    if (access(buf, R_OK) != 0 && access(strcat(buf, ".gz"), R_OK) != 0)
        snprintf(buf, cap, "%s/../data/%s/train-labels-idx1-ubyte", root, name);
    if (access(buf, R_OK) != 0)
        return -1;
    *strrchr(buf, '/') = 0;
    return 0;
}

static void test_golden_idx(void **state)
{
    (void)state;
    static const golden g[2] = {
        {"mnist", 60000, 10000, 0xd2fb46ae3022481eull, 0x2dec67fd86dc007aull},
        {"fashion", 60000, 10000, 0x5eadd7c67d005527ull, 0xcf4bb9f00822f812ull},
    };
    int ran = 0;
    for (int k = 0; k < 2; k++) {
        char dir[700], spec[800];
        if (data_dir(dir, sizeof dir, g[k].what))
            continue;
        snprintf(spec, sizeof spec, "%s:%s", g[k].what, dir);
        splut_dataset *tr, *te;
        assert_int_equal(splut_data_load(ctx, spec, NULL, &tr, &te), SPLUT_OK);
        assert_int_equal(splut_dataset_labels(tr)[0], k == 0 ? 5 : 9);
        check_golden(&g[k], tr, te);
        ran++;
    }
    if (!ran)
        skip();
}

/* The .gz files of Fashion-MNIST give the same floats as the raw ones. */
static void test_fashion_gz_equals_raw(void **state)
{
    (void)state;
    char dir[700], gzdir[300], cmd[1500], spec[800];
    if (data_dir(dir, sizeof dir, "fashion") || !splut_data_has_zlib())
        skip();
    snprintf(cmd, sizeof cmd, "%s/train-images-idx3-ubyte.gz", dir);
    if (access(cmd, R_OK) != 0)
        skip();
    in_tmp(gzdir, sizeof gzdir, "fgz");
    snprintf(cmd, sizeof cmd, "mkdir -p '%s' && ln -sf '%s'/*.gz '%s'/", gzdir, dir, gzdir);
    assert_int_equal(system(cmd), 0);
    splut_dataset *tr, *te;
    snprintf(spec, sizeof spec, "fashion:%s", gzdir);
    assert_int_equal(splut_data_load(ctx, spec, NULL, &tr, &te), SPLUT_OK);
    static const golden g = {"fashion .gz", 60000, 10000, 0x5eadd7c67d005527ull,
                             0xcf4bb9f00822f812ull};
    check_golden(&g, tr, te);
}

/* ---- issue 26: files that are not what they should be ---- */

static void test_fifo_and_directory(void **state)
{
    (void)state;
    char fifo[300], spec[400];
    in_tmp(fifo, sizeof fifo, "fifo.csv");
    assert_int_equal(mkfifo(fifo, 0600), 0);
    splut_dataset *tr, *te;
    snprintf(spec, sizeof spec, "csv:%s", fifo);
    /* Returns at once (no writer ever opens the FIFO). */
    expect_error(splut_data_load(ctx, spec, NULL, &tr, &te), SPLUT_E_IO, "is a FIFO");
    snprintf(spec, sizeof spec, "jsc:%s", tmpdir);
    expect_error(splut_data_load(ctx, spec, NULL, &tr, &te), SPLUT_E_IO, "is a directory");
    void *buf;
    size_t len;
    expect_error(splut_data_read_file(ctx, fifo, 0, &buf, &len), SPLUT_E_IO, "FIFO");
    assert_null(buf);
    /* An IDX directory whose image "file" is a directory. */
    char dir[300], sub[400];
    in_tmp(dir, sizeof dir, "idxdir");
    make_idx_dir(dir, 0);
    snprintf(sub, sizeof sub, "%s/t10k-images-idx3-ubyte", dir);
    assert_int_equal(unlink(sub), 0);
    assert_int_equal(mkdir(sub, 0700), 0);
    snprintf(spec, sizeof spec, "mnist:%s", dir);
    expect_error(splut_data_load(ctx, spec, NULL, &tr, &te), SPLUT_E_IO,
                 "t10k-images-idx3-ubyte: is a directory");
}

static void test_unreadable_file(void **state)
{
    (void)state;
    char dir[300], path[400], spec[500];
    in_tmp(dir, sizeof dir, "locked");
    make_idx_dir(dir, 0);
    /* A file that exists but cannot be opened (a symlink loop, also for root):
     * the errno text, not "not found … run scripts/fetch-data". */
    snprintf(path, sizeof path, "%s/t10k-labels-idx1-ubyte", dir);
    assert_int_equal(unlink(path), 0);
    assert_int_equal(symlink("t10k-labels-idx1-ubyte", path), 0);
    splut_dataset *tr, *te;
    snprintf(spec, sizeof spec, "mnist:%s", dir);
    expect_error(splut_data_load(ctx, spec, NULL, &tr, &te), SPLUT_E_IO,
                 "t10k-labels-idx1-ubyte: cannot open: Too many levels of symbolic links");
    assert_null(strstr(last_error(), "fetch-data"));
    if (geteuid() == 0) {
        print_message("chmod 0 case skipped: root reads any file\n");
        return;
    }
    snprintf(path, sizeof path, "%s/train-labels-idx1-ubyte", dir);
    assert_int_equal(chmod(path, 0), 0);
    expect_error(splut_data_load(ctx, spec, NULL, &tr, &te), SPLUT_E_IO, "Permission denied");
    assert_null(strstr(last_error(), "fetch-data"));
    snprintf(spec, sizeof spec, "csv:%s", path);
    expect_error(splut_data_load(ctx, spec, NULL, &tr, &te), SPLUT_E_IO,
                 "cannot open: Permission denied");
}

/* A gzip file of @p n zero bytes behind @p head (written raw first). */
static void gzip_zeros(const char *path, const void *head, size_t hlen, size_t n)
{
    char raw[400], cmd[900];
    snprintf(raw, sizeof raw, "%s.raw", path);
    FILE *f = fopen(raw, "wb");
    assert_non_null(f);
    fwrite(head, 1, hlen, f);
    char zero[4096] = {0};
    for (size_t k = 0; k < n; k += sizeof zero)
        fwrite(zero, 1, n - k < sizeof zero ? n - k : sizeof zero, f);
    assert_int_equal(fclose(f), 0);
    snprintf(cmd, sizeof cmd, "gzip -c '%s' > '%s' && rm '%s'", raw, path, raw);
    assert_int_equal(system(cmd), 0);
}

/* Overwrite the gzip trailer's size field (a lying bomb). */
static void set_isize(const char *path, uint32_t v)
{
    FILE *f = fopen(path, "r+b");
    assert_non_null(f);
    fseek(f, -4, SEEK_END);
    const uint8_t le[4] = {(uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16), (uint8_t)(v >> 24)};
    fwrite(le, 1, 4, f);
    assert_int_equal(fclose(f), 0);
}

/* An IDX directory whose train images are a gzip stream of @p bytes zeros behind a
 * header declaring one 28 x 28 image; @p img gets the path of that file. */
static void idx_bomb(char *dir, size_t dcap, char *img, size_t icap, const char *name,
                     size_t bytes)
{
    in_tmp(dir, dcap, name);
    make_idx_dir(dir, 0);
    snprintf(img, icap, "%s/train-images-idx3-ubyte", dir);
    assert_int_equal(unlink(img), 0);
    strcat(img, ".gz");
    const uint8_t head[16] = {0, 0, 8, 3, 0, 0, 0, 1, 0, 0, 0, 28, 0, 0, 0, 28};
    gzip_zeros(img, head, 16, bytes);
}

static void test_gzip_bomb(void **state)
{
    (void)state;
    if (system("gzip --version >/dev/null 2>&1") != 0 || !splut_data_has_zlib())
        skip();
    char path[300], spec[400];
    splut_dataset *tr, *te;
    /* A CSV .gz whose trailer declares 64 MB: refused against a 1 MB limit up front. */
    in_tmp(path, sizeof path, "bomb.csv.gz");
    gzip_zeros(path, "a,b\n", 4, (size_t)64 << 20);
    splut_data_opts o = SPLUT_DATA_OPTS_INIT;
    o.max_bytes = 1 << 20;
    snprintf(spec, sizeof spec, "csv:%s", path);
    expect_error(splut_data_load(ctx, spec, &o, &tr, &te), SPLUT_E_IO, "larger than the limit");
    /* The same bomb lying about its size: refused as soon as it passes what it declared. */
    /* A trailer claiming more than deflate can produce from the file is refused outright. */
    set_isize(path, 0xfffffff0u);
    expect_error(splut_data_load(ctx, spec, NULL, &tr, &te), SPLUT_E_FORMAT,
                 "more than");
    set_isize(path, 100);
    expect_error(splut_data_load(ctx, spec, NULL, &tr, &te), SPLUT_E_FORMAT,
                 "longer than its trailer declares");
    /* IDX: the header declares 1 image of 28 x 28, the stream holds 64 MB. */
    char dir[300], img[400];
    idx_bomb(dir, sizeof dir, img, sizeof img, "idxbomb", (size_t)64 << 20);
    snprintf(spec, sizeof spec, "mnist:%s", dir);
    expect_error(splut_data_load(ctx, spec, NULL, &tr, &te), SPLUT_E_FORMAT,
                 "IDX header promises 800 bytes, the file declares");
    set_isize(img, 800);
    expect_error(splut_data_load(ctx, spec, NULL, &tr, &te), SPLUT_E_FORMAT,
                 "IDX payload is longer than the 784 bytes");
}

/* A line "Key:  N kB" of /proc/self/status, in KB; -1 when unavailable. */
static long proc_status_kb(const char *key)
{
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    long v = -1;
    size_t n = strlen(key);
    while (f && fgets(line, sizeof line, f))
        if (strncmp(line, key, n) == 0 && line[n] == ':')
            v = strtol(line + n + 1, NULL, 10);
    if (f)
        fclose(f);
    return v;
}

/* How far the peak resident memory of a child grows while it loads @p spec,
 * which must fail (KB; the child inherits the parent's pages, so the growth
 * is what counts). */
static long child_growth_kb(const char *spec)
{
    int fd[2];
    assert_int_equal(pipe(fd), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        splut_ctx *c;
        splut_dataset *tr, *te;
        long before = proc_status_kb("VmRSS"), growth = -1;
        if (splut_ctx_create(NULL, &c) == SPLUT_OK &&
            splut_data_load(c, spec, NULL, &tr, &te) != SPLUT_OK && before >= 0)
            growth = proc_status_kb("VmHWM") - before;
        _exit(write(fd[1], &growth, sizeof growth) == sizeof growth ? 0 : 1);
    }
    close(fd[1]);
    long growth = -2;
    assert_int_equal(read(fd[0], &growth, sizeof growth), sizeof growth);
    close(fd[0]);
    int status;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    return growth;
}

/* Issue 26: a bomb is refused before it grows memory (it reached 2 GB before). */
static void test_gzip_bomb_memory(void **state)
{
    (void)state;
    if (system("gzip --version >/dev/null 2>&1") != 0 || !splut_data_has_zlib())
        skip();
    char dir[300], img[400], csv[300], spec[500];
    const size_t bomb = (size_t)256 << 20;
    idx_bomb(dir, sizeof dir, img, sizeof img, "idxbomb2", bomb);
    set_isize(img, 800); /* the trailer agrees with the header: only inflating shows the lie */
    snprintf(spec, sizeof spec, "mnist:%s", dir);
    if (proc_status_kb("VmHWM") < 0)
        skip(); /* no /proc */
    long idx_kb = child_growth_kb(spec);
    in_tmp(csv, sizeof csv, "bomb2.csv.gz");
    gzip_zeros(csv, "a,b\n", 4, bomb);
    set_isize(csv, 4000);
    snprintf(spec, sizeof spec, "csv:%s", csv);
    long csv_kb = child_growth_kb(spec);
    print_message("peak memory growth while refusing 256 MB bombs: IDX %ld KB, CSV %ld KB\n",
                  idx_kb, csv_kb);
    /* Far below the 256 MB the streams hold (a refused load may not grow at all). */
    assert_true(idx_kb >= 0 && idx_kb < 32 * 1024);
    assert_true(csv_kb >= 0 && csv_kb < 32 * 1024);
}

/* A gzip member with one stored block and a file name, built by hand (RFC 1952/1951). */
static size_t stored_member(uint8_t *buf, const char *text, uint32_t crc)
{
    size_t n = strlen(text), k = 0;
    const uint8_t head[10] = {0x1f, 0x8b, 8, 0x08 /* FNAME */, 0, 0, 0, 0, 0, 3};
    memcpy(buf, head, 10);
    k = 10;
    memcpy(buf + k, "t.txt", 6);
    k += 6;
    buf[k++] = 1; /* BFINAL, stored */
    buf[k++] = (uint8_t)n;
    buf[k++] = (uint8_t)(n >> 8);
    buf[k++] = (uint8_t)~n;
    buf[k++] = (uint8_t)(~n >> 8);
    memcpy(buf + k, text, n);
    k += n;
    for (int i = 0; i < 4; i++)
        buf[k++] = (uint8_t)(crc >> (8 * i));
    for (int i = 0; i < 4; i++)
        buf[k++] = (uint8_t)(n >> (8 * i));
    return k;
}

static splut_status read_bytes(const uint8_t *data, size_t n, size_t *len, char *out)
{
    char path[300];
    in_tmp(path, sizeof path, "g.gz");
    write_bytes(path, data, n);
    void *buf = NULL;
    splut_status st = splut_data_read_file(ctx, path, 0, &buf, len);
    if (!st && out)
        memcpy(out, buf, *len + 1);
    splut_data_free(buf);
    return st;
}

/* The gzip layer: a hand-built member decodes; bad CRC, bad size, concatenated
 * members, trailing bytes and every truncation are refused with a message. */
static void test_gzip_members(void **state)
{
    (void)state;
    if (!splut_data_has_zlib())
        skip();
    uint8_t buf[200], two[400];
    char out[64];
    size_t len;
    /* CRC-32 of "123456789" is the published check value 0xCBF43926. */
    size_t n = stored_member(buf, "123456789", 0xCBF43926u);
    assert_int_equal(read_bytes(buf, n, &len, out), SPLUT_OK);
    assert_int_equal(len, 9);
    assert_string_equal(out, "123456789");
    memcpy(two, buf, n);
    memcpy(two + n, buf, n);
    expect_error(read_bytes(two, 2 * n, &len, NULL), SPLUT_E_FORMAT, "concatenated gzip members");
    /* Trailing bytes: whatever they make of the trailer, the file is refused. */
    two[n] = 'x';
    assert_int_equal(read_bytes(two, n + 1, &len, NULL), SPLUT_E_FORMAT);
    memset(two + n, 0, 8);
    assert_int_equal(read_bytes(two, n + 8, &len, NULL), SPLUT_E_FORMAT);
    for (size_t cut = 2; cut < n; cut++)
        assert_int_not_equal(read_bytes(buf, cut, &len, NULL), SPLUT_OK);
    buf[n - 8] ^= 1; /* CRC */
    expect_error(read_bytes(buf, n, &len, NULL), SPLUT_E_FORMAT, "corrupt gzip data");
    buf[n - 8] ^= 1;
    buf[n - 4] = 10; /* ISIZE */
    assert_int_equal(read_bytes(buf, n, &len, NULL), SPLUT_E_FORMAT);
}

static void test_read_file(void **state)
{
    (void)state;
    char path[300], cmd[700];
    in_tmp(path, sizeof path, "plain.txt");
    write_text(path, "hello\n");
    void *buf;
    size_t len;
    assert_int_equal(splut_data_read_file(ctx, path, 0, &buf, &len), SPLUT_OK);
    assert_int_equal(len, 6);
    assert_string_equal(buf, "hello\n");
    splut_data_free(buf);
    expect_error(splut_data_read_file(ctx, path, 3, &buf, &len), SPLUT_E_IO, "limit of 3");
    if (system("gzip --version >/dev/null 2>&1") != 0)
        skip();
    snprintf(cmd, sizeof cmd, "gzip -f '%s'", path);
    assert_int_equal(system(cmd), 0);
    strcat(path, ".gz");
    splut_status st = splut_data_read_file(ctx, path, 0, &buf, &len);
    if (!splut_data_has_zlib()) {
        expect_error(st, SPLUT_E_IO, "built without zlib");
        return;
    }
    assert_int_equal(st, SPLUT_OK);
    assert_int_equal(len, 6);
    assert_memory_equal(buf, "hello\n", 6);
    splut_data_free(buf);
}

/* ---- UNSW-NB15 ---- */

/* Hand-computed binarisation (docs/datasets.md): dur min positive 0.125 → ×8 → 4 bits;
 * proto arp,tcp,udp → 0,1,2 (2 bits); service -,dns,http → 0,1,2; state CON,FIN,INT
 * → 0,1,2; sbytes max 10 → 4 bits; rate max 3.49 → 3 bits, 2.5 rounds up to 3. */
static const char unsw_text[] =
    "\xef\xbb\xbfid,dur,proto,service,state,sbytes,rate,attack_cat,label\r\n"
    "1,0.5,tcp,-,FIN,10,2.5,Normal,0\r\n"
    "2,0.25,udp,http,INT,0,1,Exploits,1\r\n"
    "3,0,tcp,dns,FIN,3,0,Normal,0\r\n"
    "4,1.5,arp,-,CON,7,3.49,DoS,1\r\n"
    "5,0.125,udp,-,FIN,1,0,Normal,0\r\n";
static const char *const unsw_bits[5] = {
    "0100" "01" "00" "01" "1010" "011", "0010" "10" "10" "10" "0000" "001",
    "0000" "01" "01" "01" "0011" "000", "1100" "00" "00" "00" "0111" "011",
    "0001" "10" "00" "01" "0001" "000"};

static int unsw_row_index(const float *x, int32_t y)
{
    for (int r = 0; r < 5; r++) {
        int same = (r % 2) == y;
        for (size_t b = 0; b < 17 && same; b++)
            same = x[b] == (unsw_bits[r][b] == '1' ? 1.0f : 0.0f);
        if (same)
            return r;
    }
    return -1;
}

static void test_unsw_binarisation(void **state)
{
    (void)state;
    splut_dataset *tr, *te;
    assert_int_equal(splut_data_parse_unsw(ctx, unsw_text, strlen(unsw_text), "u.csv", NULL,
                                           &tr, &te),
                     SPLUT_OK);
    assert_int_equal(splut_dataset_num_features(tr), 17);
    assert_int_equal(splut_dataset_num_samples(tr), 4);
    assert_int_equal(splut_dataset_num_samples(te), 1);
    int seen[5] = {0};
    splut_dataset *sets[2] = {tr, te};
    for (int s = 0; s < 2; s++)
        for (size_t i = 0; i < splut_dataset_num_samples(sets[s]); i++) {
            int r = unsw_row_index(splut_dataset_features(sets[s]) + i * 17,
                                   splut_dataset_labels(sets[s])[i]);
            assert_true(r >= 0);
            seen[r]++;
        }
    for (int r = 0; r < 5; r++)
        assert_int_equal(seen[r], 1);
    destroy2(tr, te);
    const char *nolabel = "id,dur,proto,service,state,attack_cat\n1,2,tcp,-,FIN,x\n";
    expect_error(splut_data_parse_unsw(ctx, nolabel, strlen(nolabel), "u.csv", NULL, &tr, &te),
                 SPLUT_E_FORMAT, "column 'label' missing");
    const char *badlabel = "id,dur,proto,service,state,attack_cat,label\n1,2,tcp,-,FIN,x,2\n";
    expect_error(splut_data_parse_unsw(ctx, badlabel, strlen(badlabel), "u.csv", NULL, &tr, &te),
                 SPLUT_E_LABEL, "u.csv:2:");
    /* A categorical column with thousands of distinct strings is not a partition. */
    size_t cap = 200000, len = 0;
    char *many = malloc(cap);
    assert_non_null(many);
    len += (size_t)snprintf(many, cap, "id,dur,proto,service,state,attack_cat,label\n");
    for (int i = 0; i < 5000; i++)
        len += (size_t)snprintf(many + len, cap - len, "%d,1,p%d,-,FIN,x,1\n", i, i);
    expect_error(splut_data_parse_unsw(ctx, many, len, "u.csv", NULL, &tr, &te), SPLUT_E_FORMAT,
                 "u.csv:4098:8: more than 4096 distinct values in column 'proto'");
    free(many);
    const char *neg = "id,dur,proto,service,state,attack_cat,label\n1,-2,tcp,-,FIN,x,1\n";
    expect_error(splut_data_parse_unsw(ctx, neg, strlen(neg), "u.csv", NULL, &tr, &te),
                 SPLUT_E_FORMAT, "u.csv:2:3: negative value '-2' in column 'dur'");
}

/* The real 82,332-row partition in ../shared (CI has it; skipped elsewhere). */
static void test_unsw_shared_partition(void **state)
{
    (void)state;
    const char *shared = getenv("SPLUT_SHARED_DIR");
    char path[700], spec[800];
    snprintf(path, sizeof path, "%s/datasets/unsw-nb15/UNSW_NB15_training-set.csv.zip",
             shared ? shared : "../shared");
    if (access(path, R_OK) != 0) {
        print_message("skipped: %s is absent (the UNSW-NB15 partition lives in ../shared)\n",
                      path);
        skip();
    }
    snprintf(spec, sizeof spec, "unsw:%s", path);
    splut_dataset *tr, *te;
    if (!splut_data_has_zlib()) {
        expect_error(splut_data_load(ctx, spec, NULL, &tr, &te), SPLUT_E_IO,
                     "built without zlib");
        return;
    }
    assert_int_equal(splut_data_load(ctx, spec, NULL, &tr, &te), SPLUT_OK);
    size_t ntr = splut_dataset_num_samples(tr), nte = splut_dataset_num_samples(te);
    uint32_t bits = splut_dataset_num_features(tr);
    assert_int_equal(ntr + nte, 82332);
    assert_int_equal(nte, 16467); /* ceil(0.2 · 82,332) */
    size_t attacks = 0;
    for (int s = 0; s < 2; s++) {
        splut_dataset *d = s ? te : tr;
        const float *x = splut_dataset_features(d);
        for (size_t i = 0; i < splut_dataset_num_samples(d); i++)
            attacks += (size_t)splut_dataset_labels(d)[i];
        for (size_t i = 0; i < splut_dataset_num_samples(d) * bits; i++)
            assert_true(x[i] == 0.0f || x[i] == 1.0f);
    }
    assert_int_equal(attacks, 45332); /* NOTICE.md: 45,332 attacks, 37,000 normal */
    assert_true(bits > 200 && bits < 1000);
    print_message("UNSW-NB15 partition: %zu train + %zu test rows, %u feature bits\n", ntr, nte,
                  bits);
    destroy2(tr, te);
}

/* ---- robustness: mutated inputs never crash and either parse or report ---- */

static void mutate(char *buf, size_t len, uint32_t *s)
{
    static const char alphabet[] = "0123456789,.-+eE\"\n\r naxgqwzt";
    int edits = 1 + (int)(gen_lcg(s) % 4);
    for (int k = 0; k < edits; k++)
        buf[gen_lcg(s) % len] = alphabet[gen_lcg(s) % (sizeof alphabet - 1)];
}

static void test_mutated_inputs(void **state)
{
    (void)state;
    const char *csv = "a,b,label\n1.5,2,0\n-3,4e2,1\n\"5\",6,2\n7,8,1\n";
    char *jsc = gen_jsc(6);
    assert_non_null(jsc);
    uint32_t seed = 99;
    char buf[4000];
    int ok = 0, rejected = 0;
    for (int it = 0; it < 3000; it++) {
        const char *src = it % 3 == 0 ? csv : it % 3 == 1 ? jsc : unsw_text;
        size_t len = strlen(src);
        memcpy(buf, src, len + 1);
        mutate(buf, len, &seed);
        splut_dataset *tr = NULL, *te = NULL;
        splut_status st;
        if (it % 3 == 0)
            st = splut_data_parse_csv(ctx, buf, len, "m.csv", NULL, &tr);
        else if (it % 3 == 1)
            st = splut_data_parse_jsc(ctx, buf, len, "m.csv", NULL, &tr, &te);
        else
            st = splut_data_parse_unsw(ctx, buf, len, "m.csv", NULL, &tr, &te);
        if (st) {
            assert_true(strlen(last_error()) > 0);
            assert_null(tr);
            rejected++;
        } else {
            ok++;
        }
        destroy2(tr, te);
    }
    assert_true(ok > 0 && rejected > 0);
    free(jsc);
}

static int setup(void **state)
{
    (void)state;
    return mkdtemp(tmpdir) && splut_ctx_create(NULL, &ctx) == SPLUT_OK ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    char cmd[300];
    splut_ctx_unref(ctx);
    snprintf(cmd, sizeof cmd, "chmod -R u+rwx '%s'; rm -rf '%s'", tmpdir, tmpdir);
    return system(cmd) == 0 ? 0 : -1;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_idx_parse_ok),
        cmocka_unit_test(test_idx_parse_errors),
        cmocka_unit_test(test_idx_dir_gz),
        cmocka_unit_test(test_csv_ok),
        cmocka_unit_test(test_csv_errors),
        cmocka_unit_test(test_csv_bom),
        cmocka_unit_test(test_csv_line_ends),
        cmocka_unit_test(test_csv_float_overflow),
        cmocka_unit_test(test_csv_files_and_split),
        cmocka_unit_test(test_permutation_matches_numpy),
        cmocka_unit_test(test_opts_struct),
        cmocka_unit_test(test_jsc_layout),
        cmocka_unit_test(test_golden_csv_jsc),
        cmocka_unit_test(test_golden_idx),
        cmocka_unit_test(test_fashion_gz_equals_raw),
        cmocka_unit_test(test_fifo_and_directory),
        cmocka_unit_test(test_unreadable_file),
        cmocka_unit_test(test_gzip_bomb),
        cmocka_unit_test(test_gzip_bomb_memory),
        cmocka_unit_test(test_gzip_members),
        cmocka_unit_test(test_read_file),
        cmocka_unit_test(test_unsw_binarisation),
        cmocka_unit_test(test_unsw_shared_partition),
        cmocka_unit_test(test_mutated_inputs),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
