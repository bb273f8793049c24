/*
 * Copyright 2026 The libsparselut authors
 * SPDX-License-Identifier: Apache-2.0
 */
/**
 * @file inflate.h
 * @brief Small DEFLATE (RFC 1951) and gzip (RFC 1952) decoder for the CLI, so
 * that `.gz` datasets are read without zlib.
 */
#ifndef SPLUT_TOOLS_INFLATE_H
#define SPLUT_TOOLS_INFLATE_H

#include <stddef.h>
#include <stdint.h>

/** @brief CRC-32 (IEEE, as in gzip) of @p n bytes, continuing from @p crc (start with 0). */
uint32_t cli_crc32(uint32_t crc, const uint8_t *p, size_t n);

/**
 * @brief Decode a raw DEFLATE stream.
 * @param in compressed bytes
 * @param n number of compressed bytes
 * @param[out] out malloc'ed decompressed bytes (free with free()); NULL on failure
 * @param[out] out_len decompressed length
 * @param[out] used number of input bytes consumed (may be NULL)
 * @param err buffer for an error message (may be NULL)
 * @param err_cap size of @p err
 * @returns 0 on success, -1 on a malformed stream or out of memory
 */
int cli_inflate(const uint8_t *in, size_t n, uint8_t **out, size_t *out_len, size_t *used,
                char *err, size_t err_cap);

/**
 * @brief Decode a gzip file image (one or more concatenated members), checking
 * each member's CRC-32 and ISIZE.
 * @returns 0 on success, -1 with a message in @p err otherwise
 */
int cli_gunzip(const uint8_t *in, size_t n, uint8_t **out, size_t *out_len, char *err,
               size_t err_cap);

#endif
