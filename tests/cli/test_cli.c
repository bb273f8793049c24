/*
 * Copyright 2026 The libsparselut authors
 * SPDX-License-Identifier: Apache-2.0
 *
 * The `sparselut` program end to end: argument errors (exit codes and
 * messages), train → eval agreement, exact resume, thread-count independence,
 * --keep-best, and `info` table sizes against independent numbers.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <sparselut/sparselut.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static char tmpdir[] = "/tmp/splut-cli-XXXXXX";
static char exe[1024];
static char out_text[1 << 16], err_text[1 << 16];

/* A small architecture that trains in milliseconds. */
#define ARCH "'8:2 poly:12:F3:D2:b2 poly:3:F4:D2:b2'"

static void slurp(const char *path, char *buf, size_t cap)
{
    buf[0] = 0;
    FILE *f = fopen(path, "rb");
    if (!f)
        return;
    size_t n = fread(buf, 1, cap - 1, f);
    buf[n] = 0;
    fclose(f);
}

/* Run `sparselut ARGS` in the temp dir; stdout/stderr land in out_text/err_text.
 * Returns the exit status, or 1000+signal if it crashed. */
static int run(const char *fmt, ...)
{
    char args[4096], cmd[6000];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(args, sizeof args, fmt, ap);
    va_end(ap);
    snprintf(cmd, sizeof cmd, "cd '%s' && '%s' %s >out.txt 2>err.txt", tmpdir, exe, args);
    int st = system(cmd);
    char path[600];
    snprintf(path, sizeof path, "%s/out.txt", tmpdir);
    slurp(path, out_text, sizeof out_text);
    snprintf(path, sizeof path, "%s/err.txt", tmpdir);
    slurp(path, err_text, sizeof err_text);
    if (WIFSIGNALED(st))
        return 1000 + WTERMSIG(st);
    return WEXITSTATUS(st);
}

static void tmp_path(char *buf, size_t cap, const char *name)
{
    snprintf(buf, cap, "%s/%s", tmpdir, name);
}

/* Byte comparison of two files in the temp dir. */
static int same_file(const char *a, const char *b)
{
    char cmd[1200];
    snprintf(cmd, sizeof cmd, "cd '%s' && cmp -s '%s' '%s'", tmpdir, a, b);
    return system(cmd) == 0;
}

/* Offset and length of the payload of section @p tag among the sections that
 * start at @p off (docs/model-format.md, docs/checkpoint-format.md); 0 if absent. */
static size_t find_section(const unsigned char *buf, size_t off, size_t end, const char *tag,
                           size_t *len)
{
    while (off + 12 <= end) {
        uint64_t plen = 0;
        for (int k = 7; k >= 0; k--)
            plen = plen << 8 | buf[off + 4 + (size_t)k];
        assert_true(plen <= end - off - 12);
        if (memcmp(buf + off, tag, 4) == 0) {
            *len = (size_t)plen;
            return off + 12;
        }
        off += 12 + (size_t)plen;
    }
    return 0;
}

/* Payload of the STAT section (BatchNorm running statistics) of a model file
 * in the temp dir, or of the trainer's model inside a run checkpoint; malloc'd. */
static unsigned char *stat_section(const char *name, size_t *len)
{
    char path[600];
    tmp_path(path, sizeof path, name);
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    static unsigned char buf[1 << 20];
    size_t n = fread(buf, 1, sizeof buf, f);
    fclose(f);
    size_t base = 0, end = n, plen = 0;
    if (n >= 8 && memcmp(buf, "SPLUTRUN", 8) == 0) { /* the model file embedded in TRNR */
        base = find_section(buf, 24, n - 4, "TRNR", &plen);
        assert_true(base > 0);
        end = base + plen;
    }
    size_t at = find_section(buf, base + 24, end - 4, "STAT", &plen);
    if (at) {
        unsigned char *copy = malloc(plen ? plen : 1);
        assert_non_null(copy);
        memcpy(copy, buf + at, plen);
        *len = plen;
        return copy;
    }
    fail_msg("no STAT section in %s", name);
    return NULL;
}

/* Number after "key": in a JSON text (first occurrence); exits the test if absent. */
static double json_num(const char *text, const char *key)
{
    char pat[100];
    snprintf(pat, sizeof pat, "\"%s\":", key);
    const char *p = strstr(text, pat);
    if (!p)
        fail_msg("no %s in %s", key, text);
    return strtod(p + strlen(pat), NULL);
}

/* Same, as the literal text of the number (for exact comparisons). */
static void json_raw(const char *text, const char *key, char *buf, size_t cap)
{
    char pat[100];
    snprintf(pat, sizeof pat, "\"%s\":", key);
    const char *p = strstr(text, pat);
    if (!p)
        fail_msg("no %s in %s", key, text);
    p += strlen(pat);
    size_t n = strcspn(p, ",}]");
    snprintf(buf, cap, "%.*s", (int)(n < cap ? n : cap - 1), p);
}

/* A learnable 3-class problem on 8 features (deterministic LCG). */
static void write_dataset(const char *name, int rows, int max_label)
{
    char path[600];
    tmp_path(path, sizeof path, name);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fprintf(f, "a,b,c,d,e,f,g,h,label\n");
    uint32_t s = 12345;
    for (int r = 0; r < rows; r++) {
        double x[8];
        for (int k = 0; k < 8; k++) {
            s = s * 1664525u + 1013904223u;
            x[k] = (double)(s >> 8) / (double)(1u << 24) * 4 - 2;
        }
        int y = x[0] + x[1] > 0.5 ? 2 : x[2] - x[3] > 0 ? 1 : 0;
        if (max_label != 2)
            y = r % (max_label + 1);
        for (int k = 0; k < 8; k++)
            fprintf(f, "%.5f,", x[k]);
        fprintf(f, "%d\n", y);
    }
    fclose(f);
}

static void expect(int got, int want, const char *needle)
{
    if (got != want || (needle && !strstr(err_text, needle)))
        fail_msg("exit %d (want %d), stderr: %s (want '%s')", got, want, err_text,
                 needle ? needle : "");
}

