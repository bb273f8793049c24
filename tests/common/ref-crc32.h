/*
 * A bitwise CRC-32 (IEEE 802.3, as zlib), deliberately not table-driven like
 * the library's, for tests and fuzz targets that build or repair files.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#ifndef SPLUT_TEST_REF_CRC32_H
#define SPLUT_TEST_REF_CRC32_H

#include <stddef.h>
#include <stdint.h>

static inline uint32_t ref_crc32(const uint8_t *p, size_t n)
{
    uint32_t c = 0xffffffffu;
    for (size_t i = 0; i < n; i++) {
        c ^= p[i];
        for (int k = 0; k < 8; k++)
            c = (c & 1u) ? (c >> 1) ^ 0xedb88320u : c >> 1;
    }
    return ~c;
}

#endif /* SPLUT_TEST_REF_CRC32_H */
