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
#define SPLUT_MODEL_FORMAT_VERSION 2u /* written; read: 1 and 2 */
#define SPLUT_MODEL_FORMAT_OLDEST 1u  /* oldest version still read */
#define SPLUT_MODEL_FLAG_TRAINER 1u  /* header flag: a TRNR section follows META */
#define SPLUT_MODEL_HEADER_SIZE 24u  /* magic, version, flags, file size */
#define SPLUT_MODEL_SECTION_HEADER 12u /* tag, length */

/* A model file (with the trainer's state) in memory from the context
 * allocator: the bytes splut_trainer_save() / splut_model_save() write.
 * The trainer form fails with SPLUT_E_STATE during phase 1. */
splut_status splut__trainer_serialize(const splut_trainer *t, uint8_t **out, size_t *size);
splut_status splut__model_serialize_alloc(const splut_model *m, uint8_t **out, size_t *size);
/* splut_trainer_load() from @p size bytes in memory: all or nothing. */
splut_status splut__trainer_restore(splut_trainer *t, const uint8_t *buf, size_t size);

#endif /* SPARSELUT_MODELIO_PRIV_H */