static void test_argument_errors(void **state)
{
    (void)state;
    expect(run(""), 2, "Usage");
    expect(run("frobnicate"), 2, "unknown command 'frobnicate'");
    expect(run("--help"), 0, NULL);
    assert_non_null(strstr(out_text, "train"));
    expect(run("--version"), 0, NULL);
    assert_non_null(strstr(out_text, SPLUT_VERSION_STRING));
    expect(run("train --help"), 0, NULL);
    assert_non_null(strstr(out_text, "--restart-epochs"));
    expect(run("train --data csv:d.csv --epochs 1 --out m"), 2, "--preset NAME and --arch");
    expect(run("train --preset hdr --arch x --data csv:d.csv --epochs 1 --out m"), 2,
           "exactly one");
    expect(run("train --arch " ARCH " --epochs 1 --out m"), 2, "--data SPEC is required");
    expect(run("train --arch " ARCH " --data csv:d.csv --out m"), 2, "--epochs");
    expect(run("train --arch " ARCH " --data csv:d.csv --epochs 1"), 2, "--out");
    expect(run("train --arch " ARCH " --data csv:d.csv --epochs abc --out m"), 2,
           "--epochs needs an integer");
    expect(run("train --arch " ARCH " --data csv:d.csv --epochs 0 --out m"), 2, "--epochs");
    expect(run("train --arch " ARCH " --data csv:d.csv --epochs 1 --out m --lr -1"), 2, "--lr");
    expect(run("train --arch " ARCH " --data csv:d.csv --epochs 1 --out m --lr nan"), 2, "--lr");
    expect(run("train --arch " ARCH " --data csv:d.csv --epochs 1 --out m --batch 1"), 2,
           "--batch");
    expect(run("train --arch " ARCH " --data csv:d.csv --epochs 1 --out m --threads 9999"), 2,
           "--threads");
    expect(run("train --arch " ARCH " --data csv:d.csv --epochs 1 --out m --split 2"), 2,
           "--split");
    expect(run("train --arch " ARCH " --data csv:d.csv --epochs 1 --out m --bogus"), 2,
           "unknown argument '--bogus'");
    expect(run("train --arch " ARCH " --data csv:d.csv --epochs 1 --out m --seed"), 2, "--seed");
    expect(run("train --preset no-such --data csv:d.csv --epochs 1 --out m"), 2,
           "unknown preset 'no-such'");
    expect(run("train --arch '8:2 blob:3:F2:b2' --data csv:d.csv --epochs 1 --out m"), 2,
           "blob:3:F2:b2");
    expect(run("train --arch '8:2 poly:3:F2' --data csv:d.csv --epochs 1 --out m"), 2,
           "needs F<fan-in> and b<bits>");
    expect(run("train --arch '8:9 poly:3:F2:b2' --data csv:d.csv --epochs 1 --out m"), 2,
           "IN:BITS");
    expect(run("train --arch '8:2' --data csv:d.csv --epochs 1 --out m"), 2, "no layer");
    /* Library rejections of an architecture are failures with the library's message. */
    expect(run("train --arch '8:2 poly:3:F9:b2' --data csv:d.csv --epochs 1 --out m"), 1,
           "layer 0");
    expect(run("eval --data csv:d.csv"), 2, "--model");
    expect(run("eval --model m"), 2, "--data");
    expect(run("eval --model m --data csv:d.csv --on validation"), 2, "--on");
    expect(run("info"), 2, "--model");
    expect(run("info --model"), 2, "--model needs");
}

static void test_file_and_data_errors(void **state)
{
    (void)state;
    write_dataset("d.csv", 60, 2);
    write_dataset("five.csv", 60, 4);
    char path[600];
    tmp_path(path, sizeof path, "garbage.splut");
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs("this is not a model file\n", f);
    fclose(f);
    expect(run("info --model missing.splut"), 1, "missing.splut");
    expect(run("info --model garbage.splut"), 1, "garbage.splut");
    expect(run("eval --model garbage.splut --data csv:d.csv"), 1, "garbage.splut");
    expect(run("train --arch " ARCH " --data csv:nope.csv --epochs 1 --out m"), 1, "nope.csv");
    expect(run("train --arch " ARCH " --data mnist:/nonexistent --epochs 1 --out m"), 1,
           "not found");
    expect(run("train --arch " ARCH " --data bad --epochs 1 --out m"), 1, "bad data spec");
    /* Issue 26: a FIFO as the data file fails at once; mnist takes no --label. */
    tmp_path(path, sizeof path, "fifo.csv");
    assert_int_equal(mkfifo(path, 0600), 0);
    expect(run("train --arch " ARCH " --data csv:fifo.csv --epochs 1 --out m"), 1, "is a FIFO");
    expect(run("train --arch " ARCH " --data mnist:/nonexistent --label 3 --epochs 1 --out m"),
           1, "no label column");
    expect(run("train --arch " ARCH " --data csv:d.csv --label zz --epochs 1 --out m"), 1,
           "no column named 'zz'");
    /* Labels 0..4 do not fit a model with 3 outputs. */
    expect(run("train --arch " ARCH " --data csv:five.csv --epochs 1 --out m"), 1,
           "label 4 out of range");
    /* Feature count must match the model. */
    expect(run("train --arch '5:2 poly:3:F2:b2' --data csv:d.csv --epochs 1 --out m"), 1,
           "5 inputs but the dataset has 8");
    /* Unwritable output. */
    expect(run("train --arch " ARCH " --data csv:d.csv --epochs 1 --out /nonexistent/dir/m"), 1,
           "/nonexistent/dir/m");
    /* Resume from a checkpoint that does not exist. */
    expect(run("train --arch " ARCH " --data csv:d.csv --epochs 2 --out m --resume nock"), 1,
           "nock");
}

