/*
 * Tables files: binary round trip, the layout of docs/tables-format.md read
 * back independently (with an independent CRC-32), corruption and truncation,
 * crafted files with a valid CRC, the text form, allocation failures.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include "tables-test.h"

#include <sys/stat.h>
#include <unistd.h>

static char root[256];

static int make_root(void **state)
{
    (void)state;
    snprintf(root, sizeof(root), "/tmp/splut-tfiles-XXXXXX");
    assert_non_null(mkdtemp(root));
    return 0;
}

static int drop_root(void **state)
{
    (void)state;
    char cmd[512];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
    return system(cmd) == 0 ? 0 : -1;
}

/* Bitwise CRC-32 (IEEE, reflected), written independently of the library. */
static uint32_t crc32_ref(const uint8_t *p, size_t n)
{
    uint32_t c = 0xFFFFFFFFu;
    for (size_t i = 0; i < n; i++) {
        c ^= p[i];
        for (int k = 0; k < 8; k++)
            c = (c >> 1) ^ (0xEDB88320u & (0u - (c & 1u)));
    }
    return ~c;
}

static uint8_t *slurp(const char *path, size_t *n)
{
    FILE *fp = fopen(path, "rb");
    assert_non_null(fp);
    fseek(fp, 0, SEEK_END);
    long len = ftell(fp);
    fseek(fp, 0, SEEK_SET);
    uint8_t *b = malloc((size_t)len + 1);
    assert_int_equal(fread(b, 1, (size_t)len, fp), (size_t)len);
    fclose(fp);
    *n = (size_t)len;
    return b;
}

static void spit(const char *path, const uint8_t *b, size_t n)
{
    FILE *fp = fopen(path, "wb");
    assert_non_null(fp);
    assert_int_equal(fwrite(b, 1, n, fp), n);
    fclose(fp);
}

static uint32_t rd32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

__attribute__((noinline)) static void wr32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
    p[2] = (uint8_t)(v >> 16);
    p[3] = (uint8_t)(v >> 24);
}

static void fix_crc(uint8_t *b, size_t n)
{
    wr32(b + n - 4, crc32_ref(b, n - 4));
}

static splut_tables *make_tables(splut_ctx *ctx, const char *preset, uint64_t seed)
{
    splut_model *m;
    assert_int_equal(splut_model_create_preset(ctx, preset, &m), SPLUT_OK);
    perturb_model(m, seed);
    splut_tables *t;
    assert_int_equal(splut_tables_create(m, &t), SPLUT_OK);
    splut_model_destroy(m);
    return t;
}

/* Same shapes, connectivity and entries. */
static void assert_same(const splut_tables *a, const splut_tables *b)
{
    uint32_t io_a[4], io_b[4];
    assert_int_equal(splut_tables_io(a, &io_a[0], &io_a[1], &io_a[2], &io_a[3]), SPLUT_OK);
    assert_int_equal(splut_tables_io(b, &io_b[0], &io_b[1], &io_b[2], &io_b[3]), SPLUT_OK);
    assert_memory_equal(io_a, io_b, sizeof(io_a));
    assert_int_equal(splut_tables_num_layers(a), splut_tables_num_layers(b));
    for (size_t l = 0; l < splut_tables_num_layers(a); l++) {
        uint32_t na, sa, wa, nb, sb, wb;
        assert_int_equal(splut_tables_layer(a, l, &na, &sa, &wa), SPLUT_OK);
        assert_int_equal(splut_tables_layer(b, l, &nb, &sb, &wb), SPLUT_OK);
        assert_int_equal(na, nb);
        assert_int_equal(sa, sb);
        assert_int_equal(wa, wb);
        for (uint32_t n = 0; n < na; n++) {
            const uint32_t *ia, *ib;
            size_t ka, kb;
            assert_int_equal(splut_tables_inputs(a, l, n, &ia, &ka), SPLUT_OK);
            assert_int_equal(splut_tables_inputs(b, l, n, &ib, &kb), SPLUT_OK);
            assert_int_equal(ka, kb);
            assert_memory_equal(ia, ib, ka * sizeof(uint32_t));
            for (uint32_t k = 0; k <= sa; k++) {
                uint32_t tab = sa == 0 ? 0 : k < sa ? k : SPLUT_TABLE_ADDER;
                splut_table_info fa = SPLUT_TABLE_INFO_INIT, fb = SPLUT_TABLE_INFO_INIT;
                const uint16_t *da, *db;
                assert_int_equal(splut_tables_info(a, l, n, tab, &fa), SPLUT_OK);
                assert_int_equal(splut_tables_info(b, l, n, tab, &fb), SPLUT_OK);
                assert_memory_equal(&fa, &fb, sizeof(fa));
                assert_int_equal(splut_tables_data(a, l, n, tab, &da), SPLUT_OK);
                assert_int_equal(splut_tables_data(b, l, n, tab, &db), SPLUT_OK);
                assert_memory_equal(da, db, fa.entries * sizeof(uint16_t));
            }
        }
    }
}

