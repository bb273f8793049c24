/*
 * The `sparselut tables` and `sparselut masks` subcommands, end to end:
 * JSON report against the library's own totals, tables.bin against freshly
 * enumerated tables, mask export → import → saved model, usage and file errors.
 * Usage: test-tables-cli PATH-TO-sparselut
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include "tables-test.h"

#include <sys/stat.h>
#include <sys/wait.h>

static const char *exe;
static char root[256];

static int setup(void **state)
{
    (void)state;
    snprintf(root, sizeof(root), "/tmp/splut-tcli-XXXXXX");
    return mkdtemp(root) ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    char cmd[512];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
    return system(cmd) == 0 ? 0 : -1;
}

/* Run a shell command line; returns the exit status. */
static int run(const char *fmt, ...)
{
    char cmd[4096];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(cmd, sizeof(cmd), fmt, ap);
    va_end(ap);
    int st = system(cmd);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static char *slurp_text(const char *path)
{
    FILE *fp = fopen(path, "rb");
    assert_non_null(fp);
    char *s = calloc(1, 1 << 20);
    size_t n = fread(s, 1, (1 << 20) - 1, fp);
    s[n] = '\0';
    fclose(fp);
    return s;
}

/* Integer value of "key": N in a JSON text (first occurrence). */
static long long json_int(const char *json, const char *key)
{
    char pat[64];
    snprintf(pat, sizeof(pat), "\"%s\":", key);
    const char *p = strstr(json, pat);
    assert_non_null(p);
    return strtoll(p + strlen(pat), NULL, 10);
}

static void test_tables_command(void **state)
{
    (void)state;
    splut_ctx *ctx;
    assert_int_equal(splut_ctx_create(NULL, &ctx), SPLUT_OK);
    splut_model *m;
    assert_int_equal(splut_model_create_preset(ctx, "jsc-m-lite-add2", &m), SPLUT_OK);
    perturb_model(m, 77);
    char model[512], out[512], json[512];
    snprintf(model, sizeof(model), "%s/m.splm", root);
    snprintf(out, sizeof(out), "%s/tables", root);
    snprintf(json, sizeof(json), "%s/report.json", root);
    assert_int_equal(splut_model_save(m, model), SPLUT_OK);
    assert_int_equal(run("'%s' tables --model '%s' --threads 2 --json --out '%s' --text > '%s'",
                         exe, model, out, json),
                     0);
    splut_tables *t, *u;
    assert_int_equal(splut_tables_create(m, &t), SPLUT_OK);
    uint64_t entries, bits, luts;
    splut_tables_totals(t, &entries, &bits);
    splut_tables_cost(t, SIZE_MAX, &luts);
    char *rep = slurp_text(json);
    assert_int_equal(json_int(rep, "entries"), (long long)entries);
    assert_int_equal(json_int(rep, "bits"), (long long)bits);
    assert_int_equal(json_int(rep, "luts"), (long long)luts);
    assert_non_null(strstr(rep, "\"seconds\":"));
    assert_non_null(strstr(rep, "\"layers\":[{\"index\":0"));
    free(rep);
    /* tables.bin holds exactly the tables of the model */
    char bin[600];
    snprintf(bin, sizeof(bin), "%s/tables.bin", out);
    assert_int_equal(splut_tables_load(ctx, bin, &u), SPLUT_OK);
    for (size_t l = 0; l < 3; l++) {
        uint32_t neurons;
        splut_tables_layer(t, l, &neurons, NULL, NULL);
        for (uint32_t n = 0; n < neurons; n++) {
            const uint16_t *a, *b;
            const uint32_t tabs[] = {0, 1, SPLUT_TABLE_ADDER};
            for (int k = 0; k < 3; k++) {
                splut_table_info info = SPLUT_TABLE_INFO_INIT;
                splut_tables_info(t, l, n, tabs[k], &info);
                assert_int_equal(splut_tables_data(t, l, n, tabs[k], &a), SPLUT_OK);
                assert_int_equal(splut_tables_data(u, l, n, tabs[k], &b), SPLUT_OK);
                assert_memory_equal(a, b, info.entries * 2);
            }
        }
    }
    assert_int_equal(run("test -s '%s/layer_0.txt' && test -s '%s/layer_2.txt'", out, out), 0);
    /* text report and errors */
    assert_int_equal(run("'%s' tables --model '%s' | grep -q 'LUT6:'", exe, model), 0);
    assert_int_equal(run("'%s' tables 2>/dev/null", exe), 2);
    assert_int_equal(run("'%s' tables --model '%s' --text 2>/dev/null", exe, model), 2);
    assert_int_equal(run("'%s' tables --model '%s/none' 2>/dev/null", exe, root), 1);
    assert_int_equal(run("'%s' tables --help | grep -q Usage", exe), 0);
    splut_tables_destroy(t);
    splut_tables_destroy(u);
    splut_model_destroy(m);
    splut_ctx_unref(ctx);
}

static void test_masks_command(void **state)
{
    (void)state;
    splut_ctx *ctx;
    assert_int_equal(splut_ctx_create(NULL, &ctx), SPLUT_OK);
    splut_model *a, *b, *c;
    assert_int_equal(splut_model_create_preset(ctx, "jsc-xl", &a), SPLUT_OK);
    assert_int_equal(splut_model_create_preset(ctx, "jsc-xl", &b), SPLUT_OK);
    assert_int_equal(splut_model_randomize_connectivity(b, 31337), SPLUT_OK);
    char ma[512], mb[512], mc[512], dir[512];
    snprintf(ma, sizeof(ma), "%s/a.splm", root);
    snprintf(mb, sizeof(mb), "%s/b.splm", root);
    snprintf(mc, sizeof(mc), "%s/c.splm", root);
    snprintf(dir, sizeof(dir), "%s/masks", root);
    assert_int_equal(splut_model_save(a, ma), SPLUT_OK);
    assert_int_equal(splut_model_save(b, mb), SPLUT_OK);
    assert_int_equal(run("'%s' masks --model '%s' --export '%s'", exe, ma, dir), 0);
    assert_int_equal(run("'%s' masks --model '%s' --import '%s' --out '%s'", exe, mb, dir, mc),
                     0);
    assert_int_equal(splut_model_load(ctx, mc, &c), SPLUT_OK);
    for (size_t l = 0; l < 5; l++) {
        splut_layer_desc d = SPLUT_LAYER_DESC_INIT;
        splut_model_layer(a, l, &d);
        for (uint32_t n = 0; n < d.width; n++) {
            uint32_t x[8], y[8];
            size_t nx, ny;
            assert_int_equal(splut_model_get_inputs(a, l, n, x, 8, &nx), SPLUT_OK);
            assert_int_equal(splut_model_get_inputs(c, l, n, y, 8, &ny), SPLUT_OK);
            assert_int_equal(nx, ny);
            assert_memory_equal(x, y, nx * sizeof(uint32_t));
        }
    }
    /* the imported model's weights are b's, untouched */
    size_t np = splut_model_num_params(b);
    float *pb = malloc(np * sizeof(float)), *pc = malloc(np * sizeof(float));
    assert_int_equal(splut_model_params(b, pb, 1), SPLUT_OK);
    assert_int_equal(splut_model_params(c, pc, 1), SPLUT_OK);
    assert_memory_equal(pb, pc, np * sizeof(float));
    free(pb);
    free(pc);
    /* a malformed mask set fails with exit 1 and a message naming the line */
    assert_int_equal(run("sed -i '3s/.*/1,1/' '%s/mask_layer_1.csv'", dir), 0);
    assert_int_equal(run("'%s' masks --model '%s' --import '%s' --out '%s/d.splm' 2>&1 | "
                         "grep -q 'mask_layer_1.csv line 3 column 2'",
                         exe, mb, dir, root),
                     0);
    assert_int_equal(run("'%s' masks --model '%s' --import '%s' --out '%s/d.splm' 2>/dev/null",
                         exe, mb, dir, root),
                     1);
    assert_int_equal(run("test ! -e '%s/d.splm'", root), 0);
    /* usage errors */
    assert_int_equal(run("'%s' masks --model '%s' 2>/dev/null", exe, ma), 2);
    assert_int_equal(run("'%s' masks --model '%s' --import '%s' 2>/dev/null", exe, ma, dir), 2);
    assert_int_equal(run("'%s' masks --model '%s' --export x --import y --out z 2>/dev/null",
                         exe, ma),
                     2);
    splut_model_destroy(a);
    splut_model_destroy(b);
    splut_model_destroy(c);
    splut_ctx_unref(ctx);
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: test-tables-cli PATH-TO-sparselut\n");
        return 2;
    }
    exe = argv[1];
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_tables_command),
        cmocka_unit_test(test_masks_command),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