static void test_train_then_eval_agree(void **state)
{
    (void)state;
    write_dataset("d.csv", 300, 2);
    expect(run("train --arch " ARCH " --data csv:d.csv --epochs 4 --batch 16 --lr 0.01 "
               "--out m.splut --json"),
           0, NULL);
    assert_null(strstr(out_text, "switch_epoch")); /* random connectivity */
    char train_acc[64], eval_acc[64];
    json_raw(out_text, "test_accuracy", train_acc, sizeof train_acc);
    assert_int_equal((int)json_num(out_text, "epochs"), 4);
    assert_int_equal((int)json_num(out_text, "test_samples"), 60); /* ceil(0.2 · 300) */
    assert_non_null(strstr(out_text, "\"history\":[{\"epoch\":1,"));
    assert_non_null(strstr(out_text, "{\"epoch\":4,"));
    assert_null(strstr(out_text, "{\"epoch\":5,"));
    assert_true(json_num(out_text, "train_samples_per_s") > 0);
    /* Learns something: better than always guessing one class (at most ~50% here). */
    double acc = json_num(out_text, "test_accuracy");
    assert_true(acc > 0.55);
    expect(run("eval --model m.splut --data csv:d.csv --json"), 0, NULL);
    json_raw(out_text, "accuracy", eval_acc, sizeof eval_acc);
    assert_string_equal(train_acc, eval_acc);
    assert_int_equal((int)json_num(out_text, "samples"), 60);
    /* LUT-mode inference through the enumerated tables agrees on every sample. */
    expect(run("eval --model m.splut --data csv:d.csv --json --compare-lut"), 0, NULL);
    assert_int_equal((int)json_num(out_text, "lut_outputs_compared"), 60 * 3);
    assert_int_equal((int)json_num(out_text, "lut_mismatched_samples"), 0);
    /* The same architecture from a file (@FILE, with comments) gives the same model. */
    char path[600];
    tmp_path(path, sizeof path, "arch.txt");
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs("# inputs\n8:2\npoly:12:F3:D2:b2  # hidden\npoly:3:F4:D2:b2\n", f);
    fclose(f);
    expect(run("train --arch @arch.txt --data csv:d.csv --epochs 4 --batch 16 --lr 0.01 "
               "--out mfile.splut"),
           0, NULL);
    assert_true(same_file("m.splut", "mfile.splut"));
    expect(run("train --arch @nofile.txt --data csv:d.csv --epochs 1 --out x"), 1, "nofile.txt");
    /* The AdamW moment decays are options; a different beta1 trains another model. */
    expect(run("train --arch " ARCH " --data csv:d.csv --epochs 4 --batch 16 --lr 0.01 "
               "--beta1 0.5 --beta2 0.999 --out mb.splut"),
           0, NULL);
    assert_true(same_file("m.splut", "mb.splut"));
    expect(run("train --arch " ARCH " --data csv:d.csv --epochs 4 --batch 16 --lr 0.01 "
               "--beta1 0.9 --out mb9.splut"),
           0, NULL);
    assert_false(same_file("m.splut", "mb9.splut"));
    expect(run("train --arch " ARCH " --data csv:d.csv --epochs 1 --beta1 1 --out x"), 2,
           "--beta1");
    expect(run("train --arch " ARCH " --data csv:d.csv --epochs 1 --beta2 -0.1 --out x"), 2,
           "--beta2");
    /* info reports the metadata stored by train. */
    expect(run("info --model m.splut --json"), 0, NULL);
    assert_int_equal((int)json_num(out_text, "epochs_trained"), 4);
    json_raw(out_text, "test_accuracy", eval_acc, sizeof eval_acc);
    assert_string_equal(train_acc, eval_acc);
    /* Text output and progress lines. */
    expect(run("train --arch " ARCH " --data csv:d.csv --epochs 2 --batch 16 --out m2.splut "
               "--progress"),
           0, "epoch 2/2");
    assert_non_null(strstr(out_text, "saved m2.splut"));
}

static void test_resume_is_exact(void **state)
{
    (void)state;
    write_dataset("d.csv", 250, 2);
    const char *common = "train --arch " ARCH " --data csv:d.csv --batch 16 --lr 0.01 "
                         "--restart-epochs 2 --seed 7";
    expect(run("%s --epochs 5 --out full.splut --json", common), 0, NULL);
    char full_hist[4096];
    snprintf(full_hist, sizeof full_hist, "%s", strstr(out_text, "\"history\""));
    /* Interrupted after epoch 2, resumed to 5. */
    expect(run("%s --epochs 2 --out part.splut --checkpoint ck", common), 0, NULL);
    expect(run("train --arch " ARCH " --data csv:d.csv --epochs 5 --out resumed.splut "
               "--resume ck --json"),
           0, NULL);
    assert_true(same_file("full.splut", "resumed.splut"));
    assert_int_equal((int)json_num(out_text, "epochs"), 5);
    /* Loss and accuracies of the resumed history agree with the uninterrupted one. */
    char a[64], b[64];
    json_raw(full_hist, "loss", a, sizeof a);
    json_raw(strstr(out_text, "\"history\""), "loss", b, sizeof b);
    assert_string_equal(a, b);
    /* The live model inside the checkpoint is readable as a model. */
    expect(run("info --model ck --json"), 0, NULL);
    assert_int_equal((int)json_num(out_text, "epochs_trained"), 5);
    /* Interrupted twice (after 1 and after 4) with a separate checkpoint file. */
    expect(run("%s --epochs 1 --out r1.splut --checkpoint ck2", common), 0, NULL);
    expect(run("train --arch " ARCH " --data csv:d.csv --epochs 4 --out r4.splut --resume ck2"),
           0, NULL);
    expect(run("train --arch " ARCH " --data csv:d.csv --epochs 5 --out r5.splut --resume ck2"),
           0, NULL);
    assert_true(same_file("full.splut", "r5.splut"));
    assert_false(same_file("full.splut", "r4.splut"));
    /* Conflicting hyper-parameters on resume are refused. */
    expect(run("train --arch " ARCH " --data csv:d.csv --epochs 6 --out x --resume ck --batch 8"),
           2, "differ");
    /* Asking for fewer epochs than the checkpoint has is refused. */
    expect(run("train --arch " ARCH " --data csv:d.csv --epochs 3 --out x --resume ck"), 2,
           "already has 5 epochs");
    /* --keep-best cannot start in the middle of a run; --out must not be the checkpoint. */
    expect(run("train --arch " ARCH " --data csv:d.csv --epochs 6 --out x --resume ck "
               "--keep-best"),
           2, "written without --keep-best");
    expect(run("train --arch " ARCH " --data csv:d.csv --epochs 6 --out ck --resume ck"), 2,
           "different files");
    /* Resuming on other data is refused. */
    write_dataset("other.csv", 240, 2);
    expect(run("train --arch " ARCH " --data csv:other.csv --epochs 6 --out x --resume ck"), 1,
           "dataset differs");
    /* A damaged checkpoint is refused (one file, checksummed). */
    char path[600];
    tmp_path(path, sizeof path, "ck");
    FILE *f = fopen(path, "r+b");
    assert_non_null(f);
    assert_int_equal(fseek(f, 40, SEEK_SET), 0);
    fputc(0x5a, f);
    fclose(f);
    expect(run("train --arch " ARCH " --data csv:d.csv --epochs 6 --out x --resume ck"), 1,
           "checksum");
    /* The same file under another name is still the same file. */
    expect(run("train --arch " ARCH " --data csv:d.csv --epochs 6 --out ./ck2 --resume ck2"), 2,
           "different files");
    expect(run("train --arch " ARCH " --data csv:d.csv --epochs 1 --out ./full.splut "
               "--distill full.splut"),
           2, "--distill");
    /* An output directory that does not exist is refused before training. */
    expect(run("train --arch " ARCH " --data csv:d.csv --epochs 1 --out nodir/x.splut"), 1,
           "nodir/x.splut");
}

/* A small IDX dataset DIR/{train,t10k}-{images-idx3,labels-idx1}-ubyte of
 * ROWS x COLS images whose label says which third of the columns is brightest. */