static void test_round_trip(void **state)
{
    (void)state;
    splut_ctx *ctx;
    assert_int_equal(splut_ctx_create(NULL, &ctx), SPLUT_OK);
    const char *presets[] = {"jsc-m-lite-add2", "hdr", "jsc-s"};
    for (size_t p = 0; p < 3; p++) {
        splut_tables *t = make_tables(ctx, presets[p], 7 + p), *u;
        char path[512];
        snprintf(path, sizeof(path), "%s/%s.tbl", root, presets[p]);
        assert_int_equal(splut_tables_save(t, path), SPLUT_OK);
        assert_int_equal(splut_tables_load(ctx, path, &u), SPLUT_OK);
        assert_same(t, u);
        /* the loaded tables run LUT-mode inference identically */
        uint32_t ni, no;
        splut_tables_io(t, &ni, NULL, &no, NULL);
        uint16_t *in = calloc(500 * ni, 2), *oa = calloc(500 * no, 2), *ob = calloc(500 * no, 2);
        uint64_t s = 3;
        uint32_t bits;
        splut_tables_io(t, NULL, &bits, NULL, NULL);
        random_codes(&s, in, 500 * ni, bits);
        assert_int_equal(splut_tables_forward(t, in, 500, oa), SPLUT_OK);
        assert_int_equal(splut_tables_forward(u, in, 500, ob), SPLUT_OK);
        assert_memory_equal(oa, ob, 500 * no * 2);
        free(in);
        free(oa);
        free(ob);
        /* saving again over the file is atomic and leaves no temporary behind */
        assert_int_equal(splut_tables_save(u, path), SPLUT_OK);
        char cmd[700];
        snprintf(cmd, sizeof(cmd), "test $(ls '%s' | grep -c tmp) -eq 0", root);
        assert_int_equal(system(cmd), 0);
        splut_tables_destroy(t);
        splut_tables_destroy(u);
    }
    splut_ctx_unref(ctx);
}

/* The documented layout, read back by hand. */
static void test_layout(void **state)
{
    (void)state;
    splut_ctx *ctx;
    assert_int_equal(splut_ctx_create(NULL, &ctx), SPLUT_OK);
    splut_tables *t = make_tables(ctx, "jsc-m-lite-add2", 1);
    char path[512];
    snprintf(path, sizeof(path), "%s/layout.tbl", root);
    assert_int_equal(splut_tables_save(t, path), SPLUT_OK);
    size_t n;
    uint8_t *b = slurp(path, &n);
    assert_memory_equal(b, "SPLUTTBL", 8);
    assert_int_equal(rd32(b + 8), 1);   /* version */
    assert_int_equal(rd32(b + 12), 16); /* inputs */
    assert_int_equal(rd32(b + 16), 3);  /* input bits */
    assert_int_equal(rd32(b + 20), 3);  /* layers */
    /* layer 1: kind, in, out, F, A, in_bits, sub_bits, out_bits */
    const uint32_t l1[8] = {SPLUT_NEURON_POLY_ADD, 64, 32, 2, 2, 3, 4, 3};
    for (int k = 0; k < 8; k++)
        assert_int_equal(rd32(b + 24 + 32 + 4 * k), l1[k]);
    assert_int_equal(rd32(b + n - 4), crc32_ref(b, n - 4));
    /* layer 0 payload: conn (64 × 4 u32) then 64 × (2·64 + 256) u16 entries */
    const uint8_t *p = b + 24 + 3 * 32;
    const uint32_t *idx;
    size_t k;
    assert_int_equal(splut_tables_inputs(t, 0, 5, &idx, &k), SPLUT_OK);
    for (size_t i = 0; i < k; i++)
        assert_int_equal(rd32(p + (5 * 4 + i) * 4), idx[i]);
    p += 64 * 4 * 4;
    const uint16_t *d;
    assert_int_equal(splut_tables_data(t, 0, 9, SPLUT_TABLE_ADDER, &d), SPLUT_OK);
    const uint8_t *e = p + (9 * 384 + 128) * 2;
    for (size_t i = 0; i < 256; i++)
        assert_int_equal(e[2 * i] | e[2 * i + 1] << 8, d[i]);
    size_t expect = 24 + 3 * 32 + 4;
    expect += 64 * 4 * 4 + 64 * 384 * 2 + 32 * 4 * 4 + 32 * 384 * 2 + 5 * 4 * 4 + 5 * 384 * 2;
    assert_int_equal(n, expect);
    free(b);
    splut_tables_destroy(t);
    splut_ctx_unref(ctx);
}

