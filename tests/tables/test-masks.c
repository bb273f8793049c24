/*
 * SparseLUT mask files: the published masks import into their presets,
 * export → import round trips, and every kind of malformed file is refused
 * with an error naming file, line and column, leaving the model unchanged.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include "tables-test.h"

#include <sys/stat.h>
#include <unistd.h>

/* ------------------------------------------------------------------ helpers */

static char tmp_root[256];

static int make_root(void **state)
{
    (void)state;
    snprintf(tmp_root, sizeof(tmp_root), "/tmp/splut-masks-XXXXXX");
    assert_non_null(mkdtemp(tmp_root));
    return 0;
}

static int remove_tree(const char *dir)
{
    char cmd[1024];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    return system(cmd);
}

static int drop_root(void **state)
{
    (void)state;
    return remove_tree(tmp_root) == 0 ? 0 : -1;
}

/* Every input list of a model, concatenated. */
static uint32_t *all_inputs(const splut_model *m, size_t *count)
{
    size_t total = 0, n;
    for (size_t l = 0; l < splut_model_num_layers(m); l++) {
        splut_layer_desc d = SPLUT_LAYER_DESC_INIT;
        assert_int_equal(splut_model_layer(m, l, &d), SPLUT_OK);
        assert_int_equal(splut_model_get_inputs(m, l, 0, NULL, 0, &n), SPLUT_OK);
        total += (size_t)d.width * n;
    }
    uint32_t *all = malloc(total * sizeof(uint32_t) + 1), *p = all;
    for (size_t l = 0; l < splut_model_num_layers(m); l++) {
        splut_layer_desc d = SPLUT_LAYER_DESC_INIT;
        assert_int_equal(splut_model_layer(m, l, &d), SPLUT_OK);
        for (uint32_t j = 0; j < d.width; j++) {
            assert_int_equal(splut_model_get_inputs(m, l, j, p, 64, &n), SPLUT_OK);
            p += n;
        }
    }
    *count = total;
    return all;
}

/* Parse a published CSV in the test (independently of the library). */
static size_t read_csv_rows(const char *path, uint32_t *rows, size_t cap)
{
    FILE *fp = fopen(path, "r");
    assert_non_null(fp);
    char line[4096];
    size_t n = 0;
    assert_non_null(fgets(line, sizeof(line), fp)); /* header */
    while (fgets(line, sizeof(line), fp)) {
        char *s = line;
        while (*s && *s != '\n') {
            assert_true(n < cap);
            rows[n++] = (uint32_t)strtoul(s, &s, 10);
            if (*s == ',')
                s++;
        }
    }
    fclose(fp);
    return n;
}

/* -------------------------------------------------- the published masks */

typedef struct folder_preset {
    const char *folder, *preset;
} folder_preset;

static const folder_preset FOLDERS[] = {
    {"MNIST/PolyLUT", "hdr"},
    {"MNIST/PolyLUT-Add", "hdr-add2"},
    {"JSC-HC/PolyLUT", "jsc-xl"},
    {"JSC-HC/PolyLUT-Add", "jsc-xl-add2"},
    {"JSC-LC/PolyLUT", "jsc-m-lite"},
    {"JSC-LC/PolyLUT-Add", "jsc-m-lite-add2"},
    {"MNIST/NeuraLUT", "hdr-5l"},
    {"JSC-HC/NeuraLUT", "jsc-5l"},
    {"JSC-LC/NeuraLUT", "jsc-2l"},
};

static void test_published_masks(void **state)
{
    (void)state;
    const char *shared = getenv("SPLUT_SHARED_DIR");
    char base[512];
    struct stat sb;
    if (shared)
        snprintf(base, sizeof(base), "%s/reference/sparselut-masks", shared);
    if (!shared || stat(base, &sb) != 0) {
        skip();
        return;
    }
    splut_ctx *ctx;
    assert_int_equal(splut_ctx_create(NULL, &ctx), SPLUT_OK);
    for (size_t i = 0; i < sizeof(FOLDERS) / sizeof(FOLDERS[0]); i++) {
        char dir[640];
        snprintf(dir, sizeof(dir), "%s/%s", base, FOLDERS[i].folder);
        splut_model *m;
        splut_status st = splut_model_create_preset(ctx, FOLDERS[i].preset, &m);
        if (st == SPLUT_E_UNKNOWN_PRESET) {
            print_message("%s skipped: no preset %s in this library\n", FOLDERS[i].folder,
                          FOLDERS[i].preset);
            continue;
        }
        assert_int_equal(st, SPLUT_OK);
        st = splut_model_import_masks(m, dir);
        if (st != SPLUT_OK)
            fail_msg("%s: %s", dir, splut_ctx_last_error(ctx));
        /* the model now holds exactly the rows of the CSV files */
        size_t n;
        uint32_t *got = all_inputs(m, &n);
        uint32_t *want = malloc(n * sizeof(uint32_t) + 64);
        size_t k = 0;
        for (size_t l = 0; l < splut_model_num_layers(m); l++) {
            char path[700];
            snprintf(path, sizeof(path), "%s/mask_layer_%zu.csv", dir, l + 1);
            k += read_csv_rows(path, want + k, n + 16 - k);
        }
        assert_int_equal(k, n);
        assert_memory_equal(got, want, n * sizeof(uint32_t));
        free(got);
        free(want);
        /* and it still enumerates and runs bit-exactly */
        splut_tables *t;
        assert_int_equal(splut_tables_create(m, &t), SPLUT_OK);
        splut_tables_destroy(t);
        splut_model_destroy(m);
    }
    splut_ctx_unref(ctx);
}