static void write_idx_dataset(const char *dir, int rows, int cols)
{
    char path[700];
    tmp_path(path, sizeof path, dir);
    assert_int_equal(mkdir(path, 0755) == 0 || errno == EEXIST, 1);
    const char *prefix[2] = {"train", "t10k"};
    const uint32_t count[2] = {240, 60};
    uint32_t s = 99;
    for (int k = 0; k < 2; k++) {
        uint32_t n = count[k];
        uint8_t *img = malloc((size_t)n * rows * cols), *lab = malloc(n);
        assert_non_null(img);
        assert_non_null(lab);
        for (uint32_t i = 0; i < n; i++) {
            lab[i] = (uint8_t)(i % 3);
            for (int p = 0; p < rows * cols; p++) {
                s = s * 1664525u + 1013904223u;
                int bright = (p % cols) * 3 / cols == lab[i];
                img[(size_t)i * rows * cols + p] = (uint8_t)((s >> 24) / (bright ? 1 : 4));
            }
        }
        const uint8_t ih[16] = {0, 0, 8, 3, (uint8_t)(n >> 24), (uint8_t)(n >> 16),
                                (uint8_t)(n >> 8), (uint8_t)n, 0, 0, 0, (uint8_t)rows,
                                0, 0, 0, (uint8_t)cols};
        const uint8_t lh[8] = {0, 0, 8, 1, (uint8_t)(n >> 24), (uint8_t)(n >> 16),
                               (uint8_t)(n >> 8), (uint8_t)n};
        char file[800];
        snprintf(file, sizeof file, "%s/%s-images-idx3-ubyte", path, prefix[k]);
        FILE *f = fopen(file, "wb");
        assert_non_null(f);
        fwrite(ih, 1, 16, f);
        fwrite(img, 1, (size_t)n * rows * cols, f);
        assert_int_equal(fclose(f), 0);
        snprintf(file, sizeof file, "%s/%s-labels-idx1-ubyte", path, prefix[k]);
        f = fopen(file, "wb");
        assert_non_null(f);
        fwrite(lh, 1, 8, f);
        fwrite(lab, 1, n, f);
        assert_int_equal(fclose(f), 0);
        free(img);
        free(lab);
    }
}

/* --augment-shift: deterministic for any thread count, changes training, resumes
 * exactly, and is refused where it cannot apply. */
static void test_augment_shift(void **state)
{
    (void)state;
    write_idx_dataset("img", 5, 6);
    const char *common = "train --arch '30:2 poly:12:F3:D2:b2 poly:3:F3:D2:b2' --data mnist:img "
                         "--batch 16 --lr 0.01 --restart-epochs 2 --seed 3";
    expect(run("%s --epochs 3 --augment-shift 1 --threads 1 --out s1t1.splut --json", common), 0,
           NULL);
    assert_int_equal((int)json_num(out_text, "augment_shift"), 1);
    assert_true(json_num(out_text, "test_accuracy") > 0.5); /* chance is 1/3 */
    expect(run("%s --epochs 3 --augment-shift 1 --threads 2 --out s1t2.splut", common), 0, NULL);
    assert_true(same_file("s1t1.splut", "s1t2.splut"));
    expect(run("%s --epochs 3 --out s0.splut", common), 0, NULL);
    assert_false(same_file("s0.splut", "s1t1.splut"));
    /* Interrupted after epoch 1 and resumed: the same model. */
    expect(run("%s --epochs 1 --augment-shift 1 --out p.splut --checkpoint ak", common), 0, NULL);
    expect(run("%s --epochs 3 --augment-shift 1 --out r.splut --resume ak", common), 0, NULL);
    assert_true(same_file("s1t1.splut", "r.splut"));
    expect(run("%s --epochs 4 --augment-shift 2 --out x --resume ak", common), 2, "differs");
    expect(run("%s --epochs 4 --out x --resume ak", common), 2, "differs");
    /* Only images can be shifted; the range is checked. */
    write_dataset("d.csv", 40, 2);
    expect(run("train --arch " ARCH " --data csv:d.csv --epochs 1 --augment-shift 1 --out x"), 2,
           "needs image data");
    expect(run("%s --epochs 1 --augment-shift 9 --out x", common), 2, "--augment-shift");
}

/* --bn-freeze: changes training, identical for any thread count, resumes exactly
 * from inside the frozen epochs, and a different K is refused on resume. */
static void test_bn_freeze(void **state)
{
    (void)state;
    write_dataset("d.csv", 250, 2);
    const char *common = "train --arch " ARCH " --data csv:d.csv --batch 16 --lr 0.01 "
                         "--restart-epochs 4 --seed 4 --epochs 4";
    expect(run("%s --bn-freeze 2 --threads 1 --out f1.splut --json", common), 0, NULL);
    assert_int_equal((int)json_num(out_text, "bn_freeze"), 2);
    expect(run("%s --bn-freeze 2 --threads 2 --out f2.splut", common), 0, NULL);
    assert_true(same_file("f1.splut", "f2.splut"));
    expect(run("%s --out f0.splut", common), 0, NULL);
    assert_false(same_file("f0.splut", "f1.splut"));
    /* interrupted after the first frozen epoch (3 of 4) and resumed: the
     * frozen epochs are those of the cycle, not of --epochs */
    expect(run("%s --bn-freeze 2 --epochs 3 --out p.splut --checkpoint fk", common), 0, NULL);
    size_t len3 = 0, len4 = 0;
    unsigned char *stat3 = stat_section("fk", &len3);
    expect(run("%s --bn-freeze 2 --out r.splut --resume fk", common), 0, NULL);
    assert_true(same_file("f1.splut", "r.splut"));
    /* calibrated once, at the first frozen epoch: epoch 4 kept the statistics */
    unsigned char *stat4 = stat_section("fk", &len4);
    assert_true(len3 > 0 && len3 == len4);
    assert_memory_equal(stat3, stat4, len3);
    free(stat3);
    free(stat4);
    expect(run("%s --bn-freeze 1 --out x --resume fk", common), 2, "differs");
    expect(run("%s --out x --resume fk", common), 2, "differs");
    expect(run("%s --bn-freeze -1 --out x", common), 2, "--bn-freeze");
    expect(run("%s --bn-freeze 5 --out x", common), 2, "longer than a cosine cycle");
}

/* --distill: alpha 0 is plain training, otherwise the teacher changes training;
 * identical for any thread count, exact resume, mismatches refused. */
