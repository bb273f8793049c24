/*
 * Copyright 2026 The libsparselut authors
 * SPDX-License-Identifier: Apache-2.0
 *
 * The gzip/DEFLATE decoder against streams made by the system's `gzip` at
 * test time and against hand-built streams; corrupted input must be rejected.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "inflate.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char tmpdir[] = "/tmp/splut-inflate-XXXXXX";

static int have_gzip(void)
{
    return system("gzip --version >/dev/null 2>&1") == 0;
}

static void write_bytes(const char *path, const uint8_t *p, size_t n)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(p, 1, n, f), n);
    assert_int_equal(fclose(f), 0);
}

static uint8_t *read_bytes(const char *path, size_t *n)
{
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    fseek(f, 0, SEEK_END);
    long len = ftell(f);
    fseek(f, 0, SEEK_SET);
    uint8_t *p = malloc((size_t)len + 1);
    assert_non_null(p);
    assert_int_equal(fread(p, 1, (size_t)len, f), (size_t)len);
    fclose(f);
    *n = (size_t)len;
    return p;
}

/* Mixed content: text-like runs (long matches), random bytes (literals), zeros. */
static uint8_t *sample_data(size_t n, unsigned seed)
{
    uint8_t *p = malloc(n ? n : 1);
    assert_non_null(p);
    uint32_t s = seed * 2654435761u + 1;
    static const char words[] = "lookup table neuron polynomial adder fpga ";
    for (size_t i = 0; i < n; i++) {
        s = s * 1103515245u + 12345u;
        size_t region = (i / 4096) % 3;
        if (region == 0)
            p[i] = (uint8_t)words[(i * 7 + (s >> 28)) % (sizeof words - 1)];
        else if (region == 1)
            p[i] = (uint8_t)(s >> 24);
        else
            p[i] = (uint8_t)((i % 97) == 0 ? s >> 24 : 0);
    }
    return p;
}

/* Compress @p data with `gzip OPTS` and return the .gz image. */
static uint8_t *gzip_with(const uint8_t *data, size_t n, const char *opts, size_t *gz_len)
{
    char raw[256], cmd[700];
    snprintf(raw, sizeof raw, "%s/data.bin", tmpdir);
    write_bytes(raw, data, n);
    snprintf(cmd, sizeof cmd, "gzip %s -c '%s' > '%s.gz'", opts, raw, raw);
    assert_int_equal(system(cmd), 0);
    snprintf(cmd, sizeof cmd, "%s.gz", raw);
    return read_bytes(cmd, gz_len);
}

static void check_roundtrip(size_t n, const char *opts, unsigned seed)
{
    uint8_t *data = sample_data(n, seed);
    size_t gz_len, out_len;
    uint8_t *gz = gzip_with(data, n, opts, &gz_len), *out;
    char err[200];
    assert_int_equal(cli_gunzip(gz, gz_len, &out, &out_len, err, sizeof err), 0);
    assert_int_equal(out_len, n);
    assert_memory_equal(out, data, n);
    free(out);
    free(gz);
    free(data);
}

static void test_gzip_levels_and_sizes(void **state)
{
    (void)state;
    if (!have_gzip())
        skip();
    const size_t sizes[] = {0, 1, 100, 4096, 70000, 300000};
    const char *opts[] = {"-1", "-6", "-9", "-n -9", "--no-name -1"};
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++)
        for (size_t k = 0; k < sizeof opts / sizeof opts[0]; k++)
            check_roundtrip(sizes[i], opts[k], (unsigned)(i * 10 + k));
}

static void test_crc32_check_value(void **state)
{
    (void)state;
    /* The standard CRC-32 check value of "123456789". */
    assert_int_equal(cli_crc32(0, (const uint8_t *)"123456789", 9), 0xCBF43926u);
    /* Incremental use equals one call. */
    uint32_t c = cli_crc32(0, (const uint8_t *)"1234", 4);
    assert_int_equal(cli_crc32(c, (const uint8_t *)"56789", 5), 0xCBF43926u);
}

static void put_le32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

/* A gzip member with one stored block, built by hand (with a file name). */
static size_t stored_member(uint8_t *buf, const char *payload, uint32_t crc, uint32_t size)
{
    size_t n = strlen(payload), k = 0;
    static const uint8_t hdr[10] = {0x1f, 0x8b, 8, 8, 0, 0, 0, 0, 0, 3};
    memcpy(buf, hdr, 10);
    k = 10;
    memcpy(buf + k, "x.txt", 6);
    k += 6;
    buf[k++] = 1; /* BFINAL=1, BTYPE=00 */
    buf[k++] = (uint8_t)n;
    buf[k++] = (uint8_t)(n >> 8);
    buf[k++] = (uint8_t)~n;
    buf[k++] = (uint8_t)(~n >> 8);
    memcpy(buf + k, payload, n);
    k += n;
    put_le32(buf + k, crc);
    put_le32(buf + k + 4, size);
    return k + 8;
}