static void test_corruption(void **state)
{
    (void)state;
    splut_ctx *ctx;
    assert_int_equal(splut_ctx_create(NULL, &ctx), SPLUT_OK);
    /* a small file: 3 → 2 LINEAR of 2-bit codes */
    splut_model *m;
    assert_int_equal(splut_model_create(ctx, 3, 2, &m), SPLUT_OK);
    splut_layer_desc d = SPLUT_LAYER_DESC_INIT;
    d.kind = SPLUT_NEURON_LINEAR;
    d.width = 2;
    d.fan_in = 2;
    d.out_bits = 2;
    assert_int_equal(splut_model_add_layer(m, &d), SPLUT_OK);
    assert_int_equal(splut_model_build(m), SPLUT_OK);
    splut_tables *t, *u;
    assert_int_equal(splut_tables_create(m, &t), SPLUT_OK);
    char path[512], bad[512];
    snprintf(path, sizeof(path), "%s/small.tbl", root);
    snprintf(bad, sizeof(bad), "%s/bad.tbl", root);
    assert_int_equal(splut_tables_save(t, path), SPLUT_OK);
    size_t n;
    uint8_t *b = slurp(path, &n);
    /* every flipped byte is caught */
    for (size_t i = 0; i < n; i++) {
        b[i] ^= 0x5A;
        spit(bad, b, n);
        splut_status st = splut_tables_load(ctx, bad, &u);
        if (st == SPLUT_OK)
            fail_msg("flipping byte %zu went unnoticed", i);
        assert_null(u);
        assert_true(st == SPLUT_E_CHECKSUM || st == SPLUT_E_FORMAT || st == SPLUT_E_VERSION);
        b[i] ^= 0x5A;
    }
    /* every truncation is caught */
    for (size_t len = 0; len < n; len++) {
        spit(bad, b, len);
        assert_true(splut_tables_load(ctx, bad, &u) != SPLUT_OK);
    }
    /* crafted files with a valid CRC */
    uint8_t *c = malloc(n);
    memcpy(c, b, n);
    wr32(c + 8, 3); /* versions 1 and 2 exist (2: LUT-node models) */
    fix_crc(c, n);
    spit(bad, c, n);
    assert_int_equal(splut_tables_load(ctx, bad, &u), SPLUT_E_VERSION);
    struct {
        size_t off;
        uint32_t v;
        const char *what;
    } crafted[] = {
        {12, 0, "zero inputs"},          {16, 9, "input bits"},
        {20, 2, "layer count"},          {24, 7, "kind"},
        {28, 4, "input width"},          {36, 3, "fan-in above width"},
        {40, 2, "A for LINEAR"},         {48, 3, "sub bits"},
        {24 + 32, 3, "conn out of range"}, {24 + 32 + 4, 0, "conn unsorted"},
    };
    for (size_t k = 0; k < sizeof(crafted) / sizeof(crafted[0]); k++) {
        memcpy(c, b, n);
        wr32(c + crafted[k].off, crafted[k].v);
        fix_crc(c, n);
        spit(bad, c, n);
        splut_status st = splut_tables_load(ctx, bad, &u);
        if (st != SPLUT_E_FORMAT)
            fail_msg("%s: status %d (%s)", crafted[k].what, (int)st, splut_ctx_last_error(ctx));
    }
    /* an entry wider than the output bits */
    memcpy(c, b, n);
    size_t first_entry = 24 + 32 + 2 * 2 * 4;
    c[first_entry] = 4;
    fix_crc(c, n);
    spit(bad, c, n);
    assert_int_equal(splut_tables_load(ctx, bad, &u), SPLUT_E_FORMAT);
    assert_non_null(strstr(splut_ctx_last_error(ctx), "entry 0"));
    /* the context's table limit applies to loaded files too */
    assert_int_equal(splut_ctx_set_int(ctx, SPLUT_P_MAX_TABLE_LOG2, 3), SPLUT_OK);
    assert_int_equal(splut_tables_load(ctx, path, &u), SPLUT_E_TABLE_TOO_LARGE);
    assert_int_equal(splut_ctx_set_int(ctx, SPLUT_P_MAX_TABLE_LOG2, 20), SPLUT_OK);
    /* no file, not a tables file */
    snprintf(bad, sizeof(bad), "%s/none.tbl", root);
    assert_int_equal(splut_tables_load(ctx, bad, &u), SPLUT_E_IO);
    assert_int_equal(splut_tables_load(ctx, NULL, &u), SPLUT_E_NULL);
    free(b);
    free(c);
    splut_tables_destroy(t);
    splut_model_destroy(m);
    splut_ctx_unref(ctx);
}