static void test_distill(void **state)
{
    (void)state;
    write_dataset("d.csv", 250, 2);
    const char *common = "train --arch " ARCH " --data csv:d.csv --batch 16 --lr 0.01 "
                         "--restart-epochs 2 --seed 5";
    expect(run("train --arch '8:2 poly:16:F4:D2:b3 poly:3:F4:D2:b3' --data csv:d.csv --batch 16 "
               "--lr 0.01 --epochs 12 --out teacher.splut"),
           0, NULL);
    expect(run("%s --epochs 3 --out plain.splut", common), 0, NULL);
    expect(run("%s --epochs 3 --distill teacher.splut --distill-alpha 0 --out a0.splut", common),
           0, NULL);
    assert_true(same_file("plain.splut", "a0.splut"));
    expect(run("%s --epochs 3 --distill teacher.splut --threads 1 --out k1.splut --json", common),
           0, NULL);
    assert_true(json_num(out_text, "distill_alpha") == 0.9);
    assert_true(json_num(out_text, "distill_temperature") == 2.0);
    assert_true(json_num(out_text, "test_accuracy") > 0.45); /* chance: about 1/3 */
    expect(run("%s --epochs 3 --distill teacher.splut --threads 2 --out k2.splut", common), 0,
           NULL);
    assert_true(same_file("k1.splut", "k2.splut"));
    assert_false(same_file("k1.splut", "plain.splut"));
    expect(run("%s --epochs 3 --distill teacher.splut --distill-temperature 3 --out t3.splut",
               common),
           0, NULL);
    assert_false(same_file("k1.splut", "t3.splut"));
    /* Interrupted after epoch 1 and resumed: the same model; other teachers refused. */
    expect(run("%s --epochs 1 --distill teacher.splut --out p.splut --checkpoint dk", common), 0,
           NULL);
    expect(run("%s --epochs 3 --distill teacher.splut --out r.splut --resume dk", common), 0,
           NULL);
    assert_true(same_file("k1.splut", "r.splut"));
    expect(run("%s --epochs 4 --out x --resume dk", common), 1, "teacher");
    expect(run("%s --epochs 4 --distill teacher.splut --distill-alpha 0.7 --out x --resume dk",
               common),
           2, "differ");
    expect(run("%s --epochs 4 --distill plain.splut --out x --resume dk", common), 1,
           "another teacher");
    /* Learned connectivity: phase 1 on labels, then distilled. */
    expect(run("%s --epochs 3 --connectivity learned --switch-epoch 1 --distill teacher.splut "
               "--out l.splut --json",
               common),
           0, NULL);
    expect(run("eval --model l.splut --data csv:d.csv --json --compare-lut"), 0, NULL);
    assert_int_equal((int)json_num(out_text, "lut_mismatched_samples"), 0);
    /* Bad teachers and options. */
    expect(run("%s --epochs 1 --distill missing.splut --out x", common), 1, "missing.splut");
    expect(run("%s --epochs 1 --distill d.csv --out x", common), 1, "teacher");
    expect(run("train --arch '8:2 poly:6:F3:D2:b2 poly:4:F3:D2:b2' --data csv:d.csv --epochs 1 "
               "--distill teacher.splut --out x"),
           1, "3 outputs");
    expect(run("%s --epochs 1 --distill-alpha 0.3 --out x", common), 2, "need --distill");
    expect(run("%s --epochs 1 --distill teacher.splut --distill-alpha 1.5 --out x", common), 2,
           "--distill-alpha");
    expect(run("%s --epochs 1 --distill teacher.splut --distill-temperature 0 --out x", common),
           2, "in (0, 100]");
}

/* Text of the last epoch's record in a train --json output. */
static const char *last_epoch(const char *text, int epoch)
{
    char pat[40];
    snprintf(pat, sizeof pat, "{\"epoch\":%d,", epoch);
    const char *q = strstr(text, pat);
    if (!q)
        fail_msg("no epoch %d in %s", epoch, text);
    return q;
}

/* `calibrate` and train --bn-calibrate / --ema: the optimiser's trajectory is
 * unchanged (the live accuracy equals a plain run's), the evaluated model is
 * what gets saved, calibration is idempotent and thread-independent, and a
 * run with an average resumes exactly. */
static void test_calibrate_and_average(void **state)
{
    (void)state;
    write_dataset("d.csv", 300, 2);
    const char *common = "train --arch " ARCH " --data csv:d.csv --batch 16 --lr 0.01 "
                         "--restart-epochs 2";
    expect(run("%s --epochs 4 --out plain.splut --json", common), 0, NULL);
    char plain_acc[64], acc[64], acc2[64];
    json_raw(out_text, "test_accuracy", plain_acc, sizeof plain_acc);
    assert_null(strstr(out_text, "live_test_accuracy"));

    expect(run("calibrate --model plain.splut --data csv:d.csv --batch 16 --out c1.splut "
               "--threads 1 --json"),
           0, NULL);
    json_raw(out_text, "accuracy_before", acc, sizeof acc);
    assert_string_equal(acc, plain_acc);
    json_raw(out_text, "accuracy", acc, sizeof acc);
    assert_false(same_file("plain.splut", "c1.splut"));
    expect(run("eval --model c1.splut --data csv:d.csv --json"), 0, NULL);
    json_raw(out_text, "accuracy", acc2, sizeof acc2);
    assert_string_equal(acc, acc2);
    expect(run("calibrate --model c1.splut --data csv:d.csv --batch 16 --out c2.splut "
               "--threads 2"),
           0, "");
    assert_true(same_file("c1.splut", "c2.splut"));

    /* --bn-calibrate: the live model trains exactly as in the plain run. */
    expect(run("%s --epochs 4 --bn-calibrate --out bc.splut --json", common), 0, NULL);
    json_raw(last_epoch(out_text, 4), "live_test_accuracy", acc2, sizeof acc2);
    assert_string_equal(acc2, plain_acc);
    json_raw(out_text, "test_accuracy", acc2, sizeof acc2);
    assert_string_equal(acc2, acc); /* the calibrated model, as `calibrate` made it */
    expect(run("eval --model bc.splut --data csv:d.csv --json"), 0, NULL);
    json_raw(out_text, "accuracy", acc2, sizeof acc2);
    assert_string_equal(acc2, acc);

    /* --ema: same trajectory, the average is saved, resume is exact. */
    expect(run("%s --epochs 4 --ema 0.9 --out ema.splut --json", common), 0, NULL);
    json_raw(last_epoch(out_text, 4), "live_test_accuracy", acc2, sizeof acc2);
    assert_string_equal(acc2, plain_acc);
    json_raw(out_text, "test_accuracy", acc, sizeof acc);
    expect(run("eval --model ema.splut --data csv:d.csv --json"), 0, NULL);
    json_raw(out_text, "accuracy", acc2, sizeof acc2);
    assert_string_equal(acc2, acc);
    assert_false(same_file("ema.splut", "bc.splut"));
    expect(run("%s --epochs 2 --ema 0.9 --out part.splut --checkpoint eck", common), 0, NULL);
    expect(run("train --arch " ARCH " --data csv:d.csv --epochs 4 --ema 0.9 --out ema2.splut "
               "--resume eck"),
           0, NULL);
    assert_true(same_file("ema.splut", "ema2.splut"));
    expect(run("train --arch " ARCH " --data csv:d.csv --epochs 5 --ema 0.8 --out x "
               "--resume eck"),
           2, "--ema/--bn-calibrate differ");
    expect(run("train --arch " ARCH " --data csv:d.csv --epochs 5 --out x --resume eck"), 2,
           "--ema/--bn-calibrate differ");

    /* Bad arguments. */
    expect(run("calibrate --model plain.splut --data csv:d.csv"), 2, "--out FILE is required");
    expect(run("calibrate --model plain.splut --data csv:d.csv --out x --batch 1"), 2,
           "--batch");
    expect(run("calibrate --model nofile --data csv:d.csv --out x"), 1, "nofile");
    expect(run("%s --epochs 1 --ema 1.5 --out x", common), 2, "--ema");
}

