/*
 * Private interface of the model-file module (lib/modelio.c, lib/crc32.c).
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#ifndef SPARSELUT_MODELIO_PRIV_H
#define SPARSELUT_MODELIO_PRIV_H

#include <stddef.h>
#include <stdint.h>

#include "core-priv.h"

/* CRC-32 (IEEE, zlib-compatible). Chain calls by passing the previous result;
 * start with 0. splut__crc32(0, "123456789", 9) == 0xCBF43926. */
uint32_t splut__crc32(uint32_t crc, const void *data, size_t n);

/* Format constants (docs/model-format.md). */
#define SPLUT_MODEL_MAGIC "SPLUTMDL"
#define SPLUT_MODEL_FORMAT_VERSION 1u
#define SPLUT_MODEL_FLAG_TRAINER 1u  /* header flag: a TRNR section follows META */
#define SPLUT_MODEL_HEADER_SIZE 24u  /* magic, version, flags, file size */
#define SPLUT_MODEL_SECTION_HEADER 12u /* tag, length */

/*
 * Write @p size bytes to @p path atomically: a temp file `<path>.tmp.<pid>.<n>`
 * is written, flushed, fsync'ed and renamed over @p path. On failure the temp
 * file is removed and an existing @p path is untouched. Returns SPLUT_OK or
 * SPLUT_E_IO (message recorded on @p ctx).
 */
splut_status splut__write_file_atomic(splut_ctx *ctx, const char *path, const void *data,
                                      size_t size);
/* Read a whole regular file into memory from the context allocator (free with
 * splut__free). Returns SPLUT_OK, SPLUT_E_IO or SPLUT_E_NOMEM. */
splut_status splut__read_file(splut_ctx *ctx, const char *path, uint8_t **data, size_t *size);

#endif /* SPARSELUT_MODELIO_PRIV_H */
