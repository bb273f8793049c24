/*
 * Copyright 2026 The libsparselut authors
 * SPDX-License-Identifier: Apache-2.0
 */
/**
 * @file json.h
 * @brief Minimal streaming JSON writer for the CLI's `--json` output.
 *
 * Commas are inserted automatically; keys are given with every value inside
 * objects (pass NULL inside arrays). Non-finite doubles are written as null.
 */
#ifndef SPLUT_TOOLS_JSON_H
#define SPLUT_TOOLS_JSON_H

#include <stdint.h>
#include <stdio.h>

#define CLI_JSON_MAX_DEPTH 16

/** Writer state; zero-initialise then set @c out. */
typedef struct cli_json {
    FILE *out;
    int depth;
    int count[CLI_JSON_MAX_DEPTH]; /* values written at each nesting level */
} cli_json;

/** @brief Start an object (as a member @p key, or top level / array element with NULL). */
void cli_json_begin_object(cli_json *j, const char *key);
/** @brief End the innermost object. */
void cli_json_end_object(cli_json *j);
/** @brief Start an array. */
void cli_json_begin_array(cli_json *j, const char *key);
/** @brief End the innermost array. */
void cli_json_end_array(cli_json *j);
/** @brief Write a string value (escaped). */
void cli_json_string(cli_json *j, const char *key, const char *value);
/** @brief Write an integer value. */
void cli_json_int(cli_json *j, const char *key, int64_t value);
/** @brief Write a double value with 17 significant digits (null if not finite). */
void cli_json_double(cli_json *j, const char *key, double value);
/** @brief Write true/false. */
void cli_json_bool(cli_json *j, const char *key, int value);
/** @brief Finish the document with a newline and flush. */
void cli_json_finish(cli_json *j);

#endif