static void test_threads_identical(void **state)
{
    (void)state;
    write_dataset("d.csv", 250, 2);
    const char *common = "train --arch '8:2 add:12:F2:D2:A2:b2 poly:3:F4:D2:b2' "
                         "--data csv:d.csv --batch 16 --epochs 3 --lr 0.01";
    expect(run("%s --threads 1 --out t1.splut", common), 0, NULL);
    expect(run("%s --threads 2 --out t2.splut", common), 0, NULL);
    expect(run("%s --threads 3 --out t3.splut", common), 0, NULL);
    assert_true(same_file("t1.splut", "t2.splut"));
    assert_true(same_file("t1.splut", "t3.splut"));
    /* A different seed gives a different model (the comparison can fail). */
    expect(run("%s --threads 2 --seed 99 --out t4.splut", common), 0, NULL);
    assert_false(same_file("t1.splut", "t4.splut"));
}

/* Every layer kind can be written in --arch (regression: neuralut layers were
 * refused because the degree field defaulted to 1). */
static void test_arch_every_kind(void **state)
{
    (void)state;
    write_dataset("d.csv", 120, 2);
    expect(run("train --arch '8:2 linear:6:F3:b2 add:6:F2:D2:A3:b2 neuralut:5:F3:N4:b2 "
               "poly:3:F2:D2:b2' --data csv:d.csv --batch 16 --epochs 1 --out kinds.splut"),
           0, NULL);
    expect(run("info --model kinds.splut"), 0, NULL);
    assert_non_null(strstr(out_text, "neuralut"));
    assert_non_null(strstr(out_text, "linear"));
    assert_non_null(strstr(out_text, "poly-add"));
    /* Fields that a kind does not take are refused by the library's parser: a
     * command-line error. */
    expect(run("train --arch '8:2 neuralut:5:F3:D2:b2' --data csv:d.csv --epochs 1 --out m"), 2,
           "NEURALUT");
}

static void test_keep_best(void **state)
{
    (void)state;
    write_dataset("d.csv", 200, 2);
    expect(run("train --arch " ARCH " --data csv:d.csv --batch 8 --epochs 6 --lr 0.05 "
               "--keep-best --out best.splut --json"),
           0, NULL);
    assert_non_null(strstr(out_text, "\"kept\":\"best\""));
    /* The kept epoch is the first epoch with the highest test accuracy. */
    const char *p = strstr(out_text, "\"history\"");
    double best = -1;
    int best_epoch = 0;
    for (int e = 1; e <= 6; e++) {
        char pat[40];
        snprintf(pat, sizeof pat, "{\"epoch\":%d,", e);
        const char *q = strstr(p, pat);
        assert_non_null(q);
        double acc = json_num(q, "test_accuracy");
        if (acc > best) {
            best = acc;
            best_epoch = e;
        }
    }
    assert_int_equal((int)json_num(out_text, "kept_epoch"), best_epoch);
    /* Interrupted after epoch 3 and resumed: the same best model. */
    expect(run("train --arch " ARCH " --data csv:d.csv --batch 8 --epochs 3 --lr 0.05 "
               "--keep-best --out part.splut --checkpoint kb"),
           0, NULL);
    expect(run("train --arch " ARCH " --data csv:d.csv --epochs 6 --keep-best "
               "--out best2.splut --resume kb --json"),
           0, NULL);
    assert_int_equal((int)json_num(out_text, "kept_epoch"), best_epoch);
    assert_true(same_file("best.splut", "best2.splut"));
    expect(run("info --model best.splut --json"), 0, NULL);
    assert_int_equal((int)json_num(out_text, "epochs_trained"), best_epoch);
    assert_true(json_num(out_text, "test_accuracy") == best);
}

/* Learned connectivity from the command line: the run must reach phase 2
 * (regression: a run that ended before the switch saved the untrained target
 * network while reporting the surrogate's accuracy), and what train reports is
 * what the saved file evaluates to. */
static void test_learned_connectivity(void **state)
{
    (void)state;
    write_dataset("d.csv", 300, 2);
    const char *common = "train --arch " ARCH " --data csv:d.csv --batch 16 --lr 0.01 "
                         "--connectivity learned";
    expect(run("%s --epochs 3 --out early.splut", common), 2, "switch epoch");
    expect(run("%s --epochs 3 --switch-epoch 3 --out early.splut", common), 2, "switch epoch");
    char path[600];
    tmp_path(path, sizeof path, "early.splut");
    assert_int_equal(access(path, F_OK), -1);
    expect(run("train --arch " ARCH " --data csv:d.csv --epochs 3 --switch-epoch 1 --out m"), 2,
           "--connectivity learned");
    expect(run("%s --epochs 4 --switch-epoch 2 --conn-tau 0.5 --out l.splut --json", common), 0,
           NULL);
    assert_int_equal((int)json_num(out_text, "switch_epoch"), 2);
    char train_acc[64], eval_acc[64];
    json_raw(out_text, "test_accuracy", train_acc, sizeof train_acc);
    assert_non_null(strstr(out_text, "\"active_connections\""));
    expect(run("eval --model l.splut --data csv:d.csv --json --compare-lut"), 0, NULL);
    json_raw(out_text, "accuracy", eval_acc, sizeof eval_acc);
    assert_string_equal(train_acc, eval_acc);
    assert_int_equal((int)json_num(out_text, "lut_mismatched_samples"), 0);
    /* Without --switch-epoch a run of at least two cosine cycles switches at the
     * end of the first; a shorter one keeps the library default (20). */
    expect(run("%s --epochs 4 --restart-epochs 2 --out c.splut --json", common), 0, NULL);
    assert_int_equal((int)json_num(out_text, "switch_epoch"), 2);
    expect(run("%s --epochs 3 --restart-epochs 2 --out c3.splut", common), 2, "is 20");
    expect(run("%s --epochs 21 --restart-epochs 0 --out c0.splut --json", common), 0, NULL);
    assert_int_equal((int)json_num(out_text, "switch_epoch"), 20);
    /* --conn-warm: phase 2 starts from the phase-1 function (library test:
     * tests/train/test-connect.c), a different run; the model stays exact */
    expect(run("%s --epochs 4 --switch-epoch 2 --conn-tau 0.5 --conn-warm 1 --out w1.splut",
               common), 0, NULL);
    assert_true(same_file("l.splut", "w1.splut")); /* 1 is the default */
    expect(run("%s --epochs 4 --switch-epoch 2 --conn-tau 0.5 --conn-warm 0 --out w0.splut",
               common), 0, NULL);
    assert_false(same_file("l.splut", "w0.splut"));
    expect(run("eval --model w0.splut --data csv:d.csv --json --compare-lut"), 0, NULL);
    assert_int_equal((int)json_num(out_text, "lut_mismatched_samples"), 0);
    expect(run("%s --epochs 4 --switch-epoch 2 --conn-warm 2 --out w2.splut", common), 2,
           "--conn-warm");
    expect(run("train --arch " ARCH " --data csv:d.csv --epochs 3 --conn-warm 1 --out w3.splut"),
           2, "--connectivity learned");
}