/* ------------------------------------------------------------ round trip */

static void test_export_import(void **state)
{
    (void)state;
    splut_ctx *ctx;
    assert_int_equal(splut_ctx_create(NULL, &ctx), SPLUT_OK);
    const char *presets[] = {"hdr-add2", "jsc-xl", "nid-add2", "jsc-l"};
    for (size_t p = 0; p < 4; p++) {
        splut_model *a, *b;
        assert_int_equal(splut_model_create_preset(ctx, presets[p], &a), SPLUT_OK);
        assert_int_equal(splut_model_create_preset(ctx, presets[p], &b), SPLUT_OK);
        assert_int_equal(splut_model_randomize_connectivity(b, 12345 + p), SPLUT_OK);
        char dir[512];
        snprintf(dir, sizeof(dir), "%s/rt-%s/nested", tmp_root, presets[p]);
        /* the parent does not exist: export creates only the last level */
        assert_int_equal(splut_model_export_masks(a, dir), SPLUT_E_IO);
        snprintf(dir, sizeof(dir), "%s/rt-%s", tmp_root, presets[p]);
        assert_int_equal(splut_model_export_masks(a, dir), SPLUT_OK);
        size_t na, nb;
        uint32_t *ia = all_inputs(a, &na), *ib = all_inputs(b, &nb);
        assert_int_equal(na, nb);
        assert_true(memcmp(ia, ib, na * sizeof(uint32_t)) != 0);
        free(ib);
        assert_int_equal(splut_model_import_masks(b, dir), SPLUT_OK);
        ib = all_inputs(b, &nb);
        assert_memory_equal(ia, ib, na * sizeof(uint32_t));
        free(ia);
        free(ib);
        /* overwriting an existing export works and leaves no temporary files */
        assert_int_equal(splut_model_export_masks(a, dir), SPLUT_OK);
        char cmd[700];
        snprintf(cmd, sizeof(cmd), "test $(ls '%s' | wc -l) -eq %zu", dir,
                 splut_model_num_layers(a));
        assert_int_equal(system(cmd), 0);
        splut_model_destroy(a);
        splut_model_destroy(b);
    }
    splut_ctx_unref(ctx);
}

/* ------------------------------------------------------------ malformed */

/* jsc-m-lite-add2: 16 → 64 → 32 → 5, A·F = 4 columns in every layer. */
typedef struct bad_case {
    const char *what;
    int layer;            /* 1-based file to alter */
    const char *text;     /* the file's new content (NULL: delete the file) */
    splut_status st;
    const char *needle;   /* must appear in the error message */
} bad_case;

static char *good_csv(const splut_model *m, size_t l)
{
    splut_layer_desc d = SPLUT_LAYER_DESC_INIT;
    assert_int_equal(splut_model_layer(m, l, &d), SPLUT_OK);
    char *s = malloc(65536), *p = s;
    p += sprintf(p, "0,1,2,3\n");
    for (uint32_t j = 0; j < d.width; j++) {
        uint32_t idx[4];
        size_t n;
        assert_int_equal(splut_model_get_inputs(m, l, j, idx, 4, &n), SPLUT_OK);
        p += sprintf(p, "%u,%u,%u,%u\n", idx[0], idx[1], idx[2], idx[3]);
    }
    return s;
}

static void write_text(const char *path, const char *text)
{
    FILE *fp = fopen(path, "wb");
    assert_non_null(fp);
    fputs(text, fp);
    fclose(fp);
}

