/*
 * Helpers shared by the fuzz targets: abort on a broken invariant, CRC
 * repair (tests/common/ref-crc32.h), files in a private scratch directory, and an allocator
 * with a memory cap (huge sizes an input asks for become clean
 * SPLUT_E_NOMEM failures instead of the fuzzer's RSS limit).
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#ifndef SPLUT_FUZZ_COMMON_H
#define SPLUT_FUZZ_COMMON_H

#include <stddef.h>
#include <stdint.h>

#include "sparselut/sparselut.h"

/* abort() unless ok: both libFuzzer and the replay driver report it. */
void fuzz_check(int ok);
/* Overwrite the last 4 bytes of buf (size >= 4) with the little-endian CRC-32
 * of the rest, so that mutations reach the checks behind the checksum. */
void fuzz_repair_crc(uint8_t *buf, size_t size);
/* A directory of this process, created on first use and reused. */
const char *fuzz_scratch_dir(void);
/* Write (or, with n == SIZE_MAX, remove) scratch_dir/name; returns its path
 * in a static buffer. */
const char *fuzz_put_file(const char *name, const uint8_t *p, size_t n);
/* A context whose allocator fails once @p cap_bytes are live; one thread. */
splut_ctx *fuzz_ctx(size_t cap_bytes);
/* A failure must leave a message and a known status. */
void fuzz_check_failure(const splut_ctx *ctx, splut_status st);

#endif /* SPLUT_FUZZ_COMMON_H */