/* --pretrain: the random connectivity is kept (same masks as a plain run of
 * the same seed), the run reports its switch epoch, the model is exact. */
static void test_pretrain(void **state)
{
    (void)state;
    write_dataset("d.csv", 300, 2);
    const char *common = "train --arch " ARCH " --data csv:d.csv --batch 16 --lr 0.01 --epochs 4";
    expect(run("%s --out r.splut", common), 0, NULL);
    expect(run("%s --pretrain --switch-epoch 2 --out p.splut --json", common), 0, NULL);
    assert_int_equal((int)json_num(out_text, "switch_epoch"), 2);
    assert_false(same_file("r.splut", "p.splut"));
    expect(run("masks --model r.splut --export mr"), 0, NULL);
    expect(run("masks --model p.splut --export mp"), 0, NULL);
    assert_true(same_file("mr/mask_layer_1.csv", "mp/mask_layer_1.csv"));
    assert_true(same_file("mr/mask_layer_2.csv", "mp/mask_layer_2.csv"));
    expect(run("eval --model p.splut --data csv:d.csv --json --compare-lut"), 0, NULL);
    assert_int_equal((int)json_num(out_text, "lut_mismatched_samples"), 0);
    /* imported masks are kept too */
    expect(run("%s --pretrain --switch-epoch 2 --masks mr --out pm.splut", common), 0, NULL);
    expect(run("masks --model pm.splut --export mpm"), 0, NULL);
    assert_true(same_file("mr/mask_layer_1.csv", "mpm/mask_layer_1.csv"));
    expect(run("%s --pretrain --switch-epoch 4 --out x.splut", common), 2, "switch epoch");
    expect(run("%s --pretrain --connectivity learned --out x.splut", common), 2, "exclude");
    expect(run("%s --pretrain --conn-tau 1 --out x.splut", common), 2, "--connectivity learned");
}

/* info's table sizes: the published totals of two presets (MODELS.md §4.4) and
 * the library's own enumeration for a small model. */
static void test_info_table_sizes(void **state)
{
    (void)state;
    splut_ctx *ctx;
    assert_int_equal(splut_ctx_create(NULL, &ctx), SPLUT_OK);
    const struct {
        const char *preset;
        long long entries, bits;
    } ref[] = {{"hdr", 2727936, 5455872}, {"hdr-add2", 383616, 1108224},
               {"jsc-xl-add2", 1767424, 9273344}};
    char path[600];
    for (size_t i = 0; i < sizeof ref / sizeof ref[0]; i++) {
        splut_model *m;
        assert_int_equal(splut_model_create_preset(ctx, ref[i].preset, &m), SPLUT_OK);
        tmp_path(path, sizeof path, "preset.splut");
        assert_int_equal(splut_model_save(m, path), SPLUT_OK);
        splut_model_destroy(m);
        expect(run("info --model preset.splut --json"), 0, NULL);
        const char *tail = strstr(out_text, "],\"table_entries\"");
        assert_non_null(tail);
        assert_true((long long)json_num(tail, "table_entries") == ref[i].entries);
        assert_true((long long)json_num(tail, "table_bits") == ref[i].bits);
    }
    /* Small PolyLUT-Add model: compare with splut_tables_totals. */
    splut_model *m;
    assert_int_equal(splut_model_create(ctx, 8, 2, &m), SPLUT_OK);
    splut_layer_desc d = SPLUT_LAYER_DESC_INIT;
    d.kind = SPLUT_NEURON_POLY_ADD;
    d.width = 6;
    d.fan_in = 2;
    d.out_bits = 2;
    d.degree = 2;
    d.sub_neurons = 2;
    assert_int_equal(splut_model_add_layer(m, &d), SPLUT_OK);
    d.kind = SPLUT_NEURON_POLY;
    d.width = 3;
    d.fan_in = 3;
    d.sub_neurons = 0;
    d.out_bits = 3;
    assert_int_equal(splut_model_add_layer(m, &d), SPLUT_OK);
    assert_int_equal(splut_model_build(m), SPLUT_OK);
    splut_tables *t;
    assert_int_equal(splut_tables_create(m, &t), SPLUT_OK);
    uint64_t entries, bits;
    assert_int_equal(splut_tables_totals(t, &entries, &bits), SPLUT_OK);
    splut_tables_destroy(t);
    assert_int_equal(splut_model_save(m, path), SPLUT_OK);
    splut_model_destroy(m);
    splut_ctx_unref(ctx);
    expect(run("info --model preset.splut --json"), 0, NULL);
    const char *tail = strstr(out_text, "],\"table_entries\"");
    assert_non_null(tail);
    assert_true((uint64_t)json_num(tail, "table_entries") == entries);
    assert_true((uint64_t)json_num(tail, "table_bits") == bits);
    expect(run("info --model preset.splut"), 0, NULL);
    assert_non_null(strstr(out_text, "poly-add"));
}

/* One epoch of a small model on real MNIST (when scripts/fetch-data has run). */
static void test_mnist_smoke(void **state)
{
    (void)state;
    const char *root = getenv("SPLUT_SOURCE_ROOT");
    char dir[700];
    snprintf(dir, sizeof dir, "%s/.cache/mnist", root ? root : "");
    if (!root || access(dir, R_OK) != 0)
        skip();
    expect(run("train --arch '784:2 poly:64:F6:D2:b2 poly:10:F6:D2:b2' --data mnist:%s "
               "--epochs 1 --lr 0.004 --out mnist.splut --json",
               dir),
           0, NULL);
    char a[64], b[64];
    json_raw(out_text, "test_accuracy", a, sizeof a);
    assert_int_equal((int)json_num(out_text, "train_samples"), 60000);
    assert_int_equal((int)json_num(out_text, "test_samples"), 10000);
    assert_true(json_num(out_text, "test_accuracy") > 0.3); /* chance is 0.1 */
    expect(run("eval --model mnist.splut --data mnist:%s --json --compare-lut", dir), 0, NULL);
    json_raw(out_text, "accuracy", b, sizeof b);
    assert_string_equal(a, b);
    assert_int_equal((int)json_num(out_text, "lut_mismatched_samples"), 0);
    assert_int_equal((int)json_num(out_text, "lut_outputs_compared"), 100000);
}

