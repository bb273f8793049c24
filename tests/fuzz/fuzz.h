/*
 * libFuzzer entry point shared by the fuzz binary and the corpus replay driver.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#ifndef SPLUT_FUZZ_H
#define SPLUT_FUZZ_H

#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#endif /* SPLUT_FUZZ_H */
