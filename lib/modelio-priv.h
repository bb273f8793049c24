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

#endif /* SPARSELUT_MODELIO_PRIV_H */