/* Random argument lists never crash: the exit status is always 0, 1 or 2. */
static void test_random_arguments(void **state)
{
    (void)state;
    write_dataset("d.csv", 40, 2);
    static const char *const tok[] = {
        "train", "eval", "info", "--preset", "hdr", "--arch", ARCH, "'8:2 poly:3:F2:b2'",
        "--data", "csv:d.csv", "csv:d.csv,d.csv", "mnist:.", "jsc:d.csv", "--epochs", "1",
        "0", "-5", "99999999999999999999", "--batch", "2", "--lr", "1e-3", "inf", "--seed",
        "--threads", "--out", "o.splut", "--checkpoint", "c", "--resume", "--json",
        "--keep-best", "--label", "label", "7", "--split", "0.5", "--standardize", "--model",
        "--on", "train", "--restart-epochs", "--help", "=", "--epochs=1", "--data=", "''", "x"};
    const size_t ntok = sizeof tok / sizeof tok[0];
    uint32_t s = 2024;
    for (int it = 0; it < 150; it++) {
        char args[1000] = "";
        int n = 1 + (int)((s = s * 1664525u + 1013904223u) >> 29);
        for (int k = 0; k < n; k++) {
            s = s * 1664525u + 1013904223u;
            strcat(args, " ");
            strcat(args, tok[(s >> 8) % ntok]);
        }
        int rc = run("%s", args);
        if (rc < 0 || rc > 2)
            fail_msg("'sparselut%s' exited with %d: %s", args, rc, err_text);
        if (rc != 0 && strlen(err_text) == 0)
            fail_msg("'sparselut%s' failed (%d) without a message", args, rc);
    }
}

/* CSV options reproduce the same split and scaling in train and eval; JSC files train. */
static void test_csv_options_and_jsc(void **state)
{
    (void)state;
    write_dataset("d.csv", 200, 2);
    expect(run("train --arch " ARCH " --data csv:d.csv --label 8 --split 0.3 --split-seed 5 "
               "--standardize --epochs 2 --batch 16 --out s.splut --json"),
           0, NULL);
    char a[64], b[64];
    json_raw(out_text, "test_accuracy", a, sizeof a);
    assert_int_equal((int)json_num(out_text, "test_samples"), 60);
    expect(run("eval --model s.splut --data csv:d.csv --label label --split 0.3 --split-seed 5 "
               "--standardize --json"),
           0, NULL);
    json_raw(out_text, "accuracy", b, sizeof b);
    assert_string_equal(a, b);
    /* A generated JSC file: 16 named features and a class column. */
    static const char *const names[16] = {
        "j_zlogz",        "j_c1_b0_mmdt",  "j_c1_b1_mmdt", "j_c1_b2_mmdt", "j_c2_b1_mmdt",
        "j_c2_b2_mmdt",   "j_d2_b1_mmdt",  "j_d2_b2_mmdt", "j_d2_a1_b1_mmdt",
        "j_d2_a1_b2_mmdt", "j_m2_b1_mmdt", "j_m2_b2_mmdt", "j_n2_b1_mmdt", "j_n2_b2_mmdt",
        "j_mass_mmdt",    "j_multiplicity"};
    char path[600];
    tmp_path(path, sizeof path, "jsc.csv");
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    for (int k = 0; k < 16; k++)
        fprintf(f, "%s,", names[k]);
    fprintf(f, "class\n");
    uint32_t s = 77;
    for (int r = 0; r < 300; r++) {
        int c = r % 5;
        for (int k = 0; k < 16; k++) {
            s = s * 1664525u + 1013904223u;
            fprintf(f, "%.4f,", (double)(s >> 8) / (double)(1u << 24) + (k == c ? 1.5 : 0));
        }
        fprintf(f, "%c\n", "gqwzt"[c]);
    }
    fclose(f);
    expect(run("train --arch '16:2 poly:20:F3:D1:b2 poly:5:F4:D1:b2' --data jsc:jsc.csv "
               "--epochs 3 --batch 32 --lr 0.01 --out jsc.splut --json"),
           0, NULL);
    assert_int_equal((int)json_num(out_text, "test_samples"), 60);
    assert_int_equal((int)json_num(out_text, "train_samples"), 240);
    json_raw(out_text, "test_accuracy", a, sizeof a);
    expect(run("eval --model jsc.splut --data jsc:jsc.csv --json"), 0, NULL);
    json_raw(out_text, "accuracy", b, sizeof b);
    assert_string_equal(a, b);
}

/* scripts/fetch-data: argument errors, and an idempotent run on a verified cache
 * (no network access: the files are already there and only checked). */
static void test_fetch_data_script(void **state)
{
    (void)state;
    const char *root = getenv("SPLUT_SOURCE_ROOT");
    if (!root)
        skip();
    char cmd[2000], path[600];
    snprintf(cmd, sizeof cmd, "'%s/scripts/fetch-data' --bogus >/dev/null 2>&1", root);
    int st = system(cmd);
    assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 2);
    snprintf(path, sizeof path, "%s/.cache/mnist/train-labels-idx1-ubyte", root);
    if (access(path, R_OK) != 0)
        skip();
    snprintf(cmd, sizeof cmd,
             "'%s/scripts/fetch-data' --dir '%s/.cache' mnist >'%s/fetch.txt' 2>&1", root, root,
             tmpdir);
    st = system(cmd);
    assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    tmp_path(path, sizeof path, "fetch.txt");
    slurp(path, out_text, sizeof out_text);
    char want[700];
    snprintf(want, sizeof want, "mnist %s/.cache/mnist\n", root);
    assert_string_equal(out_text, want); /* nothing downloaded, nothing else printed */
}

static int setup(void **state)
{
    (void)state;
    const char *build = getenv("SPLUT_BUILD_ROOT");
    if (!build)
        return -1;
    snprintf(exe, sizeof exe, "%s/tools/sparselut", build);
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
        cmocka_unit_test(test_argument_errors),
        cmocka_unit_test(test_file_and_data_errors),
        cmocka_unit_test(test_train_then_eval_agree),
        cmocka_unit_test(test_resume_is_exact),
        cmocka_unit_test(test_augment_shift),
        cmocka_unit_test(test_distill),
        cmocka_unit_test(test_bn_freeze),
        cmocka_unit_test(test_calibrate_and_average),
        cmocka_unit_test(test_threads_identical),
        cmocka_unit_test(test_arch_every_kind),
        cmocka_unit_test(test_keep_best),
        cmocka_unit_test(test_learned_connectivity),
        cmocka_unit_test(test_pretrain),
        cmocka_unit_test(test_info_table_sizes),
        cmocka_unit_test(test_random_arguments),
        cmocka_unit_test(test_csv_options_and_jsc),
        cmocka_unit_test(test_mnist_smoke),
        cmocka_unit_test(test_fetch_data_script),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