/* The text form: rows `address inputs -> output` in binary, per neuron. */
static void test_text(void **state)
{
    (void)state;
    splut_ctx *ctx;
    assert_int_equal(splut_ctx_create(NULL, &ctx), SPLUT_OK);
    splut_tables *t = make_tables(ctx, "jsc-m-lite-add2", 3);
    char dir[512], path[600];
    snprintf(dir, sizeof(dir), "%s/text", root);
    assert_int_equal(splut_tables_write_text(t, dir), SPLUT_OK);
    snprintf(path, sizeof(path), "%s/layer_2.txt", dir);
    FILE *fp = fopen(path, "r");
    assert_non_null(fp);
    char line[512];
    const uint16_t *sub1, *adder;
    assert_int_equal(splut_tables_data(t, 2, 4, 1, &sub1), SPLUT_OK);
    assert_int_equal(splut_tables_data(t, 2, 4, SPLUT_TABLE_ADDER, &adder), SPLUT_OK);
    const uint32_t *idx;
    size_t k;
    assert_int_equal(splut_tables_inputs(t, 2, 4, &idx, &k), SPLUT_OK);
    char want_neuron[128];
    snprintf(want_neuron, sizeof(want_neuron), "neuron 4 inputs %u %u %u %u\n", idx[0], idx[1],
             idx[2], idx[3]);
    int state_ = 0;
    size_t sub_rows = 0, adder_rows = 0;
    while (fgets(line, sizeof(line), fp)) {
        if (strncmp(line, "neuron ", 7) == 0)
            state_ = strcmp(line, want_neuron) == 0 ? 1 : 0;
        else if (state_ && strncmp(line, "table 1 inputs", 14) == 0)
            state_ = 2;
        else if (state_ && strncmp(line, "table adder", 11) == 0)
            state_ = 3;
        else if (strncmp(line, "table", 5) == 0)
            state_ = state_ ? 1 : 0;
        else if (state_ >= 2 && line[0] != '#') {
            /* "aaaaaa bbb ccc -> dddd": sub rows have 2 × 3 bits in, 4 out;
             * adder rows 2 × 4 bits in, 3 out */
            char a[32], c0[16], c1[16], out[16];
            assert_int_equal(sscanf(line, "%31s %15s %15s -> %15s", a, c0, c1, out), 4);
            unsigned long addr = strtoul(a, NULL, 2), o = strtoul(out, NULL, 2);
            unsigned long x0 = strtoul(c0, NULL, 2), x1 = strtoul(c1, NULL, 2);
            if (state_ == 2) {
                assert_int_equal(strlen(a), 6);
                assert_int_equal(strlen(out), 4);
                assert_int_equal(addr, x0 * 8 + x1);
                assert_int_equal(o, sub1[addr]);
                sub_rows++;
            } else {
                assert_int_equal(strlen(a), 8);
                assert_int_equal(strlen(out), 3);
                assert_int_equal(addr, x0 * 16 + x1);
                assert_int_equal(o, adder[addr]);
                adder_rows++;
            }
        }
    }
    fclose(fp);
    assert_int_equal(sub_rows, 64);
    assert_int_equal(adder_rows, 256);
    splut_tables_destroy(t);
    splut_ctx_unref(ctx);
}

static void test_files_nomem(void **state)
{
    (void)state;
    counting_alloc c;
    splut_ctx *ctx = ca_ctx(&c);
    splut_tables *t = make_tables(ctx, "jsc-m-lite-add2", 2), *u = NULL;
    char path[512];
    snprintf(path, sizeof(path), "%s/nomem.tbl", root);
    assert_int_equal(splut_tables_save(t, path), SPLUT_OK);
    size_t live = c.live;
    for (size_t k = 1;; k++) {
        counting_fail_at(&c, k - 1); /* attempt k, counting from 1 */
        splut_status st = splut_tables_load(ctx, path, &u);
        counting_disarm(&c);
        if (st == SPLUT_OK)
            break;
        assert_int_equal(st, SPLUT_E_NOMEM);
        assert_null(u);
        assert_int_equal(c.live, live);
        assert_true(k < 100);
    }
    assert_same(t, u);
    splut_tables_destroy(u);
    for (size_t k = 1;; k++) {
        counting_fail_at(&c, k - 1); /* attempt k, counting from 1 */
        splut_status st = splut_tables_save(t, path);
        counting_disarm(&c);
        assert_int_equal(c.live, live);
        if (st == SPLUT_OK)
            break;
        assert_int_equal(st, SPLUT_E_NOMEM);
        assert_true(k < 100);
    }
    splut_tables_destroy(t);
    splut_ctx_unref(ctx);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_layout),
        cmocka_unit_test(test_corruption),
        cmocka_unit_test(test_text),
        cmocka_unit_test(test_files_nomem),
    };
    return cmocka_run_group_tests(tests, make_root, drop_root);
}