/* Replace line `line` (1-based) of a CSV text with `repl`. */
static char *with_line(const char *text, int line, const char *repl)
{
    char *out = malloc(strlen(text) + strlen(repl) + 8), *o = out;
    int cur = 1;
    const char *p = text;
    while (*p) {
        const char *nl = strchr(p, '\n');
        size_t n = nl ? (size_t)(nl - p) : strlen(p);
        if (cur == line)
            o += sprintf(o, "%s", repl);
        else {
            memcpy(o, p, n);
            o += n;
        }
        *o++ = '\n';
        p += n + (nl ? 1 : 0);
        cur++;
    }
    *o = '\0';
    return out;
}

static void test_malformed(void **state)
{
    (void)state;
    splut_ctx *ctx;
    assert_int_equal(splut_ctx_create(NULL, &ctx), SPLUT_OK);
    splut_model *src, *m;
    assert_int_equal(splut_model_create_preset(ctx, "jsc-m-lite-add2", &src), SPLUT_OK);
    assert_int_equal(splut_model_create_preset(ctx, "jsc-m-lite-add2", &m), SPLUT_OK);
    assert_int_equal(splut_model_randomize_connectivity(src, 777), SPLUT_OK);
    char dir[512];
    snprintf(dir, sizeof(dir), "%s/bad", tmp_root);
    char *g1 = good_csv(src, 0), *g2 = good_csv(src, 1), *g3 = good_csv(src, 2);
    /* good layer-2 text with one line replaced */
    char *hdr_short = with_line(g2, 1, "0,1,2");
    char *hdr_wrong = with_line(g2, 1, "0,1,3,2");
    char *cols = with_line(g2, 4, "1,2,3");
    char *syntax = with_line(g2, 5, "1,2,x3,4");
    char *negative = with_line(g2, 5, "-1,2,3,4");
    char *empty_field = with_line(g2, 5, "1,,3,4");
    char *range = with_line(g2, 6, "1,2,3,64");
    char *dup = with_line(g2, 7, "1,5,5,9");
    char *unsorted = with_line(g2, 8, "1,9,5,12");
    char *blank = with_line(g2, 9, "");
    char *huge = with_line(g2, 10, "1,2,3,99999999999");
    char fewer[65536], extra[65536];
    /* drop the last row / add one */
    snprintf(fewer, sizeof(fewer), "%s", g2);
    fewer[strlen(fewer) - 1] = '\0';
    *strrchr(fewer, '\n') = '\0';
    strcat(fewer, "\n");
    snprintf(extra, sizeof(extra), "%s1,2,3,4\n", g2);
    const bad_case cases[] = {
        {"missing file", 3, NULL, SPLUT_E_FORMAT, "mask_layer_3.csv is missing"},
        {"empty file", 2, "", SPLUT_E_FORMAT, "empty"},
        {"short header", 2, hdr_short, SPLUT_E_FORMAT, "line 1: header has 3 columns"},
        {"wrong header", 2, hdr_wrong, SPLUT_E_FORMAT, "line 1 column 3"},
        {"column count", 2, cols, SPLUT_E_FORMAT, "line 4: 3 columns, expected 4"},
        {"syntax", 2, syntax, SPLUT_E_FORMAT, "line 5 column 3: 'x3'"},
        {"negative", 2, negative, SPLUT_E_FORMAT, "line 5 column 1: '-1'"},
        {"empty field", 2, empty_field, SPLUT_E_FORMAT, "line 5 column 2"},
        {"too large", 2, huge, SPLUT_E_FORMAT, "line 10 column 4"},
        {"range", 2, range, SPLUT_E_CONNECTIVITY, "line 6 column 4: input index 64"},
        {"duplicate", 2, dup, SPLUT_E_CONNECTIVITY, "line 7 column 3: input index 5 repeats"},
        {"unsorted", 2, unsorted, SPLUT_E_CONNECTIVITY, "line 8 column 3"},
        {"blank line", 2, blank, SPLUT_E_FORMAT, "line 9 is empty"},
        {"fewer rows", 2, fewer, SPLUT_E_FORMAT, "31 neuron rows, expected 32"},
        {"extra row", 2, extra, SPLUT_E_FORMAT, "line 34: extra row"},
        {"extra layer", 4, "0,1,2,3\n1,2,3,4\n", SPLUT_E_FORMAT, "mask_layer_4.csv"},
        {"bad name", 0, "x", SPLUT_E_FORMAT, "mask_layer_02.csv"},
    };
    size_t before_n;
    uint32_t *before = all_inputs(m, &before_n);
    for (size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
        remove_tree(dir);
        assert_int_equal(mkdir(dir, 0777), 0);
        char path[700];
        const char *texts[3] = {g1, g2, g3};
        for (int l = 1; l <= 3; l++) {
            snprintf(path, sizeof(path), "%s/mask_layer_%d.csv", dir, l);
            write_text(path, texts[l - 1]);
        }
        if (cases[c].layer == 0) {
            snprintf(path, sizeof(path), "%s/mask_layer_02.csv", dir);
            write_text(path, cases[c].text);
        } else {
            snprintf(path, sizeof(path), "%s/mask_layer_%d.csv", dir, cases[c].layer);
            if (cases[c].text)
                write_text(path, cases[c].text);
            else
                unlink(path);
        }
        splut_status st = splut_model_import_masks(m, dir);
        const char *msg = splut_ctx_last_error(ctx);
        if (st != cases[c].st || !strstr(msg, cases[c].needle))
            fail_msg("%s: status %d (%s), message '%s', expected %d with '%s'", cases[c].what,
                     (int)st, splut_status_str(st), msg, (int)cases[c].st, cases[c].needle);
        /* the failing import changed nothing, although layer 1 was valid */
        size_t after_n;
        uint32_t *after = all_inputs(m, &after_n);
        assert_int_equal(after_n, before_n);
        assert_memory_equal(after, before, before_n * sizeof(uint32_t));
        free(after);
    }
    /* the untouched set imports (CRLF line endings accepted too) */
    remove_tree(dir);
    assert_int_equal(mkdir(dir, 0777), 0);
    const char *texts[3] = {g1, g2, g3};
    for (int l = 1; l <= 3; l++) {
        char path[700], *crlf = malloc(2 * strlen(texts[l - 1]) + 1), *o = crlf;
        for (const char *p = texts[l - 1]; *p; p++) {
            if (*p == '\n')
                *o++ = '\r';
            *o++ = *p;
        }
        *o = '\0';
        snprintf(path, sizeof(path), "%s/mask_layer_%d.csv", dir, l);
        write_text(path, crlf);
        free(crlf);
    }
    assert_int_equal(splut_model_import_masks(m, dir), SPLUT_OK);
    size_t na, nb;
    uint32_t *ia = all_inputs(src, &na), *ib = all_inputs(m, &nb);
    assert_memory_equal(ia, ib, na * sizeof(uint32_t));
    free(ia);
    free(ib);
    /* other argument errors */
    assert_int_equal(splut_model_import_masks(m, NULL), SPLUT_E_NULL);
    assert_int_equal(splut_model_import_masks(NULL, dir), SPLUT_E_NULL);
    char nodir[600];
    snprintf(nodir, sizeof(nodir), "%s/does-not-exist", tmp_root);
    assert_int_equal(splut_model_import_masks(m, nodir), SPLUT_E_IO);
    char *all[] = {g1, g2, g3, hdr_short, hdr_wrong, cols, syntax, negative,
                   empty_field, range, dup, unsorted, blank, huge};
    for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++)
        free(all[i]);
    free(before);
    splut_model_destroy(src);
    splut_model_destroy(m);
    splut_ctx_unref(ctx);
}