static void test_hand_built_stored_and_members(void **state)
{
    (void)state;
    uint8_t buf[256];
    uint8_t *out;
    size_t out_len;
    char err[200];
    /* CRC-32 of "123456789" is the published check value, not computed here. */
    size_t n1 = stored_member(buf, "123456789", 0xCBF43926u, 9);
    assert_int_equal(cli_gunzip(buf, n1, &out, &out_len, err, sizeof err), 0);
    assert_int_equal(out_len, 9);
    assert_memory_equal(out, "123456789", 9);
    free(out);
    /* Two concatenated members decode to the concatenation. */
    size_t n2 = stored_member(buf + n1, "123456789", 0xCBF43926u, 9);
    assert_int_equal(cli_gunzip(buf, n1 + n2, &out, &out_len, err, sizeof err), 0);
    assert_int_equal(out_len, 18);
    assert_memory_equal(out, "123456789123456789", 18);
    free(out);
    /* Wrong CRC, wrong size, bad NLEN are rejected with a message. */
    n1 = stored_member(buf, "123456789", 0xCBF43927u, 9);
    assert_int_equal(cli_gunzip(buf, n1, &out, &out_len, err, sizeof err), -1);
    assert_non_null(strstr(err, "CRC"));
    assert_null(out);
    n1 = stored_member(buf, "123456789", 0xCBF43926u, 10);
    assert_int_equal(cli_gunzip(buf, n1, &out, &out_len, err, sizeof err), -1);
    assert_non_null(strstr(err, "size"));
    n1 = stored_member(buf, "123456789", 0xCBF43926u, 9);
    buf[19] ^= 1; /* NLEN */
    assert_int_equal(cli_gunzip(buf, n1, &out, &out_len, err, sizeof err), -1);
    assert_non_null(strstr(err, "complement"));
}

static void test_header_errors(void **state)
{
    (void)state;
    uint8_t buf[64];
    uint8_t *out;
    size_t out_len;
    char err[200];
    size_t n = stored_member(buf, "abc", 0x352441C2u, 3); /* CRC-32("abc") */
    assert_int_equal(cli_gunzip(buf, n, &out, &out_len, err, sizeof err), 0);
    free(out);
    buf[0] = 0x1e;
    assert_int_equal(cli_gunzip(buf, n, &out, &out_len, err, sizeof err), -1);
    assert_non_null(strstr(err, "magic"));
    buf[0] = 0x1f;
    buf[2] = 7;
    assert_int_equal(cli_gunzip(buf, n, &out, &out_len, err, sizeof err), -1);
    assert_non_null(strstr(err, "method"));
    buf[2] = 8;
    buf[3] |= 0x80;
    assert_int_equal(cli_gunzip(buf, n, &out, &out_len, err, sizeof err), -1);
    assert_non_null(strstr(err, "reserved"));
    assert_int_equal(cli_gunzip(buf, 0, &out, &out_len, err, sizeof err), -1);
    /* Invalid block type 3. */
    buf[3] = 0;
    buf[10] = 0x07;
    assert_int_equal(cli_gunzip(buf, n, &out, &out_len, err, sizeof err), -1);
}

static void test_truncation_and_corruption(void **state)
{
    (void)state;
    if (!have_gzip())
        skip();
    size_t n = 20000, gz_len, out_len;
    uint8_t *data = sample_data(n, 7);
    uint8_t *gz = gzip_with(data, n, "-n -9", &gz_len), *out; /* no name: body at byte 10 */
    char err[200];
    /* Every truncation fails cleanly. */
    for (size_t cut = 0; cut < gz_len; cut += (cut < 64 ? 1 : 97)) {
        assert_int_equal(cli_gunzip(gz, cut, &out, &out_len, err, sizeof err), -1);
        assert_true(strlen(err) > 0);
    }
    assert_int_equal(cli_gunzip(gz, gz_len - 1, &out, &out_len, err, sizeof err), -1);
    /* Trailing garbage is not a valid member. */
    uint8_t *longer = malloc(gz_len + 3);
    assert_non_null(longer);
    memcpy(longer, gz, gz_len);
    memcpy(longer + gz_len, "xyz", 3);
    assert_int_equal(cli_gunzip(longer, gz_len + 3, &out, &out_len, err, sizeof err), -1);
    free(longer);
    /* Flipping any single bit of the body is detected (bad code, distance or CRC). */
    int detected = 0, tried = 0;
    for (size_t pos = 10; pos < gz_len - 8; pos += 13) {
        for (int bit = 0; bit < 8; bit += 3) {
            gz[pos] ^= (uint8_t)(1u << bit);
            int rc = cli_gunzip(gz, gz_len, &out, &out_len, err, sizeof err);
            gz[pos] ^= (uint8_t)(1u << bit);
            tried++;
            if (rc != 0)
                detected++;
            else
                free(out);
        }
    }
    assert_int_equal(detected, tried);
    free(gz);
    free(data);
}

static void test_raw_inflate_used_bytes(void **state)
{
    (void)state;
    /* Fixed-Huffman block "a" then end: produced by zlib for "a" at level 6. */
    static const uint8_t raw[] = {0x4b, 0x04, 0x00, 0xAA};
    uint8_t *out;
    size_t out_len, used;
    char err[100];
    assert_int_equal(cli_inflate(raw, sizeof raw, &out, &out_len, &used, err, sizeof err), 0);
    assert_int_equal(out_len, 1);
    assert_int_equal(out[0], 'a');
    assert_int_equal(used, 3);
    free(out);
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
        cmocka_unit_test(test_crc32_check_value),
        cmocka_unit_test(test_hand_built_stored_and_members),
        cmocka_unit_test(test_header_errors),
        cmocka_unit_test(test_raw_inflate_used_bytes),
        cmocka_unit_test(test_gzip_levels_and_sizes),
        cmocka_unit_test(test_truncation_and_corruption),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