/* A failing allocation during import leaves the model and memory as they were. */
static void test_import_nomem(void **state)
{
    (void)state;
    counting_alloc c;
    splut_ctx *ctx = ca_ctx(&c);
    splut_model *a, *m;
    assert_int_equal(splut_model_create_preset(ctx, "jsc-m-lite", &a), SPLUT_OK);
    assert_int_equal(splut_model_create_preset(ctx, "jsc-m-lite", &m), SPLUT_OK);
    assert_int_equal(splut_model_randomize_connectivity(a, 4), SPLUT_OK);
    char dir[512];
    snprintf(dir, sizeof(dir), "%s/nomem", tmp_root);
    assert_int_equal(splut_model_export_masks(a, dir), SPLUT_OK);
    size_t n0;
    uint32_t *before = all_inputs(m, &n0);
    size_t live = c.live;
    for (size_t k = 1;; k++) {
        counting_fail_at(&c, k - 1); /* attempt k, counting from 1 */
        splut_status st = splut_model_import_masks(m, dir);
        counting_disarm(&c);
        assert_int_equal(c.live, live);
        if (st == SPLUT_OK)
            break;
        assert_int_equal(st, SPLUT_E_NOMEM);
        size_t n1;
        uint32_t *now = all_inputs(m, &n1);
        assert_memory_equal(now, before, n0 * sizeof(uint32_t));
        free(now);
        assert_true(k < 100);
    }
    free(before);
    splut_model_destroy(a);
    splut_model_destroy(m);
    splut_ctx_unref(ctx);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_published_masks),
        cmocka_unit_test(test_export_import),
        cmocka_unit_test(test_malformed),
        cmocka_unit_test(test_import_nomem),
    };
    return cmocka_run_group_tests(tests, make_root, drop_root);
}
